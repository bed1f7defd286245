//! A system's qualified state as `ledger publish --state` writes it to S3 for organisation-wide
//! queries (docs/audit-trail-publish.md, "State findings"): one JSON Lines object per system and
//! check, under `PREFIX/state/system_key=<system>/date=<YYYY-MM-DD>/`, one line per verdict, change
//! and evidence gap. Frozen: `countersign.published-finding/v1`, golden vector below.

use serde::Serialize;

use crate::digest::Sha256;
use crate::layout::S3Location;
use crate::published_trail::LedgerId;
use crate::qualified_state::evaluate::human_time;
use crate::qualified_state::Findings;
use crate::signature::predicate::UtcTimestamp;

pub use crate::formats::PUBLISHED_FINDING_V1;

/// The folder below the prefix that holds the published state.
pub const STATE_FOLDER: &str = "state/";

/// One line. Every member is always written, in this order; members that do not apply to the
/// line's kind are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingLine {
    /// Always [`PUBLISHED_FINDING_V1`].
    pub format: &'static str,
    /// `verdict`, `change` or `gap`.
    pub kind: &'static str,
    /// The system.
    pub system: String,
    /// When the check ran (the end of the period).
    pub checked_at: UtcTimestamp,
    /// The desktop's ledger id (docs/audit-trail-publish.md).
    pub ledger: String,
    /// SHA-256 of the canonical findings document the lines come from.
    pub findings_sha256: Sha256,
    /// `in_qualified_state`, `changed` or `not_demonstrable` (every line of one check).
    pub verdict: &'static str,
    /// The verdict sentence (verdict line).
    pub verdict_text: Option<String>,
    /// The period's start: the approval (verdict line).
    pub approved_at: Option<UtcTimestamp>,
    /// How far the evidence reaches (verdict line).
    pub covered_until: Option<UtcTimestamp>,
    /// Changes, open changes and gaps (verdict line).
    pub changes: Option<u32>,
    /// Changes not assessed or needing requalification (verdict line).
    pub open_changes: Option<u32>,
    /// Evidence gaps (verdict line).
    pub gaps: Option<u32>,
    /// The change's id (change line).
    pub change_id: Option<Sha256>,
    /// `stack`, `configuration`, `api_call`, `compliance` (change line).
    pub change_kind: Option<String>,
    /// When it happened, when the evidence says (change line); the gap's start (gap line).
    pub time_utc: Option<UtcTimestamp>,
    /// The gap's end (gap line).
    pub until_utc: Option<UtcTimestamp>,
    /// One line about the change, or why the gap is one.
    pub summary: Option<String>,
    /// The resource's type and id (change line).
    pub resource_type: Option<String>,
    /// The resource's id (change line).
    pub resource_id: Option<String>,
    /// Who made the first CloudTrail call behind the change (change line).
    pub who: Option<String>,
    /// `no_impact` or `requalification_needed` when assessed (change line).
    pub assessed_impact: Option<String>,
    /// The assessor's printed name (change line).
    pub assessed_by: Option<String>,
    /// The change-control reference of the assessment (change line).
    pub assessment_reference: Option<String>,
}

/// The lines of one check: the verdict, each change, each gap.
pub fn finding_lines(f: &Findings, ledger: &LedgerId, findings_sha256: Sha256) -> Vec<FindingLine> {
    let base = FindingLine {
        format: PUBLISHED_FINDING_V1,
        kind: "verdict",
        system: f.system.clone(),
        checked_at: f.period.to,
        ledger: ledger.to_string(),
        findings_sha256,
        verdict: f.verdict.kind.as_str(),
        verdict_text: None,
        approved_at: None,
        covered_until: None,
        changes: None,
        open_changes: None,
        gaps: None,
        change_id: None,
        change_kind: None,
        time_utc: None,
        until_utc: None,
        summary: None,
        resource_type: None,
        resource_id: None,
        who: None,
        assessed_impact: None,
        assessed_by: None,
        assessment_reference: None,
    };
    let mut out = vec![FindingLine {
        verdict_text: Some(f.verdict.text.clone()),
        approved_at: Some(f.baseline.approved_at),
        covered_until: f.verdict.covered_until,
        changes: Some(f.verdict.changes),
        open_changes: Some(f.verdict.open_changes),
        gaps: Some(f.verdict.gaps),
        ..base.clone()
    }];
    for c in &f.changes {
        out.push(FindingLine {
            kind: "change",
            change_id: Some(c.id),
            change_kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            time_utc: c.at,
            summary: Some(c.summary.clone()),
            resource_type: c.resource.as_ref().map(|r| r.resource_type.clone()),
            resource_id: c.resource.as_ref().map(|r| r.resource_id.clone()),
            who: c.events.first().map(|e| e.who().to_owned()),
            assessed_impact: c.assessment.as_ref().map(|a| a.impact.as_str().to_owned()),
            assessed_by: c.assessment.as_ref().map(|a| a.printed_name.clone()),
            assessment_reference: c.assessment.as_ref().and_then(|a| a.reference.clone()),
            ..base.clone()
        });
    }
    for g in &f.coverage.gaps {
        out.push(FindingLine {
            kind: "gap",
            time_utc: Some(g.from),
            until_utc: Some(g.to),
            summary: Some(format!(
                "{} – {}: {}",
                human_time(g.from),
                human_time(g.to),
                g.reason
            )),
            ..base.clone()
        });
    }
    out
}

/// The object's bytes: one line per finding, each ended by a line feed.
pub fn object_body(lines: &[FindingLine]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut out, l)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// A system name as a key segment: ASCII letters, digits, `.`, `_` and `-` as they are; every
/// other byte as `%XX`. The segment never holds `/`, so it never leaves its folder.
pub fn key_segment(system: &str) -> String {
    let mut out = String::new();
    for b in system.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() || out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    out
}

/// The object's key: `PREFIX/state/system_key=<system>/date=<YYYY-MM-DD>/<checked at>-<first 16
/// hex of the findings digest>.jsonl`, with the check time written `YYYYMMDDTHHMMSSmmmZ`.
pub fn object_key(loc: &S3Location, f: &Findings, findings_sha256: &Sha256) -> String {
    let at = f.period.to.to_string();
    let compact: String = at.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    loc.key(&format!(
        "{STATE_FOLDER}system_key={}/date={}/{compact}-{}.jsonl",
        key_segment(&f.system),
        &at[..10.min(at.len())],
        &findings_sha256.to_hex()[..16]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qualified_state::tests::sample_findings;

    #[test]
    fn a_check_is_one_verdict_line_a_line_per_change_and_per_gap_frozen() {
        let f = sample_findings(&[]);
        let sha = f.digest().unwrap();
        let id = LedgerId::of_first_entry(Sha256::of(b"first entry"));
        let lines = finding_lines(&f, &id, sha);
        let kinds: Vec<&str> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "verdict").count(), 1);
        assert_eq!(
            kinds.iter().filter(|k| **k == "change").count(),
            f.changes.len()
        );
        assert_eq!(
            kinds.iter().filter(|k| **k == "gap").count(),
            f.coverage.gaps.len()
        );
        let body = object_body(&lines).unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        let first = text.lines().next().unwrap();
        if let Ok(path) = std::env::var("COUNTERSIGN_DUMP_FINDING_LINES") {
            std::fs::write(path, &body).unwrap();
        }
        assert!(
            first.starts_with(r#"{"format":"countersign.published-finding/v1","kind":"verdict","system":"LIMS","checked_at":"2026-11-14T06:00:00.000Z","ledger":""#),
            "{first}"
        );
        assert_eq!(
            Sha256::of(&body).to_hex(),
            "57e01c98a5de42d79be22f19fa3b7485312403bf849039d7c9841936702437ca",
            "the v1 lines are frozen"
        );
        let loc: S3Location = "s3://org-state/site-1".parse().unwrap();
        let key = object_key(&loc, &f, &sha);
        assert!(
            key.starts_with("site-1/state/system_key=LIMS/date=2026-11-14/20261114T060000000Z-"),
            "{key}"
        );
        assert!(key.ends_with(".jsonl"));
    }

    #[test]
    fn a_system_name_never_leaves_its_folder() {
        assert_eq!(key_segment("LIMS"), "LIMS");
        assert_eq!(key_segment("a/../b"), "a%2F..%2Fb");
        assert_eq!(key_segment(".."), "%2E%2E");
        assert_eq!(key_segment("Ünï code"), "%C3%9Cn%C3%AF%20code");
    }
}
