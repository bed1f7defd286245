//! Offline verification of a Periodic Review Report (docs/package-format.md §12): the manifest,
//! every file's digest, the findings (strict v1, for the manifest's system and period), the
//! keys and their trust, every review signature (strict, on the findings, meaning
//! `PeriodicallyReviewed`) and their order, every impact assessment the findings count
//! (its record and signature embedded, and equal to what the findings say), and the agreement
//! of the manifest with the rendered PDF. Bytes in, a [`PackageReport`] out.

use std::collections::BTreeMap;

use super::{
    assessment_signature_path, report_id, review_signature_path, ReportRole, ReviewReportManifest,
    FINDINGS_FILE,
};
use crate::digest::Sha256;
use crate::package::verify::{
    check_keys, describe, statement_of, CheckState, Checks, DocumentKind, Form, PackageInput,
    PackageReport, SignatureResult, VerifyOptions,
};
use crate::qualified_state::{AssessmentRecord, Findings};
use crate::signature::predicate::Meaning;
use crate::signature::statement::{change_assessment_subject_name, periodic_review_subject_name};
use crate::signature::verify::{verify_envelope, Outcome, RecordRef};

const TITLES: [(&str, &str); 9] = [
    ("manifest", "The manifest is a canonical v1 report manifest"),
    (
        "files",
        "Every file matches its size and SHA-256 in the manifest",
    ),
    (
        "findings",
        "The findings are a strict v1 document of this system and period",
    ),
    (
        "keys",
        "Public keys are well formed and match their key ids",
    ),
    ("trust", "Public keys are on the trusted list"),
    (
        "signatures",
        "Every review signature verifies (strict Ed25519) on the findings",
    ),
    ("order", "Review signatures follow each other in order"),
    (
        "assessments",
        "Every impact assessment the findings count is embedded, signed and equal",
    ),
    ("rendered", "The PDF was rendered from this manifest"),
];

fn title(id: &str) -> &'static str {
    TITLES
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

/// The subject id of a periodic review of `system` over `from..to`, as the ledger and a
/// [`SignatureResult`] name it: `<system>/<from>..<to>`.
pub fn review_subject_id(manifest: &ReviewReportManifest) -> String {
    format!(
        "{}/{}..{}",
        manifest.system, manifest.period.from, manifest.period.to
    )
}

/// Verifies a Periodic Review Report read from a PDF (`input.manifest` is its
/// `manifest.json`).
pub fn verify_review_report(input: &PackageInput, options: &VerifyOptions) -> PackageReport {
    let mut checks = Checks(Vec::new());
    let mut report = PackageReport {
        document: DocumentKind::PeriodicReviewReport,
        form: Form::Pdf,
        package_id: None,
        manifest_sha256: None,
        verified: false,
        checks: Vec::new(),
        signatures: Vec::new(),
        run_data_signed: false,
        runs: Vec::new(),
        approvals: Vec::new(),
        package_state: crate::package::approval::PackageState::Draft,
    };
    let Some(manifest_bytes) = &input.manifest else {
        checks.push(
            "manifest",
            title("manifest"),
            String::new(),
            vec!["the report has no manifest.json; it is not a Countersign report".into()],
        );
        report.checks = checks.0;
        return report;
    };
    let manifest_sha = Sha256::of(manifest_bytes);
    report.manifest_sha256 = Some(manifest_sha);
    let manifest = match ReviewReportManifest::parse(manifest_bytes) {
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
    report.package_id = Some(manifest.report_id.clone());
    // The id names the report by its date and its findings (§12.3).
    let derived = report_id(&manifest.created_at, &manifest.findings_sha256);
    let mut id_problems = Vec::new();
    if derived != manifest.report_id {
        id_problems.push(format!(
            "report_id {} does not derive from created_at and findings_sha256 (§12.3): they give {derived}",
            manifest.report_id
        ));
    }
    checks.push(
        "manifest",
        title("manifest"),
        format!(
            "{}, {} {}..{}, {} files, SHA-256 {manifest_sha}",
            manifest.report_id,
            manifest.system,
            manifest.period.from,
            manifest.period.to,
            manifest.files.len()
        ),
        id_problems,
    );

    // files
    let mut problems = Vec::new();
    let mut bytes_checked = 0u64;
    for f in &manifest.files {
        match input.files.get(&f.path) {
            Some(bytes) => {
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
            None => problems.push(format!(
                "{}: listed in the manifest ({}) but missing from the report",
                f.path, f.role
            )),
        }
    }
    for path in input.files.keys() {
        if manifest.file(path).is_none() {
            problems.push(format!(
                "{path}: in the report but not listed in the manifest"
            ));
        }
    }
    checks.push(
        "files",
        title("files"),
        format!("{} files, {bytes_checked} bytes", manifest.files.len()),
        problems,
    );

    // findings
    let findings_bytes = input.files.get(FINDINGS_FILE);
    let findings_sha = findings_bytes.map(|b| Sha256::of(b));
    let mut problems = Vec::new();
    let findings = match findings_bytes.map(|b| Findings::parse(b)) {
        None => {
            problems.push(format!("{FINDINGS_FILE} is missing"));
            None
        }
        Some(Err(e)) => {
            problems.push(format!("{FINDINGS_FILE}: {e}"));
            None
        }
        Some(Ok(f)) => {
            if f.system != manifest.system {
                problems.push(format!(
                    "{FINDINGS_FILE}: findings of system {:?}, the report is about {:?}",
                    f.system, manifest.system
                ));
            }
            if f.period.to != manifest.period.to
                || f.period.from < manifest.period.from
                || f.period.from > manifest.period.to
            {
                problems.push(format!(
                    "{FINDINGS_FILE}: findings over {}..{}, outside the reviewed period {}..{}",
                    f.period.from, f.period.to, manifest.period.from, manifest.period.to
                ));
            }
            Some(f)
        }
    };
    checks.push(
        "findings",
        title("findings"),
        findings
            .as_ref()
            .map(|f| format!("{} ({} changes)", f.verdict.text, f.changes.len()))
            .unwrap_or_default(),
        problems,
    );

    // keys, trust
    let key_paths = manifest
        .files_of(ReportRole::PublicKey)
        .map(|f| f.path.as_str());
    let registry = check_keys(
        &mut checks,
        title("keys"),
        key_paths,
        &input.files,
        options,
        title("trust"),
    );

    // signatures and order
    let subject_id = review_subject_id(&manifest);
    let name = periodic_review_subject_name(
        &manifest.system,
        &manifest.period.from.to_string(),
        &manifest.period.to.to_string(),
    );
    let mut sig_problems = Vec::new();
    let mut order_problems = Vec::new();
    let mut earlier: Vec<Sha256> = Vec::new();
    let signatures: Vec<&str> = manifest
        .files_of(ReportRole::Signature)
        .map(|f| f.path.as_str())
        .collect();
    if signatures.is_empty() {
        sig_problems.push(
            "the report carries no periodic-review signature: it is not a signed review".into(),
        );
    }
    for (i, path) in signatures.iter().enumerate() {
        let expected = review_signature_path(i + 1);
        if *path != expected {
            order_problems.push(format!("{path}: signature {} should be {expected}", i + 1));
        }
        let (Some(bytes), Some(sha)) = (input.files.get(*path), findings_sha) else {
            continue;
        };
        let outcome = verify_envelope(
            bytes,
            &RecordRef {
                name: &name,
                sha256: sha,
            },
            &registry,
        );
        let statement = statement_of(bytes);
        report.signatures.push(SignatureResult {
            path: (*path).to_owned(),
            run: subject_id.clone(),
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
            superseded_by: None,
            key_revoked_since: false,
        });
        match outcome {
            Outcome::Valid(v) => {
                let p = &v.statement.predicate;
                if p.meaning != Meaning::PeriodicallyReviewed {
                    sig_problems.push(format!(
                        "{path}: means {}, not PeriodicallyReviewed",
                        p.meaning
                    ));
                }
                if p.follows != earlier {
                    order_problems.push(format!(
                        "{path}: follows {} earlier signature(s), but {} precede it in the report (a signature was removed, added or reordered)",
                        p.follows.len(),
                        earlier.len()
                    ));
                }
                earlier.push(v.envelope_sha256);
            }
            other => {
                sig_problems.push(format!("{path}: {}", describe(&other)));
                earlier.push(Sha256::of(bytes));
            }
        }
    }
    checks.push(
        "signatures",
        title("signatures"),
        format!("{} signatures on {name}", signatures.len()),
        sig_problems,
    );
    checks.push(
        "order",
        title("order"),
        format!("{} signatures", signatures.len()),
        order_problems,
    );

    // assessments
    let mut problems = Vec::new();
    let mut embedded: BTreeMap<Sha256, (AssessmentRecord, crate::signature::statement::Statement)> =
        BTreeMap::new();
    let records: Vec<&str> = manifest
        .files_of(ReportRole::AssessmentRecord)
        .map(|f| f.path.as_str())
        .collect();
    let envelopes = manifest.files_of(ReportRole::AssessmentSignature).count();
    if envelopes != records.len() {
        problems.push(format!(
            "{} assessment records but {envelopes} assessment signatures",
            records.len()
        ));
    }
    for (i, path) in records.iter().enumerate() {
        let expected = super::assessment_record_path(i + 1);
        if *path != expected {
            problems.push(format!("{path}: assessment {} should be {expected}", i + 1));
        }
        let envelope_path = assessment_signature_path(i + 1);
        let (Some(bytes), Some(envelope)) =
            (input.files.get(*path), input.files.get(&envelope_path))
        else {
            problems.push(format!(
                "{path}: its record or its signature {envelope_path} is missing"
            ));
            continue;
        };
        let record = match AssessmentRecord::parse(bytes) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        if record.system != manifest.system {
            problems.push(format!(
                "{path}: assesses a change of {:?}, not {:?}",
                record.system, manifest.system
            ));
            continue;
        }
        let aname = change_assessment_subject_name(&record.system, &record.change);
        match verify_envelope(
            envelope,
            &RecordRef {
                name: &aname,
                sha256: Sha256::of(bytes),
            },
            &registry,
        ) {
            Outcome::Valid(v) if v.statement.predicate.meaning == Meaning::Assessed => {
                embedded.insert(v.envelope_sha256, (record, v.statement));
            }
            Outcome::Valid(v) => problems.push(format!(
                "{envelope_path}: means {}, not Assessed",
                v.statement.predicate.meaning
            )),
            other => problems.push(format!("{envelope_path}: {}", describe(&other))),
        }
    }
    if let Some(f) = &findings {
        for a in &f.assessments {
            match embedded.remove(&a.envelope_sha256) {
                None => problems.push(format!(
                    "the findings count the assessment {} of change {}, which the report does not carry (or whose signature does not verify)",
                    a.envelope_sha256, a.change
                )),
                Some((record, st)) => {
                    let p = &st.predicate;
                    if record.change != a.change
                        || record.impact != a.impact
                        || record.reference != a.reference
                        || p.reason != a.reason
                        || p.printed_name != a.printed_name
                        || p.iam_arn != a.iam_arn
                        || p.signed_at != a.signed_at
                    {
                        problems.push(format!(
                            "the assessment {} of change {} is not what the findings say it is",
                            a.envelope_sha256, a.change
                        ));
                    }
                }
            }
        }
        for (sha, (record, _)) in &embedded {
            problems.push(format!(
                "the report carries the assessment {sha} of change {}, which the findings do not count",
                record.change
            ));
        }
    }
    checks.push(
        "assessments",
        title("assessments"),
        format!("{} impact assessments", records.len()),
        problems,
    );

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
            if rendered.review_report_id.as_deref() != Some(manifest.report_id.as_str()) {
                problems.push(format!(
                    "the PDF names report {}, the manifest {}",
                    rendered.review_report_id.as_deref().unwrap_or("(none)"),
                    manifest.report_id
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

    report.verified = !checks.0.iter().any(|c| c.state == CheckState::Failed);
    report.checks = checks.0;
    report
}
