//! The supervisor's dashboard, as a browser uses it: the map of their region's provinces and its
//! figures, going down from the regions to a region's provinces, choosing the coverage gap, the
//! CSV of each table, and nothing of a region outside the reader's territory.

use axum::http::{StatusCode, header};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;
use serde_json::json;

use super::{App, household, set_up_targeting, sound};

/// Supervisors of Béni Mellal-Khénifra (05) and of Tanger-Tétouan-Al Hoceima (01), a household
/// registered in each region (both scored and checked against the shipped programmes), and the
/// first one enrolled in the family allowance.
async fn dashboard_app() -> (App, Vec<String>) {
    let app = App::new(testkit::sqlite().await).await;
    for (name, territory) in [("sup-beni-mellal", "05"), ("sup-north", "01")] {
        let mut account = Account::new(
            name,
            Role::Supervisor,
            hash_password(&format!("pass {name}")).unwrap(),
        );
        account.territories = vec![territory.to_string()];
        app.db.store.upsert_account(&account).await.unwrap();
    }
    set_up_targeting(&app).await;
    let mut ids = Vec::new();
    for (agent, h) in [
        ("agent", household()),
        ("agent", second()),
        ("agent-north", north()),
    ] {
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/households",
                agent,
                Some(json!({"household": h, "reason": "registration at the centre"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    (app, ids)
}

/// A second household of Foum Oudi, with its own head.
fn second() -> serde_json::Value {
    let mut h = household();
    h["members"][0]["national_id"] = json!("I456790");
    h["members"][0]["first_name"] = json!("Brahim");
    h
}

/// The same household, in Assilah (Tanger-Assilah, region 01).
fn north() -> serde_json::Value {
    let mut h = household();
    h["commune_code"] = json!("01.511.01.01");
    h["area"] = json!("urban");
    h["members"][0]["national_id"] = json!("K111222");
    h
}

fn csv_lines(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[tokio::test]
async fn a_supervisor_sees_the_map_and_figures_of_their_regions_provinces_only() {
    let (app, _) = dashboard_app().await;
    for lang in ["ar", "fr", "en"] {
        let s = app.session("sup-beni-mellal", lang).await;
        let page = app.page(&s, "/").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        sound(&page, lang);
        // The map of the region's five provinces, each with its title, and a legend.
        assert_eq!(page.body.matches("<path d=").count(), 5, "{}", page.body);
        assert!(page.body.contains("<title>"), "titles on the shapes");
        assert!(page.body.contains("class=\"legend\""));
        let beni_mellal = if lang == "ar" {
            "بني ملال"
        } else {
            "Béni Mellal"
        };
        assert!(page.has(beni_mellal), "{}", page.body);
        // Nothing of the other region.
        for other in ["Tanger", "طنجة", "/?region=01"] {
            assert!(!page.has(other), "{other} shows to a supervisor of 05");
        }
        // Charts over time, drawn on the server.
        assert!(page.body.contains("class=\"chart\""));
    }
    let s = app.session("sup-beni-mellal", "fr").await;
    // The other region is answered as missing, page and CSV alike.
    assert_eq!(
        app.page(&s, "/?region=01").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.page(&s, "/dashboard.csv?region=01").await.status,
        StatusCode::NOT_FOUND
    );
    let csv = app.page(&s, "/dashboard.csv?table=territories").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let rows = csv_lines(&csv.body);
    assert_eq!(rows.len(), 5, "the five provinces: {}", csv.body);
    assert!(rows.iter().all(|r| r[0].starts_with("05.")), "{}", csv.body);
    let bm = rows.iter().find(|r| r[0] == "05.091").unwrap();
    assert_eq!(
        bm[2], "2",
        "two households registered in Béni Mellal: {bm:?}"
    );
    assert_eq!(bm[3], "2", "both scored: {bm:?}");
    // The supervisor of the north sees their household, not these.
    let north = app.session("sup-north", "en").await;
    let csv = app.page(&north, "/dashboard.csv").await;
    let rows = csv_lines(&csv.body);
    assert!(rows.iter().all(|r| r[0].starts_with("01.")), "{}", csv.body);
    let total: u64 = rows.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 1);
    let months = app.page(&north, "/dashboard.csv?table=months").await;
    let rows = csv_lines(&months.body);
    assert_eq!(rows.len(), 1, "{}", months.body);
    assert_eq!(rows[0][1], "1", "one registration this month in the north");
}

#[tokio::test]
async fn a_manager_clicks_a_region_down_to_its_provinces_and_maps_the_coverage_gap() {
    let (app, ids) = dashboard_app().await;
    // One of the two households of Béni Mellal is enrolled in the family allowance.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/programmes/asd-family/enrolments/{}", ids[0]),
            "manager",
            Some(json!({"to": "enrolled", "reason": "enrolled at the committee"})),
        )
        .await;
    assert!(s.is_success(), "{v}");

    for lang in ["ar", "fr", "en"] {
        let s = app.session("manager", lang).await;
        let page = app.page(&s, "/").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        sound(&page, lang);
        // The twelve regions, each a link down to its provinces.
        assert_eq!(page.body.matches("<path d=").count(), 12);
        assert!(
            page.body
                .contains("<a href=\"/?region=05&amp;measure=households&amp;programme="),
            "{}",
            page.body
        );
        // The click: the provinces of Béni Mellal-Khénifra, the coverage gap of the allowance.
        let page = app
            .page(&s, "/?region=05&measure=gap&programme=asd-family")
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        sound(&page, lang);
        assert_eq!(page.body.matches("<path d=").count(), 5);
        assert!(page.body.contains("<option value=\"gap\" selected>"));
        assert!(
            page.body
                .contains("href=\"/?measure=gap&#38;programme=asd-family\""),
            "the way back up"
        );
    }
    let s = app.session("manager", "fr").await;
    let csv = app
        .page(
            &s,
            "/dashboard.csv?region=05&measure=gap&programme=asd-family&table=territories",
        )
        .await;
    let rows = csv_lines(&csv.body);
    let bm = rows.iter().find(|r| r[0] == "05.091").unwrap();
    // Columns: code, name, households, scored, eligible, enrolled, gap, paid, share under.
    let (eligible, enrolled_n, gap): (u64, u64, u64) = (
        bm[4].parse().unwrap(),
        bm[5].parse().unwrap(),
        bm[6].parse().unwrap(),
    );
    assert_eq!(eligible, enrolled_n + gap, "{bm:?}");
    assert_eq!(eligible, 2, "both households are eligible: {bm:?}");
    assert_eq!((enrolled_n, gap), (1, 1), "{bm:?}");
    let share: f64 = bm[8].parse().unwrap();
    assert!((0.0..=1.0).contains(&share), "{bm:?}");
    let programmes = app
        .page(&s, "/dashboard.csv?region=05&table=programmes")
        .await;
    let rows = csv_lines(&programmes.body);
    assert!(
        rows.len() >= 2,
        "every programme in force: {}",
        programmes.body
    );
    // Nobody without statistics reads the dashboard's CSV (a citizen's home is their household).
    let agent = app.session("agent", "fr").await;
    let csv = app.page(&agent, "/dashboard.csv?region=01").await;
    assert_eq!(
        csv.status,
        StatusCode::NOT_FOUND,
        "an agent of 05 does not see 01"
    );
}
