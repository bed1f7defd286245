//! `fetch`: sync `s3://BUCKET/PREFIX/` into the verified store.
//!
//! Order of work: list everything (all pages); skip keys outside the layout or unsafe as paths;
//! skip objects already stored with the same ETag; download run manifests first (they declare
//! digests for the rest of their run); then download the rest with bounded concurrency. Each
//! object is hashed while it is written; a mismatch with S3's SHA-256 checksum or the manifest's
//! declared digest rejects it: it never enters the store and the rejection is a ledger event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use countersign_aws::s3::{self, DownloadError, ListedObject};
use countersign_aws::{AwsContext, AwsError};
use countersign_core::digest::Sha256;
use countersign_core::layout::{s3_uri, BucketName, Prefix};
use countersign_core::model::RunKey;
use countersign_core::run::MANIFEST_PATH;
use countersign_ledger::{Actor, NewObject, NewRejection, SourceKind};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws_context::caller_identity;
use crate::error::{self as err, ServiceError};
use crate::intake::{self, Placement};
use crate::snapshot::SnapshotTaken;
use crate::{AwsSettings, CancelToken, Service};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The AWS profile, region and endpoint to fetch with.
    pub aws: AwsSettings,
    /// The bucket.
    pub bucket: BucketName,
    /// The prefix under which the runs and the audit evidence are laid out.
    pub prefix: Prefix,
    /// Parallel downloads (1–64).
    pub concurrency: usize,
    /// The stack to bind to fetched runs whose run.json names none; each qualified stack is
    /// snapshotted once after the downloads.
    pub stack: Option<String>,
}

/// Progress, emitted after the listing and after every object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FetchProgress {
    pub listed: u64,
    /// Objects to download in this fetch.
    pub total: u64,
    pub done: u64,
    pub bytes: u64,
    pub new: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub failed: u64,
    pub current_key: Option<String>,
}

/// An object refused because its bytes did not match a declared digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub uri: String,
    pub reason: String,
}

/// A key left out of the store, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

/// A download that failed for a transient or environmental reason; the next fetch retries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchFailure {
    pub uri: String,
    pub error: String,
}

/// The outcome of a fetch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FetchReport {
    pub bucket: String,
    pub prefix: String,
    /// The identity the objects were fetched as (`GetCallerIdentity`), when known.
    pub identity: Option<String>,
    pub listed: u64,
    pub new: u64,
    pub unchanged: u64,
    pub bytes: u64,
    pub rejected: Vec<Rejected>,
    pub skipped: Vec<Skipped>,
    pub failed: Vec<FetchFailure>,
    pub cancelled: bool,
    /// Stack snapshots taken for the runs of this fetch (one per qualified stack).
    pub snapshots: Vec<SnapshotTaken>,
}

struct Planned {
    listed: ListedObject,
    run: Option<RunKey>,
}

const MAX_ATTEMPTS: u32 = 4;

impl Service {
    /// Syncs `s3://bucket/prefix/` into the store. Unchanged objects cost only the listing;
    /// an interrupted fetch resumes without re-downloading what is already verified.
    pub async fn fetch(
        &self,
        req: &FetchRequest,
        progress: &(dyn Fn(&FetchProgress) + Send + Sync),
        cancel: &CancelToken,
    ) -> Result<FetchReport, ServiceError> {
        if !(1..=64).contains(&req.concurrency) {
            return Err(ServiceError::bad_input(format!(
                "--concurrency must be between 1 and 64, got {}",
                req.concurrency
            )));
        }
        let ctx = self.aws(&req.aws).await?;
        let ctx = &ctx;
        let stack = req.stack.as_deref();
        let prefix = req.prefix.as_str().to_owned();
        let bucket = req.bucket.as_str();
        let identity = caller_identity(ctx).await;
        let actor = match &identity {
            Some(arn) => Actor {
                arn: Some(arn.clone()),
                printed_name: None,
            },
            None => Actor::system(),
        };

        let listing = s3::list(ctx, bucket, &prefix).await?;
        let mut report = FetchReport {
            bucket: bucket.to_owned(),
            prefix: prefix.clone(),
            identity: identity.clone(),
            listed: listing.len() as u64,
            ..FetchReport::default()
        };

        let mut to_fetch: Vec<Planned> = Vec::new();
        let mut stored_manifests: Vec<(RunKey, Sha256)> = Vec::new();
        {
            let ledger = self.ledger()?;
            for obj in listing {
                if obj.key.ends_with('/') {
                    continue; // a "folder" marker, not an object
                }
                let rel = obj.key.strip_prefix(&prefix).unwrap_or(&obj.key).to_owned();
                let run = match intake::place(&rel) {
                    Err(reason) => {
                        report.skipped.push(Skipped {
                            key: obj.key.clone(),
                            reason,
                        });
                        continue;
                    }
                    Ok(Placement::Run(run)) => Some(run),
                    Ok(Placement::Audit) => None,
                };
                let uri = s3_uri(bucket, &obj.key);
                let known = ledger
                    .find_object(&uri, obj.version_id.as_deref(), obj.etag.as_deref())
                    .map_err(err::from_ledger)?;
                match known {
                    Some(rec) if obj.etag.is_some() => {
                        report.unchanged += 1;
                        if let (Some(run), true) =
                            (&run, rel.ends_with(&format!("/{MANIFEST_PATH}")))
                        {
                            stored_manifests.push((run.clone(), rec.sha256));
                        }
                    }
                    _ => to_fetch.push(Planned { listed: obj, run }),
                }
            }
        }

        let mut prog = FetchProgress {
            listed: report.listed,
            total: to_fetch.len() as u64,
            unchanged: report.unchanged,
            ..FetchProgress::default()
        };
        progress(&prog);

        // Manifests first: they declare the digests of the rest of their run.
        let (manifests, rest): (Vec<Planned>, Vec<Planned>) = to_fetch
            .into_iter()
            .partition(|p| p.run.is_some() && p.listed.key.ends_with(&format!("/{MANIFEST_PATH}")));

        let mut declared: HashMap<String, Sha256> = HashMap::new();
        for (run, sha) in stored_manifests {
            if let Ok(bytes) = self.store().read(&sha) {
                self.add_declared(&mut declared, bucket, &prefix, &run, &bytes);
            }
        }

        let fetcher = Fetcher {
            service: self,
            ctx,
            bucket,
            actor: &actor,
            cancel,
        };
        let counters = Counters::default();
        for batch in [manifests, rest] {
            let results: Vec<(Planned, Outcome)> = stream::iter(batch)
                .map(|p| {
                    let expected = declared.get(&s3_uri(bucket, &p.listed.key)).copied();
                    let f = &fetcher;
                    let c = &counters;
                    async move {
                        let outcome = f.fetch_one(&p, expected).await;
                        c.record(&outcome);
                        (p, outcome)
                    }
                })
                .buffer_unordered(req.concurrency)
                .map(|(p, outcome)| {
                    prog.done += 1;
                    counters.fill(&mut prog);
                    prog.current_key = Some(p.listed.key.clone());
                    progress(&prog);
                    (p, outcome)
                })
                .collect()
                .await;
            for (p, outcome) in results {
                let uri = s3_uri(bucket, &p.listed.key);
                match outcome {
                    Outcome::Stored { sha256, bytes } => {
                        report.new += 1;
                        report.bytes += bytes;
                        if let Some(run) = &p.run {
                            if p.listed.key.ends_with(&format!("/{MANIFEST_PATH}")) {
                                if let Ok(content) = self.store().read(&sha256) {
                                    self.add_declared(
                                        &mut declared,
                                        bucket,
                                        &prefix,
                                        run,
                                        &content,
                                    );
                                }
                            }
                        }
                    }
                    Outcome::Rejected(reason) => report.rejected.push(Rejected { uri, reason }),
                    Outcome::Failed(error) => report.failed.push(FetchFailure { uri, error }),
                    Outcome::Cancelled => report.cancelled = true,
                    Outcome::Fatal(e) => return Err(e),
                }
            }
        }
        prog.current_key = None;
        progress(&prog);
        if !report.cancelled {
            report.snapshots = self
                .snapshot_fetched_runs(ctx, bucket, &prefix, stack, &actor)
                .await;
        }
        Ok(report)
    }

    /// Reads a run manifest's declared digests into `declared`, keyed by S3 URI.
    fn add_declared(
        &self,
        declared: &mut HashMap<String, Sha256>,
        bucket: &str,
        prefix: &str,
        run: &RunKey,
        manifest: &[u8],
    ) {
        for (rel, sha) in intake::declared_digests(run, manifest) {
            declared.insert(s3_uri(bucket, &format!("{prefix}{rel}")), sha);
        }
    }
}

enum Outcome {
    Stored { sha256: Sha256, bytes: u64 },
    Rejected(String),
    Failed(String),
    Cancelled,
    Fatal(ServiceError),
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    new: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    fn record(&self, o: &Outcome) {
        match o {
            Outcome::Stored { bytes, .. } => {
                self.new.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(*bytes, Ordering::Relaxed);
            }
            Outcome::Rejected(_) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed(_) | Outcome::Fatal(_) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Cancelled => {}
        }
    }
    fn fill(&self, p: &mut FetchProgress) {
        p.bytes = self.bytes.load(Ordering::Relaxed);
        p.new = self.new.load(Ordering::Relaxed);
        p.rejected = self.rejected.load(Ordering::Relaxed);
        p.failed = self.failed.load(Ordering::Relaxed);
    }
}

struct Fetcher<'a> {
    service: &'a Service,
    ctx: &'a AwsContext,
    bucket: &'a str,
    actor: &'a Actor,
    cancel: &'a CancelToken,
}

impl Fetcher<'_> {
    async fn fetch_one(&self, p: &Planned, declared: Option<Sha256>) -> Outcome {
        let key = p.listed.key.as_str();
        let uri = s3_uri(self.bucket, key);
        let mut attempt = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Outcome::Cancelled;
            }
            attempt += 1;
            match self.try_once(p, declared).await {
                Err(Attempt::Transient(e)) if attempt < MAX_ATTEMPTS => {
                    // Exponential backoff: 200 ms, 400 ms, 800 ms.
                    tokio::time::sleep(Duration::from_millis(200 << (attempt - 1))).await;
                    let _ = e;
                }
                Err(Attempt::Transient(e)) => {
                    return Outcome::Failed(format!("{e} (gave up after {attempt} attempts)"));
                }
                Err(Attempt::Permanent(e)) => return Outcome::Failed(e.to_string()),
                Err(Attempt::Mismatch(reason, expected, actual)) => {
                    let rej = NewRejection {
                        uri: uri.clone(),
                        version_id: None,
                        etag: p.listed.etag.clone(),
                        reason: reason.clone(),
                        expected_sha256: Some(expected),
                        actual_sha256: Some(actual),
                    };
                    return match self.service.record_rejection(&rej, self.actor) {
                        Ok(()) => Outcome::Rejected(reason),
                        Err(e) => Outcome::Fatal(e),
                    };
                }
                Err(Attempt::Fatal(e)) => return Outcome::Fatal(e),
                Ok(o) => return o,
            }
        }
    }

    async fn try_once(&self, p: &Planned, declared: Option<Sha256>) -> Result<Outcome, Attempt> {
        let key = p.listed.key.as_str();
        let mut writer = self
            .service
            .store()
            .writer()
            .map_err(|e| Attempt::Fatal(err::from_store(e)))?;
        let meta = s3::download(self.ctx, self.bucket, key, |chunk| {
            writer.write(chunk).map_err(|e| e.to_string())
        })
        .await;
        let meta = match meta {
            Ok(m) => m,
            Err(DownloadError::Aws(e)) if e.is_transient() => return Err(Attempt::Transient(e)),
            Err(DownloadError::Aws(e)) => return Err(Attempt::Permanent(e)),
            Err(DownloadError::Sink(msg)) => {
                return Err(Attempt::Fatal(ServiceError::storage(format!(
                    "could not write s3://{}/{key} into the store: {msg}",
                    self.bucket
                ))))
            }
        };
        let from_s3 = meta
            .checksum_sha256_hex
            .as_deref()
            .and_then(|h| h.parse::<Sha256>().ok());
        // Which digest must the bytes have? The manifest's declaration and S3's checksum must
        // agree with the bytes; the manifest is checked first because it is the signed intent.
        let size = writer.bytes_written();
        let expected = declared.or(from_s3);
        match writer.commit(expected.as_ref()) {
            Ok(blob) => {
                if let (Some(d), Some(s)) = (declared, from_s3) {
                    if d != s {
                        return Err(Attempt::Mismatch(
                            format!("S3 checksum {s} disagrees with the digest {d} declared in run.json"),
                            d,
                            s,
                        ));
                    }
                }
                let obj = NewObject {
                    sha256: blob.sha256,
                    size,
                    uri: s3_uri(self.bucket, key),
                    bucket: Some(self.bucket.to_owned()),
                    key: Some(key.to_owned()),
                    version_id: meta.version_id.clone(),
                    etag: meta.etag.clone().or_else(|| p.listed.etag.clone()),
                    last_modified: meta
                        .last_modified
                        .clone()
                        .or_else(|| p.listed.last_modified.clone()),
                    source: SourceKind::S3,
                    run_key: p.run.as_ref().map(|r| r.to_string()),
                };
                self.service
                    .ledger()
                    .and_then(|mut l| {
                        l.add_object_with_metadata(&obj, &meta.metadata, self.actor)
                            .map_err(err::from_ledger)
                    })
                    .map_err(Attempt::Fatal)?;
                Ok(Outcome::Stored {
                    sha256: blob.sha256,
                    bytes: size,
                })
            }
            Err(countersign_store::StoreError::DigestMismatch { expected, actual }) => {
                let source = if declared.is_some() {
                    "declared in run.json"
                } else {
                    "S3's x-amz-checksum-sha256"
                };
                Err(Attempt::Mismatch(
                    format!("content does not match the SHA-256 {source}: expected {expected}, received {actual}"),
                    expected,
                    actual,
                ))
            }
            Err(e) => Err(Attempt::Fatal(err::from_store(e))),
        }
    }
}

enum Attempt {
    Transient(AwsError),
    Permanent(AwsError),
    Mismatch(String, Sha256, Sha256),
    Fatal(ServiceError),
}
