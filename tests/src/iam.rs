//! IAM fixtures: users with an access key and an enabled virtual MFA device whose codes the
//! harness can compute, registered with the proxy's STS front.

use std::fmt;

use aws_credential_types::Credentials;

use crate::error::{HarnessError, Result};
use crate::proxy::FaultProxy;
use crate::totp;

/// An IAM user of the emulator with a long-term access key and a virtual MFA device.
#[derive(Clone)]
pub struct TestUser {
    pub name: String,
    /// `arn:aws:iam::123456789012:user/<name>`.
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The device's serial, an ARN such as `arn:aws:iam::123456789012:mfa/<name>`.
    pub mfa_serial: String,
    /// The device's decoded Base32 seed.
    pub totp_seed: Vec<u8>,
}

impl TestUser {
    /// The AWS settings that select this user in a test (the profile named after the user).
    pub fn settings(&self) -> countersign_aws::AwsSettings {
        countersign_aws::AwsSettings {
            profile: Some(self.name.clone()),
            ..countersign_aws::AwsSettings::default()
        }
    }
}

impl fmt::Debug for TestUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestUser")
            .field("name", &self.name)
            .field("arn", &self.arn)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("mfa_serial", &self.mfa_serial)
            .field("totp_seed", &"<redacted>")
            .finish()
    }
}

impl TestUser {
    /// The code the device shows now.
    pub fn current_code(&self) -> String {
        totp::code_at(&self.totp_seed, totp::now_unix())
    }

    /// The code the device shows at `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        totp::code_at(&self.totp_seed, unix_secs)
    }

    /// A well-formed 6-digit code that the device will not accept for the next minute or so.
    pub fn wrong_code(&self) -> String {
        let now = totp::now_unix();
        (0..1_000_000u32)
            .map(|n| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
            .find(|c| {
                !totp::accepts(&self.totp_seed, c, now)
                    && !totp::accepts(&self.totp_seed, c, now + 60)
            })
            .unwrap_or_else(|| String::from("000000"))
    }

    /// The user's long-term credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            None,
            None,
            "countersign-tests-user",
        )
    }
}

/// Creates IAM user `name` with an access key and an enabled virtual MFA device (enabled with
/// two consecutive codes, as IAM requires), and registers key and device with `proxy`'s STS front.
/// `admin` must carry the emulator's admin credentials (directly or through the proxy).
pub async fn create_user_with_mfa(
    admin: &aws_config::SdkConfig,
    proxy: &FaultProxy,
    name: &str,
) -> Result<TestUser> {
    let iam = aws_sdk_iam::Client::new(admin);
    let failed = |what: &str, e: &dyn fmt::Display| {
        HarnessError::new(format!("{what} for IAM user {name}: {e}"))
    };
    let user = iam
        .create_user()
        .user_name(name)
        .send()
        .await
        .map_err(|e| {
            failed(
                "create the user",
                &aws_sdk_iam::error::DisplayErrorContext(&e),
            )
        })?
        .user
        .ok_or_else(|| HarnessError::new(format!("IAM returned no user for {name}")))?;
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .map_err(|e| {
            failed(
                "create an access key",
                &aws_sdk_iam::error::DisplayErrorContext(&e),
            )
        })?
        .access_key
        .ok_or_else(|| HarnessError::new(format!("IAM returned no access key for {name}")))?;
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(name)
        .send()
        .await
        .map_err(|e| {
            failed(
                "create a virtual MFA device",
                &aws_sdk_iam::error::DisplayErrorContext(&e),
            )
        })?
        .virtual_mfa_device
        .ok_or_else(|| HarnessError::new(format!("IAM returned no MFA device for {name}")))?;
    let seed_text = device
        .base32_string_seed()
        .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        .ok_or_else(|| HarnessError::new(format!("the MFA device of {name} has no Base32 seed")))?;
    let seed = totp::base32_decode(&seed_text).ok_or_else(|| {
        HarnessError::new(format!(
            "the MFA device seed of {name} is not Base32: {seed_text:?}"
        ))
    })?;
    let serial = device.serial_number().to_owned();
    let now = totp::now_unix();
    iam.enable_mfa_device()
        .user_name(name)
        .serial_number(&serial)
        .authentication_code1(totp::code_at(&seed, now.saturating_sub(totp::STEP_SECS)))
        .authentication_code2(totp::code_at(&seed, now))
        .send()
        .await
        .map_err(|e| {
            failed(
                "enable the MFA device",
                &aws_sdk_iam::error::DisplayErrorContext(&e),
            )
        })?;

    proxy.register_access_key(&key.access_key_id, name);
    proxy.register_mfa_device(&serial, name, seed.clone());
    Ok(TestUser {
        name: name.to_owned(),
        arn: user.arn,
        access_key_id: key.access_key_id,
        secret_access_key: key.secret_access_key,
        mfa_serial: serial,
        totp_seed: seed,
    })
}

/// Creates IAM group `group` (unless it exists) and adds each of `members` to it.
pub async fn create_group_with_members(
    admin: &aws_config::SdkConfig,
    group: &str,
    members: &[&str],
) -> Result<()> {
    let iam = aws_sdk_iam::Client::new(admin);
    let failed = |what: String, e: &dyn fmt::Display| HarnessError::new(format!("{what}: {e}"));
    let exists = iam.get_group().group_name(group).send().await.is_ok();
    if !exists {
        iam.create_group()
            .group_name(group)
            .send()
            .await
            .map_err(|e| {
                failed(
                    format!("create the IAM group {group}"),
                    &aws_sdk_iam::error::DisplayErrorContext(&e),
                )
            })?;
    }
    for user in members {
        iam.add_user_to_group()
            .group_name(group)
            .user_name(*user)
            .send()
            .await
            .map_err(|e| {
                failed(
                    format!("add {user} to the IAM group {group}"),
                    &aws_sdk_iam::error::DisplayErrorContext(&e),
                )
            })?;
    }
    Ok(())
}

/// Creates IAM role `name` that `trusted` (IAM user ARNs) may assume only with MFA (the trust
/// policy's `aws:MultiFactorAuthPresent` condition, which the proxy's STS front enforces).
/// Returns the role's ARN.
pub async fn create_role_requiring_mfa(
    admin: &aws_config::SdkConfig,
    name: &str,
    trusted: &[&str],
) -> Result<String> {
    let iam = aws_sdk_iam::Client::new(admin);
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": trusted},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }]
    });
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .map_err(|e| {
            HarnessError::new(format!(
                "create the IAM role {name}: {}",
                aws_sdk_iam::error::DisplayErrorContext(&e)
            ))
        })?
        .role
        .ok_or_else(|| HarnessError::new(format!("IAM returned no role for {name}")))?;
    Ok(role.arn)
}
