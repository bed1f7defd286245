//! `package publish` and `verify s3://…`: a final package leaves the desktop for write-once
//! storage, and is verified from there (docs/package-format.md §14).
//!
//! Publishing verifies the package against this home first and lets the core decide whether it
//! is final ([`countersign_core::package::publish`]); then it compares every object already at
//! its key, writes the missing ones under Object Lock COMPLIANCE retention, reads the retention
//! back, and records the publication. Nothing is written when any check fails, and nothing is
//! ever written over other bytes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use countersign_aws::object_lock::{
    put_compliance_locked, require_object_lock, retention, LockedObject,
};
use countersign_aws::s3::{self, DownloadError};
use countersign_aws::{AwsContext, AwsErrorKind, AwsSettings};
use countersign_core::digest::Sha256;
use countersign_core::layout::S3Location;
use countersign_core::package::approval::PackageState;
use countersign_core::package::publish::{bundle_key, pdf_key, publishable, Verified};
use countersign_core::package::verify::{CheckState, RunProven};
use countersign_ledger::NewEvent;
use serde::Serialize;

use super::verify::{verify_file, S3Source};
use super::{PackageVerification, TrustedKeys};
use crate::aws_context::{caller_actor, download_error, write_once_error};
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::handoff::{PublishedStatus, MAX_LOCK_DAYS};
use crate::{Env, Service};

/// Action of a package publication event.
pub const PACKAGE_PUBLISHED: &str = "package.published";

/// What `package publish` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePublishRequest {
    /// The package PDF, as this desktop built it.
    pub pdf: PathBuf,
    /// Its bundle, as a `.zip` file, when it is published too.
    pub bundle: Option<PathBuf>,
    /// Where to: `s3://BUCKET/PREFIX` (the bucket must have Object Lock enabled).
    pub to: S3Location,
    /// Object Lock COMPLIANCE retention, in days.
    pub object_lock_days: u32,
}

/// A published package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackagePublished {
    /// The package id.
    pub package_id: String,
    /// `s3://bucket/prefix/<package-id>/`.
    pub location: String,
    /// The PDF and, when given, the bundle: written now or already there.
    pub objects: Vec<PublishedPackageObject>,
    /// The earliest retain-until date of the objects, UTC, as S3 reports them: nobody can
    /// delete or overwrite any of them before then.
    pub retain_until: String,
    /// Each run as its verified signatures establish it (every one approved).
    pub runs: Vec<RunProven>,
}

/// One object of a published package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPackageObject {
    /// `s3://bucket/key`.
    pub uri: String,
    /// SHA-256 of its bytes.
    pub sha256: Sha256,
    /// Written now, or already there (with the same bytes).
    pub status: PublishedStatus,
    /// Its S3 version id.
    pub version_id: Option<String>,
    /// Its COMPLIANCE retain-until date as S3 reports it, RFC 3339.
    pub retain_until: String,
}

/// One file to publish.
struct Part {
    key: String,
    body: Vec<u8>,
    content_type: &'static str,
}

impl Service {
    /// Publishes a final package: verified against this home (the file exactly as built here,
    /// every run approved by verified signatures), written once under Object Lock COMPLIANCE
    /// retention, its retention read back, and the publication recorded.
    pub async fn package_publish(
        &self,
        aws: &AwsSettings,
        req: &PackagePublishRequest,
    ) -> Result<PackagePublished, ServiceError> {
        if !(1..=MAX_LOCK_DAYS).contains(&req.object_lock_days) {
            return Err(ServiceError::bad_input(format!(
                "--object-lock-days {}: use 1 to {MAX_LOCK_DAYS} days",
                req.object_lock_days
            )));
        }
        let retain_until = self.now() + time::Duration::days(i64::from(req.object_lock_days));
        if let Some(b) = &req.bundle {
            let zip = b.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
            if !zip {
                return Err(ServiceError::bad_input(format!(
                    "the bundle {} is not a .zip file; a bundle is published as the .zip file the package build wrote (a bundle saved as a folder is not published)",
                    b.display()
                )));
            }
        }
        let pdf = self.verify_here(&req.pdf, None)?;
        let (id, runs) = final_package(&pdf, Some(pdf.package_state))?;
        let mut parts = vec![Part {
            key: req.to.key(&pdf_key(&id)),
            body: read_as_verified(&req.pdf, &pdf, "published")?,
            content_type: "application/pdf",
        }];
        if let Some(b) = &req.bundle {
            let bundle = self.verify_here(b, None)?;
            let (bundle_id, _) = final_package(&bundle, None)?;
            if bundle_id != id {
                return Err(ServiceError::bad_input(format!(
                    "the bundle {} is package {bundle_id}, not {id}; publish a package's PDF with its own bundle",
                    b.display()
                )));
            }
            parts.push(Part {
                key: req.to.key(&bundle_key(&id)),
                body: read_as_verified(b, &bundle, "published")?,
                content_type: "application/zip",
            });
        }
        let ctx = self.aws(aws).await?;
        let bucket = req.to.bucket.as_str();
        require_object_lock(&ctx, bucket).await?;

        // First compare everything (bytes, and the retention of what is already there), so a
        // conflict writes nothing.
        let mut present = Vec::new();
        for p in &parts {
            present.push(if compare(&ctx, bucket, p).await? {
                Some(self.held(&ctx, bucket, &p.key).await?)
            } else {
                None
            });
        }
        let mut objects = Vec::new();
        for (p, there) in parts.into_iter().zip(present) {
            let sha256 = Sha256::of(&p.body);
            let uri = req.to.uri_of(&p.key);
            let (status, locked) = match there {
                Some(locked) => (PublishedStatus::Unchanged, locked),
                None => {
                    let locked = put_compliance_locked(
                        &ctx,
                        bucket,
                        &p.key,
                        p.body,
                        p.content_type,
                        retain_until,
                    )
                    .await
                    .map_err(|e| write_once_error(&uri, e))?;
                    (PublishedStatus::Written, locked)
                }
            };
            objects.push(PublishedPackageObject {
                uri,
                sha256,
                status,
                version_id: locked.version_id,
                retain_until: locked.retain_until,
            });
        }
        let report = PackagePublished {
            location: req.to.uri_of(&req.to.key(&format!("{id}/"))),
            package_id: id,
            // RFC 3339 UTC texts of one form compare as times.
            retain_until: objects
                .iter()
                .map(|o| o.retain_until.clone())
                .min()
                .unwrap_or_default(),
            objects,
            runs,
        };
        let actor = caller_actor(&ctx).await;
        let after = serde_json::json!({
            "location": report.location,
            "objects": report.objects,
            "retain_until": report.retain_until,
            "runs": report.runs.iter().map(|r| &r.run).collect::<Vec<_>>(),
        })
        .to_string();
        self.ledger()?
            .append(
                &NewEvent::new(&actor, PACKAGE_PUBLISHED, "package", &report.package_id)
                    .after(after),
            )
            .map_err(err::from_ledger)?;
        Ok(report)
    }

    /// Verifies a package read from S3 against this home, with the object's retention as S3
    /// reports it, and records the verification.
    pub async fn verify_published(
        &self,
        aws: &AwsSettings,
        uri: &str,
        trusted: Option<&TrustedKeys>,
    ) -> Result<PackageVerification, ServiceError> {
        let ctx = self.aws(aws).await?;
        let (_dir, path, source) = download_package(&ctx, uri).await?;
        let mut v = self.verify_here(&path, trusted)?;
        v.path = PathBuf::from(&source.uri);
        v.source = Some(source);
        self.record_verification(&v)?;
        Ok(v)
    }
}

impl Service {
    /// The retention of an object already holding a package's bytes, when it is COMPLIANCE
    /// retention not yet ended; refused otherwise (the object could be deleted).
    async fn held(
        &self,
        ctx: &AwsContext,
        bucket: &str,
        key: &str,
    ) -> Result<LockedObject, ServiceError> {
        let (locked, until) = retention(ctx, bucket, key).await?;
        let held = locked.mode == "COMPLIANCE"
            && until.is_some_and(|u| u.unix_timestamp() >= self.now().unix_timestamp());
        if held {
            Ok(locked)
        } else {
            Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "s3://{bucket}/{key} already holds this package, but not under COMPLIANCE retention (mode {:?}, until {:?}), so it can be deleted; nothing was written. Publish to another prefix",
                    locked.mode, locked.retain_until
                ),
            ))
        }
    }
}

/// [`Service::verify_published`] without a home: the offline verifier reading from S3.
pub async fn verify_published_file(
    env: &Env,
    aws: &AwsSettings,
    uri: &str,
    trusted: Option<&TrustedKeys>,
) -> Result<PackageVerification, ServiceError> {
    let ctx = env.aws.connect(aws).await?;
    let (_dir, path, source) = download_package(&ctx, uri).await?;
    let mut v = verify_file(&path, trusted, None)?;
    v.path = PathBuf::from(&source.uri);
    v.source = Some(source);
    Ok(v)
}

/// The package id and run states of a package that may be published, or why not;
/// `package_state` for the PDF (whose approvals must make it approved), `None` for a bundle.
fn final_package(
    v: &PackageVerification,
    package_state: Option<PackageState>,
) -> Result<(String, Vec<RunProven>), ServiceError> {
    let built: Vec<(CheckState, &str)> = v
        .reports
        .iter()
        .flat_map(|(_, r)| r.checks.iter())
        .filter(|c| c.id == "built")
        .map(|c| (c.state, c.detail.as_str()))
        .collect();
    let first_problem = v.first_problem();
    let id = publishable(&Verified {
        package_id: v.package_id(),
        verified: v.verified,
        first_problem: first_problem.as_deref(),
        built: &built,
        runs: &v.runs,
        package_state,
    })
    .map_err(|e| ServiceError::new(ErrorCode::Refused, e.to_string()))?;
    Ok((id.to_owned(), v.runs.clone()))
}

/// The bytes of `path`, refused unless they are the bytes `verified` was made from: a file
/// changed between verifying and reading is never published or signed (`doing` says which).
pub(super) fn read_as_verified(
    path: &Path,
    verified: &PackageVerification,
    doing: &str,
) -> Result<Vec<u8>, ServiceError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServiceError::bad_input(format!("could not read {}: {e}", path.display())))?;
    if Sha256::of(&bytes) != verified.sha256 {
        return Err(ServiceError::new(
            ErrorCode::Refused,
            format!(
                "{} changed while it was being {doing} (it is no longer the file that was verified); nothing was written",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// Whether the object at `p.key` already holds exactly `p.body`; refused when it holds other
/// bytes.
async fn compare(ctx: &AwsContext, bucket: &str, p: &Part) -> Result<bool, ServiceError> {
    let uri = format!("s3://{bucket}/{}", p.key);
    match s3::get_small(ctx, bucket, &p.key, p.body.len() as u64 + 1).await {
        Ok(None) => Ok(false),
        Ok(Some((existing, _))) if existing == p.body => Ok(true),
        Ok(Some((existing, _))) => Err(other_bytes(&uri, Some(&existing), &p.body)),
        Err(DownloadError::Sink(_)) => Err(other_bytes(&uri, None, &p.body)),
        Err(e) => Err(download_error(e)),
    }
}

fn other_bytes(uri: &str, existing: Option<&[u8]>, ours: &[u8]) -> ServiceError {
    let theirs = existing.map_or_else(
        || "a larger object".to_owned(),
        |b| format!("sha256 {}", Sha256::of(b).to_hex()),
    );
    ServiceError::new(
        ErrorCode::Refused,
        format!(
            "{uri} already holds other bytes ({theirs}; this package's are sha256 {}); a published package is never overwritten and nothing was written",
            Sha256::of(ours).to_hex()
        ),
    )
}

/// Downloads the package object `uri` names into a new temporary folder, under the name its
/// key ends with (which says whether it is a PDF or a bundle zip).
async fn download_package(
    ctx: &AwsContext,
    uri: &str,
) -> Result<(tempfile::TempDir, PathBuf, S3Source), ServiceError> {
    let location: S3Location = uri
        .parse()
        .map_err(|e| ServiceError::bad_input(format!("{e}")))?;
    let key = location.prefix.as_str().trim_end_matches('/').to_owned();
    let name = key.rsplit('/').next().unwrap_or_default().to_owned();
    let kind = Path::new(&name)
        .extension()
        .map(|e| e.to_ascii_lowercase())
        .filter(|e| e == "pdf" || e == "zip");
    if key.is_empty() || kind.is_none() {
        return Err(ServiceError::bad_input(format!(
            "{}: name the package object itself, a PDF or a bundle .zip (s3://BUCKET/PREFIX/PKG-…/PKG-….pdf)",
            location.uri_of(&key)
        )));
    }
    let bucket = location.bucket.as_str();
    let dir = tempfile::tempdir()
        .map_err(|e| ServiceError::storage(format!("could not make a temporary folder: {e}")))?;
    let path = dir.path().join(&name);
    let mut file = std::fs::File::create(&path)
        .map_err(|e| ServiceError::storage(format!("could not write {}: {e}", path.display())))?;
    let meta = s3::download(ctx, bucket, &key, |chunk| {
        file.write_all(chunk).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| match e {
        DownloadError::Aws(a) if a.kind == AwsErrorKind::NoSuchKey => {
            ServiceError::not_found(format!(
                "there is no object at s3://{bucket}/{key}; check the key (a package is published as PREFIX/PKG-…/PKG-….pdf)"
            ))
        }
        e => download_error(e),
    })?;
    file.sync_all()
        .map_err(|e| ServiceError::storage(format!("could not write {}: {e}", path.display())))?;
    let (locked, _) = retention(ctx, bucket, &key).await?;
    Ok((
        dir,
        path,
        S3Source {
            uri: location.uri_of(&key),
            version_id: meta.version_id.or(locked.version_id),
            retention_mode: locked.mode,
            retain_until: locked.retain_until,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_changed_after_it_was_verified_is_not_published() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.pdf");
        std::fs::write(&path, b"as verified").unwrap();
        let verified = PackageVerification {
            path: path.clone(),
            sha256: Sha256::of(b"as verified"),
            verified: true,
            reports: Vec::new(),
            limits: Vec::new(),
            runs: Vec::new(),
            package_state: countersign_core::package::approval::PackageState::Draft,
            approvals: Vec::new(),
            later_approvals: Vec::new(),
            source: None,
        };
        assert_eq!(
            read_as_verified(&path, &verified, "published").unwrap(),
            b"as verified"
        );
        std::fs::write(&path, b"swapped after verifying").unwrap();
        let err = read_as_verified(&path, &verified, "published").unwrap_err();
        assert_eq!(err.code, ErrorCode::Refused);
        assert!(
            err.message.contains("changed while it was being published"),
            "{err}"
        );
    }
}
