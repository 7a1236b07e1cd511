//! Reading definitions: the shipped files, and every way a file is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_workflow::{
    Definition, DefinitionError, Lang, Outcome, Problem, shipped, shipped_sources,
};

const ROLES: [&str; 7] = [
    "citizen",
    "agent",
    "supervisor",
    "manager",
    "auditor",
    "admin",
    "partner",
];

const BASE: &str = r#"
kind = "test_kind"
version = 1
initial = "start"
title = { ar = "طلب", fr = "Demande", en = "Request" }

[[steps]]
id = "start"
title = { ar = "بداية", fr = "Début", en = "Start" }
role = "citizen"
sla_hours = 24
transitions = [{ action = "go", to = "check" }]

[[steps]]
id = "check"
title = { ar = "تحقق", fr = "Contrôle", en = "Check" }
role = "agent"
sla_hours = 48
documents = ["doc-national-id"]
transitions = [
  { action = "accept", to = "done" },
  { action = "refuse", to = "refused", reason_required = true },
]

[[steps]]
id = "done"
title = { ar = "مقبول", fr = "Accepté", en = "Accepted" }
role = "agent"
outcome = "approved"

[[steps]]
id = "refused"
title = { ar = "مرفوض", fr = "Refusé", en = "Refused" }
role = "agent"
outcome = "rejected"
"#;

fn read(text: &str) -> Result<Definition, DefinitionError> {
    Definition::from_toml(text, &ROLES)
}

/// Replaces `from` (which must be in BASE) and reads the result, which must be refused.
fn refused(from: &str, to: &str) -> DefinitionError {
    assert!(
        BASE.contains(from),
        "the test's snippet is not in BASE: {from}"
    );
    match read(&BASE.replacen(from, to, 1)) {
        Ok(_) => panic!("expected a refusal after replacing {from:?} with {to:?}"),
        Err(e) => e,
    }
}

/// The error is at `step` and `field`, and its message names both and the definition.
fn at(e: &DefinitionError, step: Option<&str>, field: &str) {
    assert_eq!(e.step(), step, "{e}");
    assert_eq!(e.field(), Some(field), "{e}");
    let text = e.to_string();
    assert!(text.contains("definition `test_kind`"), "{text}");
    if let Some(step) = step {
        assert!(text.contains(&format!("step `{step}`")), "{text}");
    }
    assert!(text.contains(&format!("field `{field}`")), "{text}");
}

#[test]
fn the_base_reads() {
    let d = read(BASE).unwrap();
    assert_eq!(d.kind(), "test_kind");
    assert_eq!(d.initial().id, "start");
    assert_eq!(d.steps().len(), 4);
    assert_eq!(d.title().get(Lang::Fr), "Demande");
}

#[test]
fn every_shipped_definition_reads() {
    for (kind, text) in shipped_sources() {
        let d = read(text).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(d.kind(), kind);
        for step in d.steps() {
            for lang in Lang::ALL {
                assert!(!step.title.get(lang).is_empty());
            }
        }
    }
    let kinds: Vec<String> = shipped().iter().map(|d| d.kind().to_owned()).collect();
    assert_eq!(
        kinds,
        [
            "programme_application",
            "household_change",
            "disability_card",
            "registration_attestation",
            "complaint"
        ]
    );
}

#[test]
fn shipped_finals_carry_what_the_app_needs() {
    let all = shipped();
    let get = |k: &str| all.iter().find(|d| d.kind() == k).unwrap();
    let card = get("disability_card").step("card_issued").unwrap();
    assert_eq!(card.outcome, Some(Outcome::Issued));
    assert_eq!(card.issues.as_deref(), Some("disability_card"));
    let att = get("registration_attestation").step("issued").unwrap();
    assert_eq!(att.issues.as_deref(), Some("registration_attestation"));
    assert!(
        get("programme_application")
            .step("approved")
            .unwrap()
            .enrols
    );
    // The complaint's step SLAs add up to the 60 days of the law.
    let total: u32 = get("complaint")
        .steps()
        .iter()
        .filter_map(|s| s.sla_hours)
        .sum();
    assert_eq!(total, 60 * 24);
    assert_eq!(get("complaint").reopen_to(), Some("investigation"));
}

#[test]
fn a_typo_in_a_field_name_is_a_syntax_error_with_a_position() {
    let e = refused("sla_hours = 48", "sla_hour = 48");
    match &e {
        DefinitionError::Syntax {
            line,
            column,
            message,
        } => {
            assert_eq!(*line, 18, "{e}");
            assert_eq!(*column, 1, "{e}");
            assert!(message.contains("sla_hour"), "{message}");
        }
        other => panic!("expected a syntax error, got {other}"),
    }
    assert!(e.to_string().starts_with("line 18, column 1:"), "{e}");
}

#[test]
fn not_toml_is_a_syntax_error() {
    let e = read("kind = ").unwrap_err();
    assert!(matches!(e, DefinitionError::Syntax { line: 1, .. }), "{e}");
}

#[test]
fn bad_kind_id() {
    let e = refused(r#"kind = "test_kind""#, r#"kind = "Test-Kind""#);
    assert!(matches!(e.problem(), Some(Problem::BadId { .. })), "{e}");
    assert_eq!(e.field(), Some("kind"));
    assert!(e.to_string().contains("lower-case"), "{e}");
}

#[test]
fn version_zero() {
    let e = refused("version = 1", "version = 0");
    at(&e, None, "version");
    assert_eq!(e.problem(), Some(&Problem::VersionZero));
}

#[test]
fn missing_title_language_of_the_definition() {
    let e = refused(
        r#"title = { ar = "طلب", fr = "Demande", en = "Request" }"#,
        r#"title = { ar = "طلب", fr = "Demande" }"#,
    );
    at(&e, None, "title.en");
    assert_eq!(e.problem(), Some(&Problem::MissingTitle { lang: Lang::En }));
}

#[test]
fn missing_or_blank_title_language_of_a_step() {
    let e = refused(
        r#"title = { ar = "تحقق", fr = "Contrôle", en = "Check" }"#,
        r#"title = { ar = "تحقق", en = "Check" }"#,
    );
    at(&e, Some("check"), "title.fr");
    let e = refused(
        r#"title = { ar = "تحقق", fr = "Contrôle", en = "Check" }"#,
        r#"title = { ar = "  ", fr = "Contrôle", en = "Check" }"#,
    );
    at(&e, Some("check"), "title.ar");
    assert!(e.to_string().contains("ar, fr and en"), "{e}");
}

#[test]
fn duplicate_step_ids() {
    let e = refused(r#"id = "refused""#, r#"id = "done""#);
    at(&e, Some("done"), "id");
    assert_eq!(
        e.problem(),
        Some(&Problem::DuplicateStep {
            id: "done".to_owned()
        })
    );
}

#[test]
fn unknown_initial_step() {
    let e = refused(r#"initial = "start""#, r#"initial = "begin""#);
    at(&e, None, "initial");
    assert!(e.to_string().contains("`begin`"), "{e}");
    assert!(e.to_string().contains("`start`, `check`"), "{e}");
}

#[test]
fn unknown_step_in_to() {
    let e = refused(r#"to = "done""#, r#"to = "finished""#);
    at(&e, Some("check"), "transitions[accept].to");
    assert!(matches!(e.problem(), Some(Problem::UnknownStep { name, .. }) if name == "finished"));
}

#[test]
fn unknown_role_of_a_step() {
    let e = refused(r#"role = "agent""#, r#"role = "clerk""#);
    at(&e, Some("check"), "role");
    assert!(e.to_string().contains("unknown role `clerk`"), "{e}");
    assert!(e.to_string().contains("`supervisor`"), "{e}");
}

#[test]
fn unknown_role_of_a_transition_and_of_an_escalation() {
    let e = refused(
        r#"{ action = "accept", to = "done" }"#,
        r#"{ action = "accept", to = "done", role = "boss" }"#,
    );
    at(&e, Some("check"), "transitions[accept].role");
    let e = refused(
        "sla_hours = 48\n",
        "sla_hours = 48\nescalations = [{ after_hours = 0, to_role = \"chief\" }]\n",
    );
    at(&e, Some("check"), "escalations.to_role");
    let e = refused(
        "initial = \"start\"\n",
        "initial = \"start\"\nescalations = [{ after_hours = 0, to_role = \"chief\" }]\n",
    );
    at(&e, None, "escalations.to_role");
}

#[test]
fn duplicate_escalation_delays() {
    let e = refused(
        "sla_hours = 48\n",
        "sla_hours = 48\nescalations = [{ after_hours = 5, to_role = \"manager\" }, { after_hours = 5, to_role = \"supervisor\" }]\n",
    );
    at(&e, Some("check"), "escalations.after_hours");
}

#[test]
fn unreachable_step() {
    let e = refused(
        r#"{ action = "refuse", to = "refused", reason_required = true },"#,
        "",
    );
    at(&e, Some("refused"), "id");
    assert!(matches!(e.problem(), Some(Problem::Unreachable { .. })));
    assert!(e.to_string().contains("cannot be reached"), "{e}");
}

#[test]
fn step_without_a_way_out() {
    let e = refused(r#"transitions = [{ action = "go", to = "check" }]"#, "");
    at(&e, Some("start"), "transitions");
    assert_eq!(e.problem(), Some(&Problem::NoWayOut));
    assert!(e.to_string().contains("no way out"), "{e}");
}

#[test]
fn a_loop_with_no_exit_is_a_trap() {
    // check → loop_a → loop_b → loop_a, never to a final step.
    let text = BASE.replacen(
        r#"{ action = "accept", to = "done" },"#,
        r#"{ action = "accept", to = "done" },
  { action = "park", to = "loop_a" },"#,
        1,
    ) + r#"
[[steps]]
id = "loop_a"
title = { ar = "أ", fr = "A", en = "A" }
role = "agent"
sla_hours = 1
transitions = [{ action = "on", to = "loop_b" }]

[[steps]]
id = "loop_b"
title = { ar = "ب", fr = "B", en = "B" }
role = "agent"
sla_hours = 1
transitions = [{ action = "back", to = "loop_a" }]
"#;
    let e = read(&text).unwrap_err();
    at(&e, Some("loop_a"), "transitions");
    assert_eq!(e.problem(), Some(&Problem::NoFinalReachable));
    assert!(
        e.to_string().contains("no final step can be reached"),
        "{e}"
    );
}

#[test]
fn final_step_with_transitions() {
    let e = refused(
        "outcome = \"approved\"\n",
        "outcome = \"approved\"\ntransitions = [{ action = \"again\", to = \"start\" }]\n",
    );
    at(&e, Some("done"), "transitions");
    assert_eq!(e.problem(), Some(&Problem::FinalWithTransitions));
}

#[test]
fn sla_zero_missing_and_on_a_final_step() {
    let e = refused("sla_hours = 48", "sla_hours = 0");
    at(&e, Some("check"), "sla_hours");
    assert_eq!(e.problem(), Some(&Problem::SlaZero));
    assert!(e.to_string().contains("above 0"), "{e}");

    let e = refused("sla_hours = 48\n", "");
    at(&e, Some("check"), "sla_hours");
    assert_eq!(e.problem(), Some(&Problem::SlaMissing));

    let e = refused(
        "outcome = \"approved\"\n",
        "outcome = \"approved\"\nsla_hours = 5\n",
    );
    at(&e, Some("done"), "sla_hours");
    assert_eq!(e.problem(), Some(&Problem::SlaOnFinal));
}

#[test]
fn duplicate_action_on_one_step() {
    let e = refused(
        r#"{ action = "refuse", to = "refused", reason_required = true },"#,
        r#"{ action = "accept", to = "refused", reason_required = true },"#,
    );
    at(&e, Some("check"), "transitions[accept].action");
    assert_eq!(
        e.problem(),
        Some(&Problem::DuplicateAction {
            action: "accept".to_owned()
        })
    );
}

#[test]
fn bad_step_and_action_ids() {
    let e = refused(r#"id = "check""#, r#"id = "Check Step""#);
    assert!(matches!(e.problem(), Some(Problem::BadId { .. })), "{e}");
    assert_eq!(e.field(), Some("id"));
    let e = refused(r#"action = "go""#, r#"action = "Go!""#);
    at(&e, Some("start"), "transitions.action");
}

#[test]
fn documents_keys_are_checked() {
    let e = refused(
        r#"documents = ["doc-national-id"]"#,
        r#"documents = ["Doc ID"]"#,
    );
    at(&e, Some("check"), "documents");
    let e = refused(
        r#"documents = ["doc-national-id"]"#,
        r#"documents = ["doc-a", "doc-a"]"#,
    );
    at(&e, Some("check"), "documents");
}

#[test]
fn issues_and_enrols_only_where_they_mean_something() {
    let e = refused("sla_hours = 48\n", "sla_hours = 48\nissues = \"card\"\n");
    at(&e, Some("check"), "issues");
    assert_eq!(e.problem(), Some(&Problem::OnlyOnFinal));
    let e = refused("sla_hours = 48\n", "sla_hours = 48\nenrols = true\n");
    at(&e, Some("check"), "enrols");
    let e = refused(
        "outcome = \"rejected\"\n",
        "outcome = \"rejected\"\nenrols = true\n",
    );
    at(&e, Some("refused"), "enrols");
    assert!(e.to_string().contains("approved"), "{e}");
}

#[test]
fn escalation_on_a_final_step() {
    let e = refused(
        "outcome = \"approved\"\n",
        "outcome = \"approved\"\nescalations = [{ after_hours = 1, to_role = \"manager\" }]\n",
    );
    at(&e, Some("done"), "escalations");
    assert_eq!(e.problem(), Some(&Problem::EscalationOnFinal));
}

#[test]
fn reopen_to_must_be_an_open_step() {
    let e = refused(
        "initial = \"start\"\n",
        "initial = \"start\"\nreopen_to = \"nowhere\"\n",
    );
    at(&e, None, "reopen_to");
    let e = refused(
        "initial = \"start\"\n",
        "initial = \"start\"\nreopen_to = \"done\"\n",
    );
    at(&e, Some("done"), "reopen_to");
}

#[test]
fn unknown_outcome_is_a_syntax_error() {
    let e = refused(r#"outcome = "approved""#, r#"outcome = "accepted""#);
    assert!(matches!(e, DefinitionError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("accepted"), "{e}");
}

#[test]
fn no_steps() {
    let text = r#"
kind = "empty"
version = 1
initial = "start"
title = { ar = "ط", fr = "D", en = "R" }
"#;
    let e = read(text).unwrap_err();
    assert_eq!(e.problem(), Some(&Problem::NoSteps));
}
