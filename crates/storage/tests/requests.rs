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
                     "birth_date": "1982-03-10", "schooling": "none", "occupation": "self_employed"}]
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
