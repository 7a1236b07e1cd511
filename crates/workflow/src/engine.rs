//! Moving a request: which actions a role has at a step, where an action leads, when a step is
//! due and to whom it escalates. The app stores the request and its history; this module only
//! says whether a move is allowed and what it means, so the same rules serve the API, the pages
//! and the escalation job.

use std::collections::VecDeque;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::definition::{Definition, Escalation, Outcome, Step, Transition};

/// The longest reason kept with a move. A reason is read by a citizen or an auditor; past two
/// thousand characters it is a file, which belongs in the documents.
pub const MAX_REASON_CHARS: usize = 2000;

/// What an allowed action does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    /// Set when `to` is final: the request ends here.
    pub outcome: Option<Outcome>,
    pub reason_required: bool,
    /// The certificate kind to issue when the request ends here, e.g. `disability_card`.
    pub issues: Option<String>,
    /// The request ends with an approval that the app turns into an enrolment, after checking
    /// the programme's own eligibility.
    pub enrols: bool,
}

/// A move as it goes into the request's history: who made it, as which role, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub action: String,
    pub actor: String,
    pub role: String,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub moved: Move,
}

/// Why a move was refused. The words are for the agent at the counter, so they name the step,
/// the action and the role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("request type `{kind}` has no step `{step}`")]
    UnknownStep { kind: String, step: String },
    #[error("the request is already closed at step `{step}` ({}): no action is possible", .outcome.as_str())]
    AlreadyFinal { step: String, outcome: Outcome },
    #[error("step `{step}` has no action `{action}`: the actions here are {}", list(.available))]
    UnknownAction {
        step: String,
        action: String,
        available: Vec<String>,
    },
    #[error("at step `{step}`, action `{action}` is for the role `{expected}`, not `{role}`")]
    RoleNotAllowed {
        step: String,
        action: String,
        role: String,
        expected: String,
    },
    #[error("a request of type `{kind}` cannot be reopened")]
    NotReopenable { kind: String },
    #[error("only a closed request can be reopened; this one is at step `{step}`")]
    NotClosed { step: String },
    #[error("a move needs the actor who makes it")]
    NoActor,
    #[error(transparent)]
    Reason(#[from] ReasonError),
}

/// Why a reason was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("this action needs a reason: write a few words for the citizen and the file")]
    Missing,
    #[error("the reason is {chars} characters long: at most {max} are kept")]
    TooLong { chars: usize, max: usize },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the reason given for a move and returns it trimmed (`None` when none was given and
/// none is needed). A blank reason counts as none, so "   " cannot stand in for a refusal's
/// explanation.
pub fn check_reason(moved: &Move, reason: Option<&str>) -> Result<Option<String>, ReasonError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if moved.reason_required => Err(ReasonError::Missing),
        None => Ok(None),
        Some(r) => {
            let chars = r.chars().count();
            if chars > MAX_REASON_CHARS {
                Err(ReasonError::TooLong {
                    chars,
                    max: MAX_REASON_CHARS,
                })
            } else {
                Ok(Some(r.to_owned()))
            }
        }
    }
}

impl Definition {
    /// The actions `role` can take at `step` (none for an unknown or final step).
    pub fn actions_for(&self, step: &str, role: &str) -> Vec<&Transition> {
        match self.step(step) {
            Some(s) => s
                .transitions
                .iter()
                .filter(|t| s.role_for(t) == role)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Checks that `role` may take `action` at `at_step` and says where it leads.
    pub fn advance(
        &self,
        at_step: &str,
        action: &str,
        role: &str,
    ) -> Result<Move, TransitionError> {
        let step = self
            .step(at_step)
            .ok_or_else(|| TransitionError::UnknownStep {
                kind: self.kind.clone(),
                step: at_step.to_owned(),
            })?;
        if let Some(outcome) = step.outcome {
            return Err(TransitionError::AlreadyFinal {
                step: step.id.clone(),
                outcome,
            });
        }
        let transition = step
            .transitions
            .iter()
            .find(|t| t.action == action)
            .ok_or_else(|| TransitionError::UnknownAction {
                step: step.id.clone(),
                action: action.to_owned(),
                available: step.transitions.iter().map(|t| t.action.clone()).collect(),
            })?;
        let expected = step.role_for(transition);
        if expected != role {
            return Err(TransitionError::RoleNotAllowed {
                step: step.id.clone(),
                action: action.to_owned(),
                role: role.to_owned(),
                expected: expected.to_owned(),
            });
        }
        let to = self
            .step(&transition.to)
            .ok_or_else(|| TransitionError::UnknownStep {
                kind: self.kind.clone(),
                step: transition.to.clone(),
            })?;
        Ok(Move {
            from: step.id.clone(),
            to: to.id.clone(),
            outcome: to.outcome,
            reason_required: transition.reason_required,
            issues: to.issues.clone(),
            enrols: to.enrols,
        })
    }

    /// [`advance`](Self::advance), plus the reason checked and the move stamped with its actor
    /// (an account id, never a name) and instant: the line the app appends to the history.
    pub fn record(
        &self,
        at_step: &str,
        action: &str,
        role: &str,
        actor: &str,
        reason: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<Record, TransitionError> {
        let moved = self.advance(at_step, action, role)?;
        let actor = actor.trim();
        if actor.is_empty() {
            return Err(TransitionError::NoActor);
        }
        let reason = check_reason(&moved, reason)?;
        Ok(Record {
            action: action.to_owned(),
            actor: actor.to_owned(),
            role: role.to_owned(),
            reason,
            at,
            moved,
        })
    }

    /// The move that reopens a request closed at `at_step` (the app checks the reopen window with
    /// [`crate::ComplaintRules::can_reopen`] first). It always needs a reason: the citizen says
    /// what is still wrong.
    pub fn reopen(&self, at_step: &str) -> Result<Move, TransitionError> {
        let step = self
            .step(at_step)
            .ok_or_else(|| TransitionError::UnknownStep {
                kind: self.kind.clone(),
                step: at_step.to_owned(),
            })?;
        if !step.is_final() {
            return Err(TransitionError::NotClosed {
                step: step.id.clone(),
            });
        }
        let to = self
            .reopen_to
            .as_deref()
            .and_then(|to| self.step(to))
            .ok_or_else(|| TransitionError::NotReopenable {
                kind: self.kind.clone(),
            })?;
        Ok(Move {
            from: step.id.clone(),
            to: to.id.clone(),
            outcome: None,
            reason_required: true,
            issues: None,
            enrols: false,
        })
    }

    /// When a request that entered `step` at `entered_at` is due to leave it; `None` for a final
    /// or unknown step.
    pub fn due_at(&self, entered_at: OffsetDateTime, step: &str) -> Option<OffsetDateTime> {
        let hours = self.step(step)?.sla_hours?;
        entered_at.checked_add(Duration::hours(i64::from(hours)))
    }

    /// The escalation rules that apply at `step`: its own, or the definition's when it has none.
    pub fn escalations_for(&self, step: &str) -> &[Escalation] {
        match self.step(step) {
            Some(s) if s.is_final() => &[],
            Some(s) if !s.escalations.is_empty() => &s.escalations,
            Some(_) => &self.escalations,
            None => &[],
        }
    }

    /// To whom a request that entered `step` at `entered_at` should be escalated at `now`: the
    /// latest rule whose delay after the breach has passed, or `None` while the SLA holds. The
    /// app's periodic pass compares this with the last escalation it recorded, so running the
    /// pass twice escalates once.
    pub fn escalation_at(
        &self,
        entered_at: OffsetDateTime,
        step: &str,
        now: OffsetDateTime,
    ) -> Option<&Escalation> {
        let due = self.due_at(entered_at, step)?;
        self.escalations_for(step)
            .iter()
            .take_while(|r| {
                due.checked_add(Duration::hours(i64::from(r.after_hours)))
                    .is_some_and(|at| at <= now)
            })
            .last()
    }

    /// The fewest moves from `step` to a final step (0 for a final step, `None` for an unknown
    /// one). Good for "about 3 steps left" on the citizen's page.
    pub fn remaining_steps(&self, step: &str) -> Option<usize> {
        let start = self.steps.iter().position(|s| s.id == step)?;
        let mut distance: Vec<Option<usize>> = vec![None; self.steps.len()];
        distance[start] = Some(0);
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            let here = distance[i].unwrap_or(0);
            let s: &Step = &self.steps[i];
            if s.is_final() {
                return Some(here);
            }
            for t in &s.transitions {
                if let Some(j) = self.steps.iter().position(|x| x.id == t.to)
                    && distance[j].is_none()
                {
                    distance[j] = Some(here + 1);
                    queue.push_back(j);
                }
            }
        }
        None
    }
}
