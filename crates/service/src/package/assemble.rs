//! Gathering a package: the runs, each checked (every stored file re-read and re-hashed,
//! nothing left out silently) and assembled once (record, results, signatures that verify,
//! evidence), then the signers' keys, the policy, the stack snapshots, the audit evidence and
//! the audit-trail excerpt, each as a file of the package with its role and digest.

use std::collections::{BTreeMap, BTreeSet};

use countersign_core::digest::Sha256;
use countersign_core::model::Integrity;
use countersign_core::package::manifest::{check_path, FileRole, ManifestRun};
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::run_data::RunData;
use countersign_core::package::verify::{public_key_path, signature_path};
use countersign_core::run_record::RunRecord;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::verify::OutcomeCode;
use countersign_core::stack_snapshot::{StackSnapshot, StackSnapshotRef};
use countersign_ledger::{EventFilter, EventRecord};
use serde::Serialize;

use super::Steps;
use crate::audit_evidence::AuditEvidenceReport;
use crate::error::{self as err, ServiceError};
use crate::runs::RunView;
use crate::signing::{SignatureView, DEFAULT_POLICY_JSON, POLICY_FILE};
use crate::Service;

/// One run as gathered for a package.
pub(crate) struct RunPart {
    pub view: RunView,
    pub record: RunRecord,
    pub record_sha256: Sha256,
    pub data: RunData,
    pub signatures: Vec<SignatureView>,
}

/// A file of the package with its bytes, or (evidence) where to read them.
pub(super) enum Content {
    Bytes(Vec<u8>),
    Stored(Sha256),
}

pub(super) struct PackageFile {
    pub(super) role: FileRole,
    pub(super) size: u64,
    pub(super) sha256: Sha256,
    pub(super) content: Content,
}

/// Everything a package carries, gathered before anything is written.
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) files: BTreeMap<String, PackageFile>,
    pub(super) parts: Vec<RunPart>,
    pub(super) manifest_runs: Vec<ManifestRun>,
    pub(super) signer_keys: BTreeSet<KeyId>,
    pub(super) stacks: BTreeSet<String>,
    pub(super) snapshots: Vec<(String, StackSnapshot)>,
    pub(super) audit: Vec<(String, AuditEvidenceReport)>,
    pub(super) audit_note: Option<String>,
    pub(super) events: Vec<EventRecord>,
    pub(super) demo: bool,
}

pub(super) fn canonical<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, ServiceError> {
    countersign_core::canonical::canonical_json(value)
        .map_err(|e| ServiceError::storage(format!("could not encode {what}: {e}")))
}

impl Gathered {
    /// Adds a file the package carries in full.
    fn add(&mut self, path: String, role: FileRole, bytes: Vec<u8>) -> Result<(), ServiceError> {
        check_path(&path).map_err(|e| ServiceError::bad_input(e.to_string()))?;
        let sha256 = Sha256::of(&bytes);
        self.files.insert(
            path,
            PackageFile {
                role,
                size: bytes.len() as u64,
                sha256,
                content: Content::Bytes(bytes),
            },
        );
        Ok(())
    }
}

impl Service {
    /// The runs, each shown with every stored file re-read and re-hashed. Refuses a run named
    /// twice and, naming every one, evidence that is missing, changed or rejected.
    pub(super) fn check_runs(
        &self,
        runs: &[String],
        steps: &mut Steps<'_>,
    ) -> Result<Vec<RunView>, ServiceError> {
        let mut views = Vec::new();
        let mut seen = BTreeSet::new();
        let mut problems = Vec::new();
        for run in runs {
            steps.next("checking the run's evidence", Some(run))?;
            let view = self.show(run)?;
            if !seen.insert(view.summary.id.clone()) {
                return Err(ServiceError::bad_input(format!(
                    "run {} is named twice",
                    view.summary.id
                )));
            }
            for f in &view.run.files {
                let why = match &f.integrity {
                    Integrity::Missing => "missing from the store".to_owned(),
                    Integrity::Changed { actual } => {
                        format!("changed in the store (now {actual})")
                    }
                    Integrity::Rejected { reason } => format!("rejected at fetch: {reason}"),
                    Integrity::Verified | Integrity::Recorded => continue,
                };
                problems.push(format!("{} {}: {why}", view.summary.id, f.path));
            }
            views.push(view);
        }
        if !problems.is_empty() {
            return Err(ServiceError::integrity(format!(
                "the package was not built: {} evidence file(s) cannot be included, and nothing is left out silently:\n  {}\nFetch or import the runs again, then build the package",
                problems.len(),
                problems.join("\n  ")
            )));
        }
        views.sort_by(|a, b| a.summary.id.cmp(&b.summary.id));
        Ok(views)
    }

    /// Each run's record, results, signatures (only signatures that verify) and evidence.
    pub(super) fn assemble_runs(
        &self,
        views: Vec<RunView>,
        g: &mut Gathered,
        steps: &mut Steps<'_>,
    ) -> Result<(), ServiceError> {
        let demo_digests: BTreeSet<[u8; 32]> =
            countersign_demo::run_file_digests().into_iter().collect();
        let mut snapshot_refs: BTreeMap<Sha256, StackSnapshotRef> = BTreeMap::new();
        for view in views {
            let id = view.summary.id.clone();
            steps.next("assembling the run's record and signatures", Some(&id))?;
            // The run as read and verified above: assembled once for the whole package.
            let ctx = self.record_context_of(view)?;
            let view = &ctx.view;
            let record_bytes = canonical(&ctx.record, "the run record")?;
            let record_sha256 = Sha256::of(&record_bytes);
            let data_bytes = canonical(&ctx.data, "the run data")?;
            let signatures: Vec<_> = self
                .signatures_of(&ctx)?
                .into_iter()
                .map(|(view, _)| view)
                .collect();
            let invalid: Vec<String> = signatures
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    !s.valid && s.outcome != OutcomeCode::Superseded && !s.key_revoked_since
                })
                .map(|(i, s)| {
                    format!(
                        "{id} signature {} ({} by {}): {}",
                        i + 1,
                        s.meaning,
                        s.printed_name,
                        s.outcome_detail
                    )
                })
                .collect();
            if !invalid.is_empty() {
                return Err(ServiceError::integrity(format!(
                    "the package was not built: a package carries only signatures that verify, and these do not:\n  {}\nA record changed since signing needs a signed re-open and a new review",
                    invalid.join("\n  ")
                )));
            }
            let record_path = format!("runs/{id}/record.json");
            let data_path = format!("runs/{id}/results.json");
            g.add(record_path.clone(), FileRole::RunRecord, record_bytes)?;
            g.add(data_path.clone(), FileRole::RunData, data_bytes)?;
            for (i, s) in signatures.iter().enumerate() {
                g.add(
                    signature_path(&id, i + 1),
                    FileRole::Signature,
                    s.envelope.clone().into_bytes(),
                )?;
                g.signer_keys.insert(s.key_id);
            }
            for f in &view.run.files {
                let Some(sha) = f.sha256 else { continue };
                g.demo |= demo_digests.contains(sha.as_bytes());
                let path = format!("runs/{id}/files/{}", f.path);
                check_path(&path).map_err(|e| {
                    ServiceError::bad_input(format!(
                        "run {id}: evidence {e}; it cannot be packaged"
                    ))
                })?;
                g.files.insert(
                    path,
                    PackageFile {
                        role: FileRole::Evidence,
                        size: f.size,
                        sha256: sha,
                        content: Content::Stored(sha),
                    },
                );
            }
            if let Some(s) = &view.stack_snapshot {
                g.stacks.insert(s.stack_name.clone());
                snapshot_refs.insert(s.sha256, s.clone());
            } else if let Some(s) = &view.summary.stack {
                g.stacks.insert(s.clone());
            }
            g.manifest_runs.push(ManifestRun {
                run: id.clone(),
                record: record_path,
                record_sha256,
                data: data_path,
                status: view.summary.status.as_str().to_owned(),
                totals: view.run.totals,
            });
            g.parts.push(RunPart {
                view: ctx.view,
                record: ctx.record,
                record_sha256,
                data: ctx.data,
                signatures,
            });
        }
        // Stack snapshots, byte for byte from the store.
        for s in snapshot_refs.values() {
            let bytes = self.store().read(&s.sha256).map_err(err::from_store)?;
            let snapshot: StackSnapshot = serde_json::from_slice(&bytes).map_err(|e| {
                ServiceError::integrity(format!(
                    "the stored snapshot of stack {} ({}) cannot be read: {e}",
                    s.stack_name, s.sha256
                ))
            })?;
            let taken = s.taken_at.replace(':', "-");
            let path = format!("stacks/{}/{taken}.json", s.stack_name);
            g.add(path.clone(), FileRole::StackSnapshot, bytes)?;
            g.snapshots.push((path, snapshot));
        }
        Ok(())
    }

    /// What the runs rest on: the signers' public keys (as enrolled, revocation included), the
    /// policy, the audit evidence per stack and the audit-trail excerpt.
    pub(super) fn add_supplements(
        &self,
        trail_public_key: Option<(&str, &[u8])>,
        g: &mut Gathered,
    ) -> Result<(), ServiceError> {
        for k in self.ledger()?.signer_keys().map_err(err::from_ledger)? {
            if !g.signer_keys.contains(&k.key_id) {
                continue;
            }
            let f = PublicKeyFile::new(
                &k.public_key,
                &k.printed_name,
                &k.iam_arn,
                &k.enrolled_at,
                k.revoked.as_ref().map(|r| r.at.as_str()),
            );
            let bytes = f
                .canonical_bytes()
                .map_err(|e| ServiceError::storage(e.to_string()))?;
            g.add(public_key_path(&f.key_id), FileRole::PublicKey, bytes)?;
        }
        g.add("policy.json".into(), FileRole::Policy, self.policy_bytes()?)?;

        if trail_public_key.is_none() {
            g.audit_note = Some(
                "no CloudTrail public key was given, so digest signatures were not checked; build with --trail-public-key to validate the chain".to_owned(),
            );
        }
        for stack in g.stacks.clone() {
            match self.audit_evidence(trail_public_key, Some(&stack)) {
                Ok(report) => {
                    let bytes = canonical(&report, "the audit-evidence report")?;
                    g.add(
                        format!("audit-evidence/{stack}.json"),
                        FileRole::AuditEvidence,
                        bytes,
                    )?;
                    g.audit.push((stack, report));
                }
                Err(e) if e.code == crate::ErrorCode::BadInput => return Err(e),
                Err(e) => {
                    g.audit_note = Some(format!("audit evidence for {stack}: {}", e.message));
                }
            }
        }

        // The audit-trail excerpt: every entry about these runs and their signers' keys.
        g.events = self.package_events(&g.parts, &g.signer_keys)?;
        let trail: Vec<serde_json::Value> = g.events.iter().map(event_json).collect();
        g.add(
            "audit-trail.json".into(),
            FileRole::AuditTrail,
            canonical(&trail, "the audit-trail excerpt")?,
        )?;
        Ok(())
    }

    /// The policy file's bytes, as `signing_policy` reads it.
    fn policy_bytes(&self) -> Result<Vec<u8>, ServiceError> {
        let path = self.home().join(POLICY_FILE);
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(DEFAULT_POLICY_JSON.as_bytes().to_vec())
            }
            Err(e) => Err(ServiceError::storage(format!(
                "could not read the signing policy {}: {e}",
                path.display()
            ))),
        }
    }

    fn package_events(
        &self,
        parts: &[RunPart],
        key_ids: &BTreeSet<KeyId>,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        let ledger = self.ledger()?;
        let mut by_seq = BTreeMap::new();
        let ids = parts
            .iter()
            .map(|p| p.view.summary.id.clone())
            .chain(key_ids.iter().map(KeyId::to_hex));
        for id in ids {
            let events = ledger
                .events(&EventFilter {
                    object_id: Some(id),
                    ..EventFilter::default()
                })
                .map_err(err::from_ledger)?;
            for e in events {
                by_seq.insert(e.event.seq, e);
            }
        }
        Ok(by_seq.into_values().collect())
    }
}

fn event_json(e: &EventRecord) -> serde_json::Value {
    let ev = &e.event;
    serde_json::json!({
        "seq": ev.seq,
        "time_utc": ev.time_utc,
        "utc_offset": ev.utc_offset,
        "actor_arn": ev.actor.arn,
        "actor_name": ev.actor.printed_name,
        "action": ev.action,
        "object_kind": ev.object_kind,
        "object_id": ev.object_id,
        "before": ev.before,
        "after": ev.after,
        "reason": ev.reason,
        "prev_hash": ev.prev_hash.to_hex(),
        "hash": e.hash.to_hex(),
    })
}
