//! Untrusted names on the terminal: control characters, carriage returns and bidi overrides in
//! file names, run ids, case names and messages are shown escaped (`\u{1b}`, `\u{d}`,
//! `\u{202e}`) by every printer, in text and in JSON, on stdout and stderr.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::Path;
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

/// Nothing that moves the cursor, erases, returns the carriage or reorders text reaches the
/// terminal; only text, line breaks and (in JSON) indentation spaces.
fn assert_inert(what: &str, o: &Output) {
    let text = both(o);
    for c in text.chars() {
        assert!(
            c == '\n' || !countersign_core::display::is_unsafe(c),
            "{what}: raw {c:?} reached the terminal:\n{text}"
        );
    }
}

fn write(dir: &Path, rel: &str, body: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

const RUN: &str = "SYS/OQ/r\u{202e}1";

/// A folder with a failing JUnit case whose name ends in a carriage return and "PASSED", a
/// failure message that turns the line around (XML cannot carry an escape character), a Cucumber scenario named with an escape, and
/// a file whose name would erase the import summary's REJECTED line.
fn hostile_folder(dir: &Path) {
    write(
        dir,
        &format!("{RUN}/results/junit.xml"),
        br#"<testsuite name="oq" tests="1" failures="1"><testcase name="critical_check&#13;  PASSED"><failure message="boom&#13;&#x202E;gnissap"/></testcase></testsuite>"#,
    );
    write(
        dir,
        &format!("{RUN}/results/cucumber.json"),
        "[{\"name\":\"F\\u001b[31m\",\"elements\":[{\"name\":\"S\\u001b[2K\",\"steps\":[{\"keyword\":\"Then \",\"name\":\"x\",\"result\":{\"status\":\"failed\",\"error_message\":\"bad\\r\\u202eevil\"}}]}]}]".as_bytes(),
    );
    write(
        dir,
        &format!("{RUN}/evidence/\u{1b}[1A\u{1b}[2Kshot.png"),
        b"png",
    );
}

#[test]
fn every_printer_escapes_untrusted_names() {
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    hostile_folder(src.path());

    let o = countersign(home.path(), &["import", src.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", both(&o));
    assert_inert("import", &o);
    let out = both(&o);
    assert!(
        out.contains("skipped  SYS/OQ/r\\u{202e}1/evidence/\\u{1b}[1A\\u{1b}[2Kshot.png"),
        "{out}"
    );

    let o = countersign(home.path(), &["runs"]);
    assert_inert("runs", &o);
    assert!(both(&o).contains("SYS/OQ/r\\u{202e}1"), "{}", both(&o));
    assert!(both(&o).contains("failed"), "{}", both(&o));

    let o = countersign(home.path(), &["show", RUN]);
    assert!(o.status.success(), "{}", both(&o));
    assert_inert("show", &o);
    let out = both(&o);
    assert!(
        out.contains("FAILED   results/junit.xml#oq::critical_check\\u{d}  PASSED"),
        "{out}"
    );
    assert!(out.contains("boom\\u{d}\\u{202e}gnissap"), "{out}");
    assert!(out.contains("F\\u{1b}[31m::S\\u{1b}[2K"), "{out}");
    assert!(out.contains("bad\\u{d}\\u{202e}evil"), "{out}");

    for args in [vec!["--json", "runs"], vec!["--json", "show", RUN]] {
        let o = countersign(home.path(), &args);
        assert!(o.status.success(), "{args:?}: {}", both(&o));
        assert_inert(&format!("{args:?}"), &o);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        // The JSON still means the original strings: only their spelling is escaped.
        let text = v.to_string();
        assert!(text.contains(RUN), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("\\u202e"));
    }

    // An error naming untrusted input.
    let o = countersign(home.path(), &["show", "no\u{1b}[2Ksuch\r\u{202e}run"]);
    assert!(!o.status.success());
    assert_inert("error", &o);
    // The message quotes the name (Rust's `{:?}` already escapes it); the printer escapes the
    // message once more, so its backslashes are doubled: still unambiguous, still inert.
    assert!(
        both(&o).contains("no\\\\u{1b}[2Ksuch\\\\r\\\\u{202e}run"),
        "{}",
        both(&o)
    );

    // The package and its verification print names from the package file.
    let pdf = home.path().join("p.pdf");
    let o = countersign(
        home.path(),
        &["package", RUN, "--out", pdf.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", both(&o));
    assert_inert("package", &o);
    assert!(both(&o).contains("SYS/OQ/r\\u{202e}1"), "{}", both(&o));
    let o = countersign(home.path(), &["verify", pdf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", both(&o));
    assert_inert("verify", &o);

    let o = countersign(home.path(), &["ledger", "verify"]);
    assert!(o.status.success(), "{}", both(&o));
    assert_inert("ledger verify", &o);
}
