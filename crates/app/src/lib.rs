//! Sanad's application layer: the use-cases (register a household, update it, search persons, import
//! and export the registry) and the storage port they need. Storage backends implement
//! [`store::RegistryStore`]; the HTTP layer and the CLI call the use-cases.

pub mod accounts;
pub mod atomic;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod certificates;
pub mod crypto;
pub mod dashboard;
pub mod declarations;
pub mod duplicates;
pub mod exchange;
pub mod faults;
pub mod keyring;
pub mod outbox;
pub mod payments;
pub mod policy;
pub mod registry;
pub mod requests;
pub mod search;
pub mod store;
pub mod targeting;

pub use accounts::AccountStore;
pub use auth::{Actor, Role};
pub use certificates::{CertificateStore, Certificates};
pub use dashboard::{Dashboard, DashboardStore};
pub use keyring::KeyringStore;
pub use registry::Registry;
pub use store::{RegistryStore, StoreError};
pub use targeting::{ProgrammeStore, Targeting, TargetingStore};
