//! `state`: for each approved system, what the evidence in this home says about its qualified
//! state since approval (docs/qualified-state.md). Everything is read from the ledger and the
//! store, re-verified; the decision is `core::qualified_state`.

use std::collections::BTreeMap;

use countersign_core::cloudtrail::digest_chain::ChainReport;
use countersign_core::model::{Phase, RunKey};
use countersign_core::qualified_state::{
    baseline_of, evaluate, ApprovalInput, BaselineOutcome, CurrentInput, EventRef, Findings,
    RecordedSnapshot, StateInputs,
};
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_core::stack_snapshot::{is_snapshot_uri, StackSnapshot};
use serde::Serialize;

use crate::audit_evidence::EvidenceProblem;
use crate::error::{self as err, ServiceError};
use crate::Service;

/// What `state` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateReport {
    /// One entry per system, in name order.
    pub systems: Vec<SystemState>,
    /// Fingerprints of the CloudTrail public keys the digest chain was validated with (empty:
    /// signatures not checked, so no period counts as covered).
    pub public_keys: Vec<String>,
    /// Stored evidence files that could not be used (changed since fetch, unreadable).
    pub problems: Vec<EvidenceProblem>,
    /// The periodic reviews signed for these systems, oldest first, each re-verified.
    pub reviews: Vec<crate::PeriodicReviewView>,
}

/// One system's qualified state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemState {
    /// The system.
    pub system: String,
    /// Its state, or why it has none.
    #[serde(flatten)]
    pub state: SystemOutcome,
}

/// A system's state, or why it has no baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SystemOutcome {
    /// Approved: the findings since approval.
    Qualified {
        /// The findings (`countersign.state-findings/v1`).
        findings: Box<Findings>,
        /// Every CloudTrail call on the stack's resources since approval, in time order.
        events: Vec<EventRef>,
    },
    /// Not (or no longer) approved.
    NotQualified {
        /// Why, in words.
        reason: String,
        /// The phases with a valid approval.
        approved: Vec<Phase>,
    },
}

impl Service {
    /// The qualified state of `system` (every system with runs, without one), from the
    /// approvals, stack snapshots and audit evidence in this home. `public_key` is the
    /// CloudTrail public key file (name and bytes) the digest chain is validated with; without
    /// it no digest's signature is checked and no period counts as covered.
    pub fn state(
        &self,
        system: Option<&str>,
        public_key: Option<(&str, &[u8])>,
    ) -> Result<StateReport, ServiceError> {
        self.state_over(system, public_key, None)
    }

    /// [`Service::state`] over `window` (from, to) instead of from the approval until now: the
    /// period starts at the approval when that is later, and the stack compared is the newest
    /// snapshot taken by the window's end.
    pub(crate) fn state_over(
        &self,
        system: Option<&str>,
        public_key: Option<(&str, &[u8])>,
        window: Option<(time::OffsetDateTime, time::OffsetDateTime)>,
    ) -> Result<StateReport, ServiceError> {
        let mut runs: BTreeMap<String, Vec<RunKey>> = BTreeMap::new();
        for r in self.runs()? {
            runs.entry(r.key.system.clone()).or_default().push(r.key);
        }
        if let Some(name) = system {
            runs.retain(|s, _| s == name);
            if runs.is_empty() {
                return Err(ServiceError::not_found(format!(
                    "no system {name:?} among the runs in this home; `countersign runs` lists them"
                )));
            }
        }
        let evidence = self.audit_evidence(public_key, None)?;
        let all: Vec<&RunKey> = runs.values().flatten().collect();
        let snapshots = self.recorded_snapshots(&all)?;
        let to = window.map_or_else(|| self.now(), |(_, to)| to);
        let mut systems = Vec::new();
        for (name, keys) in runs {
            let state = self.system_state(
                &name,
                &keys,
                &snapshots,
                &evidence.chain,
                &evidence.public_keys,
                &evidence.events,
                &evidence.config_items,
                window.map(|(from, _)| from),
                to,
            )?;
            systems.push(SystemState {
                system: name,
                state,
            });
        }
        let reviews = if window.is_some() {
            Vec::new()
        } else {
            self.periodic_reviews(system)?
        };
        Ok(StateReport {
            systems,
            public_keys: evidence.public_keys,
            problems: evidence.problems,
            reviews,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn system_state(
        &self,
        system: &str,
        runs: &[RunKey],
        snapshots: &[RecordedSnapshot],
        chain: &ChainReport,
        public_keys: &[String],
        events: &[countersign_core::cloudtrail::events::TrailEvent],
        config_items: &[countersign_core::aws_config_items::ConfigItem],
        window_from: Option<time::OffsetDateTime>,
        to: time::OffsetDateTime,
    ) -> Result<SystemOutcome, ServiceError> {
        let mut approvals = Vec::new();
        for run in runs {
            let signatures = match self.signatures_in_order(&run.to_string()) {
                Ok(s) => s,
                // A run whose files fail their integrity check cannot carry a valid approval.
                Err(e) if e.code == crate::ErrorCode::Integrity => {
                    return Ok(SystemOutcome::NotQualified {
                        reason: format!("not in a qualified state: {}", e.message),
                        approved: Vec::new(),
                    })
                }
                Err(e) => return Err(e),
            };
            for (view, seq) in signatures {
                if view.meaning != Meaning::Approved {
                    continue;
                }
                let Ok(signed_at) = view.signed_at.parse::<UtcTimestamp>() else {
                    continue;
                };
                approvals.push(ApprovalInput {
                    run: run.clone(),
                    signed_at,
                    ledger_seq: seq,
                    printed_name: view.printed_name,
                    iam_arn: view.iam_arn.unwrap_or_default(),
                    envelope_sha256: view.envelope_sha256,
                    valid: view.valid,
                    outcome: view.outcome_detail,
                });
            }
        }
        let own: Vec<RecordedSnapshot> = snapshots
            .iter()
            .filter(|s| runs.contains(&s.run))
            .cloned()
            .collect();
        let (baseline, baseline_snapshot, notes) = match baseline_of(system, &approvals, &own) {
            BaselineOutcome::NotQualified { reason, approved } => {
                return Ok(SystemOutcome::NotQualified { reason, approved })
            }
            BaselineOutcome::Found {
                baseline,
                snapshot,
                notes,
            } => (baseline, snapshot, notes),
        };
        // The stack now: the newest snapshot recorded for the system's runs after the baseline.
        let baseline_seq = baseline
            .snapshot
            .as_ref()
            .and_then(|b| own.iter().find(|s| s.sha256 == b.sha256))
            .map(|s| s.ledger_seq);
        let current = own
            .iter()
            .filter(|s| baseline_seq.is_none_or(|b| s.ledger_seq > b))
            .filter(|s| Some(s.sha256) != baseline.snapshot.as_ref().map(|b| b.sha256))
            .filter(|s| window_from.is_none() || taken_by(&s.snapshot.taken_at, to))
            .max_by_key(|s| s.ledger_seq);
        let current_note = match current {
            Some(s) => Some(format!(
                "the newest stack snapshot in this home (taken {}); `countersign fetch` takes a fresh one",
                s.snapshot.taken_at
            )),
            None if window_from.is_some() => Some(
                "no stack snapshot was taken between the baseline and the end of the period: \
                 the stack was not compared with it"
                    .to_owned(),
            ),
            None => Some(
                "no stack snapshot was recorded after the baseline: the stack was not compared \
                 with it; `countersign fetch` takes one"
                    .to_owned(),
            ),
        };
        let region = baseline_snapshot.as_ref().map(|s| s.region.clone());
        let chain = match &region {
            Some(region) => chain_of_region(chain, region),
            None => chain.clone(),
        };
        let from = baseline
            .approved_at
            .get()
            .max(window_from.unwrap_or(time::OffsetDateTime::UNIX_EPOCH));
        let (assessments, assessment_notes) = self.change_assessments(system)?;
        let mut notes = notes;
        notes.extend(assessment_notes);
        let evaluated = evaluate(&StateInputs {
            system,
            baseline: &baseline,
            baseline_snapshot: baseline_snapshot.as_deref(),
            from,
            to: to.max(from),
            current: CurrentInput {
                snapshot: current.map(|s| (&s.snapshot, s.sha256)),
                fresh: false,
            },
            current_note,
            config_items,
            events,
            chain: &chain,
            public_keys,
            assessments: &assessments,
            notes,
        });
        Ok(SystemOutcome::Qualified {
            findings: Box::new(evaluated.findings),
            events: evaluated.events,
        })
    }

    /// Every stack snapshot recorded for a run, re-read and verified; one whose stored copy
    /// changed or does not decode is left out (it cannot be a baseline).
    fn recorded_snapshots(&self, runs: &[&RunKey]) -> Result<Vec<RecordedSnapshot>, ServiceError> {
        let by_name: BTreeMap<String, &RunKey> = runs.iter().map(|r| (r.to_string(), *r)).collect();
        let objects = self.ledger()?.objects().map_err(err::from_ledger)?;
        let mut out = Vec::new();
        for o in objects.into_iter().filter(|o| is_snapshot_uri(&o.uri)) {
            let Some(run) = o.run_key.as_deref().and_then(|r| by_name.get(r)) else {
                continue;
            };
            let Ok(bytes) = self.store().read(&o.sha256) else {
                continue;
            };
            let Ok(snapshot) = StackSnapshot::from_json(&bytes) else {
                continue;
            };
            out.push(RecordedSnapshot {
                run: (*run).clone(),
                ledger_seq: o.event_seq,
                sha256: o.sha256,
                snapshot,
            });
        }
        Ok(out)
    }
}

/// Whether a snapshot taken at `taken_at` (RFC 3339) was taken by `to`; an unreadable time
/// is not.
fn taken_by(taken_at: &str, to: time::OffsetDateTime) -> bool {
    time::OffsetDateTime::parse(taken_at, &time::format_description::well_known::Rfc3339)
        .is_ok_and(|t| t <= to)
}

/// The part of `chain` about `region`: its digests (`…/CloudTrail-Digest/<region>/…`) and the
/// log files they list.
fn chain_of_region(chain: &ChainReport, region: &str) -> ChainReport {
    let digest_part = format!("/CloudTrail-Digest/{region}/");
    let digests: Vec<_> = chain
        .digests
        .iter()
        .filter(|d| d.key.contains(&digest_part))
        .cloned()
        .collect();
    let keys: Vec<&str> = digests.iter().map(|d| d.key.as_str()).collect();
    ChainReport {
        valid: chain.valid,
        log_files: chain
            .log_files
            .iter()
            .filter(|l| keys.contains(&l.digest_key.as_str()))
            .cloned()
            .collect(),
        digests,
        not_covered: chain.not_covered.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_system_is_not_found_and_an_empty_home_has_no_systems() {
        let home = tempfile::tempdir().unwrap();
        let service = crate::test_env::service(home.path());
        let r = service.state(None, None).unwrap();
        assert!(r.systems.is_empty());
        let e = service.state(Some("LIMS"), None).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::NotFound);
        assert!(e.message.contains("\"LIMS\""), "{e}");
    }

    #[test]
    fn the_chain_of_a_region_keeps_its_digests_and_their_logs() {
        use countersign_core::cloudtrail::digest_chain::{DigestCheck, LogCheck};
        let d = |key: &str| DigestCheck {
            bucket: "b".into(),
            key: key.into(),
            start_time: None,
            end_time: None,
            fingerprint: None,
            log_files: 1,
            valid: true,
            findings: vec![],
        };
        let l = |digest: &str| LogCheck {
            bucket: "b".into(),
            key: format!("{digest}-log"),
            digest_key: digest.into(),
            expected_sha256: "x".into(),
            valid: true,
            findings: vec![],
        };
        let east = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/06/a.json.gz";
        let west = "AWSLogs/1/CloudTrail-Digest/eu-west-1/2026/11/06/b.json.gz";
        let chain = ChainReport {
            valid: true,
            digests: vec![d(east), d(west)],
            log_files: vec![l(east), l(west)],
            not_covered: vec![],
        };
        let c = chain_of_region(&chain, "us-east-1");
        assert_eq!(c.digests.len(), 1);
        assert_eq!(c.digests[0].key, east);
        assert_eq!(c.log_files.len(), 1);
        assert_eq!(c.log_files[0].digest_key, east);
    }
}
