//! The files that cross the border: payment batches out (pain.001.001.09 or CSV), providers'
//! answers in (camt.054 or CSV), adhesion files out and the insurer's answers in. The formats are
//! `sanad-payfiles`; here they meet the store.
//!
//! A batch's file is the same bytes every time it is written (its header comes from the batch
//! record, its lines from the payments in id order), so an export interrupted after the file was
//! written and before it was recorded is finished by writing it again: same file, same digest, and
//! the provider refuses a second file with the same message id anyway.

use std::io::Write;
use std::path::Path;

use sanad_domain::Amount;
use sanad_payfiles::amo::{AdhesionOutcome, AdhesionWriter};
use sanad_payfiles::answer::{self, AnswerLine};
use sanad_payfiles::batch_csv::CsvBatchWriter;
use sanad_payfiles::means::{Means, MeansKind};
use sanad_payfiles::pain001::{BatchHeader, Debtor, Pain001Writer, Transfer};
use sha2::Digest as _;

use super::service::{AdhesionAnswerItem, AdhesionAnswerOutcome, Payments, ReconcileOutcome};
use super::{AdhesionBatch, AnswerItem, Batch, BatchState, Outcome, Payment, adhesion_ref};
use crate::auth::Actor;
use crate::registry::RegistryError;
use crate::store::StoreError;
use sanad_domain::ValidationErrors;

/// Payments read from the store per page while a file is written.
const PAGE: u32 = 20_000;

fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> RegistryError {
    RegistryError::Validation(ValidationErrors::one(field, code, message.into()))
}

fn internal(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Store(StoreError::Internal(e.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchFormat {
    /// ISO 20022 pain.001.001.09.
    Pain001,
    Csv,
}

impl BatchFormat {
    pub fn parse(text: &str) -> Option<BatchFormat> {
        match text {
            "pain001" | "pain.001" => Some(BatchFormat::Pain001),
            "csv" => Some(BatchFormat::Csv),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            BatchFormat::Pain001 => "xml",
            BatchFormat::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerFormat {
    /// ISO 20022 camt.054 (debit notification).
    Camt054,
    Csv,
}

impl AnswerFormat {
    pub fn parse(text: &str) -> Option<AnswerFormat> {
        match text {
            "camt054" | "camt.054" => Some(AnswerFormat::Camt054),
            "csv" => Some(AnswerFormat::Csv),
            _ => None,
        }
    }

    /// camt.054 when the file starts like XML, CSV otherwise.
    pub fn sniff(bytes: &[u8]) -> AnswerFormat {
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
        match start.map(|i| bytes[i]) {
            Some(b'<') => AnswerFormat::Camt054,
            _ => AnswerFormat::Csv,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnswerFormat::Camt054 => "camt054",
            AnswerFormat::Csv => "csv",
        }
    }
}

/// The paying agency, as its bank knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payer {
    pub name: String,
    pub account: String,
    pub bic: Option<String>,
    /// The network whose agencies pay cash (the creditor agent of cash batches).
    pub cash_network: String,
}

impl Default for Payer {
    fn default() -> Payer {
        Payer {
            name: "Agence Nationale du Soutien Social".into(),
            account: "MA64011780000001230001040173".into(),
            bic: None,
            cash_network: "CASH-NETWORK".into(),
        }
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: sha2::Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A written batch file: its digest and size.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WrittenFile {
    pub sha256: String,
    pub bytes: u64,
    pub records: u64,
}

/// The stored means of a payment, with its own pick-up code for cash.
pub fn payment_means(p: &Payment) -> Result<Means, RegistryError> {
    let means: Means = serde_json::from_str(&p.means).map_err(|e| {
        internal(format!(
            "payment {}: its recorded means cannot be read: {e}",
            p.id
        ))
    })?;
    Ok(match means {
        Means::Cash { agency, holder, .. } => Means::Cash {
            agency,
            reference: p.reference.clone(),
            holder,
        },
        other => other,
    })
}

/// A means as given by a user, checked: a RIB with a wrong key, a phone not in E.164 form, an
/// empty name are refused with the field. A cash means gets its pick-up code per payment.
pub fn check_means(json: &str) -> Result<Means, RegistryError> {
    // The account number first, so that a wrong key is named as such.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json)
        && let Some(rib) = v.get("rib").and_then(|r| r.as_str())
        && let Err(e) = sanad_payfiles::rib::Rib::parse(rib)
    {
        return Err(invalid("means.rib", "invalid_rib", e.to_string()));
    }
    let means: Means = serde_json::from_str(json).map_err(|e| {
        invalid(
            "means",
            "invalid_means",
            format!("a means of payment (bank with a valid RIB, wallet or cash): {e}"),
        )
    })?;
    let code_ok = |v: &str| {
        let n = v.chars().count();
        (1..=35).contains(&n) && !v.chars().any(char::is_control) && v.trim() == v
    };
    if means.holder().chars().count() > 140 {
        return Err(invalid(
            "means.holder",
            "invalid_means",
            "a name of at most 140 characters",
        ));
    }
    match &means {
        Means::Wallet { provider, .. } if !code_ok(provider) => {
            return Err(invalid(
                "means.provider",
                "invalid_means",
                "1 to 35 characters, no control character, no space at either end",
            ));
        }
        Means::Cash { agency, .. } if !code_ok(agency) => {
            return Err(invalid(
                "means.agency",
                "invalid_means",
                "1 to 35 characters, no control character, no space at either end",
            ));
        }
        _ => {}
    }
    means.check().map_err(|e| {
        invalid(
            &format!("means.{}", e.field),
            "invalid_means",
            e.message.clone(),
        )
    })?;
    Ok(means)
}

impl Payments {
    /// Records a checked means of payment for a household.
    pub async fn set_means_checked(
        &self,
        actor: &Actor,
        household: sanad_domain::HouseholdId,
        means: &Means,
        reason: &str,
    ) -> Result<(), RegistryError> {
        let details = serde_json::to_string(means).map_err(internal)?;
        self.set_means(
            actor,
            household,
            means.kind().as_str(),
            details,
            means.holder().to_string(),
            reason,
        )
        .await
    }

    /// Writes a batch's file to `out`, reading its payments page by page. Changes nothing.
    pub async fn write_batch<W: Write>(
        &self,
        actor: &Actor,
        batch: &Batch,
        format: BatchFormat,
        payer: &Payer,
        out: W,
    ) -> Result<(W, WrittenFile), RegistryError> {
        let cycle = self.cycle(actor, batch.cycle_id).await?;
        let kind = MeansKind::parse(&batch.kind)
            .ok_or_else(|| internal(format!("batch {}: unknown kind {}", batch.id, batch.kind)))?;
        let header = BatchHeader {
            message_id: format!("SANAD-B{}", batch.id),
            created_at: batch.created_at,
            initiator: payer.name.clone(),
            debtor: Debtor {
                name: payer.name.clone(),
                account: payer.account.clone(),
                agent_bic: payer.bic.clone(),
            },
            execution_date: batch.created_at.date(),
            count: batch.payments,
            control_sum: batch.total,
            kind,
            // Wallet transfers name their own operator; cash goes through one network.
            provider: (kind == MeansKind::Cash).then(|| payer.cash_network.clone()),
        };
        let remittance = format!("{} {}", cycle.programme_code, cycle.period);
        let hashing = Hashing {
            inner: out,
            hasher: sha2::Sha256::new(),
            bytes: 0,
        };
        enum Any<W: Write> {
            Xml(Pain001Writer<Hashing<W>>),
            Csv(Box<CsvBatchWriter<Hashing<W>>>),
        }
        let mut writer = match format {
            BatchFormat::Pain001 => {
                Any::Xml(Pain001Writer::start(hashing, &header).map_err(internal)?)
            }
            BatchFormat::Csv => Any::Csv(Box::new(
                CsvBatchWriter::start(hashing, &header).map_err(internal)?,
            )),
        };
        let mut after = None;
        let mut records = 0u64;
        let (mut read_t, mut write_t) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        loop {
            let t = std::time::Instant::now();
            let page = self.batch_payments(actor, batch.id, after, PAGE).await?;
            read_t += t.elapsed();
            let Some(last) = page.last().map(|p| p.id) else {
                break;
            };
            let t = std::time::Instant::now();
            for p in &page {
                let means = payment_means(p)?;
                let amount = Amount::from_centimes(p.amount)
                    .ok_or_else(|| internal(format!("payment {}: amount out of range", p.id)))?;
                let t = Transfer {
                    end_to_end_id: &p.end_to_end_id,
                    amount,
                    means: &means,
                    remittance: &remittance,
                };
                match &mut writer {
                    Any::Xml(w) => w.push(&t).map_err(internal)?,
                    Any::Csv(w) => w.push(&t).map_err(internal)?,
                }
                records += 1;
            }
            write_t += t.elapsed();
            after = Some(last);
        }
        tracing::debug!(
            batch.read_ms = read_t.as_millis() as u64,
            batch.write_ms = write_t.as_millis() as u64,
            "batch file written"
        );
        let hashing = match writer {
            Any::Xml(w) => w.finish().map_err(internal)?,
            Any::Csv(w) => w.finish().map_err(internal)?,
        };
        let written = WrittenFile {
            sha256: hex::encode(hashing.hasher.finalize()),
            bytes: hashing.bytes,
            records,
        };
        Ok((hashing.inner, written))
    }

    /// Writes a batch's file at `path` (atomically: a crash leaves no half file) and records it
    /// as handed over. A batch already exported is written again only to check it is the same
    /// file.
    pub async fn export_batch(
        &self,
        actor: &Actor,
        batch: i64,
        format: BatchFormat,
        payer: &Payer,
        path: &Path,
    ) -> Result<(Batch, WrittenFile), RegistryError> {
        let b = self.batch(actor, batch).await?;
        let mut pending = crate::atomic::PendingFiles::new();
        let file = pending
            .create(path)
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        let (file, written) = self
            .write_batch(
                actor,
                &b,
                format,
                payer,
                std::io::BufWriter::with_capacity(1 << 20, file),
            )
            .await?;
        let file = file
            .into_inner()
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        file.sync_all()
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        drop(file);
        if b.state == BatchState::Exported && b.file_sha256.as_deref() != Some(&written.sha256) {
            // Another format, or the same batch in another form: kept beside, not recorded.
            pending
                .commit(true)
                .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
            return Ok((b, written));
        }
        pending
            .commit(true)
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        crate::faults::point("export.written");
        let t = std::time::Instant::now();
        let b = self.mark_exported(actor, batch, &written.sha256).await?;
        tracing::debug!(
            batch.mark_ms = t.elapsed().as_millis() as u64,
            "batch marked exported"
        );
        crate::faults::point("export.recorded");
        Ok((b, written))
    }

    /// Reads a provider's answer and applies it (see [`Payments::reconcile`]). A line that cannot
    /// be read (encoding, a missing or ill-formed field, a duplicate) is named and nothing is
    /// written.
    pub async fn reconcile_file(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
        format: Option<AnswerFormat>,
    ) -> Result<ReconcileOutcome, RegistryError> {
        let format = format.unwrap_or_else(|| AnswerFormat::sniff(bytes));
        let t = std::time::Instant::now();
        let lines = read_answer(bytes, format)?;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        tracing::debug!(
            reconcile.read_ms = t.elapsed().as_millis() as u64,
            "answer read"
        );
        self.reconcile(actor, &lines, &sha, file_name, format.as_str())
            .await
    }

    /// Writes an adhesion batch's file to `out`.
    pub async fn write_adhesions<W: Write>(
        &self,
        actor: &Actor,
        batch: &AdhesionBatch,
        out: W,
    ) -> Result<(W, WrittenFile), RegistryError> {
        let hashing = Hashing {
            inner: out,
            hasher: sha2::Sha256::new(),
            bytes: 0,
        };
        let mut w =
            AdhesionWriter::start(hashing, &format!("SANAD-AB{}", batch.id), batch.adhesions)
                .map_err(internal)?;
        let mut after = None;
        let mut records = 0u64;
        loop {
            let page = self.adhesion_lines(actor, batch.id, after, PAGE).await?;
            let Some(last) = page.last().map(|a| a.id) else {
                break;
            };
            for a in &page {
                let reference = adhesion_ref(a.id);
                let person = a.person_id.to_string();
                let household = a.household_id.to_string();
                w.push(&sanad_payfiles::amo::Adhesion {
                    adhesion_id: &reference,
                    person_id: &person,
                    household_id: &household,
                    national_id: None,
                    family_name: &a.family_name,
                    given_name: &a.given_name,
                    birth_date: a.birth_date,
                    sex: &a.sex,
                    relation: &a.relation,
                })
                .map_err(internal)?;
                records += 1;
            }
            after = Some(last);
        }
        let hashing = w.finish().map_err(internal)?;
        Ok((
            hashing.inner,
            WrittenFile {
                sha256: hex::encode(hashing.hasher.finalize()),
                bytes: hashing.bytes,
                records,
            },
        ))
    }

    /// Writes the adhesion file at `path` atomically and records it as sent.
    pub async fn export_adhesions(
        &self,
        actor: &Actor,
        batch: &AdhesionBatch,
        path: &Path,
    ) -> Result<(AdhesionBatch, WrittenFile), RegistryError> {
        let mut pending = crate::atomic::PendingFiles::new();
        let file = pending
            .create(path)
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        let (file, written) = self
            .write_adhesions(actor, batch, std::io::BufWriter::new(file))
            .await?;
        let file = file
            .into_inner()
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        file.sync_all()
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        drop(file);
        pending
            .commit(true)
            .map_err(|e| internal(format!("cannot write {}: {e}", path.display())))?;
        let b = self
            .mark_adhesions_exported(actor, batch.id, &written.sha256)
            .await?;
        Ok((b, written))
    }

    /// Reads the insurer's answer and applies it, all lines or none.
    pub async fn adhesion_answer_file(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> Result<AdhesionAnswerOutcome, RegistryError> {
        let mut lines = Vec::new();
        for l in sanad_payfiles::amo::read_adhesion_answer(bytes) {
            let l = l.map_err(parse_error)?;
            lines.push(AdhesionAnswerItem {
                line: l.line,
                adhesion_ref: l.adhesion_id,
                accepted: match l.outcome {
                    AdhesionOutcome::Accepted { insurer_number } => Ok(insurer_number),
                    AdhesionOutcome::Rejected {
                        reason_code,
                        reason,
                    } => Err((reason_code, reason)),
                },
            });
        }
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        self.adhesion_answer(actor, &lines, &sha, file_name).await
    }
}

fn parse_error(e: sanad_payfiles::ParseError) -> RegistryError {
    invalid(
        &format!("line {}.{}", e.line, e.field),
        "bad_answer_line",
        e.to_string(),
    )
}

/// Every line of an answer file, or the first that cannot be read.
pub fn read_answer(bytes: &[u8], format: AnswerFormat) -> Result<Vec<AnswerItem>, RegistryError> {
    let convert = |l: AnswerLine| AnswerItem {
        line: l.line,
        end_to_end_id: l.end_to_end_id,
        amount: l.amount.centimes(),
        outcome: match l.outcome {
            answer::Outcome::Paid => Outcome::Paid,
            answer::Outcome::Failed {
                reason_code,
                reason,
            } => Outcome::Failed {
                code: reason_code,
                reason,
            },
            answer::Outcome::Reversed {
                reason_code,
                reason,
            } => Outcome::Reversed {
                code: reason_code,
                reason,
            },
        },
        booked_on: l.booked_on,
    };
    let mut out = Vec::new();
    match format {
        AnswerFormat::Camt054 => {
            for l in answer::read_camt054(std::io::BufReader::new(bytes)) {
                out.push(convert(l.map_err(parse_error)?));
            }
        }
        AnswerFormat::Csv => {
            for l in answer::read_answer_csv(bytes) {
                out.push(convert(l.map_err(parse_error)?));
            }
        }
    }
    // An answer with no line (a provider with nothing to report yet) is recorded, and changes
    // nothing.
    Ok(out)
}

/// A provider's answer to a batch, as tests and benchmarks play the provider: every payment paid
/// on the batch's day, but one in `fail_every` failed as a closed account (none when 0).
pub async fn simulated_answer(
    payments: &Payments,
    actor: &Actor,
    batch: &Batch,
    format: AnswerFormat,
    fail_every: u64,
) -> Result<Vec<u8>, RegistryError> {
    let mut lines = Vec::with_capacity(batch.payments as usize);
    let mut after = None;
    let mut n = 0u64;
    loop {
        let page = payments
            .batch_payments(actor, batch.id, after, PAGE)
            .await?;
        let Some(last) = page.last().map(|p| p.id) else {
            break;
        };
        for p in &page {
            n += 1;
            let outcome = if fail_every > 0 && n.is_multiple_of(fail_every) {
                answer::Outcome::Failed {
                    reason_code: "AC04".into(),
                    reason: "closed account".into(),
                }
            } else {
                answer::Outcome::Paid
            };
            lines.push(AnswerLine {
                line: 0,
                end_to_end_id: p.end_to_end_id.clone(),
                amount: Amount::from_centimes(p.amount)
                    .ok_or_else(|| internal("amount out of range"))?,
                outcome,
                booked_on: Some(batch.created_at.date()),
            });
        }
        after = Some(last);
    }
    let out = match format {
        AnswerFormat::Camt054 => answer::write_camt054(
            Vec::new(),
            &answer::NotificationHeader {
                message_id: format!("ANS-B{}", batch.id),
                created_at: batch.created_at,
                account: Payer::default().account,
            },
            &lines,
        ),
        AnswerFormat::Csv => answer::write_answer_csv(Vec::new(), &lines),
    };
    out.map_err(internal)
}
