//! The Countersign desktop app: a thin Tauri shell over `countersign-service`.
//!
//! The shell only wires things together: it reads the start-up configuration, opens the
//! [`Service`] on the Countersign home, and exposes each use case as a command (see
//! [`commands`]). The window is the static `ui/` folder, embedded at build time. No remote
//! content; the window may call exactly the commands granted in `capabilities/main.json`, plus
//! the dialog plugin's open and save file choosers (the opener plugin is used by the app's own
//! commands only).
#![forbid(unsafe_code)]

pub mod commands;
pub mod files;
pub mod forms;
pub mod open_run;
pub mod signing;
pub mod startup;
pub mod sync;
pub mod wording;

use std::sync::Arc;

use countersign_service::{Env, Service, ServiceError};
use tauri::{Manager, Runtime};
use time::UtcOffset;

use crate::commands::AppInfo;
use crate::files::WrittenFiles;
use crate::open_run::OpenRun;
use crate::signing::{SignDesk, WindowClock};
use crate::startup::{Startup, StartupError};
use crate::sync::{FetchSlot, PackageSlot};

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot open the Countersign home {home}: {source}")]
    Home { home: String, source: ServiceError },
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
}

/// Adds Countersign's commands to a Tauri builder. Generic over the runtime so tests can use
/// `tauri::test::mock_builder()`.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(FetchSlot::default())
        .manage(OpenRun::default())
        .manage(PackageSlot::default())
        .manage(WrittenFiles::default())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_runs,
            commands::show_run,
            commands::open_run,
            commands::run_cases,
            commands::run_traceability,
            commands::open_file,
            commands::fetch,
            commands::import_runs,
            commands::cancel_fetch,
            commands::build_package,
            commands::cancel_package,
            commands::verify_package,
            commands::verify_published_package,
            commands::publish_package,
            commands::list_packages,
            commands::package_sign_check,
            commands::package_sign,
            commands::audit_events,
            commands::audit_verify,
            commands::audit_export,
            commands::audit_reviews,
            commands::review_check,
            commands::review_audit_trail,
            commands::backup_ledger,
            commands::list_keys,
            commands::create_key,
            commands::enroll_key,
            commands::profile_mfa_device,
            commands::enroll_key_signed_in,
            commands::sign_in_method,
            commands::start_sign_in,
            commands::open_sign_in_page,
            commands::export_key,
            commands::save_public_key,
            commands::open_written,
            commands::reveal_written,
            commands::revoke_key,
            commands::admin_revoke_check,
            commands::admin_revoke,
            commands::disposition_check,
            commands::record_disposition,
            commands::run_dispositions,
            commands::run_signatures,
            commands::sign_check,
            commands::sign,
            commands::todo,
            commands::reopen_check,
            commands::reopen,
            commands::signing_session,
            commands::lock_session,
            commands::audit_evidence,
            commands::qualified_state,
            commands::export_state,
            commands::assess_check,
            commands::assess_change,
            commands::periodic_review_check,
            commands::periodic_review,
            commands::review_report,
            commands::publish_signoff,
            commands::fetch_signoff,
            commands::checkpoint_ledger,
            commands::verify_ledger_published,
            commands::restore_ledger,
        ])
}

/// Opens the service on the home and puts it, with the app's facts, into managed state. Done
/// before the window exists, so a home that cannot be opened is a clean error, not a panic. A
/// home that cannot be written (an auditor's copy) opens read-only: browsing and verifying work.
pub fn prepare<R: Runtime>(app: &tauri::App<R>, startup: Startup) -> Result<(), AppError> {
    let home = match startup.home {
        Some(home) => home,
        // `$XDG_DATA_HOME/countersign` or `~/.local/share/countersign`, as the CLI uses.
        None => app.path().data_dir()?.join("countersign"),
    };
    // One clock for the service and the signing desk: the window sets its UTC offset.
    let clock = Arc::new(WindowClock::default());
    let env = Env {
        clock: clock.clone(),
        ..Env::desktop(UtcOffset::UTC)
    };
    // A home on read-only media opens for reading: browsing and verifying work.
    let service = Service::open_for_reading(&home, env).map_err(|source| AppError::Home {
        home: home.display().to_string(),
        source,
    })?;
    let export_dir = app
        .path()
        .document_dir()
        .or_else(|_| app.path().home_dir())
        .unwrap_or_else(|_| home.clone());
    app.manage(AppInfo {
        home: home.display().to_string(),
        version: app.package_info().version.to_string(),
        demo: startup.demo,
        export_dir: export_dir.display().to_string(),
    });
    app.manage(service);
    app.manage(SignDesk::new(clock));
    Ok(())
}

/// The app's configuration, assets and capabilities, generated from `tauri.conf.json` at build
/// time. The only place that expands `generate_context!`.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// Starts the app with the configuration from the process environment.
pub fn run() -> Result<(), AppError> {
    let startup = Startup::from_vars(|name| std::env::var(name).ok())?;
    let app = builder(tauri::Builder::default()).build(context())?;
    prepare(&app, startup)?;
    app.run(|_, _| {});
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tauri::test::mock_builder;

    use super::*;
    use crate::commands::tests::invoke;

    /// The real context: `tauri.conf.json` and the capability files, as the app ships them.
    #[test]
    fn the_capability_grants_the_app_commands_to_the_main_window_and_nothing_else() {
        let home = tempfile::tempdir().unwrap();
        let startup = Startup {
            home: Some(home.path().to_path_buf()),
            demo: None,
        };
        let app = builder(mock_builder()).build(context()).unwrap();
        prepare(&app, startup).unwrap();

        let config = app.config();
        let csp = config.app.security.csp.as_ref().unwrap().to_string();
        assert!(
            !csp.contains("unsafe"),
            "no unsafe-inline / unsafe-eval: {csp}"
        );
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(
            csp.contains("connect-src ipc: http://ipc.localhost"),
            "{csp}"
        );
        assert!(config.app.security.freeze_prototype);
        assert!(config.app.with_global_tauri);
        assert!(
            config.build.dev_url.is_none(),
            "the ui is embedded, never a dev server"
        );

        // Config windows open when the event loop starts, which tests do not run.
        let main = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        assert_eq!(invoke(&main, "list_runs", json!({})), Ok(json!([])));
        // Every command of the app is granted to the main window.
        assert_eq!(invoke(&main, "list_keys", json!({})), Ok(json!([])));
        assert!(invoke(&main, "audit_verify", json!({})).is_ok());
        assert_eq!(
            invoke(&main, "signing_session", json!({})).unwrap()["open"],
            json!(false)
        );

        // The dialog plugin: the open and save choosers only. Wrong arguments get past the
        // permission check and fail on their shape, so no dialog opens here.
        for cmd in ["plugin:dialog|open", "plugin:dialog|save"] {
            let err = invoke(&main, cmd, json!({ "options": 42 })).unwrap_err();
            assert!(!err.to_string().contains("not allowed"), "{cmd}: {err}");
        }
        for cmd in [
            "plugin:dialog|message",
            "plugin:dialog|ask",
            "plugin:dialog|confirm",
            "plugin:opener|open_path",
            "plugin:opener|open_url",
            "plugin:opener|reveal_item_in_dir",
        ] {
            let refused = invoke(&main, cmd, json!({})).unwrap_err();
            assert!(
                refused.to_string().contains("not allowed"),
                "{cmd}: {refused}"
            );
        }
        // No file-system plugin at all: a path from a chooser is text, nothing more.
        let refused = invoke(
            &main,
            "plugin:fs|read_file",
            json!({ "path": "/etc/passwd" }),
        )
        .unwrap_err();
        assert!(!refused.to_string().is_empty());
        // The app's opener commands open only what the app wrote in this run.
        let refused = invoke(&main, "open_written", json!({ "path": "/etc/passwd" })).unwrap_err();
        assert_eq!(refused["code"], json!("refused"), "{refused}");
        let refused =
            invoke(&main, "reveal_written", json!({ "path": "/etc/passwd" })).unwrap_err();
        assert_eq!(refused["code"], json!("refused"), "{refused}");
        // The qualified state of a home without runs: nothing to show, and no key chosen.
        let state = invoke(&main, "qualified_state", json!({ "form": {} })).unwrap();
        assert_eq!(state["systems"], json!([]), "{state}");
        assert_eq!(state["public_keys"], json!([]), "{state}");
        // The sign-in page opened is the one IAM Identity Center gave; with none started, none.
        let refused = invoke(
            &main,
            "open_sign_in_page",
            json!({ "url": "https://example.com" }),
        )
        .unwrap_err();
        assert_eq!(refused["code"], json!("bad_input"), "{refused}");

        let refused =
            invoke(&main, "plugin:window|set_title", json!({ "title": "x" })).unwrap_err();
        assert!(refused.to_string().contains("not allowed"), "{refused}");
        let refused = invoke(&main, "plugin:event|listen", json!({})).unwrap_err();
        assert!(refused.to_string().contains("not allowed"), "{refused}");

        // The capability names the main window only: another window gets nothing.
        let other = tauri::WebviewWindowBuilder::new(&app, "other", Default::default())
            .build()
            .unwrap();
        for cmd in [
            "list_runs",
            "sign_check",
            "audit_export",
            "create_key",
            "review_audit_trail",
            "revoke_key",
            "backup_ledger",
            "checkpoint_ledger",
            "restore_ledger",
            "publish_signoff",
            "fetch_signoff",
        ] {
            let refused = invoke(&other, cmd, json!({})).unwrap_err();
            assert!(
                refused.to_string().contains("not allowed"),
                "{cmd}: {refused}"
            );
        }
    }

    /// The three lists of commands (the handler, the build script's ACL manifest and the
    /// capability) must agree: a command missing from one is either uncallable or ungranted.
    #[test]
    fn every_registered_command_is_in_the_acl_manifest_and_granted() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        let handler: Vec<String> = read("src/lib.rs")
            .lines()
            .filter_map(|l| l.trim().strip_prefix("commands::"))
            .map(|c| c.trim_end_matches(',').to_owned())
            .collect();
        let build = read("build.rs");
        let manifest_block = build
            .split("const COMMANDS: &[&str] = &[")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .unwrap();
        let manifest: Vec<String> = manifest_block
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .map(|c| c.trim_end_matches(['"', ',']).to_owned())
            .collect();
        let capability: serde_json::Value =
            serde_json::from_str(&read("capabilities/main.json")).unwrap();
        let permissions: Vec<&str> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let granted: Vec<String> = permissions
            .iter()
            .filter(|p| !p.contains(':'))
            .map(|p| p.trim_start_matches("allow-").replace('-', "_"))
            .collect();
        let plugins: Vec<&str> = permissions
            .iter()
            .copied()
            .filter(|p| p.contains(':'))
            .collect();
        assert!(handler.len() > 20, "{handler:?}");
        assert_eq!(handler, manifest, "src/lib.rs vs build.rs");
        assert_eq!(handler, granted, "src/lib.rs vs capabilities/main.json");
        // Of the plugins, exactly the two file choosers: no message boxes, no opener, no fs.
        assert_eq!(plugins, ["dialog:allow-open", "dialog:allow-save"]);
    }

    #[test]
    fn a_home_that_cannot_be_created_is_an_error_naming_it() {
        let scratch = tempfile::tempdir().unwrap();
        let file = scratch.path().join("a-file");
        std::fs::write(&file, b"not a folder").unwrap();
        let home = file.join("home");
        let app = builder(mock_builder())
            .build(tauri::test::mock_context(tauri::test::noop_assets()))
            .unwrap();
        let err = prepare(
            &app,
            Startup {
                home: Some(home.clone()),
                demo: None,
            },
        )
        .unwrap_err();
        assert!(matches!(err, AppError::Home { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&home.display().to_string()),
            "{err}"
        );
    }
}
