//! AWS failures, classified so that each one can say what went wrong and what to do.

use std::fmt;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_types::error::metadata::ErrorMetadata;

/// The kinds of AWS trouble a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsErrorKind {
    NoRegion,
    NoCredentials,
    ExpiredCredentials,
    AccessDenied,
    /// A wrong MFA one-time code: STS refused the session.
    MfaCodeRejected,
    /// An IAM Identity Center device sign-in that nobody approved before its code expired (or
    /// whose code the portal no longer accepts).
    SignInExpired,
    /// An IAM Identity Center device sign-in denied in the browser.
    SignInDenied,
    NoSuchBucket,
    NoSuchKey,
    WrongRegion,
    Throttled,
    /// Connection refused/reset, timeout, DNS: worth retrying; a sync resumes where it stopped.
    Network,
    /// A body that did not arrive whole or failed its checksum in transit.
    Transfer,
    /// Input refused before any request was sent (e.g. a malformed MFA code or device serial).
    InvalidInput,
    Other,
}

/// An AWS failure with the context needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// What was being done, e.g. "list s3://bucket/prefix/".
    pub action: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// The service's error code (`AccessDenied`, `NoSuchBucket`, …) when there was one.
    pub code: Option<String>,
    /// The service's or the transport's message.
    pub detail: Option<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn new(kind: AwsErrorKind, action: impl Into<String>) -> Self {
        Self {
            kind,
            action: action.into(),
            bucket: None,
            key: None,
            profile: None,
            region: None,
            code: None,
            detail: None,
            hint: None,
        }
    }

    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
    pub fn with_profile(mut self, profile: Option<String>) -> Self {
        self.profile = profile;
        self
    }
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Worth retrying later (network, throttling); the sync resumes.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            AwsErrorKind::Network | AwsErrorKind::Throttled | AwsErrorKind::Transfer
        )
    }

    /// Classifies an SDK error. `action` describes the call for the message.
    pub fn from_sdk<E, R>(
        err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
        action: &str,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        match err {
            SdkError::ServiceError(se) => {
                let meta = se.err().meta();
                Self::from_metadata(meta, action)
            }
            SdkError::TimeoutError(_) => Self::new(AwsErrorKind::Network, action)
                .with_detail("the request timed out")
                .with_hint("check the network connection and run the command again; completed downloads are kept"),
            SdkError::DispatchFailure(df) => {
                let detail = error_chain(err);
                if df.is_timeout() || df.is_io() {
                    Self::new(AwsErrorKind::Network, action).with_detail(detail).with_hint(
                        "check the network connection (and --endpoint-url) and run the command again; completed downloads are kept",
                    )
                } else if detail.contains("credentials") || detail.contains("Credentials") {
                    Self::new(AwsErrorKind::NoCredentials, action)
                        .with_detail(detail)
                        .with_hint("configure credentials: `aws configure --profile NAME`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `aws sso login`, then pass --profile NAME")
                } else {
                    Self::new(AwsErrorKind::Network, action).with_detail(detail).with_hint(
                        "check the endpoint and the network connection, then run the command again",
                    )
                }
            }
            SdkError::ResponseError(_) => {
                let detail = error_chain(err);
                match detail.find(crate::whole_listing::CUT_SHORT) {
                    Some(at) => Self::new(AwsErrorKind::Transfer, action)
                        .with_detail(detail[at..].to_owned())
                        .with_hint("nothing was taken from the incomplete listing; run the fetch again (a proxy or the network between you and S3 cut the answer)"),
                    None => Self::new(AwsErrorKind::Transfer, action)
                        .with_detail(detail)
                        .with_hint("the response did not arrive whole; run the command again to resume"),
                }
            }
            SdkError::ConstructionFailure(_) => {
                let detail = error_chain(err);
                let kind = if detail.contains("credentials") || detail.contains("Credentials") {
                    AwsErrorKind::NoCredentials
                } else {
                    AwsErrorKind::Other
                };
                let mut e = Self::new(kind, action).with_detail(detail);
                if kind == AwsErrorKind::NoCredentials {
                    e = e.with_hint("configure credentials: `aws configure --profile NAME`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `aws sso login`, then pass --profile NAME");
                }
                e
            }
            _ => Self::new(AwsErrorKind::Other, action).with_detail(error_chain(err)),
        }
    }

    fn from_metadata(meta: &ErrorMetadata, action: &str) -> Self {
        // A service error without a code (e.g. an endpoint answering 500 for an operation it
        // does not implement) keeps `code` empty rather than inventing one.
        let code = meta.code().unwrap_or("").to_owned();
        let message = meta.message().unwrap_or("").to_owned();
        let (kind, hint) = match code.as_str() {
            "NoSuchBucket" => (AwsErrorKind::NoSuchBucket, "check the bucket name (and --profile/--region: the bucket may live in another account)"),
            "NoSuchKey" | "NotFound" => (AwsErrorKind::NoSuchKey, "the object is gone; run fetch again to refresh the listing"),
            "AccessDenied" | "AllAccessDisabled" | "AccessDeniedException" | "InvalidAccessKeyId" | "SignatureDoesNotMatch"
                if message.contains("MultiFactorAuthentication") =>
            {
                (AwsErrorKind::MfaCodeRejected, "MFA code rejected: enter the current 6-digit code from the MFA device registered for this IAM user, and check the device serial (--mfa-serial)")
            }
            "AccessDenied" | "AllAccessDisabled" | "AccessDeniedException" => (AwsErrorKind::AccessDenied, "ask for s3:ListBucket / s3:GetObject (or the named action) on this resource for the identity of this profile"),
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "UnrecognizedClientException" | "InvalidClientTokenId" => (AwsErrorKind::NoCredentials, "the access key is not valid for this endpoint; check the profile's credentials"),
            "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" | "RequestExpired" => (AwsErrorKind::ExpiredCredentials, "the session has expired: log in again (`aws sso login`, or a new MFA session) and retry"),
            "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => (AwsErrorKind::WrongRegion, "the bucket is in another region: pass --region with the bucket's region"),
            "SlowDown" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException" => (AwsErrorKind::Throttled, "AWS is throttling requests: retry later or lower --concurrency"),
            "" => (AwsErrorKind::Other, "the endpoint answered with an error it did not name; it may not implement this operation (check --endpoint-url), or retry later"),
            _ => (AwsErrorKind::Other, "see the AWS error code and message"),
        };
        let mut e = Self::new(kind, action).with_hint(hint);
        e.code = (!code.is_empty()).then_some(code);
        if e.code.is_none() && message.is_empty() {
            e.detail = Some("the service returned an error without a code or message".to_owned());
        }
        if !message.is_empty() {
            e.detail = Some(message);
        }
        e
    }
}

/// The full `source()` chain of an error, joined with ": ".
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if parts.last() != Some(&s) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            AwsErrorKind::NoRegion => "no AWS region",
            AwsErrorKind::NoCredentials => "no usable AWS credentials",
            AwsErrorKind::ExpiredCredentials => "AWS credentials expired",
            AwsErrorKind::AccessDenied => "access denied",
            AwsErrorKind::MfaCodeRejected => "MFA code rejected",
            AwsErrorKind::SignInExpired => "sign-in expired",
            AwsErrorKind::SignInDenied => "sign-in denied",
            AwsErrorKind::NoSuchBucket => "no such bucket",
            AwsErrorKind::NoSuchKey => "no such object",
            AwsErrorKind::WrongRegion => "wrong region for the bucket",
            AwsErrorKind::Throttled => "throttled by AWS",
            AwsErrorKind::Network => "network failure",
            AwsErrorKind::Transfer => "transfer failed",
            AwsErrorKind::InvalidInput => "invalid input",
            AwsErrorKind::Other => "AWS error",
        };
        write!(f, "{what} while trying to {}", self.action)?;
        let mut ctx = Vec::new();
        if let Some(b) = &self.bucket {
            ctx.push(format!("bucket {b}"));
        }
        if let Some(k) = &self.key {
            ctx.push(format!("key {k}"));
        }
        if let Some(p) = &self.profile {
            ctx.push(format!("profile {p}"));
        }
        if let Some(r) = &self.region {
            ctx.push(format!("region {r}"));
        }
        if !ctx.is_empty() {
            write!(f, " ({})", ctx.join(", "))?;
        }
        match (&self.code, &self.detail) {
            (Some(c), Some(d)) => write!(f, ": {c}: {d}")?,
            (Some(c), None) => write!(f, ": {c}")?,
            (None, Some(d)) => write!(f, ": {d}")?,
            (None, None) => {}
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  what to do: {h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;

    #[test]
    fn an_error_without_a_code_invents_none_and_says_what_to_do() {
        let meta = ErrorMetadata::builder().build();
        let e = AwsError::from_metadata(&meta, "detect drift of stack lims-qual");
        assert_eq!(e.code, None);
        let text = e.to_string();
        assert!(!text.contains("Unknown"), "{text}");
        assert!(text.contains("without a code or message"), "{text}");
        assert!(text.contains("may not implement this operation"), "{text}");
    }

    #[test]
    fn a_named_code_is_kept() {
        let meta = ErrorMetadata::builder()
            .code("NoSuchBucket")
            .message("gone")
            .build();
        let e = AwsError::from_metadata(&meta, "list s3://b/");
        assert_eq!(
            (e.kind, e.code.as_deref()),
            (AwsErrorKind::NoSuchBucket, Some("NoSuchBucket"))
        );
    }
}
