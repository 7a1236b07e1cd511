//! Sanad's deduplication engine: finds the same person registered twice in memory, without a
//! database.
//!
//! Pipeline ([`deduplicate`]): features once per record ([`normalize`], columnar, strings hashed to
//! `u32`) → blocking by several rules with capped blocks ([`BlockingRule`]) → training ([`train`]: u
//! from random pairs, m by EM on agreement-pattern counts of a sample of candidate pairs, name term
//! frequencies) → scoring every candidate pair once, streamed per block (Fellegi–Sunter match weight,
//! probability and per-field explanation) → the match threshold chosen from the fitted model (where
//! its predicted F1 is highest; overridable) → union-find clustering of the pairs above it; pairs
//! between the review and the match thresholds form the review list. [`explain_html`] renders the
//! fitted model, its predicted precision–recall curve and a pair's waterfall ([`compare_records`]).
//!
//! [`MatchIndex`] serves the registration-time check: built once from the registry's persons with a
//! trained [`Model`], then queried per new person.

mod blocking;
mod compare;
pub mod date;
mod eval;
mod explain;
mod features;
mod index;
mod io;
mod links;
mod model;
pub mod normalize;
mod recall;
mod report;

use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use blocking::{BlockingRule, RuleReport};
pub use compare::{FIELDS, LEVELS, Levels, N_FIELDS, jaro_winkler};
pub use eval::{Evaluation, evaluate, evaluate_entities, read_truth};
pub use explain::{PairToExplain, explain_html, prior_bits};
pub use features::{
    FieldIssue, InputIssues, NotANationalId, TermFrequencies, normalize_national_id,
};
pub use index::{Candidate, MatchIndex, compare_records};
pub use io::{
    ColumnMapping, attach_communes, read_csv, read_csv_from, write_clusters_csv, write_pairs_csv,
};
pub use model::{FieldModel, LevelModel, Model, TrainingSummary, probability};
pub use report::{BenchOptions, BenchOutcome, bench_report, peak_rss_bytes, run_bench};

use blocking::{Blocking, NidBytes};
use features::{Feat, Table, TfLookup};

/// One person record, as read from a CSV file or the registry. Empty strings count as missing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: Option<String>,
    pub last_name_ar: Option<String>,
    /// `M`/`F` (also `H`, `1`, `2`); anything else counts as missing.
    pub sex: Option<char>,
    /// `YYYY-MM-DD`, `YYYYMMDD` or `DD/MM/YYYY`; anything else counts as missing (and is reported).
    pub birth_date: Option<String>,
    pub national_id: Option<String>,
    /// A commune code; dotted HCP codes (`01.511.01.01`) also give the province and region levels.
    pub commune: Option<String>,
    pub household_id: Option<String>,
    pub phone: Option<String>,
}

/// Settings of a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DedupConfig {
    /// Pairs with a match probability at or above this are matches (clustered); with
    /// `auto_threshold`, only the starting point (see [`choose_threshold`]).
    pub match_threshold: f64,
    /// Choose the match threshold from the fitted model: the one that maximises the F1 the model
    /// predicts (`match_threshold` is then overridden; the review threshold stays).
    #[serde(default)]
    pub auto_threshold: bool,
    /// Pairs at or above this and below `match_threshold` go to the review list.
    pub review_threshold: f64,
    /// About this many pairs to review: the review threshold rises (never falls below
    /// `review_threshold`) until the review band holds at most this many, the likeliest first.
    #[serde(default)]
    pub review_pairs: Option<usize>,
    /// Largest block scored as a whole; larger ones are split by sex and region, then skipped.
    pub max_block_size: usize,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Random pairs drawn to estimate u.
    pub u_sample_pairs: u64,
    /// The share of matches is estimated on the candidate pairs of one block in `em_block_sample`
    /// (by key hash).
    pub em_block_sample: u64,
    /// About this many pairs train m in each of the two EM sessions.
    pub em_session_pairs: u64,
    pub em_max_iterations: usize,
    pub seed: u64,
    pub rules: Vec<BlockingRule>,
    /// Floor of a name's term frequency.
    pub tf_minimum: f64,
    /// Strength of the term-frequency adjustment (0 = none, 1 = full).
    pub tf_weight: f64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            match_threshold: 0.5,
            auto_threshold: true,
            review_threshold: 0.1,
            review_pairs: None,
            max_block_size: 1000,
            threads: 0,
            u_sample_pairs: 1_000_000,
            em_block_sample: 8,
            em_session_pairs: 1_000_000,
            em_max_iterations: 100,
            seed: 42,
            rules: BlockingRule::DEFAULT.to_vec(),
            tf_minimum: 1e-6,
            tf_weight: 1.0,
        }
    }
}

/// Errors of the engine. Messages name the file, row (CSV line) and field.
#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: the mapping names column {column:?} for field {field}, but the header has no such column (columns: {available})"
    )]
    MissingColumn {
        path: String,
        field: String,
        column: String,
        available: String,
    },
    #[error("{path}: field {field} must be mapped to a column")]
    Unmapped { path: String, field: String },
    #[error("unknown field {field:?} in the column mapping (known: {known})")]
    UnknownField { field: String, known: String },
    #[error("{path}, line {line}, field {field}: {problem}")]
    Row {
        path: String,
        line: u64,
        field: String,
        problem: String,
    },
    #[error("{path}, line {line}: {problem}")]
    Csv {
        path: String,
        line: u64,
        problem: String,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
}

/// Whether a scored pair is a match or waits for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairStatus {
    Match,
    Review,
}

/// One field's part of a pair's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldExplanation {
    pub field: &'static str,
    pub level: &'static str,
    /// Bits added to the match weight (term-frequency adjustment included).
    pub weight: f32,
}

/// A scored candidate pair: `a < b` are indices into the input records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    pub probability: f32,
    /// Match weight in bits: prior + the sum of the field weights.
    pub weight: f32,
    pub levels: Levels,
    pub field_weights: [f32; N_FIELDS],
    /// The names agreed in swapped order (first name written as family name and back).
    pub swapped_names: bool,
    pub status: PairStatus,
}

impl ScoredPair {
    /// Field by field: level name and its weight.
    pub fn explanation(&self) -> Vec<FieldExplanation> {
        (0..N_FIELDS)
            .map(|f| FieldExplanation {
                field: FIELDS[f],
                level: LEVELS[f][usize::from(self.levels[f])],
                weight: self.field_weights[f],
            })
            .collect()
    }
}

/// Time spent in one phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseTiming {
    pub phase: &'static str,
    pub seconds: f64,
}

/// What a run did, for the bench table and logs (no personal data).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    pub records: usize,
    pub threads: usize,
    pub rules: Vec<RuleReport>,
    /// Candidate pairs scored (each once, whatever the number of rules that reach it).
    pub pairs_scored: u64,
    pub u_pairs: u64,
    pub em_pairs: u64,
    pub matches: usize,
    pub review: usize,
    pub clusters: usize,
    pub records_in_clusters: usize,
    pub timings: Vec<PhaseTiming>,
    /// Scored pairs per second of the scoring phase, and per worker thread.
    pub pairs_per_second: f64,
    pub pairs_per_second_per_core: f64,
    /// Scored pairs per CPU second of the scoring phase (from /proc/self/stat; immune to other
    /// processes sharing the cores).
    pub pairs_per_cpu_second: Option<f64>,
    pub input_issues: InputIssues,
    /// The thresholds used (the match threshold chosen from the data unless given).
    pub match_threshold: f64,
    pub review_threshold: f64,
    pub threshold_chosen_from_data: bool,
    /// Matches the model expects among all pairs, and the precision and recall it predicts at
    /// each threshold (from the probabilities of the scored pairs; no truth needed).
    pub expected_matches: f64,
    pub predicted_curve: Vec<CurvePoint>,
    /// The blocking recall estimated without a truth file, from the fitted model (the chance that
    /// the rules reach a match, its fields drawn with the fitted m and missing as in the file).
    pub estimated_blocking_recall: f64,
}

/// A point of the predicted precision–recall curve.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct CurvePoint {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub pairs: u64,
}

/// The predicted precision–recall curve of scored pairs whose match probabilities are `probs`,
/// against `expected_matches` matches in all (the model's prior times all pairs; at least the sum
/// of the probabilities). A calibrated model expects `Σ p` true matches above a threshold among
/// the pairs above it, and misses the expected matches below it.
pub fn predicted_curve(probs: &[f64], expected_matches: f64) -> Vec<CurvePoint> {
    let mut p: Vec<f64> = probs.to_vec();
    p.sort_by(|a, b| b.total_cmp(a));
    let total = expected_matches.max(p.iter().sum::<f64>()).max(1e-9);
    let mut out = Vec::new();
    let mut tp = 0.0;
    let mut k = 0usize;
    // Thresholds on a logit grid, dense near 0 and 1 where the pairs are.
    for step in (0..=60).rev() {
        let w = -15.0 + f64::from(step) * 0.5;
        let t = probability(w);
        while k < p.len() && p[k] >= t {
            tp += p[k];
            k += 1;
        }
        let precision = if k == 0 { 1.0 } else { tp / k as f64 };
        let recall = tp / total;
        out.push(CurvePoint {
            threshold: t,
            precision,
            recall,
            f1: 2.0 * tp / (k as f64 + total),
            pairs: k as u64,
        });
    }
    out
}

/// The match threshold that maximises the predicted F1 over `[lo, hi]`: the probability of the
/// last pair kept (scored pairs sorted by decreasing probability), so that the choice is exact,
/// not on a grid.
pub fn choose_threshold(probs: &[f64], expected_matches: f64, lo: f64, hi: f64) -> f64 {
    let mut p: Vec<f64> = probs.iter().copied().filter(|&x| x >= lo).collect();
    p.sort_by(|a, b| b.total_cmp(a));
    let total = expected_matches.max(probs.iter().sum::<f64>()).max(1e-9);
    let (mut tp, mut best, mut best_t) = (0.0, -1.0, hi);
    for (k, &x) in p.iter().enumerate() {
        tp += x;
        let f1 = 2.0 * tp / ((k + 1) as f64 + total);
        if f1 > best && x <= hi {
            best = f1;
            best_t = x;
        }
    }
    best_t.clamp(lo, hi)
}

/// The review threshold that leaves at most `budget` pairs between it and the match threshold
/// (the likeliest first), before the household-links evidence.
pub fn review_threshold_for(probs: &[f64], match_threshold: f64, budget: usize) -> f64 {
    let mut below: Vec<f64> = probs
        .iter()
        .copied()
        .filter(|&p| p < match_threshold)
        .collect();
    if below.len() <= budget {
        return 0.0;
    }
    below.sort_by(|a, b| b.total_cmp(a));
    // Just above the first pair left out.
    let cut = below[budget];
    (cut + (1.0 - cut) * 1e-9).min(match_threshold)
}

impl RunReport {
    pub fn seconds(&self, phase: &str) -> f64 {
        self.timings
            .iter()
            .filter(|t| t.phase == phase)
            .map(|t| t.seconds)
            .sum()
    }
}

/// The outcome of [`deduplicate`].
#[derive(Debug)]
pub struct DedupResult {
    /// Every pair at or above the review threshold (matches and pairs to review), sorted by (a, b).
    pub pairs: Vec<ScoredPair>,
    /// Clusters of two or more records (indices into the input, ascending), sorted by first member.
    pub clusters: Vec<Vec<u32>>,
    /// Per record, the index of the first record of its cluster (its own index when alone).
    pub cluster_of: Vec<u32>,
    /// The pairs between the review and the match thresholds, by decreasing probability.
    pub review: Vec<ScoredPair>,
    pub report: RunReport,
    pub model: Model,
    reach: Reach,
}

impl DedupResult {
    /// The matches (pairs at or above the match threshold).
    pub fn matches(&self) -> impl Iterator<Item = &ScoredPair> {
        self.pairs.iter().filter(|p| p.status == PairStatus::Match)
    }

    /// Whether the blocking rules reach the pair of records `i` and `j`.
    pub fn reachable(&self, i: usize, j: usize) -> bool {
        let (Some(&a), Some(&b)) = (self.reach.pos.get(i), self.reach.pos.get(j)) else {
            return false;
        };
        i != j
            && self
                .reach
                .blocking
                .reachable(a as usize, b as usize, &self.reach.nids)
    }
}

#[derive(Debug)]
struct Reach {
    /// Keys and national ids in blocking order; `pos[i]` is the blocking row of input record i.
    blocking: Blocking,
    nids: Vec<NidBytes>,
    pos: Vec<u32>,
}

impl std::fmt::Debug for Blocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

fn check_config(c: &DedupConfig) -> Result<(), DedupError> {
    let p = |x: f64| (0.0..=1.0).contains(&x);
    if !p(c.match_threshold) || !p(c.review_threshold) || c.review_threshold > c.match_threshold {
        return Err(DedupError::Config(format!(
            "thresholds must satisfy 0 ≤ review ({}) ≤ match ({}) ≤ 1",
            c.review_threshold, c.match_threshold
        )));
    }
    if c.rules.is_empty() || c.rules.len() > 32 {
        return Err(DedupError::Config(
            "between 1 and 32 blocking rules are needed".into(),
        ));
    }
    if !(c.tf_minimum > 0.0 && c.tf_minimum <= 1.0 && (0.0..=1.0).contains(&c.tf_weight)) {
        return Err(DedupError::Config(
            "tf_minimum must be in (0, 1] and tf_weight in [0, 1]".into(),
        ));
    }
    if c.em_block_sample == 0 {
        return Err(DedupError::Config(
            "em_block_sample must be at least 1".into(),
        ));
    }
    Ok(())
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, DedupError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if threads > 0 {
        b = b.num_threads(threads);
    }
    b.build().map_err(|e| DedupError::Threads(e.to_string()))
}

struct Timer {
    start: Instant,
    timings: Vec<PhaseTiming>,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            start: Instant::now(),
            timings: Vec::new(),
        }
    }
    fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.timings.push(PhaseTiming {
            phase,
            seconds: (now - self.start).as_secs_f64(),
        });
        self.start = now;
    }
}

/// Features, TF and blocking of a record set.
struct Prepared {
    /// Features in blocking order (see [`locality_order`]); `order[k]` is the input index of row k.
    table: Table,
    order: Vec<u32>,
    tf: TermFrequencies,
    issues: InputIssues,
    blocking: Blocking,
}

fn prepare(
    records: &[Record],
    config: &DedupConfig,
    tf_from: Option<&TermFrequencies>,
    timer: &mut Timer,
) -> Prepared {
    let (mut table, tf, issues) = features::build_table(records);
    let lookup = TfLookup::from_tables(tf_from.unwrap_or(&tf));
    apply_tf(&mut table.feats, &lookup, config.tf_minimum);
    let order = locality_order(&table.feats);
    table.feats = order.iter().map(|&o| table.feats[o as usize]).collect();
    timer.lap("normalise");
    let blocking = Blocking::build(&table.feats, &config.rules, config.max_block_size);
    timer.lap("block");
    Prepared {
        table,
        order,
        tf,
        issues,
        blocking,
    }
}

/// An order of the records that puts people with the same names (and then birth dates) next to
/// each other, so that the blocks of the name rules read neighbouring memory.
fn locality_order(feats: &[Feat]) -> Vec<u32> {
    use rayon::prelude::*;
    let mut keyed: Vec<(u64, u32)> = feats
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let (a, b) = if f.first.ar != 0 || f.last.ar != 0 {
                (f.first.ar, f.last.ar)
            } else {
                (f.first.phon, f.last.phon)
            };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let names = features::combine(&[u64::from(lo) + 1, u64::from(hi) + 1]);
            ((u64::from(names) << 32) | u64::from(f.dob), i as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn apply_tf(feats: &mut [Feat], lookup: &TfLookup, tf_min: f64) {
    use rayon::prelude::*;
    feats.par_iter_mut().for_each(|f| lookup.apply(f, tf_min));
}

/// Matches the national-id session needs before its m replace those of the other sessions.
const MIN_SESSION_C_MATCHES: f64 = 500.0;

fn train_prepared(p: &Prepared, config: &DedupConfig, timer: &mut Timer) -> Model {
    let t = &p.table;
    let (u_counts, u_pairs) = model::sample_u(t, config.u_sample_pairs, config.seed);
    let u = model::u_from_counts(&u_counts);
    timer.lap("train_u");
    let pw = model::prior_weights();
    // m by EM in two sessions, each on pairs that agree on what the other session estimates
    // (Splink's practice): pairs with the same names and birth year train the other fields; pairs
    // born the same day, of the same sex, train the names. Fields a session blocks on are left out
    // of its EM.
    let session = |rule: BlockingRule, left_out: &[usize]| -> (Vec<(usize, f64)>, u64) {
        let b = Blocking::build(&t.feats, &[rule], config.max_block_size);
        let sample = (b.raw_pairs(0) / config.em_session_pairs.max(1)).max(1);
        let (counts, produced, _) = b.for_each_pair(
            &t.feats,
            Some((sample, config.seed)),
            compare::PatternCounts::default,
            |st, i, j, _| {
                let mut l =
                    model::plain_levels(model::Arenas::one(t), &t.feats[i], &t.feats[j], &pw);
                for &f in left_out {
                    l[f] = 0;
                }
                st.add(compare::pattern_index(&l));
            },
            compare::PatternCounts::merge,
        );
        (counts.sparse(), produced[0])
    };
    let (counts_a, pairs_a) = session(BlockingRule::PhoneticNamesYear, &[0, 1]);
    let (counts_b, pairs_b) = session(BlockingRule::BirthDateSex, &[2, 4, 6]);
    // u stays at its random-pair value for the fields a session neither blocks on nor leaves out.
    let ra = model::em_full(
        &counts_a,
        config.em_max_iterations,
        1e-6,
        None,
        Some((&u, &[3, 5, 7])),
    );
    let rb = model::em_full(
        &counts_b,
        config.em_max_iterations,
        1e-6,
        None,
        Some((&u, &[0, 1, 3, 5, 7])),
    );
    let fixed_a = model::fixed_levels(&counts_a);
    let fixed_b = model::fixed_levels(&counts_b);
    // Names from session B; the other fields from session A, averaged with B where both
    // estimated them (national id, commune, phone).
    let mut m = ra.m.clone();
    let mut fixed = fixed_a.clone();
    for f in [0, 1] {
        m[f] = rb.m[f].clone();
        fixed[f] = fixed_b[f].clone();
    }
    for f in [3, 5, 7] {
        for l in 1..LEVELS[f].len() {
            match (fixed_a[f][l], fixed_b[f][l]) {
                (false, false) => m[f][l] = (ra.m[f][l] + rb.m[f][l]) / 2.0,
                (true, false) => {
                    m[f][l] = rb.m[f][l];
                    fixed[f][l] = false;
                }
                _ => {}
            }
        }
    }
    // Session C, on pairs sharing a national id, sees every level of the names and the birth
    // date (A cannot see a birth year typed wrong, B a name typed wrong): where it holds enough
    // matches, it gives those fields' m.
    let (counts_c, pairs_c) = session(BlockingRule::NationalIdExact, &[3]);
    let rc = model::em_full(
        &counts_c,
        config.em_max_iterations,
        1e-6,
        None,
        Some((&u, &[0, 1, 2, 5, 7])),
    );
    let fixed_c = model::fixed_levels(&counts_c);
    if rc.lambda * pairs_c as f64 >= MIN_SESSION_C_MATCHES {
        for f in [0, 1, 2, 4] {
            for l in 1..LEVELS[f].len() {
                if !fixed_c[f][l] {
                    m[f][l] = rc.m[f][l];
                    fixed[f][l] = false;
                }
            }
        }
    }
    model::neutralise(&mut m, &u, &fixed);
    // The share of matches among the candidate pairs, with m fixed: EM on a sample of the blocks.
    let (counts, produced, _) = p.blocking.for_each_pair(
        &t.feats,
        Some((config.em_block_sample, config.seed)),
        compare::PatternCounts::default,
        |st, i, j, _| {
            let l = model::plain_levels(model::Arenas::one(t), &t.feats[i], &t.feats[j], &pw);
            st.add(compare::pattern_index(&l));
        },
        compare::PatternCounts::merge,
    );
    let sparse = counts.sparse();
    let em_pairs: u64 = produced.iter().sum::<u64>() + pairs_a + pairs_b + pairs_c;
    let n = t.feats.len() as f64;
    let all_pairs = (n * (n - 1.0) / 2.0).max(1.0);
    // The prior: EM on λ alone with m and u fixed, over the candidate pairs (pairs that no rule
    // reaches are taken as non-matches). The sample holds 1 / em_block_sample of the candidates.
    let (lambda, lambda_iterations) =
        model::estimate_lambda(&sparse, &m, &u, config.em_block_sample as f64, all_pairs);
    let estimated_matches = lambda * all_pairs;
    let r = model::EmResult {
        m,
        u: u.clone(),
        lambda: estimated_matches
            / (produced.iter().sum::<u64>().max(1) as f64 * config.em_block_sample as f64),
        iterations: ra.iterations + rb.iterations + rc.iterations + lambda_iterations,
        converged: ra.converged && rb.converged && rc.converged,
    };
    timer.lap("train_em");
    model::assemble(
        &r.m,
        &u,
        &fixed,
        lambda,
        p.tf.clone(),
        config.tf_minimum,
        config.tf_weight,
        &config.rules,
        config.max_block_size,
        TrainingSummary {
            records: t.feats.len(),
            u_pairs,
            em_pairs,
            em_patterns: sparse.len(),
            em_iterations: r.iterations,
            em_converged: r.converged,
            em_match_share: r.lambda,
            estimated_matches,
        },
    )
}

/// Trains a model on `records`: term frequencies of the names, u from random pairs, m (and the prior)
/// by EM on a sample of the candidate pairs.
pub fn train(records: &[Record], config: &DedupConfig) -> Result<Model, DedupError> {
    check_config(config)?;
    pool(config.threads)?.install(|| {
        let mut timer = Timer::new();
        let p = prepare(records, config, None, &mut timer);
        Ok(train_prepared(&p, config, &mut timer))
    })
}

/// Finds the duplicates among `records`: trains a model on them, then scores and clusters.
pub fn deduplicate(records: &[Record], config: &DedupConfig) -> Result<DedupResult, DedupError> {
    run(records, config, None)
}

/// Like [`deduplicate`] with a model trained before (its term frequencies and weights are used as
/// they are; the blocking rules and thresholds come from `config`).
pub fn deduplicate_with_model(
    records: &[Record],
    model: &Model,
    config: &DedupConfig,
) -> Result<DedupResult, DedupError> {
    run(records, config, Some(model))
}

fn run(
    records: &[Record],
    config: &DedupConfig,
    given: Option<&Model>,
) -> Result<DedupResult, DedupError> {
    check_config(config)?;
    if records.len() >= u32::MAX as usize {
        return Err(DedupError::Config("at most 4,294,967,294 records".into()));
    }
    let pool = pool(config.threads)?;
    let threads = pool.current_num_threads();
    pool.install(|| {
        let mut timer = Timer::new();
        let p = prepare(
            records,
            config,
            given.map(|m| &m.term_frequencies),
            &mut timer,
        );
        let model = match given {
            Some(m) => m.clone(),
            None => train_prepared(&p, config, &mut timer),
        };
        let u_pairs = model.training.u_pairs;
        let em_pairs = model.training.em_pairs;
        let w = model.weights();
        let t = &p.table;
        let mut review_w = logit2(config.review_threshold);
        // With a threshold chosen from the data, pairs down to the review threshold are kept.
        let start_match = if config.auto_threshold {
            config.review_threshold
        } else {
            config.match_threshold
        };
        let mut match_w = logit2(start_match);
        // Pairs this far below the review threshold may still rise above it with the
        // household-links evidence of the second step.
        let keep_w = review_w.min(match_w) - links::HEADROOM_BITS;
        let score_start = Instant::now();
        let cpu_start = report::process_cpu_seconds();
        let (kept, produced, raw) = p.blocking.for_each_pair(
            &t.feats,
            None,
            Vec::new,
            |kept: &mut Vec<links::FirstPass>, i, j, _| {
                let s = model::score_pair(&w, model::Arenas::one(t), &t.feats[i], &t.feats[j]);
                if s.weight >= keep_w {
                    kept.push(links::FirstPass {
                        a: i as u32,
                        b: j as u32,
                        weight: s.weight,
                        core: s.weight - s.field_weights[5] - s.field_weights[6],
                    });
                }
            },
            |mut a, mut b| {
                if a.len() < b.len() {
                    std::mem::swap(&mut a, &mut b);
                }
                a.append(&mut b);
                a
            },
        );
        let score_secs = score_start.elapsed().as_secs_f64();
        let score_cpu = report::process_cpu_seconds()
            .zip(cpu_start)
            .map(|(b, a)| b - a);
        let mut model = model;
        let probs: Vec<f64> = kept
            .iter()
            .map(|fp| probability(f64::from(fp.weight)))
            .collect();
        let expected_matches = model.training.estimated_matches;
        let mut match_threshold = config.match_threshold;
        if config.auto_threshold {
            // Never below the review threshold, and never so high that a pair the model gives
            // 19 chances in 20 waits for review.
            match_threshold = choose_threshold(
                &probs,
                expected_matches,
                config.review_threshold.max(0.05),
                0.95,
            );
            match_w = logit2(match_threshold);
        }
        let mut review_threshold = config.review_threshold;
        if let Some(budget) = config.review_pairs {
            review_threshold =
                review_threshold_for(&probs, match_threshold, budget).max(config.review_threshold);
            review_w = logit2(review_threshold);
        }
        let predicted = predicted_curve(&probs, expected_matches);
        drop(probs);
        let fitted = links::fit(&kept, &t.feats, match_w);
        // Second step: the pairs that reach the review threshold with their household links, scored
        // again in full for their explanation, back in input indices.
        let mut pairs: Vec<ScoredPair> = Vec::new();
        for (k, fp) in kept.iter().enumerate() {
            let (level, lw) = match &fitted {
                Some(l) => (l.levels[k], l.weights[usize::from(l.levels[k])]),
                None => (0, 0.0),
            };
            if fp.weight + lw < review_w {
                continue;
            }
            let (i, j) = (fp.a as usize, fp.b as usize);
            let mut s = model::score_pair(&w, model::Arenas::one(t), &t.feats[i], &t.feats[j]);
            s.levels[links::FIELD] = level;
            s.field_weights[links::FIELD] = lw;
            s.weight += lw;
            let (a, b) = (p.order[i], p.order[j]);
            pairs.push(ScoredPair {
                a: a.min(b),
                b: a.max(b),
                probability: probability(f64::from(s.weight)) as f32,
                weight: s.weight,
                levels: s.levels,
                field_weights: s.field_weights,
                swapped_names: s.swapped,
                status: if s.weight >= match_w {
                    PairStatus::Match
                } else {
                    PairStatus::Review
                },
            });
        }
        if let Some(l) = fitted {
            model.fields[links::FIELD] = l.model;
        }
        pairs.sort_unstable_by_key(|p| (p.a, p.b));
        timer.lap("score");
        let (clusters, cluster_of) = cluster(
            records.len(),
            pairs.iter().filter(|p| p.status == PairStatus::Match),
        );
        let mut review: Vec<ScoredPair> = pairs
            .iter()
            .filter(|p| p.status == PairStatus::Review)
            .cloned()
            .collect();
        review.sort_by(|x, y| y.probability.total_cmp(&x.probability));
        timer.lap("cluster");
        let pairs_scored: u64 = produced.iter().sum();
        let mut rules = p.blocking.reports.clone();
        for (r, rep) in rules.iter_mut().enumerate() {
            rep.candidate_pairs = produced[r];
            rep.raw_pairs = raw[r];
        }
        let pps = pairs_scored as f64 / score_secs.max(1e-9);
        let report = RunReport {
            records: records.len(),
            threads,
            rules,
            pairs_scored,
            u_pairs,
            em_pairs,
            matches: pairs
                .iter()
                .filter(|p| p.status == PairStatus::Match)
                .count(),
            review: review.len(),
            clusters: clusters.len(),
            records_in_clusters: clusters.iter().map(Vec::len).sum(),
            timings: timer.timings,
            pairs_per_second: pps,
            pairs_per_second_per_core: pps / threads.max(1) as f64,
            pairs_per_cpu_second: score_cpu
                .filter(|c| *c > 0.0)
                .map(|c| pairs_scored as f64 / c),
            input_issues: p.issues.clone(),
            match_threshold,
            review_threshold,
            threshold_chosen_from_data: config.auto_threshold,
            expected_matches,
            predicted_curve: predicted,
            estimated_blocking_recall: 1.0,
        };
        let nids: Vec<NidBytes> = t.feats.iter().map(NidBytes::of).collect();
        let mut pos = vec![0u32; p.order.len()];
        for (k, &o) in p.order.iter().enumerate() {
            pos[o as usize] = k as u32;
        }
        let mut report = report;
        rule_match_shares(&p.blocking, &pairs, &pos, &nids, &mut report.rules);
        report.estimated_blocking_recall =
            recall::model_blocking_recall(&model, &t.feats, &p.blocking.rules);
        let mut blocking = p.blocking;
        blocking.drop_blocks();
        Ok(DedupResult {
            pairs,
            clusters,
            cluster_of,
            review,
            report,
            model,
            reach: Reach {
                blocking,
                nids,
                pos,
            },
        })
    })
}

/// Each rule's share of the matches found (whatever the other rules): which rules carry the
/// matches, and which add little.
fn rule_match_shares(
    blocking: &Blocking,
    pairs: &[ScoredPair],
    pos: &[u32],
    nids: &[NidBytes],
    rules: &mut [RuleReport],
) {
    let n_rules = blocking.rules.len();
    let mut covered = vec![0u64; n_rules];
    let mut matches = 0u64;
    for p in pairs.iter().filter(|p| p.status == PairStatus::Match) {
        let (i, j) = (pos[p.a as usize] as usize, pos[p.b as usize] as usize);
        matches += 1;
        for (r, c) in covered.iter_mut().enumerate() {
            if blocking.rule_covers(r, i, j, nids[i].as_slice(), nids[j].as_slice()) {
                *c += 1;
            }
        }
    }
    if matches == 0 {
        return;
    }
    for (r, c) in covered.iter().enumerate() {
        if let Some(rep) = rules.get_mut(r) {
            rep.match_share = *c as f64 / matches as f64;
        }
    }
}

/// The weight (bits) at which the probability reaches `p`.
fn logit2(p: f64) -> f32 {
    if p <= 0.0 {
        return f32::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f32::INFINITY;
    }
    (p / (1.0 - p)).log2() as f32
}

/// Connected components (union-find with path halving and union by size) of the given pairs.
fn cluster<'a>(n: usize, pairs: impl Iterator<Item = &'a ScoredPair>) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut size = vec![1u32; n];
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let p = parent[parent[x as usize] as usize];
            parent[x as usize] = p;
            x = p;
        }
        x
    }
    for p in pairs {
        let (ra, rb) = (find(&mut parent, p.a), find(&mut parent, p.b));
        if ra == rb {
            continue;
        }
        let (big, small) = if size[ra as usize] >= size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        parent[small as usize] = big;
        size[big as usize] += size[small as usize];
    }
    // Cluster id: the smallest member's index.
    let mut first = vec![u32::MAX; n];
    let mut cluster_of = vec![0u32; n];
    for i in 0..n as u32 {
        let r = find(&mut parent, i) as usize;
        if first[r] == u32::MAX {
            first[r] = i;
        }
        cluster_of[i as usize] = first[r];
    }
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut slot = vec![u32::MAX; n];
    for i in 0..n {
        let r = find(&mut parent, i as u32) as usize;
        if size[r] < 2 {
            continue;
        }
        if slot[r] == u32::MAX {
            slot[r] = members.len() as u32;
            members.push(Vec::with_capacity(size[r] as usize));
        }
        members[slot[r] as usize].push(i as u32);
    }
    (members, cluster_of)
}

/// Comparison levels of the given pairs (diagnostics: e.g. the true m of labelled pairs).
#[doc(hidden)]
pub fn debug_levels(records: &[Record], pairs: &[(u32, u32)]) -> Vec<Levels> {
    let (mut table, tf, _) = features::build_table(records);
    apply_tf(&mut table.feats, &TfLookup::from_tables(&tf), 1e-4);
    let pw = model::prior_weights();
    pairs
        .iter()
        .map(|&(a, b)| {
            model::plain_levels(
                model::Arenas::one(&table),
                &table.feats[a as usize],
                &table.feats[b as usize],
                &pw,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u32, b: u32) -> ScoredPair {
        ScoredPair {
            a,
            b,
            probability: 0.9,
            weight: 3.0,
            levels: [1; N_FIELDS],
            field_weights: [0.0; N_FIELDS],
            swapped_names: false,
            status: PairStatus::Match,
        }
    }

    #[test]
    fn union_find_clusters() {
        let pairs = [pair(0, 3), pair(3, 5), pair(1, 2), pair(5, 0)];
        let (clusters, of) = cluster(7, pairs.iter());
        assert_eq!(clusters, vec![vec![0, 3, 5], vec![1, 2]]);
        assert_eq!(of, vec![0, 1, 1, 0, 4, 0, 6]);
    }

    #[test]
    fn the_threshold_chosen_maximises_the_predicted_f1_and_the_review_band_keeps_its_budget() {
        // 90 near-certain pairs, 10 even odds, 100 unlikely; the model expects 100 matches in all.
        let mut probs = vec![0.99; 90];
        probs.extend([0.5; 10]);
        probs.extend([0.02; 100]);
        let t = choose_threshold(&probs, 100.0, 0.01, 0.95);
        // Taking the even-odds pairs adds 5 true matches for 5 false ones: F1 rises from
        // 2·89.1/190 = 0.938 to 2·94.1/200 = 0.941.
        assert!((t - 0.5).abs() < 1e-12, "{t}");
        let curve = predicted_curve(&probs, 100.0);
        let best = curve.iter().map(|c| c.f1).fold(0.0, f64::max);
        assert!(best <= 2.0 * 94.1 / 200.0 + 1e-9);
        assert!(curve.windows(2).all(|w| w[0].recall <= w[1].recall));
        let r = review_threshold_for(&probs, t, 30);
        let band = probs.iter().filter(|&&p| p >= r && p < t).count();
        assert!(band <= 30 && r > 0.0, "{r} {band}");
        assert_eq!(review_threshold_for(&probs, t, 1000), 0.0);
    }

    #[test]
    fn config_is_checked() {
        let c = DedupConfig {
            review_threshold: 0.9,
            match_threshold: 0.5,
            ..DedupConfig::default()
        };
        assert!(matches!(deduplicate(&[], &c), Err(DedupError::Config(_))));
        let r = deduplicate(&[], &DedupConfig::default()).unwrap();
        assert!(r.pairs.is_empty() && r.clusters.is_empty());
    }
}
