//! Lookup tables built once per run: communes weighted by population, names weighted by cohort and
//! region.

use std::collections::HashMap;

use sanad_domain::territory::{Area, Territories};

use crate::model::Sex;
use crate::names::{FAMILY, FEMALE, Group, MALE};
use crate::rng::{Cumulative, Rand};

pub(crate) struct Commune {
    pub code: &'static str,
    pub area: Area,
    /// 0..12 for regions `01`..`12`.
    pub region: u8,
    pub province: u32,
    /// More than 300,000 inhabitants.
    pub big_city: bool,
}

pub(crate) struct Province {
    pub communes: Vec<u32>,
    pub weights: Cumulative,
}

pub(crate) struct Tables {
    pub communes: Vec<Commune>,
    commune_weights: Cumulative,
    pub provinces: Vec<Province>,
    /// [sex][cohort][amazigh level]
    given: Vec<Cumulative>,
    /// One per region.
    family: Vec<Cumulative>,
}

/// Latent wealth offset of each region (rich Casablanca-Settat and Rabat-Salé-Kénitra, poor
/// Drâa-Tafilalet and Béni Mellal-Khénifra).
pub(crate) const REGION_WEALTH: [f64; 12] = [
    0.0, -0.15, -0.1, 0.25, -0.3, 0.3, -0.2, -0.45, -0.05, -0.1, 0.2, 0.25,
];

/// How common Amazigh first names are: 0 low, 1 medium, 2 high.
fn amazigh_level(region: u8, area: Area) -> usize {
    let base: usize = match region {
        6..=8 => 2,         // Marrakech-Safi (High Atlas), Drâa-Tafilalet, Souss-Massa
        0..=2 | 4 | 9 => 1, // Rif, Oriental, Middle Atlas, Béni Mellal-Khénifra, Guelmim
        _ => 0,
    };
    if area == Area::Rural && base < 2 {
        base + 1
    } else {
        base
    }
}

/// Multiplier of a family-name group in a region.
fn group_weight(region: u8, group: Group) -> f64 {
    let (fassi, amazigh, rif, sahara) = match region {
        0 => (1.0, 0.2, 3.0, 0.05),
        1 => (0.6, 0.3, 2.5, 0.1),
        2 => (2.0, 0.8, 0.4, 0.05),
        3 => (1.5, 0.4, 0.3, 0.05),
        4 => (0.5, 1.2, 0.1, 0.05),
        5 => (1.2, 0.5, 0.3, 0.1),
        6 => (0.5, 1.5, 0.1, 0.1),
        7 => (0.3, 3.0, 0.1, 0.3),
        8 => (0.3, 3.5, 0.1, 0.3),
        9 => (0.2, 1.5, 0.05, 3.0),
        _ => (0.3, 0.5, 0.1, 4.0),
    };
    let general = if region >= 7 { 0.75 } else { 1.0 };
    match group {
        Group::General => general,
        Group::Fassi => fassi,
        Group::Amazigh => amazigh,
        Group::Rif => rif,
        Group::Sahara => sahara,
    }
}

/// Birth cohort of a birth year: 0 before 1970, 1 in 1970–1999, 2 from 2000.
pub(crate) fn cohort(birth_year: i32) -> usize {
    if birth_year < 1970 {
        0
    } else if birth_year < 2000 {
        1
    } else {
        2
    }
}

impl Tables {
    pub(crate) fn build() -> Tables {
        let territories = Territories::morocco();
        let mut province_index: HashMap<&str, u32> = HashMap::new();
        let mut province_members: Vec<Vec<u32>> = Vec::new();
        let mut communes = Vec::with_capacity(territories.communes().len());
        let mut populations = Vec::with_capacity(territories.communes().len());
        for (i, t) in territories.communes().iter().enumerate() {
            let parent = t.parent_code.as_deref().unwrap_or(t.region_code.as_str());
            let next = province_index.len() as u32;
            let province = *province_index.entry(parent).or_insert(next);
            if province as usize == province_members.len() {
                province_members.push(Vec::new());
            }
            province_members[province as usize].push(i as u32);
            let region = t
                .region_code
                .parse::<u8>()
                .ok()
                .map_or(0, |r| r.saturating_sub(1).min(11));
            communes.push(Commune {
                code: t.code.as_str(),
                area: t.area.unwrap_or(Area::Urban),
                region,
                province,
                big_city: t.population_2024 > 300_000,
            });
            populations.push(t.population_2024);
        }
        let provinces = province_members
            .into_iter()
            .map(|members| Province {
                weights: Cumulative::new(members.iter().map(|&c| populations[c as usize])),
                communes: members,
            })
            .collect();

        let mut given = Vec::with_capacity(18);
        for list in [MALE, FEMALE] {
            for cohort in 0..3 {
                for level in 0..3 {
                    let amz = [0.3, 1.5, 4.0][level];
                    given.push(Cumulative::new(list.iter().map(|n| {
                        let w = f64::from(n.w[cohort]) * if n.amz { amz } else { 1.0 };
                        (w * 10.0).round() as u64
                    })));
                }
            }
        }
        let family = (0..12u8)
            .map(|region| {
                Cumulative::new(
                    FAMILY
                        .iter()
                        .map(|f| (f64::from(f.w) * group_weight(region, f.group) * 100.0) as u64),
                )
            })
            .collect();
        Tables {
            communes,
            commune_weights: Cumulative::new(populations),
            provinces,
            given,
            family,
        }
    }

    /// Share of the population in each region (`[0]` urban, `[1]` rural), as households are drawn.
    pub(crate) fn stratum_shares(&self) -> [[f64; 2]; 12] {
        let mut shares = [[0.0; 2]; 12];
        let total = self.commune_weights.total().max(1) as f64;
        for (i, c) in self.communes.iter().enumerate() {
            let area = usize::from(c.area != Area::Urban);
            shares[usize::from(c.region.min(11))][area] +=
                self.commune_weights.weight(i) as f64 / total;
        }
        shares
    }

    pub(crate) fn sample_commune(&self, rng: &mut Rand) -> u32 {
        self.commune_weights.sample(rng) as u32
    }

    /// A commune of the same province, weighted by population.
    pub(crate) fn sample_commune_in_province(&self, province: u32, rng: &mut Rand) -> u32 {
        let p = &self.provinces[province as usize];
        p.communes[p.weights.sample(rng)]
    }

    pub(crate) fn sample_given(
        &self,
        sex: Sex,
        birth_year: i32,
        region: u8,
        area: Area,
        rng: &mut Rand,
    ) -> u16 {
        let s = match sex {
            Sex::M => 0,
            Sex::F => 1,
        };
        let idx = s * 9 + cohort(birth_year) * 3 + amazigh_level(region, area);
        self.given[idx].sample(rng) as u16
    }

    pub(crate) fn sample_family(&self, region: u8, rng: &mut Rand) -> u16 {
        self.family[region as usize].sample(rng) as u16
    }
}

pub(crate) fn given_list(sex: Sex) -> &'static [crate::names::Given] {
    match sex {
        Sex::M => MALE,
        Sex::F => FEMALE,
    }
}
