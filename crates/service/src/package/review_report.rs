//! The Periodic Review Report (docs/package-format.md §12): the signed findings of one system
//! over one period, every periodic-review signature over them, the impact assessments they
//! count (records and signatures) and the signers' public keys, embedded in a PDF rendered by
//! the package machinery. Built from what the ledger and the store hold, each signature
//! re-verified first; written whole or not at all, never over an existing file, and recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use countersign_core::package::manifest::MANIFEST_FILE;
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::verify::public_key_path;
use countersign_core::qualified_state::{timeline, AssessmentRecord, Findings, Period, ReviewMark};
use countersign_core::review_report::{
    assessment_record_path, assessment_signature_path, report_id, review_signature_path,
    ReportFile, ReportRole, ReviewReportManifest, FINDINGS_FILE, REVIEW_REPORT_SCHEMA_V1,
};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::statement::{
    change_assessment_subject_name, periodic_review_subject_name,
};
use countersign_core::signature::verify::{verify_envelope, RecordRef};
use countersign_ledger::{NewEvent, SignatureRecord};
use countersign_pdf::{Attachment, DocumentKind, Relationship};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::review_document::{review_document, ReviewDocumentInput};
use super::write::{refuse_existing, write_partial};
use super::{offset_text, refuse_missing_folder, utc_millis};
use crate::error::{self as err, ServiceError};
use crate::periodic_review::{parse_period, subject_id, PERIODIC_REVIEW_SUBJECT};
use crate::{Service, CHANGE_ASSESSMENT_SUBJECT};

/// The ledger action recorded when a report is built.
pub const REVIEW_REPORT_BUILT: &str = "review_report.built";

/// What report to build and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewReportRequest {
    /// The system.
    pub system: String,
    /// The period reviewed, `FROM..TO` as it was signed.
    pub period: String,
    /// The PDF to write (never overwritten).
    pub out: PathBuf,
    /// Mark as demo even if no demo file is recognised.
    pub demo: bool,
}

/// What was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewReportBuilt {
    /// The report id.
    pub report_id: String,
    /// SHA-256 of the manifest.
    pub manifest_sha256: Sha256,
    /// SHA-256 of the findings: what the review signatures sign.
    pub findings_sha256: Sha256,
    /// The verdict of the findings.
    pub verdict: String,
    /// The PDF written.
    pub pdf: PathBuf,
    /// SHA-256 of the PDF.
    pub pdf_sha256: Sha256,
    /// Size of the PDF.
    pub pdf_size: u64,
    /// Review signatures carried.
    pub signatures: usize,
    /// Impact assessments carried.
    pub assessments: usize,
    /// Reviews of the same period over other (earlier) findings, not carried.
    pub superseded: usize,
    /// Marked "DEMO — NOT FOR GxP USE".
    pub demo: bool,
}

/// The files of a report, by path.
type Files = BTreeMap<String, (ReportRole, Vec<u8>)>;

impl Service {
    /// Builds the Periodic Review Report of `req.system` over `req.period` from the reviews
    /// signed for exactly that period: the findings of the newest review that verifies, with
    /// every review signature over them.
    pub fn review_report(
        &self,
        req: &ReviewReportRequest,
    ) -> Result<ReviewReportBuilt, ServiceError> {
        let now = self.now();
        let period = parse_period(&req.period)?;
        refuse_missing_folder(&req.out, "the report PDF")?;
        refuse_existing(&req.out, "the report PDF")?;
        crate::partial_output::sweep(crate::partial_output::folder_of(&req.out));

        let (findings_bytes, reviews, superseded) = self.signed_findings(&req.system, &period)?;
        let findings = Findings::parse(&findings_bytes).map_err(|e| {
            ServiceError::integrity(format!(
                "the findings the review of {} signed cannot be read back: {e}",
                req.system
            ))
        })?;
        let findings_sha256 = Sha256::of(&findings_bytes);
        let mut files: Files = BTreeMap::new();
        let mut key_ids: BTreeSet<KeyId> = BTreeSet::new();
        files.insert(
            FINDINGS_FILE.into(),
            (ReportRole::StateFindings, findings_bytes),
        );
        for (i, r) in reviews.iter().enumerate() {
            key_ids.insert(r.key_id);
            files.insert(
                review_signature_path(i + 1),
                (ReportRole::Signature, r.envelope.clone()),
            );
        }
        let assessments = self.counted_assessments(&findings)?;
        for (i, (record, row)) in assessments.iter().enumerate() {
            key_ids.insert(row.key_id);
            files.insert(
                assessment_record_path(i + 1),
                (ReportRole::AssessmentRecord, record.clone()),
            );
            files.insert(
                assessment_signature_path(i + 1),
                (ReportRole::AssessmentSignature, row.envelope.clone()),
            );
        }
        for k in self.ledger()?.signer_keys().map_err(err::from_ledger)? {
            if !key_ids.contains(&k.key_id) {
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
            files.insert(public_key_path(&f.key_id), (ReportRole::PublicKey, bytes));
        }

        let created_at = utc_millis(now);
        let demo = req.demo || self.system_is_demo(&req.system)?;
        let manifest = ReviewReportManifest {
            schema: REVIEW_REPORT_SCHEMA_V1.into(),
            report_id: report_id(&created_at, &findings_sha256),
            title: format!(
                "{} periodic review {} – {}",
                req.system,
                day(&period.from.to_string()),
                day(&period.to.to_string())
            ),
            system: req.system.clone(),
            period,
            created_at,
            utc_offset: offset_text(now),
            demo,
            findings_sha256,
            files: files
                .iter()
                .map(|(path, (role, bytes))| ReportFile {
                    path: path.clone(),
                    role: *role,
                    size: bytes.len() as u64,
                    sha256: Sha256::of(bytes),
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

        let generated_at = now
            .replace_millisecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .map_err(|e| ServiceError::storage(format!("could not format the time: {e}")))?;
        let marks: Vec<ReviewMark> = reviews
            .iter()
            .filter_map(|r| {
                Some(ReviewMark {
                    signed_at: r.signed_at.parse().ok()?,
                    from: period.from,
                    to: period.to,
                    printed_name: r.printed_name.clone(),
                })
            })
            .collect();
        let doc = review_document(&ReviewDocumentInput {
            manifest: &manifest,
            manifest_sha256: manifest_sha256.to_hex(),
            generated_at,
            findings: &findings,
            timeline: &timeline(&findings, &marks),
            reviews: &reviews,
            superseded,
        });
        let mut attachments = vec![Attachment {
            name: MANIFEST_FILE.into(),
            mime: "application/json".into(),
            bytes: manifest_bytes.clone(),
            relationship: Relationship::Data,
            description: "Report manifest: every file with its role and SHA-256".into(),
        }];
        for (path, (role, bytes)) in &files {
            attachments.push(Attachment {
                name: path.clone(),
                mime: "application/json".into(),
                bytes: bytes.clone(),
                relationship: match role {
                    ReportRole::StateFindings => Relationship::Data,
                    _ => Relationship::Supplement,
                },
                description: format!("{}: {path}", role.describe()),
            });
        }
        debug_assert_eq!(doc.kind, DocumentKind::PeriodicReviewReport);
        let pdf = countersign_pdf::render(&doc, &attachments)
            .map_err(|e| ServiceError::storage(format!("could not render the report PDF: {e}")))?;
        let pdf_sha256 = Sha256::of(&pdf);

        self.store()
            .put(&manifest_bytes, Some(&manifest_sha256))
            .map_err(err::from_store)?;
        let mut out = write_partial(&req.out, &pdf)?;
        out.place()?;
        let after = serde_json::json!({
            "manifest_sha256": manifest_sha256.to_hex(),
            "pdf_sha256": pdf_sha256.to_hex(),
            "findings_sha256": findings_sha256.to_hex(),
            "file_name": req.out.display().to_string(),
            "signatures": reviews.len(),
        })
        .to_string();
        let recorded = self.ledger().and_then(|mut l| {
            l.append(
                &NewEvent::new(
                    &Actor::system(),
                    REVIEW_REPORT_BUILT,
                    "review-report",
                    &manifest.report_id,
                )
                .after(after),
            )
            .map_err(err::from_ledger)
        });
        if let Err(e) = recorded {
            out.withdraw();
            return Err(e);
        }
        Ok(ReviewReportBuilt {
            report_id: manifest.report_id,
            manifest_sha256,
            findings_sha256,
            verdict: findings.verdict.text.clone(),
            pdf: req.out.clone(),
            pdf_sha256,
            pdf_size: pdf.len() as u64,
            signatures: reviews.len(),
            assessments: assessments.len(),
            superseded,
            demo,
        })
    }

    /// The findings of the newest review of `system` over `period` that verifies, the reviews
    /// that sign exactly them (in signing order), and how many reviews of the period signed
    /// other findings.
    fn signed_findings(
        &self,
        system: &str,
        period: &Period,
    ) -> Result<(Vec<u8>, Vec<SignatureRecord>, usize), ServiceError> {
        let id = subject_id(system, period);
        let name =
            periodic_review_subject_name(system, &period.from.to_string(), &period.to.to_string());
        let rows = self
            .ledger()?
            .signatures_of(PERIODIC_REVIEW_SUBJECT, &id)
            .map_err(err::from_ledger)?;
        let registry = self.key_registry()?;
        let mut valid: Vec<(SignatureRecord, Vec<u8>)> = Vec::new();
        for r in rows {
            let Ok(bytes) = self.store().read(&r.subject_sha256) else {
                continue;
            };
            let outcome = verify_envelope(
                &r.envelope,
                &RecordRef {
                    name: &name,
                    sha256: Sha256::of(&bytes),
                },
                &registry,
            );
            if outcome.is_valid() {
                valid.push((r, bytes));
            }
        }
        let Some((newest, bytes)) = valid.last().cloned() else {
            return Err(ServiceError::not_found(format!(
                "no periodic review of {system} over {}..{} is signed (and verifies) in this home; sign one first with `countersign state review`",
                period.from, period.to
            )));
        };
        let total = valid.len();
        let reviews: Vec<SignatureRecord> = valid
            .into_iter()
            .filter(|(r, _)| r.subject_sha256 == newest.subject_sha256)
            .map(|(r, _)| r)
            .collect();
        let superseded = total - reviews.len();
        Ok((bytes, reviews, superseded))
    }

    /// The record bytes and signature row of every assessment `findings` count, in their order.
    fn counted_assessments(
        &self,
        findings: &Findings,
    ) -> Result<Vec<(Vec<u8>, SignatureRecord)>, ServiceError> {
        let rows = self
            .ledger()?
            .signatures_of_kind(CHANGE_ASSESSMENT_SUBJECT)
            .map_err(err::from_ledger)?;
        let registry = self.key_registry()?;
        let mut out = Vec::new();
        for a in &findings.assessments {
            let found = rows
                .iter()
                .find(|r| r.envelope_sha256() == a.envelope_sha256)
                .and_then(|r| {
                    let bytes = self.store().read(&r.subject_sha256).ok()?;
                    let record = AssessmentRecord::parse(&bytes).ok()?;
                    let name = change_assessment_subject_name(&record.system, &record.change);
                    verify_envelope(
                        &r.envelope,
                        &RecordRef {
                            name: &name,
                            sha256: Sha256::of(&bytes),
                        },
                        &registry,
                    )
                    .is_valid()
                    .then(|| (bytes, r.clone()))
                });
            match found {
                Some(pair) => out.push(pair),
                None => {
                    return Err(ServiceError::integrity(format!(
                        "the signed findings count the impact assessment {} of change {}, which this home cannot read back and verify; the report is not built",
                        a.envelope_sha256, a.change
                    )))
                }
            }
        }
        Ok(out)
    }

    /// Whether any run of `system` holds a file of the bundled demo dataset.
    fn system_is_demo(&self, system: &str) -> Result<bool, ServiceError> {
        let demo: BTreeSet<[u8; 32]> = countersign_demo::run_file_digests().into_iter().collect();
        let prefix = format!("{system}/");
        Ok(self
            .ledger()?
            .objects()
            .map_err(err::from_ledger)?
            .iter()
            .filter(|o| o.run_key.as_deref().is_some_and(|r| r.starts_with(&prefix)))
            .any(|o| demo.contains(o.sha256.as_bytes())))
    }
}

/// The date part of a UTC time.
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}
