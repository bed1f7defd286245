//! Periodic review of a system's qualified state (docs/qualified-state.md): a Part 11
//! signature meaning `PeriodicallyReviewed` (signature predicate version 2) over the canonical
//! `countersign.state-findings/v1` document of one system over one past period, made through
//! the one signing flow. The findings are computed once, shown, and signed as they were shown:
//! a request that names the digest it was shown is refused when the findings changed since.
//! Their bytes are stored (content-addressed by the signed digest) before the signature is
//! recorded, so every review can be read back, verified and put in a report.

use countersign_aws::AwsSettings;
use countersign_core::digest::Sha256;
use countersign_core::qualified_state::{Findings, Period};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{Meaning, UtcTimestamp};
use countersign_core::signature::statement::periodic_review_subject_name;
use countersign_core::signature::verify::{verify_envelope, RecordRef};
use serde::Serialize;

use crate::error::{self as err, ServiceError};
use crate::session::SigningSession;
use crate::signing::flow::{ActSubject, SigningAct};
use crate::signing::SignSecrets;
use crate::{Service, SystemOutcome};

/// Subject kind of a periodic review in the `signatures` table and its event.
pub const PERIODIC_REVIEW_SUBJECT: &str = "periodic-review";

/// A request to sign a periodic review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodicReviewRequest {
    /// The system.
    pub system: String,
    /// The period: `FROM..TO`, each a date (`2026-11-01`, 00:00 UTC) or an RFC 3339 time.
    pub period: String,
    /// What was reviewed and found (mandatory).
    pub reason: String,
    /// The CloudTrail public key file (name, bytes) the digest chain is validated with, as for
    /// `state`; without it no period counts as covered.
    pub trail_public_key: Option<(String, Vec<u8>)>,
    /// The findings digest the reviewer was shown (hex); signing is refused when the findings
    /// are not those any more.
    pub expected_findings: Option<String>,
    /// Which key; may be omitted when the home holds exactly one enrolled key.
    pub key_id: Option<String>,
    /// The MFA device; defaults to the one used at enrollment.
    pub mfa_serial: Option<String>,
}

/// What a periodic review will sign, decided before any secret is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodicReviewPlan {
    /// The system.
    pub system: String,
    /// The period as signed.
    pub period: Period,
    /// The findings signed: exactly these.
    pub findings: Box<Findings>,
    /// Their digest: the signed digest.
    pub findings_sha256: Sha256,
    /// Reviews already signed on the same findings (the new one follows them).
    pub earlier_reviews: usize,
    /// The reviewer's key.
    pub key_id: KeyId,
    /// The reviewer's enrolled identity.
    pub iam_arn: String,
    /// The reviewer's printed name.
    pub printed_name: String,
    /// The MFA device for a new session.
    pub mfa_serial: String,
    /// True when an MFA code is needed as well as the passphrase.
    pub needs_mfa: bool,
}

/// A periodic review just recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodicReviewInfo {
    /// The system.
    pub system: String,
    /// The period as signed.
    pub period: Period,
    /// The verdict of the findings signed.
    pub verdict: String,
    /// The signed digest.
    pub findings_sha256: Sha256,
    /// Printed name.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// A clock-skew warning, when the local clock and STS disagreed.
    pub clock_warning: Option<String>,
}

/// A recorded periodic review, re-verified against its stored findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodicReviewView {
    /// The system.
    pub system: String,
    /// The period reviewed.
    pub period: Period,
    /// The signed findings' digest.
    pub findings_sha256: Sha256,
    /// The verdict of the findings signed, when they could be read back.
    pub verdict: Option<String>,
    /// The reviewer.
    pub printed_name: String,
    /// UTC signing time.
    pub signed_at: String,
    /// The reason the reviewer gave.
    pub reason: Option<String>,
    /// `valid`, or why the review does not verify.
    pub outcome: String,
    /// The envelope digest.
    pub envelope_sha256: Sha256,
    /// The ledger entry.
    pub event_seq: u64,
}

/// The subject id of a review: `<system>/<from>..<to>`.
pub(crate) fn subject_id(system: &str, period: &Period) -> String {
    format!("{system}/{}..{}", period.from, period.to)
}

/// Reads `FROM..TO`.
pub(crate) fn parse_period(text: &str) -> Result<Period, ServiceError> {
    let Some((from, to)) = text.trim().split_once("..") else {
        return Err(ServiceError::bad_input(format!(
            "--period {:?} is not a period: write FROM..TO, e.g. 2026-11-01..2026-12-01 (dates are 00:00 UTC)",
            text.chars().take(80).collect::<String>()
        )));
    };
    let from = crate::parse_time_bound("the period's start", from)?;
    let to = crate::parse_time_bound("the period's end", to)?;
    if to <= from {
        return Err(ServiceError::bad_input(
            "the period ends before it starts: write FROM..TO with FROM first",
        ));
    }
    Ok(Period {
        from: UtcTimestamp::new(from),
        to: UtcTimestamp::new(to),
    })
}

struct PeriodicReviewAct<'a> {
    req: &'a PeriodicReviewRequest,
    period: Period,
    findings: Findings,
    bytes: Vec<u8>,
}

impl PeriodicReviewAct<'_> {
    /// Computes the findings once: what is shown is what is signed.
    fn new<'a>(
        service: &Service,
        req: &'a PeriodicReviewRequest,
    ) -> Result<PeriodicReviewAct<'a>, ServiceError> {
        let period = parse_period(&req.period)?;
        let findings = service.review_findings(
            &req.system,
            &period,
            req.trail_public_key
                .as_ref()
                .map(|(n, b)| (n.as_str(), b.as_slice())),
        )?;
        let bytes = findings.canonical_bytes().map_err(|e| {
            ServiceError::storage(format!("the findings could not be encoded: {e}"))
        })?;
        if let Some(expected) = req.expected_findings.as_deref() {
            if Sha256::of(&bytes).to_hex() != expected.trim().to_ascii_lowercase() {
                return Err(ServiceError::new(
                    crate::ErrorCode::Refused,
                    "the findings of this period changed since they were shown (new evidence, an assessment or a snapshot): look at them again before signing",
                ));
            }
        }
        Ok(PeriodicReviewAct {
            req,
            period,
            findings,
            bytes,
        })
    }
}

impl SigningAct for PeriodicReviewAct<'_> {
    fn kind(&self) -> &'static str {
        PERIODIC_REVIEW_SUBJECT
    }
    fn meaning(&self) -> Meaning {
        Meaning::PeriodicallyReviewed
    }
    fn reason(&self) -> &str {
        &self.req.reason
    }
    fn reason_required(&self) -> &'static str {
        "a periodic review needs a reason (--reason TEXT): what was reviewed and found"
    }
    fn key_id(&self) -> Option<&str> {
        self.req.key_id.as_deref()
    }
    fn mfa_serial(&self) -> Option<&str> {
        self.req.mfa_serial.as_deref()
    }
    fn subject(
        &self,
        service: &Service,
        _signer: &countersign_ledger::SignerKeyRecord,
        _now: time::OffsetDateTime,
    ) -> Result<ActSubject, ServiceError> {
        let id = subject_id(&self.findings.system, &self.period);
        let name = periodic_review_subject_name(
            &self.findings.system,
            &self.period.from.to_string(),
            &self.period.to.to_string(),
        );
        let digest = Sha256::of(&self.bytes);
        // Earlier reviews of the same findings that still verify: the new one follows them.
        let history =
            service.signature_history(PERIODIC_REVIEW_SUBJECT, &id, &name, digest, false)?;
        Ok(ActSubject {
            id,
            name,
            digest,
            history,
            // Not a signature on a run record: the policy's record rules do not govern it.
            rules: None,
            package: None,
            covers: "the findings document of this periodic review (baseline, changes, coverage, verdict)".into(),
        })
    }
}

impl Service {
    /// The findings of `system` over `period`, as a periodic review signs them: from the
    /// approval (or the period's start, when later) to the period's end, which must be past.
    pub(crate) fn review_findings(
        &self,
        system: &str,
        period: &Period,
        public_key: Option<(&str, &[u8])>,
    ) -> Result<Findings, ServiceError> {
        let now = self.now();
        if period.to.get() > now {
            return Err(ServiceError::bad_input(format!(
                "the period ends at {}, which is not past yet: a periodic review covers a period that is over",
                period.to
            )));
        }
        let report = self.state_over(
            Some(system),
            public_key,
            Some((period.from.get(), period.to.get())),
        )?;
        let Some(s) = report.systems.into_iter().next() else {
            return Err(ServiceError::not_found(format!(
                "no system {system:?} among the runs in this home"
            )));
        };
        match s.state {
            SystemOutcome::Qualified { findings, .. } => {
                if findings.baseline.approved_at > period.to {
                    return Err(ServiceError::bad_input(format!(
                        "{system} was approved at {}, after the period ends: there is nothing to review in it",
                        findings.baseline.approved_at
                    )));
                }
                Ok(*findings)
            }
            SystemOutcome::NotQualified { reason, .. } => Err(ServiceError::bad_input(format!(
                "{system} has no qualified baseline to review ({reason})"
            ))),
        }
    }

    /// Checks a periodic review without asking for secrets: the findings as they are now
    /// (returned, to be shown), a reason, an enrolled unrevoked key, no lockout.
    pub fn periodic_review_check(
        &self,
        session: &SigningSession,
        req: &PeriodicReviewRequest,
    ) -> Result<PeriodicReviewPlan, ServiceError> {
        let act = PeriodicReviewAct::new(self, req)?;
        let p = self.plan_signing(&act, session, self.now())?;
        Ok(PeriodicReviewPlan {
            system: act.findings.system.clone(),
            period: act.period,
            findings_sha256: p.subject.digest,
            earlier_reviews: p.subject.history.len(),
            findings: Box::new(act.findings),
            key_id: p.key.key_id,
            iam_arn: p.key.iam_arn,
            printed_name: p.key.printed_name,
            mfa_serial: p.mfa_serial,
            needs_mfa: p.needs_mfa,
        })
    }

    /// Signs the periodic review (meaning `PeriodicallyReviewed`). The findings' bytes are
    /// stored first; the signature is recorded only once it verifies.
    pub async fn periodic_review(
        &self,
        aws: &AwsSettings,
        session: &mut SigningSession,
        req: &PeriodicReviewRequest,
        secrets: SignSecrets,
    ) -> Result<PeriodicReviewInfo, ServiceError> {
        let act = PeriodicReviewAct::new(self, req)?;
        self.store()
            .put(&act.bytes, None)
            .map_err(err::from_store)?;
        let s = self.sign_act(&act, aws, session, secrets).await?;
        Ok(PeriodicReviewInfo {
            system: act.findings.system.clone(),
            period: act.period,
            verdict: act.findings.verdict.text.clone(),
            findings_sha256: s.subject.digest,
            printed_name: s.key.printed_name,
            signed_at: s.record.signed_at.clone(),
            envelope_sha256: s.record.envelope_sha256(),
            clock_warning: s.clock_warning,
        })
    }

    /// Every periodic review recorded (of `system`, or of every system), oldest first, each
    /// verified against its findings read back from the store.
    pub fn periodic_reviews(
        &self,
        system: Option<&str>,
    ) -> Result<Vec<PeriodicReviewView>, ServiceError> {
        let registry = self.key_registry()?;
        let rows = self
            .ledger()?
            .signatures_of_kind(PERIODIC_REVIEW_SUBJECT)
            .map_err(err::from_ledger)?;
        let mut out = Vec::new();
        for r in rows {
            let Some((sys, period)) = split_subject_id(&r.subject_id) else {
                return Err(ServiceError::integrity(format!(
                    "the periodic review recorded at entry {} names no system and period ({:?})",
                    r.event_seq, r.subject_id
                )));
            };
            if system.is_some_and(|s| s != sys) {
                continue;
            }
            let name =
                periodic_review_subject_name(sys, &period.from.to_string(), &period.to.to_string());
            let (verdict, outcome) = match self.store().read(&r.subject_sha256) {
                Ok(bytes) => {
                    let o = verify_envelope(
                        &r.envelope,
                        &RecordRef {
                            name: &name,
                            sha256: Sha256::of(&bytes),
                        },
                        &registry,
                    );
                    let verdict = Findings::parse(&bytes).ok().map(|f| f.verdict.text);
                    (verdict, o.code().to_owned())
                }
                Err(_) => (None, "findings_missing".to_owned()),
            };
            let statement = crate::signing::view::statement_of(&r.envelope);
            out.push(PeriodicReviewView {
                system: sys.to_owned(),
                period,
                findings_sha256: r.subject_sha256,
                verdict,
                printed_name: r.printed_name.clone(),
                signed_at: r.signed_at.clone(),
                reason: statement.map(|s| s.predicate.reason),
                outcome,
                envelope_sha256: r.envelope_sha256(),
                event_seq: r.event_seq,
            });
        }
        Ok(out)
    }
}

/// `<system>/<from>..<to>` back into its parts.
pub(crate) fn split_subject_id(id: &str) -> Option<(&str, Period)> {
    let (system, period) = id.rsplit_once('/')?;
    let (from, to) = period.split_once("..")?;
    Some((
        system,
        Period {
            from: from.parse().ok()?,
            to: to.parse().ok()?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_two_times_in_order() {
        let p = parse_period("2026-11-01..2026-12-01").unwrap();
        assert_eq!(p.from.to_string(), "2026-11-01T00:00:00.000Z");
        assert_eq!(p.to.to_string(), "2026-12-01T00:00:00.000Z");
        let p = parse_period("2026-11-01T08:00:00+01:00..2026-11-02").unwrap();
        assert_eq!(p.from.to_string(), "2026-11-01T07:00:00.000Z");
        for bad in [
            "2026-11-01",
            "2026-12-01..2026-11-01",
            "x..2026-11-01",
            "..",
        ] {
            let e = parse_period(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::BadInput, "{bad}: {e}");
        }
        let id = subject_id("LIMS", &parse_period("2026-11-01..2026-12-01").unwrap());
        assert_eq!(
            id,
            "LIMS/2026-11-01T00:00:00.000Z..2026-12-01T00:00:00.000Z"
        );
        let (s, back) = split_subject_id(&id).unwrap();
        assert_eq!(
            (s, back.to.to_string().as_str()),
            ("LIMS", "2026-12-01T00:00:00.000Z")
        );
    }
}
