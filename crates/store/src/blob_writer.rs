use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use countersign_core::digest::{Sha256, Sha256Stream};

use crate::{Store, StoreError, StoredBlob};

/// Bytes gathered before each write to the temporary file (sources often deliver small chunks).
const WRITE_BUFFER: usize = 64 * 1024;

/// A blob being written: bytes go to a temporary file and into the hash at the same time.
/// Dropping it without [`commit`](BlobWriter::commit) or [`finish`](BlobWriter::finish)
/// removes the temporary file.
#[derive(Debug)]
pub struct BlobWriter {
    store: Store,
    tmp_path: PathBuf,
    file: Option<BufWriter<File>>,
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
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
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

    /// Finishes the blob on its own: fsync, compare with `expected`, rename into place, fsync
    /// the directory. On a mismatch the temporary file is removed and nothing enters the store.
    /// Many blobs at once: [`finish`](BlobWriter::finish) each, then [`Store::store_batch`].
    pub fn commit(self, expected: Option<&Sha256>) -> Result<StoredBlob, StoreError> {
        let store = self.store.clone();
        let written = self.finish(expected)?;
        let mut stored = store.store_batch(vec![written])?;
        stored.pop().ok_or_else(|| {
            StoreError::io(
                "store",
                store.root(),
                std::io::Error::other("the blob was not stored"),
            )
        })
    }

    /// Finishes writing: every byte handed to the file, the digest compared with `expected`.
    /// Nothing is in the store yet and nothing is flushed to disk: that is
    /// [`Store::store_batch`]'s job, once for many blobs. On a mismatch the temporary file is
    /// removed.
    pub fn finish(mut self, expected: Option<&Sha256>) -> Result<WrittenBlob, StoreError> {
        let file = match self.file.take() {
            Some(buffered) => buffered.into_inner().map_err(|e| {
                StoreError::io(
                    "write",
                    &self.tmp_path,
                    std::io::Error::other(e.error().to_string()),
                )
            })?,
            None => {
                return Err(StoreError::io(
                    "finish",
                    &self.tmp_path,
                    std::io::Error::other("writer already closed"),
                ))
            }
        };
        let sha256 = std::mem::take(&mut self.hasher).finish();
        if let Some(exp) = expected {
            if *exp != sha256 {
                return Err(StoreError::DigestMismatch {
                    expected: *exp,
                    actual: sha256,
                });
            }
        }
        // Closed now (its bytes are in the page cache); store_batch reopens it to flush it, so a
        // long queue of written blobs holds no file descriptors.
        drop(file);
        Ok(WrittenBlob {
            tmp_path: std::mem::take(&mut self.tmp_path),
            sha256,
            size: self.size,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After `finish` the temporary file belongs to the WrittenBlob; otherwise clean up.
        self.file = None;
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// A blob whose bytes are all in a temporary file and match the digest the source declared,
/// but which is not in the store yet: [`Store::store_batch`] flushes it to disk and moves it
/// into place. It holds no open file, so a long queue of them holds no file descriptors.
/// Dropped unstored, its temporary file is removed.
#[derive(Debug)]
#[must_use = "a written blob enters the store only through Store::store_batch"]
pub struct WrittenBlob {
    pub(crate) tmp_path: PathBuf,
    pub(crate) sha256: Sha256,
    pub(crate) size: u64,
}

impl WrittenBlob {
    /// The digest of the bytes written.
    pub fn sha256(&self) -> Sha256 {
        self.sha256
    }

    /// The number of bytes written.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for WrittenBlob {
    fn drop(&mut self) {
        // After the rename into the store the temporary path no longer exists.
        let _ = fs::remove_file(&self.tmp_path);
    }
}

impl Store {
    /// Puts written blobs into the store together (group commit): first every new blob's bytes
    /// are flushed to disk, then each is moved to its address (read-only, never over an
    /// existing blob), then every directory that gained a name is flushed. With several blobs
    /// each flush is one `syncfs` of the store's file system (the first commits the journal for
    /// all of them, so the second finds little left to write); on its own, a blob costs an
    /// `fsync` of its file and of its directory. When this returns, every blob is durable under
    /// its name and may be recorded; on an error none may be (some may already be in place,
    /// which is harmless: a blob is only ever its own content, and the next fetch or import
    /// records it). Results are in input order.
    pub fn store_batch(&self, blobs: Vec<WrittenBlob>) -> Result<Vec<StoredBlob>, StoreError> {
        let fresh: Vec<&WrittenBlob> = blobs
            .iter()
            .filter(|b| !self.blob_path(&b.sha256).is_file())
            .collect();
        self.sync_files(&fresh)?;
        let mut dirs = std::collections::BTreeSet::new();
        let mut out = Vec::with_capacity(blobs.len());
        for b in &blobs {
            let dest = self.blob_path(&b.sha256);
            if dest.is_file() {
                // Identical content is already stored (before, or earlier in this batch); the
                // original is never overwritten.
                out.push(StoredBlob {
                    sha256: b.sha256,
                    size: b.size,
                    newly_written: false,
                });
                continue;
            }
            let parent = dest.parent().map(PathBuf::from).unwrap_or_default();
            if !parent.is_dir() {
                fs::create_dir_all(&parent).map_err(|e| StoreError::io("create", &parent, e))?;
                dirs.extend(parent.parent().map(PathBuf::from));
            }
            let mut perms = fs::metadata(&b.tmp_path)
                .map_err(|e| StoreError::io("inspect", &b.tmp_path, e))?
                .permissions();
            perms.set_readonly(true);
            fs::set_permissions(&b.tmp_path, perms)
                .map_err(|e| StoreError::io("make read-only", &b.tmp_path, e))?;
            fs::rename(&b.tmp_path, &dest)
                .map_err(|e| StoreError::io("move into the store", &dest, e))?;
            dirs.insert(parent);
            out.push(StoredBlob {
                sha256: b.sha256,
                size: b.size,
                newly_written: true,
            });
        }
        // Then every name: the blobs are durable under their names before anything records them.
        self.sync_dirs(&dirs)?;
        Ok(out)
    }

    /// Flushes the blobs' bytes: one `syncfs` for the store's file system when there are
    /// several (each `fsync` costs a device flush), else the file itself.
    fn sync_files(&self, blobs: &[&WrittenBlob]) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        if blobs.len() > 1 {
            return syncfs(&self.tmp_dir());
        }
        for b in blobs {
            File::open(&b.tmp_path)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io("flush to disk", &b.tmp_path, e))?;
        }
        Ok(())
    }

    /// Flushes the directories that gained names, as [`Store::sync_files`] does files.
    fn sync_dirs(&self, dirs: &std::collections::BTreeSet<PathBuf>) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        if dirs.len() > 1 {
            return syncfs(&self.root);
        }
        for dir in dirs {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| StoreError::io("flush directory", dir, e))?;
        }
        Ok(())
    }
}

/// `syncfs(2)` of the file system holding `path`: every file's data and every name on it
/// reach the disk, and (Linux 5.8 and later) a failed write-back is reported.
#[cfg(target_os = "linux")]
fn syncfs(path: &std::path::Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| rustix::fs::syncfs(&f).map_err(Into::into))
        .map_err(|e| StoreError::io("flush to disk", path, e))
}
