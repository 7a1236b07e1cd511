//! The keys a database is used with. The data key (national ids and phones) and the audit key
//! (checkpoint signatures) live in files outside the database; the database records an identifier
//! of each on first use (never the key), so that a command given another key refuses to start
//! instead of sealing new values under a second key. Rotation of either key goes through here too.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use time::OffsetDateTime;

use crate::crypto::DataCipher;
use crate::store::{Change, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Seals national ids and phones.
    Data,
    /// Signs checkpoints of the audit chain.
    Audit,
    /// Signs the documents Sanad issues (recorded in `certificate_keys`, not with the others).
    Certificate,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Data => "data",
            KeyKind::Audit => "audit",
            KeyKind::Certificate => "certificate",
        }
    }

    pub fn parse(text: &str) -> Option<KeyKind> {
        match text {
            "data" => Some(KeyKind::Data),
            "audit" => Some(KeyKind::Audit),
            "certificate" => Some(KeyKind::Certificate),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationKey {
    pub kind: KeyKind,
    pub fingerprint: String,
    /// For an audit key, its Ed25519 public key in hex.
    pub public_key: Option<String>,
    /// `false` once rotated away.
    pub active: bool,
    pub recorded_at: OffsetDateTime,
}

/// How an audit key vouches for another at a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The endorsed key signed before the endorser: its checkpoints stay trusted.
    Predecessor,
    /// The endorsed key signs after the endorser (kept for the record; never followed).
    Successor,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Predecessor => "predecessor",
            Relation::Successor => "successor",
        }
    }

    pub fn parse(text: &str) -> Option<Relation> {
        match text {
            "predecessor" => Some(Relation::Predecessor),
            "successor" => Some(Relation::Successor),
            _ => None,
        }
    }
}

/// A statement signed by `endorser`: `endorsed` is its predecessor (or successor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEndorsement {
    /// Ed25519 public keys, hex.
    pub endorser: String,
    pub endorsed: String,
    pub relation: Relation,
    /// The audit chain's head at the rotation: the predecessor's checkpoints are trusted up to
    /// this event, not after (a retired key that leaks signs nothing trusted).
    pub up_to_seq: i64,
    pub at: OffsetDateTime,
    /// Ed25519 signature (hex) of [`KeyEndorsement::message`] by the endorser.
    pub signature: String,
}

impl KeyEndorsement {
    pub fn message(
        endorser: &str,
        endorsed: &str,
        relation: Relation,
        up_to_seq: i64,
        at: OffsetDateTime,
    ) -> String {
        format!(
            "sanad-audit-key-endorsement\n{endorser}\n{relation}\n{endorsed}\n{up_to_seq}\n{}",
            at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            relation = relation.as_str()
        )
    }

    /// `signer` states that `endorsed` is its `relation`.
    pub fn sign(
        signer: &SigningKey,
        endorsed: &VerifyingKey,
        relation: Relation,
        up_to_seq: i64,
        at: OffsetDateTime,
    ) -> KeyEndorsement {
        let at = sanad_domain::audit::storable_time(at);
        let endorser = hex::encode(signer.verifying_key().to_bytes());
        let endorsed = hex::encode(endorsed.to_bytes());
        let signature =
            signer.sign(Self::message(&endorser, &endorsed, relation, up_to_seq, at).as_bytes());
        KeyEndorsement {
            endorser,
            endorsed,
            relation,
            up_to_seq,
            at,
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// The endorsed key, if the statement is signed by `by`.
    pub(crate) fn verified_by(&self, by: &VerifyingKey) -> Option<VerifyingKey> {
        if self.endorser != hex::encode(by.to_bytes()) {
            return None;
        }
        let signature = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))?;
        by.verify(
            Self::message(
                &self.endorser,
                &self.endorsed,
                self.relation,
                self.up_to_seq,
                self.at,
            )
            .as_bytes(),
            &signature,
        )
        .ok()?;
        public_key(&self.endorsed)
    }
}

/// An Ed25519 public key from hex.
pub fn public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = <[u8; 32]>::try_from(hex::decode(text).ok()?).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// What a data-key rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rotation {
    /// Persons whose national id or phone was resealed.
    pub persons: u64,
    /// Household versions whose snapshot was resealed.
    pub versions: u64,
}

/// Sealed values that open, and do not open, under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SealedCount {
    pub opened: u64,
    pub refused: u64,
}

/// The keys port: what the database records of its keys, and the rotations that change them.
#[async_trait]
pub trait KeyringStore: Send + Sync + 'static {
    /// Every key recorded, active and retired, in the order recorded.
    async fn installation_keys(&self) -> Result<Vec<InstallationKey>, StoreError>;

    /// Records `fingerprint` as the active key of `kind` unless one is active already; returns the
    /// active key after (another process may have recorded its own first).
    async fn record_key(
        &self,
        kind: KeyKind,
        fingerprint: &str,
        public_key: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<InstallationKey, StoreError>;

    /// One sealed value (ciphertext) of the database, from the persons or from a household version;
    /// `None` when nothing is sealed yet.
    async fn sealed_sample(&self) -> Result<Option<String>, StoreError>;

    /// The distinct public keys (hex) that signed the stored checkpoints.
    async fn checkpoint_keys(&self) -> Result<Vec<String>, StoreError>;

    /// Opens every sealed value (persons and household versions) with `cipher` and counts.
    async fn count_sealed(&self, cipher: &DataCipher) -> Result<SealedCount, StoreError>;

    /// In one transaction: reseals every national id and phone (persons and household versions)
    /// from `old` to `new`, recomputes their look-up hashes, retires `old`'s fingerprint and
    /// records `new`'s as active, with an audit event. Refused (a `Conflict`) unless `old` is the
    /// active data key.
    async fn rotate_data_key(
        &self,
        old: &DataCipher,
        new: &DataCipher,
        change: &Change,
        progress: &dyn crate::store::Progress,
    ) -> Result<Rotation, StoreError>;

    /// In one transaction: retires the active audit key, records `new_public_key` as active, and
    /// stores the endorsements, with an audit event. Refused unless `old_fingerprint` is active,
    /// and (a `Conflict` with code `chain_moved`) unless the chain head is still the endorsements'
    /// `up_to_seq`.
    async fn rotate_audit_key(
        &self,
        old_fingerprint: &str,
        new_fingerprint: &str,
        new_public_key: &str,
        endorsements: &[KeyEndorsement],
        change: &Change,
    ) -> Result<(), StoreError>;

    async fn audit_key_endorsements(&self) -> Result<Vec<KeyEndorsement>, StoreError>;

    /// How far the current audit key's signatures reach, in leaves: the largest signed tree head
    /// (or the old chain's last checkpoint). A retired key is trusted up to there only.
    async fn audit_signed_extent(&self) -> Result<i64, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key given is not the one the database records: the command refuses to start.
    #[error(
        "{kind} key file {file} is not this database's {kind} key: its fingerprint is {given}, the database's is {recorded}"
    )]
    Mismatch {
        kind: KeyKind,
        file: String,
        given: String,
        recorded: String,
    },
    /// The database already depends on a key and its file is not where the configuration says.
    #[error(
        "no {kind} key file at {file}, and this database already depends on a {kind} key (fingerprint {recorded}): put that key file there or name it with {setting}; no new key is created for a database that holds sealed data or signed checkpoints"
    )]
    Missing {
        kind: KeyKind,
        file: String,
        recorded: String,
        setting: &'static str,
    },
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl KeyError {
    /// A refusal to use the key (exit code 2), rather than a failure to read it.
    pub fn is_refusal(&self) -> bool {
        matches!(self, KeyError::Mismatch { .. } | KeyError::Missing { .. })
    }
}

/// Where a key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The configured file, already there.
    Existing,
    /// The configured file, created now for a database that had no such key.
    Created,
    /// An older default file that the database recognises (the configured one is missing).
    Legacy(PathBuf),
}

/// The data key for this database: the file at `file` checked against the recorded fingerprint
/// (or, for a database from before fingerprints, against a stored sealed value), recorded on first
/// use. The file is created only for a database that seals nothing yet and records no data key.
/// `legacy` is an older default location tried when `file` is missing.
pub async fn open_data_key(
    keyring: &dyn KeyringStore,
    file: &Path,
    legacy: Option<&Path>,
    now: OffsetDateTime,
) -> Result<(DataCipher, KeyOrigin), KeyError> {
    let recorded = active(keyring, KeyKind::Data).await?;
    let sample = match recorded {
        Some(_) => None,
        None => keyring.sealed_sample().await?,
    };
    let load = |path: &Path| DataCipher::load(path).map_err(|e| KeyError::File(e.to_string()));
    let (cipher, origin, path) = match load(file)? {
        Some(c) => (c, KeyOrigin::Existing, file.to_path_buf()),
        None => {
            let old = match legacy {
                Some(l) => load(l)?.map(|c| (c, l.to_path_buf())),
                None => None,
            };
            match old {
                Some((c, l)) if data_key_fits(&c, recorded.as_ref(), sample.as_deref()).is_ok() => {
                    (c, KeyOrigin::Legacy(l.clone()), l)
                }
                _ => {
                    if let Some(recorded) =
                        recorded.as_ref().map(|k| k.fingerprint.clone()).or(sample
                            .as_ref()
                            .map(|_| "not recorded yet; the database holds sealed values".into()))
                    {
                        return Err(KeyError::Missing {
                            kind: KeyKind::Data,
                            file: file.display().to_string(),
                            recorded,
                            setting: "data_key_file (SANAD_DATA_KEY_FILE)",
                        });
                    }
                    let c = DataCipher::load_or_create(file)
                        .map_err(|e| KeyError::File(e.to_string()))?;
                    (c, KeyOrigin::Created, file.to_path_buf())
                }
            }
        }
    };
    if let Err(recorded_text) = data_key_fits(&cipher, recorded.as_ref(), sample.as_deref()) {
        let retired = retired(keyring, KeyKind::Data, cipher.fingerprint()).await?;
        return Err(KeyError::Mismatch {
            kind: KeyKind::Data,
            file: path.display().to_string(),
            given: with_retired(cipher.fingerprint(), retired),
            recorded: recorded_text,
        });
    }
    let now_active = keyring
        .record_key(KeyKind::Data, cipher.fingerprint(), None, now)
        .await?;
    if now_active.fingerprint != cipher.fingerprint() {
        return Err(KeyError::Mismatch {
            kind: KeyKind::Data,
            file: path.display().to_string(),
            given: cipher.fingerprint().to_string(),
            recorded: now_active.fingerprint,
        });
    }
    Ok((cipher, origin))
}

/// `Err(what the database has)` when the cipher is not the database's data key.
fn data_key_fits(
    cipher: &DataCipher,
    recorded: Option<&InstallationKey>,
    sample: Option<&str>,
) -> Result<(), String> {
    match (recorded, sample) {
        (Some(k), _) if k.fingerprint == cipher.fingerprint() => Ok(()),
        (Some(k), _) => Err(k.fingerprint.clone()),
        (None, Some(s)) if cipher.decrypt(s).is_ok() => Ok(()),
        (None, Some(_)) => {
            Err("not recorded, and the values it holds were sealed under another key".to_string())
        }
        (None, None) => Ok(()),
    }
}

fn with_retired(fingerprint: &str, retired: bool) -> String {
    if retired {
        format!("{fingerprint} (a retired key of this database: it was rotated away)")
    } else {
        fingerprint.to_string()
    }
}

/// The audit key for this database, checked like the data key against the recorded fingerprint
/// (or, before fingerprints, against the keys of the stored checkpoints). With `create` false a
/// missing file gives `None` (a verifier without the key); otherwise the file is created only for
/// a database without checkpoints or a recorded audit key.
pub async fn open_audit_key(
    keyring: &dyn KeyringStore,
    file: &Path,
    legacy: Option<&Path>,
    create: bool,
    now: OffsetDateTime,
) -> Result<Option<(SigningKey, KeyOrigin)>, KeyError> {
    let recorded = active(keyring, KeyKind::Audit).await?;
    let signers = match recorded {
        Some(_) => Vec::new(),
        None => keyring.checkpoint_keys().await?,
    };
    let load =
        |path: &Path| crate::audit::load_key(path).map_err(|e| KeyError::File(e.to_string()));
    let (key, origin, path) = match load(file)? {
        Some(k) => (k, KeyOrigin::Existing, file.to_path_buf()),
        None => {
            let old = match legacy {
                Some(l) => load(l)?.map(|k| (k, l.to_path_buf())),
                None => None,
            };
            match old {
                Some((k, l)) if audit_key_fits(&k, recorded.as_ref(), &signers).is_ok() => {
                    (k, KeyOrigin::Legacy(l.clone()), l)
                }
                _ if !create => return Ok(None),
                _ => {
                    if let Some(recorded) =
                        recorded
                            .as_ref()
                            .map(|k| k.fingerprint.clone())
                            .or((!signers.is_empty()).then(|| {
                                "not recorded yet; the database holds signed checkpoints".into()
                            }))
                    {
                        return Err(KeyError::Missing {
                            kind: KeyKind::Audit,
                            file: file.display().to_string(),
                            recorded,
                            setting: "audit_key_file (SANAD_AUDIT_KEY_FILE)",
                        });
                    }
                    let k = crate::audit::load_or_create_key(file)
                        .map_err(|e| KeyError::File(e.to_string()))?;
                    (k, KeyOrigin::Created, file.to_path_buf())
                }
            }
        }
    };
    let public = key.verifying_key();
    let fingerprint = crate::audit::audit_key_fingerprint(&public);
    if let Err(recorded_text) = audit_key_fits(&key, recorded.as_ref(), &signers) {
        let retired = retired(keyring, KeyKind::Audit, &fingerprint).await?;
        return Err(KeyError::Mismatch {
            kind: KeyKind::Audit,
            file: path.display().to_string(),
            given: with_retired(&fingerprint, retired),
            recorded: recorded_text,
        });
    }
    let now_active = keyring
        .record_key(
            KeyKind::Audit,
            &fingerprint,
            Some(&hex::encode(public.to_bytes())),
            now,
        )
        .await?;
    if now_active.fingerprint != fingerprint {
        return Err(KeyError::Mismatch {
            kind: KeyKind::Audit,
            file: path.display().to_string(),
            given: fingerprint,
            recorded: now_active.fingerprint,
        });
    }
    Ok(Some((key, origin)))
}

fn audit_key_fits(
    key: &SigningKey,
    recorded: Option<&InstallationKey>,
    signers: &[String],
) -> Result<(), String> {
    let fingerprint = crate::audit::audit_key_fingerprint(&key.verifying_key());
    let public = hex::encode(key.verifying_key().to_bytes());
    match recorded {
        Some(k) if k.fingerprint == fingerprint => Ok(()),
        Some(k) => Err(k.fingerprint.clone()),
        None if signers.is_empty() || signers.contains(&public) => Ok(()),
        None => Err(format!(
            "not recorded, and its checkpoints were signed by another key (SHA-256 {})",
            public_key(&signers[0])
                .map(|k| crate::audit::audit_key_fingerprint(&k))
                .unwrap_or_else(|| "unreadable".into())
        )),
    }
}

async fn active(
    keyring: &dyn KeyringStore,
    kind: KeyKind,
) -> Result<Option<InstallationKey>, StoreError> {
    Ok(keyring
        .installation_keys()
        .await?
        .into_iter()
        .find(|k| k.kind == kind && k.active))
}

async fn retired(
    keyring: &dyn KeyringStore,
    kind: KeyKind,
    fingerprint: &str,
) -> Result<bool, StoreError> {
    Ok(keyring
        .installation_keys()
        .await?
        .iter()
        .any(|k| k.kind == kind && !k.active && k.fingerprint == fingerprint))
}

/// Rotates the audit key from `old` to `new`: `new` signs that `old` is its predecessor (so that
/// checkpoints signed by `old` stay trusted by whoever trusts `new`), `old` signs that `new` is its
/// successor (for the record), and the database records `new` as its active audit key.
pub async fn rotate_audit_key(
    keyring: &dyn KeyringStore,
    old: &SigningKey,
    new: &SigningKey,
    change: &Change,
) -> Result<(), StoreError> {
    if old.verifying_key() == new.verifying_key() {
        return Err(StoreError::Conflict {
            field: "new_key".into(),
            code: "same_key",
            message: "a key other than the current audit key".into(),
        });
    }
    // The statements name the chain head at the rotation; a write in between moves it, and the
    // statements are signed again.
    let mut attempts = 0;
    loop {
        let up_to = keyring.audit_signed_extent().await?;
        let endorsements = [
            KeyEndorsement::sign(
                new,
                &old.verifying_key(),
                Relation::Predecessor,
                up_to,
                change.at,
            ),
            KeyEndorsement::sign(
                old,
                &new.verifying_key(),
                Relation::Successor,
                up_to,
                change.at,
            ),
        ];
        let done = keyring
            .rotate_audit_key(
                &crate::audit::audit_key_fingerprint(&old.verifying_key()),
                &crate::audit::audit_key_fingerprint(&new.verifying_key()),
                &hex::encode(new.verifying_key().to_bytes()),
                &endorsements,
                change,
            )
            .await;
        match done {
            Err(StoreError::Conflict {
                code: "chain_moved",
                ..
            }) if attempts < 20 => {
                attempts += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endorsement_holds_only_under_its_signer_and_unaltered() {
        let old = SigningKey::from_bytes(&[1u8; 32]);
        let new = SigningKey::from_bytes(&[2u8; 32]);
        let stranger = SigningKey::from_bytes(&[3u8; 32]);
        let at = time::macros::datetime!(2026-11-30 10:00:00 UTC);
        let e = KeyEndorsement::sign(&new, &old.verifying_key(), Relation::Predecessor, 7, at);
        assert_eq!(
            e.verified_by(&new.verifying_key()),
            Some(old.verifying_key())
        );
        assert_eq!(e.verified_by(&stranger.verifying_key()), None);
        let mut forged = e.clone();
        forged.endorsed = hex::encode(stranger.verifying_key().to_bytes());
        assert_eq!(forged.verified_by(&new.verifying_key()), None, "altered");
        let mut flipped = e;
        flipped.relation = Relation::Successor;
        assert_eq!(
            flipped.verified_by(&new.verifying_key()),
            None,
            "relation signed"
        );
    }
}
