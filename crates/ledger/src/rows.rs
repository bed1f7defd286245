//! Small conversions shared by the record tables.

use crate::error::LedgerError;
use crate::event::AppendError;

/// A refusal of a record write, as the append path reports it.
pub(crate) fn invalid(action: &str, detail: impl Into<String>) -> AppendError {
    AppendError::Ledger(LedgerError::InvalidEvent {
        action: action.to_owned(),
        detail: detail.into(),
    })
}

/// An event sequence number as SQLite stores it.
pub(crate) fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// An event sequence number read back from SQLite.
pub(crate) fn seq_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A row that cannot be read as its record.
pub(crate) fn malformed(
    path: &std::path::Path,
    table: &'static str,
    row: i64,
    detail: String,
) -> LedgerError {
    LedgerError::Malformed {
        path: path.to_path_buf(),
        table,
        row,
        detail,
    }
}
