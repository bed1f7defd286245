//! Policy grants to IAM groups, end to end against the emulator: the signer's groups are read
//! with IAM ListGroupsForUser using the MFA session's own credentials. A member of the granted
//! group approves; a non-member is refused under rule `authority` (recorded, and before the
//! passphrase is ever tried); a signer whose groups cannot be read gets an error naming
//! `iam:ListGroupsForUser`, never a silent "not authorised".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_core::signature::predicate::Meaning;
use countersign_ledger::EventFilter;
use countersign_service::{
    CancelToken, DispositionKind, DispositionRequest, Enrollment, ErrorCode, KeyInfo, MfaCode,
    Passphrase, Service, SignRequest, SignSecrets, SigningSession,
};
use countersign_tests::harness::fetch_request;
use countersign_tests::{Harness, TestUser};

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS: &str = "a long enough passphrase";
const APPROVERS: &str = "QA-Approvers";

/// Anyone may author or review; only the QA-Approvers group may approve or reject.
const GROUP_POLICY: &str = r#"{
  "format": "countersign.policy/v1",
  "version": 3,
  "grants": [
    {"arn": "arn:aws:iam::*:user/*", "meanings": ["Authored", "Reviewed"], "phases": ["IQ", "OQ", "PQ"]},
    {"group": "QA-Approvers", "meanings": ["Approved", "Rejected"], "phases": ["IQ", "OQ", "PQ"]}
  ]
}"#;

async fn fetched(h: &Harness) -> (tempfile::TempDir, Service) {
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.json"), GROUP_POLICY).unwrap();
    let service = h.service(home.path()).unwrap();
    let req = fetch_request(BUCKET, PREFIX).unwrap();
    service
        .fetch(&req, &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    (home, service)
}

async fn enrolled(h: &Harness, service: &Service, user: &TestUser) -> (KeyInfo, Enrollment) {
    let (key, e) = h
        .enrolled_key(service, user, &format!("{} Tester", user.name), PASS)
        .await
        .unwrap();
    assert_eq!(e.key.iam_arn, user.arn);
    (key, e)
}

fn session() -> SigningSession {
    SigningSession::new()
}

fn request(meaning: Meaning, key: &KeyInfo) -> SignRequest {
    SignRequest {
        run: RUN.into(),
        meaning,
        reason: format!("{meaning} after reading every result"),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    }
}

fn secrets(passphrase: &str, user: &TestUser) -> SignSecrets {
    SignSecrets {
        passphrase: Passphrase::new(passphrase.to_owned()),
        mfa_code: Some(MfaCode::new(user.current_code())),
    }
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
async fn only_members_of_the_granted_group_may_approve() {
    let h = Harness::start().await.unwrap();
    let (_home, service) = fetched(&h).await;
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let carol = h.create_user_with_mfa("carol").await.unwrap();
    let dave = h.create_user_with_mfa("dave").await.unwrap();
    h.create_group(APPROVERS, &[&bob, &dave]).await.unwrap();
    h.create_group("Operators", &[&carol]).await.unwrap();
    // Dave is in the group, but no IAM policy lets him read his own groups.
    h.proxy.deny_action("ListGroupsForUser", "dave");

    // Enrollment reports the groups (the policy grants by group) and warns when they cannot
    // be read.
    let (ka, ea) = enrolled(&h, &service, &alice).await;
    assert_eq!(ea.groups, Some(Vec::new()));
    assert_eq!(ea.group_warning, None);
    let (kb, eb) = enrolled(&h, &service, &bob).await;
    assert_eq!(eb.groups, Some(vec![APPROVERS.to_owned()]));
    let (kc, ec) = enrolled(&h, &service, &carol).await;
    assert_eq!(ec.groups, Some(vec!["Operators".to_owned()]));
    let (kd, ed) = enrolled(&h, &service, &dave).await;
    assert_eq!(ed.groups, None);
    let warning = ed.group_warning.unwrap();
    assert!(warning.contains("iam:ListGroupsForUser"), "{warning}");

    // The failures get their dispositions before anyone signs (a signature locks the record), so
    // only authority decides the approvals below.
    let view = service.show(RUN).unwrap();
    let mut ds = countersign_service::SigningSession::new();
    for case in view.run.cases_needing_disposition() {
        countersign_tests::harness::record_disposition(
            &service,
            &alice,
            &mut ds,
            PASS,
            &DispositionRequest {
                run: RUN.into(),
                case_id: case.id.clone(),
                kind: DispositionKind::Deviation,
                reference: "DEV-0042".into(),
                reason: "Investigated; impact assessed".into(),
            },
            &ka.key_id,
        )
        .await
        .unwrap();
    }

    // Alice reviews under the ARN grant; no group lookup is needed for that.
    let lists_before = h.proxy.action_count("ListGroupsForUser");
    let ctx_a = alice.settings();
    service
        .sign(
            &ctx_a,
            &mut session(),
            &request(Meaning::Reviewed, &ka),
            secrets(PASS, &alice),
        )
        .await
        .unwrap();
    assert_eq!(h.proxy.action_count("ListGroupsForUser"), lists_before);

    // Carol is not in QA-Approvers. Her groups are unknown until her MFA session is open, so
    // the check before any secret lets the request through to that point; then IAM's answer
    // refuses it under `authority`, before the passphrase is tried (a wrong one records no
    // failure).
    let mut session_c = session();
    let plan = service
        .sign_check(&session_c, &request(Meaning::Approved, &kc))
        .unwrap();
    assert!(plan.needs_mfa);
    let ctx_c = carol.settings();
    let refused = service
        .sign(
            &ctx_c,
            &mut session_c,
            &request(Meaning::Approved, &kc),
            secrets("not carol's passphrase", &carol),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{refused}");
    assert!(refused.message.contains("rule authority"), "{refused}");
    assert!(refused.message.contains(&carol.arn), "{refused}");
    assert!(refused.message.contains("Operators"), "{refused}");
    assert!(refused.message.contains(APPROVERS), "{refused}");
    assert!(events(&service, "signature.failed").is_empty());
    let refusals = events(&service, "signature.refused");
    let last = refusals.last().expect("the refusal is in the ledger");
    let after: serde_json::Value =
        serde_json::from_str(last.event.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["rule"], "authority");
    assert_eq!(after["meaning"], "Approved");
    assert_eq!(last.event.actor.arn.as_deref(), Some(carol.arn.as_str()));
    assert!(service.signatures(RUN).unwrap().len() == 1);

    // Dave's groups cannot be read: a clear error naming the permission, not a refusal that
    // leaves him guessing; nothing is signed.
    let ctx_d = dave.settings();
    let denied = service
        .sign(
            &ctx_d,
            &mut session(),
            &request(Meaning::Approved, &kd),
            secrets(PASS, &dave),
        )
        .await
        .unwrap_err();
    assert_ne!(denied.code, ErrorCode::Refused, "{denied}");
    assert!(denied.message.contains("iam:ListGroupsForUser"), "{denied}");
    assert!(denied.message.contains(&dave.arn), "{denied}");
    assert!(denied.message.contains("administrator"), "{denied}");
    assert_eq!(service.signatures(RUN).unwrap().len(), 1);

    // Bob is in QA-Approvers: he approves.
    let ctx_b = bob.settings();
    let mut session_b = session();
    let approved = service
        .sign(
            &ctx_b,
            &mut session_b,
            &request(Meaning::Approved, &kb),
            secrets(PASS, &bob),
        )
        .await
        .unwrap();
    assert_eq!(approved.meaning, Meaning::Approved);
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[1].outcome.as_str(), "valid", "{sigs:?}");
    assert_eq!(sigs[1].iam_arn.as_deref(), Some(bob.arn.as_str()));

    // The groups were read with the MFA session's credentials, never the long-term key.
    let long_term = [
        &bob.access_key_id,
        &carol.access_key_id,
        &dave.access_key_id,
    ];
    for r in h
        .proxy
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("ListGroupsForUser"))
    {
        let akid = r.access_key_id.as_ref().unwrap();
        assert!(!long_term.contains(&akid), "{r:?}");
    }
}
