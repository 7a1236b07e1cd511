//! The planning commission's story: a population is generated with its survey, a model is fitted
//! on the survey, every registered household is scored, and the targeting is judged against the
//! truth file. Then the files a user could get wrong are refused with the line and the column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs::{self, File};

use sanad_targeting::{
    Evaluated, FitOptions, Model, SurveyError, evaluate, fit, read_registry_csv, read_survey_csv,
    read_truth_csv,
};

#[test]
fn a_model_fitted_on_the_survey_targets_the_generated_population() {
    let dir = tempfile::tempdir().unwrap();
    let config = sanad_synth::GenConfig::new(20_000, 31);
    sanad_synth::generate(&config, dir.path(), &|_| {}).unwrap();

    let survey = read_survey_csv(File::open(dir.path().join("survey.csv")).unwrap()).unwrap();
    assert!(
        survey.len() >= 3_000,
        "{} surveyed households",
        survey.len()
    );
    let report = fit(&survey, &FitOptions::default()).unwrap();
    assert!((0.55..0.8).contains(&report.r2), "survey R² {}", report.r2);
    assert_eq!(report.segments.len(), 24, "every region × area is surveyed");

    // The model survives its file.
    let model = Model::from_toml(&report.model.to_toml()).unwrap();
    assert_eq!(model, report.model);

    let registry = read_registry_csv(
        File::open(dir.path().join("households.csv")).unwrap(),
        File::open(dir.path().join("persons.csv")).unwrap(),
        config.reference_date,
    )
    .unwrap();
    assert_eq!(registry.len(), 20_000);
    let truth: HashMap<String, f64> =
        read_truth_csv(File::open(dir.path().join("consumption.csv")).unwrap())
            .unwrap()
            .into_iter()
            .collect();
    let rows: Vec<Evaluated> = registry
        .iter()
        .map(|h| Evaluated {
            region_code: h.facts.region_code.clone(),
            area: h.facts.area,
            predicted: model.score(&h.facts).index,
            actual: truth[&h.household_id],
        })
        .collect();
    let evaluation = evaluate(&rows, &[("AMO-Tadamon".to_owned(), 9.32)]);
    let amo = evaluation.thresholds[0].overall;
    eprintln!("{evaluation}");
    // Measured: R² 0.69, exclusion 38 %, inclusion 27 %, poorest 20 % reached 65 % (seed 31).
    assert!((0.55..0.8).contains(&evaluation.r2), "R² {}", evaluation.r2);
    let exclusion = amo.exclusion_error.unwrap();
    let inclusion = amo.inclusion_error.unwrap();
    assert!(exclusion < 0.45, "exclusion error {exclusion}");
    assert!(inclusion < 0.35, "inclusion error {inclusion}");
    assert!(amo.poorest_20_reached.unwrap() > 0.55);
    // The countryside is poorer, and the index sees it.
    let share = |area: &str| {
        let (selected, n) = evaluation.thresholds[0]
            .segments
            .iter()
            .filter(|(code, _)| code.ends_with(area))
            .fold((0, 0), |(s, n), (_, e)| (s + e.selected, n + e.households));
        selected as f64 / n as f64
    };
    assert!(share("rural") > 2.0 * share("urban"));
}

const SURVEY: &str = "\
household_id,region_code,area,dwelling_type,tenure,rooms,water_spending,electricity_spending,phone_spending,gas_spending,assets,declared_income,consumption_per_person,weight,relation,sex,age,disability,schooling,occupation
H00000000013,04,rural,rural_house,owner,3,40.00,110.50,80.00,55.00,tv;livestock,1200.00,9800.00,85.5,head,M,44,none,primary,self_employed
H00000000013,04,rural,rural_house,owner,3,40.00,110.50,80.00,55.00,tv;livestock,1200.00,9800.00,85.5,spouse,F,39,none,none,homemaker
H00000000021,06,urban,apartment,tenant,2,80.00,210.00,150.00,70.00,fridge;tv;internet,0.00,31000.00,120,head,F,31,none,higher,employed
";

#[test]
fn a_survey_file_is_read_household_by_household() {
    let survey = read_survey_csv(SURVEY.as_bytes()).unwrap();
    assert_eq!(survey.len(), 2);
    assert_eq!(survey[0].facts.members.len(), 2);
    assert_eq!(survey[0].facts.region_code, "04");
    assert_eq!(survey[0].weight, 85.5);
    assert_eq!(survey[1].consumption_per_person, 31_000.0);
    assert!(
        survey[1]
            .facts
            .assets
            .contains(sanad_domain::Asset::Internet)
    );
}

fn refused(text: &str) -> SurveyError {
    read_survey_csv(text.as_bytes()).unwrap_err()
}

#[test]
fn a_survey_file_with_a_bad_row_is_refused_naming_the_line_and_the_column() {
    let e = refused(&SURVEY.replacen("rural_house,owner,3,", "rural_house,owner,three,", 1));
    assert_eq!((e.line(), e.column()), (Some(2), Some("rooms")), "{e}");
    assert_eq!(
        e.to_string(),
        "line 2, column `rooms`: expected a whole number of rooms, found \"three\""
    );

    let e = refused(&SURVEY.replace(",31,none,higher,", ",31,none,university,"));
    assert_eq!((e.line(), e.column()), (Some(4), Some("schooling")), "{e}");
    assert!(e.to_string().contains("none | preschool | primary"), "{e}");

    let e = refused(&SURVEY.replace("31000.00,120,", "31000.00,-3,"));
    assert_eq!((e.line(), e.column()), (Some(4), Some("weight")), "{e}");

    let e = refused(&SURVEY.replace(
        "tv;livestock,1200.00,9800.00,85.5,spouse",
        "tv;livestock,1200.00,9900.00,85.5,spouse",
    ));
    assert_eq!(
        (e.line(), e.column()),
        (Some(3), Some("consumption_per_person")),
        "{e}"
    );
    assert!(e.to_string().contains("household's first row"), "{e}");

    let e = refused(&SURVEY.replace("fridge;tv;internet", "fridge;tv;jacuzzi"));
    assert_eq!((e.line(), e.column()), (Some(4), Some("assets")), "{e}");

    let e = refused(&SURVEY.replace(",F,31,", ",F,31,extra,"));
    assert_eq!(e.line(), Some(4), "{e}");

    let e = refused(&SURVEY.replace("consumption_per_person", "consumption"));
    assert_eq!(
        e,
        SurveyError::MissingColumn("consumption_per_person".to_owned())
    );

    let mut lines: Vec<&str> = SURVEY.lines().collect();
    lines.push(lines[1]);
    let e = refused(&(lines.join("\n") + "\n"));
    assert_eq!(e.line(), Some(5), "{e}");
    assert!(e.to_string().contains("appears again"), "{e}");

    let header_only = SURVEY.lines().next().unwrap().to_owned() + "\n";
    assert_eq!(refused(&header_only), SurveyError::Empty);
}

#[test]
fn a_registry_export_is_read_as_facts_on_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let config = sanad_synth::GenConfig::new(300, 2);
    sanad_synth::generate(&config, dir.path(), &|_| {}).unwrap();
    let households = fs::read_to_string(dir.path().join("households.csv")).unwrap();
    let persons = fs::read_to_string(dir.path().join("persons.csv")).unwrap();
    let registry = read_registry_csv(
        households.as_bytes(),
        persons.as_bytes(),
        config.reference_date,
    )
    .unwrap();
    assert_eq!(registry.len(), 300);
    let members: usize = registry.iter().map(|h| h.facts.members.len()).sum();
    assert_eq!(members, persons.lines().count() - 1);
    assert!(registry.iter().all(|h| h.facts.region_code.len() == 2));

    let bad = persons.replacen(",M,", ",X,", 1);
    let e = read_registry_csv(households.as_bytes(), bad.as_bytes(), config.reference_date)
        .unwrap_err();
    assert_eq!(e.column(), Some("sex"), "{e}");
}
