//! Offline import: the demo dataset exported to a folder and to .zip archives, imported with no
//! network, gives the same runs and totals as a fetch; unsafe archive entries never leave the
//! store; a file that contradicts its run.json is rejected; a zip bomb is refused; a re-import
//! stores nothing new.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use countersign_core::model::{Integrity, Totals};
use countersign_demo::DemoOptions;
use countersign_ledger::{Ledger, SourceKind};
use countersign_service::SystemClock;
use countersign_service::{
    CancelToken, ErrorCode, FetchProgress, ImportLimits, ImportRequest, Service,
};
use countersign_tests::harness::offline_service;
use zip::write::SimpleFileOptions;

const IQ_REPORT: &str = "LIMS/IQ/2026-11-02-iq-1/reports/junit-iq.xml";

fn totals(tests: u64, passed: u64, failed: u64, errored: u64, skipped: u64) -> Totals {
    Totals {
        tests,
        passed,
        failed,
        errored,
        skipped,
    }
}

/// The totals `fetch` gives for the demo dataset (tests/tests/fetch_demo.rs).
fn expected_runs() -> BTreeMap<String, Totals> {
    [
        ("ELN/IQ/2026-11-02-iq-1", totals(18, 16, 0, 1, 1)),
        ("ELN/OQ/2026-11-03-oq-1", totals(10, 9, 0, 0, 1)),
        ("ELN/PQ/2026-11-04-pq-1", totals(8, 8, 0, 0, 0)),
        ("LIMS/IQ/2026-11-02-iq-1", totals(19, 18, 0, 0, 1)),
        ("LIMS/OQ/2026-11-03-oq-1", totals(18, 15, 1, 1, 1)),
        ("LIMS/PQ/2026-11-04-pq-1", totals(10, 8, 1, 0, 1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn demo_objects() -> Vec<(String, Vec<u8>)> {
    let dataset = countersign_demo::build(
        &DemoOptions {
            bucket: "qualification-evidence".parse().unwrap(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            now: time::macros::datetime!(2026-11-05 12:00 UTC),
        },
        &mut rand_core::OsRng,
    )
    .unwrap();
    dataset
        .objects
        .into_iter()
        .map(|o| (o.key, o.body))
        .collect()
}

fn export_folder(dir: &Path, objects: &[(String, Vec<u8>)]) {
    for (key, body) in objects {
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap();
}

fn add_symlink(path: &Path, name: &str, target: &str) {
    let mut w = zip::ZipWriter::new_append(
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap(),
    )
    .unwrap();
    w.add_symlink(name, target, SimpleFileOptions::default())
        .unwrap();
    w.finish().unwrap();
}

fn runs(service: &Service) -> BTreeMap<String, Totals> {
    service
        .runs()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.totals))
        .collect()
}

fn open_ledger(home: &Path) -> Ledger {
    Ledger::open(
        &home.join(countersign_service::LEDGER_FILE),
        std::sync::Arc::new(SystemClock::utc()),
    )
    .unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_folder_import_gives_the_runs_and_totals_of_a_fetch_and_a_reimport_stores_nothing() {
    let objects = demo_objects();
    let src = tempfile::tempdir().unwrap();
    export_folder(src.path(), &objects);
    // A zero-byte file is evidence like any other.
    std::fs::write(
        src.path().join("LIMS/IQ/2026-11-02-iq-1/logs/empty.log"),
        b"",
    )
    .unwrap();

    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let first = service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert!(first.rejected.is_empty(), "{first:?}");
    assert_eq!(first.new as usize, objects.len(), "{first:?}");
    // The only file outside the layout is the demo's CloudTrail public key.
    assert_eq!(first.skipped.len(), 1, "{:?}", first.skipped);
    let canonical = src.path().canonicalize().unwrap();
    assert_eq!(first.source, format!("file://{}", canonical.display()));

    assert_eq!(runs(&service), expected_runs());
    let view = service.show("LIMS/IQ/2026-11-02-iq-1").unwrap();
    assert!(view
        .run
        .files
        .iter()
        .all(|f| f.integrity == Integrity::Verified));
    let empty = view
        .run
        .files
        .iter()
        .find(|f| f.path == "logs/empty.log")
        .expect("the zero-byte file is part of the run");
    assert_eq!(empty.size, 0);
    assert_eq!(
        empty.origin.uri,
        format!(
            "file://{}/LIMS/IQ/2026-11-02-iq-1/logs/empty.log",
            canonical.display()
        )
    );
    // Offline: no stack snapshot was taken.
    assert_eq!(view.stack_snapshot, None);

    let again = service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(again.new, 0, "{again:?}");
    assert_eq!(again.unchanged, first.new);
    assert!(again.rejected.is_empty());
    let events_after_reimport = service.ledger_verify().unwrap();
    assert!(events_after_reimport.is_ok());
    drop(service);

    let ledger = open_ledger(home.path());
    let objects = ledger.objects().unwrap();
    assert_eq!(
        objects.len() as u64,
        first.new,
        "a re-import recorded objects"
    );
    assert!(objects.iter().all(|o| o.source == SourceKind::Import));
    assert!(objects
        .iter()
        .all(|o| o.uri == format!("{}/{}", first.source, o.key.as_deref().unwrap())));
}

#[test]
fn a_cancelled_import_keeps_what_it_took_and_the_next_import_takes_the_rest() {
    let objects = demo_objects();
    let src = tempfile::tempdir().unwrap();
    export_folder(src.path(), &objects);
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();

    // Cancelled from the progress callback once five entries are in.
    let cancel = CancelToken::new();
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: &FetchProgress| {
        seen.lock().unwrap().push((p.done, p.total));
        if p.done == 5 {
            cancel.cancel();
        }
    };
    let first = service
        .import(
            &ImportRequest {
                path: src.path().to_path_buf(),
                limits: ImportLimits::default(),
            },
            &progress,
            &cancel,
        )
        .unwrap();
    assert!(first.cancelled, "{first:?}");
    assert_eq!(first.new, 5, "{first:?}");
    let seen = seen.into_inner().unwrap();
    // Every object but the demo's CloudTrail public key (outside the layout, skipped).
    let total = objects.len() as u64 - 1;
    assert_eq!(seen.first(), Some(&(0, total)), "listing first: {seen:?}");
    assert_eq!(seen.last(), Some(&(5, total)), "{seen:?}");
    assert!(service.ledger_verify().unwrap().is_ok());
    // A sync that did not run to its end is not a finished sync: "new since the last sync" is
    // not reset by it (docs/ledger-format.md "Finished syncs").
    let finished = |service: &countersign_service::Service| {
        service
            .ledger_events(&countersign_ledger::EventFilter {
                action: Some(countersign_service::SYNC_COMPLETED.into()),
                ..Default::default()
            })
            .unwrap()
            .len()
    };
    assert_eq!(finished(&service), 0);

    // Nothing half-written: the next import stores exactly the rest and reports every entry.
    let done = std::sync::Mutex::new(0u64);
    let rest = service
        .import(
            &ImportRequest {
                path: src.path().to_path_buf(),
                limits: ImportLimits::default(),
            },
            &|p: &FetchProgress| *done.lock().unwrap() = p.done,
            &CancelToken::new(),
        )
        .unwrap();
    assert!(!rest.cancelled);
    assert_eq!((rest.new, rest.unchanged), (total - 5, 5), "{rest:?}");
    assert_eq!(done.into_inner().unwrap(), total);
    assert_eq!(runs(&service), expected_runs());
    assert_eq!(finished(&service), 1);
}

#[test]
fn a_zip_import_gives_the_same_runs_and_totals() {
    let objects = demo_objects();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("evidence.zip");
    let entries: Vec<(&str, &[u8])> = objects
        .iter()
        .map(|(k, b)| (k.as_str(), b.as_slice()))
        .collect();
    write_zip(&archive, &entries);

    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let report = service
        .import(&ImportRequest::new(&archive), &|_| {}, &CancelToken::new())
        .unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.new as usize, objects.len() - 1);
    assert_eq!(runs(&service), expected_runs());
    let view = service.show("ELN/OQ/2026-11-03-oq-1").unwrap();
    let uri = &view.run.files[0].origin.uri;
    assert!(
        uri.starts_with(&format!(
            "file://{}/ELN/OQ/2026-11-03-oq-1/",
            archive.canonicalize().unwrap().display()
        )),
        "{uri}"
    );
    let again = service
        .import(&ImportRequest::new(&archive), &|_| {}, &CancelToken::new())
        .unwrap();
    assert_eq!((again.new, again.unchanged), (0, report.new));
}

#[test]
fn unsafe_archive_entries_are_skipped_and_never_written_outside_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("crafted.zip");
    let good: &[u8] = b"<testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/></testsuite>";
    write_zip(
        &archive,
        &[
            ("LIMS/IQ/r1/../../../escaped.txt", b"x"),
            ("../escaped-too.txt", b"x"),
            ("/tmp/countersign-absolute-entry.txt", b"x"),
            ("LIMS\\IQ\\r1\\win.xml", b"x"),
            ("LIMS/IQ/r1/reports/a.xml", good),
        ],
    );
    add_symlink(&archive, "LIMS/IQ/r1/logs/link.log", "/etc/passwd");
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let report = service
        .import(&ImportRequest::new(&archive), &|_| {}, &CancelToken::new())
        .unwrap();
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        skipped,
        vec![
            "LIMS/IQ/r1/../../../escaped.txt",
            "../escaped-too.txt",
            "/tmp/countersign-absolute-entry.txt",
            "LIMS\\IQ\\r1\\win.xml",
            "LIMS/IQ/r1/logs/link.log",
        ]
    );
    assert_eq!(report.skipped[4].reason, "symbolic link: not followed");
    assert!(
        report.skipped[0].reason.contains(".."),
        "{:?}",
        report.skipped
    );
    assert!(report.skipped[2].reason.contains("absolute"));
    assert!(report.skipped[3].reason.contains("backslash"));
    assert_eq!(report.new, 1);
    assert!(!dir.path().join("escaped-too.txt").exists());
    assert!(!Path::new("/tmp/countersign-absolute-entry.txt").exists());
    // Nothing but the ledger, its lock/journal and content-addressed blobs in the home.
    for f in files_under(home.path()) {
        let rel = f
            .strip_prefix(home.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            rel.starts_with("ledger.sqlite")
                || rel.starts_with("store/objects/sha256/")
                || rel.starts_with("store/tmp")
                || rel.ends_with(".lock"),
            "unexpected file {rel}"
        );
    }
    assert_eq!(runs(&service).len(), 1);
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_a_folder_are_not_followed() {
    let src = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"not evidence").unwrap();
    std::fs::create_dir_all(src.path().join("LIMS/IQ/r1/logs")).unwrap();
    std::fs::write(src.path().join("LIMS/IQ/r1/logs/run.log"), b"ok").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        src.path().join("LIMS/IQ/r1/logs/link.log"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), src.path().join("LIMS/IQ/r1/linked-dir")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let report = service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(report.new, 1);
    let mut skipped: Vec<(&str, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.key.as_str(), s.reason.as_str()))
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        vec![
            ("LIMS/IQ/r1/linked-dir", "symbolic link: not followed"),
            ("LIMS/IQ/r1/logs/link.log", "symbolic link: not followed"),
        ]
    );
}

#[test]
fn a_file_that_contradicts_its_declared_digest_is_rejected_and_never_stored() {
    let objects = demo_objects();
    let src = tempfile::tempdir().unwrap();
    export_folder(src.path(), &objects);
    let report_path = src.path().join(IQ_REPORT);
    let mut bytes = std::fs::read(&report_path).unwrap();
    let i = bytes.iter().position(|b| *b == b'>').unwrap();
    bytes.insert(i, b' ');
    std::fs::write(&report_path, &bytes).unwrap();
    let tampered = countersign_core::digest::Sha256::of(&bytes);

    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let report = service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    let canonical = src.path().canonicalize().unwrap();
    let uri = format!("file://{}/{IQ_REPORT}", canonical.display());
    assert_eq!(report.rejected[0].uri, uri);
    assert!(
        report.rejected[0].reason.contains("declared in run.json"),
        "{}",
        report.rejected[0].reason
    );
    // Every file but the public key (outside the layout) and the tampered report.
    assert_eq!(report.new as usize, objects.len() - 2);

    // A second import does not record the same refusal twice.
    let again = service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(again.rejected.len(), 1);
    drop(service);

    let home_store = home.path().join(countersign_service::STORE_DIR);
    let ledger = open_ledger(home.path());
    let rejections = ledger.rejections().unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].uri, uri);
    assert_eq!(rejections[0].actual_sha256, Some(tampered));
    assert!(ledger.objects().unwrap().iter().all(|o| o.uri != uri));
    let blob = home_store
        .join("objects/sha256")
        .join(&tampered.to_hex()[..2])
        .join(tampered.to_hex());
    assert!(!blob.exists(), "the rejected bytes entered the store");
}

#[test]
fn a_zip_bomb_is_refused_with_a_clear_error_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bomb.zip");
    let zeros = vec![0u8; 8 << 20];
    write_zip(
        &archive,
        &[
            ("LIMS/IQ/r1/logs/a.log", b"fine"),
            ("LIMS/IQ/r1/logs/zeros.log", &zeros),
        ],
    );
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let err = service
        .import(&ImportRequest::new(&archive), &|_| {}, &CancelToken::new())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.contains("zip bomb"), "{}", err.message);
    assert!(err.message.contains("zeros.log"), "{}", err.message);
    assert!(service.runs().unwrap().is_empty());

    // The total cap holds too, whatever the ratio.
    let limits = ImportLimits {
        max_total_bytes: 1000,
        ..ImportLimits::default()
    };
    let big = dir.path().join("big.zip");
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    write_zip(&big, &[("LIMS/IQ/r1/logs/noise.log", &noise)]);
    let err = service
        .import(
            &ImportRequest {
                path: big.to_path_buf(),
                limits: limits.clone(),
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(
        err.message.contains("more than 1000 bytes"),
        "{}",
        err.message
    );
}

#[test]
fn a_missing_path_or_a_file_that_is_not_a_zip_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let missing = dir.path().join("nowhere");
    let err = service
        .import(&ImportRequest::new(missing), &|_| {}, &CancelToken::new())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.contains("nowhere"), "{}", err.message);

    let not_zip = dir.path().join("notes.zip");
    std::fs::write(&not_zip, b"just text").unwrap();
    let err = service
        .import(&ImportRequest::new(not_zip), &|_| {}, &CancelToken::new())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.contains("notes.zip"), "{}", err.message);
    assert!(
        err.message.contains("not a readable .zip"),
        "{}",
        err.message
    );
}
