//! Which periods after approval the validated CloudTrail digest chain covers, and every gap:
//! periods no digest covers (logging stopped, digests missing), and periods whose digests or
//! log files did not validate.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cloudtrail::digest_chain::ChainReport;
use crate::signature::predicate::UtcTimestamp;

/// A period, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Start.
    pub from: UtcTimestamp,
    /// End.
    pub to: UtcTimestamp,
}

/// A period no validated digest covers, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// Start.
    pub from: UtcTimestamp,
    /// End.
    pub to: UtcTimestamp,
    /// Why, e.g. "no CloudTrail digest covers this period…" or the digest's finding.
    pub reason: String,
}

/// The coverage of a period by the validated digest chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// The covered periods, merged, in order.
    pub covered: Vec<Period>,
    /// Every gap between the start of the period and the end of the last digest in it.
    pub gaps: Vec<Gap>,
    /// The end of the last covered period: how far the evidence reaches.
    pub covered_until: Option<UtcTimestamp>,
    /// Digests in the period that validated, and that did not.
    pub digests_validated: u32,
    /// Digests in the period that did not validate.
    pub digests_not_validated: u32,
    /// Fingerprints of the public keys the signatures were checked with (empty: not checked).
    pub public_keys: Vec<String>,
}

fn parse(t: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(t?, &Rfc3339).ok()
}

/// The coverage of `from..to` by the digests of `chain` (validated with `public_keys`). A
/// digest covers `[digestStartTime, digestEndTime)` when it has no finding and every log file
/// it lists validated.
pub fn coverage(
    chain: &ChainReport,
    public_keys: &[String],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Coverage {
    struct Window {
        start: OffsetDateTime,
        end: OffsetDateTime,
        valid: bool,
        why: Option<String>,
    }
    let mut windows: Vec<Window> = Vec::new();
    for d in &chain.digests {
        let (Some(start), Some(end)) =
            (parse(d.start_time.as_deref()), parse(d.end_time.as_deref()))
        else {
            continue;
        };
        if end <= from || start >= to || end <= start {
            continue;
        }
        let bad_log = chain
            .log_files
            .iter()
            .find(|l| l.digest_key == d.key && !l.valid);
        let why = d
            .findings
            .first()
            .map(|f| format!("digest {}: {f}", d.key))
            .or_else(|| {
                bad_log.and_then(|l| {
                    l.findings
                        .first()
                        .map(|f| format!("log file {}: {f}", l.key))
                })
            });
        windows.push(Window {
            start: start.max(from),
            end: end.min(to),
            valid: why.is_none(),
            why,
        });
    }
    windows.sort_by_key(|w| (w.start, w.end));

    let mut covered: Vec<Period> = Vec::new();
    let mut spans: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::new();
    for w in windows.iter().filter(|w| w.valid) {
        match spans.last_mut() {
            Some(last) if w.start <= last.1 => last.1 = last.1.max(w.end),
            _ => spans.push((w.start, w.end)),
        }
    }
    for (a, b) in &spans {
        covered.push(Period {
            from: UtcTimestamp::new(*a),
            to: UtcTimestamp::new(*b),
        });
    }
    let reach = windows.iter().map(|w| w.end).max();
    let mut gaps = Vec::new();
    match reach {
        None => gaps.push(Gap {
            from: UtcTimestamp::new(from),
            to: UtcTimestamp::new(to),
            reason: "no CloudTrail digest in the store covers any of this period: fetch the \
                     trail's CloudTrail-Digest files, or logging was off"
                .to_owned(),
        }),
        Some(reach) => {
            let mut cursor = from;
            for (a, b) in spans.iter().copied().chain([(reach, reach)]) {
                if a > cursor {
                    let reason = windows
                        .iter()
                        .filter(|w| !w.valid && w.start < a && w.end > cursor)
                        .find_map(|w| w.why.clone())
                        .unwrap_or_else(|| {
                            "no CloudTrail digest covers this period: logging was stopped (the \
                             chain starts again after it), or its digest files are missing \
                             from the store"
                                .to_owned()
                        });
                    gaps.push(Gap {
                        from: UtcTimestamp::new(cursor),
                        to: UtcTimestamp::new(a),
                        reason,
                    });
                }
                cursor = cursor.max(b);
            }
        }
    }
    Coverage {
        covered_until: spans.last().map(|(_, b)| UtcTimestamp::new(*b)),
        covered,
        gaps,
        digests_validated: u32::try_from(windows.iter().filter(|w| w.valid).count())
            .unwrap_or(u32::MAX),
        digests_not_validated: u32::try_from(windows.iter().filter(|w| !w.valid).count())
            .unwrap_or(u32::MAX),
        public_keys: public_keys.to_vec(),
    }
}

/// The keys of the log files a validated digest lists and whose content matched it: events
/// read from them have established integrity.
pub fn validated_log_keys(chain: &ChainReport) -> std::collections::BTreeSet<String> {
    let valid_digests: std::collections::BTreeSet<&str> = chain
        .digests
        .iter()
        .filter(|d| d.valid)
        .map(|d| d.key.as_str())
        .collect();
    chain
        .log_files
        .iter()
        .filter(|l| l.valid && valid_digests.contains(l.digest_key.as_str()))
        .map(|l| l.key.clone())
        .collect()
}
