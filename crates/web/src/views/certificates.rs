//! Issued documents: the public verify page (by number and code, as the QR code opens it, or by
//! the PDF file), and the link to a document on a request's page. Every string is already in the
//! reader's words; templates only lay them out.

use askama::Template;

use crate::views::registry::Fact;
use crate::{Shell, Tr};

/// What the check found, in words.
#[derive(Debug, Clone)]
pub struct VerifyResult {
    /// `ok` (valid), `warn` (revoked) or `bad` (forged): the notice's colour.
    pub tone: &'static str,
    pub title: String,
    pub text: String,
    /// What the document states, as printed on it (valid or revoked only).
    pub facts: Vec<Fact>,
}

#[derive(Template)]
#[template(path = "certificates/verify.html")]
pub struct VerifyPage {
    pub shell: Shell,
    pub t: Tr,
    pub number: String,
    pub code: String,
    pub result: Option<VerifyResult>,
    /// A file that could not be read, in words.
    pub error: Option<String>,
}

/// A document a request issued, on the request's page.
#[derive(Debug, Clone)]
pub struct CertificateLink {
    pub href: String,
    pub number: String,
    pub label: String,
    /// Set when revoked: why, in words.
    pub revoked: Option<String>,
}

/// One document issued to a household, on the household's page.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub number: String,
    pub label: String,
    pub holder: String,
    pub issued: String,
    /// The PDF's address.
    pub href: String,
    /// Set when revoked: why, in words.
    pub revoked: Option<String>,
    /// Where a revocation is posted, when the reader may revoke it.
    pub revoke: Option<String>,
}

/// The documents section of a household's page.
#[derive(Debug, Clone, Default)]
pub struct DocumentsSection {
    pub rows: Vec<DocumentRow>,
    /// Where an attestation is asked for, when the reader may.
    pub issue: Option<String>,
    /// The reasons a revocation may give.
    pub reasons: Vec<crate::views::requests::Choice>,
}
