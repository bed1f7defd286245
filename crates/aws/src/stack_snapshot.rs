//! Taking a snapshot of a CloudFormation stack: DescribeStacks, GetTemplate (stage `Original`),
//! ListStackResources (all pages), DescribeStackEvents (the most recent 100) and drift.
//!
//! Drift sits behind [`DriftDetector`]: the AWS implementation runs DetectStackDrift, polls
//! DescribeStackDriftDetectionStatus (bounded) and reads DescribeStackResourceDrifts. Whatever
//! goes wrong there (the endpoint does not implement it, detection fails or does not finish)
//! becomes [`DriftState::NotChecked`] with the reason, never [`DriftState::InSync`].

use std::future::Future;
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    StackDriftDetectionStatus, StackDriftStatus, StackResourceDriftStatus, TemplateStage,
};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::retry::RetryConfig;
use countersign_core::stack_snapshot::{
    DriftState, PropertyDifference, ResourceDrift, StackEvent, StackOutput, StackResource,
    StackSnapshot, StackTemplate, MAX_EVENTS, STACK_SNAPSHOT_SCHEMA,
};

use crate::config::AwsContext;
use crate::error::{AwsError, AwsErrorKind};

/// What drift detection reported for a stack, before it is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftReport {
    /// `IN_SYNC`, `DRIFTED`, `UNKNOWN`, `NOT_CHECKED`, or the detection status when detection
    /// did not complete (`DETECTION_FAILED`, `DETECTION_IN_PROGRESS`).
    pub stack_drift_status: String,
    /// CloudFormation's reason, when it gave one.
    pub reason: Option<String>,
    /// Resources found `MODIFIED` or `DELETED`.
    pub drifted: Vec<ResourceDrift>,
}

/// The outcome of asking for drift: a report, or the failure that prevented one.
pub type DriftOutcome = Result<DriftReport, AwsError>;

/// Determines drift for a stack. The AWS implementation is [`AwsDriftDetector`]; tests use fakes.
pub trait DriftDetector {
    /// Runs drift detection for `stack` (name or ARN).
    fn detect(&self, stack: &str) -> impl Future<Output = DriftOutcome> + Send;
}

/// Judges a drift outcome. Only a completed detection that says `IN_SYNC` with no drifted
/// resource is in sync; any failure or inconclusive status is "not checked", with the reason.
pub fn drift_state(outcome: DriftOutcome) -> DriftState {
    match outcome {
        Err(e) => DriftState::NotChecked {
            reason: one_line(&e),
        },
        Ok(r) if !r.drifted.is_empty() => DriftState::Drifted {
            resources: r.drifted,
        },
        Ok(r) if r.stack_drift_status == "IN_SYNC" => DriftState::InSync,
        Ok(r) if r.stack_drift_status == "DRIFTED" => DriftState::NotChecked {
            reason: "drift detection reported the stack as DRIFTED but listed no drifted resource"
                .to_owned(),
        },
        Ok(r) => DriftState::NotChecked {
            reason: match r.reason {
                Some(why) => format!("drift detection ended as {}: {why}", r.stack_drift_status),
                None => format!("drift detection ended as {}", r.stack_drift_status),
            },
        },
    }
}

fn one_line(e: &AwsError) -> String {
    let mut s = format!("{} while trying to {}", kind_word(e), e.action);
    match (&e.code, &e.detail) {
        (Some(c), Some(d)) => s.push_str(&format!(": {c}: {d}")),
        (Some(c), None) => s.push_str(&format!(": {c}")),
        (None, Some(d)) => s.push_str(&format!(": {d}")),
        (None, None) => {}
    }
    s.chars().take(1000).collect()
}

fn kind_word(e: &AwsError) -> &'static str {
    match e.kind {
        AwsErrorKind::AccessDenied => "access denied",
        AwsErrorKind::Network => "network failure",
        AwsErrorKind::Throttled => "throttled",
        _ => "error",
    }
}

/// Drift detection through CloudFormation.
#[derive(Debug, Clone)]
pub struct AwsDriftDetector<'a> {
    ctx: &'a AwsContext,
    /// How many times to ask for the detection status.
    pub polls: u32,
    /// Pause between polls.
    pub interval: Duration,
}

impl<'a> AwsDriftDetector<'a> {
    /// Polls up to 60 times, 2 seconds apart (drift detection usually takes seconds to a minute).
    pub fn new(ctx: &'a AwsContext) -> Self {
        Self {
            ctx,
            polls: 60,
            interval: Duration::from_secs(2),
        }
    }

    async fn run(&self, stack: &str) -> DriftOutcome {
        let client = self.ctx.cloudformation();
        let region = self.ctx.region_name();
        let action = format!("detect drift of CloudFormation stack {stack}");
        // An endpoint without drift detection answers 500; one retry is enough to tell.
        let once = aws_sdk_cloudformation::config::Builder::default()
            .retry_config(RetryConfig::standard().with_max_attempts(2));
        let started = client
            .detect_stack_drift()
            .stack_name(stack)
            .customize()
            .config_override(once)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(&e, &action).with_region(&region))?;
        let Some(id) = started.stack_drift_detection_id().map(str::to_owned) else {
            return Err(AwsError::new(AwsErrorKind::Other, action)
                .with_region(&region)
                .with_detail("DetectStackDrift returned no detection id"));
        };
        let mut last = None;
        for i in 0..self.polls.max(1) {
            if i > 0 {
                tokio::time::sleep(self.interval).await;
            }
            let st = client
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&id)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(&e, &format!("read drift detection {id} of stack {stack}"))
                        .with_region(&region)
                })?;
            match st.detection_status() {
                Some(StackDriftDetectionStatus::DetectionInProgress) | None => {
                    last = Some("DETECTION_IN_PROGRESS".to_owned());
                    continue;
                }
                Some(StackDriftDetectionStatus::DetectionComplete) => {
                    let status = st
                        .stack_drift_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "UNKNOWN".to_owned());
                    let drifted = if st.stack_drift_status() == Some(&StackDriftStatus::InSync) {
                        Vec::new()
                    } else {
                        self.drifted_resources(stack).await?
                    };
                    return Ok(DriftReport {
                        stack_drift_status: status,
                        reason: st.detection_status_reason().map(str::to_owned),
                        drifted,
                    });
                }
                Some(other) => {
                    return Ok(DriftReport {
                        stack_drift_status: other.as_str().to_owned(),
                        reason: st.detection_status_reason().map(str::to_owned),
                        drifted: Vec::new(),
                    });
                }
            }
        }
        Ok(DriftReport {
            stack_drift_status: last.unwrap_or_else(|| "DETECTION_IN_PROGRESS".to_owned()),
            reason: Some(format!(
                "detection did not finish within {} polls",
                self.polls.max(1)
            )),
            drifted: Vec::new(),
        })
    }

    async fn drifted_resources(&self, stack: &str) -> Result<Vec<ResourceDrift>, AwsError> {
        let client = self.ctx.cloudformation();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(&e, &format!("list drifted resources of stack {stack}"))
                        .with_region(self.ctx.region_name())
                })?;
            for d in page.stack_resource_drifts() {
                out.push(ResourceDrift {
                    logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
                    physical_id: d.physical_resource_id().map(str::to_owned),
                    resource_type: d.resource_type().unwrap_or_default().to_owned(),
                    status: d
                        .stack_resource_drift_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    differences: d
                        .property_differences()
                        .iter()
                        .map(|p| PropertyDifference {
                            path: p.property_path().unwrap_or_default().to_owned(),
                            expected: p.expected_value().map(str::to_owned),
                            actual: p.actual_value().map(str::to_owned),
                            kind: p
                                .difference_type()
                                .map(|t| t.as_str().to_owned())
                                .unwrap_or_default(),
                        })
                        .collect(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(out)
    }
}

impl DriftDetector for AwsDriftDetector<'_> {
    fn detect(&self, stack: &str) -> impl Future<Output = DriftOutcome> + Send {
        self.run(stack)
    }
}

/// The same configuration in another region (a run.json may name the stack's region).
pub fn context_in_region(ctx: &AwsContext, region: &str) -> Result<AwsContext, AwsError> {
    if region.is_empty() || region == ctx.region_name() {
        return Ok(ctx.clone());
    }
    let sdk = ctx
        .sdk_config()
        .to_builder()
        .region(aws_types::region::Region::new(region.to_owned()))
        .build();
    AwsContext::from_sdk_config(sdk, ctx.settings().clone())
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

/// Takes a snapshot of `stack` (name or ARN) as of `taken_at` (UTC, RFC 3339). The stack must
/// exist; drift is whatever `drift` determines (never assumed).
pub async fn snapshot_stack(
    ctx: &AwsContext,
    stack: &str,
    taken_at: &str,
    drift: &impl DriftDetector,
) -> Result<StackSnapshot, AwsError> {
    let client = ctx.cloudformation();
    let region = ctx.region_name();
    let err = |e: AwsError| {
        let e = e.with_region(&region);
        if e.code.as_deref() == Some("ValidationError")
            && e.detail
                .as_deref()
                .is_some_and(|d| d.contains("does not exist"))
        {
            e.with_hint("check the stack name in run.json (stack.name) or --stack, and --region: the stack must exist in this account and region")
        } else {
            e
        }
    };

    let action = format!("describe CloudFormation stack {stack}");
    let described = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| err(AwsError::from_sdk(&e, &action)))?;
    let Some(s) = described.stacks().first() else {
        return Err(err(AwsError::new(AwsErrorKind::Other, action)
            .with_detail("DescribeStacks returned no stack")
            .with_hint("check the stack name and --region")));
    };
    let stack_name = s.stack_name().unwrap_or(stack).to_owned();

    let template = client
        .get_template()
        .stack_name(stack)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| {
            err(AwsError::from_sdk(
                &e,
                &format!("get the template of stack {stack}"),
            ))
        })?;

    let mut resources = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                err(AwsError::from_sdk(
                    &e,
                    &format!("list the resources of stack {stack}"),
                ))
            })?;
        for r in page.stack_resource_summaries() {
            resources.push(StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_reason: r.resource_status_reason().map(str::to_owned),
                last_updated: time(r.last_updated_timestamp()),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }

    let mut events = Vec::new();
    let mut token: Option<String> = None;
    while events.len() < MAX_EVENTS {
        let page = client
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                err(AwsError::from_sdk(
                    &e,
                    &format!("list the events of stack {stack}"),
                ))
            })?;
        for ev in page.stack_events() {
            if events.len() == MAX_EVENTS {
                break;
            }
            events.push(StackEvent {
                event_id: ev.event_id().unwrap_or_default().to_owned(),
                timestamp: time(ev.timestamp()),
                logical_id: ev.logical_resource_id().map(str::to_owned),
                physical_id: ev.physical_resource_id().map(str::to_owned),
                resource_type: ev.resource_type().map(str::to_owned),
                status: ev.resource_status().map(|s| s.as_str().to_owned()),
                status_reason: ev.resource_status_reason().map(str::to_owned),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }

    let drift = drift_state(drift.detect(stack).await);

    let mut snap = StackSnapshot {
        schema: STACK_SNAPSHOT_SCHEMA.to_owned(),
        taken_at: taken_at.to_owned(),
        region: region.clone(),
        stack_name,
        stack_id: s.stack_id().map(str::to_owned),
        status: s
            .stack_status()
            .map(|st| st.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: s.stack_status_reason().map(str::to_owned),
        description: s.description().map(str::to_owned),
        created_at: time(s.creation_time()),
        updated_at: time(s.last_updated_time()),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| StackOutput {
                key: o.output_key().unwrap_or_default().to_owned(),
                value: o.output_value().map(str::to_owned),
                description: o.description().map(str::to_owned),
                export_name: o.export_name().map(str::to_owned),
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        template: StackTemplate::new(template.template_body().unwrap_or_default().to_owned()),
        resources,
        events,
        drift,
    };
    snap.normalise();
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A detector that answers what it is told.
    struct Fake(DriftOutcome);

    impl DriftDetector for Fake {
        fn detect(&self, _stack: &str) -> impl Future<Output = DriftOutcome> + Send {
            let out = self.0.clone();
            async move { out }
        }
    }

    fn report(status: &str, drifted: Vec<ResourceDrift>) -> DriftOutcome {
        Ok(DriftReport {
            stack_drift_status: status.to_owned(),
            reason: None,
            drifted,
        })
    }

    fn bucket_drift() -> ResourceDrift {
        ResourceDrift {
            logical_id: "AttachmentsBucket".into(),
            physical_id: Some("lims-attachments".into()),
            resource_type: "AWS::S3::Bucket".into(),
            status: "MODIFIED".into(),
            differences: vec![PropertyDifference {
                path: "/VersioningConfiguration/Status".into(),
                expected: Some("Enabled".into()),
                actual: Some("Suspended".into()),
                kind: "NOT_EQUAL".into(),
            }],
        }
    }

    async fn judged(outcome: DriftOutcome) -> DriftState {
        drift_state(Fake(outcome).detect("lims-qual").await)
    }

    #[tokio::test]
    async fn in_sync_only_when_detection_completed_in_sync() {
        assert_eq!(judged(report("IN_SYNC", vec![])).await, DriftState::InSync);
    }

    #[tokio::test]
    async fn drifted_resources_are_kept() {
        let state = judged(report("DRIFTED", vec![bucket_drift()])).await;
        assert_eq!(
            state,
            DriftState::Drifted {
                resources: vec![bucket_drift()]
            }
        );
        // A drifted resource wins even over a contradictory stack status.
        let state = judged(report("IN_SYNC", vec![bucket_drift()])).await;
        assert!(matches!(state, DriftState::Drifted { .. }));
    }

    #[tokio::test]
    async fn an_endpoint_error_is_not_checked_never_in_sync() {
        let mut e = AwsError::new(
            AwsErrorKind::Other,
            "detect drift of CloudFormation stack lims-qual",
        );
        e.code = Some("InternalFailure".into());
        e.detail = Some("HTTP 500: not implemented".into());
        let state = judged(Err(e)).await;
        match state {
            DriftState::NotChecked { reason } => {
                assert!(reason.contains("detect drift of CloudFormation stack lims-qual"));
                assert!(reason.contains("HTTP 500"), "{reason}");
            }
            other => panic!("expected not checked, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn inconclusive_detections_are_not_checked() {
        for status in [
            "UNKNOWN",
            "NOT_CHECKED",
            "DETECTION_FAILED",
            "DETECTION_IN_PROGRESS",
            "DRIFTED",
        ] {
            let state = judged(report(status, vec![])).await;
            assert!(
                matches!(state, DriftState::NotChecked { .. }),
                "{status} gave {state:?}"
            );
        }
        let state = judged(Ok(DriftReport {
            stack_drift_status: "DETECTION_FAILED".into(),
            reason: Some("no permission for s3:GetBucketVersioning".into()),
            drifted: vec![],
        }))
        .await;
        assert_eq!(
            state,
            DriftState::NotChecked {
                reason: "drift detection ended as DETECTION_FAILED: no permission for s3:GetBucketVersioning".into()
            }
        );
    }
}
