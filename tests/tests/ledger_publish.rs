//! The audit trail published to S3 for organisation-wide queries, end to end against the
//! emulator through the real SDK: objects written once under COMPLIANCE retention (read back
//! with HeadObject), a publication that resumes from the bucket's listing and writes
//! nothing when nothing is new, a new object per UTC date, refusals (no Object Lock, a chain
//! that does not verify, a ledger behind what it published), and the published objects read
//! by DuckDB with the columns of the Athena table equal to `ledger export`'s entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::clock::{Clock, ManualClock};
use countersign_core::formats::PUBLISHED_ENTRY_V1;
use countersign_service::{
    ErrorCode, EventFilter, ExportFormat, Service, TrailPublication, TrailPublishRequest,
    TRAIL_PUBLISHED,
};
use countersign_tests::emulator::project_root;
use countersign_tests::{buckets, Harness};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const LOCKED: &str = "org-audit-trail";
const PLAIN: &str = "no-lock-trail";

fn req(uri: &str, days: Option<u32>) -> TrailPublishRequest {
    TrailPublishRequest {
        to: uri.parse().unwrap(),
        retention_days: days,
        state: false,
        trail_public_key: None,
    }
}

async fn publish(service: &Service) -> TrailPublication {
    service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{LOCKED}/site-1"), Some(3)),
        )
        .await
        .unwrap()
}

fn total(service: &Service) -> u64 {
    service.ledger_events(&EventFilter::all()).unwrap().len() as u64
}

/// Adds entries the way a person does: an export (recorded as `ledger.exported`).
fn add_entries(service: &Service, dir: &Path, n: usize) {
    static EXPORTS: AtomicUsize = AtomicUsize::new(0);
    for _ in 0..n {
        let name = format!("export-{}.csv", EXPORTS.fetch_add(1, Ordering::Relaxed));
        service
            .ledger_export(ExportFormat::Csv, &dir.join(name))
            .unwrap();
    }
}

async fn keys_under(admin: &AwsContext, prefix: &str) -> Vec<String> {
    let out = admin
        .s3()
        .list_objects_v2()
        .bucket(LOCKED)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

fn key_of(uri: &str) -> &str {
    uri.strip_prefix(&format!("s3://{LOCKED}/")).unwrap()
}

/// The published rows as DuckDB reads a downloaded copy of the trail (tests/interop).
fn duckdb_rows(root: &Path) -> Vec<Value> {
    let python = project_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let out = Command::new(python)
        .arg(project_root().join("tests/interop/query_trail.py"))
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "DuckDB query failed (run scripts/setup.sh if duckdb is missing): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_trail_is_published_once_locked_resumed_and_queryable() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    buckets::create_bucket(&admin, PLAIN).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    add_entries(&service, work.path(), 3);

    // Refused before anything is written or recorded: no Object Lock, no retention.
    let before = total(&service);
    let e = service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{PLAIN}/site-1"), Some(3)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput, "{e}");
    assert!(e.message.contains("Object Lock is not enabled"), "{e}");
    assert!(e.message.contains(PLAIN), "{e}");
    assert!(e.message.contains("object-lock-enabled"), "{e}");
    let e = service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{LOCKED}/site-1"), None),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput, "{e}");
    assert!(e.message.contains("--retention-days"), "{e}");
    assert_eq!(total(&service), before);
    assert!(keys_under(&admin, "").await.is_empty());

    // The first publication: every entry, one object for the day, locked.
    let head = total(&service);
    let first = publish(&service).await;
    assert_eq!(first.previously_published, 0);
    assert_eq!(first.entries, head);
    assert_eq!(first.range, Some((1, head)));
    assert_eq!(first.objects.len(), 1);
    let genesis = service.ledger_events(&EventFilter::all()).unwrap()[0]
        .hash
        .to_hex();
    assert_eq!(first.ledger_id, genesis);
    let folder = format!("site-1/audit-trail/ledger={genesis}/");
    assert_eq!(first.location, format!("s3://{LOCKED}/{folder}"));
    let today = clock.now_utc_date();
    assert_eq!(
        key_of(&first.objects[0].uri),
        format!("{folder}date={today}/{:020}-{:020}.jsonl", 1, head)
    );
    for o in &first.objects {
        // HeadObject, not GetObjectRetention: the emulator answers `GET ?retention` with the
        // object body (docs/emulator.md); real S3 reports the same retention both ways.
        let head = admin
            .s3()
            .head_object()
            .bucket(LOCKED)
            .key(key_of(&o.uri))
            .send()
            .await
            .unwrap();
        assert_eq!(head.object_lock_mode().unwrap().as_str(), "COMPLIANCE");
        let until = head.object_lock_retain_until_date().unwrap().secs();
        assert!(until >= (clock.now() + Duration::days(3)).unix_timestamp() - 1);
        assert_eq!(o.mode, "COMPLIANCE");
    }
    // Recorded, with the caller as actor.
    let recorded = service
        .ledger_events(&EventFilter {
            action: Some(TRAIL_PUBLISHED.into()),
            ..EventFilter::default()
        })
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].event.actor.arn.is_some(), "{recorded:?}");
    assert_eq!(recorded[0].event.object_id, first.location);

    // Nothing new but the record of that publication: nothing written.
    let again = publish(&service).await;
    assert_eq!(again.entries, 0);
    assert!(again.objects.is_empty());
    assert_eq!(again.previously_published, head);
    assert_eq!(again.held_back, 1);
    assert_eq!(keys_under(&admin, &folder).await.len(), 1);
    assert_eq!(
        total(&service),
        head + 1,
        "a publication of nothing is not recorded"
    );

    // New entries, the next day: only they are written, in new objects, one per date.
    clock.advance(Duration::days(1));
    add_entries(&service, work.path(), 2);
    let head2 = total(&service);
    let second = publish(&service).await;
    assert_eq!(second.previously_published, head);
    assert_eq!(second.range, Some((head + 1, head2)));
    assert_eq!(second.entries, head2 - head);
    let tomorrow = clock.now_utc_date();
    assert_eq!(
        second
            .objects
            .iter()
            .map(|o| key_of(&o.uri).to_owned())
            .collect::<Vec<_>>(),
        [
            // The record of the first publication, held back until now, is of the first day.
            format!(
                "{folder}date={today}/{:020}-{:020}.jsonl",
                head + 1,
                head + 1
            ),
            format!(
                "{folder}date={tomorrow}/{:020}-{:020}.jsonl",
                head + 2,
                head2
            )
        ]
    );
    let keys = keys_under(&admin, &folder).await;
    assert_eq!(keys.len(), 3, "{keys:?}");

    // DuckDB over a downloaded copy: the rows are `ledger export`'s entries, field for field.
    let copy = work.path().join("copy");
    for key in &keys {
        let body = admin
            .s3()
            .get_object()
            .bucket(LOCKED)
            .key(key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let path = copy.join(key.strip_prefix("site-1/audit-trail/").unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    let rows = duckdb_rows(&copy);
    let export = work.path().join("export.json");
    service.ledger_export(ExportFormat::Json, &export).unwrap();
    let exported: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let events: Vec<Value> = exported["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() <= head2)
        .cloned()
        .collect();
    assert_eq!(rows.len() as u64, head2);
    assert_eq!(rows.len(), events.len());
    for (row, event) in rows.iter().zip(&events) {
        let mut row = row.as_object().unwrap().clone();
        assert_eq!(row.remove("format").unwrap(), PUBLISHED_ENTRY_V1);
        assert_eq!(row.remove("ledger").unwrap(), genesis.as_str());
        let date = row.remove("date").unwrap();
        assert_eq!(
            date.as_str().unwrap(),
            &event["time_utc"].as_str().unwrap()[..10]
        );
        assert_eq!(&Value::Object(row), event);
    }

    // A ledger put back to a copy older than what it published is refused.
    let old = work.path().join("old.sqlite");
    let mid = work.path().join("mid.sqlite");
    drop(service);
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    service.ledger_backup(&mid).unwrap();
    drop(service);
    std::fs::copy(&mid, &old).unwrap();
    truncate_copy(&old, head);
    put_back(home.path(), &old);
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    let e = service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{LOCKED}/site-1"), Some(3)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    assert!(e.message.contains("older copy"), "{e}");
    // And once it has gone on past what was published, with other entries: still refused.
    add_entries(
        &service,
        work.path(),
        (head2 - total(&service) + 1) as usize,
    );
    assert!(total(&service) > head2);
    let e = service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{LOCKED}/site-1"), Some(3)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    assert!(
        e.message
            .contains(&format!("does not end with this ledger's entry {head2}")),
        "{e}"
    );
    assert_eq!(keys_under(&admin, &folder).await.len(), 3);
    drop(service);

    // A chain that does not verify is never published.
    put_back(home.path(), &mid);
    tamper(&home.path().join("ledger.sqlite"), 2);
    let service = Service::open(home.path(), h.env_at(clock.clone())).unwrap();
    let e = service
        .ledger_publish(
            &AwsSettings::default(),
            &req(&format!("s3://{LOCKED}/site-1"), Some(3)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Integrity, "{e}");
    assert!(e.message.contains("does not verify"), "{e}");
    assert!(e.message.contains("ledger entry 2"), "{e}");
    assert_eq!(keys_under(&admin, &folder).await.len(), 3);
}

trait UtcDate {
    fn now_utc_date(&self) -> String;
}

impl UtcDate for ManualClock {
    fn now_utc_date(&self) -> String {
        let d = self.now().to_offset(time::UtcOffset::UTC).date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }
}

/// Runs SQL on a ledger file as someone with write access to the disk could (Python's sqlite3,
/// from the test venv), past the append-only triggers.
fn sql(db: &Path, statements: &str) {
    let python = project_root().join(".venv/bin/python");
    let out = Command::new(python)
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()")
        .arg(db)
        .arg(statements)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keeps the first `n` entries of a ledger copy: an older copy of the same ledger.
fn truncate_copy(db: &Path, n: u64) {
    sql(
        db,
        &format!("DROP TRIGGER IF EXISTS events_no_delete; DELETE FROM events WHERE seq > {n};"),
    );
}

/// Edits the reason of entry `seq` in place.
fn tamper(db: &Path, seq: u64) {
    sql(
        db,
        &format!(
            "DROP TRIGGER IF EXISTS events_no_update; UPDATE events SET reason = 'edited' WHERE seq = {seq};"
        ),
    );
}

fn put_back(home: &Path, copy: &Path) {
    for side in ["ledger.sqlite-wal", "ledger.sqlite-shm"] {
        let _ = std::fs::remove_file(home.join(side));
    }
    std::fs::copy(copy, home.join("ledger.sqlite")).unwrap();
}

#[tokio::test]
async fn the_command_line_publishes_and_says_what_it_wrote() {
    let h = Harness::start().await.unwrap();
    let admin = h.admin().await.unwrap();
    buckets::create_object_lock_bucket(&admin, LOCKED, None)
        .await
        .unwrap();
    buckets::create_bucket(&admin, PLAIN).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    add_entries(&service, work.path(), 2);
    let head = total(&service);
    drop(service);

    let run = |args: &[&str]| h.cli(home.path()).unwrap().args(args).output().unwrap();
    let to = format!("s3://{LOCKED}/site-2");
    let out = run(&["--json", "ledger", "publish", &to, "--retention-days", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["entries"], head);
    assert_eq!(doc["range"], serde_json::json!([1, head]));
    assert_eq!(doc["objects"].as_array().unwrap().len(), 1);
    assert_eq!(doc["objects"][0]["mode"], "COMPLIANCE");
    assert_eq!(doc["previously_published"], 0);

    // Again: nothing new, said in words.
    let out = run(&["ledger", "publish", &to, "--retention-days", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Nothing new to publish"), "{text}");
    assert!(text.contains(&format!("up to {head}")), "{text}");

    // New entries, in words: the range and each object with its retention.
    let service = h.service(home.path()).unwrap();
    add_entries(&service, work.path(), 1);
    drop(service);
    let out = run(&["ledger", "publish", &to, "--retention-days", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Published entries {} to", head + 1)),
        "{text}"
    );
    assert!(text.contains("COMPLIANCE until"), "{text}");
    assert!(
        text.contains(&format!("s3://{LOCKED}/site-2/audit-trail/ledger=")),
        "{text}"
    );

    // A bucket without Object Lock: exit 2, saying what to do.
    let out = run(&[
        "ledger",
        "publish",
        &format!("s3://{PLAIN}/x"),
        "--retention-days",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Object Lock is not enabled"), "{err}");
}
