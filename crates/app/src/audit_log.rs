//! The audit log's port: the transparency log that the audit events form. Events are written by the
//! registry's own operations, in their transactions (see [`crate::RegistryStore`]); this port folds
//! committed events into the Merkle tree (the integrator), keeps the signed tree heads, and reads
//! what verification and proofs need. Every registry store keeps its log, hence the supertrait.

use async_trait::async_trait;
use sanad_domain::audit::AuditEvent;
use sanad_tlog::Hash;
use sanad_tlog::note::Checkpoint;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::store::StoreError;

/// Signs tree heads; the store calls it inside the integration's transaction, so that a batch and
/// its signed head commit together.
pub trait HeadSigner: Send + Sync {
    /// The log's origin line (and the signature's key name).
    fn origin(&self) -> &str;
    /// The signed note of this checkpoint.
    fn sign(&self, checkpoint: &Checkpoint) -> String;
}

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TreeHead {
    pub size: u64,
    /// The root hash, hex.
    pub root: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The C2SP checkpoint, signed as a signed note.
    pub note: String,
}

/// What one integration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrated {
    /// Leaves added by this batch.
    pub leaves: u64,
    pub head: TreeHead,
}

/// Events committed but not yet in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pending {
    pub count: u64,
    /// When the oldest of them was written.
    pub oldest_at: Option<OffsetDateTime>,
}

/// An event with the leaf hash the tree holds for its place (`None` when the node is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafEvent {
    pub event: AuditEvent,
    pub stored_leaf: Option<Hash>,
}

#[async_trait]
pub trait AuditLogStore: Send + Sync {
    /// Folds up to `limit` committed events into the tree (in sequence order, each exactly once)
    /// and stores the new signed head, in one transaction. `None` when nothing is waiting or another
    /// integrator is at work (PostgreSQL: one leader, by advisory lock). On PostgreSQL only events
    /// whose transaction is older than every running one are taken, so an out-of-order commit or a
    /// rollback never leaves a hole.
    async fn integrate(
        &self,
        limit: u32,
        signer: &dyn HeadSigner,
        at: OffsetDateTime,
    ) -> Result<Option<Integrated>, StoreError>;

    /// Events written but not yet integrated.
    async fn pending_events(&self) -> Result<Pending, StoreError>;

    /// Every signed tree head, by size.
    async fn tree_heads(&self) -> Result<Vec<TreeHead>, StoreError>;

    /// The signed head of exactly `size` leaves, or the latest when `size` is `None`.
    async fn tree_head(&self, size: Option<u64>) -> Result<Option<TreeHead>, StoreError>;

    /// The stored hashes of these complete subtrees, (level, index) → hash; missing ones are left
    /// out.
    async fn tree_nodes(
        &self,
        keys: &[(u32, u64)],
    ) -> Result<std::collections::HashMap<(u32, u64), Hash>, StoreError>;

    /// Integrated events from leaf `from` on, in leaf order, with the leaf hash the tree holds.
    async fn events_by_leaf(&self, from: u64, limit: u32) -> Result<Vec<LeafEvent>, StoreError>;

    /// Events not yet integrated, after `after_seq`, in sequence order.
    async fn pending_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// One event by its sequence number.
    async fn audit_event(&self, seq: i64) -> Result<Option<AuditEvent>, StoreError>;

    /// The events about one record (a household, a person…), in sequence order.
    async fn events_about(&self, entity_id: &str) -> Result<Vec<AuditEvent>, StoreError>;
}
