//! Fetch under AWS trouble: throttling retried, access denied reported per object with what to
//! do, missing credentials refused up front, and zero-byte and large objects stored intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use countersign_aws::s3::{self, Upload};
use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::digest::Sha256;
use countersign_core::model::Integrity;
use countersign_service::{CancelToken, ErrorCode, FetchReport, FetchRequest, Service};
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

const BUCKET: &str = "qualification-evidence";

fn request(prefix: &str) -> FetchRequest {
    fetch_request(BUCKET, prefix).unwrap()
}

async fn fetch(service: &Service, prefix: &str) -> FetchReport {
    service
        .fetch(&request(prefix), &|_| {}, &CancelToken::new())
        .await
        .unwrap()
}

async fn put(h: &Harness, key: &str, body: Vec<u8>) {
    let ctx = h.admin().await.unwrap();
    s3::put(
        &ctx,
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

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )))
    }
}

async fn bucket_with_a_run() -> Harness {
    let h = Harness::start().await.unwrap();
    let ctx = h.admin().await.unwrap();
    s3::ensure_bucket(&ctx, BUCKET, true, false).await.unwrap();
    put(
        &h,
        "q/LIMS/IQ/r1/report.xml",
        br#"<testsuite name="pytest" tests="1"><testcase classname="t" name="ok"/></testsuite>"#
            .to_vec(),
    )
    .await;
    put(
        &h,
        "q/LIMS/IQ/r1/logs/run.log",
        b"started\nfinished\n".to_vec(),
    )
    .await;
    h
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_and_the_object_is_stored() {
    let h = bucket_with_a_run().await;
    h.proxy.fail_status("logs/run.log", 503, "SlowDown", 2);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service, "q").await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.new, 2);
    assert!(
        h.proxy.active_faults().is_empty(),
        "the throttling rule was not exercised"
    );
}

#[tokio::test]
async fn access_denied_on_one_object_is_reported_with_the_key_and_what_to_do() {
    let h = bucket_with_a_run().await;
    h.proxy
        .fail_status("logs/run.log", 403, "AccessDenied", 100);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service, "q").await;
    assert_eq!(report.new, 1, "{report:?}");
    assert_eq!(report.failed.len(), 1);
    let f = &report.failed[0];
    assert_eq!(
        f.uri,
        "s3://qualification-evidence/q/LIMS/IQ/r1/logs/run.log"
    );
    assert!(f.error.contains("access denied"), "{}", f.error);
    assert!(
        f.error.contains("key q/LIMS/IQ/r1/logs/run.log"),
        "{}",
        f.error
    );
    assert!(
        f.error.contains("bucket qualification-evidence"),
        "{}",
        f.error
    );
    assert!(f.error.contains("s3:GetObject"), "{}", f.error);
    // A permanent refusal is not retried.
    assert_eq!(h.proxy.get_object_count("logs/run.log"), 1);
}

#[tokio::test]
async fn missing_credentials_are_refused_with_a_hint() {
    let h = bucket_with_a_run().await;
    // What the default chain yields when no profile, environment or SSO credentials exist.
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(h.proxy.endpoint())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(NoCredentials))
        .build();
    let ctx = AwsContext::from_sdk_config(sdk, Default::default()).unwrap();
    h.connector().add_context("no-credentials", ctx);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let req = FetchRequest {
        aws: AwsSettings {
            profile: Some("no-credentials".into()),
            ..AwsSettings::default()
        },
        ..request("q")
    };
    let err = service
        .fetch(&req, &|_| {}, &CancelToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Aws);
    assert!(
        err.message.contains("no usable AWS credentials"),
        "{}",
        err.message
    );
    assert!(err.message.contains("what to do"), "{}", err.message);
}

#[tokio::test]
async fn zero_byte_and_large_objects_are_stored_intact() {
    let h = bucket_with_a_run().await;
    put(&h, "q/LIMS/IQ/r1/evidence/empty.log", Vec::new()).await;
    // 24 MiB of non-repeating bytes, streamed to the store in chunks.
    let mut big = Vec::with_capacity(24 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while big.len() < 24 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let big_digest = Sha256::of(&big);
    put(&h, "q/LIMS/IQ/r1/evidence/capture.bin", big).await;

    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service, "q").await;
    assert!(
        report.failed.is_empty() && report.rejected.is_empty(),
        "{report:?}"
    );
    let view = service.show("LIMS/IQ/r1").unwrap();
    let empty = view
        .run
        .files
        .iter()
        .find(|f| f.path == "evidence/empty.log")
        .unwrap();
    assert_eq!(
        (empty.size, empty.integrity.clone()),
        (0, Integrity::Verified)
    );
    assert_eq!(empty.sha256, Some(Sha256::of(b"")));
    let big = view
        .run
        .files
        .iter()
        .find(|f| f.path == "evidence/capture.bin")
        .unwrap();
    assert_eq!(big.sha256, Some(big_digest));
    assert_eq!(big.size, 24 << 20);
    assert_eq!(big.integrity, Integrity::Verified);
}

#[tokio::test]
async fn expired_credentials_and_a_wrong_region_say_what_to_do() {
    let h = bucket_with_a_run().await;
    h.proxy
        .fail_status("logs/run.log", 400, "ExpiredToken", 100);
    h.proxy
        .fail_status("report.xml", 301, "PermanentRedirect", 100);
    let home = tempfile::tempdir().unwrap();
    let service = h.service(home.path()).unwrap();
    let report = fetch(&service, "q").await;
    assert_eq!(report.failed.len(), 2, "{report:?}");
    let error_of = |needle: &str| {
        report
            .failed
            .iter()
            .find(|f| f.uri.contains(needle))
            .map(|f| f.error.clone())
            .unwrap()
    };
    let expired = error_of("run.log");
    assert!(expired.contains("AWS credentials expired"), "{expired}");
    assert!(expired.contains("log in again"), "{expired}");
    let region = error_of("report.xml");
    assert!(region.contains("wrong region for the bucket"), "{region}");
    assert!(region.contains("--region"), "{region}");
    assert!(region.contains("region us-east-1"), "{region}");
}
