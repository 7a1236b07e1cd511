//! The manager's pages: programmes and their conditions tried on the registry before they are
//! saved, index models and their dry runs, payment cycles from preview to reconciliation.

use askama::Template;

use crate::{Shell, Tr};

/// A problem with what the reader sent, in their words, with the server's own sentence beside it
/// (a technical sentence in English, for whoever reads the log).
#[derive(Debug, Clone)]
pub struct Problem {
    pub text: String,
    pub detail: Option<String>,
}

/// Households a condition admits in one region.
#[derive(Debug, Clone)]
pub struct CountRow {
    pub region: String,
    pub admitted: i64,
    pub refused: i64,
    pub undecided: i64,
}

/// What a condition admits over the registry, by region.
#[derive(Debug, Clone)]
pub struct Counts {
    pub rows: Vec<CountRow>,
    pub households: i64,
    pub admitted: i64,
    pub refused: i64,
    pub undecided: i64,
    /// When the registry's facts were read.
    pub read_at: String,
}

/// One programme of the list.
#[derive(Debug, Clone)]
pub struct ProgrammeRow {
    pub code: String,
    pub version: u32,
    pub name: String,
    /// The conditions joined, as CEL.
    pub condition: String,
    /// "500 MAD per month", in words.
    pub benefit: String,
    pub enrolled: i64,
    pub eligible: i64,
}

#[derive(Template)]
#[template(path = "manager/programmes.html")]
pub struct ProgrammesPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<ProgrammeRow>,
    /// The condition tried with the form, if any.
    pub rule: String,
    pub rule_error: Option<Problem>,
    pub counts: Option<Counts>,
    /// Whether the reader may try conditions (a manager).
    pub manage: bool,
}

/// One condition of a programme, in its form.
#[derive(Debug, Clone)]
pub struct ConditionField {
    pub index: usize,
    pub name: String,
    pub expression: String,
    /// Why the household is told no when it fails.
    pub message: String,
    pub error: Option<Problem>,
}

#[derive(Template)]
#[template(path = "manager/programme.html")]
pub struct ProgrammePage {
    pub shell: Shell,
    pub t: Tr,
    pub code: String,
    pub version: u32,
    pub name: String,
    pub facts: Vec<(String, String)>,
    pub conditions: Vec<ConditionField>,
    /// The dry run of the conditions in the form (after "check").
    pub counts: Option<Counts>,
    /// A refusal of the save.
    pub problem: Option<Problem>,
    pub reason: String,
    pub manage: bool,
}

/// One recorded model version.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub id: String,
    pub version: u32,
    pub description: String,
    pub active: bool,
    /// Weighted R² on the survey, when the file records its fit.
    pub r2: Option<String>,
    pub imported_by: String,
    pub imported_at: String,
    pub activated_at: Option<String>,
    pub href: String,
}

#[derive(Template)]
#[template(path = "manager/models.html")]
pub struct ModelsPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<ModelRow>,
    pub manage: bool,
}

/// Households entering and leaving one programme in one region and area.
#[derive(Debug, Clone)]
pub struct DryRunRow {
    pub programme: String,
    pub region: String,
    pub area: String,
    pub now: i64,
    pub then: i64,
    pub entering: i64,
    pub leaving: i64,
}

/// A programme's totals in a dry run.
#[derive(Debug, Clone)]
pub struct DryRunTotal {
    pub programme: String,
    pub now: i64,
    pub then: i64,
    pub entering: i64,
    pub leaving: i64,
}

#[derive(Template)]
#[template(path = "manager/model.html")]
pub struct ModelPage {
    pub shell: Shell,
    pub t: Tr,
    pub model: ModelRow,
    pub households: i64,
    pub totals: Vec<DryRunTotal>,
    pub rows: Vec<DryRunRow>,
    pub manage: bool,
}

#[derive(Template)]
#[template(path = "manager/activate.html")]
pub struct ActivatePage {
    pub shell: Shell,
    pub t: Tr,
    pub model: ModelRow,
    pub action: String,
    pub problem: Option<Problem>,
}

/// One cycle of the list.
#[derive(Debug, Clone)]
pub struct CycleRow {
    pub id: i64,
    pub href: String,
    pub programme: String,
    pub period: String,
    /// The state in words, and its badge (`ok`, `warn`, `bad`).
    pub state: String,
    pub badge: &'static str,
    pub entitlements: i64,
    pub total: i64,
    pub cap: Option<i64>,
    pub skipped: i64,
    pub prepared_by: String,
    pub prepared_at: String,
    pub approved_by: Option<String>,
}

/// A programme in the form's list.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The form that prepares a cycle, as sent.
#[derive(Debug, Clone, Default)]
pub struct CycleForm {
    pub programme: String,
    pub period: String,
    /// In dirhams, as typed.
    pub cap: String,
}

/// What a cycle would pay.
#[derive(Debug, Clone)]
pub struct Preview {
    pub programme: String,
    pub period: String,
    pub entitlements: i64,
    pub total: i64,
    /// Left out, by reason in words.
    pub skipped: Vec<(String, i64)>,
    /// By how much the total goes over the cap (centimes), when it does.
    pub over: Option<i64>,
    pub cap: Option<i64>,
}

#[derive(Template)]
#[template(path = "manager/cycles.html")]
pub struct CyclesPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<CycleRow>,
    pub programmes: Vec<Choice>,
    pub form: CycleForm,
    pub preview: Option<Preview>,
    pub problem: Option<Problem>,
    pub manage: bool,
}

/// One batch of a cycle, with where its payments stand.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: i64,
    /// The means in words.
    pub kind: String,
    pub state: String,
    pub exported: bool,
    pub payments: i64,
    pub total: i64,
    pub exported_at: Option<String>,
    /// Payments sent, paid and failed (or reversed); none when there were too many to count here.
    pub sent: Option<i64>,
    pub paid: Option<i64>,
    pub failed: Option<i64>,
    /// Paid out of all, for the progress bar (0 to 100).
    pub done_percent: i64,
}

/// What a reconciliation file did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub file_name: String,
    pub lines: i64,
    pub paid: i64,
    pub failed: i64,
    pub reversed: i64,
    pub unchanged: i64,
    pub already: bool,
}

#[derive(Template)]
#[template(path = "manager/cycle.html")]
pub struct CyclePage {
    pub shell: Shell,
    pub t: Tr,
    pub cycle: CycleRow,
    pub approved_at: Option<String>,
    pub period_start: String,
    pub batches: Vec<BatchRow>,
    /// A refusal of the last action (approve, cancel, open, export), in words.
    pub problem: Option<Problem>,
    /// The error report of a bad reconciliation file.
    pub upload_problem: Option<Problem>,
    pub outcome: Option<Outcome>,
    pub can_approve: bool,
    pub can_cancel: bool,
    pub can_open: bool,
    /// Whether the reader is the one who prepared it (approval is for another manager).
    pub own: bool,
    pub manage: bool,
}
