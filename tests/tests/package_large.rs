//! A package of a run with 10,000 cases and 2,000 evidence files, odd Unicode, very long
//! messages and names: built offline from an import, checked with qpdf, verified as PDF and zip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use countersign_core::package::manifest::{FileRole, PackageManifest};
use countersign_service::{
    verify_package_file, CancelToken, ErrorCode, EventFilter, ImportRequest, PackageProgress,
    PackageRequest, Service,
};
use countersign_tests::harness::offline_service;
use countersign_tests::synthetic::write_large_run;

#[test]
fn ten_thousand_cases_and_two_thousand_evidence_files_make_a_correct_package() {
    let src = tempfile::tempdir().unwrap();
    let run = write_large_run(src.path(), 10_000, 2_000).unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let view = service.show(&run).unwrap();
    assert_eq!(view.run.totals.tests, 10_000);

    let out = tempfile::tempdir().unwrap();
    let pdf = out.path().join("large.pdf");
    let zip = out.path().join("large.zip");
    let built = service
        .package(
            &PackageRequest {
                runs: vec![run.clone()],
                out: pdf.clone(),
                bundle: Some(zip.clone()),
                title: Some("Large — Grüße 漢字".into()),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert!(!built.demo);

    let o = Command::new("qpdf")
        .arg("--check")
        .arg(&pdf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && !text.contains("WARNING"), "{text}");

    for target in [&pdf, &zip] {
        let v = verify_package_file(target, None).unwrap();
        assert!(v.verified, "{}: {:?}", target.display(), v.first_problem());
    }
    let read = countersign_pdf::read_package(&std::fs::read(&pdf).unwrap()).unwrap();
    let manifest = PackageManifest::parse(&read.attachments["manifest.json"]).unwrap();
    let evidence = manifest
        .files
        .iter()
        .filter(|f| f.role == FileRole::Evidence)
        .count();
    assert_eq!(evidence, 2_001, "2,000 evidence files and the JUnit file");
    assert_eq!(manifest.runs[0].totals.failed, 200);

    // The last case and a long failure message are in the rendered text.
    let o = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&o.stdout);
    assert!(body.contains("case 9999"), "the last case is printed");
    assert!(
        body.contains("expected 9950, got 9951"),
        "the last failure message is printed"
    );
}

#[test]
fn a_cancelled_package_build_writes_and_records_nothing_and_progress_names_every_step() {
    let src = tempfile::tempdir().unwrap();
    let run = write_large_run(src.path(), 200, 3).unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let req = PackageRequest {
        runs: vec![run.clone()],
        out: out.path().join("p.pdf"),
        bundle: Some(out.path().join("p.zip")),
        ..PackageRequest::default()
    };
    let built_events = |service: &Service| {
        service
            .ledger_events(&EventFilter {
                action: Some("package.built".into()),
                ..EventFilter::default()
            })
            .unwrap()
            .len()
    };

    // Cancelled when rendering is announced: the next step never starts.
    let cancel = CancelToken::new();
    let stop_at_render = |p: &PackageProgress| {
        if p.what.contains("rendering") {
            cancel.cancel();
        }
    };
    let _now = time::OffsetDateTime::now_utc();
    let e = service.package(&req, &stop_at_render, &cancel).unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled, "{e}");
    assert!(!req.out.exists() && !out.path().join("p.zip").exists());
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no temporary left"
    );
    assert_eq!(built_events(&service), 0);

    // Uncancelled: every step reported once, in order, the run named where it is about one.
    let seen = std::sync::Mutex::new(Vec::new());
    service
        .package(
            &req,
            &|p: &PackageProgress| seen.lock().unwrap().push(p.clone()),
            &CancelToken::new(),
        )
        .unwrap();
    let seen = seen.into_inner().unwrap();
    let steps: Vec<(u64, u64)> = seen.iter().map(|p| (p.step, p.steps)).collect();
    assert_eq!(steps, [(1, 4), (2, 4), (3, 4), (4, 4)]);
    assert_eq!(seen[0].run.as_deref(), Some(run.as_str()));
    assert!(req.out.is_file());
    assert_eq!(built_events(&service), 1);
}
