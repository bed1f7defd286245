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
use countersign_core::package::verify::{DocumentKind, Limit};
use countersign_core::qualified_state::{ChangeKind, Findings, Impact, VerdictKind};
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_demo::after_approval::{
    LIMS_SECURITY_GROUP, LOGGING_STOPPED, SSH_OPENED_AT, SSH_OPENED_BY, SSH_RECORDED_AT, SSH_RULE,
};
use countersign_service::TrailPublishRequest;
use countersign_service::{
    verify_package_file, AssessRequest, AwsSettings, CancelToken, DispositionKind,
    DispositionRequest, ErrorCode, KeyInfo, MfaCode, Passphrase, PeriodicReviewRequest,
    ReviewReportRequest, Service, SignRequest, SignSecrets, SigningSession, StateReport,
    SystemOutcome,
};
use countersign_tests::binaries::build_cli;
use countersign_tests::buckets;
use countersign_tests::drift_front::DriftAnswer;
use countersign_tests::emulator::project_root;
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
        let mut ds = countersign_service::SigningSession::new();
        for case in failed {
            countersign_tests::harness::record_disposition(
                &service,
                &alice,
                &mut ds,
                PASS_A,
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

    // Carol signs the periodic review of LIMS over 5–25 November: the findings shown first
    // are the ones signed, and findings other than those shown are refused.
    let period = "2026-11-05..2026-11-25";
    let review = |period: &str, expected: Option<String>| PeriodicReviewRequest {
        system: "LIMS".into(),
        period: period.into(),
        reason: "November reviewed: both changes assessed, the logging gap noted".into(),
        trail_public_key: Some(("trail.pem".into(), pem.clone())),
        expected_findings: expected,
        key_id: Some(kc.key_id.to_string()),
        mfa_serial: None,
    };
    let secrets = |needs_mfa: bool| SignSecrets {
        passphrase: Passphrase::new(PASS_C.to_owned()),
        mfa_code: needs_mfa.then(|| MfaCode::new(carol.current_code())),
    };
    let future = service
        .periodic_review_check(&sc, &review("2026-11-05..2027-01-01", None))
        .unwrap_err();
    assert_eq!(future.code, ErrorCode::BadInput, "{future}");
    assert!(future.message.contains("not past yet"), "{future}");
    let plan = service
        .periodic_review_check(&sc, &review(period, None))
        .unwrap();
    assert_eq!(plan.findings.verdict.kind, VerdictKind::NotDemonstrable);
    assert_eq!(
        plan.findings.period.to.to_string(),
        "2026-11-25T00:00:00.000Z"
    );
    assert_eq!(plan.findings.assessments.len(), 3);
    assert_eq!(plan.earlier_reviews, 0);
    let stale = service
        .periodic_review(
            &carol.settings(),
            &mut sc,
            &review(period, Some("0".repeat(64))),
            secrets(plan.needs_mfa),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code, ErrorCode::Refused, "{stale}");
    let info = service
        .periodic_review(
            &carol.settings(),
            &mut sc,
            &review(period, Some(plan.findings_sha256.to_hex())),
            secrets(plan.needs_mfa),
        )
        .await
        .unwrap();
    assert_eq!(info.findings_sha256, plan.findings_sha256);
    assert_eq!(info.printed_name, "Carol Chen");
    let r = service
        .state(Some("LIMS"), Some(("trail.pem", &pem)))
        .unwrap();
    assert_eq!(r.reviews.len(), 1, "{:?}", r.reviews);
    assert_eq!(r.reviews[0].outcome, "valid");
    assert_eq!(
        r.reviews[0].verdict.as_deref(),
        Some(plan.findings.verdict.text.as_str())
    );

    // The Periodic Review Report: built from what was signed, verified offline by the
    // service, and by independent tools.
    let report_path = home.path().join("lims-review.pdf");
    let built = service
        .review_report(&ReviewReportRequest {
            system: "LIMS".into(),
            period: period.into(),
            out: report_path.clone(),
            demo: false,
        })
        .unwrap();
    assert_eq!((built.signatures, built.assessments), (1, 3));
    assert!(built.demo, "the demo dataset's runs make a demo report");
    assert_eq!(built.findings_sha256, plan.findings_sha256);
    let again = service
        .review_report(&ReviewReportRequest {
            system: "LIMS".into(),
            period: period.into(),
            out: report_path.clone(),
            demo: false,
        })
        .unwrap_err();
    assert!(again.message.contains("already exists"), "{again}");
    let unsigned = service
        .review_report(&ReviewReportRequest {
            system: "LIMS".into(),
            period: "2026-11-06..2026-11-25".into(),
            out: home.path().join("none.pdf"),
            demo: false,
        })
        .unwrap_err();
    assert_eq!(unsigned.code, ErrorCode::NotFound, "{unsigned}");
    let v = verify_package_file(&report_path, None).unwrap();
    assert!(v.verified, "{:?}", v.first_problem());
    assert_eq!(v.limits, [Limit::KeysNotChecked, Limit::PagesNotSigned]);
    assert_eq!(v.reports[0].1.document, DocumentKind::PeriodicReviewReport);
    assert_eq!(v.package_id(), Some(built.report_id.as_str()));
    independent_report_checks(&report_path, &built.report_id, &info.signed_at);

    // The organisation's view: the audit trail and each system's state published to S3 under
    // Object Lock, and read back by DuckDB as Athena would.
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, "org-state", None)
        .await
        .unwrap();
    let published = service
        .ledger_publish(
            &AwsSettings::default(),
            &TrailPublishRequest {
                to: "s3://org-state/site-1".parse().unwrap(),
                retention_days: Some(1),
                state: true,
                trail_public_key: Some(("trail.pem".into(), pem.clone())),
            },
        )
        .await
        .unwrap();
    assert_eq!(published.state.len(), 2, "{published:?}");
    assert!(published.state.iter().all(|o| o.mode == "COMPLIANCE"));
    let now = service.state(None, Some(("trail.pem", &pem))).unwrap();
    let copy = tempfile::tempdir().unwrap();
    for o in &published.state {
        let key = o.uri.strip_prefix("s3://org-state/").unwrap();
        let body = admin
            .s3()
            .get_object()
            .bucket("org-state")
            .key(key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let path = copy.path().join(key.strip_prefix("site-1/state/").unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    let out = Command::new(project_root().join(".venv/bin/python"))
        .arg(project_root().join("tests/interop/query_state.py"))
        .arg(copy.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for s in &now.systems {
        let f = findings(&now, &s.system);
        let mine: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| r["system"] == s.system.as_str())
            .collect();
        let verdict = mine.iter().find(|r| r["kind"] == "verdict").unwrap();
        assert_eq!(
            verdict["verdict_text"],
            f.verdict.text.as_str(),
            "{verdict}"
        );
        assert_eq!(verdict["changes"], f.changes.len());
        let mut changes: Vec<&str> = mine
            .iter()
            .filter(|r| r["kind"] == "change")
            .map(|r| r["change_id"].as_str().unwrap())
            .collect();
        let mut expected: Vec<String> = f.changes.iter().map(|c| c.id.to_hex()).collect();
        changes.sort_unstable();
        expected.sort();
        assert_eq!(changes, expected);
        assert_eq!(
            mine.iter().filter(|r| r["kind"] == "gap").count(),
            f.coverage.gaps.len()
        );
    }
    let ssh = rows
        .iter()
        .find(|r| {
            r["kind"] == "change" && r["change_kind"] == "configuration" && r["system"] == "LIMS"
        })
        .unwrap();
    assert_eq!(ssh["assessed_by"], "Carol Chen", "{ssh}");

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

    // The report through the command line, verified by the binary; the review is listed by
    // `state`; a period not over yet is refused before any secret is asked for.
    let cli_report = home.path().join("lims-review-cli.pdf");
    let out = Command::new(&cli)
        .args([
            "state",
            "report",
            "LIMS",
            "--period",
            "2026-11-05..2026-11-25",
            "--out",
        ])
        .arg(&cli_report)
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("1 review signature(s), 3 impact assessment(s)"),
        "{text}"
    );
    let out = Command::new(&cli)
        .arg("verify")
        .arg(&cli_report)
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "VERIFIED",
        "periodic review report PRR-",
        "[ok  ] assessments",
        "valid PeriodicallyReviewed by Carol Chen",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let out = Command::new(&cli)
        .args(["state", "LIMS", "--public-key"])
        .arg(&pem_path)
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("periodic review 2026-11-05 00:00 UTC – 2026-11-25 00:00 UTC by Carol Chen"),
        "{text}"
    );
    let out = Command::new(&cli)
        .args([
            "state",
            "review",
            "LIMS",
            "--period",
            "2026-11-20..2030-01-01",
            "--reason",
            "x",
        ])
        .args(["--key", &kc.key_id.to_string()])
        .env("COUNTERSIGN_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not past yet"));
}

/// qpdf finds the report structurally clean; pdftotext shows the verdict and the signature's
/// manifestation; pdfdetach extracts the attachments, which the independent Python verifier
/// (written from the format documents) verifies, and refuses once the findings are edited.
fn independent_report_checks(pdf: &std::path::Path, report_id: &str, signed_at: &str) {
    let tool = |name: &str, args: &[&str]| {
        Command::new(name)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{name} is needed (scripts/setup.sh installs it): {e}"))
    };
    let path = pdf.to_str().unwrap();
    let o = tool("qpdf", &["--check", path]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = tool("pdftotext", &["-layout", path, "-"]);
    let body = String::from_utf8_lossy(&o.stdout).replace('\n', " ");
    let local = format!("{} {}", &signed_at[..10], &signed_at[11..19]);
    for word in [
        report_id,
        "Not demonstrable: evidence gap",
        "Carol Chen",
        "PeriodicallyReviewed",
        "Timeline of the period",
        "How to verify this report",
        &local,
    ] {
        assert!(body.contains(word), "{word:?} not in the report:\n{body}");
    }
    let o = tool("pdfdetach", &["-list", path]);
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, n)| n.trim()))
        .collect();
    for expected in [
        "manifest.json",
        "findings.json",
        "signatures/001.dsse.json",
        "assessments/003.dsse.json",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} not attached:\n{list}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for name in &names {
        let target = dir.path().join(name);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let o = tool(
            "pdfdetach",
            &["-savefile", name, "-o", target.to_str().unwrap(), path],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let python = |folder: &std::path::Path| {
        let out = Command::new(project_root().join(".venv/bin/python"))
            .arg(project_root().join("tests/interop/verify_review_report.py"))
            .arg(folder)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = python(dir.path());
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("valid PeriodicallyReviewed by Carol Chen"),
        "{text}"
    );
    // One character of the findings changed: the digest no longer matches.
    let findings = dir.path().join("findings.json");
    let edited = std::fs::read_to_string(&findings)
        .unwrap()
        .replace("not_demonstrable", "in_qualified_state");
    std::fs::write(&findings, edited).unwrap();
    let (code, text) = python(dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with("failed"), "{text}");
}
