//! Writing a qualified-state check's change list or CloudTrail calls to a new CSV file (the
//! rows are made by `core::qualified_state::export`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use countersign_core::qualified_state::export::{changes_csv, events_csv};
use countersign_core::qualified_state::{EventRef, Findings};
use serde::Serialize;

use crate::error::ServiceError;
use crate::qualified_state::SystemOutcome;
use crate::Service;

/// Which list to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateList {
    /// Every change since approval, with its differences and assessment.
    Changes,
    /// Every CloudTrail call on the stacks' resources since approval.
    Events,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateExport {
    /// The file written.
    pub path: PathBuf,
    /// Data rows (the header not counted).
    pub rows: usize,
    /// Systems without an approved baseline, left out.
    pub not_qualified: Vec<String>,
}

impl Service {
    /// Checks the qualified state as [`Service::state`] does and writes `list` as CSV to a new
    /// file at `out` (never over an existing file, never into a missing folder; a failed write
    /// leaves no file).
    pub fn state_export(
        &self,
        system: Option<&str>,
        public_key: Option<(&str, &[u8])>,
        list: StateList,
        out: &Path,
    ) -> Result<StateExport, ServiceError> {
        let report = self.state(system, public_key)?;
        let mut findings: Vec<&Findings> = Vec::new();
        let mut calls: Vec<(&str, &[EventRef])> = Vec::new();
        let mut not_qualified = Vec::new();
        for s in &report.systems {
            match &s.state {
                SystemOutcome::Qualified {
                    findings: f,
                    events,
                } => {
                    findings.push(f);
                    calls.push((s.system.as_str(), events.as_slice()));
                }
                SystemOutcome::NotQualified { .. } => not_qualified.push(s.system.clone()),
            }
        }
        let (text, rows) = match list {
            StateList::Changes => (
                changes_csv(&findings),
                findings.iter().map(|f| f.changes.len()).sum(),
            ),
            StateList::Events => (events_csv(&calls), calls.iter().map(|(_, e)| e.len()).sum()),
        };
        let mut file = crate::audit::create_new(out)?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(out);
            return Err(ServiceError::storage(format!(
                "could not write {}: {e}",
                out.display()
            )));
        }
        Ok(StateExport {
            path: out.to_path_buf(),
            rows,
            not_qualified,
        })
    }
}
