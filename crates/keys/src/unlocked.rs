//! An unlocked signing key: in memory only, for as long as a signing needs it.

use std::fmt;

use countersign_core::signature::dsse::{sign_statement, CanonicalJsonError, Envelope};
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

    /// Signs `statement`: a DSSE envelope with one ed25519 signature over its PAE.
    pub fn sign(&self, statement: &Statement) -> Result<Envelope, CanonicalJsonError> {
        sign_statement(statement, &self.signing)
    }
}
