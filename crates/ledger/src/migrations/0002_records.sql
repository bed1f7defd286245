-- Schema 2: runs, dispositions, signer keys, signatures and packages.
-- Released migrations are never edited; changes go in a new numbered file.

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    run_key       TEXT NOT NULL UNIQUE,
    system        TEXT NOT NULL,
    phase         TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    event_seq     INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER runs_no_update BEFORE UPDATE ON runs
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: runs cannot be changed'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: runs cannot be deleted'); END;

-- A run's state is the latest disposition; earlier ones stay.
CREATE TABLE dispositions (
    id          INTEGER PRIMARY KEY,
    run_key     TEXT NOT NULL REFERENCES runs (run_key),
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    actor_arn   TEXT,
    actor_name  TEXT,
    decided_at  TEXT NOT NULL,
    event_seq   INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER dispositions_no_update BEFORE UPDATE ON dispositions
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: dispositions cannot be changed'); END;
CREATE TRIGGER dispositions_no_delete BEFORE DELETE ON dispositions
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: dispositions cannot be deleted'); END;

-- One key per person, never reassigned: enrollment binds IAM identity, printed name and key.
CREATE TABLE signer_keys (
    id           INTEGER PRIMARY KEY,
    key_id       TEXT NOT NULL UNIQUE,
    public_key   BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
    iam_arn      TEXT NOT NULL,
    printed_name TEXT NOT NULL,
    enrolled_at  TEXT NOT NULL,
    event_seq    INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER signer_keys_no_update BEFORE UPDATE ON signer_keys
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: signer keys cannot be changed'); END;
CREATE TRIGGER signer_keys_no_delete BEFORE DELETE ON signer_keys
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: signer keys cannot be deleted'); END;

CREATE TABLE signatures (
    id             INTEGER PRIMARY KEY,
    subject_kind   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    subject_sha256 TEXT NOT NULL CHECK (length(subject_sha256) = 64),
    meaning        TEXT NOT NULL,
    key_id         TEXT NOT NULL REFERENCES signer_keys (key_id),
    printed_name   TEXT NOT NULL,
    signed_at      TEXT NOT NULL,
    utc_offset     TEXT NOT NULL,
    envelope       BLOB NOT NULL,
    event_seq      INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE INDEX signatures_subject ON signatures (subject_kind, subject_id);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: signatures cannot be changed'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: signatures cannot be deleted'); END;

CREATE TABLE packages (
    id         INTEGER PRIMARY KEY,
    run_key    TEXT NOT NULL,
    sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    file_name  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER packages_no_update BEFORE UPDATE ON packages
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: packages cannot be changed'); END;
CREATE TRIGGER packages_no_delete BEFORE DELETE ON packages
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: packages cannot be deleted'); END;
