//! The checks that turn a file into a [`Definition`]. A request type that could leave a citizen's
//! request stuck is refused here, when a manager saves it, rather than found out months later in
//! a queue nobody can empty. Every error names the definition, the step and the field, and says
//! what was expected, so the person who wrote the file can fix it without reading code.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use crate::definition::{
    Definition, Escalation, RawDefinition, RawEscalation, RawStep, Step, Transition,
};
use crate::{Lang, Outcome, is_snake_id};

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// The text is not TOML, or a field is misspelt, missing or of the wrong type.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file reads but describes a workflow that cannot work.
    #[error(transparent)]
    Invalid(Box<Invalid>),
}

/// Where a definition is wrong and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.definition, .step.as_deref(), .field, .problem))]
pub struct Invalid {
    pub definition: String,
    pub step: Option<String>,
    pub field: String,
    pub problem: Problem,
}

impl DefinitionError {
    /// The problem, for an invalid (not malformed) file.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            DefinitionError::Invalid(i) => Some(&i.problem),
            DefinitionError::Syntax { .. } => None,
        }
    }

    /// The step the problem is at, if it is at one.
    pub fn step(&self) -> Option<&str> {
        match self {
            DefinitionError::Invalid(i) => i.step.as_deref(),
            DefinitionError::Syntax { .. } => None,
        }
    }

    /// The field the problem is in, e.g. `sla_hours` or `transitions[approve].to`.
    pub fn field(&self) -> Option<&str> {
        match self {
            DefinitionError::Invalid(i) => Some(&i.field),
            DefinitionError::Syntax { .. } => None,
        }
    }
}

fn describe(definition: &str, step: Option<&str>, field: &str, problem: &Problem) -> String {
    match step {
        Some(step) => {
            format!("definition `{definition}`, step `{step}`, field `{field}`: {problem}")
        }
        None => format!("definition `{definition}`, field `{field}`: {problem}"),
    }
}

/// What is wrong, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "`{found}` is not a valid id: expected lower-case letters, digits and `_`, starting with a letter (e.g. `disability_card`)"
    )]
    BadId { found: String },
    #[error("expected a version of 1 or more")]
    VersionZero,
    #[error("the title in `{}` is missing or blank: expected titles in ar, fr and en", .lang.code())]
    MissingTitle { lang: Lang },
    #[error("expected at least one step")]
    NoSteps,
    #[error("step `{id}` is defined more than once: expected each step id once")]
    DuplicateStep { id: String },
    #[error("no step is called `{name}`: expected one of {}", list(.known))]
    UnknownStep { name: String, known: Vec<String> },
    #[error("unknown role `{role}`: expected one of {}", list(.known))]
    UnknownRole { role: String, known: Vec<String> },
    #[error(
        "this step cannot be reached from the initial step `{initial}`: expected a transition that leads to it, or remove the step"
    )]
    Unreachable { initial: String },
    #[error(
        "this step is not final and has no way out: expected at least one transition, or an `outcome` to make it final"
    )]
    NoWayOut,
    #[error(
        "no final step can be reached from here (its transitions only lead round in a loop): expected a way on to a step with an `outcome`"
    )]
    NoFinalReachable,
    #[error("a final step (one with an `outcome`) has no transitions: remove them or the outcome")]
    FinalWithTransitions,
    #[error("expected a number of hours above 0")]
    SlaZero,
    #[error("a step that is not final needs an SLA: expected `sla_hours` above 0")]
    SlaMissing,
    #[error("a final step has no SLA: remove `sla_hours`")]
    SlaOnFinal,
    #[error("action `{action}` appears more than once on this step: expected each action once")]
    DuplicateAction { action: String },
    #[error("only a final step (one with an `outcome`) can have this field")]
    OnlyOnFinal,
    #[error("`enrols = true` expected `outcome = \"approved\"`, found `{}`", .outcome.as_str())]
    EnrolsNeedsApproval { outcome: Outcome },
    #[error(
        "`{found}` is not a valid document key: expected lower-case letters, digits, `-` and `_` (e.g. `doc-disability-card`)"
    )]
    BadDocument { found: String },
    #[error("document `{found}` is listed more than once: expected each document once")]
    DuplicateDocument { found: String },
    #[error("a final step has no SLA to breach: remove its escalation rules")]
    EscalationOnFinal,
    #[error("a reopened request goes back to work: expected a step that is not final")]
    ReopenToFinal,
    #[error("two escalation rules at {after_hours} hours: expected a different delay for each")]
    DuplicateEscalation { after_hours: u32 },
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

/// Builds errors for one definition, so each check only says what and where.
struct Errors<'a> {
    definition: &'a str,
}

impl Errors<'_> {
    fn at(
        &self,
        step: Option<&str>,
        field: impl fmt::Display,
        problem: Problem,
    ) -> DefinitionError {
        DefinitionError::Invalid(Box::new(Invalid {
            definition: self.definition.to_owned(),
            step: step.map(str::to_owned),
            field: field.to_string(),
            problem,
        }))
    }
}

fn is_document_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'))
}

fn check_role(
    e: &Errors<'_>,
    step: Option<&str>,
    field: &str,
    role: &str,
    known_roles: &[&str],
) -> Result<(), DefinitionError> {
    if known_roles.contains(&role) {
        Ok(())
    } else {
        Err(e.at(
            step,
            field,
            Problem::UnknownRole {
                role: role.to_owned(),
                known: known_roles.iter().map(|r| (*r).to_owned()).collect(),
            },
        ))
    }
}

fn check_escalations(
    e: &Errors<'_>,
    step: Option<&str>,
    raw: Vec<RawEscalation>,
    known_roles: &[&str],
) -> Result<Vec<Escalation>, DefinitionError> {
    let mut rules = Vec::with_capacity(raw.len());
    for r in raw {
        check_role(e, step, "escalations.to_role", &r.to_role, known_roles)?;
        rules.push(Escalation {
            after_hours: r.after_hours,
            to_role: r.to_role,
        });
    }
    rules.sort_by_key(|r| r.after_hours);
    if let Some(pair) = rules
        .windows(2)
        .find(|w| w[0].after_hours == w[1].after_hours)
    {
        return Err(e.at(
            step,
            "escalations.after_hours",
            Problem::DuplicateEscalation {
                after_hours: pair[0].after_hours,
            },
        ));
    }
    Ok(rules)
}

/// The checks of one step on its own (its neighbours are checked once all steps are known).
fn check_step(e: &Errors<'_>, raw: RawStep, known_roles: &[&str]) -> Result<Step, DefinitionError> {
    let id = raw.id;
    let at = Some(id.as_str());
    if !is_snake_id(&id) {
        return Err(e.at(at, "id", Problem::BadId { found: id.clone() }));
    }
    let title = raw.title.check().map_err(|lang| {
        e.at(
            at,
            format!("title.{}", lang.code()),
            Problem::MissingTitle { lang },
        )
    })?;
    check_role(e, at, "role", &raw.role, known_roles)?;

    let is_final = raw.outcome.is_some();
    match (is_final, raw.sla_hours) {
        (false, None) => return Err(e.at(at, "sla_hours", Problem::SlaMissing)),
        (false, Some(0)) => return Err(e.at(at, "sla_hours", Problem::SlaZero)),
        (true, Some(_)) => return Err(e.at(at, "sla_hours", Problem::SlaOnFinal)),
        _ => {}
    }

    let mut seen_docs = HashSet::new();
    for doc in &raw.documents {
        if !is_document_key(doc) {
            return Err(e.at(at, "documents", Problem::BadDocument { found: doc.clone() }));
        }
        if !seen_docs.insert(doc.as_str()) {
            return Err(e.at(
                at,
                "documents",
                Problem::DuplicateDocument { found: doc.clone() },
            ));
        }
    }

    if is_final && !raw.transitions.is_empty() {
        return Err(e.at(at, "transitions", Problem::FinalWithTransitions));
    }
    if !is_final && raw.transitions.is_empty() {
        return Err(e.at(at, "transitions", Problem::NoWayOut));
    }
    if !is_final {
        if raw.issues.is_some() {
            return Err(e.at(at, "issues", Problem::OnlyOnFinal));
        }
        if raw.enrols.is_some() {
            return Err(e.at(at, "enrols", Problem::OnlyOnFinal));
        }
    }
    if let Some(kind) = &raw.issues
        && !is_snake_id(kind)
    {
        return Err(e.at(
            at,
            "issues",
            Problem::BadId {
                found: kind.clone(),
            },
        ));
    }
    let enrols = raw.enrols.unwrap_or(false);
    if let Some(outcome) = raw.outcome
        && enrols
        && outcome != Outcome::Approved
    {
        return Err(e.at(at, "enrols", Problem::EnrolsNeedsApproval { outcome }));
    }

    let mut transitions = Vec::with_capacity(raw.transitions.len());
    let mut seen_actions = HashSet::new();
    for t in raw.transitions {
        let field = |name: &str| format!("transitions[{}].{name}", t.action);
        if !is_snake_id(&t.action) {
            return Err(e.at(
                at,
                "transitions.action",
                Problem::BadId {
                    found: t.action.clone(),
                },
            ));
        }
        if !seen_actions.insert(t.action.clone()) {
            return Err(e.at(
                at,
                field("action"),
                Problem::DuplicateAction {
                    action: t.action.clone(),
                },
            ));
        }
        if let Some(role) = &t.role {
            check_role(e, at, &field("role"), role, known_roles)?;
        }
        transitions.push(Transition {
            action: t.action,
            to: t.to,
            reason_required: t.reason_required,
            role: t.role,
        });
    }

    if is_final && !raw.escalations.is_empty() {
        return Err(e.at(at, "escalations", Problem::EscalationOnFinal));
    }
    let escalations = check_escalations(e, at, raw.escalations, known_roles)?;

    Ok(Step {
        id,
        title,
        role: raw.role,
        sla_hours: raw.sla_hours,
        documents: raw.documents,
        transitions,
        outcome: raw.outcome,
        issues: raw.issues,
        enrols,
        escalations,
    })
}

pub(crate) fn check(
    raw: RawDefinition,
    known_roles: &[&str],
) -> Result<Definition, DefinitionError> {
    let e = Errors {
        definition: &raw.kind,
    };
    if !is_snake_id(&raw.kind) {
        return Err(e.at(
            None,
            "kind",
            Problem::BadId {
                found: raw.kind.clone(),
            },
        ));
    }
    if raw.version == 0 {
        return Err(e.at(None, "version", Problem::VersionZero));
    }
    let title = raw.title.check().map_err(|lang| {
        e.at(
            None,
            format!("title.{}", lang.code()),
            Problem::MissingTitle { lang },
        )
    })?;
    let escalations = check_escalations(&e, None, raw.escalations, known_roles)?;
    if raw.steps.is_empty() {
        return Err(e.at(None, "steps", Problem::NoSteps));
    }

    let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for raw_step in raw.steps {
        if index.contains_key(&raw_step.id) {
            return Err(e.at(
                Some(&raw_step.id),
                "id",
                Problem::DuplicateStep {
                    id: raw_step.id.clone(),
                },
            ));
        }
        let step = check_step(&e, raw_step, known_roles)?;
        index.insert(step.id.clone(), steps.len());
        steps.push(step);
    }
    let known_steps = || steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>();

    let Some(&initial) = index.get(&raw.initial) else {
        return Err(e.at(
            None,
            "initial",
            Problem::UnknownStep {
                name: raw.initial.clone(),
                known: known_steps(),
            },
        ));
    };

    if let Some(to) = &raw.reopen_to {
        match index.get(to) {
            None => {
                return Err(e.at(
                    None,
                    "reopen_to",
                    Problem::UnknownStep {
                        name: to.clone(),
                        known: known_steps(),
                    },
                ));
            }
            Some(&i) if steps[i].is_final() => {
                return Err(e.at(Some(to), "reopen_to", Problem::ReopenToFinal));
            }
            Some(_) => {}
        }
    }

    // Edges as indices, checking every `to` on the way.
    let mut next: Vec<Vec<usize>> = Vec::with_capacity(steps.len());
    for step in &steps {
        let mut out = Vec::with_capacity(step.transitions.len());
        for t in &step.transitions {
            match index.get(&t.to) {
                Some(&to) => out.push(to),
                None => {
                    return Err(e.at(
                        Some(&step.id),
                        format!("transitions[{}].to", t.action),
                        Problem::UnknownStep {
                            name: t.to.clone(),
                            known: known_steps(),
                        },
                    ));
                }
            }
        }
        next.push(out);
    }

    // Every step reachable from the initial one.
    let reached = reach(steps.len(), [initial], |i| next[i].iter().copied());
    if let Some(i) = (0..steps.len()).find(|&i| !reached[i]) {
        return Err(e.at(
            Some(&steps[i].id),
            "id",
            Problem::Unreachable {
                initial: raw.initial.clone(),
            },
        ));
    }

    // Every step can still end: walk back from the final steps.
    let mut previous: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (from, outs) in next.iter().enumerate() {
        for &to in outs {
            previous[to].push(from);
        }
    }
    let finals = (0..steps.len()).filter(|&i| steps[i].is_final());
    let can_end = reach(steps.len(), finals, |i| previous[i].iter().copied());
    if let Some(i) = (0..steps.len()).find(|&i| !can_end[i]) {
        return Err(e.at(Some(&steps[i].id), "transitions", Problem::NoFinalReachable));
    }

    Ok(Definition {
        kind: raw.kind,
        version: raw.version,
        title,
        initial: raw.initial,
        steps,
        escalations,
        reopen_to: raw.reopen_to,
    })
}

/// Breadth-first search over step indices from `start`, following `edges`.
fn reach<I, F>(n: usize, start: impl IntoIterator<Item = usize>, edges: F) -> Vec<bool>
where
    F: Fn(usize) -> I,
    I: Iterator<Item = usize>,
{
    let mut seen = vec![false; n];
    let mut queue = VecDeque::new();
    for s in start {
        if !seen[s] {
            seen[s] = true;
            queue.push_back(s);
        }
    }
    while let Some(i) = queue.pop_front() {
        for j in edges(i) {
            if !seen[j] {
                seen[j] = true;
                queue.push_back(j);
            }
        }
    }
    seen
}
