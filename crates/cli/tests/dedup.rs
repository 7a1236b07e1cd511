//! `sanad dedup --explain`: a reviewer opens the page on a laptop without network and sees why the
//! model decided as it did.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanad"))
        .env_remove("SANAD_DATABASE_URL")
        .env_remove("SANAD_DATA_KEY_FILE")
        .env_remove("SANAD_AUDIT_KEY_FILE")
        .env_remove("SANAD_KEY_DIR")
        .env("SANAD_LOG", "warn")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_explain_page_is_written_holds_every_field_and_needs_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = run(&[
        "gen",
        "--households",
        "400",
        "--seed",
        "5",
        "--duplicate-rate",
        "0.1",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A true pair from the truth file: a duplicate and the person it stands for.
    let truth = std::fs::read_to_string(data.join("truth.csv")).unwrap();
    let (dup, original) = truth
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .find(|(p, e)| p != e)
        .unwrap();
    let page = dir.path().join("model.html");
    let persons = data.join("persons.csv");
    let o = run(&[
        "dedup",
        "--csv",
        persons.to_str().unwrap(),
        "--explain",
        page.to_str().unwrap(),
        "--pair",
        dup,
        original,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("chosen from the data")
            && stderr(&o).contains("estimated blocking recall"),
        "the threshold and the blocking recall are printed: {}",
        stderr(&o)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for field in [
        "first_name",
        "last_name",
        "birth_date",
        "national_id",
        "sex",
        "phone",
    ] {
        assert!(
            html.contains(&format!("<h3>{field}</h3>")),
            "match-weight chart of {field}"
        );
    }
    for part in [
        "id=\"parameters\"",
        "id=\"curve\"",
        "id=\"waterfall\"",
        "<svg",
        "<polyline",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
    assert!(
        html.contains(dup) && html.contains(original),
        "the pair is named"
    );
    assert!(
        !html.contains("http://")
            && !html.contains("https://")
            && !html.contains("<script")
            && !html.contains("<link"),
        "self-contained: no outside asset"
    );

    // A pair without a page to draw it in, or naming an unknown record, is refused.
    let o = run(&[
        "dedup",
        "--csv",
        persons.to_str().unwrap(),
        "--pair",
        dup,
        original,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--explain"), "{}", stderr(&o));
    let o = run(&[
        "dedup",
        "--csv",
        persons.to_str().unwrap(),
        "--explain",
        page.to_str().unwrap(),
        "--pair",
        dup,
        "P99999999999",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("P99999999999"), "{}", stderr(&o));
}
