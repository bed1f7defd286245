//! The usual test set-up in one value: a fresh emulator with the fault proxy in front of it.

use countersign_aws::AwsContext;

use crate::emulator::{admin_credentials, Emulator};
use crate::error::Result;
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
