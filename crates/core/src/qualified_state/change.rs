//! One change since approval, with the evidence behind it, and its id.

use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json;
use crate::cloudtrail::events::TrailEvent;
use crate::digest::Sha256;
use crate::signature::predicate::UtcTimestamp;

/// What kind of evidence found the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The stack now differs from its baseline snapshot (template, parameters, outputs,
    /// resources, status, drift).
    Stack,
    /// AWS Config recorded a resource's configuration different from the one before.
    Configuration,
    /// CloudTrail recorded a successful write call on a resource of the stack that no
    /// configuration item accounts for.
    ApiCall,
    /// AWS Config evaluated a resource of the stack NON_COMPLIANT with a rule.
    Compliance,
}

impl ChangeKind {
    /// How the kind reads in a list.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Stack => "stack",
            ChangeKind::Configuration => "configuration",
            ChangeKind::ApiCall => "API call",
            ChangeKind::Compliance => "compliance",
        }
    }
}

/// A resource a change is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// `AWS::S3::Bucket`, …
    pub resource_type: String,
    /// The resource id (AWS Config's, or CloudFormation's physical id, or an ARN).
    pub resource_id: String,
    /// A name, when there is one.
    pub name: Option<String>,
}

/// One field that differs: a JSON pointer and the values before and after, each as compact
/// JSON (`null` when the field is absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDiff {
    /// JSON pointer, e.g. `/supplementaryConfiguration/BucketPolicy/policyText`.
    pub path: String,
    /// The value before, compact JSON; absent when the field did not exist.
    pub before: Option<String>,
    /// The value after, compact JSON; absent when the field no longer exists.
    pub after: Option<String>,
}

/// A CloudTrail event as the findings show it: who, when, what call, from where, error or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    /// `eventTime`.
    pub time: UtcTimestamp,
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// `userIdentity.arn`.
    pub principal: Option<String>,
    /// `userIdentity.type`.
    pub principal_type: Option<String>,
    /// `userIdentity.invokedBy`.
    pub invoked_by: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// The resources the call names.
    pub resources: Vec<String>,
    /// `errorCode`, when the call failed.
    pub error_code: Option<String>,
    /// `errorMessage`, when the call failed.
    pub error_message: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// Whether the call only read (`readOnly`, or its name when the log does not say).
    pub read_only: bool,
    /// Key of the log file.
    pub log_key: String,
    /// Whether a validated digest covers the log file (its integrity is established).
    pub validated: bool,
}

/// Calls whose name says they only read, for events without `readOnly`.
const READ_PREFIXES: &[&str] = &[
    "Get", "Describe", "List", "Head", "Lookup", "BatchGet", "Scan", "Query", "Select", "Search",
];

impl EventRef {
    /// The event as the findings show it; `validated` says whether its log file is covered by
    /// a validated digest.
    pub fn of(e: &TrailEvent, validated: bool) -> Self {
        let read_only = e
            .read_only
            .unwrap_or_else(|| READ_PREFIXES.iter().any(|p| e.event_name.starts_with(p)));
        Self {
            time: UtcTimestamp::new(e.time),
            event_source: e.event_source.clone(),
            event_name: e.event_name.clone(),
            principal: e.principal_arn.clone(),
            principal_type: e.principal_type.clone(),
            invoked_by: e.invoked_by.clone(),
            source_ip: e.source_ip.clone(),
            region: e.region.clone(),
            resources: e.resources.clone(),
            error_code: e.error_code.clone(),
            error_message: e.error_message.clone(),
            event_id: e.event_id.clone(),
            read_only,
            log_key: e.log_key.clone(),
            validated,
        }
    }

    /// Who made the call, as a reviewer reads it.
    pub fn who(&self) -> &str {
        self.principal
            .as_deref()
            .or(self.invoked_by.as_deref())
            .or(self.principal_type.as_deref())
            .unwrap_or("unknown")
    }
}

/// The latest valid impact assessment of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRef {
    /// The change assessed.
    pub change: Sha256,
    /// The impact decided.
    pub impact: super::assessment::Impact,
    /// The change-control reference, when one was given.
    pub reference: Option<String>,
    /// The assessor's reason (the signature's).
    pub reason: String,
    /// The assessor's printed name.
    pub printed_name: String,
    /// The assessor's IAM ARN.
    pub iam_arn: String,
    /// When it was signed.
    pub signed_at: UtcTimestamp,
    /// The signature's envelope digest.
    pub envelope_sha256: Sha256,
}

/// One change since approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// SHA-256 of the canonical JSON of what identifies the change ([`Change::compute_id`]):
    /// stable from one check to the next while the evidence is the same.
    pub id: Sha256,
    /// What found it.
    pub kind: ChangeKind,
    /// When it happened (the call, the configuration capture, the stack's last update), when
    /// the evidence says.
    pub at: Option<UtcTimestamp>,
    /// The resource it is about.
    pub resource: Option<ResourceRef>,
    /// One line, e.g. `Bucket lims-raw: supplementaryConfiguration changed`.
    pub summary: String,
    /// Field by field, against the baseline or the configuration before.
    pub differences: Vec<FieldDiff>,
    /// The CloudTrail calls behind it.
    pub events: Vec<EventRef>,
    /// Where it was found: Config file keys, snapshot digests.
    pub source: Vec<String>,
    /// The latest valid assessment, when the change was assessed.
    pub assessment: Option<AssessmentRef>,
}

/// What a change's id covers: not its wording, its source files, its assessment or whether
/// its log files were validated, which may all change while the change stays the same.
#[derive(Serialize)]
struct Identity<'a> {
    kind: ChangeKind,
    at: Option<UtcTimestamp>,
    resource: Option<&'a ResourceRef>,
    differences: &'a [FieldDiff],
    events: Vec<EventIdentity<'a>>,
}

#[derive(Serialize)]
struct EventIdentity<'a> {
    event_id: Option<&'a str>,
    time: UtcTimestamp,
    event_source: &'a str,
    event_name: &'a str,
    principal: Option<&'a str>,
}

impl Change {
    /// A change with its id computed.
    pub fn new(
        kind: ChangeKind,
        at: Option<UtcTimestamp>,
        resource: Option<ResourceRef>,
        summary: String,
        differences: Vec<FieldDiff>,
        events: Vec<EventRef>,
        source: Vec<String>,
    ) -> Self {
        let mut c = Self {
            id: Sha256::of(b""),
            kind,
            at,
            resource,
            summary,
            differences,
            events,
            source,
            assessment: None,
        };
        c.id = c.compute_id();
        c
    }

    /// SHA-256 of the canonical JSON of `{kind, at, resource, differences, events}` where each
    /// event is `{event_id, time, event_source, event_name, principal}`.
    pub fn compute_id(&self) -> Sha256 {
        let identity = Identity {
            kind: self.kind,
            at: self.at,
            resource: self.resource.as_ref(),
            differences: &self.differences,
            events: self
                .events
                .iter()
                .map(|e| EventIdentity {
                    event_id: e.event_id.as_deref(),
                    time: e.time,
                    event_source: &e.event_source,
                    event_name: &e.event_name,
                    principal: e.principal.as_deref(),
                })
                .collect(),
        };
        // Strings, optional strings and arrays of them only: canonical JSON cannot fail here,
        // and a failure would still give a stable (if uninformative) id.
        Sha256::of(&canonical_json(&identity).unwrap_or_default())
    }
}
