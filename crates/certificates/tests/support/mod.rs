//! Sample certificates for the tests and the bench.
#![allow(dead_code)]

use sanad_certificates::{
    Bilingual, Certificate, CertificateKey, Decimal, Details, DisabilityDegree, Kind,
    MaskedNationalId, Reference, Text,
};
use time::macros::{date, datetime};

pub const BASE_URL: &str = "https://sanad.example.ma";

pub const HOLDER_AR: &str = "فاطمة الزهراء بنعلي";
pub const HOLDER_FR: &str = "Fatima Zahra Benali";

pub fn key() -> CertificateKey {
    CertificateKey::from_bytes(&[42; 32])
}

pub fn details(kind: Kind) -> Details {
    match kind {
        Kind::DisabilityCard => Details::DisabilityCard {
            degree: DisabilityDegree::Severe,
        },
        Kind::RegistrationAttestation => Details::RegistrationAttestation {
            registered_on: date!(2025 - 03 - 10),
            members: 5,
        },
        Kind::EligibilityAttestation => Details::EligibilityAttestation {
            programme: Bilingual::parse("الدعم الاجتماعي المباشر", "Aide sociale directe").unwrap(),
            index: Some(Decimal::parse("9.3264").unwrap()),
            decided_on: date!(2026 - 02 - 01),
        },
        Kind::AmoTadamonCard => Details::AmoTadamonCard {
            beneficiary_number: Reference::parse("AMO-7781230").unwrap(),
            members_covered: 4,
        },
    }
}

pub fn certificate(kind: Kind, serial: u32, key: &CertificateKey) -> Certificate {
    Certificate {
        id: Reference::parse(&format!("C-2026-{serial:06}")).unwrap(),
        holder_name_ar: Some(Text::parse(HOLDER_AR).unwrap()),
        holder_name_fr: Some(Text::parse(HOLDER_FR).unwrap()),
        household_ref: Reference::parse("H00000000014").unwrap(),
        national_id_masked: Some(MaskedNationalId::parse("AB****56").unwrap()),
        details: details(kind),
        issued_at: datetime!(2026-03-01 10:15:00 UTC),
        valid_until: kind.is_card().then_some(date!(2031 - 02 - 28)),
        issuer: Bilingual::parse("مركز الخدمات الاجتماعية - الرباط أكدال", "Centre de services sociaux - Rabat Agdal").unwrap(),
        key_id: key.key_id().clone(),
    }
}
