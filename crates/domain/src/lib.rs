//! Sanad's domain: what a household, a person and a territory are, and the rules they obey.
//! Pure: no database, no HTTP, no clock (time is passed in).

pub mod audit;
pub mod facts;
pub mod household;
pub mod id;
pub mod lang;
pub mod money;
pub mod phone;
pub mod territory;
pub mod validation;
pub mod vocab;

pub use facts::{AssetSet, HouseholdFacts, MemberFacts};
pub use household::{
    Household, HouseholdData, HouseholdInput, MemberInput, NationalId, Person, PersonData,
};
pub use id::{HouseholdId, PersonId};
pub use lang::Lang;
pub use money::Amount;
pub use phone::{NumberingPlan, PhoneNumber};
pub use territory::{Area, Territories, Territory, TerritoryLevel};
pub use validation::{FieldError, ValidationErrors};
pub use vocab::{Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure};
