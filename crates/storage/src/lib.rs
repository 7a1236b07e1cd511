//! Sanad's storage: the [`RegistryStore`] port implemented on SQLite (the embedded default: one file,
//! WAL, zero set-up) and on PostgreSQL (production). The backend is chosen from the URL scheme.
//! Both run the same SQL where the dialects agree (`ops.rs`, included in each backend module) and
//! their own where they differ (locking, bulk load, migrations).

use std::sync::Arc;

use sanad_app::{RegistryStore, StoreError};

mod postgres;
mod rows;
mod sqlite;
mod sqlite_bulk;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Connects to `sqlite://PATH` (created if missing) or `postgres://…`. Does not migrate.
pub async fn connect(url: &str) -> Result<Arc<dyn RegistryStore>, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(url).await?)),
        _ => Err(StoreError::Unavailable(format!(
            "unsupported database URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DB",
            redact_url(url)
        ))),
    }
}

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
