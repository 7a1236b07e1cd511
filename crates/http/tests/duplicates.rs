//! The duplicate check as an agent and a reviewer meet it: a person already in the registry comes
//! back under another spelling, without a national id; the agent is warned, the pair waits in the
//! review queue with the weights behind its probability; his own phone, kept in the registry,
//! counts for him.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_app::{Registry, Role};
use sanad_http::{AppState, router};
use sanad_storage::testkit;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn call(
    app: &axum::Router,
    auth: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, auth);
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A letter doubled in the middle of a name: a spelling a clerk could have written.
fn respelled(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let k = chars.len() / 2;
    chars[..=k].iter().chain(chars[k..].iter()).collect()
}

#[tokio::test]
async fn a_person_registered_again_under_another_spelling_without_id_is_flagged_for_review() {
    let db = testkit::sqlite().await;
    for (user, role, pw) in [
        ("agent", Role::Agent, "agent pass"),
        ("manager", Role::Manager, "manager pass"),
    ] {
        db.store
            .upsert_account(&Account::new(user, role, hash_password(pw).unwrap()))
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    sanad_synth::generate(
        &sanad_synth::GenConfig {
            duplicate_rate: 0.05,
            ..sanad_synth::GenConfig::new(800, 11)
        },
        dir.path(),
        &|_| {},
    )
    .unwrap();
    let change = sanad_app::store::Change {
        actor: "import".into(),
        reason: "seed".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    let report = sanad_app::exchange::import_registry(
        db.store.as_ref(),
        &sanad_app::exchange::ImportSource::from_dir(dir.path()),
        &change,
        false,
        &sanad_app::store::NoProgress,
    )
    .await
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let registry = Registry::new(db.store.clone());
    registry.duplicates().load(db.store.as_ref()).await.unwrap();
    let app = router(AppState::new(registry));
    let (agent, manager) = (
        basic("agent", "agent pass"),
        basic("manager", "manager pass"),
    );

    // A head of household with a phone of his own and a national id in the registry.
    let persons = std::fs::read_to_string(dir.path().join("persons.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(persons.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (hid, rel, phone, nid) = (
        col("household_id"),
        col("relation"),
        col("phone"),
        col("national_id"),
    );
    let all: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let shares_phone = |r: &csv::StringRecord| {
        all.iter()
            .filter(|o| o[hid] == r[hid] && o[phone] == r[phone])
            .count()
            > 1
    };
    let head_row = all
        .iter()
        .find(|r| {
            &r[rel] == "head" && !r[phone].is_empty() && !r[nid].is_empty() && !shares_phone(r)
        })
        .expect("a head with a phone of his own and an id");
    let (_, existing) = call(
        &app,
        &agent,
        "GET",
        &format!("/api/v1/households/{}", &head_row[hid]),
        None,
    )
    .await;
    let head = existing["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["relation"] == "head")
        .unwrap()
        .clone();

    // He registers again elsewhere: family name spelt differently, no CNIE, his own phone (the
    // other members of his new household share a family phone).
    let new_last = respelled(head["last_name"].as_str().unwrap());
    let member = |relation: &str,
                  first: &Value,
                  last: &str,
                  sex: &str,
                  birth: &Value,
                  phone: &Value| {
        json!({"relation": relation, "first_name": first, "last_name": last, "sex": sex, "birth_date": birth,
               "phone": phone, "schooling": "primary", "occupation": "self_employed"})
    };
    let family_phone = json!("+212699000111");
    let h = json!({
        "commune_code": existing["commune_code"], "address": "Douar Lakhyayta", "dwelling_type": "traditional_house",
        "tenure": "tenant", "rooms": 2, "water_spending": "30", "electricity_spending": "50", "phone_spending": "20",
        "gas_spending": "40", "assets": [], "declared_income": "1500",
        "members": [
            member("head", &head["first_name"], &new_last, head["sex"].as_str().unwrap(), &head["birth_date"], &head["phone"]),
            member("spouse", &json!("Zineb"), "Ouazzani", "F", &json!("1961-03-04"), &family_phone),
            member("child", &json!("Ilyas"), "Ouazzani", "M", &json!("2012-10-02"), &family_phone),
        ]
    });
    let (status, created) = call(
        &app,
        &agent,
        "POST",
        "/api/v1/households",
        Some(json!({"household": h})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let warnings = created["possible_duplicates"].as_array().unwrap();
    let warning = warnings
        .iter()
        .find(|w| w["duplicate_of"] == head["id"])
        .unwrap_or_else(|| panic!("the agent is warned about {}: {created}", head["id"]));
    assert_eq!(warning["member"], 0);
    assert!(warning["probability"].as_f64().unwrap() >= 0.5, "{warning}");
    assert_eq!(
        warning["explanation"]["phone"]["level"], "exact",
        "{warning}"
    );
    assert_eq!(
        warning["explanation"]["national_id"]["level"], "null",
        "a missing id weighs nothing: {warning}"
    );
    assert_eq!(warning["explanation"]["national_id"]["weight"], 0.0);

    // The reviewer sees the pair with the weights behind it, field by field.
    let (status, queue) = call(&app, &manager, "GET", "/api/v1/duplicates", None).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let new_id = &created["members"][0]["id"];
    let pair = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            (&p["person_a"] == new_id || &p["person_b"] == new_id)
                && (p["person_a"] == head["id"] || p["person_b"] == head["id"])
        })
        .unwrap_or_else(|| panic!("the pair waits for review: {queue}"))
        .clone();
    let weights = &pair["weights"];
    let fields: Vec<&str> = weights["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"birth_date")
            && fields.contains(&"phone")
            && fields.contains(&"last_name"),
        "{weights}"
    );
    assert!(
        !fields.contains(&"national_id"),
        "a field one record lacks is not in the breakdown: {weights}"
    );
    let sum: f64 = weights["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["weight"].as_f64().unwrap())
        .sum();
    let mw = weights["match_weight"].as_f64().unwrap();
    assert!(
        (mw - (weights["prior"].as_f64().unwrap() + sum)).abs() < 0.05,
        "{weights}"
    );
    assert!(mw >= 0.0, "probability at least one half: {weights}");
}
