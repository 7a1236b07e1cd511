-- Targeting and programmes (the TargetingStore and ProgrammeStore ports).

-- Index models: versioned data, never code. A published (id, version) never changes; one is active.
-- `variables` lists the model's variable codes (comma-separated) in the order in which a score's
-- effects are stored.
CREATE TABLE pmt_models (
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    description  TEXT NOT NULL,
    definition   TEXT NOT NULL,
    variables    TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    activated_at TEXT,
    active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX pmt_models_one_active ON pmt_models (active) WHERE active = 1;

-- The index of every scored household, for the household version and date it was computed from.
-- `effects`: each variable's effect on the index, as little-endian 16-bit integers in units of
-- 1/10,000 (two bytes a variable keep five million scores small), in the model's variable order.
CREATE TABLE household_scores (
    household_id      INTEGER PRIMARY KEY REFERENCES households (id),
    household_version INTEGER NOT NULL,
    model_id          TEXT NOT NULL,
    model_version     INTEGER NOT NULL,
    pmt_index         REAL NOT NULL,
    baseline          REAL NOT NULL,
    segment           TEXT NOT NULL,
    effects           BLOB NOT NULL,
    scored_on         TEXT NOT NULL,
    scored_at         TEXT NOT NULL,
    FOREIGN KEY (model_id, model_version) REFERENCES pmt_models (id, version)
);

-- Programme definitions (TOML), every version kept; the latest is in force.
CREATE TABLE programmes (
    code       TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    defined_by TEXT NOT NULL,
    defined_at TEXT NOT NULL,
    PRIMARY KEY (code, version)
);

-- The place of a household (person_id 0) or of a person in a programme. Households that were never
-- eligible have no row.
CREATE TABLE enrolments (
    programme_code    TEXT NOT NULL,
    household_id      INTEGER NOT NULL REFERENCES households (id),
    person_id         INTEGER NOT NULL DEFAULT 0,
    state             TEXT NOT NULL CHECK (state IN ('eligible', 'enrolled', 'suspended', 'exited')),
    reason            TEXT NOT NULL,
    since             TEXT NOT NULL,
    household_version INTEGER NOT NULL,
    programme_version INTEGER NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    flags             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (programme_code, household_id, person_id)
);
CREATE INDEX enrolments_household ON enrolments (household_id);
CREATE INDEX enrolments_state ON enrolments (programme_code, state, household_id);

-- Every change of state of an enrolment: from what, to what, why, by whom.
CREATE TABLE enrolment_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    programme_code    TEXT NOT NULL,
    household_id      INTEGER NOT NULL,
    person_id         INTEGER NOT NULL DEFAULT 0,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    actor             TEXT NOT NULL,
    at                TEXT NOT NULL,
    household_version INTEGER NOT NULL
);
CREATE INDEX enrolment_events_household ON enrolment_events (household_id, id);

-- Rescoring runs: each batch advances `last_household` in its own transaction, so an interrupted
-- run resumes where it stopped.
CREATE TABLE rescore_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id       TEXT,
    model_version  INTEGER,
    programmes     TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    last_household INTEGER,
    finished_at    TEXT,
    scored         INTEGER NOT NULL DEFAULT 0,
    transitions    INTEGER NOT NULL DEFAULT 0
);
