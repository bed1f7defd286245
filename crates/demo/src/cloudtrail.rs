//! CloudTrail log files and their signed digest chain, generated at seed time.
//!
//! Digest files follow "Validating CloudTrail log file integrity with a custom implementation"
//! and "CloudTrail digest file structure" (AWS CloudTrail User Guide), and the reference
//! validator in the AWS CLI (`awscli/customizations/cloudtrail/validation.py`):
//! - each log file's `hashValue` is the hex SHA-256 of its **uncompressed** content;
//! - the data signing string is
//!   `digestEndTime + "\n" + digestS3Bucket + "/" + digestS3Object + "\n" +
//!    hex(SHA-256(uncompressed digest file)) + "\n" + previousDigestSignature`,
//!   where `previousDigestSignature` is the literal `null` for the first digest of a chain;
//! - it is signed SHA256withRSA (RSASSA-PKCS1-v1_5 with SHA-256); the hex signature goes in the
//!   digest object's `x-amz-meta-signature`, the algorithm in `x-amz-meta-signature-algorithm`;
//! - `previousDigestHashValue` is the hex SHA-256 of the previous uncompressed digest file.
//!
//! `digestS3Object`, `s3Object` and `previousDigestS3Object` hold full object keys: the seeding
//! prefix (see [`crate::build_with_prefix`]) followed by the key relative to it, as CloudTrail
//! writes them when a trail delivers under a prefix. `digestPublicKeyFingerprint` is the first 16 bytes,
//! in hex, of the SHA-256 of the PKCS#1 DER public key (AWS uses its own fingerprint; ours only
//! has to identify the one demo key).

use std::io::Write;

use rand_core::CryptoRngCore;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::stacks::StackSpec;
use crate::{DemoError, DemoObject, DemoOptions};

/// Name of the demo trail (appears in digest file names).
pub(crate) const TRAIL_NAME: &str = "gxp-org-trail";
const GZIP: &str = "application/gzip";

/// One recorded API call.
struct Event {
    time: OffsetDateTime,
    record: Value,
}

/// A written log file: its key, uncompressed hash and event-time range.
struct LogFile {
    key: String,
    delivered: OffsetDateTime,
    sha256_hex: String,
    oldest: OffsetDateTime,
    newest: OffsetDateTime,
}

/// Everything CloudTrail delivers for the demo timeline.
pub(crate) struct CloudTrailOutput {
    pub objects: Vec<DemoObject>,
    pub public_key_pem: String,
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> Result<String, DemoError> {
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(DemoError::Time)
}

fn compact(t: OffsetDateTime, seconds: bool) -> Result<String, DemoError> {
    let r = if seconds {
        t.format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
    } else {
        t.format(time::macros::format_description!(
            "[year][month][day]T[hour][minute]Z"
        ))
    };
    r.map_err(DemoError::Time)
}

fn day_path(t: OffsetDateTime) -> Result<String, DemoError> {
    t.format(time::macros::format_description!("[year]/[month]/[day]"))
        .map_err(DemoError::Time)
}

pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>, DemoError> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).map_err(DemoError::Gzip)?;
    encoder.finish().map_err(DemoError::Gzip)
}

/// A deterministic UUID-shaped id derived from `seed` (event ids, request ids).
pub(crate) fn derived_uuid(seed: &str) -> String {
    let h = hex::encode(Sha256::digest(seed.as_bytes()));
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn random_suffix(rng: &mut impl CryptoRngCore) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..16)
        .map(|_| {
            let i = rng.next_u32() as usize % ALPHABET.len();
            ALPHABET.get(i).copied().map(char::from).unwrap_or('A')
        })
        .collect()
}

/// Who made a call.
#[derive(Clone, Copy)]
enum Actor<'a> {
    /// An IAM user with an MFA console/CLI session.
    User(&'a str),
    /// An assumed role session: (role name, session name).
    Role(&'a str, &'a str),
    /// An AWS service acting on its own behalf.
    Service(&'a str),
}

struct Recorder<'a> {
    account: &'a str,
    region: &'a str,
    events: Vec<Event>,
}

impl Recorder<'_> {
    fn identity(&self, actor: Actor<'_>, time: OffsetDateTime) -> Result<Value, DemoError> {
        let account = self.account;
        Ok(match actor {
            Actor::User(name) => json!({
                "type": "IAMUser",
                "principalId": format!("AIDA{}", &derived_uuid(name).replace('-', "")[..17].to_uppercase()),
                "arn": format!("arn:aws:iam::{account}:user/{name}"),
                "accountId": account,
                "accessKeyId": format!("ASIA{}", &derived_uuid(&format!("key/{name}")).replace('-', "")[..16].to_uppercase()),
                "userName": name,
                "sessionContext": {"attributes": {"creationDate": rfc3339(time - Duration::minutes(12))?, "mfaAuthenticated": "true"}}
            }),
            Actor::Role(role, session) => {
                let role_id = format!(
                    "AROA{}",
                    &derived_uuid(role).replace('-', "")[..17].to_uppercase()
                );
                json!({
                    "type": "AssumedRole",
                    "principalId": format!("{role_id}:{session}"),
                    "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                    "accountId": account,
                    "accessKeyId": format!("ASIA{}", &derived_uuid(&format!("key/{session}")).replace('-', "")[..16].to_uppercase()),
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account, "userName": role},
                        "attributes": {"creationDate": rfc3339(time - Duration::minutes(3))?, "mfaAuthenticated": "false"}
                    }
                })
            }
            Actor::Service(service) => json!({"type": "AWSService", "invokedBy": service}),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        time: OffsetDateTime,
        actor: Actor<'_>,
        invoked_by: Option<&str>,
        source: &str,
        name: &str,
        params: Value,
        resources: &[(&str, &str)],
        error: Option<(&str, &str)>,
    ) -> Result<(), DemoError> {
        let n = self.events.len();
        let read_only = ["Get", "Describe", "List", "Head"]
            .iter()
            .any(|p| name.starts_with(p));
        let (ip, agent) = match (actor, invoked_by) {
            (_, Some(service)) => (service.to_owned(), service.to_owned()),
            (Actor::Service(service), None) => (service.to_owned(), service.to_owned()),
            (Actor::User(_), None) => ("203.0.113.24".to_owned(), "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.1 os/linux#6.1.0-27-amd64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#debian.12 md/prompt#off md/command#cloudformation.create-stack".to_owned()),
            (Actor::Role(..), None) => ("10.20.3.117".to_owned(), "Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#6.1.0-27-amd64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54".to_owned()),
        };
        let mut record = json!({
            "eventVersion": "1.10",
            "userIdentity": self.identity(actor, time)?,
            "eventTime": rfc3339(time)?,
            "eventSource": source,
            "eventName": name,
            "awsRegion": if source == "iam.amazonaws.com" || source == "signin.amazonaws.com" { "us-east-1" } else { self.region },
            "sourceIPAddress": ip,
            "userAgent": agent,
            "requestParameters": params,
            "responseElements": null,
            "requestID": derived_uuid(&format!("request/{n}")).to_uppercase(),
            "eventID": derived_uuid(&format!("event/{n}")),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": self.account,
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{}.{}.amazonaws.com", source.trim_end_matches(".amazonaws.com"), self.region)}
        });
        if let Some(obj) = record.as_object_mut() {
            if let Some(service) = invoked_by {
                if let Some(identity) = obj.get_mut("userIdentity").and_then(Value::as_object_mut) {
                    identity.insert("invokedBy".to_owned(), json!(service));
                }
            }
            if !resources.is_empty() {
                let list: Vec<Value> = resources
                    .iter()
                    .map(|(t, arn)| json!({"accountId": self.account, "type": t, "ARN": arn}))
                    .collect();
                obj.insert("resources".to_owned(), json!(list));
            }
            if let Some((code, message)) = error {
                obj.insert("errorCode".to_owned(), json!(code));
                obj.insert("errorMessage".to_owned(), json!(message));
            }
        }
        self.events.push(Event { time, record });
        Ok(())
    }
}

/// The qualification timeline: stack creation, each run's API calls, and unrelated activity.
fn record_timeline(options: &DemoOptions, stacks: &[StackSpec]) -> Result<Vec<Event>, DemoError> {
    use time::macros::datetime;
    let mut r = Recorder {
        account: &options.account_id,
        region: &options.region,
        events: Vec::new(),
    };
    let cfn = "cloudformation.amazonaws.com";

    for stack in stacks {
        let t0 = stack.created_at;
        let arn = stack.stack_arn(&options.region, &options.account_id);
        let params: Vec<Value> = stack
            .parameters
            .iter()
            .map(|(k, v)| json!({"parameterKey": k, "parameterValue": v}))
            .collect();
        let tags: Vec<Value> = stack
            .tags
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        r.call(t0, Actor::User(stack.creator_user), None, cfn, "CreateStack",
            json!({"stackName": stack.name, "templateURL": format!("https://gxp-templates-{}.s3.amazonaws.com/{}/{}.yaml", options.account_id, stack.system.to_lowercase(), stack.name), "parameters": params, "capabilities": ["CAPABILITY_IAM"], "tags": tags, "enableTerminationProtection": true}),
            &[("AWS::CloudFormation::Stack", &arn)], None)?;
        let mut t = t0 + Duration::seconds(6);
        for resource in &stack.resources {
            for (source, name, params) in &resource.create_calls {
                r.call(
                    t,
                    Actor::User(stack.creator_user),
                    Some(cfn),
                    source,
                    name,
                    params.clone(),
                    &[(resource.resource_type, &resource.arn)],
                    None,
                )?;
                t += Duration::seconds(2);
            }
            t += Duration::seconds(3);
        }
        r.call(
            t + Duration::seconds(20),
            Actor::User(stack.creator_user),
            None,
            cfn,
            "DescribeStacks",
            json!({"stackName": stack.name}),
            &[],
            None,
        )?;
    }

    // IQ: the runner role reads back every resource.
    let iq_runs = [
        (
            "lims-qual",
            "lims-iq-2026-11-02",
            datetime!(2026-11-02 09:14:03 UTC),
        ),
        (
            "eln-qual",
            "eln-iq-2026-11-02",
            datetime!(2026-11-02 13:31:47 UTC),
        ),
    ];
    for (stack_name, session, t0) in iq_runs {
        let Some(stack) = stacks.iter().find(|s| s.name == stack_name) else {
            continue;
        };
        let runner = Actor::Role("gxp-iq-runner", session);
        let mut t = t0;
        r.call(
            t,
            runner,
            None,
            cfn,
            "DescribeStackResources",
            json!({"stackName": stack.name}),
            &[],
            None,
        )?;
        for resource in &stack.resources {
            t += Duration::milliseconds(850);
            let name = resource.resource_name.as_str();
            let arn = resource.arn.as_str();
            let rt = resource.resource_type;
            match rt {
                "AWS::S3::Bucket" => {
                    for call in [
                        "GetBucketEncryption",
                        "GetBucketVersioning",
                        "GetBucketPublicAccessBlock",
                    ] {
                        r.call(
                            t,
                            runner,
                            None,
                            "s3.amazonaws.com",
                            call,
                            json!({"bucketName": name, "Host": format!("{name}.s3.amazonaws.com")}),
                            &[(rt, arn)],
                            None,
                        )?;
                        t += Duration::milliseconds(240);
                    }
                    r.call(
                        t,
                        runner,
                        None,
                        "s3.amazonaws.com",
                        "GetBucketPolicy",
                        json!({"bucketName": name, "Host": format!("{name}.s3.amazonaws.com")}),
                        &[(rt, arn)],
                        Some(("NoSuchBucketPolicy", "The bucket policy does not exist")),
                    )?;
                }
                "AWS::DynamoDB::Table" => {
                    r.call(
                        t,
                        runner,
                        None,
                        "dynamodb.amazonaws.com",
                        "DescribeTable",
                        json!({"tableName": name}),
                        &[(rt, arn)],
                        None,
                    )?;
                    t += Duration::milliseconds(300);
                    r.call(t, runner, None, "dynamodb.amazonaws.com", "DescribeContinuousBackups", json!({"tableName": name}), &[(rt, arn)],
                        Some(("AccessDenied", &format!("User: arn:aws:sts::{}:assumed-role/gxp-iq-runner/{session} is not authorized to perform: dynamodb:DescribeContinuousBackups on resource: {arn} because no identity-based policy allows the dynamodb:DescribeContinuousBackups action", options.account_id))))?;
                }
                "AWS::SQS::Queue" => r.call(
                    t,
                    runner,
                    None,
                    "sqs.amazonaws.com",
                    "GetQueueAttributes",
                    json!({"queueUrl": resource.resource_id, "attributeNames": ["All"]}),
                    &[(rt, arn)],
                    None,
                )?,
                "AWS::SNS::Topic" => r.call(
                    t,
                    runner,
                    None,
                    "sns.amazonaws.com",
                    "GetTopicAttributes",
                    json!({"topicArn": arn}),
                    &[(rt, arn)],
                    None,
                )?,
                "AWS::Logs::LogGroup" => r.call(
                    t,
                    runner,
                    None,
                    "logs.amazonaws.com",
                    "DescribeLogGroups",
                    json!({"logGroupNamePrefix": name}),
                    &[],
                    None,
                )?,
                "AWS::IAM::Role" => {
                    r.call(
                        t,
                        runner,
                        None,
                        "iam.amazonaws.com",
                        "GetRole",
                        json!({"roleName": name}),
                        &[(rt, arn)],
                        None,
                    )?;
                    r.call(
                        t + Duration::milliseconds(200),
                        runner,
                        None,
                        "iam.amazonaws.com",
                        "ListRolePolicies",
                        json!({"roleName": name}),
                        &[(rt, arn)],
                        None,
                    )?;
                }
                _ => r.call(
                    t,
                    runner,
                    None,
                    "ssm.amazonaws.com",
                    "GetParameter",
                    json!({"name": name}),
                    &[(rt, arn)],
                    None,
                )?,
            }
        }
    }

    // OQ and PQ: application roles at work, people checking the stacks.
    let app_runs = [
        (
            datetime!(2026-11-03 09:02:41 UTC),
            "dana.whitfield",
            "lims-qual",
            "lims-qual-ServiceTaskRole-1JH6Y2C0V7XKM",
            "ecs-tasks.amazonaws.com",
            "/gxp/lims/qual/config",
        ),
        (
            datetime!(2026-11-03 14:00:09 UTC),
            "ravi.menon",
            "eln-qual",
            "eln-qual-ApiFunctionRole-2QZ8V5L1K7WD",
            "lambda.amazonaws.com",
            "/gxp/eln/qual/config",
        ),
        (
            datetime!(2026-11-04 07:29:40 UTC),
            "dana.whitfield",
            "lims-qual",
            "lims-qual-ServiceTaskRole-1JH6Y2C0V7XKM",
            "ecs-tasks.amazonaws.com",
            "/gxp/lims/qual/config",
        ),
        (
            datetime!(2026-11-04 13:05:42 UTC),
            "ravi.menon",
            "eln-qual",
            "eln-qual-ApiFunctionRole-2QZ8V5L1K7WD",
            "lambda.amazonaws.com",
            "/gxp/eln/qual/config",
        ),
    ];
    for (t0, user, stack, role, service, param) in app_runs {
        let account = options.account_id.as_str();
        let role_arn = format!("arn:aws:iam::{account}:role/{role}");
        r.call(
            t0 - Duration::seconds(40),
            Actor::User(user),
            None,
            cfn,
            "DescribeStacks",
            json!({"stackName": stack}),
            &[],
            None,
        )?;
        for i in 0..3 {
            let t = t0 + Duration::minutes(4 * i) + Duration::seconds(7);
            let session = format!(
                "{}{}",
                &derived_uuid(&format!("{role}/{t}")).replace('-', "")[..20],
                i
            );
            r.call(
                t,
                Actor::Service(service),
                None,
                "sts.amazonaws.com",
                "AssumeRole",
                json!({"roleArn": role_arn, "roleSessionName": session}),
                &[("AWS::IAM::Role", &role_arn)],
                None,
            )?;
            r.call(
                t + Duration::seconds(1),
                Actor::Role(role, &session),
                None,
                "ssm.amazonaws.com",
                "GetParameter",
                json!({"name": param}),
                &[(
                    "AWS::SSM::Parameter",
                    &format!("arn:aws:ssm:{}:{account}:parameter{param}", options.region),
                )],
                None,
            )?;
        }
    }

    // Unrelated activity in the same account: sign-ins, monitoring, AWS Config's own reads,
    // and a developer poking at the production stack without permission.
    let noise_times = [
        datetime!(2026-11-02 08:29:55 UTC),
        datetime!(2026-11-02 10:12:30 UTC),
        datetime!(2026-11-02 14:45:02 UTC),
        datetime!(2026-11-03 08:51:18 UTC),
        datetime!(2026-11-03 11:20:44 UTC),
        datetime!(2026-11-03 15:02:09 UTC),
        datetime!(2026-11-04 07:15:37 UTC),
        datetime!(2026-11-04 10:40:00 UTC),
        datetime!(2026-11-04 13:48:21 UTC),
    ];
    for (i, t) in noise_times.into_iter().enumerate() {
        let sign_in_user = if i % 2 == 0 {
            "dana.whitfield"
        } else {
            "ravi.menon"
        };
        let rec = &mut r;
        rec.call(
            t,
            Actor::User(sign_in_user),
            None,
            "signin.amazonaws.com",
            "ConsoleLogin",
            json!(null),
            &[],
            None,
        )?;
        if let Some(last) = rec.events.last_mut() {
            if let Some(obj) = last.record.as_object_mut() {
                obj.insert("eventType".to_owned(), json!("AwsConsoleSignIn"));
                obj.insert(
                    "responseElements".to_owned(),
                    json!({"ConsoleLogin": "Success"}),
                );
                obj.insert("additionalEventData".to_owned(), json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}));
                obj.insert("readOnly".to_owned(), json!(false));
            }
        }
        rec.call(
            t + Duration::minutes(6),
            Actor::Role("AWSServiceRoleForConfig", "AWSConfig-Describe"),
            Some("config.amazonaws.com"),
            "s3.amazonaws.com",
            "ListBuckets",
            json!({"Host": "s3.amazonaws.com"}),
            &[],
            None,
        )?;
        rec.call(t + Duration::minutes(9), Actor::Role("cw-monitoring", "grafana-poller"), None, "ec2.amazonaws.com", "DescribeInstances", json!({"instancesSet": {}, "filterSet": {"items": [{"name": "tag:Environment", "valueSet": {"items": [{"value": "qual"}]}}]}}), &[], None)?;
        if i == 4 {
            rec.call(t + Duration::minutes(11), Actor::User("jo.tanaka"), None, cfn, "UpdateStack", json!({"stackName": "lims-prod", "usePreviousTemplate": true}), &[],
                Some(("AccessDenied", &format!("User: arn:aws:iam::{}:user/jo.tanaka is not authorized to perform: cloudformation:UpdateStack on resource: arn:aws:cloudformation:{}:{}:stack/lims-prod/* because no identity-based policy allows the cloudformation:UpdateStack action", options.account_id, options.region, options.account_id))))?;
        }
    }

    r.events.sort_by_key(|e| e.time);
    Ok(r.events)
}

/// Five-minute delivery batches, delivered three minutes after the batch closes.
fn batch_start(t: OffsetDateTime) -> OffsetDateTime {
    let minute = t.minute() - t.minute() % 5;
    t.replace_minute(minute)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t)
}

/// Generates CloudTrail log files and the signed, chained hourly digests that cover them.
pub(crate) fn generate(
    options: &DemoOptions,
    prefix: &str,
    stacks: &[StackSpec],
    rng: &mut impl CryptoRngCore,
) -> Result<CloudTrailOutput, DemoError> {
    let account = options.account_id.as_str();
    let region = options.region.as_str();
    let events = record_timeline(options, stacks)?;

    // Log files.
    let mut objects = Vec::new();
    let mut logs: Vec<LogFile> = Vec::new();
    let mut batch: Vec<&Event> = Vec::new();
    let mut flush = |batch: &mut Vec<&Event>,
                     rng: &mut dyn FnMut() -> String|
     -> Result<(), DemoError> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(());
        };
        let delivered = batch_start(first.time) + Duration::minutes(8) + Duration::seconds(17);
        let records: Vec<&Value> = batch.iter().map(|e| &e.record).collect();
        let json = serde_json::to_vec(&json!({ "Records": records })).map_err(DemoError::Encode)?;
        let key = format!(
            "AWSLogs/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{}.json.gz",
            day_path(delivered)?,
            compact(delivered, false)?,
            rng()
        );
        logs.push(LogFile {
            key: key.clone(),
            delivered,
            sha256_hex: hex::encode(Sha256::digest(&json)),
            oldest: first.time,
            newest: last.time,
        });
        objects.push(DemoObject {
            key,
            body: gzip(&json)?,
            content_type: GZIP.to_owned(),
            metadata: Vec::new(),
        });
        batch.clear();
        Ok(())
    };
    let mut suffix = || random_suffix(rng);
    for event in &events {
        if let Some(first) = batch.first() {
            if batch_start(first.time) != batch_start(event.time) {
                flush(&mut batch, &mut suffix)?;
            }
        }
        batch.push(event);
    }
    flush(&mut batch, &mut suffix)?;

    // Key and digests.
    let private = RsaPrivateKey::new(rng, 2048).map_err(DemoError::Rsa)?;
    let public = private.to_public_key();
    let public_key_pem =
        rsa::pkcs8::EncodePublicKey::to_public_key_pem(&public, rsa::pkcs8::LineEnding::LF)
            .map_err(|e| DemoError::KeyEncoding(e.to_string()))?;
    let pkcs1 = public
        .to_pkcs1_der()
        .map_err(|e| DemoError::KeyEncoding(e.to_string()))?;
    let fingerprint = hex::encode(&Sha256::digest(pkcs1.as_bytes())[..16]);
    let signer = SigningKey::<Sha256>::new(private);

    let (Some(first_log), Some(last_log)) = (logs.first(), logs.last()) else {
        return Ok(CloudTrailOutput {
            objects,
            public_key_pem,
        });
    };
    let mut start = first_log
        .delivered
        .replace_minute(1)
        .and_then(|t| t.replace_second(31))
        .map_err(DemoError::TimeRange)?;
    if start > first_log.delivered {
        start -= Duration::hours(1);
    }
    let mut previous: Option<(String, String, String)> = None; // (key, hash, signature)
    while start <= last_log.delivered {
        let end = start + Duration::hours(1);
        let covered: Vec<&LogFile> = logs
            .iter()
            .filter(|l| l.delivered >= start && l.delivered < end)
            .collect();
        let key = format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{region}_{}.json.gz",
            day_path(end)?,
            compact(end, true)?
        );
        let full_key = format!("{prefix}{key}");
        let log_entries = covered
            .iter()
            .map(|l| -> Result<Value, DemoError> {
                Ok(json!({"s3Bucket": options.bucket, "s3Object": format!("{prefix}{}", l.key), "hashValue": l.sha256_hex, "hashAlgorithm": "SHA-256", "newestEventTime": rfc3339(l.newest)?, "oldestEventTime": rfc3339(l.oldest)?}))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let newest = covered
            .iter()
            .map(|l| l.newest)
            .max()
            .map(rfc3339)
            .transpose()?;
        let oldest = covered
            .iter()
            .map(|l| l.oldest)
            .min()
            .map(rfc3339)
            .transpose()?;
        let end_text = rfc3339(end)?;
        let digest = json!({
            "awsAccountId": account,
            "digestStartTime": rfc3339(start)?,
            "digestEndTime": end_text,
            "digestS3Bucket": options.bucket,
            "digestS3Object": full_key,
            "digestPublicKeyFingerprint": fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": newest,
            "oldestEventTime": oldest,
            "previousDigestS3Bucket": previous.as_ref().map(|_| options.bucket.clone()),
            "previousDigestS3Object": previous.as_ref().map(|p| p.0.clone()),
            "previousDigestHashValue": previous.as_ref().map(|p| p.1.clone()),
            "previousDigestHashAlgorithm": previous.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": previous.as_ref().map(|p| p.2.clone()),
            "logFiles": log_entries
        });
        let body = serde_json::to_vec(&digest).map_err(DemoError::Encode)?;
        let hash = hex::encode(Sha256::digest(&body));
        let previous_signature = previous.as_ref().map(|p| p.2.as_str()).unwrap_or("null");
        let signing_string = data_signing_string(
            &end_text,
            options.bucket.as_str(),
            &full_key,
            &hash,
            previous_signature,
        );
        let signature = signer
            .try_sign_with_rng(rng, signing_string.as_bytes())
            .map_err(|e| DemoError::Signing(e.to_string()))?;
        let signature_hex = hex::encode(signature.to_bytes());
        objects.push(DemoObject {
            key: key.clone(),
            body: gzip(&body)?,
            content_type: GZIP.to_owned(),
            metadata: vec![
                ("signature".to_owned(), signature_hex.clone()),
                ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
            ],
        });
        previous = Some((full_key, hash, signature_hex));
        start = end;
    }
    Ok(CloudTrailOutput {
        objects,
        public_key_pem,
    })
}

/// The string CloudTrail signs for a digest file (see the module documentation).
pub fn data_signing_string(
    digest_end_time: &str,
    digest_s3_bucket: &str,
    digest_s3_object: &str,
    uncompressed_digest_sha256_hex: &str,
    previous_digest_signature: &str,
) -> String {
    format!(
        "{digest_end_time}\n{digest_s3_bucket}/{digest_s3_object}\n{uncompressed_digest_sha256_hex}\n{previous_digest_signature}"
    )
}
