//! Network faults between fetch and S3, through the fault proxy: a slow body and server errors
//! are retried and never is a wrong byte stored. (Drops mid-object and corrupted bodies:
//! tests/tests/fetch_demo.rs and emulator_s3.rs; throttling and access denied: fetch_faults.rs.
//! A listing cut short and a key with control characters: docs/robustness.md.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_aws::s3::{self, Upload};
use countersign_service::{CancelToken, FetchReport, Service, ServiceError};
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";

/// The bucket's objects: key and bytes.
fn objects() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![(
        "q/LIMS/IQ/r1/report.xml".to_owned(),
        br#"<testsuite name="pytest" tests="1"><testcase classname="t" name="ok"/></testsuite>"#
            .to_vec(),
    )];
    let log: Vec<u8> = (0..20_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    v.push(("q/LIMS/IQ/r1/logs/run.log".to_owned(), log));
    v
}

async fn harness() -> Harness {
    let h = Harness::start().await.unwrap();
    let ctx = h.admin().await.unwrap();
    s3::ensure_bucket(&ctx, BUCKET, true, false).await.unwrap();
    for (key, body) in objects() {
        put(&ctx, &key, body).await;
    }
    h
}

async fn put(ctx: &countersign_aws::AwsContext, key: &str, body: Vec<u8>) {
    s3::put(
        ctx,
        BUCKET,
        Upload {
            key,
            body,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

async fn fetch(service: &Service) -> Result<FetchReport, ServiceError> {
    service
        .fetch(
            &fetch_request(BUCKET, "q").unwrap(),
            &|_| {},
            &CancelToken::new(),
        )
        .await
}

/// Every stored file of the run holds exactly the bytes uploaded.
fn assert_exact(service: &Service) {
    for (key, body) in objects() {
        let path = key.strip_prefix("q/LIMS/IQ/r1/").unwrap();
        let file = service.open_file("LIMS/IQ/r1", path).unwrap();
        assert_eq!(
            file.text.as_deref().map(str::as_bytes),
            Some(body.as_slice()),
            "{key}"
        );
    }
}

#[tokio::test]
async fn a_slow_body_is_stored_intact() {
    let h = harness().await;
    h.proxy.slow("logs/run.log", 4096, 20, 1);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(
        h.proxy.active_faults().is_empty(),
        "the slow rule was not exercised"
    );
    assert_exact(&service);
}

#[tokio::test]
async fn server_errors_are_retried_and_the_object_stored() {
    let h = harness().await;
    h.proxy.fail_status("report.xml", 500, "InternalError", 2);
    h.proxy
        .fail_status("logs/run.log", 503, "ServiceUnavailable", 1);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.new, 2);
    assert!(h.proxy.active_faults().is_empty());
    assert_exact(&service);
}
