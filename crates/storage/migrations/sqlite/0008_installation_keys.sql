-- The keys this database is used with, identified but never stored: for the data key a keyed
-- fingerprint (HMAC of a fixed label under a key derived from the master key), for an audit key the
-- SHA-256 of its Ed25519 public key (kept in hex beside it). One active key of each kind; a
-- rotated key stays as `retired`. Every command checks the key it was given against this table.
CREATE TABLE installation_keys (
    kind        TEXT NOT NULL CHECK (kind IN ('data', 'audit')),
    fingerprint TEXT NOT NULL,
    public_key  TEXT,
    status      TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (kind, fingerprint)
);
CREATE UNIQUE INDEX installation_keys_one_active ON installation_keys (kind) WHERE status = 'active';

-- Statements signed at an audit-key rotation: `endorser` (Ed25519 public key, hex) signs that
-- `endorsed` is its predecessor (or, for the record, its successor), whose checkpoints are trusted up
-- to event `up_to_seq` (the chain head at the rotation). Only statements signed by a key already
-- trusted from outside the database are followed, so writing this table adds no trust.
CREATE TABLE audit_key_endorsements (
    endorser  TEXT NOT NULL,
    endorsed  TEXT NOT NULL,
    relation  TEXT NOT NULL CHECK (relation IN ('predecessor', 'successor')),
    up_to_seq INTEGER NOT NULL,
    at        TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (endorser, endorsed, relation)
);
