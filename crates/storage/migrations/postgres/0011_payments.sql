-- Cycles and payments (the PaymentStore port). Amounts are in centimes.

-- How a household is paid: a bank account (RIB), a mobile wallet or a cash pick-up at an agency.
-- `details` is the means as JSON (checked by the service: a RIB with a wrong key never gets here).
CREATE TABLE payment_means (
    household_id BIGINT PRIMARY KEY REFERENCES households (id),
    kind         TEXT NOT NULL CHECK (kind IN ('bank', 'wallet', 'cash')),
    details      TEXT NOT NULL,
    holder       TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- A programme's payment round for one period. One cycle per programme and period; it is computed
-- (entitlements written batch by batch, `last_household` recording the progress), approved by a
-- second manager, then paid in batches.
CREATE TABLE cycles (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_code    TEXT NOT NULL,
    programme_version BIGINT NOT NULL,
    period            TEXT NOT NULL,
    period_start      DATE NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('computing', 'computed', 'approved', 'cancelled')),
    budget_cap        BIGINT CHECK (budget_cap IS NULL OR budget_cap >= 0),
    prepared_by       TEXT NOT NULL,
    prepared_at TIMESTAMPTZ NOT NULL,
    approved_by       TEXT,
    approved_at TIMESTAMPTZ,
    last_household    BIGINT,
    entitlements      BIGINT NOT NULL DEFAULT 0,
    total             BIGINT NOT NULL DEFAULT 0,
    skipped           BIGINT NOT NULL DEFAULT 0,
    UNIQUE (programme_code, period)
);

-- What a beneficiary (a household, person_id 0, or a person) is owed in a cycle, frozen with the
-- household version and index it was computed from.
CREATE TABLE entitlements (
    cycle_id          BIGINT NOT NULL REFERENCES cycles (id),
    household_id      BIGINT NOT NULL,
    person_id         BIGINT NOT NULL DEFAULT 0,
    household_version BIGINT NOT NULL,
    pmt_index         DOUBLE PRECISION,
    amount            BIGINT NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (cycle_id, household_id, person_id)
);

-- A file of payments for one means kind, sent to a provider.
CREATE TABLE payment_batches (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cycle_id     BIGINT NOT NULL REFERENCES cycles (id),
    kind         TEXT NOT NULL CHECK (kind IN ('bank', 'wallet', 'cash')),
    state        TEXT NOT NULL CHECK (state IN ('open', 'exported')),
    payments     BIGINT NOT NULL DEFAULT 0,
    total        BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    exported_at TIMESTAMPTZ,
    file_sha256  TEXT
);
CREATE INDEX payment_batches_cycle ON payment_batches (cycle_id, id);

-- One attempt to pay an entitlement. Its end-to-end id is derived from its id. At most one attempt
-- per entitlement is live (pending in an open batch, sent, or paid): a failed or reversed attempt
-- lets a later batch try again, nothing lets the same entitlement be paid twice.
CREATE TABLE payments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cycle_id         BIGINT NOT NULL,
    household_id     BIGINT NOT NULL,
    person_id        BIGINT NOT NULL DEFAULT 0,
    batch_id         BIGINT NOT NULL REFERENCES payment_batches (id),
    attempt          BIGINT NOT NULL CHECK (attempt >= 1),
    amount           BIGINT NOT NULL CHECK (amount > 0),
    kind             TEXT NOT NULL,
    means            TEXT NOT NULL,
    holder           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'paid', 'failed', 'reversed')),
    reason_code      TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    booked_on        DATE,
    reconciliation_id BIGINT,
    FOREIGN KEY (cycle_id, household_id, person_id) REFERENCES entitlements (cycle_id, household_id, person_id),
    UNIQUE (cycle_id, household_id, person_id, attempt)
);
CREATE UNIQUE INDEX payments_one_live ON payments (cycle_id, household_id, person_id)
    WHERE state IN ('pending', 'sent', 'paid');
CREATE INDEX payments_batch ON payments (batch_id, id);
CREATE INDEX payments_household ON payments (household_id, id);

-- Every answer file imported, once: the same file again changes nothing.
CREATE TABLE reconciliations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_sha256 TEXT NOT NULL UNIQUE,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL,
    lines       BIGINT NOT NULL,
    paid        BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    reversed    BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);

-- AMO-Tadamon adhesions: one per insured person and programme, sent to the insurer in a file and
-- accepted (with the insurer's number) or rejected by its answer. A rejected adhesion goes into a
-- later file.
CREATE TABLE adhesion_batches (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_code TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'exported')),
    adhesions      BIGINT NOT NULL DEFAULT 0,
    created_by     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    exported_at TIMESTAMPTZ,
    file_sha256    TEXT
);

CREATE TABLE adhesions (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_code TEXT NOT NULL,
    household_id   BIGINT NOT NULL,
    person_id      BIGINT NOT NULL,
    batch_id       BIGINT NOT NULL REFERENCES adhesion_batches (id),
    attempt        BIGINT NOT NULL CHECK (attempt >= 1),
    state          TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'rejected')),
    insurer_number TEXT NOT NULL DEFAULT '',
    reason_code    TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    answer_id      BIGINT,
    UNIQUE (programme_code, person_id, attempt)
);
CREATE UNIQUE INDEX adhesions_one_live ON adhesions (programme_code, person_id)
    WHERE state IN ('pending', 'sent', 'accepted');
CREATE INDEX adhesions_batch ON adhesions (batch_id, id);

CREATE TABLE adhesion_answers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_sha256 TEXT NOT NULL UNIQUE,
    file_name   TEXT NOT NULL,
    lines       BIGINT NOT NULL,
    accepted    BIGINT NOT NULL,
    rejected    BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);
