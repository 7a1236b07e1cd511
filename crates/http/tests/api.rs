//! The API as a client sees it: credentials, problem documents, the household story end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use sanad_app::auth::{api_key_hash, hash_password};
use sanad_app::store::Account;
use sanad_app::{Registry, Role};
use sanad_http::{AppState, router};
use sanad_storage::testkit;
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct TestApp {
    app: axum::Router,
    basic: String,
    _db: testkit::TestDb,
}

impl TestApp {
    async fn new() -> TestApp {
        let db = testkit::sqlite().await;
        db.store
            .upsert_account(&Account {
                username: "agent".into(),
                role: Role::Agent,
                password_hash: hash_password("correct horse").unwrap(),
            })
            .await
            .unwrap();
        db.store
            .add_api_key("agent", &api_key_hash("k3y"))
            .await
            .unwrap();
        let app = router(AppState::new(Registry::new(db.store.clone())));
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("agent:correct horse")
        );
        TestApp {
            app,
            basic,
            _db: db,
        }
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(auth) = auth {
            req = req.header(header::AUTHORIZATION, auth);
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
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value, headers)
    }

    async fn agent(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (s, v, _) = self.call(method, uri, Some(&self.basic), body).await;
        (s, v)
    }
}

fn household() -> Value {
    json!({
        "commune_code": "03.231.01.0",
        "address": "Derb Lamrini, Fès Médina",
        "dwelling_type": "traditional_house",
        "tenure": "owner",
        "rooms": 4,
        "water_spending": "70.00",
        "electricity_spending": 180,
        "phone_spending": "40",
        "gas_spending": "60",
        "assets": ["tv", "fridge"],
        "declared_income": "3200.00",
        "members": [
            {"relation": "head", "first_name": "Abderrahim", "last_name": "Bennani", "first_name_ar": "عبد الرحيم", "last_name_ar": "بناني",
             "sex": "M", "birth_date": "1975-04-12", "national_id": "C123456", "schooling": "primary", "occupation": "self_employed"},
            {"relation": "spouse", "first_name": "Khadija", "last_name": "Tazi", "first_name_ar": "خديجة", "last_name_ar": "التازي",
             "sex": "F", "birth_date": "1979-09-01", "schooling": "lower_secondary", "occupation": "homemaker"},
            {"relation": "child", "first_name": "Imane", "last_name": "Bennani", "sex": "F", "birth_date": "2011-02-20",
             "schooling": "lower_secondary", "occupation": "student", "disability": "visual"}
        ]
    })
}

#[tokio::test]
async fn nothing_but_health_and_the_api_documents_answers_without_credentials() {
    let app = TestApp::new().await;
    for uri in [
        "/api/v1/households",
        "/api/v1/persons/P00000000014",
        "/api/v1/territories",
        "/api/v1/stats/regions",
        "/",
    ] {
        let (status, body, headers) = app.call("GET", uri, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(body["code"], "unauthorized");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let (status, _, _) = app
        .call("POST", "/api/v1/households", None, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some("Bearer wrong"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("agent:wrong")
    );
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some(&wrong), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body, _) = app.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, doc, _) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/households/{id}"]["put"].is_object());
    let (status, page, _) = app.call("GET", "/api/v1/docs/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.as_str().unwrap().contains("swagger"),
        "the documentation page is served"
    );
    let (status, _, _) = app
        .call("GET", "/api/v1/docs/swagger-ui.css", None, None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "its assets are served from the binary, no CDN"
    );
}

#[tokio::test]
async fn an_agent_registers_reads_updates_and_finds_a_household() {
    let app = TestApp::new().await;
    let (status, h, headers) = app
        .call(
            "POST",
            "/api/v1/households",
            Some(&app.basic),
            Some(json!({"household": household(), "reason": "walk-in at the CSC"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/households/{id}").as_str()
    );
    assert_eq!(h["version"], 1);
    assert_eq!(h["area"], "urban");
    assert_eq!(h["electricity_spending"], "180.00");
    assert_eq!(h["members"].as_array().unwrap().len(), 3);

    let (status, read) = app
        .agent("GET", &format!("/api/v1/households/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, h);

    // Update on the version read: the daughter's schooling changes.
    let mut next = household();
    for (m, p) in next["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(h["members"].as_array().unwrap())
    {
        m["person_id"] = p["id"].clone();
    }
    next["members"][2]["schooling"] = json!("upper_secondary");
    let body = json!({"expected_version": 1, "household": next, "reason": "school certificate"});
    let (status, updated) = app
        .agent(
            "PUT",
            &format!("/api/v1/households/{id}"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["version"], 2);

    // The same change sent again on the old version conflicts.
    let (status, problem) = app
        .agent("PUT", &format!("/api/v1/households/{id}"), Some(body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "version_conflict");

    let (status, versions) = app
        .agent("GET", &format!("/api/v1/households/{id}/versions"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(versions[1]["reason"], "school certificate");
    assert_eq!(
        versions[0]["snapshot"]["members"][2]["schooling"],
        "lower_secondary"
    );

    let (status, page) = app
        .agent("GET", "/api/v1/households?territory=03&limit=10", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_eq!(page["items"][0]["head_last_name"], "Bennani");
    let (_, page) = app
        .agent("GET", "/api/v1/households?territory=04", None)
        .await;
    assert!(page["items"].as_array().unwrap().is_empty());

    let (status, found) = app
        .agent(
            "POST",
            "/api/v1/persons/search",
            Some(json!({"q": "خديجة"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["items"][0]["first_name"], "Khadija");
    let (_, found) = app
        .agent(
            "POST",
            "/api/v1/persons/search",
            Some(json!({"q": "c123456"})),
        )
        .await;
    assert_eq!(found["items"][0]["first_name"], "Abderrahim");
    let pid = found["items"][0]["id"].as_str().unwrap();
    let (status, person, _) = app
        .call(
            "GET",
            &format!("/api/v1/persons/{pid}"),
            Some("Bearer k3y"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an API key works too");
    assert_eq!(person["household_id"], id.as_str());

    let (status, stats) = app.agent("GET", "/api/v1/stats/regions", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats[0]["region_code"], "03");
    assert_eq!(stats[0]["persons"], 3);
    let (status, home, _) = app.call("GET", "/", Some(&app.basic), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.as_str().unwrap().contains("Fès-Meknès"));
}

#[tokio::test]
async fn bad_input_is_answered_with_the_field_at_fault() {
    let app = TestApp::new().await;
    let mut h = household();
    h["members"][0]["birth_date"] = json!("2099-01-01");
    h["members"][1]["relation"] = json!("head");
    h["commune_code"] = json!("00.000");
    let (status, problem) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "validation");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"members[0].birth_date"), "{fields:?}");
    assert!(fields.contains(&"members"), "two heads: {fields:?}");
    assert!(fields.contains(&"commune_code"), "{fields:?}");

    let mut h = household();
    h["members"][1]["sex"] = json!("X");
    let (status, problem) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "household.members[1].sex");

    let mut h = household();
    h["gas_spending"] = json!("-5");
    let (status, problem) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "household.gas_spending");

    let (status, problem) = app.agent("GET", "/api/v1/persons/P00000000015", None).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a mistyped registry id is caught by its check digit"
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    let (status, problem) = app
        .agent("GET", "/api/v1/households/H00000000013", None)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = app.agent("GET", "/api/v1/households?limit=0", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .agent("GET", "/api/v1/households?territory=77", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/households")
        .header(header::AUTHORIZATION, &app.basic)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    assert_eq!(
        app.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let (status, problem, _) = app
        .call("POST", "/api/v1/persons/search", Some(&app.basic), None)
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
    let big = json!({"q": "x".repeat(2 << 20)});
    let (status, _) = app.agent("POST", "/api/v1/persons/search", Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = app.agent("GET", "/api/v1/nothing-here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
