//! Our evaluator against the `cel` crate's own interpreter: random conditions over random
//! households must give the same answer in both. Our checker is stricter (types, codes) and our
//! evaluator faster, but the meaning of an accepted rule is CEL's.

mod common;

use common::*;
use proptest::prelude::*;
use sanad_domain::{
    Asset, Disability, HouseholdFacts, MemberFacts, Occupation, Relation, Schooling, Sex,
};
use serde::Serialize;
use time::macros::date;

#[derive(Serialize)]
struct HouseholdView {
    size: i64,
    region: String,
    area: &'static str,
    rooms: i64,
    electricity_spending: f64,
    index: f64,
    scored: bool,
    assets: Vec<&'static str>,
}

#[derive(Serialize)]
struct MemberView {
    age: i64,
    sex: &'static str,
    relation: &'static str,
    disability: &'static str,
    schooling: &'static str,
    occupation: &'static str,
}

/// The household as plain CEL maps, the way a naive implementation would hand it over.
fn cel_context(facts: &HouseholdFacts, index: f64) -> cel::Context<'static, 'static> {
    let mut ctx = cel::Context::default();
    let household = HouseholdView {
        size: facts.members.len() as i64,
        region: facts.region_code.clone(),
        area: facts.area.as_str(),
        rooms: i64::from(facts.rooms),
        electricity_spending: facts.electricity_spending.as_f64(),
        index,
        scored: true,
        assets: Asset::ALL
            .iter()
            .filter(|a| facts.assets.contains(**a))
            .map(|a| a.as_str())
            .collect(),
    };
    let members: Vec<MemberView> = facts
        .members
        .iter()
        .map(|m| MemberView {
            age: i64::from(m.age),
            sex: m.sex.as_str(),
            relation: m.relation.as_str(),
            disability: m.disability.as_str(),
            schooling: m.schooling.as_str(),
            occupation: m.occupation.as_str(),
        })
        .collect();
    ctx.add_variable("household", household)
        .unwrap_or_else(|e| panic!("a household converts: {e}"));
    ctx.add_variable("members", members)
        .unwrap_or_else(|e| panic!("members convert: {e}"));
    ctx
}

/// Ages at the edges the shipped rules test, so that boundaries are met often.
const AGES: [i64; 11] = [0, 5, 6, 11, 15, 18, 20, 21, 59, 60, 75];

fn int_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0i64..6).prop_map(|i| i.to_string()),
        Just("household.size".to_owned()),
        Just("household.rooms".to_owned()),
        Just("size(members)".to_owned()),
        Just("size(household.assets)".to_owned()),
        member_pred().prop_map(|p| format!("size(members.filter(m, {p}))")),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        (
            inner.clone(),
            proptest::sample::select(vec!["+", "-", "*"]),
            inner,
        )
            .prop_map(|(a, op, b)| format!("({a} {op} {b})"))
    })
}

fn member_pred() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => (proptest::sample::select(AGES.to_vec()), proptest::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]))
            .prop_map(|(n, op)| format!("m.age {op} {n}")),
        1 => proptest::sample::select(Relation::ALL.to_vec()).prop_map(|r| format!("m.relation == '{}'", r.as_str())),
        1 => proptest::sample::select(Occupation::ALL.to_vec()).prop_map(|o| format!("m.occupation != '{}'", o.as_str())),
        1 => Just("m.sex == 'F'".to_owned()),
        1 => Just("m.schooling in ['primary', 'lower_secondary']".to_owned()),
        1 => Just("m.disability != 'none'".to_owned()),
    ];
    leaf.prop_recursive(1, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            inner.prop_map(|a| format!("!({a})")),
        ]
    })
}

fn condition() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => (int_expr(), proptest::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]), int_expr())
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        2 => member_pred().prop_map(|p| format!("members.exists(m, {p})")),
        2 => member_pred().prop_map(|p| format!("members.all(m, {p})")),
        1 => member_pred().prop_map(|p| format!("members.exists_one(m, {p})")),
        1 => (8.5f64..10.0).prop_map(|t| format!("household.index < {t:.3}")),
        1 => Just("household.area == 'rural'".to_owned()),
        1 => Just("household.scored".to_owned()),
        1 => proptest::sample::select(Asset::ALL.to_vec()).prop_map(|a| format!("'{}' in household.assets", a.as_str())),
        1 => Just("household.electricity_spending > 60.5".to_owned()),
        1 => Just("household.region in ['06', '01']".to_owned()),
        1 => Just("members.map(m, m.age).exists(a, a > 17)".to_owned()),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            inner.prop_map(|a| format!("!({a})")),
        ]
    })
}

fn member_facts() -> impl Strategy<Value = MemberFacts> {
    (
        proptest::sample::select(Relation::ALL.to_vec()),
        proptest::sample::select(Sex::ALL.to_vec()),
        proptest::sample::select(AGES.to_vec()).prop_map(|a| a as u8),
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn our_evaluator_agrees_with_the_cel_interpreter(
        expr in condition(),
        members in proptest::collection::vec(member_facts(), 1..8),
        assets in proptest::collection::vec(proptest::sample::select(Asset::ALL.to_vec()), 0..4),
        index in 8.5f64..10.0,
    ) {
        let mut facts = household(members);
        for a in assets {
            facts.assets.insert(a);
        }
        let ours = sanad_programmes::Rule::compile(&expr)
            .unwrap_or_else(|e| panic!("`{expr}` is a valid rule: {e}"))
            .admits(&facts, Some(index), date!(2024 - 01 - 01));
        let program = cel::Program::compile(&expr).unwrap_or_else(|e| panic!("`{expr}`: {e}"));
        let theirs = program.execute(&cel_context(&facts, index));
        match (ours, theirs) {
            (Ok(a), Ok(cel::Value::Bool(b))) => prop_assert_eq!(a, b, "`{}`", expr),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "`{}`: ours {:?}, cel {:?}", expr, a, b),
        }
    }
}
