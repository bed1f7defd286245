//! The formal re-open of a signed run (21 CFR 11.10(e), 11.70): a signature with the meaning
//! `Reopened` (predicate version 3, docs/signature-format.md §15) on the run's record as it
//! stands, by someone the policy allows to approve the run's phase, with a reason. It goes
//! through the one signing flow as a run signature does. Afterwards the run's earlier
//! signatures show as superseded by it, its dispositions may change again (each authenticated),
//! and a new review and approval follow.

use countersign_aws::AwsSettings;
use countersign_core::signature::predicate::Meaning;

use super::{RunAct, SignPlan, SignRequest, SignSecrets, SignatureInfo};
use crate::error::ServiceError;
use crate::session::SigningSession;
use crate::Service;

/// A request to re-open a signed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopenRequest {
    /// The run.
    pub run: String,
    /// Why it is re-opened (mandatory; shown wherever its superseded signatures are).
    pub reason: String,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

impl ReopenRequest {
    fn as_signing(&self) -> SignRequest {
        SignRequest {
            run: self.run.clone(),
            meaning: Meaning::Reopened,
            reason: self.reason.clone(),
            key_id: self.key_id.clone(),
            mfa_serial: self.mfa_serial.clone(),
        }
    }
}

impl Service {
    /// Checks a re-open before any secret is asked for: the key, the lockout, the authority
    /// to approve the run's phase, and a signature in the current cycle to supersede. A
    /// refusal is recorded as `signature.refused`.
    pub fn reopen_check(
        &self,
        session: &SigningSession,
        req: &ReopenRequest,
    ) -> Result<SignPlan, ServiceError> {
        let signing = req.as_signing();
        Ok(self
            .plan_signing(&RunAct(&signing), session, self.now())?
            .into())
    }

    /// Re-opens a signed run: the same ceremony as a signature (MFA-backed session and
    /// passphrase), recorded with its event in one transaction.
    pub async fn reopen(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &ReopenRequest,
        secrets: SignSecrets,
    ) -> Result<SignatureInfo, ServiceError> {
        let signing = req.as_signing();
        Ok(self
            .sign_act(&RunAct(&signing), aws, session, secrets)
            .await?
            .into())
    }
}
