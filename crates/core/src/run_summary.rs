//! The summary of a run as the run list shows it (`countersign.run-summary/v1`), and the digest
//! of what it was derived from.
//!
//! Listing runs used to mean parsing every result file of every run on every call. A summary
//! is derived once from the run's files, recorded in the audit trail (so the hash chain covers
//! it), and used again only while the inputs it names are still exactly the run's files:
//! [`inputs_digest`] covers every file's path, digest, size and rejection, the report files
//! the summary was read from, and [`DERIVATION`]. It is never a second source of truth: any
//! change of inputs means a new derivation, `show` derives the run in full and checks the
//! recorded summary against it, and the listing re-hashes the files the summary was read from.
//!
//! The encodings are frozen (golden vectors below); a change is a new schema version.

use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, CanonicalJsonError};
use crate::digest::Sha256;
use crate::model::{FileRole, Integrity, RunFile, RunKey, RunStatus, Totals};
use crate::run::Run;

/// Schema of the recorded summary.
pub const RUN_SUMMARY_SCHEMA_V1: &str = crate::formats::RUN_SUMMARY_V1;

/// The version of how a run is derived from its files (parsing, status, problems). Raise it
/// with any change to [`crate::run::assemble`] that can change a summary: summaries recorded
/// under another derivation are then derived again instead of being used.
pub const DERIVATION: u32 = 1;

/// A run's summary, as recorded (the `after` of a `run.summarized` audit-trail entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSummaryRecord {
    /// Always [`RUN_SUMMARY_SCHEMA_V1`].
    pub schema: String,
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// [`inputs_digest`] of the files it was derived from.
    pub inputs_sha256: Sha256,
    pub status: RunStatus,
    pub totals: Totals,
    /// RFC 3339, from run.json.
    pub executed_at: Option<String>,
    /// Protocol id and version, from run.json.
    pub protocol: Option<String>,
    /// The stack the run qualifies, from run.json.
    pub stack: Option<String>,
    /// Number of files in the run folder.
    pub files: usize,
    /// Number of problems found.
    pub problems: usize,
    /// The files the summary was read from (run.json and the result files), sorted: the ones
    /// to re-hash before the summary is shown again.
    pub sources: Vec<String>,
}

impl RunSummaryRecord {
    /// The summary of an assembled run derived from `inputs_sha256`.
    pub fn of(run: &Run, inputs_sha256: Sha256) -> Self {
        let m = run.manifest.as_ref();
        let mut sources: Vec<String> = run
            .files
            .iter()
            .filter(|f| f.role != FileRole::Evidence)
            .map(|f| f.path.clone())
            .collect();
        sources.sort();
        Self {
            schema: RUN_SUMMARY_SCHEMA_V1.to_owned(),
            run: run.key.to_string(),
            inputs_sha256,
            status: run.status,
            totals: run.totals,
            executed_at: m.and_then(|m| m.executed_at).and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
            protocol: m
                .and_then(|m| m.protocol.as_ref())
                .map(|p| match &p.version {
                    Some(v) => format!("{} v{v}", p.id),
                    None => p.id.clone(),
                }),
            stack: m
                .and_then(|m| m.stack.as_ref())
                .and_then(|s| s.name.clone()),
            files: run.files.len(),
            problems: run.problems.len(),
            sources,
        }
    }

    /// The canonical JSON that is recorded (RFC 8785).
    pub fn to_json(&self) -> Result<Vec<u8>, CanonicalJsonError> {
        canonical_json(self)
    }

    /// Reads a recorded summary; `None` for anything that is not a v1 summary.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Self>(bytes)
            .ok()
            .filter(|s| s.schema == RUN_SUMMARY_SCHEMA_V1)
    }

    /// Whether two summaries say the same about the run (everything but how they were
    /// recorded).
    pub fn agrees_with(&self, other: &Self) -> bool {
        self == other
    }
}

/// Domain prefix of the inputs encoding, version 1 (ends in NUL).
pub const INPUTS_DOMAIN_V1: &[u8] = b"countersign/run-summary-inputs/v1\0";

/// A field: its length as 8 bytes big-endian, then its bytes.
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The digest of what a run's summary is derived from: [`DERIVATION`], the run, and every file
/// (path, digest, size, rejection reason), in path order, in a length-prefixed binary encoding
/// (`docs/ledger-format.md`): cheap enough to compute for every run on every listing.
pub fn inputs_digest(run: &RunKey, files: &[RunFile]) -> Sha256 {
    Sha256::of(&inputs_encoding(run, files))
}

/// The bytes [`inputs_digest`] hashes.
fn inputs_encoding(run: &RunKey, files: &[RunFile]) -> Vec<u8> {
    let mut sorted: Vec<&RunFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = Vec::with_capacity(64 + files.len() * 96);
    out.extend_from_slice(INPUTS_DOMAIN_V1);
    out.extend_from_slice(&DERIVATION.to_be_bytes());
    put(&mut out, run.to_string().as_bytes());
    out.extend_from_slice(&(sorted.len() as u64).to_be_bytes());
    for f in sorted {
        put(&mut out, f.path.as_bytes());
        match &f.sha256 {
            Some(d) => {
                out.push(1);
                out.extend_from_slice(d.as_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&f.size.to_be_bytes());
        match &f.integrity {
            Integrity::Rejected { reason } => {
                out.push(1);
                put(&mut out, reason.as_bytes());
            }
            _ => out.push(0),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{classify, KeyKind};
    use crate::model::ObjectOrigin;

    fn key() -> RunKey {
        match classify("LIMS/OQ/2026-11-03-oq-1/run.json") {
            KeyKind::RunFile { run, .. } => run,
            other => panic!("{other:?}"),
        }
    }

    fn file(path: &str, content: &[u8], integrity: Integrity) -> RunFile {
        RunFile {
            path: path.into(),
            role: FileRole::Evidence,
            sha256: Some(Sha256::of(content)),
            size: content.len() as u64,
            origin: ObjectOrigin {
                uri: format!("s3://b/{path}"),
                version_id: None,
                etag: None,
                last_modified: None,
            },
            integrity,
        }
    }

    #[test]
    fn the_inputs_digest_is_frozen_and_covers_every_file_fact() {
        let files = vec![
            file("reports/junit.xml", b"<testsuite/>", Integrity::Recorded),
            file("run.json", b"{}", Integrity::Recorded),
        ];
        // Golden vector: the encoding of these two files' inputs, and its digest.
        let mut expected = b"countersign/run-summary-inputs/v1\0".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 1]); // derivation 1
        expected.extend_from_slice(&23u64.to_be_bytes());
        expected.extend_from_slice(b"LIMS/OQ/2026-11-03-oq-1");
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.extend_from_slice(&17u64.to_be_bytes());
        expected.extend_from_slice(b"reports/junit.xml");
        expected.push(1);
        expected.extend_from_slice(Sha256::of(b"<testsuite/>").as_bytes());
        expected.extend_from_slice(&12u64.to_be_bytes());
        expected.push(0);
        expected.extend_from_slice(&8u64.to_be_bytes());
        expected.extend_from_slice(b"run.json");
        expected.push(1);
        expected.extend_from_slice(Sha256::of(b"{}").as_bytes());
        expected.extend_from_slice(&2u64.to_be_bytes());
        expected.push(0);
        assert_eq!(inputs_encoding(&key(), &files), expected);
        let d = inputs_digest(&key(), &files);
        assert_eq!(d, Sha256::of(&expected));
        assert_eq!(
            d.to_hex(),
            "4c64caf52e992ab03a2aacddf8bf2be78606c50261f9f53ec1cbfcbf95991a81"
        );
        // Order of the listing does not matter; every fact of a file does.
        let mut reversed = files.clone();
        reversed.reverse();
        assert_eq!(inputs_digest(&key(), &reversed), d);
        let mut other = files.clone();
        other[0].size += 1;
        assert_ne!(inputs_digest(&key(), &other), d);
        let mut other = files.clone();
        other[0].integrity = Integrity::Rejected {
            reason: "digest mismatch".into(),
        };
        assert_ne!(inputs_digest(&key(), &other), d);
        let mut other = files.clone();
        other[1].path = "run2.json".into();
        assert_ne!(inputs_digest(&key(), &other), d);
        // Whether a file was re-read in this view is not an input.
        let mut other = files;
        other[0].integrity = Integrity::Verified;
        assert_eq!(inputs_digest(&key(), &other), d);
    }

    #[test]
    fn a_summary_round_trips_through_its_frozen_json() {
        let s = RunSummaryRecord {
            schema: RUN_SUMMARY_SCHEMA_V1.into(),
            run: "LIMS/OQ/2026-11-03-oq-1".into(),
            inputs_sha256: Sha256::of(b"inputs"),
            status: RunStatus::Failed,
            totals: Totals {
                tests: 3,
                passed: 1,
                failed: 1,
                errored: 1,
                skipped: 0,
            },
            executed_at: Some("2026-11-03T09:00:00Z".into()),
            protocol: Some("LIMS-OQ-001 v2.1".into()),
            stack: None,
            files: 4,
            problems: 0,
            sources: vec!["reports/junit.xml".into(), "run.json".into()],
        };
        let json = s.to_json().unwrap();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            format!(
                concat!(
                    r#"{{"executed_at":"2026-11-03T09:00:00Z","files":4,"inputs_sha256":"{}","#,
                    r#""problems":0,"protocol":"LIMS-OQ-001 v2.1","run":"LIMS/OQ/2026-11-03-oq-1","#,
                    r#""schema":"countersign.run-summary/v1","sources":["reports/junit.xml","run.json"],"#,
                    r#""stack":null,"status":"failed","totals":{{"errored":1,"failed":1,"passed":1,"#,
                    r#""skipped":0,"tests":3}}}}"#
                ),
                Sha256::of(b"inputs").to_hex()
            )
        );
        assert_eq!(RunSummaryRecord::from_json(&json), Some(s.clone()));
        assert!(s.agrees_with(&s));
        // Another schema, or an unknown field, is not a v1 summary.
        let other = String::from_utf8(json)
            .unwrap()
            .replace("run-summary/v1", "run-summary/v2");
        assert_eq!(RunSummaryRecord::from_json(other.as_bytes()), None);
        assert_eq!(
            RunSummaryRecord::from_json(br#"{"schema":"countersign.run-summary/v1","x":1}"#),
            None
        );
    }
}
