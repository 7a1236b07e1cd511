//! The auditor's pages: the audit trail, the access log, and the verification of the audit log.

use askama::Template;

use crate::{Shell, Tr};

/// The filters of a list, as the form shows them and the links repeat them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Where the form sends (the list's own path).
    pub action: String,
    pub actor: String,
    /// A household or person id (the subject of the change or the read).
    pub subject: String,
    /// A kind of change (`household.update` …); only on the trail.
    pub kind: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    pub to: String,
}

/// One event of the trail.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: String,
    pub facts: String,
    pub hash: String,
    pub integrated: bool,
}

#[derive(Template)]
#[template(path = "auditor/trail.html")]
pub struct TrailPage {
    pub shell: Shell,
    pub t: Tr,
    pub filters: Filters,
    pub rows: Vec<EventRow>,
    /// The next page's link, when there is more.
    pub next: Option<String>,
    pub csv: String,
    /// Events read to find these rows (the scan stops after a bound).
    pub scanned: i64,
}

/// One read of personal data.
#[derive(Debug, Clone)]
pub struct AccessRow {
    pub at: String,
    pub actor: String,
    pub subject_kind: String,
    pub subject: String,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "auditor/access.html")]
pub struct AccessPage {
    pub shell: Shell,
    pub t: Tr,
    pub filters: Filters,
    pub rows: Vec<AccessRow>,
    pub next: Option<String>,
    pub csv: String,
}

#[derive(Template)]
#[template(path = "auditor/chain.html")]
pub struct ChainPage {
    pub shell: Shell,
    pub t: Tr,
    pub intact: bool,
    /// What is wrong, as the verifier says it (a technical sentence in English).
    pub problem: Option<String>,
    pub events: i64,
    pub tree_size: i64,
    pub root: String,
    pub heads: i64,
    pub chained: i64,
    pub pending: i64,
    pub pending_since: Option<String>,
    /// Whether the signatures were checked against the installation's key.
    pub keyed: bool,
    pub checked_at: String,
}
