//! Validates what the writers produce against the official ISO 20022 schemas with xmllint. The
//! schemas are fetched by `fetch-xsd.sh` at test time, never committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bank, cash, header, mad, wallet};
use sanad_payfiles::answer::{NotificationHeader, write_camt054};
use sanad_payfiles::{AnswerLine, Means, MeansKind, Outcome, Pain001Writer, Transfer};
use time::macros::{date, datetime};

/// The two schemas, or `None` (after a warning) when they cannot be had here and CI is not set.
fn schemas() -> Option<(PathBuf, PathBuf)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../target"));
    let dir = target.join("xsd");
    let pain = dir.join("pain.001.001.09.xsd");
    let camt = dir.join("camt.054.001.08.xsd");
    let unavailable = |why: String| {
        if std::env::var_os("CI").is_some() {
            panic!("{why}");
        }
        eprintln!("WARNING: XSD validation skipped: {why}");
        None
    };
    if Command::new("xmllint").arg("--version").output().is_err() {
        return unavailable("xmllint is not installed".into());
    }
    if !(pain.exists() && camt.exists()) {
        let status = Command::new("sh")
            .arg(manifest.join("fetch-xsd.sh"))
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => {
                return unavailable(format!(
                    "fetch-xsd.sh failed ({other:?}); is pip available?"
                ));
            }
        }
    }
    Some((pain, camt))
}

/// Runs xmllint; Ok when the document is valid, else its messages.
fn xmllint(schema: &Path, xml: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn pain001(kind: MeansKind, means: &[Means]) -> Vec<u8> {
    let amounts: Vec<i64> = (0..means.len() as i64)
        .map(|i| 35_000 + i * 1_005)
        .collect();
    let mut w = Pain001Writer::start(
        Vec::new(),
        &header(kind, means.len() as u64, amounts.iter().sum()),
    )
    .unwrap();
    for (i, (m, a)) in means.iter().zip(&amounts).enumerate() {
        let id = format!("SANAD-P{i:06}");
        w.push(&Transfer {
            end_to_end_id: &id,
            amount: mad(*a),
            means: m,
            remittance: "ASD 2026-01 — دعم اجتماعي مباشر",
        })
        .unwrap();
    }
    w.finish().unwrap()
}

fn names() -> Vec<String> {
    vec![
        "فاطمة الزهراء بنت محمد العلوي".into(),
        "Élodie O'Brien & Fils <SARL> \"Essaouira\"".into(),
        "محمد".repeat(60),
        format!("Long{}", "e".repeat(300)),
    ]
}

#[test]
fn pain001_of_each_means_kind_is_valid() {
    let Some((pain, _)) = schemas() else { return };
    let names = names();
    type MakeMeans = fn(&str) -> Means;
    let batches: [(MeansKind, MakeMeans); 3] = [
        (MeansKind::Bank, bank),
        (MeansKind::Wallet, wallet),
        (MeansKind::Cash, cash),
    ];
    for (kind, make) in batches {
        let means: Vec<Means> = names.iter().map(|n| make(n)).collect();
        let xml = pain001(kind, &means);
        let text = String::from_utf8(xml.clone()).unwrap();
        assert!(
            text.contains("فاطمة الزهراء"),
            "Arabic names are written as UTF-8 text"
        );
        assert!(
            text.contains("&amp; Fils &lt;SARL&gt;"),
            "names are escaped"
        );
        assert!(
            !text.contains(&"e".repeat(140)),
            "a long name is cut to 140 characters"
        );
        if let Err(e) = xmllint(&pain, &xml) {
            panic!("{kind} pain.001 refused by the schema:\n{e}\n{text}");
        }
    }
}

#[test]
fn camt054_is_valid() {
    let Some((_, camt)) = schemas() else { return };
    let lines = vec![
        AnswerLine {
            line: 0,
            end_to_end_id: "SANAD-P000001".into(),
            amount: mad(35_000),
            outcome: Outcome::Paid,
            booked_on: Some(date!(2026 - 01 - 11)),
        },
        AnswerLine {
            line: 0,
            end_to_end_id: "SANAD-P000002".into(),
            amount: mad(36_005),
            outcome: Outcome::Failed {
                reason_code: "AC04".into(),
                reason: "compte clôturé — الحساب مغلق; ".repeat(8),
            },
            booked_on: None,
        },
        AnswerLine {
            line: 0,
            end_to_end_id: "SANAD-P000003".into(),
            amount: mad(1),
            outcome: Outcome::Reversed {
                reason_code: "BENEFICIARY-DECEASED".into(),
                reason: "returned by the agency".into(),
            },
            booked_on: Some(date!(2026 - 01 - 20)),
        },
    ];
    let header = NotificationHeader {
        message_id: "CAMT-2026-01-11-0001".into(),
        created_at: datetime!(2026-01-11 18:00 UTC),
        account: "011780000012345678901297".into(),
    };
    let xml = write_camt054(Vec::new(), &header, &lines).unwrap();
    if let Err(e) = xmllint(&camt, &xml) {
        panic!(
            "camt.054 refused by the schema:\n{e}\n{}",
            String::from_utf8_lossy(&xml)
        );
    }
}

#[test]
fn the_check_can_fail() {
    let Some((pain, camt)) = schemas() else {
        return;
    };
    let xml = String::from_utf8(pain001(MeansKind::Bank, &[bank("Aicha")])).unwrap();
    let broken = xml.replacen(
        "<MsgId>SANAD-B000123</MsgId>",
        &format!("<MsgId>{}</MsgId>", "X".repeat(36)),
        1,
    );
    assert_ne!(broken, xml);
    assert!(
        xmllint(&pain, broken.as_bytes()).is_err(),
        "a 36-character MsgId passed"
    );
    assert!(
        xmllint(&camt, xml.as_bytes()).is_err(),
        "a pain.001 passed as a camt.054"
    );
}
