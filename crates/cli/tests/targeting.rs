//! Targeting from the command line: the survey the generator writes fits a model; a rescoring run
//! killed with SIGKILL half-way resumes where it stopped, and loses and doubles nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn sanad(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanad"));
    c.env_remove("SANAD_DATABASE_URL")
        .env_remove("SANAD_DATA_KEY_FILE")
        .env_remove("SANAD_AUDIT_KEY_FILE")
        .env_remove("SANAD_KEY_DIR")
        .env("SANAD_LOG", "warn")
        .args(["--database-url", url])
        .args(args);
    c
}

fn run(url: &str, args: &[&str]) -> Output {
    let o = sanad(url, args).output().unwrap();
    assert!(
        o.status.success(),
        "sanad {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Households with a recorded score, read through the port.
fn scored(url: &str) -> usize {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let database = sanad_storage::Database::connect(url).await.unwrap();
        let ports = database.ports(Arc::new(sanad_app::crypto::DataCipher::random().unwrap()));
        let mut n = 0;
        let mut after = None;
        loop {
            let rows = ports.targeting.index_rows(after, 100_000).await.unwrap();
            if rows.is_empty() {
                return n;
            }
            n += rows.len();
            after = rows.last().map(|r| r.household_id);
        }
    })
}

fn generate(dir: &Path, households: u64) {
    let o = Command::new(env!("CARGO_BIN_EXE_sanad"))
        .args([
            "gen",
            "--households",
            &households.to_string(),
            "--seed",
            "5",
            "--out",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_generated_survey_fits_a_model_that_scores_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 30_000);
    let model = dir.path().join("model.toml");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let o = run(
        &url,
        &[
            "score",
            "fit",
            "--survey",
            data.join("survey.csv").to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--id",
            "pmt-test",
        ],
    );
    let report = stdout(&o);
    assert!(report.contains("R²"), "{report}");
    assert!(
        std::fs::read_to_string(&model)
            .unwrap()
            .contains("pmt-test")
    );
    // A survey with a bad row is refused, naming it.
    let bad = dir.path().join("bad.csv");
    let text = std::fs::read_to_string(data.join("survey.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen(',', ",x", 1);
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = sanad(&url, &["score", "fit", "--survey", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 4") || err.contains("row 4"), "{err}");

    // Imported into a registry with the model and the programmes in force, every household is
    // scored, and the targeting errors can be read against the truth.
    run(&url, &["programme", "define-shipped"]);
    run(
        &url,
        &["score", "import", model.to_str().unwrap(), "--activate"],
    );
    run(&url, &["import", data.to_str().unwrap()]);
    assert_eq!(scored(&url), 30_000);
    let o = run(
        &url,
        &[
            "score",
            "evaluate",
            "--truth",
            data.join("consumption.csv").to_str().unwrap(),
        ],
    );
    let evaluation = stdout(&o);
    assert!(evaluation.contains("exclusion"), "{evaluation}");
    assert!(evaluation.contains("asd-family"), "{evaluation}");
    let o = run(
        &url,
        &["programme", "count", "--rule", "household.index <= 9.5"],
    );
    assert!(
        stdout(&o).contains("of 30000 households admitted"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_rescoring_run_killed_half_way_resumes_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 60_000);
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    // The registry first, targeting after: nothing is scored yet.
    run(&url, &["import", data.to_str().unwrap()]);
    let model = dir.path().join("model.toml");
    std::fs::write(&model, include_str!("../../targeting/models/pmt-demo.toml")).unwrap();
    run(&url, &["programme", "define-shipped"]);
    run(
        &url,
        &[
            "score",
            "import",
            model.to_str().unwrap(),
            "--reason",
            "test",
        ],
    );
    let o = run(
        &url,
        &[
            "score",
            "activate",
            "--model",
            "pmt-demo",
            "--version",
            "1",
            "--no-rescore",
        ],
    );
    assert!(stdout(&o).contains("active"));
    let before = scored(&url);
    assert_eq!(before, 0, "imported before any model: nothing scored");

    let mut child = sanad(&url, &["score", "--all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut at_kill = 0;
    for _ in 0..6000 {
        at_kill = scored(&url);
        if at_kill > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(at_kill > 0, "no batch was committed within 30 s");
    assert_eq!(status.code(), None, "the run was still going when killed");
    assert!(at_kill < 60_000, "killed before its last batch");

    // Rerun: it resumes after the last committed batch and finishes.
    let o = run(&url, &["score", "--all"]);
    let text = stdout(&o);
    assert!(text.contains("resuming an interrupted run"), "{text}");
    assert_eq!(scored(&url), 60_000);
    // From the start again: every enrolment already follows its decision, so a full run finds
    // nothing to change (none lost, none doubled), and the audit log verifies.
    let o = run(&url, &["score", "--all", "--restart"]);
    let text = stdout(&o);
    assert!(text.contains("rescored 60000 households"), "{text}");
    assert!(text.contains(" 0 enrolment changes"), "{text}");
    run(&url, &["audit", "verify"]);
}
