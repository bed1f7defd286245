//! What happens around a signature without being one: refusals by the policy, failed attempts
//! (wrong passphrase, rejected MFA code), lockouts and clock-skew warnings. Each is an event
//! only; the lockout rules read them back per signer.

use countersign_core::ledger_event::Actor;
use time::OffsetDateTime;

use crate::error::LedgerError;
use crate::event::{EventClass, EventFilter, EventRecord, NewEvent};
use crate::Ledger;

/// Action of a refused signing request (policy).
pub const SIGNATURE_REFUSED: &str = "signature.refused";
/// Action of a failed signing attempt (wrong passphrase, MFA code rejected).
pub const SIGNATURE_FAILED: &str = "signature.failed";
/// Action of a signing lockout.
pub const SIGNING_LOCKED: &str = "signing.locked";
/// Action of a clock-skew warning at signing or enrollment.
pub const CLOCK_SKEW: &str = "clock.skew";

impl Ledger {
    /// Records a signing request the policy refused (`signature.refused`, the rule id in
    /// `after`, the explanation as the reason).
    pub fn record_signing_refusal(
        &mut self,
        subject_kind: &str,
        subject_id: &str,
        meaning: &str,
        rule: &str,
        message: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "rule": rule, "meaning": meaning }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNATURE_REFUSED, subject_kind, subject_id)
                .after(after)
                .reason(message)
                .class(EventClass::Rejection),
        )
    }

    /// Records a failed signing attempt for the identity `arn` (`signature.failed`): `what`
    /// is `wrong_passphrase` or `mfa_rejected`.
    pub fn record_signing_failure(
        &mut self,
        arn: &str,
        what: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "failure": what }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNATURE_FAILED, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Rejection),
        )
    }

    /// Records that signing is locked for `arn` until `until` (UTC text).
    pub fn record_signing_lockout(
        &mut self,
        arn: &str,
        until: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "locked_until": until }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNING_LOCKED, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Rejection),
        )
    }

    /// Records a difference between the local clock and the STS server's clock.
    pub fn record_clock_skew(
        &mut self,
        arn: &str,
        skew_seconds: i64,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "skew_seconds": skew_seconds }).to_string();
        self.append(
            &NewEvent::new(actor, CLOCK_SKEW, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Change),
        )
    }

    /// Events with `action` on the signer `arn` at or after `since`, oldest first.
    pub fn signer_events_since(
        &self,
        arn: &str,
        action: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<EventRecord>, LedgerError> {
        self.events(&EventFilter {
            from: Some(since),
            object_kind: Some("signer".into()),
            object_id: Some(arn.into()),
            action: Some(action.into()),
            ..EventFilter::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dana, open};
    use time::macros::datetime;

    #[test]
    fn failures_and_lockouts_are_read_back_per_signer_since_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let arn = "arn:aws:iam::123456789012:user/dana";
        for _ in 0..2 {
            l.record_signing_failure(arn, "wrong_passphrase", "wrong passphrase", &dana())
                .unwrap();
        }
        l.record_signing_failure("arn:other", "mfa_rejected", "rejected", &dana())
            .unwrap();
        let since = datetime!(2026-03-01 08:00:00 UTC);
        assert_eq!(
            l.signer_events_since(arn, SIGNATURE_FAILED, since)
                .unwrap()
                .len(),
            2
        );
        let later = datetime!(2026-03-01 10:00:00 UTC);
        assert!(l
            .signer_events_since(arn, SIGNATURE_FAILED, later)
            .unwrap()
            .is_empty());
        l.record_signing_lockout(arn, "2026-03-01T09:30:00.000Z", "3 failures", &dana())
            .unwrap();
        assert_eq!(
            l.signer_events_since(arn, SIGNING_LOCKED, since)
                .unwrap()
                .len(),
            1
        );
        assert!(l.record_signing_failure(arn, "x", "", &dana()).is_err());
    }
}
