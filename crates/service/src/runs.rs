//! Reading runs back out of the store: `runs`, `show`, and opening one file.
//!
//! Every byte shown is re-read from the store and re-hashed; a changed byte turns into an
//! integrity state on the file (and a problem on the run), never into content on screen.

use std::collections::BTreeMap;

use countersign_core::digest::Sha256;
use countersign_core::layout::{self, KeyKind};
use countersign_core::model::{
    FileRole, Integrity, ObjectOrigin, RunFile, RunKey, RunStatus, Totals,
};
use countersign_core::run::{assemble, ParseOptions, Run, RunInput};
use countersign_core::stack_snapshot::StackSnapshotRef;
use countersign_store::StoreError;
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::Service;

/// One line of `countersign runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub id: String,
    pub key: RunKey,
    pub status: RunStatus,
    pub totals: Totals,
    pub executed_at: Option<String>,
    pub protocol: Option<String>,
    pub stack: Option<String>,
    pub files: usize,
    pub problems: usize,
}

/// One run in full (`countersign show`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub summary: RunSummary,
    pub run: Run,
    /// The latest snapshot of the stack this run qualifies (re-verified), if one was taken.
    pub stack_snapshot: Option<StackSnapshotRef>,
}

/// A stored file, re-verified, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileContent {
    pub path: String,
    pub uri: String,
    pub sha256: Option<Sha256>,
    pub size: u64,
    pub integrity: Integrity,
    pub media_type: String,
    /// UTF-8 content (text, JSON, XML, logs).
    pub text: Option<String>,
    /// Base64 content for images.
    pub base64: Option<String>,
}

/// A run's stored files, as the ledger knows them.
struct RunFiles {
    key: RunKey,
    files: Vec<RunFile>,
}

impl Service {
    /// Every run in the store, sorted by system, phase, run id.
    pub fn runs(&self) -> Result<Vec<RunSummary>, ServiceError> {
        let groups = self.run_files()?;
        let mut out = Vec::with_capacity(groups.len());
        for g in groups.into_values() {
            let run = self.assemble(g, false);
            out.push(summary(&run));
        }
        Ok(out)
    }

    /// One run in full; `run` is `SYSTEM/PHASE/RUN-ID` or an unambiguous `RUN-ID`.
    pub fn show(&self, run: &str) -> Result<RunView, ServiceError> {
        let mut groups = self.run_files()?;
        let key = resolve(&groups, run)?;
        let g = groups
            .remove(&key)
            .ok_or_else(|| ServiceError::not_found(format!("no run {run}")))?;
        let run = self.assemble(g, true);
        Ok(RunView {
            summary: summary(&run),
            stack_snapshot: self.latest_stack_snapshot(&run.key)?,
            run,
        })
    }

    /// Re-reads one file of a run from the store, re-verifying its digest.
    pub fn open_file(&self, run: &str, path: &str) -> Result<FileContent, ServiceError> {
        let mut groups = self.run_files()?;
        let key = resolve(&groups, run)?;
        let g = groups
            .remove(&key)
            .ok_or_else(|| ServiceError::not_found(format!("no run {run}")))?;
        let file = g
            .files
            .into_iter()
            .find(|f| f.path == path)
            .ok_or_else(|| ServiceError::not_found(format!("run {key} has no file {path:?}")))?;
        let media_type = media_type(path).to_owned();
        let mut content = FileContent {
            path: file.path.clone(),
            uri: file.origin.uri.clone(),
            sha256: file.sha256,
            size: file.size,
            integrity: file.integrity.clone(),
            media_type: media_type.clone(),
            text: None,
            base64: None,
        };
        let Some(sha) = file.sha256 else {
            return Ok(content);
        };
        if matches!(file.integrity, Integrity::Rejected { .. }) {
            return Ok(content);
        }
        match self.store().read(&sha) {
            Ok(bytes) => {
                content.integrity = Integrity::Verified;
                if media_type.starts_with("image/") {
                    content.base64 = Some(base64(&bytes));
                } else {
                    content.text = Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                Ok(content)
            }
            Err(StoreError::Changed { actual, .. }) => {
                content.integrity = Integrity::Changed { actual };
                Ok(content)
            }
            Err(StoreError::Missing { .. }) => {
                content.integrity = Integrity::Missing;
                Ok(content)
            }
            Err(e) => Err(err::from_store(e)),
        }
    }

    /// Groups the ledger's objects and rejections into runs.
    fn run_files(&self) -> Result<BTreeMap<RunKey, RunFiles>, ServiceError> {
        let ledger = self.ledger()?;
        let objects = ledger.objects().map_err(err::from_ledger)?;
        let rejections = ledger.rejections().map_err(err::from_ledger)?;
        drop(ledger);
        let mut groups: BTreeMap<RunKey, RunFiles> = BTreeMap::new();
        // Newest record per (run, path) wins: a re-uploaded object supersedes the old version,
        // which stays in the store and the ledger.
        let mut latest: BTreeMap<(RunKey, String), RunFile> = BTreeMap::new();
        for o in objects {
            let Some(key) = o.key.as_deref() else {
                continue;
            };
            let Some((run, path)) = run_path(key) else {
                continue;
            };
            let file = RunFile {
                path: path.clone(),
                role: FileRole::Evidence,
                sha256: Some(o.sha256),
                size: o.size,
                origin: ObjectOrigin {
                    uri: o.uri.clone(),
                    version_id: o.version_id.clone(),
                    etag: o.etag.clone(),
                    last_modified: o.last_modified.clone(),
                },
                integrity: Integrity::Recorded,
            };
            latest.insert((run, path), file);
        }
        for r in rejections {
            let Some(key) = key_of_uri(&r.uri) else {
                continue;
            };
            let Some((run, path)) = run_path(key) else {
                continue;
            };
            // A rejection only shows when no good copy of that file was stored since.
            latest.entry((run, path.clone())).or_insert(RunFile {
                path,
                role: FileRole::Evidence,
                sha256: r.expected_sha256,
                size: 0,
                origin: ObjectOrigin {
                    uri: r.uri.clone(),
                    version_id: r.version_id.clone(),
                    etag: r.etag.clone(),
                    last_modified: None,
                },
                integrity: Integrity::Rejected {
                    reason: r.reason.clone(),
                },
            });
        }
        for ((run, _), file) in latest {
            groups
                .entry(run.clone())
                .or_insert_with(|| RunFiles {
                    key: run,
                    files: Vec::new(),
                })
                .files
                .push(file);
        }
        Ok(groups)
    }

    /// Reads every file of a run from the store (re-verifying it) and assembles the run.
    /// `evidence_too`: also re-hash evidence files (for `show`); listings re-hash only what they parse.
    fn assemble(&self, g: RunFiles, evidence_too: bool) -> Run {
        let mut contents: Vec<Option<Vec<u8>>> = Vec::with_capacity(g.files.len());
        let mut files = g.files;
        for f in &mut files {
            let wanted = evidence_too || is_parsed(&f.path);
            let bytes = match (&f.integrity, f.sha256) {
                (Integrity::Rejected { .. }, _) | (_, None) => None,
                (_, Some(sha)) if wanted => match self.store().read(&sha) {
                    Ok(b) => {
                        f.integrity = Integrity::Verified;
                        Some(b)
                    }
                    Err(StoreError::Changed { actual, .. }) => {
                        f.integrity = Integrity::Changed { actual };
                        None
                    }
                    Err(_) => {
                        f.integrity = Integrity::Missing;
                        None
                    }
                },
                _ => None,
            };
            contents.push(bytes);
        }
        let inputs: Vec<RunInput<'_>> = files
            .iter()
            .zip(&contents)
            .map(|(f, c)| RunInput {
                file: f.clone(),
                content: c.as_deref(),
            })
            .collect();
        assemble(g.key, &inputs, &ParseOptions::default())
    }
}

fn is_parsed(path: &str) -> bool {
    path.ends_with(".xml") || path.ends_with(".json")
}

fn summary(run: &Run) -> RunSummary {
    let m = run.manifest.as_ref();
    RunSummary {
        id: run.key.to_string(),
        key: run.key.clone(),
        status: run.status,
        totals: run.totals,
        executed_at: m.and_then(|m| m.executed_at).and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        }),
        protocol: m.and_then(|m| m.protocol.as_ref()).map(|p| {
            let mut s = p.id.clone();
            if let Some(v) = &p.version {
                s.push_str(&format!(" v{v}"));
            }
            s
        }),
        stack: m
            .and_then(|m| m.stack.as_ref())
            .and_then(|s| s.name.clone()),
        files: run.files.len(),
        problems: run.problems.len(),
    }
}

/// Finds the run a stored key belongs to, and the file's path inside it. The key is
/// `<prefix><system>/<phase>/<run-id>/<path>`: the run folder is the first position from which
/// the rest of the key classifies as a run file.
fn run_path(key: &str) -> Option<(RunKey, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    (0..parts.len()).find_map(|i| match layout::classify(&parts[i..].join("/")) {
        KeyKind::RunFile { run, path } => Some((run, path)),
        _ => None,
    })
}

/// The key part of `s3://bucket/key`.
fn key_of_uri(uri: &str) -> Option<&str> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        return rest.split_once('/').map(|(_, k)| k);
    }
    // An imported file: `file://<folder or archive>/<relative path>`; `run_path` finds the run
    // folder wherever it starts.
    uri.strip_prefix("file://")
}

fn resolve(groups: &BTreeMap<RunKey, RunFiles>, wanted: &str) -> Result<RunKey, ServiceError> {
    if let Some(k) = groups.keys().find(|k| k.to_string() == wanted) {
        return Ok(k.clone());
    }
    let matches: Vec<&RunKey> = groups.keys().filter(|k| k.run_id == wanted).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ServiceError::not_found(format!(
            "no run {wanted:?} in the store; `countersign runs` lists what is there (fetch or import first)"
        ))),
        many => Err(ServiceError::bad_input(format!(
            "run id {wanted:?} is ambiguous: {}; give SYSTEM/PHASE/RUN-ID",
            many.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn media_type(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "text/plain", // shown as source, never rendered: SVG can carry script
        "log" | "txt" | "out" | "csv" | "md" | "yaml" | "yml" => "text/plain",
        _ => "application/octet-stream",
    }
}

fn base64(bytes: &[u8]) -> String {
    countersign_core::text_encoding::encode_base64(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn run_path_finds_the_run_folder_under_any_prefix() {
        let (run, path) = run_path("qual/2026/LIMS/IQ/r1/reports/a.xml").unwrap();
        assert_eq!(run.to_string(), "LIMS/IQ/r1");
        assert_eq!(path, "reports/a.xml");
        assert!(run_path("AWSLogs/123456789012/CloudTrail/x.json.gz").is_none());
        assert_eq!(
            key_of_uri("s3://b/LIMS/IQ/r1/a.xml"),
            Some("LIMS/IQ/r1/a.xml")
        );
        let imported = key_of_uri("file:///media/usb/evidence.zip/LIMS/IQ/r1/a.xml").unwrap();
        assert_eq!(run_path(imported).unwrap().1, "a.xml");
    }
}
