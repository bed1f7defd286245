//! Opening the Countersign home: created private, opened for writing under the home's lock or
//! read-only for an auditor's copy, and never silently given a new, empty ledger over evidence
//! a lost ledger used to list.

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Mutex;

use countersign_core::ledger_event::Actor;
use countersign_ledger::{Ledger, LedgerError, NewEvent};
use countersign_store::{Store, StoreError};

use crate::error::{self, ErrorCode, ServiceError};
use crate::{Env, Service, LEDGER_FILE, STORE_DIR};

/// Action of the recorded decision to start a new audit trail over a store whose ledger was
/// lost.
pub const LEDGER_STARTED_OVER: &str = "ledger.started_over";

/// Creates `dir` and any missing parents readable by its owner only (0700), whatever the umask:
/// the home holds the audit trail, the evidence and the signers' sealed keys.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Why the home could not be opened for writing.
enum OpenFailure {
    /// The home, its ledger or its store cannot be written: read it read-only instead.
    NotWritable(ServiceError),
    Other(ServiceError),
}

impl OpenFailure {
    fn into_error(self) -> ServiceError {
        match self {
            OpenFailure::NotWritable(e) | OpenFailure::Other(e) => e,
        }
    }
}

fn not_writable(e: &io::Error) -> bool {
    // EPERM (an immutable file) and EROFS (read-only media) as well as plain permissions.
    e.kind() == io::ErrorKind::PermissionDenied
        || e.kind() == io::ErrorKind::ReadOnlyFilesystem
        || e.raw_os_error() == Some(1)
}

/// Whether the ledger file is gone or emptied (zero bytes).
fn ledger_lost(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => m.len() == 0,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

impl Service {
    /// Opens (creating if needed) the home: `ledger.sqlite`, `store/`. Takes the home's lock,
    /// then clears what a killed writer left in the store's `tmp/`. Refuses to create a new
    /// ledger over a store that holds evidence: that ledger was lost, and the evidence it
    /// listed would drop out of the audit trail unnoticed ([`Service::start_over`] records the
    /// decision to do it anyway). `env` gives the clock, the AWS connector and the
    /// key-derivation cost.
    pub fn open(home: &Path, env: Env) -> Result<Self, ServiceError> {
        Self::open_writable(home, env).map_err(OpenFailure::into_error)
    }

    fn open_writable(home: &Path, env: Env) -> Result<Self, OpenFailure> {
        create_private_dir(home).map_err(|e| {
            let msg = ServiceError::storage(format!(
                "could not create the Countersign home {}: {e}; choose another with --home or COUNTERSIGN_HOME",
                home.display()
            ));
            if not_writable(&e) {
                OpenFailure::NotWritable(msg)
            } else {
                OpenFailure::Other(msg)
            }
        })?;
        let ledger_path = home.join(LEDGER_FILE);
        let store_root = home.join(STORE_DIR);
        if ledger_lost(&ledger_path) {
            let held = Store::open_read_only(&store_root)
                .and_then(|s| s.count_objects())
                .unwrap_or(0);
            if held > 0 {
                return Err(OpenFailure::Other(lost_ledger(&ledger_path, held)));
            }
        }
        let ledger = Ledger::open(&ledger_path, env.clock.clone()).map_err(|e| {
            let read_only = match &e {
                LedgerError::ReadOnly { .. } => true,
                LedgerError::LockFile { source, .. } => not_writable(source),
                _ => false,
            };
            let e = error::from_ledger(e);
            if read_only {
                OpenFailure::NotWritable(e)
            } else {
                OpenFailure::Other(e)
            }
        })?;
        let store = Store::open(&store_root).map_err(|e| {
            let io_denied = matches!(&e, StoreError::Io { source, .. } if not_writable(source));
            let e = error::from_store(e);
            if io_denied {
                OpenFailure::NotWritable(e)
            } else {
                OpenFailure::Other(e)
            }
        })?;
        // This process holds the home's lock, so no other writer is using `tmp/`, and no
        // restore is copying a backup beside the ledger.
        store
            .remove_leftovers()
            .map_err(|e| OpenFailure::Other(error::from_store(e)))?;
        let restoring = home.join(format!("{LEDGER_FILE}.restoring"));
        if restoring.exists() {
            std::fs::remove_file(&restoring).map_err(|e| {
                OpenFailure::Other(ServiceError::storage(format!(
                    "could not remove the partial restore {}: {e}",
                    restoring.display()
                )))
            })?;
        }
        Ok(Self {
            home: home.to_path_buf(),
            env,
            store,
            ledger: Mutex::new(ledger),
            read_only: false,
        })
    }

    /// Opens an existing home for reading only (an auditor's copy, read-only media): no lock,
    /// nothing created, nothing cleaned. Listing, showing and verifying work; anything that
    /// would record fails as "cannot be written".
    pub fn open_read_only(home: &Path, env: Env) -> Result<Self, ServiceError> {
        let ledger = Ledger::open_read_only(&home.join(LEDGER_FILE), env.clock.clone())
            .map_err(error::from_ledger)?;
        let store = Store::open_read_only(&home.join(STORE_DIR)).map_err(error::from_store)?;
        Ok(Self {
            home: home.to_path_buf(),
            env,
            store,
            ledger: Mutex::new(ledger),
            read_only: true,
        })
    }

    /// Opens the home for a command that only reads: writable when it can be written (so it is
    /// locked and migrated as usual), read-only when it cannot.
    pub fn open_for_reading(home: &Path, env: Env) -> Result<Self, ServiceError> {
        match Self::open_writable(home, env.clone()) {
            Ok(s) => Ok(s),
            Err(OpenFailure::NotWritable(_)) => Self::open_read_only(home, env),
            Err(OpenFailure::Other(e)) => Err(e),
        }
    }

    /// Whether this home was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Starts a new, empty audit trail over a store whose ledger is gone or emptied: the
    /// explicit decision [`Service::open`] asks for. The decision is the new ledger's first
    /// entry after its creation (`ledger.started_over`), with the reason and the number of
    /// stored objects the lost ledger listed. Refused when the ledger is not lost.
    pub fn start_over(home: &Path, env: Env, reason: &str) -> Result<Self, ServiceError> {
        let ledger_path = home.join(LEDGER_FILE);
        if !ledger_lost(&ledger_path) {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "the ledger {} is there; a new audit trail is started only when it is lost \
                     (nothing was changed)",
                    ledger_path.display()
                ),
            ));
        }
        if reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "give the reason for starting a new audit trail over the existing evidence",
            ));
        }
        let held = Store::open_read_only(&home.join(STORE_DIR))
            .and_then(|s| s.count_objects())
            .unwrap_or(0);
        // An emptied file would be taken for a damaged database: set it aside first (kept).
        if ledger_path.exists() {
            let aside = home.join(format!(
                "{LEDGER_FILE}.empty-{}",
                env.clock.now().unix_timestamp()
            ));
            std::fs::rename(&ledger_path, &aside).map_err(|e| {
                ServiceError::storage(format!(
                    "could not set the empty ledger {} aside: {e}",
                    ledger_path.display()
                ))
            })?;
        }
        let mut ledger =
            Ledger::open(&ledger_path, env.clock.clone()).map_err(error::from_ledger)?;
        ledger
            .append(
                &NewEvent::new(&Actor::system(), LEDGER_STARTED_OVER, "ledger", "ledger")
                    .after(serde_json::json!({ "store_objects": held }).to_string())
                    .reason(reason.trim()),
            )
            .map_err(error::from_ledger)?;
        drop(ledger);
        Self::open(home, env)
    }
}

fn lost_ledger(ledger: &Path, held: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::Refused,
        format!(
            "the evidence store holds {held} object(s) but the ledger {} is missing or empty: the \
             audit trail that lists them is gone, and a new ledger would leave them out unnoticed. \
             Restore the ledger from a backup with `countersign ledger restore BACKUP` (then \
             `countersign ledger verify`), or, to start a new audit trail over this evidence on \
             purpose, run `countersign ledger start-over --reason TEXT` (the decision is recorded)",
            ledger.display()
        ),
    )
}
