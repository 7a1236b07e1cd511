//! References, secrets and the follow-up SMS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sanad_workflow::{
    Family, Lang, Reference, ReferenceError, SECRET_ALPHABET, Secret, SecretError, SmsLength,
    constant_time_eq, follow_up_sms, sms_length,
};

#[test]
fn a_reference_looks_like_the_receipt() {
    let r = Reference::new(Family::ServiceRequest, 2026, 1234).unwrap();
    let text = r.to_string();
    assert!(text.starts_with("SR-2026-0001234-"), "{text}");
    assert_eq!(text.len(), "SR-2026-0001234-7".len());
    assert_eq!(Reference::parse(&text), Ok(r));
    let g = Reference::new(Family::Grievance, 2026, 1234).unwrap();
    assert!(g.to_string().starts_with("GR-"));
    assert_eq!(Family::for_kind("complaint"), Family::Grievance);
    assert_eq!(Family::for_kind("disability_card"), Family::ServiceRequest);
}

#[test]
fn parsing_is_lenient_about_case_dashes_and_spaces() {
    let r = Reference::new(Family::ServiceRequest, 2026, 98765).unwrap();
    let compact = r.to_string().replace('-', "").to_lowercase();
    assert_eq!(Reference::parse(&format!("  {compact} ")), Ok(r));
    let spaced = r.to_string().replace('-', " ");
    assert_eq!(Reference::parse(&spaced), Ok(r));
}

#[test]
fn bad_references_say_why() {
    assert!(matches!(
        Reference::parse("SR-2026-12-3"),
        Err(ReferenceError::Format(_))
    ));
    assert!(matches!(
        Reference::parse("hello"),
        Err(ReferenceError::Format(_))
    ));
    assert!(matches!(
        Reference::parse("XX-2026-0001234-0"),
        Err(ReferenceError::UnknownPrefix(p)) if p == "XX"
    ));
    let r = Reference::new(Family::ServiceRequest, 2026, 1234).unwrap();
    let wrong = (r.check_digit() + 1) % 10;
    let e = Reference::parse(&format!("SR-2026-0001234-{wrong}")).unwrap_err();
    assert!(matches!(e, ReferenceError::BadCheckDigit(_)));
    assert!(e.to_string().contains("check digit"), "{e}");
    assert_eq!(
        Reference::new(Family::Grievance, 1999, 1),
        Err(ReferenceError::Year(1999))
    );
    assert_eq!(
        Reference::new(Family::Grievance, 2026, 0),
        Err(ReferenceError::Sequence(0))
    );
    assert_eq!(
        Reference::new(Family::Grievance, 2026, 10_000_000),
        Err(ReferenceError::Sequence(10_000_000))
    );
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::ServiceRequest), Just(Family::Grievance)]
}

proptest! {
    #[test]
    fn references_round_trip(f in family(), year in 2000u16..=9999, seq in 1u32..=9_999_999) {
        let r = Reference::new(f, year, seq).unwrap();
        prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r));
        prop_assert_eq!(r.to_string().parse::<Reference>(), Ok(r));
    }

    #[test]
    fn every_single_digit_change_is_refused(f in family(), year in 2000u16..=9999, seq in 1u32..=9_999_999) {
        let text = Reference::new(f, year, seq).unwrap().to_string();
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if !b.is_ascii_digit() {
                continue;
            }
            for d in b'0'..=b'9' {
                if d == b {
                    continue;
                }
                let mut changed = bytes.to_vec();
                changed[i] = d;
                let changed = String::from_utf8(changed).unwrap();
                prop_assert!(Reference::parse(&changed).is_err(), "{} accepted for {}", changed, text);
            }
        }
    }

    #[test]
    fn every_adjacent_transposition_is_refused(f in family(), year in 2000u16..=9999, seq in 1u32..=9_999_999) {
        let text = Reference::new(f, year, seq).unwrap().to_string();
        // Neighbouring digits as a person reads them: the dashes are not read aloud, so
        // "…4-7" swapped is "…7-4".
        let digit_positions: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        for w in digit_positions.windows(2) {
            let (i, j) = (w[0], w[1]);
            let mut swapped = text.clone().into_bytes();
            if swapped[i] == swapped[j] {
                continue;
            }
            swapped.swap(i, j);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert!(Reference::parse(&swapped).is_err(), "{} accepted for {}", swapped, text);
        }
    }

    #[test]
    fn secrets_use_the_alphabet_and_read_back(bytes in any::<[u8; 8]>()) {
        let s = Secret::from_random(bytes);
        prop_assert_eq!(s.expose().len(), 6);
        prop_assert!(s.expose().bytes().all(|c| SECRET_ALPHABET.contains(&c)));
        prop_assert_eq!(Secret::parse(&s.expose().to_lowercase()), Ok(s.clone()));
    }

    #[test]
    fn digests_match_only_their_secret(a in any::<[u8; 8]>(), b in any::<[u8; 8]>()) {
        let pepper = b"pepper from the configuration";
        let sa = Secret::from_random(a);
        let sb = Secret::from_random(b);
        let stored = sa.digest(pepper);
        prop_assert_eq!(stored.len(), 64);
        prop_assert!(sa.matches(pepper, &stored));
        prop_assert_eq!(sb.matches(pepper, &stored), sa == sb);
        prop_assert!(!sa.matches(b"another pepper", &stored));
    }
}

#[test]
fn the_alphabet_has_no_look_alikes() {
    for c in b"01OIL" {
        assert!(!SECRET_ALPHABET.contains(c));
    }
    assert_eq!(Secret::parse("AB2C0D"), Err(SecretError::Character));
    assert_eq!(Secret::parse("AB2"), Err(SecretError::Length(3)));
    assert_eq!(Secret::parse("ab 2c3d").unwrap().expose(), "AB2C3D");
}

#[test]
fn the_digest_is_sha256_of_pepper_and_secret() {
    // SHA-256("pepperAB2C3D"), computed independently with sha256sum.
    let s = Secret::parse("AB2C3D").unwrap();
    assert_eq!(s.digest(b"pepper"), EXPECTED_DIGEST);
}

const EXPECTED_DIGEST: &str = "08dafcb5ad50e777d4f2e02822083f6e3802148f25914f3ccefae095ebfd8717";

#[test]
fn constant_time_eq_compares() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn the_follow_up_sms_fits_in_one_message() {
    // The longest reference and a secret: every reference has the same length.
    let r = Reference::new(Family::ServiceRequest, 2026, 9_999_999).unwrap();
    let s = Secret::parse("WXYZ99").unwrap();
    for lang in [Lang::Fr, Lang::En] {
        let text = follow_up_sms(lang, &r, &s);
        match sms_length(&text) {
            SmsLength::Gsm7(n) => assert!(n <= 160, "{lang:?}: {n} septets: {text}"),
            other => panic!("{lang:?} should be GSM-7, is {other:?}: {text}"),
        }
        assert!(text.contains(&r.to_string()) && text.contains("WXYZ99"));
    }
    let text = follow_up_sms(Lang::Ar, &r, &s);
    match sms_length(&text) {
        SmsLength::Ucs2(n) => assert!(n <= 70, "ar: {n} units: {text}"),
        other => panic!("Arabic is UCS-2, got {other:?}"),
    }
    assert!(text.contains(&r.to_string()) && text.contains("WXYZ99"));
}

#[test]
fn sms_length_counts_the_extension_table_twice() {
    assert_eq!(sms_length("abc"), SmsLength::Gsm7(3));
    assert_eq!(sms_length("5 €"), SmsLength::Gsm7(4));
    assert_eq!(sms_length("été"), SmsLength::Gsm7(3));
    assert_eq!(sms_length("ça"), SmsLength::Ucs2(2));
    assert!(SmsLength::Gsm7(160).fits_one());
    assert!(!SmsLength::Ucs2(71).fits_one());
}
