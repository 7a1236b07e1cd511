//! Scoring with a model file: what the numbers say, that they add up, that they do not depend on
//! how members are listed, and that a model survives being written and read back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use sanad_domain::{
    Amount, Area, Asset, AssetSet, Disability, DwellingType, HouseholdFacts, MemberFacts,
    Occupation, Relation, Schooling, Sex, Tenure,
};
use sanad_targeting::{Contribution, Lang, Model, ModelError, NATIONAL, Variable};

const DEMO: &str = include_str!("../models/pmt-demo.toml");

fn demo() -> Model {
    Model::from_toml(DEMO).unwrap()
}

fn member() -> impl Strategy<Value = MemberFacts> {
    (
        prop::sample::select(Relation::ALL),
        prop::sample::select(Sex::ALL),
        0u8..=110,
        prop::sample::select(Disability::ALL),
        prop::sample::select(Schooling::ALL),
        prop::sample::select(Occupation::ALL),
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

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![Just(0i64), 1i64..200_000]
        .prop_map(|c| Amount::from_centimes(c).unwrap_or(Amount::ZERO))
}

fn facts() -> impl Strategy<Value = HouseholdFacts> {
    (
        prop::sample::select(vec!["01", "04", "06", "08", "12", "99"]),
        prop::bool::ANY,
        prop::sample::select(DwellingType::ALL),
        prop::sample::select(Tenure::ALL),
        0u16..12,
        [amount(), amount(), amount(), amount(), amount()],
        0u16..1024,
        prop::collection::vec(member(), 0..12),
    )
        .prop_map(
            |(region, urban, dwelling_type, tenure, rooms, bills, bits, members)| HouseholdFacts {
                region_code: region.to_owned(),
                area: if urban { Area::Urban } else { Area::Rural },
                dwelling_type,
                tenure,
                rooms,
                water_spending: bills[0],
                electricity_spending: bills[1],
                phone_spending: bills[2],
                gas_spending: bills[3],
                assets: Asset::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, a)| *a)
                    .collect::<AssetSet>(),
                declared_income: bills[4],
                members,
            },
        )
}

/// A model over a random subset of the catalogue with random coefficients, as a TOML file.
fn model_text() -> impl Strategy<Value = String> {
    let coefficient = prop_oneof![-3.0f64..3.0, Just(0.0), Just(-0.0), 1e-12f64..1e-6];
    (
        prop::sample::subsequence(Variable::ALL.to_vec(), 1..Variable::ALL.len()),
        prop::collection::vec(
            (prop::collection::vec(coefficient.clone(), 50), prop::collection::vec(-10.0f64..10.0, 50), 5.0f64..12.0),
            1..4,
        ),
        1u32..100,
        "[a-z][a-z0-9-]{0,10}",
        "[ -~é«»\"\\\\]{0,40}",
    )
        .prop_map(|(vars, segments, version, id, description)| {
            let table = |values: &[f64]| -> String {
                vars.iter()
                    .zip(values)
                    .map(|(v, x)| format!("{} = {x:?}\n", v.code()))
                    .collect()
            };
            let codes: Vec<String> = vars.iter().map(|v| format!("\"{}\"", v.code())).collect();
            let description = description.replace('\\', "\\\\").replace('"', "\\\"");
            let mut text = format!(
                "id = \"{id}\"\nversion = {version}\ndescription = \"{description}\"\nvariables = [{}]\n",
                codes.join(", ")
            );
            for (i, (b, m, a)) in segments.iter().enumerate() {
                let head = if i == 0 {
                    "[national]".to_owned()
                } else {
                    format!(
                        "[[segments]]\nregion = \"{:02}\"\narea = \"{}\"",
                        i * 3,
                        if i % 2 == 0 { "urban" } else { "rural" }
                    )
                };
                let name = if i == 0 { "national" } else { "segments" };
                text.push_str(&format!(
                    "{head}\nintercept = {a:?}\n[{name}.coefficients]\n{}[{name}.means]\n{}",
                    table(b),
                    table(m)
                ));
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn contributions_add_up_to_the_index(facts in facts()) {
        let model = demo();
        let score = model.score(&facts);
        let sum: f64 = score.contributions.iter().map(|c| c.effect).sum();
        prop_assert!((score.index - score.baseline - sum).abs() < 1e-9);
        prop_assert!((score.index - model.index(&facts)).abs() < 1e-9);
        prop_assert_eq!(score.contributions.len(), model.variables().len());
        prop_assert!(score.index.is_finite());
        let explained = score.explained();
        let folded: f64 = explained.iter().map(|c| c.effect).sum();
        prop_assert!((sum - folded).abs() < 1e-9);
        prop_assert!(explained.iter().all(|c| c.variable.bill_amount().is_none()));
        prop_assert_eq!(explained.len(), score.contributions.len() - 4);
    }

    #[test]
    fn the_order_of_members_does_not_matter(
        (facts, shuffled) in facts().prop_flat_map(|f| {
            let members = f.members.clone();
            (Just(f), Just(members).prop_shuffle())
        })
    ) {
        let model = demo();
        let mut other = facts.clone();
        other.members = shuffled;
        prop_assert_eq!(model.score(&facts), model.score(&other));
    }

    #[test]
    fn a_model_round_trips_through_toml_and_json(text in model_text()) {
        let model = Model::from_toml(&text).unwrap();
        let back = Model::from_toml(&model.to_toml()).unwrap();
        prop_assert_eq!(&back, &model);
        let json = Model::from_json(&model.to_json()).unwrap();
        prop_assert_eq!(&json, &model);
    }

    #[test]
    fn the_declared_income_is_not_looked_at(facts in facts(), income in amount()) {
        let model = demo();
        let mut other = facts.clone();
        other.declared_income = income;
        prop_assert_eq!(model.score(&facts), model.score(&other));
    }
}

#[test]
fn the_shipped_model_has_a_segment_per_region_and_area() {
    let model = demo();
    assert_eq!(model.id, "pmt-demo");
    assert_eq!(model.segments().len(), 24);
    assert_eq!(model.to_toml(), DEMO, "the file is as the writer writes it");
    let mut rng = support::Rng::new(1);
    let rural = support::household(&mut rng, "08", Area::Rural);
    assert_eq!(model.score(&rural).segment, "08/rural");
    let nowhere = support::household(&mut rng, "99", Area::Urban);
    assert_eq!(model.score(&nowhere).segment, NATIONAL);
    // The demo model reads the signs a reviewer expects.
    let national = model.national();
    let coefficient = |v: Variable| {
        let i = model.variables().iter().position(|x| *x == v).unwrap();
        national.coefficients[i]
    };
    assert!(coefficient(Variable::HasCar) > 0.0);
    assert!(coefficient(Variable::HasFridge) > 0.0);
    assert!(coefficient(Variable::RoomsPerPerson) > 0.0);
    assert!(coefficient(Variable::LogHouseholdSize) < 0.0);
    assert!(coefficient(Variable::DwellingMakeshift) < 0.0);
}

#[test]
fn more_rooms_per_person_raise_the_index_and_the_explanation_says_so() {
    let model = demo();
    let mut rng = support::Rng::new(2);
    let mut facts = support::household(&mut rng, "04", Area::Urban);
    facts.rooms = 1;
    let cramped = model.score(&facts);
    facts.rooms = 6;
    let roomy = model.score(&facts);
    assert!(roomy.index > cramped.index);
    let c = roomy
        .contributions
        .iter()
        .find(|c| c.variable == Variable::RoomsPerPerson)
        .unwrap();
    assert!(c.effect > 0.0);

    let top = roomy.largest(3);
    assert_eq!(top.len(), 3);
    assert!(
        top[0].effect.abs() >= top[1].effect.abs() && top[1].effect.abs() >= top[2].effect.abs()
    );
    assert!(
        roomy
            .contributions
            .iter()
            .all(|c| c.effect.abs() <= top[0].effect.abs())
    );

    let example = Contribution {
        variable: Variable::RoomsPerPerson,
        value: 1.5,
        effect: 0.1234,
    };
    assert_eq!(
        example.sentence(Lang::Fr),
        "Le nombre de pièces par personne a relevé votre indice de 0,12"
    );
    assert_eq!(
        example.sentence(Lang::En),
        "The number of rooms per person raised your index by 0.12"
    );
    assert_eq!(
        example.sentence(Lang::Ar),
        "رفع عدد الغرف لكل فرد مؤشركم بمقدار 0,12"
    );
    let lower = Contribution {
        effect: -0.3,
        ..example
    };
    assert!(
        lower
            .sentence(Lang::Fr)
            .contains("a abaissé votre indice de 0,30")
    );
}

fn refused(text: &str) -> ModelError {
    Model::from_toml(text).unwrap_err()
}

#[test]
fn a_model_file_with_an_unknown_variable_is_refused_naming_it() {
    let bad = DEMO.replacen("has_fridge = ", "has_fridg = ", 1);
    let e = refused(&bad);
    assert_eq!(e.field(), Some("national.coefficients.has_fridg"), "{e}");
    assert!(
        e.to_string().contains("unknown variable `has_fridg`"),
        "{e}"
    );

    let listed = DEMO.replacen(
        "\"has_fridge\",",
        "\"has_fridge\",\n    \"declared_income\",",
        1,
    );
    let e = refused(&listed);
    assert!(e.field().unwrap().starts_with("variables["), "{e}");
    assert!(e.to_string().contains("`declared_income`"), "{e}");
}

#[test]
fn a_model_file_that_does_not_hold_together_is_refused_naming_the_field() {
    let nan = DEMO.replacen("intercept = ", "intercept = nan #", 1);
    let e = refused(&nan);
    assert_eq!(e.field(), Some("national.intercept"), "{e}");
    let inf = DEMO.replacen("has_tv = ", "has_tv = -inf #", 1);
    let e = refused(&inf);
    assert_eq!(e.field(), Some("national.coefficients.has_tv"), "{e}");

    let start = DEMO.find("[[segments]]").unwrap();
    let end = start + DEMO[start + 1..].find("[[segments]]").unwrap() + 1;
    let twice = format!("{DEMO}\n{}", &DEMO[start..end]);
    let e = refused(&twice);
    assert_eq!(e.field(), Some("segments[24]"), "{e}");
    assert!(e.to_string().contains("defined twice"), "{e}");

    let missing = DEMO.replacen("\nhas_car = ", "\n# has_car = ", 1);
    let e = refused(&missing);
    assert_eq!(e.field(), Some("national.coefficients"), "{e}");
    assert!(e.to_string().contains("`has_car`"), "{e}");

    let e = refused(&DEMO.replacen("version = 1", "version = 0", 1));
    assert_eq!(e.field(), Some("version"));

    let e = refused(&DEMO.replacen("version = 1", "version = 1\nauthor = \"me\"", 1));
    assert!(matches!(e, ModelError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("author"), "{e}");

    let e = Model::from_json("{\"id\": \"x\"}").unwrap_err();
    assert!(
        matches!(e, ModelError::Syntax { format: "JSON", .. }),
        "{e}"
    );
}
