//! The pages in a real browser: the demo is started on a free port, then the stories of
//! `crates/web/browser` drive Debian's headless Chromium with playwright-core and check every page
//! with axe-core. Screenshots at 360 px and 1280 px land in `target/browser-shots/`.
//!
//! Needs `/usr/bin/chromium` (Debian's package) and `npm ci --prefix crates/web/browser`; without
//! them the test says so and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_pages_pass_their_stories_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_dir = root.join("crates/web/browser");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !std::path::Path::new(&chromium).exists() {
        Some("Debian's chromium (apt-get install chromium)")
    } else if !browser_dir.join("node_modules/playwright-core").exists() {
        Some("the npm packages (npm ci --prefix crates/web/browser)")
    } else {
        None
    };
    if let Some(what) = missing {
        assert!(!ci, "the browser stories need {what}");
        eprintln!("browser stories skipped: {what} is missing");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let port = free_port();
    let sanad = env!("CARGO_BIN_EXE_sanad");
    let mut child = Command::new(sanad)
        .args(["demo", "--households", "2000", "--port", &port.to_string()])
        .env("SANAD_DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);

    // The demo prints one line per account: role, username, password, scope.
    let mut accounts: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let roles = [
        "citizen",
        "agent",
        "supervisor",
        "manager",
        "auditor",
        "admin",
        "partner",
    ];
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 3 && roles.contains(&words[0]) && words[1].starts_with("demo-") {
            accounts.insert(
                words[0].to_string(),
                serde_json::json!({"username": words[1], "password": words[2]}),
            );
        }
        if line.contains("Try:") {
            break;
        }
    }
    assert!(
        accounts.len() >= 6,
        "the demo printed its accounts: {accounts:?}"
    );

    // A second manager, to approve the cycles the first one prepares.
    let status = Command::new(sanad)
        .args([
            "admin",
            "create-user",
            "--username",
            "demo-manager-2",
            "--role",
            "manager",
            "--password-env",
            "SANAD_TEST_PASSWORD",
        ])
        .env("SANAD_DATABASE_URL", &url)
        .env("SANAD_TEST_PASSWORD", "second manager pass")
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    accounts.insert(
        "manager2".into(),
        serde_json::json!({"username": "demo-manager-2", "password": "second manager pass"}),
    );

    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the demo server did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let shots = root.join("target/browser-shots");
    let status = Command::new("node")
        .arg(browser_dir.join("run.mjs"))
        .env("SANAD_URL", format!("http://127.0.0.1:{port}"))
        .env("SANAD_ACCOUNTS", serde_json::to_string(&accounts).unwrap())
        .env("SANAD_SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .status()
        .unwrap();
    drop(server);
    assert!(status.success(), "a browser story failed (see above)");
}
