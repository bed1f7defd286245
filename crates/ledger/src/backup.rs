//! Consistent copies of a running ledger (SQLite online backup) and verified restore.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use countersign_core::clock::Clock;
use countersign_core::ledger_event::Actor;
use rusqlite::{Connection, OpenFlags};

use crate::clock::utc_text;
use crate::error::{db_error, LedgerError};
use crate::event::NewEvent;
use crate::lock::LedgerLock;
use crate::{open_connection, verify_connection, Checkpoint, Ledger, SCHEMA_VERSION};

/// Action of the event recording a backup.
pub const LEDGER_BACKED_UP: &str = "ledger.backed_up";
/// Action of the event recording a restore.
pub const LEDGER_RESTORED: &str = "ledger.restored";

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupInfo {
    /// The copy.
    pub path: std::path::PathBuf,
    /// Events in the copy.
    pub events: u64,
    /// The copy's last entry and its hash (hex).
    pub head_seq: u64,
    /// Hash of the copy's last entry (hex).
    pub head_hash: String,
}

/// A restore that replaced a ledger.
#[derive(Debug)]
pub struct Restored {
    /// The restored ledger, open, with its `ledger.restored` event recorded.
    pub ledger: Ledger,
    /// Where the ledger that was in place was moved to (never deleted), if there was one.
    pub set_aside: Option<std::path::PathBuf>,
}

/// Actions a ledger has before anyone used it.
const HOUSEKEEPING: [&str; 2] = ["ledger.created", "ledger.migrated"];

/// Moves `path` and its WAL/shared-memory files to `<path>.before-restore-<stamp>` (a new
/// name; nothing is overwritten).
fn set_aside(path: &Path, stamp: &str) -> Result<std::path::PathBuf, LedgerError> {
    let with_suffix = |p: &Path, suffix: &str| {
        let mut n = p.as_os_str().to_os_string();
        n.push(suffix);
        std::path::PathBuf::from(n)
    };
    let mut aside = with_suffix(path, &format!(".before-restore-{stamp}"));
    let mut i = 1;
    while aside.exists() {
        aside = with_suffix(path, &format!(".before-restore-{stamp}-{i}"));
        i += 1;
    }
    for suffix in ["-wal", "-shm"] {
        let side = with_suffix(path, suffix);
        if side.exists() {
            fs::rename(&side, with_suffix(&aside, suffix)).map_err(|source| LedgerError::Io {
                path: side.clone(),
                context: "setting aside the ledger file",
                source,
            })?;
        }
    }
    // A second name for the ledger in place: it stays at `path` until the restored copy
    // replaces it in one rename, so a restore killed at any point leaves a ledger at `path`.
    fs::hard_link(path, &aside).map_err(|source| LedgerError::Io {
        path: path.to_path_buf(),
        context: "setting aside the ledger",
        source,
    })?;
    Ok(aside)
}

/// The temporary name a restore copies the backup to, beside `dest`.
pub(crate) fn restoring_path(dest: &Path) -> std::path::PathBuf {
    let mut tmp_name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(".restoring");
    dest.with_file_name(tmp_name)
}

/// Copies the verified backup to the temporary name beside `dest`, synced.
fn copy_to_restoring(backup: &Path, dest: &Path) -> Result<std::path::PathBuf, LedgerError> {
    let tmp = restoring_path(dest);
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
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|source| LedgerError::Io {
            path: tmp.clone(),
            context: "syncing the restored copy",
            source,
        })?;
    Ok(tmp)
}

impl Ledger {
    /// Writes a consistent copy of the ledger to `dest` with the SQLite online backup API,
    /// while the ledger stays open. Refuses to overwrite an existing file. The copy is
    /// verified before this returns.
    pub fn backup_to(&self, dest: &Path) -> Result<(), LedgerError> {
        // Reserve the name atomically, so a file that appears meanwhile is never overwritten;
        // SQLite then writes the copy into the empty file.
        match fs::File::options().write(true).create_new(true).open(dest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LedgerError::Exists {
                    path: dest.to_path_buf(),
                })
            }
            Err(source) => {
                return Err(LedgerError::Io {
                    path: dest.to_path_buf(),
                    context: "creating the backup file",
                    source,
                })
            }
        }
        if let Err(e) = self.conn.backup(rusqlite::MAIN_DB, dest, None) {
            // The file is ours (created above): leave no half copy behind.
            let _ = fs::remove_file(dest);
            return Err(db_error(dest, "writing the backup", e));
        }
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

    /// [`Ledger::backup_to`], then records a `ledger.backed_up` event naming the copy and the
    /// head it holds. The copy does not contain its own event.
    pub fn backup(&mut self, dest: &Path, actor: &Actor) -> Result<BackupInfo, LedgerError> {
        self.backup_to(dest)?;
        let copy = open_connection(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let report = verify_connection(&copy, dest, &[])?;
        drop(copy);
        let (head_seq, head_hash) = report
            .head
            .map(|(s, h)| (s, h.to_hex()))
            .unwrap_or_default();
        let info = BackupInfo {
            path: dest.to_path_buf(),
            events: report.events,
            head_seq,
            head_hash,
        };
        let after = serde_json::json!({
            "events": info.events,
            "head_seq": info.head_seq,
            "head_hash": info.head_hash,
        });
        self.append(
            &NewEvent::new(
                actor,
                LEDGER_BACKED_UP,
                "ledger",
                dest.display().to_string(),
            )
            .after(after.to_string()),
        )?;
        Ok(info)
    }

    /// Restores a backup over the ledger at `dest`. When `dest` holds a ledger in use (any
    /// entry besides its creation and migrations), refuses unless `replace`; the backup must
    /// then also agree with that ledger's checkpoints, so an older copy cannot silently roll
    /// it back. The ledger in place is moved aside (never deleted) under the instance lock,
    /// then [`Ledger::restore`]'s checks and `ledger.restored` event follow.
    pub fn restore_over(
        backup: &Path,
        dest: &Path,
        checkpoints: &[Checkpoint],
        clock: Arc<dyn Clock>,
        actor: &Actor,
        replace: bool,
    ) -> Result<Restored, LedgerError> {
        let lock = LedgerLock::acquire(dest)?;
        let mut all = checkpoints.to_vec();
        if dest.exists() {
            // A damaged ledger in place counts as in use: only `replace` moves it.
            let in_place = open_connection(dest, OpenFlags::SQLITE_OPEN_READ_ONLY).and_then(|c| {
                let used: i64 = c
                    .query_row(
                        "SELECT count(*) FROM events WHERE action NOT IN (?1, ?2)",
                        HOUSEKEEPING,
                        |r| r.get(0),
                    )
                    .map_err(|e| db_error(dest, "reading the ledger in place", e))?;
                Ok((used, crate::checkpoint::read_checkpoints(&c, dest)?))
            });
            let used = match &in_place {
                Ok((used, _)) => *used > 0,
                Err(_) => true,
            };
            if used && !replace {
                return Err(LedgerError::InUse {
                    path: dest.to_path_buf(),
                    detail: match in_place {
                        Ok((n, _)) => format!("it holds {n} recorded entries"),
                        Err(e) => format!("it cannot be read: {e}"),
                    },
                });
            }
            if let Ok((_, own)) = in_place {
                all.extend(own);
            }
        }
        Self::check_backup(backup, &all)?;
        // The copy is made whole first; the ledger in place gets its second name; then one
        // rename replaces it. At no point is there no ledger at `dest`.
        let tmp = copy_to_restoring(backup, dest)?;
        let set_aside = if dest.exists() {
            let stamp = utc_text(clock.now())?.replace([':', '.'], "");
            Some(set_aside(dest, &stamp)?)
        } else {
            None
        };
        fs::rename(&tmp, dest).map_err(|source| LedgerError::Io {
            path: dest.to_path_buf(),
            context: "moving the restored ledger into place at",
            source,
        })?;
        let ledger =
            Self::open_restored(backup, dest, &all, clock, actor, lock, set_aside.as_deref())?;
        Ok(Restored { ledger, set_aside })
    }

    fn check_backup(backup: &Path, checkpoints: &[Checkpoint]) -> Result<(), LedgerError> {
        if !backup.is_file() {
            return Err(LedgerError::Io {
                path: backup.to_path_buf(),
                context: "reading the backup",
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let src = open_connection(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let version: i64 = src
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_error(backup, "reading the backup", e))?;
        if version == 0 || version > SCHEMA_VERSION {
            return Err(LedgerError::Corrupt {
                path: backup.to_path_buf(),
                detail: format!(
                    "schema version {version}; this Countersign reads 1 to {SCHEMA_VERSION}"
                ),
            });
        }
        let report = verify_connection(&src, backup, checkpoints)?;
        if let Some(problem) = report.problem {
            return Err(LedgerError::NotVerified {
                path: backup.to_path_buf(),
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
        clock: Arc<dyn Clock>,
        actor: &Actor,
    ) -> Result<Ledger, LedgerError> {
        let lock = LedgerLock::acquire(dest)?;
        Self::check_backup(backup, checkpoints)?;
        Self::restore_locked(backup, dest, checkpoints, clock, actor, lock, None)
    }

    fn restore_locked(
        backup: &Path,
        dest: &Path,
        checkpoints: &[Checkpoint],
        clock: Arc<dyn Clock>,
        actor: &Actor,
        lock: LedgerLock,
        replaced: Option<&Path>,
    ) -> Result<Ledger, LedgerError> {
        if dest.exists() {
            return Err(LedgerError::Exists {
                path: dest.to_path_buf(),
            });
        }
        // Copy through a temporary name so a failed copy never leaves a half ledger at `dest`.
        let tmp = copy_to_restoring(backup, dest)?;
        fs::rename(&tmp, dest).map_err(|source| LedgerError::Io {
            path: dest.to_path_buf(),
            context: "moving the restored ledger into place at",
            source,
        })?;
        Self::open_restored(backup, dest, checkpoints, clock, actor, lock, replaced)
    }

    /// Opens the ledger just put in place at `dest`, verifies it and records `ledger.restored`.
    #[allow(clippy::too_many_arguments)]
    fn open_restored(
        backup: &Path,
        dest: &Path,
        checkpoints: &[Checkpoint],
        clock: Arc<dyn Clock>,
        actor: &Actor,
        lock: LedgerLock,
        replaced: Option<&Path>,
    ) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::open_locked(dest, clock, SCHEMA_VERSION, lock)?;
        ledger.record_restore(backup, checkpoints, actor, replaced)?;
        Ok(ledger)
    }

    /// Restores a backup over this ledger while it stays open (the desktop app holds its
    /// ledger for as long as it runs): the backup must verify, also against this ledger's
    /// checkpoints, so an older copy cannot roll it back; this ledger is then set aside
    /// (never deleted) and the copy takes its place under the same instance lock, with a
    /// `ledger.restored` event. When anything fails after the set-aside, the set-aside
    /// ledger is put back and reopened.
    pub fn restore_here(
        &mut self,
        backup: &Path,
        actor: &Actor,
    ) -> Result<std::path::PathBuf, LedgerError> {
        let checkpoints = self.checkpoints()?;
        Self::check_backup(backup, &checkpoints)?;
        let stamp = utc_text(self.clock.now())?.replace([':', '.'], "");
        let dest = self.path.clone();
        // Close this connection (SQLite folds the WAL into the file) before moving the file.
        let closed = Connection::open_in_memory()
            .map_err(|e| db_error(&dest, "closing the ledger for the restore", e))?;
        drop(std::mem::replace(&mut self.conn, closed));
        // The copy is made whole first; the ledger in use gets its second name; one rename
        // then replaces it, so a ledger is at `dest` at every moment.
        let reopen = |dest: &Path, clock: &dyn Clock| crate::connect(dest, clock, SCHEMA_VERSION);
        let tmp = match copy_to_restoring(backup, &dest) {
            Ok(tmp) => tmp,
            Err(e) => {
                self.conn = reopen(&dest, self.clock.as_ref())?;
                return Err(e);
            }
        };
        let aside = match set_aside(&dest, &stamp) {
            Ok(aside) => aside,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                self.conn = reopen(&dest, self.clock.as_ref())?;
                return Err(e);
            }
        };
        let restored = fs::rename(&tmp, &dest)
            .map_err(|source| LedgerError::Io {
                path: dest.clone(),
                context: "moving the restored ledger into place at",
                source,
            })
            .and_then(|()| {
                self.conn = reopen(&dest, self.clock.as_ref())?;
                self.record_restore(backup, &checkpoints, actor, Some(&aside))
            });
        match restored {
            Ok(()) => Ok(aside),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                // Close the restored copy first: its write-ahead log must not outlive it next
                // to the ledger put back.
                if let Ok(closed) = Connection::open_in_memory() {
                    drop(std::mem::replace(&mut self.conn, closed));
                }
                let back = fs::rename(&aside, &dest)
                    .map_err(|source| LedgerError::Io {
                        path: aside.clone(),
                        context: "putting the ledger back after a failed restore",
                        source,
                    })
                    .and_then(|()| crate::connect(&dest, self.clock.as_ref(), SCHEMA_VERSION));
                match back {
                    Ok(conn) => {
                        self.conn = conn;
                        Err(e)
                    }
                    Err(back) => Err(LedgerError::Corrupt {
                        path: dest,
                        detail: format!(
                            "the restore failed ({e}) and the ledger could not be reopened ({back}); it is kept at {}",
                            aside.display()
                        ),
                    }),
                }
            }
        }
    }

    /// Checks the restored ledger (also against `checkpoints`) and records `ledger.restored`.
    fn record_restore(
        &mut self,
        backup: &Path,
        checkpoints: &[Checkpoint],
        actor: &Actor,
        replaced: Option<&Path>,
    ) -> Result<(), LedgerError> {
        let report = self.verify_against(checkpoints)?;
        if let Some(problem) = report.problem {
            return Err(LedgerError::NotVerified {
                path: self.path.clone(),
                problem,
            });
        }
        let head = report
            .head
            .map(|(s, h)| format!("seq {s} {h}"))
            .unwrap_or_default();
        let mut event = NewEvent::new(
            actor,
            LEDGER_RESTORED,
            "ledger",
            backup.display().to_string(),
        )
        .after(head);
        if let Some(aside) = replaced {
            event = event.before(format!("set aside as {}", aside.display()));
        }
        self.append(&event)?;
        Ok(())
    }
}
