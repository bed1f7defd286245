//! The audit trail as a use case: verify the chain, export it.

use std::path::{Path, PathBuf};

use countersign_ledger::{
    Actor, BackupInfo, ChainReport, EventFilter, ExportFormat, Ledger, LedgerError,
};

use crate::error::{self as err, ErrorCode, ServiceError};
use crate::Service;

impl Service {
    /// Walks the whole chain, re-deriving every hash, and compares it with the stored checkpoints.
    pub fn ledger_verify(&self) -> Result<ChainReport, ServiceError> {
        self.ledger()?.verify().map_err(err::from_ledger)
    }

    /// Writes the complete audit trail to `out` (created; never overwritten). The export is
    /// itself recorded as an event. Returns the number of events written.
    pub fn ledger_export(&self, format: ExportFormat, out: &Path) -> Result<u64, ServiceError> {
        self.ledger_export_filtered(format, &EventFilter::all(), out)
    }
}

/// The outcome of re-hashing every object the ledger says is in the store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceCheck {
    /// Distinct stored objects re-hashed.
    pub objects: u64,
    /// Bytes read and hashed.
    pub bytes: u64,
    /// Objects whose bytes no longer match their digest, or that are gone.
    pub problems: Vec<StoredObjectProblem>,
}

/// A stored object that failed its re-check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredObjectProblem {
    pub sha256: countersign_core::digest::Sha256,
    /// One URI it was recorded under.
    pub uri: String,
    pub detail: String,
}

impl Service {
    /// Re-hashes every distinct object the ledger lists, streaming each file from disk, on as
    /// many threads as the machine has cores. Changed and missing objects are listed, never an
    /// error of the check itself.
    pub fn verify_evidence(&self) -> Result<EvidenceCheck, ServiceError> {
        let digests = self.ledger()?.stored_digests().map_err(err::from_ledger)?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let threads = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, 8);
        let store = self.store();
        let results: Vec<(u64, Vec<StoredObjectProblem>)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let (mut bytes, mut problems) = (0u64, Vec::new());
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((sha, _, uri)) = digests.get(i) else {
                                break;
                            };
                            match store.verify(sha) {
                                Ok(n) => bytes += n,
                                Err(e) => problems.push(StoredObjectProblem {
                                    sha256: *sha,
                                    uri: uri.clone(),
                                    detail: e.to_string(),
                                }),
                            }
                        }
                        (bytes, problems)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        (
                            0,
                            vec![StoredObjectProblem {
                                sha256: countersign_core::digest::Sha256::from_bytes([0; 32]),
                                uri: String::new(),
                                detail: "a checking thread stopped unexpectedly".into(),
                            }],
                        )
                    })
                })
                .collect()
        });
        let mut check = EvidenceCheck {
            objects: digests.len() as u64,
            bytes: 0,
            problems: Vec::new(),
        };
        for (bytes, problems) in results {
            check.bytes += bytes;
            check.problems.extend(problems);
        }
        check.problems.sort_by_key(|p| p.sha256);
        Ok(check)
    }
}

/// What `ledger restore` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreReport {
    /// The backup that was restored.
    pub backup: PathBuf,
    /// The ledger now in place.
    pub ledger: PathBuf,
    /// Entries in the restored ledger, its `ledger.restored` entry included.
    pub events: u64,
    /// Where the ledger that was in place was moved to (kept, never deleted).
    pub set_aside: Option<PathBuf>,
}

impl Service {
    /// Writes the audit-trail entries matching `filter` to `out` (created; never
    /// overwritten). The export, with its filter, is itself recorded.
    pub fn ledger_export_filtered(
        &self,
        format: ExportFormat,
        filter: &EventFilter,
        out: &Path,
    ) -> Result<u64, ServiceError> {
        let file = create_new(out)?;
        let mut w = std::io::BufWriter::new(file);
        let n = self
            .ledger()?
            .export(format, filter, &mut w, &Actor::system())
            .map_err(err::from_ledger)?;
        std::io::Write::flush(&mut w).map_err(|e| {
            ServiceError::storage(format!("could not write {}: {e}", out.display()))
        })?;
        Ok(n)
    }

    /// A consistent copy of the ledger at `out` (SQLite online backup, safe while the app
    /// runs), verified, never over an existing file; recorded as `ledger.backed_up`.
    pub fn ledger_backup(&self, out: &Path) -> Result<BackupInfo, ServiceError> {
        if out.exists() {
            return Err(ServiceError::bad_input(format!(
                "{} already exists; choose a new file name (nothing is overwritten)",
                out.display()
            )));
        }
        self.ledger()?
            .backup(out, &Actor::system())
            .map_err(err::from_ledger)
    }

    /// Restores the ledger of `home` from `backup`. The backup's chain (and record rows) must
    /// verify, also against the checkpoints of the ledger it replaces; a ledger in use is
    /// replaced only with `replace`, and is then set aside, never deleted. Records
    /// `ledger.restored`. Runs without an open [`Service`]: the home's ledger must not be
    /// open elsewhere.
    pub fn ledger_restore(
        home: &Path,
        env: &crate::Env,
        backup: &Path,
        replace: bool,
    ) -> Result<RestoreReport, ServiceError> {
        if !backup.is_file() {
            return Err(ServiceError::bad_input(format!(
                "the backup {} does not exist or is not a file",
                backup.display()
            )));
        }
        std::fs::create_dir_all(home).map_err(|e| {
            ServiceError::storage(format!(
                "could not create the Countersign home {}: {e}",
                home.display()
            ))
        })?;
        let dest = home.join(crate::LEDGER_FILE);
        let restored = Ledger::restore_over(
            backup,
            &dest,
            &[],
            env.clock.clone(),
            &Actor::system(),
            replace,
        )
        .map_err(|e| match e {
            LedgerError::InUse { .. } | LedgerError::Exists { .. } => {
                ServiceError::new(ErrorCode::Refused, e.to_string())
            }
            LedgerError::Corrupt { .. } | LedgerError::NotVerified { .. } => {
                ServiceError::integrity(e.to_string())
            }
            other => err::from_ledger(other),
        })?;
        let events = restored.ledger.event_count().map_err(err::from_ledger)?;
        Ok(RestoreReport {
            backup: backup.to_path_buf(),
            ledger: dest,
            events,
            set_aside: restored.set_aside,
        })
    }

    /// Restores a backup over this home's open ledger (the desktop app's case): the backup
    /// must verify, also against the ledger's checkpoints; the ledger in use is set aside,
    /// never deleted, and the restore is recorded (as the system's act: it signs nothing and
    /// changes no record, it puts back a copy that verifies).
    pub fn ledger_restore_here(&self, backup: &Path) -> Result<RestoreReport, ServiceError> {
        if !backup.is_file() {
            return Err(ServiceError::bad_input(format!(
                "the backup {} does not exist or is not a file",
                backup.display()
            )));
        }
        let mut ledger = self.ledger()?;
        let aside = ledger
            .restore_here(backup, &Actor::system())
            .map_err(|e| match e {
                LedgerError::Corrupt { .. } | LedgerError::NotVerified { .. } => {
                    ServiceError::integrity(e.to_string())
                }
                other => err::from_ledger(other),
            })?;
        Ok(RestoreReport {
            backup: backup.to_path_buf(),
            ledger: ledger.path().to_path_buf(),
            events: ledger.event_count().map_err(err::from_ledger)?,
            set_aside: Some(aside),
        })
    }
}

/// Creates `out` as a new file: never over an existing one, and a folder that does not exist is
/// named as such (not reported as a storage failure).
pub(crate) fn create_new(out: &Path) -> Result<std::fs::File, ServiceError> {
    crate::package::refuse_missing_folder(out, "the file")?;
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ServiceError::bad_input(format!(
                    "{} already exists; choose a new file name (nothing is overwritten)",
                    out.display()
                ))
            } else {
                ServiceError::storage(format!("could not create {}: {e}", out.display()))
            }
        })
}

/// Parses an export time bound: RFC 3339 (`2026-03-01T09:30:00Z`, any offset) or a date
/// (`2026-03-01`, meaning 00:00 UTC that day).
pub fn parse_time_bound(flag: &str, text: &str) -> Result<time::OffsetDateTime, ServiceError> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &date_format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            ServiceError::bad_input(format!(
                "{flag} {text:?} is not a time: write 2026-03-01 (00:00 UTC) or 2026-03-01T09:30:00Z"
            ))
        })
}

/// The filter of `ledger export`: `since` inclusive, `until` exclusive, `actor` an IAM ARN, a
/// printed name or `system`; `object` (an object id), `object_kind` and `action` match
/// exactly.
pub fn export_filter(
    since: Option<&str>,
    until: Option<&str>,
    actor: Option<&str>,
    object_kind: Option<&str>,
    object: Option<&str>,
    action: Option<&str>,
) -> Result<EventFilter, ServiceError> {
    let from = since.map(|s| parse_time_bound("--since", s)).transpose()?;
    let until = until.map(|s| parse_time_bound("--until", s)).transpose()?;
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            return Err(ServiceError::bad_input(
                "--until must be later than --since (--since is inclusive, --until exclusive)",
            ));
        }
    }
    let text = |flag: &str, v: Option<&str>| -> Result<Option<String>, ServiceError> {
        match v {
            Some(s) if s.trim().is_empty() => {
                Err(ServiceError::bad_input(format!("{flag} must not be empty")))
            }
            other => Ok(other.map(str::to_owned)),
        }
    };
    Ok(EventFilter {
        from,
        until,
        actor: text("--actor", actor)?,
        object_kind: text("--object-kind", object_kind)?,
        object_id: text("--object", object)?,
        action: text("--action", action)?,
        text_match: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_ledger::EventFilter;

    #[test]
    fn export_filters_parse_times_and_refuse_bad_input() {
        let f = export_filter(
            Some("2026-03-01"),
            Some("2026-03-02T10:00:00+01:00"),
            Some("system"),
            None,
            Some("audit-trail"),
            Some("ledger.exported"),
        )
        .unwrap();
        assert_eq!(f.from, Some(time::macros::datetime!(2026-03-01 00:00 UTC)));
        assert_eq!(f.until, Some(time::macros::datetime!(2026-03-02 09:00 UTC)));
        assert_eq!(f.actor.as_deref(), Some("system"));
        assert_eq!(f.object_id.as_deref(), Some("audit-trail"));
        assert_eq!(
            export_filter(None, None, None, None, None, None).unwrap(),
            EventFilter::all()
        );
        for (since, until) in [
            (Some("yesterday"), None),
            (None, Some("2026-13-01")),
            (Some("2026-03-02"), Some("2026-03-01")),
        ] {
            let e = export_filter(since, until, None, None, None, None).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadInput, "{e}");
        }
        assert!(export_filter(None, None, Some(" "), None, None, None).is_err());
    }

    #[test]
    fn backup_is_recorded_never_overwrites_and_restore_refuses_a_ledger_in_use() {
        let home = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let copy = out.path().join("ledger-backup.sqlite");
        let info = {
            let s = crate::test_env::service(home.path());
            let info = s.ledger_backup(&copy).unwrap();
            assert_eq!(info.head_seq, info.events);
            let again = s.ledger_backup(&copy).unwrap_err();
            assert_eq!(again.code, ErrorCode::BadInput);
            assert!(again.message.contains("already exists"), "{again}");
            // A filtered export writes only the backup entry, and records itself.
            let csv = out.path().join("backups.csv");
            let n = s
                .ledger_export_filtered(
                    ExportFormat::Csv,
                    &export_filter(None, None, None, None, None, Some("ledger.backed_up")).unwrap(),
                    &csv,
                )
                .unwrap();
            assert_eq!(n, 1);
            info
        };
        // The ledger in place is in use (backup and export entries): refused without replace.
        let e = Service::ledger_restore(home.path(), &crate::test_env::env(), &copy, false)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Refused, "{e}");
        let r = Service::ledger_restore(home.path(), &crate::test_env::env(), &copy, true).unwrap();
        assert_eq!(r.events, info.events + 1);
        assert!(r.set_aside.as_ref().unwrap().exists());
        let s = crate::test_env::service(home.path());
        assert!(s.ledger_verify().unwrap().is_ok());

        // A backup that is missing, or not a ledger, is refused and nothing changes.
        drop(s);
        let missing = Service::ledger_restore(
            home.path(),
            &crate::test_env::env(),
            &out.path().join("nope"),
            true,
        );
        assert_eq!(missing.unwrap_err().code, ErrorCode::BadInput);
        let junk = out.path().join("junk.sqlite");
        std::fs::write(&junk, b"definitely not SQLite").unwrap();
        let e =
            Service::ledger_restore(home.path(), &crate::test_env::env(), &junk, true).unwrap_err();
        assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    }
}
