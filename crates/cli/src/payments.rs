//! `sanad cycle …`, `sanad pay …` and `sanad adhesion …`: compute and approve cycles, record how
//! households are paid, write the payment files, read the providers' answers back, and exchange
//! AMO-Tadamon adhesions with the insurer.
//!
//! Maker–checker from the command line: the operator's name (`--operator` or `SANAD_OPERATOR`) is
//! who prepared or approved a cycle, and a cycle is not approved by the name that prepared it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use sanad_app::payments::files::{AnswerFormat, BatchFormat, Payer, check_means};
use sanad_app::payments::service::Payments;
use sanad_app::payments::{MeansRecord, PaymentFilter, PaymentState, mad};
use sanad_app::targeting::service::Targeting;
use sanad_app::{Actor, Registry, Role};
use sanad_domain::HouseholdId;

use crate::commands::open_keyed;
use crate::progress::Bar;
use crate::settings::Settings;

#[derive(Args)]
pub struct Operator {
    /// Who runs the command (kept in the audit trail; a cycle is approved by another name than
    /// the one that prepared it).
    #[arg(
        long,
        env = "SANAD_OPERATOR",
        default_value = "sanad-cli",
        global = true
    )]
    pub operator: String,
}

#[derive(Args)]
pub struct CycleArgs {
    #[command(flatten)]
    pub operator: Operator,
    #[command(subcommand)]
    pub command: CycleCommand,
}

#[derive(Subcommand)]
pub enum CycleCommand {
    /// Compute the entitlement of every enrolled beneficiary of a programme for a month, from the
    /// programme's amounts on the month's first day; refused before anything is written when the
    /// total would exceed the cap. Run again after an interruption to resume.
    Prepare {
        #[arg(long)]
        programme: String,
        /// The month paid, YYYY-MM.
        #[arg(long)]
        period: String,
        /// The most the cycle may pay, in MAD (default: the programme's cap, if any).
        #[arg(long)]
        budget_cap: Option<String>,
        #[arg(long, default_value = "cycle preparation")]
        reason: String,
    },
    /// What a cycle would pay (entitlements, total, who is left out and why), writing nothing.
    Preview {
        #[arg(long)]
        programme: String,
        #[arg(long)]
        period: String,
    },
    /// Approve a computed cycle (another operator than the one who prepared it).
    Approve {
        id: i64,
        #[arg(long, default_value = "cycle approval")]
        reason: String,
    },
    /// Stop a cycle that is not approved.
    Cancel {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// The cycles, newest last.
    List {
        #[arg(long)]
        programme: Option<String>,
    },
    /// A cycle and its batches.
    Show { id: i64 },
}

#[derive(Args)]
pub struct PayArgs {
    #[command(flatten)]
    pub operator: Operator,
    #[command(subcommand)]
    pub command: PayCommand,
}

#[derive(Args)]
pub struct PayerArgs {
    /// The paying agency's name on the files.
    #[arg(
        long,
        env = "SANAD_PAYER_NAME",
        default_value = "Agence Nationale du Soutien Social"
    )]
    pub payer_name: String,
    /// The paying agency's account (IBAN or RIB).
    #[arg(
        long,
        env = "SANAD_PAYER_ACCOUNT",
        default_value = "MA64011780000001230001040173"
    )]
    pub payer_account: String,
    #[arg(long, env = "SANAD_PAYER_BIC")]
    pub payer_bic: Option<String>,
    /// The cash network whose agencies pay cash pick-ups.
    #[arg(long, env = "SANAD_CASH_NETWORK", default_value = "CASH-NETWORK")]
    pub cash_network: String,
}

impl PayerArgs {
    fn payer(&self) -> Payer {
        Payer {
            name: self.payer_name.clone(),
            account: self.payer_account.clone(),
            bic: self.payer_bic.clone(),
            cash_network: self.cash_network.clone(),
        }
    }
}

#[derive(Subcommand)]
pub enum PayCommand {
    /// Record how a household is paid: a bank account (24-digit RIB, refused when its key is
    /// wrong), a mobile wallet, or cash at an agency.
    Means {
        household: String,
        #[arg(long, group = "means")]
        rib: Option<String>,
        /// The wallet's phone number (E.164, +212…), with --provider.
        #[arg(long, group = "means", requires = "provider")]
        wallet: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        /// The agency code of the cash network where the beneficiary collects the money.
        #[arg(long, group = "means")]
        cash_agency: Option<String>,
        /// The holder's name.
        #[arg(long)]
        holder: String,
        #[arg(long, default_value = "payment means")]
        reason: String,
    },
    /// Record the means of many households from a CSV file (household_id, kind, rib, phone,
    /// provider, agency, holder): all rows or none.
    ImportMeans {
        file: PathBuf,
        #[arg(long, default_value = "payment means import")]
        reason: String,
    },
    /// Put what an approved cycle still owes into one batch per means kind and write their files
    /// into a directory (a batch already open is written again, the same file).
    Export {
        #[arg(long)]
        cycle: i64,
        #[arg(long)]
        out: PathBuf,
        /// pain001 (ISO 20022 pain.001.001.09) or csv.
        #[arg(long, default_value = "pain001")]
        format: String,
        #[command(flatten)]
        payer: PayerArgs,
    },
    /// Read a provider's answer (camt.054 or CSV): paid, failed with a reason, reversed. Every line
    /// is checked before anything is written; the same file twice does nothing.
    Reconcile {
        file: PathBuf,
        /// camt054 or csv (default: from the file's first byte).
        #[arg(long)]
        format: Option<String>,
    },
    /// Play the provider: write the answer to an exported batch (every payment paid, one in
    /// `--fail-every` failed as a closed account), for tests, demonstrations and rehearsals.
    SimulateAnswer {
        #[arg(long)]
        batch: i64,
        #[arg(long)]
        out: PathBuf,
        /// camt054 or csv.
        #[arg(long, default_value = "camt054")]
        format: String,
        #[arg(long, default_value_t = 0)]
        fail_every: u64,
    },
    /// Payments of a cycle or a household.
    List {
        #[arg(long)]
        cycle: Option<i64>,
        #[arg(long)]
        household: Option<String>,
        /// pending, sent, paid, failed or reversed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Args)]
pub struct AdhesionArgs {
    #[command(flatten)]
    pub operator: Operator,
    #[command(subcommand)]
    pub command: AdhesionCommand,
}

#[derive(Subcommand)]
pub enum AdhesionCommand {
    /// Write the file of adhesions for the insurer: every enrolled person without a live adhesion
    /// (a rejected one goes again).
    Export {
        #[arg(long, default_value = "amo-tadamon")]
        programme: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Read the insurer's answer (accepted with its number, or rejected with a reason), all lines
    /// or none, exactly once.
    Answer { file: PathBuf },
}

async fn open(settings: &Settings) -> anyhow::Result<Payments> {
    let opened = open_keyed(settings, false).await?;
    let registry = Registry::new(opened.registry);
    let targeting = Targeting::new(registry.clone(), opened.targeting, opened.programmes);
    targeting.load().await?;
    let mut payments = Payments::new(registry, targeting, opened.payments);
    // Rows per transaction of a cycle's computation (a tuning knob; the crash tests make it small).
    if let Some(rows) = std::env::var("SANAD_CYCLE_BATCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        payments = payments.with_batch_rows(rows);
    }
    Ok(payments)
}

fn actor(operator: &Operator) -> Actor {
    Actor {
        username: operator.operator.clone(),
        role: Role::Admin,
        territories: Vec::new(),
        household: None,
        scopes: None,
    }
}

fn household(text: &str) -> anyhow::Result<HouseholdId> {
    HouseholdId::parse(text).map_err(|e| anyhow::anyhow!("household: {e}"))
}

fn print_cycle(c: &sanad_app::payments::Cycle) {
    println!(
        "cycle {}  {} v{}  {}  {}  {} entitlements  {} MAD  ({} skipped){}{}",
        c.id,
        c.programme_code,
        c.programme_version,
        c.period,
        c.state.as_str(),
        c.entitlements,
        mad(c.total),
        c.skipped,
        format_args!("  prepared by {}", c.prepared_by),
        c.approved_by
            .as_ref()
            .map(|a| format!(", approved by {a}"))
            .unwrap_or_default()
    );
}

pub async fn cycle(settings: &Settings, args: &CycleArgs) -> anyhow::Result<()> {
    let actor = actor(&args.operator);
    let payments = open(settings).await?;
    match &args.command {
        CycleCommand::Prepare {
            programme,
            period,
            budget_cap,
            reason,
        } => {
            let cap = budget_cap
                .as_deref()
                .map(|t| parse_mad(t).context("--budget-cap"))
                .transpose()?;
            let bar = Bar::new();
            let out = payments
                .prepare_cycle(&actor, programme, period, cap, reason, &bar)
                .await;
            bar.finish();
            let out = out?;
            print_cycle(&out.cycle);
            for (why, n) in &out.skipped {
                println!("  skipped {n}: {why}");
            }
            Ok(())
        }
        CycleCommand::Preview { programme, period } => {
            let p = payments
                .preview_cycle(&actor, programme, period, &sanad_app::store::NoProgress)
                .await?;
            println!(
                "{} {}: {} entitlements  {} MAD (nothing written)",
                p.programme_code,
                p.period,
                p.entitlements,
                mad(p.total)
            );
            for (why, n) in &p.skipped {
                println!("  skipped {n}: {why}");
            }
            Ok(())
        }
        CycleCommand::Approve { id, reason } => {
            let c = payments.approve_cycle(&actor, *id, reason).await?;
            print_cycle(&c);
            Ok(())
        }
        CycleCommand::Cancel { id, reason } => {
            let c = payments.cancel_cycle(&actor, *id, reason).await?;
            print_cycle(&c);
            Ok(())
        }
        CycleCommand::List { programme } => {
            for c in payments.cycles(&actor, programme.as_deref()).await? {
                print_cycle(&c);
            }
            Ok(())
        }
        CycleCommand::Show { id } => {
            let c = payments.cycle(&actor, *id).await?;
            print_cycle(&c);
            for b in payments.batches(&actor, *id).await? {
                println!(
                    "  batch {}  {}  {}  {} payments  {} MAD{}",
                    b.id,
                    b.kind,
                    b.state.as_str(),
                    b.payments,
                    mad(b.total),
                    b.file_sha256
                        .as_ref()
                        .map(|s| format!("  file {s}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

/// MAD with at most two decimals, to centimes.
fn parse_mad(text: &str) -> anyhow::Result<i64> {
    let t = text.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        bail!("an amount in MAD with at most two decimals (1250000.50), found {text:?}");
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| anyhow::anyhow!("amount too large: {text}"))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(frac))
        .ok_or_else(|| anyhow::anyhow!("amount too large: {text}"))
}

fn means_json(
    rib: Option<&str>,
    wallet: Option<&str>,
    provider: Option<&str>,
    agency: Option<&str>,
    holder: &str,
) -> anyhow::Result<String> {
    let v = match (rib, wallet, agency) {
        (Some(rib), None, None) => {
            serde_json::json!({"kind": "bank", "rib": rib, "holder": holder})
        }
        (None, Some(phone), None) => serde_json::json!({
            "kind": "wallet", "phone": phone, "provider": provider.unwrap_or(""), "holder": holder
        }),
        (None, None, Some(agency)) => serde_json::json!({
            "kind": "cash", "agency": agency, "reference": "per-payment", "holder": holder
        }),
        _ => bail!("one means: --rib, --wallet (with --provider) or --cash-agency"),
    };
    Ok(v.to_string())
}

pub async fn pay(settings: &Settings, args: &PayArgs) -> anyhow::Result<()> {
    let actor = actor(&args.operator);
    let payments = open(settings).await?;
    match &args.command {
        PayCommand::Means {
            household: h,
            rib,
            wallet,
            provider,
            cash_agency,
            holder,
            reason,
        } => {
            let id = household(h)?;
            let json = means_json(
                rib.as_deref(),
                wallet.as_deref(),
                provider.as_deref(),
                cash_agency.as_deref(),
                holder,
            )?;
            let means = check_means(&json)?;
            payments
                .set_means_checked(&actor, id, &means, reason)
                .await?;
            println!("household {id}: paid by {}", means.kind());
            Ok(())
        }
        PayCommand::ImportMeans { file, reason } => {
            let rows = read_means_csv(file)?;
            let n = payments
                .import_means(&actor, &rows, reason)
                .await
                .with_context(|| format!("in {}", file.display()))?;
            println!("{n} households' means recorded");
            Ok(())
        }
        PayCommand::Export {
            cycle,
            out,
            format,
            payer,
        } => {
            let format = BatchFormat::parse(format).context("--format: pain001 or csv")?;
            std::fs::create_dir_all(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let batches = payments
                .open_batches(&actor, *cycle, "payment export")
                .await?;
            if batches.is_empty() {
                println!("cycle {cycle}: nothing left to pay");
            }
            for b in batches {
                let path = out.join(format!(
                    "cycle-{cycle}-batch-{}-{}.{}",
                    b.id,
                    b.kind,
                    format.extension()
                ));
                let (b, written) = payments
                    .export_batch(&actor, b.id, format, &payer.payer(), &path)
                    .await?;
                println!(
                    "batch {}  {}  {} payments  {} MAD  {}  sha256 {}",
                    b.id,
                    b.kind,
                    b.payments,
                    mad(b.total),
                    path.display(),
                    written.sha256
                );
            }
            Ok(())
        }
        PayCommand::Reconcile { file, format } => {
            let format = format
                .as_deref()
                .map(|f| AnswerFormat::parse(f).context("--format: camt054 or csv"))
                .transpose()?;
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let out = payments
                .reconcile_file(&actor, &bytes, &name, format)
                .await
                .with_context(|| format!("in {}", file.display()))?;
            let r = &out.reconciliation;
            if out.already_imported {
                println!(
                    "{} was imported already (reconciliation {}): nothing done",
                    file.display(),
                    r.id
                );
            }
            println!(
                "reconciliation {}  {} lines: {} paid, {} failed, {} reversed, {} unchanged",
                r.id, r.lines, r.paid, r.failed, r.reversed, r.unchanged
            );
            Ok(())
        }
        PayCommand::SimulateAnswer {
            batch,
            out,
            format,
            fail_every,
        } => {
            let format = AnswerFormat::parse(format).context("--format: camt054 or csv")?;
            let b = payments.batch(&actor, *batch).await?;
            let bytes = sanad_app::payments::files::simulated_answer(
                &payments,
                &actor,
                &b,
                format,
                *fail_every,
            )
            .await?;
            std::fs::write(out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("answer to batch {batch} written to {}", out.display());
            Ok(())
        }
        PayCommand::List {
            cycle,
            household: h,
            state,
            limit,
        } => {
            let filter = PaymentFilter {
                cycle_id: *cycle,
                household_id: h.as_deref().map(household).transpose()?,
                state: state
                    .as_deref()
                    .map(|s| {
                        PaymentState::parse(s)
                            .context("--state: pending, sent, paid, failed or reversed")
                    })
                    .transpose()?,
                limit: *limit,
                ..Default::default()
            };
            for p in payments.payments(&actor, filter).await? {
                println!(
                    "{}  cycle {}  household {}  attempt {}  {} MAD  {}  {}{}",
                    p.end_to_end_id,
                    p.cycle_id,
                    p.household_id,
                    p.attempt,
                    mad(p.amount),
                    p.kind,
                    p.state.as_str(),
                    if p.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} {})", p.reason_code, p.reason)
                    }
                );
            }
            Ok(())
        }
    }
}

/// A CSV of means: every row checked (the row and field of the first bad one are named) before
/// anything is recorded.
fn read_means_csv(path: &Path) -> anyhow::Result<Vec<MeansRecord>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| anyhow::anyhow!("{}: no column {name}", path.display()))
    };
    let (hc, kc, holder_c) = (need("household_id")?, need("kind")?, need("holder")?);
    let (rc, pc, prc, ac) = (col("rib"), col("phone"), col("provider"), col("agency"));
    let mut out = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{}, row {line}", path.display()))?;
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let h = HouseholdId::parse(row.get(hc).unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("{}, row {line}, household_id: {e}", path.display()))?;
        let kind = row.get(kc).unwrap_or("").trim();
        let holder = row.get(holder_c).unwrap_or("").trim();
        let json = match kind {
            "bank" => means_json(get(rc), None, None, None, holder),
            "wallet" => means_json(None, get(pc).or(Some("")), get(prc), None, holder),
            "cash" => means_json(None, None, None, get(ac).or(Some("")), holder),
            other => Err(anyhow::anyhow!(
                "kind: bank, wallet or cash, found {other:?}"
            )),
        }
        .map_err(|e| anyhow::anyhow!("{}, row {line}: {e}", path.display()))?;
        let means = check_means(&json)
            .map_err(|e| anyhow::anyhow!("{}, row {line}: {e}", path.display()))?;
        out.push(MeansRecord {
            household_id: h,
            kind: means.kind().as_str().to_string(),
            details: serde_json::to_string(&means)?,
            holder: means.holder().to_string(),
            updated_by: String::new(),
            updated_at: now,
        });
    }
    Ok(out)
}

pub async fn adhesion(settings: &Settings, args: &AdhesionArgs) -> anyhow::Result<()> {
    let actor = actor(&args.operator);
    let payments = open(settings).await?;
    match &args.command {
        AdhesionCommand::Export { programme, out } => {
            let Some(batch) = payments
                .open_adhesions(&actor, programme, "adhesion export")
                .await?
            else {
                println!("{programme}: every enrolled person has an adhesion");
                return Ok(());
            };
            let (b, written) = payments.export_adhesions(&actor, &batch, out).await?;
            println!(
                "adhesion batch {}  {} adhesions  {}  sha256 {}",
                b.id,
                b.adhesions,
                out.display(),
                written.sha256
            );
            Ok(())
        }
        AdhesionCommand::Answer { file } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let out = payments
                .adhesion_answer_file(&actor, &bytes, &name)
                .await
                .with_context(|| format!("in {}", file.display()))?;
            let a = &out.answer;
            if out.already_imported {
                println!("{} was imported already: nothing done", file.display());
            }
            println!(
                "answer {}  {} lines: {} accepted, {} rejected, {} unchanged",
                a.id, a.lines, a.accepted, a.rejected, a.unchanged
            );
            Ok(())
        }
    }
}

/// The demo's payment means: every household without one gets a bank account, a wallet or a
/// cash pick-up in turn (generated RIBs with valid keys), so that a manager can try a cycle.
pub async fn demo_setup(settings: &Settings) -> anyhow::Result<()> {
    let payments = open(settings).await?;
    let store = payments.store().clone();
    let actor = Actor::system("demo");
    let opened = open_keyed(settings, false).await?;
    let mut after = None;
    let mut rows = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    let mut n = 0u64;
    loop {
        let page = opened.targeting.index_rows(after, 50_000).await?;
        let Some(last) = page.last().map(|r| r.household_id) else {
            break;
        };
        // Set up once: a demo whose first household has a means was set up before.
        if after.is_none() && store.payment_means(page[0].household_id).await?.is_some() {
            return Ok(());
        }
        for r in &page {
            n += 1;
            let holder = format!("Titulaire {}", r.household_id);
            let json = match n % 5 {
                0 => means_json(
                    None,
                    Some(&format!("+2126{:08}", n % 100_000_000)),
                    Some("MWALLET"),
                    None,
                    &holder,
                )?,
                1 => means_json(
                    None,
                    None,
                    None,
                    Some(&format!("AG{:04}", n % 500)),
                    &holder,
                )?,
                _ => {
                    let rib = sanad_payfiles::rib::Rib::from_parts(
                        &format!("{:03}", [7, 11, 13, 145, 190][(n % 5) as usize]),
                        &format!("{:03}", 780 + n % 100),
                        &format!("{:016}", n),
                    )
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                    means_json(Some(rib.digits()), None, None, None, &holder)?
                }
            };
            let means = check_means(&json)?;
            rows.push(MeansRecord {
                household_id: r.household_id,
                kind: means.kind().as_str().to_string(),
                details: serde_json::to_string(&means)?,
                holder: means.holder().to_string(),
                updated_by: String::new(),
                updated_at: now,
            });
        }
        after = Some(last);
    }
    if !rows.is_empty() {
        payments
            .import_means(&actor, &rows, "demo: generated payment means")
            .await?;
        eprintln!(
            "payments: {} households given a means of payment",
            rows.len()
        );
    }
    Ok(())
}
