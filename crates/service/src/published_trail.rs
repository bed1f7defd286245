//! `ledger publish`: this desktop's audit trail appended to S3 as date-partitioned JSON Lines,
//! each object written once under Object Lock (COMPLIANCE), for organisation-wide queries
//! (docs/audit-trail-publish.md). The layout and the lines are the core's
//! (`countersign_core::published_trail`); here is the I/O around them.

use countersign_aws::object_lock::{exists, put_compliance_locked, require_object_lock, retention};
use countersign_aws::{s3, AwsContext, AwsSettings};
use countersign_core::layout::S3Location;
use countersign_core::published_findings::{finding_lines, object_body, object_key, STATE_FOLDER};
use countersign_core::published_trail::{
    batches, ledger_folder, published_up_to, LedgerId, TrailBatch, TrailObject, MAX_OBJECT_BYTES,
};
use countersign_ledger::{EventFilter, EventRecord, NewEvent};
use serde::Serialize;
use time::Duration;

use crate::aws_context::caller_actor;
use crate::checkpoint::from_s3;
use crate::error::{self as err, ServiceError};
use crate::{Service, SystemOutcome};

/// Action of the event recording a publication of the audit trail.
pub const TRAIL_PUBLISHED: &str = "ledger.published";
/// Action of the event recording a publication of the systems' qualified state.
pub const STATE_PUBLISHED: &str = "state.published";
/// The largest published object read back: objects are closed at 8 MiB, one entry may add to it.
const MAX_READ_BACK_BYTES: usize = 8 * MAX_OBJECT_BYTES;

/// What `ledger publish` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailPublishRequest {
    /// `s3://BUCKET/PREFIX`; the trail goes under `PREFIX/audit-trail/`.
    pub to: S3Location,
    /// Days of COMPLIANCE retention; defaults to `retention_days` in `<home>/checkpoint.json`.
    pub retention_days: Option<u32>,
    /// Also publish each approved system's qualified state now, under `PREFIX/state/`.
    pub state: bool,
    /// The CloudTrail public key file (name, bytes) the state's digest chain is validated with,
    /// as for `state`; without it no period counts as covered.
    pub trail_public_key: Option<(String, Vec<u8>)>,
}

/// One system's qualified state written by this publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedStateObject {
    /// `s3://bucket/key`.
    pub uri: String,
    /// The system.
    pub system: String,
    /// The verdict published.
    pub verdict: String,
    /// Lines written (the verdict, each change, each gap).
    pub lines: usize,
    /// The object's version id.
    pub version_id: Option<String>,
    /// `COMPLIANCE`.
    pub mode: String,
    /// Retain-until date, RFC 3339, as read back.
    pub retain_until: String,
}

/// One object of the trail written by this publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTrailObject {
    /// `s3://bucket/key`.
    pub uri: String,
    /// The first entry in it.
    pub first: u64,
    /// The last entry in it.
    pub last: u64,
    /// How many entries it holds.
    pub entries: u64,
    /// The object's version id.
    pub version_id: Option<String>,
    /// `COMPLIANCE`.
    pub mode: String,
    /// Retain-until date, RFC 3339, as read back.
    pub retain_until: String,
}

/// The outcome of `ledger publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailPublication {
    /// The ledger's id: the hash of its first entry (hex).
    pub ledger_id: String,
    /// `s3://BUCKET/PREFIX/audit-trail/ledger=<id>/`.
    pub location: String,
    /// The last entry published before this publication (0: none).
    pub previously_published: u64,
    /// Entries written now.
    pub entries: u64,
    /// The first and last entry written now, when any was.
    pub range: Option<(u64, u64)>,
    /// The objects written now.
    pub objects: Vec<PublishedTrailObject>,
    /// Entries not yet published that only record earlier publications: they go out with the
    /// next entries, so that publishing twice in a row writes nothing.
    pub held_back: u64,
    /// The systems' qualified state written now (with `state`).
    pub state: Vec<PublishedStateObject>,
    /// Systems with runs but no approved baseline: no state published for them.
    pub state_not_qualified: Vec<String>,
}

impl Service {
    /// Appends the entries not yet published to `PREFIX/audit-trail/ledger=<id>/` under Object
    /// Lock. The chain must verify first; the bucket must have Object Lock; what was published
    /// is read from the bucket's listing (never from a local note) and its last entry must be
    /// this ledger's entry at that sequence. The publication is recorded as `ledger.published`
    /// with the caller's IAM ARN as actor.
    pub async fn ledger_publish(
        &self,
        aws: &AwsSettings,
        req: &TrailPublishRequest,
    ) -> Result<TrailPublication, ServiceError> {
        let days = self.checkpoint_retention_days(req.retention_days)?;
        let report = self.ledger_verify()?;
        if let Some(problem) = &report.problem {
            return Err(ServiceError::integrity(format!(
                "the audit trail does not verify, so it is not published: {problem}; run `countersign ledger verify` and restore a good backup"
            )));
        }
        let Some((head, _)) = report.head else {
            return Err(ServiceError::bad_input(
                "the audit trail is empty; there is nothing to publish",
            ));
        };
        let first = self
            .ledger()?
            .event_at(1)
            .map_err(err::from_ledger)?
            .ok_or_else(|| ServiceError::integrity("the audit trail has no entry 1"))?;
        let id = LedgerId::of_first_entry(first.hash);
        let loc = &req.to;
        let bucket = loc.bucket.as_str();
        let folder = ledger_folder(loc, &id);
        let ctx = self.aws(aws).await?;
        require_object_lock(&ctx, bucket).await.map_err(from_s3)?;
        let mut out = self
            .publish_trail(&ctx, loc, &folder, &id, head, days)
            .await?;
        if req.state {
            let key = req
                .trail_public_key
                .as_ref()
                .map(|(n, b)| (n.as_str(), b.as_slice()));
            let (written, not_qualified) = self.publish_state(&ctx, loc, &id, key, days).await?;
            out.state = written;
            out.state_not_qualified = not_qualified;
        }
        Ok(out)
    }

    /// The trail part of [`Service::ledger_publish`].
    async fn publish_trail(
        &self,
        ctx: &AwsContext,
        loc: &S3Location,
        folder: &str,
        id: &LedgerId,
        head: u64,
        days: u32,
    ) -> Result<TrailPublication, ServiceError> {
        let published = published_objects(ctx, loc, folder).await?;
        let done = published_up_to(&published).map_err(|e| {
            ServiceError::integrity(format!(
                "{e} (under {}); nothing was written: find out who wrote there",
                loc.uri_of(folder)
            ))
        })?;
        if done > head {
            return Err(ServiceError::integrity(format!(
                "{} holds entries up to {done} but this ledger ends at {head}: it was truncated or restored from an older copy; nothing was written",
                loc.uri_of(folder)
            )));
        }
        if let Some(last) = published.iter().find(|o| o.last == done) {
            self.check_published_end(ctx, loc, folder, last).await?;
        }

        let mut new: Vec<EventRecord> = Vec::new();
        self.ledger()?
            .for_each_event(&EventFilter::all(), |e| {
                if e.event.seq > done {
                    new.push(e);
                }
                Ok(true)
            })
            .map_err(err::from_ledger)?;
        let mut out = TrailPublication {
            ledger_id: id.to_string(),
            location: loc.uri_of(folder),
            previously_published: done,
            entries: 0,
            range: None,
            objects: Vec::new(),
            held_back: 0,
            state: Vec::new(),
            state_not_qualified: Vec::new(),
        };
        if new
            .iter()
            .all(|e| e.event.action == TRAIL_PUBLISHED || e.event.action == STATE_PUBLISHED)
        {
            out.held_back = new.len() as u64;
            return Ok(out);
        }
        let batches = batches(new.iter().map(|e| (&e.event, &e.hash)))
            .map_err(|e| ServiceError::integrity(format!("{e}; nothing was written")))?;
        let retain_until = self.now() + Duration::days(i64::from(days));
        let actor = caller_actor(ctx).await;
        let mut failure = None;
        for batch in &batches {
            match write_object(ctx, loc, folder, batch, retain_until).await {
                Ok(o) => out.objects.push(o),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        out.entries = out.objects.iter().map(|o| o.entries).sum();
        out.range = out
            .objects
            .first()
            .zip(out.objects.last())
            .map(|(a, b)| (a.first, b.last));
        if let Some((from, to)) = out.range {
            let after = serde_json::json!({
                "first": from,
                "last": to,
                "entries": out.entries,
                "objects": out.objects.iter().map(|o| &o.uri).collect::<Vec<_>>(),
                "mode": out.objects.first().map(|o| o.mode.as_str()),
                "retain_until": out.objects.first().map(|o| o.retain_until.as_str()),
            });
            self.ledger()?
                .append(
                    &NewEvent::new(&actor, TRAIL_PUBLISHED, "ledger", out.location.clone())
                        .after(after.to_string()),
                )
                .map_err(err::from_ledger)?;
        }
        match failure {
            None => Ok(out),
            Some(e) => Err(ServiceError::new(
                e.code,
                format!(
                    "{}\n{} of the new entries were published (and recorded); run `countersign ledger publish` again to go on from there",
                    e.message, out.entries
                ),
            )),
        }
    }

    /// Writes each approved system's qualified state, checked now, as one JSON Lines object
    /// under `PREFIX/state/` (COMPLIANCE retention, written once), and records the publication
    /// as `state.published`.
    async fn publish_state(
        &self,
        ctx: &AwsContext,
        loc: &S3Location,
        id: &LedgerId,
        trail_public_key: Option<(&str, &[u8])>,
        days: u32,
    ) -> Result<(Vec<PublishedStateObject>, Vec<String>), ServiceError> {
        let report = self.state(None, trail_public_key)?;
        let retain_until = self.now() + Duration::days(i64::from(days));
        let mut written = Vec::new();
        let mut not_qualified = Vec::new();
        for s in &report.systems {
            let findings = match &s.state {
                SystemOutcome::Qualified { findings, .. } => findings,
                SystemOutcome::NotQualified { .. } => {
                    not_qualified.push(s.system.clone());
                    continue;
                }
            };
            let sha = findings.digest().map_err(|e| {
                ServiceError::storage(format!("the findings could not be encoded: {e}"))
            })?;
            let lines = finding_lines(findings, id, sha);
            let body = object_body(&lines).map_err(|e| {
                ServiceError::storage(format!("the findings could not be encoded: {e}"))
            })?;
            let key = object_key(loc, findings, &sha);
            let uri = loc.uri_of(&key);
            let locked = if exists(ctx, loc.bucket.as_str(), &key)
                .await
                .map_err(from_s3)?
            {
                if read_object(ctx, loc, &key).await? != body {
                    return Err(ServiceError::integrity(format!(
                        "{uri} already exists with other bytes; nothing was overwritten: find out who wrote it"
                    )));
                }
                retention(ctx, loc.bucket.as_str(), &key)
                    .await
                    .map_err(from_s3)?
                    .0
            } else {
                put_compliance_locked(
                    ctx,
                    loc.bucket.as_str(),
                    &key,
                    body,
                    "application/x-ndjson",
                    retain_until,
                )
                .await
                .map_err(from_s3)?
            };
            written.push(PublishedStateObject {
                uri,
                system: s.system.clone(),
                verdict: findings.verdict.kind.as_str().to_owned(),
                lines: lines.len(),
                version_id: locked.version_id,
                mode: locked.mode,
                retain_until: locked.retain_until,
            });
        }
        if !written.is_empty() {
            let actor = caller_actor(ctx).await;
            let after = serde_json::json!({
                "objects": written.iter().map(|o| &o.uri).collect::<Vec<_>>(),
                "verdicts": written.iter().map(|o| format!("{}: {}", o.system, o.verdict)).collect::<Vec<_>>(),
                "public_keys": report.public_keys,
            });
            self.ledger()?
                .append(
                    &NewEvent::new(
                        &actor,
                        STATE_PUBLISHED,
                        "ledger",
                        loc.uri_of(&loc.key(STATE_FOLDER)),
                    )
                    .after(after.to_string()),
                )
                .map_err(err::from_ledger)?;
        }
        Ok((written, not_qualified))
    }

    /// The last published object must end with this ledger's entry at its last sequence: a
    /// ledger that was rolled back and went on differently is refused.
    async fn check_published_end(
        &self,
        ctx: &AwsContext,
        loc: &S3Location,
        folder: &str,
        last: &TrailObject,
    ) -> Result<(), ServiceError> {
        let key = format!("{folder}{}", last.name());
        let uri = loc.uri_of(&key);
        let bytes = read_object(ctx, loc, &key).await?;
        let ours = self
            .ledger()?
            .event_at(last.last)
            .map_err(err::from_ledger)?
            .map(|e| e.hash.to_hex());
        let theirs = last_line_hash(&bytes, last.last);
        if theirs.is_none() || theirs != ours {
            return Err(ServiceError::integrity(format!(
                "{uri} does not end with this ledger's entry {}: the published trail and this ledger differ (a ledger restored from an older copy, or objects written by someone else); nothing was written",
                last.last
            )));
        }
        Ok(())
    }
}

/// The trail objects already under the ledger's folder (other keys are ignored).
async fn published_objects(
    ctx: &AwsContext,
    loc: &S3Location,
    folder: &str,
) -> Result<Vec<TrailObject>, ServiceError> {
    let listed = s3::list(ctx, loc.bucket.as_str(), folder)
        .await
        .map_err(from_s3)?;
    Ok(listed
        .iter()
        .filter_map(|o| o.key.strip_prefix(folder).and_then(TrailObject::parse))
        .collect())
}

/// The hash (hex) of the last line, when it is the entry at `seq`.
fn last_line_hash(bytes: &[u8], seq: u64) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line = text.lines().last()?;
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("seq")?.as_u64()? != seq {
        return None;
    }
    v.get("hash")?.as_str().map(str::to_owned)
}

async fn read_object(
    ctx: &AwsContext,
    loc: &S3Location,
    key: &str,
) -> Result<Vec<u8>, ServiceError> {
    let mut bytes = Vec::new();
    s3::download(ctx, loc.bucket.as_str(), key, |chunk| {
        if bytes.len() + chunk.len() > MAX_READ_BACK_BYTES {
            return Err(format!(
                "{} is larger than {MAX_READ_BACK_BYTES} bytes; it is not an object `ledger publish` wrote",
                loc.uri_of(key)
            ));
        }
        bytes.extend_from_slice(chunk);
        Ok(())
    })
    .await
    .map_err(|e| match e {
        s3::DownloadError::Aws(a) => from_s3(a),
        s3::DownloadError::Sink(s) => ServiceError::integrity(s),
    })?;
    Ok(bytes)
}

/// Writes one object once. An object already at its key (another publication of the same
/// entries that listed the bucket before this one wrote) is taken as written when its bytes are
/// the same and it is under COMPLIANCE retention, and refused otherwise.
async fn write_object(
    ctx: &AwsContext,
    loc: &S3Location,
    folder: &str,
    batch: &TrailBatch,
    retain_until: time::OffsetDateTime,
) -> Result<PublishedTrailObject, ServiceError> {
    let bucket = loc.bucket.as_str();
    let key = format!("{folder}{}", batch.object.name());
    let uri = loc.uri_of(&key);
    let written = |version_id, mode, retain_until| PublishedTrailObject {
        uri: uri.clone(),
        first: batch.object.first,
        last: batch.object.last,
        entries: batch.entries,
        version_id,
        mode,
        retain_until,
    };
    if exists(ctx, bucket, &key).await.map_err(from_s3)? {
        let there = read_object(ctx, loc, &key).await?;
        if there != batch.body {
            return Err(ServiceError::integrity(format!(
                "{uri} already exists with other bytes than this ledger's entries {} to {}; nothing was overwritten: find out who wrote it",
                batch.object.first, batch.object.last
            )));
        }
        let (there, _) = retention(ctx, bucket, &key).await.map_err(from_s3)?;
        if there.mode != "COMPLIANCE" {
            return Err(ServiceError::integrity(format!(
                "{uri} holds this ledger's entries {} to {} but is not under COMPLIANCE retention (mode {:?}); it was not written by `countersign ledger publish`: find out who wrote it",
                batch.object.first, batch.object.last, there.mode
            )));
        }
        return Ok(written(there.version_id, there.mode, there.retain_until));
    }
    let locked = put_compliance_locked(
        ctx,
        bucket,
        &key,
        batch.body.clone(),
        "application/x-ndjson",
        retain_until,
    )
    .await
    .map_err(from_s3)?;
    Ok(written(locked.version_id, locked.mode, locked.retain_until))
}
