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
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open SQLite database `{url}`: {e}"))
            })?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Rows per multi-row INSERT: large enough to amortise the statement, within SQLite's 32,766
/// bound variables.
const CHUNK: usize = 1024;

async fn insert_rows<T>(
    tx: &mut Tx,
    head: &str,
    rows: &[T],
    push: impl Fn(&mut sqlx::query_builder::Separated<'_, Db, &'static str>, &T) + Copy,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(head);
        q.push_values(chunk, |mut b, row| push(&mut b, row));
        q.build().execute(&mut **tx).await.map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl RegistryStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        op_seed_territories(&self.pool).await
    }

    async fn register_household(
        &self,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError> {
        op_register_household(&self.pool, input, change).await
    }

    async fn update_household(
        &self,
        id: HouseholdId,
        expected_version: u32,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError> {
        op_update_household(&self.pool, id, expected_version, input, change).await
    }

    async fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError> {
        op_household(&self.pool, id).await
    }

    async fn household_versions(
        &self,
        id: HouseholdId,
    ) -> Result<Vec<HouseholdVersion>, StoreError> {
        op_household_versions(&self.pool, id).await
    }

    async fn list_households(
        &self,
        filter: &HouseholdFilter,
    ) -> Result<Vec<HouseholdSummary>, StoreError> {
        op_list_households(&self.pool, filter).await
    }

    async fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        op_person(&self.pool, id).await
    }

    async fn search_persons(&self, query: &PersonQuery) -> Result<Vec<Person>, StoreError> {
        op_search_persons(&self.pool, query).await
    }

    async fn region_counts(&self) -> Result<Vec<RegionCount>, StoreError> {
        op_region_counts(&self.pool).await
    }

    async fn record_access(&self, access: &AccessRecord) -> Result<(), StoreError> {
        op_record_access(&self.pool, access).await
    }

    async fn import_batch(
        &self,
        batch: &RegistryBatch,
        change: &Change,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, StoreError> {
        let at = sanad_domain::audit::storable_time(change.at);
        let mut tx = begin_write(&self.pool).await?;
        let conflicts = op_batch_conflicts(&mut tx, batch).await?;
        if !conflicts.is_empty() {
            tx.rollback().await.map_err(db_error)?;
            return Ok(ImportOutcome::Conflicts(conflicts));
        }
        let persons: Vec<&Person> = batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&batch.loose_persons)
            .collect();
        let total = (batch.households.len() + persons.len()) as u64;
        progress.phase("writing", total);

        let mut written = 0u64;
        for chunk in batch.households.chunks(16 * CHUNK) {
            insert_rows(
                &mut tx,
                "INSERT INTO households (id, version, region_code, province_code, commune_code, area, address, \
                 dwelling_type, tenure, rooms, water_spending, electricity_spending, phone_spending, gas_spending, \
                 assets, declared_income, created_at, updated_at) ",
                chunk,
                |b, h| {
                    let d = &h.data;
                    b.push_bind(serial_h(h.id))
                        .push_bind(i64::from(h.version))
                        .push_bind(h.region_code.clone())
                        .push_bind(h.province_code.clone())
                        .push_bind(d.commune_code.clone())
                        .push_bind(area_text(d))
                        .push_bind(d.address.clone())
                        .push_bind(d.dwelling_type.as_str())
                        .push_bind(d.tenure.as_str())
                        .push_bind(i64::from(d.rooms))
                        .push_bind(d.water_spending.centimes())
                        .push_bind(d.electricity_spending.centimes())
                        .push_bind(d.phone_spending.centimes())
                        .push_bind(d.gas_spending.centimes())
                        .push_bind(assets_text(&d.assets))
                        .push_bind(d.declared_income.centimes())
                        .push_bind(h.created_at)
                        .push_bind(h.updated_at);
                },
            )
            .await?;
            let snapshots = chunk
                .iter()
                .map(|h| Ok((h, snapshot_json(h)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            insert_rows(
                &mut tx,
                "INSERT INTO household_versions (household_id, version, at, actor, reason, snapshot) ",
                &snapshots,
                |b, (h, snapshot)| {
                    b.push_bind(serial_h(h.id))
                        .push_bind(i64::from(h.version))
                        .push_bind(h.updated_at)
                        .push_bind(change.actor.clone())
                        .push_bind(change.reason.clone())
                        .push_bind(snapshot.clone());
                },
            )
            .await?;
            written += chunk.len() as u64;
            progress.advance(written);
        }
        for chunk in persons.chunks(16 * CHUNK) {
            insert_rows(
                &mut tx,
                "INSERT INTO persons (id, household_id, relation, first_name, last_name, first_name_ar, \
                 last_name_ar, sex, birth_date, national_id, disability, schooling, occupation, search_name) ",
                chunk,
                |b, p| {
                    let d = &p.data;
                    b.push_bind(serial_p(p.id))
                        .push_bind(p.household_id.map(serial_h))
                        .push_bind(d.relation.as_str())
                        .push_bind(d.first_name.clone())
                        .push_bind(d.last_name.clone())
                        .push_bind(d.first_name_ar.clone())
                        .push_bind(d.last_name_ar.clone())
                        .push_bind(d.sex.as_str())
                        .push_bind(d.birth_date)
                        .push_bind(d.national_id.as_ref().map(|n| n.as_str().to_string()))
                        .push_bind(d.disability.as_str())
                        .push_bind(d.schooling.as_str())
                        .push_bind(d.occupation.as_str())
                        .push_bind(d.search_key());
                },
            )
            .await?;
            written += chunk.len() as u64;
            progress.advance(written);
        }

        let mut head = lock_chain_head(&mut tx).await?;
        let events: Vec<AuditEvent> = import_entries(batch, change)
            .map(|entry| AuditEvent::chain(&mut head, at, entry))
            .collect();
        insert_rows(
            &mut tx,
            "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, details, prev_hash, hash) ",
            &events,
            |b, e| {
                b.push_bind(e.seq)
                    .push_bind(e.at)
                    .push_bind(e.actor.clone())
                    .push_bind(e.action.clone())
                    .push_bind(e.entity_type.clone())
                    .push_bind(e.entity_id.clone())
                    .push_bind(e.details.clone())
                    .push_bind(e.prev_hash.clone())
                    .push_bind(e.hash.clone());
            },
        )
        .await?;
        save_chain_head(&mut tx, &head).await?;
        let (max_h, max_p) = batch_max_serials(batch);
        for (kind, max) in [("household", max_h), ("person", max_p)] {
            sqlx::query(
                "UPDATE id_counters SET next_serial = MAX(next_serial, $1) WHERE kind = $2",
            )
            .bind(max + 1)
            .bind(kind)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(ImportOutcome::Written {
            households: batch.households.len() as u64,
            persons: persons.len() as u64,
        })
    }

    async fn export_households(
        &self,
        after: Option<HouseholdId>,
        limit: u32,
    ) -> Result<Vec<(HouseholdId, HouseholdData)>, StoreError> {
        op_export_households(&self.pool, after, limit).await
    }

    async fn export_persons(
        &self,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError> {
        op_export_persons(&self.pool, after, limit).await
    }

    async fn audit_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        op_audit_events(&self.pool, after_seq, limit).await
    }

    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
        op_upsert_account(&self.pool, account).await
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        op_account(&self.pool, username).await
    }

    async fn add_api_key(&self, username: &str, key_hash: &str) -> Result<(), StoreError> {
        op_add_api_key(&self.pool, username, key_hash).await
    }

    async fn api_key_account(&self, key_hash: &str) -> Result<Option<Account>, StoreError> {
        op_api_key_account(&self.pool, key_hash).await
    }
}
