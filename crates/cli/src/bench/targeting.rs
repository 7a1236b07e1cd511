//! `sanad bench targeting`: the register's scale for targeting. A generated population is imported
//! into a fresh database; the shipped index model and programmes are put in force; then every
//! household is scored, checked against every programme and persisted (a first run, which creates
//! the scores and enrolments, and a second, which rewrites every score and re-evaluates every
//! enrolment); a rule is counted over the whole registry; and the recorded scores are evaluated
//! against the generator's true consumption.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use sanad_app::exchange::{self, ImportSource};
use sanad_app::store::{Change, NoProgress};
use sanad_app::targeting::service;
use sanad_app::{Actor, Registry, Targeting};
use sanad_domain::HouseholdId;

#[derive(clap::Args)]
pub struct TargetingArgs {
    /// Households of the generated population.
    #[arg(long, default_value_t = 1_000_000)]
    pub households: u64,
    /// Also on PostgreSQL: the server to create a fresh database on (dropped afterwards).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Only PostgreSQL (with --postgres).
    #[arg(long, requires = "postgres")]
    pub skip_sqlite: bool,
    /// The rule counted over the registry.
    #[arg(
        long,
        default_value = "household.index <= 9.3264284 && members.exists(m, m.age <= 20 && !(m.relation in ['head', 'spouse']))"
    )]
    pub rule: String,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

struct Figures {
    backend: &'static str,
    households: u64,
    import_s: f64,
    first_s: f64,
    first: service::RescoreSummary,
    second_s: f64,
    second: service::RescoreSummary,
    load_s: f64,
    count_s: f64,
    admitted: usize,
    evaluation: String,
}

pub async fn run(args: TargetingArgs) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    eprintln!("generating {} households…", args.households);
    let started = Instant::now();
    let summary = sanad_synth::generate(
        &sanad_synth::GenConfig {
            households: args.households,
            seed: args.seed,
            duplicate_rate: 0.0,
            reference_date: crate::commands::gen_reference_date(),
        },
        data.path(),
        &|_| {},
    )?;
    eprintln!(
        "generated {} households, {} persons in {:.1} s",
        summary.households,
        summary.persons,
        started.elapsed().as_secs_f64()
    );
    let truth = read_truth(&data.path().join("consumption.csv"))?;
    let rule = service::compile_rule(&args.rule)?;
    let mut all = Vec::new();
    if !args.skip_sqlite {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        all.push(one("sqlite", &url, data.path(), &truth, &rule).await?);
    }
    if let Some(admin) = &args.postgres {
        let (url, cleanup) = super::fresh_pg_database(admin).await?;
        let outcome = one("postgres", &url, data.path(), &truth, &rule).await;
        cleanup.await;
        all.push(outcome?);
    }
    println!();
    println!(
        "targeting benchmark: {} households, {} persons, release={}, cores={}",
        summary.households,
        summary.persons,
        !cfg!(debug_assertions),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "| backend  | households | import s | first scoring s | rescore + re-evaluate + persist s | households/s | enrolment changes | facts load s | count s | admitted |"
    );
    println!(
        "|----------|-----------:|---------:|----------------:|----------------------------------:|-------------:|------------------:|-------------:|--------:|---------:|"
    );
    for f in &all {
        println!(
            "| {:<8} | {:>10} | {:>8.1} | {:>15.1} | {:>33.1} | {:>12.0} | {:>17} | {:>12.1} | {:>7.3} | {:>8} |",
            f.backend,
            f.households,
            f.import_s,
            f.first_s,
            f.second_s,
            f.households as f64 / f.second_s.max(1e-9),
            f.second.run.transitions,
            f.load_s,
            f.count_s,
            f.admitted
        );
    }
    for f in &all {
        println!(
            "{}: first run read {:.1} s, assess {:.1} s, write {:.1} s ({} enrolment changes); second run read {:.1} s, assess {:.1} s, write {:.1} s",
            f.backend,
            f.first.read.as_secs_f64(),
            f.first.assess.as_secs_f64(),
            f.first.write.as_secs_f64(),
            f.first.run.transitions,
            f.second.read.as_secs_f64(),
            f.second.assess.as_secs_f64(),
            f.second.write.as_secs_f64(),
        );
    }
    if let Some(f) = all.first() {
        println!();
        println!(
            "targeting errors of the shipped model on the generated population ({}):",
            f.backend
        );
        println!("{}", f.evaluation);
    }
    Ok(())
}

fn read_truth(path: &Path) -> anyhow::Result<HashMap<HouseholdId, f64>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let rows = sanad_targeting::read_truth_csv(std::io::BufReader::new(file))?;
    let mut out = HashMap::with_capacity(rows.len());
    for (id, ln) in rows {
        out.insert(
            HouseholdId::parse(&id).map_err(|e| anyhow::anyhow!("consumption.csv: {id}: {e}"))?,
            ln,
        );
    }
    Ok(out)
}

/// A fresh database at `url` with the generated population in `data` imported, the demo index
/// model active and the shipped programmes defined (nothing scored yet); and the import's time.
pub(super) async fn populated(
    backend: &str,
    url: &str,
    data: &Path,
) -> anyhow::Result<(sanad_storage::Ports, Targeting, u64, f64)> {
    let database = sanad_storage::Database::connect(url).await?;
    database.migrate().await?;
    let ports = database.ports(Arc::new(sanad_app::crypto::DataCipher::random()?));
    let change = Change {
        actor: "bench".into(),
        reason: "benchmark".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    eprintln!("{backend}: importing…");
    let started = Instant::now();
    let report = exchange::import_registry(
        ports.registry.as_ref(),
        &ImportSource::from_dir(data),
        &change,
        false,
        &NoProgress,
    )
    .await?;
    if let Some(e) = report.errors.first() {
        anyhow::bail!("generated data refused: {e}");
    }
    let import_s = started.elapsed().as_secs_f64();
    let targeting = Targeting::new(
        Registry::new(ports.registry.clone()),
        ports.targeting.clone(),
        ports.programmes.clone(),
    );
    let actor = Actor::system("bench");
    let (model, _) = targeting
        .import_model(&actor, crate::targeting::DEMO_MODEL, "benchmark")
        .await?;
    targeting
        .activate_model(&actor, &model.id, model.version, "benchmark")
        .await?;
    for (_, text) in sanad_programmes::shipped() {
        targeting
            .define_programme(&actor, text, "benchmark")
            .await?;
    }
    Ok((ports, targeting, report.households_written, import_s))
}

async fn one(
    backend: &'static str,
    url: &str,
    data: &Path,
    truth: &HashMap<HouseholdId, f64>,
    rule: &sanad_programmes::Rule,
) -> anyhow::Result<Figures> {
    let (_ports, targeting, households, import_s) = populated(backend, url, data).await?;
    let actor = Actor::system("bench");
    eprintln!("{backend}: first scoring…");
    let started = Instant::now();
    let first = targeting.rescore_all(&actor, true, &NoProgress).await?;
    let first_s = started.elapsed().as_secs_f64();
    eprintln!("{backend}: rescoring…");
    let started = Instant::now();
    let second = targeting.rescore_all(&actor, true, &NoProgress).await?;
    let second_s = started.elapsed().as_secs_f64();
    eprintln!("{backend}: counting…");
    let snapshot = targeting.snapshot(&actor, &NoProgress).await?;
    let (tally, took) = service::count_rule(rule, &snapshot);
    let (evaluation, _) = targeting.evaluate(&actor, truth).await?;
    Ok(Figures {
        backend,
        households,
        import_s,
        first_s,
        first,
        second_s,
        second,
        load_s: snapshot.loaded_in.as_secs_f64(),
        count_s: took.as_secs_f64(),
        admitted: tally.admitted,
        evaluation: evaluation.to_string(),
    })
}
