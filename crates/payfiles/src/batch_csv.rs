//! The payment batch as CSV, for providers that take no ISO 20022: a header line naming the
//! columns, one `D` line per transfer, and a `T` trailer line with the count and control sum.
//!
//! ```text
//! record,end_to_end_id,amount,currency,kind,holder,account,agent,agency,reference,remittance
//! D,SANAD-P1,350.00,MAD,bank,Fatima Zahra,011519000001205000534921,011,,,ASD 2026-01
//! T,SANAD-B000123,350.00,MAD,bank,1,2026-01-05,<debtor account>
//! ```
//!
//! The trailer's columns are: record, message id, control sum, currency, kind, count, execution
//! date, debtor account. `account` is the RIB for a bank, the phone for a wallet, empty for cash;
//! `agent` is the RIB's bank code, the wallet operator or the cash network.

use std::io::Write;

use crate::answer::csv_error;
use crate::means::{Means, MeansKind};
use crate::pain001::{BatchHeader, Transfer, WriteError, check_header, check_transfer};
use crate::text::{Out, one_line};

pub const COLUMNS: [&str; 11] = [
    "record",
    "end_to_end_id",
    "amount",
    "currency",
    "kind",
    "holder",
    "account",
    "agent",
    "agency",
    "reference",
    "remittance",
];

/// Streams a CSV batch with the same start/push/finish shape and checks as
/// [`crate::Pain001Writer`].
pub struct CsvBatchWriter<W: Write> {
    csv: csv::Writer<W>,
    header: BatchHeader,
    scratch: Out<Vec<u8>>,
    count: u64,
    sum: i64,
}

impl<W: Write> CsvBatchWriter<W> {
    pub fn start(w: W, header: &BatchHeader) -> Result<Self, WriteError> {
        check_header(header)?;
        let mut csv = csv::WriterBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_writer(w);
        csv.write_record(COLUMNS).map_err(csv_error)?;
        Ok(CsvBatchWriter {
            csv,
            header: header.clone(),
            scratch: Out::new(Vec::with_capacity(32)),
            count: 0,
            sum: 0,
        })
    }

    pub fn push(&mut self, t: &Transfer<'_>) -> Result<(), WriteError> {
        check_transfer(self.header.kind, t)?;
        self.scratch.buf.clear();
        self.scratch.amount(t.amount);
        let provider = self.header.provider.as_deref().unwrap_or_default();
        let (account, agent, agency, reference): (&str, &str, &str, &str) = match t.means {
            Means::Bank { rib, .. } => (rib.digits(), rib.bank(), "", ""),
            Means::Wallet {
                phone,
                provider: own,
                ..
            } => (
                phone,
                if provider.is_empty() { own } else { provider },
                "",
                "",
            ),
            Means::Cash {
                agency, reference, ..
            } => ("", provider, agency, reference),
        };
        let holder = one_line(t.means.holder());
        let remittance = one_line(t.remittance);
        let agency = one_line(agency);
        let reference = one_line(reference);
        self.csv
            .write_record([
                "D".as_bytes(),
                t.end_to_end_id.as_bytes(),
                &self.scratch.buf,
                b"MAD",
                self.header.kind.as_str().as_bytes(),
                holder.as_bytes(),
                account.as_bytes(),
                agent.as_bytes(),
                agency.as_bytes(),
                reference.as_bytes(),
                remittance.as_bytes(),
            ])
            .map_err(csv_error)?;
        self.count += 1;
        self.sum = self.sum.saturating_add(t.amount.centimes());
        Ok(())
    }

    /// Writes the trailer and hands back the writer, or refuses when the pushed transfers do not
    /// add up to the header's count and control sum.
    pub fn finish(mut self) -> Result<W, WriteError> {
        let h = &self.header;
        if self.count != h.count || self.sum != h.control_sum {
            return Err(WriteError::ControlMismatch {
                expected_count: h.count,
                count: self.count,
                expected_sum: h.control_sum,
                sum: self.sum,
            });
        }
        let mut sum = Out::new(Vec::new());
        sum.decimal(self.sum);
        let mut date = Out::new(Vec::new());
        date.date(h.execution_date);
        let count = self.count.to_string();
        let kind: MeansKind = h.kind;
        self.csv
            .write_record([
                "T".as_bytes(),
                h.message_id.as_bytes(),
                &sum.buf,
                b"MAD",
                kind.as_str().as_bytes(),
                count.as_bytes(),
                &date.buf,
                h.debtor.account.as_bytes(),
            ])
            .map_err(csv_error)?;
        self.csv
            .into_inner()
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}
