-- The audit trail becomes a transparency log (RFC 9162 style). A writer no longer locks the chain
-- head: its event takes the next value of a sequence and records its transaction id; an integrator
-- later gives committed events their leaf index, in batches, only once their transaction is older
-- than every running one (pg_snapshot_xmin), so that out-of-order commits and rollbacks leave no
-- hole and no double. The events of the old hash chain keep their bytes and become the first leaves;
-- audit_head and audit_checkpoints stay, frozen, to verify that prefix and its old signatures.
CREATE SEQUENCE audit_events_seq OWNED BY audit_events.seq;
SELECT setval('audit_events_seq', COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1, false);
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq');

-- NULL for the events written before (all committed long ago); set by default afterwards.
ALTER TABLE audit_events ADD COLUMN txid xid8;
ALTER TABLE audit_events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
ALTER TABLE audit_events ADD COLUMN leaf_index BIGINT;
CREATE UNIQUE INDEX audit_events_leaf ON audit_events (leaf_index) WHERE leaf_index IS NOT NULL;
CREATE INDEX audit_events_pending ON audit_events (seq) WHERE leaf_index IS NULL;
-- "The registration of household H…": an event found by its record.
CREATE INDEX audit_events_entity ON audit_events (entity_id, seq);

-- Every complete subtree of the tree, (level, index) covering leaves index*2^level to
-- (index+1)*2^level: a proof reads O(log n) of these rows.
CREATE TABLE audit_tree_nodes (
    level SMALLINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads: a C2SP checkpoint (origin, size, base64 root) signed as a signed note.
CREATE TABLE audit_tree_heads (
    size BIGINT PRIMARY KEY,
    root TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL,
    note TEXT NOT NULL
);
