//! The audit trail: every change (and every read of personal data) is an event, and each event holds
//! the hash of the one before it, so that altering, removing or inserting an event breaks the chain.

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

/// A chained audit event as stored.
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
    pub prev_hash: String,
    pub hash: String,
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

fn hash_of(seq: i64, at: OffsetDateTime, entry: &AuditEntry, prev_hash: &str) -> String {
    let at = storable_time(at).format(&Rfc3339).unwrap_or_default();
    let mut h = Sha256::new();
    // Fields are length-prefixed so that no two different events share a byte string.
    for part in [
        seq.to_string().as_str(),
        at.as_str(),
        &entry.actor,
        &entry.action,
        &entry.entity_type,
        &entry.entity_id,
        &entry.details,
        prev_hash,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEvent {
    /// Chains an entry after `head` and moves `head` to it.
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
        };
        head.seq = seq;
        event
    }

    /// The hash this event should carry given its content.
    pub fn expected_hash(&self) -> String {
        let entry = AuditEntry {
            actor: self.actor.clone(),
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            details: self.details.clone(),
        };
        hash_of(self.seq, self.at, &entry, &self.prev_hash)
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
