//! Sign-off hand-off between desktops through S3 (`docs/handoff.md`): the I/O around
//! [`countersign_core::handoff`], which decides everything.
//!
//! `signoff_publish` writes a run's record, the signatures that verify for it and the signers'
//! key documents under `<prefix>/<system>/<phase>/<run-id>/signoff/`, never over a different
//! object. `signoff_fetch` downloads a sign-off (each object under a size cap), has the core
//! check every item against this home, and records every accepted and every refused item in
//! one transaction.

use std::collections::{BTreeMap, BTreeSet};

use countersign_aws::s3::{self, DownloadError, Upload};
use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::handoff::publish::{self, OnFile};
use countersign_core::handoff::receive::{
    check_record, check_signoff, sort_listing, HeldKey, Known, Verdict,
};
use countersign_core::handoff::{
    signoff_folder, Item, ItemKind, ItemOutcome, ItemStatus, KeyFacts, SignoffKey,
    MAX_ENVELOPE_BYTES, MAX_KEY_BYTES, MAX_RECORD_BYTES,
};
use countersign_core::layout::{check_relative_key, S3Location};
use countersign_core::run_record::{RecordDisposition, RunRecord};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::UtcTimestamp;
use countersign_core::signature::verify::{verify_envelope, RecordRef};
use countersign_ledger::{
    Actor, Batch, EventClass, EventFilter, NewEnrollment, NewEvent, NewSignature,
};
use serde::Serialize;

use crate::aws_context::{caller_actor, download_error, write_once_error};
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::signing::RUN_SUBJECT;
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

pub(crate) const MAX_LOCK_DAYS: u32 = 36_500;

/// What `signoff publish` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// The run.
    pub run: String,
    /// Where to.
    pub to: S3Location,
    /// Object Lock COMPLIANCE retention for the objects written, in days.
    pub object_lock_days: Option<u32>,
}

/// Whether a published object was written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishedStatus {
    /// Written by this publish.
    Written,
    /// The same bytes were already there.
    Unchanged,
}

impl PublishedStatus {
    /// `written` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            PublishedStatus::Written => "written",
            PublishedStatus::Unchanged => "unchanged",
        }
    }
}

/// One object of a published sign-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedObject {
    /// `s3://bucket/key`.
    pub uri: String,
    /// SHA-256 of its bytes.
    pub sha256: Sha256,
    /// Written now, or already there.
    pub status: PublishedStatus,
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
    pub not_published: Vec<(Sha256, countersign_core::signature::verify::OutcomeCode)>,
    /// Object Lock COMPLIANCE retention of the written objects, UTC.
    pub retain_until: Option<String>,
}

/// What `signoff fetch` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSignoffRequest {
    /// The run (already fetched into this home).
    pub run: String,
    /// Where from.
    pub from: S3Location,
}

/// One item of a fetched sign-off and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoffItem {
    /// What it is.
    pub kind: ItemKind,
    /// `s3://bucket/key`.
    pub uri: String,
    /// What became of it.
    pub status: ItemStatus,
    /// The refusal, or a signature's verification outcome.
    pub outcome: Option<ItemOutcome>,
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
        self.items
            .iter()
            .filter(|i| i.status == ItemStatus::Rejected)
    }
}

/// A key taken over from a hand-off, as its provenance event recorded it.
struct TakenKey {
    uri: String,
    document: Vec<u8>,
}

fn event_after(e: &countersign_ledger::EventRecord) -> Option<serde_json::Value> {
    e.event
        .after
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
}

impl Service {
    /// Keys taken over from hand-offs: key id → where it came from and its document as
    /// received.
    fn taken_keys(&self) -> Result<BTreeMap<KeyId, TakenKey>, ServiceError> {
        let events = self
            .ledger()?
            .events(&EventFilter {
                action: Some(SIGNOFF_KEY_ACCEPTED.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        let mut out = BTreeMap::new();
        for e in events {
            let (Ok(id), Some(v)) = (e.event.object_id.parse::<KeyId>(), event_after(&e)) else {
                return Err(ServiceError::integrity(format!(
                    "ledger entry {} ({SIGNOFF_KEY_ACCEPTED}) does not name a key with its document",
                    e.event.seq
                )));
            };
            let text = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
            let (Some(uri), Some(document)) = (text("uri"), text("document")) else {
                return Err(ServiceError::integrity(format!(
                    "ledger entry {} ({SIGNOFF_KEY_ACCEPTED}) does not carry the key's source and document",
                    e.event.seq
                )));
            };
            out.entry(id).or_insert(TakenKey {
                uri,
                document: document.into_bytes(),
            });
        }
        Ok(out)
    }

    /// Where each key taken over from a hand-off came from (key id → object URI).
    pub(crate) fn handoff_key_sources(&self) -> Result<BTreeMap<KeyId, String>, ServiceError> {
        Ok(self
            .taken_keys()?
            .into_iter()
            .map(|(id, k)| (id, k.uri))
            .collect())
    }

    /// Dispositions taken over from accepted hand-off records of `run_key`, with the event
    /// that accepted them.
    pub(crate) fn handoff_dispositions(
        &self,
        run_key: &str,
    ) -> Result<Vec<(RecordDisposition, u64)>, ServiceError> {
        let mut out = Vec::new();
        for e in self.record_acceptances(run_key)? {
            let list = event_after(&e)
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

    fn record_acceptances(
        &self,
        run_key: &str,
    ) -> Result<Vec<countersign_ledger::EventRecord>, ServiceError> {
        self.ledger()?
            .events(&EventFilter {
                action: Some(SIGNOFF_RECORD_ACCEPTED.into()),
                object_kind: Some(RUN_SUBJECT.into()),
                object_id: Some(run_key.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)
    }

    /// The key documents this home publishes: the one received, for a key known from a
    /// hand-off; otherwise built from the enrollment.
    fn key_documents(&self) -> Result<BTreeMap<KeyId, Vec<u8>>, ServiceError> {
        let mut docs: BTreeMap<KeyId, Vec<u8>> = self
            .taken_keys()?
            .into_iter()
            .map(|(id, k)| (id, k.document))
            .collect();
        for key in self.ledger()?.signer_keys().map_err(err::from_ledger)? {
            if docs.contains_key(&key.key_id) {
                continue;
            }
            let doc = SignoffKey::new(&KeyFacts {
                public_key: key.public_key,
                iam_arn: key.iam_arn,
                account: key.account,
                printed_name: key.printed_name,
                mfa_serial: key.mfa_serial,
                enrolled_at: key.enrolled_at,
            });
            let bytes = doc.to_bytes().map_err(|e| {
                ServiceError::integrity(format!("could not encode the key: {}", e.detail))
            })?;
            docs.insert(key.key_id, bytes);
        }
        Ok(docs)
    }

    /// Publishes the run's record, the signatures that verify for it and their signers' keys
    /// to `<prefix>/<run>/signoff/`. Nothing is written over a different object: every
    /// object is compared first, and then written only if absent.
    pub async fn signoff_publish(
        &self,
        aws: &AwsSettings,
        req: &PublishRequest,
    ) -> Result<PublishReport, ServiceError> {
        let retain_until = match req.object_lock_days {
            None => None,
            Some(d) if (1..=MAX_LOCK_DAYS).contains(&d) => {
                Some(self.now() + time::Duration::days(i64::from(d)))
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
        let rows = self
            .ledger()?
            .signatures_of(RUN_SUBJECT, &run_id)
            .map_err(err::from_ledger)?;
        // A hand-off carries one cycle of signatures, all for the record it publishes: a
        // re-opened run's history (superseded signatures verified against earlier records)
        // travels in a validation package instead, which carries all of it.
        if rows
            .iter()
            .any(|r| r.meaning == countersign_core::signature::predicate::Meaning::Reopened)
        {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "run {run_id} was re-opened: a sign-off hand-off carries the signatures of one record only, so it cannot carry the superseded ones its later signatures follow. Hand the run over in a validation package, which carries its whole history"
                ),
            ));
        }
        let on_file: Vec<OnFile> = rows
            .into_iter()
            .map(|r| {
                let outcome = verify_envelope(
                    &r.envelope,
                    &RecordRef {
                        name: &name,
                        sha256: record_sha256,
                    },
                    &registry,
                );
                OnFile {
                    envelope: r.envelope,
                    key_id: r.key_id,
                    outcome: outcome.kind(),
                }
            })
            .collect();
        let plan = publish::plan(record_bytes, &on_file, &self.key_documents()?)
            .map_err(|e| ServiceError::integrity(e.to_string()))?;
        if plan.signatures == 0 {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "run {run_id} has no signature that verifies for its current record (sha256 {}); sign it first (`countersign sign`)",
                    record_sha256.to_hex()
                ),
            ));
        }
        let folder = req.to.key(&signoff_folder(&rc.view.run.key));
        let ctx = self.aws(aws).await?;
        let bucket = req.to.bucket.as_str();

        // First compare everything, so a conflict writes nothing.
        let mut present = BTreeSet::new();
        for o in &plan.objects {
            let key = format!("{folder}{}", o.name);
            check_relative_key(&key).map_err(|e| {
                ServiceError::bad_input(format!("refusing to publish to an unsafe key: {e}"))
            })?;
            let limit = o.body.len() as u64 + 1;
            match s3::get_small(&ctx, bucket, &key, limit).await {
                Ok(None) => {}
                Ok(Some((existing, _))) if existing == o.body => {
                    present.insert(o.name.clone());
                }
                Ok(Some((existing, _))) => {
                    return Err(ServiceError::new(
                        ErrorCode::Refused,
                        format!(
                            "s3://{bucket}/{key} already holds other bytes (sha256 {}, this desktop's are {}); a published sign-off is never overwritten: {}",
                            Sha256::of(&existing).to_hex(),
                            Sha256::of(&o.body).to_hex(),
                            if o.name == countersign_core::handoff::RECORD_FILE {
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
            location: req.to.uri_of(&folder),
            record_sha256,
            objects: Vec::new(),
            not_published: plan.left_out.clone(),
            retain_until: retain_until.map(|t| UtcTimestamp::new(t).to_string()),
        };
        for o in plan.objects {
            let key = format!("{folder}{}", o.name);
            let sha256 = Sha256::of(&o.body);
            let uri = req.to.uri_of(&key);
            if present.contains(&o.name) {
                report.objects.push(PublishedObject {
                    uri,
                    sha256,
                    status: PublishedStatus::Unchanged,
                    version_id: None,
                });
                continue;
            }
            let meta = s3::put_if_absent(
                &ctx,
                bucket,
                Upload {
                    key: &key,
                    body: o.body,
                    content_type: Some(o.content_type),
                    metadata: &[],
                },
                retain_until,
            )
            .await
            .map_err(|e| write_once_error(&uri, e))?;
            report.objects.push(PublishedObject {
                uri,
                sha256,
                status: PublishedStatus::Written,
                version_id: meta.version_id,
            });
        }
        let actor = caller_actor(&ctx).await;
        let after = serde_json::json!({
            "location": report.location,
            "record_sha256": record_sha256.to_hex(),
            "signatures": plan.signatures,
            "written": report.objects.iter().filter(|o| o.status == PublishedStatus::Written).map(|o| &o.uri).collect::<Vec<_>>(),
            "retain_until": report.retain_until,
        })
        .to_string();
        self.ledger()?
            .append(&NewEvent::new(&actor, SIGNOFF_PUBLISHED, RUN_SUBJECT, run_id).after(after))
            .map_err(err::from_ledger)?;
        Ok(report)
    }

    /// Fetches a run's sign-off and verifies every item against this home: the record's files
    /// against the verified store, each envelope strictly (with the signers' keys as known
    /// here, or taken over as "known from hand-off"), and the signing order. Accepted items
    /// and every refusal are recorded together.
    pub async fn signoff_fetch(
        &self,
        aws: &AwsSettings,
        req: &FetchSignoffRequest,
    ) -> Result<FetchSignoffReport, ServiceError> {
        let rc = self.record_context(&req.run)?;
        let run_key = rc.view.run.key.clone();
        let run_id = rc.view.summary.id.clone();
        let folder = req.from.key(&signoff_folder(&run_key));
        let location = req.from.uri_of(&folder);
        let ctx = self.aws(aws).await?;
        let actor = caller_actor(&ctx).await;
        let bucket = req.from.bucket.as_str();
        let get = |name: &str, limit: u64| {
            let key = format!("{folder}{name}");
            let ctx = &ctx;
            async move {
                match s3::get_small(ctx, bucket, &key, limit).await {
                    Ok(Some((b, _))) => Ok(Some(Ok(b))),
                    Ok(None) => Ok(None),
                    Err(DownloadError::Sink(s)) => Ok(Some(Err(s))),
                    Err(e) => Err(download_error(e)),
                }
            }
        };

        let listed = s3::list(&ctx, bucket, &folder).await?;
        let listing = sort_listing(
            listed
                .iter()
                .filter_map(|o| o.key.strip_prefix(folder.as_str())),
        );
        let mut items = listing.refused.clone();
        let Some(record_name) = listing.record.clone() else {
            self.record_handoff(&run_id, &location, &actor, &items, None)?;
            return Err(ServiceError::not_found(format!(
                "no sign-off at {location}: {} is missing; the previous signer publishes it with `countersign signoff publish {run_id} --to {}`",
                countersign_core::handoff::RECORD_FILE,
                req.from
            )));
        };
        let record_bytes = match get(&record_name, MAX_RECORD_BYTES).await? {
            Some(Ok(b)) => b,
            Some(Err(why)) => {
                items.push(Item::rejected(
                    ItemKind::Record,
                    &record_name,
                    countersign_core::handoff::Refusal::Malformed,
                    why,
                ));
                return self.finish_handoff(&req.run, &location, &actor, items, None, None);
            }
            None => {
                return Err(ServiceError::not_found(format!(
                    "{location}{record_name} vanished while fetching"
                )))
            }
        };
        let published_sha = Sha256::of(&record_bytes);
        let record = match check_record(
            &record_name,
            &record_bytes,
            &run_key,
            &rc.record.files,
            &rc.view.run,
        ) {
            Ok(r) => r,
            Err(item) => {
                items.push(item);
                return self.finish_handoff(
                    &req.run,
                    &location,
                    &actor,
                    items,
                    None,
                    Some(published_sha),
                );
            }
        };
        let mut key_docs = BTreeMap::new();
        for name in listing.keys.values() {
            if let Some(got) = get(name, MAX_KEY_BYTES).await? {
                key_docs.insert(name.clone(), got);
            }
        }
        let mut envelopes = BTreeMap::new();
        for (_, _, name) in &listing.signatures {
            if let Some(got) = get(name, MAX_ENVELOPE_BYTES).await? {
                envelopes.insert(name.clone(), got);
            }
        }
        let held: Vec<HeldKey> = self
            .ledger()?
            .signer_keys()
            .map_err(err::from_ledger)?
            .into_iter()
            .map(|k| HeldKey {
                key_id: k.key_id,
                public_key: k.public_key,
                active: k.is_active(),
                iam_arn: k.iam_arn,
                printed_name: k.printed_name,
            })
            .collect();
        let recorded = self
            .ledger()?
            .signatures_of(RUN_SUBJECT, &run_id)
            .map_err(err::from_ledger)?
            .iter()
            .map(countersign_ledger::SignatureRecord::envelope_sha256)
            .collect();
        let hex = published_sha.to_hex();
        let record_accepted_before = self.record_acceptances(&run_id)?.iter().any(|e| {
            event_after(e)
                .and_then(|v| {
                    v.get("record_sha256")
                        .and_then(|s| s.as_str())
                        .map(|s| s == hex)
                })
                .unwrap_or(false)
        });
        let subject = RunRecord::subject_name(&run_key);
        let verdict = check_signoff(
            &record_name,
            &record,
            published_sha,
            &listing,
            &key_docs,
            &envelopes,
            Known {
                subject: &subject,
                keys: &held,
                registry: self.key_registry()?,
                recorded,
                record_accepted_before,
            },
        );
        items.extend(verdict.items.iter().cloned());
        let accepted = Accepted {
            verdict: &verdict,
            record: &record,
            record_sha256: published_sha,
        };
        self.finish_handoff(
            &req.run,
            &location,
            &actor,
            items,
            Some(accepted),
            Some(published_sha),
        )
    }

    /// Records what a fetch decided, then reports it with this home's record digest now.
    fn finish_handoff(
        &self,
        run: &str,
        location: &str,
        actor: &Actor,
        items: Vec<Item>,
        accepted: Option<Accepted<'_>>,
        published: Option<Sha256>,
    ) -> Result<FetchSignoffReport, ServiceError> {
        let rc = self.record_context(run)?;
        let run_id = rc.view.summary.id.clone();
        self.record_handoff(&run_id, location, actor, &items, accepted)?;
        let local = crate::disposition::record_digest(&self.record_context(run)?.record)?;
        Ok(FetchSignoffReport {
            run: run_id,
            location: location.to_owned(),
            published_record_sha256: published,
            local_record_sha256: local,
            same_record: published == Some(local),
            items: items
                .into_iter()
                .map(|i| HandoffItem {
                    kind: i.kind,
                    uri: format!("{location}{}", i.name),
                    status: i.status,
                    outcome: i.outcome,
                    detail: i.detail,
                })
                .collect(),
        })
    }

    /// One transaction: a `signoff.rejected` event per refused item, and for what was
    /// accepted the provenance events with the keys, signatures and record they bring, in the
    /// order the items were checked.
    fn record_handoff(
        &self,
        run_id: &str,
        location: &str,
        actor: &Actor,
        items: &[Item],
        accepted: Option<Accepted<'_>>,
    ) -> Result<(), ServiceError> {
        let mut batch = Batch::new();
        for item in items {
            let uri = format!("{location}{}", item.name);
            match (item.status, item.kind) {
                (ItemStatus::Rejected, kind) => {
                    let outcome = item.refusal().map(|r| r.as_str()).unwrap_or("rejected");
                    let after = serde_json::json!({ "item": kind, "uri": uri, "outcome": outcome })
                        .to_string();
                    batch.event(
                        NewEvent::new(actor, SIGNOFF_REJECTED, RUN_SUBJECT, run_id)
                            .after(after)
                            .reason(item.detail.clone())
                            .class(EventClass::Rejection),
                    );
                }
                (ItemStatus::Accepted, ItemKind::Key) => {
                    let Some(k) = accepted
                        .as_ref()
                        .and_then(|a| a.verdict.keys.iter().find(|k| k.name == item.name))
                    else {
                        continue;
                    };
                    let d = &k.document;
                    let key_id: KeyId = d.key_id.parse().map_err(|_| {
                        ServiceError::integrity(format!(
                            "the key document names key {:?}",
                            d.key_id
                        ))
                    })?;
                    let after = serde_json::json!({
                        "uri": uri,
                        "document": String::from_utf8_lossy(&k.bytes),
                        "iam_arn": d.iam_arn,
                        "printed_name": d.printed_name,
                    })
                    .to_string();
                    batch.event(
                        NewEvent::new(actor, SIGNOFF_KEY_ACCEPTED, "key", key_id.to_hex())
                            .after(after)
                            .reason(format!(
                                "known from hand-off {uri}: the publisher's ledger binds it to {}",
                                d.iam_arn
                            ))
                            .class(EventClass::Change),
                    );
                    // The binding replicated is the publisher's enrollment of that person; who
                    // brought it here is the actor of the `signoff.key_accepted` event above.
                    batch.enrollment(
                        NewEnrollment {
                            key_id,
                            public_key: k.public_key,
                            iam_arn: d.iam_arn.clone(),
                            account: d.account.clone(),
                            printed_name: d.printed_name.clone(),
                            mfa_serial: d.mfa_serial.clone(),
                        },
                        Actor::person(d.iam_arn.clone(), d.printed_name.clone()),
                    );
                }
                (ItemStatus::Accepted, ItemKind::Signature) => {
                    let Some(s) = accepted
                        .as_ref()
                        .and_then(|a| a.verdict.signatures.iter().find(|s| s.name == item.name))
                    else {
                        continue;
                    };
                    let after = serde_json::json!({
                        "uri": uri,
                        "envelope_sha256": s.sha256.to_hex(),
                        "key_id": s.key_id.to_hex(),
                        "meaning": s.predicate.meaning.as_str(),
                        "outcome": "valid",
                    })
                    .to_string();
                    batch.event(
                        NewEvent::new(actor, SIGNOFF_SIGNATURE_ACCEPTED, RUN_SUBJECT, run_id)
                            .after(after),
                    );
                    batch.signature(
                        NewSignature::from_envelope(RUN_SUBJECT, run_id, s.envelope.clone())
                            .map_err(err::from_ledger)?,
                    );
                }
                (ItemStatus::Accepted, ItemKind::Record) => {
                    let Some(a) = accepted.as_ref().filter(|a| a.verdict.accept_record) else {
                        continue;
                    };
                    let after = serde_json::json!({
                        "uri": uri,
                        "record_sha256": a.record_sha256.to_hex(),
                        "dispositions": a.record.dispositions,
                    })
                    .to_string();
                    batch.event(
                        NewEvent::new(actor, SIGNOFF_RECORD_ACCEPTED, RUN_SUBJECT, run_id)
                            .after(after),
                    );
                }
                _ => {}
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.ledger()?.commit(&batch).map_err(err::from_ledger)?;
        Ok(())
    }
}

/// What a fetch accepted, for recording.
struct Accepted<'a> {
    verdict: &'a Verdict,
    record: &'a RunRecord,
    record_sha256: Sha256,
}
