//! CloudTrail calls on the stack's resources after approval: every call for the event list and
//! the chart, successful write calls as changes, failed write calls as attempts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::change::{Change, ChangeKind, EventRef, ResourceRef};
use crate::cloudtrail::events::{EventScope, TrailEvent};

/// The calls on the stack's resources in a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFindings {
    /// Every call (read and write), in time order.
    pub events: Vec<EventRef>,
    /// Write calls that succeeded.
    pub writes: Vec<EventRef>,
    /// Write calls that failed: attempts, not changes.
    pub attempts: Vec<EventRef>,
}

/// The calls of `events` after `from` and at or before `to` that name one of `identifiers`
/// (an S3 bucket ARN also matches the ARNs of its objects). `validated_logs` are the keys of
/// the log files a validated digest covers.
pub fn trail_findings(
    events: &[TrailEvent],
    identifiers: &BTreeSet<String>,
    from: OffsetDateTime,
    to: OffsetDateTime,
    validated_logs: &BTreeSet<String>,
) -> TrailFindings {
    let scope = EventScope {
        identifiers: identifiers.clone(),
        from: None,
        to: None,
    };
    let mut out = TrailFindings::default();
    let mut selected: Vec<&TrailEvent> = events
        .iter()
        .filter(|e| e.time > from && e.time <= to && scope.matches(e))
        .collect();
    selected.sort_by_key(|e| e.time);
    for e in selected {
        let r = EventRef::of(e, validated_logs.contains(&e.log_key));
        if !r.read_only {
            if r.error_code.is_some() {
                out.attempts.push(r.clone());
            } else {
                out.writes.push(r.clone());
            }
        }
        out.events.push(r);
    }
    out
}

/// A successful write call that no configuration item accounts for, as a change.
pub fn call_change(e: &EventRef) -> Change {
    // CloudTrail names the resource, not always its type: the service called stands in.
    let resource = e.resources.first().map(|r| ResourceRef {
        resource_type: e.event_source.clone(),
        resource_id: r.clone(),
        name: None,
    });
    Change::new(
        ChangeKind::ApiCall,
        Some(e.time),
        resource,
        format!(
            "{} ({}) by {} on {}",
            e.event_name,
            e.event_source,
            e.who(),
            e.resources.first().map_or("the stack", String::as_str)
        ),
        Vec::new(),
        vec![e.clone()],
        vec![e.log_key.clone()],
    )
}

/// Calls per day (UTC), for the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayActivity {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Successful write calls.
    pub writes: u32,
    /// Read calls.
    pub reads: u32,
    /// Failed write calls.
    pub failed: u32,
}

/// The calls of `events` counted per UTC day, oldest first (days without a call left out).
pub fn activity(events: &[EventRef]) -> Vec<DayActivity> {
    let mut days: BTreeMap<String, DayActivity> = BTreeMap::new();
    for e in events {
        let date = e.time.to_string().chars().take(10).collect::<String>();
        let d = days.entry(date.clone()).or_insert(DayActivity {
            date,
            writes: 0,
            reads: 0,
            failed: 0,
        });
        match (e.read_only, e.error_code.is_some()) {
            (true, _) => d.reads += 1,
            (false, true) => d.failed += 1,
            (false, false) => d.writes += 1,
        }
    }
    days.into_values().collect()
}
