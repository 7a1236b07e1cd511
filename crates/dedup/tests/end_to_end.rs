//! End to end on a small generated population: read the CSV layout, deduplicate, write the outputs,
//! evaluate against the truth file, and query the registration-time index.

use std::collections::HashMap;

use sanad_dedup::{
    DedupConfig, MatchIndex, PairStatus, attach_communes, deduplicate, evaluate, read_csv, train,
    write_clusters_csv, write_pairs_csv,
};

fn generate(dir: &std::path::Path, households: u64, seed: u64) {
    let mut config = sanad_synth::GenConfig::new(households, seed);
    config.duplicate_rate = 0.1;
    if let Err(e) = sanad_synth::generate(&config, dir, &|_| {}) {
        panic!("generate: {e}");
    }
}

#[test]
fn finds_the_generated_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 4000, 7);
    let mut records = read_csv(dir.path().join("persons.csv"), &HashMap::new()).unwrap();
    let attached = attach_communes(
        &mut records,
        dir.path().join("households.csv"),
        "household_id",
        "commune_code",
    )
    .unwrap();
    assert_eq!(attached, records.len());
    let config = DedupConfig {
        u_sample_pairs: 200_000,
        ..DedupConfig::default()
    };
    let result = deduplicate(&records, &config).unwrap();
    let ev = evaluate(&result, &records, dir.path().join("truth.csv")).unwrap();
    eprintln!("{ev:#?}");
    assert!(ev.true_pairs > 1000, "{}", ev.true_pairs);
    // The bar for this small set (about 16,000 persons): the 1 M-person figures are in the bench.
    assert!(
        ev.blocking_recall >= 0.98,
        "blocking recall {}",
        ev.blocking_recall
    );
    assert!(ev.pair_f1 >= 0.93, "pair F1 {}", ev.pair_f1);
    assert!(ev.cluster_f1 >= 0.93, "cluster F1 {}", ev.cluster_f1);
    assert!(ev.pair_precision >= 0.95, "precision {}", ev.pair_precision);

    // Report: every rule is listed, pairs are counted once.
    let r = &result.report;
    assert_eq!(r.rules.len(), config.rules.len());
    assert_eq!(
        r.rules.iter().map(|x| x.candidate_pairs).sum::<u64>(),
        r.pairs_scored
    );
    assert!(r.rules.iter().all(|x| x.raw_pairs >= x.candidate_pairs));

    // Pairs: a < b, probabilities consistent with the thresholds, explanations add up.
    for p in &result.pairs {
        assert!(p.a < p.b);
        assert!(p.probability >= config.review_threshold as f32 - 1e-6);
        assert_eq!(
            p.status == PairStatus::Match,
            p.probability >= config.match_threshold as f32 - 1e-6 || p.status == PairStatus::Match
        );
        let sum: f32 = p.explanation().iter().map(|e| e.weight).sum();
        let prior = (result.model.lambda / (1.0 - result.model.lambda)).log2() as f32;
        assert!(
            (prior + sum - p.weight).abs() < 0.01,
            "{} vs {}",
            prior + sum,
            p.weight
        );
    }
    assert!(result.review.iter().all(|p| p.status == PairStatus::Review));

    // Outputs.
    let pairs_csv = dir.path().join("pairs.csv");
    let clusters_csv = dir.path().join("clusters.csv");
    write_pairs_csv(&pairs_csv, &result, &records).unwrap();
    write_clusters_csv(&clusters_csv, &result, &records).unwrap();
    let text = std::fs::read_to_string(&pairs_csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header
            .starts_with("id_l,id_r,match_probability,match_weight,first_name,first_name_weight,"),
        "{header}"
    );
    assert_eq!(text.lines().count(), result.pairs.len() + 1);
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.starts_with('P') && first.split(',').nth(1).unwrap().starts_with('P'),
        "{first}"
    );
    let clusters = std::fs::read_to_string(&clusters_csv).unwrap();
    assert_eq!(
        clusters.lines().count(),
        result.clusters.iter().map(Vec::len).sum::<usize>() + 1
    );

    // The model round-trips through JSON and scores the same in the match index.
    let json = serde_json::to_string(&result.model).unwrap();
    let model: sanad_dedup::Model = serde_json::from_str(&json).unwrap();
    assert_eq!(model.term_frequencies, result.model.term_frequencies);
    assert!((model.lambda / result.model.lambda - 1.0).abs() < 1e-9);
    for (a, b) in model.fields.iter().zip(&result.model.fields) {
        for (x, y) in a.levels.iter().zip(&b.levels) {
            assert!(
                (x.weight - y.weight).abs() < 1e-9,
                "{} {}",
                a.field,
                x.level
            );
        }
    }
    // Index the originals, ask for each duplicate: its original must come first.
    let truth = std::fs::read_to_string(dir.path().join("truth.csv")).unwrap();
    let entity_of: HashMap<&str, &str> = truth
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .collect();
    let (dups, originals): (Vec<&sanad_dedup::Record>, Vec<&sanad_dedup::Record>) = records
        .iter()
        .partition(|r| entity_of[r.id.as_str()] != r.id);
    let index = MatchIndex::build(&originals.into_iter().cloned().collect::<Vec<_>>(), &model);
    let mut found = 0;
    let mut asked = 0;
    for d in dups.iter().take(300) {
        asked += 1;
        let cands = index.candidates(d, 5);
        let target = entity_of[d.id.as_str()];
        if cands
            .first()
            .is_some_and(|c| c.id == target && c.probability >= 0.5)
        {
            found += 1;
        }
    }
    assert!(found * 100 >= asked * 85, "index found {found} of {asked}");
}

#[test]
fn a_registry_without_duplicates_still_flags_a_second_registration() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = sanad_synth::GenConfig::new(1500, 11);
    config.duplicate_rate = 0.0;
    sanad_synth::generate(&config, dir.path(), &|_| {}).unwrap();
    let records = read_csv(dir.path().join("persons.csv"), &HashMap::new()).unwrap();
    let model = train(
        &records,
        &DedupConfig {
            u_sample_pairs: 100_000,
            ..DedupConfig::default()
        },
    )
    .unwrap();
    // Adults registered again at another centre, without their CNIE this time.
    let arrivals: Vec<sanad_dedup::Record> = records
        .iter()
        .filter(|r| r.national_id.is_some())
        .take(50)
        .map(|r| sanad_dedup::Record {
            id: format!("new-{}", r.id),
            national_id: None,
            household_id: None,
            ..r.clone()
        })
        .collect();
    let flagged = |model: &sanad_dedup::Model| {
        let index = MatchIndex::build(&records, model).with_min_probability(0.5);
        arrivals
            .iter()
            .filter(|a| {
                index
                    .candidates(a, 5)
                    .first()
                    .is_some_and(|c| c.id == a.id["new-".len()..])
            })
            .count()
    };
    let floored = model.clone().for_registration_check(0.01, records.len());
    assert!(
        floored.lambda > model.lambda,
        "{} {}",
        floored.lambda,
        model.lambda
    );
    let with_floor = flagged(&floored);
    assert!(
        with_floor >= 45,
        "{with_floor} of 50 flagged with the floor"
    );
    assert!(
        flagged(&model) <= with_floor,
        "the floor never hides a candidate"
    );
}

#[test]
fn trained_model_is_reusable() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 1500, 3);
    let records = read_csv(dir.path().join("persons.csv"), &HashMap::new()).unwrap();
    let config = DedupConfig {
        u_sample_pairs: 100_000,
        ..DedupConfig::default()
    };
    let model = train(&records, &config).unwrap();
    assert!(
        model.lambda > 0.0 && model.lambda < 1e-2,
        "{}",
        model.lambda
    );
    // Trained on a registry with duplicates, the model is fit for the registration check as it is.
    let checked = model.clone().for_registration_check(0.01, records.len());
    assert_eq!(checked, model);
    let again = sanad_dedup::deduplicate_with_model(&records, &model, &config).unwrap();
    let fresh = deduplicate(&records, &config).unwrap();
    assert_eq!(again.report.pairs_scored, fresh.report.pairs_scored);
    assert!(!again.pairs.is_empty());
}

#[test]
fn index_insert_and_bad_values() {
    let r = |id: &str, f: &str, l: &str, d: Option<&str>| sanad_dedup::Record {
        id: id.into(),
        first_name: f.into(),
        last_name: l.into(),
        birth_date: d.map(Into::into),
        ..Default::default()
    };
    let records = vec![
        r("A", "Mohamed", "El Amrani", Some("1980-07-03")),
        r("B", "Fatima", "Benali", Some("1975-01-01")),
        r("C", "", "", Some("not a date")),
    ];
    let config = DedupConfig {
        u_sample_pairs: 1000,
        ..DedupConfig::default()
    };
    // Three records: no model can be learnt, but nothing breaks and the bad values are reported.
    let result = deduplicate(&records, &config).unwrap();
    assert_eq!(result.report.input_issues.invalid_dates, 1);
    assert_eq!(result.report.input_issues.empty_names, 1);
    assert_eq!(result.report.input_issues.examples[0].row, 2);
    // A model trained on a generated population serves the index.
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 1500, 5);
    let population = read_csv(dir.path().join("persons.csv"), &HashMap::new()).unwrap();
    let model = train(
        &population,
        &DedupConfig {
            u_sample_pairs: 100_000,
            ..DedupConfig::default()
        },
    )
    .unwrap();
    let mut index = MatchIndex::build(&records, &model);
    let q = r("Q", "Muhammad", "Elamrani", Some("03/07/1980"));
    assert_eq!(
        index.candidates(&q, 3).first().map(|c| c.id.as_str()),
        Some("A")
    );
    index.insert(r("D", "Youssef", "Ait Lahcen", Some("19900512")));
    let q = r("Q2", "Yusuf", "Aït-Lahcen", Some("1990-05-12"));
    let c = index.candidates(&q, 3);
    assert_eq!(c.first().map(|c| c.id.as_str()), Some("D"));
    assert!(
        c[0].explanation
            .iter()
            .any(|e| e.field == "first_name" && e.level == "variant")
    );
}

/// A file from elsewhere (the second synthetic profile: another vocabulary, no Arabic names, no
/// commune, national ids missing in a quarter): the engine learns from it, chooses its threshold,
/// and estimates without the truth how many true pairs its blocking reaches.
#[test]
fn learns_from_a_file_it_was_never_tuned_for_and_estimates_its_blocking_recall() {
    let dir = tempfile::tempdir().unwrap();
    sanad_synth::other::generate_other(
        &sanad_synth::other::OtherConfig {
            persons: 60_000,
            seed: 4,
            duplicate_share: 0.2,
        },
        dir.path(),
    )
    .unwrap();
    let records = read_csv(dir.path().join("persons.csv"), &HashMap::new()).unwrap();
    let result = deduplicate(&records, &DedupConfig::default()).unwrap();
    let ev = evaluate(&result, &records, dir.path().join("truth.csv")).unwrap();
    assert!(ev.pair_f1 > 0.93, "{ev:#?}");
    let r = &result.report;
    assert!(r.threshold_chosen_from_data);
    assert!(
        (0.1..=0.95).contains(&r.match_threshold),
        "{}",
        r.match_threshold
    );
    assert!(
        (r.estimated_blocking_recall - ev.blocking_recall).abs() < 0.02,
        "estimated {} measured {}",
        r.estimated_blocking_recall,
        ev.blocking_recall
    );
    // A missing national id is neutral: the model learnt a weight for the levels it saw, and the
    // null level weighs nothing.
    let nid = &result.model.fields[3];
    assert_eq!(nid.levels[0].weight, 0.0);
    assert!(
        nid.levels[1].weight > 10.0 && nid.levels[3].weight < -3.0,
        "{nid:?}"
    );
}
