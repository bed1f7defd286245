//! The stack now against its baseline snapshot: template, parameters, outputs, tags,
//! resources, status, and drift where the endpoint could detect it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::change::{Change, ChangeKind, FieldDiff, ResourceRef};
use super::json_diff::diff;
use crate::digest::Sha256;
use crate::signature::predicate::UtcTimestamp;
use crate::stack_snapshot::{DriftState, StackSnapshot};

fn stack_resource(s: &StackSnapshot) -> ResourceRef {
    ResourceRef {
        resource_type: "AWS::CloudFormation::Stack".to_owned(),
        resource_id: s.stack_id.clone().unwrap_or_else(|| s.stack_name.clone()),
        name: Some(s.stack_name.clone()),
    }
}

fn when(text: Option<&str>) -> Option<UtcTimestamp> {
    let t =
        time::OffsetDateTime::parse(text?, &time::format_description::well_known::Rfc3339).ok()?;
    Some(UtcTimestamp::new(t))
}

fn by_key<T>(items: &[T], key: impl Fn(&T) -> &str, value: impl Fn(&T) -> Value) -> Value {
    let map: BTreeMap<String, Value> = items
        .iter()
        .map(|i| (key(i).to_owned(), value(i)))
        .collect();
    json!(map)
}

/// The changes between the `baseline` snapshot and the `current` one (digest `current_sha256`).
/// Each aspect that differs is one change; each resource that drifted since the baseline is
/// one change. A stack update carries the stack's `updated_at` as its time; the others have
/// no time of their own (they were found by comparing snapshots).
pub fn stack_changes(
    baseline: &StackSnapshot,
    current: &StackSnapshot,
    current_sha256: Sha256,
) -> Vec<Change> {
    let resource = stack_resource(current);
    let source = vec![format!("stack snapshot sha256:{current_sha256}")];
    let mut out = Vec::new();
    let mut push = |summary: String, differences: Vec<FieldDiff>, at: Option<UtcTimestamp>| {
        if !differences.is_empty() {
            out.push(Change::new(
                ChangeKind::Stack,
                at,
                Some(resource.clone()),
                summary,
                differences,
                Vec::new(),
                source.clone(),
            ));
        }
    };
    let name = &current.stack_name;

    let template = if baseline.template.sha256 == current.template.sha256 {
        Vec::new()
    } else {
        vec![FieldDiff {
            path: "/template/sha256".to_owned(),
            before: Some(format!("\"{}\"", baseline.template.sha256)),
            after: Some(format!("\"{}\"", current.template.sha256)),
        }]
    };
    push(format!("Stack {name}: template changed"), template, None);

    push(
        format!("Stack {name}: parameters changed"),
        diff(
            "/parameters",
            &json!(baseline.parameters),
            &json!(current.parameters),
        ),
        None,
    );
    let outputs = |s: &StackSnapshot| {
        by_key(
            &s.outputs,
            |o| &o.key,
            |o| json!({"value": o.value, "description": o.description, "export_name": o.export_name}),
        )
    };
    push(
        format!("Stack {name}: outputs changed"),
        diff("/outputs", &outputs(baseline), &outputs(current)),
        None,
    );
    push(
        format!("Stack {name}: tags changed"),
        diff("/tags", &json!(baseline.tags), &json!(current.tags)),
        None,
    );
    let resources = |s: &StackSnapshot| {
        by_key(
            &s.resources,
            |r| &r.logical_id,
            |r| json!({"physical_id": r.physical_id, "resource_type": r.resource_type, "status": r.status, "last_updated": r.last_updated}),
        )
    };
    push(
        format!("Stack {name}: resources changed"),
        diff("/resources", &resources(baseline), &resources(current)),
        None,
    );
    let status = |s: &StackSnapshot| json!({"status": s.status, "updated_at": s.updated_at, "stack_id": s.stack_id});
    let updated =
        when(current.updated_at.as_deref()).filter(|_| current.updated_at != baseline.updated_at);
    push(
        format!("Stack {name}: status or last update changed"),
        diff("", &status(baseline), &status(current)),
        updated,
    );

    let baseline_drift: Vec<_> = match &baseline.drift {
        DriftState::Drifted { resources } => resources.clone(),
        _ => Vec::new(),
    };
    if let DriftState::Drifted { resources } = &current.drift {
        for r in resources.iter().filter(|r| !baseline_drift.contains(r)) {
            let mut differences: Vec<FieldDiff> = r
                .differences
                .iter()
                .map(|d| FieldDiff {
                    path: format!("/drift/{}{}", r.logical_id, d.path),
                    before: d.expected.clone(),
                    after: d.actual.clone(),
                })
                .collect();
            if differences.is_empty() {
                differences.push(FieldDiff {
                    path: format!("/drift/{}", r.logical_id),
                    before: Some("\"IN_SYNC\"".to_owned()),
                    after: Some(format!("\"{}\"", r.status)),
                });
            }
            out.push(Change::new(
                ChangeKind::Stack,
                None,
                Some(ResourceRef {
                    resource_type: r.resource_type.clone(),
                    resource_id: r
                        .physical_id
                        .clone()
                        .unwrap_or_else(|| r.logical_id.clone()),
                    name: Some(r.logical_id.clone()),
                }),
                format!(
                    "Stack {name}: resource {} {} (drift detected)",
                    r.logical_id,
                    r.status.to_ascii_lowercase()
                ),
                differences,
                Vec::new(),
                vec![format!("stack snapshot sha256:{current_sha256}")],
            ));
        }
    }
    out
}
