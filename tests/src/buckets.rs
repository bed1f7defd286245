//! S3 bucket fixtures: plain, versioned, and Object Lock buckets.
//!
//! Versioning is set but never read back through the SDK: moto 5.2.x answers
//! GetBucketVersioning with a root element the SDK cannot parse (docs/emulator.md).

use aws_sdk_s3::types::{
    BucketVersioningStatus, DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, VersioningConfiguration,
};
use countersign_aws::AwsContext;

use crate::error::{HarnessError, Result};

fn failed(what: &str, bucket: &str, e: &dyn std::fmt::Display) -> HarnessError {
    HarnessError::new(format!("{what} s3://{bucket}: {e}"))
}

/// Creates an empty bucket.
pub async fn create_bucket(ctx: &AwsContext, bucket: &str) -> Result<()> {
    ctx.s3()
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| {
            failed(
                "create bucket",
                bucket,
                &aws_sdk_s3::error::DisplayErrorContext(&e),
            )
        })?;
    Ok(())
}

/// Creates a bucket with versioning enabled.
pub async fn create_versioned_bucket(ctx: &AwsContext, bucket: &str) -> Result<()> {
    create_bucket(ctx, bucket).await?;
    ctx.s3()
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            failed(
                "enable versioning on",
                bucket,
                &aws_sdk_s3::error::DisplayErrorContext(&e),
            )
        })?;
    Ok(())
}

/// Creates a bucket with Object Lock enabled (which implies versioning); with
/// `compliance_days`, also a default COMPLIANCE retention rule of that many days.
pub async fn create_object_lock_bucket(
    ctx: &AwsContext,
    bucket: &str,
    compliance_days: Option<i32>,
) -> Result<()> {
    let s3 = ctx.s3();
    s3.create_bucket()
        .bucket(bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .map_err(|e| {
            failed(
                "create Object Lock bucket",
                bucket,
                &aws_sdk_s3::error::DisplayErrorContext(&e),
            )
        })?;
    if let Some(days) = compliance_days {
        let rule = ObjectLockRule::builder()
            .default_retention(
                DefaultRetention::builder()
                    .mode(ObjectLockRetentionMode::Compliance)
                    .days(days)
                    .build(),
            )
            .build();
        s3.put_object_lock_configuration()
            .bucket(bucket)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(rule)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                failed(
                    "set default retention on",
                    bucket,
                    &aws_sdk_s3::error::DisplayErrorContext(&e),
                )
            })?;
    }
    Ok(())
}

/// The Object Lock mode of `key` in `bucket` and whether it has a retain-until date, as S3
/// reports them (HeadObject).
pub async fn lock_of(ctx: &AwsContext, bucket: &str, key: &str) -> Result<(Option<String>, bool)> {
    let head = ctx
        .s3()
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            failed(
                "read the Object Lock of",
                &format!("{bucket}/{key}"),
                &aws_sdk_s3::error::DisplayErrorContext(&e),
            )
        })?;
    Ok((
        head.object_lock_mode().map(|m| m.as_str().to_owned()),
        head.object_lock_retain_until_date().is_some(),
    ))
}
