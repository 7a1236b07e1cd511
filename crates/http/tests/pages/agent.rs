//! The centre's pages, as an agent uses them: search, the household, assisted registration with
//! the duplicate warning, the review queue.

use axum::http::StatusCode;
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;

use super::{App, household, set_up_targeting, sound};

pub async fn registered(app: &App, h: serde_json::Value) -> String {
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/households",
            "agent",
            Some(serde_json::json!({"household": h, "reason": "walk-in at the centre"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn households(app: &App) -> u64 {
    app.db
        .store
        .region_counts()
        .await
        .unwrap()
        .iter()
        .map(|c| c.households)
        .sum()
}

/// Seeds a synthetic population large enough to train the duplicate checker, then trains it.
async fn with_population(app: &App) {
    let dir = tempfile::tempdir().unwrap();
    sanad_synth::generate(&sanad_synth::GenConfig::new(300, 5), dir.path(), &|_| {}).unwrap();
    let change = sanad_app::store::Change {
        actor: "import".into(),
        reason: "seed".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    let report = sanad_app::exchange::import_registry(
        app.db.store.as_ref(),
        &sanad_app::exchange::ImportSource::from_dir(dir.path()),
        &change,
        false,
        &sanad_app::store::NoProgress,
    )
    .await
    .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    app.registry
        .duplicates()
        .load(app.db.store.as_ref())
        .await
        .unwrap();
}

/// The form of `household()`, as an agent fills it in.
fn form_of_lahcen() -> Vec<(&'static str, &'static str)> {
    vec![
        ("rows", "3"),
        ("commune", "05.091.03.01"),
        ("address", "Douar Ait Ouham"),
        ("dwelling_type", "rural_house"),
        ("tenure", "owner"),
        ("rooms", "2"),
        ("water", "0"),
        ("electricity", "45"),
        ("phone_spending", "20"),
        ("gas", "55"),
        ("income", "900"),
        ("asset", "livestock"),
        ("m0-relation", "head"),
        ("m0-first_name", "Lahcen"),
        ("m0-last_name", "Ait Ouham"),
        ("m0-first_name_ar", "لحسن"),
        ("m0-last_name_ar", "آيت وهام"),
        ("m0-sex", "M"),
        ("m0-birth_date", "1982-03-10"),
        ("m0-schooling", "none"),
        ("m0-occupation", "self_employed"),
        ("m0-disability", "none"),
        ("m1-relation", "spouse"),
        ("m1-first_name", "Itto"),
        ("m1-last_name", "Oulhaj"),
        ("m1-sex", "F"),
        ("m1-birth_date", "1986-07-01"),
        ("m1-schooling", "none"),
        ("m1-occupation", "homemaker"),
        ("m1-disability", "none"),
        ("m2-relation", "child"),
        ("reason", "moved in from Azilal"),
    ]
}

#[tokio::test]
async fn an_agent_finds_a_household_by_id_card_phone_and_name_in_either_script_and_opens_it() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let mut h = household();
    h["members"][0]["phone"] = serde_json::json!("0612345678");
    // Youssef's names were written in Latin letters only: an Arabic search still finds him.
    h["members"][2]["first_name_ar"] = serde_json::Value::Null;
    h["members"][2]["last_name_ar"] = serde_json::Value::Null;
    let id = registered(&app, h).await;
    for lang in ["ar", "fr", "en"] {
        let s = app.session("agent", lang).await;
        let home = app.page(&s, "/").await;
        assert_eq!(home.status, StatusCode::OK);
        sound(&home, lang);
        assert!(home.has("name=\"q\""), "the agent's home is the search");
        // By card, phone, name in either script, and names spelt otherwise (Lahsen, Youcef).
        for q in [
            "I456789",
            "06 12 34 56 78",
            "Lahcen",
            "لحسن",
            "ait ouham",
            "Lahsen",
            "Youcef",
            "يوسف",
        ] {
            let page = app
                .page(&s, &format!("/search?q={}", sanad_web::url_encode(q)))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{q}");
            sound(&page, lang);
            assert!(
                page.has(&format!("href=\"/households/{id}\"")),
                "{q} finds the household"
            );
        }
        // A household's registry id opens it at once.
        let by_id = app.page(&s, &format!("/search?q={id}")).await;
        assert_eq!(by_id.status, StatusCode::SEE_OTHER);
        assert_eq!(by_id.location(), format!("/households/{id}"));
        let page = app.page(&s, &format!("/households/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        sound(&page, lang);
        assert!(page.has("I456789"));
        assert!(page.has(&format!("href=\"/households/{id}/edit\"")));
        let form = app.page(&s, &format!("/households/{id}/edit")).await;
        assert_eq!(form.status, StatusCode::OK);
        sound(&form, lang);
        assert_eq!(form.field("m0-national_id").as_deref(), Some("I456789"));
    }
    // Another centre's agent neither finds nor opens it.
    let north = app.session("agent-north", "fr").await;
    let page = app.page(&north, "/search?q=I456789").await;
    assert!(
        !page.has(&format!("/households/{id}")),
        "outside the territory"
    );
    assert_eq!(
        app.page(&north, &format!("/households/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.page(&north, &format!("/households/{id}/edit"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_agent_registers_a_household_in_assisted_mode_and_is_warned_of_a_duplicate_before_saving()
 {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    with_population(&app).await;
    let first = registered(&app, household()).await;
    let s = app.session("agent", "ar").await;
    let blank = app.page(&s, "/households/new").await;
    assert_eq!(blank.status, StatusCode::OK);
    sound(&blank, "ar");

    // Errors are named field by field and nothing is saved.
    let mut bad = form_of_lahcen();
    bad.retain(|(k, _)| *k != "commune");
    bad.push(("commune", "99.999"));
    bad.push(("m1-national_id", "12AB"));
    let before = households(&app).await;
    let page = app.submit(&s, "/households/new", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    sound(&page, "ar");
    assert!(page.has("id=\"commune-error\""), "the commune is named");
    assert!(
        page.has("id=\"m1-national_id-error\""),
        "the spouse's card is named"
    );
    assert!(page.has("id=\"consent-error\""), "consent is asked for");
    assert_eq!(households(&app).await, before);

    // The same head again, without his card: the agent is warned before anything is saved.
    let mut again = form_of_lahcen();
    again.retain(|(k, _)| !k.starts_with("m1-"));
    again.push(("consent", "1"));
    let warned = app.submit(&s, "/households/new", &again).await;
    assert_eq!(warned.status, StatusCode::CONFLICT, "{}", warned.body);
    sound(&warned, "ar");
    assert!(warned.has("id=\"dup-h\""), "the warning");
    assert!(
        warned.has(&format!("href=\"/households/{first}\"")),
        "a link to the household already registered"
    );
    assert_eq!(households(&app).await, before);
    assert_eq!(
        warned.field("m0-first_name").as_deref(),
        Some("Lahcen"),
        "the form keeps what was typed"
    );

    // Checked with the citizen: a different person; saved, consent in the trail.
    again.push(("confirm_duplicates", "1"));
    let saved = app.submit(&s, "/households/new", &again).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let to = saved.location().to_string();
    assert!(
        to.starts_with("/households/H") && to.contains("done=done-household-saved"),
        "{to}"
    );
    let page = app.page(&s, &to).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("role=\"status\"") || page.has("class=\"flash"),
        "the saved message"
    );
    let events = app.db.store.audit_events(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.details.contains("consent was recorded")),
        "the consent is in the trail"
    );

    // The pair waits in the centre's review queue, with its explanation; another centre's
    // agent does not see it.
    let review = app.page(&s, "/review").await;
    assert_eq!(review.status, StatusCode::OK);
    sound(&review, "ar");
    assert!(review.has("/merge\""), "a pair to merge");
    let north = app.session("agent-north", "fr").await;
    let other = app.page(&north, "/review").await;
    assert!(!other.has("/merge\""), "not in another territory");

    // Merge, then undo.
    let at = review.body.find("action=\"/review/").unwrap() + "action=\"/review/".len();
    let pair: String = review.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let refused = app
        .submit(&north, &format!("/review/{pair}/merge"), &[])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::NOT_FOUND,
        "another centre cannot merge it"
    );
    let merged = app.submit(&s, &format!("/review/{pair}/merge"), &[]).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let after = app.page(&s, merged.location()).await;
    assert!(
        after.has("/undo\""),
        "the merge can be undone: {}",
        merged.location()
    );
    let at =
        after.body.find("action=\"/review/merges/").unwrap() + "action=\"/review/merges/".len();
    let merge: String = after.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let undone = app
        .submit(&s, &format!("/review/merges/{merge}/undo"), &[])
        .await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.body);
}

#[tokio::test]
async fn a_citizen_in_arabic_reads_the_index_explained_and_why_a_programme_says_no() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let id = registered(&app, household()).await;
    let other = {
        let mut h = household();
        h["members"][0]["national_id"] = serde_json::json!("J111222");
        registered(&app, h).await
    };
    let mut citizen = Account::new(
        "citizen",
        Role::Citizen,
        hash_password("pass citizen").unwrap(),
    );
    citizen.household_id = Some(sanad_domain::HouseholdId::parse(&id).unwrap());
    app.db.store.upsert_account(&citizen).await.unwrap();
    for lang in ["ar", "fr", "en"] {
        let s = app.session("citizen", lang).await;
        let home = app.page(&s, "/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        sound(&home, lang);
        assert!(home.has("id=\"index-h\""));
        assert!(
            home.has("class=\"effects\""),
            "what raised or lowered the index"
        );
        assert!(home.has("class=\"badge ok\""), "a programme says yes");
        assert!(
            home.has("class=\"badge bad\""),
            "a programme says no, with its reason"
        );
        assert!(home.has("Lahcen") || home.has("لحسن"));
        assert!(home.has("href=\"/me/change\""));
        // Never another household, by its page or its form.
        for path in [
            format!("/households/{other}"),
            format!("/households/{other}/edit"),
            "/search?q=Lahcen".into(),
            "/review".into(),
        ] {
            let page = app.page(&s, &path).await;
            assert!(
                matches!(page.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{path}: {}",
                page.status
            );
            assert!(!page.has("J111222"));
        }
    }
    let s = app.session("citizen", "ar").await;
    let home = app.page(&s, "/").await;
    assert!(
        home.has("ما رفع المؤشر") || home.has("ما خفّض المؤشر"),
        "in Arabic"
    );
    assert!(
        home.has("لا يمكنك الاستفادة منه حاليا"),
        "a refusal in Arabic"
    );
}
