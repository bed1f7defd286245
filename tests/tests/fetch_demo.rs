//! Fetch against the emulator seeded with the demo, through the real AWS SDK and the fault proxy:
//! every demo run with the right totals, incremental re-sync, rejection of corrupted objects,
//! resumption after dropped connections, unsafe keys kept out, and clear AWS errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use countersign_aws::s3::{self, Upload};
use countersign_core::model::{CaseStatus, Integrity, Totals};
use countersign_service::{CancelToken, ErrorCode, FetchReport, FetchRequest, Service};
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";
const PREFIX: &str = "gxp";

fn request() -> FetchRequest {
    fetch_request(BUCKET, PREFIX).unwrap()
}

async fn seeded() -> Harness {
    let h = Harness::start().await.unwrap();
    h.demo_seeded_under(BUCKET, PREFIX).await.unwrap();
    h
}

async fn fetch(service: &Service) -> FetchReport {
    service
        .fetch(&request(), &|_| {}, &CancelToken::new())
        .await
        .unwrap()
}

/// The runs `runs` marks as new since the last sync.
fn new_since_sync(service: &Service) -> Vec<String> {
    service
        .runs()
        .unwrap()
        .into_iter()
        .filter(|r| r.new_since_sync)
        .map(|r| r.id)
        .collect()
}

fn totals(tests: u64, passed: u64, failed: u64, errored: u64, skipped: u64) -> Totals {
    Totals {
        tests,
        passed,
        failed,
        errored,
        skipped,
    }
}

#[tokio::test]
async fn fetch_lists_every_demo_run_with_its_totals_and_a_second_fetch_downloads_nothing() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();

    let first = fetch(&service).await;
    assert!(
        first.failed.is_empty() && first.rejected.is_empty(),
        "{first:?}"
    );
    assert!(first.new > 100, "{first:?}");
    assert_eq!(first.unchanged, 0);
    // The only key outside the layout is the demo's CloudTrail public key.
    assert_eq!(first.skipped.len(), 1, "{:?}", first.skipped);

    let runs: BTreeMap<String, Totals> = service
        .runs()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.totals))
        .collect();
    let expected: BTreeMap<String, Totals> = [
        ("ELN/IQ/2026-11-02-iq-1", totals(18, 16, 0, 1, 1)),
        ("ELN/OQ/2026-11-03-oq-1", totals(10, 9, 0, 0, 1)),
        ("ELN/PQ/2026-11-04-pq-1", totals(8, 8, 0, 0, 0)),
        ("LIMS/IQ/2026-11-02-iq-1", totals(19, 18, 0, 0, 1)),
        ("LIMS/OQ/2026-11-03-oq-1", totals(18, 15, 1, 1, 1)),
        ("LIMS/PQ/2026-11-04-pq-1", totals(10, 8, 1, 0, 1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(runs, expected);
    // The first sync brought every run.
    assert_eq!(new_since_sync(&service).len(), 6);

    let gets_before = h.proxy.get_object_count("/");
    let second = fetch(&service).await;
    assert_eq!(second.new, 0, "{second:?}");
    assert_eq!(second.unchanged, first.new);
    assert_eq!(
        h.proxy.get_object_count("/"),
        gets_before,
        "the second fetch downloaded objects"
    );
    // A sync that brought nothing leaves nothing new.
    assert!(new_since_sync(&service).is_empty());

    // A sync that brings one file marks its run, and only it, as new.
    s3::put(
        &h.admin().await.unwrap(),
        BUCKET,
        Upload {
            key: &format!("{PREFIX}/ELN/PQ/2026-11-04-pq-1/logs/late.log"),
            body: b"a log uploaded after the first sync\n".to_vec(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(fetch(&service).await.new, 1);
    assert_eq!(new_since_sync(&service), ["ELN/PQ/2026-11-04-pq-1"]);
    let late = service.show("ELN/PQ/2026-11-04-pq-1").unwrap();
    assert!(late.summary.new_since_sync);
    // Each finished sync is in the audit trail, with what it did.
    let syncs = service
        .ledger_events(&countersign_ledger::EventFilter {
            action: Some(countersign_service::SYNC_COMPLETED.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(syncs.len(), 3);
    let last = syncs[2].event.after.as_deref().unwrap_or_default();
    assert!(
        last.contains("\"new\":1") && last.contains(&format!("s3://{BUCKET}/{PREFIX}")),
        "{last}"
    );

    // Every object and the fetches are in the audit trail, and the chain verifies.
    let report = service.ledger_verify().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert!(report.events >= first.new);
}

/// Every request of a fetch goes through one pool of kept-alive connections: against S3 each
/// new connection is a TLS handshake, so a connection per object would bound the sync.
#[tokio::test]
async fn a_fetch_reuses_its_connections_instead_of_opening_one_per_object() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let before = h.proxy.connections();
    let report = fetch(&service).await;
    let opened = h.proxy.connections() - before;
    assert!(report.new > 100, "{report:?}");
    // A few per parallel download (request().concurrency), plus STS and CloudFormation.
    assert!(
        opened <= 2 * request().concurrency as u64 + 4,
        "{opened} connections for {} objects",
        report.new
    );
}

/// Against a store whose listing has neither versions nor ETags, an unchanged object is
/// recognised by size and LastModified (as `aws s3 sync` does) instead of being downloaded
/// again, and the report says so; a changed object is fetched.
#[tokio::test]
async fn a_listing_without_etags_recognises_unchanged_objects_by_size_and_time() {
    let h = seeded().await;
    h.proxy.list_without_etags();
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let first = fetch(&service).await;
    assert!(first.new > 100 && first.failed.is_empty(), "{first:?}");
    assert_eq!(first.unchanged_by_size_and_time, 0);

    let gets_before = h.proxy.get_object_count("/");
    let second = fetch(&service).await;
    assert_eq!(second.new, 0, "{second:?}");
    assert_eq!(second.unchanged, first.new);
    assert_eq!(second.unchanged_by_size_and_time, first.new);
    assert_eq!(h.proxy.get_object_count("/"), gets_before);

    // A changed object (another size) is fetched again; the rest still cost nothing.
    let ctx = h.admin().await.unwrap();
    let key = format!("{PREFIX}/LIMS/OQ/2026-11-03-oq-1/logs/extra.log");
    for body in ["first version\n", "second, longer version\n"] {
        s3::put(
            &ctx,
            BUCKET,
            Upload {
                key: &key,
                body: body.as_bytes().to_vec(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let again = fetch(&service).await;
        assert_eq!(again.new, 1, "{again:?}");
    }
    assert!(service.ledger_verify().unwrap().is_ok());
}

#[tokio::test]
async fn show_puts_failures_first_with_requirement_ids_and_verified_evidence() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    fetch(&service).await;

    let view = service.show("LIMS/OQ/2026-11-03-oq-1").unwrap();
    let statuses: Vec<CaseStatus> = view.run.cases.iter().map(|c| c.status).collect();
    assert_eq!(
        &statuses[..3],
        &[CaseStatus::Failed, CaseStatus::Errored, CaseStatus::Skipped]
    );
    assert!(statuses[3..].iter().all(|s| *s == CaseStatus::Passed));
    assert_eq!(
        view.run.cases[0].requirements,
        vec!["URS-LIMS-020".to_owned()]
    );
    assert!(
        view.run
            .files
            .iter()
            .all(|f| f.integrity == Integrity::Verified),
        "{:?}",
        view.run.files
    );
    assert!(view.run.files.iter().all(|f| f
        .origin
        .uri
        .starts_with("s3://qualification-evidence/gxp/LIMS/OQ/")));
    assert!(view.run.files.iter().all(|f| f.origin.version_id.is_some()));
    assert!(view
        .run
        .traceability
        .uncovered
        .contains(&"URS-LIMS-044".to_owned()));

    // The same run by its unambiguous run id is refused when ambiguous (LIMS and ELN share ids).
    let err = service.show("2026-11-03-oq-1").unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.contains("ambiguous"), "{}", err.message);

    // JSON output has the same order.
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["run"]["cases"][0]["status"], "failed");
    assert_eq!(json["summary"]["id"], "LIMS/OQ/2026-11-03-oq-1");

    // Opening a file re-verifies it.
    let png = service
        .open_file(
            "LIMS/OQ/2026-11-03-oq-1",
            "evidence/screenshots/audit-trail-R-2026-118244.png",
        )
        .unwrap();
    assert_eq!(png.integrity, Integrity::Verified);
    assert_eq!(png.media_type, "image/png");
    assert!(png.base64.unwrap().starts_with("iVBORw0KGgo"));
}

#[tokio::test]
async fn a_corrupted_object_is_rejected_never_stored_and_a_clean_refetch_heals_the_run() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let victim = "LIMS/OQ/2026-11-03-oq-1/logs/cucumber-oq.log";
    h.proxy.corrupt(victim, 1);

    let report = fetch(&service).await;
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert!(report.rejected[0].uri.ends_with(victim));
    assert!(
        report.rejected[0].reason.contains("declared in run.json"),
        "{}",
        report.rejected[0].reason
    );

    let view = service.show("LIMS/OQ/2026-11-03-oq-1").unwrap();
    let file = view
        .run
        .files
        .iter()
        .find(|f| f.path == "logs/cucumber-oq.log")
        .unwrap();
    assert!(
        matches!(file.integrity, Integrity::Rejected { .. }),
        "{:?}",
        file.integrity
    );
    // Its declared digest was never admitted into the store.
    let declared = file.sha256.unwrap();
    assert!(!home
        .path()
        .join("store/objects/sha256")
        .join(&declared.to_hex()[..2])
        .join(declared.to_hex())
        .exists());

    // The fault is spent: the next fetch downloads the object again and it verifies.
    let again = fetch(&service).await;
    assert_eq!(again.new, 1, "{again:?}");
    assert!(again.rejected.is_empty());
    let view = service.show("LIMS/OQ/2026-11-03-oq-1").unwrap();
    let file = view
        .run
        .files
        .iter()
        .find(|f| f.path == "logs/cucumber-oq.log")
        .unwrap();
    assert_eq!(file.integrity, Integrity::Verified);
    assert!(service.ledger_verify().unwrap().is_ok());
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_a_persistent_one_resumes_on_the_next_fetch() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let flaky = "LIMS/PQ/2026-11-04-pq-1/";
    let dead = "ELN/IQ/2026-11-02-iq-1/run.json";
    h.proxy.drop_after(flaky, 10, 1); // once: the retry succeeds
    h.proxy.drop_after(dead, 10, 100); // every attempt of this fetch fails

    let first = fetch(&service).await;
    assert_eq!(first.failed.len(), 1, "{first:?}");
    assert!(first.failed[0].uri.ends_with(dead));
    assert!(
        first.failed[0].error.contains("gave up after 4 attempts"),
        "{}",
        first.failed[0].error
    );
    assert!(first.rejected.is_empty());

    h.proxy.clear_faults();
    let gets_before = h.proxy.get_object_count("/");
    let second = fetch(&service).await;
    assert!(second.failed.is_empty(), "{second:?}");
    assert_eq!(
        second.new, 1,
        "only the failed object is fetched again: {second:?}"
    );
    assert_eq!(h.proxy.get_object_count("/") - gets_before, 1);
    assert_eq!(service.runs().unwrap().len(), 6);
}

#[tokio::test]
async fn keys_that_could_escape_the_store_are_skipped_and_reported() {
    let h = seeded().await;
    let ctx = h.admin().await.unwrap();
    for key in [
        "gxp/LIMS/IQ/2026-11-02-iq-1/../../../../etc/passwd",
        "gxp/LIMS/IQ/2026-11-02-iq-1/evidence\\windows.log",
        "gxp/LIMS/IQ/2026-11-02-iq-1//double.log",
        "gxp/LIMS/XQ/2026-11-02-iq-1/not-a-phase.log",
    ] {
        s3::put(
            &ctx,
            BUCKET,
            Upload {
                key,
                body: b"x".to_vec(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service).await;
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.key.as_str()).collect();
    for needle in ["etc/passwd", "windows.log", "double.log", "not-a-phase.log"] {
        assert!(
            skipped.iter().any(|k| k.contains(needle)),
            "{needle} not skipped: {skipped:?}"
        );
    }
    assert!(report
        .skipped
        .iter()
        .any(|s| s.reason.contains("'..' segment")));
    // Nothing outside the home was written, and the run still loads.
    assert!(!home.path().join("etc").exists());
    let view = service.show("LIMS/IQ/2026-11-02-iq-1").unwrap();
    assert!(view.run.files.iter().all(|f| !f.path.contains("..")));
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_aws_error_naming_the_bucket() {
    let h = Harness::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let mut req = request();
    req.bucket = "no-such-qualification-bucket".parse().unwrap();
    let err = service
        .fetch(&req, &|_| {}, &CancelToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Aws);
    assert!(err.message.contains("no such bucket"), "{}", err.message);
    assert!(
        err.message.contains("no-such-qualification-bucket"),
        "{}",
        err.message
    );
    assert!(err.message.contains("what to do"), "{}", err.message);
}

#[tokio::test]
async fn a_byte_changed_in_the_store_is_reported_never_shown_and_review_works_offline() {
    let h = seeded().await;
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    fetch(&service).await;
    // From here on the network is gone: the emulator and the proxy stop.
    drop(h);

    let run = "LIMS/OQ/2026-11-03-oq-1";
    let path = "logs/cucumber-oq.log";
    let view = service.show(run).unwrap();
    let file = view.run.files.iter().find(|f| f.path == path).unwrap();
    assert_eq!(file.integrity, Integrity::Verified);
    let sha = file.sha256.unwrap().to_hex();
    let blob = home
        .path()
        .join("store/objects/sha256")
        .join(&sha[..2])
        .join(&sha);
    let mut perms = std::fs::metadata(&blob).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blob, perms).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&blob, &bytes).unwrap();

    let view = service.show(run).unwrap();
    let file = view.run.files.iter().find(|f| f.path == path).unwrap();
    assert!(
        matches!(file.integrity, Integrity::Changed { .. }),
        "{:?}",
        file.integrity
    );
    let opened = service.open_file(run, path).unwrap();
    assert!(matches!(opened.integrity, Integrity::Changed { .. }));
    assert!(
        opened.text.is_none() && opened.base64.is_none(),
        "changed bytes were shown"
    );
    // The rest of the run is still reviewable offline.
    assert_eq!(view.run.totals.failed, 1);
    assert!(view
        .run
        .files
        .iter()
        .filter(|f| f.path != path)
        .all(|f| f.integrity == Integrity::Verified));
}
