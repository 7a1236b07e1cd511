//! Phone numbers: parsed leniently from what people write, kept as E.164 (`+212612345678`).
//! The national numbering rule (country code, trunk prefix, length) is one small value so that a
//! deployment outside Morocco changes one place.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How numbers are written nationally: `0` + 9 digits in Morocco, `+212` + 9 digits abroad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberingPlan {
    /// Country calling code, digits only (`"212"`).
    pub country_code: &'static str,
    /// What a national number starts with instead of the country code (`"0"`).
    pub trunk_prefix: &'static str,
    /// Digits after the trunk prefix or the country code.
    pub national_digits: usize,
    /// Digits a national number may start with (Morocco: 5 fixed lines, 6 and 7 mobiles, 8 other
    /// services).
    pub leading_digits: &'static [u8],
}

impl NumberingPlan {
    pub const MOROCCO: NumberingPlan = NumberingPlan {
        country_code: "212",
        trunk_prefix: "0",
        national_digits: 9,
        leading_digits: b"5678",
    };

    fn national_ok(&self, digits: &str) -> bool {
        digits.len() == self.national_digits
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits
                .bytes()
                .next()
                .is_some_and(|b| self.leading_digits.contains(&b))
    }
}

impl Default for NumberingPlan {
    fn default() -> Self {
        NumberingPlan::MOROCCO
    }
}

/// A phone number in E.164 form: `+`, the country code, the subscriber number; 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;

impl PhoneNumber {
    pub const EXPECTED: &'static str = "a phone number such as 0612345678 or +212612345678";

    /// Parses with the default (Moroccan) numbering plan.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        Self::parse_with(text, &NumberingPlan::default())
    }

    /// Accepts the national form (`06 12 34 56 78`), `+CC…` and `00CC…`, with spaces, dots, dashes
    /// or brackets between the digits.
    pub fn parse_with(text: &str, plan: &NumberingPlan) -> Result<Self, &'static str> {
        let mut compact = String::with_capacity(text.len());
        for (i, c) in text.trim().chars().enumerate() {
            match c {
                '0'..='9' => compact.push(c),
                '+' if i == 0 => compact.push(c),
                ' ' | '.' | '-' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(Self::EXPECTED),
            }
        }
        let international = if let Some(rest) = compact.strip_prefix('+') {
            Some(rest)
        } else {
            compact.strip_prefix("00")
        };
        let digits = match international {
            Some(rest) => match rest.strip_prefix(plan.country_code) {
                Some(national) => {
                    // People also write the trunk prefix after the country code: +212 06…
                    let national = match national.strip_prefix(plan.trunk_prefix) {
                        Some(n) if !plan.trunk_prefix.is_empty() && plan.national_ok(n) => n,
                        _ => national,
                    };
                    if !plan.national_ok(national) {
                        return Err(Self::EXPECTED);
                    }
                    format!("{}{national}", plan.country_code)
                }
                None => {
                    let ok = (MIN_DIGITS..=MAX_DIGITS).contains(&rest.len())
                        && rest.bytes().all(|b| b.is_ascii_digit())
                        && !rest.starts_with('0');
                    if !ok {
                        return Err(Self::EXPECTED);
                    }
                    rest.to_string()
                }
            },
            None => {
                let national = compact
                    .strip_prefix(plan.trunk_prefix)
                    .ok_or(Self::EXPECTED)?;
                if !plan.national_ok(national) {
                    return Err(Self::EXPECTED);
                }
                format!("{}{national}", plan.country_code)
            }
        };
        Ok(PhoneNumber(format!("+{digits}")))
    }

    /// The E.164 form, `+212612345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PhoneNumber::parse(&text).map_err(|e| serde::de::Error::custom(format!("expected {e}")))
    }
}

impl utoipa::PartialSchema for PhoneNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            // The characters accepted; which digit strings are numbers (a Moroccan mobile or
            // fixed line, another country's `+CC…`) the custom format names.
            .pattern(Some(r"^\s*\+?[0-9 .()\u00a0-]*\s*$"))
            .format(Some(utoipa::openapi::SchemaFormat::Custom("phone".into())))
            .description(Some(
                "a phone number such as 0612345678, 06 12 34 56 78 or +212612345678 (spaces, dots, \
                 dashes and brackets allowed; `00` for `+`); returned in E.164 form",
            ))
            .examples([serde_json::json!("+212612345678")])
            .into()
    }
}

impl utoipa::ToSchema for PhoneNumber {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn e164(text: &str) -> String {
        PhoneNumber::parse(text).unwrap().as_str().to_string()
    }

    #[test]
    fn moroccan_forms_normalise_to_e164() {
        for text in [
            "0612345678",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "+212612345678",
            "+212 6 12 34 56 78",
            "00212612345678",
            "00 212 612-345-678",
            "+212 (0)6 12 34 56 78",
        ] {
            assert_eq!(e164(text), "+212612345678", "{text}");
        }
        assert_eq!(e164("0712345678"), "+212712345678");
        assert_eq!(e164("05 22 12 34 56"), "+212522123456");
    }

    #[test]
    fn other_countries_keep_their_code() {
        assert_eq!(e164("+33 6 12 34 56 78"), "+33612345678");
        assert_eq!(e164("0034 612 345 678"), "+34612345678");
        assert_eq!(e164("+216 20 123 456"), "+21620123456");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for text in [
            "",
            "+",
            "612345678",
            "061234567",
            "06123456789",
            "0412345678",
            "+21261234567",
            "+2126123456789",
            "+1234567",
            "+1234567890123456",
            "06 12 34 56 7a",
            "+0612345678",
            "06+12345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(text),
                Err(PhoneNumber::EXPECTED),
                "{text}"
            );
        }
    }

    #[test]
    fn another_numbering_plan() {
        let tunisia = NumberingPlan {
            country_code: "216",
            trunk_prefix: "",
            national_digits: 8,
            leading_digits: b"2345679",
        };
        // Tunisia has no trunk prefix: a bare national number is taken as is.
        assert_eq!(
            PhoneNumber::parse_with("20 123 456", &tunisia)
                .unwrap()
                .as_str(),
            "+21620123456"
        );
    }

    #[test]
    fn serde_is_the_e164_string() {
        let p = PhoneNumber::parse("06 12 34 56 78").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+212612345678\"");
        let back: PhoneNumber = serde_json::from_str("\"0612345678\"").unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<PhoneNumber>("\"12\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,30}") {
            let _ = PhoneNumber::parse(&text);
        }

        #[test]
        fn normalising_is_idempotent(text in "[+0-9 .()-]{0,24}") {
            if let Ok(p) = PhoneNumber::parse(&text) {
                prop_assert_eq!(PhoneNumber::parse(p.as_str()), Ok(p.clone()));
            }
        }

        #[test]
        fn national_and_international_forms_agree(
            lead in prop::sample::select(vec!['5', '6', '7', '8']),
            rest in "[0-9]{8}",
            sep in prop::sample::select(vec!["", " ", ".", "-"]),
        ) {
            let national = format!("0{lead}{rest}");
            let spaced: String = national
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let s = if i > 0 && i % 2 == 0 { sep } else { "" };
                    s.chars().chain(std::iter::once(c)).collect::<Vec<_>>()
                })
                .collect();
            let a = PhoneNumber::parse(&spaced).unwrap();
            let b = PhoneNumber::parse(&format!("+212{lead}{rest}")).unwrap();
            let c = PhoneNumber::parse(&format!("00212{sep}{lead}{rest}")).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&a, &c);
            prop_assert_eq!(a.as_str(), format!("+212{lead}{rest}"));
        }
    }
}
