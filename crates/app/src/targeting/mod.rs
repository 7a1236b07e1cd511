//! Targeting and programmes: the ports they need and the records they keep.
//!
//! Two ports, implemented by both backends and checked by their own contract suite:
//! [`TargetingStore`] keeps index models, the score of every household and the progress of a
//! rescoring run; [`ProgrammeStore`] keeps programme definitions and enrolments with their
//! history. Neither grows [`crate::RegistryStore`].
//!
//! A household is assessed (scored, then checked against every programme) by an [`Assessor`]: pure
//! code behind a trait object that the backends call inside the transaction of every household
//! write, so a registration and its score and enrolment changes commit together or not at all.
//! The transitions of enrolments are decided here by [`plan_enrolments`], also pure, and written
//! by the backends.

pub mod engine;
pub mod service;

pub use service::Targeting;

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use sanad_domain::{Amount, Area, HouseholdFacts, HouseholdId, PersonId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::store::{Change, StoreError};

/// An index model as the store keeps it: its definition (TOML) is the source of truth.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    pub id: String,
    pub version: u32,
    pub description: String,
    /// The model file (TOML), as imported.
    pub definition: String,
    /// The model's variable codes, in the order of the effects stored with each score.
    pub variables: Vec<String>,
    pub imported_by: String,
    pub imported_at: OffsetDateTime,
    /// When it became the active model; none for a model never activated.
    pub activated_at: Option<OffsetDateTime>,
    pub active: bool,
}

/// One variable's part in an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContributionRecord {
    /// Stable code of the variable (`rooms_per_person`); borrowed from the model's catalogue when
    /// scored, so that rescoring millions of households allocates no names.
    #[schema(value_type = String)]
    pub variable: std::borrow::Cow<'static, str>,
    /// The household's value of the variable.
    pub value: f64,
    /// What it adds to (or, negative, takes from) the index, against the segment's average household.
    pub effect: f64,
}

/// A household's index under one model version, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreRecord {
    pub model_id: String,
    pub model_version: u32,
    /// Predicted logarithm of annual consumption per person, MAD.
    pub index: f64,
    /// The index of the segment's average household; `index = baseline + Σ effects`.
    pub baseline: f64,
    /// The coefficient set used (region and area).
    pub segment: String,
    pub contributions: Vec<ContributionRecord>,
}

/// A score as stored: for which version of the household, when.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScore {
    pub household_id: HouseholdId,
    pub household_version: u32,
    pub score: ScoreRecord,
    pub scored_at: OffsetDateTime,
}

/// Whether a household (or, for a programme paid per person, which members) meets a programme's
/// conditions, and what it would receive.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub programme_code: String,
    pub programme_version: u32,
    pub eligible: bool,
    /// The message key of the first condition that failed; empty when eligible.
    pub reason: String,
    /// For a programme whose unit is the person: the members who qualify. `None` for a programme
    /// whose unit is the household.
    pub beneficiaries: Option<Vec<PersonId>>,
    /// Per period; zero for a programme that pays no cash.
    pub amount: Amount,
    /// Signals for follow-up (`drop_out`).
    pub flags: Vec<String>,
}

/// What the assessor says about a household on a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub score: Option<ScoreRecord>,
    pub decisions: Vec<Decision>,
}

/// Scores a household and checks it against every programme. Pure: the backends call it inside
/// the transaction of a household write, and rescoring calls it on batches.
pub trait Assessor: Send + Sync {
    fn assess(&self, facts: &HouseholdFacts, on: Date) -> Assessment;
    /// The model (id, version) it scores with, if any.
    fn model(&self) -> Option<(String, u32)>;
    /// The programmes (code, version) it checks.
    fn programmes(&self) -> Vec<(String, u32)>;
}

/// Where a backend finds the assessor to call on every household write; replaced when a model is
/// activated or a programme defined.
#[derive(Default, Clone)]
pub struct AssessorSlot(Arc<RwLock<Option<Arc<dyn Assessor>>>>);

impl std::fmt::Debug for AssessorSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AssessorSlot(..)")
    }
}

impl AssessorSlot {
    pub fn set(&self, assessor: Option<Arc<dyn Assessor>>) {
        // A poisoned lock only means a panic elsewhere while replacing it; the value is whole.
        let mut slot = self.0.write().unwrap_or_else(|p| p.into_inner());
        *slot = assessor;
    }

    pub fn get(&self) -> Option<Arc<dyn Assessor>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
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
pub enum EnrolmentState {
    /// Meets the conditions; not yet enrolled.
    Eligible,
    Enrolled,
    /// Enrolled, paused by a manager.
    Suspended,
    /// No longer in the programme (no longer eligible, or taken out by a manager).
    Exited,
}

impl EnrolmentState {
    pub const ALL: [EnrolmentState; 4] = [
        EnrolmentState::Eligible,
        EnrolmentState::Enrolled,
        EnrolmentState::Suspended,
        EnrolmentState::Exited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentState::Eligible => "eligible",
            EnrolmentState::Enrolled => "enrolled",
            EnrolmentState::Suspended => "suspended",
            EnrolmentState::Exited => "exited",
        }
    }

    pub fn parse(text: &str) -> Option<EnrolmentState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a manager may move an enrolment from this state to `to`.
    pub fn manual_allowed(self, to: EnrolmentState) -> bool {
        use EnrolmentState::*;
        matches!(
            (self, to),
            (Eligible, Enrolled)
                | (Enrolled, Suspended)
                | (Suspended, Enrolled)
                | (Eligible | Enrolled | Suspended, Exited)
        )
    }
}

impl std::fmt::Display for EnrolmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The place of a household or person in a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub programme_code: String,
    pub household_id: HouseholdId,
    /// Set for a programme whose unit is the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    pub state: EnrolmentState,
    /// Why it is in this state: `eligible`, a condition's message key, or a manager's reason.
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    /// The household version and programme version of the last evaluation.
    pub household_version: u32,
    pub programme_version: u32,
    /// Per period, at the last evaluation.
    pub amount: Amount,
    pub flags: Vec<String>,
}

/// One step in an enrolment's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrolmentEvent {
    pub programme_code: String,
    pub household_id: HouseholdId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    pub from: Option<EnrolmentState>,
    pub to: EnrolmentState,
    pub reason: String,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub household_version: u32,
}

/// A write to one enrolment that an assessment calls for.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentChange {
    pub programme_code: String,
    pub person_id: Option<PersonId>,
    /// The state before; none for a first enrolment row.
    pub from: Option<EnrolmentState>,
    pub to: EnrolmentState,
    pub reason: String,
    pub programme_version: u32,
    pub amount: Amount,
    pub flags: Vec<String>,
}

impl EnrolmentChange {
    /// A change of state (recorded in the history), as opposed to a new amount or flags only.
    pub fn is_transition(&self) -> bool {
        self.from != Some(self.to)
    }
}

/// Reason recorded when a person leaves a household and so a programme paid per person.
pub const LEFT_HOUSEHOLD: &str = "left-household";
/// Reason recorded when a household or person meets a programme's conditions.
pub const ELIGIBLE: &str = "eligible";

/// The enrolment writes that follow from an assessment, given the household's current enrolments.
/// A household or person who becomes eligible gets an `eligible` row; one who stops being eligible
/// leaves (`exited`, with the failed condition as the reason) whatever its state; an enrolment whose
/// state holds gets its amount and flags refreshed when they changed. Never-eligible households get
/// no row. Programmes the assessment does not mention are left alone.
pub fn plan_enrolments(decisions: &[Decision], current: &[Enrolment]) -> Vec<EnrolmentChange> {
    let mut out = Vec::new();
    for d in decisions {
        let rows: Vec<&Enrolment> = current
            .iter()
            .filter(|e| e.programme_code == d.programme_code)
            .collect();
        let mut keys: Vec<Option<PersonId>> = match &d.beneficiaries {
            None => vec![None],
            Some(persons) => persons.iter().copied().map(Some).collect(),
        };
        for e in &rows {
            if !keys.contains(&e.person_id) {
                keys.push(e.person_id);
            }
        }
        for key in keys {
            let now = rows.iter().find(|e| e.person_id == key);
            let qualifies = d.eligible
                && match (&d.beneficiaries, key) {
                    (None, None) => true,
                    (Some(persons), Some(p)) => persons.contains(&p),
                    _ => false,
                };
            let reason_out = if d.eligible && key.is_some() {
                LEFT_HOUSEHOLD.to_string()
            } else {
                d.reason.clone()
            };
            let change = |to: EnrolmentState, reason: String| EnrolmentChange {
                programme_code: d.programme_code.clone(),
                person_id: key,
                from: now.map(|e| e.state),
                to,
                reason,
                programme_version: d.programme_version,
                amount: d.amount,
                flags: d.flags.clone(),
            };
            match (now.map(|e| e.state), qualifies) {
                (None, true) | (Some(EnrolmentState::Exited), true) => {
                    out.push(change(EnrolmentState::Eligible, ELIGIBLE.into()))
                }
                (Some(state), true) => {
                    let e = now.map(|e| (e.amount, &e.flags));
                    if e != Some((d.amount, &d.flags))
                        || now.map(|e| e.programme_version) != Some(d.programme_version)
                    {
                        let reason = now.map(|e| e.reason.clone()).unwrap_or_default();
                        out.push(change(state, reason));
                    }
                }
                (Some(state), false) if state != EnrolmentState::Exited => {
                    out.push(change(EnrolmentState::Exited, reason_out))
                }
                _ => {}
            }
        }
    }
    out
}

/// A household read for rescoring: its facts and the version they are of.
#[derive(Debug, Clone)]
pub struct FactsRow {
    pub household_id: HouseholdId,
    pub version: u32,
    pub commune_code: String,
    pub facts: HouseholdFacts,
}

/// A household assessed by a batch job, to be recorded if it is still at `version`.
#[derive(Debug, Clone)]
pub struct Assessed {
    pub household_id: HouseholdId,
    pub version: u32,
    pub assessment: Assessment,
}

/// Applies `assess` to every item on every core, keeping their order: rescoring and imports
/// assess their batches with it.
pub fn assess_all<T: Sync>(items: &[T], assess: impl Fn(&T) -> Assessed + Sync) -> Vec<Assessed> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let assess = &assess;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(assess).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Scores and checks households held in memory (an import's batch), as of `on`.
pub fn assess_households(
    assessor: &dyn Assessor,
    households: &[sanad_domain::Household],
    on: Date,
) -> Vec<Assessed> {
    assess_all(households, |h| Assessed {
        household_id: h.id,
        version: h.version,
        assessment: assessor.assess(&HouseholdFacts::of(h, on), on),
    })
}

/// What recording a batch of assessments did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    pub scored: u64,
    /// Households changed since they were read (their write assessed them, perhaps in another
    /// process with the engine in force before): not recorded.
    pub stale: u64,
    /// Which households those are, so that a rescoring can assess them again.
    pub stale_households: Vec<HouseholdId>,
    /// State changes of enrolments.
    pub transitions: u64,
}

/// A rescoring run, resumable after an interruption: it records the last household it finished
/// in the transaction of each batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RescoreRun {
    pub id: i64,
    pub model_id: Option<String>,
    pub model_version: Option<u32>,
    /// The programmes (code@version, sorted) it checks.
    pub programmes: String,
    pub started_at: OffsetDateTime,
    pub last_household: Option<HouseholdId>,
    pub finished_at: Option<OffsetDateTime>,
    pub scored: u64,
    pub transitions: u64,
}

/// A scored household for the evaluation of targeting errors.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub household_id: HouseholdId,
    pub region_code: String,
    pub area: Area,
    pub index: f64,
}

#[async_trait]
pub trait TargetingStore: Send + Sync + 'static {
    /// The assessor called inside every household write of this store (none: households are
    /// written without a score).
    fn assessor_slot(&self) -> &AssessorSlot;

    /// Records a model version. The same (id, version) with the same definition again is a no-op;
    /// with another definition, a conflict (a published version never changes).
    async fn import_model(&self, model: &ModelRecord, change: &Change) -> Result<bool, StoreError>;

    async fn models(&self) -> Result<Vec<ModelRecord>, StoreError>;

    async fn model(&self, id: &str, version: u32) -> Result<Option<ModelRecord>, StoreError>;

    async fn active_model(&self) -> Result<Option<ModelRecord>, StoreError>;

    /// Makes this version the one every household is scored with (the previous one stays, inactive).
    async fn activate_model(
        &self,
        id: &str,
        version: u32,
        change: &Change,
    ) -> Result<(), StoreError>;

    async fn household_score(&self, id: HouseholdId) -> Result<Option<StoredScore>, StoreError>;

    /// The households written (registered, changed, imported) at or after `since`, in id order.
    async fn households_changed_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<HouseholdId>, StoreError>;

    /// Up to `limit` households after `after`, in id order, with their facts on date `on`.
    async fn facts_batch(
        &self,
        after: Option<HouseholdId>,
        limit: u32,
        on: Date,
    ) -> Result<Vec<FactsRow>, StoreError>;

    /// Records the scores and enrolment changes of a batch, in one transaction, skipping households
    /// changed since they were read; when `run` is given, also advances that run to the batch's last
    /// household.
    async fn record_assessments(
        &self,
        batch: Vec<Assessed>,
        run: Option<i64>,
        change: &Change,
    ) -> Result<RecordOutcome, StoreError>;

    /// Starts a rescoring run, or returns the unfinished one with the same model and programmes.
    async fn start_rescore(
        &self,
        model: Option<(&str, u32)>,
        programmes: &str,
        restart: bool,
        at: OffsetDateTime,
    ) -> Result<RescoreRun, StoreError>;

    async fn finish_rescore(&self, run: i64, at: OffsetDateTime) -> Result<RescoreRun, StoreError>;

    /// Scored households after `after`, in id order, for evaluation.
    async fn index_rows(
        &self,
        after: Option<HouseholdId>,
        limit: u32,
    ) -> Result<Vec<IndexRow>, StoreError>;
}

/// A programme definition as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgrammeRecord {
    pub code: String,
    pub version: u32,
    /// The programme file (TOML), as defined.
    pub definition: String,
    pub defined_by: String,
    pub defined_at: OffsetDateTime,
}

/// Which enrolments to list.
#[derive(Debug, Clone, Default)]
pub struct EnrolmentFilter {
    pub programme_code: Option<String>,
    pub state: Option<EnrolmentState>,
    /// Region, province or commune codes (empty = everywhere).
    pub territories: Vec<String>,
    pub household_id: Option<HouseholdId>,
    /// Keyset paging on (household id, person id).
    pub after: Option<(HouseholdId, Option<PersonId>)>,
    pub limit: u32,
}

/// Enrolments counted by programme, region, area and state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrolmentCount {
    pub programme_code: String,
    pub region_code: String,
    pub area: Area,
    pub state: EnrolmentState,
    /// Enrolment rows (households, or persons for a programme paid per person).
    pub count: u64,
    /// Sum of the amounts per period.
    pub amount: Amount,
}

#[async_trait]
pub trait ProgrammeStore: Send + Sync + 'static {
    /// Records a new version of a programme (the latest version is the one in force). The same
    /// definition again is a no-op returning false.
    async fn define_programme(
        &self,
        programme: &ProgrammeRecord,
        change: &Change,
    ) -> Result<bool, StoreError>;

    /// The latest version of every programme.
    async fn programmes(&self) -> Result<Vec<ProgrammeRecord>, StoreError>;

    /// A version of a programme (the latest when `version` is none).
    async fn programme(
        &self,
        code: &str,
        version: Option<u32>,
    ) -> Result<Option<ProgrammeRecord>, StoreError>;

    async fn enrolments(&self, filter: &EnrolmentFilter) -> Result<Vec<Enrolment>, StoreError>;

    async fn enrolment_history(
        &self,
        household: HouseholdId,
    ) -> Result<Vec<EnrolmentEvent>, StoreError>;

    /// A manager's move of one enrolment (enrol, suspend, resume, exit), refused as a conflict when
    /// the enrolment is not in a state that allows it.
    async fn change_enrolment(
        &self,
        programme_code: &str,
        household: HouseholdId,
        person: Option<PersonId>,
        to: EnrolmentState,
        reason: &str,
        change: &Change,
    ) -> Result<Enrolment, StoreError>;

    /// Enrols every eligible household (or person) of a programme inside the territories (empty =
    /// everywhere), in one transaction; returns how many.
    async fn enrol_eligible(
        &self,
        programme_code: &str,
        territories: &[String],
        change: &Change,
    ) -> Result<u64, StoreError>;

    async fn enrolment_counts(
        &self,
        programme_code: Option<&str>,
    ) -> Result<Vec<EnrolmentCount>, StoreError>;
}

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The audit entry of enrolment state changes. One change is written out in full; a batch is
/// summarised by its count per programme and state, and by the SHA-256 of its lines (household,
/// person, programme, from, to, reason, one per line in order), which the enrolment history
/// reproduces: an enrolment forged in the table does not match the digest in the log.
pub fn enrolment_entry(
    actor: &str,
    changes: &[(HouseholdId, &EnrolmentChange)],
    batch: bool,
) -> sanad_domain::audit::AuditEntry {
    let line = |h: &HouseholdId, c: &EnrolmentChange| {
        format!(
            "{h}\t{}\t{}\t{}\t{}\t{}",
            c.person_id.map(|p| p.to_string()).unwrap_or_default(),
            c.programme_code,
            c.from.map(|s| s.as_str()).unwrap_or(""),
            c.to,
            c.reason
        )
    };
    let (entity_type, entity_id) = match changes {
        [(h, _), rest @ ..] if !batch && rest.iter().all(|(o, _)| o == h) => {
            ("household", h.to_string())
        }
        _ => ("enrolment_batch", String::new()),
    };
    let details = if !batch && changes.len() <= 16 {
        let lines: Vec<serde_json::Value> = changes
            .iter()
            .map(|(_, c)| {
                serde_json::json!({
                    "programme": c.programme_code,
                    "person": c.person_id.map(|p| p.to_string()),
                    "from": c.from.map(|s| s.as_str()),
                    "to": c.to.as_str(),
                    "reason": c.reason,
                })
            })
            .collect();
        serde_json::json!({ "changes": lines })
    } else {
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        let mut text = String::new();
        for (h, c) in changes {
            *counts
                .entry(format!("{}:{}", c.programme_code, c.to))
                .or_default() += 1;
            text.push_str(&line(h, c));
            text.push('\n');
        }
        serde_json::json!({
            "count": changes.len(),
            "by_programme_state": counts,
            "sha256": sha256_hex(text.as_bytes()),
        })
    };
    sanad_domain::audit::AuditEntry {
        actor: actor.to_string(),
        action: "enrolment.change".into(),
        entity_type: entity_type.into(),
        entity_id,
        details: details.to_string(),
    }
}

/// The audit entry of a model's import or activation.
pub fn model_entry(
    actor: &str,
    action: &str,
    model: &ModelRecord,
    reason: &str,
) -> sanad_domain::audit::AuditEntry {
    sanad_domain::audit::AuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        entity_type: "pmt_model".into(),
        entity_id: format!("{}@{}", model.id, model.version),
        details: serde_json::json!({
            "reason": reason,
            "definition_sha256": sha256_hex(model.definition.as_bytes()),
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(eligible: bool, reason: &str, persons: Option<Vec<u64>>) -> Decision {
        Decision {
            programme_code: "P".into(),
            programme_version: 1,
            eligible,
            reason: reason.into(),
            beneficiaries: persons.map(|p| {
                p.into_iter()
                    .filter_map(PersonId::from_serial)
                    .collect::<Vec<_>>()
            }),
            amount: Amount::from_centimes(50_000).unwrap_or(Amount::ZERO),
            flags: Vec::new(),
        }
    }

    fn row(state: EnrolmentState, person: Option<u64>) -> Enrolment {
        Enrolment {
            programme_code: "P".into(),
            household_id: HouseholdId::from_serial(1).expect("id"),
            person_id: person.and_then(PersonId::from_serial),
            state,
            reason: "eligible".into(),
            since: OffsetDateTime::UNIX_EPOCH,
            household_version: 1,
            programme_version: 1,
            amount: Amount::from_centimes(50_000).unwrap_or(Amount::ZERO),
            flags: Vec::new(),
        }
    }

    #[test]
    fn a_household_that_becomes_eligible_gets_an_eligible_row() {
        let plan = plan_enrolments(&[decision(true, "", None)], &[]);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].to, EnrolmentState::Eligible);
        assert_eq!(plan[0].from, None);
        assert!(plan[0].is_transition());
    }

    #[test]
    fn a_household_never_eligible_gets_no_row() {
        assert!(plan_enrolments(&[decision(false, "index-above", None)], &[]).is_empty());
    }

    #[test]
    fn an_enrolled_household_that_is_no_longer_eligible_exits_with_the_reason() {
        let plan = plan_enrolments(
            &[decision(false, "index-above", None)],
            &[row(EnrolmentState::Enrolled, None)],
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].from, Some(EnrolmentState::Enrolled));
        assert_eq!(plan[0].to, EnrolmentState::Exited);
        assert_eq!(plan[0].reason, "index-above");
    }

    #[test]
    fn an_unchanged_enrolment_writes_nothing() {
        let plan = plan_enrolments(
            &[decision(true, "", None)],
            &[row(EnrolmentState::Enrolled, None)],
        );
        assert!(plan.is_empty());
    }

    #[test]
    fn a_person_who_left_the_household_exits_a_person_programme() {
        let plan = plan_enrolments(
            &[decision(true, "", Some(vec![2]))],
            &[
                row(EnrolmentState::Enrolled, Some(2)),
                row(EnrolmentState::Enrolled, Some(3)),
            ],
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].person_id, PersonId::from_serial(3));
        assert_eq!(plan[0].to, EnrolmentState::Exited);
        assert_eq!(plan[0].reason, LEFT_HOUSEHOLD);
    }

    #[test]
    fn an_exited_household_eligible_again_comes_back_as_eligible() {
        let plan = plan_enrolments(
            &[decision(true, "", None)],
            &[row(EnrolmentState::Exited, None)],
        );
        assert_eq!(plan[0].to, EnrolmentState::Eligible);
    }

    #[test]
    fn managers_follow_the_allowed_moves() {
        use EnrolmentState::*;
        assert!(Eligible.manual_allowed(Enrolled));
        assert!(Enrolled.manual_allowed(Suspended));
        assert!(Suspended.manual_allowed(Enrolled));
        assert!(!Exited.manual_allowed(Enrolled));
        assert!(!Eligible.manual_allowed(Suspended));
    }
}
