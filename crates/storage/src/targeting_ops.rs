// Targeting and programmes on both backends (the `TargetingStore` and `ProgrammeStore` ports).
// `include!`d into the `sqlite` and `postgres` modules after `ops.rs`, like `keyring_ops.rs`.

use sanad_app::targeting::{
    Assessed, AssessorSlot, ContributionRecord, Enrolment, EnrolmentChange,
    EnrolmentCount, EnrolmentEvent, EnrolmentFilter, EnrolmentState, FactsRow, IndexRow,
    ModelRecord, ProgrammeRecord, ProgrammeStore, RecordOutcome, RescoreRun, ScoreRecord,
    StoredScore, TargetingStore, plan_enrolments,
};

/// Households per statement of a batch write (well under SQLite's 32,766 bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// Effects are stored as 16-bit integers in units of 1/10,000 of the index.
const EFFECT_UNIT: f64 = 10_000.0;

fn encode_effects(contributions: &[ContributionRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contributions.len() * 2);
    for c in contributions {
        let v = (c.effect * EFFECT_UNIT)
            .round()
            .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn decode_effects(bytes: &[u8], variables: &[String]) -> Vec<ContributionRecord> {
    bytes
        .chunks_exact(2)
        .zip(variables)
        .map(|(b, v)| ContributionRecord {
            variable: std::borrow::Cow::Owned(v.clone()),
            value: f64::NAN,
            effect: f64::from(i16::from_le_bytes([b[0], b[1]])) / EFFECT_UNIT,
        })
        .collect()
}

fn person_key(person: Option<PersonId>) -> i64 {
    person.map(serial_p).unwrap_or(0)
}

fn person_of_key(key: i64) -> Result<Option<PersonId>, StoreError> {
    if key == 0 {
        Ok(None)
    } else {
        person_id(key).map(Some)
    }
}

fn state_of(text: &str) -> Result<EnrolmentState, StoreError> {
    crate::rows::vocab("enrolment state", text, EnrolmentState::parse)
}

fn flags_text(flags: &[String]) -> String {
    flags.join(";")
}

fn flags_of(text: &str) -> Vec<String> {
    text.split(';')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

fn version_u32(what: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| crate::rows::corrupt(what, v))
}

#[derive(sqlx::FromRow)]
struct ModelRow {
    id: String,
    version: i64,
    description: String,
    definition: String,
    variables: String,
    imported_by: String,
    imported_at: time::OffsetDateTime,
    activated_at: Option<time::OffsetDateTime>,
    active: bool,
}

impl ModelRow {
    fn into_record(self) -> Result<ModelRecord, StoreError> {
        Ok(ModelRecord {
            version: version_u32("model version", self.version)?,
            id: self.id,
            description: self.description,
            definition: self.definition,
            variables: self
                .variables
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect(),
            imported_by: self.imported_by,
            imported_at: self.imported_at,
            activated_at: self.activated_at,
            active: self.active,
        })
    }
}

const MODEL_COLUMNS: &str = "id, version, description, definition, variables, imported_by, imported_at, activated_at, active";

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    programme_code: String,
    household_id: i64,
    person_id: i64,
    state: String,
    reason: String,
    since: time::OffsetDateTime,
    household_version: i64,
    programme_version: i64,
    amount: i64,
    flags: String,
}

const ENROLMENT_COLUMNS: &str = "programme_code, household_id, person_id, state, reason, since, household_version, programme_version, amount, flags";

impl EnrolmentRow {
    fn into_enrolment(self) -> Result<Enrolment, StoreError> {
        Ok(Enrolment {
            household_id: crate::rows::household_id(self.household_id)?,
            person_id: person_of_key(self.person_id)?,
            state: state_of(&self.state)?,
            reason: self.reason,
            since: self.since,
            household_version: version_u32("household version", self.household_version)?,
            programme_version: version_u32("programme version", self.programme_version)?,
            amount: crate::rows::amount("enrolment amount", self.amount)?,
            flags: flags_of(&self.flags),
            programme_code: self.programme_code,
        })
    }
}

/// Scores and checks a household just written, in the write's transaction: its score replaces the
/// previous one, its enrolments follow the decisions, and the state changes go into the history
/// and the audit log. Nothing happens when no assessor is installed.
async fn assess_in_tx(
    tx: &mut Tx,
    slot: &AssessorSlot,
    household: &Household,
    change: &Change,
) -> Result<(), StoreError> {
    let Some(assessor) = slot.get() else {
        return Ok(());
    };
    let on = change.at.date();
    let facts = sanad_domain::HouseholdFacts::of(household, on);
    let assessment = assessor.assess(&facts, on);
    let batch = [Assessed {
        household_id: household.id,
        version: household.version,
        assessment,
    }];
    write_assessments(tx, &batch, change, on, false).await?;
    Ok(())
}

/// Writes a batch of assessments (all for households at the given versions, checked by the
/// caller): scores, enrolment changes, their history and one audit event.
async fn write_assessments(
    tx: &mut Tx,
    batch: &[Assessed],
    change: &Change,
    on: time::Date,
    is_batch: bool,
) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let at = sanad_domain::audit::storable_time(change.at);
    let scored: Vec<(&Assessed, &ScoreRecord)> = batch
        .iter()
        .filter_map(|a| a.assessment.score.as_ref().map(|s| (a, s)))
        .collect();
    for chunk in scored.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO household_scores (household_id, household_version, model_id, model_version, \
             pmt_index, baseline, segment, effects, scored_on, scored_at) ",
        );
        q.push_values(chunk, |mut b, (a, s)| {
            b.push_bind(serial_h(a.household_id))
                .push_bind(i64::from(a.version))
                .push_bind(s.model_id.clone())
                .push_bind(i64::from(s.model_version))
                .push_bind(s.index)
                .push_bind(s.baseline)
                .push_bind(s.segment.clone())
                .push_bind(encode_effects(&s.contributions))
                .push_bind(on)
                .push_bind(at);
        });
        q.push(
            " ON CONFLICT (household_id) DO UPDATE SET household_version = excluded.household_version, \
             model_id = excluded.model_id, model_version = excluded.model_version, \
             pmt_index = excluded.pmt_index, baseline = excluded.baseline, segment = excluded.segment, \
             effects = excluded.effects, scored_on = excluded.scored_on, scored_at = excluded.scored_at",
        );
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }

    // The current enrolments of the batch's households.
    let ids: Vec<i64> = batch.iter().map(|a| serial_h(a.household_id)).collect();
    let (lo, hi) = (
        ids.iter().copied().min().unwrap_or(0),
        ids.iter().copied().max().unwrap_or(0),
    );
    let sql = format!(
        "SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE household_id BETWEEN $1 AND $2"
    );
    let rows: Vec<EnrolmentRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
    let mut current: std::collections::HashMap<i64, Vec<Enrolment>> = Default::default();
    for r in rows {
        let hid = r.household_id;
        current.entry(hid).or_default().push(r.into_enrolment()?);
    }

    let mut writes: Vec<(&Assessed, EnrolmentChange)> = Vec::new();
    for a in batch {
        let now = current
            .get(&serial_h(a.household_id))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for c in plan_enrolments(&a.assessment.decisions, now) {
            writes.push((a, c));
        }
    }
    if writes.is_empty() {
        return Ok(0);
    }
    for chunk in writes.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO enrolments (programme_code, household_id, person_id, state, reason, since, \
             household_version, programme_version, amount, flags) ",
        );
        q.push_values(chunk, |mut b, (a, c)| {
            b.push_bind(c.programme_code.clone())
                .push_bind(serial_h(a.household_id))
                .push_bind(person_key(c.person_id))
                .push_bind(c.to.as_str())
                .push_bind(c.reason.clone())
                .push_bind(at)
                .push_bind(i64::from(a.version))
                .push_bind(i64::from(c.programme_version))
                .push_bind(c.amount.centimes())
                .push_bind(flags_text(&c.flags));
        });
        // A state that holds keeps its `since`; a new state starts now.
        q.push(
            " ON CONFLICT (programme_code, household_id, person_id) DO UPDATE SET \
             since = CASE WHEN enrolments.state = excluded.state THEN enrolments.since ELSE excluded.since END, \
             state = excluded.state, reason = excluded.reason, \
             household_version = excluded.household_version, programme_version = excluded.programme_version, \
             amount = excluded.amount, flags = excluded.flags",
        );
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }
    let transitions: Vec<&(&Assessed, EnrolmentChange)> =
        writes.iter().filter(|(_, c)| c.is_transition()).collect();
    for chunk in transitions.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO enrolment_events (programme_code, household_id, person_id, from_state, \
             to_state, reason, actor, at, household_version) ",
        );
        q.push_values(chunk, |mut b, (a, c)| {
            b.push_bind(c.programme_code.clone())
                .push_bind(serial_h(a.household_id))
                .push_bind(person_key(c.person_id))
                .push_bind(c.from.map(|s| s.as_str()))
                .push_bind(c.to.as_str())
                .push_bind(c.reason.clone())
                .push_bind(change.actor.clone())
                .push_bind(at)
                .push_bind(i64::from(a.version));
        });
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }
    if !transitions.is_empty() {
        let lines: Vec<(HouseholdId, &EnrolmentChange)> = transitions
            .iter()
            .map(|(a, c)| (a.household_id, c))
            .collect();
        let entry = sanad_app::targeting::enrolment_entry(&change.actor, &lines, is_batch);
        append_audit(tx, at, vec![entry]).await?;
    }
    Ok(transitions.len() as u64)
}

async fn op_import_model(db: &Ctx, model: &ModelRecord, change: &Change) -> Result<bool, StoreError> {
    let mut tx = begin_write(db).await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT definition FROM pmt_models WHERE id = $1 AND version = $2")
            .bind(&model.id)
            .bind(i64::from(model.version))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(existing) = existing {
        if existing == model.definition {
            return Ok(false);
        }
        return Err(StoreError::Conflict {
            field: "version".into(),
            code: "model_version_exists",
            message: format!(
                "a new version number: {} version {} is already recorded with another definition",
                model.id, model.version
            ),
        });
    }
    let at = sanad_domain::audit::storable_time(change.at);
    sqlx::query(
        "INSERT INTO pmt_models (id, version, description, definition, variables, imported_by, \
         imported_at, activated_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, FALSE)",
    )
    .bind(&model.id)
    .bind(i64::from(model.version))
    .bind(&model.description)
    .bind(&model.definition)
    .bind(model.variables.join(","))
    .bind(&change.actor)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = sanad_app::targeting::model_entry(&change.actor, "model.import", model, &change.reason);
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
}

async fn op_models(db: &Ctx) -> Result<Vec<ModelRecord>, StoreError> {
    let sql = format!("SELECT {MODEL_COLUMNS} FROM pmt_models ORDER BY id, version");
    let rows: Vec<ModelRow> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(ModelRow::into_record).collect()
}

async fn op_model(db: &Ctx, id: &str, version: u32) -> Result<Option<ModelRecord>, StoreError> {
    let sql = format!("SELECT {MODEL_COLUMNS} FROM pmt_models WHERE id = $1 AND version = $2");
    let row: Option<ModelRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(i64::from(version))
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(ModelRow::into_record).transpose()
}

async fn op_active_model(db: &Ctx) -> Result<Option<ModelRecord>, StoreError> {
    let sql = format!("SELECT {MODEL_COLUMNS} FROM pmt_models WHERE active = TRUE");
    let row: Option<ModelRow> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(ModelRow::into_record).transpose()
}

async fn op_activate_model(
    db: &Ctx,
    id: &str,
    version: u32,
    change: &Change,
) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let sql = format!("SELECT {MODEL_COLUMNS} FROM pmt_models WHERE id = $1 AND version = $2");
    let row: Option<ModelRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(i64::from(version))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(model) = row.map(ModelRow::into_record).transpose()? else {
        return Err(StoreError::NotFound);
    };
    sqlx::query("UPDATE pmt_models SET active = FALSE WHERE active = TRUE")
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query("UPDATE pmt_models SET active = TRUE, activated_at = $3 WHERE id = $1 AND version = $2")
        .bind(id)
        .bind(i64::from(version))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let entry = sanad_app::targeting::model_entry(&change.actor, "model.activate", &model, &change.reason);
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_household_score(db: &Ctx, id: HouseholdId) -> Result<Option<StoredScore>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        household_version: i64,
        model_id: String,
        model_version: i64,
        pmt_index: f64,
        baseline: f64,
        segment: String,
        effects: Vec<u8>,
        scored_at: time::OffsetDateTime,
        variables: String,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.household_version, s.model_id, s.model_version, s.pmt_index, s.baseline, s.segment, \
         s.effects, s.scored_at, m.variables FROM household_scores s \
         JOIN pmt_models m ON m.id = s.model_id AND m.version = s.model_version \
         WHERE s.household_id = $1",
    )
    .bind(serial_h(id))
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    let Some(r) = row else { return Ok(None) };
    let variables: Vec<String> = r.variables.split(',').map(str::to_string).collect();
    Ok(Some(StoredScore {
        household_id: id,
        household_version: version_u32("household version", r.household_version)?,
        score: ScoreRecord {
            model_id: r.model_id,
            model_version: version_u32("model version", r.model_version)?,
            index: r.pmt_index,
            baseline: r.baseline,
            segment: r.segment,
            contributions: decode_effects(&r.effects, &variables),
        },
        scored_at: r.scored_at,
    }))
}

// SQLite reads and writes rescoring batches on its own connection (`sqlite_targeting`).
#[allow(dead_code)]
async fn op_facts_batch(
    db: &Ctx,
    after: Option<HouseholdId>,
    limit: u32,
    on: time::Date,
) -> Result<Vec<FactsRow>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct HRow {
        id: i64,
        version: i64,
        region_code: String,
        commune_code: String,
        area: String,
        dwelling_type: String,
        tenure: String,
        rooms: i64,
        water_spending: i64,
        electricity_spending: i64,
        phone_spending: i64,
        gas_spending: i64,
        assets: String,
        declared_income: i64,
    }
    #[derive(sqlx::FromRow)]
    struct PRow {
        id: i64,
        household_id: i64,
        relation: String,
        sex: String,
        birth_date: time::Date,
        disability: String,
        schooling: String,
        occupation: String,
    }
    use crate::rows::{amount, vocab};
    use sanad_domain::{Area, Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure};
    let after = after.map(serial_h).unwrap_or(0);
    let households: Vec<HRow> = sqlx::query_as(
        "SELECT id, version, region_code, commune_code, area, dwelling_type, tenure, rooms, \
         water_spending, electricity_spending, phone_spending, gas_spending, assets, declared_income \
         FROM households WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    let (Some(first), Some(last)) = (households.first(), households.last()) else {
        return Ok(Vec::new());
    };
    let persons: Vec<PRow> = sqlx::query_as(
        "SELECT id, household_id, relation, sex, birth_date, disability, schooling, occupation \
         FROM persons WHERE household_id BETWEEN $1 AND $2 ORDER BY household_id, id",
    )
    .bind(first.id)
    .bind(last.id)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    let mut persons = persons.into_iter().peekable();
    let mut out = Vec::with_capacity(households.len());
    for h in households {
        let mut members = Vec::new();
        while let Some(p) = persons.next_if(|p| p.household_id <= h.id) {
            if p.household_id < h.id {
                continue;
            }
            members.push(sanad_domain::MemberFacts {
                person_id: Some(person_id(p.id)?),
                relation: vocab("relation", &p.relation, Relation::parse)?,
                sex: vocab("sex", &p.sex, Sex::parse)?,
                age: sanad_domain::facts::age_on(p.birth_date, on),
                disability: vocab("disability", &p.disability, Disability::parse)?,
                schooling: vocab("schooling", &p.schooling, Schooling::parse)?,
                occupation: vocab("occupation", &p.occupation, Occupation::parse)?,
            });
        }
        let mut assets = sanad_domain::AssetSet::default();
        for a in h.assets.split(';').filter(|a| !a.is_empty()) {
            assets.insert(vocab("asset", a, Asset::parse)?);
        }
        out.push(FactsRow {
            household_id: crate::rows::household_id(h.id)?,
            version: version_u32("version", h.version)?,
            facts: sanad_domain::HouseholdFacts {
                region_code: h.region_code,
                area: vocab("area", &h.area, Area::parse)?,
                dwelling_type: vocab("dwelling type", &h.dwelling_type, DwellingType::parse)?,
                tenure: vocab("tenure", &h.tenure, Tenure::parse)?,
                rooms: u16::try_from(h.rooms).map_err(|_| crate::rows::corrupt("rooms", h.rooms))?,
                water_spending: amount("water spending", h.water_spending)?,
                electricity_spending: amount("electricity spending", h.electricity_spending)?,
                phone_spending: amount("phone spending", h.phone_spending)?,
                gas_spending: amount("gas spending", h.gas_spending)?,
                assets,
                declared_income: amount("declared income", h.declared_income)?,
                members,
            },
            commune_code: h.commune_code,
        });
    }
    Ok(out)
}

async fn op_households_changed_since(
    db: &Ctx,
    since: time::OffsetDateTime,
) -> Result<Vec<HouseholdId>, StoreError> {
    let sql = format!("SELECT id FROM households WHERE {UPDATED_SINCE} ORDER BY id");
    let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(sanad_domain::audit::storable_time(since))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    ids.into_iter().map(crate::rows::household_id).collect()
}

#[allow(dead_code)]
async fn op_record_assessments(
    db: &Ctx,
    batch: Vec<Assessed>,
    run: Option<i64>,
    change: &Change,
) -> Result<RecordOutcome, StoreError> {
    let mut tx = begin_write(db).await?;
    let mut outcome = RecordOutcome::default();
    let batch = batch.as_slice();
    let fresh: Vec<Assessed> = if batch.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<i64> = batch.iter().map(|a| serial_h(a.household_id)).collect();
        let lo = ids.iter().copied().min().unwrap_or(0);
        let hi = ids.iter().copied().max().unwrap_or(0);
        let versions: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, version FROM households WHERE id BETWEEN $1 AND $2")
                .bind(lo)
                .bind(hi)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
        let versions: std::collections::HashMap<i64, i64> = versions.into_iter().collect();
        let (fresh, stale): (Vec<Assessed>, Vec<Assessed>) = batch.iter().cloned().partition(|a| {
            versions.get(&serial_h(a.household_id)) == Some(&i64::from(a.version))
        });
        outcome.stale_households = stale.iter().map(|a| a.household_id).collect();
        fresh
    };
    outcome.stale = outcome.stale_households.len() as u64;
    outcome.scored = fresh
        .iter()
        .filter(|a| a.assessment.score.is_some())
        .count() as u64;
    outcome.transitions = write_assessments(&mut tx, &fresh, change, change.at.date(), true).await?;
    if let (Some(run), Some(last)) = (run, batch.iter().map(|a| a.household_id).max()) {
        sqlx::query(
            "UPDATE rescore_runs SET last_household = $2, scored = scored + $3, \
             transitions = transitions + $4 WHERE id = $1",
        )
        .bind(run)
        .bind(serial_h(last))
        .bind(outcome.scored as i64)
        .bind(outcome.transitions as i64)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(outcome)
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    model_id: Option<String>,
    model_version: Option<i64>,
    programmes: String,
    started_at: time::OffsetDateTime,
    last_household: Option<i64>,
    finished_at: Option<time::OffsetDateTime>,
    scored: i64,
    transitions: i64,
}

impl RunRow {
    fn into_run(self) -> Result<RescoreRun, StoreError> {
        Ok(RescoreRun {
            id: self.id,
            model_id: self.model_id,
            model_version: self.model_version.map(|v| version_u32("model version", v)).transpose()?,
            programmes: self.programmes,
            started_at: self.started_at,
            last_household: self.last_household.map(crate::rows::household_id).transpose()?,
            finished_at: self.finished_at,
            scored: self.scored as u64,
            transitions: self.transitions as u64,
        })
    }
}

const RUN_COLUMNS: &str = "id, model_id, model_version, programmes, started_at, last_household, finished_at, scored, transitions";

async fn op_start_rescore(
    db: &Ctx,
    model: Option<(&str, u32)>,
    programmes: &str,
    restart: bool,
    at: time::OffsetDateTime,
) -> Result<RescoreRun, StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let mut tx = begin_write(db).await?;
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM rescore_runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1"
    );
    let open: Option<RunRow> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    if let Some(open) = open {
        let same = open.model_id.as_deref() == model.map(|m| m.0)
            && open.model_version == model.map(|m| i64::from(m.1))
            && open.programmes == programmes;
        if same && !restart {
            tx.commit().await.map_err(db_error)?;
            return open.into_run();
        }
        // Another model or programme set: the unfinished run is abandoned (closed as it stands).
        sqlx::query("UPDATE rescore_runs SET finished_at = $2 WHERE id = $1")
            .bind(open.id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    let sql = format!(
        "INSERT INTO rescore_runs (model_id, model_version, programmes, started_at) \
         VALUES ($1, $2, $3, $4) RETURNING {RUN_COLUMNS}"
    );
    let row: RunRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(model.map(|m| m.0))
        .bind(model.map(|m| i64::from(m.1)))
        .bind(programmes)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    row.into_run()
}

async fn op_finish_rescore(db: &Ctx, run: i64, at: time::OffsetDateTime) -> Result<RescoreRun, StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let mut tx = begin_write(db).await?;
    let sql = format!(
        "UPDATE rescore_runs SET finished_at = $2 WHERE id = $1 RETURNING {RUN_COLUMNS}"
    );
    let row: Option<RunRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(run)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(row) = row else {
        return Err(StoreError::NotFound);
    };
    let run = row.into_run()?;
    let entry = sanad_domain::audit::AuditEntry {
        actor: "sanad".into(),
        action: "targeting.rescore".into(),
        entity_type: "rescore_run".into(),
        entity_id: run.id.to_string(),
        details: serde_json::json!({
            "model": run.model_id.as_ref().map(|m| format!("{m}@{}", run.model_version.unwrap_or(0))),
            "programmes": run.programmes,
            "scored": run.scored,
            "transitions": run.transitions,
        })
        .to_string(),
    };
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(run)
}

async fn op_index_rows(
    db: &Ctx,
    after: Option<HouseholdId>,
    limit: u32,
) -> Result<Vec<IndexRow>, StoreError> {
    let rows: Vec<(i64, String, String, f64)> = sqlx::query_as(
        "SELECT s.household_id, h.region_code, h.area, s.pmt_index FROM household_scores s \
         JOIN households h ON h.id = s.household_id WHERE s.household_id > $1 \
         ORDER BY s.household_id LIMIT $2",
    )
    .bind(after.map(serial_h).unwrap_or(0))
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|(id, region_code, area, index)| {
            Ok(IndexRow {
                household_id: crate::rows::household_id(id)?,
                region_code,
                area: crate::rows::vocab("area", &area, sanad_domain::Area::parse)?,
                index,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ProgrammeRow {
    code: String,
    version: i64,
    definition: String,
    defined_by: String,
    defined_at: time::OffsetDateTime,
}

impl ProgrammeRow {
    fn into_record(self) -> Result<ProgrammeRecord, StoreError> {
        Ok(ProgrammeRecord {
            version: version_u32("programme version", self.version)?,
            code: self.code,
            definition: self.definition,
            defined_by: self.defined_by,
            defined_at: self.defined_at,
        })
    }
}

async fn op_define_programme(
    db: &Ctx,
    programme: &ProgrammeRecord,
    change: &Change,
) -> Result<bool, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let existing: Option<String> =
        sqlx::query_scalar("SELECT definition FROM programmes WHERE code = $1 AND version = $2")
            .bind(&programme.code)
            .bind(i64::from(programme.version))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(existing) = existing {
        if existing == programme.definition {
            return Ok(false);
        }
        return Err(StoreError::Conflict {
            field: "version".into(),
            code: "programme_version_exists",
            message: format!(
                "a new version number: {} version {} is already defined otherwise",
                programme.code, programme.version
            ),
        });
    }
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM programmes WHERE code = $1")
            .bind(&programme.code)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(latest) = latest
        && latest >= i64::from(programme.version)
    {
        return Err(StoreError::Conflict {
            field: "version".into(),
            code: "programme_version_old",
            message: format!(
                "a version above {latest}, the latest of {}",
                programme.code
            ),
        });
    }
    sqlx::query(
        "INSERT INTO programmes (code, version, definition, defined_by, defined_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&programme.code)
    .bind(i64::from(programme.version))
    .bind(&programme.definition)
    .bind(&change.actor)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = sanad_domain::audit::AuditEntry {
        actor: change.actor.clone(),
        action: "programme.define".into(),
        entity_type: "programme".into(),
        entity_id: programme.code.clone(),
        details: serde_json::json!({
            "version": programme.version,
            "reason": change.reason,
            "definition_sha256": sanad_app::targeting::sha256_hex(programme.definition.as_bytes()),
        })
        .to_string(),
    };
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
}

async fn op_programmes(db: &Ctx) -> Result<Vec<ProgrammeRecord>, StoreError> {
    let rows: Vec<ProgrammeRow> = sqlx::query_as(
        "SELECT p.code, p.version, p.definition, p.defined_by, p.defined_at FROM programmes p \
         WHERE p.version = (SELECT MAX(q.version) FROM programmes q WHERE q.code = p.code) \
         ORDER BY p.code",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter().map(ProgrammeRow::into_record).collect()
}

async fn op_programme(
    db: &Ctx,
    code: &str,
    version: Option<u32>,
) -> Result<Option<ProgrammeRecord>, StoreError> {
    let row: Option<ProgrammeRow> = sqlx::query_as(
        "SELECT code, version, definition, defined_by, defined_at FROM programmes \
         WHERE code = $1 AND ($2 IS NULL OR version = $2) ORDER BY version DESC LIMIT 1",
    )
    .bind(code)
    .bind(version.map(i64::from))
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    row.map(ProgrammeRow::into_record).transpose()
}

/// ` AND` the enrolment's household lies inside one of the territories (none: no filter).
fn push_enrolment_territories(
    q: &mut QueryBuilder<Db>,
    household_column: &str,
    territories: &[String],
) -> Result<(), StoreError> {
    if territories.is_empty() {
        return Ok(());
    }
    q.push(" AND EXISTS (SELECT 1 FROM households h WHERE h.id = ")
        .push(household_column);
    push_territories(q, territories)?;
    q.push(")");
    Ok(())
}

async fn op_enrolments(db: &Ctx, filter: &EnrolmentFilter) -> Result<Vec<Enrolment>, StoreError> {
    let mut q = QueryBuilder::<Db>::new("SELECT ");
    q.push(
        "e.programme_code, e.household_id, e.person_id, e.state, e.reason, e.since, \
         e.household_version, e.programme_version, e.amount, e.flags FROM enrolments e WHERE 1 = 1",
    );
    if let Some(code) = &filter.programme_code {
        q.push(" AND e.programme_code = ").push_bind(code.clone());
    }
    if let Some(state) = filter.state {
        q.push(" AND e.state = ").push_bind(state.as_str());
    }
    if let Some(h) = filter.household_id {
        q.push(" AND e.household_id = ").push_bind(serial_h(h));
    }
    if let Some((h, p)) = filter.after {
        q.push(" AND (e.household_id > ")
            .push_bind(serial_h(h))
            .push(" OR (e.household_id = ")
            .push_bind(serial_h(h))
            .push(" AND e.person_id > ")
            .push_bind(person_key(p))
            .push("))");
    }
    push_enrolment_territories(&mut q, "e.household_id", &filter.territories)?;
    q.push(" ORDER BY e.household_id, e.person_id, e.programme_code LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)));
    let rows: Vec<EnrolmentRow> = q
        .build_query_as()
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(EnrolmentRow::into_enrolment).collect()
}

async fn op_enrolment_history(
    db: &Ctx,
    household: HouseholdId,
) -> Result<Vec<EnrolmentEvent>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        programme_code: String,
        person_id: i64,
        from_state: Option<String>,
        to_state: String,
        reason: String,
        actor: String,
        at: time::OffsetDateTime,
        household_version: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT programme_code, person_id, from_state, to_state, reason, actor, at, household_version \
         FROM enrolment_events WHERE household_id = $1 ORDER BY id",
    )
    .bind(serial_h(household))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok(EnrolmentEvent {
                programme_code: r.programme_code,
                household_id: household,
                person_id: person_of_key(r.person_id)?,
                from: r.from_state.as_deref().map(state_of).transpose()?,
                to: state_of(&r.to_state)?,
                reason: r.reason,
                actor: r.actor,
                at: r.at,
                household_version: version_u32("household version", r.household_version)?,
            })
        })
        .collect()
}

async fn op_change_enrolment(
    db: &Ctx,
    programme_code: &str,
    household: HouseholdId,
    person: Option<PersonId>,
    to: EnrolmentState,
    reason: &str,
    change: &Change,
) -> Result<Enrolment, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let sql = format!(
        "SELECT {ENROLMENT_COLUMNS} FROM enrolments \
         WHERE programme_code = $1 AND household_id = $2 AND person_id = $3"
    );
    let row: Option<EnrolmentRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(programme_code)
        .bind(serial_h(household))
        .bind(person_key(person))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    let Some(current) = row.map(EnrolmentRow::into_enrolment).transpose()? else {
        return Err(StoreError::NotFound);
    };
    if !current.state.manual_allowed(to) {
        return Err(StoreError::Conflict {
            field: "state".into(),
            code: "enrolment_transition",
            message: format!(
                "a move allowed from `{}`; `{}` → `{to}` is not",
                current.state, current.state
            ),
        });
    }
    sqlx::query(
        "UPDATE enrolments SET state = $4, reason = $5, since = $6 \
         WHERE programme_code = $1 AND household_id = $2 AND person_id = $3",
    )
    .bind(programme_code)
    .bind(serial_h(household))
    .bind(person_key(person))
    .bind(to.as_str())
    .bind(reason)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let c = EnrolmentChange {
        programme_code: programme_code.to_string(),
        person_id: person,
        from: Some(current.state),
        to,
        reason: reason.to_string(),
        programme_version: current.programme_version,
        amount: current.amount,
        flags: current.flags.clone(),
    };
    sqlx::query(
        "INSERT INTO enrolment_events (programme_code, household_id, person_id, from_state, \
         to_state, reason, actor, at, household_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(programme_code)
    .bind(serial_h(household))
    .bind(person_key(person))
    .bind(current.state.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(&change.actor)
    .bind(at)
    .bind(i64::from(current.household_version))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = sanad_app::targeting::enrolment_entry(&change.actor, &[(household, &c)], false);
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Enrolment {
        state: to,
        reason: reason.to_string(),
        since: at,
        ..current
    })
}

async fn op_enrol_eligible(
    db: &Ctx,
    programme_code: &str,
    territories: &[String],
    change: &Change,
) -> Result<u64, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let mut q = QueryBuilder::<Db>::new(
        "SELECT e.programme_code, e.household_id, e.person_id, e.state, e.reason, e.since, \
         e.household_version, e.programme_version, e.amount, e.flags FROM enrolments e \
         WHERE e.state = 'eligible' AND e.programme_code = ",
    );
    q.push_bind(programme_code.to_string());
    push_enrolment_territories(&mut q, "e.household_id", territories)?;
    let rows: Vec<EnrolmentRow> = q
        .build_query_as()
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    let enrolments: Vec<Enrolment> = rows
        .into_iter()
        .map(EnrolmentRow::into_enrolment)
        .collect::<Result<_, _>>()?;
    if enrolments.is_empty() {
        return Ok(0);
    }
    // The same rows as selected: the transaction keeps every other writer out meanwhile.
    let mut q = QueryBuilder::<Db>::new("UPDATE enrolments SET state = 'enrolled', reason = ");
    q.push_bind(change.reason.clone())
        .push(", since = ")
        .push_bind(at)
        .push(" WHERE state = 'eligible' AND programme_code = ")
        .push_bind(programme_code.to_string());
    push_enrolment_territories(&mut q, "enrolments.household_id", territories)?;
    q.build().execute(&mut *tx).await.map_err(db_error)?;
    for chunk in enrolments.chunks(ROWS_PER_STATEMENT) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO enrolment_events (programme_code, household_id, person_id, from_state, \
             to_state, reason, actor, at, household_version) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(programme_code.to_string())
                .push_bind(serial_h(e.household_id))
                .push_bind(person_key(e.person_id))
                .push_bind("eligible")
                .push_bind("enrolled")
                .push_bind(change.reason.clone())
                .push_bind(change.actor.clone())
                .push_bind(at)
                .push_bind(i64::from(e.household_version));
        });
        q.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    let changes: Vec<EnrolmentChange> = enrolments
        .iter()
        .map(|e| EnrolmentChange {
            programme_code: programme_code.to_string(),
            person_id: e.person_id,
            from: Some(EnrolmentState::Eligible),
            to: EnrolmentState::Enrolled,
            reason: change.reason.clone(),
            programme_version: e.programme_version,
            amount: e.amount,
            flags: e.flags.clone(),
        })
        .collect();
    let lines: Vec<(HouseholdId, &EnrolmentChange)> = enrolments
        .iter()
        .zip(&changes)
        .map(|(e, c)| (e.household_id, c))
        .collect();
    let entry = sanad_app::targeting::enrolment_entry(&change.actor, &lines, true);
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(enrolments.len() as u64)
}

async fn op_enrolment_counts(
    db: &Ctx,
    programme_code: Option<&str>,
) -> Result<Vec<EnrolmentCount>, StoreError> {
    let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT e.programme_code, h.region_code, h.area, e.state, COUNT(*), CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) \
         FROM enrolments e JOIN households h ON h.id = e.household_id \
         WHERE ($1 IS NULL OR e.programme_code = $1) \
         GROUP BY e.programme_code, h.region_code, h.area, e.state \
         ORDER BY e.programme_code, h.region_code, h.area, e.state",
    )
    .bind(programme_code)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|(programme_code, region_code, area, state, count, amount)| {
            Ok(EnrolmentCount {
                programme_code,
                region_code,
                area: crate::rows::vocab("area", &area, sanad_domain::Area::parse)?,
                state: state_of(&state)?,
                count: count as u64,
                amount: crate::rows::amount("amount", amount)?,
            })
        })
        .collect()
}

macro_rules! targeting_store {
    ($store:ty) => {
        #[async_trait]
        impl TargetingStore for $store {
            fn assessor_slot(&self) -> &AssessorSlot {
                &self.ctx.assessor
            }

            async fn import_model(
                &self,
                model: &ModelRecord,
                change: &Change,
            ) -> Result<bool, StoreError> {
                op_import_model(&self.ctx, model, change).await
            }

            async fn models(&self) -> Result<Vec<ModelRecord>, StoreError> {
                op_models(&self.ctx).await
            }

            async fn model(&self, id: &str, version: u32) -> Result<Option<ModelRecord>, StoreError> {
                op_model(&self.ctx, id, version).await
            }

            async fn active_model(&self) -> Result<Option<ModelRecord>, StoreError> {
                op_active_model(&self.ctx).await
            }

            async fn activate_model(
                &self,
                id: &str,
                version: u32,
                change: &Change,
            ) -> Result<(), StoreError> {
                op_activate_model(&self.ctx, id, version, change).await
            }

            async fn household_score(
                &self,
                id: HouseholdId,
            ) -> Result<Option<StoredScore>, StoreError> {
                op_household_score(&self.ctx, id).await
            }

            async fn households_changed_since(
                &self,
                since: time::OffsetDateTime,
            ) -> Result<Vec<HouseholdId>, StoreError> {
                op_households_changed_since(&self.ctx, since).await
            }

            async fn facts_batch(
                &self,
                after: Option<HouseholdId>,
                limit: u32,
                on: time::Date,
            ) -> Result<Vec<FactsRow>, StoreError> {
                self.facts_batch_impl(after, limit, on).await
            }

            async fn record_assessments(
                &self,
                batch: Vec<Assessed>,
                run: Option<i64>,
                change: &Change,
            ) -> Result<RecordOutcome, StoreError> {
                self.record_assessments_impl(batch, run, change).await
            }

            async fn start_rescore(
                &self,
                model: Option<(&str, u32)>,
                programmes: &str,
                restart: bool,
                at: time::OffsetDateTime,
            ) -> Result<RescoreRun, StoreError> {
                op_start_rescore(&self.ctx, model, programmes, restart, at).await
            }

            async fn finish_rescore(
                &self,
                run: i64,
                at: time::OffsetDateTime,
            ) -> Result<RescoreRun, StoreError> {
                self.finish_rescore_impl(run, at).await
            }

            async fn index_rows(
                &self,
                after: Option<HouseholdId>,
                limit: u32,
            ) -> Result<Vec<IndexRow>, StoreError> {
                op_index_rows(&self.ctx, after, limit).await
            }
        }

        #[async_trait]
        impl ProgrammeStore for $store {
            async fn define_programme(
                &self,
                programme: &ProgrammeRecord,
                change: &Change,
            ) -> Result<bool, StoreError> {
                op_define_programme(&self.ctx, programme, change).await
            }

            async fn programmes(&self) -> Result<Vec<ProgrammeRecord>, StoreError> {
                op_programmes(&self.ctx).await
            }

            async fn programme(
                &self,
                code: &str,
                version: Option<u32>,
            ) -> Result<Option<ProgrammeRecord>, StoreError> {
                op_programme(&self.ctx, code, version).await
            }

            async fn enrolments(
                &self,
                filter: &EnrolmentFilter,
            ) -> Result<Vec<Enrolment>, StoreError> {
                op_enrolments(&self.ctx, filter).await
            }

            async fn enrolment_history(
                &self,
                household: HouseholdId,
            ) -> Result<Vec<EnrolmentEvent>, StoreError> {
                op_enrolment_history(&self.ctx, household).await
            }

            async fn change_enrolment(
                &self,
                programme_code: &str,
                household: HouseholdId,
                person: Option<PersonId>,
                to: EnrolmentState,
                reason: &str,
                change: &Change,
            ) -> Result<Enrolment, StoreError> {
                op_change_enrolment(&self.ctx, programme_code, household, person, to, reason, change)
                    .await
            }

            async fn enrol_eligible(
                &self,
                programme_code: &str,
                territories: &[String],
                change: &Change,
            ) -> Result<u64, StoreError> {
                op_enrol_eligible(&self.ctx, programme_code, territories, change).await
            }

            async fn enrolment_counts(
                &self,
                programme_code: Option<&str>,
            ) -> Result<Vec<EnrolmentCount>, StoreError> {
                op_enrolment_counts(&self.ctx, programme_code).await
            }
        }
    };
}

