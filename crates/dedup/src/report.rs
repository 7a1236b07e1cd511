//! The benchmark: read a CSV, deduplicate, write the outputs, evaluate against a truth file, and print
//! a table (quality, blocking, time per phase, pairs per second, peak memory).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use crate::eval::evaluate_entities;
use crate::{
    ColumnMapping, DedupConfig, DedupError, Evaluation, RunReport, attach_communes, deduplicate,
    read_csv, read_truth, write_clusters_csv, write_pairs_csv,
};

/// What to benchmark.
#[derive(Clone, Debug, Default)]
pub struct BenchOptions {
    pub persons_csv: PathBuf,
    /// `person_id,entity_id`; without it no quality figures.
    pub truth_csv: Option<PathBuf>,
    /// A households CSV (`household_id,commune_code,…`) giving each person's commune.
    pub households_csv: Option<PathBuf>,
    pub mapping: ColumnMapping,
    /// Where to write `pairs.csv` and `clusters.csv` (timed as part of the run); none: not written.
    pub out_dir: Option<PathBuf>,
    pub config: DedupConfig,
}

/// The figures of a benchmark run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchOutcome {
    pub records: usize,
    pub read_seconds: f64,
    pub write_seconds: f64,
    /// Read + deduplicate + write.
    pub end_to_end_seconds: f64,
    pub report: RunReport,
    pub evaluation: Option<Evaluation>,
    pub peak_rss_bytes: Option<u64>,
    /// The fitted model's prior and parameters per field and level (term frequencies left out).
    pub lambda: f64,
    pub fields: Vec<crate::FieldModel>,
}

/// Peak resident memory of this process (VmHWM of /proc/self/status), where available.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time (user + system) used by this process so far, from /proc/self/stat, where available.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs the benchmark and returns its figures.
pub fn run_bench(opts: &BenchOptions) -> Result<BenchOutcome, DedupError> {
    let start = Instant::now();
    let mut records = read_csv(&opts.persons_csv, &opts.mapping)?;
    if let Some(h) = &opts.households_csv {
        attach_communes(&mut records, h, "household_id", "commune_code")?;
    }
    let read_seconds = start.elapsed().as_secs_f64();
    let result = deduplicate(&records, &opts.config)?;
    let w = Instant::now();
    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir).map_err(|source| DedupError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        write_pairs_csv(dir.join("pairs.csv"), &result, &records)?;
        write_clusters_csv(dir.join("clusters.csv"), &result, &records)?;
    }
    let write_seconds = w.elapsed().as_secs_f64();
    let end_to_end_seconds = start.elapsed().as_secs_f64();
    let evaluation = match &opts.truth_csv {
        Some(t) => Some(evaluate_entities(&result, &read_truth(t, &records)?)),
        None => None,
    };
    Ok(BenchOutcome {
        records: records.len(),
        read_seconds,
        write_seconds,
        end_to_end_seconds,
        lambda: result.model.lambda,
        fields: result.model.fields.clone(),
        report: result.report,
        evaluation,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// Runs the benchmark and renders its table.
pub fn bench_report(opts: &BenchOptions) -> Result<String, DedupError> {
    Ok(run_bench(opts)?.table())
}

fn millions(x: f64) -> String {
    format!("{:.2} M", x / 1e6)
}

impl BenchOutcome {
    /// The figures as a plain-text table.
    pub fn table(&self) -> String {
        let r = &self.report;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Sanad deduplication: {} records, {} worker threads",
            self.records, r.threads
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "{:<28} {:>9}", "phase", "seconds");
        let _ = writeln!(s, "{:<28} {:>9.2}", "read CSV", self.read_seconds);
        for t in &r.timings {
            let _ = writeln!(s, "{:<28} {:>9.2}", t.phase, t.seconds);
        }
        let _ = writeln!(
            s,
            "{:<28} {:>9.2}",
            "write pairs and clusters", self.write_seconds
        );
        let _ = writeln!(s, "{:<28} {:>9.2}", "end to end", self.end_to_end_seconds);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<30} {:>9} {:>8} {:>9} {:>8} {:>12} {:>12} {:>8}",
            "blocking rule",
            "blocks",
            "largest",
            "oversized",
            "skipped",
            "raw pairs",
            "new pairs",
            "matches"
        );
        for rule in &r.rules {
            let _ = writeln!(
                s,
                "{:<30} {:>9} {:>8} {:>9} {:>8} {:>12} {:>12} {:>7.1}%",
                rule.rule,
                rule.blocks,
                rule.largest_block,
                rule.oversized_blocks,
                rule.skipped_blocks,
                rule.raw_pairs,
                rule.candidate_pairs,
                100.0 * rule.match_share
            );
        }
        let _ = writeln!(
            s,
            "estimated blocking recall     {:.4} (no truth needed: from the fitted m and the missing values)",
            r.estimated_blocking_recall
        );
        let _ = writeln!(
            s,
            "thresholds                    match {:.3} ({}), review {:.3}; {:.0} matching pairs expected",
            r.match_threshold,
            if r.threshold_chosen_from_data {
                "chosen from the data"
            } else {
                "given"
            },
            r.review_threshold,
            r.expected_matches
        );
        let _ = writeln!(s);
        let score = r.seconds("score");
        let _ = writeln!(s, "candidate pairs scored        {}", r.pairs_scored);
        let _ = writeln!(
            s,
            "scoring speed                 {}/s ({}/s per core, {:.2} s)",
            millions(r.pairs_per_second),
            millions(r.pairs_per_second_per_core),
            score
        );
        if let Some(c) = r.pairs_per_cpu_second {
            let _ = writeln!(s, "scoring per CPU second        {}/s", millions(c));
        }
        let _ = writeln!(
            s,
            "end-to-end speed              {}/s ({}/s per core)",
            millions(r.pairs_scored as f64 / self.end_to_end_seconds.max(1e-9)),
            millions(
                r.pairs_scored as f64 / self.end_to_end_seconds.max(1e-9) / r.threads.max(1) as f64
            )
        );
        let _ = writeln!(
            s,
            "training                      u from {} random pairs, EM on {} pairs",
            r.u_pairs, r.em_pairs
        );
        let _ = writeln!(
            s,
            "matches / review / clusters   {} / {} / {} ({} records)",
            r.matches, r.review, r.clusters, r.records_in_clusters
        );
        let ii = &r.input_issues;
        let _ = writeln!(
            s,
            "inputs treated as missing     {} dates, {} national ids, {} records without names",
            ii.invalid_dates, ii.invalid_national_ids, ii.empty_names
        );
        if let Some(rss) = self.peak_rss_bytes {
            let _ = writeln!(
                s,
                "peak memory (VmHWM)           {:.0} MiB",
                rss as f64 / (1024.0 * 1024.0)
            );
        }
        if let Some(e) = &self.evaluation {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "{:<34} {:>9} {:>9} {:>9}",
                "quality against the truth file", "precision", "recall", "F1"
            );
            let _ = writeln!(
                s,
                "{:<34} {:>9.4} {:>9.4} {:>9.4}",
                "pairs", e.pair_precision, e.pair_recall, e.pair_f1
            );
            let _ = writeln!(
                s,
                "{:<34} {:>9.4} {:>9.4} {:>9.4}",
                "clusters (pairwise)", e.cluster_precision, e.cluster_recall, e.cluster_f1
            );
            let _ = writeln!(
                s,
                "{:<34} {:>9.4} {:>9.4} {:>9.4}",
                "clusters (B-cubed)", e.bcubed_precision, e.bcubed_recall, e.bcubed_f1
            );
            let _ = writeln!(
                s,
                "blocking recall               {:.4} ({} of {} true pairs reachable)",
                e.blocking_recall, e.reachable_true_pairs, e.true_pairs
            );
            let _ = writeln!(
                s,
                "true / predicted / correct    {} / {} / {} pairs; review: {} true, {} false",
                e.true_pairs,
                e.predicted_pairs,
                e.true_positive_pairs,
                e.review_true_pairs,
                e.review_false_pairs
            );
        }
        s
    }
}
