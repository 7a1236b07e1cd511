//! Targeting through the API, with the shipped index model and programmes, on SQLite and
//! PostgreSQL: an agent registers a household of five in Arabic and French, it is scored in the
//! same request, found eligible for the family allowance and enrolled by a manager; its situation
//! improves, it leaves the programme, and the reason reads in Arabic, French and English. Roles
//! and territories hold: an agent elsewhere does not see it, a citizen sees only their own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{App, DEMO_MODEL, household, programme, set_up_targeting};
use sanad_app::Targeting;
use sanad_storage::testkit::TestDb;
use serde_json::{Value, json};

async fn a_poor_household_is_scored_found_eligible_enrolled_and_leaves_when_its_situation_improves(
    db: TestDb,
) {
    let app = App::new(db).await;
    // Only managers define programmes and models.
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/models",
            "agent",
            Some(json!({"definition": DEMO_MODEL})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    set_up_targeting(&app).await;

    // The agent registers the household: the answer carries its index and every decision.
    let (s, registered) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(json!({"household": household(), "reason": "first registration"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{registered}");
    let id = registered["id"].as_str().unwrap().to_string();
    let index = registered["assessment"]["index"].as_f64().unwrap();
    let asd = registered["assessment"]["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "asd-family")
        .unwrap();
    assert_eq!(asd["eligible"], true, "index {index}: {registered}");

    // The explanation in French: the index, what moved it, and the family allowance with its lines.
    let (s, fr) = app
        .call(
            "GET",
            &format!("/api/v1/households/{id}/targeting?lang=fr"),
            "agent",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{fr}");
    let score = &fr["score"];
    assert!((score["index"].as_f64().unwrap() - index).abs() < 1e-9);
    assert_eq!(
        score["recorded_index"].as_f64().unwrap(),
        index,
        "scored in the registration's transaction"
    );
    let sum: f64 = score["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["effect"].as_f64().unwrap())
        .sum();
    assert!((score["baseline"].as_f64().unwrap() + sum - index).abs() < 1e-6);
    assert!(
        score["contributions"][0]["sentence"]
            .as_str()
            .unwrap()
            .contains("indice"),
        "{score}"
    );
    let asd = programme(&fr, "asd-family");
    assert_eq!(asd["eligible"], true);
    assert_eq!(asd["message"], "Vous pouvez en bénéficier.");
    // Three children under six or at school, at the 2026 rate of 300 MAD each: above the floor.
    assert_eq!(asd["amount"], "900.00", "{asd}");
    let lines: Vec<&str> = asd["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(lines.iter().filter(|a| **a == "300.00").count(), 3, "{asd}");
    assert_eq!(asd["enrolments"][0]["state"], "eligible");
    // AMO-Tadamon covers every member.
    assert_eq!(
        programme(&fr, "amo-tadamon")["beneficiaries"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // An agent of another region does not see it; the auditor does.
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/households/{id}/targeting"),
            "agent-north",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/households/{id}/targeting"),
            "auditor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // A manager enrols it; an agent may not.
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/asd-family/enrolments/{id}"),
            "agent",
            Some(json!({"to": "enrolled", "reason": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/asd-family/enrolments/{id}"),
            "manager",
            Some(json!({"to": "enrolled", "reason": "committee of 3 March"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["state"], "enrolled");
    // Suspending what is not enrolled is not a move a manager can make.
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/school-support/enrolments/{id}"),
            "manager",
            Some(json!({"to": "suspended", "reason": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Years later the parents work, the children study; the family has built a modern house of
    // five rooms, bought a car and a computer, and pays the bills of a well-off household.
    let (_, current) = app
        .call("GET", &format!("/api/v1/households/{id}"), "agent", None)
        .await;
    let mut better = household();
    better["dwelling_type"] = json!("modern_house");
    better["rooms"] = json!(5);
    better["water_spending"] = json!("250");
    better["electricity_spending"] = json!("700");
    better["phone_spending"] = json!("600");
    better["declared_income"] = json!("15000");
    better["assets"] = json!([
        "fridge",
        "tv",
        "washing_machine",
        "computer",
        "internet",
        "car"
    ]);
    let members = current["members"].as_array().unwrap();
    let mut new_members = Vec::new();
    for (m, p) in better["members"].as_array().unwrap().iter().zip(members) {
        let mut m = m.clone();
        m["person_id"] = p["id"].clone();
        if m["relation"] != "child" {
            m["schooling"] = json!("higher");
            m["occupation"] = json!("employed");
        }
        new_members.push(m);
    }
    better["members"] = json!(new_members);
    let (s, v) = app
        .call("PUT", &format!("/api/v1/households/{id}"), "agent", Some(json!({"expected_version": 1, "household": better, "reason": "new situation declared"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, history) = app
        .call(
            "GET",
            &format!("/api/v1/households/{id}/enrolments"),
            "auditor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{history}");
    let asd = history["enrolments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["programme_code"] == "asd-family")
        .unwrap();
    assert_eq!(asd["state"], "exited", "{history}");
    assert_eq!(asd["reason"], "index-above-threshold");
    let steps: Vec<(Value, Value)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["programme_code"] == "asd-family")
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("eligible")),
            (json!("eligible"), json!("enrolled")),
            (json!("enrolled"), json!("exited")),
        ]
    );
    for (lang, words) in [
        ("fr", "au-dessus du seuil"),
        ("ar", "أعلى من عتبة"),
        ("en", "above the programme's threshold"),
    ] {
        let (s, view) = app
            .call(
                "GET",
                &format!("/api/v1/households/{id}/targeting?lang={lang}"),
                "auditor",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let asd = programme(&view, "asd-family");
        assert_eq!(asd["eligible"], false);
        assert!(
            asd["message"].as_str().unwrap().contains(words),
            "{lang}: {}",
            asd["message"]
        );
    }
    // A manager tries a rule over the registry before writing it into a programme.
    let rule = json!({"rule": "household.size >= 5 && household.area == 'rural'"});
    let (s, c) = app
        .call("POST", "/api/v1/programmes/count", "manager", Some(rule))
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (c["households"].as_u64(), c["admitted"].as_u64()),
        (Some(1), Some(1)),
        "{c}"
    );
    let bad = json!({"rule": "household.size >= 'five'"});
    let (s, c) = app
        .call("POST", "/api/v1/programmes/count", "manager", Some(bad))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{c}");
    assert!(
        c["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("column"),
        "{c}"
    );
    let any = json!({"rule": "household.size >= 5"});
    let (s, _) = app
        .call("POST", "/api/v1/programmes/count", "agent", Some(any))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, counts) = app
        .call(
            "GET",
            "/api/v1/stats/enrolments?programme=asd-family",
            "auditor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(counts[0]["state"], "exited");
    app.db.cleanup().await;
}

async fn a_programme_whose_rule_does_not_compile_is_refused_with_its_position(db: TestDb) {
    let app = App::new(db).await;
    let (_, text) = sanad_programmes::shipped()[0];
    let broken = text.replacen(
        "household.index <= programme.threshold",
        "household.index <= 'low'",
        1,
    );
    assert_ne!(broken, text, "the shipped file names the index condition");
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/programmes",
            "manager",
            Some(json!({"definition": broken, "reason": "typo"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let error = &v["errors"][0];
    assert!(
        error["field"].as_str().unwrap().starts_with("conditions."),
        "{v}"
    );
    assert!(error["message"].as_str().unwrap().contains("column"), "{v}");
    // A hostile rule: nesting far beyond the bound.
    let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
    let hostile = text.replacen("household.index <= programme.threshold", &deep, 1);
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/programmes",
            "manager",
            Some(json!({"definition": hostile})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Nothing was defined.
    let (_, list) = app.call("GET", "/api/v1/programmes", "auditor", None).await;
    assert_eq!(list, json!([]));
    app.db.cleanup().await;
}

/// Two processes on one database: a server, and the command line of a manager who puts the
/// model and the programmes in force. The server assesses with them once it has refreshed; a
/// household it registered with its older engine while the manager's rescoring ran is assessed
/// again by that rescoring.
async fn a_model_put_in_force_by_another_process_reaches_the_server(db: TestDb) {
    let app = App::new(db).await;
    // Three households of five, each head with a national id of their own.
    let register = |reason: &'static str, national_id: &'static str| {
        let app = &app;
        let mut h = household();
        h["members"][0]["national_id"] = json!(national_id);
        async move {
            let (s, v) = app
                .call(
                    "POST",
                    "/api/v1/households",
                    "agent",
                    Some(json!({"household": h, "reason": reason})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            v
        }
    };
    let unassessed = |v: &Value| v["assessment"]["index"].is_null();
    let before = register("before the model", "I100001").await;
    assert!(unassessed(&before), "{before}");

    let other = app.db.second_process().await;
    let cli = Targeting::new(
        sanad_app::Registry::new(other.store.clone()),
        other.targeting.clone(),
        other.programmes.clone(),
    )
    .with_settle(std::time::Duration::from_millis(600));
    cli.load().await.unwrap();
    let manager = sanad_app::auth::Actor::system("manager-cli");
    let (model, _) = cli
        .import_model(&manager, DEMO_MODEL, "survey")
        .await
        .unwrap();
    for (_, text) in sanad_programmes::shipped() {
        cli.define_programme(&manager, text, "shipped")
            .await
            .unwrap();
    }
    cli.activate_model(&manager, &model.id, model.version, "in force")
        .await
        .unwrap();
    // The rescoring runs while the server, not yet refreshed, registers another household.
    let rescoring = {
        let cli = cli.clone();
        let manager = manager.clone();
        tokio::spawn(async move {
            cli.rescore_all(&manager, false, &sanad_app::store::NoProgress)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let during = register("while the model is put in force", "I100002").await;
    assert!(
        unassessed(&during),
        "the server has not refreshed yet: {during}"
    );
    rescoring.await.unwrap();

    // The server's refresh loads the engine in force; a second refresh finds nothing new.
    assert!(app.targeting.refresh().await.unwrap());
    assert!(!app.targeting.refresh().await.unwrap());

    // Both households the server wrote with its older engine were scored and checked by the
    // manager's rescoring (refreshing assesses nothing).
    for v in [&before, &during] {
        let id = v["id"].as_str().unwrap();
        let (s, view) = app
            .call(
                "GET",
                &format!("/api/v1/households/{id}/targeting?lang=fr"),
                "agent",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{view}");
        assert!(
            view["score"]["recorded_index"].as_f64().is_some(),
            "{id}: {view}"
        );
        let asd = programme(&view, "asd-family");
        assert_eq!(asd["enrolments"][0]["state"], "eligible", "{id}: {asd}");
    }
    let after = register("after the refresh", "I100003").await;
    assert!(after["assessment"]["index"].as_f64().is_some(), "{after}");
    assert_eq!(
        programme(&after["assessment"], "asd-family")["eligible"],
        true
    );
    app.db.cleanup().await;
}

sanad_storage::on_both_backends!(owned:
    a_poor_household_is_scored_found_eligible_enrolled_and_leaves_when_its_situation_improves,
    a_programme_whose_rule_does_not_compile_is_refused_with_its_position,
    a_model_put_in_force_by_another_process_reaches_the_server,
);
