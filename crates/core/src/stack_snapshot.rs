//! CloudFormation stack snapshots: what a stack looked like when the runs that qualify it were
//! taken into the store, as a frozen, hashed evidence record.
//!
//! Format `countersign.stack-snapshot/v1` (docs/stack-snapshot.md): a JSON object encoded as
//! RFC 8785 canonical JSON (JCS); the record's digest is the SHA-256 of exactly those bytes.
//! Every field is always present (absent values are `null`, empty lists `[]`), so two
//! encoders agree byte for byte. Changing any field means `v2` next to `v1`, never an edit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::model::Integrity;

/// The schema tag of this format version.
pub use crate::formats::STACK_SNAPSHOT_V1 as STACK_SNAPSHOT_SCHEMA;

/// At most this many stack events are kept (the most recent ones).
pub const MAX_EVENTS: usize = 100;

/// One snapshot of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSnapshot {
    /// Always [`STACK_SNAPSHOT_SCHEMA`].
    pub schema: String,
    /// When the snapshot was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// The region the stack was read from.
    pub region: String,
    /// The stack's name.
    pub stack_name: String,
    /// The stack's ARN (`StackId`).
    pub stack_id: Option<String>,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, …
    pub status: String,
    /// CloudFormation's reason for the status, if it gave one.
    pub status_reason: Option<String>,
    /// The stack's description.
    pub description: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Last update time (RFC 3339), if ever updated.
    pub updated_at: Option<String>,
    /// Parameters, by key (`NoEcho` values arrive masked as `****` and stay so).
    pub parameters: BTreeMap<String, String>,
    /// Outputs, sorted by key.
    pub outputs: Vec<StackOutput>,
    /// Tags, by key.
    pub tags: BTreeMap<String, String>,
    /// The template as originally submitted.
    pub template: StackTemplate,
    /// The stack's resources, sorted by logical id.
    pub resources: Vec<StackResource>,
    /// The most recent events (at most [`MAX_EVENTS`]), newest first, as CloudFormation lists them.
    pub events: Vec<StackEvent>,
    /// Whether the live resources still match the template.
    pub drift: DriftState,
}

/// A stack output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackOutput {
    pub key: String,
    pub value: Option<String>,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

/// The stack's template body (stage `Original`) and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackTemplate {
    /// SHA-256 of the UTF-8 bytes of `body`.
    pub sha256: Sha256,
    /// The body exactly as CloudFormation returned it.
    pub body: String,
}

impl StackTemplate {
    /// A template record whose digest is computed from `body`.
    pub fn new(body: String) -> Self {
        Self {
            sha256: Sha256::of(body.as_bytes()),
            body,
        }
    }
}

/// A resource of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub last_updated: Option<String>,
}

/// A stack event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackEvent {
    pub event_id: String,
    pub timestamp: Option<String>,
    pub logical_id: Option<String>,
    pub physical_id: Option<String>,
    pub resource_type: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
}

/// Drift: determined in sync, determined drifted, or not determined. "Not checked" is never
/// shown as "in sync".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum DriftState {
    /// Drift detection completed and found every resource as the template says.
    InSync,
    /// Drift detection completed and found these resources modified or deleted.
    Drifted { resources: Vec<ResourceDrift> },
    /// Drift could not be determined (e.g. the endpoint does not implement drift detection,
    /// or detection did not finish); `reason` says why.
    NotChecked { reason: String },
}

impl DriftState {
    /// A short label: `in sync`, `drifted (N resources)`, `drift not checked`.
    pub fn label(&self) -> String {
        match self {
            DriftState::InSync => "in sync".to_owned(),
            DriftState::Drifted { resources } => match resources.len() {
                1 => "drifted (1 resource)".to_owned(),
                n => format!("drifted ({n} resources)"),
            },
            DriftState::NotChecked { .. } => "drift not checked".to_owned(),
        }
    }
}

/// One drifted resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    /// Property-level differences, sorted by path.
    pub differences: Vec<PropertyDifference>,
}

/// One property that differs from the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyDifference {
    /// JSON pointer of the property, e.g. `/VersioningConfiguration/Status`.
    pub path: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub kind: String,
}

/// Why a snapshot could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("stack snapshot is not valid JSON for {STACK_SNAPSHOT_SCHEMA}: {0}")]
    Malformed(String),
    #[error("stack snapshot has schema {0:?}; this version reads only {STACK_SNAPSHOT_SCHEMA:?}")]
    UnknownSchema(String),
    #[error("stack snapshot template digest {recorded} does not match its body ({actual})")]
    TemplateDigest { recorded: Sha256, actual: Sha256 },
    #[error("stack snapshot could not be encoded: {0}")]
    Encode(String),
}

impl StackSnapshot {
    /// Puts lists into their canonical order (outputs by key, resources by logical id, drift
    /// resources by logical id and differences by path). Events keep CloudFormation's order.
    pub fn normalise(&mut self) {
        self.outputs.sort_by(|a, b| a.key.cmp(&b.key));
        self.resources
            .sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        self.events.truncate(MAX_EVENTS);
        if let DriftState::Drifted { resources } = &mut self.drift {
            resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
            for r in resources {
                r.differences.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
    }

    /// The canonical encoding: RFC 8785 JSON of the normalised snapshot. The record's digest is
    /// [`Sha256::of`] these bytes.
    pub fn to_canonical_json(&self) -> Result<Vec<u8>, SnapshotError> {
        if self.schema != STACK_SNAPSHOT_SCHEMA {
            return Err(SnapshotError::UnknownSchema(self.schema.clone()));
        }
        let mut s = self.clone();
        s.normalise();
        serde_json_canonicalizer::to_vec(&s).map_err(|e| SnapshotError::Encode(e.to_string()))
    }

    /// Reads a stored snapshot, checking its schema and template digest.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
        let schema = value.get("schema").and_then(|v| v.as_str()).unwrap_or("");
        if schema != STACK_SNAPSHOT_SCHEMA {
            return Err(SnapshotError::UnknownSchema(schema.to_owned()));
        }
        let snap: StackSnapshot =
            serde_json::from_value(value).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
        let actual = Sha256::of(snap.template.body.as_bytes());
        if actual != snap.template.sha256 {
            return Err(SnapshotError::TemplateDigest {
                recorded: snap.template.sha256,
                actual,
            });
        }
        Ok(snap)
    }
}

/// What a run shows of the latest snapshot of the stack it qualifies. `status`, `drift` and
/// `template_sha256` come from the stored snapshot and are present only when it re-verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackSnapshotRef {
    /// `cloudformation://<region>/<stack-name>?snapshot=<taken-at>&run=<run>`.
    pub uri: String,
    /// SHA-256 of the canonical snapshot bytes in the store.
    pub sha256: Sha256,
    pub taken_at: String,
    pub stack_name: String,
    pub region: String,
    /// Whether the stored snapshot re-read matches its digest (and decodes).
    pub integrity: Integrity,
    pub status: Option<String>,
    pub drift: Option<DriftState>,
    pub template_sha256: Option<Sha256>,
}

impl StackSnapshotRef {
    /// The reference to a verified `snapshot`, stored as `uri` with digest `sha256`.
    pub fn verified(snapshot: &StackSnapshot, uri: String, sha256: Sha256) -> Self {
        Self {
            uri,
            sha256,
            taken_at: snapshot.taken_at.clone(),
            stack_name: snapshot.stack_name.clone(),
            region: snapshot.region.clone(),
            integrity: Integrity::Verified,
            status: Some(snapshot.status.clone()),
            drift: Some(snapshot.drift.clone()),
            template_sha256: Some(snapshot.template.sha256),
        }
    }

    /// A reference whose stored bytes could not be verified: only what the ledger URI says.
    pub fn unverified(uri: String, sha256: Sha256, integrity: Integrity) -> Self {
        let (region, stack_name, taken_at) = parse_snapshot_uri(&uri).unwrap_or_default();
        Self {
            uri,
            sha256,
            taken_at,
            stack_name,
            region,
            integrity,
            status: None,
            drift: None,
            template_sha256: None,
        }
    }
}

/// Splits a snapshot URI into region, stack name and time taken.
pub fn parse_snapshot_uri(uri: &str) -> Option<(String, String, String)> {
    let rest = uri.strip_prefix("cloudformation://")?;
    let (path, query) = rest.split_once('?')?;
    let (region, stack) = path.split_once('/')?;
    let taken = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("snapshot="))?;
    Some((region.to_owned(), stack.to_owned(), taken.to_owned()))
}

/// The ledger URI of a snapshot bound to a run: one record per run it qualifies.
pub fn snapshot_uri(region: &str, stack_name: &str, taken_at: &str, run: &str) -> String {
    format!("cloudformation://{region}/{stack_name}?snapshot={taken_at}&run={run}")
}

/// Whether a ledger URI names a stack snapshot.
pub fn is_snapshot_uri(uri: &str) -> bool {
    uri.starts_with("cloudformation://") && uri.contains("?snapshot=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> StackSnapshot {
        StackSnapshot {
            schema: STACK_SNAPSHOT_SCHEMA.to_owned(),
            taken_at: "2026-11-05T10:00:00Z".to_owned(),
            region: "us-east-1".to_owned(),
            stack_name: "lims-qual".to_owned(),
            stack_id: Some(
                "arn:aws:cloudformation:us-east-1:123456789012:stack/lims-qual/1".to_owned(),
            ),
            status: "CREATE_COMPLETE".to_owned(),
            status_reason: None,
            description: Some("LIMS – qualified stack".to_owned()),
            created_at: Some("2026-11-01T08:00:00Z".to_owned()),
            updated_at: None,
            parameters: [("Env".to_owned(), "qual".to_owned())]
                .into_iter()
                .collect(),
            outputs: vec![
                StackOutput {
                    key: "Topic".to_owned(),
                    value: Some("arn:t".to_owned()),
                    description: None,
                    export_name: None,
                },
                StackOutput {
                    key: "Bucket".to_owned(),
                    value: Some("b".to_owned()),
                    description: None,
                    export_name: Some("lims-bucket".to_owned()),
                },
            ],
            tags: [("system".to_owned(), "LIMS".to_owned())]
                .into_iter()
                .collect(),
            template: StackTemplate::new("{\"Resources\":{}}".to_owned()),
            resources: vec![StackResource {
                logical_id: "Bucket".to_owned(),
                physical_id: Some("b".to_owned()),
                resource_type: "AWS::S3::Bucket".to_owned(),
                status: "CREATE_COMPLETE".to_owned(),
                status_reason: None,
                last_updated: Some("2026-11-01T08:00:01Z".to_owned()),
            }],
            events: vec![StackEvent {
                event_id: "e1".to_owned(),
                timestamp: Some("2026-11-01T08:00:02Z".to_owned()),
                logical_id: Some("lims-qual".to_owned()),
                physical_id: None,
                resource_type: Some("AWS::CloudFormation::Stack".to_owned()),
                status: Some("CREATE_COMPLETE".to_owned()),
                status_reason: None,
            }],
            drift: DriftState::NotChecked {
                reason: "DetectStackDrift: not implemented".to_owned(),
            },
        }
    }

    const GOLDEN: &str = r#"{"created_at":"2026-11-01T08:00:00Z","description":"LIMS – qualified stack","drift":{"reason":"DetectStackDrift: not implemented","state":"not_checked"},"events":[{"event_id":"e1","logical_id":"lims-qual","physical_id":null,"resource_type":"AWS::CloudFormation::Stack","status":"CREATE_COMPLETE","status_reason":null,"timestamp":"2026-11-01T08:00:02Z"}],"outputs":[{"description":null,"export_name":"lims-bucket","key":"Bucket","value":"b"},{"description":null,"export_name":null,"key":"Topic","value":"arn:t"}],"parameters":{"Env":"qual"},"region":"us-east-1","resources":[{"last_updated":"2026-11-01T08:00:01Z","logical_id":"Bucket","physical_id":"b","resource_type":"AWS::S3::Bucket","status":"CREATE_COMPLETE","status_reason":null}],"schema":"countersign.stack-snapshot/v1","stack_id":"arn:aws:cloudformation:us-east-1:123456789012:stack/lims-qual/1","stack_name":"lims-qual","status":"CREATE_COMPLETE","status_reason":null,"tags":{"system":"LIMS"},"taken_at":"2026-11-05T10:00:00Z","template":{"body":"{\"Resources\":{}}","sha256":"ff1f86057e3b2b2a8dc5b8fb3b8f8d02e4689d05ed8db2c1b8f8779e2b0ef011"},"updated_at":null}"#;

    #[test]
    fn golden_vector_of_the_canonical_encoding() {
        let bytes = fixed().to_canonical_json().unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), GOLDEN);
        assert_eq!(
            Sha256::of(&bytes).to_hex(),
            "5c25d71791bebe96a95fa25e36a2e70dcd81f18e7184fef43ac53cf2d61408f3",
            "the v1 encoding is frozen"
        );
    }

    #[test]
    fn encoding_is_independent_of_list_order_and_round_trips() {
        let a = fixed();
        let mut b = fixed();
        b.outputs.reverse();
        assert_eq!(
            a.to_canonical_json().unwrap(),
            b.to_canonical_json().unwrap()
        );
        let bytes = a.to_canonical_json().unwrap();
        let back = StackSnapshot::from_json(&bytes).unwrap();
        assert_eq!(back.to_canonical_json().unwrap(), bytes);
        assert_eq!(back.drift.label(), "drift not checked");
    }

    #[test]
    fn refuses_other_schemas_unknown_fields_and_wrong_template_digests() {
        let bytes = fixed().to_canonical_json().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let other = text.replace("stack-snapshot/v1", "stack-snapshot/v9");
        assert!(matches!(
            StackSnapshot::from_json(other.as_bytes()),
            Err(SnapshotError::UnknownSchema(s)) if s == "countersign.stack-snapshot/v9"
        ));
        let extra = text.replacen('{', "{\"extra\":1,", 1);
        assert!(matches!(
            StackSnapshot::from_json(extra.as_bytes()),
            Err(SnapshotError::Malformed(m)) if m.contains("extra")
        ));
        let tampered = text.replace("{\\\"Resources\\\":{}}", "{\\\"Resources\\\":[]}");
        assert_ne!(tampered, text);
        assert!(matches!(
            StackSnapshot::from_json(tampered.as_bytes()),
            Err(SnapshotError::TemplateDigest { .. })
        ));
        assert!(matches!(
            StackSnapshot::from_json(b"{not json"),
            Err(SnapshotError::Malformed(_))
        ));
        let mut wrong = fixed();
        wrong.schema = "x".to_owned();
        assert!(wrong.to_canonical_json().is_err());
    }

    #[test]
    fn drift_labels_never_call_unchecked_in_sync() {
        assert_eq!(DriftState::InSync.label(), "in sync");
        let d = DriftState::Drifted {
            resources: vec![ResourceDrift {
                logical_id: "Bucket".into(),
                physical_id: None,
                resource_type: "AWS::S3::Bucket".into(),
                status: "MODIFIED".into(),
                differences: vec![],
            }],
        };
        assert_eq!(d.label(), "drifted (1 resource)");
        let n = DriftState::NotChecked { reason: "x".into() };
        assert_ne!(n.label(), DriftState::InSync.label());
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["state"], "not_checked");
    }

    #[test]
    fn snapshot_uris() {
        let u = snapshot_uri(
            "us-east-1",
            "lims-qual",
            "2026-11-05T10:00:00Z",
            "LIMS/IQ/r1",
        );
        assert_eq!(
            u,
            "cloudformation://us-east-1/lims-qual?snapshot=2026-11-05T10:00:00Z&run=LIMS/IQ/r1"
        );
        assert!(is_snapshot_uri(&u));
        assert_eq!(
            parse_snapshot_uri(&u),
            Some((
                "us-east-1".to_owned(),
                "lims-qual".to_owned(),
                "2026-11-05T10:00:00Z".to_owned()
            ))
        );
        assert_eq!(parse_snapshot_uri("s3://b/k"), None);
        assert!(!is_snapshot_uri("s3://b/k"));
    }
}
