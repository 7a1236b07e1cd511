//! How a citizen follows a request without an account: a public reference printed on the receipt
//! and a short secret sent by SMS. The reference carries a check digit so that a number misread
//! over the phone is caught before it is looked up; the secret is stored only as a peppered
//! digest, so a leaked table of requests does not let anyone follow someone else's file.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::Lang;

/// Which series a reference belongs to. The prefix tells an agent at a glance whether the
/// citizen is asking about a request or a grievance, which are looked up in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// An e-service request (`SR`).
    ServiceRequest,
    /// A complaint, suggestion or observation (`GR`).
    Grievance,
    /// A document Sanad issued: a card or an attestation (`CT`).
    Certificate,
}

impl Family {
    pub fn prefix(self) -> &'static str {
        match self {
            Family::ServiceRequest => "SR",
            Family::Grievance => "GR",
            Family::Certificate => "CT",
        }
    }

    /// The family of a request type: `complaint` is a grievance, every other kind a request.
    pub fn for_kind(kind: &str) -> Family {
        if kind == "complaint" {
            Family::Grievance
        } else {
            Family::ServiceRequest
        }
    }

    /// The digit that stands for the prefix in the check digit, so that a reference read with
    /// the wrong prefix fails its check too.
    fn digit(self) -> u8 {
        match self {
            Family::ServiceRequest => 1,
            Family::Grievance => 2,
            Family::Certificate => 3,
        }
    }

    fn from_prefix(prefix: &str) -> Option<Family> {
        match prefix {
            "SR" => Some(Family::ServiceRequest),
            "GR" => Some(Family::Grievance),
            "CT" => Some(Family::Certificate),
            _ => None,
        }
    }
}

/// The largest sequence number a reference holds (seven digits: ten million a year per family).
pub const MAX_SEQUENCE: u32 = 9_999_999;

/// A public reference such as `SR-2026-0001234-7`: family, year, sequence within the year and a
/// Damm check digit over the family digit, the year and the sequence. Damm catches every single
/// wrong digit and every swap of two neighbouring digits, the two mistakes people make reading a
/// number aloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reference {
    family: Family,
    year: u16,
    sequence: u32,
    check: u8,
}

/// Why a reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error(
        "`{0}` is not a reference: expected two letters, a year, seven digits and a check digit, like SR-2026-0001234-7"
    )]
    Format(String),
    #[error("unknown reference prefix `{0}`: expected SR (request) or GR (complaint)")]
    UnknownPrefix(String),
    #[error("the check digit of `{0}` does not match: a digit was probably misread or swapped")]
    BadCheckDigit(String),
    #[error("year {0} is out of range: expected 2000 to 9999")]
    Year(u16),
    #[error("sequence {0} is out of range: expected 1 to 9999999")]
    Sequence(u32),
}

/// The Damm quasigroup of order 10: a table where each row and column is a permutation of the
/// digits and `t[t[c][a]][b] != t[t[c][b]][a]` whenever `a != b`, which is what makes swapped
/// neighbours detectable. The tests check both properties.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm interim digit after `digits`; appending it makes the whole run check to 0.
fn damm(digits: impl IntoIterator<Item = u8>) -> u8 {
    digits.into_iter().fold(0, |interim, d| {
        DAMM[usize::from(interim)][usize::from(d % 10)]
    })
}

fn digits_of(family: Family, year: u16, sequence: u32) -> impl Iterator<Item = u8> {
    let body = format!("{year:04}{sequence:07}");
    std::iter::once(family.digit()).chain(body.into_bytes().into_iter().map(|b| b - b'0'))
}

impl Reference {
    pub fn new(family: Family, year: u16, sequence: u32) -> Result<Reference, ReferenceError> {
        if !(2000..=9999).contains(&year) {
            return Err(ReferenceError::Year(year));
        }
        if !(1..=MAX_SEQUENCE).contains(&sequence) {
            return Err(ReferenceError::Sequence(sequence));
        }
        Ok(Reference {
            family,
            year,
            sequence,
            check: damm(digits_of(family, year, sequence)),
        })
    }

    /// Reads a reference as a citizen may type it: any case, with or without the dashes, with
    /// spaces around or inside.
    pub fn parse(text: &str) -> Result<Reference, ReferenceError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shown = text.trim().to_owned();
        let bytes = compact.as_bytes();
        if bytes.len() != 14
            || !bytes[..2].iter().all(u8::is_ascii_uppercase)
            || !bytes[2..].iter().all(u8::is_ascii_digit)
        {
            return Err(ReferenceError::Format(shown));
        }
        let family = Family::from_prefix(&compact[..2])
            .ok_or_else(|| ReferenceError::UnknownPrefix(compact[..2].to_owned()))?;
        let number = |range: std::ops::Range<usize>| {
            compact[range]
                .parse::<u32>()
                .map_err(|_| ReferenceError::Format(shown.clone()))
        };
        let year =
            u16::try_from(number(2..6)?).map_err(|_| ReferenceError::Format(shown.clone()))?;
        let sequence = number(6..13)?;
        let check = bytes[13] - b'0';
        let all = digits_of(family, year, sequence).chain(std::iter::once(check));
        if damm(all) != 0 {
            return Err(ReferenceError::BadCheckDigit(shown));
        }
        Reference::new(family, year, sequence)
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    pub fn check_digit(&self) -> u8 {
        self.check
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}-{:07}-{}",
            self.family.prefix(),
            self.year,
            self.sequence,
            self.check
        )
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The characters a secret is made of: digits and capitals without 0, O, 1, I and L, which are
/// mistaken for one another on a phone screen and over the phone.
pub const SECRET_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

const SECRET_LEN: usize = 6;

/// A six-character follow-up code, e.g. `K7Q2MX` (31⁶, close to 900 million values). Its
/// `Debug` does not show it: it must not end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; SECRET_LEN]);

/// Why a typed secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a follow-up code has {SECRET_LEN} characters, this one has {0}")]
    Length(usize),
    #[error("a follow-up code has only digits 2-9 and capital letters without I, L and O")]
    Character,
}

impl Secret {
    /// Makes a secret from eight random bytes the caller draws from the system's generator (the
    /// crate draws no randomness itself, so tests are repeatable). 2⁶⁴ is not a multiple of 31⁶;
    /// the bias that leaves is below one part in ten billion, far under anything an attacker can
    /// use.
    pub fn from_random(bytes: [u8; 8]) -> Secret {
        let space = 31u64.pow(SECRET_LEN as u32);
        let mut n = u64::from_le_bytes(bytes) % space;
        let mut out = [0u8; SECRET_LEN];
        for slot in out.iter_mut().rev() {
            // n % 31 is below 31, so the index is in the alphabet.
            *slot = SECRET_ALPHABET[(n % 31) as usize];
            n /= 31;
        }
        Secret(out)
    }

    /// Reads a secret as typed: any case, spaces ignored.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let chars: Vec<u8> = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .map(|c| u8::try_from(c).unwrap_or(0))
            .collect();
        if chars.len() != SECRET_LEN {
            return Err(SecretError::Length(chars.len()));
        }
        let mut out = [0u8; SECRET_LEN];
        for (slot, c) in out.iter_mut().zip(chars) {
            if !SECRET_ALPHABET.contains(&c) {
                return Err(SecretError::Character);
            }
            *slot = c;
        }
        Ok(Secret(out))
    }

    /// The code itself, to put in the SMS. Nowhere else.
    pub fn expose(&self) -> &str {
        // Built only from SECRET_ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// SHA-256 over `pepper ‖ secret`, in lower-case hex: what the app stores. The pepper lives
    /// in the configuration, not the database, so the digests alone cannot be searched through
    /// the 900 million possible codes.
    pub fn digest(&self, pepper: &[u8]) -> String {
        let mut hasher = Sha256::new();
        hasher.update(pepper);
        hasher.update(self.0);
        hex(&hasher.finalize())
    }

    /// Whether this secret's digest is `stored` (as [`digest`](Self::digest) wrote it), compared
    /// in constant time so the comparison does not leak how many leading characters match.
    pub fn matches(&self, pepper: &[u8], stored: &str) -> bool {
        constant_time_eq(self.digest(pepper).as_bytes(), stored.trim().as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(******)")
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Compares two byte strings in time that depends only on their lengths (which are public: a
/// digest is always 64 hex characters).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// The SMS that gives a citizen the means to follow a request. Kept within one SMS: 160 GSM-7
/// characters in French and English, 70 UCS-2 characters in Arabic (any Arabic letter switches
/// the whole message to UCS-2).
pub fn follow_up_sms(lang: Lang, reference: &Reference, secret: &Secret) -> String {
    let code = secret.expose();
    match lang {
        Lang::Fr => format!(
            "Sanad: demande {reference} enregistrée. Code de suivi: {code}. Ne le donnez à personne."
        ),
        Lang::En => {
            format!("Sanad: request {reference} received. Follow-up code: {code}. Do not share it.")
        }
        // The reference and code are Latin script inside Arabic text; phones lay them out
        // left to right on their own, so no direction marks are added (they would cost two of
        // the seventy characters).
        Lang::Ar => format!("سند: طلبكم {reference} رمز التتبع {code} لا تعطوه لأحد"),
    }
}

/// How long a text is as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsLength {
    /// Every character is in the GSM 03.38 alphabet; the count is in septets (the characters of
    /// the extension table count two). One SMS holds 160.
    Gsm7(usize),
    /// At least one character is not; the count is in UTF-16 units. One SMS holds 70.
    Ucs2(usize),
}

impl SmsLength {
    /// Whether the text fits in a single SMS.
    pub fn fits_one(self) -> bool {
        match self {
            SmsLength::Gsm7(n) => n <= 160,
            SmsLength::Ucs2(n) => n <= 70,
        }
    }
}

/// The GSM 03.38 default alphabet (without the escape code).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each costs an escape and the character.
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

/// Measures a text as an SMS would carry it.
pub fn sms_length(text: &str) -> SmsLength {
    let mut septets = 0;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            return SmsLength::Ucs2(text.encode_utf16().count());
        }
    }
    SmsLength::Gsm7(septets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_damm_table_is_a_weakly_totally_anti_symmetric_quasigroup() {
        for row in DAMM {
            let mut seen = [false; 10];
            row.iter().for_each(|&d| seen[usize::from(d)] = true);
            assert!(seen.iter().all(|&s| s));
        }
        for col in 0..10 {
            let mut seen = [false; 10];
            DAMM.iter()
                .for_each(|row| seen[usize::from(row[col])] = true);
            assert!(seen.iter().all(|&s| s));
        }
        for c in 0..10 {
            for a in 0..10 {
                for b in 0..10 {
                    if a != b {
                        let ab = DAMM[usize::from(DAMM[c][a])][b];
                        let ba = DAMM[usize::from(DAMM[c][b])][a];
                        assert_ne!(ab, ba, "c={c} a={a} b={b}");
                    }
                }
            }
        }
        for (i, row) in DAMM.iter().enumerate() {
            assert_eq!(row[i], 0, "the diagonal is zero");
        }
    }

    #[test]
    fn secret_debug_hides_it() {
        let s = Secret::from_random([9; 8]);
        assert_eq!(format!("{s:?}"), "Secret(******)");
    }
}
