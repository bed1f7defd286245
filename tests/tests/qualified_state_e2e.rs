//! Qualified state end to end against the emulator: the demo seeded and fetched, LIMS and ELN
//! reviewed and approved by two IAM users with MFA on 5 November, the evidence fetched again
//! weeks later; `state` (the service and the `countersign` binary) shows the security-group
//! rule opened on lims-qual with its field difference, who, when and from where, the rule
//! evaluated NON_COMPLIANT, a resource drifted (drift answered by the proxy), the CloudTrail gap
//! while logging was stopped, and the quiet ELN stack: in qualified state before the gap, not
//! demonstrable after it. Carol then assesses each LIMS change through the one signing flow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;

use countersign_aws::s3;
use countersign_core::clock::{Clock, ManualClock};
use countersign_core::layout::{BucketName, Prefix};
use countersign_core::qualified_state::{ChangeKind, Findings, Impact, VerdictKind};
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_demo::after_approval::{
    LIMS_SECURITY_GROUP, LOGGING_STOPPED, SSH_OPENED_AT, SSH_OPENED_BY, SSH_RECORDED_AT, SSH_RULE,
};
use countersign_service::{
    AssessRequest, AwsSettings, CancelToken, DispositionKind, DispositionRequest, ErrorCode,
    KeyInfo, MfaCode, Passphrase, Service, SignRequest, SignSecrets, SigningSession, StateReport,
    SystemOutcome,
};
use countersign_tests::binaries::build_cli;
use countersign_tests::drift_front::DriftAnswer;
use countersign_tests::harness::fetch_request;
use countersign_tests::{Harness, TestUser};
use time::macros::datetime;
use time::Duration;

const BUCKET: &str = "qualification-evidence";
const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";
const PASS_C: &str = "carol passphrase 333";

async fn fetch(service: &Service) {
    let report = service
        .fetch(
            &fetch_request(BUCKET, "").unwrap(),
            &|_| {},
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert!(
        report.failed.is_empty() && report.rejected.is_empty(),
        "{report:?}"
    );
}

/// Signs `run` with `meaning`; the first signature of a session gives the MFA code.
async fn sign(
    service: &Service,
    user: &TestUser,
    session: &mut SigningSession,
    key: &KeyInfo,
    pw: &str,
    run: &str,
    meaning: Meaning,
) {
    let now = service.now();
    let open = session.open_identity(now, Duration::minutes(10)).is_some();
    let code = (!open).then(|| MfaCode::new(user.current_code()));
    service
        .sign(
            &user.settings(),
            session,
            &SignRequest {
                run: run.into(),
                meaning,
                reason: format!("{meaning} after reading every result"),
                key_id: Some(key.key_id.clone()),
                mfa_serial: None,
            },
            SignSecrets {
                passphrase: Passphrase::new(pw.to_owned()),
                mfa_code: code,
            },
        )
        .await
        .unwrap();
}

fn findings<'a>(r: &'a StateReport, system: &str) -> &'a Findings {
    let s = r.systems.iter().find(|s| s.system == system).unwrap();
    match &s.state {
        SystemOutcome::Qualified { findings, .. } => findings,
        other => panic!("{system}: {other:?}"),
    }
}

#[tokio::test]
async fn state_shows_the_change_its_author_the_gap_and_the_quiet_stack() {
    let h = Harness::start().await.unwrap();
    let ctx = h.admin().await.unwrap();
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
    s3::download(&ctx, BUCKET, &seed.cloudtrail_public_key, |chunk| {
        pem.extend_from_slice(chunk);
        Ok(())
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = Service::open(home.path(), env).unwrap();
    fetch(&service).await;

    // Before approval there is no baseline.
    let r = service
        .state(Some("LIMS"), Some(("trail.pem", &pem)))
        .unwrap();
    match &r.systems[0].state {
        SystemOutcome::NotQualified { reason, .. } => {
            assert_eq!(reason, "not qualified yet: no approved IQ, OQ, PQ run")
        }
        other => panic!("{other:?}"),
    }

    // Alice dispositions and reviews every run; Bob approves them, on 5 November.
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let ka = h
        .enrolled_key(&service, &alice, "Alice Adams", PASS_A)
        .await
        .unwrap()
        .0;
    let kb = h
        .enrolled_key(&service, &bob, "Bob Brown", PASS_B)
        .await
        .unwrap()
        .0;
    clock.advance(Duration::hours(2));
    let (mut sa, mut sb) = (SigningSession::new(), SigningSession::new());
    for run in service.runs().unwrap() {
        let failed: Vec<String> = service
            .show(&run.id)
            .unwrap()
            .run
            .cases_needing_disposition()
            .map(|c| c.id.clone())
            .collect();
        for case in failed {
            service
                .disposition(
                    &DispositionRequest {
                        run: run.id.clone(),
                        case_id: case,
                        kind: DispositionKind::Deviation,
                        reference: "DEV-0042".into(),
                        reason: "Investigated; no impact on the intended use".into(),
                    },
                    Some(&ka.key_id),
                )
                .unwrap();
        }
        sign(
            &service,
            &alice,
            &mut sa,
            &ka,
            PASS_A,
            &run.id,
            Meaning::Reviewed,
        )
        .await;
        sign(
            &service,
            &bob,
            &mut sb,
            &kb,
            PASS_B,
            &run.id,
            Meaning::Approved,
        )
        .await;
    }
    let approved_at = UtcTimestamp::new(clock.now());

    // Four days later, before logging stopped and before the rule was opened: both systems
    // are in their qualified state, up to now.
    clock.advance(Duration::days(4));
    let r = service.state(None, Some(("trail.pem", &pem))).unwrap();
    for system in ["ELN", "LIMS"] {
        let f = findings(&r, system);
        assert_eq!(f.baseline.approved_at, approved_at, "{system}");
        assert_eq!(
            f.verdict.kind,
            VerdictKind::InQualifiedState,
            "{system}: {:?}",
            f.verdict
        );
        assert_eq!(
            f.verdict.text, "In qualified state from 2026-11-05 10:00 UTC to 2026-11-09 10:00 UTC",
            "{system}"
        );
        assert!(f.changes.is_empty(), "{system}: {:?}", f.changes);
        assert!(
            f.coverage.gaps.is_empty(),
            "{system}: {:?}",
            f.coverage.gaps
        );
        let base = f.baseline.snapshot.as_ref().unwrap();
        assert_eq!(base.drift, "drift not checked", "never in sync by default");
    }

    // Weeks later, the evidence fetched again, with fresh stack snapshots. The emulator has no
    // drift detection; the proxy answers it as CloudFormation does: one LIMS resource modified
    // outside the template, ELN in sync.
    clock.advance(Duration::days(16));
    h.proxy.answer_drift(
        "lims-qual",
        DriftAnswer::Drifted(vec![(
            "SampleIntakeQueue".into(),
            "AWS::SQS::Queue".into(),
            "MODIFIED".into(),
        )]),
    );
    h.proxy.answer_drift("eln-qual", DriftAnswer::InSync);
    fetch(&service).await;
    let r = service.state(None, Some(("trail.pem", &pem))).unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    let lims = findings(&r, "LIMS");
    assert_eq!(
        lims.verdict.kind,
        VerdictKind::Changed,
        "{:?}",
        lims.verdict
    );
    let opened = lims
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Configuration)
        .unwrap();
    assert_eq!(opened.at, Some(UtcTimestamp::new(SSH_RECORDED_AT)));
    assert_eq!(
        opened.resource.as_ref().unwrap().resource_id,
        LIMS_SECURITY_GROUP
    );
    let diff = opened
        .differences
        .iter()
        .find(|d| d.path == "/configuration/ipPermissions")
        .unwrap();
    assert!(!diff.before.as_deref().unwrap().contains("0.0.0.0/0"));
    assert!(diff
        .after
        .as_deref()
        .unwrap()
        .contains("\"cidrIp\":\"0.0.0.0/0\""));
    assert!(diff.after.as_deref().unwrap().contains("\"fromPort\":22"));
    let call = &opened.events[0];
    assert_eq!(call.event_name, "AuthorizeSecurityGroupIngress");
    assert_eq!(call.time, UtcTimestamp::new(SSH_OPENED_AT));
    assert_eq!(
        call.principal.as_deref(),
        Some(format!("arn:aws:iam::123456789012:user/{SSH_OPENED_BY}").as_str())
    );
    assert_eq!(call.source_ip.as_deref(), Some("203.0.113.24"));
    assert!(call.error_code.is_none() && call.validated && !call.read_only);
    // The call is the cause of the configuration change, not a second change.
    assert!(!lims.changes.iter().any(|c| c.kind == ChangeKind::ApiCall));
    let rule = lims
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Compliance)
        .unwrap();
    assert_eq!(rule.differences[0].path, format!("/compliance/{SSH_RULE}"));
    assert_eq!(rule.differences[0].before.as_deref(), Some("\"COMPLIANT\""));
    assert_eq!(
        rule.differences[0].after.as_deref(),
        Some("\"NON_COMPLIANT\"")
    );
    let drifted = lims
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Stack)
        .unwrap();
    assert_eq!(
        drifted.summary,
        "Stack lims-qual: resource SampleIntakeQueue modified (drift detected)"
    );
    assert!(drifted.differences[0]
        .path
        .starts_with("/drift/SampleIntakeQueue"));
    assert_eq!(
        lims.current_stack.snapshot.as_ref().unwrap().drift,
        "drifted (1 resource)"
    );
    assert_eq!(lims.verdict.changes, 3, "{:?}", lims.changes);
    assert_eq!(
        lims.verdict.text,
        "Changed: 3 changes since approval (3 not assessed)"
    );

    for f in [lims, findings(&r, "ELN")] {
        let gaps: Vec<(UtcTimestamp, UtcTimestamp)> =
            f.coverage.gaps.iter().map(|g| (g.from, g.to)).collect();
        assert_eq!(
            gaps,
            [(
                UtcTimestamp::new(LOGGING_STOPPED.0),
                UtcTimestamp::new(LOGGING_STOPPED.1)
            )],
            "{}",
            f.system
        );
        assert!(f.coverage.gaps[0].reason.contains("logging was stopped"));
        assert_eq!(
            f.coverage.covered_until,
            Some(UtcTimestamp::new(datetime!(2026-11-21 00:01:31 UTC)))
        );
        let now = f.current_stack.snapshot.as_ref().unwrap();
        assert_ne!(
            Some(&now.sha256),
            f.baseline.snapshot.as_ref().map(|s| &s.sha256)
        );
    }
    let eln = findings(&r, "ELN");
    assert_eq!(
        eln.current_stack.snapshot.as_ref().unwrap().drift,
        "in sync"
    );
    assert!(!eln.notes.iter().any(|n| n.contains("drift not checked")));
    assert_eq!(eln.verdict.kind, VerdictKind::NotDemonstrable);
    assert_eq!(
        eln.verdict.text,
        "Not demonstrable: evidence gap 2026-11-10 22:01 UTC – 2026-11-11 06:01 UTC"
    );
    assert!(eln.changes.is_empty(), "{:?}", eln.changes);
    match &r.systems.iter().find(|s| s.system == "ELN").unwrap().state {
        SystemOutcome::Qualified { events, .. } => {
            assert!(!events.is_empty());
            assert!(events.iter().all(|e| e.read_only), "{events:?}");
        }
        other => panic!("{other:?}"),
    }

    // Carol assesses both LIMS changes as no impact, through the one signing flow. A change
    // `state` does not show is refused before any secret is asked for.
    let change_ids: Vec<String> = lims.changes.iter().map(|c| c.id.to_hex()).collect();
    let carol = h.create_user_with_mfa("carol").await.unwrap();
    let kc = h
        .enrolled_key(&service, &carol, "Carol Chen", PASS_C)
        .await
        .unwrap()
        .0;
    let mut sc = SigningSession::new();
    let request = |change: &str| AssessRequest {
        system: "LIMS".into(),
        change: change.into(),
        impact: Impact::NoImpact,
        reference: Some("CC-2026-0412".into()),
        reason: "Vendor access window approved and closed under change control".into(),
        key_id: Some(kc.key_id.to_string()),
        mfa_serial: None,
    };
    let unknown = service
        .assess_check(&sc, &request(&"0".repeat(64)))
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::NotFound, "{unknown}");
    for (i, id) in change_ids.iter().enumerate() {
        let plan = service.assess_check(&sc, &request(id)).unwrap();
        assert_eq!(plan.needs_mfa, i == 0);
        let info = service
            .assess_change(
                &carol.settings(),
                &mut sc,
                &request(id),
                SignSecrets {
                    passphrase: Passphrase::new(PASS_C.to_owned()),
                    mfa_code: plan.needs_mfa.then(|| MfaCode::new(carol.current_code())),
                },
            )
            .await
            .unwrap();
        assert_eq!(info.record.change.to_hex(), *id);
    }
    let r = service.state(None, Some(("trail.pem", &pem))).unwrap();
    let lims = findings(&r, "LIMS");
    assert_eq!(
        lims.verdict.kind,
        VerdictKind::NotDemonstrable,
        "{:?}",
        lims.verdict
    );
    assert_eq!(
        lims.verdict.text,
        "Not demonstrable: evidence gap 2026-11-10 22:01 UTC – 2026-11-11 06:01 UTC"
    );
    assert_eq!(lims.verdict.open_changes, 0);
    for c in &lims.changes {
        let a = c.assessment.as_ref().unwrap();
        assert_eq!(
            (a.impact, a.printed_name.as_str(), a.reference.as_deref()),
            (Impact::NoImpact, "Carol Chen", Some("CC-2026-0412"))
        );
    }
    assert_eq!(lims.assessments.len(), 3);
    // The audit trail still verifies, every signature row re-derived from its event.
    let verified = service.ledger_verify().unwrap();
    assert!(verified.problem.is_none(), "{:?}", verified.problem);

    // The command line says the same, from the same home.
    drop(service);
    let pem_path = home.path().join("trail.pem");
    std::fs::write(&pem_path, &pem).unwrap();
    let cli = build_cli().unwrap();
    let out = Command::new(&cli)
        .args(["state", "--public-key"])
        .arg(&pem_path)
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "ELN: Not demonstrable: evidence gap 2026-11-10 22:01 UTC – 2026-11-11 06:01 UTC",
        "LIMS: Not demonstrable: evidence gap 2026-11-10 22:01 UTC – 2026-11-11 06:01 UTC",
        "assessed no impact by Carol Chen",
        "GAP 2026-11-10 22:01 UTC – 2026-11-11 06:01 UTC",
        "/configuration/ipPermissions",
        "by arn:aws:iam::123456789012:user/jo.tanaka at 2026-11-19T15:12:30",
        "AuthorizeSecurityGroupIngress (ec2.amazonaws.com) from 203.0.113.24",
        "NON_COMPLIANT with restricted-ssh",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    // And as one JSON document.
    let out = Command::new(&cli)
        .args(["--json", "state", "LIMS", "--public-key"])
        .arg(&pem_path)
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lims = &doc["systems"][0];
    assert_eq!(lims["system"], "LIMS");
    assert_eq!(lims["status"], "qualified");
    assert_eq!(lims["findings"]["schema"], "countersign.state-findings/v1");
    assert_eq!(lims["findings"]["verdict"]["kind"], "not_demonstrable");
    assert_eq!(lims["findings"]["changes"].as_array().unwrap().len(), 3);
    let json_events = lims["events"].as_array().unwrap().len();

    // The change list and the calls as CSV files, for a spreadsheet: the same rows.
    let csv = |list: &str, name: &str| {
        let path = home.path().join(name);
        let out = Command::new(&cli)
            .args(["state", "LIMS", "--public-key"])
            .arg(&pem_path)
            .args(["--csv", list, "--out"])
            .arg(&path)
            .env("COUNTERSIGN_HOME", home.path())
            .output()
            .unwrap();
        (out, path)
    };
    let (out, path) = csv("changes", "changes.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 3 rows"));
    let changes = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = changes.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1 + 3, "{changes}");
    assert!(
        lines[0].starts_with("\"system\",\"change_id\",\"kind\""),
        "{changes}"
    );
    let ssh = lines
        .iter()
        .find(|l| l.contains("AuthorizeSecurityGroupIngress"))
        .unwrap_or_else(|| panic!("no row for the opened rule:\n{changes}"));
    for expected in [
        "\"LIMS\"",
        "user/jo.tanaka",
        "203.0.113.24",
        "/configuration/ipPermissions",
        "\"no impact\"",
        "Carol Chen",
    ] {
        assert!(ssh.contains(expected), "{expected:?} not in {ssh}");
    }
    let (out, path) = csv("events", "events.csv");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = std::fs::read_to_string(&path).unwrap();
    let rows = events.split("\r\n").filter(|l| !l.is_empty()).count();
    assert_eq!(rows, 1 + json_events, "{events}");
    // A file that exists is never overwritten.
    let (out, _) = csv("events", "events.csv");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), events);

    // An unknown change is refused by the command line before any secret is asked for.
    let out = Command::new(&cli)
        .args([
            "assess",
            "LIMS",
            &"0".repeat(64),
            "--impact",
            "none",
            "--reason",
            "x",
        ])
        .args(["--key", &kc.key_id.to_string()])
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no change 0000"), "{err}");
}
