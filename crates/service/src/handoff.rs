//! Sign-off hand-off between desktops through S3 (`docs/handoff.md`).
//!
//! `signoff_publish` writes a run's record, the signatures that verify for it and the signers'
//! public keys under `<prefix>/<system>/<phase>/<run-id>/signoff/`, never over a different
//! object. `signoff_fetch` reads them on another desktop and trusts nothing for where it came
//! from: the record's files must equal the receiver's own verified store, every envelope must
//! verify strictly and follow the earlier ones in order, and a signer's key is taken over only
//! as "known from hand-off", visibly, with the IAM ARN it claims to be enrolled to. Every
//! accepted and every rejected item is a ledger event.

use std::collections::{BTreeMap, BTreeSet};

use countersign_aws::s3::{self, DownloadError, Upload};
use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::digest::Sha256;
use countersign_core::layout::{check_relative_key, normalise_prefix, SIGNOFF_DIR};
use countersign_core::run_record::{
    RecordDisposition, RecordFile, RunRecord, RUN_RECORD_SCHEMA_V1,
};
use countersign_core::signature::dsse::canonical_json;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::verify::{verify_envelope, EnrolledKey, Outcome, RecordRef};
use countersign_core::signature::VerifyingKey;
use countersign_ledger::{
    Actor, EventClass, EventFilter, NewEnrollment, NewEvent, NewSignature, SignerKeyRecord,
    KEY_ENROLLED,
};
use serde::{Deserialize, Serialize};

use crate::error::{self as err, ErrorCode, ServiceError};
use crate::fetch::caller_identity;
use crate::signing::outcome_text;
use crate::Service;

/// A sign-off was published to S3.
pub const SIGNOFF_PUBLISHED: &str = "signoff.published";
/// A published record was taken over (its dispositions, covered by a verified signature).
pub const SIGNOFF_RECORD_ACCEPTED: &str = "signoff.record_accepted";
/// A signer key was taken over from a hand-off ("known from hand-off", not enrolled here).
pub const SIGNOFF_KEY_ACCEPTED: &str = "signoff.key_accepted";
/// A signature from a hand-off verified and was recorded.
pub const SIGNOFF_SIGNATURE_ACCEPTED: &str = "signoff.signature_accepted";
/// An item of a hand-off was refused (the reason says exactly why).
pub const SIGNOFF_REJECTED: &str = "signoff.rejected";

/// The `format` of a published key document.
pub const SIGNOFF_KEY_FORMAT: &str = "countersign.signoff-key/v1";

const RECORD_FILE: &str = "record.json";
const MAX_RECORD_BYTES: u64 = 64 << 20;
const MAX_ENVELOPE_BYTES: u64 = 1 << 20;
const MAX_KEY_BYTES: u64 = 64 << 10;
const MAX_LOCK_DAYS: u32 = 36_500;

/// A signer's public key and enrollment facts as the publisher's ledger holds them
/// (`countersign.signoff-key/v1`, RFC 8785 canonical JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffKey {
    /// Always [`SIGNOFF_KEY_FORMAT`].
    pub format: String,
    /// 32 hex; must be the key id of `public_key`.
    pub key_id: String,
    /// The ed25519 public key, 64 hex.
    pub public_key: String,
    /// The IAM ARN the key is enrolled to (from STS GetCallerIdentity at enrollment).
    pub iam_arn: String,
    /// The AWS account of that identity.
    pub account: String,
    /// The printed name the key is enrolled with.
    pub printed_name: String,
    /// The MFA device of the enrollment session.
    pub mfa_serial: String,
    /// When the key was enrolled, UTC.
    pub enrolled_at: String,
}

/// Where a sign-off lives: `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignoffLocation {
    /// The bucket.
    pub bucket: String,
    /// The prefix (may be empty).
    pub prefix: String,
}

impl std::str::FromStr for SignoffLocation {
    type Err = ServiceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("s3://").ok_or_else(|| {
            ServiceError::bad_input(format!(
                "{s:?} is not an S3 location; write it as s3://BUCKET/PREFIX"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(ServiceError::bad_input(format!(
                "{bucket:?} is not an S3 bucket name (3-63 characters of a-z, 0-9, '-' and '.'); write the location as s3://BUCKET/PREFIX"
            )));
        }
        let prefix = normalise_prefix(prefix);
        if !prefix.is_empty() {
            check_relative_key(prefix.trim_end_matches('/')).map_err(|e| {
                ServiceError::bad_input(format!("the prefix of {s} is not usable: {e}"))
            })?;
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

/// What `signoff publish` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// The run.
    pub run: String,
    /// Where to.
    pub to: SignoffLocation,
    /// Object Lock COMPLIANCE retention for the objects written, in days.
    pub object_lock_days: Option<u32>,
}

/// One object of a published sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedObject {
    /// `s3://bucket/key`.
    pub uri: String,
    /// SHA-256 of its bytes.
    pub sha256: Sha256,
    /// `written`, or `unchanged` (the same bytes were already there).
    pub status: String,
    /// The S3 version id of a written object.
    pub version_id: Option<String>,
}

/// A published sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// `s3://bucket/prefix/<run>/signoff/`.
    pub location: String,
    /// The record digest.
    pub record_sha256: Sha256,
    /// Every object, written or already there.
    pub objects: Vec<PublishedObject>,
    /// Signatures on file that were not published because they do not verify for the
    /// current record (envelope digest and outcome).
    pub not_published: Vec<(Sha256, String)>,
    /// Object Lock COMPLIANCE retention of the written objects, UTC.
    pub retain_until: Option<String>,
}

/// What `signoff fetch` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSignoffRequest {
    /// The run (already fetched into this home).
    pub run: String,
    /// Where from.
    pub from: SignoffLocation,
}

/// One item of a fetched sign-off and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoffItem {
    /// `record`, `key` or `signature`.
    pub kind: String,
    /// `s3://bucket/key`.
    pub uri: String,
    /// `accepted`, `already_recorded`, `known` (a key this home already holds), `unused` (a
    /// key no accepted signature needs) or `rejected`.
    pub status: String,
    /// The verification outcome code for signatures (`valid`, `bad_signature`, …), or the
    /// refusal kind (`digest_mismatch`, `record_mismatch`, `malformed`, `out_of_order`, …).
    pub outcome: Option<String>,
    /// Why, in words, when rejected; what was taken over otherwise.
    pub detail: String,
}

/// A fetched sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchSignoffReport {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// `s3://bucket/prefix/<run>/signoff/`.
    pub location: String,
    /// The digest of the published record, when it could be read.
    pub published_record_sha256: Option<Sha256>,
    /// This home's record digest after the fetch.
    pub local_record_sha256: Sha256,
    /// True when this home's record is the published one: a countersignature covers the
    /// same bytes as the signatures fetched.
    pub same_record: bool,
    /// Every item, in the order it was checked.
    pub items: Vec<HandoffItem>,
}

impl FetchSignoffReport {
    /// The rejected items.
    pub fn rejected(&self) -> impl Iterator<Item = &HandoffItem> {
        self.items.iter().filter(|i| i.status == "rejected")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The object keys of a sign-off, relative to its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Record,
    Signature { n: u32, sha256: String },
    Key { key_id: String },
}

/// Reads a key relative to the sign-off folder; `None` when it is not one of ours.
fn entry(rel: &str) -> Option<Entry> {
    if rel == RECORD_FILE {
        return Some(Entry::Record);
    }
    if let Some(name) = rel.strip_prefix("signatures/") {
        let stem = name.strip_suffix(".dsse.json")?;
        let (n, sha) = stem.split_once('-')?;
        let n_ok = !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit());
        let n: u32 = n.parse().ok().filter(|n| *n >= 1 && n_ok)?;
        return is_hex(sha, 64).then(|| Entry::Signature {
            n,
            sha256: sha.to_owned(),
        });
    }
    if let Some(name) = rel.strip_prefix("keys/") {
        let id = name.strip_suffix(".json")?;
        return is_hex(id, 32).then(|| Entry::Key {
            key_id: id.to_owned(),
        });
    }
    None
}

fn signature_key(n: u32, sha: &Sha256) -> String {
    format!("signatures/{n:04}-{}.dsse.json", sha.to_hex())
}

/// The first difference between the published record's files and this home's, in words.
fn files_difference(published: &[RecordFile], local: &[RecordFile]) -> Option<String> {
    let theirs: BTreeMap<&str, &RecordFile> =
        published.iter().map(|f| (f.path.as_str(), f)).collect();
    let ours: BTreeMap<&str, &RecordFile> = local.iter().map(|f| (f.path.as_str(), f)).collect();
    for (path, t) in &theirs {
        match ours.get(path) {
            None => {
                return Some(format!(
                    "the published record lists {path} (sha256 {}), which this desktop's verified store does not hold for the run; fetch the run again",
                    t.sha256.to_hex()
                ))
            }
            Some(o) if o.sha256 != t.sha256 => {
                return Some(format!(
                    "{path}: the published record has sha256 {}, this desktop's verified store {}",
                    t.sha256.to_hex(),
                    o.sha256.to_hex()
                ))
            }
            Some(o) if o.uri != t.uri || o.version_id != t.version_id => {
                return Some(format!(
                    "{path}: the published record names {} (version {}), this desktop fetched it from {} (version {})",
                    t.uri,
                    t.version_id.as_deref().unwrap_or("none"),
                    o.uri,
                    o.version_id.as_deref().unwrap_or("none")
                ))
            }
            Some(_) => {}
        }
    }
    ours.keys()
        .find(|p| !theirs.contains_key(*p))
        .map(|p| format!("this desktop's run has {p}, which the published record does not list"))
}

struct Fetching<'a> {
    service: &'a Service,
    run_id: String,
    location: String,
    actor: Actor,
    items: Vec<HandoffItem>,
}

impl Fetching<'_> {
    fn uri(&self, rel: &str) -> String {
        format!("{}{rel}", self.location)
    }

    /// Records and reports a refused item.
    fn reject(
        &mut self,
        kind: &str,
        rel: &str,
        outcome: &str,
        detail: String,
    ) -> Result<(), ServiceError> {
        let uri = self.uri(rel);
        let after = serde_json::json!({ "item": kind, "uri": uri, "outcome": outcome }).to_string();
        self.service
            .ledger()?
            .append(
                &NewEvent::new(&self.actor, SIGNOFF_REJECTED, "run", self.run_id.clone())
                    .after(after)
                    .reason(detail.clone())
                    .class(EventClass::Rejection),
            )
            .map_err(err::from_ledger)?;
        self.items.push(HandoffItem {
            kind: kind.into(),
            uri,
            status: "rejected".into(),
            outcome: Some(outcome.into()),
            detail,
        });
        Ok(())
    }

    fn note(&mut self, kind: &str, rel: &str, status: &str, outcome: Option<&str>, detail: String) {
        let uri = self.uri(rel);
        self.items.push(HandoffItem {
            kind: kind.into(),
            uri,
            status: status.into(),
            outcome: outcome.map(str::to_owned),
            detail,
        });
    }
}

fn download_error(e: DownloadError) -> ServiceError {
    match e {
        DownloadError::Aws(a) => ServiceError::from(a),
        DownloadError::Sink(s) => ServiceError::integrity(s),
    }
}

impl Service {
    /// Keys taken over from hand-offs: key id → the key document as received.
    pub(crate) fn handoff_keys(&self) -> Result<BTreeMap<String, (String, Vec<u8>)>, ServiceError> {
        let events = self
            .ledger()?
            .events(&EventFilter {
                action: Some(SIGNOFF_KEY_ACCEPTED.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let mut out = BTreeMap::new();
        for e in events {
            let Some(v) = e
                .event
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            else {
                continue;
            };
            let source = v.get("uri").and_then(|s| s.as_str()).unwrap_or_default();
            let doc = v
                .get("document")
                .and_then(|s| s.as_str())
                .unwrap_or_default();
            out.entry(e.event.object_id.clone())
                .or_insert_with(|| (source.to_owned(), doc.as_bytes().to_vec()));
        }
        Ok(out)
    }

    /// Dispositions taken over from accepted hand-off records of `run_key`, with the event
    /// that accepted them.
    pub(crate) fn handoff_dispositions(
        &self,
        run_key: &str,
    ) -> Result<Vec<(RecordDisposition, u64)>, ServiceError> {
        let events = self
            .ledger()?
            .events(&EventFilter {
                action: Some(SIGNOFF_RECORD_ACCEPTED.into()),
                object_kind: Some("run".into()),
                object_id: Some(run_key.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let mut out = Vec::new();
        for e in events {
            let list = e
                .event
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                .and_then(|v| v.get("dispositions").cloned())
                .and_then(|d| serde_json::from_value::<Vec<RecordDisposition>>(d).ok())
                .ok_or_else(|| {
                    ServiceError::integrity(format!(
                        "ledger entry {} ({SIGNOFF_RECORD_ACCEPTED}) does not carry its dispositions",
                        e.event.seq
                    ))
                })?;
            out.extend(list.into_iter().map(|d| (d, e.event.seq)));
        }
        Ok(out)
    }

    /// The key document this home publishes for `key`: the one received, for a key known
    /// from a hand-off; otherwise built from the enrollment.
    fn key_document(
        &self,
        key: &SignerKeyRecord,
        from_handoff: &BTreeMap<String, (String, Vec<u8>)>,
    ) -> Result<Vec<u8>, ServiceError> {
        if let Some((_, doc)) = from_handoff.get(&key.key_id) {
            return Ok(doc.clone());
        }
        let enrolled = self
            .ledger()?
            .events(&EventFilter {
                action: Some(KEY_ENROLLED.into()),
                object_id: Some(key.key_id.clone()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let facts: serde_json::Value = enrolled
            .last()
            .and_then(|e| e.event.after.as_deref())
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let text = |k: &str| {
            facts
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let doc = SignoffKey {
            format: SIGNOFF_KEY_FORMAT.into(),
            key_id: key.key_id.clone(),
            public_key: hex(&key.public_key),
            iam_arn: key.iam_arn.clone(),
            account: text("account"),
            printed_name: key.printed_name.clone(),
            mfa_serial: text("mfa_serial"),
            enrolled_at: key.enrolled_at.clone(),
        };
        canonical_json(&doc)
            .map_err(|e| ServiceError::integrity(format!("could not encode the key: {}", e.detail)))
    }

    /// Publishes a run's sign-off, loading AWS settings.
    pub async fn signoff_publish(
        &self,
        aws: &AwsSettings,
        req: &PublishRequest,
    ) -> Result<PublishReport, ServiceError> {
        let ctx = AwsContext::load(aws).await?;
        self.signoff_publish_with(&ctx, req, time::OffsetDateTime::now_utc())
            .await
    }

    /// Publishes the run's record, the signatures that verify for it and their signers' keys
    /// to `<prefix>/<run>/signoff/`. Nothing is written over a different object: every
    /// object is compared first, and then written only if absent.
    pub async fn signoff_publish_with(
        &self,
        ctx: &AwsContext,
        req: &PublishRequest,
        now: time::OffsetDateTime,
    ) -> Result<PublishReport, ServiceError> {
        let retain_until = match req.object_lock_days {
            None => None,
            Some(d) if (1..=MAX_LOCK_DAYS).contains(&d) => {
                Some(now + time::Duration::days(i64::from(d)))
            }
            Some(d) => {
                return Err(ServiceError::bad_input(format!(
                    "--object-lock-days {d}: use 1 to {MAX_LOCK_DAYS} days"
                )))
            }
        };
        let rc = self.record_context(&req.run)?;
        let run_id = rc.view.summary.id.clone();
        let name = RunRecord::subject_name(&rc.view.run.key);
        let record_bytes = rc.record.canonical_bytes().map_err(|e| {
            ServiceError::integrity(format!("the record could not be encoded: {}", e.detail))
        })?;
        let record_sha256 = Sha256::of(&record_bytes);
        let registry = self.key_registry()?;
        let keys = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let rows = self
            .ledger()?
            .signatures_of("run", &run_id)
            .map_err(err::from_ledger)?;
        let from_handoff = self.handoff_keys()?;

        let base = format!("{}{}/{SIGNOFF_DIR}/", req.to.prefix, rc.view.run.key);
        let mut objects: Vec<(String, Vec<u8>, &'static str)> = Vec::new();
        let mut not_published = Vec::new();
        let mut key_ids = BTreeSet::new();
        let mut n = 0u32;
        let mut sig_objects = Vec::new();
        for r in &rows {
            let outcome = verify_envelope(
                &r.envelope,
                &RecordRef {
                    name: &name,
                    sha256: record_sha256,
                },
                &registry,
            );
            let sha = Sha256::of(&r.envelope);
            if !outcome.is_valid() {
                not_published.push((sha, outcome.code().to_owned()));
                continue;
            }
            n += 1;
            key_ids.insert(r.key_id.clone());
            sig_objects.push((
                format!("{base}{}", signature_key(n, &sha)),
                r.envelope.clone(),
                "application/vnd.dsse.envelope.v1+json",
            ));
        }
        if n == 0 {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "run {run_id} has no signature that verifies for its current record (sha256 {}); sign it first (`countersign sign`)",
                    record_sha256.to_hex()
                ),
            ));
        }
        for id in &key_ids {
            let key = keys.iter().find(|k| &k.key_id == id).ok_or_else(|| {
                ServiceError::integrity(format!("the signing key {id} is not in the ledger"))
            })?;
            objects.push((
                format!("{base}keys/{id}.json"),
                self.key_document(key, &from_handoff)?,
                "application/json",
            ));
        }
        objects.push((
            format!("{base}{RECORD_FILE}"),
            record_bytes,
            "application/json",
        ));
        objects.extend(sig_objects);

        // First compare everything, so a conflict writes nothing.
        let bucket = req.to.bucket.as_str();
        let mut present = BTreeSet::new();
        for (key, body, _) in &objects {
            check_relative_key(key).map_err(|e| {
                ServiceError::bad_input(format!("refusing to publish to an unsafe key: {e}"))
            })?;
            let limit = body.len() as u64 + 1;
            match s3::get_small(ctx, bucket, key, limit).await {
                Ok(None) => {}
                Ok(Some((existing, _))) if &existing == body => {
                    present.insert(key.clone());
                }
                Ok(Some((existing, _))) => {
                    return Err(ServiceError::new(
                        ErrorCode::Refused,
                        format!(
                            "s3://{bucket}/{key} already holds other bytes (sha256 {}, this desktop's are {}); a published sign-off is never overwritten: {}",
                            Sha256::of(&existing).to_hex(),
                            Sha256::of(body).to_hex(),
                            if key.ends_with(RECORD_FILE) {
                                "the run's record changed since it was published (a file or disposition differs), so its earlier signatures do not cover this one; publish to another prefix or settle the difference first"
                            } else {
                                "publish to another prefix"
                            }
                        ),
                    ))
                }
                Err(DownloadError::Sink(_)) => {
                    return Err(ServiceError::new(
                        ErrorCode::Refused,
                        format!("s3://{bucket}/{key} already holds a larger, different object; a published sign-off is never overwritten"),
                    ))
                }
                Err(e) => return Err(download_error(e)),
            }
        }
        let mut report = PublishReport {
            run: run_id.clone(),
            location: format!("s3://{bucket}/{base}"),
            record_sha256,
            objects: Vec::new(),
            not_published,
            retain_until: retain_until
                .map(|t| countersign_core::signature::predicate::UtcTimestamp::new(t).to_string()),
        };
        for (key, body, content_type) in objects {
            let sha256 = Sha256::of(&body);
            let uri = format!("s3://{bucket}/{key}");
            if present.contains(&key) {
                report.objects.push(PublishedObject {
                    uri,
                    sha256,
                    status: "unchanged".into(),
                    version_id: None,
                });
                continue;
            }
            let meta = s3::put_if_absent(
                ctx,
                bucket,
                Upload {
                    key: &key,
                    body,
                    content_type: Some(content_type),
                    metadata: &[],
                },
                retain_until,
            )
            .await
            .map_err(|e| {
                if e.code.as_deref() == Some("PreconditionFailed") {
                    ServiceError::new(
                        ErrorCode::Refused,
                        format!("{uri} was written by someone else while publishing; run the publish again to compare"),
                    )
                } else {
                    ServiceError::from(e)
                }
            })?;
            report.objects.push(PublishedObject {
                uri,
                sha256,
                status: "written".into(),
                version_id: meta.version_id,
            });
        }
        let actor = match caller_identity(ctx).await {
            Some(arn) => Actor {
                arn: Some(arn),
                printed_name: None,
            },
            None => Actor::system(),
        };
        let after = serde_json::json!({
            "location": report.location,
            "record_sha256": record_sha256.to_hex(),
            "signatures": n,
            "written": report.objects.iter().filter(|o| o.status == "written").map(|o| &o.uri).collect::<Vec<_>>(),
            "retain_until": report.retain_until,
        })
        .to_string();
        self.ledger()?
            .append(&NewEvent::new(&actor, SIGNOFF_PUBLISHED, "run", run_id).after(after))
            .map_err(err::from_ledger)?;
        Ok(report)
    }

    /// Fetches a run's sign-off, loading AWS settings.
    pub async fn signoff_fetch(
        &self,
        aws: &AwsSettings,
        req: &FetchSignoffRequest,
    ) -> Result<FetchSignoffReport, ServiceError> {
        let ctx = AwsContext::load(aws).await?;
        self.signoff_fetch_with(&ctx, req).await
    }

    /// Fetches a run's sign-off and verifies every item against this home: the record's files
    /// against the verified store, each envelope strictly (with the signers' keys as known
    /// here, or taken over as "known from hand-off"), and the signing order. Accepted
    /// signatures are recorded; every refusal is an event and an item with its reason.
    pub async fn signoff_fetch_with(
        &self,
        ctx: &AwsContext,
        req: &FetchSignoffRequest,
    ) -> Result<FetchSignoffReport, ServiceError> {
        let rc = self.record_context(&req.run)?;
        let run_key = rc.view.run.key.clone();
        let run_id = rc.view.summary.id.clone();
        let name = RunRecord::subject_name(&run_key);
        let bucket = req.from.bucket.as_str();
        let base = format!("{}{run_key}/{SIGNOFF_DIR}/", req.from.prefix);
        let actor = match caller_identity(ctx).await {
            Some(arn) => Actor {
                arn: Some(arn),
                printed_name: None,
            },
            None => Actor::system(),
        };
        let mut f = Fetching {
            service: self,
            run_id: run_id.clone(),
            location: format!("s3://{bucket}/{base}"),
            actor: actor.clone(),
            items: Vec::new(),
        };

        let listing = s3::list(ctx, bucket, &base).await?;
        let mut record_key = None;
        let mut sigs: Vec<(u32, String, String)> = Vec::new();
        let mut key_files: Vec<(String, String)> = Vec::new();
        for obj in &listing {
            let Some(rel) = obj.key.strip_prefix(&base) else {
                continue;
            };
            if let Err(e) = check_relative_key(rel) {
                f.reject(
                    "object",
                    rel,
                    "unsafe_key",
                    format!("unsafe object key: {e}"),
                )?;
                continue;
            }
            match entry(rel) {
                Some(Entry::Record) => record_key = Some(rel.to_owned()),
                Some(Entry::Signature { n, sha256 }) => sigs.push((n, sha256, rel.to_owned())),
                Some(Entry::Key { key_id }) => key_files.push((key_id, rel.to_owned())),
                None => f.reject(
                    "object",
                    rel,
                    "unexpected",
                    "not part of a sign-off (record.json, signatures/<n>-<sha256>.dsse.json, keys/<key-id>.json); ignored".into(),
                )?,
            }
        }
        let Some(record_rel) = record_key else {
            return Err(ServiceError::not_found(format!(
                "no sign-off at {}: {RECORD_FILE} is missing; the previous signer publishes it with `countersign signoff publish {run_id} --to s3://{bucket}/{}`",
                f.location, req.from.prefix
            )));
        };

        // The record: canonical, this run, the same files as the verified store.
        let (record_bytes, _) = s3::get_small(
            ctx,
            bucket,
            &format!("{base}{record_rel}"),
            MAX_RECORD_BYTES,
        )
        .await
        .map_err(download_error)?
        .ok_or_else(|| {
            ServiceError::not_found(format!("{} vanished while fetching", f.uri(&record_rel)))
        })?;
        let published_sha = Sha256::of(&record_bytes);
        let parsed = match serde_json::from_slice::<RunRecord>(&record_bytes) {
            Ok(r) => r,
            Err(e) => {
                f.reject(
                    "record",
                    &record_rel,
                    "malformed",
                    format!("not a run record: {e}"),
                )?;
                return self.finish(f, &req.run, Some(published_sha));
            }
        };
        let problem = if parsed.schema != RUN_RECORD_SCHEMA_V1 {
            Some((
                "unsupported_version",
                format!(
                    "record schema {:?}, expected {RUN_RECORD_SCHEMA_V1}",
                    parsed.schema
                ),
            ))
        } else if canonical_json(&parsed).ok().as_deref() != Some(record_bytes.as_slice()) {
            Some((
                "malformed",
                "the record is not in RFC 8785 canonical form (or has members v1 does not define)"
                    .to_owned(),
            ))
        } else if parsed.run != run_key.to_string() {
            Some((
                "record_mismatch",
                format!("the record is for run {}, not {run_key}", parsed.run),
            ))
        } else {
            files_difference(&parsed.files, &rc.record.files)
                .map(|d| ("record_mismatch", format!("record digest mismatch: {d}")))
        };
        if let Some((outcome, detail)) = problem {
            f.reject("record", &record_rel, outcome, detail)?;
            return self.finish(f, &req.run, Some(published_sha));
        }

        // Keys: self-consistent, and consistent with what this home already knows.
        let local_keys = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let mut registry = self.key_registry()?;
        let mut candidates: BTreeMap<String, (SignoffKey, Vec<u8>, String)> = BTreeMap::new();
        for (key_id, rel) in &key_files {
            let bytes =
                match s3::get_small(ctx, bucket, &format!("{base}{rel}"), MAX_KEY_BYTES).await {
                    Ok(Some((b, _))) => b,
                    Ok(None) => continue,
                    Err(DownloadError::Sink(s)) => {
                        f.reject("key", rel, "malformed", s)?;
                        continue;
                    }
                    Err(e) => return Err(download_error(e)),
                };
            match check_key_document(&bytes, key_id) {
                Err(detail) => f.reject("key", rel, "malformed", detail)?,
                Ok((doc, pk)) => match local_keys.iter().find(|k| &k.key_id == key_id) {
                    Some(k) if k.public_key == pk
                        && k.iam_arn.eq_ignore_ascii_case(&doc.iam_arn)
                        && k.printed_name == doc.printed_name =>
                    {
                        f.note("key", rel, "known", None, format!(
                            "{} ({}) is already known here", doc.printed_name, doc.iam_arn
                        ));
                    }
                    Some(k) => f.reject("key", rel, "key_conflict", format!(
                        "the key {key_id} is known here as {} ({}); the hand-off binds it to {} ({}); a key is never re-bound",
                        k.printed_name, k.iam_arn, doc.printed_name, doc.iam_arn
                    ))?,
                    None => {
                        if let Ok(vk) = VerifyingKey::from_bytes(&pk) {
                            registry.insert(EnrolledKey {
                                public_key: vk,
                                iam_arn: doc.iam_arn.clone(),
                                printed_name: doc.printed_name.clone(),
                                revoked: false,
                            });
                            candidates.insert(key_id.clone(), (doc, bytes, rel.clone()));
                        } else {
                            f.reject("key", rel, "malformed", "not a valid ed25519 public key".into())?;
                        }
                    }
                },
            }
        }

        // Signatures, in signing order: each must verify for the published record and follow
        // exactly the signatures accepted before it.
        sigs.sort();
        let already: BTreeSet<Sha256> = self
            .ledger()?
            .signatures_of("run", &run_id)
            .map_err(err::from_ledger)?
            .iter()
            .map(|r| Sha256::of(&r.envelope))
            .collect();
        let mut chain: Vec<Sha256> = Vec::new();
        let mut covered = false;
        let mut imported_keys = BTreeSet::new();
        for (_, named_sha, rel) in &sigs {
            let bytes =
                match s3::get_small(ctx, bucket, &format!("{base}{rel}"), MAX_ENVELOPE_BYTES).await
                {
                    Ok(Some((b, _))) => b,
                    Ok(None) => continue,
                    Err(DownloadError::Sink(s)) => {
                        f.reject("signature", rel, "malformed", s)?;
                        continue;
                    }
                    Err(e) => return Err(download_error(e)),
                };
            let sha = Sha256::of(&bytes);
            if &sha.to_hex() != named_sha {
                f.reject("signature", rel, "digest_mismatch", format!(
                    "the file name says envelope {named_sha}, its bytes hash to {}; the envelope was altered after publishing",
                    sha.to_hex()
                ))?;
                continue;
            }
            let outcome = verify_envelope(
                &bytes,
                &RecordRef {
                    name: &name,
                    sha256: published_sha,
                },
                &registry,
            );
            let Outcome::Valid(v) = &outcome else {
                f.reject("signature", rel, outcome.code(), outcome_text(&outcome))?;
                continue;
            };
            if v.envelope_sha256 != sha {
                f.reject(
                    "signature",
                    rel,
                    "malformed",
                    "the envelope is not in canonical form".into(),
                )?;
                continue;
            }
            let follows = &v.statement.predicate.follows;
            if follows != &chain {
                f.reject("signature", rel, "out_of_order", format!(
                    "it follows {} earlier signature(s), but the {} accepted before it are different; a signature must follow every earlier one in order",
                    follows.len(), chain.len()
                ))?;
                continue;
            }
            let p = &v.statement.predicate;
            if already.contains(&sha) {
                chain.push(sha);
                covered = true;
                f.note(
                    "signature",
                    rel,
                    "already_recorded",
                    Some("valid"),
                    format!(
                        "{} by {} ({}) is already on file",
                        p.meaning, p.printed_name, p.iam_arn
                    ),
                );
                continue;
            }
            let key_id = v.key_id.to_hex();
            if let Some((doc, doc_bytes, key_rel)) = candidates.get(&key_id) {
                if !imported_keys.contains(&key_id) {
                    if let Err(detail) = self.import_key(&f, doc, doc_bytes, key_rel, &actor) {
                        f.reject("key", &key_rel.clone(), "key_conflict", detail.clone())?;
                        f.reject(
                            "signature",
                            rel,
                            "unknown_key",
                            format!("its key could not be taken over: {detail}"),
                        )?;
                        continue;
                    }
                    imported_keys.insert(key_id.clone());
                    f.note("key", &key_rel.clone(), "accepted", None, format!(
                        "known from hand-off: {} ({}, account {}), enrolled by the publisher at {} with MFA device {}; not enrolled on this desktop",
                        doc.printed_name, doc.iam_arn, doc.account, doc.enrolled_at, doc.mfa_serial
                    ));
                }
            }
            let uri = f.uri(rel);
            let after = serde_json::json!({
                "uri": uri,
                "envelope_sha256": sha.to_hex(),
                "key_id": key_id,
                "meaning": p.meaning.as_str(),
                "outcome": "valid",
            })
            .to_string();
            let signer = Actor::person(p.iam_arn.clone(), p.printed_name.clone());
            {
                let mut ledger = self.ledger()?;
                ledger
                    .append(
                        &NewEvent::new(&actor, SIGNOFF_SIGNATURE_ACCEPTED, "run", run_id.clone())
                            .after(after),
                    )
                    .map_err(err::from_ledger)?;
                ledger
                    .record_signature(
                        &NewSignature {
                            subject_kind: "run".into(),
                            subject_id: run_id.clone(),
                            subject_sha256: published_sha.to_hex(),
                            meaning: p.meaning.as_str().to_owned(),
                            key_id: key_id.clone(),
                            printed_name: p.printed_name.clone(),
                            signed_at: p.signed_at.to_string(),
                            utc_offset: p.utc_offset.to_string(),
                            envelope: bytes.clone(),
                            envelope_sha256: sha.to_hex(),
                            reason: p.reason.clone(),
                        },
                        &signer,
                    )
                    .map_err(err::from_ledger)?;
            }
            chain.push(sha);
            covered = true;
            f.note(
                "signature",
                rel,
                "accepted",
                Some("valid"),
                format!(
                    "{} by {} ({}) at {}",
                    p.meaning, p.printed_name, p.iam_arn, p.signed_at
                ),
            );
        }
        for (key_id, (_, _, rel)) in &candidates {
            if !imported_keys.contains(key_id) {
                f.note(
                    "key",
                    rel,
                    "unused",
                    None,
                    "no accepted signature needs this key; not taken over".into(),
                );
            }
        }

        // The record's dispositions are taken over only under a signature that verified for it.
        if covered {
            let accepted_before = self.handoff_record_accepted(&run_id, &published_sha)?;
            if !accepted_before {
                let after = serde_json::json!({
                    "uri": f.uri(&record_rel),
                    "record_sha256": published_sha.to_hex(),
                    "dispositions": parsed.dispositions,
                })
                .to_string();
                self.ledger()?
                    .append(
                        &NewEvent::new(&actor, SIGNOFF_RECORD_ACCEPTED, "run", run_id.clone())
                            .after(after),
                    )
                    .map_err(err::from_ledger)?;
            }
            f.note("record", &record_rel, if accepted_before { "already_recorded" } else { "accepted" }, None, format!(
                "{} files match this desktop's verified store; {} disposition(s) taken over under the verified signatures",
                parsed.files.len(), parsed.dispositions.len()
            ));
        } else {
            f.reject("record", &record_rel, "unsigned", "no signature in the hand-off verifies for this record; its dispositions are not taken over".into())?;
        }
        self.finish(f, &req.run, Some(published_sha))
    }

    fn handoff_record_accepted(&self, run_id: &str, sha: &Sha256) -> Result<bool, ServiceError> {
        let events = self
            .ledger()?
            .events(&EventFilter {
                action: Some(SIGNOFF_RECORD_ACCEPTED.into()),
                object_kind: Some("run".into()),
                object_id: Some(run_id.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let hex = sha.to_hex();
        Ok(events.iter().any(|e| {
            e.event
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                .and_then(|v| {
                    v.get("record_sha256")
                        .and_then(|s| s.as_str())
                        .map(|s| s == hex)
                })
                .unwrap_or(false)
        }))
    }

    /// Takes a key over as "known from hand-off": the provenance event first, then the key's
    /// row (so a key is never in the registry without its provenance).
    fn import_key(
        &self,
        f: &Fetching<'_>,
        doc: &SignoffKey,
        doc_bytes: &[u8],
        rel: &str,
        actor: &Actor,
    ) -> Result<(), String> {
        let pk = unhex32(&doc.public_key).ok_or("the public key is not 64 hex")?;
        let after = serde_json::json!({
            "uri": f.uri(rel),
            "document": String::from_utf8_lossy(doc_bytes),
            "iam_arn": doc.iam_arn,
            "printed_name": doc.printed_name,
        })
        .to_string();
        let mut ledger = self.ledger().map_err(|e| e.message)?;
        ledger
            .append(
                &NewEvent::new(actor, SIGNOFF_KEY_ACCEPTED, "key", doc.key_id.clone())
                    .after(after)
                    .reason(format!(
                        "known from hand-off {}: the publisher's ledger binds it to {}",
                        f.uri(rel),
                        doc.iam_arn
                    ))
                    .class(EventClass::Change),
            )
            .map_err(|e| e.to_string())?;
        ledger
            .enroll_signer_key(
                &NewEnrollment {
                    key_id: doc.key_id.clone(),
                    public_key: pk,
                    iam_arn: doc.iam_arn.clone(),
                    account: doc.account.clone(),
                    printed_name: doc.printed_name.clone(),
                    mfa_serial: doc.mfa_serial.clone(),
                },
                // The binding replicated is the publisher's enrollment of that person; who
                // brought it here is the actor of the `signoff.key_accepted` event above.
                &Actor::person(doc.iam_arn.clone(), doc.printed_name.clone()),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn finish(
        &self,
        f: Fetching<'_>,
        run: &str,
        published: Option<Sha256>,
    ) -> Result<FetchSignoffReport, ServiceError> {
        let local = self.record_context(run)?.record.digest().map_err(|e| {
            ServiceError::integrity(format!("the record could not be encoded: {}", e.detail))
        })?;
        Ok(FetchSignoffReport {
            run: f.run_id,
            location: f.location,
            published_record_sha256: published,
            local_record_sha256: local,
            same_record: published == Some(local),
            items: f.items,
        })
    }
}

/// Checks a published key document: canonical, v1, its key id that of its public key and of
/// its file name, an ARN in the account it names, names not blank.
fn check_key_document(bytes: &[u8], file_key_id: &str) -> Result<(SignoffKey, [u8; 32]), String> {
    let doc: SignoffKey =
        serde_json::from_slice(bytes).map_err(|e| format!("not a sign-off key document: {e}"))?;
    if doc.format != SIGNOFF_KEY_FORMAT {
        return Err(format!(
            "format {:?}, expected {SIGNOFF_KEY_FORMAT}",
            doc.format
        ));
    }
    if canonical_json(&doc).ok().as_deref() != Some(bytes) {
        return Err("the key document is not in RFC 8785 canonical form".into());
    }
    let pk = unhex32(&doc.public_key).ok_or("the public key is not 64 lowercase hex")?;
    let derived = KeyId::of_public_key_bytes(&pk).to_hex();
    if derived != doc.key_id || doc.key_id != file_key_id {
        return Err(format!(
            "key id mismatch: the file is named {file_key_id}, the document says {}, the public key's id is {derived}",
            doc.key_id
        ));
    }
    let arn_account = doc.iam_arn.split(':').nth(4).unwrap_or_default();
    if !doc.iam_arn.starts_with("arn:") || arn_account != doc.account {
        return Err(format!(
            "{:?} is not an IAM ARN of account {:?}",
            doc.iam_arn, doc.account
        ));
    }
    if doc.printed_name.trim().is_empty() || doc.mfa_serial.trim().is_empty() {
        return Err("the printed name and the MFA device must not be blank".into());
    }
    Ok((doc, pk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_bad_ones_say_how_to_write_them() {
        let l: SignoffLocation = "s3://signoff-bucket/gxp/2026".parse().unwrap();
        assert_eq!(l.bucket, "signoff-bucket");
        assert_eq!(l.prefix, "gxp/2026/");
        let l: SignoffLocation = "s3://signoff-bucket".parse().unwrap();
        assert_eq!(l.prefix, "");
        for bad in [
            "signoff-bucket/x",
            "s3://",
            "s3://UPPER/x",
            "s3://b/../x",
            "s3://ok-bucket/a//b",
        ] {
            let e = bad.parse::<SignoffLocation>().unwrap_err();
            assert_eq!(e.code, ErrorCode::BadInput, "{bad}");
        }
    }

    #[test]
    fn only_the_three_shapes_are_entries() {
        assert_eq!(entry("record.json"), Some(Entry::Record));
        let sha = "a".repeat(64);
        assert_eq!(
            entry(&format!("signatures/0002-{sha}.dsse.json")),
            Some(Entry::Signature {
                n: 2,
                sha256: sha.clone()
            })
        );
        assert_eq!(
            entry(&format!("keys/{}.json", "b".repeat(32))),
            Some(Entry::Key {
                key_id: "b".repeat(32)
            })
        );
        for other in [
            "record.json.bak",
            "signatures/0-x.dsse.json",
            &format!("signatures/0000-{sha}.dsse.json"),
            &format!("signatures/1-{}.dsse.json", "A".repeat(64)),
            "keys/short.json",
            "keys/../record.json",
        ] {
            assert_eq!(entry(other), None, "{other}");
        }
        assert_eq!(
            signature_key(3, &Sha256::of(b"x")).len(),
            "signatures/0003-".len() + 64 + 10
        );
    }

    #[test]
    fn file_differences_are_named() {
        let f = |p: &str, b: &[u8]| RecordFile {
            path: p.into(),
            sha256: Sha256::of(b),
            uri: format!("s3://b/{p}"),
            version_id: Some("v1".into()),
        };
        let ours = vec![f("a.xml", b"a"), f("run.json", b"m")];
        assert_eq!(files_difference(&ours, &ours), None);
        let theirs = vec![f("a.xml", b"changed"), f("run.json", b"m")];
        let d = files_difference(&theirs, &ours).unwrap();
        assert!(
            d.starts_with("a.xml: the published record has sha256"),
            "{d}"
        );
        let d = files_difference(&ours[..1], &ours).unwrap();
        assert!(d.contains("run.json"), "{d}");
        let mut moved = ours.clone();
        moved[0].version_id = Some("v2".into());
        assert!(files_difference(&moved, &ours)
            .unwrap()
            .contains("version v2"));
    }

    #[test]
    fn key_documents_must_be_canonical_and_self_consistent() {
        let pk = [7u8; 32];
        let id = KeyId::of_public_key_bytes(&pk).to_hex();
        let doc = SignoffKey {
            format: SIGNOFF_KEY_FORMAT.into(),
            key_id: id.clone(),
            public_key: hex(&pk),
            iam_arn: "arn:aws:iam::123456789012:user/alice".into(),
            account: "123456789012".into(),
            printed_name: "Alice Adams".into(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/alice".into(),
            enrolled_at: "2026-11-03T09:00:00.000Z".into(),
        };
        let bytes = canonical_json(&doc).unwrap();
        assert_eq!(check_key_document(&bytes, &id).unwrap().1, pk);
        assert!(check_key_document(&bytes, &"0".repeat(32))
            .unwrap_err()
            .contains("key id mismatch"));
        let pretty = serde_json::to_vec_pretty(&doc).unwrap();
        assert!(check_key_document(&pretty, &id)
            .unwrap_err()
            .contains("canonical"));
        let mut other = doc.clone();
        other.account = "999999999999".into();
        let bytes = canonical_json(&other).unwrap();
        assert!(check_key_document(&bytes, &id)
            .unwrap_err()
            .contains("not an IAM ARN"));
        let extra = String::from_utf8(canonical_json(&doc).unwrap())
            .unwrap()
            .replace("{\"account\"", "{\"a\":1,\"account\"");
        assert!(check_key_document(extra.as_bytes(), &id).is_err());
    }
}
