//! The golden example packages of format version 1: `tests/golden/package-v1/` with a version 1
//! run record, and `tests/golden/package-v1-record-v2/` with a version 2 run record (binding the
//! run data). Each is a PDF and its bundle, built from fixed keys, times and bytes. Every later
//! verifier must still accept them, and the same inputs must still give the same manifest bytes.
//!
//! Written once, when their version was introduced (a new version goes into a new folder):
//! `cargo test -p countersign-tests --test golden_package -- --ignored write_golden_record_v2_example`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use countersign_core::digest::Sha256;
use countersign_core::model::{CaseStatus, RunKey, TestCase, Totals};
use countersign_core::package::manifest::{
    package_id, FileRole, ManifestFile, ManifestRun, PackageManifest, MANIFEST_SCHEMA_V1,
};
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::run_data::{RunData, RUN_DATA_SCHEMA_V1};
use countersign_core::package::verify::{public_key_path, signature_path};
use countersign_core::run_record::{RecordDisposition, RecordFile, RecordRunData, RunRecord};
use countersign_core::signature::dsse::sign_statement;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use countersign_core::signature::SigningKey;
use countersign_core::trace::Traceability;
use countersign_pdf::{Attachment, PackageDocument, Relationship, Section, SignatureManifestation};
use countersign_service::{verify_package_file, TrustedKeys};
use countersign_tests::emulator::project_root;
use time::macros::{datetime, offset};

const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const POLICY: &str = r#"{"format":"countersign.policy/v1","version":1,"separation_of_duties":{"no_self_approval":true},"grants":[{"arn":"arn:aws:iam::123456789012:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}]}"#;
const CREATED_AT: &str = "2026-11-05T09:30:00.000Z";

/// Which golden example: the run record's version.
#[derive(Clone, Copy, Debug)]
enum Golden {
    /// `countersign.run-record/v1`, written with the first version of the format.
    RecordV1,
    /// `countersign.run-record/v2`, binding the run data.
    RecordV2,
}

fn golden_dir() -> PathBuf {
    golden_dir_of(Golden::RecordV1)
}

fn golden_dir_of(which: Golden) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(match which {
        Golden::RecordV1 => "golden/package-v1",
        Golden::RecordV2 => "golden/package-v1-record-v2",
    })
}

/// The PDF's file name in the golden folder and its bundle.
fn pdf_name(which: Golden, package_id: &str) -> String {
    match which {
        Golden::RecordV1 => "example.pdf".into(),
        Golden::RecordV2 => format!("{package_id}.pdf"),
    }
}

struct Signer {
    key: SigningKey,
    name: &'static str,
    arn: &'static str,
}

fn signers() -> [Signer; 2] {
    [
        Signer {
            key: SigningKey::from_bytes(&[0x11; 32]),
            name: "Dana Whitfield",
            arn: "arn:aws:iam::123456789012:user/dana",
        },
        Signer {
            key: SigningKey::from_bytes(&[0x22; 32]),
            name: "Sam Okafor",
            arn: "arn:aws:iam::123456789012:user/sam",
        },
    ]
}

fn case(id: &str, status: CaseStatus, message: Option<&str>) -> TestCase {
    TestCase {
        id: id.into(),
        name: id.rsplit("::").next().unwrap_or(id).into(),
        group: "lims.oq".into(),
        status,
        duration_ms: Some(120),
        message: message.map(str::to_owned),
        detail: None,
        stdout: None,
        stderr: None,
        requirements: vec!["URS-LIMS-020".into()],
        properties: vec![],
        source_file: "reports/junit-oq.xml".into(),
    }
}

/// Every file of a package by path, with its role.
type Files = BTreeMap<String, (FileRole, Vec<u8>)>;

/// The example package: manifest bytes, every file by path with its role, and the PDF.
fn build_example() -> (Vec<u8>, Files, Vec<u8>) {
    build_example_of(Golden::RecordV1)
}

fn build_example_of(which: Golden) -> (Vec<u8>, Files, Vec<u8>) {
    let key = RunKey {
        system: "LIMS".into(),
        phase: "OQ".parse().unwrap(),
        run_id: "2026-11-03-oq-1".into(),
    };
    let junit = br#"<testsuite name="oq" tests="2" failures="1"><testcase classname="lims.oq" name="URS-LIMS-020 login requires MFA"><failure message="MFA prompt missing">expected prompt</failure></testcase><testcase classname="lims.oq" name="URS-LIMS-021 audit trail on"/></testsuite>"#.to_vec();
    let record_files = vec![RecordFile {
        path: "reports/junit-oq.xml".into(),
        sha256: Sha256::of(&junit),
        uri: "s3://qualification-evidence/LIMS/OQ/2026-11-03-oq-1/reports/junit-oq.xml".into(),
        version_id: Some("v1".into()),
    }];
    let record = RunRecord::new(
        &key,
        record_files.clone(),
        vec![RecordDisposition {
            case_id: "reports/junit-oq.xml#oq::URS-LIMS-020 login requires MFA".into(),
            kind: "deviation".into(),
            reference: "DEV-0042".into(),
            reason: "Prompt shown after redirect; accepted with CAPA-7 — Grüße ✓".into(),
            by_arn: Some("arn:aws:iam::123456789012:user/dana".into()),
            at: "2026-11-04T10:00:00.000Z".into(),
        }],
    );
    let cases = vec![
        case(
            "reports/junit-oq.xml#oq::URS-LIMS-020 login requires MFA",
            CaseStatus::Failed,
            Some("MFA prompt missing"),
        ),
        case(
            "reports/junit-oq.xml#oq::URS-LIMS-021 audit trail on",
            CaseStatus::Passed,
            None,
        ),
    ];
    let data = RunData {
        schema: RUN_DATA_SCHEMA_V1.into(),
        run: RUN.into(),
        status: "failed".into(),
        totals: Totals::of(&cases),
        executed_at: Some("2026-11-03T12:00:00Z".into()),
        executor_name: Some("CI pipeline".into()),
        executor_arn: Some("arn:aws:iam::123456789012:role/ci".into()),
        protocol: Some("OQ-LIMS-001".into()),
        cases,
        traceability: Traceability::default(),
        dispositions: record.dispositions.clone(),
        problems: vec![],
    };
    let record = match which {
        Golden::RecordV1 => record,
        Golden::RecordV2 => RunRecord::new_v2(
            &key,
            record_files,
            record.dispositions,
            RecordRunData::of(&data).unwrap(),
        ),
    };
    let record_bytes = record.canonical_bytes().unwrap();
    let mut files: Files = BTreeMap::new();
    files.insert(
        format!("runs/{RUN}/files/reports/junit-oq.xml"),
        (FileRole::Evidence, junit),
    );
    files.insert(
        format!("runs/{RUN}/record.json"),
        (FileRole::RunRecord, record_bytes.clone()),
    );
    files.insert(
        format!("runs/{RUN}/results.json"),
        (
            FileRole::RunData,
            countersign_core::canonical::canonical_json(&data).unwrap(),
        ),
    );
    files.insert(
        "policy.json".into(),
        (FileRole::Policy, POLICY.as_bytes().to_vec()),
    );

    let mut envelopes: Vec<Vec<u8>> = Vec::new();
    let mut manifestations = Vec::new();
    for (signer, (meaning, at)) in signers().iter().zip([
        (Meaning::Reviewed, datetime!(2026-11-04 11:00:00 UTC)),
        (Meaning::Approved, datetime!(2026-11-05 08:00:00 UTC)),
    ]) {
        let pk = PublicKeyFile::new(
            signer.key.verifying_key().as_bytes(),
            signer.name,
            signer.arn,
            "2026-11-01T08:00:00.000Z",
            None,
        );
        files.insert(
            public_key_path(&pk.key_id),
            (FileRole::PublicKey, pk.canonical_bytes().unwrap()),
        );
        let predicate = Predicate {
            meaning,
            reason: format!("{meaning}: every result and the deviation read"),
            printed_name: signer.name.into(),
            iam_arn: signer.arn.into(),
            key_id: KeyId::of(&signer.key.verifying_key()),
            signed_at: UtcTimestamp::new(at),
            utc_offset: Offset::new(offset!(+1)),
            sts: StsEvidence {
                mfa_serial: format!("{}-mfa", signer.arn),
                session_expires_at: UtcTimestamp::new(at + time::Duration::hours(12)),
                server_time: Some(UtcTimestamp::new(at)),
            },
            policy: PolicyRef {
                version: 1,
                sha256: Sha256::of(POLICY.as_bytes()),
            },
            follows: envelopes.iter().map(|e| Sha256::of(e)).collect(),
        };
        let statement = Statement::new(
            Subject::new(format!("run:{RUN}"), Sha256::of(&record_bytes)),
            predicate,
        );
        let env = sign_statement(&statement, &signer.key)
            .unwrap()
            .to_canonical_json();
        manifestations.push(SignatureManifestation {
            printed_name: signer.name.into(),
            signed_at: at
                .to_offset(offset!(+1))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            meaning: meaning.to_string(),
            reason: statement.predicate.reason.clone(),
            key_id: pk.key_id.clone(),
            verification: "Verified".into(),
        });
        envelopes.push(env);
    }
    for (i, env) in envelopes.iter().enumerate() {
        files.insert(
            signature_path(RUN, i + 1),
            (FileRole::Signature, env.clone()),
        );
    }

    let manifest = PackageManifest {
        schema: MANIFEST_SCHEMA_V1.into(),
        package_id: package_id(CREATED_AT, &[Sha256::of(&record_bytes)]),
        title: "LIMS OQ validation package — example".into(),
        systems: vec!["LIMS".into()],
        phases: vec!["OQ".into()],
        stacks: vec![],
        created_at: CREATED_AT.into(),
        utc_offset: "+01:00".into(),
        demo: false,
        runs: vec![ManifestRun {
            run: RUN.into(),
            record: format!("runs/{RUN}/record.json"),
            record_sha256: Sha256::of(&record_bytes),
            data: format!("runs/{RUN}/results.json"),
            status: data.status.clone(),
            totals: data.totals,
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
    let manifest_bytes = manifest.canonical_bytes().unwrap();
    let doc = PackageDocument {
        kind: countersign_pdf::DocumentKind::ValidationPackage,
        package_id: manifest.package_id.clone(),
        title: manifest.title.clone(),
        system: "LIMS".into(),
        stack: "none recorded".into(),
        phases: "OQ".into(),
        status: "Approved".into(),
        manifest_sha256: Sha256::of(&manifest_bytes).to_hex(),
        demo: false,
        marking: None,
        generated_at: "2026-11-05T10:30:00+01:00".into(),
        sections: vec![
            Section::Cover,
            Section::Contents,
            Section::Signatures {
                title: format!("Signatures — {RUN}"),
                manifestations,
            },
            Section::Paragraphs {
                title: "How to verify this package".into(),
                text: format!(
                    "countersign verify {}; the format is docs/package-format.md.",
                    pdf_name(which, &manifest.package_id)
                ),
            },
        ],
    };
    let mut attachments = vec![Attachment {
        name: "manifest.json".into(),
        mime: "application/json".into(),
        bytes: manifest_bytes.clone(),
        relationship: Relationship::Data,
        description: "Package manifest".into(),
    }];
    for (path, (role, bytes)) in &files {
        if role.embedded_in_pdf() {
            attachments.push(Attachment {
                name: path.clone(),
                mime: "application/json".into(),
                bytes: bytes.clone(),
                // §8; the first example wrote Data for every file.
                relationship: match (which, role) {
                    (
                        Golden::RecordV2,
                        FileRole::Signature | FileRole::PublicKey | FileRole::Policy,
                    ) => Relationship::Supplement,
                    _ => Relationship::Data,
                },
                description: path.clone(),
            });
        }
    }
    let pdf = countersign_pdf::render(&doc, &attachments).unwrap();
    (manifest_bytes, files, pdf)
}

#[test]
#[ignore = "writes the golden example; run only for a new format version"]
fn write_golden_example() {
    let (manifest, files, pdf) = build_example();
    let dir = golden_dir();
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(dir.join("example.pdf"), &pdf).unwrap();
    std::fs::write(bundle.join("manifest.json"), &manifest).unwrap();
    std::fs::write(bundle.join("example.pdf"), &pdf).unwrap();
    for (path, (_, bytes)) in files {
        let p = bundle.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

#[test]
#[ignore = "writes the golden example with a v2 run record; run only for a new format version"]
fn write_golden_record_v2_example() {
    let which = Golden::RecordV2;
    let (manifest, files, pdf) = build_example_of(which);
    let id = PackageManifest::parse(&manifest).unwrap().package_id;
    let dir = golden_dir_of(which);
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(dir.join(pdf_name(which, &id)), &pdf).unwrap();
    std::fs::write(bundle.join("manifest.json"), &manifest).unwrap();
    std::fs::write(bundle.join(pdf_name(which, &id)), &pdf).unwrap();
    for (path, (_, bytes)) in files {
        let p = bundle.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// The v2 example binds its run data: it verifies, says so, and a change to the results
/// (with the manifest's digest and size recomputed) is refused.
#[test]
fn the_golden_record_v2_example_verifies_and_binds_its_run_data() {
    let which = Golden::RecordV2;
    let dir = golden_dir_of(which);
    let (manifest, files, _) = build_example_of(which);
    assert_eq!(
        std::fs::read(dir.join("bundle/manifest.json")).unwrap(),
        manifest,
        "the manifest encoding changed: that needs a new format version"
    );
    for (path, (_, bytes)) in &files {
        assert_eq!(
            &std::fs::read(dir.join("bundle").join(path)).unwrap(),
            bytes,
            "{path}"
        );
    }
    let id = PackageManifest::parse(&manifest).unwrap().package_id;
    for target in [dir.join(pdf_name(which, &id)), dir.join("bundle")] {
        let v = verify_package_file(&target, None).unwrap();
        assert!(v.verified, "{}: {:?}", target.display(), v.first_problem());
        assert!(
            v.limits
                .contains(&countersign_core::package::verify::Limit::ValidationPagesNotSigned),
            "{:?}",
            v.limits
        );
    }
    let record: RunRecord = RunRecord::parse(
        &std::fs::read(dir.join(format!("bundle/runs/{RUN}/record.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(record.schema, "countersign.run-record/v2");
}

#[test]
fn the_golden_example_still_verifies_as_pdf_and_as_bundle() {
    let dir = golden_dir();
    for target in [dir.join("example.pdf"), dir.join("bundle")] {
        let v = verify_package_file(&target, None).unwrap();
        assert!(v.verified, "{}: {:?}", target.display(), v.first_problem());
    }
    // Trusting only the first signer names the second.
    let dana = KeyId::of(&signers()[0].key.verifying_key());
    let trusted = TrustedKeys([dana].into());
    let v = verify_package_file(&dir.join("example.pdf"), Some(&trusted)).unwrap();
    assert!(!v.verified);
    assert!(v
        .first_problem()
        .unwrap()
        .contains("is not on the trusted list"));
}

#[test]
fn the_same_inputs_still_give_the_same_manifest() {
    let (manifest, files, _) = build_example();
    let dir = golden_dir().join("bundle");
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        manifest,
        "the manifest encoding changed: that needs a new format version"
    );
    for (path, (_, bytes)) in files {
        assert_eq!(std::fs::read(dir.join(&path)).unwrap(), bytes, "{path}");
    }
}

/// The independent verifier written from docs/package-format.md and docs/signature-format.md
/// alone (`tests/interop/verify_package.py`) accepts the golden bundle too.
#[test]
fn the_independent_python_verifier_accepts_the_golden_bundles() {
    for which in [Golden::RecordV1, Golden::RecordV2] {
        python_accepts(&golden_dir_of(which).join("bundle"));
    }
}

fn python_accepts(bundle: &std::path::Path) {
    let o = std::process::Command::new(project_root().join(".venv/bin/python"))
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/verify_package.py"))
        .arg(bundle)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.starts_with("verified\n"), "{text}");
    for signer in [
        "valid Reviewed by Dana Whitfield",
        "valid Approved by Sam Okafor",
    ] {
        assert!(text.contains(signer), "{signer:?} not in:\n{text}");
    }
}

/// Both independent verifiers hold package paths to the rule the Rust verifier applies
/// (`check_path`, docs/package-format.md §1), for the same paths: control characters of
/// every range (C0, DEL, C1), lone surrogates (which must be refused, not crash), dot and
/// empty segments, backslashes, colons, absolute paths and the length limit.
#[test]
fn the_python_verifiers_apply_the_package_path_rule_of_the_rust_verifier() {
    use countersign_core::package::manifest::check_path;
    let paths: Vec<String> = vec![
        "runs/LIMS/OQ/r1/record.json".into(),
        "keys/0123.json".into(),
        "a/ü/✓/😀.txt".into(),
        "a\u{1}b".into(),
        "a\u{1f}b".into(),
        "a\u{7f}b".into(),
        "a\u{80}b".into(),
        "a\u{85}b".into(),
        "a\u{9f}b".into(),
        "a\u{a0}b".into(),
        "a\u{2028}b".into(),
        "/abs".into(),
        "a//b".into(),
        "a/./b".into(),
        "a/../b".into(),
        "a/".into(),
        "".into(),
        "a\\b".into(),
        "c:x".into(),
        "x".repeat(1024),
        "x".repeat(1025),
    ];
    let expected: Vec<bool> = paths.iter().map(|p| check_path(p).is_ok()).collect();
    // JSON carries the paths to Python exactly; a lone surrogate is added there (Rust strings
    // cannot hold one) and must be refused.
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import verify_package, verify_review_report
paths, expected = json.loads(sys.stdin.read())
paths.append("a\ud800b"); expected.append(False)
for name, mod in (("verify_package", verify_package), ("verify_review_report", verify_review_report)):
    for p, want in zip(paths, expected):
        got = mod.safe(p)
        if got != want:
            print(f"{name}: safe({p[:40]!r}) is {got}, the Rust verifier says {want}")
"#;
    let mut child = std::process::Command::new(project_root().join(".venv/bin/python"))
        .arg("-c")
        .arg(script)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&serde_json::to_vec(&(&paths, &expected)).unwrap())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success() && text.is_empty(), "{text}");
}

/// The golden approved package (docs/package-format.md §15): the v2 example's PDF reviewed by
/// Dana Whitfield and approved by Sam Okafor, each approval a revision of the file with its
/// approval page. Written once:
/// `cargo test -p countersign-tests --test golden_package -- --ignored write_golden_approved_example`
fn approved_dir() -> PathBuf {
    project_root().join("tests/golden/package-approval-v1")
}

const APPROVED_ID: &str = "PKG-20261105-50727ce84a71";

/// `draft` with one approval appended by `signer` as `meaning` at `at`, made as Countersign
/// makes it: the revision prepared, its signed bytes read back, the statement signed, sealed.
fn append_approval(
    draft: &[u8],
    signer: &Signer,
    meaning: Meaning,
    at: time::OffsetDateTime,
) -> Vec<u8> {
    use countersign_core::package::approval::read_approvals;
    let before = read_approvals(draft).unwrap();
    let number = before.revisions.len() + 1;
    let follows: Vec<Sha256> = before
        .revisions
        .iter()
        .map(|r| {
            countersign_core::signature::dsse::Envelope::from_json(&r.envelope)
                .unwrap()
                .digest()
        })
        .collect();
    let key_id = KeyId::of(&signer.key.verifying_key());
    let reason = format!("{meaning}: the qualification package read in full");
    let page = countersign_pdf::ApprovalPage {
        package_id: APPROVED_ID.into(),
        number,
        meaning: meaning.to_string(),
        printed_name: signer.name.into(),
        iam_arn: signer.arn.into(),
        key_id: key_id.to_hex(),
        signed_at_local: at
            .to_offset(offset!(+1))
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] +01:00"
            ))
            .unwrap(),
        signed_at_utc: UtcTimestamp::new(at).to_string(),
        reason: reason.clone(),
        draft_sha256: Sha256::of(&draft[..before.draft_len(draft.len())]).to_hex(),
        earlier: before
            .revisions
            .iter()
            .map(|r| {
                let env =
                    countersign_core::signature::dsse::Envelope::from_json(&r.envelope).unwrap();
                let p = Statement::from_payload(&env.payload_bytes().unwrap())
                    .unwrap()
                    .predicate;
                format!(
                    "{}. {} by {} at {} ({}): {}",
                    r.number, p.meaning, p.printed_name, p.signed_at, p.utc_offset, p.reason
                )
            })
            .collect(),
    };
    let public_key = PublicKeyFile::new(
        signer.key.verifying_key().as_bytes(),
        signer.name,
        signer.arn,
        "2026-11-01T08:00:00.000Z",
        None,
    )
    .canonical_bytes()
    .unwrap();
    let prepared = countersign_pdf::prepare_approval(draft, &page, &public_key).unwrap();
    let digest = read_approvals(&prepared.bytes)
        .unwrap()
        .revisions
        .last()
        .unwrap()
        .signed_sha256;
    let predicate = Predicate {
        meaning,
        reason,
        printed_name: signer.name.into(),
        iam_arn: signer.arn.into(),
        key_id,
        signed_at: UtcTimestamp::new(at),
        utc_offset: Offset::new(offset!(+1)),
        sts: StsEvidence {
            mfa_serial: format!("{}-mfa", signer.arn),
            session_expires_at: UtcTimestamp::new(at + time::Duration::hours(12)),
            server_time: Some(UtcTimestamp::new(at)),
        },
        policy: PolicyRef {
            version: 1,
            sha256: Sha256::of(POLICY.as_bytes()),
        },
        follows,
    };
    let statement = Statement::new(
        Subject::new(format!("package:{APPROVED_ID}"), digest),
        predicate,
    );
    let env = sign_statement(&statement, &signer.key)
        .unwrap()
        .to_canonical_json();
    countersign_pdf::seal_approval(prepared, &env).unwrap()
}

#[test]
#[ignore = "writes the golden approved package; run only for a new approval format version"]
fn write_golden_approved_example() {
    let draft =
        std::fs::read(golden_dir_of(Golden::RecordV2).join(format!("{APPROVED_ID}.pdf"))).unwrap();
    let [dana, sam] = signers();
    let reviewed = append_approval(
        &draft,
        &dana,
        Meaning::Reviewed,
        datetime!(2026-11-06 09:00:00 UTC),
    );
    let approved = append_approval(
        &reviewed,
        &sam,
        Meaning::Approved,
        datetime!(2026-11-06 14:30:00 UTC),
    );
    std::fs::create_dir_all(approved_dir()).unwrap();
    std::fs::write(approved_dir().join(format!("{APPROVED_ID}.pdf")), approved).unwrap();
}

/// The golden approved package verifies forever: approved by Sam Okafor after Dana
/// Whitfield's review; with both keys trusted nothing is left unproven; cut back to the
/// review it verifies as reviewed; the independent verifier agrees.
#[test]
fn the_golden_approved_package_still_verifies() {
    use countersign_core::package::approval::{read_approvals, PackageState};
    let path = approved_dir().join(format!("{APPROVED_ID}.pdf"));
    let bytes = std::fs::read(&path).unwrap();
    let draft =
        std::fs::read(golden_dir_of(Golden::RecordV2).join(format!("{APPROVED_ID}.pdf"))).unwrap();
    assert!(
        bytes.starts_with(&draft),
        "approvals are appended to the golden draft"
    );

    let v = verify_package_file(&path, None).unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Approved);
    let names: Vec<_> = v
        .approvals
        .iter()
        .map(|a| (a.meaning.clone().unwrap(), a.printed_name.clone().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("Reviewed".to_owned(), "Dana Whitfield".to_owned()),
            ("Approved".to_owned(), "Sam Okafor".to_owned())
        ]
    );
    let both: BTreeSet<KeyId> = signers()
        .iter()
        .map(|s| KeyId::of(&s.key.verifying_key()))
        .collect();
    let v = verify_package_file(&path, Some(&TrustedKeys(both))).unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert!(v.limits.is_empty(), "{:?}", v.limits);

    let first = &read_approvals(&bytes).unwrap().revisions[0];
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pdf");
    std::fs::write(&cut, &bytes[..first.end]).unwrap();
    let v = verify_package_file(&cut, None).unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Reviewed);

    let o = std::process::Command::new(project_root().join(".venv/bin/python"))
        .arg(project_root().join("tests/interop/verify_package.py"))
        .arg("--pdf")
        .arg(&path)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(shown.contains("package: approved"), "{shown}");
}
