//! The rules of docs/qualified-state.md on small, hand-made evidence.

use std::collections::BTreeMap;

use serde_json::json;
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::aws_config_items::parse_config_file;
use crate::cloudtrail::digest_chain::{ChainReport, DigestCheck, Finding, LogCheck};
use crate::cloudtrail::events::parse_log;
use crate::digest::Sha256;
use crate::model::{Phase, RunKey};
use crate::signature::predicate::UtcTimestamp;
use crate::stack_snapshot::{
    DriftState, PropertyDifference, ResourceDrift, StackResource, StackSnapshot, StackTemplate,
    STACK_SNAPSHOT_SCHEMA,
};

const APPROVED: OffsetDateTime = datetime!(2026-11-06 10:00 UTC);

fn ts(t: OffsetDateTime) -> UtcTimestamp {
    UtcTimestamp::new(t)
}

fn run(phase: Phase) -> RunKey {
    RunKey {
        system: "LIMS".into(),
        phase,
        run_id: format!("2026-11-0{}-1", 2 + phase as usize),
    }
}

fn approval(phase: Phase, at: OffsetDateTime, seq: u64, valid: bool) -> ApprovalInput {
    ApprovalInput {
        run: run(phase),
        signed_at: ts(at),
        ledger_seq: seq,
        printed_name: "Elena Fischer".into(),
        iam_arn: "arn:aws:iam::123456789012:user/elena.fischer".into(),
        envelope_sha256: Sha256::of(format!("env {seq}").as_bytes()),
        valid,
        outcome: if valid {
            "valid".into()
        } else {
            "record changed since signing".into()
        },
    }
}

fn snapshot(taken: &str) -> StackSnapshot {
    StackSnapshot {
        schema: STACK_SNAPSHOT_SCHEMA.into(),
        taken_at: taken.into(),
        region: "us-east-1".into(),
        stack_name: "lims-qual".into(),
        stack_id: Some("arn:aws:cloudformation:us-east-1:123456789012:stack/lims-qual/u1".into()),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        description: None,
        created_at: Some("2026-11-02T08:41:12Z".into()),
        updated_at: None,
        parameters: [("Environment".to_owned(), "qual".to_owned())].into(),
        outputs: vec![],
        tags: BTreeMap::new(),
        template: StackTemplate::new("Resources: {}".into()),
        resources: vec![StackResource {
            logical_id: "SampleAttachmentBucket".into(),
            physical_id: Some("lims-raw".into()),
            resource_type: "AWS::S3::Bucket".into(),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            last_updated: Some("2026-11-02T08:42:00Z".into()),
        }],
        events: vec![],
        drift: DriftState::NotChecked {
            reason: "DetectStackDrift: not implemented".into(),
        },
    }
}

fn baseline() -> (Baseline, StackSnapshot) {
    let snap = snapshot("2026-11-05T09:00:00Z");
    let recorded = [RecordedSnapshot {
        run: run(Phase::Iq),
        ledger_seq: 10,
        sha256: Sha256::of(b"baseline snapshot"),
        snapshot: snap.clone(),
    }];
    let approvals = [
        approval(Phase::Iq, datetime!(2026-11-06 09:00 UTC), 20, true),
        approval(Phase::Oq, datetime!(2026-11-06 09:30 UTC), 21, true),
        approval(Phase::Pq, APPROVED, 22, true),
    ];
    match baseline_of("LIMS", &approvals, &recorded) {
        BaselineOutcome::Found {
            baseline, snapshot, ..
        } => (*baseline, *snapshot.unwrap()),
        other => panic!("{other:?}"),
    }
}

const CONFIG: &str = r#"{"configurationItems":[
 {"resourceType":"AWS::CloudFormation::Stack","resourceId":"arn:aws:cloudformation:us-east-1:123456789012:stack/lims-qual/u1","resourceName":"lims-qual",
  "configurationItemCaptureTime":"2026-11-02T09:00:00Z","relationships":[{"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","relationshipName":"Contains "}],"configuration":{"stackStatus":"CREATE_COMPLETE"}},
 {"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","resourceName":"lims-raw","ARN":"arn:aws:s3:::lims-raw","configurationItemCaptureTime":"2026-11-02T09:00:00Z",
  "configurationItemStatus":"ResourceDiscovered","tags":{"aws:cloudformation:stack-name":"lims-qual"},"configuration":{"name":"lims-raw"},
  "supplementaryConfiguration":{"BucketPolicy":{"policyText":null}}},
 {"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","resourceName":"lims-raw","ARN":"arn:aws:s3:::lims-raw","configurationItemCaptureTime":"2026-11-12T15:19:00Z",
  "configurationItemStatus":"OK","tags":{"aws:cloudformation:stack-name":"lims-qual"},"configuration":{"name":"lims-raw"},"relatedEvents":["ev-put-policy"],
  "supplementaryConfiguration":{"BucketPolicy":"{\"policyText\":\"{\\\"Statement\\\":[{\\\"Principal\\\":\\\"*\\\"}]}\"}"}},
 {"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","resourceName":"lims-raw","ARN":"arn:aws:s3:::lims-raw","configurationItemCaptureTime":"2026-11-13T00:00:00Z",
  "configurationItemStatus":"OK","tags":{"aws:cloudformation:stack-name":"lims-qual"},"configuration":{"name":"lims-raw"},
  "supplementaryConfiguration":{"BucketPolicy":"{\"policyText\":\"{\\\"Statement\\\":[{\\\"Principal\\\":\\\"*\\\"}]}\"}"}},
 {"resourceType":"AWS::Config::ResourceCompliance","resourceId":"AWS::S3::Bucket/lims-raw","configurationItemCaptureTime":"2026-11-12T15:31:00Z",
  "configuration":{"complianceType":"NON_COMPLIANT","resourceType":"AWS::S3::Bucket","resourceId":"lims-raw",
   "configRuleList":[{"configRuleName":"s3-bucket-public-read-prohibited","complianceType":"NON_COMPLIANT"},{"configRuleName":"s3-bucket-versioning-enabled","complianceType":"COMPLIANT"}]}}
]}"#;

const LOG: &str = r#"{"Records":[
 {"eventTime":"2026-11-05T12:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketTagging","readOnly":false,"eventID":"ev-before",
  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"lims-raw"}},
 {"eventTime":"2026-11-12T15:12:30Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","readOnly":false,"eventID":"ev-put-policy",
  "sourceIPAddress":"198.51.100.77","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/jo.tanaka"},"requestParameters":{"bucketName":"lims-raw"}},
 {"eventTime":"2026-11-12T16:00:00Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucketPolicy","readOnly":false,"eventID":"ev-denied",
  "errorCode":"AccessDenied","errorMessage":"no","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/jo.tanaka"},"requestParameters":{"bucketName":"lims-raw"}},
 {"eventTime":"2026-11-12T17:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketTagging","readOnly":false,"eventID":"ev-tag",
  "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/ops/bot"},"requestParameters":{"bucketName":"lims-raw"}},
 {"eventTime":"2026-11-12T18:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetBucketPolicy","readOnly":true,"eventID":"ev-read",
  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"lims-raw"}},
 {"eventTime":"2026-11-12T18:30:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","readOnly":false,"eventID":"ev-other",
  "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"eln-raw"}}
]}"#;

fn digest(key: &str, start: &str, end: &str, findings: Vec<Finding>) -> DigestCheck {
    DigestCheck {
        bucket: "b".into(),
        key: key.into(),
        start_time: Some(start.into()),
        end_time: Some(end.into()),
        fingerprint: Some("fp".into()),
        log_files: 1,
        valid: findings.is_empty(),
        findings,
    }
}

/// Hourly-ish digests from the approval to 2026-11-14, with logging stopped on 2026-11-08.
fn chain(gap: bool) -> ChainReport {
    let mut digests = vec![digest(
        "d1",
        "2026-11-06T09:00:00Z",
        "2026-11-08T01:00:00Z",
        vec![],
    )];
    if gap {
        digests.push(digest(
            "d2",
            "2026-11-08T20:00:00Z",
            "2026-11-14T00:00:00Z",
            vec![],
        ));
    } else {
        digests.push(digest(
            "d2",
            "2026-11-08T01:00:00Z",
            "2026-11-14T00:00:00Z",
            vec![],
        ));
    }
    ChainReport {
        valid: true,
        digests,
        log_files: vec![LogCheck {
            bucket: "b".into(),
            key: "log-1".into(),
            digest_key: "d2".into(),
            expected_sha256: "x".into(),
            valid: true,
            findings: vec![],
        }],
        not_covered: vec![],
    }
}

fn inputs<'a>(
    b: &'a Baseline,
    base: &'a StackSnapshot,
    now: &'a StackSnapshot,
    items: &'a [crate::aws_config_items::ConfigItem],
    events: &'a [crate::cloudtrail::events::TrailEvent],
    chain: &'a ChainReport,
    assessments: &'a [AssessmentRef],
) -> StateInputs<'a> {
    StateInputs {
        system: "LIMS",
        baseline: b,
        baseline_snapshot: Some(base),
        from: b.approved_at.get(),
        to: datetime!(2026-11-14 06:00 UTC),
        current: CurrentInput {
            snapshot: Some((now, Sha256::of(b"current snapshot"))),
            fresh: true,
        },
        current_note: None,
        config_items: items,
        events,
        chain,
        public_keys: &[],
        assessments,
        notes: vec![],
    }
}

#[test]
fn the_baseline_is_the_snapshot_shown_with_the_approval_that_completed_iq_oq_and_pq() {
    let (b, snap) = baseline();
    assert_eq!(b.approved_at, ts(APPROVED));
    assert_eq!(
        b.approvals
            .iter()
            .map(|a| a.phase.as_str())
            .collect::<Vec<_>>(),
        ["IQ", "OQ", "PQ"]
    );
    assert_eq!(
        b.snapshot.as_ref().unwrap().sha256,
        Sha256::of(b"baseline snapshot")
    );
    assert_eq!(snap.taken_at, "2026-11-05T09:00:00Z");

    // A phase without approval, or whose approval no longer verifies: no baseline.
    let two = [
        approval(Phase::Iq, APPROVED, 1, true),
        approval(Phase::Oq, APPROVED, 2, true),
    ];
    match baseline_of("LIMS", &two, &[]) {
        BaselineOutcome::NotQualified { reason, approved } => {
            assert_eq!(reason, "not qualified yet: no approved PQ run");
            assert_eq!(approved, [Phase::Iq, Phase::Oq]);
        }
        other => panic!("{other:?}"),
    }
    let stale = [
        approval(Phase::Iq, APPROVED, 1, true),
        approval(Phase::Oq, APPROVED, 2, true),
        approval(Phase::Pq, APPROVED, 3, false),
    ];
    match baseline_of("LIMS", &stale, &[]) {
        BaselineOutcome::NotQualified { reason, .. } => {
            assert!(
                reason.contains("no longer verifies (record changed since signing)"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Only a snapshot recorded after the approval: used, and said so.
    let approvals = [
        approval(Phase::Iq, APPROVED, 1, true),
        approval(Phase::Oq, APPROVED, 2, true),
        approval(Phase::Pq, APPROVED, 3, true),
    ];
    let later = [RecordedSnapshot {
        run: run(Phase::Oq),
        ledger_seq: 9,
        sha256: Sha256::of(b"later"),
        snapshot: snapshot("2026-11-20T00:00:00Z"),
    }];
    match baseline_of("LIMS", &approvals, &later) {
        BaselineOutcome::Found {
            notes, baseline, ..
        } => {
            assert_eq!(baseline.snapshot.unwrap().sha256, Sha256::of(b"later"));
            assert!(
                notes[0].contains("first one recorded after it"),
                "{notes:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_stack_shows_each_change_with_its_diff_who_and_when() {
    let (b, base) = baseline();
    let items = parse_config_file("config.json", CONFIG.as_bytes()).unwrap();
    let events = parse_log("log-1", LOG.as_bytes()).unwrap();
    let chain = chain(true);
    let mut now = snapshot("2026-11-14T06:00:00Z");
    now.parameters.insert("Environment".into(), "prod".into());
    let ev = evaluate(&inputs(&b, &base, &now, &items, &events, &chain, &[]));
    let f = &ev.findings;
    let summaries: Vec<&str> = f.changes.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Bucket lims-raw: BucketPolicy changed",
            "Bucket lims-raw: NON_COMPLIANT with s3-bucket-public-read-prohibited",
            "PutBucketTagging (s3.amazonaws.com) by arn:aws:sts::123456789012:assumed-role/ops/bot on lims-raw",
            "Stack lims-qual: parameters changed",
        ]
    );
    // The policy change carries the call that made it: who, when, from where.
    let policy = &f.changes[0];
    assert_eq!(policy.kind, ChangeKind::Configuration);
    assert_eq!(policy.at, Some(ts(datetime!(2026-11-12 15:19 UTC))));
    assert_eq!(policy.events.len(), 1);
    let call = &policy.events[0];
    assert_eq!(call.event_name, "PutBucketPolicy");
    assert_eq!(
        call.principal.as_deref(),
        Some("arn:aws:iam::123456789012:user/jo.tanaka")
    );
    assert_eq!(call.source_ip.as_deref(), Some("198.51.100.77"));
    assert!(call.validated);
    assert_eq!(
        policy.differences,
        [FieldDiff {
            path: "/supplementaryConfiguration/BucketPolicy/policyText".into(),
            before: Some("null".into()),
            after: Some("\"{\\\"Statement\\\":[{\\\"Principal\\\":\\\"*\\\"}]}\"".into()),
        }]
    );
    assert_eq!(f.changes[1].kind, ChangeKind::Compliance);
    assert_eq!(
        f.changes[1].differences[0].after.as_deref(),
        Some("\"NON_COMPLIANT\"")
    );
    assert_eq!(f.changes[3].differences[0].path, "/parameters/Environment");
    // The failed call is an attempt, the read and the other bucket's call are not changes.
    assert_eq!(f.attempts.len(), 1);
    assert_eq!(f.attempts[0].error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(ev.events.len(), 4, "{:?}", ev.events);
    assert_eq!(ev.activity.len(), 1);
    assert_eq!(
        (
            ev.activity[0].writes,
            ev.activity[0].reads,
            ev.activity[0].failed
        ),
        (2, 1, 1)
    );
    // The verdict is Changed; the gap is listed behind it.
    assert_eq!(f.verdict.kind, VerdictKind::Changed);
    assert_eq!(
        f.verdict.text,
        "Changed: 4 changes since approval (4 not assessed)"
    );
    assert_eq!(f.coverage.gaps.len(), 1);
    assert_eq!(f.coverage.gaps[0].from, ts(datetime!(2026-11-08 01:00 UTC)));
    assert_eq!(f.coverage.gaps[0].to, ts(datetime!(2026-11-08 20:00 UTC)));
    assert!(
        f.coverage.gaps[0].reason.contains("logging was stopped"),
        "{:?}",
        f.coverage.gaps
    );
    assert!(
        f.notes.iter().any(|n| n.contains("drift not checked")),
        "{:?}",
        f.notes
    );
    // Ids are the content's, so the same evidence gives the same ids.
    let again = evaluate(&inputs(&b, &base, &now, &items, &events, &chain, &[]));
    assert_eq!(again.findings, ev.findings);
    for c in &f.changes {
        assert_eq!(c.compute_id(), c.id);
    }
}

fn assessed(change: &Change, impact: Impact) -> AssessmentRef {
    AssessmentRef {
        change: change.id,
        impact,
        reference: Some("CC-2026-0412".into()),
        reason: "reviewed".into(),
        printed_name: "Priya Raman".into(),
        iam_arn: "arn:aws:iam::123456789012:user/priya.raman".into(),
        signed_at: ts(datetime!(2026-11-13 09:00 UTC)),
        envelope_sha256: Sha256::of(change.id.to_hex().as_bytes()),
    }
}

#[test]
fn the_three_verdicts() {
    let (b, base) = baseline();
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    let quiet: [crate::cloudtrail::events::TrailEvent; 0] = [];
    // Quiet and covered: in qualified state up to the end of the last covered digest.
    let whole = chain(false);
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &whole, &[]));
    assert_eq!(ev.findings.verdict.kind, VerdictKind::InQualifiedState);
    assert_eq!(
        ev.findings.verdict.text,
        "In qualified state from 2026-11-06 10:00 UTC to 2026-11-14 00:00 UTC"
    );
    assert!(ev.findings.changes.is_empty());
    // Quiet with a gap: not demonstrable.
    let gapped = chain(true);
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &gapped, &[]));
    assert_eq!(ev.findings.verdict.kind, VerdictKind::NotDemonstrable);
    assert_eq!(
        ev.findings.verdict.text,
        "Not demonstrable: evidence gap 2026-11-08 01:00 UTC – 2026-11-08 20:00 UTC"
    );
    // Changes, all assessed as no impact, no gap: in qualified state, saying so.
    let items = parse_config_file("config.json", CONFIG.as_bytes()).unwrap();
    let events = parse_log("log-1", LOG.as_bytes()).unwrap();
    let first = evaluate(&inputs(&b, &base, &base, &items, &events, &whole, &[]));
    let all: Vec<AssessmentRef> = first
        .findings
        .changes
        .iter()
        .map(|c| assessed(c, Impact::NoImpact))
        .collect();
    let ev = evaluate(&inputs(&b, &base, &base, &items, &events, &whole, &all));
    assert_eq!(ev.findings.verdict.kind, VerdictKind::InQualifiedState);
    assert!(
        ev.findings
            .verdict
            .text
            .ends_with("(3 changes assessed as no impact)"),
        "{}",
        ev.findings.verdict.text
    );
    assert!(ev.findings.changes.iter().all(|c| c.assessment.is_some()));
    // One assessed as needing requalification: changed.
    let mut some = all.clone();
    some[0] = assessed(&first.findings.changes[0], Impact::RequalificationNeeded);
    let ev = evaluate(&inputs(&b, &base, &base, &items, &events, &whole, &some));
    assert_eq!(
        ev.findings.verdict.text,
        "Changed: 3 changes since approval (1 needing requalification)"
    );
}

#[test]
fn unvalidated_digests_and_a_missing_public_key_are_gaps_with_their_reason() {
    let (b, base) = baseline();
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    let quiet: [crate::cloudtrail::events::TrailEvent; 0] = [];
    let mut c = chain(false);
    c.digests[1].findings = vec![Finding::SignatureNotChecked];
    c.digests[1].valid = false;
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &c, &[]));
    let g = &ev.findings.coverage.gaps;
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].to, ts(datetime!(2026-11-14 00:00 UTC)));
    assert_eq!(
        g[0].reason,
        "digest d2: signature not checked: no public key supplied"
    );
    assert_eq!(ev.findings.verdict.kind, VerdictKind::NotDemonstrable);
    assert_eq!(
        ev.findings.coverage.covered_until,
        Some(ts(datetime!(2026-11-08 01:00 UTC)))
    );
    // No digest at all after approval.
    let empty = ChainReport {
        valid: false,
        digests: vec![],
        log_files: vec![],
        not_covered: vec![],
    };
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &empty, &[]));
    assert_eq!(ev.findings.coverage.gaps[0].from, b.approved_at);
    assert!(ev.findings.coverage.gaps[0]
        .reason
        .starts_with("no CloudTrail digest in the store"));
}

#[test]
fn drift_in_the_current_snapshot_is_a_change_per_resource() {
    let (_, base) = baseline();
    let mut now = snapshot("2026-11-14T06:00:00Z");
    now.drift = DriftState::Drifted {
        resources: vec![ResourceDrift {
            logical_id: "SampleAttachmentBucket".into(),
            physical_id: Some("lims-raw".into()),
            resource_type: "AWS::S3::Bucket".into(),
            status: "MODIFIED".into(),
            differences: vec![PropertyDifference {
                path: "/VersioningConfiguration/Status".into(),
                expected: Some("Enabled".into()),
                actual: Some("Suspended".into()),
                kind: "NOT_EQUAL".into(),
            }],
        }],
    };
    now.template = StackTemplate::new("Resources: {X: 1}".into());
    let changes = stack_diff::stack_changes(&base, &now, Sha256::of(b"now"));
    let s: Vec<&str> = changes.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        s,
        [
            "Stack lims-qual: template changed",
            "Stack lims-qual: resource SampleAttachmentBucket modified (drift detected)"
        ]
    );
    assert_eq!(
        changes[1].differences[0].path,
        "/drift/SampleAttachmentBucket/VersioningConfiguration/Status"
    );
    assert_eq!(
        changes[1].differences[0].after.as_deref(),
        Some("Suspended")
    );
    // In sync and not checked are no change; unchanged snapshots differ in nothing.
    assert!(stack_diff::stack_changes(&base, &base, Sha256::of(b"same")).is_empty());
}

#[test]
fn findings_have_frozen_canonical_bytes_and_are_read_back_strictly() {
    let (b, base) = baseline();
    let items = parse_config_file("config.json", CONFIG.as_bytes()).unwrap();
    let events = parse_log("log-1", LOG.as_bytes()).unwrap();
    let chain = chain(true);
    let ev = evaluate(&inputs(&b, &base, &base, &items, &events, &chain, &[]));
    let bytes = ev.findings.canonical_bytes().unwrap();
    if let Ok(path) = std::env::var("COUNTERSIGN_DUMP_FINDINGS") {
        std::fs::write(path, &bytes).unwrap();
    }
    assert_eq!(Findings::parse(&bytes).unwrap(), ev.findings);
    assert_eq!(
        ev.findings.changes[0].id.to_hex(),
        "622ad13c1d234f811b7b44b28034bfee84a4014a84ca4271400d870200c4b1c2",
        "a change's id is frozen for the same evidence"
    );
    assert_eq!(
        Sha256::of(&bytes).to_hex(),
        "080a713914044bdc3af6604648c5ccd744ab0fa28ca06dec57e43747f38cc5c8",
        "the v1 encoding is frozen"
    );
    // A change whose content was edited no longer has its id.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let edited = text.replace("jo.tanaka", "jo.tanakb");
    assert!(
        matches!(Findings::parse(edited.as_bytes()), Err(findings::FindingsError::Malformed(m)) if m.contains("does not have the id"))
    );
    let pretty = serde_json::to_vec_pretty(&ev.findings).unwrap();
    assert_eq!(
        Findings::parse(&pretty),
        Err(findings::FindingsError::NotCanonical)
    );
    let _ = json!(null);
}

#[test]
fn the_timeline_puts_approval_changes_gaps_attempts_and_reviews_in_order() {
    let (b, base) = baseline();
    let items = parse_config_file("config.json", CONFIG.as_bytes()).unwrap();
    let events = parse_log("log-1", LOG.as_bytes()).unwrap();
    let chain = chain(true);
    let first = evaluate(&inputs(&b, &base, &base, &items, &events, &chain, &[]));
    let a = [assessed(&first.findings.changes[0], Impact::NoImpact)];
    let ev = evaluate(&inputs(&b, &base, &base, &items, &events, &chain, &a));
    let reviews = [ReviewMark {
        signed_at: ts(datetime!(2026-11-14 08:00 UTC)),
        from: b.approved_at,
        to: ts(datetime!(2026-11-14 00:00 UTC)),
        printed_name: "Elena Fischer".into(),
    }];
    let t = timeline(&ev.findings, &reviews);
    let kinds: Vec<timeline::EntryKind> = t.iter().map(|e| e.kind).collect();
    use timeline::EntryKind::*;
    assert_eq!(
        kinds,
        [Approval, Gap, Change, Change, Attempt, Change, Assessment, Review]
    );
    assert_eq!(t[1].until, Some(ts(datetime!(2026-11-08 20:00 UTC))));
    assert!(
        t[6].title
            .starts_with("Assessed by Priya Raman: no impact (CC-2026-0412)"),
        "{}",
        t[6].title
    );
}

#[test]
fn a_gap_at_the_start_is_a_gap_from_the_approval() {
    let (b, base) = baseline();
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    let quiet: [crate::cloudtrail::events::TrailEvent; 0] = [];
    // The first digest after approval starts two days later: logging was off in between.
    let late = ChainReport {
        valid: true,
        digests: vec![digest(
            "d1",
            "2026-11-08T10:00:00Z",
            "2026-11-14T00:00:00Z",
            vec![],
        )],
        log_files: vec![],
        not_covered: vec![],
    };
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &late, &[]));
    let cov = &ev.findings.coverage;
    assert_eq!(cov.gaps.len(), 1);
    assert_eq!(cov.gaps[0].from, b.approved_at);
    assert_eq!(cov.gaps[0].to, ts(datetime!(2026-11-08 10:00 UTC)));
    assert_eq!(
        cov.covered,
        [Period {
            from: ts(datetime!(2026-11-08 10:00 UTC)),
            to: ts(datetime!(2026-11-14 00:00 UTC)),
        }]
    );
    assert_eq!(ev.findings.verdict.kind, VerdictKind::NotDemonstrable);
    assert_eq!(
        ev.findings.verdict.text,
        "Not demonstrable: evidence gap 2026-11-06 10:00 UTC – 2026-11-08 10:00 UTC"
    );
    // A digest that ends before the approval covers nothing after it.
    let before = ChainReport {
        valid: true,
        digests: vec![digest(
            "d0",
            "2026-11-05T00:00:00Z",
            "2026-11-06T09:00:00Z",
            vec![],
        )],
        log_files: vec![],
        not_covered: vec![],
    };
    let ev = evaluate(&inputs(&b, &base, &base, &none, &quiet, &before, &[]));
    assert_eq!(ev.findings.coverage.covered_until, None);
    assert_eq!(ev.findings.coverage.gaps[0].from, b.approved_at);
    assert_eq!(ev.findings.verdict.kind, VerdictKind::NotDemonstrable);
}

#[test]
fn read_only_calls_are_listed_but_never_changes() {
    let (b, base) = baseline();
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    // With `readOnly` and without it (the name decides): reads; an ingress rule: a write.
    let log = r#"{"Records":[
     {"eventTime":"2026-11-10T08:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetBucketPolicy","readOnly":true,"eventID":"r1",
      "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"lims-raw"}},
     {"eventTime":"2026-11-10T08:05:00Z","eventSource":"s3.amazonaws.com","eventName":"ListObjectsV2","eventID":"r2",
      "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"lims-raw"}},
     {"eventTime":"2026-11-10T08:10:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketVersioning","readOnly":true,"eventID":"r3",
      "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":{"bucketName":"lims-raw"}}
    ]}"#;
    let events = parse_log("log-1", log.as_bytes()).unwrap();
    let whole = chain(false);
    let ev = evaluate(&inputs(&b, &base, &base, &none, &events, &whole, &[]));
    assert_eq!(ev.events.len(), 3);
    assert!(ev.events.iter().all(|e| e.read_only), "{:?}", ev.events);
    assert!(ev.findings.changes.is_empty());
    assert!(ev.findings.attempts.is_empty());
    assert_eq!(ev.findings.verdict.kind, VerdictKind::InQualifiedState);
    // The same bucket written without `readOnly`: its name says write.
    let write = log.replace(
        "\"eventName\":\"ListObjectsV2\"",
        "\"eventName\":\"DeleteBucketPolicy\"",
    );
    let events = parse_log("log-1", write.as_bytes()).unwrap();
    let ev = evaluate(&inputs(&b, &base, &base, &none, &events, &whole, &[]));
    assert_eq!(ev.findings.changes.len(), 1);
    assert_eq!(ev.findings.changes[0].kind, ChangeKind::ApiCall);
    assert_eq!(
        ev.findings.changes[0].events[0].event_name,
        "DeleteBucketPolicy"
    );
    assert_eq!(ev.findings.verdict.kind, VerdictKind::Changed);
}

#[test]
fn without_a_drift_detection_drift_is_not_checked_never_in_sync() {
    let (b, base) = baseline();
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    let quiet: [crate::cloudtrail::events::TrailEvent; 0] = [];
    let now = snapshot("2026-11-14T06:00:00Z");
    assert!(matches!(now.drift, DriftState::NotChecked { .. }));
    let whole = chain(false);
    let ev = evaluate(&inputs(&b, &base, &now, &none, &quiet, &whole, &[]));
    let current = ev.findings.current_stack.snapshot.as_ref().unwrap();
    assert_eq!(current.drift, "drift not checked");
    assert_eq!(b.snapshot.as_ref().unwrap().drift, "drift not checked");
    assert!(
        ev.findings.notes.iter().any(|n| n.starts_with(
            "drift not checked in the current snapshot (DetectStackDrift: not implemented)"
        )),
        "{:?}",
        ev.findings.notes
    );
    // An answered detection that found nothing is "in sync", and no change.
    let mut synced = now.clone();
    synced.drift = DriftState::InSync;
    let ev = evaluate(&inputs(&b, &base, &synced, &none, &quiet, &whole, &[]));
    assert_eq!(
        ev.findings.current_stack.snapshot.as_ref().unwrap().drift,
        "in sync"
    );
    assert!(ev.findings.changes.is_empty());
    assert!(!ev
        .findings
        .notes
        .iter()
        .any(|n| n.contains("drift not checked")));
}

#[test]
fn a_security_group_rule_opened_is_a_write_call_on_the_group() {
    let (b, mut base) = baseline();
    base.resources.push(StackResource {
        logical_id: "AppSecurityGroup".into(),
        physical_id: Some("sg-0a1b2c3d".into()),
        resource_type: "AWS::EC2::SecurityGroup".into(),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        last_updated: None,
    });
    let none: [crate::aws_config_items::ConfigItem; 0] = [];
    let log = r#"{"Records":[
     {"eventTime":"2026-11-12T15:12:30Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","readOnly":false,"eventID":"sg1",
      "sourceIPAddress":"198.51.100.77","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/jo.tanaka"},
      "requestParameters":{"groupId":"sg-0a1b2c3d","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22}]}}},
     {"eventTime":"2026-11-12T15:13:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","readOnly":false,"eventID":"sg2",
      "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/jo.tanaka"},"requestParameters":{"groupId":"sg-other"}}
    ]}"#;
    let events = parse_log("log-1", log.as_bytes()).unwrap();
    let whole = chain(false);
    let ev = evaluate(&inputs(&b, &base, &base, &none, &events, &whole, &[]));
    assert_eq!(ev.findings.changes.len(), 1, "{:?}", ev.findings.changes);
    let c = &ev.findings.changes[0];
    assert_eq!(c.at, Some(ts(datetime!(2026-11-12 15:12:30 UTC))));
    assert_eq!(
        c.events[0].who(),
        "arn:aws:iam::123456789012:user/jo.tanaka"
    );
    assert_eq!(c.events[0].source_ip.as_deref(), Some("198.51.100.77"));
    assert_eq!(c.resource.as_ref().unwrap().resource_id, "sg-0a1b2c3d");
}

/// Findings of LIMS with the sample evidence and `assessments`, for other modules' tests:
/// period 2026-11-06 10:00 – 2026-11-14 06:00 UTC, with changes and a coverage gap.
pub(crate) fn sample_findings(assessments: &[AssessmentRef]) -> Findings {
    let (b, base) = baseline();
    let items = parse_config_file("config.json", CONFIG.as_bytes()).unwrap();
    let events = parse_log("log-1", LOG.as_bytes()).unwrap();
    let chain = chain(true);
    evaluate(&inputs(
        &b,
        &base,
        &base,
        &items,
        &events,
        &chain,
        assessments,
    ))
    .findings
}
