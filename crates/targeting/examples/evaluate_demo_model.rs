//! Judges the shipped model out of sample: generates a population with another seed than the one
//! the model was fitted on, scores every household from `households.csv` + `persons.csv`, and
//! compares with `consumption.csv` at the AMO-Tadamon and ASD thresholds.
//!
//! `cargo run --release -p sanad-targeting --example evaluate_demo_model -- [HOUSEHOLDS] [SEED] [MODEL]`
//! (defaults 200000, 7, the crate's `models/pmt-demo.toml`).

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use sanad_targeting::{Evaluated, Model, evaluate, read_registry_csv, read_truth_csv};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let households: u64 = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(7), |a| a.parse())?;
    let path = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/pmt-demo.toml"),
        PathBuf::from,
    );
    let model = Model::from_toml(&std::fs::read_to_string(&path)?)?;
    let dir = tempfile::tempdir()?;
    let config = sanad_synth::GenConfig::new(households, seed);
    sanad_synth::generate(&config, dir.path(), &|_| {})?;
    let registry = read_registry_csv(
        File::open(dir.path().join("households.csv"))?,
        File::open(dir.path().join("persons.csv"))?,
        config.reference_date,
    )?;
    let truth: HashMap<String, f64> =
        read_truth_csv(File::open(dir.path().join("consumption.csv"))?)?
            .into_iter()
            .collect();
    let started = std::time::Instant::now();
    let scores: Vec<f64> = registry
        .iter()
        .map(|h| model.score(&h.facts).index)
        .collect();
    let elapsed = started.elapsed();
    eprintln!(
        "scored {} households in {:.1} ms ({:.0} ns per household, with contributions)",
        registry.len(),
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e9 / registry.len() as f64
    );
    let started = std::time::Instant::now();
    let sum: f64 = registry.iter().map(|h| model.index(&h.facts)).sum();
    let elapsed = started.elapsed();
    eprintln!(
        "index only: {:.0} ns per household (mean index {:.3})",
        elapsed.as_secs_f64() * 1e9 / registry.len() as f64,
        sum / registry.len() as f64
    );
    let rows: Vec<Evaluated> = registry
        .iter()
        .zip(scores)
        .filter_map(|(h, predicted)| {
            Some(Evaluated {
                region_code: h.facts.region_code.clone(),
                area: h.facts.area,
                predicted,
                actual: *truth.get(&h.household_id)?,
            })
        })
        .collect();
    // The thresholds as reported in the press: AMO-Tadamon about 9.32 (issue 12), direct social aid
    // 9.74 (the budget minister before parliament, 2025, reported by actu-maroc.com and le360.ma).
    let thresholds = [("AMO-Tadamon".to_owned(), 9.32), ("ASD".to_owned(), 9.74)];
    println!(
        "model {} v{} on {households} generated households (seed {seed}):",
        model.id, model.version
    );
    println!("{}", evaluate(&rows, &thresholds));
    Ok(())
}
