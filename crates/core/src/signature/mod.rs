//! Part 11 electronic signatures: DSSE envelopes over in-toto statements, key ids,
//! verification with typed outcomes, and the signing policy.
//!
//! A signature means "this person, identified by an MFA-backed IAM identity and a personal
//! ed25519 key, signed exactly these bytes, at this time, with this meaning and reason, under
//! this policy". The byte format is documented in `docs/signature-format.md` and frozen by the
//! golden vectors in the tests; the policy file in `docs/policy.md`.
//!
//! Like the rest of the core, nothing here reads files, clocks or random numbers: keys, times
//! and bytes are passed in. Signing with a given key is deterministic (RFC 8032).

pub mod dsse;
pub mod key_id;
pub mod policy;
pub mod predicate;
pub mod statement;
pub mod verify;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod verify_tests;

/// The ed25519 key types used by this module, re-exported so callers need no second copy.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
