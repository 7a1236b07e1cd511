//! `sanad bench requests`: the bottleneck report over a million requests. A fresh SQLite file is
//! filled, in SQL, with N disability-card requests spread over every commune of the country, each
//! with one to four step visits (document check, medical committee, decision, card issued) whose
//! durations vary around their deadlines, some finished, some waiting. Then the report of one
//! region and of the whole country is computed several times through the use-case, as a
//! supervisor would ask for it: p50 and max, with the visits read. Filling is not the figure.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use sanad_app::requests::{DocumentVault, Requests};
use sanad_app::{Actor, Registry, Role};

#[derive(clap::Args)]
pub struct RequestsArgs {
    /// Requests in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub requests: u64,
    /// The region whose report is timed (HCP code; 06 is Casablanca-Settat).
    #[arg(long, default_value = "06")]
    pub region: String,
    /// Reports computed for the figures.
    #[arg(long, default_value_t = 5)]
    pub reports: usize,
}

fn p50(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (
        times[times.len() / 2],
        times.last().copied().unwrap_or_default(),
    )
}

pub async fn run(args: &RequestsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.requests > 0 && args.reports > 0,
        "--requests and --reports above 0"
    );
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let database = sanad_storage::Database::connect(&url).await?;
    database.migrate().await?;
    let sanad_storage::Database::Sqlite(store) = &database else {
        anyhow::bail!("the bench runs on SQLite");
    };
    let started = Instant::now();
    eprintln!("filling {} requests…", args.requests);
    // "Now" is 2026-12-01; the requests were submitted over the year before.
    let now: i64 = 1_796_083_200;
    let visits = store.fill_requests_for_bench(args.requests, now).await?;
    eprintln!(
        "filled {} requests and {visits} step visits in {:.1} s",
        args.requests,
        started.elapsed().as_secs_f64()
    );

    let cipher = std::sync::Arc::new(sanad_app::crypto::DataCipher::random()?);
    let registry = Registry::new(database.ports(cipher.clone()).registry).with_clock(
        std::sync::Arc::new(move || {
            time::OffsetDateTime::from_unix_timestamp(now)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        }),
    );
    let requests = Requests::new(
        registry,
        database.requests(cipher),
        [0; 32],
        DocumentVault::Database,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let supervisor = Actor {
        username: "bench-supervisor".into(),
        role: Role::Supervisor,
        territories: vec![args.region.clone()],
        household: None,
        scopes: None,
    };
    let national = Actor {
        territories: Vec::new(),
        ..supervisor.clone()
    };
    println!("| report | step visits read | p50 | max | most waiting at |");
    println!("|---|---:|---:|---:|---|");
    for (name, actor, territory) in [
        (
            format!("region {}", args.region),
            &supervisor,
            Some(args.region.as_str()),
        ),
        ("whole country".to_string(), &national, None),
    ] {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..args.reports {
            let t = Instant::now();
            let report = requests
                .bottlenecks(actor, territory, &[])
                .await
                .context("the bottleneck report")?;
            times.push(t.elapsed());
            last = Some(report);
        }
        let report = last.context("a report")?;
        let (mid, max) = p50(times);
        println!(
            "| {name} | {} | {:.0} ms | {:.0} ms | {} |",
            report.spans,
            mid.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            report
                .waiting_most
                .map(|w| format!("{} ({} waiting, {} past due)", w.step, w.open, w.past_due))
                .unwrap_or_default(),
        );
    }
    Ok(())
}
