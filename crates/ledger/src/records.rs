//! Sign-off records: case dispositions, signer keys (creation, enrollment, revocation),
//! signatures, and the signing refusals, failures and lockouts around them.
//!
//! Each write is one IMMEDIATE transaction holding the record row (where the schema has a
//! table for it) and its audit event. Case dispositions, key revocations, refusals, failures
//! and lockouts are recorded as events only: the hash-chained event is the record, read back
//! by action and object id. Reasons are mandatory for dispositions, revocations, refusals,
//! failures and lockouts.

use countersign_core::ledger_event::Actor;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, EventClass, EventFilter, EventRecord, NewEvent};
use crate::Ledger;

/// Action of a case disposition event.
pub const CASE_DISPOSITIONED: &str = "case.dispositioned";
/// Action of a key creation event.
pub const KEY_CREATED: &str = "key.created";
/// Action of a key enrollment event.
pub const KEY_ENROLLED: &str = "key.enrolled";
/// Action of a key revocation event.
pub const KEY_REVOKED: &str = "key.revoked";
/// Action of a signature event.
pub const SIGNATURE_APPLIED: &str = "signature.applied";
/// Action of a refused signing request (policy).
pub const SIGNATURE_REFUSED: &str = "signature.refused";
/// Action of a failed signing attempt (wrong passphrase, MFA code rejected).
pub const SIGNATURE_FAILED: &str = "signature.failed";
/// Action of a signing lockout.
pub const SIGNING_LOCKED: &str = "signing.locked";
/// Action of a clock-skew warning at signing or enrollment.
pub const CLOCK_SKEW: &str = "clock.skew";

/// A disposition of one failed or errored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseDisposition {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run_key: String,
    /// The case id within the run.
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    /// The deviation or change reference.
    pub reference: String,
    /// Why (mandatory).
    pub reason: String,
}

/// A case disposition as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseDispositionRecord {
    /// `SYSTEM/PHASE/RUN-ID`.
    pub run_key: String,
    /// The case id.
    pub case_id: String,
    /// `deviation` or `accepted`.
    pub kind: String,
    /// The reference.
    pub reference: String,
    /// Why.
    pub reason: String,
    /// Who, by IAM ARN, when known.
    pub by_arn: Option<String>,
    /// Who, by printed name, when known.
    pub by_name: Option<String>,
    /// When (UTC, RFC 3339 with milliseconds).
    pub at: String,
    /// The event that recorded it.
    pub event_seq: u64,
}

/// An enrollment: binds an IAM identity and printed name to a public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollment {
    /// 32 hex.
    pub key_id: String,
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
    /// 32 hex.
    pub key_id: String,
    /// The ed25519 public key.
    pub public_key: [u8; 32],
    /// The IAM ARN.
    pub iam_arn: String,
    /// The printed name.
    pub printed_name: String,
    /// When it was enrolled.
    pub enrolled_at: String,
    /// The enrollment event.
    pub event_seq: u64,
    /// The revocation (time and reason), if revoked.
    pub revoked: Option<Revocation>,
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

/// A signature to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignature {
    /// `run` or `package`.
    pub subject_kind: String,
    /// `SYSTEM/PHASE/RUN-ID` or the package id.
    pub subject_id: String,
    /// The signed record digest (64 hex).
    pub subject_sha256: String,
    /// `Authored`, `Reviewed`, `Approved`, `Rejected`.
    pub meaning: String,
    /// The signing key.
    pub key_id: String,
    /// The signer's printed name.
    pub printed_name: String,
    /// `signed_at` of the predicate.
    pub signed_at: String,
    /// `utc_offset` of the predicate.
    pub utc_offset: String,
    /// The canonical envelope bytes.
    pub envelope: Vec<u8>,
    /// The envelope digest (64 hex), recorded in the event.
    pub envelope_sha256: String,
    /// The signer's reason.
    pub reason: String,
}

/// A recorded signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureRecord {
    /// Row id (signing order).
    pub id: i64,
    /// `run` or `package`.
    pub subject_kind: String,
    /// Subject id.
    pub subject_id: String,
    /// Signed digest.
    pub subject_sha256: String,
    /// Meaning.
    pub meaning: String,
    /// Key id.
    pub key_id: String,
    /// Printed name.
    pub printed_name: String,
    /// Signed at (UTC).
    pub signed_at: String,
    /// The signer's offset.
    pub utc_offset: String,
    /// Envelope bytes, exactly as signed.
    pub envelope: Vec<u8>,
    /// The `signature.applied` event.
    pub event_seq: u64,
}

fn invalid(action: &str, detail: impl Into<String>) -> AppendError {
    AppendError::Ledger(LedgerError::InvalidEvent {
        action: action.to_owned(),
        detail: detail.into(),
    })
}

fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn seq_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn malformed(path: &std::path::Path, table: &'static str, row: i64, detail: String) -> LedgerError {
    LedgerError::Malformed {
        path: path.to_path_buf(),
        table,
        row,
        detail,
    }
}

const KEY_COLUMNS: &str = "key_id, public_key, iam_arn, printed_name, enrolled_at, event_seq";
const SIGNATURE_COLUMNS: &str = "id, subject_kind, subject_id, subject_sha256, meaning, key_id, \
     printed_name, signed_at, utc_offset, envelope, event_seq";

type KeyRow = (String, Vec<u8>, String, String, String, i64);

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn signature_row(r: &Row<'_>) -> rusqlite::Result<SignatureRecord> {
    Ok(SignatureRecord {
        id: r.get(0)?,
        subject_kind: r.get(1)?,
        subject_id: r.get(2)?,
        subject_sha256: r.get(3)?,
        meaning: r.get(4)?,
        key_id: r.get(5)?,
        printed_name: r.get(6)?,
        signed_at: r.get(7)?,
        utc_offset: r.get(8)?,
        envelope: r.get(9)?,
        event_seq: seq_u64(r.get(10)?),
    })
}

impl Ledger {
    /// Records a disposition of a failed or errored case with its `case.dispositioned` event.
    /// A later disposition of the same case supersedes it; both stay.
    pub fn record_case_disposition(
        &mut self,
        d: &NewCaseDisposition,
        actor: &Actor,
    ) -> Result<CaseDispositionRecord, LedgerError> {
        let after = serde_json::json!({
            "case_id": d.case_id,
            "kind": d.kind,
            "ref": d.reference,
        })
        .to_string();
        let event = NewEvent::new(actor, CASE_DISPOSITIONED, "run", d.run_key.clone())
            .after(after)
            .reason(d.reason.clone())
            .class(EventClass::Disposition);
        event.validate()?;
        if d.case_id.trim().is_empty() || d.reference.trim().is_empty() {
            return Err(LedgerError::InvalidEvent {
                action: CASE_DISPOSITIONED.into(),
                detail: "the case id and the reference must not be blank".into(),
            });
        }
        let rec = self.write("recording a case disposition", |tx, clock| {
            append_in(tx, clock, &event)
        })?;
        Ok(CaseDispositionRecord {
            run_key: d.run_key.clone(),
            case_id: d.case_id.clone(),
            kind: d.kind.clone(),
            reference: d.reference.clone(),
            reason: d.reason.clone(),
            by_arn: actor.arn.clone(),
            by_name: actor.printed_name.clone(),
            at: rec.event.time_utc,
            event_seq: rec.event.seq,
        })
    }

    /// Every disposition of the run's cases, oldest first (the newest per case is current).
    pub fn case_dispositions(
        &self,
        run_key: &str,
    ) -> Result<Vec<CaseDispositionRecord>, LedgerError> {
        let filter = EventFilter {
            object_kind: Some("run".into()),
            object_id: Some(run_key.into()),
            action: Some(CASE_DISPOSITIONED.into()),
            ..EventFilter::default()
        };
        let mut out = Vec::new();
        for e in self.events(&filter)? {
            let ev = e.event;
            let row = i64::try_from(ev.seq).unwrap_or(i64::MAX);
            let bad = |detail: &str| malformed(&self.path, "events", row, detail.to_owned());
            let after: serde_json::Value = ev
                .after
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .ok_or_else(|| bad("a case disposition without its JSON details"))?;
            let field = |name: &str| {
                after
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| bad("a case disposition missing case_id, kind or ref"))
            };
            out.push(CaseDispositionRecord {
                run_key: ev.object_id.clone(),
                case_id: field("case_id")?,
                kind: field("kind")?,
                reference: field("ref")?,
                reason: ev.reason.clone().unwrap_or_default(),
                by_arn: ev.actor.arn.clone(),
                by_name: ev.actor.printed_name.clone(),
                at: ev.time_utc.clone(),
                event_seq: ev.seq,
            });
        }
        Ok(out)
    }

    /// Records that a key was created (`key.created`). The key is not usable until enrolled.
    pub fn record_key_created(
        &mut self,
        key_id: &str,
        printed_name: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "printed_name": printed_name }).to_string();
        self.append(&NewEvent::new(actor, KEY_CREATED, "key", key_id).after(after))
    }

    /// Binds a key to an IAM identity: the `signer_keys` row and its `key.enrolled` event.
    /// Refuses a key or public key already enrolled, and an identity that already has an
    /// unrevoked key (one key per person; revoke first).
    pub fn enroll_signer_key(
        &mut self,
        e: &NewEnrollment,
        actor: &Actor,
    ) -> Result<SignerKeyRecord, LedgerError> {
        let after = serde_json::json!({
            "iam_arn": e.iam_arn,
            "account": e.account,
            "printed_name": e.printed_name,
            "public_key": hex::encode(e.public_key),
            "mfa_serial": e.mfa_serial,
        })
        .to_string();
        let event = NewEvent::new(actor, KEY_ENROLLED, "key", e.key_id.clone()).after(after);
        event.validate()?;
        let revoked = self.revoked_key_ids()?;
        self.write("enrolling a signer key", |tx, clock| {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT iam_arn FROM signer_keys WHERE key_id = ?1 OR public_key = ?2",
                    params![e.key_id, e.public_key.to_vec()],
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
            let mut stmt = tx
                .prepare("SELECT key_id FROM signer_keys WHERE iam_arn = ?1 COLLATE NOCASE")
                .map_err(AppendError::Sql)?;
            let held: Vec<String> = stmt
                .query_map(params![e.iam_arn], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(AppendError::Sql)?;
            if let Some(active) = held.iter().find(|k| !revoked.contains(k)) {
                return Err(invalid(
                    KEY_ENROLLED,
                    format!(
                        "{} already has the active key {active}; one key per person: revoke it first",
                        e.iam_arn
                    ),
                ));
            }
            let rec = append_in(tx, clock, &event)?;
            tx.execute(
                "INSERT INTO signer_keys (key_id, public_key, iam_arn, printed_name, enrolled_at, event_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    e.key_id,
                    e.public_key.to_vec(),
                    e.iam_arn,
                    e.printed_name,
                    rec.event.time_utc,
                    seq_i64(rec.event.seq)
                ],
            )
            .map_err(AppendError::Sql)?;
            Ok(SignerKeyRecord {
                key_id: e.key_id.clone(),
                public_key: e.public_key,
                iam_arn: e.iam_arn.clone(),
                printed_name: e.printed_name.clone(),
                enrolled_at: rec.event.time_utc,
                event_seq: rec.event.seq,
                revoked: None,
            })
        })
    }

    /// Revokes an enrolled key (`key.revoked`, reason mandatory). Signatures made with it
    /// then verify as revoked.
    pub fn revoke_signer_key(
        &mut self,
        key_id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let event = NewEvent::new(actor, KEY_REVOKED, "key", key_id)
            .reason(reason)
            .class(EventClass::Change);
        event.validate()?;
        let revoked = self.revoked_key_ids()?;
        if revoked.iter().any(|k| k == key_id) {
            return Err(LedgerError::InvalidEvent {
                action: KEY_REVOKED.into(),
                detail: format!("the key {key_id} is already revoked"),
            });
        }
        self.write("revoking a signer key", |tx, clock| {
            let known: Option<i64> = tx
                .query_row(
                    "SELECT id FROM signer_keys WHERE key_id = ?1",
                    params![key_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(AppendError::Sql)?;
            if known.is_none() {
                return Err(invalid(
                    KEY_REVOKED,
                    format!("no enrolled key has the id {key_id}"),
                ));
            }
            append_in(tx, clock, &event)
        })
    }

    fn revoked_key_ids(&self) -> Result<Vec<String>, LedgerError> {
        let filter = EventFilter {
            action: Some(KEY_REVOKED.into()),
            ..EventFilter::default()
        };
        Ok(self
            .events(&filter)?
            .into_iter()
            .map(|e| e.event.object_id)
            .collect())
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
            .map(|(key_id, pk, iam_arn, printed_name, enrolled_at, seq)| {
                let public_key = <[u8; 32]>::try_from(pk.as_slice()).map_err(|_| {
                    malformed(
                        &self.path,
                        "signer_keys",
                        seq,
                        format!("public key of {} bytes", pk.len()),
                    )
                })?;
                let revoked = revocations
                    .iter()
                    .find(|r| r.event.object_id == key_id)
                    .map(|r| Revocation {
                        at: r.event.time_utc.clone(),
                        reason: r.event.reason.clone().unwrap_or_default(),
                        event_seq: r.event.seq,
                    });
                Ok(SignerKeyRecord {
                    key_id,
                    public_key,
                    iam_arn,
                    printed_name,
                    enrolled_at,
                    event_seq: seq_u64(seq),
                    revoked,
                })
            })
            .collect()
    }

    /// Records a signature: the `signatures` row and its `signature.applied` event.
    pub fn record_signature(
        &mut self,
        s: &NewSignature,
        actor: &Actor,
    ) -> Result<SignatureRecord, LedgerError> {
        let after = serde_json::json!({
            "meaning": s.meaning,
            "key_id": s.key_id,
            "subject_sha256": s.subject_sha256,
            "envelope_sha256": s.envelope_sha256,
        })
        .to_string();
        let event = NewEvent::new(
            actor,
            SIGNATURE_APPLIED,
            s.subject_kind.clone(),
            s.subject_id.clone(),
        )
        .after(after)
        .reason(s.reason.clone())
        .class(EventClass::Disposition);
        event.validate()?;
        self.write("recording a signature", |tx, clock| {
            let rec = append_in(tx, clock, &event)?;
            tx.execute(
                "INSERT INTO signatures (subject_kind, subject_id, subject_sha256, meaning, key_id, \
                 printed_name, signed_at, utc_offset, envelope, event_seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    s.subject_kind,
                    s.subject_id,
                    s.subject_sha256,
                    s.meaning,
                    s.key_id,
                    s.printed_name,
                    s.signed_at,
                    s.utc_offset,
                    s.envelope,
                    seq_i64(rec.event.seq)
                ],
            )
            .map_err(AppendError::Sql)?;
            Ok(SignatureRecord {
                id: tx.last_insert_rowid(),
                subject_kind: s.subject_kind.clone(),
                subject_id: s.subject_id.clone(),
                subject_sha256: s.subject_sha256.clone(),
                meaning: s.meaning.clone(),
                key_id: s.key_id.clone(),
                printed_name: s.printed_name.clone(),
                signed_at: s.signed_at.clone(),
                utc_offset: s.utc_offset.clone(),
                envelope: s.envelope.clone(),
                event_seq: rec.event.seq,
            })
        })
    }

    /// The signatures on one record, in signing order.
    pub fn signatures_of(
        &self,
        subject_kind: &str,
        subject_id: &str,
    ) -> Result<Vec<SignatureRecord>, LedgerError> {
        self.signatures_where(
            "subject_kind = ?1 AND subject_id = ?2",
            params![subject_kind, subject_id],
        )
    }

    /// Every signature on records of one kind (`run`, `audit-trail`, …), in signing order.
    pub fn signatures_of_kind(
        &self,
        subject_kind: &str,
    ) -> Result<Vec<SignatureRecord>, LedgerError> {
        self.signatures_where("subject_kind = ?1", params![subject_kind])
    }

    fn signatures_where(
        &self,
        condition: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<SignatureRecord>, LedgerError> {
        let sql =
            format!("SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE {condition} ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| db_error(&self.path, "listing signatures", e))?;
        stmt.query_map(values, signature_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| db_error(&self.path, "listing signatures", e))
    }

    /// Records a signing request the policy refused (`signature.refused`, the rule id in
    /// `after`, the explanation as the reason).
    pub fn record_signing_refusal(
        &mut self,
        subject_kind: &str,
        subject_id: &str,
        meaning: &str,
        rule: &str,
        message: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "rule": rule, "meaning": meaning }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNATURE_REFUSED, subject_kind, subject_id)
                .after(after)
                .reason(message)
                .class(EventClass::Rejection),
        )
    }

    /// Records a failed signing attempt for the identity `arn` (`signature.failed`): `what`
    /// is `wrong_passphrase` or `mfa_rejected`.
    pub fn record_signing_failure(
        &mut self,
        arn: &str,
        what: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "failure": what }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNATURE_FAILED, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Rejection),
        )
    }

    /// Records that signing is locked for `arn` until `until` (UTC text).
    pub fn record_signing_lockout(
        &mut self,
        arn: &str,
        until: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "locked_until": until }).to_string();
        self.append(
            &NewEvent::new(actor, SIGNING_LOCKED, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Rejection),
        )
    }

    /// Records a difference between the local clock and the STS server's clock.
    pub fn record_clock_skew(
        &mut self,
        arn: &str,
        skew_seconds: i64,
        reason: &str,
        actor: &Actor,
    ) -> Result<EventRecord, LedgerError> {
        let after = serde_json::json!({ "skew_seconds": skew_seconds }).to_string();
        self.append(
            &NewEvent::new(actor, CLOCK_SKEW, "signer", arn)
                .after(after)
                .reason(reason)
                .class(EventClass::Change),
        )
    }

    /// Events with `action` on the signer `arn` at or after `since`, oldest first.
    pub fn signer_events_since(
        &self,
        arn: &str,
        action: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<EventRecord>, LedgerError> {
        self.events(&EventFilter {
            from: Some(since),
            object_kind: Some("signer".into()),
            object_id: Some(arn.into()),
            action: Some(action.into()),
            ..EventFilter::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SteppingClock;
    use time::macros::datetime;

    fn open(dir: &tempfile::TempDir) -> Ledger {
        Ledger::open(
            &dir.path().join("l.sqlite"),
            Box::new(SteppingClock::new(datetime!(2026-03-01 09:00:00 UTC), 1000)),
        )
        .unwrap()
    }

    fn dana() -> Actor {
        Actor::person("arn:aws:iam::123456789012:user/dana", "Dana Whitfield")
    }

    fn enrollment(key: u8, arn: &str) -> NewEnrollment {
        NewEnrollment {
            key_id: format!("{key:032x}"),
            public_key: [key; 32],
            iam_arn: arn.into(),
            account: "123456789012".into(),
            printed_name: "Dana Whitfield".into(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/dana".into(),
        }
    }

    #[test]
    fn case_dispositions_are_events_newest_last_and_need_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let mut d = NewCaseDisposition {
            run_key: "LIMS/OQ/r1".into(),
            case_id: "a.xml#s::t".into(),
            kind: "deviation".into(),
            reference: "DEV-1".into(),
            reason: "known defect".into(),
        };
        l.record_case_disposition(&d, &dana()).unwrap();
        d.kind = "accepted".into();
        d.reference = "CR-2".into();
        let second = l.record_case_disposition(&d, &dana()).unwrap();
        let all = l.case_dispositions("LIMS/OQ/r1").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], second);
        assert_eq!(all[1].reference, "CR-2");
        assert_eq!(all[0].by_name.as_deref(), Some("Dana Whitfield"));
        assert!(l.case_dispositions("LIMS/OQ/other").unwrap().is_empty());

        d.reason = "  ".into();
        let n = l.event_count().unwrap();
        assert!(matches!(
            l.record_case_disposition(&d, &dana()),
            Err(LedgerError::ReasonRequired { .. })
        ));
        d.reason = "r".into();
        d.reference = " ".into();
        assert!(l.record_case_disposition(&d, &dana()).is_err());
        assert_eq!(l.event_count().unwrap(), n, "nothing half-written");
    }

    #[test]
    fn a_key_is_never_rebound_and_a_person_has_one_active_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let dana_arn = "arn:aws:iam::123456789012:user/dana";
        l.enroll_signer_key(&enrollment(1, dana_arn), &dana())
            .unwrap();
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
            l.revoke_signer_key(&format!("{:032x}", 1), "", &dana()),
            Err(LedgerError::ReasonRequired { .. })
        ));
        l.revoke_signer_key(&format!("{:032x}", 1), "laptop lost", &dana())
            .unwrap();
        assert!(l
            .revoke_signer_key(&format!("{:032x}", 1), "again", &dana())
            .is_err());
        assert!(l.revoke_signer_key(&"9".repeat(32), "x", &dana()).is_err());
        l.enroll_signer_key(&enrollment(2, dana_arn), &dana())
            .unwrap();
        let keys = l.signer_keys().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].revoked.as_ref().unwrap().reason, "laptop lost");
        assert!(keys[1].revoked.is_none());
        assert!(l.verify().unwrap().is_ok());
    }

    #[test]
    fn signatures_are_stored_with_their_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let arn = "arn:aws:iam::123456789012:user/dana";
        l.enroll_signer_key(&enrollment(1, arn), &dana()).unwrap();
        let sig = NewSignature {
            subject_kind: "run".into(),
            subject_id: "LIMS/OQ/r1".into(),
            subject_sha256: "a".repeat(64),
            meaning: "Reviewed".into(),
            key_id: format!("{:032x}", 1),
            printed_name: "Dana Whitfield".into(),
            signed_at: "2026-03-01T09:00:00.000Z".into(),
            utc_offset: "+00:00".into(),
            envelope: b"{}".to_vec(),
            envelope_sha256: "b".repeat(64),
            reason: "reviewed".into(),
        };
        let rec = l.record_signature(&sig, &dana()).unwrap();
        let all = l.signatures_of("run", "LIMS/OQ/r1").unwrap();
        assert_eq!(all, vec![rec.clone()]);
        let review = NewSignature {
            subject_kind: "audit-trail".into(),
            subject_id: "2".into(),
            ..sig.clone()
        };
        let rev = l.record_signature(&review, &dana()).unwrap();
        assert_eq!(l.signatures_of_kind("run").unwrap(), vec![rec.clone()]);
        assert_eq!(l.signatures_of_kind("audit-trail").unwrap(), vec![rev]);
        assert!(l.signatures_of_kind("package").unwrap().is_empty());
        let ev = l
            .events(&EventFilter {
                action: Some(SIGNATURE_APPLIED.into()),
                ..EventFilter::default()
            })
            .unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.seq, rec.event_seq);
        // A signature by an unknown key is refused by the schema; no event is left behind.
        let n = l.event_count().unwrap();
        let mut bad = sig.clone();
        bad.key_id = "f".repeat(32);
        assert!(l.record_signature(&bad, &dana()).is_err());
        assert_eq!(l.event_count().unwrap(), n);
    }

    #[test]
    fn failures_and_lockouts_are_read_back_per_signer_since_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let arn = "arn:aws:iam::123456789012:user/dana";
        for _ in 0..2 {
            l.record_signing_failure(arn, "wrong_passphrase", "wrong passphrase", &dana())
                .unwrap();
        }
        l.record_signing_failure("arn:other", "mfa_rejected", "rejected", &dana())
            .unwrap();
        let since = datetime!(2026-03-01 08:00:00 UTC);
        assert_eq!(
            l.signer_events_since(arn, SIGNATURE_FAILED, since)
                .unwrap()
                .len(),
            2
        );
        let later = datetime!(2026-03-01 10:00:00 UTC);
        assert!(l
            .signer_events_since(arn, SIGNATURE_FAILED, later)
            .unwrap()
            .is_empty());
        l.record_signing_lockout(arn, "2026-03-01T09:30:00.000Z", "3 failures", &dana())
            .unwrap();
        assert_eq!(
            l.signer_events_since(arn, SIGNING_LOCKED, since)
                .unwrap()
                .len(),
            1
        );
        assert!(l.record_signing_failure(arn, "x", "", &dana()).is_err());
    }
}
