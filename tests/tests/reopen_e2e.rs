//! The record lifecycle end to end against the emulator: a run reviewed and approved is
//! locked; a change of disposition is refused with the way forward; a re-open is a signed act
//! by someone the policy allows to approve, with a reason; the earlier signatures then show as
//! superseded (not broken), the disposition changes (authenticated), a new review and approval
//! follow, and the package carries the whole history and verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use countersign_core::clock::ManualClock;
use countersign_core::lifecycle::RunState;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::verify::OutcomeCode;
use countersign_service::{
    CancelToken, DispositionKind, DispositionRequest, ErrorCode, KeyInfo, PackageRequest,
    Passphrase, ReopenRequest, Service, SignRequest, SigningSession, StateCheck, TodoKind,
};
use countersign_tests::binaries::{build_cli, run_cli_as};
use countersign_tests::harness::secrets;
use countersign_tests::harness::{fetch_request, record_disposition};
use countersign_tests::{Harness, TestUser};
use time::OffsetDateTime;

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";

/// Alice reviews, Bob approves (and so may re-open); nobody else signs anything.
const POLICY: &str = r#"{"format":"countersign.policy/v1","version":7,"grants":[
  {"arn":"arn:aws:iam::123456789012:user/alice*","meanings":["Reviewed"],"phases":["IQ","OQ","PQ"]},
  {"arn":"arn:aws:iam::123456789012:user/bob*","meanings":["Approved","Rejected"],"phases":["IQ","OQ","PQ"]}
]}"#;

async fn sign(
    service: &Service,
    user: &TestUser,
    session: &mut SigningSession,
    key: &KeyInfo,
    pass: &str,
    meaning: Meaning,
) {
    let req = SignRequest {
        run: RUN.into(),
        meaning,
        reason: format!("{meaning} after reading every result"),
        key_id: Some(key.key_id.clone()),
        mfa_serial: None,
    };
    let plan = service.sign_check(session, &req).unwrap();
    service
        .sign(
            &user.settings(),
            session,
            &req,
            secrets(user, pass, plan.needs_mfa),
        )
        .await
        .unwrap();
}

/// What `todo` lists for the holder of `key` about RUN, and every kind it lists at all.
fn todo(service: &Service, key: &KeyInfo) -> (Vec<TodoKind>, Vec<TodoKind>) {
    let t = service.todo(Some(&key.key_id)).unwrap();
    (
        t.items
            .iter()
            .filter(|i| i.run == RUN)
            .map(|i| i.kind)
            .collect(),
        t.items.iter().map(|i| i.kind).collect(),
    )
}

fn state(service: &Service) -> (RunState, Option<String>) {
    let s = service
        .runs()
        .unwrap()
        .into_iter()
        .find(|r| r.id == RUN)
        .unwrap();
    (
        s.state,
        s.state_act
            .map(|a| format!("{} by {}", a.meaning, a.printed_name)),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_run_changes_only_through_a_signed_re_open_and_keeps_its_history() {
    let h = Harness::start().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.json"), POLICY).unwrap();
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
    // Without an enrolled key there is nobody whose list it would be.
    let nobody = service.todo(None).unwrap_err();
    assert_eq!(nobody.code, ErrorCode::NotFound, "{nobody}");
    assert!(nobody.message.contains("no enrolled key"), "{nobody}");
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let ka = service
        .keys_init("Alice Adams", &Passphrase::new(PASS_A.into()))
        .unwrap();
    let kb = service
        .keys_init("Bob Brown", &Passphrase::new(PASS_B.into()))
        .unwrap();
    h.enroll(&service, &alice, &ka.key_id).await.unwrap();
    h.enroll(&service, &bob, &kb.key_id).await.unwrap();
    assert_eq!(state(&service), (RunState::Collected, None));

    // What is waiting for whom, by the policy: Alice (reviewer) has cases to disposition;
    // Bob (approver) has nothing to review and nothing reviewed to approve. With two keys in
    // the home, `todo` asks whose list.
    assert_eq!(service.todo(None).unwrap_err().code, ErrorCode::BadInput);
    let unknown = service
        .todo(Some("00112233445566778899aabbccddeeff"))
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::NotFound, "{unknown}");
    assert_eq!(todo(&service, &ka).0, vec![TodoKind::NeedsDisposition]);
    let (bob_run, bob_all) = todo(&service, &kb);
    assert!(bob_run.is_empty() && bob_all.is_empty(), "{bob_all:?}");

    // Alice dispositions both failures: the run is in review.
    let failed = countersign_tests::harness::failed_cases(&service, RUN).unwrap();
    let disp = |case: &str, reference: &str| DispositionRequest {
        run: RUN.into(),
        case_id: case.into(),
        kind: DispositionKind::Deviation,
        reference: reference.into(),
        reason: "Investigated; impact assessed".into(),
    };
    let mut sa = SigningSession::new();
    for case in &failed {
        record_disposition(
            &service,
            &alice,
            &mut sa,
            PASS_A,
            &disp(case, "DEV-0042"),
            &ka.key_id,
        )
        .await
        .unwrap();
    }
    assert_eq!(state(&service).0, RunState::InReview);
    assert_eq!(todo(&service, &ka).0, vec![TodoKind::ReadyForReview]);
    assert!(todo(&service, &kb).0.is_empty());

    // A re-open of a run nobody signed is refused: there is nothing to supersede.
    let reopen = |who: &KeyInfo, reason: &str| ReopenRequest {
        run: RUN.into(),
        reason: reason.into(),
        key_id: Some(who.key_id.clone()),
        mfa_serial: None,
    };
    let early = service
        .reopen_check(&SigningSession::new(), &reopen(&kb, "too early"))
        .unwrap_err();
    assert_eq!(early.code, ErrorCode::Refused, "{early}");
    assert!(
        early.message.contains("no signature to supersede"),
        "{early}"
    );

    // Reviewed by Alice, Approved by Bob.
    sign(&service, &alice, &mut sa, &ka, PASS_A, Meaning::Reviewed).await;
    assert_eq!(
        state(&service),
        (RunState::Reviewed, Some("Reviewed by Alice Adams".into()))
    );
    assert!(todo(&service, &ka).0.is_empty(), "Alice reviewed it");
    assert_eq!(todo(&service, &kb).0, vec![TodoKind::ReadyForApproval]);
    let mut sb = SigningSession::new();
    sign(&service, &bob, &mut sb, &kb, PASS_B, Meaning::Approved).await;
    assert!(todo(&service, &ka).0.is_empty() && todo(&service, &kb).0.is_empty());
    assert_eq!(
        state(&service),
        (RunState::Approved, Some("Approved by Bob Brown".into()))
    );

    // Locked: a change of disposition is refused, naming the way forward.
    let locked = record_disposition(
        &service,
        &alice,
        &mut sa,
        PASS_A,
        &disp(&failed[0], "DEV-0043"),
        &ka.key_id,
    )
    .await
    .unwrap_err();
    assert_eq!(locked.code, ErrorCode::Refused, "{locked}");
    assert!(
        locked.message.contains("is locked by the signature")
            && locked.message.contains("Approved by Bob Brown")
            && locked.message.contains("re-open it first"),
        "{locked}"
    );

    // Only someone the policy lets approve may re-open; a reason is required.
    let not_allowed = service
        .reopen_check(&sa, &reopen(&ka, "wrong deviation number"))
        .unwrap_err();
    assert_eq!(not_allowed.code, ErrorCode::Refused, "{not_allowed}");
    assert!(
        not_allowed.message.contains("not authorised to re-open"),
        "{not_allowed}"
    );
    let blank = service.reopen_check(&sb, &reopen(&kb, "  ")).unwrap_err();
    assert_eq!(blank.code, ErrorCode::BadInput, "{blank}");
    // A wrong passphrase re-opens nothing.
    let wrong = service
        .reopen(
            &bob.settings(),
            &mut SigningSession::new(),
            &reopen(&kb, "DEV-0042 was the wrong reference"),
            secrets(&bob, PASS_A, true),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Refused, "{wrong}");
    assert_eq!(state(&service).0, RunState::Approved);

    // Bob re-opens, signed (his session is open: the passphrase alone).
    let reason = "DEV-0042 was the wrong reference; the failure is tracked as DEV-0043";
    let plan = service.reopen_check(&sb, &reopen(&kb, reason)).unwrap();
    assert!(!plan.needs_mfa, "inside Bob's open signing session");
    let info = service
        .reopen(
            &bob.settings(),
            &mut sb,
            &reopen(&kb, reason),
            secrets(&bob, PASS_B, false),
        )
        .await
        .unwrap();
    assert_eq!(info.meaning, Meaning::Reopened);
    assert_eq!(
        state(&service),
        (RunState::Reopened, Some("Reopened by Bob Brown".into()))
    );
    assert_eq!(todo(&service, &ka).0, vec![TodoKind::ReadyForReview]);
    // The earlier signatures are superseded, not broken; the re-open is valid.
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs.len(), 3);
    for s in &sigs[..2] {
        assert_eq!(s.outcome, OutcomeCode::Superseded, "{s:?}");
        assert!(!s.valid);
        assert!(
            s.outcome_detail.contains("superseded by the re-open")
                && s.outcome_detail.contains("Bob Brown")
                && s.outcome_detail.contains(reason),
            "{}",
            s.outcome_detail
        );
    }
    assert!(
        sigs[2].valid && sigs[2].meaning == Meaning::Reopened,
        "{:?}",
        sigs[2]
    );
    // A sign-off hand-off carries one record's signatures: a re-opened run's history is
    // refused there, with the way to hand it over.
    let handoff = service
        .signoff_publish(
            &bob.settings(),
            &countersign_service::PublishRequest {
                run: RUN.into(),
                to: format!("s3://{BUCKET}/{PREFIX}").parse().unwrap(),
                object_lock_days: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(handoff.code, ErrorCode::Refused, "{handoff}");
    assert!(handoff.message.contains("validation package"), "{handoff}");
    // A second re-open needs a new signature first.
    let twice = service.reopen_check(&sb, &reopen(&kb, reason)).unwrap_err();
    assert!(
        twice.message.contains("no signature to supersede"),
        "{twice}"
    );

    // The disposition changes, authenticated; the run is in review again and the re-open
    // still verifies against the record it re-opened.
    record_disposition(
        &service,
        &alice,
        &mut sa,
        PASS_A,
        &disp(&failed[0], "DEV-0043"),
        &ka.key_id,
    )
    .await
    .unwrap();
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(sigs[0].outcome, OutcomeCode::Superseded);
    assert!(sigs[2].valid, "{:?}", sigs[2]);

    // A new cycle: the same reviewer and approver sign again.
    sign(&service, &alice, &mut sa, &ka, PASS_A, Meaning::Reviewed).await;
    sign(&service, &bob, &mut sb, &kb, PASS_B, Meaning::Approved).await;
    assert_eq!(
        state(&service),
        (RunState::Approved, Some("Approved by Bob Brown".into()))
    );
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(
        sigs.iter().map(|s| s.outcome).collect::<Vec<_>>(),
        vec![
            OutcomeCode::Superseded,
            OutcomeCode::Superseded,
            OutcomeCode::Valid,
            OutcomeCode::Valid,
            OutcomeCode::Valid
        ]
    );

    // The package builds and carries the whole history; it verifies.
    let out = tempfile::tempdir().unwrap();
    let pdf = out.path().join("oq.pdf");
    let bundle = out.path().join("oq-bundle");
    let built = service
        .package(
            &PackageRequest {
                runs: vec![RUN.into()],
                out: pdf.clone(),
                bundle: Some(bundle.clone()),
                ..PackageRequest::default()
            },
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
    assert_eq!(built.signatures, 5);
    let v = service.verify_package(&pdf, None).unwrap();
    assert!(v.verified, "{v:?}");
    let (_, report) = &v.reports[0];
    let superseded: Vec<_> = report
        .signatures
        .iter()
        .filter(|s| s.superseded_by.is_some())
        .collect();
    assert_eq!(superseded.len(), 2, "{:?}", report.signatures);
    let text = pdftotext(&pdf);
    assert!(
        text.contains("Appendix: superseded signatures") && text.contains("SUPERSEDED"),
        "{text}"
    );

    // The CLI verifies the PDF and the bundle; a superseded signature removed from the
    // bundle's chain fails it.
    let cli = build_cli().unwrap();
    for target in [&pdf, &bundle] {
        let o = verify_cli(&cli, target);
        assert_eq!(o.0, Some(0), "{}", o.1);
    }
    let sig_dir = bundle.join(format!("signatures/{RUN}"));
    std::fs::remove_file(sig_dir.join("001.dsse.json")).unwrap();
    let o = verify_cli(&cli, &bundle);
    assert_eq!(o.0, Some(1), "{}", o.1);

    // The re-open verifies with the independent verifier too.
    let reopen_env = &service.signatures(RUN).unwrap()[2];
    let envelope = out.path().join("reopen.dsse.json");
    std::fs::write(&envelope, &reopen_env.envelope).unwrap();
    let public_key = service
        .keys_export(Some(&kb.key_id))
        .unwrap()
        .public_key_hex;
    let statement =
        countersign_core::signature::dsse::Envelope::from_json(reopen_env.envelope.as_bytes())
            .unwrap();
    let payload = statement.payload_bytes().unwrap();
    let st = countersign_core::signature::statement::Statement::from_payload(&payload).unwrap();
    let o = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/verify_dsse.py"))
        .arg(&envelope)
        .args(["--public-key", &public_key])
        .args(["--record-name", &format!("run:{RUN}")])
        .args(["--record-sha256", &st.subject[0].digest.sha256.to_hex()])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // Every step is in the ledger, and the ledger verifies.
    assert!(service.ledger_verify().unwrap().is_ok());
    drop(service);

    // The command line: the state in `runs` and `show`, the lists of `todo`, and a second
    // re-open signed from files (never argv), refused first for someone who may not approve.
    let endpoint = h.proxy.endpoint();
    let run_cli = |user: &TestUser, args: &[&str]| {
        run_cli_as(&cli, home.path(), Some(endpoint.as_str()), Some(user), args)
    };
    let (code, text) = run_cli(&bob, &["runs"]);
    assert_eq!(code, Some(0), "{text}");
    let line = text.lines().find(|l| l.starts_with(RUN)).unwrap();
    assert!(line.contains("Approved"), "{line}");
    let (code, text) = run_cli(&alice, &["todo", "--key", &ka.key_id]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Waiting for Alice Adams"), "{text}");
    assert!(
        !text.contains(RUN),
        "nothing of the approved run is Alice's: {text}"
    );
    let passphrase = out.path().join("passphrase");
    let mfa = out.path().join("mfa-code");
    let (code, text) = run_cli(
        &alice,
        &[
            "reopen",
            RUN,
            "--reason",
            "second thoughts",
            "--key",
            &ka.key_id,
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not authorised to re-open"), "{text}");
    std::fs::write(&passphrase, format!("{PASS_B}\n")).unwrap();
    std::fs::write(&mfa, bob.current_code()).unwrap();
    let (code, text) = run_cli(
        &bob,
        &[
            "reopen",
            RUN,
            "--reason",
            "The approved record needs a second correction",
            "--key",
            &kb.key_id,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
            "--mfa-code-file",
            mfa.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Re-opened"), "{text}");
    let (code, text) = run_cli(&bob, &["show", RUN]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("State      Re-opened (Reopened by Bob Brown"),
        "{text}"
    );
    assert_eq!(
        text.matches("superseded by the re-open").count(),
        4,
        "{text}"
    );
    let (code, text) = run_cli(&bob, &["ledger", "verify"]);
    assert_eq!(code, Some(0), "{text}");
}

fn pdftotext(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (scripts/setup.sh installs poppler-utils)");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn verify_cli(cli: &Path, target: &Path) -> (Option<i32>, String) {
    let home = tempfile::tempdir().unwrap();
    run_cli_as(
        cli,
        home.path(),
        None,
        None,
        &["verify", target.to_str().unwrap()],
    )
}

/// An approver's key is revoked after the approval (a lost laptop). The run stays Approved as
/// recorded, and locked, but no face shows it as settled and it cannot be packaged; its
/// approver, with a new key, re-opens it; the approval whose key was revoked since is then
/// superseded history (genuine when made), a new cycle approves the run, and the package
/// builds and verifies. Nothing leaves the run stuck.
#[tokio::test(flavor = "multi_thread")]
async fn an_approval_whose_key_was_revoked_is_replaced_through_a_re_open() {
    let h = Harness::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.json"), POLICY).unwrap();
    let service = h.service(home.path()).unwrap();
    h.demo_fetched(&service, BUCKET).await.unwrap();
    let (alice, ka) = h
        .signer(&service, "alice", "Alice Adams", PASS_A)
        .await
        .unwrap();
    let (bob, kb) = h
        .signer(&service, "bob", "Bob Brown", PASS_B)
        .await
        .unwrap();
    let failed: Vec<String> = service
        .show(RUN)
        .unwrap()
        .run
        .cases_needing_disposition()
        .map(|c| c.id.clone())
        .collect();
    let mut sa = SigningSession::new();
    for case in &failed {
        let req = DispositionRequest {
            run: RUN.into(),
            case_id: case.clone(),
            kind: DispositionKind::Deviation,
            reference: "DEV-0042".into(),
            reason: "Investigated; impact assessed".into(),
        };
        record_disposition(&service, &alice, &mut sa, PASS_A, &req, &ka.key_id)
            .await
            .unwrap();
    }
    sign(&service, &alice, &mut sa, &ka, PASS_A, Meaning::Reviewed).await;
    let mut sb = SigningSession::new();
    sign(&service, &bob, &mut sb, &kb, PASS_B, Meaning::Approved).await;
    let summary = |service: &Service| countersign_tests::harness::run_line(service, RUN).unwrap();
    assert_eq!(summary(&service).state_check, StateCheck::Verified);

    // Bob's laptop is lost: he revokes his key.
    service
        .keys_revoke(&kb.key_id, "laptop lost", &Passphrase::new(PASS_B.into()))
        .unwrap();
    let now = summary(&service);
    assert_eq!(now.state, RunState::Approved, "still locked as recorded");
    assert!(now.state_check.is_not_verified(), "{:?}", now.state_check);
    let out = tempfile::tempdir().unwrap();
    let package = |name: &str| PackageRequest {
        runs: vec![RUN.into()],
        out: out.path().join(name),
        bundle: Some(out.path().join(format!("{name}-bundle"))),
        ..PackageRequest::default()
    };
    let refused = service
        .package(&package("stale.pdf"), &|_| {}, &CancelToken::new())
        .unwrap_err();
    assert!(
        refused.message.contains("revoked"),
        "a package never carries an approval that does not verify: {refused}"
    );

    // Bob enrolls a new key; the run waits for his re-open, saying why.
    let (kb2, _) = h
        .enrolled_key(&service, &bob, "Bob Brown", "bob's new passphrase 3")
        .await
        .unwrap();
    let waiting = service.todo(Some(&kb2.key_id)).unwrap();
    let item = waiting.items.iter().find(|i| i.run == RUN).unwrap();
    assert_eq!(item.kind, TodoKind::NoLongerVerifies, "{item:?}");
    let mut sb2 = SigningSession::new();
    let reopen = ReopenRequest {
        run: RUN.into(),
        reason: "The approval's key was revoked (laptop lost); approving again".into(),
        key_id: Some(kb2.key_id.clone()),
        mfa_serial: None,
    };
    let plan = service.reopen_check(&sb2, &reopen).unwrap();
    service
        .reopen(
            &bob.settings(),
            &mut sb2,
            &reopen,
            secrets(&bob, "bob's new passphrase 3", plan.needs_mfa),
        )
        .await
        .unwrap();
    let sigs = service.signatures(RUN).unwrap();
    assert_eq!(
        sigs.iter().map(|s| s.outcome).collect::<Vec<_>>(),
        [
            OutcomeCode::Superseded,
            OutcomeCode::Superseded,
            OutcomeCode::Valid
        ]
    );
    assert!(
        sigs[1].outcome_detail.contains("revoked after it was made"),
        "{}",
        sigs[1].outcome_detail
    );

    // A new cycle. Bob's new key is lost too, after his re-open: the re-open stays the record
    // of his act (genuine when made), and he approves with a third key.
    sign(&service, &alice, &mut sa, &ka, PASS_A, Meaning::Reviewed).await;
    service
        .keys_revoke(
            &kb2.key_id,
            "second laptop lost",
            &Passphrase::new("bob's new passphrase 3".into()),
        )
        .unwrap();
    let (kb3, _) = h
        .enrolled_key(&service, &bob, "Bob Brown", "bob's third passphrase 4")
        .await
        .unwrap();
    let reopen_view = &service.signatures(RUN).unwrap()[2];
    assert!(
        reopen_view.outcome == OutcomeCode::RevokedKey && reopen_view.key_revoked_since,
        "{reopen_view:?}"
    );
    let mut sb3 = SigningSession::new();
    sign(
        &service,
        &bob,
        &mut sb3,
        &kb3,
        "bob's third passphrase 4",
        Meaning::Approved,
    )
    .await;
    let now = summary(&service);
    assert_eq!(
        (now.state, now.state_check),
        (RunState::Approved, StateCheck::Verified)
    );
    let built = service
        .package(&package("oq.pdf"), &|_| {}, &CancelToken::new())
        .unwrap();
    assert_eq!(built.signatures, 5);
    let v = service
        .verify_package(&out.path().join("oq.pdf"), None)
        .unwrap();
    assert!(v.verified, "{v:?}");
    let revoked_since: Vec<_> = v.reports[0]
        .1
        .signatures
        .iter()
        .filter(|s| s.key_revoked_since)
        .map(|s| s.meaning.clone())
        .collect();
    assert_eq!(
        revoked_since,
        [Some("Approved".to_owned()), Some("Reopened".to_owned())]
    );
    let o = verify_cli(&build_cli().unwrap(), &out.path().join("oq.pdf-bundle"));
    assert_eq!(o.0, Some(0), "{}", o.1);
    assert!(service.ledger_verify().unwrap().is_ok());
}
