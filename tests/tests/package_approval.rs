//! The package itself is signed (docs/package-format.md §15), in the emulator: its runs
//! approved → the package built (a draft) → Reviewed by A → Approved by B (A approving what A
//! reviewed is refused) → published under Object Lock → verified from S3. Every byte of the
//! approved PDF is covered: an edited page, a flipped bit anywhere, bytes appended after the
//! last approval or a changed signature value each fail `verify`; a file cut back to the
//! reviewed revision verifies as that, and the home that signed it says a later approval is
//! missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

use countersign_core::package::approval::{read_approvals, PackageState};
use countersign_core::package::verify::Limit;
use countersign_core::signature::predicate::Meaning;
use countersign_service::{
    CancelToken, ErrorCode, PackageBuilt, PackagePublishRequest, PackageRequest,
    PackageSignRequest, Service,
};
use countersign_tests::harness::{approve_run, sign_package};
use countersign_tests::{buckets, Harness};

const BUCKET: &str = "qualification-evidence";
const LOCKED: &str = "approved-packages";
const RUN: &str = "LIMS/IQ/2026-11-02-iq-1";

fn build(service: &Service, dir: &Path, name: &str) -> PackageBuilt {
    service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: dir.join(format!("{name}.pdf")),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap()
}

fn cli(h: &Harness, home: Option<&Path>, args: &[&str]) -> Output {
    // Without a home: a folder holding no ledger, as an auditor's machine.
    let home = home.unwrap_or(Path::new("/nonexistent/countersign-home"));
    h.cli(home).unwrap().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Offline verification (no home): the verdict, and the first problem.
fn offline(path: &Path) -> countersign_service::PackageVerification {
    countersign_service::verify_package_file(path, None).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_is_reviewed_then_approved_in_its_pdf_and_every_byte_is_bound() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    let (alice, ka) = h
        .signer(&service, "alice", "Alice Adams", "alice passphrase 1")
        .await
        .unwrap();
    let (bob, kb) = h
        .signer(&service, "bob", "Bob Brown", "bob passphrase 22")
        .await
        .unwrap();
    let alice_signs = (&alice, ka.key_id.as_str(), "alice passphrase 1");
    let bob_signs = (&bob, kb.key_id.as_str(), "bob passphrase 22");

    // A package whose run is not approved cannot be signed: refused before any secret, and
    // the refusal is recorded.
    let early = build(&service, out.path(), "early");
    let refused = sign_package(
        &service,
        alice_signs,
        &early.pdf,
        &out.path().join("early-reviewed.pdf"),
        Meaning::Reviewed,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{refused}");
    assert!(
        refused.message.contains("not approved") && refused.message.contains(RUN),
        "{refused}"
    );
    assert!(!out.path().join("early-reviewed.pdf").exists());

    approve_run(&service, RUN, alice_signs, bob_signs)
        .await
        .unwrap();
    let built = build(&service, out.path(), "package");
    let draft = std::fs::read(&built.pdf).unwrap();
    let v = offline(&built.pdf);
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Draft);
    assert!(
        v.limits.contains(&Limit::PackageNotApproved),
        "{:?}",
        v.limits
    );

    // Before any secret: what the signature covers, said in full.
    let plan = service
        .package_sign_check(
            &countersign_service::SigningSession::new(),
            &PackageSignRequest {
                pdf: built.pdf.clone(),
                out: out.path().join("not-yet.pdf"),
                meaning: Meaning::Reviewed,
                reason: "read".into(),
                key_id: Some(ka.key_id.clone()),
                mfa_serial: None,
            },
        )
        .unwrap();
    assert!(
        plan.covers.contains("every byte of")
            && plan.covers.contains("approval page 1")
            && plan.covers.contains(&built.package_id),
        "{}",
        plan.covers
    );
    assert!(!out.path().join("not-yet.pdf").exists());

    // A package another home built is not signed here, and a file that is not a package PDF
    // says so; neither writes anything.
    let elsewhere = countersign_tests::emulator::project_root()
        .join("tests/golden/package-v1-record-v2/PKG-20261105-50727ce84a71.pdf");
    for (pdf, says) in [
        (elsewhere, "was not built in this home"),
        (home.path().join("ledger.sqlite"), "not a readable PDF"),
    ] {
        let e = service
            .package_sign_check(
                &countersign_service::SigningSession::new(),
                &PackageSignRequest {
                    pdf,
                    out: out.path().join("foreign.pdf"),
                    meaning: Meaning::Reviewed,
                    reason: "read".into(),
                    key_id: Some(ka.key_id.clone()),
                    mfa_serial: None,
                },
            )
            .unwrap_err();
        assert!(e.message.contains(says), "{e}");
        assert!(!out.path().join("foreign.pdf").exists());
    }

    // An existing file is never the signed copy: refused before any secret, left as it was.
    let taken = out.path().join("taken.pdf");
    std::fs::write(&taken, b"someone's file").unwrap();
    let e = service
        .package_sign_check(
            &countersign_service::SigningSession::new(),
            &PackageSignRequest {
                pdf: built.pdf.clone(),
                out: taken.clone(),
                meaning: Meaning::Reviewed,
                reason: "read".into(),
                key_id: Some(ka.key_id.clone()),
                mfa_serial: None,
            },
        )
        .unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&taken).unwrap(), b"someone's file");

    // Approved before it is reviewed: refused (sequence).
    let early_approval = sign_package(
        &service,
        bob_signs,
        &built.pdf,
        &out.path().join("skipped.pdf"),
        Meaning::Approved,
    )
    .await
    .unwrap_err();
    assert_eq!(early_approval.code, ErrorCode::Refused);
    assert!(
        early_approval.message.contains("Reviewed"),
        "{early_approval}"
    );

    // Reviewed by Alice.
    let reviewed_path = out.path().join("package-reviewed.pdf");
    let reviewed = sign_package(
        &service,
        alice_signs,
        &built.pdf,
        &reviewed_path,
        Meaning::Reviewed,
    )
    .await
    .unwrap();
    assert_eq!(reviewed.state, PackageState::Reviewed);
    let reviewed_bytes = std::fs::read(&reviewed_path).unwrap();
    assert!(reviewed_bytes.starts_with(&draft), "an incremental update");
    let v = offline(&reviewed_path);
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Reviewed);
    assert!(v.limits.contains(&Limit::PackageNotApproved));
    assert!(
        !v.limits.contains(&Limit::ValidationPagesNotSigned),
        "a verified approval covers the pages: {:?}",
        v.limits
    );

    // Alice approving what she reviewed is refused; nothing is written.
    let self_approval = sign_package(
        &service,
        alice_signs,
        &reviewed_path,
        &out.path().join("self.pdf"),
        Meaning::Approved,
    )
    .await
    .unwrap_err();
    assert_eq!(self_approval.code, ErrorCode::Refused, "{self_approval}");
    assert!(
        self_approval.message.contains("no-self-approval")
            || self_approval.message.contains("may not also approve"),
        "{self_approval}"
    );
    assert!(!out.path().join("self.pdf").exists());

    // Approved by Bob.
    let approved_path = out.path().join("package-approved.pdf");
    let approved = sign_package(
        &service,
        bob_signs,
        &reviewed_path,
        &approved_path,
        Meaning::Approved,
    )
    .await
    .unwrap();
    assert_eq!(approved.state, PackageState::Approved);
    let approved_bytes = std::fs::read(&approved_path).unwrap();
    assert!(approved_bytes.starts_with(&reviewed_bytes));
    let v = offline(&approved_path);
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Approved);
    assert_eq!(v.limits, vec![Limit::KeysNotChecked], "{:?}", v.limits);
    assert_eq!(v.approvals.len(), 2);
    assert_eq!(v.approvals[1].printed_name.as_deref(), Some("Bob Brown"));

    // The approval page shows the signature as it was signed.
    let pages = pdftotext_pages(&approved_path);
    let last = pages.last().unwrap();
    for expected in [
        "Package approval 2",
        "Approved",
        "Bob Brown",
        "the package read in full",
    ] {
        assert!(
            last.contains(expected),
            "{expected:?} on the last page: {last}"
        );
    }
    assert!(pages[pages.len() - 2].contains("Alice Adams"));

    // The independent verifier written from the spec alone agrees: approved, reviewed.
    let (ok, shown) = python_verifies(&approved_path);
    assert!(ok, "{shown}");
    assert!(
        shown.contains("package: approved") && shown.contains("valid Approved by Bob Brown"),
        "{shown}"
    );
    let (ok, shown) = python_verifies(&reviewed_path);
    assert!(ok && shown.contains("package: reviewed"), "{shown}");

    // Tampering, each on the approved file: every one fails, naming the approvals check (or,
    // for an editor's rewrite, the file no longer carrying them whole).
    let approvals = read_approvals(&approved_bytes).unwrap();
    let first = &approvals.revisions[0];
    let second = &approvals.revisions[1];
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut flipped_draft = approved_bytes.clone();
    flipped_draft[draft.len() / 2] ^= 0x01;
    cases.push(("a bit flipped in the draft", flipped_draft));
    cases.push((
        "a bit flipped in the cover's content stream",
        countersign_tests::tamper::flip_bit_in_cover(&approved_bytes).unwrap(),
    ));
    let mut flipped_page = approved_bytes.clone();
    flipped_page[first.end + 200] ^= 0x01;
    cases.push(("a bit flipped in the second approval page", flipped_page));
    let mut flipped_sig = approved_bytes.clone();
    flipped_sig[second.contents.start + 40] = if flipped_sig[second.contents.start + 40] == b'a' {
        b'b'
    } else {
        b'a'
    };
    cases.push(("a digit changed in the signature value", flipped_sig));
    let mut appended = approved_bytes.clone();
    appended.extend_from_slice(b"\n% appended\n");
    cases.push(("bytes appended after the last approval", appended));
    cases.push((
        "the cover edited and the file saved again",
        countersign_tests::tamper::draw_on_cover(&approved_bytes).unwrap(),
    ));
    for (what, bytes) in cases {
        let p = write(out.path(), "tampered.pdf", &bytes);
        let v = match countersign_service::verify_package_file(&p, None) {
            Ok(v) => v,
            Err(e) => panic!("{what}: {e}"),
        };
        assert!(!v.verified, "{what} still verifies");
        let (ok, shown) = python_verifies(&p);
        assert!(!ok, "{what}: the independent verifier accepts it: {shown}");
        let o = cli(&h, None, &["verify", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        if what != "the cover edited and the file saved again" {
            assert!(
                v.first_problem().unwrap().contains("approvals"),
                "{what}: {:?}",
                v.first_problem()
            );
        } else {
            // A rewrite by a PDF editor keeps the draft's attachments but loses the approvals'
            // byte ranges: it is no longer the approved file.
            assert_ne!(v.package_state, PackageState::Approved);
        }
    }

    // Published with Object Lock, verified from there.
    let aws = bob.settings();
    let published = service
        .package_publish(
            &aws,
            &PackagePublishRequest {
                pdf: approved_path.clone(),
                bundle: None,
                to: format!("s3://{LOCKED}/validated").parse().unwrap(),
                object_lock_days: 30,
            },
        )
        .await
        .unwrap();
    let uri = published.objects[0].uri.clone();
    let v = service.verify_published(&aws, &uri, None).await.unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Approved);

    // The command line, once the service is closed (one instance per home): the headline
    // says what the file proves, with and without the home.
    drop(service);
    let o = cli(
        &h,
        Some(home.path()),
        &["verify", approved_path.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("package APPROVED by Bob Brown")
            && text(&o).contains("keys not checked against a trusted list"),
        "{}",
        text(&o)
    );
    let o = cli(&h, Some(home.path()), &["package", "list"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("approved by Bob Brown")
            && text(&o).contains("published to s3://approved-packages/validated/")
            && text(&o).contains("draft"),
        "the approved package and the early draft: {}",
        text(&o)
    );
    let o = cli(&h, None, &["verify", reviewed_path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("package reviewed, NOT APPROVED"),
        "{}",
        text(&o)
    );

    // Cut back to the reviewed revision (the last approval stripped): it verifies as the
    // reviewed package, and the home that recorded the approval says it is missing.
    let cut = write(out.path(), "cut.pdf", &approved_bytes[..first.end]);
    let v = offline(&cut);
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.package_state, PackageState::Reviewed);
    let o = cli(&h, Some(home.path()), &["verify", cut.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("package reviewed, NOT APPROVED")
            && text(&o).contains(
                "This home recorded 1 approval(s) of this package that this file does not carry"
            )
            && text(&o).contains("Approved by Bob Brown"),
        "{}",
        text(&o)
    );
}

/// The independent verifier (`tests/interop/verify_package.py --pdf`): whether it accepts the
/// file, and what it printed.
fn python_verifies(pdf: &Path) -> (bool, String) {
    let root = countersign_tests::emulator::project_root();
    let o = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/interop/verify_package.py"))
        .arg("--pdf")
        .arg(pdf)
        .output()
        .unwrap();
    (o.status.success(), text(&o))
}

fn pdftotext_pages(pdf: &Path) -> Vec<String> {
    let o = std::process::Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let all = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut pages: Vec<String> = all.split('\u{c}').map(str::to_owned).collect();
    pages.retain(|p| !p.trim().is_empty());
    pages
}
