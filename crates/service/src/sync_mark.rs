//! What the last sync brought: each finished fetch or import is recorded (`sync.completed`,
//! with what it listed and stored), and a run is *new since the last sync* when an object of
//! it was recorded after the sync before the last one: what the latest sync brought, and
//! anything stored since. Derived from the ledger each time; nothing else is stored.

use std::collections::BTreeSet;

use countersign_ledger::{Actor, NewEvent};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::Service;

/// The audit-trail action of a finished fetch or import.
pub const SYNC_COMPLETED: &str = "sync.completed";

/// The schema of a `sync.completed` entry's `after` (docs/ledger-format.md).
pub const SYNC_TALLY_SCHEMA_V1: &str = "countersign.sync-tally/v1";

/// What a finished sync did, as recorded in its `sync.completed` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SyncTally {
    /// `s3://bucket/prefix` or `file://path`.
    pub source: String,
    pub listed: u64,
    pub new: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub failed: u64,
}

impl SyncTally {
    /// The entry's `after`: canonical JSON (RFC 8785) with its schema, frozen
    /// (docs/ledger-format.md "Finished syncs").
    fn entry(&self) -> Option<String> {
        #[derive(Serialize)]
        struct Entry<'a> {
            schema: &'static str,
            #[serde(flatten)]
            tally: &'a SyncTally,
        }
        let entry = Entry {
            schema: SYNC_TALLY_SCHEMA_V1,
            tally: self,
        };
        countersign_core::canonical::canonical_json(&entry)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    }
}

impl Service {
    /// Records that a fetch or import finished (`sync.completed`, by `actor`). A record of
    /// what was done, never needed to read the store: when it cannot be written, the sync's
    /// objects are recorded all the same and the next sync marks what is new.
    pub(crate) fn record_sync(&self, actor: &Actor, tally: &SyncTally) {
        let Some(after) = tally.entry() else {
            return;
        };
        let event = NewEvent::new(actor, SYNC_COMPLETED, "home", "sync").after(after);
        if let Ok(mut ledger) = self.ledger() {
            let _ = ledger.append(&event);
        }
    }

    /// The runs (`SYSTEM/PHASE/RUN-ID`) new since the last sync: with an object recorded
    /// after the sync before the last one (every run, after the first sync). Empty before any
    /// sync finished.
    pub fn new_since_last_sync(&self) -> Result<BTreeSet<String>, ServiceError> {
        let ledger = self.ledger()?;
        let syncs = ledger
            .recent_events_about("home", "sync", SYNC_COMPLETED, 2)
            .map_err(err::from_ledger)?;
        match syncs.as_slice() {
            [] => Ok(BTreeSet::new()),
            [_only] => ledger.runs_stored_after(0).map_err(err::from_ledger),
            [_last, before, ..] => ledger
                .runs_stored_after(before.event.seq)
                .map_err(err::from_ledger),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_entry_is_version_1_with_frozen_bytes() {
        let tally = SyncTally {
            source: "s3://qualification-evidence/gxp/".into(),
            listed: 160,
            new: 1,
            unchanged: 159,
            rejected: 0,
            failed: 0,
        };
        assert_eq!(
            tally.entry().as_deref(),
            Some(
                r#"{"failed":0,"listed":160,"new":1,"rejected":0,"schema":"countersign.sync-tally/v1","source":"s3://qualification-evidence/gxp/","unchanged":159}"#
            )
        );
    }
}
