//! Verifying the audit trail, and signed checkpoints of its head. The hash chain shows that no event
//! was altered, removed or inserted relative to the events after it; a checkpoint signed with a key
//! kept outside the database shows that the chain itself was not rewritten from some point on.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sanad_domain::audit::{ChainVerifier, storable_time};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::{Checkpoint, RegistryStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit key file {path}: {message}")]
    Key { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The checkpoint signing key, from a file holding 32 random bytes in hex (created on first use,
/// readable by its owner only).
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, AuditError> {
    let bytes = load_or_create_secret(path).map_err(|message| AuditError::Key {
        path: path.display().to_string(),
        message,
    })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A 32-byte secret kept in `path` as 64 hex characters, created (readable by its owner only) when
/// missing. Creation is atomic: the key is written and synced under a temporary name, then linked
/// into place, which fails if another process got there first; then that process's key is read.
/// Two processes starting together therefore agree on one key, and none ever reads a half-written
/// file.
pub(crate) fn load_or_create_secret(path: &Path) -> Result<[u8; 32], String> {
    let read = |path: &Path| -> Result<[u8; 32], String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| "expected 64 hex characters".to_string())
    };
    if path.exists() {
        return read(path);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| e.to_string())?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}.tmp", hex::encode(suffix)));
    write_private(&temp, &hex::encode(bytes)).map_err(|e| e.to_string())?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn message(seq: i64, hash: &str, at: OffsetDateTime) -> String {
    format!(
        "sanad-audit-checkpoint\n{seq}\n{hash}\n{}",
        at.format(&Rfc3339).unwrap_or_default()
    )
}

/// Applies the access-log retention policy: deletes the entries older than `keep_days` days before
/// `now` (at least one day is always kept), with an audit event that says how many and why.
pub async fn prune_access_log(
    store: &dyn RegistryStore,
    keep_days: u32,
    now: OffsetDateTime,
    actor: &str,
) -> Result<u64, StoreError> {
    let keep_days = keep_days.max(1);
    let before = now - time::Duration::days(i64::from(keep_days));
    let change = crate::store::Change {
        actor: actor.to_string(),
        reason: format!("retention: the access log keeps {keep_days} days"),
        at: now,
    };
    store.prune_access_log(before, &change).await
}

/// Signs the current head of the chain and stores the checkpoint; `None` when the head is already
/// checkpointed (or the chain is empty).
pub async fn checkpoint(
    store: &dyn RegistryStore,
    key: &SigningKey,
    at: OffsetDateTime,
) -> Result<Option<Checkpoint>, AuditError> {
    let head = store.audit_head().await?;
    if head.seq == 0 {
        return Ok(None);
    }
    let existing = store.checkpoints().await?;
    if existing.last().is_some_and(|c| c.seq >= head.seq) {
        return Ok(None);
    }
    let at = storable_time(at);
    let signature = key.sign(message(head.seq, &head.hash, at).as_bytes());
    let checkpoint = Checkpoint {
        seq: head.seq,
        hash: head.hash,
        at,
        public_key: hex::encode(key.verifying_key().to_bytes()),
        signature: hex::encode(signature.to_bytes()),
    };
    store.add_checkpoint(&checkpoint).await?;
    Ok(Some(checkpoint))
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub events: u64,
    pub head_seq: i64,
    pub head_hash: String,
    pub checkpoints: u64,
    /// The first problem found, in plain words; `None` when everything holds.
    pub broken: Option<String>,
}

/// Walks the whole chain, then checks each checkpoint: its signature, its key (against the trusted
/// key when given) and that the chain still has the hash it signed.
pub async fn verify(
    store: &dyn RegistryStore,
    trusted: Option<&VerifyingKey>,
) -> Result<Verification, AuditError> {
    let checkpoints = store.checkpoints().await?;
    let mut verifier = ChainVerifier::default();
    let mut broken = None;
    let mut at_seq = std::collections::HashMap::new();
    let wanted: std::collections::HashSet<i64> = checkpoints.iter().map(|c| c.seq).collect();
    let mut after = 0;
    let mut logged = 0u64;
    'walk: loop {
        let page = store.audit_events(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in &page {
            if !event.is_chained() {
                if event.expected_hash() != event.hash {
                    broken = Some(format!(
                        "event {}: its content does not match its hash (altered)",
                        event.seq
                    ));
                    break 'walk;
                }
                logged += 1;
                continue;
            }
            if let Err(e) = verifier.check(event) {
                broken = Some(format!(
                    "audit chain broken after {} good events: {e}",
                    verifier.checked
                ));
                break 'walk;
            }
            if wanted.contains(&event.seq) {
                at_seq.insert(event.seq, event.hash.clone());
            }
        }
    }
    let head = verifier.head().clone();
    if broken.is_none() {
        let stored = store.audit_head().await?;
        if stored.seq != head.seq || stored.hash != head.hash {
            broken = Some(format!(
                "the recorded chain head (event {}) does not match the last event ({}): events were removed from the end",
                stored.seq, head.seq
            ));
        }
    }
    if broken.is_none() {
        for c in &checkpoints {
            let problem = check_checkpoint(c, trusted, at_seq.get(&c.seq));
            if let Some(problem) = problem {
                broken = Some(format!("checkpoint at event {}: {problem}", c.seq));
                break;
            }
        }
    }
    Ok(Verification {
        events: verifier.checked + logged,
        head_seq: head.seq,
        head_hash: head.hash,
        checkpoints: checkpoints.len() as u64,
        broken,
    })
}

fn check_checkpoint(
    c: &Checkpoint,
    trusted: Option<&VerifyingKey>,
    chain_hash: Option<&String>,
) -> Option<String> {
    let Ok(key_bytes) = hex::decode(&c.public_key) else {
        return Some("its public key is not hex".into());
    };
    let Ok(key_bytes) = <[u8; 32]>::try_from(key_bytes) else {
        return Some("its public key has the wrong length".into());
    };
    let Ok(key) = VerifyingKey::from_bytes(&key_bytes) else {
        return Some("its public key is not a valid Ed25519 key".into());
    };
    if let Some(trusted) = trusted
        && trusted != &key
    {
        return Some("it was signed with another key than the installation's".into());
    }
    let Some(signature) = hex::decode(&c.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
    else {
        return Some("its signature is malformed".into());
    };
    if key
        .verify(message(c.seq, &c.hash, c.at).as_bytes(), &signature)
        .is_err()
    {
        return Some("its signature does not match (the checkpoint was altered)".into());
    }
    match chain_hash {
        None => Some("the chain no longer has this event (it was cut)".into()),
        Some(h) if h != &c.hash => {
            Some("the chain's hash differs from the signed one (the chain was rewritten)".into())
        }
        Some(_) => None,
    }
}
