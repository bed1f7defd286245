//! The one signing flow every signing act goes through:
//!
//! 1. **plan** (before any secret is asked for): the signer's enrolled, unrevoked key; the
//!    policy; the subject as it stands now (name, digest, the signatures it already carries);
//!    the lockout; and, for acts the policy governs, authority, sequence, separation of duties
//!    and dispositions. Every refusal is recorded as `signature.refused`.
//! 2. **authenticate**: the open session or an MFA code that opens one for the enrolled
//!    identity, then the passphrase (`authenticate.rs`).
//! 3. **sign**: the in-toto statement (subject + predicate with meaning, reason, printed name,
//!    time and offset, STS evidence, policy, `follows`) in a DSSE envelope.
//! 4. **verify** the new envelope against the subject with the enrolled keys; nothing is
//!    recorded if it does not verify.
//! 5. **record** the signature row and its event in one transaction; only then does a session
//!    opened by this signing become the signer's session.
//!
//! What differs per act (a run, an audit-trail review, …) is a [`SigningAct`].

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::package::approval::{evaluate_package, PackageFacts};
use countersign_core::signature::policy::{
    self, evaluate, Policy, Principal, PriorSignature, RecordFacts, Refusal,
    SignRequest as PolicyRequest, Signer,
};
use countersign_core::signature::predicate::{
    Meaning, Offset, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use countersign_core::signature::verify::{genuine_before_revocation, verify_envelope, RecordRef};
use countersign_keys::KeyFile;
use countersign_ledger::{Actor, NewSignature, SignatureRecord, SignerKeyRecord};
use time::{Duration, OffsetDateTime};

use super::authenticate::{Authenticated, Signing};
use super::{refused, SignSecrets};
use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::Service;

/// What one kind of signing act decides: its subject and rules. The flow does the rest.
pub(crate) trait SigningAct {
    /// The ledger's subject kind (`run`, `audit-trail`, …).
    fn kind(&self) -> &'static str;
    /// What the signature means.
    fn meaning(&self) -> Meaning;
    /// Why (mandatory; trimmed).
    fn reason(&self) -> &str;
    /// What to say when the reason is blank.
    fn reason_required(&self) -> &'static str;
    /// The key chosen, when the person chose one.
    fn key_id(&self) -> Option<&str>;
    /// The MFA device chosen, when the person chose one (else the enrollment's).
    fn mfa_serial(&self) -> Option<&str>;
    /// The subject as it stands now, for `signer` signing at `now`; an error when this act
    /// cannot sign it at all.
    fn subject(
        &self,
        service: &Service,
        signer: &SignerKeyRecord,
        now: OffsetDateTime,
    ) -> Result<ActSubject, ServiceError>;
    /// Prepares the act's effect from the new envelope, after it verified and before it is
    /// recorded: a failure here records nothing.
    fn before_record(&self, _envelope: &[u8]) -> Result<(), ServiceError> {
        Ok(())
    }
}

/// The subject of a signing act, as it stands now.
#[derive(Debug, Clone)]
pub(crate) struct ActSubject {
    /// The ledger's subject id (`LIMS/OQ/run-1`, `42`, …).
    pub(crate) id: String,
    /// The statement's subject name (`run:LIMS/OQ/run-1`, `audit-trail:42`, …).
    pub(crate) name: String,
    /// The digest that will be signed.
    pub(crate) digest: Sha256,
    /// The genuine signatures already on the subject, in signing order: the new one follows
    /// them all.
    pub(crate) history: Vec<PriorSignature>,
    /// The facts the policy's authority, sequence, separation-of-duties and disposition rules
    /// need; `None` for acts those rules do not govern (the audit-trail review: any enrolled
    /// person may sign that they reviewed the trail).
    pub(crate) rules: Option<RecordFacts>,
    /// For a package approval: the facts the package rules need (docs/policy.md "Packages");
    /// they replace `rules`.
    pub(crate) package: Option<PackageFacts>,
    /// What the signed digest covers, in a sentence shown before any secret is asked for.
    pub(crate) covers: String,
}

/// The authority check still owed once the signer's IAM groups can be read (with the MFA
/// session's credentials): the request without groups, and the subject's history.
pub(crate) struct GroupCheck {
    pub(crate) request: PolicyRequest,
    pub(crate) history: Vec<PriorSignature>,
    /// For a package approval: the package's facts, decided by the package rules.
    pub(crate) package: Option<PackageFacts>,
}

impl GroupCheck {
    /// The policy's decision on `request` (its signer's groups filled in).
    pub(crate) fn decide(&self, policy: &Policy, request: &PolicyRequest) -> Result<(), Refusal> {
        decide(policy, request, self.package.as_ref(), &self.history)
    }
}

/// The policy's decision on a request: the package rules for a package, the record rules
/// otherwise.
fn decide(
    policy: &Policy,
    request: &PolicyRequest,
    package: Option<&PackageFacts>,
    history: &[PriorSignature],
) -> Result<(), Refusal> {
    match package {
        Some(p) => evaluate_package(policy, &request.signer, request.meaning, p, history),
        None => evaluate(policy, request, history),
    }
}

/// A signing act checked and resolved, before any secret.
pub(crate) struct Planned {
    pub(crate) subject: ActSubject,
    pub(crate) key: SignerKeyRecord,
    pub(crate) file: KeyFile,
    pub(crate) policy: Policy,
    pub(crate) policy_source: String,
    pub(crate) mfa_serial: String,
    /// True when the session is not open for the signer: an MFA code is needed too.
    pub(crate) needs_mfa: bool,
    group_check: Option<GroupCheck>,
}

/// A signature made and recorded.
pub(crate) struct Signed {
    pub(crate) subject: ActSubject,
    pub(crate) key: SignerKeyRecord,
    pub(crate) record: SignatureRecord,
    pub(crate) clock_warning: Option<String>,
}

/// The IAM group names the policy grants anything to.
fn granted_groups(policy: &Policy) -> Vec<String> {
    let mut names: Vec<String> = policy
        .grants
        .iter()
        .filter_map(|g| match &g.principal {
            Principal::Group(name) => Some(name.clone()),
            Principal::Arn(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Service {
    /// Step 1: everything decided before any secret is asked for. Refusals are recorded.
    ///
    /// Grants to IAM groups: the signer's groups are known when the session is open and they
    /// were read in it. Otherwise the check here assumes membership of every group the policy
    /// names (so every other rule still refuses before any secret is asked for), and when only
    /// a group grant could authorise the signing, [`Planned::group_check`] repeats the
    /// authority check with the groups IAM reports once the MFA session is open, before the
    /// passphrase is used.
    pub(crate) fn plan_signing(
        &self,
        act: &impl SigningAct,
        session: &SigningSession,
        now: OffsetDateTime,
    ) -> Result<Planned, ServiceError> {
        if act.reason().trim().is_empty() {
            return Err(ServiceError::bad_input(act.reason_required()));
        }
        let (info, file) = self.key_file(act.key_id(), |k| {
            k.enrolled.as_ref().is_some_and(SignerKeyRecord::is_active)
        })?;
        let key = match info.enrolled {
            Some(k) if k.is_active() => k,
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
        let (policy, policy_source) = self.signing_policy()?;
        let subject = act.subject(self, &key, now)?;
        let actor = Actor::person(key.iam_arn.clone(), key.printed_name.clone());
        let refuse = |rule: &str, message: String| -> Result<Planned, ServiceError> {
            self.ledger()?
                .record_signing_refusal(
                    act.kind(),
                    &subject.id,
                    act.meaning().as_str(),
                    rule,
                    &message,
                    &actor,
                )
                .map_err(err::from_ledger)?;
            Err(refused(message))
        };
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            return refuse(
                "lockout",
                format!(
                    "signing is locked for {} until {until} after repeated failed attempts (policy v{} lockout)",
                    key.iam_arn, policy.version
                ),
            );
        }
        let idle = Duration::minutes(i64::from(policy.session.idle_timeout_minutes));
        let record = subject.rules.clone().or_else(|| {
            subject.package.as_ref().map(|p| RecordFacts {
                name: p.name.clone(),
                phase: p
                    .phases
                    .first()
                    .copied()
                    .unwrap_or(countersign_core::model::Phase::Iq),
                executor_arn: None,
                undispositioned: Vec::new(),
            })
        });
        let group_check = match record {
            None => None,
            Some(facts) => {
                let known_groups = session
                    .open_groups(&key.iam_arn, now, idle)
                    .map(<[String]>::to_vec);
                let group_names = granted_groups(&policy);
                let groups_pending = known_groups.is_none() && !group_names.is_empty();
                let signer = Signer {
                    arn: key.iam_arn.clone(),
                    printed_name: key.printed_name.clone(),
                    key_id: key.key_id,
                    groups: match known_groups {
                        Some(g) => g,
                        None if groups_pending => group_names,
                        None => Vec::new(),
                    },
                };
                let request = PolicyRequest {
                    signer,
                    meaning: act.meaning(),
                    record: facts,
                };
                let package = subject.package.as_ref();
                if let Err(refusal) = decide(&policy, &request, package, &subject.history) {
                    return refuse(refusal.rule.id(), refusal.message);
                }
                if groups_pending {
                    let mut bare = request;
                    bare.signer.groups = Vec::new();
                    decide(&policy, &bare, package, &subject.history)
                        .is_err()
                        .then(|| GroupCheck {
                            request: bare,
                            history: subject.history.clone(),
                            package: subject.package.clone(),
                        })
                } else {
                    None
                }
            }
        };
        let mfa_serial = act
            .mfa_serial()
            .map(str::to_owned)
            .unwrap_or_else(|| key.mfa_serial.clone());
        let needs_mfa = !session.is_open_for(&key.iam_arn, now, idle);
        Ok(Planned {
            subject,
            key,
            file,
            policy,
            policy_source,
            mfa_serial,
            needs_mfa,
            group_check,
        })
    }

    /// Steps 1–5: plan, authenticate, sign, verify, record.
    pub(crate) async fn sign_act(
        &self,
        act: &impl SigningAct,
        aws: &AwsSettings,
        session: &mut SigningSession,
        secrets: SignSecrets,
    ) -> Result<Signed, ServiceError> {
        let now = self.now();
        let p = self.plan_signing(act, session, now)?;
        let ctx = self.aws(aws).await?;
        let Authenticated {
            unlocked,
            identity,
            fresh,
            clock_warning,
        } = self
            .authenticate(
                &ctx,
                session,
                &Signing {
                    key: &p.key,
                    file: &p.file,
                    policy: &p.policy,
                    mfa_serial: &p.mfa_serial,
                    subject_kind: act.kind(),
                    subject_id: &p.subject.id,
                    act: act.meaning().as_str(),
                },
                secrets,
                now,
                p.group_check.as_ref(),
            )
            .await?;
        let predicate = Predicate {
            meaning: act.meaning(),
            reason: act.reason().trim().to_owned(),
            printed_name: p.key.printed_name.clone(),
            iam_arn: p.key.iam_arn.clone(),
            key_id: unlocked.key_id(),
            signed_at: UtcTimestamp::new(now),
            utc_offset: Offset::new(now.offset()),
            sts: StsEvidence {
                mfa_serial: identity.mfa_serial.clone(),
                session_expires_at: UtcTimestamp::new(identity.expires_at),
                server_time: identity.server_time_utc().map(UtcTimestamp::new),
            },
            policy: p.policy.reference(),
            follows: policy::follows(&p.subject.history),
        };
        let statement = Statement::new(
            Subject::new(p.subject.name.clone(), p.subject.digest),
            predicate,
        );
        let envelope = unlocked.sign(&statement).map_err(|e| {
            ServiceError::integrity(format!("the signature could not be encoded: {}", e.detail))
        })?;
        drop(unlocked);
        let bytes = envelope.to_canonical_json();
        let outcome = verify_envelope(
            &bytes,
            &RecordRef {
                name: &p.subject.name,
                sha256: p.subject.digest,
            },
            &self.key_registry()?,
        );
        if !outcome.is_valid() {
            return Err(ServiceError::integrity(format!(
                "the new signature did not verify ({}); nothing was recorded",
                outcome.describe()
            )));
        }
        act.before_record(&bytes)?;
        let new = NewSignature::from_envelope(act.kind(), p.subject.id.clone(), bytes)
            .map_err(err::from_ledger)?;
        let record = self
            .ledger()?
            .record_signature(&new)
            .map_err(err::from_ledger)?;
        if let Some(f) = fresh {
            session.open = Some(f);
        }
        if let Some(open) = session.open.as_mut() {
            open.last_activity = now;
        }
        Ok(Signed {
            subject: p.subject,
            key: p.key,
            record,
            clock_warning,
        })
    }

    /// The key registry verification uses: every key enrolled here or taken over from a
    /// hand-off, with its revocation.
    pub fn key_registry(
        &self,
    ) -> Result<countersign_core::signature::verify::KeyRegistry, ServiceError> {
        use countersign_core::signature::verify::{EnrolledKey, KeyRegistry};
        use countersign_core::signature::VerifyingKey;
        let keys = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let mut reg = KeyRegistry::new();
        for k in keys {
            let public_key = VerifyingKey::from_bytes(&k.public_key).map_err(|_| {
                ServiceError::integrity(format!(
                    "the enrolled key {} is not a valid ed25519 public key",
                    k.key_id
                ))
            })?;
            reg.insert(EnrolledKey {
                public_key,
                iam_arn: k.iam_arn,
                printed_name: k.printed_name,
                revoked: k.revoked.is_some(),
            });
        }
        Ok(reg)
    }

    /// The genuine signatures on `kind`/`id` in signing order, checked against `name` with
    /// `digest`: those that verify and, when `changed_counts`, those made for this subject
    /// before it changed (a record's history survives its change; a review's does not).
    pub(crate) fn signature_history(
        &self,
        kind: &str,
        id: &str,
        name: &str,
        digest: Sha256,
        changed_counts: bool,
    ) -> Result<Vec<PriorSignature>, ServiceError> {
        use countersign_core::signature::verify::Outcome;
        let registry = self.key_registry()?;
        let rows = self
            .ledger()?
            .signatures_of(kind, id)
            .map_err(err::from_ledger)?;
        let mut out = Vec::new();
        for r in rows {
            let here = RecordRef {
                name,
                sha256: digest,
            };
            let outcome = verify_envelope(&r.envelope, &here, &registry);
            // A signature whose key was revoked after it was made stays in the record's
            // history (its order, its state, what a re-open supersedes) when it was genuine
            // then; it is never in force: every face marks a state resting on it as not
            // verified.
            let outcome = genuine_before_revocation(&outcome, &r.envelope, &here, &registry)
                .unwrap_or(outcome);
            let genuine = match outcome {
                Outcome::Valid(_) => true,
                Outcome::RecordChanged { .. } => changed_counts,
                _ => false,
            };
            if let (true, Some(st)) = (genuine, super::view::statement_of(&r.envelope)) {
                out.push(PriorSignature {
                    meaning: st.predicate.meaning,
                    arn: st.predicate.iam_arn,
                    printed_name: st.predicate.printed_name,
                    key_id: st.predicate.key_id,
                    envelope_sha256: r.envelope_sha256(),
                });
            }
        }
        Ok(out)
    }
}
