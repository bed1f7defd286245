//! The signed record of a qualification run (`countersign.run-record/v1` and `/v2`).
//!
//! A signature on a run covers exactly these bytes: the RFC 8785 canonical JSON of the run's
//! files (path, digest, source URI, S3 version id) and its current case dispositions; version
//! 2 adds the digest of the run's results as the signer was shown them (the run data: cases,
//! statuses, messages, traceability, dispositions) and the version of the parsers that read
//! them. Its SHA-256 is the statement subject's digest. A changed file, a new or superseded
//! disposition, a file added to the run or (v2) the same evidence read differently changes the
//! digest, so earlier signatures verify as "record changed since signing". Both versions are
//! frozen; see `docs/signature-format.md` §11.

use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, is_canonical, CanonicalJsonError};
use crate::digest::Sha256;
use crate::model::RunKey;
use crate::package::run_data::{RunData, RUN_DATA_SCHEMA_V1};
use crate::signature::statement::run_subject_name;

/// The parser version this build's run data comes from.
pub use crate::formats::PARSERS_V1 as PARSERS_VERSION;
/// The `schema` tag of version 1.
pub use crate::formats::RUN_RECORD_V1 as RUN_RECORD_SCHEMA_V1;
/// The `schema` tag of version 2.
pub use crate::formats::RUN_RECORD_V2 as RUN_RECORD_SCHEMA_V2;

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

/// The run data a version 2 record binds: the results as the signer was shown them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRunData {
    /// The run data's schema (`countersign.run-data/v1`).
    pub schema: String,
    /// The parsers that read the evidence into it ([`PARSERS_VERSION`]).
    pub parser: String,
    /// SHA-256 of the run data's RFC 8785 canonical bytes (in a package, the bytes of
    /// `runs/<run>/results.json`).
    pub sha256: Sha256,
}

impl RecordRunData {
    /// The reference to `data`, read by this build's parsers.
    pub fn of(data: &RunData) -> Result<Self, CanonicalJsonError> {
        Ok(Self {
            schema: RUN_DATA_SCHEMA_V1.to_owned(),
            parser: PARSERS_VERSION.to_owned(),
            sha256: Sha256::of(&canonical_json(data)?),
        })
    }
}

/// The signed record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RUN_RECORD_SCHEMA_V1`] or [`RUN_RECORD_SCHEMA_V2`].
    pub schema: String,
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run: String,
    /// Files sorted by path.
    pub files: Vec<RecordFile>,
    /// Current dispositions sorted by case id.
    pub dispositions: Vec<RecordDisposition>,
    /// Version 2 only: the run data the signer was shown. Absent (not `null`) in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_data: Option<RecordRunData>,
}

impl RunRecord {
    /// The version 1 record of `run` with these files and current dispositions (both sorted
    /// here). Records are made in version 2 ([`Self::new_v2`]); version 1 is what a cycle
    /// begun under it goes on signing.
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
            run_data: None,
        }
    }

    /// The version 2 record: version 1's, binding the run data as well.
    pub fn new_v2(
        run: &RunKey,
        files: Vec<RecordFile>,
        dispositions: Vec<RecordDisposition>,
        run_data: RecordRunData,
    ) -> Self {
        Self {
            schema: RUN_RECORD_SCHEMA_V2.to_owned(),
            run_data: Some(run_data),
            ..Self::new(run, files, dispositions)
        }
    }

    /// Reads a record: a known version, with `run_data` exactly when the version has it, in
    /// canonical form. The error says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let record: RunRecord =
            serde_json::from_slice(bytes).map_err(|e| format!("not a run record: {e}"))?;
        match (record.schema.as_str(), &record.run_data) {
            (RUN_RECORD_SCHEMA_V1, None) | (RUN_RECORD_SCHEMA_V2, Some(_)) => {}
            (RUN_RECORD_SCHEMA_V1, Some(_)) => {
                return Err(format!(
                    "a {RUN_RECORD_SCHEMA_V1} record has no run_data (that member is {RUN_RECORD_SCHEMA_V2})"
                ))
            }
            (RUN_RECORD_SCHEMA_V2, None) => {
                return Err(format!("a {RUN_RECORD_SCHEMA_V2} record must name its run_data"))
            }
            (other, _) => {
                return Err(format!(
                    "record schema {other:?} is not one this version reads ({RUN_RECORD_SCHEMA_V1}, {RUN_RECORD_SCHEMA_V2})"
                ))
            }
        }
        if !is_canonical(&record, bytes) {
            return Err(
                "not in RFC 8785 canonical form (re-encoded, edited, or with members its version does not define)"
                    .into(),
            );
        }
        Ok(record)
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

    /// The canonical bytes both golden records begin with: their dispositions and files.
    macro_rules! golden_files_and_dispositions {
        () => {
            concat!(
                r#"{"dispositions":[{"at":"2026-11-03T13:00:00.000Z","by_arn":"arn:aws:iam::123456789012:user/dana","#,
                r#""case_id":"results/oq.xml#OQ::temp","kind":"deviation","reason":"Sensor recalibrated; retest passed","#,
                r#""ref":"DEV-0042"}],"files":[{"path":"results/oq.xml","#,
                r#""sha256":"e933842696eed821c6dfae1939326fd10a2819caa2a3443f10e0e3f115c87dd0","#,
                r#""uri":"s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/results/oq.xml","version_id":"v2"},"#,
                r#"{"path":"run.json","sha256":"05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f","#,
                r#""uri":"s3://qualification-evidence/gxp/LIMS/OQ/2026-11-03-oq-1/run.json","version_id":null}],"#,
            )
        };
    }

    /// Frozen: these bytes and this digest were also produced by an independent
    /// implementation (Python `json.dumps(sort_keys=True, separators=(",", ":"))` + hashlib).
    #[test]
    fn golden_vector_is_frozen() {
        let bytes = golden().canonical_bytes().unwrap();
        let expected = concat!(
            golden_files_and_dispositions!(),
            r#""run":"LIMS/OQ/2026-11-03-oq-1","schema":"countersign.run-record/v1"}"#,
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        assert_eq!(
            golden().digest().unwrap().to_hex(),
            "b269e7cee7f97912325d55b5b9fdab3b0733d26184fcf67c8f12576c9e50a545"
        );
    }

    fn golden_v2() -> RunRecord {
        let v1 = golden();
        RunRecord::new_v2(
            &key(),
            v1.files,
            v1.dispositions,
            RecordRunData {
                schema: "countersign.run-data/v1".into(),
                parser: "countersign.parsers/v1".into(),
                sha256: Sha256::of(b"run data"),
            },
        )
    }

    /// Frozen: version 2 is version 1 with `run_data` and its own schema tag. The same
    /// independent implementation produced these bytes and this digest.
    #[test]
    fn golden_vector_v2_is_frozen() {
        let bytes = golden_v2().canonical_bytes().unwrap();
        let expected = concat!(
            golden_files_and_dispositions!(),
            r#""run":"LIMS/OQ/2026-11-03-oq-1","#,
            r#""run_data":{"parser":"countersign.parsers/v1","schema":"countersign.run-data/v1","#,
            r#""sha256":"28f8ee49686c55e78f17713c8533272bd56358700285280ca03435acf3f68512"},"#,
            r#""schema":"countersign.run-record/v2"}"#,
        );
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        assert_eq!(
            golden_v2().digest().unwrap().to_hex(),
            "73185bd46576f37933a86cd3c6db0d7d3c2f4aeedc871714ceacf80d9ffa7bbe"
        );
        assert_eq!(RunRecord::parse(&bytes).unwrap(), golden_v2());
        assert_eq!(
            RunRecord::parse(&golden().canonical_bytes().unwrap()).unwrap(),
            golden()
        );
    }

    #[test]
    fn each_version_has_exactly_its_members() {
        let v1 = String::from_utf8(golden().canonical_bytes().unwrap()).unwrap();
        let v2 = String::from_utf8(golden_v2().canonical_bytes().unwrap()).unwrap();
        // v1 with run_data, v2 without it, an unknown version, extra members, re-encoding.
        let v1_with = v2.replace("run-record/v2", "run-record/v1");
        assert!(RunRecord::parse(v1_with.as_bytes())
            .unwrap_err()
            .contains("has no run_data"));
        let v2_without = v1.replace("run-record/v1", "run-record/v2");
        assert!(RunRecord::parse(v2_without.as_bytes())
            .unwrap_err()
            .contains("must name its run_data"));
        let v3 = v1.replace("run-record/v1", "run-record/v3");
        assert!(RunRecord::parse(v3.as_bytes())
            .unwrap_err()
            .contains("not one this version reads"));
        let extra = v2.replace(r#""run":"#, r#""note":"x","run":"#);
        assert!(RunRecord::parse(extra.as_bytes())
            .unwrap_err()
            .contains("canonical"));
        let extra_inner = v2.replace(r#""parser":"#, r#""note":"x","parser":"#);
        assert!(RunRecord::parse(extra_inner.as_bytes()).is_err());
        let spaced = v2.replacen(':', ": ", 1);
        assert!(RunRecord::parse(spaced.as_bytes())
            .unwrap_err()
            .contains("canonical"));
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
