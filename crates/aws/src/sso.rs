//! IAM Identity Center (SSO) sign-in for a signing session, as `aws sso login` does it: the
//! OAuth 2.0 device authorization grant (RFC 8628) against SSO OIDC, then the role credentials
//! of the profile's permission set from the SSO portal, then GetCallerIdentity with them.
//!
//! The person approves the sign-in in a browser, where the identity provider enforces its MFA;
//! Countersign never sees that password or code. Each signing session starts a fresh device
//! authorization: a cached SSO token (from `aws sso login`) is never reused for signing, so a
//! signature always follows a sign-in the person just made.
//!
//! The device code, the client secret and the access token are secrets: zeroized, never in
//! `Debug`, never written anywhere.

use std::fmt;
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use aws_types::region::Region;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::config::{AwsContext, SsoProfile};
use crate::error::{AwsError, AwsErrorKind};
use crate::sts::{MfaSession, SessionIdentity};

/// The OAuth grant type of the device authorization grant.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How Countersign registers itself with SSO OIDC (the name the portal shows).
const CLIENT_NAME: &str = "Countersign";

/// The prefix of [`SessionIdentity::mfa_serial`] for a session opened by a sign-in: the
/// identity provider behind the access portal, not an IAM MFA device, authenticated the person.
pub const SIGN_IN_PREFIX: &str = "identity-center:";

/// Longest wait after the device code's own expiry for the portal to say it expired.
const EXPIRY_GRACE: StdDuration = StdDuration::from_secs(30);

/// A device sign-in started and waiting for the person to approve it in a browser.
pub struct DeviceSignIn {
    profile: SsoProfile,
    client_id: String,
    client_secret: Zeroizing<String>,
    device_code: Zeroizing<String>,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_at: OffsetDateTime,
    expires_instant: Instant,
    interval: StdDuration,
}

impl fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSignIn")
            .field("start_url", &self.profile.start_url)
            .field("user_code", &self.user_code)
            .field("expires_at", &self.expires_at)
            .field("device_code", &"<redacted>")
            .field("client_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl DeviceSignIn {
    /// The code the person checks in the browser (e.g. `ABCD-EFGH`).
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// The page to open, with the code filled in when the portal offers that.
    pub fn verification_url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }

    /// When the device code expires if nobody approves it.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// The profile the sign-in is for.
    pub fn profile(&self) -> &SsoProfile {
        &self.profile
    }
}

fn with_profile(profile: &SsoProfile, e: AwsError) -> AwsError {
    e.with_profile(Some(profile.profile.clone()))
        .with_region(profile.sso_region.clone())
}

fn oidc(ctx: &AwsContext, profile: &SsoProfile) -> aws_sdk_ssooidc::Client {
    let conf = aws_sdk_ssooidc::config::Builder::from(ctx.sdk_config())
        .region(Region::new(profile.sso_region.clone()))
        .build();
    aws_sdk_ssooidc::Client::from_conf(conf)
}

fn portal(ctx: &AwsContext, profile: &SsoProfile) -> aws_sdk_sso::Client {
    let conf = aws_sdk_sso::config::Builder::from(ctx.sdk_config())
        .region(Region::new(profile.sso_region.clone()))
        .build();
    aws_sdk_sso::Client::from_conf(conf)
}

/// Starts a device sign-in for `profile`: registers Countersign as a public OIDC client and
/// asks for a device authorization at the profile's access portal. `now` is the local time
/// the expiry is reckoned from.
pub async fn start_device_sign_in(
    ctx: &AwsContext,
    profile: &SsoProfile,
    now: OffsetDateTime,
) -> Result<DeviceSignIn, AwsError> {
    let client = oidc(ctx, profile);
    let action = format!(
        "register Countersign with IAM Identity Center ({})",
        profile.start_url
    );
    let registered = client
        .register_client()
        .client_name(CLIENT_NAME)
        .client_type("public")
        .send()
        .await
        .map_err(|e| with_profile(profile, AwsError::from_sdk(&e, &action)))?;
    let missing = |field: &str| {
        with_profile(
            profile,
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail(format!("IAM Identity Center answered without the {field}")),
        )
    };
    let client_id = registered.client_id.ok_or_else(|| missing("client id"))?;
    let client_secret = Zeroizing::new(
        registered
            .client_secret
            .ok_or_else(|| missing("client secret"))?,
    );

    let action = format!(
        "start a device sign-in at {} (profile {})",
        profile.start_url, profile.profile
    );
    let started = client
        .start_device_authorization()
        .client_id(&client_id)
        .client_secret(client_secret.as_str())
        .start_url(&profile.start_url)
        .send()
        .await
        .map_err(|e| with_profile(profile, AwsError::from_sdk(&e, &action)))?;
    let missing = |field: &str| {
        with_profile(
            profile,
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail(format!("IAM Identity Center answered without the {field}")),
        )
    };
    let expires_in = u64::try_from(started.expires_in)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| missing("expiry of the device code"))?;
    let interval = u64::try_from(started.interval).unwrap_or(5).clamp(1, 60);
    Ok(DeviceSignIn {
        profile: profile.clone(),
        client_id,
        client_secret,
        device_code: Zeroizing::new(started.device_code.ok_or_else(|| missing("device code"))?),
        user_code: started.user_code.ok_or_else(|| missing("user code"))?,
        verification_uri: started
            .verification_uri
            .ok_or_else(|| missing("verification address"))?,
        verification_uri_complete: started.verification_uri_complete,
        expires_at: now + Duration::seconds(i64::try_from(expires_in).unwrap_or(i64::MAX / 2)),
        expires_instant: Instant::now() + StdDuration::from_secs(expires_in),
        interval: StdDuration::from_secs(interval),
    })
}

/// Waits for the person to approve `sign_in` (polling SSO OIDC at the interval it asked
/// for), then takes the role credentials of the profile's permission set and asks STS who they
/// belong to.
///
/// A sign-in nobody approved in time fails with [`AwsErrorKind::SignInExpired`] once the
/// portal refuses its device code; a denied one with [`AwsErrorKind::SignInDenied`].
pub async fn finish_device_sign_in(
    ctx: &AwsContext,
    sign_in: DeviceSignIn,
) -> Result<(MfaSession, SessionIdentity), AwsError> {
    let profile = &sign_in.profile;
    let client = oidc(ctx, profile);
    let action = format!(
        "complete the device sign-in {} at {}",
        sign_in.user_code, profile.start_url
    );
    let mut interval = sign_in.interval;
    let token = loop {
        let answer = client
            .create_token()
            .client_id(&sign_in.client_id)
            .client_secret(sign_in.client_secret.as_str())
            .grant_type(DEVICE_GRANT)
            .device_code(sign_in.device_code.as_str())
            .send()
            .await;
        let err = match answer {
            Ok(out) => break out.access_token.map(Zeroizing::new),
            Err(e) => e,
        };
        let service = err.as_service_error();
        // Poll while the portal says to wait, never past the code's own expiry (and a grace
        // for the portal to say so): a portal that kept answering "wait" cannot hang a signing.
        let waiting = Instant::now() < sign_in.expires_instant + EXPIRY_GRACE;
        if waiting && service.is_some_and(|s| s.is_authorization_pending_exception()) {
            tokio::time::sleep(interval).await;
            continue;
        }
        if waiting && service.is_some_and(|s| s.is_slow_down_exception()) {
            interval += StdDuration::from_secs(5);
            tokio::time::sleep(interval).await;
            continue;
        }
        let code = err.code().unwrap_or("").to_owned();
        let refused = |kind: AwsErrorKind, hint: &str| {
            let mut e = AwsError::new(kind, &action).with_hint(hint);
            e.code = (!code.is_empty()).then(|| code.clone());
            with_profile(profile, e)
        };
        return Err(match service {
            Some(s) if s.is_expired_token_exception() => refused(
                AwsErrorKind::SignInExpired,
                "nobody approved the sign-in before its code expired; start again and approve it in the browser",
            ),
            Some(s) if s.is_authorization_pending_exception() || s.is_slow_down_exception() => refused(
                AwsErrorKind::SignInExpired,
                "nobody approved the sign-in before its code expired; start again and approve it in the browser",
            ),
            Some(s) if s.is_access_denied_exception() => refused(
                AwsErrorKind::SignInDenied,
                "the sign-in was denied in the browser; start again if that was a mistake",
            ),
            Some(s) if s.is_invalid_grant_exception() => refused(
                AwsErrorKind::SignInExpired,
                "IAM Identity Center no longer accepts this sign-in's code (it was used or replaced); start again",
            ),
            _ => with_profile(profile, AwsError::from_sdk(&err, &action)),
        });
    };
    let token = token.ok_or_else(|| {
        with_profile(
            profile,
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail("IAM Identity Center answered without an access token"),
        )
    })?;

    let action = format!(
        "get the credentials of the permission set {} in account {} (profile {})",
        profile.role_name, profile.account_id, profile.profile
    );
    let out = portal(ctx, profile)
        .get_role_credentials()
        .access_token(token.as_str())
        .account_id(&profile.account_id)
        .role_name(&profile.role_name)
        .send()
        .await
        .map_err(|e| {
            let err = with_profile(profile, AwsError::from_sdk(&e, &action));
            // A role the person is not assigned: the portal answers 403 ForbiddenException
            // ("No access"), a code the SDK's model does not name.
            if e.code() == Some("ForbiddenException") {
                let mut err = err;
                err.kind = AwsErrorKind::AccessDenied;
                err.with_hint(format!(
                    "the person who signed in is not assigned the permission set {} in account {}; check sso_account_id and sso_role_name in the profile, or ask your IAM Identity Center administrator",
                    profile.role_name, profile.account_id
                ))
            } else {
                err
            }
        })?;
    drop(token);
    let creds = out.role_credentials.ok_or_else(|| {
        with_profile(
            profile,
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail("IAM Identity Center answered without credentials"),
        )
    })?;
    let missing = |field: &str| {
        with_profile(
            profile,
            AwsError::new(AwsErrorKind::Other, &action)
                .with_detail(format!("IAM Identity Center answered without the {field}")),
        )
    };
    let expires_at = OffsetDateTime::from_unix_timestamp(creds.expiration / 1000)
        .map_err(|_| missing("expiry of the credentials"))?;
    let session = MfaSession::new(
        creds
            .access_key_id
            .ok_or_else(|| missing("access key id"))?,
        Zeroizing::new(
            creds
                .secret_access_key
                .ok_or_else(|| missing("secret access key"))?,
        ),
        Zeroizing::new(
            creds
                .session_token
                .ok_or_else(|| missing("session token"))?,
        ),
        expires_at,
    );
    let identity = session
        .identify(ctx, &format!("{SIGN_IN_PREFIX}{}", profile.start_url))
        .await
        .map_err(|e| with_profile(profile, e))?;
    Ok((session, identity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_device_code_or_the_client_secret() {
        let sign_in = DeviceSignIn {
            profile: SsoProfile {
                profile: "qa".into(),
                start_url: "https://example.awsapps.com/start".into(),
                sso_region: "eu-west-1".into(),
                account_id: "123456789012".into(),
                role_name: "QualityApprover".into(),
            },
            client_id: "client".into(),
            client_secret: Zeroizing::new("very-secret-client".into()),
            device_code: Zeroizing::new("very-secret-device".into()),
            user_code: "ABCD-EFGH".into(),
            verification_uri: "https://device.sso.eu-west-1.amazonaws.com/".into(),
            verification_uri_complete: None,
            expires_at: OffsetDateTime::UNIX_EPOCH,
            expires_instant: Instant::now(),
            interval: StdDuration::from_secs(1),
        };
        let text = format!("{sign_in:?}");
        assert!(text.contains("ABCD-EFGH"), "{text}");
        assert!(!text.contains("very-secret"), "{text}");
        assert_eq!(
            sign_in.verification_url(),
            "https://device.sso.eu-west-1.amazonaws.com/"
        );
    }
}
