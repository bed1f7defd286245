//! Ledger errors: each names the ledger file and says what to do.

use std::io;
use std::path::{Path, PathBuf};

use countersign_core::ledger_event::{ChainProblem, EncodeError};
use rusqlite::ErrorCode;

/// Why a ledger operation failed. Nothing is recorded when an operation fails.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Another process (or another open ledger in this process) holds the ledger lock.
    #[error(
        "the ledger {path} is in use by another Countersign instance; only one may run per home. \
         Close the other window or command and try again"
    )]
    Locked { path: PathBuf },

    /// The lock file or the home directory cannot be created or opened.
    #[error(
        "cannot open the ledger lock file {path}: {source}. \
         The Countersign home must exist and be writable"
    )]
    LockFile { path: PathBuf, source: io::Error },

    /// The ledger was written by a newer Countersign.
    #[error(
        "the ledger {path} has schema version {found} but this Countersign knows versions up to \
         {supported}; it was written by a newer Countersign. Upgrade Countersign to open it"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// The file is not an SQLite database or is damaged.
    #[error(
        "the ledger file {path} is damaged or is not a Countersign ledger ({detail}). \
         Restore it from a backup and run `countersign ledger verify`"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// The disk (or the ledger's size limit) is full.
    #[error("the disk holding the ledger {path} is full; nothing was recorded. Free some space and try again")]
    DiskFull { path: PathBuf },

    /// The ledger file or its directory cannot be written.
    #[error(
        "the ledger {path} cannot be written ({detail}); nothing was recorded. \
         Make the Countersign home writable and try again"
    )]
    ReadOnly { path: PathBuf, detail: String },

    /// Any other database failure.
    #[error("ledger {path}: {context}: {source}")]
    Database {
        path: PathBuf,
        context: &'static str,
        source: rusqlite::Error,
    },

    /// A file other than the ledger could not be read or written.
    #[error("{context} {path}: {source}")]
    Io {
        path: PathBuf,
        context: &'static str,
        source: io::Error,
    },

    /// The event asked for is not acceptable; nothing was recorded.
    #[error("refused to record {action}: {detail}")]
    InvalidEvent { action: String, detail: String },

    /// A change, rejection or disposition was attempted without a reason.
    #[error("refused to record {action}: a reason is required for this kind of entry")]
    ReasonRequired { action: String },

    /// A field is too large to encode.
    #[error(transparent)]
    Encode(#[from] EncodeError),

    /// A row that should be well-formed is not (the file was edited outside Countersign).
    #[error("the ledger {path} holds a malformed {table} row {row}: {detail}. Run `countersign ledger verify`")]
    Malformed {
        path: PathBuf,
        table: &'static str,
        row: i64,
        detail: String,
    },

    /// A ledger copy does not verify and was not put to use.
    #[error("the ledger copy {path} does not verify, so it was not used: {problem}")]
    NotVerified {
        path: PathBuf,
        problem: ChainProblem,
    },

    /// A restore or backup would overwrite an existing file.
    #[error("{path} already exists; choose a new file name (nothing is overwritten)")]
    Exists { path: PathBuf },

    /// A restore would replace a ledger that is in use.
    #[error(
        "the ledger {path} is in use ({detail}); restoring would replace it. Pass the explicit \
         replace option to set it aside (it is kept, never deleted) and restore the backup"
    )]
    InUse { path: PathBuf, detail: String },

    /// The clock gave a time that cannot be written as RFC 3339.
    #[error("the system clock gave a time that cannot be recorded: {0}")]
    Clock(String),
}

/// Classifies an SQLite error: full disk, read-only file and damaged file get their own
/// errors, with the ledger path.
pub(crate) fn db_error(path: &Path, context: &'static str, e: rusqlite::Error) -> LedgerError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => LedgerError::DiskFull { path },
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => LedgerError::ReadOnly {
            path,
            detail: e.to_string(),
        },
        Some(ErrorCode::CannotOpen) => LedgerError::ReadOnly {
            path,
            detail: e.to_string(),
        },
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => LedgerError::Corrupt {
            path,
            detail: e.to_string(),
        },
        _ => LedgerError::Database {
            path,
            context,
            source: e,
        },
    }
}
