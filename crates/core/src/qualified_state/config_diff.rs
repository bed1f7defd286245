//! AWS Config items of the stack's resources captured after approval, each compared with the
//! configuration before it (the one in force at approval first), and the NON_COMPLIANT rule
//! evaluations the Config files carry.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::change::{Change, ChangeKind, EventRef, FieldDiff, ResourceRef};
use super::json_diff::diff;
use crate::aws_config_items::{stack_resources, ConfigItem};
use crate::signature::predicate::UtcTimestamp;

/// The resource type of AWS Config's compliance items.
pub const COMPLIANCE_RESOURCE_TYPE: &str = "AWS::Config::ResourceCompliance";
const NON_COMPLIANT: &str = "NON_COMPLIANT";

/// What the Config files say about the stack's resources after approval.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFindings {
    /// Configuration changes and compliance findings, in time order.
    pub changes: Vec<Change>,
    /// What a reader should know (resources first recorded after approval, items without a
    /// capture time).
    pub notes: Vec<String>,
    /// The CloudTrail event ids that configuration changes account for.
    pub explained_events: BTreeSet<String>,
    /// Names, ids and ARNs of the stack's resources as Config knows them.
    pub identifiers: BTreeSet<String>,
}

fn captured(i: &ConfigItem) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(i.capture_time.as_deref()?, &Rfc3339).ok()
}

fn short_type(t: &str) -> &str {
    t.rsplit("::").next().unwrap_or(t)
}

fn state(i: &ConfigItem) -> Value {
    json!({
        "configuration": i.configuration,
        "supplementaryConfiguration": i.supplementary_configuration,
        "tags": i.tags,
    })
}

fn resource_of(i: &ConfigItem) -> ResourceRef {
    ResourceRef {
        resource_type: i.resource_type.clone(),
        resource_id: i.resource_id.clone(),
        name: i.resource_name.clone(),
    }
}

fn label(i: &ConfigItem) -> String {
    format!(
        "{} {}",
        short_type(&i.resource_type),
        i.resource_name.as_deref().unwrap_or(&i.resource_id)
    )
}

fn top_level(differences: &[FieldDiff]) -> String {
    let mut names: Vec<&str> = differences
        .iter()
        .filter_map(|d| {
            let mut parts = d.path.trim_start_matches('/').split('/');
            let first = parts.next()?;
            Some(match first {
                "configuration" | "supplementaryConfiguration" | "tags" => {
                    parts.next().unwrap_or(first)
                }
                other => other,
            })
        })
        .collect();
    names.dedup();
    let mut seen = BTreeSet::new();
    names.retain(|n| seen.insert(*n));
    names.join(", ")
}

/// The Config findings for the stack `stack` (name or ARN) between `from` (exclusive) and `to`
/// (inclusive). `write_events` are the successful write calls on the stack's resources: a
/// configuration item whose `relatedEvents` names one carries it as its cause.
pub fn config_findings(
    items: &[ConfigItem],
    stack: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    write_events: &[EventRef],
) -> ConfigFindings {
    let selected = stack_resources(items, stack);
    let mut out = ConfigFindings {
        identifiers: selected.identifiers.clone(),
        ..ConfigFindings::default()
    };
    let events_by_id: BTreeMap<&str, &EventRef> = write_events
        .iter()
        .filter_map(|e| Some((e.event_id.as_deref()?, e)))
        .collect();

    let mut groups: BTreeMap<(String, String), Vec<(OffsetDateTime, &ConfigItem)>> =
        BTreeMap::new();
    let mut undated = 0usize;
    for i in &selected.items {
        match captured(i) {
            Some(t) => groups
                .entry((i.resource_type.clone(), i.resource_id.clone()))
                .or_default()
                .push((t, i)),
            None => undated += 1,
        }
    }
    if undated > 0 {
        out.notes.push(format!(
            "{undated} configuration item(s) of the stack's resources have no capture time and were not compared"
        ));
    }
    let stack_keys: BTreeSet<(String, String)> = groups.keys().cloned().collect();

    for list in groups.values_mut() {
        list.sort_by_key(|(t, _)| *t);
        let mut reference: Option<&ConfigItem> =
            list.iter().rev().find(|(t, _)| *t <= from).map(|(_, i)| *i);
        for (t, item) in list.iter().filter(|(t, _)| *t > from && *t <= to) {
            let Some(before) = reference else {
                let created_after = item
                    .resource_creation_time
                    .as_deref()
                    .and_then(|c| OffsetDateTime::parse(c, &Rfc3339).ok())
                    .is_some_and(|c| c > from);
                if created_after {
                    out.changes.push(change(
                        item,
                        *t,
                        format!("{}: created after approval", label(item)),
                        diff("", &json!({}), &state(item)),
                        &events_by_id,
                        &mut out.explained_events,
                    ));
                } else {
                    out.notes.push(format!(
                        "{} was first recorded by AWS Config after approval ({}); later items are compared with that one, and what happened before it is shown by CloudTrail only",
                        label(item),
                        item.capture_time.as_deref().unwrap_or("?")
                    ));
                }
                reference = Some(item);
                continue;
            };
            let deleted = item
                .status
                .as_deref()
                .is_some_and(|s| s.starts_with("ResourceDeleted"));
            if deleted {
                let d = vec![FieldDiff {
                    path: "/configurationItemStatus".to_owned(),
                    before: before.status.as_ref().map(|s| format!("\"{s}\"")),
                    after: item.status.as_ref().map(|s| format!("\"{s}\"")),
                }];
                out.changes.push(change(
                    item,
                    *t,
                    format!("{}: deleted", label(item)),
                    d,
                    &events_by_id,
                    &mut out.explained_events,
                ));
            } else {
                let d = diff("", &state(before), &state(item));
                if !d.is_empty() {
                    let summary = format!("{}: {} changed", label(item), top_level(&d));
                    out.changes.push(change(
                        item,
                        *t,
                        summary,
                        d,
                        &events_by_id,
                        &mut out.explained_events,
                    ));
                }
            }
            reference = Some(item);
        }
    }

    out.changes
        .extend(compliance_changes(items, &stack_keys, from, to));
    out.changes
        .sort_by(|a, b| (a.at, &a.summary).cmp(&(b.at, &b.summary)));
    out
}

fn change(
    item: &ConfigItem,
    at: OffsetDateTime,
    summary: String,
    differences: Vec<FieldDiff>,
    events_by_id: &BTreeMap<&str, &EventRef>,
    explained: &mut BTreeSet<String>,
) -> Change {
    let events: Vec<EventRef> = item
        .related_events
        .iter()
        .filter_map(|id| events_by_id.get(id.as_str()).map(|e| (*e).clone()))
        .collect();
    for e in &events {
        explained.extend(e.event_id.clone());
    }
    Change::new(
        ChangeKind::Configuration,
        Some(UtcTimestamp::new(at)),
        Some(resource_of(item)),
        summary,
        differences,
        events,
        vec![item.source_key.clone()],
    )
}

/// Per rule, the compliance a compliance item records.
fn rules(item: &ConfigItem) -> BTreeMap<String, String> {
    item.configuration
        .get("configRuleList")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    Some((
                        r.get("configRuleName")?.as_str()?.to_owned(),
                        r.get("complianceType")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The resource a compliance item evaluates: `configuration.resourceType`/`resourceId`, else
/// the `Is associated with` relationship.
fn evaluated(item: &ConfigItem) -> Option<(String, String)> {
    let c = &item.configuration;
    if let (Some(t), Some(id)) = (
        c.get("resourceType").and_then(Value::as_str),
        c.get("resourceId").and_then(Value::as_str),
    ) {
        return Some((t.to_owned(), id.to_owned()));
    }
    item.relationships
        .iter()
        .find_map(|r| Some((r.resource_type.clone()?, r.resource_id.clone()?)))
}

fn compliance_changes(
    items: &[ConfigItem],
    stack_keys: &BTreeSet<(String, String)>,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Vec<Change> {
    let mut groups: BTreeMap<(String, String), Vec<(OffsetDateTime, &ConfigItem)>> =
        BTreeMap::new();
    for i in items
        .iter()
        .filter(|i| i.resource_type == COMPLIANCE_RESOURCE_TYPE)
    {
        let (Some(target), Some(t)) = (evaluated(i), captured(i)) else {
            continue;
        };
        if stack_keys.contains(&target) {
            groups.entry(target).or_default().push((t, i));
        }
    }
    let mut out = Vec::new();
    for ((rtype, rid), mut list) in groups {
        list.sort_by_key(|(t, _)| *t);
        let mut previous: BTreeMap<String, String> = list
            .iter()
            .rev()
            .find(|(t, _)| *t <= from)
            .map(|(_, i)| rules(i))
            .unwrap_or_default();
        for (t, item) in list.iter().filter(|(t, _)| *t > from && *t <= to) {
            let now = rules(item);
            let newly: Vec<FieldDiff> = now
                .iter()
                .filter(|(rule, c)| {
                    c.as_str() == NON_COMPLIANT
                        && previous.get(*rule).map(String::as_str) != Some(NON_COMPLIANT)
                })
                .map(|(rule, c)| FieldDiff {
                    path: format!("/compliance/{}", rule.replace('~', "~0").replace('/', "~1")),
                    before: previous.get(rule).map(|p| format!("\"{p}\"")),
                    after: Some(format!("\"{c}\"")),
                })
                .collect();
            if !newly.is_empty() {
                let names: Vec<&str> = newly
                    .iter()
                    .map(|d| d.path.trim_start_matches("/compliance/"))
                    .collect();
                out.push(Change::new(
                    ChangeKind::Compliance,
                    Some(UtcTimestamp::new(*t)),
                    Some(ResourceRef {
                        resource_type: rtype.clone(),
                        resource_id: rid.clone(),
                        name: None,
                    }),
                    format!(
                        "{} {rid}: NON_COMPLIANT with {}",
                        short_type(&rtype),
                        names.join(", ")
                    ),
                    newly,
                    Vec::new(),
                    vec![item.source_key.clone()],
                ));
            }
            previous = now;
        }
    }
    out
}
