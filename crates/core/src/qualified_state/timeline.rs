//! A system's timeline: the approval, each change, each assessment, each evidence gap, each
//! failed write call and each periodic review, in time order.

use serde::{Deserialize, Serialize};

use super::evaluate::human_time;
use super::findings::Findings;
use crate::digest::Sha256;
use crate::signature::predicate::UtcTimestamp;

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The approval that set the baseline.
    Approval,
    /// A change.
    Change,
    /// An impact assessment.
    Assessment,
    /// A period the evidence does not cover.
    Gap,
    /// A write call that failed.
    Attempt,
    /// A signed periodic review.
    Review,
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When (the start, for a gap or a review period).
    pub at: UtcTimestamp,
    /// The end, for a gap or a review period.
    pub until: Option<UtcTimestamp>,
    /// What it is.
    pub kind: EntryKind,
    /// One line.
    pub title: String,
    /// The change it is about, for a change or an assessment.
    pub change: Option<Sha256>,
}

/// A signed periodic review, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewMark {
    /// When it was signed.
    pub signed_at: UtcTimestamp,
    /// The period reviewed.
    pub from: UtcTimestamp,
    /// End of the period reviewed.
    pub to: UtcTimestamp,
    /// The reviewer.
    pub printed_name: String,
}

/// The timeline of `findings` with the system's signed `reviews`, in time order. A change
/// found only by comparing snapshots (no time of its own) is placed at the current snapshot.
pub fn timeline(findings: &Findings, reviews: &[ReviewMark]) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    let b = &findings.baseline;
    out.push(TimelineEntry {
        at: b.approved_at,
        until: None,
        kind: EntryKind::Approval,
        title: format!(
            "Approved: {} (baseline{})",
            b.approvals
                .iter()
                .map(|a| format!("{} by {}", a.phase, a.printed_name))
                .collect::<Vec<_>>()
                .join(", "),
            b.snapshot
                .as_ref()
                .map(|s| format!(" stack {}", s.stack_name))
                .unwrap_or_default()
        ),
        change: None,
    });
    let snapshot_time = findings
        .current_stack
        .snapshot
        .as_ref()
        .and_then(|s| {
            time::OffsetDateTime::parse(&s.taken_at, &time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(UtcTimestamp::new)
        .unwrap_or(findings.period.to);
    for c in &findings.changes {
        out.push(TimelineEntry {
            at: c.at.unwrap_or(snapshot_time),
            until: None,
            kind: EntryKind::Change,
            title: c.summary.clone(),
            change: Some(c.id),
        });
    }
    for a in &findings.assessments {
        out.push(TimelineEntry {
            at: a.signed_at,
            until: None,
            kind: EntryKind::Assessment,
            title: format!(
                "Assessed by {}: {}{}",
                a.printed_name,
                a.impact.label(),
                a.reference
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            change: Some(a.change),
        });
    }
    for g in &findings.coverage.gaps {
        out.push(TimelineEntry {
            at: g.from,
            until: Some(g.to),
            kind: EntryKind::Gap,
            title: format!("Evidence gap {} – {}", human_time(g.from), human_time(g.to)),
            change: None,
        });
    }
    for e in &findings.attempts {
        out.push(TimelineEntry {
            at: e.time,
            until: None,
            kind: EntryKind::Attempt,
            title: format!(
                "{} by {} failed ({})",
                e.event_name,
                e.who(),
                e.error_code.as_deref().unwrap_or("error")
            ),
            change: None,
        });
    }
    for r in reviews {
        out.push(TimelineEntry {
            at: r.signed_at,
            until: None,
            kind: EntryKind::Review,
            title: format!(
                "Periodic review by {} of {} – {}",
                r.printed_name,
                human_time(r.from),
                human_time(r.to)
            ),
            change: None,
        });
    }
    out.sort_by_key(|a| (a.at, a.kind));
    out
}
