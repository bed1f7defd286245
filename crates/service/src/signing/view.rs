//! Recorded signatures as every screen and report shows them: verified against the record as
//! it stands now, with the outcome typed and in words, and the signer's local time.

use std::collections::BTreeMap;

use countersign_core::digest::Sha256;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{Meaning, Offset, UtcTimestamp};
use countersign_core::signature::statement::Statement;
use countersign_core::signature::verify::{verify_envelope, KeyRegistry, OutcomeCode, RecordRef};
use countersign_ledger::SignatureRecord;
use serde::Serialize;

/// One signature on a record, as `show`, the window and the package present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureView {
    /// Meaning.
    pub meaning: Meaning,
    /// Printed name.
    pub printed_name: String,
    /// IAM ARN (from the statement).
    pub iam_arn: Option<String>,
    /// Key id.
    pub key_id: KeyId,
    /// UTC signing time.
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// The signer's local time (`signed_at` shifted by `utc_offset`).
    pub local_time: Option<String>,
    /// The signer's reason.
    pub reason: Option<String>,
    /// Verification against the record as it stands now.
    pub outcome: OutcomeCode,
    /// True only when `outcome` is `valid`.
    pub valid: bool,
    /// The outcome in words.
    pub outcome_detail: String,
    /// Envelope digest.
    pub envelope_sha256: Sha256,
    /// Envelope bytes.
    pub envelope: String,
    /// Where the signer's key is known from: `None` when it was enrolled on this desktop,
    /// else the hand-off object it was taken over from (docs/handoff.md).
    pub key_known_from: Option<String>,
}

impl SignatureView {
    /// Marks the view as about a record that no longer exists, saying why.
    pub(crate) fn subject_missing(mut self, why: String) -> Self {
        self.outcome = OutcomeCode::SubjectMissing;
        self.valid = false;
        self.outcome_detail = why;
        self
    }
}

/// The statement inside an envelope, when it can be read.
pub(crate) fn statement_of(envelope: &[u8]) -> Option<Statement> {
    let env = Envelope::from_json(envelope).ok()?;
    Statement::from_payload(&env.payload_bytes().ok()?).ok()
}

/// A recorded signature verified against the record `name` as it stands now (`digest`).
/// `handoff_keys` maps key ids taken over from a hand-off to where they came from.
pub(crate) fn signature_view(
    r: SignatureRecord,
    name: &str,
    digest: Sha256,
    registry: &KeyRegistry,
    handoff_keys: &BTreeMap<KeyId, String>,
) -> SignatureView {
    let outcome = verify_envelope(
        &r.envelope,
        &RecordRef {
            name,
            sha256: digest,
        },
        registry,
    );
    let st = statement_of(&r.envelope);
    let local_time = local_time(&r.signed_at, &r.utc_offset);
    SignatureView {
        key_known_from: handoff_keys.get(&r.key_id).cloned(),
        meaning: r.meaning,
        printed_name: r.printed_name,
        iam_arn: st.as_ref().map(|s| s.predicate.iam_arn.clone()),
        key_id: r.key_id,
        signed_at: r.signed_at,
        utc_offset: r.utc_offset,
        local_time,
        reason: st.map(|s| s.predicate.reason),
        outcome: outcome.kind(),
        valid: outcome.is_valid(),
        outcome_detail: outcome.describe(),
        envelope_sha256: Sha256::of(&r.envelope),
        envelope: String::from_utf8_lossy(&r.envelope).into_owned(),
    }
}

/// `signed_at` shifted by `offset`, as `YYYY-MM-DD HH:MM:SS ±HH:MM`.
pub(crate) fn local_time(signed_at: &str, offset: &str) -> Option<String> {
    let t: UtcTimestamp = signed_at.parse().ok()?;
    let o: Offset = offset.parse().ok()?;
    let local = t.get().to_offset(o.get());
    let f = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
    );
    local.format(f).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_signed_at_shifted_by_the_offset() {
        assert_eq!(
            local_time("2026-11-03T14:05:09.120Z", "+01:00").as_deref(),
            Some("2026-11-03 15:05:09 +01:00")
        );
        assert_eq!(local_time("garbage", "+01:00"), None);
    }
}
