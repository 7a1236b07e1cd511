//! The server killed with SIGKILL in the middle of a mixed load (reads and registrations from a
//! few concurrent clients), on both backends: after a restart every household answered 201 is
//! there, every read answered 200 has its access-log entry, nothing is written twice, and the
//! audit trail verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sanad_storage::testkit;

const USER: &str = "load-admin";
const PASSWORD: &str = "load-test-password";

fn key_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sanad-load-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sanad(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanad"));
    c.env("SANAD_DATABASE_URL", url)
        .env("SANAD_LOG", "warn")
        .env("SANAD_DATA_KEY_FILE", key_dir().join("data.key"))
        .env("SANAD_AUDIT_KEY_FILE", key_dir().join("audit.key"))
        .env_remove("RUST_LOG");
    c
}

fn run_ok(url: &str, args: &[&str]) {
    let o = sanad(url)
        .args(args)
        .env("SANAD_TEST_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "sanad {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

fn serve(url: &str) -> Server {
    let mut child = sanad(url)
        .env("SANAD_LOG", "warn")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server stopped before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Server { child, addr }
}

fn authorization() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

/// One request on its own connection: the status and the body, or an error once the server is
/// gone.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\nX-Purpose: load test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        authorization(),
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("cut short"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Err(std::io::Error::other("chunked body"));
    }
    let value = serde_json::from_str(body).map_err(|_| std::io::Error::other("cut short"))?;
    Ok((status, value))
}

/// A name made of letters from a number (names take no digits).
fn letters(mut n: u64) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

fn household(n: u64) -> String {
    serde_json::json!({
        "household": {
            "commune_code": "03.231.01.0",
            "dwelling_type": "apartment",
            "tenure": "tenant",
            "rooms": 2,
            "water_spending": "40",
            "electricity_spending": "90",
            "phone_spending": "30",
            "gas_spending": "40",
            "declared_income": "2000",
            "members": [
                {"relation": "head", "first_name": format!("Load{}", letters(n)), "last_name": "Tester", "sex": "M",
                 "birth_date": "1980-01-01", "schooling": "primary", "occupation": "self_employed"},
                {"relation": "spouse", "first_name": format!("Spouse{}", letters(n)), "last_name": "Tester", "sex": "F",
                 "birth_date": "1982-01-01", "schooling": "primary", "occupation": "homemaker"}
            ]
        },
        "reason": "load test"
    })
    .to_string()
}

/// What the clients were told before the kill.
#[derive(Default)]
struct Answered {
    /// Households answered 201.
    created: Vec<String>,
    /// Reads answered 200, per household.
    reads: HashMap<String, u64>,
    /// Registrations sent (answered or not).
    writes_sent: u64,
    /// Reads sent (answered or not), per household.
    reads_sent: HashMap<String, u64>,
}

fn all_households(addr: SocketAddr) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/v1/households?limit=500{after}");
        let (status, page) = call(addr, "GET", &path, None).unwrap();
        assert_eq!(status, 200, "{page}");
        for h in page["items"].as_array().unwrap() {
            ids.push(h["id"].as_str().unwrap().to_string());
        }
        match page["next_after"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return ids,
        }
    }
}

/// Access-log entries per record read, for the load test's purpose.
fn access_counts(addr: SocketAddr) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    let mut after = 0i64;
    loop {
        let path = format!("/api/v1/access-log?actor={USER}&after={after}&limit=500");
        let (status, page) = call(addr, "GET", &path, None).unwrap();
        assert_eq!(status, 200, "{page}");
        for e in page["items"].as_array().unwrap() {
            if e["purpose"] == "load test" {
                *counts
                    .entry(e["entity_id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return counts,
        }
    }
}

/// Clients register and read until the server dies under them.
fn load_until_killed(server: &mut Server, known: &[String], round: u64) -> Answered {
    let answered = Arc::new(Mutex::new(Answered::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let answered = answered.clone();
            let stop = stop.clone();
            let known = known.to_vec();
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut rng = seed ^ (c + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    n += 1;
                    if rng % 10 < 3 {
                        answered.lock().unwrap().writes_sent += 1;
                        let body = household(round * 1_000_000 + c * 100_000 + n);
                        if let Ok((201, h)) = call(addr, "POST", "/api/v1/households", Some(&body))
                        {
                            answered
                                .lock()
                                .unwrap()
                                .created
                                .push(h["id"].as_str().unwrap().to_string());
                        }
                    } else {
                        let id = {
                            let a = answered.lock().unwrap();
                            let pool = known.len() + a.created.len();
                            let i = (rng >> 8) as usize % pool;
                            known
                                .get(i)
                                .cloned()
                                .unwrap_or_else(|| a.created[i - known.len()].clone())
                        };
                        *answered
                            .lock()
                            .unwrap()
                            .reads_sent
                            .entry(id.clone())
                            .or_default() += 1;
                        let path = format!("/api/v1/households/{id}");
                        if let Ok((200, _)) = call(addr, "GET", &path, None) {
                            *answered.lock().unwrap().reads.entry(id).or_default() += 1;
                        }
                    }
                }
            })
        })
        .collect();
    // A random moment of the load.
    std::thread::sleep(Duration::from_millis(400 + seed % 1200));
    server.child.kill().unwrap(); // SIGKILL
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), None, "the server was killed, not stopped");
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    Arc::try_unwrap(answered)
        .ok()
        .unwrap()
        .into_inner()
        .unwrap()
}

fn kill_9_under_load(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run_ok(
        url,
        &[
            "gen",
            "--households",
            "40",
            "--seed",
            "5",
            "--out",
            data.to_str().unwrap(),
        ],
    );
    run_ok(url, &["import", data.to_str().unwrap()]);
    run_ok(
        url,
        &[
            "admin",
            "create-user",
            "--username",
            USER,
            "--role",
            "admin",
            "--password-env",
            "SANAD_TEST_PASSWORD",
        ],
    );
    let mut server = serve(url);
    let mut known = all_households(server.addr);
    assert_eq!(known.len(), 40);
    let mut expected_reads: HashMap<String, u64> = HashMap::new();
    let mut max_reads: HashMap<String, u64> = HashMap::new();
    // The listing is a read of each household.
    for id in &known {
        expected_reads.insert(id.clone(), 1);
        max_reads.insert(id.clone(), 1);
    }
    let mut created_total = 0usize;
    let mut writes_sent = 0u64;
    for round in 0..3 {
        let started = Instant::now();
        let answered = load_until_killed(&mut server, &known, round);
        assert!(
            !answered.created.is_empty() && !answered.reads.is_empty(),
            "round {round}: the load ran ({:?}) before the kill",
            started.elapsed()
        );
        server = serve(url);
        for id in &answered.created {
            let (status, _) = call(
                server.addr,
                "GET",
                &format!("/api/v1/households/{id}"),
                None,
            )
            .unwrap();
            assert_eq!(
                status, 200,
                "round {round}: household {id} was answered 201 and is lost"
            );
            // The check itself is a read.
            *expected_reads.entry(id.clone()).or_default() += 1;
            *max_reads.entry(id.clone()).or_default() += 1;
        }
        for (id, n) in &answered.reads {
            *expected_reads.entry(id.clone()).or_default() += n;
        }
        for (id, n) in &answered.reads_sent {
            *max_reads.entry(id.clone()).or_default() += n;
        }
        created_total += answered.created.len();
        writes_sent += answered.writes_sent;
        let logged = access_counts(server.addr);
        for (id, n) in &expected_reads {
            let got = logged.get(id).copied().unwrap_or(0);
            assert!(
                got >= *n,
                "round {round}: {n} reads of {id} answered, {got} in the access log"
            );
            assert!(
                got <= max_reads[id],
                "round {round}: {got} access-log entries for {} reads of {id} sent",
                max_reads[id]
            );
        }
        let now = all_households(server.addr);
        let mut unique = now.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), now.len(), "a household listed twice");
        assert!(
            now.len() >= 40 + created_total && now.len() as u64 <= 40 + writes_sent,
            "round {round}: {} households for {created_total} answered and {writes_sent} sent",
            now.len()
        );
        // The listing is a read too.
        for id in &now {
            *expected_reads.entry(id.clone()).or_default() += 1;
            *max_reads.entry(id.clone()).or_default() += 1;
        }
        known = now;
        let o = sanad(url).args(["audit", "verify"]).output().unwrap();
        assert!(
            o.status.success(),
            "round {round}: audit verify: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
}

#[test]
fn kill_9_under_mixed_load_loses_no_answered_write_or_read_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_9_under_load(&format!(
        "sqlite://{}",
        dir.path().join("load.db").display()
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_under_mixed_load_loses_no_answered_write_or_read_on_postgres() {
    let Some(db) = testkit::postgres_empty().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || kill_9_under_load(&url))
        .await
        .unwrap();
    db.cleanup().await;
}
