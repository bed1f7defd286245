//! The S3 layout convention, and the rules that keep object keys from escaping the store.
//!
//! Input layout (relative to the configured prefix):
//! - `<system>/<phase>/<run-id>/<path…>`: a qualification run; `<phase>` is `IQ`, `OQ` or `PQ`;
//! - `AWSLogs/<account>/CloudTrail/…`, `AWSLogs/<account>/CloudTrail-Digest/…`,
//!   `AWSLogs/<account>/Config/…`: audit evidence.

mod location;

use serde::{Deserialize, Serialize};

use crate::model::{Phase, RunKey};

pub use location::{s3_uri, BucketName, LocationError, Prefix, S3Location};

/// Why an object key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeKey {
    #[error("empty key")]
    Empty,
    #[error("key {0:?} is absolute (starts with '/')")]
    Absolute(String),
    #[error("key {0:?} contains a backslash")]
    Backslash(String),
    #[error("key {0:?} contains a NUL or control character")]
    Control(String),
    #[error("key {0:?} contains a '.' or '..' segment")]
    DotSegment(String),
    #[error("key {0:?} contains an empty segment ('//')")]
    EmptySegment(String),
    #[error("key {0:?} is longer than 1024 bytes")]
    TooLong(String),
}

/// Checks that a key (or a key relative to the prefix) is a plain relative path: no `.`/`..`
/// segments, no leading `/`, no backslash, no NUL/control characters, no empty segments.
/// Keys that fail are never turned into paths; the object is reported and skipped.
pub fn check_relative_key(key: &str) -> Result<(), UnsafeKey> {
    let shown = || key.chars().take(200).collect::<String>();
    if key.is_empty() {
        return Err(UnsafeKey::Empty);
    }
    if key.len() > 1024 {
        return Err(UnsafeKey::TooLong(shown()));
    }
    if key.starts_with('/') {
        return Err(UnsafeKey::Absolute(shown()));
    }
    if key.contains('\\') {
        return Err(UnsafeKey::Backslash(shown()));
    }
    if key.chars().any(char::is_control) {
        return Err(UnsafeKey::Control(shown()));
    }
    // A trailing '/' is a "folder marker" object; callers skip those before checking.
    for seg in key.split('/') {
        match seg {
            "" => return Err(UnsafeKey::EmptySegment(shown())),
            "." | ".." => return Err(UnsafeKey::DotSegment(shown())),
            _ => {}
        }
    }
    Ok(())
}

/// Why a key taken into the store must be refused as a look-alike: a key not in Unicode
/// normal form C (`ru\u{308}n`, a letter followed by a combining mark) displays exactly like
/// its NFC spelling (`rün`), so two run ids that differ only in this way would be two runs that
/// nobody can tell apart. Such keys are refused at intake rather than normalised: the stored
/// URI must name the object the source holds, byte for byte.
pub fn look_alike_reason(key: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    if unicode_normalization::is_nfc(key) {
        return None;
    }
    let nfc: String = key.nfc().collect();
    Some(format!(
        "the name is not in Unicode normal form C (NFC): it displays exactly like {nfc:?}, so it \
         could pass for another run's file; rename it to its NFC spelling and take it in again"
    ))
}

/// Normalises a user-supplied prefix: no leading `/`, exactly one trailing `/` unless empty.
pub fn normalise_prefix(prefix: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// The folder inside a run folder that holds its sign-off hand-off (`docs/handoff.md`): never
/// part of the run's evidence, so publishing a sign-off never changes the record it signs.
pub const SIGNOFF_DIR: &str = "signoff";

/// What an object key (relative to the prefix) is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyKind {
    /// A file inside a run folder.
    RunFile { run: RunKey, path: String },
    /// A CloudTrail log file (`*.json.gz`).
    CloudTrailLog { account: String },
    /// A CloudTrail digest file.
    CloudTrailDigest { account: String },
    /// An AWS Config snapshot or history file.
    ConfigFile { account: String },
    /// Outside the convention: kept out of the store and reported.
    Unrecognised { reason: String },
}

/// Classifies a relative key that has passed [`check_relative_key`].
pub fn classify(relative_key: &str) -> KeyKind {
    let parts: Vec<&str> = relative_key.split('/').collect();
    if parts.first() == Some(&"AWSLogs") {
        let account = parts.get(1).map(|s| (*s).to_owned()).unwrap_or_default();
        let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if !valid_account {
            return KeyKind::Unrecognised {
                reason: format!("AWSLogs key without a 12-digit account id: {relative_key}"),
            };
        }
        return match parts.get(2).copied() {
            Some("CloudTrail") if relative_key.ends_with(".json.gz") => {
                KeyKind::CloudTrailLog { account }
            }
            Some("CloudTrail-Digest") if relative_key.ends_with(".json.gz") => {
                KeyKind::CloudTrailDigest { account }
            }
            Some("Config") => KeyKind::ConfigFile { account },
            _ => KeyKind::Unrecognised {
                reason: format!("not a CloudTrail log, digest or Config file: {relative_key}"),
            },
        };
    }
    if parts.len() < 4 {
        return KeyKind::Unrecognised {
            reason: format!("not inside a run folder <system>/<phase>/<run-id>/: {relative_key}"),
        };
    }
    let phase = match parts[1].parse::<Phase>() {
        Ok(p) => p,
        Err(e) => {
            return KeyKind::Unrecognised {
                reason: format!("{e} in {relative_key}"),
            };
        }
    };
    if parts[3] == SIGNOFF_DIR {
        return KeyKind::Unrecognised {
            reason: format!(
                "a sign-off hand-off object (read with `countersign signoff fetch`), not run evidence: {relative_key}"
            ),
        };
    }
    KeyKind::RunFile {
        run: RunKey {
            system: parts[0].to_owned(),
            phase,
            run_id: parts[2].to_owned(),
        },
        path: parts[3..].join("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_signoff_folder_is_not_evidence() {
        assert!(matches!(
            classify("LIMS/OQ/r1/signoff/record.json"),
            KeyKind::Unrecognised { .. }
        ));
        assert!(matches!(
            classify("LIMS/OQ/r1/results/signoff/x.xml"),
            KeyKind::RunFile { .. }
        ));
    }

    #[test]
    fn refuses_keys_that_could_escape() {
        for bad in [
            "",
            "/etc/passwd",
            "LIMS/IQ/r1/../../x",
            "LIMS/IQ/r1/./x",
            "..",
            "LIMS\\IQ\\r1\\x",
            "LIMS/IQ/r1/a\0b",
            "LIMS//IQ/r1/x",
            "LIMS/IQ/r1/x\n",
        ] {
            assert!(check_relative_key(bad).is_err(), "accepted {bad:?}");
        }
        assert!(check_relative_key(&"a/".repeat(600)).is_err());
        check_relative_key("LIMS/IQ/run-2026-11-01/report.xml").unwrap();
        check_relative_key("LIMS/IQ/r1/évidence ü/screen shot.png").unwrap();
    }

    #[test]
    fn classifies_runs_and_audit_evidence() {
        assert_eq!(
            classify("LIMS/OQ/r7/reports/cucumber.json"),
            KeyKind::RunFile {
                run: RunKey {
                    system: "LIMS".into(),
                    phase: Phase::Oq,
                    run_id: "r7".into()
                },
                path: "reports/cucumber.json".into()
            }
        );
        assert_eq!(
            classify("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/01/x.json.gz"),
            KeyKind::CloudTrailLog {
                account: "123456789012".into()
            }
        );
        assert_eq!(
            classify("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/01/d.json.gz"),
            KeyKind::CloudTrailDigest {
                account: "123456789012".into()
            }
        );
        assert!(matches!(
            classify("AWSLogs/123456789012/Config/us-east-1/2026/11/1/ConfigSnapshot/s.json.gz"),
            KeyKind::ConfigFile { .. }
        ));
        assert!(matches!(
            classify("LIMS/XQ/r1/a.xml"),
            KeyKind::Unrecognised { .. }
        ));
        assert!(matches!(
            classify("LIMS/IQ/a.xml"),
            KeyKind::Unrecognised { .. }
        ));
        assert!(matches!(
            classify("AWSLogs/12/CloudTrail/x.json.gz"),
            KeyKind::Unrecognised { .. }
        ));
    }

    #[test]
    fn prefix_normalisation() {
        assert_eq!(normalise_prefix(""), "");
        assert_eq!(normalise_prefix("/"), "");
        assert_eq!(normalise_prefix("qual"), "qual/");
        assert_eq!(normalise_prefix("/qual/2026/"), "qual/2026/");
    }
}
