//! kill -9 at random points of `fetch`, `import`, `package`, `ledger restore`, `disposition`
//! and `ledger checkpoint`, run as the real command line. After every kill, the next start must find: a ledger that verifies, a store
//! holding only objects whose bytes match their names, no temporary file left in the store, and
//! no half-written package (every PDF at a final name verifies; partial outputs are swept by
//! the next package run).
//!
//! The normal suite runs a few iterations per command; the long run is
//! `KILL_ITERATIONS=50 cargo test -p countersign-tests --test kill_matrix -- --nocapture`
//! (docs/robustness.md). `KILL_SEED` repeats a run's random kill points.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use countersign_core::digest::Sha256;
use countersign_tests::binaries::build_cli;
use countersign_tests::emulator::ADMIN_KEY;
use countersign_tests::harness::Harness;
use countersign_tests::TestUser;

fn iterations() -> usize {
    std::env::var("KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// xorshift64*: reproducible kill points from `KILL_SEED` (default: the clock).
struct Points(u64);

impl Points {
    fn new(label: &str) -> Self {
        let seed = std::env::var("KILL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{label}: KILL_SEED={seed}");
        Self(seed | 1)
    }

    /// A delay in [0, max).
    fn next(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let max_us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(r % max_us)
    }
}

/// The CLI, built once.
fn binary() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| build_cli().unwrap())
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts the command and kills it with SIGKILL after `after` (or lets it finish first).
/// Returns whether it was still running when killed.
fn run_and_kill(home: &Path, args: &[&str], after: Duration) -> bool {
    run_and_kill_with(home, args, &[], after)
}

/// [`run_and_kill`] with extra environment variables (AWS credentials for the emulator).
fn run_and_kill_with(home: &Path, args: &[&str], env: &[(&str, &str)], after: Duration) -> bool {
    let mut child = Command::new(binary())
        .args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1).min(after));
    }
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    alive
}

/// What must hold after any kill, once the home has been opened again.
fn check_home(home: &Path, what: &str) {
    // The next start (any command) clears what the killed writer left.
    let o = cli(home, &["runs"]);
    assert!(
        o.status.success(),
        "{what}: runs after the kill: {}",
        text(&o)
    );
    let o = cli(home, &["ledger", "verify"]);
    assert!(o.status.success(), "{what}: ledger verify: {}", text(&o));
    assert!(
        !home.join("ledger.sqlite.restoring").exists(),
        "{what}: a partial restore was left"
    );
    let tmp = home.join("store/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{what}: store/tmp still holds {left:?}");
    for blob in blobs(&home.join("store/objects/sha256")) {
        let bytes = std::fs::read(&blob).unwrap();
        let name = blob.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            Sha256::of(&bytes).to_hex(),
            name,
            "{what}: a stored object's bytes do not match its name"
        );
    }
}

fn blobs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for b in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(b.path());
        }
    }
    out
}

/// A folder of `runs` run folders with `files` small evidence files each and a JUnit report.
fn evidence_folder(dir: &Path, runs: usize, files: usize) {
    for r in 0..runs {
        let run = dir.join(format!("SYS/OQ/run-{r:03}"));
        std::fs::create_dir_all(run.join("evidence")).unwrap();
        std::fs::write(
            run.join("junit.xml"),
            format!(r#"<testsuite tests="1"><testcase name="case-{r}"/></testsuite>"#),
        )
        .unwrap();
        for f in 0..files {
            std::fs::write(
                run.join(format!("evidence/log-{f:04}.txt")),
                format!("run {r} file {f}: value {}\n", (r * 31 + f * 7) % 1000),
            )
            .unwrap();
        }
    }
}

#[test]
fn import_killed_anywhere_keeps_the_home_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    evidence_folder(&src, 20, 150);
    let src_arg = src.to_str().unwrap();
    // How long an uninterrupted import takes: kills land anywhere in it.
    binary();
    let t = Instant::now();
    assert!(cli(&dir.path().join("timing"), &["import", src_arg])
        .status
        .success());
    let span = t.elapsed() + Duration::from_millis(50);
    let mut points = Points::new("import");
    let mut killed = 0;
    for i in 0..iterations() {
        // Each iteration kills a cold import of its own home, then resumes it there.
        let home = dir.path().join(format!("home-{i}"));
        if run_and_kill(&home, &["import", src_arg], points.next(span)) {
            killed += 1;
        }
        check_home(&home, &format!("import, iteration {i}"));
        let o = cli(&home, &["import", src_arg]);
        assert!(o.status.success(), "{}", text(&o));
        check_home(&home, &format!("import resumed, iteration {i}"));
        let o = cli(&home, &["--json", "runs"]);
        let runs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(runs.as_array().unwrap().len(), 20, "iteration {i}");
        std::fs::remove_dir_all(&home).unwrap();
    }
    eprintln!("import: {killed} of {} runs killed mid-way", iterations());
}

#[test]
fn package_killed_anywhere_leaves_no_half_package() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    evidence_folder(&src, 1, 300);
    let home = dir.path().join("home");
    assert!(cli(&home, &["import", src.to_str().unwrap()])
        .status
        .success());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    binary();
    let t = Instant::now();
    let probe = out.join("probe.pdf");
    let o = cli(
        &home,
        &[
            "package",
            "SYS/OQ/run-000",
            "--out",
            probe.to_str().unwrap(),
            "--bundle",
            out.join("probe.zip").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let span = t.elapsed() + Duration::from_millis(50);
    let mut points = Points::new("package");
    let mut killed = 0;
    for i in 0..iterations() {
        let pdf = out.join(format!("p{i}.pdf"));
        let bundle = out.join(format!("p{i}"));
        if run_and_kill(
            &home,
            &[
                "package",
                "SYS/OQ/run-000",
                "--out",
                pdf.to_str().unwrap(),
                "--bundle",
                bundle.to_str().unwrap(),
            ],
            points.next(span),
        ) {
            killed += 1;
        }
        check_home(&home, &format!("package, iteration {i}"));
        // A package that exists is whole: it verifies. (The bundle and the PDF are placed one
        // after the other: a kill between the two leaves the bundle, which verifies on its own.)
        for target in [&pdf, &bundle] {
            if target.exists() {
                let o = cli(&home, &["verify", target.to_str().unwrap()]);
                assert!(o.status.success(), "iteration {i}: {}", text(&o));
            }
        }
    }
    // The next package into the folder sweeps every partial a killed run left.
    let last = out.join("last.pdf");
    let o = cli(
        &home,
        &["package", "SYS/OQ/run-000", "--out", last.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let partials: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".countersign-partial-"))
        .collect();
    assert!(partials.is_empty(), "left behind: {partials:?}");
    eprintln!("package: {killed} of {} runs killed mid-way", iterations());
}

#[test]
fn restore_killed_anywhere_leaves_a_ledger_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    evidence_folder(&src, 5, 200);
    let home = dir.path().join("home");
    assert!(cli(&home, &["import", src.to_str().unwrap()])
        .status
        .success());
    let backup = dir.path().join("backup.sqlite");
    let o = cli(
        &home,
        &["ledger", "backup", "--out", backup.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let b = backup.to_str().unwrap();
    let t = Instant::now();
    assert!(cli(&home, &["ledger", "restore", b, "--replace"])
        .status
        .success());
    let span = t.elapsed() + Duration::from_millis(20);
    let mut points = Points::new("restore");
    let mut killed = 0;
    for i in 0..iterations() {
        if run_and_kill(
            &home,
            &["ledger", "restore", b, "--replace"],
            points.next(span),
        ) {
            killed += 1;
        }
        check_home(&home, &format!("restore, iteration {i}"));
    }
    eprintln!("restore: {killed} of {} runs killed mid-way", iterations());
}

/// A home holding one run with a failing case, and Alice's key enrolled to her MFA-backed
/// identity in the emulator (the enrollment is the only step that needs AWS; the acts killed
/// below need AWS only to authenticate the person). Returns the harness (keep it alive while
/// the acts run), Alice, the run, the failing case and Alice's key id.
async fn home_with_enrolled_key(
    dir: &Path,
    home: &Path,
) -> (Harness, TestUser, String, String, String) {
    let src = dir.join("src");
    let run = src.join("SYS/OQ/run-000");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("junit.xml"),
        r#"<testsuite name="s" tests="2" failures="1"><testcase classname="c" name="ok"/><testcase classname="c" name="bad"><failure message="out of range">value 12</failure></testcase></testsuite>"#,
    )
    .unwrap();
    assert!(cli(home, &["import", src.to_str().unwrap()])
        .status
        .success());
    let h = Harness::start().await.unwrap();
    let service = h.service(home).unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let (key, _) = h
        .enrolled_key(&service, &alice, "Alice Adams", "alice passphrase 1")
        .await
        .unwrap();
    let case = service
        .show("SYS/OQ/run-000")
        .unwrap()
        .run
        .cases_needing_disposition()
        .map(|c| c.id.clone())
        .next()
        .unwrap();
    // The command line opens the home next: the service lets go of it first.
    drop(service);
    (h, alice, "SYS/OQ/run-000".to_owned(), case, key.key_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn disposition_killed_anywhere_records_all_of_it_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let (h, alice, run, case, key) = home_with_enrolled_key(dir.path(), &home).await;
    // A disposition is authenticated as at signing: Alice's access key, the proxy whose STS
    // front checks MFA codes, her code and her passphrase from files.
    let no_files = dir.path().join("no-aws-files");
    let no_files = no_files.to_str().unwrap().to_owned();
    let env = [
        ("AWS_ACCESS_KEY_ID", alice.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", alice.secret_access_key.as_str()),
        ("AWS_CONFIG_FILE", no_files.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", no_files.as_str()),
    ];
    let secret = dir.path().join("passphrase");
    std::fs::write(&secret, "alice passphrase 1\n").unwrap();
    let code = dir.path().join("mfa-code");
    let endpoint = h.proxy.endpoint();
    let with_env = |a: &[&str]| {
        std::fs::write(&code, alice.current_code()).unwrap();
        Command::new(binary())
            .args(a)
            .env("COUNTERSIGN_HOME", &home)
            .env_remove("AWS_ENDPOINT_URL")
            .envs(env)
            .output()
            .unwrap()
    };
    let args = |n: usize| {
        vec![
            "--endpoint-url".to_owned(),
            endpoint.clone(),
            "--region".to_owned(),
            "us-east-1".to_owned(),
            "disposition".to_owned(),
            run.clone(),
            case.clone(),
            "--kind".to_owned(),
            if n.is_multiple_of(2) {
                "deviation"
            } else {
                "accepted"
            }
            .to_owned(),
            "--ref".to_owned(),
            format!("DEV-{n}"),
            "--reason".to_owned(),
            format!("assessed, iteration {n}"),
            "--key".to_owned(),
            key.clone(),
            "--passphrase-file".to_owned(),
            secret.to_str().unwrap().to_owned(),
            "--mfa-code-file".to_owned(),
            code.to_str().unwrap().to_owned(),
        ]
    };
    let first = args(1000);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let t = Instant::now();
    let o = with_env(&first);
    assert!(o.status.success(), "{}", text(&o));
    let span = t.elapsed() + Duration::from_millis(20);
    let mut points = Points::new("disposition");
    let mut killed = 0;
    for i in 0..iterations() {
        let a = args(i);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        std::fs::write(&code, alice.current_code()).unwrap();
        if run_and_kill_with(&home, &a, &env, points.next(span)) {
            killed += 1;
        }
        check_home(&home, &format!("disposition, iteration {i}"));
    }
    // The ledger's check of every disposition row against the entry that recorded it ran after
    // each kill (check_home); after them all, the case can still be dispositioned.
    let last = args(9999);
    let last: Vec<&str> = last.iter().map(String::as_str).collect();
    let o = with_env(&last);
    assert!(o.status.success(), "{}", text(&o));
    check_home(&home, "disposition after the kills");
    eprintln!(
        "disposition: {killed} of {} runs killed mid-way",
        iterations()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoint_killed_anywhere_leaves_a_ledger_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let (_h, _alice, _, _, key) = home_with_enrolled_key(dir.path(), &home).await;
    let secret = dir.path().join("passphrase");
    std::fs::write(&secret, "alice passphrase 1\n").unwrap();
    let args = [
        "ledger",
        "checkpoint",
        "--key",
        key.as_str(),
        "--passphrase-file",
        secret.to_str().unwrap(),
    ];
    let t = Instant::now();
    let o = cli(&home, &args);
    assert!(o.status.success(), "{}", text(&o));
    let span = t.elapsed() + Duration::from_millis(20);
    let mut points = Points::new("checkpoint");
    let mut killed = 0;
    for i in 0..iterations() {
        if run_and_kill(&home, &args, points.next(span)) {
            killed += 1;
        }
        check_home(&home, &format!("checkpoint, iteration {i}"));
    }
    // After every kill, a checkpoint can still be made and verified against.
    let o = cli(&home, &args);
    assert!(o.status.success(), "{}", text(&o));
    eprintln!(
        "checkpoint: {killed} of {} runs killed mid-way",
        iterations()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_killed_anywhere_keeps_the_home_consistent() {
    const BUCKET: &str = "qualification-evidence";
    let h = Harness::start().await.unwrap();
    h.demo_seeded(BUCKET).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let no_files = dir.path().join("no-aws-files");
    let no_files = no_files.to_str().unwrap();
    let endpoint = h.emulator.endpoint();
    let env = [
        ("AWS_ACCESS_KEY_ID", ADMIN_KEY),
        ("AWS_SECRET_ACCESS_KEY", ADMIN_KEY),
        ("AWS_CONFIG_FILE", no_files),
        ("AWS_SHARED_CREDENTIALS_FILE", no_files),
    ];
    let args = [
        "--endpoint-url",
        endpoint.as_str(),
        "--region",
        "us-east-1",
        "fetch",
        "--bucket",
        BUCKET,
    ];
    let fetch = |home: &Path| {
        Command::new(binary())
            .args(args)
            .env("COUNTERSIGN_HOME", home)
            .env_remove("AWS_ENDPOINT_URL")
            .envs(env)
            .output()
            .unwrap()
    };
    // How long an uninterrupted fetch takes, and what it finds.
    let timing = dir.path().join("timing");
    let t = Instant::now();
    let o = fetch(&timing);
    assert!(o.status.success(), "{}", text(&o));
    let span = t.elapsed() + Duration::from_millis(50);
    let runs_of = |home: &Path| {
        let o = cli(home, &["--json", "runs"]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let all = runs_of(&timing).as_array().unwrap().len();
    assert!(all > 0);
    let mut points = Points::new("fetch");
    let mut killed = 0;
    for i in 0..iterations() {
        // Each iteration kills a cold fetch into its own home, then resumes it there.
        let home = dir.path().join(format!("home-{i}"));
        if run_and_kill_with(&home, &args, &env, points.next(span)) {
            killed += 1;
        }
        // (A kill before the home was made leaves nothing to check.)
        if home.exists() {
            check_home(&home, &format!("fetch, iteration {i}"));
        }
        let o = fetch(&home);
        assert!(o.status.success(), "iteration {i}: {}", text(&o));
        check_home(&home, &format!("fetch resumed, iteration {i}"));
        assert_eq!(
            runs_of(&home).as_array().unwrap().len(),
            all,
            "iteration {i}"
        );
        std::fs::remove_dir_all(&home).unwrap();
    }
    eprintln!("fetch: {killed} of {} runs killed mid-way", iterations());
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_killed_anywhere_leaves_no_half_signature() {
    let n = iterations();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    evidence_folder(&src, n + 1, 3);
    let home = dir.path().join("home");
    assert!(cli(&home, &["import", src.to_str().unwrap()])
        .status
        .success());
    let h = Harness::start().await.unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let key = {
        let service = h.service(&home).unwrap();
        let (key, _) = h
            .enrolled_key(&service, &alice, "Alice Adams", "alice passphrase 1")
            .await
            .unwrap();
        key.key_id
    };
    // The signer's own access key and the proxy, whose STS front checks MFA codes.
    let no_files = dir.path().join("no-aws-files");
    let no_files = no_files.to_str().unwrap();
    let env = [
        ("AWS_ACCESS_KEY_ID", alice.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", alice.secret_access_key.as_str()),
        ("AWS_CONFIG_FILE", no_files),
        ("AWS_SHARED_CREDENTIALS_FILE", no_files),
    ];
    let secret = dir.path().join("passphrase");
    std::fs::write(&secret, "alice passphrase 1\n").unwrap();
    let code = dir.path().join("mfa-code");
    let endpoint = h.proxy.endpoint();
    let args = |run: &str| -> Vec<String> {
        [
            "--endpoint-url",
            endpoint.as_str(),
            "--region",
            "us-east-1",
            "sign",
            run,
            "--meaning",
            "authored",
            "--reason",
            "executed as written",
            "--key",
            key.as_str(),
            "--passphrase-file",
            secret.to_str().unwrap(),
            "--mfa-code-file",
            code.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let sign = |run: &str| {
        std::fs::write(&code, alice.current_code()).unwrap();
        Command::new(binary())
            .args(args(run))
            .env("COUNTERSIGN_HOME", &home)
            .env_remove("AWS_ENDPOINT_URL")
            .envs(env)
            .output()
            .unwrap()
    };
    // Every signature the run shows verifies, and there is at most one per act.
    let signatures = |run: &str| {
        let o = cli(&home, &["--json", "show", run]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let sigs = v["signatures"].as_array().cloned().unwrap_or_default();
        for s in &sigs {
            assert_eq!(s["outcome"], "valid", "{run}: {s}");
        }
        sigs.len()
    };
    let last = format!("SYS/OQ/run-{n:03}");
    let t = Instant::now();
    let o = sign(&last);
    assert!(o.status.success(), "{}", text(&o));
    let span = t.elapsed() + Duration::from_millis(20);
    assert_eq!(signatures(&last), 1);
    let mut points = Points::new("sign");
    let mut killed = 0;
    for i in 0..n {
        let run = format!("SYS/OQ/run-{i:03}");
        std::fs::write(&code, alice.current_code()).unwrap();
        let a = args(&run);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        if run_and_kill_with(&home, &a, &env, points.next(span)) {
            killed += 1;
        }
        check_home(&home, &format!("sign, iteration {i}"));
        let made = signatures(&run);
        assert!(made <= 1, "iteration {i}: {made} signatures");
        if made == 0 {
            // Killed before the signature was recorded: signing again goes through.
            let o = sign(&run);
            assert!(o.status.success(), "iteration {i}: {}", text(&o));
            assert_eq!(signatures(&run), 1, "iteration {i}");
        }
    }
    eprintln!("sign: {killed} of {n} runs killed mid-way");
}
