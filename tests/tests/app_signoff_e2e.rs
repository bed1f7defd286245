//! The sign-off flow in the desktop app, end to end in a real WebKit window: open the demo,
//! create and enroll Alice's key on the Keys screen, review a run with failures, disposition
//! them, sign Reviewed as Alice, see Approved as Alice refused (separation of duties), sign
//! Approved as Bob, publish the sign-off and take it over again, build the package and verify it
//! in the app, sign the audit trail as reviewed, back the ledger up, sign a checkpoint of the
//! trail and verify the trail against it, see a backup older than the checkpoint refused and a
//! newer one restored, check the CloudTrail evidence, correct the approved run through a signed
//! re-open and a new cycle, and revoke a key (another's passphrase refused; the policy's
//! administrator revokes it, authenticated). Two IAM users with
//! virtual MFA devices sign through the fault proxy's STS front, each with their own AWS
//! profile. The window runs in the dark theme (`GTK_THEME=Adwaita:dark`) and every screen is
//! checked with axe-core (the browse test checks them in the light theme). Errors land at their
//! field; "Open PDF" and "Show in folder" reach the desktop (a recording `xdg-open` stands in for
//! its file handler). A screenshot of every screen goes to `test-artifacts/`.
//!
//! Needs an X display (`xvfb-run -a`, or Xvfb installed); without one it FAILS, never skips.

// A test file through and through: its helpers fail the test loudly with what they waited for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use countersign_aws::s3;
use countersign_ledger::EventFilter;
use countersign_service::{KeyInfo, Service};
use countersign_tests::emulator::{ADMIN_KEY, REGION};
use countersign_tests::webdriver::{self, build_app, Display, SessionGuard};
use countersign_tests::window;
use countersign_tests::{accessibility, buckets};
use countersign_tests::{Harness, TestUser};
use fantoccini::Client;
use serde_json::{json, Value};

const BUCKET: &str = "countersign-demo";
/// A bucket with Object Lock, where the audit trail's checkpoints are published.
const LOCKED: &str = "ledger-anchors";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";
const ENTER: &str = "\u{E007}";
/// Anyone enrolled signs anything (as the built-in default); Alice administers keys.
const POLICY: &str = r#"{"format":"countersign.policy/v2","version":2,"grants":[{"arn":"arn:aws:iam::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}],"administrators":[{"arn":"arn:aws:iam::*:user/alice"}]}"#;

async fn screenshot(client: &Client, name: &str) {
    window::screenshot(client, &format!("app-signoff-{name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    window::wait_for(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// axe-core on the screen as it is: no serious or critical violation.
async fn accessible(client: &Client, axe: &str, screen: &str) {
    accessibility::assert_accessible(client, axe, screen)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn run_js(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client
        .execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("run {script}: {e}"))
}

/// Sets a field's value as typing would (text inputs, text areas, selects), firing `input`
/// and `change` so the screen reacts. Values with Unicode are typed reliably this way.
async fn set(client: &Client, css: &str, value: &str) {
    wait_for(client, css).await;
    run_js(
        client,
        "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
         el.dispatchEvent(new Event('input', {bubbles: true})); \
         el.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(css), json!(value)],
    )
    .await;
}

/// Types into a field through WebDriver key events (secrets: no script ever sees them twice).
async fn type_into(client: &Client, css: &str, text: &str) {
    let el = wait_for(client, css).await;
    el.clear().await.ok();
    el.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

async fn click(client: &Client, css: &str) {
    window::click(client, css)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap()
}

/// Polls `script` until it returns `want`.
async fn wait_value(client: &Client, script: &str, want: Value) {
    let mut last = json!(null);
    for _ in 0..300 {
        last = run_js(client, script, vec![]).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{script} stayed at {last}, expected {want}");
}

async fn enrolled_key(
    h: &Harness,
    service: &Service,
    user: &TestUser,
    name: &str,
    pw: &str,
) -> KeyInfo {
    h.enrolled_key(service, user, name, pw).await.unwrap().0
}

/// AWS profile files: `default` (the demo reader), `alice` and `bob` with their own keys.
fn write_profiles(dir: &Path, users: &[&TestUser]) -> (String, String) {
    let mut credentials = format!(
        "[default]\naws_access_key_id = {ADMIN_KEY}\naws_secret_access_key = {ADMIN_KEY}\n"
    );
    let mut config = format!("[default]\nregion = {REGION}\n");
    for u in users {
        credentials.push_str(&format!(
            "[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            u.name, u.access_key_id, u.secret_access_key
        ));
        // Each signer's profile names their MFA device, as the AWS CLI's profiles do.
        config.push_str(&format!(
            "[profile {}]\nregion = {REGION}\nmfa_serial = {}\n",
            u.name, u.mfa_serial
        ));
    }
    let c = dir.join("aws-credentials");
    let f = dir.join("aws-config");
    std::fs::write(&c, credentials).unwrap();
    std::fs::write(&f, config).unwrap();
    (f.display().to_string(), c.display().to_string())
}

/// Fills the sign screen's request and asks for the plan.
async fn request_signature(client: &Client, meaning: &str, key_id: &str, reason: &str) {
    set(client, "#sign-meaning", meaning).await;
    wait_value(
        client,
        "return document.querySelectorAll('#sign-key option[value]').length > 1",
        json!(true),
    )
    .await;
    set(client, "#sign-key", key_id).await;
    set(client, "#sign-reason", reason).await;
    click(client, "#sign-check").await;
}

/// Fills the Packages screen's signing panel (the PDF is already there) and asks for the plan.
async fn request_package_signature(client: &Client, meaning: &str, key_id: &str, reason: &str) {
    set(client, "#package-sign-meaning", meaning).await;
    wait_value(
        client,
        "return document.querySelectorAll('#package-sign-key option[value]').length > 1",
        json!(true),
    )
    .await;
    set(client, "#package-sign-key", key_id).await;
    set(client, "#package-sign-reason", reason).await;
    click(client, "#package-sign-check").await;
}

/// Signs the package plan shown with the user's profile, MFA code (when asked) and
/// passphrase; the package's state afterwards.
async fn complete_package_signature(client: &Client, user: &TestUser, passphrase: &str) -> String {
    wait_for(client, "#package-sign-what").await;
    let covers = text_of(client, "#package-sign-covers").await;
    assert!(
        covers.contains("every byte of") && covers.contains("approval page"),
        "{covers}"
    );
    if run_js(
        client,
        "return !!document.getElementById('package-sign-mfa')",
        vec![],
    )
    .await
        == json!(true)
    {
        set(client, "#package-sign-profile", &user.name).await;
        type_into(client, "#package-sign-mfa", &user.current_code()).await;
    }
    type_into(client, "#package-sign-passphrase", passphrase).await;
    click(client, "#package-sign-go").await;
    let signed = wait_for(client, "#package-signed").await;
    signed.attr("data-state").await.unwrap().unwrap_or_default()
}

/// Signs the reviewed plan with the user's profile, MFA code (when asked) and passphrase.
async fn complete_signature(client: &Client, user: &TestUser, passphrase: &str) -> String {
    wait_for(client, "#sign-what").await;
    if run_js(
        client,
        "return !!document.getElementById('sign-mfa')",
        vec![],
    )
    .await
        == json!(true)
    {
        set(client, "#sign-profile", &user.name).await;
        type_into(client, "#sign-mfa", &user.current_code()).await;
    }
    type_into(client, "#sign-passphrase", passphrase).await;
    let digest = text_of(client, "#plan-digest").await;
    // The signer is told what the digest covers: the results as shown, by their digest.
    let covers = text_of(client, "#plan-covers").await;
    assert!(
        covers.contains("results exactly as shown") && covers.contains("run data SHA-256"),
        "{covers}"
    );
    click(client, "#sign-go").await;
    wait_for(client, "#signed").await;
    digest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_sign_off_in_the_app_from_review_to_a_verified_package() {
    let display = Display::acquire().unwrap_or_else(|e| panic!("{e}"));
    let app = build_app().unwrap_or_else(|e| panic!("{e}"));
    let axe = accessibility::axe_source().unwrap_or_else(|e| panic!("{e}"));

    // The demo in the emulator, fetched into a fresh home; Alice and Bob with enrolled keys.
    let h = Harness::start().await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let service = h.service(&home).unwrap();
    // The built-in default policy's grants, in version 2 with Alice as its administrator.
    std::fs::write(home.join("policy.json"), POLICY).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let kb = enrolled_key(&h, &service, &bob, "Bob Brown", PASS_B).await;
    let failures = countersign_tests::harness::failed_cases(&service, RUN).unwrap();
    assert!(!failures.is_empty(), "the demo run has failures");
    drop(service);

    // The app: the demo connection through the proxy; each signer has an AWS profile.
    let endpoint = h.proxy.endpoint();
    let (config, credentials) = write_profiles(scratch.path(), &[&alice, &bob]);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        // Credentials in the environment would win over the signer's profile.
        std::env::remove_var(var);
    }
    let out = scratch.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let pdf = out.join("oq-package.pdf");
    let (bin, opened) = webdriver::recording_xdg_open(scratch.path()).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home_str = home.display().to_string();
    let env = [
        ("COUNTERSIGN_HOME", home_str.as_str()),
        ("COUNTERSIGN_DEMO", "1"),
        ("COUNTERSIGN_DEMO_ENDPOINT", endpoint.as_str()),
        ("COUNTERSIGN_DEMO_BUCKET", BUCKET),
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ("AWS_REGION", REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // A fixed offset of +01:00 all year (tzdata names it Etc/GMT-1).
        ("TZ", "Etc/GMT-1"),
        // The dark theme, as a desktop set to dark gives it.
        ("GTK_THEME", "Adwaita:dark"),
        ("PATH", path.as_str()),
    ];
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

    // 1. Open the demo; the sync's report is read before moving on.
    wait_for(&client, "#connect-form").await;
    assert!(
        accessibility::is_dark(&client).await.unwrap(),
        "this test checks the dark theme"
    );
    screenshot(&client, "00-connect").await;
    accessible(&client, &axe, "Connect (dark)").await;
    click(&client, "#connect-go").await;
    wait_for(&client, "#sync-report").await;
    screenshot(&client, "00b-sync-report").await;
    accessible(&client, &axe, "Connect: sync report (dark)").await;
    click(&client, "#sync-continue").await;
    wait_for(&client, &format!("#runs-table tr[data-run='{RUN}']")).await;
    // The home was synced before: this sync brought nothing, so no run is marked new.
    assert_eq!(
        run_js(
            &client,
            "return document.querySelectorAll('#runs-table [data-new]').length",
            vec![]
        )
        .await,
        json!(0)
    );
    screenshot(&client, "01-runs").await;
    accessible(&client, &axe, "Runs (dark)").await;

    // Alice creates her key (sealed with the production KDF) and enrolls it with her MFA device.
    click(&client, "#nav-keys").await;
    wait_for(&client, "#key-create-form").await;
    // Two different passphrases: the error lands at the passphrase field, which takes the focus.
    set(&client, "#key-name", "Alice Adams").await;
    type_into(&client, "#key-pass", PASS_A).await;
    type_into(&client, "#key-pass2", PASS_B).await;
    click(&client, "#key-create").await;
    wait_for(&client, "#key-pass[aria-invalid='true']").await;
    let at_field = text_of(&client, "#key-pass + .field-error").await;
    assert!(at_field.contains("differ"), "{at_field}");
    assert_eq!(
        run_js(&client, "return document.activeElement.id", vec![]).await,
        json!("key-pass")
    );
    screenshot(&client, "01b-key-error-at-field").await;
    accessible(&client, &axe, "Keys: an error at its field (dark)").await;
    type_into(&client, "#key-pass", PASS_A).await;
    type_into(&client, "#key-pass2", PASS_A).await;
    click(&client, "#key-create").await;
    wait_for(&client, "#key-created").await;
    wait_value(
        &client,
        "return document.getElementById('enroll-key').value.length",
        json!(32),
    )
    .await;
    let ka_id = run_js(
        &client,
        "return document.getElementById('enroll-key').value",
        vec![],
    )
    .await
    .as_str()
    .unwrap()
    .to_owned();
    set(&client, "#enroll-profile", &alice.name).await;
    set(&client, "#enroll-region", REGION).await;
    set(&client, "#enroll-endpoint", &endpoint).await;
    // The device comes from Alice's profile (mfa_serial); nobody types it.
    wait_value(
        &client,
        "return document.getElementById('enroll-serial').value",
        json!(alice.mfa_serial),
    )
    .await;
    type_into(&client, "#enroll-code", &alice.current_code()).await;
    click(&client, "#enroll-certify").await;
    click(&client, "#enroll-go").await;
    let enrolled = text_of(&client, "#enrolled").await;
    assert!(enrolled.contains(&alice.arn), "{enrolled}");
    wait_for(
        &client,
        &format!("#keys-table tr[data-key='{ka_id}'] .badge--verified"),
    )
    .await;
    screenshot(&client, "02-key-enrolled").await;
    accessible(&client, &axe, "Keys: enrolled (dark)").await;

    // Her public key, exported: copied, and saved to a file an auditor can use.
    click(
        &client,
        &format!("#keys-table tr[data-key='{ka_id}'] .key-export"),
    )
    .await;
    wait_for(&client, "#key-pem").await;
    click(&client, "#key-copy").await;
    let copied = text_of(&client, "#key-copy-status").await;
    assert!(!copied.is_empty(), "the copy says what happened");
    let saved_key = out.join("alice.pem");
    set(&client, "#key-save-out", &saved_key.display().to_string()).await;
    click(&client, "#key-save").await;
    wait_for(&client, "#key-saved").await;
    let pem = std::fs::read_to_string(&saved_key).unwrap();
    let trusted = countersign_service::TrustedKeys::parse("alice.pem", &pem).unwrap();
    assert_eq!(
        trusted.0.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
        std::slice::from_ref(&ka_id)
    );
    screenshot(&client, "02b-key-saved").await;
    accessible(&client, &axe, "Keys: public key saved (dark)").await;
    click(&client, "#nav-runs").await;

    // 2. Review the run with failures.
    wait_for(&client, &format!("#runs-table tr[data-run='{RUN}']"))
        .await
        .send_keys(ENTER)
        .await
        .unwrap();
    wait_for(&client, "#cases .vrow").await;
    assert_eq!(
        text_of(&client, "#disposition-count").await,
        format!(
            "0 of {} failed or errored cases dispositioned",
            failures.len()
        )
    );
    screenshot(&client, "03-run-review").await;
    accessible(&client, &axe, "Run review (dark)").await;
    // The other tabs and the evidence viewer, in the dark theme too.
    click(&client, "#tab-evidence").await;
    wait_for(&client, "#evidence-table tr[data-path]").await;
    screenshot(&client, "03b-evidence").await;
    accessible(&client, &axe, "Run review: evidence (dark)").await;
    wait_for(&client, "#evidence-table tr[data-path]")
        .await
        .send_keys(ENTER)
        .await
        .unwrap();
    wait_for(&client, "#overlay [data-integrity]").await;
    screenshot(&client, "03c-file").await;
    accessible(&client, &axe, "File viewer (dark)").await;
    click(&client, "#overlay .close").await;
    click(&client, "#tab-trace").await;
    wait_for(&client, "#trace-table").await;
    screenshot(&client, "03d-traceability").await;
    accessible(&client, &axe, "Run review: traceability (dark)").await;
    click(&client, "#tab-cases").await;
    wait_for(&client, "#cases .vrow").await;

    // 3. Disposition every failure, as Alice.
    set(&client, "#case-status", "attention").await;
    // The filter is applied by the service: wait until the list shows its answer.
    wait_value(
        &client,
        "return document.querySelector('#cases-count').textContent.split(' ')[0]",
        json!(failures.len().to_string()),
    )
    .await;
    for i in 0..failures.len() {
        click(&client, &format!("#cases .vrow[data-index='{i}']")).await;
        wait_for(&client, "#disposition[data-dispositioned='false']").await;
        set(&client, "#disp-kind", "deviation").await;
        set(&client, "#disp-ref", "DEV-0042").await;
        set(
            &client,
            "#disp-reason",
            "Investigated; impact assessed — Grüße ✓",
        )
        .await;
        set(&client, "#disp-key", &ka_id).await;
        click(&client, "#disp-save").await;
        // Recorded in Alice's name only once she authenticated: her MFA code the first time
        // (it opens her signing session), her passphrase each time.
        wait_for(&client, "#disp-secrets").await;
        if run_js(
            &client,
            "return !!document.getElementById('disp-mfa')",
            vec![],
        )
        .await
            == json!(true)
        {
            set(&client, "#disp-profile", &alice.name).await;
            type_into(&client, "#disp-mfa", &alice.current_code()).await;
        }
        type_into(&client, "#disp-passphrase", PASS_A).await;
        if i == 0 {
            screenshot(&client, "04a-disposition-authenticate").await;
        }
        click(&client, "#disp-go").await;
        wait_for(&client, "#disposition[data-dispositioned='true']").await;
        if i == 0 {
            screenshot(&client, "04-disposition").await;
            accessible(&client, &axe, "Run review: disposition (dark)").await;
        }
    }
    wait_value(
        &client,
        "return document.getElementById('disposition-count').dataset.done",
        json!(failures.len().to_string()),
    )
    .await;
    screenshot(&client, "05-dispositioned").await;

    // 4. Sign Reviewed as Alice: the plan first, then her passphrase (her session opened when
    // she authenticated her first disposition).
    click(&client, "#open-sign").await;
    wait_for(&client, "#session-open").await;
    request_signature(
        &client,
        "Reviewed",
        &ka_id,
        "Every result and deviation read",
    )
    .await;
    wait_for(&client, "#sign-what").await;
    assert_eq!(text_of(&client, "#plan-run").await, RUN);
    assert_eq!(text_of(&client, "#plan-name").await, "Alice Adams");
    assert_eq!(text_of(&client, "#plan-meaning").await, "Reviewed");
    let when = text_of(&client, "#plan-time").await;
    assert!(
        when.ends_with("+01:00"),
        "the date and time carry the desktop's UTC offset: {when}"
    );
    let digest = text_of(&client, "#plan-digest").await;
    assert_eq!(digest.len(), 64, "{digest}");
    // Before any secret: what the record holds, each failure with its disposition.
    wait_for(&client, "#sign-content[data-loaded='true']").await;
    assert!(text_of(&client, "#content-totals").await.contains("tests"));
    assert_eq!(
        run_js(
            &client,
            "return [document.querySelectorAll(\"#content-failures tr[data-dispositioned='true']\").length, document.querySelectorAll(\"#content-failures tr[data-dispositioned='false']\").length]",
            vec![]
        )
        .await,
        json!([failures.len(), 0])
    );
    assert!(text_of(&client, "#content-failures")
        .await
        .contains("DEV-0042"));
    screenshot(&client, "06-sign-plan").await;
    accessible(&client, &axe, "Sign: the plan (dark)").await;
    let signed_digest = complete_signature(&client, &alice, PASS_A).await;
    assert_eq!(signed_digest, digest);
    assert!(
        text_of(&client, "#signed").await.contains(&digest),
        "the signature is over the digest shown"
    );
    wait_for(&client, "#session-open").await;
    wait_for(&client, "#signatures-table tr[data-meaning='Reviewed']").await;
    screenshot(&client, "07-signed-reviewed").await;

    // 5. Approved as Alice is refused, before any secret is asked for.
    request_signature(&client, "Approved", &ka_id, "Approving my own review").await;
    let refusal = wait_for(&client, "#sign-refusal").await;
    assert_eq!(
        refusal.attr("data-rule").await.unwrap().as_deref(),
        Some("Separation of duties")
    );
    assert_eq!(
        run_js(
            &client,
            "return !!document.getElementById('sign-passphrase')",
            vec![]
        )
        .await,
        json!(false),
        "no secret is asked for a refused request"
    );
    assert_eq!(
        run_js(
            &client,
            "return document.querySelectorAll('#sign-plan .error, #sign-plan [role=alert]').length",
            vec![]
        )
        .await,
        json!(1),
        "the refusal is shown once"
    );
    screenshot(&client, "08-approved-by-alice-refused").await;
    accessible(&client, &axe, "Sign: refused (dark)").await;

    // 6. Approved as Bob: his own MFA session.
    request_signature(&client, "Approved", &kb.key_id, "Approved for release").await;
    wait_for(&client, "#sign-mfa").await;
    complete_signature(&client, &bob, PASS_B).await;
    wait_for(&client, "#signatures-table tr[data-meaning='Approved']").await;
    // The screen says where the run stands now, not a blank form.
    wait_for(&client, "#state-now [data-state='approved']").await;
    screenshot(&client, "09-signed-approved").await;

    // 6b. The sign-off is handed off through the demo bucket: published with Bob's profile,
    // then taken over again; this desktop's record is the published one.
    assert_eq!(
        run_js(
            &client,
            "return document.getElementById('handoff-location').value",
            vec![]
        )
        .await,
        json!(format!("s3://{BUCKET}")),
        "the connection's bucket is offered"
    );
    set(&client, "#handoff-profile", &bob.name).await;
    click(&client, "#handoff-publish").await;
    let published = text_of(&client, "#handoff-published").await;
    assert!(
        published.contains(&format!("s3://{BUCKET}/{RUN}/signoff")),
        "{published}"
    );
    click(&client, "#handoff-fetch").await;
    wait_for(&client, "#handoff-fetched[data-same-record='true']").await;
    assert_eq!(
        run_js(
            &client,
            "return document.querySelectorAll(\"#handoff-items tr[data-status='rejected']\").length",
            vec![]
        )
        .await,
        json!(0)
    );
    screenshot(&client, "09b-handoff").await;
    accessible(&client, &axe, "Sign: hand-off (dark)").await;

    // 7. Export the package.
    click(&client, "#back").await;
    click(&client, "#open-package").await;
    wait_for(&client, &format!("#package-runs input[data-run='{RUN}']")).await;
    assert_eq!(
        run_js(
            &client,
            "return document.querySelector(`#package-runs input[data-run='${arguments[0]}']`).checked",
            vec![json!(RUN)]
        )
        .await,
        json!(true),
        "the run under review is preselected"
    );
    // A folder that does not exist is named at the field, before any work.
    let nowhere = out.join("no-such-folder/p.pdf");
    set(&client, "#package-out", &nowhere.display().to_string()).await;
    click(&client, "#package-build").await;
    wait_for(&client, "#package-out[aria-invalid='true']").await;
    let at_field = text_of(&client, "#package-out + .field-error").await;
    assert!(
        at_field.contains("no-such-folder") && at_field.contains("does not exist"),
        "{at_field}"
    );
    assert!(
        !at_field.contains("home"),
        "not the Countersign home: {at_field}"
    );
    screenshot(&client, "09b-package-folder-missing").await;
    accessible(&client, &axe, "Packages: an error at its field (dark)").await;
    set(&client, "#package-out", &pdf.display().to_string()).await;
    click(&client, "#package-build").await;
    wait_for(&client, "#package-built").await;
    assert_eq!(
        text_of(&client, "#package-built-pdf").await,
        pdf.display().to_string()
    );
    assert!(pdf.exists());
    screenshot(&client, "10-package-built").await;
    accessible(&client, &axe, "Packages: built (dark)").await;

    // Open PDF and Show in folder hand the file (its folder) to the desktop.
    click(&client, "#package-open").await;
    wait_value(
        &client,
        "return document.getElementById('package-open-status').textContent",
        json!("Opened in the desktop's viewer."),
    )
    .await;
    click(&client, "#package-reveal").await;
    wait_value(
        &client,
        "return document.getElementById('package-open-status').textContent",
        json!("Shown in the file manager."),
    )
    .await;
    let asked = std::fs::read_to_string(&opened).unwrap();
    assert_eq!(
        asked.lines().collect::<Vec<_>>(),
        [pdf.display().to_string(), out.display().to_string()],
        "the PDF, then its folder (no file manager on this desktop's bus)"
    );

    // 8. Verify it in the app.
    click(&client, "#verify-go").await;
    let report = wait_for(&client, "#verify-report").await;
    let verified = report.attr("data-verified").await.unwrap();
    if verified.as_deref() != Some("true") {
        let text = report.text().await.unwrap_or_default();
        screenshot(&client, "11-package-verified").await;
        panic!("the package did not verify in the app:\n{text}");
    }
    wait_for(&client, "[data-check='signatures'][data-state='passed']").await;
    // Without a trusted keys file the verdict says what it does not prove, not a plain green.
    assert_eq!(
        report.attr("data-limits").await.unwrap().as_deref(),
        Some("keys_not_checked package_not_approved validation_pages_not_signed")
    );
    // The verdict says what the signatures establish, run by run, not what the pages print.
    let proven = wait_for(&client, "#verify-runs").await;
    assert_eq!(
        proven.attr("data-approved").await.unwrap().as_deref(),
        proven.attr("data-runs").await.unwrap().as_deref(),
        "{}",
        proven.text().await.unwrap_or_default()
    );
    wait_for(&client, "#verify-runs [data-state='approved']").await;
    let limits = wait_for(&client, "#verify-limits")
        .await
        .text()
        .await
        .unwrap();
    assert!(limits.contains("not against keys you trust"), "{limits}");
    assert!(
        limits.contains("results tables") && limits.contains("no signature covers the pages"),
        "{limits}"
    );
    screenshot(&client, "11-package-verified").await;
    accessible(&client, &axe, "Packages: verified (dark)").await;
    // Built in this home, the file is held against its build record; a copy with its cover
    // edited (attachments and /ID untouched) is not verified here.
    wait_for(&client, "[data-check='built'][data-state='passed']").await;
    let edited = out.join("oq-package-edited-cover.pdf");
    std::fs::write(
        &edited,
        countersign_tests::tamper::draw_on_cover(&std::fs::read(&pdf).unwrap()).unwrap(),
    )
    .unwrap();
    set(&client, "#verify-path", &edited.display().to_string()).await;
    click(&client, "#verify-go").await;
    wait_for(&client, "#verify-report[data-verified='false']").await;
    wait_for(&client, "[data-check='built'][data-state='failed']").await;
    assert!(
        run_js(
            &client,
            "return document.getElementById('verify-runs') === null",
            vec![]
        )
        .await
            == json!(true),
        "a package that does not verify establishes nothing"
    );
    screenshot(&client, "11b-package-edited-cover").await;
    set(&client, "#verify-path", &pdf.display().to_string()).await;

    // 8a. The package itself is signed: Reviewed by Alice, then Approved by Bob; Alice
    // approving what she reviewed is refused before any secret. Each signature writes a new
    // PDF with its approval page; the one signed stays as it was.
    assert_eq!(
        run_js(
            &client,
            "return document.querySelector('#package-sign-pdf').value",
            vec![]
        )
        .await,
        json!(pdf.display().to_string()),
        "the package just built is offered for signing"
    );
    let draft_bytes = std::fs::read(&pdf).unwrap();
    request_package_signature(&client, "Reviewed", &ka_id, "Package read in full").await;
    let reviewed_pdf = out.join("oq-package-reviewed.pdf");
    assert_eq!(
        run_js(
            &client,
            "return document.querySelector('#package-sign-out').value",
            vec![]
        )
        .await,
        json!(reviewed_pdf.display().to_string())
    );
    screenshot(&client, "11e-package-sign-plan").await;
    accessible(
        &client,
        &axe,
        "Packages: what the package signature covers (dark)",
    )
    .await;
    assert_eq!(
        complete_package_signature(&client, &alice, PASS_A).await,
        "reviewed"
    );
    assert!(std::fs::read(&reviewed_pdf)
        .unwrap()
        .starts_with(&draft_bytes));
    assert_eq!(
        std::fs::read(&pdf).unwrap(),
        draft_bytes,
        "the draft is unchanged"
    );
    request_package_signature(&client, "Approved", &ka_id, "Approving my own review").await;
    let refusal = wait_for(&client, "#package-sign-refusal").await;
    assert_eq!(
        refusal.attr("data-rule").await.unwrap().as_deref(),
        Some("Separation of duties")
    );
    assert_eq!(
        run_js(
            &client,
            "return !!document.getElementById('package-sign-passphrase')",
            vec![]
        )
        .await,
        json!(false),
        "no secret is asked for a refused request"
    );
    request_package_signature(&client, "Approved", &kb.key_id, "Approved for release").await;
    assert_eq!(
        complete_package_signature(&client, &bob, PASS_B).await,
        "approved"
    );
    let approved_pdf = out.join("oq-package-approved.pdf");
    assert!(approved_pdf.exists());
    // The signed file is one the app wrote: it opens in the desktop's viewer.
    click(&client, "#package-signed-open").await;
    wait_value(
        &client,
        "return document.getElementById('package-signed-open-status').textContent",
        json!("Opened in the desktop's viewer."),
    )
    .await;
    // The packages built here, with what this home recorded of them.
    wait_for(&client, "#package-list tr[data-state='approved']").await;
    let row = text_of(&client, "#package-list tr[data-state='approved']").await;
    assert!(row.contains("approved by Bob Brown"), "{row}");
    screenshot(&client, "11f-package-approved").await;
    accessible(&client, &axe, "Packages: the package approved (dark)").await;
    // The signed file is offered for verification and verifies as approved by Bob.
    click(&client, "#verify-go").await;
    wait_for(&client, "#verify-report[data-verified='true']").await;
    wait_for(&client, "#verify-approvals[data-package-state='approved']").await;
    assert_eq!(
        run_js(
            &client,
            "return document.querySelector('#verify-report').dataset.limits",
            vec![]
        )
        .await,
        json!("keys_not_checked"),
        "approved: only the untrusted keys remain unproven"
    );
    let verdict = text_of(&client, "#verify-report .error-title").await;
    assert!(verdict.contains("approved by Bob Brown"), "{verdict}");
    screenshot(&client, "11g-package-approved-verified").await;

    // 8b. The final package is published to the Object Lock bucket with Bob's profile: the
    // retention is asked for at its field first, then the PDF is written once under
    // COMPLIANCE retention and verified from there, with S3's retention beside the verdict.
    set(&client, "#publish-profile", &bob.name).await;
    set(
        &client,
        "#publish-location",
        &format!("s3://{LOCKED}/packages"),
    )
    .await;
    click(&client, "#publish-go").await;
    wait_for(&client, "#publish-days[aria-invalid='true']").await;
    set(&client, "#publish-days", "30").await;
    click(&client, "#publish-go").await;
    let published = text_of(&client, "#package-published").await;
    assert!(
        published.contains("COMPLIANCE")
            && published.contains(&format!("s3://{LOCKED}/packages/PKG-")),
        "{published}"
    );
    assert_eq!(
        run_js(
            &client,
            "return document.querySelectorAll(\"#package-published-objects tr[data-status='written']\").length",
            vec![]
        )
        .await,
        json!(1)
    );
    screenshot(&client, "11c-package-published").await;
    accessible(&client, &axe, "Packages: published (dark)").await;
    let uri = run_js(
        &client,
        "return document.querySelector('#verify-path').value",
        vec![],
    )
    .await;
    assert!(
        uri.as_str()
            .unwrap()
            .starts_with(&format!("s3://{LOCKED}/packages/PKG-")),
        "the published PDF is offered for verification: {uri}"
    );
    set(&client, "#verify-profile", &bob.name).await;
    click(&client, "#verify-go").await;
    wait_for(&client, "#verify-report[data-verified='true']").await;
    wait_for(&client, "#verify-source[data-mode='COMPLIANCE']").await;
    wait_for(&client, "[data-check='built'][data-state='passed']").await;
    screenshot(&client, "11d-package-verified-from-s3").await;
    set(&client, "#verify-path", &pdf.display().to_string()).await;

    // The audit trail verifies and shows the sign-off.
    click(&client, "#nav-audit").await;
    wait_for(&client, "#audit-list .vrow").await;
    click(&client, "#audit-verify").await;
    wait_for(&client, "#chain-report[data-ok='true']").await;
    screenshot(&client, "12-audit-trail").await;
    accessible(&client, &axe, "Audit trail (dark)").await;

    // 9. Alice signs the audit trail as reviewed up to its last entry (Bob's session is open,
    // so her MFA code is asked for again).
    wait_for(&client, "#reviews-none").await;
    wait_value(
        &client,
        "return document.getElementById('review-up-to').value !== ''",
        json!(true),
    )
    .await;
    let up_to: u64 = run_js(
        &client,
        "return document.getElementById('review-up-to').value",
        vec![],
    )
    .await
    .as_str()
    .unwrap()
    .parse()
    .unwrap();
    wait_value(
        &client,
        "return document.querySelectorAll('#review-key option[value]').length > 1",
        json!(true),
    )
    .await;
    set(&client, "#review-key", &ka_id).await;
    set(
        &client,
        "#review-reason",
        "Read every entry of the sign-off; nothing unexplained",
    )
    .await;
    click(&client, "#review-check").await;
    wait_for(&client, "#review-what").await;
    assert_eq!(
        text_of(&client, "#review-plan-record").await,
        format!("audit-trail:{up_to}")
    );
    assert_eq!(text_of(&client, "#review-plan-name").await, "Alice Adams");
    assert!(text_of(&client, "#review-plan-time")
        .await
        .ends_with("+01:00"));
    // What is signed says what the list showed, before any secret is typed.
    let signed_reason = run_js(
        &client,
        "return document.getElementById('review-plan-reason').textContent",
        vec![],
    )
    .await
    .as_str()
    .unwrap()
    .to_owned();
    assert!(
        signed_reason.starts_with("Read every entry of the sign-off; nothing unexplained")
            && signed_reason.contains(&format!(
                "Shown in the app before signing: entries 1 to {up_to} of the audit trail, without a filter."
            ))
            && signed_reason.contains("were never displayed"),
        "{signed_reason}"
    );
    screenshot(&client, "12b-review-plan").await;
    accessible(&client, &axe, "Audit trail: review plan (dark)").await;
    set(&client, "#review-profile", &alice.name).await;
    type_into(&client, "#review-mfa", &alice.current_code()).await;
    type_into(&client, "#review-passphrase", PASS_A).await;
    let entry_hash = text_of(&client, "#review-plan-hash").await;
    click(&client, "#review-go").await;
    let reviewed = text_of(&client, "#reviewed").await;
    assert!(reviewed.contains(&entry_hash), "{reviewed}");
    wait_for(
        &client,
        &format!("#reviews-table tr[data-up-to='{up_to}'][data-outcome='valid']"),
    )
    .await;
    screenshot(&client, "13-audit-trail-reviewed").await;
    accessible(&client, &axe, "Audit trail: reviewed (dark)").await;

    // 10. A backup of the ledger, to a file of the user's choosing.
    let backup = out.join("ledger-backup.sqlite");
    set(&client, "#backup-out", &backup.display().to_string()).await;
    click(&client, "#backup-go").await;
    wait_for(&client, "#backup-done").await;
    assert!(backup.is_file());

    // 10b. Alice signs a checkpoint of the trail and publishes it under Object Lock; the trail
    // verifies against the published checkpoints.
    set(&client, "#checkpoint-key", &ka_id).await;
    set(
        &client,
        "#checkpoint-location",
        &format!("s3://{LOCKED}/anchors"),
    )
    .await;
    set(&client, "#checkpoint-days", "1").await;
    set(&client, "#checkpoint-profile", &alice.name).await;
    type_into(&client, "#checkpoint-passphrase", PASS_A).await;
    click(&client, "#checkpoint-go").await;
    let checkpoint = text_of(&client, "#checkpoint-published").await;
    assert!(
        checkpoint.contains(&format!("s3://{LOCKED}/anchors/"))
            && checkpoint.contains("COMPLIANCE"),
        "{checkpoint}"
    );
    assert_eq!(
        run_js(
            &client,
            "return document.getElementById('checkpoint-passphrase').value",
            vec![]
        )
        .await,
        json!(""),
        "the passphrase field is cleared"
    );
    accessible(&client, &axe, "Audit trail: checkpoint published (dark)").await;
    set(
        &client,
        "#published-location",
        &format!("s3://{LOCKED}/anchors"),
    )
    .await;
    set(&client, "#published-profile", &alice.name).await;
    click(&client, "#published-go").await;
    wait_for(&client, "#published-verdict[data-ok='true']").await;
    wait_for(&client, "#published-table tr[data-trusted='true']").await;
    screenshot(&client, "13b-checkpoint").await;
    accessible(
        &client,
        &axe,
        "Audit trail: verified against published checkpoints (dark)",
    )
    .await;

    // 10c. The backup taken before the checkpoint would roll the trail back past it: the
    // restore is refused and nothing changes. A backup taken after it restores, and the trail in
    // use is kept aside.
    set(&client, "#restore-path", &backup.display().to_string()).await;
    click(&client, "#restore-check").await;
    click(&client, "#restore-go").await;
    wait_for(&client, "#restore-result [data-code='integrity']").await;
    accessible(&client, &axe, "Audit trail: restore refused (dark)").await;
    let after = out.join("ledger-after-checkpoint.sqlite");
    set(&client, "#backup-out", &after.display().to_string()).await;
    click(&client, "#backup-go").await;
    wait_value(
        &client,
        "const d = document.getElementById('backup-done'); \
         return !!d && d.textContent.includes('ledger-after-checkpoint.sqlite')",
        json!(true),
    )
    .await;
    assert!(after.is_file());
    set(&client, "#restore-path", &after.display().to_string()).await;
    click(&client, "#restore-check").await;
    wait_for(&client, "#restore-confirm [role='alertdialog']").await;
    accessible(&client, &axe, "Audit trail: restore confirmation (dark)").await;
    click(&client, "#restore-go").await;
    let restored = text_of(&client, "#restore-set-aside").await;
    assert!(restored.contains("ledger"), "{restored}");
    screenshot(&client, "13c-restored").await;

    // 10d. The CloudTrail evidence of the demo: without the trail's public key nothing is
    // claimed; with it, the chain validates and the stack's events are listed.
    let pem = scratch.path().join("trail-public-key.pem");
    let mut pem_bytes = Vec::new();
    s3::download(&admin, BUCKET, countersign_demo::PUBLIC_KEY_KEY, |chunk| {
        pem_bytes.extend_from_slice(chunk);
        Ok(())
    })
    .await
    .unwrap();
    std::fs::write(&pem, &pem_bytes).unwrap();
    click(&client, "#nav-evidence").await;
    click(&client, "#evidence-go").await;
    wait_for(&client, "#evidence-verdict[data-valid='false']").await;
    let unchecked = text_of(&client, "#evidence-verdict").await;
    assert!(unchecked.contains("no public key"), "{unchecked}");
    set(&client, "#evidence-key", &pem.display().to_string()).await;
    set(&client, "#evidence-stack", "lims-qual").await;
    click(&client, "#evidence-go").await;
    wait_for(&client, "#evidence-verdict[data-valid='true']").await;
    wait_for(&client, "#evidence-events tbody tr").await;
    screenshot(&client, "13d-aws-evidence").await;
    accessible(&client, &axe, "AWS evidence (dark)").await;

    // 11. The approved run is corrected only through a signed re-open. The Runs screen shows
    // its state, proven by its signatures; a new disposition is refused while it is signed,
    // naming the way forward; Alice re-opens it on the Sign screen with a reason, and the
    // signatures of the first cycle then show as superseded, with who re-opened it, when and why.
    click(&client, "#nav-runs").await;
    wait_for(
        &client,
        &format!("#runs-table tr[data-run='{RUN}'] [data-state='approved'][data-check='verified']"),
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for(&client, "#run-state [data-state='approved']").await;
    disposition_form(&client, 0, &ka_id, "accepted", "CR-0007").await;
    click(&client, "#disp-save").await;
    let locked = text_of(&client, "#disp-refusal").await;
    assert!(
        locked.contains("locked by the signature") && locked.contains("re-open"),
        "{locked}"
    );
    assert!(
        !locked.contains("countersign"),
        "in the window's words: {locked}"
    );
    screenshot(&client, "14a-disposition-locked").await;
    accessible(
        &client,
        &axe,
        "Run review: a signed record is locked (dark)",
    )
    .await;
    click(&client, "#open-sign").await;
    wait_value(
        &client,
        &format!("return !!document.querySelector(\"#reopen-key option[value='{ka_id}']\")"),
        json!(true),
    )
    .await;
    set(&client, "#reopen-key", &ka_id).await;
    // Without a reason the error lands at the reason field, which takes the focus. (A click
    // WebKit's driver reports done but never delivers is made again; once delivered, the
    // answer is checked.)
    let at_reason = "return [document.getElementById('reopen-reason').getAttribute('aria-invalid'), document.getElementById('reopen-plan').innerText, document.activeElement.id]";
    for attempt in 0.. {
        click(&client, "#reopen-check").await;
        let mut answered = json!(null);
        for _ in 0..25 {
            answered = run_js(&client, at_reason, vec![]).await;
            if answered[0] == json!("true") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if answered[0] == json!("true") || attempt == 2 {
            assert_eq!(answered, json!(["true", "", "reopen-reason"]));
            break;
        }
    }
    let reopen_reason = "DEV-0042 named the wrong failure; re-opened to correct it";
    set(&client, "#reopen-reason", reopen_reason).await;
    click(&client, "#reopen-check").await;
    wait_for(&client, "#reopen-what").await;
    // The re-open signs the record as it stands, and says what that record covers.
    let covers = text_of(&client, "#reopen-covers").await;
    assert!(covers.contains("results exactly as shown"), "{covers}");
    if run_js(
        &client,
        "return !!document.getElementById('reopen-mfa')",
        vec![],
    )
    .await
        == json!(true)
    {
        set(&client, "#reopen-profile", &alice.name).await;
        type_into(&client, "#reopen-mfa", &alice.current_code()).await;
    }
    type_into(&client, "#reopen-passphrase", PASS_A).await;
    click(&client, "#reopen-go").await;
    wait_for(&client, "#reopened").await;
    wait_for(&client, "#state-now [data-state='reopened']").await;
    wait_for(
        &client,
        "#signatures-table tr[data-outcome='superseded'][data-meaning='Reviewed']",
    )
    .await;
    wait_for(
        &client,
        "#signatures-table tr[data-outcome='superseded'][data-meaning='Approved']",
    )
    .await;
    let superseded = text_of(&client, "#signatures-table tr.superseded").await;
    assert!(
        superseded.contains("superseded by the re-open") && superseded.contains(reopen_reason),
        "{superseded}"
    );
    screenshot(&client, "15-reopened").await;
    accessible(&client, &axe, "Sign: re-opened (dark)").await;
    click(&client, "#back").await;
    wait_for(&client, "#run-state [data-state='reopened']").await;
    // Waiting for Alice (two signers use this desk: she chooses her list): the re-opened run,
    // every failure still dispositioned, is ready for her review again.
    click(&client, "#nav-runs").await;
    wait_for(&client, &format!("#todo-key option[value='{ka_id}']")).await;
    set(&client, "#todo-key", &ka_id).await;
    wait_for(
        &client,
        &format!("#todo-items li[data-run='{RUN}'][data-kind='ready_for_review']"),
    )
    .await;
    assert!(text_of(&client, "#todo h2").await.contains("Alice Adams"));
    screenshot(&client, "16-waiting-for-you").await;
    accessible(&client, &axe, "Runs: waiting for you (dark)").await;

    // 12. Re-opened, the record takes a new disposition, in Alice's name once she authenticated.
    click(&client, &format!("#todo-items li[data-run='{RUN}'] button")).await;
    wait_for(&client, "#run-state [data-state='reopened']").await;
    disposition_form(&client, 0, &ka_id, "accepted", "CR-0007").await;
    authenticate_disposition(&client, &alice, PASS_A).await;
    wait_value(
        &client,
        "return document.getElementById('disposition-current').textContent.includes('CR-0007')",
        json!(true),
    )
    .await;
    screenshot(&client, "17-re-dispositioned").await;

    // 13. A new cycle: Reviewed by Alice, Approved by Bob; the state is proven again.
    click(&client, "#open-sign").await;
    request_signature(
        &client,
        "Reviewed",
        &ka_id,
        "Re-reviewed after the corrected disposition",
    )
    .await;
    wait_for(&client, "#sign-content[data-loaded='true']").await;
    assert!(text_of(&client, "#content-failures")
        .await
        .contains("CR-0007"));
    complete_signature(&client, &alice, PASS_A).await;
    wait_for(&client, "#state-now [data-state='reviewed']").await;
    request_signature(&client, "Approved", &kb.key_id, "Approved after correction").await;
    complete_signature(&client, &bob, PASS_B).await;
    wait_for(
        &client,
        "#state-now [data-state='approved'][data-check='verified']",
    )
    .await;
    screenshot(&client, "18-approved-again").await;
    accessible(&client, &axe, "Sign: approved after a re-open (dark)").await;

    // 14. The package builds again, verifies in the app, and prints the superseded cycle in
    // its own appendix.
    click(&client, "#back").await;
    click(&client, "#open-package").await;
    let pdf2 = out.join("oq-package-after-reopen.pdf");
    set(&client, "#package-out", &pdf2.display().to_string()).await;
    click(&client, "#package-build").await;
    wait_for(&client, "#package-built").await;
    click(&client, "#verify-go").await;
    let report = wait_for(&client, "#verify-report").await;
    if report.attr("data-verified").await.unwrap().as_deref() != Some("true") {
        let text = report.text().await.unwrap_or_default();
        panic!("the package after the re-open did not verify in the app:\n{text}");
    }
    screenshot(&client, "19-package-after-reopen").await;
    let text = pdftotext(&pdf2);
    assert!(
        text.contains("Appendix: superseded signatures") && text.matches("SUPERSEDED").count() >= 2,
        "{text}"
    );

    // 15. Bob's key is revoked (he left): a reason is required and recorded.
    click(&client, "#nav-keys").await;
    click(
        &client,
        &format!("#keys-table tr[data-key='{}'] .key-revoke", kb.key_id),
    )
    .await;
    click(&client, "#revoke-go").await;
    wait_for(&client, "#revoke-reason[aria-invalid='true']").await;
    let missing_reason = text_of(&client, "#revoke-reason + .field-error").await;
    assert!(missing_reason.contains("reason"), "{missing_reason}");
    accessible(&client, &axe, "Keys: revocation needs a reason (dark)").await;
    set(&client, "#revoke-reason", "Bob left the company").await;
    // Only the key's owner revokes it: the desk's other signer's passphrase does not open it.
    type_into(&client, "#revoke-passphrase", PASS_A).await;
    click(&client, "#revoke-go").await;
    wait_for(&client, "#revoke-result > *").await;
    let refused = text_of(&client, "#revoke-result").await;
    assert!(refused.contains("wrong passphrase"), "{refused}");
    wait_for(
        &client,
        &format!("#keys-table tr[data-key='{}'] .key-revoke", kb.key_id),
    )
    .await;
    // Bob is gone and cannot give it: Alice, the policy's administrator, revokes it,
    // authenticated as at signing.
    set(&client, "#revoke-as", "administrator").await;
    set(&client, "#revoke-admin-key", &ka_id).await;
    click(&client, "#revoke-go").await;
    wait_for(&client, "#admin-revoke-secrets").await;
    if run_js(
        &client,
        "return !!document.getElementById('admin-revoke-mfa')",
        vec![],
    )
    .await
        == json!(true)
    {
        set(&client, "#admin-revoke-profile", &alice.name).await;
        type_into(&client, "#admin-revoke-mfa", &alice.current_code()).await;
    }
    type_into(&client, "#admin-revoke-passphrase", PASS_A).await;
    screenshot(&client, "14b-revoke-as-administrator").await;
    accessible(&client, &axe, "Keys: revocation by an administrator (dark)").await;
    click(&client, "#admin-revoke-go").await;
    let done = text_of(&client, "#revoked").await;
    assert!(done.contains("by Alice Adams, as administrator"), "{done}");
    wait_for(
        &client,
        &format!("#keys-table tr[data-key='{}'] .badge--failed", kb.key_id),
    )
    .await;
    screenshot(&client, "14-keys").await;
    accessible(&client, &axe, "Keys: revoked (dark)").await;

    // 16. With the approver's key revoked, the run is Approved as recorded only: no screen
    // shows it as settled, and each says why.
    click(&client, "#nav-runs").await;
    let row = format!(
        "#runs-table tr[data-run='{RUN}'] [data-state='approved'][data-check='not_verified']"
    );
    wait_for(&client, &row).await;
    let cell = text_of(
        &client,
        &format!("#runs-table tr[data-run='{RUN}'] .run-state"),
    )
    .await;
    assert!(
        cell.contains("as recorded") && cell.contains("revoked"),
        "{cell}"
    );
    wait_for(
        &client,
        &format!("#todo-items li[data-run='{RUN}'][data-kind='no_longer_verifies']"),
    )
    .await;
    screenshot(&client, "20-approved-as-recorded").await;
    accessible(
        &client,
        &axe,
        "Runs: a state not proven by its signatures (dark)",
    )
    .await;

    client.close().await.expect("close the WebDriver session");
    guard.disarm();
    drop(driver);

    // What the app did is in the ledger: two valid signatures, the refusal, the verification.
    // (The app's process may take a moment to exit and release the ledger.)
    let mut opened = Service::open(&home, h.env());
    for _ in 0..30 {
        if opened.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        opened = Service::open(&home, h.env());
    }
    let service = opened.unwrap();
    let sigs = service.signatures(RUN).unwrap();
    let got: Vec<(&str, &str, &str)> = sigs
        .iter()
        .map(|s| {
            (
                s.meaning.as_str(),
                s.printed_name.as_str(),
                s.outcome.as_str(),
            )
        })
        .collect();
    // The first cycle was superseded by Alice's re-open (Bob's approval in it was genuine
    // when made: history, though his key was revoked since); his approval of the current
    // cycle is not in force: its key is revoked.
    assert_eq!(
        got,
        [
            ("Reviewed", "Alice Adams", "superseded"),
            ("Approved", "Bob Brown", "superseded"),
            ("Reopened", "Alice Adams", "valid"),
            ("Reviewed", "Alice Adams", "valid"),
            ("Approved", "Bob Brown", "revoked_key"),
        ]
    );
    let keys = service.keys().unwrap();
    let alice_key = keys.iter().find(|k| k.key_id == ka_id).unwrap();
    assert_eq!(
        alice_key.enrolled.as_ref().map(|e| e.iam_arn.as_str()),
        Some(alice.arn.as_str()),
        "enrolled in the app to her own identity"
    );
    let reviews = service.audit_reviews().unwrap();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(
        (
            reviews[0].up_to,
            reviews[0].signature.printed_name.as_str(),
            reviews[0].signature.outcome.as_str()
        ),
        (up_to, "Alice Adams", "valid")
    );
    assert_eq!(
        reviews[0].signature.reason.as_deref(),
        Some(signed_reason.as_str()),
        "the reason signed is the reason shown"
    );
    let revoked = service
        .ledger_events(&EventFilter {
            action: Some("key.revoked".into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(
        revoked[0].event.reason.as_deref(),
        Some("Bob left the company")
    );
    assert_eq!(
        revoked[0].event.actor.arn.as_deref(),
        Some(alice.arn.as_str()),
        "revoked by the administrator, in her name"
    );
    assert!(sigs.iter().all(|s| s.utc_offset == "+01:00"), "{sigs:?}");
    assert_eq!(
        sigs[2].reason.as_deref(),
        Some("DEV-0042 named the wrong failure; re-opened to correct it")
    );
    let refused = service
        .ledger_events(&EventFilter {
            action: Some("signature.refused".into()),
            ..EventFilter::default()
        })
        .unwrap();
    // Alice approving her own review: of the run (step 5), then of the package (step 8a).
    assert_eq!(
        refused
            .iter()
            .map(|e| e.event.object_kind.as_str())
            .collect::<Vec<_>>(),
        ["run", "package"],
        "{refused:?}"
    );
    for r in &refused {
        let refusal = serde_json::to_string(r).unwrap();
        assert!(refusal.contains("no-self-approval"), "{refusal}");
        assert!(refusal.contains(&alice.arn), "{refusal}");
    }
    let verified = service
        .ledger_events(&EventFilter {
            action: Some("package.verified".into()),
            ..EventFilter::default()
        })
        .unwrap();
    // The package, its copy with the edited cover (recorded as failing), the approved
    // package, the package as published to S3, the second package.
    assert_eq!(verified.len(), 5, "{verified:?}");
    let published = service
        .ledger_events(&EventFilter {
            action: Some("package.published".into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(
        published[0].event.actor.arn.as_deref(),
        Some(bob.arn.as_str()),
        "published in the name of the AWS identity that wrote it"
    );
    assert_eq!(
        verified
            .iter()
            .filter(|e| e
                .event
                .after
                .as_deref()
                .is_some_and(|a| a.contains("\"verified\":false")))
            .count(),
        1,
        "{verified:?}"
    );
}

/// Fills the disposition form of the `index`th failed or errored case.
async fn disposition_form(
    client: &Client,
    index: usize,
    key_id: &str,
    kind: &str,
    reference: &str,
) {
    click(client, "#tab-cases").await;
    set(client, "#case-status", "attention").await;
    click(client, &format!("#cases .vrow[data-index='{index}']")).await;
    wait_for(client, "#disposition-form").await;
    set(client, "#disp-kind", kind).await;
    set(client, "#disp-ref", reference).await;
    set(client, "#disp-key", key_id).await;
    set(
        client,
        "#disp-reason",
        "The failure was a test-environment fault; accepted under the change record",
    )
    .await;
}

/// Records the disposition filled in, authenticated as `user` (MFA code when asked).
async fn authenticate_disposition(client: &Client, user: &TestUser, passphrase: &str) {
    click(client, "#disp-save").await;
    wait_for(client, "#disp-secrets").await;
    if run_js(
        client,
        "return !!document.getElementById('disp-mfa')",
        vec![],
    )
    .await
        == json!(true)
    {
        set(client, "#disp-profile", &user.name).await;
        type_into(client, "#disp-mfa", &user.current_code()).await;
    }
    type_into(client, "#disp-passphrase", passphrase).await;
    click(client, "#disp-go").await;
    wait_for(client, "#disposition[data-dispositioned='true']").await;
}

fn pdftotext(pdf: &Path) -> String {
    let o = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (scripts/setup.sh installs poppler-utils)");
    assert!(o.status.success(), "pdftotext failed on {}", pdf.display());
    // Words as a reader sees them, whatever line a paragraph wraps at.
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
