//! Audit-trail review (21 CFR 11.10(e), EU GMP Annex 11 §9): a Part 11 signature meaning
//! "I reviewed the audit trail up to entry N". The subject is `audit-trail:<N>` and its digest
//! is the hash of entry N, which binds every entry before it; the signature is made, recorded
//! and verified exactly like a signature on a run.

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::statement::audit_trail_subject_name;
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::signing::flow::{ActSubject, SigningAct};
use crate::signing::view::signature_view;
use crate::signing::{SignSecrets, SignatureView};
use crate::Service;

/// Subject kind of an audit-trail review in the `signatures` table and its event.
pub const AUDIT_TRAIL_SUBJECT: &str = "audit-trail";

/// A request to sign an audit-trail review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequest {
    /// The last entry reviewed.
    pub up_to: u64,
    /// Why / what was found (mandatory).
    pub reason: String,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

/// What a review will sign, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewPlan {
    /// The last entry reviewed.
    pub up_to: u64,
    /// Hash of that entry: the signed digest.
    pub head_hash: Sha256,
    /// The reviewer's key.
    pub key_id: KeyId,
    /// The reviewer's enrolled identity.
    pub iam_arn: String,
    /// The reviewer's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
}

/// A review signature just recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewInfo {
    /// The last entry reviewed.
    pub up_to: u64,
    /// Hash of that entry (the signed digest).
    pub head_hash: Sha256,
    /// Printed name.
    pub printed_name: String,
    /// Key id.
    pub key_id: KeyId,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// A clock-skew warning, when the local clock and STS disagreed.
    pub clock_warning: Option<String>,
}

/// A recorded audit-trail review, verified against the trail as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReview {
    /// The last entry reviewed.
    pub up_to: u64,
    /// The signature (meaning Reviewed), with its outcome: `valid` while entry `up_to` still
    /// has the hash that was signed.
    pub signature: SignatureView,
}

/// "I reviewed the audit trail up to entry N": the subject is entry N's hash.
struct ReviewAct<'a>(&'a ReviewRequest);

impl SigningAct for ReviewAct<'_> {
    fn kind(&self) -> &'static str {
        AUDIT_TRAIL_SUBJECT
    }
    fn meaning(&self) -> Meaning {
        Meaning::Reviewed
    }
    fn reason(&self) -> &str {
        &self.0.reason
    }
    fn reason_required(&self) -> &'static str {
        "an audit-trail review needs a reason (--reason TEXT): what was reviewed and found"
    }
    fn key_id(&self) -> Option<&str> {
        self.0.key_id.as_deref()
    }
    fn mfa_serial(&self) -> Option<&str> {
        self.0.mfa_serial.as_deref()
    }
    fn subject(
        &self,
        service: &Service,
        _signer: &countersign_ledger::SignerKeyRecord,
        _now: time::OffsetDateTime,
    ) -> Result<ActSubject, ServiceError> {
        let up_to = self.0.up_to;
        if up_to == 0 {
            return Err(ServiceError::bad_input(
                "--up-to must name an entry of the audit trail (the first is 1)",
            ));
        }
        let digest = {
            let ledger = service.ledger()?;
            let report = ledger.verify().map_err(err::from_ledger)?;
            if let Some(problem) = report.problem {
                return Err(ServiceError::integrity(format!(
                    "the audit trail does not verify, so it cannot be signed as reviewed: {problem}"
                )));
            }
            let last = report.head.map(|(s, _)| s).unwrap_or(0);
            ledger
                .event_at(up_to)
                .map_err(err::from_ledger)?
                .ok_or_else(|| {
                    ServiceError::bad_input(format!(
                        "the audit trail has no entry {up_to}; it ends at entry {last}"
                    ))
                })?
                .hash
        };
        let id = up_to.to_string();
        let name = audit_trail_subject_name(up_to);
        // Earlier reviews of the same entry that still verify: the new one follows them.
        let history = service.signature_history(AUDIT_TRAIL_SUBJECT, &id, &name, digest, false)?;
        Ok(ActSubject {
            id,
            name,
            digest,
            history,
            rules: None,
            package: None,
            covers: "the audit-trail section under review".into(),
        })
    }
}

impl Service {
    /// The signatures recorded on one subject (`run`, `audit-trail`, …), in signing order.
    pub fn ledger_signatures(
        &self,
        subject_kind: &str,
        subject_id: &str,
    ) -> Result<Vec<countersign_ledger::SignatureRecord>, ServiceError> {
        self.ledger()?
            .signatures_of(subject_kind, subject_id)
            .map_err(err::from_ledger)
    }

    /// Every audit-trail review, oldest first, each verified against entry N's hash now.
    pub fn audit_reviews(&self) -> Result<Vec<AuditReview>, ServiceError> {
        let registry = self.key_registry()?;
        let handoff_keys = self.handoff_key_sources()?;
        let ledger = self.ledger()?;
        let rows = ledger
            .signatures_of_kind(AUDIT_TRAIL_SUBJECT)
            .map_err(err::from_ledger)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Ok(up_to) = r.subject_id.parse::<u64>() else {
                return Err(ServiceError::integrity(format!(
                    "the audit-trail review recorded at entry {} names no entry ({:?})",
                    r.event_seq, r.subject_id
                )));
            };
            let name = audit_trail_subject_name(up_to);
            let entry = ledger.event_at(up_to).map_err(err::from_ledger)?;
            let signature = match entry {
                Some(e) => signature_view(r, &name, e.hash, &registry, &handoff_keys),
                None => signature_view(r, &name, Sha256::of(b""), &registry, &handoff_keys)
                    .subject_missing(format!(
                        "the audit trail has no entry {up_to}: it was truncated or replaced"
                    )),
            };
            out.push(AuditReview { up_to, signature });
        }
        Ok(out)
    }

    /// Checks a review request without asking for secrets: a reason, an entry that exists in
    /// a ledger that verifies, an enrolled unrevoked key, no lockout.
    pub fn review_check(
        &self,
        session: &SigningSession,
        req: &ReviewRequest,
    ) -> Result<ReviewPlan, ServiceError> {
        let p = self.plan_signing(&ReviewAct(req), session, self.now())?;
        Ok(ReviewPlan {
            up_to: req.up_to,
            head_hash: p.subject.digest,
            key_id: p.key.key_id,
            iam_arn: p.key.iam_arn,
            printed_name: p.key.printed_name,
            mfa_serial: p.mfa_serial,
            needs_mfa: p.needs_mfa,
        })
    }

    /// Signs "audit trail reviewed up to entry N" (meaning Reviewed).
    pub async fn ledger_review(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &ReviewRequest,
        secrets: SignSecrets,
    ) -> Result<ReviewInfo, ServiceError> {
        let s = self
            .sign_act(&ReviewAct(req), aws, session, secrets)
            .await?;
        Ok(ReviewInfo {
            up_to: req.up_to,
            head_hash: s.subject.digest,
            printed_name: s.key.printed_name,
            key_id: s.record.key_id,
            signed_at: s.record.signed_at.clone(),
            utc_offset: s.record.utc_offset.clone(),
            envelope_sha256: s.record.envelope_sha256(),
            clock_warning: s.clock_warning,
        })
    }
}
