//! The in-toto Statement v1 that every Countersign envelope carries as its payload.
//!
//! The subject is the signed record, named `run:<system>/<phase>/<run-id>`, `package:<id>` or
//! `audit-trail:<seq>`,
//! with the SHA-256 of its canonical bytes; the predicate is [`Predicate`]. The payload must be
//! RFC 8785 canonical JSON: a statement has exactly one byte form, so two verifiers can never
//! disagree about which object was signed (duplicate keys, for instance, are not canonical).

use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json_value;
use crate::digest::Sha256;
use crate::model::RunKey;
use crate::signature::predicate::{
    Predicate, PREDICATE_TYPE_V1, PREDICATE_TYPE_V2, PREDICATE_TYPE_V3,
};

/// The `_type` of an in-toto Statement, version 1.
pub use crate::formats::IN_TOTO_STATEMENT_V1 as STATEMENT_TYPE_V1;

/// The subject name of a run: `run:LIMS/OQ/2026-11-03-oq-1`.
pub fn run_subject_name(run: &RunKey) -> String {
    format!("run:{run}")
}

/// The subject name of a validation package: `package:<id>`.
pub fn package_subject_name(package_id: &str) -> String {
    format!("package:{package_id}")
}

/// The subject name of an audit-trail review up to ledger entry `seq`: `audit-trail:<seq>`
/// (decimal, no leading zeros). Its digest is the hash of that entry, which binds every
/// entry before it.
pub fn audit_trail_subject_name(seq: u64) -> String {
    format!("audit-trail:{seq}")
}

/// The subject name of an impact assessment of change `change_id` (64 hex) of `system`:
/// `change-assessment:<system>/<change_id>` (signature predicate version 2).
pub fn change_assessment_subject_name(system: &str, change_id: &Sha256) -> String {
    format!("change-assessment:{system}/{change_id}")
}

/// The subject name of a periodic review of `system` over `from..to` (UTC times as signatures
/// write them): `periodic-review:<system>/<from>..<to>` (signature predicate version 2).
pub fn periodic_review_subject_name(system: &str, from: &str, to: &str) -> String {
    format!("periodic-review:{system}/{from}..{to}")
}

/// The digests of a subject. Version 1 uses exactly one algorithm, SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectDigest {
    /// Lowercase hex SHA-256 of the record's canonical bytes.
    pub sha256: Sha256,
}

/// The record a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// `run:…`, `package:…` or `audit-trail:…`.
    pub name: String,
    /// Its digest.
    pub digest: SubjectDigest,
}

impl Subject {
    /// A subject named `name` with digest `sha256`.
    pub fn new(name: impl Into<String>, sha256: Sha256) -> Self {
        Self {
            name: name.into(),
            digest: SubjectDigest { sha256 },
        }
    }
}

/// An in-toto Statement v1 with the Countersign v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE_V1`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// Exactly one subject: the signed record.
    pub subject: Vec<Subject>,
    /// [`PREDICATE_TYPE_V1`], [`PREDICATE_TYPE_V2`] for a qualified-state meaning, or
    /// [`PREDICATE_TYPE_V3`] for a re-open.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// Who signed, what it means, and under which policy.
    pub predicate: Predicate,
}

/// Why a payload is not a statement this version can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// A statement or predicate type this version does not know.
    #[error("unsupported {what} {found:?}: this version reads {expected}")]
    UnsupportedVersion {
        /// `_type` or `predicateType`.
        what: &'static str,
        /// The value found.
        found: String,
        /// The value this version reads.
        expected: &'static str,
    },
    /// Anything else wrong with the payload.
    #[error("{0}")]
    Malformed(String),
}

impl Statement {
    /// A statement about one subject, with the predicate version its meaning needs: version 1
    /// for the record meanings (unchanged bytes), version 2 for the qualified-state meanings.
    pub fn new(subject: Subject, predicate: Predicate) -> Self {
        Self {
            statement_type: STATEMENT_TYPE_V1.to_owned(),
            subject: vec![subject],
            predicate_type: predicate.meaning.predicate_type().to_owned(),
            predicate,
        }
    }

    /// The one subject (statements with another count are refused by [`Self::from_payload`]).
    pub fn subject(&self) -> Option<&Subject> {
        match self.subject.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// Reads a DSSE payload: checks the types first (so a future version is reported as
    /// such, not as garbage), then canonical form, then the exact v1 shape and field rules.
    pub fn from_payload(payload: &[u8]) -> Result<Self, StatementError> {
        let value: serde_json::Value = serde_json::from_slice(payload)
            .map_err(|e| StatementError::Malformed(format!("the payload is not JSON: {e}")))?;
        let Some(object) = value.as_object() else {
            return Err(StatementError::Malformed(
                "the payload is not a JSON object".into(),
            ));
        };
        let text_field = |name: &str| object.get(name).and_then(|v| v.as_str());
        match text_field("_type") {
            Some(STATEMENT_TYPE_V1) => {}
            found => {
                return Err(StatementError::UnsupportedVersion {
                    what: "statement _type",
                    found: found.unwrap_or("(missing)").to_owned(),
                    expected: STATEMENT_TYPE_V1,
                })
            }
        }
        let predicate_type = match text_field("predicateType") {
            Some(t @ (PREDICATE_TYPE_V1 | PREDICATE_TYPE_V2 | PREDICATE_TYPE_V3)) => t.to_owned(),
            found => {
                return Err(StatementError::UnsupportedVersion {
                    what: "predicateType",
                    found: found.unwrap_or("(missing)").to_owned(),
                    expected: "https://countersign.dev/signature/v1, v2 or v3",
                })
            }
        };
        let canonical =
            canonical_json_value(&value).map_err(|e| StatementError::Malformed(e.detail))?;
        if canonical != payload {
            return Err(StatementError::Malformed(
                "the payload is not in RFC 8785 canonical JSON form".into(),
            ));
        }
        let statement: Statement = serde_json::from_value(value)
            .map_err(|e| StatementError::Malformed(format!("the statement is malformed: {e}")))?;
        if statement.subject.len() != 1 {
            return Err(StatementError::Malformed(format!(
                "the statement names {} subjects; a signature covers exactly one record",
                statement.subject.len()
            )));
        }
        statement
            .predicate
            .check()
            .map_err(|e| StatementError::Malformed(e.to_string()))?;
        let meaning = statement.predicate.meaning;
        if meaning.exists_in(&predicate_type) != Some(true) {
            return Err(StatementError::Malformed(format!(
                "the meaning {meaning} does not exist in signature predicate {predicate_type}"
            )));
        }
        Ok(statement)
    }
}
