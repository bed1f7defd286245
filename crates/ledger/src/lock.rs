//! The exclusive lock that keeps a second Countersign instance off the same ledger.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::LedgerError;

/// How often, and how long apart, a held lock is tried again before giving up (about 1 s).
const LOCK_RETRIES: u32 = 20;
const LOCK_RETRY_DELAY: Duration = Duration::from_millis(50);

/// An OS advisory lock on `<ledger file>.lock`, held for the life of the ledger.
#[derive(Debug)]
pub(crate) struct LedgerLock {
    _file: File,
}

/// The lock file beside the ledger file.
pub(crate) fn lock_path(ledger: &Path) -> PathBuf {
    let mut name = ledger
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "ledger".into());
    name.push(".lock");
    ledger.with_file_name(name)
}

impl LedgerLock {
    /// Takes the lock without waiting; refuses if another instance holds it.
    pub(crate) fn acquire(ledger: &Path) -> Result<Self, LedgerError> {
        let path = lock_path(ledger);
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
        {
            Ok(f) => f,
            // A read-only home: an existing lock file can still be locked through a read handle,
            // and opening the ledger then reports that it cannot be written.
            Err(e) if e.kind() == ErrorKind::PermissionDenied || e.raw_os_error() == Some(1) => {
                File::open(&path).map_err(|_| LedgerError::LockFile {
                    path: path.clone(),
                    source: e,
                })?
            }
            Err(source) => return Err(LedgerError::LockFile { path, source }),
        };
        // Wait briefly: an instance that is just closing (or a process being started, which
        // holds inherited descriptors until it executes) releases the lock within moments.
        for attempt in 0..=LOCK_RETRIES {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(TryLockError::WouldBlock) if attempt < LOCK_RETRIES => {
                    std::thread::sleep(LOCK_RETRY_DELAY)
                }
                Err(TryLockError::WouldBlock) => break,
                Err(TryLockError::Error(source)) => {
                    return Err(LedgerError::LockFile { path, source })
                }
            }
        }
        Err(LedgerError::Locked {
            path: ledger.to_path_buf(),
        })
    }
}
