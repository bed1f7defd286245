//! The one error type the CLI and the app see. Each error carries a stable [`ErrorCode`] (mirrored
//! in the UI and mapped to CLI exit codes) so that a tampered record can never look like an I/O
//! hiccup.

use serde::Serialize;

/// Stable, serialisable error categories. The UI mirrors this list in `ui/errors.js`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user's input is wrong (bad argument, unknown run, malformed file). CLI exit 2.
    BadInput,
    /// A thing asked for does not exist. CLI exit 2.
    NotFound,
    /// Stored bytes or a record do not match their digest or signature. CLI exit 1.
    Integrity,
    /// A rule refused the action (policy, sequencing, authority). CLI exit 1.
    Refused,
    /// AWS refused or failed (credentials, access, network). CLI exit 3.
    Aws,
    /// Local I/O or storage failure (disk, permissions, database). CLI exit 3.
    Storage,
    /// The operation was cancelled by the user. CLI exit 3.
    Cancelled,
}

impl ErrorCode {
    /// Exit code per the CLI contract: 1 definite no, 2 bad usage/input, 3 environment.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Integrity | ErrorCode::Refused => 1,
            ErrorCode::BadInput | ErrorCode::NotFound => 2,
            ErrorCode::Aws | ErrorCode::Storage | ErrorCode::Cancelled => 3,
        }
    }
}

/// An error with a code and a message that says what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub code: ErrorCode,
    pub message: String,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Integrity, message)
    }
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Storage, message)
    }
}

impl From<countersign_aws::AwsError> for ServiceError {
    fn from(e: countersign_aws::AwsError) -> Self {
        Self::new(ErrorCode::Aws, e.to_string())
    }
}

pub(crate) fn from_store(e: countersign_store::StoreError) -> ServiceError {
    if e.is_integrity() {
        ServiceError::integrity(e.to_string())
    } else {
        ServiceError::storage(e.to_string())
    }
}

pub(crate) fn from_ledger(e: countersign_ledger::LedgerError) -> ServiceError {
    ServiceError::new(ledger_code(&e), e.to_string())
}

fn ledger_code(e: &countersign_ledger::LedgerError) -> ErrorCode {
    use countersign_ledger::LedgerError as L;
    match e {
        L::Malformed { .. } | L::NotVerified { .. } | L::Corrupt { .. } => ErrorCode::Integrity,
        L::InvalidEvent { .. } | L::ReasonRequired { .. } | L::Encode(_) => ErrorCode::BadInput,
        _ => ErrorCode::Storage,
    }
}
