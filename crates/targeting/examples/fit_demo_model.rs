//! Regenerates the shipped model `models/pmt-demo.toml`: generates a population with `sanad-synth`,
//! reads its `survey.csv`, fits, prints the fit report and writes the model file.
//!
//! `cargo run --release -p sanad-targeting --example fit_demo_model -- [HOUSEHOLDS] [SEED] [OUT]`
//! (defaults 1500000, 2026, the crate's `models/pmt-demo.toml`).

use std::path::PathBuf;

use anyhow_free::Result;
use sanad_targeting::{FitOptions, fit, read_survey_csv};

/// Examples may not use `anyhow` (not a dependency of the crate): a boxed error does.
mod anyhow_free {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let households: u64 = args.next().map_or(Ok(1_500_000), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(2026), |a| a.parse())?;
    let out = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/pmt-demo.toml"),
        PathBuf::from,
    );
    let dir = tempfile::tempdir()?;
    let started = std::time::Instant::now();
    sanad_synth::generate(
        &sanad_synth::GenConfig::new(households, seed),
        dir.path(),
        &|_| {},
    )?;
    eprintln!(
        "generated {households} households (seed {seed}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let survey = read_survey_csv(std::fs::File::open(dir.path().join("survey.csv"))?)?;
    let options = FitOptions {
        id: "pmt-demo".to_owned(),
        version: 1,
        description: format!(
            "Demo proxy means test fitted on the survey.csv of a generated population \
             ({households} households, seed {seed}); not an official model."
        ),
        ..FitOptions::default()
    };
    let started = std::time::Instant::now();
    let report = fit(&survey, &options)?;
    eprintln!("fitted in {:.2} s", started.elapsed().as_secs_f64());
    println!("{report}");
    std::fs::write(&out, report.model.to_toml())?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
