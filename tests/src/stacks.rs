//! CloudFormation fixtures: a stack from a template body.

use std::time::Duration;

use aws_sdk_cloudformation::types::{Parameter, StackStatus};
use countersign_aws::AwsContext;

use crate::error::{HarnessError, Result};

/// Creates stack `name` from `template_body` with the given parameters and waits (bounded) until
/// it is CREATE_COMPLETE (the emulator completes stacks at once). Returns the stack id.
pub async fn create_stack(
    ctx: &AwsContext,
    name: &str,
    template_body: &str,
    parameters: &[(&str, &str)],
) -> Result<String> {
    let cfn = ctx.cloudformation();
    let params: Vec<Parameter> = parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(*k)
                .parameter_value(*v)
                .build()
        })
        .collect();
    let out = cfn
        .create_stack()
        .stack_name(name)
        .template_body(template_body)
        .set_parameters(Some(params))
        .send()
        .await
        .map_err(|e| {
            HarnessError::new(format!(
                "create CloudFormation stack {name}: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(&e)
            ))
        })?;
    let stack_id = out.stack_id.unwrap_or_else(|| name.to_owned());
    for _ in 0..100 {
        let described = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| {
                HarnessError::new(format!(
                    "describe CloudFormation stack {name}: {}",
                    aws_sdk_cloudformation::error::DisplayErrorContext(&e)
                ))
            })?;
        let status = described
            .stacks()
            .first()
            .and_then(|s| s.stack_status().cloned());
        match status {
            Some(StackStatus::CreateComplete) => return Ok(stack_id),
            Some(StackStatus::CreateInProgress) | None => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Some(other) => {
                return Err(HarnessError::new(format!(
                    "CloudFormation stack {name} ended in {}",
                    other.as_str()
                )))
            }
        }
    }
    Err(HarnessError::new(format!(
        "CloudFormation stack {name} did not reach CREATE_COMPLETE"
    )))
}
