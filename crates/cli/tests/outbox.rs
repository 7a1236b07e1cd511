//! The outbox worker as operators run it, `sanad outbox drain`, on SQLite and PostgreSQL: killed
//! with SIGKILL while it sends 2,000 e-mails to an SMTP server started here, then started again,
//! nothing is lost and every message arrives (distinct Message-IDs); a worker killed exactly
//! between the server's acceptance and its own record resends that one message with the same
//! Message-ID (the in-doubt case, counted as one raw double); and its log never names a
//! recipient.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sanad_app::outbox::{
    EmailAddress, FollowUpCode, IdempotencyKey, NewMessage, OutboxStore, Params, Recipient,
    SmtpSink, Template,
};
use sanad_domain::{Lang, PhoneNumber};
use sanad_storage::testkit;

const FROM: &str = "notifications@sanad.example.ma";
const CONCURRENCY: usize = 8;

struct Db {
    url: String,
    keys: tempfile::TempDir,
    _file: Option<tempfile::TempDir>,
    pg: Option<testkit::TestDb>,
}

fn sqlite() -> Db {
    let file = tempfile::tempdir().unwrap();
    Db {
        url: format!("sqlite://{}", file.path().join("sanad.db").display()),
        keys: tempfile::tempdir().unwrap(),
        _file: Some(file),
        pg: None,
    }
}

async fn postgres() -> Option<Db> {
    let pg = testkit::postgres_empty().await?;
    Some(Db {
        url: pg.url.clone(),
        keys: tempfile::tempdir().unwrap(),
        _file: None,
        pg: Some(pg),
    })
}

impl Db {
    fn sanad(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_sanad"));
        c.env_remove("SANAD_DATABASE_URL")
            .env_remove("SANAD_DATA_KEY_FILE")
            .env_remove("SANAD_AUDIT_KEY_FILE")
            .env_remove("SANAD_CRASH_AT")
            .env("SANAD_KEY_DIR", self.keys.path())
            .env("SANAD_LOG", "warn")
            .args(["--database-url", &self.url])
            .args(args)
            .kill_on_drop(true);
        c
    }

    /// Migrates through the binary (which creates the keys), then opens the outbox with its key.
    async fn outbox(&self) -> Arc<dyn OutboxStore> {
        let o = self.sanad(&["migrate"]).output().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let key: PathBuf = self.keys.path().join("data.key");
        let cipher = sanad_app::crypto::DataCipher::load(&key).unwrap().unwrap();
        sanad_storage::Database::connect(&self.url)
            .await
            .unwrap()
            .outbox(Arc::new(cipher))
    }

    async fn cleanup(self) {
        if let Some(pg) = self.pg {
            pg.cleanup().await;
        }
    }
}

fn email(n: usize) -> NewMessage {
    NewMessage::new(
        Recipient::Email(EmailAddress::parse(&format!("citizen{n}@example.ma")).unwrap()),
        Template::RequestReceived,
        Lang::ALL[n % 3],
        Params::new(
            &format!("DM-2026-{n:06}"),
            None,
            Some(FollowUpCode::parse(&format!("Q{n:05}")).unwrap()),
        )
        .unwrap(),
        IdempotencyKey::parse(&format!("request:{n}:received")).unwrap(),
        Some(format!("request:{n}")),
    )
    .unwrap()
}

async fn enqueue(store: &Arc<dyn OutboxStore>, range: std::ops::Range<usize>) {
    let now = time::OffsetDateTime::now_utc();
    let mut writers = tokio::task::JoinSet::new();
    for first in 0..16 {
        let (store, range) = (store.clone(), range.clone());
        writers.spawn(async move {
            for n in range.skip(first).step_by(16) {
                store.enqueue(&email(n), now).await.unwrap();
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
}

fn drain_args(smtp: std::net::SocketAddr, concurrency: usize) -> Vec<String> {
    [
        "outbox",
        "drain",
        "--until-done",
        "--smtp",
        &smtp.to_string(),
        "--from",
        FROM,
        "--lease-secs",
        "2",
        "--concurrency",
        &concurrency.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Message-IDs delivered (distinct), raw deliveries, and the messages never delivered.
fn tally(sink: &SmtpSink, messages: usize) -> (HashSet<String>, usize, usize) {
    let deliveries = sink.deliveries();
    let distinct: HashSet<String> = deliveries
        .iter()
        .map(|d| d.message_id.clone().unwrap())
        .collect();
    let lost = (0..messages)
        .filter(|n| {
            !distinct.contains(&sanad_app::outbox::message_id(
                &format!("request:{n}:received"),
                "sanad.example.ma",
            ))
        })
        .count();
    (distinct, deliveries.len(), lost)
}

async fn killed_mid_drain_loses_nothing(db: Db) {
    const N: usize = 2_000;
    let store = db.outbox().await;
    enqueue(&store, 0..N).await;
    let sink = SmtpSink::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let args = drain_args(sink.addr(), CONCURRENCY);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut worker = db.sanad(&args).spawn().unwrap();
    while sink.count() < 700 {
        assert!(
            worker.try_wait().unwrap().is_none(),
            "the worker stopped early"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    worker.kill().await.unwrap(); // SIGKILL
    let at_kill = sink.count();
    let o = db.sanad(&args).output().await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let (distinct, raw, lost) = tally(&sink, N);
    eprintln!(
        "killed after {at_kill} deliveries; raw deliveries {raw}, distinct {}, raw doubles {}, lost {lost}",
        distinct.len(),
        raw - distinct.len()
    );
    assert_eq!(lost, 0, "nothing lost");
    assert_eq!(distinct.len(), N, "every message delivered");
    assert!(
        raw - distinct.len() <= CONCURRENCY,
        "only the messages in doubt at the kill may arrive twice: {raw} raw"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (
            stats.sent,
            stats.queued,
            stats.in_flight,
            stats.failed,
            stats.dead
        ),
        (N as u64, 0, 0, 0, 0)
    );
    db.cleanup().await;
}

/// Killed between the server's `250` and its own record: that message is sent again, with the
/// same Message-ID, and nothing else is.
async fn the_message_in_doubt_is_resent_with_its_message_id(db: Db) {
    const N: usize = 60;
    let store = db.outbox().await;
    enqueue(&store, 0..N).await;
    let sink = SmtpSink::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let args = drain_args(sink.addr(), 1);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = db
        .sanad(&args)
        .env("SANAD_CRASH_AT", "outbox.after_send:25")
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), None, "killed at the armed point");
    assert_eq!(sink.count(), 25);
    let in_doubt = sink.deliveries()[24].message_id.clone().unwrap();
    let o = db.sanad(&args).output().await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (distinct, raw, lost) = tally(&sink, N);
    assert_eq!((lost, distinct.len(), raw), (0, N, N + 1));
    let twice: Vec<String> = sink
        .deliveries()
        .iter()
        .filter_map(|d| d.message_id.clone())
        .filter(|id| *id == in_doubt)
        .collect();
    assert_eq!(twice.len(), 2, "the one in doubt, and only it, twice");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_worker_killed_mid_drain() {
    killed_mid_drain_loses_nothing(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_worker_killed_mid_drain() {
    let Some(db) = postgres().await else { return };
    killed_mid_drain_loses_nothing(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_doubt_resend() {
    the_message_in_doubt_is_resent_with_its_message_id(sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_in_doubt_resend() {
    let Some(db) = postgres().await else { return };
    the_message_in_doubt_is_resent_with_its_message_id(db).await;
}

fn assert_no_recipient(log: &str) {
    for needle in ["citizen", "example.ma", "612000", "Q0000"] {
        assert!(!log.contains(needle), "`{needle}` in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_log_names_no_recipient() {
    let db = sqlite();
    let store = db.outbox().await;
    enqueue(&store, 0..3).await;
    let now = time::OffsetDateTime::now_utc();
    let sms = NewMessage::new(
        Recipient::Sms(PhoneNumber::parse("0612000001").unwrap()),
        Template::RequestStatus,
        Lang::Ar,
        Params::new("DM-2026-000001", Some("approved"), None).unwrap(),
        IdempotencyKey::parse("request:1:approved").unwrap(),
        None,
    )
    .unwrap();
    store.enqueue(&sms, now).await.unwrap();
    // No provider: the log line of each message.
    let o = db
        .sanad(&["outbox", "drain", "--once"])
        .env("SANAD_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert!(o.status.success());
    let log = String::from_utf8_lossy(&o.stderr);
    assert_eq!(log.matches("notification recorded").count(), 4, "{log}");
    assert_no_recipient(&log);

    // A relay that is down: the failures are logged, without their recipient.
    enqueue(&store, 3..6).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = db
        .sanad(&[
            "outbox",
            "drain",
            "--once",
            "--smtp",
            &format!("127.0.0.1:{port}"),
            "--from",
            FROM,
        ])
        .env("SANAD_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert!(o.status.success());
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("was not sent"), "{log}");
    assert_no_recipient(&log);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.sent, stats.failed), (4, 3), "kept for a retry");
    let o = db.sanad(&["outbox", "stats"]).output().await.unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("| 0 | 0 | 4 | 3 | 0 |"), "{out}");
    assert_no_recipient(&out);
}
