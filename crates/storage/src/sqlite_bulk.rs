//! Bulk import into SQLite. sqlx hands every statement to a worker thread with owned arguments, which
//! caps a bulk load well below what SQLite can do; here one connection of the same bundled SQLite runs
//! prepared statements in a tight loop, inside one `BEGIN IMMEDIATE` transaction (all or nothing:
//! a crash or a kill leaves the file as it was).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};
use sanad_app::StoreError;
use sanad_app::crypto::DataCipher;
use sanad_app::store::{BatchConflict, Change, ImportOutcome, Progress, RegistryBatch};
use sanad_app::targeting::{Assessed, Assessor, assess_households};
use sanad_domain::{Household, Person};
use time::format_description::well_known::Rfc3339;

use crate::rows::{assets_text, household_id, person_id, seal, serial_h, serial_p};

/// Page cache of the importing connection, in KiB: large enough for the indexes being built, so
/// that SQLite writes each page once, at commit.
const IMPORT_CACHE_KIB: i64 = 512 * 1024;

fn err(e: rusqlite::Error) -> StoreError {
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

fn ts(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn import(
    path: &Path,
    cipher: &DataCipher,
    batch: &RegistryBatch,
    change: &Change,
    audit: crate::sqlite::ImportAudit,
    assessor: Option<Arc<dyn Assessor>>,
    progress: &dyn Progress,
) -> Result<ImportOutcome, StoreError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    for (name, value) in [
        ("foreign_keys", "ON"),
        ("synchronous", "NORMAL"),
        ("temp_store", "MEMORY"),
    ] {
        conn.pragma_update(None, name, value).map_err(err)?;
    }
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
        .map_err(err)?;
    // Helper threads for the sorts that build the indexes again.
    let helpers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    conn.pragma_update(None, "threads", helpers as i64)
        .map_err(err)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    // The write lock is held from here: no rotation can commit until this import ends.
    let active: Option<String> = tx
        .query_row(
            "SELECT fingerprint FROM installation_keys WHERE kind = 'data' AND status = 'active'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(err)?;
    if active.is_some_and(|a| a != cipher.fingerprint()) {
        return Err(StoreError::Conflict {
            field: "data_key".into(),
            code: "retired_key",
            message: crate::RETIRED_DATA_KEY.into(),
        });
    }

    let conflicts = conflicts(&tx, cipher, batch)?;
    if !conflicts.is_empty() {
        tx.rollback().map_err(err)?;
        return Ok(ImportOutcome::Conflicts(conflicts));
    }

    // Into empty tables, the secondary indexes are dropped and built again after the rows are in
    // (a sort instead of a million random B-tree inserts), inside the same transaction.
    let rebuild = empty_registry(&tx)?
        .then(|| drop_indexes(&tx))
        .transpose()?;

    let persons: Vec<&Person> = batch
        .households
        .iter()
        .flat_map(|h| &h.members)
        .chain(&batch.loose_persons)
        .collect();
    let at = sanad_domain::audit::storable_time(change.at);

    // Three threads: this one only binds and inserts; one seals the persons' national ids and phones and
    // builds their search keys, chunk by chunk, ahead of the inserts; one hashes the audit events.
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let (sealed_tx, sealed_rx) = std::sync::mpsc::sync_channel(4);
        let persons = &persons;
        scope.spawn(move || {
            for chunk in persons.chunks(SEAL_CHUNK) {
                let derived = chunk.iter().map(|p| derive(cipher, p)).collect();
                if sealed_tx.send(derived).is_err() {
                    break;
                }
            }
        });
        let auditor = scope.spawn(move || audit.events(at));

        progress.phase("writing", (batch.households.len() + persons.len()) as u64);
        let mut written = 0u64;
        let mut insert_household = tx
            .prepare(
                "INSERT INTO households (id, version, region_code, province_code, commune_code, area, address, \
                 dwelling_type, tenure, rooms, water_spending, electricity_spending, phone_spending, gas_spending, \
                 assets, declared_income, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)",
            )
            .map_err(err)?;
        // The snapshot stays NULL: the imported state is the household's row until its first update.
        let mut insert_version = tx
            .prepare(
                "INSERT INTO household_versions (household_id, version, at, actor, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(err)?;
        for h in &batch.households {
            insert_household_row(&mut insert_household, h)?;
            insert_version
                .execute(params![
                    serial_h(h.id),
                    h.version,
                    ts(h.updated_at),
                    change.actor,
                    change.reason
                ])
                .map_err(err)?;
            written += 1;
            if written.is_multiple_of(65_536) {
                progress.advance(written);
            }
        }
        let mut insert_person = tx
            .prepare(
                "INSERT INTO persons (id, household_id, relation, first_name, last_name, first_name_ar, \
                 last_name_ar, sex, birth_date, national_id_hash, national_id_enc, disability, schooling, \
                 occupation, search_name, phone_hash, phone_enc, merged_into) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )
            .map_err(err)?;
        for chunk in persons.chunks(SEAL_CHUNK) {
            let derived: Vec<Result<Derived, StoreError>> = sealed_rx
                .recv()
                .map_err(|_| StoreError::Internal("the sealing thread stopped".into()))?;
            for (p, sealed) in chunk.iter().zip(derived) {
                let Derived {
                    nid: (nid_hash, nid_enc),
                    phone: (phone_hash, phone_enc),
                    search_key,
                } = sealed?;
                let d = &p.data;
                let (y, m, day) = d.birth_date.to_calendar_date();
                insert_person
                    .execute(params![
                        serial_p(p.id),
                        p.household_id.map(serial_h),
                        d.relation.as_str(),
                        d.first_name,
                        d.last_name,
                        d.first_name_ar,
                        d.last_name_ar,
                        d.sex.as_str(),
                        format!("{y:04}-{:02}-{day:02}", m as u8),
                        nid_hash,
                        nid_enc,
                        d.disability.as_str(),
                        d.schooling.as_str(),
                        d.occupation.as_str(),
                        search_key,
                        phone_hash,
                        phone_enc,
                        p.merged_into.map(serial_p),
                    ])
                    .map_err(err)?;
                written += 1;
                if written.is_multiple_of(65_536) {
                    progress.advance(written);
                }
            }
        }

        if let Some(indexes) = &rebuild {
            progress.phase("indexing", 0);
            for sql in indexes {
                tx.execute(sql, []).map_err(err)?;
            }
        }

        progress.phase("auditing", 0);
        let events = auditor
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        // The seq is the rowid (max + 1): this transaction is the only writer.
        let mut insert_event = tx
            .prepare(
                "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, details, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)",
            )
            .map_err(err)?;
        let at_text = ts(at);
        for (e, hash) in &events {
            insert_event
                .execute(params![
                    at_text,
                    e.actor,
                    e.action,
                    e.entity_type,
                    e.entity_id,
                    e.details,
                    hash
                ])
                .map_err(err)?;
        }
        progress.advance(written);
        Ok(())
    })?;
    if let Some(assessor) = assessor {
        assess(&tx, assessor.as_ref(), &batch.households, change, progress)?;
    }
    let (max_h, max_p) = crate::rows::batch_max_serials(batch);
    for (kind, max) in [("household", max_h), ("person", max_p)] {
        tx.execute(
            "UPDATE id_counters SET next_serial = MAX(next_serial, ?1) WHERE kind = ?2",
            params![max + 1, kind],
        )
        .map_err(err)?;
    }
    progress.phase("committing", 0);
    tx.commit().map_err(err)?;
    Ok(ImportOutcome::Written {
        households: batch.households.len() as u64,
        persons: persons.len() as u64,
    })
}

/// Households assessed per step of an import: one audit event each for their enrolments.
const ASSESS_CHUNK: usize = 10_000;

/// Scores and checks the imported households against every programme in the import's own
/// transaction (a crash leaves neither the rows nor their scores). One thread assesses the next
/// chunk on every core while this one writes the last.
fn assess(
    tx: &rusqlite::Transaction<'_>,
    assessor: &dyn Assessor,
    households: &[Household],
    change: &Change,
    progress: &dyn Progress,
) -> Result<(), StoreError> {
    let on = change.at.date();
    progress.phase("assessing", households.len() as u64);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let (assessed_tx, assessed_rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for chunk in households.chunks(ASSESS_CHUNK) {
                if assessed_tx
                    .send(assess_households(assessor, chunk, on))
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut done = 0u64;
        for assessed in assessed_rx {
            let fresh: Vec<&Assessed> = assessed.iter().collect();
            crate::sqlite_targeting::write_assessments(tx, &fresh, change)?;
            done += assessed.len() as u64;
            progress.advance(done);
        }
        Ok(())
    })
}

fn empty_registry(tx: &rusqlite::Transaction<'_>) -> Result<bool, StoreError> {
    let n: i64 = tx
        .query_row(
            "SELECT (SELECT COUNT(*) FROM households) + (SELECT COUNT(*) FROM persons)",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    Ok(n == 0)
}

/// Drops the named secondary indexes of households, persons and their versions; returns the
/// statements that create them again.
fn drop_indexes(tx: &rusqlite::Transaction<'_>) -> Result<Vec<String>, StoreError> {
    let mut stmt = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('households', 'persons')",
        )
        .map_err(err)?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    for (name, _) in &indexes {
        tx.execute(&format!("DROP INDEX \"{name}\""), [])
            .map_err(err)?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// What the sealing thread prepares for one person: national id and phone as (look-up hash,
/// ciphertext), and the search key.
struct Derived {
    nid: (Option<String>, Option<String>),
    phone: (Option<String>, Option<String>),
    search_key: String,
}

/// Persons sealed and keyed per message between the sealing thread and the writer.
const SEAL_CHUNK: usize = 16_384;

/// A person's sealed national id and phone, and search key.
fn derive(cipher: &DataCipher, p: &Person) -> Result<Derived, StoreError> {
    let d = &p.data;
    Ok(Derived {
        nid: seal(cipher, d.national_id.as_ref().map(|n| n.as_str()))?,
        phone: seal(cipher, d.phone.as_ref().map(|n| n.as_str()))?,
        search_key: sanad_app::search::stored_search_key(d),
    })
}

fn insert_household_row(
    stmt: &mut rusqlite::Statement<'_>,
    h: &Household,
) -> Result<(), StoreError> {
    let d = &h.data;
    stmt.execute(params![
        serial_h(h.id),
        h.version,
        h.region_code,
        h.province_code,
        d.commune_code,
        d.area.map(|a| a.as_str()).unwrap_or("rural"),
        d.address,
        d.dwelling_type.as_str(),
        d.tenure.as_str(),
        d.rooms,
        d.water_spending.centimes(),
        d.electricity_spending.centimes(),
        d.phone_spending.centimes(),
        d.gas_spending.centimes(),
        assets_text(&d.assets),
        d.declared_income.centimes(),
        ts(h.created_at),
    ])
    .map_err(err)?;
    Ok(())
}

/// The ids and national ids of the batch already in the store.
fn conflicts(
    tx: &rusqlite::Transaction<'_>,
    cipher: &DataCipher,
    batch: &RegistryBatch,
) -> Result<Vec<BatchConflict>, StoreError> {
    let count =
        |sql: &str| -> Result<i64, StoreError> { tx.query_row(sql, [], |r| r.get(0)).map_err(err) };
    let mut out = Vec::new();
    if count("SELECT COUNT(*) FROM households")? > 0 {
        let ids: Vec<i64> = batch.households.iter().map(|h| serial_h(h.id)).collect();
        for id in existing(tx, "households", &ids)? {
            out.push(BatchConflict::HouseholdExists(household_id(id)?));
        }
    }
    let all_persons = || {
        batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&batch.loose_persons)
    };
    if count("SELECT COUNT(*) FROM persons")? > 0 {
        let ids: Vec<i64> = all_persons().map(|p| serial_p(p.id)).collect();
        for id in existing(tx, "persons", &ids)? {
            out.push(BatchConflict::PersonExists(person_id(id)?));
        }
    }
    if count("SELECT COUNT(*) FROM persons WHERE national_id_hash IS NOT NULL")? > 0 {
        let mut stmt = tx
            .prepare("SELECT 1 FROM persons WHERE national_id_hash = ?1")
            .map_err(err)?;
        for p in all_persons() {
            if let Some(nid) = &p.data.national_id
                && stmt
                    .exists([cipher.lookup_hash(nid.as_str())])
                    .map_err(err)?
            {
                out.push(BatchConflict::NationalIdUsed(nid.as_str().to_string()));
            }
        }
    }
    Ok(out)
}

/// Which of `ids` are in `table`: one range scan, since batches hold runs of consecutive serials.
fn existing(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    let (Some(min), Some(max)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let mut stmt = tx
        .prepare(&format!(
            "SELECT id FROM {table} WHERE id BETWEEN ?1 AND ?2"
        ))
        .map_err(err)?;
    let rows = stmt
        .query_map(params![min, max], |r| r.get::<_, i64>(0))
        .map_err(err)?;
    let mut found = Vec::new();
    for id in rows {
        let id = id.map_err(err)?;
        if wanted.contains(&id) {
            found.push(id);
        }
    }
    Ok(found)
}
