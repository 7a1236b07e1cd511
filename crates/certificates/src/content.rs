//! What a certificate says, and the one byte string that is signed for it.
//!
//! The value types refuse what must never be printed on a document (an unmasked national id,
//! control characters, bidi overrides that could reorder a name on paper) when they are built, so
//! a [`Certificate`] that exists can be signed and rendered.
//!
//! # Canonical content
//!
//! [`Certificate::canonical`] gives the bytes that are signed: the line `sanad-certificate-v1`
//! (the domain separation: these bytes can never be mistaken for another Sanad signature, such as
//! an audit checkpoint), a line feed, then one JSON object with
//! - every key present (`null` for an absent value; `details` holds the keys of the certificate's
//!   kind only), keys sorted by byte order at every level,
//! - no whitespace outside strings, strings escaped as `serde_json` escapes them (UTF-8 kept as
//!   it is, no `\u` escapes for non-ASCII), integers only (no floats),
//! - `issued_at` in UTC, whole seconds, RFC 3339 with `Z`; dates as `YYYY-MM-DD`.
//!
//! The field order is fixed by the declaration order of the private `wire` structs below, which
//! is why their fields are written in sorted order; a golden test pins the exact bytes. Reading
//! content back ([`Certificate::from_canonical`]) refuses anything that does not re-encode to the
//! very same bytes, so one certificate has exactly one signed form.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::key::KeyId;

/// The first line of the canonical content.
pub const CANONICAL_PREFIX: &str = "sanad-certificate-v1\n";

/// Why a value cannot go on a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a certificate needs the holder's name in Arabic, in French or both")]
    NoHolderName,
    #[error("the canonical content does not start with `sanad-certificate-v1`")]
    Prefix,
    #[error("the canonical content is not valid: {0}")]
    Json(String),
    #[error("the content is not in its canonical form (it re-encodes to other bytes)")]
    NotCanonical,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Printed text (a name, a title): trimmed, not empty, at most [`Text::MAX_CHARS`] characters,
/// without control characters or the bidi embedding, override and isolate characters, which
/// could make a name read differently on paper than in the signed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(text: &str) -> Result<Text, ContentError> {
        Self::parse_field("text", text)
    }

    fn parse_field(field: &'static str, text: &str) -> Result<Text, ContentError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid(field, "empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(invalid(
                field,
                format!("longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(c) = text.chars().find(|&c| c.is_control() || is_bidi_control(c)) {
            return Err(invalid(
                field,
                format!("contains the control character U+{:04X}", u32::from(c)),
            ));
        }
        Ok(Text(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl TryFrom<String> for Text {
    type Error = ContentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Text::parse(&s)
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An identifier printed on the document and put in the verify URL (certificate id, household
/// reference, beneficiary number): 1 to 40 ASCII letters, digits, `-` or `_`, so it never needs
/// escaping in a URL or a PDF.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);

impl Reference {
    pub fn parse(text: &str) -> Result<Reference, ContentError> {
        Self::parse_field("reference", text)
    }

    fn parse_field(field: &'static str, text: &str) -> Result<Reference, ContentError> {
        if text.is_empty() || text.len() > 40 {
            return Err(invalid(field, "must be 1 to 40 characters"));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(field, "only ASCII letters, digits, `-` and `_`"));
        }
        Ok(Reference(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reference {
    type Error = ContentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Reference::parse(&s)
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> String {
        r.0
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A national id with most of it hidden, such as `AB****56`: ASCII letters, digits and `*`,
/// 4 to 20 characters, at least half of them `*` and at most four shown. The full id is never
/// printed: a lost card must not hand it out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaskedNationalId(String);

impl MaskedNationalId {
    pub fn parse(text: &str) -> Result<MaskedNationalId, ContentError> {
        const FIELD: &str = "national_id_masked";
        if !(4..=20).contains(&text.len())
            || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*')
        {
            return Err(invalid(FIELD, "4 to 20 ASCII letters, digits or `*`"));
        }
        let hidden = text.bytes().filter(|&b| b == b'*').count();
        let shown = text.len() - hidden;
        if shown > 4 || hidden * 2 < text.len() {
            return Err(invalid(
                FIELD,
                "at most four characters shown and at least half hidden with `*`",
            ));
        }
        Ok(MaskedNationalId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MaskedNationalId {
    type Error = ContentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        MaskedNationalId::parse(&s)
    }
}

impl From<MaskedNationalId> for String {
    fn from(m: MaskedNationalId) -> String {
        m.0
    }
}

/// A decimal as printed, such as a targeting index `9.3264`: kept as text so that the signed
/// bytes never depend on how a float is formatted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Decimal(String);

impl Decimal {
    pub fn parse(text: &str) -> Result<Decimal, ContentError> {
        const FIELD: &str = "decimal";
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if text.len() > 16 || !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(invalid(FIELD, "digits with an optional `.` and decimals"));
        }
        Ok(Decimal(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Decimal {
    type Error = ContentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Decimal::parse(&s)
    }
}

impl From<Decimal> for String {
    fn from(d: Decimal) -> String {
        d.0
    }
}

/// A text given in Arabic and in French (an issuing centre, a programme).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    // Sorted: `ar` before `fr` (see the module's notes on the canonical form).
    pub ar: Text,
    pub fr: Text,
}

impl Bilingual {
    pub fn parse(ar: &str, fr: &str) -> Result<Bilingual, ContentError> {
        Ok(Bilingual {
            ar: Text::parse_field("ar", ar)?,
            fr: Text::parse_field("fr", fr)?,
        })
    }
}

/// The documents Sanad issues at the end of a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    DisabilityCard,
    RegistrationAttestation,
    EligibilityAttestation,
    AmoTadamonCard,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::DisabilityCard,
        Kind::RegistrationAttestation,
        Kind::EligibilityAttestation,
        Kind::AmoTadamonCard,
    ];

    /// The stable name used in the canonical content (and by callers that store the kind).
    pub fn code(self) -> &'static str {
        match self {
            Kind::DisabilityCard => "disability-card",
            Kind::RegistrationAttestation => "registration-attestation",
            Kind::EligibilityAttestation => "eligibility-attestation",
            Kind::AmoTadamonCard => "amo-tadamon-card",
        }
    }

    /// Cards are printed small (A6, to carry); attestations on A4.
    pub fn is_card(self) -> bool {
        matches!(self, Kind::DisabilityCard | Kind::AmoTadamonCard)
    }
}

/// The degree of a disability as the assessment commission states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisabilityDegree {
    Mild,
    Moderate,
    Severe,
    Profound,
}

/// What each kind of document states beyond the holder, the issuer and the dates. The kind of a
/// certificate is the variant, so a card can never carry another kind's details.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Details {
    DisabilityCard {
        degree: DisabilityDegree,
    },
    RegistrationAttestation {
        registered_on: Date,
        members: u16,
    },
    EligibilityAttestation {
        programme: Bilingual,
        /// The socio-economic index the decision used, when the programme is means-tested.
        index: Option<Decimal>,
        decided_on: Date,
    },
    AmoTadamonCard {
        /// The insurer's number for the household.
        beneficiary_number: Reference,
        members_covered: u16,
    },
}

impl Details {
    pub fn kind(&self) -> Kind {
        match self {
            Details::DisabilityCard { .. } => Kind::DisabilityCard,
            Details::RegistrationAttestation { .. } => Kind::RegistrationAttestation,
            Details::EligibilityAttestation { .. } => Kind::EligibilityAttestation,
            Details::AmoTadamonCard { .. } => Kind::AmoTadamonCard,
        }
    }
}

/// One issued document's content. Everything printed on it is here, and all of it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// Such as `C-2026-000123`.
    pub id: Reference,
    pub holder_name_ar: Option<Text>,
    pub holder_name_fr: Option<Text>,
    /// The registry's household id.
    pub household_ref: Reference,
    pub national_id_masked: Option<MaskedNationalId>,
    pub details: Details,
    /// Stored and signed in UTC, whole seconds (see [`Certificate::normalized`]).
    pub issued_at: OffsetDateTime,
    pub valid_until: Option<Date>,
    /// The issuing centre or territory.
    pub issuer: Bilingual,
    /// The key that signs (or signed) this content.
    pub key_id: KeyId,
}

impl Certificate {
    pub fn kind(&self) -> Kind {
        self.details.kind()
    }

    /// Checks what the field types cannot: a holder name in at least one language.
    pub fn check(&self) -> Result<(), ContentError> {
        if self.holder_name_ar.is_none() && self.holder_name_fr.is_none() {
            return Err(ContentError::NoHolderName);
        }
        Ok(())
    }

    /// The same certificate with `issued_at` in UTC and whole seconds: the precision the
    /// canonical content keeps, so that a signed certificate equals what its bytes say.
    pub fn normalized(&self) -> Certificate {
        let mut c = self.clone();
        c.issued_at = normalize_time(self.issued_at);
        c
    }

    /// The bytes that are signed (see the module documentation for the format).
    pub fn canonical(&self) -> Vec<u8> {
        let wire = wire::Certificate::from(self);
        let mut out = CANONICAL_PREFIX.as_bytes().to_vec();
        // Serialising plain structs of strings, integers and options into a Vec cannot fail;
        // should serde_json ever report an error, the empty object still signs as a document
        // that says nothing, never as another one.
        match serde_json::to_vec(&wire) {
            Ok(json) => out.extend_from_slice(&json),
            Err(_) => out.extend_from_slice(b"{}"),
        }
        out
    }

    /// Reads canonical content back, refusing anything that is not exactly what
    /// [`Certificate::canonical`] writes.
    pub fn from_canonical(bytes: &[u8]) -> Result<Certificate, ContentError> {
        let json = bytes
            .strip_prefix(CANONICAL_PREFIX.as_bytes())
            .ok_or(ContentError::Prefix)?;
        let wire: wire::Certificate =
            serde_json::from_slice(json).map_err(|e| ContentError::Json(e.to_string()))?;
        let certificate = Certificate::try_from(wire)?;
        certificate.check()?;
        if certificate.canonical() != bytes {
            return Err(ContentError::NotCanonical);
        }
        Ok(certificate)
    }
}

fn normalize_time(at: OffsetDateTime) -> OffsetDateTime {
    let utc = at.to_offset(UtcOffset::UTC);
    utc.replace_nanosecond(0).unwrap_or(utc)
}

/// The canonical JSON's shape. Fields are declared in sorted order: serde writes struct fields in
/// declaration order, which is what makes the keys sorted (whatever serde_json features another
/// crate turns on).
mod wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Certificate {
        pub details: Details,
        pub holder: Holder,
        pub household_ref: Reference,
        pub id: Reference,
        pub issued_at: String,
        pub issuer: Bilingual,
        pub key_id: KeyId,
        pub kind: Kind,
        pub national_id_masked: Option<MaskedNationalId>,
        pub valid_until: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Holder {
        pub ar: Option<Text>,
        pub fr: Option<Text>,
    }

    /// Each kind's details, all keys sorted; the kind itself is the top-level `kind`, so a
    /// variant is chosen by it rather than guessed from the keys.
    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Details {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub beneficiary_number: Option<Reference>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub decided_on: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub degree: Option<DisabilityDegree>,
        /// Present (possibly `null`) for eligibility attestations only.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "present_or_null"
        )]
        pub index: Option<Option<Decimal>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub members: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub members_covered: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub programme: Option<Bilingual>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub registered_on: Option<String>,
    }

    /// `Some(None)` is written `null`, `None` is left out (by `skip_serializing_if`).
    mod present_or_null {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer, T: Serialize>(
            v: &Option<Option<T>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(inner) => inner.serialize(s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
            d: D,
        ) -> Result<Option<Option<T>>, D::Error> {
            Option::<T>::deserialize(d).map(Some)
        }
    }

    const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    fn date(d: time::Date) -> String {
        d.format(DATE).unwrap_or_default()
    }

    fn parse_date(field: &'static str, text: &str) -> Result<time::Date, ContentError> {
        time::Date::parse(text, DATE).map_err(|e| invalid(field, e.to_string()))
    }

    fn require<T>(field: &'static str, v: Option<T>) -> Result<T, ContentError> {
        v.ok_or_else(|| invalid(field, "missing for this kind"))
    }

    impl From<&super::Certificate> for Certificate {
        fn from(c: &super::Certificate) -> Self {
            let mut d = Details {
                beneficiary_number: None,
                decided_on: None,
                degree: None,
                index: None,
                members: None,
                members_covered: None,
                programme: None,
                registered_on: None,
            };
            match &c.details {
                super::Details::DisabilityCard { degree } => d.degree = Some(*degree),
                super::Details::RegistrationAttestation {
                    registered_on,
                    members,
                } => {
                    d.registered_on = Some(date(*registered_on));
                    d.members = Some(*members);
                }
                super::Details::EligibilityAttestation {
                    programme,
                    index,
                    decided_on,
                } => {
                    d.programme = Some(programme.clone());
                    d.index = Some(index.clone());
                    d.decided_on = Some(date(*decided_on));
                }
                super::Details::AmoTadamonCard {
                    beneficiary_number,
                    members_covered,
                } => {
                    d.beneficiary_number = Some(beneficiary_number.clone());
                    d.members_covered = Some(*members_covered);
                }
            }
            Certificate {
                details: d,
                holder: Holder {
                    ar: c.holder_name_ar.clone(),
                    fr: c.holder_name_fr.clone(),
                },
                household_ref: c.household_ref.clone(),
                id: c.id.clone(),
                issued_at: normalize_time(c.issued_at)
                    .format(&Rfc3339)
                    .unwrap_or_default(),
                issuer: c.issuer.clone(),
                key_id: c.key_id.clone(),
                kind: c.kind(),
                national_id_masked: c.national_id_masked.clone(),
                valid_until: c.valid_until.map(date),
            }
        }
    }

    impl TryFrom<Certificate> for super::Certificate {
        type Error = ContentError;
        fn try_from(w: Certificate) -> Result<Self, ContentError> {
            let d = w.details;
            let details = match w.kind {
                Kind::DisabilityCard => super::Details::DisabilityCard {
                    degree: require("details.degree", d.degree)?,
                },
                Kind::RegistrationAttestation => super::Details::RegistrationAttestation {
                    registered_on: parse_date(
                        "details.registered_on",
                        &require("details.registered_on", d.registered_on)?,
                    )?,
                    members: require("details.members", d.members)?,
                },
                Kind::EligibilityAttestation => super::Details::EligibilityAttestation {
                    programme: require("details.programme", d.programme)?,
                    index: require("details.index", d.index)?,
                    decided_on: parse_date(
                        "details.decided_on",
                        &require("details.decided_on", d.decided_on)?,
                    )?,
                },
                Kind::AmoTadamonCard => super::Details::AmoTadamonCard {
                    beneficiary_number: require(
                        "details.beneficiary_number",
                        d.beneficiary_number,
                    )?,
                    members_covered: require("details.members_covered", d.members_covered)?,
                },
            };
            let issued_at = OffsetDateTime::parse(&w.issued_at, &Rfc3339)
                .map_err(|e| invalid("issued_at", e.to_string()))?;
            let valid_until = w
                .valid_until
                .map(|v| parse_date("valid_until", &v))
                .transpose()?;
            // Keys of other kinds left in `details` are caught by the caller's re-encoding check.
            Ok(super::Certificate {
                id: w.id,
                holder_name_ar: w.holder.ar,
                holder_name_fr: w.holder.fr,
                household_ref: w.household_ref,
                national_id_masked: w.national_id_masked,
                details,
                issued_at,
                valid_until,
                issuer: w.issuer,
                key_id: w.key_id,
            })
        }
    }
}
