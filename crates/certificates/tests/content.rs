//! The canonical content: one exact, documented byte string per certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use proptest::prelude::*;
use sanad_certificates::{
    Certificate, ContentError, Kind, MaskedNationalId, Reference, Text, VerificationCode,
    verify_code,
};
use support::{certificate, key};

#[test]
fn canonical_form_is_pinned() {
    let key = key();
    let c = certificate(Kind::EligibilityAttestation, 123, &key);
    let expected = format!(
        "sanad-certificate-v1\n{{\"details\":{{\"decided_on\":\"2026-02-01\",\"index\":\"9.3264\",\
         \"programme\":{{\"ar\":\"الدعم الاجتماعي المباشر\",\"fr\":\"Aide sociale directe\"}}}},\
         \"holder\":{{\"ar\":\"فاطمة الزهراء بنعلي\",\"fr\":\"Fatima Zahra Benali\"}},\
         \"household_ref\":\"H00000000014\",\"id\":\"C-2026-000123\",\
         \"issued_at\":\"2026-03-01T10:15:00Z\",\"issuer\":{{\"ar\":\"مركز الخدمات الاجتماعية - الرباط أكدال\",\
         \"fr\":\"Centre de services sociaux - Rabat Agdal\"}},\"key_id\":\"{}\",\
         \"kind\":\"eligibility-attestation\",\"national_id_masked\":\"AB****56\",\"valid_until\":null}}",
        key.key_id()
    );
    assert_eq!(String::from_utf8(c.canonical()).unwrap(), expected);
}

#[test]
fn every_kind_reads_back_from_its_canonical_form() {
    let key = key();
    for kind in Kind::ALL {
        let c = certificate(kind, 1, &key);
        assert_eq!(Certificate::from_canonical(&c.canonical()).unwrap(), c);
    }
}

#[test]
fn non_canonical_bytes_are_refused() {
    let key = key();
    let bytes = certificate(Kind::DisabilityCard, 1, &key).canonical();
    let text = String::from_utf8(bytes).unwrap();
    // Same meaning, other bytes: whitespace, another prefix, a key of another kind.
    let spaced = text.replacen("{", "{ ", 1);
    assert_eq!(
        Certificate::from_canonical(spaced.as_bytes()),
        Err(ContentError::NotCanonical)
    );
    let unprefixed = text.replacen("sanad-certificate-v1\n", "", 1);
    assert_eq!(
        Certificate::from_canonical(unprefixed.as_bytes()),
        Err(ContentError::Prefix)
    );
    let extra = text.replacen("\"degree\"", "\"members\":3,\"degree\"", 1);
    assert!(Certificate::from_canonical(extra.as_bytes()).is_err());
}

#[test]
fn what_must_not_be_printed_is_refused() {
    assert!(MaskedNationalId::parse("AB123456").is_err());
    assert!(MaskedNationalId::parse("AB1***56").is_err());
    assert!(MaskedNationalId::parse("AB****56").is_ok());
    assert!(Text::parse("Ali\u{202E}ilA").is_err());
    assert!(Text::parse("Ali\nBaba").is_err());
    assert!(Text::parse("   ").is_err());
    assert!(Reference::parse("C-2026/1").is_err());
    let key = key();
    let mut c = certificate(Kind::DisabilityCard, 1, &key);
    c.holder_name_ar = None;
    c.holder_name_fr = None;
    assert_eq!(key.sign(&c), Err(ContentError::NoHolderName.into()));
}

#[test]
fn issue_time_is_kept_in_utc_whole_seconds() {
    let key = key();
    let mut c = certificate(Kind::DisabilityCard, 1, &key);
    let base = c.canonical();
    c.issued_at = time::macros::datetime!(2026-03-01 11:15:00.123456 +01:00);
    assert_eq!(c.canonical(), base);
    let signed = key.sign(&c).unwrap();
    assert_eq!(signed.certificate.issued_at.nanosecond(), 0);
    assert_eq!(signed.certificate.canonical(), base);
}

#[test]
fn a_certificate_naming_another_key_is_not_signed() {
    let key = key();
    let other = sanad_certificates::CertificateKey::from_bytes(&[5; 32]);
    let c = certificate(Kind::DisabilityCard, 1, &other);
    assert!(key.sign(&c).is_err());
}

#[test]
fn verification_code_reads_the_crockford_way() {
    let key = key();
    let s = key
        .sign(&certificate(Kind::DisabilityCard, 1, &key))
        .unwrap();
    let code = s.verification_code();
    assert_eq!(code.as_str().len(), 10);
    assert_eq!(code.grouped().len(), 11);
    assert!(verify_code("C-2026-000001", &code.grouped(), &s));
    assert!(verify_code(
        "C-2026-000001",
        &code.as_str().to_lowercase(),
        &s
    ));
    let typed = code.as_str().replace('0', "o").replace('1', "l");
    assert!(verify_code("C-2026-000001", &typed, &s));
    assert!(!verify_code("C-2026-000002", code.as_str(), &s));
    assert!(!verify_code("C-2026-000001", "ABCDE-FGHJK", &s));
    assert!(!verify_code("C-2026-000001", "", &s));
    assert_eq!(
        VerificationCode::normalize("abcde fghjk").as_deref(),
        Some("ABCDEFGHJK")
    );
    assert_eq!(VerificationCode::normalize("ABCDE-FGHJU"), None);
}

fn text_strategy() -> impl Strategy<Value = Text> {
    "[A-Za-z\u{0621}-\u{064A} '#\\]\\[-]{1,30}"
        .prop_filter_map("not blank", |s| Text::parse(&s).ok())
}

fn certificate_strategy() -> impl Strategy<Value = Certificate> {
    (
        0usize..4,
        1u32..999_999,
        proptest::option::of(text_strategy()),
        text_strategy(),
        0u16..20,
        0i64..400_000_000,
        proptest::option::of(0i32..3000),
    )
        .prop_map(|(kind, serial, ar, fr, members, seconds, valid_days)| {
            let key = key();
            let mut c = certificate(Kind::ALL[kind], serial, &key);
            c.holder_name_ar = ar;
            c.holder_name_fr = Some(fr);
            if let sanad_certificates::Details::RegistrationAttestation { members: m, .. } =
                &mut c.details
            {
                *m = members;
            }
            c.issued_at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            c.valid_until = valid_days
                .map(|d| time::macros::date!(2026 - 01 - 01) + time::Duration::days(d.into()));
            c
        })
}

proptest! {
    #[test]
    fn canonical_is_deterministic_and_reads_back(c in certificate_strategy()) {
        let bytes = c.canonical();
        prop_assert_eq!(&bytes, &c.clone().canonical());
        prop_assert!(bytes.starts_with(b"sanad-certificate-v1\n"));
        prop_assert_eq!(Certificate::from_canonical(&bytes).unwrap(), c);
    }

    #[test]
    fn different_content_gives_different_bytes(a in certificate_strategy(), b in certificate_strategy()) {
        prop_assert_eq!(a == b, a.canonical() == b.canonical());
    }
}
