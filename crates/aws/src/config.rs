//! Resolving AWS configuration the way the AWS CLI does: profiles (including `role_arn` /
//! `source_profile`), region resolution, `AWS_ENDPOINT_URL`, and path-style addressing for
//! S3-compatible endpoints such as a local emulator.

use aws_config::BehaviorVersion;
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
#[derive(Debug, Clone)]
pub struct AwsContext {
    sdk: aws_config::SdkConfig,
    settings: AwsSettings,
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
        Self::from_sdk_config(sdk, settings.clone())
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
        Ok(Self { sdk, settings })
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

    /// An S3 client; path-style when asked for or when a custom endpoint is configured.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let path_style = self.settings.force_path_style || self.sdk.endpoint_url().is_some();
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(path_style)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.sdk)
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
        }
    }
}
