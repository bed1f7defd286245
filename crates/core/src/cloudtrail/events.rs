//! CloudTrail log files (`{"Records":[…]}`) read into events, and the events that concern one
//! stack's resources within a time window.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::gunzip::gunzip;
use crate::report_error::{utf8, ReportError};

/// One recorded API call, as much of it as a reviewer needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrailEvent {
    /// `eventTime` (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// `userIdentity.arn`, when the caller has one (AWS services acting for themselves do not).
    pub principal_arn: Option<String>,
    /// `userIdentity.type` (`IAMUser`, `AssumedRole`, `AWSService`, `Root`, …).
    pub principal_type: Option<String>,
    /// `userIdentity.invokedBy`, when a service made the call on the caller's behalf.
    pub invoked_by: Option<String>,
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    pub event_source: String,
    /// `eventName`, e.g. `PutBucketPolicy`.
    pub event_name: String,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `sourceIPAddress` (an IP address, or a service name).
    pub source_ip: Option<String>,
    /// Resources the call names: `resources[].ARN`, then names and ARNs found in
    /// `requestParameters` (bucket, table, stack, role, queue, topic, function, log group, …).
    pub resources: Vec<String>,
    /// `errorCode`, when the call failed.
    pub error_code: Option<String>,
    /// `errorMessage`, when the call failed.
    pub error_message: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `readOnly`.
    pub read_only: Option<bool>,
    /// Key of the log file the event came from.
    pub log_key: String,
}

/// `requestParameters` fields that name a resource. Values are kept as given (names, ARNs or URLs).
const RESOURCE_PARAMETERS: &[&str] = &[
    "bucketName",
    "tableName",
    "stackName",
    "roleName",
    "roleArn",
    "queueUrl",
    "queueName",
    "topicArn",
    "functionName",
    "logGroupName",
    "resourceArn",
    "keyId",
    "secretId",
    "policyArn",
    "userName",
    "groupId",
];

/// Decompresses (with a size cap) and reads one log file. `key` names the file in errors.
pub fn read_log_file(key: &str, raw: &[u8], limit: u64) -> Result<Vec<TrailEvent>, ReportError> {
    let json = gunzip(key, raw, limit).map_err(|e| ReportError::whole(key, e.reason()))?;
    parse_log(key, &json)
}

/// Reads an uncompressed log file. Malformed JSON is reported with its line and column; a record
/// without `eventTime`, `eventSource` or `eventName` is reported with its index.
pub fn parse_log(key: &str, json: &[u8]) -> Result<Vec<TrailEvent>, ReportError> {
    let text = utf8(key, json)?;
    let doc: Value = serde_json::from_str(text).map_err(|e| ReportError::from_json(key, &e))?;
    let records = doc
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ReportError::whole(
                key,
                "not a CloudTrail log file: no top-level \"Records\" array",
            )
        })?;
    records
        .iter()
        .enumerate()
        .map(|(i, r)| event(key, i, r))
        .collect()
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn event(key: &str, index: usize, r: &Value) -> Result<TrailEvent, ReportError> {
    let required = |field: &str| {
        text(r, field).ok_or_else(|| {
            ReportError::whole(
                key,
                format!(
                    "Records[{index}] has no \"{field}\" string; the log file is not CloudTrail's"
                ),
            )
        })
    };
    let time_text = required("eventTime")?;
    let time = OffsetDateTime::parse(&time_text, &Rfc3339).map_err(|e| {
        ReportError::whole(
            key,
            format!("Records[{index}].eventTime {time_text:?} is not an RFC 3339 time: {e}"),
        )
    })?;
    let identity = r.get("userIdentity");
    let mut resources: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !resources.iter().any(|r| r == s) {
            resources.push(s.to_owned());
        }
    };
    if let Some(list) = r.get("resources").and_then(Value::as_array) {
        for res in list {
            if let Some(arn) = res
                .get("ARN")
                .or_else(|| res.get("arn"))
                .and_then(Value::as_str)
            {
                add(arn);
            }
        }
    }
    if let Some(params) = r.get("requestParameters").and_then(Value::as_object) {
        for field in RESOURCE_PARAMETERS {
            if let Some(v) = params.get(*field).and_then(Value::as_str) {
                add(v);
            }
        }
    }
    Ok(TrailEvent {
        time: time.to_offset(time::UtcOffset::UTC),
        principal_arn: identity.and_then(|i| text(i, "arn")),
        principal_type: identity.and_then(|i| text(i, "type")),
        invoked_by: identity.and_then(|i| text(i, "invokedBy")),
        event_source: required("eventSource")?,
        event_name: required("eventName")?,
        region: text(r, "awsRegion"),
        source_ip: text(r, "sourceIPAddress"),
        resources,
        error_code: text(r, "errorCode"),
        error_message: text(r, "errorMessage"),
        event_id: text(r, "eventID"),
        read_only: r.get("readOnly").and_then(Value::as_bool),
        log_key: key.to_owned(),
    })
}

/// Which events concern a stack: those naming any of its identifiers (stack name and ARN, the
/// physical ids, names and ARNs of its resources), within an optional time window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventScope {
    /// Names, physical ids and ARNs; compared exactly. An S3 bucket ARN also matches the ARNs of
    /// the objects in it (`arn:aws:s3:::bucket/key`).
    pub identifiers: BTreeSet<String>,
    /// Earliest event time included.
    #[serde(with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Latest event time included.
    #[serde(with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

impl EventScope {
    /// Whether `event` falls in the window and names one of the identifiers.
    pub fn matches(&self, event: &TrailEvent) -> bool {
        if self.from.is_some_and(|from| event.time < from)
            || self.to.is_some_and(|to| event.time > to)
        {
            return false;
        }
        event.resources.iter().any(|r| {
            self.identifiers.contains(r)
                || r.strip_prefix("arn:aws:s3:::")
                    .and_then(|rest| rest.split_once('/'))
                    .is_some_and(|(bucket, _)| {
                        self.identifiers.contains(&format!("arn:aws:s3:::{bucket}"))
                    })
        })
    }

    /// The events in scope, in time order (stable for equal times).
    pub fn select<'a>(&self, events: &'a [TrailEvent]) -> Vec<&'a TrailEvent> {
        let mut out: Vec<&TrailEvent> = events.iter().filter(|e| self.matches(e)).collect();
        out.sort_by_key(|e| e.time);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{"Records":[
      {"eventTime":"2026-11-02T09:14:03Z","eventSource":"s3.amazonaws.com","eventName":"GetBucketPolicy",
       "awsRegion":"eu-west-1","sourceIPAddress":"10.20.3.117",
       "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/r/s"},
       "requestParameters":{"bucketName":"lims-raw","Host":"lims-raw.s3.amazonaws.com"},
       "resources":[{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::lims-raw"}],
       "errorCode":"NoSuchBucketPolicy","errorMessage":"The bucket policy does not exist",
       "eventID":"e1","readOnly":true},
      {"eventTime":"2026-11-02T08:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",
       "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/dana"},"requestParameters":null},
      {"eventTime":"2026-11-03T10:00:00+02:00","eventSource":"s3.amazonaws.com","eventName":"GetObject",
       "userIdentity":{"type":"AWSService","invokedBy":"config.amazonaws.com"},
       "resources":[{"ARN":"arn:aws:s3:::lims-raw/a/b.txt"}]}
    ]}"#;

    #[test]
    fn reads_every_field_a_reviewer_needs() {
        let events = parse_log("k.json", LOG.as_bytes()).unwrap();
        assert_eq!(events.len(), 3);
        let e = &events[0];
        assert_eq!(e.event_name, "GetBucketPolicy");
        assert_eq!(e.event_source, "s3.amazonaws.com");
        assert_eq!(e.principal_type.as_deref(), Some("AssumedRole"));
        assert_eq!(
            e.principal_arn.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/r/s")
        );
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
        assert_eq!(e.source_ip.as_deref(), Some("10.20.3.117"));
        assert_eq!(e.resources, vec!["arn:aws:s3:::lims-raw", "lims-raw"]);
        assert_eq!(e.error_code.as_deref(), Some("NoSuchBucketPolicy"));
        assert_eq!(e.read_only, Some(true));
        assert_eq!(e.log_key, "k.json");
        assert_eq!(events[2].time.offset(), time::UtcOffset::UTC);
        assert_eq!(events[2].time.hour(), 8);
        assert_eq!(
            events[2].invoked_by.as_deref(),
            Some("config.amazonaws.com")
        );
    }

    #[test]
    fn scope_selects_by_identifier_and_window_in_time_order() {
        let events = parse_log("k.json", LOG.as_bytes()).unwrap();
        let mut scope = EventScope {
            identifiers: ["arn:aws:s3:::lims-raw".to_owned()].into(),
            ..EventScope::default()
        };
        let names: Vec<&str> = scope
            .select(&events)
            .iter()
            .map(|e| e.event_name.as_str())
            .collect();
        assert_eq!(names, ["GetBucketPolicy", "GetObject"]);
        scope.to = Some(time::macros::datetime!(2026-11-02 23:59:59 UTC));
        assert_eq!(scope.select(&events).len(), 1);
        scope.from = Some(time::macros::datetime!(2026-11-02 09:14:04 UTC));
        assert!(scope.select(&events).is_empty());
        let by_name = EventScope {
            identifiers: ["lims-raw".to_owned()].into(),
            ..EventScope::default()
        };
        assert_eq!(by_name.select(&events).len(), 1);
    }

    #[test]
    fn malformed_json_names_file_line_and_column() {
        let e = parse_log(
            "AWSLogs/x.json.gz",
            b"{\"Records\":[\n  {\"eventTime\": }\n]}",
        )
        .unwrap_err();
        assert_eq!(e.path, "AWSLogs/x.json.gz");
        assert_eq!((e.line, e.column), (Some(2), Some(17)));
    }

    #[test]
    fn wrong_shapes_are_named() {
        let e = parse_log("k", b"{\"records\":[]}").unwrap_err();
        assert!(e.message.contains("\"Records\""), "{e}");
        let e = parse_log(
            "k",
            br#"{"Records":[{"eventTime":"2026-11-02T09:14:03Z","eventSource":"s3"}]}"#,
        )
        .unwrap_err();
        assert!(
            e.message.contains("Records[0]") && e.message.contains("eventName"),
            "{e}"
        );
        let e = parse_log(
            "k",
            br#"{"Records":[{"eventTime":"yesterday","eventSource":"s3","eventName":"X"}]}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("\"yesterday\""), "{e}");
        let e = read_log_file("k.json.gz", b"not gzip", 1000).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("k.json.gz: not a valid gzip file"),
            "{e}"
        );
    }
}
