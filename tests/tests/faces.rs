//! Both faces, one behaviour: every use case of the command line has its command in the app,
//! and every command of the app serves a use case of the command line, except where this table
//! says why one face alone has it. The command line is read from its own help (the binary as
//! built), the app's commands from its handler list; a use case added to one face and not the
//! other fails here until the other face has it or the table says why not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use countersign_tests::binaries::build_cli;
use countersign_tests::emulator::project_root;

/// Each command-line use case and the app commands that serve it.
const BOTH: &[(&str, &[&str])] = &[
    ("fetch", &["fetch", "cancel_fetch"]),
    ("import", &["import_runs"]),
    ("runs", &["list_runs"]),
    (
        "show",
        &[
            "show_run",
            "open_run",
            "run_cases",
            "run_traceability",
            "open_file",
            "run_dispositions",
            "run_signatures",
        ],
    ),
    ("audit-evidence", &["audit_evidence"]),
    ("state", &["qualified_state", "export_state"]),
    ("assess", &["assess_check", "assess_change"]),
    (
        "state review",
        &["periodic_review_check", "periodic_review"],
    ),
    ("state report", &["review_report"]),
    ("disposition", &["disposition_check", "record_disposition"]),
    ("keys init", &["create_key"]),
    ("keys enroll", &["enroll_key", "enroll_key_signed_in"]),
    (
        "keys revoke",
        &["revoke_key", "admin_revoke_check", "admin_revoke"],
    ),
    ("keys export", &["export_key", "save_public_key"]),
    ("keys list", &["list_keys"]),
    (
        "sign",
        &["sign_check", "sign", "signing_session", "lock_session"],
    ),
    ("reopen", &["reopen_check", "reopen"]),
    ("todo", &["todo"]),
    ("signoff publish", &["publish_signoff"]),
    ("signoff fetch", &["fetch_signoff"]),
    ("package", &["build_package", "cancel_package"]),
    ("package publish", &["publish_package"]),
    ("package sign", &["package_sign_check", "package_sign"]),
    ("package list", &["list_packages"]),
    ("verify", &["verify_package", "verify_published_package"]),
    (
        "ledger verify",
        &["audit_verify", "verify_ledger_published"],
    ),
    ("ledger export", &["audit_export", "audit_events"]),
    ("ledger checkpoint", &["checkpoint_ledger"]),
    (
        "ledger review",
        &["review_check", "review_audit_trail", "audit_reviews"],
    ),
    ("ledger backup", &["backup_ledger"]),
    ("ledger restore", &["restore_ledger"]),
];

/// Command-line use cases the app does not have, and why.
const CLI_ONLY: &[(&str, &str)] = &[
    (
        "demo seed",
        "uploads the demo dataset to an emulator or sandbox account; the app opens on a seeded demo through its start-up configuration (scripts/demo.sh)",
    ),
    (
        "ledger publish",
        "appends the audit trail to the organisation's Object Lock bucket for Athena queries; meant to run unattended on a schedule (cron or a systemd timer on each desktop), so the window has no screen for it",
    ),
    (
        "ledger start-over",
        "starts a new ledger, with a recorded reason, after the old file was lost; an administrator's recovery step, deliberately kept out of the reviewers' window (docs/robustness.md)",
    ),
];

/// App commands with no command-line counterpart, and why.
const APP_ONLY: &[(&str, &str)] = &[
    (
        "app_info",
        "the window's own facts (home, version, demo connection), which the command line takes from its arguments",
    ),
    (
        "sign_in_method",
        "shows the MFA code field or the IAM Identity Center sign-in for the chosen AWS profile; the command line asks the profile itself before it prompts",
    ),
    (
        "start_sign_in",
        "starts the IAM Identity Center sign-in ahead of the signing, so the window can show its page and code; the command line starts it and prints both before it asks for the passphrase",
    ),
    (
        "open_sign_in_page",
        "opens the sign-in page in the desktop's browser; the command line prints its address",
    ),
    (
        "profile_mfa_device",
        "prefills the enrollment form with the MFA device the AWS profile names; the command line reads that device itself when none is given",
    ),
    (
        "open_written",
        "opens a file the window wrote (a package) in the desktop's viewer; the command line prints its path",
    ),
    (
        "reveal_written",
        "shows a file the window wrote in the desktop's file manager; the command line prints its path",
    ),
];

/// The leaf subcommands of `countersign`, read from its help (`keys init`, `ledger verify`, …).
fn cli_commands(bin: &Path, path: &[&str]) -> Vec<String> {
    let out = Command::new(bin).args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "{path:?}");
    let help = String::from_utf8(out.stdout).unwrap();
    let Some(section) = help.split("Commands:\n").nth(1) else {
        return vec![path.join(" ")];
    };
    let mut leaves = Vec::new();
    // A command usable on its own as well as through its subcommands (`state [SYSTEM]` and
    // `state review …`) has a second usage line: it is a use case too.
    if help.contains("\n       countersign ") {
        leaves.push(path.join(" "));
    }
    for line in section.lines() {
        if line.trim().is_empty() {
            break;
        }
        let Some(name) = line
            .strip_prefix("  ")
            .and_then(|l| l.split_whitespace().next())
        else {
            continue;
        };
        if line.starts_with("   ") || name == "help" {
            continue;
        }
        let mut sub = path.to_vec();
        sub.push(name);
        leaves.extend(cli_commands(bin, &sub));
    }
    leaves
}

/// The app's commands, from its handler list.
fn app_commands() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(project_root().join("src-tauri/src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("commands::"))
        .map(|c| c.trim_end_matches(',').to_owned())
        .collect()
}

#[test]
fn every_use_case_is_on_both_faces_or_the_table_says_why_not() {
    let cli: BTreeSet<String> = cli_commands(&build_cli().unwrap(), &[])
        .into_iter()
        .collect();
    let app = app_commands();
    assert!(cli.len() > 15 && app.len() > 20, "{cli:?} {app:?}");

    let mapped_cli: BTreeSet<String> = BOTH
        .iter()
        .map(|(c, _)| c.to_string())
        .chain(CLI_ONLY.iter().map(|(c, _)| c.to_string()))
        .collect();
    assert_eq!(
        cli, mapped_cli,
        "command-line use cases vs this table (add the app command, or say why not)"
    );
    let mapped_app: BTreeSet<String> = BOTH
        .iter()
        .flat_map(|(_, a)| a.iter().map(|c| c.to_string()))
        .chain(APP_ONLY.iter().map(|(c, _)| c.to_string()))
        .collect();
    assert_eq!(
        app, mapped_app,
        "app commands vs this table (add the command-line use case, or say why not)"
    );
}
