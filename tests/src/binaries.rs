//! The workspace's own binaries, built by the `cargo` running the tests and located as cargo
//! reports them (so `CARGO_TARGET_DIR` and target-dir settings are honoured).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::emulator::project_root;
use crate::{HarnessError, Result};

/// Builds `countersign` (`cargo build -p countersign-cli`) and returns its path. Cheap when it
/// is up to date (the test script builds it first).
pub fn build_cli() -> Result<PathBuf> {
    build("countersign-cli", "countersign")
}

fn build(package: &str, bin: &str) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args([
            "build",
            "-p",
            package,
            "--bin",
            bin,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(project_root())
        .stderr(Stdio::inherit())
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
