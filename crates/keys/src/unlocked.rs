//! An unlocked signing key: in memory only, for as long as a signing needs it.

use std::fmt;

use countersign_core::canonical::CanonicalJsonError;
use countersign_core::ledger_event::{CheckpointStatement, EncodeError};
use countersign_core::signature::dsse::{sign_statement, Envelope};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::statement::Statement;
use countersign_core::signature::{SigningKey, VerifyingKey};

/// A decrypted signing key. Zeroized on drop (ed25519-dalek's `zeroize` feature), redacted in
/// `Debug`, not `Clone`, not `Serialize`: the seed never leaves this value.
pub struct UnlockedKey {
    signing: SigningKey,
    key_id: KeyId,
    printed_name: String,
}

impl fmt::Debug for UnlockedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockedKey")
            .field("key_id", &self.key_id)
            .field("printed_name", &self.printed_name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl UnlockedKey {
    pub(crate) fn new(signing: SigningKey, printed_name: String) -> Self {
        let key_id = KeyId::of(&signing.verifying_key());
        Self {
            signing,
            key_id,
            printed_name,
        }
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The owner's printed name, from the key file.
    pub fn printed_name(&self) -> &str {
        &self.printed_name
    }

    /// Signs a ledger checkpoint statement (`countersign/ledger-checkpoint/v1`, domain
    /// separated from every other message this key signs): the 64-byte ed25519 signature over
    /// [`CheckpointStatement::encode`].
    pub fn sign_checkpoint(
        &self,
        statement: &CheckpointStatement,
    ) -> Result<[u8; 64], EncodeError> {
        Ok(ed25519_dalek::Signer::sign(&self.signing, &statement.encode()?).to_bytes())
    }

    /// Signs `statement`: a DSSE envelope with one ed25519 signature over its PAE.
    pub fn sign(&self, statement: &Statement) -> Result<Envelope, CanonicalJsonError> {
        sign_statement(statement, &self.signing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::digest::Sha256;
    use ed25519_dalek::Verifier;

    #[test]
    fn a_checkpoint_signature_verifies_over_the_domain_separated_statement() {
        let key = UnlockedKey::new(SigningKey::from_bytes(&[9; 32]), "Dana".into());
        let statement = CheckpointStatement {
            seq: 12,
            head_hash: Sha256::of(b"head"),
            time_utc: "2026-03-01T10:00:00.000Z".into(),
        };
        let sig = key.sign_checkpoint(&statement).unwrap();
        let msg = statement.encode().unwrap();
        assert!(msg.starts_with(b"countersign/ledger-checkpoint/v1\0"));
        key.public_key()
            .verify(&msg, &ed25519_dalek::Signature::from_bytes(&sig))
            .unwrap();
    }
}
