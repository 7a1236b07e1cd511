//! Who may do what, decided here and nowhere else. Handlers and use-cases ask this module; a role
//! grants permissions, an account's territories bound where it may use them, and an API key's
//! scopes narrow them further.

use sanad_domain::{HouseholdId, Territories};

use crate::auth::{Actor, Role};

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read households and persons (within the actor's territories).
    ReadRegistry,
    /// Register and update households (within the actor's territories).
    WriteRegistry,
    /// Review candidate duplicates, merge persons, undo merges.
    ReviewDuplicates,
    /// Query the access log and the audit trail.
    ReadAuditTrail,
    /// Create accounts, reset passwords, issue and revoke API keys.
    ManageAccounts,
    /// Aggregate figures without personal data (counts per region).
    ReadStatistics,
    /// Index scores, programmes and enrolments (scoped like the registry).
    ReadTargeting,
    /// Import and activate index models, define programmes, move enrolments.
    ManageTargeting,
    /// Cycles, entitlements, payments and adhesions (scoped like the registry; a citizen, their
    /// own household).
    ReadPayments,
    /// Prepare and approve cycles (approval by another manager than the one who prepared), set
    /// payment means, export batches, import answers.
    ManagePayments,
    /// Submit e-service requests and complaints (a citizen for their household, an agent for a
    /// citizen of the centre's territory, with their consent).
    SubmitRequests,
    /// Read requests and complaints and the bottleneck figures (scoped like the registry;
    /// restricted complaint categories only for the roles named for them).
    ReadRequests,
    /// Act on the steps of requests in the actor's queue.
    HandleRequests,
    /// Read and download issued documents (scoped like the registry; a citizen, their own).
    ReadCertificates,
    /// Issue attestations and cards on demand for households of the actor's territory.
    IssueCertificates,
    /// Revoke an issued document, with a reason.
    RevokeCertificates,
}

impl Permission {
    /// The API-key scope that grants it.
    pub fn scope(self) -> &'static str {
        match self {
            Permission::ReadRegistry => "registry:read",
            Permission::WriteRegistry => "registry:write",
            Permission::ReviewDuplicates => "duplicates:review",
            Permission::ReadAuditTrail => "audit:read",
            Permission::ManageAccounts => "accounts:manage",
            Permission::ReadStatistics => "statistics:read",
            Permission::ReadTargeting => "targeting:read",
            Permission::ManageTargeting => "targeting:manage",
            Permission::ReadPayments => "payments:read",
            Permission::ManagePayments => "payments:manage",
            Permission::SubmitRequests => "requests:submit",
            Permission::ReadRequests => "requests:read",
            Permission::HandleRequests => "requests:handle",
            Permission::ReadCertificates => "certificates:read",
            Permission::IssueCertificates => "certificates:issue",
            Permission::RevokeCertificates => "certificates:revoke",
        }
    }

    pub const ALL: [Permission; 16] = [
        Permission::ReadRegistry,
        Permission::WriteRegistry,
        Permission::ReviewDuplicates,
        Permission::ReadAuditTrail,
        Permission::ManageAccounts,
        Permission::ReadStatistics,
        Permission::ReadTargeting,
        Permission::ManageTargeting,
        Permission::ReadPayments,
        Permission::ManagePayments,
        Permission::SubmitRequests,
        Permission::ReadRequests,
        Permission::HandleRequests,
        Permission::ReadCertificates,
        Permission::IssueCertificates,
        Permission::RevokeCertificates,
    ];
}

/// The permissions a role carries.
pub fn role_grants(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        // A citizen reads their own household (checked against the account's household).
        Role::Citizen => matches!(
            permission,
            ReadRegistry
                | ReadStatistics
                | ReadTargeting
                | ReadPayments
                | SubmitRequests
                | ReadRequests
                | ReadCertificates
        ),
        // An agent reviews the duplicates of the centre's territory.
        Role::Agent => matches!(
            permission,
            ReadRegistry
                | WriteRegistry
                | ReviewDuplicates
                | ReadStatistics
                | ReadTargeting
                | ReadPayments
                | SubmitRequests
                | ReadRequests
                | HandleRequests
                | ReadCertificates
                | IssueCertificates
        ),
        Role::Supervisor => matches!(
            permission,
            ReadRegistry
                | ReadStatistics
                | ReadTargeting
                | ReadPayments
                | ReadRequests
                | HandleRequests
                | ReadCertificates
                | IssueCertificates
                | RevokeCertificates
        ),
        Role::Manager => matches!(
            permission,
            ReadRegistry
                | ReviewDuplicates
                | ReadStatistics
                | ReadTargeting
                | ManageTargeting
                | ReadPayments
                | ManagePayments
                | ReadRequests
                | HandleRequests
                | ReadCertificates
                | IssueCertificates
                | RevokeCertificates
        ),
        Role::Auditor => matches!(
            permission,
            ReadRegistry
                | ReadAuditTrail
                | ReadStatistics
                | ReadTargeting
                | ReadPayments
                | ReadRequests
                | ReadCertificates
        ),
        Role::Admin => true,
        // A partner system reads, within the scopes of its API key.
        Role::Partner => matches!(permission, ReadRegistry | ReadStatistics),
    }
}

/// Whether the actor holds the permission (role, then API-key scopes).
pub fn allows(actor: &Actor, permission: Permission) -> bool {
    role_grants(actor.role, permission)
        && actor
            .scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|s| s == permission.scope() || s == "*"))
}

/// Whether territory `inner` lies in territory `outer` (HCP codes are hierarchical: `01` ⊃
/// `01.511` ⊃ `01.511.01.01`).
pub fn contains(outer: &str, inner: &str) -> bool {
    inner == outer || (inner.starts_with(outer) && inner.as_bytes().get(outer.len()) == Some(&b'.'))
}

/// Where a household lies, for the scope checks.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub household: HouseholdId,
    pub commune_code: &'a str,
}

/// Whether the actor may see a household at this place.
pub fn sees(actor: &Actor, place: Place<'_>) -> bool {
    if actor.role == Role::Citizen {
        return actor.household == Some(place.household);
    }
    actor.territories.is_empty()
        || actor
            .territories
            .iter()
            .any(|t| contains(t, place.commune_code))
}

/// Whether the actor may see persons who belong to no household (only national scopes may).
pub fn sees_unattached(actor: &Actor) -> bool {
    actor.role != Role::Citizen && actor.territories.is_empty()
}

/// A request for a territory wholly outside the actor's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideScope;

/// The territories a listing or search may cover: the requested one if it lies within the actor's
/// scope, else the actor's own; `Err` when the request reaches outside.
pub fn scope_territories(
    actor: &Actor,
    requested: Option<&str>,
) -> Result<Vec<String>, OutsideScope> {
    match requested {
        None => Ok(actor.territories.clone()),
        Some(code) if actor.territories.is_empty() => Ok(vec![code.to_string()]),
        Some(code) => {
            if actor.territories.iter().any(|t| contains(t, code)) {
                Ok(vec![code.to_string()])
            } else {
                // A request for a wider area is narrowed to the parts the actor may see.
                let inside: Vec<String> = actor
                    .territories
                    .iter()
                    .filter(|t| contains(code, t))
                    .cloned()
                    .collect();
                if inside.is_empty() {
                    Err(OutsideScope)
                } else {
                    Ok(inside)
                }
            }
        }
    }
}

/// Checks a list of territory codes given to an account.
pub fn parse_territories(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for code in text
        .split([';', ','])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if Territories::morocco().get(code).is_none() {
            return Err(format!(
                "`{code}` is not the HCP code of a region, province or commune"
            ));
        }
        out.push(code.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, territories: &[&str]) -> Actor {
        Actor {
            username: "x".into(),
            role,
            territories: territories.iter().map(|t| t.to_string()).collect(),
            household: None,
            scopes: None,
        }
    }

    #[test]
    fn territories_nest_by_code() {
        assert!(contains("01", "01.511.01.01"));
        assert!(contains("01.511", "01.511.01.01"));
        assert!(!contains("01.5", "01.511.01.01"));
        assert!(!contains("01", "012.1"));
        assert!(contains("01.511.01.01", "01.511.01.01"));
    }

    #[test]
    fn roles_grant_what_their_work_needs() {
        let agent = actor(Role::Agent, &["01.511.01.0"]);
        assert!(allows(&agent, Permission::WriteRegistry));
        assert!(!allows(&agent, Permission::ReadAuditTrail));
        assert!(!allows(
            &actor(Role::Supervisor, &["01"]),
            Permission::WriteRegistry
        ));
        assert!(allows(
            &actor(Role::Auditor, &[]),
            Permission::ReadAuditTrail
        ));
        assert!(!allows(
            &actor(Role::Citizen, &[]),
            Permission::WriteRegistry
        ));
        let mut partner = actor(Role::Partner, &[]);
        partner.scopes = Some(vec!["statistics:read".into()]);
        assert!(
            !allows(&partner, Permission::ReadRegistry),
            "a key's scopes narrow its role"
        );
        assert!(allows(&partner, Permission::ReadStatistics));
    }

    #[test]
    fn an_agent_sees_its_communes_only() {
        let agent = actor(Role::Agent, &["01.511.01.0"]);
        let h = HouseholdId::from_serial(1).unwrap();
        assert!(sees(
            &agent,
            Place {
                household: h,
                commune_code: "01.511.01.0"
            }
        ));
        assert!(!sees(
            &agent,
            Place {
                household: h,
                commune_code: "04.441.01.01"
            }
        ));
        assert_eq!(
            scope_territories(&agent, None),
            Ok(vec!["01.511.01.0".to_string()])
        );
        assert_eq!(
            scope_territories(&agent, Some("01")),
            Ok(vec!["01.511.01.0".to_string()]),
            "narrowed"
        );
        assert_eq!(scope_territories(&agent, Some("04")), Err(OutsideScope));
        let mut citizen = actor(Role::Citizen, &[]);
        citizen.household = Some(h);
        assert!(sees(
            &citizen,
            Place {
                household: h,
                commune_code: "04.441.01.01"
            }
        ));
        assert!(!sees(
            &citizen,
            Place {
                household: HouseholdId::from_serial(2).unwrap(),
                commune_code: "04.441.01.01"
            }
        ));
        assert!(!sees_unattached(&citizen));
    }
}
