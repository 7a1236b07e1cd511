//! `sanad bench payments`: a month's payments at the scale of direct social aid. A generated
//! population is imported and scored; every household is enrolled in a benchmark transfer (500 MAD
//! a month, any scored household) and given a means of payment (bank, wallet or cash); then a
//! cycle is computed, approved by a second manager and exported as pain.001 (timed together), and
//! the provider's answer for every payment is read back (timed), as camt.054 and as CSV.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use sanad_app::payments::files::{AnswerFormat, BatchFormat, Payer};
use sanad_app::payments::service::Payments;
use sanad_app::payments::{MeansRecord, mad};
use sanad_app::store::{Change, NoProgress};
use sanad_app::{Actor, Registry};
use sanad_payfiles::means::Means;
use sanad_payfiles::rib::Rib;

#[derive(clap::Args)]
pub struct PaymentsArgs {
    /// Households of the generated population (each one entitled).
    #[arg(long, default_value_t = 100_000)]
    pub households: u64,
    /// Also on PostgreSQL: the server to create a fresh database on (dropped afterwards).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Only PostgreSQL (with --postgres).
    #[arg(long, requires = "postgres")]
    pub skip_sqlite: bool,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

/// A transfer every scored household is entitled to: what the benchmark pays.
const BENCH_PROGRAMME: &str = r#"
code = "bench-transfer"
version = 1
unit = "household"
frequency = "monthly"
start = "2020-01-01"
index_threshold = 100.0

[names]
fr = "Transfert de référence (banc d'essai)"
ar = "تحويل مرجعي (اختبار الأداء)"
en = "Benchmark transfer"

[parameters]
amount = 500

[[conditions]]
name = "index-below-threshold"
expression = "household.index <= programme.threshold"
message_key = "index-above-threshold"

[benefit]

[[benefit.lines]]
name = "household"
message_key = "asd-line-elderly"
amount = "programme.amount"
"#;

struct Figures {
    backend: &'static str,
    households: u64,
    setup_s: f64,
    entitlements: u64,
    total: i64,
    compute_s: f64,
    approve_s: f64,
    export_s: f64,
    export_bytes: u64,
    camt_lines: u64,
    camt_s: f64,
    csv_lines: u64,
    csv_s: f64,
}

pub async fn run(args: PaymentsArgs) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    eprintln!("generating {} households…", args.households);
    sanad_synth::generate(
        &sanad_synth::GenConfig {
            households: args.households,
            seed: args.seed,
            duplicate_rate: 0.0,
            reference_date: crate::commands::gen_reference_date(),
        },
        data.path(),
        &|_| {},
    )?;
    let mut all = Vec::new();
    if !args.skip_sqlite {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        all.push(one("sqlite", &url, data.path(), dir.path()).await?);
    }
    if let Some(admin) = &args.postgres {
        let (url, cleanup) = super::fresh_pg_database(admin).await?;
        let files = tempfile::tempdir()?;
        let outcome = one("postgres", &url, data.path(), files.path()).await;
        cleanup.await;
        all.push(outcome?);
    }
    println!();
    println!(
        "payments benchmark: {} households, release={}, cores={}",
        args.households,
        !cfg!(debug_assertions),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "| backend  | entitlements | total MAD | compute s | approve s | export pain.001 s | file MB | compute+approve+export s | camt.054 lines | reconcile camt.054 s | CSV lines | reconcile CSV s | set-up s |"
    );
    println!(
        "|----------|-------------:|----------:|----------:|----------:|------------------:|--------:|-------------------------:|---------------:|---------------------:|----------:|----------------:|---------:|"
    );
    for f in &all {
        println!(
            "| {:<8} | {:>12} | {:>9} | {:>9.1} | {:>9.2} | {:>17.1} | {:>7.0} | {:>24.1} | {:>14} | {:>20.1} | {:>9} | {:>15.1} | {:>8.0} |",
            f.backend,
            f.entitlements,
            mad(f.total),
            f.compute_s,
            f.approve_s,
            f.export_s,
            f.export_bytes as f64 / 1e6,
            f.compute_s + f.approve_s + f.export_s,
            f.camt_lines,
            f.camt_s,
            f.csv_lines,
            f.csv_s,
            f.setup_s,
        );
        let _ = f.households;
    }
    Ok(())
}

/// A means for the n-th household: three in five by bank, one by wallet, one in cash.
fn means_for(n: u64) -> anyhow::Result<Means> {
    let holder = format!("Beneficiaire {n}");
    Ok(match n % 5 {
        0 => Means::Wallet {
            phone: format!("+2126{:08}", n % 100_000_000),
            provider: "MWALLET".into(),
            holder,
        },
        1 => Means::Cash {
            agency: format!("AG{:04}", n % 2_000),
            reference: "per-payment".into(),
            holder,
        },
        _ => Means::Bank {
            rib: Rib::from_parts(
                &format!("{:03}", 7 + (n % 5) * 4),
                &format!("{:03}", 780 + n % 100),
                &format!("{:016}", n),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
            holder,
        },
    })
}

async fn one(
    backend: &'static str,
    url: &str,
    data: &Path,
    files: &Path,
) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let (ports, targeting, households, _) = super::targeting::populated(backend, url, data).await?;
    let actor = Actor::system("bench-maker");
    let checker = Actor::system("bench-checker");
    targeting
        .define_programme(&actor, BENCH_PROGRAMME, "benchmark")
        .await?;
    eprintln!("{backend}: scoring…");
    targeting.rescore_all(&actor, true, &NoProgress).await?;
    eprintln!("{backend}: enrolling…");
    targeting
        .enrol_eligible(&actor, "bench-transfer", None, "benchmark")
        .await?;
    eprintln!("{backend}: payment means…");
    let payments = Payments::new(
        Registry::new(ports.registry.clone()),
        targeting.clone(),
        ports.payments.clone(),
    );
    let change = Change {
        actor: "bench".into(),
        reason: "benchmark".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    let mut after = None;
    let mut n = 0u64;
    loop {
        let page = ports
            .targeting
            .index_rows(after, 100_000)
            .await
            .context("households")?;
        let Some(last) = page.last().map(|r| r.household_id) else {
            break;
        };
        let mut rows = Vec::with_capacity(page.len());
        for r in &page {
            let means = means_for(n)?;
            n += 1;
            rows.push(MeansRecord {
                household_id: r.household_id,
                kind: means.kind().as_str().to_string(),
                details: serde_json::to_string(&means)?,
                holder: means.holder().to_string(),
                updated_by: String::new(),
                updated_at: change.at,
            });
        }
        ports.payments.import_payment_means(&rows, &change).await?;
        after = Some(last);
    }
    let setup_s = started.elapsed().as_secs_f64();

    eprintln!("{backend}: computing the cycle…");
    let t = Instant::now();
    let outcome = payments
        .prepare_cycle(
            &actor,
            "bench-transfer",
            "2026-01",
            None,
            "benchmark",
            &NoProgress,
        )
        .await?;
    let compute_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cycle = payments
        .approve_cycle(&checker, outcome.cycle.id, "benchmark")
        .await?;
    let approve_s = t.elapsed().as_secs_f64();
    eprintln!("{backend}: exporting…");
    let t = Instant::now();
    let batches = payments.open_batches(&actor, cycle.id, "benchmark").await?;
    let mut export_bytes = 0u64;
    let mut paths = Vec::new();
    for b in &batches {
        let path = files.join(format!("batch-{}-{}.xml", b.id, b.kind));
        let (_, written) = payments
            .export_batch(&actor, b.id, BatchFormat::Pain001, &Payer::default(), &path)
            .await?;
        export_bytes += written.bytes;
        paths.push(path);
    }
    let export_s = t.elapsed().as_secs_f64();

    // The provider's answers: the bank batch as camt.054, the others as CSV.
    let mut camt_lines = 0u64;
    let mut camt_s = 0.0;
    let mut csv_lines = 0u64;
    let mut csv_s = 0.0;
    for b in &batches {
        let format = if b.kind == "bank" {
            AnswerFormat::Camt054
        } else {
            AnswerFormat::Csv
        };
        let bytes =
            sanad_app::payments::files::simulated_answer(&payments, &actor, b, format, 50).await?;
        eprintln!("{backend}: reconciling {} ({} lines)…", b.kind, b.payments);
        let t = Instant::now();
        let r = payments
            .reconcile_file(&actor, &bytes, "answer", Some(format))
            .await?;
        let s = t.elapsed().as_secs_f64();
        anyhow::ensure!(
            r.reconciliation.paid + r.reconciliation.failed == b.payments,
            "the answer did not settle every payment"
        );
        match format {
            AnswerFormat::Camt054 => {
                camt_lines += r.reconciliation.lines;
                camt_s += s;
            }
            AnswerFormat::Csv => {
                csv_lines += r.reconciliation.lines;
                csv_s += s;
            }
        }
    }
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
    Ok(Figures {
        backend,
        households,
        setup_s,
        entitlements: cycle.entitlements,
        total: cycle.total,
        compute_s,
        approve_s,
        export_s,
        export_bytes,
        camt_lines,
        camt_s,
        csv_lines,
        csv_s,
    })
}
