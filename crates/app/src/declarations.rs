//! Changes a household declares: a citizen online, or an agent for them with their consent. A
//! declaration says what changed and when, and carries the documents asked for that kind of
//! change, checked by their content (PDF, JPEG, PNG; no PDF with scripts or embedded files) and
//! stored once by their SHA-256. The centre of the household's territory then updates the
//! household; the workflow of steps and deadlines comes with the e-service requests.

use std::sync::Arc;

use async_trait::async_trait;
use sanad_domain::HouseholdId;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::auth::{Actor, Role};
use crate::policy::{self, Permission};
use crate::registry::{Purpose, Registry, RegistryError, require};
use crate::store::{Change, StoreError};

/// What can be declared, and the documents each kind asks for (wording keys of the pages).
pub const KINDS: [(&str, &[&str]); 7] = [
    ("birth", &["doc-birth-certificate"]),
    ("member_left", &["doc-death-or-residence"]),
    ("moved", &["doc-residence-certificate"]),
    ("income", &["doc-income-statement"]),
    ("dwelling", &["doc-rent-or-title"]),
    ("disability", &["doc-disability-card"]),
    ("other", &[]),
];

/// At most this many documents per declaration…
pub const MAX_DOCUMENTS: usize = 3;
/// …each at most this large (the request body, with its form, stays under the API's limit).
pub const MAX_DOCUMENT_BYTES: usize = 900 * 1024;
pub const MAX_DETAILS_CHARS: usize = 2000;

/// A document given with a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentRef {
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub id: i64,
    pub household_id: HouseholdId,
    pub kind: String,
    pub details: String,
    /// `YYYY-MM-DD`, when the declarant gave it.
    pub happened_on: Option<String>,
    pub status: String,
    pub declared_by: String,
    pub declared_at: OffsetDateTime,
    pub documents: Vec<DocumentRef>,
}

/// A document as uploaded, checked.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub media_type: String,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewDeclaration {
    pub household_id: HouseholdId,
    pub kind: String,
    pub details: String,
    pub happened_on: Option<String>,
    pub documents: Vec<Upload>,
}

#[derive(Debug, Clone, Default)]
pub struct DeclarationFilter {
    pub household_id: Option<HouseholdId>,
    /// Region, province or commune codes (empty = everywhere).
    pub territories: Vec<String>,
    pub after: i64,
    pub limit: u32,
}

/// The declarations port.
#[async_trait]
pub trait DeclarationStore: Send + Sync + 'static {
    /// Records a declaration, its documents and its audit event in one transaction.
    async fn declare(&self, d: &NewDeclaration, change: &Change)
    -> Result<Declaration, StoreError>;
    async fn declarations(
        &self,
        filter: &DeclarationFilter,
    ) -> Result<Vec<Declaration>, StoreError>;
    /// A document's type and content.
    async fn document(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;
}

pub(crate) fn bad(field: &str, code: &str, message: &str) -> RegistryError {
    sanad_domain::ValidationErrors::one(field, code, message).into()
}

/// The type of a document, read from its first bytes; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Whether a PDF carries something that runs or hides files (scripts, launch actions, embedded
/// files), looked for in its bytes, names written plainly or with `#xx` escapes alike.
pub fn pdf_is_active(bytes: &[u8]) -> bool {
    const NAMES: [&[u8]; 5] = [
        b"/JavaScript",
        b"/JS",
        b"/Launch",
        b"/EmbeddedFile",
        b"/OpenAction",
    ];
    // Names may hide a letter as `#4A`: undo the escapes of every `/Name` before comparing.
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            let mut name = vec![b'/'];
            let mut j = i + 1;
            while j < bytes.len() && name.len() < 32 {
                let c = bytes[j];
                if c == b'#' && j + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[j + 1..j + 3]).ok();
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        name.push(v);
                        j += 3;
                        continue;
                    }
                }
                if c.is_ascii_alphanumeric() {
                    name.push(c);
                    j += 1;
                } else {
                    break;
                }
            }
            if NAMES.contains(&name.as_slice()) {
                return true;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// Checks an uploaded document: its size, its type by content, no active PDF.
pub fn check_upload(name: &str, bytes: Vec<u8>) -> Result<Upload, RegistryError> {
    if bytes.is_empty() {
        return Err(bad("documents", "empty", "a file that is not empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(bad("documents", "too_large", "a file of at most 900 KB"));
    }
    let Some(media_type) = sniff(&bytes) else {
        return Err(bad("documents", "file_type", "a PDF, JPEG or PNG file"));
    };
    if media_type == "application/pdf" && pdf_is_active(&bytes) {
        return Err(bad(
            "documents",
            "active_pdf",
            "a PDF without scripts, actions or embedded files",
        ));
    }
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .take(120)
        .collect();
    Ok(Upload {
        name: if name.is_empty() {
            "document".into()
        } else {
            name
        },
        media_type: media_type.into(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
    })
}

#[derive(Clone)]
pub struct Declarations {
    registry: Registry,
    store: Arc<dyn DeclarationStore>,
}

impl Declarations {
    pub fn new(registry: Registry, store: Arc<dyn DeclarationStore>) -> Declarations {
        Declarations { registry, store }
    }

    /// Whether the actor may declare for this household: its citizen, or an agent of its
    /// territory (assisted mode).
    async fn may_declare(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<(), RegistryError> {
        match actor.role {
            Role::Citizen if actor.household == Some(household) => Ok(()),
            Role::Citizen => Err(StoreError::NotFound.into()),
            _ => {
                require(actor, Permission::WriteRegistry)?;
                self.registry
                    .household(actor, household, &Purpose("declaration".into()))
                    .await
                    .map(|_| ())
            }
        }
    }

    pub async fn declare(
        &self,
        actor: &Actor,
        d: NewDeclaration,
        reason: &str,
    ) -> Result<Declaration, RegistryError> {
        self.may_declare(actor, d.household_id).await?;
        if !KINDS.iter().any(|(k, _)| *k == d.kind) {
            return Err(bad("kind", "required", "what changed"));
        }
        let details = d.details.trim();
        if details.chars().count() > MAX_DETAILS_CHARS {
            return Err(bad("details", "too_long", "at most 2,000 characters"));
        }
        if details.is_empty() && d.documents.is_empty() {
            return Err(bad("details", "required", "what changed, in a few words"));
        }
        if let Some(on) = &d.happened_on {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            match time::Date::parse(on, format) {
                Ok(date) if date <= self.registry.now().date() => {}
                Ok(_) => {
                    return Err(bad(
                        "happened_on",
                        "future_date",
                        "a date not in the future",
                    ));
                }
                Err(_) => return Err(bad("happened_on", "format", "a date, YYYY-MM-DD")),
            }
        }
        if d.documents.len() > MAX_DOCUMENTS {
            return Err(bad("documents", "too_many", "at most 3 documents"));
        }
        let change = Change {
            actor: actor.username.clone(),
            reason: reason.to_string(),
            at: self.registry.now(),
        };
        let d = NewDeclaration {
            details: details.to_string(),
            ..d
        };
        Ok(self.store.declare(&d, &change).await?)
    }

    /// The declarations of a household the actor may see.
    pub async fn of_household(
        &self,
        actor: &Actor,
        household: HouseholdId,
    ) -> Result<Vec<Declaration>, RegistryError> {
        require(actor, Permission::ReadRegistry)?;
        if actor.role == Role::Citizen && actor.household != Some(household) {
            return Err(StoreError::NotFound.into());
        }
        self.registry
            .household(actor, household, &Purpose("declarations".into()))
            .await?;
        Ok(self
            .store
            .declarations(&DeclarationFilter {
                household_id: Some(household),
                territories: policy::scope_territories(actor, None)
                    .map_err(|_| RegistryError::Forbidden("territory"))?,
                after: 0,
                limit: 100,
            })
            .await?)
    }

    /// A document of a declaration the actor may see.
    pub async fn document(
        &self,
        actor: &Actor,
        declaration: i64,
        household: HouseholdId,
        sha256: &str,
    ) -> Result<(String, Vec<u8>), RegistryError> {
        let found = self.of_household(actor, household).await?;
        let listed = found
            .iter()
            .any(|d| d.id == declaration && d.documents.iter().any(|doc| doc.sha256 == sha256));
        if !listed {
            return Err(StoreError::NotFound.into());
        }
        Ok(self
            .store
            .document(sha256)
            .await?
            .ok_or(StoreError::NotFound)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documents_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"MZ\x90\x00"), None, "a program is not a document");
        assert_eq!(sniff(b"<html>"), None);
    }

    #[test]
    fn a_pdf_with_a_script_or_an_embedded_file_is_refused_however_its_names_are_written() {
        assert!(!pdf_is_active(
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>"
        ));
        assert!(pdf_is_active(
            b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
        ));
        assert!(pdf_is_active(
            b"%PDF-1.4\n<< /Names << /EmbeddedFiles 3 0 R >> /EmbeddedFile >>"
        ));
        assert!(
            pdf_is_active(b"%PDF-1.4\n<< /S /#4Aava#53cript >>"),
            "escaped letters"
        );
        assert!(pdf_is_active(b"%PDF-1.4\n<< /Launch >>"));
        assert!(check_upload("a.pdf", b"%PDF-1.4\n/JS (x)".to_vec()).is_err());
        assert!(check_upload("a.pdf", b"%PDF-1.4\n/Type /Page".to_vec()).is_ok());
        assert!(check_upload("a.exe", b"MZ".to_vec()).is_err());
        assert!(
            check_upload(
                "big.png",
                [
                    b"\x89PNG\r\n\x1a\n".as_slice(),
                    &vec![0; MAX_DOCUMENT_BYTES]
                ]
                .concat()
            )
            .is_err()
        );
    }

    proptest! {
        #[test]
        fn the_pdf_check_never_panics_and_finds_a_script_wherever_it_is(
            prefix in proptest::collection::vec(any::<u8>(), 0..300),
            suffix in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let _ = pdf_is_active(&prefix);
            let mut with = prefix.clone();
            with.extend_from_slice(b" /JavaScript ");
            with.extend_from_slice(&suffix);
            prop_assert!(pdf_is_active(&with));
        }
    }
}
