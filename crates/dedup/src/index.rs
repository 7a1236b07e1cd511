//! The registration-time check: an in-memory index of the registry's persons, built once with a
//! trained model, that returns the likely duplicates of a new person in milliseconds. It uses the
//! same blocking rules, block cap and weights as a batch run, so a pair scores the same either way
//! (term frequencies come from the model).

use serde::Serialize;

use crate::blocking::{BlockingRule, nid_keys};
use crate::features::{Feat, InputIssues, KeyMap, TfLookup, combine, record_features};
use crate::model::{Arenas, Model, Weights, probability, score_pair};
use crate::{FIELDS, FieldExplanation, LEVELS, N_FIELDS, Record};

/// A possible duplicate of the queried person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The id of the registered person.
    pub id: String,
    pub probability: f64,
    /// Match weight in bits.
    pub weight: f64,
    pub swapped_names: bool,
    pub explanation: Vec<FieldExplanation>,
}

/// Persons indexed by every blocking key.
pub struct MatchIndex {
    weights: Weights,
    tf: TfLookup,
    tf_minimum: f64,
    rules: Vec<BlockingRule>,
    cap: usize,
    min_probability: f64,
    ids: Vec<String>,
    feats: Vec<Feat>,
    arena: Vec<u8>,
    /// Per rule: key → records.
    maps: Vec<KeyMap<u32, Vec<u32>>>,
}

impl MatchIndex {
    /// Indexes `records` with `model` (its blocking rules, block cap, weights and term frequencies).
    pub fn build(records: &[Record], model: &Model) -> Self {
        let mut index = MatchIndex {
            weights: model.weights(),
            tf: TfLookup::from_tables(&model.term_frequencies),
            tf_minimum: model.tf_minimum,
            rules: model.rules.clone(),
            cap: model.max_block_size.max(2),
            min_probability: 0.01,
            ids: Vec::with_capacity(records.len()),
            feats: Vec::with_capacity(records.len()),
            arena: Vec::with_capacity(records.len() * 16),
            maps: model.rules.iter().map(|_| KeyMap::default()).collect(),
        };
        for r in records {
            index.add(r.id.clone(), r);
        }
        index
    }

    /// Candidates below this probability are not returned (default 0.01).
    pub fn with_min_probability(mut self, p: f64) -> Self {
        self.min_probability = p;
        self
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds a person (after registration), so that later queries find it.
    pub fn insert(&mut self, record: Record) {
        let id = record.id.clone();
        self.add(id, &record);
    }

    fn features(&self, record: &Record, arena: &mut Vec<u8>) -> Feat {
        let mut issues = InputIssues::default();
        let (mut f, _) = record_features(0, record, arena, &mut issues);
        self.tf.apply(&mut f, self.tf_minimum);
        f
    }

    fn keys(&self, f: &Feat, r: usize, out: &mut Vec<u32>) {
        out.clear();
        if self.rules[r] == BlockingRule::NationalId {
            nid_keys(f.nid(), out);
        } else {
            let k = self.rules[r].key(f);
            if k != 0 {
                out.push(k);
            }
        }
    }

    fn add(&mut self, id: String, record: &Record) {
        let mut arena = std::mem::take(&mut self.arena);
        let f = self.features(record, &mut arena);
        self.arena = arena;
        let idx = self.ids.len() as u32;
        let mut ks = Vec::new();
        for r in 0..self.rules.len() {
            self.keys(&f, r, &mut ks);
            for &k in &ks {
                self.maps[r].entry(k).or_default().push(idx);
            }
        }
        self.ids.push(id);
        self.feats.push(f);
    }

    /// `record` scored against the indexed person at `i`, whether or not a blocking rule reaches
    /// the pair.
    fn score_against(&self, q: &Feat, arena: &[u8], i: usize) -> Candidate {
        let arenas = Arenas {
            a: arena,
            b: &self.arena,
        };
        let s = score_pair(&self.weights, arenas, q, &self.feats[i]);
        Candidate {
            id: self.ids[i].clone(),
            probability: probability(f64::from(s.weight)),
            weight: f64::from(s.weight),
            swapped_names: s.swapped,
            explanation: (0..N_FIELDS)
                .map(|f| FieldExplanation {
                    field: FIELDS[f],
                    level: LEVELS[f][usize::from(s.levels[f])],
                    weight: s.field_weights[f],
                })
                .collect(),
        }
    }

    /// The registered persons that may be `record`, by decreasing probability, at most `limit`.
    pub fn candidates(&self, record: &Record, limit: usize) -> Vec<Candidate> {
        let mut arena = Vec::new();
        let q = self.features(record, &mut arena);
        let mut seen: Vec<u32> = Vec::new();
        let mut ks = Vec::new();
        for r in 0..self.rules.len() {
            self.keys(&q, r, &mut ks);
            for &k in &ks {
                let Some(members) = self.maps[r].get(&k) else {
                    continue;
                };
                if self.rules[r] == BlockingRule::NamesDateMissing {
                    // One-sided: only pairs where one of the two is undated.
                    if members.len() <= self.rules[r].cap(self.cap) {
                        seen.extend(members.iter().copied().filter(|&i| {
                            self.rules[r].admits(q.dob == 0, self.feats[i as usize].dob == 0)
                        }));
                    }
                } else if members.len() <= self.cap {
                    seen.extend_from_slice(members);
                } else if self.rules[r] != BlockingRule::NationalId {
                    // Oversized block: the batch run splits it by sex and region.
                    let sub = |f: &Feat| {
                        combine(&[u64::from(k), u64::from(f.sex) + 1, u64::from(f.region) + 1])
                    };
                    let want = sub(&q);
                    let before = seen.len();
                    seen.extend(
                        members
                            .iter()
                            .copied()
                            .filter(|&i| sub(&self.feats[i as usize]) == want),
                    );
                    if seen.len() - before > self.cap {
                        seen.truncate(before);
                    }
                }
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let arenas = Arenas {
            a: &arena,
            b: &self.arena,
        };
        let mut out: Vec<Candidate> = seen
            .into_iter()
            .filter_map(|i| {
                let s = score_pair(&self.weights, arenas, &q, &self.feats[i as usize]);
                let p = probability(f64::from(s.weight));
                (p >= self.min_probability).then(|| Candidate {
                    id: self.ids[i as usize].clone(),
                    probability: p,
                    weight: f64::from(s.weight),
                    swapped_names: s.swapped,
                    explanation: (0..N_FIELDS)
                        .map(|f| FieldExplanation {
                            field: FIELDS[f],
                            level: LEVELS[f][usize::from(s.levels[f])],
                            weight: s.field_weights[f],
                        })
                        .collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.id.cmp(&b.id)));
        out.truncate(limit);
        out
    }
}

/// Scores two records with `model` (its weights and term frequencies), whether or not the blocking
/// rules reach the pair: the waterfall of `sanad dedup --explain … --pair A B`. The household-links
/// field, which needs the other pairs of a run, is left at null.
pub fn compare_records(model: &Model, a: &Record, b: &Record) -> Candidate {
    let index = MatchIndex::build(std::slice::from_ref(b), model);
    let mut arena = Vec::new();
    let q = index.features(a, &mut arena);
    index.score_against(&q, &arena, 0)
}
