//! Accounts and API keys as an administrator manages them: the lists (the `AccountStore` port)
//! and the changes, each recorded in the audit trail. Passwords and keys are never stored or
//! shown in clear: a key is shown once, when it is made.

use std::sync::Arc;

use async_trait::async_trait;
use sanad_domain::Territories;
use sanad_domain::audit::AuditEntry;
use serde::Serialize;
use time::OffsetDateTime;

use crate::auth::{Actor, api_key_hash, hash_password, random_secret};
use crate::policy::Permission;
use crate::registry::RegistryError;
use crate::registry::require;
use crate::store::{Account, RegistryStore, StoreError};

/// An API key as the lists show it: its id (the first characters of its hash), never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub username: String,
    pub scopes: Vec<String>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// The accounts port: what the lists of the administration read.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Accounts in name order after `after`, at most `limit`.
    async fn accounts(&self, after: &str, limit: u32) -> Result<Vec<Account>, StoreError>;
    /// The API keys, of one account or of all, newest last.
    async fn api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Creates or replaces an account (unlocking it), with its audit event, in one transaction.
    async fn save_account(
        &self,
        account: &Account,
        event: AuditEntry,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Adds an API key (its hash) with its audit event, in one transaction.
    async fn add_key(
        &self,
        username: &str,
        key_hash: &str,
        scopes: &[String],
        event: AuditEntry,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Revokes the active keys whose hash starts with `id` (at least 12 hex characters), with
    /// the audit event, in one transaction; returns how many.
    async fn revoke_key(
        &self,
        id: &str,
        event: AuditEntry,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// Characters of a key's hash that name it.
pub const KEY_ID_CHARS: usize = 16;

/// What an administrator asks for an account.
#[derive(Debug, Clone)]
pub struct AccountChange {
    pub username: String,
    pub role: crate::Role,
    pub territories: Vec<String>,
    pub household_id: Option<sanad_domain::HouseholdId>,
    /// A new password; `None` keeps the current one (required for a new account).
    pub password: Option<String>,
}

#[derive(Clone)]
pub struct Accounts {
    registry: Arc<dyn RegistryStore>,
    store: Arc<dyn AccountStore>,
}

fn bad(field: &str, code: &str, message: &str) -> RegistryError {
    sanad_domain::ValidationErrors::one(field, code, message).into()
}

impl Accounts {
    pub fn new(registry: Arc<dyn RegistryStore>, store: Arc<dyn AccountStore>) -> Accounts {
        Accounts { registry, store }
    }

    pub async fn list(
        &self,
        actor: &Actor,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Account>, RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        Ok(self.store.accounts(after, limit.clamp(1, 500)).await?)
    }

    pub async fn account(&self, actor: &Actor, username: &str) -> Result<Account, RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        Ok(self
            .registry
            .account(username)
            .await?
            .ok_or(StoreError::NotFound)?)
    }

    pub async fn keys(
        &self,
        actor: &Actor,
        username: Option<&str>,
    ) -> Result<Vec<ApiKeyInfo>, RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        Ok(self.store.api_keys(username).await?)
    }

    fn event(actor: &Actor, action: &str, id: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            actor: actor.username.clone(),
            action: action.into(),
            entity_type: "account".into(),
            entity_id: id.into(),
            details: details.to_string(),
        }
    }

    /// Creates or changes an account (a change also unlocks it).
    pub async fn save(
        &self,
        actor: &Actor,
        change: AccountChange,
    ) -> Result<Account, RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        let username = change.username.trim().to_string();
        let name_ok = (3..=64).contains(&username.chars().count())
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
        if !name_ok {
            return Err(bad(
                "username",
                "format",
                "3 to 64 letters, digits, '-', '_', '.' or '@'",
            ));
        }
        for code in &change.territories {
            if Territories::morocco().get(code).is_none() {
                return Err(bad(
                    "territories",
                    "unknown_territory",
                    "codes of regions, provinces or communes",
                ));
            }
        }
        if change.role == crate::Role::Citizen && change.household_id.is_none() {
            return Err(bad("household_id", "required", "the citizen's household"));
        }
        let existing = self.registry.account(&username).await?;
        let password_hash = match (&change.password, &existing) {
            (Some(p), _) if p.chars().count() >= 12 => {
                hash_password(p).map_err(|e| StoreError::Internal(e.to_string()))?
            }
            (Some(_), _) => return Err(bad("password", "too_short", "at least 12 characters")),
            (None, Some(a)) => a.password_hash.clone(),
            (None, None) => {
                return Err(bad("password", "required", "a password for a new account"));
            }
        };
        let mut account = Account::new(&username, change.role, password_hash);
        account.territories = change.territories.clone();
        account.household_id = change.household_id;
        let event = Accounts::event(
            actor,
            if existing.is_some() {
                "account.update"
            } else {
                "account.create"
            },
            &username,
            serde_json::json!({
                "role": change.role.as_str(),
                "territories": change.territories.join(" "),
                "password_changed": change.password.is_some(),
            }),
        );
        self.store
            .save_account(&account, event, OffsetDateTime::now_utc())
            .await?;
        Ok(account)
    }

    /// Issues a key for an account with these scopes; returns the key (shown once) and its id.
    pub async fn issue_key(
        &self,
        actor: &Actor,
        username: &str,
        scopes: &[String],
    ) -> Result<(String, String), RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        let known: Vec<&str> = Permission::ALL.iter().map(|p| p.scope()).collect();
        if scopes.is_empty() || scopes.iter().any(|s| !known.contains(&s.as_str())) {
            return Err(bad("scopes", "unknown_scope", "one or more known scopes"));
        }
        if self.registry.account(username).await?.is_none() {
            return Err(StoreError::NotFound.into());
        }
        let key = random_secret(32).map_err(|e| StoreError::Internal(e.to_string()))?;
        let hash = api_key_hash(&key);
        let id = hash[..KEY_ID_CHARS].to_string();
        let event = Accounts::event(
            actor,
            "api_key.create",
            &id,
            serde_json::json!({"account": username, "scopes": scopes.join(" ")}),
        );
        self.store
            .add_key(username, &hash, scopes, event, OffsetDateTime::now_utc())
            .await?;
        Ok((key, id))
    }

    pub async fn revoke_key(&self, actor: &Actor, id: &str) -> Result<(), RegistryError> {
        require(actor, Permission::ManageAccounts)?;
        let event = Accounts::event(actor, "api_key.revoke", id, serde_json::json!({}));
        let n = self
            .store
            .revoke_key(id, event, OffsetDateTime::now_utc())
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound.into());
        }
        Ok(())
    }
}
