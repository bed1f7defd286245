//! MFA-backed STS sessions against the emulator, through the proxy's STS front (which checks
//! the one-time code and keeps the caller's identity, as real STS does).

use aws_sdk_sts::error::ProvideErrorMetadata;
use countersign_aws::sts::open_mfa_session;
use countersign_aws::AwsErrorKind;
use countersign_tests::sts_front::INVALID_MFA_CODE_MESSAGE;
use countersign_tests::Harness;

#[tokio::test]
async fn right_code_opens_a_session_that_is_that_user() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let bob = harness.create_user_with_mfa("bob").await.unwrap();
    assert_ne!(alice.mfa_serial, bob.mfa_serial);

    let mut session_keys = Vec::new();
    for user in [&alice, &bob] {
        let ctx = harness.user_context(user).await.unwrap();
        let (session, identity) =
            open_mfa_session(&ctx, &user.mfa_serial, &user.current_code(), None)
                .await
                .unwrap();
        assert_eq!(
            identity.arn,
            format!("arn:aws:iam::123456789012:user/{}", user.name)
        );
        assert_eq!(identity.arn, user.arn);
        assert!(!identity.arn.contains("user/moto"));
        assert_eq!(identity.account, "123456789012");
        assert_eq!(identity.mfa_serial, user.mfa_serial);
        assert_ne!(
            session.access_key_id(),
            user.access_key_id,
            "temporary, not the long-term key"
        );
        assert_eq!(identity.expires_at, session.expires_at());

        // The default session is 12 hours from the server's clock.
        let server = identity
            .server_time_utc()
            .expect("the STS answer carries a Date header");
        let length = (identity.expires_at - server).whole_seconds();
        assert!(
            (43_190..=43_210).contains(&length),
            "session length {length}"
        );

        // The session's credentials act as the user.
        let who = session
            .context(&ctx)
            .sts()
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(who.arn(), Some(user.arn.as_str()));
        session_keys.push(session.access_key_id().to_owned());
    }
    assert_ne!(session_keys[0], session_keys[1]);
    assert_eq!(harness.proxy.action_count("GetSessionToken"), 2);
}

#[tokio::test]
async fn requested_session_length_is_honoured() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let ctx = harness.user_context(&alice).await.unwrap();
    let (_, identity) = open_mfa_session(&ctx, &alice.mfa_serial, &alice.current_code(), Some(900))
        .await
        .unwrap();
    let length = (identity.expires_at - identity.server_time_utc().unwrap()).whole_seconds();
    assert!((890..=910).contains(&length), "session length {length}");
}

#[tokio::test]
async fn wrong_code_is_rejected_with_a_plain_message() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let ctx = harness.user_context(&alice).await.unwrap();

    let err = open_mfa_session(&ctx, &alice.mfa_serial, &alice.wrong_code(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::MfaCodeRejected, "{err}");
    let text = err.to_string();
    assert!(text.starts_with("MFA code rejected"), "{text}");
    for debug_text in [
        "SdkError",
        "ServiceError",
        "Unhandled",
        "ErrorMetadata",
        "raw:",
    ] {
        assert!(
            !text.contains(debug_text),
            "debug output leaked into the message: {text}"
        );
    }
    // An AccessDenied is not retried: exactly one attempt reached STS.
    assert_eq!(harness.proxy.action_count("GetSessionToken"), 1);
}

#[tokio::test]
async fn wrong_code_gets_the_answer_real_sts_gives() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let sts = aws_sdk_sts::Client::new(&harness.proxy.sdk_config(alice.credentials()).await);
    let err = sts
        .get_session_token()
        .serial_number(&alice.mfa_serial)
        .token_code(alice.wrong_code())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("AccessDenied"));
    assert_eq!(service.message(), Some(INVALID_MFA_CODE_MESSAGE));
}

#[tokio::test]
async fn another_users_device_is_rejected() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let bob = harness.create_user_with_mfa("bob").await.unwrap();
    let ctx = harness.user_context(&alice).await.unwrap();

    // Alice signs the request, but presents Bob's device and Bob's valid code.
    let err = open_mfa_session(&ctx, &bob.mfa_serial, &bob.current_code(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::MfaCodeRejected, "{err}");
}

#[tokio::test]
async fn malformed_input_is_refused_before_any_request() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let ctx = harness.user_context(&alice).await.unwrap();
    let seen_before = harness.proxy.requests().len();

    let cases = [
        (alice.mfa_serial.as_str(), "12345", "6 digits"),
        (alice.mfa_serial.as_str(), "12a456", "digits only"),
        (
            "arn:aws:iam::123456789012:user/alice",
            "123456",
            "not an MFA device ARN",
        ),
        // No device given and none in a profile.
        ("", "123456", "no MFA device was given"),
    ];
    for (serial, code, expected) in cases {
        let err = open_mfa_session(&ctx, serial, code, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    let err = open_mfa_session(&ctx, &alice.mfa_serial, &alice.current_code(), Some(60))
        .await
        .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{err}");

    assert_eq!(
        harness.proxy.requests().len(),
        seen_before,
        "nothing was sent"
    );
}

#[tokio::test]
async fn session_credentials_cannot_open_another_session() {
    let harness = Harness::start().await.unwrap();
    let alice = harness.create_user_with_mfa("alice").await.unwrap();
    let ctx = harness.user_context(&alice).await.unwrap();
    let (session, _) = open_mfa_session(&ctx, &alice.mfa_serial, &alice.current_code(), None)
        .await
        .unwrap();
    let err = open_mfa_session(
        &session.context(&ctx),
        &alice.mfa_serial,
        &alice.current_code(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, AwsErrorKind::AccessDenied, "{err}");
}
