//! Moving requests through the shipped workflows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_workflow::{
    Definition, MAX_REASON_CHARS, Move, Outcome, ReasonError, TransitionError, check_reason,
    shipped,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn get(kind: &str) -> Definition {
    shipped().into_iter().find(|d| d.kind() == kind).unwrap()
}

#[test]
fn actions_depend_on_the_role() {
    let d = get("programme_application");
    let actions = |step, role| -> Vec<String> {
        d.actions_for(step, role)
            .iter()
            .map(|t| t.action.clone())
            .collect()
    };
    assert_eq!(actions("submission", "citizen"), ["submit", "withdraw"]);
    assert_eq!(
        actions("document_check", "agent"),
        ["documents_complete", "ask_for_documents"]
    );
    // The citizen can withdraw while the agent holds the file.
    assert_eq!(actions("document_check", "citizen"), ["withdraw"]);
    assert!(actions("approved", "manager").is_empty());
    assert!(actions("nowhere", "agent").is_empty());
}

#[test]
fn a_programme_application_goes_to_enrolment() {
    let d = get("programme_application");
    let m = d.advance("submission", "submit", "citizen").unwrap();
    assert_eq!(
        (m.from.as_str(), m.to.as_str()),
        ("submission", "document_check")
    );
    assert_eq!(m.outcome, None);
    let m = d
        .advance("document_check", "documents_complete", "agent")
        .unwrap();
    let m = d.advance(&m.to, "approve", "manager").unwrap();
    assert_eq!(
        m,
        Move {
            from: "eligibility_decision".into(),
            to: "approved".into(),
            outcome: Some(Outcome::Approved),
            reason_required: false,
            issues: None,
            enrols: true,
        }
    );
    let m = d
        .advance("eligibility_decision", "withdraw", "citizen")
        .unwrap();
    assert_eq!(m.outcome, Some(Outcome::Withdrawn));
}

#[test]
fn the_disability_card_is_issued_at_the_end() {
    let d = get("disability_card");
    let mut at = d.initial().id.clone();
    for (action, role) in [
        ("submit", "citizen"),
        ("documents_complete", "agent"),
        ("opinion_given", "supervisor"),
        ("grant", "manager"),
    ] {
        let m = d.advance(&at, action, role).unwrap();
        at = m.to.clone();
        if action == "grant" {
            assert_eq!(m.outcome, Some(Outcome::Issued));
            assert_eq!(m.issues.as_deref(), Some("disability_card"));
        }
    }
    assert_eq!(at, "card_issued");
}

#[test]
fn refusals_name_what_is_wrong() {
    let d = get("disability_card");
    let e = d.advance("document_check", "grant", "agent").unwrap_err();
    assert!(matches!(e, TransitionError::UnknownAction { .. }));
    assert!(e.to_string().contains("`documents_complete`"), "{e}");

    let e = d
        .advance("document_check", "documents_complete", "citizen")
        .unwrap_err();
    assert_eq!(
        e,
        TransitionError::RoleNotAllowed {
            step: "document_check".into(),
            action: "documents_complete".into(),
            role: "citizen".into(),
            expected: "agent".into(),
        }
    );

    let e = d.advance("card_issued", "grant", "manager").unwrap_err();
    assert!(matches!(
        e,
        TransitionError::AlreadyFinal {
            outcome: Outcome::Issued,
            ..
        }
    ));
    assert!(e.to_string().contains("already closed"), "{e}");

    let e = d.advance("limbo", "grant", "manager").unwrap_err();
    assert!(matches!(e, TransitionError::UnknownStep { .. }));
}

#[test]
fn reasons_are_required_where_asked_and_bounded() {
    let d = get("disability_card");
    let m = d.advance("decision", "refuse", "manager").unwrap();
    assert!(m.reason_required);
    assert_eq!(check_reason(&m, None), Err(ReasonError::Missing));
    assert_eq!(check_reason(&m, Some("   \n")), Err(ReasonError::Missing));
    assert_eq!(
        check_reason(&m, Some("  Taux d'incapacité insuffisant. ")),
        Ok(Some("Taux d'incapacité insuffisant.".into()))
    );
    let long = "ب".repeat(MAX_REASON_CHARS + 1);
    assert_eq!(
        check_reason(&m, Some(&long)),
        Err(ReasonError::TooLong {
            chars: MAX_REASON_CHARS + 1,
            max: MAX_REASON_CHARS
        })
    );
    // Counted in characters, not bytes: 2000 Arabic letters are fine.
    let ok = "ب".repeat(MAX_REASON_CHARS);
    assert!(check_reason(&m, Some(&ok)).is_ok());

    let free = d.advance("decision", "grant", "manager").unwrap();
    assert_eq!(check_reason(&free, None), Ok(None));
}

#[test]
fn a_record_is_stamped_with_actor_role_reason_and_instant() {
    let d = get("complaint");
    let at = datetime!(2026-03-02 10:15 UTC);
    let r = d
        .record(
            "answer_review",
            "send_answer",
            "supervisor",
            "acct-42",
            Some("Votre paiement a été renvoyé le 1er mars."),
            at,
        )
        .unwrap();
    assert_eq!(r.actor, "acct-42");
    assert_eq!(r.role, "supervisor");
    assert_eq!(r.at, at);
    assert_eq!(r.moved.outcome, Some(Outcome::Resolved));
    assert_eq!(
        r.reason.as_deref(),
        Some("Votre paiement a été renvoyé le 1er mars.")
    );

    let e = d
        .record(
            "answer_review",
            "send_answer",
            "supervisor",
            "acct-42",
            None,
            at,
        )
        .unwrap_err();
    assert_eq!(e, TransitionError::Reason(ReasonError::Missing));
    let e = d
        .record("received", "route_to_unit", "agent", "  ", None, at)
        .unwrap_err();
    assert_eq!(e, TransitionError::NoActor);
}

#[test]
fn due_dates_follow_the_step_sla() {
    let d = get("disability_card");
    let entered = datetime!(2026-01-10 08:00 UTC);
    assert_eq!(
        d.due_at(entered, "document_check"),
        Some(entered + Duration::hours(72))
    );
    assert_eq!(d.due_at(entered, "card_issued"), None);
    assert_eq!(d.due_at(entered, "nowhere"), None);
}

#[test]
fn escalation_climbs_after_the_breach() {
    let d = get("disability_card");
    let entered = datetime!(2026-01-10 08:00 UTC);
    let due = entered + Duration::hours(72);
    let to = |now: OffsetDateTime| {
        d.escalation_at(entered, "document_check", now)
            .map(|e| e.to_role.clone())
    };
    assert_eq!(to(due - Duration::seconds(1)), None);
    assert_eq!(to(due).as_deref(), Some("supervisor"));
    assert_eq!(to(due + Duration::hours(71)).as_deref(), Some("supervisor"));
    assert_eq!(to(due + Duration::hours(72)).as_deref(), Some("manager"));
    assert_eq!(to(due + Duration::days(400)).as_deref(), Some("manager"));
    assert!(
        d.escalation_at(entered, "card_issued", due + Duration::days(9))
            .is_none()
    );
}

#[test]
fn complaint_steps_use_the_definition_rules_unless_they_have_their_own() {
    let d = get("complaint");
    let entered = datetime!(2026-01-01 00:00 UTC);
    // `investigation` has no rules of its own: supervisor, then manager a week later.
    let due = d.due_at(entered, "investigation").unwrap();
    let role = |now| {
        d.escalation_at(entered, "investigation", now)
            .map(|e| e.to_role.as_str())
    };
    assert_eq!(role(due), Some("supervisor"));
    assert_eq!(role(due + Duration::days(7)), Some("manager"));
    // `routed` is the supervisor's own step: it goes straight to the manager.
    let due = d.due_at(entered, "routed").unwrap();
    assert_eq!(
        d.escalation_at(entered, "routed", due)
            .map(|e| e.to_role.as_str()),
        Some("manager")
    );
}

#[test]
fn a_closed_complaint_reopens_to_investigation_with_a_reason() {
    let d = get("complaint");
    let m = d.reopen("answered").unwrap();
    assert_eq!(m.to, "investigation");
    assert!(m.reason_required);
    assert!(matches!(
        d.reopen("investigation"),
        Err(TransitionError::NotClosed { .. })
    ));
    let card = get("disability_card");
    assert!(matches!(
        card.reopen("card_issued"),
        Err(TransitionError::NotReopenable { .. })
    ));
}

#[test]
fn remaining_steps_counts_the_shortest_way_to_the_end() {
    let d = get("disability_card");
    assert_eq!(d.remaining_steps("submission"), Some(1)); // withdraw
    assert_eq!(d.remaining_steps("medical_committee"), Some(2));
    assert_eq!(d.remaining_steps("card_issued"), Some(0));
    assert_eq!(d.remaining_steps("nowhere"), None);
}
