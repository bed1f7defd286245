//! Files the app wrote in this run (a package PDF and its bundle, an audit-trail export, a
//! ledger backup, a saved public key), and handing one of them to the desktop: its default
//! viewer ("Open PDF") or its file manager ("Show in folder").
//!
//! The window may ask for exactly these files and nothing else: the opener plugin is called
//! from here, never granted to the window, so no path the window makes up can be opened.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use countersign_service::{ErrorCode, ServiceError};

/// The files written by this app instance, by their full path.
#[derive(Debug, Default)]
pub struct WrittenFiles(Mutex<BTreeSet<PathBuf>>);

impl WrittenFiles {
    /// Remembers a file (or bundle folder) the app has just written.
    pub fn add(&self, path: &Path) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(path.to_path_buf());
        }
    }

    /// `path` when the app wrote it in this run and it is still there; otherwise why not.
    pub fn written(&self, path: &str) -> Result<PathBuf, ServiceError> {
        let path = PathBuf::from(path.trim());
        let known = self
            .0
            .lock()
            .map(|set| set.contains(&path))
            .map_err(|_| ServiceError::storage("the list of written files is unusable"))?;
        if !known {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "{} was not written by Countersign in this session; only a package, export, backup or key saved here can be opened from the app",
                    path.display()
                ),
            ));
        }
        if !path.exists() {
            return Err(ServiceError::not_found(format!(
                "{} is no longer there; it was moved or deleted after it was written",
                path.display()
            )));
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_file_written_in_this_run_and_still_there_can_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("p.pdf");
        std::fs::write(&pdf, b"%PDF").unwrap();
        let files = WrittenFiles::default();
        let err = files.written(&pdf.display().to_string()).unwrap_err();
        assert_eq!(err.code, ErrorCode::Refused, "{err}");

        files.add(&pdf);
        assert_eq!(files.written(&pdf.display().to_string()).unwrap(), pdf);
        let err = files.written("/etc/passwd").unwrap_err();
        assert_eq!(err.code, ErrorCode::Refused, "{err}");

        std::fs::remove_file(&pdf).unwrap();
        let err = files.written(&pdf.display().to_string()).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound, "{err}");
    }
}
