//! The payment use-cases: compute a cycle from the programmes' formulas, have it approved by a
//! second manager, put what is owed into batches, read the providers' answers back, and exchange
//! adhesions with the insurer. Roles and territories are checked here; every read of payments is
//! recorded in the access log, as for the registry.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sanad_domain::{HouseholdId, ValidationErrors};
use sanad_programmes::{Frequency, Unit};
use time::Date;

use super::{
    AdhesionAnswerRecord, AdhesionBatch, AdhesionState, AdhesionUpdate, AnswerItem, Batch, Cycle,
    CycleState, Entitlement, EntitlementFilter, LineError, MeansRecord, NewCycle,
    NewReconciliation, Payment, PaymentFilter, PaymentStore, Reconciliation, adhesion_of, mad,
    plan_reconciliation,
};
use crate::auth::Actor;
use crate::policy::{self, Permission};
use crate::registry::{Purpose, Registry, RegistryError, require};
use crate::store::{Progress, StoreError};
use crate::targeting::Targeting;

/// Households read per step of a cycle's computation; entitlements written per transaction.
pub const CYCLE_BATCH: u32 = 10_000;

/// The means kinds, in the order batches are made.
pub const KINDS: [&str; 3] = ["bank", "wallet", "cash"];

fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> RegistryError {
    RegistryError::Validation(ValidationErrors::one(field, code, message.into()))
}

/// An answer line that cannot be applied, as a validation error naming the line and field.
pub fn line_error(e: LineError) -> RegistryError {
    invalid(
        &format!("line {}.{}", e.line, e.field),
        "bad_answer_line",
        e.to_string(),
    )
}

/// `YYYY-MM` to the first day of that month.
pub fn parse_period(text: &str) -> Result<Date, RegistryError> {
    let bad = || {
        invalid(
            "period",
            "invalid_period",
            format!("a month as YYYY-MM (2026-01), found {text:?}"),
        )
    };
    let (y, m) = text.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, 1).map_err(|_| bad())
}

/// What computing a cycle did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CycleOutcome {
    pub cycle: Cycle,
    /// Entitlements written by this run (fewer than the cycle's when it resumed).
    pub written: u64,
    /// Enrolled beneficiaries left without an entitlement, by reason.
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// What a cycle would pay, before it is prepared.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CyclePreview {
    pub programme_code: String,
    pub period: String,
    pub entitlements: u64,
    /// In centimes.
    pub total: i64,
    pub skipped: std::collections::BTreeMap<String, u64>,
}

enum Run {
    Written(CycleOutcome),
    Preview(CyclePreview),
}

/// What reading an answer file did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReconcileOutcome {
    pub reconciliation: Reconciliation,
    /// True when this very file had been imported before: nothing was done again.
    pub already_imported: bool,
}

/// An insurer's answer on one adhesion.
#[derive(Debug, Clone, PartialEq)]
pub struct AdhesionAnswerItem {
    pub line: u64,
    pub adhesion_ref: String,
    /// Accepted with the insurer's number, or rejected with a code and reason.
    pub accepted: Result<String, (String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AdhesionAnswerOutcome {
    pub answer: AdhesionAnswerRecord,
    pub already_imported: bool,
}

/// The payments context: its port, the registry (scoping, access log) and the programmes in force.
#[derive(Clone)]
pub struct Payments {
    registry: Registry,
    targeting: Targeting,
    store: Arc<dyn PaymentStore>,
    /// Entitlements written per transaction of a cycle's computation.
    batch_rows: usize,
}

impl Payments {
    pub fn new(registry: Registry, targeting: Targeting, store: Arc<dyn PaymentStore>) -> Payments {
        Payments {
            registry,
            targeting,
            store,
            batch_rows: CYCLE_BATCH as usize,
        }
    }

    /// Writes a cycle's entitlements `rows` at a time (default [`CYCLE_BATCH`]).
    pub fn with_batch_rows(mut self, rows: usize) -> Payments {
        self.batch_rows = rows.max(1);
        self
    }

    pub fn store(&self) -> &Arc<dyn PaymentStore> {
        &self.store
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Records how a household is paid (the means is checked by the caller's format code: a RIB
    /// with a wrong key never gets here).
    pub async fn set_means(
        &self,
        actor: &Actor,
        household: HouseholdId,
        kind: &str,
        details: String,
        holder: String,
        reason: &str,
    ) -> Result<(), RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        if !KINDS.contains(&kind) {
            return Err(invalid("kind", "invalid_means", "bank, wallet or cash"));
        }
        self.registry
            .household(actor, household, &Purpose("payment means".into()))
            .await?;
        let record = MeansRecord {
            household_id: household,
            kind: kind.to_string(),
            details,
            holder,
            updated_by: change.actor.clone(),
            updated_at: change.at,
        };
        Ok(self.store.set_payment_means(&record, &change).await?)
    }

    /// Records the means of many households at once (checked by the caller), all or none.
    pub async fn import_means(
        &self,
        actor: &Actor,
        rows: &[MeansRecord],
        reason: &str,
    ) -> Result<u64, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        if !policy::scope_territories(actor, None).is_ok_and(|t| t.is_empty()) {
            return Err(RegistryError::Forbidden(Permission::ManagePayments.scope()));
        }
        Ok(self.store.import_payment_means(rows, &change).await?)
    }

    pub async fn means(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<Option<MeansRecord>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        self.registry
            .household(actor, household, &Purpose("payment means".into()))
            .await?;
        Ok(self.store.payment_means(household).await?)
    }

    /// Computes the entitlement of every enrolled beneficiary of a programme for a month, from the
    /// programme's rules and amounts on the month's first day and each household's recorded
    /// index. Everything is computed before anything is written: a cycle over its cap (given here,
    /// or the programme's) stops with the excess and leaves no trace. A cycle interrupted while
    /// writing is resumed by the same call.
    pub async fn prepare_cycle(
        &self,
        actor: &Actor,
        programme_code: &str,
        period: &str,
        budget_cap: Option<i64>,
        reason: &str,
        progress: &dyn Progress,
    ) -> Result<CycleOutcome, RegistryError> {
        match self
            .run_cycle(
                actor,
                programme_code,
                period,
                budget_cap,
                reason,
                progress,
                true,
            )
            .await?
        {
            Run::Written(out) => Ok(out),
            Run::Preview(_) => Err(RegistryError::Store(StoreError::Internal(
                "a cycle run to write wrote nothing".into(),
            ))),
        }
    }

    /// What a cycle would pay, computed as [`Payments::prepare_cycle`] does, without writing
    /// anything (no cycle is started).
    pub async fn preview_cycle(
        &self,
        actor: &Actor,
        programme_code: &str,
        period: &str,
        progress: &dyn Progress,
    ) -> Result<CyclePreview, RegistryError> {
        match self
            .run_cycle(actor, programme_code, period, None, "", progress, false)
            .await?
        {
            Run::Preview(p) => Ok(p),
            Run::Written(_) => Err(RegistryError::Store(StoreError::Internal(
                "a preview wrote a cycle".into(),
            ))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_cycle(
        &self,
        actor: &Actor,
        programme_code: &str,
        period: &str,
        budget_cap: Option<i64>,
        reason: &str,
        progress: &dyn Progress,
        write: bool,
    ) -> Result<Run, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        let period_start = parse_period(period)?;
        let engine = self.targeting.engine();
        let Some(loaded) = engine.programme(programme_code) else {
            return Err(RegistryError::Store(StoreError::NotFound));
        };
        let compiled = loaded.compiled.clone();
        let programme = compiled.programme().clone();
        if programme.frequency == Frequency::None {
            return Err(RegistryError::Store(StoreError::Conflict {
                field: "programme".into(),
                code: "no_cash",
                message: format!(
                    "a programme that pays cash: {} pays none (its members are insured through adhesions)",
                    programme.code
                ),
            }));
        }
        let cap = match budget_cap {
            Some(c) if c < 0 => {
                return Err(invalid(
                    "budget_cap",
                    "invalid_amount",
                    "a cap of zero or more",
                ));
            }
            Some(c) => Some(c),
            None => programme.budget_cap.map(|a| a.centimes()),
        };
        let existing = self
            .store
            .cycles(Some(programme_code))
            .await?
            .into_iter()
            .find(|c| c.period == period);
        let resume_after = match &existing {
            _ if !write => None,
            Some(c) if c.state == CycleState::Computing => c.last_household,
            Some(c) => {
                return Err(RegistryError::Store(StoreError::Conflict {
                    field: "period".into(),
                    code: "cycle_exists",
                    message: format!(
                        "a period without a cycle: cycle {} of {} for {} is already {}",
                        c.id,
                        programme_code,
                        period,
                        c.state.as_str()
                    ),
                }));
            }
            None => None,
        };

        // Compute everything first.
        progress.phase("compute", 0);
        let mut computed: Vec<(HouseholdId, Vec<Entitlement>, u64)> = Vec::new();
        let mut skipped: std::collections::BTreeMap<String, u64> = Default::default();
        let mut total: i64 = 0;
        let mut after = resume_after;
        let mut households = 0u64;
        let (mut read_t, mut decide_t) = (Duration::ZERO, Duration::ZERO);
        let facts_store = self.targeting.store();
        let mut facts = facts_store
            .facts_batch(after, CYCLE_BATCH, period_start)
            .await?;
        while let Some(last) = facts.last().map(|f| f.household_id) {
            // The next step's facts are read while this step's enrolments are (on SQLite, on
            // another connection; on PostgreSQL, another pooled connection).
            let t = Instant::now();
            let (inputs, next) = tokio::join!(
                self.store.cycle_inputs(programme_code, after, last),
                facts_store.facts_batch(Some(last), CYCLE_BATCH, period_start),
            );
            let (inputs, next) = (inputs?, next?);
            read_t += t.elapsed();
            let t = Instant::now();
            let mut by_household: HashMap<HouseholdId, Vec<&super::CycleInput>> = HashMap::new();
            for i in &inputs {
                by_household.entry(i.household_id).or_default().push(i);
            }
            for f in &facts {
                let Some(rows) = by_household.get(&f.household_id) else {
                    continue;
                };
                let mut skip =
                    |why: &str, n: u64| *skipped.entry(why.to_string()).or_default() += n;
                let n = rows.len() as u64;
                let index = match rows[0].index {
                    Some((index, v))
                        if v == f.version && rows[0].household_version == f.version =>
                    {
                        index
                    }
                    Some(_) => {
                        skip("score-not-current", n);
                        computed.push((f.household_id, Vec::new(), n));
                        continue;
                    }
                    None => {
                        skip("household-not-scored", n);
                        computed.push((f.household_id, Vec::new(), n));
                        continue;
                    }
                };
                let decision = compiled.decide(&f.facts, Some(index), period_start);
                if !decision.eligible {
                    let key = decision
                        .failed
                        .as_ref()
                        .map(|x| x.message_key.clone())
                        .unwrap_or_else(|| "not-eligible".into());
                    skip(&key, n);
                    computed.push((f.household_id, Vec::new(), n));
                    continue;
                }
                let mut owed = Vec::new();
                let mut left = 0u64;
                for r in rows {
                    let amount = match (programme.unit, r.person_id) {
                        (Unit::Household, None) => decision.amount.centimes(),
                        (Unit::Person, Some(p)) => {
                            let position =
                                f.facts.members.iter().position(|m| m.person_id == Some(p));
                            match position {
                                Some(i) if decision.beneficiaries.contains(&i) => decision
                                    .lines
                                    .iter()
                                    .filter(|l| l.member == Some(i))
                                    .map(|l| l.amount.centimes())
                                    .sum(),
                                _ => 0,
                            }
                        }
                        _ => 0,
                    };
                    if amount <= 0 {
                        left += 1;
                        continue;
                    }
                    total = total.saturating_add(amount);
                    owed.push(Entitlement {
                        cycle_id: 0,
                        household_id: f.household_id,
                        person_id: r.person_id,
                        household_version: f.version,
                        index: Some(index),
                        amount,
                    });
                }
                if left > 0 {
                    skip("no-amount", left);
                }
                computed.push((f.household_id, owed, left));
            }
            decide_t += t.elapsed();
            households += facts.len() as u64;
            progress.advance(households);
            after = Some(last);
            facts = next;
        }
        if !write {
            return Ok(Run::Preview(CyclePreview {
                programme_code: programme.code.clone(),
                period: period.to_string(),
                entitlements: computed.iter().map(|(_, e, _)| e.len() as u64).sum(),
                total,
                skipped,
            }));
        }
        if resume_after.is_none()
            && let Some(cap) = cap
            && total > cap
        {
            return Err(RegistryError::Store(StoreError::Conflict {
                field: "budget_cap".into(),
                code: "over_budget",
                message: format!(
                    "a total within the cap of {} MAD: the cycle would come to {} MAD, {} MAD over; nothing was written",
                    mad(cap),
                    mad(total),
                    mad(total - cap)
                ),
            }));
        }

        // Then write, resumably.
        let write_t = Instant::now();
        let cycle = self
            .store
            .start_cycle(
                &NewCycle {
                    programme_code: programme.code.clone(),
                    programme_version: programme.version,
                    period: period.to_string(),
                    period_start,
                    budget_cap: cap,
                },
                &change,
            )
            .await?;
        progress.phase("write", computed.len() as u64);
        let mut written = 0u64;
        let mut rows: Vec<Entitlement> = Vec::new();
        let mut pending_skipped = 0u64;
        let mut done = 0u64;
        let count = computed.len();
        for (i, (household, owed, left)) in computed.into_iter().enumerate() {
            rows.extend(owed.into_iter().map(|mut e| {
                e.cycle_id = cycle.id;
                e
            }));
            pending_skipped += left;
            done += 1;
            if rows.len() >= self.batch_rows || i + 1 == count {
                written += self
                    .store
                    .record_entitlements(cycle.id, &rows, household, pending_skipped)
                    .await?;
                crate::faults::point("cycle.write");
                rows.clear();
                pending_skipped = 0;
                progress.advance(done);
            }
        }
        let write_t = write_t.elapsed();
        let t = Instant::now();
        let cycle = self.store.finish_cycle(cycle.id, &change).await?;
        tracing::debug!(
            cycle.read_ms = read_t.as_millis() as u64,
            cycle.decide_ms = decide_t.as_millis() as u64,
            cycle.write_ms = write_t.as_millis() as u64,
            cycle.finish_ms = t.elapsed().as_millis() as u64,
            "cycle computed"
        );
        crate::faults::point("cycle.finished");
        Ok(Run::Written(CycleOutcome {
            cycle,
            written,
            skipped,
        }))
    }

    pub async fn approve_cycle(
        &self,
        actor: &Actor,
        cycle: i64,
        reason: &str,
    ) -> Result<Cycle, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        let c = self.store.approve_cycle(cycle, &change).await?;
        crate::faults::point("cycle.approved");
        Ok(c)
    }

    pub async fn cancel_cycle(
        &self,
        actor: &Actor,
        cycle: i64,
        reason: &str,
    ) -> Result<Cycle, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        if change.reason.is_empty() {
            return Err(invalid("reason", "required", "why the cycle is cancelled"));
        }
        Ok(self.store.cancel_cycle(cycle, &change).await?)
    }

    pub async fn cycles(
        &self,
        actor: &Actor,
        programme_code: Option<&str>,
    ) -> Result<Vec<Cycle>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        Ok(self.store.cycles(programme_code).await?)
    }

    pub async fn cycle(&self, actor: &Actor, id: i64) -> Result<Cycle, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        self.store
            .cycle(id)
            .await?
            .ok_or(RegistryError::Store(StoreError::NotFound))
    }

    /// A cycle's entitlements; a citizen sees their own household's, others need the
    /// payments permission over the whole registry (entitlements are listed by household).
    pub async fn entitlements(
        &self,
        actor: &Actor,
        mut filter: EntitlementFilter,
    ) -> Result<Vec<Entitlement>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        if let Some(h) = self.own_household(actor, filter.household_id)? {
            filter.household_id = Some(h);
        }
        match filter.household_id {
            Some(h) => {
                self.registry
                    .household(actor, h, &Purpose("entitlements".into()))
                    .await?;
            }
            None => {
                if !policy::scope_territories(actor, None).is_ok_and(|t| t.is_empty()) {
                    return Err(invalid(
                        "household_id",
                        "required",
                        "a household: entitlements of a whole cycle are listed for a national account",
                    ));
                }
            }
        }
        let found = self.store.entitlements(&filter).await?;
        let mut ids: Vec<String> = found.iter().map(|e| e.household_id.to_string()).collect();
        ids.dedup();
        self.registry
            .log_read(actor, "entitlement", ids, &Purpose("entitlements".into()))
            .await?;
        Ok(found)
    }

    /// A citizen is limited to their own household (none: they have no household to see).
    fn own_household(
        &self,
        actor: &Actor,
        asked: Option<HouseholdId>,
    ) -> Result<Option<HouseholdId>, RegistryError> {
        if actor.role != crate::Role::Citizen {
            return Ok(None);
        }
        match actor.household {
            Some(own) if asked.is_none_or(|h| h == own) => Ok(Some(own)),
            _ => Err(RegistryError::Store(StoreError::NotFound)),
        }
    }

    /// Payments the actor may see: their territories; a citizen, their own household.
    pub async fn payments(
        &self,
        actor: &Actor,
        mut filter: PaymentFilter,
    ) -> Result<Vec<Payment>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        if let Some(h) = self.own_household(actor, filter.household_id)? {
            filter.household_id = Some(h);
        }
        if let Some(h) = filter.household_id {
            self.registry
                .household(actor, h, &Purpose("payments".into()))
                .await?;
        }
        filter.territories = policy::scope_territories(actor, None)
            .map_err(|_| RegistryError::Forbidden(Permission::ReadPayments.scope()))?;
        let found = self.store.payments(&filter).await?;
        let mut ids: Vec<String> = found.iter().map(|p| p.household_id.to_string()).collect();
        ids.sort();
        ids.dedup();
        self.registry
            .log_read(actor, "payment", ids, &Purpose("payments".into()))
            .await?;
        Ok(found)
    }

    /// Puts what an approved cycle still owes into one batch per means kind (or gives back the
    /// batches still open).
    pub async fn open_batches(
        &self,
        actor: &Actor,
        cycle: i64,
        reason: &str,
    ) -> Result<Vec<Batch>, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        let mut out = Vec::new();
        for kind in KINDS {
            let t = Instant::now();
            if let Some(b) = self.store.open_batch(cycle, kind, &change).await? {
                out.push(b);
                crate::faults::point("batch.opened");
            }
            tracing::debug!(
                batch.kind = kind,
                batch.open_ms = t.elapsed().as_millis() as u64,
                "batch opened"
            );
        }
        Ok(out)
    }

    pub async fn batches(&self, actor: &Actor, cycle: i64) -> Result<Vec<Batch>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        Ok(self.store.batches(cycle).await?)
    }

    pub async fn batch(&self, actor: &Actor, id: i64) -> Result<Batch, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        self.store
            .batch(id)
            .await?
            .ok_or(RegistryError::Store(StoreError::NotFound))
    }

    /// A batch's payments for writing its file (the means included): managers only, logged.
    pub async fn batch_payments(
        &self,
        actor: &Actor,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Payment>, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        Ok(self.store.batch_payments(batch, after, limit).await?)
    }

    /// Records that a batch's file was handed over.
    pub async fn mark_exported(
        &self,
        actor: &Actor,
        batch: i64,
        file_sha256: &str,
    ) -> Result<Batch, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, "")?;
        Ok(self
            .store
            .mark_exported(batch, file_sha256, &change)
            .await?)
    }

    /// Applies a provider's answer: every line is checked (a known payment, its amount, an
    /// outcome that fits its state) before anything is written; the first line that fails is
    /// named and nothing changes. The same file again does nothing.
    pub async fn reconcile(
        &self,
        actor: &Actor,
        lines: &[AnswerItem],
        file_sha256: &str,
        file_name: &str,
        format: &str,
    ) -> Result<ReconcileOutcome, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, "")?;
        if let Some(r) = self.store.reconciliation(file_sha256).await? {
            return Ok(ReconcileOutcome {
                reconciliation: r,
                already_imported: true,
            });
        }
        let t0 = Instant::now();
        let mut ids: Vec<i64> = lines
            .iter()
            .filter_map(|l| super::payment_of(&l.end_to_end_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let current: HashMap<i64, super::PaymentCheck> = self
            .store
            .payment_checks(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let checks_t = t0.elapsed();
        let t = Instant::now();
        let (updates, counts) = plan_reconciliation(lines, &current).map_err(line_error)?;
        let plan_t = t.elapsed();
        crate::faults::point("reconcile.checked");
        let t = Instant::now();
        let file = NewReconciliation {
            file_sha256: file_sha256.to_string(),
            file_name: file_name.to_string(),
            format: format.to_string(),
            lines: lines.len() as u64,
            counts,
        };
        let r = self
            .store
            .record_reconciliation(&file, &updates, &change)
            .await?;
        tracing::debug!(
            reconcile.checks_ms = checks_t.as_millis() as u64,
            reconcile.plan_ms = plan_t.as_millis() as u64,
            reconcile.record_ms = t.elapsed().as_millis() as u64,
            "answer reconciled"
        );
        crate::faults::point("reconcile.recorded");
        Ok(ReconcileOutcome {
            reconciliation: r,
            already_imported: false,
        })
    }

    /// Puts every enrolled person of an insurance programme without a live adhesion into a file
    /// for the insurer (or gives back the one still open).
    pub async fn open_adhesions(
        &self,
        actor: &Actor,
        programme_code: &str,
        reason: &str,
    ) -> Result<Option<AdhesionBatch>, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, reason)?;
        let engine = self.targeting.engine();
        let Some(p) = engine.programme(programme_code) else {
            return Err(RegistryError::Store(StoreError::NotFound));
        };
        if p.programme().unit != Unit::Person {
            return Err(RegistryError::Store(StoreError::Conflict {
                field: "programme".into(),
                code: "not_per_person",
                message: "a programme whose members are enrolled one by one (unit = person)".into(),
            }));
        }
        Ok(self
            .store
            .open_adhesion_batch(programme_code, &change)
            .await?)
    }

    pub async fn adhesion_batches(
        &self,
        actor: &Actor,
        programme_code: &str,
    ) -> Result<Vec<AdhesionBatch>, RegistryError> {
        require(actor, Permission::ReadPayments)?;
        Ok(self.store.adhesion_batches(programme_code).await?)
    }

    pub async fn adhesion_lines(
        &self,
        actor: &Actor,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<super::Adhesion>, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        Ok(self.store.adhesion_lines(batch, after, limit).await?)
    }

    pub async fn mark_adhesions_exported(
        &self,
        actor: &Actor,
        batch: i64,
        file_sha256: &str,
    ) -> Result<AdhesionBatch, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, "")?;
        Ok(self
            .store
            .mark_adhesions_exported(batch, file_sha256, &change)
            .await?)
    }

    /// Applies the insurer's answer, line by line, exactly once, after checking every line.
    pub async fn adhesion_answer(
        &self,
        actor: &Actor,
        lines: &[AdhesionAnswerItem],
        file_sha256: &str,
        file_name: &str,
    ) -> Result<AdhesionAnswerOutcome, RegistryError> {
        require(actor, Permission::ManagePayments)?;
        let change = self.registry.change(actor, "")?;
        if let Some(a) = self.store.adhesion_answer(file_sha256).await? {
            return Ok(AdhesionAnswerOutcome {
                answer: a,
                already_imported: true,
            });
        }
        let ids: Vec<i64> = lines
            .iter()
            .filter_map(|l| adhesion_of(&l.adhesion_ref))
            .collect();
        let current: HashMap<i64, AdhesionState> = self
            .store
            .adhesion_checks(&ids)
            .await?
            .into_iter()
            .collect();
        let mut seen: HashMap<i64, u64> = HashMap::new();
        let mut updates = Vec::new();
        let mut unchanged = 0u64;
        for l in lines {
            let bad = |field: &'static str, message: String| {
                line_error(LineError {
                    line: l.line,
                    field,
                    message,
                })
            };
            let id = adhesion_of(&l.adhesion_ref).ok_or_else(|| {
                bad(
                    "adhesion_id",
                    format!(
                        "an adhesion of this registry (SANAD-A<number>), found {:?}",
                        l.adhesion_ref
                    ),
                )
            })?;
            let Some(&state) = current.get(&id) else {
                return Err(bad(
                    "adhesion_id",
                    format!("a known adhesion: {} was never sent", l.adhesion_ref),
                ));
            };
            if let Some(first) = seen.insert(id, l.line) {
                return Err(bad(
                    "adhesion_id",
                    format!(
                        "one answer per adhesion: {} is also on line {first}",
                        l.adhesion_ref
                    ),
                ));
            }
            let to = if l.accepted.is_ok() {
                AdhesionState::Accepted
            } else {
                AdhesionState::Rejected
            };
            match (state, to) {
                (AdhesionState::Sent, _) => {}
                (s, t) if s == t => {
                    unchanged += 1;
                    continue;
                }
                (s, _) => {
                    return Err(bad(
                        "status",
                        format!(
                            "an answer that fits the adhesion: {} is {}",
                            l.adhesion_ref,
                            s.as_str()
                        ),
                    ));
                }
            }
            let (insurer_number, reason_code, reason) = match &l.accepted {
                Ok(n) => (n.clone(), String::new(), String::new()),
                Err((c, r)) => (String::new(), c.clone(), r.clone()),
            };
            updates.push(AdhesionUpdate {
                id,
                from: state,
                to,
                insurer_number,
                reason_code,
                reason,
            });
        }
        let answer = self
            .store
            .record_adhesion_answer(
                file_sha256,
                file_name,
                lines.len() as u64,
                &updates,
                unchanged,
                &change,
            )
            .await?;
        Ok(AdhesionAnswerOutcome {
            answer,
            already_imported: false,
        })
    }
}
