//! The workspace's own binaries, built by the `cargo` running the tests and located as cargo
//! reports them (so `CARGO_TARGET_DIR` and target-dir settings are honoured).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::emulator::project_root;
use crate::{HarnessError, Result};

/// Builds `countersign` and returns its path. Cheap when it is up to date (the test script
/// builds it first).
pub fn build_cli() -> Result<PathBuf> {
    build("countersign-cli", "countersign", &[])
}

/// Variables `cargo test` sets for the test process that some build scripts watch
/// (`rerun-if-env-changed`: ring watches `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`). Passed on to
/// a nested `cargo build`, they would make it rebuild ring and everything above it, and the next
/// build from a shell would rebuild it all again.
fn is_test_process_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || name.starts_with("CARGO_BIN_")
        || matches!(
            name,
            "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "OUT_DIR"
        )
}

/// Builds `bin` of `package` with `extra` cargo arguments (e.g. `--release`), in the
/// environment a shell would have, and returns the executable's path.
///
/// A debug build selects the whole workspace (`--workspace --bin BIN`), as `scripts/test.sh`
/// does: dependencies then get the features they have in `cargo test --workspace` and are
/// shared with the test build instead of compiled again. A build with `extra` arguments (the
/// release builds of the benchmarks) selects the package alone, as the release is built.
pub fn build(package: &str, bin: &str, extra: &[&str]) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command.arg("build");
    if extra.is_empty() {
        command.arg("--workspace");
    } else {
        command.args(["-p", package]);
    }
    command
        .args(["--bin", bin])
        .args(extra)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(project_root())
        .stderr(Stdio::inherit());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_test_process_variable) {
            command.env_remove(&name);
        }
    }
    let output = command
        .output()
        .map_err(|e| HarnessError::during(&format!("run {cargo} build -p {package}"), &e))?;
    if !output.status.success() {
        return Err(HarnessError::new(format!(
            "cargo build -p {package} failed ({}); see the compiler output above",
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| {
            HarnessError::new(format!(
                "cargo built {package} but reported no executable {bin}"
            ))
        })
}

/// Runs the command line `cli` on `home` as `user`: their access key in the environment, no
/// AWS config or credentials file, the emulator at `endpoint` (none: no AWS at all), secrets
/// only from the files `args` name. Returns the exit code and stdout followed by stderr.
pub fn run_cli_as(
    cli: &std::path::Path,
    home: &std::path::Path,
    endpoint: Option<&str>,
    user: Option<&crate::TestUser>,
    args: &[&str],
) -> (Option<i32>, String) {
    let none = home.join("no-aws-files");
    let mut cmd = Command::new(cli);
    if let Some(endpoint) = endpoint {
        cmd.args(["--endpoint-url", endpoint, "--region", "us-east-1"]);
    }
    cmd.args(args)
        .env("COUNTERSIGN_HOME", home)
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none);
    if let Some(user) = user {
        cmd.env("AWS_ACCESS_KEY_ID", &user.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &user.secret_access_key);
    }
    match cmd.output() {
        Ok(o) => (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (None, format!("{} could not be run: {e}", cli.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_of_the_test_process_are_not_passed_to_a_nested_build() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_CRATE_NAME",
        ] {
            assert!(is_test_process_variable(name), "{name}");
        }
        for name in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "PATH", "DISPLAY"] {
            assert!(!is_test_process_variable(name), "{name}");
        }
    }
}
