//! Ledger events: the frozen, canonical encoding that is hashed into the audit-trail chain, the
//! signed checkpoint statement, and the chain verifier.
//!
//! Nothing here touches a database. The ledger adapter reads rows and hands them to
//! [`ChainVerifier`] one by one, so the verification trusts no SQL: it re-derives every hash,
//! checks that sequence numbers run 1, 2, 3, … without gaps, that each event links to the one
//! before, and that the chain agrees with every known checkpoint.
//!
//! The byte layout is documented in `docs/ledger-format.md` and pinned by golden vectors in the
//! tests below. It is versioned by its domain-separation prefix and never changes: a new layout
//! gets a new prefix.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;

/// Domain-separation prefix of the event encoding, version 1 (28 bytes, ends in NUL).
pub const EVENT_DOMAIN_V1: &[u8] = b"countersign/ledger-event/v1\0";

/// Domain-separation prefix of the checkpoint statement, version 1 (33 bytes, ends in NUL).
pub const CHECKPOINT_DOMAIN_V1: &[u8] = b"countersign/ledger-checkpoint/v1\0";

/// The previous-hash of the first event: 32 zero bytes.
pub fn genesis_prev_hash() -> Sha256 {
    Sha256::from_bytes([0u8; 32])
}

/// Who did something: an IAM identity and the printed name, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Actor {
    /// The caller's IAM ARN as reported by STS, if a person acted.
    pub arn: Option<String>,
    /// The person's printed name, as enrolled.
    pub printed_name: Option<String>,
}

impl Actor {
    /// The application acting on its own (migrations, automatic checks).
    pub fn system() -> Self {
        Self::default()
    }

    /// A person, identified by IAM ARN and printed name.
    pub fn person(arn: impl Into<String>, printed_name: impl Into<String>) -> Self {
        Self {
            arn: Some(arn.into()),
            printed_name: Some(printed_name.into()),
        }
    }

    /// True when neither an ARN nor a printed name is set.
    pub fn is_system(&self) -> bool {
        self.arn.is_none() && self.printed_name.is_none()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.printed_name, &self.arn) {
            (None, None) => f.write_str("system"),
            (Some(n), Some(a)) => write!(f, "{n} ({a})"),
            (Some(n), None) => f.write_str(n),
            (None, Some(a)) => f.write_str(a),
        }
    }
}

/// One event of the audit trail, exactly the fields that are hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEvent {
    /// Position in the chain, starting at 1.
    pub seq: u64,
    /// UTC time, RFC 3339 with milliseconds and a `Z` suffix: `2026-03-01T09:30:00.000Z`.
    pub time_utc: String,
    /// The user's UTC offset when the event happened: `+01:00`, `-05:30`, `+00:00`.
    pub utc_offset: String,
    /// Who did it.
    pub actor: Actor,
    /// What was done, a dotted name such as `object.stored`.
    pub action: String,
    /// The kind of thing acted on, such as `object`, `run`, `ledger`.
    pub object_kind: String,
    /// The identity of the thing acted on (a URI, a run key, a sequence number).
    pub object_id: String,
    /// The value or digest before the change, if any.
    pub before: Option<String>,
    /// The value or digest after the change, if any.
    pub after: Option<String>,
    /// Why, in the actor's words. Mandatory for changes, rejections and dispositions.
    pub reason: Option<String>,
    /// The hash of the previous event, or [`genesis_prev_hash`] for the first.
    pub prev_hash: Sha256,
}

/// A field too large for the encoding's 32-bit length prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} field is {len} bytes; a ledger field may be at most 4 GiB - 1")]
pub struct EncodeError {
    /// Which field.
    pub field: &'static str,
    /// Its length in bytes.
    pub len: usize,
}

fn put(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> Result<(), EncodeError> {
    let len = u32::try_from(bytes.len()).map_err(|_| EncodeError {
        field,
        len: bytes.len(),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_opt(out: &mut Vec<u8>, field: &'static str, value: Option<&str>) -> Result<(), EncodeError> {
    match value {
        None => {
            out.push(0);
            Ok(())
        }
        Some(v) => {
            out.push(1);
            put(out, field, v.as_bytes())
        }
    }
}

/// An event's hashed fields borrowed from wherever they are kept (a database row), so that a
/// long chain can be re-hashed without copying every field of every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerEventRef<'a> {
    pub seq: u64,
    pub time_utc: &'a str,
    pub utc_offset: &'a str,
    pub actor_arn: Option<&'a str>,
    pub actor_name: Option<&'a str>,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub prev_hash: Sha256,
}

impl LedgerEventRef<'_> {
    /// The canonical encoding, version 1 (see [`LedgerEvent::encode`]), written into `out`
    /// (cleared first), so one buffer serves a whole chain.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let len = |v: Option<&str>| v.map_or(0, str::len);
        out.clear();
        out.reserve(
            EVENT_DOMAIN_V1.len()
                + 12 * 5
                + 8
                + 32
                + self.time_utc.len()
                + self.utc_offset.len()
                + len(self.actor_arn)
                + len(self.actor_name)
                + self.action.len()
                + self.object_kind.len()
                + self.object_id.len()
                + len(self.before)
                + len(self.after)
                + len(self.reason),
        );
        out.extend_from_slice(EVENT_DOMAIN_V1);
        put(out, "seq", &self.seq.to_be_bytes())?;
        put(out, "time_utc", self.time_utc.as_bytes())?;
        put(out, "utc_offset", self.utc_offset.as_bytes())?;
        put_opt(out, "actor_arn", self.actor_arn)?;
        put_opt(out, "actor_name", self.actor_name)?;
        put(out, "action", self.action.as_bytes())?;
        put(out, "object_kind", self.object_kind.as_bytes())?;
        put(out, "object_id", self.object_id.as_bytes())?;
        put_opt(out, "before", self.before)?;
        put_opt(out, "after", self.after)?;
        put_opt(out, "reason", self.reason)?;
        put(out, "prev_hash", self.prev_hash.as_bytes())?;
        Ok(())
    }
}

impl LedgerEvent {
    /// The event's fields, borrowed.
    pub fn as_borrowed(&self) -> LedgerEventRef<'_> {
        LedgerEventRef {
            seq: self.seq,
            time_utc: &self.time_utc,
            utc_offset: &self.utc_offset,
            actor_arn: self.actor.arn.as_deref(),
            actor_name: self.actor.printed_name.as_deref(),
            action: &self.action,
            object_kind: &self.object_kind,
            object_id: &self.object_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            reason: self.reason.as_deref(),
            prev_hash: self.prev_hash,
        }
    }

    /// The canonical encoding, version 1: the domain prefix, then every field in a fixed order,
    /// each as a 4-byte big-endian length and the bytes; optional fields are preceded by one
    /// presence byte (0 absent, 1 present). See `docs/ledger-format.md`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.as_borrowed().encode_into(&mut out)?;
        Ok(out)
    }

    /// SHA-256 of [`LedgerEvent::encode`].
    pub fn hash(&self) -> Result<Sha256, EncodeError> {
        Ok(Sha256::of(&self.encode()?))
    }
}

/// A checkpoint statement: "the chain had this head at this sequence at this time".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointStatement {
    /// Sequence number of the head event.
    pub seq: u64,
    /// Hash of the head event.
    pub head_hash: Sha256,
    /// When the checkpoint was made, RFC 3339 UTC with milliseconds.
    pub time_utc: String,
}

impl CheckpointStatement {
    /// The bytes that are signed: the checkpoint domain prefix, then seq (8 bytes), head hash
    /// (32 bytes) and time, each with a 4-byte big-endian length.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out =
            Vec::with_capacity(CHECKPOINT_DOMAIN_V1.len() + 12 + 40 + self.time_utc.len());
        out.extend_from_slice(CHECKPOINT_DOMAIN_V1);
        put(&mut out, "seq", &self.seq.to_be_bytes())?;
        put(&mut out, "head_hash", self.head_hash.as_bytes())?;
        put(&mut out, "time_utc", self.time_utc.as_bytes())?;
        Ok(out)
    }
}

/// Why the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainFault {
    /// The entry's stored hash is not the hash of its contents: it was edited.
    HashMismatch { stored: Sha256, computed: Sha256 },
    /// The entry does not point at the previous entry's hash: an entry was removed, inserted
    /// or moved.
    BrokenLink {
        expected_prev: Sha256,
        found_prev: Sha256,
    },
    /// The sequence numbers skip or repeat: entries are missing or duplicated.
    SequenceGap { expected: u64, found: u64 },
    /// A field cannot be encoded at all.
    Unencodable { detail: String },
    /// A checkpoint names a sequence beyond the end of the ledger: the tail was truncated or
    /// the ledger was rolled back to an older copy.
    CheckpointAhead {
        checkpoint_seq: u64,
        ledger_head: u64,
        checkpoint_time: String,
    },
    /// The ledger's entry at a checkpoint's sequence has a different hash: the ledger was
    /// rewritten after the checkpoint.
    CheckpointMismatch {
        checkpoint_hash: Sha256,
        ledger_hash: Sha256,
        checkpoint_time: String,
    },
    /// A checkpoint's signature does not verify (checked by the caller, which holds the keys).
    CheckpointSignatureInvalid { checkpoint_time: String },
    /// A record row (object, rejection, checkpoint) does not match the event that recorded
    /// it, has no such event, or an event has lost its record (checked by the caller, which
    /// reads the record tables).
    RecordMismatch {
        table: String,
        row: Option<i64>,
        detail: String,
    },
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainFault::HashMismatch { stored, computed } => write!(
                f,
                "its stored hash {stored} is not the hash of its contents ({computed}); the entry was altered"
            ),
            ChainFault::BrokenLink { expected_prev, found_prev } => write!(
                f,
                "it links to {found_prev} but the previous entry's hash is {expected_prev}; entries were removed, inserted or reordered"
            ),
            ChainFault::SequenceGap { expected, found } => write!(
                f,
                "expected sequence {expected} but found {found}; entries are missing or duplicated"
            ),
            ChainFault::Unencodable { detail } => write!(f, "it cannot be encoded: {detail}"),
            ChainFault::CheckpointAhead { checkpoint_seq, ledger_head, checkpoint_time } => write!(
                f,
                "a checkpoint made {checkpoint_time} covers sequence {checkpoint_seq} but the ledger ends at {ledger_head}; the ledger was truncated or restored from an older copy"
            ),
            ChainFault::CheckpointMismatch { checkpoint_hash, ledger_hash, checkpoint_time } => write!(
                f,
                "a checkpoint made {checkpoint_time} records hash {checkpoint_hash} here but the ledger has {ledger_hash}; the ledger was rewritten after the checkpoint"
            ),
            ChainFault::CheckpointSignatureInvalid { checkpoint_time } => write!(
                f,
                "the checkpoint made {checkpoint_time} for this entry has an invalid signature"
            ),
            ChainFault::RecordMismatch { table, row: Some(row), detail } => write!(
                f,
                "{table} row {row} does not match it ({detail}); the record was altered or added outside Countersign"
            ),
            ChainFault::RecordMismatch { table, row: None, detail } => write!(
                f,
                "it has no {table} row ({detail}); the record was removed outside Countersign"
            ),
        }
    }
}

/// The first bad entry of a chain and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProblem {
    /// Sequence number of the first bad entry (for a missing tail, the checkpoint's sequence).
    pub seq: u64,
    /// What is wrong with it.
    pub fault: ChainFault,
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ledger entry {}: {}", self.seq, self.fault)
    }
}

/// The outcome of walking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// How many entries were read.
    pub events: u64,
    /// The last entry's sequence and hash, if any entry was read.
    pub head: Option<(u64, Sha256)>,
    /// How many checkpoints were compared with the chain.
    pub checkpoints_checked: usize,
    /// The first problem found; `None` means the chain verifies.
    pub problem: Option<ChainProblem>,
}

impl ChainReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Walks a chain one entry at a time, in sequence order, re-deriving every hash.
///
/// Feed entries with [`ChainVerifier::push`] (it returns `false` once a problem is found, so
/// the caller can stop reading) and finish with [`ChainVerifier::finish`].
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: u64,
    prev_hash: Sha256,
    events: u64,
    checkpoints: BTreeMap<u64, Vec<CheckpointStatement>>,
    checkpoints_checked: usize,
    problem: Option<ChainProblem>,
    /// One encoding buffer for the whole walk.
    buf: Vec<u8>,
}

impl ChainVerifier {
    /// A verifier that will also compare the chain with these checkpoints (their signatures
    /// must already have been checked by the caller).
    pub fn new(checkpoints: &[CheckpointStatement]) -> Self {
        let mut by_seq: BTreeMap<u64, Vec<CheckpointStatement>> = BTreeMap::new();
        for c in checkpoints {
            by_seq.entry(c.seq).or_default().push(c.clone());
        }
        Self {
            expected_seq: 1,
            prev_hash: genesis_prev_hash(),
            events: 0,
            checkpoints: by_seq,
            checkpoints_checked: 0,
            problem: None,
            buf: Vec::new(),
        }
    }

    /// Checks the next entry against its stored hash. Returns `false` once the chain is broken.
    pub fn push(&mut self, event: &LedgerEvent, stored_hash: &Sha256) -> bool {
        self.push_borrowed(&event.as_borrowed(), stored_hash)
    }

    /// [`push`](ChainVerifier::push) for an entry whose fields are borrowed.
    pub fn push_borrowed(&mut self, event: &LedgerEventRef<'_>, stored_hash: &Sha256) -> bool {
        if self.problem.is_some() {
            return false;
        }
        self.events += 1;
        let seq = event.seq;
        let fault = if seq != self.expected_seq {
            Some(ChainFault::SequenceGap {
                expected: self.expected_seq,
                found: seq,
            })
        } else {
            match event
                .encode_into(&mut self.buf)
                .map(|()| Sha256::of(&self.buf))
            {
                Err(e) => Some(ChainFault::Unencodable {
                    detail: e.to_string(),
                }),
                Ok(computed) if computed != *stored_hash => Some(ChainFault::HashMismatch {
                    stored: *stored_hash,
                    computed,
                }),
                Ok(_) if event.prev_hash != self.prev_hash => Some(ChainFault::BrokenLink {
                    expected_prev: self.prev_hash,
                    found_prev: event.prev_hash,
                }),
                Ok(_) => None,
            }
        };
        if let Some(fault) = fault {
            self.problem = Some(ChainProblem { seq, fault });
            return false;
        }
        if let Some(cps) = self.checkpoints.remove(&seq) {
            for c in cps {
                self.checkpoints_checked += 1;
                if c.head_hash != *stored_hash {
                    self.problem = Some(ChainProblem {
                        seq,
                        fault: ChainFault::CheckpointMismatch {
                            checkpoint_hash: c.head_hash,
                            ledger_hash: *stored_hash,
                            checkpoint_time: c.time_utc,
                        },
                    });
                    return false;
                }
            }
        }
        self.prev_hash = *stored_hash;
        self.expected_seq = seq.saturating_add(1);
        true
    }

    /// Ends the walk: any checkpoint beyond the last entry means the tail is missing.
    pub fn finish(mut self) -> ChainReport {
        let head_seq = self.expected_seq.saturating_sub(1);
        if self.problem.is_none() {
            if let Some((&seq, cps)) = self.checkpoints.iter().next() {
                self.checkpoints_checked += 1;
                let time = cps.first().map(|c| c.time_utc.clone()).unwrap_or_default();
                self.problem = Some(ChainProblem {
                    seq,
                    fault: ChainFault::CheckpointAhead {
                        checkpoint_seq: seq,
                        ledger_head: head_seq,
                        checkpoint_time: time,
                    },
                });
            }
        }
        let head = (self.problem.is_none() && head_seq > 0).then_some((head_seq, self.prev_hash));
        ChainReport {
            events: self.events,
            head,
            checkpoints_checked: self.checkpoints_checked,
            problem: self.problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first() -> LedgerEvent {
        LedgerEvent {
            seq: 1,
            time_utc: "2026-03-01T09:30:00.000Z".into(),
            utc_offset: "+01:00".into(),
            actor: Actor::system(),
            action: "ledger.created".into(),
            object_kind: "ledger".into(),
            object_id: "ledger".into(),
            before: None,
            after: Some("schema 2".into()),
            reason: None,
            prev_hash: genesis_prev_hash(),
        }
    }

    fn second(prev: Sha256) -> LedgerEvent {
        LedgerEvent {
            seq: 2,
            time_utc: "2026-03-01T09:31:15.250Z".into(),
            utc_offset: "-05:30".into(),
            actor: Actor::person("arn:aws:iam::123456789012:user/alice", "Alice Émile"),
            action: "object.rejected".into(),
            object_kind: "object".into(),
            object_id: "s3://qual-evidence/erp/OQ/run-7/junit.xml".into(),
            before: Some("sha256:".to_string() + &"ab".repeat(32)),
            after: Some(String::new()),
            reason: Some("digest differs from run.json".into()),
            prev_hash: prev,
        }
    }

    #[test]
    fn encoding_layout_is_byte_exact() {
        let bytes = first().encode().unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(b"countersign/ledger-event/v1\0");
        want.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0, 24]);
        want.extend_from_slice(b"2026-03-01T09:30:00.000Z");
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"+01:00");
        want.extend_from_slice(&[0, 0]); // no ARN, no printed name
        want.extend_from_slice(&[0, 0, 0, 14]);
        want.extend_from_slice(b"ledger.created");
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"ledger");
        want.extend_from_slice(&[0, 0, 0, 6]);
        want.extend_from_slice(b"ledger");
        want.push(0); // no before
        want.extend_from_slice(&[1, 0, 0, 0, 8]);
        want.extend_from_slice(b"schema 2");
        want.push(0); // no reason
        want.extend_from_slice(&[0, 0, 0, 32]);
        want.extend_from_slice(&[0u8; 32]);
        assert_eq!(bytes, want);
    }

    /// Golden vectors: frozen. If this test fails the encoding changed, which breaks every
    /// existing ledger. Add a v2 encoding instead.
    #[test]
    fn golden_vectors() {
        let e1 = first();
        let h1 = e1.hash().unwrap();
        assert_eq!(h1.to_hex(), GOLDEN_1);
        let e2 = second(h1);
        assert_eq!(e2.hash().unwrap().to_hex(), GOLDEN_2);
        let cp = CheckpointStatement {
            seq: 2,
            head_hash: e2.hash().unwrap(),
            time_utc: "2026-03-01T10:00:00.000Z".into(),
        };
        assert_eq!(
            Sha256::of(&cp.encode().unwrap()).to_hex(),
            GOLDEN_CHECKPOINT
        );
    }

    const GOLDEN_1: &str = "f6d32c3ca4302f9be4d6d72b8660949941f3ddee2ffa79592ec2f13e42d542e7";
    const GOLDEN_2: &str = "c52a637ca5ef2fc4ed93d68cc747f3280302f172939d1b6d5ad038dde96e9e21";
    const GOLDEN_CHECKPOINT: &str =
        "5007c513f5b0527b772533f1fe04b6400518174c778b7ac22bcf6cf322962825";

    #[test]
    fn absent_and_empty_optional_fields_hash_differently() {
        let mut a = first();
        a.before = None;
        let mut b = first();
        b.before = Some(String::new());
        assert_ne!(a.hash().unwrap(), b.hash().unwrap());
        // Moving bytes between adjacent fields changes the hash (length prefixes).
        let mut c = first();
        c.object_kind = "ledge".into();
        c.object_id = "rledger".into();
        assert_ne!(first().hash().unwrap(), c.hash().unwrap());
        // ARN and printed name are not interchangeable.
        let mut d = first();
        d.actor = Actor {
            arn: Some("x".into()),
            printed_name: None,
        };
        let mut e = first();
        e.actor = Actor {
            arn: None,
            printed_name: Some("x".into()),
        };
        assert_ne!(d.hash().unwrap(), e.hash().unwrap());
    }

    fn chain(n: u64) -> Vec<(LedgerEvent, Sha256)> {
        let mut out = Vec::new();
        let mut prev = genesis_prev_hash();
        for seq in 1..=n {
            let mut e = first();
            e.seq = seq;
            e.object_id = format!("obj-{seq}");
            e.prev_hash = prev;
            let h = e.hash().unwrap();
            prev = h;
            out.push((e, h));
        }
        out
    }

    fn run(rows: &[(LedgerEvent, Sha256)], cps: &[CheckpointStatement]) -> ChainReport {
        let mut v = ChainVerifier::new(cps);
        for (e, h) in rows {
            if !v.push(e, h) {
                break;
            }
        }
        v.finish()
    }

    #[test]
    fn good_chain_verifies_and_reports_head() {
        let rows = chain(5);
        let r = run(&rows, &[]);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(r.events, 5);
        assert_eq!(r.head, Some((5, rows[4].1)));
        let empty = run(&[], &[]);
        assert!(empty.is_ok());
        assert_eq!(empty.head, None);
    }

    #[test]
    fn edited_entry_is_named() {
        let mut rows = chain(5);
        rows[2].0.object_id = "changed".into();
        let p = run(&rows, &[]).problem.unwrap();
        assert_eq!(p.seq, 3);
        assert!(matches!(p.fault, ChainFault::HashMismatch { .. }));
        assert!(
            p.to_string().starts_with("ledger entry 3: its stored hash"),
            "{p}"
        );
    }

    #[test]
    fn deleted_entry_is_a_gap() {
        let mut rows = chain(5);
        rows.remove(1);
        let p = run(&rows, &[]).problem.unwrap();
        assert_eq!(
            p,
            ChainProblem {
                seq: 3,
                fault: ChainFault::SequenceGap {
                    expected: 2,
                    found: 3
                }
            }
        );
    }

    #[test]
    fn renumbered_and_rehashed_entry_breaks_the_link() {
        // Remove entry 2 and rewrite entry 3 as entry 2 with a fresh hash: the link shows it.
        let mut rows = chain(4);
        let mut moved = rows[2].0.clone();
        moved.seq = 2;
        let h = moved.hash().unwrap();
        rows.remove(1);
        rows[1] = (moved, h);
        let p = run(&rows, &[]).problem.unwrap();
        assert_eq!(p.seq, 2);
        assert!(matches!(p.fault, ChainFault::BrokenLink { .. }));
    }

    #[test]
    fn checkpoints_catch_truncation_and_rewrites() {
        let rows = chain(5);
        let cp = |seq: u64, h: Sha256| CheckpointStatement {
            seq,
            head_hash: h,
            time_utc: "2026-03-02T00:00:00.000Z".into(),
        };
        let ok = run(&rows, &[cp(3, rows[2].1), cp(5, rows[4].1)]);
        assert!(ok.is_ok());
        assert_eq!(ok.checkpoints_checked, 2);

        let truncated = run(&rows[..3], &[cp(5, rows[4].1)]);
        let p = truncated.problem.unwrap();
        assert_eq!(p.seq, 5);
        assert!(matches!(
            p.fault,
            ChainFault::CheckpointAhead {
                checkpoint_seq: 5,
                ledger_head: 3,
                ..
            }
        ));
        assert!(
            p.to_string()
                .contains("truncated or restored from an older copy"),
            "{p}"
        );

        let mut forked = rows.clone();
        let mut e = first();
        e.seq = 5;
        e.object_id = "forked".into();
        e.prev_hash = rows[3].1;
        let h = e.hash().unwrap();
        forked[4] = (e, h);
        let p = run(&forked, &[cp(5, rows[4].1)]).problem.unwrap();
        assert_eq!(p.seq, 5);
        assert!(matches!(p.fault, ChainFault::CheckpointMismatch { .. }));
    }
}
