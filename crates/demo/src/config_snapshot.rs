//! An AWS Config configuration snapshot of the two stacks, as delivered to S3
//! (`AWSLogs/<account>/Config/<region>/YYYY/M/D/ConfigSnapshot/…json.gz`).

use rand_core::CryptoRngCore;
use serde_json::{json, Value};

use crate::cloudtrail::{derived_uuid, gzip, rfc3339};
use crate::stacks::StackSpec;
use crate::{DemoError, DemoObject, DemoOptions};

fn random_uuid(rng: &mut impl CryptoRngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn tags_of(stack: &StackSpec, system_tags: bool) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in &stack.tags {
        map.insert(k.clone(), json!(v));
    }
    if system_tags {
        map.insert(
            "aws:cloudformation:stack-name".to_owned(),
            json!(stack.name),
        );
    }
    Value::Object(map)
}

/// Builds the snapshot taken at `options.now`.
pub(crate) fn generate(
    options: &DemoOptions,
    stacks: &[StackSpec],
    rng: &mut impl CryptoRngCore,
) -> Result<DemoObject, DemoError> {
    let account = options.account_id.as_str();
    let region = options.region.as_str();
    let now = options.now.to_offset(time::UtcOffset::UTC);
    let capture = rfc3339(now)?;
    let snapshot_id = random_uuid(rng);
    let mut items = Vec::new();
    for stack in stacks {
        let stack_arn = stack.stack_arn(region, account);
        let contains: Vec<Value> = stack
            .resources
            .iter()
            .map(|r| json!({"resourceType": r.resource_type, "resourceId": r.resource_id, "resourceName": r.resource_name, "relationshipName": "Contains "}))
            .collect();
        items.push(json!({
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": capture,
            "configurationStateId": now.unix_timestamp() * 1000,
            "awsAccountId": account,
            "configurationItemStatus": "OK",
            "resourceType": "AWS::CloudFormation::Stack",
            "resourceId": stack_arn,
            "resourceName": stack.name,
            "ARN": stack_arn,
            "awsRegion": region,
            "availabilityZone": "Regional",
            "resourceCreationTime": rfc3339(stack.created_at)?,
            "tags": tags_of(stack, false),
            "relatedEvents": [],
            "relationships": contains,
            "configuration": {
                "stackId": stack_arn, "stackName": stack.name, "stackStatus": "CREATE_COMPLETE",
                "parameters": stack.parameters.iter().map(|(k, v)| json!({"parameterKey": k, "parameterValue": v})).collect::<Vec<_>>(),
                "enableTerminationProtection": true, "driftInformation": {"stackDriftStatus": "NOT_CHECKED"}
            },
            "supplementaryConfiguration": {}
        }));
        for (i, r) in stack.resources.iter().enumerate() {
            let state_id = now.unix_timestamp() * 1000 + i64::try_from(i).unwrap_or(0) + 1;
            items.push(json!({
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": capture,
                "configurationStateId": state_id,
                "configurationStateMd5Hash": "",
                "awsAccountId": account,
                "configurationItemStatus": "OK",
                "resourceType": r.resource_type,
                "resourceId": r.resource_id,
                "resourceName": r.resource_name,
                "ARN": r.arn,
                "awsRegion": region,
                "availabilityZone": "Not Applicable",
                "resourceCreationTime": rfc3339(stack.created_at)?,
                "tags": tags_of(stack, true),
                "relatedEvents": [derived_uuid(&format!("config/{}/{}", stack.name, r.logical_id))],
                "relationships": [{"resourceType": "AWS::CloudFormation::Stack", "resourceId": stack_arn, "resourceName": stack.name, "relationshipName": "Is contained in "}],
                "configuration": r.configuration,
                "supplementaryConfiguration": r.supplementary
            }));
        }
    }
    let snapshot =
        json!({"fileVersion": "1.0", "configSnapshotId": snapshot_id, "configurationItems": items});
    let body = serde_json::to_vec(&snapshot).map_err(DemoError::Encode)?;
    let date = format!("{}/{}/{}", now.year(), u8::from(now.month()), now.day());
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(DemoError::Time)?;
    let key = format!(
        "AWSLogs/{account}/Config/{region}/{date}/ConfigSnapshot/{account}_Config_{region}_ConfigSnapshot_{stamp}_{snapshot_id}.json.gz"
    );
    Ok(DemoObject {
        key,
        body: gzip(&body)?,
        content_type: "application/gzip".to_owned(),
        metadata: Vec::new(),
    })
}
