//! Key-file errors: each names the file and says what to do.

use std::path::PathBuf;

/// Why a key file could not be created, read or unlocked.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Creating a key never replaces one.
    #[error("a key file already exists at {path}; a key is never overwritten (one key per person): keep it, or choose another path")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The file system refused.
    #[error("cannot {action} the key file {path}: {source}")]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// Which file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not a key file, or a damaged one.
    #[error("{path} is not a valid Countersign key file: {detail}")]
    Malformed {
        /// Which file (empty when parsed from bytes).
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A key file of another format version.
    #[error("{path} is a key file of format {found:?}; this version reads \"countersign.key/v1\"")]
    UnsupportedFormat {
        /// Which file.
        path: PathBuf,
        /// The format found.
        found: String,
    },
    /// The passphrase does not open the key (or the sealed part was altered).
    #[error("wrong passphrase for the key {key_id}: the key file did not open; check the passphrase and try again")]
    WrongPassphrase {
        /// The key's id.
        key_id: String,
    },
    /// Refused at creation: too short to protect a signing key.
    #[error("the passphrase is too short: use at least {min} characters")]
    WeakPassphrase {
        /// The minimum length.
        min: usize,
    },
    /// Refused at creation.
    #[error(
        "the printed name is {problem}: enter your full name as it should appear on signed records"
    )]
    BadPrintedName {
        /// What is wrong.
        problem: &'static str,
    },
    /// KDF parameters out of range.
    #[error("key derivation parameters refused: {detail}")]
    Kdf {
        /// Which parameter and the allowed range.
        detail: String,
    },
    /// The operating system's random source failed.
    #[error("the operating system's random number source failed: {detail}")]
    Random {
        /// The error.
        detail: String,
    },
}
