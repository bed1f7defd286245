//! The report manifest's frozen encoding, and verification failing for each defect that
//! should make it fail.

use std::collections::BTreeMap;

use time::macros::{datetime, offset};

use super::verify::verify_review_report;
use super::{
    assessment_record_path, assessment_signature_path, report_id, review_signature_path,
    ReportFile, ReportRole, ReviewReportManifest, FINDINGS_FILE, REVIEW_REPORT_SCHEMA_V1,
};
use crate::digest::Sha256;
use crate::package::public_key::PublicKeyFile;
use crate::package::verify::{
    public_key_path, CheckState, DocumentKind, Limit, PackageInput, PackageReport, Rendered,
    VerifyOptions,
};
use crate::qualified_state::tests::sample_findings;
use crate::qualified_state::{AssessmentRecord, AssessmentRef, Findings, Impact, Period};
use crate::signature::dsse::sign_statement;
use crate::signature::key_id::KeyId;
use crate::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use crate::signature::statement::{
    change_assessment_subject_name, periodic_review_subject_name, Statement, Subject,
};
use crate::signature::SigningKey;

const ARN: &str = "arn:aws:iam::123456789012:user/dana";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn period() -> Period {
    Period {
        from: UtcTimestamp::new(datetime!(2026-11-01 00:00 UTC)),
        to: UtcTimestamp::new(datetime!(2026-11-14 06:00 UTC)),
    }
}

fn sign(name: String, digest: Sha256, meaning: Meaning, follows: Vec<Sha256>) -> Vec<u8> {
    let k = key();
    let predicate = Predicate {
        meaning,
        reason: "November reviewed".into(),
        printed_name: "Dana Whitfield".into(),
        iam_arn: ARN.into(),
        key_id: KeyId::of(&k.verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-11-14 09:00:00 UTC)),
        utc_offset: Offset::new(offset!(+1)),
        sts: StsEvidence {
            mfa_serial: "arn:aws:iam::123456789012:mfa/dana".into(),
            session_expires_at: UtcTimestamp::new(datetime!(2026-11-14 21:00:00 UTC)),
            server_time: None,
        },
        policy: PolicyRef {
            version: 1,
            sha256: Sha256::of(b"policy"),
        },
        follows,
    };
    sign_statement(&Statement::new(Subject::new(name, digest), predicate), &k)
        .unwrap()
        .to_canonical_json()
}

/// A report being put together in memory.
struct Report {
    files: BTreeMap<String, (ReportRole, Vec<u8>)>,
    findings: Findings,
    meaning: Meaning,
}

impl Report {
    /// Findings counting one signed assessment, and one review signature over them.
    fn new() -> Self {
        let change = sample_findings(&[]).changes[0].id;
        let record = AssessmentRecord::new("LIMS", change, Impact::NoImpact, Some("CC-1"));
        let record_bytes = record.canonical_bytes().unwrap();
        let envelope = sign(
            change_assessment_subject_name("LIMS", &change),
            Sha256::of(&record_bytes),
            Meaning::Assessed,
            vec![],
        );
        let findings = sample_findings(&[AssessmentRef {
            change,
            impact: Impact::NoImpact,
            reference: Some("CC-1".into()),
            reason: "November reviewed".into(),
            printed_name: "Dana Whitfield".into(),
            iam_arn: ARN.into(),
            signed_at: UtcTimestamp::new(datetime!(2026-11-14 09:00:00 UTC)),
            envelope_sha256: Sha256::of(&envelope),
        }]);
        let mut files = BTreeMap::new();
        files.insert(
            assessment_record_path(1),
            (ReportRole::AssessmentRecord, record_bytes),
        );
        files.insert(
            assessment_signature_path(1),
            (ReportRole::AssessmentSignature, envelope),
        );
        let k = PublicKeyFile::new(
            key().verifying_key().as_bytes(),
            "Dana Whitfield",
            ARN,
            "2026-11-01T00:00:00.000Z",
            None,
        );
        files.insert(
            public_key_path(&k.key_id),
            (ReportRole::PublicKey, k.canonical_bytes().unwrap()),
        );
        Report {
            files,
            findings,
            meaning: Meaning::PeriodicallyReviewed,
        }
    }

    fn findings_bytes(&self) -> Vec<u8> {
        self.findings.canonical_bytes().unwrap()
    }

    /// Signs the findings as they are now, after the review signatures already there (the new
    /// one follows them all).
    fn signed(mut self) -> Self {
        let p = period();
        let earlier: Vec<Sha256> = self
            .files
            .values()
            .filter(|(role, _)| *role == ReportRole::Signature)
            .map(|(_, b)| Sha256::of(b))
            .collect();
        let n = earlier.len() + 1;
        let envelope = sign(
            periodic_review_subject_name("LIMS", &p.from.to_string(), &p.to.to_string()),
            Sha256::of(&self.findings_bytes()),
            self.meaning,
            earlier,
        );
        self.files
            .insert(review_signature_path(n), (ReportRole::Signature, envelope));
        self
    }

    fn manifest(&self, files: &BTreeMap<String, (ReportRole, Vec<u8>)>) -> ReviewReportManifest {
        let findings = &files[FINDINGS_FILE].1;
        ReviewReportManifest {
            schema: REVIEW_REPORT_SCHEMA_V1.into(),
            report_id: report_id("2026-11-14T10:00:00.000Z", &Sha256::of(findings)),
            title: "LIMS periodic review".into(),
            system: "LIMS".into(),
            period: period(),
            created_at: "2026-11-14T10:00:00.000Z".into(),
            utc_offset: "+01:00".into(),
            demo: false,
            findings_sha256: Sha256::of(findings),
            files: files
                .iter()
                .map(|(path, (role, bytes))| ReportFile {
                    path: path.clone(),
                    role: *role,
                    size: bytes.len() as u64,
                    sha256: Sha256::of(bytes),
                })
                .collect(),
        }
    }

    /// The report as read from its PDF.
    fn input(&self) -> PackageInput {
        let mut files = self.files.clone();
        files.insert(
            FINDINGS_FILE.into(),
            (ReportRole::StateFindings, self.findings_bytes()),
        );
        let manifest = self.manifest(&files);
        let bytes = manifest.canonical_bytes().unwrap();
        let sha = Sha256::of(&bytes).to_hex();
        PackageInput {
            manifest: Some(bytes),
            files: files.into_iter().map(|(p, (_, b))| (p, b)).collect(),
            rendered: Some(Rendered {
                package_id: None,
                manifest_sha256: Some(sha.clone()),
                trailer_id: Some(sha[..32].to_owned()),
                review_report_id: Some(manifest.report_id),
            }),
            approvals: Some(Ok(Default::default())),
        }
    }
}

fn verify(input: &PackageInput) -> PackageReport {
    verify_review_report(input, &VerifyOptions::default())
}

fn failed(report: &PackageReport, id: &str) -> Vec<String> {
    let c = report.checks.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        c.state,
        CheckState::Failed,
        "{id} did not fail: {report:#?}"
    );
    c.problems.clone()
}

#[test]
fn the_manifest_and_report_id_are_frozen() {
    let findings = Sha256::of(b"findings");
    let m = ReviewReportManifest {
        schema: REVIEW_REPORT_SCHEMA_V1.into(),
        report_id: report_id("2026-12-01T09:30:00.000Z", &findings),
        title: "LIMS periodic review".into(),
        system: "LIMS".into(),
        period: Period {
            from: UtcTimestamp::new(datetime!(2026-11-01 00:00 UTC)),
            to: UtcTimestamp::new(datetime!(2026-12-01 00:00 UTC)),
        },
        created_at: "2026-12-01T09:30:00.000Z".into(),
        utc_offset: "+01:00".into(),
        demo: false,
        findings_sha256: findings,
        files: vec![ReportFile {
            path: FINDINGS_FILE.into(),
            role: ReportRole::StateFindings,
            size: 8,
            sha256: findings,
        }],
    };
    assert_eq!(m.report_id, "PRR-20261201-b2e2d0b12e8e");
    let bytes = m.canonical_bytes().unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        r#"{"created_at":"2026-12-01T09:30:00.000Z","demo":false,"files":[{"path":"findings.json","role":"state-findings","sha256":"8aa3c4ce3ccdfe89f32935d164b3fb04ea01afa7a71f17c5be4f777cb7968cbc","size":8}],"findings_sha256":"8aa3c4ce3ccdfe89f32935d164b3fb04ea01afa7a71f17c5be4f777cb7968cbc","period":{"from":"2026-11-01T00:00:00.000Z","to":"2026-12-01T00:00:00.000Z"},"report_id":"PRR-20261201-b2e2d0b12e8e","schema":"countersign.review-report-manifest/v1","system":"LIMS","title":"LIMS periodic review","utc_offset":"+01:00"}"#
    );
    assert_eq!(
        Sha256::of(&bytes).to_hex(),
        "e2ee5aff9e0b53ae5062e4ecf20029ff3ce9b90796bb78f0a56b46f57d22d993",
        "the v1 encoding is frozen"
    );
    assert_eq!(ReviewReportManifest::parse(&bytes).unwrap(), m);
    let pretty = serde_json::to_vec_pretty(&m).unwrap();
    assert!(ReviewReportManifest::parse(&pretty).is_err());
}

#[test]
fn a_signed_report_verifies_and_says_what_it_does_not_prove() {
    let r = verify(&Report::new().signed().input());
    assert!(r.verified, "{r:#?}");
    assert_eq!(r.document, DocumentKind::PeriodicReviewReport);
    assert_eq!(
        r.limits(),
        vec![Limit::KeysNotChecked, Limit::PagesNotSigned]
    );
    assert_eq!(r.signatures.len(), 1);
    assert_eq!(r.signatures[0].outcome, "valid");
    assert_eq!(
        r.signatures[0].meaning.as_deref(),
        Some("PeriodicallyReviewed")
    );
    let trusted = VerifyOptions {
        trusted_keys: Some([KeyId::of(&key().verifying_key())].into()),
    };
    let r = verify_review_report(&Report::new().signed().input(), &trusted);
    assert!(r.verified, "{r:#?}");
    assert_eq!(r.limits(), vec![Limit::PagesNotSigned]);
}

#[test]
fn findings_edited_after_signing_fail_even_with_the_manifest_recomputed() {
    let mut report = Report::new().signed();
    report.findings.verdict.text = "In qualified state".into();
    let r = verify(&report.input());
    assert!(!r.verified);
    assert!(!failed(&r, "signatures").is_empty());
    assert_eq!(r.signatures[0].outcome, "record_changed", "{r:#?}");
    assert!(r.limits().is_empty());
}

#[test]
fn findings_edited_in_place_fail_their_digest() {
    let mut input = Report::new().signed().input();
    let f = input.files.get_mut(FINDINGS_FILE).unwrap();
    let i = f.len() / 2;
    f[i] ^= 1;
    let r = verify(&input);
    assert!(
        failed(&r, "files")[0].starts_with("findings.json: SHA-256"),
        "{r:#?}"
    );
}

#[test]
fn a_report_without_a_review_signature_or_with_another_meaning_fails() {
    let r = verify(&Report::new().input());
    assert!(failed(&r, "signatures")[0].contains("no periodic-review signature"));
    let mut other = Report::new();
    other.meaning = Meaning::Approved;
    let r = verify(&other.signed().input());
    assert!(
        failed(&r, "signatures")[0].contains("not PeriodicallyReviewed"),
        "{r:#?}"
    );
}

#[test]
fn an_assessment_the_findings_count_must_be_carried_and_equal() {
    let mut report = Report::new().signed();
    report.files.remove(&assessment_record_path(1));
    report.files.remove(&assessment_signature_path(1));
    let r = verify(&report.input());
    assert!(
        failed(&r, "assessments")[0].contains("does not carry"),
        "{r:#?}"
    );

    // Carried, but the findings say it was signed by someone else.
    let mut report = Report::new();
    report.findings.assessments[0].printed_name = "Someone Else".into();
    let r = verify(&report.signed().input());
    assert!(
        failed(&r, "assessments")[0].contains("not what the findings say"),
        "{r:#?}"
    );
}

#[test]
fn a_report_id_that_does_not_derive_from_its_findings_fails_the_manifest_check() {
    let mut input = Report::new().signed().input();
    let mut manifest = ReviewReportManifest::parse(input.manifest.as_ref().unwrap()).unwrap();
    manifest.report_id = "PRR-20261114-000000000000".into();
    let bytes = manifest.canonical_bytes().unwrap();
    let sha = Sha256::of(&bytes).to_hex();
    input.manifest = Some(bytes);
    input.rendered = Some(Rendered {
        package_id: None,
        manifest_sha256: Some(sha.clone()),
        trailer_id: Some(sha[..32].to_owned()),
        review_report_id: Some(manifest.report_id),
    });
    let problems = failed(&verify(&input), "manifest");
    assert!(
        problems[0].contains("does not derive from created_at and findings_sha256"),
        "{problems:?}"
    );
}

#[test]
fn the_pdf_must_name_this_report_and_manifest() {
    let mut input = Report::new().signed().input();
    if let Some(r) = input.rendered.as_mut() {
        r.review_report_id = Some("PRR-20261114-000000000000".into());
        r.trailer_id = Some("00".repeat(16));
    }
    let problems = failed(&verify(&input), "rendered");
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn a_package_manifest_or_a_misplaced_file_is_not_a_report_manifest() {
    let mut input = Report::new().signed().input();
    input.manifest = Some(br#"{"schema":"countersign.package-manifest/v1"}"#.to_vec());
    assert!(failed(&verify(&input), "manifest")[0].contains("schema"));

    let mut report = Report::new().signed();
    let sig = report.files.remove(&review_signature_path(1)).unwrap();
    report
        .files
        .insert("signatures/../001.dsse.json".into(), sig.clone());
    let r = verify(&report.input());
    assert!(!failed(&r, "manifest").is_empty());
    let mut report = Report::new().signed();
    report.files.remove(&review_signature_path(1));
    report
        .files
        .insert("keys/001.dsse.json".into(), (ReportRole::Signature, sig.1));
    let r = verify(&report.input());
    assert!(
        failed(&r, "manifest")[0].contains("not where a signature file"),
        "{r:#?}"
    );
}

#[test]
fn a_second_review_follows_the_first_and_a_removed_one_breaks_the_order() {
    let two = Report::new().signed().signed();
    let r = verify(&two.input());
    assert!(r.verified, "{r:#?}");
    assert_eq!(r.signatures.len(), 2);
    // The first review removed and the second renumbered: the second still names the first.
    let mut one = two;
    let second = one.files.remove(&review_signature_path(2)).unwrap();
    one.files.insert(review_signature_path(1), second);
    let problems = failed(&verify(&one.input()), "order");
    assert!(problems[0].contains("follows 1 earlier"), "{problems:?}");
}
