-- Schema 1: the audit trail, evidence objects, rejections and checkpoints.
-- Released migrations are never edited; changes go in a new numbered file.

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    time_utc    TEXT NOT NULL,
    utc_offset  TEXT NOT NULL,
    actor_arn   TEXT,
    actor_name  TEXT,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    reason      TEXT,
    prev_hash   BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash        BLOB NOT NULL UNIQUE CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX events_time ON events (time_utc);
CREATE INDEX events_object ON events (object_kind, object_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: events cannot be changed'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: events cannot be deleted'); END;

CREATE TABLE objects (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    size          INTEGER NOT NULL CHECK (size >= 0),
    uri           TEXT NOT NULL,
    bucket        TEXT,
    key           TEXT,
    version_id    TEXT,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('s3', 'import')),
    run_key       TEXT,
    event_seq     INTEGER NOT NULL REFERENCES events (seq),
    -- The source's user metadata (S3 x-amz-meta-*) as a JSON object of strings.
    metadata      TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE UNIQUE INDEX objects_identity
    ON objects (uri, ifnull(version_id, ''), ifnull(etag, ''), sha256);
CREATE INDEX objects_sha256 ON objects (sha256);
CREATE TRIGGER objects_no_update BEFORE UPDATE ON objects
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: objects cannot be changed'); END;
CREATE TRIGGER objects_no_delete BEFORE DELETE ON objects
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: objects cannot be deleted'); END;

CREATE TABLE rejections (
    id              INTEGER PRIMARY KEY,
    uri             TEXT NOT NULL,
    version_id      TEXT,
    etag            TEXT,
    reason          TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    expected_sha256 TEXT,
    actual_sha256   TEXT,
    rejected_at     TEXT NOT NULL,
    event_seq       INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER rejections_no_update BEFORE UPDATE ON rejections
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: rejections cannot be changed'); END;
CREATE TRIGGER rejections_no_delete BEFORE DELETE ON rejections
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: rejections cannot be deleted'); END;

CREATE TABLE checkpoints (
    id            INTEGER PRIMARY KEY,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    head_hash     BLOB NOT NULL CHECK (length(head_hash) = 32),
    time_utc      TEXT NOT NULL,
    public_key    BLOB NOT NULL CHECK (length(public_key) = 32),
    signature     BLOB NOT NULL CHECK (length(signature) = 64),
    published_uri TEXT,
    event_seq     INTEGER NOT NULL REFERENCES events (seq)
) STRICT;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: checkpoints cannot be changed'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: checkpoints cannot be deleted'); END;
