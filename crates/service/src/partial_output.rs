//! Files and folders written for the user (package PDFs, bundles): whole or not at all.
//!
//! An output is written under a partial name beside its target, `.countersign-partial-…`, held
//! under an advisory lock for as long as the writing process lives, and moved to its target
//! name only when complete; it never replaces an existing file. Dropped before it is placed,
//! it is removed. A process killed while writing leaves its partial behind, unlocked: the next
//! run writing into the same folder recognises the name, finds the lock free and removes it,
//! while a partial another process is still writing stays locked and is left alone.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::ServiceError;

/// Prefix of every partial output's name.
pub const PARTIAL_PREFIX: &str = ".countersign-partial-";

/// An output being written under its partial name.
#[derive(Debug)]
pub(crate) struct PartialOutput {
    target: PathBuf,
    partial: PathBuf,
    is_dir: bool,
    /// Held until the output is placed or removed; a sweep takes it to tell a dead writer's
    /// partial from a live one.
    _lock: File,
    placed: bool,
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> ServiceError {
    ServiceError::storage(format!("could not {what} {}: {e}", path.display()))
}

/// The folder a target goes in: its parent, or the working directory for a bare name.
pub(crate) fn folder_of(target: &Path) -> &Path {
    target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

impl PartialOutput {
    /// A new, empty partial file for `target`, and the handle to write it through.
    pub(crate) fn file(target: &Path) -> Result<(Self, File), ServiceError> {
        let extension = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let (partial, file) = create_unique(folder_of(target), &extension, |p| {
            File::options().write(true).create_new(true).open(p)
        })?;
        let lock = lock(&partial)?;
        Ok((
            Self {
                target: target.to_path_buf(),
                partial,
                is_dir: false,
                _lock: lock,
                placed: false,
            },
            file,
        ))
    }

    /// A new, empty partial folder for `target`.
    pub(crate) fn dir(target: &Path) -> Result<Self, ServiceError> {
        let (partial, ()) = create_unique(folder_of(target), "", |p| fs::create_dir(p))?;
        let lock = lock(&partial)?;
        Ok(Self {
            target: target.to_path_buf(),
            partial,
            is_dir: true,
            _lock: lock,
            placed: false,
        })
    }

    /// Where to write the content.
    pub(crate) fn path(&self) -> &Path {
        &self.partial
    }

    /// Moves the complete output to its target name, never over anything that exists there.
    pub(crate) fn place(&mut self) -> Result<(), ServiceError> {
        let exists = || {
            ServiceError::bad_input(format!(
                "{} already exists; choose a new name (nothing is overwritten)",
                self.target.display()
            ))
        };
        if self.is_dir {
            // rename(2) would replace an empty folder; one that appeared meanwhile is refused.
            if fs::symlink_metadata(&self.target).is_ok() {
                return Err(exists());
            }
            fs::rename(&self.partial, &self.target)
                .map_err(|e| io_error("move into place", &self.target, &e))?;
        } else {
            // A hard link fails if the target exists: no check-then-rename race.
            fs::hard_link(&self.partial, &self.target).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    exists()
                } else {
                    io_error("move into place", &self.target, &e)
                }
            })?;
            let _ = fs::remove_file(&self.partial);
        }
        self.placed = true;
        sync_dir(folder_of(&self.target));
        Ok(())
    }

    /// Removes a placed output again (the act it belongs to could not be recorded). Only ever
    /// removes what this process created: placing never overwrites.
    pub(crate) fn withdraw(mut self) {
        if self.placed {
            remove(&self.target, self.is_dir);
            self.placed = false;
        }
    }
}

impl Drop for PartialOutput {
    fn drop(&mut self) {
        if !self.placed {
            remove(&self.partial, self.is_dir);
        }
    }
}

fn remove(path: &Path, is_dir: bool) {
    let _ = if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates `<folder>/.countersign-partial-<pid>-<n>-<random><extension>` with `make`.
fn create_unique<T>(
    folder: &Path,
    extension: &str,
    make: impl Fn(&Path) -> io::Result<T>,
) -> Result<(PathBuf, T), ServiceError> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut last = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Random, not the time: a name only has to differ from every other partial's.
        let salt = rand_core::RngCore::next_u32(&mut rand_core::OsRng);
        let name = format!(
            "{PARTIAL_PREFIX}{}-{n}-{salt}{extension}",
            std::process::id()
        );
        let path = folder.join(name);
        match make(&path) {
            Ok(v) => return Ok((path, v)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ServiceError::bad_input(format!(
                    "the folder {} does not exist; create it or choose another place",
                    folder.display()
                )))
            }
            Err(e) => return Err(io_error("write in", folder, &e)),
        }
    }
    Err(io_error(
        "find a free name in",
        folder,
        &last.unwrap_or_else(|| io::Error::other("no free name")),
    ))
}

fn lock(path: &Path) -> Result<File, ServiceError> {
    let f = File::open(path).map_err(|e| io_error("open", path, &e))?;
    f.try_lock().map_err(|e| match e {
        TryLockError::WouldBlock => {
            ServiceError::storage(format!("{} is locked by another process", path.display()))
        }
        TryLockError::Error(e) => io_error("lock", path, &e),
    })?;
    Ok(f)
}

/// Removes the partial outputs in `folder` that no living process holds (left by a process
/// that was killed or lost power while writing). Returns how many were removed.
pub(crate) fn sweep(folder: &Path) -> usize {
    let Ok(listing) = fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in listing.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(PARTIAL_PREFIX)
        {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        let Ok(handle) = File::open(&path) else {
            continue;
        };
        if handle.try_lock().is_ok() {
            remove(&path, meta.is_dir());
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn partials(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(PARTIAL_PREFIX))
            .collect()
    }

    #[test]
    fn a_placed_file_appears_whole_and_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.pdf");
        let (mut out, mut f) = PartialOutput::file(&target).unwrap();
        f.write_all(b"%PDF").unwrap();
        assert!(!target.exists());
        assert_eq!(partials(dir.path()).len(), 1);
        out.place().unwrap();
        drop(out);
        assert_eq!(fs::read(&target).unwrap(), b"%PDF");
        assert!(partials(dir.path()).is_empty());

        let (mut again, _) = PartialOutput::file(&target).unwrap();
        let e = again.place().unwrap_err();
        assert!(e.message.contains("already exists"), "{}", e.message);
        drop(again);
        assert_eq!(fs::read(&target).unwrap(), b"%PDF");
        assert!(partials(dir.path()).is_empty());
    }

    #[test]
    fn an_unplaced_or_withdrawn_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = PartialOutput::dir(&dir.path().join("bundle")).unwrap();
        fs::write(bundle.path().join("manifest.json"), b"{}").unwrap();
        drop(bundle);
        let mut placed = PartialOutput::dir(&dir.path().join("bundle")).unwrap();
        placed.place().unwrap();
        assert!(dir.path().join("bundle").is_dir());
        placed.withdraw();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_folder_is_bad_input_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = PartialOutput::file(&dir.path().join("nope/p.pdf")).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::BadInput);
        assert!(e.message.contains("nope") && e.message.contains("does not exist"));
    }

    #[test]
    fn a_sweep_removes_dead_writers_partials_and_keeps_live_ones() {
        let dir = tempfile::tempdir().unwrap();
        // Left by a killed process: named as a partial, nobody holds its lock.
        fs::write(
            dir.path().join(format!("{PARTIAL_PREFIX}1-0-0.pdf")),
            b"%PD",
        )
        .unwrap();
        fs::create_dir(dir.path().join(format!("{PARTIAL_PREFIX}1-1-0"))).unwrap();
        fs::write(dir.path().join("other.pdf"), b"x").unwrap();
        let (live, _f) = PartialOutput::file(&dir.path().join("p.pdf")).unwrap();
        assert_eq!(sweep(dir.path()), 2);
        assert_eq!(
            partials(dir.path()),
            vec![live
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()]
        );
        assert!(dir.path().join("other.pdf").exists());
        drop(live);
        assert!(partials(dir.path()).is_empty());
    }
}
