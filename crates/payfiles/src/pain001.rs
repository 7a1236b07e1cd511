//! ISO 20022 pain.001.001.09 (CustomerCreditTransferInitiationV09): the payment batch sent to the
//! paying bank, wallet operator or cash network, written as a stream.
//!
//! One file holds one payment-information block and one means kind. The header's count and control
//! sum are known before streaming (the service reads them from its store), written first, and
//! checked against what was actually pushed when the file is finished, so a file whose totals lie
//! is never handed over as complete.
//!
//! Layout, chosen to validate against the official schema:
//! - bank: the creditor agent is the bank code of the RIB (`ClrSysMmbId/MmbId`), the account is
//!   `Othr/Id` = the 24-digit RIB with `SchmeNm/Prtry` = `RIB`. The RIB rather than an IBAN
//!   because Moroccan domestic clearing (SIMT) identifies accounts by RIB; [`crate::Rib::iban`]
//!   exists for partners that want one.
//! - wallet: the creditor agent is the operator (`FinInstnId/Othr/Id`, the header's provider or
//!   else the means' own), the account is `Othr/Id` = the E.164 phone with `SchmeNm/Prtry` =
//!   `WALLET`.
//! - cash: the creditor agent is the cash network (`FinInstnId/Othr/Id` = the header's provider)
//!   with the agency as its branch (`BrnchId/Id`); no creditor account; the pick-up code is in
//!   `InstrForCdtrAgt` with code `HOLD` ("hold cash for the creditor") and its text
//!   `PICKUP <reference> AGENCY <agency>`.
//!
//! Each transaction is written on one line so that a provider's complaint about "line N" can be
//! traced.

use std::io::{self, Write};

use sanad_domain::money::Amount;
use time::{Date, OffsetDateTime};

use crate::means::{Means, MeansKind};
use crate::text::{Out, truncate_chars};

const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The paying agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub name: String,
    /// The paying agency's account id (at most 34 characters).
    pub account: String,
    /// The BIC of the debtor's bank; `NOTPROVIDED` is written when absent, as ISO 20022 usage
    /// rules suggest.
    pub agent_bic: Option<String>,
}

/// What a batch file says before its first transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchHeader {
    /// At most 35 characters, unique per file (the service passes e.g. "SANAD-B000123").
    pub message_id: String,
    pub created_at: OffsetDateTime,
    pub initiator: String,
    pub debtor: Debtor,
    pub execution_date: Date,
    /// The number of transfers that will be pushed (`NbOfTxs`).
    pub count: u64,
    /// Their sum in centimes (`CtrlSum`).
    pub control_sum: i64,
    /// The one means kind of the file.
    pub kind: MeansKind,
    /// The wallet operator or cash network, written as the creditor agent.
    pub provider: Option<String>,
}

/// One payment to one household.
#[derive(Debug, Clone, Copy)]
pub struct Transfer<'a> {
    /// At most 35 characters; the key the provider's answer comes back with.
    pub end_to_end_id: &'a str,
    pub amount: Amount,
    pub means: &'a Means,
    /// Free text for the beneficiary, e.g. "ASD 2026-01"; cut to 140 characters.
    pub remittance: &'a str,
}

/// Why a batch could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("writing the file: {0}")]
    Io(#[from] io::Error),
    #[error("the file is a {expected} batch, a {found} transfer cannot be added")]
    KindMismatch {
        expected: MeansKind,
        found: MeansKind,
    },
    #[error(
        "the header announced {expected_count} transfers for {expected_sum} centimes, \
         {count} transfers for {sum} centimes were written"
    )]
    ControlMismatch {
        expected_count: u64,
        count: u64,
        expected_sum: i64,
        sum: i64,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> WriteError {
    WriteError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// An identifier that must be written whole: 1 to `max` characters, no control characters.
pub(crate) fn check_id(field: &str, value: &str, max: usize) -> Result<(), WriteError> {
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) || value.trim() != value {
        return Err(invalid(
            field,
            format!("expected 1 to {max} characters without surrounding spaces, found {value:?}"),
        ));
    }
    Ok(())
}

/// Text that may be cut but not left empty.
pub(crate) fn check_text(field: &str, value: &str) -> Result<(), WriteError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(())
}

/// A BIC as the schema's `BICFIDec2014Identifier` pattern has it: 4 letters or digits, a 2-letter
/// country, 2 letters or digits, optionally 3 more.
fn check_bic(bic: &str) -> Result<(), WriteError> {
    let b = bic.as_bytes();
    let alnum = |r: std::ops::Range<usize>| {
        b[r].iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let ok = (b.len() == 8 || b.len() == 11)
        && alnum(0..4)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && alnum(6..b.len());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "debtor.agent_bic",
            format!("expected a BIC of 8 or 11 characters, found {bic:?}"),
        ))
    }
}

pub(crate) fn check_header(header: &BatchHeader) -> Result<(), WriteError> {
    check_id("message_id", &header.message_id, 35)?;
    check_text("initiator", &header.initiator)?;
    check_text("debtor.name", &header.debtor.name)?;
    check_id("debtor.account", &header.debtor.account, 34)?;
    if let Some(bic) = &header.debtor.agent_bic {
        check_bic(bic)?;
    }
    if let Some(provider) = &header.provider {
        check_id("provider", provider, 35)?;
    }
    if header.kind == MeansKind::Cash && header.provider.is_none() {
        return Err(invalid("provider", "a cash batch names its cash network"));
    }
    if header.count > 999_999_999_999_999 {
        return Err(invalid("count", "at most 15 digits"));
    }
    if header.control_sum < 0 {
        return Err(invalid("control_sum", "must not be negative"));
    }
    if !(0..=9999).contains(&header.execution_date.year())
        || !(0..=9999).contains(&header.created_at.year())
    {
        return Err(invalid("execution_date", "a year between 0 and 9999"));
    }
    Ok(())
}

pub(crate) fn check_transfer(kind: MeansKind, t: &Transfer<'_>) -> Result<(), WriteError> {
    if t.means.kind() != kind {
        return Err(WriteError::KindMismatch {
            expected: kind,
            found: t.means.kind(),
        });
    }
    check_id("end_to_end_id", t.end_to_end_id, 35)?;
    t.means
        .check()
        .map_err(|e| invalid(&format!("means.{}", e.field), e.message))?;
    if let Means::Wallet { provider, .. } = t.means {
        check_id("means.provider", provider, 35)?;
    }
    if let Means::Cash { agency, .. } = t.means {
        check_id("means.agency", agency, 35)?;
    }
    Ok(())
}

/// Formats a date-time as `xs:dateTime` to the second, with its offset.
pub(crate) fn date_time(t: OffsetDateTime) -> Result<String, WriteError> {
    let t = t
        .replace_nanosecond(0)
        .map_err(|e| invalid("created_at", e.to_string()))?;
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| invalid("created_at", e.to_string()))
}

/// Streams a pain.001.001.09 document: [`start`](Self::start) writes the headers,
/// [`push`](Self::push) one transaction, [`finish`](Self::finish) the closing tags once the
/// totals are checked.
pub struct Pain001Writer<W: Write> {
    out: Out<W>,
    kind: MeansKind,
    provider: Option<String>,
    expected_count: u64,
    expected_sum: i64,
    count: u64,
    sum: i64,
}

impl<W: Write> Pain001Writer<W> {
    pub fn start(w: W, header: &BatchHeader) -> Result<Self, WriteError> {
        check_header(header)?;
        let created = date_time(header.created_at)?;
        let mut out = Out::new(w);
        out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
        out.raw(NAMESPACE);
        out.raw("\">\n<CstmrCdtTrfInitn>\n<GrpHdr><MsgId>");
        out.xml(&header.message_id, 35);
        out.raw("</MsgId><CreDtTm>");
        out.raw(&created);
        out.raw("</CreDtTm><NbOfTxs>");
        out.uint(header.count);
        out.raw("</NbOfTxs><CtrlSum>");
        out.decimal(header.control_sum);
        out.raw("</CtrlSum><InitgPty><Nm>");
        out.xml(&header.initiator, 140);
        out.raw("</Nm></InitgPty></GrpHdr>\n<PmtInf><PmtInfId>");
        out.xml(&header.message_id, 35);
        out.raw("</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg><NbOfTxs>");
        out.uint(header.count);
        out.raw("</NbOfTxs><CtrlSum>");
        out.decimal(header.control_sum);
        // The category purpose says these are social benefits; the local instrument carries the
        // means kind for providers that route on it.
        out.raw("</CtrlSum><PmtTpInf><LclInstrm><Prtry>");
        out.raw(match header.kind {
            MeansKind::Bank => "BANK",
            MeansKind::Wallet => "WALLET",
            MeansKind::Cash => "CASH",
        });
        out.raw(
            "</Prtry></LclInstrm><CtgyPurp><Cd>SSBE</Cd></CtgyPurp></PmtTpInf><ReqdExctnDt><Dt>",
        );
        out.date(header.execution_date);
        out.raw("</Dt></ReqdExctnDt>\n<Dbtr><Nm>");
        out.xml(&header.debtor.name, 140);
        out.raw("</Nm></Dbtr><DbtrAcct><Id><Othr><Id>");
        out.xml(&header.debtor.account, 34);
        out.raw("</Id></Othr></Id><Ccy>MAD</Ccy></DbtrAcct><DbtrAgt><FinInstnId>");
        match &header.debtor.agent_bic {
            Some(bic) => {
                out.raw("<BICFI>");
                out.raw(bic);
                out.raw("</BICFI>");
            }
            None => out.raw("<Othr><Id>NOTPROVIDED</Id></Othr>"),
        }
        out.raw("</FinInstnId></DbtrAgt><ChrgBr>SLEV</ChrgBr>\n");
        out.maybe_flush()?;
        Ok(Pain001Writer {
            out,
            kind: header.kind,
            provider: header.provider.clone(),
            expected_count: header.count,
            expected_sum: header.control_sum,
            count: 0,
            sum: 0,
        })
    }

    /// Writes one transaction; refuses a transfer of another means kind than the header's, or
    /// whose identifiers do not fit the schema (they are never cut, since the answer comes back
    /// keyed by them).
    pub fn push(&mut self, t: &Transfer<'_>) -> Result<(), WriteError> {
        check_transfer(self.kind, t)?;
        let out = &mut self.out;
        out.raw("<CdtTrfTxInf><PmtId><EndToEndId>");
        out.xml(t.end_to_end_id, 35);
        out.raw("</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"MAD\">");
        out.amount(t.amount);
        out.raw("</InstdAmt></Amt>");
        match t.means {
            Means::Bank { rib, holder } => {
                out.raw("<CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>");
                out.raw(rib.bank());
                out.raw("</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt><Cdtr><Nm>");
                out.xml(holder, 140);
                out.raw("</Nm></Cdtr><CdtrAcct><Id><Othr><Id>");
                out.raw(rib.digits());
                out.raw("</Id><SchmeNm><Prtry>RIB</Prtry></SchmeNm></Othr></Id></CdtrAcct>");
            }
            Means::Wallet {
                phone,
                provider,
                holder,
            } => {
                let operator = self.provider.as_deref().unwrap_or(provider);
                out.raw("<CdtrAgt><FinInstnId><Othr><Id>");
                out.xml(operator, 35);
                out.raw("</Id></Othr></FinInstnId></CdtrAgt><Cdtr><Nm>");
                out.xml(holder, 140);
                out.raw("</Nm></Cdtr><CdtrAcct><Id><Othr><Id>");
                out.xml(phone, 34);
                out.raw("</Id><SchmeNm><Prtry>WALLET</Prtry></SchmeNm></Othr></Id></CdtrAcct>");
            }
            Means::Cash {
                agency,
                reference,
                holder,
            } => {
                out.raw("<CdtrAgt><FinInstnId><Othr><Id>");
                out.xml(self.provider.as_deref().unwrap_or_default(), 35);
                out.raw("</Id></Othr></FinInstnId><BrnchId><Id>");
                out.xml(agency, 35);
                out.raw("</Id></BrnchId></CdtrAgt><Cdtr><Nm>");
                out.xml(holder, 140);
                out.raw("</Nm></Cdtr><InstrForCdtrAgt><Cd>HOLD</Cd><InstrInf>");
                // Cut as a whole so the reference, which comes first, survives.
                let instruction = format!("PICKUP {reference} AGENCY {agency}");
                out.xml(truncate_chars(&instruction, 140), 140);
                out.raw("</InstrInf></InstrForCdtrAgt>");
            }
        }
        if !t.remittance.trim().is_empty() {
            out.raw("<RmtInf><Ustrd>");
            out.xml(t.remittance, 140);
            out.raw("</Ustrd></RmtInf>");
        }
        out.raw("</CdtTrfTxInf>\n");
        out.maybe_flush()?;
        self.count += 1;
        self.sum = self.sum.saturating_add(t.amount.centimes());
        Ok(())
    }

    /// Closes the document and hands back the writer, or refuses when the pushed transfers do
    /// not add up to the header's count and control sum. The caller must then discard the file,
    /// whose header lies.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.count != self.expected_count || self.sum != self.expected_sum {
            return Err(WriteError::ControlMismatch {
                expected_count: self.expected_count,
                count: self.count,
                expected_sum: self.expected_sum,
                sum: self.sum,
            });
        }
        self.out
            .raw("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
        Ok(self.out.finish()?)
    }

    /// The bytes handed to the writer so far (for progress reporting).
    pub fn bytes_written(&self) -> u64 {
        self.out.written
    }
}
