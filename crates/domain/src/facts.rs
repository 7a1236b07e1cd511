//! The facts about a household that targeting looks at: no names, no identifiers, no address. The
//! proxy means test (`sanad-targeting`) and the programme rules (`sanad-programmes`) both read a
//! household through [`HouseholdFacts`], so a batch of five million households can be scored and
//! checked without building a full [`Household`] for each.

use time::Date;

use crate::{
    Amount, Area, Asset, Disability, DwellingType, Household, HouseholdData, Occupation,
    PersonData, PersonId, Relation, Schooling, Sex, Tenure,
};

/// A set of [`Asset`]s as a bit mask, in the declaration order of the vocabulary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AssetSet(u16);

impl AssetSet {
    pub fn contains(self, asset: Asset) -> bool {
        self.0 & Self::bit(asset) != 0
    }

    pub fn insert(&mut self, asset: Asset) {
        self.0 |= Self::bit(asset);
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    fn bit(asset: Asset) -> u16 {
        let index = Asset::ALL.iter().position(|a| *a == asset).unwrap_or(0);
        1 << index
    }
}

impl FromIterator<Asset> for AssetSet {
    fn from_iter<I: IntoIterator<Item = Asset>>(iter: I) -> Self {
        let mut set = AssetSet::default();
        for a in iter {
            set.insert(a);
        }
        set
    }
}

/// What targeting knows about one member, at a given date.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFacts {
    /// Absent for a member not yet written (a household being checked before registration).
    pub person_id: Option<PersonId>,
    pub relation: Relation,
    pub sex: Sex,
    /// Years completed at the date the facts were taken.
    pub age: u8,
    pub disability: Disability,
    pub schooling: Schooling,
    pub occupation: Occupation,
}

impl MemberFacts {
    pub fn of(person: &PersonData, person_id: Option<PersonId>, on: Date) -> MemberFacts {
        MemberFacts {
            person_id,
            relation: person.relation,
            sex: person.sex,
            age: age_on(person.birth_date, on),
            disability: person.disability,
            schooling: person.schooling,
            occupation: person.occupation,
        }
    }
}

/// What targeting knows about one household, at a given date. Members are in the order of the
/// household record (ascending person id for a stored household).
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdFacts {
    pub region_code: String,
    pub area: Area,
    pub dwelling_type: DwellingType,
    pub tenure: Tenure,
    pub rooms: u16,
    /// Monthly spending.
    pub water_spending: Amount,
    pub electricity_spending: Amount,
    pub phone_spending: Amount,
    pub gas_spending: Amount,
    pub assets: AssetSet,
    /// Declared monthly income of the household.
    pub declared_income: Amount,
    pub members: Vec<MemberFacts>,
}

impl HouseholdFacts {
    /// The facts of a stored household on date `on`.
    pub fn of(household: &Household, on: Date) -> HouseholdFacts {
        let members = household
            .members
            .iter()
            .map(|p| MemberFacts::of(&p.data, Some(p.id), on))
            .collect();
        Self::from_parts(&household.data, &household.region_code, members)
    }

    /// The facts of a household's data and members' data (members without ids yet).
    pub fn of_data(
        data: &HouseholdData,
        region_code: &str,
        members: &[PersonData],
        on: Date,
    ) -> HouseholdFacts {
        let members = members
            .iter()
            .map(|p| MemberFacts::of(p, None, on))
            .collect();
        Self::from_parts(data, region_code, members)
    }

    fn from_parts(data: &HouseholdData, region_code: &str, members: Vec<MemberFacts>) -> Self {
        HouseholdFacts {
            region_code: region_code.to_owned(),
            area: data.area.unwrap_or(Area::Rural),
            dwelling_type: data.dwelling_type,
            tenure: data.tenure,
            rooms: data.rooms,
            water_spending: data.water_spending,
            electricity_spending: data.electricity_spending,
            phone_spending: data.phone_spending,
            gas_spending: data.gas_spending,
            assets: data.assets.iter().copied().collect(),
            declared_income: data.declared_income,
            members,
        }
    }

    pub fn size(&self) -> usize {
        self.members.len()
    }
}

/// Years completed between `birth` and `on` (0 for a date before the birth), capped at 255.
pub fn age_on(birth: Date, on: Date) -> u8 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(age_on(date!(2000 - 03 - 15), date!(2026 - 03 - 14)), 25);
        assert_eq!(age_on(date!(2000 - 03 - 15), date!(2026 - 03 - 15)), 26);
        assert_eq!(age_on(date!(2000 - 02 - 29), date!(2026 - 02 - 28)), 25);
        assert_eq!(age_on(date!(2026 - 05 - 01), date!(2026 - 01 - 01)), 0);
    }

    #[test]
    fn asset_set_holds_what_was_inserted() {
        let set: AssetSet = [Asset::Fridge, Asset::Car].into_iter().collect();
        assert!(set.contains(Asset::Fridge));
        assert!(set.contains(Asset::Car));
        assert!(!set.contains(Asset::Tv));
        assert_eq!(set.len(), 2);
    }
}
