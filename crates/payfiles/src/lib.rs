//! The payment file formats Sanad exchanges with banks, wallet operators, cash networks and the
//! AMO-Tadamon insurer. Pure code: every writer streams into a given `Write`, every reader streams
//! from a given `Read`, and nothing here knows a database, a clock or the network.
//!
//! Readers refuse a bad file record by record with a [`ParseError`] that names the line and the
//! field, so that the caller can reject the whole file before writing anything.

pub mod amo;
pub mod answer;
pub mod batch_csv;
pub mod means;
pub mod pain001;
pub mod rib;

mod text;

use std::fmt;

pub use answer::{AnswerLine, Outcome, read_answer_csv, read_camt054};
pub use means::{Means, MeansKind};
pub use pain001::{BatchHeader, Debtor, Pain001Writer, Transfer, WriteError};
pub use rib::{Rib, RibError, rib_key};

/// What a reader found wrong in a file: the 1-based line where the record starts, the field (a
/// CSV column or an XML element) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> Self {
        ParseError {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, field {}: {}",
            self.line, self.field, self.message
        )
    }
}

impl std::error::Error for ParseError {}
