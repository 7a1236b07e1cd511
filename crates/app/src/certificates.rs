//! Documents Sanad issues: the disability card and the registration attestation at the end of
//! their request's workflow, the eligibility attestation and the AMO-Tadamon card on demand. Each
//! is a signed content (`sanad-certificates`) kept in the database with its signature; the PDF is
//! rendered again from it whenever someone downloads it (rendering is deterministic, so it is the
//! same file every time), and anyone can check a document against the published keys and the
//! issuer's records: valid, revoked or forged.
//!
//! The signing key lives in a file outside the database, tied to it like the data and audit keys:
//! the database records the public key of every certificate key it was used with, refuses a key
//! it does not know, and keeps retired keys so that documents signed before a rotation still
//! verify.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use sanad_certificates::{
    Bilingual, Certificate, CertificateKey, Decimal, Details, DisabilityDegree, KeyId, KeySet,
    Kind, MaskedNationalId, Reference, Signed, Text, VerificationCode,
};
use sanad_domain::{Household, HouseholdId, PersonId, Relation};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::auth::{Actor, Role};
use crate::declarations::bad;
use crate::keyring::{KeyError, KeyKind, KeyOrigin};
use crate::policy::{self, Permission};
use crate::registry::{Purpose, Registry, RegistryError, hidden, require};
use crate::store::{Change, StoreError};

/// Why a document was revoked. The public verify page shows the reason (never the note).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Issued by mistake (wrong person, wrong facts).
    IssuedInError,
    /// Replaced by a new document (a renewal, a change of degree).
    Replaced,
    /// The holder no longer meets the conditions it states.
    NoLongerEntitled,
    /// Obtained by fraud.
    Fraud,
    /// The holder died.
    HolderDeceased,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 5] = [
        RevocationReason::IssuedInError,
        RevocationReason::Replaced,
        RevocationReason::NoLongerEntitled,
        RevocationReason::Fraud,
        RevocationReason::HolderDeceased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::IssuedInError => "issued_in_error",
            RevocationReason::Replaced => "replaced",
            RevocationReason::NoLongerEntitled => "no_longer_entitled",
            RevocationReason::Fraud => "fraud",
            RevocationReason::HolderDeceased => "holder_deceased",
        }
    }

    pub fn parse(text: &str) -> Option<RevocationReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// A revocation: when, by whom, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Revocation {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub by: String,
    pub reason: RevocationReason,
    /// The revoker's words (staff only; never on the public page).
    pub note: String,
}

/// An issued document as the database keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IssuedCertificate {
    /// Such as `CT-2026-0000123-4`.
    pub id: String,
    /// `disability-card`, `registration-attestation`, `eligibility-attestation`,
    /// `amo-tadamon-card`.
    pub kind: String,
    pub household_id: HouseholdId,
    #[schema(value_type = Option<String>)]
    pub person_id: Option<PersonId>,
    pub request_id: Option<i64>,
    pub commune_code: String,
    pub key_id: String,
    /// The signed payload (canonical content, key id, signature), as the PDF carries it.
    #[serde(skip)]
    pub payload: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    pub issued_by: String,
    pub revocation: Option<Revocation>,
}

impl IssuedCertificate {
    /// The signed content, read back from the stored payload.
    pub fn signed(&self) -> Result<Signed, StoreError> {
        Signed::from_payload_json(self.payload.as_bytes()).map_err(|e| {
            StoreError::Internal(format!("certificate {}: stored payload: {e}", self.id))
        })
    }
}

/// A certificate key as the database records it (the public half only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateKeyRow {
    pub key_id: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    pub active: bool,
    pub recorded_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

/// The signature step of an issuance, run by the store inside its transaction once it has drawn
/// the document's number: given the id, the signed payload (and its key id).
pub type SignWithId = Arc<dyn Fn(&str) -> Result<SignedPayload, String> + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPayload {
    pub key_id: String,
    pub payload: String,
}

/// A document to issue: who it is for, and how to sign it once numbered.
#[derive(Clone)]
pub struct NewCertificate {
    pub kind: Kind,
    pub household_id: HouseholdId,
    pub person_id: Option<PersonId>,
    pub commune_code: String,
    /// The prefix and the formatter of the number (`CT-2026-0000123-4`).
    pub prefix: String,
    pub format_id: fn(&str, i32, u64) -> String,
    pub sign: SignWithId,
}

impl std::fmt::Debug for NewCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCertificate")
            .field("kind", &self.kind)
            .field("household_id", &self.household_id)
            .finish_non_exhaustive()
    }
}

/// The documents port.
#[async_trait]
pub trait CertificateStore: Send + Sync + 'static {
    /// Every certificate key recorded, active and retired, in the order recorded.
    async fn certificate_keys(&self) -> Result<Vec<CertificateKeyRow>, StoreError>;
    /// Records a key as the active one unless one is active already; returns the active key
    /// after (another process may have recorded its own first).
    async fn record_certificate_key(
        &self,
        key_id: &str,
        public_key: &str,
        at: OffsetDateTime,
    ) -> Result<CertificateKeyRow, StoreError>;
    /// In one transaction: retires `old_key_id` (which must be the active key, else a
    /// `Conflict`), records the new key as active, with an audit event.
    async fn rotate_certificate_key(
        &self,
        old_key_id: &str,
        new_key_id: &str,
        new_public_key: &str,
        change: &Change,
    ) -> Result<(), StoreError>;
    /// Numbers, signs and records a document with its audit event, in one transaction.
    async fn issue_certificate(
        &self,
        c: &NewCertificate,
        change: &Change,
    ) -> Result<IssuedCertificate, StoreError>;
    async fn certificate(&self, id: &str) -> Result<Option<IssuedCertificate>, StoreError>;
    async fn household_certificates(
        &self,
        household: HouseholdId,
    ) -> Result<Vec<IssuedCertificate>, StoreError>;
    async fn request_certificate(
        &self,
        request_id: i64,
    ) -> Result<Option<IssuedCertificate>, StoreError>;
    /// Revokes a document with its audit event; a `Conflict` when it is revoked already.
    async fn revoke_certificate(
        &self,
        id: &str,
        reason: RevocationReason,
        note: &str,
        change: &Change,
    ) -> Result<IssuedCertificate, StoreError>;
}

/// Who the access log names for the public checks of a document.
pub const PUBLIC_READER: &str = "public verification";

/// The setting that names the certificate key file.
pub const KEY_SETTING: &str = "certificate_key_file (SANAD_CERTIFICATE_KEY_FILE)";

/// The certificate key for this database: the file at `file`, checked against the active key the
/// database records, recorded on first use. The file is created only when the database records
/// no certificate key yet.
pub async fn open_certificate_key(
    store: &dyn CertificateStore,
    file: &Path,
    now: OffsetDateTime,
) -> Result<(CertificateKey, KeyOrigin), KeyError> {
    let keys = store.certificate_keys().await?;
    let active = keys.iter().find(|k| k.active).cloned();
    let file_error = |e: sanad_certificates::KeyError| KeyError::File(e.to_string());
    let (key, origin) = match CertificateKey::load(file).map_err(file_error)? {
        Some(k) => (k, KeyOrigin::Existing),
        None => {
            if let Some(a) = &active {
                return Err(KeyError::Missing {
                    kind: KeyKind::Certificate,
                    file: file.display().to_string(),
                    recorded: a.key_id.clone(),
                    setting: KEY_SETTING,
                });
            }
            (
                CertificateKey::load_or_create(file).map_err(file_error)?,
                KeyOrigin::Created,
            )
        }
    };
    let kid = key.key_id().as_str().to_string();
    let mismatch = |recorded: String| {
        let retired = keys.iter().any(|k| !k.active && k.key_id == kid);
        KeyError::Mismatch {
            kind: KeyKind::Certificate,
            file: file.display().to_string(),
            given: if retired {
                format!("{kid} (retired by a rotation)")
            } else {
                kid.clone()
            },
            recorded,
        }
    };
    match &active {
        Some(a) if a.key_id == kid => {}
        Some(a) => return Err(mismatch(a.key_id.clone())),
        None => {
            if keys.iter().any(|k| k.key_id == kid) {
                return Err(mismatch("no active key".into()));
            }
            let now_active = store
                .record_certificate_key(&kid, &hex::encode(key.public().to_bytes()), now)
                .await?;
            if now_active.key_id != kid {
                return Err(mismatch(now_active.key_id));
            }
        }
    }
    Ok((key, origin))
}

/// Rotates the certificate key: `new` signs from now on; `old`'s public key stays published so
/// that the documents it signed still verify.
pub async fn rotate_certificate_key(
    store: &dyn CertificateStore,
    old: &CertificateKey,
    new: &CertificateKey,
    change: &Change,
) -> Result<(), StoreError> {
    if old.key_id() == new.key_id() {
        return Err(StoreError::Conflict {
            field: "new_key".into(),
            code: "same_key",
            message: "a key other than the current certificate key".into(),
        });
    }
    store
        .rotate_certificate_key(
            old.key_id().as_str(),
            new.key_id().as_str(),
            &hex::encode(new.public().to_bytes()),
            change,
        )
        .await
}

/// The published key set of these records: every key, the active one marked.
pub fn key_set(rows: &[CertificateKeyRow]) -> KeySet {
    let mut set = KeySet::new();
    for row in rows {
        if let Some(key) = crate::keyring::public_key(&row.public_key) {
            set.insert(key, row.active);
        }
    }
    set
}

/// What the public page and API answer about a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Issued by Sanad, unchanged, not revoked.
    Valid,
    /// Genuine, but revoked since.
    Revoked,
    /// Not a document Sanad issued as shown: unknown number, wrong code, altered file, unknown key.
    Forged,
}

/// The answer of a verification: no more than the document itself shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicVerdict {
    pub verdict: VerdictKind,
    /// Why a document is not accepted, in plain words (nothing about the holder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<PublicDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<PublicRevocation>,
}

/// What a genuine document states, as printed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicDocument {
    pub id: String,
    pub kind: String,
    pub holder_name_ar: Option<String>,
    pub holder_name_fr: Option<String>,
    pub national_id_masked: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<Date>,
    pub issuer_ar: String,
    pub issuer_fr: String,
    pub key_id: String,
    /// Whether the validity date has passed.
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicRevocation {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub reason: RevocationReason,
}

/// Facts a step that issues a document needs beyond the request (the card's holder and degree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFacts {
    pub person_id: Option<PersonId>,
    pub degree: Option<DisabilityDegree>,
}

/// An attestation or card asked for outside a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    pub kind: Kind,
    /// An eligibility attestation: the programme.
    pub programme: Option<String>,
    /// An AMO-Tadamon card: the member (default: the head).
    pub person_id: Option<PersonId>,
}

/// The programme whose accepted adhesions an AMO-Tadamon card states.
pub const AMO_PROGRAMME: &str = "amo-tadamon";

/// How long each document is valid, from its issue date.
pub fn validity_days(kind: Kind) -> i64 {
    match kind {
        // The card is renewed after a new assessment.
        Kind::DisabilityCard => 5 * 365,
        // An attestation states a fact at a date; administrations ask for a recent one.
        Kind::RegistrationAttestation => 90,
        Kind::EligibilityAttestation => 365,
        Kind::AmoTadamonCard => 365,
    }
}

/// The workflow's name of a document (`issues = "disability_card"`) as a kind.
pub fn kind_of_workflow(name: &str) -> Option<Kind> {
    match name {
        "disability_card" => Some(Kind::DisabilityCard),
        "registration_attestation" => Some(Kind::RegistrationAttestation),
        "eligibility_attestation" => Some(Kind::EligibilityAttestation),
        "amo_tadamon_card" => Some(Kind::AmoTadamonCard),
        _ => None,
    }
}

/// A national id with all but its first two and last two characters hidden (`AB****56`).
pub fn mask_national_id(id: &str) -> Option<MaskedNationalId> {
    let chars: Vec<char> = id.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let n = chars.len();
    if n < 4 {
        return None;
    }
    let shown = (n / 4).min(2);
    let masked: String = chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < shown || i >= n - shown {
                c.to_ascii_uppercase()
            } else {
                '*'
            }
        })
        .collect();
    MaskedNationalId::parse(&masked).ok()
}

fn format_id(prefix: &str, year: i32, seq: u64) -> String {
    match sanad_workflow::Reference::new(
        sanad_workflow::Family::Certificate,
        u16::try_from(year).unwrap_or(0),
        u32::try_from(seq).unwrap_or(u32::MAX),
    ) {
        Ok(r) => r.to_string(),
        Err(_) => format!("{prefix}-{year}-{seq}"),
    }
}

fn content_error(e: sanad_certificates::ContentError) -> RegistryError {
    bad(
        "certificate",
        "not_printable",
        &format!("the document cannot state this: {e}"),
    )
}

/// The documents use-case.
#[derive(Clone)]
pub struct Certificates {
    store: Arc<dyn CertificateStore>,
    registry: Registry,
    key: Arc<CertificateKey>,
    keys: Arc<KeySet>,
    base_url: String,
    targeting: Option<crate::targeting::Targeting>,
    payments: Option<Arc<dyn crate::payments::PaymentStore>>,
}

impl Certificates {
    /// `keys` are the database's certificate keys (see [`key_set`]); `base_url` is where the
    /// public verify page is reached, printed on the documents and in their QR code.
    pub fn new(
        registry: Registry,
        store: Arc<dyn CertificateStore>,
        key: Arc<CertificateKey>,
        keys: KeySet,
        base_url: &str,
    ) -> Certificates {
        Certificates {
            store,
            registry,
            key,
            keys: Arc::new(keys),
            base_url: base_url.trim_end_matches('/').to_string(),
            targeting: None,
            payments: None,
        }
    }

    pub fn with_targeting(mut self, targeting: crate::targeting::Targeting) -> Certificates {
        self.targeting = Some(targeting);
        self
    }

    /// The payments port, for the AMO-Tadamon card (the insurer's answers to the adhesions).
    pub fn with_payments(
        mut self,
        payments: Arc<dyn crate::payments::PaymentStore>,
    ) -> Certificates {
        self.payments = Some(payments);
        self
    }

    pub fn store(&self) -> &Arc<dyn CertificateStore> {
        &self.store
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The key set published at the well-known URL.
    pub fn published_keys(&self) -> &KeySet {
        &self.keys
    }

    /// The document a request's last step issues, ready for the store to number and sign inside
    /// the move's transaction.
    pub(crate) fn for_request(
        &self,
        household: &Household,
        kind: Kind,
        facts: &IssueFacts,
    ) -> Result<NewCertificate, RegistryError> {
        let (person, details) = match kind {
            Kind::DisabilityCard => {
                let person = facts.person_id.ok_or_else(|| {
                    bad(
                        "person_id",
                        "required",
                        "the member of the household the card is for",
                    )
                })?;
                let degree = facts.degree.ok_or_else(|| {
                    bad(
                        "degree",
                        "required",
                        "the degree the committee gave: mild, moderate, severe or profound",
                    )
                })?;
                (Some(person), Details::DisabilityCard { degree })
            }
            Kind::RegistrationAttestation => (None, registration_details(household)),
            other => {
                return Err(bad(
                    "certificate",
                    "not_from_a_request",
                    &format!("{} is issued on demand, not by a request", other.code()),
                ));
            }
        };
        self.prepare(household, person, details)
    }

    /// Builds the content of a document for a household (its holder a member, default the head)
    /// and the closure that signs it once numbered.
    fn prepare(
        &self,
        household: &Household,
        person: Option<PersonId>,
        details: Details,
    ) -> Result<NewCertificate, RegistryError> {
        let member = match person {
            Some(p) => household
                .members
                .iter()
                .find(|m| m.id == p)
                // A person who is not a member of this household names nothing here.
                .ok_or(RegistryError::Store(StoreError::NotFound))?,
            None => household
                .members
                .iter()
                .min_by_key(|m| m.data.relation != Relation::Head)
                .ok_or_else(|| bad("household", "empty", "a household with members"))?,
        };
        let d = &member.data;
        let name = |first: &str, last: &str| {
            let full = format!("{} {}", first.trim(), last.trim());
            Text::parse(full.trim()).ok()
        };
        let holder_name_fr = name(&d.first_name, &d.last_name);
        let holder_name_ar = match (&d.first_name_ar, &d.last_name_ar) {
            (Some(f), Some(l)) => name(f, l),
            (Some(f), None) => name(f, ""),
            (None, Some(l)) => name("", l),
            (None, None) => None,
        };
        let now = self.registry.now();
        let kind = details.kind();
        let commune = &household.data.commune_code;
        let place = sanad_domain::Territories::morocco().get(commune);
        let issuer = Bilingual::parse(
            &match place {
                Some(t) => format!("المركز الاجتماعي - {}", t.name_ar),
                None => "السجل الاجتماعي الموحد".to_string(),
            },
            &match place {
                Some(t) => format!("Centre social - {}", t.name_fr),
                None => "Registre social unifié".to_string(),
            },
        )
        .map_err(content_error)?;
        let template = Certificate {
            // Replaced by the number the store draws.
            id: Reference::parse("CT-0").map_err(content_error)?,
            holder_name_ar,
            holder_name_fr,
            household_ref: Reference::parse(&household.id.to_string()).map_err(content_error)?,
            national_id_masked: d
                .national_id
                .as_ref()
                .and_then(|n| mask_national_id(n.as_str())),
            details,
            issued_at: now,
            valid_until: Some(now.date() + time::Duration::days(validity_days(kind))),
            issuer,
            key_id: self.key.key_id().clone(),
        };
        template.check().map_err(content_error)?;
        let key = self.key.clone();
        let sign: SignWithId = Arc::new(move |id: &str| {
            let mut c = template.clone();
            c.id = Reference::parse(id).map_err(|e| e.to_string())?;
            let signed = key.sign(&c).map_err(|e| e.to_string())?;
            Ok(SignedPayload {
                key_id: signed.certificate.key_id.as_str().to_string(),
                payload: signed.to_payload_json(),
            })
        });
        Ok(NewCertificate {
            kind,
            household_id: household.id,
            person_id: Some(member.id),
            commune_code: commune.clone(),
            prefix: sanad_workflow::Family::Certificate.prefix().to_string(),
            format_id,
            sign,
        })
    }

    /// Issues an attestation or a card on demand (an agent at the centre, or the citizen for
    /// their own household): what it states is read from the registry and targeting now.
    pub async fn issue(
        &self,
        actor: &Actor,
        household_id: HouseholdId,
        ask: IssueRequest,
        reason: &str,
    ) -> Result<IssuedCertificate, RegistryError> {
        if actor.role == Role::Citizen {
            require(actor, Permission::ReadCertificates)?;
            if actor.household != Some(household_id) {
                return Err(hidden(actor));
            }
        } else {
            require(actor, Permission::IssueCertificates)?;
        }
        let purpose = Purpose(format!("issue {}", ask.kind.code()));
        let household = self
            .registry
            .household(actor, household_id, &purpose)
            .await?;
        let details = match ask.kind {
            Kind::RegistrationAttestation => registration_details(&household),
            Kind::EligibilityAttestation => {
                self.eligibility_details(actor, &household, &ask).await?
            }
            Kind::AmoTadamonCard => return self.amo_card(actor, &household, &ask, reason).await,
            Kind::DisabilityCard => {
                return Err(bad(
                    "kind",
                    "needs_a_request",
                    "a disability card is issued at the end of its request, after the committee",
                ));
            }
        };
        let new = self.prepare(&household, ask.person_id, details)?;
        let change = self.registry.change(actor, reason)?;
        Ok(self.store.issue_certificate(&new, &change).await?)
    }

    async fn eligibility_details(
        &self,
        actor: &Actor,
        household: &Household,
        ask: &IssueRequest,
    ) -> Result<Details, RegistryError> {
        let targeting = self.targeting.as_ref().ok_or_else(|| {
            StoreError::Internal("eligibility attestations need targeting".into())
        })?;
        let code = ask
            .programme
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                bad(
                    "programme",
                    "required",
                    "the programme the household is eligible for",
                )
            })?;
        let purpose = Purpose(format!("eligibility attestation {code}"));
        let mut names = Vec::new();
        let mut index = None;
        for lang in [sanad_programmes::Lang::Ar, sanad_programmes::Lang::Fr] {
            let view = targeting
                .household(actor, household.id, lang, &purpose)
                .await?;
            let p = view
                .programmes
                .iter()
                .find(|p| p.code == code)
                .ok_or(StoreError::NotFound)?;
            if !p.eligible {
                return Err(RegistryError::Store(StoreError::Conflict {
                    field: "programme".into(),
                    code: "not_eligible",
                    message: format!(
                        "the household does not meet the programme's conditions: {}",
                        p.message
                    ),
                }));
            }
            names.push(p.name.clone());
            index = view.score.as_ref().map(|s| format!("{:.4}", s.index));
        }
        Ok(Details::EligibilityAttestation {
            programme: Bilingual::parse(&names[0], &names[1]).map_err(content_error)?,
            index: index.and_then(|i| Decimal::parse(&i).ok()),
            decided_on: self.registry.now().date(),
        })
    }

    async fn amo_card(
        &self,
        actor: &Actor,
        household: &Household,
        ask: &IssueRequest,
        reason: &str,
    ) -> Result<IssuedCertificate, RegistryError> {
        let payments = self
            .payments
            .as_ref()
            .ok_or_else(|| StoreError::Internal("AMO cards need the payments service".into()))?;
        // The household was read through the registry just before (scope checked, access logged).
        let _ = actor;
        let adhesions = payments
            .adhesions(AMO_PROGRAMME, Some(household.id), None, 200)
            .await?
            .into_iter()
            .filter(|a| a.state == crate::payments::AdhesionState::Accepted)
            .collect::<Vec<_>>();
        let holder = ask.person_id.or_else(|| {
            household
                .members
                .iter()
                .find(|m| m.data.relation == Relation::Head)
                .map(|m| m.id)
        });
        let Some(own) = adhesions.iter().find(|a| Some(a.person_id) == holder) else {
            return Err(RegistryError::Store(StoreError::Conflict {
                field: "person_id".into(),
                code: "not_covered",
                message: "the insurer has not accepted this member's adhesion to AMO-Tadamon"
                    .into(),
            }));
        };
        let details = Details::AmoTadamonCard {
            beneficiary_number: Reference::parse(&own.insurer_number).map_err(content_error)?,
            members_covered: u16::try_from(adhesions.len()).unwrap_or(u16::MAX),
        };
        let new = self.prepare(household, Some(own.person_id), details)?;
        let change = self.registry.change(actor, reason)?;
        Ok(self.store.issue_certificate(&new, &change).await?)
    }

    /// A document the actor may see: a citizen their household's, staff within their territory.
    pub async fn get(&self, actor: &Actor, id: &str) -> Result<IssuedCertificate, RegistryError> {
        require(actor, Permission::ReadCertificates)?;
        let c = self
            .store
            .certificate(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let place = policy::Place {
            household: c.household_id,
            commune_code: &c.commune_code,
        };
        if !policy::sees(actor, place) {
            return Err(hidden(actor));
        }
        Ok(c)
    }

    /// The documents of a household the actor may see.
    pub async fn of_household(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<Vec<IssuedCertificate>, RegistryError> {
        require(actor, Permission::ReadCertificates)?;
        // The household's own scope check (and its read in the access log).
        self.registry
            .household(actor, household, &Purpose("documents issued".into()))
            .await?;
        Ok(self.store.household_certificates(household).await?)
    }

    /// The document a request issued, if any (for whoever may see the request).
    pub async fn of_request(
        &self,
        request_id: i64,
    ) -> Result<Option<IssuedCertificate>, RegistryError> {
        Ok(self.store.request_certificate(request_id).await?)
    }

    /// The PDF of a document, rendered from its signed content; the read is in the access log.
    pub async fn pdf(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(IssuedCertificate, Vec<u8>), RegistryError> {
        let c = self.get(actor, id).await?;
        self.registry
            .log_read(
                actor,
                "certificate",
                vec![c.id.clone()],
                &Purpose("document download".into()),
            )
            .await?;
        let signed = c.signed()?;
        let pdf = sanad_certificates::render_pdf(&signed, &self.base_url)
            .map_err(|e| StoreError::Internal(format!("certificate {}: {e}", c.id)))?;
        Ok((c, pdf))
    }

    /// Revokes a document (managers and supervisors of its territory).
    pub async fn revoke(
        &self,
        actor: &Actor,
        id: &str,
        reason: RevocationReason,
        note: &str,
    ) -> Result<IssuedCertificate, RegistryError> {
        require(actor, Permission::RevokeCertificates)?;
        let c = self.get(actor, id).await?;
        let note = sanad_domain::household::clean_text(note);
        if note.is_empty() {
            return Err(bad(
                "note",
                "required",
                "a few words on why the document is revoked",
            ));
        }
        let change = self.registry.change(actor, &note)?;
        Ok(self
            .store
            .revoke_certificate(&c.id, reason, &change.reason, &change)
            .await?)
    }

    /// The public check of a document by its number and the code printed on it.
    pub async fn verify_code(&self, id: &str, code: &str) -> Result<PublicVerdict, RegistryError> {
        let id = id.trim().to_ascii_uppercase();
        let stored = match sanad_workflow::Reference::parse(&id) {
            Ok(r) if r.family() == sanad_workflow::Family::Certificate => {
                self.store.certificate(&r.to_string()).await?
            }
            _ => None,
        };
        let Some(stored) = stored else {
            return Ok(forged("no document with this number was issued"));
        };
        let signed = stored.signed()?;
        if VerificationCode::normalize(code).is_none()
            || !sanad_certificates::verify_code(&stored.id, code, &signed)
        {
            return Ok(forged(
                "the verification code does not match this document's number",
            ));
        }
        self.log_public_read(&stored.id, "public check by code")
            .await?;
        Ok(self.judge(&stored, &signed))
    }

    /// A public check that shows what a document states is a read of the holder's data: it is
    /// in the access log, under a name of its own (no account made it).
    async fn log_public_read(&self, id: &str, purpose: &str) -> Result<(), RegistryError> {
        self.registry
            .log_read(
                &Actor::system(PUBLIC_READER),
                "certificate",
                vec![id.to_string()],
                &Purpose(purpose.to_string()),
            )
            .await?;
        Ok(())
    }

    /// The public check of a PDF file: signed by a published key, unchanged, and not revoked.
    pub async fn verify_file(&self, pdf: &[u8]) -> Result<PublicVerdict, RegistryError> {
        let verdict = sanad_certificates::verify_pdf(pdf, &self.keys, &self.base_url)
            .map_err(|e| StoreError::Internal(format!("verification: {e}")))?;
        let signed = match verdict {
            sanad_certificates::Verdict::Valid(signed) => signed,
            sanad_certificates::Verdict::Forged(why) => return Ok(forged(&why.to_string())),
        };
        let Some(stored) = self
            .store
            .certificate(signed.certificate.id.as_str())
            .await?
        else {
            return Ok(forged("signed, but not in the issuer's records"));
        };
        if stored.payload != signed.to_payload_json() {
            return Ok(forged("signed, but not the document the issuer recorded"));
        }
        self.log_public_read(&stored.id, "public check of a file")
            .await?;
        Ok(self.judge(&stored, &signed))
    }

    fn judge(&self, stored: &IssuedCertificate, signed: &Signed) -> PublicVerdict {
        if let Err(e) = signed.verify(&self.keys) {
            return forged(&e.to_string());
        }
        let c = &signed.certificate;
        let today = self.registry.now().date();
        let document = PublicDocument {
            id: c.id.to_string(),
            kind: c.kind().code().to_string(),
            holder_name_ar: c.holder_name_ar.as_ref().map(|t| t.to_string()),
            holder_name_fr: c.holder_name_fr.as_ref().map(|t| t.to_string()),
            national_id_masked: c
                .national_id_masked
                .as_ref()
                .map(|m| m.as_str().to_string()),
            issued_at: c.issued_at,
            valid_until: c.valid_until,
            issuer_ar: c.issuer.ar.to_string(),
            issuer_fr: c.issuer.fr.to_string(),
            key_id: c.key_id.to_string(),
            expired: c.valid_until.is_some_and(|d| d < today),
        };
        match &stored.revocation {
            Some(r) => PublicVerdict {
                verdict: VerdictKind::Revoked,
                why: None,
                document: Some(document),
                revoked: Some(PublicRevocation {
                    at: r.at,
                    reason: r.reason,
                }),
            },
            None => PublicVerdict {
                verdict: VerdictKind::Valid,
                why: None,
                document: Some(document),
                revoked: None,
            },
        }
    }

    /// The key id that signs new documents.
    pub fn key_id(&self) -> &KeyId {
        self.key.key_id()
    }
}

fn forged(why: &str) -> PublicVerdict {
    PublicVerdict {
        verdict: VerdictKind::Forged,
        why: Some(why.to_string()),
        document: None,
        revoked: None,
    }
}

fn registration_details(household: &Household) -> Details {
    Details::RegistrationAttestation {
        registered_on: household.created_at.date(),
        members: u16::try_from(household.members.len()).unwrap_or(u16::MAX),
    }
}

/// The degree of a disability from its name (`mild`, `moderate`, `severe`, `profound`).
pub fn parse_degree(text: &str) -> Option<DisabilityDegree> {
    match text {
        "mild" => Some(DisabilityDegree::Mild),
        "moderate" => Some(DisabilityDegree::Moderate),
        "severe" => Some(DisabilityDegree::Severe),
        "profound" => Some(DisabilityDegree::Profound),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_ids_are_masked_to_four_characters_at_most() {
        assert_eq!(mask_national_id("AB123456").unwrap().as_str(), "AB****56");
        assert_eq!(mask_national_id("ab1234").unwrap().as_str(), "A****4");
        assert_eq!(
            mask_national_id("J12").map(|m| m.as_str().to_string()),
            None
        );
        let long = mask_national_id("XY1234567890").unwrap();
        assert_eq!(long.as_str(), "XY********90");
    }

    #[test]
    fn certificate_numbers_carry_a_check_digit() {
        let id = format_id("CT", 2026, 123);
        let parsed = sanad_workflow::Reference::parse(&id).unwrap();
        assert_eq!(parsed.family(), sanad_workflow::Family::Certificate);
        assert_eq!(parsed.sequence(), 123);
        assert!(Reference::parse(&id).is_ok(), "{id} fits on a document");
    }

    #[test]
    fn revocation_reasons_read_back() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(RevocationReason::parse("whim"), None);
    }
}
