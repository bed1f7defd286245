//! Helpers shared by the ledger's integration tests.
// Test helpers outside #[test] functions may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use countersign_core::clock::{Clock, SteppingClock};
use countersign_core::digest::Sha256;
use countersign_ledger::{Actor, Ledger, NewEvent, NewObject, SourceKind};
use time::macros::datetime;

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SteppingClock::new(
        datetime!(2026-03-01 09:00:00 +01:00),
        1000,
    ))
}

pub fn home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    (dir, path)
}

pub fn open(path: &Path) -> Ledger {
    Ledger::open(path, clock()).unwrap()
}

pub fn alice() -> Actor {
    Actor::person("arn:aws:iam::123456789012:user/alice", "Alice Martin")
}

pub fn object(n: u32) -> NewObject {
    NewObject {
        sha256: Sha256::of(format!("object {n}").as_bytes()),
        size: 100 + u64::from(n),
        uri: format!("s3://qual-evidence/erp/OQ/run-1/file-{n}.xml"),
        bucket: Some("qual-evidence".into()),
        key: Some(format!("erp/OQ/run-1/file-{n}.xml")),
        version_id: Some(format!("v{n}")),
        etag: Some(format!("\"etag{n}\"")),
        last_modified: Some("2026-02-28T12:00:00Z".into()),
        source: SourceKind::S3,
        run_key: Some("erp/OQ/run-1".into()),
    }
}

pub fn note(n: u32) -> NewEvent {
    NewEvent::new(&alice(), "test.note", "test", format!("note-{n}")).after(format!("value {n}"))
}

/// A raw connection for tampering, bypassing the ledger (no defensive mode).
pub fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The number of entries in a new ledger: `ledger.created`, then one `ledger.migrated` per
/// later schema version.
pub const BASE: u64 = countersign_ledger::SCHEMA_VERSION as u64;

/// The time the stepping clock gives the entry after `n` readings (one reading per entry).
pub fn stepped(n: u64) -> String {
    let t = datetime!(2026-03-01 08:00:00 UTC) + time::Duration::seconds(n as i64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
