//! Consistent copies of a running ledger (SQLite online backup) and verified restore.

use std::fs;
use std::path::Path;

use countersign_core::ledger_event::Actor;
use rusqlite::OpenFlags;

use crate::clock::Clock;
use crate::error::{db_error, LedgerError};
use crate::event::NewEvent;
use crate::{open_connection, verify_connection, Checkpoint, Ledger};

impl Ledger {
    /// Writes a consistent copy of the ledger to `dest` with the SQLite online backup API,
    /// while the ledger stays open. Refuses to overwrite an existing file. The copy is
    /// verified before this returns.
    pub fn backup_to(&self, dest: &Path) -> Result<(), LedgerError> {
        if dest.exists() {
            return Err(LedgerError::Exists {
                path: dest.to_path_buf(),
            });
        }
        self.conn
            .backup(rusqlite::MAIN_DB, dest, None)
            .map_err(|e| db_error(dest, "writing the backup", e))?;
        let copy = open_connection(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let report = verify_connection(&copy, dest, &self.checkpoints()?)?;
        if let Some(problem) = report.problem {
            return Err(LedgerError::NotVerified {
                path: dest.to_path_buf(),
                problem,
            });
        }
        Ok(())
    }

    /// Restores a backup to `dest` (which must not exist): verifies the backup's chain, also
    /// against `checkpoints` kept outside it, copies it into place, opens it and records a
    /// `ledger.restored` event. A backup that does not verify is not used.
    pub fn restore(
        backup: &Path,
        dest: &Path,
        checkpoints: &[Checkpoint],
        clock: Box<dyn Clock>,
        actor: &Actor,
    ) -> Result<Ledger, LedgerError> {
        if dest.exists() {
            return Err(LedgerError::Exists {
                path: dest.to_path_buf(),
            });
        }
        {
            let src = open_connection(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let report = verify_connection(&src, backup, checkpoints)?;
            if let Some(problem) = report.problem {
                return Err(LedgerError::NotVerified {
                    path: backup.to_path_buf(),
                    problem,
                });
            }
        }
        // Copy through a temporary name so a failed copy never leaves a half ledger at `dest`.
        let mut tmp_name = dest
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        tmp_name.push(".restoring");
        let tmp = dest.with_file_name(tmp_name);
        {
            let src = open_connection(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            if tmp.exists() {
                fs::remove_file(&tmp).map_err(|source| LedgerError::Io {
                    path: tmp.clone(),
                    context: "removing a stale partial restore",
                    source,
                })?;
            }
            src.backup(rusqlite::MAIN_DB, &tmp, None)
                .map_err(|e| db_error(&tmp, "copying the backup", e))?;
        }
        fs::rename(&tmp, dest).map_err(|source| LedgerError::Io {
            path: dest.to_path_buf(),
            context: "moving the restored ledger into place at",
            source,
        })?;
        let mut ledger = Ledger::open(dest, clock)?;
        let report = ledger.verify_against(checkpoints)?;
        if let Some(problem) = report.problem {
            return Err(LedgerError::NotVerified {
                path: dest.to_path_buf(),
                problem,
            });
        }
        let head = report
            .head
            .map(|(s, h)| format!("seq {s} {h}"))
            .unwrap_or_default();
        ledger.append(
            &NewEvent::new(
                actor,
                "ledger.restored",
                "ledger",
                backup.display().to_string(),
            )
            .after(head),
        )?;
        Ok(ledger)
    }
}
