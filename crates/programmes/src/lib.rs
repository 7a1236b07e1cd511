//! Programmes as data: who is eligible, for how much, and why not, decided by rules written in
//! CEL. Pure: no database, no HTTP, no clock (dates are passed in).
//!
//! A programme file ([`Programme`]) is compiled once ([`Programme::compile`]) into a
//! [`CompiledProgramme`] whose [`decide`](CompiledProgramme::decide) runs on a household's facts in
//! a few hundred nanoseconds. Ad-hoc rules for counting are [`Rule`]s. Messages for citizens are in
//! French, Arabic and English ([`message`]); enrolment states move by [`enrolment::next`].

mod budget;
mod compile;
pub mod enrolment;
mod error;
mod eval;
mod messages;
mod programme;
mod rule;

pub use budget::Budget;
pub use compile::Limits;
pub use error::{DefinitionError, EvalError};
pub use messages::{Lang, has_message, message, message_keys};
pub use programme::{
    Benefit, BenefitLine, BenefitLineDef, CompiledProgramme, Condition, Decision,
    EVALUATION_ERROR_KEY, Failure, Flag, FlagDef, Frequency, NOT_ACTIVE_KEY, NOT_SCORED_KEY, Names,
    PERIOD_CONDITION, Programme, Schedule, Source, Unit, shipped,
};
pub use rule::{Rule, Tally};
