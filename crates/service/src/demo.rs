//! `demo seed`: uploads the bundled demo dataset and creates its CloudFormation stacks, so the
//! whole flow can be tried against a local emulator or a sandbox account.

use countersign_aws::cloudformation::{self, NewStack};
use countersign_aws::s3::{self, Upload};
use countersign_core::layout::{BucketName, Prefix};
use countersign_demo::{DemoOptions, PUBLIC_KEY_KEY};
use serde::Serialize;

use crate::error::ServiceError;
use crate::{AwsSettings, Env, Service};

/// What `demo seed` did.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub bucket: String,
    pub prefix: String,
    pub objects: usize,
    pub bytes: u64,
    /// Stacks created (or already present).
    pub stacks: Vec<String>,
    /// Key of the PEM public key that verifies the demo CloudTrail digest files.
    pub cloudtrail_public_key: String,
}

impl Service {
    /// Uploads the demo dataset to `s3://bucket/prefix/` (creating the bucket) and creates its
    /// stacks, with `env`'s AWS connector and clock. Needs no home.
    pub async fn demo_seed(
        env: &Env,
        aws: &AwsSettings,
        bucket: &BucketName,
        prefix: &Prefix,
    ) -> Result<SeedReport, ServiceError> {
        let ctx = env.aws.connect(aws).await?;
        let ctx = &ctx;
        let account_id = match ctx.sts().get_caller_identity().send().await {
            Ok(out) => out.account().unwrap_or("123456789012").to_owned(),
            Err(_) => "123456789012".to_owned(),
        };
        let dataset = countersign_demo::build_with_prefix(
            &DemoOptions {
                bucket: bucket.clone(),
                region: ctx.region_name(),
                account_id,
                now: env.clock.now(),
            },
            prefix,
            &mut rand_core::OsRng,
        )
        .map_err(|e| {
            ServiceError::new(
                crate::ErrorCode::Storage,
                format!("could not build the demo dataset: {e}"),
            )
        })?;
        let bucket = bucket.as_str();
        let prefix = prefix.as_str();
        s3::ensure_bucket(ctx, bucket, true, false).await?;
        let mut bytes = 0u64;
        for obj in &dataset.objects {
            let key = format!("{prefix}{}", obj.key);
            bytes += obj.body.len() as u64;
            s3::put(
                ctx,
                bucket,
                Upload {
                    key: &key,
                    body: obj.body.clone(),
                    content_type: Some(&obj.content_type),
                    metadata: &obj.metadata,
                },
            )
            .await?;
        }
        let mut stacks = Vec::new();
        for st in &dataset.stacks {
            cloudformation::create_stack(
                ctx,
                NewStack {
                    name: &st.name,
                    template_body: &st.template_body,
                    parameters: &st.parameters,
                    tags: &st.tags,
                },
            )
            .await?;
            stacks.push(st.name.clone());
        }
        Ok(SeedReport {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            objects: dataset.objects.len(),
            bytes,
            stacks,
            cloudtrail_public_key: format!("{prefix}{PUBLIC_KEY_KEY}"),
        })
    }
}
