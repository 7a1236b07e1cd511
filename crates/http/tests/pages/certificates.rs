//! Documents through the pages: the manager grants a disability card on the request's page,
//! naming the child and the degree; the request's page then offers the card's PDF to the family
//! and the centre; the public verify page, opened as the QR code opens it, says it is valid (in
//! Arabic and French), a wrong code and an altered file are told apart from a genuine document,
//! and a revoked card is shown as revoked.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;
use serde_json::json;

use super::{App, Page, household, set_up_targeting, sound};

async fn post_file(app: &App, lang: &str, bytes: &[u8]) -> Page {
    let boundary = "sanad-verify-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"carte.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::post("/verify")
        .header(header::ACCEPT, "text/html")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, format!("sanad_lang={lang}"))
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn a_card_granted_on_its_page_is_downloaded_and_checked_by_anyone() {
    let app = App::new(testkit::sqlite().await).await;
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
    let amine = created["members"][4]["id"].as_str().unwrap().to_string();
    let mut mother = Account::new("itto", Role::Citizen, hash_password("pass itto").unwrap());
    mother.household_id = Some(hid.parse().unwrap());
    app.db.store.upsert_account(&mother).await.unwrap();
    let mut supervisor = Account::new(
        "supervisor",
        Role::Supervisor,
        hash_password("pass supervisor").unwrap(),
    );
    supervisor.territories = vec!["05".into()];
    app.db.store.upsert_account(&supervisor).await.unwrap();
    let (_, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            "itto",
            Some(json!({"kind": "disability_card", "household_id": hid})),
        )
        .await;
    let id = v["request"]["id"].as_i64().unwrap();
    for (user, action, version) in [
        ("agent", "documents_complete", 1),
        ("supervisor", "opinion_given", 2),
    ] {
        let (s, v) = app
            .call(
                "POST",
                &format!("/api/v1/requests/{id}/actions"),
                user,
                Some(json!({"action": action, "version": version, "reason": "vu"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    // The decision form names the members and the degrees.
    let manager = app.session("manager", "fr").await;
    let decision = app.page(&manager, &format!("/requests/{id}")).await;
    assert_eq!(decision.status, StatusCode::OK, "{}", decision.body);
    sound(&decision, "fr");
    assert!(decision.has("Le membre concerné") && decision.has("Amine Ait Ouham"));
    assert!(decision.has("Sévère"));
    let version = decision.field("version").unwrap();
    let missing = app
        .upload(
            &manager,
            &format!("/requests/{id}/act"),
            &[("version", &version), ("action", "grant"), ("reason", "")],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert!(missing.has("Choisissez le membre"), "{}", missing.body);
    let granted = app
        .upload(
            &manager,
            &format!("/requests/{id}/act"),
            &[
                ("version", &version),
                ("action", "grant"),
                ("reason", ""),
                ("person_id", &amine),
                ("degree", "severe"),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);

    // The family's page of the request offers the card.
    let family = app.session("itto", "ar").await;
    let own = app.page(&family, &format!("/me/requests/{id}")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    sound(&own, "ar");
    assert!(own.has("الوثيقة المُسلَّمة"), "{}", own.body);
    let at = own.body.find("href=\"/certificates/").unwrap() + "href=\"".len();
    let href: String = own.body[at..].chars().take_while(|c| *c != '"').collect();
    let pdf = app.page(&family, &href).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    let north = app.session("agent-north", "fr").await;
    assert_eq!(app.page(&north, &href).await.status, StatusCode::NOT_FOUND);

    // The public page, as the QR code opens it, in both languages; no sign-in.
    let number = href
        .trim_start_matches("/certificates/")
        .trim_end_matches("/pdf")
        .to_string();
    let stored = app
        .db
        .certificates
        .certificate(&number)
        .await
        .unwrap()
        .unwrap();
    let code = stored.signed().unwrap().verification_code();
    let link = format!("/verify/{number}?c={}", code.as_str());
    let fr = app.anonymous(&link, "fr").await;
    assert_eq!(fr.status, StatusCode::OK, "{}", fr.body);
    sound(&fr, "fr");
    assert!(
        fr.has("Document valable") && fr.has("Amine Ait Ouham"),
        "{}",
        fr.body
    );
    assert!(!fr.has(&hid), "no more than the card says");
    let ar = app.anonymous(&link, "ar").await;
    sound(&ar, "ar");
    assert!(
        ar.has("وثيقة صالحة") && ar.has("أمين آيت وهام"),
        "{}",
        ar.body
    );
    let wrong = app
        .anonymous(&format!("/verify?n={number}&c=ZZZZZZZZZZ"), "fr")
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.has("pas authentique") && !wrong.has("Amine"));

    // The file itself, then one byte of it changed.
    let bytes = app
        .db
        .certificates
        .certificate(&number)
        .await
        .unwrap()
        .unwrap();
    let pdf_bytes =
        sanad_certificates::render_pdf(&bytes.signed().unwrap(), common_base()).unwrap();
    let genuine = post_file(&app, "fr", &pdf_bytes).await;
    assert_eq!(genuine.status, StatusCode::OK, "{}", genuine.body);
    sound(&genuine, "fr");
    assert!(genuine.has("Document valable"));
    let mut altered = pdf_bytes.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x20;
    let forged = post_file(&app, "ar", &altered).await;
    assert!(forged.has("وثيقة غير أصلية"), "{}", forged.body);
    let empty = post_file(&app, "fr", b"").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Revoked through the API: the public page says so, with the reason.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/certificates/{number}/revocation"),
            "manager",
            Some(json!({"reason": "replaced", "note": "nouvelle évaluation"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let revoked = app.anonymous(&link, "fr").await;
    assert!(revoked.has("Document révoqué") && revoked.has("remplacé par un nouveau document"));
    assert!(!revoked.has("nouvelle évaluation"), "the note stays inside");
    let own = app.page(&family, &format!("/me/requests/{id}")).await;
    assert!(own.has("عُوِّضت بوثيقة جديدة"), "{}", own.body);

    // The household's page lists its documents; the centre issues an attestation there, and a
    // supervisor revokes it with a reason.
    let agent = app.session("agent", "fr").await;
    let page = app.page(&agent, &format!("/households/{hid}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    sound(&page, "fr");
    assert!(page.has("Documents délivrés") && page.has(&number));
    assert!(
        !page.has("Révoquer ce document"),
        "an agent does not revoke"
    );
    let issued = app
        .submit(
            &agent,
            &format!("/households/{hid}/certificates"),
            &[("kind", "registration-attestation")],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let after = app.page(&agent, issued.location()).await;
    assert!(after.has("Le document est délivré"), "{}", after.body);
    assert!(after.has("inscription au registre social"));
    let docs = app
        .db
        .certificates
        .household_certificates(hid.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(docs.len(), 2);
    let attestation = docs
        .iter()
        .find(|d| d.kind == "registration-attestation")
        .unwrap();
    let boss = app.session("supervisor", "ar").await;
    let theirs = app.page(&boss, &format!("/households/{hid}")).await;
    sound(&theirs, "ar");
    assert!(theirs.has("إلغاء هذه الوثيقة"));
    let revoked = app
        .submit(
            &boss,
            &format!("/certificates/{}/revoke", attestation.id),
            &[("reason", "issued_in_error"), ("note", "mauvais foyer")],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let c = app
        .db
        .certificates
        .certificate(&attestation.id)
        .await
        .unwrap()
        .unwrap();
    assert!(c.revocation.is_some());
    let family_home = app.page(&family, "/").await;
    sound(&family_home, "ar");
    assert!(
        family_home.has("الوثائق المُسلَّمة"),
        "the citizen sees their documents"
    );
}

fn common_base() -> &'static str {
    super::common::BASE_URL
}
