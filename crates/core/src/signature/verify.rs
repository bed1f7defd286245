//! Verifying a signature envelope against a record and the enrolled keys.
//!
//! The answer is an [`Outcome`], one variant per thing that can be wrong, so an auditor is told
//! "the record changed since signing" and not merely "invalid". Checks run in a fixed order:
//! envelope shape → key lookup → revocation → ed25519 `verify_strict` over the PAE → statement
//! version and shape → signer binding → subject name → subject digest. Nothing inside the
//! payload is interpreted before the signature over it has been checked.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::signature::dsse::{decode_base64, pae, Envelope, PAYLOAD_TYPE_IN_TOTO};
use crate::signature::key_id::KeyId;
use crate::signature::statement::{Statement, StatementError};

/// What the ledger knows about one enrolled key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledKey {
    /// The public key.
    pub public_key: VerifyingKey,
    /// The IAM ARN it was enrolled for (one key per person, never re-bound).
    pub iam_arn: String,
    /// The printed name it was enrolled with.
    pub printed_name: String,
    /// True once a revocation event exists for it.
    pub revoked: bool,
}

/// A read-only view of the enrolled keys, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeyRegistry {
    keys: BTreeMap<KeyId, EnrolledKey>,
}

impl KeyRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a key under the id derived from its public key, and returns that id.
    pub fn insert(&mut self, key: EnrolledKey) -> KeyId {
        let id = KeyId::of(&key.public_key);
        self.keys.insert(id, key);
        id
    }

    /// The key with this id, if enrolled.
    pub fn get(&self, id: &KeyId) -> Option<&EnrolledKey> {
        self.keys.get(id)
    }

    /// The same keys as they stood before any revocation: for checking whether a signature
    /// was genuine when it was made. A signature so checked is history (superseded by a
    /// re-open, or counted in the order of a record's signatures), never in force.
    pub fn as_before_revocation(&self) -> Self {
        let mut keys = self.keys.clone();
        for key in keys.values_mut() {
            key.revoked = false;
        }
        Self { keys }
    }
}

/// Whether `outcome` is [`Outcome::RevokedKey`] for an envelope that is otherwise genuine:
/// every other check passes with the key as it stood before its revocation. Returns that
/// outcome (valid, or the record changed since), or `None` when the key was not revoked or the
/// envelope fails another check.
pub fn genuine_before_revocation(
    outcome: &Outcome,
    envelope_json: &[u8],
    record: &RecordRef<'_>,
    registry: &KeyRegistry,
) -> Option<Outcome> {
    if !matches!(outcome, Outcome::RevokedKey { .. }) {
        return None;
    }
    match verify_envelope(envelope_json, record, &registry.as_before_revocation()) {
        o @ (Outcome::Valid(_) | Outcome::RecordChanged { .. }) => Some(o),
        _ => None,
    }
}

/// The record a signature is checked against, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The subject name: `run:…` or `package:…`.
    pub name: &'a str,
    /// The record's current digest.
    pub sha256: Sha256,
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The signed statement.
    pub statement: Statement,
    /// The signing key's id.
    pub key_id: KeyId,
    /// The envelope's digest, as later signatures name it in `follows`.
    pub envelope_sha256: Sha256,
}

/// The result of verifying one envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signature, signer and record all check out.
    Valid(Box<VerifiedSignature>),
    /// The signature is for this record, but the record's bytes changed since signing.
    RecordChanged {
        /// The digest that was signed.
        signed: Sha256,
        /// The record's digest now.
        current: Sha256,
    },
    /// The signature is genuine but for another record.
    SignatureMoved {
        /// The record it was made for.
        signed_for: String,
    },
    /// No enrolled key has the envelope's key id.
    UnknownKey {
        /// The key id as written in the envelope.
        key_id: String,
    },
    /// The key was revoked.
    RevokedKey {
        /// Its id.
        key_id: KeyId,
    },
    /// The key is enrolled, but to someone other than the signer the statement names.
    SignerNotEnrolled {
        /// The key's id.
        key_id: KeyId,
        /// Who the key is enrolled to.
        enrolled_arn: String,
        /// Who the statement says signed.
        claimed_arn: String,
    },
    /// The bytes are not a well-formed v1 envelope and statement.
    Malformed {
        /// What is wrong, in plain words.
        detail: String,
    },
    /// A payload type, statement type or predicate type this version does not read.
    UnsupportedVersion {
        /// The type found.
        found: String,
    },
    /// The ed25519 signature does not verify over the envelope's PAE.
    BadSignature,
}

/// What an [`Outcome`] is, without its details: the typed value reports, screens and ledger
/// events carry. Serialised as its stable lowercase name (`valid`, `record_changed`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeCode {
    /// [`Outcome::Valid`].
    Valid,
    /// [`Outcome::RecordChanged`].
    RecordChanged,
    /// [`Outcome::SignatureMoved`].
    SignatureMoved,
    /// [`Outcome::UnknownKey`].
    UnknownKey,
    /// [`Outcome::RevokedKey`].
    RevokedKey,
    /// [`Outcome::SignerNotEnrolled`].
    SignerNotEnrolled,
    /// [`Outcome::Malformed`].
    Malformed,
    /// [`Outcome::UnsupportedVersion`].
    UnsupportedVersion,
    /// [`Outcome::BadSignature`].
    BadSignature,
    /// The record the signature names no longer exists where it was (an audit-trail entry of
    /// a truncated ledger). Never returned by [`verify_envelope`]; set by the caller that
    /// looked the record up.
    SubjectMissing,
    /// A genuine signature on the record as it stood when signed, superseded by a later signed
    /// re-open of that record (docs/signature-format.md §15). Never returned by
    /// [`verify_envelope`]; set by the caller that read the record's history.
    Superseded,
}

impl OutcomeCode {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeCode::Valid => "valid",
            OutcomeCode::RecordChanged => "record_changed",
            OutcomeCode::SignatureMoved => "signature_moved",
            OutcomeCode::UnknownKey => "unknown_key",
            OutcomeCode::RevokedKey => "revoked_key",
            OutcomeCode::SignerNotEnrolled => "signer_not_enrolled",
            OutcomeCode::Malformed => "malformed",
            OutcomeCode::UnsupportedVersion => "unsupported_version",
            OutcomeCode::BadSignature => "bad_signature",
            OutcomeCode::SubjectMissing => "subject_missing",
            OutcomeCode::Superseded => "superseded",
        }
    }

    /// True only for [`OutcomeCode::Valid`].
    pub fn is_valid(self) -> bool {
        self == OutcomeCode::Valid
    }
}

impl std::fmt::Display for OutcomeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Outcome {
    /// True only for [`Outcome::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, Outcome::Valid(_))
    }

    /// What the outcome is, without its details.
    pub fn kind(&self) -> OutcomeCode {
        match self {
            Outcome::Valid(_) => OutcomeCode::Valid,
            Outcome::RecordChanged { .. } => OutcomeCode::RecordChanged,
            Outcome::SignatureMoved { .. } => OutcomeCode::SignatureMoved,
            Outcome::UnknownKey { .. } => OutcomeCode::UnknownKey,
            Outcome::RevokedKey { .. } => OutcomeCode::RevokedKey,
            Outcome::SignerNotEnrolled { .. } => OutcomeCode::SignerNotEnrolled,
            Outcome::Malformed { .. } => OutcomeCode::Malformed,
            Outcome::UnsupportedVersion { .. } => OutcomeCode::UnsupportedVersion,
            Outcome::BadSignature => OutcomeCode::BadSignature,
        }
    }

    /// A stable, lowercase name for the outcome (for ledger events and exit codes).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The outcome in plain words.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Valid(_) => "valid".into(),
            Outcome::RecordChanged { signed, current } => format!(
                "record changed since signing (signed {}, now {})",
                &signed.to_hex()[..12],
                &current.to_hex()[..12]
            ),
            Outcome::SignatureMoved { signed_for } => {
                format!("signature moved: it was made for {signed_for}")
            }
            Outcome::UnknownKey { key_id } => format!("unknown key {key_id}"),
            Outcome::RevokedKey { key_id } => format!("key {key_id} was revoked"),
            Outcome::SignerNotEnrolled {
                enrolled_arn,
                claimed_arn,
                ..
            } => format!(
                "signer not enrolled: the key belongs to {enrolled_arn}, the signature claims {claimed_arn}"
            ),
            Outcome::Malformed { detail } => format!("malformed: {detail}"),
            Outcome::UnsupportedVersion { found } => format!("unsupported version {found}"),
            Outcome::BadSignature => "bad signature: the bytes were altered after signing".into(),
        }
    }
}

fn malformed(detail: impl Into<String>) -> Outcome {
    Outcome::Malformed {
        detail: detail.into(),
    }
}

/// Verifies the envelope in `envelope_json` as a signature on `record` by a key in `registry`.
pub fn verify_envelope(
    envelope_json: &[u8],
    record: &RecordRef<'_>,
    registry: &KeyRegistry,
) -> Outcome {
    let envelope = match Envelope::from_json(envelope_json) {
        Ok(e) => e,
        Err(e) => return malformed(e.to_string()),
    };
    if envelope.payload_type != PAYLOAD_TYPE_IN_TOTO {
        return Outcome::UnsupportedVersion {
            found: envelope.payload_type,
        };
    }
    let [signature] = envelope.signatures.as_slice() else {
        return malformed(format!(
            "the envelope has {} signatures; a Countersign envelope has exactly one",
            envelope.signatures.len()
        ));
    };
    let Ok(key_id) = signature.keyid.parse::<KeyId>() else {
        return Outcome::UnknownKey {
            key_id: signature.keyid.clone(),
        };
    };
    let Some(enrolled) = registry.get(&key_id) else {
        return Outcome::UnknownKey {
            key_id: signature.keyid.clone(),
        };
    };
    if enrolled.revoked {
        return Outcome::RevokedKey { key_id };
    }
    let Some(sig_bytes) = decode_base64(&signature.sig) else {
        return malformed("the signature is not valid base64");
    };
    let Ok(sig) = Signature::from_slice(&sig_bytes) else {
        return malformed(format!(
            "the signature is {} bytes; an ed25519 signature is 64",
            sig_bytes.len()
        ));
    };
    let Ok(payload) = envelope.payload_bytes() else {
        return malformed("the payload is not valid base64");
    };
    if enrolled
        .public_key
        .verify_strict(&pae(&envelope.payload_type, &payload), &sig)
        .is_err()
    {
        return Outcome::BadSignature;
    }
    let statement = match Statement::from_payload(&payload) {
        Ok(s) => s,
        Err(StatementError::UnsupportedVersion { found, .. }) => {
            return Outcome::UnsupportedVersion { found }
        }
        Err(StatementError::Malformed(detail)) => return malformed(detail),
    };
    let predicate = &statement.predicate;
    if predicate.key_id != key_id {
        return malformed(format!(
            "the statement names key {} but the envelope was signed by key {key_id}",
            predicate.key_id
        ));
    }
    if predicate.iam_arn != enrolled.iam_arn || predicate.printed_name != enrolled.printed_name {
        return Outcome::SignerNotEnrolled {
            key_id,
            enrolled_arn: enrolled.iam_arn.clone(),
            claimed_arn: predicate.iam_arn.clone(),
        };
    }
    let Some(subject) = statement.subject() else {
        return malformed("the statement does not name exactly one subject");
    };
    if subject.name != record.name {
        return Outcome::SignatureMoved {
            signed_for: subject.name.clone(),
        };
    }
    if subject.digest.sha256 != record.sha256 {
        return Outcome::RecordChanged {
            signed: subject.digest.sha256,
            current: record.sha256,
        };
    }
    Outcome::Valid(Box::new(VerifiedSignature {
        statement,
        key_id,
        envelope_sha256: envelope.digest(),
    }))
}
