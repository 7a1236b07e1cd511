-- Documents Sanad issues (disability card, registration and eligibility attestations, AMO-Tadamon
-- card): one row per document with its signed payload (the canonical content, the key id and the
-- Ed25519 signature, as the PDF carries it), who issued it, and its revocation if any. The PDF is
-- not kept: it is rendered again from the payload, byte for byte the same.
--
-- The public keys of the certificate signing key, current and retired: the secret stays in a
-- file outside the database; a retired key is kept so that documents it signed still verify.
CREATE TABLE certificate_keys (
    key_id      TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    recorded_at TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX certificate_keys_one_active ON certificate_keys (status) WHERE status = 'active';

CREATE TABLE certificates (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    household_id      BIGINT NOT NULL REFERENCES households (id),
    person_id         BIGINT,
    -- The request whose last step issued it; one document per request.
    request_id        BIGINT UNIQUE REFERENCES service_requests (id),
    commune_code      TEXT NOT NULL,
    key_id            TEXT NOT NULL REFERENCES certificate_keys (key_id),
    payload           TEXT NOT NULL,
    issued_at         TIMESTAMPTZ NOT NULL,
    issued_by         TEXT NOT NULL,
    revoked_at        TIMESTAMPTZ,
    revoked_by        TEXT,
    revocation_reason TEXT,
    revocation_note   TEXT
);
CREATE INDEX certificates_household ON certificates (household_id, issued_at);
