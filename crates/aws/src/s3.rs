//! S3: listing a prefix, streaming objects down, and uploading (demo seeding, hand-off).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    /// Quotes stripped.
    pub etag: Option<String>,
    /// RFC 3339.
    pub last_modified: Option<String>,
    /// The current version's id, when the bucket is versioned and versions could be listed.
    pub version_id: Option<String>,
}

/// What GetObject said about the object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    /// Full-object SHA-256 from `x-amz-checksum-sha256`, base64 as S3 sends it. Composite
    /// (multipart, `…-N`) checksums are not full-object digests and are left out.
    pub checksum_sha256_b64: Option<String>,
    /// The same checksum as 64 hex characters.
    pub checksum_sha256_hex: Option<String>,
    /// User metadata (`x-amz-meta-*`), e.g. CloudTrail digest signatures.
    pub metadata: Vec<(String, String)>,
}

fn b64_to_hex(b64: &str) -> Option<String> {
    let bytes = aws_smithy_types::base64::decode(b64).ok()?;
    (bytes.len() == 32).then(|| bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn strip_quotes(s: &str) -> String {
    s.trim_matches('"').to_owned()
}

fn rfc3339(dt: &aws_smithy_types::DateTime) -> Option<String> {
    dt.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

fn ctx_err(e: AwsError, ctx: &AwsContext, bucket: &str) -> AwsError {
    e.with_bucket(bucket)
        .with_profile(Some(ctx.profile_name()))
        .with_region(ctx.region_name())
}

/// Lists the current version of every object under `prefix`, with version ids
/// (ListObjectVersions) so that an unchanged object is recognised by version id and ETag. Falls
/// back to ListObjectsV2 when the caller may not list versions (s3:ListBucketVersions).
pub async fn list(
    ctx: &AwsContext,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ListedObject>, AwsError> {
    match list_versions(ctx, bucket, prefix).await {
        Ok(v) => Ok(v),
        Err(e)
            if e.kind == AwsErrorKind::AccessDenied
                || e.code.as_deref() == Some("NotImplemented") =>
        {
            list_current(ctx, bucket, prefix).await
        }
        Err(e) => Err(e),
    }
}

async fn list_versions(
    ctx: &AwsContext,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ListedObject>, AwsError> {
    let client = ctx.s3();
    let action = format!("list object versions of s3://{bucket}/{prefix}");
    let mut out = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    // Bounded: 100,000 pages of 1,000 versions.
    for _ in 0..100_000 {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            // Keys may hold characters XML 1.0 cannot carry (control characters): without URL
            // encoding, one such key makes the whole listing unreadable.
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket))?;
        let encoded = page.encoding_type() == Some(&aws_sdk_s3::types::EncodingType::Url);
        let key_of = |k: &str| if encoded { url_decode(k) } else { k.to_owned() };
        for v in page.versions() {
            if v.is_latest() != Some(true) {
                continue;
            }
            let Some(key) = v.key() else { continue };
            out.push(ListedObject {
                key: key_of(key),
                size: v.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: v.e_tag().map(strip_quotes),
                last_modified: v.last_modified().and_then(rfc3339),
                version_id: v.version_id().filter(|id| *id != "null").map(str::to_owned),
            });
        }
        if page.is_truncated() != Some(true) {
            out.sort_by(|a, b| a.key.cmp(&b.key));
            return Ok(out);
        }
        key_marker = page.next_key_marker().map(key_of);
        version_marker = page.next_version_id_marker().map(str::to_owned);
        if key_marker.is_none() && version_marker.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// A key as S3 sends it with `encoding-type=url`: percent-decoded (`+` is a space there, as
/// in form encoding). A malformed escape is kept as written.
fn url_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lists every object under `prefix` (all pages), without version ids.
async fn list_current(
    ctx: &AwsContext,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<ListedObject>, AwsError> {
    let client = ctx.s3();
    let action = format!("list s3://{bucket}/{prefix}");
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket))?;
        let encoded = page.encoding_type() == Some(&aws_sdk_s3::types::EncodingType::Url);
        for obj in page.contents() {
            let Some(key) = obj.key() else { continue };
            out.push(ListedObject {
                key: if encoded {
                    url_decode(key)
                } else {
                    key.to_owned()
                },
                size: obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                etag: obj.e_tag().map(strip_quotes),
                last_modified: obj.last_modified().and_then(rfc3339),
                version_id: None,
            });
        }
    }
    Ok(out)
}

/// Streams one object into `sink`, chunk by chunk. The SDK validates S3's own checksums in
/// transit when present; the caller additionally hashes every byte with SHA-256.
pub async fn download<F>(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
    mut sink: F,
) -> Result<ObjectMeta, DownloadError>
where
    F: FnMut(&[u8]) -> Result<(), String>,
{
    let action = format!("download s3://{bucket}/{key}");
    let resp = ctx
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .map_err(|e| {
            DownloadError::Aws(ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket).with_key(key))
        })?;
    let checksum = resp
        .checksum_sha256()
        .filter(|c| !c.contains('-'))
        .map(str::to_owned);
    let mut metadata: Vec<(String, String)> = resp
        .metadata()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    metadata.sort();
    let meta = ObjectMeta {
        version_id: resp
            .version_id()
            .filter(|v| *v != "null")
            .map(str::to_owned),
        etag: resp.e_tag().map(strip_quotes),
        last_modified: resp.last_modified().and_then(rfc3339),
        content_length: resp.content_length().and_then(|l| u64::try_from(l).ok()),
        content_type: resp.content_type().map(str::to_owned),
        checksum_sha256_hex: checksum.as_deref().and_then(b64_to_hex),
        checksum_sha256_b64: checksum,
        metadata,
    };
    let mut body = resp.body;
    let mut received = 0u64;
    loop {
        match body.try_next().await {
            Ok(Some(chunk)) => {
                received += chunk.len() as u64;
                sink(&chunk).map_err(DownloadError::Sink)?;
            }
            Ok(None) => break,
            Err(e) => {
                let detail = crate::error::error_chain(&e);
                return Err(DownloadError::Aws(
                    ctx_err(AwsError::new(AwsErrorKind::Transfer, &action), ctx, bucket)
                        .with_key(key)
                        .with_detail(detail)
                        .with_hint("the download broke off or failed its transfer checksum; run the command again to resume"),
                ));
            }
        }
    }
    if let Some(expected) = meta.content_length {
        if expected != received {
            return Err(DownloadError::Aws(
                ctx_err(AwsError::new(AwsErrorKind::Transfer, &action), ctx, bucket)
                    .with_key(key)
                    .with_detail(format!("received {received} of {expected} bytes"))
                    .with_hint(
                        "the connection dropped mid-download; run the command again to resume",
                    ),
            ));
        }
    }
    Ok(meta)
}

/// Why a download failed: AWS/transport trouble, or the local sink refused the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    #[error("{0}")]
    Aws(AwsError),
    #[error("could not store the downloaded bytes: {0}")]
    Sink(String),
}

/// An object to upload.
#[derive(Debug, Clone, Default)]
pub struct Upload<'a> {
    pub key: &'a str,
    pub body: Vec<u8>,
    pub content_type: Option<&'a str>,
    pub metadata: &'a [(String, String)],
}

/// Uploads one object with a SHA-256 checksum (S3 verifies it on receipt).
pub async fn put(
    ctx: &AwsContext,
    bucket: &str,
    upload: Upload<'_>,
) -> Result<ObjectMeta, AwsError> {
    let action = format!("upload s3://{bucket}/{}", upload.key);
    let mut req = ctx
        .s3()
        .put_object()
        .bucket(bucket)
        .key(upload.key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(upload.body));
    if let Some(ct) = upload.content_type {
        req = req.content_type(ct);
    }
    for (k, v) in upload.metadata {
        req = req.metadata(k, v);
    }
    let out = req
        .send()
        .await
        .map_err(|e| ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket).with_key(upload.key))?;
    Ok(ObjectMeta {
        version_id: out.version_id().map(str::to_owned),
        etag: out.e_tag().map(strip_quotes),
        checksum_sha256_b64: out.checksum_sha256().map(str::to_owned),
        ..ObjectMeta::default()
    })
}

/// Creates a bucket (versioned when `versioned`; Object Lock implies versioning). An existing
/// bucket owned by the caller is accepted.
pub async fn ensure_bucket(
    ctx: &AwsContext,
    bucket: &str,
    versioned: bool,
    object_lock: bool,
) -> Result<(), AwsError> {
    let action = format!("create bucket {bucket}");
    let client = ctx.s3();
    let mut req = client.create_bucket().bucket(bucket);
    let region = ctx.region_name();
    if !region.is_empty() && region != "us-east-1" {
        req = req.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    if object_lock {
        req = req.object_lock_enabled_for_bucket(true);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) => {
            let err = AwsError::from_sdk(&e, &action);
            if err.code.as_deref() != Some("BucketAlreadyOwnedByYou") {
                return Err(ctx_err(err, ctx, bucket));
            }
        }
    }
    if versioned && !object_lock {
        client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                ctx_err(
                    AwsError::from_sdk(&e, &format!("enable versioning on {bucket}")),
                    ctx,
                    bucket,
                )
            })?;
    }
    Ok(())
}

/// Reads a small object whole. `Ok(None)` when the key does not exist; a body larger than
/// `max_bytes` is refused as [`DownloadError::Sink`] (nothing beyond the limit is kept).
pub async fn get_small(
    ctx: &AwsContext,
    bucket: &str,
    key: &str,
    max_bytes: u64,
) -> Result<Option<(Vec<u8>, ObjectMeta)>, DownloadError> {
    let mut body = Vec::new();
    let sink = |chunk: &[u8]| {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(format!(
                "s3://{bucket}/{key} is larger than the {max_bytes}-byte limit for this object"
            ));
        }
        body.extend_from_slice(chunk);
        Ok(())
    };
    match download(ctx, bucket, key, sink).await {
        Ok(meta) => Ok(Some((body, meta))),
        Err(DownloadError::Aws(e)) if e.kind == AwsErrorKind::NoSuchKey => Ok(None),
        Err(e) => Err(e),
    }
}

/// Uploads one object only when no object has its key yet (`If-None-Match: *`), with a SHA-256
/// checksum, and with Object Lock COMPLIANCE retention until `retain_until` when given. An
/// object that appeared in the meantime gives an error with code `PreconditionFailed`.
pub async fn put_if_absent(
    ctx: &AwsContext,
    bucket: &str,
    upload: Upload<'_>,
    retain_until: Option<time::OffsetDateTime>,
) -> Result<ObjectMeta, AwsError> {
    let action = format!("upload s3://{bucket}/{} (only if absent)", upload.key);
    let mut req = ctx
        .s3()
        .put_object()
        .bucket(bucket)
        .key(upload.key)
        .if_none_match("*")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(upload.body));
    if let Some(ct) = upload.content_type {
        req = req.content_type(ct);
    }
    for (k, v) in upload.metadata {
        req = req.metadata(k, v);
    }
    if let Some(until) = retain_until {
        req = req
            .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_smithy_types::DateTime::from_secs(
                until.unix_timestamp(),
            ));
    }
    let out = req.send().await.map_err(|e| {
        let mut err = ctx_err(AwsError::from_sdk(&e, &action), ctx, bucket).with_key(upload.key);
        if err.code.as_deref() == Some("InvalidRequest") && retain_until.is_some() {
            err = err.with_hint(
                "Object Lock retention needs a bucket created with Object Lock enabled; publish to such a bucket or leave out --object-lock-days",
            );
        }
        err
    })?;
    Ok(ObjectMeta {
        version_id: out.version_id().map(str::to_owned),
        etag: out.e_tag().map(strip_quotes),
        checksum_sha256_b64: out.checksum_sha256().map(str::to_owned),
        ..ObjectMeta::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_keys_decode_as_s3_writes_them() {
        assert_eq!(
            url_decode("q/LIMS/IQ/r1/a+b%2Bc.xml"),
            "q/LIMS/IQ/r1/a b+c.xml"
        );
        assert_eq!(
            url_decode("evidence/%1B%5B2Kshot.png"),
            "evidence/\u{1b}[2Kshot.png"
        );
        assert_eq!(url_decode("r%C3%BCn/%"), "rün/%");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
    }
}
