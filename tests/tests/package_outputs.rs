//! Package outputs are written whole and recorded, or nothing is left: a PDF path in a folder
//! that does not exist leaves no bundle behind, and partial outputs a killed run left are
//! recognised and removed by the next run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use countersign_service::{CancelToken, ErrorCode, ImportRequest, PackageRequest, Service};
use countersign_tests::harness::offline_service;

const RUN: &str = "LIMS/OQ/r1";

fn service_with_a_run(home: &Path) -> Service {
    let src = home.join("src");
    let report = src.join(RUN).join("results/junit.xml");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    std::fs::write(
        &report,
        br#"<testsuite tests="1"><testcase name="a"/></testsuite>"#,
    )
    .unwrap();
    let service = offline_service(&home.join("home")).unwrap();
    service
        .import(
            &ImportRequest::new(src.clone()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    service
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `package.built` entries in the home's ledger (the service holding it is closed first).
fn packages_recorded(service: Service, home: &Path) -> (usize, Service) {
    drop(service);
    let ledger = countersign_ledger::Ledger::open(
        &home.join("home/ledger.sqlite"),
        std::sync::Arc::new(countersign_service::SystemClock::utc()),
    )
    .unwrap();
    let filter = countersign_ledger::EventFilter {
        action: Some("package.built".into()),
        ..countersign_ledger::EventFilter::default()
    };
    let n = ledger.events(&filter).unwrap().len();
    drop(ledger);
    (n, offline_service(&home.join("home")).unwrap())
}

#[test]
fn a_pdf_in_a_missing_folder_leaves_no_bundle_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let mut service = service_with_a_run(dir.path());
    let outputs = dir.path().join("outputs");
    std::fs::create_dir(&outputs).unwrap();
    for bundle in ["bundle.zip", "bundle"] {
        let req = PackageRequest {
            runs: vec![RUN.into()],
            out: dir.path().join("no-such-folder/package.pdf"),
            bundle: Some(outputs.join(bundle)),
            ..PackageRequest::default()
        };
        let e = service
            .package(&req, &|_| {}, &CancelToken::new())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput, "{e:?}");
        assert!(
            e.message.contains("no-such-folder") && e.message.contains("does not exist"),
            "{}",
            e.message
        );
        assert!(names(&outputs).is_empty(), "{:?}", names(&outputs));
        let (n, reopened) = packages_recorded(service, dir.path());
        assert_eq!(n, 0);
        service = reopened;
    }
    // The same bundle name is free for the retry.
    let built = service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: outputs.join("package.pdf"),
                bundle: Some(outputs.join("bundle.zip")),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(names(&outputs), ["bundle.zip", "package.pdf"]);
    let (n, service) = packages_recorded(service, dir.path());
    assert_eq!(n, 1);
    assert!(
        service
            .verify_package(&outputs.join("bundle.zip"), None)
            .unwrap()
            .verified
    );
    assert_eq!(
        built.bundle.as_deref(),
        Some(outputs.join("bundle.zip").as_path())
    );
}

#[test]
fn partial_outputs_of_a_killed_run_are_removed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with_a_run(dir.path());
    let outputs = dir.path().join("outputs");
    std::fs::create_dir(&outputs).unwrap();
    // What a run killed while writing leaves: a partial PDF, zip and folder, unlocked.
    std::fs::write(
        outputs.join(".countersign-partial-4242-0-1.pdf"),
        b"%PDF-1.7 cut sh",
    )
    .unwrap();
    std::fs::write(
        outputs.join(".countersign-partial-4242-1-1.zip"),
        b"PK\x03\x04",
    )
    .unwrap();
    std::fs::create_dir_all(outputs.join(".countersign-partial-4242-2-1/runs")).unwrap();
    service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: outputs.join("package.pdf"),
                bundle: Some(outputs.join("bundle")),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(names(&outputs), ["bundle", "package.pdf"]);
}
