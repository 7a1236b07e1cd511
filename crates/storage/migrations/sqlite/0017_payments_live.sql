-- A payment's "live" mark (1 while pending, sent or paid; NULL once failed or reversed) replaces
-- the partial index on its state: the index that keeps one live attempt per entitlement is then
-- left alone by the updates that do not end an attempt (pending to sent at export, sent to paid at
-- reconciliation: all but a few per cent of the rows of a month), where SQLite rewrote it for every
-- row and evaluated the IN list of its condition each time. The checks on the state are written as
-- comparisons for the same reason (an IN list in a CHECK is evaluated as a small table on every
-- row written). Same rules as before; the table is rebuilt because SQLite cannot change a CHECK.
CREATE TABLE payments_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    cycle_id         INTEGER NOT NULL,
    household_id     INTEGER NOT NULL,
    person_id        INTEGER NOT NULL DEFAULT 0,
    batch_id         INTEGER NOT NULL REFERENCES payment_batches (id),
    attempt          INTEGER NOT NULL CHECK (attempt >= 1),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    kind             TEXT NOT NULL,
    means            TEXT NOT NULL,
    holder           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state = 'pending' OR state = 'sent' OR state = 'paid'
                                          OR state = 'failed' OR state = 'reversed'),
    reason_code      TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    booked_on        TEXT,
    reconciliation_id INTEGER,
    live             INTEGER DEFAULT 1 CHECK (live = 1),
    FOREIGN KEY (cycle_id, household_id, person_id) REFERENCES entitlements (cycle_id, household_id, person_id),
    UNIQUE (cycle_id, household_id, person_id, attempt),
    CHECK ((live IS NULL) = (state = 'failed' OR state = 'reversed'))
);
INSERT INTO payments_rebuilt (id, cycle_id, household_id, person_id, batch_id, attempt, amount, kind,
    means, holder, reference, state, reason_code, reason, booked_on, reconciliation_id, live)
SELECT id, cycle_id, household_id, person_id, batch_id, attempt, amount, kind, means, holder,
    reference, state, reason_code, reason, booked_on, reconciliation_id,
    CASE WHEN state = 'failed' OR state = 'reversed' THEN NULL ELSE 1 END
FROM payments ORDER BY id;
-- The ids keep counting from where they were (AUTOINCREMENT never gives an id twice).
INSERT INTO sqlite_sequence (name, seq)
SELECT 'payments_rebuilt', seq FROM sqlite_sequence WHERE name = 'payments'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'payments_rebuilt');
UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'payments'))
    WHERE name = 'payments_rebuilt' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'payments');
DROP TABLE payments;
ALTER TABLE payments_rebuilt RENAME TO payments;
-- NULLs are distinct in a unique index: any number of ended attempts, one live one.
CREATE UNIQUE INDEX payments_one_live ON payments (cycle_id, household_id, person_id, live);
CREATE INDEX payments_batch ON payments (batch_id, id);
CREATE INDEX payments_household ON payments (household_id, id);
