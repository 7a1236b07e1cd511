//! A provider's answer to a payment batch, read record by record: which payments were paid, which
//! failed and why, which were reversed afterwards. Two formats: ISO 20022 camt.054.001.08
//! (BankToCustomerDebitCreditNotificationV08) and a CSV file. Writers for both exist so that tests
//! and benchmarks can play the provider.
//!
//! The readers check what can be checked without the store: the encoding, each field's form, and
//! that no payment is given the same outcome twice in one file. A paid payment later reversed in
//! the same file is legitimate. Whether the payment exists and the amount is the one sent is for
//! the payments service to check.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};

use quick_xml::events::Event;
use sanad_domain::money::Amount;
use time::{Date, OffsetDateTime};

use crate::ParseError;
use crate::pain001::{WriteError, check_id, date_time};
use crate::text::{
    CsvInput, LineTracker, Out, Seen, one_line, parse_amount, parse_date, truncate_chars,
};

/// What happened to one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Failed { reason_code: String, reason: String },
    Reversed { reason_code: String, reason: String },
}

impl Outcome {
    /// The status word of the CSV format.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Failed { .. } => "failed",
            Outcome::Reversed { .. } => "reversed",
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Outcome::Paid => b'P',
            Outcome::Failed { .. } => b'F',
            Outcome::Reversed { .. } => b'R',
        }
    }

    fn reason(&self) -> Option<(&str, &str)> {
        match self {
            Outcome::Paid => None,
            Outcome::Failed {
                reason_code,
                reason,
            }
            | Outcome::Reversed {
                reason_code,
                reason,
            } => Some((reason_code, reason)),
        }
    }
}

/// One record of an answer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLine {
    /// The 1-based line of the file where the record starts.
    pub line: u64,
    pub end_to_end_id: String,
    pub amount: Amount,
    pub outcome: Outcome,
    pub booked_on: Option<Date>,
}

/// A readable text for the common ISO 20022 return reason codes (ExternalReturnReason1Code), used
/// when an answer gives a code without text.
pub fn reason_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "AC01" => "incorrect account number",
        "AC03" => "invalid creditor account number",
        "AC04" => "account closed",
        "AC06" => "account blocked",
        "AC13" => "invalid debtor account type",
        "AG01" => "transaction forbidden on this account",
        "AG02" => "invalid bank operation code",
        "AM04" => "insufficient funds",
        "AM05" => "duplicate payment",
        "AM09" => "wrong amount",
        "BE01" => "creditor name does not match the account",
        "BE04" => "creditor address missing",
        "CNOR" => "creditor bank not registered",
        "CUST" => "requested by the customer",
        "DUPL" => "duplicate payment",
        "FOCR" => "returned after a cancellation request",
        "FRAD" => "fraudulent origin",
        "MD07" => "beneficiary deceased",
        "MS02" => "reason not specified, from the beneficiary",
        "MS03" => "reason not specified, from the agent",
        "NARR" => "see the narrative",
        "RC01" => "bank identifier incorrect",
        "RR01" => "missing debtor account or identification",
        "RR04" => "regulatory reason",
        "TECH" => "technical problem",
        "TM01" => "received after the cut-off time",
        _ => return None,
    })
}

fn duplicate(line: u64, first: u64) -> ParseError {
    ParseError::new(
        line,
        "end_to_end_id",
        format!("duplicate of line {first}: the same payment with the same outcome"),
    )
}

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_COLUMNS: &[&str] = &[
    "end_to_end_id",
    "amount",
    "status",
    "reason_code",
    "reason",
    "booked_on",
];
const CSV_REQUIRED: &[&str] = &["end_to_end_id", "amount", "status"];

/// Reads a CSV answer: a header line naming the columns `end_to_end_id,amount,status` and
/// optionally `reason_code,reason,booked_on` (in any order), then one payment per line. The status
/// is `paid`, `failed` or `reversed`; a failed or reversed payment has a reason code.
pub fn read_answer_csv<R: Read>(r: R) -> AnswerCsvReader<R> {
    AnswerCsvReader {
        input: CsvInput::new(r, CSV_COLUMNS, CSV_REQUIRED),
        seen: Seen::default(),
    }
}

/// The iterator of [`read_answer_csv`]. A bad record is an `Err` and reading goes on with the
/// next, so that one pass can list every bad line; a bad header or an I/O error ends it.
pub struct AnswerCsvReader<R: Read> {
    input: CsvInput<R>,
    seen: Seen,
}

impl<R: Read> AnswerCsvReader<R> {
    fn record(&mut self, line: u64) -> Result<AnswerLine, ParseError> {
        let input = &self.input;
        let end_to_end_id = input.field(0)?;
        check_end_to_end_id(line, "end_to_end_id", end_to_end_id)?;
        let amount =
            parse_amount(input.field(1)?).map_err(|m| ParseError::new(line, "amount", m))?;
        let status = input.field(2)?;
        let reason_code = input.field(3)?;
        let reason = input.field(4)?;
        let outcome = match status {
            "paid" | "PAID" => Outcome::Paid,
            "failed" | "FAILED" | "reversed" | "REVERSED" => {
                if reason_code.is_empty() {
                    return Err(ParseError::new(
                        line,
                        "reason_code",
                        format!(
                            "a {} payment has a reason code",
                            status.to_ascii_lowercase()
                        ),
                    ));
                }
                let reason_code = reason_code.to_owned();
                let reason = if reason.is_empty() {
                    reason_text(&reason_code).unwrap_or_default().to_owned()
                } else {
                    reason.to_owned()
                };
                if status.eq_ignore_ascii_case("failed") {
                    Outcome::Failed {
                        reason_code,
                        reason,
                    }
                } else {
                    Outcome::Reversed {
                        reason_code,
                        reason,
                    }
                }
            }
            other => {
                return Err(ParseError::new(
                    line,
                    "status",
                    format!("expected paid, failed or reversed, found {other:?}"),
                ));
            }
        };
        let booked = input.field(5)?;
        let booked_on = if booked.is_empty() {
            None
        } else {
            Some(parse_date(booked).map_err(|m| ParseError::new(line, "booked_on", m))?)
        };
        if let Some(first) = self.seen.check(outcome.tag(), end_to_end_id, line) {
            return Err(duplicate(line, first));
        }
        Ok(AnswerLine {
            line,
            end_to_end_id: end_to_end_id.to_owned(),
            amount,
            outcome,
            booked_on,
        })
    }
}

impl<R: Read> Iterator for AnswerCsvReader<R> {
    type Item = Result<AnswerLine, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.input.advance()? {
            Ok(line) => Some(self.record(line)),
            Err(e) => Some(Err(e)),
        }
    }
}

fn check_end_to_end_id(line: u64, field: &str, id: &str) -> Result<(), ParseError> {
    if id.is_empty() {
        return Err(ParseError::new(line, field, "missing"));
    }
    // A byte count within the limit means a character count within it; count only otherwise.
    if id.len() > 35 && id.chars().count() > 35 {
        return Err(ParseError::new(
            line,
            field,
            format!("at most 35 characters, found {id:?}"),
        ));
    }
    Ok(())
}

/// Streams a CSV answer in the form [`read_answer_csv`] reads.
pub struct AnswerCsvWriter<W: Write> {
    csv: csv::Writer<W>,
    amount: Out<Vec<u8>>,
}

impl<W: Write> AnswerCsvWriter<W> {
    pub fn start(w: W) -> Result<Self, WriteError> {
        let mut csv = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(w);
        csv.write_record(CSV_COLUMNS).map_err(csv_error)?;
        Ok(AnswerCsvWriter {
            csv,
            amount: Out::new(Vec::new()),
        })
    }

    /// Writes one record; its `line` is ignored (the file decides where it goes).
    pub fn push(&mut self, a: &AnswerLine) -> Result<(), WriteError> {
        check_id("end_to_end_id", &a.end_to_end_id, 35)?;
        self.amount.buf.clear();
        self.amount.amount(a.amount);
        let (code, reason) = a.outcome.reason().unwrap_or(("", ""));
        let mut date = Out::new(Vec::new());
        if let Some(d) = a.booked_on {
            date.date(d);
        }
        let reason = one_line(reason);
        let code = one_line(code);
        self.csv
            .write_record([
                a.end_to_end_id.as_bytes(),
                &self.amount.buf,
                a.outcome.status().as_bytes(),
                code.as_bytes(),
                reason.as_bytes(),
                &date.buf,
            ])
            .map_err(csv_error)
    }

    pub fn finish(self) -> Result<W, WriteError> {
        self.csv
            .into_inner()
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}

pub(crate) fn csv_error(e: csv::Error) -> WriteError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => WriteError::Io(e),
        other => WriteError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Writes a whole CSV answer.
pub fn write_answer_csv<'a, W: Write>(
    w: W,
    lines: impl IntoIterator<Item = &'a AnswerLine>,
) -> Result<W, WriteError> {
    let mut writer = AnswerCsvWriter::start(w)?;
    for line in lines {
        writer.push(line)?;
    }
    writer.finish()
}

// ---------------------------------------------------------------------------------------------
// camt.054

const CAMT_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

/// The elements the reader cares about; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Notification,
    Ntry,
    Amt,
    RvslInd,
    Sts,
    Cd,
    Prtry,
    BookgDt,
    Dt,
    DtTm,
    TxDtls,
    Refs,
    EndToEndId,
    RtrInf,
    Rsn,
    AddtlInf,
    Other,
}

impl Tag {
    fn of(local: &[u8]) -> Tag {
        match local {
            b"BkToCstmrDbtCdtNtfctn" => Tag::Notification,
            b"Ntry" => Tag::Ntry,
            b"Amt" => Tag::Amt,
            b"RvslInd" => Tag::RvslInd,
            b"Sts" => Tag::Sts,
            b"Cd" => Tag::Cd,
            b"Prtry" => Tag::Prtry,
            b"BookgDt" => Tag::BookgDt,
            b"Dt" => Tag::Dt,
            b"DtTm" => Tag::DtTm,
            b"TxDtls" => Tag::TxDtls,
            b"Refs" => Tag::Refs,
            b"EndToEndId" => Tag::EndToEndId,
            b"RtrInf" => Tag::RtrInf,
            b"Rsn" => Tag::Rsn,
            b"AddtlInf" => Tag::AddtlInf,
            _ => Tag::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Notification => "BkToCstmrDbtCdtNtfctn",
            Tag::Ntry => "Ntry",
            Tag::Amt => "Amt",
            Tag::RvslInd => "RvslInd",
            Tag::Sts => "Sts",
            Tag::Cd => "Cd",
            Tag::Prtry => "Prtry",
            Tag::BookgDt => "BookgDt",
            Tag::Dt => "Dt",
            Tag::DtTm => "DtTm",
            Tag::TxDtls => "TxDtls",
            Tag::Refs => "Refs",
            Tag::EndToEndId => "EndToEndId",
            Tag::RtrInf => "RtrInf",
            Tag::Rsn => "Rsn",
            Tag::AddtlInf => "AddtlInf",
            Tag::Other => "document",
        }
    }
}

/// Where the text being read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    EntryAmt,
    Reversal,
    Status,
    Booked,
    EndToEnd,
    TxAmt,
    ReasonCode,
    ReasonText,
}

/// The entry being read. Its strings are cleared and refilled from one entry to the next rather
/// than allocated anew: a file has millions of entries.
#[derive(Default)]
struct Entry {
    line: u64,
    /// The amount's text and its `Ccy`, when the element was there.
    amount: Option<(String, String)>,
    reversal: String,
    status: String,
    booked: String,
    /// The transactions read so far are `transactions[..count]`; the rest are spare buffers.
    transactions: Vec<Tx>,
    count: usize,
}

#[derive(Default)]
struct Tx {
    line: u64,
    end_to_end_id: String,
    amount: Option<(String, String)>,
    reason_code: String,
    reason: String,
}

impl Entry {
    fn reset(&mut self, line: u64) {
        self.line = line;
        self.amount = None;
        self.reversal.clear();
        self.status.clear();
        self.booked.clear();
        self.count = 0;
    }

    fn start_tx(&mut self, line: u64) {
        if self.count == self.transactions.len() {
            self.transactions.push(Tx::default());
        }
        let tx = &mut self.transactions[self.count];
        tx.line = line;
        tx.end_to_end_id.clear();
        tx.amount = None;
        tx.reason_code.clear();
        tx.reason.clear();
        self.count += 1;
    }

    fn current_tx(&mut self) -> Option<&mut Tx> {
        self.count.checked_sub(1).map(|i| &mut self.transactions[i])
    }
}

/// Puts `text` into `into`, reusing its allocation.
fn set(into: &mut String, text: &str) {
    into.clear();
    into.push_str(text);
}

/// Reads a camt.054 notification: one answer record per `Ntry/NtryDtls/TxDtls`. The end-to-end id
/// is `TxDtls/Refs/EndToEndId`; the amount `TxDtls/Amt`, or `Ntry/Amt` for an entry of one
/// transaction; `Ntry/RvslInd` true means reversed; else `Ntry/Sts/Cd` `RJCT`, or a return reason
/// `TxDtls/RtrInf/Rsn/Cd`, means failed with that code; else `BOOK` means paid. Any other status
/// (`PDNG`, `INFO`) is refused: the answer must be final.
pub fn read_camt054<R: BufRead>(r: R) -> Camt054Reader<R> {
    let mut xml = quick_xml::Reader::from_reader(LineTracker::new(r));
    let config = xml.config_mut();
    config.expand_empty_elements = true;
    Camt054Reader {
        xml,
        buf: Vec::with_capacity(1024),
        stack: Vec::with_capacity(16),
        slot: None,
        text: String::new(),
        currency: String::new(),
        entry: Entry::default(),
        ready: VecDeque::new(),
        seen: Seen::default(),
        saw_notification: false,
        done: false,
    }
}

/// The iterator of [`read_camt054`]. A bad record is an `Err` and reading goes on; a file that is
/// not well-formed XML or not UTF-8 ends it at the first such error.
pub struct Camt054Reader<R: BufRead> {
    xml: quick_xml::Reader<LineTracker<R>>,
    buf: Vec<u8>,
    stack: Vec<Tag>,
    slot: Option<Slot>,
    text: String,
    /// The `Ccy` of the amount being read.
    currency: String,
    entry: Entry,
    ready: VecDeque<Result<AnswerLine, ParseError>>,
    seen: Seen,
    saw_notification: bool,
    done: bool,
}

/// Ends the reading with `e`: past a syntax or encoding error nothing can be trusted.
fn fatal(done: &mut bool, e: ParseError) -> Option<Result<AnswerLine, ParseError>> {
    *done = true;
    Some(Err(e))
}

/// The innermost element the reader knows, to name where an error is.
fn innermost(stack: &[Tag]) -> &'static str {
    stack
        .iter()
        .rev()
        .find(|t| **t != Tag::Other)
        .map_or("document", |t| t.name())
}

/// Which slot the text of element `tag` fills, given the elements it is in.
fn slot_for(s: &[Tag], tag: Tag) -> Option<Slot> {
    {
        let parent = |n: usize| s.len().checked_sub(n + 1).map(|i| s[i]);
        match (tag, parent(0), parent(1), parent(2)) {
            (Tag::Amt, Some(Tag::Ntry), _, _) => Some(Slot::EntryAmt),
            (Tag::RvslInd, Some(Tag::Ntry), _, _) => Some(Slot::Reversal),
            (Tag::Sts, Some(Tag::Ntry), _, _) => Some(Slot::Status),
            (Tag::Cd | Tag::Prtry, Some(Tag::Sts), Some(Tag::Ntry), _) => Some(Slot::Status),
            (Tag::Dt | Tag::DtTm, Some(Tag::BookgDt), Some(Tag::Ntry), _) => Some(Slot::Booked),
            (Tag::EndToEndId, Some(Tag::Refs), Some(Tag::TxDtls), _) => Some(Slot::EndToEnd),
            (Tag::Amt, Some(Tag::TxDtls), _, _) => Some(Slot::TxAmt),
            (Tag::Cd | Tag::Prtry, Some(Tag::Rsn), Some(Tag::RtrInf), Some(Tag::TxDtls)) => {
                Some(Slot::ReasonCode)
            }
            (Tag::AddtlInf, Some(Tag::RtrInf), Some(Tag::TxDtls), _) => Some(Slot::ReasonText),
            _ => None,
        }
    }
}

impl<R: BufRead> Camt054Reader<R> {
    fn store(&mut self, slot: Slot) {
        // Text is kept as read (an entity splits it into several events, so trimming each would
        // eat the spaces around it) and trimmed here as a whole; reason pieces are joined first.
        let text = self.text.trim();
        let entry = &mut self.entry;
        match slot {
            Slot::EntryAmt => {
                entry.amount = Some((text.to_owned(), std::mem::take(&mut self.currency)))
            }
            Slot::Reversal => set(&mut entry.reversal, text),
            Slot::Status => set(&mut entry.status, text),
            Slot::Booked => set(&mut entry.booked, text),
            Slot::EndToEnd => {
                if let Some(tx) = entry.current_tx() {
                    set(&mut tx.end_to_end_id, text);
                }
            }
            Slot::TxAmt => {
                if let Some(tx) = entry.current_tx() {
                    tx.amount = Some((text.to_owned(), std::mem::take(&mut self.currency)));
                }
            }
            Slot::ReasonCode => {
                if let Some(tx) = entry.current_tx() {
                    set(&mut tx.reason_code, text);
                }
            }
            Slot::ReasonText => {
                if let Some(tx) = entry.current_tx() {
                    tx.reason.push_str(&self.text);
                }
            }
        }
        self.text.clear();
    }

    /// Turns a finished entry into its records, in file order.
    fn finish_entry(&mut self) {
        let entry = &self.entry;
        if entry.count == 0 {
            self.ready.push_back(Err(ParseError::new(
                entry.line,
                "EndToEndId",
                "missing: an entry without NtryDtls/TxDtls/Refs/EndToEndId cannot be matched to a payment",
            )));
            return;
        }
        let single = entry.count == 1;
        for tx in &entry.transactions[..entry.count] {
            let record = record(entry, tx, single, &mut self.seen);
            self.ready.push_back(record);
        }
    }
}

fn record(entry: &Entry, tx: &Tx, single: bool, seen: &mut Seen) -> Result<AnswerLine, ParseError> {
    let line = tx.line;
    check_end_to_end_id(line, "EndToEndId", &tx.end_to_end_id)?;
    let (amount, currency) = match (&tx.amount, &entry.amount) {
        (Some(a), _) => a,
        (None, Some(a)) if single => a,
        _ => return Err(ParseError::new(line, "Amt", "missing")),
    };
    let amount = parse_amount(amount).map_err(|m| ParseError::new(line, "Amt", m))?;
    if currency != "MAD" {
        return Err(ParseError::new(
            line,
            "Amt",
            format!("expected currency MAD, found {currency:?}"),
        ));
    }
    let reversed = match entry.reversal.as_str() {
        "" | "false" | "0" => false,
        "true" | "1" => true,
        other => {
            return Err(ParseError::new(
                entry.line,
                "RvslInd",
                format!("expected true or false, found {other:?}"),
            ));
        }
    };
    let reason_code = tx.reason_code.clone();
    let reason = match tx.reason.trim() {
        "" => reason_text(&reason_code).unwrap_or_default().to_owned(),
        text => text.to_owned(),
    };
    let outcome = match entry.status.as_str() {
        "BOOK" if reversed => Outcome::Reversed {
            reason_code,
            reason,
        },
        "RJCT" => Outcome::Failed {
            reason_code,
            reason,
        },
        "BOOK" if !tx.reason_code.is_empty() => Outcome::Failed {
            reason_code,
            reason,
        },
        "BOOK" => Outcome::Paid,
        "" => return Err(ParseError::new(entry.line, "Sts", "missing")),
        other => {
            return Err(ParseError::new(
                entry.line,
                "Sts",
                format!("expected BOOK or RJCT (a final answer), found {other:?}"),
            ));
        }
    };
    let booked_on = if entry.booked.is_empty() {
        None
    } else {
        Some(parse_date(&entry.booked).map_err(|m| ParseError::new(entry.line, "BookgDt", m))?)
    };
    if let Some(first) = seen.check(outcome.tag(), &tx.end_to_end_id, line) {
        return Err(ParseError::new(
            line,
            "EndToEndId",
            format!("duplicate of line {first}: the same payment with the same outcome"),
        ));
    }
    Ok(AnswerLine {
        line,
        end_to_end_id: tx.end_to_end_id.clone(),
        amount,
        outcome,
        booked_on,
    })
}

impl<R: BufRead> Camt054Reader<R> {
    fn encoding_error(&self) -> Option<ParseError> {
        self.xml.get_ref().bad_utf8().map(|(line, byte)| {
            ParseError::new(
                line,
                innermost(&self.stack),
                format!("the file is not UTF-8: byte 0x{byte:02x} on this line"),
            )
        })
    }
}

impl<R: BufRead> Iterator for Camt054Reader<R> {
    type Item = Result<AnswerLine, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ready) = self.ready.pop_front() {
                return Some(ready);
            }
            if self.done {
                return None;
            }
            self.buf.clear();
            let event = self.xml.read_event_into(&mut self.buf);
            if let Some((line, byte)) = self.xml.get_ref().bad_utf8() {
                let field = innermost(&self.stack);
                self.done = true;
                return Some(Err(ParseError::new(
                    line,
                    field,
                    format!("the file is not UTF-8: byte 0x{byte:02x} on this line"),
                )));
            }
            match event {
                Err(e) => {
                    let line = self.xml.get_mut().line();
                    return fatal(
                        &mut self.done,
                        ParseError::new(
                            line,
                            innermost(&self.stack),
                            format!("not well-formed XML: {e}"),
                        ),
                    );
                }
                Ok(Event::Decl(decl)) => {
                    if let Some(Ok(enc)) = decl.encoding()
                        && !enc.eq_ignore_ascii_case(b"utf-8")
                    {
                        let enc = String::from_utf8_lossy(&enc).into_owned();
                        return fatal(
                            &mut self.done,
                            ParseError::new(
                                self.xml.get_mut().line(),
                                "encoding",
                                format!("expected UTF-8, found {enc:?}"),
                            ),
                        );
                    }
                }
                Ok(Event::Start(start)) => {
                    let tag = Tag::of(start.local_name().as_ref());
                    let slot = slot_for(&self.stack, tag);
                    self.text.clear();
                    if matches!(slot, Some(Slot::EntryAmt | Slot::TxAmt)) {
                        self.currency = match start.try_get_attribute("Ccy") {
                            Ok(Some(attr)) => attr
                                .unescape_value()
                                .map(|v| v.into_owned())
                                .unwrap_or_default(),
                            _ => String::new(),
                        };
                    }
                    match tag {
                        Tag::Notification => self.saw_notification = true,
                        Tag::Ntry => self.entry.reset(self.xml.get_mut().line()),
                        Tag::TxDtls if self.stack.contains(&Tag::Ntry) => {
                            self.entry.start_tx(self.xml.get_mut().line())
                        }
                        _ => {}
                    }
                    if slot.is_some() {
                        self.slot = slot;
                    }
                    self.stack.push(tag);
                }
                Ok(Event::End(_)) => {
                    let tag = self.stack.pop().unwrap_or(Tag::Other);
                    if let Some(slot) = self.slot
                        && slot_for(&self.stack, tag) == Some(slot)
                    {
                        self.slot = None;
                        self.store(slot);
                    }
                    if tag == Tag::Ntry {
                        self.finish_entry();
                    }
                }
                Ok(Event::Text(text)) => {
                    if self.slot.is_some() {
                        match text.xml10_content() {
                            Ok(t) => self.text.push_str(&t),
                            Err(e) => {
                                return fatal(
                                    &mut self.done,
                                    ParseError::new(
                                        self.xml.get_mut().line(),
                                        innermost(&self.stack),
                                        format!("not UTF-8: {e}"),
                                    ),
                                );
                            }
                        }
                    }
                }
                Ok(Event::CData(data)) => {
                    if self.slot.is_some() {
                        self.text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Ok(Event::GeneralRef(r)) => {
                    if self.slot.is_some() {
                        let resolved = match r.resolve_char_ref() {
                            Ok(Some(c)) => Some(c.to_string()),
                            Ok(None) => r.xml10_content().ok().and_then(|name| {
                                quick_xml::escape::resolve_predefined_entity(&name)
                                    .map(str::to_owned)
                            }),
                            Err(_) => None,
                        };
                        match resolved {
                            Some(s) => self.text.push_str(&s),
                            None => {
                                let name = String::from_utf8_lossy(&r).into_owned();
                                return fatal(
                                    &mut self.done,
                                    ParseError::new(
                                        self.xml.get_mut().line(),
                                        innermost(&self.stack),
                                        format!("unknown entity &{name};"),
                                    ),
                                );
                            }
                        }
                    }
                }
                Ok(Event::Eof) => {
                    self.xml.get_mut().at_end();
                    if let Some(e) = self.encoding_error() {
                        return fatal(&mut self.done, e);
                    }
                    self.done = true;
                    if !self.saw_notification {
                        return Some(Err(ParseError::new(
                            1,
                            "BkToCstmrDbtCdtNtfctn",
                            "not a camt.054 notification: no BkToCstmrDbtCdtNtfctn element",
                        )));
                    }
                }
                Ok(_) => {}
            }
        }
    }
}

/// What a camt.054 notification says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationHeader {
    /// At most 35 characters.
    pub message_id: String,
    pub created_at: OffsetDateTime,
    /// The account the notification is about (the paying agency's), at most 34 characters.
    pub account: String,
}

/// Streams a camt.054.001.08 notification, one entry (with one transaction) per answer record,
/// each on its own line.
pub struct Camt054Writer<W: Write> {
    out: Out<W>,
}

impl<W: Write> Camt054Writer<W> {
    pub fn start(w: W, header: &NotificationHeader) -> Result<Self, WriteError> {
        check_id("message_id", &header.message_id, 35)?;
        check_id("account", &header.account, 34)?;
        let created = date_time(header.created_at)?;
        let mut out = Out::new(w);
        out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
        out.raw(CAMT_NAMESPACE);
        out.raw("\">\n<BkToCstmrDbtCdtNtfctn>\n<GrpHdr><MsgId>");
        out.xml(&header.message_id, 35);
        out.raw("</MsgId><CreDtTm>");
        out.raw(&created);
        out.raw("</CreDtTm></GrpHdr>\n<Ntfctn><Id>");
        out.xml(&header.message_id, 35);
        out.raw("</Id><Acct><Id><Othr><Id>");
        out.xml(&header.account, 34);
        out.raw("</Id></Othr></Id><Ccy>MAD</Ccy></Acct>\n");
        Ok(Camt054Writer { out })
    }

    /// Writes one record; its `line` is ignored. A reason code of one to four characters is
    /// written as an ISO code (`Rsn/Cd`), a longer one as a proprietary code (`Rsn/Prtry`); the
    /// reason text is split over as many `AddtlInf` (105 characters each) as it needs.
    pub fn push(&mut self, a: &AnswerLine) -> Result<(), WriteError> {
        check_id("end_to_end_id", &a.end_to_end_id, 35)?;
        let out = &mut self.out;
        let reversed = matches!(a.outcome, Outcome::Reversed { .. });
        // A reversal of a debit is booked as a credit.
        let direction = if reversed { "CRDT" } else { "DBIT" };
        out.raw("<Ntry><Amt Ccy=\"MAD\">");
        out.amount(a.amount);
        out.raw("</Amt><CdtDbtInd>");
        out.raw(direction);
        out.raw("</CdtDbtInd>");
        if reversed {
            out.raw("<RvslInd>true</RvslInd>");
        }
        out.raw("<Sts><Cd>");
        out.raw(if matches!(a.outcome, Outcome::Failed { .. }) {
            "RJCT"
        } else {
            "BOOK"
        });
        out.raw("</Cd></Sts>");
        if let Some(d) = a.booked_on {
            out.raw("<BookgDt><Dt>");
            out.date(d);
            out.raw("</Dt></BookgDt>");
        }
        out.raw(
            "<BkTxCd><Prtry><Cd>SANAD</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>",
        );
        out.xml(&a.end_to_end_id, 35);
        out.raw("</EndToEndId></Refs><Amt Ccy=\"MAD\">");
        out.amount(a.amount);
        out.raw("</Amt><CdtDbtInd>");
        out.raw(direction);
        out.raw("</CdtDbtInd>");
        if let Some((code, reason)) = a.outcome.reason()
            && (!code.is_empty() || !reason.is_empty())
        {
            out.raw("<RtrInf>");
            if !code.is_empty() {
                let n = code.chars().count();
                let element = if n <= 4 { "Cd" } else { "Prtry" };
                out.raw("<Rsn><");
                out.raw(element);
                out.raw(">");
                out.xml(code, 35);
                out.raw("</");
                out.raw(element);
                out.raw("></Rsn>");
            }
            let mut rest = reason;
            while !rest.is_empty() {
                let piece = truncate_chars(rest, 105);
                out.raw("<AddtlInf>");
                out.xml(piece, 105);
                out.raw("</AddtlInf>");
                rest = &rest[piece.len()..];
            }
            out.raw("</RtrInf>");
        }
        out.raw("</TxDtls></NtryDtls></Ntry>\n");
        out.maybe_flush()?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out
            .raw("</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n");
        Ok(self.out.finish()?)
    }
}

/// Writes a whole camt.054 notification.
pub fn write_camt054<'a, W: Write>(
    w: W,
    header: &NotificationHeader,
    lines: impl IntoIterator<Item = &'a AnswerLine>,
) -> Result<W, WriteError> {
    let mut writer = Camt054Writer::start(w, header)?;
    for line in lines {
        writer.push(line)?;
    }
    writer.finish()
}
