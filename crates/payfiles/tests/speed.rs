//! A rough speed check, not a benchmark: run with
//! `cargo test --release -p sanad-payfiles --test speed -- --ignored --nocapture`.
//! It prints what it measured and asserts only on correctness (tests never assert on wall time).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufReader, BufWriter};
use std::time::Instant;

use common::{bank, header, mad};
use sanad_payfiles::answer::{AnswerCsvWriter, Camt054Writer, NotificationHeader};
use sanad_payfiles::{
    AnswerLine, MeansKind, Outcome, Pain001Writer, Transfer, read_answer_csv, read_camt054,
};
use time::macros::{date, datetime};

const N: u64 = 1_000_000;

#[test]
#[ignore]
fn one_million_lines() {
    let dir = tempfile::tempdir().unwrap();
    let means: Vec<_> = (0..100)
        .map(|i| bank(&format!("Bénéficiaire numéro {i} العلوي")))
        .collect();
    let ids: Vec<String> = (0..N).map(|i| format!("SANAD-C2026-01-P{i:09}")).collect();
    let amount = |i: u64| mad(30_000 + (i % 50) as i64 * 100);
    let sum: i64 = (0..N).map(|i| amount(i).centimes()).sum();

    if wanted("pain") {
        let path = dir.path().join("pain.xml");
        let t = Instant::now();
        let mut w = Pain001Writer::start(
            BufWriter::new(std::fs::File::create(&path).unwrap()),
            &header(MeansKind::Bank, N, sum),
        )
        .unwrap();
        for (i, id) in ids.iter().enumerate() {
            w.push(&Transfer {
                end_to_end_id: id,
                amount: amount(i as u64),
                means: &means[i % 100],
                remittance: "ASD 2026-01",
            })
            .unwrap();
        }
        w.finish().unwrap();
        report("pain.001 write", t, std::fs::metadata(&path).unwrap().len());
    }

    let outcome = |i: u64| match i % 20 {
        0 => Outcome::Failed {
            reason_code: "AC04".into(),
            reason: "account closed".into(),
        },
        _ => Outcome::Paid,
    };
    let line = |i: u64| AnswerLine {
        line: 0,
        end_to_end_id: ids[i as usize].clone(),
        amount: amount(i),
        outcome: outcome(i),
        booked_on: Some(date!(2026 - 01 - 11)),
    };

    if wanted("csv") {
        let csv_path = dir.path().join("answer.csv");
        let t = Instant::now();
        let mut w =
            AnswerCsvWriter::start(BufWriter::new(std::fs::File::create(&csv_path).unwrap()))
                .unwrap();
        for i in 0..N {
            w.push(&line(i)).unwrap();
        }
        w.finish().unwrap();
        report(
            "answer CSV write",
            t,
            std::fs::metadata(&csv_path).unwrap().len(),
        );

        let t = Instant::now();
        let read = read_answer_csv(BufReader::new(std::fs::File::open(&csv_path).unwrap()))
            .filter(Result::is_ok)
            .count() as u64;
        assert_eq!(read, N);
        report(
            "answer CSV read",
            t,
            std::fs::metadata(&csv_path).unwrap().len(),
        );
    }

    if wanted("camt") {
        let camt_path = dir.path().join("answer.xml");
        let t = Instant::now();
        let notification = NotificationHeader {
            message_id: "CAMT-1".into(),
            created_at: datetime!(2026-01-11 18:00 UTC),
            account: "011780000012345678901297".into(),
        };
        let mut w = Camt054Writer::start(
            BufWriter::new(std::fs::File::create(&camt_path).unwrap()),
            &notification,
        )
        .unwrap();
        for i in 0..N {
            w.push(&line(i)).unwrap();
        }
        w.finish().unwrap();
        report(
            "camt.054 write",
            t,
            std::fs::metadata(&camt_path).unwrap().len(),
        );

        let t = Instant::now();
        let read = read_camt054(BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(&camt_path).unwrap(),
        ))
        .filter(Result::is_ok)
        .count() as u64;
        assert_eq!(read, N);
        report(
            "camt.054 read",
            t,
            std::fs::metadata(&camt_path).unwrap().len(),
        );
    }
}

/// `SPEED_ONLY=camt` (or `csv`, `pain`) measures one format, for profiling.
fn wanted(part: &str) -> bool {
    std::env::var("SPEED_ONLY").map_or(true, |only| only == part)
}

fn report(what: &str, t: Instant, bytes: u64) {
    let s = t.elapsed().as_secs_f64();
    println!(
        "{what:<18} {N} lines in {s:6.2} s: {:7.0} MB/s, {:5.2} M lines/s ({} MB)",
        bytes as f64 / s / 1e6,
        N as f64 / s / 1e6,
        bytes / 1_000_000
    );
}
