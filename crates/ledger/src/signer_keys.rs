//! Signer keys: creation (`key.created`), enrollment (the `signer_keys` row with its
//! `key.enrolled` event: one IAM identity, printed name, account and MFA device bound to one
//! public key, never re-bound) and revocation (`key.revoked`, reason mandatory).

use countersign_core::ledger_event::Actor;
use countersign_core::signature::key_id::KeyId;
use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::Serialize;

use countersign_core::clock::Clock;

use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, EventClass, EventFilter, EventRecord, NewEvent};
use crate::rows::{invalid, malformed, seq_i64, seq_u64};
use crate::Ledger;

/// Action of a key creation event.
pub const KEY_CREATED: &str = "key.created";
/// Action of a key enrollment event.
pub const KEY_ENROLLED: &str = "key.enrolled";
/// Action of a key revocation event.
pub const KEY_REVOKED: &str = "key.revoked";

/// An enrollment: binds an IAM identity and printed name to a public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollment {
    /// The key id of `public_key`.
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: [u8; 32],
    /// The IAM ARN from GetCallerIdentity.
    pub iam_arn: String,
    /// The AWS account.
    pub account: String,
    /// The printed name.
    pub printed_name: String,
    /// The MFA device the enrollment session was opened with.
    pub mfa_serial: String,
}

/// An enrolled signer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerKeyRecord {
    /// The key id.
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: [u8; 32],
    /// The IAM ARN.
    pub iam_arn: String,
    /// The AWS account of that identity.
    pub account: String,
    /// The printed name.
    pub printed_name: String,
    /// The MFA device of the enrollment session.
    pub mfa_serial: String,
    /// When it was enrolled.
    pub enrolled_at: String,
    /// The enrollment event.
    pub event_seq: u64,
    /// The revocation (time and reason), if revoked.
    pub revoked: Option<Revocation>,
}

impl SignerKeyRecord {
    /// True while the key may sign.
    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }
}

/// A key revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// When.
    pub at: String,
    /// Why.
    pub reason: String,
    /// The event.
    pub event_seq: u64,
}

const KEY_COLUMNS: &str =
    "key_id, public_key, iam_arn, printed_name, enrolled_at, event_seq, account, mfa_serial";

struct KeyRow {
    key_id: String,
    public_key: Vec<u8>,
    iam_arn: String,
    printed_name: String,
    enrolled_at: String,
    event_seq: i64,
    account: Option<String>,
    mfa_serial: Option<String>,
}

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        key_id: r.get(0)?,
        public_key: r.get(1)?,
        iam_arn: r.get(2)?,
        printed_name: r.get(3)?,
        enrolled_at: r.get(4)?,
        event_seq: r.get(5)?,
        account: r.get(6)?,
        mfa_serial: r.get(7)?,
    })
}

/// The enrollment event of `e`.
fn enrollment_event(e: &NewEnrollment, actor: &Actor) -> NewEvent {
    let after = serde_json::json!({
        "iam_arn": e.iam_arn,
        "account": e.account,
        "printed_name": e.printed_name,
        "public_key": hex::encode(e.public_key),
        "mfa_serial": e.mfa_serial,
    })
    .to_string();
    NewEvent::new(actor, KEY_ENROLLED, "key", e.key_id.to_hex()).after(after)
}

/// Checks `e` before anything is written: the key id is the public key's, nothing is blank.
pub(crate) fn check_enrollment(e: &NewEnrollment, actor: &Actor) -> Result<(), LedgerError> {
    enrollment_event(e, actor).validate()?;
    let bad = |detail: &str| LedgerError::InvalidEvent {
        action: KEY_ENROLLED.into(),
        detail: detail.to_owned(),
    };
    if KeyId::of_public_key_bytes(&e.public_key) != e.key_id {
        return Err(bad("the key id is not the public key's"));
    }
    if [&e.iam_arn, &e.account, &e.printed_name, &e.mfa_serial]
        .iter()
        .any(|f| f.trim().is_empty())
    {
        return Err(bad(
            "the IAM ARN, account, printed name and MFA device must not be blank",
        ));
    }
    Ok(())
}

/// Writes an enrollment (row + event) inside an open transaction. Refuses a key or public key
/// already enrolled, and an identity that already has an unrevoked key.
pub(crate) fn enroll_in(
    tx: &Transaction<'_>,
    clock: &dyn Clock,
    e: &NewEnrollment,
    actor: &Actor,
) -> Result<SignerKeyRecord, AppendError> {
    let existing: Option<String> = tx
        .query_row(
            "SELECT iam_arn FROM signer_keys WHERE key_id = ?1 OR public_key = ?2",
            params![e.key_id.to_hex(), e.public_key.to_vec()],
            |r| r.get(0),
        )
        .optional()
        .map_err(AppendError::Sql)?;
    if let Some(arn) = existing {
        return Err(invalid(
            KEY_ENROLLED,
            format!(
                "the key {} is already enrolled to {arn}; a key is never re-bound",
                e.key_id
            ),
        ));
    }
    let active: Option<String> = tx
        .query_row(
            "SELECT k.key_id FROM signer_keys k WHERE k.iam_arn = ?1 COLLATE NOCASE \
             AND NOT EXISTS (SELECT 1 FROM events v WHERE v.action = ?2 \
                             AND v.object_kind = 'key' AND v.object_id = k.key_id) \
             ORDER BY k.id LIMIT 1",
            params![e.iam_arn, KEY_REVOKED],
            |r| r.get(0),
        )
        .optional()
        .map_err(AppendError::Sql)?;
    if let Some(active) = active {
        return Err(invalid(
            KEY_ENROLLED,
            format!(
                "{} already has the active key {active}; one key per person: revoke it first",
                e.iam_arn
            ),
        ));
    }
    let rec = append_in(tx, clock, &enrollment_event(e, actor))?;
    tx.execute(
        "INSERT INTO signer_keys (key_id, public_key, iam_arn, printed_name, enrolled_at, \
         event_seq, account, mfa_serial) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.key_id.to_hex(),
            e.public_key.to_vec(),
            e.iam_arn,
            e.printed_name,
            rec.event.time_utc,
            seq_i64(rec.event.seq),
            e.account,
            e.mfa_serial,
        ],
    )
    .map_err(AppendError::Sql)?;
    Ok(SignerKeyRecord {
        key_id: e.key_id,
        public_key: e.public_key,
        iam_arn: e.iam_arn.clone(),
        account: e.account.clone(),
        printed_name: e.printed_name.clone(),
        mfa_serial: e.mfa_serial.clone(),
        enrolled_at: rec.event.time_utc,
        event_seq: rec.event.seq,
        revoked: None,
    })
}

impl Ledger {
    /// Records that a key was created (`key.created`). The key is not usable until enrolled.
    pub fn record_key_created(
        &mut self,
        key_id: &KeyId,
        printed_name: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "printed_name": printed_name }).to_string();
        self.append(&NewEvent::new(actor, KEY_CREATED, "key", key_id.to_hex()).after(after))
    }

    /// Binds a key to an IAM identity: the `signer_keys` row and its `key.enrolled` event.
    /// Refuses a key or public key already enrolled, and an identity that already has an
    /// unrevoked key (one key per person; revoke first).
    pub fn enroll_signer_key(
        &mut self,
        e: &NewEnrollment,
        actor: &Actor,
    ) -> Result<SignerKeyRecord, LedgerError> {
        check_enrollment(e, actor)?;
        self.write("enrolling a signer key", |tx, clock| {
            enroll_in(tx, clock, e, actor)
        })
    }

    /// Revokes an enrolled key (`key.revoked`, reason mandatory). Signatures made with it
    /// then verify as revoked.
    pub fn revoke_signer_key(
        &mut self,
        key_id: &KeyId,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let id = key_id.to_hex();
        let event = NewEvent::new(actor, KEY_REVOKED, "key", id.clone())
            .reason(reason)
            .class(EventClass::Change);
        event.validate()?;
        self.write("revoking a signer key", |tx, clock| {
            let known: Option<i64> = tx
                .query_row(
                    "SELECT id FROM signer_keys WHERE key_id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(AppendError::Sql)?;
            if known.is_none() {
                return Err(invalid(
                    KEY_REVOKED,
                    format!("no enrolled key has the id {id}"),
                ));
            }
            let revoked: Option<i64> = tx
                .query_row(
                    "SELECT seq FROM events WHERE action = ?1 AND object_kind = 'key' \
                     AND object_id = ?2 LIMIT 1",
                    params![KEY_REVOKED, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(AppendError::Sql)?;
            if revoked.is_some() {
                return Err(invalid(
                    KEY_REVOKED,
                    format!("the key {id} is already revoked"),
                ));
            }
            append_in(tx, clock, &event)
        })
    }

    /// Every enrolled key, in enrollment order, with its revocation if any.
    pub fn signer_keys(&self) -> Result<Vec<SignerKeyRecord>, LedgerError> {
        let filter = EventFilter {
            action: Some(KEY_REVOKED.into()),
            ..EventFilter::default()
        };
        let revocations = self.events(&filter)?;
        let sql = format!("SELECT {KEY_COLUMNS} FROM signer_keys ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| db_error(&self.path, "listing signer keys", e))?;
        let rows: Vec<KeyRow> = stmt
            .query_map([], key_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| db_error(&self.path, "listing signer keys", e))?;
        rows.into_iter()
            .map(|r| {
                let bad = |detail: String| malformed(&self.path, "signer_keys", r.event_seq, detail);
                let public_key = <[u8; 32]>::try_from(r.public_key.as_slice())
                    .map_err(|_| bad(format!("public key of {} bytes", r.public_key.len())))?;
                let key_id: KeyId = r
                    .key_id
                    .parse()
                    .map_err(|_| bad(format!("key id {:?} is not 32 hex", r.key_id)))?;
                let (Some(account), Some(mfa_serial)) = (r.account, r.mfa_serial) else {
                    return Err(bad(format!(
                        "the key {key_id} has no account or MFA device; its enrollment entry {} does not record them",
                        r.event_seq
                    )));
                };
                let revoked = revocations
                    .iter()
                    .find(|v| v.event.object_id == r.key_id)
                    .map(|v| Revocation {
                        at: v.event.time_utc.clone(),
                        reason: v.event.reason.clone().unwrap_or_default(),
                        event_seq: v.event.seq,
                    });
                Ok(SignerKeyRecord {
                    key_id,
                    public_key,
                    iam_arn: r.iam_arn,
                    account,
                    printed_name: r.printed_name,
                    mfa_serial,
                    enrolled_at: r.enrolled_at,
                    event_seq: seq_u64(r.event_seq),
                    revoked,
                })
            })
            .collect()
    }

    /// The enrolled key `key_id`, if any.
    pub fn signer_key(&self, key_id: &KeyId) -> Result<Option<SignerKeyRecord>, LedgerError> {
        Ok(self
            .signer_keys()?
            .into_iter()
            .find(|k| &k.key_id == key_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dana, enrollment, open};

    #[test]
    fn a_key_is_never_rebound_and_a_person_has_one_active_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let dana_arn = "arn:aws:iam::123456789012:user/dana";
        let first = enrollment(1, dana_arn);
        l.enroll_signer_key(&first, &dana()).unwrap();
        let err = l
            .enroll_signer_key(
                &enrollment(1, "arn:aws:iam::123456789012:user/eve"),
                &dana(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("never re-bound"), "{err}");
        let err = l
            .enroll_signer_key(&enrollment(2, dana_arn), &dana())
            .unwrap_err();
        assert!(err.to_string().contains("revoke it first"), "{err}");

        assert!(matches!(
            l.revoke_signer_key(&first.key_id, "", &dana()),
            Err(LedgerError::ReasonRequired { .. })
        ));
        l.revoke_signer_key(&first.key_id, "laptop lost", &dana())
            .unwrap();
        assert!(l
            .revoke_signer_key(&first.key_id, "again", &dana())
            .is_err());
        let unknown: KeyId = "9".repeat(32).parse().unwrap();
        assert!(l.revoke_signer_key(&unknown, "x", &dana()).is_err());
        l.enroll_signer_key(&enrollment(2, dana_arn), &dana())
            .unwrap();
        let keys = l.signer_keys().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].revoked.as_ref().unwrap().reason, "laptop lost");
        assert_eq!(keys[0].account, "123456789012");
        assert_eq!(keys[0].mfa_serial, "arn:aws:iam::123456789012:mfa/dana");
        assert!(keys[1].is_active());
        assert_eq!(l.signer_key(&first.key_id).unwrap().unwrap(), keys[0]);
        assert!(l.verify().unwrap().is_ok());
    }

    #[test]
    fn an_enrollment_with_a_foreign_key_id_or_blank_facts_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let n = l.event_count().unwrap();
        let mut e = enrollment(1, "arn:aws:iam::123456789012:user/dana");
        e.key_id = enrollment(2, "x").key_id;
        let err = l.enroll_signer_key(&e, &dana()).unwrap_err();
        assert!(err.to_string().contains("not the public key's"), "{err}");
        let mut e = enrollment(1, "arn:aws:iam::123456789012:user/dana");
        e.mfa_serial = " ".into();
        assert!(l.enroll_signer_key(&e, &dana()).is_err());
        assert_eq!(l.event_count().unwrap(), n, "nothing written");
    }
}
