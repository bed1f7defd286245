//! Signer keys: creating a person's key, enrolling it to their MFA-backed IAM identity,
//! revoking it, and exporting its public half.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use countersign_aws::iam::{groups_of, GroupMembership};
use countersign_aws::sso::finish_device_sign_in;
use countersign_aws::sts::{open_mfa_session, MfaSession, SessionIdentity};
use countersign_aws::{AwsContext, AwsErrorKind, AwsSettings};
use countersign_core::secret::{MfaCode, Passphrase};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::policy::Principal;
use countersign_keys::{KeyError, KeyFile};
use countersign_ledger::{Actor, NewEnrollment, SignerKeyRecord};
use serde::Serialize;

use crate::error::{self as err, ErrorCode, ServiceError};
use crate::session::SigningSession;
use crate::sign_in::OpenError;
use crate::Service;

/// Directory of the key files inside the home directory.
pub const KEYS_DIR: &str = "keys";

/// The Part 11 certification (21 CFR 11.100(c)) a signer accepts at enrollment.
pub const CERTIFICATION_STATEMENT: &str = "I certify that my electronic signature is the legally \
binding equivalent of my traditional handwritten signature (21 CFR 11.100(c)).";

/// A key as the home knows it: its file and, once enrolled, its binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// 32 hex.
    pub key_id: String,
    /// The printed name in the key file.
    pub printed_name: String,
    /// The key file.
    pub path: PathBuf,
    /// The enrollment, if any.
    pub enrolled: Option<SignerKeyRecord>,
}

/// What `keys enroll` needs. Its `Debug` shows the MFA code as `<redacted>`.
#[derive(Debug, Clone)]
pub struct EnrollRequest {
    /// The MFA device serial (virtual device ARN or hardware serial); empty: the one the AWS
    /// profile names (`mfa_serial`).
    pub mfa_serial: String,
    /// The one-time code now shown by the device.
    pub mfa_code: MfaCode,
    /// Which key; may be omitted when the home holds exactly one key not yet enrolled.
    pub key_id: Option<String>,
    /// The signer accepted [`CERTIFICATION_STATEMENT`].
    pub certification_accepted: bool,
}

/// A completed enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrollment {
    /// The binding as recorded.
    pub key: SignerKeyRecord,
    /// The account of the identity.
    pub account: String,
    /// A warning when the local clock and STS disagree by more than the limit.
    pub clock_warning: Option<String>,
    /// The identity's IAM groups as IAM reported them, when the signing policy grants by
    /// group (`None` when it does not, or when they could not be read).
    pub groups: Option<Vec<String>>,
    /// Why group grants will not apply to this identity, when the policy has some: the
    /// groups could not be read (naming the permission), or the identity cannot have groups.
    pub group_warning: Option<String>,
}

/// A public key for auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicKeyExport {
    /// 32 hex.
    pub key_id: String,
    /// The raw 32-byte key, hex.
    pub public_key_hex: String,
    /// SubjectPublicKeyInfo PEM (RFC 8410).
    pub pem: String,
    /// The printed name.
    pub printed_name: String,
    /// The enrolled IAM ARN, when enrolled.
    pub iam_arn: Option<String>,
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4).
pub(crate) const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The PEM of an ed25519 public key.
pub fn public_key_pem(public_key: &[u8; 32]) -> String {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(public_key);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

pub(crate) fn from_key_error(e: KeyError) -> ServiceError {
    match e {
        KeyError::WrongPassphrase { .. } => ServiceError::new(ErrorCode::Refused, e.to_string()),
        KeyError::Exists { .. }
        | KeyError::WeakPassphrase { .. }
        | KeyError::BadPrintedName { .. }
        | KeyError::Kdf { .. } => ServiceError::bad_input(e.to_string()),
        KeyError::Malformed { .. } | KeyError::UnsupportedFormat { .. } => {
            ServiceError::integrity(e.to_string())
        }
        KeyError::Io { .. } | KeyError::Random { .. } => ServiceError::storage(e.to_string()),
    }
}

/// Maps an STS failure: a rejected code is a plain refusal, not an environment problem.
pub(crate) fn from_sts_error(e: countersign_aws::AwsError) -> ServiceError {
    if e.kind == AwsErrorKind::MfaCodeRejected {
        ServiceError::new(
            ErrorCode::Refused,
            "MFA code rejected: STS did not accept the one-time code; wait for the next code on your device and try again",
        )
    } else if e.kind == AwsErrorKind::InvalidInput {
        ServiceError::bad_input(e.to_string())
    } else {
        ServiceError::from(e)
    }
}

/// Warns when the local clock and the STS server's clock differ by more than `max`.
pub(crate) fn clock_skew(
    identity: &SessionIdentity,
    now: time::OffsetDateTime,
    max: time::Duration,
) -> Option<(i64, String)> {
    let server = identity.server_time_utc()?;
    let skew = (now - server).whole_seconds();
    (skew.abs() > max.whole_seconds()).then(|| {
        (
            skew,
            format!(
                "the local clock differs from the STS server's clock by {skew} s (limit {} s); check the computer's time",
                max.whole_seconds()
            ),
        )
    })
}

impl Service {
    /// The key directory, `<home>/keys`.
    pub fn keys_dir(&self) -> PathBuf {
        self.home().join(KEYS_DIR)
    }

    /// Creates a key for `printed_name` at `<home>/keys/<key_id>.key`, encrypted with
    /// `passphrase` (argon2id at the environment's cost), and records `key.created`.
    pub fn keys_init(
        &self,
        printed_name: &str,
        passphrase: &Passphrase,
    ) -> Result<KeyInfo, ServiceError> {
        let kdf = self.env().kdf;
        let dir = self.keys_dir();
        crate::home::create_private_dir(&dir).map_err(|e| {
            ServiceError::storage(format!(
                "could not create the key directory {}: {e}",
                dir.display()
            ))
        })?;
        let wanted = printed_name.trim();
        for k in self.keys()? {
            let revoked = k.enrolled.as_ref().is_some_and(|e| e.revoked.is_some());
            if k.printed_name.eq_ignore_ascii_case(wanted) && !revoked {
                return Err(ServiceError::new(
                    ErrorCode::Refused,
                    format!(
                        "{wanted} already has the key {} ({}); one key per person: revoke it before creating another",
                        k.key_id,
                        k.path.display()
                    ),
                ));
            }
        }
        // The file is named after its key id, known only once the key exists: create under a
        // temporary name in the same directory, then rename (never over an existing file).
        let tmp = dir.join(format!(".new-{}.key", std::process::id()));
        let (file, _) =
            KeyFile::create_with_params(&tmp, wanted, passphrase, kdf).map_err(from_key_error)?;
        let path = dir.join(format!("{}.key", file.key_id));
        if path.exists() {
            let _ = std::fs::remove_file(&tmp);
            return Err(ServiceError::storage(format!(
                "{} already exists; nothing was overwritten",
                path.display()
            )));
        }
        std::fs::rename(&tmp, &path).map_err(|e| {
            ServiceError::storage(format!(
                "could not move the new key to {}: {e}",
                path.display()
            ))
        })?;
        let actor = Actor {
            arn: None,
            printed_name: Some(file.printed_name.clone()),
        };
        let key_id: KeyId = file.key_id.parse().map_err(|_| {
            ServiceError::integrity(format!("the new key's id {:?} is not 32 hex", file.key_id))
        })?;
        self.ledger()?
            .record_key_created(&key_id, &file.printed_name, &actor)
            .map_err(err::from_ledger)?;
        Ok(KeyInfo {
            key_id: file.key_id,
            printed_name: file.printed_name,
            path,
            enrolled: None,
        })
    }

    /// The key files in `<home>/keys`, with their enrollment.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, ServiceError> {
        let dir = self.keys_dir();
        let enrolled = self.ledger()?.signer_keys().map_err(err::from_ledger)?;
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => {
                return Err(ServiceError::storage(format!(
                    "could not read the key directory {}: {e}",
                    dir.display()
                )))
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "key")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        for path in paths {
            let file = KeyFile::read(&path).map_err(from_key_error)?;
            let binding = enrolled
                .iter()
                .find(|k| k.key_id.to_hex() == file.key_id)
                .cloned();
            out.push(KeyInfo {
                key_id: file.key_id,
                printed_name: file.printed_name,
                path,
                enrolled: binding,
            });
        }
        Ok(out)
    }

    /// The key file for `key_id`, or the only key when `key_id` is `None` and `pick` accepts
    /// exactly one.
    pub(crate) fn key_file(
        &self,
        key_id: Option<&str>,
        pick: impl Fn(&KeyInfo) -> bool,
    ) -> Result<(KeyInfo, KeyFile), ServiceError> {
        self.key_file_chosen_by(key_id, pick, "--key")
    }

    /// [`key_file`](Self::key_file), naming `flag` as the way to choose among several keys
    /// (where `--key` names another key than the person's own).
    pub(crate) fn key_file_chosen_by(
        &self,
        key_id: Option<&str>,
        pick: impl Fn(&KeyInfo) -> bool,
        flag: &str,
    ) -> Result<(KeyInfo, KeyFile), ServiceError> {
        let keys = self.keys()?;
        let info = match key_id {
            Some(id) => {
                let id: KeyId = id.trim().parse().map_err(|_| {
                    ServiceError::bad_input(format!("{id:?} is not a key id (32 hex characters)"))
                })?;
                keys.into_iter()
                    .find(|k| k.key_id == id.to_hex())
                    .ok_or_else(|| {
                        ServiceError::not_found(format!(
                            "no key file for key {id} in {}; create one with `countersign keys init`",
                            self.keys_dir().display()
                        ))
                    })?
            }
            None => {
                let mut candidates: Vec<KeyInfo> = keys.into_iter().filter(|k| pick(k)).collect();
                match candidates.len() {
                    1 => candidates.remove(0),
                    0 => {
                        return Err(ServiceError::not_found(format!(
                            "no usable key in {}; create one with `countersign keys init --name \"Full Name\"`",
                            self.keys_dir().display()
                        )))
                    }
                    _ => {
                        let ids: Vec<&str> = candidates.iter().map(|k| k.key_id.as_str()).collect();
                        return Err(ServiceError::bad_input(format!(
                            "several keys could be meant ({}); choose one with {flag} KEY_ID",
                            ids.join(", ")
                        )));
                    }
                }
            }
        };
        let file = KeyFile::read(&info.path).map_err(from_key_error)?;
        Ok((info, file))
    }

    /// The MFA device the AWS profile of `aws` names (`mfa_serial`, as the AWS CLI reads it),
    /// to prefill an enrollment form; `None` when it names none or no profile file is used.
    pub async fn profile_mfa_device(
        &self,
        aws: &AwsSettings,
    ) -> Result<Option<String>, ServiceError> {
        let ctx = self.aws(aws).await?;
        Ok(ctx.profile_mfa_serial().await?)
    }

    /// Enrolls a key: opens an MFA-backed STS session, asks STS who the caller is, and binds
    /// that ARN, the account, the printed name and the public key in the ledger.
    pub async fn keys_enroll(
        &self,
        aws: &AwsSettings,
        req: &EnrollRequest,
    ) -> Result<Enrollment, ServiceError> {
        let now = self.now();
        let (info, file) =
            self.enrollable_key(req.key_id.as_deref(), req.certification_accepted)?;
        let ctx = self.aws(aws).await?;
        let (session, identity) =
            open_mfa_session(&ctx, &req.mfa_serial, req.mfa_code.expose(), None)
                .await
                .map_err(from_sts_error)?;
        self.bind_key(&ctx, info, &file, session, identity, now)
            .await
    }

    /// Enrolls a key with the IAM Identity Center sign-in started in `session`
    /// ([`Service::start_sign_in`]): once the person approves it in the browser, binds the
    /// identity of the role session it yields, as [`Service::keys_enroll`] binds an MFA
    /// session's. The sign-in is used up either way.
    pub async fn keys_enroll_signed_in(
        &self,
        aws: &AwsSettings,
        key_id: Option<&str>,
        certification_accepted: bool,
        session: &mut SigningSession,
    ) -> Result<Enrollment, ServiceError> {
        let now = self.now();
        let (info, file) = self.enrollable_key(key_id, certification_accepted)?;
        let Some(sign_in) = session.pending.take() else {
            return Err(ServiceError::bad_input(
                "no IAM Identity Center sign-in was started for this enrollment: start it, approve it in the browser, then enroll",
            ));
        };
        let ctx = self.aws(aws).await?;
        let (mfa, identity) = finish_device_sign_in(&ctx, sign_in)
            .await
            .map_err(|e| OpenError::from(e).into_service_error())?;
        self.bind_key(&ctx, info, &file, mfa, identity, now).await
    }

    /// The key to enroll, once the signer accepted the certification: `key_id`, or the one
    /// key not yet enrolled; refused when it is already bound.
    fn enrollable_key(
        &self,
        key_id: Option<&str>,
        certification_accepted: bool,
    ) -> Result<(KeyInfo, KeyFile), ServiceError> {
        if !certification_accepted {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "enrollment needs the signer to accept the certification: \"{CERTIFICATION_STATEMENT}\""
                ),
            ));
        }
        let (info, file) = self.key_file(key_id, |k| k.enrolled.is_none())?;
        if let Some(bound) = &info.enrolled {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "the key {} is already enrolled to {}; a key is never re-bound",
                    info.key_id, bound.iam_arn
                ),
            ));
        }
        Ok((info, file))
    }

    /// Binds the identity of a just-opened session to the key, in the ledger.
    async fn bind_key(
        &self,
        ctx: &AwsContext,
        info: KeyInfo,
        file: &KeyFile,
        session: MfaSession,
        identity: SessionIdentity,
        now: time::OffsetDateTime,
    ) -> Result<Enrollment, ServiceError> {
        let public_key = file.public_key().map_err(from_key_error)?.to_bytes();
        let (groups, group_warning) = self.enrollment_groups(ctx, &session, &identity).await?;
        drop(session);
        let actor = Actor::person(identity.arn.clone(), file.printed_name.clone());
        let mut ledger = self.ledger()?;
        let active = ledger
            .signer_keys()
            .map_err(err::from_ledger)?
            .into_iter()
            .find(|k| k.iam_arn.eq_ignore_ascii_case(&identity.arn) && k.revoked.is_none());
        if let Some(k) = active {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "{} already has the active key {}; one key per person: revoke it first (`countersign keys revoke`)",
                    identity.arn, k.key_id
                ),
            ));
        }
        let clock_warning = clock_skew(
            &identity,
            now,
            time::Duration::seconds(crate::session::DEFAULT_MAX_CLOCK_SKEW_SECS),
        );
        if let Some((skew, text)) = &clock_warning {
            ledger
                .record_clock_skew(&identity.arn, *skew, text, &actor)
                .map_err(err::from_ledger)?;
        }
        let key_id: KeyId = info.key_id.parse().map_err(|_| {
            ServiceError::integrity(format!("the key id {:?} is not 32 hex", info.key_id))
        })?;
        let key = ledger
            .enroll_signer_key(
                &NewEnrollment {
                    key_id,
                    public_key,
                    iam_arn: identity.arn.clone(),
                    account: identity.account.clone(),
                    printed_name: file.printed_name.clone(),
                    mfa_serial: identity.mfa_serial.clone(),
                },
                &actor,
            )
            .map_err(|e| ServiceError::new(ErrorCode::Refused, e.to_string()))?;
        Ok(Enrollment {
            key,
            account: identity.account,
            clock_warning: clock_warning.map(|(_, t)| t),
            groups,
            group_warning,
        })
    }

    /// When the signing policy grants by IAM group: the identity's groups, read with the new
    /// MFA session, so a missing permission shows at enrollment rather than at the first
    /// signing. Never fails the enrollment (grants by ARN may still apply); says why instead.
    async fn enrollment_groups(
        &self,
        ctx: &AwsContext,
        session: &MfaSession,
        identity: &SessionIdentity,
    ) -> Result<(Option<Vec<String>>, Option<String>), ServiceError> {
        let (policy, _) = self.signing_policy()?;
        let grants_groups = policy
            .grants
            .iter()
            .any(|g| matches!(g.principal, Principal::Group(_)));
        if !grants_groups {
            return Ok((None, None));
        }
        Ok(match groups_of(&session.context(ctx), &identity.arn).await {
            Ok(GroupMembership::User { groups, .. }) => (Some(groups), None),
            Ok(GroupMembership::NotAUser { why }) => (
                Some(Vec::new()),
                Some(format!(
                    "the signing policy grants by IAM group, but {why}: only grants by ARN can authorise it"
                )),
            ),
            Err(e) => (
                None,
                Some(format!(
                    "the signing policy grants by IAM group, but the groups of {} could not be read, so group grants cannot authorise its signatures until this is fixed: {e}",
                    identity.arn
                )),
            ),
        })
    }

    /// Revokes an enrolled key (`key.revoked`, reason required) as its owner: the key's own
    /// passphrase must open it, so nobody at the desk can revoke someone else's key. A wrong
    /// passphrase counts towards the owner's lockout, as at signing. Its signatures then
    /// verify as made with a revoked key.
    pub fn keys_revoke(
        &self,
        key_id: &str,
        reason: &str,
        passphrase: &Passphrase,
    ) -> Result<(), ServiceError> {
        if reason.trim().is_empty() {
            return Err(ServiceError::bad_input(
                "a revocation needs a reason (--reason TEXT): why the key may no longer sign",
            ));
        }
        let key = self
            .ledger()?
            .signer_keys()
            .map_err(err::from_ledger)?
            .into_iter()
            .find(|k| k.key_id.to_hex() == key_id.trim())
            .ok_or_else(|| ServiceError::not_found(format!("no enrolled key {key_id}")))?;
        if key.revoked.is_some() {
            return Err(ServiceError::bad_input(format!(
                "the key {} is already revoked",
                key.key_id
            )));
        }
        let file = self
            .keys()?
            .into_iter()
            .find(|k| k.key_id == key.key_id.to_hex())
            .map(|_| self.key_file(Some(&key.key_id.to_hex()), |_| true))
            .transpose()?
            .map(|(_, f)| f)
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorCode::Refused,
                    format!(
                        "the key {} ({}) is not held in this home: only its owner revokes it, with its passphrase, on the desktop that holds it",
                        key.key_id, key.printed_name
                    ),
                )
            })?;
        let (policy, _) = self.signing_policy()?;
        let now = self.now();
        if let Some(until) = self.locked_until(&key.iam_arn, &policy, now)? {
            return Err(ServiceError::new(
                ErrorCode::Refused,
                format!(
                    "signing by {} is locked until {until} after failed attempts; the passphrase cannot be tried before then",
                    key.printed_name
                ),
            ));
        }
        self.unlock_key(&key, &file, &policy, passphrase, now)?;
        let actor = Actor::person(key.iam_arn.clone(), key.printed_name.clone());
        self.ledger()?
            .revoke_signer_key(&key.key_id, reason, &actor)
            .map_err(err::from_ledger)?;
        Ok(())
    }

    /// The public key of `key_id` (or of the only key in the home).
    pub fn keys_export(&self, key_id: Option<&str>) -> Result<PublicKeyExport, ServiceError> {
        let (info, file) = self.key_file(key_id, |_| true)?;
        let pk = file.public_key().map_err(from_key_error)?.to_bytes();
        Ok(PublicKeyExport {
            key_id: info.key_id,
            public_key_hex: hex_of(&pk),
            pem: public_key_pem(&pk),
            printed_name: info.printed_name,
            iam_arn: info.enrolled.map(|e| e.iam_arn),
        })
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.to_owned())
    }

    #[test]
    fn pem_is_rfc8410_spki() {
        // RFC 8410 §10.1 example public key.
        let pk: [u8; 32] = [
            0x19, 0xbf, 0x44, 0x09, 0x69, 0x84, 0xcd, 0xfe, 0x85, 0x41, 0xba, 0xc1, 0x67, 0xdc,
            0x3b, 0x96, 0xc8, 0x50, 0x86, 0xaa, 0x30, 0xb6, 0xb6, 0xcb, 0x0c, 0x5c, 0x38, 0xad,
            0x70, 0x31, 0x66, 0xe1,
        ];
        assert_eq!(
            public_key_pem(&pk),
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
        );
    }

    #[test]
    fn init_writes_the_key_file_records_the_event_and_refuses_a_second_key_per_person() {
        let home = tempfile::tempdir().unwrap();
        let s = crate::test_env::service(home.path());
        let k = s
            .keys_init("Dana Whitfield", &pass("correct horse battery"))
            .unwrap();
        assert_eq!(
            k.path,
            home.path().join("keys").join(format!("{}.key", k.key_id))
        );
        assert!(k.path.exists());
        let again = s
            .keys_init("dana whitfield", &pass("correct horse battery"))
            .unwrap_err();
        assert_eq!(again.code, ErrorCode::Refused);
        let weak = s.keys_init("Eve", &pass("short")).unwrap_err();
        assert_eq!(weak.code, ErrorCode::BadInput);
        assert_eq!(s.keys().unwrap().len(), 1);
        let events = s
            .ledger()
            .unwrap()
            .events(&countersign_ledger::EventFilter {
                action: Some("key.created".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.object_id, k.key_id);

        let export = s.keys_export(None).unwrap();
        assert_eq!(export.key_id, k.key_id);
        assert!(export
            .pem
            .starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
        assert_eq!(export.iam_arn, None);
        assert_eq!(
            s.keys_export(Some("nothex")).unwrap_err().code,
            ErrorCode::BadInput
        );
    }
}
