//! Builders for the facts of a household, as the registry would hand them over.
#![allow(dead_code)]

use sanad_domain::{
    Amount, Area, AssetSet, Disability, DwellingType, HouseholdFacts, MemberFacts, Occupation,
    Relation, Schooling, Sex, Tenure,
};
use sanad_programmes::{CompiledProgramme, Programme, shipped};

pub fn member(relation: Relation, sex: Sex, age: u8) -> MemberFacts {
    let (schooling, occupation) = match age {
        0..=5 => (Schooling::None, Occupation::Inactive),
        6..=11 => (Schooling::Primary, Occupation::Student),
        12..=15 => (Schooling::LowerSecondary, Occupation::Student),
        16..=18 => (Schooling::UpperSecondary, Occupation::Student),
        _ => (Schooling::Primary, Occupation::SelfEmployed),
    };
    MemberFacts {
        person_id: None,
        relation,
        sex,
        age,
        disability: Disability::None,
        schooling,
        occupation,
    }
}

pub fn household(members: Vec<MemberFacts>) -> HouseholdFacts {
    HouseholdFacts {
        region_code: "06".into(),
        area: Area::Rural,
        dwelling_type: DwellingType::RuralHouse,
        tenure: Tenure::Owner,
        rooms: 2,
        water_spending: Amount::from_centimes(4_000).unwrap_or_default(),
        electricity_spending: Amount::from_centimes(9_000).unwrap_or_default(),
        phone_spending: Amount::from_centimes(5_000).unwrap_or_default(),
        gas_spending: Amount::from_centimes(5_000).unwrap_or_default(),
        assets: AssetSet::default(),
        declared_income: Amount::from_centimes(150_000).unwrap_or_default(),
        members,
    }
}

/// Head and spouse, two school-age children at school (11 and 8) and one under six (3).
pub fn family_of_five() -> HouseholdFacts {
    household(vec![
        member(Relation::Head, Sex::Male, 41),
        member(Relation::Spouse, Sex::Female, 36),
        member(Relation::Child, Sex::Female, 11),
        member(Relation::Child, Sex::Male, 8),
        member(Relation::Child, Sex::Female, 3),
    ])
}

pub fn shipped_programme(file: &str) -> CompiledProgramme {
    let (_, text) = shipped()
        .into_iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("{file} is not shipped"));
    Programme::from_toml(text)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .compile()
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Compiled once per test binary: compiling parses with ANTLR, which is slow in debug builds.
pub fn all_shipped() -> &'static [CompiledProgramme] {
    static ALL: std::sync::OnceLock<Vec<CompiledProgramme>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        shipped()
            .into_iter()
            .map(|(name, _)| shipped_programme(name))
            .collect()
    })
}
