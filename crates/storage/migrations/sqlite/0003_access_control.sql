-- Access control: an account's territorial scope (codes of regions, provinces or communes, `;`
-- separated; empty = the whole country), a citizen's own household, lock-out after failed logins;
-- API keys with scopes and revocation; signed checkpoints of the audit chain.

ALTER TABLE accounts ADD COLUMN territories TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN household_id INTEGER REFERENCES households (id);
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TEXT;

ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN revoked_at TEXT;

CREATE INDEX access_log_actor ON access_log (actor, id);

CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    at         TEXT NOT NULL,
    -- Ed25519 signature (hex) of "sanad-audit-checkpoint\n{seq}\n{hash}\n{at}" by the key below.
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
);
