//! The rendered PDFs: readable Arabic, embedded fonts, and verification of a PDF on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use sanad_certificates::{
    Forgery, KeySet, Kind, SignatureError, Signed, Text, Verdict, render_pdf, verify_pdf,
};
use support::{BASE_URL, HOLDER_AR, HOLDER_FR, certificate, key};

/// Runs a poppler tool on the PDF; `None` (with a message) when poppler-utils is missing and
/// this is not CI, where a missing tool must fail the run rather than skip the check.
fn poppler(tool: &str, pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut command = Command::new(tool);
    command.arg(&path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    match command.output() {
        Ok(out) => {
            assert!(out.status.success(), "{tool} failed: {out:?}");
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var_os("CI").is_some() {
                panic!("{tool} is missing: install Debian's poppler-utils");
            }
            eprintln!("SKIPPED: {tool} is missing (apt-get install poppler-utils)");
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

/// pdftotext wraps right-to-left runs in bidi embedding marks; the letters between them are in
/// logical (reading) order, which is what is checked. Line breaks (a long title wraps on a
/// card) count as spaces.
fn without_bidi_marks(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| {
            !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn signed(kind: Kind) -> Signed {
    let key = key();
    key.sign(&certificate(kind, 123, &key)).unwrap()
}

fn keys() -> KeySet {
    KeySet::from_keys(key().public(), [])
}

const TITLES: [(Kind, &str, &str); 4] = [
    (
        Kind::DisabilityCard,
        "بطاقة شخص في وضعية إعاقة",
        "Carte de personne en situation de handicap",
    ),
    (
        Kind::RegistrationAttestation,
        "شهادة التسجيل في السجل الاجتماعي الموحد",
        "Attestation d'inscription au Registre social unifié",
    ),
    (
        Kind::EligibilityAttestation,
        "شهادة الاستحقاق",
        "Attestation d'éligibilité",
    ),
    (Kind::AmoTadamonCard, "بطاقة أمو تضامن", "Carte AMO Tadamon"),
];

#[test]
fn every_kind_reads_correctly_in_arabic_and_french() {
    for (kind, title_ar, title_fr) in TITLES {
        let s = signed(kind);
        let pdf = render_pdf(&s, BASE_URL).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let Some(text) = poppler("pdftotext", &pdf) else {
            return;
        };
        let text = without_bidi_marks(&text);
        for expected in [HOLDER_AR, title_ar, HOLDER_FR, title_fr, "C-2026-000123"] {
            assert!(
                text.contains(expected),
                "{kind:?}: {expected:?} not found in the extracted text:\n{text}"
            );
        }
        let code = s.verification_code().grouped();
        assert!(text.contains(&code), "{kind:?}: code {code} not printed");
        assert!(text.contains("https://sanad.example.ma/verify"));
    }
}

#[test]
fn fonts_are_embedded() {
    let pdf = render_pdf(&signed(Kind::RegistrationAttestation), BASE_URL).unwrap();
    // Each font program travels in the file (subset), whatever the reader has installed.
    assert!(pdf.windows(b"/FontFile2".len()).any(|w| w == b"/FontFile2"));
    let Some(list) = poppler("pdffonts", &pdf) else {
        return;
    };
    let fonts: Vec<&str> = list.lines().skip(2).collect();
    assert!(
        fonts.iter().any(|l| l.contains("NotoNaskhArabic")),
        "{list}"
    );
    assert!(fonts.iter().any(|l| l.contains("NotoSans")), "{list}");
    for line in fonts {
        let columns: Vec<&str> = line.split_whitespace().collect();
        // name, type (one or two words), encoding, emb, sub, uni, object, generation
        let emb = columns[columns.len() - 5];
        assert_eq!(emb, "yes", "not embedded: {line}");
    }
}

#[test]
fn a_genuine_pdf_verifies_with_the_published_key() {
    for kind in Kind::ALL {
        let s = signed(kind);
        let pdf = render_pdf(&s, BASE_URL).unwrap();
        // The published key set, as fetched from the well-known URL.
        let published = KeySet::from_json(&keys().to_json()).unwrap();
        match verify_pdf(&pdf, &published, BASE_URL).unwrap() {
            Verdict::Valid(found) => assert_eq!(*found, s),
            Verdict::Forged(why) => panic!("{kind:?}: {why}"),
        }
    }
}

#[test]
fn one_changed_byte_anywhere_is_a_forgery() {
    let pdf = render_pdf(&signed(Kind::EligibilityAttestation), BASE_URL).unwrap();
    let keys = keys();
    let positions = [
        10,
        pdf.len() / 7,
        pdf.len() / 3,
        pdf.len() / 2,
        2 * pdf.len() / 3,
        pdf.len() - 40,
        pdf.len() - 2,
    ];
    for at in positions {
        let mut forged = pdf.clone();
        forged[at] ^= 0x01;
        let verdict = verify_pdf(&forged, &keys, BASE_URL).unwrap();
        assert!(
            matches!(verdict, Verdict::Forged(_)),
            "byte {at} of {} changed, yet {verdict:?}",
            pdf.len()
        );
    }
    // Bytes added after the end of the file (how an incremental update would change what a
    // reader shows) are caught too.
    let mut appended = pdf.clone();
    appended.extend_from_slice(b"\n% appended\n");
    assert_eq!(
        verify_pdf(&appended, &keys, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::Altered)
    );
}

#[test]
fn another_key_is_rejected() {
    let real = key();
    let other = sanad_certificates::CertificateKey::from_bytes(&[9; 32]);
    let keys = keys();

    // Signed with a key that is not published.
    let s = other
        .sign(&certificate(Kind::DisabilityCard, 7, &other))
        .unwrap();
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    assert_eq!(
        verify_pdf(&pdf, &keys, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::Signature(SignatureError::UnknownKey(
            other.key_id().clone()
        )))
    );

    // Signed with another key while naming the published one.
    let mut s = other
        .sign(&certificate(Kind::DisabilityCard, 7, &other))
        .unwrap();
    s.certificate.key_id = real.key_id().clone();
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    assert_eq!(
        verify_pdf(&pdf, &keys, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::Signature(SignatureError::BadSignature))
    );

    // Content changed after signing (the holder's name), re-rendered so the PDF is consistent.
    let mut s = real
        .sign(&certificate(Kind::DisabilityCard, 7, &real))
        .unwrap();
    s.certificate.holder_name_fr = Some(Text::parse("Someone Else").unwrap());
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    assert_eq!(
        verify_pdf(&pdf, &keys, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::Signature(SignatureError::BadSignature))
    );
}

#[test]
fn a_retired_key_still_verifies_what_it_signed() {
    let old = key();
    let new = sanad_certificates::CertificateKey::from_bytes(&[3; 32]);
    let s = old
        .sign(&certificate(Kind::AmoTadamonCard, 55, &old))
        .unwrap();
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    let rotated = KeySet::from_keys(new.public(), [old.public()]);
    assert!(!rotated.get(old.key_id()).unwrap().active);
    assert!(matches!(
        verify_pdf(&pdf, &rotated, BASE_URL).unwrap(),
        Verdict::Valid(_)
    ));
    // Dropped from the set altogether, it no longer does.
    let forgotten = KeySet::from_keys(new.public(), []);
    assert!(matches!(
        verify_pdf(&pdf, &forgotten, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::Signature(SignatureError::UnknownKey(_)))
    ));
}

#[test]
fn typst_syntax_in_a_name_prints_literally() {
    let key = key();
    let mut c = certificate(Kind::RegistrationAttestation, 8, &key);
    let fr = r#"#panic("x") ] [ *Gras* _it_ $x^2$ <l> @ref // \ O'Brien"#;
    let ar = "#let x = 1] محمد [";
    c.holder_name_fr = Some(Text::parse(fr).unwrap());
    c.holder_name_ar = Some(Text::parse(ar).unwrap());
    let s = key.sign(&c).unwrap();
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    assert!(matches!(
        verify_pdf(&pdf, &keys(), BASE_URL).unwrap(),
        Verdict::Valid(_)
    ));
    let Some(text) = poppler("pdftotext", &pdf) else {
        return;
    };
    let text = without_bidi_marks(&text);
    assert!(text.contains(fr), "{fr:?} not printed as is:\n{text}");
    // In a right-to-left paragraph the neutral `#`, `]` and `[` take places that the bidi
    // algorithm gives them; that they are printed, not read as markup, is what matters.
    assert!(text.contains("محمد"), "{text}");
    assert!(text.contains("let x = 1"), "{text}");
    assert!(
        text.contains('#') && text.contains(']') && text.contains('['),
        "{text}"
    );
}

#[test]
fn the_same_certificate_renders_to_the_same_bytes() {
    for kind in Kind::ALL {
        let s = signed(kind);
        let a = render_pdf(&s, BASE_URL).unwrap();
        let b = render_pdf(&s, BASE_URL).unwrap();
        assert!(a == b, "{kind:?}: two renderings differ");
    }
    // A trailing slash on the base URL changes nothing.
    let s = signed(Kind::DisabilityCard);
    assert_eq!(
        render_pdf(&s, BASE_URL).unwrap(),
        render_pdf(&s, &format!("{BASE_URL}/")).unwrap()
    );
}

#[test]
fn a_pdf_without_payload_or_for_another_site_is_not_valid() {
    let keys = keys();
    assert_eq!(
        verify_pdf(b"%PDF-1.7\n%%EOF\n", &keys, BASE_URL).unwrap(),
        Verdict::Forged(Forgery::NoPayload)
    );
    let pdf = render_pdf(&signed(Kind::DisabilityCard), BASE_URL).unwrap();
    assert_eq!(
        verify_pdf(&pdf, &keys, "https://elsewhere.example").unwrap(),
        Verdict::Forged(Forgery::Altered)
    );
    assert!(verify_pdf(&pdf, &keys, "javascript:alert(1)").is_err());
}

#[test]
fn the_attached_payload_is_the_signed_one() {
    let s = signed(Kind::EligibilityAttestation);
    let pdf = render_pdf(&s, BASE_URL).unwrap();
    let payload = sanad_certificates::verify::attached_payload(&pdf).unwrap();
    assert_eq!(payload, s.to_payload_json().into_bytes());
    assert_eq!(Signed::from_payload_json(&payload).unwrap(), s);
}
