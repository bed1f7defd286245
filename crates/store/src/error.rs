use std::path::{Path, PathBuf};

use countersign_core::digest::Sha256;

/// Store failures. Integrity failures (`DigestMismatch`, `Changed`, `Missing`) are kept apart
/// from I/O failures so that a tampered object never looks like a disk hiccup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The bytes received do not match the digest the source declared; nothing was stored.
    #[error("digest mismatch: the source declared sha256 {expected} but the bytes received hash to {actual}; the object was not stored")]
    DigestMismatch { expected: Sha256, actual: Sha256 },
    /// A stored blob no longer matches its address.
    #[error("stored object {path} has changed since it was stored: expected sha256 {expected}, found {actual}; restore the store from a backup or fetch/import the object again")]
    Changed {
        expected: Sha256,
        actual: Sha256,
        path: PathBuf,
    },
    /// A blob the ledger knows is not in the store.
    #[error("stored object sha256 {sha256} is missing ({path}); restore the store from a backup or fetch/import the object again")]
    Missing { sha256: Sha256, path: PathBuf },
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// True for the integrity failures (as opposed to I/O trouble).
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            StoreError::DigestMismatch { .. }
                | StoreError::Changed { .. }
                | StoreError::Missing { .. }
        )
    }
}
