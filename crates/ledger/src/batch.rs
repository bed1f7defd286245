//! Writes that belong together: several events and record rows in one IMMEDIATE transaction,
//! all of them or none. Accepting a sign-off hand-off (its provenance events, the signer keys
//! it brings and the signatures they verify) is one batch, so no key is ever in the registry
//! without its provenance and no signature without its key.

use countersign_core::ledger_event::Actor;

use crate::error::LedgerError;
use crate::event::{append_in, EventRecord, NewEvent};
use crate::signatures::{check_signature, sign_in, NewSignature, SignatureRecord};
use crate::signer_keys::{check_enrollment, enroll_in, NewEnrollment, SignerKeyRecord};
use crate::Ledger;

#[derive(Debug, Clone)]
enum Write {
    Event(NewEvent),
    Enrollment(NewEnrollment, Actor),
    Signature(NewSignature),
}

/// Writes to commit together, in order.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    writes: Vec<Write>,
}

/// What one write of a batch became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// An event.
    Event(EventRecord),
    /// An enrolled key (row and `key.enrolled` event).
    Enrollment(SignerKeyRecord),
    /// A signature (row and `signature.applied` event).
    Signature(SignatureRecord),
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event.
    pub fn event(&mut self, event: NewEvent) -> &mut Self {
        self.writes.push(Write::Event(event));
        self
    }

    /// Adds an enrollment by `actor`.
    pub fn enrollment(&mut self, e: NewEnrollment, actor: Actor) -> &mut Self {
        self.writes.push(Write::Enrollment(e, actor));
        self
    }

    /// Adds a signature (by the signer its envelope names).
    pub fn signature(&mut self, s: NewSignature) -> &mut Self {
        self.writes.push(Write::Signature(s));
        self
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

impl Ledger {
    /// Commits `batch` in one IMMEDIATE transaction: every write, in order, or none. Each
    /// write is checked before the transaction starts.
    pub fn commit(&mut self, batch: &Batch) -> Result<Vec<Written>, LedgerError> {
        for w in &batch.writes {
            match w {
                Write::Event(e) => e.validate()?,
                Write::Enrollment(e, actor) => check_enrollment(e, actor)?,
                Write::Signature(s) => check_signature(s, &s.signer())?,
            }
        }
        self.write("committing a batch of records", |tx, clock| {
            let mut out = Vec::with_capacity(batch.writes.len());
            for w in &batch.writes {
                out.push(match w {
                    Write::Event(e) => Written::Event(append_in(tx, clock, e)?),
                    Write::Enrollment(e, actor) => {
                        Written::Enrollment(enroll_in(tx, clock, e, actor)?)
                    }
                    Write::Signature(s) => Written::Signature(sign_in(tx, clock, s, &s.signer())?),
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dana, enrollment, envelope, open};
    use countersign_core::digest::Sha256;
    use countersign_core::signature::predicate::Meaning;

    #[test]
    fn a_batch_lands_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(&dir);
        let arn = "arn:aws:iam::123456789012:user/dana";
        let sig = |n: u8| {
            NewSignature::from_envelope(
                "run",
                "LIMS/OQ/r1",
                envelope(n, "run:LIMS/OQ/r1", Sha256::of(b"r"), Meaning::Reviewed),
            )
            .unwrap()
        };
        let mut ok = Batch::new();
        ok.event(NewEvent::new(&dana(), "signoff.key_accepted", "key", "k"))
            .enrollment(enrollment(1, arn), dana())
            .signature(sig(1));
        let written = l.commit(&ok).unwrap();
        assert_eq!(written.len(), 3);
        assert!(matches!(written[2], Written::Signature(_)));
        assert!(l.verify().unwrap().is_ok());

        // The second signature's key is not enrolled: nothing of the batch is written.
        let n = l.event_count().unwrap();
        let mut bad = Batch::new();
        bad.event(NewEvent::new(
            &dana(),
            "signoff.signature_accepted",
            "run",
            "LIMS/OQ/r1",
        ))
        .signature(sig(2));
        assert!(l.commit(&bad).is_err());
        assert_eq!(l.event_count().unwrap(), n);
        assert_eq!(l.signatures_of("run", "LIMS/OQ/r1").unwrap().len(), 1);
    }
}
