//! The registry on SQLite: one file, WAL journal, one writer at a time (`BEGIN IMMEDIATE`, so a
//! writer waits on `busy_timeout` instead of failing on a stale snapshot).

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

async fn begin_write(pool: &Pool) -> Result<Tx, StoreError> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)
}

/// The writer already holds the database's write lock, so a plain read is enough.
async fn lock_chain_head(tx: &mut Tx) -> Result<ChainHead, StoreError> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut **tx)
            .await
            .map_err(db_error)?;
    Ok(ChainHead { seq, hash })
}

include!("ops.rs");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    ctx: Ctx,
    path: std::path::PathBuf,
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
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // Statement journals of multi-row inserts stay in memory.
            .pragma("temp_store", "memory")
            // Larger pages: shallower B-trees for a registry of millions of rows (takes effect when
            // the file is created).
            .page_size(16384);
        let path = options.get_filename().to_path_buf();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database `{url}`: {e}"))
            })?;
        Ok(SqliteStore {
            ctx: Ctx { pool, cipher },
            path,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.ctx.pool
    }
}

#[async_trait]
impl RegistryStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.ctx.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        op_seed_territories(&self.ctx).await
    }

    async fn register_household(
        &self,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError> {
        op_register_household(&self.ctx, input, change).await
    }

    async fn update_household(
        &self,
        id: HouseholdId,
        expected_version: u32,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError> {
        op_update_household(&self.ctx, id, expected_version, input, change).await
    }

    async fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError> {
        op_household(&self.ctx, id).await
    }

    async fn household_versions(
        &self,
        id: HouseholdId,
    ) -> Result<Vec<HouseholdVersion>, StoreError> {
        op_household_versions(&self.ctx, id).await
    }

    async fn list_households(
        &self,
        filter: &HouseholdFilter,
    ) -> Result<Vec<HouseholdSummary>, StoreError> {
        op_list_households(&self.ctx, filter).await
    }

    async fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        op_person(&self.ctx, id).await
    }

    async fn search_persons(&self, query: &PersonQuery) -> Result<Vec<Person>, StoreError> {
        op_search_persons(&self.ctx, query).await
    }

    async fn region_counts(&self) -> Result<Vec<RegionCount>, StoreError> {
        op_region_counts(&self.ctx).await
    }

    async fn record_access(&self, access: &AccessRecord) -> Result<(), StoreError> {
        op_record_access(&self.ctx, access).await
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
            batch_max_serials(batch),
            progress,
        )
    }

    async fn export_households(
        &self,
        after: Option<HouseholdId>,
        limit: u32,
    ) -> Result<Vec<(HouseholdId, HouseholdData)>, StoreError> {
        op_export_households(&self.ctx, after, limit).await
    }

    async fn export_persons(
        &self,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        op_export_persons(&self.ctx, after, limit).await
    }

    async fn audit_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        op_audit_events(&self.ctx, after_seq, limit).await
    }

    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        op_upsert_account(&self.ctx, account).await
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        op_account(&self.ctx, username).await
    }

    async fn add_api_key(
        &self,
        username: &str,
        key_hash: &str,
        scopes: &[String],
    ) -> Result<(), StoreError> {
        op_add_api_key(&self.ctx, username, key_hash, scopes).await
    }

    async fn api_key_account(&self, key_hash: &str) -> Result<Option<ApiKeyOwner>, StoreError> {
        op_api_key_account(&self.ctx, key_hash).await
    }

    async fn revoke_api_key(
        &self,
        key_id: &str,
        at: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        op_revoke_api_key(&self.ctx, key_id, at).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf_token: &str,
        expires_at: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        op_create_session(&self.ctx, token_hash, username, csrf_token, expires_at).await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<(Account, String)>, StoreError> {
        op_session(&self.ctx, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        op_delete_session(&self.ctx, token_hash).await
    }

    async fn record_login_failure(
        &self,
        username: &str,
        max_failures: u32,
        lock_until: time::OffsetDateTime,
    ) -> Result<u32, StoreError> {
        op_record_login_failure(&self.ctx, username, max_failures, lock_until).await
    }

    async fn record_login_success(&self, username: &str) -> Result<(), StoreError> {
        op_record_login_success(&self.ctx, username).await
    }

    async fn access_log(&self, query: &AccessLogQuery) -> Result<Vec<AccessEntry>, StoreError> {
        op_access_log(&self.ctx, query).await
    }

    async fn prune_access_log(
        &self,
        before: time::OffsetDateTime,
        change: &Change,
    ) -> Result<u64, StoreError> {
        op_prune_access_log(&self.ctx, before, change).await
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

    async fn audit_head(&self) -> Result<ChainHead, StoreError> {
        op_audit_head(&self.ctx).await
    }

    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        op_add_checkpoint(&self.ctx, checkpoint).await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        op_checkpoints(&self.ctx).await
    }

    async fn add_duplicate_candidates(
        &self,
        pairs: &[CandidatePair],
        change: &Change,
    ) -> Result<u64, StoreError> {
        op_add_duplicate_candidates(&self.ctx, pairs, change).await
    }

    async fn duplicate_pairs(
        &self,
        status: Option<PairStatus>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<DuplicatePair>, StoreError> {
        op_duplicate_pairs(&self.ctx, status, after, limit).await
    }

    async fn decide_duplicate_pair(
        &self,
        id: i64,
        decision: PairStatus,
        change: &Change,
    ) -> Result<DuplicatePair, StoreError> {
        op_decide_duplicate_pair(&self.ctx, id, decision, change).await
    }

    async fn merge_persons(
        &self,
        kept: PersonId,
        merged: PersonId,
        change: &Change,
    ) -> Result<PersonMerge, StoreError> {
        op_merge_persons(&self.ctx, kept, merged, change).await
    }

    async fn undo_merge(&self, id: i64, change: &Change) -> Result<PersonMerge, StoreError> {
        op_undo_merge(&self.ctx, id, change).await
    }
}
