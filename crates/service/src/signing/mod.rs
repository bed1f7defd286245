//! Part 11 signatures (21 CFR 11.50, 11.70, 11.100, 11.200): one flow for every signing act
//! ([`flow`]), the two signature components ([`authenticate`]), the policy file in force
//! ([`policy_file`]), how recorded signatures are shown ([`view`]), and the first act, a
//! signature on a run's record.

pub(crate) mod authenticate;
pub(crate) mod flow;
mod policy_file;
mod reopen;
pub(crate) mod view;

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::run_record::RunRecord;
use countersign_core::secret::MfaCode;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::policy::RecordFacts;
use countersign_core::signature::predicate::Meaning;
use countersign_keys::Passphrase;
use serde::Serialize;

pub use policy_file::{DEFAULT_POLICY_JSON, POLICY_FILE};
pub use reopen::ReopenRequest;
pub use view::{SignatureView, Supersession};

use self::flow::{ActSubject, SigningAct};
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::session::SigningSession;
use crate::Service;

/// The ledger's subject kind of a run.
pub(crate) const RUN_SUBJECT: &str = "run";

/// A request to sign a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// The run.
    pub run: String,
    /// What the signature means.
    pub meaning: Meaning,
    /// Why (mandatory).
    pub reason: String,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

/// The secrets of one signing: the passphrase, and the MFA code when the session is not open.
/// Both are zeroized on drop and `<redacted>` in `Debug`.
#[derive(Debug)]
pub struct SignSecrets {
    /// The key passphrase.
    pub passphrase: Passphrase,
    /// The MFA one-time code, needed when the session is not open.
    pub mfa_code: Option<MfaCode>,
}

/// What signing will do, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignPlan {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// The record digest that would be signed.
    pub record_sha256: Sha256,
    /// The signer's key.
    pub key_id: KeyId,
    /// The signer's enrolled identity.
    pub iam_arn: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when the session is not open: an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
    /// The policy version.
    pub policy_version: u32,
    /// Where the policy came from (`<home>/policy.json` or `built-in default`).
    pub policy_source: String,
    /// What the record digest covers, in a sentence.
    pub covers: String,
}

/// A signature just applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// Meaning.
    pub meaning: Meaning,
    /// Key id.
    pub key_id: KeyId,
    /// Printed name.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// The signed record digest.
    pub record_sha256: Sha256,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// The envelope bytes.
    pub envelope: String,
    /// A clock-skew warning, when the local clock and STS disagreed.
    pub clock_warning: Option<String>,
}

pub(crate) fn refused(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::Refused, message)
}

/// A signature on a run's record (`countersign.run-record/v1`): its files and dispositions.
/// A re-open is this act with the meaning `Reopened` (`reopen.rs`).
pub(crate) struct RunAct<'a>(pub(crate) &'a SignRequest);

impl SigningAct for RunAct<'_> {
    fn kind(&self) -> &'static str {
        RUN_SUBJECT
    }
    fn meaning(&self) -> Meaning {
        self.0.meaning
    }
    fn reason(&self) -> &str {
        &self.0.reason
    }
    fn reason_required(&self) -> &'static str {
        if self.0.meaning == Meaning::Reopened {
            "a re-open needs a reason (--reason TEXT)"
        } else {
            "a signature needs a reason (--reason TEXT)"
        }
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
        let ctx = service.record_context(&self.0.run)?;
        let digest = crate::disposition::record_digest(&ctx.record)?;
        let id = ctx.view.summary.id.clone();
        let name = RunRecord::subject_name(&ctx.view.run.key);
        let history = service.run_history(&ctx)?;
        let covers = covers(&ctx);
        let rules = RecordFacts {
            name: name.clone(),
            phase: ctx.view.run.key.phase,
            executor_arn: ctx
                .view
                .run
                .manifest
                .as_ref()
                .and_then(|m| m.executor.as_ref())
                .and_then(|e| e.arn.clone()),
            undispositioned: ctx.undispositioned,
        };
        Ok(ActSubject {
            id,
            name,
            digest,
            history,
            rules: Some(rules),
            package: None,
            covers,
        })
    }
}

/// What a run record covers, in a sentence: the signer is shown this before signing.
fn covers(ctx: &crate::disposition::RecordContext) -> String {
    let r = &ctx.record;
    let files = format!(
        "{} evidence file(s) by SHA-256 and {} disposition(s)",
        r.files.len(),
        r.dispositions.len()
    );
    match &r.run_data {
        Some(d) => format!(
            "{files}, and the results exactly as shown: {} case(s) with their statuses and messages, the traceability and the dispositions (run data SHA-256 {}, read by {}); run record {}",
            ctx.data.cases.len(),
            d.sha256,
            d.parser,
            r.schema
        ),
        None => format!(
            "{files}; run record {} (this cycle began on it): the results tables are not covered by the signature",
            r.schema
        ),
    }
}

impl Service {
    /// The genuine signatures on a run in signing order, those made before its record changed
    /// included (a record's history survives its change): what the policy and the run's state
    /// are decided from.
    pub(crate) fn run_history(
        &self,
        ctx: &crate::disposition::RecordContext,
    ) -> Result<Vec<countersign_core::signature::policy::PriorSignature>, ServiceError> {
        let digest = crate::disposition::record_digest(&ctx.record)?;
        let name = RunRecord::subject_name(&ctx.view.run.key);
        self.signature_history(RUN_SUBJECT, &ctx.view.summary.id, &name, digest, true)
    }

    /// The run's signatures, each verified against the record as it stands now.
    pub fn signatures(&self, run: &str) -> Result<Vec<SignatureView>, ServiceError> {
        Ok(self
            .signatures_in_order(run)?
            .into_iter()
            .map(|(view, _)| view)
            .collect())
    }

    /// The signatures on `run` verified as [`Service::signatures`] does, each with the ledger
    /// entry that recorded it (the order signatures and evidence arrived in this home).
    pub(crate) fn signatures_in_order(
        &self,
        run: &str,
    ) -> Result<Vec<(SignatureView, u64)>, ServiceError> {
        let ctx = self.record_context(run)?;
        self.signatures_of(&ctx)
    }

    /// [`signatures_in_order`](Self::signatures_in_order) against a record already derived.
    pub(crate) fn signatures_of(
        &self,
        ctx: &crate::disposition::RecordContext,
    ) -> Result<Vec<(SignatureView, u64)>, ServiceError> {
        let digest = crate::disposition::record_digest(&ctx.record)?;
        let name = RunRecord::subject_name(&ctx.view.run.key);
        let registry = self.key_registry()?;
        let handoff_keys = self.handoff_key_sources()?;
        let rows = self
            .ledger()?
            .signatures_of(RUN_SUBJECT, &ctx.view.summary.id)
            .map_err(err::from_ledger)?;
        let seqs: Vec<u64> = rows.iter().map(|r| r.event_seq).collect();
        Ok(
            view::record_signature_views(rows, &name, digest, &registry, &handoff_keys)
                .into_iter()
                .zip(seqs)
                .collect(),
        )
    }

    /// Checks a signing request before any secret is asked for: the signer's enrolled key,
    /// the lockout, and the policy (authority, sequence, separation of duties, dispositions).
    /// A refusal is recorded as `signature.refused` and returned as [`ErrorCode::Refused`].
    pub fn sign_check(
        &self,
        session: &SigningSession,
        req: &SignRequest,
    ) -> Result<SignPlan, ServiceError> {
        let p = self.plan_signing(&RunAct(req), session, self.now())?;
        Ok(p.into())
    }

    /// Signs a run: the policy check, then the session (an MFA code opens a fresh STS session
    /// that must be the enrolled identity, or the open session), then the passphrase, then the
    /// envelope, verified and recorded.
    pub async fn sign(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &SignRequest,
        secrets: SignSecrets,
    ) -> Result<SignatureInfo, ServiceError> {
        let s = self.sign_act(&RunAct(req), aws, session, secrets).await?;
        Ok(s.into())
    }
}

impl From<flow::Planned> for SignPlan {
    fn from(p: flow::Planned) -> Self {
        SignPlan {
            run: p.subject.id,
            record_sha256: p.subject.digest,
            key_id: p.key.key_id,
            iam_arn: p.key.iam_arn,
            printed_name: p.key.printed_name,
            mfa_serial: p.mfa_serial,
            needs_mfa: p.needs_mfa,
            policy_version: p.policy.version,
            policy_source: p.policy_source,
            covers: p.subject.covers,
        }
    }
}

impl From<flow::Signed> for SignatureInfo {
    fn from(s: flow::Signed) -> Self {
        SignatureInfo {
            run: s.subject.id,
            meaning: s.record.meaning,
            key_id: s.record.key_id,
            printed_name: s.key.printed_name,
            signed_at: s.record.signed_at.clone(),
            utc_offset: s.record.utc_offset.clone(),
            record_sha256: s.subject.digest,
            envelope_sha256: s.record.envelope_sha256(),
            envelope: String::from_utf8_lossy(&s.record.envelope).into_owned(),
            clock_warning: s.clock_warning,
        }
    }
}

impl Service {
    /// The ledger's events matching `filter`, in order (the audit trail of signing and the rest).
    pub fn ledger_events(
        &self,
        filter: &countersign_ledger::EventFilter,
    ) -> Result<Vec<countersign_ledger::EventRecord>, ServiceError> {
        self.ledger()?.events(filter).map_err(err::from_ledger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = SignSecrets {
            passphrase: Passphrase::new("correct horse battery".into()),
            mfa_code: Some(MfaCode::new("123456".into())),
        };
        let text = format!("{s:?}");
        assert!(
            !text.contains("horse") && !text.contains("123456"),
            "{text}"
        );
    }
}
