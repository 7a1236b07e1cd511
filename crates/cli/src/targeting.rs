//! `sanad score …` and `sanad programme …`: the index models, rescoring, targeting quality, the
//! programmes and their enrolments, from the command line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use sanad_app::targeting::service::{self, Targeting};
use sanad_app::targeting::{EnrolmentFilter, EnrolmentState};
use sanad_app::{Actor, Registry};
use sanad_domain::{HouseholdId, Lang};

use crate::commands::open_keyed;
use crate::progress::Bar;
use crate::settings::Settings;

/// The demo's index model, fitted by `sanad score fit` on the generator's survey.
pub const DEMO_MODEL: &str = include_str!("../../targeting/models/pmt-demo.toml");

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScoreArgs {
    /// Rescore every household with the active model and re-check every programme, in batches;
    /// an interrupted run resumes where it stopped.
    #[arg(long)]
    pub all: bool,
    /// With --all: start again from the first household instead of resuming.
    #[arg(long, requires = "all")]
    pub restart: bool,
    #[command(subcommand)]
    pub command: Option<ScoreCommand>,
}

#[derive(Subcommand)]
pub enum ScoreCommand {
    /// Fit an index model by weighted least squares on a household consumption survey (no
    /// database needed); prints R² and the error per region and area.
    Fit {
        /// The survey file (one row per person, the household's columns repeated; see
        /// docs/csv-layout.md).
        #[arg(long)]
        survey: PathBuf,
        /// Where to write the model file (TOML).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Identifier and version of the model written.
        #[arg(long, default_value = "pmt")]
        id: String,
        #[arg(long, default_value_t = 1)]
        version: u32,
    },
    /// Record a model file (TOML or JSON) in the database.
    Import {
        file: PathBuf,
        /// Make it the active model at once.
        #[arg(long)]
        activate: bool,
        #[arg(long, default_value = "model import")]
        reason: String,
    },
    /// Make a recorded model the one households are scored with, then rescore the registry and
    /// re-check every programme (as `sanad score --all`).
    Activate {
        #[arg(long)]
        model: String,
        #[arg(long)]
        version: u32,
        #[arg(long, default_value = "model activation")]
        reason: String,
        /// Activate only; rescore later with `sanad score --all`.
        #[arg(long)]
        no_rescore: bool,
    },
    /// List the recorded models.
    Models,
    /// Try a model file on the whole registry before activating it: households entering and
    /// leaving each programme, by region and area. Writes nothing.
    DryRun { file: PathBuf },
    /// Targeting errors of the recorded scores against a truth file (consumption.csv): inclusion
    /// and exclusion errors at each programme's threshold, by region and area, and the share of
    /// the poorest 20 % reached.
    Evaluate {
        #[arg(long)]
        truth: PathBuf,
    },
    /// A household's index, what raised or lowered it, and its answer from every programme.
    Show {
        household: String,
        #[arg(long, default_value = "fr")]
        lang: String,
    },
}

#[derive(Subcommand)]
pub enum ProgrammeCommand {
    /// Define (a new version of) a programme from its file; refused with the position of a rule
    /// that does not compile.
    Define {
        file: PathBuf,
        #[arg(long, default_value = "programme definition")]
        reason: String,
    },
    /// Define the programmes shipped with Sanad (family allowance, AMO-Tadamon, school support,
    /// disability allowance).
    DefineShipped {
        #[arg(long, default_value = "programmes shipped with Sanad")]
        reason: String,
    },
    /// The programmes in force.
    List,
    /// How many households a rule admits, over the whole registry (the facts are loaded once,
    /// then counted on every core).
    Count {
        /// A CEL condition over `household` and `members`, e.g. `household.index <= 9.32`.
        #[arg(long)]
        rule: String,
    },
    /// Enrol every eligible household (or person) of a programme.
    Enrol {
        code: String,
        /// Only inside this region, province or commune.
        #[arg(long)]
        territory: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// Enrolments counted by programme, region, area and state.
    Enrolments {
        #[arg(long)]
        programme: Option<String>,
    },
    /// One household's enrolments and their history.
    History { household: String },
}

async fn open(settings: &Settings) -> anyhow::Result<Targeting> {
    let opened = open_keyed(settings, false).await?;
    let targeting = Targeting::new(
        Registry::new(opened.registry),
        opened.targeting,
        opened.programmes,
    )
    // Servers may be writing to the same database: see `Targeting::with_settle`.
    .with_settle(sanad_app::targeting::service::SETTLE);
    targeting.load().await?;
    Ok(targeting)
}

fn operator() -> Actor {
    Actor::system("sanad-cli")
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub async fn score(settings: &Settings, args: &ScoreArgs) -> anyhow::Result<()> {
    let actor = operator();
    match &args.command {
        None if args.all => {
            let targeting = open(settings).await?;
            if targeting.engine().index_model().is_none() {
                eprintln!("note: no active index model; programmes are checked without an index");
            }
            rescore(&targeting, &actor, args.restart).await
        }
        None => bail!("say what to do: `sanad score --all`, or a subcommand (see --help)"),
        Some(ScoreCommand::Fit {
            survey,
            out,
            id,
            version,
        }) => {
            let file = std::fs::File::open(survey)
                .with_context(|| format!("cannot read {}", survey.display()))?;
            let households = sanad_targeting::read_survey_csv(std::io::BufReader::new(file))
                .with_context(|| format!("in {}", survey.display()))?;
            let options = sanad_targeting::FitOptions {
                id: id.clone(),
                version: *version,
                ..Default::default()
            };
            let report = sanad_targeting::fit(&households, &options)?;
            println!("{report}");
            if let Some(out) = out {
                use std::io::Write as _;
                let mut pending = sanad_app::atomic::PendingFiles::new();
                let mut file = pending
                    .create(out)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                file.write_all(report.model.to_toml().as_bytes())?;
                drop(file);
                pending
                    .commit(true)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                eprintln!("model written to {}", out.display());
            }
            Ok(())
        }
        Some(ScoreCommand::Import {
            file,
            activate,
            reason,
        }) => {
            let targeting = open(settings).await?;
            let (record, new) = targeting
                .import_model(&actor, &read_file(file)?, reason)
                .await?;
            println!(
                "model {} version {} {}",
                record.id,
                record.version,
                if new {
                    "recorded"
                } else {
                    "was already recorded"
                }
            );
            if *activate {
                targeting
                    .activate_model(&actor, &record.id, record.version, reason)
                    .await?;
                println!("active");
                rescore(&targeting, &actor, false).await?;
            }
            Ok(())
        }
        Some(ScoreCommand::Activate {
            model,
            version,
            reason,
            no_rescore,
        }) => {
            let targeting = open(settings).await?;
            targeting
                .activate_model(&actor, model, *version, reason)
                .await?;
            println!("model {model} version {version} is active");
            if !no_rescore {
                rescore(&targeting, &actor, false).await?;
            }
            Ok(())
        }
        Some(ScoreCommand::Models) => {
            let targeting = open(settings).await?;
            for m in targeting.models(&actor).await? {
                println!(
                    "{}{} version {}  imported {} by {}  {}",
                    if m.active { "* " } else { "  " },
                    m.id,
                    m.version,
                    m.imported_at.date(),
                    m.imported_by,
                    m.description
                );
            }
            Ok(())
        }
        Some(ScoreCommand::DryRun { file }) => {
            let targeting = open(settings).await?;
            let candidate = service::parse_model(&read_file(file)?)?;
            let bar = Bar::new();
            let run = targeting.dry_run(&actor, candidate, &bar).await?;
            bar.finish();
            println!(
                "model {} version {} on {} households (nothing written)",
                run.model_id, run.model_version, run.households
            );
            println!(
                "{:<20} {:<7} {:<6} {:>10} {:>10} {:>9} {:>9}",
                "programme", "region", "area", "now", "then", "entering", "leaving"
            );
            let mut totals: HashMap<String, (u64, u64, u64, u64)> = HashMap::new();
            for l in &run.lines {
                println!(
                    "{:<20} {:<7} {:<6} {:>10} {:>10} {:>9} {:>9}",
                    l.programme_code,
                    l.region_code,
                    l.area,
                    l.eligible_now,
                    l.eligible_then,
                    l.entering,
                    l.leaving
                );
                let t = totals.entry(l.programme_code.clone()).or_default();
                t.0 += l.eligible_now;
                t.1 += l.eligible_then;
                t.2 += l.entering;
                t.3 += l.leaving;
            }
            let mut totals: Vec<_> = totals.into_iter().collect();
            totals.sort();
            for (code, (now, then, entering, leaving)) in totals {
                println!(
                    "{code:<20} {:<7} {:<6} {now:>10} {then:>10} {entering:>9} {leaving:>9}",
                    "all", "all"
                );
            }
            Ok(())
        }
        Some(ScoreCommand::Evaluate { truth }) => {
            let targeting = open(settings).await?;
            let file = std::fs::File::open(truth)
                .with_context(|| format!("cannot read {}", truth.display()))?;
            let rows = sanad_targeting::read_truth_csv(std::io::BufReader::new(file))
                .with_context(|| format!("in {}", truth.display()))?;
            let mut by_id = HashMap::with_capacity(rows.len());
            for (i, (id, ln)) in rows.into_iter().enumerate() {
                let id = HouseholdId::parse(&id).map_err(|e| {
                    anyhow::anyhow!("{}, row {}: household_id: {e}", truth.display(), i + 2)
                })?;
                by_id.insert(id, ln);
            }
            let (evaluation, missing) = targeting.evaluate(&actor, &by_id).await?;
            println!("{evaluation}");
            if missing > 0 {
                println!("{missing} scored households are not in the truth file");
            }
            Ok(())
        }
        Some(ScoreCommand::Show { household, lang }) => {
            let targeting = open(settings).await?;
            let id =
                HouseholdId::parse(household).map_err(|e| anyhow::anyhow!("household: {e}"))?;
            let lang = Lang::parse(lang).context("--lang: fr, ar or en")?;
            let view = targeting
                .household(
                    &actor,
                    id,
                    lang,
                    &sanad_app::registry::Purpose("sanad score show".into()),
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&view)?);
            Ok(())
        }
    }
}

/// Rescores the registry with a progress bar and prints what it did.
async fn rescore(targeting: &Targeting, actor: &Actor, restart: bool) -> anyhow::Result<()> {
    let bar = Bar::new();
    let summary = targeting.rescore_all(actor, restart, &bar).await?;
    bar.finish();
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "rescored {} households in {:.1} s ({:.0}/s){}; {} changed meanwhile (already assessed by their write); {} enrolment changes",
        summary.households,
        secs,
        summary.households as f64 / secs.max(1e-9),
        if summary.resumed {
            ", resuming an interrupted run"
        } else {
            ""
        },
        summary.stale,
        summary.run.transitions,
    );
    Ok(())
}

pub async fn programme(settings: &Settings, command: &ProgrammeCommand) -> anyhow::Result<()> {
    let actor = operator();
    let targeting = open(settings).await?;
    match command {
        ProgrammeCommand::Define { file, reason } => {
            let (record, new) = targeting
                .define_programme(&actor, &read_file(file)?, reason)
                .await?;
            println!(
                "programme {} version {} {}",
                record.code,
                record.version,
                if new {
                    "defined"
                } else {
                    "was already defined"
                }
            );
        }
        ProgrammeCommand::DefineShipped { reason } => {
            for (name, text) in sanad_programmes::shipped() {
                let (record, new) = targeting.define_programme(&actor, text, reason).await?;
                println!(
                    "{name}: programme {} version {} {}",
                    record.code,
                    record.version,
                    if new {
                        "defined"
                    } else {
                        "was already defined"
                    }
                );
            }
        }
        ProgrammeCommand::List => {
            for p in targeting.programmes(&actor).await? {
                println!(
                    "{:<22} v{:<3} {:<9} {:<9} {}",
                    p.code,
                    p.version,
                    service::unit_code(p.unit),
                    p.frequency.code(),
                    p.names.fr
                );
            }
        }
        ProgrammeCommand::Count { rule } => {
            let rule = service::compile_rule(rule)?;
            let bar = Bar::new();
            let snapshot = targeting.snapshot(&actor, &bar).await?;
            bar.finish();
            let (tally, took) = service::count_rule(&rule, &snapshot);
            println!(
                "{} of {} households admitted ({} refused, {} undecided); counted in {:.3} s (facts loaded in {:.1} s)",
                tally.admitted,
                snapshot.households.len(),
                tally.refused,
                tally.errors,
                took.as_secs_f64(),
                snapshot.loaded_in.as_secs_f64()
            );
        }
        ProgrammeCommand::Enrol {
            code,
            territory,
            reason,
        } => {
            let n = targeting
                .enrol_eligible(&actor, code, territory.as_deref(), reason)
                .await?;
            println!("{n} enrolled in {code}");
        }
        ProgrammeCommand::Enrolments { programme } => {
            println!(
                "{:<22} {:<7} {:<6} {:<10} {:>9} {:>16}",
                "programme", "region", "area", "state", "count", "amount (MAD)"
            );
            for c in targeting
                .enrolment_counts(&actor, programme.as_deref())
                .await?
            {
                println!(
                    "{:<22} {:<7} {:<6} {:<10} {:>9} {:>16}",
                    c.programme_code,
                    c.region_code,
                    c.area.as_str(),
                    c.state.as_str(),
                    c.count,
                    c.amount.to_string()
                );
            }
        }
        ProgrammeCommand::History { household } => {
            let id =
                HouseholdId::parse(household).map_err(|e| anyhow::anyhow!("household: {e}"))?;
            let now = targeting
                .enrolments(
                    &actor,
                    EnrolmentFilter {
                        household_id: Some(id),
                        limit: 1000,
                        ..Default::default()
                    },
                )
                .await?;
            for e in &now {
                println!(
                    "{:<22} {:<14} {:<10} since {}  {}",
                    e.programme_code,
                    e.person_id.map(|p| p.to_string()).unwrap_or_default(),
                    e.state.as_str(),
                    e.since.date(),
                    e.reason
                );
            }
            for e in targeting.enrolment_history(&actor, id).await? {
                println!(
                    "  {} {:<22} {:<14} {} → {} ({}) by {}",
                    e.at.date(),
                    e.programme_code,
                    e.person_id.map(|p| p.to_string()).unwrap_or_default(),
                    e.from.map(EnrolmentState::as_str).unwrap_or("-"),
                    e.to.as_str(),
                    e.reason,
                    e.actor
                );
            }
        }
    }
    Ok(())
}

/// The demo's targeting: the shipped index model (active), the shipped programmes, every
/// household scored and checked, and the eligible enrolled. Idempotent: a second start only
/// rescores.
pub async fn demo_setup(settings: &Settings) -> anyhow::Result<()> {
    let targeting = open(settings).await?;
    let actor = Actor::system("demo");
    let (model, _) = targeting
        .import_model(
            &actor,
            DEMO_MODEL,
            "demo: the model fitted on the generated survey",
        )
        .await?;
    let active = targeting.store().active_model().await?;
    if active.is_none_or(|a| (a.id.as_str(), a.version) != (model.id.as_str(), model.version)) {
        targeting
            .activate_model(&actor, &model.id, model.version, "demo")
            .await?;
    }
    for (_, text) in sanad_programmes::shipped() {
        targeting
            .define_programme(&actor, text, "demo: programmes shipped with Sanad")
            .await?;
    }
    let bar = Bar::new();
    let summary = targeting.rescore_all(&actor, false, &bar).await?;
    bar.finish();
    let mut enrolled = 0;
    for p in targeting.programmes(&actor).await? {
        enrolled += targeting
            .enrol_eligible(&actor, &p.code, None, "demo: eligible households enrolled")
            .await?;
    }
    eprintln!(
        "targeting: model {} v{} active, {} programmes, {} households scored in {:.1} s, {} enrolled",
        model.id,
        model.version,
        targeting.engine().programmes().len(),
        summary.households,
        summary.elapsed.as_secs_f64(),
        enrolled
    );
    Ok(())
}
