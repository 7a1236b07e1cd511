-- The audit trail becomes a transparency log (RFC 9162 style). SQLite has one writer at a time, so
-- an event's seq (the rowid, max + 1) is assigned inside the writing transaction without gaps; an
-- integrator later gives committed events their leaf index, in batches. The events of the old hash
-- chain keep their bytes and become the first leaves; audit_head and audit_checkpoints stay, frozen,
-- to verify that prefix and its old signatures.
ALTER TABLE audit_events ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX audit_events_leaf ON audit_events (leaf_index) WHERE leaf_index IS NOT NULL;
CREATE INDEX audit_events_pending ON audit_events (seq) WHERE leaf_index IS NULL;
-- "The registration of household H…": an event found by its record.
CREATE INDEX audit_events_entity ON audit_events (entity_id, seq);

-- Every complete subtree of the tree, (level, index) covering leaves index*2^level to
-- (index+1)*2^level: a proof reads O(log n) of these rows.
CREATE TABLE audit_tree_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed tree heads: a C2SP checkpoint (origin, size, base64 root) signed as a signed note.
CREATE TABLE audit_tree_heads (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    at   TEXT NOT NULL,
    note TEXT NOT NULL
);
