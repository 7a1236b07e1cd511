-- Targeting and programmes (the TargetingStore and ProgrammeStore ports).

-- Index models: versioned data, never code. A published (id, version) never changes; one is active.
-- `variables` lists the model's variable codes (comma-separated) in the order in which a score's
-- effects are stored.
CREATE TABLE pmt_models (
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL CHECK (version >= 1),
    description  TEXT NOT NULL,
    definition   TEXT NOT NULL,
    variables    TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  TIMESTAMPTZ NOT NULL,
    activated_at TIMESTAMPTZ,
    active       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX pmt_models_one_active ON pmt_models (active) WHERE active;

-- The index of every scored household, for the household version and date it was computed from.
-- `effects`: each variable's effect on the index, as little-endian 16-bit integers in units of
-- 1/10,000 (two bytes a variable keep five million scores small), in the model's variable order.
CREATE TABLE household_scores (
    household_id      BIGINT PRIMARY KEY REFERENCES households (id),
    household_version BIGINT NOT NULL,
    model_id          TEXT NOT NULL,
    model_version     BIGINT NOT NULL,
    pmt_index         DOUBLE PRECISION NOT NULL,
    baseline          DOUBLE PRECISION NOT NULL,
    segment           TEXT NOT NULL,
    effects           BYTEA NOT NULL,
    scored_on         DATE NOT NULL,
    scored_at         TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (model_id, model_version) REFERENCES pmt_models (id, version)
);

-- Programme definitions (TOML), every version kept; the latest is in force.
CREATE TABLE programmes (
    code       TEXT NOT NULL,
    version    BIGINT NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    defined_by TEXT NOT NULL,
    defined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, version)
);

-- The place of a household (person_id 0) or of a person in a programme. Households that were never
-- eligible have no row.
CREATE TABLE enrolments (
    programme_code    TEXT NOT NULL,
    household_id      BIGINT NOT NULL REFERENCES households (id),
    person_id         BIGINT NOT NULL DEFAULT 0,
    state             TEXT NOT NULL CHECK (state IN ('eligible', 'enrolled', 'suspended', 'exited')),
    reason            TEXT NOT NULL,
    since             TIMESTAMPTZ NOT NULL,
    household_version BIGINT NOT NULL,
    programme_version BIGINT NOT NULL,
    amount            BIGINT NOT NULL CHECK (amount >= 0),
    flags             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (programme_code, household_id, person_id)
);
CREATE INDEX enrolments_household ON enrolments (household_id);
CREATE INDEX enrolments_state ON enrolments (programme_code, state, household_id);

-- Every change of state of an enrolment: from what, to what, why, by whom.
CREATE TABLE enrolment_events (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_code    TEXT NOT NULL,
    household_id      BIGINT NOT NULL,
    person_id         BIGINT NOT NULL DEFAULT 0,
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    actor             TEXT NOT NULL,
    at                TIMESTAMPTZ NOT NULL,
    household_version BIGINT NOT NULL
);
CREATE INDEX enrolment_events_household ON enrolment_events (household_id, id);

-- Rescoring runs: each batch advances `last_household` in its own transaction, so an interrupted
-- run resumes where it stopped.
CREATE TABLE rescore_runs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id       TEXT,
    model_version  BIGINT,
    programmes     TEXT NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    last_household BIGINT,
    finished_at    TIMESTAMPTZ,
    scored         BIGINT NOT NULL DEFAULT 0,
    transitions    BIGINT NOT NULL DEFAULT 0
);
