//! Tampering with the file is detected by `verify`, which names the first bad entry.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions: a failure is a test failure

mod common;

use common::*;
use countersign_ledger::{Actor, ChainFault, Checkpoint, Ledger, LedgerError};
use ed25519_dalek::SigningKey;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// A ledger with 2 + 10 events, closed.
fn ledger_with_notes() -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, path) = home();
    let mut l = open(&path);
    for n in 1..=10 {
        l.append(&note(n)).unwrap();
    }
    (d, path)
}

fn drop_triggers(c: &rusqlite::Connection) {
    c.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
        .unwrap();
}

#[test]
fn an_edited_entry_is_named() {
    let (_d, path) = ledger_with_notes();
    let c = raw(&path);
    drop_triggers(&c);
    c.execute(
        &format!(
            "UPDATE events SET after = 'value 999' WHERE seq = {}",
            BASE + 5
        ),
        [],
    )
    .unwrap();
    drop(c);
    let r = open(&path).verify().unwrap();
    let p = r.problem.unwrap();
    assert_eq!(p.seq, BASE + 5);
    assert!(matches!(p.fault, ChainFault::HashMismatch { .. }));
    assert!(
        p.to_string()
            .starts_with(&format!("ledger entry {}:", BASE + 5)),
        "{p}"
    );
    assert!(p.to_string().contains("altered"), "{p}");
    assert_eq!(r.head, None);
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let (_d, path) = ledger_with_notes();
    let l = open(&path);
    let mut e = l.events(&Default::default()).unwrap()[BASE as usize + 2]
        .event
        .clone();
    drop(l);
    e.after = Some("forged".into());
    let forged = e.hash().unwrap();
    let c = raw(&path);
    drop_triggers(&c);
    c.execute(
        &format!(
            "UPDATE events SET after = 'forged', hash = ?1 WHERE seq = {}",
            BASE + 3
        ),
        [forged.as_bytes().as_slice()],
    )
    .unwrap();
    drop(c);
    let p = open(&path).verify().unwrap().problem.unwrap();
    assert_eq!(p.seq, BASE + 4);
    assert!(matches!(p.fault, ChainFault::BrokenLink { .. }), "{p}");
}

#[test]
fn a_deleted_entry_is_named() {
    let (_d, path) = ledger_with_notes();
    let c = raw(&path);
    drop_triggers(&c);
    c.execute(&format!("DELETE FROM events WHERE seq = {}", BASE + 2), [])
        .unwrap();
    drop(c);
    let p = open(&path).verify().unwrap().problem.unwrap();
    assert_eq!(p.seq, BASE + 3);
    assert_eq!(
        p.fault,
        ChainFault::SequenceGap {
            expected: BASE + 2,
            found: BASE + 3
        }
    );
    assert!(p.to_string().contains("missing"), "{p}");
}

#[test]
fn swapped_entries_are_named() {
    let (_d, path) = ledger_with_notes();
    let c = raw(&path);
    drop_triggers(&c);
    // Swap the contents of two note entries, each keeping its sequence number.
    let (a, b) = (BASE + 3, BASE + 6);
    c.execute_batch(&format!(
        "UPDATE events SET seq = 1005 WHERE seq = {a};
         UPDATE events SET seq = {a} WHERE seq = {b};
         UPDATE events SET seq = {b} WHERE seq = 1005;"
    ))
    .unwrap();
    drop(c);
    let p = open(&path).verify().unwrap().problem.unwrap();
    assert_eq!(p.seq, BASE + 3);
    assert!(matches!(p.fault, ChainFault::HashMismatch { .. }), "{p}");
}

#[test]
fn a_truncated_tail_is_caught_by_a_checkpoint() {
    let (_d, path) = ledger_with_notes();
    let cp = open(&path).checkpoint(&key(), &alice()).unwrap();
    assert_eq!(cp.statement.seq, BASE + 10);
    assert!(cp.verify_signature());
    // Keep the checkpoint outside, as it would be in S3 Object Lock.
    let published = cp.to_json();
    let c = raw(&path);
    c.execute_batch(&format!(
        "DROP TRIGGER events_no_delete; DROP TRIGGER checkpoints_no_delete;
         DELETE FROM checkpoints; DELETE FROM events WHERE seq > {};",
        BASE + 7
    ))
    .unwrap();
    drop(c);
    let l = open(&path);
    // The remaining chain is internally consistent...
    assert!(l.verify().unwrap().is_ok());
    // ...but not against the published checkpoint.
    let outside = Checkpoint::from_json(&published, "s3://anchor/ledger/12.json").unwrap();
    let r = l.verify_against(&[outside]).unwrap();
    let p = r.problem.unwrap();
    assert_eq!(p.seq, BASE + 10);
    assert!(
        matches!(
            p.fault,
            ChainFault::CheckpointAhead {
                checkpoint_seq,
                ledger_head,
                ..
            } if checkpoint_seq == BASE + 10 && ledger_head == BASE + 7
        ),
        "{p}"
    );
    assert!(
        p.to_string()
            .contains("truncated or restored from an older copy"),
        "{p}"
    );
}

#[test]
fn a_rewritten_history_disagrees_with_a_checkpoint() {
    let (_d, path) = ledger_with_notes();
    let cp = open(&path).checkpoint(&key(), &alice()).unwrap();
    // Rebuild a different ledger of the same length, as a forger would.
    let (_d2, other) = home();
    let mut l = open(&other);
    for n in 1..=10 {
        l.append(&note(n + 100)).unwrap();
    }
    let p = l.verify_against(&[cp]).unwrap().problem.unwrap();
    assert_eq!(p.seq, BASE + 10);
    assert!(
        matches!(p.fault, ChainFault::CheckpointMismatch { .. }),
        "{p}"
    );
}

#[test]
fn a_forged_checkpoint_signature_is_reported() {
    let (_d, path) = ledger_with_notes();
    let l = open(&path);
    let mut cp = Checkpoint::sign(
        countersign_ledger::CheckpointStatement {
            seq: 3,
            head_hash: l.events(&Default::default()).unwrap()[2].hash,
            time_utc: "2026-03-01T10:00:00.000Z".into(),
        },
        &key(),
    )
    .unwrap();
    assert!(l.verify_against(std::slice::from_ref(&cp)).unwrap().is_ok());
    cp.statement.seq = 4;
    let p = l.verify_against(&[cp]).unwrap().problem.unwrap();
    assert!(
        matches!(p.fault, ChainFault::CheckpointSignatureInvalid { .. }),
        "{p}"
    );
}

#[test]
fn checkpoint_json_round_trips_and_bad_json_is_named() {
    let (_d, path) = ledger_with_notes();
    let mut l = open(&path);
    let cp = l.checkpoint(&key(), &Actor::system()).unwrap();
    assert_eq!(Checkpoint::from_json(&cp.to_json(), "x").unwrap(), cp);
    assert!(cp
        .to_json()
        .contains("\"countersign.ledger-checkpoint/v2\""));
    // A checkpoint published under the first tag reads as the same checkpoint, for ever.
    let v1 = cp.to_json().replace(
        "countersign.ledger-checkpoint/v2",
        "countersign-ledger-checkpoint/v1",
    );
    assert_eq!(Checkpoint::from_json(&v1, "x").unwrap(), cp);
    assert_eq!(l.checkpoints().unwrap(), vec![cp.clone()]);
    let ev = l.head().unwrap().unwrap().event;
    assert_eq!(
        (ev.action.as_str(), ev.seq),
        ("ledger.checkpoint", BASE + 11)
    );
    assert!(l.verify().unwrap().is_ok());
    let err = Checkpoint::from_json("{}", "s3://anchor/x.json").unwrap_err();
    assert!(
        err.to_string()
            .contains("s3://anchor/x.json: not a checkpoint"),
        "{err}"
    );
    let wrong = cp.to_json().replace("checkpoint/v2", "checkpoint/v9");
    assert!(Checkpoint::from_json(&wrong, "f")
        .unwrap_err()
        .to_string()
        .contains("format"));
}

#[test]
fn backup_while_open_then_restore_verifies_first() {
    let (d, path) = ledger_with_notes();
    let mut l = open(&path);
    let cp = l.checkpoint(&key(), &alice()).unwrap();
    let backup = d.path().join("backup.sqlite");
    l.backup_to(&backup).unwrap();
    assert!(matches!(
        l.backup_to(&backup),
        Err(LedgerError::Exists { .. })
    ));
    l.append(&note(50)).unwrap();

    let restored_path = d.path().join("restored.sqlite");
    let restored = Ledger::restore(
        &backup,
        &restored_path,
        std::slice::from_ref(&cp),
        clock(),
        &alice(),
    )
    .unwrap();
    let head = restored.head().unwrap().unwrap().event;
    assert_eq!(head.action, "ledger.restored");
    assert_eq!(head.seq, BASE + 12);
    assert!(restored.verify().unwrap().is_ok());
    drop(restored);

    // A tampered backup is not used, and nothing is left at the destination.
    let c = raw(&backup);
    drop_triggers(&c);
    c.execute(
        &format!("UPDATE events SET reason = 'x' WHERE seq = {}", BASE + 1),
        [],
    )
    .unwrap();
    drop(c);
    let dest = d.path().join("restored2.sqlite");
    let err = Ledger::restore(&backup, &dest, &[], clock(), &alice()).unwrap_err();
    assert!(
        matches!(&err, LedgerError::NotVerified { problem, .. } if problem.seq == BASE + 1),
        "{err}"
    );
    assert!(!dest.exists());

    // An older copy is refused when a newer checkpoint is known.
    let newer = l.checkpoint(&key(), &alice()).unwrap();
    let (_d3, old) = home();
    drop(open(&old));
    let err = Ledger::restore(
        &old,
        &d.path().join("r3.sqlite"),
        &[newer],
        clock(),
        &alice(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("truncated or restored from an older copy"),
        "{err}"
    );
}

fn record_problem(path: &std::path::Path) -> countersign_ledger::ChainProblem {
    let p = open(path).verify().unwrap().problem.unwrap();
    assert!(matches!(p.fault, ChainFault::RecordMismatch { .. }), "{p}");
    p
}

#[test]
fn record_rows_must_match_the_entries_that_recorded_them() {
    let (_d, path) = home();
    let mut l = open(&path);
    l.add_object(&object(1), &alice()).unwrap(); // entry 3
    l.add_object(&object(2), &alice()).unwrap(); // entry 4
    l.reject_object(
        &countersign_ledger::NewRejection {
            uri: "s3://b/bad.xml".into(),
            version_id: None,
            etag: None,
            reason: "digest differs".into(),
            expected_sha256: None,
            actual_sha256: None,
        },
        &alice(),
    )
    .unwrap(); // entry 5
    l.checkpoint(&key(), &alice()).unwrap(); // entry 6
    assert!(l.verify().unwrap().is_ok());
    drop(l);
    let backup = path.with_file_name("pristine.sqlite");
    std::fs::copy(&path, &backup).unwrap();
    let reset = || {
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-wal"));
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-shm"));
        std::fs::copy(&backup, &path).unwrap();
    };

    // An object's digest swapped in place.
    let c = raw(&path);
    c.execute_batch("DROP TRIGGER objects_no_update;").unwrap();
    c.execute(
        &format!(
            "UPDATE objects SET sha256 = ?1 WHERE event_seq = {}",
            BASE + 2
        ),
        [countersign_core::digest::Sha256::of(b"forged").to_hex()],
    )
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 2);
    assert!(
        p.to_string().contains("objects row 2 does not match it"),
        "{p}"
    );

    // An object row slipped in under an existing entry (inserts are not blocked by triggers).
    reset();
    let c = raw(&path);
    c.execute(
        "INSERT INTO objects (sha256, size, uri, fetched_at, source, event_seq) \
         SELECT sha256, size, 's3://b/planted.xml', fetched_at, source, event_seq FROM objects WHERE id = 1",
        [],
    )
    .unwrap();
    drop(c);
    assert_eq!(record_problem(&path).seq, BASE + 1);

    // An object row removed.
    reset();
    let c = raw(&path);
    c.execute_batch(&format!(
        "DROP TRIGGER objects_no_delete; DELETE FROM objects WHERE event_seq = {};",
        BASE + 1
    ))
    .unwrap();
    drop(c);
    let p = record_problem(&path);
    assert_eq!(p.seq, BASE + 1);
    assert!(p.to_string().contains("has no objects row"), "{p}");

    // A rejection's reason reworded.
    reset();
    let c = raw(&path);
    c.execute_batch("DROP TRIGGER rejections_no_update; UPDATE rejections SET reason = 'fine';")
        .unwrap();
    drop(c);
    assert_eq!(record_problem(&path).seq, BASE + 3);

    // A checkpoint row pointing at another head.
    reset();
    let c = raw(&path);
    c.execute_batch(&format!(
        "DROP TRIGGER checkpoints_no_update; UPDATE checkpoints SET seq = {};",
        BASE + 1
    ))
    .unwrap();
    drop(c);
    let p = open(&path).verify().unwrap().problem.unwrap();
    assert_eq!(p.seq, BASE + 1, "{p}");

    reset();
    assert!(open(&path).verify().unwrap().is_ok());
}

/// The columns that decide which run a file belongs to (`bucket`, `key`) are covered by the
/// chain: swapping two reports' keys, or editing a bucket, is caught by `verify`.
#[test]
fn an_objects_bucket_or_key_edited_is_caught() {
    let (_d, path) = home();
    let mut l = open(&path);
    let mut lims = object(1);
    lims.uri = "s3://qual-evidence/LIMS/OQ/run-1/junit.xml".into();
    lims.key = Some("LIMS/OQ/run-1/junit.xml".into());
    lims.run_key = Some("LIMS/OQ/run-1".into());
    let mut eln = object(2);
    eln.uri = "s3://qual-evidence/ELN/OQ/run-1/junit.xml".into();
    eln.key = Some("ELN/OQ/run-1/junit.xml".into());
    eln.run_key = Some("ELN/OQ/run-1".into());
    l.add_object(&lims, &alice()).unwrap(); // entry BASE + 1
    l.add_object(&eln, &alice()).unwrap(); // entry BASE + 2
                                           // An import written by a release before bucket and key were in the entry: its row is
                                           // checked against its URI alone.
    let old_after = serde_json::json!({
        "sha256": countersign_core::digest::Sha256::of(b"old").to_hex(),
        "size": 3, "version_id": null, "etag": null, "last_modified": null,
        "source": "import", "run_key": "LIMS/PQ/run-1",
    })
    .to_string();
    let uri = "file:///media/usb/evidence.zip/LIMS/PQ/run-1/junit.xml";
    let rec = l
        .append(
            &countersign_ledger::NewEvent::new(&alice(), "object.stored", "object", uri)
                .after(old_after),
        )
        .unwrap(); // entry BASE + 3
    drop(l);
    let c = raw(&path);
    c.execute(
        "INSERT INTO objects (sha256, size, uri, bucket, key, fetched_at, source, run_key, event_seq) \
         VALUES (?1, 3, ?2, NULL, 'LIMS/PQ/run-1/junit.xml', ?3, 'import', 'LIMS/PQ/run-1', ?4)",
        rusqlite::params![
            countersign_core::digest::Sha256::of(b"old").to_hex(),
            uri,
            rec.event.time_utc,
            rec.event.seq as i64
        ],
    )
    .unwrap();
    drop(c);
    assert!(open(&path).verify().unwrap().is_ok());
    let backup = path.with_file_name("pristine.sqlite");
    std::fs::copy(&path, &backup).unwrap();
    let tamper = |sql: &str| {
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-wal"));
        let _ = std::fs::remove_file(path.with_file_name("ledger.sqlite-shm"));
        std::fs::copy(&backup, &path).unwrap();
        let c = raw(&path);
        c.execute_batch("DROP TRIGGER objects_no_update;").unwrap();
        c.execute_batch(sql).unwrap();
        drop(c);
        record_problem(&path)
    };

    // The failing LIMS report moved into the ELN run and back.
    let (lims_seq, eln_seq, old_seq) = (BASE + 1, BASE + 2, BASE + 3);
    let p = tamper(&format!(
        "UPDATE objects SET key = 'swap' WHERE event_seq = {lims_seq};
         UPDATE objects SET key = 'LIMS/OQ/run-1/junit.xml' WHERE event_seq = {eln_seq};
         UPDATE objects SET key = 'ELN/OQ/run-1/junit.xml' WHERE event_seq = {lims_seq};",
    ));
    assert_eq!(p.seq, lims_seq, "{p}");
    assert!(
        p.to_string().contains("objects row 1 does not match it"),
        "{p}"
    );
    // The bucket edited.
    let p = tamper(&format!(
        "UPDATE objects SET bucket = 'other-bucket' WHERE event_seq = {eln_seq};"
    ));
    assert_eq!(p.seq, eln_seq, "{p}");
    // The key edited in a way that still ends the URI, so only the entry can tell.
    let p = tamper(&format!(
        "UPDATE objects SET key = 'OQ/run-1/junit.xml' WHERE event_seq = {eln_seq};"
    ));
    assert_eq!(p.seq, eln_seq, "{p}");
    // The older import's key pointed at another run.
    let p = tamper(&format!(
        "UPDATE objects SET key = 'ELN/PQ/run-1/junit.xml' WHERE event_seq = {old_seq};"
    ));
    assert_eq!(p.seq, old_seq, "{p}");
    assert!(p.to_string().contains("bucket or key"), "{p}");
    // A bucket given to an imported file.
    let p = tamper(&format!(
        "UPDATE objects SET bucket = 'b' WHERE event_seq = {old_seq};"
    ));
    assert_eq!(p.seq, old_seq, "{p}");
}
