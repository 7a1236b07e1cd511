//! The targeting use-cases: import and activate index models, define programmes, rescore the
//! registry, try a model before activating it, measure its targeting errors, explain a household's
//! index and decisions, and move enrolments. Roles and territories are checked here, and every read
//! of a household's assessment is recorded in the access log, as for the registry.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sanad_domain::{Amount, HouseholdFacts, HouseholdId, Lang, PersonId, ValidationErrors};
use sanad_programmes::{CompiledProgramme, Programme, Rule, Tally, Unit};
use sanad_targeting::Model;
use serde::Serialize;
use time::Date;

use super::engine::{Engine, decision_record};
use super::{
    Assessed, Assessor, Enrolment, EnrolmentCount, EnrolmentEvent, EnrolmentFilter, EnrolmentState,
    ModelRecord, ProgrammeRecord, ProgrammeStore, RescoreRun, TargetingStore,
};
use crate::auth::Actor;
use crate::policy::{self, Permission};
use crate::registry::{Purpose, Registry, RegistryError, require};
use crate::store::{Progress, StoreError};

/// Households read, assessed and written per batch of a rescoring run.
pub const RESCORE_BATCH: u32 = 10_000;

/// The targeting context: its two ports, the registry (households, scoping, access log) and the
/// engine in force.
#[derive(Clone)]
pub struct Targeting {
    registry: Registry,
    store: Arc<dyn TargetingStore>,
    programmes: Arc<dyn ProgrammeStore>,
    engine: Arc<RwLock<Arc<Engine>>>,
    /// The registry's facts in memory for counting rules, with when they were loaded.
    counting: Arc<tokio::sync::Mutex<Option<LoadedFacts>>>,
    /// How long after a rescoring starts other processes may still assess writes with the engine
    /// they had before (their refresh interval, and a write's time): a rescoring waits that long
    /// before it assesses again the households written meanwhile. Zero when one process writes.
    settle: Duration,
}

/// How often a server checks whether another process activated a model or defined a programme.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// What a server sets as `settle`: its refresh interval, and a write's longest time.
pub const SETTLE: Duration = Duration::from_secs(4);

/// Rounds of assessing again the households written during a rescoring.
const STALE_ROUNDS: usize = 5;

/// Facts loaded for counting, and when.
type LoadedFacts = (Instant, Arc<FactsSnapshot>);

/// How long the facts loaded for counting rules are reused before they are read again.
pub const COUNT_SNAPSHOT_SECONDS: u64 = 600;

/// What a rule admits over the registry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleCount {
    pub households: u64,
    pub admitted: u64,
    pub refused: u64,
    /// Households the rule could not decide (no index yet, or over its budget).
    pub undecided: u64,
    /// Seconds the count took, and the age of the facts it ran on.
    pub count_seconds: f64,
    pub facts_age_seconds: f64,
}

fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> RegistryError {
    RegistryError::Validation(ValidationErrors::one(field, code, message.into()))
}

/// A model file read as TOML or, when it starts with `{`, JSON.
pub fn parse_model(text: &str) -> Result<Model, RegistryError> {
    let parsed = if text.trim_start().starts_with('{') {
        Model::from_json(text)
    } else {
        Model::from_toml(text)
    };
    parsed.map_err(|e| {
        let field = e.field().unwrap_or("model").to_string();
        invalid(&field, "invalid_model", e.to_string())
    })
}

/// A programme file read as TOML or JSON, compiled (so that a condition that does not compile is
/// refused when it is defined, with its position).
pub fn parse_programme(text: &str) -> Result<(Programme, CompiledProgramme), RegistryError> {
    let parsed = if text.trim_start().starts_with('{') {
        Programme::from_json(text)
    } else {
        Programme::from_toml(text)
    };
    let refuse = |e: sanad_programmes::DefinitionError| {
        let field = match &e.condition {
            Some(c) => format!("conditions.{c}"),
            None => "programme".to_string(),
        };
        invalid(&field, "invalid_programme", e.to_string())
    };
    let programme = parsed.map_err(refuse)?;
    let compiled = programme.compile().map_err(refuse)?;
    Ok((programme, compiled))
}

/// One variable's part in a household's index, in words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContributionView {
    pub variable: String,
    /// The variable's name in the language asked for.
    pub label: String,
    pub value: f64,
    pub effect: f64,
    /// "The number of rooms per person raised your index by 0.12."
    pub sentence: String,
}

/// A household's index and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreView {
    pub model_id: String,
    pub model_version: u32,
    pub index: f64,
    pub baseline: f64,
    pub segment: String,
    /// Largest effects first.
    pub contributions: Vec<ContributionView>,
    /// The score recorded in the registry (none before the first scoring).
    pub recorded_index: Option<f64>,
    pub recorded_household_version: Option<u32>,
}

/// A line of a benefit's amount.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BenefitLineView {
    pub name: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    pub amount: Amount,
}

/// A programme's answer for a household, in the language asked for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgrammeView {
    pub code: String,
    pub version: u32,
    pub name: String,
    pub eligible: bool,
    /// "You can receive it", or the reason why not, in plain words.
    pub message: String,
    /// The condition that failed (its message key), when not eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Per period.
    pub amount: Amount,
    pub frequency: String,
    pub lines: Vec<BenefitLineView>,
    /// For a programme paid per person: the members who qualify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub beneficiaries: Vec<PersonId>,
    pub flags: Vec<String>,
    /// The household's (or its members') enrolments in the programme.
    pub enrolments: Vec<Enrolment>,
}

/// What targeting says about one household.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdTargeting {
    pub household_id: HouseholdId,
    pub household_version: u32,
    pub lang: Lang,
    pub score: Option<ScoreView>,
    pub programmes: Vec<ProgrammeView>,
}

/// How a rescoring run went.
#[derive(Debug, Clone)]
pub struct RescoreSummary {
    pub run: RescoreRun,
    pub households: u64,
    pub stale: u64,
    pub resumed: bool,
    pub elapsed: Duration,
    /// Time spent reading facts, assessing, and writing (the stages overlap: their sum exceeds
    /// `elapsed`).
    pub read: Duration,
    pub assess: Duration,
    pub write: Duration,
}

/// Households entering and leaving a programme under a candidate model, in one region and area.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DryRunLine {
    pub programme_code: String,
    pub region_code: String,
    pub area: String,
    /// Eligible under the model in force.
    pub eligible_now: u64,
    /// Eligible under the candidate.
    pub eligible_then: u64,
    pub entering: u64,
    pub leaving: u64,
}

/// A candidate model tried on the whole registry, nothing written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DryRun {
    pub model_id: String,
    pub model_version: u32,
    pub households: u64,
    pub lines: Vec<DryRunLine>,
}

/// What a write's assessment decided, for the answer to a registration or an update.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentSummary {
    /// The index under the active model (none when no model is active).
    pub index: Option<f64>,
    pub model: Option<String>,
    pub programmes: Vec<DecisionSummary>,
}

/// One programme's decision on a household.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionSummary {
    pub code: String,
    pub eligible: bool,
    /// The message key of the condition that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Per period.
    pub amount: Amount,
}

/// The facts of the whole registry in memory, to count what a rule admits.
pub struct FactsSnapshot {
    pub on: Date,
    pub households: Vec<HouseholdFacts>,
    pub indexes: Vec<Option<f64>>,
    pub loaded_in: Duration,
}

impl Targeting {
    pub fn new(
        registry: Registry,
        store: Arc<dyn TargetingStore>,
        programmes: Arc<dyn ProgrammeStore>,
    ) -> Targeting {
        Targeting {
            registry,
            store,
            programmes,
            engine: Arc::default(),
            counting: Arc::default(),
            settle: Duration::ZERO,
        }
    }

    /// For a process that shares its database with other writers (a server): see `settle`.
    pub fn with_settle(mut self, settle: Duration) -> Targeting {
        self.settle = settle;
        self
    }

    /// Loads the engine again when another process has activated a model or defined a programme
    /// since it was loaded; says whether it did. A server calls it every `REFRESH_INTERVAL`.
    pub async fn refresh(&self) -> Result<bool, RegistryError> {
        let engine = self.engine();
        let active = self.store.active_model().await?.map(|m| (m.id, m.version));
        let mut defined: Vec<String> = self
            .programmes
            .programmes()
            .await?
            .into_iter()
            .map(|p| format!("{}@{}", p.code, p.version))
            .collect();
        defined.sort();
        let model = engine.index_model().map(|m| (m.id.clone(), m.version));
        if active == model && defined.join(",") == engine.programme_set() {
            return Ok(false);
        }
        self.load().await?;
        Ok(true)
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn store(&self) -> &Arc<dyn TargetingStore> {
        &self.store
    }

    pub fn programme_store(&self) -> &Arc<dyn ProgrammeStore> {
        &self.programmes
    }

    fn today(&self) -> Date {
        self.registry.now().date()
    }

    /// The assessment the store recorded with a household's write, recomputed (pure, no read):
    /// the same engine on the same facts gives the same answer.
    pub fn summary(&self, household: &sanad_domain::Household) -> AssessmentSummary {
        let engine = self.engine();
        let on = household.updated_at.date();
        let facts = HouseholdFacts::of(household, on);
        let (score, decisions) = engine.decide_all(&facts, on);
        AssessmentSummary {
            index: score.map(|s| s.index),
            model: engine
                .index_model()
                .map(|m| format!("{}@{}", m.id, m.version)),
            programmes: engine
                .programmes()
                .iter()
                .zip(decisions)
                .map(|(p, d)| DecisionSummary {
                    code: p.programme().code.clone(),
                    eligible: d.eligible,
                    reason: d.failed.map(|f| f.message_key),
                    amount: d.amount,
                })
                .collect(),
        }
    }

    /// Builds the engine from the active model and the latest programme versions, and installs it
    /// in the store so that every household write is assessed. A stored definition that no longer
    /// parses (written by another version of Sanad) is an error, not a silent skip.
    pub async fn load(&self) -> Result<Arc<Engine>, RegistryError> {
        let model = match self.store.active_model().await? {
            Some(record) => Some(parse_model(&record.definition)?),
            None => None,
        };
        let mut compiled = Vec::new();
        for record in self.programmes.programmes().await? {
            compiled.push(parse_programme(&record.definition)?.1);
        }
        let engine = Arc::new(Engine::new(model, compiled));
        let installed: Option<Arc<dyn Assessor>> =
            if engine.index_model().is_none() && engine.programmes().is_empty() {
                None
            } else {
                Some(engine.clone())
            };
        self.store.assessor_slot().set(installed);
        *self.engine.write().unwrap_or_else(|p| p.into_inner()) = engine.clone();
        Ok(engine)
    }

    /// Records a model version (TOML or JSON), refused with the field when it is not valid.
    pub async fn import_model(
        &self,
        actor: &Actor,
        text: &str,
        reason: &str,
    ) -> Result<(ModelRecord, bool), RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, reason)?;
        let model = parse_model(text)?;
        let record = ModelRecord {
            id: model.id.clone(),
            version: model.version,
            description: model.description.clone(),
            definition: model.to_toml(),
            variables: model
                .variables()
                .iter()
                .map(|v| v.code().to_string())
                .collect(),
            imported_by: change.actor.clone(),
            imported_at: change.at,
            activated_at: None,
            active: false,
        };
        let new = self.store.import_model(&record, &change).await?;
        Ok((record, new))
    }

    /// Makes a recorded model the one households are scored with, and reloads the engine. The
    /// registry is rescored by [`Targeting::rescore_all`] (`sanad score --all`).
    pub async fn activate_model(
        &self,
        actor: &Actor,
        id: &str,
        version: u32,
        reason: &str,
    ) -> Result<(), RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, reason)?;
        let record = self
            .store
            .model(id, version)
            .await?
            .ok_or(StoreError::NotFound)?;
        // Refuse before activating a model this build cannot score with.
        parse_model(&record.definition)?;
        self.store.activate_model(id, version, &change).await?;
        self.load().await?;
        Ok(())
    }

    pub async fn models(&self, actor: &Actor) -> Result<Vec<ModelRecord>, RegistryError> {
        require(actor, Permission::ReadTargeting)?;
        Ok(self.store.models().await?)
    }

    /// Defines a new version of a programme, refused with the condition and position when a rule
    /// does not compile; the engine is reloaded.
    pub async fn define_programme(
        &self,
        actor: &Actor,
        text: &str,
        reason: &str,
    ) -> Result<(ProgrammeRecord, bool), RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, reason)?;
        let (programme, _) = parse_programme(text)?;
        let record = ProgrammeRecord {
            code: programme.code.clone(),
            version: programme.version,
            definition: text.to_string(),
            defined_by: change.actor.clone(),
            defined_at: change.at,
        };
        let new = self.programmes.define_programme(&record, &change).await?;
        self.load().await?;
        Ok((record, new))
    }

    pub async fn programmes(&self, actor: &Actor) -> Result<Vec<Programme>, RegistryError> {
        require(actor, Permission::ReadTargeting)?;
        Ok(self
            .engine()
            .programmes()
            .iter()
            .map(|p| p.programme().clone())
            .collect())
    }

    /// Rescores every household with the engine in force, in batches, each batch committed with
    /// the run's progress: an interrupted run resumes after its last batch (unless `restart`).
    pub async fn rescore_all(
        &self,
        actor: &Actor,
        restart: bool,
        progress: &dyn Progress,
    ) -> Result<RescoreSummary, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, "rescoring")?;
        let engine = self.engine();
        let model = engine.model();
        let run = self
            .store
            .start_rescore(
                model.as_ref().map(|(id, v)| (id.as_str(), *v)),
                &engine.programme_set(),
                restart,
                change.at,
            )
            .await?;
        let resumed = run.last_household.is_some();
        let on = change.at.date();
        let started = Instant::now();
        let (mut read, mut assess, mut write) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        let (mut households, mut stale) = (0u64, 0u64);
        let mut after = run.last_household;
        progress.phase("rescore", 0);
        // Three stages in flight: batch i is assessed on every core while batch i-1 is written
        // and batch i+1 read.
        let t = Instant::now();
        let mut current = self.store.facts_batch(after, RESCORE_BATCH, on).await?;
        read += t.elapsed();
        let mut pending: Option<Vec<Assessed>> = None;
        let mut stale_seen: Vec<HouseholdId> = Vec::new();
        while !current.is_empty() {
            after = current.last().map(|f| f.household_id);
            let engine = engine.clone();
            let batch = std::mem::take(&mut current);
            let assessing = async {
                let t = Instant::now();
                let out = tokio::task::spawn_blocking(move || assess_parallel(&engine, batch, on))
                    .await
                    .map_err(|e| StoreError::Internal(e.to_string()));
                (out, t.elapsed())
            };
            let previous = pending.take();
            let writing = async {
                let t = Instant::now();
                let outcome = match previous {
                    Some(previous) => Some(
                        self.store
                            .record_assessments(previous, Some(run.id), &change)
                            .await?,
                    ),
                    None => None,
                };
                Ok::<_, StoreError>((outcome, t.elapsed()))
            };
            let reading = async {
                let t = Instant::now();
                let next = self.store.facts_batch(after, RESCORE_BATCH, on).await?;
                Ok::<_, StoreError>((next, t.elapsed()))
            };
            let ((assessed, assessing_took), written, read_next) =
                futures::join!(assessing, writing, reading);
            let (outcome, wrote) = written?;
            let (next, reading_took) = read_next?;
            let assessed = assessed?;
            assess += assessing_took;
            write += wrote;
            read += reading_took;
            if let Some(o) = outcome {
                stale += o.stale;
                stale_seen.extend(o.stale_households);
            }
            households += assessed.len() as u64;
            pending = Some(assessed);
            current = next;
            progress.advance(households);
        }
        let mut changed: Vec<HouseholdId> = Vec::new();
        if let Some(last) = pending.take() {
            let t = Instant::now();
            let outcome = self
                .store
                .record_assessments(last, Some(run.id), &change)
                .await?;
            stale += outcome.stale;
            changed.extend(outcome.stale_households);
            write += t.elapsed();
        }
        changed.extend(stale_seen);
        // Households written while the run went by them were assessed by their write, maybe in
        // another process still on the engine it had before: once every process has had time to
        // load this one, the households written since the run began are assessed again (outside
        // the run, which has passed them).
        if !self.settle.is_zero() {
            tokio::time::sleep(self.settle.saturating_sub(started.elapsed())).await;
            let since = change.at - self.settle;
            changed.extend(self.store.households_changed_since(since).await?);
        }
        for _ in 0..STALE_ROUNDS {
            if changed.is_empty() {
                break;
            }
            changed.sort();
            changed.dedup();
            let mut facts = Vec::with_capacity(changed.len());
            for id in std::mem::take(&mut changed) {
                let before = HouseholdId::from_serial(id.serial() - 1);
                let row = self.store.facts_batch(before, 1, on).await?;
                facts.extend(row.into_iter().filter(|f| f.household_id == id));
            }
            let assessed = assess_parallel(&engine, facts, on);
            let outcome = self
                .store
                .record_assessments(assessed, None, &change)
                .await?;
            changed = outcome.stale_households;
        }
        let run = self
            .store
            .finish_rescore(run.id, self.registry.now())
            .await?;
        Ok(RescoreSummary {
            run,
            households,
            stale,
            resumed,
            elapsed: started.elapsed(),
            read,
            assess,
            write,
        })
    }

    /// Tries `candidate` on the whole registry against the engine in force: how many households
    /// would enter or leave each programme, by region and area. Writes nothing.
    pub async fn dry_run(
        &self,
        actor: &Actor,
        candidate: Model,
        progress: &dyn Progress,
    ) -> Result<DryRun, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let now_engine = self.engine();
        let then_engine = Arc::new(now_engine.with_model(candidate.clone()));
        let on = self.today();
        let mut lines: BTreeMap<(String, String, String), DryRunLine> = BTreeMap::new();
        let mut after = None;
        let mut households = 0u64;
        progress.phase("dry run", 0);
        loop {
            let batch = self.store.facts_batch(after, RESCORE_BATCH, on).await?;
            if batch.is_empty() {
                break;
            }
            after = batch.last().map(|f| f.household_id);
            households += batch.len() as u64;
            let (a, b) = (now_engine.clone(), then_engine.clone());
            let counted = tokio::task::spawn_blocking(move || {
                let mut out: Vec<(String, String, String, bool, bool)> = Vec::new();
                for f in &batch {
                    let (_, now) = a.decide_all(&f.facts, on);
                    let (_, then) = b.decide_all(&f.facts, on);
                    for ((p, n), t) in a.programmes().iter().zip(&now).zip(&then) {
                        out.push((
                            p.programme().code.clone(),
                            f.facts.region_code.clone(),
                            f.facts.area.as_str().to_string(),
                            n.eligible,
                            t.eligible,
                        ));
                    }
                }
                out
            })
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
            for (code, region, area, now, then) in counted {
                let line = lines
                    .entry((code.clone(), region.clone(), area.clone()))
                    .or_insert_with(|| DryRunLine {
                        programme_code: code,
                        region_code: region,
                        area,
                        ..Default::default()
                    });
                line.eligible_now += u64::from(now);
                line.eligible_then += u64::from(then);
                line.entering += u64::from(then && !now);
                line.leaving += u64::from(now && !then);
            }
            progress.advance(households);
        }
        Ok(DryRun {
            model_id: candidate.id.clone(),
            model_version: candidate.version,
            households,
            lines: lines.into_values().collect(),
        })
    }

    /// Targeting errors of the recorded scores against the true ln consumption per person of each
    /// household (`truth`, by household id), at each programme's index threshold.
    pub async fn evaluate(
        &self,
        actor: &Actor,
        truth: &HashMap<HouseholdId, f64>,
    ) -> Result<(sanad_targeting::Evaluation, u64), RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let mut rows = Vec::new();
        let mut missing = 0u64;
        let mut after = None;
        loop {
            let batch = self.store.index_rows(after, 50_000).await?;
            if batch.is_empty() {
                break;
            }
            after = batch.last().map(|r| r.household_id);
            for r in batch {
                match truth.get(&r.household_id) {
                    Some(actual) => rows.push(sanad_targeting::Evaluated {
                        region_code: r.region_code,
                        area: r.area,
                        predicted: r.index,
                        actual: *actual,
                    }),
                    None => missing += 1,
                }
            }
        }
        let thresholds: Vec<(String, f64)> = self
            .engine()
            .programmes()
            .iter()
            .filter_map(|p| {
                p.programme()
                    .index_threshold
                    .map(|t| (p.programme().code.clone(), t))
            })
            .collect();
        Ok((sanad_targeting::evaluate(&rows, &thresholds), missing))
    }

    /// A household's index and its answer from every programme, explained in `lang`. Scoped like
    /// a household read and recorded in the access log.
    pub async fn household(
        &self,
        actor: &Actor,
        id: HouseholdId,
        lang: Lang,
        purpose: &Purpose,
    ) -> Result<HouseholdTargeting, RegistryError> {
        require(actor, Permission::ReadTargeting)?;
        let household = self.registry.household(actor, id, purpose).await?;
        let on = self.today();
        let facts = HouseholdFacts::of(&household, on);
        let engine = self.engine();
        let (score, decisions) = engine.decide_all(&facts, on);
        let recorded = self.store.household_score(id).await?;
        let enrolments = self
            .programmes
            .enrolments(&EnrolmentFilter {
                household_id: Some(id),
                limit: 1_000,
                ..Default::default()
            })
            .await?;
        let score = match (engine.index_model(), score) {
            (Some(model), Some(s)) => {
                let mut contributions: Vec<ContributionView> = s
                    .contributions
                    .iter()
                    .map(|c| ContributionView {
                        variable: c.variable.code().to_string(),
                        label: c.variable.label(lang).to_string(),
                        value: c.value,
                        effect: c.effect,
                        sentence: c.sentence(lang),
                    })
                    .collect();
                contributions.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
                Some(ScoreView {
                    model_id: model.id.clone(),
                    model_version: model.version,
                    index: s.index,
                    baseline: s.baseline,
                    segment: s.segment.clone(),
                    contributions,
                    recorded_index: recorded.as_ref().map(|r| r.score.index),
                    recorded_household_version: recorded.as_ref().map(|r| r.household_version),
                })
            }
            _ => None,
        };
        let pl = lang;
        let programmes = engine
            .programmes()
            .iter()
            .zip(&decisions)
            .map(|(p, d)| {
                let programme = p.programme();
                let record = decision_record(programme, &facts, d);
                let message = match &d.failed {
                    None => sanad_programmes::message("programme-eligible", pl, &[]),
                    Some(f) => sanad_programmes::message(&f.message_key, pl, &[]),
                };
                ProgrammeView {
                    code: programme.code.clone(),
                    version: programme.version,
                    name: programme.names.get(pl).to_string(),
                    eligible: d.eligible,
                    message,
                    reason: d.failed.as_ref().map(|f| f.message_key.clone()),
                    amount: d.amount,
                    frequency: programme.frequency.code().to_string(),
                    lines: d
                        .lines
                        .iter()
                        .map(|l| BenefitLineView {
                            name: l.name.clone(),
                            text: sanad_programmes::message(&l.message_key, pl, &[]),
                            person_id: l
                                .member
                                .and_then(|i| facts.members.get(i))
                                .and_then(|m| m.person_id),
                            amount: l.amount,
                        })
                        .collect(),
                    beneficiaries: record.beneficiaries.unwrap_or_default(),
                    flags: record.flags,
                    enrolments: enrolments
                        .iter()
                        .filter(|e| e.programme_code == programme.code)
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        Ok(HouseholdTargeting {
            household_id: household.id,
            household_version: household.version,
            lang,
            score,
            programmes,
        })
    }

    /// Loads the facts and indexes of the whole registry into memory (for counting rules).
    pub async fn snapshot(
        &self,
        actor: &Actor,
        progress: &dyn Progress,
    ) -> Result<FactsSnapshot, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let started = Instant::now();
        let on = self.today();
        let engine = self.engine();
        let mut households = Vec::new();
        let mut indexes = Vec::new();
        let mut after = None;
        progress.phase("load", 0);
        loop {
            let batch = self.store.facts_batch(after, 50_000, on).await?;
            if batch.is_empty() {
                break;
            }
            after = batch.last().map(|f| f.household_id);
            for f in batch {
                indexes.push(engine.index_model().map(|m| m.index(&f.facts)));
                households.push(f.facts);
            }
            progress.advance(households.len() as u64);
        }
        Ok(FactsSnapshot {
            on,
            households,
            indexes,
            loaded_in: started.elapsed(),
        })
    }

    /// How many households `rule` admits, over facts of the registry loaded at most
    /// [`COUNT_SNAPSHOT_SECONDS`] ago (loaded now when older).
    pub async fn count(&self, actor: &Actor, rule: &str) -> Result<RuleCount, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let rule = compile_rule(rule)?;
        let snapshot = {
            let mut cached = self.counting.lock().await;
            match cached.as_ref() {
                Some((at, s)) if at.elapsed().as_secs() < COUNT_SNAPSHOT_SECONDS => {
                    (s.clone(), *at)
                }
                _ => {
                    let s = Arc::new(self.snapshot(actor, &crate::store::NoProgress).await?);
                    let at = Instant::now();
                    *cached = Some((at, s.clone()));
                    (s, at)
                }
            }
        };
        let (loaded, at) = snapshot;
        let (tally, took) = tokio::task::spawn_blocking(move || count_rule(&rule, &loaded))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(RuleCount {
            households: (tally.admitted + tally.refused + tally.errors) as u64,
            admitted: tally.admitted as u64,
            refused: tally.refused as u64,
            undecided: tally.errors as u64,
            count_seconds: took.as_secs_f64(),
            facts_age_seconds: at.elapsed().as_secs_f64(),
        })
    }

    /// Enrolments the actor may see (their territories; a citizen, their own household).
    pub async fn enrolments(
        &self,
        actor: &Actor,
        mut filter: EnrolmentFilter,
    ) -> Result<Vec<Enrolment>, RegistryError> {
        require(actor, Permission::ReadTargeting)?;
        if actor.role == crate::Role::Citizen {
            match actor.household {
                Some(own) if filter.household_id.is_none_or(|h| h == own) => {
                    filter.household_id = Some(own)
                }
                _ => return Ok(Vec::new()),
            }
        }
        if let Some(h) = filter.household_id {
            // Hidden households are answered as missing, as a household read.
            self.registry
                .household(actor, h, &Purpose("enrolments".into()))
                .await?;
        }
        filter.territories = policy::scope_territories(actor, None)
            .map_err(|_| RegistryError::Forbidden(Permission::ReadTargeting.scope()))?;
        let found = self.programmes.enrolments(&filter).await?;
        // Who is in which programme is personal data: the households listed are logged as read.
        let mut ids: Vec<String> = found.iter().map(|e| e.household_id.to_string()).collect();
        ids.dedup();
        self.registry
            .log_read(actor, "enrolment", ids, &Purpose("enrolments".into()))
            .await?;
        Ok(found)
    }

    pub async fn enrolment_history(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<Vec<EnrolmentEvent>, RegistryError> {
        require(actor, Permission::ReadTargeting)?;
        self.registry
            .household(actor, household, &Purpose("enrolment history".into()))
            .await?;
        Ok(self.programmes.enrolment_history(household).await?)
    }

    /// A manager enrols, suspends, resumes or exits one enrolment, with a reason.
    pub async fn change_enrolment(
        &self,
        actor: &Actor,
        programme_code: &str,
        household: HouseholdId,
        person: Option<PersonId>,
        to: EnrolmentState,
        reason: &str,
    ) -> Result<Enrolment, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, reason)?;
        if change.reason.is_empty() {
            return Err(invalid("reason", "required", "why the enrolment changes"));
        }
        self.registry
            .household(actor, household, &Purpose("enrolment change".into()))
            .await?;
        Ok(self
            .programmes
            .change_enrolment(
                programme_code,
                household,
                person,
                to,
                &change.reason,
                &change,
            )
            .await?)
    }

    /// Enrols every eligible household of a programme in the actor's territories (or the ones
    /// named, inside them).
    pub async fn enrol_eligible(
        &self,
        actor: &Actor,
        programme_code: &str,
        territory: Option<&str>,
        reason: &str,
    ) -> Result<u64, RegistryError> {
        require(actor, Permission::ManageTargeting)?;
        let change = self.registry.change(actor, reason)?;
        if self.engine().programme(programme_code).is_none() {
            return Err(RegistryError::Store(StoreError::NotFound));
        }
        if let Some(code) = territory
            && sanad_domain::Territories::morocco().get(code).is_none()
        {
            return Err(invalid(
                "territory",
                "unknown_territory",
                "the HCP code of a region, province or commune",
            ));
        }
        let territories = policy::scope_territories(actor, territory)
            .map_err(|_| RegistryError::Forbidden(Permission::ManageTargeting.scope()))?;
        Ok(self
            .programmes
            .enrol_eligible(programme_code, &territories, &change)
            .await?)
    }

    pub async fn enrolment_counts(
        &self,
        actor: &Actor,
        programme_code: Option<&str>,
    ) -> Result<Vec<EnrolmentCount>, RegistryError> {
        require(actor, Permission::ReadStatistics)?;
        Ok(self.programmes.enrolment_counts(programme_code).await?)
    }
}

/// Counts the households of a snapshot that `rule` admits, on every core.
pub fn count_rule(rule: &Rule, snapshot: &FactsSnapshot) -> (Tally, Duration) {
    let started = Instant::now();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let tally = rule.tally_parallel(
        &snapshot.households,
        &snapshot.indexes,
        snapshot.on,
        threads,
    );
    (tally, started.elapsed())
}

/// Compiles an ad-hoc rule, refused with its position.
pub fn compile_rule(text: &str) -> Result<Rule, RegistryError> {
    Rule::compile(text).map_err(|e| invalid("rule", "invalid_rule", e.to_string()))
}

fn assess_parallel(engine: &Engine, batch: Vec<super::FactsRow>, on: Date) -> Vec<Assessed> {
    super::assess_all(&batch, |f| Assessed {
        household_id: f.household_id,
        version: f.version,
        assessment: engine.assess(&f.facts, on),
    })
}

/// The unit of a programme, for listings.
pub fn unit_code(unit: Unit) -> &'static str {
    match unit {
        Unit::Household => "household",
        Unit::Person => "person",
    }
}
