use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use countersign_core::digest::{Sha256, Sha256Stream};

use crate::{Store, StoreError, StoredBlob};

/// A blob being written: bytes go to a temporary file and into the hash at the same time.
/// Dropping it without [`commit`](BlobWriter::commit) removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    store: Store,
    tmp_path: PathBuf,
    file: Option<File>,
    hasher: Sha256Stream,
    size: u64,
}

impl BlobWriter {
    pub(crate) fn create(store: &Store) -> Result<Self, StoreError> {
        let dir = store.tmp_dir();
        // Unique within the process and across processes: pid + a counter + the time.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let tmp_path = dir.join(format!("{}-{n}-{nanos}.part", std::process::id()));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .map_err(|e| StoreError::io("create a temporary file in", &dir, e))?;
        Ok(Self {
            store: store.clone(),
            tmp_path,
            file: Some(file),
            hasher: Sha256Stream::new(),
            size: 0,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::io(
                "write to",
                &self.tmp_path,
                std::io::Error::other("writer already closed"),
            ));
        };
        file.write_all(bytes)
            .map_err(|e| StoreError::io("write", &self.tmp_path, e))?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    pub fn bytes_written(&self) -> u64 {
        self.size
    }

    /// Finishes the blob: fsync, compare with `expected`, rename into place, fsync the directory.
    /// On a mismatch the temporary file is removed and nothing enters the store.
    pub fn commit(mut self, expected: Option<&Sha256>) -> Result<StoredBlob, StoreError> {
        let file = self.file.take();
        let sha256 = std::mem::take(&mut self.hasher).finish();
        if let Some(file) = file {
            file.sync_all()
                .map_err(|e| StoreError::io("flush to disk", &self.tmp_path, e))?;
        }
        if let Some(exp) = expected {
            if *exp != sha256 {
                return Err(StoreError::DigestMismatch {
                    expected: *exp,
                    actual: sha256,
                });
            }
        }
        let dest = self.store.blob_path(&sha256);
        if dest.is_file() {
            // Identical content is already stored; the original is never overwritten.
            return Ok(StoredBlob {
                sha256,
                size: self.size,
                newly_written: false,
            });
        }
        let parent = dest.parent().map(PathBuf::from).unwrap_or_default();
        fs::create_dir_all(&parent).map_err(|e| StoreError::io("create", &parent, e))?;
        let mut perms = fs::metadata(&self.tmp_path)
            .map_err(|e| StoreError::io("inspect", &self.tmp_path, e))?
            .permissions();
        perms.set_readonly(true);
        fs::set_permissions(&self.tmp_path, perms)
            .map_err(|e| StoreError::io("make read-only", &self.tmp_path, e))?;
        fs::rename(&self.tmp_path, &dest)
            .map_err(|e| StoreError::io("move into the store", &dest, e))?;
        if let Ok(d) = File::open(&parent) {
            d.sync_all()
                .map_err(|e| StoreError::io("flush directory", &parent, e))?;
        }
        Ok(StoredBlob {
            sha256,
            size: self.size,
            newly_written: true,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a successful rename the temporary path no longer exists; otherwise clean up.
        self.file = None;
        let _ = fs::remove_file(&self.tmp_path);
    }
}
