//! The sign-off hand-off between desktops through S3 (`docs/handoff.md`), decided without I/O:
//! the objects of a published sign-off and their names ([`Entry`]), the signer key document
//! (`countersign.signoff-key/v1`, [`SignoffKey`]), what a publisher writes ([`publish`]) and
//! what a receiver accepts ([`receive`]), each item with a typed verdict.
//!
//! A sign-off lives in `<prefix>/<system>/<phase>/<run-id>/signoff/`:
//! - `record.json`: the run record the signatures cover (RFC 8785 canonical);
//! - `signatures/<n>-<sha256>.dsse.json`: the envelopes in signing order (`n` from 1, at least
//!   four digits; `sha256` the envelope's digest, 64 lowercase hex);
//! - `keys/<key-id>.json`: each signer's key document.

pub mod publish;
pub mod receive;

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::canonical::{canonical_json, is_canonical, CanonicalJsonError};
use crate::digest::Sha256;
use crate::formats::SIGNOFF_KEY_FORMAT_V1;
use crate::model::RunKey;
use crate::signature::key_id::KeyId;
use crate::signature::verify::OutcomeCode;

/// The folder of a run's sign-off below the hand-off prefix: `<system>/<phase>/<run-id>/signoff/`.
pub fn signoff_folder(run: &RunKey) -> String {
    format!("{run}/{}/", crate::layout::SIGNOFF_DIR)
}

/// The record's object name within the sign-off folder.
pub const RECORD_FILE: &str = "record.json";
/// The largest record read (64 MiB).
pub const MAX_RECORD_BYTES: u64 = 64 << 20;
/// The largest envelope read (1 MiB).
pub const MAX_ENVELOPE_BYTES: u64 = 1 << 20;
/// The largest key document read (64 KiB).
pub const MAX_KEY_BYTES: u64 = 64 << 10;

/// An object of a sign-off, by its name relative to the sign-off folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// `record.json`.
    Record,
    /// `signatures/<n>-<sha256>.dsse.json`.
    Signature {
        /// Position in signing order, from 1.
        n: u32,
        /// The envelope digest its name claims.
        sha256: Sha256,
    },
    /// `keys/<key-id>.json`.
    Key {
        /// The key id its name claims.
        key_id: KeyId,
    },
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Entry {
    /// Reads a name relative to the sign-off folder; `None` when it is not one of the three
    /// shapes (exact spelling: lowercase hex, `n` of 1 to 6 digits and at least 1).
    pub fn parse(rel: &str) -> Option<Entry> {
        if rel == RECORD_FILE {
            return Some(Entry::Record);
        }
        if let Some(name) = rel.strip_prefix("signatures/") {
            let stem = name.strip_suffix(".dsse.json")?;
            let (n, sha) = stem.split_once('-')?;
            let n_ok = !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit());
            let n: u32 = n.parse().ok().filter(|n| *n >= 1 && n_ok)?;
            if !is_lower_hex(sha, 64) {
                return None;
            }
            return Some(Entry::Signature {
                n,
                sha256: sha.parse().ok()?,
            });
        }
        if let Some(name) = rel.strip_prefix("keys/") {
            let id = name.strip_suffix(".json")?;
            if !is_lower_hex(id, 32) {
                return None;
            }
            return Some(Entry::Key {
                key_id: id.parse().ok()?,
            });
        }
        None
    }

    /// The name relative to the sign-off folder.
    pub fn name(&self) -> String {
        match self {
            Entry::Record => RECORD_FILE.to_owned(),
            Entry::Signature { n, sha256 } => {
                format!("signatures/{n:04}-{}.dsse.json", sha256.to_hex())
            }
            Entry::Key { key_id } => format!("keys/{}.json", key_id.to_hex()),
        }
    }
}

/// A signer's public key and enrollment facts as the publisher's ledger holds them
/// (`countersign.signoff-key/v1`, RFC 8785 canonical JSON, no other members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffKey {
    /// Always `countersign.signoff-key/v1`.
    pub format: String,
    /// 32 hex; the key id of `public_key`.
    pub key_id: String,
    /// The ed25519 public key, 64 lowercase hex.
    pub public_key: String,
    /// The IAM ARN the key is enrolled to (from STS GetCallerIdentity at enrollment).
    pub iam_arn: String,
    /// The AWS account of that identity.
    pub account: String,
    /// The printed name the key is enrolled with.
    pub printed_name: String,
    /// The MFA device of the enrollment session.
    pub mfa_serial: String,
    /// When the key was enrolled, UTC.
    pub enrolled_at: String,
}

/// The enrollment facts a key document is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    /// The public key.
    pub public_key: [u8; 32],
    /// The IAM ARN.
    pub iam_arn: String,
    /// The account.
    pub account: String,
    /// The printed name.
    pub printed_name: String,
    /// The MFA device.
    pub mfa_serial: String,
    /// When it was enrolled, UTC.
    pub enrolled_at: String,
}

/// A key document refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadKeyDocument(pub String);

impl SignoffKey {
    /// The document of an enrolled key.
    pub fn new(facts: &KeyFacts) -> Self {
        Self {
            format: SIGNOFF_KEY_FORMAT_V1.to_owned(),
            key_id: KeyId::of_public_key_bytes(&facts.public_key).to_hex(),
            public_key: hex::encode(facts.public_key),
            iam_arn: facts.iam_arn.clone(),
            account: facts.account.clone(),
            printed_name: facts.printed_name.clone(),
            mfa_serial: facts.mfa_serial.clone(),
            enrolled_at: facts.enrolled_at.clone(),
        }
    }

    /// Its canonical bytes, as published.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CanonicalJsonError> {
        canonical_json(self)
    }

    /// Checks a published key document: canonical, v1, its key id that of its public key and
    /// of its file name, an ARN in the account it names, names not blank.
    pub fn parse(bytes: &[u8], file_key_id: &KeyId) -> Result<(Self, [u8; 32]), BadKeyDocument> {
        let bad = |s: String| BadKeyDocument(s);
        let doc: SignoffKey = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not a sign-off key document: {e}")))?;
        if doc.format != SIGNOFF_KEY_FORMAT_V1 {
            return Err(bad(format!(
                "format {:?}, expected {SIGNOFF_KEY_FORMAT_V1}",
                doc.format
            )));
        }
        if !is_canonical(&doc, bytes) {
            return Err(bad(
                "the key document is not in RFC 8785 canonical form".into()
            ));
        }
        let pk: [u8; 32] = (is_lower_hex(&doc.public_key, 64))
            .then(|| hex::decode(&doc.public_key).ok())
            .flatten()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("the public key is not 64 lowercase hex".into()))?;
        let derived = KeyId::of_public_key_bytes(&pk);
        if derived.to_hex() != doc.key_id || &derived != file_key_id {
            return Err(bad(format!(
                "key id mismatch: the file is named {file_key_id}, the document says {}, the public key's id is {derived}",
                doc.key_id
            )));
        }
        let arn_account = doc.iam_arn.split(':').nth(4).unwrap_or_default();
        if !doc.iam_arn.starts_with("arn:") || arn_account != doc.account {
            return Err(bad(format!(
                "{:?} is not an IAM ARN of account {:?}",
                doc.iam_arn, doc.account
            )));
        }
        if doc.printed_name.trim().is_empty() || doc.mfa_serial.trim().is_empty() {
            return Err(bad(
                "the printed name and the MFA device must not be blank".into()
            ));
        }
        Ok((doc, pk))
    }
}

/// What an item of a sign-off is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// An object in the folder that is not part of a sign-off.
    Object,
    /// `record.json`.
    Record,
    /// A key document.
    Key,
    /// A signature envelope.
    Signature,
}

impl ItemKind {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Object => "object",
            ItemKind::Record => "record",
            ItemKind::Key => "key",
            ItemKind::Signature => "signature",
        }
    }
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Taken over (and recorded).
    Accepted,
    /// Already on file here.
    AlreadyRecorded,
    /// A key this desktop already holds, with the same binding.
    Known,
    /// A key no accepted signature needs: not taken over.
    Unused,
    /// Refused; the refusal says why.
    Rejected,
}

impl ItemStatus {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Accepted => "accepted",
            ItemStatus::AlreadyRecorded => "already_recorded",
            ItemStatus::Known => "known",
            ItemStatus::Unused => "unused",
            ItemStatus::Rejected => "rejected",
        }
    }
}

/// Why an item was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An object key that is not a plain relative key.
    UnsafeKey,
    /// An object that is not part of a sign-off.
    Unexpected,
    /// Bytes that are not the document they should be.
    Malformed,
    /// A record of a version this build does not read.
    UnsupportedVersion,
    /// A record for another run or other files than this desktop's verified store.
    RecordMismatch,
    /// An envelope whose bytes do not hash to the digest in its name.
    DigestMismatch,
    /// A key bound here to someone else, or a person who already has another key here.
    KeyConflict,
    /// A signature whose key could not be taken over.
    UnknownKey,
    /// A signature that does not follow exactly the ones accepted before it.
    OutOfOrder,
    /// A record no accepted signature covers.
    Unsigned,
    /// A signature that does not verify for the record (the verification outcome).
    Signature(OutcomeCode),
}

impl Refusal {
    /// The stable lowercase name (in reports and `signoff.rejected` events).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnsafeKey => "unsafe_key",
            Refusal::Unexpected => "unexpected",
            Refusal::Malformed => "malformed",
            Refusal::UnsupportedVersion => "unsupported_version",
            Refusal::RecordMismatch => "record_mismatch",
            Refusal::DigestMismatch => "digest_mismatch",
            Refusal::KeyConflict => "key_conflict",
            Refusal::UnknownKey => "unknown_key",
            Refusal::OutOfOrder => "out_of_order",
            Refusal::Unsigned => "unsigned",
            Refusal::Signature(code) => code.as_str(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Refusal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The outcome shown beside an item: a refusal, or `valid` for a signature that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ItemOutcome {
    /// The item was refused for this reason.
    Refused(Refusal),
    /// A signature's verification outcome.
    Verified(OutcomeCode),
}

impl ItemOutcome {
    /// The stable lowercase name of the refusal or the verification outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemOutcome::Refused(r) => r.as_str(),
            ItemOutcome::Verified(v) => v.as_str(),
        }
    }
}

/// One item of a sign-off and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Its name relative to the sign-off folder.
    pub name: String,
    /// What became of it.
    pub status: ItemStatus,
    /// The refusal, or a signature's verification outcome.
    pub outcome: Option<ItemOutcome>,
    /// Why, in words, when rejected; what was taken over otherwise.
    pub detail: String,
}

impl Item {
    /// A refused item.
    pub fn rejected(kind: ItemKind, name: &str, why: Refusal, detail: String) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            status: ItemStatus::Rejected,
            outcome: Some(ItemOutcome::Refused(why)),
            detail,
        }
    }

    /// An item that was not refused.
    pub fn noted(
        kind: ItemKind,
        name: &str,
        status: ItemStatus,
        outcome: Option<OutcomeCode>,
        detail: String,
    ) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            status,
            outcome: outcome.map(ItemOutcome::Verified),
            detail,
        }
    }

    /// The refusal, when refused.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.outcome {
            Some(ItemOutcome::Refused(r)) => Some(r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
