//! Building a validation package: gather runs, their records, signatures, keys, policy, stack
//! snapshots, audit evidence and the audit-trail excerpt; write the manifest; render the PDF
//! with the machine-readable record embedded; optionally write the bundle (folder or zip) with
//! the original evidence; record it all in the ledger. Format: docs/package-format.md.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use countersign_core::model::Integrity;
use countersign_core::package::manifest::{
    check_path, package_id, FileRole, ManifestFile, ManifestRun, PackageManifest, MANIFEST_FILE,
    MANIFEST_SCHEMA_V1,
};
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::run_data::RunData;
use countersign_core::package::verify::{public_key_path, signature_path};
use countersign_core::run_record::RunRecord;
use countersign_core::stack_snapshot::StackSnapshot;
use countersign_ledger::{EventFilter, EventRecord, NewPackage};
use countersign_pdf::{Attachment, Relationship};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::audit_evidence::AuditEvidenceReport;
use crate::cancel::CancelToken;
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::package_document::{document, DocumentInput};
use crate::runs::RunView;
use crate::signing::{SignatureView, DEFAULT_POLICY_JSON, POLICY_FILE};
use crate::Service;

/// What to package and where to write it.
#[derive(Debug, Clone, Default)]
pub struct PackageRequest {
    /// Runs: `SYSTEM/PHASE/RUN-ID` or unambiguous run ids.
    pub runs: Vec<String>,
    /// The PDF to write (never overwritten).
    pub out: PathBuf,
    /// Also write the bundle: a new folder, or a `.zip` file.
    pub bundle: Option<PathBuf>,
    /// Title; default "<systems> qualification package".
    pub title: Option<String>,
    /// Mark as demo even if no demo file is recognised.
    pub demo: bool,
    /// The CloudTrail public key(s) (file name, bytes) to validate the digest chain with.
    pub trail_public_key: Option<(String, Vec<u8>)>,
}

/// What was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageBuilt {
    /// The package id.
    pub package_id: String,
    /// SHA-256 of the manifest: what package signatures sign.
    pub manifest_sha256: Sha256,
    /// The PDF written.
    pub pdf: PathBuf,
    /// SHA-256 of the PDF.
    pub pdf_sha256: Sha256,
    /// Size of the PDF.
    pub pdf_size: u64,
    /// The bundle written, if any.
    pub bundle: Option<PathBuf>,
    /// Runs covered.
    pub runs: Vec<String>,
    /// Files listed in the manifest.
    pub files: usize,
    /// Files embedded in the PDF (the manifest included).
    pub embedded: usize,
    /// Signatures carried.
    pub signatures: usize,
    /// Marked "DEMO — NOT FOR GxP USE".
    pub demo: bool,
    /// The sign-off state printed on the cover.
    pub status: String,
}

/// One run as gathered for a package.
pub(crate) struct RunPart {
    pub view: RunView,
    pub record: RunRecord,
    pub record_sha256: Sha256,
    pub data: RunData,
    pub signatures: Vec<SignatureView>,
}

/// A file of the package with its bytes, or (evidence) where to read them.
enum Content {
    Bytes(Vec<u8>),
    Stored(Sha256),
}

struct PackageFile {
    role: FileRole,
    size: u64,
    sha256: Sha256,
    content: Content,
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "txt" | "log" => "text/plain",
        _ => "application/octet-stream",
    }
}

fn relationship(role: FileRole) -> Relationship {
    match role {
        FileRole::Signature | FileRole::PublicKey | FileRole::Policy => Relationship::Supplement,
        _ => Relationship::Data,
    }
}

fn describe(role: FileRole, path: &str) -> String {
    let what = match role {
        FileRole::RunRecord => "Run record (what run signatures sign)",
        FileRole::RunData => "Run results, normalised",
        FileRole::Evidence => "Original evidence file",
        FileRole::Signature => "DSSE signature envelope",
        FileRole::PublicKey => "Signer public key and enrollment",
        FileRole::Policy => "Signing policy",
        FileRole::StackSnapshot => "CloudFormation stack snapshot",
        FileRole::AuditEvidence => "Audit evidence summary",
        FileRole::AuditTrail => "Audit trail excerpt",
    };
    format!("{what}: {path}")
}

fn canonical<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, ServiceError> {
    countersign_core::signature::dsse::canonical_json(value)
        .map_err(|e| ServiceError::storage(format!("could not encode {what}: {e}")))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn utc_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn offset_text(t: OffsetDateTime) -> String {
    let (h, m, _) = t.offset().as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// How far a package build is: `step` of `steps`, named; `run` when the step is about one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageProgress {
    pub step: u64,
    pub steps: u64,
    pub what: String,
    pub run: Option<String>,
}

/// Reports a step, or stops the build when it was cancelled. Every check comes before anything
/// is written, so a cancelled build leaves no file behind and records nothing.
struct Steps<'a> {
    progress: &'a dyn Fn(&PackageProgress),
    cancel: &'a CancelToken,
    step: u64,
    steps: u64,
}

impl Steps<'_> {
    fn next(&mut self, what: &str, run: Option<&str>) -> Result<(), ServiceError> {
        if self.cancel.is_cancelled() {
            return Err(ServiceError::new(
                ErrorCode::Cancelled,
                "the package build was cancelled; nothing was written or recorded",
            ));
        }
        self.step += 1;
        (self.progress)(&PackageProgress {
            step: self.step,
            steps: self.steps,
            what: what.to_owned(),
            run: run.map(str::to_owned),
        });
        Ok(())
    }
}

impl Service {
    /// Builds a package now (UTC, like every other time Countersign records by default).
    pub fn package(&self, req: &PackageRequest) -> Result<PackageBuilt, ServiceError> {
        self.package_at(req, OffsetDateTime::now_utc())
    }

    /// Builds a package as of `now`.
    pub fn package_at(
        &self,
        req: &PackageRequest,
        now: OffsetDateTime,
    ) -> Result<PackageBuilt, ServiceError> {
        self.package_with(req, now, &|_| {}, &CancelToken::new())
    }

    /// [`Self::package_at`], reporting each step (every run checked, every run assembled,
    /// rendering, writing) and stopping before the next one once `cancel` is set.
    pub fn package_with(
        &self,
        req: &PackageRequest,
        now: OffsetDateTime,
        progress: &dyn Fn(&PackageProgress),
        cancel: &CancelToken,
    ) -> Result<PackageBuilt, ServiceError> {
        if req.runs.is_empty() {
            return Err(ServiceError::bad_input(
                "name at least one run to package (SYSTEM/PHASE/RUN-ID)",
            ));
        }
        refuse_existing(&req.out, "the package PDF")?;
        if let Some(b) = &req.bundle {
            refuse_existing(b, "the bundle")?;
        }

        // Runs, with every stored file re-read and re-hashed; nothing is silently omitted.
        let mut steps = Steps {
            progress,
            cancel,
            step: 0,
            steps: 2 * req.runs.len() as u64 + 2,
        };
        let mut views = Vec::new();
        let mut seen = BTreeSet::new();
        let mut problems = Vec::new();
        for run in &req.runs {
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

        let mut files: BTreeMap<String, PackageFile> = BTreeMap::new();
        let add = |files: &mut BTreeMap<String, PackageFile>,
                   path: String,
                   role: FileRole,
                   bytes: Vec<u8>|
         -> Result<(), ServiceError> {
            check_path(&path).map_err(|e| ServiceError::bad_input(e.to_string()))?;
            let sha256 = Sha256::of(&bytes);
            files.insert(
                path,
                PackageFile {
                    role,
                    size: bytes.len() as u64,
                    sha256,
                    content: Content::Bytes(bytes),
                },
            );
            Ok(())
        };

        let demo_digests: BTreeSet<[u8; 32]> =
            countersign_demo::run_file_digests().into_iter().collect();
        let mut demo = req.demo;
        let mut parts = Vec::new();
        let mut manifest_runs = Vec::new();
        let mut signer_keys: BTreeSet<String> = BTreeSet::new();
        let mut stacks: BTreeSet<String> = BTreeSet::new();
        let mut snapshot_refs = BTreeMap::new();
        for view in views {
            let id = view.summary.id.clone();
            steps.next("assembling the run's record and signatures", Some(&id))?;
            // The run as read and verified above: assembled once for the whole package.
            let ctx = self.record_context_of(view)?;
            let view = &ctx.view;
            let record_bytes = canonical(&ctx.record, "the run record")?;
            let record_sha256 = Sha256::of(&record_bytes);
            let data = RunData::of(&ctx.view.run, &ctx.record.dispositions);
            let data_bytes = canonical(&data, "the run data")?;
            let signatures = self.signatures_of(&ctx)?;
            let invalid: Vec<String> = signatures
                .iter()
                .enumerate()
                .filter(|(_, s)| s.outcome != "valid")
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
                    "the package was not built: a package carries only signatures that verify, and these do not:\n  {}\nA record changed since signing needs a new signature",
                    invalid.join("\n  ")
                )));
            }
            let record_path = format!("runs/{id}/record.json");
            let data_path = format!("runs/{id}/results.json");
            add(
                &mut files,
                record_path.clone(),
                FileRole::RunRecord,
                record_bytes,
            )?;
            add(&mut files, data_path.clone(), FileRole::RunData, data_bytes)?;
            for (i, s) in signatures.iter().enumerate() {
                add(
                    &mut files,
                    signature_path(&id, i + 1),
                    FileRole::Signature,
                    s.envelope.clone().into_bytes(),
                )?;
                signer_keys.insert(s.key_id.clone());
            }
            for f in &view.run.files {
                let Some(sha) = f.sha256 else { continue };
                demo |= demo_digests.contains(sha.as_bytes());
                let path = format!("runs/{id}/files/{}", f.path);
                check_path(&path).map_err(|e| {
                    ServiceError::bad_input(format!(
                        "run {id}: evidence {e}; it cannot be packaged"
                    ))
                })?;
                files.insert(
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
                stacks.insert(s.stack_name.clone());
                snapshot_refs.insert(s.sha256, s.clone());
            } else if let Some(s) = &view.summary.stack {
                stacks.insert(s.clone());
            }
            manifest_runs.push(ManifestRun {
                run: id.clone(),
                record: record_path,
                record_sha256,
                data: data_path,
                status: view.summary.status.as_str().to_owned(),
                totals: view.run.totals,
            });
            parts.push(RunPart {
                view: ctx.view,
                record: ctx.record,
                record_sha256,
                data,
                signatures,
            });
        }

        // Signers' public keys, as enrolled (revocation included).
        for k in self.ledger()?.signer_keys().map_err(err::from_ledger)? {
            if !signer_keys.contains(&k.key_id) {
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
            add(
                &mut files,
                public_key_path(&f.key_id),
                FileRole::PublicKey,
                bytes,
            )?;
        }
        add(
            &mut files,
            "policy.json".into(),
            FileRole::Policy,
            self.policy_bytes()?,
        )?;

        // Stack snapshots, byte for byte from the store.
        let mut snapshots = Vec::new();
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
            add(&mut files, path.clone(), FileRole::StackSnapshot, bytes)?;
            snapshots.push((path, snapshot));
        }

        // Audit evidence per stack.
        let mut audit: Vec<(String, AuditEvidenceReport)> = Vec::new();
        let mut audit_note = None;
        let key = req
            .trail_public_key
            .as_ref()
            .map(|(n, b)| (n.as_str(), b.as_slice()));
        if key.is_none() {
            audit_note = Some(
                "no CloudTrail public key was given, so digest signatures were not checked; build with --trail-public-key to validate the chain".to_owned(),
            );
        }
        for stack in &stacks {
            match self.audit_evidence_from(key, Some(stack)) {
                Ok(report) => {
                    let bytes = canonical(&report, "the audit-evidence report")?;
                    add(
                        &mut files,
                        format!("audit-evidence/{stack}.json"),
                        FileRole::AuditEvidence,
                        bytes,
                    )?;
                    audit.push((stack.clone(), report));
                }
                Err(e) if e.code == crate::ErrorCode::BadInput => return Err(e),
                Err(e) => {
                    audit_note = Some(format!("audit evidence for {stack}: {}", e.message));
                }
            }
        }

        // The audit-trail excerpt: every entry about these runs and their signers' keys.
        let events = self.package_events(&parts, &signer_keys)?;
        let trail: Vec<serde_json::Value> = events.iter().map(event_json).collect();
        add(
            &mut files,
            "audit-trail.json".into(),
            FileRole::AuditTrail,
            canonical(&trail, "the audit-trail excerpt")?,
        )?;

        // The manifest.
        let created_at = utc_millis(now);
        let digests: Vec<Sha256> = manifest_runs.iter().map(|r| r.record_sha256).collect();
        let systems: BTreeSet<String> = parts
            .iter()
            .map(|p| p.view.run.key.system.clone())
            .collect();
        let phases: BTreeSet<_> = parts.iter().map(|p| p.view.run.key.phase).collect();
        let systems: Vec<String> = systems.into_iter().collect();
        let manifest = PackageManifest {
            schema: MANIFEST_SCHEMA_V1.into(),
            package_id: package_id(&created_at, &digests),
            title: req
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| format!("{} qualification package", systems.join(", "))),
            systems,
            phases: phases.into_iter().map(|p| p.to_string()).collect(),
            stacks: stacks.into_iter().collect(),
            created_at,
            utc_offset: offset_text(now),
            demo,
            runs: manifest_runs,
            files: files
                .iter()
                .map(|(path, f)| ManifestFile {
                    path: path.clone(),
                    role: f.role,
                    size: f.size,
                    sha256: f.sha256,
                })
                .collect(),
        };
        manifest
            .check()
            .map_err(|e| ServiceError::bad_input(e.to_string()))?;
        let manifest_bytes = manifest
            .canonical_bytes()
            .map_err(|e| ServiceError::storage(e.to_string()))?;
        let manifest_sha256 = Sha256::of(&manifest_bytes);

        // The PDF.
        let generated_at = now
            .replace_millisecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .map_err(|e| ServiceError::storage(format!("could not format the time: {e}")))?;
        let doc = document(&DocumentInput {
            manifest: &manifest,
            manifest_sha256: manifest_sha256.to_hex(),
            generated_at,
            runs: &parts,
            snapshots: &snapshots,
            audit: &audit,
            audit_note,
            events: &events,
        });
        let mut attachments = vec![Attachment {
            name: MANIFEST_FILE.into(),
            mime: "application/json".into(),
            bytes: manifest_bytes.clone(),
            relationship: Relationship::Data,
            description: "Package manifest: every file with its role and SHA-256".into(),
        }];
        for (path, f) in &files {
            if let Content::Bytes(bytes) = &f.content {
                attachments.push(Attachment {
                    name: path.clone(),
                    mime: media_type(path).into(),
                    bytes: bytes.clone(),
                    relationship: relationship(f.role),
                    description: describe(f.role, path),
                });
            }
        }
        steps.next("rendering the PDF", None)?;
        let pdf = countersign_pdf::render(&doc, &attachments)
            .map_err(|e| ServiceError::storage(format!("could not render the package PDF: {e}")))?;
        let pdf_sha256 = Sha256::of(&pdf);
        steps.next("writing the package", None)?;

        // Keep the manifest; write the outputs; record.
        self.store()
            .put(&manifest_bytes, Some(&manifest_sha256))
            .map_err(err::from_store)?;
        if let Some(bundle) = &req.bundle {
            let pdf_name = format!("{}.pdf", manifest.package_id);
            self.write_bundle(bundle, &manifest_bytes, &files, &pdf_name, &pdf)?;
        }
        write_new(&req.out, &pdf)?;
        let record = NewPackage {
            package_id: manifest.package_id.clone(),
            manifest_sha256,
            pdf_sha256,
            pdf_size: pdf.len() as u64,
            file_name: req.out.display().to_string(),
            runs: manifest.runs.iter().map(|r| r.run.clone()).collect(),
        };
        let actor = self.package_actor()?;
        self.ledger()?
            .record_package(&record, &actor)
            .map_err(err::from_ledger)?;
        Ok(PackageBuilt {
            package_id: manifest.package_id.clone(),
            manifest_sha256,
            pdf: req.out.clone(),
            pdf_sha256,
            pdf_size: pdf.len() as u64,
            bundle: req.bundle.clone(),
            runs: record.runs,
            files: manifest.files.len(),
            embedded: attachments.len(),
            signatures: parts.iter().map(|p| p.signatures.len()).sum(),
            demo,
            status: doc.status,
        })
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

    /// The person building, when this home holds exactly one enrolled, unrevoked key.
    fn package_actor(&self) -> Result<Actor, ServiceError> {
        let keys = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let mine: Vec<_> = self
            .keys()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| {
                keys.iter()
                    .find(|e| e.key_id == k.key_id && e.revoked.is_none())
                    .cloned()
            })
            .collect();
        Ok(match mine.as_slice() {
            [k] => Actor::person(k.iam_arn.clone(), k.printed_name.clone()),
            _ => Actor::system(),
        })
    }

    fn package_events(
        &self,
        parts: &[RunPart],
        key_ids: &BTreeSet<String>,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        let ledger = self.ledger()?;
        let mut by_seq = BTreeMap::new();
        let ids = parts
            .iter()
            .map(|p| p.view.summary.id.clone())
            .chain(key_ids.iter().cloned());
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

    fn write_bundle(
        &self,
        target: &Path,
        manifest: &[u8],
        files: &BTreeMap<String, PackageFile>,
        pdf_name: &str,
        pdf: &[u8],
    ) -> Result<(), ServiceError> {
        let is_zip = target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let content = |f: &PackageFile| -> Result<Vec<u8>, ServiceError> {
            match &f.content {
                Content::Bytes(b) => Ok(b.clone()),
                Content::Stored(sha) => self.store().read(sha).map_err(err::from_store),
            }
        };
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let io = |what: &str, e: &dyn std::fmt::Display| {
            ServiceError::storage(format!(
                "could not write the bundle {}: {what}: {e}",
                target.display()
            ))
        };
        if is_zip {
            let tmp =
                tempfile::NamedTempFile::new_in(parent).map_err(|e| io("temporary file", &e))?;
            let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default());
            let mut put = |name: &str, bytes: &[u8]| -> Result<(), ServiceError> {
                zip.start_file(name, options).map_err(|e| io(name, &e))?;
                zip.write_all(bytes).map_err(|e| io(name, &e))
            };
            put(MANIFEST_FILE, manifest)?;
            put(pdf_name, pdf)?;
            for (path, f) in files {
                put(path, &content(f)?)?;
            }
            let tmp = zip
                .finish()
                .map_err(|e| io("finishing", &e))?
                .into_inner()
                .map_err(|e| io("flushing", &e.error()))?;
            tmp.as_file().sync_all().map_err(|e| io("syncing", &e))?;
            tmp.persist_noclobber(target)
                .map_err(|e| io("moving into place", &e.error))?;
        } else {
            // Written into a temporary folder beside the target, then renamed: no half bundle.
            let tmp = tempfile::Builder::new()
                .prefix(".countersign-bundle-")
                .tempdir_in(parent)
                .map_err(|e| io("temporary folder", &e))?;
            let write = |rel: &str, bytes: &[u8]| -> Result<(), ServiceError> {
                let path = tmp.path().join(rel);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io(rel, &e))?;
                }
                std::fs::write(&path, bytes).map_err(|e| io(rel, &e))
            };
            write(MANIFEST_FILE, manifest)?;
            write(pdf_name, pdf)?;
            for (path, f) in files {
                write(path, &content(f)?)?;
            }
            let kept = tmp.keep();
            if let Err(e) = std::fs::rename(&kept, target) {
                let _ = std::fs::remove_dir_all(&kept);
                return Err(io("moving into place", &e));
            }
        }
        Ok(())
    }
}

fn refuse_existing(path: &Path, what: &str) -> Result<(), ServiceError> {
    if path.exists() {
        return Err(ServiceError::bad_input(format!(
            "{what} {} already exists; choose a new name (nothing is overwritten)",
            path.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` to a new file at `path` through a temporary file: never a half PDF, never
/// over an existing file.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let fail = |e: &dyn std::fmt::Display| {
        ServiceError::storage(format!("could not write {}: {e}", path.display()))
    };
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(|e| fail(&e))?;
    tmp.write_all(bytes).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            ServiceError::bad_input(format!(
                "{} already exists; choose a new name (nothing is overwritten)",
                path.display()
            ))
        } else {
            fail(&e.error)
        }
    })?;
    Ok(())
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
