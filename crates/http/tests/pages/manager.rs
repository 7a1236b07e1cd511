//! The manager pages, as a browser uses them: a condition tried on the registry (a syntax error
//! named, then households counted by region) and saved as a new version of the programme; a cycle
//! previewed, prepared by one manager, refused to the same manager and approved by another; its
//! batch made and exported; a bad answer file named by its line with nothing changed. Every page
//! holds together in the three languages; an agent sees none of them.

use axum::http::{StatusCode, header};
use sanad_storage::testkit;
use serde_json::json;

use super::{App, household, set_up_targeting, sound};

const RIB: &str = "011519000001205000534921";

/// The shipped model and programmes in force, and the household of five registered, enrolled in
/// the family allowance and paid by bank transfer.
async fn ready(app: &App) -> String {
    set_up_targeting(app).await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(json!({"household": household(), "reason": "first registration"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/asd-family/enrolments/{id}"),
            "manager",
            Some(json!({"to": "enrolled", "reason": "committee"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = app
        .call(
            "PUT",
            &format!("/api/v1/households/{id}/payment-means"),
            "manager",
            Some(json!({"means": {"kind": "bank", "rib": RIB, "holder": "Lahcen Ait Ouham"}, "reason": "bank letter"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    id
}

#[tokio::test]
async fn a_manager_tries_a_condition_sees_the_error_then_the_counts_by_region_and_saves_it() {
    let app = App::new(testkit::sqlite().await).await;
    ready(&app).await;
    let s = app.session("manager", "en").await;

    // On the list, any condition: a syntax error is named beside the field.
    let page = app
        .page(&s, "/manage/programmes?rule=household.index%20%3C%3D")
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    sound(&page, "en");
    assert!(page.has("id=\"rule-error\""), "{}", page.body);
    assert!(
        page.has("The condition cannot be read at line 1"),
        "{}",
        page.body
    );
    let page = app
        .page(
            &s,
            "/manage/programmes?rule=members.exists(m%2C%20m.age%20%3C%206)",
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "en");
    assert!(page.has("1 household would be eligible"), "{}", page.body);
    assert!(page.has("Béni Mellal"), "counted by region: {}", page.body);

    // A programme's conditions: a broken one is named, nothing is counted.
    let page = app.page(&s, "/manage/programmes/asd-family").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "en");
    assert!(page.has("cond-1"), "{}", page.body);
    let threshold = "household.index <= programme.threshold";
    let broken = app
        .submit(
            &s,
            "/manage/programmes/asd-family/try",
            &[
                ("cond-0", threshold),
                ("cond-1", "members.exists(m, m.age <"),
            ],
        )
        .await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.body
    );
    sound(&broken, "en");
    assert!(broken.has("id=\"cond-1-error\""), "{}", broken.body);
    assert!(!broken.has("would be eligible"), "nothing counted");

    // A valid one: the households it admits by region and in all, nothing saved.
    let simpler = "members.exists(m, m.age <= programme.child_age_max)";
    let tried = app
        .submit(
            &s,
            "/manage/programmes/asd-family/try",
            &[("cond-0", threshold), ("cond-1", simpler)],
        )
        .await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.body);
    sound(&tried, "en");
    assert!(tried.has("would be eligible"), "{}", tried.body);
    assert!(tried.has("Béni Mellal"), "{}", tried.body);
    assert!(tried.has("Nothing was saved."));
    let (_, p) = app
        .call("GET", "/api/v1/programmes/asd-family", "manager", None)
        .await;
    assert_eq!(p["version"], 1, "trying saves nothing");

    // Saved: a new version in force, with the new condition.
    let saved = app
        .submit(
            &s,
            "/manage/programmes/asd-family/save",
            &[
                ("cond-0", threshold),
                ("cond-1", simpler),
                ("reason", "children only, as the decree says"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        saved.location(),
        "/manage/programmes/asd-family?done=done-programme-saved"
    );
    let (_, p) = app
        .call("GET", "/api/v1/programmes/asd-family", "manager", None)
        .await;
    assert_eq!(p["version"], 2, "{p}");
    assert_eq!(p["conditions"][1]["expression"], simpler);
    let page = app.page(&s, saved.location()).await;
    assert!(
        page.has("The new version of the programme is saved"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn one_manager_prepares_a_cycle_another_approves_it_and_a_bad_answer_changes_nothing() {
    let app = App::new(testkit::sqlite().await).await;
    ready(&app).await;
    let first = app.session("manager", "fr").await;

    // The preview says what the cycle would pay, and by how much it goes over a low cap.
    let page = app
        .page(&first, "/manage/cycles?programme=asd-family&period=2026-04")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "fr");
    assert!(page.has("ce que le cycle paierait"), "{}", page.body);
    assert!(page.has("name=\"reason\""), "the prepare form follows");
    let over = app
        .page(
            &first,
            "/manage/cycles?programme=asd-family&period=2026-04&cap=500",
        )
        .await;
    assert_eq!(over.status, StatusCode::OK);
    assert!(over.has("Le cycle dépasse son plafond de"), "{}", over.body);
    assert!(over.has("400"), "by 400 MAD: {}", over.body);
    let (_, cycles) = app.call("GET", "/api/v1/cycles", "auditor", None).await;
    assert_eq!(cycles, json!([]), "a preview writes nothing");

    // Prepared by the first manager.
    let prepared = app
        .submit(
            &first,
            "/manage/cycles",
            &[
                ("programme", "asd-family"),
                ("period", "2026-04"),
                ("cap", ""),
                ("reason", "April"),
            ],
        )
        .await;
    assert_eq!(prepared.status, StatusCode::SEE_OTHER, "{}", prepared.body);
    let location = prepared.location().to_string();
    assert!(
        location.ends_with("?done=done-cycle-prepared"),
        "{location}"
    );
    let path = location.split('?').next().unwrap().to_string();
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let page = app.page(&first, &location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "fr");
    assert!(page.has("en attente d&#39;approbation"), "{}", page.body);

    // The same manager cannot approve it: said plainly, nothing changes.
    let refused = app
        .submit(&first, &format!("{path}/approve"), &[("reason", "checked")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    sound(&refused, "fr");
    assert!(
        refused.has("Vous avez préparé ce cycle : vous ne pouvez pas l&#39;approuver"),
        "{}",
        refused.body
    );
    let (_, c) = app
        .call("GET", &format!("/api/v1/cycles/{id}"), "auditor", None)
        .await;
    assert_eq!(c["cycle"]["state"], "computed");

    // A second manager approves it and makes its batches.
    let second = app.session("manager2", "en").await;
    let approved = app
        .submit(
            &second,
            &format!("{path}/approve"),
            &[("reason", "checked")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert_eq!(
        approved.location(),
        format!("{path}?done=done-cycle-approved")
    );
    let opened = app
        .submit(&second, &format!("{path}/batches"), &[("reason", "April")])
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let (_, c) = app
        .call("GET", &format!("/api/v1/cycles/{id}"), "auditor", None)
        .await;
    assert_eq!(c["cycle"]["state"], "approved");
    let batch = c["batches"][0]["id"].as_i64().unwrap();

    // The batch's file is exported as a download.
    let file = app
        .submit(
            &second,
            &format!("/manage/batches/{batch}/export"),
            &[("format", "csv")],
        )
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert!(file.body.contains("SANAD-"), "{}", file.body);
    let page = app.page(&second, &path).await;
    sound(&page, "en");
    assert!(page.has("file made"), "{}", page.body);

    // A bad answer file: the line is named, nothing is written.
    let (_, sent) = app
        .call(
            "GET",
            &format!("/api/v1/payments?cycle_id={id}&state=sent"),
            "manager",
            None,
        )
        .await;
    let e2e = sent["items"][0]["end_to_end_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = format!(
        "end_to_end_id,amount,status,reason_code,reason,booked_on\n{e2e},900.00,paid,,,2026-04-05\nSANAD-999999,100.00,paid,,,2026-04-05\n"
    );
    let page = app
        .upload(
            &second,
            &format!("{path}/reconcile"),
            &[],
            ("file", "answer.csv", bad.as_bytes()),
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    sound(&page, "en");
    assert!(page.has("Line 3 of the file is wrong"), "{}", page.body);
    assert!(page.has("Nothing was changed."));
    let (_, still) = app
        .call(
            "GET",
            &format!("/api/v1/payments?cycle_id={id}&state=sent"),
            "manager",
            None,
        )
        .await;
    assert_eq!(still["items"], sent["items"], "nothing changed");

    // The good file: the outcome counted.
    let good = format!(
        "end_to_end_id,amount,status,reason_code,reason,booked_on\n{e2e},900.00,paid,,,2026-04-05\n"
    );
    let page = app
        .upload(
            &second,
            &format!("{path}/reconcile"),
            &[],
            ("file", "answer-ok.csv", good.as_bytes()),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "en");
    assert!(page.has("was read: 1 line"), "{}", page.body);
}

#[tokio::test]
async fn every_manager_page_holds_together_in_three_languages_and_an_agent_sees_none() {
    let app = App::new(testkit::sqlite().await).await;
    ready(&app).await;
    let (_, models) = app.call("GET", "/api/v1/models", "manager", None).await;
    let model = format!(
        "/manage/models/{}/{}",
        models[0]["id"].as_str().unwrap(),
        models[0]["version"]
    );
    let (s, out) = app
        .call(
            "POST",
            "/api/v1/cycles",
            "manager",
            Some(json!({"programme": "asd-family", "period": "2026-04", "reason": "April"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    let cycle = format!("/manage/cycles/{}", out["cycle"]["id"]);
    let pages = [
        "/manage/programmes".to_string(),
        "/manage/programmes?rule=household.index%20%3C%3D%209.3".to_string(),
        "/manage/programmes/asd-family".to_string(),
        "/manage/models".to_string(),
        model.clone(),
        format!("{model}/activate"),
        "/manage/cycles".to_string(),
        "/manage/cycles?programme=asd-family&period=2026-05".to_string(),
        cycle.clone(),
    ];
    for lang in ["ar", "fr", "en"] {
        let s = app.session("manager", lang).await;
        for path in &pages {
            let page = app.page(&s, path).await;
            assert_eq!(page.status, StatusCode::OK, "{path} {lang}: {}", page.body);
            sound(&page, lang);
        }
    }
    // The dry run of the model in force changes nothing.
    let s = app.session("manager", "en").await;
    let page = app.page(&s, &model).await;
    assert!(page.has("What would change"), "{}", page.body);

    // An auditor reads the lists and a cycle, and changes nothing.
    let auditor = app.session("auditor", "fr").await;
    for path in [
        "/manage/programmes",
        "/manage/models",
        "/manage/cycles",
        &cycle,
    ] {
        let page = app.page(&auditor, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        sound(&page, "fr");
        assert!(
            !page.has("name=\"reason\""),
            "{path}: no form for an auditor"
        );
    }

    let agent = app.session("agent", "fr").await;
    for path in &pages {
        let page = app.page(&agent, path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        sound(&page, "fr");
    }
    let page = app
        .submit(
            &agent,
            "/manage/cycles",
            &[("programme", "asd-family"), ("period", "2026-06")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
