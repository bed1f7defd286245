//! The Periodic Review Report (`countersign.review-report-manifest/v1`, docs/package-format.md
//! §12): a PDF for people that carries the signed findings of one system over one period
//! (`countersign.state-findings/v1`), the periodic-review signatures over them, the impact
//! assessments the findings count (records and signatures) and the signers' public keys, each
//! listed with its role, size and SHA-256 in a canonical manifest. [`verify`] checks one offline.

pub mod verify;

#[cfg(test)]
mod golden_tests;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json;
use crate::digest::Sha256;
use crate::package::manifest::{check_path, MANIFEST_FILE};
use crate::qualified_state::Period;

/// The `schema` tag of version 1.
pub use crate::formats::REVIEW_REPORT_MANIFEST_V1 as REVIEW_REPORT_SCHEMA_V1;

/// Path of the signed findings inside a report.
pub const FINDINGS_FILE: &str = "findings.json";

/// Why bytes are not a report manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportManifestError {
    /// Not JSON of the v1 shape.
    #[error("the manifest is not a valid {REVIEW_REPORT_SCHEMA_V1} document: {0}")]
    Shape(String),
    /// Another schema.
    #[error("the manifest's schema is {0:?}; this version reads {REVIEW_REPORT_SCHEMA_V1}")]
    Schema(String),
    /// The bytes are not the canonical form.
    #[error("the manifest is not in RFC 8785 canonical form (it was re-encoded or edited)")]
    NotCanonical,
    /// A path is unsafe, repeated or misplaced, or the files are not sorted.
    #[error("the manifest's {0}")]
    Content(String),
}

/// What a file of a report is for. The set is closed in version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportRole {
    /// `countersign.state-findings/v1` canonical bytes: what the periodic review signs.
    StateFindings,
    /// A DSSE envelope: a periodic-review signature over the findings.
    Signature,
    /// `countersign.public-key/v1`: a signer's public key and enrollment.
    PublicKey,
    /// `countersign.change-assessment/v1` canonical bytes: an impact assessment the findings
    /// count.
    AssessmentRecord,
    /// A DSSE envelope: the signature of that assessment.
    AssessmentSignature,
}

impl ReportRole {
    /// The role's name as written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportRole::StateFindings => "state-findings",
            ReportRole::Signature => "signature",
            ReportRole::PublicKey => "public-key",
            ReportRole::AssessmentRecord => "assessment-record",
            ReportRole::AssessmentSignature => "assessment-signature",
        }
    }

    /// A one-line description, for the PDF's attachment list.
    pub fn describe(self) -> &'static str {
        match self {
            ReportRole::StateFindings => "State findings of the period (what the review signs)",
            ReportRole::Signature => "Periodic review signature (DSSE envelope)",
            ReportRole::PublicKey => "Signer public key and enrollment",
            ReportRole::AssessmentRecord => "Impact assessment record",
            ReportRole::AssessmentSignature => "Impact assessment signature (DSSE envelope)",
        }
    }
}

impl fmt::Display for ReportRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFile {
    /// Report-relative path, `/`-separated.
    pub path: String,
    /// What the file is for.
    pub role: ReportRole,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Sha256,
}

/// The report manifest, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewReportManifest {
    /// Always [`REVIEW_REPORT_SCHEMA_V1`].
    pub schema: String,
    /// The report id ([`report_id`]).
    pub report_id: String,
    /// Human title.
    pub title: String,
    /// The system reviewed.
    pub system: String,
    /// The period reviewed, as the signatures name it.
    pub period: Period,
    /// When the report was built, UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub created_at: String,
    /// The builder's UTC offset, `±HH:MM`.
    pub utc_offset: String,
    /// Built from the demo dataset: not for GxP use.
    pub demo: bool,
    /// SHA-256 of [`FINDINGS_FILE`]: the digest the review signatures sign.
    pub findings_sha256: Sha256,
    /// Every file but the manifest, sorted by path (byte order).
    pub files: Vec<ReportFile>,
}

impl ReviewReportManifest {
    /// The canonical bytes (RFC 8785), as embedded and hashed.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, ReportManifestError> {
        canonical_json(self).map_err(|e| ReportManifestError::Shape(e.to_string()))
    }

    /// Reads a manifest: v1 shape, canonical bytes, safe unique sorted paths, the findings
    /// listed with the digest the manifest names.
    pub fn parse(bytes: &[u8]) -> Result<Self, ReportManifestError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ReportManifestError::Shape(e.to_string()))?;
        if let Some(schema) = value.get("schema").and_then(|s| s.as_str()) {
            if schema != REVIEW_REPORT_SCHEMA_V1 {
                return Err(ReportManifestError::Schema(schema.to_owned()));
            }
        }
        let m: ReviewReportManifest =
            serde_json::from_value(value).map_err(|e| ReportManifestError::Shape(e.to_string()))?;
        if m.schema != REVIEW_REPORT_SCHEMA_V1 {
            return Err(ReportManifestError::Schema(m.schema));
        }
        if m.canonical_bytes()? != bytes {
            return Err(ReportManifestError::NotCanonical);
        }
        m.check()?;
        Ok(m)
    }

    /// Structural rules beyond the JSON shape.
    pub fn check(&self) -> Result<(), ReportManifestError> {
        let content = |s: String| Err(ReportManifestError::Content(s));
        let mut seen = BTreeSet::new();
        let mut previous: Option<&str> = None;
        for f in &self.files {
            check_path(&f.path).map_err(|e| ReportManifestError::Content(e.to_string()))?;
            if f.path == MANIFEST_FILE {
                return content(format!("files list {MANIFEST_FILE} itself"));
            }
            if !seen.insert(f.path.as_str()) {
                return content(format!("files list {:?} twice", f.path));
            }
            if previous.is_some_and(|p| p > f.path.as_str()) {
                return content(format!(
                    "files are not sorted by path ({:?} comes after {:?})",
                    f.path,
                    previous.unwrap_or_default()
                ));
            }
            previous = Some(&f.path);
            let allowed = match f.role {
                ReportRole::StateFindings => f.path == FINDINGS_FILE,
                ReportRole::Signature => is_numbered(&f.path, "signatures/", ".dsse.json"),
                ReportRole::PublicKey => f.path.starts_with("keys/") && f.path.ends_with(".json"),
                ReportRole::AssessmentRecord => is_numbered(&f.path, "assessments/", ".json"),
                ReportRole::AssessmentSignature => {
                    is_numbered(&f.path, "assessments/", ".dsse.json")
                }
            };
            if !allowed {
                return content(format!(
                    "{:?} is not where a {} file of a report goes",
                    f.path, f.role
                ));
            }
        }
        match self.file(FINDINGS_FILE) {
            Some(f) if f.role == ReportRole::StateFindings && f.sha256 == self.findings_sha256 => {}
            _ => {
                return content(format!(
                    "files do not list {FINDINGS_FILE} as the state findings with digest {}",
                    self.findings_sha256
                ))
            }
        }
        if self.period.from > self.period.to {
            return content("the period ends before it starts".into());
        }
        if self.report_id.is_empty() || self.report_id.len() > 128 {
            return content("report_id is empty or longer than 128 characters".into());
        }
        if self.system.is_empty() {
            return content("system is empty".into());
        }
        Ok(())
    }

    /// The file at `path`, if listed.
    pub fn file(&self, path: &str) -> Option<&ReportFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }

    /// The files of `role`, in path order.
    pub fn files_of(&self, role: ReportRole) -> impl Iterator<Item = &ReportFile> {
        self.files.iter().filter(move |f| f.role == role)
    }
}

/// `<prefix>NNN<suffix>` with NNN three or more digits.
fn is_numbered(path: &str, prefix: &str, suffix: &str) -> bool {
    path.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|n| n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Path of the `n`th (1-based) periodic-review signature.
pub fn review_signature_path(n: usize) -> String {
    format!("signatures/{n:03}.dsse.json")
}

/// Path of the `n`th (1-based) assessment record.
pub fn assessment_record_path(n: usize) -> String {
    format!("assessments/{n:03}.json")
}

/// Path of the signature of the `n`th (1-based) assessment record.
pub fn assessment_signature_path(n: usize) -> String {
    format!("assessments/{n:03}.dsse.json")
}

/// The report id: `PRR-<YYYYMMDD>-<first 12 hex of SHA-256("countersign/review-report-id/v1"
/// 0x00 created_at 0x00 findings digest in hex)>`.
pub fn report_id(created_at: &str, findings_sha256: &Sha256) -> String {
    let mut bytes = b"countersign/review-report-id/v1\0".to_vec();
    bytes.extend_from_slice(created_at.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(findings_sha256.to_hex().as_bytes());
    let hex = Sha256::of(&bytes).to_hex();
    let date: String = created_at
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(8)
        .collect();
    format!("PRR-{date}-{}", &hex[..12])
}
