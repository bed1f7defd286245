//! Sign-off hand-off between two desktops through S3, against the emulator: Alice (home A)
//! dispositions, reviews and publishes; Bob (home B) fetches, verifies everything against his own
//! verified store, approves and publishes; Alice takes Bob's approval back. Tampered variants in
//! the bucket are refused with their precise outcome and recorded; a final publish goes to an
//! Object Lock bucket with COMPLIANCE retention.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_aws::s3::{self, Upload};
use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::canonical::canonical_json;
use countersign_core::digest::Sha256;
use countersign_core::handoff::ItemOutcome;
use countersign_core::run_record::RunRecord;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::predicate::Meaning;
use countersign_ledger::EventFilter;
use countersign_service::{
    CancelToken, DispositionKind, DispositionRequest, ErrorCode, FetchSignoffReport,
    FetchSignoffRequest, KeyInfo, MfaCode, Passphrase, PublishRequest, Service, SignRequest,
    SignSecrets, SigningSession, SIGNOFF_KEY_ACCEPTED, SIGNOFF_PUBLISHED, SIGNOFF_RECORD_ACCEPTED,
    SIGNOFF_REJECTED, SIGNOFF_SIGNATURE_ACCEPTED,
};
use countersign_tests::harness::fetch_request;
use countersign_tests::{buckets, Harness, TestUser};

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";
const SIGNOFF: &str = "signoff-handoff";
const RUN: &str = "LIMS/OQ/2026-11-03-oq-1";
const PASS_A: &str = "alice passphrase 1";
const PASS_B: &str = "bob passphrase 22";

async fn desktop(h: &Harness) -> (tempfile::TempDir, Service) {
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let req = fetch_request(BUCKET, PREFIX).unwrap();
    service
        .fetch(&req, &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    (home, service)
}

async fn enrolled_key(
    h: &Harness,
    service: &Service,
    user: &TestUser,
    name: &str,
    pass: &str,
) -> KeyInfo {
    h.enrolled_key(service, user, name, pass).await.unwrap().0
}

async fn sign(
    _h: &Harness,
    service: &Service,
    user: &TestUser,
    key: &KeyInfo,
    meaning: Meaning,
    pass: &str,
) -> Result<countersign_service::SignatureInfo, countersign_service::ServiceError> {
    let mut session = SigningSession::new();
    service
        .sign(
            &user.settings(),
            &mut session,
            &SignRequest {
                run: RUN.into(),
                meaning,
                reason: format!("{meaning} after reading every result"),
                key_id: Some(key.key_id.clone()),
                mfa_serial: None,
            },
            SignSecrets {
                passphrase: Passphrase::new(pass.into()),
                mfa_code: Some(MfaCode::new(user.current_code())),
            },
        )
        .await
}

fn to(prefix: &str) -> PublishRequest {
    PublishRequest {
        run: RUN.into(),
        to: format!("s3://{SIGNOFF}/{prefix}").parse().unwrap(),
        object_lock_days: None,
    }
}

async fn fetch(ctx: &AwsSettings, service: &Service, prefix: &str) -> FetchSignoffReport {
    service
        .signoff_fetch(
            ctx,
            &FetchSignoffRequest {
                run: RUN.into(),
                from: format!("s3://{SIGNOFF}/{prefix}").parse().unwrap(),
            },
        )
        .await
        .unwrap()
}

fn events(service: &Service, action: &str) -> Vec<countersign_ledger::EventRecord> {
    service
        .ledger_events(&EventFilter {
            action: Some(action.into()),
            ..EventFilter::default()
        })
        .unwrap()
}

fn statuses(r: &FetchSignoffReport, kind: &str) -> Vec<String> {
    r.items
        .iter()
        .filter(|i| i.kind.as_str() == kind)
        .map(|i| i.status.as_str().to_owned())
        .collect()
}

fn run_base(prefix: &str) -> String {
    format!("{prefix}/{RUN}/signoff/")
}

/// Every object of a published sign-off: relative key → bytes.
async fn published(ctx: &AwsContext, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let base = run_base(prefix);
    let mut out = Vec::new();
    for o in s3::list(ctx, SIGNOFF, &base).await.unwrap() {
        let (bytes, _) = s3::get_small(ctx, SIGNOFF, &o.key, 1 << 24)
            .await
            .unwrap()
            .unwrap();
        out.push((o.key.strip_prefix(&base).unwrap().to_owned(), bytes));
    }
    out
}

/// Writes a copy of a sign-off under another prefix, with `edit` applied to each object.
async fn copy_with(
    ctx: &AwsContext,
    objects: &[(String, Vec<u8>)],
    prefix: &str,
    edit: impl Fn(&str, &[u8]) -> (String, Vec<u8>),
) {
    for (rel, bytes) in objects {
        let (rel, body) = edit(rel, bytes);
        let key = format!("{}{rel}", run_base(prefix));
        s3::put(
            ctx,
            SIGNOFF,
            Upload {
                key: &key,
                body,
                content_type: None,
                metadata: &[],
            },
        )
        .await
        .unwrap();
    }
}

fn tamper_reason(bytes: &[u8]) -> Vec<u8> {
    let mut env = Envelope::from_json(bytes).unwrap();
    let payload = String::from_utf8(env.payload_bytes().unwrap()).unwrap();
    let forged = payload.replace("after reading every result", "without reading the results");
    assert_ne!(payload, forged);
    env.payload = aws_smithy_types::base64::encode(forged.as_bytes());
    env.to_canonical_json()
}

#[tokio::test]
async fn a_signed_run_travels_between_desktops_and_tampering_is_refused() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    buckets::create_versioned_bucket(&admin, SIGNOFF)
        .await
        .unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let bob = h.create_user_with_mfa("bob").await.unwrap();
    let ctx_a = alice.settings();
    let ctx_b = bob.settings();

    // Two desktops, each with its own verified copy of the evidence and its own ledger.
    let (_home_a, a) = desktop(&h).await;
    let (_home_b, b) = desktop(&h).await;
    let ka = enrolled_key(&h, &a, &alice, "Alice Adams", PASS_A).await;
    let kb = enrolled_key(&h, &b, &bob, "Bob Brown", PASS_B).await;

    // Nothing to hand off before a signature.
    let early = a.signoff_publish(&ctx_a, &to("lims")).await.unwrap_err();
    assert_eq!(early.code, ErrorCode::Refused);
    assert!(early.message.contains("sign it first"), "{early}");

    // Alice dispositions both failures, reviews, and publishes.
    let view = a.show(RUN).unwrap();
    let failed: Vec<String> = view
        .run
        .cases_needing_disposition()
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(failed.len(), 2);
    let mut ds = countersign_service::SigningSession::new();
    for case in &failed {
        countersign_tests::harness::record_disposition(
            &a,
            &alice,
            &mut ds,
            PASS_A,
            &DispositionRequest {
                run: RUN.into(),
                case_id: case.clone(),
                kind: DispositionKind::Deviation,
                reference: "DEV-0042".into(),
                reason: "Investigated; impact assessed".into(),
            },
            &ka.key_id,
        )
        .await
        .unwrap();
    }
    let reviewed = sign(&h, &a, &alice, &ka, Meaning::Reviewed, PASS_A)
        .await
        .unwrap();
    let report = a.signoff_publish(&ctx_a, &to("lims")).await.unwrap();
    assert_eq!(report.record_sha256, reviewed.record_sha256);
    let written: Vec<&str> = report
        .objects
        .iter()
        .map(|o| o.uri.rsplit_once("/signoff/").unwrap().1)
        .collect();
    assert_eq!(
        written,
        vec![
            format!("keys/{}.json", ka.key_id).as_str(),
            "record.json",
            format!(
                "signatures/0001-{}.dsse.json",
                reviewed.envelope_sha256.to_hex()
            )
            .as_str(),
        ]
    );
    assert!(report
        .objects
        .iter()
        .all(|o| o.status.as_str() == "written"));
    // Publishing again writes nothing.
    let again = a.signoff_publish(&ctx_a, &to("lims")).await.unwrap();
    assert!(again
        .objects
        .iter()
        .all(|o| o.status.as_str() == "unchanged"));
    assert_eq!(events(&a, SIGNOFF_PUBLISHED).len(), 2);

    // Bob's desktop has no dispositions and does not know Alice's key until the fetch.
    assert!(b.signatures(RUN).unwrap().is_empty());
    let before = fetch(&ctx_b, &b, "lims").await;
    assert_eq!(before.rejected().count(), 0, "{:#?}", before.items);
    assert!(before.same_record, "{before:#?}");
    assert_eq!(before.published_record_sha256, Some(reviewed.record_sha256));
    assert_eq!(statuses(&before, "key"), vec!["accepted"]);
    assert_eq!(statuses(&before, "signature"), vec!["accepted"]);
    assert_eq!(statuses(&before, "record"), vec!["accepted"]);
    let key_item = before
        .items
        .iter()
        .find(|i| i.kind.as_str() == "key")
        .unwrap();
    assert!(
        key_item.detail.contains("known from hand-off") && key_item.detail.contains(&alice.arn),
        "{key_item:?}"
    );
    assert_eq!(events(&b, SIGNOFF_KEY_ACCEPTED).len(), 1);
    assert_eq!(events(&b, SIGNOFF_SIGNATURE_ACCEPTED).len(), 1);
    assert_eq!(events(&b, SIGNOFF_RECORD_ACCEPTED).len(), 1);
    let on_b = b.signatures(RUN).unwrap();
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].outcome.as_str(), "valid");
    assert_eq!(on_b[0].iam_arn.as_deref(), Some(alice.arn.as_str()));
    assert!(on_b[0]
        .key_known_from
        .as_deref()
        .unwrap()
        .ends_with(&format!("/signoff/keys/{}.json", ka.key_id)));
    // Alice's own desktop says her key was enrolled there.
    assert_eq!(a.signatures(RUN).unwrap()[0].key_known_from, None);
    // A taken-over key is not one of Bob's keys.
    assert_eq!(b.keys().unwrap().len(), 1);

    // Fetching again changes nothing.
    let repeat = fetch(&ctx_b, &b, "lims").await;
    assert_eq!(statuses(&repeat, "signature"), vec!["already_recorded"]);
    assert_eq!(statuses(&repeat, "key"), vec!["known"]);
    assert_eq!(events(&b, SIGNOFF_SIGNATURE_ACCEPTED).len(), 1);
    assert_eq!(b.signatures(RUN).unwrap().len(), 1);

    // Bob approves on his desktop: the dispositions came with the record, his statement
    // follows Alice's, and the hand-off makes Alice the reviewer he may not be.
    let approved = sign(&h, &b, &bob, &kb, Meaning::Approved, PASS_B)
        .await
        .unwrap();
    assert_eq!(approved.record_sha256, reviewed.record_sha256);
    let st = countersign_core::signature::statement::Statement::from_payload(
        &Envelope::from_json(approved.envelope.as_bytes())
            .unwrap()
            .payload_bytes()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st.predicate.follows, vec![reviewed.envelope_sha256]);
    let published_b = b.signoff_publish(&ctx_b, &to("lims")).await.unwrap();
    let status_of = |suffix: &str| {
        published_b
            .objects
            .iter()
            .find(|o| o.uri.ends_with(suffix))
            .unwrap()
            .status
            .as_str()
    };
    assert_eq!(status_of(&format!("keys/{}.json", ka.key_id)), "unchanged");
    assert_eq!(status_of("record.json"), "unchanged");
    assert_eq!(
        status_of(&format!(
            "0002-{}.dsse.json",
            approved.envelope_sha256.to_hex()
        )),
        "written"
    );

    // Alice takes the approval back: her own signature is already on file, Bob's verifies.
    let back = fetch(&ctx_a, &a, "lims").await;
    assert_eq!(back.rejected().count(), 0, "{:#?}", back.items);
    assert_eq!(
        statuses(&back, "signature"),
        vec!["already_recorded", "accepted"]
    );
    let on_a = a.signatures(RUN).unwrap();
    assert_eq!(on_a.len(), 2);
    assert!(
        on_a.iter().all(|s| s.outcome.as_str() == "valid"),
        "{on_a:#?}"
    );
    assert_eq!(on_a[1].meaning.as_str(), "Approved");

    // A third desktop receives tampered copies and refuses each with its reason.
    let (_home_c, c) = desktop(&h).await;
    let good = published(&admin, "lims").await;
    let sig_a = format!(
        "signatures/0001-{}.dsse.json",
        reviewed.envelope_sha256.to_hex()
    );

    // 1. A payload altered and re-named with its new digest: the signature no longer verifies.
    copy_with(&admin, &good, "t-payload", |rel, bytes| {
        if rel == sig_a {
            let forged = tamper_reason(bytes);
            (
                format!("signatures/0001-{}.dsse.json", Sha256::of(&forged).to_hex()),
                forged,
            )
        } else {
            (rel.to_owned(), bytes.to_vec())
        }
    })
    .await;
    let r = fetch(&AwsSettings::default(), &c, "t-payload").await;
    let first = r
        .items
        .iter()
        .find(|i| i.kind.as_str() == "signature")
        .unwrap();
    assert_eq!(first.status.as_str(), "rejected");
    assert_eq!(
        first.outcome.map(ItemOutcome::as_str),
        Some("bad_signature")
    );
    // Bob's approval follows the genuine review, which is not there.
    let second = r
        .items
        .iter()
        .filter(|i| i.kind.as_str() == "signature")
        .nth(1)
        .unwrap();
    assert_eq!(
        second.outcome.map(ItemOutcome::as_str),
        Some("out_of_order"),
        "{second:?}"
    );
    assert_eq!(statuses(&r, "record"), vec!["rejected"]);
    assert!(c.signatures(RUN).unwrap().is_empty());

    // 2. An envelope changed after publishing, under its old name.
    copy_with(&admin, &good, "t-bytes", |rel, bytes| {
        let body = if rel == sig_a {
            tamper_reason(bytes)
        } else {
            bytes.to_vec()
        };
        (rel.to_owned(), body)
    })
    .await;
    let r = fetch(&AwsSettings::default(), &c, "t-bytes").await;
    let first = r
        .items
        .iter()
        .find(|i| i.kind.as_str() == "signature")
        .unwrap();
    assert_eq!(
        first.outcome.map(ItemOutcome::as_str),
        Some("digest_mismatch")
    );
    assert!(
        first.detail.contains("altered after publishing"),
        "{first:?}"
    );

    // 3. A record whose file digest differs from the receiver's verified store.
    copy_with(&admin, &good, "t-record", |rel, bytes| {
        if rel == "record.json" {
            let mut rec: RunRecord = serde_json::from_slice(bytes).unwrap();
            rec.files[0].sha256 = Sha256::of(b"other bytes");
            (rel.to_owned(), canonical_json(&rec).unwrap())
        } else {
            (rel.to_owned(), bytes.to_vec())
        }
    })
    .await;
    let r = fetch(&AwsSettings::default(), &c, "t-record").await;
    assert_eq!(
        r.items.len(),
        1,
        "nothing else is looked at: {:#?}",
        r.items
    );
    assert_eq!(
        r.items[0].outcome.map(ItemOutcome::as_str),
        Some("record_mismatch")
    );
    assert!(
        r.items[0].detail.starts_with("record digest mismatch: ")
            && r.items[0].detail.contains("this desktop's verified store"),
        "{:?}",
        r.items[0]
    );

    // 4. Alice's key republished as Bob's identity: the signature does not match its signer.
    copy_with(&admin, &good, "t-key", |rel, bytes| {
        if rel == format!("keys/{}.json", ka.key_id) {
            let mut doc: countersign_core::handoff::SignoffKey =
                serde_json::from_slice(bytes).unwrap();
            doc.iam_arn = bob.arn.clone();
            doc.printed_name = "Bob Brown".into();
            (rel.to_owned(), canonical_json(&doc).unwrap())
        } else {
            (rel.to_owned(), bytes.to_vec())
        }
    })
    .await;
    let r = fetch(&AwsSettings::default(), &c, "t-key").await;
    let first = r
        .items
        .iter()
        .find(|i| i.kind.as_str() == "signature")
        .unwrap();
    assert_eq!(
        first.outcome.map(ItemOutcome::as_str),
        Some("signer_not_enrolled")
    );
    // Bob's desktop already knows Alice's key: the re-binding is refused as such.
    let r = fetch(&ctx_b, &b, "t-key").await;
    let key = r
        .items
        .iter()
        .find(|i| i.kind.as_str() == "key" && i.uri.contains(&ka.key_id))
        .unwrap();
    assert_eq!(
        key.outcome.map(ItemOutcome::as_str),
        Some("key_conflict"),
        "{key:?}"
    );
    assert!(key.detail.contains("never re-bound"), "{key:?}");

    // Nothing of the tampered copies reached desktop C; every refusal is in its ledger.
    assert!(c.signatures(RUN).unwrap().is_empty());
    assert!(events(&c, SIGNOFF_KEY_ACCEPTED).is_empty());
    let refusals = events(&c, SIGNOFF_REJECTED);
    assert!(refusals.len() >= 5, "{}", refusals.len());
    assert!(refusals.iter().all(|e| e.event.reason.is_some()));
    assert!(c.ledger_verify().unwrap().is_ok());
    let vb = b.ledger_verify().unwrap();
    assert!(vb.is_ok(), "{vb:?}");

    // A different record is never published over the one in the bucket.
    copy_with(&admin, &good, "t-conflict", |rel, bytes| {
        if rel == "record.json" {
            (rel.to_owned(), b"{}".to_vec())
        } else {
            (rel.to_owned(), bytes.to_vec())
        }
    })
    .await;
    let conflict = b
        .signoff_publish(&ctx_b, &to("t-conflict"))
        .await
        .unwrap_err();
    assert_eq!(conflict.code, ErrorCode::Refused);
    assert!(conflict.message.contains("never overwritten"), "{conflict}");

    // The final record goes to an Object Lock bucket with COMPLIANCE retention.
    let locked = "signoff-final";
    buckets::create_object_lock_bucket(&admin, locked, None)
        .await
        .unwrap();
    let final_report = b
        .signoff_publish(
            &ctx_b,
            &PublishRequest {
                run: RUN.into(),
                to: format!("s3://{locked}/final").parse().unwrap(),
                object_lock_days: Some(30),
            },
        )
        .await
        .unwrap();
    assert!(final_report.retain_until.is_some());
    for o in &final_report.objects {
        let key = o.uri.strip_prefix(&format!("s3://{locked}/")).unwrap();
        let (mode, until) = buckets::lock_of(&admin, locked, key).await.unwrap();
        assert_eq!(mode.as_deref(), Some("COMPLIANCE"), "{key}");
        assert!(until, "{key}");
    }
}
