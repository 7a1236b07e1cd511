//! Configuration, layered: built-in defaults, then `sanad.toml` (or the file given with `--config`),
//! then `SANAD_*` environment variables (`SANAD_DATABASE_URL`, `SANAD_BIND`, `SANAD_LOG`), then
//! command-line flags.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

#[derive(Clone, Deserialize)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Address the server listens on.
    pub bind: String,
    /// Log filter, e.g. `info` or `sanad=debug,tower_http=info`.
    pub log: String,
    /// The Ed25519 key that signs checkpoints of the audit chain; keep it outside the database
    /// (and its backups). Created on first use.
    pub audit_key_file: std::path::PathBuf,
    /// Minutes between two signed checkpoints while serving.
    pub checkpoint_minutes: u64,
    /// The key that encrypts national ids at rest (and keys their look-up hash); keep it outside the
    /// database and its backups. Created on first use.
    pub data_key_file: std::path::PathBuf,
    /// Mark session cookies `Secure`: set it when users reach Sanad over HTTPS (directly or through
    /// a TLS-terminating proxy).
    pub secure_cookies: bool,
}

/// The database password never reaches a log line or an error message.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database_url",
                &sanad_storage::redact_url(&self.database_url),
            )
            .field("bind", &self.bind)
            .field("log", &self.log)
            .field("audit_key_file", &self.audit_key_file)
            .field("checkpoint_minutes", &self.checkpoint_minutes)
            .field("data_key_file", &self.data_key_file)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

impl Settings {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .set_default("database_url", "sqlite://sanad.db")?
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("log", "info")?
            .set_default("audit_key_file", "sanad-audit.key")?
            .set_default("checkpoint_minutes", 10)?
            .set_default("data_key_file", "sanad-data.key")?
            .set_default("secure_cookies", false)?;
        builder = match file {
            Some(path) => builder.add_source(config::File::from(path).required(true)),
            None => builder.add_source(config::File::with_name("sanad.toml").required(false)),
        };
        builder
            .add_source(
                config::Environment::with_prefix("SANAD")
                    .prefix_separator("_")
                    .separator("__"),
            )
            .build()
            .and_then(|c| c.try_deserialize())
            .context("invalid configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_defaults_and_debug_hides_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sanad.toml");
        std::fs::write(
            &path,
            "database_url = \"postgres://sanad:s3cret@db/sanad\"\nbind = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.log, "info");
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        assert!(Settings::load(Some(Path::new("/nonexistent/sanad.toml"))).is_err());
    }
}
