//! AWS Config configuration items, from the snapshot and history files AWS Config delivers to S3
//! (`AWSLogs/<account>/Config/<region>/YYYY/M/D/ConfigSnapshot|ConfigHistory/…json.gz`), and
//! the items that belong to one CloudFormation stack.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cloudtrail::gunzip::gunzip;
use crate::report_error::{utf8, ReportError};

/// The resource type of a CloudFormation stack in AWS Config.
pub const STACK_RESOURCE_TYPE: &str = "AWS::CloudFormation::Stack";
/// The tag CloudFormation puts on the resources it creates.
pub const STACK_NAME_TAG: &str = "aws:cloudformation:stack-name";

/// A relationship of a configuration item to another resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relationship {
    /// E.g. `Contains`, `Is contained in` (trimmed).
    pub name: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
}

/// One configuration item: the recorded state of one resource at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigItem {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    #[serde(rename = "arn")]
    pub arn: Option<String>,
    pub aws_region: Option<String>,
    pub account_id: Option<String>,
    /// `configurationItemCaptureTime` as written.
    pub capture_time: Option<String>,
    /// `resourceCreationTime` as written.
    pub resource_creation_time: Option<String>,
    /// `configurationItemStatus` (`OK`, `ResourceDiscovered`, `ResourceDeleted`, …).
    pub status: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub relationships: Vec<Relationship>,
    /// The resource's configuration as AWS Config recorded it.
    pub configuration: Value,
    /// `supplementaryConfiguration` (for S3 buckets: versioning, encryption, public access
    /// block, bucket policy, …); members delivered as JSON strings are read as JSON.
    pub supplementary_configuration: Value,
    /// `relatedEvents`: the CloudTrail event ids of the calls that caused this item.
    pub related_events: Vec<String>,
    /// Key of the file the item came from.
    pub source_key: String,
}

/// Decompresses (with a size cap) and reads one snapshot or history file.
pub fn read_config_file(key: &str, raw: &[u8], limit: u64) -> Result<Vec<ConfigItem>, ReportError> {
    let json = gunzip(key, raw, limit).map_err(|e| ReportError::whole(key, e.reason()))?;
    parse_config_file(key, &json)
}

/// Reads an uncompressed snapshot or history file (`{"configurationItems":[…]}`). Malformed JSON
/// is reported with line and column; an item without `resourceType` or `resourceId` by index.
pub fn parse_config_file(key: &str, json: &[u8]) -> Result<Vec<ConfigItem>, ReportError> {
    let text = utf8(key, json)?;
    let doc: Value = serde_json::from_str(text).map_err(|e| ReportError::from_json(key, &e))?;
    let items = doc
        .get("configurationItems")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ReportError::whole(
                key,
                "not an AWS Config snapshot or history file: no \"configurationItems\" array",
            )
        })?;
    items
        .iter()
        .enumerate()
        .map(|(i, v)| item(key, i, v))
        .collect()
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn item(key: &str, index: usize, v: &Value) -> Result<ConfigItem, ReportError> {
    let required = |field: &str| {
        text(v, field).ok_or_else(|| {
            ReportError::whole(
                key,
                format!("configurationItems[{index}] has no \"{field}\" string"),
            )
        })
    };
    let tags = v
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, t)| {
                    (
                        k.clone(),
                        t.as_str().map_or_else(|| t.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let relationships = v
        .get("relationships")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|r| Relationship {
                    name: text(r, "relationshipName")
                        .or_else(|| text(r, "name"))
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    resource_type: text(r, "resourceType"),
                    resource_id: text(r, "resourceId"),
                    resource_name: text(r, "resourceName"),
                })
                .collect()
        })
        .unwrap_or_default();
    // History files may carry the configuration as a JSON string.
    let configuration = match v.get("configuration") {
        Some(Value::String(s)) => json_or_text(s),
        Some(c) => c.clone(),
        None => Value::Null,
    };
    // Supplementary members often arrive as JSON strings (`"BucketPolicy": "{…}"`).
    let supplementary_configuration = match v.get("supplementaryConfiguration") {
        Some(Value::Object(m)) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => json_or_text(s),
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Some(Value::String(s)) => json_or_text(s),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let related_events = v
        .get("relatedEvents")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(ConfigItem {
        resource_type: required("resourceType")?,
        resource_id: required("resourceId")?,
        resource_name: text(v, "resourceName"),
        arn: text(v, "ARN").or_else(|| text(v, "arn")),
        aws_region: text(v, "awsRegion"),
        account_id: text(v, "awsAccountId"),
        capture_time: text(v, "configurationItemCaptureTime"),
        resource_creation_time: text(v, "resourceCreationTime"),
        status: text(v, "configurationItemStatus"),
        tags,
        relationships,
        configuration,
        supplementary_configuration,
        related_events,
        source_key: key.to_owned(),
    })
}

/// A JSON object or array written as a string, read as JSON; any other text stays text.
fn json_or_text(s: &str) -> Value {
    match serde_json::from_str::<Value>(s) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(s.to_owned()),
    }
}

/// A stack and its resources as AWS Config recorded them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackResources {
    pub stack_name: String,
    /// The stack's ARN, when its own item was recorded.
    pub stack_arn: Option<String>,
    /// The stack's creation time, when recorded.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Every name, physical id and ARN of the stack and its resources.
    pub identifiers: BTreeSet<String>,
    /// The items of the stack and its resources, in file order.
    pub items: Vec<ConfigItem>,
}

/// The items of stack `stack` (by name or ARN): the stack's own item, items the stack
/// `Contains`, items that are `contained in` it, and items tagged
/// `aws:cloudformation:stack-name = <name>`.
pub fn stack_resources(items: &[ConfigItem], stack: &str) -> StackResources {
    let is_stack = |i: &ConfigItem| {
        i.resource_type == STACK_RESOURCE_TYPE
            && (i.resource_name.as_deref() == Some(stack)
                || i.resource_id == stack
                || i.arn.as_deref() == Some(stack))
    };
    let own: Vec<&ConfigItem> = items.iter().filter(|i| is_stack(i)).collect();
    let stack_name = own
        .iter()
        .find_map(|i| i.resource_name.clone())
        .unwrap_or_else(|| stack.to_owned());
    let stack_ids: BTreeSet<&str> = own
        .iter()
        .flat_map(|i| [Some(i.resource_id.as_str()), i.arn.as_deref()])
        .flatten()
        .chain([stack, stack_name.as_str()])
        .collect();
    let contained: BTreeSet<(&str, &str)> = own
        .iter()
        .flat_map(|i| &i.relationships)
        .filter_map(|r| Some((r.resource_type.as_deref()?, r.resource_id.as_deref()?)))
        .collect();
    let selected: Vec<ConfigItem> = items
        .iter()
        .filter(|i| {
            is_stack(i)
                || contained.contains(&(i.resource_type.as_str(), i.resource_id.as_str()))
                || i.tags.get(STACK_NAME_TAG).map(String::as_str) == Some(stack_name.as_str())
                || i.relationships.iter().any(|r| {
                    r.resource_type.as_deref() == Some(STACK_RESOURCE_TYPE)
                        && r.resource_id
                            .as_deref()
                            .is_some_and(|id| stack_ids.contains(id))
                })
        })
        .cloned()
        .collect();
    let mut identifiers: BTreeSet<String> = stack_ids.iter().map(|s| (*s).to_owned()).collect();
    for i in &selected {
        identifiers.insert(i.resource_id.clone());
        identifiers.extend(i.resource_name.clone());
        identifiers.extend(i.arn.clone());
    }
    identifiers.retain(|s| !s.is_empty());
    let created_at = own
        .iter()
        .filter_map(|i| i.resource_creation_time.as_deref())
        .filter_map(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .min();
    StackResources {
        stack_arn: own.iter().find_map(|i| i.arn.clone()),
        stack_name,
        created_at,
        identifiers,
        items: selected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = r#"{"fileVersion":"1.0","configSnapshotId":"s1","configurationItems":[
      {"resourceType":"AWS::CloudFormation::Stack","resourceId":"arn:aws:cloudformation:eu-west-1:123456789012:stack/lims-qual/u1",
       "resourceName":"lims-qual","ARN":"arn:aws:cloudformation:eu-west-1:123456789012:stack/lims-qual/u1",
       "configurationItemCaptureTime":"2026-11-05T00:00:00Z","configurationItemStatus":"OK",
       "resourceCreationTime":"2026-11-01T10:00:00Z","tags":{"System":"LIMS"},
       "relationships":[{"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","resourceName":"lims-raw","relationshipName":"Contains "}],
       "configuration":{"stackStatus":"CREATE_COMPLETE"}},
      {"resourceType":"AWS::S3::Bucket","resourceId":"lims-raw","resourceName":"lims-raw","ARN":"arn:aws:s3:::lims-raw",
       "tags":{"aws:cloudformation:stack-name":"lims-qual"},"configuration":{"versioning":"Enabled"},
       "relatedEvents":["e-1"],
       "supplementaryConfiguration":{"BucketPolicy":"{\"policyText\":null}","PublicAccessBlockConfiguration":{"blockPublicAcls":true},"Note":"plain"}},
      {"resourceType":"AWS::SQS::Queue","resourceId":"https://sqs/q","ARN":"arn:aws:sqs:eu-west-1:123456789012:q",
       "relationships":[{"resourceType":"AWS::CloudFormation::Stack","resourceId":"arn:aws:cloudformation:eu-west-1:123456789012:stack/lims-qual/u1","relationshipName":"Is contained in "}],
       "configuration":"{\"VisibilityTimeout\":30}"},
      {"resourceType":"AWS::S3::Bucket","resourceId":"eln-raw","resourceName":"eln-raw","tags":{"aws:cloudformation:stack-name":"eln-qual"}}
    ]}"#;

    #[test]
    fn reads_items_with_tags_relationships_and_configuration() {
        let items = parse_config_file("c.json", SNAPSHOT.as_bytes()).unwrap();
        assert_eq!(items.len(), 4);
        let stack = &items[0];
        assert_eq!(stack.resource_type, STACK_RESOURCE_TYPE);
        assert_eq!(stack.status.as_deref(), Some("OK"));
        assert_eq!(stack.capture_time.as_deref(), Some("2026-11-05T00:00:00Z"));
        assert_eq!(stack.tags.get("System").map(String::as_str), Some("LIMS"));
        assert_eq!(stack.relationships[0].name, "Contains");
        assert_eq!(stack.configuration["stackStatus"], "CREATE_COMPLETE");
        assert_eq!(items[2].configuration["VisibilityTimeout"], 30);
        let bucket = &items[1];
        assert_eq!(bucket.related_events, ["e-1"]);
        let sup = &bucket.supplementary_configuration;
        assert_eq!(sup["BucketPolicy"]["policyText"], Value::Null);
        assert_eq!(
            sup["PublicAccessBlockConfiguration"]["blockPublicAcls"],
            true
        );
        assert_eq!(sup["Note"], "plain");
        assert_eq!(items[0].supplementary_configuration, Value::Null);
        assert_eq!(items[1].source_key, "c.json");
    }

    #[test]
    fn selects_a_stack_by_name_or_arn_with_its_identifiers() {
        let items = parse_config_file("c.json", SNAPSHOT.as_bytes()).unwrap();
        for wanted in [
            "lims-qual",
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/lims-qual/u1",
        ] {
            let s = stack_resources(&items, wanted);
            assert_eq!(s.stack_name, "lims-qual");
            let ids: Vec<&str> = s.items.iter().map(|i| i.resource_id.as_str()).collect();
            assert_eq!(ids.len(), 3, "{ids:?}");
            assert!(ids.contains(&"lims-raw") && ids.contains(&"https://sqs/q"));
            assert!(s.identifiers.contains("arn:aws:s3:::lims-raw"));
            assert!(s.identifiers.contains("lims-qual"));
            assert!(!s.identifiers.contains("eln-raw"));
            assert_eq!(
                s.created_at,
                Some(time::macros::datetime!(2026-11-01 10:00:00 UTC))
            );
        }
        let unknown = stack_resources(&items, "nope");
        assert!(unknown.items.is_empty() && unknown.stack_arn.is_none());
    }

    #[test]
    fn bad_config_files_name_file_and_position() {
        let e =
            parse_config_file("AWSLogs/c.json.gz", b"{\n\"configurationItems\": [,]}").unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.line, e.column),
            ("AWSLogs/c.json.gz", Some(2), Some(24))
        );
        let e = parse_config_file("k", b"{\"fileVersion\":\"1.0\"}").unwrap_err();
        assert!(e.message.contains("configurationItems"), "{e}");
        let e = parse_config_file("k", br#"{"configurationItems":[{"resourceType":"X"}]}"#)
            .unwrap_err();
        assert!(
            e.message.contains("configurationItems[0]") && e.message.contains("resourceId"),
            "{e}"
        );
        let e = read_config_file("k.json.gz", b"", 10).unwrap_err();
        assert!(e.to_string().contains("not a valid gzip file"), "{e}");
    }
}
