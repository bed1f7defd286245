//! The commands the window may call. Each is a one-line adapter over the service layer; errors
//! reach the window as the service's `{code, message}` (mirrored in `ui/errors.js`).
//!
//! Every command here must also be listed in `build.rs` and granted in `capabilities/main.json`.

use countersign_service::{
    FetchProgress, FetchReport, FileContent, RunSummary, RunView, Service, ServiceError,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::startup::DemoConnection;
use crate::sync::{ConnectForm, FetchSlot};

/// What the window needs to know about this app instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The Countersign home in use (ledger, store, keys).
    pub home: String,
    /// The app version.
    pub version: String,
    /// Set when the demo started the app: the Connect screen preselects it.
    pub demo: Option<DemoConnection>,
}

/// The home, version and demo connection.
#[tauri::command]
pub fn app_info(info: State<'_, AppInfo>) -> AppInfo {
    info.inner().clone()
}

/// Every run in the store, sorted by system, phase and run id.
#[tauri::command]
pub async fn list_runs(service: State<'_, Service>) -> Result<Vec<RunSummary>, ServiceError> {
    service.runs()
}

/// One run in full, cases failures first.
#[tauri::command]
pub async fn show_run(service: State<'_, Service>, run: String) -> Result<RunView, ServiceError> {
    service.show(&run)
}

/// One stored file of a run, re-verified against its digest.
#[tauri::command]
pub async fn open_file(
    service: State<'_, Service>,
    run: String,
    path: String,
) -> Result<FileContent, ServiceError> {
    service.open_file(&run, &path)
}

/// Syncs the form's bucket into the store, streaming progress; one sync at a time.
#[tauri::command]
pub async fn fetch(
    service: State<'_, Service>,
    slot: State<'_, FetchSlot>,
    form: ConnectForm,
    on_progress: Channel<FetchProgress>,
) -> Result<FetchReport, ServiceError> {
    let (request, running) = (form.to_request()?, slot.begin()?);
    // A closed window drops the channel; the sync still completes into the store.
    let progress = move |p: &FetchProgress| {
        let _ = on_progress.send(p.clone());
    };
    service.fetch(&request, &progress, &running.token).await
}

/// Cancels the running sync; answers whether one was running.
#[tauri::command]
pub fn cancel_fetch(slot: State<'_, FetchSlot>) -> Result<bool, ServiceError> {
    slot.cancel()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use serde_json::{json, Value};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
    use tauri::webview::InvokeRequest;
    use tauri::{Manager, WebviewWindow};

    use super::*;
    use crate::startup::Startup;

    fn demo() -> DemoConnection {
        DemoConnection {
            endpoint: "http://127.0.0.1:5055".into(),
            bucket: "qual-results".into(),
            prefix: String::new(),
            region: "us-east-1".into(),
        }
    }

    /// The app on the mock runtime with a fresh home, and its main window.
    fn app(home: &Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
        let startup = Startup {
            home: Some(home.to_path_buf()),
            demo: Some(demo()),
        };
        let app = crate::builder(mock_builder())
            .build(mock_context(noop_assets()))
            .unwrap();
        crate::prepare(&app, startup).unwrap();
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        (app, window)
    }

    pub(crate) fn invoke(
        window: &WebviewWindow<MockRuntime>,
        cmd: &str,
        body: Value,
    ) -> Result<Value, Value> {
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    #[test]
    fn app_info_reports_the_home_version_and_demo_connection() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let info = invoke(&window, "app_info", json!({})).unwrap();
        assert_eq!(info["home"], json!(home.path().display().to_string()));
        assert_eq!(info["version"], json!(env!("CARGO_PKG_VERSION")));
        assert_eq!(info["demo"]["bucket"], json!("qual-results"));
        assert_eq!(info["demo"]["endpoint"], json!("http://127.0.0.1:5055"));
    }

    #[test]
    fn list_runs_answers_what_the_service_answers() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(app.state::<Service>().runs().unwrap()).unwrap();
        assert_eq!(invoke(&window, "list_runs", json!({})), Ok(expected));
    }

    #[test]
    fn show_run_errors_arrive_as_the_services_code_and_message() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected =
            serde_json::to_value(app.state::<Service>().show("LIMS/IQ/nope").unwrap_err()).unwrap();
        let got = invoke(&window, "show_run", json!({ "run": "LIMS/IQ/nope" })).unwrap_err();
        assert_eq!(got, expected);
        assert_eq!(got["code"], json!("not_found"), "{got}");
        assert!(!got["message"].as_str().unwrap().is_empty());
    }

    #[test]
    fn open_file_errors_arrive_as_the_services_code_and_message() {
        let home = tempfile::tempdir().unwrap();
        let (app, window) = app(home.path());
        let expected = serde_json::to_value(
            app.state::<Service>()
                .open_file("LIMS/IQ/nope", "log.txt")
                .unwrap_err(),
        )
        .unwrap();
        let got = invoke(
            &window,
            "open_file",
            json!({ "run": "LIMS/IQ/nope", "path": "log.txt" }),
        )
        .unwrap_err();
        assert_eq!(got, expected);
    }

    #[test]
    fn fetch_without_a_bucket_is_bad_input_naming_the_bucket() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        let got = invoke(
            &window,
            "fetch",
            json!({ "form": { "bucket": "" }, "onProgress": "__CHANNEL__:7" }),
        )
        .unwrap_err();
        assert_eq!(got["code"], json!("bad_input"), "{got}");
        assert!(got["message"].as_str().unwrap().contains("bucket"), "{got}");
    }

    #[test]
    fn cancel_fetch_with_no_sync_running_answers_false() {
        let home = tempfile::tempdir().unwrap();
        let (_app, window) = app(home.path());
        assert_eq!(invoke(&window, "cancel_fetch", json!({})), Ok(json!(false)));
    }
}
