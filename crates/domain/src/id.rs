//! Registry identifiers issued by Sanad: a kind letter, a 10-digit serial and a Damm check digit.
//!
//! The Damm check digit detects every single-digit error and every transposition of two adjacent
//! digits, which are the two mistakes an agent makes when copying an identifier from paper.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The totally anti-symmetric quasigroup of order 10 used by the Damm algorithm.
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

/// The Damm check digit of a string of ASCII digits.
pub fn damm_check_digit(digits: &[u8]) -> u8 {
    digits.iter().fold(0u8, |interim, d| {
        DAMM[interim as usize][(d - b'0') as usize]
    })
}

/// Largest serial that fits in 10 digits.
pub const MAX_SERIAL: u64 = 9_999_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("expected `{prefix}` followed by 11 digits, e.g. {example}")]
    Format { prefix: char, example: String },
    #[error("the check digit does not match: the identifier was mistyped")]
    CheckDigit,
}

macro_rules! registry_id {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u64);

        impl $name {
            pub const PREFIX: char = $prefix;

            /// Builds the identifier of a serial number; `None` past 10 digits or for 0.
            pub fn from_serial(serial: u64) -> Option<Self> {
                (serial > 0 && serial <= MAX_SERIAL).then_some(Self(serial))
            }

            pub fn serial(self) -> u64 {
                self.0
            }

            /// Parses the printed form, checking the letter, the length and the check digit.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                let format = || IdError::Format {
                    prefix: $prefix,
                    example: Self(1).to_string(),
                };
                let rest = text
                    .strip_prefix($prefix)
                    .or_else(|| text.strip_prefix($prefix.to_ascii_lowercase()))
                    .ok_or_else(format)?;
                let bytes = rest.as_bytes();
                if bytes.len() != 11 || !bytes.iter().all(u8::is_ascii_digit) {
                    return Err(format());
                }
                if damm_check_digit(bytes) != 0 {
                    return Err(IdError::CheckDigit);
                }
                let serial: u64 = rest[..10].parse().map_err(|_| format())?;
                Self::from_serial(serial).ok_or_else(format)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let digits = format!("{:010}", self.0);
                let check = damm_check_digit(digits.as_bytes());
                write!(f, "{}{}{}", $prefix, digits, check)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    // The letter may be written in lower case. The last digit is a Damm check
                    // digit over the other ten, which no pattern expresses: the custom format
                    // names the whole rule.
                    .pattern(Some(format!(
                        "^[{}{}][0-9]{{11}}$",
                        $prefix,
                        $prefix.to_ascii_lowercase()
                    )))
                    .format(Some(utoipa::openapi::SchemaFormat::Custom(format!(
                        "sanad-id-{}",
                        $prefix.to_ascii_lowercase()
                    ))))
                    .examples([serde_json::json!(Self(1).to_string())])
                    .description(Some($doc))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

registry_id!(
    PersonId,
    'P',
    "Registry identifier of a person: `P`, a 10-digit serial (not all zeros) and a Damm check digit over the serial."
);
registry_id!(
    HouseholdId,
    'H',
    "Registry identifier of a household: `H`, a 10-digit serial (not all zeros) and a Damm check digit over the serial."
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn printed_form_has_letter_serial_and_check() {
        let id = PersonId::from_serial(1).unwrap();
        assert_eq!(id.to_string().len(), 12);
        assert_eq!(PersonId::parse(&id.to_string()), Ok(id));
        // Known Damm value: 572 -> check digit 4.
        assert_eq!(damm_check_digit(b"572"), 4);
        assert_eq!(damm_check_digit(b"5724"), 0);
    }

    #[test]
    fn wrong_letter_or_length_is_a_format_error() {
        assert!(matches!(
            HouseholdId::parse("P00000000014"),
            Err(IdError::Format { .. })
        ));
        assert!(matches!(
            HouseholdId::parse("H0000001"),
            Err(IdError::Format { .. })
        ));
        assert!(PersonId::from_serial(0).is_none());
        assert!(PersonId::from_serial(MAX_SERIAL + 1).is_none());
    }

    proptest! {
        #[test]
        fn every_single_digit_error_is_detected(serial in 1u64..=MAX_SERIAL, pos in 0usize..11, delta in 1u8..10) {
            let text = PersonId::from_serial(serial).unwrap().to_string();
            let mut bytes = text.into_bytes();
            let d = bytes[1 + pos] - b'0';
            bytes[1 + pos] = b'0' + (d + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(PersonId::parse(&typo).is_err());
        }

        #[test]
        fn every_adjacent_transposition_is_detected(serial in 1u64..=MAX_SERIAL, pos in 0usize..10) {
            let text = PersonId::from_serial(serial).unwrap().to_string();
            let mut bytes = text.into_bytes();
            prop_assume!(bytes[1 + pos] != bytes[2 + pos]);
            bytes.swap(1 + pos, 2 + pos);
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(PersonId::parse(&typo).is_err());
        }

        #[test]
        fn round_trips(serial in 1u64..=MAX_SERIAL) {
            let id = HouseholdId::from_serial(serial).unwrap();
            prop_assert_eq!(HouseholdId::parse(&id.to_string()), Ok(id));
        }
    }
}
