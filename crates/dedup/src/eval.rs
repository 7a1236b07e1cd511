//! Evaluation against a truth file (`person_id,entity_id`): precision, recall and F1 of the matched
//! pairs, of the clusters (pairwise over the pairs the clusters imply, and B-cubed), and the blocking
//! recall (the share of true pairs that some blocking rule reaches).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::{DedupError, DedupResult, PairStatus, Record};

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Evaluation {
    /// Pairs of records of the same entity.
    pub true_pairs: u64,
    /// Matched pairs (probability ≥ match threshold) and how many are true.
    pub predicted_pairs: u64,
    pub true_positive_pairs: u64,
    pub pair_precision: f64,
    pub pair_recall: f64,
    pub pair_f1: f64,
    /// Pairwise over the pairs implied by the clusters (every two records in one cluster).
    pub cluster_pairs: u64,
    pub cluster_true_positive_pairs: u64,
    pub cluster_precision: f64,
    pub cluster_recall: f64,
    pub cluster_f1: f64,
    /// B-cubed, averaged over all records.
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
    /// True pairs reached by at least one blocking rule, and their share.
    pub reachable_true_pairs: u64,
    pub blocking_recall: f64,
    /// True pairs sent to the review list, and review pairs that are false.
    pub review_true_pairs: u64,
    pub review_false_pairs: u64,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Reads `person_id,entity_id` (header required; other columns ignored) into one entity number per
/// record. Records absent from the file are their own entity.
pub fn read_truth(path: impl AsRef<Path>, records: &[Record]) -> Result<Vec<u32>, DedupError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| DedupError::Io {
        path: name.clone(),
        source,
    })?;
    let mut rdr =
        csv::ReaderBuilder::new().from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = rdr.headers().map_err(|e| DedupError::Csv {
        path: name.clone(),
        line: 1,
        problem: e.to_string(),
    })?;
    let col = |c: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == c)
    };
    let (Some(pc), Some(ec)) = (col("person_id").or_else(|| col("id")), col("entity_id")) else {
        return Err(DedupError::Csv {
            path: name,
            line: 1,
            problem: "the truth file needs the columns person_id and entity_id".into(),
        });
    };
    let index: HashMap<&str, u32> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u32))
        .collect();
    let mut entity: Vec<u32> = (0..records.len() as u32).collect();
    let mut entities: HashMap<String, u32> = HashMap::new();
    let mut row = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(DedupError::Csv {
                    path: name,
                    line: e.position().map_or(0, |p| p.line()),
                    problem: e.to_string(),
                });
            }
        }
        let (Some(p), Some(e)) = (row.get(pc), row.get(ec)) else {
            continue;
        };
        let Some(&i) = index.get(p) else { continue };
        let next = records.len() as u32 + entities.len() as u32;
        entity[i as usize] = *entities.entry(e.to_owned()).or_insert(next);
    }
    Ok(entity)
}

/// Evaluates a result against a truth file.
pub fn evaluate(
    result: &DedupResult,
    records: &[Record],
    truth_path: impl AsRef<Path>,
) -> Result<Evaluation, DedupError> {
    let entity = read_truth(truth_path, records)?;
    Ok(evaluate_entities(result, &entity))
}

/// Evaluates a result against one entity number per record.
pub fn evaluate_entities(result: &DedupResult, entity: &[u32]) -> Evaluation {
    let n = entity.len();
    let mut ev = Evaluation::default();
    // True pairs, and whether the blocking reaches them.
    let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, &e) in entity.iter().enumerate() {
        groups.entry(e).or_default().push(i as u32);
    }
    let mut entity_size = HashMap::with_capacity(groups.len());
    for (e, members) in &groups {
        entity_size.insert(*e, members.len() as u64);
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                ev.true_pairs += 1;
                if result.reachable(i as usize, j as usize) {
                    ev.reachable_true_pairs += 1;
                }
            }
        }
    }
    let same = |p: &crate::ScoredPair| {
        entity.get(p.a as usize).is_some() && entity.get(p.a as usize) == entity.get(p.b as usize)
    };
    for p in &result.pairs {
        match p.status {
            PairStatus::Match => {
                ev.predicted_pairs += 1;
                if same(p) {
                    ev.true_positive_pairs += 1;
                }
            }
            PairStatus::Review => {
                if same(p) {
                    ev.review_true_pairs += 1;
                } else {
                    ev.review_false_pairs += 1;
                }
            }
        }
    }
    ev.pair_precision = ratio(ev.true_positive_pairs, ev.predicted_pairs);
    ev.pair_recall = ratio(ev.true_positive_pairs, ev.true_pairs);
    ev.pair_f1 = f1(ev.pair_precision, ev.pair_recall);
    ev.blocking_recall = ratio(ev.reachable_true_pairs, ev.true_pairs);
    // Clusters: contingency of (cluster, entity).
    let mut cell: HashMap<(u32, u32), u64> = HashMap::new();
    let mut cluster_size: HashMap<u32, u64> = HashMap::new();
    for (i, &e) in entity.iter().enumerate() {
        let c = result.cluster_of.get(i).copied().unwrap_or(i as u32);
        *cell.entry((c, e)).or_default() += 1;
        *cluster_size.entry(c).or_default() += 1;
    }
    let pairs = |k: u64| k * k.saturating_sub(1) / 2;
    ev.cluster_pairs = cluster_size.values().map(|&k| pairs(k)).sum();
    ev.cluster_true_positive_pairs = cell.values().map(|&k| pairs(k)).sum();
    ev.cluster_precision = ratio(ev.cluster_true_positive_pairs, ev.cluster_pairs);
    ev.cluster_recall = ratio(ev.cluster_true_positive_pairs, ev.true_pairs);
    ev.cluster_f1 = f1(ev.cluster_precision, ev.cluster_recall);
    let (mut bp, mut br) = (0.0, 0.0);
    for (&(c, e), &k) in &cell {
        let k = k as f64;
        bp += k * k / cluster_size[&c] as f64;
        br += k * k / entity_size[&e] as f64;
    }
    if n > 0 {
        ev.bcubed_precision = bp / n as f64;
        ev.bcubed_recall = br / n as f64;
    }
    ev.bcubed_f1 = f1(ev.bcubed_precision, ev.bcubed_recall);
    ev
}
