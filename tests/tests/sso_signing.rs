//! Signing with an IAM Identity Center (SSO) profile: each signing session opens with a fresh
//! device sign-in that the person approves in the browser (the identity provider enforces MFA
//! there), the identity is the permission set's role session, and enrollment binds the key to
//! it. A sign-in nobody approved in time, one denied, or one approved by somebody else opens
//! nothing. Against the emulator, with the proxy serving SSO OIDC and the portal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use countersign_aws::sso::SIGN_IN_PREFIX;
use countersign_aws::AwsSettings;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::statement::Statement;
use countersign_ledger::EventFilter;
use countersign_service::{
    CancelToken, ErrorCode, Passphrase, Service, SignInMethod, SignRequest, SignSecrets,
    SigningSession,
};
use countersign_tests::emulator::ACCOUNT;
use countersign_tests::harness::fetch_request;
use countersign_tests::sso_front::reserved_role_name;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS: &str = "a long enough passphrase";
const START_URL: &str = "https://countersign-test.awsapps.com/start";
const PERMISSION_SET: &str = "QualificationSigner";

/// An SSO profile `qa` as `aws configure sso` writes it (sso-session form), and a legacy one.
fn profile_files(dir: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile qa]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = {PERMISSION_SET}\nregion = us-east-1\n\n\
             [sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
             [profile legacy]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\nsso_account_id = {ACCOUNT}\nsso_role_name = {PERMISSION_SET}\nregion = us-east-1\n\n\
             [profile broken]\nsso_session = nowhere\nsso_account_id = {ACCOUNT}\nsso_role_name = {PERMISSION_SET}\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    std::fs::write(&credentials, "").unwrap();
    (config, credentials)
}

fn qa() -> AwsSettings {
    AwsSettings {
        profile: Some("qa".into()),
        ..AwsSettings::default()
    }
}

fn role_session_arn(user: &str) -> String {
    format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/{}/{user}",
        reserved_role_name(PERMISSION_SET, ACCOUNT)
    )
}

fn events(service: &Service, action: &str) -> Vec<countersign_ledger::EventRecord> {
    service
        .ledger_events(&EventFilter {
            action: Some(action.into()),
            ..EventFilter::default()
        })
        .unwrap()
}

fn secrets() -> SignSecrets {
    SignSecrets {
        passphrase: Passphrase::new(PASS.to_owned()),
        mfa_code: None,
    }
}

/// A harness with the demo fetched into a new home, one IAM Identity Center instance, and
/// alice and bob assigned the signer permission set.
async fn setup() -> (Harness, tempfile::TempDir, Service, tempfile::TempDir) {
    let h = Harness::start().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    h.proxy.sso_start_url(START_URL, "eu-west-1");
    h.proxy.sso_assign("alice", ACCOUNT, PERMISSION_SET);
    h.proxy.sso_assign("bob", ACCOUNT, PERMISSION_SET);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    service
        .fetch(
            &fetch_request(BUCKET, PREFIX).unwrap(),
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = profile_files(&dir);
    h.connector().use_profile_files(config, credentials);
    (h, home, service, dir)
}

#[tokio::test]
async fn an_sso_profile_enrolls_and_signs_after_a_sign_in_approved_in_the_browser() {
    let (h, _home, service, _dir) = setup().await;

    // The profile says how its sessions open; both profile forms are read, a broken one named.
    let method = service.sign_in_method(&qa()).await.unwrap();
    assert_eq!(
        method,
        SignInMethod::IdentityCenter {
            start_url: START_URL.into(),
            account_id: ACCOUNT.into(),
            role_name: PERMISSION_SET.into(),
        }
    );
    let legacy = AwsSettings {
        profile: Some("legacy".into()),
        ..AwsSettings::default()
    };
    assert_eq!(service.sign_in_method(&legacy).await.unwrap(), method);
    let broken = AwsSettings {
        profile: Some("broken".into()),
        ..AwsSettings::default()
    };
    let err = service.sign_in_method(&broken).await.unwrap_err();
    assert!(err.message.contains("[sso-session nowhere]"), "{err}");

    // Enrollment: the sign-in starts, the person approves it a moment later in the browser
    // while Countersign polls, and the key is bound to the role session's identity.
    let key = service
        .keys_init("Alice Adams", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let mut session = SigningSession::new();
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    assert!(prompt.url.contains(&prompt.user_code), "{prompt:?}");
    assert_eq!(prompt.start_url, START_URL);
    let approve = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        h.proxy.sso_approve(&prompt.user_code, "alice").unwrap();
    };
    let profile = qa();
    let (enrolled, ()) = tokio::join!(
        service.keys_enroll_signed_in(&profile, Some(&key.key_id), true, &mut session),
        approve
    );
    let enrolled = enrolled.unwrap();
    assert_eq!(enrolled.key.iam_arn, role_session_arn("alice"));
    assert_eq!(enrolled.account, ACCOUNT);
    assert_eq!(
        enrolled.key.mfa_serial,
        format!("{SIGN_IN_PREFIX}{START_URL}")
    );
    assert!(
        h.proxy.sso_token_requests() >= 2,
        "Countersign polled until the approval"
    );
    // The sign-in is used up: enrolling another key needs a new one.
    let other = service
        .keys_init("Bob Brown", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let again = service
        .keys_enroll_signed_in(&qa(), Some(&other.key_id), true, &mut session)
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::BadInput, "{again}");
    assert!(
        again.message.contains("no IAM Identity Center sign-in"),
        "{again}"
    );

    // Signing without a sign-in is refused before anything is sent, saying what to do.
    let request = SignRequest {
        run: RUN.into(),
        meaning: Meaning::Reviewed,
        reason: "Reviewed every result".into(),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    };
    let mut session = SigningSession::new();
    let plan = service.sign_check(&session, &request).unwrap();
    assert!(plan.needs_mfa);
    let before = h.proxy.requests().len();
    let err = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput, "{err}");
    assert!(err.message.contains("IAM Identity Center"), "{err}");
    assert_eq!(h.proxy.requests().len(), before);

    // With a sign-in approved: signed; the signature names how the session was opened.
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_approve(&prompt.user_code, "alice").unwrap();
    let signed = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap();
    let envelope = Envelope::from_json(signed.envelope.as_bytes()).unwrap();
    let statement = Statement::from_payload(&envelope.payload_bytes().unwrap()).unwrap();
    assert_eq!(statement.predicate.iam_arn, role_session_arn("alice"));
    assert_eq!(
        statement.predicate.sts.mfa_serial,
        format!("{SIGN_IN_PREFIX}{START_URL}")
    );
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].outcome.as_str(), "valid", "{sigs:?}");
    // The session is open now: the next signing needs the passphrase alone.
    let open = session.open_identity(service.now(), time::Duration::minutes(10));
    assert_eq!(open.map(|i| i.arn.clone()), Some(role_session_arn("alice")));
}

#[tokio::test]
async fn an_expired_denied_or_borrowed_sign_in_opens_no_session() {
    let (h, _home, service, _dir) = setup().await;
    let key = service
        .keys_init("Alice Adams", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let mut session = SigningSession::new();
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_approve(&prompt.user_code, "alice").unwrap();
    service
        .keys_enroll_signed_in(&qa(), Some(&key.key_id), true, &mut session)
        .await
        .unwrap();
    let request = SignRequest {
        run: RUN.into(),
        meaning: Meaning::Reviewed,
        reason: "Reviewed every result".into(),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    };

    // Nobody approves before the code expires: the portal refuses the code as AWS does
    // (ExpiredTokenException), the refusal is recorded, nothing is signed.
    h.proxy.sso_device_expiry(2);
    let mut session = SigningSession::new();
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    let err = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err}");
    assert!(err.message.contains("sign-in expired"), "{err}");
    assert!(err.message.contains("ExpiredTokenException"), "{err}");
    assert!(h.proxy.sso_approve(&prompt.user_code, "alice").is_err());
    let refused = events(&service, "signature.refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0]
        .event
        .after
        .as_deref()
        .unwrap()
        .contains("sign_in_expired"));
    assert!(service.signatures(RUN).unwrap().is_empty());

    // Denied in the browser: a failed attempt, counted towards the lockout.
    h.proxy.sso_device_expiry(600);
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_deny(&prompt.user_code).unwrap();
    let err = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err}");
    assert!(err.message.contains("denied"), "{err}");
    let failures = events(&service, "signature.failed");
    assert_eq!(failures.len(), 1);
    assert!(failures[0]
        .event
        .after
        .as_deref()
        .unwrap()
        .contains("sign_in_denied"));

    // Bob approves the sign-in started at Alice's desk: his identity is not the key's.
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_approve(&prompt.user_code, "bob").unwrap();
    let err = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused, "{err}");
    assert!(err.message.contains(&role_session_arn("bob")), "{err}");
    assert!(service.signatures(RUN).unwrap().is_empty());

    // Dan signs in but is not assigned the profile's permission set: the portal answers 403
    // ForbiddenException, and the error says what to check.
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_approve(&prompt.user_code, "dan").unwrap();
    let err = service
        .sign(&qa(), &mut session, &request, secrets())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Aws, "{err}");
    assert!(err.message.contains("ForbiddenException"), "{err}");
    assert!(
        err.message
            .contains(&format!("not assigned the permission set {PERMISSION_SET}")),
        "{err}"
    );
    assert!(service.signatures(RUN).unwrap().is_empty());
}

/// The command line prints the sign-in's page and code on standard error and waits for the
/// approval; an MFA code file makes no sense with such a profile and is refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_prints_the_sign_in_and_waits_for_its_approval() {
    let (h, home, service, dir) = setup().await;
    let key = service
        .keys_init("Alice Adams", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let mut session = SigningSession::new();
    let prompt = service.start_sign_in(&qa(), &mut session).await.unwrap();
    h.proxy.sso_approve(&prompt.user_code, "alice").unwrap();
    service
        .keys_enroll_signed_in(&qa(), Some(&key.key_id), true, &mut session)
        .await
        .unwrap();
    drop(service);

    let cli = countersign_tests::binaries::build_cli().unwrap();
    let secret = dir.path().join("passphrase");
    std::fs::write(&secret, format!("{PASS}\n")).unwrap();
    let endpoint = h.proxy.endpoint();
    let command = |extra: &[&str]| {
        let mut c = std::process::Command::new(&cli);
        c.args([
            "--profile",
            "qa",
            "--endpoint-url",
            endpoint.as_str(),
            "sign",
            RUN,
            "--meaning",
            "reviewed",
            "--reason",
            "Reviewed every result",
            "--passphrase-file",
            secret.to_str().unwrap(),
        ])
        .args(extra)
        .env("COUNTERSIGN_HOME", home.path())
        .env("AWS_CONFIG_FILE", dir.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("credentials"),
        )
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        c
    };

    let refused = command(&["--mfa-code-file", secret.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("IAM Identity Center"));

    let child = command(&[]).spawn().unwrap();
    let code = h
        .proxy
        .wait_for_sso_pending(Duration::from_secs(60))
        .await
        .unwrap();
    h.proxy.sso_approve(&code, "alice").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}{stdout}");
    assert!(stderr.contains(&format!("user_code={code}")), "{stderr}");
    assert!(
        stderr.contains(&format!("shows the code {code}")),
        "{stderr}"
    );
    assert!(
        stdout.contains("Signed LIMS/OQ/2026-11-03-oq-1 as Reviewed"),
        "{stdout}"
    );
    // Before any secret, the signer was told what the record digest covers.
    assert!(
        stderr.contains("The signature covers record sha256:")
            && stderr.contains("the results exactly as shown")
            && stderr.contains("countersign.parsers/v1"),
        "{stderr}"
    );
}
