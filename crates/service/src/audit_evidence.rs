//! Audit evidence: the CloudTrail digest chain validated offline, the CloudTrail events that
//! concern a stack, and the AWS Config items of its resources, all read back from the store.
//!
//! Every object is re-read from the store and re-hashed first (as `runs` does); a stored copy that
//! changed is reported and left out, so the chain shows the file as missing rather than trusting
//! changed bytes.

use std::collections::BTreeMap;

use countersign_core::aws_config_items::{read_config_file, stack_resources, ConfigItem};
use countersign_core::cloudtrail::digest_chain::{
    validate, ChainOptions, ChainReport, DigestFile, LogFile,
};
use countersign_core::cloudtrail::events::{read_log_file, EventScope, TrailEvent};
use countersign_core::cloudtrail::gunzip::DEFAULT_MAX_DECOMPRESSED;
use countersign_core::cloudtrail::public_key::{parse_public_keys, TrailPublicKey};
use countersign_core::layout::{self, KeyKind};
use countersign_ledger::ObjectRecord;
use countersign_store::StoreError;
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::Service;

/// What `audit-evidence` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvidenceReport {
    /// The digest chain validates in every file and every stored copy re-verified.
    pub valid: bool,
    /// Fingerprints of the public keys supplied (empty: signatures were not checked).
    pub public_keys: Vec<String>,
    /// How many CloudTrail digest, CloudTrail log and AWS Config files are in the store.
    pub digest_files: usize,
    pub log_files: usize,
    pub config_files: usize,
    /// The digest-chain validation, per file.
    pub chain: ChainReport,
    /// Every finding of the chain in words, digests first (the chain's findings, each with the
    /// key of its file).
    pub findings: Vec<EvidenceFinding>,
    /// The stack the events and items are filtered to, when one was asked for.
    pub stack: Option<StackEvidence>,
    /// Events in all log files read.
    pub events_total: usize,
    /// The events shown: those of the stack (or all, without a stack), in time order.
    pub events: Vec<TrailEvent>,
    /// The Config items shown: those of the stack (or all, without a stack).
    pub config_items: Vec<ConfigItem>,
    /// Stored files that could not be used: changed since fetch, missing, unreadable.
    pub problems: Vec<EvidenceProblem>,
}

/// The stack the evidence is filtered to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackEvidence {
    pub name: String,
    pub arn: Option<String>,
    /// Creation time from AWS Config; events before it are left out.
    pub created_at: Option<String>,
    /// Names, physical ids and ARNs events are matched against.
    pub identifiers: Vec<String>,
}

/// One finding of the digest-chain validation, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceFinding {
    /// The key of the digest or log file.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a stored audit-evidence file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The stored copy no longer matches its digest, or is gone from the store.
    Integrity,
    /// The file is not gzip, too large, or not the expected JSON.
    Unreadable,
}

/// One stored file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceProblem {
    pub uri: String,
    pub kind: ProblemKind,
    pub message: String,
}

/// A stored audit-evidence object with its re-verified bytes.
struct Evidence {
    record: ObjectRecord,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Gathered {
    digests: Vec<Evidence>,
    logs: Vec<Evidence>,
    configs: Vec<Evidence>,
    problems: Vec<EvidenceProblem>,
}

impl Service {
    /// Validates the CloudTrail digest chain in the store with the public key(s) in
    /// `public_key` (the file's name, for messages, and its bytes: PEM or
    /// `aws cloudtrail list-public-keys` JSON; `None`: signatures are reported as not
    /// checked), and returns the events and Config items of `stack` (name or ARN; `None`: all
    /// of them).
    pub fn audit_evidence(
        &self,
        public_key: Option<(&str, &[u8])>,
        stack: Option<&str>,
    ) -> Result<AuditEvidenceReport, ServiceError> {
        let keys: Vec<TrailPublicKey> = match public_key {
            Some((name, bytes)) => parse_public_keys(name, bytes)
                .map_err(|e| ServiceError::bad_input(e.to_string()))?,
            None => Vec::new(),
        };
        let stack = stack.map(str::trim).filter(|s| !s.is_empty());
        let g = self.gather()?;
        let mut problems = g.problems;

        let digest_inputs: Vec<DigestFile<'_>> = g
            .digests
            .iter()
            .filter_map(|e| {
                Some(DigestFile::with_metadata(
                    e.record.bucket.as_deref()?,
                    e.record.key.as_deref()?,
                    &e.bytes,
                    &e.record.metadata,
                ))
            })
            .collect();
        let log_inputs: Vec<LogFile<'_>> = g
            .logs
            .iter()
            .filter_map(|e| {
                Some(LogFile {
                    bucket: e.record.bucket.as_deref()?,
                    key: e.record.key.as_deref()?,
                    raw: &e.bytes,
                })
            })
            .collect();
        let chain = validate(&digest_inputs, &log_inputs, &keys, &ChainOptions::default());

        let mut events = Vec::new();
        for e in &g.logs {
            let key = e.record.key.as_deref().unwrap_or(&e.record.uri);
            match read_log_file(key, &e.bytes, DEFAULT_MAX_DECOMPRESSED) {
                Ok(mut list) => events.append(&mut list),
                Err(report) => problems.push(unreadable(&e.record, report.to_string())),
            }
        }
        let mut items = Vec::new();
        for e in &g.configs {
            let key = e.record.key.as_deref().unwrap_or(&e.record.uri);
            match read_config_file(key, &e.bytes, DEFAULT_MAX_DECOMPRESSED) {
                Ok(mut list) => items.append(&mut list),
                Err(report) => problems.push(unreadable(&e.record, report.to_string())),
            }
        }
        events.sort_by_key(|e| e.time);
        let events_total = events.len();

        let (stack_view, events, config_items) = match stack {
            None => (None, events, items),
            Some(name) => {
                let resources = stack_resources(&items, name);
                let mut scope = EventScope {
                    identifiers: resources.identifiers.clone(),
                    from: resources.created_at,
                    to: None,
                };
                // Without Config items, the stack is known by the ARNs events give it.
                let arn_part = format!(":stack/{name}/");
                for e in &events {
                    for r in &e.resources {
                        if r.starts_with("arn:aws:cloudformation:") && r.contains(&arn_part) {
                            scope.identifiers.insert(r.clone());
                        }
                    }
                }
                let selected: Vec<TrailEvent> =
                    scope.select(&events).into_iter().cloned().collect();
                if resources.items.is_empty() && selected.is_empty() {
                    return Err(ServiceError::not_found(format!(
                        "no stack {name:?} in the AWS Config items or CloudTrail events in the store; \
                         check the name (or ARN) and that the audit evidence was fetched"
                    )));
                }
                let view = StackEvidence {
                    name: resources.stack_name.clone(),
                    arn: resources.stack_arn.clone(),
                    created_at: resources.created_at.and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    }),
                    identifiers: scope.identifiers.iter().cloned().collect(),
                };
                (Some(view), selected, resources.items)
            }
        };

        let integrity_ok = !problems.iter().any(|p| p.kind == ProblemKind::Integrity);
        Ok(AuditEvidenceReport {
            valid: chain.valid && integrity_ok,
            public_keys: keys.iter().map(|k| k.fingerprint.clone()).collect(),
            digest_files: g.digests.len(),
            log_files: g.logs.len(),
            config_files: g.configs.len(),
            findings: chain
                .findings()
                .into_iter()
                .map(|(key, f)| EvidenceFinding {
                    key: key.to_owned(),
                    message: f.to_string(),
                })
                .collect(),
            chain,
            stack: stack_view,
            events_total,
            events,
            config_items,
            problems,
        })
    }

    /// The newest stored copy of every CloudTrail and Config object, re-read and re-hashed.
    fn gather(&self) -> Result<Gathered, ServiceError> {
        let objects = self.ledger()?.objects().map_err(err::from_ledger)?;
        // Newest record per (bucket, key): a re-delivered object supersedes the old version.
        let mut latest: BTreeMap<(String, String), (ObjectRecord, KeyKind)> = BTreeMap::new();
        for o in objects {
            let (Some(bucket), Some(key)) = (o.bucket.clone(), o.key.clone()) else {
                continue;
            };
            let Some(kind) = evidence_kind(&key) else {
                continue;
            };
            latest.insert((bucket, key), (o, kind));
        }
        let mut g = Gathered::default();
        for (record, kind) in latest.into_values() {
            let bytes = match self.store().read(&record.sha256) {
                Ok(b) => b,
                Err(e @ (StoreError::Changed { .. } | StoreError::Missing { .. })) => {
                    g.problems.push(EvidenceProblem {
                        uri: record.uri.clone(),
                        kind: ProblemKind::Integrity,
                        message: format!(
                            "the stored copy of {} cannot be trusted: {e}; fetch it again",
                            record.uri
                        ),
                    });
                    continue;
                }
                Err(e) => return Err(err::from_store(e)),
            };
            let evidence = Evidence { record, bytes };
            match kind {
                KeyKind::CloudTrailDigest { .. } => g.digests.push(evidence),
                KeyKind::CloudTrailLog { .. } => g.logs.push(evidence),
                _ => g.configs.push(evidence),
            }
        }
        Ok(g)
    }
}

fn unreadable(record: &ObjectRecord, message: String) -> EvidenceProblem {
    EvidenceProblem {
        uri: record.uri.clone(),
        kind: ProblemKind::Unreadable,
        message,
    }
}

/// The audit-evidence kind of a stored key (under any prefix): the `AWSLogs/` part of the key
/// classified by the layout rules. Config files other than delivered `.json.gz` snapshots and
/// history (e.g. the write-access check file) are left out.
fn evidence_kind(key: &str) -> Option<KeyKind> {
    let parts: Vec<&str> = key.split('/').collect();
    let start = parts.iter().position(|p| *p == "AWSLogs")?;
    match layout::classify(&parts[start..].join("/")) {
        k @ (KeyKind::CloudTrailDigest { .. } | KeyKind::CloudTrailLog { .. }) => Some(k),
        k @ KeyKind::ConfigFile { .. } if key.ends_with(".json.gz") => Some(k),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_kinds_under_any_prefix() {
        let acct = "123456789012";
        assert!(matches!(
            evidence_kind(&format!(
                "gxp/AWSLogs/{acct}/CloudTrail/eu-west-1/2026/11/02/x.json.gz"
            )),
            Some(KeyKind::CloudTrailLog { .. })
        ));
        assert!(matches!(
            evidence_kind(&format!(
                "AWSLogs/{acct}/CloudTrail-Digest/eu-west-1/2026/11/02/d.json.gz"
            )),
            Some(KeyKind::CloudTrailDigest { .. })
        ));
        assert!(matches!(
            evidence_kind(&format!(
                "a/b/AWSLogs/{acct}/Config/eu-west-1/2026/11/5/ConfigSnapshot/s.json.gz"
            )),
            Some(KeyKind::ConfigFile { .. })
        ));
        assert_eq!(
            evidence_kind(&format!("AWSLogs/{acct}/Config/ConfigWritabilityCheckFile")),
            None
        );
        assert_eq!(evidence_kind("LIMS/IQ/r1/report.xml"), None);
        assert_eq!(evidence_kind("AWSLogs/12/CloudTrail/x.json.gz"), None);
    }

    #[test]
    fn an_empty_home_has_no_valid_chain_and_an_unknown_stack_is_not_found() {
        let home = tempfile::tempdir().unwrap();
        let service = crate::test_env::service(home.path());
        let r = service.audit_evidence(None, None).unwrap();
        assert!(!r.valid);
        assert_eq!((r.digest_files, r.log_files, r.config_files), (0, 0, 0));
        let e = service.audit_evidence(None, Some("lims-qual")).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::NotFound);
        assert!(e.message.contains("\"lims-qual\""), "{e}");
    }

    #[test]
    fn a_bad_public_key_file_is_bad_input_naming_the_file() {
        let home = tempfile::tempdir().unwrap();
        let service = crate::test_env::service(home.path());
        let e = service
            .audit_evidence(Some(("keys/trail.pem", b"hello")), None)
            .unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::BadInput);
        assert!(
            e.message.starts_with("public key file keys/trail.pem: "),
            "{e}"
        );
    }
}
