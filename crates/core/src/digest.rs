//! SHA-256 digests as a value type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256 as Sha256Hasher};

/// A SHA-256 digest. Displayed and serialised as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// Digest of a byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256Hasher::digest(bytes).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Incremental SHA-256 for streamed content.
#[derive(Clone, Default)]
pub struct Sha256Stream(Sha256Hasher);

impl fmt::Debug for Sha256Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Stream")
    }
}

impl Sha256Stream {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    pub fn finish(self) -> Sha256 {
        Sha256(self.0.finalize().into())
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

/// Why a string is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 digest ({reason}): expected 64 hex characters, got {got:?}")]
pub struct DigestParseError {
    reason: &'static str,
    got: String,
}

/// The value of each byte as a hexadecimal digit (either case), 0xff for any other byte: every
/// stored digest is parsed on its way out of the ledger, so this is a table, not a match.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl FromStr for Sha256 {
    type Err = DigestParseError;

    /// Accepts 64 hex characters (either case), optionally prefixed with `sha256:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.strip_prefix("sha256:").unwrap_or(s);
        // What was given, shown in an error only: every stored digest is parsed on the way
        // out of the ledger, so the success path allocates nothing.
        let error = |reason| DigestParseError {
            reason,
            got: s.chars().take(80).collect(),
        };
        if trimmed.len() != 64 {
            return Err(error("wrong length"));
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(trimmed.as_bytes().chunks_exact(2)) {
            let (hi, lo) = (
                HEX_VALUE[usize::from(pair[0])],
                HEX_VALUE[usize::from(pair[1])],
            );
            if hi > 0xf || lo > 0xf {
                return Err(error("not hexadecimal"));
            }
            *byte = hi << 4 | lo;
        }
        Ok(Self(out))
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_empty_and_abc() {
        assert_eq!(
            Sha256::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Sha256::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn stream_equals_one_shot() {
        let mut s = Sha256Stream::new();
        s.update(b"a");
        s.update(b"bc");
        assert_eq!(s.finish(), Sha256::of(b"abc"));
    }

    #[test]
    fn parse_round_trip_and_errors() {
        let d = Sha256::of(b"x");
        assert_eq!(d.to_hex().parse::<Sha256>().unwrap(), d);
        assert_eq!(
            format!("sha256:{}", d.to_hex().to_uppercase())
                .parse::<Sha256>()
                .unwrap(),
            d
        );
        assert!("abc"
            .parse::<Sha256>()
            .unwrap_err()
            .to_string()
            .contains("wrong length"));
        let bad = "z".repeat(64);
        assert!(bad
            .parse::<Sha256>()
            .unwrap_err()
            .to_string()
            .contains("not hexadecimal"));
        // Every byte value in every position of a digit pair: exactly the 22 hexadecimal
        // digits parse, each to its value.
        let good = d.to_hex();
        for b in 0..=255u8 {
            for at in [0, 1, 62, 63] {
                let mut text = good.clone().into_bytes();
                text[at] = b;
                let Ok(text) = String::from_utf8(text) else {
                    continue;
                };
                let parsed = text.parse::<Sha256>();
                assert_eq!(parsed.is_ok(), b.is_ascii_hexdigit(), "{b:#x} at {at}");
                if let Ok(p) = parsed {
                    assert_eq!(p.to_hex(), text.to_ascii_lowercase());
                }
            }
        }
        // A multi-byte character of the right byte length is not hexadecimal either.
        let wide = format!("é{}", &good[2..]);
        assert_eq!(wide.len(), 64);
        assert!(wide.parse::<Sha256>().is_err());
    }
}
