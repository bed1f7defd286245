//! Revoking another person's key as an administrator the signing policy names: for a key
//! whose owner cannot give its passphrase (they left, the laptop was lost). Like a disposition,
//! it is an act attributed to a person: the administrator authenticates with both signature
//! components (their MFA-backed session and their own key's passphrase), failed attempts count
//! towards their lockout, and the `key.revoked` entry names them as its actor. The owner's own
//! revocation, with the key's passphrase, is `Service::keys_revoke`.

use countersign_aws::AwsSettings;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::policy::Policy;
use countersign_keys::KeyFile;
use countersign_ledger::{Actor, SignerKeyRecord};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::signing::authenticate::Signing;
use crate::signing::SignSecrets;
use crate::{ErrorCode, Service};

/// An administrator's revocation of someone's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRevokeRequest {
    /// The key to revoke.
    pub key_id: String,
    /// Why it may no longer sign (mandatory).
    pub reason: String,
    /// The administrator's own enrolled key (or the only usable one in this home).
    pub admin_key_id: Option<String>,
    /// The administrator's MFA device, when not the one enrolled with their key.
    pub mfa_serial: Option<String>,
}

/// What will be done and by whom, shown before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminRevokePlan {
    /// The key to revoke.
    pub key_id: KeyId,
    /// Its owner's printed name.
    pub printed_name: String,
    /// Its owner's IAM identity.
    pub iam_arn: String,
    /// The administrator's key.
    pub admin_key_id: KeyId,
    /// The administrator's printed name.
    pub admin_printed_name: String,
    /// The administrator's IAM identity.
    pub admin_arn: String,
    /// The administrator's MFA device.
    pub mfa_serial: String,
    /// False inside the administrator's open signing session: the passphrase alone.
    pub needs_mfa: bool,
    /// The policy naming the administrator.
    pub policy_version: u32,
}

struct Planned {
    plan: AdminRevokePlan,
    admin: SignerKeyRecord,
    file: KeyFile,
    policy: Policy,
}

impl Service {
    /// Everything decided before any secret is asked for: a reason, a key to revoke that is
    /// enrolled and not revoked, the administrator's own enrolled key, the policy naming them,
    /// and no lockout.
    fn plan_admin_revocation(
        &self,
        session: &SigningSession,
        req: &AdminRevokeRequest,
    ) -> Result<Planned, ServiceError> {
        if req.reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a revocation needs a reason (--reason TEXT): why the key may no longer sign",
            ));
        }
        let target = self
            .ledger()?
            .signer_keys()
            .map_err(err::from_ledger)?
            .into_iter()
            .find(|k| k.key_id.to_hex() == req.key_id.trim().to_ascii_lowercase())
            .ok_or_else(|| ServiceError::not_found(format!("no enrolled key {}", req.key_id)))?;
        if target.revoked.is_some() {
            return Err(ServiceError::bad_input(format!(
                "the key {} is already revoked",
                target.key_id
            )));
        }
        let usable = |k: &crate::KeyInfo| {
            k.enrolled.as_ref().is_some_and(SignerKeyRecord::is_active)
                && k.key_id != target.key_id.to_hex()
        };
        // `--key` names the key to revoke here: the administrator's own is `--admin-key`.
        let (info, file) =
            self.key_file_chosen_by(req.admin_key_id.as_deref(), usable, "--admin-key")?;
        let admin = match info.enrolled {
            Some(k) if k.is_active() => k,
            _ => {
                return Err(ServiceError::new(
                    ErrorCode::Refused,
                    format!(
                        "the key {} is not enrolled (or was revoked): an administrator revokes with their own enrolled key",
                        info.key_id
                    ),
                ))
            }
        };
        if admin.key_id == target.key_id {
            return Err(ServiceError::bad_input(format!(
                "the key {} is your own: revoke it as its owner, with its passphrase",
                target.key_id
            )));
        }
        let (policy, _) = self.signing_policy()?;
        if !policy.is_administrator(&admin.iam_arn) {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "{} ({}) is not an administrator under signing policy v{}: only the key's owner, with its passphrase, or an administrator the policy names may revoke it",
                    admin.printed_name, admin.iam_arn, policy.version
                ),
            ));
        }
        let now = self.now();
        if let Some(until) = self.locked_until(&admin.iam_arn, &policy, now)? {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "signing by {} is locked until {until} after failed attempts; a revocation needs the same authentication",
                    admin.printed_name
                ),
            ));
        }
        let idle = time::Duration::minutes(i64::from(policy.session.idle_timeout_minutes));
        let needs_mfa = !session.is_open_for(&admin.iam_arn, now, idle);
        Ok(Planned {
            plan: AdminRevokePlan {
                key_id: target.key_id,
                printed_name: target.printed_name.clone(),
                iam_arn: target.iam_arn.clone(),
                admin_key_id: admin.key_id,
                admin_printed_name: admin.printed_name.clone(),
                admin_arn: admin.iam_arn.clone(),
                mfa_serial: req
                    .mfa_serial
                    .clone()
                    .unwrap_or_else(|| admin.mfa_serial.clone()),
                needs_mfa,
                policy_version: policy.version,
            },
            admin,
            file,
            policy,
        })
    }

    /// Checks an administrator's revocation without asking for secrets.
    pub fn keys_revoke_as_admin_check(
        &self,
        session: &SigningSession,
        req: &AdminRevokeRequest,
    ) -> Result<AdminRevokePlan, ServiceError> {
        Ok(self.plan_admin_revocation(session, req)?.plan)
    }

    /// Revokes someone's key as an administrator the policy names, once they authenticated:
    /// their open session or an MFA code that opens one, and their own key's passphrase. The
    /// `key.revoked` entry names the administrator as its actor.
    pub async fn keys_revoke_as_admin(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &AdminRevokeRequest,
        secrets: SignSecrets,
    ) -> Result<AdminRevokePlan, ServiceError> {
        let p = self.plan_admin_revocation(session, req)?;
        let now = self.now();
        let ctx = self.aws(aws).await?;
        let target = p.plan.key_id.to_hex();
        let auth = self
            .authenticate(
                &ctx,
                session,
                &Signing {
                    key: &p.admin,
                    file: &p.file,
                    policy: &p.policy,
                    mfa_serial: &p.plan.mfa_serial,
                    subject_kind: "key",
                    subject_id: &target,
                    act: "revocation",
                },
                secrets,
                now,
                None,
            )
            .await?;
        drop(auth.unlocked);
        let actor = Actor::person(p.admin.iam_arn.clone(), p.admin.printed_name.clone());
        self.ledger()?
            .revoke_signer_key(&p.plan.key_id, req.reason.trim(), &actor)
            .map_err(err::from_ledger)?;
        if let Some(f) = auth.fresh {
            session.open = Some(f);
        }
        if let Some(open) = session.open.as_mut() {
            open.last_activity = now;
        }
        Ok(p.plan)
    }
}
