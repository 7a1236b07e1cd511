-- OpenID Connect logins in progress, in the database rather than in one server's memory: any instance
-- behind a load balancer can finish a login another started, and a restart loses none. Kept under the
-- SHA-256 of their state; each is taken once, and only until it expires (ten minutes).
CREATE TABLE login_flows (
    state_hash   TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    next         TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_flows_expiry ON login_flows (expires_at);
