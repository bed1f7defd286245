//! The qualification-run domain model shared by every layer.
//!
//! A *run* is one execution of a qualification protocol (IQ, OQ or PQ) against one system,
//! found in S3 as `<system>/<phase>/<run-id>/…`. Its result files are parsed into *cases*;
//! every other file of the run is *evidence*.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;

/// Qualification phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Installation Qualification: deployed as specified.
    #[serde(rename = "IQ")]
    Iq,
    /// Operational Qualification: works as specified.
    #[serde(rename = "OQ")]
    Oq,
    /// Performance Qualification: performs in real use.
    #[serde(rename = "PQ")]
    Pq,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Iq, Phase::Oq, Phase::Pq];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Iq => "IQ",
            Phase::Oq => "OQ",
            Phase::Pq => "PQ",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A folder name that is not `IQ`, `OQ` or `PQ`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown qualification phase {0:?}: expected IQ, OQ or PQ")]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "IQ" => Ok(Phase::Iq),
            "OQ" => Ok(Phase::Oq),
            "PQ" => Ok(Phase::Pq),
            other => Err(UnknownPhase(other.to_owned())),
        }
    }
}

/// Outcome of one test case (JUnit testcase or Cucumber scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// The check ran and did not meet its acceptance criterion.
    Failed,
    /// The check could not be completed (exception, setup failure, undefined step).
    Errored,
    /// The check was not executed.
    Skipped,
    Passed,
}

impl CaseStatus {
    /// Order used to show cases: failures first, then errors, skips, passes.
    pub fn review_rank(self) -> u8 {
        match self {
            CaseStatus::Failed => 0,
            CaseStatus::Errored => 1,
            CaseStatus::Skipped => 2,
            CaseStatus::Passed => 3,
        }
    }

    /// Failed and errored cases need a disposition before approval.
    pub fn needs_disposition(self) -> bool {
        matches!(self, CaseStatus::Failed | CaseStatus::Errored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Failed => "failed",
            CaseStatus::Errored => "errored",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Passed => "passed",
        }
    }
}

/// One test case as read from a result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// Stable id within the run: `<result file>#<suite path>::<name>` (unique; a suffix is added
    /// to repeated names).
    pub id: String,
    pub name: String,
    /// JUnit classname, or the Cucumber feature name.
    pub group: String,
    pub status: CaseStatus,
    /// Wall time in milliseconds, when the tool reported it.
    pub duration_ms: Option<u64>,
    /// Short failure/error/skip message.
    pub message: Option<String>,
    /// Full failure detail (stack trace, failing step, …).
    pub detail: Option<String>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    /// Requirement ids this case verifies (from properties, tags or the name pattern).
    pub requirements: Vec<String>,
    /// Other key/value properties (e.g. PQ measurements), in file order.
    pub properties: Vec<(String, String)>,
    /// Run-relative path of the result file the case came from.
    pub source_file: String,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

impl Totals {
    pub fn add(&mut self, status: CaseStatus) {
        self.tests += 1;
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Errored => self.errored += 1,
            CaseStatus::Skipped => self.skipped += 1,
        }
    }

    pub fn of<'a>(cases: impl IntoIterator<Item = &'a TestCase>) -> Self {
        let mut t = Totals::default();
        for c in cases {
            t.add(c.status);
        }
        t
    }
}

/// Where a run's object came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectOrigin {
    /// `s3://bucket/key`, or `file://…` for an offline import.
    pub uri: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    /// RFC 3339, as reported by the source.
    pub last_modified: Option<String>,
}

/// Whether a stored object still matches the digest recorded when it entered the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Integrity {
    /// Re-read and re-hashed: matches.
    Verified,
    /// Not re-read in this view (listings do not re-hash every byte).
    Recorded,
    /// The stored bytes no longer match the recorded digest.
    Changed { actual: Sha256 },
    /// The blob is gone from the store.
    Missing,
    /// The object was refused at fetch/import and never entered the store.
    Rejected { reason: String },
}

/// A file of a run as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// Path relative to the run folder (`/`-separated).
    pub path: String,
    pub role: FileRole,
    pub sha256: Option<Sha256>,
    pub size: u64,
    pub origin: ObjectOrigin,
    pub integrity: Integrity,
}

/// What a file of a run folder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// JUnit XML.
    JunitResult,
    /// Cucumber JSON.
    CucumberResult,
    /// `run.json`.
    Manifest,
    /// Any other file.
    Evidence,
}

/// A problem with one file of a run; the rest of the run still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub path: String,
    pub message: String,
}

/// The overall state of a run's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every executed case passed and no file had a problem.
    Passed,
    /// At least one case failed or errored.
    Failed,
    /// No failures, but a result file could not be read or evidence was rejected.
    Incomplete,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Passed => "passed",
            RunStatus::Failed => "failed",
            RunStatus::Incomplete => "incomplete",
        }
    }
}

/// Identity of a run: `<system>/<phase>/<run-id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunKey {
    pub system: String,
    pub phase: Phase,
    pub run_id: String,
}

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.system, self.phase, self.run_id)
    }
}
