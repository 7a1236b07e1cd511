-- Changes a household declares (a citizen online, or an agent for them): what changed, when, and
-- the documents given, stored once by content (their SHA-256).
CREATE TABLE declarations (
    id            BIGSERIAL PRIMARY KEY,
    household_id  BIGINT NOT NULL REFERENCES households (id),
    region_code   TEXT NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    details       TEXT NOT NULL,
    happened_on   TEXT,
    status        TEXT NOT NULL DEFAULT 'received',
    declared_by   TEXT NOT NULL,
    declared_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX declarations_household ON declarations (household_id, id);
CREATE INDEX declarations_commune ON declarations (commune_code, id);

CREATE TABLE documents (
    sha256     TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    content    BYTEA NOT NULL
);

CREATE TABLE declaration_documents (
    declaration_id BIGINT NOT NULL REFERENCES declarations (id),
    sha256         TEXT NOT NULL REFERENCES documents (sha256),
    name           TEXT NOT NULL,
    PRIMARY KEY (declaration_id, sha256)
);
