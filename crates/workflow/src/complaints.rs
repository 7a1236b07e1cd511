//! Complaints, suggestions and observations: their categories, the unit each goes to, the SLA,
//! escalation and how long a citizen may reopen one. Read from TOML like the workflows, so a
//! ministry can add a category or shorten an SLA without a release. The steps a complaint goes
//! through are an ordinary [`crate::Definition`] (`definitions/complaint.toml`); this file holds
//! what is particular to grievances.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{RawTitles, Titles, is_snake_id};

/// The shipped complaints configuration.
pub const COMPLAINTS_TOML: &str = include_str!("../definitions/complaints.toml");

/// What the citizen is telling us. A complaint asks for redress; a suggestion or an observation
/// asks for nothing but deserves an answer all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrievanceKind {
    Complaint,
    Suggestion,
    Observation,
}

/// Where it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Centre,
    Phone,
}

/// A category of grievance and the unit that answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: String,
    pub title: Titles,
    /// The responsible unit's id, as the app names its units (e.g. `registry_unit`).
    pub unit: String,
    /// When not empty, only these roles may see grievances of this category (the citizen who
    /// filed one always sees their own; the app checks that, not this crate).
    pub restricted_to: Vec<String>,
}

/// Where a new grievance goes and by when it must be answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub unit: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub restricted_to: Vec<String>,
}

/// Why a complaints file or a grievance was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("complaints file, line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("complaints file, {at}, field `{field}`: {expected}")]
    Invalid {
        at: String,
        field: String,
        expected: String,
    },
    #[error("no grievance category is called `{0}`")]
    UnknownCategory(String),
}

/// The checked complaints configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintRules {
    categories: Vec<Category>,
    sla_days: SlaDays,
    reopen_days: u32,
    /// Sorted by `after_days`.
    escalations: Vec<GrievanceEscalation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SlaDays {
    complaint: u32,
    suggestion: u32,
    observation: u32,
}

/// Sixty days is the delay the law gives an administration to answer a complaint; suggestions
/// and observations get the same unless a deployment says otherwise.
impl Default for SlaDays {
    fn default() -> Self {
        SlaDays {
            complaint: 60,
            suggestion: 60,
            observation: 60,
        }
    }
}

/// Who a late grievance goes to, and how many days after the breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrievanceEscalation {
    pub after_days: u32,
    pub to_role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    sla_days: SlaDays,
    #[serde(default = "default_reopen_days")]
    reopen_days: u32,
    #[serde(default)]
    escalations: Vec<GrievanceEscalation>,
    #[serde(default)]
    categories: Vec<RawCategory>,
}

fn default_reopen_days() -> u32 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: String,
    #[serde(default)]
    title: RawTitles,
    unit: String,
    #[serde(default)]
    restricted_to: Vec<String>,
}

fn invalid(
    at: impl Into<String>,
    field: impl Into<String>,
    expected: impl Into<String>,
) -> ComplaintError {
    ComplaintError::Invalid {
        at: at.into(),
        field: field.into(),
        expected: expected.into(),
    }
}

impl ComplaintRules {
    /// Reads and checks a complaints file; roles are checked against `known_roles`.
    pub fn from_toml(text: &str, known_roles: &[&str]) -> Result<ComplaintRules, ComplaintError> {
        let raw: RawRules = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| crate::line_column(text, s.start))
                .unwrap_or((0, 0));
            ComplaintError::Syntax {
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let roles = known_roles.join(", ");
        for (kind, days) in [
            ("complaint", raw.sla_days.complaint),
            ("suggestion", raw.sla_days.suggestion),
            ("observation", raw.sla_days.observation),
        ] {
            if days == 0 {
                return Err(invalid(
                    "sla_days",
                    kind,
                    "expected a number of days above 0",
                ));
            }
        }
        if raw.reopen_days == 0 {
            return Err(invalid(
                "top level",
                "reopen_days",
                "expected a number of days above 0",
            ));
        }
        let mut escalations = raw.escalations;
        for r in &escalations {
            if !known_roles.contains(&r.to_role.as_str()) {
                return Err(invalid(
                    "escalations",
                    "to_role",
                    format!("unknown role `{}`: expected one of {roles}", r.to_role),
                ));
            }
        }
        escalations.sort_by_key(|r| r.after_days);
        if escalations
            .windows(2)
            .any(|w| w[0].after_days == w[1].after_days)
        {
            return Err(invalid(
                "escalations",
                "after_days",
                "two rules with the same delay: expected a different delay for each",
            ));
        }
        if raw.categories.is_empty() {
            return Err(invalid(
                "top level",
                "categories",
                "expected at least one category",
            ));
        }
        let mut seen = HashSet::new();
        let mut categories = Vec::with_capacity(raw.categories.len());
        for c in raw.categories {
            let at = format!("category `{}`", c.id);
            if !is_snake_id(&c.id) {
                return Err(invalid(
                    at,
                    "id",
                    "expected lower-case letters, digits and `_`, starting with a letter",
                ));
            }
            if !seen.insert(c.id.clone()) {
                return Err(invalid(
                    at,
                    "id",
                    "defined more than once: expected each id once",
                ));
            }
            let title = c.title.check().map_err(|lang| {
                invalid(
                    at.clone(),
                    format!("title.{}", lang.code()),
                    "missing or blank: expected titles in ar, fr and en",
                )
            })?;
            if !is_snake_id(&c.unit) {
                return Err(invalid(
                    at,
                    "unit",
                    "expected the id of the responsible unit (lower-case letters, digits and `_`)",
                ));
            }
            if let Some(role) = c
                .restricted_to
                .iter()
                .find(|r| !known_roles.contains(&r.as_str()))
            {
                return Err(invalid(
                    at,
                    "restricted_to",
                    format!("unknown role `{role}`: expected one of {roles}"),
                ));
            }
            categories.push(Category {
                id: c.id,
                title,
                unit: c.unit,
                restricted_to: c.restricted_to,
            });
        }
        Ok(ComplaintRules {
            categories,
            sla_days: raw.sla_days,
            reopen_days: raw.reopen_days,
            escalations,
        })
    }

    /// The shipped configuration, read with the app's roles.
    pub fn shipped() -> Result<ComplaintRules, ComplaintError> {
        ComplaintRules::from_toml(
            COMPLAINTS_TOML,
            &[
                "citizen",
                "agent",
                "supervisor",
                "manager",
                "auditor",
                "admin",
                "partner",
            ],
        )
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn sla_days(&self, kind: GrievanceKind) -> u32 {
        match kind {
            GrievanceKind::Complaint => self.sla_days.complaint,
            GrievanceKind::Suggestion => self.sla_days.suggestion,
            GrievanceKind::Observation => self.sla_days.observation,
        }
    }

    pub fn reopen_days(&self) -> u32 {
        self.reopen_days
    }

    pub fn escalations(&self) -> &[GrievanceEscalation] {
        &self.escalations
    }

    /// By when a grievance of `kind` received at `received_at` must be answered.
    pub fn due_at(
        &self,
        kind: GrievanceKind,
        received_at: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        received_at.checked_add(Duration::days(i64::from(self.sla_days(kind))))
    }

    /// The unit a new grievance goes to, its deadline and who may see it.
    pub fn route(
        &self,
        kind: GrievanceKind,
        category: &str,
        received_at: OffsetDateTime,
    ) -> Result<Routing, ComplaintError> {
        let c = self
            .category(category)
            .ok_or_else(|| ComplaintError::UnknownCategory(category.to_owned()))?;
        Ok(Routing {
            unit: c.unit.clone(),
            due_at: self.due_at(kind, received_at),
            restricted_to: c.restricted_to.clone(),
        })
    }

    /// To whom an unanswered grievance should be escalated at `now`: the latest rule whose delay
    /// after the deadline has passed, or `None` while the deadline holds.
    pub fn escalation_at(
        &self,
        kind: GrievanceKind,
        received_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Option<&GrievanceEscalation> {
        let due = self.due_at(kind, received_at)?;
        self.escalations
            .iter()
            .take_while(|r| {
                due.checked_add(Duration::days(i64::from(r.after_days)))
                    .is_some_and(|at| at <= now)
            })
            .last()
    }

    /// Whether a grievance closed at `closed_at` may still be reopened at `now` (the window
    /// includes its last instant).
    pub fn can_reopen(&self, closed_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        now >= closed_at && now - closed_at <= Duration::days(i64::from(self.reopen_days))
    }

    /// Whether `role` may see grievances of `category`. An unknown category is visible to no one:
    /// a category removed from the file should not spill its grievances to everybody.
    pub fn visible_to(&self, category: &str, role: &str) -> bool {
        match self.category(category) {
            Some(c) if c.restricted_to.is_empty() => true,
            Some(c) => c.restricted_to.iter().any(|r| r == role),
            None => false,
        }
    }
}
