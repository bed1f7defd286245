//! Receiving a sign-off: every published item checked against what this desktop knows, and
//! nothing trusted for where it came from. The record must list exactly the files of this
//! desktop's verified store; each envelope must hash to its name, verify strictly for the
//! record with the signer keys known here (or taken over, visibly, from the hand-off) and
//! follow the signatures accepted before it; a key is never re-bound, and a person with a key
//! here does not get a second one. The result says what to record; the caller records it all
//! in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Sha256;
use crate::layout::check_relative_key;
use crate::model::RunKey;
use crate::package::run_data::RunData;
use crate::run::Run;
use crate::run_record::{
    RecordFile, RecordRunData, RunRecord, RUN_RECORD_SCHEMA_V1, RUN_RECORD_SCHEMA_V2,
};
use crate::signature::key_id::KeyId;
use crate::signature::predicate::Predicate;
use crate::signature::verify::{
    verify_envelope, EnrolledKey, KeyRegistry, Outcome, OutcomeCode, RecordRef,
};
use crate::signature::VerifyingKey;

use super::{Entry, Item, ItemKind, ItemStatus, Refusal, SignoffKey};

/// The objects listed in a sign-off folder, sorted into what each one is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The record's name, when listed.
    pub record: Option<String>,
    /// Key documents by the key id their name claims.
    pub keys: BTreeMap<KeyId, String>,
    /// Envelopes in their named order: (n, claimed digest, name).
    pub signatures: Vec<(u32, Sha256, String)>,
    /// Objects refused on sight (unsafe or not part of a sign-off), in listing order.
    pub refused: Vec<Item>,
}

/// Sorts the names of a sign-off folder's objects (relative to the folder).
pub fn sort_listing<'a>(names: impl IntoIterator<Item = &'a str>) -> Listing {
    let mut out = Listing::default();
    for rel in names {
        if let Err(e) = check_relative_key(rel) {
            out.refused.push(Item::rejected(
                ItemKind::Object,
                rel,
                Refusal::UnsafeKey,
                format!("unsafe object key: {e}"),
            ));
            continue;
        }
        match Entry::parse(rel) {
            Some(Entry::Record) => out.record = Some(rel.to_owned()),
            Some(Entry::Signature { n, sha256 }) => out.signatures.push((n, sha256, rel.to_owned())),
            Some(Entry::Key { key_id }) => {
                out.keys.insert(key_id, rel.to_owned());
            }
            None => out.refused.push(Item::rejected(
                ItemKind::Object,
                rel,
                Refusal::Unexpected,
                "not part of a sign-off (record.json, signatures/<n>-<sha256>.dsse.json, keys/<key-id>.json); ignored".into(),
            )),
        }
    }
    out.signatures.sort();
    out
}

/// The first difference between the published record's files and this desktop's, in words.
pub fn files_difference(published: &[RecordFile], local: &[RecordFile]) -> Option<String> {
    let theirs: BTreeMap<&str, &RecordFile> =
        published.iter().map(|f| (f.path.as_str(), f)).collect();
    let ours: BTreeMap<&str, &RecordFile> = local.iter().map(|f| (f.path.as_str(), f)).collect();
    for (path, t) in &theirs {
        match ours.get(path) {
            None => {
                return Some(format!(
                    "the published record lists {path} (sha256 {}), which this desktop's verified store does not hold for the run; fetch the run again",
                    t.sha256.to_hex()
                ))
            }
            Some(o) if o.sha256 != t.sha256 => {
                return Some(format!(
                    "{path}: the published record has sha256 {}, this desktop's verified store {}",
                    t.sha256.to_hex(),
                    o.sha256.to_hex()
                ))
            }
            Some(o) if o.uri != t.uri || o.version_id != t.version_id => {
                return Some(format!(
                    "{path}: the published record names {} (version {}), this desktop fetched it from {} (version {})",
                    t.uri,
                    t.version_id.as_deref().unwrap_or("none"),
                    o.uri,
                    o.version_id.as_deref().unwrap_or("none")
                ))
            }
            Some(_) => {}
        }
    }
    ours.keys()
        .find(|p| !theirs.contains_key(*p))
        .map(|p| format!("this desktop's run has {p}, which the published record does not list"))
}

/// Checks the published record's bytes: a canonical v1 or v2 run record of `run` listing
/// exactly the files of this desktop's record and, in version 2, binding exactly the run data
/// this desktop reads from them (`local_run`, parsed here) with the record's dispositions. On
/// refusal, the item to report.
pub fn check_record(
    name: &str,
    bytes: &[u8],
    run: &RunKey,
    local_files: &[RecordFile],
    local_run: &Run,
) -> Result<RunRecord, Item> {
    let reject = |why, detail: String| Item::rejected(ItemKind::Record, name, why, detail);
    let loose: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| reject(Refusal::Malformed, format!("not a run record: {e}")))?;
    let schema = loose.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema != RUN_RECORD_SCHEMA_V1 && schema != RUN_RECORD_SCHEMA_V2 {
        return Err(reject(
            Refusal::UnsupportedVersion,
            format!(
                "record schema {schema:?}, expected {RUN_RECORD_SCHEMA_V2} or {RUN_RECORD_SCHEMA_V1}"
            ),
        ));
    }
    let parsed = RunRecord::parse(bytes).map_err(|e| reject(Refusal::Malformed, e))?;
    if parsed.run != run.to_string() {
        return Err(reject(
            Refusal::RecordMismatch,
            format!("the record is for run {}, not {run}", parsed.run),
        ));
    }
    if let Some(d) = files_difference(&parsed.files, local_files) {
        return Err(reject(
            Refusal::RecordMismatch,
            format!("record digest mismatch: {d}"),
        ));
    }
    if let Some(theirs) = &parsed.run_data {
        let ours = RecordRunData::of(&RunData::of(local_run, &parsed.dispositions))
            .map_err(|e| reject(Refusal::Malformed, e.to_string()))?;
        if *theirs != ours {
            return Err(reject(
                Refusal::RecordMismatch,
                format!(
                    "record digest mismatch: the published record binds run data {} (parsers {}), this desktop reads {} (parsers {}) from the same files",
                    theirs.sha256, theirs.parser, ours.sha256, ours.parser
                ),
            ));
        }
    }
    Ok(parsed)
}

/// A signer key this desktop already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldKey {
    /// Its id.
    pub key_id: KeyId,
    /// The public key.
    pub public_key: [u8; 32],
    /// Who it is enrolled to.
    pub iam_arn: String,
    /// Their printed name.
    pub printed_name: String,
    /// Not revoked.
    pub active: bool,
}

/// What this desktop knows when it checks a sign-off.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    /// The record's subject name (`run:…`).
    pub subject: &'a str,
    /// The keys held here.
    pub keys: &'a [HeldKey],
    /// The registry verification uses (the keys above, with revocations).
    pub registry: KeyRegistry,
    /// Digests of the envelopes already recorded for the run.
    pub recorded: BTreeSet<Sha256>,
    /// True when a record with this digest was accepted from a hand-off before.
    pub record_accepted_before: bool,
}

/// A key to take over from the hand-off: its document, exactly as received, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyToTake {
    /// The document.
    pub document: SignoffKey,
    /// The bytes received.
    pub bytes: Vec<u8>,
    /// Its name in the folder.
    pub name: String,
    /// The public key.
    pub public_key: [u8; 32],
}

/// A signature to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureToRecord {
    /// Its name in the folder.
    pub name: String,
    /// The canonical envelope bytes.
    pub envelope: Vec<u8>,
    /// Their digest.
    pub sha256: Sha256,
    /// The signer's key.
    pub key_id: KeyId,
    /// The statement's predicate.
    pub predicate: Predicate,
}

/// What a received sign-off comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every item, in the order it was checked.
    pub items: Vec<Item>,
    /// Keys to take over as "known from hand-off", before the signatures that need them.
    pub keys: Vec<KeyToTake>,
    /// Signatures to record, in signing order.
    pub signatures: Vec<SignatureToRecord>,
    /// True when the record's dispositions are to be taken over now (a signature covers it and
    /// it was not accepted before).
    pub accept_record: bool,
}

/// Checks a received sign-off whose record passed [`check_record`] (digest `record_sha256`):
/// `key_docs` and `envelopes` are the downloaded bytes by name (or why they could not be read).
pub fn check_signoff(
    record_name: &str,
    record: &RunRecord,
    record_sha256: Sha256,
    listing: &Listing,
    key_docs: &BTreeMap<String, Result<Vec<u8>, String>>,
    envelopes: &BTreeMap<String, Result<Vec<u8>, String>>,
    mut known: Known<'_>,
) -> Verdict {
    let mut items = Vec::new();
    // Keys: self-consistent, and consistent with what this desktop already knows.
    let mut candidates: BTreeMap<KeyId, KeyToTake> = BTreeMap::new();
    for (key_id, name) in &listing.keys {
        let Some(got) = key_docs.get(name) else {
            continue;
        };
        let bytes = match got {
            Ok(b) => b,
            Err(why) => {
                items.push(Item::rejected(
                    ItemKind::Key,
                    name,
                    Refusal::Malformed,
                    why.clone(),
                ));
                continue;
            }
        };
        let (doc, pk) = match SignoffKey::parse(bytes, key_id) {
            Ok(ok) => ok,
            Err(e) => {
                items.push(Item::rejected(ItemKind::Key, name, Refusal::Malformed, e.0));
                continue;
            }
        };
        match known.keys.iter().find(|k| &k.key_id == key_id) {
            Some(k)
                if k.public_key == pk
                    && k.iam_arn.eq_ignore_ascii_case(&doc.iam_arn)
                    && k.printed_name == doc.printed_name =>
            {
                items.push(Item::noted(
                    ItemKind::Key,
                    name,
                    ItemStatus::Known,
                    None,
                    format!("{} ({}) is already known here", doc.printed_name, doc.iam_arn),
                ));
            }
            Some(k) => items.push(Item::rejected(
                ItemKind::Key,
                name,
                Refusal::KeyConflict,
                format!(
                    "the key {key_id} is known here as {} ({}); the hand-off binds it to {} ({}); a key is never re-bound",
                    k.printed_name, k.iam_arn, doc.printed_name, doc.iam_arn
                ),
            )),
            None => match VerifyingKey::from_bytes(&pk) {
                Ok(vk) => {
                    known.registry.insert(EnrolledKey {
                        public_key: vk,
                        iam_arn: doc.iam_arn.clone(),
                        printed_name: doc.printed_name.clone(),
                        revoked: false,
                    });
                    candidates.insert(
                        *key_id,
                        KeyToTake {
                            document: doc,
                            bytes: bytes.clone(),
                            name: name.clone(),
                            public_key: pk,
                        },
                    );
                }
                Err(_) => items.push(Item::rejected(
                    ItemKind::Key,
                    name,
                    Refusal::Malformed,
                    "not a valid ed25519 public key".into(),
                )),
            },
        }
    }

    // Signatures, in signing order: each must verify for the published record and follow
    // exactly the signatures accepted before it.
    let mut chain: Vec<Sha256> = Vec::new();
    let mut covered = false;
    let mut keys = Vec::new();
    let mut taken: BTreeSet<KeyId> = BTreeSet::new();
    let mut signatures = Vec::new();
    for (_, named, name) in &listing.signatures {
        let Some(got) = envelopes.get(name) else {
            continue;
        };
        let bytes = match got {
            Ok(b) => b,
            Err(why) => {
                items.push(Item::rejected(
                    ItemKind::Signature,
                    name,
                    Refusal::Malformed,
                    why.clone(),
                ));
                continue;
            }
        };
        let sha = Sha256::of(bytes);
        if &sha != named {
            items.push(Item::rejected(
                ItemKind::Signature,
                name,
                Refusal::DigestMismatch,
                format!(
                    "the file name says envelope {}, its bytes hash to {}; the envelope was altered after publishing",
                    named.to_hex(),
                    sha.to_hex()
                ),
            ));
            continue;
        }
        let outcome = verify_envelope(
            bytes,
            &RecordRef {
                name: known.subject,
                sha256: record_sha256,
            },
            &known.registry,
        );
        let Outcome::Valid(v) = &outcome else {
            items.push(Item::rejected(
                ItemKind::Signature,
                name,
                Refusal::Signature(outcome.kind()),
                outcome.describe(),
            ));
            continue;
        };
        if v.envelope_sha256 != sha {
            items.push(Item::rejected(
                ItemKind::Signature,
                name,
                Refusal::Malformed,
                "the envelope is not in canonical form".into(),
            ));
            continue;
        }
        let p = &v.statement.predicate;
        if p.follows != chain {
            items.push(Item::rejected(
                ItemKind::Signature,
                name,
                Refusal::OutOfOrder,
                format!(
                    "it follows {} earlier signature(s), but the {} accepted before it are different; a signature must follow every earlier one in order",
                    p.follows.len(),
                    chain.len()
                ),
            ));
            continue;
        }
        if known.recorded.contains(&sha) {
            chain.push(sha);
            covered = true;
            items.push(Item::noted(
                ItemKind::Signature,
                name,
                ItemStatus::AlreadyRecorded,
                Some(OutcomeCode::Valid),
                format!(
                    "{} by {} ({}) is already on file",
                    p.meaning, p.printed_name, p.iam_arn
                ),
            ));
            continue;
        }
        if let Some(key) = candidates.get(&v.key_id) {
            if !taken.contains(&v.key_id) {
                // One key per person: a person who already has an active key here does not get
                // a second one from a hand-off.
                let other = known
                    .keys
                    .iter()
                    .find(|k| k.active && k.iam_arn.eq_ignore_ascii_case(&key.document.iam_arn));
                if let Some(other) = other {
                    let detail = format!(
                        "{} already has the active key {} here; one key per person",
                        key.document.iam_arn, other.key_id
                    );
                    items.push(Item::rejected(
                        ItemKind::Key,
                        &key.name,
                        Refusal::KeyConflict,
                        detail.clone(),
                    ));
                    items.push(Item::rejected(
                        ItemKind::Signature,
                        name,
                        Refusal::UnknownKey,
                        format!("its key could not be taken over: {detail}"),
                    ));
                    continue;
                }
                taken.insert(v.key_id);
                let d = &key.document;
                items.push(Item::noted(
                    ItemKind::Key,
                    &key.name,
                    ItemStatus::Accepted,
                    None,
                    format!(
                        "known from hand-off: {} ({}, account {}), enrolled by the publisher at {} with MFA device {}; not enrolled on this desktop",
                        d.printed_name, d.iam_arn, d.account, d.enrolled_at, d.mfa_serial
                    ),
                ));
                keys.push(key.clone());
            }
        }
        chain.push(sha);
        covered = true;
        items.push(Item::noted(
            ItemKind::Signature,
            name,
            ItemStatus::Accepted,
            Some(OutcomeCode::Valid),
            format!(
                "{} by {} ({}) at {}",
                p.meaning, p.printed_name, p.iam_arn, p.signed_at
            ),
        ));
        signatures.push(SignatureToRecord {
            name: name.clone(),
            envelope: bytes.clone(),
            sha256: sha,
            key_id: v.key_id,
            predicate: p.clone(),
        });
    }
    for (key_id, key) in &candidates {
        if !taken.contains(key_id) {
            items.push(Item::noted(
                ItemKind::Key,
                &key.name,
                ItemStatus::Unused,
                None,
                "no accepted signature needs this key; not taken over".into(),
            ));
        }
    }

    // The record's dispositions are taken over only under a signature that verified for it.
    let accept_record = covered && !known.record_accepted_before;
    if covered {
        items.push(Item::noted(
            ItemKind::Record,
            record_name,
            if known.record_accepted_before {
                ItemStatus::AlreadyRecorded
            } else {
                ItemStatus::Accepted
            },
            None,
            format!(
                "{} files match this desktop's verified store; {} disposition(s) taken over under the verified signatures",
                record.files.len(),
                record.dispositions.len()
            ),
        ));
    } else {
        items.push(Item::rejected(
            ItemKind::Record,
            record_name,
            Refusal::Unsigned,
            "no signature in the hand-off verifies for this record; its dispositions are not taken over".into(),
        ));
    }
    Verdict {
        items,
        keys,
        signatures,
        accept_record,
    }
}
