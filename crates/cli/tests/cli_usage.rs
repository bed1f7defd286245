//! The command-line contract: help exists everywhere, bad usage exits 2 with a hint, and errors
//! that need no network say what to do.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::process::{Command, Output};

fn countersign(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .env("COUNTERSIGN_HOME", home.path())
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

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["demo", "seed", "--help"],
        vec!["fetch", "--help"],
        vec!["runs", "--help"],
        vec!["show", "--help"],
        vec!["audit-evidence", "--help"],
        vec!["ledger", "--help"],
        vec!["ledger", "verify", "--help"],
        vec!["package", "--help"],
        vec!["verify", "--help"],
        vec!["ledger", "export", "--help"],
        vec!["disposition", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "init", "--help"],
        vec!["keys", "enroll", "--help"],
        vec!["keys", "revoke", "--help"],
        vec!["keys", "export", "--help"],
        vec!["sign", "--help"],
    ] {
        let o = countersign(&args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("Usage: countersign"),
            "{args:?}: {}",
            text(&o)
        );
    }
}

#[test]
fn unknown_command_exits_2_with_a_hint() {
    let o = countersign(&["fecth"]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("unrecognized subcommand 'fecth'"), "{t}");
    assert!(t.contains("fetch"), "no suggestion in: {t}");
}

#[test]
fn show_of_an_unknown_run_exits_2_and_says_what_to_do() {
    let o = countersign(&["show", "LIMS/IQ/nope"]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("no run \"LIMS/IQ/nope\""), "{t}");
    assert!(t.contains("fetch or import first"), "{t}");
}

#[test]
fn empty_store_lists_no_runs_and_json_is_an_empty_array() {
    let o = countersign(&["runs"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no runs in the store"));
    let o = countersign(&["runs", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, serde_json::json!([]));
}

#[test]
fn bad_concurrency_is_bad_input() {
    let o = countersign(&[
        "fetch",
        "--bucket",
        "qual-bucket",
        "--concurrency",
        "0",
        "--region",
        "us-east-1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--concurrency must be between 1 and 64"));
}

#[test]
fn a_fresh_ledger_verifies() {
    let o = countersign(&["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ledger verifies"), "{}", text(&o));
}

#[test]
fn audit_evidence_without_digests_exits_1_and_an_unreadable_key_file_exits_2() {
    let o = countersign(&["audit-evidence", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], serde_json::json!(false));
    assert!(text(&o).contains("no CloudTrail digest files in the store"));
    let o = countersign(&["audit-evidence", "--public-key", "/nonexistent/trail.pem"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("/nonexistent/trail.pem"), "{}", text(&o));
}

fn countersign_in(home: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn secrets_never_come_from_argv() {
    let help = text(&countersign(&["sign", "--help"]));
    assert!(help.contains("--passphrase-file"), "{help}");
    assert!(!help.contains("--passphrase "), "{help}");
    assert!(!help.contains("--mfa-code "), "{help}");
    for args in [
        vec![
            "sign",
            "R",
            "--meaning",
            "reviewed",
            "--reason",
            "r",
            "--passphrase",
            "x",
        ],
        vec![
            "sign",
            "R",
            "--meaning",
            "reviewed",
            "--reason",
            "r",
            "--mfa-code",
            "123456",
        ],
        vec!["keys", "init", "--name", "N", "--passphrase", "x"],
    ] {
        let o = countersign(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let o = countersign(&["sign", "R", "--meaning", "signed", "--reason", "r"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("Authored, Reviewed, Approved or Rejected"),
        "{}",
        text(&o)
    );

    // Both secrets from standard input cannot work: refused by every signing command before
    // anything is looked up.
    for args in [
        vec!["sign", "R", "--meaning", "reviewed", "--reason", "r"],
        vec!["ledger", "review", "--up-to", "1", "--reason", "r"],
        vec!["assess", "LIMS", "ab", "--impact", "none", "--reason", "r"],
    ] {
        let mut args = args;
        args.extend(["--passphrase-file", "-", "--mfa-code-file", "-"]);
        let o = countersign(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("cannot both be standard input"),
            "{args:?}: {}",
            text(&o)
        );
    }
}

#[test]
fn keys_init_from_stdin_then_export_and_sign_without_enrollment_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let o = countersign_in(
        home.path(),
        &[
            "keys",
            "init",
            "--name",
            "Dana Whitfield",
            "--passphrase-file",
            "-",
        ],
        "correct horse battery\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("correct horse"), "{}", text(&o));
    let o = countersign_in(home.path(), &["keys", "export"], "");
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("-----BEGIN PUBLIC KEY-----"), "{t}");
    assert!(t.contains("Dana Whitfield"), "{t}");
    // A second key for the same person is refused (exit 1).
    let o = countersign_in(
        home.path(),
        &[
            "keys",
            "init",
            "--name",
            "Dana Whitfield",
            "--passphrase-file",
            "-",
        ],
        "another passphrase\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Not enrolled: nothing to sign with, before any secret is asked for.
    let o = countersign_in(
        home.path(),
        &[
            "sign",
            "LIMS/OQ/r",
            "--meaning",
            "reviewed",
            "--reason",
            "r",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no usable key"), "{}", text(&o));
    assert!(!text(&o).contains("passphrase:"), "{}", text(&o));
}

#[test]
fn a_disposition_without_an_enrolled_key_or_of_an_unknown_kind_is_refused() {
    let o = countersign(&[
        "disposition",
        "LIMS/OQ/r",
        "case",
        "--kind",
        "waived",
        "--ref",
        "D-1",
        "--reason",
        "r",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = countersign(&[
        "disposition",
        "LIMS/OQ/r",
        "case",
        "--kind",
        "deviation",
        "--ref",
        "D-1",
        "--reason",
        "r",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("keys init"), "{}", text(&o));
}

#[test]
fn runs_into_a_closed_pipe_exits_cleanly() {
    use std::io::Read;
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["runs"])
        .env("COUNTERSIGN_HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

fn golden(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden/package-v1")
        .join(name)
}

#[test]
fn verify_needs_no_home_and_says_what_is_wrong() {
    let pdf = golden("example.pdf");
    let o = countersign(&["verify", pdf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("VERIFIED"), "{}", text(&o));
    // The verdict says what it does not prove: no trusted list was given, and the pages carry
    // no signature of their own.
    assert!(
        text(&o).contains("What this does not prove:"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("not checked against a trusted list"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("carry no signature"), "{}", text(&o));

    let o = countersign(&["--json", "verify", golden("bundle").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(
        v["limits"],
        serde_json::json!([
            "keys_not_checked",
            "package_not_approved",
            "document_not_signed"
        ])
    );

    let o = countersign(&["verify", "/nonexistent/package.pdf"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("does not exist"), "{}", text(&o));

    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.txt");
    std::fs::write(&keys, "# trusted\nnot-a-key\n").unwrap();
    let o = countersign(&[
        "verify",
        pdf.to_str().unwrap(),
        "--trusted-keys",
        keys.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("line 2"), "{}", text(&o));

    let o = countersign(&["package", "--out", "x.pdf"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a package needs runs: {}",
        text(&o)
    );
}

/// A secret file is a line: `/dev/zero` (or standard input from it) is refused after a few
/// kilobytes, exit 2, instead of being read until memory runs out.
#[test]
fn an_endless_secret_file_is_refused_not_read_on() {
    let o = countersign(&[
        "keys",
        "init",
        "--name",
        "Dana Whitfield",
        "--passphrase-file",
        "/dev/zero",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("/dev/zero holds more than 4096 bytes"),
        "{}",
        text(&o)
    );
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args([
            "keys",
            "init",
            "--name",
            "Dana Whitfield",
            "--passphrase-file",
            "-",
        ])
        .env("COUNTERSIGN_HOME", home.path())
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("standard input holds more than 4096 bytes"),
        "{}",
        text(&o)
    );
}

#[test]
fn show_prints_a_stored_file_re_verified_and_a_changed_one_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let run = src.path().join("LIMS/IQ/r1");
    std::fs::create_dir_all(run.join("logs")).unwrap();
    std::fs::write(
        run.join("report.xml"),
        r#"<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(run.join("logs/run.log"), "line one\n\u{1b}[2Kline two\n").unwrap();
    let imported = countersign_in(home.path(), &["import", src.path().to_str().unwrap()], "");
    assert!(imported.status.success(), "{}", text(&imported));

    // A run without run.json does not say what was executed, by whom, or when: show says so.
    let o = countersign_in(home.path(), &["show", "LIMS/IQ/r1"], "");
    assert!(o.status.success(), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout);
    for missing in ["no protocol", "no executor", "no execution time"] {
        assert!(shown.contains(&format!("Warning    {missing}")), "{shown}");
    }

    // Piped: the bytes as stored.
    let o = countersign_in(
        home.path(),
        &["show", "LIMS/IQ/r1", "--file", "logs/run.log"],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"line one\n\x1b[2Kline two\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("sha256 "));
    let o = countersign_in(
        home.path(),
        &["show", "LIMS/IQ/r1", "--file", "no/such.log"],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // The stored blob changed on disk: the file no longer verifies.
    let blobs = home.path().join("store/objects/sha256");
    let sha = sha256_hex(b"line one\n\x1b[2Kline two\n");
    let blob = blobs.join(&sha[..2]).join(&sha);
    let mut perms = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blob, perms).unwrap();
    std::fs::write(&blob, b"tampered").unwrap();
    let o = countersign_in(
        home.path(),
        &["show", "LIMS/IQ/r1", "--file", "logs/run.log"],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("does not verify"), "{}", text(&o));
}

fn sha256_hex(bytes: &[u8]) -> String {
    countersign_core::digest::Sha256::of(bytes).to_hex()
}

#[test]
fn a_bucket_or_location_is_refused_by_the_rule_it_breaks() {
    for (args, says) in [
        (vec!["fetch", "--bucket", "b"], "3 to 63 characters"),
        (
            vec!["fetch", "--bucket", "Qual_Bucket"],
            "lowercase letters",
        ),
        (
            vec!["fetch", "--bucket", "qual-bucket", "--prefix", "a//b"],
            "empty segment",
        ),
        (
            vec!["signoff", "publish", "R", "--to", "qual-bucket/x"],
            "s3://BUCKET/PREFIX",
        ),
    ] {
        let o = countersign(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
}

#[test]
fn a_state_export_needs_both_flags_and_never_overwrites() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(args)
            .env("COUNTERSIGN_HOME", home.path())
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap()
    };
    // Each flag without the other is a usage error.
    let o = run(&["state", "--csv", "changes"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--out"), "{}", text(&o));
    let out = home.path().join("changes.csv");
    let o = run(&["state", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--csv"), "{}", text(&o));

    // A home without runs exports the header alone.
    let o = run(&["state", "--csv", "changes", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("wrote 0 rows"), "{}", text(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.starts_with("\"system\",\"change_id\",\"kind\"") && written.ends_with("\r\n"),
        "{written}"
    );
    assert_eq!(written.matches("\r\n").count(), 1, "{written}");

    // The same file again, or a file in a folder that does not exist: refused, nothing written.
    let o = run(&["state", "--csv", "events", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
    let lost = home.path().join("no-such-folder").join("events.csv");
    let o = run(&["state", "--csv", "events", "--out", lost.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!lost.exists());
}
