//! Start-up time and memory of the desktop app with a 10,000-case run open, next to an empty
//! Tauri window built the same way (`countersign-bench-window`: same Tauri, features, release
//! profile, window size and CSP). Both are release builds as the bundler makes them
//! (`--release --features tauri/custom-protocol`), launched through tauri-driver and
//! WebKitWebDriver on an X display (a private Xvfb unless `DISPLAY` is set).
//!
//! Measured per launch, after one discarded warm-up launch of each:
//! - start-up: from the WebDriver new-session request (which spawns the app) until the first
//!   screen is in the page (the app: the Connect screen; the baseline: its one paragraph). The
//!   driver's own overhead is in both figures alike;
//! - runs screen: the app only, from choosing "work offline" on the Connect screen until the
//!   Runs table shows its first row;
//! - open run: the app only, from pressing Enter on the run in the Runs table until the cases
//!   table shows its first rows (the run is read from the local store and verified; the window
//!   gets its first page of cases);
//! - memory: resident (RSS) and proportional (PSS, shared pages split between the processes
//!   that map them) set size, summed over the app process and every process it started
//!   (WebKit's web and network processes), two seconds after the screen is ready; for the app
//!   also with the run open, after scrolling the cases table to its end.
//!
//! cargo run --release -p countersign-tests --example bench_app_start -- [rounds] [cases] [HOME]
//!
//! With HOME (a Countersign home with many runs, e.g. 1,000), the app is also launched on it
//! `rounds` times to time the Runs screen alone. A table then splits the PSS by process and by
//! kind of mapping (`/proc/<pid>/smaps`: anonymous memory, the C heap, files mapped such as
//! libraries and fonts, shared memory), medians at each point. The last line printed is every
//! sample as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use countersign_service::{CancelToken, ImportRequest};
use countersign_tests::harness::offline_service;
use countersign_tests::synthetic::write_large_run;
use countersign_tests::webdriver::{
    build_release, tauri_capabilities, Display, SessionGuard, TauriDriver,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default)]
struct Memory {
    rss_kib: u64,
    pss_kib: u64,
    /// PSS of the app's own process (the rest is WebKit's web and network processes).
    root_pss_kib: u64,
    processes: usize,
    /// PSS by "process: kind of mapping" (see [`mapping_kind`]).
    by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct Sample {
    startup: Duration,
    at_start: Memory,
    runs_screen: Option<Duration>,
    open_run: Option<Duration>,
    run_open: Option<Memory>,
}

impl Sample {
    fn json(&self) -> Value {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mem = |m: &Memory| json!({ "rss_kib": m.rss_kib, "pss_kib": m.pss_kib, "root_pss_kib": m.root_pss_kib, "processes": m.processes, "by_kind_kib": m.by_kind });
        json!({
            "startup_ms": ms(self.startup),
            "at_start": mem(&self.at_start),
            "runs_screen_ms": self.runs_screen.map(ms),
            "open_run_ms": self.open_run.map(ms),
            "run_open": self.run_open.as_ref().map(mem),
        })
    }
}

/// What a launch does after start-up.
#[derive(Debug, Clone, Copy)]
enum Visit<'a> {
    /// Nothing (the baseline window).
    Nothing,
    /// The Runs screen, timed until its first row.
    Runs,
    /// The Runs screen, then this run, opened.
    Run(&'a str),
}

/// Every process id with its parent, from `/proc/<pid>/stat`.
fn parents() -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            out.insert(pid, ppid);
        }
    }
    out
}

/// The running process whose executable is `exe`.
fn pid_of(exe: &Path) -> Option<u32> {
    let exe = exe.canonicalize().ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
        (std::fs::read_link(e.path().join("exe")).ok()? == exe).then_some(pid)
    })
}

/// RSS and PSS of `root` and all its descendants, from `/proc/<pid>/smaps_rollup`.
fn memory_of_tree(root: u32) -> Memory {
    let parents = parents();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    let mut m = Memory::default();
    for pid in &tree {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        m.processes += 1;
        for line in rollup.lines() {
            if line.starts_with("Rss:") {
                m.rss_kib += kib(line);
            } else if line.starts_with("Pss:") {
                m.pss_kib += kib(line);
                if *pid == root {
                    m.root_pss_kib += kib(line);
                }
            }
        }
        let process = if *pid == root {
            "app".to_string()
        } else {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "?".into())
        };
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
            continue;
        };
        let mut kind = String::new();
        for line in smaps.lines() {
            if line.starts_with("Pss:") {
                *m.by_kind.entry(format!("{process}: {kind}")).or_default() += kib(line);
            } else if is_mapping_header(line) {
                kind = mapping_kind(line).to_string();
            }
        }
    }
    m
}

/// The number of KiB on a `Name:   N kB` line of `/proc/<pid>/smaps`.
fn kib(line: &str) -> u64 {
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
}

/// A mapping's first line in `/proc/<pid>/smaps` ("start-end perms offset dev inode [path]").
fn is_mapping_header(line: &str) -> bool {
    line.split_whitespace().next().is_some_and(|range| {
        range.contains('-') && range.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    })
}

/// What a mapping holds, by its path: anonymous memory (the JavaScript heap, WebKit's own
/// allocators, rendering buffers), the C heap, a stack, shared memory, or a mapped file.
fn mapping_kind(header: &str) -> &'static str {
    let path = header.split_whitespace().nth(5).unwrap_or("");
    match path {
        "" => "anonymous",
        "[heap]" => "C heap",
        p if p.starts_with("[stack") => "stacks",
        p if p.starts_with("/memfd:") || p.starts_with("/dev/shm") || p.starts_with("/SYSV") => {
            "shared memory"
        }
        p if p.starts_with('[') => "kernel",
        p if p.contains(".so") => "libraries",
        _ => "other files",
    }
}

async fn until(client: &Client, script: &str) {
    let give_up = Instant::now() + Duration::from_secs(120);
    loop {
        if client.execute(script, vec![]).await.ok() == Some(json!(true)) {
            return;
        }
        assert!(Instant::now() < give_up, "waited two minutes for {script}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One launch: start-up to the first screen, memory, and for the app the run opened.
async fn launch(display: &Display, exe: &Path, home: &Path, visit: Visit<'_>) -> Sample {
    let home = home.display().to_string();
    // WebKitWebDriver now and then closes the new-session request unanswered (seen once in a
    // full benchmark run); such a launch is started again, up to three times, and not timed.
    let mut attempt = 1;
    let (driver, started, client) = loop {
        let driver = TauriDriver::start(display, &[("COUNTERSIGN_HOME", home.as_str())]).unwrap();
        let started = Instant::now();
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(tauri_capabilities(exe, &[]))
            .connect(&driver.url())
            .await
        {
            Ok(client) => break (driver, started, client),
            Err(e) if attempt < 3 => {
                eprintln!(
                    "launch {attempt} of {} failed ({e}); starting it again",
                    exe.display()
                );
                drop(driver);
                tokio::time::sleep(Duration::from_secs(2)).await;
                attempt += 1;
            }
            Err(e) => panic!("three launches of {} failed; the last: {e}", exe.display()),
        }
    };
    let session = client.session_id().await.ok().flatten().unwrap();
    let mut guard = SessionGuard::new(driver.port(), session);
    let first = match visit {
        Visit::Nothing => "return !!document.getElementById('ready')",
        _ => "return !!document.getElementById('connect-go')",
    };
    until(&client, first).await;
    let mut sample = Sample {
        startup: started.elapsed(),
        ..Sample::default()
    };
    let pid = pid_of(exe).expect("the launched app is running");
    tokio::time::sleep(SETTLE).await;
    sample.at_start = memory_of_tree(pid);

    if !matches!(visit, Visit::Nothing) {
        client
            .find(Locator::Css("#kind-offline"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let t = Instant::now();
        client
            .find(Locator::Css("#connect-go"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(
            &client,
            "return !!document.querySelector('#runs-table tr[data-run]')",
        )
        .await;
        sample.runs_screen = Some(t.elapsed());
    }
    if let Visit::Run(run) = visit {
        let row = format!("#runs-table tr[data-run='{run}']");
        let row = client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(&row))
            .await
            .unwrap();
        let t = Instant::now();
        row.send_keys(ENTER).await.unwrap();
        until(
            &client,
            "return !!document.querySelector('#cases .vrow:not(.vrow--loading)')",
        )
        .await;
        sample.open_run = Some(t.elapsed());
        // Scroll the cases table to its end and back, as a reviewer would.
        client
            .execute(
                "const l = document.getElementById('cases'); l.scrollTop = l.scrollHeight; return true;",
                vec![],
            )
            .await
            .unwrap();
        tokio::time::sleep(SETTLE).await;
        sample.run_open = Some(memory_of_tree(pid));
    }
    client.close().await.unwrap();
    guard.disarm();
    drop(driver);
    tokio::time::sleep(Duration::from_secs(1)).await;
    sample
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let mid = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (mid, v[0], v[v.len() - 1])
}

fn row(what: &str, unit: &str, values: Vec<f64>) {
    let (m, lo, hi) = median(values);
    println!("| {what} | {m:.0} {unit} | {lo:.0}–{hi:.0} {unit} |");
}

fn report(name: &str, samples: &[Sample]) {
    println!("\n{name} ({} launches)\n", samples.len());
    println!("| measure | median | range |");
    println!("|---|---|---|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |k: u64| k as f64 / 1024.0;
    row(
        "start-up to first screen",
        "ms",
        samples.iter().map(|s| ms(s.startup)).collect(),
    );
    row(
        "RSS at first screen",
        "MiB",
        samples.iter().map(|s| mib(s.at_start.rss_kib)).collect(),
    );
    row(
        "PSS at first screen",
        "MiB",
        samples.iter().map(|s| mib(s.at_start.pss_kib)).collect(),
    );
    if samples.iter().all(|s| s.runs_screen.is_some()) {
        row(
            "Runs screen (offline chosen to first row)",
            "ms",
            samples
                .iter()
                .filter_map(|s| s.runs_screen.map(ms))
                .collect(),
        );
    }
    if samples.iter().all(|s| s.open_run.is_some()) {
        row(
            "open the run (Enter to first rows)",
            "ms",
            samples.iter().filter_map(|s| s.open_run.map(ms)).collect(),
        );
        row(
            "RSS with the run open",
            "MiB",
            samples
                .iter()
                .filter_map(|s| s.run_open.as_ref().map(|m| mib(m.rss_kib)))
                .collect(),
        );
        row(
            "PSS with the run open",
            "MiB",
            samples
                .iter()
                .filter_map(|s| s.run_open.as_ref().map(|m| mib(m.pss_kib)))
                .collect(),
        );
        // Where the memory is: the app's own process, and WebKit's processes.
        row(
            "PSS of the app process at first screen",
            "MiB",
            samples
                .iter()
                .map(|s| mib(s.at_start.root_pss_kib))
                .collect(),
        );
        row(
            "PSS of the app process with the run open",
            "MiB",
            samples
                .iter()
                .filter_map(|s| s.run_open.as_ref().map(|m| mib(m.root_pss_kib)))
                .collect(),
        );
        row(
            "PSS of WebKit's processes at first screen",
            "MiB",
            samples
                .iter()
                .map(|s| mib(s.at_start.pss_kib - s.at_start.root_pss_kib))
                .collect(),
        );
        row(
            "PSS of WebKit's processes with the run open",
            "MiB",
            samples
                .iter()
                .filter_map(|s| s.run_open.as_ref().map(|m| mib(m.pss_kib - m.root_pss_kib)))
                .collect(),
        );
    }
    let procs: Vec<usize> = samples.iter().map(|s| s.at_start.processes).collect();
    println!("\nprocesses counted: {procs:?}");
    breakdown(samples);
}

/// PSS by process and kind of mapping: medians at the first screen and, for the app, with
/// the run open.
fn breakdown(samples: &[Sample]) {
    let mib = |k: u64| k as f64 / 1024.0;
    let keys: BTreeSet<&String> = samples
        .iter()
        .flat_map(|s| {
            s.at_start
                .by_kind
                .keys()
                .chain(s.run_open.iter().flat_map(|m| m.by_kind.keys()))
        })
        .collect();
    let open = samples.iter().all(|s| s.run_open.is_some());
    println!("\n| PSS by process and mapping | at first screen | with the run open |");
    println!("|---|---|---|");
    for key in keys {
        let at = |m: &Memory| mib(m.by_kind.get(key).copied().unwrap_or(0));
        let (start, _, _) = median(samples.iter().map(|s| at(&s.at_start)).collect());
        // The median with the run open, when every launch opened it.
        let with_run = open.then(|| {
            median(
                samples
                    .iter()
                    .filter_map(|s| s.run_open.as_ref().map(at))
                    .collect(),
            )
            .0
        });
        // Mappings under half a MiB at both points are left out.
        if start.max(with_run.unwrap_or(0.0)) >= 0.5 {
            let with_run = with_run.map_or("–".into(), |v| format!("{v:.1} MiB"));
            println!("| {key} | {start:.1} MiB | {with_run} |");
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let cases: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);

    let app: PathBuf = build_release("countersign-app").unwrap();
    let baseline: PathBuf = build_release("countersign-bench-window").unwrap();
    for exe in [&app, &baseline] {
        let size = std::fs::metadata(exe).unwrap().len();
        println!("{}: {:.1} MiB", exe.display(), size as f64 / 1_048_576.0);
    }

    // A home with one run of `cases` cases (every 50th failed) imported offline.
    let src = tempfile::tempdir().unwrap();
    let run = write_large_run(src.path(), cases, 20).unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = offline_service(home.path()).unwrap();
    service
        .import(
            &ImportRequest::new(src.path()),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let summary = service.show(&run).unwrap().summary;
    println!("run {} with {cases} cases imported", summary.id);
    drop(service);

    let many_runs: Option<PathBuf> = args.get(3).map(PathBuf::from);

    let display = Display::acquire().unwrap();
    launch(&display, &baseline, home.path(), Visit::Nothing).await;
    launch(&display, &app, home.path(), Visit::Run(&summary.id)).await;
    let (mut a, mut b, mut m) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        b.push(launch(&display, &baseline, home.path(), Visit::Nothing).await);
        a.push(launch(&display, &app, home.path(), Visit::Run(&summary.id)).await);
        if let Some(many) = &many_runs {
            m.push(launch(&display, &app, many, Visit::Runs).await);
        }
    }
    report("baseline: empty Tauri window", &b);
    report(&format!("Countersign with a {cases}-case run"), &a);
    if !m.is_empty() {
        report("Countersign on a home with many runs", &m);
    }
    let v: Value = json!({ "rounds": rounds, "cases": cases });
    println!("\nparameters: {v}");
    let all = |s: &[Sample]| s.iter().map(Sample::json).collect::<Vec<_>>();
    println!(
        "{}",
        json!({ "baseline": all(&b), "app": all(&a), "many_runs": all(&m), "cases": cases })
    );
}
