//! What a request type is: its steps, who acts at each, the SLA, the documents asked for and the
//! moves allowed. Read from TOML into raw types first, then checked by [`crate::validate`]; only
//! a checked [`Definition`] can exist.

use serde::{Deserialize, Serialize};

use crate::validate::{self, DefinitionError};
use crate::{RawTitles, Titles};

/// How a request ends. Kept to a closed list because reports, notifications and the citizen's
/// page all branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
    Withdrawn,
    Issued,
    Resolved,
    Closed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Issued => "issued",
            Outcome::Resolved => "resolved",
            Outcome::Closed => "closed",
        }
    }
}

/// A move out of a step. `role` is `None` when the step's own role makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub action: String,
    pub to: String,
    pub reason_required: bool,
    pub role: Option<String>,
}

/// Who a late request goes to, and how long after the SLA was breached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub after_hours: u32,
    pub to_role: String,
}

/// One step of a workflow. A final step has an outcome, no SLA and no transitions; the checks in
/// [`crate::validate`] make sure of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: String,
    pub title: Titles,
    pub role: String,
    pub sla_hours: Option<u32>,
    pub documents: Vec<String>,
    pub transitions: Vec<Transition>,
    pub outcome: Option<Outcome>,
    pub issues: Option<String>,
    pub enrols: bool,
    /// Sorted by `after_hours`; empty means the definition's own rules apply.
    pub escalations: Vec<Escalation>,
}

impl Step {
    pub fn is_final(&self) -> bool {
        self.outcome.is_some()
    }

    /// The role that makes `transition` from this step.
    pub fn role_for<'a>(&'a self, transition: &'a Transition) -> &'a str {
        transition.role.as_deref().unwrap_or(&self.role)
    }
}

/// A checked request type. Built only by [`Definition::from_toml`], so every step is reachable,
/// every open step has a way to a final one, and every role and step named exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub(crate) kind: String,
    pub(crate) version: u32,
    pub(crate) title: Titles,
    pub(crate) initial: String,
    pub(crate) steps: Vec<Step>,
    pub(crate) escalations: Vec<Escalation>,
    pub(crate) reopen_to: Option<String>,
}

impl Definition {
    /// Reads a definition and checks it. Roles are checked against `known_roles` (the app passes
    /// its own list) so that a typo in a role does not leave a step nobody can act on.
    pub fn from_toml(text: &str, known_roles: &[&str]) -> Result<Definition, DefinitionError> {
        let raw: RawDefinition = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| crate::line_column(text, s.start))
                .unwrap_or((0, 0));
            DefinitionError::Syntax {
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        validate::check(raw, known_roles)
    }

    /// The snake_case id of the request type, e.g. `disability_card`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn title(&self) -> &Titles {
        &self.title
    }

    /// The step a new request starts at.
    pub fn initial(&self) -> &Step {
        // The checks guarantee the initial step exists; the first step is a harmless fallback
        // that keeps this free of a panic path.
        self.step(&self.initial).unwrap_or(&self.steps[0])
    }

    /// Steps in the order of the file.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step a closed request goes back to when the citizen reopens it, if this type can be
    /// reopened (complaints can; the window is in [`crate::ComplaintRules`]).
    pub fn reopen_to(&self) -> Option<&str> {
        self.reopen_to.as_deref()
    }

    /// Escalation rules for steps that have none of their own, sorted by `after_hours`.
    pub fn escalations(&self) -> &[Escalation] {
        &self.escalations
    }
}

// ---- the file as written -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefinition {
    pub(crate) kind: String,
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) title: RawTitles,
    pub(crate) initial: String,
    pub(crate) reopen_to: Option<String>,
    #[serde(default)]
    pub(crate) escalations: Vec<RawEscalation>,
    #[serde(default)]
    pub(crate) steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) title: RawTitles,
    pub(crate) role: String,
    pub(crate) sla_hours: Option<u32>,
    #[serde(default)]
    pub(crate) documents: Vec<String>,
    #[serde(default)]
    pub(crate) transitions: Vec<RawTransition>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) issues: Option<String>,
    pub(crate) enrols: Option<bool>,
    #[serde(default)]
    pub(crate) escalations: Vec<RawEscalation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransition {
    pub(crate) action: String,
    pub(crate) to: String,
    #[serde(default)]
    pub(crate) reason_required: bool,
    pub(crate) role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEscalation {
    pub(crate) after_hours: u32,
    pub(crate) to_role: String,
}

// ---- shipped request types -----------------------------------------------------------------

/// The roles the app knows, as it passes them; used to read the shipped files.
const APP_ROLES: [&str; 7] = [
    "citizen",
    "agent",
    "supervisor",
    "manager",
    "auditor",
    "admin",
    "partner",
];

/// The shipped definition files, by kind, as text (for an admin page that shows the source or a
/// deployment that starts from them).
pub fn shipped_sources() -> [(&'static str, &'static str); 5] {
    [
        (
            "programme_application",
            include_str!("../definitions/programme_application.toml"),
        ),
        (
            "household_change",
            include_str!("../definitions/household_change.toml"),
        ),
        (
            "disability_card",
            include_str!("../definitions/disability_card.toml"),
        ),
        (
            "registration_attestation",
            include_str!("../definitions/registration_attestation.toml"),
        ),
        ("complaint", include_str!("../definitions/complaint.toml")),
    ]
}

/// The shipped request types, read with the app's roles. A file that stops parsing is caught by
/// this crate's tests, so at run time a broken one is left out rather than taking the app down.
pub fn shipped() -> Vec<Definition> {
    shipped_sources()
        .iter()
        .filter_map(|(_, text)| Definition::from_toml(text, &APP_ROLES).ok())
        .collect()
}
