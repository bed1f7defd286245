//! A signer's public key as carried in a package (`countersign.public-key/v1`): the key, its id,
//! and the enrollment that binds it to a person and an IAM identity.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::canonical::canonical_json;
use crate::signature::key_id::KeyId;
use crate::signature::verify::EnrolledKey;
use crate::signature::VerifyingKey;

/// The `format` tag of version 1.
pub use crate::formats::PUBLIC_KEY_V1 as PUBLIC_KEY_FORMAT_V1;

/// A public key file of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyFile {
    /// Always [`PUBLIC_KEY_FORMAT_V1`].
    pub format: String,
    /// The key id (32 hex), derived from `public_key`.
    pub key_id: String,
    /// The 32-byte ed25519 public key, base64 (standard alphabet, padded).
    pub public_key: String,
    /// The signer's printed name, as enrolled.
    pub printed_name: String,
    /// The IAM ARN the key was enrolled to.
    pub iam_arn: String,
    /// When it was enrolled, UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub enrolled_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// Why a public key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// Not the v1 JSON shape.
    #[error("not a {PUBLIC_KEY_FORMAT_V1} document: {0}")]
    Shape(String),
    /// The key bytes are not an ed25519 public key.
    #[error("public_key is not a 32-byte ed25519 public key in base64")]
    Key,
    /// `key_id` is not the id of `public_key`.
    #[error("key_id {written} is not the id of the public key it carries (that is {derived})")]
    KeyIdMismatch {
        /// As written.
        written: String,
        /// As derived.
        derived: String,
    },
}

impl PublicKeyFile {
    /// The file for an enrolled key.
    pub fn new(
        public_key: &[u8; 32],
        printed_name: &str,
        iam_arn: &str,
        enrolled_at: &str,
        revoked_at: Option<&str>,
    ) -> Self {
        Self {
            format: PUBLIC_KEY_FORMAT_V1.into(),
            key_id: KeyId::of_public_key_bytes(public_key).to_hex(),
            public_key: STANDARD.encode(public_key),
            printed_name: printed_name.into(),
            iam_arn: iam_arn.into(),
            enrolled_at: enrolled_at.into(),
            revoked_at: revoked_at.map(str::to_owned),
        }
    }

    /// RFC 8785 canonical bytes, as written into packages.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, PublicKeyError> {
        canonical_json(self).map_err(|e| PublicKeyError::Shape(e.to_string()))
    }

    /// Reads and checks a key file: shape, key bytes, key id derivation.
    pub fn parse(bytes: &[u8]) -> Result<(Self, EnrolledKey), PublicKeyError> {
        let f: PublicKeyFile =
            serde_json::from_slice(bytes).map_err(|e| PublicKeyError::Shape(e.to_string()))?;
        if f.format != PUBLIC_KEY_FORMAT_V1 {
            return Err(PublicKeyError::Shape(format!("format is {:?}", f.format)));
        }
        let raw: [u8; 32] = STANDARD
            .decode(&f.public_key)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(PublicKeyError::Key)?;
        let public_key = VerifyingKey::from_bytes(&raw).map_err(|_| PublicKeyError::Key)?;
        let derived = KeyId::of_public_key_bytes(&raw).to_hex();
        if derived != f.key_id {
            return Err(PublicKeyError::KeyIdMismatch {
                written: f.key_id.clone(),
                derived,
            });
        }
        let enrolled = EnrolledKey {
            public_key,
            iam_arn: f.iam_arn.clone(),
            printed_name: f.printed_name.clone(),
            revoked: f.revoked_at.is_some(),
        };
        Ok((f, enrolled))
    }

    /// The raw key bytes (already checked by [`PublicKeyFile::parse`]).
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        STANDARD
            .decode(&self.public_key)
            .ok()
            .and_then(|v| v.try_into().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC8032_PK: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn key() -> [u8; 32] {
        hex::decode(RFC8032_PK).unwrap().try_into().unwrap()
    }

    #[test]
    fn round_trips_and_derives_the_documented_key_id() {
        let f = PublicKeyFile::new(
            &key(),
            "Dana",
            "arn:aws:iam::1:user/dana",
            "2026-11-01T00:00:00.000Z",
            None,
        );
        assert_eq!(f.key_id, "a42bbcc6bdf0cf620158cc9c1a2bbff7");
        let (back, enrolled) = PublicKeyFile::parse(&f.canonical_bytes().unwrap()).unwrap();
        assert_eq!(back, f);
        assert!(!enrolled.revoked);
        assert_eq!(enrolled.printed_name, "Dana");
    }

    #[test]
    fn a_swapped_key_no_longer_matches_its_id() {
        let mut f = PublicKeyFile::new(&key(), "Dana", "arn:aws:iam::1:user/dana", "t", None);
        let other = crate::signature::SigningKey::from_bytes(&[7; 32]).verifying_key();
        f.public_key = STANDARD.encode(other.as_bytes());
        assert!(matches!(
            PublicKeyFile::parse(&f.canonical_bytes().unwrap()),
            Err(PublicKeyError::KeyIdMismatch { .. })
        ));
        f.public_key = "AAAA".into();
        assert_eq!(
            PublicKeyFile::parse(&f.canonical_bytes().unwrap()),
            Err(PublicKeyError::Key)
        );
    }
}
