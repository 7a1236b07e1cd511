//! An agent logs in through the ministry's identity provider (OpenID Connect, code flow with PKCE).
//! The provider is a real HTTP server started by the test: discovery, key set, an authorization
//! endpoint that sends the browser back with a code, and a token endpoint that checks the code,
//! the client's credentials and the PKCE verifier before it signs an RS256 ID token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_app::{Registry, Role};
use sanad_http::oidc::{Oidc, OidcConfig};
use sanad_http::{AppState, router};
use sanad_storage::testkit;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;

const CLIENT_ID: &str = "sanad";
const CLIENT_SECRET: &str = "s3cret:with/odd&chars";
const REDIRECT_URL: &str = "https://sanad.test/auth/oidc/callback";
const PROVIDER_KEY: &str = include_str!("fixtures/oidc-provider-key.pem");
const FORGER_KEY: &str = include_str!("fixtures/oidc-forger-key.pem");
const EC_KEY: &str = include_str!("fixtures/oidc-provider-ec-key.pem");

/// What the provider puts in (or does to) the next ID token it issues.
#[derive(Clone)]
struct Issue {
    username: String,
    nonce: Option<String>,
    aud: Value,
    azp: Option<String>,
    exp_in: i64,
    forged: bool,
    /// Sign with the provider's P-256 key (ES256) instead of its RSA key.
    es256: bool,
    /// A key id other than the signing key's.
    kid: Option<&'static str>,
}

impl Default for Issue {
    fn default() -> Self {
        Issue {
            username: "agent1".into(),
            nonce: None,
            aud: json!(CLIENT_ID),
            azp: Some(CLIENT_ID.into()),
            exp_in: 300,
            forged: false,
            es256: false,
            kid: None,
        }
    }
}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct Provider {
    issuer: String,
    issue: Arc<Mutex<Issue>>,
    /// Whether the key set already publishes the P-256 key (a key rotation).
    rotated: Arc<Mutex<bool>>,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
}

async fn discovery(State(p): State<Provider>) -> Response {
    axum::Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/protocol/openid-connect/auth", p.issuer),
        "token_endpoint": format!("{}/protocol/openid-connect/token", p.issuer),
        "jwks_uri": format!("{}/protocol/openid-connect/certs", p.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn certs(State(p): State<Provider>) -> Response {
    let key = EncodingKey::from_rsa_pem(PROVIDER_KEY.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("provider-key".into());
    let mut keys = vec![jwk];
    if *p.rotated.lock().unwrap() {
        let key = EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("provider-ec-key".into());
        keys.push(jwk);
    }
    axum::Json(JwkSet { keys }).into_response()
}

/// The provider's login page, reduced to "the person is logged in": back to the client with a code.
async fn authorize(
    State(p): State<Provider>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", p.grants.lock().unwrap().len());
    p.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: q["nonce"].clone(),
            challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
        },
    );
    let back = format!(
        "{}?{}",
        q["redirect_uri"],
        serde_urlencoded::to_string([("code", code.as_str()), ("state", q["state"].as_str())])
            .unwrap()
    );
    Redirect::to(&back).into_response()
}

fn refuse(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": error })),
    )
        .into_response()
}

async fn token(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    // client_secret_basic: both parts form-encoded, then Base64.
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{CLIENT_ID}:{}",
            serde_urlencoded::to_string([("v", CLIENT_SECRET)])
                .unwrap()
                .trim_start_matches("v=")
        ))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return refuse("invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("unsupported_grant_type");
    }
    let Some(grant) = form
        .get("code")
        .and_then(|c| p.grants.lock().unwrap().remove(c))
    else {
        return refuse("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse("invalid_grant");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge {
        return refuse("invalid_grant");
    }
    let issue = p.issue.lock().unwrap().clone();
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let mut claims = json!({
        "iss": p.issuer,
        "sub": "0f5e2a9c-provider-subject",
        "aud": issue.aud,
        "exp": now + issue.exp_in,
        "iat": now.min(now + issue.exp_in - 60),
        "nonce": issue.nonce.unwrap_or(grant.nonce),
        "preferred_username": issue.username,
        "name": "Agent Un",
    });
    if let Some(azp) = issue.azp {
        claims["azp"] = json!(azp);
    }
    let (alg, kid, key) = if issue.es256 {
        let key = EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap();
        (Algorithm::ES256, "provider-ec-key", key)
    } else {
        let pem = if issue.forged {
            FORGER_KEY
        } else {
            PROVIDER_KEY
        };
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        (Algorithm::RS256, "provider-key", key)
    };
    let mut jwt_header = Header::new(alg);
    jwt_header.kid = Some(issue.kid.unwrap_or(kid).into());
    let id_token = jsonwebtoken::encode(&jwt_header, &claims, &key).unwrap();
    axum::Json(json!({
        "access_token": "opaque-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

async fn start_provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/realms/sanad", listener.local_addr().unwrap());
    let provider = Provider {
        issuer,
        issue: Arc::default(),
        rotated: Arc::default(),
        grants: Arc::default(),
    };
    let app = axum::Router::new()
        .route(
            "/realms/sanad/.well-known/openid-configuration",
            axum::routing::get(discovery),
        )
        .route(
            "/realms/sanad/protocol/openid-connect/certs",
            axum::routing::get(certs),
        )
        .route(
            "/realms/sanad/protocol/openid-connect/auth",
            axum::routing::get(authorize),
        )
        .route(
            "/realms/sanad/protocol/openid-connect/token",
            axum::routing::post(token),
        )
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    provider
}

struct Sanad {
    app: axum::Router,
    provider: Provider,
    browser: reqwest::Client,
    _db: testkit::TestDb,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

fn config(issuer: &str) -> OidcConfig {
    OidcConfig {
        issuer: issuer.to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(sanad_http::oidc::Secret(CLIENT_SECRET.into())),
        redirect_url: REDIRECT_URL.into(),
        username_claim: "preferred_username".into(),
        provider_name: "Keycloak".into(),
        scopes: "openid profile".into(),
    }
}

impl Sanad {
    async fn new() -> Sanad {
        let provider = start_provider().await;
        let db = testkit::sqlite().await;
        db.store
            .upsert_account(&Account::new(
                "agent1",
                Role::Agent,
                hash_password("unused here").unwrap(),
            ))
            .await
            .unwrap();
        let mut state = AppState::new(Registry::new(db.store.clone()));
        state.oidc = Some(Arc::new(Oidc::new(config(&provider.issuer)).unwrap()));
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Sanad {
            app: router(state),
            provider,
            browser,
            _db: db,
        }
    }

    async fn get(&self, uri: &str, cookie: Option<&str>) -> Page {
        get_on(&self.app, uri, cookie).await
    }

    /// A second server instance over the same database (another node behind the load balancer).
    fn another_instance(&self) -> axum::Router {
        let mut state = AppState::new(Registry::new(self._db.store.clone()));
        state.oidc = Some(Arc::new(Oidc::new(config(&self.provider.issuer)).unwrap()));
        router(state)
    }
}

async fn get_on(app: &axum::Router, uri: &str, cookie: Option<&str>) -> Page {
    let mut req = Request::get(uri).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

impl Sanad {
    /// Clicks "Se connecter avec Keycloak" and logs in at the provider: returns the browser's
    /// flow cookie and the callback path (with code and state) the provider sent it back to.
    async fn through_the_provider(&self) -> (String, String) {
        let start = self.get("/auth/oidc/start?next=/", None).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        let set = start.cookie("sanad_oidc").unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_string();
        let authorize = start.headers[header::LOCATION].to_str().unwrap();
        assert!(authorize.starts_with(&self.provider.issuer), "{authorize}");
        let back = self.browser.get(authorize).send().await.unwrap();
        assert_eq!(back.status(), reqwest::StatusCode::SEE_OTHER);
        let callback = back.headers()["location"].to_str().unwrap().to_string();
        let path = callback
            .strip_prefix("https://sanad.test")
            .unwrap()
            .to_string();
        assert!(path.starts_with("/auth/oidc/callback?code="), "{path}");
        (cookie, path)
    }

    async fn login_with(&self, issue: Issue) -> Page {
        *self.provider.issue.lock().unwrap() = issue;
        let (cookie, callback) = self.through_the_provider().await;
        self.get(&callback, Some(&cookie)).await
    }
}

fn refused(page: &Page, status: StatusCode) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.cookie("sanad_session").is_none(), "no session");
    assert!(page.body.contains("<html lang=\"fr\""), "an HTML page");
}

#[tokio::test]
async fn an_agent_logs_in_through_the_identity_provider_and_gets_their_local_role() {
    let sanad = Sanad::new().await;
    let login = sanad.get("/login", None).await;
    assert!(
        login
            .body
            .contains("Se connecter avec \u{2068}Keycloak\u{2069}"),
        "{}",
        login.body
    );
    assert!(login.body.contains("href=\"/auth/oidc/start?next=%2F\""));

    let done = sanad.login_with(Issue::default()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let set = done.cookie("sanad_session").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(
        done.body
            .contains("<meta http-equiv=\"refresh\" content=\"0;url=/\">"),
        "{}",
        done.body
    );
    assert!(
        done.cookie("sanad_oidc").unwrap().contains("Max-Age=0"),
        "the flow cookie is spent"
    );
    let session = set.split(';').next().unwrap();
    let home = sanad.get("/", Some(session)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains("<span class=\"user-name\">agent1</span>"),
        "{}",
        home.body
    );
}

#[tokio::test]
async fn a_login_started_on_one_server_instance_finishes_on_another() {
    let sanad = Sanad::new().await;
    let (cookie, callback) = sanad.through_the_provider().await;
    let other = sanad.another_instance();
    let done = get_on(&other, &callback, Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.cookie("sanad_session").is_some());
    // And the state is spent for every instance.
    refused(
        &sanad.get(&callback, Some(&cookie)).await,
        StatusCode::FORBIDDEN,
    );
}

#[tokio::test]
async fn a_callback_with_a_foreign_state_or_from_another_browser_is_refused() {
    let sanad = Sanad::new().await;
    let (cookie, callback) = sanad.through_the_provider().await;

    let forged = callback.split("&state=").next().unwrap().to_string() + "&state=forged";
    refused(
        &sanad.get(&forged, Some(&cookie)).await,
        StatusCode::FORBIDDEN,
    );

    // The right state but not the browser that started the login (login CSRF).
    refused(
        &sanad.get(&callback, Some("sanad_oidc=someone-else")).await,
        StatusCode::FORBIDDEN,
    );
    // A state is good for one try only.
    refused(
        &sanad.get(&callback, Some(&cookie)).await,
        StatusCode::FORBIDDEN,
    );

    let (cookie, callback) = sanad.through_the_provider().await;
    refused(&sanad.get(&callback, None).await, StatusCode::FORBIDDEN);
    let _ = cookie;

    let page = sanad
        .get("/auth/oidc/callback?error=access_denied&state=x", None)
        .await;
    refused(&page, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn id_tokens_that_do_not_hold_up_are_refused() {
    let sanad = Sanad::new().await;
    let cases = [
        (
            "wrong nonce",
            Issue {
                nonce: Some("replayed-nonce".into()),
                ..Issue::default()
            },
        ),
        (
            "wrong audience",
            Issue {
                aud: json!("another-client"),
                azp: None,
                ..Issue::default()
            },
        ),
        (
            "several audiences without azp",
            Issue {
                aud: json!([CLIENT_ID, "another-client"]),
                azp: None,
                ..Issue::default()
            },
        ),
        (
            "issued to another party",
            Issue {
                azp: Some("another-client".into()),
                ..Issue::default()
            },
        ),
        (
            "expired",
            Issue {
                exp_in: -3600,
                ..Issue::default()
            },
        ),
        (
            "signed by another key",
            Issue {
                forged: true,
                ..Issue::default()
            },
        ),
    ];
    for (what, issue) in cases {
        let page = sanad.login_with(issue).await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            page.body
        );
        assert!(page.cookie("sanad_session").is_none(), "{what}");
    }
    // The provider itself is fine: a proper token still logs in.
    assert_eq!(
        sanad.login_with(Issue::default()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_the_provider_rotates_to_an_es256_key_logins_go_on() {
    let sanad = Sanad::new().await;
    assert_eq!(
        sanad.login_with(Issue::default()).await.status,
        StatusCode::OK,
        "the RSA key set is fetched and cached"
    );
    *sanad.provider.rotated.lock().unwrap() = true;
    let rotated = sanad
        .login_with(Issue {
            es256: true,
            ..Issue::default()
        })
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert!(rotated.cookie("sanad_session").is_some());

    let unknown = sanad
        .login_with(Issue {
            kid: Some("never-published"),
            ..Issue::default()
        })
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.cookie("sanad_session").is_none());
}

#[tokio::test]
async fn a_person_without_an_active_local_account_is_refused() {
    let sanad = Sanad::new().await;
    let page = sanad
        .login_with(Issue {
            username: "stranger".into(),
            ..Issue::default()
        })
        .await;
    refused(&page, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Aucun compte Sanad actif"),
        "{}",
        page.body
    );

    // Locked after failed password attempts: the provider's word does not unlock it.
    sanad
        ._db
        .store
        .record_login_failure(
            "agent1",
            1,
            time::OffsetDateTime::now_utc() + time::Duration::minutes(15),
        )
        .await
        .unwrap();
    refused(
        &sanad.login_with(Issue::default()).await,
        StatusCode::FORBIDDEN,
    );
}

#[tokio::test]
async fn without_an_issuer_oidc_is_off_and_an_unreachable_provider_leaves_passwords_working() {
    let db = testkit::sqlite().await;
    let off = router(AppState::new(Registry::new(db.store.clone())));
    for uri in ["/auth/oidc/start", "/auth/oidc/callback?code=x&state=y"] {
        let res = off
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }

    assert!(
        Oidc::new(config("http://sso.example/realms/x")).is_err(),
        "a remote issuer without TLS"
    );

    // Nothing listens on port 1.
    let mut state = AppState::new(Registry::new(db.store.clone()));
    state.oidc = Some(Arc::new(
        Oidc::new(config("http://127.0.0.1:1/realms/x")).unwrap(),
    ));
    let app = router(state);
    let res = app
        .clone()
        .oneshot(
            Request::get("/auth/oidc/start")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let res = app
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the password form still works"
    );
}
