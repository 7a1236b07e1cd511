//! Household links: when a whole household is registered twice, several of its members match
//! members of the other household. The number of *other* matched pairs between the two records'
//! households is a comparison of its own (levels none / one / two or more), scored after the first
//! pass: its m comes from the confident matches, its u from counting the record pairs between linked
//! households. It rescues true pairs whose own fields are weak (a birth date typo and a move to
//! another commune) and leaves coincidences (same name, same birthday, no relation) where they are.

use crate::features::{Feat, KeyMap};
use crate::model::{FieldModel, LevelModel};
use crate::{FIELDS, LEVELS};

/// A first-pass pair: rows in blocking order, the match weight, and the weight without the commune
/// and household fields (which favour whole households: confidence for training m is judged
/// without them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FirstPass {
    pub a: u32,
    pub b: u32,
    pub weight: f32,
    pub core: f32,
}

/// The fitted comparison: a level per pair, the weight of each level, the field model.
pub(crate) struct Links {
    pub levels: Vec<u8>,
    pub weights: [f32; 4],
    pub model: FieldModel,
}

/// The field index of the household-links comparison.
pub(crate) const FIELD: usize = 8;
/// How far below the thresholds first-pass pairs are kept, in bits.
pub(crate) const HEADROOM_BITS: f32 = 16.0;
/// First-pass pairs this sure train m.
const CONFIDENT_BITS: f32 = 10.0;

fn link_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// Fits the household-links comparison on the first-pass pairs; `None` when no record has a
/// household.
pub(crate) fn fit(pairs: &[FirstPass], feats: &[Feat], match_w: f32) -> Option<Links> {
    let mut sizes: KeyMap<u32, u64> = KeyMap::default();
    for f in feats.iter().filter(|f| f.household != 0) {
        *sizes.entry(f.household).or_default() += 1;
    }
    if sizes.is_empty() {
        return None;
    }
    let hh = |p: &FirstPass| -> Option<(u32, u32)> {
        let (a, b) = (feats[p.a as usize].household, feats[p.b as usize].household);
        (a != 0 && b != 0 && a != b).then_some((a, b))
    };
    let mut links: KeyMap<u64, u64> = KeyMap::default();
    for p in pairs.iter().filter(|p| p.weight >= match_w) {
        if let Some((a, b)) = hh(p) {
            *links.entry(link_key(a, b)).or_default() += 1;
        }
    }
    let level_of = |others: u64| -> usize { 1 + others.min(2) as usize };
    // m: the other links of confident matches.
    let mut m_counts = [1.0f64; 4];
    let mut levels = vec![0u8; pairs.len()];
    for (k, p) in pairs.iter().enumerate() {
        let Some((a, b)) = hh(p) else { continue };
        let c = links.get(&link_key(a, b)).copied().unwrap_or(0);
        let own = u64::from(p.weight >= match_w);
        let level = level_of(c.saturating_sub(own));
        levels[k] = level as u8;
        if p.core >= match_w + CONFIDENT_BITS {
            m_counts[level] += 1.0;
        }
    }
    // u: record pairs between two households with c links are non-matches at level(c), bar the c
    // matched ones; every other pair of records is at level "none".
    let n: f64 = sizes.values().sum::<u64>() as f64;
    let all = (n * (n - 1.0) / 2.0).max(1.0);
    let mut u_counts = [0.0f64; 4];
    for (&key, &c) in &links {
        let (a, b) = ((key >> 32) as u32, key as u32);
        let between =
            (sizes.get(&a).copied().unwrap_or(1) * sizes.get(&b).copied().unwrap_or(1)) as f64;
        u_counts[level_of(c)] += (between - c as f64).max(0.0) + 0.5;
    }
    u_counts[1] = (all - u_counts[2] - u_counts[3]).max(1.0);
    let m_total: f64 = m_counts[1..].iter().sum();
    let mut model = FieldModel {
        field: FIELDS[FIELD].to_owned(),
        levels: Vec::with_capacity(4),
    };
    let mut w = [0f32; 4];
    for (l, name) in LEVELS[FIELD].iter().enumerate() {
        let (m, u) = if l == 0 {
            (1.0, 1.0)
        } else {
            (m_counts[l] / m_total, u_counts[l] / all)
        };
        let weight = if l == 0 { 0.0 } else { (m / u).log2() };
        w[l] = weight as f32;
        model.levels.push(LevelModel {
            level: (*name).to_owned(),
            m,
            u,
            weight,
            estimated: l > 0,
        });
    }
    Some(Links {
        levels,
        weights: w,
        model,
    })
}
