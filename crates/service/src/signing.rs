//! Part 11 signatures on runs: the policy check before any secret is asked for, the signing
//! session (MFA code and passphrase, then passphrase alone), failures and lockouts counted from
//! the ledger, the DSSE envelope, and verification of every signature against the record as it
//! stands now.

use countersign_aws::iam::{groups_of, GroupMembership};
use countersign_aws::sts::open_mfa_session;
use countersign_aws::{AwsContext, AwsErrorKind, AwsSettings};
use countersign_core::digest::Sha256;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::policy::{
    self, evaluate, Policy, Principal, PriorSignature, RecordFacts, SignRequest as PolicyRequest,
    Signer,
};
use countersign_core::signature::predicate::{
    Meaning, Offset, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use countersign_core::signature::verify::{
    verify_envelope, EnrolledKey, KeyRegistry, Outcome, RecordRef,
};
use countersign_core::signature::VerifyingKey;
use countersign_keys::{KeyError, KeyFile, Passphrase};
use countersign_ledger::{
    Actor, EventFilter, NewSignature, SignerKeyRecord, KEY_ENROLLED, SIGNATURE_FAILED,
    SIGNING_LOCKED,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::disposition::RecordContext;
use crate::error::{self as err, ErrorCode, ServiceError};
use crate::keys::{clock_skew, from_key_error, from_sts_error};
use crate::session::{OpenSession, SigningSession};
use crate::Service;

/// File name of the signing policy inside the home directory.
pub const POLICY_FILE: &str = "policy.json";

/// The policy used when the home has no `policy.json`: version 1, any IAM user or role may
/// sign any meaning on any phase; separation of duties on; a 10-minute idle timeout; 3 failures
/// in 15 minutes lock signing for 30 minutes. Its bytes are fixed, so its digest is too.
pub const DEFAULT_POLICY_JSON: &str = r#"{"format":"countersign.policy/v1","version":1,"session":{"idle_timeout_minutes":10,"lockout":{"max_failures":3,"window_minutes":15,"lock_minutes":30}},"separation_of_duties":{"no_self_approval":true},"grants":[{"arn":"arn:aws:iam::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]},{"arn":"arn:aws:sts::*:*","meanings":["Authored","Reviewed","Approved","Rejected"],"phases":["IQ","OQ","PQ"]}]}"#;

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

/// The secrets of one signing. Never logged; the passphrase is zeroized on drop.
pub struct SignSecrets {
    /// The key passphrase.
    pub passphrase: Passphrase,
    /// The MFA one-time code, needed when the session is not open.
    pub mfa_code: Option<String>,
}

impl std::fmt::Debug for SignSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignSecrets(<redacted>)")
    }
}

/// What signing will do, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignPlan {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// The record digest that would be signed.
    pub record_sha256: Sha256,
    /// The signer's key.
    pub key_id: String,
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
}

/// A signature just applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// Meaning.
    pub meaning: Meaning,
    /// Key id.
    pub key_id: String,
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

/// One signature on a run, as `show` presents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureView {
    /// Meaning.
    pub meaning: String,
    /// Printed name.
    pub printed_name: String,
    /// IAM ARN (from the statement).
    pub iam_arn: Option<String>,
    /// Key id.
    pub key_id: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// The signer's local time (`signed_at` shifted by `utc_offset`).
    pub local_time: Option<String>,
    /// The signer's reason.
    pub reason: Option<String>,
    /// Verification against the record as it stands now (`valid`, `record_changed`, …).
    pub outcome: String,
    /// The outcome in words.
    pub outcome_detail: String,
    /// Envelope digest.
    pub envelope_sha256: Sha256,
    /// Envelope bytes.
    pub envelope: String,
    /// Where the signer's key is known from: `None` when it was enrolled on this desktop,
    /// else the hand-off object it was taken over from (docs/handoff.md).
    pub key_known_from: Option<String>,
}

struct Resolved {
    ctx: RecordContext,
    file: KeyFile,
    key: SignerKeyRecord,
    policy: Policy,
    policy_source: String,
    history: Vec<PriorSignature>,
    record_sha256: Sha256,
    mfa_serial: String,
    /// Set when only a grant to an IAM group can authorise this signing and the signer's
    /// groups are not known yet: they are read once the MFA session is open.
    group_check: Option<GroupCheck>,
}

/// The authority check still owed once the signer's IAM groups can be read (with the MFA
/// session's credentials): the request without groups, and the record's history.
pub(crate) struct GroupCheck {
    request: PolicyRequest,
    history: Vec<PriorSignature>,
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

pub(crate) fn refused(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::Refused, message)
}

fn canonical(e: countersign_core::signature::dsse::CanonicalJsonError) -> ServiceError {
    ServiceError::integrity(format!("the record could not be encoded: {}", e.detail))
}

/// Describes a verification outcome in plain words.
pub fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Valid(_) => "valid".into(),
        Outcome::RecordChanged { signed, current } => format!(
            "record changed since signing (signed {}, now {})",
            &signed.to_hex()[..12],
            &current.to_hex()[..12]
        ),
        Outcome::SignatureMoved { signed_for } => {
            format!("signature moved: it was made for {signed_for}")
        }
        Outcome::UnknownKey { key_id } => format!("unknown key {key_id}"),
        Outcome::RevokedKey { key_id } => format!("key {key_id} was revoked"),
        Outcome::SignerNotEnrolled {
            enrolled_arn,
            claimed_arn,
            ..
        } => format!("signer not enrolled: the key belongs to {enrolled_arn}, the signature claims {claimed_arn}"),
        Outcome::Malformed { detail } => format!("malformed: {detail}"),
        Outcome::UnsupportedVersion { found } => format!("unsupported version {found}"),
        Outcome::BadSignature => "bad signature: the bytes were altered after signing".into(),
    }
}

fn statement_of(envelope: &[u8]) -> Option<Statement> {
    let env = Envelope::from_json(envelope).ok()?;
    Statement::from_payload(&env.payload_bytes().ok()?).ok()
}

impl Service {
    /// The signing policy: `<home>/policy.json` when present, else [`DEFAULT_POLICY_JSON`].
    pub fn signing_policy(&self) -> Result<(Policy, String), ServiceError> {
        let path = self.home().join(POLICY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let p = Policy::parse(&bytes)
                    .map_err(|e| ServiceError::bad_input(format!("{}: {e}", path.display())))?;
                Ok((p, path.display().to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let p = Policy::parse(DEFAULT_POLICY_JSON.as_bytes()).map_err(|e| {
                    ServiceError::storage(format!("the built-in policy is invalid: {e}"))
                })?;
                Ok((p, "built-in default".into()))
            }
            Err(e) => Err(ServiceError::storage(format!(
                "could not read the signing policy {}: {e}",
                path.display()
            ))),
        }
    }

    /// The ledger's events matching `filter`, in order (the audit trail of signing and the rest).
    pub fn ledger_events(
        &self,
        filter: &EventFilter,
    ) -> Result<Vec<countersign_ledger::EventRecord>, ServiceError> {
        self.ledger()?.events(filter).map_err(err::from_ledger)
    }

    /// Every enrolled key, as verification needs them.
    pub fn key_registry(&self) -> Result<KeyRegistry, ServiceError> {
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

    /// The run's signatures, each verified against the record as it stands now.
    pub fn signatures(&self, run: &str) -> Result<Vec<SignatureView>, ServiceError> {
        let ctx = self.record_context(run)?;
        self.signatures_of(&ctx)
    }

    /// [`signatures`](Self::signatures) against a record already derived.
    pub(crate) fn signatures_of(
        &self,
        ctx: &RecordContext,
    ) -> Result<Vec<SignatureView>, ServiceError> {
        let digest = ctx.record.digest().map_err(canonical)?;
        let name = countersign_core::run_record::RunRecord::subject_name(&ctx.view.run.key);
        let registry = self.key_registry()?;
        let handoff_keys = self.handoff_keys()?;
        let rows = self
            .ledger()?
            .signatures_of("run", &ctx.view.summary.id)
            .map_err(err::from_ledger)?;
        Ok(rows
            .into_iter()
            .map(|r| signature_view(r, &name, digest, &registry, &handoff_keys))
            .collect())
    }

    pub(crate) fn enrollment_serial(&self, key_id: &str) -> Result<Option<String>, ServiceError> {
        let events = self
            .ledger()?
            .events(&EventFilter {
                action: Some(KEY_ENROLLED.into()),
                object_id: Some(key_id.into()),
                ..EventFilter::default()
            })
            .map_err(err::from_ledger)?;
        Ok(events.last().and_then(|e| {
            let v: serde_json::Value = serde_json::from_str(e.event.after.as_deref()?).ok()?;
            v.get("mfa_serial")?.as_str().map(str::to_owned)
        }))
    }

    /// Resolves the signer's key and the record, checks the lockout and the policy. Refusals
    /// are recorded. Asks for nothing secret.
    ///
    /// Grants to IAM groups: the signer's groups are known when the session is open and they
    /// were read in it. Otherwise the check here assumes membership of every group the policy
    /// names (so every other rule still refuses before any secret is asked for), and when only
    /// a group grant could authorise the signing, [`Resolved::group_check`] repeats the
    /// authority check with the groups IAM reports once the MFA session is open, before the
    /// passphrase is used.
    fn resolve(
        &self,
        req: &SignRequest,
        session: &SigningSession,
    ) -> Result<Resolved, ServiceError> {
        let now = session.now();
        if req.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a signature needs a reason (--reason TEXT)",
            ));
        }
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
        let (policy, policy_source) = self.signing_policy()?;
        let actor = Actor::person(key.iam_arn.clone(), key.printed_name.clone());
        let ctx = self.record_context(&req.run)?;
        let run_id = ctx.view.summary.id.clone();
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            let msg = format!(
                "signing is locked for {} until {until} after repeated failed attempts (policy v{} lockout)",
                key.iam_arn, policy.version
            );
            self.ledger()?
                .record_signing_refusal(
                    "run",
                    &run_id,
                    req.meaning.as_str(),
                    "lockout",
                    &msg,
                    &actor,
                )
                .map_err(err::from_ledger)?;
            return Err(refused(msg));
        }
        let record_sha256 = ctx.record.digest().map_err(canonical)?;
        let name = countersign_core::run_record::RunRecord::subject_name(&ctx.view.run.key);
        let history = self.history(&run_id, &name, record_sha256)?;
        let idle = Duration::minutes(i64::from(policy.session.idle_timeout_minutes));
        let known_groups = session
            .open_groups(&key.iam_arn, idle)
            .map(<[String]>::to_vec);
        let group_names = granted_groups(&policy);
        let groups_pending = known_groups.is_none() && !group_names.is_empty();
        let signer = Signer {
            arn: key.iam_arn.clone(),
            printed_name: key.printed_name.clone(),
            key_id: info
                .key_id
                .parse::<KeyId>()
                .map_err(|e| ServiceError::integrity(e.to_string()))?,
            groups: known_groups.unwrap_or_else(|| {
                if groups_pending {
                    group_names.clone()
                } else {
                    Vec::new()
                }
            }),
        };
        let request = PolicyRequest {
            signer,
            meaning: req.meaning,
            record: RecordFacts {
                name,
                phase: ctx.view.run.key.phase,
                executor_arn: ctx
                    .view
                    .run
                    .manifest
                    .as_ref()
                    .and_then(|m| m.executor.as_ref())
                    .and_then(|e| e.arn.clone()),
                undispositioned: ctx.undispositioned.clone(),
            },
        };
        if let Err(refusal) = evaluate(&policy, &request, &history) {
            self.ledger()?
                .record_signing_refusal(
                    "run",
                    &run_id,
                    req.meaning.as_str(),
                    refusal.rule.id(),
                    &refusal.message,
                    &actor,
                )
                .map_err(err::from_ledger)?;
            return Err(refused(refusal.message));
        }
        let group_check = if groups_pending {
            let mut bare = request;
            bare.signer.groups = Vec::new();
            (!policy.allows(&bare.signer, bare.meaning, bare.record.phase)).then(|| GroupCheck {
                request: bare,
                history: history.clone(),
            })
        } else {
            None
        };
        let mfa_serial = match &req.mfa_serial {
            Some(s) => s.clone(),
            None => self.enrollment_serial(&key.key_id)?.unwrap_or_default(),
        };
        Ok(Resolved {
            ctx,
            file,
            key,
            policy,
            policy_source,
            history,
            record_sha256,
            mfa_serial,
            group_check,
        })
    }

    /// The genuine signatures already on the record, in signing order: those that verify, and
    /// those made for this record before it changed.
    fn history(
        &self,
        run_id: &str,
        name: &str,
        digest: Sha256,
    ) -> Result<Vec<PriorSignature>, ServiceError> {
        let registry = self.key_registry()?;
        let rows = self
            .ledger()?
            .signatures_of("run", run_id)
            .map_err(err::from_ledger)?;
        let mut out = Vec::new();
        for r in rows {
            let outcome = verify_envelope(
                &r.envelope,
                &RecordRef {
                    name,
                    sha256: digest,
                },
                &registry,
            );
            let genuine = matches!(outcome, Outcome::Valid(_) | Outcome::RecordChanged { .. });
            if let (true, Some(st)) = (genuine, statement_of(&r.envelope)) {
                out.push(PriorSignature {
                    meaning: st.predicate.meaning,
                    arn: st.predicate.iam_arn,
                    printed_name: st.predicate.printed_name,
                    key_id: st.predicate.key_id,
                    envelope_sha256: Sha256::of(&r.envelope),
                });
            }
        }
        Ok(out)
    }

    /// When signing is locked for `arn`, the time it unlocks.
    pub(crate) fn locked_until(
        &self,
        arn: &str,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Option<String>, ServiceError> {
        let lock = Duration::minutes(i64::from(policy.session.lockout.lock_minutes));
        let locks = self
            .ledger()?
            .signer_events_since(arn, SIGNING_LOCKED, now - lock)
            .map_err(err::from_ledger)?;
        Ok(locks.last().and_then(|l| {
            let at: UtcTimestamp = l.event.time_utc.parse().ok()?;
            let until = at.get() + lock;
            (until > now).then(|| UtcTimestamp::new(until).to_string())
        }))
    }

    /// Records a failed attempt; when it is the last allowed one, records the lockout. Returns
    /// the message for the signer.
    pub(crate) fn record_failure(
        &self,
        key: &SignerKeyRecord,
        policy: &Policy,
        what: &str,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<String, ServiceError> {
        let rules = policy.session.lockout;
        let actor = Actor::person(key.iam_arn.clone(), key.printed_name.clone());
        let mut ledger = self.ledger()?;
        ledger
            .record_signing_failure(&key.iam_arn, what, message, &actor)
            .map_err(err::from_ledger)?;
        let window = Duration::minutes(i64::from(rules.window_minutes));
        let lock = Duration::minutes(i64::from(rules.lock_minutes));
        let mut since = now - window;
        let last_lock = ledger
            .signer_events_since(&key.iam_arn, SIGNING_LOCKED, now - window - lock)
            .map_err(err::from_ledger)?;
        if let Some(at) = last_lock
            .last()
            .and_then(|l| l.event.time_utc.parse::<UtcTimestamp>().ok())
        {
            since = since.max(at.get() + Duration::milliseconds(1));
        }
        let failures = ledger
            .signer_events_since(&key.iam_arn, SIGNATURE_FAILED, since)
            .map_err(err::from_ledger)?
            .len();
        if failures >= rules.max_failures as usize {
            let until = UtcTimestamp::new(now + lock).to_string();
            let why = format!(
                "{failures} failed signing attempts within {} minutes (policy v{} allows {}); signing locked until {until}",
                rules.window_minutes, policy.version, rules.max_failures
            );
            ledger
                .record_signing_lockout(&key.iam_arn, &until, &why, &actor)
                .map_err(err::from_ledger)?;
            return Ok(format!("{message}. {why}"));
        }
        Ok(format!(
            "{message} ({failures} of {} allowed failed attempts)",
            rules.max_failures
        ))
    }

    /// Checks a signing request before any secret is asked for: the signer's enrolled key,
    /// the lockout, and the policy (authority, sequence, separation of duties, dispositions).
    /// A refusal is recorded as `signature.refused` and returned as [`ErrorCode::Refused`].
    pub fn sign_check(
        &self,
        session: &SigningSession,
        req: &SignRequest,
    ) -> Result<SignPlan, ServiceError> {
        let r = self.resolve(req, session)?;
        let idle = Duration::minutes(i64::from(r.policy.session.idle_timeout_minutes));
        let needs_mfa = session
            .open_identity(idle)
            .is_none_or(|i| i.arn != r.key.iam_arn);
        Ok(SignPlan {
            run: r.ctx.view.summary.id.clone(),
            record_sha256: r.record_sha256,
            key_id: r.key.key_id.clone(),
            iam_arn: r.key.iam_arn.clone(),
            printed_name: r.key.printed_name.clone(),
            mfa_serial: r.mfa_serial.clone(),
            needs_mfa,
            policy_version: r.policy.version,
            policy_source: r.policy_source,
        })
    }

    /// Signs a run, loading AWS settings for the MFA session when one is needed.
    pub async fn sign(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &SignRequest,
        secrets: SignSecrets,
    ) -> Result<SignatureInfo, ServiceError> {
        let ctx = AwsContext::load(aws).await?;
        self.sign_with(&ctx, session, req, secrets).await
    }

    /// Signs a run: policy check, then the session (MFA code → fresh STS session that must be
    /// the enrolled identity, or the open session), then the passphrase, then the envelope.
    pub async fn sign_with(
        &self,
        aws: &AwsContext,
        session: &mut SigningSession,
        req: &SignRequest,
        secrets: SignSecrets,
    ) -> Result<SignatureInfo, ServiceError> {
        let now = session.now();
        let r = self.resolve(req, session)?;
        let run_id = r.ctx.view.summary.id.clone();
        let actor = Actor::person(r.key.iam_arn.clone(), r.key.printed_name.clone());
        let auth = self
            .authenticate_checked(
                aws,
                session,
                &Signing {
                    key: &r.key,
                    file: &r.file,
                    policy: &r.policy,
                    mfa_serial: &r.mfa_serial,
                    subject_kind: "run",
                    subject_id: &run_id,
                    meaning: req.meaning,
                },
                secrets,
                now,
                r.group_check.as_ref(),
            )
            .await?;
        let Authenticated {
            unlocked,
            identity,
            fresh,
            clock_warning,
        } = auth;
        let name = countersign_core::run_record::RunRecord::subject_name(&r.ctx.view.run.key);
        let predicate = Predicate {
            meaning: req.meaning,
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
            follows: policy::follows(&r.history),
        };
        let statement = Statement::new(Subject::new(name.clone(), r.record_sha256), predicate);
        let envelope = unlocked.sign(&statement).map_err(canonical)?;
        let bytes = envelope.to_canonical_json();
        let registry = self.key_registry()?;
        let outcome = verify_envelope(
            &bytes,
            &RecordRef {
                name: &name,
                sha256: r.record_sha256,
            },
            &registry,
        );
        if !outcome.is_valid() {
            return Err(ServiceError::integrity(format!(
                "the new signature did not verify ({}); nothing was recorded",
                outcome_text(&outcome)
            )));
        }
        let signed_at = statement.predicate.signed_at.to_string();
        let utc_offset = statement.predicate.utc_offset.to_string();
        let envelope_sha256 = envelope.digest();
        self.ledger()?
            .record_signature(
                &NewSignature {
                    subject_kind: "run".into(),
                    subject_id: run_id.clone(),
                    subject_sha256: r.record_sha256.to_hex(),
                    meaning: req.meaning.as_str().to_owned(),
                    key_id: r.key.key_id.clone(),
                    printed_name: r.key.printed_name.clone(),
                    signed_at: signed_at.clone(),
                    utc_offset: utc_offset.clone(),
                    envelope: bytes.clone(),
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
        Ok(SignatureInfo {
            run: run_id,
            meaning: req.meaning,
            key_id: r.key.key_id,
            printed_name: r.key.printed_name,
            signed_at,
            utc_offset,
            record_sha256: r.record_sha256,
            envelope_sha256,
            envelope: String::from_utf8_lossy(&bytes).into_owned(),
            clock_warning,
        })
    }
}

/// Who signs what: the inputs of [`Service::authenticate`].
pub(crate) struct Signing<'a> {
    pub(crate) key: &'a SignerKeyRecord,
    pub(crate) file: &'a KeyFile,
    pub(crate) policy: &'a Policy,
    pub(crate) mfa_serial: &'a str,
    /// The subject a refusal is recorded against (`run`, `audit-trail`).
    pub(crate) subject_kind: &'a str,
    pub(crate) subject_id: &'a str,
    pub(crate) meaning: Meaning,
}

/// Both signature components checked: the unlocked key and the session identity.
pub(crate) struct Authenticated {
    pub(crate) unlocked: countersign_keys::UnlockedKey,
    pub(crate) identity: countersign_aws::sts::SessionIdentity,
    /// A session opened by this signing; it becomes the session only once the signature is
    /// recorded.
    pub(crate) fresh: Option<OpenSession>,
    pub(crate) clock_warning: Option<String>,
}

impl Service {
    /// The two components of a signature (21 CFR 11.200): the open session for the enrolled
    /// identity, or an MFA code that opens one (which must resolve to that identity), then the
    /// key passphrase. Rejected codes and wrong passphrases are recorded and count towards
    /// the lockout; an identity mismatch is recorded as a refusal.
    pub(crate) async fn authenticate(
        &self,
        aws: &AwsContext,
        session: &mut SigningSession,
        s: &Signing<'_>,
        secrets: SignSecrets,
        now: OffsetDateTime,
    ) -> Result<Authenticated, ServiceError> {
        self.authenticate_checked(aws, session, s, secrets, now, None)
            .await
    }

    /// [`Self::authenticate`], and when `group_check` is given, the authority check with the
    /// signer's IAM groups as IAM reports them to the session's credentials, after the
    /// session is open and before the passphrase is used. A refusal is recorded with rule
    /// `authority`; groups that cannot be read are an error naming the permission.
    pub(crate) async fn authenticate_checked(
        &self,
        aws: &AwsContext,
        session: &mut SigningSession,
        s: &Signing<'_>,
        secrets: SignSecrets,
        now: OffsetDateTime,
        group_check: Option<&GroupCheck>,
    ) -> Result<Authenticated, ServiceError> {
        let actor = Actor::person(s.key.iam_arn.clone(), s.key.printed_name.clone());
        let idle = Duration::minutes(i64::from(s.policy.session.idle_timeout_minutes));
        let mut clock_warning = None;
        let mut fresh: Option<OpenSession> = None;
        if !session.usable_for(&s.key.iam_arn, idle) {
            let code = secrets.mfa_code.as_deref().ok_or_else(|| {
                ServiceError::bad_input(
                    "the signing session is not open: the MFA code from your device is needed as well as the passphrase",
                )
            })?;
            if s.mfa_serial.is_empty() {
                return Err(ServiceError::bad_input(
                    "no MFA device is known for this key; pass --mfa-serial ARN",
                ));
            }
            let (mfa, identity) = match open_mfa_session(aws, s.mfa_serial, code, None).await {
                Ok(ok) => ok,
                Err(e) if e.kind == AwsErrorKind::MfaCodeRejected => {
                    let msg = self.record_failure(
                        s.key,
                        s.policy,
                        "mfa_rejected",
                        "MFA code rejected: STS did not accept the one-time code",
                        now,
                    )?;
                    return Err(refused(msg));
                }
                Err(e) => return Err(from_sts_error(e)),
            };
            if identity.arn != s.key.iam_arn {
                let msg = format!(
                    "the MFA session belongs to {}, but the key {} is enrolled to {}; sign with your own key",
                    identity.arn, s.key.key_id, s.key.iam_arn
                );
                self.ledger()?
                    .record_signing_refusal(
                        s.subject_kind,
                        s.subject_id,
                        s.meaning.as_str(),
                        "identity",
                        &msg,
                        &Actor::person(identity.arn.clone(), s.key.printed_name.clone()),
                    )
                    .map_err(err::from_ledger)?;
                return Err(refused(msg));
            }
            if let Some((skew, text)) = clock_skew(&identity, now, session.max_clock_skew) {
                self.ledger()?
                    .record_clock_skew(&identity.arn, skew, &text, &actor)
                    .map_err(err::from_ledger)?;
                clock_warning = Some(text);
            }
            fresh = Some(OpenSession {
                mfa,
                identity,
                last_activity: now,
                groups: None,
            });
        }
        if let Some(check) = group_check {
            let open = match fresh.as_mut() {
                Some(f) => Some(f),
                None => session.open.as_mut(),
            };
            let Some(open) = open else {
                return Err(ServiceError::storage(
                    "the signing session closed unexpectedly",
                ));
            };
            self.check_groups(aws, open, s, check).await?;
        }
        let unlocked = self.unlock_key(s.key, s.file, s.policy, &secrets.passphrase, now)?;
        let Some(identity) = fresh
            .as_ref()
            .or(session.open.as_ref())
            .map(|o| o.identity.clone())
        else {
            return Err(ServiceError::storage(
                "the signing session closed unexpectedly",
            ));
        };
        Ok(Authenticated {
            unlocked,
            identity,
            fresh,
            clock_warning,
        })
    }

    /// Reads the signer's IAM groups with the open session's credentials (once per session),
    /// then repeats the policy check with them. A refusal is recorded with its rule.
    async fn check_groups(
        &self,
        aws: &AwsContext,
        open: &mut OpenSession,
        s: &Signing<'_>,
        check: &GroupCheck,
    ) -> Result<(), ServiceError> {
        let (groups, not_a_user) = match &open.groups {
            Some(g) => (g.clone(), None),
            None => {
                let membership = groups_of(&open.mfa.context(aws), &open.identity.arn)
                    .await
                    .map_err(|e| {
                        let mut se = ServiceError::from(e);
                        se.message = format!(
                            "the signing policy grants {} only to IAM groups, and the groups of {} could not be read: {}",
                            s.meaning, open.identity.arn, se.message
                        );
                        se
                    })?;
                let why = match &membership {
                    GroupMembership::NotAUser { why } => Some(why.clone()),
                    GroupMembership::User { .. } => None,
                };
                let groups = membership.groups().to_vec();
                open.groups = Some(groups.clone());
                (groups, why)
            }
        };
        let mut request = check.request.clone();
        request.signer.groups = groups.clone();
        let Err(mut refusal) = evaluate(s.policy, &request, &check.history) else {
            return Ok(());
        };
        if refusal.rule.id() == "authority" {
            let granted: Vec<String> = s
                .policy
                .grants
                .iter()
                .filter(|g| {
                    g.meanings.contains(&s.meaning) && g.phases.contains(&request.record.phase)
                })
                .filter_map(|g| match &g.principal {
                    Principal::Group(name) => Some(name.clone()),
                    Principal::Arn(_) => None,
                })
                .collect();
            let member_of = match (&not_a_user, groups.is_empty()) {
                (Some(why), _) => why.clone(),
                (None, true) => format!("IAM reports no groups for {}", open.identity.arn),
                (None, false) => format!(
                    "IAM reports {} in the groups {}",
                    open.identity.arn,
                    groups.join(", ")
                ),
            };
            refusal.message = format!(
                "{}; {member_of}, and the policy grants {} on {} records to the groups {}",
                refusal.message,
                s.meaning,
                request.record.phase,
                if granted.is_empty() {
                    "(none)".to_owned()
                } else {
                    granted.join(", ")
                }
            );
        }
        let actor = Actor::person(s.key.iam_arn.clone(), s.key.printed_name.clone());
        self.ledger()?
            .record_signing_refusal(
                s.subject_kind,
                s.subject_id,
                s.meaning.as_str(),
                refusal.rule.id(),
                &refusal.message,
                &actor,
            )
            .map_err(err::from_ledger)?;
        Err(refused(refusal.message))
    }

    /// Opens the enrolled key with its passphrase. A wrong passphrase is recorded as a failed
    /// attempt (counting towards the lockout) and refused.
    pub(crate) fn unlock_key(
        &self,
        key: &SignerKeyRecord,
        file: &KeyFile,
        policy: &Policy,
        passphrase: &Passphrase,
        now: OffsetDateTime,
    ) -> Result<countersign_keys::UnlockedKey, ServiceError> {
        let unlocked = match file.unlock(passphrase) {
            Ok(k) => k,
            Err(KeyError::WrongPassphrase { .. }) => {
                let msg = self.record_failure(
                    key,
                    policy,
                    "wrong_passphrase",
                    "wrong passphrase: the key did not open",
                    now,
                )?;
                return Err(refused(msg));
            }
            Err(e) => return Err(from_key_error(e)),
        };
        if unlocked.key_id().to_hex() != key.key_id {
            return Err(ServiceError::integrity(format!(
                "the key file opened a key other than {}; the key file is damaged",
                key.key_id
            )));
        }
        Ok(unlocked)
    }
}

/// A recorded signature as the window and `show --json` present it, verified against the record
/// `name` as it stands now (`digest`).
pub(crate) fn signature_view(
    r: countersign_ledger::SignatureRecord,
    name: &str,
    digest: Sha256,
    registry: &KeyRegistry,
    handoff_keys: &std::collections::BTreeMap<String, (String, Vec<u8>)>,
) -> SignatureView {
    let outcome = verify_envelope(
        &r.envelope,
        &RecordRef {
            name,
            sha256: digest,
        },
        registry,
    );
    let st = statement_of(&r.envelope);
    let local_time = local_time(&r.signed_at, &r.utc_offset);
    let key_known_from = handoff_keys.get(&r.key_id).map(|(uri, _)| uri.clone());
    SignatureView {
        key_known_from,
        meaning: r.meaning,
        printed_name: r.printed_name,
        iam_arn: st.as_ref().map(|s| s.predicate.iam_arn.clone()),
        key_id: r.key_id,
        signed_at: r.signed_at,
        utc_offset: r.utc_offset,
        local_time,
        reason: st.map(|s| s.predicate.reason),
        outcome: outcome.code().to_owned(),
        outcome_detail: outcome_text(&outcome),
        envelope_sha256: Sha256::of(&r.envelope),
        envelope: String::from_utf8_lossy(&r.envelope).into_owned(),
    }
}

fn local_time(signed_at: &str, offset: &str) -> Option<String> {
    let t: UtcTimestamp = signed_at.parse().ok()?;
    let o: Offset = offset.parse().ok()?;
    let local = t.get().to_offset(o.get());
    let f = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
    );
    local.format(f).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_policy_parses_with_the_documented_limits() {
        let p = Policy::parse(DEFAULT_POLICY_JSON.as_bytes()).unwrap();
        assert_eq!(p.version, 1);
        assert_eq!(p.session.idle_timeout_minutes, 10);
        assert_eq!(p.session.lockout.max_failures, 3);
        assert!(p.separation_of_duties.no_self_approval);
    }

    #[test]
    fn a_home_policy_file_wins_and_a_bad_one_is_named() {
        let home = tempfile::tempdir().unwrap();
        let s = Service::open(home.path()).unwrap();
        assert_eq!(s.signing_policy().unwrap().1, "built-in default");
        std::fs::write(home.path().join(POLICY_FILE), b"{\"format\":\"x\"}").unwrap();
        let e = s.signing_policy().unwrap_err();
        assert_eq!(e.code, ErrorCode::BadInput);
        assert!(e.message.contains("policy.json"), "{e}");
        let own = DEFAULT_POLICY_JSON.replace("\"version\":1", "\"version\":7");
        std::fs::write(home.path().join(POLICY_FILE), own).unwrap();
        assert_eq!(s.signing_policy().unwrap().0.version, 7);
    }

    #[test]
    fn local_time_is_signed_at_shifted_by_the_offset() {
        assert_eq!(
            local_time("2026-11-03T14:05:09.120Z", "+01:00").as_deref(),
            Some("2026-11-03 15:05:09 +01:00")
        );
        assert_eq!(local_time("garbage", "+01:00"), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let s = SignSecrets {
            passphrase: Passphrase::new("correct horse battery".into()),
            mfa_code: Some("123456".into()),
        };
        let text = format!("{s:?}");
        assert!(
            !text.contains("horse") && !text.contains("123456"),
            "{text}"
        );
    }
}
