//! Payments through the API, on SQLite and PostgreSQL: a rural household of five is registered,
//! found eligible and enrolled in each shipped cash programme, given a bank account (a RIB with a
//! wrong key is refused first), and paid: a cycle over its cap is refused with the excess and
//! leaves nothing; the manager who prepared a cycle cannot approve it, a second manager does; the
//! pain.001 file carries the control sum; bad answer files are named by line with nothing written;
//! a failed payment is tried again in the next batch, a reversal too, and each entitlement ends
//! paid exactly once. Agents elsewhere see nothing; the household's citizen sees its own payments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use common::{App, household, set_up_targeting};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit::TestDb;
use serde_json::{Value, json};

const RIB: &str = "011519000001205000534921";
const RIB_WRONG_KEY: &str = "011519000001205000534922";

fn answer_csv(lines: &[(&str, &str, &str, &str)]) -> String {
    let mut out = String::from("end_to_end_id,amount,status,reason_code,reason,booked_on\n");
    for (id, amount, status, code) in lines {
        let reason = if code.is_empty() {
            ""
        } else {
            "closed account"
        };
        out.push_str(&format!(
            "{id},{amount},{status},{code},{reason},2026-04-05\n"
        ));
    }
    out
}

async fn reconcile(app: &App, csv: &str, name: &str) -> (StatusCode, Value) {
    app.call(
        "POST",
        "/api/v1/reconciliations",
        "manager",
        Some(json!({"file_name": name, "content": csv})),
    )
    .await
}

/// Opens the cycle's batches and exports the bank one; its payments.
async fn pay(app: &App, cycle: i64, format: &str) -> (String, Vec<Value>) {
    let (s, batches) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{cycle}/batches"),
            "manager",
            Some(json!({"reason": "monthly payment"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{batches}");
    let batches = batches.as_array().unwrap().clone();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(batches[0]["kind"], "bank");
    let id = batches[0]["id"].as_i64().unwrap();
    let (s, file) = app
        .call(
            "POST",
            &format!("/api/v1/batches/{id}/export?format={format}"),
            "manager",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{file}");
    let (s, page) = app
        .call(
            "GET",
            &format!("/api/v1/payments?cycle_id={cycle}&state=sent"),
            "manager",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    (
        file.as_str().unwrap().to_string(),
        page["items"].as_array().unwrap().clone(),
    )
}

async fn approved_cycle(app: &App, programme: &str) -> Value {
    let (s, out) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "manager",
            Some(json!({"programme": programme, "period": "2026-04", "reason": "April"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let id = out["cycle"]["id"].as_i64().unwrap();
    let (s, c) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{id}/approve"),
            "manager2",
            Some(json!({"reason": "checked"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    c
}

async fn a_household_is_paid_in_every_cash_programme_exactly_once(db: TestDb) {
    let app = App::new(db).await;
    set_up_targeting(&app).await;
    let mut h = household();
    // The second child has a disability: the disability allowance pays for her.
    h["members"][3]["disability"] = json!("physical");
    let (s, registered) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(json!({"household": h, "reason": "first registration"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{registered}");
    let id = registered["id"].as_str().unwrap().to_string();
    let hid = sanad_domain::HouseholdId::parse(&id).unwrap();
    let hanane = registered["members"][3]["id"].as_str().unwrap().to_string();
    for (code, person) in [
        ("asd-family", None),
        ("school-support", None),
        ("disability-allowance", Some(hanane.as_str())),
    ] {
        let (s, e) = app
            .call(
                "POST",
                &format!("/api/v1/programmes/{code}/enrolments/{id}"),
                "manager",
                Some(json!({"to": "enrolled", "person_id": person, "reason": "committee"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{code}: {e}");
    }

    // How the household is paid: only managers record it; a RIB with a wrong key is refused.
    let means = |rib: &str| json!({"means": {"kind": "bank", "rib": rib, "holder": "Lahcen Ait Ouham"}, "reason": "bank letter"});
    let uri = format!("/api/v1/households/{id}/payment-means");
    let (s, _) = app.call("PUT", &uri, "agent", Some(means(RIB))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .call("PUT", &uri, "manager", Some(means(RIB_WRONG_KEY)))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("means.rib"), "{e}");
    let (s, e) = app.call("PUT", &uri, "manager", Some(means(RIB))).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (s, m) = app.call("GET", &uri, "auditor", None).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["kind"], "bank");
    assert!(m["means"].is_null(), "the account is for managers: {m}");

    // Over its cap, a cycle stops before writing anything and says by how much.
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "manager",
            Some(json!({"programme": "asd-family", "period": "2026-04", "budget_cap": 50_000})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e.to_string().contains("400.00 MAD over"), "{e}");
    let (_, cycles) = app.call("GET", "/api/v1/cycles", "auditor", None).await;
    assert_eq!(cycles, json!([]));
    // An agent does not prepare cycles.
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "agent",
            Some(json!({"programme": "asd-family", "period": "2026-04"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The family allowance: prepared by one manager, refused to the same, approved by another.
    let (s, out) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "manager",
            Some(json!({"programme": "asd-family", "period": "2026-04", "reason": "April"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let cycle = out["cycle"]["id"].as_i64().unwrap();
    assert_eq!(out["cycle"]["entitlements"], 1);
    assert_eq!(out["cycle"]["total"], 90_000, "three children at 300 MAD");
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{cycle}/batches"),
            "manager",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "no file before approval");
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{cycle}/approve"),
            "manager",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e.to_string().contains("second manager"), "{e}");
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{cycle}/approve"),
            "manager2",
            Some(json!({"reason": "checked"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The entitlement is frozen with the household version and index it was computed from.
    let (s, ent) = app
        .call(
            "GET",
            &format!("/api/v1/cycles/{cycle}/entitlements"),
            "auditor",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ent}");
    assert_eq!(ent["items"][0]["household_version"], 1);
    assert_eq!(
        ent["items"][0]["index"].as_f64().unwrap(),
        registered["assessment"]["index"].as_f64().unwrap()
    );

    let (file, sent) = pay(&app, cycle, "pain001").await;
    assert!(file.contains("<NbOfTxs>1</NbOfTxs>"), "{file}");
    assert!(file.contains("<CtrlSum>900.00</CtrlSum>"), "{file}");
    assert!(file.contains(RIB), "{file}");
    assert_eq!(sent.len(), 1);
    let e2e = sent[0]["end_to_end_id"].as_str().unwrap().to_string();

    // Bad answers: named by line, nothing written.
    for (csv, line, field) in [
        (
            answer_csv(&[("SANAD-999999", "900.00", "paid", "")]),
            2,
            "end_to_end_id",
        ),
        (answer_csv(&[(&e2e, "899.99", "paid", "")]), 2, "amount"),
        (
            answer_csv(&[
                (&e2e, "900.00", "failed", "AC04"),
                (&e2e, "900.00", "failed", "AC04"),
            ]),
            3,
            "",
        ),
    ] {
        let (s, e) = reconcile(&app, &csv, "bad.csv").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e.to_string().contains(&format!("line {line}")), "{e}");
        assert!(e.to_string().contains(field), "{e}");
    }
    let mut latin1 = answer_csv(&[(&e2e, "900.00", "failed", "AC04")]).into_bytes();
    let n = latin1.len();
    latin1[n - 20] = 0xe9;
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/reconciliations",
            "manager",
            Some(json!({"content_base64": base64::engine::general_purpose::STANDARD.encode(&latin1)})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("line 2"), "{e}");
    let (_, still) = app
        .call(
            "GET",
            &format!("/api/v1/payments?cycle_id={cycle}"),
            "manager",
            None,
        )
        .await;
    assert_eq!(still["items"][0]["state"], "sent", "{still}");

    // The bank closed the account: failed, then paid in the next batch.
    let failed = answer_csv(&[(&e2e, "900.00", "failed", "AC04")]);
    let (s, r) = reconcile(&app, &failed, "answer-1.csv").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["reconciliation"]["failed"], 1);
    // The same file again does nothing.
    let (s, r) = reconcile(&app, &failed, "answer-1.csv").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["already_imported"], true);
    let (_, retry) = pay(&app, cycle, "csv").await;
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0]["attempt"], 2);
    let e2e2 = retry[0]["end_to_end_id"].as_str().unwrap().to_string();
    let (s, r) = reconcile(
        &app,
        &answer_csv(&[(&e2e2, "900.00", "paid", "")]),
        "answer-2.csv",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    // Returned by the bank: reversed, and paid again by a third attempt.
    let (s, r) = reconcile(
        &app,
        &answer_csv(&[(&e2e2, "900.00", "reversed", "AC04")]),
        "answer-3.csv",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["reconciliation"]["reversed"], 1);
    let (_, third) = pay(&app, cycle, "pain001").await;
    assert_eq!(third[0]["attempt"], 3);
    let e2e3 = third[0]["end_to_end_id"].as_str().unwrap().to_string();
    let (s, _) = reconcile(
        &app,
        &answer_csv(&[(&e2e3, "900.00", "paid", "")]),
        "answer-4.csv",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Nothing left to pay: no new batch.
    let (s, none) = app
        .call(
            "POST",
            &format!("/api/v1/cycles/{cycle}/batches"),
            "manager",
            Some(json!({})),
        )
        .await;
    assert_eq!((s, none), (StatusCode::OK, json!([])));
    let (_, all) = app
        .call(
            "GET",
            &format!("/api/v1/payments?cycle_id={cycle}"),
            "manager",
            None,
        )
        .await;
    let states: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "reversed", "paid"], "paid exactly once");

    // The other cash programmes: school support (household) and the disability allowance (one
    // payment for the member with a disability).
    for (code, amount) in [
        ("school-support", None),
        ("disability-allowance", Some(40_000)),
    ] {
        let c = approved_cycle(&app, code).await;
        assert_eq!(c["entitlements"], 1, "{code}: {c}");
        if let Some(a) = amount {
            assert_eq!(c["total"], a, "{code}: {c}");
        }
        let cid = c["id"].as_i64().unwrap();
        let (_, sent) = pay(&app, cid, "pain001").await;
        let e = sent[0]["end_to_end_id"].as_str().unwrap();
        let amount = sanad_app::payments::mad(sent[0]["amount"].as_i64().unwrap());
        let (s, r) = reconcile(
            &app,
            &answer_csv(&[(e, &amount, "paid", "")]),
            &format!("{code}.csv"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{code}: {r}");
        assert_eq!(r["reconciliation"]["paid"], 1);
    }

    // Who sees the payments: an agent of another region does not; the household's citizen does.
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/payments?household_id={id}"),
            "agent-north",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, north) = app
        .call("GET", "/api/v1/payments", "agent-north", None)
        .await;
    assert_eq!(north["items"], json!([]));
    let mut citizen = Account::new(
        "citizen",
        Role::Citizen,
        hash_password("pass citizen").unwrap(),
    );
    citizen.household_id = Some(hid);
    app.db.store.upsert_account(&citizen).await.unwrap();
    let (s, own) = app.call("GET", "/api/v1/payments", "citizen", None).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(own["items"].as_array().unwrap().len(), 5, "{own}");
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "citizen",
            Some(json!({"programme": "asd-family", "period": "2026-05"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.db.cleanup().await;
}

async fn the_insured_members_go_to_the_insurer_once(db: TestDb) {
    let app = App::new(db).await;
    set_up_targeting(&app).await;
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
    let members: Vec<String> = registered["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    for p in &members {
        let (s, e) = app
            .call(
                "POST",
                &format!("/api/v1/programmes/amo-tadamon/enrolments/{id}"),
                "manager",
                Some(json!({"to": "enrolled", "person_id": p, "reason": "committee"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
    // AMO pays no cash: no cycle.
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "manager",
            Some(json!({"programme": "amo-tadamon", "period": "2026-04"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = app
        .call(
            "POST",
            "/api/v1/programmes/amo-tadamon/adhesion-batches",
            "manager",
            Some(json!({"reason": "monthly adhesions"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["adhesions"], 5);
    let bid = b["id"].as_i64().unwrap();
    let (s, file) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/amo-tadamon/adhesion-batches/{bid}/export"),
            "manager",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{file}");
    let file = file.as_str().unwrap().to_string();
    assert!(file.contains("Ait Ouham"), "{file}");
    let refs: Vec<String> = file
        .lines()
        .filter_map(|l| {
            l.split(',')
                .find(|f| f.starts_with("SANAD-A") && !f.starts_with("SANAD-AB"))
        })
        .map(str::to_string)
        .collect();
    assert_eq!(refs.len(), 5, "{file}");
    // Everyone is in a file: nothing more to send.
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/programmes/amo-tadamon/adhesion-batches",
            "manager",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // The insurer accepts four and rejects one.
    let mut answer = String::from("adhesion_id,status,insurer_number,reason_code,reason\n");
    for (i, r) in refs.iter().enumerate() {
        if i == 4 {
            answer.push_str(&format!(
                "{r},rejected,,R12,birth date unknown to the civil register\n"
            ));
        } else {
            answer.push_str(&format!("{r},accepted,AMO{i:06},,\n"));
        }
    }
    let mut duplicate = answer.clone();
    duplicate.push_str(&format!("{},accepted,AMO9,,\n", refs[0]));
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/adhesion-answers",
            "manager",
            Some(json!({"content": duplicate})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("line 7"), "{e}");
    let (s, a) = app
        .call(
            "POST",
            "/api/v1/adhesion-answers",
            "manager",
            Some(json!({"content": answer, "file_name": "cnss-answer.csv"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (
            a["answer"]["accepted"].as_u64(),
            a["answer"]["rejected"].as_u64()
        ),
        (Some(4), Some(1))
    );
    // The rejected one goes in the next file, alone.
    let (s, b2) = app
        .call(
            "POST",
            "/api/v1/programmes/amo-tadamon/adhesion-batches",
            "manager",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b2}");
    assert_eq!(b2["adhesions"], 1);

    // The four the insurer accepted get their AMO-Tadamon card; the fifth is refused, named.
    let mut cards = Vec::new();
    let mut refused = 0;
    for p in &members {
        let (s, c) = app
            .call(
                "POST",
                &format!("/api/v1/households/{id}/certificates"),
                "agent",
                Some(json!({"kind": "amo-tadamon-card", "person_id": p})),
            )
            .await;
        match s {
            StatusCode::CREATED => cards.push(c),
            StatusCode::CONFLICT => {
                assert!(c.to_string().contains("not_covered"), "{c}");
                refused += 1;
            }
            other => panic!("{other}: {c}"),
        }
    }
    assert_eq!((cards.len(), refused), (4, 1));
    let number = cards[0]["id"].as_str().unwrap();
    let stored = app
        .db
        .certificates
        .certificate(number)
        .await
        .unwrap()
        .unwrap();
    let content = stored.signed().unwrap().certificate;
    match content.details {
        sanad_certificates::Details::AmoTadamonCard {
            beneficiary_number,
            members_covered,
        } => {
            assert!(beneficiary_number.as_str().starts_with("AMO"));
            assert_eq!(members_covered, 4);
        }
        other => panic!("{other:?}"),
    }
    app.db.cleanup().await;
}

sanad_storage::on_both_backends!(owned:
    a_household_is_paid_in_every_cash_programme_exactly_once,
    the_insured_members_go_to_the_insurer_once,
);
