//! The audit trail as a transparency log: the integrator that folds committed events into the
//! Merkle tree and signs its heads (C2SP checkpoints, Ed25519, with the key kept outside the
//! database), `verify` (recompute the tree from the events, check every signed head, name the first
//! altered, missing or reordered event, count what waits for integration), and the inclusion and
//! consistency proofs that anyone checks with `sanad-tlog-verify`.
//!
//! Events written before the log was a tree form a hash chain with its own signed checkpoints; they
//! are the first leaves, and their chain and checkpoints are still checked.

use std::path::Path;

use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use sanad_domain::HouseholdId;
use sanad_domain::audit::{AuditEvent, ChainVerifier};
use sanad_tlog::bundle::{ConsistencyBundle, InclusionBundle};
use sanad_tlog::merkle::{self, Compact, Needed};
use sanad_tlog::note;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit_log::{AuditLogStore, HeadSigner, Integrated, Pending};
use crate::auth::Actor;
use crate::keyring::{KeyEndorsement, KeyringStore, Relation};
use crate::policy::{self, Permission};
use crate::registry::RegistryError;
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
    if let Some(bytes) = load_secret(path)? {
        return Ok(bytes);
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
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_secret(path),
        Err(e) => Err(e.to_string()),
    }
}

fn read_secret(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    hex::decode(text.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| "expected 64 hex characters".to_string())
}

/// The 32-byte secret in `path`, or `None` when the file does not exist (never creates it).
pub(crate) fn load_secret(path: &Path) -> Result<Option<[u8; 32]>, String> {
    match std::fs::metadata(path) {
        Ok(_) => read_secret(path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The checkpoint signing key in `path`, or `None` when there is no such file.
pub fn load_key(path: &Path) -> Result<Option<SigningKey>, AuditError> {
    let bytes = load_secret(path).map_err(|message| AuditError::Key {
        path: path.display().to_string(),
        message,
    })?;
    Ok(bytes.map(|b| SigningKey::from_bytes(&b)))
}

/// What the database records of an audit key: the SHA-256 (hex) of its public key.
pub fn audit_key_fingerprint(key: &VerifyingKey) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(key.to_bytes()))
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

/// The origin line of the log's checkpoints when the configuration names none.
pub const DEFAULT_ORIGIN: &str = "sanad/audit";

/// Events folded into the tree per integration transaction.
pub const BATCH: u32 = 10_000;

/// Signs tree heads with the installation's audit key under the log's origin.
pub struct LogSigner {
    key: SigningKey,
    origin: String,
}

impl LogSigner {
    pub fn new(key: SigningKey, origin: &str) -> LogSigner {
        LogSigner {
            key,
            origin: origin.to_string(),
        }
    }

    /// The verifier key that checks this log's heads, in the signed-note text form; what an
    /// installation publishes for citizens and auditors.
    pub fn verifier_key(&self) -> String {
        note::verifier_key(&self.origin, &self.key.verifying_key())
    }
}

impl HeadSigner for LogSigner {
    fn origin(&self) -> &str {
        &self.origin
    }

    fn sign(&self, checkpoint: &note::Checkpoint) -> String {
        note::sign(checkpoint, &self.origin, &self.key)
    }

    fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }
}

/// Integrates every committed event (batch after batch); returns how many leaves were added and
/// the last signed head.
pub async fn integrate_all(
    store: &dyn AuditLogStore,
    signer: &dyn HeadSigner,
    now: OffsetDateTime,
) -> Result<(u64, Option<Integrated>), StoreError> {
    let mut added = 0;
    let mut last = None;
    while let Some(done) = store.integrate(BATCH, signer, now).await? {
        added += done.leaves;
        let full = done.leaves >= u64::from(BATCH);
        last = Some(done);
        if !full {
            break;
        }
    }
    Ok((added, last))
}

/// The audit keys whose checkpoints are trusted: `current` (the key file's, a trust anchor kept
/// outside the database) and every key it vouches for, following back the rotations: a trusted key
/// that signed "this key is my predecessor" makes that key trusted too. Statements not signed by
/// a trusted key are ignored, so writing to the database adds no key.
pub async fn trusted_audit_keys(
    store: &dyn KeyringStore,
    current: &VerifyingKey,
) -> Result<Vec<VerifyingKey>, StoreError> {
    Ok(trusted_audit_key_bounds(store, current)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}

/// [`trusted_audit_keys`] with, for each earlier key, the last event its checkpoints may cover
/// (the chain head when it was rotated away; `None` for `current`): a checkpoint signed by a
/// retired key beyond that point is not trusted, even if the old key leaked.
pub async fn trusted_audit_key_bounds(
    store: &dyn KeyringStore,
    current: &VerifyingKey,
) -> Result<Vec<(VerifyingKey, Option<i64>)>, StoreError> {
    let statements: Vec<KeyEndorsement> = store
        .audit_key_endorsements()
        .await?
        .into_iter()
        .filter(|e| e.relation == Relation::Predecessor)
        .collect();
    let mut trusted: Vec<(VerifyingKey, Option<i64>)> = vec![(*current, None)];
    let mut i = 0;
    while i < trusted.len() {
        let (by, by_bound) = trusted[i];
        for e in &statements {
            if let Some(endorsed) = e.verified_by(&by)
                && !trusted.iter().any(|(k, _)| k == &endorsed)
            {
                let bound = by_bound.map_or(e.up_to_seq, |b| b.min(e.up_to_seq));
                trusted.push((endorsed, Some(bound)));
            }
        }
        i += 1;
    }
    Ok(trusted)
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked (integrated and waiting).
    pub events: u64,
    /// Leaves in the tree, and its recomputed root (hex).
    pub tree_size: u64,
    pub root: String,
    /// Signed tree heads checked.
    pub heads: u64,
    /// Signed checkpoints of the old hash chain checked.
    pub checkpoints: u64,
    /// Events of the old hash chain (the first leaves).
    pub chained: u64,
    /// Events committed but not yet integrated.
    pub pending: Pending,
    /// The first problem found, in plain words; `None` when everything holds.
    pub broken: Option<String>,
}

/// Whether a signed head opens with one of the trusted keys; the checkpoint it signs.
fn open_head(
    text: &str,
    trusted: Option<&[(VerifyingKey, Option<i64>)]>,
) -> Result<note::Checkpoint, String> {
    let origin = text.split('\n').next().unwrap_or_default();
    match trusted {
        None => note::Checkpoint::parse(text.split("\n\n").next().unwrap_or_default())
            .map_err(|e| e.to_string()),
        Some(keys) => {
            let mut last = String::from("no trusted key");
            for (key, bound) in keys {
                match note::open(text, origin, key) {
                    Ok(c) => {
                        if let Some(up_to) = bound
                            && c.size > *up_to as u64
                        {
                            return Err(format!(
                                "it was signed with a retired audit key, trusted up to a tree of {up_to} leaves only (the key was rotated away; it may have leaked)"
                            ));
                        }
                        return Ok(c);
                    }
                    Err(note::NoteError::NoSignature) => {
                        last = "it is not signed by the installation's audit key".into();
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            Err(last)
        }
    }
}

/// Recomputes the tree from the events, in leaf order, and checks every signed tree head against
/// it (signature by one of `trusted` when given, size, root); checks the old chain's links and
/// checkpoints for its events; checks the waiting events' hashes and counts them. Reads only.
pub async fn verify(
    store: &dyn RegistryStore,
    trusted: Option<&[VerifyingKey]>,
) -> Result<Verification, AuditError> {
    let bounded: Option<Vec<(VerifyingKey, Option<i64>)>> =
        trusted.map(|keys| keys.iter().map(|k| (*k, None)).collect());
    verify_bounded(store, bounded.as_deref()).await
}

/// [`verify`] against trusted keys, each trusted up to an event (see
/// [`trusted_audit_key_bounds`]).
pub async fn verify_bounded(
    store: &dyn RegistryStore,
    trusted: Option<&[(VerifyingKey, Option<i64>)]>,
) -> Result<Verification, AuditError> {
    let heads = store.tree_heads().await?;
    let checkpoints = store.checkpoints().await?;
    let wanted: std::collections::HashSet<i64> = checkpoints.iter().map(|c| c.seq).collect();
    let mut chain_hashes = std::collections::HashMap::new();
    let mut chain = ChainVerifier::default();
    let mut tree = Compact::default();
    let mut broken: Option<String> = None;
    let mut heads_left = heads.iter().peekable();
    let mut heads_checked = 0u64;
    let mut events = 0u64;
    let mut last_good_head = 0u64;
    let mut check_chain = |e: &AuditEvent, broken: &mut Option<String>| {
        if e.is_chained() {
            if let Err(err) = chain.check(e) {
                *broken = Some(format!(
                    "the old audit chain is broken after {} good events: {err}",
                    chain.checked
                ));
            } else if wanted.contains(&e.seq) {
                chain_hashes.insert(e.seq, e.hash.clone());
            }
        }
    };
    'walk: loop {
        let page = store.events_by_leaf(tree.size(), 10_000).await?;
        if page.is_empty() {
            break;
        }
        for le in &page {
            let e = &le.event;
            let at = tree.size();
            if e.leaf_index != Some(at as i64) {
                broken = Some(format!(
                    "leaf {at} is missing: its event was removed (the next one, event {}, is at leaf {})",
                    e.seq,
                    e.leaf_index.unwrap_or(-1)
                ));
                break 'walk;
            }
            if e.expected_hash() != e.hash {
                broken = Some(format!(
                    "event {} (leaf {at}): its content does not match its hash (altered)",
                    e.seq
                ));
                break 'walk;
            }
            let leaf = e.leaf_hash();
            if le.stored_leaf != Some(leaf) {
                broken = Some(format!(
                    "event {} (leaf {at}): it is not the event the tree holds at leaf {at} (altered, or reordered)",
                    e.seq
                ));
                break 'walk;
            }
            check_chain(e, &mut broken);
            if broken.is_some() {
                break 'walk;
            }
            tree.push(leaf);
            events += 1;
            while let Some(h) = heads_left.next_if(|h| h.size <= tree.size()) {
                if let Some(problem) = check_head(h, &tree, trusted) {
                    broken = Some(format!(
                        "signed tree head of {} leaves: {problem}; the change lies among leaves {last_good_head} to {}",
                        h.size,
                        h.size.saturating_sub(1)
                    ));
                    break 'walk;
                }
                last_good_head = h.size;
                heads_checked += 1;
            }
        }
    }
    if broken.is_none()
        && let Some(h) = heads_left.next()
    {
        broken = Some(format!(
            "a signed tree head counts {} leaves but the log holds {}: events were removed from the end",
            h.size,
            tree.size()
        ));
    }
    // The events waiting for the integrator: their own hashes (the old chain's too, when the log
    // was just migrated).
    let mut after = 0;
    let mut pending = Pending::default();
    'pending: while broken.is_none() {
        let page = store.pending_after(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if e.expected_hash() != e.hash {
                broken = Some(format!(
                    "event {} (waiting for the tree): its content does not match its hash (altered)",
                    e.seq
                ));
                break 'pending;
            }
            check_chain(e, &mut broken);
            if broken.is_some() {
                break 'pending;
            }
            pending.count += 1;
            pending.oldest_at = Some(
                pending
                    .oldest_at
                    .map_or(e.at, |o: OffsetDateTime| o.min(e.at)),
            );
            events += 1;
        }
    }
    let chained = chain.checked;
    if broken.is_none() && chained > 0 {
        let stored = store.audit_head().await?;
        let head = chain.head();
        if stored.seq != head.seq || stored.hash != head.hash {
            broken = Some(format!(
                "the recorded head of the old chain (event {}) does not match its last event ({}): events were removed from its end",
                stored.seq, head.seq
            ));
        }
    }
    if broken.is_none() {
        for c in &checkpoints {
            if let Some(problem) = check_checkpoint(c, trusted, chain_hashes.get(&c.seq)) {
                broken = Some(format!("checkpoint at event {}: {problem}", c.seq));
                break;
            }
        }
    }
    Ok(Verification {
        events,
        tree_size: tree.size(),
        root: hex::encode(tree.root()),
        heads: heads_checked,
        checkpoints: checkpoints.len() as u64,
        chained,
        pending,
        broken,
    })
}

fn check_head(
    head: &crate::audit_log::TreeHead,
    tree: &Compact,
    trusted: Option<&[(VerifyingKey, Option<i64>)]>,
) -> Option<String> {
    if head.size != tree.size() {
        return Some(format!(
            "the log has no such prefix (it jumps from {} leaves)",
            tree.size() - 1
        ));
    }
    let signed = match open_head(&head.note, trusted) {
        Ok(c) => c,
        Err(e) => return Some(e),
    };
    let root = tree.root();
    if signed.size != head.size || hex::encode(signed.root) != head.root {
        return Some(
            "the stored size or root differs from the signed one (the head was altered)".into(),
        );
    }
    if signed.root != root {
        return Some(
            "the tree recomputed from the events has another root (an event was altered, removed, inserted or reordered)"
                .into(),
        );
    }
    None
}

fn check_checkpoint(
    c: &Checkpoint,
    trusted: Option<&[(VerifyingKey, Option<i64>)]>,
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
    if let Some(trusted) = trusted {
        match trusted.iter().find(|(k, _)| k == &key) {
            None => return Some("it was signed with another key than the installation's".into()),
            Some((_, Some(up_to))) if c.seq > *up_to => {
                return Some(format!(
                    "it was signed with a retired audit key, trusted up to event {up_to} only (the key was rotated away; it may have leaked)"
                ));
            }
            Some(_) => {}
        }
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

/// Which event an inclusion proof is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventRef {
    Seq(i64),
    /// The event that brought the household into the registry (its registration or import).
    Registration(HouseholdId),
    /// The newest event of the latest signed tree head.
    Latest,
}

fn not_yet(what: &str) -> RegistryError {
    RegistryError::Store(StoreError::Conflict {
        field: what.to_string(),
        code: "not_integrated",
        message: "an event already folded into a signed tree head; this one is waiting for the integrator (a few hundred milliseconds): ask again".into(),
    })
}

/// May the actor see this event's proof? Auditors and administrators: any; a citizen: the changes of
/// their own household.
fn may_prove(actor: &Actor, event: &AuditEvent) -> bool {
    if policy::allows(actor, Permission::ReadAuditTrail) {
        return true;
    }
    event.entity_type == "household"
        && actor
            .household
            .is_some_and(|h| h.to_string() == event.entity_id)
}

/// The inclusion proof of an event in the latest signed tree head.
pub async fn prove_inclusion(
    store: &dyn RegistryStore,
    actor: &Actor,
    target: &EventRef,
    verifier_key: &str,
) -> Result<InclusionBundle, RegistryError> {
    let event =
        match target {
            EventRef::Seq(seq) => store.audit_event(*seq).await?,
            EventRef::Registration(id) => store
                .events_about(&id.to_string())
                .await?
                .into_iter()
                .find(|e| {
                    e.entity_type == "household"
                        && matches!(e.action.as_str(), "household.create" | "household.import")
                }),
            EventRef::Latest => match store.tree_head(None).await? {
                Some(head) if head.size > 0 => store
                    .events_by_leaf(head.size - 1, 1)
                    .await?
                    .into_iter()
                    .next()
                    .map(|le| le.event),
                _ => None,
            },
        };
    // Out of scope is answered as missing, as for records.
    let event = event
        .filter(|e| may_prove(actor, e))
        .ok_or(RegistryError::Store(StoreError::NotFound))?;
    let leaf = event.leaf_index.ok_or_else(|| not_yet("seq"))? as u64;
    let head = store
        .tree_head(None)
        .await?
        .filter(|h| h.size > leaf)
        .ok_or_else(|| not_yet("seq"))?;
    let mut needed = Needed::default();
    let _ = merkle::inclusion_proof(&mut needed, leaf, head.size);
    let mut nodes = store.tree_nodes(&needed.0).await?;
    let proof = merkle::inclusion_proof(&mut nodes, leaf, head.size)
        .ok_or(RegistryError::Store(StoreError::NotFound))?;
    let bytes = event.leaf_bytes();
    use base64::Engine as _;
    Ok(InclusionBundle {
        event: sanad_tlog::leaf::describe(&bytes)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .chain([("seq".to_string(), event.seq.to_string())])
            .collect(),
        leaf: base64::engine::general_purpose::STANDARD.encode(&bytes),
        leaf_index: leaf,
        tree_size: head.size,
        proof: sanad_tlog::bundle::encode_hashes(&proof),
        checkpoint: head.note,
        verifier_key: verifier_key.to_string(),
    })
}

/// The consistency proof between two signed tree heads (`new` = the latest when `None`): the log
/// of `new` leaves extends the log of `old` leaves. For auditors and administrators.
pub async fn prove_consistency(
    store: &dyn RegistryStore,
    actor: &Actor,
    old: u64,
    new: Option<u64>,
    verifier_key: &str,
) -> Result<ConsistencyBundle, RegistryError> {
    if !policy::allows(actor, Permission::ReadAuditTrail) {
        return Err(RegistryError::Forbidden(Permission::ReadAuditTrail.scope()));
    }
    let old_head = store
        .tree_head(Some(old))
        .await?
        .ok_or(RegistryError::Store(StoreError::NotFound))?;
    let new_head = store
        .tree_head(new)
        .await?
        .ok_or(RegistryError::Store(StoreError::NotFound))?;
    if new_head.size < old_head.size {
        return Err(RegistryError::Store(StoreError::Conflict {
            field: "new".into(),
            code: "older",
            message: format!("a head of at least {} leaves", old_head.size),
        }));
    }
    let mut needed = Needed::default();
    let _ = merkle::consistency_proof(&mut needed, old_head.size, new_head.size);
    let mut nodes = store.tree_nodes(&needed.0).await?;
    let proof = merkle::consistency_proof(&mut nodes, old_head.size, new_head.size)
        .ok_or(RegistryError::Store(StoreError::NotFound))?;
    Ok(ConsistencyBundle {
        old_size: old_head.size,
        new_size: new_head.size,
        old_checkpoint: old_head.note,
        new_checkpoint: new_head.note,
        proof: sanad_tlog::bundle::encode_hashes(&proof),
        verifier_key: verifier_key.to_string(),
    })
}
