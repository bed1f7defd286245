//! The Qualified state screen in a real WebKit window: the demo approved on 5 November by two
//! IAM users with MFA, then opened in the app weeks later. Without the trail's public key the
//! screen says nothing counts as covered; with it, LIMS shows "Changed" (the SSH rule opened on
//! its security group, with the field difference, who, when and from where, and the rule
//! evaluated NON_COMPLIANT) and ELN "Not demonstrable" (the eight hours CloudTrail logging was
//! stopped), each with its timeline. Every state is checked with axe-core; screenshots go to
//! `test-artifacts/`.
//!
//! Needs an X display (`xvfb-run -a`, or Xvfb installed); without one it FAILS, never skips.

// A test file through and through: its helpers fail the test loudly with what they waited for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use countersign_aws::s3;
use countersign_core::clock::ManualClock;
use countersign_core::layout::{BucketName, Prefix};
use countersign_core::signature::predicate::Meaning;
use countersign_demo::after_approval::{SSH_OPENED_BY, SSH_RULE};
use countersign_service::{
    AwsSettings, CancelToken, DispositionKind, DispositionRequest, MfaCode, Passphrase, Service,
    SignRequest, SignSecrets, SigningSession,
};
use countersign_tests::emulator::{ADMIN_KEY, REGION};
use countersign_tests::harness::fetch_request;
use countersign_tests::webdriver::{build_app, Display};
use countersign_tests::{accessibility, window, Harness};
use fantoccini::Client;
use serde_json::{json, Value};
use time::macros::datetime;

const BUCKET: &str = "qualification-evidence";

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

async fn run_js(client: &Client, script: &str) -> Value {
    window::run_js(client, script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sets a field's value as typing would, firing `input` and `change`.
async fn set(client: &Client, css: &str, value: &str) {
    window::set(client, css, value)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn screen(client: &Client, axe: &str, name: &str) {
    window::screenshot(client, &format!("app-state-{name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    accessibility::assert_accessible(client, axe, &format!("Qualified state: {name}"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qualified_state_screen_shows_each_systems_verdict_and_timeline() {
    let display = Display::acquire().unwrap_or_else(|e| panic!("{e}"));
    let app = build_app().unwrap_or_else(|e| panic!("{e}"));
    let axe = accessibility::axe_source().unwrap_or_else(|e| panic!("{e}"));

    // The demo seeded and fetched on 5 November; every run dispositioned, reviewed by Alice
    // and approved by Bob that morning.
    let h = Harness::start().await.unwrap();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-05 08:00 UTC)));
    let env = h.env_at(clock.clone());
    let seed = Service::demo_seed(
        &env,
        &AwsSettings::default(),
        &BUCKET.parse::<BucketName>().unwrap(),
        &Prefix::root(),
    )
    .await
    .unwrap();
    let mut pem = Vec::new();
    s3::download(
        &h.admin().await.unwrap(),
        BUCKET,
        &seed.cloudtrail_public_key,
        |chunk| {
            pem.extend_from_slice(chunk);
            Ok(())
        },
    )
    .await
    .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let key_file = scratch.path().join("cloudtrail-public-key.pem");
    std::fs::write(&key_file, &pem).unwrap();
    let home = scratch.path().join("home");
    let service = Service::open(&home, env).unwrap();
    service
        .fetch(
            &fetch_request(BUCKET, "").unwrap(),
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let (ka, _) = h
        .enrolled_key(&service, &alice, "Alice Adams", "alice passphrase 1")
        .await
        .unwrap();
    let (kb, _) = h
        .enrolled_key(&service, &bob, "Bob Brown", "bob passphrase 22")
        .await
        .unwrap();
    clock.advance(time::Duration::hours(2));
    let mut sessions = [SigningSession::new(), SigningSession::new()];
    for run in service.runs().unwrap() {
        let failed: Vec<String> = service
            .show(&run.id)
            .unwrap()
            .run
            .cases_needing_disposition()
            .map(|c| c.id.clone())
            .collect();
        let mut ds = countersign_service::SigningSession::new();
        for case in failed {
            countersign_tests::harness::record_disposition(
                &service,
                &alice,
                &mut ds,
                "alice passphrase 1",
                &DispositionRequest {
                    run: run.id.clone(),
                    case_id: case,
                    kind: DispositionKind::Deviation,
                    reference: "DEV-0042".into(),
                    reason: "Investigated; no impact on the intended use".into(),
                },
                &ka.key_id,
            )
            .await
            .unwrap();
        }
        for (i, (user, key, pw, meaning)) in [
            (&alice, &ka, "alice passphrase 1", Meaning::Reviewed),
            (&bob, &kb, "bob passphrase 22", Meaning::Approved),
        ]
        .into_iter()
        .enumerate()
        {
            let open = sessions[i]
                .open_identity(service.now(), time::Duration::minutes(10))
                .is_some();
            service
                .sign(
                    &user.settings(),
                    &mut sessions[i],
                    &SignRequest {
                        run: run.id.clone(),
                        meaning,
                        reason: format!("{meaning} after reading every result"),
                        key_id: Some(key.key_id.clone()),
                        mfa_serial: None,
                    },
                    SignSecrets {
                        passphrase: Passphrase::new(pw.to_owned()),
                        mfa_code: (!open).then(|| MfaCode::new(user.current_code())),
                    },
                )
                .await
                .unwrap();
        }
    }
    drop(service);

    // The app, weeks later (its own clock: today).
    let config = scratch.path().join("aws-config");
    let credentials = scratch.path().join("aws-credentials");
    // `default` reads the demo; Alice signs with her own key and MFA device.
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = {REGION}\n\n[profile alice]\nregion = {REGION}\nmfa_serial = {}\n",
            alice.mfa_serial
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = {ADMIN_KEY}\naws_secret_access_key = {ADMIN_KEY}\n\n[alice]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            alice.access_key_id, alice.secret_access_key
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
    ];
    let window = window::AppWindow::open(&display, Path::new(&app), &env)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = window.client.clone();

    wait_for(&client, "#connect-form").await;
    click(&client, "#nav-state").await;
    wait_for(&client, "#state-form").await;

    // Without the trail's public key nothing counts as covered, and the screen says so.
    click(&client, "#state-go").await;
    wait_for(&client, "#state-unchecked").await;
    wait_for(&client, "#state-LIMS").await;
    screen(&client, &axe, "no-key").await;

    // With it: LIMS changed, ELN not demonstrable, each with its timeline.
    set(&client, "#state-key", &key_file.display().to_string()).await;
    click(&client, "#state-go").await;
    wait_for(&client, "#state-LIMS[data-verdict='changed']").await;
    wait_for(&client, "#state-ELN[data-verdict='not_demonstrable']").await;
    assert_eq!(
        run_js(
            &client,
            "return !!document.getElementById('state-unchecked')"
        )
        .await,
        json!(false)
    );
    let lims = text_of(&client, "#verdict-LIMS").await;
    assert!(lims.contains("Changed"), "{lims}");
    let eln = text_of(&client, "#verdict-ELN").await;
    assert!(eln.contains("Not demonstrable"), "{eln}");
    let change = text_of(&client, "#changes-LIMS tr[data-kind='configuration']").await;
    assert!(change.contains("/configuration/ipPermissions"), "{change}");
    assert!(change.contains("0.0.0.0/0"), "{change}");
    assert!(change.contains(SSH_OPENED_BY), "{change}");
    assert!(change.contains("AuthorizeSecurityGroupIngress"), "{change}");
    assert!(change.contains("203.0.113.24"), "{change}");
    assert!(change.contains("not assessed"), "{change}");
    let rule = text_of(&client, "#changes-LIMS tr[data-kind='compliance']").await;
    assert!(
        rule.contains(SSH_RULE) && rule.contains("NON_COMPLIANT"),
        "{rule}"
    );
    let gaps = run_js(
        &client,
        "return document.querySelectorAll('#coverage-ELN [data-gap]').length",
    )
    .await;
    assert_eq!(gaps, json!(1), "the stopped logging is the ELN gap");
    let marks = run_js(
        &client,
        "return [document.querySelectorAll('#timeline-LIMS .tl-change').length, document.querySelectorAll('#timeline-ELN .tl-gap').length]",
    )
    .await;
    assert_eq!(
        marks,
        json!([2, 1]),
        "the timeline places the changes and the gap"
    );
    screen(&client, &axe, "verdicts").await;

    // Alice assesses the opened rule: what will be signed first, then her MFA code and
    // passphrase; the check runs again and shows the change as assessed.
    click(
        &client,
        "#changes-LIMS tr[data-kind='configuration'] .assess-open",
    )
    .await;
    set(&client, "#assess-impact", "no_impact").await;
    set(&client, "#assess-reference", "CC-2026-117").await;
    set(
        &client,
        "#assess-reason",
        "Rule opened for a vendor session and closed; no GxP data exposed",
    )
    .await;
    wait_for(
        &client,
        &format!("#assess-key option[value='{}']", ka.key_id),
    )
    .await;
    set(&client, "#assess-key", &ka.key_id).await;
    click(&client, "#assess-check").await;
    let summary = text_of(&client, "#assess-plan-summary").await;
    assert!(
        summary.contains("ipPermissions") || !summary.is_empty(),
        "{summary}"
    );
    set(&client, "#assess-profile", "alice").await;
    set(&client, "#assess-region", REGION).await;
    set(&client, "#assess-endpoint", &endpoint).await;
    wait_for(&client, "#assess-mfa")
        .await
        .send_keys(&alice.current_code())
        .await
        .unwrap();
    wait_for(&client, "#assess-passphrase")
        .await
        .send_keys("alice passphrase 1")
        .await
        .unwrap();
    screen(&client, &axe, "assess").await;
    click(&client, "#assess-go").await;
    let assessed = text_of(&client, "#assessed").await;
    assert!(
        assessed.contains("no impact") && assessed.contains("Alice Adams"),
        "{assessed}"
    );
    wait_for(
        &client,
        "#changes-LIMS tr[data-kind='configuration'][data-assessed='true']",
    )
    .await;
    screen(&client, &axe, "assessed").await;

    // The change list, saved as CSV to a new file.
    let csv = scratch.path().join("lims-changes.csv");
    set(&client, "#state-export-out", &csv.display().to_string()).await;
    click(&client, "#state-export-go").await;
    let wrote = text_of(&client, "#state-exported").await;
    assert!(wrote.starts_with("Wrote "), "{wrote}");
    let written = std::fs::read_to_string(&csv).unwrap();
    assert!(written.lines().count() > 1, "{written}");
    assert!(
        written.contains("CC-2026-117"),
        "the assessment is in the list: {written}"
    );

    // Alice signs the periodic review of LIMS over last month (the form's default): a period
    // not over yet is refused at its field; then the findings of the period, exactly as they
    // will be signed; then her passphrase alone (her session is open). She saves the report,
    // which verifies offline.
    click(&client, "#review-open-LIMS").await;
    wait_for(
        &client,
        &format!("#review-key option[value='{}']", ka.key_id),
    )
    .await;
    set(&client, "#review-key", &ka.key_id).await;
    let value = |css: &'static str| {
        let client = client.clone();
        async move {
            run_js(
                &client,
                &format!("return document.querySelector({css:?}).value"),
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
        }
    };
    let (from, to) = (value("#review-from").await, value("#review-to").await);
    assert!(from < to, "{from}..{to}");
    set(
        &client,
        "#review-reason",
        "Monthly review: the opened rule assessed, the logging gap noted",
    )
    .await;
    set(&client, "#review-to", "2099-01-01").await;
    click(&client, "#review-check").await;
    wait_for(&client, "#review-to[aria-invalid='true']").await;
    screen(&client, &axe, "review-refused").await;
    set(&client, "#review-to", &to).await;
    click(&client, "#review-check").await;
    let verdict = text_of(&client, "#review-plan-verdict").await;
    assert!(
        verdict.starts_with("Changed") || verdict.starts_with("Not demonstrable"),
        "{verdict}"
    );
    let digest = text_of(&client, "#review-plan-digest").await;
    assert_eq!(digest.len(), 64, "{digest}");
    wait_for(&client, "#review-passphrase")
        .await
        .send_keys("alice passphrase 1")
        .await
        .unwrap();
    screen(&client, &axe, "review").await;
    click(&client, "#review-go").await;
    let reviewed = text_of(&client, "#reviewed").await;
    assert!(reviewed.contains("Alice Adams"), "{reviewed}");
    wait_for(&client, "#reviews-LIMS li[data-review='valid']").await;
    let report = scratch.path().join("lims-periodic-review.pdf");
    set(&client, "#report-out", &report.display().to_string()).await;
    click(&client, "#report-go").await;
    let wrote = text_of(&client, "#report-written").await;
    assert!(wrote.contains("1 review signature"), "{wrote}");
    screen(&client, &axe, "review-report").await;
    let v = countersign_service::verify_package_file(&report, None).unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(
        v.reports[0].1.signatures[0].printed_name.as_deref(),
        Some("Alice Adams")
    );
    assert_eq!(
        v.reports[0].1.signatures[0]
            .signed_at
            .as_deref()
            .map(|s| s.len()),
        Some(24)
    );
    assert!(
        v.reports[0].1.signatures[0]
            .run
            .contains(&format!("LIMS/{from}T00:00:00.000Z..")),
        "{:?}",
        v.reports[0].1.signatures[0]
    );

    window.close().await.unwrap_or_else(|e| panic!("{e}"));
}
