//! CloudFormation: creating stacks (demo seeding). Stack snapshots for review build on this.

use aws_sdk_cloudformation::types::{Parameter, StackStatus, Tag};

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// A stack to create.
#[derive(Debug, Clone, Default)]
pub struct NewStack<'a> {
    pub name: &'a str,
    pub template_body: &'a str,
    pub parameters: &'a [(String, String)],
    pub tags: &'a [(String, String)],
}

/// Creates a stack and waits (bounded) until it is complete. An existing stack of that name is
/// left as it is and reported as such (`Ok(false)`).
pub async fn create_stack(ctx: &AwsContext, stack: NewStack<'_>) -> Result<bool, AwsError> {
    let client = ctx.cloudformation();
    let action = format!("create CloudFormation stack {}", stack.name);
    let params: Vec<Parameter> = stack
        .parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect();
    let tags: Vec<Tag> = stack
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let res = client
        .create_stack()
        .stack_name(stack.name)
        .template_body(stack.template_body)
        .set_parameters(Some(params))
        .set_tags(Some(tags))
        .send()
        .await;
    if let Err(e) = res {
        let err = AwsError::from_sdk(&e, &action).with_region(ctx.region_name());
        if err.code.as_deref() == Some("AlreadyExistsException") {
            return Ok(false);
        }
        return Err(err);
    }
    // Poll until the stack settles (the emulator is immediate; real AWS takes minutes).
    for _ in 0..600 {
        let out = client
            .describe_stacks()
            .stack_name(stack.name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(&e, &format!("describe stack {}", stack.name)))?;
        let status = out.stacks().first().and_then(|s| s.stack_status().cloned());
        match status {
            Some(StackStatus::CreateComplete) => return Ok(true),
            Some(StackStatus::CreateInProgress) | None => {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Some(other) => {
                return Err(AwsError::new(AwsErrorKind::Other, action)
                    .with_region(ctx.region_name())
                    .with_detail(format!("stack ended in {}", other.as_str()))
                    .with_hint("open the stack's events in the CloudFormation console to see which resource failed"));
            }
        }
    }
    Err(AwsError::new(AwsErrorKind::Other, action)
        .with_detail("stack did not finish within 20 minutes"))
}
