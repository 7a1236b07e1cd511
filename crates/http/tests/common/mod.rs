//! What the API stories share: accounts of every role, a call helper, the household of five and
//! the shipped model and programmes put in force through the API.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_app::{Registry, Role, Targeting};
use sanad_http::{AppState, router};
use sanad_storage::testkit::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const DEMO_MODEL: &str = include_str!("../../../targeting/models/pmt-demo.toml");

pub fn basic(user: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:pass {user}"))
    )
}

/// Where the test installation says its verify page is (printed on its documents).
pub const BASE_URL: &str = "https://sanad.example.ma";

pub struct App {
    pub app: axum::Router,
    pub db: TestDb,
    /// The registry behind the router (its duplicate checker can be trained after seeding).
    pub registry: Registry,
    /// The targeting behind the router (what a server's refresh loop calls).
    pub targeting: Targeting,
}

impl App {
    pub async fn new(db: TestDb) -> App {
        App::with_clock(db, std::sync::Arc::new(time::OffsetDateTime::now_utc)).await
    }

    /// The app with its use-cases reading the time from `clock` (sessions keep the real time).
    pub async fn with_clock(db: TestDb, clock: sanad_app::registry::Clock) -> App {
        for (name, role, territories) in [
            ("agent", Role::Agent, vec!["05"]),
            ("agent-north", Role::Agent, vec!["01"]),
            ("manager", Role::Manager, vec![]),
            ("manager2", Role::Manager, vec![]),
            ("auditor", Role::Auditor, vec![]),
        ] {
            let mut account =
                Account::new(name, role, hash_password(&format!("pass {name}")).unwrap());
            account.territories = territories.into_iter().map(String::from).collect();
            db.store.upsert_account(&account).await.unwrap();
        }
        let registry = Registry::new(db.store.clone()).with_clock(clock);
        let targeting = Targeting::new(
            registry.clone(),
            db.targeting.clone(),
            db.programmes.clone(),
        );
        targeting.load().await.unwrap();
        let server_targeting = targeting.clone();
        let payments = sanad_app::payments::Payments::new(
            registry.clone(),
            targeting.clone(),
            db.payments.clone(),
        );
        // Figures read again for every page: the stories look right after a write.
        let dashboard = sanad_app::Dashboard::new(db.dashboard.clone(), Some(targeting.clone()))
            .with_max_age(std::time::Duration::ZERO);
        let mut state = AppState::new(registry.clone())
            .with_targeting(targeting)
            .with_payments(payments)
            .with_dashboard(dashboard);
        state.declarations = Some(sanad_app::declarations::Declarations::new(
            registry.clone(),
            db.declarations.clone(),
        ));
        state.accounts = Some(sanad_app::accounts::Accounts::new(
            db.store.clone(),
            db.accounts.clone(),
        ));
        // The documents' signing key, recorded in the database as `serve` does on first run.
        let key = sanad_certificates::CertificateKey::generate().unwrap();
        db.certificates
            .record_certificate_key(
                key.key_id().as_str(),
                &hex::encode(key.public().to_bytes()),
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        let keys =
            sanad_app::certificates::key_set(&db.certificates.certificate_keys().await.unwrap());
        let certificates = sanad_app::Certificates::new(
            registry.clone(),
            db.certificates.clone(),
            std::sync::Arc::new(key),
            keys,
            BASE_URL,
        )
        .with_targeting(state.targeting.clone().unwrap())
        .with_payments(db.payments.clone());
        state.certificates = Some(certificates.clone());
        state.requests = Some(
            sanad_app::requests::Requests::new(
                registry.clone(),
                db.requests.clone(),
                [7; 32],
                sanad_app::requests::DocumentVault::Database,
            )
            .unwrap()
            .with_targeting(state.targeting.clone().unwrap())
            .with_certificates(certificates),
        );
        let app = router(state);
        App {
            app,
            db,
            registry,
            targeting: server_targeting,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        user: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, uri, Some(user), body).await
    }

    /// A call without credentials (the public endpoints).
    pub async fn call_anonymous(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, uri, None, body).await
    }

    async fn call_with(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(user) = user {
            req = req.header(header::AUTHORIZATION, basic(user));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }
}

/// A rural household of five in Foum Oudi (Béni Mellal-Khénifra, region 05): a farmer, his wife at
/// home, two children at school and one under six; a rural house of two rooms, no water bill.
pub fn household() -> Value {
    json!({
        "commune_code": "05.091.03.01",
        "area": "rural",
        "address": "Douar Ait Ouham",
        "dwelling_type": "rural_house",
        "tenure": "owner",
        "rooms": 2,
        "water_spending": 0,
        "electricity_spending": "45",
        "phone_spending": "20",
        "gas_spending": "55",
        "assets": ["livestock"],
        "declared_income": "900",
        "members": [
            {"relation": "head", "first_name": "Lahcen", "last_name": "Ait Ouham", "first_name_ar": "لحسن", "last_name_ar": "آيت وهام",
             "sex": "M", "birth_date": "1982-03-10", "national_id": "I456789", "schooling": "none", "occupation": "self_employed"},
            {"relation": "spouse", "first_name": "Itto", "last_name": "Oulhaj", "first_name_ar": "إيطو", "last_name_ar": "أولحاج",
             "sex": "F", "birth_date": "1986-07-01", "schooling": "none", "occupation": "homemaker"},
            {"relation": "child", "first_name": "Youssef", "last_name": "Ait Ouham", "first_name_ar": "يوسف", "last_name_ar": "آيت وهام",
             "sex": "M", "birth_date": "2014-09-15", "schooling": "primary", "occupation": "student"},
            {"relation": "child", "first_name": "Hanane", "last_name": "Ait Ouham", "first_name_ar": "حنان", "last_name_ar": "آيت وهام",
             "sex": "F", "birth_date": "2017-01-20", "schooling": "primary", "occupation": "student"},
            {"relation": "child", "first_name": "Amine", "last_name": "Ait Ouham", "first_name_ar": "أمين", "last_name_ar": "آيت وهام",
             "sex": "M", "birth_date": "2023-05-02", "schooling": "none", "occupation": "inactive"}
        ]
    })
}

pub fn programme<'a>(view: &'a Value, code: &str) -> &'a Value {
    view["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {view}"))
}

pub async fn set_up_targeting(app: &App) {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/models",
            "manager",
            Some(json!({"definition": DEMO_MODEL, "reason": "fitted on the 2026 survey"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (id, version) = (
        v["id"].as_str().unwrap().to_string(),
        v["version"].as_u64().unwrap(),
    );
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/models/{id}/{version}/activate"),
            "manager",
            Some(json!({"reason": "in force"})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    for (_, text) in sanad_programmes::shipped() {
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/programmes",
                "manager",
                Some(json!({"definition": text, "reason": "shipped"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}
