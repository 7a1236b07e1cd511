//! `sanad bench outbox`: the notification outbox under a crash. E-mails are queued in a fresh
//! database, `sanad outbox drain` sends them to a recording SMTP server started here, is killed
//! with SIGKILL once part of them arrived, and is started again until the queue is empty. The
//! server counts every message it accepted (raw) and every distinct `Message-ID`: lost is what
//! never arrived, raw doubles what arrived twice (the messages in doubt at the kill, resent with
//! the same Message-ID).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sanad_app::outbox::{
    EmailAddress, FollowUpCode, IdempotencyKey, NewMessage, OutboxStore, Params, Recipient,
    SmtpSink, Template,
};
use sanad_domain::Lang;

#[derive(clap::Args)]
pub struct OutboxArgs {
    /// E-mails to queue and drain.
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Also on PostgreSQL: the server to create a fresh database on (dropped afterwards).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Only PostgreSQL (with --postgres).
    #[arg(long, requires = "postgres")]
    pub skip_sqlite: bool,
    /// Kill the worker once this share of the messages has arrived.
    #[arg(long, default_value_t = 0.5)]
    pub kill_at: f64,
    /// Sends in progress at once in the worker (the most messages in doubt at the kill).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The worker's lease, in seconds (what the restarted worker waits for the killed one's
    /// messages).
    #[arg(long, default_value_t = 3)]
    pub lease_secs: u64,
}

const FROM: &str = "notifications@bench.sanad.example";

struct Figures {
    backend: &'static str,
    messages: usize,
    enqueue_s: f64,
    first_s: f64,
    first_count: usize,
    total_s: f64,
    lost: usize,
    raw: usize,
    distinct: usize,
    sent_in_db: u64,
}

pub async fn run(args: OutboxArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    if !args.skip_sqlite {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        rows.push(measure("sqlite", &url, dir.path(), &args).await?);
    }
    if let Some(admin) = &args.postgres {
        let (url, cleanup) = super::fresh_pg_database(admin).await?;
        let dir = tempfile::tempdir()?;
        let row = measure("postgres", &url, dir.path(), &args).await;
        cleanup.await;
        rows.push(row?);
    }
    println!();
    println!(
        "outbox benchmark: e-mails to a local SMTP server, the worker killed (SIGKILL) after {:.0} % arrived, then restarted; concurrency {}, lease {} s",
        args.kill_at * 100.0,
        args.concurrency,
        args.lease_secs
    );
    println!(
        "| backend  | messages | enqueue msg/s | drain msg/s (before the kill) | all delivered in s (with the lease wait) | lost | raw doubles | distinct delivered | sent in the table |"
    );
    println!(
        "|----------|---------:|--------------:|------------------------------:|-----------------------------------------:|-----:|------------:|-------------------:|------------------:|"
    );
    for r in &rows {
        println!(
            "| {:<8} | {} | {:.0} | {:.0} | {:.1} | {} | {} | {} | {} |",
            r.backend,
            r.messages,
            r.messages as f64 / r.enqueue_s.max(1e-9),
            r.first_count as f64 / r.first_s.max(1e-9),
            r.total_s,
            r.lost,
            r.raw - r.distinct,
            r.distinct,
            r.sent_in_db
        );
    }
    Ok(())
}

fn message(n: usize) -> anyhow::Result<NewMessage> {
    let lang = Lang::ALL[n % 3];
    Ok(NewMessage::new(
        Recipient::Email(EmailAddress::parse(&format!("citizen{n}@example.ma"))?),
        Template::RequestReceived,
        lang,
        Params::new(
            &format!("DM-2026-{n:06}"),
            None,
            Some(FollowUpCode::parse(&format!("C{n:05}"))?),
        )?,
        IdempotencyKey::parse(&format!("bench:{n}"))?,
        Some(format!("request:{n}")),
    )?)
}

fn drain_command(
    url: &str,
    keys: &Path,
    smtp: std::net::SocketAddr,
    args: &OutboxArgs,
) -> tokio::process::Command {
    let mut c =
        tokio::process::Command::new(std::env::current_exe().unwrap_or_else(|_| "sanad".into()));
    c.env("SANAD_KEY_DIR", keys)
        .env("SANAD_LOG", "warn")
        .args(["--database-url", url, "outbox", "drain", "--until-done"])
        .args(["--smtp", &smtp.to_string(), "--from", FROM])
        .args(["--concurrency", &args.concurrency.to_string()])
        .args(["--lease-secs", &args.lease_secs.to_string()])
        .kill_on_drop(true);
    c
}

async fn measure(
    backend: &'static str,
    url: &str,
    keys: &Path,
    args: &OutboxArgs,
) -> anyhow::Result<Figures> {
    // The worker's own command creates the keys and the tables; this process then queues with
    // the same data key.
    let status =
        tokio::process::Command::new(std::env::current_exe().unwrap_or_else(|_| "sanad".into()))
            .env("SANAD_KEY_DIR", keys)
            .env("SANAD_LOG", "warn")
            .args(["--database-url", url, "migrate"])
            .status()
            .await?;
    anyhow::ensure!(status.success(), "sanad migrate failed");
    let cipher = sanad_app::crypto::DataCipher::load(&keys.join("data.key"))?
        .context("no data key after migrate")?;
    let database = sanad_storage::Database::connect(url).await?;
    let store: Arc<dyn OutboxStore> = database.outbox(Arc::new(cipher));

    eprintln!("{backend}: queueing {} e-mails…", args.messages);
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    // 64 writers at once: the SQLite writer commits them in groups, PostgreSQL in parallel.
    let mut writers = tokio::task::JoinSet::new();
    for first in 0..64 {
        let (store, count) = (store.clone(), args.messages);
        writers.spawn(async move {
            for n in (first..count).step_by(64) {
                store.enqueue(&message(n)?, now).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done??;
    }
    let enqueue_s = started.elapsed().as_secs_f64();

    let sink = SmtpSink::start(([127, 0, 0, 1], 0).into()).await?;
    let kill_at = ((args.messages as f64 * args.kill_at) as usize).clamp(1, args.messages);
    eprintln!("{backend}: draining; SIGKILL after {kill_at} deliveries…");
    let started = Instant::now();
    let mut worker = drain_command(url, keys, sink.addr(), args).spawn()?;
    loop {
        if sink.count() >= kill_at {
            break;
        }
        if let Some(status) = worker.try_wait()? {
            anyhow::bail!("the worker stopped before it was killed: {status}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    worker.kill().await?;
    let first_s = started.elapsed().as_secs_f64();
    let first_count = sink.count();
    eprintln!("{backend}: killed after {first_count} deliveries; restarting…");
    let status = drain_command(url, keys, sink.addr(), args).status().await?;
    anyhow::ensure!(status.success(), "the restarted worker failed");
    let total_s = started.elapsed().as_secs_f64();

    let deliveries = sink.deliveries();
    let distinct: HashSet<String> = deliveries
        .iter()
        .filter_map(|d| d.message_id.clone())
        .collect();
    let domain = EmailAddress::parse(FROM)?.domain().to_string();
    let lost = (0..args.messages)
        .filter(|n| {
            !distinct.contains(&sanad_app::outbox::message_id(
                &format!("bench:{n}"),
                &domain,
            ))
        })
        .count();
    let stats = store.stats().await?;
    Ok(Figures {
        backend,
        messages: args.messages,
        enqueue_s,
        first_s,
        first_count,
        total_s,
        lost,
        raw: deliveries.len(),
        distinct: distinct.len(),
        sent_in_db: stats.sent,
    })
}
