//! Properties of the comparison levels and the weight arithmetic, on a model trained on a
//! generated population: a field one record lacks weighs nothing and changes no other weight;
//! an exact name weighs less the more people share it; the explanation adds up to the score.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use sanad_dedup::{DedupConfig, FIELDS, Model, Record, compare_records, explain_html, train};

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = sanad_synth::GenConfig {
            duplicate_rate: 0.1,
            ..sanad_synth::GenConfig::new(400, 9)
        };
        sanad_synth::generate(&config, dir.path(), &|_| {}).unwrap();
        let records =
            sanad_dedup::read_csv(dir.path().join("persons.csv"), &Default::default()).unwrap();
        train(&records, &DedupConfig::default()).unwrap()
    })
}

fn person() -> impl Strategy<Value = Record> {
    (
        prop::sample::select(vec![
            "Mohamed", "Fatima", "Youssef", "Khadija", "Rachid", "Zineb",
        ]),
        prop::sample::select(vec!["Alaoui", "Bennani", "Tazi", "Idrissi", "Berrada"]),
        1940u16..2020,
        1u8..=12,
        1u8..=28,
        prop::option::of("[A-Z]{1,2}[0-9]{5,6}"),
        prop::sample::select(vec!['M', 'F']),
        prop::option::of("06[0-9]{8}"),
    )
        .prop_map(|(f, l, y, m, d, nid, sex, phone)| Record {
            id: "A".into(),
            first_name: f.into(),
            last_name: l.into(),
            sex: Some(sex),
            birth_date: Some(format!("{y:04}-{m:02}-{d:02}")),
            national_id: nid,
            phone,
            ..Record::default()
        })
}

fn weight_of(c: &sanad_dedup::Candidate, field: &str) -> (String, f32) {
    let e = c.explanation.iter().find(|e| e.field == field).unwrap();
    (e.level.to_owned(), e.weight)
}

/// `record` with one field emptied.
fn without(mut r: Record, field: &str) -> Record {
    match field {
        "birth_date" => r.birth_date = None,
        "national_id" => r.national_id = None,
        "sex" => r.sex = None,
        "phone" => r.phone = None,
        _ => unreachable!(),
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_missing_field_weighs_nothing_and_changes_no_other_weight(
        a in person(),
        b in person(),
        field in prop::sample::select(vec!["birth_date", "national_id", "sex", "phone"]),
    ) {
        let m = model();
        let full = compare_records(m, &a, &b);
        let partial = compare_records(m, &a, &without(b.clone(), field));
        let (level, w) = weight_of(&partial, field);
        prop_assert_eq!(level, "null");
        prop_assert_eq!(w, 0.0);
        for f in FIELDS.iter().filter(|f| **f != field) {
            prop_assert_eq!(weight_of(&full, f), weight_of(&partial, f), "field {}", f);
        }
        let (_, lost) = weight_of(&full, field);
        prop_assert!((full.weight - f64::from(lost) - partial.weight).abs() < 1e-3);
    }

    #[test]
    fn the_field_weights_and_the_prior_add_up_to_the_match_weight(a in person(), b in person()) {
        let m = model();
        let c = compare_records(m, &a, &b);
        let sum: f64 = c.explanation.iter().map(|e| f64::from(e.weight)).sum();
        prop_assert!((sanad_dedup::prior_bits(m) + sum - c.weight).abs() < 1e-2);
        prop_assert!((sanad_dedup::probability(c.weight) - c.probability).abs() < 1e-9);
    }

    #[test]
    fn an_exact_name_weighs_less_the_more_people_share_it(rare in 1u32..50, more in 1u32..5000) {
        let mut m = model().clone();
        let a = Record { id: "A".into(), first_name: "Zoubida".into(), last_name: "Qadiri".into(), ..Record::default() };
        let b = Record { id: "B".into(), ..a.clone() };
        let key = m.term_frequencies.first_exact.keys().find(|k| k.contains("zoubida")).cloned().unwrap_or_else(|| "zoubida".into());
        let mut weight_at = |count: u32| {
            m.term_frequencies.first_exact.insert(key.clone(), count);
            let c = compare_records(&m, &a, &b);
            weight_of(&c, "first_name")
        };
        let (level, w_rare) = weight_at(rare);
        prop_assert_eq!(level, "exact");
        let (_, w_common) = weight_at(rare + more);
        prop_assert!(w_common < w_rare, "{} people: {} bits; {} people: {} bits", rare, w_rare, rare + more, w_common);
    }
}

#[test]
fn the_explain_page_shows_every_field_and_level_and_no_outside_asset() {
    let m = model();
    let a = Record {
        id: "A<1>".into(),
        first_name: "Said".into(),
        last_name: "Alaoui".into(),
        birth_date: Some("1980-01-02".into()),
        ..Record::default()
    };
    let b = Record {
        id: "B".into(),
        first_name: "Saïd".into(),
        ..a.clone()
    };
    let c = compare_records(m, &a, &b);
    let html = explain_html(
        m,
        None,
        Some(&sanad_dedup::PairToExplain {
            id_a: &a.id,
            id_b: &b.id,
            comparison: &c,
        }),
    );
    for fm in &m.fields {
        assert!(html.contains(&format!("<h3>{}</h3>", fm.field)));
        for l in &fm.levels {
            assert!(
                html.contains(&format!("<td class=\"l\">{}</td>", l.level)),
                "{} {}",
                fm.field,
                l.level
            );
        }
    }
    assert!(html.contains("A&lt;1&gt;"), "ids are escaped");
    assert!(!html.contains("http://") && !html.contains("https://"));
}
