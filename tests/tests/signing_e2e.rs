//! Part 11 signatures end to end against the emulator: two IAM users with virtual MFA devices
//! create and enroll keys, disposition failures, sign Reviewed and Approved under the policy,
//! and every refusal, failure and lockout lands in the ledger. The envelopes verify, and each
//! tampered variant gives its own outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use countersign_core::clock::{Clock, ManualClock};
use countersign_core::digest::Sha256;
use countersign_core::lifecycle::RunState;
use countersign_core::model::CaseStatus;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::statement::Statement;
use countersign_core::signature::verify::{
    verify_envelope, EnrolledKey, KeyRegistry, Outcome, RecordRef,
};
use countersign_core::signature::VerifyingKey;
use countersign_ledger::EventFilter;
use countersign_service::{
    CancelToken, DispositionKind, DispositionRequest, EnrollRequest, ErrorCode, KeyInfo, MfaCode,
    Passphrase, Service, SignRequest, SignSecrets, SigningSession, StateCheck, TodoKind,
};
use countersign_tests::harness::fetch_request;
use countersign_tests::{Harness, TestUser};
use time::{Duration, OffsetDateTime};

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const OTHER_RUN: &str = "LIMS/IQ/2026-11-02-iq-1";
const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";

/// The demo fetched into a new home whose clock moves only when told (it starts now, so STS
/// and the local clock agree).
async fn fetched(h: &Harness) -> (tempfile::TempDir, Service, Arc<ManualClock>) {
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    service
        .fetch(
            &fetch_request(BUCKET, PREFIX).unwrap(),
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    (home, service, clock)
}

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_owned())
}

fn new_key(service: &Service, name: &str, passphrase: &str) -> KeyInfo {
    service.keys_init(name, &pass(passphrase)).unwrap()
}

async fn enroll(h: &Harness, service: &Service, user: &TestUser, key: &KeyInfo) {
    let e = h.enroll(service, user, &key.key_id).await.unwrap();
    assert_eq!(e.key.iam_arn, user.arn);
    assert_eq!(e.account, "123456789012");
}

fn request(run: &str, meaning: Meaning, key: &KeyInfo) -> SignRequest {
    SignRequest {
        run: run.into(),
        meaning,
        reason: format!("{meaning} after reading every result"),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    }
}

fn secrets(passphrase: &str, code: Option<String>) -> SignSecrets {
    SignSecrets {
        passphrase: pass(passphrase),
        mfa_code: code.map(MfaCode::new),
    }
}

fn actions(service: &Service, action: &str) -> Vec<countersign_ledger::EventRecord> {
    service
        .ledger_events(&EventFilter {
            action: Some(action.into()),
            ..EventFilter::default()
        })
        .unwrap()
}

fn registry(service: &Service) -> KeyRegistry {
    service.key_registry().unwrap()
}

#[tokio::test]
async fn two_signers_review_and_approve_under_the_policy_and_tampering_is_caught() {
    let h = Harness::start().await.unwrap();
    let (home, service, _clock) = fetched(&h).await;
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let ka = new_key(&service, "Alice Adams", PASS_A);
    let kb = new_key(&service, "Bob Brown", PASS_B);

    // Enrollment needs the certification statement accepted.
    let ctx_a = alice.settings();
    let refused = service
        .keys_enroll(
            &ctx_a,
            &EnrollRequest {
                mfa_serial: alice.mfa_serial.clone(),
                mfa_code: MfaCode::new(alice.current_code()),
                key_id: Some(ka.key_id.clone()),
                certification_accepted: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused);
    assert!(refused.message.contains("legally"), "{refused}");
    enroll(&h, &service, &alice, &ka).await;
    enroll(&h, &service, &bob, &kb).await;

    // A key is never re-bound; one person has one active key.
    let rebind = service
        .keys_enroll(
            &bob.settings(),
            &EnrollRequest {
                mfa_serial: bob.mfa_serial.clone(),
                mfa_code: MfaCode::new(bob.current_code()),
                key_id: Some(ka.key_id.clone()),
                certification_accepted: true,
            },
        )
        .await
        .unwrap_err();
    assert!(rebind.message.contains("never re-bound"), "{rebind}");
    let second = new_key(&service, "Alice A. Adams", PASS_A);
    let two_keys = service
        .keys_enroll(
            &ctx_a,
            &EnrollRequest {
                mfa_serial: alice.mfa_serial.clone(),
                mfa_code: MfaCode::new(alice.current_code()),
                key_id: Some(second.key_id.clone()),
                certification_accepted: true,
            },
        )
        .await
        .unwrap_err();
    assert!(two_keys.message.contains("revoke it first"), "{two_keys}");

    let view = service.show(RUN).unwrap();
    let failed: Vec<String> = view
        .run
        .cases_needing_disposition()
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(failed.len(), 2);
    let passed = view
        .run
        .cases
        .iter()
        .find(|c| c.status == CaseStatus::Passed)
        .unwrap()
        .id
        .clone();

    // Only failed or errored cases take a disposition; Bob dispositions both failures before
    // anyone signs (a signature locks the record).
    let disp = |case: &str, kind| DispositionRequest {
        run: RUN.into(),
        case_id: case.into(),
        kind,
        reference: "DEV-0042".into(),
        reason: "Investigated; impact assessed".into(),
    };
    let mut ds = SigningSession::new();
    let not_failed = countersign_tests::harness::record_disposition(
        &service,
        &bob,
        &mut ds,
        PASS_B,
        &disp(&passed, DispositionKind::Accepted),
        &kb.key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(not_failed.code, ErrorCode::BadInput);
    // Nobody else at the desk records in Bob's name: another passphrase does not open his key
    // (a failed attempt, counted), and Alice's MFA session is not Bob's identity.
    let impostor = countersign_tests::harness::record_disposition(
        &service,
        &bob,
        &mut SigningSession::new(),
        PASS_A,
        &disp(&failed[0], DispositionKind::Deviation),
        &kb.key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(impostor.code, ErrorCode::Refused, "{impostor}");
    assert!(impostor.message.contains("wrong passphrase"), "{impostor}");
    let other_identity = service
        .disposition(
            &alice.settings(),
            &mut SigningSession::new(),
            &disp(&failed[0], DispositionKind::Deviation),
            Some(&kb.key_id),
            Some(&alice.mfa_serial),
            secrets(PASS_B, Some(alice.current_code())),
        )
        .await
        .unwrap_err();
    assert_eq!(other_identity.code, ErrorCode::Refused, "{other_identity}");
    assert!(
        other_identity.message.contains("enrolled to"),
        "{other_identity}"
    );
    assert!(actions(&service, "case.dispositioned").is_empty());
    let failures_before = actions(&service, "signature.failed").len();
    for case in &failed {
        let d = countersign_tests::harness::record_disposition(
            &service,
            &bob,
            &mut ds,
            PASS_B,
            &disp(case, DispositionKind::Deviation),
            &kb.key_id,
        )
        .await
        .unwrap();
        assert_eq!(d.by_arn.as_deref(), Some(bob.arn.as_str()));
    }

    // Alice reviews: MFA code and passphrase.
    let mut session_a = SigningSession::new();
    let plan = service
        .sign_check(&session_a, &request(RUN, Meaning::Reviewed, &ka))
        .unwrap();
    assert!(plan.needs_mfa);
    assert_eq!(plan.policy_source, "built-in default");
    let reviewed = service
        .sign(
            &ctx_a,
            &mut session_a,
            &request(RUN, Meaning::Reviewed, &ka),
            secrets(PASS_A, Some(alice.current_code())),
        )
        .await
        .unwrap();
    assert_eq!(reviewed.printed_name, "Alice Adams");

    // Alice may not also approve: refused before any secret, even a wrong passphrase is
    // never tried (no failure recorded).
    let self_approval = service
        .sign_check(&session_a, &request(RUN, Meaning::Approved, &ka))
        .unwrap_err();
    assert_eq!(self_approval.code, ErrorCode::Refused);
    assert!(
        self_approval.message.contains("no-self-approval"),
        "{self_approval}"
    );
    let again = service
        .sign(
            &ctx_a,
            &mut session_a,
            &request(RUN, Meaning::Approved, &ka),
            secrets("not the passphrase", None),
        )
        .await
        .unwrap_err();
    assert!(again.message.contains("no-self-approval"), "{again}");
    assert_eq!(actions(&service, "signature.failed").len(), failures_before);

    let ctx_b = bob.settings();
    let mut session_b = SigningSession::new();

    // Bob approves; his statement follows Alice's.
    let approved = service
        .sign(
            &ctx_b,
            &mut session_b,
            &request(RUN, Meaning::Approved, &kb),
            secrets(PASS_B, Some(bob.current_code())),
        )
        .await
        .unwrap();
    let statement = statement_of(approved.envelope.as_bytes());
    assert_eq!(
        statement.predicate.follows,
        vec![reviewed.envelope_sha256],
        "Approved follows Reviewed"
    );
    assert_eq!(statement.predicate.iam_arn, bob.arn);
    assert_eq!(statement.predicate.sts.mfa_serial, bob.mfa_serial);

    // Out of order: nothing after Approved.
    let late = service
        .sign_check(&session_a, &request(RUN, Meaning::Reviewed, &ka))
        .unwrap_err();
    assert!(late.message.contains("sequence"), "{late}");

    // Bob's MFA session with Alice's key file: refused, the identities differ.
    let mut stolen = request(OTHER_RUN, Meaning::Reviewed, &ka);
    stolen.mfa_serial = Some(bob.mfa_serial.clone());
    let mut session_stolen = SigningSession::new();
    let theft = service
        .sign(
            &ctx_b,
            &mut session_stolen,
            &stolen,
            secrets(PASS_A, Some(bob.current_code())),
        )
        .await
        .unwrap_err();
    assert_eq!(theft.code, ErrorCode::Refused);
    assert!(theft.message.contains("enrolled to"), "{theft}");

    // `show`: each signature verified against the record as it stands.
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 2);
    // Both are valid: the dispositions came before the first signature.
    assert_eq!(sigs[0].outcome.as_str(), "valid", "{sigs:?}");
    assert_eq!(sigs[1].outcome.as_str(), "valid", "{sigs:?}");
    assert_eq!(sigs[0].meaning.as_str(), "Reviewed");
    assert_eq!(sigs[1].printed_name, "Bob Brown");
    assert!(sigs[1].local_time.is_some());
    assert!(sigs[1].reason.as_deref().unwrap().contains("Approved"));

    // Tampered variants, each with its own outcome.
    let record = statement.subject[0].digest.sha256;
    let name = format!("run:{RUN}");
    let here = RecordRef {
        name: &name,
        sha256: record,
    };
    let reg = registry(&service);
    let a_env = Envelope::from_json(reviewed.envelope.as_bytes()).unwrap();
    let b_env = Envelope::from_json(approved.envelope.as_bytes()).unwrap();
    let check = |e: &Envelope, r: &RecordRef<'_>, reg: &KeyRegistry| {
        verify_envelope(&e.to_canonical_json(), r, reg)
    };
    assert!(check(&b_env, &here, &reg).is_valid());
    assert!(check(&a_env, &here, &reg).is_valid());
    // Against another digest of the same record: changed since signing.
    let changed = RecordRef {
        name: &name,
        sha256: countersign_core::digest::Sha256::of(b"another record"),
    };
    assert!(
        matches!(check(&a_env, &changed, &reg), Outcome::RecordChanged { .. }),
        "a record changed after signing is reported as such"
    );

    let mut payload = b_env.clone();
    payload.payload = a_env.payload.clone();
    assert_eq!(check(&payload, &here, &reg), Outcome::BadSignature);
    let mut sig = b_env.clone();
    sig.signatures[0].sig = a_env.signatures[0].sig.clone();
    assert_eq!(check(&sig, &here, &reg), Outcome::BadSignature);
    let mut keyid = b_env.clone();
    keyid.signatures[0].keyid = ka.key_id.clone();
    assert_eq!(check(&keyid, &here, &reg), Outcome::BadSignature);
    keyid.signatures[0].keyid = "0".repeat(32);
    assert!(matches!(
        check(&keyid, &here, &reg),
        Outcome::UnknownKey { .. }
    ));
    let other_digest = RecordRef {
        name: &name,
        sha256: Sha256::of(b"another record"),
    };
    assert!(matches!(
        check(&b_env, &other_digest, &reg),
        Outcome::RecordChanged { .. }
    ));
    let other_name = format!("run:{OTHER_RUN}");
    let moved = RecordRef {
        name: &other_name,
        sha256: record,
    };
    assert!(matches!(
        check(&b_env, &moved, &reg),
        Outcome::SignatureMoved { .. }
    ));
    // Bob's key registered to Alice's identity: the statement's signer is not the enrolled one.
    let mut misbound = KeyRegistry::new();
    let bob_pk = VerifyingKey::from_bytes(&hex_32(
        &service
            .keys_export(Some(&kb.key_id))
            .unwrap()
            .public_key_hex,
    ))
    .unwrap();
    misbound.insert(EnrolledKey {
        public_key: bob_pk,
        iam_arn: alice.arn.clone(),
        printed_name: "Alice Adams".into(),
        revoked: false,
    });
    assert!(matches!(
        check(&b_env, &here, &misbound),
        Outcome::SignerNotEnrolled { .. }
    ));

    // The signed record is locked: a new disposition is refused with the way forward, and
    // both signatures still verify.
    let locked = countersign_tests::harness::record_disposition(
        &service,
        &bob,
        &mut ds,
        PASS_B,
        &DispositionRequest {
            reference: "CR-7".into(),
            kind: DispositionKind::Accepted,
            ..disp(&failed[0], DispositionKind::Accepted)
        },
        &kb.key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(locked.code, ErrorCode::Refused, "{locked}");
    assert!(
        locked.message.contains("is locked by the signature")
            && locked.message.contains("Reviewed by Alice Adams")
            && locked.message.contains("re-open it first"),
        "{locked}"
    );
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(sigs.iter().all(|s| s.valid), "{sigs:?}");
    // Approved, and proven so: both the listing and the run say the signatures verify.
    let listed = |service: &Service| countersign_tests::harness::run_line(service, RUN).unwrap();
    assert_eq!(listed(&service).state, RunState::Approved);
    assert_eq!(listed(&service).state_check, StateCheck::Verified);
    assert_eq!(
        service.show(RUN).unwrap().summary.state_check,
        StateCheck::Verified
    );
    // A stored file of the signed run changed under the home: `show` re-hashes every file and
    // says the signatures cannot be verified against them; restored, the state is proven again.
    let changed = service
        .show(RUN)
        .unwrap()
        .run
        .files
        .iter()
        .find_map(|f| f.path.ends_with(".log").then_some(f.sha256).flatten())
        .unwrap()
        .to_hex();
    let blob = home
        .path()
        .join("store/objects/sha256")
        .join(&changed[..2])
        .join(&changed);
    let original = std::fs::read(&blob).unwrap();
    let mut flipped = original.clone();
    flipped[0] ^= 0x01;
    std::fs::write(&blob, &flipped).unwrap();
    match service.show(RUN).unwrap().summary.state_check {
        StateCheck::NotVerified { detail } => assert!(
            detail.contains("failed their integrity check") && detail.contains(".log"),
            "{detail}"
        ),
        other => panic!("a changed evidence file left the state {other:?}"),
    }
    std::fs::write(&blob, &original).unwrap();
    assert_eq!(
        service.show(RUN).unwrap().summary.state_check,
        StateCheck::Verified
    );

    // A revoked key: its signatures report it.
    assert_eq!(
        service
            .keys_revoke(&kb.key_id, " ", &Passphrase::new(PASS_B.to_owned()))
            .unwrap_err()
            .code,
        ErrorCode::BadInput
    );
    // Only the key's owner revokes it: another passphrase is refused (and counted).
    let wrong = service
        .keys_revoke(
            &kb.key_id,
            "laptop lost",
            &Passphrase::new(PASS_A.to_owned()),
        )
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Refused, "{wrong}");
    assert!(wrong.message.contains("wrong passphrase"), "{wrong}");
    service
        .keys_revoke(
            &kb.key_id,
            "laptop lost",
            &Passphrase::new(PASS_B.to_owned()),
        )
        .unwrap();
    assert!(matches!(
        check(&b_env, &here, &registry(&service)),
        Outcome::RevokedKey { .. }
    ));
    // The run is still Approved as recorded (and locked), but no face may show it as settled:
    // the approval's key is revoked, so the state is marked as not verified, saying why.
    for summary in [listed(&service), service.show(RUN).unwrap().summary] {
        assert_eq!(summary.state, RunState::Approved);
        match &summary.state_check {
            StateCheck::NotVerified { detail } => assert!(
                detail.contains("Approved signature by Bob") && detail.contains("revoked"),
                "{detail}"
            ),
            other => panic!("a revoked approver's key left the state {other:?}"),
        }
    }
    // Alice may approve (she may not approve her own review, but she may re-open it): the run
    // is waiting for her re-open, saying which signature no longer verifies.
    let todo = service.todo(Some(ka.key_id.as_str())).unwrap();
    let item = todo.items.iter().find(|i| i.run == RUN).unwrap();
    assert_eq!(item.kind, TodoKind::NoLongerVerifies, "{item:?}");
    assert!(item.notes.iter().any(|n| n.contains("revoked")), "{item:?}");
    let revoked_sign = service
        .sign_check(&session_b, &request(OTHER_RUN, Meaning::Reviewed, &kb))
        .unwrap_err();
    assert_eq!(revoked_sign.code, ErrorCode::Refused);

    // Every step is in the ledger, and the ledger verifies.
    assert_eq!(actions(&service, "key.created").len(), 3);
    assert_eq!(actions(&service, "key.enrolled").len(), 2);
    assert_eq!(actions(&service, "key.revoked").len(), 1);
    // The two dispositions made before the first signature; the one refused is not recorded.
    assert_eq!(actions(&service, "case.dispositioned").len(), 2);
    let applied = actions(&service, "signature.applied");
    assert_eq!(applied.len(), 2);
    assert_eq!(
        applied[0].event.actor.arn.as_deref(),
        Some(alice.arn.as_str())
    );
    let refusals: Vec<String> = actions(&service, "signature.refused")
        .into_iter()
        .map(|e| e.event.after.unwrap_or_default())
        .collect();
    for rule in ["no-self-approval", "sequence", "identity"] {
        assert!(
            refusals.iter().any(|r| r.contains(rule)),
            "{rule} missing from {refusals:?}"
        );
    }
    assert!(service.ledger_verify().unwrap().is_ok());

    // No secret used here reached any file of the home: ledger, write-ahead log, keys, store.
    drop(service);
    let secrets = [
        PASS_A,
        PASS_B,
        "not the passphrase",
        alice.secret_access_key.as_str(),
        bob.secret_access_key.as_str(),
    ];
    let leaks = countersign_tests::secrets::scan(home.path(), &secrets);
    assert!(leaks.is_empty(), "secrets found in {leaks:?}");
}

#[tokio::test]
async fn sessions_time_out_failures_lock_signing_and_the_lock_ends() {
    let h = Harness::start().await.unwrap();
    let (_home, service, clock) = fetched(&h).await;
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let ka = new_key(&service, "Alice Adams", PASS_A);
    enroll(&h, &service, &alice, &ka).await;
    let ctx = alice.settings();
    let mut session = SigningSession::new();

    // A wrong MFA code: a plain refusal and a failure event, not a crash.
    let wrong = service
        .sign(
            &ctx,
            &mut session,
            &request(RUN, Meaning::Reviewed, &ka),
            secrets(PASS_A, Some(alice.wrong_code())),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Refused);
    assert!(wrong.message.starts_with("MFA code rejected"), "{wrong}");
    assert_eq!(actions(&service, "signature.failed").len(), 1);

    // The first signing opens the session; the next needs the passphrase alone.
    service
        .sign(
            &ctx,
            &mut session,
            &request(RUN, Meaning::Reviewed, &ka),
            secrets(PASS_A, Some(alice.current_code())),
        )
        .await
        .unwrap();
    let sts_calls = h.proxy.action_count("GetSessionToken");
    assert!(
        !service
            .sign_check(&session, &request(OTHER_RUN, Meaning::Reviewed, &ka))
            .unwrap()
            .needs_mfa
    );
    service
        .sign(
            &ctx,
            &mut session,
            &request(OTHER_RUN, Meaning::Reviewed, &ka),
            secrets(PASS_A, None),
        )
        .await
        .unwrap();
    assert_eq!(h.proxy.action_count("GetSessionToken"), sts_calls);

    // Idle for longer than the timeout: the session is over, the MFA code is needed again.
    clock.advance(Duration::minutes(11));
    let third = "ELN/IQ/2026-11-02-iq-1";
    let idle = service
        .sign(
            &ctx,
            &mut session,
            &request(third, Meaning::Reviewed, &ka),
            secrets(PASS_A, None),
        )
        .await
        .unwrap_err();
    assert!(idle.message.contains("MFA code"), "{idle}");
    assert!(
        service
            .sign_check(&session, &request(third, Meaning::Reviewed, &ka))
            .unwrap()
            .needs_mfa
    );

    // Two wrong passphrases make three failures: signing locks.
    for _ in 0..2 {
        let e = service
            .sign(
                &ctx,
                &mut session,
                &request(third, Meaning::Reviewed, &ka),
                secrets("not the passphrase", Some(alice.current_code())),
            )
            .await
            .unwrap_err();
        assert!(e.message.starts_with("wrong passphrase"), "{e}");
        // A first signing that failed does not leave a session open.
        assert!(session
            .open_identity(clock.now(), Duration::minutes(10))
            .is_none());
    }
    assert_eq!(actions(&service, "signature.failed").len(), 3);
    assert_eq!(actions(&service, "signing.locked").len(), 1);
    let locked = service
        .sign(
            &ctx,
            &mut session,
            &request(third, Meaning::Reviewed, &ka),
            secrets(PASS_A, Some(alice.current_code())),
        )
        .await
        .unwrap_err();
    assert!(locked.message.contains("locked"), "{locked}");
    // Counted from the ledger: a new process (a new session) is locked too.
    let fresh = SigningSession::new();
    assert!(service
        .sign_check(&fresh, &request(third, Meaning::Reviewed, &ka))
        .unwrap_err()
        .message
        .contains("locked"));

    // After the lock period signing works again; the clock is now far from STS's, which is
    // warned about and recorded.
    clock.advance(Duration::minutes(31));
    let signed = service
        .sign(
            &ctx,
            &mut session,
            &request(third, Meaning::Reviewed, &ka),
            secrets(PASS_A, Some(alice.current_code())),
        )
        .await
        .unwrap();
    assert!(signed.clock_warning.is_some());
    // STS sessions were opened twice at +11 minutes (each wrong-passphrase attempt was a first
    // signing) and once at +42 minutes on the local clock: all beyond the limit.
    assert_eq!(actions(&service, "clock.skew").len(), 3);
    assert!(service.ledger_verify().unwrap().is_ok());
}

fn statement_of(envelope: &[u8]) -> Statement {
    let env = Envelope::from_json(envelope).unwrap();
    Statement::from_payload(&env.payload_bytes().unwrap()).unwrap()
}

fn hex_32(text: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}
