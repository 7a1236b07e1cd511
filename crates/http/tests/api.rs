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

fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

struct TestApp {
    app: axum::Router,
    basic: String,
    manager: String,
    _db: testkit::TestDb,
}

impl TestApp {
    async fn new() -> TestApp {
        let db = testkit::sqlite().await;
        db.store
            .upsert_account(&Account::new(
                "agent",
                Role::Agent,
                hash_password("correct horse").unwrap(),
            ))
            .await
            .unwrap();
        db.store
            .add_api_key("agent", &api_key_hash("k3y"), &[])
            .await
            .unwrap();
        db.store
            .upsert_account(&Account::new(
                "manager",
                Role::Manager,
                hash_password("manager pass").unwrap(),
            ))
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
            manager: basic_auth("manager", "manager pass"),
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

    async fn as_manager(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, v, _) = self.call(method, uri, Some(&self.manager), body).await;
        (s, v)
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

    assert_eq!(
        h["possible_duplicates"],
        json!([]),
        "the matcher is not loaded on an empty registry"
    );
    let mut h = h;
    h.as_object_mut().unwrap().remove("possible_duplicates");
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
    assert!(
        home.as_str().unwrap().contains("name=\"q\""),
        "the agent's home is the search"
    );
}

#[tokio::test]
async fn an_agent_registers_a_phone_and_finds_the_person_by_it() {
    let app = TestApp::new().await;
    let mut h = household();
    h["members"][0]["phone"] = json!("06 12 34 56 78");
    h["members"][1]["phone"] = json!("+212 6 12 34 56 78");
    let (status, created) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["members"][0]["phone"], "+212612345678");
    assert_eq!(created["members"][1]["phone"], "+212612345678");
    assert_eq!(created["members"][2]["phone"], Value::Null);
    let head_id = created["members"][0]["id"].clone();
    let (status, person) = app
        .agent(
            "GET",
            &format!("/api/v1/persons/{}", head_id.as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(person["phone"], "+212612345678");

    let (status, found) = app
        .agent(
            "POST",
            "/api/v1/persons/search",
            Some(json!({"phone": "0612345678"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "both members sharing the phone: {found}");
    assert_eq!(items[0]["id"], head_id);
    let (_, found) = app
        .agent(
            "POST",
            "/api/v1/persons/search",
            Some(json!({"q": "khadija", "phone": "00212612345678"})),
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["first_name"], "Khadija");

    // A malformed phone, in a household or in a search, names its field.
    let mut h = household();
    h["members"][1]["phone"] = json!("06 12 34");
    let (status, problem) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "household.members[1].phone");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("0612345678"),
        "{problem}"
    );
    let (status, problem) = app
        .agent(
            "POST",
            "/api/v1/persons/search",
            Some(json!({"phone": "12-34"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "phone");

    let (_, doc, _) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["PersonSearch"]["properties"]["phone"].is_object());
    assert!(schemas["MemberBody"]["properties"]["phone"].is_object());
    assert!(
        schemas["PersonData"]["properties"]["phone"].is_object(),
        "{}",
        schemas["PersonData"]
    );
    assert!(
        schemas["PhoneNumber"]["description"]
            .as_str()
            .unwrap()
            .contains("0612345678"),
        "{}",
        schemas["PhoneNumber"]
    );
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

#[tokio::test]
async fn an_agent_is_warned_of_a_likely_duplicate_reviews_it_merges_and_undoes() {
    let app = TestApp::new().await;
    // A registry of a few thousand persons, so that the matcher can learn.
    let dir = tempfile::tempdir().unwrap();
    let config = sanad_synth::GenConfig {
        duplicate_rate: 0.05,
        ..sanad_synth::GenConfig::new(800, 3)
    };
    sanad_synth::generate(&config, dir.path(), &|_| {}).unwrap();
    let store = app._db.store.clone();
    let change = sanad_app::store::Change {
        actor: "import".into(),
        reason: "seed".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    let source = sanad_app::exchange::ImportSource::from_dir(dir.path());
    let report = sanad_app::exchange::import_registry(
        store.as_ref(),
        &source,
        &change,
        false,
        &sanad_app::store::NoProgress,
    )
    .await
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let registry = Registry::new(store.clone());
    registry.duplicates().load(store.as_ref()).await.unwrap();
    let app = TestApp {
        app: router(AppState::new(registry)),
        ..app
    };

    // The head of household 1 comes to another centre and is registered again, without his CNIE.
    let (_, existing) = app
        .agent("GET", "/api/v1/households/H00000000013", None)
        .await;
    let head = existing["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["relation"] == "head")
        .unwrap()
        .clone();
    let mut h = household();
    h["commune_code"] = existing["commune_code"].clone();
    h["members"] = json!([{
        "relation": "head", "first_name": head["first_name"], "last_name": head["last_name"],
        "first_name_ar": head["first_name_ar"], "last_name_ar": head["last_name_ar"],
        "sex": head["sex"], "birth_date": head["birth_date"], "schooling": head["schooling"], "occupation": head["occupation"]
    }]);
    let (status, created) = app
        .agent("POST", "/api/v1/households", Some(json!({"household": h})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let warnings = created["possible_duplicates"].as_array().unwrap();
    assert!(!warnings.is_empty(), "the agent is warned: {created}");
    assert_eq!(warnings[0]["duplicate_of"], head["id"]);
    assert_eq!(warnings[0]["member"], 0);
    assert!(warnings[0]["probability"].as_f64().unwrap() > 0.5);
    assert!(
        warnings[0]["explanation"]["birth_date"].is_object(),
        "{}",
        warnings[0]
    );

    // The pair waits in the review queue, which the centre's agents see too; a manager merges
    // the new record away.
    let (status, agents) = app.agent("GET", "/api/v1/duplicates", None).await;
    assert_eq!(status, StatusCode::OK, "{agents}");
    let (status, queue) = app.as_manager("GET", "/api/v1/duplicates", None).await;
    assert_eq!(status, StatusCode::OK);
    let pair = queue["items"][0].clone();
    let new_id = created["members"][0]["id"].as_str().unwrap().to_string();
    let (status, merge) = app
        .as_manager(
            "POST",
            &format!("/api/v1/persons/{new_id}/merge"),
            Some(json!({"into": head["id"], "reason": "same CNIE shown at the counter"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{merge}");
    let (_, accepted) = app
        .as_manager("GET", "/api/v1/duplicates?status=accepted", None)
        .await;
    assert_eq!(accepted["items"][0]["id"], pair["id"]);
    let (_, person) = app
        .agent("GET", &format!("/api/v1/persons/{new_id}"), None)
        .await;
    assert_eq!(person["merged_into"], head["id"]);
    let (status, problem) = app
        .as_manager(
            "POST",
            &format!("/api/v1/duplicates/{}/decision", pair["id"]),
            Some(json!({"decision": "rejected"})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "already decided"
    );

    let (status, undone) = app
        .as_manager(
            "POST",
            &format!("/api/v1/merges/{}/undo", merge["id"]),
            Some(json!({"reason": "wrong person"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    let (_, person) = app
        .agent("GET", &format!("/api/v1/persons/{new_id}"), None)
        .await;
    assert!(person.get("merged_into").is_none());
    assert_eq!(person["household_id"], created["id"]);
    let (status, _) = app
        .as_manager("POST", "/api/v1/merges/abc/undo", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Accounts of every role, each with its territory; two households, in Tanger and in Fès.
async fn territorial_setup() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let store = app._db.store.clone();
    let mut tanger = household();
    tanger["commune_code"] = json!("01.511.01.0");
    tanger["members"][0]["national_id"] = json!("K1");
    let (status, t) = app
        .agent(
            "POST",
            "/api/v1/households",
            Some(json!({"household": tanger})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let (status, f) = app
        .agent(
            "POST",
            "/api/v1/households",
            Some(json!({"household": household()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let account = |name: &str, role: Role, territories: &[&str]| {
        let mut a = Account::new(name, role, hash_password("pw").unwrap());
        a.territories = territories.iter().map(|t| t.to_string()).collect();
        a
    };
    let mut citizen = account("citizen", Role::Citizen, &[]);
    citizen.household_id = Some(t["id"].as_str().unwrap().parse().unwrap());
    for a in [
        account("agent.tanger", Role::Agent, &["01.511.01.0"]),
        account("supervisor.fes", Role::Supervisor, &["03"]),
        account("auditor", Role::Auditor, &[]),
        account("partner", Role::Partner, &[]),
        citizen,
    ] {
        store.upsert_account(&a).await.unwrap();
    }
    store
        .add_api_key(
            "partner",
            &api_key_hash("stats-only"),
            &["statistics:read".to_string()],
        )
        .await
        .unwrap();
    (
        app,
        t["id"].as_str().unwrap().to_string(),
        f["id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn each_role_sees_its_territory_only() {
    let (app, tanger, fes) = territorial_setup().await;
    let as_ = |user: &'static str| basic_auth(user, "pw");
    let get = |auth: String, uri: String| {
        let app = &app;
        async move {
            let (s, v, _) = app.call("GET", &uri, Some(&auth), None).await;
            (s, v)
        }
    };

    // The agent of Tanger sees Tanger, not Fès (answered 404: its existence does not leak).
    assert_eq!(
        get(as_("agent.tanger"), format!("/api/v1/households/{tanger}"))
            .await
            .0,
        StatusCode::OK
    );
    let (status, problem) = get(as_("agent.tanger"), format!("/api/v1/households/{fes}")).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, page) = get(as_("agent.tanger"), "/api/v1/households".into()).await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![tanger.as_str()]);
    assert_eq!(
        get(
            as_("agent.tanger"),
            "/api/v1/households?territory=03".into()
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (_, page) = get(
        as_("agent.tanger"),
        "/api/v1/households?territory=01".into(),
    )
    .await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "a wider request is narrowed to the agent's communes"
    );
    let (status, found, _) = app
        .call(
            "POST",
            "/api/v1/persons/search",
            Some(&as_("agent.tanger")),
            Some(json!({"q": "Bennani"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["household_id"] == tanger.as_str())
    );
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/households",
            Some(&as_("agent.tanger")),
            Some(json!({"household": household()})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no registration outside the agent's communes"
    );

    // The supervisor of Fès-Meknès reads Fès, cannot write, does not see Tanger.
    assert_eq!(
        get(as_("supervisor.fes"), format!("/api/v1/households/{fes}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        get(
            as_("supervisor.fes"),
            format!("/api/v1/households/{tanger}")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, h) = get(as_("supervisor.fes"), format!("/api/v1/households/{fes}")).await;
    let mut body = household();
    for (m, p) in body["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(h["members"].as_array().unwrap())
    {
        m["person_id"] = p["id"].clone();
    }
    let (status, _, _) = app
        .call(
            "PUT",
            &format!("/api/v1/households/{fes}"),
            Some(&as_("supervisor.fes")),
            Some(json!({"expected_version": 1, "household": body})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A citizen reads their own household and nothing else; agent endpoints are refused.
    assert_eq!(
        get(as_("citizen"), format!("/api/v1/households/{tanger}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        get(as_("citizen"), format!("/api/v1/households/{fes}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(as_("citizen"), "/api/v1/households".into()).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/persons/search",
            Some(&as_("citizen")),
            Some(json!({"q": "Bennani"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/households",
            Some(&as_("citizen")),
            Some(json!({"household": household()})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(as_("citizen"), "/api/v1/access-log".into()).await.0,
        StatusCode::FORBIDDEN
    );

    // A partner key limited to statistics reads statistics only.
    let (status, _, _) = app
        .call(
            "GET",
            "/api/v1/stats/regions",
            Some("Bearer stats-only"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app
        .call(
            "GET",
            &format!("/api/v1/households/{fes}"),
            Some("Bearer stats-only"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a key outside its scope");

    // The auditor finds who read what; others may not look.
    let (status, log) = get(
        as_("auditor"),
        "/api/v1/access-log?actor=agent.tanger".into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entity_id"] == tanger.as_str())
    );
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entity_id"] != fes.as_str()),
        "refused reads are not reads"
    );
    let (status, events) = get(as_("auditor"), "/api/v1/audit/events".into()).await;
    assert_eq!(
        (status, events.as_array().unwrap().len()),
        (StatusCode::OK, 2)
    );
    assert_eq!(
        get(as_("agent.tanger"), "/api/v1/access-log".into())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(as_("supervisor.fes"), "/api/v1/audit/events".into())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_and_then_the_client() {
    let app = TestApp::new().await;
    let wrong = basic_auth("agent", "guess");
    for _ in 0..5 {
        let (status, _, _) = app
            .call("GET", "/api/v1/households", Some(&wrong), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some(&app.basic), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "locked after five failures, even with the right password"
    );
    let locked = app._db.store.account("agent").await.unwrap().unwrap();
    assert!(locked.locked_until.is_some());
    // The manager still logs in; the client is refused once it passes ten failures a minute.
    let (status, _, _) = app
        .call("GET", "/api/v1/stats/regions", Some(&app.manager), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            app.call("GET", "/api/v1/households", Some(&wrong), None)
                .await
                .0,
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let (status, _, headers) = app
        .call("GET", "/api/v1/stats/regions", Some(&app.manager), None)
        .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even good credentials wait"
    );
    assert_eq!(headers[header::RETRY_AFTER], "60");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::new().await;
    let (_, _, headers) = app.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
}

#[tokio::test]
async fn a_browser_session_uses_a_secure_cookie_and_a_csrf_token() {
    let app = TestApp::new().await;
    let (status, _, _) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "agent", "password": "nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, info, headers) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "agent", "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{info}");
    let set = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let csrf = info["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(info["role"], "agent");

    let with_cookie = |method: &str, uri: &str, csrf: Option<&str>, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let app = app.app.clone();
        async move { app.oneshot(req).await.unwrap().status() }
    };
    assert_eq!(
        with_cookie("GET", "/api/v1/households", None, None).await,
        StatusCode::OK
    );
    let body = json!({"household": household()});
    assert_eq!(
        with_cookie("POST", "/api/v1/households", None, Some(body.clone())).await,
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    assert_eq!(
        with_cookie(
            "POST",
            "/api/v1/households",
            Some("forged"),
            Some(body.clone())
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        with_cookie("POST", "/api/v1/households", Some(&csrf), Some(body)).await,
        StatusCode::CREATED
    );

    // Logging out is a change too: without the token another site could end the session.
    let logout = |csrf: Option<&str>| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/api/v1/auth/logout")
            .header(header::COOKIE, &cookie);
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        app.app.clone().oneshot(req.body(Body::empty()).unwrap())
    };
    assert_eq!(logout(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = logout(Some(&csrf)).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        with_cookie("GET", "/api/v1/households", None, None).await,
        StatusCode::UNAUTHORIZED,
        "the session is closed"
    );
}

#[tokio::test]
async fn a_password_reset_takes_effect_at_once_even_for_remembered_credentials() {
    let app = TestApp::new().await;
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some(&app.basic), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    app._db
        .store
        .upsert_account(&Account::new(
            "agent",
            Role::Agent,
            hash_password("new pass").unwrap(),
        ))
        .await
        .unwrap();
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some(&app.basic), None)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer opens anything"
    );
    let (status, _, _) = app
        .call(
            "GET",
            "/api/v1/households",
            Some(&basic_auth("agent", "new pass")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_traffic_is_rate_limited_per_address() {
    let app = TestApp::new().await;
    for _ in 0..sanad_http::auth::ANONYMOUS_PER_MINUTE {
        let (status, _, _) = app.call("GET", "/api/v1/health", None, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, problem, headers) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    assert_eq!(headers[header::RETRY_AFTER], "60");
    let (status, _, _) = app
        .call("GET", "/api/v1/households", Some(&app.basic), None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an authenticated caller is not held by anonymous traffic"
    );
}

/// A citizen fetches the proof that her household's registration is in the audit log, and checks
/// it as the standalone verifier does; she gets no one else's. The auditor gets any event's proof
/// and the consistency proof between two heads; an event not yet integrated is answered 409.
#[tokio::test]
async fn a_citizen_proves_her_registration_and_an_auditor_the_log_grew() {
    let (mut app, tanger, fes) = territorial_setup().await;
    let store = app._db.store.clone();
    let signer = sanad_app::audit::LogSigner::new(
        ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]),
        "sanad.test/audit",
    );
    let vkey = signer.verifier_key();
    let mut state = AppState::new(Registry::new(store.clone()));
    state.audit_verifier_key = Some(vkey.clone());
    app.app = router(state);
    let (_, first) =
        sanad_app::audit::integrate_all(store.as_ref(), &signer, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
    let first = first.unwrap().head.size;
    let get = |user: &'static str, uri: String| {
        let app = &app;
        async move {
            let (s, v, _) = app
                .call("GET", &uri, Some(&basic_auth(user, "pw")), None)
                .await;
            (s, v)
        }
    };
    let check = |v: &Value| {
        let bundle: sanad_tlog::bundle::Bundle = serde_json::from_value(v.clone()).unwrap();
        sanad_tlog::bundle::verify(&bundle, Some(&vkey))
    };

    let (status, bundle) = get(
        "citizen",
        format!("/api/v1/audit/proofs/inclusion?household={tanger}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    assert_eq!(bundle["kind"], "inclusion");
    assert_eq!(bundle["event"]["entity_id"], tanger.as_str());
    check(&bundle).unwrap();
    let mut forged = bundle.clone();
    forged["event"]["actor"] = json!("someone");
    forged["leaf_index"] = json!(1);
    assert!(check(&forged).is_err());
    assert_eq!(
        get(
            "citizen",
            format!("/api/v1/audit/proofs/inclusion?household={fes}")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(
            "agent.tanger",
            format!("/api/v1/audit/proofs/inclusion?household={tanger}")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (status, bundle) = get(
        "auditor",
        format!("/api/v1/audit/proofs/inclusion?household={fes}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    check(&bundle).unwrap();
    assert_eq!(
        get(
            "auditor",
            "/api/v1/audit/proofs/inclusion?household=H123".into()
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // A new registration waits for the integrator: its proof is not there yet, and says so.
    let mut another = household();
    another["members"][0]["national_id"] = json!("K77");
    let (status, created) = app
        .agent(
            "POST",
            "/api/v1/households",
            Some(json!({"household": another})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, events) = get("auditor", "/api/v1/audit/events?limit=500".into()).await;
    let last = events.as_array().unwrap().last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    let (status, problem) = get(
        "auditor",
        format!("/api/v1/audit/proofs/inclusion?seq={last}"),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_integrated")),
        "{problem}"
    );
    sanad_app::audit::integrate_all(store.as_ref(), &signer, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (status, bundle) = get(
        "auditor",
        format!("/api/v1/audit/proofs/inclusion?seq={last}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    check(&bundle).unwrap();
    // Naming no event proves the newest one of the latest head: here, that same registration.
    let (status, newest) = get("auditor", "/api/v1/audit/proofs/inclusion".into()).await;
    assert_eq!(status, StatusCode::OK, "{newest}");
    check(&newest).unwrap();
    assert_eq!(newest["leaf"], bundle["leaf"]);

    let (status, bundle) = get(
        "auditor",
        format!("/api/v1/audit/proofs/consistency?old={first}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    assert!(matches!(
        check(&bundle).unwrap(),
        sanad_tlog::bundle::Verified::Consistent { .. }
    ));
    assert_eq!(
        get(
            "citizen",
            format!("/api/v1/audit/proofs/consistency?old={first}")
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, head) = get("citizen", "/api/v1/audit/tree-head".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head["verifier_key"], vkey.as_str());
    assert_eq!(head["waiting"], 0);
    assert!(
        head["head"]["note"]
            .as_str()
            .unwrap()
            .starts_with("sanad.test/audit\n")
    );
}
