//! The package manifest (`countersign.package-manifest/v1`): every file of a validation package
//! with its role, size and SHA-256, in RFC 8785 canonical JSON. Its SHA-256 is the package's
//! identity for signatures (`package:<id>`) and is printed on the cover. Frozen: see
//! `docs/package-format.md`; golden vectors in `golden_tests.rs`.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json;
use crate::digest::Sha256;
use crate::model::Totals;

/// The `schema` tag of version 1.
pub use crate::formats::PACKAGE_MANIFEST_V1 as MANIFEST_SCHEMA_V1;
/// Name of the manifest inside a PDF (attachment) and a bundle (file).
pub const MANIFEST_FILE: &str = "manifest.json";
/// Longest accepted path of a file in the manifest, in bytes.
pub const MAX_PATH_LEN: usize = 1024;

/// What a file of a package is for. The set is closed in version 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileRole {
    /// `countersign.run-record/v1` canonical bytes: what run signatures sign.
    RunRecord,
    /// `countersign.run-data/v1`: the run's results as normalised JSON.
    RunData,
    /// An original file of a run (result files, `run.json`, logs, evidence). Bundle only.
    Evidence,
    /// A DSSE envelope signing a run record.
    Signature,
    /// `countersign.public-key/v1`: a signer's public key and enrollment.
    PublicKey,
    /// The signing policy file, byte for byte.
    Policy,
    /// A CloudFormation stack snapshot (`countersign.stack-snapshot/v1` canonical bytes).
    StackSnapshot,
    /// The audit-evidence summary (CloudTrail digest chain result, stack events).
    AuditEvidence,
    /// The ledger events about the package's records.
    AuditTrail,
}

impl FileRole {
    /// The role's name as written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            FileRole::RunRecord => "run-record",
            FileRole::RunData => "run-data",
            FileRole::Evidence => "evidence",
            FileRole::Signature => "signature",
            FileRole::PublicKey => "public-key",
            FileRole::Policy => "policy",
            FileRole::StackSnapshot => "stack-snapshot",
            FileRole::AuditEvidence => "audit-evidence",
            FileRole::AuditTrail => "audit-trail",
        }
    }

    /// Whether files of this role are embedded in the PDF (all but original evidence, which
    /// travels in the bundle).
    pub fn embedded_in_pdf(self) -> bool {
        self != FileRole::Evidence
    }
}

impl fmt::Display for FileRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Package-relative path, `/`-separated (see [`check_path`]).
    pub path: String,
    /// What the file is for.
    pub role: FileRole,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Sha256,
}

/// One run covered by the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRun {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// Path of the run's `run-record` file.
    pub record: String,
    /// SHA-256 of the run record (equal to that file's digest).
    pub record_sha256: Sha256,
    /// Path of the run's `run-data` file.
    pub data: String,
    /// `passed`, `failed` or `incomplete`.
    pub status: String,
    /// Case counts.
    pub totals: Totals,
}

/// The package manifest, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageManifest {
    /// Always [`MANIFEST_SCHEMA_V1`].
    pub schema: String,
    /// The package id (see [`package_id`]).
    pub package_id: String,
    /// Human title.
    pub title: String,
    /// Systems covered, sorted.
    pub systems: Vec<String>,
    /// Phases covered, in IQ, OQ, PQ order.
    pub phases: Vec<String>,
    /// CloudFormation stacks covered, sorted.
    pub stacks: Vec<String>,
    /// When the package was built, UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub created_at: String,
    /// The builder's UTC offset, `±HH:MM`.
    pub utc_offset: String,
    /// Built from the demo dataset: not for GxP use.
    pub demo: bool,
    /// Runs, sorted by `run`.
    pub runs: Vec<ManifestRun>,
    /// Files, sorted by `path` (byte order).
    pub files: Vec<ManifestFile>,
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the v1 shape.
    #[error("the manifest is not a valid {MANIFEST_SCHEMA_V1} document: {0}")]
    Shape(String),
    /// Another schema.
    #[error("the manifest's schema is {0:?}; this version reads {MANIFEST_SCHEMA_V1}")]
    Schema(String),
    /// The bytes are not the canonical form.
    #[error("the manifest is not in RFC 8785 canonical form (it was re-encoded or edited)")]
    NotCanonical,
    /// A path is unsafe or repeated, or the files/runs are not sorted.
    #[error("the manifest's {0}")]
    Content(String),
}

impl PackageManifest {
    /// The canonical bytes (RFC 8785), as embedded and hashed.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, ManifestError> {
        canonical_json(self).map_err(|e| ManifestError::Shape(e.to_string()))
    }

    /// Reads a manifest: v1 shape, canonical bytes, safe unique sorted paths, runs pointing at
    /// listed files.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Shape(e.to_string()))?;
        if let Some(schema) = value.get("schema").and_then(|s| s.as_str()) {
            if schema != MANIFEST_SCHEMA_V1 {
                return Err(ManifestError::Schema(schema.to_owned()));
            }
        }
        let m: PackageManifest =
            serde_json::from_value(value).map_err(|e| ManifestError::Shape(e.to_string()))?;
        if m.schema != MANIFEST_SCHEMA_V1 {
            return Err(ManifestError::Schema(m.schema));
        }
        if m.canonical_bytes()? != bytes {
            return Err(ManifestError::NotCanonical);
        }
        m.check()?;
        Ok(m)
    }

    /// Structural rules beyond the JSON shape.
    pub fn check(&self) -> Result<(), ManifestError> {
        let mut seen = BTreeSet::new();
        let mut previous: Option<&str> = None;
        for f in &self.files {
            check_path(&f.path).map_err(|e| ManifestError::Content(e.to_string()))?;
            if f.path == MANIFEST_FILE {
                return Err(ManifestError::Content(format!(
                    "files list {MANIFEST_FILE} itself"
                )));
            }
            if !seen.insert(f.path.as_str()) {
                return Err(ManifestError::Content(format!(
                    "files list {:?} twice",
                    f.path
                )));
            }
            if previous.is_some_and(|p| p > f.path.as_str()) {
                return Err(ManifestError::Content(format!(
                    "files are not sorted by path ({:?} comes after {:?})",
                    f.path,
                    previous.unwrap_or_default()
                )));
            }
            previous = Some(&f.path);
        }
        let mut runs = BTreeSet::new();
        for r in &self.runs {
            if !runs.insert(r.run.as_str()) {
                return Err(ManifestError::Content(format!("runs list {} twice", r.run)));
            }
            let record = self.file(&r.record);
            if record.is_none_or(|f| f.role != FileRole::RunRecord || f.sha256 != r.record_sha256) {
                return Err(ManifestError::Content(format!(
                    "run {} names the record {:?}, which is not a run-record file with digest {}",
                    r.run, r.record, r.record_sha256
                )));
            }
            if self
                .file(&r.data)
                .is_none_or(|f| f.role != FileRole::RunData)
            {
                return Err(ManifestError::Content(format!(
                    "run {} names the data file {:?}, which is not a run-data file",
                    r.run, r.data
                )));
            }
        }
        for f in &self.files {
            if !self.path_fits_role(&f.path, f.role) {
                return Err(ManifestError::Content(format!(
                    "{:?} is listed as {}, but that is not where a {} file of this package goes (docs/package-format.md §2)",
                    f.path, f.role, f.role
                )));
            }
        }
        if self.package_id.is_empty() || self.package_id.len() > 128 {
            return Err(ManifestError::Content(
                "package_id is empty or longer than 128 characters".into(),
            ));
        }
        Ok(())
    }

    /// Whether `path` is where a file of `role` goes (§2 of docs/package-format.md): a run's
    /// record, data, evidence and signatures under the runs the manifest lists, keys by key id,
    /// the single files at the root. A file listed under another role than its path says would
    /// be checked by the wrong rules (or, as evidence, not looked for in a PDF at all).
    fn path_fits_role(&self, path: &str, role: FileRole) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let json_name = |name: &str| name.strip_suffix(".json").is_some_and(|n| !n.is_empty());
        match role {
            FileRole::RunRecord => self
                .runs
                .iter()
                .any(|r| r.record == path && path == format!("runs/{}/record.json", r.run)),
            FileRole::RunData => self
                .runs
                .iter()
                .any(|r| r.data == path && path == format!("runs/{}/results.json", r.run)),
            FileRole::Evidence => self.runs.iter().any(|r| {
                path.strip_prefix(&format!("runs/{}/files/", r.run))
                    .is_some_and(|rest| !rest.is_empty())
            }),
            FileRole::Signature => self.runs.iter().any(|r| {
                path.strip_prefix(&format!("signatures/{}/", r.run))
                    .and_then(|name| name.strip_suffix(".dsse.json"))
                    .is_some_and(|n| n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()))
            }),
            FileRole::PublicKey => {
                parts.len() == 2
                    && parts[0] == "keys"
                    && parts[1].strip_suffix(".json").is_some_and(|id| {
                        id.len() == 32
                            && id
                                .bytes()
                                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                    })
            }
            FileRole::Policy => path == "policy.json",
            FileRole::StackSnapshot => {
                parts.len() == 3 && parts[0] == "stacks" && json_name(parts[2])
            }
            FileRole::AuditEvidence => {
                parts.len() == 2 && parts[0] == "audit-evidence" && json_name(parts[1])
            }
            FileRole::AuditTrail => path == "audit-trail.json",
        }
    }

    /// The file at `path`, if listed.
    pub fn file(&self, path: &str) -> Option<&ManifestFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .and_then(|i| self.files.get(i))
    }
}

/// The package id: `PKG-<YYYYMMDD>-<first 12 hex of SHA-256("countersign/package-id/v1" 0x00
/// created_at 0x00 record digests in run order, hex, separated by 0x00)>`.
pub fn package_id(created_at: &str, record_digests: &[Sha256]) -> String {
    let mut bytes = b"countersign/package-id/v1\0".to_vec();
    bytes.extend_from_slice(created_at.as_bytes());
    for d in record_digests {
        bytes.push(0);
        bytes.extend_from_slice(d.to_hex().as_bytes());
    }
    let hex = Sha256::of(&bytes).to_hex();
    let date: String = created_at
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(8)
        .collect();
    format!("PKG-{date}-{}", &hex[..12])
}

/// Why a package path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path {path:?} {problem}")]
pub struct PathError {
    /// The path as written.
    pub path: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// A package path must be relative, `/`-separated, with no empty, `.` or `..` segment, no
/// backslash, colon or control character, and at most [`MAX_PATH_LEN`] bytes: it is written
/// below a bundle folder and must never escape it.
pub fn check_path(path: &str) -> Result<(), PathError> {
    let bad = |problem| {
        Err(PathError {
            path: path.to_owned(),
            problem,
        })
    };
    if path.is_empty() {
        return bad("is empty");
    }
    if path.len() > MAX_PATH_LEN {
        return bad("is too long");
    }
    if path.starts_with('/') {
        return bad("is absolute");
    }
    if path
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == ':')
    {
        return bad("contains a backslash, colon or control character");
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return bad("has an empty, \".\" or \"..\" segment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(b: u8) -> Sha256 {
        Sha256::from_bytes([b; 32])
    }

    pub(crate) fn sample() -> PackageManifest {
        PackageManifest {
            schema: MANIFEST_SCHEMA_V1.into(),
            package_id: "PKG-20261105-0123456789ab".into(),
            title: "LIMS qualification".into(),
            systems: vec!["LIMS".into()],
            phases: vec!["IQ".into()],
            stacks: vec!["lims-prod".into()],
            created_at: "2026-11-05T09:30:00.000Z".into(),
            utc_offset: "+01:00".into(),
            demo: false,
            runs: vec![ManifestRun {
                run: "LIMS/IQ/r1".into(),
                record: "runs/LIMS/IQ/r1/record.json".into(),
                record_sha256: sha(1),
                data: "runs/LIMS/IQ/r1/results.json".into(),
                status: "passed".into(),
                totals: Totals {
                    tests: 1,
                    passed: 1,
                    ..Totals::default()
                },
            }],
            files: vec![
                ManifestFile {
                    path: "runs/LIMS/IQ/r1/files/reports/junit.xml".into(),
                    role: FileRole::Evidence,
                    size: 10,
                    sha256: sha(3),
                },
                ManifestFile {
                    path: "runs/LIMS/IQ/r1/record.json".into(),
                    role: FileRole::RunRecord,
                    size: 100,
                    sha256: sha(1),
                },
                ManifestFile {
                    path: "runs/LIMS/IQ/r1/results.json".into(),
                    role: FileRole::RunData,
                    size: 200,
                    sha256: sha(2),
                },
            ],
        }
    }

    #[test]
    fn canonical_bytes_round_trip() {
        let m = sample();
        let bytes = m.canonical_bytes().unwrap();
        assert_eq!(PackageManifest::parse(&bytes).unwrap(), m);
    }

    #[test]
    fn a_re_encoded_manifest_is_refused() {
        let pretty = serde_json::to_vec_pretty(&sample()).unwrap();
        assert_eq!(
            PackageManifest::parse(&pretty),
            Err(ManifestError::NotCanonical)
        );
    }

    #[test]
    fn another_schema_is_named() {
        let text = String::from_utf8(sample().canonical_bytes().unwrap())
            .unwrap()
            .replace("manifest/v1", "manifest/v2");
        assert_eq!(
            PackageManifest::parse(text.as_bytes()),
            Err(ManifestError::Schema(
                "countersign.package-manifest/v2".into()
            ))
        );
    }

    #[test]
    fn unsafe_repeated_and_unsorted_paths_are_refused() {
        for bad in ["../x", "/etc/passwd", "a//b", "a\\b", "c:x", "a/./b", ""] {
            let mut m = sample();
            m.files[0].path = bad.into();
            let err = PackageManifest::parse(&m.canonical_bytes().unwrap()).unwrap_err();
            assert!(matches!(err, ManifestError::Content(_)), "{bad}: {err}");
        }
        let mut m = sample();
        m.files.swap(0, 1);
        assert!(PackageManifest::parse(&m.canonical_bytes().unwrap())
            .unwrap_err()
            .to_string()
            .contains("not sorted"));
        let mut m = sample();
        m.files[2].path = m.files[1].path.clone();
        assert!(PackageManifest::parse(&m.canonical_bytes().unwrap())
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn a_run_must_point_at_its_listed_record() {
        let mut m = sample();
        m.runs[0].record_sha256 = sha(9);
        assert!(PackageManifest::parse(&m.canonical_bytes().unwrap())
            .unwrap_err()
            .to_string()
            .contains("not a run-record file"));
    }

    /// Each role has its place (§2): a signature relisted as evidence (which a PDF does not
    /// carry, so it would not be looked for) or a key under another name is refused.
    #[test]
    fn a_file_listed_under_a_role_its_path_does_not_fit_is_refused() {
        let good = sample();
        assert!(good
            .files
            .iter()
            .all(|f| good.path_fits_role(&f.path, f.role)));
        let run = good.runs[0].run.clone();
        for (path, role) in [
            (
                format!("signatures/{run}/002.dsse.json"),
                FileRole::Evidence,
            ),
            (format!("runs/{run}/files/x.log"), FileRole::Signature),
            (
                format!("signatures/{run}/02.dsse.json"),
                FileRole::Signature,
            ),
            (
                "signatures/OTHER/OQ/r/001.dsse.json".into(),
                FileRole::Signature,
            ),
            ("keys/ABCDEF.json".into(), FileRole::PublicKey),
            ("policy/policy.json".into(), FileRole::Policy),
            (format!("runs/{run}/files/"), FileRole::Evidence),
            ("audit-trail.txt".into(), FileRole::AuditTrail),
        ] {
            assert!(!good.path_fits_role(&path, role), "{path} as {role}");
        }
        let mut m = sample();
        let i = m
            .files
            .iter()
            .position(|f| f.role == FileRole::Evidence)
            .unwrap();
        m.files[i].role = FileRole::Signature;
        let err = PackageManifest::parse(&m.canonical_bytes().unwrap()).unwrap_err();
        assert!(err.to_string().contains("is listed as signature"), "{err}");
    }

    #[test]
    fn package_id_is_dated_and_bound_to_the_records() {
        let a = package_id("2026-11-05T09:30:00.000Z", &[sha(1)]);
        assert!(a.starts_with("PKG-20261105-"), "{a}");
        assert_eq!(a.len(), "PKG-20261105-".len() + 12);
        assert_ne!(a, package_id("2026-11-05T09:30:00.000Z", &[sha(2)]));
        assert_ne!(a, package_id("2026-11-05T09:30:00.001Z", &[sha(1)]));
    }
}
