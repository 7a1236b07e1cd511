//! Sample certificates for the tests and the bench.
#![allow(dead_code)]

use sanad_certificates::{
    Bilingual, Certificate, CertificateKey, ContentError, Decimal, Details, DisabilityDegree, Kind,
    MaskedNationalId, Reference, Text,
};
use time::macros::{date, datetime};

pub const BASE_URL: &str = "https://sanad.example.ma";

pub const HOLDER_AR: &str = "فاطمة الزهراء بنعلي";
pub const HOLDER_FR: &str = "Fatima Zahra Benali";

pub fn key() -> CertificateKey {
    CertificateKey::from_bytes(&[42; 32])
}

pub fn details(kind: Kind) -> Result<Details, ContentError> {
    Ok(match kind {
        Kind::DisabilityCard => Details::DisabilityCard {
            degree: DisabilityDegree::Severe,
        },
        Kind::RegistrationAttestation => Details::RegistrationAttestation {
            registered_on: date!(2025 - 03 - 10),
            members: 5,
        },
        Kind::EligibilityAttestation => Details::EligibilityAttestation {
            programme: Bilingual::parse("الدعم الاجتماعي المباشر", "Aide sociale directe")?,
            index: Some(Decimal::parse("9.3264")?),
            decided_on: date!(2026 - 02 - 01),
        },
        Kind::AmoTadamonCard => Details::AmoTadamonCard {
            beneficiary_number: Reference::parse("AMO-7781230")?,
            members_covered: 4,
        },
    })
}

/// A sample certificate (for the tests; the bench, where `unwrap` is not allowed, uses
/// [`try_certificate`]).
#[allow(clippy::unwrap_used)]
pub fn certificate(kind: Kind, serial: u32, key: &CertificateKey) -> Certificate {
    try_certificate(kind, serial, key).unwrap()
}

pub fn try_certificate(
    kind: Kind,
    serial: u32,
    key: &CertificateKey,
) -> Result<Certificate, ContentError> {
    Ok(Certificate {
        id: Reference::parse(&format!("C-2026-{serial:06}"))?,
        holder_name_ar: Some(Text::parse(HOLDER_AR)?),
        holder_name_fr: Some(Text::parse(HOLDER_FR)?),
        household_ref: Reference::parse("H00000000014")?,
        national_id_masked: Some(MaskedNationalId::parse("AB****56")?),
        details: details(kind)?,
        issued_at: datetime!(2026-03-01 10:15:00 UTC),
        valid_until: kind.is_card().then_some(date!(2031 - 02 - 28)),
        issuer: Bilingual::parse(
            "مركز الخدمات الاجتماعية - الرباط أكدال",
            "Centre de services sociaux - Rabat Agdal",
        )?,
        key_id: key.key_id().clone(),
    })
}
