//! Dispositions of failed or errored cases (deviation raised, or accepted with a reference),
//! and the run record they become part of. A disposition is a GxP record attributed to a
//! person: it is recorded only once that person authenticated with both signature components,
//! and only while no signature locks the run's record.

use std::collections::BTreeMap;
use std::str::FromStr;

use countersign_aws::AwsSettings;
use countersign_core::model::Integrity;
use countersign_core::package::run_data::RunData;
use countersign_core::run_record::{RecordDisposition, RecordFile, RecordRunData, RunRecord};
use countersign_core::signature::key_id::KeyId;
use countersign_ledger::{Actor, CaseDispositionRecord, NewCaseDisposition, SignerKeyRecord};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::runs::RunView;
use crate::session::SigningSession;
use crate::signing::authenticate::Signing;
use crate::signing::SignSecrets;
use crate::Service;

/// How a failed or errored case is dispositioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DispositionKind {
    /// A deviation was raised (the reference is its id).
    Deviation,
    /// The failure is accepted (the reference is the justification or change record).
    Accepted,
}

impl DispositionKind {
    /// `deviation` or `accepted`.
    pub fn as_str(self) -> &'static str {
        match self {
            DispositionKind::Deviation => "deviation",
            DispositionKind::Accepted => "accepted",
        }
    }
}

impl FromStr for DispositionKind {
    type Err = ServiceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deviation" => Ok(DispositionKind::Deviation),
            "accepted" => Ok(DispositionKind::Accepted),
            other => Err(ServiceError::bad_input(format!(
                "unknown disposition kind {other:?}: use deviation or accepted"
            ))),
        }
    }
}

/// What `disposition` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionRequest {
    /// The run (`SYSTEM/PHASE/RUN-ID` or an unambiguous run id).
    pub run: String,
    /// The case id, as `show` lists it.
    pub case_id: String,
    /// Deviation or accepted.
    pub kind: DispositionKind,
    /// The deviation or change reference.
    pub reference: String,
    /// Why (mandatory).
    pub reason: String,
}

/// What recording a disposition will do, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DispositionPlan {
    /// The run.
    pub run: String,
    /// The case.
    pub case_id: String,
    /// Deviation or accepted.
    pub kind: DispositionKind,
    /// The person's key.
    pub key_id: KeyId,
    /// The person's enrolled identity.
    pub iam_arn: String,
    /// The person's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
}

struct PlannedDisposition {
    plan: DispositionPlan,
    key: SignerKeyRecord,
    file: countersign_keys::KeyFile,
    policy: countersign_core::signature::policy::Policy,
}

/// A run's signed record together with what the policy needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct RecordContext {
    pub view: RunView,
    /// The record the current cycle is signed on: version 2, or version 1 for a cycle whose
    /// first signature was made on version 1.
    pub record: RunRecord,
    /// The run data (results as shown) a version 2 record binds.
    pub data: RunData,
    /// Failed or errored cases with no disposition.
    pub undispositioned: Vec<String>,
}

impl Service {
    /// Records a disposition of a failed or errored case, by the person `actor`. A later
    /// disposition of the same case supersedes it (both stay in the ledger).
    fn disposition_as(
        &self,
        req: &DispositionRequest,
        actor: &Actor,
    ) -> Result<CaseDispositionRecord, ServiceError> {
        let run = self.check_disposition(req)?;
        self.ledger()?
            .record_case_disposition(
                &NewCaseDisposition {
                    run_key: run,
                    case_id: req.case_id.clone(),
                    kind: req.kind.as_str().to_owned(),
                    reference: req.reference.trim().to_owned(),
                    reason: req.reason.trim().to_owned(),
                },
                actor,
            )
            .map_err(err::from_ledger)
    }

    /// A disposition that can be recorded: a reason and a reference, a failed or errored case
    /// of the run, and a run not locked by a signature. Returns the run's id.
    fn check_disposition(&self, req: &DispositionRequest) -> Result<String, ServiceError> {
        if req.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a disposition needs a reason (--reason TEXT)",
            ));
        }
        if req.reference.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a disposition needs a reference (--ref ID): the deviation or change record",
            ));
        }
        let view = self.show(&req.run)?;
        let case = view
            .run
            .cases
            .iter()
            .find(|c| c.id == req.case_id)
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "run {} has no case {:?}; `countersign show {}` lists the case ids",
                    view.summary.id, req.case_id, view.summary.id
                ))
            })?;
        if !case.status.needs_disposition() {
            return Err(ServiceError::bad_input(format!(
                "case {:?} of run {} did not fail or error; only failed or errored cases take a disposition",
                req.case_id, view.summary.id
            )));
        }
        self.refuse_if_signed(&view.summary.id)?;
        Ok(view.summary.id)
    }

    /// Everything decided before any secret is asked for: the request is valid, the run is not
    /// locked by a signature, the key is the person's enrolled, unrevoked key, and the person
    /// is not locked out.
    fn plan_disposition(
        &self,
        session: &SigningSession,
        req: &DispositionRequest,
        key_id: Option<&str>,
        mfa_serial: Option<&str>,
    ) -> Result<PlannedDisposition, ServiceError> {
        // The person first: without a usable key there is nobody to record it.
        let (info, file) = self.key_file(key_id, |k| {
            k.enrolled.as_ref().is_some_and(|e| e.revoked.is_none())
        })?;
        let key = match info.enrolled {
            Some(e) if e.revoked.is_none() => e,
            _ => {
                return Err(ServiceError::new(
                    crate::ErrorCode::Refused,
                    format!(
                        "the key {} is not enrolled (or was revoked); enroll it with `countersign keys enroll`",
                        info.key_id
                    ),
                ))
            }
        };
        let run = self.check_disposition(req)?;
        let (policy, _) = self.signing_policy()?;
        let now = self.now();
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            return Err(ServiceError::new(
                crate::ErrorCode::Refused,
                format!(
                    "signing is locked for {} until {until} after repeated failed attempts (policy v{} lockout); a disposition needs the same authentication",
                    key.iam_arn, policy.version
                ),
            ));
        }
        let idle = time::Duration::minutes(i64::from(policy.session.idle_timeout_minutes));
        let needs_mfa = !session.is_open_for(&key.iam_arn, now, idle);
        Ok(PlannedDisposition {
            plan: DispositionPlan {
                run,
                case_id: req.case_id.clone(),
                kind: req.kind,
                key_id: key.key_id,
                iam_arn: key.iam_arn.clone(),
                printed_name: key.printed_name.clone(),
                mfa_serial: mfa_serial.map_or_else(|| key.mfa_serial.clone(), str::to_owned),
                needs_mfa,
            },
            key,
            file,
            policy,
        })
    }

    /// Checks a disposition without asking for secrets: what will be recorded, by whom, and
    /// whether an MFA code is needed besides the passphrase.
    pub fn disposition_check(
        &self,
        session: &SigningSession,
        req: &DispositionRequest,
        key_id: Option<&str>,
        mfa_serial: Option<&str>,
    ) -> Result<DispositionPlan, ServiceError> {
        Ok(self
            .plan_disposition(session, req, key_id, mfa_serial)?
            .plan)
    }

    /// Records a disposition as an authenticated act of the person whose enrolled key is
    /// `key_id` (or the only usable key in this home): both signature components, as at
    /// signing (21 CFR 11.200) — their open session, or an MFA code that opens one for their
    /// enrolled identity, and their key's passphrase. Failed attempts count towards the
    /// lockout. The disposition is recorded with the authenticated person as its actor.
    pub async fn disposition(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &DispositionRequest,
        key_id: Option<&str>,
        mfa_serial: Option<&str>,
        secrets: SignSecrets,
    ) -> Result<CaseDispositionRecord, ServiceError> {
        let p = self.plan_disposition(session, req, key_id, mfa_serial)?;
        let now = self.now();
        let ctx = self.aws(aws).await?;
        let auth = self
            .authenticate(
                &ctx,
                session,
                &Signing {
                    key: &p.key,
                    file: &p.file,
                    policy: &p.policy,
                    mfa_serial: &p.plan.mfa_serial,
                    subject_kind: "run",
                    subject_id: &p.plan.run,
                    act: "disposition",
                },
                secrets,
                now,
                None,
            )
            .await?;
        drop(auth.unlocked);
        let actor = Actor::person(p.key.iam_arn.clone(), p.key.printed_name.clone());
        let rec = self.disposition_as(req, &actor)?;
        if let Some(f) = auth.fresh {
            session.open = Some(f);
        }
        if let Some(open) = session.open.as_mut() {
            open.last_activity = now;
        }
        Ok(rec)
    }

    /// A run whose current cycle carries a signature is locked: its dispositions are part of
    /// what was signed, and a signed record changes only through a formal signed step, the
    /// re-open.
    fn refuse_if_signed(&self, run: &str) -> Result<(), ServiceError> {
        let ctx = self.record_context(run)?;
        let views: Vec<_> = self
            .signatures_of(&ctx)?
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        let history = self.run_history(&ctx)?;
        if !countersign_core::lifecycle::RunState::is_locked(&history) {
            return Ok(());
        }
        let signed: Vec<String> = crate::signing::view::current_cycle(&views)
            .iter()
            .map(|s| {
                format!(
                    "{} by {} at {}",
                    s.meaning,
                    s.printed_name,
                    s.local_time.clone().unwrap_or_else(|| s.signed_at.clone())
                )
            })
            .collect();
        Err(ServiceError::new(
            crate::ErrorCode::Refused,
            format!(
                "run {run} is signed ({}): its record, dispositions included, is locked by the signature. A signed record changes only through a formal signed step: re-open it first (`countersign reopen {run} --reason TEXT`, signed by someone the policy allows to approve it); its signatures then show as superseded and a new review follows",
                signed.join("; ")
            ),
        ))
    }

    /// The current disposition of each case of a run (newest wins).
    pub fn current_dispositions(
        &self,
        run_key: &str,
    ) -> Result<Vec<CaseDispositionRecord>, ServiceError> {
        let all = self
            .ledger()?
            .case_dispositions(run_key)
            .map_err(err::from_ledger)?;
        let mut latest: BTreeMap<String, CaseDispositionRecord> = BTreeMap::new();
        for d in all {
            latest.insert(d.case_id.clone(), d);
        }
        // Dispositions taken over from a verified hand-off (docs/handoff.md) keep their
        // original author and time; per case the newest wins, a local one on a tie.
        for (d, seq) in self.handoff_dispositions(run_key)? {
            let newer = latest.get(&d.case_id).is_none_or(|l| d.at > l.at);
            if newer {
                latest.insert(
                    d.case_id.clone(),
                    CaseDispositionRecord {
                        run_key: run_key.to_owned(),
                        case_id: d.case_id,
                        kind: d.kind,
                        reference: d.reference,
                        reason: d.reason,
                        by_arn: d.by_arn,
                        by_name: None,
                        at: d.at,
                        event_seq: seq,
                    },
                );
            }
        }
        Ok(latest.into_values().collect())
    }

    /// The run's record (`countersign.run-record/v1`) as it stands now.
    pub(crate) fn record_context(&self, run: &str) -> Result<RecordContext, ServiceError> {
        let view = self.show(run)?;
        self.record_context_of(view)
    }

    /// [`record_context`](Self::record_context) of a run already read and verified.
    pub(crate) fn record_context_of(&self, view: RunView) -> Result<RecordContext, ServiceError> {
        let bad: Vec<&str> = view
            .run
            .files
            .iter()
            .filter(|f| {
                matches!(
                    f.integrity,
                    Integrity::Changed { .. } | Integrity::Missing | Integrity::Rejected { .. }
                )
            })
            .map(|f| f.path.as_str())
            .collect();
        if !bad.is_empty() {
            return Err(ServiceError::integrity(format!(
                "run {} has files that failed their integrity check ({}); a run with integrity problems cannot be signed",
                view.summary.id,
                bad.join(", ")
            )));
        }
        let files = record_files(&view.run.files);
        let current = self.current_dispositions(&view.summary.id)?;
        let undispositioned = view
            .run
            .cases_needing_disposition()
            .filter(|c| !current.iter().any(|d| d.case_id == c.id))
            .map(|c| c.id.clone())
            .collect();
        let dispositions = record_dispositions(current);
        let v1 = RunRecord::new(&view.run.key, files.clone(), dispositions.clone());
        let rows = self
            .ledger()?
            .signatures_of(crate::signing::RUN_SUBJECT, &view.summary.id)
            .map_err(err::from_ledger)?;
        let (v2, data) = record_v2(&view.run, files, dispositions)?;
        let record = if crate::signing::view::cycle_began_on(&rows, record_digest(&v1)?) {
            v1
        } else {
            v2
        };
        Ok(RecordContext {
            view,
            record,
            data,
            undispositioned,
        })
    }
}

/// The version 2 record of `run` with these files and current dispositions, and the run data
/// it binds: what the signer is shown.
pub(crate) fn record_v2(
    run: &countersign_core::run::Run,
    files: Vec<RecordFile>,
    dispositions: Vec<RecordDisposition>,
) -> Result<(RunRecord, RunData), ServiceError> {
    let data = RunData::of(run, &dispositions);
    let bound = RecordRunData::of(&data).map_err(|e| {
        ServiceError::integrity(format!("the run data could not be encoded: {}", e.detail))
    })?;
    Ok((
        RunRecord::new_v2(&run.key, files, dispositions, bound),
        data,
    ))
}

/// A record's digest, or an integrity error naming why it could not be encoded.
pub(crate) fn record_digest(
    record: &RunRecord,
) -> Result<countersign_core::digest::Sha256, ServiceError> {
    record.digest().map_err(|e| {
        ServiceError::integrity(format!("the record could not be encoded: {}", e.detail))
    })
}

/// The files a run record names: every stored file with its digest (a rejected one has none).
pub(crate) fn record_files(files: &[countersign_core::model::RunFile]) -> Vec<RecordFile> {
    files
        .iter()
        .filter_map(|f| {
            f.sha256.map(|sha256| RecordFile {
                path: f.path.clone(),
                sha256,
                uri: f.origin.uri.clone(),
                version_id: f.origin.version_id.clone(),
            })
        })
        .collect()
}

/// The dispositions a run record names: the current one of each case.
pub(crate) fn record_dispositions(current: Vec<CaseDispositionRecord>) -> Vec<RecordDisposition> {
    current
        .into_iter()
        .map(|d| RecordDisposition {
            case_id: d.case_id,
            kind: d.kind,
            reference: d.reference,
            reason: d.reason,
            by_arn: d.by_arn,
            at: d.at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_unknown_ones_are_named() {
        assert_eq!(
            "deviation".parse::<DispositionKind>().unwrap(),
            DispositionKind::Deviation
        );
        assert_eq!(
            "accepted".parse::<DispositionKind>().unwrap().as_str(),
            "accepted"
        );
        let e = "waived".parse::<DispositionKind>().unwrap_err();
        assert!(e.message.contains("\"waived\""), "{e}");
    }

    #[test]
    fn unknown_run_and_blank_reason_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let s = crate::test_env::service(home.path());
        let mut req = DispositionRequest {
            run: "LIMS/OQ/none".into(),
            case_id: "c".into(),
            kind: DispositionKind::Deviation,
            reference: "DEV-1".into(),
            reason: " ".into(),
        };
        let actor = Actor::person("arn:aws:iam::1:user/a", "A");
        assert_eq!(
            s.disposition_as(&req, &actor).unwrap_err().code,
            crate::ErrorCode::BadInput
        );
        req.reason = "r".into();
        assert_eq!(
            s.disposition_as(&req, &actor).unwrap_err().code,
            crate::ErrorCode::NotFound
        );
    }
}
