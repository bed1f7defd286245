//! The proxy's CloudFormation drift front. The emulator has no drift detection (its
//! DetectStackDrift answers "not implemented", which Countersign reports as "drift not
//! checked"); a test that needs an answer tells the proxy what drift detection finds for a
//! stack, and the proxy answers the three calls of a detection as CloudFormation does:
//!
//! - `DetectStackDrift` (StackName) → a detection id;
//! - `DescribeStackDriftDetectionStatus` (StackDriftDetectionId) → `DETECTION_COMPLETE` with
//!   `IN_SYNC` or `DRIFTED`, or `DETECTION_FAILED` with a reason;
//! - `DescribeStackResourceDrifts` (StackName) → the drifted resources.
//!
//! Stacks without an answer go to the emulator unchanged.

use std::collections::HashMap;

use hyper::Response;

use crate::proxy::{lock, xml_escape, xml_response, ProxyBody, SharedState};

const CFN_NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// What drift detection finds for a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftAnswer {
    /// Every resource matches the template.
    InSync,
    /// These resources differ: (logical id, resource type, `MODIFIED` or `DELETED`).
    Drifted(Vec<(String, String, String)>),
    /// The detection itself failed, with this reason.
    Failed(String),
}

/// Answers a drift call for a stack the test configured; `None` to forward it.
pub(crate) fn answer(
    state: &SharedState,
    action: &str,
    fields: &HashMap<String, String>,
) -> Option<Response<ProxyBody>> {
    let mut st = lock(state);
    let stack_of_detection = |id: &str| id.strip_prefix("drift-").map(str::to_owned);
    let (stack, body) = match action {
        "DetectStackDrift" => {
            let stack = fields.get("StackName")?.clone();
            st.drift.get(&stack)?;
            let body = format!(
                "<DetectStackDriftResult><StackDriftDetectionId>drift-{}</StackDriftDetectionId></DetectStackDriftResult>",
                xml_escape(&stack)
            );
            (stack, body)
        }
        "DescribeStackDriftDetectionStatus" => {
            let stack = stack_of_detection(fields.get("StackDriftDetectionId")?)?;
            let answer = st.drift.get(&stack)?.clone();
            let (status, drift, reason) = match answer {
                DriftAnswer::InSync => ("DETECTION_COMPLETE", "IN_SYNC", String::new()),
                DriftAnswer::Drifted(_) => ("DETECTION_COMPLETE", "DRIFTED", String::new()),
                DriftAnswer::Failed(why) => (
                    "DETECTION_FAILED",
                    "UNKNOWN",
                    format!(
                        "<DetectionStatusReason>{}</DetectionStatusReason>",
                        xml_escape(&why)
                    ),
                ),
            };
            let body = format!(
                "<DescribeStackDriftDetectionStatusResult><StackId>{stack}</StackId>\
                 <StackDriftDetectionId>drift-{stack}</StackDriftDetectionId>\
                 <StackDriftStatus>{drift}</StackDriftStatus><DetectionStatus>{status}</DetectionStatus>\
                 {reason}<DriftedStackResourceCount>0</DriftedStackResourceCount>\
                 <Timestamp>2026-11-05T10:00:00Z</Timestamp></DescribeStackDriftDetectionStatusResult>",
                stack = xml_escape(&stack)
            );
            (stack, body)
        }
        "DescribeStackResourceDrifts" => {
            let stack = fields.get("StackName")?.clone();
            let DriftAnswer::Drifted(resources) = st.drift.get(&stack)?.clone() else {
                return None;
            };
            let members: String = resources
                .iter()
                .map(|(logical, kind, status)| {
                    format!(
                        "<member><StackId>{s}</StackId><LogicalResourceId>{l}</LogicalResourceId>\
                         <PhysicalResourceId>{l}-physical</PhysicalResourceId><ResourceType>{k}</ResourceType>\
                         <StackResourceDriftStatus>{st}</StackResourceDriftStatus>\
                         <Timestamp>2026-11-05T10:00:00Z</Timestamp></member>",
                        s = xml_escape(&stack),
                        l = xml_escape(logical),
                        k = xml_escape(kind),
                        st = xml_escape(status)
                    )
                })
                .collect();
            let body = format!(
                "<DescribeStackResourceDriftsResult><StackResourceDrifts>{members}</StackResourceDrifts></DescribeStackResourceDriftsResult>"
            );
            (stack, body)
        }
        _ => return None,
    };
    let _ = stack;
    let id = st.request_id();
    Some(xml_response(
        200,
        &id,
        format!(
            "<{action}Response xmlns=\"{CFN_NS}\">{body}<ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></{action}Response>"
        ),
    ))
}
