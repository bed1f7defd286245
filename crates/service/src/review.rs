//! Audit-trail review (21 CFR 11.10(e), EU GMP Annex 11 §9): a Part 11 signature meaning
//! "I reviewed the audit trail up to entry N". The subject is `audit-trail:<N>` and its digest
//! is the hash of entry N, which binds every entry before it; the signature is made, recorded
//! and verified exactly like a signature on a run.

use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::digest::Sha256;
use countersign_core::signature::predicate::{
    Meaning, Offset, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{audit_trail_subject_name, Statement, Subject};
use countersign_core::signature::verify::{verify_envelope, Outcome, RecordRef};
use countersign_ledger::{Actor, NewSignature};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::signing::{
    outcome_text, refused, signature_view, Authenticated, SignSecrets, SignatureView, Signing,
};
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
    pub key_id: String,
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
    pub key_id: String,
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
        let handoff_keys = self.handoff_keys()?;
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
                None => {
                    let mut v = signature_view(r, &name, Sha256::of(b""), &registry, &handoff_keys);
                    v.outcome = "entry_missing".into();
                    v.outcome_detail = format!(
                        "the audit trail has no entry {up_to}: it was truncated or replaced"
                    );
                    v
                }
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
        let r = self.resolve_review(req, session.now())?;
        let idle = time::Duration::minutes(i64::from(r.policy.session.idle_timeout_minutes));
        Ok(ReviewPlan {
            up_to: req.up_to,
            head_hash: r.head_hash,
            key_id: r.key.key_id.clone(),
            iam_arn: r.key.iam_arn.clone(),
            printed_name: r.key.printed_name.clone(),
            mfa_serial: r.mfa_serial.clone(),
            needs_mfa: session
                .open_identity(idle)
                .is_none_or(|i| i.arn != r.key.iam_arn),
        })
    }

    /// Signs "audit trail reviewed up to entry N" (meaning Reviewed), loading AWS settings
    /// for the MFA session.
    pub async fn ledger_review(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &ReviewRequest,
        secrets: SignSecrets,
    ) -> Result<ReviewInfo, ServiceError> {
        let ctx = AwsContext::load(aws).await?;
        self.ledger_review_with(&ctx, session, req, secrets).await
    }

    /// [`Self::ledger_review`] with a given AWS context.
    pub async fn ledger_review_with(
        &self,
        aws: &AwsContext,
        session: &mut SigningSession,
        req: &ReviewRequest,
        secrets: SignSecrets,
    ) -> Result<ReviewInfo, ServiceError> {
        let now = session.now();
        let r = self.resolve_review(req, now)?;
        let subject_id = req.up_to.to_string();
        let Authenticated {
            unlocked,
            identity,
            fresh,
            clock_warning,
        } = self
            .authenticate(
                aws,
                session,
                &Signing {
                    key: &r.key,
                    file: &r.file,
                    policy: &r.policy,
                    mfa_serial: &r.mfa_serial,
                    subject_kind: AUDIT_TRAIL_SUBJECT,
                    subject_id: &subject_id,
                    meaning: Meaning::Reviewed,
                },
                secrets,
                now,
            )
            .await?;
        let name = audit_trail_subject_name(req.up_to);
        let registry = self.key_registry()?;
        let earlier = self
            .ledger()?
            .signatures_of(AUDIT_TRAIL_SUBJECT, &subject_id)
            .map_err(err::from_ledger)?;
        let follows: Vec<Sha256> = earlier
            .iter()
            .filter(|s| {
                let o = verify_envelope(
                    &s.envelope,
                    &RecordRef {
                        name: &name,
                        sha256: r.head_hash,
                    },
                    &registry,
                );
                matches!(o, Outcome::Valid(_))
            })
            .map(|s| Sha256::of(&s.envelope))
            .collect();
        let predicate = Predicate {
            meaning: Meaning::Reviewed,
            reason: req.reason.trim().to_owned(),
            printed_name: r.key.printed_name.clone(),
            iam_arn: r.key.iam_arn.clone(),
            key_id: unlocked.key_id(),
            signed_at: UtcTimestamp::new(now),
            utc_offset: Offset::new(now.offset()),
            sts: StsEvidence {
                mfa_serial: identity.mfa_serial.clone(),
                session_expires_at: UtcTimestamp::new(identity.expires_at),
                server_time: identity.server_time_utc().map(UtcTimestamp::new),
            },
            policy: r.policy.reference(),
            follows,
        };
        let statement = Statement::new(Subject::new(name.clone(), r.head_hash), predicate);
        let envelope = unlocked.sign(&statement).map_err(|e| {
            ServiceError::integrity(format!("the review could not be encoded: {}", e.detail))
        })?;
        drop(unlocked);
        let bytes = envelope.to_canonical_json();
        let outcome = verify_envelope(
            &bytes,
            &RecordRef {
                name: &name,
                sha256: r.head_hash,
            },
            &registry,
        );
        if !outcome.is_valid() {
            return Err(ServiceError::integrity(format!(
                "the new review signature did not verify ({}); nothing was recorded",
                outcome_text(&outcome)
            )));
        }
        let signed_at = statement.predicate.signed_at.to_string();
        let utc_offset = statement.predicate.utc_offset.to_string();
        let envelope_sha256 = envelope.digest();
        let actor = Actor::person(r.key.iam_arn.clone(), r.key.printed_name.clone());
        self.ledger()?
            .record_signature(
                &NewSignature {
                    subject_kind: AUDIT_TRAIL_SUBJECT.into(),
                    subject_id,
                    subject_sha256: r.head_hash.to_hex(),
                    meaning: Meaning::Reviewed.as_str().to_owned(),
                    key_id: r.key.key_id.clone(),
                    printed_name: r.key.printed_name.clone(),
                    signed_at: signed_at.clone(),
                    utc_offset: utc_offset.clone(),
                    envelope: bytes,
                    envelope_sha256: envelope_sha256.to_hex(),
                    reason: req.reason.trim().to_owned(),
                },
                &actor,
            )
            .map_err(err::from_ledger)?;
        if let Some(f) = fresh {
            session.open = Some(f);
        }
        if let Some(open) = session.open.as_mut() {
            open.last_activity = now;
        }
        Ok(ReviewInfo {
            up_to: req.up_to,
            head_hash: r.head_hash,
            printed_name: r.key.printed_name,
            key_id: r.key.key_id,
            signed_at,
            utc_offset,
            envelope_sha256,
            clock_warning,
        })
    }

    fn resolve_review(
        &self,
        req: &ReviewRequest,
        now: time::OffsetDateTime,
    ) -> Result<ResolvedReview, ServiceError> {
        if req.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "an audit-trail review needs a reason (--reason TEXT): what was reviewed and found",
            ));
        }
        if req.up_to == 0 {
            return Err(ServiceError::bad_input(
                "--up-to must name an entry of the audit trail (the first is 1)",
            ));
        }
        let head_hash = {
            let ledger = self.ledger()?;
            let report = ledger.verify().map_err(err::from_ledger)?;
            if let Some(problem) = report.problem {
                return Err(ServiceError::integrity(format!(
                    "the audit trail does not verify, so it cannot be signed as reviewed: {problem}"
                )));
            }
            let last = report.head.map(|(s, _)| s).unwrap_or(0);
            let entry = ledger
                .event_at(req.up_to)
                .map_err(err::from_ledger)?
                .ok_or_else(|| {
                    ServiceError::bad_input(format!(
                        "the audit trail has no entry {}; it ends at entry {last}",
                        req.up_to
                    ))
                })?;
            entry.hash
        };
        let (info, file) = self.key_file(req.key_id.as_deref(), |k| {
            k.enrolled.as_ref().is_some_and(|e| e.revoked.is_none())
        })?;
        let key = match info.enrolled {
            Some(k) if k.revoked.is_none() => k,
            Some(k) => {
                return Err(refused(format!(
                    "the key {} was revoked; it cannot sign. Create and enroll a new key",
                    k.key_id
                )))
            }
            None => {
                return Err(refused(format!(
                    "the key {} is not enrolled; enroll it first with `countersign keys enroll`",
                    info.key_id
                )))
            }
        };
        let (policy, _) = self.signing_policy()?;
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            let msg = format!(
                "signing is locked for {} until {until} after repeated failed attempts (policy v{} lockout)",
                key.iam_arn, policy.version
            );
            self.ledger()?
                .record_signing_refusal(
                    AUDIT_TRAIL_SUBJECT,
                    &req.up_to.to_string(),
                    Meaning::Reviewed.as_str(),
                    "lockout",
                    &msg,
                    &Actor::person(key.iam_arn.clone(), key.printed_name.clone()),
                )
                .map_err(err::from_ledger)?;
            return Err(refused(msg));
        }
        let mfa_serial = match &req.mfa_serial {
            Some(s) => s.clone(),
            None => self.enrollment_serial(&key.key_id)?.unwrap_or_default(),
        };
        Ok(ResolvedReview {
            head_hash,
            file,
            key,
            policy,
            mfa_serial,
        })
    }
}

struct ResolvedReview {
    head_hash: Sha256,
    file: countersign_keys::KeyFile,
    key: countersign_ledger::SignerKeyRecord,
    policy: countersign_core::signature::policy::Policy,
    mfa_serial: String,
}
