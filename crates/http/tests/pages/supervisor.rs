//! The supervisor's dashboard, as a browser uses it: the map of their region's provinces and its
//! figures, going down from the regions to a region's provinces, choosing the coverage gap, the
//! CSV of each table, and nothing of a region outside the reader's territory.

use axum::http::{StatusCode, header};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit::{self, TestDb};
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

/// A clock the story moves forward: the real time plus an offset in hours.
#[derive(Clone, Default)]
struct Clock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Clock {
    fn set_hours(&self, h: i64) {
        self.0.store(h, std::sync::atomic::Ordering::SeqCst);
    }

    fn source(&self) -> sanad_app::registry::Clock {
        let offset = self.0.clone();
        let start = time::OffsetDateTime::now_utc();
        std::sync::Arc::new(move || {
            start + time::Duration::hours(offset.load(std::sync::atomic::Ordering::SeqCst))
        })
    }
}

/// An attestation filed at the centre for a household (with its consent); returns its id.
async fn attestation(app: &App, agent: &str, household: &str) -> i64 {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            agent,
            Some(json!({"kind": "registration_attestation", "household_id": household, "consent": true, "reason": "at the counter"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["request"]["step"], "agent_check", "{v}");
    v["request"]["id"].as_i64().unwrap()
}

async fn confirm(app: &App, agent: &str, id: i64) {
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/requests/{id}/actions"),
            agent,
            Some(json!({"action": "confirm", "version": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "closed", "{v}");
}

/// The row of the requests' table that links to the report of `territory`, as text.
fn requests_row(page: &super::Page, territory: &str) -> String {
    let body = page.text();
    let start = format!("<tr><td><a href=\"/requests/bottlenecks?territory={territory}\"");
    let at = body
        .find(&start)
        .unwrap_or_else(|| panic!("no row for {territory}: {body}"));
    let rest = &body[at..];
    rest[..rest.find("</tr>").unwrap()].to_string()
}

/// Requests filed and moved in two regions: in Béni Mellal-Khénifra (05) an attestation checked
/// in 10 hours and rated 4 by its household; in Tanger-Tétouan-Al Hoceima (01) one checked in 72
/// hours (past its 48-hour deadline) and one still waiting at hour 100. A national supervisor
/// maps both regions' delays, breaches and marks; the supervisor of 05 only their own.
async fn a_supervisor_maps_the_delays_and_marks_of_their_territory_only(db: TestDb) {
    let clock = Clock::default();
    let app = App::with_clock(db, clock.source()).await;
    for (name, territories) in [("sup-national", vec![]), ("sup-beni-mellal", vec!["05"])] {
        let mut account = Account::new(
            name,
            Role::Supervisor,
            hash_password(&format!("pass {name}")).unwrap(),
        );
        account.territories = territories.into_iter().map(String::from).collect();
        app.db.store.upsert_account(&account).await.unwrap();
    }
    set_up_targeting(&app).await;
    let mut ids = Vec::new();
    for (agent, h) in [("agent", household()), ("agent-north", north())] {
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
    let mut citizen = Account::new(
        "citizen",
        Role::Citizen,
        hash_password("pass citizen").unwrap(),
    );
    citizen.household_id = Some(ids[0].parse().unwrap());
    app.db.store.upsert_account(&citizen).await.unwrap();

    let south = attestation(&app, "agent", &ids[0]).await;
    let north_late = attestation(&app, "agent-north", &ids[1]).await;
    let _north_waiting = attestation(&app, "agent-north", &ids[1]).await;
    clock.set_hours(10);
    confirm(&app, "agent", south).await;
    clock.set_hours(11);
    let s = app.session("citizen", "fr").await;
    let rated = app
        .submit(
            &s,
            &format!("/me/requests/{south}/rate"),
            &[("rating", "4"), ("comment", "Rapide")],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    clock.set_hours(72);
    confirm(&app, "agent-north", north_late).await;
    clock.set_hours(100);

    // The national supervisor: both regions, each linked to its report of delays.
    for lang in ["ar", "fr", "en"] {
        let s = app.session("sup-national", lang).await;
        for measure in ["delay", "breaches", "rating"] {
            let page = app.page(&s, &format!("/?measure={measure}")).await;
            assert_eq!(page.status, StatusCode::OK, "{measure}: {}", page.body);
            sound(&page, lang);
            assert!(
                page.body
                    .contains(&format!("<option value=\"{measure}\" selected>")),
                "{measure} is chosen"
            );
            assert_eq!(page.body.matches("<path d=").count(), 12);
            assert!(page.body.contains("class=\"legend\""));
            for region in ["01", "05"] {
                requests_row(&page, region);
            }
        }
    }
    let s = app.session("sup-national", "en").await;
    let delays = app.page(&s, "/?measure=delay").await;
    let south_row = requests_row(&delays, "05");
    let north_row = requests_row(&delays, "01");
    assert!(south_row.contains(">10 hours<"), "{south_row}");
    assert!(north_row.contains(">3 days<"), "72 hours: {north_row}");
    assert!(
        delays.has("Tanger-Tétouan-Al Hoceima: 3 days</title>"),
        "the map says it too: {}",
        delays.body
    );
    // 05: one step, on time; 01: one checked late, one still waiting past its deadline.
    assert!(south_row.contains(">0 (0.0%)<"), "{south_row}");
    assert!(north_row.contains("<strong>2 (100"), "{north_row}");
    // Only 05 has a mark; an area without one shows no data, not a zero.
    let marks = app.page(&s, "/?measure=rating").await;
    let south_row = requests_row(&marks, "05");
    assert!(south_row.contains("4.0 out of 5"), "{south_row}");
    assert!(
        marks.has("4.0 out of 5, one mark</title>"),
        "{}",
        marks.body
    );
    assert!(
        marks.has("Tanger-Tétouan-Al Hoceima: No figures (outside your territory, or no request yet)</title>"),
        "{}",
        marks.body
    );
    assert!(!requests_row(&marks, "01").contains("out of 5"));
    // A region with no request at all is grey on every measure.
    assert!(
        delays.has("Oriental: No figures (outside your territory, or no request yet)</title>"),
        "{}",
        delays.body
    );
    // Down to the provinces of 01: the map's shapes open each province's report.
    let provinces = app.page(&s, "/?region=01&measure=delay").await;
    assert_eq!(provinces.status, StatusCode::OK);
    assert!(provinces.has("<a href=\"/requests/bottlenecks?territory=01.511\""));
    assert!(requests_row(&provinces, "01.511").contains(">3 days<"));

    // The supervisor of 05: their provinces only, nothing of the north.
    for lang in ["ar", "fr", "en"] {
        let s = app.session("sup-beni-mellal", lang).await;
        for measure in ["delay", "breaches", "rating"] {
            let page = app.page(&s, &format!("/?measure={measure}")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            sound(&page, lang);
            assert_eq!(page.body.matches("<path d=").count(), 5);
            assert!(!page.has("territory=01"), "{}", page.body);
            assert!(!page.has("Tanger") && !page.has("طنجة"));
            requests_row(&page, "05.091");
        }
        let other = app.page(&s, "/?region=01&measure=delay").await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
    }
    let s = app.session("sup-beni-mellal", "en").await;
    let page = app.page(&s, "/?measure=delay").await;
    let row = requests_row(&page, "05.091");
    assert!(row.contains(">10 hours<"), "{row}");
    assert!(
        !page.has("3 days"),
        "the north's delay stays out: {}",
        page.body
    );
    let page = app.page(&s, "/?measure=breaches").await;
    assert!(
        requests_row(&page, "05.091").contains(">0 ("),
        "{}",
        page.body
    );
    let page = app.page(&s, "/?measure=rating").await;
    assert!(requests_row(&page, "05.091").contains("4.0 out of 5"));
}

sanad_storage::on_both_backends!(owned: a_supervisor_maps_the_delays_and_marks_of_their_territory_only);
