//! The shipped complaints configuration and its checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_workflow::{ComplaintError, ComplaintRules, GrievanceKind};
use time::Duration;
use time::macros::datetime;

const ROLES: [&str; 7] = [
    "citizen",
    "agent",
    "supervisor",
    "manager",
    "auditor",
    "admin",
    "partner",
];

#[test]
fn the_shipped_file_reads() {
    let rules = ComplaintRules::shipped().unwrap();
    assert_eq!(rules.sla_days(GrievanceKind::Complaint), 60);
    assert_eq!(rules.reopen_days(), 30);
    assert!(rules.categories().len() >= 8);
    assert_eq!(rules.category("payment").unwrap().unit, "payments_unit");
}

#[test]
fn defaults_apply_when_the_file_says_nothing() {
    let text = r#"
[[categories]]
id = "other"
title = { ar = "آخر", fr = "Autre", en = "Other" }
unit = "citizen_relations"
"#;
    let rules = ComplaintRules::from_toml(text, &ROLES).unwrap();
    assert_eq!(rules.sla_days(GrievanceKind::Complaint), 60);
    assert_eq!(rules.reopen_days(), 30);
    assert!(rules.escalations().is_empty());
}

#[test]
fn sla_is_configurable_per_kind() {
    let text = r#"
reopen_days = 10
[sla_days]
suggestion = 90
[[categories]]
id = "other"
title = { ar = "آخر", fr = "Autre", en = "Other" }
unit = "citizen_relations"
"#;
    let rules = ComplaintRules::from_toml(text, &ROLES).unwrap();
    assert_eq!(rules.sla_days(GrievanceKind::Suggestion), 90);
    assert_eq!(rules.sla_days(GrievanceKind::Complaint), 60);
    let received = datetime!(2026-02-01 09:00 UTC);
    assert_eq!(
        rules.due_at(GrievanceKind::Suggestion, received),
        Some(received + Duration::days(90))
    );
}

#[test]
fn routing_sends_to_the_unit_with_a_deadline() {
    let rules = ComplaintRules::shipped().unwrap();
    let received = datetime!(2026-02-01 09:00 UTC);
    let r = rules
        .route(GrievanceKind::Complaint, "against_agent", received)
        .unwrap();
    assert_eq!(r.unit, "inspection_unit");
    assert_eq!(r.due_at, Some(received + Duration::days(60)));
    assert_eq!(r.restricted_to, ["supervisor", "auditor"]);
    assert_eq!(
        rules.route(GrievanceKind::Complaint, "weather", received),
        Err(ComplaintError::UnknownCategory("weather".into()))
    );
}

#[test]
fn restricted_categories_are_visible_only_to_their_roles() {
    let rules = ComplaintRules::shipped().unwrap();
    assert!(rules.visible_to("against_agent", "supervisor"));
    assert!(rules.visible_to("against_agent", "auditor"));
    assert!(!rules.visible_to("against_agent", "agent"));
    assert!(!rules.visible_to("against_agent", "manager"));
    assert!(rules.visible_to("payment", "agent"));
    assert!(!rules.visible_to("no_such_category", "admin"));
}

#[test]
fn escalation_after_the_deadline() {
    let rules = ComplaintRules::shipped().unwrap();
    let received = datetime!(2026-01-01 00:00 UTC);
    let due = received + Duration::days(60);
    let to = |now| {
        rules
            .escalation_at(GrievanceKind::Complaint, received, now)
            .map(|e| e.to_role.as_str())
    };
    assert_eq!(to(due - Duration::minutes(1)), None);
    assert_eq!(to(due), Some("supervisor"));
    assert_eq!(to(due + Duration::days(15)), Some("manager"));
}

#[test]
fn reopen_window() {
    let rules = ComplaintRules::shipped().unwrap();
    let closed = datetime!(2026-03-01 12:00 UTC);
    assert!(rules.can_reopen(closed, closed));
    assert!(rules.can_reopen(closed, closed + Duration::days(30)));
    assert!(!rules.can_reopen(closed, closed + Duration::days(30) + Duration::seconds(1)));
    assert!(!rules.can_reopen(closed, closed - Duration::seconds(1)));
}

#[test]
fn bad_files_are_refused_with_the_place_named() {
    let cat = r#"
[[categories]]
id = "other"
title = { ar = "آخر", fr = "Autre", en = "Other" }
unit = "citizen_relations"
"#;
    let check = |text: &str, needle: &str| {
        let e = ComplaintRules::from_toml(text, &ROLES).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    };
    check(&format!("reopen_days = 0\n{cat}"), "`reopen_days`");
    check(
        &format!("[sla_days]\ncomplaint = 0\n{cat}"),
        "field `complaint`",
    );
    check(&format!("[sla_days]\ncomplaints = 5\n{cat}"), "line 2");
    check("", "at least one category");
    check(
        &cat.replace(
            "unit = \"citizen_relations\"",
            "unit = \"x\"\nrestricted_to = [\"boss\"]",
        ),
        "unknown role `boss`",
    );
    check(&cat.replace("fr = \"Autre\", ", ""), "title.fr");
    check(&format!("{cat}{cat}"), "more than once");
    check(
        &format!("escalations = [{{ after_days = 1, to_role = \"chief\" }}]\n{cat}"),
        "unknown role `chief`",
    );
}
