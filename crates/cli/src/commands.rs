//! The subcommands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use sanad_app::auth::{api_key_hash, hash_password, random_secret};
use sanad_app::exchange::{self, ImportSource};
use sanad_app::store::{Account, Change};
use sanad_app::{Registry, RegistryStore, Role};

use crate::progress::Bar;
use crate::settings::Settings;

/// The reference date of generated data, so that the same seed gives the same bytes on any day.
pub fn gen_reference_date() -> time::Date {
    time::macros::date!(2026 - 01 - 01)
}

pub async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn RegistryStore>> {
    let cipher = sanad_app::crypto::DataCipher::load_or_create(&settings.data_key_file)?;
    Ok(sanad_storage::connect(&settings.database_url, Arc::new(cipher)).await?)
}

pub async fn open_migrated(settings: &Settings) -> anyhow::Result<Arc<dyn RegistryStore>> {
    let store = open(settings).await?;
    store.migrate().await?;
    Ok(store)
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
    let store = open_migrated(settings).await?;
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(http.addr = %addr, db.backend = store.backend(), "serving");
    eprintln!(
        "Sanad is listening on http://{addr}/ (API documentation: http://{addr}/api/v1/docs/)"
    );
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
    let signer = log_signer(settings)?;
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
    let mut state = sanad_http::AppState::new(registry);
    state.secure_cookies = settings.secure_cookies;
    state.audit_verifier_key = Some(verifier_key);
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
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped")
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
    let store = open_migrated(settings).await?;
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
    } else {
        eprintln!("nothing was imported (use --skip-invalid to import the valid rows)");
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
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
    store.backup(out).await?;
    eprintln!(
        "backed up {} to {} (the audit key file is not in it: keep it apart)",
        sanad_storage::redact_url(&settings.database_url),
        out.display()
    );
    Ok(())
}

pub async fn restore(settings: &Settings, from: &Path) -> anyhow::Result<()> {
    sanad_storage::restore(&settings.database_url, from).await?;
    // Brings an older backup up to the current schema.
    open_migrated(settings).await?;
    eprintln!(
        "restored {} into {}",
        from.display(),
        sanad_storage::redact_url(&settings.database_url)
    );
    Ok(())
}

/// The log's signer: the audit key file and the configured origin.
fn log_signer(settings: &Settings) -> anyhow::Result<sanad_app::audit::LogSigner> {
    let key = sanad_app::audit::load_or_create_key(&settings.audit_key_file)?;
    Ok(sanad_app::audit::LogSigner::new(
        key,
        &settings.audit_origin,
    ))
}

/// The keys whose signatures `verify` accepts.
// TODO(keys): swap for `sanad_app::audit::trusted_audit_keys(store, &current)` once the keys
// helper's installation_keys lands, so that heads signed before a key rotation still verify.
fn trusted_keys(settings: &Settings) -> anyhow::Result<Option<Vec<ed25519_dalek::VerifyingKey>>> {
    if !settings.audit_key_file.exists() {
        return Ok(None);
    }
    let key = sanad_app::audit::load_or_create_key(&settings.audit_key_file)?;
    Ok(Some(vec![key.verifying_key()]))
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
    let store = open_migrated(settings).await?;
    let trusted = trusted_keys(settings)?;
    let v = sanad_app::audit::verify(store.as_ref(), trusted.as_deref()).await?;
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
        if trusted.is_some() {
            " against the installation key"
        } else {
            " (no key file here: their signatures were not checked)"
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
    let store = open_migrated(settings).await?;
    let signer = log_signer(settings)?;
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
    let store = open_migrated(settings).await?;
    let signer = log_signer(settings)?;
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
    let store = open_migrated(settings).await?;
    let signer = log_signer(settings)?;
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
    /// Match probability at or above which two records are the same person.
    #[arg(long, default_value_t = 0.5)]
    pub match_threshold: f64,
    /// Probability from which a pair goes to review.
    #[arg(long, default_value_t = 0.1)]
    pub review_threshold: f64,
}

pub async fn dedup(settings: &Settings, args: &DedupArgs) -> anyhow::Result<()> {
    let config = sanad_dedup::DedupConfig {
        match_threshold: args.match_threshold,
        review_threshold: args.review_threshold,
        ..Default::default()
    };
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
