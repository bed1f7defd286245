//! The append-only, hash-chained SQLite ledger: Countersign's audit trail and record index.
//!
//! Every state change is written together with its audit event in one IMMEDIATE transaction.
//! Events are chained by SHA-256 over the frozen encoding in
//! [`countersign_core::ledger_event`]; [`Ledger::verify`] re-derives the chain from the rows
//! without trusting SQL. Triggers refuse UPDATE and DELETE on every table, but they are
//! defence in depth only: tamper evidence comes from the chain and from signed checkpoints
//! kept outside the file. The file format is described in `docs/ledger-format.md`.
#![forbid(unsafe_code)]

mod backup;
mod batch;
mod checkpoint;
mod clock;
#[cfg(test)]
mod disk_full;
mod dispositions;
mod error;
mod event;
mod export;
mod formats;
mod lock;
mod objects;
mod packages;
mod records_check;
mod rows;
mod schema;
mod signatures;
mod signer_keys;
mod signing_events;
#[cfg(test)]
mod test_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use backup::{BackupInfo, Restored, LEDGER_BACKED_UP, LEDGER_RESTORED};
pub use checkpoint::{Checkpoint, CheckpointSigner, CHECKPOINT_FORMAT};

pub use batch::{Batch, Written};
pub use countersign_core::ledger_event::{
    Actor, ChainFault, ChainProblem, ChainReport, CheckpointStatement, LedgerEvent,
};
pub use dispositions::{CaseDispositionRecord, NewCaseDisposition, CASE_DISPOSITIONED};
pub use error::LedgerError;
pub use event::{EventClass, EventFilter, EventRecord, NewEvent, TextMatch, MAX_FIELD_BYTES};
pub use export::ExportFormat;
pub use objects::{
    NewObject, NewRejection, ObjectRecord, ObjectSource, RejectionRecord, SourceKind,
};
pub use packages::{NewPackage, PackageRecord, PACKAGE_BUILT, PACKAGE_VERIFIED};
pub use schema::SCHEMA_VERSION;
pub use signatures::{NewSignature, SignatureRecord, SIGNATURE_APPLIED};
pub use signer_keys::{
    NewEnrollment, Revocation, SignerKeyRecord, KEY_CREATED, KEY_ENROLLED, KEY_REVOKED,
};
pub use signing_events::{CLOCK_SKEW, SIGNATURE_FAILED, SIGNATURE_REFUSED, SIGNING_LOCKED};

use countersign_core::clock::Clock;
use countersign_core::ledger_event::ChainVerifier;
use error::db_error;
use event::{append_in, event_from_row, event_ref_from_row, AppendError, EVENT_COLUMNS};
use lock::LedgerLock;

/// How long a reader or writer waits for a lock held by a backup or checkpoint reader.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open ledger: the SQLite connection, the instance lock (none when opened read-only) and
/// the clock.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// The instance lock; `None` for a read-only ledger (an auditor's copy).
    _lock: Option<LedgerLock>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the ledger at `path`, creating it (and recording `ledger.created`) if it does not
    /// exist and migrating an older schema (recording `ledger.migrated`). Refuses a ledger
    /// from a newer Countersign, a damaged file, and a ledger already open elsewhere.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Ledger, LedgerError> {
        Self::open_at(path, clock, SCHEMA_VERSION)
    }

    /// Opens, migrating no further than `target` (used to build older ledgers in tests).
    pub(crate) fn open_at(
        path: &Path,
        clock: Arc<dyn Clock>,
        target: i64,
    ) -> Result<Ledger, LedgerError> {
        let lock = LedgerLock::acquire(path)?;
        Self::open_locked(path, clock, target, lock)
    }

    /// Opens with the instance lock already held.
    pub(crate) fn open_locked(
        path: &Path,
        clock: Arc<dyn Clock>,
        target: i64,
        lock: LedgerLock,
    ) -> Result<Ledger, LedgerError> {
        let conn = connect(path, clock.as_ref(), target)?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
            clock,
            _lock: Some(lock),
        })
    }

    /// Opens an existing ledger for reading only, as an auditor's copy on read-only media or in
    /// a folder they may not write: no lock file, no journal files created, no migration. Every
    /// read (listing, verifying) works; any write fails as [`LedgerError::ReadOnly`]. A copy
    /// whose write-ahead log still holds transactions cannot be read without writing beside it,
    /// and is refused with what to do.
    pub fn open_read_only(path: &Path, clock: Arc<dyn Clock>) -> Result<Ledger, LedgerError> {
        if !path.is_file() {
            return Err(LedgerError::Io {
                path: path.to_path_buf(),
                context: "there is no ledger to read at",
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let conn = match open_connection(path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
            Ok(conn) => conn,
            // Reading a WAL ledger needs its shared-memory file; in a folder that cannot be
            // written, SQLite can only read the file as immutable, which is exact when no
            // write-ahead log with transactions of its own lies beside it.
            Err(LedgerError::ReadOnly { .. }) => {
                let wal = path.with_file_name(format!(
                    "{}-wal",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ));
                if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                    return Err(LedgerError::ReadOnly {
                        path: path.to_path_buf(),
                        detail: format!(
                            "its write-ahead log {} still holds transactions, which cannot be \
                             read without writing beside them; copy the home to a folder you \
                             may write, or make a single-file copy with `ledger backup`",
                            wal.display()
                        ),
                    });
                }
                open_connection(
                    Path::new(&immutable_uri(path)),
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| match e {
                    LedgerError::ReadOnly { detail, .. } | LedgerError::Corrupt { detail, .. } => {
                        LedgerError::Corrupt {
                            path: path.to_path_buf(),
                            detail,
                        }
                    }
                    other => other,
                })?
            }
            Err(e) => return Err(e),
        };
        let found = schema::user_version(&conn, path)?;
        if found > SCHEMA_VERSION {
            return Err(LedgerError::SchemaTooNew {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found != SCHEMA_VERSION {
            return Err(LedgerError::ReadOnly {
                path: path.to_path_buf(),
                detail: format!(
                    "it has schema version {found} and must be upgraded to {SCHEMA_VERSION} first, \
                     which writes to it; open a writable copy once"
                ),
            });
        }
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
            clock,
            _lock: None,
        })
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event in its own IMMEDIATE transaction.
    pub fn append(&mut self, event: &NewEvent) -> Result<EventRecord, LedgerError> {
        let mut out = self.append_batch(std::slice::from_ref(event))?;
        out.pop().ok_or_else(|| LedgerError::InvalidEvent {
            action: event.action.clone(),
            detail: "nothing was appended".into(),
        })
    }

    /// Appends several events in one IMMEDIATE transaction: all of them or none.
    pub fn append_batch(&mut self, events: &[NewEvent]) -> Result<Vec<EventRecord>, LedgerError> {
        for e in events {
            e.validate()?;
        }
        let path = self.path.clone();
        let clock = self.clock.as_ref();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_error(&path, "starting an append", e))?;
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            out.push(append_in(&tx, clock, e).map_err(|e| append_error(&path, e))?);
        }
        tx.commit()
            .map_err(|e| db_error(&path, "committing an append", e))?;
        Ok(out)
    }

    /// Runs `f` inside one IMMEDIATE transaction with an appender, for changes that write a
    /// record row and its event together.
    pub(crate) fn write<T>(
        &mut self,
        context: &'static str,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &dyn Clock) -> Result<T, AppendError>,
    ) -> Result<T, LedgerError> {
        let path = self.path.clone();
        let clock = self.clock.as_ref();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_error(&path, context, e))?;
        let out = f(&tx, clock).map_err(|e| append_error(&path, e))?;
        tx.commit().map_err(|e| db_error(&path, context, e))?;
        Ok(out)
    }

    /// The last event (sequence and hash), if any.
    pub fn head(&self) -> Result<Option<EventRecord>, LedgerError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT 1");
        let mut out = None;
        self.for_each_row(&sql, &[], |r| {
            out = Some(r);
            Ok(false)
        })?;
        Ok(out)
    }

    /// The event at `seq`, if the ledger has one.
    pub fn event_at(&self, seq: u64) -> Result<Option<EventRecord>, LedgerError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1");
        let mut out = None;
        self.for_each_row(&sql, &[seq.to_string()], |r| {
            out = Some(r);
            Ok(false)
        })?;
        Ok(out)
    }

    /// The newest event with this action about this object (found through the object index,
    /// so it costs the same however long the ledger is).
    pub fn latest_event_about(
        &self,
        object_kind: &str,
        object_id: &str,
        action: &str,
    ) -> Result<Option<EventRecord>, LedgerError> {
        Ok(self
            .recent_events_about(object_kind, object_id, action, 1)?
            .pop())
    }

    /// The newest `limit` events with this action about this object, newest first (found
    /// through the object index).
    pub fn recent_events_about(
        &self,
        object_kind: &str,
        object_id: &str,
        action: &str,
        limit: u32,
    ) -> Result<Vec<EventRecord>, LedgerError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE object_kind = ?1 AND object_id = ?2 \
             AND action = ?3 ORDER BY seq DESC LIMIT ?4"
        );
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| db_error(path, "reading events", e))?;
        let mut rows = stmt
            .query(rusqlite::params![object_kind, object_id, action, limit])
            .map_err(|e| db_error(path, "reading events", e))?;
        let mut out = Vec::new();
        while let Some(row) = rows
            .next()
            .map_err(|e| db_error(path, "reading events", e))?
        {
            let rec = event_from_row(row).map_err(|e| db_error(path, "reading events", e))?;
            out.push(rec.map_err(|bad| LedgerError::Malformed {
                path: path.clone(),
                table: "events",
                row: bad.seq,
                detail: bad.detail,
            })?);
        }
        Ok(out)
    }

    /// Number of events.
    pub fn event_count(&self) -> Result<u64, LedgerError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .map_err(|e| db_error(&self.path, "counting events", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Calls `f` for each event matching `filter`, in sequence order; stops early when `f`
    /// returns `Ok(false)`.
    pub fn for_each_event(
        &self,
        filter: &EventFilter,
        mut f: impl FnMut(EventRecord) -> Result<bool, LedgerError>,
    ) -> Result<(), LedgerError> {
        let (clause, params) = filter.to_sql()?;
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events{clause} ORDER BY seq");
        self.for_each_row(&sql, &params, &mut f)
    }

    /// All events matching `filter`, in sequence order.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, LedgerError> {
        let mut out = Vec::new();
        self.for_each_event(filter, |e| {
            out.push(e);
            Ok(true)
        })?;
        Ok(out)
    }

    fn for_each_row(
        &self,
        sql: &str,
        params: &[String],
        mut f: impl FnMut(EventRecord) -> Result<bool, LedgerError>,
    ) -> Result<(), LedgerError> {
        let path = &self.path;
        // Cached: a listing asks the same filtered question once per run.
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| db_error(path, "reading events", e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| db_error(path, "reading events", e))?;
        while let Some(row) = rows
            .next()
            .map_err(|e| db_error(path, "reading events", e))?
        {
            let rec = event_from_row(row).map_err(|e| db_error(path, "reading events", e))?;
            let rec = rec.map_err(|bad| LedgerError::Malformed {
                path: path.clone(),
                table: "events",
                row: bad.seq,
                detail: bad.detail,
            })?;
            if !f(rec)? {
                break;
            }
        }
        Ok(())
    }

    /// Walks the whole chain, re-deriving every hash, and compares it with the checkpoints
    /// recorded in the ledger; then checks that every object, rejection and checkpoint row
    /// matches the event that recorded it. The report names the first bad entry and why.
    pub fn verify(&self) -> Result<ChainReport, LedgerError> {
        self.verify_against(&[])
    }

    /// Like [`Ledger::verify`], also comparing with checkpoints kept outside the ledger (for
    /// example read back from S3 Object Lock), so a ledger truncated or restored from an older
    /// copy is detected.
    pub fn verify_against(&self, external: &[Checkpoint]) -> Result<ChainReport, LedgerError> {
        let mut all = self.checkpoints()?;
        all.extend_from_slice(external);
        verify_connection(&self.conn, &self.path, &all)
    }
}

/// Walks the chain of an open connection against the given checkpoints.
pub(crate) fn verify_connection(
    conn: &Connection,
    path: &Path,
    checkpoints: &[Checkpoint],
) -> Result<ChainReport, LedgerError> {
    let mut statements = Vec::with_capacity(checkpoints.len());
    for c in checkpoints {
        if !c.verify_signature() {
            return Ok(ChainReport {
                events: 0,
                head: None,
                checkpoints_checked: 0,
                problem: Some(ChainProblem {
                    seq: c.statement.seq,
                    fault: ChainFault::CheckpointSignatureInvalid {
                        checkpoint_time: c.statement.time_utc.clone(),
                    },
                }),
            });
        }
        statements.push(c.statement.clone());
    }
    let mut verifier = ChainVerifier::new(&statements);
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq");
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| db_error(path, "verifying the chain", e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| db_error(path, "verifying the chain", e))?;
    // The entries that must each have a record row, gathered on the way (no second pass).
    let mut recorded = records_check::RecordEntries::default();
    while let Some(row) = rows
        .next()
        .map_err(|e| db_error(path, "verifying the chain", e))?
    {
        match event_ref_from_row(row).map_err(|e| db_error(path, "verifying the chain", e))? {
            Ok((event, hash)) => {
                recorded.note(event.action, event.seq);
                if !verifier.push_borrowed(&event, &hash) {
                    break;
                }
            }
            Err(bad) => {
                let mut report = verifier.finish();
                report.head = None;
                report.problem = Some(ChainProblem {
                    seq: u64::try_from(bad.seq).unwrap_or(0),
                    fault: ChainFault::Unencodable { detail: bad.detail },
                });
                return Ok(report);
            }
        }
    }
    let mut report = verifier.finish();
    if report.problem.is_none() {
        if let Some(problem) = records_check::check_records(conn, path, &recorded)? {
            report.head = None;
            report.problem = Some(problem);
        }
    }
    Ok(report)
}

/// `file:` URI opening `path` as immutable (RFC 3986 percent-encoding of everything but the
/// unreserved characters and `/`).
fn immutable_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Opens the ledger file read-write in WAL mode and migrates it up to `target`.
pub(crate) fn connect(
    path: &Path,
    clock: &dyn Clock,
    target: i64,
) -> Result<Connection, LedgerError> {
    let mut conn = open_connection(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| db_error(path, "switching to WAL journaling", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::ReadOnly {
            path: path.to_path_buf(),
            detail: format!("the journal mode stayed {mode:?} instead of WAL"),
        });
    }
    schema::migrate(&mut conn, path, clock, target)?;
    Ok(conn)
}

/// Opens an SQLite connection with the ledger's settings: defensive mode, full sync, foreign
/// keys and a busy timeout. A file that is not a database is reported as damaged.
pub(crate) fn open_connection(path: &Path, flags: OpenFlags) -> Result<Connection, LedgerError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| db_error(path, "opening the ledger", e))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(|e| db_error(path, "enabling defensive mode", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(path, "setting the busy timeout", e))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| db_error(path, "enabling foreign keys", e))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| db_error(path, "setting full sync", e))?;
    // Touch the header now, so a damaged file is reported on open, not on first use.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| db_error(path, "reading the ledger", e))?;
    Ok(conn)
}

fn append_error(path: &Path, e: AppendError) -> LedgerError {
    match e {
        AppendError::Sql(e) => db_error(path, "appending an event", e),
        AppendError::Ledger(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::clock::SteppingClock;
    use time::macros::datetime;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(SteppingClock::new(
            datetime!(2026-03-01 09:00:00 +01:00),
            1000,
        ))
    }

    #[test]
    fn an_older_schema_is_migrated_and_each_migration_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let l = Ledger::open_at(&path, clock(), 1).unwrap();
            let actions: Vec<String> = l
                .events(&EventFilter::all())
                .unwrap()
                .into_iter()
                .map(|e| e.event.action)
                .collect();
            assert_eq!(actions, ["ledger.created"]);
            let v: i64 = l
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, 1);
        }
        let l = Ledger::open(&path, clock()).unwrap();
        let events = l.events(&EventFilter::all()).unwrap();
        assert_eq!(events.len(), 1 + (SCHEMA_VERSION as usize - 1));
        for (i, e) in events.iter().skip(1).enumerate() {
            let m = &e.event;
            assert_eq!(m.action, "ledger.migrated");
            assert_eq!(m.before, Some(format!("schema {}", i + 1)));
            assert_eq!(m.after, Some(format!("schema {}", i + 2)));
            assert!(m.actor.is_system());
        }
        assert!(l.verify().unwrap().is_ok());
        // Opening again migrates nothing and records nothing.
        drop(l);
        let l = Ledger::open(&path, clock()).unwrap();
        assert_eq!(l.event_count().unwrap(), SCHEMA_VERSION as u64);
    }

    #[test]
    fn schema_3_fills_a_key_s_account_and_mfa_device_from_its_enrollment_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let e = crate::test_support::enrollment(1, "arn:aws:iam::123456789012:user/dana");
        {
            // A schema-2 ledger with a key enrolled the way schema 2 recorded it.
            let mut l = Ledger::open_at(&path, clock(), 2).unwrap();
            let after = serde_json::json!({
                "iam_arn": e.iam_arn,
                "account": e.account,
                "printed_name": e.printed_name,
                "public_key": hex::encode(e.public_key),
                "mfa_serial": e.mfa_serial,
            })
            .to_string();
            let rec = l
                .append(
                    &NewEvent::new(
                        &crate::test_support::dana(),
                        KEY_ENROLLED,
                        "key",
                        e.key_id.to_hex(),
                    )
                    .after(after),
                )
                .unwrap();
            l.conn
                .execute(
                    "INSERT INTO signer_keys (key_id, public_key, iam_arn, printed_name, enrolled_at, event_seq) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![
                        e.key_id.to_hex(),
                        e.public_key.to_vec(),
                        e.iam_arn,
                        e.printed_name,
                        rec.event.time_utc,
                        rec.event.seq as i64
                    ],
                )
                .unwrap();
            assert!(l.verify().unwrap().is_ok());
        }
        let l = Ledger::open(&path, clock()).unwrap();
        let keys = l.signer_keys().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].account, "123456789012");
        assert_eq!(keys[0].mfa_serial, e.mfa_serial);
        assert!(l.verify().unwrap().is_ok());
        // The columns are covered by the chain from now on.
        drop(l);
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TRIGGER signer_keys_no_update; UPDATE signer_keys SET mfa_serial = 'arn:aws:iam::123456789012:mfa/mallory';",
        )
        .unwrap();
        drop(c);
        let l = Ledger::open(&path, clock()).unwrap();
        let problem = l.verify().unwrap().problem.unwrap();
        assert!(
            problem.to_string().contains("signer_keys row 1"),
            "{problem}"
        );
    }

    /// The newest event about an object is found through the object index, not by scanning
    /// the trail (the run list asks once per run).
    #[test]
    fn the_latest_event_about_an_object_is_found_through_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite"), clock()).unwrap();
        for n in 0..3 {
            l.append(
                &NewEvent::new(&Actor::system(), "run.summarized", "run", "A/OQ/r")
                    .after(format!("{n}")),
            )
            .unwrap();
        }
        let latest = l
            .latest_event_about("run", "A/OQ/r", "run.summarized")
            .unwrap();
        assert_eq!(latest.unwrap().event.after.as_deref(), Some("2"));
        assert!(l
            .latest_event_about("run", "B/OQ/r", "run.summarized")
            .unwrap()
            .is_none());
        let plan: Vec<String> = l
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE object_kind = ?1 \
                 AND object_id = ?2 AND action = ?3 ORDER BY seq DESC LIMIT 1",
            )
            .unwrap()
            .query_map(["run", "A/OQ/r", "run.summarized"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter().any(|d| d.contains("USING INDEX events_object")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|d| d.starts_with("SCAN")), "{plan:?}");
    }

    #[test]
    fn connection_settings_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("l.sqlite"), clock()).unwrap();
        let get = |p: &str| -> String {
            l.conn
                .query_row(&format!("PRAGMA {p}"), [], |r| {
                    r.get::<_, rusqlite::types::Value>(0)
                })
                .map(|v| format!("{v:?}"))
                .unwrap()
        };
        assert_eq!(get("journal_mode"), "Text(\"wal\")");
        assert_eq!(get("synchronous"), "Integer(2)");
        assert_eq!(get("foreign_keys"), "Integer(1)");
        assert!(l
            .conn
            .db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE)
            .unwrap());
    }
}
