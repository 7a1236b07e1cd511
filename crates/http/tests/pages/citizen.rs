//! The citizen's pages: declaring a change with its document, seen by the centre.

use axum::http::StatusCode;
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;

use super::agent::registered;
use super::{App, household, set_up_targeting, sound};

async fn citizen_of(app: &App, id: &str) {
    let mut citizen = Account::new(
        "citizen",
        Role::Citizen,
        hash_password("pass citizen").unwrap(),
    );
    citizen.household_id = Some(sanad_domain::HouseholdId::parse(id).unwrap());
    app.db.store.upsert_account(&citizen).await.unwrap();
}

#[tokio::test]
async fn a_citizen_declares_a_birth_with_its_certificate_and_the_centre_reads_it() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let id = registered(&app, household()).await;
    citizen_of(&app, &id).await;
    for lang in ["ar", "fr", "en"] {
        let s = app.session("citizen", lang).await;
        let form = app.page(&s, "/me/change").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        sound(&form, lang);
        assert!(form.has("enctype=\"multipart/form-data\""));
    }
    let s = app.session("citizen", "fr").await;
    // A program passed off as a PDF is refused, with the field named; nothing is recorded.
    let refused = app
        .upload(
            &s,
            "/me/change",
            &[
                ("kind", "birth"),
                ("happened_on", "2026-11-02"),
                ("details", "Naissance de Sara"),
            ],
            ("documents", "acte.pdf", b"MZ\x90\x00 not a document"),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    sound(&refused, "fr");
    assert!(refused.has("id=\"documents-error\""));
    assert!(refused.has("Naissance de Sara"), "what was typed is kept");
    let active = app
        .upload(
            &s,
            "/me/change",
            &[("kind", "birth"), ("details", "Naissance de Sara")],
            (
                "documents",
                "acte.pdf",
                b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (x) >> >>",
            ),
        )
        .await;
    assert_eq!(active.status, StatusCode::UNPROCESSABLE_ENTITY);
    let none = app
        .upload(
            &s,
            "/me/change",
            &[("details", "x")],
            ("documents", "", b""),
        )
        .await;
    assert!(none.has("id=\"kind-error\""), "what changed is asked for");

    let pdf: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF";
    let sent = app
        .upload(
            &s,
            "/me/change",
            &[
                ("kind", "birth"),
                ("happened_on", "2026-11-02"),
                ("details", "Naissance de Sara"),
            ],
            ("documents", "acte de naissance.pdf", pdf),
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let home = app.page(&s, sent.location()).await;
    assert!(
        home.has("role=\"status\""),
        "the message that it was received"
    );
    assert!(home.has("Naissance de Sara") && home.has("id=\"decl-h\""));

    // The centre of the territory reads it and its document; another centre does not.
    let agent = app.session("agent", "ar").await;
    let page = app.page(&agent, &format!("/households/{id}")).await;
    assert!(page.has("Naissance de Sara"));
    let at = page.body.find("/documents/").unwrap();
    let start = page.body[..at].rfind("href=\"").unwrap() + 6;
    let href: String = page.body[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let doc = app.page(&agent, &href).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body.as_bytes(), pdf);
    let north = app.session("agent-north", "fr").await;
    assert_eq!(app.page(&north, &href).await.status, StatusCode::NOT_FOUND);

    // An agent declares for a citizen only with their consent.
    let assisted = app
        .upload(
            &agent,
            &format!("/households/{id}/declare"),
            &[("kind", "income"), ("details", "Perte d'emploi")],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(assisted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(assisted.has("id=\"consent-error\""));
    let assisted = app
        .upload(
            &agent,
            &format!("/households/{id}/declare"),
            &[
                ("kind", "income"),
                ("details", "Perte d'emploi"),
                ("consent", "1"),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(assisted.status, StatusCode::SEE_OTHER, "{}", assisted.body);
}
