//! `sanad`: the single social window in one binary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod commands;
mod dedup_explain;
mod outbox;
mod payments;
mod progress;
mod requests;
mod settings;
mod targeting;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sanad",
    version,
    about = "Sanad — the single social window (guichet social unique)"
)]
struct Cli {
    /// Configuration file (default: ./sanad.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database: sqlite://PATH (default sqlite://sanad.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API under /api/v1, documentation at /api/v1/docs/).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply the database migrations and load the territorial division.
    Migrate,
    /// Create (or reuse) a demo database with a synthetic population and serve it on 127.0.0.1.
    Demo {
        /// Port to listen on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Households to generate when the demo database is empty.
        #[arg(long, default_value_t = 20_000)]
        households: u64,
        /// Set everything up, print the accounts, and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Generate a synthetic population (households.csv, persons.csv, consumption.csv, survey.csv and,
    /// with duplicates, truth.csv).
    Gen(commands::GenArgs),
    /// Import households and persons from CSV or XLSX files; all or nothing unless --skip-invalid.
    Import(commands::ImportArgs),
    /// Export the registry to households.csv and persons.csv.
    Export {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Why the data leaves the registry (national ids and phones in clear): kept in the audit
        /// trail and the access log with the operator's name.
        #[arg(long)]
        purpose: String,
    },
    /// Find persons registered twice: over the registry (pairs go to the review queue) or over a
    /// CSV file with a column mapping.
    Dedup(commands::DedupArgs),
    /// Write a consistent copy of the database (SQLite file, or pg_dump archive for PostgreSQL).
    Backup {
        /// The backup file to create.
        #[arg(long)]
        out: PathBuf,
        /// Why the copy is made (default: "backup"): kept in the audit trail and the access log.
        #[arg(long, default_value = "backup")]
        purpose: String,
    },
    /// Restore a backup into the configured database, which must not hold a registry yet.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Accounts and API keys.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The index (proxy means test): fit a model, import and activate it, rescore the registry
    /// (`--all`), try a model before activating it, measure targeting errors, explain a household.
    Score(targeting::ScoreArgs),
    /// Programmes: define them, count what a rule admits, enrol the eligible, list enrolments.
    Programme {
        #[command(subcommand)]
        command: targeting::ProgrammeCommand,
    },
    /// Payment cycles: compute the entitlements of a month, approve them (a second operator).
    Cycle(payments::CycleArgs),
    /// Payments: how households are paid, the files for providers, their answers.
    Pay(payments::PayArgs),
    /// AMO-Tadamon adhesions: the file for the insurer and its answer.
    Adhesion(payments::AdhesionArgs),
    /// E-service requests: the escalation pass, the delays per step.
    Requests(requests::RequestsArgs),
    /// Notifications by SMS and e-mail: drain the outbox, read its figures.
    Outbox {
        #[command(subcommand)]
        command: outbox::OutboxCommand,
    },
    /// Benchmarks that print their figures.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit log's Merkle tree from the events, check every signed tree head (and
    /// the old chain's checkpoints), name the first altered, missing or reordered event, and count
    /// the events waiting for integration. Reads only.
    Verify,
    /// Fold the committed events into the tree now and sign its head (the server does it every
    /// `integrate_ms`).
    #[command(alias = "checkpoint")]
    Integrate,
    /// Print the inclusion proof of an event as a JSON bundle for `sanad-tlog-verify`.
    Prove {
        /// The event's sequence number.
        #[arg(
            long,
            conflicts_with = "household",
            required_unless_present = "household"
        )]
        seq: Option<i64>,
        /// The registration (or import) of this household.
        #[arg(long)]
        household: Option<String>,
        /// Write the bundle here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the consistency proof between two signed tree heads as a JSON bundle.
    Consistency {
        /// The size of the older head.
        #[arg(long)]
        old: u64,
        /// The size of the newer head (default: the latest).
        #[arg(long)]
        new: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create or reset an account; prints a generated password unless one is given.
    CreateUser {
        #[arg(long)]
        username: String,
        /// citizen, agent, supervisor, manager, auditor, admin or partner.
        #[arg(long)]
        role: String,
        /// Territories the account works in: HCP codes of regions, provinces or communes,
        /// `;`-separated (default: the whole country).
        #[arg(long, default_value = "")]
        territories: String,
        /// A citizen's own household.
        #[arg(long, value_name = "HOUSEHOLD_ID")]
        household: Option<String>,
        /// Read the password from this environment variable instead of generating one.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
    },
    /// Issue an API key for an account (printed once; only its hash is stored).
    CreateApiKey {
        #[arg(long)]
        username: String,
        /// Scopes of the key (repeat); default: everything the account's role allows.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Revoke an API key by its id (printed when it was created).
    RevokeApiKey {
        #[arg(long)]
        key_id: String,
    },
    /// Reseal every national id and phone under a new data key, in one transaction (run it again
    /// after a crash); prints what to change in the configuration.
    RotateDataKey {
        /// The new key file (created when missing).
        #[arg(long, value_name = "FILE")]
        new_key: PathBuf,
    },
    /// Sign from now on with a new audit key; it endorses the old one, so earlier checkpoints
    /// still verify.
    RotateAuditKey {
        /// The new key file (created when missing).
        #[arg(long, value_name = "FILE")]
        new_key: PathBuf,
    },
    /// Sign new documents with a new certificate key; the old public key stays published, so
    /// documents signed before still verify.
    RotateCertificateKey {
        /// The new key file (created when missing).
        #[arg(long, value_name = "FILE")]
        new_key: PathBuf,
    },
    /// List the keys the database records (fingerprints, active or retired) and the fingerprints
    /// of the configured key files.
    ShowKeys,
    /// Delete access-log entries older than a number of days (recorded in the audit trail).
    PruneAccessLog {
        /// Days to keep (at least 1).
        #[arg(long)]
        keep_days: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match settings::Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    init_tracing(&settings.log, settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    settings.bind = bind;
                }
                commands::serve(&settings).await.map(|_| ExitCode::SUCCESS)
            }
            Command::Migrate => commands::migrate(&settings)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Demo {
                port,
                households,
                no_serve,
            } => commands::demo(&mut settings, port, households, !no_serve)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Gen(args) => commands::generate(&args).map(|_| ExitCode::SUCCESS),
            Command::Import(args) => commands::import(&settings, &args).await,
            Command::Export { out, purpose } => commands::export(&settings, &out, &purpose)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Dedup(args) => commands::dedup(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Backup { out, purpose } => commands::backup(&settings, &out, &purpose)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Restore { from } => commands::restore(&settings, &from)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Audit { command } => match command {
                AuditCommand::Verify => commands::audit_verify(&settings).await,
                AuditCommand::Integrate => commands::audit_integrate(&settings)
                    .await
                    .map(|_| ExitCode::SUCCESS),
                AuditCommand::Prove {
                    seq,
                    household,
                    out,
                } => commands::audit_prove(&settings, seq, household.as_deref(), out.as_deref())
                    .await
                    .map(|_| ExitCode::SUCCESS),
                AuditCommand::Consistency { old, new, out } => {
                    commands::audit_consistency(&settings, old, new, out.as_deref())
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
            },
            Command::Admin { command } => match command {
                AdminCommand::CreateUser {
                    username,
                    role,
                    territories,
                    household,
                    password_env,
                } => commands::create_user(
                    &settings,
                    &username,
                    &role,
                    &territories,
                    household.as_deref(),
                    password_env.as_deref(),
                )
                .await
                .map(|_| ExitCode::SUCCESS),
                AdminCommand::CreateApiKey { username, scopes } => {
                    commands::create_api_key(&settings, &username, &scopes)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
                AdminCommand::RevokeApiKey { key_id } => {
                    commands::revoke_api_key(&settings, &key_id)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
                AdminCommand::RotateDataKey { new_key } => {
                    commands::rotate_data_key(&settings, &new_key)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
                AdminCommand::RotateAuditKey { new_key } => {
                    commands::rotate_audit_key(&settings, &new_key)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
                AdminCommand::RotateCertificateKey { new_key } => {
                    commands::rotate_certificate_key(&settings, &new_key)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
                AdminCommand::ShowKeys => commands::show_keys(&settings)
                    .await
                    .map(|_| ExitCode::SUCCESS),
                AdminCommand::PruneAccessLog { keep_days } => {
                    commands::prune_access_log(&settings, keep_days)
                        .await
                        .map(|_| ExitCode::SUCCESS)
                }
            },
            Command::Requests(args) => requests::run(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Score(args) => targeting::score(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Programme { command } => targeting::programme(&settings, &command)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Cycle(args) => payments::cycle(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Pay(args) => payments::pay(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Adhesion(args) => payments::adhesion(&settings, &args)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Outbox { command } => outbox::run(&settings, &command)
                .await
                .map(|_| ExitCode::SUCCESS),
            Command::Bench { command } => bench::run(command).await.map(|_| ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            // A key the database does not know is refused with its own code: nothing was done.
            match e.downcast_ref::<sanad_app::keyring::KeyError>() {
                Some(k) if k.is_refusal() => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// Log lines go to standard error: text by default, coloured only on a terminal (a file or a
/// pipe gets no escape codes), or one JSON object per line with the event's dotted field names
/// at the top level beside `timestamp`, `level` and `message`, and the enclosing spans' fields
/// under `span`/`spans`.
fn init_tracing(filter: &str, format: settings::LogFormat) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        settings::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        settings::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}
