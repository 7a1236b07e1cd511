//! The subcommands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use sanad_app::auth::{api_key_hash, hash_password, random_secret};
use sanad_app::exchange::{self, ImportSource};
use sanad_app::keyring::{self, KeyOrigin};
use sanad_app::store::{Account, Change};
use sanad_app::{KeyringStore, Registry, RegistryStore, Role};
use sanad_storage::Database;

use crate::progress::Bar;
use crate::settings::Settings;

/// The reference date of generated data, so that the same seed gives the same bytes on any day.
pub fn gen_reference_date() -> time::Date {
    time::macros::date!(2026 - 01 - 01)
}

/// A database opened with its keys checked.
pub struct Opened {
    pub registry: Arc<dyn RegistryStore>,
    /// The targeting and programme ports of the same database.
    pub targeting: Arc<dyn sanad_app::TargetingStore>,
    pub programmes: Arc<dyn sanad_app::ProgrammeStore>,
    /// The payments port of the same database.
    pub payments: Arc<dyn sanad_app::payments::PaymentStore>,
    /// The dashboard's aggregates of the same database.
    pub dashboard: Arc<dyn sanad_app::DashboardStore>,
    pub keyring: Arc<dyn KeyringStore>,
    /// The accounts port of the same database.
    pub accounts: Arc<dyn sanad_app::AccountStore>,
    /// The declarations port of the same database.
    pub declarations: Arc<dyn sanad_app::declarations::DeclarationStore>,
    /// The e-service requests port of the same database.
    pub requests: Arc<dyn sanad_app::requests::RequestStore>,
    /// The key of the follow-up secrets' digests, derived from the data key.
    pub requests_pepper: [u8; 32],
    /// The audit key, unless it was optional and its file is missing.
    pub audit_key: Option<ed25519_dalek::SigningKey>,
    /// The data key file and its fingerprint.
    pub data_key: (std::path::PathBuf, String),
    /// The audit key file.
    pub audit_file: std::path::PathBuf,
    /// The documents port of the same database, and the key that signs documents.
    pub certificates: Arc<dyn sanad_app::CertificateStore>,
    pub certificate_key: Arc<sanad_certificates::CertificateKey>,
    /// The public keys that verify documents, current and retired.
    pub certificate_keys: sanad_certificates::KeySet,
}

/// Opens and migrates the database, then checks the data key (and the audit key) given against
/// those the database records, before anything is read or written: a key it does not record is
/// refused (exit code 2); a key file is created only for a database that needs none yet. With
/// `audit_optional`, a missing audit key file is no error (a verifier without the key).
pub async fn open_keyed(settings: &Settings, audit_optional: bool) -> anyhow::Result<Opened> {
    let database = Database::connect(&settings.database_url).await?;
    database.migrate().await?;
    let files = settings.key_files(database.sqlite_path())?;
    let keyring = database.keyring();
    let now = time::OffsetDateTime::now_utc();
    let (cipher, origin) = keyring::open_data_key(
        keyring.as_ref(),
        &files.data,
        files.legacy_data.as_deref(),
        now,
    )
    .await?;
    note_origin(&origin, &files.data, "data");
    let audit = keyring::open_audit_key(
        keyring.as_ref(),
        &files.audit,
        files.legacy_audit.as_deref(),
        !audit_optional,
        now,
    )
    .await?;
    let mut audit_file = files.audit.clone();
    let audit_key = audit.map(|(key, origin)| {
        note_origin(&origin, &files.audit, "audit");
        if let KeyOrigin::Legacy(old) = origin {
            audit_file = old;
        }
        key
    });
    let data_file = match &origin {
        KeyOrigin::Legacy(old) => old.clone(),
        _ => files.data.clone(),
    };
    let certificates = database.certificates();
    let (certificate_key, origin) = sanad_app::certificates::open_certificate_key(
        certificates.as_ref(),
        &files.certificate,
        now,
    )
    .await?;
    note_origin(&origin, &files.certificate, "certificate");
    let certificate_keys =
        sanad_app::certificates::key_set(&certificates.certificate_keys().await?);
    let fingerprint = cipher.fingerprint().to_string();
    let cipher = Arc::new(cipher);
    let declarations = database.declarations(cipher.clone());
    let requests = database.requests(cipher.clone());
    let requests_pepper = sanad_app::requests::pepper_from(&cipher);
    let ports = database.ports(cipher);
    let accounts = database.accounts();
    Ok(Opened {
        accounts,
        declarations,
        requests,
        requests_pepper,
        data_key: (data_file, fingerprint),
        registry: ports.registry,
        targeting: ports.targeting,
        programmes: ports.programmes,
        payments: ports.payments,
        dashboard: ports.dashboard,
        keyring,
        audit_key,
        audit_file,
        certificates,
        certificate_key: Arc::new(certificate_key),
        certificate_keys,
    })
}

fn note_origin(origin: &KeyOrigin, expected: &Path, kind: &str) {
    match origin {
        KeyOrigin::Existing => {}
        KeyOrigin::Created => eprintln!(
            "created the {kind} key file {} (back it up apart from the database: without it {})",
            expected.display(),
            match kind {
                "data" => "the national ids and phones cannot be read",
                "certificate" => "no new document can be issued under this key",
                _ => "new checkpoints cannot be signed",
            }
        ),
        KeyOrigin::Legacy(old) => eprintln!(
            "note: using the {kind} key file {} of an earlier version (this database recognises it); move it to {} or name it with {kind}_key_file",
            old.display(),
            expected.display()
        ),
    }
}

pub async fn open_migrated(settings: &Settings) -> anyhow::Result<Arc<dyn RegistryStore>> {
    Ok(open_keyed(settings, false).await?.registry)
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_migrated(settings).await?;
    eprintln!(
        "migrated {}",
        sanad_storage::redact_url(&settings.database_url)
    );
    Ok(())
}

pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let opened = open_keyed(settings, false).await?;
    let store = opened.registry.clone();
    let key = opened
        .audit_key
        .clone()
        .context("the audit key is required to serve")?;
    let key_public = key.verifying_key();
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(http.addr = %addr, db.backend = store.backend(), "serving");
    // With JSON logs standard error holds log objects only; the `serving` event names the address.
    if settings.log_format == crate::settings::LogFormat::Text {
        eprintln!(
            "Sanad is listening on http://{addr}/ (API documentation: http://{addr}/api/v1/docs/)"
        );
    }
    let registry = Registry::new(store);
    // The registration-time duplicate check trains on the registry in the background; until it is
    // ready, registrations go through without it.
    let loading = registry.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match loading.duplicates().load(loading.store().as_ref()).await {
            Ok(n) => tracing::info!(
                dedup.persons = n,
                duration_ms = started.elapsed().as_millis() as u64,
                "duplicate check ready"
            ),
            Err(e) => tracing::warn!(error = %e, "duplicate check off"),
        }
    });
    // The integrator: folds committed audit events into the tree and signs its head, shortly
    // after commit. On PostgreSQL several servers may run it; one leads at a time.
    let signer = sanad_app::audit::LogSigner::new(key.clone(), &settings.audit_origin);
    let verifier_key = signer.verifier_key();
    let log = registry.store().clone();
    let every = std::time::Duration::from_millis(settings.integrate_ms.max(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match sanad_app::audit::integrate_all(
                log.as_ref(),
                &signer,
                time::OffsetDateTime::now_utc(),
            )
            .await
            {
                Ok((added, _)) => {
                    if added > 0 {
                        tracing::debug!(audit.integrated = added, "audit events integrated");
                    }
                    failing = false;
                }
                // Logged once per failing spell, not every tick.
                Err(e) if !failing => {
                    tracing::error!(error = %e, "audit integration failed");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    });
    if settings.access_log_days > 0 {
        let store = registry.store().clone();
        let keep_days = settings.access_log_days;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
            loop {
                tick.tick().await;
                match sanad_app::audit::prune_access_log(
                    store.as_ref(),
                    keep_days,
                    time::OffsetDateTime::now_utc(),
                    "sanad (retention)",
                )
                .await
                {
                    Ok(n) => tracing::info!(deleted = n, "access-log retention applied"),
                    Err(e) => tracing::error!(error = %e, "access-log retention failed"),
                }
            }
        });
    }
    let targeting = sanad_app::Targeting::new(
        registry.clone(),
        opened.targeting.clone(),
        opened.programmes.clone(),
    )
    .with_settle(sanad_app::targeting::service::SETTLE);
    let engine = targeting.load().await?;
    log_engine(&engine, "targeting ready");
    // A model activated or a programme defined by another process (a second server, the CLI)
    // is in force here within the refresh interval.
    let refresher = targeting.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sanad_app::targeting::service::REFRESH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match refresher.refresh().await {
                Ok(true) => log_engine(
                    &refresher.engine(),
                    "targeting reloaded: the model or the programmes changed",
                ),
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "the targeting engine could not be checked"),
            }
        }
    });
    let payments = sanad_app::payments::Payments::new(
        registry.clone(),
        targeting.clone(),
        opened.payments.clone(),
    );
    let dashboard = sanad_app::Dashboard::new(opened.dashboard.clone(), Some(targeting.clone()));
    // The first dashboard after start-up finds its figures read.
    let warming = dashboard.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.refresh().await {
            tracing::error!(error = %e, "the dashboard's figures could not be read");
        }
    });
    let mut state = sanad_http::AppState::new(registry)
        .with_targeting(targeting)
        .with_payments(payments)
        .with_dashboard(dashboard)
        .with_rate_limits(
            settings.auth_failures_per_minute,
            settings.anonymous_requests_per_minute,
        );
    state.secure_cookies = settings.secure_cookies;
    state.audit_verifier_key = Some(verifier_key);
    state.keyring = Some(opened.keyring.clone());
    state.declarations = Some(sanad_app::declarations::Declarations::new(
        state.registry.clone(),
        opened.declarations.clone(),
    ));
    state.accounts = Some(sanad_app::accounts::Accounts::new(
        opened.registry.clone(),
        opened.accounts.clone(),
    ));
    state.requests = Some(requests_service(
        settings,
        &opened,
        state.registry.clone(),
        state.targeting.clone(),
    )?);
    state.certificates = state
        .requests
        .as_ref()
        .and_then(|r| r.certificates().cloned());
    spawn_escalations(state.requests.clone());
    if let Some(config) = settings.oidc.client()? {
        let oidc = std::sync::Arc::new(
            sanad_http::oidc::Oidc::new(config)
                .map_err(|e| anyhow::anyhow!("invalid OpenID Connect configuration: {e}"))?,
        );
        let warming = oidc.clone();
        tokio::spawn(async move { warming.warm_up().await });
        state.oidc = Some(oidc);
    }
    let app = sanad_http::router(state);
    // A key rotation while serving retires this server's key: it stops (exit code 2) rather than
    // seal new values, or sign checkpoints, under a retired key. Stop the servers before a
    // rotation to close the few seconds between two checks.
    let (retired_tx, mut retired_rx) =
        tokio::sync::watch::channel(None::<(keyring::KeyKind, String)>);
    let keyring = opened.keyring.clone();
    let mine = [
        (keyring::KeyKind::Data, opened.data_key.1.clone()),
        (
            keyring::KeyKind::Audit,
            sanad_app::audit::audit_key_fingerprint(&key_public),
        ),
    ];
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            let Ok(keys) = keyring.installation_keys().await else {
                continue;
            };
            let rotated = mine.iter().find_map(|(kind, fingerprint)| {
                keys.iter()
                    .find(|k| k.kind == *kind && k.active && &k.fingerprint != fingerprint)
                    .map(|k| (*kind, k.fingerprint.clone()))
            });
            if let Some(rotated) = rotated {
                tracing::error!(key.kind = %rotated.0, "a key was rotated: stopping");
                let _ = retired_tx.send(Some(rotated));
                break;
            }
        }
    });
    let mut watch = retired_rx.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = watch.wait_for(|v| v.is_some()) => {}
        }
    })
    .await
    .context("the server stopped")?;
    let rotated = retired_rx.borrow_and_update().clone();
    match rotated {
        Some((kind, recorded)) => {
            let (file, given) = match kind {
                keyring::KeyKind::Data => (&opened.data_key.0, opened.data_key.1.clone()),
                keyring::KeyKind::Audit => (
                    &opened.audit_file,
                    sanad_app::audit::audit_key_fingerprint(&key_public),
                ),
                // Certificate keys are not watched here: an issuance under a retired key is
                // refused by the database itself.
                keyring::KeyKind::Certificate => (
                    &opened.audit_file,
                    opened.certificate_key.key_id().to_string(),
                ),
            };
            Err(keyring::KeyError::Mismatch {
                kind,
                file: file.display().to_string(),
                given: format!("{given} (rotated away while serving)"),
                recorded,
            }
            .into())
        }
        None => Ok(()),
    }
}

#[derive(clap::Args)]
pub struct GenArgs {
    /// Number of households.
    #[arg(long)]
    pub households: u64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Share of persons that get a noisy duplicate record (0 to 0.5); writes truth.csv too.
    #[arg(long, default_value_t = 0.0)]
    pub duplicate_rate: f64,
}

pub fn generate(args: &GenArgs) -> anyhow::Result<()> {
    let config = sanad_synth::GenConfig {
        households: args.households,
        seed: args.seed,
        duplicate_rate: args.duplicate_rate,
        reference_date: gen_reference_date(),
    };
    let bar = indicatif::ProgressBar::new(args.households);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_style(
            indicatif::ProgressStyle::with_template("generating [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} households ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let summary = sanad_synth::generate(&config, &args.out, &|done| bar.set_position(done))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} households, {} persons ({} duplicates) to {} in {:.1} s",
        summary.households,
        summary.persons,
        summary.duplicates,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Directory holding households.csv and persons.csv (or .xlsx).
    pub dir: Option<PathBuf>,
    /// Households file (CSV or XLSX), instead of DIR/households.csv.
    #[arg(long)]
    pub households: Option<PathBuf>,
    /// Persons file (CSV or XLSX), instead of DIR/persons.csv.
    #[arg(long)]
    pub persons: Option<PathBuf>,
    /// Column mapping for other layouts: FIELD=COLUMN (repeat), e.g. --map first_name=PRENOM.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// Write the valid rows and report the others (default: any bad row means nothing is written).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where to write the report of rejected rows.
    #[arg(long, default_value = "import-report.csv")]
    pub report: PathBuf,
    /// Why these records are imported (kept in each household's history).
    #[arg(long, default_value = "import")]
    pub reason: String,
}

pub async fn import(settings: &Settings, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let source = match (&args.dir, &args.households, &args.persons) {
        (_, Some(h), Some(p)) => ImportSource {
            households: h.clone(),
            persons: p.clone(),
            mapping: Default::default(),
        },
        (Some(dir), None, None) => ImportSource::from_dir(dir),
        _ => bail!("give a directory, or both --households FILE and --persons FILE"),
    }
    .with_mapping(&args.map)?;
    let opened = open_keyed(settings, false).await?;
    let store = opened.registry.clone();
    // The engine in force (active model, programmes) is installed in the store, which scores and
    // checks what it imports in the import's own transaction.
    let engine = sanad_app::Targeting::new(
        Registry::new(opened.registry),
        opened.targeting,
        opened.programmes,
    )
    .load()
    .await?;
    let change = Change {
        actor: "import".into(),
        reason: args.reason.clone(),
        at: time::OffsetDateTime::now_utc(),
    };
    let bar = Bar::new();
    let started = std::time::Instant::now();
    let report =
        exchange::import_registry(store.as_ref(), &source, &change, args.skip_invalid, &bar)
            .await?;
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    if !report.errors.is_empty() {
        exchange::write_report(&args.report, &report.errors)?;
        for e in report.errors.iter().take(20) {
            eprintln!("  {e}");
        }
        if report.errors.len() > 20 {
            eprintln!("  … and {} more", report.errors.len() - 20);
        }
        eprintln!(
            "{} row errors; report written to {}",
            report.errors.len(),
            args.report.display()
        );
    }
    if report.errors.is_empty() || args.skip_invalid {
        eprintln!(
            "imported {} households and {} persons in {seconds:.1} s ({:.0} persons/s)",
            report.households_written,
            report.persons_written,
            report.persons_written as f64 / seconds.max(1e-9)
        );
        if report.households_written > 0
            && (engine.index_model().is_some() || !engine.programmes().is_empty())
        {
            eprintln!(
                "each household was scored and checked against {} programmes in the same transaction",
                engine.programmes().len()
            );
        }
    } else {
        eprintln!("nothing was imported (use --skip-invalid to import the valid rows)");
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn log_engine(engine: &sanad_app::targeting::engine::Engine, message: &'static str) {
    tracing::info!(
        targeting.model = engine
            .index_model()
            .map(|m| format!("{}@{}", m.id, m.version))
            .unwrap_or_default(),
        targeting.programmes = engine.programmes().len() as u64,
        "{message}"
    );
}

/// The operator of a command-line disclosure, as the audit trail names them.
fn operator(purpose: &str) -> anyhow::Result<exchange::Disclosure> {
    if purpose.trim().is_empty() {
        bail!("--purpose: say why the data leaves the registry");
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Ok(exchange::Disclosure {
        actor: format!("{user} (sanad cli)"),
        purpose: purpose.trim().chars().take(200).collect(),
        at: time::OffsetDateTime::now_utc(),
    })
}

pub async fn export(settings: &Settings, out: &Path, purpose: &str) -> anyhow::Result<()> {
    let disclosure = operator(purpose)?;
    let store = open_migrated(settings).await?;
    let bar = Bar::new();
    let (households, persons) =
        exchange::export_registry(store.as_ref(), out, &disclosure, &bar).await?;
    bar.finish();
    eprintln!(
        "exported {households} households and {persons} persons to {}",
        out.display()
    );
    Ok(())
}

pub async fn backup(settings: &Settings, out: &Path, purpose: &str) -> anyhow::Result<()> {
    let disclosure = operator(purpose)?;
    if out.exists() {
        bail!(
            "out: a path that does not exist yet; {} does (a backup never overwrites a file)",
            out.display()
        );
    }
    let store = open_migrated(settings).await?;
    // Recorded first, so that the copy carries the record of its own making.
    disclosure.record(store.as_ref(), "registry.backup").await?;
    // Written under a temporary name beside `out`, synced, then linked into place: a backup that
    // fails (or is killed) half-way leaves no file that looks like a backup.
    let mut pending = sanad_app::atomic::PendingFiles::new();
    let temp = pending.reserve(out)?;
    store.backup(&temp).await?;
    pending
        .commit(false)
        .with_context(|| format!("cannot move the backup into place at {}", out.display()))?;
    eprintln!(
        "backed up {} to {} (the audit key file is not in it: keep it apart)",
        sanad_storage::redact_url(&settings.database_url),
        out.display()
    );
    Ok(())
}

pub async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<()> {
    sanad_storage::restore(&settings.database_url, from).await?;
    // Brings an older backup up to the current schema (no key is needed for that).
    let database = Database::connect(&settings.database_url).await?;
    database.migrate().await?;
    eprintln!(
        "restored {} into {}",
        from.display(),
        sanad_storage::redact_url(&settings.database_url)
    );
    // Where the keys go (when the configuration does not say yet, the next command will).
    let Ok(files) = settings.key_files(database.sqlite_path()) else {
        return Ok(());
    };
    if let Some(key) = database
        .certificates()
        .certificate_keys()
        .await?
        .into_iter()
        .find(|k| k.active)
        && !files.certificate.exists()
    {
        eprintln!(
            "its certificate key (key id {}) is not in the backup: put the backed-up installation's key file at {} before issuing documents",
            key.key_id,
            files.certificate.display()
        );
    }
    for key in database.keyring().installation_keys().await? {
        let file = match key.kind {
            keyring::KeyKind::Data => &files.data,
            keyring::KeyKind::Audit => &files.audit,
            keyring::KeyKind::Certificate => &files.certificate,
        };
        if key.active && !file.exists() {
            eprintln!(
                "its {} key (fingerprint {}) is not in the backup: put the backed-up installation's key file at {} before using it",
                key.kind,
                key.fingerprint,
                file.display()
            );
        }
    }
    Ok(())
}

/// The log's signer: the audit key file and the configured origin.
/// The signer of tree heads: the audit key the database recognises, under the configured origin.
fn log_signer(opened: &Opened, settings: &Settings) -> anyhow::Result<sanad_app::audit::LogSigner> {
    let key = opened
        .audit_key
        .clone()
        .context("the audit key is required")?;
    Ok(sanad_app::audit::LogSigner::new(
        key,
        &settings.audit_origin,
    ))
}

fn age(at: time::OffsetDateTime) -> String {
    let secs = (time::OffsetDateTime::now_utc() - at)
        .whole_seconds()
        .max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

pub async fn audit_verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let opened = open_keyed(settings, true).await?;
    let store = opened.registry;
    let trusted = match &opened.audit_key {
        Some(key) => Some(
            sanad_app::audit::trusted_audit_key_bounds(
                opened.keyring.as_ref(),
                &key.verifying_key(),
            )
            .await?,
        ),
        None => None,
    };
    let v = sanad_app::audit::verify_bounded(store.as_ref(), trusted.as_deref()).await?;
    if let Some(problem) = &v.broken {
        eprintln!("audit log BROKEN: {problem}");
        return Ok(ExitCode::from(3));
    }
    println!(
        "audit log intact: {} events; tree of {} leaves, root {}; {} signed tree heads verified{}",
        v.events,
        v.tree_size,
        v.root,
        v.heads,
        match trusted.as_ref().map(|t| t.len()) {
            Some(1) => " against the installation key".to_string(),
            Some(n) => format!(
                " against the installation key and the {} earlier key(s) it endorses",
                n - 1
            ),
            None => " (no key file here: their signatures were not checked)".into(),
        }
    );
    if v.chained > 0 {
        println!(
            "  the first {} events are the old hash chain: its links and {} signed checkpoints verified",
            v.chained, v.checkpoints
        );
    }
    match v.pending.oldest_at {
        Some(oldest) => println!(
            "  {} events committed and waiting for the integrator (the oldest for {}): their hashes verified; `sanad audit integrate` folds them in",
            v.pending.count,
            age(oldest)
        ),
        None => println!("  no event waiting for the integrator"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn audit_integrate(settings: &Settings) -> anyhow::Result<()> {
    let opened = open_keyed(settings, false).await?;
    let signer = log_signer(&opened, settings)?;
    let store = opened.registry;
    let (added, last) =
        sanad_app::audit::integrate_all(store.as_ref(), &signer, time::OffsetDateTime::now_utc())
            .await?;
    match last {
        Some(done) => println!(
            "integrated {added} events: signed tree head of {} leaves, root {}",
            done.head.size, done.head.root
        ),
        None => println!("no event waiting for the integrator"),
    }
    Ok(())
}

fn write_bundle(bundle: &sanad_tlog::bundle::Bundle, out: Option<&Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(bundle)? + "\n";
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

pub async fn audit_prove(
    settings: &Settings,
    seq: Option<i64>,
    household: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let opened = open_keyed(settings, false).await?;
    let signer = log_signer(&opened, settings)?;
    let store = opened.registry;
    let target = match (seq, household) {
        (Some(seq), _) => sanad_app::audit::EventRef::Seq(seq),
        (None, Some(h)) => sanad_app::audit::EventRef::Registration(
            sanad_domain::HouseholdId::parse(h)
                .map_err(|e| anyhow::anyhow!("--household {h}: {e}"))?,
        ),
        (None, None) => bail!("--seq or --household: which event to prove"),
    };
    let bundle = sanad_app::audit::prove_inclusion(
        store.as_ref(),
        &sanad_app::Actor::system("sanad cli"),
        &target,
        &signer.verifier_key(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_bundle(&sanad_tlog::bundle::Bundle::Inclusion(bundle), out)
}

pub async fn audit_consistency(
    settings: &Settings,
    old: u64,
    new: Option<u64>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let opened = open_keyed(settings, false).await?;
    let signer = log_signer(&opened, settings)?;
    let store = opened.registry;
    let bundle = sanad_app::audit::prove_consistency(
        store.as_ref(),
        &sanad_app::Actor::system("sanad cli"),
        old,
        new,
        &signer.verifier_key(),
    )
    .await
    .map_err(|e| match e {
        sanad_app::registry::RegistryError::Store(sanad_app::StoreError::NotFound) => {
            anyhow::anyhow!("--old/--new: no signed tree head of that size (`sanad audit verify` lists the log's size)")
        }
        e => anyhow::anyhow!("{e}"),
    })?;
    write_bundle(&sanad_tlog::bundle::Bundle::Consistency(bundle), out)
}

pub async fn create_user(
    settings: &Settings,
    username: &str,
    role: &str,
    territories: &str,
    household: Option<&str>,
    password_env: Option<&str>,
) -> anyhow::Result<()> {
    let role = Role::parse(role).with_context(|| {
        format!("unknown role `{role}`: expected citizen, agent, supervisor, manager, auditor, admin or partner")
    })?;
    if username.trim().is_empty() || username.len() > 64 {
        bail!("a username of 1 to 64 characters");
    }
    let territories =
        sanad_app::policy::parse_territories(territories).map_err(anyhow::Error::msg)?;
    let household = household
        .map(sanad_domain::HouseholdId::parse)
        .transpose()
        .context("--household")?;
    if role == Role::Citizen && household.is_none() {
        bail!("a citizen account needs --household (the citizen's own household)");
    }
    let (password, generated) = match password_env {
        Some(var) => (
            std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?,
            false,
        ),
        None => (random_secret(12)?, true),
    };
    let store = open_migrated(settings).await?;
    let mut account = Account::new(username, role, hash_password(&password)?);
    account.territories = territories;
    account.household_id = household;
    store.upsert_account(&account).await?;
    if generated {
        println!("{username} ({}) password: {password}", role.as_str());
    } else {
        println!("{username} ({}) saved", role.as_str());
    }
    Ok(())
}

pub async fn create_api_key(
    settings: &Settings,
    username: &str,
    scopes: &[String],
) -> anyhow::Result<()> {
    let known: Vec<&str> = sanad_app::policy::Permission::ALL
        .iter()
        .map(|p| p.scope())
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !known.contains(&s.as_str())) {
        bail!(
            "unknown scope `{bad}`: expected one of {}",
            known.join(", ")
        );
    }
    let store = open_migrated(settings).await?;
    if store.account(username).await?.is_none() {
        bail!("no account named `{username}`");
    }
    let key = random_secret(32)?;
    let hash = api_key_hash(&key);
    store.add_api_key(username, &hash, scopes).await?;
    println!("{key}");
    eprintln!("key id (to revoke it): {}", &hash[..16]);
    Ok(())
}

pub async fn revoke_api_key(settings: &Settings, key_id: &str) -> anyhow::Result<()> {
    let store = open_migrated(settings).await?;
    let n = store
        .revoke_api_key(key_id, time::OffsetDateTime::now_utc())
        .await?;
    if n == 0 {
        bail!("no active API key has the id `{key_id}` (give at least 12 hex characters)");
    }
    println!("revoked {n} key(s)");
    Ok(())
}

pub async fn prune_access_log(settings: &Settings, keep_days: u32) -> anyhow::Result<()> {
    let store = open_migrated(settings).await?;
    let n = sanad_app::audit::prune_access_log(
        store.as_ref(),
        keep_days,
        time::OffsetDateTime::now_utc(),
        "sanad admin",
    )
    .await?;
    println!(
        "deleted {n} access-log entries older than {} days",
        keep_days.max(1)
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct DedupArgs {
    /// Deduplicate this CSV file instead of the registry.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Column mapping for --csv: FIELD=COLUMN (repeat); fields: id, first_name, last_name,
    /// first_name_ar, last_name_ar, sex, birth_date, national_id, commune, household_id, phone.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// A households CSV (household_id, commune_code) giving each --csv record its commune.
    #[arg(long, value_name = "FILE")]
    pub households: Option<PathBuf>,
    /// Write the pairs (ids, probability, weight, per-field explanation) to this CSV.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the clusters (record id, cluster id) to this CSV.
    #[arg(long, value_name = "FILE")]
    pub clusters: Option<PathBuf>,
    /// A truth file (person_id,entity_id) to print precision, recall and F1.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Match probability at or above which two records are the same person (default: chosen
    /// from the fitted model, where the F1 it predicts is highest; printed).
    #[arg(long)]
    pub match_threshold: Option<f64>,
    /// Probability from which a pair goes to review.
    #[arg(long, default_value_t = 0.1)]
    pub review_threshold: f64,
    /// About this many pairs to review: raises the review threshold until the band holds at most
    /// this many (the likeliest first).
    #[arg(long, value_name = "N")]
    pub review_pairs: Option<usize>,
    /// Write the model explained to this self-contained HTML file: parameters per field and
    /// level, match-weight charts, the predicted precision-recall curve (and --pair's waterfall).
    #[arg(long, value_name = "FILE")]
    pub explain: Option<PathBuf>,
    /// With --explain: the waterfall of the weights of this pair of record ids.
    #[arg(long, num_args = 2, value_names = ["ID_A", "ID_B"])]
    pub pair: Vec<String>,
}

pub async fn dedup(settings: &Settings, args: &DedupArgs) -> anyhow::Result<()> {
    let config = sanad_dedup::DedupConfig {
        match_threshold: args.match_threshold.unwrap_or(0.5),
        auto_threshold: args.match_threshold.is_none(),
        review_threshold: args.review_threshold,
        review_pairs: args.review_pairs,
        ..Default::default()
    };
    if !args.pair.is_empty() && args.explain.is_none() {
        anyhow::bail!("--pair draws a waterfall in the --explain page: give --explain FILE too");
    }
    let mut mapping = sanad_dedup::ColumnMapping::new();
    for pair in &args.map {
        let (field, column) = pair
            .split_once('=')
            .with_context(|| format!("bad mapping `{pair}`: expected FIELD=COLUMN"))?;
        mapping.insert(field.trim().to_string(), column.trim().to_string());
    }
    let started = std::time::Instant::now();
    let (records, store) = match &args.csv {
        Some(path) => {
            let mut records = sanad_dedup::read_csv(path, &mapping)?;
            if let Some(h) = &args.households {
                sanad_dedup::attach_communes(&mut records, h, "household_id", "commune_code")?;
            }
            (records, None)
        }
        None => {
            let store = open_migrated(settings).await?;
            let records = sanad_app::duplicates::registry_records(store.as_ref()).await?;
            (records, Some(store))
        }
    };
    let result = sanad_dedup::deduplicate(&records, &config)?;
    if let Some(out) = &args.out {
        sanad_dedup::write_pairs_csv(out, &result, &records)?;
    }
    if let Some(out) = &args.clusters {
        sanad_dedup::write_clusters_csv(out, &result, &records)?;
    }
    let matches = result.matches().count();
    eprintln!(
        "{} records: {} pairs scored, {} matches in {} clusters, {} to review ({:.1} s)",
        records.len(),
        result.report.pairs_scored,
        matches,
        result.clusters.len(),
        result.review.len(),
        started.elapsed().as_secs_f64()
    );
    crate::dedup_explain::print_model_summary(&result);
    if let Some(file) = &args.explain {
        crate::dedup_explain::write_explain(file, &result, &records, &args.pair)?;
    }
    if let Some(truth) = &args.truth {
        let e = sanad_dedup::evaluate(&result, &records, truth)?;
        println!(
            "pairs: precision {:.4} recall {:.4} F1 {:.4} | clusters: precision {:.4} recall {:.4} F1 {:.4} | blocking recall {:.4}",
            e.pair_precision,
            e.pair_recall,
            e.pair_f1,
            e.cluster_precision,
            e.cluster_recall,
            e.cluster_f1,
            e.blocking_recall
        );
    }
    if let Some(store) = store {
        let pairs = sanad_app::duplicates::candidate_pairs(&result, &records);
        let change = Change {
            actor: "dedup".into(),
            reason: "registry deduplication run".into(),
            at: time::OffsetDateTime::now_utc(),
        };
        let added = store.add_duplicate_candidates(&pairs, &change).await?;
        eprintln!("{added} new pairs queued for review (GET /api/v1/duplicates)");
    }
    Ok(())
}

/// Seeds the demo population and one account per role, prints how to use them, and serves.
pub async fn demo(
    settings: &mut Settings,
    port: u16,
    households: u64,
    serve_after: bool,
) -> anyhow::Result<()> {
    // The demo keeps its own database unless one is configured explicitly.
    if std::env::var_os("SANAD_DATABASE_URL").is_none()
        && settings.database_url == "sqlite://sanad.db"
    {
        settings.database_url = "sqlite://sanad-demo.db".to_string();
    }
    settings.bind = format!("127.0.0.1:{port}");
    let store = open_migrated(settings).await?;
    let counts = store.region_counts().await?;
    let existing: u64 = counts.iter().map(|c| c.households).sum();
    if existing == 0 {
        let dir = tempfile::tempdir()?;
        eprintln!("generating a synthetic population of {households} households…");
        let config = sanad_synth::GenConfig {
            households,
            seed: 2026,
            duplicate_rate: 0.02,
            reference_date: gen_reference_date(),
        };
        sanad_synth::generate(&config, dir.path(), &|_| {})?;
        let change = Change {
            actor: "demo".into(),
            reason: "demo population".into(),
            at: time::OffsetDateTime::now_utc(),
        };
        let bar = Bar::new();
        let report = exchange::import_registry(
            store.as_ref(),
            &ImportSource::from_dir(dir.path()),
            &change,
            false,
            &bar,
        )
        .await?;
        bar.finish();
        if let Some(e) = report.errors.first() {
            bail!(
                "the generated demo data was refused ({} errors), first: {e}",
                report.errors.len()
            );
        }
        eprintln!(
            "demo population: {} households, {} persons",
            report.households_written, report.persons_written
        );
    } else {
        eprintln!("reusing the demo database ({existing} households)");
    }
    crate::targeting::demo_setup(settings).await?;
    crate::payments::demo_setup(settings).await?;
    // Fresh passwords at every start: nothing to remember, nothing left guessable.
    let mut lines = Vec::new();
    for role in Role::ALL {
        let username = format!("demo-{}", role.as_str());
        let password = random_secret(8)?;
        let mut account = Account::new(&username, role, hash_password(&password)?);
        // The agent works in Tanger's centre, the supervisor over its region, the citizen is the
        // head of the first household; the others are national.
        let scope = match role {
            Role::Agent => vec!["01.511.01.0".to_string()],
            Role::Supervisor => vec!["01".to_string()],
            _ => Vec::new(),
        };
        account.territories = scope.clone();
        if role == Role::Citizen {
            account.household_id = sanad_domain::HouseholdId::from_serial(1);
        }
        store.upsert_account(&account).await?;
        let scope = match (role, scope.first()) {
            (Role::Citizen, _) => "household H00000000013".to_string(),
            (_, Some(code)) => sanad_domain::Territories::morocco()
                .get(code)
                .map(|t| format!("{} ({code})", t.name_fr))
                .unwrap_or_default(),
            (_, None) => "national".to_string(),
        };
        lines.push(format!(
            "  {:<12} {username:<18} {password:<18} {scope}",
            role.as_str()
        ));
    }
    let key = random_secret(32)?;
    store
        .add_api_key(
            "demo-partner",
            &api_key_hash(&key),
            &["registry:read".to_string(), "statistics:read".to_string()],
        )
        .await?;
    println!(
        "Sanad demo — database {}",
        sanad_storage::redact_url(&settings.database_url)
    );
    println!(
        "  URL:  http://{}/   (API documentation: http://{}/api/v1/docs/)",
        settings.bind, settings.bind
    );
    println!(
        "  Accounts (log in at http://{}/login, or HTTP Basic; new passwords at each start):",
        settings.bind
    );
    println!(
        "  {:<12} {:<18} {:<18} scope",
        "role", "username", "password"
    );
    for l in &lines {
        println!("{l}");
    }
    println!(
        "  API key of demo-partner, scopes registry:read statistics:read (Authorization: Bearer …): {key}"
    );
    println!(
        "  Try: curl -u demo-agent:PASSWORD http://{}/api/v1/stats/regions",
        settings.bind
    );
    if serve_after {
        drop(store);
        serve(settings).await?;
    }
    Ok(())
}

/// Reseals every national id and phone under the key in `new_key` (created when missing) in one
/// transaction, and records it as the database's data key. A rotation killed half-way leaves the
/// database under the old key: run the command again.
pub async fn rotate_data_key(settings: &Settings, new_key: &Path) -> anyhow::Result<()> {
    let database = Database::connect(&settings.database_url).await?;
    database.migrate().await?;
    let files = settings.key_files(database.sqlite_path())?;
    if new_key == files.data {
        bail!(
            "--new-key: a new key file, not the current one ({})",
            files.data.display()
        );
    }
    let keyring = database.keyring();
    let new = sanad_app::crypto::DataCipher::load_or_create(new_key)?;
    let active = keyring
        .installation_keys()
        .await?
        .into_iter()
        .find(|k| k.kind == keyring::KeyKind::Data && k.active);
    if active.is_some_and(|k| k.fingerprint == new.fingerprint()) {
        println!(
            "the data key is already {} (fingerprint {}): nothing to reseal",
            new_key.display(),
            new.fingerprint()
        );
    } else {
        let now = time::OffsetDateTime::now_utc();
        let (old, _) = keyring::open_data_key(
            keyring.as_ref(),
            &files.data,
            files.legacy_data.as_deref(),
            now,
        )
        .await?;
        let change = Change {
            actor: "sanad admin".into(),
            reason: "data key rotation".into(),
            at: now,
        };
        eprintln!("resealing every national id and phone under the new key (one transaction)…");
        let started = std::time::Instant::now();
        let bar = Bar::new();
        let done = keyring.rotate_data_key(&old, &new, &change, &bar).await?;
        bar.finish();
        println!(
            "resealed the national ids and phones of {} persons and {} household versions in {:.1} s under {} (fingerprint {}; the old key {} is retired)",
            done.persons,
            done.versions,
            started.elapsed().as_secs_f64(),
            new_key.display(),
            new.fingerprint(),
            old.fingerprint()
        );
    }
    println!(
        "now: set data_key_file = \"{}\" (or SANAD_DATA_KEY_FILE), or move it to {}; keep the old key file with the backups made before this rotation (they are sealed under it)",
        new_key.display(),
        files.data.display()
    );
    Ok(())
}

/// Makes the key in `new_key` (created when missing) the database's audit key: it endorses the
/// current key, so checkpoints signed before stay trusted, and signs from now on.
pub async fn rotate_audit_key(settings: &Settings, new_key: &Path) -> anyhow::Result<()> {
    let database = Database::connect(&settings.database_url).await?;
    database.migrate().await?;
    let files = settings.key_files(database.sqlite_path())?;
    if new_key == files.audit {
        bail!(
            "--new-key: a new key file, not the current one ({})",
            files.audit.display()
        );
    }
    let keyring = database.keyring();
    let new = sanad_app::audit::load_or_create_key(new_key)?;
    let new_fingerprint = sanad_app::audit::audit_key_fingerprint(&new.verifying_key());
    let active = keyring
        .installation_keys()
        .await?
        .into_iter()
        .find(|k| k.kind == keyring::KeyKind::Audit && k.active);
    if active.is_some_and(|k| k.fingerprint == new_fingerprint) {
        println!(
            "the audit key is already {} (fingerprint {new_fingerprint})",
            new_key.display()
        );
    } else {
        let now = time::OffsetDateTime::now_utc();
        let (old, _) = keyring::open_audit_key(
            keyring.as_ref(),
            &files.audit,
            files.legacy_audit.as_deref(),
            true,
            now,
        )
        .await?
        .context("the current audit key is required")?;
        let change = Change {
            actor: "sanad admin".into(),
            reason: "audit key rotation".into(),
            at: now,
        };
        keyring::rotate_audit_key(keyring.as_ref(), &old, &new, &change).await?;
        println!(
            "the audit key is now {} (fingerprint {new_fingerprint}); it endorses the old key (fingerprint {}), so earlier checkpoints still verify",
            new_key.display(),
            sanad_app::audit::audit_key_fingerprint(&old.verifying_key())
        );
    }
    println!(
        "now: set audit_key_file = \"{}\" (or SANAD_AUDIT_KEY_FILE), or move it to {}; the old key file can be destroyed",
        new_key.display(),
        files.audit.display()
    );
    Ok(())
}

/// The keys this database records, and the fingerprints of the configured key files, so that an
/// operator can see which file belongs to which database without opening anything with them.
pub async fn show_keys(settings: &Settings) -> anyhow::Result<()> {
    let database = Database::connect(&settings.database_url).await?;
    database.migrate().await?;
    let files = settings.key_files(database.sqlite_path())?;
    for key in database.keyring().installation_keys().await? {
        println!(
            "{:<6} {:<8} {}  recorded {}",
            key.kind.as_str(),
            if key.active { "active" } else { "retired" },
            key.fingerprint,
            key.recorded_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        );
    }
    let data = sanad_app::crypto::DataCipher::load(&files.data)?
        .map(|c| c.fingerprint().to_string())
        .unwrap_or_else(|| "(no such file)".into());
    let audit = sanad_app::audit::load_key(&files.audit)?
        .map(|k| sanad_app::audit::audit_key_fingerprint(&k.verifying_key()))
        .unwrap_or_else(|| "(no such file)".into());
    for key in database.certificates().certificate_keys().await? {
        println!(
            "{:<6} {:<8} {}  recorded {}",
            "certificate",
            if key.active { "active" } else { "retired" },
            key.key_id,
            key.recorded_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        );
    }
    let certificate = sanad_certificates::CertificateKey::load(&files.certificate)?
        .map(|k| k.key_id().to_string())
        .unwrap_or_else(|| "(no such file)".into());
    println!("configured data key file  {}: {data}", files.data.display());
    println!(
        "configured audit key file {}: {audit}",
        files.audit.display()
    );
    println!(
        "configured certificate key file {}: {certificate}",
        files.certificate.display()
    );
    Ok(())
}

/// The e-service requests of an opened database, with the documents where the settings keep them.
pub fn requests_service(
    settings: &Settings,
    opened: &Opened,
    registry: sanad_app::Registry,
    targeting: Option<sanad_app::Targeting>,
) -> anyhow::Result<sanad_app::requests::Requests> {
    let vault = match &settings.documents_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "documents_dir {}: cannot create the directory",
                    dir.display()
                )
            })?;
            sanad_app::requests::DocumentVault::Disk(dir.clone())
        }
        None => sanad_app::requests::DocumentVault::Database,
    };
    let mut requests = sanad_app::requests::Requests::new(
        registry.clone(),
        opened.requests.clone(),
        opened.requests_pepper,
        vault,
    )
    .map_err(|e| anyhow::anyhow!("the shipped request types: {e}"))?;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    let keys = opened.certificate_keys.clone();
    let mut certificates = sanad_app::Certificates::new(
        registry,
        opened.certificates.clone(),
        opened.certificate_key.clone(),
        keys,
        &public_url,
    )
    .with_payments(opened.payments.clone());
    if let Some(t) = targeting {
        certificates = certificates.with_targeting(t.clone());
        requests = requests.with_targeting(t);
    }
    Ok(requests.with_certificates(certificates))
}

/// Makes the key in `new_key` (created when missing) the key that signs new documents; the
/// current key's public half stays published, so documents signed before still verify.
pub async fn rotate_certificate_key(settings: &Settings, new_key: &Path) -> anyhow::Result<()> {
    let opened = open_keyed(settings, true).await?;
    let files = {
        let database = Database::connect(&settings.database_url).await?;
        settings.key_files(database.sqlite_path())?
    };
    if new_key == files.certificate {
        bail!(
            "--new-key: a new key file, not the current one ({})",
            files.certificate.display()
        );
    }
    let new = sanad_certificates::CertificateKey::load_or_create(new_key)?;
    let old = opened.certificate_key.clone();
    let change = Change {
        actor: "sanad admin".into(),
        reason: "certificate key rotation".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    sanad_app::certificates::rotate_certificate_key(
        opened.certificates.as_ref(),
        &old,
        &new,
        &change,
    )
    .await?;
    println!(
        "documents are now signed with {} (key id {}); the old key (key id {}) stays published, so documents signed before still verify",
        new_key.display(),
        new.key_id(),
        old.key_id()
    );
    println!(
        "now: set certificate_key_file = \"{}\" (or SANAD_CERTIFICATE_KEY_FILE), or move it to {}, and restart the servers; the old key file can be destroyed",
        new_key.display(),
        files.certificate.display()
    );
    Ok(())
}

/// Every five minutes, late requests go to the queue their type names for the delay.
fn spawn_escalations(requests: Option<sanad_app::requests::Requests>) {
    let Some(requests) = requests else {
        return;
    };
    tokio::spawn(async move {
        let system = sanad_app::Actor::system("sanad (deadlines)");
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            match requests.escalate_due(&system).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(escalated = n, "late requests escalated"),
                Err(e) => tracing::error!(error = %e, "the escalation pass failed"),
            }
        }
    });
}
