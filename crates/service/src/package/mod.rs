//! `package`: a validation package of runs, as a PDF that carries its own machine-readable
//! record (manifest, run records and results, signature envelopes, signer keys, policy, stack
//! snapshots, audit evidence, audit-trail excerpt), and optionally a bundle (folder or zip)
//! with the original evidence. See docs/package-format.md.
//!
//! The build gathers everything first ([`assemble`]), then renders ([`document`]), then
//! writes ([`write`]) and records; a cancelled or refused build writes and records nothing.
//! [`verify`] reads any package back for the offline verifier.

mod approve;
mod assemble;
mod document;
mod list;
mod publish;
mod review_document;
mod review_report;
mod verify;
mod write;

use std::collections::BTreeSet;
use std::path::PathBuf;

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use countersign_core::package::manifest::{
    package_id, ManifestFile, PackageManifest, MANIFEST_FILE, MANIFEST_SCHEMA_V1,
};
use countersign_ledger::NewPackage;
use countersign_pdf::{Attachment, Relationship};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use self::approve::{PackageSignPlan, PackageSignRequest, PackageSigned, PACKAGE_SUBJECT};
pub use self::list::{PackageEntry, RecordedApproval};
pub use self::publish::{
    verify_published_file, PackagePublishRequest, PackagePublished, PublishedPackageObject,
    PACKAGE_PUBLISHED,
};
pub use self::review_report::{ReviewReportBuilt, ReviewReportRequest, REVIEW_REPORT_BUILT};
pub use self::verify::{verify_package_file, PackageVerification, S3Source, TrustedKeys};

use self::assemble::{Content, Gathered};
use self::document::{document, DocumentInput};
pub(crate) use self::write::refuse_missing_folder;
use self::write::{describe, media_type, refuse_existing, relationship, write_partial};
use crate::cancel::CancelToken;
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::partial_output::{self, PartialOutput};
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

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(super) fn utc_millis(t: OffsetDateTime) -> String {
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

pub(super) fn offset_text(t: OffsetDateTime) -> String {
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
pub(super) struct Steps<'a> {
    progress: &'a dyn Fn(&PackageProgress),
    cancel: &'a CancelToken,
    step: u64,
    steps: u64,
}

impl Steps<'_> {
    pub(super) fn next(&mut self, what: &str, run: Option<&str>) -> Result<(), ServiceError> {
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
    /// Builds a package now, reporting each step (every run checked, every run assembled,
    /// rendering, writing) and stopping before the next one once `cancel` is set. Every
    /// check comes before anything is written.
    pub fn package(
        &self,
        req: &PackageRequest,
        progress: &dyn Fn(&PackageProgress),
        cancel: &CancelToken,
    ) -> Result<PackageBuilt, ServiceError> {
        let now = self.now();
        if req.runs.is_empty() {
            return Err(ServiceError::bad_input(
                "name at least one run to package (SYSTEM/PHASE/RUN-ID)",
            ));
        }
        refuse_missing_folder(&req.out, "the package PDF")?;
        refuse_existing(&req.out, "the package PDF")?;
        if let Some(b) = &req.bundle {
            refuse_missing_folder(b, "the bundle")?;
            refuse_existing(b, "the bundle")?;
        }
        // Partial outputs a killed build left in the target folders are cleared.
        for target in std::iter::once(&req.out).chain(req.bundle.as_ref()) {
            partial_output::sweep(partial_output::folder_of(target));
        }
        let mut steps = Steps {
            progress,
            cancel,
            step: 0,
            steps: 2 * req.runs.len() as u64 + 2,
        };
        let views = self.check_runs(&req.runs, &mut steps)?;
        let mut g = Gathered {
            demo: req.demo,
            ..Gathered::default()
        };
        self.assemble_runs(views, &mut g, &mut steps)?;
        let key = req
            .trail_public_key
            .as_ref()
            .map(|(n, b)| (n.as_str(), b.as_slice()));
        self.add_supplements(key, &mut g)?;

        let manifest = manifest(req, now, &g);
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
            runs: &g.parts,
            snapshots: &g.snapshots,
            audit: &g.audit,
            audit_note: g.audit_note.clone(),
            events: &g.events,
        });
        let mut attachments = vec![Attachment {
            name: MANIFEST_FILE.into(),
            mime: "application/json".into(),
            bytes: manifest_bytes.clone(),
            relationship: Relationship::Data,
            description: "Package manifest: every file with its role and SHA-256".into(),
        }];
        for (path, f) in &g.files {
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

        // Keep the manifest; write every output whole under a partial name; place them; record.
        // If anything fails, what was placed is withdrawn: all of it written and recorded, or
        // nothing left behind.
        self.store()
            .put(&manifest_bytes, Some(&manifest_sha256))
            .map_err(err::from_store)?;
        let mut bundle_out = match &req.bundle {
            Some(bundle) => {
                let pdf_name = format!("{}.pdf", manifest.package_id);
                Some(self.write_bundle(bundle, &manifest_bytes, &g.files, &pdf_name, &pdf)?)
            }
            None => None,
        };
        let mut pdf_out = write_partial(&req.out, &pdf)?;
        if let Some(b) = bundle_out.as_mut() {
            b.place()?;
        }
        if let Err(e) = pdf_out.place() {
            if let Some(b) = bundle_out {
                b.withdraw();
            }
            return Err(e);
        }
        let withdraw = |pdf_out: PartialOutput, bundle_out: Option<PartialOutput>| {
            pdf_out.withdraw();
            if let Some(b) = bundle_out {
                b.withdraw();
            }
        };
        let record = NewPackage {
            package_id: manifest.package_id.clone(),
            manifest_sha256,
            pdf_sha256,
            pdf_size: pdf.len() as u64,
            file_name: req.out.display().to_string(),
            runs: manifest.runs.iter().map(|r| r.run.clone()).collect(),
        };
        let recorded = self.package_actor().and_then(|actor| {
            self.ledger()?
                .record_package(&record, &actor)
                .map_err(err::from_ledger)
        });
        if let Err(e) = recorded {
            withdraw(pdf_out, bundle_out);
            return Err(e);
        }
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
            signatures: g.parts.iter().map(|p| p.signatures.len()).sum(),
            demo: g.demo,
            status: doc.status,
        })
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
                    .find(|e| e.key_id.to_hex() == k.key_id && e.revoked.is_none())
                    .cloned()
            })
            .collect();
        Ok(match mine.as_slice() {
            [k] => Actor::person(k.iam_arn.clone(), k.printed_name.clone()),
            _ => Actor::system(),
        })
    }
}

/// The manifest of what was gathered.
fn manifest(req: &PackageRequest, now: OffsetDateTime, g: &Gathered) -> PackageManifest {
    let created_at = utc_millis(now);
    let digests: Vec<Sha256> = g.manifest_runs.iter().map(|r| r.record_sha256).collect();
    let systems: BTreeSet<String> = g
        .parts
        .iter()
        .map(|p| p.view.run.key.system.clone())
        .collect();
    let phases: BTreeSet<_> = g.parts.iter().map(|p| p.view.run.key.phase).collect();
    let systems: Vec<String> = systems.into_iter().collect();
    PackageManifest {
        schema: MANIFEST_SCHEMA_V1.into(),
        package_id: package_id(&created_at, &digests),
        title: req
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| format!("{} qualification package", systems.join(", "))),
        systems,
        phases: phases.into_iter().map(|p| p.to_string()).collect(),
        stacks: g.stacks.iter().cloned().collect(),
        created_at,
        utc_offset: offset_text(now),
        demo: g.demo,
        runs: g.manifest_runs.clone(),
        files: g
            .files
            .iter()
            .map(|(path, f)| ManifestFile {
                path: path.clone(),
                role: f.role,
                size: f.size,
                sha256: f.sha256,
            })
            .collect(),
    }
}
