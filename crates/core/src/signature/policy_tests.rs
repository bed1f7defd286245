//! The policy file's validation and every rule of `evaluate`.

use super::key_id::KeyId;
use super::policy::{
    arn_matches, evaluate, follows, Policy, PolicyError, PriorSignature, RecordFacts, RecordState,
    Rule, SignRequest, Signer,
};
use super::predicate::Meaning;
use crate::digest::Sha256;
use crate::model::Phase;

const POLICY: &str = r#"{
  "format": "countersign.policy/v1",
  "version": 1,
  "session": {"idle_timeout_minutes": 5, "lockout": {"max_failures": 3, "window_minutes": 15, "lock_minutes": 30}},
  "grants": [
    {"arn": "arn:aws:iam::123456789012:user/qa-*", "meanings": ["Approved", "Rejected"], "phases": ["IQ", "OQ", "PQ"]},
    {"group": "ValidationLeads", "meanings": ["Authored", "Reviewed"], "phases": ["OQ", "PQ"]},
    {"arn": "arn:aws:iam::123456789012:user/dana", "meanings": ["Reviewed", "Approved"], "phases": ["OQ"]}
  ]
}"#;

fn policy() -> Policy {
    Policy::parse(POLICY.as_bytes()).unwrap()
}

fn signer(user: &str, name: &str, groups: &[&str]) -> Signer {
    Signer {
        arn: format!("arn:aws:iam::123456789012:user/{user}"),
        printed_name: name.into(),
        key_id: KeyId::of_public_key_bytes(Sha256::of(user.as_bytes()).as_bytes()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn dana() -> Signer {
    signer("dana", "Dana Whitfield", &["ValidationLeads"])
}

fn quinn() -> Signer {
    signer("qa-quinn", "Quinn Adeyemi", &[])
}

fn request(who: Signer, meaning: Meaning) -> SignRequest {
    SignRequest {
        signer: who,
        meaning,
        record: RecordFacts {
            name: "run:LIMS/OQ/2026-11-03-oq-1".into(),
            phase: Phase::Oq,
            executor_arn: Some("arn:aws:iam::123456789012:role/pipeline".into()),
            undispositioned: vec![],
        },
    }
}

fn prior(who: &Signer, meaning: Meaning, n: u8) -> PriorSignature {
    PriorSignature {
        meaning,
        arn: who.arn.clone(),
        printed_name: who.printed_name.clone(),
        key_id: who.key_id,
        envelope_sha256: Sha256::of(&[n]),
    }
}

fn refused(r: &SignRequest, h: &[PriorSignature]) -> (Rule, String) {
    let e = evaluate(&policy(), r, h).unwrap_err();
    (e.rule, e.message)
}

#[test]
fn the_happy_path_reviewed_then_approved() {
    let p = policy();
    assert_eq!(p.version, 1);
    assert_eq!(p.sha256, Sha256::of(POLICY.as_bytes()));
    assert_eq!(p.session.idle_timeout_minutes, 5);
    assert_eq!(p.reference().sha256, p.sha256);
    assert!(p.separation_of_duties.no_self_approval, "on by default");
    evaluate(&p, &request(dana(), Meaning::Reviewed), &[]).unwrap();
    let h = [prior(&dana(), Meaning::Reviewed, 1)];
    evaluate(&p, &request(quinn(), Meaning::Approved), &h).unwrap();
    evaluate(&p, &request(quinn(), Meaning::Rejected), &h).unwrap();
    assert_eq!(follows(&h), vec![Sha256::of(&[1])]);
}

#[test]
fn authority_comes_from_arn_patterns_and_groups_per_phase() {
    let (rule, msg) = refused(&request(quinn(), Meaning::Reviewed), &[]);
    assert_eq!(rule, Rule::Authority);
    assert!(
        msg.contains("Quinn Adeyemi (arn:aws:iam::123456789012:user/qa-quinn)"),
        "{msg}"
    );
    assert!(msg.contains("OQ records as Reviewed"), "{msg}");
    assert!(msg.contains("policy v1 rule authority"), "{msg}");
    // A group member may review OQ but the group grant does not cover IQ.
    let lead = signer("lee", "Lee Park", &["ValidationLeads"]);
    evaluate(&policy(), &request(lead.clone(), Meaning::Reviewed), &[]).unwrap();
    let mut iq = request(lead, Meaning::Reviewed);
    iq.record.phase = Phase::Iq;
    assert_eq!(refused(&iq, &[]).0, Rule::Authority);
    // Someone in no grant at all.
    let (rule, _) = refused(&request(signer("eve", "Eve", &[]), Meaning::Reviewed), &[]);
    assert_eq!(rule, Rule::Authority);
}

#[test]
fn out_of_order_signatures_are_refused() {
    let (rule, msg) = refused(&request(quinn(), Meaning::Approved), &[]);
    assert_eq!(rule, Rule::Sequence);
    assert!(msg.contains("has not been Reviewed"), "{msg}");

    let reviewed = [prior(&dana(), Meaning::Reviewed, 1)];
    let lead = signer("lee", "Lee Park", &["ValidationLeads"]);
    let (rule, msg) = refused(&request(lead.clone(), Meaning::Reviewed), &reviewed);
    assert_eq!(rule, Rule::Sequence);
    assert!(msg.contains("already Reviewed"), "{msg}");

    let done = [
        prior(&dana(), Meaning::Reviewed, 1),
        prior(&quinn(), Meaning::Approved, 2),
    ];
    let other_qa = signer("qa-rosa", "Rosa Lind", &[]);
    let (rule, msg) = refused(&request(other_qa, Meaning::Rejected), &done);
    assert_eq!(rule, Rule::Sequence);
    assert!(msg.contains("already Approved"), "{msg}");
    assert_eq!(RecordState::of(&done), RecordState::Approved);

    let (rule, msg) = refused(&request(lead, Meaning::Authored), &reviewed);
    assert_eq!(rule, Rule::Sequence);
    assert!(msg.contains("Authored can only be the first"), "{msg}");
}

#[test]
fn the_reviewer_may_not_approve() {
    let h = [prior(&dana(), Meaning::Reviewed, 1)];
    let (rule, msg) = refused(&request(dana(), Meaning::Approved), &h);
    assert_eq!(rule, Rule::NoSelfApproval);
    assert_eq!(
        msg,
        "Dana Whitfield (arn:aws:iam::123456789012:user/dana) signed run:LIMS/OQ/2026-11-03-oq-1 as \
         Reviewed; the same person may not also approve it (separation of duties, policy v1 rule \
         no-self-approval)"
    );
    // Same person recognised by key id even under another ARN spelling.
    let mut alias = dana();
    alias.arn = "arn:aws:iam::123456789012:user/qa-dana".into();
    assert_eq!(
        refused(&request(alias, Meaning::Rejected), &h).0,
        Rule::NoSelfApproval
    );
}

#[test]
fn the_executor_may_neither_review_nor_approve() {
    let mut r = request(dana(), Meaning::Reviewed);
    r.record.executor_arn = Some(dana().arn);
    let (rule, msg) = refused(&r, &[]);
    assert_eq!(rule, Rule::OnePersonOneLevel);
    assert!(
        msg.contains("executed run:LIMS/OQ/2026-11-03-oq-1"),
        "{msg}"
    );
    assert!(msg.contains("one person may not fill two levels"), "{msg}");

    let mut r = request(quinn(), Meaning::Approved);
    r.record.executor_arn = Some(quinn().arn.to_uppercase());
    let h = [prior(&dana(), Meaning::Reviewed, 1)];
    assert_eq!(refused(&r, &h).0, Rule::NoSelfApproval);
}

#[test]
fn the_author_may_not_review() {
    let lead = signer("lee", "Lee Park", &["ValidationLeads"]);
    let h = [prior(&lead, Meaning::Authored, 1)];
    assert_eq!(RecordState::of(&h), RecordState::Executed);
    let (rule, _) = refused(&request(lead, Meaning::Reviewed), &h);
    assert_eq!(rule, Rule::OnePersonOneLevel);
    evaluate(&policy(), &request(dana(), Meaning::Reviewed), &h).unwrap();
}

#[test]
fn separation_of_duties_can_be_switched_off_explicitly() {
    let text = POLICY.replace(
        "\"grants\"",
        "\"separation_of_duties\": {\"no_self_approval\": false},\n  \"grants\"",
    );
    let p = Policy::parse(text.as_bytes()).unwrap();
    assert!(!p.separation_of_duties.no_self_approval);
    let h = [prior(&dana(), Meaning::Reviewed, 1)];
    evaluate(&p, &request(dana(), Meaning::Approved), &h).unwrap();
}

#[test]
fn approval_needs_every_failure_dispositioned() {
    let h = [prior(&dana(), Meaning::Reviewed, 1)];
    let mut r = request(quinn(), Meaning::Approved);
    r.record.undispositioned = (1..=7).map(|i| format!("oq.xml#case{i}")).collect();
    let (rule, msg) = refused(&r, &h);
    assert_eq!(rule, Rule::DispositionBeforeApproval);
    assert!(msg.contains("7 failed or errored case(s)"), "{msg}");
    assert!(msg.contains("oq.xml#case1, oq.xml#case2"), "{msg}");
    assert!(msg.contains("and 2 more"), "{msg}");
    // Rejecting does not need dispositions.
    r.meaning = Meaning::Rejected;
    evaluate(&policy(), &r, &h).unwrap();
}

#[test]
fn arn_glob_matching() {
    let p = "arn:aws:iam::123456789012:user/qa-*";
    assert!(arn_matches(p, "arn:aws:iam::123456789012:user/qa-quinn"));
    assert!(arn_matches(p, "arn:aws:iam::123456789012:user/qa-"));
    assert!(!arn_matches(p, "arn:aws:iam::123456789012:user/dana"));
    assert!(!arn_matches(p, "arn:aws:iam::999999999999:user/qa-quinn"));
    assert!(arn_matches(
        "arn:aws:iam::*:user/?ana",
        "arn:aws:iam::1:user/dana"
    ));
    assert!(!arn_matches(
        "arn:aws:iam::*:user/?ana",
        "arn:aws:iam::1:user/ana"
    ));
    assert!(arn_matches("*", "anything"));
    assert!(arn_matches("a*b*c", "aXXbYYc"));
    assert!(!arn_matches("a*b*c", "aXXbYY"));
}

fn bad(text: &str) -> PolicyError {
    Policy::parse(text.as_bytes()).unwrap_err()
}

#[test]
fn bad_policy_files_name_what_is_wrong() {
    let with = |from: &str, to: &str| {
        assert!(POLICY.contains(from), "{from}");
        POLICY.replace(from, to)
    };
    let e = bad("{\n  \"format\": ");
    assert!(matches!(e, PolicyError::Json { line: 2, .. }), "{e}");
    let e = bad(&with("countersign.policy/v1", "countersign.policy/v3"));
    assert_eq!(
        e,
        PolicyError::UnsupportedFormat {
            found: "countersign.policy/v3".into()
        }
    );
    let cases = [
        (
            with("\"idle_timeout_minutes\": 5", "\"idle_timeout_minutes\": 0"),
            "session.idle_timeout_minutes",
        ),
        (
            with(
                "\"idle_timeout_minutes\": 5",
                "\"idle_timeout_minutes\": 60",
            ),
            "session.idle_timeout_minutes",
        ),
        (
            with("\"max_failures\": 3", "\"max_failures\": 10"),
            "session.lockout.max_failures",
        ),
        (
            with("\"max_failures\": 3", "\"max_failures\": 0"),
            "session.lockout.max_failures",
        ),
        (
            with("\"window_minutes\": 15", "\"window_minutes\": 0"),
            "session.lockout.window_minutes",
        ),
        (
            with("\"lock_minutes\": 30", "\"lock_minutes\": 0"),
            "session.lockout.lock_minutes",
        ),
        (with("\"version\": 1", "\"version\": 0"), "version"),
        (with("user/qa-*", "user/qa *"), "grants[0].arn"),
        (
            with("arn:aws:iam::123456789012:user/qa-*", "qa-*"),
            "grants[0].arn",
        ),
        (
            with("\"ValidationLeads\"", "\"Validation Leads\""),
            "grants[1].group",
        ),
        (
            with(
                "{\"group\": \"ValidationLeads\",",
                "{\"group\": \"G\", \"arn\": \"arn:aws:iam::1:user/x\",",
            ),
            "grants[1]",
        ),
        (
            with("[\"Approved\", \"Rejected\"]", "[]"),
            "grants[0].meanings",
        ),
        (with("[\"IQ\", \"OQ\", \"PQ\"]", "[]"), "grants[0].phases"),
    ];
    for (text, field) in cases {
        match bad(&text) {
            PolicyError::Invalid { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: expected invalid, got {other}"),
        }
    }
    // Unknown meanings, phases and keys are refused by name.
    assert!(bad(&with("\"Rejected\"", "\"Witnessed\""))
        .to_string()
        .contains("Witnessed"));
    assert!(bad(&with("\"PQ\"]", "\"XQ\"]")).to_string().contains("XQ"));
    assert!(bad(&with("\"version\": 1", "\"version\": 1, \"idle\": 3"))
        .to_string()
        .contains("idle"));
    let no_grants = r#"{"format":"countersign.policy/v1","version":1,"grants":[]}"#;
    assert!(matches!(bad(no_grants), PolicyError::Invalid { field, .. } if field == "grants"));
}

#[test]
fn administrators_are_a_member_of_version_2_only() {
    let admins = r#""grants": [{"arn": "arn:aws:iam::1:user/a", "meanings": ["Approved"], "phases": ["PQ"]}],
      "administrators": [{"arn": "arn:aws:iam::123456789012:user/it-*"}]}"#;
    let v2 = format!(r#"{{"format": "countersign.policy/v2", "version": 4, {admins}"#);
    let p = Policy::parse(v2.as_bytes()).unwrap();
    assert!(p.is_administrator("arn:aws:iam::123456789012:user/it-carol"));
    assert!(!p.is_administrator("arn:aws:iam::123456789012:user/dana"));
    // Matched as written: case-sensitively.
    assert!(!p.is_administrator("arn:aws:iam::123456789012:user/IT-carol"));
    assert_eq!(p.sha256, Sha256::of(v2.as_bytes()));
    // Version 1 names no administrators, and refuses the member, naming the version that has it.
    assert!(policy().administrators.is_empty());
    assert!(!policy().is_administrator("arn:aws:iam::123456789012:user/it-carol"));
    let v1 = v2.replace("policy/v2", "policy/v1");
    match Policy::parse(v1.as_bytes()).unwrap_err() {
        PolicyError::Invalid { field, problem } => {
            assert_eq!(field, "administrators");
            assert!(problem.contains("countersign.policy/v2"), "{problem}");
        }
        other => panic!("{other}"),
    }
    // Version 2 without administrators is version 1's rules.
    let plain = POLICY.replace("policy/v1", "policy/v2");
    assert!(Policy::parse(plain.as_bytes())
        .unwrap()
        .administrators
        .is_empty());
    // Each administrator is an ARN pattern, with no other member.
    for (text, field) in [
        (
            v2.replace("user/it-*", "user/it *"),
            "administrators[0].arn",
        ),
        (
            v2.replace("arn:aws:iam::123456789012:user/it-*", "it-*"),
            "administrators[0].arn",
        ),
    ] {
        match Policy::parse(text.as_bytes()).unwrap_err() {
            PolicyError::Invalid { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: {other}"),
        }
    }
    let group = v2.replace(
        r#"{"arn": "arn:aws:iam::123456789012:user/it-*"}"#,
        r#"{"group": "IT"}"#,
    );
    assert!(Policy::parse(group.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("group"));
}

#[test]
fn defaults_are_the_strict_ones() {
    let p = Policy::parse(
        br#"{"format":"countersign.policy/v1","version":2,"grants":[{"group":"QA","meanings":["Approved"],"phases":["PQ"]}]}"#,
    )
    .unwrap();
    assert_eq!(p.session.idle_timeout_minutes, 10);
    assert_eq!(p.session.lockout.max_failures, 3);
    assert_eq!(p.session.lockout.window_minutes, 15);
    assert_eq!(p.session.lockout.lock_minutes, 30);
    assert!(p.separation_of_duties.no_self_approval);
}

#[test]
fn a_re_open_needs_approval_authority_and_something_signed_then_starts_a_new_cycle() {
    let p = policy();
    let reviewed = [prior(&dana(), Meaning::Reviewed, 1)];
    let approved = [
        prior(&dana(), Meaning::Reviewed, 1),
        prior(&quinn(), Meaning::Approved, 2),
    ];
    // Nothing signed: nothing to supersede.
    let (rule, msg) = refused(&request(quinn(), Meaning::Reopened), &[]);
    assert_eq!(rule, Rule::Sequence);
    assert!(msg.contains("no signature to supersede"), "{msg}");
    // Only someone who may approve records of the phase may re-open one.
    let lead = signer("lee", "Lee Park", &["ValidationLeads"]);
    let (rule, msg) = refused(&request(lead.clone(), Meaning::Reopened), &reviewed);
    assert_eq!(rule, Rule::Authority);
    assert!(msg.contains("re-open") && msg.contains("Approved"), "{msg}");
    // The approver may re-open their own approval (no separation-of-duties rule).
    evaluate(&p, &request(quinn(), Meaning::Reopened), &approved).unwrap();
    // After the re-open the cycle starts again: the same reviewer reviews, the same
    // approver approves, and a second re-open needs a new signature first.
    let mut history = approved.to_vec();
    history.push(prior(&quinn(), Meaning::Reopened, 3));
    assert_eq!(RecordState::of(&history), RecordState::Executed);
    let (rule, _) = refused(&request(quinn(), Meaning::Reopened), &history);
    assert_eq!(rule, Rule::Sequence);
    let (rule, _) = refused(&request(quinn(), Meaning::Approved), &history);
    assert_eq!(rule, Rule::Sequence, "Reviewed comes first again");
    evaluate(&p, &request(dana(), Meaning::Reviewed), &history).unwrap();
    history.push(prior(&dana(), Meaning::Reviewed, 4));
    evaluate(&p, &request(quinn(), Meaning::Approved), &history).unwrap();
    // Separation of duties still holds inside the new cycle.
    let (rule, _) = refused(&request(dana(), Meaning::Approved), &history);
    assert_eq!(rule, Rule::NoSelfApproval);
    // `follows` keeps the superseded signatures and the re-open.
    assert_eq!(follows(&history).len(), 4);
}
