//! Logs an operator can read and a citizen can trust: `sanad serve` with JSON logs at debug level
//! through a whole story (register a household with a national id, a phone and names in both
//! scripts, read it, search it by name and by phone, a failed login) writes one JSON object per
//! line and never a national id, a phone or a name; text logs written to a file carry no colour
//! escape codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

fn sanad(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanad"));
    c.current_dir(dir)
        .env_remove("SANAD_LOG")
        .env_remove("SANAD_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env(
            "SANAD_DATABASE_URL",
            format!("sqlite://{}", dir.join("sanad.db").display()),
        )
        .env("SANAD_DATA_KEY_FILE", dir.join("data.key"))
        .env("SANAD_AUDIT_KEY_FILE", dir.join("audit.key"));
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(auth) = auth {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Bodies of this server come in one piece, chunked or not.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A server with its standard error in `log`, answering once /api/v1/health does.
fn start(dir: &Path, log: &Path, envs: &[(&str, &str)]) -> (Child, u16) {
    let port = free_port();
    let mut cmd = sanad(dir);
    cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http(port, "GET", "/api/v1/health", None, None).0 == 200
        {
            return (child, port);
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the server stopped ({status}): {}",
                std::fs::read_to_string(log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("the server did not answer");
}

fn create_agent(dir: &Path) -> String {
    let out = sanad(dir)
        .args([
            "admin",
            "create-user",
            "--username",
            "agent-logs",
            "--role",
            "agent",
        ])
        .env("SANAD_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The generated password is the last word printed.
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .last()
        .unwrap()
        .to_string()
}

#[test]
fn json_logs_of_a_whole_story_hold_no_personal_data_and_text_logs_no_escape_codes() {
    let dir = tempfile::tempdir().unwrap();
    let password = create_agent(dir.path());
    let log = dir.path().join("serve.json.log");
    let (mut server, port) = start(
        dir.path(),
        &log,
        &[("SANAD_LOG", "debug"), ("SANAD_LOG_FORMAT", "json")],
    );
    let agent = basic("agent-logs", &password);

    // What the story uses, in every form it is written: none of it may reach the log.
    let national_id = "QZ 73914";
    let phone_as_typed = "06 61 23 45 78";
    let phone_searched = "0661234578";
    let household = json!({
        "commune_code": "01.511.01.01",
        "address": "Rue Oued Makhazine 17",
        "dwelling_type": "apartment", "tenure": "tenant", "rooms": 3,
        "water_spending": "60", "electricity_spending": "120", "phone_spending": "30",
        "gas_spending": "40", "assets": ["tv"], "declared_income": "2800",
        "members": [
            {"relation": "head", "first_name": "Zineb", "last_name": "Ouazzaniya",
             "first_name_ar": "زينب", "last_name_ar": "الوزانية", "sex": "F",
             "birth_date": "1983-06-14", "national_id": national_id, "phone": phone_as_typed,
             "schooling": "higher", "occupation": "employed"},
            {"relation": "child", "first_name": "Yasmina", "last_name": "Ouazzaniya",
             "first_name_ar": "ياسمينة", "sex": "F", "birth_date": "2014-02-03",
             "schooling": "primary", "occupation": "student"}
        ]
    });
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/households",
        Some(&agent),
        Some(&json!({"household": household, "reason": "walk-in"})),
    );
    assert_eq!(status, 201, "{body}");
    let registered: Value = serde_json::from_str(&body).unwrap();
    let id = registered["id"].as_str().unwrap().to_string();
    assert_eq!(registered["members"][0]["phone"], "+212661234578");

    let (status, _) = http(
        port,
        "GET",
        &format!("/api/v1/households/{id}"),
        Some(&agent),
        None,
    );
    assert_eq!(status, 200);
    let search = |body: Value| {
        let (status, text) = http(
            port,
            "POST",
            "/api/v1/persons/search",
            Some(&agent),
            Some(&body),
        );
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["items"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(search(json!({"q": "zineb ouazzaniya"})), 1);
    assert_eq!(search(json!({"q": "زينب"})), 1);
    assert_eq!(search(json!({"q": national_id})), 1);
    assert_eq!(search(json!({"phone": phone_searched})), 1);
    // A failed login, by the JSON login and by Basic credentials.
    let (status, _) = http(
        port,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "agent-logs", "password": "Zineb-wrong-password"})),
    );
    assert_eq!(status, 401);
    let (status, _) = http(
        port,
        "GET",
        &format!("/api/v1/households/{id}"),
        Some(&basic("agent-logs", "not it")),
        None,
    );
    assert_eq!(status, 401);
    // A refused registration names the field, not its value.
    let mut bad = household.clone();
    bad["members"][0]["phone"] = json!("06 61 23 45 78 99 99");
    let (status, _) = http(
        port,
        "POST",
        "/api/v1/households",
        Some(&agent),
        Some(&json!({"household": bad})),
    );
    assert_eq!(status, 422);
    server.kill().unwrap();
    server.wait().unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 10, "debug logs of a whole story: {text}");
    let mut routes = Vec::new();
    for line in &lines {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
        if let Some(route) = event["span"]["http.route"].as_str() {
            routes.push(route.to_string());
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("\"http.addr\"")),
        "dotted field names stay as they are: {text}"
    );
    assert!(
        routes.iter().any(|r| r == "/api/v1/persons/search"),
        "{routes:?}"
    );

    // The timestamps are left out: their digits can spell a fragment of an id by chance
    // (`03:00:23.739141Z` holds `73914`).
    let without_time = |l: &str| match serde_json::from_str::<Value>(l) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("timestamp");
            }
            v.to_string()
        }
        Err(_) => l.to_string(),
    };
    let lower = lines
        .iter()
        .map(|l| without_time(l))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    let forbidden = [
        national_id,
        "QZ73914",
        "73914",
        phone_as_typed,
        phone_searched,
        "+212661234578",
        "212661234578",
        "661234578",
        "61 23 45 78",
        "Zineb",
        "Ouazzaniya",
        "Yasmina",
        "زينب",
        "الوزانية",
        "ياسمينة",
        "Oued Makhazine",
        "agent-logs",
        "Zineb-wrong-password",
    ];
    for secret in forbidden {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the log holds {secret:?}:\n{}",
            lines
                .iter()
                .filter(|l| without_time(l)
                    .to_lowercase()
                    .contains(&secret.to_lowercase()))
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    // Text logs into a file: no escape codes, at the default format.
    let log = dir.path().join("serve.text.log");
    let (mut server, port) = start(dir.path(), &log, &[("SANAD_LOG", "debug")]);
    let (status, _) = http(
        port,
        "GET",
        &format!("/api/v1/households/{id}"),
        Some(&agent),
        None,
    );
    assert_eq!(status, 200);
    server.kill().unwrap();
    server.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("serving"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a log file: {text:?}"
    );
    assert!(
        serde_json::from_str::<Value>(text.lines().next().unwrap()).is_err(),
        "text by default"
    );
}
