-- Deduplication: candidate pairs awaiting review, and merges of one person into another (undoable).

ALTER TABLE persons ADD COLUMN merged_into BIGINT REFERENCES persons (id);

CREATE TABLE duplicate_pairs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- person_a < person_b, so that a pair is stored once.
    person_a     BIGINT NOT NULL REFERENCES persons (id),
    person_b     BIGINT NOT NULL REFERENCES persons (id),
    probability  DOUBLE PRECISION NOT NULL,
    -- Per-field explanation (JSON) from the matching model.
    explanation  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    found_at     TIMESTAMPTZ NOT NULL,
    decided_by   TEXT,
    decided_at   TIMESTAMPTZ,
    CHECK (person_a < person_b),
    UNIQUE (person_a, person_b)
);
CREATE INDEX duplicate_pairs_status ON duplicate_pairs (status, id);

CREATE TABLE person_merges (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kept_person         BIGINT NOT NULL REFERENCES persons (id),
    merged_person       BIGINT NOT NULL REFERENCES persons (id),
    -- Where the merged person was, to put them back on undo.
    former_household_id BIGINT REFERENCES households (id),
    former_relation     TEXT NOT NULL,
    at                  TIMESTAMPTZ NOT NULL,
    actor               TEXT NOT NULL,
    reason              TEXT NOT NULL,
    undone_at           TIMESTAMPTZ,
    undone_by           TEXT
);
CREATE INDEX person_merges_merged ON person_merges (merged_person);
