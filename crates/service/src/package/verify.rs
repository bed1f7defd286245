//! Verifying a package file offline: a PDF, a bundle folder or a bundle zip is read into bytes
//! (nothing trusted, sizes bounded, no path followed out of the bundle) and checked by the core.
//! A PDF whose manifest is a Periodic Review Report's is checked as one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use countersign_core::digest::Sha256;
use countersign_core::package::approval::{ApprovalResult, PackageState};
use countersign_core::package::manifest::{check_path, MANIFEST_FILE};
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::verify::{
    built_here_check, verify_package, BuiltHere, CheckState, DocumentKind, Form, Limit,
    PackageInput, PackageReport, Rendered, RunProven, VerifyOptions,
};
use countersign_core::review_report::verify::verify_review_report;
use countersign_core::review_report::REVIEW_REPORT_SCHEMA_V1;
use countersign_core::signature::key_id::KeyId;
use countersign_core::text_encoding;
use serde::Serialize;

use crate::error::ServiceError;
use crate::keys::ED25519_SPKI_PREFIX;

/// Largest bundle read (all files together).
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024 * 1024;
/// Most files in a bundle.
const MAX_BUNDLE_FILES: usize = 200_000;

/// Public keys a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys(pub BTreeSet<KeyId>);

impl TrustedKeys {
    /// Reads a trusted-keys file: a JSON array of `countersign.public-key/v1` documents (the
    /// whole file), or any mix of such documents (one per line or the whole file), ed25519
    /// `PUBLIC KEY` PEM blocks (as `keys export` prints), 64-hex public keys and 32-hex key ids,
    /// one per line; `#` starts a comment (docs/package-format.md §9).
    pub fn parse(name: &str, text: &str) -> Result<Self, ServiceError> {
        let bad = |line: usize, what: &str| {
            ServiceError::bad_input(format!(
                "{name}, line {line}: {what}; expected a PEM public key, a 64-hex public key, a 32-hex key id or a countersign.public-key/v1 JSON document"
            ))
        };
        let mut keys = BTreeSet::new();
        if text.trim_start().starts_with('[') {
            return Self::parse_array(name, text);
        }
        if let Ok((f, _)) = PublicKeyFile::parse(text.trim().as_bytes()) {
            if let Some(k) = f.key_bytes() {
                keys.insert(KeyId::of_public_key_bytes(&k));
                return Ok(Self(keys));
            }
        }
        let mut pem: Option<(usize, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if line == "-----BEGIN PUBLIC KEY-----" {
                pem = Some((n, String::new()));
                continue;
            }
            if line == "-----END PUBLIC KEY-----" {
                let Some((start, body)) = pem.take() else {
                    return Err(bad(n, "an END line without a BEGIN line"));
                };
                let der = text_encoding::decode_base64_lenient(&body)
                    .ok_or_else(|| bad(start, "the PEM body is not base64"))?;
                let key: [u8; 32] = der
                    .strip_prefix(&ED25519_SPKI_PREFIX[..])
                    .and_then(|k| k.try_into().ok())
                    .ok_or_else(|| bad(start, "the PEM block is not an ed25519 public key"))?;
                keys.insert(KeyId::of_public_key_bytes(&key));
                continue;
            }
            if let Some((_, body)) = pem.as_mut() {
                body.push_str(line);
                continue;
            }
            if line.starts_with('{') {
                let (f, _) =
                    PublicKeyFile::parse(line.as_bytes()).map_err(|e| bad(n, &e.to_string()))?;
                let k = f.key_bytes().ok_or_else(|| bad(n, "no key"))?;
                keys.insert(KeyId::of_public_key_bytes(&k));
                continue;
            }
            let hex = line.to_ascii_lowercase();
            match hex.len() {
                64 => {
                    let k: [u8; 32] = hex::decode(&hex)
                        .ok()
                        .and_then(|v| v.try_into().ok())
                        .ok_or_else(|| bad(n, "not hex"))?;
                    keys.insert(KeyId::of_public_key_bytes(&k));
                }
                32 => {
                    keys.insert(hex.parse().map_err(|_| bad(n, "not a key id"))?);
                }
                _ => return Err(bad(n, "not a key")),
            }
        }
        if let Some((start, _)) = pem {
            return Err(bad(start, "a PEM block without its END line"));
        }
        if keys.is_empty() {
            return Err(ServiceError::bad_input(format!(
                "{name} lists no keys; a trusted-keys file needs at least one"
            )));
        }
        Ok(Self(keys))
    }

    /// A whole file that is one JSON array of `countersign.public-key/v1` documents; each
    /// element is checked as a key file is (shape, key bytes, key id).
    fn parse_array(name: &str, text: &str) -> Result<Self, ServiceError> {
        let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            ServiceError::bad_input(format!(
                "{name}, line {}, column {}: not a JSON array of countersign.public-key/v1 documents ({e}); fix the file or list one key per line",
                e.line(),
                e.column()
            ))
        })?;
        let mut keys = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let n = i + 1;
            let bytes = serde_json::to_vec(item).map_err(|e| {
                ServiceError::bad_input(format!("{name}, key {n} of the array: {e}"))
            })?;
            let (f, _) = PublicKeyFile::parse(&bytes).map_err(|e| {
                ServiceError::bad_input(format!(
                    "{name}, key {n} of the array: {e}; each element must be a countersign.public-key/v1 document, as an exported public key is"
                ))
            })?;
            let k = f.key_bytes().ok_or_else(|| {
                ServiceError::bad_input(format!("{name}, key {n} of the array: no key"))
            })?;
            keys.insert(KeyId::of_public_key_bytes(&k));
        }
        if keys.is_empty() {
            return Err(ServiceError::bad_input(format!(
                "{name} is an empty JSON array; a trusted-keys file needs at least one key"
            )));
        }
        Ok(Self(keys))
    }
}

/// The result of verifying a package file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageVerification {
    /// What was verified.
    pub path: PathBuf,
    /// SHA-256 of the file (for a folder: of its manifest).
    pub sha256: Sha256,
    /// Whether every part verified.
    pub verified: bool,
    /// One report per part: the bundle's files, and the PDF (alone, or inside the bundle).
    pub reports: Vec<(String, PackageReport)>,
    /// What the verdict does not prove (empty when the package does not verify).
    pub limits: Vec<Limit>,
    /// Each run's state as its verified signatures establish it (empty when the package does
    /// not verify): what a reader compares with the cover's claims.
    pub runs: Vec<RunProven>,
    /// The package's state as the PDF's verified approvals establish it (docs/package-format.md
    /// §15): `draft` without any, and for a package that does not verify.
    pub package_state: PackageState,
    /// The PDF's package approvals as verified, in file order (empty for a bundle without a
    /// PDF).
    pub approvals: Vec<ApprovalResult>,
    /// Verified against the home that built the package: the approvals this home recorded
    /// that the file does not carry, one line each. The file is then an earlier revision of a
    /// more approved one (docs/package-format.md §15.4); it verifies as what it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub later_approvals: Vec<String>,
    /// Where the file was read from, when it was read from S3 (`verify s3://…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<S3Source>,
}

/// The S3 object a package was read from, and its retention as S3 reported it when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct S3Source {
    /// `s3://bucket/key`.
    pub uri: String,
    /// The version read, when the bucket keeps versions.
    pub version_id: Option<String>,
    /// The Object Lock retention mode (`COMPLIANCE`, `GOVERNANCE`), empty when none.
    pub retention_mode: String,
    /// The retain-until date, RFC 3339, empty when none.
    pub retain_until: String,
}

impl PackageVerification {
    /// The first problem found, naming the part and the check.
    pub fn first_problem(&self) -> Option<String> {
        self.reports
            .iter()
            .find_map(|(part, r)| r.first_problem().map(|p| format!("{part}: {p}")))
    }

    /// The package id, when a manifest could be read.
    pub fn package_id(&self) -> Option<&str> {
        self.reports
            .iter()
            .find_map(|(_, r)| r.package_id.as_deref())
    }
}

fn io_error(path: &Path, e: std::io::Error) -> ServiceError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ServiceError::not_found(format!("{} does not exist", path.display()))
    } else {
        ServiceError::storage(format!("could not read {}: {e}", path.display()))
    }
}

/// What a PDF holds for verification, and the SHA-256 of its draft: the file as built, before
/// any approval revision (the whole file when it has none).
fn pdf_input(name: &str, bytes: &[u8]) -> Result<(PackageInput, Sha256), ServiceError> {
    let approvals = countersign_core::package::approval::read_approvals(bytes);
    let draft = &bytes[..approvals
        .as_ref()
        .map_or(bytes.len(), |a| a.draft_len(bytes.len()))];
    let read = countersign_pdf::read_package(draft).map_err(|e| {
        ServiceError::integrity(format!(
            "{name}: {e}; it is not a Countersign package PDF, or it is damaged"
        ))
    })?;
    let mut files = read.attachments;
    let manifest = files.remove(MANIFEST_FILE);
    Ok((
        PackageInput {
            manifest,
            files,
            rendered: Some(Rendered {
                package_id: read.package_id,
                manifest_sha256: read.manifest_sha256,
                trailer_id: read.trailer_id,
                review_report_id: read.review_report_id,
            }),
            approvals: Some(approvals),
        },
        Sha256::of(draft),
    ))
}

/// Whether a PDF is a Periodic Review Report: its manifest says so, or (without a manifest)
/// its document information does.
fn is_review_report(input: &PackageInput) -> bool {
    match &input.manifest {
        Some(bytes) => serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| v.get("schema").and_then(|s| s.as_str()).map(str::to_owned))
            .is_some_and(|s| s == REVIEW_REPORT_SCHEMA_V1),
        None => input
            .rendered
            .as_ref()
            .is_some_and(|r| r.review_report_id.is_some()),
    }
}

/// A bundle's files by relative path, with the PDF(s) at its root kept apart.
struct Bundle {
    manifest: Option<Vec<u8>>,
    files: BTreeMap<String, Vec<u8>>,
    pdfs: BTreeMap<String, Vec<u8>>,
}

impl Bundle {
    fn new() -> Self {
        Self {
            manifest: None,
            files: BTreeMap::new(),
            pdfs: BTreeMap::new(),
        }
    }

    fn add(&mut self, name: String, bytes: Vec<u8>) {
        if name == MANIFEST_FILE {
            self.manifest = Some(bytes);
        } else if !name.contains('/') && name.to_ascii_lowercase().ends_with(".pdf") {
            self.pdfs.insert(name, bytes);
        } else {
            self.files.insert(name, bytes);
        }
    }
}

fn read_folder(root: &Path) -> Result<Bundle, ServiceError> {
    let mut bundle = Bundle::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, e))?;
            let name = entry.file_name().into_string().map_err(|n| {
                ServiceError::integrity(format!(
                    "{}: a file name that is not UTF-8 ({n:?}) cannot be part of a package",
                    dir.display()
                ))
            })?;
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().map_err(|e| io_error(&entry.path(), e))?;
            if kind.is_symlink() {
                return Err(ServiceError::integrity(format!(
                    "{}: a symbolic link inside a bundle is not followed; a package holds plain files only",
                    entry.path().display()
                )));
            }
            if kind.is_dir() {
                stack.push((entry.path(), path));
                continue;
            }
            check_path(&path).map_err(|e| ServiceError::integrity(format!("bundle {e}")))?;
            let bytes = std::fs::read(entry.path()).map_err(|e| io_error(&entry.path(), e))?;
            total += bytes.len() as u64;
            if total > MAX_BUNDLE_BYTES || bundle.files.len() >= MAX_BUNDLE_FILES {
                return Err(ServiceError::bad_input(format!(
                    "{} is larger than a package bundle may be ({} files, {MAX_BUNDLE_BYTES} bytes at most)",
                    root.display(),
                    MAX_BUNDLE_FILES
                )));
            }
            bundle.add(path, bytes);
        }
    }
    Ok(bundle)
}

/// What a zip entry is when its Unix mode says it is not a plain file or folder: a symbolic
/// link (its "content" is a path that an extracting tool would follow), a device, a pipe or a
/// socket. Entries without a Unix mode (made on other systems) are plain files.
fn special_file_kind(mode: Option<u32>) -> Option<&'static str> {
    const TYPE_BITS: u32 = 0o170_000;
    match mode? & TYPE_BITS {
        0 | 0o100_000 | 0o040_000 => None,
        0o120_000 => Some("a symbolic link"),
        _ => Some("a device, pipe or socket"),
    }
}

fn read_zip(path: &Path) -> Result<Bundle, ServiceError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        ServiceError::integrity(format!("{} is not a readable zip: {e}", path.display()))
    })?;
    if archive.len() > MAX_BUNDLE_FILES {
        return Err(ServiceError::bad_input(format!(
            "{} holds {} entries; a bundle holds at most {MAX_BUNDLE_FILES}",
            path.display(),
            archive.len()
        )));
    }
    let mut bundle = Bundle::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ServiceError::integrity(format!("{} entry {i}: {e}", path.display())))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_owned();
        if let Some(kind) = special_file_kind(entry.unix_mode()) {
            return Err(ServiceError::integrity(format!(
                "{}: entry {name:?} is {kind}; a package holds plain files only, so it is not read",
                path.display()
            )));
        }
        check_path(&name).map_err(|e| {
            ServiceError::integrity(format!("{}: entry {e}; it is not read", path.display()))
        })?;
        let budget = MAX_BUNDLE_BYTES.saturating_sub(total);
        let mut bytes = Vec::new();
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                ServiceError::integrity(format!("{} entry {name}: {e}", path.display()))
            })?;
        total += bytes.len() as u64;
        if total > MAX_BUNDLE_BYTES {
            return Err(ServiceError::bad_input(format!(
                "{} expands beyond {MAX_BUNDLE_BYTES} bytes; it is not read further",
                path.display()
            )));
        }
        if bundle.files.contains_key(&name) || bundle.pdfs.contains_key(&name) {
            return Err(ServiceError::integrity(format!(
                "{}: entry {name} appears twice",
                path.display()
            )));
        }
        bundle.add(name, bytes);
    }
    Ok(bundle)
}

/// Verifies the package at `path` (a PDF, a bundle folder, or a bundle `.zip`). Offline; no
/// Countersign home needed.
pub fn verify_package_file(
    path: &Path,
    trusted: Option<&TrustedKeys>,
) -> Result<PackageVerification, ServiceError> {
    verify_file(path, trusted, None)
}

/// What a home recorded of the package it built with a given id (`package.built`), if it did.
type BuiltLookup<'a> = &'a dyn Fn(&str) -> Result<Option<BuiltHere>, ServiceError>;

/// Adds the `built` check (docs/package-format.md §9) to `report`, when verified against a
/// home: the manifest digest, and for a PDF the digest of its bytes (`pdf`), against what the
/// home recorded when it built the package.
fn check_built(
    report: &mut PackageReport,
    pdf: Option<Sha256>,
    built: Option<BuiltLookup<'_>>,
) -> Result<(), ServiceError> {
    let (Some(lookup), Some(id)) = (built, report.package_id.as_deref()) else {
        return Ok(());
    };
    if report.document != countersign_core::package::verify::DocumentKind::ValidationPackage {
        return Ok(());
    }
    let check = built_here_check(lookup(id)?.as_ref(), pdf, report.manifest_sha256);
    if check.state == CheckState::Failed {
        report.verified = false;
    }
    report.checks.push(check);
    Ok(())
}

/// [`verify_package_file`], also holding each part against the home's build record when
/// `built` is given.
pub(super) fn verify_file(
    path: &Path,
    trusted: Option<&TrustedKeys>,
    built: Option<BuiltLookup<'_>>,
) -> Result<PackageVerification, ServiceError> {
    let options = VerifyOptions {
        trusted_keys: trusted.map(|t| t.0.clone()),
    };
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let mut reports = Vec::new();
    let sha256;
    if meta.is_dir() || is_zip {
        let bundle = if meta.is_dir() {
            read_folder(path)?
        } else {
            read_zip(path)?
        };
        sha256 = match (&bundle.manifest, meta.is_dir()) {
            (Some(m), true) => Sha256::of(m),
            _ => Sha256::of(&std::fs::read(path).map_err(|e| io_error(path, e))?),
        };
        let mut rendered = None;
        for (name, bytes) in &bundle.pdfs {
            let (input, draft) = pdf_input(name, bytes)?;
            rendered = rendered.or(input.rendered.clone());
            let mut report = verify_package(Form::Pdf, &input, &options);
            check_built(&mut report, Some(draft), built)?;
            reports.push((format!("PDF {name}"), report));
        }
        if bundle.pdfs.len() > 1 {
            return Err(ServiceError::integrity(format!(
                "{} holds {} PDFs at its root; a bundle holds exactly one package PDF",
                path.display(),
                bundle.pdfs.len()
            )));
        }
        let input = PackageInput {
            manifest: bundle.manifest,
            files: bundle.files,
            rendered,
            approvals: None,
        };
        let mut report = verify_package(Form::Bundle, &input, &options);
        check_built(&mut report, None, built)?;
        reports.insert(0, ("bundle".to_owned(), report));
    } else {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
        sha256 = Sha256::of(&bytes);
        let name = path.display().to_string();
        let (input, draft) = pdf_input(&name, &bytes)?;
        let mut report = if is_review_report(&input) {
            verify_review_report(&input, &options)
        } else {
            verify_package(Form::Pdf, &input, &options)
        };
        check_built(&mut report, Some(draft), built)?;
        reports.push(("PDF".to_owned(), report));
    }
    // The verdict, once every check (the build record's included) is in: a package that does
    // not verify proves nothing, so it has no limits to state and establishes no run state.
    let verified = reports.iter().all(|(_, r)| r.verified);
    if !verified {
        for (_, r) in &mut reports {
            r.runs.clear();
        }
    }
    let mut limits: Vec<Limit> = if verified {
        reports.iter().flat_map(|(_, r)| r.limits()).collect()
    } else {
        Vec::new()
    };
    // A bundle's own files carry no approval; the PDF beside them does, and it binds the same
    // manifest (both are checked against it).
    let pdf = reports
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.form == Form::Pdf && r.document == DocumentKind::ValidationPackage);
    if pdf.is_some_and(|r| !r.approvals.is_empty()) {
        limits.retain(|l| {
            !matches!(
                l,
                Limit::DocumentNotSigned | Limit::ValidationPagesNotSigned
            )
        });
    }
    if pdf.is_some_and(|r| r.package_state == PackageState::Approved) {
        limits.retain(|l| *l != Limit::PackageNotApproved);
    }
    let (package_state, approvals) = match pdf {
        Some(r) if verified => (r.package_state, r.approvals.clone()),
        Some(r) => (PackageState::Draft, r.approvals.clone()),
        None => (PackageState::Draft, Vec::new()),
    };
    limits.sort();
    limits.dedup();
    let runs = if verified {
        reports
            .iter()
            .map(|(_, r)| r.runs.clone())
            .find(|runs| !runs.is_empty())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(PackageVerification {
        limits,
        runs,
        package_state,
        approvals,
        later_approvals: Vec::new(),
        source: None,
        path: path.to_path_buf(),
        sha256,
        verified,
        reports,
    })
}

impl crate::Service {
    /// Verifies a package file and records the verification in the ledger.
    pub fn verify_package(
        &self,
        path: &Path,
        trusted: Option<&TrustedKeys>,
    ) -> Result<PackageVerification, ServiceError> {
        let v = self.verify_here(path, trusted)?;
        self.record_verification(&v)?;
        Ok(v)
    }

    /// [`verify_file`] held against this home's build records, not recorded.
    pub(super) fn verify_here(
        &self,
        path: &Path,
        trusted: Option<&TrustedKeys>,
    ) -> Result<PackageVerification, ServiceError> {
        let lookup = |id: &str| -> Result<Option<BuiltHere>, ServiceError> {
            Ok(self
                .ledger()?
                .package(id)
                .map_err(crate::error::from_ledger)?
                .map(|r| BuiltHere {
                    manifest_sha256: r.manifest_sha256,
                    pdf_sha256: r.pdf_sha256,
                    created_at: r.created_at,
                    event_seq: r.event_seq,
                }))
        };
        let mut v = verify_file(path, trusted, Some(&lookup))?;
        v.later_approvals = self.later_approvals(&v)?;
        Ok(v)
    }

    /// The package approvals this home recorded that `v`'s file does not carry.
    fn later_approvals(&self, v: &PackageVerification) -> Result<Vec<String>, ServiceError> {
        let Some(id) = v.package_id() else {
            return Ok(Vec::new());
        };
        let carried: BTreeSet<Sha256> = v
            .approvals
            .iter()
            .filter_map(|a| a.envelope_sha256)
            .collect();
        let recorded = self
            .ledger()?
            .signatures_of(super::approve::PACKAGE_SUBJECT, id)
            .map_err(crate::error::from_ledger)?;
        Ok(recorded
            .iter()
            .filter(|r| !carried.contains(&r.envelope_sha256()))
            .map(|r| {
                format!(
                    "{} by {} at {} (UTC{}), ledger entry {}",
                    r.meaning, r.printed_name, r.signed_at, r.utc_offset, r.event_seq
                )
            })
            .collect())
    }

    /// Records a verification (`package.verified`), except in an auditor's read-only copy of
    /// a home, where verifying needs no record.
    pub(super) fn record_verification(&self, v: &PackageVerification) -> Result<(), ServiceError> {
        if self.is_read_only() {
            return Ok(());
        }
        let id = v.package_id().unwrap_or("(unreadable)").to_owned();
        self.ledger()?
            .record_package_verification(
                &id,
                &v.sha256,
                v.verified,
                v.first_problem().as_deref(),
                &countersign_core::ledger_event::Actor::system(),
            )
            .map_err(crate::error::from_ledger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::public_key_pem;

    const RFC8032_PK: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const RFC8032_KEY_ID: &str = "a42bbcc6bdf0cf620158cc9c1a2bbff7";

    #[test]
    fn trusted_keys_read_every_documented_spelling() {
        let pk: [u8; 32] = hex::decode(RFC8032_PK).unwrap().try_into().unwrap();
        let other = [7u8; 32];
        let json = String::from_utf8(
            PublicKeyFile::new(&[9u8; 32], "Sam", "arn:aws:iam::1:user/sam", "t", None)
                .canonical_bytes()
                .unwrap(),
        )
        .unwrap();
        let text = format!(
            "# QA approvers\n{}{}  # hex public key\n{RFC8032_KEY_ID}\n{json}\n",
            public_key_pem(&other),
            RFC8032_PK.to_uppercase(),
        );
        let keys = TrustedKeys::parse("trusted.txt", &text).unwrap();
        let want: BTreeSet<KeyId> = [
            KeyId::of_public_key_bytes(&other),
            KeyId::of_public_key_bytes(&pk),
            KeyId::of_public_key_bytes(&[9u8; 32]),
        ]
        .into();
        assert_eq!(keys.0, want);
    }

    #[test]
    fn trusted_keys_read_a_json_array_of_key_documents() {
        let doc = |key: &[u8; 32], name: &str| {
            PublicKeyFile::new(key, name, "arn:aws:iam::1:user/x", "t", None)
                .canonical_bytes()
                .map(|b| String::from_utf8(b).unwrap())
                .unwrap()
        };
        let pk: [u8; 32] = hex::decode(RFC8032_PK).unwrap().try_into().unwrap();
        let want: BTreeSet<KeyId> = [
            KeyId::of_public_key_bytes(&pk),
            KeyId::of_public_key_bytes(&[9u8; 32]),
        ]
        .into();
        // One line, or pretty-printed over many lines with leading blank space.
        let one_line = format!("[{},{}]", doc(&pk, "Dana"), doc(&[9u8; 32], "Sam"));
        assert_eq!(TrustedKeys::parse("k.json", &one_line).unwrap().0, want);
        let value: serde_json::Value = serde_json::from_str(&one_line).unwrap();
        let pretty = format!("\n  {}\n", serde_json::to_string_pretty(&value).unwrap());
        assert_eq!(TrustedKeys::parse("k.json", &pretty).unwrap().0, want);

        // Each bad spelling names the element (or the JSON position) and what is wrong.
        let wrong_id = one_line.replace(RFC8032_KEY_ID, &"0".repeat(32));
        for (text, what) in [
            ("[]".to_owned(), "empty JSON array"),
            (format!("[{}", doc(&pk, "Dana")), "line 1, column"),
            (format!("[{}, 42]", doc(&pk, "Dana")), "key 2 of the array"),
            (wrong_id, "key 1 of the array"),
            (
                r#"[{"format":"other/v9"}]"#.to_owned(),
                "key 1 of the array",
            ),
        ] {
            let err = TrustedKeys::parse("k.json", &text).unwrap_err();
            assert_eq!(err.code, crate::ErrorCode::BadInput, "{text}");
            assert!(
                err.message.starts_with("k.json") && err.message.contains(what),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_bad_trusted_keys_file_names_the_line() {
        for (text, line, what) in [
            ("abc\n", "line 1", "not a key"),
            (
                "# c\n\n-----BEGIN PUBLIC KEY-----\nAAAA\n",
                "line 3",
                "without its END",
            ),
            ("-----END PUBLIC KEY-----\n", "line 1", "without a BEGIN"),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "line 1",
                "not an ed25519",
            ),
            ("zz".repeat(32).as_str(), "line 1", "not hex"),
        ] {
            let err = TrustedKeys::parse("k.txt", text).unwrap_err();
            assert_eq!(err.code, crate::ErrorCode::BadInput);
            assert!(
                err.message.contains(&format!("k.txt, {line}")) && err.message.contains(what),
                "{text:?}: {err}"
            );
        }
        let err = TrustedKeys::parse("k.txt", "# nothing\n").unwrap_err();
        assert!(err.message.contains("lists no keys"), "{err}");
    }

    #[test]
    fn a_missing_path_and_a_non_pdf_are_told_apart() {
        let err = verify_package_file(Path::new("/nonexistent/p.pdf"), None).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::NotFound);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pdf");
        std::fs::write(&p, b"not a pdf").unwrap();
        let err = verify_package_file(&p, None).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::Integrity);
        assert!(
            err.message.contains("not a Countersign package PDF"),
            "{err}"
        );
    }

    #[test]
    fn a_bundle_with_a_symbolic_link_or_an_unsafe_zip_entry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("b");
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(bundle.join("manifest.json"), b"{}").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", bundle.join("passwd")).unwrap();
        let err = verify_package_file(&bundle, None).unwrap_err();
        assert!(err.message.contains("symbolic link"), "{err}");

        let zip_path = dir.path().join("b.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        zip.start_file("../escape.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"{}").unwrap();
        zip.finish().unwrap();
        let err = verify_package_file(&zip_path, None).unwrap_err();
        assert!(err.message.contains("\"../escape.json\""), "{err}");

        // Evidence stored in the zip as a symbolic link is refused like one in a folder.
        let link_zip = dir.path().join("link.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&link_zip).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("manifest.json", opts).unwrap();
        std::io::Write::write_all(&mut zip, b"{}").unwrap();
        zip.add_symlink("runs/a/evidence/log.txt", "/etc/passwd", opts)
            .unwrap();
        zip.finish().unwrap();
        let err = verify_package_file(&link_zip, None).unwrap_err();
        assert!(err.message.contains("symbolic link"), "{err}");
        assert!(err.message.contains("\"runs/a/evidence/log.txt\""), "{err}");
    }

    #[test]
    fn zip_entry_kinds_are_told_from_their_unix_mode() {
        assert_eq!(special_file_kind(None), None);
        assert_eq!(special_file_kind(Some(0o100_644)), None);
        assert_eq!(special_file_kind(Some(0o040_755)), None);
        assert_eq!(special_file_kind(Some(0o644)), None);
        assert_eq!(special_file_kind(Some(0o120_777)), Some("a symbolic link"));
        assert_eq!(
            special_file_kind(Some(0o010_644)),
            Some("a device, pipe or socket")
        );
    }
}
