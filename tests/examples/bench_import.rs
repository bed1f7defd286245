//! Offline import of a large `.zip`: N small entries spread over run folders of PER_RUN files
//! (default 1,000), taken into a fresh home, next to `unzip -q` of the same archive (what a
//! reviewer would otherwise run to get at the files) and a re-import that stores nothing new.
//! Then the run list of that home: the service's listing, and `countersign runs` (the release
//! binary beside this program, when built) as a user runs it, five times each.
//!
//! cargo run --release -p countersign-tests --example bench_import -- [entries] [PER_RUN] [KEEP_DIR]
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
    let per_run: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
        .max(1);
    // A third argument keeps the work (archive, extracted copy, home) in that new folder, to
    // profile commands on the home afterwards.
    let temp = tempfile::tempdir().unwrap();
    let keep = std::env::args().nth(3).map(std::path::PathBuf::from);
    if let Some(k) = &keep {
        std::fs::create_dir(k).expect("the folder to keep the work in must not exist yet");
    }
    let base = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let archive = base.join("evidence.zip");
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&archive).unwrap(),
    ));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..entries {
        let run = i / per_run;
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

    let out = base.join("unzipped");
    let t = Instant::now();
    let status = Command::new("unzip")
        .args(["-q", archive.to_str().unwrap(), "-d", out.to_str().unwrap()])
        .status()
        .expect("unzip (Debian package unzip) for the comparison");
    assert!(status.success());
    let unzip = t.elapsed();

    let home = base.join("home");
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

    let mut listing = Vec::new();
    let mut runs = 0;
    for _ in 0..5 {
        let t = Instant::now();
        runs = service.runs().unwrap().len();
        listing.push(t.elapsed().as_secs_f64());
    }
    drop(service);
    println!(
        "run list of {runs} runs (service): median {:.3} s of {:?}",
        median(&mut listing),
        listing
    );
    let cli = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.join("countersign")))
        .filter(|p| p.exists());
    if let Some(cli) = cli {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new(&cli)
                .args(["--home", home.to_str().unwrap(), "runs"])
                .output()
                .unwrap();
            times.push(t.elapsed().as_secs_f64());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        println!(
            "countersign runs ({}): median {:.3} s of {:?}",
            cli.display(),
            median(&mut times),
            times
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
