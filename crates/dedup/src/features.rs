//! Columnar features computed once per record: every string is folded, keyed and hashed to a `u32`
//! here, so that comparing two records is integer equality and table look-ups, with the folded Latin
//! text kept in one arena for the few Jaro–Winkler comparisons.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use crate::Record;
use crate::date::{ascii_digit, parse_date};
use crate::normalize::{NameKeys, NamePart};

/// 64-bit hash of bytes (multiply–rotate, then a final avalanche). Stable across runs and platforms:
/// the blocking keys and the model's term frequencies depend on it.
pub(crate) fn hash64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64);
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        // Multiply, then fold the high half down: a difference anywhere in a chunk reaches every bit
        // before the next chunk is mixed in.
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x517C_C1B7_2722_0A95);
        h ^= h >> 32;
    }
    mix64(h)
}

pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// A non-zero 32-bit key of a non-empty string; 0 for the empty string ("missing").
pub(crate) fn key32(s: &str) -> u32 {
    if s.is_empty() {
        return 0;
    }
    let h = hash64(s.as_bytes());
    let k = (h ^ (h >> 32)) as u32;
    if k == 0 { 1 } else { k }
}

/// Combines keys into a non-zero blocking key; 0 if any part is missing.
pub(crate) fn combine(parts: &[u64]) -> u32 {
    if parts.contains(&0) {
        return 0;
    }
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for &p in parts {
        h = mix64(h ^ p).wrapping_add(0x9E37_79B9_7F4A_7C15);
    }
    let k = (h ^ (h >> 32)) as u32;
    if k == 0 { 1 } else { k }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = mix64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix64(n);
    }
}

pub(crate) type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// The features of one name.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NameF {
    pub exact: u32,
    pub phon: u32,
    pub skel: u32,
    pub ar: u32,
    pub ar_skel: u32,
    /// Offset and length of the exact form in the text arena.
    pub text: u32,
    pub text_len: u16,
    /// First letter of the exact form (0 when none): with the birth date, a blocking key that a
    /// typo elsewhere in both names does not break. Fits in the padding after `text_len`.
    pub initial: u8,
    /// log2 of the term frequency of `exact` (floored at the model's minimum), 0 when missing.
    pub lt_exact: f32,
    /// log2 of the term frequency of the phonetic key (or of the Arabic form without Latin).
    pub lt_phon: f32,
}

impl NameF {
    /// The exact form, from the arena the record's features were built with.
    #[inline]
    pub fn text_in<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        let start = self.text as usize;
        arena
            .get(start..start + usize::from(self.text_len))
            .unwrap_or(&[])
    }
}

/// Everything the engine compares, for one record: 128 bytes, aligned on a cache line so that a
/// record costs two line fetches.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
pub(crate) struct Feat {
    pub first: NameF,
    pub last: NameF,
    /// The birth date `yyyymmdd` in binary-coded decimal (0x19800703), 0 when missing or invalid.
    pub dob: u32,
    /// log2 of the birth date's frequency.
    pub lt_dob: f32,
    pub nid: u32,
    pub nid_chars: [u8; 15],
    pub nid_len: u8,
    /// b'M', b'F' or 0.
    pub sex: u8,
    pub commune: u32,
    pub province: u32,
    pub region: u32,
    pub household: u32,
    /// The last 9 digits of the phone number, 0 when missing.
    pub phone: u64,
}

impl Feat {
    pub fn year(&self) -> u32 {
        self.dob >> 16
    }
    /// Day and month as an unordered pair, so that a swapped date keeps its key.
    pub fn month_day(&self) -> u32 {
        if self.dob == 0 {
            return 0;
        }
        let (m, d) = ((self.dob >> 8) & 0xFF, self.dob & 0xFF);
        let (lo, hi) = if m <= d { (m, d) } else { (d, m) };
        (lo << 8) + hi + 1
    }
    pub fn nid(&self) -> &[u8] {
        &self.nid_chars[..usize::from(self.nid_len)]
    }
}

/// A problem found in an input value that made the engine treat it as missing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldIssue {
    /// Index of the record in the input (0-based); for `read_csv` input the CSV line is `row + 2`.
    pub row: usize,
    pub field: &'static str,
    pub problem: &'static str,
}

/// Counts of inputs treated as missing, with the first few examples.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct InputIssues {
    pub invalid_dates: usize,
    pub empty_names: usize,
    pub invalid_national_ids: usize,
    pub examples: Vec<FieldIssue>,
}

const MAX_EXAMPLES: usize = 20;

impl InputIssues {
    fn add(&mut self, issue: FieldIssue) {
        match issue.field {
            "birth_date" => self.invalid_dates += 1,
            "national_id" => self.invalid_national_ids += 1,
            _ => self.empty_names += 1,
        }
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(issue);
        }
    }
    fn merge(&mut self, other: InputIssues) {
        self.invalid_dates += other.invalid_dates;
        self.empty_names += other.empty_names;
        self.invalid_national_ids += other.invalid_national_ids;
        for e in other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e);
            }
        }
    }
}

/// The exact and phonetic strings of a record's names, kept until the term frequencies are counted.
#[derive(Default)]
pub(crate) struct NameStrings {
    pub first_exact: String,
    pub first_phon: String,
    pub last_exact: String,
    pub last_phon: String,
}

/// Features of all records plus the text arena.
pub(crate) struct Table {
    pub feats: Vec<Feat>,
    pub arena: Vec<u8>,
}

fn name_features(
    latin: &str,
    arabic: Option<&str>,
    part: NamePart,
    arena: &mut Vec<u8>,
) -> (NameF, NameKeys) {
    let keys = NameKeys::new(latin, arabic, part);
    let text = arena.len() as u32;
    let bytes = keys.exact.as_bytes();
    let bytes = &bytes[..bytes.len().min(200)];
    arena.extend_from_slice(bytes);
    let f = NameF {
        exact: key32(&keys.exact),
        phon: key32(&keys.phonetic),
        skel: key32(&keys.skeleton),
        ar: key32(&keys.arabic),
        ar_skel: key32(&keys.arabic_skeleton),
        text,
        text_len: bytes.len() as u16,
        initial: bytes.first().copied().unwrap_or(0),
        lt_exact: 0.0,
        lt_phon: 0.0,
    };
    (f, keys)
}

/// The TF key of a name: its phonetic key, or its Arabic form when it has no Latin letters.
fn phon_tf_string(keys: &NameKeys) -> String {
    if keys.phonetic.is_empty() {
        keys.arabic.clone()
    } else {
        keys.phonetic.clone()
    }
}

/// A value that cannot be a national id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotANationalId;

/// Normalises a national id: ASCII letters upper-cased and digits kept (Arabic-Indic digits
/// converted), separators dropped; `Ok(None)` when empty. Placeholders (fewer than 4 characters, one
/// repeated digit) and other characters are refused.
pub fn normalize_national_id(s: &str) -> Result<Option<String>, NotANationalId> {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if let Some(d) = ascii_digit(ch) {
            out.push(char::from(b'0' + d as u8));
        } else if ch.is_ascii_alphabetic() {
            out.push(ch.to_ascii_uppercase());
        } else if matches!(ch, ' ' | '-' | '.' | '/' | '_') {
            continue;
        } else {
            return Err(NotANationalId);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    let digits: Vec<u8> = out.bytes().filter(u8::is_ascii_digit).collect();
    if out.len() < 4
        || out.len() > 15
        || digits.is_empty()
        || digits.iter().all(|&d| d == digits[0]) && digits.len() == out.len()
    {
        return Err(NotANationalId);
    }
    Ok(Some(out))
}

fn sex_code(s: &str) -> u8 {
    let t = s.trim();
    match t.chars().next().map(|c| c.to_ascii_uppercase()) {
        Some('M' | 'H' | '1') => b'M',
        Some('F' | '2') => b'F',
        _ if t.starts_with("ذكر") => b'M',
        _ if t.starts_with("أنثى") || t.starts_with("انثى") => b'F',
        _ => 0,
    }
}

fn phone_number(s: &str) -> u64 {
    let digits: Vec<u32> = s.chars().filter_map(ascii_digit).collect();
    if digits.len() < 9 {
        return 0;
    }
    digits[digits.len() - 9..]
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d))
}

fn commune_keys(s: &str) -> (u32, u32, u32) {
    let t = s.trim();
    if t.is_empty() {
        return (0, 0, 0);
    }
    let segs: Vec<&str> = t.split('.').collect();
    if segs.len() >= 3 {
        let province = format!("{}.{}", segs[0], segs[1]);
        (key32(t), key32(&province), key32(segs[0]))
    } else {
        (key32(t), 0, 0)
    }
}

/// Features of one record, its name strings (for the term frequencies) and its input issues.
pub(crate) fn record_features(
    row: usize,
    r: &Record,
    arena: &mut Vec<u8>,
    issues: &mut InputIssues,
) -> (Feat, NameStrings) {
    let (first, fk) = name_features(
        &r.first_name,
        r.first_name_ar.as_deref(),
        NamePart::Given,
        arena,
    );
    let (last, lk) = name_features(
        &r.last_name,
        r.last_name_ar.as_deref(),
        NamePart::Family,
        arena,
    );
    if fk.is_empty() && lk.is_empty() {
        issues.add(FieldIssue {
            row,
            field: "names",
            problem: "no letter in any name field",
        });
    }
    let dob = match r.birth_date.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(s) => match parse_date(s) {
            Some(d) => crate::date::packed_to_bcd(d.packed()),
            None => {
                issues.add(FieldIssue {
                    row,
                    field: "birth_date",
                    problem: "not a date in YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY",
                });
                0
            }
        },
    };
    let mut f = Feat {
        first,
        last,
        dob,
        sex: r
            .sex
            .map(|c| sex_code(c.encode_utf8(&mut [0u8; 4])))
            .unwrap_or(0),
        ..Feat::default()
    };
    if let Some(n) = r.national_id.as_deref() {
        match normalize_national_id(n) {
            Ok(Some(n)) => {
                f.nid = key32(&n);
                let b = n.as_bytes();
                f.nid_len = b.len() as u8;
                f.nid_chars[..b.len()].copy_from_slice(b);
            }
            Ok(None) => {}
            Err(NotANationalId) => issues.add(FieldIssue {
                row,
                field: "national_id",
                problem: "not a national id (letters and digits, 4 to 15 characters)",
            }),
        }
    }
    if let Some(c) = r.commune.as_deref() {
        (f.commune, f.province, f.region) = commune_keys(c);
    }
    if let Some(h) = r.household_id.as_deref() {
        f.household = key32(h.trim());
    }
    if let Some(p) = r.phone.as_deref() {
        f.phone = phone_number(p);
    }
    let strings = NameStrings {
        first_phon: phon_tf_string(&fk),
        first_exact: fk.exact,
        last_phon: phon_tf_string(&lk),
        last_exact: lk.exact,
    };
    (f, strings)
}

/// Term-frequency counts of names, keyed by the folded string.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TermFrequencies {
    /// Number of records counted (with the name present).
    pub first_total: u64,
    pub last_total: u64,
    pub first_exact: HashMap<String, u32>,
    pub first_phonetic: HashMap<String, u32>,
    pub last_exact: HashMap<String, u32>,
    pub last_phonetic: HashMap<String, u32>,
    /// Records with a birth date, and the count of each date (`yyyymmdd`): 1 January is heaped.
    #[serde(default)]
    pub birth_date_total: u64,
    #[serde(default)]
    pub birth_date: HashMap<u32, u32>,
}

/// Term frequencies keyed by `key32`, for fast look-up.
#[derive(Default)]
pub(crate) struct TfLookup {
    first_total: f64,
    last_total: f64,
    first_exact: KeyMap<u32, u32>,
    first_phon: KeyMap<u32, u32>,
    last_exact: KeyMap<u32, u32>,
    last_phon: KeyMap<u32, u32>,
    dob_total: f64,
    dob: KeyMap<u32, u32>,
}

/// Floor of a birth date's frequency.
pub(crate) const DOB_TF_MIN: f64 = 1e-5;

impl TfLookup {
    pub fn from_tables(tf: &TermFrequencies) -> TfLookup {
        let conv = |m: &HashMap<String, u32>| {
            m.iter()
                .map(|(k, v)| (key32(k), *v))
                .collect::<KeyMap<u32, u32>>()
        };
        TfLookup {
            first_total: tf.first_total as f64,
            last_total: tf.last_total as f64,
            first_exact: conv(&tf.first_exact),
            first_phon: conv(&tf.first_phonetic),
            last_exact: conv(&tf.last_exact),
            last_phon: conv(&tf.last_phonetic),
            dob_total: tf.birth_date_total as f64,
            dob: tf
                .birth_date
                .iter()
                .map(|(k, v)| (crate::date::packed_to_bcd(*k), *v))
                .collect(),
        }
    }

    /// Fills the `lt_*` fields of a record (log2 of the frequency, floored at `tf_min`).
    pub fn apply(&self, f: &mut Feat, tf_min: f64) {
        let lt = |map: &KeyMap<u32, u32>, total: f64, k: u32| -> f32 {
            if k == 0 {
                return 0.0;
            }
            let c = map.get(&k).copied().unwrap_or(0).max(1) as f64;
            (c / total.max(1.0)).max(tf_min).log2() as f32
        };
        let fphon = if f.first.phon != 0 {
            f.first.phon
        } else {
            f.first.ar
        };
        let lphon = if f.last.phon != 0 {
            f.last.phon
        } else {
            f.last.ar
        };
        f.first.lt_exact = lt(&self.first_exact, self.first_total, f.first.exact);
        f.first.lt_phon = lt(&self.first_phon, self.first_total, fphon);
        f.last.lt_exact = lt(&self.last_exact, self.last_total, f.last.exact);
        f.last.lt_phon = lt(&self.last_phon, self.last_total, lphon);
        f.lt_dob = if f.dob == 0 {
            0.0
        } else {
            let c = self.dob.get(&f.dob).copied().unwrap_or(0).max(1) as f64;
            (c / self.dob_total.max(1.0)).max(DOB_TF_MIN).log2() as f32
        };
    }
}

const CHUNK: usize = 16_384;

/// Computes the features of all records in parallel, and the term frequencies of their names.
pub(crate) fn build_table(records: &[Record]) -> (Table, TermFrequencies, InputIssues) {
    struct Part {
        feats: Vec<Feat>,
        arena: Vec<u8>,
        tf: TermFrequencies,
        issues: InputIssues,
    }
    let parts: Vec<Part> = records
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(ci, chunk)| {
            let mut p = Part {
                feats: Vec::with_capacity(chunk.len()),
                arena: Vec::with_capacity(chunk.len() * 16),
                tf: TermFrequencies::default(),
                issues: InputIssues::default(),
            };
            for (k, r) in chunk.iter().enumerate() {
                let (f, s) = record_features(ci * CHUNK + k, r, &mut p.arena, &mut p.issues);
                count_names(&mut p.tf, s);
                if f.dob != 0 {
                    p.tf.birth_date_total += 1;
                    *p.tf
                        .birth_date
                        .entry(crate::date::bcd_to_packed(f.dob))
                        .or_default() += 1;
                }
                p.feats.push(f);
            }
            p
        })
        .collect();
    let mut feats = Vec::with_capacity(records.len());
    let mut arena = Vec::with_capacity(parts.iter().map(|p| p.arena.len()).sum());
    let mut tf = TermFrequencies::default();
    let mut issues = InputIssues::default();
    for p in parts {
        let base = arena.len() as u32;
        arena.extend_from_slice(&p.arena);
        feats.extend(p.feats.into_iter().map(|mut f| {
            f.first.text += base;
            f.last.text += base;
            f
        }));
        merge_tf(&mut tf, p.tf);
        issues.merge(p.issues);
    }
    forget_household_phones(&mut feats);
    (Table { feats, arena }, tf, issues)
}

/// Clears the phone of records that share it with another member of their own household. A
/// family phone names a household, not a person: scored as a personal identifier, it would
/// make a father and his son (same family name, commune and phone) look like one person, since
/// the model takes the fields as independent. A phone of one's own keeps its full weight.
fn forget_household_phones(feats: &mut [Feat]) {
    let mut count: HashMap<(u32, u64), u32> = HashMap::new();
    for f in feats.iter().filter(|f| f.household != 0 && f.phone != 0) {
        *count.entry((f.household, f.phone)).or_default() += 1;
    }
    for f in feats.iter_mut() {
        if count.get(&(f.household, f.phone)).is_some_and(|&n| n > 1) {
            f.phone = 0;
        }
    }
}

fn count_names(tf: &mut TermFrequencies, s: NameStrings) {
    let bump = |map: &mut HashMap<String, u32>, k: String| {
        if let Some(c) = map.get_mut(&k) {
            *c += 1;
        } else {
            map.insert(k, 1);
        }
    };
    if !s.first_phon.is_empty() {
        tf.first_total += 1;
        if !s.first_exact.is_empty() {
            bump(&mut tf.first_exact, s.first_exact);
        }
        bump(&mut tf.first_phonetic, s.first_phon);
    }
    if !s.last_phon.is_empty() {
        tf.last_total += 1;
        if !s.last_exact.is_empty() {
            bump(&mut tf.last_exact, s.last_exact);
        }
        bump(&mut tf.last_phonetic, s.last_phon);
    }
}

fn merge_tf(into: &mut TermFrequencies, from: TermFrequencies) {
    into.first_total += from.first_total;
    into.birth_date_total += from.birth_date_total;
    for (k, v) in from.birth_date {
        *into.birth_date.entry(k).or_default() += v;
    }
    into.last_total += from.last_total;
    for (dst, src) in [
        (&mut into.first_exact, from.first_exact),
        (&mut into.first_phonetic, from.first_phonetic),
        (&mut into.last_exact, from.last_exact),
        (&mut into.last_phonetic, from.last_phonetic),
    ] {
        for (k, v) in src {
            *dst.entry(k).or_default() += v;
        }
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn feature_row_fits_two_cache_lines() {
        assert_eq!(std::mem::size_of::<super::Feat>(), 128);
    }
}

#[cfg(test)]
mod phone_tests {
    use crate::Record;

    fn person(id: &str, household: &str, phone: &str) -> Record {
        Record {
            id: id.into(),
            first_name: "Ali".into(),
            last_name: "Tazi".into(),
            household_id: Some(household.into()),
            phone: Some(phone.into()),
            ..Record::default()
        }
    }

    #[test]
    fn a_phone_shared_in_a_household_is_not_a_personal_identifier() {
        let records = [
            person("P1", "H1", "+212612345678"),
            person("P2", "H1", "0612345678"),
            person("P3", "H1", "0699999999"),
            // The same number in another household is still compared.
            person("P4", "H2", "+212612345678"),
        ];
        let (table, _, _) = super::build_table(&records);
        let phones: Vec<bool> = table.feats.iter().map(|f| f.phone != 0).collect();
        assert_eq!(phones, [false, false, true, true]);
    }
}
