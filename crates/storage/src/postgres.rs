//! The registry on PostgreSQL, the production store. Writers do not serialise on the audit log: an
//! event takes its seq from a sequence and records its transaction id (see `append_audit`); bulk
//! imports go through `COPY`.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use sanad_app::RegistryStore;
use sanad_app::store::{ImportOutcome, Progress, RegistryBatch};
use sqlx::postgres::{PgPool, PgPoolOptions};

type Db = sqlx::Postgres;
type Pool = PgPool;
type Tx = sqlx::Transaction<'static, Db>;
/// PostgreSQL takes concurrent writers itself: a write is a transaction on a pooled connection.
type Writer = ();

async fn begin_write(db: &Ctx) -> Result<Tx, StoreError> {
    let () = db.writer;
    db.pool.begin().await.map_err(db_error)
}

include!("ops.rs");

/// Events whose writing transaction is older than every running one: each has committed (and is
/// visible) or rolled back (and is not there), so a batch holds only events whose fate is settled,
/// in seq order. Together with `leaf_index IS NULL`, an event that commits late (with a smaller
/// seq than events already integrated) is taken by a later batch, never skipped and never twice.
const SETTLED: &str = " AND (txid IS NULL OR txid < pg_snapshot_xmin(pg_current_snapshot()))";

/// One integrator at a time across every server: a transaction-scoped advisory lock, tried, not
/// waited for (another instance is doing the work).
async fn lead_integration(tx: &mut Tx) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(INTEGRATOR_LOCK)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)
}

/// Keeps every writer of sealed values out until the transaction ends (readers go on).
async fn lock_writers(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query("LOCK TABLE persons, household_versions IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Waits for the integrator's lead and holds it until the transaction ends.
async fn lock_log(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(INTEGRATOR_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The advisory lock of the audit log's integrator.
const INTEGRATOR_LOCK: i64 = 0x5341_4e41_4400_0002;

include!("log_ops.rs");
include!("keyring_ops.rs");
include!("account_ops.rs");
include!("declaration_ops.rs");
include!("request_ops.rs");
include!("certificate_ops.rs");
include!("targeting_ops.rs");

/// The month of a household's registration, in UTC.
/// Households written at or after `$1`.
const UPDATED_SINCE: &str = "updated_at >= $1";
const MONTH_OF_CREATED: &str = "to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM')";

include!("dashboard_ops.rs");

/// Rows of a JSON array of arrays bound as `$1` (text), as a table `j` with the columns named and
/// typed.
fn json_rows(columns: &[(&str, &str)]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| format!("(r.value ->> {i})::{ty} AS {name}"))
        .collect();
    format!(
        "(SELECT {} FROM jsonb_array_elements($1::jsonb) AS r(value)) AS j",
        cols.join(", ")
    )
}

/// Rows per JSON statement of a bulk write.
const JSON_ROWS_PER_STATEMENT: usize = 10_000;

/// A ten-digit pick-up code, drawn by the database for each payment.
const RANDOM_CODE: &str = "lpad((floor(random() * 10000000000))::bigint::text, 10, '0')";

include!("payment_ops.rs");

/// The advisory lock that queues bulk imports behind each other.
const IMPORT_LOCK: i64 = 0x5341_4e41_4400_0001;

/// The ids and national ids of a batch that are already in the store.
async fn op_batch_conflicts(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    batch: &sanad_app::store::RegistryBatch,
) -> Result<Vec<sanad_app::store::BatchConflict>, StoreError> {
    use sanad_app::store::BatchConflict;
    let mut conflicts = Vec::new();
    let (households, persons, with_nid): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM households), (SELECT COUNT(*) FROM persons), \
         (SELECT COUNT(*) FROM persons WHERE national_id_hash IS NOT NULL)",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)?;
    if households > 0 {
        let ids: Vec<i64> = batch.households.iter().map(|h| serial_h(h.id)).collect();
        for found in existing_ids(tx, "households", &ids).await? {
            conflicts.push(BatchConflict::HouseholdExists(crate::rows::household_id(
                found,
            )?));
        }
    }
    if persons > 0 {
        let ids: Vec<i64> = batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&batch.loose_persons)
            .map(|p| serial_p(p.id))
            .collect();
        for found in existing_ids(tx, "persons", &ids).await? {
            conflicts.push(BatchConflict::PersonExists(person_id(found)?));
        }
    }
    if with_nid > 0 {
        // Looked up by keyed hash; the hash names the id back in this batch.
        let by_hash: std::collections::HashMap<String, String> = batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&batch.loose_persons)
            .filter_map(|p| p.data.national_id.as_ref())
            .map(|n| (cipher.lookup_hash(n.as_str()), n.as_str().to_string()))
            .collect();
        let hashes: Vec<String> = by_hash.keys().cloned().collect();
        for chunk in hashes.chunks(50_000) {
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT national_id_hash FROM persons WHERE national_id_hash = ANY($1)",
            )
            .bind(chunk)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_error)?;
            conflicts.extend(
                found
                    .into_iter()
                    .filter_map(|h| by_hash.get(&h).cloned())
                    .map(BatchConflict::NationalIdUsed),
            );
        }
    }
    Ok(conflicts)
}

/// Which of `ids` are in `table`; one range scan, since batches hold runs of consecutive serials.
async fn existing_ids(tx: &mut Tx, table: &str, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let (Some(min), Some(max)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(Vec::new());
    };
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    let mut found = Vec::new();
    let sql = format!("SELECT id FROM {table} WHERE id BETWEEN $1 AND $2");
    let mut rows = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
        .bind(*min)
        .bind(*max)
        .fetch(&mut **tx);
    while let Some(id) = rows.try_next().await.map_err(db_error)? {
        if wanted.contains(&id) {
            found.push(id);
        }
    }
    Ok(found)
}

#[derive(Clone)]
pub struct PgStore {
    ctx: Ctx,
    /// Kept for `pg_dump`; never printed (it may hold a password).
    url: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &crate::redact_url(&self.url))
            .finish()
    }
}

impl PgStore {
    pub async fn connect(
        url: &str,
        cipher: std::sync::Arc<sanad_app::crypto::DataCipher>,
    ) -> Result<Self, StoreError> {
        // Enough connections to keep every core busy while others wait on the network or a
        // commit's flush; PostgreSQL itself does not gain from more.
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2);
        let pool = PgPoolOptions::new()
            .max_connections((cores * 4).clamp(10, 64))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot connect to PostgreSQL at `{}`: {e}",
                    crate::redact_url(url)
                ))
            })?;
        Ok(PgStore {
            ctx: Ctx {
                pool,
                cipher,
                writer: (),
                access: Default::default(),
                accounts: Default::default(),
                assessor: Default::default(),
            }
            .with_access_log(),
            url: url.to_string(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.ctx.pool
    }

    /// The same database (same pool) sealing with another data key.
    pub fn with_cipher(&self, cipher: std::sync::Arc<sanad_app::crypto::DataCipher>) -> Self {
        // Everything else (pools, paths) is shared with `self`.
        PgStore {
            ctx: Ctx {
                cipher,
                ..self.ctx.clone()
            },
            ..self.clone()
        }
    }
}

keyring_store!(PgStore);
account_store!(PgStore);
declaration_store!(PgStore);
request_store!(PgStore);
certificate_store!(PgStore);
targeting_store!(PgStore);
dashboard_store!(PgStore);
impl_payment_store!(PgStore);

impl PgStore {
    /// The schema of an older release: the migrations numbered below `version` only, and the
    /// territories (for tests of a migration over the data an older release wrote).
    #[doc(hidden)]
    pub async fn migrate_before(&self, version: i64) -> Result<(), StoreError> {
        op_migrate(&self.ctx, sqlx::migrate!("./migrations/postgres"), version).await
    }
}

impl PgStore {
    async fn finish_rescore_impl(
        &self,
        run: i64,
        at: time::OffsetDateTime,
    ) -> Result<sanad_app::targeting::RescoreRun, StoreError> {
        op_finish_rescore(&self.ctx, run, at).await
    }

    async fn spans_impl(
        &self,
        territories: &[String],
        kinds: &[String],
    ) -> Result<Vec<sanad_app::requests::SpanRow>, StoreError> {
        op_request_spans(&self.ctx, territories, kinds).await
    }

    async fn facts_batch_impl(
        &self,
        after: Option<sanad_domain::HouseholdId>,
        limit: u32,
        on: time::Date,
    ) -> Result<Vec<sanad_app::targeting::FactsRow>, StoreError> {
        op_facts_batch(&self.ctx, after, limit, on).await
    }

    async fn record_assessments_impl(
        &self,
        batch: Vec<sanad_app::targeting::Assessed>,
        run: Option<i64>,
        change: &Change,
    ) -> Result<sanad_app::targeting::RecordOutcome, StoreError> {
        op_record_assessments(&self.ctx, batch, run, change).await
    }
}

/// The bulk paths of payments (see `impl_payment_store!`): the shared code, but bulk rows travel
/// as typed arrays (`UNNEST`), which the server reads without parsing JSON.
impl PgStore {
    async fn cycle_inputs_impl(
        &self,
        programme_code: &str,
        after: Option<HouseholdId>,
        upto: HouseholdId,
    ) -> Result<Vec<sanad_app::payments::CycleInput>, StoreError> {
        op_cycle_inputs(&self.ctx, programme_code, after, upto).await
    }

    async fn record_entitlements_impl(
        &self,
        cycle: i64,
        rows: &[sanad_app::payments::Entitlement],
        last: HouseholdId,
        skipped: u64,
    ) -> Result<u64, StoreError> {
        let mut tx = begin_write(&self.ctx).await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM cycles WHERE id = $1 FOR UPDATE")
                .bind(cycle)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        match state.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("computing") => {}
            Some(other) => {
                return Err(StoreError::Conflict {
                    field: "cycle".into(),
                    code: "cycle_not_computing",
                    message: format!("a cycle being computed: cycle {cycle} is {other}"),
                });
            }
        }
        let households: Vec<i64> = rows.iter().map(|e| serial_h(e.household_id)).collect();
        let persons: Vec<i64> = rows.iter().map(|e| person_key(e.person_id)).collect();
        let versions: Vec<i64> = rows
            .iter()
            .map(|e| i64::from(e.household_version))
            .collect();
        let indexes: Vec<Option<f64>> = rows.iter().map(|e| e.index).collect();
        let amounts: Vec<i64> = rows.iter().map(|e| e.amount).collect();
        let added = sqlx::query(
            "INSERT INTO entitlements (cycle_id, household_id, person_id, household_version, \
             pmt_index, amount) SELECT $1, h, p, v, i, a \
             FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::DOUBLE PRECISION[], $6::BIGINT[]) \
             AS r(h, p, v, i, a) ON CONFLICT (cycle_id, household_id, person_id) DO NOTHING",
        )
        .bind(cycle)
        .bind(&households)
        .bind(&persons)
        .bind(&versions)
        .bind(&indexes)
        .bind(&amounts)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        sqlx::query("UPDATE cycles SET last_household = $2, skipped = skipped + $3 WHERE id = $1")
            .bind(cycle)
            .bind(serial_h(last))
            .bind(i64::try_from(skipped).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(added)
    }

    async fn finish_cycle_impl(
        &self,
        cycle: i64,
        change: &Change,
    ) -> Result<sanad_app::payments::Cycle, StoreError> {
        op_finish_cycle(&self.ctx, cycle, change).await
    }

    async fn batch_payments_impl(
        &self,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<sanad_app::payments::Payment>, StoreError> {
        op_batch_payments(&self.ctx, batch, after, limit).await
    }

    async fn payment_checks_impl(
        &self,
        ids: &[i64],
    ) -> Result<Vec<sanad_app::payments::PaymentCheck>, StoreError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT p.id, p.state, p.amount FROM payments p \
             JOIN UNNEST($1::BIGINT[]) AS j(id) ON p.id = j.id",
        )
        .bind(ids)
        .fetch_all(&self.ctx.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(id, state, amount)| {
                Ok(sanad_app::payments::PaymentCheck {
                    id,
                    state: crate::rows::vocab(
                        "payment state",
                        &state,
                        sanad_app::payments::PaymentState::parse,
                    )?,
                    amount,
                })
            })
            .collect()
    }

    async fn open_batch_impl(
        &self,
        cycle: i64,
        kind: &str,
        change: &Change,
    ) -> Result<Option<sanad_app::payments::Batch>, StoreError> {
        op_open_batch(&self.ctx, cycle, kind, change).await
    }

    async fn mark_exported_impl(
        &self,
        batch: i64,
        file_sha256: &str,
        change: &Change,
    ) -> Result<sanad_app::payments::Batch, StoreError> {
        op_mark_exported(&self.ctx, batch, file_sha256, change).await
    }

    async fn record_reconciliation_impl(
        &self,
        file: &sanad_app::payments::NewReconciliation,
        updates: &[sanad_app::payments::PaymentUpdate],
        change: &Change,
    ) -> Result<sanad_app::payments::Reconciliation, StoreError> {
        op_record_reconciliation(&self.ctx, file, updates, change).await
    }
}

/// Appends one field in COPY text format: `\N` for NULL, backslash escapes for the separators.
fn field(out: &mut String, value: Option<&str>) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\t');
    }
    let Some(value) = value else {
        out.push_str("\\N");
        return;
    };
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn end_row(out: &mut String) {
    out.push('\n');
}

fn ts(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Bytes per COPY message: big enough to keep the pipe full, small enough to bound memory.
const COPY_BUFFER: usize = 4 << 20;

/// Streams rows into `COPY table (columns) FROM STDIN`.
async fn copy_rows<T>(
    tx: &mut Tx,
    statement: &'static str,
    rows: impl IntoIterator<Item = T>,
    write: impl Fn(&mut String, T) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let mut copy = tx.copy_in_raw(statement).await.map_err(db_error)?;
    let mut buf = String::with_capacity(COPY_BUFFER + 4096);
    for row in rows {
        write(&mut buf, row)?;
        end_row(&mut buf);
        if buf.len() >= COPY_BUFFER {
            copy.send(buf.as_bytes()).await.map_err(db_error)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.map_err(db_error)?;
    }
    copy.finish().await.map_err(db_error)
}

audit_log_store!(PgStore);

registry_store!(PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        op_migrate(&self.ctx, sqlx::migrate!("./migrations/postgres"), i64::MAX).await
    }

    async fn import_batch(
        &self,
        batch: &RegistryBatch,
        change: &Change,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, StoreError> {
        let at = sanad_domain::audit::storable_time(change.at);
        let mut tx = begin_write(&self.ctx).await?;
        // Imports queue behind each other (they check, then write, the same tables); writers do not
        // wait for them.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(IMPORT_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let conflicts = op_batch_conflicts(&mut tx, &self.ctx.cipher, batch).await?;
        if !conflicts.is_empty() {
            tx.rollback().await.map_err(db_error)?;
            return Ok(ImportOutcome::Conflicts(conflicts));
        }
        // Into empty tables, the secondary indexes are dropped and built again after COPY (a sort
        // instead of random inserts), inside the same transaction.
        let empty: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM households) AND NOT EXISTS (SELECT 1 FROM persons)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        // The audit events are hashed on a blocking thread while the rows are copied.
        let audit = ImportAudit::of(batch, change);
        let auditor = tokio::task::spawn_blocking(move || audit.events(at));
        let mut rebuild: Vec<String> = Vec::new();
        if empty {
            // Room for the sorts that build the indexes again.
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename IN ('households', 'persons') \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
            for (name, def) in indexes {
                sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                rebuild.push(def);
            }
            // Foreign keys too: checked row by row they lock every referenced household; added
            // again after COPY, each is checked by one join.
            let keys: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c \
                 WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace \
                 AND c.conrelid::regclass::text IN ('households', 'persons', 'household_versions')",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
            for (table, name, def) in keys {
                sqlx::query(AssertSqlSafe(format!(
                    "ALTER TABLE {table} DROP CONSTRAINT \"{name}\""
                )))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                rebuild.push(format!(
                    "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}"
                ));
            }
        }
        let persons: Vec<&Person> = batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&batch.loose_persons)
            .collect();
        progress.phase("writing", (batch.households.len() + persons.len()) as u64);

        let households = copy_rows(
            &mut tx,
            "COPY households (id, version, region_code, province_code, commune_code, area, address, \
             dwelling_type, tenure, rooms, water_spending, electricity_spending, phone_spending, gas_spending, \
             assets, declared_income, created_at, updated_at) FROM STDIN",
            &batch.households,
            |out, h| {
                let d = &h.data;
                let _ = write!(out, "{}\t{}", serial_h(h.id), h.version);
                field(out, Some(&h.region_code));
                field(out, Some(&h.province_code));
                field(out, Some(&d.commune_code));
                field(out, Some(area_text(d)));
                field(out, Some(&d.address));
                field(out, Some(d.dwelling_type.as_str()));
                field(out, Some(d.tenure.as_str()));
                let _ = write!(
                    out,
                    "\t{}\t{}\t{}\t{}\t{}",
                    d.rooms,
                    d.water_spending.centimes(),
                    d.electricity_spending.centimes(),
                    d.phone_spending.centimes(),
                    d.gas_spending.centimes()
                );
                field(out, Some(&assets_text(&d.assets)));
                let _ = write!(out, "\t{}", d.declared_income.centimes());
                field(out, Some(&ts(h.created_at)));
                field(out, Some(&ts(h.updated_at)));
                Ok(())
            },
        )
        .await?;
        progress.advance(households);

        // The snapshot stays NULL: the imported state is the household's row until its first update.
        copy_rows(
            &mut tx,
            "COPY household_versions (household_id, version, at, actor, reason) FROM STDIN",
            &batch.households,
            |out, h| {
                let _ = write!(out, "{}\t{}", serial_h(h.id), h.version);
                field(out, Some(&ts(h.updated_at)));
                field(out, Some(&change.actor));
                field(out, Some(&change.reason));
                Ok(())
            },
        )
        .await?;

        let written = copy_rows(
            &mut tx,
            "COPY persons (id, household_id, relation, first_name, last_name, first_name_ar, last_name_ar, \
             sex, birth_date, national_id_hash, national_id_enc, disability, schooling, occupation, search_name, \
             phone_hash, phone_enc, merged_into) FROM STDIN",
            &persons,
            |out, p| {
                let d = &p.data;
                let _ = write!(out, "{}", serial_p(p.id));
                field(out, p.household_id.map(|h| serial_h(h).to_string()).as_deref());
                field(out, Some(d.relation.as_str()));
                field(out, Some(&d.first_name));
                field(out, Some(&d.last_name));
                field(out, d.first_name_ar.as_deref());
                field(out, d.last_name_ar.as_deref());
                field(out, Some(d.sex.as_str()));
                field(out, Some(&d.birth_date.to_string()));
                let (nid_hash, nid_enc) = sealed_nid(&self.ctx.cipher, d.national_id.as_ref())?;
                field(out, nid_hash.as_deref());
                field(out, nid_enc.as_deref());
                field(out, Some(d.disability.as_str()));
                field(out, Some(d.schooling.as_str()));
                field(out, Some(d.occupation.as_str()));
                field(out, Some(&sanad_app::search::stored_search_key(d)));
                let (phone_hash, phone_enc) = sealed_phone(&self.ctx.cipher, d.phone.as_ref())?;
                field(out, phone_hash.as_deref());
                field(out, phone_enc.as_deref());
                field(out, p.merged_into.map(|m| serial_p(m).to_string()).as_deref());
                Ok(())
            },
        )
        .await?;
        progress.advance(households + written);

        progress.phase("indexing", 0);
        for def in &rebuild {
            sqlx::query(AssertSqlSafe(def.clone()))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        progress.phase("auditing", 0);
        let events = auditor
            .await
            .map_err(|e| StoreError::Internal(format!("audit hashing failed: {e}")))?;
        // seq and txid take their defaults (the sequence, this transaction's id).
        let at_text = ts(at);
        copy_rows(
            &mut tx,
            "COPY audit_events (at, actor, action, entity_type, entity_id, details, prev_hash, hash) FROM STDIN",
            &events,
            |out, (e, hash)| {
                field(out, Some(&at_text));
                field(out, Some(&e.actor));
                field(out, Some(&e.action));
                field(out, Some(&e.entity_type));
                field(out, Some(&e.entity_id));
                field(out, Some(&e.details));
                field(out, Some(""));
                field(out, Some(hash));
                Ok(())
            },
        )
        .await?;
        // Scored and checked against every programme in this transaction: a crash leaves neither
        // the rows nor their scores.
        if let Some(assessor) = self.ctx.assessor.get() {
            let on = change.at.date();
            progress.phase("assessing", batch.households.len() as u64);
            let mut done = 0u64;
            for chunk in batch.households.chunks(IMPORT_ASSESS_CHUNK) {
                let assessed =
                    sanad_app::targeting::assess_households(assessor.as_ref(), chunk, on);
                write_assessments(&mut tx, &assessed, change, on, true).await?;
                done += chunk.len() as u64;
                progress.advance(done);
            }
        }
        let (max_h, max_p) = crate::rows::batch_max_serials(batch);
        for (kind, max) in [("household", max_h), ("person", max_p)] {
            sqlx::query(
                "UPDATE id_counters SET next_serial = GREATEST(next_serial, $1) WHERE kind = $2",
            )
            .bind(max + 1)
            .bind(kind)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        check_data_key(&mut tx, &self.ctx.cipher).await?;
        progress.phase("committing", 0);
        tx.commit().await.map_err(db_error)?;
        Ok(ImportOutcome::Written {
            households,
            persons: written,
        })
    }

    async fn backup(&self, to: &std::path::Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Conflict {
                field: "out".into(),
                code: "exists",
                message: format!("a path that does not exist yet; {} does", to.display()),
            });
        }
        crate::run_tool(
            "pg_dump",
            &[
                "--format=custom",
                "--no-owner",
                "--file",
                &to.to_string_lossy(),
                "--dbname",
                &self.url,
            ],
        )
        .await
    }
});

/// Households assessed per step of an import (one audit event each for their enrolments).
const IMPORT_ASSESS_CHUNK: usize = 10_000;

/// A claim locks the rows it picks and passes over those another claim holds.
const OUTBOX_SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

include!("outbox_ops.rs");
outbox_store!(PgStore);
