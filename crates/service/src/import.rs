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

use countersign_core::digest::Sha256;
use countersign_ledger::{Actor, NewObject, NewRejection, SourceKind};
use countersign_store::{StoreError, WrittenBlob};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::error::{self as err, ServiceError};
use crate::fetch::{FetchProgress, Rejected, Skipped};
use crate::intake::{self, Placement};
use crate::Service;

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

enum Taken {
    New(u64, Box<Pending>),
    Unchanged,
    Rejected(String),
}

/// An entry written and checked, waiting to enter the store and the ledger with its group.
struct Pending {
    blob: WrittenBlob,
    object: NewObject,
}

/// Most entries put into the store and recorded in one transaction.
const GROUP_COMMIT_MAX: usize = 256;

impl Service {
    /// Imports a folder or `.zip` with the default [`ImportLimits`].
    pub fn import(&self, path: &Path) -> Result<ImportReport, ServiceError> {
        self.import_with_limits(path, &ImportLimits::default())
    }

    /// Imports a folder or `.zip` laid out like the bucket. Re-importing the same source stores
    /// nothing new.
    pub fn import_with_limits(
        &self,
        path: &Path,
        limits: &ImportLimits,
    ) -> Result<ImportReport, ServiceError> {
        self.import_with(path, limits, &|_| {}, &CancelToken::new())
    }

    /// [`Self::import_with_limits`], reporting progress after each entry (in the shape of a
    /// fetch's: entries are the objects) and stopping between entries once `cancel` is set.
    /// Each entry is stored and recorded whole or not at all, so a cancelled import loses
    /// nothing and the next import takes up the rest.
    pub fn import_with(
        &self,
        path: &Path,
        limits: &ImportLimits,
        progress: &dyn Fn(&FetchProgress),
        cancel: &CancelToken,
    ) -> Result<ImportReport, ServiceError> {
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
        let mut declared: HashMap<String, Sha256> = HashMap::new();
        let actor = Actor::system();
        let mut total = 0u64;
        let mut state = FetchProgress {
            listed: report.listed,
            total: (manifests.len() + rest.len()) as u64,
            ..FetchProgress::default()
        };
        progress(&state);
        // Entries are written and checked one by one, then stored and recorded in groups
        // (group commit): every group is durable before it is recorded, and whatever was taken
        // is recorded before the import stops, however it stops.
        let mut pending: Vec<Pending> = Vec::new();
        for (phase, batch) in [manifests, rest].into_iter().enumerate() {
            for e in &batch {
                if cancel.is_cancelled() {
                    self.settle_import(&mut pending, &actor)?;
                    report.cancelled = true;
                    return Ok(report);
                }
                let uri = format!("{}/{}", report.source, e.rel);
                let expected = declared.get(&e.rel).copied();
                let taken = self.take_entry(
                    &mut source,
                    e,
                    &uri,
                    expected,
                    limits,
                    &mut total,
                    &earlier_rejections,
                    &actor,
                );
                let taken = match taken {
                    Ok(t) => t,
                    Err(refused) => {
                        // What was taken before the refusal stays, as it always has.
                        self.settle_import(&mut pending, &actor)?;
                        return Err(refused);
                    }
                };
                match taken {
                    Taken::New(bytes, entry) => {
                        report.new += 1;
                        report.bytes += bytes;
                        pending.push(*entry);
                        if pending.len() >= GROUP_COMMIT_MAX {
                            self.settle_import(&mut pending, &actor)?;
                        }
                    }
                    Taken::Unchanged => report.unchanged += 1,
                    Taken::Rejected(reason) => report.rejected.push(Rejected {
                        uri: uri.clone(),
                        reason,
                    }),
                }
                state.done += 1;
                state.new = report.new;
                state.unchanged = report.unchanged;
                state.rejected = report.rejected.len() as u64;
                state.bytes = report.bytes;
                state.current_key = Some(e.rel.clone());
                progress(&state);
            }
            self.settle_import(&mut pending, &actor)?;
            if phase == 0 {
                // The manifests are stored and recorded: read the digests they declare.
                for e in &batch {
                    let Placement::Run(run) = &e.placement else {
                        continue;
                    };
                    let uri = format!("{}/{}", report.source, e.rel);
                    if let Some(rec) = self
                        .ledger()?
                        .find_object(&uri, None, None)
                        .map_err(err::from_ledger)?
                    {
                        if let Ok(bytes) = self.store().read(&rec.sha256) {
                            declared.extend(intake::declared_digests(run, &bytes));
                        }
                    }
                }
            }
        }
        if report.new > 0 || !report.rejected.is_empty() {
            // Derive and record the summaries of the runs that changed (see `runs`).
            let _ = self.runs();
        }
        Ok(report)
    }

    /// Puts the pending entries into the store together and records them in one transaction.
    fn settle_import(&self, pending: &mut Vec<Pending>, actor: &Actor) -> Result<(), ServiceError> {
        if pending.is_empty() {
            return Ok(());
        }
        let (blobs, objects): (Vec<WrittenBlob>, Vec<NewObject>) =
            pending.drain(..).map(|p| (p.blob, p.object)).unzip();
        self.store().store_batch(blobs).map_err(err::from_store)?;
        let rows: Vec<(&NewObject, &[(String, String)])> =
            objects.iter().map(|o| (o, &[][..])).collect();
        self.ledger()?
            .add_objects(&rows, actor)
            .map_err(err::from_ledger)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn take_entry(
        &self,
        source: &mut Source,
        e: &Entry,
        uri: &str,
        expected: Option<Sha256>,
        limits: &ImportLimits,
        total: &mut u64,
        earlier_rejections: &HashSet<(String, Option<Sha256>)>,
        actor: &Actor,
    ) -> Result<Taken, ServiceError> {
        let mut writer = self.store().writer().map_err(err::from_store)?;
        let copied = match (source, &e.location) {
            (Source::Folder, Location::File(p)) => {
                let f = File::open(p).map_err(|x| read_error(uri, &x))?;
                copy_capped(f, &mut writer, limits.max_entry_bytes, uri)?
            }
            (Source::Zip(archive), Location::Zip(i)) => {
                let f = archive.by_index(*i).map_err(|x| {
                    ServiceError::bad_input(format!("cannot read {uri} from the archive: {x}"))
                })?;
                let declared_size = f.size();
                let n = copy_capped(
                    f,
                    &mut writer,
                    declared_size.min(limits.max_entry_bytes),
                    uri,
                )?;
                if n != declared_size {
                    return Err(ServiceError::bad_input(format!(
                        "refused the archive: entry {} inflates to {n} bytes but declares {declared_size}; \
                         the archive is damaged or crafted",
                        e.rel
                    )));
                }
                n
            }
            _ => {
                return Err(ServiceError::storage(format!(
                    "internal mix-up of import sources for {uri}"
                )))
            }
        };
        *total += copied;
        if *total > limits.max_total_bytes {
            return Err(ServiceError::bad_input(format!(
                "refused the import: more than {} bytes in total; import a smaller folder or archive",
                limits.max_total_bytes
            )));
        }
        let run_key = match &e.placement {
            Placement::Run(run) => Some(run.to_string()),
            Placement::Audit => None,
        };
        match writer.finish(expected.as_ref()) {
            Ok(blob) => {
                let known = self
                    .ledger()?
                    .find_object(uri, None, None)
                    .map_err(err::from_ledger)?;
                if known.is_some_and(|k| k.sha256 == blob.sha256()) {
                    return Ok(Taken::Unchanged);
                }
                let object = NewObject {
                    sha256: blob.sha256(),
                    size: copied,
                    uri: uri.to_owned(),
                    bucket: None,
                    key: Some(e.rel.clone()),
                    version_id: None,
                    etag: None,
                    last_modified: None,
                    source: SourceKind::Import,
                    run_key,
                };
                Ok(Taken::New(copied, Box::new(Pending { blob, object })))
            }
            Err(StoreError::DigestMismatch { expected, actual }) => {
                let reason = format!(
                    "content does not match the SHA-256 declared in run.json: expected {expected}, found {actual}"
                );
                if !earlier_rejections.contains(&(uri.to_owned(), Some(actual))) {
                    self.record_rejection(
                        &NewRejection {
                            uri: uri.to_owned(),
                            version_id: None,
                            etag: None,
                            reason: reason.clone(),
                            expected_sha256: Some(expected),
                            actual_sha256: Some(actual),
                        },
                        actor,
                    )?;
                }
                Ok(Taken::Rejected(reason))
            }
            Err(x) => Err(err::from_store(x)),
        }
    }
}

fn read_error(uri: &str, e: &io::Error) -> ServiceError {
    ServiceError::storage(format!("cannot read {uri}: {e}"))
}

/// Copies at most `cap` bytes into the store writer; more is an error naming the entry.
fn copy_capped(
    reader: impl Read,
    writer: &mut countersign_store::BlobWriter,
    cap: u64,
    uri: &str,
) -> Result<u64, ServiceError> {
    let mut limited = reader.take(cap.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let got = limited.read(&mut buf).map_err(|e| read_error(uri, &e))?;
        if got == 0 {
            break;
        }
        n += got as u64;
        if n > cap {
            return Err(ServiceError::bad_input(format!(
                "refused the import: {uri} is larger than the {cap}-byte limit for one file"
            )));
        }
        writer.write(&buf[..got]).map_err(err::from_store)?;
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
