//! `sanad outbox …`: the notification worker and the queue's figures.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sanad_app::outbox::{
    EmailAddress, HttpSmsSender, Outbox, OutboxStore, Password, Senders, SmtpConfig, SmtpSender,
    WorkerConfig,
};

use crate::settings::Settings;

#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// Send the queued notifications: claim a batch under a lease, send each message, record it.
    /// Without a provider for a channel its messages are recorded as sent with one log line
    /// (never the recipient or the text).
    Drain(DrainArgs),
    /// The queue's figures (queued, in flight, sent, failed, dead, oldest waiting) and the latest
    /// dead messages.
    Stats,
}

#[derive(clap::Args)]
pub struct DrainArgs {
    /// Send what is due now, then exit.
    #[arg(long, conflicts_with = "until_done")]
    pub once: bool,
    /// Keep going until no message is queued, in flight or waiting for a retry (dead ones aside),
    /// waiting out other workers' leases; then exit.
    #[arg(long)]
    pub until_done: bool,
    /// SMTP relay for e-mail, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", requires = "from")]
    pub smtp: Option<String>,
    /// The sender address of e-mail.
    #[arg(long, value_name = "ADDR", requires = "smtp")]
    pub from: Option<String>,
    /// Require STARTTLS on the SMTP connection.
    #[arg(long, requires = "smtp")]
    pub smtp_starttls: bool,
    /// SMTP user name; the password is read from SANAD_SMTP_PASSWORD.
    #[arg(long, value_name = "USER", requires = "smtp")]
    pub smtp_user: Option<String>,
    /// HTTP SMS gateway: POST {to, text, idempotency_key} with an Idempotency-Key header.
    #[arg(long, value_name = "URL")]
    pub sms_url: Option<String>,
    /// Messages claimed at a time.
    #[arg(long, default_value_t = 100)]
    pub batch: u32,
    /// Seconds a claim holds its messages (a killed worker's messages wait this long).
    #[arg(long, default_value_t = 120)]
    pub lease_secs: u64,
    /// Sends in progress at once: also the most messages in doubt if this worker is killed.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// Opens the outbox port with the database's checked data key. The key is checked by
/// `open_keyed` (a key the database does not record is refused before anything is read), then
/// read again from the same file for the outbox's connections.
async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn OutboxStore>> {
    let opened = crate::commands::open_keyed(settings, true).await?;
    let key_file = opened.data_key.0.clone();
    drop(opened);
    let cipher = sanad_app::crypto::DataCipher::load(&key_file)?
        .with_context(|| format!("the data key file {} is gone", key_file.display()))?;
    let database = sanad_storage::Database::connect(&settings.database_url).await?;
    Ok(database.outbox(Arc::new(cipher)))
}

fn senders(args: &DrainArgs) -> anyhow::Result<Senders> {
    let mut senders = Senders::default();
    if let (Some(relay), Some(from)) = (&args.smtp, &args.from) {
        let (host, port) = relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            .with_context(|| format!("--smtp {relay}: expected HOST:PORT"))?;
        let from = EmailAddress::parse(from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
        let mut config = SmtpConfig::new(host, port, from);
        config.starttls = args.smtp_starttls;
        config.connections = u32::try_from(args.concurrency.max(1)).unwrap_or(8);
        if let Some(user) = &args.smtp_user {
            let Ok(password) = std::env::var("SANAD_SMTP_PASSWORD") else {
                bail!("--smtp-user needs the password in SANAD_SMTP_PASSWORD");
            };
            config.credentials = Some((user.clone(), Password(password)));
        }
        senders.email = Arc::new(SmtpSender::new(&config)?);
    }
    if let Some(url) = &args.sms_url {
        senders.sms = Arc::new(HttpSmsSender::new(url, Duration::from_secs(10))?);
    }
    Ok(senders)
}

pub async fn run(settings: &Settings, command: &OutboxCommand) -> anyhow::Result<()> {
    match command {
        OutboxCommand::Drain(args) => drain(settings, args).await,
        OutboxCommand::Stats => stats(settings).await,
    }
}

async fn drain(settings: &Settings, args: &DrainArgs) -> anyhow::Result<()> {
    let store = open(settings).await?;
    let lease = Duration::from_secs(args.lease_secs.max(1));
    let config = WorkerConfig {
        batch: args.batch.max(1),
        lease,
        concurrency: args.concurrency.max(1),
        // A send is not started in the last quarter of a lease (the providers time out sooner).
        send_margin: lease / 4,
        ..WorkerConfig::default()
    };
    let outbox = Outbox::new(store.clone(), senders(args)?).with_config(config);
    tracing::info!(
        worker = %outbox.worker(),
        email.provider = if args.smtp.is_some() { "smtp" } else { "log" },
        sms.provider = if args.sms_url.is_some() { "http-sms" } else { "log" },
        "outbox worker started"
    );
    let report = if args.once {
        outbox.drain().await?
    } else {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until_done = args.until_done;
        let watcher = {
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)), if until_done => {
                            match store.stats().await {
                                Ok(s) if s.queued + s.in_flight + s.failed == 0 => break,
                                _ => {}
                            }
                        }
                    }
                }
                let _ = stop.send(true);
            })
        };
        let report = outbox.run(stopped).await?;
        watcher.abort();
        report
    };
    println!(
        "outbox: claimed {}, sent {}, retried {}, dead {}, skipped {}, unrecorded {}",
        report.claimed, report.sent, report.retried, report.dead, report.skipped, report.unrecorded
    );
    Ok(())
}

async fn stats(settings: &Settings) -> anyhow::Result<()> {
    let store = open(settings).await?;
    let s = store.stats().await?;
    let now = time::OffsetDateTime::now_utc();
    println!("| queued | in flight | sent | failed (to retry) | dead | oldest waiting |");
    println!("|-------:|----------:|-----:|------------------:|-----:|---------------:|");
    println!(
        "| {} | {} | {} | {} | {} | {} |",
        s.queued,
        s.in_flight,
        s.sent,
        s.failed,
        s.dead,
        s.oldest_age(now)
            .map(|d| format!("{} s", d.as_secs()))
            .unwrap_or_else(|| "-".into())
    );
    let dead = store.dead_messages(20).await?;
    if !dead.is_empty() {
        println!();
        println!("latest dead messages:");
        println!("| id | channel | template | about | tries | last error |");
        println!("|---:|---------|----------|-------|------:|------------|");
        for m in dead {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                m.id,
                m.channel,
                m.template,
                m.business_ref.as_deref().unwrap_or("-"),
                m.attempts,
                m.last_error.as_deref().unwrap_or("-").replace('|', "/")
            );
        }
    }
    Ok(())
}
