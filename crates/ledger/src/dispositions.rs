//! Case dispositions: a failed or errored case dispositioned as a deviation or accepted. The
//! hash-chained `case.dispositioned` event is the record; a later disposition of the same case
//! supersedes an earlier one, and both stay.

use countersign_core::ledger_event::Actor;
use serde::Serialize;

use crate::error::LedgerError;
use crate::event::{append_in, EventClass, EventFilter, NewEvent};
use crate::rows::malformed;
use crate::Ledger;

/// Action of a case disposition event.
pub const CASE_DISPOSITIONED: &str = "case.dispositioned";

/// A disposition of one failed or errored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseDisposition {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run_key: String,
    /// The case id within the run.
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    /// The deviation or change reference.
    pub reference: String,
    /// Why (mandatory).
    pub reason: String,
}

/// A case disposition as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseDispositionRecord {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run_key: String,
    /// The case id.
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    /// The reference.
    pub reference: String,
    /// Why.
    pub reason: String,
    /// Who, by IAM ARN, when known.
    pub by_arn: Option<String>,
    /// Who, by printed name, when known.
    pub by_name: Option<String>,
    /// When (UTC, RFC 3339 with milliseconds).
    pub at: String,
    /// The event that recorded it.
    pub event_seq: u64,
}

impl Ledger {
    /// Records a disposition of a failed or errored case with its `case.dispositioned` event.
    /// A later disposition of the same case supersedes it; both stay.
    pub fn record_case_disposition(
        &mut self,
        d: &NewCaseDisposition,
        actor: &Actor,
    ) -> Result<CaseDispositionRecord, LedgerError> {
        let after = serde_json::json!({
            "case_id": d.case_id,
            "kind": d.kind,
            "ref": d.reference,
        })
        .to_string();
        let event = NewEvent::new(actor, CASE_DISPOSITIONED, "run", d.run_key.clone())
            .after(after)
            .reason(d.reason.clone())
            .class(EventClass::Disposition);
        event.validate()?;
        if d.case_id.trim().is_empty() || d.reference.trim().is_empty() {
            return Err(LedgerError::InvalidEvent {
                action: CASE_DISPOSITIONED.into(),
                detail: "the case id and the reference must not be blank".into(),
            });
        }
        let rec = self.write("recording a case disposition", |tx, clock| {
            append_in(tx, clock, &event)
        })?;
        Ok(CaseDispositionRecord {
            run_key: d.run_key.clone(),
            case_id: d.case_id.clone(),
            kind: d.kind.clone(),
            reference: d.reference.clone(),
            reason: d.reason.clone(),
            by_arn: actor.arn.clone(),
            by_name: actor.printed_name.clone(),
            at: rec.event.time_utc,
            event_seq: rec.event.seq,
        })
    }

    /// Every disposition of the run's cases, oldest first (the newest per case is current).
    pub fn case_dispositions(
        &self,
        run_key: &str,
    ) -> Result<Vec<CaseDispositionRecord>, LedgerError> {
        let filter = EventFilter {
            object_kind: Some("run".into()),
            object_id: Some(run_key.into()),
            action: Some(CASE_DISPOSITIONED.into()),
            ..EventFilter::default()
        };
        let mut out = Vec::new();
        for e in self.events(&filter)? {
            let ev = e.event;
            let row = i64::try_from(ev.seq).unwrap_or(i64::MAX);
            let bad = |detail: &str| malformed(&self.path, "events", row, detail.to_owned());
            let after: serde_json::Value = ev
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .ok_or_else(|| bad("a case disposition without its JSON details"))?;
            let field = |name: &str| {
                after
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| bad("a case disposition missing case_id, kind or ref"))
            };
            out.push(CaseDispositionRecord {
                run_key: ev.object_id.clone(),
                case_id: field("case_id")?,
                kind: field("kind")?,
                reference: field("ref")?,
                reason: ev.reason.clone().unwrap_or_default(),
                by_arn: ev.actor.arn.clone(),
                by_name: ev.actor.printed_name.clone(),
                at: ev.time_utc.clone(),
                event_seq: ev.seq,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dana, open};

    #[test]
    fn case_dispositions_are_events_newest_last_and_need_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let mut d = NewCaseDisposition {
            run_key: "LIMS/OQ/r1".into(),
            case_id: "a.xml#s::t".into(),
            kind: "deviation".into(),
            reference: "DEV-1".into(),
            reason: "known defect".into(),
        };
        l.record_case_disposition(&d, &dana()).unwrap();
        d.kind = "accepted".into();
        d.reference = "CR-2".into();
        let second = l.record_case_disposition(&d, &dana()).unwrap();
        let all = l.case_dispositions("LIMS/OQ/r1").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], second);
        assert_eq!(all[1].reference, "CR-2");
        assert_eq!(all[0].by_name.as_deref(), Some("Dana Whitfield"));
        assert!(l.case_dispositions("LIMS/OQ/other").unwrap().is_empty());

        d.reason = "  ".into();
        let n = l.event_count().unwrap();
        assert!(matches!(
            l.record_case_disposition(&d, &dana()),
            Err(LedgerError::ReasonRequired { .. })
        ));
        d.reason = "r".into();
        d.reference = " ".into();
        assert!(l.record_case_disposition(&d, &dana()).is_err());
        assert_eq!(l.event_count().unwrap(), n, "nothing half-written");
    }
}
