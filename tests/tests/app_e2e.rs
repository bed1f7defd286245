//! The desktop app end to end, in a real WebKit window driven through tauri-driver: the demo
//! runs listed and one reviewed, then a 10,000-case run imported from a folder and browsed.
//!
//! Needs an X display: run under `xvfb-run -a` (as the test command does), or have `Xvfb`
//! installed. Without either this test FAILS with a message saying so; it never skips.
//! The app binary is built (or found up to date) with `cargo build -p countersign-app`, because
//! Cargo exposes `CARGO_BIN_EXE_*` only to the app crate's own tests. Screenshots of each screen
//! go to `test-artifacts/` at the workspace root.

// A test file through and through: its helpers fail the test loudly with what they waited for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use countersign_core::layout::Prefix;
use countersign_service::{AwsSettings, CancelToken, Env, FetchRequest, Service};
use countersign_tests::emulator::{Emulator, ADMIN_KEY, REGION};
use countersign_tests::synthetic::write_large_run;
use countersign_tests::webdriver::{
    build_app, tauri_capabilities, Display, SessionGuard, TauriDriver,
};
use countersign_tests::window;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const BUCKET: &str = "countersign-demo";
const ESCAPE: &str = "\u{E00C}";
const ENTER: &str = "\u{E007}";
const END: &str = "\u{E010}";

async fn screenshot(client: &Client, name: &str) {
    window::screenshot(client, &format!("app-{name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    window::wait_for(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn texts(client: &Client, script: &str) -> Vec<String> {
    let value = client
        .execute(script, vec![])
        .await
        .expect("run a script in the window");
    serde_json::from_value(value).expect("a list of strings")
}

/// Polls `script` (which returns a number) until it equals `want`.
async fn wait_count(client: &Client, script: &str, want: usize) {
    let mut last = json!(null);
    for _ in 0..300 {
        last = client
            .execute(script, vec![])
            .await
            .expect("run a script in the window");
        if last == json!(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{script} stayed at {last}, expected {want}");
}

async fn press(client: &Client, key: &str) {
    client
        .active_element()
        .await
        .expect("the focused element")
        .send_keys(key)
        .await
        .expect("send a key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_lists_the_demo_runs_and_opens_a_run_failures_first() {
    let display = Display::acquire().unwrap_or_else(|e| panic!("{e}"));
    let app = build_app().unwrap_or_else(|e| panic!("{e}"));

    // The emulator, with the demo seeded through the service, fetched into a fresh home.
    let scratch = tempfile::tempdir().unwrap();
    let no_aws_files = scratch.path().join("no-aws-config").display().to_string();
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", ADMIN_KEY),
        ("AWS_SECRET_ACCESS_KEY", ADMIN_KEY),
        ("AWS_REGION", REGION),
        ("AWS_CONFIG_FILE", no_aws_files.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", no_aws_files.as_str()),
    ];
    for (k, v) in aws_env {
        // This test binary holds only this test, so nothing else reads the environment meanwhile.
        std::env::set_var(k, v);
    }
    let emulator = Emulator::start().await.unwrap_or_else(|e| panic!("{e}"));
    let endpoint = emulator.endpoint();
    let aws = AwsSettings {
        profile: None,
        region: Some(REGION.to_owned()),
        endpoint_url: Some(endpoint.clone()),
        force_path_style: true,
    };
    // The SDK's own resolution, as the app resolves it.
    let bucket = BUCKET.parse().expect("a bucket name");
    Service::demo_seed(&Env::system(), &aws, &bucket, &Prefix::root())
        .await
        .expect("seed the demo");
    let home = scratch.path().join("home");
    let service = Service::open(&home, Env::system()).expect("open the home");
    let request = FetchRequest {
        aws: aws.clone(),
        bucket,
        prefix: Prefix::root(),
        concurrency: 4,
        stack: None,
    };
    service
        .fetch(&request, &|_| {}, &CancelToken::default())
        .await
        .expect("fetch the demo");
    let expected = service.runs().expect("list runs");
    assert!(
        expected.len() >= 4,
        "the demo has runs of two systems: {expected:?}"
    );
    let failing = expected
        .iter()
        .find(|r| r.totals.failed > 0)
        .expect("the demo has a run with failures")
        .id
        .clone();
    drop(service);

    // The app, started by tauri-driver with the demo's configuration.
    let home_str = home.display().to_string();
    let mut env = vec![
        ("COUNTERSIGN_HOME", home_str.as_str()),
        ("COUNTERSIGN_DEMO", "1"),
        ("COUNTERSIGN_DEMO_ENDPOINT", endpoint.as_str()),
        ("COUNTERSIGN_DEMO_BUCKET", BUCKET),
    ];
    env.extend(aws_env);
    let driver = TauriDriver::start(&display, &env).unwrap_or_else(|e| panic!("{e}"));
    let client = ClientBuilder::rustls()
        .expect("a WebDriver client")
        .capabilities(tauri_capabilities(Path::new(&app), &[]))
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("open a WebDriver session on {}: {e}", driver.url()));
    let session = client
        .session_id()
        .await
        .ok()
        .flatten()
        .expect("a WebDriver session id");
    let mut guard = SessionGuard::new(driver.port(), session);

    // Connect: Demo is preselected; continuing syncs through the app (nothing new to fetch).
    wait_for(&client, "#connect-form").await;
    let demo = wait_for(&client, "#kind-demo").await;
    assert_eq!(
        demo.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "Demo is preselected"
    );
    screenshot(&client, "1-connect").await;
    wait_for(&client, "#connect-go")
        .await
        .click()
        .await
        .unwrap();

    // Runs: every demo run is listed.
    wait_for(&client, "#runs-table").await;
    wait_count(
        &client,
        "return document.querySelectorAll('#runs-table tr[data-run]').length",
        expected.len(),
    )
    .await;
    let listed: BTreeSet<String> = texts(
        &client,
        "return [...document.querySelectorAll('#runs-table tr[data-run]')].map(r => r.dataset.run)",
    )
    .await
    .into_iter()
    .collect();
    let want: BTreeSet<String> = expected.iter().map(|r| r.id.clone()).collect();
    assert_eq!(listed, want);
    wait_for(&client, "#phase-chart svg").await;
    screenshot(&client, "2-runs").await;

    // A run with failures opens (keyboard: focus the row, Enter) with failures first.
    let row = wait_for(&client, &format!("#runs-table tr[data-run='{failing}']")).await;
    row.send_keys(ENTER)
        .await
        .expect("press Enter on the run's row");
    wait_for(&client, "#cases .vrow").await;
    assert_eq!(
        wait_for(&client, "#run-title").await.text().await.unwrap(),
        failing
    );
    let statuses = texts(
        &client,
        "return [...document.querySelectorAll('#cases .vrow .badge')].map(b => b.textContent)",
    )
    .await;
    assert_eq!(
        statuses.first().map(String::as_str),
        Some("failed"),
        "failures first: {statuses:?}"
    );
    let rank = |s: &str| {
        ["failed", "errored", "skipped", "passed"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    assert!(
        statuses.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "ordered failures first: {statuses:?}"
    );
    let detail = wait_for(&client, "#case-detail .badge")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(detail, "failed", "the first failure is shown in detail");
    screenshot(&client, "3-run-cases").await;

    // Evidence: open a file; the service re-verifies it.
    wait_for(&client, "#tab-evidence")
        .await
        .click()
        .await
        .unwrap();
    let file = wait_for(&client, "#evidence-table tr[data-path]").await;
    file.send_keys(ENTER)
        .await
        .expect("press Enter on the first evidence file");
    let badge = wait_for(&client, "#overlay [data-integrity]").await;
    // The viewer shows the content (an image must have decoded before the screenshot).
    wait_count(
        &client,
        "const i = document.getElementById('file-image'); \
         return (i ? i.complete && i.naturalWidth > 0 : !!document.getElementById('file-text')) ? 1 : 0",
        1,
    )
    .await;
    assert_eq!(
        badge.attr("data-integrity").await.unwrap().as_deref(),
        Some("verified")
    );
    screenshot(&client, "4-file").await;
    press(&client, ESCAPE).await;
    wait_count(
        &client,
        "return document.querySelectorAll('#overlay').length",
        0,
    )
    .await;
    screenshot(&client, "5-evidence").await;

    wait_for(&client, "#tab-trace").await.click().await.unwrap();
    wait_for(&client, "#trace-table").await;
    screenshot(&client, "6-traceability").await;

    // Esc goes back to the runs.
    press(&client, ESCAPE).await;
    wait_for(&client, "#runs-screen").await;

    // Import: a 10,000-case run carried over on removable media, taken in through Connect with
    // progress, then opened; End jumps to the last of the 10,000 rows.
    let media = scratch.path().join("media");
    let large = write_large_run(&media, 10_000, 5).unwrap();
    wait_for(&client, "#nav-connect")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&client, "#kind-import")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&client, "#import-path")
        .await
        .send_keys(&media.display().to_string())
        .await
        .unwrap();
    wait_for(&client, "#connect-go")
        .await
        .click()
        .await
        .unwrap();
    let row = wait_for(&client, &format!("#runs-table tr[data-run='{large}']")).await;
    screenshot(&client, "7-imported").await;
    row.send_keys(ENTER).await.unwrap();
    wait_for(&client, "#cases[aria-rowcount='10000']").await;
    wait_for(&client, "#cases").await.click().await.unwrap();
    press(&client, END).await;
    wait_for(
        &client,
        "#cases .vrow[data-index='9999'][aria-selected='true']",
    )
    .await;
    screenshot(&client, "8-large-run-end").await;

    client.close().await.expect("close the WebDriver session");
    guard.disarm();
    drop(driver);
    drop(emulator);
}
