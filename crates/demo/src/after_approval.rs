//! Life after approval: what the account records in the weeks after the demo systems are
//! approved (docs/qualified-state.md).
//!
//! - On `lims-qual`, two weeks after approval, jo.tanaka opens SSH to the world on the stack's
//!   security group: a CloudTrail `AuthorizeSecurityGroupIngress` write call, an AWS Config
//!   history item with the new rule (naming the call in `relatedEvents`), and the
//!   `restricted-ssh` rule evaluating the group NON_COMPLIANT.
//! - `eln-qual` stays quiet: monitoring reads its stack and the application reads its parameter
//!   every other day; nothing writes.
//! - CloudTrail logging is stopped for eight hours ([`LOGGING_STOPPED`]): no log or digest file
//!   covers that period, and the digest chain starts again after it.
//!
//! The dates are fixed, like the rest of the demo: a system approved by
//! [`APPROVE_BEFORE`] sees all of it; one approved later sees only what follows its approval.

use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::cloudtrail::{gzip, rfc3339};
use crate::{DemoError, DemoObject, DemoOptions};

/// Approve the demo systems before this time to see their whole life after approval.
pub const APPROVE_BEFORE: OffsetDateTime = datetime!(2026-11-06 00:00 UTC);
/// CloudTrail logging stopped (start inclusive, end exclusive), on digest-hour boundaries.
pub const LOGGING_STOPPED: (OffsetDateTime, OffsetDateTime) = (
    datetime!(2026-11-10 22:01:31 UTC),
    datetime!(2026-11-11 06:01:31 UTC),
);
/// The trail's digests reach until here.
pub const EVIDENCE_UNTIL: OffsetDateTime = datetime!(2026-11-21 00:01:31 UTC);
/// The security group of `lims-qual` (as AWS Config and CloudTrail name it).
pub const LIMS_SECURITY_GROUP: &str = "sg-0c3f9a1e7b2d45e86";
/// When SSH was opened to the world on it.
pub const SSH_OPENED_AT: OffsetDateTime = datetime!(2026-11-19 15:12:30 UTC);
/// Who opened it.
pub const SSH_OPENED_BY: &str = "jo.tanaka";
/// When AWS Config recorded the new rule.
pub const SSH_RECORDED_AT: OffsetDateTime = datetime!(2026-11-19 15:19:04 UTC);
/// The Config rule that finds the group NON_COMPLIANT.
pub const SSH_RULE: &str = "restricted-ssh";

/// Whether CloudTrail was logging at `t`.
pub fn logging_at(t: OffsetDateTime) -> bool {
    !(t >= LOGGING_STOPPED.0 && t < LOGGING_STOPPED.1)
}

/// One call of the life after approval: time, user (or role/session), source, name,
/// parameters, resources.
pub(crate) struct Call {
    pub time: OffsetDateTime,
    pub who: Who,
    pub source: &'static str,
    pub name: &'static str,
    pub params: Value,
    pub resources: Vec<(&'static str, String)>,
}

/// Who made a call.
pub(crate) enum Who {
    User(&'static str),
    Role(&'static str, &'static str),
}

/// The calls after approval, in time order.
pub(crate) fn calls(options: &DemoOptions) -> Vec<Call> {
    let region = &options.region;
    let account = &options.account_id;
    let sg_arn = format!("arn:aws:ec2:{region}:{account}:security-group/{LIMS_SECURITY_GROUP}");
    let param = "/gxp/eln/qual/config";
    let param_arn = format!("arn:aws:ssm:{region}:{account}:parameter{param}");
    let mut out = Vec::new();
    let mut day = datetime!(2026-11-07 09:14:05 UTC);
    while day < EVIDENCE_UNTIL - Duration::hours(12) {
        if logging_at(day) {
            out.push(Call {
                time: day,
                who: Who::Role("cw-monitoring", "grafana-poller"),
                source: "cloudformation.amazonaws.com",
                name: "DescribeStacks",
                params: json!({"stackName": "eln-qual"}),
                resources: Vec::new(),
            });
            out.push(Call {
                time: day + Duration::minutes(2),
                who: Who::Role("eln-qual-ApiFunctionRole-2QZ8V5L1K7WD", "eln-api"),
                source: "ssm.amazonaws.com",
                name: "GetParameter",
                params: json!({"name": param}),
                resources: vec![("AWS::SSM::Parameter", param_arn.clone())],
            });
        }
        day += Duration::days(2);
    }
    out.push(Call {
        time: SSH_OPENED_AT - Duration::minutes(3),
        who: Who::User(SSH_OPENED_BY),
        source: "ec2.amazonaws.com",
        name: "DescribeSecurityGroups",
        params: json!({"groupId": LIMS_SECURITY_GROUP}),
        resources: Vec::new(),
    });
    out.push(Call {
        time: SSH_OPENED_AT,
        who: Who::User(SSH_OPENED_BY),
        source: "ec2.amazonaws.com",
        name: "AuthorizeSecurityGroupIngress",
        params: json!({
            "groupId": LIMS_SECURITY_GROUP,
            "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "temporary vendor access"}]}}]}
        }),
        resources: vec![("AWS::EC2::SecurityGroup", sg_arn)],
    });
    out.sort_by_key(|c| c.time);
    out
}

fn group(options: &DemoOptions, ssh_open: bool) -> Value {
    let mut permissions = vec![json!({
        "fromPort": 443, "ipProtocol": "tcp", "toPort": 443,
        "ipv4Ranges": [{"cidrIp": "10.20.0.0/16"}], "ipRanges": ["10.20.0.0/16"],
        "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []
    })];
    if ssh_open {
        permissions.push(json!({
            "fromPort": 22, "ipProtocol": "tcp", "toPort": 22,
            "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "temporary vendor access"}],
            "ipRanges": ["0.0.0.0/0"], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []
        }));
    }
    json!({
        "description": "LIMS application tier",
        "groupName": "lims-qual-AppSecurityGroup-1M2ZQ7H4K9XBD",
        "ownerId": options.account_id,
        "groupId": LIMS_SECURITY_GROUP,
        "ipPermissions": permissions,
        "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []}],
        "vpcId": "vpc-0a8e41c2d9f3b7165"
    })
}

/// The AWS Config history file of the security group: discovered with the stack, then the
/// rule opened (naming the call that did it, `ssh_event_id`), and the `restricted-ssh`
/// evaluations before and after.
pub(crate) fn config_history(
    options: &DemoOptions,
    ssh_event_id: &str,
) -> Result<DemoObject, DemoError> {
    let region = &options.region;
    let account = &options.account_id;
    let arn = format!("arn:aws:ec2:{region}:{account}:security-group/{LIMS_SECURITY_GROUP}");
    let created = datetime!(2026-11-02 08:43:51 UTC);
    let stack_arn = format!(
        "arn:aws:cloudformation:{region}:{account}:stack/lims-qual/5b1e0c70-b8a1-11f1-9c3e-0e8f2a41d7b3"
    );
    let tags = json!({
        "System": "LIMS", "Environment": "qual", "DataClassification": "GxP-Restricted", "GxP": "true",
        "aws:cloudformation:stack-name": "lims-qual",
        "aws:cloudformation:logical-id": "AppSecurityGroup"
    });
    let item = |at: OffsetDateTime,
                status: &str,
                open: bool,
                events: Vec<String>|
     -> Result<Value, DemoError> {
        Ok(json!({
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": rfc3339(at)?,
            "configurationStateId": at.unix_timestamp() * 1000,
            "awsAccountId": account,
            "configurationItemStatus": status,
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": LIMS_SECURITY_GROUP,
            "resourceName": "lims-qual-AppSecurityGroup-1M2ZQ7H4K9XBD",
            "ARN": arn,
            "awsRegion": region,
            "availabilityZone": "Not Applicable",
            "resourceCreationTime": rfc3339(created)?,
            "tags": tags,
            "relatedEvents": events,
            "relationships": [{"resourceType": "AWS::CloudFormation::Stack", "resourceId": stack_arn, "resourceName": "lims-qual", "relationshipName": "Is contained in "}],
            "configuration": group(options, open),
            "supplementaryConfiguration": {}
        }))
    };
    let compliance = |at: OffsetDateTime, verdict: &str| -> Result<Value, DemoError> {
        Ok(json!({
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": rfc3339(at)?,
            "configurationStateId": at.unix_timestamp() * 1000,
            "awsAccountId": account,
            "configurationItemStatus": "OK",
            "resourceType": "AWS::Config::ResourceCompliance",
            "resourceId": format!("AWS::EC2::SecurityGroup/{LIMS_SECURITY_GROUP}"),
            "awsRegion": region,
            "relatedEvents": [],
            "relationships": [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": LIMS_SECURITY_GROUP, "relationshipName": "Is associated with "}],
            "configuration": {
                "complianceType": verdict, "resourceType": "AWS::EC2::SecurityGroup", "resourceId": LIMS_SECURITY_GROUP,
                "configRuleList": [
                    {"configRuleName": SSH_RULE, "complianceType": verdict, "configRuleArn": format!("arn:aws:config:{region}:{account}:config-rule/config-rule-x1k9qe")},
                    {"configRuleName": "vpc-sg-open-only-to-authorized-ports", "complianceType": "COMPLIANT"}
                ]
            },
            "supplementaryConfiguration": {}
        }))
    };
    let items = vec![
        item(
            created + Duration::minutes(4),
            "ResourceDiscovered",
            false,
            vec![],
        )?,
        compliance(created + Duration::minutes(20), "COMPLIANT")?,
        item(SSH_RECORDED_AT, "OK", true, vec![ssh_event_id.to_owned()])?,
        compliance(SSH_RECORDED_AT + Duration::minutes(12), "NON_COMPLIANT")?,
    ];
    let body = serde_json::to_vec(&json!({"fileVersion": "1.0", "configurationItems": items}))
        .map_err(DemoError::Encode)?;
    let delivered = SSH_RECORDED_AT + Duration::hours(6);
    let stamp = delivered
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(DemoError::Time)?;
    let key = format!(
        "AWSLogs/{account}/Config/{region}/{}/{}/{}/ConfigHistory/{account}_Config_{region}_ConfigHistory_AWS::EC2::SecurityGroup_{stamp}_{stamp}_1.json.gz",
        delivered.year(),
        u8::from(delivered.month()),
        delivered.day()
    );
    Ok(DemoObject {
        key,
        body: gzip(&body)?,
        content_type: "application/gzip".to_owned(),
        metadata: Vec::new(),
    })
}
