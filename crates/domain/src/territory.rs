//! Morocco's territorial division (12 regions, 75 provinces and prefectures, 1,503 communes), embedded
//! from the HCP open data in `data/territories/` so that the binary needs no file at run time.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const REGIONS_CSV: &str = include_str!("../../../data/territories/morocco_regions.csv");
const PROVINCES_CSV: &str = include_str!("../../../data/territories/morocco_provinces.csv");
const COMMUNES_CSV: &str = include_str!("../../../data/territories/morocco_communes.csv");

/// Whether a place is a town (*milieu urbain*) or the countryside (*milieu rural*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Urban,
    Rural,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Urban => "urban",
            Area::Rural => "rural",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "urban" => Some(Area::Urban),
            "rural" => Some(Area::Rural),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TerritoryLevel {
    Region,
    Province,
    Commune,
}

impl TerritoryLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryLevel::Region => "region",
            TerritoryLevel::Province => "province",
            TerritoryLevel::Commune => "commune",
        }
    }
}

/// One region, province/prefecture or commune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Territory {
    /// HCP geographic code, dotted (`01`, `01.511`, `01.511.01.01`).
    pub code: String,
    pub level: TerritoryLevel,
    pub name_fr: String,
    pub name_ar: String,
    /// Code of the parent territory; none for a region.
    pub parent_code: Option<String>,
    /// Code of the region it lies in (its own code for a region).
    pub region_code: String,
    /// Urban or rural; communes only.
    pub area: Option<Area>,
    /// ISO 3166-2:MA code; regions and provinces only.
    pub iso_3166_2: Option<String>,
    /// Legal population at the 2024 census (HCP RGPH 2024).
    pub population_2024: u64,
}

/// The whole division, indexed by code.
#[derive(Debug)]
pub struct Territories {
    regions: Vec<Territory>,
    provinces: Vec<Territory>,
    communes: Vec<Territory>,
    by_code: HashMap<String, (TerritoryLevel, usize)>,
}

impl Territories {
    /// Morocco's division as embedded in the binary, parsed once.
    pub fn morocco() -> &'static Territories {
        static CELL: OnceLock<Territories> = OnceLock::new();
        CELL.get_or_init(|| {
            Territories::parse(REGIONS_CSV, PROVINCES_CSV, COMMUNES_CSV)
                .unwrap_or_else(|e| panic!("embedded territory data is malformed: {e}"))
        })
    }

    fn parse(regions: &str, provinces: &str, communes: &str) -> Result<Self, String> {
        let regions = rows(regions, |r| {
            // code,code_digits,name_fr,name_ar,population_2024,households_2024,provinces,communes,iso_3166_2,population_2014
            Ok(Territory {
                code: r.get(0)?,
                level: TerritoryLevel::Region,
                name_fr: r.get(2)?,
                name_ar: r.get(3)?,
                parent_code: None,
                region_code: r.get(0)?,
                area: None,
                iso_3166_2: r.opt(8)?,
                population_2024: r.num(4)?,
            })
        })?;
        let provinces = rows(provinces, |r| {
            // code,code_digits,name_fr,name_ar,type,region_code,population_2024,households_2024,cercles,communes,iso_3166_2,population_2014
            Ok(Territory {
                code: r.get(0)?,
                level: TerritoryLevel::Province,
                name_fr: r.get(2)?,
                name_ar: r.get(3)?,
                parent_code: Some(r.get(5)?),
                region_code: r.get(5)?,
                area: None,
                iso_3166_2: r.opt(10)?,
                population_2024: r.num(6)?,
            })
        })?
        .into_iter()
        // The 8 Casablanca préfectures d'arrondissements sit inside the Casablanca prefecture and
        // have no ISO code; communes name the prefecture itself as their parent.
        .filter(|p| p.iso_3166_2.is_some())
        .collect::<Vec<_>>();
        let communes = rows(communes, |r| {
            // code,code_digits,slug,name_fr,name_ar,type,region_code,province_code,cercle_code,population_2024,...
            let area = Area::parse(&r.get(5)?).ok_or("commune type is neither urban nor rural")?;
            Ok(Territory {
                code: r.get(0)?,
                level: TerritoryLevel::Commune,
                name_fr: r.get(3)?,
                name_ar: r.get(4)?,
                parent_code: Some(r.get(7)?),
                region_code: r.get(6)?,
                area: Some(area),
                iso_3166_2: None,
                population_2024: r.num(9)?,
            })
        })?;
        let mut by_code = HashMap::new();
        for (level, list) in [
            (TerritoryLevel::Region, &regions),
            (TerritoryLevel::Province, &provinces),
            (TerritoryLevel::Commune, &communes),
        ] {
            for (i, t) in list.iter().enumerate() {
                if by_code.insert(t.code.clone(), (level, i)).is_some() {
                    return Err(format!("duplicate territory code {}", t.code));
                }
            }
        }
        Ok(Territories {
            regions,
            provinces,
            communes,
            by_code,
        })
    }

    pub fn regions(&self) -> &[Territory] {
        &self.regions
    }

    pub fn provinces(&self) -> &[Territory] {
        &self.provinces
    }

    pub fn communes(&self) -> &[Territory] {
        &self.communes
    }

    pub fn get(&self, code: &str) -> Option<&Territory> {
        let (level, i) = *self.by_code.get(code)?;
        Some(match level {
            TerritoryLevel::Region => &self.regions[i],
            TerritoryLevel::Province => &self.provinces[i],
            TerritoryLevel::Commune => &self.communes[i],
        })
    }

    pub fn commune(&self, code: &str) -> Option<&Territory> {
        self.get(code)
            .filter(|t| t.level == TerritoryLevel::Commune)
    }

    /// All territories, regions first, then provinces, then communes.
    pub fn all(&self) -> impl Iterator<Item = &Territory> {
        self.regions
            .iter()
            .chain(&self.provinces)
            .chain(&self.communes)
    }
}

struct Row<'a> {
    line: usize,
    fields: Vec<&'a str>,
}

impl Row<'_> {
    fn get(&self, i: usize) -> Result<String, String> {
        self.fields
            .get(i)
            .map(|s| s.to_string())
            .ok_or_else(|| format!("line {}: missing column {}", self.line, i + 1))
    }
    fn opt(&self, i: usize) -> Result<Option<String>, String> {
        Ok(Some(self.get(i)?).filter(|s| !s.is_empty()))
    }
    fn num(&self, i: usize) -> Result<u64, String> {
        self.get(i)?
            .parse()
            .map_err(|_| format!("line {}: column {} is not a number", self.line, i + 1))
    }
}

/// The embedded files contain no quoted fields, so a split on `,` is exact.
fn rows(
    text: &str,
    f: impl Fn(&Row) -> Result<Territory, String>,
) -> Result<Vec<Territory>, String> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            f(&Row {
                line: i + 1,
                fields: l.split(',').collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morocco_has_its_official_division() {
        let t = Territories::morocco();
        assert_eq!(t.regions().len(), 12);
        assert_eq!(t.provinces().len(), 75);
        assert_eq!(t.communes().len(), 1503);
        let total: u64 = t.communes().iter().map(|c| c.population_2024).sum();
        assert_eq!(total, 36_828_330);
        let tanger = t.commune("01.511.01.0").unwrap();
        assert_eq!(tanger.name_ar, "طنجة");
        assert_eq!(tanger.area, Some(Area::Urban));
        assert_eq!(tanger.region_code, "01");
    }

    #[test]
    fn every_commune_has_a_known_province_and_region() {
        let t = Territories::morocco();
        for c in t.communes() {
            let parent = c.parent_code.as_deref().unwrap();
            let p = t
                .get(parent)
                .unwrap_or_else(|| panic!("{} has no parent {parent}", c.code));
            assert_eq!(p.level, TerritoryLevel::Province);
            assert_eq!(p.region_code, c.region_code);
        }
    }
}
