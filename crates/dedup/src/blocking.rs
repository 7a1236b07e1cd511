//! Blocking: a union of equi-join rules on compound keys. Each rule groups records by a key; a pair is
//! a candidate when it shares a block of some rule. Oversized blocks are sub-blocked by sex and region
//! and skipped if still too large (both reported). A pair is produced once, by the first rule that
//! reaches it: a later rule skips the pairs that an earlier rule already produced, so no set of pairs
//! is ever held in memory.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{Feat, combine, hash64};

/// One blocking rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingRule {
    /// National ids equal or one typing slip apart (a wrong digit or letter, two neighbours
    /// swapped), through keys of the id's neighbourhood.
    NationalId,
    /// Arabic first and family names (in either order) and birth year.
    ArabicNamesYear,
    /// Phonetic keys of first and family names (in either order) and birth year.
    PhoneticNamesYear,
    /// Arabic names and birth day and month (catches a mistyped year).
    ArabicNamesMonthDay,
    /// Phonetic names and birth day and month.
    PhoneticNamesMonthDay,
    /// Phonetic first name and birth date (day and month in either order).
    FirstNameDate,
    /// Phonetic family name and birth date (day and month in either order).
    LastNameDate,
    /// Consonant skeletons of both names (Arabic script when given, else Latin) and commune.
    SkeletonCommune,
    /// Same phone number.
    Phone,
    /// Exact birth date and sex (used to train the name comparisons).
    BirthDateSex,
    /// Initials of both names (in either order) and birth date (day and month in either order):
    /// catches the pairs whose two names both carry a typo, or a short form of the given name.
    InitialsDate,
    /// Exact national id (used to train every other field: pairs sharing an id are nearly all
    /// matches).
    NationalIdExact,
    /// Phonetic names (in either order), for the pairs where one record has no birth date: the
    /// date-keyed rules cannot reach them. One-sided: a pair of two dated records is left to the
    /// other rules, so a block of a common name costs a cheap test per pair, not a score.
    NamesDateMissing,
}

impl BlockingRule {
    pub const DEFAULT: [BlockingRule; 11] = [
        BlockingRule::NationalId,
        BlockingRule::ArabicNamesYear,
        BlockingRule::PhoneticNamesYear,
        BlockingRule::ArabicNamesMonthDay,
        BlockingRule::PhoneticNamesMonthDay,
        BlockingRule::FirstNameDate,
        BlockingRule::LastNameDate,
        BlockingRule::SkeletonCommune,
        BlockingRule::Phone,
        BlockingRule::InitialsDate,
        BlockingRule::NamesDateMissing,
    ];

    /// The largest block this rule scores, for a cap of `cap` (the one-sided rule keeps a
    /// twentieth of it).
    pub(crate) fn cap(self, cap: usize) -> usize {
        if self == BlockingRule::NamesDateMissing {
            (cap / 20).max(2)
        } else {
            cap
        }
    }

    /// Whether the rule reaches a pair of records that share its key (the one-sided rule needs
    /// one of them undated).
    #[inline]
    pub(crate) fn admits(self, undated_a: bool, undated_b: bool) -> bool {
        self != BlockingRule::NamesDateMissing || undated_a || undated_b
    }

    pub fn name(self) -> &'static str {
        match self {
            BlockingRule::NationalId => "national_id (≤1 edit)",
            BlockingRule::ArabicNamesYear => "arabic names + year",
            BlockingRule::PhoneticNamesYear => "phonetic names + year",
            BlockingRule::ArabicNamesMonthDay => "arabic names + day/month",
            BlockingRule::PhoneticNamesMonthDay => "phonetic names + day/month",
            BlockingRule::FirstNameDate => "phonetic first name + date",
            BlockingRule::LastNameDate => "phonetic family name + date",
            BlockingRule::SkeletonCommune => "name skeletons + commune",
            BlockingRule::Phone => "phone",
            BlockingRule::BirthDateSex => "birth date + sex",
            BlockingRule::InitialsDate => "initials + date",
            BlockingRule::NationalIdExact => "national_id (exact)",
            BlockingRule::NamesDateMissing => "phonetic names, one undated",
        }
    }

    fn tag(self) -> u64 {
        self as u64 + 1
    }

    /// The key of a record under a single-key rule (0 when a part is missing).
    pub(crate) fn key(self, f: &Feat) -> u32 {
        let t = self.tag();
        let names = |a: u32, b: u32| -> (u64, u64) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            (u64::from(lo), u64::from(hi))
        };
        let year = u64::from(f.year());
        let md = u64::from(f.month_day());
        match self {
            BlockingRule::NationalId => u32::from(f.nid != 0) * f.nid,
            BlockingRule::ArabicNamesYear => {
                let (a, b) = names(f.first.ar, f.last.ar);
                combine(&[t, a, b, year])
            }
            BlockingRule::PhoneticNamesYear => {
                let (a, b) = names(f.first.phon, f.last.phon);
                combine(&[t, a, b, year])
            }
            BlockingRule::ArabicNamesMonthDay => {
                let (a, b) = names(f.first.ar, f.last.ar);
                combine(&[t, a, b, md])
            }
            BlockingRule::PhoneticNamesMonthDay => {
                let (a, b) = names(f.first.phon, f.last.phon);
                combine(&[t, a, b, md])
            }
            BlockingRule::FirstNameDate => combine(&[t, u64::from(f.first.phon), year, md]),
            BlockingRule::LastNameDate => combine(&[t, u64::from(f.last.phon), year, md]),
            BlockingRule::SkeletonCommune => {
                let sk =
                    |n: &crate::features::NameF| if n.ar_skel != 0 { n.ar_skel } else { n.skel };
                let (a, b) = names(sk(&f.first), sk(&f.last));
                combine(&[t, a, b, u64::from(f.commune)])
            }
            BlockingRule::Phone => combine(&[t, f.phone]),
            // A file without sex still trains the names (sex 0 is a value here, not a missing part).
            BlockingRule::BirthDateSex => combine(&[t, u64::from(f.dob), u64::from(f.sex) + 1]),
            BlockingRule::InitialsDate => {
                let (a, b) = names(u32::from(f.first.initial), u32::from(f.last.initial));
                combine(&[t, a, b, year, md])
            }
            BlockingRule::NationalIdExact => combine(&[t, u64::from(f.nid)]),
            BlockingRule::NamesDateMissing => {
                let (a, b) = names(f.first.phon, f.last.phon);
                combine(&[t, a, b])
            }
        }
    }
}

/// The neighbourhood keys of a national id: the id itself, the id with character `i` removed
/// (tagged with `i`), and the id with characters `i` and `i + 1` in order (tagged with `i`). Two ids
/// of the same length one substitution apart share exactly one key (the removal at the differing
/// position), two ids with neighbours swapped share exactly one (the ordered pair), and equal ids
/// share all: so a pair is produced once, from its first shared key, without a set of pairs.
pub(crate) fn nid_keys(nid: &[u8], out: &mut Vec<u32>) {
    let mut keys = [0u32; NID_KEYS];
    let n = nid_key_array(nid, &mut keys);
    out.clear();
    out.extend_from_slice(&keys[..n]);
}

const NID_MAX: usize = 15;
const NID_KEYS: usize = 2 * NID_MAX;

fn tagged_key(bytes: &[u8], tag: u8) -> u32 {
    let mut buf = [0u8; NID_MAX + 1];
    buf[0] = tag;
    buf[1..=bytes.len()].copy_from_slice(bytes);
    let h = hash64(&buf[..=bytes.len()]);
    let k = (h ^ (h >> 32)) as u32;
    if k == 0 { 1 } else { k }
}

/// The full-id key, then the removal keys, then the ordered-pair keys.
fn nid_key_array(nid: &[u8], keys: &mut [u32; NID_KEYS]) -> usize {
    if nid.is_empty() || nid.len() > NID_MAX {
        return 0;
    }
    let mut n = 0;
    keys[n] = tagged_key(nid, 0);
    n += 1;
    let mut buf = [0u8; NID_MAX];
    for i in 0..nid.len() {
        buf[..i].copy_from_slice(&nid[..i]);
        buf[i..nid.len() - 1].copy_from_slice(&nid[i + 1..]);
        keys[n] = tagged_key(&buf[..nid.len() - 1], 1 + i as u8);
        n += 1;
    }
    for i in 0..nid.len().saturating_sub(1) {
        // Only where the neighbours differ (otherwise it is the id itself).
        if nid[i] == nid[i + 1] {
            continue;
        }
        buf[..nid.len()].copy_from_slice(nid);
        if buf[i] > buf[i + 1] {
            buf.swap(i, i + 1);
        }
        keys[n] = tagged_key(&buf[..nid.len()], 64 + i as u8);
        n += 1;
    }
    n
}

/// The key two ids share when they are equal (the full key), one substitution apart (the removal at
/// that position) or one neighbour swap apart (the ordered pair there); `None` otherwise.
pub(crate) fn nid_shared(a: &[u8], b: &[u8]) -> Option<u32> {
    if a.len() != b.len() || a.is_empty() || a.len() > NID_MAX {
        return None;
    }
    let Some(p) = (0..a.len()).find(|&i| a[i] != b[i]) else {
        return Some(tagged_key(a, 0));
    };
    let mut buf = [0u8; NID_MAX];
    if a[p + 1..] == b[p + 1..] {
        buf[..p].copy_from_slice(&a[..p]);
        buf[p..a.len() - 1].copy_from_slice(&a[p + 1..]);
        return Some(tagged_key(&buf[..a.len() - 1], 1 + p as u8));
    }
    if p + 1 < a.len() && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..] {
        buf[..a.len()].copy_from_slice(a);
        if buf[p] > buf[p + 1] {
            buf.swap(p, p + 1);
        }
        return Some(tagged_key(&buf[..a.len()], 64 + p as u8));
    }
    None
}

/// A normalised national id, inline.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NidBytes {
    pub bytes: [u8; 15],
    pub len: u8,
}

impl NidBytes {
    pub fn of(f: &Feat) -> NidBytes {
        NidBytes {
            bytes: f.nid_chars,
            len: f.nid_len,
        }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// What one rule did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleReport {
    pub rule: String,
    /// Blocks with at least two records (after sub-blocking).
    pub blocks: usize,
    pub largest_block: usize,
    /// Blocks larger than the cap, split by sex and region.
    pub oversized_blocks: usize,
    /// Sub-blocks still larger than the cap, skipped, and the records in them.
    pub skipped_blocks: usize,
    pub skipped_records: usize,
    /// Pairs inside this rule's blocks (before removing the pairs of earlier rules).
    pub raw_pairs: u64,
    /// Pairs this rule produced that no earlier rule did.
    pub candidate_pairs: u64,
    /// Share of the matches found that this rule reaches on its own (whatever the other rules).
    pub match_share: f64,
}

/// The blocks of one rule: `members[starts[b]..starts[b + 1]]` is block `b`, whose key is `keys[b]`.
pub(crate) struct RuleBlocks {
    pub members: Vec<u32>,
    pub starts: Vec<u32>,
    pub keys: Vec<u32>,
}

impl RuleBlocks {
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn block(&self, b: usize) -> &[u32] {
        &self.members[self.starts[b] as usize..self.starts[b + 1] as usize]
    }
}

/// All rules' blocks, and every record's final key under each single-key rule.
pub(crate) struct Blocking {
    pub rules: Vec<BlockingRule>,
    /// `keys[i * rules.len() + r]`: record `i`'s key under rule `r` after capping (0: none, or its
    /// block was skipped).
    pub keys: Vec<u32>,
    pub blocks: Vec<RuleBlocks>,
    /// National-id neighbourhood keys whose block was skipped.
    pub nid_skipped: HashSet<u32>,
    /// The position of the national-id rule, if any.
    pub nid_rule: Option<usize>,
    /// Records without a birth date (for the one-sided rule).
    pub undated: Vec<bool>,
    pub reports: Vec<RuleReport>,
}

impl Blocking {
    pub fn build(feats: &[Feat], rules: &[BlockingRule], cap: usize) -> Blocking {
        let n_rules = rules.len();
        let full_cap = cap.max(2);
        let mut keys = vec![0u32; feats.len() * n_rules];
        let mut blocks = Vec::with_capacity(n_rules);
        let mut reports = Vec::with_capacity(n_rules);
        let mut nid_skipped = HashSet::new();
        for (r, &rule) in rules.iter().enumerate() {
            let mut report = RuleReport {
                rule: rule.name().to_owned(),
                ..RuleReport::default()
            };
            // Names alone are weak evidence: in a block of a name that many people share, a
            // pair agreeing on the names only could never reach the match threshold, so the
            // one-sided rule keeps small blocks only.
            let cap = rule.cap(full_cap);
            let mut entries: Vec<u64> = if rule == BlockingRule::NationalId {
                feats
                    .par_iter()
                    .enumerate()
                    .fold(Vec::new, |mut acc, (i, f)| {
                        let mut ks = Vec::new();
                        nid_keys(f.nid(), &mut ks);
                        acc.extend(ks.iter().map(|&k| (u64::from(k) << 32) | i as u64));
                        acc
                    })
                    .flatten()
                    .collect()
            } else {
                feats
                    .par_iter()
                    .enumerate()
                    .filter_map(|(i, f)| {
                        let k = rule.key(f);
                        (k != 0).then_some((u64::from(k) << 32) | i as u64)
                    })
                    .collect()
            };
            entries.par_sort_unstable();
            let mut rb = RuleBlocks {
                members: Vec::new(),
                starts: vec![0],
                keys: Vec::new(),
            };
            let mut oversized: Vec<u64> = Vec::new();
            let mut s = 0;
            while s < entries.len() {
                let key = (entries[s] >> 32) as u32;
                let mut e = s + 1;
                while e < entries.len() && (entries[e] >> 32) as u32 == key {
                    e += 1;
                }
                let size = e - s;
                if rule == BlockingRule::NamesDateMissing
                    && !entries[s..e]
                        .iter()
                        .any(|&x| feats[(x & 0xFFFF_FFFF) as usize].dob == 0)
                {
                    // No undated record: the one-sided rule has no pair here.
                    s = e;
                    continue;
                }
                if size > cap {
                    report.oversized_blocks += 1;
                    if rule == BlockingRule::NationalId {
                        // A national id shared by that many records is a placeholder: skip it.
                        nid_skipped.insert(key);
                        report.skipped_blocks += 1;
                        report.skipped_records += size;
                    } else {
                        oversized.extend(entries[s..e].iter().map(|&x| {
                            let i = (x & 0xFFFF_FFFF) as usize;
                            let f = &feats[i];
                            let sub = combine(&[
                                u64::from(key),
                                u64::from(f.sex) + 1,
                                u64::from(f.region) + 1,
                            ]);
                            (u64::from(sub) << 32) | i as u64
                        }));
                    }
                } else {
                    push_block(
                        &mut rb,
                        &entries[s..e],
                        key,
                        &mut keys,
                        n_rules,
                        r,
                        rule,
                        &mut report,
                    );
                }
                s = e;
            }
            oversized.sort_unstable();
            let mut s = 0;
            while s < oversized.len() {
                let key = (oversized[s] >> 32) as u32;
                let mut e = s + 1;
                while e < oversized.len() && (oversized[e] >> 32) as u32 == key {
                    e += 1;
                }
                if e - s > cap {
                    report.skipped_blocks += 1;
                    report.skipped_records += e - s;
                } else {
                    push_block(
                        &mut rb,
                        &oversized[s..e],
                        key,
                        &mut keys,
                        n_rules,
                        r,
                        rule,
                        &mut report,
                    );
                }
                s = e;
            }
            report.blocks = rb.len();
            blocks.push(rb);
            reports.push(report);
        }
        Blocking {
            rules: rules.to_vec(),
            keys,
            blocks,
            nid_skipped,
            nid_rule: rules.iter().position(|r| *r == BlockingRule::NationalId),
            undated: feats.iter().map(|f| f.dob == 0).collect(),
            reports,
        }
    }

    /// Whether rule `r` produces the pair (i, j) (`i != j`).
    pub fn rule_covers(&self, r: usize, i: usize, j: usize, ni: &[u8], nj: &[u8]) -> bool {
        if self.rules[r] == BlockingRule::NationalId {
            return self.nid_shared_key(ni, nj).is_some();
        }
        let n = self.rules.len();
        let (a, b) = (self.keys[i * n + r], self.keys[j * n + r]);
        a != 0 && a == b && self.rules[r].admits(self.undated[i], self.undated[j])
    }

    /// Whether an earlier rule than `r` produces the pair.
    #[inline]
    pub fn earlier_rule_covers(&self, r: usize, i: usize, j: usize, fi: &Feat, fj: &Feat) -> bool {
        let n = self.rules.len();
        let (ri, rj) = (&self.keys[i * n..i * n + r], &self.keys[j * n..j * n + r]);
        // The national-id rule leaves its key slots at 0: they never match here.
        if ri
            .iter()
            .zip(rj)
            .enumerate()
            .any(|(k, (a, b))| *a != 0 && a == b && self.rules[k].admits(fi.dob == 0, fj.dob == 0))
        {
            return true;
        }
        self.nid_rule.is_some_and(|k| k < r)
            && fi.nid != 0
            && fj.nid != 0
            && self.nid_shared_key(fi.nid(), fj.nid()).is_some()
    }

    /// The neighbourhood key two records' national ids share (see [`nid_keys`]), unless its block
    /// was skipped.
    pub fn nid_shared_key(&self, ni: &[u8], nj: &[u8]) -> Option<u32> {
        nid_shared(ni, nj).filter(|k| !self.nid_skipped.contains(k))
    }

    /// Whether any rule reaches the pair (`nids` = each record's normalised national id): the
    /// blocking recall of a true pair.
    pub fn reachable(&self, i: usize, j: usize, nids: &[NidBytes]) -> bool {
        (0..self.rules.len())
            .any(|r| self.rule_covers(r, i, j, nids[i].as_slice(), nids[j].as_slice()))
    }

    /// Pairs inside the blocks of rule `r`.
    pub fn raw_pairs(&self, r: usize) -> u64 {
        let rb = &self.blocks[r];
        (0..rb.len())
            .map(|b| rb.block(b).len() as u64)
            .map(|k| k * (k - 1) / 2)
            .sum()
    }

    /// Frees the blocks, keeping what [`Blocking::reachable`] needs.
    pub fn drop_blocks(&mut self) {
        self.blocks = Vec::new();
    }

    /// Calls `visit(state, i, j, rule)` once for every candidate pair (`i < j`), in parallel over the
    /// blocks of each rule, and merges the per-thread states with `merge`. `sample`, when given as
    /// (n, seed), keeps only the blocks whose key hash falls in one of n buckets. Returns the merged
    /// state, the candidate pairs each rule produced and the pairs inside each rule's blocks.
    pub fn for_each_pair<S, I, V, M>(
        &self,
        feats: &[Feat],
        sample: Option<(u64, u64)>,
        init: I,
        visit: V,
        merge: M,
    ) -> (S, Vec<u64>, Vec<u64>)
    where
        S: Send,
        I: Fn() -> S + Sync + Send,
        V: Fn(&mut S, usize, usize, usize) + Sync + Send,
        M: Fn(S, S) -> S + Sync + Send,
    {
        let mut state = init();
        let mut produced = Vec::with_capacity(self.rules.len());
        let mut raw = Vec::with_capacity(self.rules.len());
        for (r, rb) in self.blocks.iter().enumerate() {
            let rule = self.rules[r];
            let is_nid = rule == BlockingRule::NationalId;
            let (st, total, raw_total) = (0..rb.len())
                .into_par_iter()
                .with_min_len(64)
                .fold(
                    || (init(), 0u64, 0u64),
                    |(mut st, mut count, mut raw_count), b| {
                        if let Some((n, seed)) = sample
                            && !mix(u64::from(rb.keys[b]) ^ seed).is_multiple_of(n)
                        {
                            return (st, count, raw_count);
                        }
                        let members = rb.block(b);
                        let k = members.len() as u64;
                        raw_count += k * (k - 1) / 2;
                        for (x, &mi) in members.iter().enumerate() {
                            let i = mi as usize;
                            let fi = &feats[i];
                            for &mj in &members[x + 1..] {
                                let j = mj as usize;
                                if i == j {
                                    continue;
                                }
                                let fj = &feats[j];
                                if is_nid
                                    && self.nid_shared_key(fi.nid(), fj.nid()) != Some(rb.keys[b])
                                {
                                    continue;
                                }
                                if !rule.admits(fi.dob == 0, fj.dob == 0)
                                    || self.earlier_rule_covers(r, i, j, fi, fj)
                                {
                                    continue;
                                }
                                let (a, c) = if i < j { (i, j) } else { (j, i) };
                                visit(&mut st, a, c, r);
                                count += 1;
                            }
                        }
                        (st, count, raw_count)
                    },
                )
                .reduce(
                    || (init(), 0, 0),
                    |(a, ca, ra), (b, cb, rb2)| (merge(a, b), ca + cb, ra + rb2),
                );
            state = merge(state, st);
            produced.push(total);
            raw.push(raw_total);
        }
        (state, produced, raw)
    }
}

fn mix(x: u64) -> u64 {
    crate::features::mix64(x)
}

#[allow(clippy::too_many_arguments)]
fn push_block(
    rb: &mut RuleBlocks,
    entries: &[u64],
    key: u32,
    keys: &mut [u32],
    n_rules: usize,
    r: usize,
    rule: BlockingRule,
    report: &mut RuleReport,
) {
    if rule != BlockingRule::NationalId {
        for &x in entries {
            keys[(x & 0xFFFF_FFFF) as usize * n_rules + r] = key;
        }
    }
    if entries.len() < 2 {
        return;
    }
    report.largest_block = report.largest_block.max(entries.len());
    rb.members
        .extend(entries.iter().map(|&x| (x & 0xFFFF_FFFF) as u32));
    rb.starts.push(rb.members.len() as u32);
    rb.keys.push(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(a: &str, b: &str) -> Vec<u32> {
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        nid_keys(a.as_bytes(), &mut ka);
        nid_keys(b.as_bytes(), &mut kb);
        ka.into_iter().filter(|k| kb.contains(k)).collect()
    }

    #[test]
    fn national_id_neighbours_share_one_key() {
        for (a, b) in [
            ("AB123456", "AB123457"),
            ("AB123456", "AB124356"),
            ("AB123456", "AC123456"),
            ("AB113456", "AB111456"),
        ] {
            let s = shared(a, b);
            assert_eq!(s.len(), 1, "{a} {b}");
            assert_eq!(
                nid_shared(a.as_bytes(), b.as_bytes()),
                Some(s[0]),
                "{a} {b}"
            );
        }
        let all = shared("AB123456", "AB123456");
        assert!(all.len() > 8);
        assert_eq!(nid_shared(b"AB123456", b"AB123456"), Some(all[0]));
        for (a, b) in [
            ("AB123456", "AB654321"),
            ("AB123456", "AB132465"),
            ("AB123456", "B123456"),
        ] {
            assert!(shared(a, b).is_empty(), "{a} {b}");
            assert_eq!(nid_shared(a.as_bytes(), b.as_bytes()), None);
        }
    }
}
