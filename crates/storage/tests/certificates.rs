//! The documents port on both backends: the certificate key is created on first run and tied to
//! the database (another key file is refused, a missing one is not silently replaced); a rotation
//! keeps the old public key so that documents signed before still verify, and a server still
//! holding the retired key can issue nothing; documents are numbered without gaps and revoked
//! once; a move whose document cannot be signed leaves the request, the documents and the numbers
//! as they were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::certificates::{
    self, IssueRequest, NewCertificate, RevocationReason, SignedPayload, VerdictKind,
};
use sanad_app::keyring::{KeyError, KeyKind, KeyOrigin};
use sanad_app::requests::{DocumentVault, Requests, SubmitRequest};
use sanad_app::store::{Change, StoreError};
use sanad_app::{Actor, Certificates, Registry, Role};
use sanad_certificates::{CertificateKey, Kind};
use sanad_domain::HouseholdInput;
use sanad_storage::testkit::TestDb;
use time::OffsetDateTime;

fn household() -> HouseholdInput {
    serde_json::from_value(serde_json::json!({
        "commune_code": "05.091.03.01", "address": "Douar Ait Ouham", "dwelling_type": "rural_house",
        "tenure": "owner", "rooms": 2, "water_spending": "0", "electricity_spending": "45",
        "phone_spending": "20", "gas_spending": "55", "assets": [], "declared_income": "900",
        "members": [{"relation": "head", "first_name": "Lahcen", "last_name": "Ait Ouham",
                     "first_name_ar": "لحسن", "last_name_ar": "آيت وهام", "sex": "M",
                     "birth_date": "1982-03-10", "national_id": "I456789", "schooling": "none",
                     "occupation": "self_employed"}]
    }))
    .unwrap()
}

fn actor(name: &str, role: Role, territories: &[&str]) -> Actor {
    Actor {
        username: name.into(),
        role,
        territories: territories.iter().map(|t| t.to_string()).collect(),
        household: None,
        scopes: None,
    }
}

fn change(what: &str) -> Change {
    Change {
        actor: "sanad admin".into(),
        reason: what.into(),
        at: OffsetDateTime::now_utc(),
    }
}

/// A registration attestation asked for at the centre.
fn attestation() -> IssueRequest {
    IssueRequest {
        kind: Kind::RegistrationAttestation,
        programme: None,
        person_id: None,
    }
}

async fn service(db: &TestDb, registry: &Registry, file: &std::path::Path) -> Certificates {
    let (key, _) = certificates::open_certificate_key(
        db.certificates.as_ref(),
        file,
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    Certificates::new(
        registry.clone(),
        db.certificates.clone(),
        Arc::new(key),
        certificates::key_set(&db.certificates.certificate_keys().await.unwrap()),
        "https://sanad.example.ma",
    )
}

async fn the_key_is_tied_to_the_database_and_rotates_without_losing_old_documents(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.db.certificate.key");
    let now = OffsetDateTime::now_utc();

    // First run: the file is created (owner-only) and its key recorded.
    let (first, origin) = certificates::open_certificate_key(db.certificates.as_ref(), &file, now)
        .await
        .unwrap();
    assert_eq!(origin, KeyOrigin::Created);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is the owner's only");
    }
    let (again, origin) = certificates::open_certificate_key(db.certificates.as_ref(), &file, now)
        .await
        .unwrap();
    assert_eq!(
        (again.key_id(), origin),
        (first.key_id(), KeyOrigin::Existing)
    );

    // Another key file is refused, naming both keys; a missing one is not replaced.
    let other = dir.path().join("elsewhere.key");
    let e = certificates::open_certificate_key(db.certificates.as_ref(), &other, now)
        .await
        .unwrap_err();
    let KeyError::Missing { kind, recorded, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (*kind, recorded.as_str()),
        (KeyKind::Certificate, first.key_id().as_str())
    );
    assert!(
        !other.exists(),
        "no key is created for a database that has one"
    );
    assert!(e.is_refusal());
    CertificateKey::load_or_create(&other).unwrap();
    let e = certificates::open_certificate_key(db.certificates.as_ref(), &other, now)
        .await
        .unwrap_err();
    assert!(matches!(e, KeyError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains(first.key_id().as_str()), "{e}");

    // A document under the first key.
    let registry = Registry::new(db.store.clone());
    let agent = actor("agent", Role::Agent, &["05"]);
    let h = registry
        .register_household(&agent, &household(), "walk-in")
        .await
        .unwrap();
    let before = service(db, &registry, &file).await;
    let old_doc = before
        .issue(&agent, h.id, attestation(), "école")
        .await
        .unwrap();
    assert_eq!(old_doc.key_id, first.key_id().as_str());

    // Rotation: the new key signs; the old one stays published; its document still verifies.
    let new_file = dir.path().join("next.key");
    let next = CertificateKey::load_or_create(&new_file).unwrap();
    certificates::rotate_certificate_key(
        db.certificates.as_ref(),
        &first,
        &next,
        &change("rotation"),
    )
    .await
    .unwrap();
    assert!(
        certificates::rotate_certificate_key(
            db.certificates.as_ref(),
            &first,
            &next,
            &change("again")
        )
        .await
        .is_err(),
        "the old key is not active any more"
    );
    let keys = db.certificates.certificate_keys().await.unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.key_id.as_str(), k.active))
            .collect::<Vec<_>>(),
        [
            (first.key_id().as_str(), false),
            (next.key_id().as_str(), true)
        ]
    );
    let e = certificates::open_certificate_key(db.certificates.as_ref(), &file, now)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("retired"), "{e}");

    // A server started before the rotation still holds the old key: it issues nothing.
    let e = before
        .issue(&agent, h.id, attestation(), "école")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("restart"), "{e}");

    let after = service(db, &registry, &new_file).await;
    let new_doc = after
        .issue(&agent, h.id, attestation(), "banque")
        .await
        .unwrap();
    assert_eq!(new_doc.key_id, next.key_id().as_str());
    for doc in [&old_doc, &new_doc] {
        let signed = doc.signed().unwrap();
        let verdict = after
            .verify_code(&doc.id, signed.verification_code().as_str())
            .await
            .unwrap();
        assert_eq!(verdict.verdict, VerdictKind::Valid, "{}", doc.id);
        let pdf = sanad_certificates::render_pdf(&signed, after.base_url()).unwrap();
        assert_eq!(
            after.verify_file(&pdf).await.unwrap().verdict,
            VerdictKind::Valid
        );
    }
    let published = after.published_keys().to_json();
    assert!(
        published.contains(first.key_id().as_str()) && published.contains(next.key_id().as_str())
    );
    let numbers: Vec<u32> = [&old_doc, &new_doc]
        .iter()
        .map(|d| sanad_workflow::Reference::parse(&d.id).unwrap().sequence())
        .collect();
    assert_eq!(numbers, [1, 2], "no number lost to the refused issue");
}

async fn revocation_happens_once_and_is_in_the_trail(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(db.store.clone());
    let agent = actor("agent", Role::Agent, &["05"]);
    let h = registry
        .register_household(&agent, &household(), "walk-in")
        .await
        .unwrap();
    let certs = service(db, &registry, &dir.path().join("c.key")).await;
    let doc = certs.issue(&agent, h.id, attestation(), "").await.unwrap();
    let signed = doc.signed().unwrap();
    assert_eq!(
        signed
            .certificate
            .national_id_masked
            .as_ref()
            .unwrap()
            .as_str(),
        "I*****9",
        "the national id is masked on the document"
    );
    let supervisor = actor("supervisor", Role::Supervisor, &["05"]);
    assert!(
        certs
            .revoke(&supervisor, &doc.id, RevocationReason::IssuedInError, "")
            .await
            .is_err(),
        "a revocation says why"
    );
    let north = actor("supervisor.north", Role::Supervisor, &["01"]);
    assert!(matches!(
        certs
            .revoke(&north, &doc.id, RevocationReason::Fraud, "faux")
            .await,
        Err(sanad_app::registry::RegistryError::Store(
            StoreError::NotFound
        ))
    ));
    let revoked = certs
        .revoke(
            &supervisor,
            &doc.id,
            RevocationReason::IssuedInError,
            "mauvais foyer",
        )
        .await
        .unwrap();
    let r = revoked.revocation.unwrap();
    assert_eq!(
        (r.reason, r.by.as_str()),
        (RevocationReason::IssuedInError, "supervisor")
    );
    assert!(matches!(
        certs
            .revoke(&supervisor, &doc.id, RevocationReason::Fraud, "encore")
            .await,
        Err(sanad_app::registry::RegistryError::Store(
            StoreError::Conflict {
                code: "already_revoked",
                ..
            }
        ))
    ));
    let verdict = certs
        .verify_code(&doc.id, signed.verification_code().as_str())
        .await
        .unwrap();
    assert_eq!(verdict.verdict, VerdictKind::Revoked);
    let events = db.store.audit_events(0, 500).await.unwrap();
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e.entity_id == doc.id)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["certificate.issued", "certificate.revoked"]);
}

async fn a_move_whose_document_cannot_be_signed_changes_nothing(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(db.store.clone());
    let agent = actor("agent", Role::Agent, &["05"]);
    let h = registry
        .register_household(&agent, &household(), "walk-in")
        .await
        .unwrap();
    let certs = service(db, &registry, &dir.path().join("c.key")).await;
    let requests = Requests::new(
        registry.clone(),
        db.requests.clone(),
        [7; 32],
        DocumentVault::Database,
    )
    .unwrap()
    .with_certificates(certs.clone());
    let r = requests
        .submit(
            &agent,
            SubmitRequest {
                kind: "registration_attestation".into(),
                household_id: Some(h.id),
                consent: true,
                ..Default::default()
            },
            "au guichet",
        )
        .await
        .unwrap()
        .request;
    assert_eq!(r.step, "agent_check");

    // The store is handed a document whose signature fails half-way through the move.
    let failing = NewCertificate {
        kind: Kind::RegistrationAttestation,
        household_id: h.id,
        person_id: None,
        commune_code: "05.091.03.01".into(),
        prefix: "CT".into(),
        format_id: |p, y, n| format!("{p}-{y}-{n:07}"),
        sign: Arc::new(|_id: &str| -> Result<SignedPayload, String> {
            Err("the signer died".into())
        }),
    };
    let m = sanad_app::requests::Move {
        expected_version: r.version,
        from_step: r.step.clone(),
        to_step: "issued".into(),
        action: "confirm".into(),
        role: "agent".into(),
        queue_role: "agent".into(),
        due_at: None,
        outcome: Some("issued".into()),
        reopen: false,
        answer: None,
        centre: None,
        documents: Vec::new(),
        details: serde_json::json!({}),
        notify: None,
        certificate: Some(failing),
    };
    let e = db
        .requests
        .advance(r.id, &m, &change("confirm"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("signer died"), "{e}");
    let still = db.requests.request(r.id).await.unwrap().unwrap();
    assert_eq!(
        (still.step.as_str(), still.version),
        ("agent_check", r.version)
    );
    assert!(
        db.certificates
            .request_certificate(r.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.requests.history(r.id).await.unwrap().len(), 1);

    // The real move issues the attestation, numbered first of the year.
    let done = requests
        .act(&agent, r.id, r.version, "confirm", "", vec![])
        .await
        .unwrap();
    assert_eq!(done.outcome.as_deref(), Some("issued"));
    let doc = db
        .certificates
        .request_certificate(r.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sanad_workflow::Reference::parse(&doc.id)
            .unwrap()
            .sequence(),
        1
    );
    assert_eq!(doc.kind, "registration-attestation");
    // A second, stale confirm is a conflict and issues nothing more.
    assert!(
        requests
            .act(&agent, r.id, r.version, "confirm", "", vec![])
            .await
            .is_err()
    );
    assert_eq!(
        db.certificates
            .household_certificates(h.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

sanad_storage::on_both_backends!(
    the_key_is_tied_to_the_database_and_rotates_without_losing_old_documents,
    revocation_happens_once_and_is_in_the_trail,
    a_move_whose_document_cannot_be_signed_changes_nothing,
);
