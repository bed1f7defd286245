//! Hostile and contradictory input, end to end through the service: whatever a file declares
//! that its content does not bear out is a problem of the run in `show`, in the app's view and
//! in the package, never a clean pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use countersign_core::model::RunStatus;
use countersign_service::{PackageRequest, Service};

/// Writes `files` (run-relative to the folder) under `dir`.
fn folder(dir: &Path, files: &[(&str, &[u8])]) {
    for (rel, body) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

fn pdf_text(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .args(["-raw", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).replace('\n', " ")
}

#[test]
fn declared_versus_found_shows_in_show_and_in_the_package() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    folder(
        src.path(),
        &[
            (
                "LIMS/OQ/r1/results/junit.xml",
                br#"<testsuites tests="3" failures="1"><testsuite name="oq"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#,
            ),
            (
                "ELN/OQ/r1/results/cucumber.json",
                br#"[{"name":"Audit","elements":[{"name":"Empty","type":"scenario","steps":[]}]}]"#,
            ),
        ],
    );
    let service = Service::open(home.path()).unwrap();
    service.import(src.path()).unwrap();
    let runs = service.runs().unwrap();
    assert!(
        runs.iter()
            .all(|r| r.status == RunStatus::Incomplete && r.problems == 1),
        "{runs:#?}"
    );
    let view = service.show("LIMS/OQ/r1").unwrap();
    assert_eq!(view.run.problems.len(), 1);
    assert_eq!(view.run.problems[0].path, "results/junit.xml");
    assert!(view.run.problems[0]
        .message
        .contains("declares 3 test(s) with 1 failure(s)"));
    let view = service.show("ELN/OQ/r1").unwrap();
    assert!(view.run.problems[0].message.contains("has no steps"));

    let out = home.path().join("package.pdf");
    service
        .package(&PackageRequest {
            runs: vec!["LIMS/OQ/r1".into(), "ELN/OQ/r1".into()],
            out: out.clone(),
            ..PackageRequest::default()
        })
        .unwrap();
    let text = pdf_text(&out);
    assert!(text.contains("Problems"), "{text}");
    for word in ["declares 3 test(s)", "has no steps"] {
        assert!(text.contains(word), "{word:?} not in the package:\n{text}");
    }
}
