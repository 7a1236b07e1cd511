//! Fresh, migrated stores for tests: a temporary SQLite file, or a new PostgreSQL database on the
//! server named by `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! Without a reachable server a PostgreSQL test is skipped with a message, except under `CI=true`,
//! where it fails: CI must never pass by skipping the production backend.

use std::sync::Arc;

use sanad_app::RegistryStore;
use sqlx::Connection as _;

use crate::{PgStore, SqliteStore};

pub struct TestDb {
    /// The registry, sealing with [`TestDb::data_key`].
    pub store: Arc<dyn RegistryStore>,
    /// The keys port of the same database.
    pub keyring: Arc<dyn sanad_app::KeyringStore>,
    /// The accounts port of the same database.
    pub accounts: Arc<dyn sanad_app::AccountStore>,
    /// The declarations port of the same database.
    pub declarations: Arc<dyn sanad_app::declarations::DeclarationStore>,
    /// The targeting and programme ports of the same database.
    pub targeting: Arc<dyn sanad_app::TargetingStore>,
    pub programmes: Arc<dyn sanad_app::ProgrammeStore>,
    /// The payments port of the same database.
    pub payments: Arc<dyn sanad_app::payments::PaymentStore>,
    pub dashboard: Arc<dyn sanad_app::DashboardStore>,
    /// The e-service requests port of the same database.
    pub requests: Arc<dyn sanad_app::requests::RequestStore>,
    /// The documents port of the same database.
    pub certificates: Arc<dyn sanad_app::certificates::CertificateStore>,
    /// The master key the store seals with (a fresh one per test database).
    pub data_key: [u8; 32],
    pub url: String,
    pub sqlite: Option<SqliteStore>,
    pub postgres: Option<PgStore>,
    _dir: Option<tempfile::TempDir>,
    admin: Option<(String, String)>,
}

/// The ports of a second connection to a test database (see [`TestDb::second_process`]).
pub struct SecondProcess {
    pub store: Arc<dyn RegistryStore>,
    pub targeting: Arc<dyn sanad_app::TargetingStore>,
    pub programmes: Arc<dyn sanad_app::ProgrammeStore>,
}

impl SecondProcess {
    fn of<S>(store: S) -> SecondProcess
    where
        S: RegistryStore + sanad_app::TargetingStore + sanad_app::ProgrammeStore + Clone + 'static,
    {
        SecondProcess {
            store: Arc::new(store.clone()),
            targeting: Arc::new(store.clone()),
            programmes: Arc::new(store),
        }
    }
}

impl TestDb {
    /// Runs one raw SQL statement on the test database (to build the data of an older release,
    /// or to show what the database itself refuses); gives the rows it changed.
    pub async fn execute(&self, statement: &str) -> Result<u64, sqlx::Error> {
        let statement = sqlx::AssertSqlSafe(statement.to_string());
        match (&self.sqlite, &self.postgres) {
            (Some(s), _) => Ok(sqlx::query(statement)
                .execute(s.pool())
                .await?
                .rows_affected()),
            (_, Some(p)) => Ok(sqlx::query(statement)
                .execute(p.pool())
                .await?
                .rows_affected()),
            _ => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Another connection to the same database with the same data key, as a second process (a
    /// second server, the command line) would open it: its own pools and its own assessor slot.
    pub async fn second_process(&self) -> SecondProcess {
        let cipher = Arc::new(sanad_app::crypto::DataCipher::from_master(&self.data_key));
        if self.sqlite.is_some() {
            let store = SqliteStore::connect(&self.url, cipher).await;
            SecondProcess::of(store.unwrap_or_else(|e| panic!("{e}")))
        } else {
            let store = PgStore::connect(&self.url, cipher).await;
            SecondProcess::of(store.unwrap_or_else(|e| panic!("{e}")))
        }
    }

    /// Drops a PostgreSQL test database (call it at the end of a passing test; a failing test
    /// leaves its database behind for inspection).
    pub async fn cleanup(self) {
        if let Some(pg) = &self.postgres {
            pg.pool().close().await;
        }
        if let Some((admin_url, name)) = self.admin
            && let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

pub async fn sqlite() -> TestDb {
    sqlite_database(true).await
}

/// A new SQLite file without any table (to build an older schema in).
pub async fn sqlite_unmigrated() -> TestDb {
    sqlite_database(false).await
}

async fn sqlite_database(migrate: bool) -> TestDb {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("sanad.db").display());
    let (data_key, cipher) = cipher();
    let store = SqliteStore::connect(&url, cipher)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if migrate {
        store.migrate_for_tests().await;
    }
    TestDb {
        store: Arc::new(store.clone()),
        keyring: Arc::new(store.clone()),
        accounts: Arc::new(store.clone()),
        declarations: Arc::new(store.clone()),
        targeting: Arc::new(store.clone()),
        programmes: Arc::new(store.clone()),
        payments: Arc::new(store.clone()),
        dashboard: Arc::new(store.clone()),
        requests: Arc::new(store.clone()),
        certificates: Arc::new(store.clone()),
        data_key,
        url,
        sqlite: Some(store),
        postgres: None,
        _dir: Some(dir),
        admin: None,
    }
}

/// A fresh data key per test database.
fn cipher() -> ([u8; 32], Arc<sanad_app::crypto::DataCipher>) {
    let master = sanad_app::crypto::DataCipher::random_master().unwrap_or_else(|e| panic!("{e}"));
    (
        master,
        Arc::new(sanad_app::crypto::DataCipher::from_master(&master)),
    )
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A new, migrated PostgreSQL database, or `None` (skip) when no server answers outside CI.
pub async fn postgres() -> Option<TestDb> {
    postgres_database(true).await
}

/// A new PostgreSQL database without any table (to restore a backup into).
pub async fn postgres_empty() -> Option<TestDb> {
    postgres_database(false).await
}

async fn postgres_database(migrate: bool) -> Option<TestDb> {
    let admin_url = postgres_admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if !in_ci() => {
            eprintln!(
                "skipping a PostgreSQL test: no server at {}: {e}",
                crate::redact_url(&admin_url)
            );
            return None;
        }
        Err(e) => panic!(
            "CI=true and the PostgreSQL server at {} cannot be reached: {e}",
            crate::redact_url(&admin_url)
        ),
    };
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (std::process::id() as u8).wrapping_add(i as u8)
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() >> (i * 3))
                .unwrap_or(0) as u8);
    }
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!(
        "sanad_t_{}_{}_{n}",
        std::process::id(),
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
    let url = match admin_url.rfind('/') {
        Some(i) if admin_url[..i].contains("://") && i > admin_url.find("://").unwrap_or(0) + 2 => {
            let query = admin_url[i..]
                .find('?')
                .map(|q| &admin_url[i + q..])
                .unwrap_or("");
            format!("{}/{name}{query}", &admin_url[..i])
        }
        _ => format!("{admin_url}/{name}"),
    };
    let (data_key, cipher) = cipher();
    let store = PgStore::connect(&url, cipher)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if migrate {
        store.migrate_for_tests().await;
    }
    Some(TestDb {
        store: Arc::new(store.clone()),
        keyring: Arc::new(store.clone()),
        accounts: Arc::new(store.clone()),
        declarations: Arc::new(store.clone()),
        targeting: Arc::new(store.clone()),
        programmes: Arc::new(store.clone()),
        payments: Arc::new(store.clone()),
        dashboard: Arc::new(store.clone()),
        requests: Arc::new(store.clone()),
        certificates: Arc::new(store.clone()),
        data_key,
        url,
        sqlite: None,
        postgres: Some(store),
        _dir: None,
        admin: Some((admin_url, name)),
    })
}

trait MigrateForTests {
    async fn migrate_for_tests(&self);
}

impl<T: RegistryStore> MigrateForTests for T {
    async fn migrate_for_tests(&self) {
        self.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Runs each story on SQLite and on PostgreSQL (when a server answers, see [`postgres`]), as the
/// tests `sqlite::<story>` and `postgres::<story>` of the calling file. A story is an
/// `async fn(&TestDb)` (its PostgreSQL database is dropped after it), or, after `owned:`, an
/// `async fn(TestDb)` that keeps the database (an app built on it).
#[macro_export]
macro_rules! on_both_backends {
    (owned: $($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                super::$story($crate::testkit::sqlite().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let Some(db) = $crate::testkit::postgres().await else { return };
                super::$story(db).await;
            })*
        }
    };
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                super::$story(&$crate::testkit::sqlite().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let Some(db) = $crate::testkit::postgres().await else { return };
                super::$story(&db).await;
                db.cleanup().await;
            })*
        }
    };
}
