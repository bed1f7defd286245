//! What the ledger's unit tests share: a fresh ledger on a stepping clock, a person, and real
//! signatures to record.

use std::sync::Arc;

use countersign_core::clock::SteppingClock;
use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use countersign_core::signature::dsse::sign_statement;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use ed25519_dalek::SigningKey;
use time::macros::datetime;

use crate::signer_keys::NewEnrollment;
use crate::Ledger;

pub(crate) fn open(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open(
        &dir.path().join("l.sqlite"),
        Arc::new(SteppingClock::new(datetime!(2026-03-01 09:00:00 UTC), 1000)),
    )
    .unwrap()
}

pub(crate) fn dana() -> Actor {
    Actor::person("arn:aws:iam::123456789012:user/dana", "Dana Whitfield")
}

/// The signing key numbered `n` (its seed is `n` repeated).
pub(crate) fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// An enrollment of key `n` to `arn`, as Dana Whitfield.
pub(crate) fn enrollment(n: u8, arn: &str) -> NewEnrollment {
    let public_key = key(n).verifying_key().to_bytes();
    NewEnrollment {
        key_id: KeyId::of_public_key_bytes(&public_key),
        public_key,
        iam_arn: arn.into(),
        account: "123456789012".into(),
        printed_name: "Dana Whitfield".into(),
        mfa_serial: "arn:aws:iam::123456789012:mfa/dana".into(),
    }
}

/// The canonical envelope of a signature by key `n` (Dana Whitfield) on `subject`.
pub(crate) fn envelope(n: u8, subject: &str, digest: Sha256, meaning: Meaning) -> Vec<u8> {
    let k = key(n);
    let predicate = Predicate {
        meaning,
        reason: "reviewed".into(),
        printed_name: "Dana Whitfield".into(),
        iam_arn: "arn:aws:iam::123456789012:user/dana".into(),
        key_id: KeyId::of(&k.verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-03-01 09:00:00 UTC)),
        utc_offset: Offset::new(time::UtcOffset::UTC),
        sts: StsEvidence {
            mfa_serial: "arn:aws:iam::123456789012:mfa/dana".into(),
            session_expires_at: UtcTimestamp::new(datetime!(2026-03-01 21:00:00 UTC)),
            server_time: None,
        },
        policy: PolicyRef {
            version: 1,
            sha256: Sha256::of(b"policy"),
        },
        follows: Vec::new(),
    };
    let statement = Statement::new(Subject::new(subject, digest), predicate);
    sign_statement(&statement, &k).unwrap().to_canonical_json()
}
