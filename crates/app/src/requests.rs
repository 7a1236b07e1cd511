//! E-service requests and complaints: a citizen (or an agent for them, with their consent) asks
//! for something, the request walks the steps of its kind's workflow (see `sanad-workflow`),
//! each step in the queue of the role that acts there, with a deadline; every move is recorded
//! with its actor and reason and goes into the audit trail in the same transaction. The citizen
//! follows it with a public reference and a short secret.
//!
//! This module holds the port ([`RequestStore`]) and the types it speaks; the use-case that
//! applies the workflow rules is [`Requests`](crate::requests::Requests).

use async_trait::async_trait;
use sanad_domain::{HouseholdId, TerritoryLevel};
use sanad_workflow::Timing;
use serde::Serialize;
use time::OffsetDateTime;

use crate::store::{Change, StoreError};

/// Where a request is handled: the household's (or the complainant's) territory, and the centre
/// or unit whose queue it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    /// Who is told by SMS that it was received (with its reference and follow-up code), in the
    /// same transaction through the outbox.
    pub notify: Option<Notify>,
}

/// A citizen to tell of a request, and in which language.
#[derive(Debug, Clone)]
pub struct Notify {
    pub recipient: crate::outbox::Recipient,
    pub language: sanad_domain::Lang,
    pub code: Option<crate::outbox::FollowUpCode>,
}

impl Notify {
    /// The message that a request was received, once its reference is drawn.
    pub fn received(
        &self,
        reference: &str,
    ) -> Result<crate::outbox::NewMessage, crate::outbox::InvalidMessage> {
        self.message(
            reference,
            crate::outbox::Template::RequestReceived,
            None,
            "received",
        )
    }

    /// The message that a request reached a status (`approved`, `refused` …).
    pub fn status(
        &self,
        reference: &str,
        status: &str,
        move_seq: u32,
    ) -> Result<crate::outbox::NewMessage, crate::outbox::InvalidMessage> {
        self.message(
            reference,
            crate::outbox::Template::RequestStatus,
            Some(status),
            &format!("{status}:{move_seq}"),
        )
    }

    fn message(
        &self,
        reference: &str,
        template: crate::outbox::Template,
        status: Option<&str>,
        event: &str,
    ) -> Result<crate::outbox::NewMessage, crate::outbox::InvalidMessage> {
        use crate::outbox::{IdempotencyKey, NewMessage, Params};
        let code = match template {
            crate::outbox::Template::RequestReceived => self.code.clone(),
            _ => None,
        };
        NewMessage::new(
            self.recipient.clone(),
            template,
            self.language,
            Params::new(reference, status, code)?,
            // One message per request and event, however often the move is retried.
            IdempotencyKey::parse(&format!("request:{reference}:{event}:sms"))?,
            Some(reference.to_string()),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    /// Facts recorded in the move's audit event (for example an enrolment decided by the move).
    pub details: serde_json::Value,
    /// The citizen's message about the move, enqueued in the same transaction.
    pub notify: Option<crate::outbox::NewMessage>,
    /// The document the move issues (its last step's), numbered, signed and recorded in the
    /// same transaction.
    pub certificate: Option<crate::certificates::NewCertificate>,
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

/// One area's delays and ratings, every service together (see [`Requests::by_area`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AreaFigures {
    /// The region's or province's code.
    pub area: String,
    /// Step visits that ended: how long a step took.
    pub finished: Timing,
    /// Requests still at a step: how long they have waited so far.
    pub open: Timing,
    /// Ratings given after a request closed, and the sum of their marks (1 to 5).
    pub ratings: u64,
    pub rating_sum: u64,
}

impl AreaFigures {
    /// Step visits, finished or not.
    pub fn visits(&self) -> u64 {
        self.finished.count + self.open.count
    }

    /// Visits past their deadline, finished late or still open past it.
    pub fn breaches(&self) -> u64 {
        self.finished.breaches + self.open.breaches
    }

    /// The share of visits past their deadline; none without visits.
    pub fn breach_share(&self) -> Option<f64> {
        let visits = self.visits();
        (visits > 0).then(|| self.breaches() as f64 / visits as f64)
    }

    /// The average mark; none without ratings.
    pub fn average_rating(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.rating_sum as f64 / self.ratings as f64)
    }
}

/// The region (`RR`) or province (`RR.PPP`) a dotted HCP code lies in: its first one or two
/// parts, as the households' own region and province codes are. A commune is itself; a code too
/// short for the level lies in none.
pub fn area_of(code: &str, level: TerritoryLevel) -> Option<&str> {
    let parts = match level {
        TerritoryLevel::Region => 1,
        TerritoryLevel::Province => 2,
        TerritoryLevel::Commune => return Some(code).filter(|c| !c.is_empty()),
    };
    let end = code
        .match_indices('.')
        .nth(parts - 1)
        .map_or(code.len(), |(at, _)| at);
    let area = &code[..end];
    let whole = area.split('.').count() == parts && area.split('.').all(|p| !p.is_empty());
    whole.then_some(area)
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

// ---------------------------------------------------------------------------------------------
// The use-case.

use std::collections::BTreeMap;
use std::sync::Arc;

use sanad_workflow::{
    Bottlenecks, ComplaintRules, Definition, Family, GrievanceKind, Lang, Reference, Report, Secret,
};

use crate::auth::{Actor, Role};
use crate::declarations::{Upload, bad};
use crate::policy::{self, Permission};
use crate::registry::{Purpose, Registry, RegistryError, hidden, require};
use crate::targeting::{EnrolmentState, Targeting};

/// The roles a workflow may name.
pub fn known_roles() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

/// Where a request's documents are kept: in the database beside the request, or on disk, one
/// file per content (named by its SHA-256) under a directory.
#[derive(Debug, Clone)]
pub enum DocumentVault {
    Database,
    Disk(std::path::PathBuf),
}

impl DocumentVault {
    /// Keeps the bytes of a checked upload; for the disk vault, written under a temporary name
    /// and renamed, so a crash leaves no half file under a content name.
    fn keep(&self, u: Upload) -> Result<StoredDocument, RegistryError> {
        let size = u.bytes.len() as i64;
        let content = match self {
            DocumentVault::Database => Some(u.bytes),
            DocumentVault::Disk(dir) => {
                let path = self.path(dir, &u.sha256);
                if !path.exists() {
                    let written = (|| -> std::io::Result<()> {
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent)?;
                        }
                        let mut pending = crate::atomic::PendingFiles::new();
                        let mut file = pending.create(&path)?;
                        std::io::Write::write_all(&mut file, &u.bytes)?;
                        drop(file);
                        pending.commit(true)
                    })();
                    written.map_err(|e| StoreError::Internal(format!("document vault: {e}")))?;
                }
                None
            }
        };
        Ok(StoredDocument {
            sha256: u.sha256,
            name: u.name,
            media_type: u.media_type,
            size,
            content,
        })
    }

    fn path(&self, dir: &std::path::Path, sha256: &str) -> std::path::PathBuf {
        dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        match self {
            DocumentVault::Database => Ok(None),
            DocumentVault::Disk(dir) => {
                if !sha256.chars().all(|c| c.is_ascii_hexdigit()) || sha256.len() != 64 {
                    return Ok(None);
                }
                match std::fs::read(self.path(dir, sha256)) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(StoreError::Internal(format!("document vault: {e}")).into()),
                }
            }
        }
    }
}

/// A request as a citizen or an agent fills it in.
#[derive(Debug, Clone, Default)]
pub struct SubmitRequest {
    pub kind: String,
    pub household_id: Option<HouseholdId>,
    /// A programme application: the programme's code.
    pub programme: Option<String>,
    /// A complaint: `complaint`, `suggestion` or `observation`, and its category.
    pub grievance: Option<String>,
    pub category: Option<String>,
    /// `web`, `centre` or `phone`; a citizen online is `web`.
    pub channel: Option<String>,
    pub details: String,
    pub documents: Vec<Upload>,
    /// Assisted mode: the citizen agreed that the agent files it for them.
    pub consent: bool,
    /// The language of the SMS that says it was received (default Arabic).
    pub lang: Option<sanad_domain::Lang>,
}

/// A request just submitted, with the follow-up secret (shown once, never stored in clear).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub request: ServiceRequest,
    pub secret: String,
}

/// What anyone holding a reference and its secret may read: where the request stands, no
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    pub reference: String,
    pub kind: String,
    pub step: String,
    pub state: String,
    pub outcome: Option<String>,
    pub answer: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub steps_left: Option<usize>,
}

/// The most a details text may hold.
pub const MAX_DETAILS_CHARS: usize = 4000;

/// The phone a household is told on: its head's, or the first member's who has one.
fn phone_to_tell(h: &sanad_domain::Household) -> Option<sanad_domain::PhoneNumber> {
    h.members
        .iter()
        .filter(|m| m.data.phone.is_some())
        .min_by_key(|m| m.data.relation != sanad_domain::Relation::Head)
        .and_then(|m| m.data.phone.clone())
}

fn refused(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Store(StoreError::Conflict {
        field: "action".into(),
        code: "not_allowed_here",
        message: e.to_string(),
    })
}

/// The key of the follow-up secrets' digests, derived from the data key: a copy of the database
/// without the key file cannot test guesses of a secret.
pub fn pepper_from(cipher: &crate::crypto::DataCipher) -> [u8; 32] {
    use sha2::Digest as _;
    let keyed = cipher.lookup_hash("sanad/request-secrets/v1");
    sha2::Sha256::digest(keyed.as_bytes()).into()
}

fn format_reference(prefix: &str, year: i32, seq: u64) -> String {
    let family = if prefix == Family::Grievance.prefix() {
        Family::Grievance
    } else {
        Family::ServiceRequest
    };
    match Reference::new(
        family,
        u16::try_from(year).unwrap_or(0),
        u32::try_from(seq).unwrap_or(u32::MAX),
    ) {
        Ok(r) => r.to_string(),
        // Past ten million a year the number is written plainly; the check digit is lost, not
        // the request.
        Err(_) => format!("{prefix}-{year}-{seq}"),
    }
}

#[derive(Clone)]
pub struct Requests {
    registry: Registry,
    store: Arc<dyn RequestStore>,
    definitions: Arc<BTreeMap<String, Definition>>,
    complaints: Arc<ComplaintRules>,
    pepper: Arc<[u8; 32]>,
    vault: DocumentVault,
    targeting: Option<Targeting>,
    certificates: Option<crate::certificates::Certificates>,
}

impl Requests {
    /// The shipped request types and complaint rules; `pepper` keys the follow-up secrets'
    /// digests (derive it from the data key, so a copy of the database alone cannot test
    /// guesses).
    pub fn new(
        registry: Registry,
        store: Arc<dyn RequestStore>,
        pepper: [u8; 32],
        vault: DocumentVault,
    ) -> Result<Requests, String> {
        let definitions = sanad_workflow::shipped()
            .into_iter()
            .map(|d| (d.kind().to_string(), d))
            .collect();
        let complaints = ComplaintRules::shipped().map_err(|e| e.to_string())?;
        Ok(Requests {
            registry,
            store,
            definitions: Arc::new(definitions),
            complaints: Arc::new(complaints),
            pepper: Arc::new(pepper),
            vault,
            targeting: None,
            certificates: None,
        })
    }

    /// Programme applications are decided through the programme's own eligibility and enrolment.
    /// The documents service, which issues the card or attestation of a request's last step.
    pub fn with_certificates(
        mut self,
        certificates: crate::certificates::Certificates,
    ) -> Requests {
        self.certificates = Some(certificates);
        self
    }

    pub fn certificates(&self) -> Option<&crate::certificates::Certificates> {
        self.certificates.as_ref()
    }

    pub fn with_targeting(mut self, targeting: Targeting) -> Requests {
        self.targeting = Some(targeting);
        self
    }

    pub fn store(&self) -> &Arc<dyn RequestStore> {
        &self.store
    }

    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.values()
    }

    pub fn definition(&self, kind: &str) -> Option<&Definition> {
        self.definitions.get(kind)
    }

    pub fn complaint_rules(&self) -> &ComplaintRules {
        &self.complaints
    }

    fn now(&self) -> OffsetDateTime {
        self.registry.now()
    }

    /// Whether the actor may see this request: its household's citizen; staff of its territory,
    /// and for a restricted complaint category only the roles named for it.
    fn may_see(&self, actor: &Actor, r: &ServiceRequest) -> bool {
        if !policy::allows(actor, Permission::ReadRequests) {
            return false;
        }
        if actor.role == Role::Citizen {
            return r.household_id.is_some() && actor.household == r.household_id;
        }
        let in_territory = actor.territories.is_empty()
            || actor
                .territories
                .iter()
                .any(|t| policy::contains(t, &r.routing.commune_code));
        let category_ok = match (&r.category, r.kind.as_str()) {
            (Some(c), "complaint") => self.complaints.visible_to(c, actor.role.as_str()),
            _ => true,
        };
        in_territory && category_ok
    }

    /// The categories this role may not see.
    fn hidden_categories(&self, role: Role) -> Vec<String> {
        self.complaints
            .categories()
            .iter()
            .filter(|c| !self.complaints.visible_to(&c.id, role.as_str()))
            .map(|c| c.id.clone())
            .collect()
    }

    /// Submits a request: checked against its type, routed to the centre of the household's
    /// territory (a complaint to the unit of its category), its first step's deadline set.
    pub async fn submit(
        &self,
        actor: &Actor,
        s: SubmitRequest,
        reason: &str,
    ) -> Result<Submitted, RegistryError> {
        require(actor, Permission::SubmitRequests)?;
        let definition = self
            .definitions
            .get(&s.kind)
            .ok_or_else(|| bad("kind", "unknown_kind", "a request type Sanad offers"))?;
        let assisted = actor.role != Role::Citizen;
        let household_id = match actor.role {
            Role::Citizen => {
                let own = actor.household.ok_or_else(|| hidden(actor))?;
                if s.household_id.is_some_and(|h| h != own) {
                    return Err(hidden(actor));
                }
                Some(own)
            }
            _ => s.household_id,
        };
        if assisted && !s.consent {
            return Err(bad(
                "consent",
                "required",
                "the citizen's agreement that you file it for them",
            ));
        }
        let details = sanad_domain::household::clean_text(&s.details);
        if details.chars().count() > MAX_DETAILS_CHARS {
            return Err(bad("details", "too_long", "at most 4,000 characters"));
        }
        let household = match household_id {
            Some(h) => Some(
                self.registry
                    .household(actor, h, &Purpose(format!("request {}", s.kind)))
                    .await?,
            ),
            None => None,
        };
        let Some(household) = household else {
            return Err(bad(
                "household_id",
                "required",
                "the household the request is for",
            ));
        };
        let commune = household.data.commune_code.clone();
        let parts: Vec<&str> = commune.split('.').collect();
        let region = parts.first().copied().unwrap_or_default().to_string();
        let province = parts
            .get(..2)
            .map(|p| p.join("."))
            .unwrap_or_else(|| region.clone());

        // The entry step: a citizen's own submission step is done by submitting.
        let now = self.now();
        let initial = definition.initial();
        let entry = if initial.role == Role::Citizen.as_str()
            && let Ok(m) = definition.advance(&initial.id, "submit", Role::Citizen.as_str())
        {
            m.to
        } else {
            initial.id.clone()
        };
        let step = definition.step(&entry).ok_or_else(|| {
            StoreError::Internal(format!("workflow {} lost step {entry}", s.kind))
        })?;

        let mut subject = None;
        let mut category = None;
        let mut centre = commune.clone();
        let mut due_at = definition.due_at(now, &entry);
        let channel = match (actor.role, s.channel.as_deref()) {
            (Role::Citizen, _) => "web".to_string(),
            (_, Some(c @ ("centre" | "phone" | "web"))) => c.to_string(),
            (_, None) => "centre".to_string(),
            (_, Some(_)) => return Err(bad("channel", "unknown", "web, centre or phone")),
        };
        if s.kind == "programme_application" {
            let code = s.programme.clone().unwrap_or_default();
            let known = match &self.targeting {
                Some(t) => t.engine().programme(&code).is_some(),
                None => !code.is_empty(),
            };
            if code.is_empty() {
                return Err(bad("programme", "required", "a programme to apply to"));
            }
            if !known {
                // A code of no programme names nothing, as an unknown household does.
                return Err(StoreError::NotFound.into());
            }
            subject = Some(code);
        } else if s.kind == "complaint" {
            let kind = match s.grievance.as_deref().unwrap_or("complaint") {
                "complaint" => GrievanceKind::Complaint,
                "suggestion" => GrievanceKind::Suggestion,
                "observation" => GrievanceKind::Observation,
                _ => {
                    return Err(bad(
                        "grievance",
                        "unknown",
                        "a complaint, a suggestion or an observation",
                    ));
                }
            };
            // A complaint about nothing named goes to the citizens' relations unit.
            let c = s.category.clone().unwrap_or_else(|| "other".into());
            let routed = self.complaints.route(kind, &c, now).map_err(|_| {
                bad(
                    "category",
                    "unknown_category",
                    "what the complaint is about",
                )
            })?;
            // The legal delay of the whole complaint is the first step's deadline at the latest.
            due_at = match (due_at, routed.due_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            centre = format!("{}@{}", routed.unit, province);
            subject = Some(s.grievance.clone().unwrap_or_else(|| "complaint".into()));
            category = Some(c);
        } else if let Some(issued) = definition.steps().iter().find_map(|st| st.issues.clone()) {
            subject = Some(issued);
        }
        if s.documents.len() > crate::declarations::MAX_DOCUMENTS {
            return Err(bad("documents", "too_many", "at most 3 documents"));
        }
        // Documents the first step lists may also come later (at the centre, or when the agent
        // asks for them): the document check is the agent's step, not a gate at the door.
        let documents = s
            .documents
            .into_iter()
            .map(|u| self.vault.keep(u))
            .collect::<Result<Vec<_>, _>>()?;

        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| StoreError::Internal(format!("no randomness for the secret: {e}")))?;
        let secret = Secret::from_random(random);
        let mut change = self.registry.change(actor, reason)?;
        if assisted {
            change.reason = format!("assisted, citizen's consent given; {}", change.reason)
                .trim_end_matches("; ")
                .to_string();
        }
        // The household's head is told by SMS, or the first member with a phone.
        let phone = phone_to_tell(&household);
        let notify = phone.map(|p| Notify {
            recipient: crate::outbox::Recipient::Sms(p),
            language: s.lang.unwrap_or(sanad_domain::Lang::Ar),
            code: crate::outbox::FollowUpCode::parse(secret.expose()).ok(),
        });
        let family = Family::for_kind(&s.kind);
        let request = self
            .store
            .submit(
                &NewRequest {
                    prefix: family.prefix().to_string(),
                    format_reference,
                    secret_digest: secret.digest(&self.pepper[..]),
                    kind: s.kind.clone(),
                    definition_version: definition.version(),
                    household_id: Some(household.id),
                    routing: Routing {
                        region_code: region,
                        province_code: province,
                        commune_code: commune,
                        centre,
                    },
                    step: entry.clone(),
                    queue_role: step.role.clone(),
                    due_at,
                    subject,
                    category,
                    channel,
                    details,
                    assisted,
                    documents,
                    notify,
                },
                &change,
            )
            .await?;
        Ok(Submitted {
            request,
            secret: secret.expose().to_string(),
        })
    }

    /// A request the actor may see.
    pub async fn request(&self, actor: &Actor, id: i64) -> Result<ServiceRequest, RegistryError> {
        require(actor, Permission::ReadRequests)?;
        let r = self.store.request(id).await?.ok_or(StoreError::NotFound)?;
        if !self.may_see(actor, &r) {
            return Err(hidden(actor));
        }
        Ok(r)
    }

    pub async fn history(&self, actor: &Actor, id: i64) -> Result<Vec<StepVisit>, RegistryError> {
        self.request(actor, id).await?;
        Ok(self.store.history(id).await?)
    }

    /// The actions the actor may take on a request now.
    pub fn actions(&self, actor: &Actor, r: &ServiceRequest) -> Vec<sanad_workflow::Transition> {
        if !r.is_open() || !policy::allows(actor, Permission::HandleRequests) {
            if actor.role == Role::Citizen && r.is_open() {
                return self
                    .definitions
                    .get(&r.kind)
                    .map(|d| {
                        d.actions_for(&r.step, Role::Citizen.as_str())
                            .into_iter()
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
            }
            return Vec::new();
        }
        let Some(d) = self.definitions.get(&r.kind) else {
            return Vec::new();
        };
        let mut roles = vec![actor.role.as_str()];
        // The role a late request escalated to may act in place of the step's own role.
        if r.queue_role == actor.role.as_str()
            && let Some(step) = d.step(&r.step)
        {
            roles.push(step.role.as_str());
        }
        let mut out: Vec<sanad_workflow::Transition> = Vec::new();
        for role in roles {
            for t in d.actions_for(&r.step, role) {
                if !out.iter().any(|o| o.action == t.action) {
                    out.push(t.clone());
                }
            }
        }
        out
    }

    /// Moves a request by one of its step's actions, as the actor's role (or the role it
    /// escalated to). A programme application's approval enrols the household through the
    /// programme's own eligibility: a household the programme does not take is refused with the
    /// programme's reason, and the request does not move.
    pub async fn act(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: u32,
        action: &str,
        reason: &str,
        documents: Vec<Upload>,
    ) -> Result<ServiceRequest, RegistryError> {
        self.act_issuing(
            actor,
            id,
            expected_version,
            action,
            reason,
            documents,
            &crate::certificates::IssueFacts::default(),
        )
        .await
    }

    /// [`Requests::act`], with what the document of the step reached needs (the disability
    /// card's holder and degree): the document is numbered, signed and recorded with the move.
    #[allow(clippy::too_many_arguments)]
    pub async fn act_issuing(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: u32,
        action: &str,
        reason: &str,
        documents: Vec<Upload>,
        issue: &crate::certificates::IssueFacts,
    ) -> Result<ServiceRequest, RegistryError> {
        let r = self.request(actor, id).await?;
        let d = self
            .definitions
            .get(&r.kind)
            .ok_or_else(|| StoreError::Internal(format!("no workflow for {}", r.kind)))?;
        if actor.role != Role::Citizen {
            require(actor, Permission::HandleRequests)?;
        }
        // A request moved since it was read is a conflict, whatever the action asked.
        if r.version != expected_version {
            return Err(StoreError::VersionConflict {
                expected: expected_version,
                current: r.version,
            }
            .into());
        }
        let step = d.step(&r.step).ok_or_else(|| refused("unknown step"))?;
        // The step's own role, or the role it escalated to acting for it.
        let role = if actor.role.as_str() != step.role && r.queue_role == actor.role.as_str() {
            step.role.clone()
        } else {
            actor.role.as_str().to_string()
        };
        let m = d.advance(&r.step, action, &role).map_err(refused)?;
        let reason_text = sanad_domain::household::clean_text(reason);
        let checked = sanad_workflow::check_reason(
            &m,
            (!reason_text.is_empty()).then_some(reason_text.as_str()),
        )
        .map_err(|e| bad("reason", "required", &e.to_string()))?;
        let change = self
            .registry
            .change(actor, checked.as_deref().unwrap_or(""))?;
        let to = d.step(&m.to).ok_or_else(|| {
            StoreError::Internal(format!("workflow {} lost step {}", r.kind, m.to))
        })?;
        let mut facts = serde_json::json!({});
        if m.enrols {
            facts = self.enrol(actor, &r, &change.reason).await?;
        }
        let mut certificate = None;
        if let Some(kind) = &m.issues {
            facts["issues"] = serde_json::Value::String(kind.clone());
            certificate = Some(self.certificate_for(actor, &r, kind, issue).await?);
        }
        if documents.len() > crate::declarations::MAX_DOCUMENTS {
            return Err(bad("documents", "too_many", "at most 3 documents"));
        }
        let documents = documents
            .into_iter()
            .map(|u| self.vault.keep(u))
            .collect::<Result<Vec<_>, _>>()?;
        let outcome = m.outcome.map(|o| o.as_str().to_string());
        let notify = self
            .status_message(&r, outcome.as_deref(), &m.to, d, expected_version)
            .await;
        let answer = match (&outcome, m.reason_required) {
            (Some(_), true) => checked.clone(),
            _ => None,
        };
        Ok(self
            .store
            .advance(
                id,
                &Move {
                    expected_version,
                    from_step: r.step.clone(),
                    to_step: m.to.clone(),
                    action: action.to_string(),
                    role: actor.role.as_str().to_string(),
                    queue_role: to.role.clone(),
                    due_at: d.due_at(self.now(), &m.to),
                    outcome,
                    reopen: false,
                    answer,
                    centre: None,
                    documents,
                    details: facts,
                    notify,
                    certificate,
                },
                &change,
            )
            .await?)
    }

    /// The document a request's last step issues, for its household.
    async fn certificate_for(
        &self,
        actor: &Actor,
        r: &ServiceRequest,
        kind: &str,
        issue: &crate::certificates::IssueFacts,
    ) -> Result<crate::certificates::NewCertificate, RegistryError> {
        let certificates = self.certificates.as_ref().ok_or_else(|| {
            refused("this step issues a document, and the documents service is not configured")
        })?;
        let kind = crate::certificates::kind_of_workflow(kind)
            .ok_or_else(|| StoreError::Internal(format!("no document called {kind}")))?;
        let household = r
            .household_id
            .ok_or_else(|| refused("a request without a household issues no document"))?;
        let household = self
            .registry
            .household(actor, household, &Purpose(format!("issue {}", r.reference)))
            .await?;
        certificates.for_request(&household, kind, issue)
    }

    /// The SMS a move sends the household: when the request ends (approved, refused, done) or
    /// goes back to the citizen for documents. Nothing for moves inside the administration.
    async fn status_message(
        &self,
        r: &ServiceRequest,
        outcome: Option<&str>,
        to: &str,
        d: &Definition,
        version: u32,
    ) -> Option<crate::outbox::NewMessage> {
        let status = match outcome {
            Some("approved" | "issued") => "approved",
            Some("rejected") => "rejected",
            Some(_) => "completed",
            None if d.step(to).is_some_and(|s| s.role == Role::Citizen.as_str()) => {
                "documents_requested"
            }
            None => return None,
        };
        let household = r.household_id?;
        let system = Actor::system("sanad (notifications)");
        let h = self
            .registry
            .household(
                &system,
                household,
                &Purpose(format!("notify {}", r.reference)),
            )
            .await
            .ok()?;
        let phone = phone_to_tell(&h)?;
        let notify = Notify {
            recipient: crate::outbox::Recipient::Sms(phone),
            language: sanad_domain::Lang::Ar,
            code: None,
        };
        notify.status(&r.reference, status, version).ok()
    }

    /// Enrols the household of an approved application through the programme's eligibility.
    async fn enrol(
        &self,
        actor: &Actor,
        r: &ServiceRequest,
        reason: &str,
    ) -> Result<serde_json::Value, RegistryError> {
        let (Some(targeting), Some(code), Some(household)) =
            (&self.targeting, r.subject.as_deref(), r.household_id)
        else {
            return Err(refused("programme applications need the targeting service"));
        };
        let view = targeting
            .household(
                actor,
                household,
                sanad_programmes::Lang::En,
                &Purpose(format!("application {}", r.reference)),
            )
            .await?;
        let programme = view
            .programmes
            .iter()
            .find(|p| p.code == code)
            .ok_or(StoreError::NotFound)?;
        if !programme.eligible {
            return Err(RegistryError::Store(StoreError::Conflict {
                field: "programme".into(),
                code: "not_eligible",
                message: format!(
                    "the household does not meet the programme's conditions: {}",
                    programme.message
                ),
            }));
        }
        let why = format!("application {}: {reason}", r.reference);
        let already = programme
            .enrolments
            .iter()
            .any(|e| e.state == EnrolmentState::Enrolled);
        if !already {
            if programme.beneficiaries.is_empty() {
                targeting
                    .change_enrolment(actor, code, household, None, EnrolmentState::Enrolled, &why)
                    .await?;
            } else {
                for person in &programme.beneficiaries {
                    targeting
                        .change_enrolment(
                            actor,
                            code,
                            household,
                            Some(*person),
                            EnrolmentState::Enrolled,
                            &why,
                        )
                        .await?;
                }
            }
        }
        Ok(serde_json::json!({
            "enrolled": code,
            "programme_version": programme.version,
            "already_enrolled": already,
        }))
    }

    /// Reopens a closed request (a complaint within the reopen window), back to the step its
    /// type names.
    pub async fn reopen(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: u32,
        reason: &str,
    ) -> Result<ServiceRequest, RegistryError> {
        let r = self.request(actor, id).await?;
        let d = self
            .definitions
            .get(&r.kind)
            .ok_or_else(|| StoreError::Internal(format!("no workflow for {}", r.kind)))?;
        let m = d.reopen(&r.step).map_err(refused)?;
        let closed_at = r.closed_at.unwrap_or(r.updated_at);
        if !self.complaints.can_reopen(closed_at, self.now()) {
            return Err(refused(format!(
                "the delay to reopen ({} days after the answer) has passed",
                self.complaints.reopen_days()
            )));
        }
        let change = self.registry.change(actor, reason)?;
        if change.reason.is_empty() {
            return Err(bad(
                "reason",
                "required",
                "why the answer does not settle it",
            ));
        }
        let to = d.step(&m.to).ok_or_else(|| {
            StoreError::Internal(format!("workflow {} lost step {}", r.kind, m.to))
        })?;
        Ok(self
            .store
            .advance(
                id,
                &Move {
                    expected_version,
                    from_step: r.step.clone(),
                    to_step: m.to.clone(),
                    action: "reopen".into(),
                    role: actor.role.as_str().to_string(),
                    queue_role: to.role.clone(),
                    due_at: d.due_at(self.now(), &m.to),
                    outcome: None,
                    reopen: true,
                    answer: None,
                    centre: None,
                    documents: Vec::new(),
                    details: serde_json::json!({}),
                    notify: None,
                    certificate: None,
                },
                &change,
            )
            .await?)
    }

    /// The citizen rates a closed request of their household, once.
    pub async fn rate(
        &self,
        actor: &Actor,
        id: i64,
        rating: u8,
        comment: &str,
    ) -> Result<(), RegistryError> {
        let r = self.request(actor, id).await?;
        if actor.role != Role::Citizen || actor.household != r.household_id {
            return Err(RegistryError::Forbidden(Permission::SubmitRequests.scope()));
        }
        if !(1..=5).contains(&rating) {
            return Err(bad("rating", "range", "a mark from 1 to 5"));
        }
        let comment = sanad_domain::household::clean_text(comment);
        if comment.chars().count() > 1000 {
            return Err(bad("comment", "too_long", "at most 1,000 characters"));
        }
        let change = self.registry.change(actor, "")?;
        Ok(self
            .store
            .rate(
                id,
                &Rating {
                    rating,
                    comment,
                    rated_at: change.at,
                },
                &change,
            )
            .await?)
    }

    /// The requests of a household the actor may see, newest deadline first.
    pub async fn of_household(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<Vec<ServiceRequest>, RegistryError> {
        require(actor, Permission::ReadRequests)?;
        if actor.role == Role::Citizen && actor.household != Some(household) {
            return Err(hidden(actor));
        }
        let found = self
            .store
            .requests(&RequestFilter {
                household_id: Some(household),
                territories: if actor.role == Role::Citizen {
                    Vec::new()
                } else {
                    actor.territories.clone()
                },
                // A citizen sees every request of their own household, restricted ones too.
                hidden_categories: if actor.role == Role::Citizen {
                    Vec::new()
                } else {
                    self.hidden_categories(actor.role)
                },
                limit: 200,
                ..Default::default()
            })
            .await?;
        Ok(found
            .into_iter()
            .filter(|r| self.may_see(actor, r))
            .collect())
    }

    /// The actor's queue: open requests of their territories waiting for their role, the most
    /// urgent first.
    pub async fn queue(
        &self,
        actor: &Actor,
        kinds: &[String],
        limit: u32,
    ) -> Result<Vec<ServiceRequest>, RegistryError> {
        require(actor, Permission::HandleRequests)?;
        Ok(self
            .store
            .requests(&RequestFilter {
                territories: actor.territories.clone(),
                queue_roles: vec![actor.role.as_str().to_string()],
                kinds: kinds.to_vec(),
                hidden_categories: self.hidden_categories(actor.role),
                state: Some("open".into()),
                limit,
                ..Default::default()
            })
            .await?)
    }

    /// Follow-up by reference and secret: where the request stands, nothing personal. A wrong
    /// secret and an unknown reference answer alike.
    pub async fn follow(
        &self,
        reference: &str,
        secret: &str,
        lang: Lang,
    ) -> Result<PublicStatus, RegistryError> {
        let reference = reference.trim().to_ascii_uppercase();
        let parsed =
            Reference::parse(&reference).map_err(|e| bad("reference", "format", &e.to_string()))?;
        let secret = Secret::parse(secret.trim()).map_err(|_| {
            bad(
                "secret",
                "format",
                "the 6-character code received with the reference",
            )
        })?;
        let stored = self
            .store
            .secret_digest(&parsed.to_string())
            .await?
            .ok_or(StoreError::NotFound)?;
        if !secret.matches(&self.pepper[..], &stored) {
            return Err(StoreError::NotFound.into());
        }
        let r = self
            .store
            .by_reference(&parsed.to_string())
            .await?
            .ok_or(StoreError::NotFound)?;
        let d = self.definitions.get(&r.kind);
        Ok(PublicStatus {
            reference: r.reference.clone(),
            kind: d
                .map(|d| d.title().get(lang).to_string())
                .unwrap_or_else(|| r.kind.clone()),
            step: d
                .and_then(|d| d.step(&r.step))
                .map(|s| s.title.get(lang).to_string())
                .unwrap_or_else(|| r.step.clone()),
            state: r.state.clone(),
            outcome: r.outcome.clone(),
            answer: r.answer.clone(),
            submitted_at: r.submitted_at,
            updated_at: r.updated_at,
            due_at: r.due_at,
            steps_left: d.and_then(|d| d.remaining_steps(&r.step)),
        })
    }

    /// One escalation pass: every open request past its deadline goes to the queue of the role
    /// its type names for that delay, once per level (running the pass twice escalates once).
    pub async fn escalate_due(&self, actor: &Actor) -> Result<u64, RegistryError> {
        require(actor, Permission::HandleRequests)?;
        let now = self.now();
        let late = self
            .store
            .requests(&RequestFilter {
                territories: actor.territories.clone(),
                overdue_at: Some(now),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        let mut moves = Vec::new();
        for r in late {
            let Some(d) = self.definitions.get(&r.kind) else {
                continue;
            };
            let Some(step) = d.step(&r.step) else {
                continue;
            };
            let (Some(due), Some(hours)) = (r.due_at, step.sla_hours) else {
                continue;
            };
            let entered = due - time::Duration::hours(i64::from(hours));
            let rules = d.escalations_for(&r.step);
            let Some(rule) = d.escalation_at(entered, &r.step, now) else {
                continue;
            };
            let level = rules
                .iter()
                .position(|x| x == rule)
                .map(|i| i as u32 + 1)
                .unwrap_or(1);
            if level > r.escalation_level {
                moves.push(Escalation {
                    request_id: r.id,
                    expected_version: r.version,
                    level,
                    to_role: rule.to_role.clone(),
                });
            }
        }
        let change = self.registry.change(actor, "deadline passed")?;
        Ok(self.store.escalate(&moves, &change).await?)
    }

    /// Time spent per step, centre and territory, breaches and where most requests wait, for the
    /// actor's territories (or the one asked for inside them).
    pub async fn bottlenecks(
        &self,
        actor: &Actor,
        territory: Option<&str>,
        kinds: &[String],
    ) -> Result<Report, RegistryError> {
        Ok(self
            .visits(actor, territory, kinds)
            .await?
            .report(self.now()))
    }

    /// The step visits of the actor's scope (or the territory asked for inside it), read once.
    async fn visits(
        &self,
        actor: &Actor,
        territory: Option<&str>,
        kinds: &[String],
    ) -> Result<Bottlenecks, RegistryError> {
        require(actor, Permission::ReadRequests)?;
        if actor.role == Role::Citizen {
            return Err(RegistryError::Forbidden(Permission::ReadRequests.scope()));
        }
        let territories = policy::scope_territories(actor, territory)
            .map_err(|_| RegistryError::Forbidden(Permission::ReadRequests.scope()))?;
        let spans = self.store.spans(&territories, kinds).await?;
        let mut b = Bottlenecks::default();
        for s in &spans {
            // A final step is where a request ended, not a step it spent time at.
            let ended = self
                .definitions
                .get(&s.kind)
                .and_then(|d| d.step(&s.step))
                .is_some_and(|st| st.is_final());
            if ended {
                continue;
            }
            b.add(sanad_workflow::Span {
                kind: &s.kind,
                step: &s.step,
                centre: &s.centre,
                territory: &s.commune_code,
                entered_at: s.entered_at,
                left_at: s.left_at,
                due_at: s.due_at,
            });
        }
        Ok(b)
    }

    /// Delays and ratings per region or per province (`level`) of the actor's scope, or of the
    /// territory asked for inside it, every service together: what the supervisor's map shows.
    /// The visits and the ratings are read once for the whole scope and grouped by the area
    /// their commune lies in; an area without requests is absent.
    pub async fn by_area(
        &self,
        actor: &Actor,
        territory: Option<&str>,
        level: TerritoryLevel,
    ) -> Result<Vec<AreaFigures>, RegistryError> {
        let visits = self.visits(actor, territory, &[]).await?;
        let ratings = self.ratings(actor, territory).await?;
        let mut by: BTreeMap<String, AreaFigures> = BTreeMap::new();
        for t in visits.by_area(self.now(), |commune| {
            area_of(commune, level).map(str::to_owned)
        }) {
            by.insert(
                t.area.clone(),
                AreaFigures {
                    area: t.area,
                    finished: t.finished,
                    open: t.open,
                    ratings: 0,
                    rating_sum: 0,
                },
            );
        }
        for r in &ratings {
            let Some(area) = area_of(&r.commune_code, level) else {
                continue;
            };
            let a = by.entry(area.to_owned()).or_insert_with(|| AreaFigures {
                area: area.to_owned(),
                ..AreaFigures::default()
            });
            a.ratings += r.count;
            a.rating_sum += r.sum;
        }
        Ok(by.into_values().collect())
    }

    /// Ratings per service, centre and territory in the actor's scope.
    pub async fn ratings(
        &self,
        actor: &Actor,
        territory: Option<&str>,
    ) -> Result<Vec<RatingRow>, RegistryError> {
        require(actor, Permission::ReadRequests)?;
        if actor.role == Role::Citizen {
            return Err(RegistryError::Forbidden(Permission::ReadRequests.scope()));
        }
        let territories = policy::scope_territories(actor, territory)
            .map_err(|_| RegistryError::Forbidden(Permission::ReadRequests.scope()))?;
        Ok(self.store.ratings(&territories).await?)
    }

    /// A document of a request the actor may see.
    pub async fn document(
        &self,
        actor: &Actor,
        id: i64,
        sha256: &str,
    ) -> Result<(String, Vec<u8>), RegistryError> {
        let r = self.request(actor, id).await?;
        let Some(doc) = r.documents.iter().find(|d| d.sha256 == sha256) else {
            return Err(StoreError::NotFound.into());
        };
        if let Some(bytes) = self.vault.read(sha256)? {
            return Ok((doc.media_type.clone(), bytes));
        }
        Ok(self
            .store
            .request_document(sha256)
            .await?
            .ok_or(StoreError::NotFound)?)
    }
}

#[cfg(test)]
mod tests {
    use sanad_domain::TerritoryLevel::{Commune, Province, Region};

    use super::area_of;

    #[test]
    fn a_code_lies_in_the_region_and_province_of_its_first_parts() {
        assert_eq!(area_of("01.511.01.01", Region), Some("01"));
        assert_eq!(area_of("01.511.01.01", Province), Some("01.511"));
        assert_eq!(area_of("01.511", Province), Some("01.511"));
        assert_eq!(area_of("01.511.01.01", Commune), Some("01.511.01.01"));
        assert_eq!(area_of("01", Province), None);
        assert_eq!(area_of("", Region), None);
        assert_eq!(area_of(".511", Region), None);
    }
}
