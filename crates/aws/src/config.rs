//! Resolving AWS configuration the way the AWS CLI does: profiles (including `role_arn` /
//! `source_profile`), region resolution, `AWS_ENDPOINT_URL`, and path-style addressing for
//! S3-compatible endpoints such as a local emulator.

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use aws_config::BehaviorVersion;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use aws_types::region::Region;

use crate::error::{AwsError, AwsErrorKind};

/// What the user chose; `None` means "the usual AWS fallbacks" (environment, ~/.aws/config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// An S3/STS/CloudFormation-compatible endpoint (also read from `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Path-style S3 addressing (`http://host/bucket/key`). Always on with a custom endpoint.
    pub force_path_style: bool,
}

/// A resolved configuration, ready to build service clients.
///
/// Each service client is built once per context and shared by its clones: a client owns the
/// HTTP connection pool, so building one per request would open a new TCP (and, against AWS,
/// TLS) connection for every object of a sync.
#[derive(Debug, Clone)]
pub struct AwsContext {
    sdk: aws_config::SdkConfig,
    settings: AwsSettings,
    /// Where profiles come from: `None` for a context not built from profiles (tests, MFA
    /// sessions), else the profile files (`Default` = ~/.aws or AWS_CONFIG_FILE /
    /// AWS_SHARED_CREDENTIALS_FILE).
    profiles: Option<ProfileFiles>,
    clients: Clients,
}

/// The service clients of one context, each built on first use.
#[derive(Debug, Clone, Default)]
struct Clients {
    s3: OnceLock<aws_sdk_s3::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    cloudformation: OnceLock<aws_sdk_cloudformation::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
}

/// A role profile: `role_arn` with `source_profile` (and usually `mfa_serial`) in the AWS config
/// file. Countersign opens its MFA-backed session for such a profile with STS AssumeRole, using
/// the source profile's credentials, the device serial and the code the signer typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleProfile {
    /// The profile's name.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `source_profile`: the profile whose credentials call AssumeRole.
    pub source_profile: String,
    /// `mfa_serial`, when the profile names the device.
    pub mfa_serial: Option<String>,
    /// `role_session_name`, when set.
    pub role_session_name: Option<String>,
    /// `duration_seconds`, when set.
    pub duration_seconds: Option<i32>,
    /// `external_id`, when set.
    pub external_id: Option<String>,
}

/// An IAM Identity Center (SSO) profile: Countersign opens its signing session for such a
/// profile with a device sign-in at `start_url` (the identity provider behind it enforces MFA),
/// then takes the credentials of `role_name` in `account_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    /// The profile's name.
    pub profile: String,
    /// The AWS access portal, e.g. `https://example.awsapps.com/start`.
    pub start_url: String,
    /// The region of the IAM Identity Center instance.
    pub sso_region: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`: the permission set.
    pub role_name: String,
}

impl AwsContext {
    /// Resolves profile, region, credentials provider and endpoint. Fails when no region can be
    /// determined, naming the profile that was consulted.
    pub async fn load(settings: &AwsSettings) -> Result<Self, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let mut ctx = Self::from_sdk_config(sdk, settings.clone())?;
        ctx.profiles = Some(ProfileFiles::default());
        Ok(ctx)
    }

    /// [`Self::load`] with profiles read from `config_file` and `credentials_file` instead of
    /// ~/.aws (as AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE would choose them).
    pub async fn load_from_files(
        settings: &AwsSettings,
        config_file: &Path,
        credentials_file: &Path,
    ) -> Result<Self, AwsError> {
        let files = ProfileFiles::builder()
            .with_file(ProfileFileKind::Config, config_file)
            .with_file(ProfileFileKind::Credentials, credentials_file)
            .build();
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).profile_files(files.clone());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let mut ctx = Self::from_sdk_config(sdk, settings.clone())?;
        ctx.profiles = Some(files);
        Ok(ctx)
    }

    /// Wraps an already-built SDK configuration (tests, or credentials from an MFA session).
    pub fn from_sdk_config(
        sdk: aws_config::SdkConfig,
        settings: AwsSettings,
    ) -> Result<Self, AwsError> {
        if sdk.region().is_none() {
            return Err(AwsError::new(
                AwsErrorKind::NoRegion,
                "resolve the AWS region",
            )
            .with_profile(settings.profile.clone())
            .with_hint(
                "set --region, AWS_REGION, or `region = ...` in the profile of ~/.aws/config",
            ));
        }
        Ok(Self {
            sdk,
            settings,
            profiles: None,
            clients: Clients::default(),
        })
    }

    /// The role profile this context was loaded with, if it is one (`role_arn` in the selected
    /// profile). `None` for a context not built from profiles, for a plain profile, and when no
    /// profile was chosen and the environment carries credentials (which then win, as in the
    /// AWS CLI).
    pub async fn role_profile(&self) -> Result<Option<RoleProfile>, AwsError> {
        let Some((name, set)) = self.selected_profile().await? else {
            return Ok(None);
        };
        let read_failed = |detail: String| read_failed(&name, detail);
        let Some(profile) = set.get_profile(&name) else {
            return Ok(None);
        };
        let Some(role_arn) = profile.get("role_arn") else {
            return Ok(None);
        };
        let Some(source_profile) = profile.get("source_profile") else {
            return Err(AwsError::new(
                AwsErrorKind::InvalidInput,
                format!("open an MFA session with the role profile {name}"),
            )
            .with_profile(Some(name.clone()))
            .with_detail(format!(
                "the profile assumes {role_arn} but has no source_profile (credential_source and web identity roles cannot take an MFA code)"
            ))
            .with_hint("add `source_profile = NAME` (a profile with your own access key) and `mfa_serial = ARN` to the profile"));
        };
        let duration_seconds = match profile.get("duration_seconds") {
            None => None,
            Some(text) => Some(text.trim().parse::<i32>().map_err(|_| {
                read_failed(format!(
                    "duration_seconds = {text} is not a whole number of seconds"
                ))
            })?),
        };
        Ok(Some(RoleProfile {
            profile: name.clone(),
            role_arn: role_arn.to_owned(),
            source_profile: source_profile.to_owned(),
            mfa_serial: profile.get("mfa_serial").map(str::to_owned),
            role_session_name: profile.get("role_session_name").map(str::to_owned),
            duration_seconds,
            external_id: profile.get("external_id").map(str::to_owned),
        }))
    }

    /// The IAM Identity Center sign-in of the selected profile, if it is an SSO profile: either
    /// `sso_session = NAME` with an `[sso-session NAME]` section holding `sso_start_url` and
    /// `sso_region`, or the legacy form with both keys in the profile; in both forms
    /// `sso_account_id` and `sso_role_name` name the role to sign in to. `None` under the same
    /// conditions as [`Self::role_profile`], and for a profile without SSO keys.
    pub async fn sso_profile(&self) -> Result<Option<SsoProfile>, AwsError> {
        let Some((name, set)) = self.selected_profile().await? else {
            return Ok(None);
        };
        let Some(profile) = set.get_profile(&name) else {
            return Ok(None);
        };
        let session_name = profile.get("sso_session").map(str::trim);
        let legacy_url = profile.get("sso_start_url").map(str::trim);
        if session_name.is_none() && legacy_url.is_none() {
            return Ok(None);
        }
        let incomplete = |detail: String| {
            AwsError::new(
                AwsErrorKind::InvalidInput,
                format!("sign in with IAM Identity Center through the profile {name}"),
            )
            .with_profile(Some(name.clone()))
            .with_detail(detail)
            .with_hint("complete the profile as `aws configure sso` writes it: sso_session (with sso_start_url and sso_region in its [sso-session] section), sso_account_id and sso_role_name")
        };
        let (start_url, sso_region) = match session_name {
            Some(session) => {
                let Some(section) = set.sso_session(session) else {
                    return Err(incomplete(format!(
                        "the profile names sso_session = {session}, but the config has no [sso-session {session}] section"
                    )));
                };
                (
                    section.get("sso_start_url").map(str::trim),
                    section.get("sso_region").map(str::trim),
                )
            }
            None => (legacy_url, profile.get("sso_region").map(str::trim)),
        };
        let field = |value: Option<&str>, key: &str| -> Result<String, AwsError> {
            value
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| incomplete(format!("{key} is missing")))
        };
        let start_url = field(start_url, "sso_start_url")?;
        if !start_url.starts_with("https://") {
            return Err(incomplete(format!(
                "sso_start_url = {start_url} is not an https:// address"
            )));
        }
        let account_id = field(profile.get("sso_account_id"), "sso_account_id")?;
        if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(incomplete(format!(
                "sso_account_id = {account_id} is not a 12-digit AWS account id"
            )));
        }
        Ok(Some(SsoProfile {
            profile: name.clone(),
            start_url,
            sso_region: field(sso_region, "sso_region")?,
            account_id,
            role_name: field(profile.get("sso_role_name"), "sso_role_name")?,
        }))
    }

    /// The MFA device the selected profile names (`mfa_serial`), as the AWS CLI and SDKs read
    /// it, for a plain profile as for a role profile. `None` under the same conditions as
    /// [`Self::role_profile`], and when the profile names no device.
    pub async fn profile_mfa_serial(&self) -> Result<Option<String>, AwsError> {
        let Some((name, set)) = self.selected_profile().await? else {
            return Ok(None);
        };
        Ok(set
            .get_profile(&name)
            .and_then(|p| p.get("mfa_serial"))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned))
    }

    /// The selected profile's name and the profile files read for it; `None` for a context not
    /// built from profiles, and when no profile was chosen and the environment carries
    /// credentials (which then win, as in the AWS CLI).
    async fn selected_profile(
        &self,
    ) -> Result<Option<(String, aws_config::profile::ProfileSet)>, AwsError> {
        let Some(files) = &self.profiles else {
            return Ok(None);
        };
        if self.settings.profile.is_none() && std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
            return Ok(None);
        }
        let name = self.profile_name();
        let set = aws_config::profile::load(
            &aws_types::os_shim_internal::Fs::real(),
            &aws_types::os_shim_internal::Env::real(),
            files,
            Some(Cow::Owned(name.clone())),
        )
        .await
        .map_err(|e| read_failed(&name, e.to_string()))?;
        Ok(Some((name, set)))
    }

    /// The same configuration with the credentials of `source_profile` (read from the same
    /// profile files), for the AssumeRole call of a role profile.
    pub(crate) fn with_profile_credentials(&self, source_profile: &str) -> Self {
        let mut provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(source_profile);
        if let Some(files) = &self.profiles {
            provider = provider.profile_files(files.clone());
        }
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider.build()),
            )
            .build();
        Self {
            sdk,
            settings: self.settings.clone(),
            profiles: None,
            clients: Clients::default(),
        }
    }

    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The profile name, for error messages (`default` when none was chosen).
    pub fn profile_name(&self) -> String {
        self.settings
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok())
            .unwrap_or_else(|| "default".to_owned())
    }

    pub fn region_name(&self) -> String {
        self.sdk.region().map(|r| r.to_string()).unwrap_or_default()
    }

    /// The S3 client (shared connections); path-style when asked for or when a custom endpoint
    /// is configured.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.clients
            .s3
            .get_or_init(|| {
                let path_style =
                    self.settings.force_path_style || self.sdk.endpoint_url().is_some();
                let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .force_path_style(path_style)
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .clone()
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        self.clients
            .sts
            .get_or_init(|| aws_sdk_sts::Client::new(&self.sdk))
            .clone()
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        self.clients
            .cloudformation
            .get_or_init(|| aws_sdk_cloudformation::Client::new(&self.sdk))
            .clone()
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        self.clients
            .iam
            .get_or_init(|| aws_sdk_iam::Client::new(&self.sdk))
            .clone()
    }

    /// The same configuration with other credentials (e.g. those of an MFA-backed STS session).
    pub fn with_credentials(&self, credentials: aws_credential_types::Credentials) -> Self {
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build();
        Self {
            sdk,
            settings: self.settings.clone(),
            profiles: None,
            clients: Clients::default(),
        }
    }
}

fn read_failed(name: &str, detail: String) -> AwsError {
    AwsError::new(AwsErrorKind::Other, format!("read the AWS profile {name}"))
        .with_profile(Some(name.to_owned()))
        .with_detail(detail)
        .with_hint("check ~/.aws/config (or AWS_CONFIG_FILE) and ~/.aws/credentials")
}
