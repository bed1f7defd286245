//! The impact assessment of one change (`countersign.change-assessment/v1`): what an
//! assessment signature signs (docs/qualified-state.md). The change is named by its id, which
//! binds everything the assessor was shown of it; the assessor's reason is the signature's.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, is_canonical, CanonicalJsonError};
use crate::digest::Sha256;

/// The `schema` of version 1.
pub use crate::formats::CHANGE_ASSESSMENT_V1 as CHANGE_ASSESSMENT_SCHEMA;

/// The longest change-control reference kept (characters).
pub const MAX_REFERENCE_CHARS: usize = 128;

/// What a change means for the qualified state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// The change leaves the system in its qualified state.
    NoImpact,
    /// The change needs the system (or part of it) to be qualified again.
    RequalificationNeeded,
}

impl Impact {
    /// The spelling in records, exports and the command line: `no_impact`,
    /// `requalification_needed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::NoImpact => "no_impact",
            Impact::RequalificationNeeded => "requalification_needed",
        }
    }

    /// How it reads in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Impact::NoImpact => "no impact",
            Impact::RequalificationNeeded => "requalification needed",
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that is not an impact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown impact {0:?}: expected no_impact (also: none) or requalification_needed (also: requalification)")]
pub struct UnknownImpact(pub String);

/// The one parser for an impact a person typed or chose: any letter case, `-` or `_` or a
/// space between words, and the short forms `none` and `requalification`.
impl FromStr for Impact {
    type Err = UnknownImpact;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match norm.as_str() {
            "no_impact" | "none" => Ok(Impact::NoImpact),
            "requalification_needed" | "requalification" => Ok(Impact::RequalificationNeeded),
            _ => Err(UnknownImpact(s.chars().take(40).collect())),
        }
    }
}

/// An impact assessment as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRecord {
    /// Always [`CHANGE_ASSESSMENT_SCHEMA`].
    pub schema: String,
    /// The system whose qualified state the change is about.
    pub system: String,
    /// The change's id (docs/qualified-state.md).
    pub change: Sha256,
    /// The impact decided.
    pub impact: Impact,
    /// The change-control reference (e.g. `CC-2026-0412`), or `null`.
    pub reference: Option<String>,
}

/// Why bytes are not an assessment record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentError {
    /// Not the v1 shape.
    #[error("not a {CHANGE_ASSESSMENT_SCHEMA} record: {0}")]
    Malformed(String),
    /// Not canonical JSON.
    #[error("the change assessment record is not in RFC 8785 canonical form")]
    NotCanonical,
}

impl AssessmentRecord {
    /// An assessment of `change` of `system`; a blank reference is none.
    pub fn new(system: &str, change: Sha256, impact: Impact, reference: Option<&str>) -> Self {
        Self {
            schema: CHANGE_ASSESSMENT_SCHEMA.to_owned(),
            system: system.to_owned(),
            change,
            impact,
            reference: reference
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        }
    }

    /// The signed bytes: RFC 8785 canonical JSON.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CanonicalJsonError> {
        canonical_json(self)
    }

    /// SHA-256 of the signed bytes: the signature's subject digest.
    pub fn digest(&self) -> Result<Sha256, CanonicalJsonError> {
        self.canonical_bytes().map(|b| Sha256::of(&b))
    }

    /// Reads a record: canonical, v1, no other members.
    pub fn parse(bytes: &[u8]) -> Result<Self, AssessmentError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| AssessmentError::Malformed(e.to_string()))?;
        if value.get("schema").and_then(|s| s.as_str()) != Some(CHANGE_ASSESSMENT_SCHEMA) {
            return Err(AssessmentError::Malformed(format!(
                "schema is {}",
                value
                    .get("schema")
                    .map_or("missing".to_owned(), |s| s.to_string())
            )));
        }
        if !is_canonical(&value, bytes) {
            return Err(AssessmentError::NotCanonical);
        }
        serde_json::from_value(value).map_err(|e| AssessmentError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_vector_of_an_assessment_record() {
        let r = AssessmentRecord::new(
            "LIMS",
            Sha256::of(b"the change"),
            Impact::NoImpact,
            Some(" CC-2026-0412 "),
        );
        let bytes = r.canonical_bytes().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"change":"8bb95c49bf5a7e79f29841c6511a0b7a619183f8ef244dbc0a956a30cbdf4a71","impact":"no_impact","reference":"CC-2026-0412","schema":"countersign.change-assessment/v1","system":"LIMS"}"#
        );
        assert_eq!(
            r.digest().unwrap().to_hex(),
            "d1bbbbc9ed8c0adb4eddff5b8ae4ed33b6746d06037ca105bc3251783455573c",
            "the v1 encoding is frozen"
        );
        assert_eq!(AssessmentRecord::parse(&bytes).unwrap(), r);
        let blank = AssessmentRecord::new("LIMS", Sha256::of(b"x"), Impact::NoImpact, Some(" "));
        assert_eq!(blank.reference, None);
    }

    #[test]
    fn a_record_that_is_not_canonical_v1_is_refused() {
        let r = AssessmentRecord::new(
            "LIMS",
            Sha256::of(b"c"),
            Impact::RequalificationNeeded,
            None,
        );
        let text = String::from_utf8(r.canonical_bytes().unwrap()).unwrap();
        let pretty = text.replace(",", ", ");
        assert_eq!(
            AssessmentRecord::parse(pretty.as_bytes()),
            Err(AssessmentError::NotCanonical)
        );
        let other = text.replace("assessment/v1", "assessment/v2");
        assert!(matches!(
            AssessmentRecord::parse(other.as_bytes()),
            Err(AssessmentError::Malformed(_))
        ));
        let extra = text.replacen('{', "{\"by\":\"x\",", 1);
        assert!(AssessmentRecord::parse(extra.as_bytes()).is_err());
    }

    #[test]
    fn impacts_parse_from_what_people_type() {
        for (text, impact) in [
            ("no_impact", Impact::NoImpact),
            ("No impact", Impact::NoImpact),
            ("none", Impact::NoImpact),
            ("requalification-needed", Impact::RequalificationNeeded),
            (" Requalification ", Impact::RequalificationNeeded),
        ] {
            assert_eq!(text.parse::<Impact>(), Ok(impact), "{text}");
        }
        assert!("maybe".parse::<Impact>().is_err());
        assert_eq!(
            Impact::RequalificationNeeded.to_string(),
            "requalification_needed"
        );
    }
}
