//! Role profiles (`role_arn` + `source_profile` + `mfa_serial` in the AWS config file): the MFA
//! session is opened with STS AssumeRole and the code the signer typed, and the signer's
//! identity is the assumed-role ARN. Against the emulator, with the profile files written to a
//! temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use countersign_aws::sts::open_mfa_session;
use countersign_aws::{AwsContext, AwsErrorKind, AwsSettings};
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::statement::Statement;
use countersign_ledger::EventFilter;
use countersign_service::{
    CancelToken, EnrollRequest, ErrorCode, MfaCode, Passphrase, Service, SignRequest, SignSecrets,
    SigningSession,
};
use countersign_tests::harness::fetch_request;
use countersign_tests::{Harness, TestUser};

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS: &str = "a long enough passphrase";
const ROLE: &str = "QualificationSigner";

/// Writes `config` and `credentials` for `user`: a plain profile `<name>-base` with the user's
/// access key, and a role profile `signer` assuming `role_arn` from it with the user's device.
fn profile_files(dir: &tempfile::TempDir, user: &TestUser, role_arn: &str) -> (PathBuf, PathBuf) {
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile {name}-base]\nregion = us-east-1\n\n[profile signer]\nrole_arn = {role_arn}\nsource_profile = {name}-base\nmfa_serial = {serial}\nregion = us-east-1\n",
            name = user.name,
            serial = user.mfa_serial
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[{}-base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.name, user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    (config, credentials)
}

async fn role_context(h: &Harness, files: &(PathBuf, PathBuf)) -> AwsContext {
    let settings = AwsSettings {
        profile: Some("signer".into()),
        region: Some("us-east-1".into()),
        endpoint_url: Some(h.proxy.endpoint()),
        force_path_style: true,
    };
    AwsContext::load_from_files(&settings, &files.0, &files.1)
        .await
        .unwrap()
}

fn events(service: &Service, action: &str) -> Vec<countersign_ledger::EventRecord> {
    service
        .ledger_events(&EventFilter {
            action: Some(action.into()),
            ..EventFilter::default()
        })
        .unwrap()
}

#[tokio::test]
async fn a_role_profile_opens_its_session_with_assume_role_and_mfa() {
    let h = Harness::start().await.unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let role_arn = h.create_role_requiring_mfa(ROLE, &[&alice]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = profile_files(&dir, &alice, &role_arn);
    let ctx = role_context(&h, &files).await;

    let role = ctx.role_profile().await.unwrap().unwrap();
    assert_eq!(role.role_arn, role_arn);
    assert_eq!(role.source_profile, "alice-base");
    assert_eq!(role.mfa_serial.as_deref(), Some(alice.mfa_serial.as_str()));

    // The front refuses the role without MFA, as its trust policy requires.
    let source = h.user_context(&alice).await.unwrap();
    let bare = source
        .sts()
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("alice")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&bare),
        Some("AccessDenied")
    );

    // A wrong code is rejected as STS rejects it.
    let wrong = open_mfa_session(&ctx, "", &alice.wrong_code(), None)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, AwsErrorKind::MfaCodeRejected, "{wrong}");
    assert!(wrong.to_string().contains("MFA code rejected"), "{wrong}");
    assert!(wrong.to_string().contains(&role_arn), "{wrong}");

    // A device other than the profile's is refused before any request.
    let before = h.proxy.requests().len();
    let other = open_mfa_session(
        &ctx,
        "arn:aws:iam::123456789012:mfa/someone-else",
        &alice.current_code(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(other.kind, AwsErrorKind::InvalidInput, "{other}");
    assert!(other.to_string().contains("mfa_serial"), "{other}");
    assert_eq!(h.proxy.requests().len(), before);

    // The right code: AssumeRole, not GetSessionToken; the identity is the role session,
    // named after the source user so it is the same at every sign-in.
    let (_session, identity) = open_mfa_session(&ctx, "", &alice.current_code(), None)
        .await
        .unwrap();
    assert_eq!(
        identity.arn,
        format!("arn:aws:sts::123456789012:assumed-role/{ROLE}/alice")
    );
    assert_eq!(identity.account, "123456789012");
    assert_eq!(identity.mfa_serial, alice.mfa_serial);
    let assumed = identity.assumed_role.unwrap();
    assert_eq!(assumed.role_arn, role_arn);
    assert_eq!(assumed.source_arn, alice.arn);
    assert_eq!(assumed.session_name, "alice");
    assert_eq!(h.proxy.action_count("GetSessionToken"), 0);
    assert_eq!(h.proxy.action_count("AssumeRole"), 3);
}

#[tokio::test]
async fn a_role_session_enrolls_and_signs_and_a_wrong_code_is_refused() {
    let h = Harness::start().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
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
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let role_arn = h.create_role_requiring_mfa(ROLE, &[&alice]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = profile_files(&dir, &alice, &role_arn);
    h.connector().use_profile_files(config, credentials);
    // The signer chooses the role profile, as `--profile signer` would.
    let ctx = AwsSettings {
        profile: Some("signer".into()),
        ..AwsSettings::default()
    };
    let session_arn = format!("arn:aws:sts::123456789012:assumed-role/{ROLE}/alice");

    // Enroll through the role profile: the key is bound to the role session's ARN.
    let key = service
        .keys_init("Alice Adams", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let wrong = service
        .keys_enroll(
            &ctx,
            &EnrollRequest {
                mfa_serial: alice.mfa_serial.clone(),
                mfa_code: MfaCode::new(alice.wrong_code()),
                key_id: Some(key.key_id.clone()),
                certification_accepted: true,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Refused);
    assert!(wrong.message.contains("MFA code rejected"), "{wrong}");
    let enrolled = service
        .keys_enroll(
            &ctx,
            &EnrollRequest {
                mfa_serial: alice.mfa_serial.clone(),
                mfa_code: MfaCode::new(alice.current_code()),
                key_id: Some(key.key_id.clone()),
                certification_accepted: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(enrolled.key.iam_arn, session_arn);
    assert_eq!(
        enrolled.groups, None,
        "the default policy has no group grants"
    );

    // Sign through the role profile; the default policy's arn:aws:sts::*:* grant covers it.
    let request = SignRequest {
        run: RUN.into(),
        meaning: Meaning::Reviewed,
        reason: "Reviewed every result".into(),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    };
    let mut session = SigningSession::new();
    let refused = service
        .sign(
            &ctx,
            &mut session,
            &request,
            SignSecrets {
                passphrase: Passphrase::new(PASS.to_owned()),
                mfa_code: Some(MfaCode::new(alice.wrong_code())),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused);
    assert!(refused.message.contains("MFA code rejected"), "{refused}");
    let failures = events(&service, "signature.failed");
    assert_eq!(failures.len(), 1);
    assert!(failures[0]
        .event
        .after
        .as_deref()
        .unwrap()
        .contains("mfa_rejected"));

    let signed = service
        .sign(
            &ctx,
            &mut session,
            &request,
            SignSecrets {
                passphrase: Passphrase::new(PASS.to_owned()),
                mfa_code: Some(MfaCode::new(alice.current_code())),
            },
        )
        .await
        .unwrap();
    let envelope = Envelope::from_json(signed.envelope.as_bytes()).unwrap();
    let statement = Statement::from_payload(&envelope.payload_bytes().unwrap()).unwrap();
    assert_eq!(statement.predicate.iam_arn, session_arn);
    assert_eq!(statement.predicate.sts.mfa_serial, alice.mfa_serial);
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].outcome.as_str(), "valid", "{sigs:?}");
    assert_eq!(h.proxy.action_count("GetSessionToken"), 0);

    // A policy that grants by group cannot reach a role session: enrollment says so.
    let other_home = tempfile::tempdir().unwrap();
    std::fs::write(
        other_home.path().join("policy.json"),
        r#"{"format":"countersign.policy/v1","version":2,"grants":[{"group":"QA-Approvers","meanings":["Approved"],"phases":["OQ"]}]}"#,
    )
    .unwrap();
    let other = h.service(other_home.path()).unwrap();
    let k2 = other
        .keys_init("Alice Adams", &Passphrase::new(PASS.to_owned()))
        .unwrap();
    let e2 = other
        .keys_enroll(
            &ctx,
            &EnrollRequest {
                mfa_serial: String::new(),
                mfa_code: MfaCode::new(alice.current_code()),
                key_id: Some(k2.key_id.clone()),
                certification_accepted: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(e2.groups, Some(Vec::new()));
    let warning = e2.group_warning.unwrap();
    assert!(warning.contains("role session"), "{warning}");
}
