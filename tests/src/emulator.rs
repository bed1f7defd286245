//! The local AWS emulator: a moto server from the project's venv, on a free loopback port, in its
//! own process group, stopped (the whole group) when the [`Emulator`] is dropped.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_credential_types::Credentials;
use countersign_aws::{AwsContext, AwsSettings};

use crate::error::{HarnessError, Result};
use crate::http;

/// The access key id and secret every emulator client uses unless it acts as a specific IAM user.
pub const ADMIN_KEY: &str = "testing";
/// The region the emulator's resources live in.
pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const ACCOUNT: &str = "123456789012";

/// How long start-up may take before it counts as failed (moto imports a lot of Python).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why one start attempt failed: an early exit (e.g. the port was taken meanwhile) is retried.
enum StartFailure {
    ExitedEarly(HarnessError),
    Other(HarnessError),
}

/// A running moto server. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
    log_path: PathBuf,
    // Holds the log file's directory alive for as long as the server runs.
    _log_dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts a fresh server (fresh state) from this project's venv and waits until it answers.
    pub async fn start() -> Result<Emulator> {
        Self::start_in(&project_root()).await
    }

    /// Starts `<root>/.venv/bin/moto_server`. A port taken between choosing it and binding it
    /// makes the server exit at once; that is retried twice with another port.
    pub async fn start_in(root: &Path) -> Result<Emulator> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(root).await {
                Err(StartFailure::ExitedEarly(_)) if attempt < 3 => continue,
                Err(StartFailure::ExitedEarly(e)) | Err(StartFailure::Other(e)) => return Err(e),
                Ok(emulator) => return Ok(emulator),
            }
        }
    }

    async fn start_once(root: &Path) -> std::result::Result<Emulator, StartFailure> {
        let moto = root.join(".venv/bin/moto_server");
        if !moto.is_file() {
            return Err(StartFailure::Other(HarnessError::new(format!(
                "the AWS emulator is not installed ({} is missing): run scripts/setup.sh from {}",
                moto.display(),
                root.display()
            ))));
        }
        let other = StartFailure::Other;
        let log_dir = tempfile::tempdir().map_err(|e| {
            other(HarnessError::during(
                "create a directory for the emulator log",
                &e,
            ))
        })?;
        let log_path = log_dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| other(HarnessError::during("create the emulator log file", &e)))?;
        let log_err = log
            .try_clone()
            .map_err(|e| other(HarnessError::during("open the emulator log file", &e)))?;
        let port = free_port().map_err(other)?;
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(root)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0)
            .spawn()
            .map_err(|e| {
                other(HarnessError::during(
                    &format!("start {}", moto.display()),
                    &e,
                ))
            })?;
        let mut emulator = Emulator {
            child,
            port,
            log_path,
            _log_dir: log_dir,
        };
        emulator.wait_until_ready().await?;
        Ok(emulator)
    }

    async fn wait_until_ready(&mut self) -> std::result::Result<(), StartFailure> {
        let started = std::time::Instant::now();
        let url = format!("{}/moto-api/", self.endpoint());
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartFailure::ExitedEarly(self.startup_error(&format!(
                    "the emulator exited during start-up ({status})"
                ))));
            }
            if let Ok((200..=299, _)) = http::request("GET", &url, Vec::new()).await {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(StartFailure::Other(self.startup_error(&format!(
                    "the emulator did not answer on {} within {} s",
                    self.endpoint(),
                    START_TIMEOUT.as_secs()
                ))));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn startup_error(&self, what: &str) -> HarnessError {
        HarnessError::new(format!(
            "{what}; last lines of {}:\n{}",
            self.log_path.display(),
            log_tail(&self.log_path, 30)
        ))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Forgets every bucket, user, device and stack (`POST /moto-api/reset`).
    pub async fn reset(&self) -> Result<()> {
        let url = format!("{}/moto-api/reset", self.endpoint());
        match http::request("POST", &url, Vec::new()).await {
            Ok((200..=299, _)) => Ok(()),
            Ok((status, body)) => Err(HarnessError::new(format!(
                "reset the emulator: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ))),
            Err(e) => Err(e),
        }
    }

    /// An SDK configuration for the emulator with the admin credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint(), admin_credentials()).await
    }

    /// A product-side context for the emulator with the admin credentials.
    pub async fn aws_context(&self) -> Result<AwsContext> {
        context_for(&self.endpoint(), admin_credentials()).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The server runs in its own process group (its id is the child's pid): stop all of it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The static admin credentials (`testing` / `testing`).
pub fn admin_credentials() -> Credentials {
    Credentials::new(ADMIN_KEY, ADMIN_KEY, None, None, "countersign-tests")
}

/// An SDK configuration for `endpoint` (the emulator or the proxy in front of it).
pub async fn sdk_config_for(endpoint: &str, credentials: Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .load()
        .await
}

/// A product-side context for `endpoint` with the given credentials.
pub async fn context_for(endpoint: &str, credentials: Credentials) -> Result<AwsContext> {
    let sdk = sdk_config_for(endpoint, credentials).await;
    let settings = AwsSettings {
        profile: None,
        region: Some(REGION.to_owned()),
        endpoint_url: Some(endpoint.to_owned()),
        force_path_style: true,
    };
    AwsContext::from_sdk_config(sdk, settings)
        .map_err(|e| HarnessError::new(format!("build an AWS context for {endpoint}: {e}")))
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .map_err(|e| HarnessError::during("find a free loopback port", &e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError::during("find a free loopback port", &e))
}

/// The last `lines` lines of a text file (empty when it cannot be read).
fn log_tail(path: &Path, lines: usize) -> String {
    let Ok(file) = std::fs::File::open(path) else {
        return String::from("(no log)");
    };
    let all: Vec<String> = BufReader::new(file).lines().map_while(|l| l.ok()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn missing_venv_says_to_run_setup() {
        let root = tempfile::tempdir().unwrap();
        let err = Emulator::start_in(root.path()).await.unwrap_err();
        assert!(err.message.contains("run scripts/setup.sh"), "{err}");
        assert!(err.message.contains(".venv/bin/moto_server"), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_dies_at_start_up_shows_its_log() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join(".venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = bin.join("moto_server");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"OSError: [Errno 98] Address already in use\" >&2\nexit 3\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

        let err = Emulator::start_in(root.path()).await.unwrap_err();
        assert!(err.message.contains("exited during start-up"), "{err}");
        assert!(err.message.contains("Address already in use"), "{err}");
    }

    #[test]
    fn project_root_holds_the_workspace_manifest() {
        assert!(project_root().join("Cargo.toml").is_file());
        assert!(project_root().join("tests/Cargo.toml").is_file());
    }
}
