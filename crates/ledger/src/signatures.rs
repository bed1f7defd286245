//! Signatures: the `signatures` row (the canonical DSSE envelope exactly as signed) with its
//! `signature.applied` event. A row is built only from its envelope, so the subject digest,
//! meaning, key, signer, time and reason recorded beside it are the envelope's own.

use countersign_core::clock::Clock;
use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::Meaning;
use countersign_core::signature::statement::Statement;
use rusqlite::{params, Row, Transaction};
use serde::Serialize;

use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, EventClass, NewEvent};
use crate::rows::{seq_i64, seq_u64};
use crate::Ledger;

/// Action of a signature event.
pub const SIGNATURE_APPLIED: &str = "signature.applied";

/// A signature to record, read from its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignature {
    subject_kind: String,
    subject_id: String,
    subject_sha256: Sha256,
    meaning: Meaning,
    key_id: KeyId,
    printed_name: String,
    iam_arn: String,
    signed_at: String,
    utc_offset: String,
    envelope: Vec<u8>,
    envelope_sha256: Sha256,
    reason: String,
}

impl NewSignature {
    /// The signature in `envelope` (canonical DSSE bytes) on the subject `kind`/`id`: the
    /// statement's first subject digest, meaning, key, printed name, IAM ARN, time, offset and
    /// reason become the row. Refused when the envelope cannot be read as a signature.
    pub fn from_envelope(
        kind: impl Into<String>,
        id: impl Into<String>,
        envelope: Vec<u8>,
    ) -> Result<Self, LedgerError> {
        let unreadable = |detail: String| LedgerError::InvalidEvent {
            action: SIGNATURE_APPLIED.into(),
            detail: format!("the envelope is not a readable signature: {detail}"),
        };
        let env = Envelope::from_json(&envelope).map_err(|e| unreadable(e.to_string()))?;
        let payload = env.payload_bytes().map_err(|e| unreadable(e.to_string()))?;
        let st = Statement::from_payload(&payload).map_err(|e| unreadable(e.to_string()))?;
        let subject = st
            .subject()
            .ok_or_else(|| unreadable("it names no subject".into()))?;
        let p = &st.predicate;
        Ok(Self {
            subject_kind: kind.into(),
            subject_id: id.into(),
            subject_sha256: subject.digest.sha256,
            meaning: p.meaning,
            key_id: p.key_id,
            printed_name: p.printed_name.clone(),
            iam_arn: p.iam_arn.clone(),
            signed_at: p.signed_at.to_string(),
            utc_offset: p.utc_offset.to_string(),
            envelope_sha256: Sha256::of(&envelope),
            envelope,
            reason: p.reason.clone(),
        })
    }

    /// The signed subject digest.
    pub fn subject_sha256(&self) -> Sha256 {
        self.subject_sha256
    }

    /// The envelope digest.
    pub fn envelope_sha256(&self) -> Sha256 {
        self.envelope_sha256
    }

    /// The signer as the statement names them (the actor of the event).
    pub fn signer(&self) -> Actor {
        Actor::person(self.iam_arn.clone(), self.printed_name.clone())
    }

    fn event(&self, actor: &Actor) -> NewEvent {
        let after = serde_json::json!({
            "meaning": self.meaning.as_str(),
            "key_id": self.key_id.to_hex(),
            "subject_sha256": self.subject_sha256.to_hex(),
            "envelope_sha256": self.envelope_sha256.to_hex(),
        })
        .to_string();
        NewEvent::new(
            actor,
            SIGNATURE_APPLIED,
            self.subject_kind.clone(),
            self.subject_id.clone(),
        )
        .after(after)
        .reason(self.reason.clone())
        .class(EventClass::Disposition)
    }
}

/// A recorded signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureRecord {
    /// Row id (signing order).
    pub id: i64,
    /// `run`, `audit-trail`, ….
    pub subject_kind: String,
    /// Subject id.
    pub subject_id: String,
    /// Signed digest.
    pub subject_sha256: Sha256,
    /// Meaning.
    pub meaning: Meaning,
    /// Key id.
    pub key_id: KeyId,
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

impl SignatureRecord {
    /// SHA-256 of the envelope bytes: how later signatures name this one.
    pub fn envelope_sha256(&self) -> Sha256 {
        Sha256::of(&self.envelope)
    }
}

const SIGNATURE_COLUMNS: &str = "id, subject_kind, subject_id, subject_sha256, meaning, key_id, \
     printed_name, signed_at, utc_offset, envelope, event_seq";

type RawSignature = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    i64,
);

fn signature_row(r: &Row<'_>) -> rusqlite::Result<RawSignature> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

/// Checks `s` before anything is written.
pub(crate) fn check_signature(s: &NewSignature, actor: &Actor) -> Result<(), LedgerError> {
    s.event(actor).validate()
}

/// Writes a signature (row + event) inside an open transaction.
pub(crate) fn sign_in(
    tx: &Transaction<'_>,
    clock: &dyn Clock,
    s: &NewSignature,
    actor: &Actor,
) -> Result<SignatureRecord, AppendError> {
    let rec = append_in(tx, clock, &s.event(actor))?;
    tx.execute(
        "INSERT INTO signatures (subject_kind, subject_id, subject_sha256, meaning, key_id, \
         printed_name, signed_at, utc_offset, envelope, event_seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            s.subject_kind,
            s.subject_id,
            s.subject_sha256.to_hex(),
            s.meaning.as_str(),
            s.key_id.to_hex(),
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
        subject_sha256: s.subject_sha256,
        meaning: s.meaning,
        key_id: s.key_id,
        printed_name: s.printed_name.clone(),
        signed_at: s.signed_at.clone(),
        utc_offset: s.utc_offset.clone(),
        envelope: s.envelope.clone(),
        event_seq: rec.event.seq,
    })
}

impl Ledger {
    /// Records a signature: the `signatures` row and its `signature.applied` event, by the
    /// signer the envelope names.
    pub fn record_signature(&mut self, s: &NewSignature) -> Result<SignatureRecord, LedgerError> {
        let actor = s.signer();
        check_signature(s, &actor)?;
        self.write("recording a signature", |tx, clock| {
            sign_in(tx, clock, s, &actor)
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
        let rows: Vec<RawSignature> = stmt
            .query_map(values, signature_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| db_error(&self.path, "listing signatures", e))?;
        rows.into_iter()
            .map(
                |(id, kind, subject, digest, meaning, key, name, at, offset, env, seq)| {
                    let bad = |what: &str, value: &str| LedgerError::Malformed {
                        path: self.path.clone(),
                        table: "signatures",
                        row: id,
                        detail: format!("{what} {value:?} cannot be read"),
                    };
                    Ok(SignatureRecord {
                        id,
                        subject_kind: kind,
                        subject_id: subject,
                        subject_sha256: digest.parse().map_err(|_| bad("the digest", &digest))?,
                        meaning: meaning.parse().map_err(|_| bad("the meaning", &meaning))?,
                        key_id: key.parse().map_err(|_| bad("the key id", &key))?,
                        printed_name: name,
                        signed_at: at,
                        utc_offset: offset,
                        envelope: env,
                        event_seq: seq_u64(seq),
                    })
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventFilter;
    use crate::test_support::{dana, enrollment, envelope, open};

    #[test]
    fn signatures_are_stored_with_their_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let arn = "arn:aws:iam::123456789012:user/dana";
        l.enroll_signer_key(&enrollment(1, arn), &dana()).unwrap();
        let digest = Sha256::of(b"record");
        let sig = NewSignature::from_envelope(
            "run",
            "LIMS/OQ/r1",
            envelope(1, "run:LIMS/OQ/r1", digest, Meaning::Reviewed),
        )
        .unwrap();
        assert_eq!(sig.subject_sha256(), digest);
        let rec = l.record_signature(&sig).unwrap();
        assert_eq!(rec.meaning, Meaning::Reviewed);
        assert_eq!(rec.printed_name, "Dana Whitfield");
        let all = l.signatures_of("run", "LIMS/OQ/r1").unwrap();
        assert_eq!(all, vec![rec.clone()]);
        let review = NewSignature::from_envelope(
            "audit-trail",
            "2",
            envelope(1, "audit-trail:2", digest, Meaning::Reviewed),
        )
        .unwrap();
        let rev = l.record_signature(&review).unwrap();
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
        assert_eq!(ev[0].event.actor, dana());
        assert!(l.verify().unwrap().is_ok());
        // A signature by an unknown key is refused by the schema; no event is left behind.
        let n = l.event_count().unwrap();
        let bad = NewSignature::from_envelope(
            "run",
            "LIMS/OQ/r1",
            envelope(9, "run:LIMS/OQ/r1", digest, Meaning::Approved),
        )
        .unwrap();
        assert!(l.record_signature(&bad).is_err());
        assert_eq!(l.event_count().unwrap(), n);
    }

    #[test]
    fn bytes_that_are_not_a_signature_are_refused_before_writing() {
        for junk in [
            &b"{}"[..],
            b"not json",
            br#"{"payloadType":"x","payload":"e30=","signatures":[]}"#,
        ] {
            let e = NewSignature::from_envelope("run", "r", junk.to_vec()).unwrap_err();
            assert!(e.to_string().contains("not a readable signature"), "{e}");
        }
    }
}
