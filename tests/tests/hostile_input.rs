//! Hostile and contradictory input, end to end through the service: whatever a file declares
//! that its content does not bear out is a problem of the run in `show`, in the app's view and
//! in the package, never a clean pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use countersign_core::model::RunStatus;
use countersign_service::{CancelToken, ImportRequest, PackageRequest, Service};
use countersign_tests::harness::offline_service;

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
    let service = offline_service(home.path()).unwrap();
    service
        .import(
            &ImportRequest::new(src.path().to_path_buf()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
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
        .package(
            &PackageRequest {
                runs: vec!["LIMS/OQ/r1".into(), "ELN/OQ/r1".into()],
                out: out.clone(),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
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
    let service = offline_service(home.path()).unwrap();
    service
        .import(
            &ImportRequest::new(src.path().to_path_buf()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let out = home.path().join("package.pdf");
    service
        .package(
            &PackageRequest {
                runs: vec![run.into()],
                out: out.clone(),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
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

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, body) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Replaces the `n`-th occurrence (0-based; `None` = every one) of `from` with `to`.
fn patch(bytes: &mut [u8], from: &[u8], to: &[u8], n: Option<usize>) {
    assert_eq!(from.len(), to.len());
    let hits: Vec<usize> = (0..=bytes.len() - from.len())
        .filter(|&i| &bytes[i..i + from.len()] == from)
        .collect();
    assert!(!hits.is_empty());
    for (k, &i) in hits.iter().enumerate() {
        if n.is_none_or(|n| n == k) {
            bytes[i..i + to.len()].copy_from_slice(to);
        }
    }
}

const FAILING: &[u8] =
    br#"<testsuite tests="1" failures="1"><testcase name="a"><failure/></testcase></testsuite>"#;
const PASSING: &[u8] = br#"<testsuite tests="1"><testcase name="a"/></testsuite>"#;

fn import_zip(
    bytes: &[u8],
) -> (
    tempfile::TempDir,
    Result<countersign_service::ImportReport, countersign_service::ServiceError>,
    Service,
) {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("evidence.zip");
    std::fs::write(&path, bytes).unwrap();
    let service = offline_service(&home.path().join("home")).unwrap();
    let r = service.import(
        &ImportRequest::new(path.to_path_buf()),
        &|_| {},
        &CancelToken::new(),
    );
    (home, r, service)
}

/// Two entries with one name (a failing report, then a passing one): an extractor keeps the
/// last, so the run would show passed. Refused, naming the entry, and nothing is imported.
#[test]
fn a_zip_with_two_entries_of_one_name_is_refused() {
    let mut bytes = zip_of(
        &[
            ("LIMS/OQ/r1/junit.xml", FAILING),
            ("LIMS/OQ/r1/junit.xmm", PASSING),
        ],
        zip::CompressionMethod::Stored,
    );
    patch(&mut bytes, b"junit.xmm", b"junit.xml", None);
    let (_d, r, service) = import_zip(&bytes);
    let e = r.unwrap_err();
    assert_eq!(e.code, countersign_service::ErrorCode::BadInput, "{e:?}");
    assert!(
        e.message
            .contains("more than one entry named \"LIMS/OQ/r1/junit.xml\""),
        "{}",
        e.message
    );
    assert!(service.runs().unwrap().is_empty());
}

/// A local header that names an entry differently from the central directory: a streaming
/// extractor would write another file than the one listed. Refused, naming both.
#[test]
fn a_zip_whose_local_header_names_another_file_is_refused() {
    let mut bytes = zip_of(
        &[("LIMS/OQ/r1/a.xml", PASSING), ("LIMS/OQ/r1/b.xml", FAILING)],
        zip::CompressionMethod::Deflated,
    );
    // The first occurrence of a name is its local header; the directory comes last.
    patch(
        &mut bytes,
        b"LIMS/OQ/r1/b.xml",
        b"LIMS/OQ/r1/c.xml",
        Some(0),
    );
    let (_d, r, service) = import_zip(&bytes);
    let e = r.unwrap_err();
    assert_eq!(e.code, countersign_service::ErrorCode::BadInput, "{e:?}");
    assert!(
        e.message.contains(
            "entry \"LIMS/OQ/r1/b.xml\" is named \"LIMS/OQ/r1/c.xml\" in its local header"
        ),
        "{}",
        e.message
    );
    assert!(service.runs().unwrap().is_empty());
}

/// A byte changed in an entry's data fails its CRC-32: bad input naming the entry (exit 2),
/// not trouble with the machine, and nothing of that entry is stored.
#[test]
fn a_zip_entry_with_a_bad_crc_is_bad_input_naming_it() {
    let mut bytes = zip_of(
        &[("LIMS/OQ/r1/junit.xml", FAILING)],
        zip::CompressionMethod::Stored,
    );
    patch(&mut bytes, b"failures=\"1\"", b"failures=\"0\"", Some(0));
    let (_d, r, service) = import_zip(&bytes);
    let e = r.unwrap_err();
    assert_eq!(e.code, countersign_service::ErrorCode::BadInput, "{e:?}");
    assert_eq!(e.code.exit_code(), 2);
    assert!(
        e.message.contains("entry LIMS/OQ/r1/junit.xml is damaged"),
        "{}",
        e.message
    );
    assert!(service.runs().unwrap().is_empty());
}

/// Two run ids that differ only in Unicode normalisation display identically (`SYS/IQ/rün`
/// twice, one failed, one passed). The one not in NFC is refused at intake, and the report
/// says why.
#[test]
fn a_look_alike_run_id_is_refused_at_intake_and_reported() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    folder(
        src.path(),
        &[
            ("SYS/IQ/r\u{fc}n/junit.xml", FAILING),
            ("SYS/IQ/ru\u{308}n/junit.xml", PASSING),
        ],
    );
    let service = offline_service(home.path()).unwrap();
    let report = service
        .import(
            &ImportRequest::new(src.path().to_path_buf()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(report.new, 1);
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(report.skipped[0].key, "SYS/IQ/ru\u{308}n/junit.xml");
    assert!(
        report.skipped[0]
            .reason
            .contains("not in Unicode normal form C (NFC)"),
        "{}",
        report.skipped[0].reason
    );
    let runs = service.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, "SYS/IQ/r\u{fc}n");
    assert_eq!(runs[0].status, RunStatus::Failed);
}
