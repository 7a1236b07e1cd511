//! The Fellegi–Sunter model: m and u probabilities per field and level, the prior, the name term
//! frequencies; training (u from random pairs, m by expectation–maximisation on agreement-pattern
//! counts); and the scoring of one pair with its explanation.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blocking::BlockingRule;
use crate::compare::{
    FIELDS, L_EXACT, L_VARIANT, LEVELS, Levels, N_FIELDS, name_level, other_levels, pattern_levels,
};
use crate::features::{Feat, NameF, Table, TermFrequencies, mix64};

/// The text arenas of the two records of a pair (the same arena in a batch run).
#[derive(Clone, Copy)]
pub(crate) struct Arenas<'a> {
    pub a: &'a [u8],
    pub b: &'a [u8],
}

impl<'a> Arenas<'a> {
    pub fn one(t: &'a Table) -> Arenas<'a> {
        Arenas {
            a: &t.arena,
            b: &t.arena,
        }
    }
}

/// m and u of one level. `weight` = log2(m / u), the Bayes factor in bits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LevelModel {
    pub level: String,
    pub m: f64,
    pub u: f64,
    pub weight: f64,
    /// Whether `m` was estimated by EM (false: too few training pairs at this level, the prior kept).
    pub estimated: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FieldModel {
    pub field: String,
    /// Level 0 ("null", one side missing) has weight 0 and is listed for completeness.
    pub levels: Vec<LevelModel>,
}

/// How the model was trained.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainingSummary {
    pub records: usize,
    pub u_pairs: u64,
    pub em_pairs: u64,
    pub em_patterns: usize,
    pub em_iterations: usize,
    pub em_converged: bool,
    /// Share of matches among the EM training pairs.
    pub em_match_share: f64,
    /// Estimated number of matching pairs among all candidate pairs.
    pub estimated_matches: f64,
}

/// A trained model: serialisable (serde) so that it can be stored and reused by the match index.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub format: u32,
    /// Probability that two records drawn at random are the same person.
    pub lambda: f64,
    pub fields: Vec<FieldModel>,
    pub term_frequencies: TermFrequencies,
    /// Floor of a name's term frequency (rarer names are treated as this frequent).
    pub tf_minimum: f64,
    /// 0 = no term-frequency adjustment, 1 = full.
    pub tf_weight: f64,
    pub rules: Vec<BlockingRule>,
    pub max_block_size: usize,
    pub training: TrainingSummary,
}

/// Prior m per field and level (index 0 unused): where EM starts.
const PRIOR_M: [&[f64]; N_FIELDS] = [
    &[1.0, 0.75, 0.12, 0.06, 0.03, 0.04],
    &[1.0, 0.75, 0.12, 0.06, 0.03, 0.04],
    &[1.0, 0.80, 0.03, 0.07, 0.03, 0.02, 0.05],
    &[1.0, 0.90, 0.07, 0.03],
    &[1.0, 0.98, 0.02],
    &[1.0, 0.60, 0.20, 0.08, 0.12],
    &[1.0, 0.10, 0.90],
    &[1.0, 0.80, 0.05, 0.15],
    &[1.0, 0.30, 0.30, 0.40],
];
/// m of a level that EM cannot estimate (seen in fewer than [`MIN_LEVEL_PAIRS`] training pairs):
/// exact national id and phone keep a strong prior (an id shared by two records is the best evidence
/// there is, even when the training data has none); other levels get m = u, a weight of 0 (marked 0
/// here).
const FALLBACK_M: [&[f64]; N_FIELDS] = [
    &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    &[1.0, 0.5, 0.0, 0.0],
    &[1.0, 0.0, 0.0],
    &[1.0, 0.0, 0.0, 0.0, 0.0],
    &[1.0, 0.0, 0.0],
    &[1.0, 0.5, 0.0, 0.0],
    &[1.0, 0.0, 0.0, 0.0],
];
const MIN_LEVEL_PAIRS: f64 = 20.0;
const M_FLOOR: f64 = 1e-6;
const U_FLOOR: f64 = 1e-9;

/// Weights as flat tables for scoring.
#[derive(Clone, Debug)]
pub(crate) struct Weights {
    pub prior: f32,
    pub w: [[f32; 8]; N_FIELDS],
    /// log2 of u of the exact and variant name levels (for the TF adjustment), per name field.
    pub log_u_name: [[f32; 2]; 2],
    /// log2 of u of the exact birth-date level.
    pub log_u_dob: f32,
    pub tf_weight: f32,
}

impl Model {
    /// The model made fit for checking new registrations against a registry where about
    /// `expected_share` of registrations are people already there.
    ///
    /// A model trained on a registry that holds (almost) no duplicates has nothing to learn from:
    /// its prior goes to about zero and its m probabilities are noise, so that no new registration,
    /// however alike, would ever be flagged. When training found fewer than a tenth of the matches
    /// the planning figure implies, m goes back to the prior m (where EM starts); in every case the
    /// prior is raised to the planning figure if it is lower.
    pub fn for_registration_check(mut self, expected_share: f64, records: usize) -> Model {
        let n = records.max(2) as f64;
        let expected_matches = expected_share * n;
        if self.training.estimated_matches < 0.1 * expected_matches {
            for (f, fm) in self.fields.iter_mut().enumerate().take(N_FIELDS) {
                for (l, lm) in fm.levels.iter_mut().enumerate().skip(1) {
                    if let Some(&m) = PRIOR_M[f].get(l) {
                        lm.m = m;
                        lm.estimated = false;
                    }
                }
            }
        }
        let floor = (2.0 * expected_share / (n - 1.0)).clamp(0.0, 0.5);
        if self.lambda < floor {
            self.lambda = floor;
        }
        self.refresh_weights();
        self
    }

    pub(crate) fn weights(&self) -> Weights {
        let mut w = [[0f32; 8]; N_FIELDS];
        for (f, fm) in self.fields.iter().enumerate().take(N_FIELDS) {
            for (l, lm) in fm.levels.iter().enumerate().skip(1).take(7) {
                w[f][l] = lm.weight as f32;
            }
        }
        let lu = |f: usize, l: usize| self.fields[f].levels[l].u.max(U_FLOOR).log2() as f32;
        let lambda = self.lambda.clamp(1e-15, 1.0 - 1e-9);
        Weights {
            prior: (lambda / (1.0 - lambda)).log2() as f32,
            w,
            log_u_name: [[lu(0, 1), lu(0, 2)], [lu(1, 1), lu(1, 2)]],
            log_u_dob: lu(2, 1),
            tf_weight: self.tf_weight as f32,
        }
    }

    /// Rebuilds the weights of every level from m and u.
    fn refresh_weights(&mut self) {
        for fm in &mut self.fields {
            for lm in fm.levels.iter_mut().skip(1) {
                lm.weight = (lm.m.max(M_FLOOR) / lm.u.max(U_FLOOR)).log2();
            }
            if let Some(null) = fm.levels.first_mut() {
                null.weight = 0.0;
            }
        }
    }
}

/// Converts a match weight (bits) into a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The result of scoring one pair.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PairScore {
    pub weight: f32,
    pub levels: Levels,
    pub field_weights: [f32; N_FIELDS],
    pub swapped: bool,
}

#[inline]
fn name_weight(w: &Weights, field: usize, level: u8, a: &NameF, b: &NameF) -> f32 {
    let base = w.w[field][usize::from(level)];
    match level {
        L_EXACT => base + w.tf_weight * (w.log_u_name[field][0] - a.lt_exact.max(b.lt_exact)),
        L_VARIANT => base + w.tf_weight * (w.log_u_name[field][1] - a.lt_phon.max(b.lt_phon)),
        _ => base,
    }
}

/// Levels of the two names, trying the swapped order (first name written as family name) when
/// neither name agrees well in the written order.
#[inline]
pub(crate) fn name_levels(
    w: &Weights,
    t: Arenas<'_>,
    a: &Feat,
    b: &Feat,
) -> (u8, u8, f32, f32, bool) {
    let lf = name_level(t.a, &a.first, t.b, &b.first);
    let ll = name_level(t.a, &a.last, t.b, &b.last);
    let wf = name_weight(w, 0, lf, &a.first, &b.first);
    let wl = name_weight(w, 1, ll, &a.last, &b.last);
    // Worth trying only when a name agrees with the other one across (a cheap test first).
    let across = |x: &NameF, y: &NameF| {
        (x.exact != 0 && x.exact == y.exact)
            || (x.phon != 0 && x.phon == y.phon)
            || (x.ar != 0 && x.ar == y.ar)
    };
    if (lf == 0 || lf > L_VARIANT)
        && (ll == 0 || ll > L_VARIANT)
        && (across(&a.first, &b.last) || across(&a.last, &b.first))
    {
        let sf = name_level(t.a, &a.first, t.b, &b.last);
        let sl = name_level(t.a, &a.last, t.b, &b.first);
        let wsf = name_weight(w, 0, sf, &a.first, &b.last);
        let wsl = name_weight(w, 1, sl, &a.last, &b.first);
        if wsf + wsl > wf + wl {
            return (sf, sl, wsf, wsl, true);
        }
    }
    (lf, ll, wf, wl, false)
}

#[inline]
pub(crate) fn score_pair(w: &Weights, t: Arenas<'_>, a: &Feat, b: &Feat) -> PairScore {
    let mut levels = [0u8; N_FIELDS];
    let (lf, ll, wf, wl, swapped) = name_levels(w, t, a, b);
    levels[0] = lf;
    levels[1] = ll;
    other_levels(a, b, &mut levels);
    let mut fw = [0f32; N_FIELDS];
    fw[0] = wf;
    fw[1] = wl;
    let mut total = w.prior + wf + wl;
    for f in 2..N_FIELDS {
        let mut x = w.w[f][usize::from(levels[f])];
        if f == 2 && levels[2] == 1 {
            // Term frequency of the date: 1 January, the stand-in for an unknown day, is heaped.
            x += w.tf_weight * (w.log_u_dob - a.lt_dob.max(b.lt_dob));
        }
        fw[f] = x;
        total += x;
    }
    PairScore {
        weight: total,
        levels,
        field_weights: fw,
        swapped,
    }
}

/// Levels of a pair without the swap search or term frequencies (for u sampling and EM).
#[inline]
pub(crate) fn plain_levels(t: Arenas<'_>, a: &Feat, b: &Feat, swap_w: &Weights) -> Levels {
    let mut levels = [0u8; N_FIELDS];
    let (lf, ll, _, _, _) = name_levels(swap_w, t, a, b);
    levels[0] = lf;
    levels[1] = ll;
    other_levels(a, b, &mut levels);
    levels
}

/// Weights used only to choose the name order during training (the priors, without TF).
pub(crate) fn prior_weights() -> Weights {
    let mut w = [[0f32; 8]; N_FIELDS];
    for f in 0..N_FIELDS {
        for l in 1..PRIOR_M[f].len() {
            // A neutral u: the share of levels, so that better levels weigh more.
            let u = match l {
                1 => 0.01,
                2 => 0.02,
                3 => 0.05,
                4 => 0.1,
                _ => 0.8,
            };
            w[f][l] = (PRIOR_M[f][l] / u).log2() as f32;
        }
    }
    Weights {
        prior: 0.0,
        w,
        log_u_name: [[0.0; 2]; 2],
        log_u_dob: 0.0,
        tf_weight: 0.0,
    }
}

/// Level counts over `n` random pairs (the u probabilities).
pub(crate) fn sample_u(t: &Table, n_pairs: u64, seed: u64) -> ([[u64; 8]; N_FIELDS], u64) {
    let n = t.feats.len() as u64;
    if n < 2 || n_pairs == 0 {
        return ([[0; 8]; N_FIELDS], 0);
    }
    let pw = prior_weights();
    let chunks = 64u64;
    let per = n_pairs.div_ceil(chunks);
    let counts = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut counts = [[0u64; 8]; N_FIELDS];
            let mut s = mix64(seed ^ (c.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            for _ in 0..per {
                s = mix64(s.wrapping_add(0x9E37_79B9_7F4A_7C15));
                let i = (s % n) as usize;
                s = mix64(s.wrapping_add(0x9E37_79B9_7F4A_7C15));
                let mut j = (s % (n - 1)) as usize;
                if j >= i {
                    j += 1;
                }
                let l = plain_levels(Arenas::one(t), &t.feats[i], &t.feats[j], &pw);
                for f in 0..N_FIELDS {
                    counts[f][usize::from(l[f])] += 1;
                }
            }
            counts
        })
        .reduce(
            || [[0u64; 8]; N_FIELDS],
            |mut a, b| {
                for f in 0..N_FIELDS {
                    for l in 0..8 {
                        a[f][l] += b[f][l];
                    }
                }
                a
            },
        );
    (counts, per * chunks)
}

/// u per field and level from the sampled counts, over the non-null levels, with half a pair added
/// to every level so that no level has u = 0.
pub(crate) fn u_from_counts(counts: &[[u64; 8]; N_FIELDS]) -> Vec<Vec<f64>> {
    (0..N_FIELDS)
        .map(|f| {
            let nl = LEVELS[f].len();
            let total: f64 = (1..nl).map(|l| counts[f][l] as f64 + 0.5).sum();
            let mut u = vec![1.0];
            u.extend((1..nl).map(|l| (counts[f][l] as f64 + 0.5) / total));
            u
        })
        .collect()
}

/// Outcome of EM.
pub(crate) struct EmResult {
    pub m: Vec<Vec<f64>>,
    /// u among the training pairs (a nuisance parameter: scoring uses the u of random pairs;
    /// read by the test that EM recovers it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub u: Vec<Vec<f64>>,
    pub lambda: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Expectation–maximisation on agreement-pattern counts (`counts[pattern]`), estimating m, the
/// candidate-pair u (a nuisance parameter: scoring uses the u of random pairs) and the share of
/// matches. Levels seen in fewer than [`MIN_LEVEL_PAIRS`] pairs keep their prior m.
#[cfg(test)]
pub(crate) fn em(counts: &[(usize, f64)], max_iter: usize, tol: f64) -> EmResult {
    em_full(counts, max_iter, tol, None, None)
}

/// Pseudo-matches of the prior m added to every field's m in each M step: a level no training
/// match showed keeps a small m instead of 0 (a weight of −20 bits that a single typo in a
/// national id would turn into a certain non-match). Few enough to vanish against a few
/// thousand training matches.
const M_PSEUDO_MATCHES: f64 = 5.0;

/// Expectation–maximisation on agreement-pattern counts (`counts[pattern]`), estimating m, the
/// candidate-pair u (a nuisance parameter: scoring uses the u of random pairs) and the share of
/// matches; levels seen in fewer than [`MIN_LEVEL_PAIRS`] pairs keep their prior m. With `fixed_m`,
/// m stays as given. With `random_u` = (u, fields), the u of the listed fields stays at the u of
/// random pairs (Splink's practice). A session's training pairs agree on the fields it blocks on,
/// so those keep a free u; the others are, among non-matches, about as independent of the block as
/// in random pairs. Fixing their u makes EM identifiable on files with only two or three fields
/// left to learn from (FEBRL: birth date and national id when blocking on the names), where a free
/// u lets the non-match class swallow the matches with a typo.
pub(crate) fn em_full(
    counts: &[(usize, f64)],
    max_iter: usize,
    tol: f64,
    fixed_m: Option<&[Vec<f64>]>,
    random_u: Option<(&[Vec<f64>], &[usize])>,
) -> EmResult {
    let pats: Vec<(Levels, f64)> = counts
        .iter()
        .map(|&(p, c)| (pattern_levels(p), c))
        .collect();
    let mut seen = vec![vec![0f64; 8]; N_FIELDS];
    for (l, c) in &pats {
        for f in 0..N_FIELDS {
            seen[f][usize::from(l[f])] += c;
        }
    }
    let fixed: Vec<Vec<bool>> = (0..N_FIELDS)
        .map(|f| {
            (0..LEVELS[f].len())
                .map(|l| l > 0 && seen[f][l] < MIN_LEVEL_PAIRS)
                .collect()
        })
        .collect();
    let mut m: Vec<Vec<f64>> = match fixed_m {
        Some(fm) => fm.to_vec(),
        None => PRIOR_M.iter().map(|p| p.to_vec()).collect(),
    };
    // Start u from the level shares (nearly all candidate pairs are non-matches).
    let mut u: Vec<Vec<f64>> = (0..N_FIELDS)
        .map(|f| {
            let nl = LEVELS[f].len();
            let total: f64 = (1..nl).map(|l| seen[f][l] + 1.0).sum();
            let mut v = vec![1.0];
            v.extend((1..nl).map(|l| (seen[f][l] + 1.0) / total));
            v
        })
        .collect();
    let mut u_is_fixed = [false; N_FIELDS];
    if let Some((ru, fields)) = random_u {
        for &f in fields {
            u_is_fixed[f] = true;
            for l in 1..LEVELS[f].len() {
                u[f][l] = ru[f][l];
            }
        }
    }
    let mut lambda = 0.05;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let mut am = vec![vec![0f64; 8]; N_FIELDS];
        let mut au = vec![vec![0f64; 8]; N_FIELDS];
        let mut sum_g = 0.0;
        let mut total = 0.0;
        for (l, c) in &pats {
            let mut pm = lambda;
            let mut pu = 1.0 - lambda;
            for f in 0..N_FIELDS {
                let lv = usize::from(l[f]);
                if lv > 0 {
                    pm *= m[f][lv];
                    pu *= u[f][lv];
                }
            }
            let g = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            sum_g += c * g;
            total += c;
            for f in 0..N_FIELDS {
                let lv = usize::from(l[f]);
                if lv > 0 {
                    am[f][lv] += c * g;
                    au[f][lv] += c * (1.0 - g);
                }
            }
        }
        let new_lambda = (sum_g / total.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
        let mut delta: f64 = (new_lambda - lambda).abs();
        for f in 0..N_FIELDS {
            let nl = LEVELS[f].len();
            let fixed_mass: f64 = (1..nl)
                .filter(|&l| fixed[f][l])
                .map(|l| FALLBACK_M[f][l])
                .sum();
            let free_m: f64 = (1..nl).filter(|&l| !fixed[f][l]).map(|l| am[f][l]).sum();
            let su: f64 = (1..nl).map(|l| au[f][l]).sum();
            for l in 1..nl {
                let nm = if fixed_m.is_some() {
                    m[f][l]
                } else if fixed[f][l] {
                    FALLBACK_M[f][l]
                } else if free_m > 0.0 {
                    let prior_free: f64 = (1..nl)
                        .filter(|&k| !fixed[f][k])
                        .map(|k| PRIOR_M[f].get(k).copied().unwrap_or(0.0))
                        .sum::<f64>()
                        .max(1e-12);
                    let prior = PRIOR_M[f].get(l).copied().unwrap_or(0.0) / prior_free;
                    ((am[f][l] + M_PSEUDO_MATCHES * prior) / (free_m + M_PSEUDO_MATCHES)
                        * (1.0 - fixed_mass))
                        .max(M_FLOOR)
                } else {
                    m[f][l]
                };
                let nu = if u_is_fixed[f] {
                    u[f][l]
                } else if su > 0.0 {
                    (au[f][l] / su).max(U_FLOOR)
                } else {
                    u[f][l]
                };
                delta = delta.max((nm - m[f][l]).abs());
                m[f][l] = nm;
                u[f][l] = nu;
            }
        }
        lambda = new_lambda;
        if delta < tol {
            converged = true;
            break;
        }
    }
    EmResult {
        m,
        u,
        lambda,
        iterations,
        converged,
    }
}

/// The prior λ (probability that two random records match) by EM with m and u fixed: the expected
/// number of matches among the candidate pairs (`counts` sampled at 1 / `scale`) over all pairs.
pub(crate) fn estimate_lambda(
    counts: &[(usize, f64)],
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    scale: f64,
    all_pairs: f64,
) -> (f64, usize) {
    let weights: Vec<(f64, f64)> = counts
        .iter()
        .map(|&(p, c)| {
            let l = pattern_levels(p);
            let mut w = 0.0;
            for f in 0..N_FIELDS {
                let lv = usize::from(l[f]);
                if lv > 0 {
                    w += (m[f][lv].max(M_FLOOR) / u[f][lv].max(U_FLOOR)).log2();
                }
            }
            (w, c)
        })
        .collect();
    let mut lambda = 1.0 / all_pairs.max(2.0);
    let mut iterations = 0;
    for _ in 0..200 {
        iterations += 1;
        let prior = (lambda / (1.0 - lambda)).log2();
        let expected: f64 = weights
            .iter()
            .map(|&(w, c)| c * probability(prior + w))
            .sum::<f64>()
            * scale;
        let next = (expected / all_pairs).clamp(1e-15, 0.5);
        let done = (next / lambda - 1.0).abs() < 1e-6;
        lambda = next;
        if done {
            break;
        }
    }
    (lambda, iterations)
}

/// Assembles a model from m, u, the prior and the term frequencies.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble(
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    fixed_from: &[Vec<bool>],
    lambda: f64,
    tf: TermFrequencies,
    tf_minimum: f64,
    tf_weight: f64,
    rules: &[BlockingRule],
    max_block_size: usize,
    training: TrainingSummary,
) -> Model {
    let fields = (0..N_FIELDS)
        .map(|f| FieldModel {
            field: FIELDS[f].to_owned(),
            levels: LEVELS[f]
                .iter()
                .enumerate()
                .map(|(l, name)| LevelModel {
                    level: (*name).to_owned(),
                    m: if l == 0 { 1.0 } else { m[f][l] },
                    u: if l == 0 { 1.0 } else { u[f][l] },
                    weight: 0.0,
                    estimated: l > 0 && !fixed_from[f][l],
                })
                .collect(),
        })
        .collect();
    let mut model = Model {
        format: 1,
        lambda,
        fields,
        term_frequencies: tf,
        tf_minimum,
        tf_weight,
        rules: rules.to_vec(),
        max_block_size,
        training,
    };
    model.refresh_weights();
    model
}

/// Gives the levels EM could not estimate their fallback: m = u (weight 0) unless
/// [`FALLBACK_M`] says otherwise.
pub(crate) fn neutralise(m: &mut [Vec<f64>], u: &[Vec<f64>], fixed: &[Vec<bool>]) {
    for f in 0..N_FIELDS {
        for l in 1..LEVELS[f].len() {
            if fixed[f][l] {
                m[f][l] = if FALLBACK_M[f][l] > 0.0 {
                    FALLBACK_M[f][l]
                } else {
                    u[f][l]
                };
            }
        }
    }
}

/// Which levels EM could not estimate.
pub(crate) fn fixed_levels(counts: &[(usize, f64)]) -> Vec<Vec<bool>> {
    let mut seen = vec![vec![0f64; 8]; N_FIELDS];
    for &(p, c) in counts {
        let l = pattern_levels(p);
        for f in 0..N_FIELDS {
            seen[f][usize::from(l[f])] += c;
        }
    }
    (0..N_FIELDS)
        .map(|f| {
            (0..LEVELS[f].len())
                .map(|l| l > 0 && seen[f][l] < MIN_LEVEL_PAIRS)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{n_patterns, pattern_index};

    /// A two-class mixture with known m and u over the patterns: EM must recover m, u and the
    /// share of matches.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn em_recovers_known_m() {
        let true_m: Vec<Vec<f64>> = vec![
            vec![1.0, 0.70, 0.15, 0.07, 0.04, 0.04],
            vec![1.0, 0.65, 0.20, 0.05, 0.05, 0.05],
            vec![1.0, 0.75, 0.05, 0.10, 0.04, 0.02, 0.04],
            vec![1.0, 0.5, 0.3, 0.2],
            vec![1.0, 0.97, 0.03],
            vec![1.0, 0.55, 0.25, 0.1, 0.1],
            vec![1.0, 0.05, 0.95],
            vec![1.0, 0.8, 0.1, 0.1],
            vec![1.0, 0.3, 0.2, 0.5],
        ];
        let true_u: Vec<Vec<f64>> = vec![
            vec![1.0, 0.30, 0.05, 0.05, 0.10, 0.50],
            vec![1.0, 0.20, 0.05, 0.05, 0.10, 0.60],
            vec![1.0, 0.05, 0.01, 0.03, 0.02, 0.10, 0.79],
            vec![1.0, 0.01, 0.02, 0.97],
            vec![1.0, 0.5, 0.5],
            vec![1.0, 0.05, 0.1, 0.15, 0.7],
            vec![1.0, 0.3, 0.7],
            vec![1.0, 0.01, 0.01, 0.98],
            vec![1.0, 0.98, 0.01, 0.01],
        ];
        let lambda = 0.08;
        let total = 2.0e6;
        // Expected counts of every pattern (no null levels).
        let mut counts = Vec::new();
        for p in 0..n_patterns() {
            let l = pattern_levels(p);
            if l.contains(&0) {
                continue;
            }
            let mut pm = lambda;
            let mut pu = 1.0 - lambda;
            for f in 0..N_FIELDS {
                pm *= true_m[f][usize::from(l[f])];
                pu *= true_u[f][usize::from(l[f])];
            }
            counts.push((pattern_index(&l), total * (pm + pu)));
        }
        let r = em(&counts, 500, 1e-9);
        assert!((r.lambda - lambda).abs() < 0.005, "lambda {}", r.lambda);
        for f in 0..N_FIELDS {
            for l in 1..true_m[f].len() {
                let got = r.m[f][l];
                assert!(
                    (got - true_m[f][l]).abs() < 0.02,
                    "field {f} level {l}: m {got} != {}",
                    true_m[f][l]
                );
                let got_u = r.u[f][l];
                assert!(
                    (got_u - true_u[f][l]).abs() < 0.01,
                    "field {f} level {l}: u {got_u} != {}",
                    true_u[f][l]
                );
            }
        }
    }

    #[test]
    fn probability_of_weight() {
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        assert!(probability(10.0) > 0.999);
        assert!(probability(-10.0) < 0.001);
    }
}
