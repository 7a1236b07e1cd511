//! Sanad's HTTP layer: the REST API under `/api/v1` (OpenAPI 3.1 document and an offline
//! documentation page), the pages of the web window (`pages`, rendered by the `web` crate), the login pages (password form and OpenID Connect), and the
//! middleware around them.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use sanad_app::Registry;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod login;
pub mod oidc;
pub mod openapi;
pub mod page;
pub mod pages;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    /// Mark session cookies `Secure` (the server is reached over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Login through an OpenID Connect provider, when one is configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// The verifier key of the audit log's signed heads (`name+id+key`), put in proof bundles;
    /// without it the proof endpoints answer 503.
    pub audit_verifier_key: Option<String>,
    /// Index models, programmes and enrolments; without it their endpoints answer 503.
    pub targeting: Option<sanad_app::Targeting>,
    /// Cycles, payments and adhesions; without it their endpoints answer 503.
    pub payments: Option<sanad_app::payments::Payments>,
    /// The dashboard's figures; without it the dashboard pages answer 503.
    pub dashboard: Option<sanad_app::Dashboard>,
    /// The keys port, so that the audit page trusts the earlier audit keys the current one
    /// endorses; without it only the current key is trusted.
    pub keyring: Option<Arc<dyn sanad_app::KeyringStore>>,
    /// The administration of accounts and API keys (pages of the administrator).
    pub accounts: Option<sanad_app::accounts::Accounts>,
    /// Changes households declare (the citizen's and the centre's pages).
    pub declarations: Option<sanad_app::declarations::Declarations>,
    /// E-service requests and complaints.
    pub requests: Option<sanad_app::requests::Requests>,
    /// Issued documents and their public verification.
    pub certificates: Option<sanad_app::Certificates>,
    pub(crate) logins: Arc<auth::LoginCache>,
    pub(crate) limiter: Arc<auth::FailureLimiter>,
    pub(crate) anonymous: Arc<auth::AnonymousLimiter>,
}

impl AppState {
    pub fn new(registry: Registry) -> Self {
        AppState {
            registry,
            secure_cookies: false,
            oidc: None,
            audit_verifier_key: None,
            targeting: None,
            payments: None,
            dashboard: None,
            keyring: None,
            accounts: None,
            declarations: None,
            requests: None,
            certificates: None,
            logins: Arc::default(),
            limiter: Arc::default(),
            anonymous: Arc::default(),
        }
    }

    /// Serves the dashboard with these figures.
    pub fn with_dashboard(mut self, dashboard: sanad_app::Dashboard) -> Self {
        self.dashboard = Some(dashboard);
        self
    }

    /// Serves the targeting endpoints with this context (built on the same registry).
    pub fn with_targeting(mut self, targeting: sanad_app::Targeting) -> Self {
        self.targeting = Some(targeting);
        self
    }

    /// Serves the payment endpoints with this context (built on the same registry and targeting).
    pub fn with_payments(mut self, payments: sanad_app::payments::Payments) -> Self {
        self.payments = Some(payments);
        self
    }

    /// Sets the rate limits per client address and minute: failed authentications, and requests
    /// without any credential (defaults: [`auth::MAX_FAILURES_PER_MINUTE`],
    /// [`auth::ANONYMOUS_PER_MINUTE`]).
    pub fn with_rate_limits(mut self, auth_failures: u32, anonymous: u32) -> Self {
        self.limiter = Arc::new(auth::FailureLimiter::new(auth_failures));
        self.anonymous = Arc::new(auth::AnonymousLimiter::new(anonymous));
        self
    }
}

async fn openapi_json() -> impl axum::response::IntoResponse {
    axum::Json(openapi::document())
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::not_found("resource")
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(api::health::health))
        .route("/openapi.json", get(openapi_json))
        .route(
            "/households",
            post(api::households::create).get(api::households::list),
        )
        .route(
            "/households/{id}",
            get(api::households::get).put(api::households::update),
        )
        .route("/households/{id}/versions", get(api::households::versions))
        .route("/persons/search", post(api::persons::search))
        .route("/persons/{id}", get(api::persons::get))
        .route("/territories", get(api::territories::list))
        .route("/territories/{code}", get(api::territories::get))
        .route("/stats/regions", get(api::territories::region_counts))
        .route("/households/{id}/targeting", get(api::targeting::household))
        .route(
            "/households/{id}/enrolments",
            get(api::targeting::household_enrolments),
        )
        .route(
            "/programmes",
            get(api::targeting::programmes).post(api::targeting::define_programme),
        )
        .route("/programmes/count", post(api::targeting::count_rule))
        .route("/programmes/{code}", get(api::targeting::programme))
        .route("/programmes/{code}/enrol", post(api::targeting::enrol))
        .route(
            "/programmes/{code}/enrolments",
            get(api::targeting::enrolments),
        )
        .route(
            "/programmes/{code}/enrolments/{household}",
            post(api::targeting::change_enrolment),
        )
        .route("/stats/enrolments", get(api::targeting::counts))
        .route(
            "/models",
            get(api::targeting::models).post(api::targeting::import_model),
        )
        .route("/models/dry-run", post(api::targeting::dry_run))
        .route(
            "/models/{id}/{version}/activate",
            post(api::targeting::activate_model),
        )
        .route(
            "/households/{id}/payment-means",
            get(api::payments::get_means).put(api::payments::set_means),
        )
        .route(
            "/cycles",
            get(api::payments::cycles).post(api::payments::prepare_cycle),
        )
        .route("/cycles/preview", post(api::payments::preview_cycle))
        .route("/cycles/{id}", get(api::payments::cycle))
        .route("/cycles/{id}/approve", post(api::payments::approve_cycle))
        .route("/cycles/{id}/cancel", post(api::payments::cancel_cycle))
        .route(
            "/cycles/{id}/entitlements",
            get(api::payments::entitlements),
        )
        .route("/cycles/{id}/batches", post(api::payments::open_batches))
        .route("/batches/{id}/export", post(api::payments::export_batch))
        .route("/reconciliations", post(api::payments::reconcile))
        .route("/payments", get(api::payments::list_payments))
        .route(
            "/programmes/{code}/adhesion-batches",
            post(api::payments::open_adhesions),
        )
        .route(
            "/programmes/{code}/adhesion-batches/{id}/export",
            post(api::payments::export_adhesions),
        )
        .route("/adhesion-answers", post(api::payments::adhesion_answer))
        .route(
            "/requests",
            get(api::requests::queue).post(api::requests::submit),
        )
        .route("/requests/follow", post(api::requests::follow))
        .route("/requests/bottlenecks", get(api::requests::bottlenecks))
        .route("/requests/{id}", get(api::requests::get))
        .route("/requests/{id}/history", get(api::requests::history))
        .route("/requests/{id}/actions", post(api::requests::act))
        .route(
            "/households/{id}/certificates",
            get(api::certificates::of_household).post(api::certificates::issue),
        )
        .route(
            "/certificates/verification",
            post(api::certificates::verify_file),
        )
        .route("/certificates/{id}", get(api::certificates::get))
        .route("/certificates/{id}/pdf", get(api::certificates::pdf))
        .route(
            "/certificates/{id}/revocation",
            post(api::certificates::revoke),
        )
        .route(
            "/certificates/{id}/verification",
            get(api::certificates::verify_code),
        )
        .route("/duplicates", get(api::duplicates::list))
        .route("/duplicates/{id}/decision", post(api::duplicates::decide))
        .route("/persons/{id}/merge", post(api::duplicates::merge))
        .route("/merges/{id}/undo", post(api::duplicates::undo))
        .route("/auth/login", post(api::session::login))
        .route("/auth/logout", post(api::session::logout))
        .route("/access-log", get(api::audit::access_log))
        .route("/audit/events", get(api::audit::events))
        .route("/audit/proofs/inclusion", get(api::audit::inclusion))
        .route("/audit/proofs/consistency", get(api::audit::consistency))
        .route("/audit/tree-head", get(api::audit::tree_head))
        .fallback(api_not_found);

    let docs: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
        .external_url_unchecked("/api/v1/docs/openapi.json", openapi::document().clone())
        .into();

    // The documentation page initialises Swagger UI with an inline script, so the strict policy
    // (no inline script or style at all) covers everything else.
    let strict = Router::new()
        .merge(pages::routes())
        .route("/login", get(login::show).post(login::submit))
        .route(
            sanad_certificates::WELL_KNOWN_PATH,
            get(api::certificates::published_keys),
        )
        .route("/logout", post(login::logout))
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/callback", get(oidc::callback))
        .nest("/api/v1", api)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(auth::form_csrf))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            ),
        ));
    Router::new()
        .merge(strict)
        .merge(docs)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::limit_anonymous,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // Pages, style sheet and scripts travel gzipped: a centre on a slow rural link gets the
        // citizen's home and its assets in a fraction of their size.
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(
            // Spans name the route template, never the concrete URI: ids stay out of the logs.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_else(|| "unmatched".into());
                tracing::info_span!("http", http.method = %req.method(), http.route = %route)
            }),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            axum::response::IntoResponse::into_response(error::ApiError::internal())
        }))
}
