//! Who is acting: accounts, roles, password and API-key checks. Until the accounts issue lands this is
//! the demo level of access control: every authenticated account may use the registry API, and every
//! action is recorded under its name.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Agent,
    Supervisor,
    Manager,
    Auditor,
    Admin,
    Partner,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::Agent,
        Role::Supervisor,
        Role::Manager,
        Role::Auditor,
        Role::Admin,
        Role::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Partner => "partner",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// The authenticated caller of a use-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub username: String,
    pub role: Role,
    /// Territory codes the actor works in; empty = the whole country.
    pub territories: Vec<String>,
    /// A citizen's own household.
    pub household: Option<sanad_domain::HouseholdId>,
    /// An API key's scopes; `None` for an account's own login (the role decides alone).
    pub scopes: Option<Vec<String>>,
}

impl Actor {
    /// The actor of command-line work (imports, demo set-up): national, all permissions.
    pub fn system(name: &str) -> Actor {
        Actor {
            username: name.to_string(),
            role: Role::Admin,
            territories: Vec::new(),
            household: None,
            scopes: None,
        }
    }

    /// The actor of an account's own login.
    pub fn of(account: &crate::store::Account) -> Actor {
        Actor {
            username: account.username.clone(),
            role: account.role,
            territories: account.territories.clone(),
            household: account.household_id,
            scopes: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Argon2id hash in PHC string form, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret of `bytes` bytes, hex-encoded (API keys, demo passwords).
pub fn random_secret(bytes: usize) -> Result<String, HashError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| HashError(e.to_string()))?;
    Ok(hex::encode(buf))
}

/// API keys carry 256 bits of entropy, so a plain SHA-256 is enough to store them.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("s3cret-pass").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret-pass", &h));
        assert!(!verify_password("s3cret-pasS", &h));
        assert!(!verify_password("s3cret-pass", "not a hash"));
    }

    #[test]
    fn secrets_are_random() {
        assert_ne!(random_secret(16).unwrap(), random_secret(16).unwrap());
        assert_eq!(random_secret(16).unwrap().len(), 32);
    }
}
