//! Rescoring on SQLite: the batch reads and writes of a rescoring run on one connection of the
//! same bundled SQLite, with prepared statements in a tight loop, as the bulk import does. sqlx
//! hands every row to a worker thread and back, which costs more than scoring the household; a
//! run over five million households would spend most of its time there. The rules (which
//! enrolments change) are the same pure code as on every other path (`plan_enrolments`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use sanad_app::StoreError;
use sanad_app::store::Change;
use sanad_app::targeting::{
    Assessed, ContributionRecord, Enrolment, EnrolmentState, FactsRow, RecordOutcome,
    enrolment_entry, plan_enrolments,
};
use sanad_domain::{
    Area, Asset, AssetSet, Disability, DwellingType, HouseholdFacts, HouseholdId, MemberFacts,
    Occupation, Relation, Schooling, Sex, Tenure,
};
use time::format_description::well_known::Rfc3339;

use crate::rows::{amount, corrupt, household_id, person_id, serial_h, serial_p, vocab};

pub(crate) fn err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(ref f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::DatabaseBusy
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// The connection of rescoring runs, opened on first use and kept.
#[derive(Default)]
pub(crate) struct BatchConnection(Mutex<Option<Connection>>);

impl std::fmt::Debug for BatchConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchConnection(..)")
    }
}

impl BatchConnection {
    pub(crate) fn with<T>(
        &self,
        path: &Path,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(err)?;
            conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
            for (name, value) in [
                ("foreign_keys", "ON"),
                ("synchronous", "FULL"),
                ("temp_store", "MEMORY"),
                ("mmap_size", "1073741824"),
                ("cache_size", "-262144"),
            ] {
                conn.pragma_update(None, name, value).map_err(err)?;
            }
            *slot = Some(conn);
        }
        match slot.as_mut() {
            Some(conn) => work(conn),
            None => Err(StoreError::Internal("no batch connection".into())),
        }
    }
}

fn ts(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn date_text(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_date(text: &str) -> Result<time::Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.get(..10).unwrap_or(text), &format)
        .map_err(|_| corrupt("birth date", text))
}

fn parse_ts(text: &str) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| {
            let format = time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory]:[offset_minute]"
            );
            time::OffsetDateTime::parse(text, &format)
        })
        .map_err(|_| corrupt("time", text))
}

pub(crate) fn facts_batch(
    conn: &BatchConnection,
    path: &Path,
    after: Option<HouseholdId>,
    limit: u32,
    on: time::Date,
) -> Result<Vec<FactsRow>, StoreError> {
    conn.with(path, |conn| {
        let tx = conn.transaction().map_err(err)?;
        let mut out: Vec<FactsRow> = Vec::with_capacity(limit as usize);
        {
            let mut households = tx
                .prepare_cached(
                    "SELECT id, version, region_code, commune_code, area, dwelling_type, tenure, rooms, \
                     water_spending, electricity_spending, phone_spending, gas_spending, assets, declared_income \
                     FROM households WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(err)?;
            let mut rows = households
                .query(params![after.map(serial_h).unwrap_or(0), i64::from(limit)])
                .map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                let text = |i: usize| -> Result<String, StoreError> { r.get(i).map_err(err) };
                let int = |i: usize| -> Result<i64, StoreError> { r.get(i).map_err(err) };
                let mut assets = AssetSet::default();
                for a in text(12)?.split(';').filter(|a| !a.is_empty()) {
                    assets.insert(vocab("asset", a, Asset::parse)?);
                }
                let rooms = int(7)?;
                out.push(FactsRow {
                    household_id: household_id(int(0)?)?,
                    version: u32::try_from(int(1)?).map_err(|_| corrupt("version", "?"))?,
                    commune_code: text(3)?,
                    facts: HouseholdFacts {
                        region_code: text(2)?,
                        area: vocab("area", &text(4)?, Area::parse)?,
                        dwelling_type: vocab("dwelling type", &text(5)?, DwellingType::parse)?,
                        tenure: vocab("tenure", &text(6)?, Tenure::parse)?,
                        rooms: u16::try_from(rooms).map_err(|_| corrupt("rooms", rooms))?,
                        water_spending: amount("water spending", int(8)?)?,
                        electricity_spending: amount("electricity spending", int(9)?)?,
                        phone_spending: amount("phone spending", int(10)?)?,
                        gas_spending: amount("gas spending", int(11)?)?,
                        assets,
                        declared_income: amount("declared income", int(13)?)?,
                        members: Vec::new(),
                    },
                });
            }
        }
        let (Some(first), Some(last)) = (out.first(), out.last()) else {
            return Ok(out);
        };
        let (lo, hi) = (serial_h(first.household_id), serial_h(last.household_id));
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(out.len());
        for (i, f) in out.iter().enumerate() {
            index.insert(serial_h(f.household_id), i);
        }
        {
            let mut persons = tx
                .prepare_cached(
                    "SELECT household_id, id, relation, sex, birth_date, disability, schooling, occupation \
                     FROM persons WHERE household_id BETWEEN ?1 AND ?2 ORDER BY household_id, id",
                )
                .map_err(err)?;
            let mut rows = persons.query(params![lo, hi]).map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                let hid: i64 = r.get(0).map_err(err)?;
                let Some(&i) = index.get(&hid) else { continue };
                let text = |i: usize| -> Result<String, StoreError> { r.get(i).map_err(err) };
                let birth = parse_date(&text(4)?)?;
                out[i].facts.members.push(MemberFacts {
                    person_id: Some(person_id(r.get(1).map_err(err)?)?),
                    relation: vocab("relation", &text(2)?, Relation::parse)?,
                    sex: vocab("sex", &text(3)?, Sex::parse)?,
                    age: sanad_domain::facts::age_on(birth, on),
                    disability: vocab("disability", &text(5)?, Disability::parse)?,
                    schooling: vocab("schooling", &text(6)?, Schooling::parse)?,
                    occupation: vocab("occupation", &text(7)?, Occupation::parse)?,
                });
            }
        }
        tx.commit().map_err(err)?;
        Ok(out)
    })
}

fn encode_effects(contributions: &[ContributionRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contributions.len() * 2);
    for c in contributions {
        let v = (c.effect * 10_000.0)
            .round()
            .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// As the shared `record_assessments`, on the batch connection, in one `BEGIN IMMEDIATE`
/// transaction.
pub(crate) fn record_assessments(
    conn: &BatchConnection,
    path: &Path,
    batch: &[Assessed],
    run: Option<i64>,
    change: &Change,
) -> Result<RecordOutcome, StoreError> {
    conn.with(path, |conn| {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut outcome = RecordOutcome::default();
        let Some(lo) = batch.iter().map(|a| serial_h(a.household_id)).min() else {
            tx.commit().map_err(err)?;
            return Ok(outcome);
        };
        let hi = batch
            .iter()
            .map(|a| serial_h(a.household_id))
            .max()
            .unwrap_or(lo);
        let mut versions: HashMap<i64, i64> = HashMap::with_capacity(batch.len());
        {
            let mut q = tx
                .prepare_cached("SELECT id, version FROM households WHERE id BETWEEN ?1 AND ?2")
                .map_err(err)?;
            let mut rows = q.query(params![lo, hi]).map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                versions.insert(r.get(0).map_err(err)?, r.get(1).map_err(err)?);
            }
        }
        let fresh: Vec<&Assessed> = batch
            .iter()
            .filter(|a| versions.get(&serial_h(a.household_id)) == Some(&i64::from(a.version)))
            .collect();
        outcome.stale_households = batch
            .iter()
            .filter(|a| versions.get(&serial_h(a.household_id)) != Some(&i64::from(a.version)))
            .map(|a| a.household_id)
            .collect();
        outcome.stale = outcome.stale_households.len() as u64;
        (outcome.scored, outcome.transitions) = write_assessments(&tx, &fresh, change)?;
        if let (Some(run), Some(last)) = (run, batch.iter().map(|a| a.household_id).max()) {
            tx.execute(
                "UPDATE rescore_runs SET last_household = ?2, scored = scored + ?3, \
                 transitions = transitions + ?4 WHERE id = ?1",
                params![
                    run,
                    serial_h(last),
                    outcome.scored as i64,
                    outcome.transitions as i64
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(outcome)
    })
}

/// Writes assessments of households at the versions they were assessed at (checked by the
/// caller) in the open transaction: scores, enrolment changes, their history and one audit event.
/// Returns how many households were scored and how many enrolments changed state.
pub(crate) fn write_assessments(
    tx: &rusqlite::Transaction<'_>,
    fresh: &[&Assessed],
    change: &Change,
) -> Result<(u64, u64), StoreError> {
    let Some(lo) = fresh.iter().map(|a| serial_h(a.household_id)).min() else {
        return Ok((0, 0));
    };
    let hi = fresh
        .iter()
        .map(|a| serial_h(a.household_id))
        .max()
        .unwrap_or(lo);
    let at = sanad_domain::audit::storable_time(change.at);
    let at_text = ts(at);
    let on_text = date_text(change.at.date());
    let mut scored = 0u64;
    {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO household_scores (household_id, household_version, model_id, model_version, \
                 pmt_index, baseline, segment, effects, scored_on, scored_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (household_id) DO UPDATE SET household_version = excluded.household_version, \
                 model_id = excluded.model_id, model_version = excluded.model_version, \
                 pmt_index = excluded.pmt_index, baseline = excluded.baseline, segment = excluded.segment, \
                 effects = excluded.effects, scored_on = excluded.scored_on, scored_at = excluded.scored_at",
            )
            .map_err(err)?;
        for a in fresh {
            if let Some(s) = &a.assessment.score {
                upsert
                    .execute(params![
                        serial_h(a.household_id),
                        i64::from(a.version),
                        s.model_id,
                        i64::from(s.model_version),
                        s.index,
                        s.baseline,
                        s.segment,
                        encode_effects(&s.contributions),
                        on_text,
                        at_text,
                    ])
                    .map_err(err)?;
                scored += 1;
            }
        }
    }
    let mut current: HashMap<i64, Vec<Enrolment>> = HashMap::new();
    {
        let mut q = tx
            .prepare_cached(
                "SELECT programme_code, household_id, person_id, state, reason, since, \
                 household_version, programme_version, amount, flags \
                 FROM enrolments WHERE household_id BETWEEN ?1 AND ?2",
            )
            .map_err(err)?;
        let mut rows = q.query(params![lo, hi]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let hid: i64 = r.get(1).map_err(err)?;
            let person: i64 = r.get(2).map_err(err)?;
            let state: String = r.get(3).map_err(err)?;
            let since: String = r.get(5).map_err(err)?;
            let flags: String = r.get(9).map_err(err)?;
            current.entry(hid).or_default().push(Enrolment {
                programme_code: r.get(0).map_err(err)?,
                household_id: household_id(hid)?,
                person_id: if person == 0 {
                    None
                } else {
                    Some(person_id(person)?)
                },
                state: vocab("enrolment state", &state, EnrolmentState::parse)?,
                reason: r.get(4).map_err(err)?,
                since: parse_ts(&since)?,
                household_version: u32::try_from(r.get::<_, i64>(6).map_err(err)?)
                    .map_err(|_| corrupt("household version", hid))?,
                programme_version: u32::try_from(r.get::<_, i64>(7).map_err(err)?)
                    .map_err(|_| corrupt("programme version", hid))?,
                amount: amount("enrolment amount", r.get(8).map_err(err)?)?,
                flags: flags
                    .split(';')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
            });
        }
    }
    let mut transitions = Vec::new();
    {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO enrolments (programme_code, household_id, person_id, state, reason, since, \
                 household_version, programme_version, amount, flags) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (programme_code, household_id, person_id) DO UPDATE SET \
                 since = CASE WHEN enrolments.state = excluded.state THEN enrolments.since ELSE excluded.since END, \
                 state = excluded.state, reason = excluded.reason, \
                 household_version = excluded.household_version, programme_version = excluded.programme_version, \
                 amount = excluded.amount, flags = excluded.flags",
            )
            .map_err(err)?;
        let mut event = tx
            .prepare_cached(
                "INSERT INTO enrolment_events (programme_code, household_id, person_id, from_state, \
                 to_state, reason, actor, at, household_version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(err)?;
        for a in fresh {
            let hid = serial_h(a.household_id);
            let now = current.get(&hid).map(Vec::as_slice).unwrap_or(&[]);
            for c in plan_enrolments(&a.assessment.decisions, now) {
                let person = c.person_id.map(serial_p).unwrap_or(0);
                upsert
                    .execute(params![
                        c.programme_code,
                        hid,
                        person,
                        c.to.as_str(),
                        c.reason,
                        at_text,
                        i64::from(a.version),
                        i64::from(c.programme_version),
                        c.amount.centimes(),
                        c.flags.join(";"),
                    ])
                    .map_err(err)?;
                if c.is_transition() {
                    event
                        .execute(params![
                            c.programme_code,
                            hid,
                            person,
                            c.from.map(|s| s.as_str()),
                            c.to.as_str(),
                            c.reason,
                            change.actor,
                            at_text,
                            i64::from(a.version),
                        ])
                        .map_err(err)?;
                    transitions.push((a.household_id, c));
                }
            }
        }
    }
    if !transitions.is_empty() {
        let lines: Vec<_> = transitions.iter().map(|(h, c)| (*h, c)).collect();
        crate::sqlite_payments::append_audit(
            tx,
            change.at,
            enrolment_entry(&change.actor, &lines, true),
        )?;
    }
    Ok((scored, transitions.len() as u64))
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`: copies the log into the database and empties it (waiting,
/// within the busy timeout, for readers of older snapshots to finish).
pub(crate) fn checkpoint(conn: &BatchConnection, path: &Path) -> Result<(), StoreError> {
    conn.with(path, |conn| {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(err)
    })
}
