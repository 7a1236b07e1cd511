//! Birth dates: the accepted layouts and the comparison levels (exact, day and month swapped, one
//! digit mistyped, 1 January standing for an unknown day, same year).

use serde::{Deserialize, Serialize};

/// A calendar date, validated (month 1–12, day within the month, year 1800–2200).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BirthDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl BirthDate {
    pub fn new(year: u16, month: u8, day: u8) -> Option<BirthDate> {
        let ok = (1800..=2200).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        ok.then_some(BirthDate { year, month, day })
    }

    /// `yyyymmdd` as a number, never 0 (0 is kept for "no date").
    pub fn packed(self) -> u32 {
        u32::from(self.year) * 10_000 + u32::from(self.month) * 100 + u32::from(self.day)
    }

    pub fn from_packed(p: u32) -> Option<BirthDate> {
        let year = u16::try_from(p / 10_000).ok()?;
        BirthDate::new(year, (p / 100 % 100) as u8, (p % 100) as u8)
    }
}

impl std::fmt::Display for BirthDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// Parses `YYYYMMDD`, `YYYY-MM-DD` (also with `/` or `.`), `DD/MM/YYYY` (also with `-` or `.`),
/// with Arabic-Indic digits accepted and a trailing time (`T…` or ` …`) ignored. Anything else, or an
/// impossible date (30 February), gives `None`: the field is then treated as missing.
pub fn parse_date(s: &str) -> Option<BirthDate> {
    let s = s.trim();
    let s = s.split(['T', ' ']).next().unwrap_or("");
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let mut parts: Vec<u32> = Vec::with_capacity(3);
    let mut lens: Vec<usize> = Vec::with_capacity(3);
    let mut cur: Option<u32> = None;
    let mut cur_len = 0usize;
    let mut sep: Option<char> = None;
    for ch in s.chars() {
        if let Some(d) = ascii_digit(ch) {
            if cur_len >= 8 {
                return None;
            }
            cur = Some(cur.unwrap_or(0) * 10 + d);
            cur_len += 1;
        } else if matches!(ch, '-' | '/' | '.') {
            if sep.is_some_and(|x| x != ch) {
                return None;
            }
            sep = Some(ch);
            parts.push(cur.take()?);
            lens.push(cur_len);
            cur_len = 0;
        } else {
            return None;
        }
    }
    parts.push(cur?);
    lens.push(cur_len);
    let (y, m, d) = match (parts.as_slice(), lens.as_slice()) {
        ([v], [8]) => (v / 10_000, v / 100 % 100, v % 100),
        ([y, m, d], [4, 1..=2, 1..=2]) => (*y, *m, *d),
        ([d, m, y], [1..=2, 1..=2, 4]) => (*y, *m, *d),
        _ => return None,
    };
    BirthDate::new(
        u16::try_from(y).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(d).ok()?,
    )
}

/// An ASCII or Arabic-Indic (U+0660–0669, U+06F0–06F9) digit.
pub(crate) fn ascii_digit(ch: char) -> Option<u32> {
    match ch {
        '0'..='9' => Some(ch as u32 - '0' as u32),
        '\u{0660}'..='\u{0669}' => Some(ch as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(ch as u32 - 0x06F0),
        _ => None,
    }
}

/// How two birth dates agree, best level first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateLevel {
    Exact,
    /// Day and month swapped (03/07 for 07/03).
    DayMonthSwapped,
    /// One digit of `YYYYMMDD` differs, or two neighbouring digits are swapped.
    OneDigit,
    /// Same year, and one of the two is 1 January (the usual stand-in for an unknown day).
    JanuaryFirst,
    SameYear,
    Different,
}

/// Compares two packed dates (`yyyymmdd`, both non-zero).
pub fn compare_dates(a: u32, b: u32) -> DateLevel {
    compare_bcd(packed_to_bcd(a), packed_to_bcd(b))
}

/// `yyyymmdd` with one decimal digit per 4-bit nibble (binary-coded decimal), so that the levels
/// are found with shifts and masks instead of divisions.
pub(crate) fn packed_to_bcd(mut p: u32) -> u32 {
    let mut out = 0u32;
    for i in 0..8 {
        out |= (p % 10) << (4 * i);
        p /= 10;
    }
    out
}

pub(crate) fn bcd_to_packed(b: u32) -> u32 {
    (0..8)
        .rev()
        .fold(0u32, |acc, i| acc * 10 + ((b >> (4 * i)) & 0xF))
}

/// [`compare_dates`] on binary-coded dates.
#[inline]
pub(crate) fn compare_bcd(a: u32, b: u32) -> DateLevel {
    if a == b {
        return DateLevel::Exact;
    }
    let (ya, ma, da) = (a >> 16, (a >> 8) & 0xFF, a & 0xFF);
    let (yb, mb, db) = (b >> 16, (b >> 8) & 0xFF, b & 0xFF);
    if ya == yb && ma == db && da == mb {
        return DateLevel::DayMonthSwapped;
    }
    let x = a ^ b;
    let nibbles = (x | (x >> 1) | (x >> 2) | (x >> 3)) & 0x1111_1111;
    let one_digit = match nibbles.count_ones() {
        1 => true,
        2 => {
            let i = nibbles.trailing_zeros();
            let nib = |v: u32, k: u32| (v >> k) & 0xF;
            nibbles & (1 << (i + 4)) != 0
                && nib(a, i) == nib(b, i + 4)
                && nib(a, i + 4) == nib(b, i)
        }
        _ => false,
    };
    if one_digit {
        return DateLevel::OneDigit;
    }
    if ya == yb {
        if (ma == 1 && da == 1) || (mb == 1 && db == 1) {
            return DateLevel::JanuaryFirst;
        }
        return DateLevel::SameYear;
    }
    DateLevel::Different
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> u32 {
        parse_date(s).map(BirthDate::packed).unwrap_or(0)
    }

    #[test]
    fn layouts() {
        assert_eq!(p("1980-07-03"), 19800703);
        assert_eq!(p("19800703"), 19800703);
        assert_eq!(p("03/07/1980"), 19800703);
        assert_eq!(p("3/7/1980"), 19800703);
        assert_eq!(p("03-07-1980"), 19800703);
        assert_eq!(p("1980/7/3"), 19800703);
        assert_eq!(p(" 1980-07-03T00:00:00 "), 19800703);
        assert_eq!(p("١٩٨٠-٠٧-٠٣"), 19800703);
        assert_eq!(p("2000-02-29"), 20000229);
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "n/a",
            "1980-13-01",
            "1980-02-30",
            "1900-02-29",
            "31/04/1999",
            "1980-07",
            "07/1980",
            "1980-07-03-01",
            "19800732",
            "198007031",
            "abcd-ef-gh",
            "1980/07-03",
            "0000-00-00",
            "99999999999999999999",
            "--",
            "1980--03",
        ] {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn levels() {
        use DateLevel::*;
        assert_eq!(compare_dates(19800703, 19800703), Exact);
        assert_eq!(compare_dates(19800703, 19800307), DayMonthSwapped);
        assert_eq!(compare_dates(19800703, 19810703), OneDigit);
        assert_eq!(compare_dates(19800703, 19800713), OneDigit);
        assert_eq!(compare_dates(19800703, 19080703), OneDigit); // swapped neighbours 8 and 0
        assert_eq!(compare_dates(19800703, 19800101), JanuaryFirst);
        assert_eq!(compare_dates(19800101, 19801225), JanuaryFirst);
        assert_eq!(compare_dates(19800703, 19801225), SameYear);
        assert_eq!(compare_dates(19800703, 19910703), Different);
        assert_eq!(compare_dates(19800703, 19820915), Different);
        for p in [19800703u32, 20001231, 18000101] {
            assert_eq!(bcd_to_packed(packed_to_bcd(p)), p);
        }
        assert_eq!(packed_to_bcd(19800703), 0x1980_0703);
    }
}
