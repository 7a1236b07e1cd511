//! E-service requests and complaints: a citizen (or an agent for them, with their consent) asks
//! for something, the request walks the steps of its kind's workflow (see `sanad-workflow`),
//! each step in the queue of the role that acts there, with a deadline; every move is recorded
//! with its actor and reason and goes into the audit trail in the same transaction. The citizen
//! follows it with a public reference and a short secret.
//!
//! This module holds the port ([`RequestStore`]) and the types it speaks; the use-case that
//! applies the workflow rules is [`Requests`](crate::requests::Requests).

use async_trait::async_trait;
use sanad_domain::HouseholdId;
use serde::Serialize;
use time::OffsetDateTime;

use crate::store::{Change, StoreError};

/// Where a request is handled: the household's (or the complainant's) territory, and the centre
/// or unit whose queue it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub region_code: String,
    pub province_code: String,
    pub commune_code: String,
    pub centre: String,
}

/// A document given with a request, checked by the caller (see
/// [`check_upload`](crate::declarations::check_upload)). `content` is `Some` when the store keeps
/// the bytes itself (in its `documents` table), `None` when they are already in the document
/// vault on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub content: Option<Vec<u8>>,
}

/// A document as listed with its request (no content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestDocument {
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    /// The step at which it was given.
    pub step: String,
}

/// A request as submitted, after the use-case has checked it against its workflow.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The reference's family prefix (`SR`, `CP` …); the store draws the next number of the year.
    pub prefix: String,
    /// Writes the reference from the prefix, the year and the number drawn.
    pub format_reference: fn(&str, i32, u64) -> String,
    pub secret_digest: String,
    pub kind: String,
    pub definition_version: u32,
    pub household_id: Option<HouseholdId>,
    pub routing: Routing,
    /// The workflow's first step and the role whose queue it is in.
    pub step: String,
    pub queue_role: String,
    pub due_at: Option<OffsetDateTime>,
    /// What the request is about: a programme code, a certificate kind, a complaint kind.
    pub subject: Option<String>,
    pub category: Option<String>,
    pub channel: String,
    pub details: String,
    pub assisted: bool,
    pub documents: Vec<StoredDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRequest {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub definition_version: u32,
    pub household_id: Option<HouseholdId>,
    pub routing: Routing,
    pub step: String,
    pub queue_role: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub escalation_level: u32,
    /// `open` or `closed`.
    pub state: String,
    pub outcome: Option<String>,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub channel: String,
    pub details: String,
    /// The answer given to the citizen when the request closed.
    pub answer: Option<String>,
    pub submitted_by: String,
    pub assisted: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub version: u32,
    pub documents: Vec<RequestDocument>,
    pub rating: Option<Rating>,
}

impl ServiceRequest {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// One step a request entered: the move that brought it there, and how long it stayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepVisit {
    pub seq: u32,
    pub step: String,
    pub from_step: Option<String>,
    pub action: String,
    pub actor: String,
    pub role: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub entered_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub left_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rating {
    pub rating: u8,
    pub comment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub rated_at: OffsetDateTime,
}

/// A move of a request from the step it is at, decided by the use-case from the workflow.
#[derive(Debug, Clone)]
pub struct Move {
    /// The request's version the mover read; a different one is a conflict (someone else moved it).
    pub expected_version: u32,
    pub from_step: String,
    pub to_step: String,
    pub action: String,
    pub role: String,
    pub queue_role: String,
    pub due_at: Option<OffsetDateTime>,
    /// `Some` when the move reaches a final step (the request closes) …
    pub outcome: Option<String>,
    /// … or reopens a closed one (`from_step` is then its final step).
    pub reopen: bool,
    pub answer: Option<String>,
    /// The centre it moves to, when the move routes it elsewhere.
    pub centre: Option<String>,
    pub documents: Vec<StoredDocument>,
    /// Extra audit events written in the same transaction (for example an enrolment decided by
    /// the move), beside the request's own event.
    pub details: serde_json::Value,
}

/// What an escalation pass found late: moved to the next role's queue.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub request_id: i64,
    pub expected_version: u32,
    pub level: u32,
    pub to_role: String,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub household_id: Option<HouseholdId>,
    /// Region, province or commune codes (empty = everywhere).
    pub territories: Vec<String>,
    pub centre: Option<String>,
    pub queue_roles: Vec<String>,
    pub kinds: Vec<String>,
    /// Category ids to leave out (restricted ones the reader may not see).
    pub hidden_categories: Vec<String>,
    /// `Some("open")`, `Some("closed")` or all.
    pub state: Option<String>,
    /// Only requests past their deadline at this instant.
    pub overdue_at: Option<OffsetDateTime>,
    pub limit: u32,
}

/// A span of time a request spent at a step, for the bottleneck report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRow {
    pub kind: String,
    pub step: String,
    pub centre: String,
    pub commune_code: String,
    pub entered_at: OffsetDateTime,
    pub left_at: Option<OffsetDateTime>,
    pub due_at: Option<OffsetDateTime>,
}

/// Ratings aggregated per service (kind), centre and territory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingRow {
    pub kind: String,
    pub centre: String,
    pub commune_code: String,
    pub count: u64,
    pub sum: u64,
}

/// The requests port.
#[async_trait]
pub trait RequestStore: Send + Sync + 'static {
    /// Records a request, its first step, its documents and its audit event in one transaction,
    /// drawing its reference number.
    async fn submit(&self, r: &NewRequest, change: &Change) -> Result<ServiceRequest, StoreError>;
    async fn request(&self, id: i64) -> Result<Option<ServiceRequest>, StoreError>;
    async fn by_reference(&self, reference: &str) -> Result<Option<ServiceRequest>, StoreError>;
    /// The secret digest of a reference, for the public follow-up.
    async fn secret_digest(&self, reference: &str) -> Result<Option<String>, StoreError>;
    async fn history(&self, id: i64) -> Result<Vec<StepVisit>, StoreError>;
    /// Moves a request (closes the step it leaves, opens the next), its documents and audit
    /// event in one transaction; `VersionConflict` when it moved since it was read.
    async fn advance(
        &self,
        id: i64,
        m: &Move,
        change: &Change,
    ) -> Result<ServiceRequest, StoreError>;
    /// Puts late requests in the queue of the role they escalate to (each one checked against
    /// the version it was read at; a request moved meanwhile is left alone). Returns how many
    /// escalated.
    async fn escalate(&self, late: &[Escalation], change: &Change) -> Result<u64, StoreError>;
    /// Requests by filter, the most urgent first (deadline, then age).
    async fn requests(&self, filter: &RequestFilter) -> Result<Vec<ServiceRequest>, StoreError>;
    /// Every step visit of the requests in these territories (all when empty), for the
    /// bottleneck report; `kinds` narrows to some services.
    async fn spans(
        &self,
        territories: &[String],
        kinds: &[String],
    ) -> Result<Vec<SpanRow>, StoreError>;
    /// A rating of a closed request, once (a second one is a conflict).
    async fn rate(&self, id: i64, rating: &Rating, change: &Change) -> Result<(), StoreError>;
    async fn ratings(&self, territories: &[String]) -> Result<Vec<RatingRow>, StoreError>;
    /// A request's document content (the database copy; `None` when it is kept on disk).
    async fn request_document(&self, sha256: &str)
    -> Result<Option<(String, Vec<u8>)>, StoreError>;
}
