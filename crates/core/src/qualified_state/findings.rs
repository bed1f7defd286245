//! The findings document `countersign.state-findings/v1`: a system's qualified state over a
//! period, as shown and as a periodic review signs it (docs/qualified-state.md). RFC 8785
//! canonical JSON; every member always present.

use serde::{Deserialize, Serialize};

use super::baseline::{Baseline, SnapshotRef};
use super::change::{AssessmentRef, Change, EventRef};
use super::coverage::{Coverage, Period};
use crate::canonical::{canonical_json, is_canonical, CanonicalJsonError};
use crate::digest::Sha256;
use crate::signature::predicate::UtcTimestamp;

/// The `schema` of version 1.
pub use crate::formats::STATE_FINDINGS_V1 as STATE_FINDINGS_SCHEMA;

/// The three verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// No change left open and no evidence gap: in qualified state up to the covered time.
    InQualifiedState,
    /// At least one change not assessed, or assessed as needing requalification.
    Changed,
    /// No open change, but a period the evidence does not cover.
    NotDemonstrable,
}

impl VerdictKind {
    /// The spelling in documents and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::InQualifiedState => "in_qualified_state",
            VerdictKind::Changed => "changed",
            VerdictKind::NotDemonstrable => "not_demonstrable",
        }
    }
}

/// The verdict and the counts behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    /// Which verdict.
    pub kind: VerdictKind,
    /// The sentence: "In qualified state from … to …", "Changed: N changes since approval",
    /// "Not demonstrable: evidence gap …".
    pub text: String,
    /// Changes in the period.
    pub changes: u32,
    /// Changes not assessed, or assessed as needing requalification.
    pub open_changes: u32,
    /// Evidence gaps in the period.
    pub gaps: u32,
    /// How far the evidence reaches (end of the last covered period).
    pub covered_until: Option<UtcTimestamp>,
}

/// The stack the baseline was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentStack {
    /// The snapshot compared with the baseline, when there was one.
    pub snapshot: Option<SnapshotRef>,
    /// Whether it was taken for this check (`false`: the newest one in the store).
    pub fresh: bool,
    /// Why the stack was not compared, or what to know about the comparison.
    pub note: Option<String>,
}

/// A system's qualified state over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Findings {
    /// Always [`STATE_FINDINGS_SCHEMA`].
    pub schema: String,
    /// The system.
    pub system: String,
    /// The period: from the approval (or the review period's start) to the check (or the
    /// review period's end).
    pub period: Period,
    /// The qualified baseline.
    pub baseline: Baseline,
    /// The stack the baseline was compared with.
    pub current_stack: CurrentStack,
    /// The verdict.
    pub verdict: Verdict,
    /// The CloudTrail digest chain's coverage of the period.
    pub coverage: Coverage,
    /// Every change in the period, in time order (undated stack comparisons last).
    pub changes: Vec<Change>,
    /// Write calls on the stack's resources that failed (not changes).
    pub attempts: Vec<EventRef>,
    /// Every valid impact assessment of this system's changes, oldest first (also those of
    /// changes no longer found).
    pub assessments: Vec<AssessmentRef>,
    /// What a reader should know about the evidence.
    pub notes: Vec<String>,
}

/// Why bytes are not a findings document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindingsError {
    /// Not the v1 shape.
    #[error("not a {STATE_FINDINGS_SCHEMA} document: {0}")]
    Malformed(String),
    /// Not canonical JSON.
    #[error("the state findings are not in RFC 8785 canonical form")]
    NotCanonical,
}

impl Findings {
    /// The signed bytes: RFC 8785 canonical JSON.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CanonicalJsonError> {
        canonical_json(self)
    }

    /// SHA-256 of the canonical bytes.
    pub fn digest(&self) -> Result<Sha256, CanonicalJsonError> {
        self.canonical_bytes().map(|b| Sha256::of(&b))
    }

    /// Reads a document: canonical, v1, no other members, and every change's id is the id of
    /// its content.
    pub fn parse(bytes: &[u8]) -> Result<Self, FindingsError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| FindingsError::Malformed(e.to_string()))?;
        if value.get("schema").and_then(|s| s.as_str()) != Some(STATE_FINDINGS_SCHEMA) {
            return Err(FindingsError::Malformed(format!(
                "schema is {}",
                value
                    .get("schema")
                    .map_or("missing".to_owned(), |s| s.to_string())
            )));
        }
        if !is_canonical(&value, bytes) {
            return Err(FindingsError::NotCanonical);
        }
        let f: Findings =
            serde_json::from_value(value).map_err(|e| FindingsError::Malformed(e.to_string()))?;
        if let Some(c) = f.changes.iter().find(|c| c.compute_id() != c.id) {
            return Err(FindingsError::Malformed(format!(
                "change {} does not have the id of its content ({})",
                c.id,
                c.compute_id()
            )));
        }
        Ok(f)
    }

    /// The change with id `id`.
    pub fn change(&self, id: &Sha256) -> Option<&Change> {
        self.changes.iter().find(|c| &c.id == id)
    }
}
