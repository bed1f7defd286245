//! Offline verification of a validation package: every digest, every signature (strict), their
//! order and policy, key trust, and the agreement of the manifest with the rendered PDF.
//!
//! Input is bytes only (the adapters read PDFs, folders and zips); the result is a list of
//! named checks, each passed, failed (with every problem found) or not applicable.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::digest::Sha256;
use crate::model::{Phase, RunKey};
use crate::package::approval::{
    check_approvals, ApprovalContext, ApprovalResult, Approvals, PackageFacts, PackageState,
};
use crate::package::manifest::{package_id, FileRole, PackageManifest, MANIFEST_FILE};
use crate::package::public_key::PublicKeyFile;
use crate::package::run_data::RunData;
use crate::run_record::RunRecord;
use crate::signature::key_id::KeyId;
use crate::signature::policy::{
    evaluate, Policy, Principal, PriorSignature, RecordFacts, SignRequest, Signer,
};
use crate::signature::predicate::Meaning;
use crate::signature::statement::Statement;
use crate::signature::verify::{
    genuine_before_revocation, verify_envelope, KeyRegistry, Outcome, RecordRef,
};

/// The form the package was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// A PDF with its embedded attachments. Original evidence is not in a PDF.
    Pdf,
    /// A bundle (folder or zip): the manifest and every file, evidence included.
    Bundle,
}

/// What the PDF says about itself (document information and trailer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// The package id in the document information dictionary.
    pub package_id: Option<String>,
    /// The manifest SHA-256 in the document information dictionary.
    pub manifest_sha256: Option<String>,
    /// The first element of the trailer `/ID`, hex.
    pub trailer_id: Option<String>,
    /// The report id, when the document information names a Periodic Review Report instead.
    pub review_report_id: Option<String>,
}

/// Everything read from a package.
#[derive(Debug, Clone, Default)]
pub struct PackageInput {
    /// The manifest's bytes, if the package has one.
    pub manifest: Option<Vec<u8>>,
    /// Every other file, by package path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// What the PDF says about itself (`None` for a bundle without a PDF).
    pub rendered: Option<Rendered>,
    /// For a PDF: its package approvals as [`read_approvals`](super::approval::read_approvals)
    /// found them, or why they could not be read (`None` for a bundle's own files).
    pub approvals: Option<Result<Approvals, String>>,
}

/// Verification options.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// When given, every public key in the package must be one of these.
    pub trusted_keys: Option<BTreeSet<KeyId>>,
}

/// State of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Done, nothing wrong.
    Passed,
    /// Done, something wrong: see `problems`.
    Failed,
    /// Not applicable to this form or input.
    Skipped,
}

/// One named check and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id: `manifest`, `files`, `records`, `keys`, `trust`, `signatures`, `order`,
    /// `policy`, `rendered`; `built` when verified against a home.
    pub id: &'static str,
    /// One line on what was checked.
    pub title: &'static str,
    /// Outcome.
    pub state: CheckState,
    /// What was checked, e.g. "14 files, 3 MB".
    pub detail: String,
    /// Every problem found, each naming the file and what is wrong.
    pub problems: Vec<String>,
}

/// One signature as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureResult {
    /// Package path of the envelope.
    pub path: String,
    /// The run it signs.
    pub run: String,
    /// Outcome code (`valid`, `record_changed`, …; see docs/signature-format.md §6).
    pub outcome: String,
    /// Meaning, printed name, time and reason, when the statement could be read.
    pub meaning: Option<String>,
    /// Signer's printed name.
    pub printed_name: Option<String>,
    /// UTC time of signing.
    pub signed_at: Option<String>,
    /// The signer's UTC offset.
    pub utc_offset: Option<String>,
    /// Key id.
    pub key_id: Option<String>,
    /// For a signature a re-open superseded: the package path of that re-open
    /// (docs/package-format.md §13). Such a signature verifies against the record as it
    /// stood when signed (the digest its statement names), not the record in the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// For a signature up to the run's last re-open (superseded, or a re-open): its key was
    /// revoked after it was made. Every other check passed with the key as it stood
    /// (docs/package-format.md §13).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub key_revoked_since: bool,
}

/// What kind of document was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A validation package (`countersign.package-manifest/v1`).
    ValidationPackage,
    /// A Periodic Review Report (`countersign.review-report-manifest/v1`).
    PeriodicReviewReport,
}

/// The verification report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageReport {
    /// What was verified.
    pub document: DocumentKind,
    /// The form that was read.
    pub form: Form,
    /// From the manifest, when it could be read.
    pub package_id: Option<String>,
    /// SHA-256 of the manifest bytes.
    pub manifest_sha256: Option<Sha256>,
    /// Whether every check passed (or was not applicable).
    pub verified: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Every signature.
    pub signatures: Vec<SignatureResult>,
    /// Every run record binds its run data (`countersign.run-record/v2`): the results tables
    /// are covered by the run signatures, not only checked for consistency.
    pub run_data_signed: bool,
    /// For a validation package that verifies: each run's state as its verified signatures
    /// establish it (never what the pages print). Empty when the package does not verify.
    pub runs: Vec<RunProven>,
    /// For a PDF: its package approvals (docs/package-format.md §15), in file order.
    pub approvals: Vec<ApprovalResult>,
    /// The package's state as its verified approvals establish it (`draft` without any, and
    /// for a package that does not verify).
    pub package_state: PackageState,
}

/// A run's state as the verified signatures of its current cycle establish it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunProven {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// The state its signatures establish (`approved`, `reviewed`, `in_review`, …).
    pub state: crate::lifecycle::RunState,
    /// The run's result (`passed`, `failed`, `incomplete`), as the manifest and the run data
    /// (checked equal) give it.
    pub status: String,
}

/// What a package that verifies still does not prove. A reader must be told these beside the
/// verdict: no screen or document may claim more than the checks showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// No trusted key list was given: the signatures verify with the public keys the package
    /// itself carries, and anyone can make a key with any printed name.
    KeysNotChecked,
    /// A validation package without a verified `Approved` package approval (§15): a draft,
    /// or only reviewed. Its run signatures may all verify; nobody has approved the package.
    PackageNotApproved,
    /// Some run record is version 1: it signs the run's evidence digests and dispositions only.
    /// The rendered pages, the results tables (run data) and the manifest are checked against
    /// each other, but no signature covers them: whoever rebuilds them consistently is not
    /// detected.
    DocumentNotSigned,
    /// Every run record is version 2: the signatures cover each run's evidence digests,
    /// dispositions and results tables (run data). The rendered pages and the manifest are
    /// checked against them, but no signature covers the pages themselves.
    ValidationPagesNotSigned,
    /// A Periodic Review Report's signatures cover its findings document (what the pages are
    /// rendered from); the pages themselves are checked against the manifest but carry no
    /// signature.
    PagesNotSigned,
}

impl Limit {
    /// The limit in a sentence for the report's reader.
    pub fn describe(self) -> &'static str {
        match self {
            Self::KeysNotChecked => {
                "the signing keys were not checked against a trusted list: the signatures verify with the keys the package carries, and anyone can make a key with any printed name"
            }
            Self::PackageNotApproved => {
                "the package itself carries no verified Approved signature: it is a draft (or only reviewed), whatever its runs' signatures establish"
            }
            Self::DocumentNotSigned => {
                "the signatures cover each run's record (evidence digests and dispositions) only; the pages, the results tables and the manifest are checked for consistency but carry no signature"
            }
            Self::ValidationPagesNotSigned => {
                "the signatures cover each run's record: its evidence digests, dispositions and results tables (run data); the pages and the manifest are checked against them but carry no signature of their own"
            }
            Self::PagesNotSigned => {
                "the review signatures cover the findings document embedded in the report; the printed pages are rendered from it and checked against the manifest, but carry no signature of their own"
            }
        }
    }
}

impl PackageReport {
    /// What this report, when it verifies, does not prove. Empty for a report that does not
    /// verify: then nothing is proven.
    pub fn limits(&self) -> Vec<Limit> {
        if !self.verified {
            return Vec::new();
        }
        let mut limits = Vec::new();
        match self.document {
            DocumentKind::ValidationPackage => {
                // A verified approval signs every byte of the PDF up to it: the pages included.
                if self.approvals.is_empty() {
                    limits.push(if self.run_data_signed {
                        Limit::ValidationPagesNotSigned
                    } else {
                        Limit::DocumentNotSigned
                    });
                }
                if self.package_state != PackageState::Approved {
                    limits.push(Limit::PackageNotApproved);
                }
            }
            DocumentKind::PeriodicReviewReport => limits.push(Limit::PagesNotSigned),
        }
        let trust_checked = self
            .checks
            .iter()
            .any(|c| c.id == "trust" && c.state == CheckState::Passed);
        if !trust_checked && (!self.signatures.is_empty() || !self.approvals.is_empty()) {
            limits.push(Limit::KeysNotChecked);
        }
        limits.sort();
        limits
    }

    /// The first problem of the first failed check, as `check: problem`.
    pub fn first_problem(&self) -> Option<String> {
        self.checks
            .iter()
            .find(|c| c.state == CheckState::Failed)
            .map(|c| {
                format!(
                    "{}: {}",
                    c.id,
                    c.problems.first().map(String::as_str).unwrap_or("failed")
                )
            })
    }
}

pub(crate) struct Checks(pub(crate) Vec<Check>);

impl Checks {
    pub(crate) fn push(
        &mut self,
        id: &'static str,
        title: &'static str,
        detail: String,
        problems: Vec<String>,
    ) {
        let state = if problems.is_empty() {
            CheckState::Passed
        } else {
            CheckState::Failed
        };
        self.0.push(Check {
            id,
            title,
            state,
            detail,
            problems,
        });
    }

    pub(crate) fn skip(
        &mut self,
        id: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) {
        self.0.push(Check {
            id,
            title,
            state: CheckState::Skipped,
            detail: detail.into(),
            problems: Vec::new(),
        });
    }
}

/// The `keys` and `trust` checks, shared by every document the verifier reads: each public-key
/// file parses, its key id derives from its key and names its file, and (with a trusted list)
/// every key is on it. Returns the registry the signatures are verified with.
pub(crate) fn check_keys<'a>(
    checks: &mut Checks,
    keys_title: &'static str,
    paths: impl Iterator<Item = &'a str>,
    files: &BTreeMap<String, Vec<u8>>,
    options: &VerifyOptions,
    trust_title: &'static str,
) -> KeyRegistry {
    let mut problems = Vec::new();
    let mut registry = KeyRegistry::new();
    let mut key_ids: Vec<(String, KeyId)> = Vec::new();
    for path in paths {
        let Some(bytes) = files.get(path) else {
            continue; // reported under files
        };
        match PublicKeyFile::parse(bytes) {
            Ok((file, enrolled)) => {
                if file.canonical_bytes().ok().as_deref() != Some(bytes.as_slice()) {
                    problems.push(format!(
                        "{path}: not in canonical form (the key file was re-encoded or edited)"
                    ));
                }
                if path != public_key_path(&file.key_id) {
                    problems.push(format!(
                        "{path}: holds key {}, whose file is {}",
                        file.key_id,
                        public_key_path(&file.key_id)
                    ));
                }
                key_ids.push((path.to_owned(), registry.insert(enrolled)));
            }
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    checks.push(
        "keys",
        keys_title,
        format!("{} public keys", key_ids.len()),
        problems,
    );
    match &options.trusted_keys {
        Some(trusted) => {
            let problems = key_ids
                .iter()
                .filter(|(_, id)| !trusted.contains(id))
                .map(|(path, id)| format!("{path}: key {id} is not on the trusted list"))
                .collect();
            checks.push(
                "trust",
                trust_title,
                format!("{} trusted keys given", trusted.len()),
                problems,
            );
        }
        None => checks.skip(
            "trust",
            trust_title,
            "no trusted key list given (--trusted-keys): the embedded keys were used as they are",
        ),
    }
    registry
}

/// Path of the `n`th (1-based) signature on `run`.
pub fn signature_path(run: &str, n: usize) -> String {
    format!("signatures/{run}/{n:03}.dsse.json")
}

/// Path of the public key file of `key_id`.
pub fn public_key_path(key_id: &str) -> String {
    format!("keys/{key_id}.json")
}

/// Verifies a package read in `form`.
pub fn verify_package(form: Form, input: &PackageInput, options: &VerifyOptions) -> PackageReport {
    let mut checks = Checks(Vec::new());
    let mut report = PackageReport {
        document: DocumentKind::ValidationPackage,
        form,
        package_id: None,
        manifest_sha256: None,
        verified: false,
        checks: Vec::new(),
        signatures: Vec::new(),
        run_data_signed: false,
        runs: Vec::new(),
        approvals: Vec::new(),
        package_state: PackageState::Draft,
    };
    const TITLES: [(&str, &str); 10] = [
        ("manifest", "The manifest is a canonical v1 manifest"),
        (
            "files",
            "Every file matches its size and SHA-256 in the manifest",
        ),
        (
            "records",
            "Run records match the run evidence and the manifest",
        ),
        (
            "keys",
            "Public keys are well formed and match their key ids",
        ),
        ("trust", "Public keys are on the trusted list"),
        (
            "signatures",
            "Every signature verifies (strict Ed25519) on its run record",
        ),
        ("order", "Signatures follow each other in order"),
        (
            "policy",
            "Each signature was allowed by the policy in force",
        ),
        ("rendered", "The PDF was rendered from this manifest"),
        (
            "approvals",
            "Package approvals cover every byte of the PDF, in order, as the policy allows",
        ),
    ];
    let title = |id: &str| {
        TITLES
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, t)| *t)
            .unwrap_or("")
    };

    let Some(manifest_bytes) = &input.manifest else {
        checks.push(
            "manifest",
            title("manifest"),
            String::new(),
            vec![format!(
                "the package has no {MANIFEST_FILE}; it is not a Countersign package"
            )],
        );
        report.checks = checks.0;
        return report;
    };
    let manifest_sha = Sha256::of(manifest_bytes);
    report.manifest_sha256 = Some(manifest_sha);
    let manifest = match PackageManifest::parse(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            checks.push(
                "manifest",
                title("manifest"),
                String::new(),
                vec![e.to_string()],
            );
            report.checks = checks.0;
            return report;
        }
    };
    report.package_id = Some(manifest.package_id.clone());
    // The id names the package by its date and its run records (§4): one that does not derive
    // from them names another package.
    let records: Vec<Sha256> = manifest.runs.iter().map(|r| r.record_sha256).collect();
    let derived = package_id(&manifest.created_at, &records);
    let mut id_problems = Vec::new();
    if derived != manifest.package_id {
        id_problems.push(format!(
            "package_id {} does not derive from created_at and the run records (§4): they give {derived}",
            manifest.package_id
        ));
    }
    checks.push(
        "manifest",
        title("manifest"),
        format!(
            "{}, {} runs, {} files, SHA-256 {manifest_sha}",
            manifest.package_id,
            manifest.runs.len(),
            manifest.files.len()
        ),
        id_problems,
    );

    // files
    let mut problems = Vec::new();
    let mut checked = 0usize;
    let mut bytes_checked = 0u64;
    let mut not_in_form = 0usize;
    for f in &manifest.files {
        match input.files.get(&f.path) {
            Some(bytes) => {
                checked += 1;
                bytes_checked = bytes_checked.saturating_add(bytes.len() as u64);
                if bytes.len() as u64 != f.size {
                    problems.push(format!(
                        "{}: {} bytes, the manifest says {}",
                        f.path,
                        bytes.len(),
                        f.size
                    ));
                } else if Sha256::of(bytes) != f.sha256 {
                    problems.push(format!(
                        "{}: SHA-256 {} does not match the manifest's {}",
                        f.path,
                        Sha256::of(bytes),
                        f.sha256
                    ));
                }
            }
            None if form == Form::Pdf && !f.role.embedded_in_pdf() => not_in_form += 1,
            None => problems.push(format!(
                "{}: listed in the manifest ({}) but missing from the package",
                f.path, f.role
            )),
        }
    }
    for path in input.files.keys() {
        if manifest.file(path).is_none() {
            problems.push(format!(
                "{path}: in the package but not listed in the manifest"
            ));
        }
    }
    let mut detail = format!("{checked} files, {bytes_checked} bytes");
    if not_in_form > 0 {
        detail.push_str(&format!(
            "; {not_in_form} evidence files are listed but travel in the bundle, not the PDF (verify the bundle to check them)"
        ));
    }
    checks.push("files", title("files"), detail, problems);

    // records
    let mut problems = Vec::new();
    let mut records: BTreeMap<&str, (RunRecord, Sha256, Option<RunData>)> = BTreeMap::new();
    for r in &manifest.runs {
        let Some(bytes) = input.files.get(&r.record) else {
            problems.push(format!(
                "{}: the run record of {} is missing",
                r.record, r.run
            ));
            continue;
        };
        let record = match RunRecord::parse(bytes) {
            Ok(rec) => rec,
            Err(e) => {
                problems.push(format!("{}: {e}", r.record));
                continue;
            }
        };
        if record.run != r.run {
            problems.push(format!(
                "{}: records run {}, the manifest says {}",
                r.record, record.run, r.run
            ));
        }
        for file in &record.files {
            let path = format!("runs/{}/files/{}", r.run, file.path);
            match manifest.file(&path) {
                Some(m) if m.role == FileRole::Evidence && m.sha256 == file.sha256 => {}
                Some(m) => problems.push(format!(
                    "{path}: the run record says SHA-256 {}, the manifest lists {} ({})",
                    file.sha256, m.sha256, m.role
                )),
                None => problems.push(format!(
                    "{path}: in the run record of {} but not in the manifest",
                    r.run
                )),
            }
        }
        let evidence_prefix = format!("runs/{}/files/", r.run);
        for m in manifest
            .files
            .iter()
            .filter(|m| m.role == FileRole::Evidence && m.path.starts_with(&evidence_prefix))
        {
            let rel = &m.path[evidence_prefix.len()..];
            if !record.files.iter().any(|f| f.path == rel) {
                problems.push(format!(
                    "{}: evidence of {} not in its run record",
                    m.path, r.run
                ));
            }
        }
        let data = input
            .files
            .get(&r.data)
            .and_then(|b| match RunData::parse(b) {
                Ok(d) if d.canonical_bytes().ok().as_deref() != Some(b.as_slice()) => {
                    problems.push(format!(
                        "{}: not in canonical form (the run data was re-encoded or edited)",
                        r.data
                    ));
                    Some(d)
                }
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(format!("{}: not run data: {e}", r.data));
                    None
                }
            });
        if let Some(d) = &data {
            if d.run != r.run || d.totals != r.totals || d.status != r.status {
                problems.push(format!(
                    "{}: run, status or totals differ from the manifest's entry for {}",
                    r.data, r.run
                ));
            }
        }
        // A v2 record binds the run data the signer was shown: the results tables are then
        // covered by the run's signatures, byte for byte.
        if let Some(bound) = &record.run_data {
            match input.files.get(&r.data) {
                None => problems.push(format!(
                    "{}: the run data the record of {} binds is missing",
                    r.data, r.run
                )),
                Some(b) if Sha256::of(b) != bound.sha256 => problems.push(format!(
                    "{}: SHA-256 {}, the signed run record binds {} (the results were changed after they were signed)",
                    r.data,
                    Sha256::of(b),
                    bound.sha256
                )),
                Some(_) if bound.schema != crate::package::run_data::RUN_DATA_SCHEMA_V1 => {
                    problems.push(format!(
                        "{}: the record binds run data of schema {:?}, which this version does not read",
                        r.record, bound.schema
                    ))
                }
                Some(_) => {}
            }
        }
        records.insert(r.run.as_str(), (record, Sha256::of(bytes), data));
    }
    report.run_data_signed = !manifest.runs.is_empty()
        && records.len() == manifest.runs.len()
        && records.values().all(|(r, _, _)| r.run_data.is_some());
    checks.push(
        "records",
        title("records"),
        format!("{} run records", manifest.runs.len()),
        problems,
    );

    // keys, trust
    let key_paths = manifest
        .files
        .iter()
        .filter(|f| f.role == FileRole::PublicKey)
        .map(|f| f.path.as_str());
    let registry = check_keys(
        &mut checks,
        title("keys"),
        key_paths,
        &input.files,
        options,
        title("trust"),
    );

    // signatures, order, policy
    let policy = manifest
        .files
        .iter()
        .find(|f| f.role == FileRole::Policy)
        .and_then(|f| input.files.get(&f.path))
        .and_then(|b| Policy::parse(b).ok());
    let mut sig_problems = Vec::new();
    let mut order_problems = Vec::new();
    let mut policy_problems = Vec::new();
    let mut policy_notes = Vec::new();
    let mut total = 0usize;
    for r in &manifest.runs {
        let prefix = format!("signatures/{}/", r.run);
        let paths: Vec<&str> = manifest
            .files
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .map(|f| f.path.as_str())
            .collect();
        let mut history: Vec<PriorSignature> = Vec::new();
        // Signatures up to the run's last re-open (that re-open included) belong to earlier
        // cycles: each verifies against the record it was made on, the digest its statement
        // names; the chain of `follows` binds them to what came after (§13).
        let statements: Vec<Option<Statement>> = paths
            .iter()
            .map(|p| input.files.get(*p).and_then(|b| statement_of(b)))
            .collect();
        let meanings: Vec<Meaning> = statements
            .iter()
            .map(|s| {
                s.as_ref()
                    .map_or(Meaning::Authored, |s| s.predicate.meaning)
            })
            .collect();
        let superseded = crate::lifecycle::superseded_by(&meanings);
        let last_reopen = crate::lifecycle::last_reopen(&meanings);
        for (i, path) in paths.iter().enumerate() {
            total += 1;
            let expected = signature_path(&r.run, i + 1);
            if *path != expected {
                order_problems.push(format!(
                    "{path}: signature {} of {} should be {expected}",
                    i + 1,
                    r.run
                ));
            }
            let Some(bytes) = input.files.get(*path) else {
                continue;
            };
            let Some((_, record_sha, data)) = records.get(r.run.as_str()) else {
                continue;
            };
            let name = format!("run:{}", r.run);
            let statement = statements[i].clone();
            let earlier_cycle = last_reopen.is_some_and(|last| i <= last);
            let against = match (&statement, earlier_cycle) {
                (Some(st), true) => st
                    .subject()
                    .map_or(*record_sha, |subject| subject.digest.sha256),
                _ => *record_sha,
            };
            let here = RecordRef {
                name: &name,
                sha256: against,
            };
            let outcome = verify_envelope(bytes, &here, &registry);
            // A signature up to the last re-open (superseded, or a re-open) is history, not in
            // force: one whose key was revoked after it was made counts when it was genuine
            // then (§13).
            let (outcome, key_revoked_since) = match (earlier_cycle, &outcome) {
                (true, Outcome::RevokedKey { .. }) => {
                    match genuine_before_revocation(&outcome, bytes, &here, &registry) {
                        Some(made) => (made, true),
                        None => (outcome, false),
                    }
                }
                _ => (outcome, false),
            };
            report.signatures.push(SignatureResult {
                path: (*path).to_owned(),
                run: r.run.clone(),
                outcome: outcome.code().to_owned(),
                meaning: statement.as_ref().map(|s| s.predicate.meaning.to_string()),
                printed_name: statement.as_ref().map(|s| s.predicate.printed_name.clone()),
                signed_at: statement
                    .as_ref()
                    .map(|s| s.predicate.signed_at.to_string()),
                utc_offset: statement
                    .as_ref()
                    .map(|s| s.predicate.utc_offset.to_string()),
                key_id: statement.as_ref().map(|s| s.predicate.key_id.to_hex()),
                superseded_by: superseded[i].map(|j| paths[j].to_owned()),
                key_revoked_since,
            });
            let verified = match outcome {
                Outcome::Valid(v) => v,
                other => {
                    sig_problems.push(format!("{path}: {}", describe(&other)));
                    // Keep its place in the order, so one bad signature is reported once.
                    if let Some(st) = &statement {
                        history.push(PriorSignature {
                            meaning: st.predicate.meaning,
                            arn: st.predicate.iam_arn.clone(),
                            printed_name: st.predicate.printed_name.clone(),
                            key_id: st.predicate.key_id,
                            // The envelope digest (docs/signature-format.md §1), as for
                            // one that verifies; the file's bytes only when unreadable.
                            envelope_sha256: crate::signature::dsse::Envelope::from_json(bytes)
                                .map_or_else(|_| Sha256::of(bytes), |e| e.digest()),
                        });
                    }
                    continue;
                }
            };
            let st = &verified.statement;
            let p = &st.predicate;
            let want: Vec<Sha256> = history.iter().map(|h| h.envelope_sha256).collect();
            if p.follows != want {
                order_problems.push(format!(
                    "{path}: follows {} earlier signature(s), but {} precede it in the package (a signature was removed, added or reordered)",
                    p.follows.len(),
                    want.len()
                ));
            }
            let signer = Signer {
                arn: p.iam_arn.clone(),
                printed_name: p.printed_name.clone(),
                key_id: verified.key_id,
                groups: policy.as_ref().map(group_names).unwrap_or_default(),
            };
            match &policy {
                Some(pol) if pol.sha256 == p.policy.sha256 => {
                    let facts = RecordFacts {
                        name: name.clone(),
                        phase: phase_of(&r.run).unwrap_or(Phase::Iq),
                        executor_arn: data.as_ref().and_then(|d| d.executor_arn.clone()),
                        undispositioned: data
                            .as_ref()
                            .map(|d| undispositioned(d, records.get(r.run.as_str())))
                            .unwrap_or_default(),
                    };
                    let request = SignRequest {
                        signer: signer.clone(),
                        meaning: p.meaning,
                        record: facts,
                    };
                    if let Err(refusal) = evaluate(pol, &request, &history) {
                        policy_problems.push(format!("{path}: {}", refusal.message));
                    }
                }
                _ => policy_notes.push((*path).to_owned()),
            }
            history.push(PriorSignature {
                meaning: p.meaning,
                arn: p.iam_arn.clone(),
                printed_name: p.printed_name.clone(),
                key_id: verified.key_id,
                envelope_sha256: verified.envelope_sha256,
            });
        }
    }
    checks.push(
        "signatures",
        title("signatures"),
        format!("{total} signatures"),
        sig_problems,
    );
    checks.push(
        "order",
        title("order"),
        format!("{total} signatures"),
        order_problems,
    );
    if total == 0 {
        checks.skip("policy", title("policy"), "no signatures");
    } else if policy.is_none() {
        checks.push(
            "policy",
            title("policy"),
            String::new(),
            vec!["the package carries no readable policy file (policy.json)".into()],
        );
    } else {
        let mut detail = format!(
            "{} of {total} signatures re-checked",
            total - policy_notes.len()
        );
        if !policy_notes.is_empty() {
            detail.push_str(&format!(
                "; made under another policy version, not re-checked: {}",
                policy_notes.join(", ")
            ));
        }
        detail
            .push_str("; IAM group membership is taken as granted (it cannot be checked offline)");
        checks.push("policy", title("policy"), detail, policy_problems);
    }

    // rendered
    match &input.rendered {
        None => checks.skip("rendered", title("rendered"), "no PDF in this form"),
        Some(rendered) => {
            let mut problems = Vec::new();
            let hex = manifest_sha.to_hex();
            if rendered
                .manifest_sha256
                .as_deref()
                .map(str::to_ascii_lowercase)
                != Some(hex.clone())
            {
                problems.push(format!(
                    "the PDF was rendered from manifest {}, the embedded manifest is {hex}",
                    rendered.manifest_sha256.as_deref().unwrap_or("(none)")
                ));
            }
            if rendered.package_id.as_deref() != Some(manifest.package_id.as_str()) {
                problems.push(format!(
                    "the PDF names package {}, the manifest {}",
                    rendered.package_id.as_deref().unwrap_or("(none)"),
                    manifest.package_id
                ));
            }
            if rendered
                .trailer_id
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
                != Some(&hex[..32])
            {
                problems.push(format!(
                    "the PDF's trailer /ID {} is not derived from the manifest digest",
                    rendered.trailer_id.as_deref().unwrap_or("(none)")
                ));
            }
            checks.push(
                "rendered",
                title("rendered"),
                "document information and trailer /ID".into(),
                problems,
            );
        }
    }

    // Each run's state as its signatures establish it: kept only when the package verifies,
    // and what the approvals' policy replay holds the package to.
    let runs: Vec<RunProven> = manifest
        .runs
        .iter()
        .map(|r| {
            // The state follows the meanings in signing order, as it does at home
            // (core::lifecycle).
            let meanings: Vec<Meaning> = report
                .signatures
                .iter()
                .filter(|s| s.run == r.run)
                .filter_map(|s| s.meaning.as_deref()?.parse().ok())
                .collect();
            let dispositions = records
                .get(r.run.as_str())
                .is_some_and(|(record, _, _)| !record.dispositions.is_empty());
            RunProven {
                run: r.run.clone(),
                state: crate::lifecycle::RunState::of_meanings(&meanings, dispositions),
                status: r.status.clone(),
            }
        })
        .collect();

    // approvals
    match &input.approvals {
        None => checks.skip(
            "approvals",
            title("approvals"),
            "no PDF in this form: package approvals are in the PDF",
        ),
        Some(Err(e)) => checks.push(
            "approvals",
            title("approvals"),
            String::new(),
            vec![e.clone()],
        ),
        Some(Ok(found)) => {
            let mut phases: Vec<Phase> = manifest
                .runs
                .iter()
                .filter_map(|r| phase_of(&r.run))
                .collect();
            phases.sort();
            phases.dedup();
            let facts = PackageFacts {
                name: crate::signature::statement::package_subject_name(&manifest.package_id),
                phases,
                runs_not_approved: runs
                    .iter()
                    .filter(|r| r.state != crate::lifecycle::RunState::Approved)
                    .map(|r| format!("{} ({})", r.run, r.state.as_str()))
                    .collect(),
                runs: runs.len(),
            };
            let checked = check_approvals(
                found,
                &ApprovalContext {
                    package_id: &manifest.package_id,
                    registry: &registry,
                    trusted: options.trusted_keys.as_ref(),
                    policy: policy.as_ref(),
                    facts,
                },
            );
            let state = checked.state();
            let mut detail = match found.revisions.len() {
                0 => "no package approval: the package is a draft".to_string(),
                n => format!("{n} approval(s); the package is {}", state.as_str()),
            };
            if !checked.not_replayed.is_empty() {
                detail.push_str(&format!(
                    "; approval(s) {:?} were made under another policy than the package's and are not replayed",
                    checked.not_replayed
                ));
            }
            report.approvals = checked.results.clone();
            report.package_state = state;
            checks.push("approvals", title("approvals"), detail, checked.problems);
        }
    }

    report.verified = !checks.0.iter().any(|c| c.state == CheckState::Failed);
    report.checks = checks.0;
    if report.verified {
        report.runs = runs;
    } else {
        report.package_state = PackageState::Draft;
    }
    report
}

pub(crate) fn statement_of(envelope: &[u8]) -> Option<Statement> {
    let env = crate::signature::dsse::Envelope::from_json(envelope).ok()?;
    Statement::from_payload(&env.payload_bytes().ok()?).ok()
}

pub(crate) fn group_names(policy: &Policy) -> Vec<String> {
    policy
        .grants
        .iter()
        .filter_map(|g| match &g.principal {
            Principal::Group(name) => Some(name.clone()),
            Principal::Arn(_) => None,
        })
        .collect()
}

fn phase_of(run: &str) -> Option<Phase> {
    run.split('/').nth(1)?.parse().ok()
}

fn undispositioned(
    data: &RunData,
    record: Option<&(RunRecord, Sha256, Option<RunData>)>,
) -> Vec<String> {
    let Some((record, _, _)) = record else {
        return data.undispositioned();
    };
    data.cases
        .iter()
        .filter(|c| c.status.needs_disposition())
        .filter(|c| !record.dispositions.iter().any(|d| d.case_id == c.id))
        .map(|c| c.id.clone())
        .collect()
}

pub(crate) fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Valid(_) => "valid".into(),
        Outcome::RecordChanged { signed, current } => format!(
            "record_changed: signed run record {signed}, the package's is {current}"
        ),
        Outcome::SignatureMoved { signed_for } => {
            format!("signature_moved: made for {signed_for}")
        }
        Outcome::UnknownKey { key_id } => {
            format!("unknown_key: no public key {key_id} in the package")
        }
        Outcome::RevokedKey { key_id } => format!("revoked_key: key {key_id} was revoked"),
        Outcome::SignerNotEnrolled {
            key_id,
            enrolled_arn,
            claimed_arn,
        } => format!(
            "signer_not_enrolled: key {key_id} is enrolled to {enrolled_arn}, the signature claims {claimed_arn}"
        ),
        Outcome::Malformed { detail } => format!("malformed: {detail}"),
        Outcome::UnsupportedVersion { found } => format!("unsupported_version: {found}"),
        Outcome::BadSignature => {
            "bad_signature: the Ed25519 signature does not verify over the envelope".into()
        }
    }
}

/// What a home recorded when it built a package (`package.built`): the digests to hold a file
/// against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltHere {
    /// SHA-256 of the manifest it built.
    pub manifest_sha256: Sha256,
    /// SHA-256 of the PDF it wrote.
    pub pdf_sha256: Sha256,
    /// When (UTC) and by which ledger entry.
    pub created_at: String,
    /// The `package.built` entry.
    pub event_seq: u64,
}

/// The `built` check: a package verified in the home that built it is held against what that
/// home recorded. The pages carry no signature, so only this record can tell that a PDF's bytes
/// (an edited page, a flipped bit) are not the ones written; a package built elsewhere skips
/// the check, saying so. `pdf_sha256` is the SHA-256 of the PDF file verified, when it was one.
pub fn built_here_check(
    built: Option<&BuiltHere>,
    pdf_sha256: Option<Sha256>,
    manifest_sha256: Option<Sha256>,
) -> Check {
    let title = "The file is the one this home built";
    let Some(b) = built else {
        return Check {
            id: "built",
            title,
            state: CheckState::Skipped,
            detail: "not built in this home: no record of its bytes to compare with".into(),
            problems: Vec::new(),
        };
    };
    let mut problems = Vec::new();
    if manifest_sha256.is_some_and(|m| m != b.manifest_sha256) {
        problems.push(format!(
            "the manifest's SHA-256 is {}; this home built the package with manifest {} (ledger entry {})",
            manifest_sha256.map(|m| m.to_hex()).unwrap_or_default(),
            b.manifest_sha256,
            b.event_seq
        ));
    }
    if let Some(pdf) = pdf_sha256 {
        if pdf != b.pdf_sha256 {
            problems.push(format!(
                "the PDF's SHA-256 is {pdf}; this home wrote {} at {} (ledger entry {}): the file was changed after it was built",
                b.pdf_sha256, b.created_at, b.event_seq
            ));
        }
    }
    Check {
        id: "built",
        title,
        state: if problems.is_empty() {
            CheckState::Passed
        } else {
            CheckState::Failed
        },
        detail: format!(
            "built here at {} (ledger entry {}); {}",
            b.created_at,
            b.event_seq,
            if pdf_sha256.is_some() {
                "PDF and manifest compared"
            } else {
                "manifest compared"
            }
        ),
        problems,
    }
}

/// The key of a run path `SYSTEM/PHASE/RUN-ID`, if well formed.
pub fn run_key(run: &str) -> Option<RunKey> {
    let mut parts = run.splitn(3, '/');
    let system = parts.next()?.to_owned();
    let phase = parts.next()?.parse().ok()?;
    let run_id = parts.next()?.to_owned();
    Some(RunKey {
        system,
        phase,
        run_id,
    })
}
