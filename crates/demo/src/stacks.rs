//! The two qualified stacks: their templates, and the resources they created, as CloudTrail and
//! AWS Config recorded them. Physical names match the run evidence (`stack-resources.json`,
//! `eln-config-export.json`).

use serde_json::{json, Value};

use crate::embedded::{ELN_TEMPLATE, LIMS_TEMPLATE};
use crate::DemoStack;

/// A resource of a demo stack.
pub(crate) struct Resource {
    pub logical_id: &'static str,
    pub resource_type: &'static str,
    /// The resource id AWS Config uses (bucket name, queue URL, topic ARN, role id, …).
    pub resource_id: String,
    pub resource_name: String,
    pub arn: String,
    /// (eventSource, eventName, requestParameters) of the calls that created it.
    pub create_calls: Vec<(&'static str, &'static str, Value)>,
    pub configuration: Value,
    pub supplementary: Value,
}

/// A stack, its creation and who created it.
pub(crate) struct StackSpec {
    pub name: &'static str,
    pub system: &'static str,
    pub stack_uuid: &'static str,
    pub created_at: time::OffsetDateTime,
    pub creator_user: &'static str,
    pub template_body: &'static str,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub resources: Vec<Resource>,
}

impl StackSpec {
    pub fn stack_arn(&self, region: &str, account: &str) -> String {
        format!(
            "arn:aws:cloudformation:{region}:{account}:stack/{}/{}",
            self.name, self.stack_uuid
        )
    }

    pub fn to_demo_stack(&self) -> DemoStack {
        DemoStack {
            name: self.name.to_owned(),
            system: self.system.to_owned(),
            template_body: self.template_body.to_owned(),
            parameters: self.parameters.clone(),
            tags: self.tags.clone(),
        }
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn bucket(logical_id: &'static str, name: &str, tags: &[(&str, &str)]) -> Resource {
    let tag_set: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Resource {
        logical_id,
        resource_type: "AWS::S3::Bucket",
        resource_id: name.to_owned(),
        resource_name: name.to_owned(),
        arn: format!("arn:aws:s3:::{name}"),
        create_calls: vec![
            (
                "s3.amazonaws.com",
                "CreateBucket",
                json!({"bucketName": name, "Host": format!("{name}.s3.amazonaws.com")}),
            ),
            (
                "s3.amazonaws.com",
                "PutBucketEncryption",
                json!({"bucketName": name, "ServerSideEncryptionConfiguration": {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}}}),
            ),
            (
                "s3.amazonaws.com",
                "PutBucketVersioning",
                json!({"bucketName": name, "VersioningConfiguration": {"Status": "Enabled"}}),
            ),
            (
                "s3.amazonaws.com",
                "PutBucketPublicAccessBlock",
                json!({"bucketName": name, "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
            ),
            (
                "s3.amazonaws.com",
                "PutBucketTagging",
                json!({"bucketName": name, "Tagging": {"TagSet": {"Tag": tag_set}}}),
            ),
        ],
        configuration: json!({"name": name, "owner": {"displayName": null, "id": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"}}),
        supplementary: json!({
            "BucketVersioningConfiguration": {"status": "Enabled", "isMfaDeleteEnabled": null},
            "ServerSideEncryptionConfiguration": {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256", "kmsMasterKeyID": null}, "bucketKeyEnabled": false}]},
            "PublicAccessBlockConfiguration": {"blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": true, "restrictPublicBuckets": true},
            "BucketPolicy": {"policyText": null}
        }),
    }
}

fn queue(
    logical_id: &'static str,
    name: &str,
    region: &str,
    account: &str,
    attributes: Value,
) -> Resource {
    let url = format!("https://sqs.{region}.amazonaws.com/{account}/{name}");
    Resource {
        logical_id,
        resource_type: "AWS::SQS::Queue",
        resource_id: url.clone(),
        resource_name: name.to_owned(),
        arn: format!("arn:aws:sqs:{region}:{account}:{name}"),
        create_calls: vec![(
            "sqs.amazonaws.com",
            "CreateQueue",
            json!({"queueName": name, "attribute": attributes.clone()}),
        )],
        configuration: json!({"QueueUrl": url, "QueueArn": format!("arn:aws:sqs:{region}:{account}:{name}"), "Attributes": attributes}),
        supplementary: json!({}),
    }
}

fn topic(
    logical_id: &'static str,
    name: &str,
    region: &str,
    account: &str,
    display: &str,
) -> Resource {
    let arn = format!("arn:aws:sns:{region}:{account}:{name}");
    Resource {
        logical_id,
        resource_type: "AWS::SNS::Topic",
        resource_id: arn.clone(),
        resource_name: name.to_owned(),
        arn: arn.clone(),
        create_calls: vec![
            ("sns.amazonaws.com", "CreateTopic", json!({"name": name})),
            (
                "sns.amazonaws.com",
                "SetTopicAttributes",
                json!({"topicArn": arn, "attributeName": "DisplayName", "attributeValue": display}),
            ),
        ],
        configuration: json!({"TopicArn": arn, "DisplayName": display}),
        supplementary: json!({}),
    }
}

fn log_group(
    logical_id: &'static str,
    name: &str,
    region: &str,
    account: &str,
    days: u32,
) -> Resource {
    Resource {
        logical_id,
        resource_type: "AWS::Logs::LogGroup",
        resource_id: name.to_owned(),
        resource_name: name.to_owned(),
        arn: format!("arn:aws:logs:{region}:{account}:log-group:{name}:*"),
        create_calls: vec![
            (
                "logs.amazonaws.com",
                "CreateLogGroup",
                json!({"logGroupName": name}),
            ),
            (
                "logs.amazonaws.com",
                "PutRetentionPolicy",
                json!({"logGroupName": name, "retentionInDays": days}),
            ),
        ],
        configuration: json!({"logGroupName": name, "retentionInDays": days}),
        supplementary: json!({}),
    }
}

fn role(
    logical_id: &'static str,
    name: &str,
    role_id: &str,
    account: &str,
    service: &str,
    policy: &str,
) -> Resource {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]});
    Resource {
        logical_id,
        resource_type: "AWS::IAM::Role",
        resource_id: role_id.to_owned(),
        resource_name: name.to_owned(),
        arn: format!("arn:aws:iam::{account}:role/{name}"),
        create_calls: vec![
            (
                "iam.amazonaws.com",
                "CreateRole",
                json!({"roleName": name, "assumeRolePolicyDocument": trust.to_string()}),
            ),
            (
                "iam.amazonaws.com",
                "PutRolePolicy",
                json!({"roleName": name, "policyName": policy}),
            ),
        ],
        configuration: json!({"path": "/", "roleName": name, "roleId": role_id, "arn": format!("arn:aws:iam::{account}:role/{name}"), "assumeRolePolicyDocument": trust, "rolePolicyList": [{"policyName": policy}]}),
        supplementary: json!({}),
    }
}

fn parameter(logical_id: &'static str, name: &str, region: &str, account: &str) -> Resource {
    Resource {
        logical_id,
        resource_type: "AWS::SSM::Parameter",
        resource_id: name.to_owned(),
        resource_name: name.to_owned(),
        arn: format!("arn:aws:ssm:{region}:{account}:parameter{name}"),
        create_calls: vec![(
            "ssm.amazonaws.com",
            "PutParameter",
            json!({"name": name, "type": "String", "overwrite": false}),
        )],
        configuration: json!({"Name": name, "Type": "String", "Version": 1}),
        supplementary: json!({}),
    }
}

/// The LIMS and ELN stacks in `region` / `account`.
pub(crate) fn specs(region: &str, account: &str) -> Vec<StackSpec> {
    let lims_tags = [
        ("System", "LIMS"),
        ("Environment", "qual"),
        ("DataClassification", "GxP-Restricted"),
        ("GxP", "true"),
    ];
    let eln_tags = [
        ("System", "ELN"),
        ("Environment", "qual"),
        ("DataClassification", "GxP-Confidential"),
        ("GxP", "true"),
    ];
    let table = "eln-qual-NotebookEntryTable-1RX8QK2W5T3ZP";
    let table_arn = format!("arn:aws:dynamodb:{region}:{account}:table/{table}");
    let notebook_table = Resource {
        logical_id: "NotebookEntryTable",
        resource_type: "AWS::DynamoDB::Table",
        resource_id: table.to_owned(),
        resource_name: table.to_owned(),
        arn: table_arn.clone(),
        create_calls: vec![
            (
                "dynamodb.amazonaws.com",
                "CreateTable",
                json!({
                    "tableName": table, "billingMode": "PAY_PER_REQUEST",
                    "keySchema": [{"attributeName": "notebookId", "keyType": "HASH"}, {"attributeName": "entryVersion", "keyType": "RANGE"}],
                    "sSESpecification": {"enabled": true},
                    "streamSpecification": {"streamEnabled": true, "streamViewType": "NEW_AND_OLD_IMAGES"}
                }),
            ),
            (
                "dynamodb.amazonaws.com",
                "UpdateContinuousBackups",
                json!({"tableName": table, "pointInTimeRecoverySpecification": {"pointInTimeRecoveryEnabled": true}}),
            ),
            (
                "dynamodb.amazonaws.com",
                "TagResource",
                json!({"resourceArn": table_arn, "tags": eln_tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()}),
            ),
        ],
        configuration: json!({
            "tableName": table, "tableStatus": "ACTIVE", "tableArn": table_arn,
            "billingModeSummary": {"billingMode": "PAY_PER_REQUEST"},
            "keySchema": [{"attributeName": "notebookId", "keyType": "HASH"}, {"attributeName": "entryVersion", "keyType": "RANGE"}],
            "globalSecondaryIndexes": [{"indexName": "by-author", "projection": {"projectionType": "KEYS_ONLY"}}],
            "sSEDescription": {"status": "ENABLED", "sSEType": "KMS"},
            "streamSpecification": {"streamEnabled": true, "streamViewType": "NEW_AND_OLD_IMAGES"}
        }),
        supplementary: json!({"ContinuousBackupsDescription": {"continuousBackupsStatus": "ENABLED", "pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "ENABLED"}}}),
    };
    vec![
        StackSpec {
            name: "lims-qual",
            system: "LIMS",
            stack_uuid: "5b1e0c70-b8a1-11f1-9c3e-0e8f2a41d7b3",
            created_at: time::macros::datetime!(2026-11-02 08:41:12 UTC),
            creator_user: "dana.whitfield",
            template_body: LIMS_TEMPLATE,
            parameters: pairs(&[
                ("Environment", "qual"),
                ("LogRetentionDays", "2557"),
                ("DataClassification", "GxP-Restricted"),
                ("AlertEmail", "lims-ops@example.com"),
            ]),
            tags: pairs(&[
                ("System", "LIMS"),
                ("Environment", "qual"),
                ("ChangeRecord", "CR-2026-0287"),
                ("Owner", "qc-informatics"),
            ]),
            resources: vec![
                bucket(
                    "SampleAttachmentBucket",
                    "lims-qual-sampleattachmentbucket-1x9k2q7rj3m0f",
                    &lims_tags,
                ),
                bucket(
                    "AuditArchiveBucket",
                    "lims-qual-auditarchivebucket-7vd3k1m8q2wze",
                    &lims_tags,
                ),
                queue(
                    "SampleIntakeDeadLetterQueue",
                    "lims-qual-SampleIntakeDeadLetterQueue-Q4WJ2H8N1ZCT",
                    region,
                    account,
                    json!({"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"}),
                ),
                queue(
                    "SampleIntakeQueue",
                    "lims-qual-SampleIntakeQueue-8PX3LZ0V6KQD",
                    region,
                    account,
                    json!({"VisibilityTimeout": "120", "MessageRetentionPeriod": "345600", "SqsManagedSseEnabled": "true", "RedrivePolicy": format!("{{\"deadLetterTargetArn\":\"arn:aws:sqs:{region}:{account}:lims-qual-SampleIntakeDeadLetterQueue-Q4WJ2H8N1ZCT\",\"maxReceiveCount\":5}}")}),
                ),
                topic(
                    "AlertTopic",
                    "lims-qual-AlertTopic-9W1N5QJ2RT7B",
                    region,
                    account,
                    "LIMS qualification alerts",
                ),
                log_group(
                    "ApplicationLogGroup",
                    "/gxp/lims/qual/application",
                    region,
                    account,
                    2557,
                ),
                role(
                    "ServiceTaskRole",
                    "lims-qual-ServiceTaskRole-1JH6Y2C0V7XKM",
                    "AROA4XKCM2QZ7LIMSTASK",
                    account,
                    "ecs-tasks.amazonaws.com",
                    "lims-sample-data",
                ),
                parameter(
                    "ApplicationConfigParameter",
                    "/gxp/lims/qual/config",
                    region,
                    account,
                ),
            ],
        },
        StackSpec {
            name: "eln-qual",
            system: "ELN",
            stack_uuid: "a7c40f12-b8c6-11f1-8d21-12b4e9c07f55",
            created_at: time::macros::datetime!(2026-11-02 12:58:05 UTC),
            creator_user: "ravi.menon",
            template_body: ELN_TEMPLATE,
            parameters: pairs(&[
                ("Environment", "qual"),
                ("LogRetentionDays", "3653"),
                ("DataClassification", "GxP-Confidential"),
            ]),
            tags: pairs(&[
                ("System", "ELN"),
                ("Environment", "qual"),
                ("ChangeRecord", "CR-2026-0291"),
                ("Owner", "rd-informatics"),
            ]),
            resources: vec![
                notebook_table,
                bucket(
                    "ExperimentAttachmentBucket",
                    "eln-qual-experimentattachmentbucket-4hz0p6w2t9c1n",
                    &eln_tags,
                ),
                topic(
                    "SignatureEventTopic",
                    "eln-qual-SignatureEventTopic-K2M7D0Q5VX3A",
                    region,
                    account,
                    "ELN signature events",
                ),
                queue(
                    "WitnessRequestQueue",
                    "eln-qual-WitnessRequestQueue-6TRB1N9F4YHE",
                    region,
                    account,
                    json!({"VisibilityTimeout": "60", "MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"}),
                ),
                log_group("ApiLogGroup", "/gxp/eln/qual/api", region, account, 3653),
                role(
                    "ApiFunctionRole",
                    "eln-qual-ApiFunctionRole-2QZ8V5L1K7WD",
                    "AROA4XKCM2QZ7ELNAPIFN",
                    account,
                    "lambda.amazonaws.com",
                    "eln-notebook-data",
                ),
                parameter(
                    "ApiConfigParameter",
                    "/gxp/eln/qual/config",
                    region,
                    account,
                ),
            ],
        },
    ]
}
