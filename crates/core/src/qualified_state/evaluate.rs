//! Everything the evidence says about one system after approval, put together into its
//! findings and verdict.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::assessment::Impact;
use super::baseline::{Baseline, SnapshotRef};
use super::change::{AssessmentRef, Change, EventRef};
use super::config_diff::config_findings;
use super::coverage::{coverage, validated_log_keys, Period};
use super::findings::{CurrentStack, Findings, Verdict, VerdictKind, STATE_FINDINGS_SCHEMA};
use super::stack_diff::stack_changes;
use super::trail::{activity, call_change, trail_findings, DayActivity};
use crate::aws_config_items::ConfigItem;
use crate::cloudtrail::digest_chain::ChainReport;
use crate::cloudtrail::events::TrailEvent;
use crate::digest::Sha256;
use crate::signature::predicate::UtcTimestamp;
use crate::stack_snapshot::StackSnapshot;

/// The stack to compare with the baseline.
#[derive(Debug, Clone, Copy)]
pub struct CurrentInput<'a> {
    /// The snapshot and its digest, when there is one.
    pub snapshot: Option<(&'a StackSnapshot, Sha256)>,
    /// Whether it was taken for this check.
    pub fresh: bool,
}

/// What the evaluation of one system needs; everything is read by the caller.
#[derive(Debug, Clone)]
pub struct StateInputs<'a> {
    /// The system.
    pub system: &'a str,
    /// Its baseline.
    pub baseline: &'a Baseline,
    /// The baseline snapshot's contents.
    pub baseline_snapshot: Option<&'a StackSnapshot>,
    /// The period: from (at or after the approval) to (the check, or the review's end).
    pub from: OffsetDateTime,
    /// End of the period.
    pub to: OffsetDateTime,
    /// The stack now.
    pub current: CurrentInput<'a>,
    /// Why there is no current snapshot, or what to know about it.
    pub current_note: Option<String>,
    /// Every AWS Config item in the store.
    pub config_items: &'a [ConfigItem],
    /// Every CloudTrail event in the store.
    pub events: &'a [TrailEvent],
    /// The digest chain of the stack's region, validated.
    pub chain: &'a ChainReport,
    /// Fingerprints of the public keys the chain was validated with.
    pub public_keys: &'a [String],
    /// The valid assessments of this system's changes.
    pub assessments: &'a [AssessmentRef],
    /// Notes from the caller (baseline choice, unreadable evidence files, …).
    pub notes: Vec<String>,
}

/// The findings, and what the window and the exports show beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated {
    /// The findings document.
    pub findings: Findings,
    /// Every CloudTrail call on the stack's resources in the period, in time order.
    pub events: Vec<EventRef>,
    /// Those calls per day.
    pub activity: Vec<DayActivity>,
}

/// `2026-11-06 10:00 UTC`: how the verdict writes a time.
pub fn human_time(t: UtcTimestamp) -> String {
    let s = t.to_string();
    format!(
        "{} {} UTC",
        &s[..10.min(s.len())],
        s.get(11..16).unwrap_or("")
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Evaluates one system.
pub fn evaluate(input: &StateInputs<'_>) -> Evaluated {
    let from = input.from;
    let to = input.to;
    let mut notes = input.notes.clone();
    let mut changes: Vec<Change> = Vec::new();

    // AWS Config is asked by the stack's name: its items name the stack by name and ARN, and
    // the name is what every source agrees on.
    let stack = input.baseline_snapshot.map(|s| s.stack_name.clone());
    let mut identifiers: BTreeSet<String> = BTreeSet::new();
    for s in input
        .baseline_snapshot
        .into_iter()
        .chain(input.current.snapshot.map(|(s, _)| s))
    {
        identifiers.insert(s.stack_name.clone());
        identifiers.extend(s.stack_id.clone());
        for r in &s.resources {
            identifiers.extend(r.physical_id.clone());
        }
    }
    if let Some(name) = input.baseline_snapshot.map(|s| s.stack_name.as_str()) {
        let arn_part = format!(":stack/{name}/");
        for e in input.events {
            for r in &e.resources {
                if r.starts_with("arn:aws:cloudformation:") && r.contains(&arn_part) {
                    identifiers.insert(r.clone());
                }
            }
        }
    }

    let validated = validated_log_keys(input.chain);
    // Config first tells which identifiers belong to the stack; then CloudTrail.
    let config_ids = match &stack {
        Some(stack) => config_findings(input.config_items, stack, from, to, &[]).identifiers,
        None => BTreeSet::new(),
    };
    identifiers.extend(config_ids);
    identifiers.retain(|i| !i.is_empty());
    let trail = trail_findings(input.events, &identifiers, from, to, &validated);
    if let Some(stack) = &stack {
        let config = config_findings(input.config_items, stack, from, to, &trail.writes);
        changes.extend(
            trail
                .writes
                .iter()
                .filter(|e| {
                    e.event_id
                        .as_ref()
                        .is_none_or(|id| !config.explained_events.contains(id))
                })
                .map(call_change),
        );
        changes.extend(config.changes);
        notes.extend(config.notes);
    } else {
        notes.push(
            "no stack is known for the approved runs: AWS Config items and CloudTrail calls \
             cannot be tied to the system"
                .to_owned(),
        );
    }
    let unvalidated = trail.events.iter().filter(|e| !e.validated).count();
    if unvalidated > 0 {
        notes.push(format!(
            "{} on the stack's resources came from log files no validated digest covers: they are shown, but their integrity is not established",
            plural(unvalidated, "CloudTrail call", "CloudTrail calls")
        ));
    }

    let mut current_note = input.current_note.clone();
    let current_ref = input
        .current
        .snapshot
        .map(|(s, sha)| SnapshotRef::of(s, sha));
    match (input.baseline_snapshot, input.current.snapshot) {
        (Some(base), Some((now, sha))) => changes.extend(stack_changes(base, now, sha)),
        (None, Some(_)) => {}
        (_, None) => {
            current_note.get_or_insert_with(|| {
                "no stack snapshot after the approval: the stack was not compared with its baseline".to_owned()
            });
        }
    }
    if let Some((now, _)) = input.current.snapshot {
        if let crate::stack_snapshot::DriftState::NotChecked { reason } = &now.drift {
            notes.push(format!(
                "drift not checked in the current snapshot ({reason}): changes made outside CloudFormation are found by CloudTrail and AWS Config only"
            ));
        }
    }

    // Assessments: the latest valid one per change.
    let mut latest: BTreeMap<Sha256, &AssessmentRef> = BTreeMap::new();
    for a in input.assessments {
        match latest.get(&a.change) {
            Some(b) if b.signed_at > a.signed_at => {}
            _ => {
                latest.insert(a.change, a);
            }
        }
    }
    for c in &mut changes {
        c.assessment = latest.get(&c.id).map(|a| (*a).clone());
    }
    changes.sort_by(|a, b| {
        (a.at.is_none(), a.at, &a.summary, a.id).cmp(&(b.at.is_none(), b.at, &b.summary, b.id))
    });
    changes.dedup_by(|a, b| a.id == b.id);

    let cov = coverage(input.chain, input.public_keys, from, to);
    let open = changes
        .iter()
        .filter(|c| {
            c.assessment
                .as_ref()
                .is_none_or(|a| a.impact == Impact::RequalificationNeeded)
        })
        .count();
    let unassessed = changes.iter().filter(|c| c.assessment.is_none()).count();
    let since = if UtcTimestamp::new(from) == input.baseline.approved_at {
        "since approval"
    } else {
        "in the period"
    };
    let (kind, text) = if open > 0 {
        let mut parts = Vec::new();
        if unassessed > 0 {
            parts.push(format!("{unassessed} not assessed"));
        }
        if open > unassessed {
            parts.push(format!("{} needing requalification", open - unassessed));
        }
        (
            VerdictKind::Changed,
            format!(
                "Changed: {} {since} ({})",
                plural(changes.len(), "change", "changes"),
                parts.join(", ")
            ),
        )
    } else if let Some(first) = cov.gaps.first() {
        let more = match cov.gaps.len() {
            1 => String::new(),
            n => format!(" and {} more", plural(n - 1, "gap", "gaps")),
        };
        (
            VerdictKind::NotDemonstrable,
            format!(
                "Not demonstrable: evidence gap {} – {}{more}",
                human_time(first.from),
                human_time(first.to)
            ),
        )
    } else if let Some(until) = cov.covered_until {
        let assessed = if changes.is_empty() {
            String::new()
        } else {
            format!(
                " ({} assessed as no impact)",
                plural(changes.len(), "change", "changes")
            )
        };
        (
            VerdictKind::InQualifiedState,
            format!(
                "In qualified state from {} to {}{assessed}",
                human_time(UtcTimestamp::new(from)),
                human_time(until)
            ),
        )
    } else {
        (
            VerdictKind::NotDemonstrable,
            "Not demonstrable: no CloudTrail evidence covers the period".to_owned(),
        )
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let verdict = Verdict {
        kind,
        text,
        changes: count(changes.len()),
        open_changes: count(open),
        gaps: count(cov.gaps.len()),
        covered_until: cov.covered_until,
    };
    let mut assessments: Vec<AssessmentRef> = input.assessments.to_vec();
    assessments.sort_by_key(|a| (a.signed_at, a.change));
    let findings = Findings {
        schema: STATE_FINDINGS_SCHEMA.to_owned(),
        system: input.system.to_owned(),
        period: Period {
            from: UtcTimestamp::new(from),
            to: UtcTimestamp::new(to),
        },
        baseline: input.baseline.clone(),
        current_stack: CurrentStack {
            snapshot: current_ref,
            fresh: input.current.fresh && input.current.snapshot.is_some(),
            note: current_note,
        },
        verdict,
        coverage: cov,
        changes,
        attempts: trail.attempts,
        assessments,
        notes,
    };
    Evaluated {
        activity: activity(&trail.events),
        events: trail.events,
        findings,
    }
}
