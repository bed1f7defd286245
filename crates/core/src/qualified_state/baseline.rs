//! The qualified baseline: when a system's IQ, OQ and PQ runs are approved, the stack snapshot
//! shown with the approval that completed them is the system's baseline, with that approval's
//! time.

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::model::{Phase, RunKey};
use crate::signature::predicate::UtcTimestamp;
use crate::stack_snapshot::StackSnapshot;

/// An `Approved` signature on a run of the system, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalInput {
    /// The run.
    pub run: RunKey,
    /// When it was signed.
    pub signed_at: UtcTimestamp,
    /// The ledger entry that recorded it (the order signatures arrived in this home).
    pub ledger_seq: u64,
    /// The signer.
    pub printed_name: String,
    /// The signer's IAM ARN.
    pub iam_arn: String,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// Whether it verifies against the run's record as it stands now.
    pub valid: bool,
    /// Its verification outcome in words (for one that does not verify).
    pub outcome: String,
}

/// A stack snapshot recorded for a run, re-read and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSnapshot {
    /// The run it was recorded for.
    pub run: RunKey,
    /// The ledger entry that recorded it.
    pub ledger_seq: u64,
    /// SHA-256 of its canonical bytes.
    pub sha256: Sha256,
    /// The snapshot.
    pub snapshot: StackSnapshot,
}

/// One approval the baseline rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// `IQ`, `OQ` or `PQ`.
    pub phase: String,
    /// The approver.
    pub printed_name: String,
    /// The approver's IAM ARN.
    pub iam_arn: String,
    /// When it was signed.
    pub signed_at: UtcTimestamp,
    /// The signature's envelope digest.
    pub envelope_sha256: Sha256,
}

/// A stack snapshot as the findings name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRef {
    /// The stack's name.
    pub stack_name: String,
    /// Its region.
    pub region: String,
    /// Its ARN, when known.
    pub stack_id: Option<String>,
    /// SHA-256 of the snapshot's canonical bytes (docs/stack-snapshot.md).
    pub sha256: Sha256,
    /// When it was taken.
    pub taken_at: String,
    /// The template's digest.
    pub template_sha256: Sha256,
    /// The stack's status.
    pub status: String,
    /// Drift as the snapshot found it: `in sync`, `drifted (N resources)` or
    /// `drift not checked`.
    pub drift: String,
}

impl SnapshotRef {
    /// The reference to `snapshot` stored with digest `sha256`.
    pub fn of(snapshot: &StackSnapshot, sha256: Sha256) -> Self {
        Self {
            stack_name: snapshot.stack_name.clone(),
            region: snapshot.region.clone(),
            stack_id: snapshot.stack_id.clone(),
            sha256,
            taken_at: snapshot.taken_at.clone(),
            template_sha256: snapshot.template.sha256,
            status: snapshot.status.clone(),
            drift: snapshot.drift.label(),
        }
    }
}

/// A system's qualified baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The approval that completed IQ, OQ and PQ: from here on the system is in its qualified
    /// state.
    pub approved_at: UtcTimestamp,
    /// The approvals, IQ, OQ, PQ.
    pub approvals: Vec<Approval>,
    /// The approved stack snapshot, when one was recorded with the approved runs.
    pub snapshot: Option<SnapshotRef>,
}

/// What the approvals on record say about a system.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineOutcome {
    /// The system is qualified: its baseline, the snapshot itself, and notes on how the
    /// snapshot was chosen.
    Found {
        /// The baseline.
        baseline: Box<Baseline>,
        /// The baseline snapshot's contents, for the comparison.
        snapshot: Option<Box<StackSnapshot>>,
        /// What a reader should know about the baseline (e.g. a snapshot taken after the
        /// approval).
        notes: Vec<String>,
    },
    /// No baseline (yet): why.
    NotQualified {
        /// Why, in words.
        reason: String,
        /// The phases that do have a valid approval.
        approved: Vec<Phase>,
    },
}

/// The baseline of `system` from the `Approved` signatures on its runs and the snapshots
/// recorded for them.
///
/// Per phase, the approval recorded last counts; it must verify against the run's record as
/// it stands now. With IQ, OQ and PQ approved, the baseline time is the latest of the three
/// signing times, and the baseline snapshot is the newest snapshot recorded for any of the
/// three runs before that approval was recorded (what the approver was shown); when none was
/// recorded before, the oldest recorded after it, with a note.
pub fn baseline_of(
    system: &str,
    approvals: &[ApprovalInput],
    snapshots: &[RecordedSnapshot],
) -> BaselineOutcome {
    let mut per_phase: Vec<&ApprovalInput> = Vec::new();
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    for phase in Phase::ALL {
        let latest = approvals
            .iter()
            .filter(|a| a.run.system == system && a.run.phase == phase)
            .max_by_key(|a| a.ledger_seq);
        match latest {
            None => missing.push(phase),
            Some(a) if !a.valid => invalid.push(format!(
                "the approval of {} by {} no longer verifies ({})",
                a.run, a.printed_name, a.outcome
            )),
            Some(a) => per_phase.push(a),
        }
    }
    let approved: Vec<Phase> = per_phase.iter().map(|a| a.run.phase).collect();
    if !invalid.is_empty() {
        return BaselineOutcome::NotQualified {
            reason: format!("not in a qualified state: {}", invalid.join("; ")),
            approved,
        };
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|p| p.as_str()).collect();
        return BaselineOutcome::NotQualified {
            reason: format!("not qualified yet: no approved {} run", names.join(", ")),
            approved,
        };
    }
    let Some(completing) = per_phase.iter().max_by_key(|a| (a.signed_at, a.ledger_seq)) else {
        return BaselineOutcome::NotQualified {
            reason: "not qualified yet: no approved run".to_owned(),
            approved,
        };
    };
    let runs: Vec<&RunKey> = per_phase.iter().map(|a| &a.run).collect();
    let of_runs = || snapshots.iter().filter(|s| runs.contains(&&s.run));
    let before = of_runs()
        .filter(|s| s.ledger_seq < completing.ledger_seq)
        .max_by_key(|s| s.ledger_seq);
    let after = of_runs()
        .filter(|s| s.ledger_seq > completing.ledger_seq)
        .min_by_key(|s| s.ledger_seq);
    let mut notes = Vec::new();
    let chosen = match (before, after) {
        (Some(s), _) => Some(s),
        (None, Some(s)) => {
            notes.push(format!(
                "no stack snapshot was recorded with the approved runs before the approval; the \
                 baseline is the first one recorded after it (taken {})",
                s.snapshot.taken_at
            ));
            Some(s)
        }
        (None, None) => {
            notes.push(
                "no stack snapshot was recorded with the approved runs: the stack itself cannot \
                 be compared with its approved state"
                    .to_owned(),
            );
            None
        }
    };
    if let Some(s) = chosen {
        let taken_after = time::OffsetDateTime::parse(
            &s.snapshot.taken_at,
            &time::format_description::well_known::Rfc3339,
        )
        .is_ok_and(|t| t > completing.signed_at.get());
        if taken_after && before.is_some() {
            notes.push(format!(
                "the baseline snapshot was taken {}, after the approval was signed ({}); it is \
                 the one this desktop held when the approval was recorded",
                s.snapshot.taken_at, completing.signed_at
            ));
        }
    }
    let mut approvals_out: Vec<Approval> = per_phase
        .iter()
        .map(|a| Approval {
            run: a.run.to_string(),
            phase: a.run.phase.as_str().to_owned(),
            printed_name: a.printed_name.clone(),
            iam_arn: a.iam_arn.clone(),
            signed_at: a.signed_at,
            envelope_sha256: a.envelope_sha256,
        })
        .collect();
    approvals_out.sort_by(|a, b| a.phase.cmp(&b.phase));
    BaselineOutcome::Found {
        baseline: Box::new(Baseline {
            approved_at: completing.signed_at,
            approvals: approvals_out,
            snapshot: chosen.map(|s| SnapshotRef::of(&s.snapshot, s.sha256)),
        }),
        snapshot: chosen.map(|s| Box::new(s.snapshot.clone())),
        notes,
    }
}
