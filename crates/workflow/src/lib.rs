//! E-service requests and complaints as data, and the rules that move them. Pure: no database,
//! no HTTP, no clock (every instant is passed in).
//!
//! - A request type is a [`Definition`] read from TOML ([`Definition::from_toml`]): steps, the role
//!   that acts at each, an SLA, the documents required and the allowed moves. A definition that
//!   could leave a request stuck (an unreachable step, a step without a way out, a loop with no
//!   exit) is refused when it is read, with the step and the field named.
//! - [`Definition::advance`] checks one move and says where it leads; [`Definition::record`]
//!   also checks the reason and stamps the move with its actor and instant.
//! - [`ComplaintRules`] hold the categories, the responsible units, the SLA per kind, escalation
//!   and the reopen window of complaints, suggestions and observations.
//! - [`Reference`] and [`Secret`] let a citizen follow a request by SMS without an account.
//! - [`Bottlenecks`] turns the time spent at each step into medians, p90s and SLA breaches.
//!
//! The shipped request types are in `definitions/*.toml` ([`shipped`]).

mod bottlenecks;
mod complaints;
mod definition;
mod engine;
mod reference;
mod validate;

pub use bottlenecks::{AreaTiming, Bottlenecks, Report, Row, Span, Timing, Waiting};
pub use complaints::{
    COMPLAINTS_TOML, Category, Channel, ComplaintError, ComplaintRules, GrievanceEscalation,
    GrievanceKind, Routing,
};
pub use definition::{Definition, Escalation, Outcome, Step, Transition, shipped, shipped_sources};
pub use engine::{MAX_REASON_CHARS, Move, ReasonError, Record, TransitionError, check_reason};
pub use reference::{
    Family, MAX_SEQUENCE, Reference, ReferenceError, SECRET_ALPHABET, Secret, SecretError,
    SmsLength, constant_time_eq, follow_up_sms, sms_length,
};
pub use validate::{DefinitionError, Invalid, Problem};

use serde::{Deserialize, Serialize};

/// The three languages every title is written in. Amazigh titles will come with the UI's
/// translations; a definition only has to carry what a citizen reads on a receipt today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ar,
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Ar, Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// A title in Arabic, French and English. Built only by the readers of this crate, which refuse
/// a missing or blank language, so `get` always has something to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Titles {
    ar: String,
    fr: String,
    en: String,
}

impl Titles {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ar => &self.ar,
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

/// Titles as written in a file: every language optional, so that a missing one is reported with
/// the step it belongs to instead of serde's bare "missing field".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTitles {
    ar: Option<String>,
    fr: Option<String>,
    en: Option<String>,
}

impl RawTitles {
    /// The titles, or the first language that is missing or blank.
    pub(crate) fn check(self) -> Result<Titles, Lang> {
        let take = |text: Option<String>, lang: Lang| match text {
            Some(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
            _ => Err(lang),
        };
        Ok(Titles {
            ar: take(self.ar, Lang::Ar)?,
            fr: take(self.fr, Lang::Fr)?,
            en: take(self.en, Lang::En)?,
        })
    }
}

/// Ids of kinds, steps, actions and categories: lower-case ASCII letters, digits and `_`,
/// starting with a letter, at most 64 characters. They end up in URLs, logs and database rows,
/// so they are kept plain.
pub(crate) fn is_snake_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('a'..='z'))
        && id.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && !id.ends_with('_')
        && !id.contains("__")
}

/// Line and column (both from 1) of a byte offset, for TOML errors.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
