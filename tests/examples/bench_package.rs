//! Package build time at scale: a run with N cases and E evidence files is imported offline, then
//! packaged (PDF + zip bundle) and verified; prints the time of each step next to the SHA-256 time
//! of the evidence bytes.
//!
//! cargo run --release -p countersign-tests --example bench_package -- [cases] [evidence]
//!
//! With `prepare DIR [cases] [evidence]` it only writes the run to `DIR/src`, imports it into
//! the home `DIR/home` and prints `{"run": …, "home": …}`, for `scripts/bench.sh` to time the
//! `countersign package` command against other tools on the same run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use countersign_core::digest::Sha256;
use countersign_service::{verify_package_file, CancelToken, ImportRequest, PackageRequest};
use countersign_tests::harness::offline_service;
use countersign_tests::synthetic::write_large_run;

fn prepare(args: &[String]) {
    let dir = std::path::PathBuf::from(args.get(2).expect("prepare DIR [cases] [evidence]"));
    let cases: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let evidence: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let src = dir.join("src");
    let home = dir.join("home");
    let run = write_large_run(&src, cases, evidence).unwrap();
    let service = offline_service(&home).unwrap();
    service
        .import(&ImportRequest::new(&src), &|_| {}, &CancelToken::new())
        .unwrap();
    let id = service.show(&run).unwrap().summary.id;
    println!("{}", serde_json::json!({ "run": id, "home": home }));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("prepare") {
        return prepare(&args);
    }
    let cases: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let evidence: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let src = tempfile::tempdir().unwrap();
    let run = write_large_run(src.path(), cases, evidence).unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    let t = Instant::now();
    service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let import = t.elapsed();

    // Every evidence byte, read and hashed once (what any package build must at least do).
    let view = service.show(&run).unwrap();
    let mut bytes = Vec::new();
    for f in &view.run.files {
        bytes.push(std::fs::read(src.path().join(&run).join(&f.path)).unwrap());
    }
    let total: usize = bytes.iter().map(Vec::len).sum();
    let t = Instant::now();
    for b in &bytes {
        std::hint::black_box(Sha256::of(b));
    }
    let sha = t.elapsed();

    let out = tempfile::tempdir().unwrap();
    let pdf = out.path().join("p.pdf");
    let t = Instant::now();
    let built = service
        .package(
            &PackageRequest {
                runs: vec![run.clone()],
                out: pdf.clone(),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let build_pdf = t.elapsed();
    let t = Instant::now();
    service
        .package(
            &PackageRequest {
                runs: vec![run.clone()],
                out: out.path().join("q.pdf"),
                bundle: Some(out.path().join("q.zip")),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let build_zip = t.elapsed();
    let t = Instant::now();
    assert!(verify_package_file(&pdf, None).unwrap().verified);
    let verify_pdf = t.elapsed();
    let t = Instant::now();
    assert!(
        verify_package_file(&out.path().join("q.zip"), None)
            .unwrap()
            .verified
    );
    let verify_zip = t.elapsed();
    let pages = lopdf::Document::load(&pdf)
        .map(|d| d.get_pages().len())
        .unwrap_or(0);

    println!("| cases | evidence files | evidence bytes | import (s) | SHA-256 of evidence (s) | build PDF (s) | build PDF + zip (s) | verify PDF (s) | verify zip (s) | PDF size | pages |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {cases} | {} | {total} | {:.2} | {:.4} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {pages} |",
        view.run.files.len(),
        import.as_secs_f64(),
        sha.as_secs_f64(),
        build_pdf.as_secs_f64(),
        build_zip.as_secs_f64(),
        verify_pdf.as_secs_f64(),
        verify_zip.as_secs_f64(),
        built.pdf_size,
    );
}
