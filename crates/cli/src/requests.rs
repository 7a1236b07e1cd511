//! `sanad requests`: the escalation pass (the server runs it every five minutes) and the
//! bottleneck report of a territory, from the command line.

use std::fmt::Write as _;

use sanad_app::{Actor, Registry};

use crate::commands::{open_keyed, requests_service};
use crate::settings::Settings;

#[derive(clap::Args)]
pub struct RequestsArgs {
    #[command(subcommand)]
    pub command: RequestsCommand,
}

#[derive(clap::Subcommand)]
pub enum RequestsCommand {
    /// Put every late request in the queue its type names for the delay (once per level).
    Escalate,
    /// Time spent per step (median, p90), deadlines missed and the step where most requests wait.
    Bottlenecks {
        /// A region, province or commune code (default: the whole country).
        #[arg(long)]
        territory: Option<String>,
        /// Only this request type (`disability_card`, `complaint` …).
        #[arg(long)]
        kind: Option<String>,
        /// The report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn duration(seconds: Option<i64>) -> String {
    match seconds {
        None => "-".into(),
        Some(s) if s >= 86_400 => format!("{:.1} d", s as f64 / 86_400.0),
        Some(s) => format!("{:.1} h", s as f64 / 3_600.0),
    }
}

pub async fn run(settings: &Settings, args: &RequestsArgs) -> anyhow::Result<()> {
    let opened = open_keyed(settings, true).await?;
    let registry = Registry::new(opened.registry.clone());
    let requests = requests_service(settings, &opened, registry, None)?;
    let system = Actor::system("sanad (command line)");
    match &args.command {
        RequestsCommand::Escalate => {
            let n = requests.escalate_due(&system).await?;
            println!("{n} late requests escalated");
        }
        RequestsCommand::Bottlenecks {
            territory,
            kind,
            json,
        } => {
            if let Some(code) = territory
                && sanad_domain::Territories::morocco().get(code).is_none()
            {
                anyhow::bail!(
                    "--territory {code}: not the HCP code of a region, province or commune"
                );
            }
            let kinds: Vec<String> = kind.iter().cloned().collect();
            let started = std::time::Instant::now();
            let report = requests
                .bottlenecks(&system, territory.as_deref(), &kinds)
                .await?;
            let took = started.elapsed();
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            let mut out = String::new();
            writeln!(
                out,
                "| request type | step | done | median | p90 | late | waiting | median age | past due |"
            )?;
            writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
            for row in &report.steps {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    row.kind,
                    row.step,
                    row.finished.count,
                    duration(row.finished.median_seconds),
                    duration(row.finished.p90_seconds),
                    row.finished.breaches,
                    row.open.count,
                    duration(row.open.median_seconds),
                    row.open.breaches,
                )?;
            }
            if let Some(w) = &report.waiting_most {
                writeln!(
                    out,
                    "\nmost requests wait at: {} / {} ({} waiting, {} past their deadline)",
                    w.kind, w.step, w.open, w.past_due
                )?;
            }
            writeln!(
                out,
                "\n{} step visits read and counted in {:.0} ms",
                report.spans,
                took.as_secs_f64() * 1000.0
            )?;
            print!("{out}");
        }
    }
    Ok(())
}
