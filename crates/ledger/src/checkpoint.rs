//! Signed checkpoints: "the chain had head H at sequence N at time T", signed with the
//! user's ed25519 key. Kept in the ledger and (by the publisher) outside it, so a ledger
//! truncated or restored from an older copy is detected by [`Ledger::verify_against`].

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::{Actor, CheckpointStatement};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hex::FromHex;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::clock::stamp;
use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, NewEvent};
use crate::Ledger;

use crate::formats::CHECKPOINT_V1;
/// The JSON format name of a published checkpoint.
pub use crate::formats::CHECKPOINT_V2 as CHECKPOINT_FORMAT;

/// A checkpoint statement with its ed25519 signature and the public key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// What is attested.
    pub statement: CheckpointStatement,
    /// The signer's ed25519 public key.
    pub public_key: [u8; 32],
    /// The signature over [`CheckpointStatement::encode`].
    pub signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
struct CheckpointJson {
    format: String,
    seq: u64,
    head_hash: Sha256,
    time_utc: String,
    public_key: String,
    signature: String,
}

/// Whatever holds a signer's ed25519 key and can sign a checkpoint statement with it (an
/// unlocked key file, or a bare key in tests). The message is always the domain-separated
/// [`CheckpointStatement::encode`], so a checkpoint signer is never a general signing oracle.
pub trait CheckpointSigner {
    /// The ed25519 public key.
    fn public_key(&self) -> [u8; 32];
    /// The ed25519 signature over `statement.encode()`.
    fn sign_checkpoint(&self, statement: &CheckpointStatement) -> Result<[u8; 64], LedgerError>;
}

impl CheckpointSigner for SigningKey {
    fn public_key(&self) -> [u8; 32] {
        self.verifying_key().to_bytes()
    }
    fn sign_checkpoint(&self, statement: &CheckpointStatement) -> Result<[u8; 64], LedgerError> {
        Ok(self.sign(&statement.encode()?).to_bytes())
    }
}

impl Checkpoint {
    /// Signs a statement.
    pub fn sign(
        statement: CheckpointStatement,
        key: &dyn CheckpointSigner,
    ) -> Result<Self, LedgerError> {
        let signature = key.sign_checkpoint(&statement)?;
        Ok(Self {
            statement,
            public_key: key.public_key(),
            signature,
        })
    }

    /// Whether the signature verifies (strictly) under the embedded public key. Whether that
    /// key belongs to an enrolled signer is for the caller to check.
    pub fn verify_signature(&self) -> bool {
        let Ok(msg) = self.statement.encode() else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&self.public_key) else {
            return false;
        };
        key.verify_strict(&msg, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    /// The published form: a JSON object with `format` = [`CHECKPOINT_FORMAT`].
    pub fn to_json(&self) -> String {
        let j = CheckpointJson {
            format: CHECKPOINT_FORMAT.into(),
            seq: self.statement.seq,
            head_hash: self.statement.head_hash,
            time_utc: self.statement.time_utc.clone(),
            public_key: hex::encode(self.public_key),
            signature: hex::encode(self.signature),
        };
        serde_json::to_string_pretty(&serde_json::json!(j)).unwrap_or_default()
    }

    /// Reads the published form; `source` names where it came from in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Self, LedgerError> {
        let bad = |detail: String| LedgerError::InvalidEvent {
            action: "ledger.checkpoint".into(),
            detail: format!("{source}: {detail}"),
        };
        let j: CheckpointJson =
            serde_json::from_str(text).map_err(|e| bad(format!("not a checkpoint: {e}")))?;
        // v1 is the same document under its first tag: published checkpoints stay readable.
        if j.format != CHECKPOINT_FORMAT && j.format != CHECKPOINT_V1 {
            return Err(bad(format!(
                "format {:?}, expected {CHECKPOINT_FORMAT:?} (or {CHECKPOINT_V1:?})",
                j.format
            )));
        }
        let public_key = <[u8; 32]>::from_hex(&j.public_key)
            .map_err(|e| bad(format!("public_key is not 32 hex bytes: {e}")))?;
        let signature = <[u8; 64]>::from_hex(&j.signature)
            .map_err(|e| bad(format!("signature is not 64 hex bytes: {e}")))?;
        Ok(Self {
            statement: CheckpointStatement {
                seq: j.seq,
                head_hash: j.head_hash,
                time_utc: j.time_utc,
            },
            public_key,
            signature,
        })
    }
}

impl Ledger {
    /// Signs the current head with `key`, stores the checkpoint and records a
    /// `ledger.checkpoint` event, in one transaction. The checkpoint covers the events before
    /// its own event.
    pub fn checkpoint(
        &mut self,
        key: &dyn CheckpointSigner,
        actor: &Actor,
    ) -> Result<Checkpoint, LedgerError> {
        self.write("recording a checkpoint", |tx, clock| {
            let (seq, hash): (i64, Vec<u8>) = tx
                .query_row("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(AppendError::Sql)?;
            let malformed = |detail: String| {
                AppendError::Ledger(LedgerError::InvalidEvent { action: "ledger.checkpoint".into(), detail })
            };
            let head_hash = <[u8; 32]>::try_from(hash.as_slice())
                .map(Sha256::from_bytes)
                .map_err(|_| malformed(format!("the head entry {seq} has a malformed hash")))?;
            let useq = u64::try_from(seq).map_err(|_| malformed(format!("negative head sequence {seq}")))?;
            let (time_utc, _) = stamp(clock.now()).map_err(AppendError::Ledger)?;
            let cp = Checkpoint::sign(CheckpointStatement { seq: useq, head_hash, time_utc }, key)
                .map_err(AppendError::Ledger)?;
            let event = NewEvent::new(actor, "ledger.checkpoint", "ledger", format!("seq {useq}"))
                .after(serde_json::json!({
                    "seq": useq,
                    "head_hash": head_hash.to_hex(),
                    "public_key": hex::encode(cp.public_key),
                }).to_string());
            let rec = append_in(tx, clock, &event)?;
            tx.execute(
                "INSERT INTO checkpoints (seq, head_hash, time_utc, public_key, signature, event_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    seq,
                    head_hash.as_bytes().as_slice(),
                    cp.statement.time_utc,
                    cp.public_key.as_slice(),
                    cp.signature.as_slice(),
                    i64::try_from(rec.event.seq).unwrap_or(i64::MAX),
                ],
            )
            .map_err(AppendError::Sql)?;
            Ok(cp)
        })
    }

    /// The checkpoints recorded in this ledger, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        read_checkpoints(&self.conn, &self.path)
    }
}

/// The checkpoints recorded in the ledger open on `conn`, oldest first.
pub(crate) fn read_checkpoints(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
) -> Result<Vec<Checkpoint>, LedgerError> {
    let path = &path.to_path_buf();
    {
        let mut stmt = conn
            .prepare("SELECT id, seq, head_hash, time_utc, public_key, signature FROM checkpoints ORDER BY id")
            .map_err(|e| db_error(path, "reading checkpoints", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                ))
            })
            .map_err(|e| db_error(path, "reading checkpoints", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, seq, hash, time_utc, key, sig) =
                row.map_err(|e| db_error(path, "reading checkpoints", e))?;
            let malformed = |detail: &str| LedgerError::Malformed {
                path: path.clone(),
                table: "checkpoints",
                row: id,
                detail: detail.into(),
            };
            out.push(Checkpoint {
                statement: CheckpointStatement {
                    seq: u64::try_from(seq).map_err(|_| malformed("negative sequence"))?,
                    head_hash: <[u8; 32]>::try_from(hash.as_slice())
                        .map(Sha256::from_bytes)
                        .map_err(|_| malformed("head hash is not 32 bytes"))?,
                    time_utc,
                },
                public_key: <[u8; 32]>::try_from(key.as_slice())
                    .map_err(|_| malformed("public key is not 32 bytes"))?,
                signature: <[u8; 64]>::try_from(sig.as_slice())
                    .map_err(|_| malformed("signature is not 64 bytes"))?,
            });
        }
        Ok(out)
    }
}
