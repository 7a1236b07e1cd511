//! A programme's budget cap as a manager writes it: national sums read and written back to the
//! centime, in TOML and JSON alike; a negative or oversized cap refused, naming the field.

use proptest::prelude::*;
use sanad_programmes::{Budget, Programme, shipped};

fn school_support() -> &'static str {
    shipped()
        .into_iter()
        .find(|(name, _)| *name == "school-support.toml")
        .map(|(_, text)| text)
        .unwrap_or_else(|| panic!("school-support is shipped"))
}

/// The shipped school-support file with `cap` (a TOML value, as written) as its budget cap.
fn with_cap(cap: &str) -> String {
    school_support().replacen(
        "version = 1\n",
        &format!("version = 1\nbudget_cap = {cap}\n"),
        1,
    )
}

/// The line the cap is written on in [`with_cap`]'s file, counting from 1.
fn cap_line() -> u32 {
    let text = with_cap("0");
    let before = text.split("budget_cap").next().unwrap_or_default();
    u32::try_from(before.matches('\n').count() + 1).unwrap_or(0)
}

fn cap_of(p: &Programme) -> Option<i64> {
    p.budget_cap.map(|b| b.centimes())
}

#[test]
fn a_cap_of_thirty_thousand_million_dirhams_reads_and_round_trips() {
    // ASD's yearly order of magnitude: thirty times what an Amount may hold.
    for written in ["\"30000000000\"", "\"30000000000.00\"", "30000000000"] {
        let p =
            Programme::from_toml(&with_cap(written)).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(cap_of(&p), Some(3_000_000_000_000), "{written}");

        let toml = p.to_toml();
        assert!(toml.contains("budget_cap = \"30000000000.00\""), "{toml}");
        assert_eq!(Programme::from_toml(&toml).expect("TOML again"), p);

        let json = p.to_json();
        assert!(
            json.contains("\"budget_cap\": \"30000000000.00\""),
            "{json}"
        );
        assert_eq!(Programme::from_json(&json).expect("JSON again"), p);
    }
    // An API client may send the cap as a plain JSON number, to the centime.
    let json = Programme::from_toml(&with_cap("\"1\""))
        .expect("reads")
        .to_json()
        .replace("\"budget_cap\": \"1.00\"", "\"budget_cap\": 2416666666.67");
    let p = Programme::from_json(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cap_of(&p), Some(241_666_666_667));
}

#[test]
fn the_family_allowance_is_capped_at_a_month_of_the_national_budget() {
    let (_, text) = shipped()
        .into_iter()
        .find(|(name, _)| *name == "asd-family.toml")
        .expect("asd-family is shipped");
    let p = Programme::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    // 29 000 000 000 MAD a year / 12: more than an Amount may hold.
    assert_eq!(cap_of(&p), Some(241_666_666_667));
    assert!(cap_of(&p) > Some(sanad_domain::Amount::MAX_CENTIMES));
}

#[test]
fn a_programme_without_a_cap_has_none_and_writes_none() {
    let p = Programme::from_toml(school_support()).expect("reads");
    assert_eq!(p.budget_cap, None);
    assert!(!p.to_toml().contains("budget_cap"));
    assert!(!p.to_json().contains("budget_cap"));
}

#[test]
fn a_negative_or_oversized_cap_is_refused_naming_the_field() {
    for (written, why) in [
        ("\"-5\"", "non-negative"),
        ("-5", "non-negative"),
        ("\"-0.01\"", "non-negative"),
        ("\"10000000000000.01\"", "ten million million"),
        ("20000000000000", "ten million million"),
        ("\"99999999999999999999\"", "ten million million"),
        ("\"12.345\"", "two decimals"),
        ("true", "budget_cap"),
    ] {
        let e = Programme::from_toml(&with_cap(written)).expect_err(written);
        assert!(e.message.contains("budget_cap"), "{written}: {e}");
        assert!(e.message.contains(why), "{written}: {e}");
        assert_eq!(e.line, cap_line(), "{written}: the line of the cap: {e}");
    }
    // The same from JSON.
    let json = Programme::from_toml(&with_cap("\"1\""))
        .expect("reads")
        .to_json();
    for (written, why) in [
        ("-5", "non-negative"),
        ("\"-5\"", "non-negative"),
        ("1e16", "ten million million"),
        ("\"20000000000000\"", "ten million million"),
    ] {
        let bad = json.replace(
            "\"budget_cap\": \"1.00\"",
            &format!("\"budget_cap\": {written}"),
        );
        assert_ne!(bad, json);
        let e = Programme::from_json(&bad).expect_err(written);
        assert!(e.message.contains("budget_cap"), "{written}: {e}");
        assert!(e.message.contains(why), "{written}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any cap up to the bound survives a programme's trip through TOML and JSON to the centime.
    #[test]
    fn any_cap_round_trips_through_a_programme_file(c in 0i64..=Budget::MAX_CENTIMES) {
        let cap = Budget::from_centimes(c).expect("in bounds");
        let p = Programme::from_toml(&with_cap(&format!("\"{cap}\""))).expect("reads");
        prop_assert_eq!(p.budget_cap, Some(cap));
        prop_assert_eq!(&Programme::from_toml(&p.to_toml()).expect("TOML again"), &p);
        prop_assert_eq!(&Programme::from_json(&p.to_json()).expect("JSON again"), &p);
    }

    /// Beyond the bound, whatever the size, the cap is refused, never wrapped or truncated.
    #[test]
    fn any_cap_beyond_the_bound_is_refused(extra in 1i64..=1_000_000_000_000_000) {
        let c = Budget::MAX_CENTIMES + extra;
        let text = with_cap(&format!("\"{}.{:02}\"", c / 100, c % 100));
        let e = Programme::from_toml(&text).expect_err("over the bound");
        prop_assert!(e.message.contains("budget_cap"), "{}", e);
    }
}
