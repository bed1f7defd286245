//! The evidence store: content-addressed, write-once, verify-on-read.
//!
//! Every blob lives at `objects/sha256/<first two hex>/<64 hex>`. A blob is written to
//! `tmp/`, hashed while it is written, fsynced, checked against the digest the caller expects,
//! and only then renamed into place (and the directory fsynced). A stored blob is never
//! overwritten or deleted by this crate, and every read re-hashes the bytes, so a changed byte
//! is reported instead of shown. Many blobs enter together through [`Store::store_batch`]: the
//! same steps, with one flush to disk for the whole batch at each step (group commit). Object
//! keys never become paths here: the only path component derived from input is a digest.
#![forbid(unsafe_code)]

mod blob_writer;
mod error;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use countersign_core::digest::{Sha256, Sha256Stream};

pub use blob_writer::{BlobWriter, WrittenBlob};
pub use error::StoreError;

/// A blob as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: Sha256,
    pub size: u64,
    /// False when an identical blob was already present (nothing was written).
    pub newly_written: bool,
}

/// A content-addressed blob store rooted at one directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Bytes handed out whole by [`Store::read`] (shared by clones): what callers held in
    /// memory, as opposed to what [`Store::verify`] only streamed through the hash.
    read_bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) a store at `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for dir in [root.join("objects").join("sha256"), root.join("tmp")] {
            fs::create_dir_all(&dir)
                .map_err(|e| StoreError::io("create the store directory", &dir, e))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            read_bytes: std::sync::Arc::default(),
        })
    }

    /// Opens an existing store for reading only (an auditor's copy): nothing is created.
    pub fn open_read_only(root: &Path) -> Result<Self, StoreError> {
        let objects = root.join("objects").join("sha256");
        if !objects.is_dir() {
            return Err(StoreError::io(
                "find the store's objects in",
                root,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        Ok(Self {
            root: root.to_path_buf(),
            read_bytes: std::sync::Arc::default(),
        })
    }

    /// Removes what writers left in `tmp/` (a process killed while writing a blob leaves its
    /// `.part` file). Only safe while no other writer uses the store: the caller holds the
    /// home's lock. Returns how many files were removed.
    pub fn remove_leftovers(&self) -> Result<usize, StoreError> {
        let dir = self.tmp_dir();
        let listing = match fs::read_dir(&dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("list", &dir, e)),
        };
        let mut removed = 0;
        for entry in listing {
            let entry = entry.map_err(|e| StoreError::io("list", &dir, e))?;
            let path = entry.path();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file {
                fs::remove_file(&path)
                    .map_err(|e| StoreError::io("remove the leftover", &path, e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Whether any blob is stored.
    pub fn has_objects(&self) -> Result<bool, StoreError> {
        let objects = self.root.join("objects").join("sha256");
        let shards = match fs::read_dir(&objects) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("list", &objects, e)),
        };
        for shard in shards {
            let shard = shard.map_err(|e| StoreError::io("list", &objects, e))?;
            let mut blobs =
                fs::read_dir(shard.path()).map_err(|e| StoreError::io("list", &shard.path(), e))?;
            if blobs.next().is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// How many blobs are stored.
    pub fn count_objects(&self) -> Result<u64, StoreError> {
        let objects = self.root.join("objects").join("sha256");
        let mut n = 0u64;
        let shards = match fs::read_dir(&objects) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("list", &objects, e)),
        };
        for shard in shards {
            let shard = shard.map_err(|e| StoreError::io("list", &objects, e))?;
            let blobs =
                fs::read_dir(shard.path()).map_err(|e| StoreError::io("list", &shard.path(), e))?;
            n += blobs.count() as u64;
        }
        Ok(n)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest lives (whether or not it exists).
    pub fn blob_path(&self, sha: &Sha256) -> PathBuf {
        let hex = sha.to_hex();
        self.root
            .join("objects")
            .join("sha256")
            .join(&hex[..2])
            .join(hex)
    }

    pub fn contains(&self, sha: &Sha256) -> bool {
        self.blob_path(sha).is_file()
    }

    /// Starts writing a blob. Feed it bytes, then [`BlobWriter::commit`] it with the digest the
    /// source declared (if any): a mismatch leaves nothing in the store.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        BlobWriter::create(self)
    }

    /// Stores a complete byte slice.
    pub fn put(&self, bytes: &[u8], expected: Option<&Sha256>) -> Result<StoredBlob, StoreError> {
        let mut w = self.writer()?;
        w.write(bytes)?;
        w.commit(expected)
    }

    /// Reads a blob and re-verifies it against its address.
    pub fn read(&self, sha: &Sha256) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(sha);
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing { sha256: *sha, path });
            }
            Err(e) => return Err(StoreError::io("open the stored object", &path, e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io("read the stored object", &path, e))?;
        let actual = Sha256::of(&bytes);
        if actual != *sha {
            return Err(StoreError::Changed {
                expected: *sha,
                actual,
                path,
            });
        }
        self.read_bytes
            .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(bytes)
    }

    /// How many bytes [`Store::read`] has handed out whole since the store was opened (by this
    /// handle and its clones). Streaming checks ([`Store::verify`]) are not counted.
    pub fn bytes_read(&self) -> u64 {
        self.read_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Re-hashes a blob without keeping its bytes (streaming).
    pub fn verify(&self, sha: &Sha256) -> Result<u64, StoreError> {
        let path = self.blob_path(sha);
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing { sha256: *sha, path });
            }
            Err(e) => return Err(StoreError::io("open the stored object", &path, e)),
        };
        let mut hasher = Sha256Stream::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| StoreError::io("read the stored object", &path, e))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buf[..n]);
        }
        let actual = hasher.finish();
        if actual != *sha {
            return Err(StoreError::Changed {
                expected: *sha,
                actual,
                path,
            });
        }
        Ok(size)
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_read_round_trip_and_idempotence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store.put(b"evidence", None).unwrap();
        assert!(a.newly_written);
        assert_eq!(a.sha256, Sha256::of(b"evidence"));
        assert_eq!(store.read(&a.sha256).unwrap(), b"evidence");
        let again = store.put(b"evidence", Some(&a.sha256)).unwrap();
        assert!(!again.newly_written);
        assert_eq!(store.verify(&a.sha256).unwrap(), 8);
        // nothing is left behind in tmp/
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_batch_enters_the_store_together_and_nothing_stays_in_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let write = |bytes: &[u8]| {
            let mut w = store.writer().unwrap();
            w.write(bytes).unwrap();
            w.finish(None).unwrap()
        };
        let before = store.put(b"blob 3", None).unwrap();
        let batch: Vec<WrittenBlob> = (0..40u32)
            .map(|i| write(format!("blob {}", i % 20).as_bytes()))
            .collect();
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 40);
        let stored = store.store_batch(batch).unwrap();
        assert_eq!(stored.len(), 40);
        // Each content once: the first copy in the batch is written, the rest (and the one
        // stored before) are recognised.
        assert_eq!(stored.iter().filter(|b| b.newly_written).count(), 19);
        assert!(!stored[3].newly_written);
        assert_eq!(stored[3].sha256, before.sha256);
        for b in &stored {
            assert_eq!(store.read(&b.sha256).unwrap().len() as u64, b.size);
            assert!(fs::metadata(store.blob_path(&b.sha256))
                .unwrap()
                .permissions()
                .readonly());
        }
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);

        // Written but never stored: the temporary file goes, nothing enters the store.
        let dropped = write(b"never stored");
        let sha = dropped.sha256();
        drop(dropped);
        assert!(!store.contains(&sha));
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
        // A mismatch at finish leaves nothing either.
        let mut w = store.writer().unwrap();
        w.write(b"evidence").unwrap();
        let err = w.finish(Some(&Sha256::of(b"other"))).unwrap_err();
        assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn leftovers_in_tmp_are_removed_and_blobs_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.has_objects().unwrap());
        store.put(b"kept", None).unwrap();
        // What a writer killed mid-blob leaves.
        fs::write(store.tmp_dir().join("4242-0-1.part"), b"half a blo").unwrap();
        assert_eq!(store.remove_leftovers().unwrap(), 1);
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
        assert!(store.has_objects().unwrap());
        assert_eq!(store.count_objects().unwrap(), 1);
        let ro = Store::open_read_only(dir.path()).unwrap();
        assert_eq!(ro.read(&Sha256::of(b"kept")).unwrap(), b"kept");
        assert!(Store::open_read_only(&dir.path().join("none")).is_err());
    }

    #[test]
    fn a_batch_is_committed_in_order_with_mismatches_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put(b"already here", None).unwrap();
        let pending = |bytes: &[u8], expected: Option<Sha256>| {
            let mut w = store.writer().unwrap();
            w.write(bytes).unwrap();
            w.finish(expected.as_ref())
        };
        let two = pending(b"two", Some(Sha256::of(b"not two")));
        assert!(matches!(two, Err(StoreError::DigestMismatch { .. })));
        let results = store
            .store_batch(vec![
                pending(b"one", None).unwrap(),
                pending(b"already here", None).unwrap(),
                pending(b"three", Some(Sha256::of(b"three"))).unwrap(),
                pending(b"one", None).unwrap(),
            ])
            .unwrap();
        assert!(results[0].newly_written);
        assert!(!results[1].newly_written);
        assert!(results[2].newly_written);
        assert!(!results[3].newly_written);
        assert_eq!(store.read(&Sha256::of(b"three")).unwrap(), b"three");
        assert!(!store.contains(&Sha256::of(b"two")));
        assert_eq!(store.count_objects().unwrap(), 3);
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
        // Dropped without committing: nothing stays.
        drop(pending(b"abandoned", None));
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn zero_byte_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let b = store.put(b"", None).unwrap();
        assert_eq!(b.size, 0);
        assert_eq!(store.read(&b.sha256).unwrap(), b"");
    }

    #[test]
    fn declared_digest_mismatch_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let wrong = Sha256::of(b"something else");
        let err = store.put(b"evidence", Some(&wrong)).unwrap_err();
        assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&wrong.to_hex()));
        assert!(!store.contains(&Sha256::of(b"evidence")));
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_changed_byte_is_reported_never_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let b = store.put(b"evidence", None).unwrap();
        let path = store.blob_path(&b.sha256);
        let mut perms = fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&path, perms).unwrap();
        fs::write(&path, b"evidencE").unwrap();
        let err = store.read(&b.sha256).unwrap_err();
        assert!(matches!(err, StoreError::Changed { .. }), "{err}");
        assert!(matches!(
            store.verify(&b.sha256).unwrap_err(),
            StoreError::Changed { .. }
        ));
        fs::remove_file(&path).unwrap();
        assert!(matches!(
            store.read(&b.sha256).unwrap_err(),
            StoreError::Missing { .. }
        ));
    }

    #[test]
    fn stored_blobs_are_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let b = store.put(b"x", None).unwrap();
        assert!(fs::metadata(store.blob_path(&b.sha256))
            .unwrap()
            .permissions()
            .readonly());
    }
}
