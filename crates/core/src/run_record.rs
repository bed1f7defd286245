//! The signed record of a qualification run (`countersign.run-record/v1`).
//!
//! A signature on a run covers exactly these bytes: the RFC 8785 canonical JSON of the run's
//! files (path, digest, source URI, S3 version id) and its current case dispositions. Its
//! SHA-256 is the statement subject's digest. A changed file, a new or superseded disposition,
//! or a file added to the run changes the digest, so earlier signatures verify as "record
//! changed since signing". The format is frozen; see `docs/signature-format.md` §11.

use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, CanonicalJsonError};
use crate::digest::Sha256;
use crate::model::RunKey;
use crate::signature::statement::run_subject_name;

/// The `schema` tag of version 1.
pub use crate::formats::RUN_RECORD_V1 as RUN_RECORD_SCHEMA_V1;

/// One evidence file of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFile {
    /// Run-relative path.
    pub path: String,
    /// SHA-256 of the stored bytes.
    pub sha256: Sha256,
    /// Where it came from (`s3://…` or `file://…`).
    pub uri: String,
    /// S3 version id, when the bucket is versioned.
    pub version_id: Option<String>,
}

/// The current disposition of one failed or errored case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDisposition {
    /// The case id.
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    /// The deviation or change reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Why.
    pub reason: String,
    /// Who decided, by IAM ARN (null when recorded without an identity).
    pub by_arn: Option<String>,
    /// When, UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub at: String,
}

/// The signed record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`RUN_RECORD_SCHEMA_V1`].
    pub schema: String,
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// Files sorted by path.
    pub files: Vec<RecordFile>,
    /// Current dispositions sorted by case id.
    pub dispositions: Vec<RecordDisposition>,
}

impl RunRecord {
    /// The record of `run` with these files and current dispositions (both sorted here).
    pub fn new(
        run: &RunKey,
        mut files: Vec<RecordFile>,
        mut dispositions: Vec<RecordDisposition>,
    ) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        dispositions.sort_by(|a, b| a.case_id.cmp(&b.case_id).then(a.at.cmp(&b.at)));
        Self {
            schema: RUN_RECORD_SCHEMA_V1.to_owned(),
            run: run.to_string(),
            files,
            dispositions,
        }
    }

    /// The canonical bytes that are hashed.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CanonicalJsonError> {
        canonical_json(self)
    }

    /// SHA-256 of [`Self::canonical_bytes`]: the digest a signature's subject carries.
    pub fn digest(&self) -> Result<Sha256, CanonicalJsonError> {
        self.canonical_bytes().map(|b| Sha256::of(&b))
    }

    /// The statement subject name, `run:SYSTEM/PHASE/RUN-ID`.
    pub fn subject_name(run: &RunKey) -> String {
        run_subject_name(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;

    fn key() -> RunKey {
        RunKey {
            system: "LIMS".into(),
            phase: Phase::Oq,
            run_id: "2026-11-03-oq-1".into(),
        }
    }

    fn golden() -> RunRecord {
        RunRecord::new(
            &key(),
            vec![
                RecordFile {
                    path: "results/oq.xml".into(),
                    sha256: Sha256::of(b"oq results"),
                    uri: "s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/results/oq.xml"
                        .into(),
                    version_id: Some("v2".into()),
                },
                RecordFile {
                    path: "run.json".into(),
                    sha256: Sha256::of(b"manifest"),
                    uri: "s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/run.json".into(),
                    version_id: None,
                },
            ],
            vec![RecordDisposition {
                case_id: "results/oq.xml#OQ::temp".into(),
                kind: "deviation".into(),
                reference: "DEV-0042".into(),
                reason: "Sensor recalibrated; retest passed".into(),
                by_arn: Some("arn:aws:iam::123456789012:user/dana".into()),
                at: "2026-11-03T13:00:00.000Z".into(),
            }],
        )
    }

    /// Frozen: these bytes and this digest were also produced by an independent
    /// implementation (Python `json.dumps(sort_keys=True, separators=(",", ":"))` + hashlib).
    #[test]
    fn golden_vector_is_frozen() {
        let bytes = golden().canonical_bytes().unwrap();
        let expected = concat!(
            r#"{"dispositions":[{"at":"2026-11-03T13:00:00.000Z","by_arn":"arn:aws:iam::123456789012:user/dana","#,
            r#""case_id":"results/oq.xml#OQ::temp","kind":"deviation","reason":"Sensor recalibrated; retest passed","#,
            r#""ref":"DEV-0042"}],"files":[{"path":"results/oq.xml","#,
            r#""sha256":"e933842696eed821c6dfae1939326fd10a2819caa2a3443f10e0e3f115c87dd0","#,
            r#""uri":"s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/results/oq.xml","version_id":"v2"},"#,
            r#"{"path":"run.json","sha256":"05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f","#,
            r#""uri":"s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/run.json","version_id":null}],"#,
            r#""run":"LIMS/OQ/2026-11-03-oq-1","schema":"countersign.run-record/v1"}"#,
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        assert_eq!(
            golden().digest().unwrap().to_hex(),
            "b269e7cee7f97912325d55b5b9fdab3b0733d26184fcf67c8f12576c9e50a545"
        );
    }

    #[test]
    fn order_of_input_does_not_matter_and_every_field_counts() {
        let a = golden();
        let mut files = a.files.clone();
        files.reverse();
        let b = RunRecord::new(&key(), files, a.dispositions.clone());
        assert_eq!(a.digest().unwrap(), b.digest().unwrap());

        let mut c = a.clone();
        c.dispositions[0].reference = "DEV-0043".into();
        assert_ne!(a.digest().unwrap(), c.digest().unwrap());
        let mut d = a.clone();
        d.files[1].version_id = Some("v1".into());
        assert_ne!(a.digest().unwrap(), d.digest().unwrap());
        assert_eq!(
            RunRecord::subject_name(&key()),
            "run:LIMS/OQ/2026-11-03-oq-1"
        );
    }
}
