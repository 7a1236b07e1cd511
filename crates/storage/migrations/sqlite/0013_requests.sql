-- E-service requests and complaints: one row per request, where it stands and whose queue it is
-- in; one row per step it entered (who moved it, why, when it was due, when it left), which is
-- both its history and what the bottleneck report reads (its times in Unix seconds: a million
-- requests' visits are read as numbers, not parsed as text); its documents; the citizen's rating.
CREATE TABLE service_requests (
    id                 INTEGER PRIMARY KEY,
    reference          TEXT NOT NULL UNIQUE,
    -- SHA-256 of a pepper and the short follow-up secret given to the citizen, never the secret.
    secret_digest      TEXT NOT NULL,
    kind               TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    household_id       INTEGER REFERENCES households (id),
    region_code        TEXT NOT NULL,
    province_code      TEXT NOT NULL,
    commune_code       TEXT NOT NULL,
    centre             TEXT NOT NULL,
    step               TEXT NOT NULL,
    -- The role whose queue the request is in (the step's, or the one it escalated to).
    queue_role         TEXT NOT NULL,
    due_at             TEXT,
    escalation_level   INTEGER NOT NULL DEFAULT 0,
    state              TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    outcome            TEXT,
    subject            TEXT,
    category           TEXT,
    channel            TEXT NOT NULL,
    details            TEXT NOT NULL,
    answer             TEXT,
    submitted_by       TEXT NOT NULL,
    assisted           INTEGER NOT NULL DEFAULT 0,
    submitted_at       TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    closed_at          TEXT,
    -- Optimistic concurrency: every move names the version it read.
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX service_requests_queue ON service_requests (state, centre, queue_role, due_at);
CREATE INDEX service_requests_commune ON service_requests (commune_code, id);
CREATE INDEX service_requests_province ON service_requests (province_code, id);
CREATE INDEX service_requests_region ON service_requests (region_code, id);
CREATE INDEX service_requests_household ON service_requests (household_id, id);
CREATE INDEX service_requests_due ON service_requests (state, due_at);

CREATE TABLE request_steps (
    request_id INTEGER NOT NULL REFERENCES service_requests (id),
    seq        INTEGER NOT NULL,
    step       TEXT NOT NULL,
    from_step  TEXT,
    action     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    entered_at BIGINT NOT NULL,
    due_at     BIGINT,
    left_at    BIGINT,
    PRIMARY KEY (request_id, seq)
);

CREATE TABLE request_documents (
    request_id INTEGER NOT NULL REFERENCES service_requests (id),
    sha256     TEXT NOT NULL,
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    step       TEXT NOT NULL,
    PRIMARY KEY (request_id, sha256)
);

CREATE TABLE request_ratings (
    request_id INTEGER PRIMARY KEY REFERENCES service_requests (id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    TEXT NOT NULL DEFAULT '',
    rated_at   TEXT NOT NULL
);

-- Public reference numbers count per family and year.
CREATE TABLE request_counters (
    prefix TEXT NOT NULL,
    year   INTEGER NOT NULL,
    next   INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);
