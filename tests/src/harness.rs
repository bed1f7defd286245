//! The usual test set-up in one value: a fresh emulator with the fault proxy in front of it.

use countersign_aws::AwsContext;
use countersign_service::{
    CancelToken, EnrollRequest, Enrollment, FetchRequest, KdfParams, KeyInfo, Passphrase, Service,
};
use time::OffsetDateTime;

use crate::emulator::{admin_credentials, Emulator};
use crate::error::{HarnessError, Result};
use crate::iam::{self, TestUser};
use crate::proxy::FaultProxy;

/// A fresh emulator and a proxy in front of it. The proxy is declared first so it stops first.
#[derive(Debug)]
pub struct Harness {
    pub proxy: FaultProxy,
    pub emulator: Emulator,
}

impl Harness {
    /// Starts a fresh emulator and a proxy in front of it.
    pub async fn start() -> Result<Harness> {
        let emulator = Emulator::start().await?;
        let proxy = FaultProxy::start(&emulator.endpoint()).await?;
        Ok(Harness { proxy, emulator })
    }

    /// A context with the admin credentials, through the proxy.
    pub async fn admin(&self) -> Result<AwsContext> {
        self.proxy.aws_context(admin_credentials()).await
    }

    /// A context with `user`'s long-term credentials, through the proxy.
    pub async fn user_context(&self, user: &TestUser) -> Result<AwsContext> {
        self.proxy.aws_context(user.credentials()).await
    }

    /// Creates an IAM user with an access key and virtual MFA device, known to the STS front.
    pub async fn create_user_with_mfa(&self, name: &str) -> Result<TestUser> {
        let admin = self.emulator.sdk_config().await;
        iam::create_user_with_mfa(&admin, &self.proxy, name).await
    }

    /// Creates IAM group `group` (unless it exists) with `members` in it.
    pub async fn create_group(&self, group: &str, members: &[&TestUser]) -> Result<()> {
        let admin = self.emulator.sdk_config().await;
        let names: Vec<&str> = members.iter().map(|u| u.name.as_str()).collect();
        iam::create_group_with_members(&admin, group, &names).await
    }

    /// A signer key for `printed_name` in `service`'s home (sealed with the cheap test KDF),
    /// enrolled to `user`'s identity with a current MFA code, through the proxy.
    pub async fn enrolled_key(
        &self,
        service: &Service,
        user: &TestUser,
        printed_name: &str,
        passphrase: &str,
    ) -> Result<(KeyInfo, Enrollment)> {
        let key = service
            .keys_init_with_kdf(
                printed_name,
                &Passphrase::new(passphrase.to_owned()),
                KdfParams::insecure_for_tests_only(),
            )
            .map_err(|e| HarnessError::during("create a test key", &e))?;
        let enrollment = self.enroll(service, user, &key.key_id).await?;
        Ok((key, enrollment))
    }

    /// Enrolls the key `key_id` of `service`'s home to `user`'s identity with a current MFA
    /// code (certification accepted), through the proxy.
    pub async fn enroll(
        &self,
        service: &Service,
        user: &TestUser,
        key_id: &str,
    ) -> Result<Enrollment> {
        service
            .keys_enroll_with(
                &self.user_context(user).await?,
                &EnrollRequest {
                    mfa_serial: user.mfa_serial.clone(),
                    mfa_code: user.current_code(),
                    key_id: Some(key_id.to_owned()),
                    certification_accepted: true,
                },
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(|e| HarnessError::during(&format!("enroll the key of {}", user.name), &e))
    }

    /// Seeds the demo dataset into `bucket` and fetches it into `service`'s home, as the admin.
    pub async fn demo_fetched(&self, service: &Service, bucket: &str) -> Result<()> {
        let admin = self.admin().await?;
        Service::demo_seed_with(&admin, bucket, "")
            .await
            .map_err(|e| HarnessError::during("seed the demo", &e))?;
        service
            .fetch_with(
                &admin,
                &FetchRequest {
                    aws: Default::default(),
                    bucket: bucket.into(),
                    prefix: String::new(),
                    concurrency: 4,
                },
                &|_| {},
                &CancelToken::new(),
            )
            .await
            .map_err(|e| HarnessError::during("fetch the demo", &e))?;
        Ok(())
    }

    /// Creates IAM role `name` that `trusted` may assume only with MFA; returns its ARN.
    pub async fn create_role_requiring_mfa(
        &self,
        name: &str,
        trusted: &[&TestUser],
    ) -> Result<String> {
        let admin = self.emulator.sdk_config().await;
        let arns: Vec<&str> = trusted.iter().map(|u| u.arn.as_str()).collect();
        iam::create_role_requiring_mfa(&admin, name, &arns).await
    }
}
