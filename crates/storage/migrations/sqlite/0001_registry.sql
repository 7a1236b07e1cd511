-- The household registry, its versions, the audit chain, the access log and the demo-level accounts.
-- Integers: registry ids are the serial part of `H…`/`P…` identifiers; money is in centimes.

CREATE TABLE territories (
    code            TEXT PRIMARY KEY,
    level           TEXT NOT NULL CHECK (level IN ('region', 'province', 'commune')),
    name_fr         TEXT NOT NULL,
    name_ar         TEXT NOT NULL,
    parent_code     TEXT,
    region_code     TEXT NOT NULL,
    area            TEXT CHECK (area IN ('urban', 'rural')),
    iso_3166_2      TEXT,
    population_2024 INTEGER NOT NULL
);

CREATE TABLE id_counters (
    kind        TEXT PRIMARY KEY,
    next_serial INTEGER NOT NULL
);
INSERT INTO id_counters (kind, next_serial) VALUES ('household', 1), ('person', 1);

CREATE TABLE households (
    id                   INTEGER PRIMARY KEY,
    version              INTEGER NOT NULL CHECK (version >= 1),
    region_code          TEXT NOT NULL,
    province_code        TEXT NOT NULL,
    commune_code         TEXT NOT NULL REFERENCES territories (code),
    area                 TEXT NOT NULL CHECK (area IN ('urban', 'rural')),
    address              TEXT NOT NULL,
    dwelling_type        TEXT NOT NULL,
    tenure               TEXT NOT NULL,
    rooms                INTEGER NOT NULL CHECK (rooms >= 0),
    water_spending       INTEGER NOT NULL CHECK (water_spending >= 0),
    electricity_spending INTEGER NOT NULL CHECK (electricity_spending >= 0),
    phone_spending       INTEGER NOT NULL CHECK (phone_spending >= 0),
    gas_spending         INTEGER NOT NULL CHECK (gas_spending >= 0),
    assets               TEXT NOT NULL,
    declared_income      INTEGER NOT NULL CHECK (declared_income >= 0),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX households_region ON households (region_code, id);
CREATE INDEX households_province ON households (province_code, id);
CREATE INDEX households_commune ON households (commune_code, id);

CREATE TABLE persons (
    id            INTEGER PRIMARY KEY,
    -- One column, so a person is in at most one household at a time; NULL after leaving it.
    household_id  INTEGER REFERENCES households (id),
    relation      TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    first_name_ar TEXT,
    last_name_ar  TEXT,
    sex           TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date    TEXT NOT NULL,
    -- The national id, encrypted (hex of nonce, ciphertext and tag) and as a keyed hash for
    -- look-ups and uniqueness; the key is outside the database.
    national_id_hash TEXT,
    national_id_enc  TEXT,
    disability    TEXT NOT NULL,
    schooling     TEXT NOT NULL,
    occupation    TEXT NOT NULL,
    search_name   TEXT NOT NULL
);
CREATE INDEX persons_household ON persons (household_id);
CREATE UNIQUE INDEX persons_national_id ON persons (national_id_hash);
-- At most one head per household (the application checks "exactly one").
CREATE UNIQUE INDEX persons_one_head ON persons (household_id) WHERE relation = 'head';

CREATE TABLE household_versions (
    household_id INTEGER NOT NULL REFERENCES households (id),
    version      INTEGER NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    -- The household as JSON after this change. NULL only for the current version of a household
    -- written by a bulk import: its state is then the household's current row, and the first update
    -- fills the snapshot in before changing that row.
    snapshot     TEXT,
    PRIMARY KEY (household_id, version)
) WITHOUT ROWID;

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

-- The end of the audit chain; every writer updates it in its transaction.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE access_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    purpose     TEXT NOT NULL
);
CREATE INDEX access_log_entity ON access_log (entity_type, entity_id);

CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL
);

CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts (username)
);
