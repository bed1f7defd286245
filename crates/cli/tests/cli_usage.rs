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
        vec!["ledger", "export", "--help"],
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
        "b",
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
