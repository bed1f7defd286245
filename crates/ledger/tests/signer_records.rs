//! Signer keys and signatures are cross-checked against the entries that recorded them, and a
//! restore never silently replaces a ledger in use.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions: a failure is a test failure

mod common;

use common::*;
use countersign_core::digest::Sha256;
use countersign_core::signature::dsse::sign_statement;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{audit_trail_subject_name, Statement, Subject};
use countersign_ledger::{
    ChainFault, Ledger, LedgerError, NewEnrollment, NewSignature, LEDGER_BACKED_UP, LEDGER_RESTORED,
};
use ed25519_dalek::SigningKey;
use time::macros::datetime;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn key_id() -> KeyId {
    KeyId::of(&key().verifying_key())
}

fn enroll(l: &mut Ledger) {
    l.enroll_signer_key(
        &NewEnrollment {
            key_id: key_id(),
            public_key: key().verifying_key().to_bytes(),
            iam_arn: alice().arn.unwrap(),
            account: "123456789012".into(),
            printed_name: "Alice Martin".into(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/alice".into(),
        },
        &alice(),
    )
    .unwrap();
}

/// The envelope of a genuine review signature over entry `seq` with hash `head`.
fn review_envelope(seq: u64, head: Sha256) -> Vec<u8> {
    let at = datetime!(2026-03-01 10:00:00.250 +01:00);
    let statement = Statement::new(
        Subject::new(audit_trail_subject_name(seq), head),
        Predicate {
            meaning: Meaning::Reviewed,
            reason: "trail reviewed".into(),
            printed_name: "Alice Martin".into(),
            iam_arn: alice().arn.unwrap(),
            key_id: KeyId::of(&key().verifying_key()),
            signed_at: UtcTimestamp::new(at),
            utc_offset: Offset::new(at.offset()),
            sts: StsEvidence {
                mfa_serial: "arn:aws:iam::123456789012:mfa/alice".into(),
                session_expires_at: UtcTimestamp::new(datetime!(2026-03-01 21:00:00 UTC)),
                server_time: None,
            },
            policy: PolicyRef {
                version: 1,
                sha256: Sha256::of(b"policy"),
            },
            follows: vec![],
        },
    );
    sign_statement(&statement, &key())
        .unwrap()
        .to_canonical_json()
}

/// A genuine review signature over entry `seq` with hash `head`.
fn review(seq: u64, head: Sha256) -> NewSignature {
    NewSignature::from_envelope("audit-trail", seq.to_string(), review_envelope(seq, head)).unwrap()
}

fn record_problem(path: &std::path::Path) -> countersign_ledger::ChainProblem {
    let p = open(path).verify().unwrap().problem.unwrap();
    assert!(matches!(p.fault, ChainFault::RecordMismatch { .. }), "{p}");
    p
}

#[test]
fn signer_key_and_signature_rows_must_match_their_entries() {
    let (_d, path) = home();
    let mut l = open(&path);
    enroll(&mut l); // entry 3
    let head = l.head().unwrap().unwrap();
    l.record_signature(&review(head.event.seq, head.hash))
        .unwrap(); // entry 4
    assert!(l.verify().unwrap().is_ok(), "{:?}", l.verify().unwrap());
    drop(l);
    let pristine = path.with_file_name("pristine.sqlite");
    std::fs::copy(&path, &pristine).unwrap();
    let reset = || {
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-wal"));
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-shm"));
        std::fs::copy(&pristine, &path).unwrap();
    };

    // An enrolled identity rewritten in place.
    let c = raw(&path);
    c.execute_batch(
        "DROP TRIGGER signer_keys_no_update; \
         UPDATE signer_keys SET iam_arn = 'arn:aws:iam::123456789012:user/mallory';",
    )
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 1);
    assert!(p.to_string().contains("signer_keys row 1"), "{p}");

    // The printed name of a key changed.
    reset();
    let c = raw(&path);
    c.execute_batch(
        "DROP TRIGGER signer_keys_no_update; UPDATE signer_keys SET printed_name = 'Mallory';",
    )
    .unwrap();
    drop(c);
    assert_eq!(record_problem(&path).seq, BASE + 1);

    // A signature's meaning changed, and its envelope swapped for another.
    reset();
    let c = raw(&path);
    c.execute_batch(
        "DROP TRIGGER signatures_no_update; UPDATE signatures SET meaning = 'Approved';",
    )
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 2);
    assert!(p.to_string().contains("signatures row 1"), "{p}");

    reset();
    let other = review_envelope(1, Sha256::of(b"another head"));
    let c = raw(&path);
    c.execute_batch("DROP TRIGGER signatures_no_update;")
        .unwrap();
    c.execute("UPDATE signatures SET envelope = ?1", [&other])
        .unwrap();
    drop(c);
    assert_eq!(record_problem(&path).seq, BASE + 2);

    // The row's signing time no longer matches its envelope.
    reset();
    let c = raw(&path);
    c.execute_batch(
        "DROP TRIGGER signatures_no_update; \
         UPDATE signatures SET signed_at = '2026-03-01T08:00:00.000Z';",
    )
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert!(p.to_string().contains("signing time"), "{p}");

    // A signature row removed, and a key row removed (its signature then names no key).
    reset();
    let c = raw(&path);
    c.execute_batch("DROP TRIGGER signatures_no_delete; DELETE FROM signatures;")
        .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 2);
    assert!(p.to_string().contains("has no signatures row"), "{p}");

    reset();
    let c = raw(&path);
    c.execute_batch(
        "PRAGMA foreign_keys = OFF; DROP TRIGGER signer_keys_no_delete; DELETE FROM signer_keys;",
    )
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 1);
    assert!(p.to_string().contains("has no signer_keys row"), "{p}");
}

#[test]
fn a_backup_is_recorded_and_a_restore_sets_a_ledger_in_use_aside_only_when_told() {
    let (d, path) = home();
    let mut l = open(&path);
    l.append(&note(1)).unwrap();
    let backup = d.path().join("copy.sqlite");
    let info = l.backup(&backup, &alice()).unwrap();
    assert_eq!(info.events, BASE + 1);
    assert_eq!(info.head_seq, BASE + 1);
    let last = l.head().unwrap().unwrap().event;
    assert_eq!(last.action, LEDGER_BACKED_UP);
    assert_eq!(last.object_id, backup.display().to_string());
    assert!(matches!(
        l.backup(&backup, &alice()),
        Err(LedgerError::Exists { .. })
    ));
    l.append(&note(2)).unwrap();
    drop(l);

    // The ledger in place is in use: refused without `replace`, nothing moved.
    let err = Ledger::restore_over(&backup, &path, &[], clock(), &alice(), false).unwrap_err();
    assert!(matches!(err, LedgerError::InUse { .. }), "{err}");
    assert!(err.to_string().contains("replace"), "{err}");
    assert_eq!(open(&path).event_count().unwrap(), BASE + 3);

    // With `replace`, it is set aside (kept whole) and the copy restored and recorded.
    let r = Ledger::restore_over(&backup, &path, &[], clock(), &alice(), true).unwrap();
    let aside = r.set_aside.clone().unwrap();
    let head = r.ledger.head().unwrap().unwrap().event;
    assert_eq!(head.action, LEDGER_RESTORED);
    assert_eq!(head.seq, BASE + 2);
    assert!(head.before.unwrap().contains("before-restore"));
    assert!(r.ledger.verify().unwrap().is_ok());
    drop(r);
    assert_eq!(open(&aside).event_count().unwrap(), BASE + 3);
}

#[test]
fn a_restore_refuses_a_copy_older_than_the_checkpoints_of_the_ledger_it_replaces() {
    let (d, path) = home();
    let mut l = open(&path);
    let backup = d.path().join("old.sqlite");
    l.backup(&backup, &alice()).unwrap();
    l.append(&note(1)).unwrap();
    l.checkpoint(&key(), &alice()).unwrap();
    drop(l);
    let err = Ledger::restore_over(&backup, &path, &[], clock(), &alice(), true).unwrap_err();
    assert!(
        err.to_string()
            .contains("truncated or restored from an older copy"),
        "{err}"
    );
    // Nothing was moved.
    assert_eq!(open(&path).checkpoints().unwrap().len(), 1);

    // An empty ledger in place (only its creation) is replaced without asking.
    let (_d2, fresh) = home();
    drop(open(&fresh));
    let r = Ledger::restore_over(&backup, &fresh, &[], clock(), &alice(), false).unwrap();
    assert!(r.set_aside.is_some());

    // A file that is not a ledger is refused as a backup.
    let junk = d.path().join("junk.sqlite");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let (_d3, dest) = home();
    let err = Ledger::restore_over(&junk, &dest, &[], clock(), &alice(), false).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
    assert!(!dest.exists());
}

#[test]
fn an_open_ledger_is_restored_in_place_and_a_bad_backup_leaves_it_as_it_was() {
    let (d, path) = home();
    let mut l = open(&path);
    l.append(&note(1)).unwrap();
    let backup = d.path().join("copy.sqlite");
    l.backup(&backup, &alice()).unwrap();
    l.append(&note(2)).unwrap();
    let before = l.event_count().unwrap();

    // A backup that does not verify is refused; the open ledger is untouched and usable.
    let bad = d.path().join("bad.sqlite");
    std::fs::copy(&backup, &bad).unwrap();
    let c = raw(&bad);
    c.execute_batch(
        "DROP TRIGGER events_no_update; UPDATE events SET after = 'forged' WHERE action = 'test.note';",
    )
    .unwrap();
    drop(c);
    assert!(matches!(
        l.restore_here(&bad, &alice()),
        Err(LedgerError::NotVerified { .. })
    ));
    assert_eq!(l.event_count().unwrap(), before);
    l.append(&note(3)).unwrap();

    // A good backup replaces it in place, under the lock it already holds.
    let aside = l.restore_here(&backup, &alice()).unwrap();
    let head = l.head().unwrap().unwrap().event;
    assert_eq!(head.action, LEDGER_RESTORED);
    assert!(head.before.unwrap().contains("before-restore"));
    assert!(l.verify().unwrap().is_ok());
    // The copy's entries (made before its own backup entry) and the restore.
    assert_eq!(l.event_count().unwrap(), BASE + 2);
    drop(l);
    assert_eq!(open(&aside).event_count().unwrap(), before + 1);
}
