//! Configuration, layered: built-in defaults, then `sanad.toml` (or the file given with `--config`),
//! then `SANAD_*` environment variables (`SANAD_DATABASE_URL`, `SANAD_BIND`, `SANAD_LOG`; nested keys
//! with a double underscore: `SANAD_OIDC__CLIENT_SECRET`), then command-line flags.

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
    /// The Ed25519 key that signs the audit log's tree heads; keep it outside the database (and its
    /// backups). Created on first use.
    pub audit_key_file: std::path::PathBuf,
    /// The origin line of the audit log's signed tree heads (and their key name): a name unique to
    /// this installation, e.g. `sanad.example.ma/audit`.
    pub audit_origin: String,
    /// Milliseconds between two runs of the integrator while serving: the longest an event waits
    /// before it is in a signed tree head (plus the integration itself).
    pub integrate_ms: u64,
    /// The key that encrypts national ids at rest (and keys their look-up hash); keep it outside the
    /// database and its backups. Created on first use.
    pub data_key_file: std::path::PathBuf,
    /// Mark session cookies `Secure`: set it when users reach Sanad over HTTPS (directly or through
    /// a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Days the access log keeps its entries; older ones are deleted once a day while serving
    /// (with an audit event). 0 keeps them for ever.
    pub access_log_days: u32,
    /// Login through an OpenID Connect provider (`[oidc]` table); off without an issuer.
    #[serde(default)]
    pub oidc: OidcSettings,
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
            .field("secure_cookies", &self.secure_cookies)
            .field("access_log_days", &self.access_log_days)
            .field("oidc", &self.oidc)
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
            .set_default("audit_origin", sanad_app::audit::DEFAULT_ORIGIN)?
            .set_default("integrate_ms", 250)?
            .set_default("data_key_file", "sanad-data.key")?
            .set_default("secure_cookies", false)?
            .set_default("access_log_days", 0)?;
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
    fn a_missing_explicit_file_is_an_error() {
        assert!(Settings::load(Some(Path::new("/nonexistent/sanad.toml"))).is_err());
    }
}
