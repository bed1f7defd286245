//! The optional `run.json` manifest of a run folder (format `countersign.run/v1`, documented
//! in `docs/run-manifest.md`). The format is frozen: a new field means a new version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Sha256;
use crate::model::RunKey;
use crate::report_error::{utf8, ReportError};

/// The only manifest version this build reads.
pub use crate::formats::RUN_MANIFEST_V1 as RUN_MANIFEST_SCHEMA;

/// A parsed `run.json`. Every field but `schema` is optional; unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    /// Always [`RUN_MANIFEST_SCHEMA`].
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// `IQ`, `OQ` or `PQ` (kept as written; compared with the folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<StackRef>,
    /// RFC 3339 with an offset.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub executed_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<Executor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// The requirement catalogue this run is traced against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementEntry>,
    /// Case name or case id → requirement ids. A name given twice is refused.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_map"
    )]
    pub mapping: BTreeMap<String, Vec<String>>,
    /// Run-relative path → declared digest. A path declared twice is refused: keeping either
    /// declaration would make the verdict depend on the order of the file.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_map"
    )]
    pub files: BTreeMap<String, DeclaredFile>,
}

/// The qualification protocol the run executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The CloudFormation stack the run qualifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Who executed the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Executor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// A test tool and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One requirement of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementEntry {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A declared file digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredFile {
    pub sha256: Sha256,
}

/// A JSON object read into a map, refusing a member name that appears twice (serde's maps keep
/// the last one silently).
fn unique_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                if out.contains_key(&name) {
                    return Err(serde::de::Error::custom(format!(
                        "{name:?} is given twice; each name may appear once, so remove one of them"
                    )));
                }
                let value = map.next_value()?;
                out.insert(name, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

/// Parses `run.json`. `path` names the file in errors.
pub fn parse_run_manifest(path: &str, bytes: &[u8]) -> Result<RunManifest, ReportError> {
    let text = utf8(path, bytes)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(path, "", &e))?;
    match value.get("schema") {
        None => {
            return Err(ReportError::whole(
                path,
                format!("no \"schema\" field; a run manifest starts with \"schema\": \"{RUN_MANIFEST_SCHEMA}\""),
            ));
        }
        Some(serde_json::Value::String(s)) if s == RUN_MANIFEST_SCHEMA => {}
        Some(other) => {
            return Err(ReportError::whole(
                path,
                format!(
                    "unsupported run manifest version {other}; this build reads \"{RUN_MANIFEST_SCHEMA}\" \
                     (update Countersign, or write the manifest in that version)"
                ),
            ));
        }
    }
    // Parsed again from text so that field errors carry a line and column.
    serde_json::from_str(text).map_err(|e| json_error(path, "invalid run manifest: ", &e))
}

fn json_error(path: &str, prefix: &str, e: &serde_json::Error) -> ReportError {
    let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(e.column()).unwrap_or(u32::MAX);
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    let prefix = if prefix.is_empty() && e.is_syntax() {
        "not valid JSON: "
    } else {
        prefix
    };
    ReportError::at(path, line, column, format!("{prefix}{msg}"))
}

impl RunManifest {
    /// Messages for each of `system`, `phase`, `run_id` that disagrees with the folder.
    pub fn folder_mismatches(&self, key: &RunKey) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |field: &str, declared: &Option<String>, folder: &str| {
            if let Some(d) = declared {
                if d != folder {
                    out.push(format!(
                        "run.json says {field} {d:?} but the run folder is {key}; \
                         the manifest belongs to another run or the folder was renamed"
                    ));
                }
            }
        };
        check("system", &self.system, &key.system);
        check("phase", &self.phase, key.phase.as_str());
        check("run_id", &self.run_id, &key.run_id);
        out
    }
}

/// What a reviewer needs to know about a run's execution and its `run.json` does not say: the
/// protocol executed, who executed it, and when. One sentence each, in that order; empty when
/// the manifest names all three. A run without a manifest lacks all three.
pub fn missing_execution_facts(manifest: Option<&RunManifest>) -> Vec<String> {
    let given = |v: Option<&str>| v.is_some_and(|t| !t.trim().is_empty());
    let protocol = manifest
        .and_then(|m| m.protocol.as_ref())
        .is_some_and(|p| given(Some(&p.id)));
    let executor = manifest
        .and_then(|m| m.executor.as_ref())
        .is_some_and(|e| given(e.name.as_deref()) || given(e.arn.as_deref()));
    let executed = manifest.is_some_and(|m| m.executed_at.is_some());
    let mut out = Vec::new();
    if !protocol {
        out.push(
            "no protocol: run.json does not name the approved protocol this run executed"
                .to_owned(),
        );
    }
    if !executor {
        out.push("no executor: run.json does not say who executed this run".to_owned());
    }
    if !executed {
        out.push("no execution time: run.json does not say when this run was executed".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;

    const FULL: &str = r#"{ "schema": "countersign.run/v1",
  "system": "LIMS", "phase": "IQ", "run_id": "2026-11-02-iq-1",
  "protocol": {"id": "LIMS-IQ-001", "version": "2.1", "title": "Installation Qualification of the LIMS"},
  "stack": {"name": "lims-qual", "arn": "arn:aws:cloudformation:us-east-1:123456789012:stack/lims-qual/1", "region": "us-east-1"},
  "executed_at": "2026-11-02T09:14:03Z",
  "executor": {"name": "Dana Whitfield", "arn": "arn:aws:iam::123456789012:user/dana.whitfield"},
  "tools": [{"name": "pytest", "version": "8.3.4"}],
  "requirements": [{"id": "URS-LIMS-001", "title": "Database version"}],
  "mapping": {"test_database_version": ["URS-LIMS-001"]},
  "files": {"results/junit.xml": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}} }"#;

    fn key() -> RunKey {
        RunKey {
            system: "LIMS".into(),
            phase: Phase::Iq,
            run_id: "2026-11-02-iq-1".into(),
        }
    }

    #[test]
    fn full_manifest_round_trips() {
        let m = parse_run_manifest("run.json", FULL.as_bytes()).unwrap();
        assert_eq!(m.protocol.as_ref().unwrap().version.as_deref(), Some("2.1"));
        assert_eq!(m.executed_at.unwrap().unix_timestamp(), 1_793_610_843);
        assert_eq!(m.files["results/junit.xml"].sha256, Sha256::of(b""));
        assert!(m.folder_mismatches(&key()).is_empty());
        let again: RunManifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn a_path_or_mapping_given_twice_is_refused_with_its_position() {
        let a = Sha256::of(b"fail").to_hex();
        let b = Sha256::of(b"pass").to_hex();
        let text = format!(
            "{{\"schema\":\"countersign.run/v1\",\n \"files\": {{\"r/junit.xml\": {{\"sha256\":\"{a}\"}},\n  \"r/junit.xml\": {{\"sha256\":\"{b}\"}}}}}}"
        );
        let e = parse_run_manifest("run.json", text.as_bytes()).unwrap_err();
        assert!(e.message.contains("\"r/junit.xml\" is given twice"), "{e}");
        assert_eq!(e.line, Some(3));
        let e = parse_run_manifest(
            "run.json",
            br#"{"schema":"countersign.run/v1","mapping":{"t":["A"],"t":["B"]}}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("\"t\" is given twice"), "{e}");
        let e = parse_run_manifest(
            "run.json",
            br#"{"schema":"countersign.run/v1","schema":"countersign.run/v1"}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("duplicate field `schema`"), "{e}");
    }

    #[test]
    fn minimal_manifest() {
        let m = parse_run_manifest("run.json", br#"{"schema":"countersign.run/v1"}"#).unwrap();
        assert!(m.system.is_none() && m.files.is_empty());
    }

    #[test]
    fn version_and_schema_errors() {
        let e = parse_run_manifest("run.json", br#"{"schema":"countersign.run/v2"}"#).unwrap_err();
        assert!(
            e.message
                .contains("unsupported run manifest version \"countersign.run/v2\""),
            "{e}"
        );
        let e = parse_run_manifest("run.json", br#"{"system":"LIMS"}"#).unwrap_err();
        assert!(e.message.contains("no \"schema\" field"), "{e}");
    }

    #[test]
    fn unknown_fields_are_named_with_position() {
        let e = parse_run_manifest(
            "run.json",
            b"{\"schema\":\"countersign.run/v1\",\n \"stack\": {\"nam\": \"x\"}}",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown field `nam`"), "{e}");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn bad_values_are_positioned() {
        let e = parse_run_manifest(
            "run.json",
            b"{\"schema\":\"countersign.run/v1\",\n\"files\":{\"a\":{\"sha256\":\"xyz\"}}}",
        )
        .unwrap_err();
        assert!(e.message.contains("not a SHA-256 digest"), "{e}");
        assert_eq!(e.line, Some(2));
        let e = parse_run_manifest(
            "run.json",
            b"{\"schema\":\"countersign.run/v1\",\"executed_at\":\"yesterday\"}",
        )
        .unwrap_err();
        assert!(e.message.contains("invalid run manifest"), "{e}");
        let e = parse_run_manifest("run.json", b"{\n\"schema\": }").unwrap_err();
        assert!(e.to_string().starts_with("run.json:2:"), "{e}");
        assert!(e.message.starts_with("not valid JSON"), "{e}");
    }

    #[test]
    fn folder_mismatch_is_reported() {
        let m = parse_run_manifest(
            "run.json",
            br#"{"schema":"countersign.run/v1","phase":"OQ","system":"LIMS"}"#,
        )
        .unwrap();
        let problems = m.folder_mismatches(&key());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("phase \"OQ\""), "{}", problems[0]);
    }

    #[test]
    fn a_run_that_does_not_say_what_was_executed_by_whom_and_when_is_named() {
        let full = parse_run_manifest("run.json", FULL.as_bytes()).unwrap();
        assert!(missing_execution_facts(Some(&full)).is_empty());
        assert_eq!(missing_execution_facts(None).len(), 3);
        let bare = RunManifest {
            protocol: Some(Protocol {
                id: "  ".into(),
                version: None,
                title: None,
            }),
            executor: Some(Executor {
                name: None,
                arn: Some("arn:aws:iam::123456789012:user/dana".into()),
            }),
            executed_at: None,
            ..full
        };
        let missing = missing_execution_facts(Some(&bare));
        assert_eq!(missing.len(), 2, "{missing:?}");
        assert!(missing[0].starts_with("no protocol"), "{missing:?}");
        assert!(missing[1].starts_with("no execution time"), "{missing:?}");
    }
}
