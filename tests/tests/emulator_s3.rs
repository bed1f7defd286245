//! S3 through the AWS SDK against the local emulator, and the fault proxy's S3 faults as the SDK
//! sees them. Every test starts its own emulator, so state never leaks between tests.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ObjectLockMode};
use aws_smithy_types::retry::RetryConfig;
use countersign_aws::{AwsContext, AwsErrorKind};
use countersign_tests::buckets::{
    create_bucket, create_object_lock_bucket, create_versioned_bucket,
};
use countersign_tests::{Emulator, Harness};
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

type TestResult<T> = Result<T, Box<dyn std::error::Error>>;

async fn put(ctx: &AwsContext, bucket: &str, key: &str, body: &[u8]) -> TestResult<()> {
    ctx.s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await?;
    Ok(())
}

async fn get(ctx: &AwsContext, bucket: &str, key: &str) -> TestResult<Vec<u8>> {
    let out = ctx
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await?;
    Ok(out.body.collect().await?.into_bytes().to_vec())
}

/// A body big enough to span several reads, with every byte position distinct-ish.
fn evidence(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn s3_round_trip_with_checksums_and_pagination() {
    let emulator = Emulator::start().await.unwrap();
    let ctx = emulator.aws_context().await.unwrap();
    create_bucket(&ctx, "qualification").await.unwrap();

    let keys: Vec<String> = (1..=5)
        .map(|i| format!("runs/lims/iq/run-{i}/junit.xml"))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        put(
            &ctx,
            "qualification",
            key,
            format!("<testsuite n='{i}'/>").as_bytes(),
        )
        .await
        .unwrap();
    }

    let mut pages = ctx
        .s3()
        .list_objects_v2()
        .bucket("qualification")
        .prefix("runs/")
        .max_keys(2)
        .into_paginator()
        .send();
    let mut page_sizes = Vec::new();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        page_sizes.push(page.contents().len());
        listed.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    assert_eq!(page_sizes, vec![2, 2, 1]);
    assert_eq!(listed, keys);

    let out = ctx
        .s3()
        .get_object()
        .bucket("qualification")
        .key(&keys[2])
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert!(
        out.checksum_sha256().is_some(),
        "the SHA-256 checksum is stored and returned"
    );
    let body = out.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"<testsuite n='2'/>");
}

#[tokio::test]
async fn object_lock_bucket_keeps_locked_versions() {
    let emulator = Emulator::start().await.unwrap();
    let ctx = emulator.aws_context().await.unwrap();
    create_object_lock_bucket(&ctx, "signed-packages", Some(1))
        .await
        .unwrap();

    let put = ctx
        .s3()
        .put_object()
        .bucket("signed-packages")
        .key("packages/lims-oq.pdf")
        .body(ByteStream::from_static(b"%PDF-1.7 package"))
        .send()
        .await
        .unwrap();
    let version = put
        .version_id()
        .expect("an Object Lock bucket is versioned")
        .to_owned();

    // HeadObject, not GetObjectRetention (not implemented by the emulator).
    let head = ctx
        .s3()
        .head_object()
        .bucket("signed-packages")
        .key("packages/lims-oq.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    assert!(head.object_lock_retain_until_date().is_some());

    let err = ctx
        .s3()
        .delete_object()
        .bucket("signed-packages")
        .key("packages/lims-oq.pdf")
        .version_id(&version)
        .send()
        .await
        .unwrap_err();
    let err = countersign_aws::AwsError::from_sdk(&err, "delete a locked version");
    assert_eq!(err.kind, AwsErrorKind::AccessDenied, "{err}");
}

#[tokio::test]
async fn versioned_bucket_keeps_every_version() {
    let emulator = Emulator::start().await.unwrap();
    let ctx = emulator.aws_context().await.unwrap();
    create_versioned_bucket(&ctx, "signoff").await.unwrap();
    put(&ctx, "signoff", "signoff/run-1/envelope.json", b"{\"v\":1}")
        .await
        .unwrap();
    put(&ctx, "signoff", "signoff/run-1/envelope.json", b"{\"v\":2}")
        .await
        .unwrap();

    let versions = ctx
        .s3()
        .list_object_versions()
        .bucket("signoff")
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 2);
    assert_eq!(
        get(&ctx, "signoff", "signoff/run-1/envelope.json")
            .await
            .unwrap(),
        b"{\"v\":2}"
    );
}

#[tokio::test]
async fn corrupted_body_passes_the_sdk_and_fails_the_sha256_check() {
    let harness = Harness::start().await.unwrap();
    let ctx = harness.admin().await.unwrap();
    create_bucket(&ctx, "qualification").await.unwrap();
    let original = evidence(4096);
    put(
        &ctx,
        "qualification",
        "runs/eln/pq/run-7/evidence/log.txt",
        &original,
    )
    .await
    .unwrap();

    harness.proxy.corrupt("evidence/log.txt", 1);
    let first = get(&ctx, "qualification", "runs/eln/pq/run-7/evidence/log.txt")
        .await
        .unwrap();
    assert_eq!(first.len(), original.len());
    assert_ne!(
        sha256_hex(&first),
        sha256_hex(&original),
        "one byte was flipped"
    );
    assert_eq!(
        first.iter().zip(&original).filter(|(a, b)| a != b).count(),
        1
    );

    // The rule was for one GET only: the next one is intact.
    let second = get(&ctx, "qualification", "runs/eln/pq/run-7/evidence/log.txt")
        .await
        .unwrap();
    assert_eq!(sha256_hex(&second), sha256_hex(&original));
    assert_eq!(harness.proxy.get_object_count("evidence/log.txt"), 2);
    assert!(harness.proxy.active_faults().is_empty());
}

#[tokio::test]
async fn dropped_connection_fails_the_download_then_it_resumes() {
    let harness = Harness::start().await.unwrap();
    let ctx = harness.admin().await.unwrap();
    create_bucket(&ctx, "qualification").await.unwrap();
    let original = evidence(64 * 1024);
    put(
        &ctx,
        "qualification",
        "runs/lims/oq/run-2/cucumber.json",
        &original,
    )
    .await
    .unwrap();

    harness.proxy.drop_after("cucumber.json", 1000, 1);
    let attempt = ctx
        .s3()
        .get_object()
        .bucket("qualification")
        .key("runs/lims/oq/run-2/cucumber.json")
        .send()
        .await;
    let failed = match attempt {
        Err(_) => true,
        Ok(out) => out.body.collect().await.is_err(),
    };
    assert!(
        failed,
        "a body cut after 1000 of 65536 bytes must not read as complete"
    );

    let again = get(&ctx, "qualification", "runs/lims/oq/run-2/cucumber.json")
        .await
        .unwrap();
    assert_eq!(again, original);
    assert_eq!(harness.proxy.get_object_count("cucumber.json"), 2);
}

#[tokio::test]
async fn slow_down_is_retried_by_the_sdk_and_classified_when_it_persists() {
    let harness = Harness::start().await.unwrap();
    let ctx = harness.admin().await.unwrap();
    create_bucket(&ctx, "qualification").await.unwrap();
    put(
        &ctx,
        "qualification",
        "runs/lims/iq/run-1/junit.xml",
        b"<testsuite/>",
    )
    .await
    .unwrap();

    // Once: the SDK's standard retry absorbs it.
    harness
        .proxy
        .fail_status("iq/run-1/junit.xml", 503, "SlowDown", 1);
    assert_eq!(
        get(&ctx, "qualification", "runs/lims/iq/run-1/junit.xml")
            .await
            .unwrap(),
        b"<testsuite/>"
    );
    assert_eq!(harness.proxy.get_object_count("iq/run-1/junit.xml"), 2);

    // Persistently, without retries: the error says "throttled" and names the code.
    let no_retry_sdk = ctx
        .sdk_config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let no_retry = AwsContext::from_sdk_config(no_retry_sdk, ctx.settings().clone()).unwrap();
    harness
        .proxy
        .fail_status("iq/run-1/junit.xml", 503, "SlowDown", 1);
    let err = no_retry
        .s3()
        .get_object()
        .bucket("qualification")
        .key("runs/lims/iq/run-1/junit.xml")
        .send()
        .await
        .unwrap_err();
    let err = countersign_aws::AwsError::from_sdk(&err, "download runs/lims/iq/run-1/junit.xml");
    assert_eq!(err.kind, AwsErrorKind::Throttled, "{err}");
    assert_eq!(err.code.as_deref(), Some("SlowDown"));
    assert_eq!(harness.proxy.get_object_count("iq/run-1/junit.xml"), 3);
}

#[tokio::test]
async fn reset_forgets_everything() {
    let emulator = Emulator::start().await.unwrap();
    let ctx = emulator.aws_context().await.unwrap();
    create_bucket(&ctx, "qualification").await.unwrap();
    let before = ctx.s3().list_buckets().send().await.unwrap();
    assert_eq!(before.buckets().len(), 1);

    emulator.reset().await.unwrap();
    let after = ctx.s3().list_buckets().send().await.unwrap();
    assert!(after.buckets().is_empty());
}
