//! Configuration, layered: built-in defaults, then `sanad.toml` (or the file given with `--config`),
//! then `SANAD_*` environment variables (`SANAD_DATABASE_URL`, `SANAD_BIND`, `SANAD_LOG`, `SANAD_KEY_DIR`; nested keys
//! with a double underscore: `SANAD_OIDC__CLIENT_SECRET`), then command-line flags.

use std::fmt;
use std::path::{Path, PathBuf};

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
    /// The Ed25519 key that signs the audit log's tree heads; keep it outside the database (and its
    /// backups). Created on first use. Default: see [`Settings::key_files`].
    pub audit_key_file: Option<PathBuf>,
    /// The origin line of the audit log's signed tree heads (and their key name): a name unique to
    /// this installation, e.g. `sanad.example.ma/audit`.
    pub audit_origin: String,
    /// Milliseconds between two runs of the integrator while serving: the longest an event waits
    /// before it is in a signed tree head (plus the integration itself).
    pub integrate_ms: u64,
    /// The key that encrypts national ids at rest (and keys their look-up hash); keep it outside the
    /// database and its backups. Created on first use. Default: see [`Settings::key_files`].
    pub data_key_file: Option<PathBuf>,
    /// The Ed25519 key that signs the documents Sanad issues (cards, attestations); keep it outside
    /// the database. Created on first use. Default: see [`Settings::key_files`].
    pub certificate_key_file: Option<PathBuf>,
    /// The address citizens and partners reach this installation at (`https://sanad.example.ma`):
    /// printed on the documents and in their QR code, for the public verify page. Default:
    /// `http://` and the bind address.
    pub public_url: Option<String>,
    /// The directory of the key files (`data.key`, `audit.key`); required for PostgreSQL unless
    /// both files are named.
    pub key_dir: Option<PathBuf>,
    /// Where the documents of e-service requests are kept: a directory (one file per content,
    /// named by its SHA-256), or, when unset, the database itself.
    pub documents_dir: Option<PathBuf>,
    /// Mark session cookies `Secure`: set it when users reach Sanad over HTTPS (directly or through
    /// a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Days the access log keeps its entries; older ones are deleted once a day while serving
    /// (with an audit event). 0 keeps them for ever.
    pub access_log_days: u32,
    /// Failed authentications allowed per client address and minute before it is answered 429.
    pub auth_failures_per_minute: u32,
    /// Requests without any credential allowed per client address and minute.
    pub anonymous_requests_per_minute: u32,
    /// `text` (default; colours only on a terminal) or `json` (one object per line).
    pub log_format: LogFormat,
    /// Login through an OpenID Connect provider (`[oidc]` table); off without an issuer.
    #[serde(default)]
    pub oidc: OidcSettings,
}

/// How log lines are written on standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines; ANSI colours only when standard error is a terminal.
    Text,
    /// One JSON object per line, with the same dotted field names.
    Json,
}

/// The `[oidc]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct OidcSettings {
    /// The provider's issuer URL, e.g. `https://sso.example/realms/sanad`; absent = OIDC off.
    pub issuer: Option<String>,
    pub client_id: String,
    /// Better given as `SANAD_OIDC__CLIENT_SECRET` than written in the file.
    pub client_secret: Option<sanad_http::oidc::Secret>,
    /// `https://sanad.example/auth/oidc/callback`, as registered at the provider.
    pub redirect_url: String,
    /// The ID token claim that names the local account.
    pub username_claim: String,
    /// Shown on the login button: "Se connecter avec …".
    pub provider_name: String,
    pub scopes: String,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer: None,
            client_id: String::new(),
            client_secret: None,
            redirect_url: String::new(),
            username_claim: "preferred_username".into(),
            provider_name: "OpenID Connect".into(),
            scopes: "openid profile".into(),
        }
    }
}

impl OidcSettings {
    /// The client configuration, or `None` when no issuer is set. An issuer without a client id
    /// or redirect URL is a configuration error, reported at start-up.
    pub fn client(&self) -> anyhow::Result<Option<sanad_http::oidc::OidcConfig>> {
        let Some(issuer) = self.issuer.as_ref().filter(|i| !i.trim().is_empty()) else {
            return Ok(None);
        };
        if self.client_id.trim().is_empty() || self.redirect_url.trim().is_empty() {
            anyhow::bail!(
                "oidc.issuer is set: oidc.client_id and oidc.redirect_url are required too"
            );
        }
        Ok(Some(sanad_http::oidc::OidcConfig {
            issuer: issuer.trim().to_string(),
            client_id: self.client_id.trim().to_string(),
            client_secret: self.client_secret.clone().filter(|s| !s.0.is_empty()),
            redirect_url: self.redirect_url.trim().to_string(),
            username_claim: self.username_claim.clone(),
            provider_name: self.provider_name.clone(),
            scopes: self.scopes.clone(),
        }))
    }
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
            .field("audit_origin", &self.audit_origin)
            .field("integrate_ms", &self.integrate_ms)
            .field("data_key_file", &self.data_key_file)
            .field("key_dir", &self.key_dir)
            .field("documents_dir", &self.documents_dir)
            .field("certificate_key_file", &self.certificate_key_file)
            .field("public_url", &self.public_url)
            .field("secure_cookies", &self.secure_cookies)
            .field("access_log_days", &self.access_log_days)
            .field("auth_failures_per_minute", &self.auth_failures_per_minute)
            .field(
                "anonymous_requests_per_minute",
                &self.anonymous_requests_per_minute,
            )
            .field("log_format", &self.log_format)
            .field("oidc", &self.oidc)
            .finish()
    }
}

/// Where the key files of a database are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    pub data: PathBuf,
    pub audit: PathBuf,
    /// The defaults of earlier versions (`sanad-data.key`, `sanad-audit.key` in the working
    /// directory), looked for beside a SQLite database when the files above are missing.
    pub legacy_data: Option<PathBuf>,
    pub legacy_audit: Option<PathBuf>,
    pub certificate: PathBuf,
}

impl Settings {
    /// The key files of the database: `data_key_file` / `audit_key_file` when set; otherwise
    /// `data.key` / `audit.key` in `key_dir` when set; otherwise, for SQLite, beside the database
    /// file (`registry.db` → `registry.db.data.key`, `registry.db.audit.key`). PostgreSQL has no
    /// file to stand beside: it needs `key_dir` (or both files named).
    pub fn key_files(&self, sqlite_path: Option<&Path>) -> anyhow::Result<KeyFiles> {
        let beside = |suffix: &str| -> anyhow::Result<PathBuf> {
            if let Some(dir) = &self.key_dir {
                if !dir.is_dir() {
                    anyhow::bail!(
                        "key_dir {}: no such directory (create it, readable by the service account only, or name the key files with data_key_file and audit_key_file)",
                        dir.display()
                    );
                }
                return Ok(dir.join(format!("{suffix}.key")));
            }
            match sqlite_path {
                Some(db) => {
                    let mut name = db.as_os_str().to_owned();
                    name.push(format!(".{suffix}.key"));
                    Ok(PathBuf::from(name))
                }
                None => anyhow::bail!(
                    "key_dir (SANAD_KEY_DIR) is not set: a PostgreSQL installation keeps its key files in a directory of its own (name it, or name data_key_file and audit_key_file)"
                ),
            }
        };
        let legacy = |name: &str| {
            sqlite_path
                .filter(|_| self.key_dir.is_none())
                .map(|db| db.parent().unwrap_or(Path::new("")).join(name))
        };
        Ok(KeyFiles {
            legacy_data: legacy("sanad-data.key").filter(|_| self.data_key_file.is_none()),
            legacy_audit: legacy("sanad-audit.key").filter(|_| self.audit_key_file.is_none()),
            data: match &self.data_key_file {
                Some(f) => f.clone(),
                None => beside("data")?,
            },
            audit: match &self.audit_key_file {
                Some(f) => f.clone(),
                None => beside("audit")?,
            },
            // A PostgreSQL installation that names its data and audit key files keeps the
            // certificate key beside the data key.
            certificate: match (&self.certificate_key_file, &self.data_key_file) {
                (Some(f), _) => f.clone(),
                (None, Some(data)) if self.key_dir.is_none() && sqlite_path.is_none() => {
                    data.with_file_name("certificate.key")
                }
                _ => beside("certificate")?,
            },
        })
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .set_default("database_url", "sqlite://sanad.db")?
            .set_default("bind", "127.0.0.1:8080")?
            .set_default("log", "info")?
            .set_default("audit_origin", sanad_app::audit::DEFAULT_ORIGIN)?
            .set_default("integrate_ms", 250)?
            .set_default("secure_cookies", false)?
            .set_default("access_log_days", 0)?
            .set_default(
                "auth_failures_per_minute",
                sanad_http::auth::MAX_FAILURES_PER_MINUTE,
            )?
            .set_default(
                "anonymous_requests_per_minute",
                sanad_http::auth::ANONYMOUS_PER_MINUTE,
            )?
            .set_default("log_format", "text")?;
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
    fn oidc_is_off_by_default_and_its_table_nests_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sanad.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\n").unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        assert!(s.oidc.client().unwrap().is_none());

        std::fs::write(
            &path,
            "[oidc]\nissuer = \"https://sso.example/realms/sanad\"\nclient_id = \"sanad\"\nclient_secret = \"t0p-secret\"\nredirect_url = \"https://sanad.example/auth/oidc/callback\"\nprovider_name = \"Keycloak\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        let client = s.oidc.client().unwrap().unwrap();
        assert_eq!(client.username_claim, "preferred_username");
        assert_eq!(client.scopes, "openid profile");
        assert_eq!(client.provider_name, "Keycloak");
        assert_eq!(
            client.client_secret.as_ref().map(|s| s.expose()),
            Some("t0p-secret")
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("t0p-secret"), "{shown}");

        std::fs::write(
            &path,
            "[oidc]\nissuer = \"https://sso.example/realms/sanad\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        assert!(s.oidc.client().is_err(), "an issuer alone is incomplete");
    }

    #[test]
    fn logs_are_text_unless_json_is_asked_for_and_anything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sanad.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\n").unwrap();
        let s = Settings::load(Some(&path)).unwrap();
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.auth_failures_per_minute, 10);
        std::fs::write(&path, "log_format = \"json\"\n").unwrap();
        assert_eq!(
            Settings::load(Some(&path)).unwrap().log_format,
            LogFormat::Json
        );
        std::fs::write(&path, "log_format = \"xml\"\n").unwrap();
        let e = format!("{:#}", Settings::load(Some(&path)).unwrap_err());
        assert!(e.contains("xml") || e.contains("log_format"), "{e}");
    }

    #[test]
    fn key_files_stand_beside_the_database_or_in_key_dir_and_named_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sanad.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\n").unwrap();
        let mut s = Settings::load(Some(&path)).unwrap();
        let db = dir.path().join("registry.db");
        let k = s.key_files(Some(&db)).unwrap();
        assert_eq!(k.data, dir.path().join("registry.db.data.key"));
        assert_eq!(k.audit, dir.path().join("registry.db.audit.key"));
        assert_eq!(
            k.certificate,
            dir.path().join("registry.db.certificate.key")
        );
        assert_eq!(k.legacy_data, Some(dir.path().join("sanad-data.key")));
        let err = s.key_files(None).unwrap_err().to_string();
        assert!(err.contains("key_dir"), "{err}");
        s.key_dir = Some(dir.path().join("missing"));
        let err = s.key_files(None).unwrap_err().to_string();
        assert!(err.contains("no such directory"), "{err}");
        s.key_dir = Some(dir.path().to_path_buf());
        let k = s.key_files(None).unwrap();
        assert_eq!(k.data, dir.path().join("data.key"));
        assert_eq!(k.legacy_data, None);
        s.data_key_file = Some(PathBuf::from("/etc/sanad/data.key"));
        let k = s.key_files(Some(&db)).unwrap();
        assert_eq!(k.data, PathBuf::from("/etc/sanad/data.key"));
        assert_eq!(k.audit, dir.path().join("audit.key"));
        s.key_dir = None;
        s.audit_key_file = Some(PathBuf::from("/etc/sanad/audit.key"));
        let k = s.key_files(None).unwrap();
        assert_eq!(
            k.certificate,
            PathBuf::from("/etc/sanad/certificate.key"),
            "beside the data key when both files are named"
        );
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        assert!(Settings::load(Some(Path::new("/nonexistent/sanad.toml"))).is_err());
    }
}
