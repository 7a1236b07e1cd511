//! Stories of households meeting the shipped programmes, as a citizen and an agent see them.

mod common;

use common::*;
use sanad_domain::{Disability, Occupation, Relation, Sex};
use sanad_programmes::enrolment::{self, State};
use sanad_programmes::{Lang, Programme, message, shipped};
use time::macros::date;

#[test]
fn a_family_of_five_below_the_threshold_receives_the_family_allowance() {
    let asd = shipped_programme("asd-family.toml");
    let family = family_of_five();

    // 2024: three children of rank 1 to 3, all under six or at school: 3 × 200.
    let d = asd.decide(&family, Some(9.1), date!(2024 - 06 - 01));
    assert!(d.eligible, "{:?}", d.failed);
    assert_eq!(d.amount.to_string(), "600.00");
    let ranks: Vec<(Option<usize>, Option<u32>, String)> = d
        .lines
        .iter()
        .map(|l| (l.member, l.rank, l.amount.to_string()))
        .collect();
    assert_eq!(
        ranks,
        vec![
            (Some(2), Some(1), "200.00".into()),
            (Some(3), Some(2), "200.00".into()),
            (Some(4), Some(3), "200.00".into()),
        ]
    );

    // The 2025 and 2026 increases come from the file's schedule, not a release. The first was
    // paid from the end of November 2025: March 2025 is still at 200 a child.
    assert_eq!(
        asd.decide(&family, Some(9.1), date!(2025 - 03 - 01))
            .amount
            .to_string(),
        "600.00"
    );
    assert_eq!(
        asd.decide(&family, Some(9.1), date!(2025 - 11 - 01))
            .amount
            .to_string(),
        "750.00"
    );
    assert_eq!(
        asd.decide(&family, Some(9.1), date!(2026 - 03 - 01))
            .amount
            .to_string(),
        "900.00"
    );
}

#[test]
fn the_same_family_above_the_threshold_is_refused_in_its_language() {
    let asd = shipped_programme("asd-family.toml");
    // The ASD threshold is 9.743001 (decree 2-23-1068).
    assert!(
        asd.decide(&family_of_five(), Some(9.743), date!(2024 - 06 - 01))
            .eligible
    );
    let d = asd.decide(&family_of_five(), Some(9.8), date!(2024 - 06 - 01));
    assert!(!d.eligible);
    assert_eq!(d.amount.centimes(), 0);
    assert!(d.lines.is_empty());
    let failed = d.failed.expect("a refusal names its condition");
    assert_eq!(failed.condition, "index-below-threshold");
    assert_eq!(
        message(&failed.message_key, Lang::En, &[]),
        "Your household's index is above the programme's threshold."
    );
    assert_eq!(
        message(&failed.message_key, Lang::Fr, &[]),
        "L'indice de votre ménage est au-dessus du seuil du programme."
    );
    assert_eq!(
        message(&failed.message_key, Lang::Ar, &[]),
        "مؤشر أسرتكم أعلى من عتبة البرنامج."
    );
}

#[test]
fn a_household_not_yet_scored_is_told_so() {
    let asd = shipped_programme("asd-family.toml");
    let d = asd.decide(&family_of_five(), None, date!(2024 - 06 - 01));
    assert!(!d.eligible);
    let failed = d.failed.expect("refused");
    assert_eq!(failed.message_key, "household-not-scored");
    assert!(failed.error.is_some());
}

#[test]
fn a_small_allowance_is_topped_up_to_the_floor() {
    let asd = shipped_programme("asd-family.toml");
    let one_child = household(vec![
        member(Relation::Head, Sex::Female, 30),
        member(Relation::Child, Sex::Male, 14),
    ]);
    let d = asd.decide(&one_child, Some(9.0), date!(2024 - 01 - 15));
    assert!(d.eligible);
    assert_eq!(d.amount.to_string(), "500.00");
    assert_eq!(d.lines.len(), 2);
    assert_eq!(d.lines[1].name, "floor");
    assert_eq!(d.lines[1].amount.to_string(), "300.00");
}

#[test]
fn older_people_without_children_get_the_household_allowance_others_do_not() {
    let asd = shipped_programme("asd-family.toml");
    let elders = household(vec![
        member(Relation::Head, Sex::Male, 72),
        member(Relation::Spouse, Sex::Female, 64),
    ]);
    let d = asd.decide(&elders, Some(9.0), date!(2024 - 01 - 15));
    assert!(d.eligible);
    assert_eq!(d.amount.to_string(), "500.00");
    assert_eq!(d.lines[0].name, "elderly");

    let couple = household(vec![
        member(Relation::Head, Sex::Male, 45),
        member(Relation::Spouse, Sex::Female, 64),
    ]);
    let d = asd.decide(&couple, Some(9.0), date!(2024 - 01 - 15));
    assert_eq!(
        d.failed.map(|f| f.message_key),
        Some("asd-no-child-no-elderly".into())
    );
}

#[test]
fn children_past_the_third_and_out_of_school_get_less_and_the_seventh_nothing() {
    let asd = shipped_programme("asd-family.toml");
    let mut members = vec![member(Relation::Head, Sex::Male, 50)];
    for age in [19, 17, 15, 13, 11, 9, 7] {
        members.push(member(Relation::Child, Sex::Female, age));
    }
    // The eldest (19, rank 1) left school: 150 instead of 200 in 2024.
    members[1].occupation = Occupation::Unemployed;
    let d = asd.decide(&household(members), Some(9.0), date!(2024 - 05 - 01));
    assert!(d.eligible);
    let amounts: Vec<String> = d.lines.iter().map(|l| l.amount.to_string()).collect();
    assert_eq!(
        amounts,
        ["150.00", "200.00", "200.00", "36.00", "36.00", "36.00"]
    );
    assert_eq!(d.amount.to_string(), "658.00");
}

#[test]
fn amo_tadamon_covers_every_member_and_pays_nothing() {
    let amo = shipped_programme("amo-tadamon.toml");
    let d = amo.decide(&family_of_five(), Some(9.2), date!(2024 - 06 - 01));
    assert!(d.eligible);
    assert_eq!(d.beneficiaries, vec![0, 1, 2, 3, 4]);
    assert_eq!(d.amount.centimes(), 0);
    // The threshold is 9.3264284, not 9.32: a household at 9.325 is covered.
    assert!(
        amo.decide(&family_of_five(), Some(9.325), date!(2024 - 06 - 01))
            .eligible
    );
    assert!(
        amo.decide(&family_of_five(), Some(9.4), date!(2024 - 06 - 01))
            .beneficiaries
            .is_empty()
    );
}

#[test]
fn school_support_pays_per_pupil_and_flags_a_drop_out() {
    let school = shipped_programme("school-support.toml");
    let family = family_of_five();
    let d = school.decide(&family, Some(9.0), date!(2024 - 10 - 01));
    assert!(d.eligible, "{:?}", d.failed);
    // 11 years old in primary (100) and 8 years old (80).
    assert_eq!(d.amount.to_string(), "180.00");
    assert!(d.flags.is_empty());

    let mut left = family.clone();
    left.members[2].occupation = Occupation::Homemaker;
    let d = school.decide(&left, Some(9.0), date!(2024 - 10 - 01));
    assert!(!d.eligible);
    assert_eq!(
        d.failed.as_ref().map(|f| f.condition.as_str()),
        Some("all-at-school")
    );
    assert_eq!(d.flags.len(), 1);
    assert_eq!(d.flags[0].name, "drop_out");
    assert_eq!(d.flags[0].member, Some(2));
    assert_eq!(
        message(&d.flags[0].message_key, Lang::Fr, &[]),
        "Un enfant d'âge scolaire a quitté l'école."
    );

    let no_child = household(vec![member(Relation::Head, Sex::Male, 30)]);
    let d = school.decide(&no_child, Some(9.0), date!(2024 - 10 - 01));
    assert_eq!(
        message(&d.failed.expect("refused").message_key, Lang::En, &[]),
        "No child of school age in the household."
    );
}

#[test]
fn the_disability_allowance_is_per_member_with_a_disability() {
    let disability = shipped_programme("disability-allowance.toml");
    let mut family = family_of_five();
    assert!(
        !disability
            .decide(&family, Some(9.0), date!(2024 - 06 - 01))
            .eligible
    );
    family.members[1].disability = Disability::Visual;
    family.members[4].disability = Disability::Physical;
    let d = disability.decide(&family, Some(9.0), date!(2024 - 06 - 01));
    assert!(d.eligible);
    assert_eq!(d.beneficiaries, vec![1, 4]);
    assert_eq!(d.amount.to_string(), "600.00");
    assert_eq!(
        disability
            .decide(&family, Some(9.0), date!(2026 - 02 - 01))
            .amount
            .to_string(),
        "800.00"
    );
}

#[test]
fn a_programme_is_closed_before_it_starts() {
    let school = shipped_programme("school-support.toml");
    let d = school.decide(&family_of_five(), Some(9.0), date!(2023 - 01 - 01));
    assert_eq!(
        d.failed.map(|f| f.message_key),
        Some("programme-not-active".into())
    );
}

#[test]
fn every_message_a_shipped_programme_names_is_translated() {
    for (file, text) in shipped() {
        let p = Programme::from_toml(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!p.sources.is_empty(), "{file} names no source");
        for key in p.message_keys() {
            for lang in Lang::ALL {
                assert!(
                    sanad_programmes::has_message(key, lang),
                    "{file}: {key} has no {}",
                    lang.code()
                );
            }
        }
        for key in [
            "household-not-scored",
            "programme-not-active",
            "rule-evaluation-error",
            "benefit-line-floor",
        ] {
            for lang in Lang::ALL {
                assert!(
                    sanad_programmes::has_message(key, lang),
                    "{key} has no {}",
                    lang.code()
                );
            }
        }
    }
}

#[test]
fn a_programme_file_round_trips_through_toml_and_json() {
    for (file, text) in shipped() {
        let p = Programme::from_toml(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let again = Programme::from_toml(&p.to_toml())
            .unwrap_or_else(|e| panic!("{file} re-read: {e}\n{}", p.to_toml()));
        assert_eq!(again, p, "{file}");
        let json =
            Programme::from_json(&p.to_json()).unwrap_or_else(|e| panic!("{file} json: {e}"));
        assert_eq!(json, p, "{file}");
    }
}

#[test]
fn a_family_whose_income_rises_leaves_with_the_reason() {
    let asd = shipped_programme("asd-family.toml");
    let family = family_of_five();
    let mut state = None;
    let first = asd.decide(&family, Some(9.1), date!(2024 - 06 - 01));
    let t = enrolment::after_decision(state, &first).expect("a new eligible household");
    assert_eq!(t.to, State::Eligible);
    state = Some(
        enrolment::act(t.to, enrolment::Action::Enrol)
            .expect("a manager enrols")
            .to,
    );

    let later = asd.decide(&family, Some(9.8), date!(2024 - 09 - 01));
    let t = enrolment::after_decision(state, &later).expect("the household leaves");
    assert_eq!(t.to, State::Exited);
    assert_eq!(t.reason, "index-above-threshold");
    assert_eq!(
        message(&t.reason, Lang::Ar, &[]),
        "مؤشر أسرتكم أعلى من عتبة البرنامج."
    );
}

#[test]
fn a_decision_reads_as_json_for_the_api() {
    let asd = shipped_programme("asd-family.toml");
    let d = asd.decide(&family_of_five(), Some(9.1), date!(2024 - 06 - 01));
    let json = serde_json::to_value(&d).expect("serialises");
    assert_eq!(json["eligible"], true);
    assert_eq!(json["amount"], "600.00");
    assert_eq!(json["lines"][0]["rank"], 1);
    let refused = asd.decide(&family_of_five(), None, date!(2024 - 06 - 01));
    let json = serde_json::to_value(&refused).expect("serialises");
    assert_eq!(json["failed"]["message_key"], "household-not-scored");
    assert_eq!(json["failed"]["error"], "the household has no index yet");
    let t = enrolment::next(None, true).expect("eligible");
    assert_eq!(
        serde_json::to_value(&t).expect("serialises")["to"],
        "eligible"
    );
}
