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

impl BlobWriter {
    /// Finishes writing without making the blob durable or placing it: for batches, where one
    /// [`Store::commit_all`] then flushes many blobs with a few disk syncs instead of two each.
    pub fn finish(mut self) -> PendingBlob {
        PendingBlob {
            tmp_path: std::mem::take(&mut self.tmp_path),
            file: self.file.take(),
            sha256: std::mem::take(&mut self.hasher).finish(),
            size: self.size,
        }
    }
}

/// A blob written and hashed, not yet synced to disk nor in place. Dropping it removes the
/// temporary file.
#[derive(Debug)]
pub struct PendingBlob {
    tmp_path: PathBuf,
    file: Option<File>,
    sha256: Sha256,
    size: u64,
}

impl PendingBlob {
    /// The digest of the bytes written.
    pub fn sha256(&self) -> Sha256 {
        self.sha256
    }

    /// The number of bytes written.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for PendingBlob {
    fn drop(&mut self) {
        self.file = None;
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

impl Store {
    /// Commits blobs written with [`BlobWriter::finish`], each checked against the digest its
    /// source declared: every new blob's bytes are synced to disk, then each is renamed into
    /// place, then each directory that gained a blob is synced, so a blob is durable under its
    /// name before this returns. The first sync commits the file system's journal for all of
    /// them, so the later ones find nothing left to write. Results are in input order; a
    /// mismatch leaves nothing of that blob in the store.
    pub fn commit_all(
        &self,
        pending: Vec<(PendingBlob, Option<Sha256>)>,
    ) -> Vec<Result<StoredBlob, StoreError>> {
        let mut out = Vec::with_capacity(pending.len());
        let mut to_place = Vec::new();
        for (blob, expected) in pending {
            if let Some(exp) = expected {
                if exp != blob.sha256 {
                    out.push(Err(StoreError::DigestMismatch {
                        expected: exp,
                        actual: blob.sha256,
                    }));
                    continue;
                }
            }
            if self.blob_path(&blob.sha256).is_file() {
                // Identical content is already stored; the original is never overwritten.
                out.push(Ok(StoredBlob {
                    sha256: blob.sha256,
                    size: blob.size,
                    newly_written: false,
                }));
                continue;
            }
            out.push(Ok(StoredBlob {
                sha256: blob.sha256,
                size: blob.size,
                newly_written: true,
            }));
            to_place.push((out.len() - 1, blob));
        }
        // Every new blob's bytes on disk before any is renamed into place.
        if let Err(e) = self.sync_files(to_place.iter().map(|(_, b)| b)) {
            for (i, _) in &to_place {
                out[*i] = Err(StoreError::io(
                    "flush to disk",
                    &self.tmp_dir(),
                    clone_io(&e),
                ));
            }
            return out;
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (i, mut blob) in to_place {
            match self.place(&mut blob) {
                Ok(Some(dir)) => {
                    dirs.insert(dir);
                }
                Ok(None) => {
                    if let Some(Ok(b)) = out.get_mut(i) {
                        b.newly_written = false;
                    }
                }
                Err(e) => out[i] = Err(e),
            }
        }
        // Then every name: the blobs are durable under their names before anything records them.
        if let Err(e) = self.sync_dirs(&dirs) {
            for r in out.iter_mut() {
                if matches!(r, Ok(b) if b.newly_written) {
                    *r = Err(StoreError::io("flush directory", &self.root, clone_io(&e)));
                }
            }
        }
        out
    }

    /// Syncs the pending blobs' bytes: one `syncfs` for the store's file system when there are
    /// several (each `fsync` costs a device flush), else each file.
    fn sync_files<'a>(
        &self,
        blobs: impl ExactSizeIterator<Item = &'a PendingBlob>,
    ) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        if blobs.len() > 1 {
            return rustix::fs::syncfs(&File::open(self.tmp_dir())?).map_err(Into::into);
        }
        for b in blobs {
            if let Some(f) = &b.file {
                f.sync_all()?;
            }
        }
        Ok(())
    }

    /// Syncs the directories that gained blobs, as [`Store::sync_files`] does files.
    fn sync_dirs(&self, dirs: &std::collections::BTreeSet<PathBuf>) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        if dirs.len() > 1 {
            return rustix::fs::syncfs(&File::open(&self.root)?).map_err(Into::into);
        }
        for dir in dirs {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Renames a synced pending blob into place, read-only. `None` when an identical blob
    /// appeared meanwhile (the pending copy is dropped); else the directory to sync.
    fn place(&self, blob: &mut PendingBlob) -> Result<Option<PathBuf>, StoreError> {
        let dest = self.blob_path(&blob.sha256);
        if dest.is_file() {
            return Ok(None);
        }
        let parent = dest.parent().map(PathBuf::from).unwrap_or_default();
        fs::create_dir_all(&parent).map_err(|e| StoreError::io("create", &parent, e))?;
        let mut perms = fs::metadata(&blob.tmp_path)
            .map_err(|e| StoreError::io("inspect", &blob.tmp_path, e))?
            .permissions();
        perms.set_readonly(true);
        fs::set_permissions(&blob.tmp_path, perms)
            .map_err(|e| StoreError::io("make read-only", &blob.tmp_path, e))?;
        fs::rename(&blob.tmp_path, &dest)
            .map_err(|e| StoreError::io("move into the store", &dest, e))?;
        blob.tmp_path = PathBuf::new();
        Ok(Some(parent))
    }
}

fn clone_io(e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), e.to_string())
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a successful rename (or `finish`) there is nothing here to remove.
        self.file = None;
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}
