-- The notification outbox: a message is written in the same commit as the change it announces,
-- then claimed by a worker under a lease, sent, and marked. The recipient and the follow-up code
-- are sealed with the data key (the keyed hash finds a recipient's messages without opening them);
-- params holds only tokens (a reference, a status). `due_us` (microseconds since the epoch) is
-- when a queued or failed message may be claimed, or when an in-flight one's lease ends: one
-- index serves every claim.
CREATE TABLE outbox_messages (
    id               BIGSERIAL PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient_hash   TEXT NOT NULL,
    recipient_sealed TEXT NOT NULL,
    template         TEXT NOT NULL,
    language         TEXT NOT NULL,
    params           TEXT NOT NULL,
    code_sealed      TEXT,
    business_ref     TEXT,
    state            TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'in_flight', 'sent', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    due_us           BIGINT NOT NULL,
    lease_owner      TEXT,
    last_error       TEXT,
    provider_ref     TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
CREATE INDEX outbox_messages_due ON outbox_messages (due_us, id)
    WHERE state IN ('queued', 'failed', 'in_flight');
CREATE INDEX outbox_messages_state ON outbox_messages (state, id);
CREATE INDEX outbox_messages_business ON outbox_messages (business_ref) WHERE business_ref IS NOT NULL;
CREATE INDEX outbox_messages_recipient ON outbox_messages (recipient_hash);
