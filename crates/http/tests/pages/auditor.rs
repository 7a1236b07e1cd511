//! The auditor's pages, as a browser uses them.

use axum::http::{StatusCode, header};
use sanad_storage::testkit;

use super::{App, household, sound};

async fn registered(app: &App) -> String {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(serde_json::json!({"household": household(), "reason": "walk-in at the centre"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_auditor_filters_the_trail_by_household_and_sees_who_changed_it_and_why() {
    let app = App::new(testkit::sqlite().await).await;
    let id = registered(&app).await;
    let _other = registered_other(&app).await;
    for lang in ["ar", "fr", "en"] {
        let s = app.session("auditor", lang).await;
        let page = app.page(&s, &format!("/audit?subject={id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        sound(&page, lang);
        assert!(
            page.has(&format!("<code>{id}</code>")),
            "the household's events"
        );
        assert!(page.has("agent"), "who registered it");
        let csv = app.page(&s, &format!("/audit.csv?subject={id}")).await;
        assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(!csv.body.contains('\u{2068}'), "no isolation marks in CSV");
        let lines: Vec<&str> = csv.body.lines().collect();
        assert!(lines.len() >= 2, "{}", csv.body);
        assert!(
            lines[1..].iter().all(|l| l.contains(&id)),
            "only that household: {}",
            csv.body
        );
    }
    // Nobody else reads the trail.
    let agent = app.session("agent", "fr").await;
    assert_eq!(
        app.page(&agent, "/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&agent, "/audit/access").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&agent, "/audit/chain").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&agent, "/audit.csv").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn registered_other(app: &App) -> String {
    let mut h = household();
    h["members"][0]["national_id"] = serde_json::json!("J111222");
    h["members"][0]["first_name"] = serde_json::json!("Brahim");
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(serde_json::json!({"household": h, "reason": "moved from Azilal"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_auditor_sees_the_access_log_entry_of_an_agents_read() {
    let app = App::new(testkit::sqlite().await).await;
    let id = registered(&app).await;
    let (s, _) = app
        .call("GET", &format!("/api/v1/households/{id}"), "agent", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let auditor = app.session("auditor", "fr").await;
    // The access log is written in batches: give it a moment.
    let mut page = app.page(&auditor, "/audit/access?actor=agent").await;
    for _ in 0..50 {
        if page.has(&id) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = app.page(&auditor, "/audit/access?actor=agent").await;
    }
    assert_eq!(page.status, StatusCode::OK);
    sound(&page, "fr");
    assert!(
        page.has(&id),
        "the agent's read of {id} is logged: {}",
        page.body
    );
    let none = app.page(&auditor, "/audit/access?actor=manager").await;
    assert!(!none.has(&id), "the filter on the actor holds");
}

#[tokio::test]
async fn the_verification_page_says_the_log_is_intact_then_names_the_forged_event() {
    let app = App::new(testkit::sqlite().await).await;
    registered(&app).await;
    registered_other(&app).await;
    let s = app.session("auditor", "en").await;
    let page = app.page(&s, "/audit/chain").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "en");
    assert!(page.has("The log is intact"), "{}", page.body);

    // Someone edits who registered the second household, directly in the database.
    let pool = app.db.sqlite.as_ref().unwrap().pool().clone();
    let seq: i64 =
        sqlx::query_scalar("SELECT MAX(seq) FROM audit_events WHERE action LIKE 'household.%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE audit_events SET actor = 'ghost' WHERE seq = {seq}"
    )))
    .execute(&pool)
    .await
    .unwrap();
    for lang in ["ar", "fr", "en"] {
        let s = app.session("auditor", lang).await;
        let page = app.page(&s, "/audit/chain").await;
        assert_eq!(page.status, StatusCode::OK);
        sound(&page, lang);
        assert!(page.body.contains("notice bad"), "{}", page.body);
        assert!(
            page.has(&format!("event {seq}")),
            "the forged event is named: {}",
            page.body
        );
    }
}
