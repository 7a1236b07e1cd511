//! `cargo run --release -p sanad-synth --example gen -- OUT_DIR HOUSEHOLDS [SEED] [DUPLICATE_RATE]`:
//! writes the CSV files and prints the throughput.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "target/synth-out".into());
    let households: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let rate: f64 = args.next().map_or(Ok(0.0), |a| a.parse())?;
    let mut config = sanad_synth::GenConfig::new(households, seed);
    config.duplicate_rate = rate;
    let start = Instant::now();
    let summary = sanad_synth::generate(&config, std::path::Path::new(&out), &|_| {})?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{summary:?} in {secs:.2} s: {:.0} households/s, {:.0} persons/s",
        households as f64 / secs,
        summary.persons as f64 / secs
    );
    Ok(())
}
