//! The notification outbox on both backends: one message per idempotency key, recipients sealed,
//! claims that never overlap (two workers, two connections), an expired lease claimed again and
//! the old holder's outcome refused, back-off then dead after the last try, the figures; then the
//! providers: e-mail to an SMTP server started here (Message-ID, recipient, subject; down, then up,
//! delivered once) and SMS to an HTTP gateway started here (5xx retried, 4xx given up).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sanad_app::crypto::DataCipher;
use sanad_app::outbox::{
    EmailAddress, FollowUpCode, HttpSmsSender, IdempotencyKey, Message, MessageState, NewMessage,
    Outbox, OutboxStore, Params, Recipient, Rendered, RetryPolicy, SendError, Sender, Senders,
    SmtpConfig, SmtpSender, SmtpSink, Template, WorkerConfig,
};
use sanad_domain::{Lang, PhoneNumber};
use sanad_storage::testkit::{self, TestDb};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

fn outbox_of(db: &TestDb) -> Arc<dyn OutboxStore> {
    match (&db.sqlite, &db.postgres) {
        (Some(s), _) => Arc::new(s.clone()),
        (_, Some(p)) => Arc::new(p.clone()),
        _ => unreachable!(),
    }
}

/// Another process's view of the same database: its own connections (and, on SQLite, its own
/// writer).
async fn second_handle(db: &TestDb) -> Arc<dyn OutboxStore> {
    let database = sanad_storage::Database::connect(&db.url).await.unwrap();
    database.outbox(Arc::new(DataCipher::from_master(&db.data_key)))
}

fn email(n: usize, key: &str) -> NewMessage {
    NewMessage::new(
        Recipient::Email(EmailAddress::parse(&format!("citoyen{n}@example.ma")).unwrap()),
        Template::RequestReceived,
        Lang::En,
        Params::new(
            &format!("DM-2026-{n:06}"),
            None,
            Some(FollowUpCode::parse("K7Q2X9").unwrap()),
        )
        .unwrap(),
        IdempotencyKey::parse(key).unwrap(),
        Some(format!("request:{n}")),
    )
    .unwrap()
}

fn sms(n: usize, key: &str) -> NewMessage {
    NewMessage::new(
        Recipient::Sms(PhoneNumber::parse(&format!("06{:08}", 12_000_000 + n)).unwrap()),
        Template::RequestStatus,
        Lang::Fr,
        Params::new(&format!("DM-2026-{n:06}"), Some("approved"), None).unwrap(),
        IdempotencyKey::parse(key).unwrap(),
        Some(format!("request:{n}")),
    )
    .unwrap()
}

/// A clock the test moves.
fn clock() -> (Arc<Mutex<OffsetDateTime>>, sanad_app::registry::Clock) {
    let now = Arc::new(Mutex::new(T0));
    let read = now.clone();
    (now, Arc::new(move || *read.lock().unwrap()))
}

fn advance(now: &Mutex<OffsetDateTime>, by: Duration) {
    let mut t = now.lock().unwrap();
    *t += by;
}

async fn stored_columns(db: &TestDb) -> Vec<String> {
    let sql = "SELECT recipient_sealed || ' ' || COALESCE(code_sealed, '') || ' ' || params FROM outbox_messages";
    match (&db.sqlite, &db.postgres) {
        (Some(s), _) => sqlx::query_scalar(sql).fetch_all(s.pool()).await.unwrap(),
        (_, Some(p)) => sqlx::query_scalar(sql).fetch_all(p.pool()).await.unwrap(),
        _ => unreachable!(),
    }
}

async fn one_message_per_key_and_the_recipient_is_sealed(db: &TestDb) {
    let store = outbox_of(db);
    let first = store
        .enqueue(&email(1, "request:1:received"), T0)
        .await
        .unwrap();
    let again = store
        .enqueue(&email(1, "request:1:received"), T0)
        .await
        .unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    let other = store
        .enqueue(&sms(2, "request:2:approved"), T0)
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.sent), (2, 0));
    assert_eq!(stats.oldest_unsent, Some(T0));
    for row in stored_columns(db).await {
        assert!(!row.contains("citoyen1@example.ma"), "{row}");
        assert!(!row.contains("612000002"), "{row}");
        assert!(
            !row.contains("K7Q2X9"),
            "the follow-up code is sealed: {row}"
        );
    }
    // The claim opens them again for the provider.
    let claimed = store
        .claim("w1", 10, Duration::from_secs(60), T0)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let m = claimed.iter().find(|m| m.id == first.id).unwrap();
    assert_eq!(
        m.recipient.as_ref().map(Recipient::address),
        Some("citoyen1@example.ma")
    );
    assert_eq!(
        m.params.as_ref().and_then(|p| p.code.clone()),
        Some(FollowUpCode::parse("K7Q2X9").unwrap())
    );
    assert_eq!(m.attempts, 1);
    assert_eq!(m.lease_until, T0 + Duration::from_secs(60));
    assert_eq!(m.business_ref.as_deref(), Some("request:1"));
}

async fn two_workers_never_hold_the_same_message(db: &TestDb) {
    let a = outbox_of(db);
    let b = second_handle(db).await;
    for n in 0..300 {
        a.enqueue(&email(n, &format!("k{n}")), T0).await.unwrap();
    }
    let grab = |store: Arc<dyn OutboxStore>, worker: &'static str| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim(worker, 7, Duration::from_secs(60), T0)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|m| m.id));
            }
        })
    };
    let (ours, theirs) = tokio::join!(grab(a.clone(), "w1"), grab(b.clone(), "w2"));
    let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
    let all: HashSet<i64> = ours.iter().chain(&theirs).copied().collect();
    assert_eq!(ours.len() + theirs.len(), 300, "each message claimed once");
    assert_eq!(all.len(), 300);
    // Only the holder records the outcome.
    let id = ours[0];
    assert!(!b.mark_sent(id, "w2", "smtp:x", T0).await.unwrap());
    assert!(a.mark_sent(id, "w1", "smtp:x", T0).await.unwrap());
    assert!(!a.mark_sent(id, "w1", "smtp:x", T0).await.unwrap(), "once");
    let stats = a.stats().await.unwrap();
    assert_eq!((stats.in_flight, stats.sent, stats.queued), (299, 1, 0));
}

async fn an_expired_lease_is_claimed_again(db: &TestDb) {
    let store = outbox_of(db);
    let m = store.enqueue(&sms(1, "s1"), T0).await.unwrap();
    let lease = Duration::from_secs(10);
    assert_eq!(store.claim("w1", 10, lease, T0).await.unwrap().len(), 1);
    let early = T0 + Duration::from_secs(5);
    assert!(
        store
            .claim("w2", 10, lease, early)
            .await
            .unwrap()
            .is_empty()
    );
    let late = T0 + Duration::from_secs(11);
    let again = store.claim("w2", 10, lease, late).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (m.id, 2));
    assert!(
        !store.mark_sent(m.id, "w1", "late", late).await.unwrap(),
        "the first worker lost it"
    );
    assert!(
        !store
            .mark_failed(m.id, "w1", "late", None, late)
            .await
            .unwrap()
    );
    assert!(store.mark_sent(m.id, "w2", "ok", late).await.unwrap());
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Sent);
    assert_eq!(seen.provider_ref.as_deref(), Some("ok"));
}

/// A provider that answers from a script, then accepts.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<String, SendError>>>,
    calls: Mutex<Vec<String>>,
}

#[async_trait]
impl Sender for Scripted {
    fn provider(&self) -> &'static str {
        "scripted"
    }

    async fn send(
        &self,
        message: &Message,
        _recipient: &Recipient,
        _text: &Rendered,
    ) -> Result<String, SendError> {
        self.calls
            .lock()
            .unwrap()
            .push(message.idempotency_key.clone());
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok("ok".into()))
    }
}

fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        first: Duration::from_secs(10),
        max: Duration::from_secs(60),
        max_attempts: 3,
    }
}

async fn failures_back_off_then_the_message_is_dead(db: &TestDb) {
    let store = outbox_of(db);
    let provider = Arc::new(Scripted::default());
    for _ in 0..3 {
        provider
            .answers
            .lock()
            .unwrap()
            .push_back(Err(SendError::Retry("relay busy".into())));
    }
    let (now, clock) = clock();
    let outbox = Outbox::new(
        store.clone(),
        Senders {
            sms: provider.clone(),
            email: provider.clone(),
        },
    )
    .with_policy(quick_policy())
    .with_clock(clock);
    let m = outbox.enqueue(&sms(1, "s1")).await.unwrap();
    let r = outbox.drain().await.unwrap();
    assert_eq!((r.claimed, r.retried), (1, 1));
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Failed);
    assert_eq!(seen.last_error.as_deref(), Some("relay busy"));
    assert_eq!(seen.due_at, T0 + Duration::from_secs(10));

    advance(&now, Duration::from_secs(5));
    assert_eq!(
        outbox.drain().await.unwrap().claimed,
        0,
        "not before its time"
    );
    advance(&now, Duration::from_secs(5));
    assert_eq!(outbox.drain().await.unwrap().retried, 1, "second try");
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.due_at, T0 + Duration::from_secs(10 + 20), "doubled");
    advance(&now, Duration::from_secs(20));
    assert_eq!(outbox.drain().await.unwrap().dead, 1, "third and last try");
    advance(&now, Duration::from_secs(3600));
    assert_eq!(
        outbox.drain().await.unwrap().claimed,
        0,
        "a dead message stays dead"
    );
    assert_eq!(provider.calls.lock().unwrap().len(), 3);

    // Refused for good: dead at once.
    provider
        .answers
        .lock()
        .unwrap()
        .push_back(Err(SendError::Permanent("no such number".into())));
    outbox.enqueue(&sms(2, "s2")).await.unwrap();
    assert_eq!(outbox.drain().await.unwrap().dead, 1);
    outbox.enqueue(&sms(3, "s3")).await.unwrap();
    assert_eq!(outbox.drain().await.unwrap().sent, 1);

    let stats = outbox.stats().await.unwrap();
    assert_eq!(
        (stats.dead, stats.sent, stats.queued, stats.failed),
        (2, 1, 0, 0)
    );
    assert_eq!(stats.oldest_unsent, None);
    let dead = store.dead_messages(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].last_error.as_deref(), Some("no such number"));
    assert_eq!(dead[1].attempts, 3);
    assert_eq!(dead[1].business_ref.as_deref(), Some("request:1"));
}

fn smtp_to(port: u16) -> SmtpSender {
    let mut config = SmtpConfig::new(
        "127.0.0.1",
        port,
        EmailAddress::parse("notifications@sanad.example.ma").unwrap(),
    );
    config.timeout = Duration::from_secs(2);
    SmtpSender::new(&config).unwrap()
}

async fn e_mail_arrives_once_even_when_the_relay_was_down(db: &TestDb) {
    let store = outbox_of(db);
    // A free port with nothing behind it: the relay is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (now, clock) = clock();
    let outbox = Outbox::new(
        store.clone(),
        Senders {
            email: Arc::new(smtp_to(port)),
            ..Senders::default()
        },
    )
    .with_policy(quick_policy())
    .with_clock(clock);
    let m = outbox
        .enqueue(&email(7, "request:7:received"))
        .await
        .unwrap();
    assert_eq!(outbox.drain().await.unwrap().retried, 1);
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Failed, "kept, with its error");
    let error = seen.last_error.unwrap();
    assert!(error.starts_with("SMTP"), "{error}");
    assert!(!error.contains("citoyen7"), "{error}");

    let sink = SmtpSink::start(([127, 0, 0, 1], port).into())
        .await
        .unwrap();
    advance(&now, Duration::from_secs(10));
    let r = outbox.drain().await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    advance(&now, Duration::from_secs(3600));
    assert_eq!(outbox.drain().await.unwrap().claimed, 0);
    let got = sink.deliveries();
    assert_eq!(got.len(), 1, "delivered once");
    let d = &got[0];
    assert_eq!(
        d.message_id.as_deref(),
        Some(sanad_app::outbox::message_id("request:7:received", "sanad.example.ma").as_str())
    );
    assert_eq!(d.rcpt_to, ["citoyen7@example.ma"]);
    assert_eq!(d.mail_from, "notifications@sanad.example.ma");
    assert_eq!(d.subject.as_deref(), Some("Sanad: request DM-2026-000007"));
    assert!(d.data.contains("Follow-up code: K7Q2X9"), "{}", d.data);
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Sent);
    assert!(seen.provider_ref.unwrap().starts_with("smtp:"));
}

/// One request as the gateway saw it.
#[derive(Debug, Clone)]
struct GatewayCall {
    idempotency_header: Option<String>,
    body: serde_json::Value,
}

/// An HTTP SMS gateway answering each request with the next status of its script (then 200).
async fn gateway(
    statuses: Vec<u16>,
) -> (
    String,
    Arc<Mutex<Vec<GatewayCall>>>,
    tokio::task::JoinHandle<()>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let calls: Arc<Mutex<Vec<GatewayCall>>> = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(statuses)));
    let seen = calls.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let (head, body) = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = socket.read(&mut chunk).await.unwrap();
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[end + 4..end + 4 + len].to_vec());
                }
            };
            let header = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("idempotency-key")
                    .then(|| v.trim().to_string())
            });
            seen.lock().unwrap().push(GatewayCall {
                idempotency_header: header,
                body: serde_json::from_slice(&body).unwrap(),
            });
            let status = script.lock().unwrap().pop_front().unwrap_or(200);
            let answer = if status == 200 {
                r#"{"id":"gw-1"}"#
            } else {
                "no"
            };
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (url, calls, task)
}

async fn sms_gateway_errors_are_retried_or_final(db: &TestDb) {
    let store = outbox_of(db);
    let (url, calls, task) = gateway(vec![503, 200, 400]).await;
    let (now, clock) = clock();
    let outbox = Outbox::new(
        store.clone(),
        Senders {
            sms: Arc::new(HttpSmsSender::new(&url, Duration::from_secs(2)).unwrap()),
            ..Senders::default()
        },
    )
    .with_policy(quick_policy())
    .with_clock(clock);
    let m = outbox.enqueue(&sms(5, "request:5:approved")).await.unwrap();
    assert_eq!(outbox.drain().await.unwrap().retried, 1, "503: later");
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Failed);
    assert!(seen.last_error.unwrap().contains("503"));
    advance(&now, Duration::from_secs(10));
    assert_eq!(outbox.drain().await.unwrap().sent, 1);
    let seen = store.message(m.id).await.unwrap().unwrap();
    assert_eq!(seen.provider_ref.as_deref(), Some("http-sms:gw-1"));
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        for c in calls.iter() {
            assert_eq!(c.idempotency_header.as_deref(), Some("request:5:approved"));
            assert_eq!(c.body["idempotency_key"], "request:5:approved");
            assert_eq!(c.body["to"], "+212612000005");
            assert_eq!(c.body["text"], "Sanad: demande DM-2026-000005: acceptée.");
        }
    }
    let bad = outbox.enqueue(&sms(6, "request:6:approved")).await.unwrap();
    assert_eq!(outbox.drain().await.unwrap().dead, 1, "400: never");
    let seen = store.message(bad.id).await.unwrap().unwrap();
    assert_eq!(seen.state, MessageState::Dead);
    assert!(seen.last_error.unwrap().contains("400"));
    task.abort();
}

async fn a_lease_about_to_end_starts_no_send(db: &TestDb) {
    let store = outbox_of(db);
    let provider = Arc::new(Scripted::default());
    let (_now, clock) = clock();
    let outbox = Outbox::new(
        store.clone(),
        Senders {
            sms: provider.clone(),
            email: provider.clone(),
        },
    )
    .with_config(WorkerConfig {
        lease: Duration::from_secs(5),
        send_margin: Duration::from_secs(10),
        ..WorkerConfig::default()
    })
    .with_clock(clock);
    outbox.enqueue(&sms(1, "s1")).await.unwrap();
    let r = outbox.drain().await.unwrap();
    assert_eq!((r.claimed, r.skipped, r.sent), (1, 1, 0));
    assert!(provider.calls.lock().unwrap().is_empty());
}

macro_rules! on_both {
    ($name:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let db = testkit::sqlite().await;
            $name(&db).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = testkit::postgres().await else {
                return;
            };
            $name(&db).await;
            db.cleanup().await;
        }
    };
}

on_both!(
    one_message_per_key_and_the_recipient_is_sealed,
    sqlite_one_message_per_key,
    postgres_one_message_per_key
);
on_both!(
    two_workers_never_hold_the_same_message,
    sqlite_claims_exclude_each_other,
    postgres_claims_exclude_each_other
);
on_both!(
    an_expired_lease_is_claimed_again,
    sqlite_expired_lease,
    postgres_expired_lease
);
on_both!(
    failures_back_off_then_the_message_is_dead,
    sqlite_back_off_and_dead,
    postgres_back_off_and_dead
);
on_both!(
    e_mail_arrives_once_even_when_the_relay_was_down,
    sqlite_smtp,
    postgres_smtp
);
on_both!(
    sms_gateway_errors_are_retried_or_final,
    sqlite_http_sms,
    postgres_http_sms
);
on_both!(
    a_lease_about_to_end_starts_no_send,
    sqlite_lease_margin,
    postgres_lease_margin
);
