//! Documents through the API, on SQLite and PostgreSQL. The story of a disability card: a mother
//! files it online for her son, the centre checks the papers, the committee gives its opinion
//! and the manager grants it; the card is issued with the move, signed, and downloaded as a PDF
//! whose Arabic reads right (pdftotext), whose signature verifies with the key published at the
//! well-known address, and which the public check calls valid; the same PDF with one byte changed,
//! or signed with another key, is forged; once revoked it is revoked. Another centre sees nothing;
//! a registration attestation is issued on demand; an eligibility attestation for a programme the
//! household does not qualify for is refused with the programme's reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use common::{App, BASE_URL, basic, household, set_up_targeting};
use http_body_util::BodyExt as _;
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_certificates::{KeySet, Verdict};
use sanad_storage::testkit::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A download: status, content type and bytes.
async fn download(app: &App, uri: &str, user: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, basic(user))
        .body(Body::empty())
        .unwrap();
    let res = app.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let media = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, media, bytes)
}

/// The text of a PDF as pdftotext (Debian's poppler-utils) reads it, bidi marks and line breaks
/// taken out; `None` outside CI when the tool is missing.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed: {out:?}");
            let text: String = String::from_utf8(out.stdout)
                .unwrap()
                .chars()
                .filter(|c| {
                    !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
                })
                .collect();
            Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is missing: install Debian's poppler-utils"
            );
            eprintln!("SKIPPED: pdftotext is missing (apt-get install poppler-utils)");
            None
        }
        Err(e) => panic!("pdftotext: {e}"),
    }
}

async fn account(app: &App, name: &str, role: Role, territories: &[&str]) {
    let mut a = Account::new(name, role, hash_password(&format!("pass {name}")).unwrap());
    a.territories = territories.iter().map(|t| t.to_string()).collect();
    app.db.store.upsert_account(&a).await.unwrap();
}

async fn act(app: &App, user: &str, id: i64, body: Value) -> (StatusCode, Value) {
    app.call(
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        user,
        Some(body),
    )
    .await
}

async fn a_disability_card_from_submission_to_a_verified_pdf(db: TestDb) {
    let app = App::new(db).await;
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
    let mut citizen = Account::new("itto", Role::Citizen, hash_password("pass itto").unwrap());
    citizen.household_id = Some(hid.parse().unwrap());
    app.db.store.upsert_account(&citizen).await.unwrap();
    account(&app, "supervisor", Role::Supervisor, &["05"]).await;
    account(&app, "manager-north", Role::Manager, &["01"]).await;

    // The mother files it online; the centre, the committee and the manager move it.
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/requests",
            "itto",
            Some(json!({"kind": "disability_card", "household_id": hid,
                        "details": "Carte pour mon fils Amine"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["request"]["id"].as_i64().unwrap();
    let (s, v) = act(
        &app,
        "agent",
        id,
        json!({"action": "documents_complete", "version": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = act(
        &app,
        "supervisor",
        id,
        json!({"action": "opinion_given", "version": 2, "reason": "taux 80 %"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Granting names the child and the degree; without them nothing moves.
    let (s, v) = act(
        &app,
        "manager",
        id,
        json!({"action": "grant", "version": 3}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("person_id"), "{v}");
    let (s, v) = act(
        &app,
        "manager",
        id,
        json!({"action": "grant", "version": 3, "person_id": amine}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("degree"), "{v}");
    let (_, still) = app
        .call("GET", &format!("/api/v1/requests/{id}"), "manager", None)
        .await;
    assert_eq!(still["step"], "decision", "a refused grant moves nothing");
    let (s, v) = act(
        &app,
        "manager",
        id,
        json!({"action": "grant", "version": 3, "person_id": amine, "degree": "severe"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["outcome"].as_str()),
        (Some("closed"), Some("issued"))
    );

    // The card is the household's, for Amine; the citizen downloads it.
    let (s, list) = app
        .call(
            "GET",
            &format!("/api/v1/households/{hid}/certificates"),
            "itto",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let card = &list[0];
    assert_eq!(card["kind"], "disability-card");
    assert_eq!(card["person_id"].as_str(), Some(amine.as_str()));
    assert_eq!(card["request_id"].as_i64(), Some(id));
    let number = card["id"].as_str().unwrap().to_string();
    assert!(number.starts_with("CT-"), "{number}");
    let (s, media, pdf) =
        download(&app, &format!("/api/v1/certificates/{number}/pdf"), "itto").await;
    assert_eq!((s, media.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    let (_, _, again) =
        download(&app, &format!("/api/v1/certificates/{number}/pdf"), "agent").await;
    assert_eq!(again, pdf, "the same bytes at every download");
    let (s, _, _) = download(
        &app,
        &format!("/api/v1/certificates/{number}/pdf"),
        "agent-north",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another centre sees nothing");

    // Its Arabic reads right: letters in reading order, the holder and the title.
    if let Some(text) = pdf_text(&pdf) {
        for expected in [
            "أمين آيت وهام",
            "Amine Ait Ouham",
            number.as_str(),
            "sanad.example.ma/verify",
        ] {
            assert!(text.contains(expected), "{expected:?} not in:\n{text}");
        }
    }

    // The published key verifies it; one byte changed, or another key, is forged.
    let (s, keys) = app
        .call_anonymous("GET", sanad_certificates::WELL_KNOWN_PATH, None)
        .await;
    assert_eq!(s, StatusCode::OK, "{keys}");
    let keys = KeySet::from_json(&keys.to_string()).unwrap();
    assert_eq!(keys.keys().len(), 1);
    let verdict = sanad_certificates::verify_pdf(&pdf, &keys, BASE_URL).unwrap();
    assert!(matches!(verdict, Verdict::Valid(_)), "{verdict:?}");
    let code = match &verdict {
        Verdict::Valid(s) => s.verification_code().as_str().to_string(),
        Verdict::Forged(_) => unreachable!(),
    };
    // A PDF uploaded to the public check, as the verification page sends it.
    let upload = async |bytes: &[u8]| {
        let body =
            json!({"content_base64": base64::engine::general_purpose::STANDARD.encode(bytes)});
        app.call_anonymous("POST", "/api/v1/certificates/verification", Some(body))
            .await
    };
    let (s, v) = upload(&pdf).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["document"]["holder_name_fr"], "Amine Ait Ouham");
    assert!(
        v.get("household_id").is_none() && !v.to_string().contains(&hid),
        "no more than the card: {v}"
    );
    let mut altered = pdf.clone();
    let at = altered
        .windows(4)
        .position(|w| w == b"Ait ")
        .unwrap_or(altered.len() / 2);
    altered[at] ^= 0x01;
    let (_, v) = upload(&altered).await;
    assert_eq!(v["verdict"], "forged", "one byte changed: {v}");
    assert!(v.get("document").is_none());
    // The same content signed with a key Sanad never published.
    let rogue = sanad_certificates::CertificateKey::generate().unwrap();
    let mut content = match &verdict {
        Verdict::Valid(s) => s.certificate.clone(),
        Verdict::Forged(_) => unreachable!(),
    };
    content.key_id = rogue.key_id().clone();
    let forged_pdf =
        sanad_certificates::render_pdf(&rogue.sign(&content).unwrap(), BASE_URL).unwrap();
    let (_, v) = upload(&forged_pdf).await;
    assert_eq!(v["verdict"], "forged", "another key: {v}");
    assert!(matches!(
        sanad_certificates::verify_pdf(&forged_pdf, &keys, BASE_URL).unwrap(),
        Verdict::Forged(_)
    ));
    let (_, v) = upload(b"%PDF-1.4 nothing").await;
    assert_eq!(v["verdict"], "forged", "{v}");

    // By number and code, as a person types them from the paper.
    let typed = code.to_ascii_lowercase();
    let (s, v) = app
        .call_anonymous(
            "GET",
            &format!(
                "/api/v1/certificates/{}/verification?code={typed}",
                number.to_ascii_lowercase()
            ),
            None,
        )
        .await;
    assert_eq!(
        (s, v["verdict"].as_str()),
        (StatusCode::OK, Some("valid")),
        "{v}"
    );
    let (_, v) = app
        .call_anonymous(
            "GET",
            &format!("/api/v1/certificates/{number}/verification?code=AAAAAAAAAA"),
            None,
        )
        .await;
    assert_eq!(v["verdict"], "forged", "a wrong code: {v}");
    let (_, v) = app
        .call_anonymous(
            "GET",
            &format!("/api/v1/certificates/CT-2026-9999999-0/verification?code={code}"),
            None,
        )
        .await;
    assert_eq!(v["verdict"], "forged", "an unknown number: {v}");

    // Revoked, with a reason: the check says so, the note stays inside.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/certificates/{number}/revocation"),
            "agent",
            Some(json!({"reason": "issued_in_error", "note": "mauvais degré"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an agent does not revoke: {v}");
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/certificates/{number}/revocation"),
            "manager-north",
            Some(json!({"reason": "issued_in_error", "note": "mauvais degré"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another region's manager: {v}");
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/certificates/{number}/revocation"),
            "supervisor",
            Some(json!({"reason": "replaced", "note": "nouveau degré après recours"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["revocation"]["reason"], "replaced");
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/certificates/{number}/revocation"),
            "supervisor",
            Some(json!({"reason": "replaced", "note": "encore"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "once: {v}");
    let (_, v) = upload(&pdf).await;
    assert_eq!(v["verdict"], "revoked", "{v}");
    assert_eq!(v["revoked"]["reason"], "replaced");
    assert!(
        !v.to_string().contains("recours"),
        "the note stays inside: {v}"
    );

    // A registration attestation on demand; an eligibility attestation only when eligible.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/households/{hid}/certificates"),
            "agent",
            Some(json!({"kind": "registration-attestation", "reason": "pour l'école"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["kind"], "registration-attestation");
    assert!(v["person_id"].is_string(), "the head holds it: {v}");
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/households/{hid}/certificates"),
            "agent",
            Some(json!({"kind": "eligibility-attestation", "programme": "no-such-programme"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // Eligible for the family allowance: attested, with the programme's names and the index.
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/households/{hid}/certificates"),
            "agent",
            Some(json!({"kind": "eligibility-attestation", "programme": "asd-family"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let stored = app
        .db
        .certificates
        .certificate(v["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    match stored.signed().unwrap().certificate.details {
        sanad_certificates::Details::EligibilityAttestation {
            programme, index, ..
        } => {
            assert!(!programme.ar.as_str().is_empty() && !programme.fr.as_str().is_empty());
            assert!(index.is_some(), "the index the decision used");
        }
        other => panic!("{other:?}"),
    }
    let (s, v) = app
        .call(
            "POST",
            &format!("/api/v1/households/{hid}/certificates"),
            "agent-north",
            Some(json!({"kind": "registration-attestation"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another centre's household: {v}");
    let (_, list) = app
        .call(
            "GET",
            &format!("/api/v1/households/{hid}/certificates"),
            "agent",
            None,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 3);

    // The access log has the downloads and the public checks that showed the card.
    let reads = app
        .db
        .store
        .access_log(&sanad_app::store::AccessLogQuery {
            actor: None,
            entity_id: Some(number.clone()),
            after: 0,
            limit: 100,
        })
        .await
        .unwrap();
    assert!(
        reads
            .iter()
            .any(|r| r.actor == "itto" && r.purpose == "document download")
    );
    assert!(
        reads
            .iter()
            .any(|r| r.actor == sanad_app::certificates::PUBLIC_READER),
        "{reads:?}"
    );
    // The trail has the issue and the revocation.
    let events = app.db.store.audit_events(0, 1000).await.unwrap();
    let about: Vec<&str> = events
        .iter()
        .filter(|e| e.entity_id == number)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(about, ["certificate.issued", "certificate.revoked"]);
}

sanad_storage::on_both_backends!(owned: a_disability_card_from_submission_to_a_verified_pdf);
