//! The `ledger` commands' contract without a network: backup and restore, export filters,
//! verify against a folder of checkpoints, and checkpoint refusals before any secret is read.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
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

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn every_ledger_command_has_help_and_secrets_never_come_from_argv() {
    let home = tempfile::tempdir().unwrap();
    for cmd in [
        "verify",
        "export",
        "checkpoint",
        "review",
        "backup",
        "restore",
    ] {
        let o = run(home.path(), &["ledger", cmd, "--help"]);
        assert!(o.status.success(), "{cmd}: {}", text(&o));
    }
    for help in [
        text(&run(home.path(), &["ledger", "checkpoint", "--help"])),
        text(&run(home.path(), &["ledger", "review", "--help"])),
    ] {
        assert!(help.contains("--passphrase-file"), "{help}");
        assert!(!help.contains("--passphrase "), "{help}");
    }
    let o = run(
        home.path(),
        &["ledger", "checkpoint", "--passphrase", "secret value"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn backup_restore_and_filtered_export_keep_their_contract() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("ledger-copy.sqlite");
    let o = run(home.path(), &["ledger", "backup", "--out", p(&copy)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the copy verifies"), "{}", text(&o));
    // Never over an existing file.
    let o = run(home.path(), &["ledger", "backup", "--out", p(&copy)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));

    // Filters: only the backup entry; a bad time is bad input.
    let csv = out.path().join("backups.csv");
    let o = run(
        home.path(),
        &[
            "ledger",
            "export",
            "--format",
            "csv",
            "--out",
            p(&csv),
            "--action",
            "ledger.backed_up",
            "--actor",
            "system",
            "--since",
            "2000-01-01",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let body = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(body.lines().count(), 2, "{body}");
    assert!(body.contains("ledger.backed_up"), "{body}");
    // A part of the action in another case finds nothing exactly, the same entry with --contains.
    for (contains, rows) in [(false, 1), (true, 2)] {
        let f = out.path().join(format!("part-{contains}.csv"));
        let mut args = vec![
            "ledger",
            "export",
            "--format",
            "csv",
            "--out",
            p(&f),
            "--action",
            "BACKED",
        ];
        if contains {
            args.push("--contains");
        }
        let o = run(home.path(), &args);
        assert!(o.status.success(), "{}", text(&o));
        let body = std::fs::read_to_string(&f).unwrap();
        assert_eq!(body.lines().count(), rows, "--contains {contains}: {body}");
    }
    let o = run(
        home.path(),
        &[
            "ledger",
            "export",
            "--format",
            "json",
            "--out",
            p(&out.path().join("x.json")),
            "--until",
            "last tuesday",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--until"), "{}", text(&o));

    // The ledger in place is in use: restore needs --replace (exit 1 without it).
    let o = run(home.path(), &["ledger", "restore", p(&copy)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("replace"), "{}", text(&o));
    let o = run(
        home.path(),
        &["--json", "ledger", "restore", p(&copy), "--replace"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let aside = report["set_aside"].as_str().unwrap();
    assert!(Path::new(aside).exists(), "{report}");
    let o = run(home.path(), &["ledger", "verify"]);
    assert!(o.status.success(), "{}", text(&o));

    // A file that is not a ledger is refused as a backup (exit 1: it does not verify).
    let junk = out.path().join("junk.sqlite");
    std::fs::write(&junk, "not a database").unwrap();
    let o = run(home.path(), &["ledger", "restore", p(&junk), "--replace"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run(
        home.path(),
        &["ledger", "restore", p(&out.path().join("nope"))],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn checkpoints_are_refused_before_any_secret_and_verify_needs_a_real_location() {
    let home = tempfile::tempdir().unwrap();
    // Bad locations and a missing retention: exit 2, no passphrase prompt.
    for (args, says) in [
        (vec!["--publish", "bucket/prefix"], "s3://BUCKET/PREFIX"),
        (
            vec!["--publish", "s3://ok-bucket/../up"],
            "prefix \"../up\" is not usable",
        ),
        (vec!["--publish", "s3://ok-bucket/p"], "--retention-days"),
    ] {
        let mut all = vec!["ledger", "checkpoint"];
        all.extend(args);
        let o = run(home.path(), &all);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{all:?}: {}", text(&o));
        assert!(!text(&o).contains("passphrase:"), "{}", text(&o));
    }
    // No key at all.
    let o = run(home.path(), &["ledger", "checkpoint"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no usable key"), "{}", text(&o));

    // Verify: the two sources exclude each other; an empty folder is named.
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        home.path(),
        &[
            "ledger",
            "verify",
            "--checkpoints",
            "s3://b-1/p",
            "--checkpoint-dir",
            p(dir.path()),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(
        home.path(),
        &["ledger", "verify", "--checkpoint-dir", p(dir.path())],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no published checkpoints"),
        "{}",
        text(&o)
    );
    // A checkpoint by a key this ledger never enrolled is reported, not trusted (exit 1).
    std::fs::write(
        dir.path().join("stranger.json"),
        r#"{"format":"countersign-ledger-checkpoint/v1","seq":1,
            "head_hash":"0000000000000000000000000000000000000000000000000000000000000000",
            "time_utc":"2026-03-01T10:00:00.000Z",
            "public_key":"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "signature":"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}"#,
    )
    .unwrap();
    let o = run(
        home.path(),
        &["ledger", "verify", "--checkpoint-dir", p(dir.path())],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("NOT TRUSTED"), "{}", text(&o));
}

/// `ledger verify --evidence` re-hashes every stored object: all match after an import; a
/// changed and a removed object are each named, and the command exits 1.
#[test]
fn verify_with_evidence_rehashes_every_stored_object_and_names_the_bad_ones() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let run_dir = src.path().join("SYS/OQ/r1");
    std::fs::create_dir_all(run_dir.join("evidence")).unwrap();
    std::fs::write(
        run_dir.join("junit.xml"),
        r#"<testsuite name="s"><testcase classname="c" name="t"/></testsuite>"#,
    )
    .unwrap();
    for i in 0..3 {
        std::fs::write(
            run_dir.join(format!("evidence/e{i}.log")),
            format!("log {i}\n"),
        )
        .unwrap();
    }
    let o = run(home.path(), &["import", p(src.path())]);
    assert!(o.status.success(), "{}", text(&o));

    let o = run(home.path(), &["ledger", "verify", "--evidence"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("evidence verifies: 4 stored objects"),
        "{}",
        text(&o)
    );
    let o = run(home.path(), &["--json", "ledger", "verify", "--evidence"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["evidence"]["objects"], 4, "{v}");
    assert!(v["chain"]["problem"].is_null(), "{v}");

    let blobs: Vec<std::path::PathBuf> = walk(&home.path().join("store/objects"));
    assert_eq!(blobs.len(), 4);
    let mut perms = std::fs::metadata(&blobs[0]).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blobs[0], perms).unwrap();
    std::fs::write(&blobs[0], "changed").unwrap();
    std::fs::remove_file(&blobs[1]).unwrap();
    let o = run(home.path(), &["ledger", "verify", "--evidence"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("2 of 4 stored objects failed"), "{out}");
    assert!(out.contains("has changed since it was stored"), "{out}");
    assert!(out.contains("is missing"), "{out}");
    // The chain itself still verifies, and says so.
    assert!(out.contains("ledger verifies"), "{out}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}
