//! Login through an OpenID Connect provider (Keycloak, …): the authorization code flow with PKCE.
//!
//! The provider only proves who the person is; what they may do comes from the local account an
//! administrator provisioned (role, territories), found by a configured claim. The flow's secrets
//! (state, nonce, PKCE verifier) stay in the database for ten minutes, under the hash of the state,
//! bound to the browser by a random cookie: any server instance can finish a login another one
//! started, and each is used once. Nothing that identifies the person (tokens, claim values) is ever logged: only
//! the reason a login was refused.

use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sanad_app::auth::random_secret;
use sanad_app::store::LoginFlow;
use sanad_app::{Actor, RegistryStore};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::session::{RequestParts, open_session};
use crate::auth::same_secret;
use crate::page::{self, Lang, form_encode, safe_next};

/// The cookie that binds a login in progress to the browser that started it. SameSite=Lax, not
/// Strict: it must come back with the provider's cross-site redirect to the callback.
pub const FLOW_COOKIE: &str = "sanad_oidc";
/// How long a login at the provider may take.
const FLOW_TTL: Duration = Duration::from_secs(600);
/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECONDS: u64 = 60;
/// The key set is fetched again for an unknown key id at most this often.
const JWKS_REFRESH_MIN: Duration = Duration::from_secs(30);

/// What an OpenID Connect login needs to know.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// The provider's issuer URL, e.g. `https://sso.example/realms/sanad`.
    pub issuer: String,
    pub client_id: String,
    /// Absent for a public client (PKCE alone).
    pub client_secret: Option<Secret>,
    /// Where the provider sends the browser back: `https://sanad.example/auth/oidc/callback`.
    pub redirect_url: String,
    /// The ID token claim that names the local account.
    pub username_claim: String,
    /// Shown on the login button.
    pub provider_name: String,
    /// Space-separated scopes; `openid` is always asked for.
    pub scopes: String,
}

/// A secret (the client secret): it never shows in `Debug` output, so not in a log line either.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why a login through the provider did not succeed; the name is what the log shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unreachable,
    Internal,
    ProviderError,
    BadState,
    TokenExchange,
    BadIdToken(&'static str),
    NoUsername,
    UnknownAccount,
    LockedAccount,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::Unreachable => "provider_unreachable",
            Refusal::Internal => "internal",
            Refusal::ProviderError => "provider_error",
            Refusal::BadState => "bad_state",
            Refusal::TokenExchange => "token_exchange_failed",
            Refusal::BadIdToken(why) => why,
            Refusal::NoUsername => "username_claim_missing",
            Refusal::UnknownAccount => "unknown_account",
            Refusal::LockedAccount => "locked_account",
        }
    }

    /// The page that tells the reader, in their language, why the login did not happen.
    fn page(self, lang: Lang) -> Response {
        let (status, key) = match self {
            Refusal::Unreachable => (StatusCode::BAD_GATEWAY, "login-oidc-unreachable"),
            Refusal::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "error-internal"),
            Refusal::UnknownAccount | Refusal::LockedAccount => {
                (StatusCode::FORBIDDEN, "login-oidc-no-account")
            }
            Refusal::BadState => (StatusCode::FORBIDDEN, "login-oidc-failed"),
            _ => (StatusCode::UNAUTHORIZED, "login-oidc-failed"),
        };
        page::message(status, lang, key)
    }
}

/// The parts of the provider's discovery document that the flow uses.
#[derive(Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

struct Keys {
    set: JwkSet,
    /// When a token with an unknown key id last made us fetch the set again.
    refetched_for_unknown_key: Option<Instant>,
}

/// The OpenID Connect client: provider metadata and keys (fetched on first use and cached), and
/// the logins in progress.
pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    metadata: tokio::sync::RwLock<Option<Metadata>>,
    keys: tokio::sync::RwLock<Option<Keys>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct StartQuery {
    next: Option<String>,
}

impl Oidc {
    /// A client for this provider. Its HTTP client follows no redirects (a provider URL cannot
    /// bounce requests elsewhere) and gives up after ten seconds.
    pub fn new(config: OidcConfig) -> Result<Oidc, String> {
        // reqwest is built without a default TLS provider (aws-lc-rs needs cmake); ring is it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let issuer =
            reqwest::Url::parse(&config.issuer).map_err(|e| format!("oidc.issuer: {e}"))?;
        // Discovery and the keys come from the issuer: over plain HTTP anyone on the path could
        // sign in as anyone. Only a provider on this machine may do without TLS.
        let loopback = issuer.host_str().is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            return Err("oidc.issuer must be an https:// URL".into());
        }
        reqwest::Url::parse(&config.redirect_url).map_err(|e| format!("oidc.redirect_url: {e}"))?;
        if config.client_id.trim().is_empty() {
            return Err("oidc.client_id is required when oidc.issuer is set".into());
        }
        Ok(Oidc {
            config,
            http,
            metadata: tokio::sync::RwLock::new(None),
            keys: tokio::sync::RwLock::new(None),
        })
    }

    pub fn provider_name(&self) -> &str {
        &self.config.provider_name
    }

    /// Fetches the discovery document and the key set now, so that a misconfiguration shows at
    /// start-up; logs one line either way. Logins with a password work regardless.
    pub async fn warm_up(&self) {
        let result = match self.metadata().await {
            Ok(meta) => self.fetch_keys(&meta).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                tracing::info!(oidc.issuer = %self.config.issuer, "OpenID Connect provider ready")
            }
            Err(e) => tracing::warn!(
                oidc.issuer = %self.config.issuer,
                error = %e,
                "OpenID Connect provider unreachable; password logins still work, will retry on the next OIDC login"
            ),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", causes(&e)))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        response
            .json::<T>()
            .await
            .map_err(|e| format!("GET {url}: {e}"))
    }

    /// The provider's metadata, discovered once and then cached.
    async fn metadata(&self) -> Result<Metadata, String> {
        if let Some(meta) = self.metadata.read().await.as_ref() {
            return Ok(meta.clone());
        }
        let issuer = self.config.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let meta: Metadata = self.get_json(&url).await?;
        if meta.issuer.trim_end_matches('/') != issuer {
            return Err(format!(
                "the discovery document names issuer {} instead of {issuer}",
                meta.issuer
            ));
        }
        *self.metadata.write().await = Some(meta.clone());
        Ok(meta)
    }

    async fn fetch_keys(&self, meta: &Metadata) -> Result<JwkSet, String> {
        self.fetch_keys_for(meta, None).await
    }

    async fn fetch_keys_for(
        &self,
        meta: &Metadata,
        unknown_key_at: Option<Instant>,
    ) -> Result<JwkSet, String> {
        let set: JwkSet = self.get_json(&meta.jwks_uri).await?;
        *self.keys.write().await = Some(Keys {
            set: set.clone(),
            refetched_for_unknown_key: unknown_key_at,
        });
        Ok(set)
    }

    /// The key that signed a token: from the cached set, or from a fresh one when the key id is
    /// unknown (the provider rotated its keys). Unknown key ids make us fetch again at most every
    /// half minute, so that forged tokens cannot hammer the provider.
    async fn key_for(&self, meta: &Metadata, kid: Option<&str>) -> Result<Jwk, Refusal> {
        let pick = |set: &JwkSet| -> Option<Jwk> {
            match kid {
                Some(kid) => set.find(kid).cloned(),
                None if set.keys.len() == 1 => set.keys.first().cloned(),
                None => None,
            }
        };
        let unknown_key_at = {
            let keys = self.keys.read().await;
            match keys.as_ref() {
                Some(k) => {
                    if let Some(found) = pick(&k.set) {
                        return Ok(found);
                    }
                    if k.refetched_for_unknown_key
                        .is_some_and(|at| at.elapsed() < JWKS_REFRESH_MIN)
                    {
                        return Err(Refusal::BadIdToken("unknown_signing_key"));
                    }
                    Some(Instant::now())
                }
                None => None,
            }
        };
        let set = self
            .fetch_keys_for(meta, unknown_key_at)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "OpenID Connect key set unavailable");
                Refusal::Unreachable
            })?;
        pick(&set).ok_or(Refusal::BadIdToken("unknown_signing_key"))
    }

    /// Starts a login: remembers state, nonce and PKCE verifier for this browser; returns the
    /// provider URL to send the browser to and the browser-binding cookie value.
    async fn start(
        &self,
        store: &dyn RegistryStore,
        next: String,
    ) -> Result<(String, String), Refusal> {
        let meta = self.metadata().await.map_err(|e| {
            tracing::warn!(error = %e, "OpenID Connect discovery failed");
            Refusal::Unreachable
        })?;
        let secret = || random_secret(32).map_err(|_| Refusal::Internal);
        let (state, nonce, verifier, browser) = (secret()?, secret()?, secret()?, secret()?);
        let challenge =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&verifier));
        let mut scopes: Vec<&str> = self.config.scopes.split_whitespace().collect();
        if !scopes.contains(&"openid") {
            scopes.insert(0, "openid");
        }
        let mut url = reqwest::Url::parse(&meta.authorization_endpoint).map_err(|_| {
            tracing::warn!("OpenID Connect authorization endpoint is not a URL");
            Refusal::ProviderError
        })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_url)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let flow = LoginFlow {
            browser_hash: hex_sha256(&browser),
            nonce,
            verifier,
            next,
            expires_at: time::OffsetDateTime::now_utc() + FLOW_TTL,
        };
        store
            .put_login_flow(&hex_sha256(&state), &flow)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot store the OpenID Connect login in progress");
                Refusal::Internal
            })?;
        Ok((url.into(), browser))
    }

    /// Finishes a login: the state must be one this browser started; the code is exchanged and
    /// the ID token checked. Returns the claims and where to go next.
    async fn finish(
        &self,
        store: &dyn RegistryStore,
        query: CallbackQuery,
        browser: Option<&str>,
    ) -> Result<(Map<String, Value>, String), Refusal> {
        if query.error.is_some() {
            return Err(Refusal::ProviderError);
        }
        let (Some(code), Some(state)) = (query.code, query.state) else {
            return Err(Refusal::BadState);
        };
        let flow = store
            .take_login_flow(&hex_sha256(&state), time::OffsetDateTime::now_utc())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read the OpenID Connect login in progress");
                Refusal::Internal
            })?
            .ok_or(Refusal::BadState)?;
        let bound = browser.is_some_and(|b| same_secret(&hex_sha256(b), &flow.browser_hash));
        if !bound {
            return Err(Refusal::BadState);
        }
        let meta = self.metadata().await.map_err(|e| {
            tracing::warn!(error = %e, "OpenID Connect discovery failed");
            Refusal::Unreachable
        })?;
        let id_token = self.exchange(&meta, &code, &flow.verifier).await?;
        let claims = self.verify(&meta, &id_token, &flow.nonce).await?;
        Ok((claims, flow.next))
    }

    /// Trades the code (and the PKCE verifier) for tokens at the token endpoint, authenticating
    /// the client as the provider advertises (`client_secret_basic` unless only `_post` is).
    async fn exchange(
        &self,
        meta: &Metadata,
        code: &str,
        verifier: &str,
    ) -> Result<String, Refusal> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("code_verifier", verifier),
        ];
        let mut request = self.http.post(&meta.token_endpoint);
        let methods = &meta.token_endpoint_auth_methods_supported;
        match self.config.client_secret.as_ref().map(Secret::expose) {
            Some(secret)
                if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") =>
            {
                // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
                let credentials = format!(
                    "{}:{}",
                    form_encode(&self.config.client_id),
                    form_encode(secret)
                );
                let value = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(credentials)
                );
                request = request.header(header::AUTHORIZATION, value);
            }
            Some(secret) => {
                form.push(("client_id", self.config.client_id.as_str()));
                form.push(("client_secret", secret));
            }
            None => form.push(("client_id", self.config.client_id.as_str())),
        }
        let response = request
            .header(header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %causes(&e), "OpenID Connect token endpoint unreachable");
                Refusal::Unreachable
            })?;
        if !response.status().is_success() {
            tracing::warn!(
                http.status = response.status().as_u16(),
                "OpenID Connect token endpoint refused the code"
            );
            return Err(Refusal::TokenExchange);
        }
        let tokens: TokenResponse = response.json().await.map_err(|_| Refusal::TokenExchange)?;
        tokens.id_token.ok_or(Refusal::TokenExchange)
    }

    /// Checks an ID token: signature by one of the provider's keys, issuer, audience (and the
    /// authorized party when there are several audiences), expiry and issue time with a small
    /// leeway, and the nonce of this login.
    async fn verify(
        &self,
        meta: &Metadata,
        token: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, Refusal> {
        const ALLOWED: [Algorithm; 8] = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
        ];
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Refusal::BadIdToken("malformed_id_token"))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(Refusal::BadIdToken("id_token_algorithm_not_allowed"));
        }
        let jwk = self.key_for(meta, header.kid.as_deref()).await?;
        let key =
            DecodingKey::from_jwk(&jwk).map_err(|_| Refusal::BadIdToken("unusable_signing_key"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[meta.issuer.as_str()]);
        validation.set_audience(&[self.config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                Refusal::BadIdToken(match e.kind() {
                    ErrorKind::InvalidSignature => "id_token_bad_signature",
                    ErrorKind::ExpiredSignature => "id_token_expired",
                    ErrorKind::InvalidAudience => "id_token_wrong_audience",
                    ErrorKind::InvalidIssuer => "id_token_wrong_issuer",
                    ErrorKind::MissingRequiredClaim(_) => "id_token_missing_claim",
                    _ => "id_token_invalid",
                })
            })?;
        let claims = data.claims;
        let now = jsonwebtoken::get_current_timestamp();
        match claims.get("iat").and_then(Value::as_u64) {
            Some(iat) if iat <= now + LEEWAY_SECONDS => {}
            _ => return Err(Refusal::BadIdToken("id_token_bad_iat")),
        }
        let several_audiences = claims
            .get("aud")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1);
        match claims.get("azp").and_then(Value::as_str) {
            Some(azp) if azp != self.config.client_id => {
                return Err(Refusal::BadIdToken("id_token_wrong_azp"));
            }
            None if several_audiences => return Err(Refusal::BadIdToken("id_token_missing_azp")),
            _ => {}
        }
        let sent = claims.get("nonce").and_then(Value::as_str);
        if !sent.is_some_and(|n| same_secret(n, nonce)) {
            return Err(Refusal::BadIdToken("id_token_wrong_nonce"));
        }
        Ok(claims)
    }

    /// The local account named by the configured claim, if it exists and is not locked.
    async fn account(
        &self,
        state: &AppState,
        claims: &Map<String, Value>,
    ) -> Result<Actor, Refusal> {
        let username = claims
            .get(&self.config.username_claim)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or(Refusal::NoUsername)?;
        let account = state
            .registry
            .store()
            .account(username)
            .await
            .map_err(|e| {
                tracing::error!(error.cause = %e, "account look-up failed");
                Refusal::Internal
            })?
            .ok_or(Refusal::UnknownAccount)?;
        if account
            .locked_until
            .is_some_and(|until| until > time::OffsetDateTime::now_utc())
        {
            return Err(Refusal::LockedAccount);
        }
        Ok(Actor::of(&account))
    }
}

/// An error and its causes on one line ("error sending request: … Connection refused").
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn flow_cookie(state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/auth/oidc; Max-Age={max_age}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("sanad_oidc=; Max-Age=0"))
}

fn disabled(lang: Lang) -> Response {
    page::message(StatusCode::NOT_FOUND, lang, "error-not-found")
}

/// `GET /auth/oidc/start`: sends the browser to the provider.
pub async fn start(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = crate::pages::lang_of(&parts.headers);
    let Some(oidc) = state.oidc.clone() else {
        return disabled(lang);
    };
    let query: StartQuery = query
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    match oidc
        .start(
            state.registry.store().as_ref(),
            safe_next(query.next.as_deref()),
        )
        .await
    {
        Ok((url, browser)) => {
            let mut response = page::see_other(&url);
            response.headers_mut().insert(
                header::SET_COOKIE,
                flow_cookie(&state, &browser, FLOW_TTL.as_secs()),
            );
            response
        }
        Err(refusal) => {
            tracing::warn!(
                oidc.failure = refusal.reason(),
                "OpenID Connect login not started"
            );
            refusal.page(lang)
        }
    }
}

/// `GET /auth/oidc/callback`: the provider sends the browser back here with a code.
///
/// Success answers a small page that moves on to `next` by itself rather than a redirect: the
/// browser arrives here from the provider's site, and a redirect would keep the navigation
/// cross-site, so the SameSite=Strict session cookie would not be sent with the next page.
pub async fn callback(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = crate::pages::lang_of(&parts.headers);
    let Some(oidc) = state.oidc.clone() else {
        return disabled(lang);
    };
    let query: CallbackQuery = query
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let browser = page::cookie(&parts.headers, FLOW_COOKIE);
    let outcome = match oidc
        .finish(state.registry.store().as_ref(), query, browser)
        .await
    {
        Ok((claims, next)) => oidc.account(&state, &claims).await.map(|a| (a, next)),
        Err(e) => Err(e),
    };
    let mut response = match outcome {
        Ok((actor, next)) => match open_session(&state, &actor).await {
            Ok(session) => {
                tracing::info!(auth.scheme = "oidc", "login through OpenID Connect");
                let mut response = logged_in(lang, &next);
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, session.cookie);
                response
            }
            Err(e) => page::message(e.status(), lang, "error-internal"),
        },
        Err(refusal) => {
            tracing::warn!(
                oidc.failure = refusal.reason(),
                "OpenID Connect login refused"
            );
            refusal.page(lang)
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, flow_cookie(&state, "", 0));
    response
}

/// The page that follows a successful login: it moves on to `next` at once (a meta refresh, as
/// no script may run) and offers a link for browsers that do not.
fn logged_in(lang: Lang, next: &str) -> Response {
    let t = sanad_web::Tr::new(lang);
    let view = sanad_web::views::common::MessagePage {
        shell: sanad_web::Shell::new(lang, t.t("login-logged-in"), next),
        heading: t.t("login-logged-in"),
        text: t.t("login-logged-in"),
        kind: "ok",
        icon: "check",
        link: Some(sanad_web::views::common::Link {
            href: next.to_string(),
            label: t.t("login-continue"),
        }),
        refresh: Some(next.to_string()),
    };
    crate::pages::render(&view)
}
