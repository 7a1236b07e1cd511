//! The frame every page shares: languages, navigation, assets, pages that do not exist.

use axum::http::{StatusCode, header};
use sanad_storage::testkit;

use super::{App, sound};

#[tokio::test]
async fn every_role_gets_a_home_in_each_language_with_its_navigation() {
    let app = App::new(testkit::sqlite().await).await;
    for user in ["agent", "manager", "auditor"] {
        for lang in ["ar", "fr", "en"] {
            let s = app.session(user, lang).await;
            let home = app.page(&s, "/").await;
            assert_eq!(home.status, StatusCode::OK, "{user} {lang}: {}", home.body);
            sound(&home, lang);
            assert!(
                home.body.contains("aria-current=\"page\""),
                "{user}: the current entry is marked"
            );
            assert!(home.body.contains(&format!(
                "href=\"/lang/{}?next=/\"",
                if lang == "ar" { "fr" } else { "ar" }
            )));
        }
    }
}

#[tokio::test]
async fn the_language_switch_remembers_the_choice_and_comes_back() {
    let app = App::new(testkit::sqlite().await).await;
    let s = app.session("agent", "fr").await;
    let switch = app.page(&s, "/lang/ar?next=/search%3Fq%3D1").await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(switch.location(), "/search?q=1");
    let cookie = switch.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("sanad_lang=ar;") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    // Somewhere else is never a way back.
    let away = app.page(&s, "/lang/en?next=https://evil.example").await;
    assert_eq!(away.location(), "/");
}

#[tokio::test]
async fn a_page_that_does_not_exist_answers_in_the_readers_language() {
    let app = App::new(testkit::sqlite().await).await;
    let page = app.anonymous("/no/such/page", "ar").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    sound(&page, "ar");
    assert!(page.has("الصفحة غير موجودة"));
    let api = app.call("GET", "/api/v1/no/such", "agent", None).await;
    assert_eq!(
        api.0,
        StatusCode::NOT_FOUND,
        "the API keeps its problem documents"
    );
}

#[tokio::test]
async fn assets_are_served_with_their_digest_and_kept_a_year() {
    let app = App::new(testkit::sqlite().await).await;
    let s = app.session("agent", "fr").await;
    let home = app.page(&s, "/").await;
    for name in ["sanad.css", "htmx.min.js", "sanad.js"] {
        let url = sanad_web::assets::url(name);
        assert!(home.body.contains(&url), "{name} linked from the page");
        let asset = app.anonymous(&url, "fr").await;
        assert_eq!(asset.status, StatusCode::OK, "{name}");
        assert_eq!(
            asset.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
    let stale = app.anonymous("/assets/000000000000/sanad.css", "fr").await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    let licences = app.anonymous("/assets/licences", "fr").await;
    assert!(licences.body.contains("SIL Open Font License"));
}

#[tokio::test]
async fn pages_and_assets_travel_gzipped_when_the_browser_accepts_it() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;
    let app = App::new(testkit::sqlite().await).await;
    for uri in ["/login".to_string(), sanad_web::assets::url("htmx.min.js")] {
        let req = Request::get(&uri)
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let res = app.app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip", "{uri}");
    }
}

/// Wording keys the pages build from codes (vocabularies, states, kinds, scopes) exist in every
/// language: the wording test cannot see them in the templates.
#[test]
fn every_code_a_page_shows_has_its_words_in_each_language() {
    use sanad_domain::vocab::{
        Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure,
    };
    let mut keys: Vec<String> = Vec::new();
    keys.extend(
        Relation::ALL
            .iter()
            .map(|v| format!("vocab-relation-{}", v.as_str())),
    );
    keys.extend(Sex::ALL.iter().map(|v| format!("vocab-sex-{}", v.as_str())));
    keys.extend(
        Disability::ALL
            .iter()
            .map(|v| format!("vocab-disability-{}", v.as_str())),
    );
    keys.extend(
        Schooling::ALL
            .iter()
            .map(|v| format!("vocab-schooling-{}", v.as_str())),
    );
    keys.extend(
        Occupation::ALL
            .iter()
            .map(|v| format!("vocab-occupation-{}", v.as_str())),
    );
    keys.extend(
        DwellingType::ALL
            .iter()
            .map(|v| format!("vocab-dwelling-{}", v.as_str())),
    );
    keys.extend(
        Tenure::ALL
            .iter()
            .map(|v| format!("vocab-tenure-{}", v.as_str())),
    );
    keys.extend(
        Asset::ALL
            .iter()
            .map(|v| format!("vocab-asset-{}", v.as_str())),
    );
    keys.extend(
        sanad_app::payments::PaymentState::ALL
            .iter()
            .map(|s| format!("payment-state-{}", s.as_str())),
    );
    keys.extend(
        sanad_app::targeting::EnrolmentState::ALL
            .iter()
            .map(|s| format!("programme-state-{}", s.as_str())),
    );
    for (kind, docs) in sanad_app::declarations::KINDS {
        keys.push(format!("kind-{kind}"));
        keys.extend(docs.iter().map(|d| d.to_string()));
    }
    keys.extend(
        sanad_app::policy::Permission::ALL
            .iter()
            .map(|p| format!("scope-{}", p.scope().replace(':', "-"))),
    );
    keys.push("declaration-status-received".into());
    for area in ["urban", "rural"] {
        keys.push(format!("household-area-{area}"));
    }
    // Requests: the services offered, the words of each workflow's actions, outcomes and
    // documents, the complaint kinds, channels and units.
    for kind in [
        "programme_application",
        "disability_card",
        "registration_attestation",
        "household_change",
        "complaint",
    ] {
        keys.push(format!("requests-offer-{kind}"));
    }
    for d in sanad_workflow::shipped() {
        for step in d.steps() {
            keys.extend(step.documents.iter().cloned());
            if let Some(o) = step.outcome {
                keys.push(format!("requests-outcome-{}", o.as_str()));
            }
            for t in &step.transitions {
                keys.push(format!("requests-action-{}", t.action));
            }
        }
    }
    keys.push("requests-action-reopen".into());
    keys.push("requests-outcome-closed".into());
    for g in ["complaint", "suggestion", "observation"] {
        keys.push(format!("requests-grievance-{g}"));
    }
    for c in ["centre", "phone", "web"] {
        keys.push(format!("requests-channel-{c}"));
    }
    for c in sanad_workflow::ComplaintRules::shipped()
        .unwrap()
        .categories()
    {
        keys.push(format!("requests-unit-{}", c.unit));
    }
    for lang in sanad_web::Lang::ALL {
        let missing: Vec<&String> = keys
            .iter()
            .filter(|k| !sanad_web::i18n::has(lang, k))
            .collect();
        assert!(missing.is_empty(), "{}: {missing:?}", lang.code());
    }
}
