//! Request bodies as they travel, with every field spelled out: the domain types flatten their
//! parts, and a flattened field loses its path in deserialisation errors, which the API must name
//! (`household.members[1].sex`).

use std::collections::BTreeSet;

use sanad_domain::household::iso_date;
use sanad_domain::{
    Amount, Area, Asset, Disability, DwellingType, HouseholdData, HouseholdInput, MemberInput,
    NationalId, Occupation, PersonData, PersonId, PhoneNumber, Relation, Schooling, Sex, Tenure,
};
use serde::{Deserialize, Deserializer};

/// JSON Schema counts `31.0` as an integer, and so do clients generated from the document; serde
/// does not. A whole number written with a zero fraction is read as the integer it is.
pub(crate) fn whole<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64)
                .map(|f| f as u64)
        })
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a whole number from 0 to {}, found {n}",
                std::any::type_name::<T>()
                    .strip_prefix('u')
                    .and_then(|bits| bits.parse::<u32>().ok())
                    .map(|bits| (u64::MAX >> (64 - bits)).to_string())
                    .unwrap_or_else(|| "the largest allowed".into())
            ))
        })
}

/// [`whole`] for an optional field (`null` or absent: none).
pub(crate) fn whole_opt<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    #[derive(Deserialize)]
    struct Whole<T: TryFrom<u64>>(#[serde(deserialize_with = "whole")] T);
    Ok(Option::<Whole<T>>::deserialize(d)?.map(|w| w.0))
}

fn no_disability() -> Disability {
    Disability::None
}

/// A member: an existing person (`person_id`) joining or staying, or a new person.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// Set for a person already in the registry; absent for a person registered now.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    pub relation: Relation,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub first_name_ar: Option<String>,
    #[serde(default)]
    pub last_name_ar: Option<String>,
    pub sex: Sex,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date, example = "1984-03-21")]
    pub birth_date: time::Date,
    #[serde(default)]
    pub national_id: Option<NationalId>,
    /// Any common writing (`06 12 34 56 78`, `+212612345678`); returned in E.164 form.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    #[serde(default = "no_disability")]
    pub disability: Disability,
    pub schooling: Schooling,
    pub occupation: Occupation,
}

/// A household and its members as submitted.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdBody {
    /// HCP code of the commune of residence.
    #[schema(example = "01.511.01.01")]
    pub commune_code: String,
    /// Taken from the commune when absent.
    #[serde(default)]
    pub area: Option<Area>,
    #[serde(default)]
    pub address: String,
    pub dwelling_type: DwellingType,
    pub tenure: Tenure,
    #[serde(deserialize_with = "whole")]
    pub rooms: u16,
    pub water_spending: Amount,
    pub electricity_spending: Amount,
    pub phone_spending: Amount,
    pub gas_spending: Amount,
    #[serde(default)]
    #[schema(value_type = Vec<Asset>)]
    pub assets: BTreeSet<Asset>,
    pub declared_income: Amount,
    pub members: Vec<MemberBody>,
}

impl From<HouseholdBody> for HouseholdInput {
    fn from(b: HouseholdBody) -> Self {
        HouseholdInput {
            data: HouseholdData {
                commune_code: b.commune_code,
                area: b.area,
                address: b.address,
                dwelling_type: b.dwelling_type,
                tenure: b.tenure,
                rooms: b.rooms,
                water_spending: b.water_spending,
                electricity_spending: b.electricity_spending,
                phone_spending: b.phone_spending,
                gas_spending: b.gas_spending,
                assets: b.assets,
                declared_income: b.declared_income,
            },
            members: b
                .members
                .into_iter()
                .map(|m| MemberInput {
                    person_id: m.person_id,
                    data: PersonData {
                        relation: m.relation,
                        first_name: m.first_name,
                        last_name: m.last_name,
                        first_name_ar: m.first_name_ar,
                        last_name_ar: m.last_name_ar,
                        sex: m.sex,
                        birth_date: m.birth_date,
                        national_id: m.national_id,
                        phone: m.phone,
                        disability: m.disability,
                        schooling: m.schooling,
                        occupation: m.occupation,
                    },
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Counts {
        #[serde(deserialize_with = "whole")]
        rooms: u16,
        #[serde(default, deserialize_with = "whole_opt")]
        limit: Option<u32>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let c: Counts = serde_json::from_str(r#"{"rooms": 31.0, "limit": 241}"#).unwrap();
        assert_eq!((c.rooms, c.limit), (31, Some(241)));
        let c: Counts = serde_json::from_str(r#"{"rooms": 3, "limit": null}"#).unwrap();
        assert_eq!((c.rooms, c.limit), (3, None));
        let c: Counts = serde_json::from_str(r#"{"rooms": 3}"#).unwrap();
        assert_eq!(c.limit, None);
        for bad in [
            r#"{"rooms": 3.5}"#,
            r#"{"rooms": -1}"#,
            r#"{"rooms": 65536}"#,
            r#"{"rooms": "3"}"#,
        ] {
            let e = serde_json::from_str::<Counts>(bad).unwrap_err().to_string();
            assert!(
                e.contains("rooms") || e.contains("whole number") || e.contains("invalid type"),
                "{bad}: {e}"
            );
        }
        let e = serde_json::from_str::<Counts>(r#"{"rooms": 70000}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("from 0 to 65535"), "{e}");
    }
}
