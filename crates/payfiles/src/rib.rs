//! The Moroccan bank account number (RIB, relevé d'identité bancaire): 24 digits made of a 3-digit
//! bank code, a 3-digit locality (city) code, a 16-digit account number and a 2-digit key.
//!
//! The key is the French-style "97 minus the remainder" check computed on the 22 digits read as one
//! number followed by two zeros: `key = 97 - (first22 * 100 mod 97)`, so that the 24-digit number
//! is a multiple of 97. (The French weighted form `89*bank + 15*branch + 3*account` is the same
//! computation specialised to France's 5/5/11 grouping; Morocco's 3/3/16 grouping would need other
//! weights, so the positional form is used.) Checked against the sample account of the SWIFT IBAN
//! registry for Morocco, BBAN `011519000001205000534921` (IBAN `MA64011519000001205000534921`):
//! its key 21 is what this formula gives, and the IBAN check digits 64 validate too; see the
//! `the_registry_sample_is_valid` test.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Moroccan RIB whose key has been checked. It can only be built through [`Rib::parse`] or
/// [`Rib::from_parts`], so a held `Rib` is always well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rib {
    digits: String,
}

/// Why a text is not a RIB.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RibError {
    #[error("a RIB has 24 digits (bank 3, locality 3, account 16, key 2), found {found}")]
    Length { found: usize },
    #[error("a RIB has only digits, found {found:?} at position {position}")]
    NotADigit { position: usize, found: char },
    #[error("the RIB key is {found:02} but the bank, locality and account give {expected:02}")]
    WrongKey { expected: u8, found: u8 },
    #[error("the {part} of a RIB has {expected} digits, found {found:?}")]
    Part {
        part: &'static str,
        expected: usize,
        found: String,
    },
}

/// The key of a RIB from its first 22 digits, or `None` when the text is not 22 ASCII digits.
pub fn rib_key(first22: &str) -> Option<u8> {
    if first22.len() != 22 || !first22.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Horner's rule modulo 97 keeps every intermediate value small; the two trailing zeros are the
    // place of the key.
    let rem = first22
        .bytes()
        .chain(*b"00")
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    // The remainder is below 97, so the key is in 1..=97 and fits a u8.
    Some((97 - rem) as u8)
}

impl Rib {
    /// Reads a RIB, accepting spaces and dashes between the digits (as printed on a bank's form).
    pub fn parse(text: &str) -> Result<Rib, RibError> {
        let mut digits = String::with_capacity(24);
        for (position, c) in text.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '\u{a0}' => {}
                _ => return Err(RibError::NotADigit { position, found: c }),
            }
        }
        if digits.len() != 24 {
            return Err(RibError::Length {
                found: digits.len(),
            });
        }
        let expected = rib_key(&digits[..22]).ok_or(RibError::Length {
            found: digits.len(),
        })?;
        let found: u8 = digits[22..].parse().map_err(|_| RibError::Length {
            found: digits.len(),
        })?;
        if found != expected {
            return Err(RibError::WrongKey { expected, found });
        }
        Ok(Rib { digits })
    }

    /// Builds a RIB from its bank (3 digits), locality (3) and account (16) codes, computing the key.
    pub fn from_parts(bank: &str, city: &str, account: &str) -> Result<Rib, RibError> {
        for (part, value, expected) in [
            ("bank", bank, 3),
            ("locality", city, 3),
            ("account", account, 16),
        ] {
            if value.len() != expected || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RibError::Part {
                    part,
                    expected,
                    found: value.to_owned(),
                });
            }
        }
        let mut digits = String::with_capacity(24);
        digits.push_str(bank);
        digits.push_str(city);
        digits.push_str(account);
        let key = rib_key(&digits).ok_or(RibError::Length {
            found: digits.len(),
        })?;
        digits.push_str(&format!("{key:02}"));
        Ok(Rib { digits })
    }

    /// The 24 digits, without separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn bank(&self) -> &str {
        &self.digits[..3]
    }

    /// The locality (city) code.
    pub fn city(&self) -> &str {
        &self.digits[3..6]
    }

    pub fn account(&self) -> &str {
        &self.digits[6..22]
    }

    pub fn key(&self) -> u8 {
        // Two ASCII digits checked at construction.
        let b = self.digits.as_bytes();
        (b[22] - b'0') * 10 + (b[23] - b'0')
    }

    /// The IBAN form, `MA` + two check digits + the 24 digits (ISO 13616 mod-97 check digits).
    /// Moroccan domestic clearing uses the RIB itself; this is for partners that ask for an IBAN.
    pub fn iban(&self) -> String {
        // The check digits make "<RIB>MA00" read as a number (M = 22, A = 10) equal 1 modulo 97.
        let rem = self
            .digits
            .bytes()
            .chain(*b"221000")
            .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
        format!("MA{:02}{}", 98 - rem, self.digits)
    }
}

/// Printed in the four groups of the bank's form: `011 519 0000012050005349 21`.
impl fmt::Display for Rib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.digits;
        write!(f, "{} {} {} {}", &d[..3], &d[3..6], &d[6..22], &d[22..])
    }
}

impl FromStr for Rib {
    type Err = RibError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rib::parse(s)
    }
}

/// In JSON a RIB is its 24 digits as a string; the key is checked again on the way in.
impl Serialize for Rib {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.digits)
    }
}

impl<'de> Deserialize<'de> for Rib {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Rib::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_registry_sample_is_valid() {
        let rib = Rib::parse("011519000001205000534921").unwrap();
        assert_eq!(rib.key(), 21);
        assert_eq!(rib.bank(), "011");
        assert_eq!(rib.city(), "519");
        assert_eq!(rib.account(), "0000012050005349");
        assert_eq!(rib.iban(), "MA64011519000001205000534921");
        assert_eq!(rib.to_string(), "011 519 0000012050005349 21");
        assert_eq!(Rib::parse(&rib.to_string()).unwrap(), rib);
        assert_eq!(Rib::parse("011-519-0000012050005349-21").unwrap(), rib);
    }

    #[test]
    fn refuses_what_is_not_a_rib() {
        assert_eq!(
            Rib::parse("011519000001205000534922"),
            Err(RibError::WrongKey {
                expected: 21,
                found: 22
            })
        );
        assert_eq!(
            Rib::parse("01151900000120500053492"),
            Err(RibError::Length { found: 23 })
        );
        assert!(matches!(
            Rib::parse("011519000001205000A34921"),
            Err(RibError::NotADigit { found: 'A', .. })
        ));
        assert!(Rib::from_parts("11", "519", "0000012050005349").is_err());
        assert!(Rib::from_parts("011", "519", "000001205000534x").is_err());
        assert_eq!(rib_key("12"), None);
    }

    #[test]
    fn serde_checks_the_key() {
        let rib: Rib = serde_json::from_str("\"011519000001205000534921\"").unwrap();
        assert_eq!(
            serde_json::to_string(&rib).unwrap(),
            "\"011519000001205000534921\""
        );
        assert!(serde_json::from_str::<Rib>("\"011519000001205000534920\"").is_err());
    }

    fn digits(n: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, n)
            .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
    }

    proptest! {
        #[test]
        fn from_parts_then_parse_round_trips(bank in digits(3), city in digits(3), account in digits(16)) {
            let rib = Rib::from_parts(&bank, &city, &account).unwrap();
            prop_assert_eq!(Rib::parse(rib.digits()).unwrap(), rib.clone());
            prop_assert_eq!(Rib::parse(&rib.to_string()).unwrap(), rib.clone());
            prop_assert_eq!(rib.digits().len(), 24);
            prop_assert!((1..=97).contains(&rib.key()));
        }

        #[test]
        fn a_changed_digit_is_refused(bank in digits(3), city in digits(3), account in digits(16), at in 0usize..24, by in 1u8..10) {
            let rib = Rib::from_parts(&bank, &city, &account).unwrap();
            let mut bytes = rib.digits().as_bytes().to_vec();
            bytes[at] = b'0' + (bytes[at] - b'0' + by) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Rib::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn a_transposition_is_refused(bank in digits(3), city in digits(3), account in digits(16), at in 0usize..23) {
            let rib = Rib::from_parts(&bank, &city, &account).unwrap();
            let mut bytes = rib.digits().as_bytes().to_vec();
            prop_assume!(bytes[at] != bytes[at + 1]);
            bytes.swap(at, at + 1);
            let swapped = String::from_utf8(bytes).unwrap();
            prop_assert!(Rib::parse(&swapped).is_err(), "{} accepted", swapped);
        }
    }
}
