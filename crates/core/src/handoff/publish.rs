//! Publishing a sign-off: which objects a publisher writes, decided from the run's record, the
//! signatures on file with their verification outcome, and the signers' key documents.

use std::collections::BTreeMap;

use crate::digest::Sha256;
use crate::signature::key_id::KeyId;
use crate::signature::verify::OutcomeCode;

use super::Entry;

/// A signature on file, with its outcome against the current record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnFile {
    /// The canonical envelope bytes.
    pub envelope: Vec<u8>,
    /// The signing key.
    pub key_id: KeyId,
    /// Its outcome against the record as it stands now.
    pub outcome: OutcomeCode,
}

/// One object to write, relative to the sign-off folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its name in the folder.
    pub name: String,
    /// Its bytes.
    pub body: Vec<u8>,
    /// Its content type.
    pub content_type: &'static str,
}

/// What a publish writes, and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Keys first, then the record, then the signatures in signing order (so a reader that
    /// sees a signature sees its key and record).
    pub objects: Vec<Object>,
    /// Signatures on file that do not verify for the current record: envelope digest and
    /// outcome. They are not published.
    pub left_out: Vec<(Sha256, OutcomeCode)>,
    /// How many signatures are published.
    pub signatures: usize,
}

/// A key document is missing for a signing key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signing key {0} has no key document to publish")]
pub struct MissingKey(pub KeyId);

/// The objects of a sign-off: the record, the signatures that verify for it (numbered in
/// signing order from 1) and the key document of each of their signers (`key_docs`).
pub fn plan(
    record: Vec<u8>,
    on_file: &[OnFile],
    key_docs: &BTreeMap<KeyId, Vec<u8>>,
) -> Result<Plan, MissingKey> {
    let mut left_out = Vec::new();
    let mut signatures = Vec::new();
    let mut signers = BTreeMap::new();
    for s in on_file {
        let sha = Sha256::of(&s.envelope);
        if !s.outcome.is_valid() {
            left_out.push((sha, s.outcome));
            continue;
        }
        let n = u32::try_from(signatures.len() + 1).unwrap_or(u32::MAX);
        signers.insert(s.key_id, ());
        signatures.push(Object {
            name: Entry::Signature { n, sha256: sha }.name(),
            body: s.envelope.clone(),
            content_type: "application/vnd.dsse.envelope.v1+json",
        });
    }
    let mut objects = Vec::new();
    for key_id in signers.keys() {
        let doc = key_docs.get(key_id).ok_or(MissingKey(*key_id))?;
        objects.push(Object {
            name: Entry::Key { key_id: *key_id }.name(),
            body: doc.clone(),
            content_type: "application/json",
        });
    }
    objects.push(Object {
        name: Entry::Record.name(),
        body: record,
        content_type: "application/json",
    });
    let count = signatures.len();
    objects.extend(signatures);
    Ok(Plan {
        objects,
        left_out,
        signatures: count,
    })
}
