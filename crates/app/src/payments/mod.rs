//! Cycles and payments: the port they need and the records they keep.
//!
//! [`PaymentStore`], implemented by both backends and checked by its own contract suite, keeps how
//! each household is paid, the cycles of every programme with the entitlements they froze, the
//! batches of payments sent to providers, the answers read back, and the AMO-Tadamon adhesions
//! exchanged with the insurer. The file formats are pure code (`sanad-payfiles`); the rules that
//! decide what an answer line does to a payment are pure code here ([`apply_outcome`]).
//!
//! Exactly once rests on the store, not on the caller being careful:
//! - (cycle, household, person) is the primary key of an entitlement, and one cycle exists per
//!   programme and period;
//! - at most one attempt to pay an entitlement is live (pending, sent or paid), by a unique index;
//! - an answer file is recorded by its SHA-256, unique, in the transaction that applies it, and
//!   each payment it changes is updated only from the state the answer was checked against.

pub mod files;
pub mod service;

pub use service::Payments;

use async_trait::async_trait;
use sanad_domain::{HouseholdId, PersonId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::store::{Change, StoreError};

/// How a household is paid, as the store keeps it: the kind, the means as JSON (a
/// `sanad_payfiles::Means`, checked before it is stored) and the holder's name.
#[derive(Debug, Clone, PartialEq)]
pub struct MeansRecord {
    pub household_id: HouseholdId,
    pub kind: String,
    pub details: String,
    pub holder: String,
    pub updated_by: String,
    pub updated_at: OffsetDateTime,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CycleState {
    /// Entitlements are being written, batch by batch.
    Computing,
    /// Every entitlement is written; waiting for a second manager's approval.
    Computed,
    /// Approved: payment files may leave.
    Approved,
    /// Stopped before approval; nothing is paid from it.
    Cancelled,
}

impl CycleState {
    pub const ALL: [CycleState; 4] = [
        CycleState::Computing,
        CycleState::Computed,
        CycleState::Approved,
        CycleState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CycleState::Computing => "computing",
            CycleState::Computed => "computed",
            CycleState::Approved => "approved",
            CycleState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<CycleState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A programme's payment round for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cycle {
    pub id: i64,
    pub programme_code: String,
    pub programme_version: u32,
    /// `YYYY-MM` for a monthly programme.
    pub period: String,
    /// The date the programme's rules and amounts are taken on.
    #[serde(with = "sanad_domain::household::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub period_start: Date,
    pub state: CycleState,
    /// In centimes; none when the cycle has no cap.
    pub budget_cap: Option<i64>,
    pub prepared_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub prepared_at: OffsetDateTime,
    pub approved_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<OffsetDateTime>,
    /// The last household whose entitlements are written (while computing).
    pub last_household: Option<HouseholdId>,
    pub entitlements: u64,
    /// Sum of the entitlements, in centimes.
    pub total: i64,
    /// Enrolled beneficiaries given no entitlement (not scored for their current version, or no
    /// longer meeting the rules on the period's date).
    pub skipped: u64,
}

/// A cycle to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCycle {
    pub programme_code: String,
    pub programme_version: u32,
    pub period: String,
    pub period_start: Date,
    pub budget_cap: Option<i64>,
}

/// An enrolled beneficiary as a cycle reads it: the household's current version and the score
/// recorded for it.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleInput {
    pub household_id: HouseholdId,
    pub person_id: Option<PersonId>,
    pub household_version: u32,
    /// The recorded index and the household version it was computed for.
    pub index: Option<(f64, u32)>,
}

/// What a beneficiary is owed in a cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entitlement {
    pub cycle_id: i64,
    pub household_id: HouseholdId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    pub household_version: u32,
    pub index: Option<f64>,
    /// In centimes.
    pub amount: i64,
}

#[derive(Debug, Clone, Default)]
pub struct EntitlementFilter {
    pub cycle_id: i64,
    pub household_id: Option<HouseholdId>,
    /// Keyset paging on (household, person).
    pub after: Option<(HouseholdId, Option<PersonId>)>,
    pub limit: u32,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Payments are assigned; the file may be written (again: it is the same file each time).
    Open,
    /// The file was written and handed over; its payments are sent.
    Exported,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Open => "open",
            BatchState::Exported => "exported",
        }
    }

    pub fn parse(text: &str) -> Option<BatchState> {
        match text {
            "open" => Some(BatchState::Open),
            "exported" => Some(BatchState::Exported),
            _ => None,
        }
    }
}

/// A file of payments of one means kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: i64,
    pub cycle_id: i64,
    /// `bank`, `wallet` or `cash`.
    pub kind: String,
    pub state: BatchState,
    pub payments: u64,
    /// In centimes.
    pub total: i64,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub exported_at: Option<OffsetDateTime>,
    pub file_sha256: Option<String>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// In an open batch, not yet handed over.
    Pending,
    /// Handed over to the provider; waiting for its answer.
    Sent,
    Paid,
    /// The provider could not pay (the reason says why); a later batch tries again.
    Failed,
    /// Paid, then returned by the provider; a later batch tries again.
    Reversed,
}

impl PaymentState {
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Pending,
        PaymentState::Sent,
        PaymentState::Paid,
        PaymentState::Failed,
        PaymentState::Reversed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Sent => "sent",
            PaymentState::Paid => "paid",
            PaymentState::Failed => "failed",
            PaymentState::Reversed => "reversed",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One attempt to pay an entitlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: i64,
    /// The id the provider answers with (`SANAD-<id>`).
    pub end_to_end_id: String,
    pub cycle_id: i64,
    pub household_id: HouseholdId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    pub batch_id: i64,
    pub attempt: u32,
    /// In centimes.
    pub amount: i64,
    pub kind: String,
    /// The means at the time the batch was made (JSON), so a later edit changes no file.
    #[serde(skip)]
    pub means: String,
    #[serde(skip)]
    pub holder: String,
    /// The pick-up code of a cash payment.
    #[serde(skip)]
    pub reference: String,
    pub state: PaymentState,
    pub reason_code: String,
    pub reason: String,
    #[serde(with = "sanad_domain::household::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub booked_on: Option<Date>,
}

/// The end-to-end id of a payment: what the provider quotes back.
pub fn end_to_end_id(payment: i64) -> String {
    format!("SANAD-{payment}")
}

/// The payment an end-to-end id names, if it is one of ours.
pub fn payment_of(end_to_end_id: &str) -> Option<i64> {
    let n = end_to_end_id.strip_prefix("SANAD-")?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0')
    {
        return None;
    }
    n.parse().ok().filter(|&id: &i64| id > 0)
}

#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub cycle_id: Option<i64>,
    pub household_id: Option<HouseholdId>,
    pub state: Option<PaymentState>,
    /// Region, province or commune codes of the households (empty = everywhere).
    pub territories: Vec<String>,
    pub after: Option<i64>,
    pub limit: u32,
}

/// What a provider's answer says of one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Failed { code: String, reason: String },
    Reversed { code: String, reason: String },
}

/// One line of an answer, as the formats read it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerItem {
    /// Where it is in the file (1-based), for errors.
    pub line: u64,
    pub end_to_end_id: String,
    /// In centimes.
    pub amount: i64,
    pub outcome: Outcome,
    pub booked_on: Option<Date>,
}

/// A payment's state and amount, as reconciliation checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentCheck {
    pub id: i64,
    pub state: PaymentState,
    pub amount: i64,
}

/// A payment's new state, written only if it is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentUpdate {
    pub id: i64,
    pub from: PaymentState,
    pub to: PaymentState,
    pub reason_code: String,
    pub reason: String,
    pub booked_on: Option<Date>,
}

/// An answer file imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reconciliation {
    pub id: i64,
    pub file_sha256: String,
    pub file_name: String,
    /// `camt054` or `csv`.
    pub format: String,
    pub lines: u64,
    pub paid: u64,
    pub failed: u64,
    pub reversed: u64,
    /// Lines that repeat what an earlier answer already said.
    pub unchanged: u64,
    pub imported_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub imported_at: OffsetDateTime,
}

/// Why an answer line cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field {}: {}",
            self.line, self.field, self.message
        )
    }
}

/// What an answer line does to a payment in `state`: the new state, `None` when the line repeats
/// what is already recorded, or why it cannot be.
pub fn apply_outcome(
    state: PaymentState,
    outcome: &Outcome,
) -> Result<Option<PaymentState>, &'static str> {
    use PaymentState::*;
    match (outcome, state) {
        (Outcome::Paid, Sent) => Ok(Some(Paid)),
        (Outcome::Paid, Paid) => Ok(None),
        (Outcome::Failed { .. }, Sent) => Ok(Some(Failed)),
        (Outcome::Failed { .. }, Failed) => Ok(None),
        (Outcome::Reversed { .. }, Paid) => Ok(Some(Reversed)),
        (Outcome::Reversed { .. }, Reversed) => Ok(None),
        (_, Pending) => Err("a payment of a batch that was never exported"),
        (Outcome::Paid, Failed) => Err("a payment already recorded as failed"),
        (Outcome::Paid, Reversed) => Err("a payment already recorded as reversed"),
        (Outcome::Failed { .. }, Paid) => {
            Err("a payment already recorded as paid (a return is a reversal)")
        }
        (Outcome::Failed { .. }, Reversed) => Err("a payment already recorded as reversed"),
        (Outcome::Reversed { .. }, Sent) => Err("a payment not yet recorded as paid"),
        (Outcome::Reversed { .. }, Failed) => Err("a payment recorded as failed, never paid"),
    }
}

/// Checks every line of an answer against the payments it names and gives the updates to write,
/// or the first line that cannot be applied (nothing is to be written then). Lines are applied in
/// file order, so a payment paid then reversed in the same file ends reversed.
pub fn plan_reconciliation(
    lines: &[AnswerItem],
    current: &std::collections::HashMap<i64, PaymentCheck>,
) -> Result<(Vec<PaymentUpdate>, ReconcileCounts), LineError> {
    let mut now: std::collections::HashMap<i64, (PaymentState, usize)> = Default::default();
    let mut updates: Vec<PaymentUpdate> = Vec::new();
    let mut counts = ReconcileCounts::default();
    for l in lines {
        let Some(id) = payment_of(&l.end_to_end_id) else {
            return Err(LineError {
                line: l.line,
                field: "end_to_end_id",
                message: format!(
                    "a payment of this registry (SANAD-<number>), found {:?}",
                    l.end_to_end_id
                ),
            });
        };
        let Some(p) = current.get(&id) else {
            return Err(LineError {
                line: l.line,
                field: "end_to_end_id",
                message: format!("a known payment: {} was never issued", l.end_to_end_id),
            });
        };
        if l.amount != p.amount {
            return Err(LineError {
                line: l.line,
                field: "amount",
                message: format!(
                    "the amount of payment {}: {} MAD, found {} MAD",
                    l.end_to_end_id,
                    mad(p.amount),
                    mad(l.amount)
                ),
            });
        }
        let (state, slot) = match now.get(&id) {
            Some(&(s, slot)) => (s, Some(slot)),
            None => (p.state, None),
        };
        let next = apply_outcome(state, &l.outcome).map_err(|why| LineError {
            line: l.line,
            field: "status",
            message: format!(
                "an outcome that fits the payment: {} is {why}",
                l.end_to_end_id
            ),
        })?;
        let Some(to) = next else {
            counts.unchanged += 1;
            continue;
        };
        match to {
            PaymentState::Paid => counts.paid += 1,
            PaymentState::Failed => counts.failed += 1,
            PaymentState::Reversed => counts.reversed += 1,
            _ => {}
        }
        let (code, reason) = match &l.outcome {
            Outcome::Paid => (String::new(), String::new()),
            Outcome::Failed { code, reason } | Outcome::Reversed { code, reason } => {
                (code.clone(), reason.clone())
            }
        };
        match slot {
            // Paid then reversed in one file: one update from the stored state.
            Some(i) => {
                let u = &mut updates[i];
                u.to = to;
                u.reason_code = code;
                u.reason = reason;
                u.booked_on = l.booked_on.or(u.booked_on);
                now.insert(id, (to, i));
            }
            None => {
                updates.push(PaymentUpdate {
                    id,
                    from: p.state,
                    to,
                    reason_code: code,
                    reason,
                    booked_on: l.booked_on,
                });
                now.insert(id, (to, updates.len() - 1));
            }
        }
    }
    Ok((updates, counts))
}

/// Centimes as MAD with two decimals.
pub fn mad(centimes: i64) -> String {
    let sign = if centimes < 0 { "-" } else { "" };
    let c = centimes.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// How many lines of an answer did what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileCounts {
    pub paid: u64,
    pub failed: u64,
    pub reversed: u64,
    pub unchanged: u64,
}

/// An answer file to record with its updates.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReconciliation {
    pub file_sha256: String,
    pub file_name: String,
    pub format: String,
    pub lines: u64,
    pub counts: ReconcileCounts,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AdhesionState {
    Pending,
    Sent,
    Accepted,
    Rejected,
}

impl AdhesionState {
    pub const ALL: [AdhesionState; 4] = [
        AdhesionState::Pending,
        AdhesionState::Sent,
        AdhesionState::Accepted,
        AdhesionState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdhesionState::Pending => "pending",
            AdhesionState::Sent => "sent",
            AdhesionState::Accepted => "accepted",
            AdhesionState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<AdhesionState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A file of adhesions sent to the insurer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdhesionBatch {
    pub id: i64,
    pub programme_code: String,
    pub state: BatchState,
    pub adhesions: u64,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub exported_at: Option<OffsetDateTime>,
    pub file_sha256: Option<String>,
}

/// One person's adhesion, with what the file needs of the person.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Adhesion {
    pub id: i64,
    pub programme_code: String,
    pub household_id: HouseholdId,
    pub person_id: PersonId,
    pub batch_id: i64,
    pub attempt: u32,
    pub state: AdhesionState,
    pub insurer_number: String,
    pub reason_code: String,
    pub reason: String,
    #[serde(skip)]
    pub family_name: String,
    #[serde(skip)]
    pub given_name: String,
    #[serde(skip)]
    #[schema(value_type = String, format = Date)]
    pub birth_date: Date,
    #[serde(skip)]
    pub sex: String,
    #[serde(skip)]
    pub relation: String,
}

/// The id an adhesion travels under.
pub fn adhesion_ref(id: i64) -> String {
    format!("SANAD-A{id}")
}

pub fn adhesion_of(reference: &str) -> Option<i64> {
    let n = reference.strip_prefix("SANAD-A")?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0')
    {
        return None;
    }
    n.parse().ok()
}

/// An adhesion's new state, written only if it is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdhesionUpdate {
    pub id: i64,
    pub from: AdhesionState,
    pub to: AdhesionState,
    pub insurer_number: String,
    pub reason_code: String,
    pub reason: String,
}

/// The insurer's answer file imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdhesionAnswerRecord {
    pub id: i64,
    pub file_sha256: String,
    pub file_name: String,
    pub lines: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub unchanged: u64,
    pub imported_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub imported_at: OffsetDateTime,
}

#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Records (or replaces) how a household is paid.
    async fn set_payment_means(
        &self,
        means: &MeansRecord,
        change: &Change,
    ) -> Result<(), StoreError>;

    async fn payment_means(
        &self,
        household: HouseholdId,
    ) -> Result<Option<MeansRecord>, StoreError>;

    /// Records the means of many households in one transaction (a file from a bank or the
    /// registry's own import); a household that does not exist fails the whole lot. Returns how
    /// many were written.
    async fn import_payment_means(
        &self,
        rows: &[MeansRecord],
        change: &Change,
    ) -> Result<u64, StoreError>;

    /// Enrolled beneficiaries of a programme in the households after `after` up to `upto`
    /// (included), in household and person order.
    async fn cycle_inputs(
        &self,
        programme_code: &str,
        after: Option<HouseholdId>,
        upto: HouseholdId,
    ) -> Result<Vec<CycleInput>, StoreError>;

    /// Starts a cycle, or returns the one of the same programme and period that is still
    /// computing (to resume it); any other cycle of that period is a conflict.
    async fn start_cycle(&self, cycle: &NewCycle, change: &Change) -> Result<Cycle, StoreError>;

    /// Writes a batch of entitlements of a computing cycle and advances it to `last`, in one
    /// transaction; an entitlement already written is left as it is. Returns how many were new.
    async fn record_entitlements(
        &self,
        cycle: i64,
        rows: &[Entitlement],
        last: HouseholdId,
        skipped: u64,
    ) -> Result<u64, StoreError>;

    /// Closes the computation: totals from the entitlements, refused (and left computing) when
    /// they exceed the cap.
    async fn finish_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError>;

    /// A second manager's approval: refused for the manager who prepared it.
    async fn approve_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError>;

    /// Stops a cycle that is not approved.
    async fn cancel_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError>;

    async fn cycle(&self, id: i64) -> Result<Option<Cycle>, StoreError>;

    async fn cycles(&self, programme_code: Option<&str>) -> Result<Vec<Cycle>, StoreError>;

    async fn entitlements(
        &self,
        filter: &EntitlementFilter,
    ) -> Result<Vec<Entitlement>, StoreError>;

    /// Puts every entitlement of an approved cycle that is owed, paid by `kind` and not already
    /// being paid into a new batch, in one transaction; returns the batch of that kind still open
    /// when there is one (its file was not handed over), none when there is nothing to pay.
    async fn open_batch(
        &self,
        cycle: i64,
        kind: &str,
        change: &Change,
    ) -> Result<Option<Batch>, StoreError>;

    async fn batch(&self, id: i64) -> Result<Option<Batch>, StoreError>;

    async fn batches(&self, cycle: i64) -> Result<Vec<Batch>, StoreError>;

    /// A batch's payments after payment `after`, in id order.
    async fn batch_payments(
        &self,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError>;

    /// Records that the batch's file (of that SHA-256) was handed over: its payments are sent.
    /// Again with the same file is a no-op; with another, a conflict.
    async fn mark_exported(
        &self,
        batch: i64,
        file_sha256: &str,
        change: &Change,
    ) -> Result<Batch, StoreError>;

    async fn payments(&self, filter: &PaymentFilter) -> Result<Vec<Payment>, StoreError>;

    /// The state and amount of the payments named (unknown ids are left out).
    async fn payment_checks(&self, ids: &[i64]) -> Result<Vec<PaymentCheck>, StoreError>;

    async fn reconciliation(&self, file_sha256: &str)
    -> Result<Option<Reconciliation>, StoreError>;

    /// Records an answer file and applies its updates in one transaction. A payment no longer in
    /// the state its update starts from (another answer got there first) fails the whole file as
    /// a conflict; the same file twice is a conflict too (the caller checks it first).
    async fn record_reconciliation(
        &self,
        file: &NewReconciliation,
        updates: &[PaymentUpdate],
        change: &Change,
    ) -> Result<Reconciliation, StoreError>;

    /// Puts every person enrolled in a programme without a live adhesion into a new adhesion
    /// batch (or returns the open one).
    async fn open_adhesion_batch(
        &self,
        programme_code: &str,
        change: &Change,
    ) -> Result<Option<AdhesionBatch>, StoreError>;

    async fn adhesion_batches(
        &self,
        programme_code: &str,
    ) -> Result<Vec<AdhesionBatch>, StoreError>;

    async fn adhesion_lines(
        &self,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Adhesion>, StoreError>;

    async fn mark_adhesions_exported(
        &self,
        batch: i64,
        file_sha256: &str,
        change: &Change,
    ) -> Result<AdhesionBatch, StoreError>;

    async fn adhesion_checks(&self, ids: &[i64]) -> Result<Vec<(i64, AdhesionState)>, StoreError>;

    async fn adhesion_answer(
        &self,
        file_sha256: &str,
    ) -> Result<Option<AdhesionAnswerRecord>, StoreError>;

    async fn record_adhesion_answer(
        &self,
        file_sha256: &str,
        file_name: &str,
        lines: u64,
        updates: &[AdhesionUpdate],
        unchanged: u64,
        change: &Change,
    ) -> Result<AdhesionAnswerRecord, StoreError>;

    async fn adhesions(
        &self,
        programme_code: &str,
        household: Option<HouseholdId>,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Adhesion>, StoreError>;
}

/// The audit entry of a step of a cycle or a batch.
pub fn payment_entry(
    actor: &str,
    action: &str,
    entity_type: &str,
    entity_id: String,
    details: serde_json::Value,
) -> sanad_domain::audit::AuditEntry {
    sanad_domain::audit::AuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        entity_type: entity_type.to_string(),
        entity_id,
        details: details.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn line(n: u64, id: i64, amount: i64, outcome: Outcome) -> AnswerItem {
        AnswerItem {
            line: n,
            end_to_end_id: end_to_end_id(id),
            amount,
            outcome,
            booked_on: None,
        }
    }

    fn current(list: &[(i64, PaymentState, i64)]) -> HashMap<i64, PaymentCheck> {
        list.iter()
            .map(|&(id, state, amount)| (id, PaymentCheck { id, state, amount }))
            .collect()
    }

    fn failed() -> Outcome {
        Outcome::Failed {
            code: "AC04".into(),
            reason: "closed account".into(),
        }
    }

    #[test]
    fn end_to_end_ids_round_trip_and_refuse_what_we_never_issued() {
        assert_eq!(payment_of(&end_to_end_id(42)), Some(42));
        for bad in [
            "SANAD-",
            "SANAD-0",
            "SANAD-012",
            "SANAD-1x",
            "OTHER-5",
            "SANAD--1",
        ] {
            assert_eq!(payment_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_paid_then_reversed_payment_in_one_file_is_one_update_ending_reversed() {
        let now = current(&[(1, PaymentState::Sent, 50_000)]);
        let reversed = Outcome::Reversed {
            code: "MD06".into(),
            reason: "returned".into(),
        };
        let (updates, counts) = plan_reconciliation(
            &[
                line(1, 1, 50_000, Outcome::Paid),
                line(2, 1, 50_000, reversed),
            ],
            &now,
        )
        .expect("valid");
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].from, PaymentState::Sent);
        assert_eq!(updates[0].to, PaymentState::Reversed);
        assert_eq!((counts.paid, counts.reversed), (1, 1));
    }

    #[test]
    fn an_unknown_payment_and_a_wrong_amount_are_named_by_line() {
        let now = current(&[(1, PaymentState::Sent, 50_000)]);
        let e = plan_reconciliation(&[line(7, 2, 50_000, Outcome::Paid)], &now).unwrap_err();
        assert_eq!((e.line, e.field), (7, "end_to_end_id"));
        let e = plan_reconciliation(&[line(3, 1, 49_999, Outcome::Paid)], &now).unwrap_err();
        assert_eq!((e.line, e.field), (3, "amount"));
        assert!(e.message.contains("500.00"), "{e}");
    }

    #[test]
    fn an_answer_repeated_changes_nothing_and_a_contradiction_is_refused() {
        let now = current(&[(1, PaymentState::Paid, 100), (2, PaymentState::Sent, 100)]);
        let (updates, counts) =
            plan_reconciliation(&[line(1, 1, 100, Outcome::Paid)], &now).expect("valid");
        assert!(updates.is_empty());
        assert_eq!(counts.unchanged, 1);
        let e = plan_reconciliation(&[line(1, 1, 100, failed())], &now).unwrap_err();
        assert_eq!(e.field, "status");
        let e = plan_reconciliation(
            &[line(1, 2, 100, Outcome::Paid), line(2, 2, 100, failed())],
            &now,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn a_payment_never_exported_cannot_be_answered() {
        let now = current(&[(1, PaymentState::Pending, 100)]);
        assert!(plan_reconciliation(&[line(1, 1, 100, Outcome::Paid)], &now).is_err());
    }
}
