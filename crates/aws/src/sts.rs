//! MFA-backed STS sessions: the first identity component of an electronic signature.
//!
//! `GetSessionToken` with the MFA device serial and the current one-time code gives temporary
//! credentials; for a role profile (`role_arn` + `source_profile` + `mfa_serial`) it is
//! `AssumeRole` with the same serial and code, called with the source profile's credentials.
//! `GetCallerIdentity` with the temporary credentials says who they belong to (IAM ARN, or the
//! assumed-role ARN, account, user id). The temporary credentials stay in memory only ([`MfaSession`]: no
//! `Serialize`, redacted `Debug`, secrets zeroized on drop). The HTTP `Date` of the STS answer is
//! kept as the server's time so callers can check the local clock against it.

// `AwsError` is this crate's error type everywhere; these calls happen once per sign-in.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::{DateTime, Format};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::{AwsContext, RoleProfile};
use crate::error::{AwsError, AwsErrorKind};

/// Shortest session STS grants with GetSessionToken, in seconds (15 minutes).
pub const MIN_SESSION_SECS: i32 = 900;
/// Longest session STS grants to an IAM user with GetSessionToken, in seconds (36 hours).
pub const MAX_SESSION_SECS: i32 = 129_600;
/// Longest role session AssumeRole can grant, in seconds (12 hours; the role's own maximum
/// session duration may be lower).
pub const MAX_ROLE_SESSION_SECS: i32 = 43_200;

/// Temporary credentials from an MFA-backed STS session. In memory only.
pub struct MfaSession {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Zeroizing<String>,
    expires_at: OffsetDateTime,
}

impl fmt::Debug for MfaSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaSession")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl MfaSession {
    /// `base` with this session's credentials (same region, endpoint and addressing).
    ///
    /// The SDK keeps its own copy of the credentials for the life of the returned context.
    pub fn context(&self, base: &AwsContext) -> AwsContext {
        base.with_credentials(self.credentials())
    }

    /// When STS said the credentials expire.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// True when the credentials have expired at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// The temporary access key id (not a secret; useful in logs and audit trails).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub(crate) fn new(
        access_key_id: String,
        secret_access_key: Zeroizing<String>,
        session_token: Zeroizing<String>,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            access_key_id,
            secret_access_key,
            session_token,
            expires_at,
        }
    }

    /// Asks STS who these credentials belong to (GetCallerIdentity), keeping the server's
    /// `Date` as the session's server time. `mfa_serial` is how the session was authenticated.
    pub(crate) async fn identify(
        &self,
        base: &AwsContext,
        mfa_serial: &str,
    ) -> Result<SessionIdentity, AwsError> {
        let action = "identify the caller of the MFA session with GetCallerIdentity";
        let date = ServerDate::default();
        let who = self
            .context(base)
            .sts()
            .get_caller_identity()
            .customize()
            .interceptor(date.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(&e, action))?;
        let missing = |field: &str| {
            AwsError::new(AwsErrorKind::Other, action)
                .with_detail(format!("STS answered without the caller's {field}"))
        };
        Ok(SessionIdentity {
            arn: who.arn.ok_or_else(|| missing("ARN"))?,
            account: who.account.ok_or_else(|| missing("account"))?,
            user_id: who.user_id.ok_or_else(|| missing("user id"))?,
            mfa_serial: mfa_serial.to_owned(),
            assumed_role: None,
            expires_at: self.expires_at,
            server_time: date.get(),
        })
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.as_str(),
            Some(self.session_token.to_string()),
            Some(SystemTime::from(self.expires_at)),
            "countersign-mfa-session",
        )
    }
}

/// Who an MFA session belongs to, as STS reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIdentity {
    /// The caller's ARN, e.g. `arn:aws:iam::123456789012:user/alice`.
    pub arn: String,
    /// The 12-digit AWS account id.
    pub account: String,
    /// The caller's unique id (`AIDA…` for an IAM user).
    pub user_id: String,
    /// The MFA device serial the session was opened with.
    pub mfa_serial: String,
    /// For a role profile: the role assumed and the identity that assumed it.
    pub assumed_role: Option<AssumedRole>,
    /// When the session's credentials expire.
    pub expires_at: OffsetDateTime,
    /// The HTTP `Date` header of the answer that opened the session (GetSessionToken or
    /// AssumeRole; GetCallerIdentity after an IAM Identity Center sign-in): the server's clock,
    /// when present.
    pub server_time: Option<String>,
}

/// How a role session was opened: which role, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    /// The profile's `role_arn`.
    pub role_arn: String,
    /// The role session name (the last part of the assumed-role ARN).
    pub session_name: String,
    /// The ARN of the source profile's identity, which called AssumeRole.
    pub source_arn: String,
}

impl SessionIdentity {
    /// [`Self::server_time`] parsed (RFC 7231 HTTP date), when present and well formed.
    pub fn server_time_utc(&self) -> Option<OffsetDateTime> {
        self.server_time.as_deref().and_then(parse_http_date)
    }
}

/// Parses an HTTP date such as `Sun, 29 Nov 2026 04:31:27 GMT`.
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let parsed = DateTime::from_str(text.trim(), Format::HttpDate).ok()?;
    OffsetDateTime::from_unix_timestamp(parsed.secs()).ok()
}

fn invalid(action: &str, detail: String, hint: &str) -> AwsError {
    AwsError::new(AwsErrorKind::InvalidInput, action)
        .with_detail(detail)
        .with_hint(hint)
}

const CHECK_CODE: &str = "check the MFA code";
const CHECK_SERIAL: &str = "check the MFA device serial";

/// Checks that `code` is a one-time code as MFA devices show it: exactly 6 digits (surrounding
/// spaces are ignored). Returns the trimmed code. The code itself is never echoed back.
pub fn validate_mfa_code(code: &str) -> Result<&str, AwsError> {
    let code = code.trim();
    let hint = "enter the 6-digit code your MFA device shows now";
    if code.is_empty() {
        return Err(invalid(
            CHECK_CODE,
            "the MFA code is empty".to_owned(),
            hint,
        ));
    }
    if !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            CHECK_CODE,
            "the MFA code must contain digits only".to_owned(),
            hint,
        ));
    }
    if code.len() != 6 {
        return Err(invalid(
            CHECK_CODE,
            format!("the MFA code must be 6 digits, not {}", code.len()),
            hint,
        ));
    }
    Ok(code)
}

/// Checks that `serial` looks like an MFA device serial: a virtual device ARN
/// (`arn:aws:iam::123456789012:mfa/NAME`) or a hardware token serial (9–256 characters of
/// letters, digits and `+=,.@_-:/`). Returns the trimmed serial.
pub fn validate_mfa_serial(serial: &str) -> Result<&str, AwsError> {
    let serial = serial.trim();
    let hint = "pass the device's ARN as shown in the IAM console under Security credentials \
                (arn:aws:iam::ACCOUNT:mfa/NAME), or the serial printed on a hardware token";
    if serial.is_empty() {
        return Err(invalid(
            CHECK_SERIAL,
            "the MFA device serial is empty".to_owned(),
            hint,
        ));
    }
    if let Some(rest) = serial.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let well_formed = match parts.as_slice() {
            [partition, "iam", "", account, resource] => {
                partition.starts_with("aws")
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && resource
                        .strip_prefix("mfa/")
                        .is_some_and(|name| !name.is_empty() && name.chars().all(serial_char))
            }
            _ => false,
        };
        if !well_formed {
            return Err(invalid(
                CHECK_SERIAL,
                format!("`{serial}` is not an MFA device ARN (arn:aws:iam::ACCOUNT:mfa/NAME)"),
                hint,
            ));
        }
        return Ok(serial);
    }
    if !(9..=256).contains(&serial.len()) || !serial.chars().all(serial_char) {
        return Err(invalid(
            CHECK_SERIAL,
            format!("`{serial}` is neither an MFA device ARN nor a hardware token serial"),
            hint,
        ));
    }
    Ok(serial)
}

fn serial_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-:/".contains(c)
}

/// Checks a requested session length against what STS allows for GetSessionToken.
pub fn validate_duration(duration_secs: Option<i32>) -> Result<Option<i32>, AwsError> {
    match duration_secs {
        Some(d) if !(MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(&d) => Err(invalid(
            "check the session length",
            format!("a session of {d} seconds is outside what STS allows"),
            "choose between 900 seconds (15 minutes) and 129600 seconds (36 hours)",
        )),
        other => Ok(other),
    }
}

/// Checks a requested role session length against what AssumeRole allows.
pub fn validate_role_duration(duration_secs: Option<i32>) -> Result<Option<i32>, AwsError> {
    match duration_secs {
        Some(d) if !(MIN_SESSION_SECS..=MAX_ROLE_SESSION_SECS).contains(&d) => Err(invalid(
            "check the role session length",
            format!("a role session of {d} seconds is outside what AssumeRole allows"),
            "choose between 900 seconds (15 minutes) and 43200 seconds (12 hours), and no more than the role's maximum session duration (duration_seconds in the profile)",
        )),
        other => Ok(other),
    }
}

/// Checks a role session name: 2–64 of letters, digits and `+=,.@_-`.
pub fn validate_role_session_name(name: &str) -> Result<&str, AwsError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(name)
    } else {
        Err(invalid(
            "check the role session name",
            format!("`{name}` is not a role session name"),
            "set role_session_name in the profile to 2-64 letters, digits or +=,.@_- (your user name is a good choice: it becomes part of your signing identity)",
        ))
    }
}

/// The device serial for a role profile: the profile's `mfa_serial` unless another one is
/// given; both given and different is an error (the role's trust policy names one device).
fn role_serial(role: &RoleProfile, given: &str) -> Result<String, AwsError> {
    let given = given.trim();
    match (role.mfa_serial.as_deref().map(str::trim), given.is_empty()) {
        (Some(p), true) => Ok(validate_mfa_serial(p)?.to_owned()),
        (Some(p), false) if p != given => Err(invalid(
            CHECK_SERIAL,
            format!(
                "the profile {} assumes its role with the MFA device {p} (mfa_serial), but {given} was given",
                role.profile
            ),
            "use the device named in the profile, or change mfa_serial in the profile",
        )),
        (None, true) => Err(invalid(
            CHECK_SERIAL,
            format!("the role profile {} names no MFA device", role.profile),
            "add `mfa_serial = arn:aws:iam::ACCOUNT:mfa/NAME` to the profile, or pass --mfa-serial",
        )),
        _ => Ok(validate_mfa_serial(given)?.to_owned()),
    }
}

/// The device serial for a plain profile when none was given: the profile's `mfa_serial`, as
/// the AWS CLI and SDKs take it.
async fn profile_serial(ctx: &AwsContext) -> Result<String, AwsError> {
    match ctx.profile_mfa_serial().await? {
        Some(serial) => Ok(validate_mfa_serial(&serial)?.to_owned()),
        None => Err(invalid(
            CHECK_SERIAL,
            format!(
                "no MFA device was given and the AWS profile {} names none (mfa_serial)",
                ctx.profile_name()
            ),
            "add `mfa_serial = arn:aws:iam::ACCOUNT:mfa/NAME` to the profile, or give your MFA device's ARN",
        )),
    }
}

/// Records the `Date` header of the answer to the operation it is attached to.
#[derive(Debug, Default, Clone)]
struct ServerDate(Arc<Mutex<Option<String>>>);

impl ServerDate {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

impl Intercept for ServerDate {
    fn name(&self) -> &'static str {
        "CountersignServerDate"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            if let Ok(mut slot) = self.0.lock() {
                *slot = Some(date.to_owned());
            }
        }
        Ok(())
    }
}

/// Opens an MFA-backed session: validates the input, calls GetSessionToken with the device
/// serial and code (or, for a role profile, AssumeRole with them and the source profile's
/// credentials), then GetCallerIdentity with the new credentials.
///
/// For a role profile `mfa_serial` may be empty (the profile's `mfa_serial` is used) and
/// `duration_secs` defaults to the profile's `duration_seconds`. The role session name is the
/// profile's `role_session_name`, else the source identity's IAM user name, so the assumed-role
/// ARN (the signer's identity) is the same at every sign-in.
///
/// A code STS refuses gives [`AwsErrorKind::MfaCodeRejected`]; malformed input gives
/// [`AwsErrorKind::InvalidInput`] before any request is sent.
pub async fn open_mfa_session(
    ctx: &AwsContext,
    mfa_serial: &str,
    code: &str,
    duration_secs: Option<i32>,
) -> Result<(MfaSession, SessionIdentity), AwsError> {
    let role = ctx.role_profile().await?;
    let serial = match &role {
        Some(r) => role_serial(r, mfa_serial)?,
        None if mfa_serial.trim().is_empty() => profile_serial(ctx).await?,
        None => validate_mfa_serial(mfa_serial)?.to_owned(),
    };
    let serial = serial.as_str();
    let code = validate_mfa_code(code)?;
    let duration = match &role {
        Some(r) => validate_role_duration(duration_secs.or(r.duration_seconds))?,
        None => validate_duration(duration_secs)?,
    };
    let profile = Some(ctx.profile_name());
    let region = ctx.region_name();
    let with_context = |e: AwsError| e.with_profile(profile.clone()).with_region(region.clone());

    let date = ServerDate::default();
    let (creds, assumed_role) = match &role {
        None => {
            let action = format!("open an MFA session with device {serial}");
            let out = ctx
                .sts()
                .get_session_token()
                .serial_number(serial)
                .token_code(code)
                .set_duration_seconds(duration)
                .customize()
                .interceptor(date.clone())
                .send()
                .await
                .map_err(|e| with_context(AwsError::from_sdk(&e, &action)))?;
            (out.credentials, None)
        }
        Some(r) => {
            let source = ctx.with_profile_credentials(&r.source_profile);
            let source_action = format!(
                "identify the source profile {} of the role profile {} with GetCallerIdentity",
                r.source_profile, r.profile
            );
            let source_arn = source
                .sts()
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| with_context(AwsError::from_sdk(&e, &source_action)))?
                .arn
                .ok_or_else(|| {
                    with_context(
                        AwsError::new(AwsErrorKind::Other, &source_action)
                            .with_detail("STS answered without the caller's ARN"),
                    )
                })?;
            let session_name = match &r.role_session_name {
                Some(name) => validate_role_session_name(name.trim())?.to_owned(),
                None => {
                    let name = crate::iam::user_name_of(&source_arn).map_err(|why| {
                        invalid(
                            "choose the role session name",
                            format!("{why}; the role session name cannot be derived from it"),
                            "set role_session_name in the profile (it becomes part of your signing identity)",
                        )
                    })?;
                    validate_role_session_name(&name)?.to_owned()
                }
            };
            let action = format!(
                "assume the role {} with MFA device {serial} (profile {})",
                r.role_arn, r.profile
            );
            let out = source
                .sts()
                .assume_role()
                .role_arn(&r.role_arn)
                .role_session_name(&session_name)
                .serial_number(serial)
                .token_code(code)
                .set_duration_seconds(duration)
                .set_external_id(r.external_id.clone())
                .customize()
                .interceptor(date.clone())
                .send()
                .await
                .map_err(|e| {
                    let err = with_context(AwsError::from_sdk(&e, &action));
                    if err.kind == AwsErrorKind::AccessDenied {
                        err.with_hint(format!(
                            "the role's trust policy must allow {source_arn} to call sts:AssumeRole on {} with MFA; ask your AWS administrator, and check role_arn and source_profile in the profile {}",
                            r.role_arn, r.profile
                        ))
                    } else {
                        err
                    }
                })?;
            let assumed = AssumedRole {
                role_arn: r.role_arn.clone(),
                session_name,
                source_arn,
            };
            (out.credentials, Some(assumed))
        }
    };
    let action = format!("open an MFA session with device {serial}");
    let creds = creds.ok_or_else(|| {
        with_context(
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail("STS answered without credentials"),
        )
    })?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(creds.expiration.secs()).map_err(|_| {
            with_context(
                AwsError::new(AwsErrorKind::Other, &action)
                    .with_detail("STS answered with an expiry time out of range"),
            )
        })?;
    let session = MfaSession::new(
        creds.access_key_id,
        Zeroizing::new(creds.secret_access_key),
        Zeroizing::new(creds.session_token),
        expires_at,
    );
    let mut identity = session.identify(ctx, serial).await.map_err(with_context)?;
    identity.assumed_role = assumed_role;
    identity.server_time = date.get().or(identity.server_time);
    Ok((session, identity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_six_digit_codes_and_trims() {
        assert_eq!(validate_mfa_code("123456").unwrap(), "123456");
        assert_eq!(validate_mfa_code(" 012345\n").unwrap(), "012345");
    }

    #[test]
    fn refuses_malformed_codes_without_echoing_them() {
        for bad in ["", "12345", "1234567", "12a456", "123 456", "１２３４５６"] {
            let err = validate_mfa_code(bad).unwrap_err();
            assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{bad:?}");
            let text = err.to_string();
            assert!(text.contains("MFA code"), "{text}");
            assert!(text.contains("6-digit"), "{text}");
            if bad.len() >= 5 {
                assert!(!text.contains(bad), "the code must not be echoed: {text}");
            }
        }
        assert!(validate_mfa_code("12345")
            .unwrap_err()
            .to_string()
            .contains("not 5"));
    }

    #[test]
    fn accepts_virtual_device_arns_and_hardware_serials() {
        for ok in [
            "arn:aws:iam::123456789012:mfa/alice",
            "arn:aws:iam::123456789012:mfa/path/alice.smith@example",
            "arn:aws-us-gov:iam::123456789012:mfa/bob",
            "GAHT12345678",
        ] {
            assert_eq!(validate_mfa_serial(ok).unwrap(), ok);
        }
    }

    #[test]
    fn refuses_things_that_are_not_mfa_serials() {
        for bad in [
            "",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::12345:mfa/alice",
            "arn:aws:iam::123456789012:mfa/",
            "arn:aws:sts::123456789012:mfa/alice",
            "short",
            "has spaces in it",
        ] {
            let err = validate_mfa_serial(bad).unwrap_err();
            assert_eq!(err.kind, AwsErrorKind::InvalidInput, "{bad:?}");
            assert!(err.to_string().contains("MFA device"), "{err}");
        }
    }

    #[test]
    fn session_length_must_be_within_sts_limits() {
        assert_eq!(validate_duration(None).unwrap(), None);
        assert_eq!(validate_duration(Some(900)).unwrap(), Some(900));
        assert_eq!(validate_duration(Some(129_600)).unwrap(), Some(129_600));
        let err = validate_duration(Some(899)).unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::InvalidInput);
        assert!(err.to_string().contains("899 seconds"));
        assert!(validate_duration(Some(129_601)).is_err());
    }

    #[test]
    fn debug_never_shows_the_secrets() {
        let session = MfaSession {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Zeroizing::new("very-secret-key".into()),
            session_token: Zeroizing::new("very-secret-token".into()),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let text = format!("{session:?}");
        assert!(text.contains("ASIAEXAMPLE"));
        assert!(!text.contains("very-secret"), "{text}");
        assert!(session.is_expired_at(OffsetDateTime::UNIX_EPOCH));
    }

    #[test]
    fn parses_http_dates() {
        let t = parse_http_date("Sun, 29 Nov 2026 04:31:27 GMT").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_926_687);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
