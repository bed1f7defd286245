//! Package verification, each failure produced by the defect that should produce it.

use std::collections::{BTreeMap, BTreeSet};

use time::macros::{datetime, offset};

use super::manifest::{FileRole, ManifestFile, ManifestRun, PackageManifest, MANIFEST_SCHEMA_V1};
use super::public_key::PublicKeyFile;
use super::run_data::{RunData, RUN_DATA_SCHEMA_V1};
use super::test_people::{dana, sam, Person, POLICY};
use super::verify::{
    public_key_path, signature_path, verify_package, CheckState, Form, Limit, PackageInput,
    PackageReport, Rendered, VerifyOptions,
};
use crate::digest::Sha256;
use crate::model::{CaseStatus, TestCase, Totals};
use crate::run_record::{RecordDisposition, RecordFile, RecordRunData, RunRecord};
use crate::signature::dsse::sign_statement;
use crate::signature::key_id::KeyId;
use crate::signature::policy::Policy;
use crate::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use crate::signature::statement::{Statement, Subject};
use crate::signature::SigningKey;
use crate::trace::Traceability;

const RUN: &str = "LIMS/OQ/r1";

fn case(id: &str, status: CaseStatus) -> TestCase {
    TestCase {
        id: id.into(),
        name: id.into(),
        group: "g".into(),
        status,
        duration_ms: None,
        message: None,
        detail: None,
        stdout: None,
        stderr: None,
        requirements: vec![],
        properties: vec![],
        source_file: "reports/junit.xml".into(),
    }
}

/// A package being assembled in memory, with helpers to sign and to finish it.
struct Builder {
    files: BTreeMap<String, (FileRole, Vec<u8>)>,
    record: RunRecord,
    data: RunData,
    signatures: Vec<Vec<u8>>,
    /// A package id other than the one §4 derives (a forgery).
    package_id: Option<String>,
    /// Run data and key files re-spelled (pretty-printed), listed with their new digests.
    respelled: bool,
}

impl Builder {
    fn new() -> Self {
        let evidence = b"<testsuite/>".to_vec();
        let record = RunRecord::new(
            &super::verify::run_key(RUN).unwrap(),
            vec![RecordFile {
                path: "reports/junit.xml".into(),
                sha256: Sha256::of(&evidence),
                uri: "s3://b/LIMS/OQ/r1/reports/junit.xml".into(),
                version_id: None,
            }],
            vec![RecordDisposition {
                case_id: "c-fail".into(),
                kind: "deviation".into(),
                reference: "DEV-1".into(),
                reason: "tracked".into(),
                by_arn: None,
                at: "2026-11-04T10:00:00.000Z".into(),
            }],
        );
        let cases = vec![
            case("c-fail", CaseStatus::Failed),
            case("c-ok", CaseStatus::Passed),
        ];
        let data = RunData {
            schema: RUN_DATA_SCHEMA_V1.into(),
            run: RUN.into(),
            status: "failed".into(),
            totals: Totals::of(&cases),
            executed_at: None,
            executor_name: None,
            executor_arn: Some("arn:aws:iam::123456789012:role/ci".into()),
            protocol: None,
            cases,
            traceability: Traceability::default(),
            dispositions: record.dispositions.clone(),
            problems: vec![],
        };
        let mut files = BTreeMap::new();
        files.insert(
            format!("runs/{RUN}/files/reports/junit.xml"),
            (FileRole::Evidence, evidence),
        );
        files.insert(
            "policy.json".into(),
            (FileRole::Policy, POLICY.as_bytes().to_vec()),
        );
        for p in [dana(), sam()] {
            let f = PublicKeyFile::new(
                p.key.verifying_key().as_bytes(),
                p.name,
                p.arn,
                "2026-11-01T00:00:00.000Z",
                None,
            );
            files.insert(
                public_key_path(&f.key_id),
                (FileRole::PublicKey, f.canonical_bytes().unwrap()),
            );
        }
        Self {
            files,
            record,
            data,
            signatures: vec![],
            package_id: None,
            respelled: false,
        }
    }

    /// The record in version 2: binding the run data as it stands now.
    fn binding_run_data(mut self) -> Self {
        self.record = RunRecord::new_v2(
            &super::verify::run_key(RUN).unwrap(),
            self.record.files.clone(),
            self.record.dispositions.clone(),
            RecordRunData::of(&self.data).unwrap(),
        );
        self
    }

    fn sign(&mut self, who: &Person, meaning: Meaning) {
        let follows = self.signatures.iter().map(|e| Sha256::of(e)).collect();
        let predicate = Predicate {
            meaning,
            reason: "reviewed".into(),
            printed_name: who.name.into(),
            iam_arn: who.arn.into(),
            key_id: KeyId::of(&who.key.verifying_key()),
            signed_at: UtcTimestamp::new(datetime!(2026-11-05 09:00:00 UTC)),
            utc_offset: Offset::new(offset!(+1)),
            sts: StsEvidence {
                mfa_serial: "arn:aws:iam::123456789012:mfa/x".into(),
                session_expires_at: UtcTimestamp::new(datetime!(2026-11-05 21:00:00 UTC)),
                server_time: None,
            },
            policy: PolicyRef {
                version: 1,
                sha256: Sha256::of(POLICY.as_bytes()),
            },
            follows,
        };
        let statement = Statement::new(
            Subject::new(format!("run:{RUN}"), self.record.digest().unwrap()),
            predicate,
        );
        let env = sign_statement(&statement, &who.key)
            .unwrap()
            .to_canonical_json();
        self.signatures.push(env);
    }

    /// The package as read from a bundle, and as read from its PDF.
    fn finish(&self) -> (PackageInput, PackageInput) {
        let mut files = self.files.clone();
        let record = self.record.canonical_bytes().unwrap();
        files.insert(
            format!("runs/{RUN}/record.json"),
            (FileRole::RunRecord, record.clone()),
        );
        files.insert(
            format!("runs/{RUN}/results.json"),
            (FileRole::RunData, self.data.canonical_bytes().unwrap()),
        );
        if self.respelled {
            for (_, (role, bytes)) in files.iter_mut() {
                if matches!(role, FileRole::RunData | FileRole::PublicKey) {
                    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                    *bytes = serde_json::to_vec_pretty(&value).unwrap();
                }
            }
        }
        for (i, env) in self.signatures.iter().enumerate() {
            files.insert(
                signature_path(RUN, i + 1),
                (FileRole::Signature, env.clone()),
            );
        }
        let id = self.package_id.clone().unwrap_or_else(|| {
            crate::package::manifest::package_id("2026-11-05T10:00:00.000Z", &[Sha256::of(&record)])
        });
        let manifest = PackageManifest {
            schema: MANIFEST_SCHEMA_V1.into(),
            package_id: id.clone(),
            title: "t".into(),
            systems: vec!["LIMS".into()],
            phases: vec!["OQ".into()],
            stacks: vec![],
            created_at: "2026-11-05T10:00:00.000Z".into(),
            utc_offset: "+01:00".into(),
            demo: false,
            runs: vec![ManifestRun {
                run: RUN.into(),
                record: format!("runs/{RUN}/record.json"),
                record_sha256: Sha256::of(&record),
                data: format!("runs/{RUN}/results.json"),
                status: self.data.status.clone(),
                totals: self.data.totals,
            }],
            files: files
                .iter()
                .map(|(path, (role, bytes))| ManifestFile {
                    path: path.clone(),
                    role: *role,
                    size: bytes.len() as u64,
                    sha256: Sha256::of(bytes),
                })
                .collect(),
        };
        let manifest = manifest.canonical_bytes().unwrap();
        let sha = Sha256::of(&manifest).to_hex();
        let bundle = PackageInput {
            manifest: Some(manifest.clone()),
            files: files
                .iter()
                .map(|(p, (_, b))| (p.clone(), b.clone()))
                .collect(),
            rendered: None,
            approvals: None,
        };
        let pdf = PackageInput {
            manifest: Some(manifest),
            files: files
                .iter()
                .filter(|(_, (role, _))| role.embedded_in_pdf())
                .map(|(p, (_, b))| (p.clone(), b.clone()))
                .collect(),
            rendered: Some(Rendered {
                package_id: Some(id),
                trailer_id: Some(sha[..32].to_owned()),
                manifest_sha256: Some(sha),
                review_report_id: None,
            }),
            approvals: Some(Ok(Default::default())),
        };
        (bundle, pdf)
    }
}

fn signed() -> Builder {
    let mut b = Builder::new();
    b.sign(&dana(), Meaning::Reviewed);
    b.sign(&sam(), Meaning::Approved);
    b
}

fn verify(form: Form, input: &PackageInput) -> PackageReport {
    verify_package(form, input, &VerifyOptions::default())
}

fn failed(report: &PackageReport, id: &str) -> Vec<String> {
    let c = report.checks.iter().find(|c| c.id == id).unwrap();
    assert_eq!(c.state, CheckState::Failed, "{id} should fail: {report:#?}");
    assert!(!report.verified);
    c.problems.clone()
}

#[test]
fn a_signed_package_verifies_as_bundle_and_as_pdf() {
    let (bundle, pdf) = signed().finish();
    let r = verify(Form::Bundle, &bundle);
    assert!(r.verified, "{r:#?}");
    assert_eq!(r.signatures.len(), 2);
    assert!(r.signatures.iter().all(|s| s.outcome == "valid"));
    assert_eq!(r.signatures[1].printed_name.as_deref(), Some("Sam Okafor"));
    let r = verify(Form::Pdf, &pdf);
    assert!(r.verified, "{r:#?}");
    let files = r.checks.iter().find(|c| c.id == "files").unwrap();
    assert!(files
        .detail
        .contains("1 evidence files are listed but travel in the bundle"));
    assert_eq!(
        r.checks.iter().find(|c| c.id == "rendered").unwrap().state,
        CheckState::Passed
    );
}

#[test]
fn a_package_id_that_does_not_derive_from_its_records_fails_the_manifest_check() {
    let mut b = signed();
    b.package_id = Some("PKG-20261105-000000000001".into());
    let (bundle, pdf) = b.finish();
    for (form, input) in [(Form::Bundle, &bundle), (Form::Pdf, &pdf)] {
        let problems = failed(&verify(form, input), "manifest");
        assert!(
            problems[0].contains("does not derive from created_at and the run records"),
            "{problems:?}"
        );
    }
}

#[test]
fn run_data_and_key_files_must_be_canonical_even_when_the_manifest_lists_them() {
    let mut b = signed();
    b.respelled = true;
    let (bundle, _) = b.finish();
    let r = verify(Form::Bundle, &bundle);
    assert!(
        failed(&r, "records")
            .iter()
            .any(|p| p.contains("results.json: not in canonical form")),
        "{r:#?}"
    );
    assert!(
        failed(&r, "keys")
            .iter()
            .all(|p| p.contains("not in canonical form")),
        "{r:#?}"
    );
    // Only the spelling differs: every digest agrees with the manifest.
    assert_eq!(
        r.checks.iter().find(|c| c.id == "files").unwrap().state,
        CheckState::Passed
    );
}

#[test]
fn a_flipped_byte_in_any_file_names_that_file() {
    let (bundle, _) = signed().finish();
    for path in bundle.files.keys() {
        let mut t = bundle.clone();
        let bytes = t.files.get_mut(path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        let r = verify(Form::Bundle, &t);
        let problems = failed(&r, "files");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(path.as_str()) && p.contains("SHA-256")),
            "{path}: {problems:?}"
        );
    }
}

#[test]
fn a_changed_byte_in_the_manifest_is_caught() {
    // A digest changed: the file no longer matches it.
    let (mut bundle, mut pdf) = signed().finish();
    let m = bundle.manifest.as_mut().unwrap();
    let at = m.windows(10).position(|w| w == b"\"sha256\":\"").unwrap() + 10;
    m[at] = if m[at] == b'0' { b'1' } else { b'0' };
    assert!(
        failed(&verify(Form::Bundle, &bundle), "files")[0].contains("does not match the manifest")
    );
    // A field no file digest covers (the builder's UTC offset): the PDF was rendered from
    // another manifest.
    let text = String::from_utf8(pdf.manifest.take().unwrap()).unwrap();
    pdf.manifest = Some(text.replace("\"+01:00\"}", "\"+01:01\"}").into_bytes());
    assert!(failed(&verify(Form::Pdf, &pdf), "rendered")[0].contains("rendered from manifest"));
    // Not JSON any more.
    let (mut bundle, _) = signed().finish();
    bundle.manifest.as_mut().unwrap()[0] = b'[';
    let r = verify(Form::Bundle, &bundle);
    assert!(!r.verified);
    assert_eq!(
        (r.checks[0].id, r.checks[0].state),
        ("manifest", CheckState::Failed)
    );
}

#[test]
fn a_removed_signature_file_is_missing() {
    let (mut bundle, _) = signed().finish();
    bundle.files.remove(&signature_path(RUN, 2));
    let problems = failed(&verify(Form::Bundle, &bundle), "files");
    assert!(
        problems[0].contains("listed in the manifest (signature) but missing"),
        "{problems:?}"
    );
}

#[test]
fn a_signature_removed_from_the_manifest_too_breaks_the_order() {
    // The first signature dropped and the second renumbered: the manifest is consistent, but
    // the remaining signature follows one that is not there.
    let mut b = signed();
    b.signatures.remove(0);
    let (bundle, _) = b.finish();
    let r = verify(Form::Bundle, &bundle);
    let problems = failed(&r, "order");
    assert!(
        problems[0].contains("a signature was removed"),
        "{problems:?}"
    );
}

#[test]
fn a_swapped_public_key_is_refused() {
    let (mut bundle, _) = signed().finish();
    let path = public_key_path(&KeyId::of(&dana().key.verifying_key()).to_hex());
    let mut f = PublicKeyFile::new(
        SigningKey::from_bytes(&[9; 32]).verifying_key().as_bytes(),
        "Dana Whitfield",
        "arn:aws:iam::123456789012:user/dana",
        "2026-11-01T00:00:00.000Z",
        None,
    );
    // Keep the file name's key id: the key no longer matches it.
    f.key_id = KeyId::of(&dana().key.verifying_key()).to_hex();
    bundle
        .files
        .insert(path.clone(), f.canonical_bytes().unwrap());
    let r = verify(Form::Bundle, &bundle);
    assert!(failed(&r, "keys")[0].contains("is not the id of the public key"));
    assert!(failed(&r, "signatures")[0].contains("unknown_key"));
}

#[test]
fn keys_off_the_trusted_list_are_named() {
    let (bundle, _) = signed().finish();
    let trusted: BTreeSet<KeyId> = [KeyId::of(&dana().key.verifying_key())].into();
    let r = verify_package(
        Form::Bundle,
        &bundle,
        &VerifyOptions {
            trusted_keys: Some(trusted),
        },
    );
    let problems = failed(&r, "trust");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains(&KeyId::of(&sam().key.verifying_key()).to_hex()));
}

#[test]
fn self_approval_is_caught_on_replay() {
    let mut b = Builder::new();
    b.sign(&dana(), Meaning::Reviewed);
    b.sign(&dana(), Meaning::Approved);
    let (bundle, _) = b.finish();
    let problems = failed(&verify(Form::Bundle, &bundle), "policy");
    assert!(problems[0].contains("no-self-approval"), "{problems:?}");
}

#[test]
fn approval_without_dispositions_is_caught_on_replay() {
    let mut b = Builder::new();
    b.record = RunRecord::new(
        &super::verify::run_key(RUN).unwrap(),
        b.record.files.clone(),
        vec![],
    );
    b.sign(&dana(), Meaning::Reviewed);
    b.sign(&sam(), Meaning::Approved);
    let (bundle, _) = b.finish();
    let problems = failed(&verify(Form::Bundle, &bundle), "policy");
    assert!(problems[0].contains("disposition"), "{problems:?}");
}

#[test]
fn evidence_that_differs_from_the_signed_record_is_caught() {
    let mut b = signed();
    b.files.insert(
        format!("runs/{RUN}/files/reports/junit.xml"),
        (FileRole::Evidence, b"<testsuite failures=\"0\"/>".to_vec()),
    );
    let (bundle, _) = b.finish();
    let problems = failed(&verify(Form::Bundle, &bundle), "records");
    assert!(
        problems[0].contains("the run record says SHA-256"),
        "{problems:?}"
    );
}

#[test]
fn an_unlisted_file_is_named() {
    let (mut bundle, _) = signed().finish();
    bundle.files.insert("extra.txt".into(), b"x".to_vec());
    let problems = failed(&verify(Form::Bundle, &bundle), "files");
    assert!(problems[0].starts_with("extra.txt: in the package but not listed"));
}

#[test]
fn a_pdf_rendered_from_another_manifest_is_caught() {
    let (_, mut pdf) = signed().finish();
    pdf.rendered.as_mut().unwrap().manifest_sha256 = Some("00".repeat(32));
    let problems = failed(&verify(Form::Pdf, &pdf), "rendered");
    assert!(problems[0].contains("rendered from manifest 0000"));
}

#[test]
fn a_pdf_without_a_manifest_is_not_a_package() {
    let r = verify(Form::Pdf, &PackageInput::default());
    assert!(!r.verified);
    assert!(r.first_problem().unwrap().contains("no manifest.json"));
}

#[test]
fn the_policy_of_the_package_parses() {
    Policy::parse(POLICY.as_bytes()).unwrap();
}

#[test]
fn a_verified_package_states_what_it_does_not_prove() {
    let (bundle, _) = signed().finish();
    // No trusted list: who signed is not established, and the document itself is unsigned.
    let r = verify(Form::Bundle, &bundle);
    assert!(r.verified);
    assert_eq!(
        r.limits(),
        [
            Limit::KeysNotChecked,
            Limit::PackageNotApproved,
            Limit::DocumentNotSigned
        ]
    );
    // Every key trusted: the unsigned, unapproved document remains.
    let all: BTreeSet<KeyId> = [dana(), sam()]
        .iter()
        .map(|p| KeyId::of(&p.key.verifying_key()))
        .collect();
    let r = verify_package(
        Form::Bundle,
        &bundle,
        &VerifyOptions {
            trusted_keys: Some(all),
        },
    );
    assert!(r.verified, "{r:#?}");
    assert_eq!(
        r.limits(),
        [Limit::PackageNotApproved, Limit::DocumentNotSigned]
    );
    // A package that does not verify proves nothing, so it has no limits to state.
    let mut broken = bundle.clone();
    let path = broken.files.keys().next().unwrap().clone();
    broken.files.get_mut(&path).unwrap().push(b'x');
    let r = verify(Form::Bundle, &broken);
    assert!(!r.verified);
    assert!(r.limits().is_empty());
}

fn signed_v2() -> Builder {
    let mut b = Builder::new().binding_run_data();
    b.sign(&dana(), Meaning::Reviewed);
    b.sign(&sam(), Meaning::Approved);
    b
}

/// The failure a reviewer was shown, hidden after signing: the case passes, its message gone.
fn hide_the_failure(b: &mut Builder) {
    let case = b.data.cases.iter_mut().find(|c| c.id == "c-fail").unwrap();
    case.status = CaseStatus::Passed;
    case.message = None;
    b.data.totals = Totals::of(&b.data.cases);
    b.data.status = "passed".into();
}

#[test]
fn a_v2_record_binds_the_run_data_and_the_verdict_says_so() {
    let (bundle, pdf) = signed_v2().finish();
    for (form, input) in [(Form::Bundle, &bundle), (Form::Pdf, &pdf)] {
        let r = verify(form, input);
        assert!(r.verified, "{r:#?}");
        assert!(r.run_data_signed);
        assert_eq!(
            r.limits(),
            [
                Limit::KeysNotChecked,
                Limit::PackageNotApproved,
                Limit::ValidationPagesNotSigned
            ]
        );
    }
}

#[test]
fn run_data_forged_after_signing_fails_the_records_check_when_the_record_binds_it() {
    // The manifest lists the forged results with their new digest, size, status and totals:
    // only the signed record still names what the reviewer saw.
    let mut b = signed_v2();
    hide_the_failure(&mut b);
    let (bundle, pdf) = b.finish();
    for (form, input) in [(Form::Bundle, &bundle), (Form::Pdf, &pdf)] {
        let problems = failed(&verify(form, input), "records");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("the results were changed after they were signed")),
            "{problems:?}"
        );
    }
    // A v1 record does not bind them: the same forgery verifies, and the verdict says the
    // results tables carry no signature.
    let mut b = signed();
    hide_the_failure(&mut b);
    let (bundle, _) = b.finish();
    let r = verify(Form::Bundle, &bundle);
    assert!(r.verified, "{r:#?}");
    assert!(!r.run_data_signed);
    assert!(r.limits().contains(&Limit::DocumentNotSigned));
}

#[test]
fn a_v2_record_whose_run_data_is_missing_fails() {
    let (mut bundle, _) = signed_v2().finish();
    bundle.files.remove(&format!("runs/{RUN}/results.json"));
    let problems = failed(&verify(Form::Bundle, &bundle), "records");
    assert!(
        problems.iter().any(|p| p.contains("binds is missing")),
        "{problems:?}"
    );
}

/// The verdict states each run's state as its verified signatures establish it, whatever the
/// pages print; a package that does not verify establishes nothing.
#[test]
fn the_verdict_states_what_the_signatures_establish_run_by_run() {
    let state = |b: &Builder| {
        let r = verify(Form::Bundle, &b.finish().0);
        r.runs
            .iter()
            .map(|p| (p.run.clone(), p.state, p.status.clone()))
            .collect::<Vec<_>>()
    };
    use crate::lifecycle::RunState;
    assert_eq!(
        state(&signed_v2()),
        [(RUN.to_owned(), RunState::Approved, "failed".to_owned())]
    );
    let mut reviewed_only = Builder::new().binding_run_data();
    reviewed_only.sign(&dana(), Meaning::Reviewed);
    assert_eq!(state(&reviewed_only)[0].1, RunState::Reviewed);
    assert_eq!(state(&Builder::new())[0].1, RunState::InReview);
    let mut forged = signed_v2();
    hide_the_failure(&mut forged);
    assert!(state(&forged).is_empty());
}

#[test]
fn a_file_is_held_against_the_build_record_of_its_home() {
    use super::verify::{built_here_check, BuiltHere};
    let built = BuiltHere {
        manifest_sha256: Sha256::of(b"manifest"),
        pdf_sha256: Sha256::of(b"pdf"),
        created_at: "2026-11-05T10:00:00.000Z".into(),
        event_seq: 42,
    };
    let m = Some(Sha256::of(b"manifest"));
    let same = built_here_check(Some(&built), Some(Sha256::of(b"pdf")), m);
    assert_eq!(same.state, CheckState::Passed, "{same:?}");
    let bundle = built_here_check(Some(&built), None, m);
    assert_eq!(bundle.state, CheckState::Passed);
    assert!(bundle.detail.contains("manifest compared"));
    let edited = built_here_check(Some(&built), Some(Sha256::of(b"edited")), m);
    assert_eq!(edited.state, CheckState::Failed);
    assert!(edited.problems[0].contains("changed after it was built"));
    assert!(edited.problems[0].contains("ledger entry 42"));
    let other = built_here_check(Some(&built), None, Some(Sha256::of(b"other")));
    assert_eq!(other.state, CheckState::Failed);
    let elsewhere = built_here_check(None, Some(Sha256::of(b"pdf")), m);
    assert_eq!(elsewhere.state, CheckState::Skipped);
    assert!(elsewhere.detail.contains("not built in this home"));
}

#[test]
fn a_v2_record_binding_run_data_of_an_unknown_schema_fails() {
    let mut b = Builder::new().binding_run_data();
    if let Some(d) = b.record.run_data.as_mut() {
        d.schema = "countersign.run-data/v9".into();
    }
    b.sign(&dana(), Meaning::Reviewed);
    let (bundle, _) = b.finish();
    let problems = failed(&verify(Form::Bundle, &bundle), "records");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("countersign.run-data/v9") && p.contains("does not read")),
        "{problems:?}"
    );
}
