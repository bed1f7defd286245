//! The two components of a signature (21 CFR 11.200): an MFA-backed STS session for the
//! enrolled identity, and the key passphrase; failed attempts and lockouts counted from the
//! ledger.

use countersign_aws::iam::{groups_of, GroupMembership};
use countersign_aws::AwsContext;
use countersign_core::signature::policy::{Policy, Principal};
use countersign_core::signature::predicate::UtcTimestamp;
use countersign_keys::{KeyError, KeyFile, Passphrase};
use countersign_ledger::{Actor, SignerKeyRecord, SIGNATURE_FAILED, SIGNING_LOCKED};
use time::{Duration, OffsetDateTime};

use super::flow::GroupCheck;
use super::{refused, SignSecrets};
use crate::error::{self as err, ServiceError};
use crate::keys::{clock_skew, from_key_error};
use crate::session::{OpenSession, SigningSession};
use crate::sign_in::{open_session, OpenError};
use crate::Service;

/// Who signs what: the inputs of [`Service::authenticate`].
pub(crate) struct Signing<'a> {
    pub(crate) key: &'a SignerKeyRecord,
    pub(crate) file: &'a KeyFile,
    pub(crate) policy: &'a Policy,
    pub(crate) mfa_serial: &'a str,
    /// The subject a refusal is recorded against (`run`, `audit-trail`).
    pub(crate) subject_kind: &'a str,
    pub(crate) subject_id: &'a str,
    /// What is being done, as refusals record it: the signature's meaning, or `disposition`.
    pub(crate) act: &'a str,
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
    ///
    /// When `group_check` is given, the authority check is repeated with the signer's IAM
    /// groups as IAM reports them to the session's credentials, after the session is open and
    /// before the passphrase is used. A refusal is recorded with rule `authority`; groups that
    /// cannot be read are an error naming the permission.
    pub(crate) async fn authenticate(
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
        if !session.usable_for(&s.key.iam_arn, now, idle) {
            let code = secrets.mfa_code.as_ref().map(|c| c.expose());
            if session.pending.is_none() && code.is_some() && s.mfa_serial.is_empty() {
                return Err(ServiceError::bad_input(
                    "no MFA device is known for this key; pass --mfa-serial ARN",
                ));
            }
            let (mfa, identity) = match open_session(aws, session, s.mfa_serial, code).await {
                Ok(ok) => ok,
                Err(OpenError::CodeRejected) => {
                    let msg = self.record_failure(
                        s.key,
                        s.policy,
                        "mfa_rejected",
                        "MFA code rejected: STS did not accept the one-time code",
                        now,
                    )?;
                    return Err(refused(msg));
                }
                Err(OpenError::SignInDenied(text)) => {
                    let msg = self.record_failure(
                        s.key,
                        s.policy,
                        "sign_in_denied",
                        "IAM Identity Center sign-in denied",
                        now,
                    )?;
                    return Err(refused(format!("{msg}: {text}")));
                }
                Err(OpenError::SignInExpired(text)) => {
                    self.ledger()?
                        .record_signing_refusal(
                            s.subject_kind,
                            s.subject_id,
                            s.act,
                            "sign_in_expired",
                            &text,
                            &actor,
                        )
                        .map_err(err::from_ledger)?;
                    return Err(refused(text));
                }
                Err(e) => return Err(e.into_service_error()),
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
                        s.act,
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
                            check.request.meaning, open.identity.arn, se.message
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
        let Err(mut refusal) = check.decide(s.policy, &request) else {
            return Ok(());
        };
        if refusal.rule.id() == "authority" {
            let granted: Vec<String> = s
                .policy
                .grants
                .iter()
                .filter(|g| {
                    g.meanings.contains(&request.meaning)
                        && g.phases.contains(&request.record.phase)
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
                request.meaning,
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
                s.act,
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
        if unlocked.key_id() != key.key_id {
            return Err(ServiceError::integrity(format!(
                "the key file opened a key other than {}; the key file is damaged",
                key.key_id
            )));
        }
        Ok(unlocked)
    }
}

impl Service {
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
}
