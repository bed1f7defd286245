//! `fetch`: sync `s3://BUCKET/PREFIX/` into the verified store.
//!
//! Order of work: list everything (all pages); skip keys outside the layout or unsafe as paths;
//! skip objects already stored with the same ETag; download run manifests first (they declare
//! digests for the rest of their run); then download the rest with bounded concurrency. Each
//! object is hashed while it is written; a mismatch with S3's SHA-256 checksum or the manifest's
//! declared digest rejects it: it never enters the store and the rejection is a ledger event.

use std::collections::HashMap;
use std::time::Duration;

use countersign_aws::s3::{self, DownloadError, ListedObject};
use countersign_aws::{AwsContext, AwsError};
use countersign_core::digest::Sha256;
use countersign_core::layout::{s3_uri, BucketName, Prefix};
use countersign_core::model::RunKey;
use countersign_core::run::MANIFEST_PATH;
use countersign_ledger::{Actor, NewObject, NewRejection, ObjectRecord, SourceKind};
use countersign_store::WrittenBlob;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::aws_context::caller_identity;
use crate::error::{self as err, ServiceError};
use crate::intake::{self, Placement};
use crate::snapshot::SnapshotTaken;
use crate::{AwsSettings, CancelToken, Service};

/// Parallel downloads of a fetch unless asked otherwise. A small object's time is mostly the
/// request's round trip (tens of milliseconds against S3), not its bytes, so a sync of thousands
/// of evidence files is bound by how many requests are in flight; S3 serves thousands of
/// requests per second per prefix.
pub const DEFAULT_FETCH_CONCURRENCY: usize = 32;

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
    /// Of `unchanged`, how many were recognised by size and LastModified alone, because the
    /// listing carried no ETag (some S3-compatible stores): an object rewritten within the same
    /// second with the same size would look unchanged, as it does to `aws s3 sync`.
    pub unchanged_by_size_and_time: u64,
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
                match recognise(&ledger, &uri, &obj).map_err(err::from_ledger)? {
                    Some((rec, by_size_and_time)) => {
                        report.unchanged += 1;
                        report.unchanged_by_size_and_time += u64::from(by_size_and_time);
                        if let (Some(run), true) =
                            (&run, rel.ends_with(&format!("/{MANIFEST_PATH}")))
                        {
                            stored_manifests.push((run.clone(), rec.sha256));
                        }
                    }
                    None => to_fetch.push(Planned { listed: obj, run }),
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
        // The digests unchanged manifests declare matter only for runs with objects to fetch.
        let runs_to_fetch: std::collections::HashSet<&RunKey> =
            rest.iter().filter_map(|p| p.run.as_ref()).collect();
        for (run, sha) in stored_manifests
            .into_iter()
            .filter(|(run, _)| runs_to_fetch.contains(run))
        {
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
        for batch in [manifests, rest] {
            // Downloads run `concurrency` at a time; whatever has finished is put into the store
            // and recorded together (group commit) while the next downloads continue.
            // Bounded: when settling falls behind, downloads wait instead of piling up.
            let (mut tx, rx) =
                futures::channel::mpsc::channel::<(Planned, Outcome)>(GROUP_COMMIT_MAX);
            let declared_now = &declared;
            let fetcher = &fetcher;
            let produce = async move {
                stream::iter(batch)
                    .map(|p| {
                        let expected = declared_now.get(&s3_uri(bucket, &p.listed.key)).copied();
                        async move {
                            let outcome = fetcher.fetch_one(&p, expected).await;
                            (p, outcome)
                        }
                    })
                    .buffer_unordered(req.concurrency)
                    .map(Ok)
                    .forward(&mut tx)
                    .await
                    .ok();
            };
            let mut new_manifests: Vec<(RunKey, Sha256)> = Vec::new();
            let consume = async {
                let mut ready = rx.ready_chunks(GROUP_COMMIT_MAX);
                while let Some(items) = ready.next().await {
                    self.settle(
                        items,
                        bucket,
                        &actor,
                        &mut report,
                        &mut prog,
                        progress,
                        &mut new_manifests,
                    )
                    .await?;
                }
                Ok::<(), ServiceError>(())
            };
            let ((), settled) = futures::join!(produce, consume);
            settled?;
            for (run, sha256) in new_manifests {
                if let Ok(content) = self.store().read(&sha256) {
                    self.add_declared(&mut declared, bucket, &prefix, &run, &content);
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
        if !report.cancelled {
            self.record_sync(
                &actor,
                &crate::sync_mark::SyncTally {
                    source: format!("s3://{bucket}/{prefix}"),
                    listed: report.listed,
                    new: report.new,
                    unchanged: report.unchanged,
                    rejected: report.rejected.len() as u64,
                    failed: report.failed.len() as u64,
                },
            );
        }
        if report.new > 0 || !report.rejected.is_empty() {
            // Derive and record the summaries of the runs that changed, so the run list that
            // follows reads them instead of parsing every report.
            let _ = self.runs();
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

/// Most objects put into the store and recorded in one transaction.
const GROUP_COMMIT_MAX: usize = 256;

enum Outcome {
    /// Downloaded and checked; not in the store yet.
    Written(Box<Written>),
    Rejected(String),
    Failed(String),
    Cancelled,
    Fatal(ServiceError),
}

/// A download ready for the store, with the record it will get.
struct Written {
    blob: WrittenBlob,
    object: NewObject,
    metadata: Vec<(String, String)>,
}

/// The stored record that makes a listed object unchanged, if any, and whether it was
/// recognised by size and LastModified alone. An object is unchanged when the newest record
/// of its URI has its version id and ETag (a versioned listing), its ETag and size (a listing
/// without versions), or, when the listing carries no ETag at all, its size and LastModified
/// (to the second: listings give milliseconds, GetObject whole seconds).
fn recognise(
    ledger: &countersign_ledger::Ledger,
    uri: &str,
    listed: &ListedObject,
) -> Result<Option<(ObjectRecord, bool)>, countersign_ledger::LedgerError> {
    match (&listed.version_id, &listed.etag) {
        (Some(version), Some(etag)) => Ok(ledger
            .find_object(uri, Some(version), Some(etag))?
            .map(|r| (r, false))),
        (None, Some(etag)) => Ok(ledger
            .latest_object(uri)?
            .filter(|r| r.etag.as_deref() == Some(etag.as_str()) && r.size == listed.size)
            .map(|r| (r, false))),
        (_, None) => Ok(ledger
            .latest_object(uri)?
            .filter(|r| {
                r.size == listed.size
                    && same_second(r.last_modified.as_deref(), listed.last_modified.as_deref())
            })
            .map(|r| (r, true))),
    }
}

/// Whether two RFC 3339 times fall in the same second (both must be present and readable).
fn same_second(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp())
    };
    match (a.and_then(parse), b.and_then(parse)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

impl Service {
    /// Puts a group of finished downloads into the store together, records them in one
    /// transaction once their bytes are durable, and reports each.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
        &self,
        items: Vec<(Planned, Outcome)>,
        bucket: &str,
        actor: &Actor,
        report: &mut FetchReport,
        prog: &mut FetchProgress,
        progress: &(dyn Fn(&FetchProgress) + Send + Sync),
        new_manifests: &mut Vec<(RunKey, Sha256)>,
    ) -> Result<(), ServiceError> {
        let mut blobs = Vec::new();
        let mut written = Vec::new();
        let mut others = Vec::new();
        for (p, outcome) in items {
            match outcome {
                Outcome::Written(w) => {
                    let Written {
                        blob,
                        object,
                        metadata,
                    } = *w;
                    blobs.push(blob);
                    written.push((p, object, metadata));
                }
                other => others.push((p, other)),
            }
        }
        if !blobs.is_empty() {
            let store = self.store().clone();
            tokio::task::spawn_blocking(move || store.store_batch(blobs))
                .await
                .map_err(|e| {
                    ServiceError::storage(format!("could not put objects into the store: {e}"))
                })?
                .map_err(err::from_store)?;
            let rows: Vec<(&NewObject, &[(String, String)])> =
                written.iter().map(|(_, o, m)| (o, m.as_slice())).collect();
            self.ledger()?
                .add_objects(&rows, actor)
                .map_err(err::from_ledger)?;
        }
        for (p, object, _) in &written {
            report.new += 1;
            report.bytes += object.size;
            if let (Some(run), true) =
                (&p.run, p.listed.key.ends_with(&format!("/{MANIFEST_PATH}")))
            {
                new_manifests.push((run.clone(), object.sha256));
            }
            prog.done += 1;
            prog.new += 1;
            prog.bytes += object.size;
            prog.current_key = Some(p.listed.key.clone());
            progress(prog);
        }
        for (p, outcome) in others {
            let uri = s3_uri(bucket, &p.listed.key);
            match outcome {
                Outcome::Rejected(reason) => {
                    prog.rejected += 1;
                    report.rejected.push(Rejected { uri, reason });
                }
                Outcome::Failed(error) => {
                    prog.failed += 1;
                    report.failed.push(FetchFailure { uri, error });
                }
                Outcome::Cancelled => report.cancelled = true,
                Outcome::Fatal(e) => return Err(e),
                Outcome::Written(_) => {}
            }
            prog.done += 1;
            prog.current_key = Some(p.listed.key.clone());
            progress(prog);
        }
        Ok(())
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
        match writer.finish(expected.as_ref()) {
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
                let object = NewObject {
                    sha256: blob.sha256(),
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
                Ok(Outcome::Written(Box::new(Written {
                    blob,
                    object,
                    metadata: meta.metadata,
                })))
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
