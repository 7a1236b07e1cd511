-- Phone numbers, sealed like national ids: a keyed hash for look-ups (not unique: a family may
-- share one phone) and the E.164 number encrypted; the key is outside the database. Rows written
-- before this migration have neither.
ALTER TABLE persons ADD COLUMN phone_hash TEXT;
ALTER TABLE persons ADD COLUMN phone_enc TEXT;
CREATE INDEX persons_phone ON persons (phone_hash);
