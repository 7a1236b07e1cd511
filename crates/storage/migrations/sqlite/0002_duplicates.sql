-- Deduplication: candidate pairs awaiting review, and merges of one person into another (undoable).

ALTER TABLE persons ADD COLUMN merged_into INTEGER REFERENCES persons (id);

CREATE TABLE duplicate_pairs (
    id           INTEGER PRIMARY KEY,
    -- person_a < person_b, so that a pair is stored once.
    person_a     INTEGER NOT NULL REFERENCES persons (id),
    person_b     INTEGER NOT NULL REFERENCES persons (id),
    probability  REAL NOT NULL,
    -- Per-field explanation (JSON) from the matching model.
    explanation  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    found_at     TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    CHECK (person_a < person_b),
    UNIQUE (person_a, person_b)
);
CREATE INDEX duplicate_pairs_status ON duplicate_pairs (status, id);

CREATE TABLE person_merges (
    id                  INTEGER PRIMARY KEY,
    kept_person         INTEGER NOT NULL REFERENCES persons (id),
    merged_person       INTEGER NOT NULL REFERENCES persons (id),
    -- Where the merged person was, to put them back on undo.
    former_household_id INTEGER REFERENCES households (id),
    former_relation     TEXT NOT NULL,
    at                  TEXT NOT NULL,
    actor               TEXT NOT NULL,
    reason              TEXT NOT NULL,
    undone_at           TEXT,
    undone_by           TEXT
);
CREATE INDEX person_merges_merged ON person_merges (merged_person);
