//! The ledger anchored outside the machine, end to end against the emulator: checkpoints
//! signed with an enrolled key and published to S3 under Object Lock (COMPLIANCE, read back
//! with HeadObject), a ledger rolled back to an older copy caught against them, untrusted
//! checkpoints reported, the audit-trail review signed like any signature, and backups and
//! restores that verify first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use countersign_aws::object_lock::put_compliance_locked;
use countersign_aws::AwsSettings;
use countersign_core::clock::ManualClock;
use countersign_core::layout::S3Location;
use countersign_core::ledger_event::CheckpointStatement;
use countersign_core::signature::verify::{verify_envelope, RecordRef};
use countersign_ledger::{Checkpoint, EventFilter};
use countersign_service::{
    CheckpointRequest, CheckpointSource, ErrorCode, KeyInfo, MfaCode, Passphrase, ReviewRequest,
    Service, SignSecrets, SigningSession, AUDIT_TRAIL_SUBJECT, CHECKPOINT_PUBLISHED,
};
use countersign_tests::harness::{offline_env, offline_service};
use countersign_tests::{buckets, Harness, TestUser};
use time::OffsetDateTime;

const LOCKED: &str = "ledger-anchors";
const PLAIN: &str = "no-object-lock";
const PASS: &str = "alice passphrase 1";

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_owned())
}

async fn enrolled(h: &Harness, service: &Service, user: &TestUser) -> KeyInfo {
    h.enrolled_key(service, user, "Alice Adams", PASS)
        .await
        .unwrap()
        .0
}

fn count(service: &Service, action: &str) -> usize {
    service
        .ledger_events(&EventFilter {
            action: Some(action.into()),
            ..EventFilter::default()
        })
        .unwrap()
        .len()
}

fn total(service: &Service) -> usize {
    service.ledger_events(&EventFilter::all()).unwrap().len()
}

fn publish(uri: &str, days: Option<u32>) -> CheckpointRequest {
    CheckpointRequest {
        key_id: None,
        publish: Some(uri.parse().unwrap()),
        retention_days: days,
    }
}

/// Puts the ledger file of `home` back to the bytes of `copy`, as someone with write access
/// to the disk could.
fn roll_back(home: &Path, copy: &Path) {
    let ledger = home.join("ledger.sqlite");
    for side in ["ledger.sqlite-wal", "ledger.sqlite-shm"] {
        let _ = std::fs::remove_file(home.join(side));
    }
    std::fs::copy(copy, ledger).unwrap();
}

#[tokio::test]
async fn published_checkpoints_are_locked_and_catch_a_rolled_back_ledger() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    buckets::create_bucket(&admin, PLAIN).await.unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let key = enrolled(&h, &service, &alice).await;

    // An older copy of the ledger, taken before the checkpoint.
    let old = out.path().join("old.sqlite");
    service.ledger_backup(&old).unwrap();

    // Bad input is refused before anything is signed or recorded.
    let now = OffsetDateTime::now_utc();
    let before = total(&service);
    // A location that is not one never reaches the service (every face parses it first).
    for (uri, says) in [
        ("s3:/ledger-anchors/x", "s3://BUCKET/PREFIX"),
        ("s3://Ledger_Anchors/x", "bucket name"),
        ("s3://ledger-anchors/../x", "prefix"),
    ] {
        let e = uri.parse::<S3Location>().unwrap_err();
        assert!(e.to_string().contains(says), "{uri}: {e}");
    }
    let cases: [(&str, Option<u32>, ErrorCode, &str); 2] = [
        (
            "s3://ledger-anchors/site-1",
            None,
            ErrorCode::BadInput,
            "--retention-days",
        ),
        (
            "s3://no-such-anchors/site-1",
            Some(1),
            ErrorCode::BadInput,
            "no-such-anchors",
        ),
    ];
    for (uri, days, code, says) in cases {
        let e = service
            .ledger_checkpoint(&AwsSettings::default(), &publish(uri, days), &pass(PASS))
            .await
            .unwrap_err();
        assert_eq!(e.code, code, "{uri}: {e}");
        assert!(e.message.contains(says), "{uri}: {e}");
    }
    let e = service
        .ledger_checkpoint(
            &AwsSettings::default(),
            &publish(&format!("s3://{PLAIN}/site-1"), Some(1)),
            &pass(PASS),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert!(e.message.contains("Object Lock is not enabled"), "{e}");
    assert!(e.message.contains(PLAIN), "{e}");
    assert_eq!(total(&service), before, "nothing recorded for bad input");

    // A wrong passphrase is refused and counted as a failed signing attempt.
    let e = service
        .ledger_checkpoint(
            &AwsSettings::default(),
            &publish(&format!("s3://{LOCKED}/site-1"), Some(1)),
            &pass("not the passphrase"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Refused);
    assert!(e.message.contains("wrong passphrase"), "{e}");
    assert_eq!(count(&service, "ledger.checkpoint"), 0);
    assert_eq!(count(&service, "signature.failed"), 1);

    // Published: COMPLIANCE until now + 1 day, read back with HeadObject.
    let info = service
        .ledger_checkpoint(
            &AwsSettings::default(),
            &publish(&format!("s3://{LOCKED}/site-1/"), Some(1)),
            &pass(PASS),
        )
        .await
        .unwrap();
    assert_eq!(info.key_id.to_hex(), key.key_id);
    let published = info.published.clone().unwrap();
    let object_key = format!(
        "site-1/checkpoints/{:020}-{}.json",
        info.seq, info.head_hash
    );
    assert_eq!(published.uri, format!("s3://{LOCKED}/{object_key}"));
    assert_eq!(published.mode, "COMPLIANCE");
    let head = admin
        .s3()
        .head_object()
        .bucket(LOCKED)
        .key(&object_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let until = head.object_lock_retain_until_date().unwrap().secs();
    assert!(until >= (now + time::Duration::days(1)).unix_timestamp());
    assert_eq!(count(&service, CHECKPOINT_PUBLISHED), 1);
    assert!(service.ledger_verify().unwrap().is_ok());

    // The key is never written twice.
    let again = put_compliance_locked(
        &admin,
        LOCKED,
        &object_key,
        b"{}".to_vec(),
        "application/json",
        now + time::Duration::days(1),
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // The live ledger agrees with what was published.
    let s3_source = CheckpointSource::S3(format!("s3://{LOCKED}/site-1").parse().unwrap());
    let v = service
        .ledger_verify_published(&AwsSettings::default(), &s3_source)
        .await
        .unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.external.len(), 1);
    assert!(v.external[0].trusted);
    assert_eq!(v.report.checkpoints_checked, 2);

    // A location without checkpoints is named, not passed silently.
    let e = service
        .ledger_verify_published(
            &AwsSettings::default(),
            &CheckpointSource::S3(format!("s3://{LOCKED}/typo").parse().unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert!(e.message.contains("no published checkpoints"), "{e}");

    // Restoring the older copy over this ledger is refused: it predates its checkpoint.
    drop(service);
    let e = Service::ledger_restore(home.path(), &h.env(), &old, true).unwrap_err();
    assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    assert!(e.message.contains("older copy"), "{e}");

    // Someone puts the older copy in place by hand: its chain is intact, so only the
    // published checkpoint can tell.
    roll_back(home.path(), &old);
    let service = h.service(home.path()).unwrap();
    assert!(service.ledger_verify().unwrap().is_ok());
    let v = service
        .ledger_verify_published(&AwsSettings::default(), &s3_source)
        .await
        .unwrap();
    assert!(!v.is_ok());
    let problem = v.report.problem.clone().unwrap().to_string();
    assert!(
        problem.contains("truncated or restored from an older copy"),
        "{problem}"
    );

    // The same from a folder of checkpoints, where an unenrolled key's checkpoint and an
    // altered one are reported and not trusted.
    let dir = out.path().join("checkpoints");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("good.json"), &info.json).unwrap();
    let stranger = ed25519_dalek_key();
    let forged = Checkpoint::sign(
        CheckpointStatement {
            seq: 1,
            head_hash: countersign_core::digest::Sha256::of(b"x"),
            time_utc: "2026-03-01T10:00:00.000Z".into(),
        },
        &stranger,
    )
    .unwrap();
    std::fs::write(dir.join("stranger.json"), forged.to_json()).unwrap();
    let altered = info.json.replace(
        &format!("\"seq\": {}", info.seq),
        &format!("\"seq\": {}", info.seq + 1),
    );
    assert_ne!(altered, info.json);
    std::fs::write(dir.join("altered.json"), altered).unwrap();
    std::fs::write(dir.join("junk.json"), "not json").unwrap();
    let v = service
        .ledger_verify_published(&AwsSettings::default(), &CheckpointSource::Dir(dir.clone()))
        .await
        .unwrap();
    assert!(!v.is_ok());
    let by_name = |n: &str| {
        v.external
            .iter()
            .find(|e| e.source.ends_with(n))
            .unwrap()
            .clone()
    };
    assert!(by_name("good.json").trusted);
    assert!(by_name("stranger.json")
        .problem
        .unwrap()
        .contains("not an enrolled signer key"));
    assert!(by_name("altered.json")
        .problem
        .unwrap()
        .contains("signature does not verify"));
    assert!(!by_name("junk.json").trusted);
    assert!(v.report.problem.unwrap().to_string().contains("older copy"));
}

fn ed25519_dalek_key() -> countersign_core::signature::SigningKey {
    countersign_core::signature::SigningKey::from_bytes(&[5; 32])
}

#[tokio::test]
async fn an_audit_trail_review_is_signed_recorded_and_verified_like_any_signature() {
    let h = Harness::start().await.unwrap();
    let alice = h.create_user_with_mfa("alice").await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    enrolled(&h, &service, &alice).await;
    let ctx = alice.settings();
    let _clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let mut session = SigningSession::new();
    let head = service.ledger_verify().unwrap().head.unwrap();
    let req = ReviewRequest {
        up_to: head.0,
        reason: "Reviewed every entry since enrollment; nothing unexplained.".into(),
        key_id: None,
        mfa_serial: None,
    };

    // Bad requests are refused before any secret is asked for.
    for (up_to, reason, code) in [
        (0, "r", ErrorCode::BadInput),
        (head.0 + 100, "r", ErrorCode::BadInput),
        (head.0, "  ", ErrorCode::BadInput),
    ] {
        let bad = ReviewRequest {
            up_to,
            reason: reason.into(),
            ..req.clone()
        };
        assert_eq!(service.review_check(&session, &bad).unwrap_err().code, code);
    }
    let plan = service.review_check(&session, &req).unwrap();
    assert!(plan.needs_mfa);
    assert_eq!(plan.head_hash, head.1);

    // A wrong passphrase: refused, recorded, nothing signed.
    let e = service
        .ledger_review(
            &ctx,
            &mut session,
            &req,
            SignSecrets {
                passphrase: pass("wrong passphrase!"),
                mfa_code: Some(MfaCode::new(alice.current_code())),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Refused, "{e}");
    assert_eq!(count(&service, "signature.failed"), 1);
    assert_eq!(count(&service, "signature.applied"), 0);

    let info = service
        .ledger_review(
            &ctx,
            &mut session,
            &req,
            SignSecrets {
                passphrase: pass(PASS),
                mfa_code: Some(MfaCode::new(alice.current_code())),
            },
        )
        .await
        .unwrap();
    assert_eq!(info.up_to, head.0);
    assert_eq!(info.head_hash, head.1);
    let rows = service
        .ledger_events(&EventFilter {
            action: Some("signature.applied".into()),
            object_kind: Some(AUDIT_TRAIL_SUBJECT.into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].event.object_id, head.0.to_string());
    // The signature verifies against the entry's hash, and the ledger (record rows checked
    // against their entries) still verifies.
    let registry = service.key_registry().unwrap();
    let sigs = service.ledger_signatures(AUDIT_TRAIL_SUBJECT, &head.0.to_string());
    let env = sigs.unwrap().remove(0).envelope;
    let name = format!("audit-trail:{}", head.0);
    let ok = verify_envelope(
        &env,
        &RecordRef {
            name: &name,
            sha256: head.1,
        },
        &registry,
    );
    assert!(ok.is_valid(), "{ok:?}");
    let moved = verify_envelope(
        &env,
        &RecordRef {
            name: "audit-trail:1",
            sha256: head.1,
        },
        &registry,
    );
    assert_eq!(moved.code(), "signature_moved");
    assert!(service.ledger_verify().unwrap().is_ok());
    // The reviews as the app lists them: one, valid, with the reviewer's reason.
    let reviews = service.audit_reviews().unwrap();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0].up_to, head.0);
    assert_eq!(
        reviews[0].signature.outcome.as_str(),
        "valid",
        "{reviews:?}"
    );
    assert_eq!(reviews[0].signature.meaning.as_str(), "Reviewed");
    assert_eq!(
        reviews[0].signature.reason.as_deref(),
        Some(req.reason.as_str())
    );
}

#[tokio::test]
async fn a_tampered_backup_is_never_restored() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let copy = out.path().join("copy.sqlite");
    {
        let service = offline_service(home.path()).unwrap();
        service.keys_init("Alice Adams", &pass(PASS)).unwrap();
        service.ledger_backup(&copy).unwrap();
    }
    // One letter of the printed name in the copy's key.created entry, changed on disk.
    let mut bytes = std::fs::read(&copy).unwrap();
    let at = bytes.windows(11).position(|w| w == b"Alice Adams").unwrap();
    bytes[at + 10] = b'z';
    let tampered = out.path().join("tampered.sqlite");
    std::fs::write(&tampered, bytes).unwrap();
    let e = Service::ledger_restore(home.path(), &offline_env(), &tampered, true).unwrap_err();
    assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    assert!(e.message.contains("does not verify"), "{e}");
    // The ledger in place was not touched.
    let service = offline_service(home.path()).unwrap();
    assert!(service.ledger_verify().unwrap().is_ok());
    assert_eq!(count(&service, "ledger.backed_up"), 1);
}
