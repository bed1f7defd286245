//! `package sign`: a reviewer or QA approver signs the package itself (docs/package-format.md
//! §15). The act goes through the one signing flow (`signing::flow`); what differs is its
//! subject: the package PDF as it will stand with the signer's approval page appended, every
//! byte of it but the signature value.
//!
//! Before any secret is asked for, the package must verify against this home (byte for byte
//! what this home built, with the approvals it already carries), every run in it must be
//! approved, and the policy's package rules must allow the signer this meaning next. The
//! approved file is written whole under a partial name once the new signature verified, placed
//! once the signature is recorded, and never over an existing file.

use std::path::PathBuf;
use std::sync::Mutex;

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::model::Phase;
use countersign_core::package::approval::{read_approvals, PackageFacts, PackageState};
use countersign_core::package::public_key::PublicKeyFile;
use countersign_core::package::verify::{CheckState, Form};
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::policy::PriorSignature;
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_core::signature::statement::{package_subject_name, Statement};
use countersign_ledger::SignerKeyRecord;
use countersign_pdf::{prepare_approval, seal_approval, ApprovalPage, PreparedApproval};
use serde::Serialize;
use time::OffsetDateTime;

use super::publish::read_as_verified;
use super::write::{refuse_existing, refuse_missing_folder, write_partial};
use crate::error::ServiceError;
use crate::partial_output::PartialOutput;
use crate::session::SigningSession;
use crate::signing::flow::{ActSubject, SigningAct};
use crate::signing::{refused, SignSecrets};
use crate::Service;

/// The ledger's subject kind of a package approval.
pub const PACKAGE_SUBJECT: &str = "package";

/// A request to sign a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageSignRequest {
    /// The package PDF: as this home built it, or with the approvals made since.
    pub pdf: PathBuf,
    /// Where the signed PDF goes (a new file).
    pub out: PathBuf,
    /// `Reviewed` or `Approved`.
    pub meaning: Meaning,
    /// Why (mandatory).
    pub reason: String,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

/// What signing the package will do, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSignPlan {
    /// The package id.
    pub package_id: String,
    /// The digest that will be signed: the new revision's byte range.
    pub signed_sha256: Sha256,
    /// The signer's key.
    pub key_id: KeyId,
    /// The signer's enrolled identity.
    pub iam_arn: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
    /// The policy version.
    pub policy_version: u32,
    /// Where the policy came from.
    pub policy_source: String,
    /// What the signature covers, in a sentence.
    pub covers: String,
}

/// A package signed and written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSigned {
    /// The package id.
    pub package_id: String,
    /// The signed PDF.
    pub out: PathBuf,
    /// Meaning.
    pub meaning: Meaning,
    /// Printed name.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// The signed byte range's digest.
    pub signed_sha256: Sha256,
    /// SHA-256 of the signed PDF.
    pub sha256: Sha256,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// The package's state once signed, as `verify` establishes it from the written file.
    pub state: PackageState,
    /// A clock-skew warning, when the local clock and STS disagreed.
    pub clock_warning: Option<String>,
}

/// The package approval act.
struct PackageAct<'a> {
    req: &'a PackageSignRequest,
    prepared: Mutex<Option<PreparedApproval>>,
    written: Mutex<Option<PartialOutput>>,
}

impl<'a> PackageAct<'a> {
    fn new(req: &'a PackageSignRequest) -> Self {
        Self {
            req,
            prepared: Mutex::new(None),
            written: Mutex::new(None),
        }
    }
}

/// The slot's content; a slot poisoned by a panic elsewhere is still read (it holds plain data).
fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `2026-12-05 09:14:03 +01:00`: the local time with its offset, as the approval page shows it.
fn local_time(t: OffsetDateTime) -> String {
    let (oh, om, _) = t.offset().as_hms();
    let sign = if oh < 0 || om < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        oh.unsigned_abs(),
        om.unsigned_abs()
    )
}

impl SigningAct for PackageAct<'_> {
    fn kind(&self) -> &'static str {
        PACKAGE_SUBJECT
    }
    fn meaning(&self) -> Meaning {
        self.req.meaning
    }
    fn reason(&self) -> &str {
        &self.req.reason
    }
    fn reason_required(&self) -> &'static str {
        "a package approval needs a reason (--reason TEXT)"
    }
    fn key_id(&self) -> Option<&str> {
        self.req.key_id.as_deref()
    }
    fn mfa_serial(&self) -> Option<&str> {
        self.req.mfa_serial.as_deref()
    }

    fn subject(
        &self,
        service: &Service,
        signer: &SignerKeyRecord,
        now: OffsetDateTime,
    ) -> Result<ActSubject, ServiceError> {
        let req = self.req;
        refuse_missing_folder(&req.out, "the signed package")?;
        refuse_existing(&req.out, "the signed package")?;
        let shown = req.pdf.display();
        let v = service.verify_here(&req.pdf, None)?;
        if !v.verified {
            return Err(refused(format!(
                "{shown} does not verify ({}); only a package that verifies can be signed",
                v.first_problem().unwrap_or_default()
            )));
        }
        let pdf_report = v
            .reports
            .iter()
            .map(|(_, r)| r)
            .find(|r| r.form == Form::Pdf)
            .ok_or_else(|| {
                ServiceError::bad_input(format!(
                    "{shown} is not a package PDF; a package is signed in its PDF"
                ))
            })?;
        let built = pdf_report.checks.iter().find(|c| c.id == "built");
        if built.is_none_or(|c| c.state != CheckState::Passed) {
            return Err(refused(format!(
                "{shown} was not built in this home ({}); a package is signed in the home that built it, where its runs were signed",
                built.map_or("no build record", |c| c.detail.as_str())
            )));
        }
        let package_id = v
            .package_id()
            .ok_or_else(|| ServiceError::integrity(format!("{shown} names no package id")))?
            .to_owned();
        // The bytes signed are the bytes that verified: a file swapped in between is refused.
        let bytes = read_as_verified(&req.pdf, &v, "signed")?;
        let before = read_approvals(&bytes).map_err(ServiceError::integrity)?;
        let draft_len = before.draft_len(bytes.len());
        let mut history = Vec::new();
        let mut earlier = Vec::new();
        for r in &before.revisions {
            let env = Envelope::from_json(&r.envelope).map_err(|e| {
                ServiceError::integrity(format!("approval {} cannot be read: {e}", r.number))
            })?;
            let st = env
                .payload_bytes()
                .ok()
                .and_then(|p| Statement::from_payload(&p).ok())
                .ok_or_else(|| {
                    ServiceError::integrity(format!("approval {} cannot be read", r.number))
                })?;
            let p = st.predicate;
            earlier.push(format!(
                "{}. {} by {} at {} ({}): {}",
                r.number, p.meaning, p.printed_name, p.signed_at, p.utc_offset, p.reason
            ));
            history.push(PriorSignature {
                meaning: p.meaning,
                arn: p.iam_arn,
                printed_name: p.printed_name,
                key_id: p.key_id,
                envelope_sha256: env.digest(),
            });
        }
        let mut phases: Vec<Phase> = v
            .runs
            .iter()
            .filter_map(|r| r.run.split('/').nth(1)?.parse().ok())
            .collect();
        phases.sort();
        phases.dedup();
        let name = package_subject_name(&package_id);
        let facts = PackageFacts {
            name: name.clone(),
            phases,
            runs_not_approved: v
                .runs
                .iter()
                .filter(|r| r.state != countersign_core::lifecycle::RunState::Approved)
                .map(|r| format!("{} ({})", r.run, r.state.as_str()))
                .collect(),
            runs: v.runs.len(),
        };
        let number = before.revisions.len() + 1;
        let draft_sha256 = Sha256::of(&bytes[..draft_len]);
        let page = ApprovalPage {
            package_id: package_id.clone(),
            number,
            meaning: req.meaning.as_str().to_owned(),
            printed_name: signer.printed_name.clone(),
            iam_arn: signer.iam_arn.clone(),
            key_id: signer.key_id.to_hex(),
            signed_at_local: local_time(now),
            signed_at_utc: UtcTimestamp::new(now).to_string(),
            reason: req.reason.trim().to_owned(),
            draft_sha256: draft_sha256.to_hex(),
            earlier,
        };
        let public_key = PublicKeyFile::new(
            &signer.public_key,
            &signer.printed_name,
            &signer.iam_arn,
            &signer.enrolled_at,
            None,
        )
        .canonical_bytes()
        .map_err(|e| ServiceError::integrity(e.to_string()))?;
        let prepared = prepare_approval(&bytes, &page, &public_key)
            .map_err(|e| ServiceError::integrity(format!("{shown}: {e}")))?;
        // The digest is what a verifier derives from the written bytes, read back the way it
        // reads them.
        let digest = read_approvals(&prepared.bytes)
            .ok()
            .and_then(|a| a.revisions.last().cloned())
            .filter(|r| r.number == number && r.contents == prepared.contents)
            .map(|r| r.signed_sha256)
            .ok_or_else(|| {
                ServiceError::integrity(
                    "the approval revision did not read back as written; nothing was signed",
                )
            })?;
        let covers = format!(
            "every byte of {shown} (package {package_id}, draft SHA-256 {draft_sha256}, {} approval(s) before this one) with approval page {number} added: it shows your printed name, the meaning {}, your reason and the date and time of signing with your UTC offset. Only the signature value itself lies outside the signed bytes",
            before.revisions.len(),
            req.meaning,
        );
        *lock(&self.prepared) = Some(prepared);
        Ok(ActSubject {
            id: package_id,
            name,
            digest,
            history,
            rules: None,
            package: Some(facts),
            covers,
        })
    }

    fn before_record(&self, envelope: &[u8]) -> Result<(), ServiceError> {
        let prepared = lock(&self.prepared).take().ok_or_else(|| {
            ServiceError::integrity("the approval revision was not prepared; nothing was recorded")
        })?;
        let sealed = seal_approval(prepared, envelope)
            .map_err(|e| ServiceError::integrity(format!("{e}; nothing was recorded")))?;
        let read = read_approvals(&sealed).map_err(|e| {
            ServiceError::integrity(format!(
                "the signed package does not read back ({e}); nothing was recorded"
            ))
        })?;
        if read.revisions.last().map(|r| r.envelope.as_slice()) != Some(envelope) {
            return Err(ServiceError::integrity(
                "the signed package does not carry the new signature; nothing was recorded",
            ));
        }
        *lock(&self.written) = Some(write_partial(&self.req.out, &sealed)?);
        Ok(())
    }
}

impl Service {
    /// Checks a package signing before any secret is asked for: the package verifies against
    /// this home, its runs are approved, and the policy's package rules allow it. A refusal is
    /// recorded as `signature.refused`.
    pub fn package_sign_check(
        &self,
        session: &SigningSession,
        req: &PackageSignRequest,
    ) -> Result<PackageSignPlan, ServiceError> {
        let p = self.plan_signing(&PackageAct::new(req), session, self.now())?;
        Ok(PackageSignPlan {
            package_id: p.subject.id,
            signed_sha256: p.subject.digest,
            key_id: p.key.key_id,
            iam_arn: p.key.iam_arn,
            printed_name: p.key.printed_name,
            mfa_serial: p.mfa_serial,
            needs_mfa: p.needs_mfa,
            policy_version: p.policy.version,
            policy_source: p.policy_source,
            covers: p.subject.covers,
        })
    }

    /// Signs a package: the plan, the MFA session and passphrase, the approval revision with
    /// its page, the envelope verified, the signed PDF written, the signature recorded, the PDF
    /// placed at `req.out`, and verified again from there.
    pub async fn package_sign(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &PackageSignRequest,
        secrets: SignSecrets,
    ) -> Result<PackageSigned, ServiceError> {
        let act = PackageAct::new(req);
        let signed = self.sign_act(&act, aws, session, secrets).await?;
        let written = lock(&act.written).take();
        let mut written =
            written.ok_or_else(|| ServiceError::integrity("the signed package was not written"))?;
        written.place()?;
        let v = self.verify_here(&req.out, None)?;
        Ok(PackageSigned {
            package_id: signed.subject.id,
            out: req.out.clone(),
            meaning: signed.record.meaning,
            printed_name: signed.key.printed_name,
            signed_at: signed.record.signed_at.clone(),
            utc_offset: signed.record.utc_offset.clone(),
            signed_sha256: signed.subject.digest,
            // The SHA-256 of the file as it was just read and verified.
            sha256: v.sha256,
            envelope_sha256: signed.record.envelope_sha256(),
            state: v.package_state,
            clock_warning: signed.clock_warning,
        })
    }
}
