//! What the app learns from its environment at start-up: where the Countersign home is and
//! whether it was started by the demo (which then offers the emulator as a connection).

use std::path::PathBuf;

use serde::Serialize;

/// `COUNTERSIGN_HOME`: the ledger, store and keys; default: `<OS data dir>/countersign`.
pub const HOME_VAR: &str = "COUNTERSIGN_HOME";
/// `COUNTERSIGN_DEMO=1`: started by the demo command.
pub const DEMO_VAR: &str = "COUNTERSIGN_DEMO";
/// The demo's S3-compatible endpoint (the local emulator).
pub const DEMO_ENDPOINT_VAR: &str = "COUNTERSIGN_DEMO_ENDPOINT";
/// The demo's bucket.
pub const DEMO_BUCKET_VAR: &str = "COUNTERSIGN_DEMO_BUCKET";
/// The demo's key prefix (optional, default none).
pub const DEMO_PREFIX_VAR: &str = "COUNTERSIGN_DEMO_PREFIX";

/// Start-up configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    /// The home given by `COUNTERSIGN_HOME`; `None` means the OS data dir.
    pub home: Option<PathBuf>,
    /// Set when the demo started the app.
    pub demo: Option<DemoConnection>,
}

/// Where the demo dataset was seeded; the Connect screen offers it as "Demo".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoConnection {
    pub endpoint: String,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
}

/// A start-up variable that is set but unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    #[error("{DEMO_VAR}={0:?} is not understood: set it to 1 to start in demo mode, or unset it")]
    DemoFlag(String),
    #[error(
        "{DEMO_VAR}=1 needs {0} as well (the demo command sets it); set it or unset {DEMO_VAR}"
    )]
    DemoMissing(&'static str),
    #[error(
        "{HOME_VAR} is set but empty: set it to a folder, or unset it to use the OS data folder"
    )]
    EmptyHome,
}

impl Startup {
    /// Reads the configuration through `var` (the process environment in the app, a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Startup, StartupError> {
        let home = match var(HOME_VAR) {
            None => None,
            Some(h) if h.trim().is_empty() => return Err(StartupError::EmptyHome),
            Some(h) => Some(PathBuf::from(h)),
        };
        let demo = match var(DEMO_VAR).as_deref().map(str::trim) {
            None | Some("") | Some("0") => None,
            Some("1") | Some("true") => {
                let required = |name: &'static str| {
                    var(name)
                        .filter(|v| !v.trim().is_empty())
                        .ok_or(StartupError::DemoMissing(name))
                };
                Some(DemoConnection {
                    endpoint: required(DEMO_ENDPOINT_VAR)?,
                    bucket: required(DEMO_BUCKET_VAR)?,
                    prefix: var(DEMO_PREFIX_VAR).unwrap_or_default(),
                    region: "us-east-1".to_owned(),
                })
            }
            Some(other) => return Err(StartupError::DemoFlag(other.to_owned())),
        };
        Ok(Startup { home, demo })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Startup, StartupError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Startup::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_os_home_and_no_demo() {
        assert_eq!(
            read(&[]),
            Ok(Startup {
                home: None,
                demo: None
            })
        );
    }

    #[test]
    fn home_and_demo_are_read() {
        let s = read(&[
            (HOME_VAR, "/tmp/cs"),
            (DEMO_VAR, "1"),
            (DEMO_ENDPOINT_VAR, "http://127.0.0.1:5055"),
            (DEMO_BUCKET_VAR, "qual-results"),
        ])
        .unwrap();
        assert_eq!(s.home, Some(PathBuf::from("/tmp/cs")));
        let demo = s.demo.unwrap();
        assert_eq!(demo.endpoint, "http://127.0.0.1:5055");
        assert_eq!(demo.bucket, "qual-results");
        assert_eq!(demo.prefix, "");
    }

    #[test]
    fn demo_zero_is_off() {
        assert_eq!(read(&[(DEMO_VAR, "0")]).unwrap().demo, None);
    }

    #[test]
    fn demo_without_endpoint_names_the_missing_variable() {
        let err = read(&[(DEMO_VAR, "1"), (DEMO_BUCKET_VAR, "b")]).unwrap_err();
        assert_eq!(err, StartupError::DemoMissing(DEMO_ENDPOINT_VAR));
        assert!(err.to_string().contains("COUNTERSIGN_DEMO_ENDPOINT"));
    }

    #[test]
    fn demo_without_bucket_names_the_missing_variable() {
        let err = read(&[
            (DEMO_VAR, "1"),
            (DEMO_ENDPOINT_VAR, "http://x"),
            (DEMO_BUCKET_VAR, " "),
        ])
        .unwrap_err();
        assert_eq!(err, StartupError::DemoMissing(DEMO_BUCKET_VAR));
    }

    #[test]
    fn unknown_demo_flag_is_refused_with_its_value() {
        let err = read(&[(DEMO_VAR, "yes please")]).unwrap_err();
        assert!(err.to_string().contains("\"yes please\""), "{err}");
    }

    #[test]
    fn empty_home_is_refused() {
        assert_eq!(read(&[(HOME_VAR, "  ")]), Err(StartupError::EmptyHome));
    }
}
