//! `import PATH`: bring a folder or a `.zip` laid out like the bucket into the verified store,
//! for review with no network.
//!
//! The folder (or archive) root is the prefix root: `<system>/<phase>/<run-id>/…` and
//! `AWSLogs/…`. The same rules as `fetch` apply (see `intake`): every entry's relative path must
//! pass the key-safety check and classify under the layout, or it is skipped and reported (so
//! `..`, absolute paths, backslashes, NUL and symbolic links never reach the store); run
//! manifests are taken in first and the digests they declare are enforced. Archives are read
//! under caps on total size and per-entry compression ratio, so a zip bomb is refused before it
//! is inflated. Objects are recorded with source `import` and URI
//! `file://<canonical path of the folder or archive>/<relative path>`.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use countersign_core::archive_directory::{self, ArchiveError};
use countersign_core::digest::{Sha256, Sha256Stream};
use countersign_ledger::{Actor, NewObject, NewRejection, SourceKind};
use countersign_store::{StoreError, WrittenBlob};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::error::{self as err, ServiceError};
use crate::fetch::{FetchProgress, Rejected, Skipped};
use crate::intake::{self, Placement};
use crate::Service;

/// What to import, and under which size caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    /// A folder or `.zip` laid out like the bucket.
    pub path: PathBuf,
    /// The caps (the defaults unless an administrator chose tighter ones).
    pub limits: ImportLimits,
}

impl ImportRequest {
    /// An import of `path` with the default caps.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            limits: ImportLimits::default(),
        }
    }
}

/// Size caps for an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Total bytes of all entries (uncompressed, for an archive).
    pub max_total_bytes: u64,
    /// Bytes of one entry.
    pub max_entry_bytes: u64,
    /// Largest uncompressed/compressed ratio of an archive entry ...
    pub max_ratio: u64,
    /// ... for entries larger than this (small files may compress very well).
    pub ratio_floor_bytes: u64,
    /// Number of files or archive entries.
    pub max_entries: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 16 << 30,
            max_entry_bytes: 4 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 1 << 20,
            max_entries: 1_000_000,
        }
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// `file://` URI of the canonical folder or archive path.
    pub source: String,
    /// Files (or archive entries) found, directories not counted.
    pub listed: u64,
    pub new: u64,
    /// Already stored with the same digest from the same place.
    pub unchanged: u64,
    pub bytes: u64,
    pub rejected: Vec<Rejected>,
    pub skipped: Vec<Skipped>,
    /// Stopped on request before every entry was taken; what was taken is complete.
    pub cancelled: bool,
}

/// Where an entry's bytes are.
enum Location {
    File(PathBuf),
    Zip(usize),
}

struct Entry {
    rel: String,
    placement: Placement,
    location: Location,
}

enum Source {
    Folder,
    Zip(Box<zip::ZipArchive<File>>),
}

impl Service {
    /// Imports a folder or `.zip` laid out like the bucket, reporting progress after each
    /// entry (in the shape of a fetch's: entries are the objects) and stopping between entries
    /// once `cancel` is set. Each entry is stored and recorded whole or not at all, so a
    /// cancelled import loses nothing and the next import takes up the rest; re-importing the
    /// same source stores nothing new.
    pub fn import(
        &self,
        req: &ImportRequest,
        progress: &dyn Fn(&FetchProgress),
        cancel: &CancelToken,
    ) -> Result<ImportReport, ServiceError> {
        let (path, limits) = (req.path.as_path(), &req.limits);
        let canonical = path.canonicalize().map_err(|e| {
            ServiceError::bad_input(format!(
                "cannot import {}: {e}; give an existing folder or .zip file",
                path.display()
            ))
        })?;
        let Some(root) = canonical.to_str().map(str::to_owned) else {
            return Err(ServiceError::bad_input(format!(
                "cannot import {}: the path is not valid UTF-8; move or rename it",
                canonical.display()
            )));
        };
        let mut report = ImportReport {
            source: format!("file://{root}"),
            ..ImportReport::default()
        };
        let mut entries = Vec::new();
        let mut source = if canonical.is_dir() {
            walk(&canonical, "", 0, limits, &mut entries, &mut report)?;
            Source::Folder
        } else if canonical.is_file() {
            let archive = open_zip(&canonical, limits, &mut entries, &mut report)?;
            Source::Zip(Box::new(archive))
        } else {
            return Err(ServiceError::bad_input(format!(
                "cannot import {root}: not a folder or a regular file"
            )));
        };
        report.listed = (entries.len() + report.skipped.len()) as u64;

        // Manifests first: they declare the digests of the rest of their run.
        let (manifests, rest): (Vec<Entry>, Vec<Entry>) = entries
            .into_iter()
            .partition(|e| intake::is_manifest(&e.rel, &e.placement));
        let earlier_rejections: HashSet<(String, Option<Sha256>)> = self
            .ledger()?
            .rejections()
            .map_err(err::from_ledger)?
            .into_iter()
            .map(|r| (r.uri, r.actual_sha256))
            .collect();
        let mut run = Intake {
            declared: HashMap::new(),
            earlier_rejections,
            actor: Actor::system(),
            total: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            state: FetchProgress {
                listed: report.listed,
                total: (manifests.len() + rest.len()) as u64,
                ..FetchProgress::default()
            },
        };
        progress(&run.state);
        for (phase, batch) in [manifests, rest].into_iter().enumerate() {
            let mut taken_manifests = Vec::new();
            for e in batch {
                if cancel.is_cancelled() {
                    // What is staged is whole: record it, so nothing written is lost.
                    self.flush(&mut run, &mut report)?;
                    report.cancelled = true;
                    return Ok(report);
                }
                let uri = format!("{}/{}", report.source, e.rel);
                let expected = run.declared.get(&e.rel).copied();
                match self.stage_entry(&mut source, &e, &uri, expected, limits, &mut run.total)? {
                    Staged::Mismatch { expected, actual } => {
                        self.reject_entry(&mut run, &mut report, uri, expected, actual)?;
                        run.state.done += 1;
                        run.state.current_key = Some(e.rel.clone());
                        progress(&run.state);
                    }
                    Staged::Unchanged => {
                        report.unchanged += 1;
                        run.state.done += 1;
                        run.state.unchanged = report.unchanged;
                        run.state.current_key = Some(e.rel.clone());
                        progress(&run.state);
                    }
                    Staged::Pending(blob) => {
                        // Reported as taken now; a batch is committed whole before the import
                        // returns, even when it is cancelled.
                        run.state.done += 1;
                        run.state.new += 1;
                        run.state.bytes += blob.size();
                        run.state.current_key = Some(e.rel.clone());
                        progress(&run.state);
                        run.batch_bytes += blob.size();
                        run.batch.push(StagedEntry {
                            rel: e.rel.clone(),
                            uri,
                            run_key: match &e.placement {
                                Placement::Run(run) => Some(run.to_string()),
                                Placement::Audit => None,
                            },
                            blob,
                        });
                        if run.batch.len() >= BATCH_ENTRIES || run.batch_bytes >= BATCH_BYTES {
                            self.flush(&mut run, &mut report)?;
                        }
                    }
                }
                if phase == 0 {
                    taken_manifests.push(e);
                }
            }
            self.flush(&mut run, &mut report)?;
            for e in taken_manifests {
                let Placement::Run(key) = &e.placement else {
                    continue;
                };
                let uri = format!("{}/{}", report.source, e.rel);
                if let Some(rec) = self
                    .ledger()?
                    .find_object(&uri, None, None)
                    .map_err(err::from_ledger)?
                {
                    if let Ok(bytes) = self.store().read(&rec.sha256) {
                        run.declared.extend(intake::declared_digests(key, &bytes));
                    }
                }
            }
        }
        if !report.cancelled {
            self.record_sync(
                &Actor::system(),
                &crate::sync_mark::SyncTally {
                    source: report.source.clone(),
                    listed: report.listed,
                    new: report.new,
                    unchanged: report.unchanged,
                    rejected: report.rejected.len() as u64,
                    failed: 0,
                },
            );
        }
        if report.new > 0 || !report.rejected.is_empty() {
            // Derive and record the summaries of the runs that changed, so the run list that
            // follows reads them instead of parsing every report.
            let _ = self.runs();
        }
        Ok(report)
    }

    /// Reads one entry: unchanged when the same place already holds a stored object with the
    /// same bytes (hashed without writing anything), else written to the store, not yet
    /// committed.
    fn stage_entry(
        &self,
        source: &mut Source,
        e: &Entry,
        uri: &str,
        expected: Option<Sha256>,
        limits: &ImportLimits,
        total: &mut u64,
    ) -> Result<Staged, ServiceError> {
        let known = self
            .ledger()?
            .find_object(uri, None, None)
            .map_err(err::from_ledger)?;
        if let Some(k) = known.filter(|k| self.store().contains(&k.sha256)) {
            let mut hasher = HashingSink::default();
            let n = copy_entry(source, e, uri, limits, &mut hasher)?;
            let sha = hasher.0.finish();
            if sha == k.sha256 && n == k.size && expected.is_none_or(|x| x == sha) {
                count_total(total, n, limits)?;
                return Ok(Staged::Unchanged);
            }
        }
        let mut writer = self.store().writer().map_err(err::from_store)?;
        let n = copy_entry(source, e, uri, limits, &mut writer)?;
        count_total(total, n, limits)?;
        match writer.finish(expected.as_ref()) {
            Ok(blob) => Ok(Staged::Pending(blob)),
            Err(StoreError::DigestMismatch { expected, actual }) => {
                Ok(Staged::Mismatch { expected, actual })
            }
            Err(e) => Err(err::from_store(e)),
        }
    }

    /// An entry that contradicts the digest its run.json declares: rejected and recorded as
    /// such (once per place and content), never stored.
    fn reject_entry(
        &self,
        run: &mut Intake,
        report: &mut ImportReport,
        uri: String,
        expected: Sha256,
        actual: Sha256,
    ) -> Result<(), ServiceError> {
        let reason = format!(
            "content does not match the SHA-256 declared in run.json: expected {expected}, found {actual}"
        );
        if !run
            .earlier_rejections
            .contains(&(uri.clone(), Some(actual)))
        {
            self.record_rejection(
                &NewRejection {
                    uri: uri.clone(),
                    version_id: None,
                    etag: None,
                    reason: reason.clone(),
                    expected_sha256: Some(expected),
                    actual_sha256: Some(actual),
                },
                &run.actor,
            )?;
        }
        report.rejected.push(Rejected { uri, reason });
        run.state.rejected += 1;
        Ok(())
    }

    /// Commits the staged blobs ([`Store::store_batch`](countersign_store::Store::store_batch):
    /// a few disk syncs for all of them), then records them, each with its `object.stored`
    /// event, in one ledger transaction: nothing is recorded before its bytes are durable.
    fn flush(&self, run: &mut Intake, report: &mut ImportReport) -> Result<(), ServiceError> {
        if run.batch.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut run.batch);
        run.batch_bytes = 0;
        let (meta, blobs): (Vec<_>, Vec<WrittenBlob>) = staged
            .into_iter()
            .map(|s| ((s.rel, s.uri, s.run_key), s.blob))
            .unzip();
        let stored = self.store().store_batch(blobs).map_err(err::from_store)?;
        let objects: Vec<NewObject> = meta
            .into_iter()
            .zip(&stored)
            .map(|((rel, uri, run_key), blob)| NewObject {
                sha256: blob.sha256,
                size: blob.size,
                uri,
                bucket: None,
                key: Some(rel),
                version_id: None,
                etag: None,
                last_modified: None,
                source: SourceKind::Import,
                run_key,
            })
            .collect();
        let rows: Vec<(&NewObject, &[(String, String)])> =
            objects.iter().map(|o| (o, &[][..])).collect();
        self.ledger()?
            .add_objects(&rows, &run.actor)
            .map_err(err::from_ledger)?;
        for blob in &stored {
            report.new += 1;
            report.bytes += blob.size;
        }
        Ok(())
    }
}

/// Entries staged per batch, and the bytes: each batch costs a few disk syncs and one ledger
/// transaction instead of three syncs per entry.
const BATCH_ENTRIES: usize = 512;
const BATCH_BYTES: u64 = 64 << 20;

/// The state of one import between entries.
struct Intake {
    declared: HashMap<String, Sha256>,
    earlier_rejections: HashSet<(String, Option<Sha256>)>,
    actor: Actor,
    total: u64,
    batch: Vec<StagedEntry>,
    batch_bytes: u64,
    state: FetchProgress,
}

/// An entry written to the store, waiting for its batch to be committed and recorded.
struct StagedEntry {
    rel: String,
    uri: String,
    run_key: Option<String>,
    blob: WrittenBlob,
}

enum Staged {
    Unchanged,
    Pending(WrittenBlob),
    /// The bytes contradict the digest the run's run.json declares.
    Mismatch {
        expected: Sha256,
        actual: Sha256,
    },
}

/// Where entry bytes go: the store writer, or only a hash.
trait Sink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ServiceError>;
}

impl Sink for countersign_store::BlobWriter {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ServiceError> {
        self.write(bytes).map_err(err::from_store)
    }
}

#[derive(Default)]
struct HashingSink(Sha256Stream);

impl Sink for HashingSink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ServiceError> {
        self.0.update(bytes);
        Ok(())
    }
}

fn count_total(total: &mut u64, n: u64, limits: &ImportLimits) -> Result<(), ServiceError> {
    *total += n;
    if *total > limits.max_total_bytes {
        return Err(ServiceError::bad_input(format!(
            "refused the import: more than {} bytes in total; import a smaller folder or archive",
            limits.max_total_bytes
        )));
    }
    Ok(())
}

/// Copies one entry's bytes into `sink`, under the caps, checking an archive entry's size and
/// CRC-32 as it goes.
fn copy_entry(
    source: &mut Source,
    e: &Entry,
    uri: &str,
    limits: &ImportLimits,
    sink: &mut dyn Sink,
) -> Result<u64, ServiceError> {
    match (source, &e.location) {
        (Source::Folder, Location::File(p)) => {
            let f = File::open(p).map_err(|x| read_error(uri, &x))?;
            copy_capped(f, sink, limits.max_entry_bytes, uri).map_err(|x| x.error)
        }
        (Source::Zip(archive), Location::Zip(i)) => {
            let f = archive.by_index(*i).map_err(|x| {
                ServiceError::bad_input(format!("cannot read {uri} from the archive: {x}"))
            })?;
            let declared_size = f.size();
            // The archive's own checks (CRC-32, a stream cut short) fail as InvalidData or
            // UnexpectedEof: the archive is bad input, not trouble with this machine.
            let n = copy_capped(f, sink, declared_size.min(limits.max_entry_bytes), uri).map_err(
                |x| {
                    if x.damaged {
                        ServiceError::bad_input(format!(
                            "refused the archive: entry {} is damaged ({}); nothing of it was \
                             stored, get an intact copy of the archive",
                            e.rel, x.error.message
                        ))
                    } else {
                        x.error
                    }
                },
            )?;
            if n != declared_size {
                return Err(ServiceError::bad_input(format!(
                    "refused the archive: entry {} inflates to {n} bytes but declares {declared_size}; \
                     the archive is damaged or crafted",
                    e.rel
                )));
            }
            Ok(n)
        }
        _ => Err(ServiceError::storage(format!(
            "internal mix-up of import sources for {uri}"
        ))),
    }
}

fn read_error(uri: &str, e: &io::Error) -> ServiceError {
    ServiceError::storage(format!("cannot read {uri}: {e}"))
}

/// A failed copy, and whether the source reported its own bytes as damaged.
struct CopyError {
    error: ServiceError,
    damaged: bool,
}

impl From<ServiceError> for CopyError {
    fn from(error: ServiceError) -> Self {
        Self {
            error,
            damaged: false,
        }
    }
}

/// Copies at most `cap` bytes into `sink`; more is an error naming the entry.
fn copy_capped(
    reader: impl Read,
    sink: &mut dyn Sink,
    cap: u64,
    uri: &str,
) -> Result<u64, CopyError> {
    let mut limited = reader.take(cap.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let got = limited.read(&mut buf).map_err(|e| CopyError {
            error: read_error(uri, &e),
            damaged: matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            ),
        })?;
        if got == 0 {
            break;
        }
        n += got as u64;
        if n > cap {
            return Err(ServiceError::bad_input(format!(
                "refused the import: {uri} is larger than the {cap}-byte limit for one file"
            ))
            .into());
        }
        sink.put(&buf[..got])?;
    }
    Ok(n)
}

/// Lists a folder recursively (sorted, symbolic links not followed).
fn walk(
    dir: &Path,
    rel: &str,
    depth: usize,
    limits: &ImportLimits,
    out: &mut Vec<Entry>,
    report: &mut ImportReport,
) -> Result<(), ServiceError> {
    if depth > 64 {
        report.skipped.push(Skipped {
            key: rel.to_owned(),
            reason: "folder nested more than 64 levels deep".to_owned(),
        });
        return Ok(());
    }
    let listing = std::fs::read_dir(dir)
        .map_err(|e| ServiceError::storage(format!("cannot list {}: {e}", dir.display())))?;
    let mut children = Vec::new();
    for entry in listing {
        let entry = entry
            .map_err(|e| ServiceError::storage(format!("cannot list {}: {e}", dir.display())))?;
        children.push(entry);
    }
    children.sort_by_key(|e| e.file_name());
    for entry in children {
        let name = entry.file_name();
        let shown = name.to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() {
            shown.clone()
        } else {
            format!("{rel}/{shown}")
        };
        if name.to_str().is_none() {
            report.skipped.push(Skipped {
                key: child_rel,
                reason: "file name is not valid UTF-8".to_owned(),
            });
            continue;
        }
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| {
            ServiceError::storage(format!("cannot inspect {}: {e}", path.display()))
        })?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            report.skipped.push(Skipped {
                key: child_rel,
                reason: "symbolic link: not followed".to_owned(),
            });
        } else if kind.is_dir() {
            walk(&path, &child_rel, depth + 1, limits, out, report)?;
        } else if !kind.is_file() {
            report.skipped.push(Skipped {
                key: child_rel,
                reason: "not a regular file".to_owned(),
            });
        } else {
            push_entry(out, report, limits, child_rel, Location::File(path))?;
        }
    }
    Ok(())
}

fn push_entry(
    out: &mut Vec<Entry>,
    report: &mut ImportReport,
    limits: &ImportLimits,
    rel: String,
    location: Location,
) -> Result<(), ServiceError> {
    if out.len() >= limits.max_entries {
        return Err(ServiceError::bad_input(format!(
            "refused the import: more than {} files; import a smaller folder or archive",
            limits.max_entries
        )));
    }
    match intake::place(&rel) {
        Ok(placement) => out.push(Entry {
            rel,
            placement,
            location,
        }),
        Err(reason) => report.skipped.push(Skipped { key: rel, reason }),
    }
    Ok(())
}

/// Largest central directory read to check entry names: a million entries with long names.
const MAX_DIRECTORY_BYTES: u64 = 512 << 20;

/// Refuses an archive with two entries of one name (an extractor keeps one of them, so the
/// archive's author chooses which report is seen) or whose local headers name an entry
/// differently from its central directory. The zip reader keeps only the last of equal names,
/// so the directory is read here record by record.
fn check_names(path: &Path, archive: &zip::ZipArchive<File>) -> Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let io = |what: &str, e: io::Error| format!("cannot read its {what} ({e})");
    let mut file = File::open(path).map_err(|e| io("directory", e))?;
    let start = archive.central_directory_start();
    let len = file.metadata().map_err(|e| io("directory", e))?.len();
    let size = len.saturating_sub(start);
    if size > MAX_DIRECTORY_BYTES {
        return Err(format!(
            "its central directory is {size} bytes, more than the {MAX_DIRECTORY_BYTES} this \
             importer reads"
        ));
    }
    file.seek(SeekFrom::Start(start))
        .map_err(|e| io("directory", e))?;
    let mut directory = Vec::new();
    file.by_ref()
        .take(size)
        .read_to_end(&mut directory)
        .map_err(|e| io("directory", e))?;
    let entries =
        archive_directory::central_entries(&directory, archive.len()).map_err(|e| e.to_string())?;
    if let Some(dup) = archive_directory::first_duplicate(&entries) {
        return Err(ArchiveError::DuplicateName {
            name: dup.shown_name(),
        }
        .to_string());
    }
    let mut header = Vec::new();
    for entry in &entries {
        let at = archive.offset().saturating_add(entry.local_header_offset);
        file.seek(SeekFrom::Start(at))
            .map_err(|e| io("local headers", e))?;
        header.clear();
        file.by_ref()
            .take(archive_directory::local_header_len(entry) as u64)
            .read_to_end(&mut header)
            .map_err(|e| io("local headers", e))?;
        archive_directory::check_local_header(entry, &header).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Opens an archive and lists its entries, refusing it when its declared sizes exceed the caps.
fn open_zip(
    path: &Path,
    limits: &ImportLimits,
    out: &mut Vec<Entry>,
    report: &mut ImportReport,
) -> Result<zip::ZipArchive<File>, ServiceError> {
    let shown = path.display();
    let file =
        File::open(path).map_err(|e| ServiceError::storage(format!("cannot open {shown}: {e}")))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        ServiceError::bad_input(format!(
            "cannot import {shown}: not a readable .zip archive ({e}); give a folder or a .zip file"
        ))
    })?;
    check_names(path, &archive).map_err(|e| {
        ServiceError::bad_input(format!(
            "refused {shown}: {e}; different tools would see different files in it, so nothing \
             was imported (build the archive again from the run folders)"
        ))
    })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| {
            ServiceError::bad_input(format!(
                "cannot import {shown}: entry {i} is unreadable ({e})"
            ))
        })?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            report.skipped.push(Skipped {
                key: name,
                reason: "symbolic link: not followed".to_owned(),
            });
            continue;
        }
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        if size > limits.ratio_floor_bytes && size / compressed > limits.max_ratio {
            return Err(ServiceError::bad_input(format!(
                "refused {shown}: entry {name:?} would inflate {compressed} bytes to {size} \
                 (more than {}:1); the archive looks like a zip bomb",
                limits.max_ratio
            )));
        }
        if size > limits.max_entry_bytes {
            return Err(ServiceError::bad_input(format!(
                "refused {shown}: entry {name:?} is {size} bytes, more than the {}-byte limit for one file",
                limits.max_entry_bytes
            )));
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(ServiceError::bad_input(format!(
                "refused {shown}: its entries add up to more than {} bytes uncompressed; \
                 the archive looks like a zip bomb or is too large to import",
                limits.max_total_bytes
            )));
        }
        drop(entry);
        push_entry(out, report, limits, name, Location::Zip(i))?;
    }
    Ok(archive)
}
