//! S3 Object Lock: writing an object once under COMPLIANCE retention, and reading its retention
//! back. Retention is read with HeadObject (`object_lock_mode`, `object_lock_retain_until_date`),
//! which real S3 and the local emulator both answer; GetObjectRetention is not needed.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};
use time::OffsetDateTime;

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// An object written under Object Lock, as S3 reports it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedObject {
    /// The object's version id.
    pub version_id: Option<String>,
    /// The retention mode read back (`COMPLIANCE`).
    pub mode: String,
    /// The retain-until date read back, RFC 3339.
    pub retain_until: String,
}

fn ctx_err(e: AwsError, ctx: &AwsContext, bucket: &str) -> AwsError {
    e.with_bucket(bucket)
        .with_profile(Some(ctx.profile_name()))
        .with_region(ctx.region_name())
}

/// Checks that `bucket` has Object Lock enabled; a bucket without it cannot hold a record
/// nobody can delete, so nothing is written to it.
pub async fn require_object_lock(ctx: &AwsContext, bucket: &str) -> Result<(), AwsError> {
    let action = format!("read the Object Lock configuration of s3://{bucket}");
    let not_enabled = || {
        ctx_err(AwsError::new(AwsErrorKind::InvalidInput, &action), ctx, bucket)
            .with_detail("Object Lock is not enabled on this bucket")
            .with_hint(
                "publish to a bucket created with Object Lock enabled (aws s3api create-bucket \
                 --object-lock-enabled-for-bucket); a bucket cannot hold an undeletable record without it",
            )
    };
    match ctx
        .s3()
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let enabled = out
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                == Some(&ObjectLockEnabled::Enabled);
            if enabled {
                Ok(())
            } else {
                Err(not_enabled())
            }
        }
        Err(e) => {
            let err = AwsError::from_sdk(&e, &action);
            if err.code.as_deref() == Some("ObjectLockConfigurationNotFoundError") {
                Err(not_enabled())
            } else {
                Err(ctx_err(err, ctx, bucket))
            }
        }
    }
}

/// Whether `key` exists in `bucket` (HeadObject).
pub async fn exists(ctx: &AwsContext, bucket: &str, key: &str) -> Result<bool, AwsError> {
    let action = format!("check s3://{bucket}/{key}");
    match ctx.s3().head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let not_found = matches!(
                &e,
                aws_smithy_runtime_api::client::result::SdkError::ServiceError(se)
                    if se.err().is_not_found()
            );
            if not_found {
                Ok(false)
            } else {
                Err(ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket).with_key(key))
            }
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Writes `body` to `key` once, under COMPLIANCE retention until `retain_until`, then reads
/// the retention back with HeadObject and checks it. Refuses when the bucket has no Object Lock
/// or the key already exists (nothing is ever overwritten; `If-None-Match: *` guards the
/// write itself against a concurrent writer).
pub async fn put_compliance_locked(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
    retain_until: OffsetDateTime,
) -> Result<LockedObject, AwsError> {
    require_object_lock(ctx, bucket).await?;
    let action = format!("write s3://{bucket}/{key} under Object Lock");
    if exists(ctx, bucket, key).await? {
        return Err(ctx_err(
            AwsError::new(AwsErrorKind::InvalidInput, &action),
            ctx,
            bucket,
        )
        .with_key(key)
        .with_detail("the object already exists")
        .with_hint("nothing was overwritten; a published record is written once"));
    }
    let until = aws_smithy_types::DateTime::from_secs(retain_until.unix_timestamp());
    ctx.s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .if_none_match("*")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .content_type(content_type)
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(until)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket).with_key(key))?;
    let (read, read_until) = retention(ctx, bucket, key).await?;
    let check = format!("read back the retention of s3://{bucket}/{key}");
    let mode = read.mode.clone();
    let ok = mode == ObjectLockMode::Compliance.as_str()
        && read_until.is_some_and(|u| u.unix_timestamp() >= retain_until.unix_timestamp());
    if !ok {
        return Err(
            ctx_err(AwsError::new(AwsErrorKind::Other, &check), ctx, bucket)
                .with_key(key)
                .with_detail(format!(
                    "S3 reports retention mode {:?} until {}, not COMPLIANCE until {}",
                    mode,
                    read_until.map(rfc3339).unwrap_or_else(|| "(none)".into()),
                    rfc3339(retain_until)
                ))
                .with_hint("the object is not protected as required; check the bucket's Object Lock settings"),
        );
    }
    Ok(read)
}

/// The retention of `key` as S3 reports it (HeadObject): version id, mode, retain-until.
pub async fn retention(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
) -> Result<(LockedObject, Option<OffsetDateTime>), AwsError> {
    let check = format!("read the retention of s3://{bucket}/{key}");
    let head = ctx
        .s3()
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| ctx_err(AwsError::from_sdk(&e, &check), ctx, bucket).with_key(key))?;
    let mode = head
        .object_lock_mode()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let until = head
        .object_lock_retain_until_date()
        .and_then(|d| OffsetDateTime::from_unix_timestamp(d.secs()).ok());
    Ok((
        LockedObject {
            version_id: head
                .version_id()
                .filter(|v| *v != "null")
                .map(str::to_owned),
            mode,
            retain_until: until.map(rfc3339).unwrap_or_default(),
        },
        until,
    ))
}
