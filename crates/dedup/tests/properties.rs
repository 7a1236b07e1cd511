//! Property tests: the normalisers, the date parser and the CSV reader never panic, whatever the
//! input, and keep their invariants.

use proptest::prelude::*;
use sanad_dedup::date::{BirthDate, compare_dates, parse_date};
use sanad_dedup::normalize::{NameKeys, NamePart, fold_arabic, phonetic_key, skeleton};

fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z' -]{0,30}",
        "[a-zàâäçéèêëîïôöùûüÿ -]{0,20}",
        "[\u{0621}-\u{064A}\u{064B}-\u{0652} ]{0,15}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn name_keys_never_panic_and_stay_in_their_alphabets(s in name_like(), ar in proptest::option::of(name_like())) {
        for part in [NamePart::Given, NamePart::Family] {
            let k = NameKeys::new(&s, ar.as_deref(), part);
            prop_assert!(k.exact.bytes().all(|b| b.is_ascii_lowercase()));
            prop_assert!(k.phonetic.chars().all(|c| c.is_ascii_alphabetic()));
            prop_assert!(!k.skeleton.contains('a'));
            prop_assert!(k.arabic_skeleton.chars().all(|c| c.is_ascii_alphabetic()));
            prop_assert!(!k.arabic.contains(' '));
            prop_assert_eq!(k.exact.is_empty(), k.phonetic.is_empty());
        }
    }

    #[test]
    fn case_hyphens_and_spaces_do_not_change_the_phonetic_key(s in "[A-Za-z]{1,12}( [A-Za-z]{1,12}){0,2}") {
        for part in [NamePart::Given, NamePart::Family] {
            let k = phonetic_key(&s, part);
            prop_assert_eq!(&phonetic_key(&s.to_uppercase(), part), &k);
            prop_assert_eq!(&phonetic_key(&s.to_lowercase(), part), &k);
            prop_assert_eq!(&phonetic_key(&s.replace(' ', "-"), part), &k);
            prop_assert_eq!(&phonetic_key(&format!("  {s}  "), part), &k);
            prop_assert_eq!(skeleton(&s, part), skeleton(&s.to_uppercase(), part));
        }
    }

    #[test]
    fn arabic_folding_ignores_tashkeel_and_tatweel(s in "[\u{0621}-\u{063A}\u{0641}-\u{064A}]{1,12}") {
        let decorated: String = s.chars().flat_map(|c| [c, '\u{064E}', '\u{0640}']).collect();
        prop_assert_eq!(fold_arabic(&decorated), fold_arabic(&s));
    }

    #[test]
    fn date_parser_never_panics(s in any::<String>()) {
        let _ = parse_date(&s);
    }

    #[test]
    fn date_layouts_agree(y in 1800u16..=2200, m in 1u8..=12, d in 1u8..=31) {
        if let Some(date) = BirthDate::new(y, m, d) {
            let iso = format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(parse_date(&iso), Some(date));
            prop_assert_eq!(parse_date(&format!("{y:04}{m:02}{d:02}")), Some(date));
            prop_assert_eq!(parse_date(&format!("{d:02}/{m:02}/{y:04}")), Some(date));
            prop_assert_eq!(parse_date(&format!("{d}/{m}/{y}")), Some(date));
            prop_assert_eq!(date.to_string(), iso);
            prop_assert_eq!(BirthDate::from_packed(date.packed()), Some(date));
        } else {
            prop_assert_eq!(parse_date(&format!("{y:04}-{m:02}-{d:02}")), None);
        }
    }

    #[test]
    fn date_levels_are_symmetric(a in 18000101u32..22001231, b in 18000101u32..22001231) {
        prop_assert_eq!(compare_dates(a, b), compare_dates(b, a));
    }

    #[test]
    fn csv_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = b"id,first_name,last_name,birth_date\n".to_vec();
        input.extend_from_slice(&bytes);
        let _ = sanad_dedup::read_csv_from(input.as_slice(), "fuzz.csv", &Default::default());
    }

    #[test]
    fn jaro_winkler_is_bounded_and_symmetric(a in "[a-z]{0,20}", b in "[a-z]{0,20}") {
        let x = sanad_dedup::jaro_winkler(a.as_bytes(), b.as_bytes());
        prop_assert!((0.0..=1.0 + 1e-12).contains(&x));
        if a == b { prop_assert!((x - 1.0).abs() < 1e-12); }
    }
}

#[test]
fn engine_survives_garbage_records() {
    let mut records = Vec::new();
    let garbage = [
        "",
        " ",
        "\u{0}",
        "ﷺ",
        "١٢٣",
        "--",
        "Ø",
        "𝕸𝖔𝖍𝖆𝖒𝖊𝖉",
        "a\u{0301}",
        "محمد Mohamed",
    ];
    for (i, g) in garbage.iter().enumerate() {
        for (j, h) in garbage.iter().enumerate() {
            records.push(sanad_dedup::Record {
                id: format!("R{i}-{j}"),
                first_name: (*g).into(),
                last_name: (*h).into(),
                first_name_ar: Some((*h).into()),
                last_name_ar: Some((*g).into()),
                sex: g.chars().next(),
                birth_date: Some((*g).into()),
                national_id: Some((*h).into()),
                commune: Some((*g).into()),
                household_id: Some((*h).into()),
                phone: Some((*g).into()),
            });
        }
    }
    let config = sanad_dedup::DedupConfig {
        u_sample_pairs: 1000,
        ..Default::default()
    };
    let result = sanad_dedup::deduplicate(&records, &config).unwrap();
    assert_eq!(result.cluster_of.len(), records.len());
}
