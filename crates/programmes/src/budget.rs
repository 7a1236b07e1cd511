//! A programme's budget cap: a sum of dirhams of the size a national programme spends, beyond what
//! an [`Amount`] (a household's figure) may hold, written and read in the same forms.

use std::fmt;

use sanad_domain::Amount;
use sanad_domain::money::{deserialize_centimes, parse_centimes};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative sum in dirhams (MAD), exact to the centime, up to [`Budget::MAX_CENTIMES`].
/// Written as an [`Amount`] is (`"2416666666.67"`; a plain number is read too), so a file or an API
/// payload with a cap reads the same whichever type holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Budget(i64);

impl Budget {
    pub const ZERO: Budget = Budget(0);
    /// Ten million million dirhams (10^13 MAD, several times Morocco's yearly GDP), so that no
    /// programme's yearly budget comes near it. In centimes that is 10^15, below 2^53: a cap sent as
    /// a JSON number stays exact in a client that reads numbers as doubles, and adding two caps
    /// cannot overflow an i64.
    pub const MAX_CENTIMES: i64 = 1_000_000_000_000_000;

    pub fn from_centimes(centimes: i64) -> Option<Self> {
        (0..=Self::MAX_CENTIMES)
            .contains(&centimes)
            .then_some(Budget(centimes))
    }

    pub fn centimes(self) -> i64 {
        self.0
    }

    /// Parses `123`, `123.5` or `123.45` (a `,` is accepted as the decimal mark too), as
    /// [`Amount::parse`] does, up to the wider bound.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        parse_centimes(
            text,
            Self::MAX_CENTIMES,
            "a budget below ten million million dirhams",
        )
        .map(Budget)
    }
}

/// Every amount is a budget (the bound of an amount is below a budget's).
impl From<Amount> for Budget {
    fn from(a: Amount) -> Budget {
        Budget(a.centimes())
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A decimal string, as an [`Amount`] is written, so that no float rounding creeps in.
impl Serialize for Budget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Budget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_centimes(d, |text| Budget::parse(text).map(Budget::centimes)).map(Budget)
    }
}

/// The `budget_cap` field of a programme file: its errors name the field, since neither the TOML
/// nor the JSON reader says which key a value's error is about.
pub(crate) mod cap_field {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    use super::Budget;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Budget>, D::Error> {
        Option::<Budget>::deserialize(d).map_err(|e| D::Error::custom(format!("budget_cap: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_national_budget_parses_and_prints() {
        let b = Budget::parse("30000000000").unwrap();
        assert_eq!(b.centimes(), 3_000_000_000_000);
        assert_eq!(b.to_string(), "30000000000.00");
        assert_eq!(
            Budget::parse("2416666666,67").unwrap().centimes(),
            241_666_666_667
        );
        assert_eq!(
            Budget::parse("10000000000000").unwrap().centimes(),
            Budget::MAX_CENTIMES
        );
        assert!(Budget::parse("10000000000000.01").is_err());
        assert!(Budget::parse("99999999999999999999").is_err());
        assert!(Budget::parse("-1").is_err());
        assert!(Budget::parse("1.234").is_err());
        assert!(Budget::parse("").is_err());
    }

    #[test]
    fn json_reads_as_an_amount_does() {
        let read = |json: &str| serde_json::from_str::<Budget>(json).map(|b| b.centimes());
        assert_eq!(read("\"30000000000.00\"").unwrap(), 3_000_000_000_000);
        assert_eq!(read("30000000000").unwrap(), 3_000_000_000_000);
        assert_eq!(read("2416666666.67").unwrap(), 241_666_666_667);
        assert_eq!(read("0.07000000000000001").unwrap(), 7);
        assert!(read("1.005").is_err(), "a part finer than a centime");
        assert!(read("-5").is_err());
        assert!(read("1e16").is_err(), "beyond the bound");
        let err = read("\"-5\"").unwrap_err().to_string();
        assert!(err.contains("non-negative"), "{err}");
        let err = read("\"20000000000000\"").unwrap_err().to_string();
        assert!(err.contains("ten million million"), "{err}");
    }

    #[test]
    fn every_amount_is_a_budget_written_the_same_way() {
        for text in ["0", "350.5", "999999999.99"] {
            let a = Amount::parse(text).unwrap();
            let b = Budget::from(a);
            assert_eq!(b.centimes(), a.centimes());
            assert_eq!(b.to_string(), a.to_string());
            assert_eq!(
                serde_json::to_string(&b).unwrap(),
                serde_json::to_string(&a).unwrap()
            );
        }
    }

    proptest! {
        #[test]
        fn display_and_json_round_trip(c in 0i64..=Budget::MAX_CENTIMES) {
            let b = Budget::from_centimes(c).unwrap();
            prop_assert_eq!(Budget::parse(&b.to_string()), Ok(b));
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(serde_json::from_str::<Budget>(&json).unwrap(), b);
        }

        #[test]
        fn what_an_amount_reads_a_budget_reads_alike(s in "[0-9]{0,14}([.,][0-9]{0,3})?") {
            if let Ok(a) = Amount::parse(&s) {
                prop_assert_eq!(Budget::parse(&s).map(|b| b.centimes()), Ok(a.centimes()));
            }
        }

        #[test]
        fn never_panics(s in ".{0,30}") {
            let _ = Budget::parse(&s);
        }
    }
}
