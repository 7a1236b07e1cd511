//! Runs the deduplication engine on a persons CSV and prints the benchmark table.
//!
//! ```sh
//! cargo run --release -p sanad-dedup --example dedup_bench -- \
//!     --csv /tmp/dd/persons.csv --households /tmp/dd/households.csv --truth /tmp/dd/truth.csv --out /tmp/dd/out
//! ```
//!
//! Options: `--map FIELD=COLUMN` (repeatable), `--threads N`, `--match P` (instead of the threshold
//! chosen from the data), `--review P`, `--json`.

use std::path::PathBuf;
use std::process::ExitCode;

use sanad_dedup::{BenchOptions, run_bench};

fn main() -> ExitCode {
    let mut opts = BenchOptions::default();
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r: Result<(), String> = (|| {
            match a.as_str() {
                "--csv" => opts.persons_csv = PathBuf::from(value("--csv")?),
                "--truth" => opts.truth_csv = Some(PathBuf::from(value("--truth")?)),
                "--households" => opts.households_csv = Some(PathBuf::from(value("--households")?)),
                "--out" => opts.out_dir = Some(PathBuf::from(value("--out")?)),
                "--threads" => {
                    opts.config.threads = value("--threads")?
                        .parse()
                        .map_err(|e| format!("--threads: {e}"))?
                }
                "--match" => {
                    opts.config.match_threshold = value("--match")?
                        .parse()
                        .map_err(|e| format!("--match: {e}"))?;
                    opts.config.auto_threshold = false;
                }
                "--review" => {
                    opts.config.review_threshold = value("--review")?
                        .parse()
                        .map_err(|e| format!("--review: {e}"))?
                }
                "--map" => {
                    let m = value("--map")?;
                    let (f, c) = m.split_once('=').ok_or("--map takes FIELD=COLUMN")?;
                    opts.mapping.insert(f.to_owned(), c.to_owned());
                }
                "--json" => json = true,
                other => return Err(format!("unknown argument {other}")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            eprintln!("dedup_bench: {e}");
            return ExitCode::from(2);
        }
    }
    if opts.persons_csv.as_os_str().is_empty() {
        eprintln!(
            "usage: dedup_bench --csv PERSONS.csv [--truth TRUTH.csv] [--households HOUSEHOLDS.csv] [--out DIR] [--map FIELD=COLUMN]… [--threads N] [--json]"
        );
        return ExitCode::from(2);
    }
    match run_bench(&opts) {
        Ok(outcome) => {
            if json {
                match serde_json::to_string_pretty(&outcome) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("dedup_bench: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", outcome.table());
            }
            // The records are freed by the OS: a million allocations less to walk through.
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("dedup_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
