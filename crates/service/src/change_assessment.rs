//! Impact assessment of a change since approval (docs/qualified-state.md): a Part 11 signature
//! meaning `Assessed` (signature predicate version 2) over the canonical
//! `countersign.change-assessment/v1` record (system, change id, impact, change-control
//! reference), made through the one signing flow. The change must be one the current findings
//! of the system show, so what is signed is what `state` showed. The record's bytes are stored
//! (content-addressed by the signed digest) before the signature is recorded, so every recorded
//! assessment can be read back and verified.

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::qualified_state::assessment::MAX_REFERENCE_CHARS;
use countersign_core::qualified_state::{AssessmentRecord, AssessmentRef, Impact};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_core::signature::statement::change_assessment_subject_name;
use countersign_core::signature::verify::{verify_envelope, RecordRef};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::signing::flow::{ActSubject, SigningAct};
use crate::signing::SignSecrets;
use crate::{Service, SystemOutcome};

/// Subject kind of an impact assessment in the `signatures` table and its event.
pub const CHANGE_ASSESSMENT_SUBJECT: &str = "change-assessment";

/// A request to assess one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessRequest {
    /// The system.
    pub system: String,
    /// The change's id (64 hex), as `state` shows it.
    pub change: String,
    /// The impact decided.
    pub impact: Impact,
    /// The change-control reference, if any.
    pub reference: Option<String>,
    /// Why (mandatory).
    pub reason: String,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

/// What an assessment will sign, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessPlan {
    /// The change's one-line summary, as `state` shows it.
    pub summary: String,
    /// The record signed.
    pub record: AssessmentRecord,
    /// Its digest: the signed digest.
    pub record_sha256: Sha256,
    /// The assessor's key.
    pub key_id: KeyId,
    /// The assessor's enrolled identity.
    pub iam_arn: String,
    /// The assessor's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
}

/// An assessment just recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessInfo {
    /// The record signed.
    pub record: AssessmentRecord,
    /// Printed name.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// A clock-skew warning, when the local clock and STS disagreed.
    pub clock_warning: Option<String>,
}

struct AssessAct<'a> {
    req: &'a AssessRequest,
    record: AssessmentRecord,
}

impl AssessAct<'_> {
    fn new(req: &AssessRequest) -> Result<AssessAct<'_>, ServiceError> {
        let change: Sha256 = req.change.trim().parse().map_err(|_| {
            ServiceError::bad_input(format!(
                "{:?} is not a change id: 64 hexadecimal characters, as `countersign state` shows them",
                req.change.chars().take(80).collect::<String>()
            ))
        })?;
        if let Some(r) = &req.reference {
            if r.chars().count() > MAX_REFERENCE_CHARS || r.chars().any(char::is_control) {
                return Err(ServiceError::bad_input(format!(
                    "the change-control reference must be one line of at most {MAX_REFERENCE_CHARS} characters"
                )));
            }
        }
        Ok(AssessAct {
            record: AssessmentRecord::new(
                &req.system,
                change,
                req.impact,
                req.reference.as_deref(),
            ),
            req,
        })
    }

    fn bytes(&self) -> Result<Vec<u8>, ServiceError> {
        self.record
            .canonical_bytes()
            .map_err(|e| ServiceError::storage(format!("the assessment could not be encoded: {e}")))
    }
}

impl SigningAct for AssessAct<'_> {
    fn kind(&self) -> &'static str {
        CHANGE_ASSESSMENT_SUBJECT
    }
    fn meaning(&self) -> Meaning {
        Meaning::Assessed
    }
    fn reason(&self) -> &str {
        &self.req.reason
    }
    fn reason_required(&self) -> &'static str {
        "an impact assessment needs a reason (--reason TEXT): why the change has this impact"
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
        _signer: &countersign_ledger::SignerKeyRecord,
        _now: time::OffsetDateTime,
    ) -> Result<ActSubject, ServiceError> {
        service.change_summary(&self.record.system, &self.record.change)?;
        let digest = Sha256::of(&self.bytes()?);
        Ok(ActSubject {
            id: format!("{}/{}", self.record.system, self.record.change),
            name: change_assessment_subject_name(&self.record.system, &self.record.change),
            digest,
            history: Vec::new(),
            // Not a signature on a record: the policy's record rules do not govern it.
            rules: None,
            package: None,
            covers: "the impact assessment record of this change".into(),
        })
    }
}

impl Service {
    /// The summary of change `change` among the current findings of `system`; not found when
    /// `state` does not show it.
    fn change_summary(&self, system: &str, change: &Sha256) -> Result<String, ServiceError> {
        let report = self.state(Some(system), None)?;
        let found = report.systems.iter().find_map(|s| match &s.state {
            SystemOutcome::Qualified { findings, .. } => {
                findings.change(change).map(|c| c.summary.clone())
            }
            SystemOutcome::NotQualified { .. } => None,
        });
        found.ok_or_else(|| {
            ServiceError::not_found(format!(
                "no change {change} among the changes `countersign state {system}` shows now"
            ))
        })
    }

    /// Checks an assessment without asking for secrets: a change `state` shows, a reason, an
    /// enrolled unrevoked key, no lockout.
    pub fn assess_check(
        &self,
        session: &SigningSession,
        req: &AssessRequest,
    ) -> Result<AssessPlan, ServiceError> {
        let act = AssessAct::new(req)?;
        let p = self.plan_signing(&act, session, self.now())?;
        Ok(AssessPlan {
            summary: self.change_summary(&act.record.system, &act.record.change)?,
            record_sha256: p.subject.digest,
            record: act.record,
            key_id: p.key.key_id,
            iam_arn: p.key.iam_arn,
            printed_name: p.key.printed_name,
            mfa_serial: p.mfa_serial,
            needs_mfa: p.needs_mfa,
        })
    }

    /// Signs the impact assessment of one change (meaning `Assessed`). The record's bytes are
    /// stored first; the signature is recorded only once it verifies.
    pub async fn assess_change(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &AssessRequest,
        secrets: SignSecrets,
    ) -> Result<AssessInfo, ServiceError> {
        let act = AssessAct::new(req)?;
        let bytes = act.bytes()?;
        self.store().put(&bytes, None).map_err(err::from_store)?;
        let s = self.sign_act(&act, aws, session, secrets).await?;
        Ok(AssessInfo {
            record: act.record,
            printed_name: s.key.printed_name,
            signed_at: s.record.signed_at.clone(),
            envelope_sha256: s.record.envelope_sha256(),
            clock_warning: s.clock_warning,
        })
    }

    /// The assessments of `system`'s changes that verify (their record read back from the
    /// store, re-hashed, and the signature valid over it), oldest first; and a note for each
    /// one recorded that does not (it is not counted).
    pub(crate) fn change_assessments(
        &self,
        system: &str,
    ) -> Result<(Vec<AssessmentRef>, Vec<String>), ServiceError> {
        let registry = self.key_registry()?;
        let rows = self
            .ledger()?
            .signatures_of_kind(CHANGE_ASSESSMENT_SUBJECT)
            .map_err(err::from_ledger)?;
        let mut out = Vec::new();
        let mut notes = Vec::new();
        let prefix = format!("{system}/");
        for r in rows
            .into_iter()
            .filter(|r| r.subject_id.starts_with(&prefix))
        {
            let mut skip = |why: String| {
                notes.push(format!(
                    "the impact assessment {} recorded at entry {} is not counted: {why}",
                    r.subject_id, r.event_seq
                ));
            };
            let bytes = match self.store().read(&r.subject_sha256) {
                Ok(b) => b,
                Err(e) => {
                    skip(format!("its record cannot be read back ({e})"));
                    continue;
                }
            };
            let record = match AssessmentRecord::parse(&bytes) {
                Ok(rec) => rec,
                Err(e) => {
                    skip(e.to_string());
                    continue;
                }
            };
            if record.system != system
                || r.subject_id != format!("{}/{}", record.system, record.change)
            {
                skip("its record is about another change".to_owned());
                continue;
            }
            let name = change_assessment_subject_name(&record.system, &record.change);
            let outcome = verify_envelope(
                &r.envelope,
                &RecordRef {
                    name: &name,
                    sha256: Sha256::of(&bytes),
                },
                &registry,
            );
            if !outcome.is_valid() {
                skip(outcome.describe());
                continue;
            }
            let Some(st) = crate::signing::view::statement_of(&r.envelope) else {
                continue;
            };
            let Ok(signed_at) = r.signed_at.parse::<UtcTimestamp>() else {
                continue;
            };
            out.push(AssessmentRef {
                change: record.change,
                impact: record.impact,
                reference: record.reference,
                reason: st.predicate.reason,
                printed_name: st.predicate.printed_name,
                iam_arn: st.predicate.iam_arn,
                signed_at,
                envelope_sha256: r.envelope_sha256(),
            });
        }
        Ok((out, notes))
    }
}
