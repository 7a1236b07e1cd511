//! Comparison levels: for each field, how two records agree, as a small level number (0 = one side
//! missing). The weights of the levels live in the [`crate::Model`].

use crate::date::DateLevel;
use crate::features::{Feat, NameF};

/// The compared fields, in the order of [`Levels`].
pub const FIELDS: [&str; 9] = [
    "first_name",
    "last_name",
    "birth_date",
    "national_id",
    "sex",
    "commune",
    "household",
    "phone",
    "household_links",
];
pub const N_FIELDS: usize = FIELDS.len();

pub const NAME_LEVELS: &[&str] = &["null", "exact", "variant", "close", "similar", "different"];
pub const DATE_LEVELS: &[&str] = &[
    "null",
    "exact",
    "day_month_swapped",
    "one_digit",
    "january_first",
    "same_year",
    "different",
];
pub const NID_LEVELS: &[&str] = &["null", "exact", "one_edit", "different"];
pub const SEX_LEVELS: &[&str] = &["null", "same", "different"];
pub const COMMUNE_LEVELS: &[&str] = &["null", "exact", "same_province", "same_region", "different"];
pub const HOUSEHOLD_LEVELS: &[&str] = &["null", "same", "different"];
pub const PHONE_LEVELS: &[&str] = &["null", "exact", "one_edit", "different"];
/// Other matched pairs between the two records' households (whole households registered twice).
pub const LINK_LEVELS: &[&str] = &["null", "none", "one", "two_or_more"];

/// Level names per field.
pub const LEVELS: [&[&str]; N_FIELDS] = [
    NAME_LEVELS,
    NAME_LEVELS,
    DATE_LEVELS,
    NID_LEVELS,
    SEX_LEVELS,
    COMMUNE_LEVELS,
    HOUSEHOLD_LEVELS,
    PHONE_LEVELS,
    LINK_LEVELS,
];

pub(crate) const L_EXACT: u8 = 1;
pub(crate) const L_VARIANT: u8 = 2;
pub(crate) const L_CLOSE: u8 = 3;
pub(crate) const L_SIMILAR: u8 = 4;
pub(crate) const L_DIFFERENT: u8 = 5;

/// The level of every field for one pair.
pub type Levels = [u8; N_FIELDS];

/// Number of distinct agreement patterns (product of the level counts).
#[cfg(test)]
pub(crate) fn n_patterns() -> usize {
    LEVELS.iter().map(|l| l.len()).product()
}

pub(crate) fn pattern_index(l: &Levels) -> usize {
    let mut idx = 0usize;
    for (f, &lv) in l.iter().enumerate() {
        idx = idx * LEVELS[f].len() + usize::from(lv);
    }
    idx
}

pub(crate) fn pattern_levels(mut idx: usize) -> Levels {
    let mut l = [0u8; N_FIELDS];
    for f in (0..N_FIELDS).rev() {
        let n = LEVELS[f].len();
        l[f] = (idx % n) as u8;
        idx /= n;
    }
    l
}

/// Counts of agreement patterns (sparse).
#[derive(Default)]
pub(crate) struct PatternCounts(crate::features::KeyMap<u32, u64>);

impl PatternCounts {
    pub fn add(&mut self, idx: usize) {
        *self.0.entry(idx as u32).or_default() += 1;
    }
    pub fn merge(mut self, other: PatternCounts) -> PatternCounts {
        let (mut big, small) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (k, v) in small.0 {
            *big.0.entry(k).or_default() += v;
        }
        self = big;
        self
    }
    /// (pattern, count) sorted by pattern.
    pub fn sparse(&self) -> Vec<(usize, f64)> {
        let mut v: Vec<(usize, f64)> = self
            .0
            .iter()
            .map(|(&k, &c)| (k as usize, c as f64))
            .collect();
        v.sort_unstable_by_key(|x| x.0);
        v
    }
}

/// Jaro–Winkler similarity of two byte strings (prefix scale 0.1, prefix up to 4).
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    j + prefix as f64 * 0.1 * (1.0 - j)
}

#[allow(clippy::needless_range_loop)] // index arithmetic on two strings and their bit masks
fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() > 64 || b.len() > 64 {
        return jaro_long(a, b);
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used: u64 = 0;
    let mut a_used: u64 = 0;
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if b_used & (1 << j) == 0 && b[j] == ca {
                b_used |= 1 << j;
                a_used |= 1 << i;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut bu = b_used;
    let mut au = a_used;
    while au != 0 {
        let i = au.trailing_zeros() as usize;
        let j = bu.trailing_zeros() as usize;
        if a[i] != b[j] {
            transpositions += 1;
        }
        au &= au - 1;
        bu &= bu - 1;
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

#[allow(clippy::needless_range_loop)]
fn jaro_long(a: &[u8], b: &[u8]) -> f64 {
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = vec![false; b.len()];
    let mut a_match = Vec::new();
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == ca {
                b_used[j] = true;
                a_match.push(ca);
                break;
            }
        }
    }
    if a_match.is_empty() {
        return 0.0;
    }
    let b_match: Vec<u8> = b
        .iter()
        .zip(&b_used)
        .filter(|(_, u)| **u)
        .map(|(c, _)| *c)
        .collect();
    let t = a_match.iter().zip(&b_match).filter(|(x, y)| x != y).count() / 2;
    let m = a_match.len() as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t as f64) / m) / 3.0
}

/// Level of two names (see [`NAME_LEVELS`]): exact Latin form; same phonetic key or same Arabic form
/// (unless the Arabic forms disagree); Jaro–Winkler ≥ 0.92 or same skeleton with JW ≥ 0.8; JW ≥ 0.8 or
/// same skeleton; different.
pub(crate) fn name_level(ta: &[u8], a: &NameF, tb: &[u8], b: &NameF) -> u8 {
    let lat = a.exact != 0 && b.exact != 0;
    let ar = a.ar != 0 && b.ar != 0;
    if lat && a.exact == b.exact {
        return L_EXACT;
    }
    let ar_agree = ar && a.ar == b.ar;
    if ar_agree || (lat && a.phon == b.phon && !ar) {
        return L_VARIANT;
    }
    let skel = (a.skel != 0 && (a.skel == b.skel || a.skel == b.ar_skel))
        || (a.ar_skel != 0 && (a.ar_skel == b.ar_skel || a.ar_skel == b.skel));
    if lat {
        let jw = jaro_winkler(a.text_in(ta), b.text_in(tb));
        if jw >= 0.92 || (skel && jw >= 0.8) || (a.phon == b.phon && jw >= 0.8) {
            return L_CLOSE;
        }
        if jw >= 0.8 || skel || a.phon == b.phon {
            return L_SIMILAR;
        }
        return L_DIFFERENT;
    }
    if ar {
        return if skel { L_SIMILAR } else { L_DIFFERENT };
    }
    let any_a = a.skel != 0 || a.ar_skel != 0;
    let any_b = b.skel != 0 || b.ar_skel != 0;
    if !(any_a && any_b) {
        return 0;
    }
    if skel { L_CLOSE } else { L_DIFFERENT }
}

/// Level of two binary-coded birth dates (see [`crate::date::compare_bcd`]).
pub(crate) fn date_level(a: u32, b: u32) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    match crate::date::compare_bcd(a, b) {
        DateLevel::Exact => 1,
        DateLevel::DayMonthSwapped => 2,
        DateLevel::OneDigit => 3,
        DateLevel::JanuaryFirst => 4,
        DateLevel::SameYear => 5,
        DateLevel::Different => 6,
    }
}

/// Two ids at most one edit apart: one character substituted, inserted or deleted, or two neighbours
/// swapped.
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la == lb {
        let Some(i) = (0..la).find(|&i| a[i] != b[i]) else {
            return true;
        };
        if a[i + 1..] == b[i + 1..] {
            return true;
        }
        return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..];
    }
    let (s, l) = if la < lb { (a, b) } else { (b, a) };
    if l.len() - s.len() != 1 {
        return false;
    }
    let p = s.iter().zip(l).take_while(|(x, y)| x == y).count();
    s[p..] == l[p + 1..]
}

pub(crate) fn nid_level(a: &Feat, b: &Feat) -> u8 {
    if a.nid == 0 || b.nid == 0 {
        return 0;
    }
    if a.nid == b.nid {
        return 1;
    }
    if within_one_edit(a.nid(), b.nid()) {
        2
    } else {
        3
    }
}

fn phone_level(a: u64, b: u64) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    if a == b {
        return 1;
    }
    let digits = |mut x: u64| {
        let mut d = [0u8; 9];
        for slot in d.iter_mut().rev() {
            *slot = b'0' + (x % 10) as u8;
            x /= 10;
        }
        d
    };
    if within_one_edit(&digits(a), &digits(b)) {
        2
    } else {
        3
    }
}

fn commune_level(a: &Feat, b: &Feat) -> u8 {
    if a.commune == 0 || b.commune == 0 {
        0
    } else if a.commune == b.commune {
        1
    } else if a.province != 0 && a.province == b.province {
        2
    } else if a.region != 0 && a.region == b.region {
        3
    } else {
        4
    }
}

fn eq_level(a: u32, b: u32) -> u8 {
    if a == 0 || b == 0 {
        0
    } else if a == b {
        1
    } else {
        2
    }
}

/// Levels of the fields other than the names.
pub(crate) fn other_levels(a: &Feat, b: &Feat, l: &mut Levels) {
    l[2] = date_level(a.dob, b.dob);
    l[3] = nid_level(a, b);
    l[4] = eq_level(u32::from(a.sex), u32::from(b.sex));
    l[5] = commune_level(a, b);
    l[6] = eq_level(a.household, b.household);
    l[7] = phone_level(a.phone, b.phone);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_reference_values() {
        let close = |a: &str, b: &str, v: f64| {
            let got = jaro_winkler(a.as_bytes(), b.as_bytes());
            assert!((got - v).abs() < 0.001, "{a}/{b}: {got} != {v}");
        };
        close("martha", "marhta", 0.9611);
        close("dwayne", "duane", 0.84);
        close("dixon", "dicksonx", 0.8133);
        close("mohammed", "muhammad", 0.85);
        close("abc", "abc", 1.0);
        close("abc", "xyz", 0.0);
        let long_a = "a".repeat(70) + "bc";
        let long_b = "a".repeat(70) + "cb";
        let v = jaro_winkler(long_a.as_bytes(), long_b.as_bytes());
        assert!(v > 0.95 && v < 1.0);
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"AB123456", b"AB123456"));
        assert!(within_one_edit(b"AB123456", b"AB123457"));
        assert!(within_one_edit(b"AB123456", b"AB124356"));
        assert!(within_one_edit(b"AB123456", b"A123456"));
        assert!(within_one_edit(b"AB123456", b"AC123456"));
        assert!(!within_one_edit(b"AB123456", b"AB654321"));
        assert!(!within_one_edit(b"AB123456", b"AB1234"));
        assert!(!within_one_edit(b"AB123456", b"AB132465"));
    }

    #[test]
    fn patterns_round_trip() {
        let l: Levels = [5, 4, 6, 3, 2, 4, 2, 3, 3];
        assert_eq!(pattern_levels(pattern_index(&l)), l);
        assert_eq!(pattern_index(&[0; N_FIELDS]), 0);
        assert!(pattern_index(&l) < n_patterns());
    }
}
