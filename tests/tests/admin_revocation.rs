//! Revoking another person's key as an administrator the signing policy names, against the
//! emulator: only an administrator may, only once authenticated as at signing (MFA-backed
//! session and their own key's passphrase), never their own key this way, and the audit trail
//! names them. The command line does the same from files, never argv.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_ledger::EventFilter;
use countersign_service::{
    AdminRevokePlan, AdminRevokeRequest, ErrorCode, Service, ServiceError, SigningSession,
};
use countersign_tests::binaries::{build_cli, run_cli_as};
use countersign_tests::harness::secrets;
use countersign_tests::{Harness, TestUser};

const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";
const PASS_C: &str = "carol passphrase 333";

/// Anyone may sign anything; Carol (IT) is the administrator.
const POLICY: &str = r#"{"format":"countersign.policy/v2","version":3,
  "grants":[{"arn":"arn:aws:iam::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}],
  "administrators":[{"arn":"arn:aws:iam::123456789012:user/carol*"}]}"#;

/// `user`'s revocation `r` with `passphrase`, as both faces ask for it: the check first, then
/// the secrets it calls for.
async fn revoke_as(
    service: &Service,
    user: &TestUser,
    session: &mut SigningSession,
    r: &AdminRevokeRequest,
    passphrase: &str,
) -> Result<AdminRevokePlan, ServiceError> {
    let plan = service.keys_revoke_as_admin_check(session, r)?;
    service
        .keys_revoke_as_admin(
            &user.settings(),
            session,
            r,
            secrets(user, passphrase, plan.needs_mfa),
        )
        .await
}

fn revoked(service: &Service) -> Vec<(String, String, String)> {
    service
        .ledger_events(&EventFilter {
            action: Some("key.revoked".into()),
            ..EventFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.event.object_id,
                e.event.actor.arn.unwrap_or_default(),
                e.event.reason.unwrap_or_default(),
            )
        })
        .collect()
}

/// A home under [`POLICY`], its service, and the emulator behind it.
async fn desk() -> (Harness, tempfile::TempDir, Service) {
    let h = Harness::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.json"), POLICY).unwrap();
    let service = h.service(home.path()).unwrap();
    (h, home, service)
}

/// Revoking the key `key` as the administrator whose key is `by`.
fn req(key: &str, by: &str, reason: &str) -> AdminRevokeRequest {
    AdminRevokeRequest {
        key_id: key.to_owned(),
        reason: reason.to_owned(),
        admin_key_id: Some(by.to_owned()),
        mfa_serial: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_authenticated_administrator_revokes_someone_elses_key() {
    let (h, home, service) = desk().await;
    let (_alice, ka) = h
        .signer(&service, "alice", "Alice Adams", PASS_A)
        .await
        .unwrap();
    let (_bob, kb) = h
        .signer(&service, "bob", "Bob Brown", PASS_B)
        .await
        .unwrap();
    let (carol, kc) = h
        .signer(&service, "carol", "Carol Chen", PASS_C)
        .await
        .unwrap();
    let session = SigningSession::new();

    // Refused before any secret: someone the policy does not name, a blank reason, one's own
    // key (its owner revokes it with its passphrase), a key that is not enrolled.
    let not_admin = service
        .keys_revoke_as_admin_check(&session, &req(&kb.key_id, &ka.key_id, "Bob left"))
        .unwrap_err();
    assert_eq!(not_admin.code, ErrorCode::Refused, "{not_admin}");
    assert!(
        not_admin.message.contains("not an administrator") && not_admin.message.contains("v3"),
        "{not_admin}"
    );
    let blank = service
        .keys_revoke_as_admin_check(&session, &req(&kb.key_id, &kc.key_id, "  "))
        .unwrap_err();
    assert_eq!(blank.code, ErrorCode::BadInput, "{blank}");
    let own = service
        .keys_revoke_as_admin_check(&session, &req(&kc.key_id, &kc.key_id, "test"))
        .unwrap_err();
    assert!(own.message.contains("your own"), "{own}");
    let unknown = service
        .keys_revoke_as_admin_check(
            &session,
            &req("00112233445566778899aabbccddeeff", &kc.key_id, "x"),
        )
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::NotFound, "{unknown}");
    // Two keys here could be the administrator's: which one is asked for by its own option,
    // never by `--key` (the key to revoke).
    let whose = service
        .keys_revoke_as_admin_check(
            &session,
            &AdminRevokeRequest {
                admin_key_id: None,
                ..req(&kb.key_id, &kc.key_id, "Bob left")
            },
        )
        .unwrap_err();
    assert_eq!(whose.code, ErrorCode::BadInput, "{whose}");
    assert!(whose.message.contains("--admin-key"), "{whose}");

    // Carol, the administrator: the plan names whose key and who revokes it.
    let bob_leaves = req(&kb.key_id, &kc.key_id, "Bob left the company");
    let plan = service
        .keys_revoke_as_admin_check(&session, &bob_leaves)
        .unwrap();
    assert_eq!(
        (
            plan.printed_name.as_str(),
            plan.admin_printed_name.as_str(),
            plan.needs_mfa
        ),
        ("Bob Brown", "Carol Chen", true)
    );
    // A wrong passphrase revokes nothing, and counts towards Carol's lockout.
    let mut sc = SigningSession::new();
    let wrong = service
        .keys_revoke_as_admin(
            &carol.settings(),
            &mut sc,
            &bob_leaves,
            secrets(&carol, PASS_B, true),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Refused, "{wrong}");
    assert!(revoked(&service).is_empty());
    let failed = service
        .ledger_events(&EventFilter {
            action: Some("signature.failed".into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        failed[0].event.actor.arn.as_deref(),
        Some(carol.arn.as_str())
    );

    // Authenticated, she revokes it: the trail names her and the reason.
    let done = revoke_as(&service, &carol, &mut sc, &bob_leaves, PASS_C)
        .await
        .unwrap();
    assert_eq!(done.key_id.to_hex(), kb.key_id);
    assert_eq!(
        revoked(&service),
        [(
            kb.key_id.clone(),
            carol.arn.clone(),
            "Bob left the company".to_owned()
        )]
    );
    let keys = service.keys().unwrap();
    let bob_key = keys.iter().find(|k| k.key_id == kb.key_id).unwrap();
    assert!(bob_key.enrolled.as_ref().unwrap().revoked.is_some());
    let again = service
        .keys_revoke_as_admin_check(&sc, &bob_leaves)
        .unwrap_err();
    assert!(again.message.contains("already revoked"), "{again}");
    assert!(service.ledger_verify().unwrap().is_ok());
    drop(service);

    // The command line: Alice's key revoked by Carol, her secrets from files.
    let cli = build_cli().unwrap();
    let files = tempfile::tempdir().unwrap();
    let passphrase = files.path().join("passphrase");
    let mfa = files.path().join("mfa-code");
    std::fs::write(&passphrase, format!("{PASS_C}\n")).unwrap();
    std::fs::write(&mfa, carol.current_code()).unwrap();
    let endpoint = h.proxy.endpoint();
    let (code, text) = run_cli_as(
        &cli,
        home.path(),
        Some(endpoint.as_str()),
        Some(&carol),
        &[
            "keys",
            "revoke",
            "--key",
            &ka.key_id,
            "--reason",
            "Alice's laptop was lost",
            "--as-administrator",
            "--admin-key",
            &kc.key_id,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
            "--mfa-code-file",
            mfa.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Revoked key") && text.contains("as administrator Carol Chen"),
        "{text}"
    );
    // The administrator's options need --as-administrator.
    let (code, text) = run_cli_as(
        &cli,
        home.path(),
        None,
        None,
        &[
            "keys",
            "revoke",
            "--key",
            &kb.key_id,
            "--reason",
            "x",
            "--admin-key",
            &kc.key_id,
        ],
    );
    assert_eq!(code, Some(2), "a usage error: {text}");
    let service = h.service(home.path()).unwrap();
    let all = revoked(&service);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1].0, ka.key_id);
    assert_eq!(all[1].1, carol.arn);
    assert!(service.ledger_verify().unwrap().is_ok());
}

/// An administrator locked out by failed attempts revokes nothing until the lock ends: the
/// plan is refused before any secret is asked for, as signing is.
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_out_administrator_is_refused_before_any_secret() {
    let (h, _home, service) = desk().await;
    let (_bob, kb) = h
        .signer(&service, "bob", "Bob Brown", PASS_B)
        .await
        .unwrap();
    let (carol, kc) = h
        .signer(&service, "carol", "Carol Chen", PASS_C)
        .await
        .unwrap();
    let bob_leaves = req(&kb.key_id, &kc.key_id, "Bob left the company");
    let mut sc = SigningSession::new();
    // The policy keeps the default lockout: three failures in fifteen minutes lock signing.
    for _ in 0..3 {
        let wrong = revoke_as(&service, &carol, &mut sc, &bob_leaves, PASS_B)
            .await
            .unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Refused, "{wrong}");
    }
    let locked = service
        .keys_revoke_as_admin_check(&sc, &bob_leaves)
        .unwrap_err();
    assert_eq!(locked.code, ErrorCode::Refused, "{locked}");
    assert!(locked.message.contains("is locked until"), "{locked}");
    // Even the right secrets revoke nothing while the lock lasts.
    let still = service
        .keys_revoke_as_admin(
            &carol.settings(),
            &mut sc,
            &bob_leaves,
            secrets(&carol, PASS_C, false),
        )
        .await
        .unwrap_err();
    assert!(still.message.contains("is locked until"), "{still}");
    assert!(revoked(&service).is_empty());
    assert!(service.ledger_verify().unwrap().is_ok());
}
