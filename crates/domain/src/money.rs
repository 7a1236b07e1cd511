//! Amounts of money in Moroccan dirhams, held as whole centimes so that sums are exact.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative amount in dirhams (MAD), exact to the centime. Negative amounts cannot be built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);
    /// Bounds the largest amount at one thousand million dirhams, far above any household figure.
    pub const MAX_CENTIMES: i64 = 100_000_000_000;

    pub fn from_centimes(centimes: i64) -> Option<Self> {
        (0..=Self::MAX_CENTIMES)
            .contains(&centimes)
            .then_some(Amount(centimes))
    }

    pub fn centimes(self) -> i64 {
        self.0
    }

    /// Parses `123`, `123.5` or `123.45` (a `,` is accepted as the decimal mark too).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        parse_centimes(
            text,
            Self::MAX_CENTIMES,
            "an amount below one thousand million dirhams",
        )
        .map(Amount)
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// In JSON an amount is a decimal string (`"123.45"`) so that no float rounding creeps in; a plain
/// JSON number is accepted on input.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_centimes(d, |text| Amount::parse(text).map(Amount::centimes)).map(Amount)
    }
}

/// Reads `123`, `123.5` or `123.45` (a `,` is accepted as the decimal mark too) as centimes, from 0
/// to `max_centimes`. The error says what was expected; `too_large` when the text is beyond the
/// bound. Shared by [`Amount`] and the wider sums built on the same forms (a programme's budget),
/// so that every sum of money is written and read one way.
pub fn parse_centimes(
    text: &str,
    max_centimes: i64,
    too_large: &'static str,
) -> Result<i64, &'static str> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err("a non-negative amount");
    }
    let (whole, frac) = match text.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > 2 {
        return Err("an amount in dirhams with at most two decimals, e.g. 123.45");
    }
    // Digits that do not fit an i64 are beyond any bound.
    let whole: i64 = whole.parse().map_err(|_| too_large)?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| "digits")? * 10,
        _ => frac.parse::<i64>().map_err(|_| "digits")?,
    };
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .filter(|c| *c <= max_centimes)
        .ok_or(too_large)
}

/// The serde side of [`parse_centimes`]: a decimal string (`"123.45"`, the form sums are written
/// in), or a plain number, read as centimes by `parse` (which says what it expected).
pub fn deserialize_centimes<'de, D: Deserializer<'de>>(
    d: D,
    parse: impl Fn(&str) -> Result<i64, &'static str>,
) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(i64),
        Float(f64),
    }
    let parsed = match Raw::deserialize(d)? {
        Raw::Text(t) => parse(&t),
        Raw::Int(i) => parse(&i.to_string()),
        // A JSON number with decimals is a binary float: 0.07 arrives as
        // 0.07000000000000001. It is read to the centime when it is one within rounding,
        // and refused when it has a finer part (1.005).
        Raw::Float(x) => {
            let centimes = x * 100.0;
            // The float's own rounding error at this size, with room for a few operations.
            let tolerance = (centimes.abs() * 8.0 * f64::EPSILON).max(1e-6);
            if (centimes - centimes.round()).abs() <= tolerance {
                parse(&format!("{x:.2}"))
            } else {
                Err("an amount in dirhams with at most two decimals, e.g. 123.45")
            }
        }
    };
    parsed.map_err(|expected| serde::de::Error::custom(format!("expected {expected}")))
}

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(r"^[0-9]+\.[0-9]{2}$"))
            .description(Some(
                "Amount in Moroccan dirhams (MAD), non-negative, two decimals",
            ))
            .examples([serde_json::json!("350.00")])
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_json_number_is_read_to_the_centime_or_refused() {
        let read = |json: &str| serde_json::from_str::<Amount>(json).map(|a| a.centimes());
        assert_eq!(read("180").unwrap(), 18_000);
        assert_eq!(read("120.5").unwrap(), 12_050);
        // 7 × 0.01 as a client computes it in binary floating point.
        assert_eq!(read("0.07000000000000001").unwrap(), 7);
        assert_eq!(read("999999999.99").unwrap(), 99_999_999_999);
        assert!(read("1.005").is_err(), "a part finer than a centime");
        assert!(read("456006150.38194317").is_err());
        assert!(read("-0.5").is_err());
        assert!(read("1e15").is_err(), "beyond a thousand million dirhams");
        assert_eq!(read("\"350,50\"").unwrap(), 35_050);
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(Amount::parse("123.5").unwrap().to_string(), "123.50");
        assert_eq!(Amount::parse("0").unwrap().to_string(), "0.00");
        assert_eq!(Amount::parse("7,05").unwrap().centimes(), 705);
        assert!(Amount::parse("-1").is_err());
        assert!(Amount::parse("1.234").is_err());
        assert!(Amount::parse("abc").is_err());
        assert!(Amount::parse("").is_err());
        assert!(Amount::parse("99999999999999999999").is_err());
    }

    proptest! {
        #[test]
        fn display_round_trips(c in 0i64..=Amount::MAX_CENTIMES) {
            let a = Amount::from_centimes(c).unwrap();
            prop_assert_eq!(Amount::parse(&a.to_string()), Ok(a));
        }

        #[test]
        fn never_panics(s in ".{0,30}") {
            let _ = Amount::parse(&s);
        }
    }
}
