//! E-service requests through the API, on SQLite and PostgreSQL: a rural household of five
//! applies to the family allowance; the agent checks the documents, a manager approves, and the
//! approval enrols the household through the programme's own eligibility (a household the
//! programme does not take is refused with the programme's reason and the request does not move);
//! the citizen follows the request by reference and secret; another centre sees nothing; the
//! supervisor reads the delays per step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{App, household, set_up_targeting};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit::TestDb;
use serde_json::json;

async fn a_household_applies_to_the_family_allowance_and_is_enrolled(db: TestDb) {
    let app = App::new(db).await;
    set_up_targeting(&app).await;
    let (s, created) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(json!({"household": household(), "reason": "walk-in"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let hid = created["id"].as_str().unwrap().to_string();
    let mut citizen = Account::new(
        "citizen",
        Role::Citizen,
        hash_password("pass citizen").unwrap(),
    );
    citizen.household_id = Some(hid.parse().unwrap());
    app.db.store.upsert_account(&citizen).await.unwrap();
    let mut supervisor = Account::new(
        "supervisor",
        Role::Supervisor,
        hash_password("pass supervisor").unwrap(),
    );
    supervisor.territories = vec!["05".into()];
    app.db.store.upsert_account(&supervisor).await.unwrap();

    // Bad input is named.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            "citizen",
            Some(json!({"kind": "programme_application", "programme": "no-such", "household_id": hid})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no such programme: {v}");
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            "agent",
            Some(json!({"kind": "registration_attestation", "household_id": hid})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "assisted mode needs consent: {v}");

    let (s, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            "citizen",
            Some(json!({"kind": "programme_application", "programme": "asd-family", "household_id": hid, "details": "Nous avons trois enfants"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["request"]["id"].as_i64().unwrap();
    let reference = v["request"]["reference"].as_str().unwrap().to_string();
    let secret = v["secret"].as_str().unwrap().to_string();
    assert_eq!(v["request"]["step"], "document_check", "{v}");

    // Follow-up by reference and secret; a wrong secret is an unknown reference.
    let (s, status) = app
        .call(
            "POST",
            "/api/v1/requests/follow",
            "citizen",
            Some(json!({"reference": reference, "secret": secret, "lang": "ar"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{status}");
    assert_eq!(status["state"], "open");
    assert!(
        status.get("details").is_none(),
        "nothing personal: {status}"
    );
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/requests/follow",
            "citizen",
            Some(json!({"reference": reference, "secret": "ABCDEF"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The agent of the territory has it in the queue; the northern centre does not see it.
    let (s, queue) = app.call("GET", "/api/v1/requests", "agent", None).await;
    assert_eq!(s, StatusCode::OK, "{queue}");
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
    let (_, north) = app
        .call("GET", "/api/v1/requests", "agent-north", None)
        .await;
    assert_eq!(north["items"], json!([]));
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/requests/{id}"),
            "agent-north",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Documents complete; a stale second move is a conflict.
    let (s, moved) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{id}/actions"),
            "agent",
            Some(json!({"action": "documents_complete", "version": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    let (s, stale) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{id}/actions"),
            "agent",
            Some(json!({"action": "documents_complete", "version": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{stale}");
    let version = moved["version"].as_u64().unwrap();
    let step = moved["step"].as_str().unwrap().to_string();

    // The manager approves: enrolled through the programme, not by a second path.
    let (s, history) = app
        .call(
            "GET",
            &format!("/api/v1/requests/{id}/history"),
            "manager",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{history}");
    let approve = sanad_workflow::shipped()
        .into_iter()
        .find(|d| d.kind() == "programme_application")
        .unwrap()
        .step(&step)
        .unwrap()
        .transitions
        .iter()
        .find(|t| t.to == "approved")
        .map(|t| t.action.clone())
        .unwrap_or_else(|| panic!("no approval at {step}"));
    let (s, done) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{id}/actions"),
            "manager",
            Some(json!({"action": approve, "version": version, "reason": "conditions met"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(
        (done["state"].as_str(), done["outcome"].as_str()),
        (Some("closed"), Some("approved")),
        "{done}"
    );
    let (_, view) = app
        .call(
            "GET",
            &format!("/api/v1/households/{hid}/targeting"),
            "manager",
            None,
        )
        .await;
    let asd = common::programme(&view, "asd-family");
    assert!(
        asd["enrolments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["state"] == "enrolled"),
        "{asd}"
    );

    // An application to a programme the household is not eligible for stops at the decision.
    let (_, other) = app
        .call(
            "POST",
            "/api/v1/requests",
            "citizen",
            Some(json!({"kind": "programme_application", "programme": "disability-allowance", "household_id": hid})),
        )
        .await;
    let other_id = other["request"]["id"].as_i64().unwrap();
    let (_, checked) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{other_id}/actions"),
            "agent",
            Some(json!({"action": "documents_complete", "version": 1})),
        )
        .await;
    let (s, refused) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{other_id}/actions"),
            "manager",
            Some(json!({"action": approve, "version": checked["version"], "reason": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{refused}");
    assert!(refused.to_string().contains("conditions"), "{refused}");
    let (_, still) = app
        .call(
            "GET",
            &format!("/api/v1/requests/{other_id}"),
            "manager",
            None,
        )
        .await;
    assert_eq!(still["state"], "open");

    // The supervisor reads the delays per step of the territory.
    let (s, report) = app
        .call(
            "GET",
            "/api/v1/requests/bottlenecks?territory=05",
            "supervisor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["step"] == "document_check"),
        "{report}"
    );
    let (s, _) = app
        .call(
            "GET",
            "/api/v1/requests/bottlenecks?territory=99",
            "supervisor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .call("GET", "/api/v1/requests/bottlenecks", "citizen", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

sanad_storage::on_both_backends!(owned: a_household_applies_to_the_family_allowance_and_is_enrolled);
