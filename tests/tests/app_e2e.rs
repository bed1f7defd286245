//! The desktop app end to end, in a real WebKit window driven through tauri-driver: the demo
//! synced (its report read before moving on), the runs listed and one reviewed, every screen
//! checked with axe-core in the light theme (the sign-off test checks them in the dark one),
//! then a 10,000-case run imported from a folder and browsed (with a run whose id holds a
//! right-to-left override, listed escaped).
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
use countersign_tests::accessibility;
use countersign_tests::emulator::{Emulator, ADMIN_KEY, REGION};
use countersign_tests::synthetic::write_large_run;
use countersign_tests::webdriver::{build_app, Display, SessionGuard};
use countersign_tests::window;
use fantoccini::Client;
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

async fn click(client: &Client, css: &str) {
    window::click(client, css)
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

/// axe-core on the screen as it is: no serious or critical violation.
async fn accessible(client: &Client, axe: &str, screen: &str) {
    accessibility::assert_accessible(client, axe, screen)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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
    let axe = accessibility::axe_source().unwrap_or_else(|e| panic!("{e}"));

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
    let (driver, client) =
        countersign_tests::window::start_session(&display, Path::new(&app), &env)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    let session = client
        .session_id()
        .await
        .ok()
        .flatten()
        .expect("a WebDriver session id");
    let mut guard = SessionGuard::new(driver.port(), session);

    // Connect: Demo is preselected; continuing syncs through the app (nothing new to fetch).
    wait_for(&client, "#connect-form").await;
    assert!(
        !accessibility::is_dark(&client).await.unwrap(),
        "this test checks the light theme"
    );
    let demo = wait_for(&client, "#kind-demo").await;
    assert_eq!(
        demo.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "Demo is preselected"
    );
    screenshot(&client, "1-connect").await;
    accessible(&client, &axe, "Connect").await;
    click(&client, "#connect-go").await;

    // The sync's report stays until the user moves on: nothing new, nothing rejected.
    let report = wait_for(&client, "#sync-report").await;
    assert_eq!(
        report.attr("data-rejected").await.unwrap().as_deref(),
        Some("0")
    );
    let unchanged = wait_for(&client, "#sync-unchanged")
        .await
        .text()
        .await
        .unwrap();
    assert!(unchanged.ends_with("objects"), "{unchanged}");
    screenshot(&client, "1b-sync-report").await;
    accessible(&client, &axe, "Connect: sync report").await;
    click(&client, "#sync-continue").await;

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
    wait_for(&client, "#phase-chart .chart-row").await;
    // Chart labels are text at the window's size, not a scaled-down drawing.
    let label_px = client
        .execute(
            "return parseFloat(getComputedStyle(document.querySelector('#phase-chart .chart-label')).fontSize)",
            vec![],
        )
        .await
        .unwrap();
    assert!(label_px.as_f64().unwrap() >= 12.0, "{label_px}");
    screenshot(&client, "2-runs").await;
    accessible(&client, &axe, "Runs").await;

    // The table is one Tab stop; the arrow keys move between runs; a date filter is one field.
    let first = wait_for(&client, "#runs-table tr[data-run]").await;
    first.send_keys("\u{E015}").await.unwrap(); // ArrowDown
    let moved = client
        .execute(
            "const rows = [...document.querySelectorAll('#runs-table tr[data-run]')]; \
             return [rows.indexOf(document.activeElement), rows.filter(r => r.tabIndex === 0).length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(moved, json!([1, 1]), "ArrowDown moves to the second run");
    assert_eq!(
        wait_for(&client, "#filter-from")
            .await
            .attr("type")
            .await
            .unwrap()
            .as_deref(),
        Some("text")
    );
    wait_for(&client, "#filter-from")
        .await
        .send_keys("2026-13-45")
        .await
        .unwrap();
    click(&client, "#filter-to").await;
    let wrong = wait_for(&client, "#filter-from[aria-invalid='true'] + .field-error")
        .await
        .text()
        .await
        .unwrap();
    assert!(wrong.contains("YYYY-MM-DD"), "{wrong}");
    accessible(&client, &axe, "Runs: a wrong date at its field").await;
    wait_for(&client, "#filter-from")
        .await
        .clear()
        .await
        .unwrap();
    client
        .execute(
            "document.getElementById('filter-from').dispatchEvent(new Event('change', {bubbles: true}))",
            vec![],
        )
        .await
        .unwrap();

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
    accessible(&client, &axe, "Run review: cases").await;

    // Evidence: open a file; the service re-verifies it.
    click(&client, "#tab-evidence").await;
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
    accessible(&client, &axe, "File viewer").await;
    press(&client, ESCAPE).await;
    wait_count(
        &client,
        "return document.querySelectorAll('#overlay').length",
        0,
    )
    .await;
    screenshot(&client, "5-evidence").await;
    accessible(&client, &axe, "Run review: evidence").await;

    click(&client, "#tab-trace").await;
    wait_for(&client, "#trace-table").await;
    screenshot(&client, "6-traceability").await;
    accessible(&client, &axe, "Run review: traceability").await;

    // Sign (no key yet: the request form and the session state).
    click(&client, "#open-sign").await;
    wait_for(&client, "#session-closed").await;
    screenshot(&client, "6b-sign").await;
    accessible(&client, &axe, "Sign").await;
    press(&client, ESCAPE).await;
    wait_for(&client, "#run-screen #cases").await;

    // Esc goes back to the runs.
    press(&client, ESCAPE).await;
    wait_for(&client, "#runs-screen").await;

    // Packages, Audit trail and Keys, each opening at its top (not where Runs was scrolled to).
    client
        .execute("document.getElementById('main').scrollTop = 400", vec![])
        .await
        .unwrap();
    for (nav, ready, name) in [
        ("#nav-packages", "#package-runs input[data-run]", "Packages"),
        ("#nav-audit", "#audit-list .vrow", "Audit trail"),
        ("#nav-keys", "#keys-table", "Keys"),
    ] {
        click(&client, nav).await;
        wait_for(&client, ready).await;
        let top = client
            .execute("return document.getElementById('main').scrollTop", vec![])
            .await
            .unwrap();
        assert_eq!(top, json!(0), "{name} opens at its top");
        screenshot(
            &client,
            &format!("6c-{}", name.to_lowercase().replace(' ', "-")),
        )
        .await;
        accessible(&client, &axe, name).await;
        if name == "Audit trail" {
            // Newest first, action names in words, a filter that finds parts of a code.
            let seqs = texts(
                &client,
                "return [...document.querySelectorAll('#audit-list .vrow')].map(r => r.children[0].textContent)",
            )
            .await;
            let seqs: Vec<u64> = seqs.iter().map(|s| s.parse().unwrap()).collect();
            assert!(
                seqs.windows(2).all(|w| w[0] > w[1]),
                "newest first: {seqs:?}"
            );
            let names = texts(
                &client,
                "return [...document.querySelectorAll('#audit-list .vrow [data-action]')].map(s => s.textContent)",
            )
            .await;
            assert!(names.iter().all(|n| !n.contains('.')), "{names:?}");
            wait_for(&client, "#audit-action")
                .await
                .send_keys("STORED")
                .await
                .unwrap();
            click(&client, "#audit-apply").await;
            wait_count(
                &client,
                "return [...document.querySelectorAll('#audit-list .vrow [data-action]')].every(s => s.dataset.action === 'object.stored') ? 1 : 0",
                1,
            )
            .await;
            click(&client, "#audit-sort").await;
            wait_for(&client, "#audit-sort[aria-pressed='false']").await;
            click(&client, "#audit-verify").await;
            let chain = wait_for(&client, "#chain-report").await;
            assert_eq!(
                chain.attr("data-ok").await.unwrap().as_deref(),
                Some("true")
            );
            assert_eq!(
                chain.attr("class").await.unwrap().as_deref(),
                Some("error error--info"),
                "no checkpoint compared: not shown green"
            );
            screenshot(&client, "6d-audit-filtered").await;
            accessible(&client, &axe, "Audit trail: filtered, verified").await;
        }
    }

    // Import: a 10,000-case run carried over on removable media, taken in through Connect with
    // progress, then opened; End jumps to the last of the 10,000 rows.
    let media = scratch.path().join("media");
    let large = write_large_run(&media, 10_000, 5).unwrap();
    // Carried over with it: a run whose id holds a right-to-left override and whose failing
    // case's name ends in a carriage return and "PASSED".
    let hostile = media.join("SYS/OQ/r\u{202e}1/results/junit.xml");
    std::fs::create_dir_all(hostile.parent().unwrap()).unwrap();
    std::fs::write(
        &hostile,
        r#"<testsuite name="oq" tests="1" failures="1"><testcase name="critical_check&#13;  PASSED"><failure message="boom"/></testcase></testsuite>"#,
    )
    .unwrap();
    click(&client, "#nav-connect").await;
    click(&client, "#kind-import").await;
    wait_for(&client, "#import-path")
        .await
        .send_keys(&media.display().to_string())
        .await
        .unwrap();
    click(&client, "#connect-go").await;
    wait_for(&client, "#sync-report").await;
    let new = wait_for(&client, "#sync-new").await.text().await.unwrap();
    assert!(!new.starts_with("0 "), "the import took the run in: {new}");
    screenshot(&client, "7a-import-report").await;
    click(&client, "#sync-continue").await;
    let row = wait_for(&client, &format!("#runs-table tr[data-run='{large}']")).await;
    // What the import brought is marked new; the runs synced before it are not.
    wait_for(
        &client,
        &format!("#runs-table tr[data-run='{large}'] [data-new='true']"),
    )
    .await;
    assert_eq!(
        client
            .execute(
                "return document.querySelectorAll(`#runs-table tr[data-run='${arguments[0]}'] [data-new]`).length",
                vec![json!(expected[0].id)],
            )
            .await
            .unwrap(),
        json!(0)
    );
    // The override is shown escaped, as the command line and the PDF spell it, never applied.
    let listed = texts(
        &client,
        "return [...document.querySelectorAll('#runs-table tr[data-run]')].map(r => r.textContent)",
    )
    .await;
    assert!(
        listed.iter().any(|t| t.contains("r\\u{202e}1")),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|t| t.contains('\u{202e}')), "{listed:?}");
    screenshot(&client, "7-imported").await;
    row.send_keys(ENTER).await.unwrap();
    wait_for(&client, "#cases[aria-rowcount='10000']").await;
    click(&client, "#cases").await;
    press(&client, END).await;
    wait_for(
        &client,
        "#cases .vrow[data-index='9999'][aria-selected='true']",
    )
    .await;
    screenshot(&client, "8-large-run-end").await;
    accessible(&client, &axe, "Run review: 10,000 cases").await;

    client.close().await.expect("close the WebDriver session");
    guard.disarm();
    drop(driver);
    drop(emulator);
}
