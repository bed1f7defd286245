//! IAM Identity Center (SSO) device sign-in through the proxy's SSO front, driven by the real
//! `aws-sdk-ssooidc` and `aws-sdk-sso` clients: a person approves the device and the portal hands
//! out credentials of their permission set's role in the emulator; wrong, expired, refused and
//! unassigned requests fail with AWS's own errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_sso::error::ProvideErrorMetadata;
use aws_sdk_sso::operation::RequestId;
use aws_sdk_ssooidc::operation::create_token::{CreateTokenError, CreateTokenOutput};
use aws_sdk_ssooidc::operation::register_client::RegisterClientOutput;
use aws_sdk_ssooidc::operation::start_device_authorization::StartDeviceAuthorizationOutput;
use countersign_tests::emulator::{ACCOUNT, REGION};
use countersign_tests::sso_front::{
    reserved_role_name, DEVICE_CODE_GRANT, INVALID_SESSION_MESSAGE, RESERVED_ROLE_PATH,
};
use countersign_tests::Harness;

const START_URL: &str = "https://countersign-test.awsapps.com/start";
const INSTANCE_REGION: &str = "eu-west-1";
const PERMISSION_SET: &str = "QualificationSigner";

type TokenResult = Result<
    CreateTokenOutput,
    aws_sdk_ssooidc::error::SdkError<CreateTokenError, aws_sdk_ssooidc::config::http::HttpResponse>,
>;

/// A harness with one IAM Identity Center instance and `alice` assigned the signer set.
async fn harness() -> Harness {
    let h = Harness::start().await.unwrap();
    h.proxy.sso_start_url(START_URL, INSTANCE_REGION);
    h.proxy.sso_assign("alice", ACCOUNT, PERMISSION_SET);
    h
}

/// The SSO clients a desktop signing in has: no AWS credentials at all, the proxy as endpoint.
async fn clients(h: &Harness) -> (aws_sdk_ssooidc::Client, aws_sdk_sso::Client) {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(h.proxy.endpoint())
        .no_credentials()
        .load()
        .await;
    (
        aws_sdk_ssooidc::Client::new(&config),
        aws_sdk_sso::Client::new(&config),
    )
}

async fn register(oidc: &aws_sdk_ssooidc::Client) -> RegisterClientOutput {
    oidc.register_client()
        .client_name("countersign")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .unwrap()
}

async fn start(
    oidc: &aws_sdk_ssooidc::Client,
    client: &RegisterClientOutput,
) -> StartDeviceAuthorizationOutput {
    oidc.start_device_authorization()
        .client_id(client.client_id().unwrap())
        .client_secret(client.client_secret().unwrap())
        .start_url(START_URL)
        .send()
        .await
        .unwrap()
}

async fn token(
    oidc: &aws_sdk_ssooidc::Client,
    client: &RegisterClientOutput,
    device_code: &str,
) -> TokenResult {
    oidc.create_token()
        .client_id(client.client_id().unwrap())
        .client_secret(client.client_secret().unwrap())
        .grant_type(DEVICE_CODE_GRANT)
        .device_code(device_code)
        .send()
        .await
}

fn status_of<E>(
    err: &aws_sdk_ssooidc::error::SdkError<E, aws_sdk_ssooidc::config::http::HttpResponse>,
) -> u16 {
    err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test]
async fn approved_device_sign_in_gives_the_permission_sets_role() {
    let h = harness().await;
    let (oidc, sso) = clients(&h).await;

    let client = register(&oidc).await;
    assert!(client.client_secret_expires_at() - client.client_id_issued_at() == 90 * 24 * 3600);
    let device = start(&oidc, &client).await;
    let user_code = device.user_code().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert_eq!(
        device.verification_uri(),
        Some("https://device.sso.eu-west-1.amazonaws.com/")
    );
    assert_eq!(
        device.verification_uri_complete(),
        Some(format!("https://device.sso.eu-west-1.amazonaws.com/?user_code={user_code}").as_str())
    );
    assert_eq!(device.expires_in(), 600);
    assert_eq!(device.interval(), 1);

    // Before the person approves: pending, once per call (the SDK does not retry it).
    let err = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), 400);
    let err = err.into_service_error();
    assert!(err.is_authorization_pending_exception(), "{err:?}");
    assert!(err.request_id().is_some());
    assert_eq!(h.proxy.sso_token_requests(), 1);

    let pending = h
        .proxy
        .wait_for_sso_pending(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(pending, user_code);
    h.proxy.sso_approve(&user_code, "alice").unwrap();
    assert!(h.proxy.sso_pending().is_empty());

    let signed_in = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap();
    assert_eq!(signed_in.token_type(), Some("Bearer"));
    assert_eq!(signed_in.expires_in(), 28_800);
    let access_token = signed_in.access_token().unwrap().to_owned();

    // The device code is consumed.
    let again = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_invalid_grant_exception(), "{again:?}");
    assert_eq!(h.proxy.sso_token_requests(), 3);

    // The portal: credentials of the permission set's role, twice (the role is made once).
    let mut keys = Vec::new();
    for _ in 0..2 {
        let out = sso
            .get_role_credentials()
            .access_token(&access_token)
            .account_id(ACCOUNT)
            .role_name(PERMISSION_SET)
            .send()
            .await
            .unwrap();
        let creds = out.role_credentials().unwrap();
        let credentials = Credentials::new(
            creds.access_key_id().unwrap(),
            creds.secret_access_key().unwrap(),
            creds.session_token().map(str::to_owned),
            None,
            "sso",
        );
        // Milliseconds since the epoch (after 2001-09-09 in milliseconds, not seconds).
        assert!(
            creds.expiration() > 1_000_000_000_000,
            "{}",
            creds.expiration()
        );
        keys.push(credentials.access_key_id().to_owned());

        let sts = aws_sdk_sts::Client::new(&h.proxy.sdk_config(credentials).await);
        let who = sts.get_caller_identity().send().await.unwrap();
        let role = reserved_role_name(PERMISSION_SET, ACCOUNT);
        assert_eq!(
            who.arn(),
            Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/alice").as_str())
        );
    }
    assert_ne!(keys[0], keys[1], "each call assumes the role afresh");

    let iam = aws_sdk_iam::Client::new(&h.emulator.sdk_config().await);
    let role = iam
        .get_role()
        .role_name(reserved_role_name(PERMISSION_SET, ACCOUNT))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.path(), RESERVED_ROLE_PATH);
    assert!(role
        .role_name()
        .starts_with("AWSReservedSSO_QualificationSigner_"));

    let actions: Vec<String> = h
        .proxy
        .requests()
        .into_iter()
        .filter_map(|r| r.action)
        .filter(|a| a.starts_with("sso"))
        .collect();
    assert_eq!(
        actions,
        [
            "sso-oidc:RegisterClient",
            "sso-oidc:StartDeviceAuthorization",
            "sso-oidc:CreateToken",
            "sso-oidc:CreateToken",
            "sso-oidc:CreateToken",
            "sso:GetRoleCredentials",
            "sso:GetRoleCredentials",
        ]
    );
}

#[tokio::test]
async fn a_client_polling_gets_its_token_once_the_person_approves() {
    let h = harness().await;
    let (oidc, _) = clients(&h).await;
    let client = register(&oidc).await;
    let device = start(&oidc, &client).await;

    let poller = {
        let oidc = oidc.clone();
        let client = client.clone();
        let device_code = device.device_code().unwrap().to_owned();
        let interval = Duration::from_secs(device.interval() as u64);
        tokio::spawn(async move {
            let mut pending_answers = 0;
            loop {
                match token(&oidc, &client, &device_code).await {
                    Ok(out) => return (out, pending_answers),
                    Err(e) => {
                        let e = e.into_service_error();
                        assert!(e.is_authorization_pending_exception(), "{e:?}");
                        pending_answers += 1;
                        tokio::time::sleep(interval).await;
                    }
                }
            }
        })
    };

    let user_code = h
        .proxy
        .wait_for_sso_pending(Duration::from_secs(5))
        .await
        .unwrap();
    // Let the client poll at least once before the person approves.
    while h.proxy.sso_token_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.proxy.sso_approve(&user_code, "alice").unwrap();
    let (out, pending_answers) = poller.await.unwrap();
    assert!(out.access_token().is_some());
    assert!(pending_answers >= 1);
    assert_eq!(h.proxy.sso_token_requests(), pending_answers + 1);
}

#[tokio::test]
async fn an_expired_device_code_fails_with_expired_token() {
    let h = harness().await;
    let (oidc, _) = clients(&h).await;
    let client = register(&oidc).await;
    h.proxy.sso_device_expiry(0);
    let device = start(&oidc, &client).await;
    assert_eq!(device.expires_in(), 0);

    assert!(h.proxy.sso_pending().is_empty());
    let refused = h.proxy.sso_approve(device.user_code().unwrap(), "alice");
    assert!(refused.unwrap_err().message.contains("expired"));

    let err = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), 400);
    let err = err.into_service_error();
    assert!(err.is_expired_token_exception(), "{err:?}");
    let CreateTokenError::ExpiredTokenException(e) = err else {
        unreachable!()
    };
    assert_eq!(e.error(), Some("expired_token"));
    assert_eq!(e.error_description(), Some("Device code has expired"));
    assert_eq!(h.proxy.sso_token_requests(), 1, "not retried");
}

#[tokio::test]
async fn a_denied_device_fails_with_access_denied() {
    let h = harness().await;
    let (oidc, _) = clients(&h).await;
    let client = register(&oidc).await;
    let device = start(&oidc, &client).await;
    h.proxy.sso_deny(device.user_code().unwrap()).unwrap();
    assert!(h.proxy.sso_pending().is_empty());
    assert!(h
        .proxy
        .sso_approve(device.user_code().unwrap(), "alice")
        .is_err());

    let err = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_access_denied_exception(), "{err:?}");
}

#[tokio::test]
async fn wrong_codes_clients_and_start_urls_fail_as_aws_does() {
    let h = harness().await;
    let (oidc, _) = clients(&h).await;
    let client = register(&oidc).await;
    let other = register(&oidc).await;
    let device = start(&oidc, &client).await;

    // A device code never issued.
    let err = token(&oidc, &client, "not-a-device-code")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_grant_exception(), "{err:?}");
    let CreateTokenError::InvalidGrantException(e) = err else {
        unreachable!()
    };
    assert_eq!(e.error(), Some("invalid_grant"));
    assert_eq!(e.error_description(), Some("Invalid device code provided"));

    // Another client's device code, even once approved.
    h.proxy
        .sso_approve(device.user_code().unwrap(), "alice")
        .unwrap();
    let err = token(&oidc, &other, device.device_code().unwrap())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_grant_exception(), "{err:?}");

    // A wrong client secret.
    let err = oidc
        .create_token()
        .client_id(client.client_id().unwrap())
        .client_secret("wrong")
        .grant_type(DEVICE_CODE_GRANT)
        .device_code(device.device_code().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), 401);
    assert!(err.into_service_error().is_invalid_client_exception());

    // Another grant.
    let err = oidc
        .create_token()
        .client_id(client.client_id().unwrap())
        .client_secret(client.client_secret().unwrap())
        .grant_type("refresh_token")
        .refresh_token("r")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unsupported_grant_type_exception(), "{err:?}");

    // The approval still stands for the right client after all that.
    assert!(token(&oidc, &client, device.device_code().unwrap())
        .await
        .is_ok());

    // A start URL of no known instance, and an unknown client.
    let err = oidc
        .start_device_authorization()
        .client_id(client.client_id().unwrap())
        .client_secret(client.client_secret().unwrap())
        .start_url("https://elsewhere.awsapps.com/start")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let err = oidc
        .start_device_authorization()
        .client_id("unknown")
        .client_secret("unknown")
        .start_url(START_URL)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_client_exception(), "{err:?}");

    // A registration without a client type.
    let err = oidc
        .register_client()
        .client_name("countersign")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
}

#[tokio::test]
async fn the_portal_refuses_bad_tokens_and_unassigned_roles() {
    let h = harness().await;
    h.proxy.sso_assign("bob", ACCOUNT, "Auditor");
    let (oidc, sso) = clients(&h).await;
    let client = register(&oidc).await;
    let device = start(&oidc, &client).await;
    h.proxy
        .sso_approve(device.user_code().unwrap(), "bob")
        .unwrap();
    let access_token = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap()
        .access_token()
        .unwrap()
        .to_owned();

    let err = sso
        .get_role_credentials()
        .access_token("not-a-token")
        .account_id(ACCOUNT)
        .role_name(PERMISSION_SET)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(401));
    let err = err.into_service_error();
    assert!(err.is_unauthorized_exception(), "{err:?}");
    assert_eq!(err.message(), Some(INVALID_SESSION_MESSAGE));

    // Bob signed in, but holds no QualificationSigner assignment: AWS's 403 ForbiddenException,
    // which the SSO model does not declare, so the SDK keeps it as an unmodeled error.
    let err = sso
        .get_role_credentials()
        .access_token(&access_token)
        .account_id(ACCOUNT)
        .role_name(PERMISSION_SET)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("ForbiddenException"));
    assert_eq!(err.message(), Some("No access"));
    assert!(!err.is_unauthorized_exception());

    // His own assignment works.
    let out = sso
        .get_role_credentials()
        .access_token(&access_token)
        .account_id(ACCOUNT)
        .role_name("Auditor")
        .send()
        .await
        .unwrap();
    assert!(out.role_credentials().is_some());
}

#[tokio::test]
async fn a_member_account_gets_the_role_in_that_account() {
    let h = harness().await;
    let member = "210987654321";
    h.proxy.sso_assign("alice", member, PERMISSION_SET);
    let (oidc, sso) = clients(&h).await;
    let client = register(&oidc).await;
    let device = start(&oidc, &client).await;
    h.proxy
        .sso_approve(device.user_code().unwrap(), "alice")
        .unwrap();
    let access_token = token(&oidc, &client, device.device_code().unwrap())
        .await
        .unwrap()
        .access_token()
        .unwrap()
        .to_owned();
    let out = sso
        .get_role_credentials()
        .access_token(&access_token)
        .account_id(member)
        .role_name(PERMISSION_SET)
        .send()
        .await
        .unwrap();
    let creds = out.role_credentials().unwrap();
    let credentials = Credentials::new(
        creds.access_key_id().unwrap(),
        creds.secret_access_key().unwrap(),
        creds.session_token().map(str::to_owned),
        None,
        "sso",
    );
    let sts = aws_sdk_sts::Client::new(&h.proxy.sdk_config(credentials.clone()).await);
    let who = sts.get_caller_identity().send().await.unwrap();
    let role = reserved_role_name(PERMISSION_SET, member);
    assert_eq!(who.account(), Some(member));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{member}:assumed-role/{role}/alice").as_str())
    );
    // The role lives in the member account, not in the emulator's own.
    let iam = aws_sdk_iam::Client::new(&h.proxy.sdk_config(credentials).await);
    let found = iam.get_role().role_name(&role).send().await.unwrap();
    assert_eq!(
        found.role.unwrap().arn(),
        format!("arn:aws:iam::{member}:role{RESERVED_ROLE_PATH}{role}")
    );
    let admin_iam = aws_sdk_iam::Client::new(&h.emulator.sdk_config().await);
    assert!(admin_iam.get_role().role_name(&role).send().await.is_err());
}
