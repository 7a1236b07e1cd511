//! The declarations port on both backends: a citizen declares a birth with the birth certificate,
//! the centre of the territory reads it and its document, another centre does not; the trail
//! names the kind and the document's fingerprint, never the declared text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_app::declarations::{Declarations, NewDeclaration, check_upload};
use sanad_app::{Actor, Registry, Role};
use sanad_domain::HouseholdInput;
use sanad_storage::testkit::{self, TestDb};

fn household() -> HouseholdInput {
    serde_json::from_value(serde_json::json!({
        "commune_code": "05.091.03.01", "address": "Douar Ait Ouham", "dwelling_type": "rural_house",
        "tenure": "owner", "rooms": 2, "water_spending": "0", "electricity_spending": "45",
        "phone_spending": "20", "gas_spending": "55", "assets": [], "declared_income": "900",
        "members": [{"relation": "head", "first_name": "Lahcen", "last_name": "Ait Ouham", "sex": "M",
                     "birth_date": "1982-03-10", "schooling": "none", "occupation": "self_employed"}]
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

async fn a_citizen_declares_a_birth_and_the_centre_reads_it(db: &TestDb) {
    let registry = Registry::new(db.store.clone());
    let agent = actor("agent.azilal", Role::Agent, &["05"]);
    let h = registry
        .register_household(&agent, &household(), "walk-in")
        .await
        .unwrap();
    let declarations = Declarations::new(registry.clone(), db.declarations.clone());
    let mut citizen = actor("lahcen", Role::Citizen, &[]);
    citizen.household = Some(h.id);
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF".to_vec();
    let doc = check_upload("acte de naissance.pdf", pdf.clone()).unwrap();
    let made = declarations
        .declare(
            &citizen,
            NewDeclaration {
                household_id: h.id,
                kind: "birth".into(),
                details: "Naissance de Sara le 2 novembre".into(),
                happened_on: Some("2026-11-02".into()),
                documents: vec![doc.clone(), doc],
            },
            "declared online",
        )
        .await
        .unwrap();
    assert_eq!(
        made.documents.len(),
        1,
        "the same file given twice is one document"
    );

    // Bad input is named and nothing is written.
    for (kind, details, on, field) in [
        ("wedding", "x", None, "kind"),
        ("birth", "", None, "details"),
        ("birth", "x", Some("2999-01-01"), "happened_on"),
        ("birth", "x", Some("02/11/2026"), "happened_on"),
    ] {
        let e = declarations
            .declare(
                &citizen,
                NewDeclaration {
                    household_id: h.id,
                    kind: kind.into(),
                    details: details.into(),
                    happened_on: on.map(str::to_string),
                    documents: vec![],
                },
                "",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    let seen = declarations.of_household(&agent, h.id).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].details, "Naissance de Sara le 2 novembre");
    assert_eq!(seen[0].happened_on.as_deref(), Some("2026-11-02"));
    let sha = &seen[0].documents[0].sha256;
    let (media, bytes) = declarations
        .document(&agent, seen[0].id, h.id, sha)
        .await
        .unwrap();
    assert_eq!((media.as_str(), bytes), ("application/pdf", pdf));

    // Another centre, another citizen: nothing.
    let north = actor("agent.tanger", Role::Agent, &["01"]);
    assert!(declarations.of_household(&north, h.id).await.is_err());
    assert!(
        declarations
            .document(&north, seen[0].id, h.id, sha)
            .await
            .is_err()
    );
    let mut other = actor("someone", Role::Citizen, &[]);
    other.household = None;
    assert!(declarations.of_household(&other, h.id).await.is_err());
    assert!(
        declarations
            .declare(
                &other,
                NewDeclaration {
                    household_id: h.id,
                    kind: "other".into(),
                    details: "x".into(),
                    happened_on: None,
                    documents: vec![]
                },
                ""
            )
            .await
            .is_err()
    );

    let events = db.store.audit_events(0, 100).await.unwrap();
    let declared: Vec<_> = events
        .iter()
        .filter(|e| e.action == "household.change_declared")
        .collect();
    assert_eq!(declared.len(), 1);
    assert!(declared[0].details.contains(sha.as_str()));
    assert!(
        !declared[0].details.contains("Sara"),
        "no declared text in the trail"
    );
}

#[tokio::test]
async fn sqlite_declarations() {
    let db = testkit::sqlite().await;
    a_citizen_declares_a_birth_and_the_centre_reads_it(&db).await;
}

#[tokio::test]
async fn postgres_declarations() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    a_citizen_declares_a_birth_and_the_centre_reads_it(&db).await;
    db.cleanup().await;
}
