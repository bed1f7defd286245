//! Generates the Tauri context and the app's access-control manifest.
//!
//! Listing the app commands here makes Tauri generate an `allow-<command>` permission for each
//! and switches the app to "deny unless granted": a command not granted by a capability file in
//! `capabilities/` cannot be called from the window, even a local one.

/// Every `#[tauri::command]` of the app. Keep in step with `generate_handler!` in `src/lib.rs`
/// and with `capabilities/main.json`.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_runs",
    "show_run",
    "open_run",
    "run_cases",
    "run_traceability",
    "open_file",
    "fetch",
    "import_runs",
    "cancel_fetch",
    "build_package",
    "cancel_package",
    "verify_package",
    "verify_published_package",
    "publish_package",
    "list_packages",
    "package_sign_check",
    "package_sign",
    "audit_events",
    "audit_verify",
    "audit_export",
    "audit_reviews",
    "review_check",
    "review_audit_trail",
    "backup_ledger",
    "list_keys",
    "create_key",
    "enroll_key",
    "profile_mfa_device",
    "enroll_key_signed_in",
    "sign_in_method",
    "start_sign_in",
    "open_sign_in_page",
    "export_key",
    "save_public_key",
    "open_written",
    "reveal_written",
    "revoke_key",
    "admin_revoke_check",
    "admin_revoke",
    "disposition_check",
    "record_disposition",
    "run_dispositions",
    "run_signatures",
    "sign_check",
    "sign",
    "todo",
    "reopen_check",
    "reopen",
    "signing_session",
    "lock_session",
    "audit_evidence",
    "qualified_state",
    "export_state",
    "assess_check",
    "assess_change",
    "periodic_review_check",
    "periodic_review",
    "review_report",
    "publish_signoff",
    "fetch_signoff",
    "checkpoint_ledger",
    "verify_ledger_published",
    "restore_ledger",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("countersign-app build script: {error:#}");
        std::process::exit(1);
    }
}
