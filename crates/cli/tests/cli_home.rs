//! The home directory: created private whatever the umask, leftovers of a killed writer cleared
//! on the next start, a read-only copy readable and verifiable, a lost ledger never silently
//! replaced over the evidence it listed.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn countersign(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap()
}

fn both(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A home holding one imported run.
fn home_with_a_run(dir: &Path) -> PathBuf {
    let src = dir.join("src/LIMS/OQ/r1/results");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("junit.xml"),
        br#"<testsuite tests="1"><testcase name="a"/></testsuite>"#,
    )
    .unwrap();
    let home = dir.join("home");
    let o = countersign(&home, &["import", dir.join("src").to_str().unwrap()]);
    assert!(o.status.success(), "{}", both(&o));
    home
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_home_and_its_key_folder_are_private_under_any_umask() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("new/home");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let script = format!(
        "umask 000 && exec \"$0\" keys init --name 'Dana Whitfield' --passphrase-file '{}'",
        pass.display()
    );
    let o = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_countersign")])
        .env("COUNTERSIGN_HOME", &home)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", both(&o));
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    assert_eq!(mode(&home.join("keys")), 0o700);
    let key = std::fs::read_dir(home.join("keys"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn what_a_killed_writer_left_in_the_store_is_cleared_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_with_a_run(dir.path());
    let tmp = home.join("store/tmp");
    std::fs::write(tmp.join("4242-7-1.part"), b"half a report").unwrap();
    let o = countersign(&home, &["runs"]);
    assert!(o.status.success(), "{}", both(&o));
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// `chattr +i` makes a path read-only even for root; removed again on drop.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: &[PathBuf]) -> Self {
        let ok = Command::new("chattr")
            .arg("+i")
            .args(paths)
            .status()
            .expect("chattr (e2fsprogs) makes a copy read-only, even for root");
        assert!(ok.success(), "chattr +i failed");
        Self(paths.to_vec())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

#[test]
fn a_read_only_copy_of_a_home_is_listed_shown_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_with_a_run(dir.path());
    let _ = std::fs::remove_file(home.join("ledger.sqlite.lock"));
    let ledger = home.join("ledger.sqlite");
    let mut perms = std::fs::metadata(&ledger).unwrap().permissions();
    perms.set_mode(0o444);
    std::fs::set_permissions(&ledger, perms).unwrap();
    let _ro = Immutable::set(&[ledger.clone(), home.join("store/tmp"), home.clone()]);

    for args in [
        vec!["runs"],
        vec!["show", "LIMS/OQ/r1"],
        vec!["ledger", "verify"],
        vec!["--json", "runs"],
    ] {
        let o = countersign(&home, &args);
        assert!(o.status.success(), "{args:?}: {}", both(&o));
    }
    assert!(both(&countersign(&home, &["runs"])).contains("LIMS/OQ/r1"));
    assert!(both(&countersign(&home, &["ledger", "verify"])).contains("ledger verifies"));
    // Writing is still refused, clearly.
    let o = countersign(&home, &["import", dir.path().join("src").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let text = both(&o);
    assert!(
        text.contains("cannot be written") || text.contains("must exist and be writable"),
        "{text}"
    );
}

#[test]
fn a_lost_ledger_is_not_replaced_silently_over_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_with_a_run(dir.path());
    let backup = dir.path().join("backup.sqlite");
    let o = countersign(
        &home,
        &["ledger", "backup", "--out", backup.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", both(&o));
    let ledger = home.join("ledger.sqlite");

    // Deleted, then emptied: refused, saying how to restore, and nothing is created.
    std::fs::remove_file(&ledger).unwrap();
    for lost in ["deleted", "emptied"] {
        let o = countersign(&home, &["runs"]);
        assert_eq!(o.status.code(), Some(1), "{lost}: {}", both(&o));
        let text = both(&o);
        assert!(text.contains("holds 1 object(s) but the ledger"), "{text}");
        assert!(text.contains("countersign ledger restore BACKUP"), "{text}");
        assert!(
            text.contains("countersign ledger start-over --reason"),
            "{text}"
        );
        if lost == "deleted" {
            assert!(!ledger.exists());
            std::fs::write(&ledger, b"").unwrap();
        } else {
            assert_eq!(std::fs::metadata(&ledger).unwrap().len(), 0);
        }
    }

    // Restoring the backup brings the run back.
    std::fs::remove_file(&ledger).unwrap();
    let o = countersign(&home, &["ledger", "restore", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", both(&o));
    assert!(both(&countersign(&home, &["runs"])).contains("LIMS/OQ/r1"));

    // Or, without a backup, the explicit decision, recorded with its reason.
    std::fs::write(&ledger, b"").unwrap();
    let o = countersign(&home, &["ledger", "start-over"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a reason is required: {}",
        both(&o)
    );
    let o = countersign(
        &home,
        &[
            "ledger",
            "start-over",
            "--reason",
            "disk failure; no backup",
        ],
    );
    assert!(o.status.success(), "{}", both(&o));
    let export = dir.path().join("trail.json");
    let o = countersign(
        &home,
        &[
            "ledger",
            "export",
            "--format",
            "json",
            "--out",
            export.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", both(&o));
    let trail = std::fs::read_to_string(&export).unwrap();
    assert!(trail.contains("ledger.started_over"), "{trail}");
    assert!(trail.contains("disk failure; no backup"), "{trail}");
    assert!(trail.contains("store_objects"), "{trail}");
    // Only once: with a ledger in place, starting over is refused.
    let o = countersign(&home, &["ledger", "start-over", "--reason", "again"]);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
}
