//! The rule language as a programme manager meets it: what it accepts, what it refuses and where,
//! and what it does to a hostile rule.

mod common;

use std::collections::BTreeMap;

use common::*;
use sanad_domain::{Asset, Relation, Sex};
use sanad_programmes::{EvalError, Limits, Programme, Rule};
use time::macros::date;

const ON: time::Date = date!(2024 - 06 - 01);

fn refused(expr: &str) -> sanad_programmes::DefinitionError {
    match Rule::compile(expr) {
        Ok(_) => panic!("`{expr}` should be refused"),
        Err(e) => e,
    }
}

#[test]
fn the_rule_language_reads_households_members_and_programme_parameters() {
    let mut facts = family_of_five();
    facts.assets.insert(Asset::Tv);
    let params: BTreeMap<String, f64> =
        [("threshold".to_owned(), 9.3), ("max".to_owned(), 6.0)].into();
    let yes = |e: &str| {
        Rule::compile_with(e, &params, Limits::default())
            .unwrap_or_else(|err| panic!("{e}: {err}"))
            .admits(&facts, Some(9.1), ON)
            .unwrap_or_else(|err| panic!("{e}: {err}"))
    };
    assert!(yes("household.index <= programme.threshold"));
    assert!(yes(
        "household.size == 5 && household.size <= programme.max"
    ));
    assert!(yes("household.area == 'rural' && household.region == '06'"));
    assert!(yes(
        "'tv' in household.assets && !('car' in household.assets)"
    ));
    assert!(yes(
        "size(household.assets) == 1 && household.assets.size() == 1"
    ));
    assert!(yes(
        "household.electricity_spending + household.water_spending == 130.0"
    ));
    assert!(yes("household.electricity_spending / household.size > 17"));
    assert!(yes(
        "members.exists(m, m.age < 6) && members.all(m, m.age < 65)"
    ));
    assert!(yes("size(members.filter(m, m.relation == 'child')) == 3"));
    assert!(yes("members.map(m, m.age).exists(a, a == 41)"));
    assert!(yes("sum(members.map(m, m.age)) == 99"));
    assert!(yes(
        "members.filter(m, m.occupation == 'student').map(m, m.age)[0] == 11"
    ));
    assert!(yes("min(household.size, 3) == 3 && max(1.5, 2) == 2.0"));
    assert!(yes(
        "members.exists(m, m.relation in ['head', 'spouse'] && m.sex == 'F')"
    ));
    assert!(yes(
        "int(household.phone_spending) == 50 && double(household.rooms) == 2.0"
    ));
    assert!(yes("household.scored ? household.index < 10 : false"));
    assert!(yes("7 % 4 == 3 && -household.size == -5"));
    assert!(yes("members.exists_one(m, m.relation == 'head')"));
}

#[test]
fn mistakes_are_refused_with_their_position() {
    let e = refused("household.size > \"a\"");
    assert_eq!((e.line, e.column), (1, 18));
    assert!(
        e.message.contains("cannot compare an int with a string"),
        "{e}"
    );

    let e = refused("household.size > 1 &&\n  household.sise > 2");
    assert_eq!((e.line, e.column), (2, 13));
    assert!(e.message.contains("no field `sise`"), "{e}");

    let e = refused("members.exists(m, m.age > 3");
    assert_eq!(e.line, 1);
    assert!(e.message.to_lowercase().contains("syntax"), "{e}");

    let e = refused("household.size + 1");
    assert!(e.message.contains("true or false"), "{e}");

    let e = refused("members.exists(m, m.relation == 'chlid')");
    assert!(e.message.contains("`chlid` is not a known code"), "{e}");
    assert_eq!(e.column, 33);

    for (expr, what) in [
        ("programme.threshold > 1", "no programme"),
        ("nobody.age > 1", "unknown name"),
        ("household > 1", "is a record"),
        ("members.exists(m, m.height > 1)", "no field `height`"),
        ("members.exists(m, m.age)", "expected a bool"),
        ("household.size == true", "cannot compare"),
        ("'a' + 'b' == 'ab'", "needs numbers"),
        ("household.size in ['a']", "cannot look for"),
        ("frobnicate(1) == 1", "unknown function"),
        ("[] == []", "empty list"),
        ("{'a': 1}.a == 1", "maps"),
        ("null == null", "null"),
        ("members.exists(household, true)", "reserved"),
        (
            "members.map(m, members.map(n, 1)).size() > 0",
            "list of lists",
        ),
        ("1.5 % 2.0 == 1.0", "whole numbers"),
        ("", "empty"),
    ] {
        let e = refused(expr);
        assert!(e.message.contains(what), "`{expr}`: {e}");
        assert!(e.line >= 1, "`{expr}` has a position");
    }
}

#[test]
fn a_programme_names_the_condition_that_does_not_compile() {
    let (_, text) = sanad_programmes::shipped()[1];
    let broken = text.replace(
        "household.index <= programme.threshold",
        "household.index <= programme.treshold",
    );
    let e = Programme::from_toml(&broken).expect_err("a typo in a parameter");
    assert_eq!(e.condition.as_deref(), Some("index-below-threshold"));
    assert_eq!((e.line, e.column), (1, 30));
    assert!(e.message.contains("no parameter `treshold`"), "{e}");
    assert!(
        e.to_string()
            .starts_with("in `index-below-threshold`, line 1, column 30"),
        "{e}"
    );

    let not_bool = text.replace("household.index <= programme.threshold", "household.index");
    let e = Programme::from_toml(&not_bool).expect_err("a condition that is a number");
    assert!(e.message.contains("true or false"), "{e}");

    let untranslated = text.replace(
        "message_key = \"index-above-threshold\"",
        "message_key = \"no-such-message\"",
    );
    let e = Programme::from_toml(&untranslated).expect_err("a message with no translation");
    assert!(e.message.contains("no-such-message"), "{e}");

    let bad_toml = text.replace("unit = \"person\"", "unit = \"family\"");
    let e = Programme::from_toml(&bad_toml).expect_err("an unknown unit");
    assert!(e.line > 1, "{e}");
}

#[test]
fn a_formula_that_is_not_a_number_is_refused() {
    let (_, text) = sanad_programmes::shipped()[3];
    let broken = text.replace(
        "amount = \"programme.per_member\"",
        "amount = \"member.sex\"",
    );
    let e = Programme::from_toml(&broken).expect_err("a string amount");
    assert_eq!(e.condition.as_deref(), Some("benefit.member"));
    assert!(e.message.contains("number of dirhams"), "{e}");
}

#[test]
fn hostile_rules_are_refused_before_they_run() {
    let deep = format!("{}1{} == 1", "(".repeat(200), ")".repeat(200));
    assert!(
        refused(&deep).message.contains("nested")
            || refused(&deep).message.to_lowercase().contains("recursion")
    );

    let chain = format!("{}1 == 1", "1 + ".repeat(500));
    assert!(
        refused(&chain).message.contains("nested"),
        "{}",
        refused(&chain)
    );

    let nots = format!("{}true", "!".repeat(3000));
    let _ = Rule::compile(&nots); // refused or accepted, but never a crash

    let list = format!(
        "household.size in [{}]",
        (0..300)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        refused(&list).message.contains("at most 256"),
        "{}",
        refused(&list)
    );

    let long = format!("household.size == 1{}", " ".repeat(5000));
    assert!(refused(&long).message.contains("bytes long"));

    let nested = "members.exists(a, members.exists(b, members.exists(c, members.exists(d, a.age == d.age))))";
    assert!(
        refused(nested).message.contains("comprehensions nested"),
        "{}",
        refused(nested)
    );
}

#[test]
fn a_rule_that_multiplies_lists_is_cut_off_by_its_budget() {
    let big = household(
        (0..60)
            .map(|i| member(Relation::Child, Sex::Male, (i % 20) as u8))
            .collect(),
    );
    let rule =
        Rule::compile("members.all(a, members.all(b, members.all(c, a.age + b.age + c.age >= 0)))")
            .expect("within the static limits");
    assert_eq!(
        rule.admits(&big, None, ON),
        Err(EvalError::Budget(Limits::default().budget))
    );
    // The same rule on an ordinary household finishes.
    assert_eq!(rule.admits(&family_of_five(), None, ON), Ok(true));

    let blow_up = Rule::compile(
        "size(members.map(m, size(members.filter(n, size(members.map(o, o.age)) > 0)))) > 0",
    )
    .expect("within the static limits");
    assert_eq!(
        blow_up.admits(&big, None, ON),
        Err(EvalError::Budget(Limits::default().budget))
    );

    // A tighter budget given by the caller applies too.
    let tight = Limits {
        budget: 50,
        ..Limits::default()
    };
    let rule = Rule::compile_with("members.all(m, m.age >= 0)", &BTreeMap::new(), tight)
        .expect("compiles");
    assert_eq!(rule.admits(&big, None, ON), Err(EvalError::Budget(50)));
}

#[test]
fn arithmetic_errors_are_errors_not_crashes() {
    let facts = family_of_five();
    let r = Rule::compile("household.size / (household.size - 5) > 1").expect("compiles");
    assert_eq!(r.admits(&facts, None, ON), Err(EvalError::DivisionByZero));
    let r = Rule::compile("9223372036854775807 + household.size > 0").expect("compiles");
    assert_eq!(r.admits(&facts, None, ON), Err(EvalError::Overflow));
    let r = Rule::compile("members.map(m, m.age)[9] > 0").expect("compiles");
    assert_eq!(
        r.admits(&facts, None, ON),
        Err(EvalError::OutOfRange { index: 9, len: 5 })
    );
    let r = Rule::compile("household.index > 9.0").expect("compiles");
    assert_eq!(r.admits(&facts, None, ON), Err(EvalError::NotScored));
}

#[test]
fn counting_in_parallel_matches_counting_one_by_one() {
    let households: Vec<_> = (0..1000)
        .map(|i| {
            let mut members = vec![member(Relation::Head, Sex::Female, 20 + (i % 50) as u8)];
            for c in 0..(i % 4) {
                members.push(member(Relation::Child, Sex::Male, ((i + c) % 18) as u8));
            }
            household(members)
        })
        .collect();
    let indexes: Vec<Option<f64>> = (0..1000)
        .map(|i| (i % 10 != 0).then_some(8.8 + (i % 13) as f64 * 0.1))
        .collect();
    let rule =
        Rule::compile("household.index < 9.3 && members.exists(m, m.age < 6)").expect("compiles");
    let one_by_one = households
        .iter()
        .zip(&indexes)
        .filter(|(h, i)| rule.admits(h, **i, ON) == Ok(true))
        .count();
    assert!(one_by_one > 0 && one_by_one < 1000);
    for threads in [1, 2, 3, 7] {
        assert_eq!(
            rule.count_parallel(&households, &indexes, ON, threads),
            one_by_one
        );
    }
    let tally = rule.tally_parallel(&households, &indexes, ON, 2);
    assert_eq!(tally.errors, 100);
    assert_eq!(tally.admitted + tally.refused + tally.errors, 1000);
}

#[test]
fn a_programme_with_too_many_conditions_is_refused() {
    let (_, text) = sanad_programmes::shipped()[1];
    let mut many = text.to_owned();
    for i in 0..70 {
        many.push_str(&format!(
            "\n[[conditions]]\nname = \"c{i}\"\nexpression = \"household.size > 0\"\nmessage_key = \"index-above-threshold\"\n"
        ));
    }
    let e = Programme::from_toml(&many).expect_err("too many conditions");
    assert!(e.message.contains("at most 64 conditions"), "{e}");
}

#[test]
fn compiled_rules_and_programmes_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Rule>();
    shared::<sanad_programmes::CompiledProgramme>();
    shared::<sanad_programmes::Decision>();
}

#[test]
fn a_manager_defined_programme_brings_its_own_messages() {
    let text = r#"
code = "winter-aid"
version = 1
unit = "household"
frequency = "once"
start = "2026-12-01"
index_threshold = 9.5

[names]
fr = "Aide hivernale"
ar = "إعانة الشتاء"
en = "Winter aid"

[parameters]
amount = 300

[[conditions]]
name = "mountain-rural"
expression = "household.area == 'rural' && household.index <= programme.threshold"
message_key = "winter-aid-not-rural"
messages = { fr = "L'aide hivernale est réservée aux ménages ruraux.", ar = "إعانة الشتاء مخصصة للأسر القروية.", en = "Winter aid is for rural households." }

[benefit]

[[benefit.lines]]
name = "household"
message_key = "winter-aid-line"
messages = { fr = "Aide hivernale", ar = "إعانة الشتاء", en = "Winter aid" }
amount = "programme.amount"
"#;
    let p = Programme::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    let compiled = p.compile().unwrap_or_else(|e| panic!("{e}"));
    let mut urban = family_of_five();
    urban.area = sanad_domain::Area::Urban;
    let d = compiled.decide(&urban, Some(9.0), date!(2026 - 12 - 15));
    let key = d.failed.expect("refused").message_key;
    assert_eq!(
        p.message(&key, sanad_programmes::Lang::En, &[]),
        "Winter aid is for rural households."
    );
    assert_eq!(
        p.message(&key, sanad_programmes::Lang::Ar, &[]),
        "إعانة الشتاء مخصصة للأسر القروية."
    );
    // A shipped key still reads from the shipped translations.
    assert_eq!(
        p.message("index-above-threshold", sanad_programmes::Lang::En, &[]),
        "Your household's index is above the programme's threshold."
    );
    assert_eq!(
        compiled
            .decide(&family_of_five(), Some(9.0), date!(2026 - 12 - 15))
            .amount
            .to_string(),
        "300.00"
    );

    // Without its texts, the same programme is refused: a citizen would read a bare key.
    let bare = text.replace("messages = { fr = \"L'aide hivernale est réservée aux ménages ruraux.\", ar = \"إعانة الشتاء مخصصة للأسر القروية.\", en = \"Winter aid is for rural households.\" }\n", "");
    let e = Programme::from_toml(&bare).expect_err("no translation");
    assert!(e.message.contains("winter-aid-not-rural"), "{e}");
}
