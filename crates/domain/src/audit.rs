//! The audit trail: every change (and every read of personal data) is an event, and every event is a
//! leaf of an append-only Merkle tree (the transparency log of `sanad_tlog`), whose signed heads show
//! that no event was altered, removed, inserted or reordered. An event's bytes (its leaf) are its own
//! fields only: it takes its place in the log without knowing the event before it.
//!
//! Events written before the log was a tree (format 1) were chained: each holds the hash of the one
//! before it. They stay as they were, as the first leaves, and [`ChainVerifier`] still checks their
//! links (their old signed checkpoints name chain hashes).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event before it is chained: what happened, to what, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    /// Dotted action name, e.g. `household.create`, `household.update`, `household.import`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Compact JSON with the facts of the change (version, reason, batch); never names or ids of
    /// citizens beyond the registry identifiers.
    pub details: String,
}

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub details: String,
    /// The previous event's hash for events of the old chain (format 1); empty since.
    pub prev_hash: String,
    /// SHA-256 (hex) of the event's leaf bytes.
    pub hash: String,
    /// The event's place in the Merkle tree; `None` until the integrator folds it in.
    #[serde(default)]
    pub leaf_index: Option<i64>,
}

/// The end of the chain: the last sequence number and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> Self {
        ChainHead {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// Truncates a timestamp to whole microseconds, the precision both stores keep, so that the hash of
/// an event read back equals the hash computed when it was written.
pub fn storable_time(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let micros = at.microsecond();
    at.replace_microsecond(micros).unwrap_or(at)
}

/// The leaf bytes of a chained event (format 1): exactly what its chain hash was computed over.
fn chained_bytes(seq: i64, at: OffsetDateTime, entry: &AuditEntry, prev_hash: &str) -> Vec<u8> {
    let at = storable_time(at).format(&Rfc3339).unwrap_or_default();
    sanad_tlog::leaf::encode([
        seq.to_string().as_str(),
        at.as_str(),
        &entry.actor,
        &entry.action,
        &entry.entity_type,
        &entry.entity_id,
        &entry.details,
        prev_hash,
    ])
}

fn hash_of(seq: i64, at: OffsetDateTime, entry: &AuditEntry, prev_hash: &str) -> String {
    hex::encode(Sha256::digest(chained_bytes(seq, at, entry, prev_hash)))
}

impl AuditEntry {
    /// The leaf bytes of this entry written at `at` (format 2): the tag, then its own fields.
    pub fn leaf_bytes(&self, at: OffsetDateTime) -> Vec<u8> {
        let at = storable_time(at).format(&Rfc3339).unwrap_or_default();
        sanad_tlog::leaf::encode([
            sanad_tlog::leaf::EVENT_TAG,
            at.as_str(),
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            &self.details,
        ])
    }

    /// SHA-256 (hex) of [`AuditEntry::leaf_bytes`]: the event's `hash` column.
    pub fn hash(&self, at: OffsetDateTime) -> String {
        hex::encode(Sha256::digest(self.leaf_bytes(at)))
    }
}

impl AuditEvent {
    /// Chains an entry after `head` and moves `head` to it: the format of the events written before
    /// the log became a tree (kept to build such databases in tests, and to check them).
    pub fn chain(head: &mut ChainHead, at: OffsetDateTime, entry: AuditEntry) -> AuditEvent {
        let at = storable_time(at);
        let seq = head.seq + 1;
        let hash = hash_of(seq, at, &entry, &head.hash);
        let event = AuditEvent {
            seq,
            at,
            actor: entry.actor,
            action: entry.action,
            entity_type: entry.entity_type,
            entity_id: entry.entity_id,
            details: entry.details,
            prev_hash: std::mem::replace(&mut head.hash, hash.clone()),
            hash,
            leaf_index: None,
        };
        head.seq = seq;
        event
    }

    fn entry(&self) -> AuditEntry {
        AuditEntry {
            actor: self.actor.clone(),
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            details: self.details.clone(),
        }
    }

    /// Whether the event belongs to the old hash chain (format 1).
    pub fn is_chained(&self) -> bool {
        !self.prev_hash.is_empty()
    }

    /// The event as a leaf of the log: format 1 for chained events, format 2 since.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        if self.is_chained() {
            chained_bytes(self.seq, self.at, &self.entry(), &self.prev_hash)
        } else {
            self.entry().leaf_bytes(self.at)
        }
    }

    /// The RFC 6962 leaf hash of the event.
    pub fn leaf_hash(&self) -> sanad_tlog::Hash {
        sanad_tlog::merkle::leaf_hash(&self.leaf_bytes())
    }

    /// The hash this event should carry given its content.
    pub fn expected_hash(&self) -> String {
        hex::encode(Sha256::digest(self.leaf_bytes()))
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokenLink {
    #[error("event {seq}: its content does not match its hash (altered)")]
    Altered { seq: i64 },
    #[error(
        "event {seq}: its previous hash does not match event {prev_seq} (removed, inserted or reordered)"
    )]
    Unlinked { seq: i64, prev_seq: i64 },
    #[error("event {seq}: expected sequence number {expected} (an event is missing)")]
    Gap { seq: i64, expected: i64 },
}

/// Walks events in sequence order, checking each link; feed it events in batches.
#[derive(Debug)]
pub struct ChainVerifier {
    head: ChainHead,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            head: ChainHead::genesis(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, event: &AuditEvent) -> Result<(), BrokenLink> {
        if event.seq != self.head.seq + 1 {
            return Err(BrokenLink::Gap {
                seq: event.seq,
                expected: self.head.seq + 1,
            });
        }
        if event.prev_hash != self.head.hash {
            return Err(BrokenLink::Unlinked {
                seq: event.seq,
                prev_seq: self.head.seq,
            });
        }
        if event.expected_hash() != event.hash {
            return Err(BrokenLink::Altered { seq: event.seq });
        }
        self.head = ChainHead {
            seq: event.seq,
            hash: event.hash.clone(),
        };
        self.checked += 1;
        Ok(())
    }

    pub fn head(&self) -> &ChainHead {
        &self.head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(i: u32) -> AuditEntry {
        AuditEntry {
            actor: "agent".into(),
            action: "household.create".into(),
            entity_type: "household".into(),
            entity_id: format!("H{i}"),
            details: "{}".into(),
        }
    }

    fn chain(n: u32) -> Vec<AuditEvent> {
        let mut head = ChainHead::genesis();
        (0..n)
            .map(|i| {
                AuditEvent::chain(
                    &mut head,
                    datetime!(2026-01-01 10:00:00.123456789 UTC),
                    entry(i),
                )
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let mut v = ChainVerifier::default();
        for e in chain(5) {
            v.check(&e).unwrap();
        }
        assert_eq!(v.checked, 5);
    }

    #[test]
    fn an_altered_event_is_named() {
        let mut events = chain(5);
        events[2].actor = "someone-else".into();
        let mut v = ChainVerifier::default();
        let err = events.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(err, BrokenLink::Altered { seq: 3 });
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut events = chain(5);
        events.remove(1);
        let mut v = ChainVerifier::default();
        let err = events.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(
            err,
            BrokenLink::Gap {
                seq: 3,
                expected: 2
            }
        );
    }

    #[test]
    fn a_rewritten_hash_breaks_the_next_link() {
        let mut events = chain(5);
        events[1].details = "{\"forged\":true}".into();
        events[1].hash = events[1].expected_hash();
        let mut v = ChainVerifier::default();
        let err = events.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(
            err,
            BrokenLink::Unlinked {
                seq: 3,
                prev_seq: 2
            }
        );
    }
}
