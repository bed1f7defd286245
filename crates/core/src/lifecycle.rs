//! The life of a run record, derived from what the ledger holds about it (never stored apart
//! from it): its signatures in signing order and whether dispositions were recorded.
//!
//! ```text
//!   Collected ──disposition──► In review ──Reviewed──► Reviewed ──Approved──► Approved
//!       │                          ▲                      │      ──Rejected──► Rejected
//!       └──────Reviewed────────────┼──────────────────────┘
//!                                  │
//!   any signed state ──Reopened──► Re-opened ──disposition / Reviewed──► …
//! ```
//!
//! Which signature may come next is the policy's decision ([`crate::signature::policy`]); this
//! module names where a record stands and what that state allows without a signature: a
//! disposition only while nothing in the current cycle is signed.

use serde::Serialize;

use crate::signature::policy::{current_cycle, PriorSignature, RecordState};

use crate::signature::predicate::Meaning;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Its evidence is in the store; nothing recorded about it yet.
    Collected,
    /// Dispositions in progress (or an Authored signature): open for review.
    InReview,
    /// Re-opened by a signed re-open: open again, its earlier signatures superseded.
    Reopened,
    /// Signed Reviewed: awaiting Approved or Rejected; locked.
    Reviewed,
    /// Signed Approved: final; locked.
    Approved,
    /// Signed Rejected: final; locked.
    Rejected,
}

impl RunState {
    /// The state's name as reports write it (`approved`, `in_review`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Collected => "collected",
            RunState::InReview => "in_review",
            RunState::Reopened => "reopened",
            RunState::Reviewed => "reviewed",
            RunState::Approved => "approved",
            RunState::Rejected => "rejected",
        }
    }

    /// The state of a run whose signatures are `history` (all of them, in signing order) and
    /// which has (`dispositions`) or has not any disposition recorded.
    pub fn of(history: &[PriorSignature], dispositions: bool) -> Self {
        let meanings: Vec<Meaning> = history.iter().map(|s| s.meaning).collect();
        Self::of_meanings(&meanings, dispositions)
    }

    /// [`RunState::of`] from the signatures' meanings alone, in signing order.
    pub fn of_meanings(meanings: &[Meaning], dispositions: bool) -> Self {
        let start = last_reopen(meanings).map_or(0, |i| i + 1);
        let cycle = &meanings[start..];
        let reopened = start > 0;
        match RecordState::of_meanings(cycle.iter().copied()) {
            RecordState::Reviewed => RunState::Reviewed,
            RecordState::Approved => RunState::Approved,
            RecordState::Rejected => RunState::Rejected,
            RecordState::Executed if reopened && cycle.is_empty() => RunState::Reopened,
            RecordState::Executed if !cycle.is_empty() || dispositions => RunState::InReview,
            RecordState::Executed => RunState::Collected,
        }
    }

    /// True when the current cycle carries a signature, so the record (its dispositions
    /// included) is locked until a signed re-open.
    pub fn is_locked(history: &[PriorSignature]) -> bool {
        !current_cycle(history).is_empty()
    }

    /// The state in the words every face shows.
    pub fn words(self) -> &'static str {
        match self {
            RunState::Collected => "Collected",
            RunState::InReview => "In review",
            RunState::Reopened => "Re-opened",
            RunState::Reviewed => "Reviewed",
            RunState::Approved => "Approved",
            RunState::Rejected => "Rejected",
        }
    }

    /// What comes next from this state, in words (the policy decides who).
    pub fn next_step(self) -> &'static str {
        match self {
            RunState::Collected | RunState::InReview | RunState::Reopened => {
                "disposition every failed case, then sign Reviewed"
            }
            RunState::Reviewed => "sign Approved or Rejected",
            RunState::Approved | RunState::Rejected => "final; a correction needs a signed re-open",
        }
    }
}

/// The index of the last re-open among `meanings` (signing order), if any: signatures up to
/// it belong to earlier cycles, those after it to the current one.
pub fn last_reopen(meanings: &[Meaning]) -> Option<usize> {
    meanings.iter().rposition(|m| *m == Meaning::Reopened)
}

/// The signatures a re-open superseded: those before the last `Reopened` in `history`.
/// Returns, for each signature, the index of the re-open that superseded it (`None` for the
/// signatures of the current cycle and for the re-opens themselves when not superseded).
pub fn superseded_by(history: &[Meaning]) -> Vec<Option<usize>> {
    let mut out = vec![None; history.len()];
    let mut cycle_start = 0;
    for (i, m) in history.iter().enumerate() {
        if *m == Meaning::Reopened {
            for slot in &mut out[cycle_start..i] {
                *slot = Some(i);
            }
            cycle_start = i + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Sha256;
    use crate::signature::key_id::KeyId;

    fn sig(meaning: Meaning, n: u8) -> PriorSignature {
        PriorSignature {
            meaning,
            arn: format!("arn:aws:iam::123456789012:user/p{n}"),
            printed_name: format!("P{n}"),
            key_id: KeyId::of_public_key_bytes(&[n; 32]),
            envelope_sha256: Sha256::of(&[n]),
        }
    }

    #[test]
    fn states_follow_the_signatures_and_dispositions() {
        use Meaning::*;
        assert_eq!(RunState::of(&[], false), RunState::Collected);
        assert_eq!(RunState::of(&[], true), RunState::InReview);
        assert_eq!(RunState::of(&[sig(Authored, 1)], false), RunState::InReview);
        let reviewed = [sig(Reviewed, 1)];
        assert_eq!(RunState::of(&reviewed, true), RunState::Reviewed);
        let approved = [sig(Reviewed, 1), sig(Approved, 2)];
        assert_eq!(RunState::of(&approved, true), RunState::Approved);
        let rejected = [sig(Reviewed, 1), sig(Rejected, 2)];
        assert_eq!(RunState::of(&rejected, false), RunState::Rejected);
        let reopened = [sig(Reviewed, 1), sig(Approved, 2), sig(Reopened, 2)];
        assert_eq!(RunState::of(&reopened, true), RunState::Reopened);
        assert_eq!(RunState::of(&reopened, false), RunState::Reopened);
        let again = [
            sig(Reviewed, 1),
            sig(Reopened, 2),
            sig(Reviewed, 1),
            sig(Approved, 2),
        ];
        assert_eq!(RunState::of(&again, true), RunState::Approved);
    }

    #[test]
    fn a_signature_locks_the_record_until_a_re_open() {
        use Meaning::*;
        assert!(!RunState::is_locked(&[]));
        assert!(RunState::is_locked(&[sig(Authored, 1)]));
        assert!(RunState::is_locked(&[sig(Reviewed, 1)]));
        assert!(!RunState::is_locked(&[sig(Reviewed, 1), sig(Reopened, 2)]));
        assert!(RunState::is_locked(&[
            sig(Reviewed, 1),
            sig(Reopened, 2),
            sig(Reviewed, 3)
        ]));
    }

    #[test]
    fn a_re_open_supersedes_every_signature_of_its_cycle() {
        use Meaning::*;
        assert_eq!(
            superseded_by(&[Reviewed, Approved, Reopened, Reviewed, Reopened, Reviewed]),
            vec![Some(2), Some(2), None, Some(4), None, None]
        );
        assert_eq!(superseded_by(&[Reviewed, Approved]), vec![None, None]);
    }
}
