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

/// Names and messages in the package PDF are shown escaped: a carriage return, an escape
/// sequence or a bidi override in a case name cannot rearrange what the reader sees.
#[test]
fn untrusted_names_are_escaped_in_the_package_pdf() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let run = "SYS/OQ/r\u{202e}1";
    folder(
        src.path(),
        &[
            (
                &format!("{run}/results/junit.xml"),
                br#"<testsuite name="oq" tests="1" failures="1"><testcase name="critical_check&#13;  PASSED"><failure message="boom&#13;&#x202E;gnissap"/></testcase></testsuite>"#,
            ),
            (
                &format!("{run}/results/cucumber.json"),
                "[{\"name\":\"F\\u001b[31m\",\"elements\":[{\"name\":\"S\\u2066x\",\"steps\":[{\"keyword\":\"Then \",\"name\":\"x\",\"result\":{\"status\":\"failed\",\"error_message\":\"bad\\u001b[2K\"}}]}]}]".as_bytes(),
            ),
        ],
    );
    let service = Service::open(home.path()).unwrap();
    service.import(src.path()).unwrap();
    let out = home.path().join("package.pdf");
    service
        .package(&PackageRequest {
            runs: vec![run.into()],
            out: out.clone(),
            ..PackageRequest::default()
        })
        .unwrap();
    let o = Command::new("pdftotext")
        .args(["-raw", out.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    for c in text.chars() {
        // pdftotext itself writes line breaks and a form feed between pages.
        assert!(
            c == '\n' || c == '\u{c}' || !countersign_core::display::is_unsafe(c),
            "raw {c:?} in the package text"
        );
    }
    let flat = text.replace('\n', "");
    for shown in [
        "SYS/OQ/r\\u{202e}1",
        "critical_check\\u{d} PASSED",
        "boom\\u{d}\\u{202e}gnissap",
        "F\\u{1b}[31m::S\\u{2066}x",
        "bad\\u{1b}[2K",
    ] {
        let squeezed = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(shown) || flat.contains(shown),
            "{shown:?} not in the package:\n{text}"
        );
    }
}
