//! Signing with IAM Identity Center in the desktop app, in a real WebKit window: Carol's AWS
//! profile is an SSO profile, so the Keys and Sign screens offer a sign-in instead of an MFA
//! code field. She enrolls her key and signs a run Reviewed, each time after starting a sign-in,
//! opening its page (a recording `xdg-open` stands in for the browser) and approving it at the
//! proxy's SSO front, which plays the identity provider. Every screen shown is checked with
//! axe-core; screenshots go to `test-artifacts/`.
//!
//! Needs an X display (`xvfb-run -a`, or Xvfb installed); without one it FAILS, never skips.

// A test file through and through: its helpers fail the test loudly with what they waited for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use countersign_service::Service;
use countersign_tests::emulator::{ACCOUNT, ADMIN_KEY, REGION};
use countersign_tests::sso_front::reserved_role_name;
use countersign_tests::webdriver::{self, build_app, Display};
use countersign_tests::{accessibility, window, Harness};
use fantoccini::Client;
use serde_json::{json, Value};

const BUCKET: &str = "countersign-demo";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS: &str = "carol passphrase 3";
const START_URL: &str = "https://countersign-test.awsapps.com/start";
const PERMISSION_SET: &str = "QualityReviewer";

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    window::wait_for(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn click(client: &Client, css: &str) {
    window::click(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn text_of(client: &Client, css: &str) -> String {
    window::text_of(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sets a field's value as typing would, firing `input` and `change`.
async fn set(client: &Client, css: &str, value: &str) {
    window::set(client, css, value)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Polls `script` until it returns `want`.
async fn wait_value(client: &Client, script: &str, want: Value) {
    window::wait_value(client, script, want)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn screen(client: &Client, axe: &str, name: &str) {
    window::screenshot(client, &format!("app-sso-{name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    accessibility::assert_accessible(client, axe, &format!("IAM Identity Center: {name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The form's sign-in panel is shown and its MFA code field is not (the profile was read).
async fn sign_in_offered(client: &Client, prefix: &str) {
    wait_value(
        client,
        &format!(
            "const p = document.getElementById('{prefix}-sso'); \
             return !!p && !p.hidden && document.getElementById('{prefix}-{code}').closest('label').hidden",
            code = if prefix == "enroll" { "code" } else { "mfa" }
        ),
        json!(true),
    )
    .await;
}

/// Starts the sign-in, opens its page, checks the code the page would show, and approves it
/// as Carol. Returns the user code.
async fn sign_in(client: &Client, h: &Harness, prefix: &str, opened: &Path) -> String {
    click(client, &format!("#{prefix}-sso-start")).await;
    let code = text_of(client, &format!("#{prefix}-sso-code")).await;
    assert_eq!(h.proxy.sso_pending(), vec![code.clone()]);
    click(client, &format!("#{prefix}-sso-open")).await;
    let mut asked = String::new();
    for _ in 0..50 {
        asked = std::fs::read_to_string(opened).unwrap_or_default();
        if asked.contains(&code) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        asked.contains(&format!("user_code={code}")),
        "the sign-in page was opened: {asked:?}"
    );
    h.proxy.sso_approve(&code, "carol").unwrap();
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carol_enrolls_and_signs_after_sign_ins_approved_in_the_browser() {
    let display = Display::acquire().unwrap_or_else(|e| panic!("{e}"));
    let app = build_app().unwrap_or_else(|e| panic!("{e}"));
    let axe = accessibility::axe_source().unwrap_or_else(|e| panic!("{e}"));

    let h = Harness::start().await.unwrap();
    h.proxy.sso_start_url(START_URL, "eu-west-1");
    h.proxy.sso_assign("carol", ACCOUNT, PERMISSION_SET);
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let service = h.service(&home).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    drop(service);

    // `default` reads the demo; `carol` signs in with IAM Identity Center.
    let config = scratch.path().join("aws-config");
    let credentials = scratch.path().join("aws-credentials");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = {REGION}\n\n[profile carol]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {PERMISSION_SET}\nregion = {REGION}\n\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {ADMIN_KEY}\naws_secret_access_key = {ADMIN_KEY}\n"
        ),
    )
    .unwrap();
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        std::env::remove_var(var);
    }
    let endpoint = h.proxy.endpoint();
    let (bin, opened) = webdriver::recording_xdg_open(scratch.path()).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home_str = home.display().to_string();
    let config_str = config.display().to_string();
    let credentials_str = credentials.display().to_string();
    let env = [
        ("COUNTERSIGN_HOME", home_str.as_str()),
        ("COUNTERSIGN_DEMO", "1"),
        ("COUNTERSIGN_DEMO_ENDPOINT", endpoint.as_str()),
        ("COUNTERSIGN_DEMO_BUCKET", BUCKET),
        ("AWS_CONFIG_FILE", config_str.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials_str.as_str()),
        ("AWS_REGION", REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("PATH", path.as_str()),
    ];
    let window = window::AppWindow::open(&display, Path::new(&app), &env)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = window.client.clone();

    wait_for(&client, "#connect-form").await;
    click(&client, "#connect-go").await;
    click(&client, "#sync-continue").await;
    wait_for(&client, &format!("#runs-table tr[data-run='{RUN}']")).await;

    // Keys: Carol's key, enrolled through a sign-in instead of an MFA code.
    click(&client, "#nav-keys").await;
    set(&client, "#key-name", "Carol Chen").await;
    for field in ["#key-pass", "#key-pass2"] {
        let el = wait_for(&client, field).await;
        el.send_keys(PASS).await.unwrap();
    }
    click(&client, "#key-create").await;
    wait_for(&client, "#key-created").await;
    wait_value(
        &client,
        "return document.getElementById('enroll-key').value.length",
        json!(32),
    )
    .await;
    set(&client, "#enroll-profile", "carol").await;
    set(&client, "#enroll-region", REGION).await;
    set(&client, "#enroll-endpoint", &endpoint).await;
    sign_in_offered(&client, "enroll").await;
    sign_in(&client, &h, "enroll", &opened).await;
    screen(&client, &axe, "keys-sign-in").await;
    click(&client, "#enroll-certify").await;
    click(&client, "#enroll-go").await;
    let arn = format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/{}/carol",
        reserved_role_name(PERMISSION_SET, ACCOUNT)
    );
    let enrolled = text_of(&client, "#enrolled").await;
    assert!(enrolled.contains(&arn), "{enrolled}");

    // Sign: the run Reviewed, the session opened by a second sign-in.
    click(&client, "#nav-runs").await;
    wait_for(&client, &format!("#runs-table tr[data-run='{RUN}']"))
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    click(&client, "#open-sign").await;
    set(&client, "#sign-meaning", "Reviewed").await;
    wait_value(
        &client,
        "return document.getElementById('sign-key').value.length",
        json!(32),
    )
    .await;
    set(&client, "#sign-reason", "Every result read").await;
    click(&client, "#sign-check").await;
    wait_for(&client, "#sign-what").await;
    set(&client, "#sign-profile", "carol").await;
    sign_in_offered(&client, "sign").await;
    sign_in(&client, &h, "sign", &opened).await;
    screen(&client, &axe, "sign-sign-in").await;
    wait_for(&client, "#sign-passphrase")
        .await
        .send_keys(PASS)
        .await
        .unwrap();
    click(&client, "#sign-go").await;
    wait_for(&client, "#signed").await;
    wait_for(&client, "#signatures-table tr[data-meaning='Reviewed']").await;
    screen(&client, &axe, "signed").await;

    window.close().await.unwrap_or_else(|e| panic!("{e}"));

    let mut service = Service::open(&home, h.env());
    for _ in 0..30 {
        if service.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        service = Service::open(&home, h.env());
    }
    let sigs = service.unwrap().signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].iam_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(sigs[0].outcome.as_str(), "valid");
}
