//! The usual test set-up in one value: a fresh emulator with the fault proxy in front of it,
//! and the environment a service under test is opened with.

use std::path::Path;
use std::sync::Arc;

use countersign_aws::{AwsContext, AwsSettings};
use countersign_core::clock::Clock;
use countersign_core::layout::{BucketName, Prefix};
use countersign_service::{
    CancelToken, EnrollRequest, Enrollment, Env, FetchRequest, KdfParams, KeyInfo, MfaCode,
    Passphrase, SeedReport, Service, SystemClock,
};

use crate::connector::ProxyConnector;
use crate::emulator::{admin_credentials, Emulator};
use crate::error::{HarnessError, Result};
use crate::iam::{self, TestUser};
use crate::proxy::FaultProxy;

/// A fresh emulator and a proxy in front of it. The proxy is declared first so it stops first.
#[derive(Debug)]
pub struct Harness {
    pub proxy: FaultProxy,
    pub emulator: Emulator,
    connector: Arc<ProxyConnector>,
}

impl Harness {
    /// Starts a fresh emulator and a proxy in front of it.
    pub async fn start() -> Result<Harness> {
        let emulator = Emulator::start().await?;
        let proxy = FaultProxy::start(&emulator.endpoint()).await?;
        let connector = Arc::new(ProxyConnector::new(proxy.endpoint()));
        Ok(Harness {
            proxy,
            emulator,
            connector,
        })
    }

    /// The environment a service under test is opened with: the system clock in UTC, AWS
    /// through the proxy (a profile names a test identity, see [`ProxyConnector`]), and the
    /// cheap key derivation. Replace the clock for tests that move time.
    pub fn env(&self) -> Env {
        Env {
            clock: Arc::new(SystemClock::utc()),
            aws: self.connector.clone(),
            kdf: KdfParams::insecure_for_tests_only(),
        }
    }

    /// [`Harness::env`] on `clock`.
    pub fn env_at(&self, clock: Arc<dyn Clock>) -> Env {
        Env {
            clock,
            ..self.env()
        }
    }

    /// A service on `home` with [`Harness::env`].
    pub fn service(&self, home: &Path) -> Result<Service> {
        Service::open(home, self.env()).map_err(|e| HarnessError::during("open a test home", &e))
    }

    /// The connector, for tests that add profile files.
    pub fn connector(&self) -> &ProxyConnector {
        &self.connector
    }

    /// A context with the admin credentials, through the proxy.
    pub async fn admin(&self) -> Result<AwsContext> {
        self.proxy.aws_context(admin_credentials()).await
    }

    /// A context with `user`'s long-term credentials, through the proxy.
    pub async fn user_context(&self, user: &TestUser) -> Result<AwsContext> {
        self.proxy.aws_context(user.credentials()).await
    }

    /// Creates an IAM user with an access key and virtual MFA device, known to the STS front;
    /// the profile named after the user selects its identity ([`TestUser::settings`]).
    pub async fn create_user_with_mfa(&self, name: &str) -> Result<TestUser> {
        let admin = self.emulator.sdk_config().await;
        let user = iam::create_user_with_mfa(&admin, &self.proxy, name).await?;
        self.connector.add_identity(&user.name, user.credentials());
        Ok(user)
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

    /// A signer key for `printed_name` in `service`'s home, enrolled to `user`'s identity with
    /// a current MFA code.
    pub async fn enrolled_key(
        &self,
        service: &Service,
        user: &TestUser,
        printed_name: &str,
        passphrase: &str,
    ) -> Result<(KeyInfo, Enrollment)> {
        let key = service
            .keys_init(printed_name, &Passphrase::new(passphrase.to_owned()))
            .map_err(|e| HarnessError::during("create a test key", &e))?;
        let enrollment = self.enroll(service, user, &key.key_id).await?;
        Ok((key, enrollment))
    }

    /// A new IAM user `login` with MFA, and a key for `printed_name` enrolled to them in
    /// `service`'s home: a signer, ready to sign.
    pub async fn signer(
        &self,
        service: &Service,
        login: &str,
        printed_name: &str,
        passphrase: &str,
    ) -> Result<(TestUser, KeyInfo)> {
        let user = self.create_user_with_mfa(login).await?;
        let (key, _) = self
            .enrolled_key(service, &user, printed_name, passphrase)
            .await?;
        Ok((user, key))
    }

    /// The `countersign` binary (built on first use) set to reach this emulator as its
    /// administrator, with `home` as its Countersign home and no AWS files or profile of the
    /// machine in the way.
    pub fn cli(&self, home: &Path) -> Result<std::process::Command> {
        let no_files = home.with_extension("no-aws-files");
        let mut cmd = std::process::Command::new(crate::binaries::build_cli()?);
        cmd.args([
            "--endpoint-url",
            &self.emulator.endpoint(),
            "--region",
            "us-east-1",
        ])
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", crate::emulator::ADMIN_KEY)
        .env("AWS_SECRET_ACCESS_KEY", crate::emulator::ADMIN_KEY)
        .env("AWS_CONFIG_FILE", &no_files)
        .env("AWS_SHARED_CREDENTIALS_FILE", &no_files);
        Ok(cmd)
    }

    /// Enrolls the key `key_id` of `service`'s home to `user`'s identity with a current MFA
    /// code (certification accepted).
    pub async fn enroll(
        &self,
        service: &Service,
        user: &TestUser,
        key_id: &str,
    ) -> Result<Enrollment> {
        service
            .keys_enroll(
                &user.settings(),
                &EnrollRequest {
                    mfa_serial: user.mfa_serial.clone(),
                    mfa_code: MfaCode::new(user.current_code()),
                    key_id: Some(key_id.to_owned()),
                    certification_accepted: true,
                },
            )
            .await
            .map_err(|e| HarnessError::during(&format!("enroll the key of {}", user.name), &e))
    }

    /// Seeds the demo dataset into `bucket` (at the bucket's root), as the admin.
    pub async fn demo_seeded(&self, bucket: &str) -> Result<SeedReport> {
        self.demo_seeded_under(bucket, "").await
    }

    /// Seeds the demo dataset into `bucket` under `prefix`, as the admin.
    pub async fn demo_seeded_under(&self, bucket: &str, prefix: &str) -> Result<SeedReport> {
        Service::demo_seed(
            &self.env(),
            &AwsSettings::default(),
            &bucket_name(bucket)?,
            &prefix_of(prefix)?,
        )
        .await
        .map_err(|e| HarnessError::during("seed the demo", &e))
    }

    /// Seeds the demo dataset into `bucket` and fetches it into `service`'s home, as the admin.
    pub async fn demo_fetched(&self, service: &Service, bucket: &str) -> Result<()> {
        self.demo_seeded(bucket).await?;
        service
            .fetch(&fetch_request(bucket, "")?, &|_| {}, &CancelToken::new())
            .await
            .map_err(|e| HarnessError::during("fetch the demo", &e))?;
        Ok(())
    }
}

/// The environment of a test that works offline: the system clock in UTC, no AWS, the cheap
/// key derivation.
pub fn offline_env() -> Env {
    Env {
        clock: Arc::new(SystemClock::utc()),
        aws: Arc::new(crate::connector::NoAws),
        kdf: KdfParams::insecure_for_tests_only(),
    }
}

/// A service on `home` that works offline ([`offline_env`]).
pub fn offline_service(home: &Path) -> Result<Service> {
    Service::open(home, offline_env()).map_err(|e| HarnessError::during("open a test home", &e))
}

/// A bucket name a test chose.
pub fn bucket_name(bucket: &str) -> Result<BucketName> {
    bucket
        .parse()
        .map_err(|e| HarnessError::new(format!("a test bucket name: {e}")))
}

/// A prefix a test chose.
pub fn prefix_of(prefix: &str) -> Result<Prefix> {
    prefix
        .parse()
        .map_err(|e| HarnessError::new(format!("a test prefix: {e}")))
}

/// A fetch of `s3://bucket/prefix` as the admin, 4 downloads at a time.
pub fn fetch_request(bucket: &str, prefix: &str) -> Result<FetchRequest> {
    Ok(FetchRequest {
        aws: AwsSettings::default(),
        bucket: bucket_name(bucket)?,
        prefix: prefix_of(prefix)?,
        concurrency: 4,
        stack: None,
    })
}

/// The line of `run` in the run list (`Service::runs`), with its state and state check.
pub fn run_line(service: &Service, run: &str) -> Result<countersign_service::RunSummary> {
    service
        .runs()
        .map_err(|e| HarnessError::during("list the runs", &e))?
        .into_iter()
        .find(|r| r.id == run)
        .ok_or_else(|| HarnessError::new(format!("run {run} is not in the run list")))
}

/// The ids of the cases of `run` that need a disposition (failed or errored), in order.
pub fn failed_cases(service: &Service, run: &str) -> Result<Vec<String>> {
    let view = service
        .show(run)
        .map_err(|e| HarnessError::new(format!("show {run}: {e}")))?;
    Ok(view
        .run
        .cases_needing_disposition()
        .map(|c| c.id.clone())
        .collect())
}

/// The secrets the service asks of `user` for one signing act: the passphrase, and a current
/// MFA code when the session is not open for them.
pub fn secrets(
    user: &TestUser,
    passphrase: &str,
    needs_mfa: bool,
) -> countersign_service::SignSecrets {
    countersign_service::SignSecrets {
        passphrase: countersign_service::Passphrase::new(passphrase.to_owned()),
        mfa_code: needs_mfa.then(|| countersign_service::MfaCode::new(user.current_code())),
    }
}

/// Records a disposition as `user`, authenticated as the service demands: the MFA code when
/// `session` is not open for them (the call opens it), and the key's passphrase.
pub async fn record_disposition(
    service: &Service,
    user: &TestUser,
    session: &mut countersign_service::SigningSession,
    passphrase: &str,
    req: &countersign_service::DispositionRequest,
    key_id: &str,
) -> std::result::Result<
    countersign_service::CaseDispositionRecord,
    countersign_service::ServiceError,
> {
    let plan = service.disposition_check(session, req, Some(key_id), None)?;
    let secrets = secrets(user, passphrase, plan.needs_mfa);
    service
        .disposition(&user.settings(), session, req, Some(key_id), None, secrets)
        .await
}

/// Signs `run` with `meaning` as `user`, in a new signing session (so with a current MFA code
/// when the service asks for one) and the key's passphrase.
pub async fn sign_run(
    service: &Service,
    user: &TestUser,
    key_id: &str,
    passphrase: &str,
    run: &str,
    meaning: countersign_core::signature::predicate::Meaning,
) -> std::result::Result<countersign_service::SignatureInfo, countersign_service::ServiceError> {
    let mut session = countersign_service::SigningSession::new();
    let req = countersign_service::SignRequest {
        run: run.into(),
        meaning,
        reason: format!("{meaning}: every result and deviation read"),
        key_id: Some(key_id.to_owned()),
        mfa_serial: None,
    };
    let plan = service.sign_check(&session, &req)?;
    let secrets = secrets(user, passphrase, plan.needs_mfa);
    service
        .sign(&user.settings(), &mut session, &req, secrets)
        .await
}

/// Signs the package PDF `pdf` as `meaning` into the new file `out`, as `user` with their
/// enrolled key, authenticated as the service demands (a fresh MFA session, the passphrase).
pub async fn sign_package(
    service: &Service,
    (user, key_id, passphrase): (&TestUser, &str, &str),
    pdf: &Path,
    out: &Path,
    meaning: countersign_core::signature::predicate::Meaning,
) -> std::result::Result<countersign_service::PackageSigned, countersign_service::ServiceError> {
    let req = countersign_service::PackageSignRequest {
        pdf: pdf.to_path_buf(),
        out: out.to_path_buf(),
        meaning,
        reason: format!("{meaning}: the package read in full, every run approved"),
        key_id: Some(key_id.to_owned()),
        mfa_serial: None,
    };
    let mut session = countersign_service::SigningSession::new();
    let plan = service.package_sign_check(&session, &req)?;
    let secrets = secrets(user, passphrase, plan.needs_mfa);
    service
        .package_sign(&user.settings(), &mut session, &req, secrets)
        .await
}

/// `pdf` reviewed by `reviewer` and approved by `approver`: the approved PDF, written beside it
/// as `<name>-approved.pdf` (the reviewed one as `<name>-reviewed.pdf`).
pub async fn approve_package(
    service: &Service,
    reviewer: (&TestUser, &str, &str),
    approver: (&TestUser, &str, &str),
    pdf: &Path,
) -> std::result::Result<std::path::PathBuf, countersign_service::ServiceError> {
    use countersign_core::signature::predicate::Meaning;
    let beside = |suffix: &str| {
        let stem = pdf
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("package");
        pdf.with_file_name(format!("{stem}-{suffix}.pdf"))
    };
    let (reviewed, approved) = (beside("reviewed"), beside("approved"));
    sign_package(service, reviewer, pdf, &reviewed, Meaning::Reviewed).await?;
    sign_package(service, approver, &reviewed, &approved, Meaning::Approved).await?;
    Ok(approved)
}

/// Approves `run`: a deviation disposition for every failed case and the Reviewed signature
/// by `reviewer`, then the Approved signature by `approver` (each `(user, key id, passphrase)`).
pub async fn approve_run(
    service: &Service,
    run: &str,
    (reviewer, rk, rp): (&TestUser, &str, &str),
    (approver, ak, ap): (&TestUser, &str, &str),
) -> Result<()> {
    use countersign_core::signature::predicate::Meaning;
    let mut session = countersign_service::SigningSession::new();
    for case in failed_cases(service, run)? {
        record_disposition(
            service,
            reviewer,
            &mut session,
            rp,
            &countersign_service::DispositionRequest {
                run: run.into(),
                case_id: case,
                kind: countersign_service::DispositionKind::Deviation,
                reference: "DEV-0007".into(),
                reason: "Investigated; no impact on the qualified state".into(),
            },
            rk,
        )
        .await
        .map_err(|e| HarnessError::new(format!("disposition on {run}: {e}")))?;
    }
    for (who, key, pass, meaning) in [
        (reviewer, rk, rp, Meaning::Reviewed),
        (approver, ak, ap, Meaning::Approved),
    ] {
        sign_run(service, who, key, pass, run, meaning)
            .await
            .map_err(|e| HarnessError::new(format!("{meaning} on {run}: {e}")))?;
    }
    Ok(())
}
