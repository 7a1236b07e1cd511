//! The registry use-cases: each checks its input, calls the store once (one transaction), and records
//! reads of personal data in the access log.

use std::sync::Arc;

use sanad_domain::{
    Household, HouseholdId, HouseholdInput, NationalId, Person, PersonId, PhoneNumber, Territories,
    ValidationErrors,
};
use time::OffsetDateTime;

use crate::auth::Actor;
use crate::duplicates::{DuplicateChecker, PossibleDuplicate};
use crate::store::{
    AccessRecord, Change, DuplicatePair, HouseholdFilter, HouseholdSummary, HouseholdVersion,
    PairStatus, PersonMerge, PersonQuery, RegionCount, RegistryStore, StoreError,
};

pub const MAX_PAGE: u32 = 500;
const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The actor's role, key scopes or territories do not allow the action.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
}

use crate::policy::{self, Permission, Place};

/// Refuses an action the actor's role or key does not allow (logged, without personal data).
pub(crate) fn require(actor: &Actor, permission: Permission) -> Result<(), RegistryError> {
    if policy::allows(actor, permission) {
        Ok(())
    } else {
        tracing::warn!(auth.user = %actor.username, auth.role = actor.role.as_str(), permission = permission.scope(), "access denied");
        Err(RegistryError::Forbidden(permission.scope()))
    }
}

/// A record outside the actor's scope is answered as missing, so that its existence does not leak.
pub(crate) fn hidden(actor: &Actor) -> RegistryError {
    tracing::warn!(auth.user = %actor.username, auth.role = actor.role.as_str(), "out-of-scope record refused");
    RegistryError::Store(StoreError::NotFound)
}

fn place(h: &Household) -> Place<'_> {
    Place {
        household: h.id,
        commune_code: &h.data.commune_code,
    }
}

pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// What the caller says the data is read for; kept in the access log.
#[derive(Debug, Clone)]
pub struct Purpose(pub String);

#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn RegistryStore>,
    clock: Clock,
    duplicates: Arc<DuplicateChecker>,
}

impl Registry {
    pub fn new(store: Arc<dyn RegistryStore>) -> Self {
        Registry {
            store,
            clock: Arc::new(OffsetDateTime::now_utc),
            duplicates: Arc::default(),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Arc<dyn RegistryStore> {
        &self.store
    }

    /// The registration-time duplicate check (empty until loaded).
    pub fn duplicates(&self) -> &Arc<DuplicateChecker> {
        &self.duplicates
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    pub(crate) fn change(&self, actor: &Actor, reason: &str) -> Result<Change, ValidationErrors> {
        let reason = sanad_domain::household::clean_text(reason);
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(ValidationErrors::one(
                "reason",
                "too_long",
                format!("at most {MAX_REASON_CHARS} characters"),
            ));
        }
        Ok(Change {
            actor: actor.username.clone(),
            reason,
            at: self.now(),
        })
    }

    pub(crate) async fn log_read(
        &self,
        actor: &Actor,
        entity_type: &'static str,
        entity_ids: Vec<String>,
        purpose: &Purpose,
    ) -> Result<(), StoreError> {
        if entity_ids.is_empty() {
            return Ok(());
        }
        self.store
            .record_access(&AccessRecord {
                actor: actor.username.clone(),
                at: self.now(),
                entity_type,
                entity_ids,
                purpose: purpose.0.clone(),
            })
            .await
    }

    pub async fn register_household(
        &self,
        actor: &Actor,
        input: &HouseholdInput,
        reason: &str,
    ) -> Result<Household, RegistryError> {
        Ok(self
            .register_household_checked(actor, input, reason)
            .await?
            .0)
    }

    /// Registers a household and checks its new members against the registry: likely duplicates
    /// are returned (to warn the agent) and queued for review.
    pub async fn register_household_checked(
        &self,
        actor: &Actor,
        input: &HouseholdInput,
        reason: &str,
    ) -> Result<(Household, Vec<PossibleDuplicate>), RegistryError> {
        require(actor, Permission::WriteRegistry)?;
        let change = self.change(actor, reason)?;
        let input = input.validate(change.at.date(), Territories::morocco())?;
        self.check_commune_in_scope(actor, &input.data.commune_code)?;
        let household = self.store.register_household(&input, &change).await?;
        if !self.duplicates.is_ready() {
            return Ok((household, Vec::new()));
        }
        // New members received ascending ids in the order they were submitted.
        let existing: Vec<PersonId> = input.members.iter().filter_map(|m| m.person_id).collect();
        let mut new_ids: Vec<PersonId> = household
            .members
            .iter()
            .map(|m| m.id)
            .filter(|id| !existing.contains(id))
            .collect();
        new_ids.sort();
        let new_members: Vec<(usize, PersonId)> = input
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.person_id.is_none())
            .map(|(i, _)| i)
            .zip(new_ids)
            .collect();
        let found = self.duplicates.check_new_members(&household, &new_members);
        if !found.is_empty() {
            let pairs: Vec<_> = found
                .iter()
                .map(|d| crate::store::CandidatePair {
                    person_a: d.person_id,
                    person_b: d.duplicate_of,
                    probability: d.probability,
                    explanation: d.explanation.to_string(),
                })
                .collect();
            let queued = Change {
                reason: "registration check".into(),
                ..change
            };
            self.store.add_duplicate_candidates(&pairs, &queued).await?;
        }
        Ok((household, found))
    }

    pub async fn update_household(
        &self,
        actor: &Actor,
        id: HouseholdId,
        expected_version: u32,
        input: &HouseholdInput,
        reason: &str,
    ) -> Result<Household, RegistryError> {
        require(actor, Permission::WriteRegistry)?;
        let change = self.change(actor, reason)?;
        let input = input.validate(change.at.date(), Territories::morocco())?;
        self.visible_household(actor, id).await?;
        self.check_commune_in_scope(actor, &input.data.commune_code)?;
        Ok(self
            .store
            .update_household(id, expected_version, &input, &change)
            .await?)
    }

    pub async fn household(
        &self,
        actor: &Actor,
        id: HouseholdId,
        purpose: &Purpose,
    ) -> Result<Household, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        let household = self.visible_household(actor, id).await?;
        self.log_read(actor, "household", vec![id.to_string()], purpose)
            .await?;
        Ok(household)
    }

    pub async fn household_history(
        &self,
        actor: &Actor,
        id: HouseholdId,
        purpose: &Purpose,
    ) -> Result<Vec<HouseholdVersion>, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        self.visible_household(actor, id).await?;
        let versions = self.store.household_versions(id).await?;
        if versions.is_empty() {
            return Err(StoreError::NotFound.into());
        }
        self.log_read(actor, "household", vec![id.to_string()], purpose)
            .await?;
        Ok(versions)
    }

    pub async fn list_households(
        &self,
        actor: &Actor,
        territory: Option<String>,
        mut filter: HouseholdFilter,
        purpose: &Purpose,
    ) -> Result<Vec<HouseholdSummary>, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        if actor.role == crate::auth::Role::Citizen {
            return Err(RegistryError::Forbidden("registry:list"));
        }
        filter.limit = filter.limit.clamp(1, MAX_PAGE);
        check_territory(territory.as_deref())?;
        filter.territories = policy::scope_territories(actor, territory.as_deref())
            .map_err(|_| RegistryError::Forbidden("territory"))?;
        let page = self.store.list_households(&filter).await?;
        let ids = page.iter().map(|h| h.id.to_string()).collect();
        self.log_read(actor, "household", ids, purpose).await?;
        Ok(page)
    }

    pub async fn person(
        &self,
        actor: &Actor,
        id: PersonId,
        purpose: &Purpose,
    ) -> Result<Person, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        let person = self.store.person(id).await?.ok_or(StoreError::NotFound)?;
        let visible = match person.household_id {
            Some(h) => match self.store.household(h).await? {
                Some(household) => policy::sees(actor, place(&household)),
                None => false,
            },
            None => policy::sees_unattached(actor),
        };
        if !visible {
            return Err(hidden(actor));
        }
        self.log_read(actor, "person", vec![id.to_string()], purpose)
            .await?;
        Ok(person)
    }

    /// Finds persons by registry id, national id or names. `text` is read as a registry id if it
    /// looks like one, else as a national id if it looks like one, else as name words.
    pub async fn search_persons(
        &self,
        actor: &Actor,
        text: &str,
        territory: Option<String>,
        limit: u32,
        purpose: &Purpose,
    ) -> Result<Vec<Person>, RegistryError> {
        self.search_persons_by(actor, text, None, territory, limit, purpose)
            .await
    }

    /// As [`Registry::search_persons`], also (or only, with an empty `text`) by phone number: any
    /// common writing, matched exactly on its E.164 form.
    pub async fn search_persons_by(
        &self,
        actor: &Actor,
        text: &str,
        phone: Option<&str>,
        territory: Option<String>,
        limit: u32,
        purpose: &Purpose,
    ) -> Result<Vec<Person>, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        if actor.role == crate::auth::Role::Citizen {
            return Err(RegistryError::Forbidden("registry:search"));
        }
        check_territory(territory.as_deref())?;
        let territories = policy::scope_territories(actor, territory.as_deref())
            .map_err(|_| RegistryError::Forbidden("territory"))?;
        let text = text.trim();
        let mut query = PersonQuery {
            include_unattached: territories.is_empty() && policy::sees_unattached(actor),
            territories,
            limit: limit.clamp(1, MAX_PAGE),
            ..PersonQuery::default()
        };
        if let Some(phone) = phone {
            let phone = PhoneNumber::parse(phone)
                .map_err(|e| ValidationErrors::one("phone", "format", e))?;
            query.phone = Some(phone.as_str().to_string());
        }
        let by_phone_only = text.is_empty() && query.phone.is_some();
        if by_phone_only {
            // Nothing more to narrow the search by.
        } else if text.starts_with(['P', 'p'])
            && text.len() == 12
            && text[1..].bytes().all(|b| b.is_ascii_digit())
        {
            query.person_id = Some(
                PersonId::parse(text)
                    .map_err(|e| ValidationErrors::one("q", "registry_id", e.to_string()))?,
            );
        } else if let Ok(nid) = NationalId::parse(text) {
            query.national_id = Some(nid.as_str().to_string());
        } else {
            let words = crate::search::query_words(text);
            query.name_words = words.iter().map(|(w, _)| w.clone()).collect();
            query.name_sounds = words.into_iter().map(|(_, s)| s).collect();
            if query.name_words.is_empty() {
                return Err(ValidationErrors::one(
                    "q",
                    "required",
                    "a registry id, a national id, a phone or at least one name",
                )
                .into());
            }
        }
        let persons = self.store.search_persons(&query).await?;
        let ids = persons.iter().map(|p| p.id.to_string()).collect();
        self.log_read(actor, "person", ids, purpose).await?;
        Ok(persons)
    }

    /// The review queue of candidate duplicates.
    pub async fn duplicate_pairs(
        &self,
        actor: &Actor,
        status: Option<PairStatus>,
        after: i64,
        limit: u32,
        purpose: &Purpose,
    ) -> Result<Vec<DuplicatePair>, RegistryError> {
        require(actor, Permission::ReviewDuplicates)?;
        let territories = policy::scope_territories(actor, None)
            .map_err(|_| RegistryError::Forbidden("territory"))?;
        let pairs = self
            .store
            .duplicate_pairs(status, &territories, after, limit.clamp(1, MAX_PAGE))
            .await?;
        let ids = pairs
            .iter()
            .flat_map(|p| [p.person_a.to_string(), p.person_b.to_string()])
            .collect();
        self.log_read(actor, "person", ids, purpose).await?;
        Ok(pairs)
    }

    /// A pair of the queue, when one of its persons lives in the actor's territories.
    pub async fn duplicate_pair(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<DuplicatePair, RegistryError> {
        require(actor, Permission::ReviewDuplicates)?;
        let territories = policy::scope_territories(actor, None)
            .map_err(|_| RegistryError::Forbidden("territory"))?;
        // The first pair after `id - 1` in the actor's scope is this one, if it is in scope.
        let found = self
            .store
            .duplicate_pairs(None, &territories, id.saturating_sub(1), 1)
            .await?;
        found
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| hidden(actor))
    }

    /// Likely duplicates of a household's members already in the registry, before it is saved:
    /// what the agent is warned of. Nothing is recorded.
    pub fn preview_duplicates(
        &self,
        actor: &Actor,
        input: &HouseholdInput,
    ) -> Result<Vec<crate::duplicates::Candidate>, RegistryError> {
        require(actor, Permission::WriteRegistry)?;
        Ok(self.duplicates.preview(input))
    }

    pub async fn decide_duplicate_pair(
        &self,
        actor: &Actor,
        id: i64,
        decision: PairStatus,
        reason: &str,
    ) -> Result<DuplicatePair, RegistryError> {
        require(actor, Permission::ReviewDuplicates)?;
        if !actor.territories.is_empty() {
            self.duplicate_pair(actor, id).await?;
        }
        let change = self.change(actor, reason)?;
        Ok(self
            .store
            .decide_duplicate_pair(id, decision, &change)
            .await?)
    }

    /// Merges the record `merged` into `kept` (the same human being registered twice).
    pub async fn merge_persons(
        &self,
        actor: &Actor,
        merged: PersonId,
        kept: PersonId,
        reason: &str,
    ) -> Result<PersonMerge, RegistryError> {
        require(actor, Permission::ReviewDuplicates)?;
        if !actor.territories.is_empty() {
            // Both records must be the actor's to see.
            let purpose = Purpose("merge".into());
            self.person(actor, merged, &purpose).await?;
            self.person(actor, kept, &purpose).await?;
        }
        let change = self.change(actor, reason)?;
        Ok(self.store.merge_persons(kept, merged, &change).await?)
    }

    pub async fn undo_merge(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<PersonMerge, RegistryError> {
        require(actor, Permission::ReviewDuplicates)?;
        let change = self.change(actor, reason)?;
        Ok(self.store.undo_merge(id, &change).await?)
    }

    pub async fn region_counts(&self, actor: &Actor) -> Result<Vec<RegionCount>, RegistryError> {
        require(actor, Permission::ReadStatistics)?;
        Ok(self.store.region_counts().await?)
    }

    /// The access log, for auditors.
    pub async fn access_log(
        &self,
        actor: &Actor,
        mut query: crate::store::AccessLogQuery,
    ) -> Result<Vec<crate::store::AccessEntry>, RegistryError> {
        require(actor, Permission::ReadAuditTrail)?;
        query.limit = query.limit.clamp(1, MAX_PAGE);
        Ok(self.store.access_log(&query).await?)
    }

    /// Audit events in chain order, for auditors.
    pub async fn audit_events(
        &self,
        actor: &Actor,
        after: i64,
        limit: u32,
    ) -> Result<Vec<sanad_domain::audit::AuditEvent>, RegistryError> {
        require(actor, Permission::ReadAuditTrail)?;
        Ok(self
            .store
            .audit_events(after, limit.clamp(1, MAX_PAGE))
            .await?)
    }

    /// The household if it exists and lies in the actor's scope; otherwise "not found", so that its
    /// existence does not leak.
    async fn visible_household(
        &self,
        actor: &Actor,
        id: HouseholdId,
    ) -> Result<Household, RegistryError> {
        let household = self
            .store
            .household(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if policy::sees(actor, place(&household)) {
            Ok(household)
        } else {
            Err(hidden(actor))
        }
    }

    fn check_commune_in_scope(&self, actor: &Actor, commune: &str) -> Result<(), RegistryError> {
        if actor.territories.is_empty()
            || actor
                .territories
                .iter()
                .any(|t| policy::contains(t, commune))
        {
            Ok(())
        } else {
            tracing::warn!(auth.user = %actor.username, "write outside the actor's territories refused");
            Err(RegistryError::Forbidden("territory"))
        }
    }
}

fn check_territory(code: Option<&str>) -> Result<(), ValidationErrors> {
    match code {
        Some(code) if Territories::morocco().get(code).is_none() => Err(ValidationErrors::one(
            "territory",
            "unknown_territory",
            "the HCP code of a region, province or commune (e.g. 01, 01.511, 01.511.01.01)",
        )),
        _ => Ok(()),
    }
}
