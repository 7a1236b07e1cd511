//! Properties of the rule language and the formulas, over generated households and texts.

mod common;

use common::*;
use proptest::prelude::*;
use sanad_domain::{Disability, MemberFacts, Occupation, Relation, Schooling, Sex};
use sanad_programmes::{Programme, Rule};
use time::macros::date;

fn member_facts() -> impl Strategy<Value = MemberFacts> {
    (
        proptest::sample::select(Relation::ALL.to_vec()),
        proptest::sample::select(Sex::ALL.to_vec()),
        0u8..95,
        proptest::sample::select(Disability::ALL.to_vec()),
        proptest::sample::select(Schooling::ALL.to_vec()),
        proptest::sample::select(Occupation::ALL.to_vec()),
    )
        .prop_map(
            |(relation, sex, age, disability, schooling, occupation)| MemberFacts {
                person_id: None,
                relation,
                sex,
                age,
                disability,
                schooling,
                occupation,
            },
        )
}

fn members() -> impl Strategy<Value = Vec<MemberFacts>> {
    proptest::collection::vec(member_facts(), 1..10)
}

fn index() -> impl Strategy<Value = Option<f64>> {
    proptest::option::weighted(0.9, 8.6f64..10.0)
}

fn day() -> impl Strategy<Value = time::Date> {
    proptest::sample::select(vec![
        date!(2023 - 06 - 01),
        date!(2024 - 03 - 01),
        date!(2024 - 11 - 01),
        date!(2025 - 06 - 01),
        date!(2026 - 02 - 01),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text given as a rule is refused or accepted; nothing panics.
    #[test]
    fn compiling_any_text_never_panics(text in any::<String>()) {
        let _ = Rule::compile(&text);
    }

    /// Texts close to the language reach the checker, not just the lexer.
    #[test]
    fn compiling_rule_like_text_never_panics(
        text in r"(household|members|m|programme|\.|size|age|index|exists|all|map|filter|\(|\)|,| |&&|\|\||!|<|>=|==|\+|\*|/|-|%|\?|:|\[|\]|'child'|1|2\.5|in|true)*"
    ) {
        if let Ok(rule) = Rule::compile(&text) {
            // Whatever compiles runs to a result or a bounded error, never a type confusion.
            for index in [Some(9.0), None] {
                let result = rule.admits(&family_of_five(), index, date!(2024 - 01 - 01));
                prop_assert_ne!(result, Err(sanad_programmes::EvalError::Internal), "`{}`", text);
            }
        }
    }

    /// A programme file of any text is refused or read; nothing panics.
    #[test]
    fn reading_any_programme_file_never_panics(text in any::<String>()) {
        let _ = Programme::from_toml(&text);
        let _ = Programme::from_json(&text);
    }

    /// Reordering the members changes no decision: not eligibility, the amount, the failed
    /// condition, nor who benefits or is flagged.
    #[test]
    fn decisions_do_not_depend_on_member_order(
        (members, shuffled) in members().prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle())),
        index in index(),
        on in day(),
    ) {
        let a = household(members);
        let b = household(shuffled);
        for p in all_shipped() {
            let x = p.decide(&a, index, on);
            let y = p.decide(&b, index, on);
            prop_assert_eq!(x.eligible, y.eligible, "{}", p.code());
            prop_assert_eq!(x.amount, y.amount, "{}", p.code());
            prop_assert_eq!(&x.failed, &y.failed, "{}", p.code());
            let who = |d: &sanad_programmes::Decision, h: &sanad_domain::HouseholdFacts| {
                let mut v: Vec<String> = d.beneficiaries.iter().map(|i| format!("{:?}", h.members[*i])).collect();
                v.extend(d.flags.iter().map(|f| format!("{} {:?}", f.name, f.member.map(|i| &h.members[i]))));
                v.extend(d.lines.iter().map(|l| format!("{} {} {:?}", l.name, l.amount, l.member.map(|i| &h.members[i]))));
                v.sort();
                v
            };
            prop_assert_eq!(who(&x, &a), who(&y, &b), "{}", p.code());
        }
    }

    /// The lines of a decision add up to its amount, to the centime; an ineligible household
    /// gets nothing; an eligible ASD household never gets less than the floor.
    #[test]
    fn lines_sum_to_the_amount_and_the_floor_holds(members in members(), index in index(), on in day()) {
        let facts = household(members);
        for p in all_shipped() {
            let d = p.decide(&facts, index, on);
            let sum: i64 = d.lines.iter().map(|l| l.amount.centimes()).sum();
            prop_assert_eq!(sum, d.amount.centimes(), "{}", p.code());
            if !d.eligible {
                prop_assert_eq!(d.amount.centimes(), 0);
                prop_assert!(d.failed.is_some());
            }
            if p.code() == "asd-family" && d.eligible {
                prop_assert!(d.amount.centimes() >= 50_000, "{} below the floor", d.amount);
            }
        }
    }

    /// `exists` and `all` agree with a direct count over the members.
    #[test]
    fn macros_agree_with_a_direct_count(members in members(), age in 0i64..95) {
        let facts = household(members);
        let on = date!(2024 - 01 - 01);
        let n = facts.members.iter().filter(|m| i64::from(m.age) < age).count();
        let exists = Rule::compile(&format!("members.exists(m, m.age < {age})")).unwrap();
        let all = Rule::compile(&format!("members.all(m, m.age < {age})")).unwrap();
        let count = Rule::compile(&format!("size(members.filter(m, m.age < {age})) == {n}")).unwrap();
        let one = Rule::compile(&format!("members.exists_one(m, m.age < {age})")).unwrap();
        let summed = Rule::compile(&format!("sum(members.filter(m, m.age < {age}).map(m, 1)) == {n}")).unwrap();
        prop_assert_eq!(exists.admits(&facts, None, on), Ok(n > 0));
        prop_assert_eq!(all.admits(&facts, None, on), Ok(n == facts.members.len()));
        prop_assert_eq!(count.admits(&facts, None, on), Ok(true));
        prop_assert_eq!(one.admits(&facts, None, on), Ok(n == 1));
        prop_assert_eq!(summed.admits(&facts, None, on), Ok(true));
    }
}
