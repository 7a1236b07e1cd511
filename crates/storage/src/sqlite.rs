//! The registry on SQLite: one file, WAL journal with `synchronous=FULL` (a committed write survives
//! a power loss), reads on a pool of connections, and every write of this process through one
//! writer connection with group commit (`crate::sqlite_writer`).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sanad_app::RegistryStore;
use sanad_app::store::{ImportOutcome, Progress, RegistryBatch};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

type Db = sqlx::Sqlite;
type Pool = SqlitePool;
type Tx = crate::sqlite_writer::WriteTx;
type Writer = crate::sqlite_writer::Writer;

/// A write on the writer's connection, in its own savepoint of the current group.
async fn begin_write(db: &Ctx) -> Result<Tx, StoreError> {
    db.writer.begin().await
}

include!("ops.rs");

/// Every committed event is settled: one writer at a time, and the integrator is a writer.
const SETTLED: &str = "";

/// A write transaction (`BEGIN IMMEDIATE`) already keeps every other writer out.
async fn lock_writers(_tx: &mut Tx) -> Result<(), StoreError> {
    Ok(())
}

/// The integrator is a writer too: the write transaction keeps it out.
async fn lock_log(_tx: &mut Tx) -> Result<(), StoreError> {
    Ok(())
}

/// The integrator's transaction holds the write lock (`BEGIN IMMEDIATE`): it leads alone.
async fn lead_integration(_tx: &mut Tx) -> Result<bool, StoreError> {
    Ok(true)
}

include!("log_ops.rs");
include!("keyring_ops.rs");
include!("account_ops.rs");
include!("declaration_ops.rs");
include!("request_ops.rs");
include!("certificate_ops.rs");
include!("targeting_ops.rs");

/// The month of a household's registration: timestamps are stored as text starting `YYYY-MM`.
/// Households written at or after `$1`: times are RFC 3339 text, with or without fractions of a
/// second, which only `julianday` compares rightly.
const UPDATED_SINCE: &str = "julianday(updated_at) >= julianday($1)";
const MONTH_OF_CREATED: &str = "substr(h.created_at, 1, 7)";

include!("dashboard_ops.rs");

/// Rows of a JSON array of arrays bound as `$1`, as a table `j` with the columns named (their
/// types are for PostgreSQL; SQLite takes the JSON values as they are).
fn json_rows(columns: &[(&str, &str)]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("json_extract(value, '$[{i}]') AS {name}"))
        .collect();
    format!("(SELECT {} FROM json_each($1)) AS j", cols.join(", "))
}

/// Rows per JSON statement of a bulk write.
const JSON_ROWS_PER_STATEMENT: usize = 10_000;

/// A ten-digit pick-up code, drawn by the database for each payment.
const RANDOM_CODE: &str = crate::sqlite_payments::RANDOM_CODE;

include!("payment_ops.rs");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    ctx: Ctx,
    path: std::path::PathBuf,
    /// The connections of rescoring batches (`crate::sqlite_targeting`): one reads the next batch
    /// while the other writes the previous one.
    batch: std::sync::Arc<crate::sqlite_targeting::BatchConnection>,
    batch_reader: std::sync::Arc<crate::sqlite_targeting::BatchConnection>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ctx(..)")
    }
}

impl SqliteStore {
    pub async fn connect(
        url: &str,
        cipher: std::sync::Arc<sanad_app::crypto::DataCipher>,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // Statement journals of multi-row inserts stay in memory.
            .pragma("temp_store", "memory")
            // Pages are read through a memory map: every commit of the writer makes the readers
            // start again with an empty page cache, and mapped pages cost no copy.
            .pragma("mmap_size", "1073741824")
            // Larger pages: shallower B-trees for a registry of millions of rows (takes effect when
            // the file is created).
            .page_size(16384);
        let path = options.get_filename().to_path_buf();
        let unavailable = |e: sqlx::Error| {
            StoreError::Unavailable(format!("cannot open SQLite database `{url}`: {e}"))
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        let writer = crate::sqlite_writer::connect(&options).await?;
        Ok(SqliteStore {
            ctx: Ctx {
                pool,
                cipher,
                writer,
                access: Default::default(),
                accounts: Default::default(),
                assessor: Default::default(),
            }
            .with_access_log(),
            path,
            batch: Default::default(),
            batch_reader: Default::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.ctx.pool
    }

    /// The same database (same pool) sealing with another data key.
    pub fn with_cipher(&self, cipher: std::sync::Arc<sanad_app::crypto::DataCipher>) -> Self {
        // Everything else (pools, paths) is shared with `self`.
        SqliteStore {
            ctx: Ctx {
                cipher,
                ..self.ctx.clone()
            },
            ..self.clone()
        }
    }

    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

keyring_store!(SqliteStore);
account_store!(SqliteStore);
declaration_store!(SqliteStore);
request_store!(SqliteStore);
certificate_store!(SqliteStore);
targeting_store!(SqliteStore);
dashboard_store!(SqliteStore);
impl_payment_store!(SqliteStore);

impl SqliteStore {
    /// Closes the run, then folds the write-ahead log back into the database: the run's reads
    /// overlapped its writes all along, so the log could not be reset meanwhile.
    async fn finish_rescore_impl(
        &self,
        run: i64,
        at: time::OffsetDateTime,
    ) -> Result<sanad_app::targeting::RescoreRun, StoreError> {
        let done = op_finish_rescore(&self.ctx, run, at).await?;
        let (batch, path) = (self.batch.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || crate::sqlite_targeting::checkpoint(&batch, &path))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))??;
        Ok(done)
    }

    /// On the batch connection, off the async runtime's threads.
    async fn facts_batch_impl(
        &self,
        after: Option<sanad_domain::HouseholdId>,
        limit: u32,
        on: time::Date,
    ) -> Result<Vec<sanad_app::targeting::FactsRow>, StoreError> {
        let (batch, path) = (self.batch_reader.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || {
            crate::sqlite_targeting::facts_batch(&batch, &path, after, limit, on)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    async fn record_assessments_impl(
        &self,
        assessed: Vec<sanad_app::targeting::Assessed>,
        run: Option<i64>,
        change: &Change,
    ) -> Result<sanad_app::targeting::RecordOutcome, StoreError> {
        let (batch, path) = (self.batch.clone(), self.path.clone());
        let change = change.clone();
        tokio::task::spawn_blocking(move || {
            crate::sqlite_targeting::record_assessments(&batch, &path, &assessed, run, &change)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

impl SqliteStore {
    /// The schema of an older release: the migrations numbered below `version` only, and the
    /// territories (for tests of a migration over the data an older release wrote).
    #[doc(hidden)]
    pub async fn migrate_before(&self, version: i64) -> Result<(), StoreError> {
        op_migrate(&self.ctx, sqlx::migrate!("./migrations/sqlite"), version).await
    }
}

impl SqliteStore {
    /// The bottleneck report's visits, on the batch reader, off the async runtime's threads.
    async fn spans_impl(
        &self,
        territories: &[String],
        kinds: &[String],
    ) -> Result<Vec<sanad_app::requests::SpanRow>, StoreError> {
        let (batch, path) = (self.batch_reader.clone(), self.path.clone());
        let (territories, kinds) = (territories.to_vec(), kinds.to_vec());
        tokio::task::spawn_blocking(move || {
            crate::sqlite_requests::spans(&batch, &path, &territories, &kinds)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

/// The bulk paths of payments, on the batch connections (`crate::sqlite_payments`), off the async
/// runtime's threads: reads on the reader, writes on the batch writer.
impl SqliteStore {
    async fn blocking<T: Send + 'static>(
        &self,
        writer: bool,
        work: impl FnOnce(
            &crate::sqlite_targeting::BatchConnection,
            &std::path::Path,
        ) -> Result<T, StoreError>
        + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let conn = if writer {
            self.batch.clone()
        } else {
            self.batch_reader.clone()
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || work(&conn, &path))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    async fn cycle_inputs_impl(
        &self,
        programme_code: &str,
        after: Option<HouseholdId>,
        upto: HouseholdId,
    ) -> Result<Vec<sanad_app::payments::CycleInput>, StoreError> {
        let code = programme_code.to_string();
        let (after, upto) = (after.map(serial_h).unwrap_or(0), serial_h(upto));
        // On the batch connection: the cycle's computation reads the next facts on the reader
        // meanwhile, and writes nothing before every input is read.
        self.blocking(true, move |c, p| {
            crate::sqlite_payments::cycle_inputs(c, p, &code, after, upto)
        })
        .await
    }

    async fn record_entitlements_impl(
        &self,
        cycle: i64,
        rows: &[sanad_app::payments::Entitlement],
        last: HouseholdId,
        skipped: u64,
    ) -> Result<u64, StoreError> {
        let rows = rows.to_vec();
        let last = serial_h(last);
        self.blocking(true, move |c, p| {
            crate::sqlite_payments::record_entitlements(c, p, cycle, &rows, last, skipped)
        })
        .await
    }

    async fn finish_cycle_impl(
        &self,
        cycle: i64,
        change: &Change,
    ) -> Result<sanad_app::payments::Cycle, StoreError> {
        let change2 = change.clone();
        self.blocking(true, move |c, p| {
            crate::sqlite_payments::finish_cycle(c, p, cycle, &change2)
        })
        .await?;
        op_cycle(&self.ctx, cycle)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn batch_payments_impl(
        &self,
        batch: i64,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<sanad_app::payments::Payment>, StoreError> {
        let after = after.unwrap_or(0);
        self.blocking(false, move |c, p| {
            crate::sqlite_payments::batch_payments(c, p, batch, after, limit)
        })
        .await
    }

    async fn payment_checks_impl(
        &self,
        ids: &[i64],
    ) -> Result<Vec<sanad_app::payments::PaymentCheck>, StoreError> {
        let ids = ids.to_vec();
        self.blocking(false, move |c, p| {
            crate::sqlite_payments::payment_checks(c, p, &ids)
        })
        .await
    }

    async fn open_batch_impl(
        &self,
        cycle: i64,
        kind: &str,
        change: &Change,
    ) -> Result<Option<sanad_app::payments::Batch>, StoreError> {
        let (kind, change) = (kind.to_string(), change.clone());
        let opened = self
            .blocking(true, move |c, p| {
                crate::sqlite_payments::open_batch(c, p, cycle, &kind, &change)
            })
            .await?;
        match opened {
            Some(id) => op_batch(&self.ctx, id).await,
            None => Ok(None),
        }
    }

    async fn mark_exported_impl(
        &self,
        batch: i64,
        file_sha256: &str,
        change: &Change,
    ) -> Result<sanad_app::payments::Batch, StoreError> {
        let (sha, change) = (file_sha256.to_string(), change.clone());
        self.blocking(true, move |c, p| {
            crate::sqlite_payments::mark_exported(c, p, batch, &sha, &change)
        })
        .await?;
        op_batch(&self.ctx, batch)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn record_reconciliation_impl(
        &self,
        file: &sanad_app::payments::NewReconciliation,
        updates: &[sanad_app::payments::PaymentUpdate],
        change: &Change,
    ) -> Result<sanad_app::payments::Reconciliation, StoreError> {
        let (file2, updates, change2) = (file.clone(), updates.to_vec(), change.clone());
        self.blocking(true, move |c, p| {
            crate::sqlite_payments::record_reconciliation(c, p, &file2, &updates, &change2)
        })
        .await?;
        op_reconciliation(&self.ctx, &file.file_sha256)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

audit_log_store!(SqliteStore);

registry_store!(SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        op_migrate(&self.ctx, sqlx::migrate!("./migrations/sqlite"), i64::MAX).await
    }

    /// Runs on the calling thread: a bulk import is a command-line job, not a request.
    async fn import_batch(
        &self,
        batch: &RegistryBatch,
        change: &Change,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, StoreError> {
        crate::sqlite_bulk::import(
            &self.path,
            &self.ctx.cipher,
            batch,
            change,
            ImportAudit::of(batch, change),
            self.ctx.assessor.get(),
            progress,
        )
    }

    async fn backup(&self, to: &std::path::Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Conflict {
                field: "out".into(),
                code: "exists",
                message: format!("a path that does not exist yet; {} does", to.display()),
            });
        }
        // VACUUM INTO writes a consistent, compacted copy while readers and writers go on.
        sqlx::query("VACUUM INTO $1")
            .bind(to.to_string_lossy().into_owned())
            .execute(&self.ctx.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
});

/// No row locks in SQLite: a claim runs in the single writer's transaction (`BEGIN IMMEDIATE`
/// across processes), which keeps every other claim out until it commits.
const OUTBOX_SKIP_LOCKED: &str = "";

include!("outbox_ops.rs");
outbox_store!(SqliteStore);
