//! The requests port on both backends: a disability card request is submitted with its medical
//! certificate, moved step by step (a stale second move is a conflict, not a double move), closed,
//! rated once, reopened; late requests escalate unless someone moved them meanwhile; the queue
//! orders by deadline, keeps to its territory and hides restricted categories; every move is in
//! the trail, never the citizen's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_app::requests::{
    Escalation, Move, NewRequest, Rating, RequestFilter, Routing, StoredDocument,
};
use sanad_app::store::{Change, StoreError};
use sanad_app::{Actor, Registry, Role};
use sanad_domain::HouseholdInput;
use sanad_storage::testkit::{self, TestDb};
use time::{Duration, OffsetDateTime, macros::datetime};

fn household(commune: &str) -> HouseholdInput {
    serde_json::from_value(serde_json::json!({
        "commune_code": commune, "address": "Douar Ait Ouham", "dwelling_type": "rural_house",
        "tenure": "owner", "rooms": 2, "water_spending": "0", "electricity_spending": "45",
        "phone_spending": "20", "gas_spending": "55", "assets": [], "declared_income": "900",
        "members": [{"relation": "head", "first_name": "Lahcen", "last_name": "Ait Ouham", "sex": "M",
                     "birth_date": "1982-03-10", "schooling": "none", "occupation": "self_employed",
                     "phone": "+212612345678"}]
    }))
    .unwrap()
}

fn reference(prefix: &str, year: i32, seq: u64) -> String {
    format!("{prefix}-{year}-{seq:07}")
}

fn routing(commune: &str, centre: &str) -> Routing {
    let parts: Vec<&str> = commune.split('.').collect();
    Routing {
        region_code: parts[0].into(),
        province_code: format!("{}.{}", parts[0], parts[1]),
        commune_code: commune.into(),
        centre: centre.into(),
    }
}

fn new_request(commune: &str, due_at: OffsetDateTime, category: Option<&str>) -> NewRequest {
    NewRequest {
        prefix: "SR".into(),
        format_reference: reference,
        secret_digest: "d1gest".into(),
        kind: "disability_card".into(),
        definition_version: 1,
        household_id: None,
        routing: routing(commune, "centre-azilal"),
        step: "document_check".into(),
        queue_role: "agent".into(),
        due_at: Some(due_at),
        subject: Some("disability_card".into()),
        category: category.map(str::to_string),
        channel: "web".into(),
        details: "Mon fils Sara a besoin d'une carte".into(),
        assisted: false,
        documents: Vec::new(),
        notify: None,
    }
}

fn change(actor: &str, reason: &str, at: OffsetDateTime) -> Change {
    Change {
        actor: actor.into(),
        reason: reason.into(),
        at,
    }
}

fn step(
    r: &sanad_app::requests::ServiceRequest,
    to: &str,
    role: &str,
    outcome: Option<&str>,
) -> Move {
    Move {
        expected_version: r.version,
        from_step: r.step.clone(),
        to_step: to.into(),
        action: format!("to_{to}"),
        role: role.into(),
        queue_role: role.into(),
        due_at: None,
        outcome: outcome.map(str::to_string),
        reopen: false,
        answer: outcome.map(|_| "Votre carte est prête".to_string()),
        centre: None,
        documents: Vec::new(),
        details: serde_json::json!({}),
        notify: None,
        certificate: None,
    }
}

async fn a_disability_card_request_walks_its_steps(db: &TestDb) {
    let store = &db.requests;
    let registry = Registry::new(db.store.clone());
    let agent = Actor {
        username: "agent.azilal".into(),
        role: Role::Agent,
        territories: vec!["05".into()],
        household: None,
        scopes: None,
    };
    let h = registry
        .register_household(&agent, &household("05.091.03.01"), "walk-in")
        .await
        .unwrap();
    let t0 = datetime!(2026-12-01 09:00:00.123 UTC);

    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF".to_vec();
    let mut first = new_request("05.091.03.01", t0 + Duration::hours(72), None);
    first.household_id = Some(h.id);
    first.documents = vec![StoredDocument {
        sha256: "ab".repeat(32),
        name: "certificat medical.pdf".into(),
        media_type: "application/pdf".into(),
        size: pdf.len() as i64,
        content: Some(pdf.clone()),
    }];
    let r = store
        .submit(&first, &change("lahcen", "online", t0))
        .await
        .unwrap();
    assert_eq!(r.reference, "SR-2026-0000001");
    assert_eq!(
        r.submitted_at,
        datetime!(2026-12-01 09:00:00 UTC),
        "to the second"
    );
    assert_eq!(
        (r.step.as_str(), r.state.as_str(), r.version),
        ("document_check", "open", 1)
    );
    assert_eq!(r.household_id, Some(h.id));
    assert_eq!(r.documents.len(), 1);
    assert_eq!(
        store.request_document(&"ab".repeat(32)).await.unwrap(),
        Some(("application/pdf".to_string(), pdf))
    );
    let second = store
        .submit(
            &new_request("05.091.03.01", t0 + Duration::hours(24), None),
            &change("agent.azilal", "walk-in", t0),
        )
        .await
        .unwrap();
    assert_eq!(
        second.reference, "SR-2026-0000002",
        "numbers follow each other"
    );
    assert_eq!(
        store
            .by_reference("SR-2026-0000002")
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
    assert_eq!(
        store
            .secret_digest("SR-2026-0000001")
            .await
            .unwrap()
            .as_deref(),
        Some("d1gest")
    );
    assert!(
        store
            .by_reference("SR-2026-9999999")
            .await
            .unwrap()
            .is_none()
    );

    // A move at the version read; a second move from the same read is a conflict.
    let t1 = t0 + Duration::hours(5);
    let moved = store
        .advance(
            r.id,
            &step(&r, "committee", "supervisor", None),
            &change("agent.azilal", "documents complete", t1),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            moved.step.as_str(),
            moved.version,
            moved.queue_role.as_str()
        ),
        ("committee", 2, "supervisor")
    );
    let stale = store
        .advance(
            r.id,
            &step(&r, "committee", "supervisor", None),
            &change("agent.other", "same", t1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            StoreError::VersionConflict {
                expected: 1,
                current: 2
            }
        ),
        "{stale:?}"
    );

    // Close with an outcome and an answer.
    let t2 = t1 + Duration::hours(30);
    let closed = store
        .advance(
            r.id,
            &step(&moved, "issued", "manager", Some("issued")),
            &change("manager.beni", "card issued", t2),
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.state.as_str(), closed.outcome.as_deref()),
        ("closed", Some("issued"))
    );
    assert_eq!(closed.closed_at, Some(t2.replace_nanosecond(0).unwrap()));
    assert_eq!(closed.answer.as_deref(), Some("Votre carte est prête"));
    let history = store.history(r.id).await.unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|v| (v.step.as_str(), v.actor.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("document_check", "lahcen"),
            ("committee", "agent.azilal"),
            ("issued", "manager.beni")
        ]
    );
    assert!(
        history.iter().all(|v| v.left_at.is_some()),
        "a closed request waits nowhere"
    );
    assert_eq!(history[1].reason, "documents complete");

    // Rated once, and only when closed.
    let rating = Rating {
        rating: 4,
        comment: "rapide".into(),
        rated_at: t2,
    };
    store
        .rate(r.id, &rating, &change("lahcen", "", t2))
        .await
        .unwrap();
    let again = store
        .rate(r.id, &rating, &change("lahcen", "", t2))
        .await
        .unwrap_err();
    assert!(matches!(
        again,
        StoreError::Conflict {
            code: "already_rated",
            ..
        }
    ));
    let open = store
        .rate(second.id, &rating, &change("x", "", t2))
        .await
        .unwrap_err();
    assert!(matches!(
        open,
        StoreError::Conflict {
            code: "still_open",
            ..
        }
    ));
    assert_eq!(
        store
            .request(r.id)
            .await
            .unwrap()
            .unwrap()
            .rating
            .unwrap()
            .rating,
        4
    );
    let ratings = store.ratings(&["05".into()]).await.unwrap();
    assert_eq!((ratings.len(), ratings[0].count, ratings[0].sum), (1, 1, 4));
    assert!(store.ratings(&["01".into()]).await.unwrap().is_empty());

    // Reopened: from its final step, back into a queue.
    let mut reopen = step(&closed, "committee", "supervisor", None);
    reopen.reopen = true;
    let reopened = store
        .advance(
            r.id,
            &reopen,
            &change("lahcen", "card has a wrong name", t2),
        )
        .await
        .unwrap();
    assert_eq!(
        (reopened.state.as_str(), reopened.closed_at),
        ("open", None)
    );
    // Reopening an open request is refused (it is not at a final step any more).
    assert!(
        store
            .advance(r.id, &reopen, &change("lahcen", "", t2))
            .await
            .is_err()
    );

    // The queue: most urgent first, only its territory, restricted categories hidden.
    let north = store
        .submit(
            &new_request("01.511.01.01", t0 + Duration::hours(1), None),
            &change("agent.tanger", "", t0),
        )
        .await
        .unwrap();
    let restricted = store
        .submit(
            &new_request(
                "05.091.03.01",
                t0 + Duration::hours(2),
                Some("against_agent"),
            ),
            &change("lahcen", "", t0),
        )
        .await
        .unwrap();
    let queue = store
        .requests(&RequestFilter {
            territories: vec!["05".into()],
            queue_roles: vec!["agent".into()],
            state: Some("open".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<i64> = queue.iter().map(|q| q.id).collect();
    assert_eq!(
        ids,
        [restricted.id, second.id],
        "by deadline, in the territory, in the agent's queue"
    );
    let hidden = store
        .requests(&RequestFilter {
            territories: vec!["05".into()],
            hidden_categories: vec!["against_agent".into()],
            state: Some("open".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(hidden.iter().all(|q| q.id != restricted.id));
    assert!(hidden.iter().any(|q| q.id == r.id));
    let late = store
        .requests(&RequestFilter {
            overdue_at: Some(t0 + Duration::hours(3)),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let late_ids: Vec<i64> = late.iter().map(|q| q.id).collect();
    assert_eq!(late_ids, [north.id, restricted.id]);

    // Escalation: the late ones move to the supervisor's queue, unless moved meanwhile.
    let escalations: Vec<Escalation> = late
        .iter()
        .map(|q| Escalation {
            request_id: q.id,
            expected_version: if q.id == north.id {
                q.version + 7
            } else {
                q.version
            },
            level: 1,
            to_role: "supervisor".into(),
        })
        .collect();
    let n = store
        .escalate(
            &escalations,
            &change("sanad", "deadline passed", t0 + Duration::hours(3)),
        )
        .await
        .unwrap();
    assert_eq!(n, 1, "the stale one is left alone");
    let escalated = store.request(restricted.id).await.unwrap().unwrap();
    assert_eq!(
        (escalated.queue_role.as_str(), escalated.escalation_level),
        ("supervisor", 1)
    );

    // Spans: one per step visit, in the territory.
    let spans = store.spans(&["05".into()], &[]).await.unwrap();
    assert_eq!(
        spans.len(),
        4 + 1 + 1,
        "first request's four visits, the second's and the restricted one's"
    );
    assert!(spans.iter().all(|s| s.commune_code.starts_with("05.")));
    assert_eq!(
        store
            .spans(&["05".into()], &["complaint".into()])
            .await
            .unwrap()
            .len(),
        0
    );

    // The trail: every move, never the citizen's words.
    let events = db.store.audit_events(0, 200).await.unwrap();
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e.entity_type == "request" && e.entity_id == r.reference)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "request.submitted",
            "request.moved",
            "request.moved",
            "request.rated",
            "request.reopened"
        ]
    );
    assert!(events.iter().any(|e| e.action == "request.escalated"));
    assert!(
        events
            .iter()
            .all(|e| !e.details.contains("Sara") && !e.details.contains("rapide"))
    );
}

#[tokio::test]
async fn sqlite_requests() {
    let db = testkit::sqlite().await;
    a_disability_card_request_walks_its_steps(&db).await;
}

#[tokio::test]
async fn postgres_requests() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    a_disability_card_request_walks_its_steps(&db).await;
    db.cleanup().await;
}

// ---------------------------------------------------------------------------------------------
// The use-case on both backends.

mod story {
    use super::*;
    use sanad_app::declarations::check_upload;
    use sanad_app::requests::{DocumentVault, Requests, SubmitRequest};
    use std::sync::{Arc, Mutex};

    fn actor(name: &str, role: Role, territories: &[&str]) -> Actor {
        Actor {
            username: name.into(),
            role,
            territories: territories.iter().map(|t| t.to_string()).collect(),
            household: None,
            scopes: None,
        }
    }

    /// A disability card from the citizen's submission to the card; the deadline of the document
    /// check passes and the request escalates to the supervisor, once; a stranger and another
    /// centre see nothing; the follow-up works with the secret and only with it.
    pub async fn a_disability_card_from_submission_to_issue(db: &TestDb, vault: DocumentVault) {
        let now = Arc::new(Mutex::new(datetime!(2026-12-01 09:00:00 UTC)));
        let clock = now.clone();
        let registry =
            Registry::new(db.store.clone()).with_clock(Arc::new(move || *clock.lock().unwrap()));
        let agent = actor("agent.azilal", Role::Agent, &["05"]);
        let h = registry
            .register_household(&agent, &household("05.091.03.01"), "walk-in")
            .await
            .unwrap();
        let key = sanad_certificates::CertificateKey::generate().unwrap();
        let at = *now.lock().unwrap();
        db.certificates
            .record_certificate_key(
                key.key_id().as_str(),
                &hex::encode(key.public().to_bytes()),
                at,
            )
            .await
            .unwrap();
        let certificates = sanad_app::Certificates::new(
            registry.clone(),
            db.certificates.clone(),
            Arc::new(key),
            sanad_app::certificates::key_set(&db.certificates.certificate_keys().await.unwrap()),
            "https://sanad.example.ma",
        );
        let requests = Requests::new(registry.clone(), db.requests.clone(), [7; 32], vault)
            .unwrap()
            .with_certificates(certificates.clone());
        let mut citizen = actor("lahcen", Role::Citizen, &[]);
        citizen.household = Some(h.id);

        // Bad input: named, nothing stored.
        let exe = check_upload("certificat.pdf", b"MZ\x90\x00 this is a program".to_vec());
        assert!(exe.unwrap_err().to_string().contains("documents"));
        let big = [b"%PDF-1.4\n".as_slice(), &vec![b' '; 50 * 1024 * 1024]].concat();
        let e = check_upload("dossier.pdf", big).unwrap_err();
        assert!(e.to_string().contains("documents"), "a 50 MB file: {e}");
        let pdf = check_upload("a.pdf", b"%PDF-1.4\n%%EOF".to_vec()).unwrap();
        let e = requests
            .submit(
                &citizen,
                SubmitRequest {
                    kind: "disability_card".into(),
                    documents: vec![pdf.clone(), pdf.clone(), pdf.clone(), pdf],
                    ..Default::default()
                },
                "",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("documents"), "{e}");
        let e = requests
            .submit(
                &citizen,
                SubmitRequest {
                    kind: "passport".into(),
                    ..Default::default()
                },
                "",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("kind"), "{e}");
        let e = requests
            .submit(
                &agent,
                SubmitRequest {
                    kind: "registration_attestation".into(),
                    household_id: Some(h.id),
                    ..Default::default()
                },
                "",
            )
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("consent"),
            "assisted mode needs consent: {e}"
        );
        assert!(
            db.requests
                .by_reference("SR-2026-0000001-0")
                .await
                .unwrap()
                .is_none()
        );

        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF".to_vec();
        let submitted = requests
            .submit(
                &citizen,
                SubmitRequest {
                    kind: "disability_card".into(),
                    details: "Carte pour mon fils Amine".into(),
                    documents: vec![check_upload("certificat.pdf", pdf.clone()).unwrap()],
                    ..Default::default()
                },
                "online",
            )
            .await
            .unwrap();
        let r = submitted.request;
        assert_eq!(r.step, "document_check", "submitting is the citizen's step");
        assert_eq!(r.queue_role, "agent");
        assert_eq!(r.routing.centre, "05.091.03.01");
        assert_eq!(
            r.due_at,
            Some(datetime!(2026-12-04 09:00:00 UTC)),
            "72 hours"
        );
        assert!(r.reference.starts_with("SR-2026-"));
        let (media, bytes) = requests
            .document(&agent, r.id, &r.documents[0].sha256)
            .await
            .unwrap();
        assert_eq!((media.as_str(), bytes), ("application/pdf", pdf));

        // Follow-up: the secret opens the status, another does not; nothing personal in it.
        let status = requests
            .follow(&r.reference, &submitted.secret, sanad_workflow::Lang::Fr)
            .await
            .unwrap();
        assert_eq!(status.step, "Vérification des pièces");
        assert!(
            requests
                .follow(&r.reference, "ABCDEF", sanad_workflow::Lang::Fr)
                .await
                .is_err()
        );

        // The receipt SMS was queued with the request, in the same transaction.
        let outbox: &dyn sanad_app::outbox::OutboxStore = match (&db.sqlite, &db.postgres) {
            (Some(s), _) => s,
            (_, Some(p)) => p,
            _ => unreachable!(),
        };
        assert_eq!(outbox.stats().await.unwrap().queued, 1, "one receipt SMS");

        // The agent's queue has it; another centre's and a stranger's do not see it.
        let queue = requests.queue(&agent, &[], 50).await.unwrap();
        assert_eq!(queue.iter().map(|q| q.id).collect::<Vec<_>>(), [r.id]);
        let north = actor("agent.tanger", Role::Agent, &["01"]);
        assert!(requests.queue(&north, &[], 50).await.unwrap().is_empty());
        assert!(requests.request(&north, r.id).await.is_err());
        let mut stranger = actor("other", Role::Citizen, &[]);
        stranger.household = None;
        assert!(requests.request(&stranger, r.id).await.is_err());

        // The deadline passes: escalated to the supervisor, once however often the pass runs.
        *now.lock().unwrap() = datetime!(2026-12-04 10:00:00 UTC);
        let system = actor("sanad", Role::Admin, &[]);
        assert_eq!(requests.escalate_due(&system).await.unwrap(), 1);
        assert_eq!(
            requests.escalate_due(&system).await.unwrap(),
            0,
            "once per level"
        );
        let late = requests.request(&agent, r.id).await.unwrap();
        assert_eq!(
            (late.queue_role.as_str(), late.escalation_level),
            ("supervisor", 1)
        );
        let supervisor = actor("supervisor.bm", Role::Supervisor, &["05"]);
        assert_eq!(requests.queue(&supervisor, &[], 50).await.unwrap().len(), 1);

        // Wrong action, wrong role, missing reason: refused with the reason, nothing moves.
        let e = requests
            .act(&supervisor, r.id, late.version, "grant", "", vec![])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("documents_complete"), "{e}");
        let e = requests
            .act(&agent, r.id, late.version, "ask_for_documents", "", vec![])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("reason"), "{e}");
        // The supervisor acts for the late document check; a stale second click conflicts.
        let checked = requests
            .act(
                &supervisor,
                r.id,
                late.version,
                "documents_complete",
                "",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            (
                checked.step.as_str(),
                checked.queue_role.as_str(),
                checked.escalation_level
            ),
            ("medical_committee", "supervisor", 0)
        );
        assert!(
            requests
                .act(&agent, r.id, late.version, "documents_complete", "", vec![])
                .await
                .is_err()
        );
        let opinion = requests
            .act(
                &supervisor,
                r.id,
                checked.version,
                "opinion_given",
                "taux 80 %",
                vec![],
            )
            .await
            .unwrap();
        let manager = actor("manager.bm", Role::Manager, &["05"]);
        let holder = h.members[0].id;
        let done = requests
            .act_issuing(
                &manager,
                r.id,
                opinion.version,
                "grant",
                "",
                vec![],
                &sanad_app::certificates::IssueFacts {
                    person_id: Some(holder),
                    degree: Some(sanad_certificates::DisabilityDegree::Moderate),
                },
            )
            .await
            .unwrap();
        // The card was issued with the move, for the member named, and verifies.
        let card = certificates.of_request(r.id).await.unwrap().unwrap();
        assert_eq!(
            (card.kind.as_str(), card.person_id),
            ("disability-card", Some(holder))
        );
        let signed = card.signed().unwrap();
        signed.verify(certificates.published_keys()).unwrap();
        let code = signed.verification_code();
        assert_eq!(
            certificates
                .verify_code(&card.id, code.as_str())
                .await
                .unwrap()
                .verdict,
            sanad_app::certificates::VerdictKind::Valid
        );
        assert_eq!(
            (
                done.state.as_str(),
                done.outcome.as_deref(),
                done.step.as_str()
            ),
            ("closed", Some("issued"), "card_issued")
        );

        assert_eq!(
            outbox.stats().await.unwrap().queued,
            2,
            "and one SMS when the card is granted"
        );

        // The citizen rates it; the supervisor sees the mark, per service.
        requests.rate(&citizen, r.id, 5, "merci").await.unwrap();
        assert!(requests.rate(&citizen, r.id, 5, "").await.is_err(), "once");
        let ratings = requests.ratings(&supervisor, None).await.unwrap();
        assert_eq!(
            (ratings[0].kind.as_str(), ratings[0].count, ratings[0].sum),
            ("disability_card", 1, 5)
        );

        // The bottleneck report: the document check breached its deadline.
        let report = requests
            .bottlenecks(&supervisor, Some("05"), &[])
            .await
            .unwrap();
        let check = report
            .steps
            .iter()
            .find(|row| row.step == "document_check")
            .unwrap();
        assert_eq!((check.finished.count, check.finished.breaches), (1, 1));
        assert!(
            requests.bottlenecks(&north, Some("05"), &[]).await.is_err(),
            "outside the territory"
        );

        // A complaint against an agent: the agent's colleagues never see it; the supervisor does.
        let complaint = requests
            .submit(
                &citizen,
                SubmitRequest {
                    kind: "complaint".into(),
                    grievance: Some("complaint".into()),
                    category: Some("against_agent".into()),
                    details: "L'agent m'a demandé de l'argent".into(),
                    ..Default::default()
                },
                "",
            )
            .await
            .unwrap()
            .request;
        assert!(complaint.reference.starts_with("GR-2026-"));
        assert!(requests.request(&agent, complaint.id).await.is_err());
        assert!(
            requests
                .of_household(&agent, h.id)
                .await
                .unwrap()
                .iter()
                .all(|q| q.id != complaint.id)
        );
        assert!(requests.request(&supervisor, complaint.id).await.is_ok());
        assert_eq!(
            requests.request(&citizen, complaint.id).await.unwrap().id,
            complaint.id
        );

        // The trail has every move, never the citizen's words.
        let events = db.store.audit_events(0, 500).await.unwrap();
        let moves = events
            .iter()
            .filter(|e| e.entity_id == r.reference)
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>();
        assert_eq!(
            moves,
            [
                "request.submitted",
                "request.escalated",
                "request.moved",
                "request.moved",
                "request.moved",
                "request.rated"
            ]
        );
        assert!(
            events
                .iter()
                .all(|e| !e.details.contains("Amine") && !e.details.contains("argent"))
        );
    }
}

#[tokio::test]
async fn sqlite_disability_card_story() {
    let db = testkit::sqlite().await;
    story::a_disability_card_from_submission_to_issue(
        &db,
        sanad_app::requests::DocumentVault::Database,
    )
    .await;
}

#[tokio::test]
async fn sqlite_disability_card_story_with_documents_on_disk() {
    let db = testkit::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    story::a_disability_card_from_submission_to_issue(
        &db,
        sanad_app::requests::DocumentVault::Disk(dir.path().to_path_buf()),
    )
    .await;
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() >= 1,
        "the document is on disk"
    );
}

#[tokio::test]
async fn postgres_disability_card_story() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    story::a_disability_card_from_submission_to_issue(
        &db,
        sanad_app::requests::DocumentVault::Database,
    )
    .await;
    db.cleanup().await;
}
