-- Schema 3: a signer key's account and MFA device as columns, so they are read as typed
-- values instead of being picked out of the enrollment event's JSON. Backfilled from the
-- `key.enrolled` event each row names (every enrollment has recorded both since schema 2);
-- `ledger verify` compares the columns with that event from now on.
-- Released migrations are never edited; changes go in a new numbered file.

DROP TRIGGER signer_keys_no_update;
ALTER TABLE signer_keys ADD COLUMN account TEXT;
ALTER TABLE signer_keys ADD COLUMN mfa_serial TEXT;
UPDATE signer_keys
    SET account = (SELECT json_extract(e.after, '$.account') FROM events e
                   WHERE e.seq = signer_keys.event_seq),
        mfa_serial = (SELECT json_extract(e.after, '$.mfa_serial') FROM events e
                      WHERE e.seq = signer_keys.event_seq);
CREATE TRIGGER signer_keys_no_update BEFORE UPDATE ON signer_keys
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: signer keys cannot be changed'); END;
