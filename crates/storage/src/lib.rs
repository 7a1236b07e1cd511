//! Sanad's storage: the [`RegistryStore`] port implemented on SQLite (the embedded default: one file,
//! WAL, zero set-up) and on PostgreSQL (production). The backend is chosen from the URL scheme.
//! Both run the same SQL where the dialects agree (`ops.rs`, included in each backend module) and
//! their own where they differ (locking, bulk load, migrations).

use std::sync::Arc;

use sanad_app::payments::PaymentStore;
use sanad_app::{KeyringStore, ProgrammeStore, RegistryStore, StoreError, TargetingStore};

mod access_log;
mod account_cache;
mod postgres;
mod rows;
mod sqlite;
mod sqlite_bench;
mod sqlite_bulk;
mod sqlite_payments;
mod sqlite_requests;
mod sqlite_targeting;
mod sqlite_writer;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Connects to `sqlite://PATH` (created if missing) or `postgres://…`, with the cipher that seals
/// national ids. Does not migrate.
pub async fn connect(
    url: &str,
    cipher: Arc<sanad_app::crypto::DataCipher>,
) -> Result<Arc<dyn RegistryStore>, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url, cipher).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(url, cipher).await?)),
        _ => Err(StoreError::Unavailable(format!(
            "unsupported database URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(url)
        ))),
    }
}

/// A database opened before its data key is known: enough to migrate it and to check the keys
/// it records ([`KeyringStore`]); [`Database::with_data_key`] then gives the registry on the same
/// connections.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Database {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Database, StoreError> {
        // A throw-away cipher: nothing is sealed or opened through this handle (the keyring port
        // takes its keys as arguments).
        let placeholder = Arc::new(
            sanad_app::crypto::DataCipher::random()
                .map_err(|e| StoreError::Internal(e.to_string()))?,
        );
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Database::Sqlite(
                SqliteStore::connect(url, placeholder).await?,
            )),
            "postgres" | "postgresql" => Ok(Database::Postgres(
                PgStore::connect(url, placeholder).await?,
            )),
            _ => Err(StoreError::Unavailable(format!(
                "unsupported database URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DB",
                redact_url(url)
            ))),
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(s) => s.migrate().await,
            Database::Postgres(p) => p.migrate().await,
        }
    }

    /// The declarations port of the same database.
    pub fn declarations(
        &self,
        cipher: Arc<sanad_app::crypto::DataCipher>,
    ) -> Arc<dyn sanad_app::declarations::DeclarationStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.with_cipher(cipher)),
            Database::Postgres(p) => Arc::new(p.with_cipher(cipher)),
        }
    }

    /// The e-service requests port of the same database.
    pub fn requests(
        &self,
        cipher: Arc<sanad_app::crypto::DataCipher>,
    ) -> Arc<dyn sanad_app::requests::RequestStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.with_cipher(cipher)),
            Database::Postgres(p) => Arc::new(p.with_cipher(cipher)),
        }
    }

    /// The notification outbox of the same database, sealing recipients with `cipher`.
    /// The documents port (issued certificates and the certificate keys).
    pub fn certificates(&self) -> Arc<dyn sanad_app::certificates::CertificateStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.clone()),
            Database::Postgres(p) => Arc::new(p.clone()),
        }
    }

    pub fn outbox(
        &self,
        cipher: Arc<sanad_app::crypto::DataCipher>,
    ) -> Arc<dyn sanad_app::outbox::OutboxStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.with_cipher(cipher)),
            Database::Postgres(p) => Arc::new(p.with_cipher(cipher)),
        }
    }

    /// The accounts port of the same database.
    pub fn accounts(&self) -> Arc<dyn sanad_app::AccountStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.clone()),
            Database::Postgres(p) => Arc::new(p.clone()),
        }
    }

    pub fn keyring(&self) -> Arc<dyn KeyringStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.clone()),
            Database::Postgres(p) => Arc::new(p.clone()),
        }
    }

    /// The registry, sealing and opening with `cipher`.
    pub fn with_data_key(
        &self,
        cipher: Arc<sanad_app::crypto::DataCipher>,
    ) -> Arc<dyn RegistryStore> {
        match self {
            Database::Sqlite(s) => Arc::new(s.with_cipher(cipher)),
            Database::Postgres(p) => Arc::new(p.with_cipher(cipher)),
        }
    }

    /// Every port of the database, sealing and opening with `cipher`; the ports share one
    /// connection pool and one assessor slot.
    pub fn ports(&self, cipher: Arc<sanad_app::crypto::DataCipher>) -> Ports {
        match self {
            Database::Sqlite(s) => {
                let s = s.with_cipher(cipher);
                Ports {
                    registry: Arc::new(s.clone()),
                    targeting: Arc::new(s.clone()),
                    programmes: Arc::new(s.clone()),
                    payments: Arc::new(s.clone()),
                    dashboard: Arc::new(s),
                }
            }
            Database::Postgres(p) => {
                let p = p.with_cipher(cipher);
                Ports {
                    registry: Arc::new(p.clone()),
                    targeting: Arc::new(p.clone()),
                    programmes: Arc::new(p.clone()),
                    payments: Arc::new(p.clone()),
                    dashboard: Arc::new(p),
                }
            }
        }
    }

    /// The database file, for SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Database::Sqlite(s) => Some(s.path()),
            Database::Postgres(_) => None,
        }
    }
}

/// The ports of one database.
#[derive(Clone)]
pub struct Ports {
    pub registry: Arc<dyn RegistryStore>,
    pub targeting: Arc<dyn TargetingStore>,
    pub programmes: Arc<dyn ProgrammeStore>,
    pub payments: Arc<dyn PaymentStore>,
    pub dashboard: Arc<dyn sanad_app::DashboardStore>,
}

/// What a write refused because its data key was rotated away while the process ran expected.
pub(crate) const RETIRED_DATA_KEY: &str = "the active data key of this database (this process holds one that was rotated away: restart it with the new key file)";

/// A URL with its password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Configuration(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref d) if d.code().as_deref() == Some("3D000") => {
            StoreError::Unavailable(d.message().to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Runs a PostgreSQL client tool (pg_dump, pg_restore), turning its failure into a one-line error.
pub(crate) async fn run_tool(program: &str, args: &[&str]) -> Result<(), StoreError> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot run {program} (install the PostgreSQL client): {e}"
            ))
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("failed");
    Err(StoreError::Internal(format!("{program}: {first}")))
}

/// Restores a backup made by [`RegistryStore::backup`] into the database at `url`, which must
/// hold no registry yet (a new SQLite path, or an empty PostgreSQL database).
pub async fn restore(url: &str, from: &std::path::Path) -> Result<(), StoreError> {
    if !from.is_file() {
        return Err(StoreError::Unavailable(format!(
            "no backup file at {}",
            from.display()
        )));
    }
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => {
            let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?;
            let target = options.get_filename().to_path_buf();
            if target.exists() {
                return Err(StoreError::Conflict {
                    field: "database_url".into(),
                    code: "exists",
                    message: format!(
                        "a new database path; {} exists (move it away first)",
                        target.display()
                    ),
                });
            }
            std::fs::copy(from, &target).map_err(|e| {
                StoreError::Internal(format!("cannot write {}: {e}", target.display()))
            })?;
            // The copy must be a Sanad database; if not, it is taken away again.
            let check = async {
                let store = SqliteStore::connect(
                    url,
                    Arc::new(
                        sanad_app::crypto::DataCipher::random()
                            .map_err(|e| StoreError::Internal(e.to_string()))?,
                    ),
                )
                .await?;
                let head = store.audit_head().await;
                store.pool().close().await;
                head
            };
            if let Err(e) = check.await {
                let _ = std::fs::remove_file(&target);
                return Err(StoreError::Unavailable(format!(
                    "{} is not a Sanad backup: {e}",
                    from.display()
                )));
            }
            Ok(())
        }
        "postgres" | "postgresql" => {
            let store = PgStore::connect(
                url,
                Arc::new(
                    sanad_app::crypto::DataCipher::random()
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                ),
            )
            .await?;
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'households'",
            )
            .fetch_one(store.pool())
            .await
            .map_err(db_error)?;
            store.pool().close().await;
            if tables > 0 {
                return Err(StoreError::Conflict {
                    field: "database_url".into(),
                    code: "exists",
                    message: "an empty database; this one already holds a registry".into(),
                });
            }
            run_tool(
                "pg_restore",
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    url,
                    &from.to_string_lossy(),
                ],
            )
            .await
        }
        _ => Err(StoreError::Unavailable(format!(
            "unsupported database URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(url)
        ))),
    }
}

/// Runs one administrative statement (such as `CREATE DATABASE`) on a PostgreSQL server, outside
/// any transaction; for the benchmark and operators' tooling.
pub async fn admin_statement(url: &str, statement: &str) -> Result<(), StoreError> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot connect to PostgreSQL at `{}`: {e}",
            redact_url(url)
        ))
    })?;
    sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            redact_url("postgres://sanad:hunter2@db:5432/sanad"),
            "postgres://sanad:***@db:5432/sanad"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
