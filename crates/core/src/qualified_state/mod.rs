//! A system's qualified state after approval, decided without I/O (docs/qualified-state.md).
//!
//! - [`baseline`]: when IQ, OQ and PQ are approved, the stack snapshot shown with the approval
//!   that completed them is the system's baseline, with that approval's time;
//! - what changed since: [`stack_diff`] (the stack now against the baseline snapshot),
//!   [`config_diff`] (AWS Config items captured after approval, field by field, and
//!   NON_COMPLIANT rule evaluations), [`trail`] (CloudTrail write calls on the stack's
//!   resources), each a [`change::Change`] with a stable id;
//! - [`coverage`]: the periods the validated CloudTrail digest chain covers, and every gap;
//! - [`evaluate`]: all of it put together, with the verdict, into the signed findings document
//!   ([`findings`], `countersign.state-findings/v1`);
//! - [`assessment`]: the record an impact assessment signs (`countersign.change-assessment/v1`);
//! - [`timeline`]: approval, changes, assessments, gaps and reviews in time order.

pub mod assessment;
pub mod baseline;
pub mod change;
pub mod config_diff;
pub mod coverage;
pub mod evaluate;
pub mod export;
pub mod findings;
pub mod json_diff;
pub mod stack_diff;
pub mod timeline;
pub mod trail;

#[cfg(test)]
pub(crate) mod tests;

pub use assessment::{AssessmentRecord, Impact};
pub use baseline::{baseline_of, ApprovalInput, Baseline, BaselineOutcome, RecordedSnapshot};
pub use change::{AssessmentRef, Change, ChangeKind, EventRef, FieldDiff, ResourceRef};
pub use coverage::{Coverage, Gap, Period};
pub use evaluate::{evaluate, CurrentInput, Evaluated, StateInputs};
pub use findings::{Findings, Verdict, VerdictKind};
pub use timeline::{timeline, ReviewMark, TimelineEntry};
