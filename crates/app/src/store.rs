//! The storage port: operations named for what the registry does, implemented once per backend
//! (SQLite, PostgreSQL) and checked by one contract test suite.

use async_trait::async_trait;
use sanad_domain::audit::AuditEvent;
use sanad_domain::{Area, Household, HouseholdData, HouseholdId, HouseholdInput, Person, PersonId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::auth::Role;

/// Who makes a change, when and why; written into the version and the audit event.
#[derive(Debug, Clone)]
pub struct Change {
    pub actor: String,
    pub reason: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Optimistic concurrency: the record changed since the client read it.
    #[error("the record is at version {current}, not {expected}")]
    VersionConflict { expected: u32, current: u32 },
    /// A uniqueness or membership rule that only the store can check (a national id used by
    /// another person, a person already in another household).
    #[error("{field}: {message}")]
    Conflict {
        field: String,
        code: &'static str,
        message: String,
    },
    /// The database could not be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

/// One version of a household: who changed it, when, why, and its full state after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdVersion {
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub reason: String,
    pub snapshot: Household,
}

/// A line of a household list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    pub id: HouseholdId,
    pub version: u32,
    pub commune_code: String,
    pub region_code: String,
    pub area: Area,
    pub members: u32,
    pub head_first_name: Option<String>,
    pub head_last_name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    /// Region, province or commune codes; households inside any of them (empty = everywhere).
    pub territories: Vec<String>,
    /// Keyset paging: households after this one, in id order.
    pub after: Option<HouseholdId>,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub person_id: Option<PersonId>,
    pub national_id: Option<String>,
    /// A phone number in E.164 form (normalised before it gets here): an exact match.
    pub phone: Option<String>,
    /// Words that must all appear in the person's names (Latin or Arabic), case and accents ignored.
    pub name_words: Vec<String>,
    /// The consonant skeleton of each word of `name_words`, when it has one: the word also
    /// matches a person whose names sound alike, in either script.
    pub name_sounds: Vec<Option<String>>,
    /// Only persons whose household lies in one of these (empty = everywhere).
    pub territories: Vec<String>,
    /// Whether persons without a household may be returned.
    pub include_unattached: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionCount {
    pub region_code: String,
    pub households: u64,
    pub persons: u64,
}

/// An OpenID Connect login in progress: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFlow {
    /// SHA-256 (hex) of the random value in the browser's flow cookie.
    pub browser_hash: String,
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The local path to go to afterwards.
    pub next: String,
    pub expires_at: OffsetDateTime,
}

/// A read of personal data, for the access log.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    pub actor: String,
    pub at: OffsetDateTime,
    pub entity_type: &'static str,
    pub entity_ids: Vec<String>,
    pub purpose: String,
}

/// A validated batch for import: households with their members (version 1) and persons who belong to
/// no household. Every id is new to the store, or the import is refused.
#[derive(Debug, Clone, Default)]
pub struct RegistryBatch {
    pub households: Vec<Household>,
    pub loose_persons: Vec<Person>,
}

impl RegistryBatch {
    pub fn person_count(&self) -> usize {
        self.loose_persons.len()
            + self
                .households
                .iter()
                .map(|h| h.members.len())
                .sum::<usize>()
    }
}

/// Why a batch cannot be written as it is: the key already in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchConflict {
    HouseholdExists(HouseholdId),
    PersonExists(PersonId),
    NationalIdUsed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Written {
        households: u64,
        persons: u64,
    },
    /// Nothing was written.
    Conflicts(Vec<BatchConflict>),
}

/// Told how far a long write has got.
pub trait Progress: Send + Sync {
    fn phase(&self, _name: &str, _total: u64) {}
    fn advance(&self, _done: u64) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Review state of a candidate duplicate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PairStatus {
    /// Found by the matcher, waiting for an agent.
    Pending,
    /// An agent confirmed that both records are the same person.
    Accepted,
    /// An agent found two different persons.
    Rejected,
}

impl PairStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PairStatus::Pending => "pending",
            PairStatus::Accepted => "accepted",
            PairStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(PairStatus::Pending),
            "accepted" => Some(PairStatus::Accepted),
            "rejected" => Some(PairStatus::Rejected),
            _ => None,
        }
    }
}

/// A candidate pair from the matcher.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidatePair {
    pub person_a: PersonId,
    pub person_b: PersonId,
    pub probability: f64,
    /// JSON: the per-field explanation of the score.
    pub explanation: String,
}

/// A pair in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicatePair {
    pub id: i64,
    pub person_a: PersonId,
    pub person_b: PersonId,
    pub probability: f64,
    /// Per-field explanation of the score.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    pub status: PairStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub found_at: OffsetDateTime,
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<OffsetDateTime>,
}

/// One person merged into another: the merged record leaves its household and points to the kept
/// one; undoing puts it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonMerge {
    pub id: i64,
    pub kept_person: PersonId,
    pub merged_person: PersonId,
    pub former_household_id: Option<HouseholdId>,
    pub former_relation: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub undone_at: Option<OffsetDateTime>,
    pub undone_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    /// Territory codes the account works in; empty = the whole country.
    pub territories: Vec<String>,
    /// A citizen's own household.
    pub household_id: Option<HouseholdId>,
    /// Consecutive failed logins since the last success.
    pub failed_logins: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl Account {
    /// A new account with no failures and no lock.
    pub fn new(username: &str, role: Role, password_hash: String) -> Account {
        Account {
            username: username.to_string(),
            role,
            password_hash,
            territories: Vec::new(),
            household_id: None,
            failed_logins: 0,
            locked_until: None,
        }
    }
}

/// An API key as stored: its owner and its scopes (empty = all of the owner's role).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyOwner {
    pub account: Account,
    pub scopes: Vec<String>,
}

/// A read of personal data, as the access log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub entity_type: String,
    pub entity_id: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Default)]
pub struct AccessLogQuery {
    pub actor: Option<String>,
    pub entity_id: Option<String>,
    pub after: i64,
    pub limit: u32,
}

/// A signed statement of the audit chain's head at some moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub public_key: String,
    pub signature: String,
}

/// Every registry store also keeps the audit log ([`crate::audit_log::AuditLogStore`]): the
/// registry's changes write their events in their own transactions.
#[async_trait]
pub trait RegistryStore: crate::audit_log::AuditLogStore + Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies the pending forward-only migrations and loads the territorial division.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Writes a new household and its new members (ids allocated here), version 1 and its audit
    /// event, in one transaction. `input` has passed [`HouseholdInput::validate`].
    async fn register_household(
        &self,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError>;

    /// Replaces a household's state if it is still at `expected_version`; members left out leave the
    /// household (they stay in the registry), members with a `person_id` join or stay.
    async fn update_household(
        &self,
        id: HouseholdId,
        expected_version: u32,
        input: &HouseholdInput,
        change: &Change,
    ) -> Result<Household, StoreError>;

    async fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError>;

    async fn household_versions(
        &self,
        id: HouseholdId,
    ) -> Result<Vec<HouseholdVersion>, StoreError>;

    async fn list_households(
        &self,
        filter: &HouseholdFilter,
    ) -> Result<Vec<HouseholdSummary>, StoreError>;

    async fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError>;

    async fn search_persons(&self, query: &PersonQuery) -> Result<Vec<Person>, StoreError>;

    async fn region_counts(&self) -> Result<Vec<RegionCount>, StoreError>;

    async fn record_access(&self, access: &AccessRecord) -> Result<(), StoreError>;

    /// Writes the whole batch in one transaction, or nothing.
    async fn import_batch(
        &self,
        batch: &RegistryBatch,
        change: &Change,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, StoreError>;

    /// Households (without members) after `after`, in id order.
    async fn export_households(
        &self,
        after: Option<HouseholdId>,
        limit: u32,
    ) -> Result<Vec<(HouseholdId, HouseholdData)>, StoreError>;

    /// Persons after `after`, in id order.
    async fn export_persons(
        &self,
        after: Option<PersonId>,
        limit: u32,
    ) -> Result<Vec<Person>, StoreError>;

    /// Audit events after `after_seq`, in sequence order.
    async fn audit_events(&self, after_seq: i64, limit: u32)
    -> Result<Vec<AuditEvent>, StoreError>;

    async fn upsert_account(&self, account: &Account) -> Result<(), StoreError>;

    async fn account(&self, username: &str) -> Result<Option<Account>, StoreError>;

    /// Stores the SHA-256 of a new API key for `username`, with its scopes (empty = the role's).
    async fn add_api_key(
        &self,
        username: &str,
        key_hash: &str,
        scopes: &[String],
    ) -> Result<(), StoreError>;

    /// The account and scopes of an API key (given by its SHA-256), unless revoked.
    async fn api_key_account(&self, key_hash: &str) -> Result<Option<ApiKeyOwner>, StoreError>;

    /// Revokes the API keys whose hash starts with `key_id` (at least 12 hex characters);
    /// returns how many.
    async fn revoke_api_key(&self, key_id: &str, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Opens a browser session (the token and CSRF token are stored as given: the caller hashes
    /// the session token).
    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        csrf_token: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// The account and CSRF token of a session still open at `now`.
    async fn session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(Account, String)>, StoreError>;

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Remembers an OpenID Connect login in progress under the hash of its state (and forgets
    /// those expired).
    async fn put_login_flow(&self, state_hash: &str, flow: &LoginFlow) -> Result<(), StoreError>;

    /// Takes the login in progress under this state hash, once: it is gone afterwards. `None` if
    /// there is none or it expired before `now`.
    async fn take_login_flow(
        &self,
        state_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LoginFlow>, StoreError>;

    /// Counts a failed login and locks the account until `lock_until` once `max_failures` is
    /// reached; returns the account's failure count.
    async fn record_login_failure(
        &self,
        username: &str,
        max_failures: u32,
        lock_until: OffsetDateTime,
    ) -> Result<u32, StoreError>;

    /// Clears the failure count and any lock.
    async fn record_login_success(&self, username: &str) -> Result<(), StoreError>;

    /// The access log, newest last, filtered by actor or record.
    async fn access_log(&self, query: &AccessLogQuery) -> Result<Vec<AccessEntry>, StoreError>;

    /// Appends one event to the audit chain (a disclosure such as an export or a backup; changes
    /// to the registry record their own events with the change).
    async fn append_audit_event(
        &self,
        entry: sanad_domain::audit::AuditEntry,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Deletes the access-log entries written before `before` and records, in the same
    /// transaction, an audit event saying how many and why. Returns how many were deleted.
    async fn prune_access_log(
        &self,
        before: OffsetDateTime,
        change: &Change,
    ) -> Result<u64, StoreError>;

    /// Writes a consistent copy of the whole database to `to` (SQLite: a database file; PostgreSQL:
    /// a `pg_dump` archive in custom format). Restore with `sanad_storage::restore`.
    async fn backup(&self, to: &std::path::Path) -> Result<(), StoreError>;

    /// The end of the audit chain.
    async fn audit_head(&self) -> Result<sanad_domain::audit::ChainHead, StoreError>;

    /// Stores a signed checkpoint of the audit chain.
    async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// Every checkpoint, in sequence order.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;

    /// Adds candidate pairs to the review queue; pairs already there (in any state) or naming a
    /// merged person are skipped. Returns how many were added.
    async fn add_duplicate_candidates(
        &self,
        pairs: &[CandidatePair],
        change: &Change,
    ) -> Result<u64, StoreError>;

    /// Pairs in id order, optionally of one status; with `territories`, only pairs with at least
    /// one person living in one of them (a centre reviews its own territory).
    async fn duplicate_pairs(
        &self,
        status: Option<PairStatus>,
        territories: &[String],
        after: i64,
        limit: u32,
    ) -> Result<Vec<DuplicatePair>, StoreError>;

    /// Accepts or rejects a pending pair (audited).
    async fn decide_duplicate_pair(
        &self,
        id: i64,
        decision: PairStatus,
        change: &Change,
    ) -> Result<DuplicatePair, StoreError>;

    /// Merges `merged` into `kept`: `merged` leaves its household (a new household version) and
    /// points to `kept` (audited, in one transaction).
    async fn merge_persons(
        &self,
        kept: PersonId,
        merged: PersonId,
        change: &Change,
    ) -> Result<PersonMerge, StoreError>;

    /// Undoes a merge: the merged person is a person again and rejoins their former household
    /// when that is still possible (its head is not replaced).
    async fn undo_merge(&self, id: i64, change: &Change) -> Result<PersonMerge, StoreError>;
}
