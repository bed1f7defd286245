//! How a signer proves who they are when a signing session opens: an IAM user's (or a role
//! profile's) MFA device code, or an IAM Identity Center sign-in approved in the browser, where
//! the identity provider enforces its own MFA. Either way the session's identity is what STS
//! reports for the credentials it yields, and it must be the enrolled identity.

use countersign_aws::sso::{finish_device_sign_in, start_device_sign_in, SIGN_IN_PREFIX};
use countersign_aws::sts::{MfaSession, SessionIdentity};
use countersign_aws::{AwsContext, AwsErrorKind, AwsSettings};
use serde::Serialize;

use crate::error::{ErrorCode, ServiceError};
use crate::keys::from_sts_error;
use crate::session::SigningSession;
use crate::Service;

/// How a new signing session is opened for an AWS profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignInMethod {
    /// A one-time code from an MFA device (an IAM user, or a role profile with `mfa_serial`);
    /// `device` is the profile's `mfa_serial`, when it names one.
    MfaCode { device: Option<String> },
    /// An IAM Identity Center sign-in in the browser (an SSO profile).
    IdentityCenter {
        start_url: String,
        account_id: String,
        role_name: String,
    },
}

/// What the person is asked to do for an IAM Identity Center sign-in. No secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignInPrompt {
    /// The page to open (with the code filled in when the portal offers that).
    pub url: String,
    /// The code the page shows, to be checked before approving.
    pub user_code: String,
    /// The access portal.
    pub start_url: String,
    /// When the code expires if nobody approves it (UTC text).
    pub expires_at: String,
}

impl Service {
    /// How a signing session opens with the AWS profile of `aws`.
    pub async fn sign_in_method(&self, aws: &AwsSettings) -> Result<SignInMethod, ServiceError> {
        let ctx = self.aws(aws).await?;
        if let Some(sso) = ctx.sso_profile().await.map_err(from_sts_error)? {
            return Ok(SignInMethod::IdentityCenter {
                start_url: sso.start_url,
                account_id: sso.account_id,
                role_name: sso.role_name,
            });
        }
        Ok(SignInMethod::MfaCode {
            device: ctx.profile_mfa_serial().await?,
        })
    }

    /// Starts an IAM Identity Center sign-in for the SSO profile of `aws`, kept in `session`
    /// until the next signing (or enrollment) completes it. A sign-in started earlier and not
    /// completed is dropped.
    pub async fn start_sign_in(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
    ) -> Result<SignInPrompt, ServiceError> {
        let ctx = self.aws(aws).await?;
        let Some(profile) = ctx.sso_profile().await.map_err(from_sts_error)? else {
            return Err(ServiceError::bad_input(format!(
                "the AWS profile {} is not an IAM Identity Center profile: sign with the code from your MFA device",
                ctx.profile_name()
            )));
        };
        session.pending = None;
        let sign_in = start_device_sign_in(&ctx, &profile, self.now())
            .await
            .map_err(from_sts_error)?;
        let prompt = SignInPrompt {
            url: sign_in.verification_url().to_owned(),
            user_code: sign_in.user_code().to_owned(),
            start_url: profile.start_url.clone(),
            expires_at: countersign_core::signature::predicate::UtcTimestamp::new(
                sign_in.expires_at(),
            )
            .to_string(),
        };
        session.pending = Some(sign_in);
        Ok(prompt)
    }
}

/// Opens a session with what the signer gave: the sign-in pending in `session`, else the MFA
/// code for `mfa_serial`. Errors keep the AWS kind so the caller can record a rejected code or
/// a denied sign-in as a failed attempt.
pub(crate) async fn open_session(
    ctx: &AwsContext,
    session: &mut SigningSession,
    mfa_serial: &str,
    code: Option<&str>,
) -> Result<(MfaSession, SessionIdentity), OpenError> {
    if let Some(sign_in) = session.pending.take() {
        return finish_device_sign_in(ctx, sign_in)
            .await
            .map_err(OpenError::from);
    }
    if let Some(start_url) = mfa_serial.strip_prefix(SIGN_IN_PREFIX) {
        return Err(OpenError::Service(ServiceError::bad_input(format!(
            "this key's identity signs in with IAM Identity Center ({start_url}): start the sign-in and approve it in the browser, then sign"
        ))));
    }
    let Some(code) = code else {
        return Err(OpenError::Service(ServiceError::bad_input(
            "the signing session is not open: the MFA code from your device is needed as well as the passphrase",
        )));
    };
    countersign_aws::sts::open_mfa_session(ctx, mfa_serial, code, None)
        .await
        .map_err(OpenError::from)
}

/// Why a session did not open.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// STS refused the MFA code.
    CodeRejected,
    /// The sign-in was denied in the browser.
    SignInDenied(String),
    /// Nobody approved the sign-in before its code expired.
    SignInExpired(String),
    /// Anything else, ready to show.
    Service(ServiceError),
}

impl From<countersign_aws::AwsError> for OpenError {
    fn from(e: countersign_aws::AwsError) -> Self {
        match e.kind {
            AwsErrorKind::MfaCodeRejected => OpenError::CodeRejected,
            AwsErrorKind::SignInDenied => OpenError::SignInDenied(e.to_string()),
            AwsErrorKind::SignInExpired => OpenError::SignInExpired(e.to_string()),
            _ => OpenError::Service(from_sts_error(e)),
        }
    }
}

impl OpenError {
    /// The error as the user sees it when no attempt is to be recorded.
    pub(crate) fn into_service_error(self) -> ServiceError {
        match self {
            OpenError::CodeRejected => ServiceError::new(
                ErrorCode::Refused,
                "MFA code rejected: STS did not accept the one-time code; wait for the next code on your device and try again",
            ),
            OpenError::SignInDenied(text) | OpenError::SignInExpired(text) => {
                ServiceError::new(ErrorCode::Refused, text)
            }
            OpenError::Service(e) => e,
        }
    }
}
