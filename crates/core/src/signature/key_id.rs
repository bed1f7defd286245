//! Key ids: a short, stable name for a signer's ed25519 public key.
//!
//! `key_id = hex(SHA-256("countersign/key-id/v1" || 0x00 || public_key)[0..16])`, 32 lowercase
//! hex characters. The domain prefix keeps the id from ever colliding with a digest of the same
//! 32 bytes used for anything else; the version in the prefix means a new derivation gets a new
//! prefix, never a changed one. Documented in `docs/signature-format.md`.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// Domain-separation prefix of the key id derivation, version 1 (22 bytes, ends in NUL).
pub const KEY_ID_DOMAIN_V1: &[u8] = b"countersign/key-id/v1\0";

/// Number of bytes of the SHA-256 output kept as the key id.
pub const KEY_ID_LEN: usize = 16;

/// The id of a signer's public key. Displayed and serialised as 32 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// The key id of a 32-byte ed25519 public key.
    pub fn of_public_key_bytes(public_key: &[u8; 32]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_DOMAIN_V1);
        hasher.update(public_key);
        let full: [u8; 32] = hasher.finalize().into();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&full[..KEY_ID_LEN]);
        Self(id)
    }

    /// The key id of an ed25519 public key.
    pub fn of(public_key: &VerifyingKey) -> Self {
        Self::of_public_key_bytes(public_key.as_bytes())
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }

    /// 32 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// Why a string is not a key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a key id: expected 32 lowercase hex characters, got {got:?}")]
pub struct KeyIdParseError {
    got: String,
}

impl FromStr for KeyId {
    type Err = KeyIdParseError;

    /// Accepts exactly 32 lowercase hex characters: the one spelling a key id has.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || KeyIdParseError {
            got: s.chars().take(80).collect(),
        };
        if s.len() != KEY_ID_LEN * 2 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(err());
        }
        let mut out = [0u8; KEY_ID_LEN];
        hex::decode_to_slice(s, &mut out).map_err(|_| err())?;
        Ok(Self(out))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_the_documented_one() {
        // RFC 8032 test 1 public key.
        let pk: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap()
                .try_into()
                .unwrap();
        let mut pre = b"countersign/key-id/v1\0".to_vec();
        pre.extend_from_slice(&pk);
        let expected = &hex::encode(Sha256::digest(&pre))[..32];
        assert_eq!(KeyId::of_public_key_bytes(&pk).to_hex(), expected);
        assert_eq!(KEY_ID_DOMAIN_V1.len(), 22);
    }

    #[test]
    fn parse_round_trip_and_refusals() {
        let id = KeyId::of_public_key_bytes(&[7u8; 32]);
        assert_eq!(id.to_hex().parse::<KeyId>().unwrap(), id);
        assert!(id.to_hex().to_uppercase().parse::<KeyId>().is_err());
        assert!("abc".parse::<KeyId>().is_err());
        assert!("zz".repeat(16).parse::<KeyId>().is_err());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.to_hex()));
        assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), id);
    }
}
