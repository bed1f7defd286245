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
    /// The signed re-open that superseded this signature, when one did.
    pub superseded_by: Option<Supersession>,
    /// A signature up to the run's last re-open (superseded, or a re-open) whose key was
    /// revoked after it was made, genuine then: history, never in force.
    pub key_revoked_since: bool,
}

/// The re-open that superseded a signature: who, when and why, from its verified envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supersession {
    /// The re-opener's printed name.
    pub printed_name: String,
    /// UTC time of the re-open.
    pub signed_at: String,
    /// The re-opener's local time.
    pub local_time: Option<String>,
    /// The re-opener's reason.
    pub reason: Option<String>,
    /// The re-open's envelope digest.
    pub envelope_sha256: Sha256,
}

impl SignatureView {
    /// Marks the view as about a record that no longer exists, saying why.
    pub(crate) fn subject_missing(mut self, why: String) -> Self {
        self.outcome = OutcomeCode::SubjectMissing;
        self.valid = false;
        self.outcome_detail = why;
        self
    }

    /// Marks a signature that verified on the record as it stood as superseded by the re-open
    /// `by`. A signature that did not verify keeps its outcome: superseding never mends one.
    fn superseded(mut self, by: &SignatureView) -> Self {
        if !self.valid {
            return self;
        }
        let when = by
            .local_time
            .clone()
            .unwrap_or_else(|| by.signed_at.clone());
        self.outcome = OutcomeCode::Superseded;
        self.valid = false;
        self.outcome_detail = format!(
            "superseded by the re-open on {when} by {}: {}",
            by.printed_name,
            by.reason.as_deref().unwrap_or("(no reason readable)")
        );
        self.superseded_by = Some(Supersession {
            printed_name: by.printed_name.clone(),
            signed_at: by.signed_at.clone(),
            local_time: by.local_time.clone(),
            reason: by.reason.clone(),
            envelope_sha256: by.envelope_sha256,
        });
        self
    }
}

/// The views of the current cycle: those after the last re-open (all when there is none).
pub(crate) fn current_cycle(views: &[SignatureView]) -> &[SignatureView] {
    let meanings: Vec<Meaning> = views.iter().map(|v| v.meaning).collect();
    &views[countersign_core::lifecycle::last_reopen(&meanings).map_or(0, |i| i + 1)..]
}

/// Whether the current cycle of these signatures (in signing order) began on the record whose
/// digest is `digest`: its first signature after the last re-open names it. A cycle is signed
/// on one record version throughout; one begun on a version 1 record goes on with version 1
/// (docs/signature-format.md §11).
pub(crate) fn cycle_began_on(rows: &[SignatureRecord], digest: Sha256) -> bool {
    let meanings: Vec<Meaning> = rows.iter().map(|r| r.meaning).collect();
    let start = countersign_core::lifecycle::last_reopen(&meanings).map_or(0, |i| i + 1);
    // A row's subject digest is its envelope's (the ledger records them together).
    rows.get(start).map(|r| r.subject_sha256) == Some(digest)
}

/// The signatures on one run record in signing order, each verified: those of the current
/// cycle against the record as it stands now (`digest`); those up to its last re-open (that
/// re-open included) against the record as it stood when they were made, the digest their
/// statement names, and each before a re-open marked as superseded by it.
pub(crate) fn record_signature_views(
    rows: Vec<SignatureRecord>,
    name: &str,
    digest: Sha256,
    registry: &KeyRegistry,
    handoff_keys: &BTreeMap<KeyId, String>,
) -> Vec<SignatureView> {
    let meanings: Vec<Meaning> = rows.iter().map(|r| r.meaning).collect();
    let superseded = countersign_core::lifecycle::superseded_by(&meanings);
    let last_reopen = countersign_core::lifecycle::last_reopen(&meanings);
    let as_made = registry.as_before_revocation();
    let views: Vec<(SignatureView, bool)> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let against = if last_reopen.is_some_and(|last| i <= last) {
                statement_of(&r.envelope)
                    .and_then(|st| st.subject().map(|s| s.digest.sha256))
                    .unwrap_or(digest)
            } else {
                digest
            };
            let mut view = signature_view(r.clone(), name, against, registry, handoff_keys);
            // A signature up to the last re-open is history, not in force: one whose key was
            // revoked after it was made is checked with the key as it stood
            // (docs/package-format.md §13); revocation never hides another failure. A
            // superseded one then shows as superseded; a re-open keeps its revoked key shown.
            let history = last_reopen.is_some_and(|last| i <= last);
            if history && view.outcome == OutcomeCode::RevokedKey {
                let mut made = signature_view(r, name, against, &as_made, handoff_keys);
                if made.valid {
                    made.key_revoked_since = true;
                    if superseded[i].is_some() {
                        return (made, true);
                    }
                    view.key_revoked_since = true;
                }
            }
            (view, false)
        })
        .collect();
    views
        .iter()
        .zip(superseded)
        .map(|((v, revoked_since), by)| match by {
            Some(j) => {
                let mut v = v.clone().superseded(&views[j].0);
                if *revoked_since {
                    v.outcome_detail
                        .push_str("; its key was revoked after it was made");
                }
                v
            }
            None => v.clone(),
        })
        .collect()
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
        superseded_by: None,
        key_revoked_since: false,
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

    fn row(meaning: Meaning, digest: Sha256) -> SignatureRecord {
        SignatureRecord {
            id: 0,
            subject_kind: "run".into(),
            subject_id: "LIMS/OQ/r1".into(),
            subject_sha256: digest,
            meaning,
            key_id: KeyId::of(
                &countersign_core::signature::SigningKey::from_bytes(&[1; 32]).verifying_key(),
            ),
            printed_name: "Dana".into(),
            signed_at: "2026-11-03T14:05:09.120Z".into(),
            utc_offset: "+01:00".into(),
            envelope: Vec::new(),
            event_seq: 1,
        }
    }

    /// A cycle begun on a version 1 record goes on with it; a new cycle (nothing signed, or
    /// after a re-open) is signed on version 2.
    #[test]
    fn a_cycle_is_signed_on_the_record_version_it_began_on() {
        let (v1, v2) = (Sha256::of(b"v1 record"), Sha256::of(b"v2 record"));
        assert!(!cycle_began_on(&[], v1));
        let reviewed_on_v1 = [row(Meaning::Reviewed, v1)];
        assert!(cycle_began_on(&reviewed_on_v1, v1));
        assert!(!cycle_began_on(&[row(Meaning::Reviewed, v2)], v1));
        let reopened = [
            row(Meaning::Reviewed, v1),
            row(Meaning::Approved, v1),
            row(Meaning::Reopened, v1),
        ];
        assert!(!cycle_began_on(&reopened, v1));
        let mut next = reopened.to_vec();
        next.push(row(Meaning::Reviewed, v2));
        assert!(!cycle_began_on(&next, v1));
        assert!(cycle_began_on(&next, v2));
    }
}
