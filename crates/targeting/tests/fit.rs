//! Fitting: it finds the coefficients that made the data, it uses the weights, and it refuses what
//! it cannot fit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sanad_domain::Area;
use sanad_targeting::{FitError, FitOptions, Model, SurveyHousehold, Variable, fit};
use support::Rng;

const VARIABLES: [Variable; 8] = [
    Variable::LogHouseholdSize,
    Variable::Children0To5,
    Variable::RoomsPerPerson,
    Variable::LogElectricitySpending,
    Variable::NoElectricitySpending,
    Variable::HasFridge,
    Variable::HasCar,
    Variable::HeadSchoolingHigher,
];
const TRUE_BETA: [f64; 8] = [-0.35, -0.06, 0.18, 0.21, -0.4, 0.15, 0.32, 0.27];

const SEGMENTS: [(&str, Area, f64); 4] = [
    ("01", Area::Urban, 9.1),
    ("01", Area::Rural, 8.7),
    ("07", Area::Urban, 9.0),
    ("07", Area::Rural, 8.5),
];

fn options(shrinkage: f64) -> FitOptions {
    FitOptions {
        variables: VARIABLES.to_vec(),
        shrinkage,
        ..FitOptions::default()
    }
}

fn feature(h: &sanad_domain::HouseholdFacts, v: Variable) -> f64 {
    sanad_targeting::Features::of(h).get(v)
}

/// `n` households per segment whose ln consumption is `intercept + x·beta(segment) + sd·noise`.
fn survey(
    n: usize,
    sd: f64,
    beta: impl Fn(usize) -> [f64; 8],
    rng: &mut Rng,
) -> Vec<SurveyHousehold> {
    let mut out = Vec::new();
    for (s, (region, area, intercept)) in SEGMENTS.iter().enumerate() {
        let b = beta(s);
        for _ in 0..n {
            let facts = support::household(rng, region, *area);
            let y = intercept
                + VARIABLES
                    .iter()
                    .zip(b)
                    .map(|(v, b)| b * feature(&facts, *v))
                    .sum::<f64>()
                + sd * rng.normal();
            out.push(SurveyHousehold {
                facts,
                consumption_per_person: y.exp(),
                weight: 1.0 + 20.0 * rng.f64(),
            });
        }
    }
    out
}

fn coefficients(model: &Model, segment: usize) -> Vec<f64> {
    model.segments()[segment].coefficients.clone()
}

fn segment_index(model: &Model, region: &str, area: Area) -> usize {
    model
        .segments()
        .iter()
        .position(|s| s.region_code.as_deref() == Some(region) && s.area == Some(area))
        .unwrap()
}

#[test]
fn without_noise_the_fit_finds_the_coefficients_and_intercepts_exactly() {
    let mut rng = Rng::new(11);
    let data = survey(400, 0.0, |_| TRUE_BETA, &mut rng);
    let report = fit(&data, &options(300.0)).unwrap();
    assert!(report.dropped.is_empty());
    assert_eq!(report.model.variables(), VARIABLES);
    for (b, t) in report.model.national().coefficients.iter().zip(TRUE_BETA) {
        assert!((b - t).abs() < 1e-7, "national {b} vs {t}");
    }
    for (region, area, intercept) in SEGMENTS {
        let seg = &report.model.segments()[segment_index(&report.model, region, area)];
        assert!(
            (seg.intercept - intercept).abs() < 1e-7,
            "{region}/{area:?}"
        );
        for (b, t) in seg.coefficients.iter().zip(TRUE_BETA) {
            assert!((b - t).abs() < 1e-7, "{b} vs {t}");
        }
    }
    assert!(report.r2 > 0.999_999_9, "R² {}", report.r2);
    // Scoring a surveyed household gives back its consumption.
    let h = &data[17];
    let index = report.model.score(&h.facts).index;
    assert!((index - h.consumption_per_person.ln()).abs() < 1e-7);
}

#[test]
fn each_segment_finds_its_own_coefficients_when_not_shrunk() {
    let mut rng = Rng::new(12);
    let own = |s: usize| TRUE_BETA.map(|b| b * (1.0 + 0.5 * s as f64));
    let data = survey(300, 0.0, own, &mut rng);
    let report = fit(&data, &options(0.0)).unwrap();
    for (s, (region, area, _)) in SEGMENTS.iter().enumerate() {
        let got = coefficients(&report.model, segment_index(&report.model, region, *area));
        for (b, t) in got.iter().zip(own(s)) {
            assert!((b - t).abs() < 1e-6, "segment {s}: {b} vs {t}");
        }
    }
    // Shrunk, a segment's coefficients sit between its own and the national ones.
    let shrunk = fit(&data, &options(2_000.0)).unwrap();
    let national = &shrunk.model.national().coefficients;
    let i = segment_index(&shrunk.model, "07", Area::Rural);
    let car = VARIABLES
        .iter()
        .position(|v| *v == Variable::HasCar)
        .unwrap();
    let (own_b, shrunk_b) = (own(3)[car], coefficients(&shrunk.model, i)[car]);
    assert!(
        (national[car]..own_b).contains(&shrunk_b),
        "{} < {shrunk_b} < {own_b}",
        national[car]
    );
}

#[test]
fn with_noise_the_coefficients_are_found_within_their_sampling_error() {
    let mut rng = Rng::new(13);
    let data = survey(2_500, 0.3, |_| TRUE_BETA, &mut rng);
    let report = fit(&data, &options(300.0)).unwrap();
    for (v, (b, t)) in VARIABLES
        .iter()
        .zip(report.model.national().coefficients.iter().zip(TRUE_BETA))
    {
        assert!((b - t).abs() < 0.03, "{v}: {b} vs {t}");
    }
    assert!(
        report.rmse > 0.27 && report.rmse < 0.33,
        "rmse {}",
        report.rmse
    );
    assert_eq!(report.n, 10_000);
    assert_eq!(report.segments.len(), 4);
    let table = report.to_string();
    assert!(
        table.contains("07/rural") && table.contains("R²"),
        "{table}"
    );
}

/// The survey oversampled one kind of household; its weight says how many it stands for. The fit
/// must estimate the population's relation, not the sample's.
#[test]
fn weights_count_each_household_for_the_households_it_stands_for() {
    let mut rng = Rng::new(14);
    let mut weighted = Vec::new();
    let mut expanded = Vec::new();
    for i in 0..2_000 {
        let mut facts = support::household(&mut rng, "03", Area::Urban);
        facts.rooms = 1 + (i % 6) as u16;
        let rooms = feature(&facts, Variable::RoomsPerPerson);
        // Two kinds of households whose consumption rises differently with space; the model sees
        // only rooms per person, so its one slope is a population average of the two.
        let car = i % 2 == 0;
        let y = 9.0 + if car { 1.5 } else { 0.2 } * rooms;
        let weight = if car { 1.0 } else { 9.0 };
        let h = SurveyHousehold {
            facts,
            consumption_per_person: f64::exp(y),
            weight,
        };
        for _ in 0..weight as usize {
            expanded.push(SurveyHousehold {
                weight: 1.0,
                ..h.clone()
            });
        }
        weighted.push(h);
    }
    let only_rooms = FitOptions {
        variables: vec![Variable::RoomsPerPerson],
        ..FitOptions::default()
    };
    let slope = |data: &[SurveyHousehold]| {
        fit(data, &only_rooms)
            .unwrap()
            .model
            .national()
            .coefficients[0]
    };
    let unweighted: Vec<SurveyHousehold> = weighted
        .iter()
        .map(|h| SurveyHousehold {
            weight: 1.0,
            ..h.clone()
        })
        .collect();
    let (w, e, u) = (slope(&weighted), slope(&expanded), slope(&unweighted));
    assert!((w - e).abs() < 1e-9, "weighted {w} = expanded {e}");
    assert!(
        (u - w).abs() > 0.3,
        "unweighted {u} differs from weighted {w}"
    );
    assert!(w < 0.6, "the population is mostly the flat kind: {w}");
}

#[test]
fn what_cannot_be_fitted_is_refused() {
    let mut rng = Rng::new(15);
    let mut data = survey(50, 0.1, |_| TRUE_BETA, &mut rng);
    assert_eq!(fit(&[], &options(1.0)), Err(FitError::Empty));
    data[3].weight = 0.0;
    assert!(matches!(
        fit(&data, &options(1.0)),
        Err(FitError::BadHousehold { index: 3, .. })
    ));
    data[3].weight = 1.0;
    data[5].consumption_per_person = f64::NAN;
    assert!(matches!(
        fit(&data, &options(1.0)),
        Err(FitError::BadHousehold { index: 5, .. })
    ));
    data[5].consumption_per_person = 10_000.0;
    let twice = FitOptions {
        variables: vec![Variable::HasCar, Variable::HasCar],
        ..FitOptions::default()
    };
    assert!(matches!(fit(&data, &twice), Err(FitError::Options(_))));
    // A variable that never varies is left out, and said so.
    for h in &mut data {
        h.facts.assets.insert(sanad_domain::Asset::Tv);
    }
    let with_tv = FitOptions {
        variables: vec![Variable::HasTv, Variable::HasCar],
        ..FitOptions::default()
    };
    let report = fit(&data, &with_tv).unwrap();
    assert_eq!(report.dropped, vec![Variable::HasTv]);
    assert_eq!(report.model.variables(), [Variable::HasCar]);
    // Two variables that say the same thing cannot both be estimated.
    let same = FitOptions {
        variables: vec![
            Variable::LogHouseholdSize,
            Variable::Children0To5,
            Variable::Children6To17,
            Variable::Adults18To59,
            Variable::Elderly60Plus,
            Variable::HasCar,
        ],
        ..FitOptions::default()
    };
    for h in &mut data {
        // Every household of four: the counts then add up to a constant.
        h.facts.members.truncate(4);
        while h.facts.members.len() < 4 {
            let m = h.facts.members[0].clone();
            h.facts.members.push(m);
        }
    }
    assert!(
        matches!(fit(&data, &same), Err(FitError::Collinear { .. })),
        "{:?}",
        fit(&data, &same).map(|r| r.dropped)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever survey comes in, the fit answers (a model or a reason), and a model it makes is
    /// one the file format takes back.
    #[test]
    fn any_survey_gets_a_model_or_a_reason(seed in 0u64..u64::MAX, n in 1usize..300, shrinkage in 0.0f64..1e4) {
        let mut rng = Rng::new(seed);
        let regions = ["01", "02", "11"];
        let data: Vec<SurveyHousehold> = (0..n)
            .map(|_| {
                let area = if rng.chance(0.5) { Area::Urban } else { Area::Rural };
                let region = regions[rng.below(regions.len())];
                let facts = support::household(&mut rng, region, area);
                SurveyHousehold {
                    facts,
                    consumption_per_person: 1_000.0 + 50_000.0 * rng.f64(),
                    weight: 0.1 + 100.0 * rng.f64(),
                }
            })
            .collect();
        let options = FitOptions { shrinkage, ..FitOptions::default() };
        if let Ok(report) = fit(&data, &options) {
            proptest::prop_assert!(report.r2.is_finite());
            let back = Model::from_toml(&report.model.to_toml()).unwrap();
            proptest::prop_assert_eq!(&back, &report.model);
            for h in data.iter().take(20) {
                let s = back.score(&h.facts);
                let sum: f64 = s.contributions.iter().map(|c| c.effect).sum();
                proptest::prop_assert!((s.index - s.baseline - sum).abs() < 1e-6);
            }
        }
    }
}
