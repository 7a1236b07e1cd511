//! The AMO-Tadamon adhesion exchange: the CSV file of adhesions sent to the insurer, and the
//! insurer's CSV answer saying, line by line, which were accepted (with the insured's number) and
//! which were rejected (with a reason).
//!
//! The adhesion file is a header line naming the columns, one `D` line per person and a `T`
//! trailer with the batch id and the count:
//!
//! ```text
//! record,adhesion_id,person_id,household_id,national_id,family_name,given_name,birth_date,sex,relation
//! D,ADH-1,P-1,H-1,AB123456,El Idrissi,Fatima,1980-04-02,F,head
//! T,AMO-B0001,1
//! ```
//!
//! The answer file is `adhesion_id,status,insurer_number,reason_code,reason` with status
//! `accepted` or `rejected`.

use std::io::{Read, Write};

use time::Date;

use crate::ParseError;
use crate::answer::csv_error;
use crate::pain001::{WriteError, check_id, check_text, invalid};
use crate::text::{CsvInput, Out, Seen, one_line};

pub const COLUMNS: [&str; 10] = [
    "record",
    "adhesion_id",
    "person_id",
    "household_id",
    "national_id",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "relation",
];

/// One person to insure.
#[derive(Debug, Clone, Copy)]
pub struct Adhesion<'a> {
    pub adhesion_id: &'a str,
    pub person_id: &'a str,
    pub household_id: &'a str,
    pub national_id: Option<&'a str>,
    pub family_name: &'a str,
    pub given_name: &'a str,
    pub birth_date: Date,
    /// `F` or `M`.
    pub sex: &'a str,
    /// `head`, `spouse`, `child`, ...
    pub relation: &'a str,
}

/// Streams an adhesion file; the count announced at the start is checked at the end.
pub struct AdhesionWriter<W: Write> {
    csv: csv::Writer<W>,
    batch_id: String,
    expected: u64,
    count: u64,
    date: Out<Vec<u8>>,
}

impl<W: Write> AdhesionWriter<W> {
    pub fn start(w: W, batch_id: &str, count: u64) -> Result<Self, WriteError> {
        check_id("batch_id", batch_id, 35)?;
        let mut csv = csv::WriterBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_writer(w);
        csv.write_record(COLUMNS).map_err(csv_error)?;
        Ok(AdhesionWriter {
            csv,
            batch_id: batch_id.to_owned(),
            expected: count,
            count: 0,
            date: Out::new(Vec::with_capacity(10)),
        })
    }

    pub fn push(&mut self, a: &Adhesion<'_>) -> Result<(), WriteError> {
        check_id("adhesion_id", a.adhesion_id, 35)?;
        check_id("person_id", a.person_id, 35)?;
        check_id("household_id", a.household_id, 35)?;
        if let Some(id) = a.national_id {
            check_id("national_id", id, 35)?;
        }
        check_text("family_name", a.family_name)?;
        check_text("given_name", a.given_name)?;
        if a.sex != "F" && a.sex != "M" {
            return Err(invalid(
                "sex",
                format!("expected F or M, found {:?}", a.sex),
            ));
        }
        check_id("relation", a.relation, 35)?;
        if !(0..=9999).contains(&a.birth_date.year()) {
            return Err(invalid("birth_date", "a year between 0 and 9999"));
        }
        self.date.buf.clear();
        self.date.date(a.birth_date);
        let family = one_line(a.family_name);
        let given = one_line(a.given_name);
        self.csv
            .write_record([
                "D".as_bytes(),
                a.adhesion_id.as_bytes(),
                a.person_id.as_bytes(),
                a.household_id.as_bytes(),
                a.national_id.unwrap_or_default().as_bytes(),
                family.as_bytes(),
                given.as_bytes(),
                &self.date.buf,
                a.sex.as_bytes(),
                a.relation.as_bytes(),
            ])
            .map_err(csv_error)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the trailer, or refuses when the count pushed is not the one announced.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.count != self.expected {
            return Err(WriteError::ControlMismatch {
                expected_count: self.expected,
                count: self.count,
                expected_sum: 0,
                sum: 0,
            });
        }
        let count = self.count.to_string();
        self.csv
            .write_record(["T", &self.batch_id, &count])
            .map_err(csv_error)?;
        self.csv
            .into_inner()
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}

/// What the insurer decided for one adhesion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdhesionOutcome {
    Accepted { insurer_number: String },
    Rejected { reason_code: String, reason: String },
}

/// One record of the insurer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdhesionAnswer {
    /// The 1-based line of the file where the record starts.
    pub line: u64,
    pub adhesion_id: String,
    pub outcome: AdhesionOutcome,
}

const ANSWER_COLUMNS: &[&str] = &[
    "adhesion_id",
    "status",
    "insurer_number",
    "reason_code",
    "reason",
];
const ANSWER_REQUIRED: &[&str] = &["adhesion_id", "status"];

/// Reads the insurer's answer. A bad record is an `Err` naming its line and column, and reading
/// goes on; an adhesion answered twice in one file is refused as a duplicate, whatever the
/// outcomes (the insurer decides once).
pub fn read_adhesion_answer<R: Read>(r: R) -> AdhesionAnswerReader<R> {
    AdhesionAnswerReader {
        input: CsvInput::new(r, ANSWER_COLUMNS, ANSWER_REQUIRED),
        seen: Seen::default(),
    }
}

/// The iterator of [`read_adhesion_answer`].
pub struct AdhesionAnswerReader<R: Read> {
    input: CsvInput<R>,
    seen: Seen,
}

impl<R: Read> AdhesionAnswerReader<R> {
    fn record(&mut self, line: u64) -> Result<AdhesionAnswer, ParseError> {
        let input = &self.input;
        let adhesion_id = input.field(0)?;
        if adhesion_id.is_empty() {
            return Err(ParseError::new(line, "adhesion_id", "missing"));
        }
        let outcome = match input.field(1)? {
            "accepted" | "ACCEPTED" => {
                let number = input.field(2)?;
                if number.is_empty() {
                    return Err(ParseError::new(
                        line,
                        "insurer_number",
                        "an accepted adhesion has the insured's number",
                    ));
                }
                AdhesionOutcome::Accepted {
                    insurer_number: number.to_owned(),
                }
            }
            "rejected" | "REJECTED" => {
                let code = input.field(3)?;
                if code.is_empty() {
                    return Err(ParseError::new(
                        line,
                        "reason_code",
                        "a rejected adhesion has a reason code",
                    ));
                }
                AdhesionOutcome::Rejected {
                    reason_code: code.to_owned(),
                    reason: input.field(4)?.to_owned(),
                }
            }
            other => {
                return Err(ParseError::new(
                    line,
                    "status",
                    format!("expected accepted or rejected, found {other:?}"),
                ));
            }
        };
        if let Some(first) = self.seen.check(b'A', adhesion_id, line) {
            return Err(ParseError::new(
                line,
                "adhesion_id",
                format!("duplicate of line {first}"),
            ));
        }
        Ok(AdhesionAnswer {
            line,
            adhesion_id: adhesion_id.to_owned(),
            outcome,
        })
    }
}

impl<R: Read> Iterator for AdhesionAnswerReader<R> {
    type Item = Result<AdhesionAnswer, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.input.advance()? {
            Ok(line) => Some(self.record(line)),
            Err(e) => Some(Err(e)),
        }
    }
}

/// Writes an insurer's answer (tests and benchmarks play the insurer with it); the `line` of each
/// answer is ignored.
pub fn write_adhesion_answer<'a, W: Write>(
    w: W,
    answers: impl IntoIterator<Item = &'a AdhesionAnswer>,
) -> Result<W, WriteError> {
    let mut csv = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(w);
    csv.write_record(ANSWER_COLUMNS).map_err(csv_error)?;
    for a in answers {
        check_id("adhesion_id", &a.adhesion_id, 35)?;
        let record = match &a.outcome {
            AdhesionOutcome::Accepted { insurer_number } => [
                a.adhesion_id.as_str(),
                "accepted",
                insurer_number.as_str(),
                "",
                "",
            ]
            .map(one_line),
            AdhesionOutcome::Rejected {
                reason_code,
                reason,
            } => [
                a.adhesion_id.as_str(),
                "rejected",
                "",
                reason_code.as_str(),
                reason.as_str(),
            ]
            .map(one_line),
        };
        csv.write_record(record.iter().map(|f| f.as_bytes()))
            .map_err(csv_error)?;
    }
    csv.into_inner()
        .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
}
