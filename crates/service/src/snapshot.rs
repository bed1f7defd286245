//! CloudFormation stack snapshots bound to the runs that qualify the stack.
//!
//! A run qualifies a stack when its run.json names it (`stack.name`, else `stack.arn`), or, for a
//! run whose run.json names none, when `fetch --stack NAME` says so. After a fetch each qualified
//! stack is snapshotted once; the canonical snapshot (`countersign.stack-snapshot/v1`) enters the
//! store like any evidence and is recorded in the ledger once per run it qualifies, under
//! `cloudformation://<region>/<stack>?snapshot=<taken-at>&run=<run>`, so it is in the audit trail.

use std::collections::BTreeMap;

use countersign_aws::stack_snapshot::{
    context_in_region, snapshot_stack, AwsDriftDetector, DriftDetector,
};
use countersign_aws::AwsContext;
use countersign_core::model::{Integrity, RunKey};
use countersign_core::run::MANIFEST_PATH;
use countersign_core::run_manifest::parse_run_manifest;
use countersign_core::stack_snapshot::{
    is_snapshot_uri, snapshot_uri, StackSnapshot, StackSnapshotRef,
};
use countersign_ledger::{Actor, NewObject, SourceKind};
use countersign_store::StoreError;
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::intake::{self, Placement};
use crate::Service;

/// A snapshot taken (or attempted) during a fetch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotTaken {
    /// The stack as the runs name it (name or ARN).
    pub stack: String,
    pub region: String,
    /// The runs it qualifies (`SYSTEM/PHASE/RUN-ID`).
    pub runs: Vec<String>,
    /// The stored snapshot, when it was taken.
    pub snapshot: Option<StackSnapshotRef>,
    /// Why it could not be taken (the runs then show no snapshot from this fetch).
    pub error: Option<String>,
}

/// Which stack (and region) each run qualifies.
type Bindings = BTreeMap<(String, String), Vec<RunKey>>;

impl Service {
    /// After a fetch: snapshot each stack qualified by a run under `s3://bucket/prefix`. Failures
    /// are reported per stack and never undo the fetch.
    pub(crate) async fn snapshot_fetched_runs(
        &self,
        ctx: &AwsContext,
        bucket: &str,
        prefix: &str,
        stack_override: Option<&str>,
        actor: &Actor,
    ) -> Vec<SnapshotTaken> {
        let bindings = match self.stack_bindings(bucket, prefix, stack_override, &ctx.region_name())
        {
            Ok(b) => b,
            Err(e) => {
                return vec![SnapshotTaken {
                    stack: stack_override.unwrap_or_default().to_owned(),
                    region: ctx.region_name(),
                    runs: Vec::new(),
                    snapshot: None,
                    error: Some(e.to_string()),
                }]
            }
        };
        let mut out = Vec::new();
        for ((region, stack), runs) in bindings {
            let run_names = runs.iter().map(ToString::to_string).collect();
            let result = match context_in_region(ctx, &region) {
                Ok(rctx) => {
                    let detector = AwsDriftDetector::new(&rctx);
                    self.snapshot_for_runs(&rctx, &stack, &runs, &detector, actor)
                        .await
                }
                Err(e) => Err(e.into()),
            };
            out.push(match result {
                Ok(r) => SnapshotTaken {
                    stack,
                    region,
                    runs: run_names,
                    snapshot: Some(r),
                    error: None,
                },
                Err(e) => SnapshotTaken {
                    stack,
                    region,
                    runs: run_names,
                    snapshot: None,
                    error: Some(e.to_string()),
                },
            });
        }
        out
    }

    /// Snapshots `stack` now, stores the canonical JSON, and records it once for each of `runs`.
    /// Returns the reference of the stored snapshot (its URI names the first run).
    pub(crate) async fn snapshot_for_runs(
        &self,
        ctx: &AwsContext,
        stack: &str,
        runs: &[RunKey],
        drift: &impl DriftDetector,
        actor: &Actor,
    ) -> Result<StackSnapshotRef, ServiceError> {
        let taken_at = rfc3339_seconds(self.now());
        let snap = snapshot_stack(ctx, stack, &taken_at, drift).await?;
        let bytes = snap
            .to_canonical_json()
            .map_err(|e| ServiceError::storage(e.to_string()))?;
        let blob = self.store().put(&bytes, None).map_err(err::from_store)?;
        let mut first = None;
        let mut ledger = self.ledger()?;
        for run in runs {
            let uri = snapshot_uri(
                &snap.region,
                &snap.stack_name,
                &snap.taken_at,
                &run.to_string(),
            );
            let obj = NewObject {
                sha256: blob.sha256,
                size: bytes.len() as u64,
                uri: uri.clone(),
                bucket: None,
                key: None,
                version_id: None,
                etag: None,
                last_modified: Some(snap.taken_at.clone()),
                source: SourceKind::S3,
                run_key: Some(run.to_string()),
            };
            ledger.add_object(&obj, actor).map_err(err::from_ledger)?;
            first.get_or_insert(uri);
        }
        let uri = first
            .unwrap_or_else(|| snapshot_uri(&snap.region, &snap.stack_name, &snap.taken_at, ""));
        Ok(StackSnapshotRef::verified(&snap, uri, blob.sha256))
    }

    /// The latest stack snapshot recorded for `run`, re-read from the store and re-verified.
    pub(crate) fn latest_stack_snapshot(
        &self,
        run: &RunKey,
    ) -> Result<Option<StackSnapshotRef>, ServiceError> {
        let wanted = run.to_string();
        let latest = {
            let ledger = self.ledger()?;
            ledger
                .objects()
                .map_err(err::from_ledger)?
                .into_iter()
                .rev()
                .find(|o| o.run_key.as_deref() == Some(wanted.as_str()) && is_snapshot_uri(&o.uri))
        };
        let Some(rec) = latest else {
            return Ok(None);
        };
        Ok(Some(match self.store().read(&rec.sha256) {
            Ok(bytes) => match StackSnapshot::from_json(&bytes) {
                Ok(snap) => StackSnapshotRef::verified(&snap, rec.uri, rec.sha256),
                Err(e) => StackSnapshotRef::unverified(
                    rec.uri,
                    rec.sha256,
                    Integrity::Rejected {
                        reason: e.to_string(),
                    },
                ),
            },
            Err(StoreError::Changed { actual, .. }) => {
                StackSnapshotRef::unverified(rec.uri, rec.sha256, Integrity::Changed { actual })
            }
            Err(StoreError::Missing { .. }) => {
                StackSnapshotRef::unverified(rec.uri, rec.sha256, Integrity::Missing)
            }
            Err(e) => return Err(err::from_store(e)),
        }))
    }

    /// The stack each run under `s3://bucket/prefix` qualifies: the one its latest stored
    /// run.json names, else `stack_override`.
    fn stack_bindings(
        &self,
        bucket: &str,
        prefix: &str,
        stack_override: Option<&str>,
        default_region: &str,
    ) -> Result<Bindings, ServiceError> {
        let objects = self.ledger()?.objects().map_err(err::from_ledger)?;
        let base = countersign_core::layout::s3_uri(bucket, prefix);
        // Every run under the prefix, with its latest run.json when it has one.
        let mut manifests: BTreeMap<RunKey, Option<countersign_core::digest::Sha256>> =
            BTreeMap::new();
        for o in objects {
            let Some(rel) = o.uri.strip_prefix(&base) else {
                continue;
            };
            if let Ok(p @ Placement::Run(_)) = intake::place(rel) {
                let manifest = intake::is_manifest(rel, &p);
                if let Placement::Run(run) = p {
                    let slot = manifests.entry(run).or_default();
                    if manifest {
                        *slot = Some(o.sha256); // oldest first: the newest wins
                    }
                }
            }
        }
        let mut out = Bindings::new();
        for (run, sha) in manifests {
            let named = match sha.map(|sha| self.store().read(&sha)) {
                Some(Ok(bytes)) => parse_run_manifest(MANIFEST_PATH, &bytes)
                    .ok()
                    .and_then(|m| m.stack)
                    .and_then(|s| {
                        let id = s.name.or(s.arn)?;
                        Some((s.region, id))
                    }),
                _ => None,
            };
            let (region, stack) = match (named, stack_override) {
                (Some((region, id)), _) => (region, id),
                (None, Some(id)) => (None, id.to_owned()),
                (None, None) => continue,
            };
            let region = region
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| default_region.to_owned());
            out.entry((region, stack)).or_default().push(run);
        }
        Ok(out)
    }
}

/// `t` in UTC, to the second, as RFC 3339.
fn rfc3339_seconds(t: time::OffsetDateTime) -> String {
    let now = t.to_offset(time::UtcOffset::UTC);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}
