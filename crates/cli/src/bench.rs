//! `sanad bench …`: benchmarks that print a table. Figures come from here, never from timed tests.

use std::time::Instant;

use anyhow::Context as _;
use sanad_app::RegistryStore;
use sanad_app::exchange::{self, ImportSource};
use sanad_app::store::{Change, ImportOutcome};

mod api;
mod dashboard;
mod dedup;
mod outbox;
mod payments;
mod requests;
mod targeting;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Generate a population, then import it into a fresh SQLite file and (with --postgres) a fresh
    /// PostgreSQL database; print rows per second for each.
    Import {
        /// Persons to import (households are generated until about this many persons).
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        /// PostgreSQL server to benchmark on, e.g. postgres://postgres@127.0.0.1:5432/postgres
        /// (a fresh database is created there and dropped afterwards).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        /// Random seed of the generated population.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Deduplicate end to end (read, normalise, block, train, score, cluster, write) and print
    /// quality and speed: FEBRL 1–4 (when fetched by bench/febrl.sh), the second synthetic profile
    /// and Sanad's own Moroccan profile, with the same settings for all.
    Dedup(dedup::DedupBenchArgs),
    /// Import a generated population (one audit event per household), then time the audit log:
    /// the integrator folding every event into the tree, inclusion proofs of random events (and the
    /// tree nodes each reads), a consistency proof, and a full `verify`.
    Audit {
        /// Persons to import (about one household, hence one event, per 3.9 persons).
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Serve a fresh database with a synthetic population and drive it with concurrent
    /// keep-alive clients (reads, registrations, or both); print req/s, p50, p99 and errors, then
    /// whether every read answered is in the access log and the audit trail verifies.
    Api(api::ApiArgs),
    /// Import a generated population, put the shipped index model and programmes in force, then
    /// score every household, re-evaluate every programme and persist (twice: creating, then
    /// rewriting), count a rule over the registry, and print the targeting errors.
    Targeting(targeting::TargetingArgs),
    /// Import and score a generated population, enrol every household in a transfer with a means
    /// of payment, then time a cycle computed, approved and exported as pain.001, and the
    /// provider's answers (camt.054 and CSV) reconciled.
    Payments(payments::PaymentsArgs),
    /// Move a generated population into one region, import and score it, then time the reading of
    /// the dashboard's figures and the rendering of the region's dashboard (map, tables, charts)
    /// as its supervisor: p50, p95, max and the page's size.
    Dashboard(dashboard::DashboardArgs),
    /// Fill a fresh SQLite file with a million e-service requests and their step visits, then time
    /// the bottleneck report of a region and of the whole country.
    Requests(requests::RequestsArgs),
    /// Queue e-mails, drain them with `sanad outbox drain` to an SMTP server started here, kill
    /// the worker with SIGKILL part-way, start it again, and count what arrived: messages/s, lost,
    /// raw doubles, distinct delivered.
    Outbox(outbox::OutboxArgs),
}

/// A throw-away data key: the benchmark encrypts national ids as the product does.
fn cipher() -> anyhow::Result<std::sync::Arc<sanad_app::crypto::DataCipher>> {
    Ok(std::sync::Arc::new(sanad_app::crypto::DataCipher::random()?))
}

struct Row {
    backend: &'static str,
    households: u64,
    persons: u64,
    check_s: f64,
    write_s: f64,
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Import {
            persons,
            postgres,
            seed,
        } => import(persons, postgres, seed).await,
        BenchCommand::Dedup(args) => dedup::run(&args),
        BenchCommand::Audit { persons, postgres } => audit(persons, postgres).await,
        BenchCommand::Api(args) => api::run(args).await,
        BenchCommand::Targeting(args) => targeting::run(args).await,
        BenchCommand::Payments(args) => payments::run(args).await,
        BenchCommand::Dashboard(args) => dashboard::run(args).await,
        BenchCommand::Requests(args) => requests::run(&args).await,
        BenchCommand::Outbox(args) => outbox::run(args).await,
    }
}

async fn import(persons: u64, postgres: Option<String>, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Generated households average a little under four persons.
    let households = (persons * 10).div_ceil(39);
    eprintln!("generating about {persons} persons ({households} households)…");
    let summary = sanad_synth::generate(
        &sanad_synth::GenConfig {
            households,
            seed,
            duplicate_rate: 0.0,
            reference_date: crate::commands::gen_reference_date(),
        },
        dir.path(),
        &|_| {},
    )?;
    let mut rows = Vec::new();

    let db_dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", db_dir.path().join("bench.db").display());
    let store = sanad_storage::connect(&sqlite_url, cipher()?).await?;
    store.migrate().await?;
    rows.push(measure("sqlite", store.as_ref(), dir.path()).await?);
    drop(store);

    if let Some(admin_url) = postgres {
        let (url, cleanup) = fresh_pg_database(&admin_url).await?;
        let store = sanad_storage::connect(&url, cipher()?).await?;
        store.migrate().await?;
        let row = measure("postgres", store.as_ref(), dir.path()).await;
        drop(store);
        cleanup.await;
        rows.push(row?);
    }

    println!();
    println!(
        "import benchmark: {} persons in {} households ({} cores)",
        summary.persons,
        summary.households,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "| backend  | households | persons   | read+check s | write s | total s | persons/s | rows/s (all tables) |"
    );
    println!(
        "|----------|-----------:|----------:|-------------:|--------:|--------:|----------:|--------------------:|"
    );
    for r in rows {
        let total = r.check_s + r.write_s;
        // Rows written: households, persons, one version and one audit event per household.
        let all_rows = r.persons + 3 * r.households;
        println!(
            "| {:<8} | {:>10} | {:>9} | {:>12.2} | {:>7.2} | {:>7.2} | {:>9.0} | {:>19.0} |",
            r.backend,
            r.households,
            r.persons,
            r.check_s,
            r.write_s,
            total,
            r.persons as f64 / total,
            all_rows as f64 / total
        );
    }
    Ok(())
}

/// Records when each phase of an import starts, to print where the time goes.
#[derive(Default)]
struct PhaseTimer {
    phases: std::sync::Mutex<Vec<(String, Instant)>>,
}

impl sanad_app::store::Progress for PhaseTimer {
    fn phase(&self, name: &str, _total: u64) {
        if let Ok(mut p) = self.phases.lock() {
            p.push((name.to_string(), Instant::now()));
        }
    }
}

impl PhaseTimer {
    /// `phase s, phase s, …` up to `end`.
    fn summary(&self, end: Instant) -> String {
        let phases = self.phases.lock().map(|p| p.clone()).unwrap_or_default();
        let mut out = Vec::new();
        for (i, (name, at)) in phases.iter().enumerate() {
            let next = phases.get(i + 1).map(|p| p.1).unwrap_or(end);
            out.push(format!("{name} {:.2}", (next - *at).as_secs_f64()));
        }
        out.join(", ")
    }
}

async fn measure(
    backend: &'static str,
    store: &dyn RegistryStore,
    dir: &std::path::Path,
) -> anyhow::Result<Row> {
    let change = Change {
        actor: "bench".into(),
        reason: "benchmark".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    let timer = PhaseTimer::default();
    let started = Instant::now();
    let parsed = exchange::read_registry(&ImportSource::from_dir(dir), &change, &timer)?;
    if let Some(e) = parsed.errors.first() {
        anyhow::bail!("generated data refused: {e}");
    }
    let check_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let outcome = store.import_batch(&parsed.batch, &change, &timer).await?;
    let write_s = started.elapsed().as_secs_f64();
    eprintln!("{backend} phases (s): {}", timer.summary(Instant::now()));
    let ImportOutcome::Written {
        households,
        persons,
    } = outcome
    else {
        anyhow::bail!("the fresh database reported conflicts");
    };
    eprintln!("{backend}: {persons} persons in {:.2} s", check_s + write_s);
    Ok(Row {
        backend,
        households,
        persons,
        check_s,
        write_s,
    })
}

async fn fresh_pg_database(
    admin_url: &str,
) -> anyhow::Result<(String, impl std::future::Future<Output = ()>)> {
    use sqlx_free::admin;
    let name = format!("sanad_bench_{}", std::process::id());
    admin(admin_url, &format!("DROP DATABASE IF EXISTS \"{name}\"")).await?;
    admin(admin_url, &format!("CREATE DATABASE \"{name}\""))
        .await
        .context("cannot create the benchmark database")?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    let url = format!("{base}/{name}");
    let admin_url = admin_url.to_string();
    Ok((url, async move {
        let _ = admin(
            &admin_url,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .await;
    }))
}

/// Database administration through the storage crate, so that the CLI names no SQL driver.
mod sqlx_free {
    pub async fn admin(url: &str, statement: &str) -> anyhow::Result<()> {
        sanad_storage::admin_statement(url, statement)
            .await
            .map_err(anyhow::Error::from)
    }
}

async fn audit(persons: u64, postgres: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let households = (persons * 10).div_ceil(39);
    eprintln!("generating about {persons} persons ({households} households)…");
    sanad_synth::generate(
        &sanad_synth::GenConfig {
            households,
            seed: 7,
            duplicate_rate: 0.0,
            reference_date: crate::commands::gen_reference_date(),
        },
        dir.path(),
        &|_| {},
    )?;
    let mut rows = Vec::new();
    let db_dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", db_dir.path().join("bench.db").display());
    let store = sanad_storage::connect(&sqlite_url, cipher()?).await?;
    store.migrate().await?;
    measure("sqlite", store.as_ref(), dir.path()).await?;
    rows.push(audit_figures("sqlite", store.as_ref()).await?);
    drop(store);
    if let Some(admin_url) = postgres {
        let (url, cleanup) = fresh_pg_database(&admin_url).await?;
        let store = sanad_storage::connect(&url, cipher()?).await?;
        store.migrate().await?;
        let row = match measure("postgres", store.as_ref(), dir.path()).await {
            Ok(_) => audit_figures("postgres", store.as_ref()).await,
            Err(e) => Err(e),
        };
        drop(store);
        cleanup.await;
        rows.push(row?);
    }
    println!();
    println!("audit log benchmark: one event per imported household");
    println!(
        "| backend  | events    | integrate s | events/s | proof ms (mean of 100) | nodes read/proof | consistency ms | verify s |"
    );
    println!(
        "|----------|----------:|------------:|---------:|-----------------------:|-----------------:|---------------:|---------:|"
    );
    for r in rows {
        println!(
            "| {:<8} | {:>9} | {:>11.2} | {:>8.0} | {:>22.2} | {:>16.1} | {:>14.2} | {:>8.2} |",
            r.0,
            r.1,
            r.2,
            r.1 as f64 / r.2,
            r.3,
            r.4,
            r.5,
            r.6
        );
    }
    Ok(())
}

/// (backend, events, integrate s, proof ms, nodes per proof, consistency ms, verify s)
async fn audit_figures(
    backend: &'static str,
    store: &dyn RegistryStore,
) -> anyhow::Result<(&'static str, u64, f64, f64, f64, f64, f64)> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let signer = sanad_app::audit::LogSigner::new(key.clone(), "sanad.bench/audit");
    let vkey = signer.verifier_key();
    let started = Instant::now();
    let mut events = 0;
    // On PostgreSQL an event waits for every older transaction of the server: a few rounds.
    for _ in 0..1000 {
        let (added, _) =
            sanad_app::audit::integrate_all(store, &signer, time::OffsetDateTime::now_utc())
                .await?;
        events += added;
        if store.pending_events().await?.count == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let integrate_s = started.elapsed().as_secs_f64();
    eprintln!("{backend}: {events} events integrated in {integrate_s:.2} s");
    let head = store
        .tree_head(None)
        .await?
        .context("no tree head after integration")?;
    let actor = sanad_app::Actor::system("bench");
    let mut nodes = 0usize;
    let started = Instant::now();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..100 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let seq = 1 + (x % head.size) as i64;
        let bundle = sanad_app::audit::prove_inclusion(
            store,
            &actor,
            &sanad_app::audit::EventRef::Seq(seq),
            &vkey,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        nodes += bundle.proof.len();
    }
    let proof_ms = started.elapsed().as_secs_f64() * 1000.0 / 100.0;
    let started = Instant::now();
    let heads = store.tree_heads().await?;
    let old = heads.first().map(|h| h.size).unwrap_or(head.size);
    let bundle = sanad_app::audit::prove_consistency(store, &actor, old, None, &vkey)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let consistency_ms = started.elapsed().as_secs_f64() * 1000.0;
    sanad_tlog::bundle::verify(
        &sanad_tlog::bundle::Bundle::Consistency(bundle),
        Some(&vkey),
    )
    .map_err(|e| anyhow::anyhow!("consistency proof: {e}"))?;
    let started = Instant::now();
    let v = sanad_app::audit::verify(store, Some(&[key.verifying_key()])).await?;
    let verify_s = started.elapsed().as_secs_f64();
    if let Some(problem) = v.broken {
        anyhow::bail!("{backend}: verify failed: {problem}");
    }
    Ok((
        backend,
        events,
        integrate_s,
        proof_ms,
        nodes as f64 / 100.0,
        consistency_ms,
        verify_s,
    ))
}
