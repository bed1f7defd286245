//! A run's results as carried in a package (`countersign.run-data/v1`): what the PDF's tables
//! were rendered from, in a form another program can read without parsing JUnit or Cucumber.

use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json;
use crate::model::{FileProblem, TestCase, Totals};
use crate::run::Run;
use crate::run_record::RecordDisposition;
use crate::trace::Traceability;

/// The `schema` tag of version 1.
pub use crate::formats::RUN_DATA_V1 as RUN_DATA_SCHEMA_V1;

/// The results of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunData {
    /// Always [`RUN_DATA_SCHEMA_V1`].
    pub schema: String,
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// `passed`, `failed` or `incomplete`.
    pub status: String,
    /// Case counts.
    pub totals: Totals,
    /// When the run was executed (RFC 3339, from `run.json`), if known.
    pub executed_at: Option<String>,
    /// Who executed it (printed name, from `run.json`), if known.
    pub executor_name: Option<String>,
    /// The executor's IAM ARN (from `run.json`), if known.
    pub executor_arn: Option<String>,
    /// The test protocol id (from `run.json`), if known.
    pub protocol: Option<String>,
    /// Every case: failed first, then errored, skipped, passed.
    pub cases: Vec<TestCase>,
    /// Requirement → cases → result.
    pub traceability: Traceability,
    /// The current dispositions of failed and errored cases (as in the run record).
    pub dispositions: Vec<RecordDisposition>,
    /// Problems reading single files.
    pub problems: Vec<FileProblem>,
}

impl RunData {
    /// The data of `run` with its current dispositions.
    pub fn of(run: &Run, dispositions: &[RecordDisposition]) -> Self {
        let manifest = run.manifest.as_ref();
        let executed_at = manifest.and_then(|m| m.executed_at).and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        Self {
            schema: RUN_DATA_SCHEMA_V1.into(),
            run: run.key.to_string(),
            status: run.status.as_str().into(),
            totals: run.totals,
            executed_at,
            executor_name: manifest
                .and_then(|m| m.executor.as_ref())
                .and_then(|e| e.name.clone()),
            executor_arn: manifest
                .and_then(|m| m.executor.as_ref())
                .and_then(|e| e.arn.clone()),
            protocol: manifest
                .and_then(|m| m.protocol.as_ref())
                .map(|p| p.id.clone()),
            cases: run.cases.clone(),
            traceability: run.traceability.clone(),
            dispositions: dispositions.to_vec(),
            problems: run.problems.clone(),
        }
    }

    /// RFC 8785 canonical bytes.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, String> {
        canonical_json(self).map_err(|e| e.to_string())
    }

    /// Reads run data.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let d: RunData = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if d.schema != RUN_DATA_SCHEMA_V1 {
            return Err(format!(
                "schema is {:?}, expected {RUN_DATA_SCHEMA_V1}",
                d.schema
            ));
        }
        Ok(d)
    }

    /// Failed or errored cases without a disposition.
    pub fn undispositioned(&self) -> Vec<String> {
        self.cases
            .iter()
            .filter(|c| c.status.needs_disposition())
            .filter(|c| !self.dispositions.iter().any(|d| d.case_id == c.id))
            .map(|c| c.id.clone())
            .collect()
    }
}
