//! Offline import of a large `.zip`: N small entries spread over run folders of 1,000 files, taken
//! into a fresh home, next to `unzip -q` of the same archive (what a reviewer would otherwise run
//! to get at the files) and a re-import that stores nothing new.
//!
//! cargo run --release -p countersign-tests --example bench_import -- [entries]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use countersign_service::{CancelToken, ImportRequest, Service};

fn main() {
    let entries: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("evidence.zip");
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&archive).unwrap(),
    ));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..entries {
        let run = i / 1000;
        let name = format!("SYS/OQ/run-{run:04}/evidence/log-{i:06}.txt");
        w.start_file(name, opts).unwrap();
        writeln!(
            w,
            "entry {i}: measured value {} within limits",
            i * 7 % 1000
        )
        .unwrap();
    }
    w.finish().unwrap();
    let size = std::fs::metadata(&archive).unwrap().len();

    let out = dir.path().join("unzipped");
    let t = Instant::now();
    let status = Command::new("unzip")
        .args(["-q", archive.to_str().unwrap(), "-d", out.to_str().unwrap()])
        .status()
        .expect("unzip (Debian package unzip) for the comparison");
    assert!(status.success());
    let unzip = t.elapsed();

    let home = dir.path().join("home");
    let service = Service::open(&home, countersign_service::Env::system()).unwrap();
    let t = Instant::now();
    let report = service
        .import(
            &ImportRequest::new(archive.clone()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let import = t.elapsed();
    assert_eq!(report.new as usize, entries, "{report:?}");
    let t = Instant::now();
    let again = service
        .import(
            &ImportRequest::new(archive.clone()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let reimport = t.elapsed();
    assert_eq!(again.unchanged as usize, entries);

    println!("{entries} entries, archive {size} bytes");
    println!(
        "unzip -q:  {:.2} s ({:.0} entries/s)",
        unzip.as_secs_f64(),
        entries as f64 / unzip.as_secs_f64()
    );
    println!(
        "import:    {:.2} s ({:.0} entries/s), {:.1}x unzip",
        import.as_secs_f64(),
        entries as f64 / import.as_secs_f64(),
        import.as_secs_f64() / unzip.as_secs_f64()
    );
    println!("re-import: {:.2} s (nothing new)", reimport.as_secs_f64());
}
