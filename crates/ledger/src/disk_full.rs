//! A full disk: an append that needs a page the file system cannot give fails as a whole,
//! says so, and leaves the ledger verifiable. The disk is made "full" by capping the database's
//! page count, which SQLite reports exactly as a full file system (`SQLITE_FULL`).

use crate::event::NewEvent;
use crate::schema::SCHEMA_VERSION;
use crate::test_support::{dana, open};
use crate::{Ledger, LedgerError};

impl Ledger {
    /// Caps the database at `pages` pages (at least its current size), so the next append that
    /// needs a new page fails as a full disk would. Lasts until the ledger is closed.
    fn cap_size(&self, pages: u32) -> Result<(), LedgerError> {
        self.conn
            .pragma_update(None, "max_page_count", pages)
            .map_err(|e| crate::error::db_error(&self.path, "capping the ledger size", e))
    }
}

fn note(n: u32) -> NewEvent {
    NewEvent::new(&dana(), "test.note", "test", format!("note-{n}")).after(format!("value {n}"))
}

#[test]
fn a_full_disk_records_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(&dir);
    l.cap_size(1).unwrap();
    let mut recorded = 0u32;
    let err = loop {
        let batch: Vec<NewEvent> = (0..10)
            .map(|i| note(recorded + i).after("y".repeat(3000)))
            .collect();
        match l.append_batch(&batch) {
            Ok(_) => recorded += 10,
            Err(e) => break e,
        }
        assert!(recorded < 100_000, "the size cap never took effect");
    };
    assert!(matches!(err, LedgerError::DiskFull { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is full; nothing was recorded"),
        "{err}"
    );
    // It keeps failing cleanly, and the ledger stays whole.
    let big = note(0).after("w".repeat(50_000));
    assert!(matches!(l.append(&big), Err(LedgerError::DiskFull { .. })));
    assert_eq!(
        l.event_count().unwrap(),
        SCHEMA_VERSION as u64 + u64::from(recorded)
    );
    assert!(l.verify().unwrap().is_ok());
    drop(l);
    let l = open(&dir);
    assert_eq!(
        l.event_count().unwrap(),
        SCHEMA_VERSION as u64 + u64::from(recorded)
    );
    assert!(l.verify().unwrap().is_ok());
}
