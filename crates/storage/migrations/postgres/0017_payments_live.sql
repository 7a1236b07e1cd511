-- A payment's "live" mark (1 while pending, sent or paid; NULL once failed or reversed) replaces
-- the partial index on its state, as on SQLite (where the partial index was rewritten on every
-- state change): one rule, one index, on both backends. NULLs are distinct in a unique index: any
-- number of ended attempts per entitlement, one live one.
ALTER TABLE payments ADD COLUMN live SMALLINT DEFAULT 1 CHECK (live = 1);
UPDATE payments SET live = NULL WHERE state IN ('failed', 'reversed');
ALTER TABLE payments ADD CONSTRAINT payments_live_state
    CHECK ((live IS NULL) = (state IN ('failed', 'reversed')));
DROP INDEX payments_one_live;
CREATE UNIQUE INDEX payments_one_live ON payments (cycle_id, household_id, person_id, live);
-- With the state out of every index, a payment's updates (pending to sent, sent to paid) can stay
-- on their page (heap-only tuples, no index written) when the page has room: new pages keep half.
ALTER TABLE payments SET (fillfactor = 50);
