//! CloudFormation through the AWS SDK against the local emulator.

use countersign_tests::stacks::create_stack;
use countersign_tests::Emulator;

const TEMPLATE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Description": "LIMS qualification evidence bucket",
  "Parameters": { "BucketName": { "Type": "String" } },
  "Resources": {
    "EvidenceBucket": {
      "Type": "AWS::S3::Bucket",
      "Properties": { "BucketName": { "Ref": "BucketName" } }
    }
  },
  "Outputs": { "Bucket": { "Value": { "Ref": "EvidenceBucket" } } }
}"#;

#[tokio::test]
async fn stack_from_a_template_creates_its_resources() {
    let emulator = Emulator::start().await.unwrap();
    let ctx = emulator.aws_context().await.unwrap();
    let stack_id = create_stack(
        &ctx,
        "lims-prod",
        TEMPLATE,
        &[("BucketName", "lims-evidence")],
    )
    .await
    .unwrap();
    assert!(stack_id.contains("lims-prod"), "{stack_id}");

    let resources = ctx
        .cloudformation()
        .describe_stack_resources()
        .stack_name("lims-prod")
        .send()
        .await
        .unwrap();
    let kinds: Vec<_> = resources
        .stack_resources()
        .iter()
        .filter_map(|r| r.resource_type())
        .collect();
    assert_eq!(kinds, vec!["AWS::S3::Bucket"]);
    ctx.s3()
        .head_bucket()
        .bucket("lims-evidence")
        .send()
        .await
        .unwrap();

    let err = create_stack(&ctx, "lims-prod", TEMPLATE, &[("BucketName", "other")])
        .await
        .unwrap_err();
    assert!(err.message.contains("lims-prod"), "{err}");
}
