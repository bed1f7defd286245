//! The CloudTrail public keys that verify digest signatures, read from a file the user supplies.
//!
//! Accepted forms:
//! - one or more PEM blocks, `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1);
//! - the JSON written by `aws cloudtrail list-public-keys`
//!   (`{"PublicKeyList":[{"Value": base64 PKCS#1 DER, "Fingerprint": hex, …}]}`), whose
//!   fingerprints are taken as AWS states them.
//!
//! For PEM keys the fingerprint is computed: the first 16 bytes, in hex, of the SHA-256 of the
//! PKCS#1 DER encoding of the key. A digest file names the key that signed it by fingerprint
//! (`digestPublicKeyFingerprint`).

use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One RSA public key and the fingerprint digest files use to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailPublicKey {
    /// Lowercase hex fingerprint.
    pub fingerprint: String,
    /// The key.
    pub key: RsaPublicKey,
}

/// Why a public-key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public key file {source_name}: {message}")]
pub struct PublicKeyError {
    /// The file (as the user named it).
    pub source_name: String,
    /// What was wrong and what to do.
    pub message: String,
}

/// Computes the fingerprint of `key` (see the module documentation).
pub fn fingerprint(key: &RsaPublicKey) -> Result<String, rsa::pkcs1::Error> {
    let der = key.to_pkcs1_der()?;
    Ok(hex::encode(&Sha256::digest(der.as_bytes())[..16]))
}

/// Reads every key in `bytes` (PEM blocks or `list-public-keys` JSON). `source_name` names the
/// file in errors. At least one key must be present.
pub fn parse_public_keys(
    source_name: &str,
    bytes: &[u8],
) -> Result<Vec<TrailPublicKey>, PublicKeyError> {
    let fail = |message: String| PublicKeyError {
        source_name: source_name.to_owned(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        fail("not text; expected PEM or the JSON of `aws cloudtrail list-public-keys`".into())
    })?;
    let keys = if text.trim_start().starts_with('{') {
        from_list_json(text).map_err(fail)?
    } else {
        from_pem(text).map_err(fail)?
    };
    if keys.is_empty() {
        return Err(fail(
            "no public key found; expected a PEM block \"-----BEGIN PUBLIC KEY-----\" or the JSON of \
             `aws cloudtrail list-public-keys`"
                .into(),
        ));
    }
    Ok(keys)
}

fn from_pem(text: &str) -> Result<Vec<TrailPublicKey>, String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let label_end = after[11..]
            .find("-----")
            .ok_or_else(|| "a PEM header is not terminated by \"-----\"".to_owned())?;
        let label = &after[11..11 + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = after
            .find(&end_marker)
            .ok_or_else(|| format!("PEM block {label:?} has no {end_marker:?} line"))?;
        let block = &after[..end + end_marker.len()];
        let n = keys.len() + 1;
        let key = match label {
            "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(block)
                .map_err(|e| format!("PEM block {n} (PUBLIC KEY) is not an RSA public key: {e}"))?,
            "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(block)
                .map_err(|e| format!("PEM block {n} (RSA PUBLIC KEY) is not valid: {e}"))?,
            other => {
                return Err(format!(
                    "PEM block {n} is {other:?}; expected \"PUBLIC KEY\" or \"RSA PUBLIC KEY\" \
                     (never supply a private key)"
                ))
            }
        };
        let fingerprint = fingerprint(&key).map_err(|e| format!("PEM block {n}: {e}"))?;
        keys.push(TrailPublicKey { fingerprint, key });
        rest = &after[end + end_marker.len()..];
    }
    Ok(keys)
}

fn from_list_json(text: &str) -> Result<Vec<TrailPublicKey>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not valid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let list = doc.get("PublicKeyList").and_then(Value::as_array).ok_or(
        "JSON without a \"PublicKeyList\" array; expected `aws cloudtrail list-public-keys` output",
    )?;
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let value = item
                .get("Value")
                .and_then(Value::as_str)
                .ok_or(format!("PublicKeyList[{i}] has no \"Value\" string"))?;
            let der =
                base64_decode(value).ok_or(format!("PublicKeyList[{i}].Value is not base64"))?;
            let key = RsaPublicKey::from_pkcs1_der(&der).map_err(|e| {
                format!("PublicKeyList[{i}].Value is not a PKCS#1 RSA public key: {e}")
            })?;
            let fingerprint = match item.get("Fingerprint").and_then(Value::as_str) {
                Some(f) => f.to_ascii_lowercase(),
                None => fingerprint(&key).map_err(|e| format!("PublicKeyList[{i}]: {e}"))?,
            };
            Ok(TrailPublicKey { fingerprint, key })
        })
        .collect()
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    crate::text_encoding::decode_base64_lenient(text)
}

#[cfg(test)]
mod tests {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::RsaPrivateKey;

    use super::*;

    fn key() -> RsaPublicKey {
        RsaPrivateKey::new(&mut rand_core::OsRng, 1024)
            .unwrap()
            .to_public_key()
    }

    fn b64(bytes: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for ch in bytes.chunks(3) {
            let n = ch
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                s.push(if i <= ch.len() {
                    T[(n >> (18 - 6 * i)) as usize & 63] as char
                } else {
                    '='
                });
            }
        }
        s
    }

    #[test]
    fn base64_known_answers() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9v\nYmE=").unwrap(), b"fooba");
        assert!(base64_decode("Zm9v*").is_none());
        assert_eq!(
            base64_decode(&b64(b"any bytes \x00\xff")).unwrap(),
            b"any bytes \x00\xff"
        );
    }

    #[test]
    fn reads_spki_and_pkcs1_pem_blocks_with_their_fingerprints() {
        let (a, b) = (key(), key());
        let mut pem = a.to_public_key_pem(LineEnding::LF).unwrap();
        pem.push_str(&b.to_pkcs1_pem(LineEnding::CRLF).unwrap());
        let keys = parse_public_keys("keys.pem", pem.as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].key, a);
        assert_eq!(keys[1].key, b);
        let expected = hex::encode(&Sha256::digest(a.to_pkcs1_der().unwrap().as_bytes())[..16]);
        assert_eq!(keys[0].fingerprint, expected);
        assert_eq!(keys[0].fingerprint.len(), 32);
    }

    #[test]
    fn reads_list_public_keys_json_with_the_stated_fingerprint() {
        let a = key();
        let der = a.to_pkcs1_der().unwrap();
        let json = format!(
            r#"{{"PublicKeyList":[{{"Value":"{}","ValidityStartTime":"2026-01-01T00:00:00Z","Fingerprint":"ABCDEF0123"}}]}}"#,
            b64(der.as_bytes())
        );
        let keys = parse_public_keys("keys.json", json.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key, a);
        assert_eq!(keys[0].fingerprint, "abcdef0123");
    }

    #[test]
    fn bad_key_files_are_named_and_explained() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "no public key found"),
            (b"\xff\xfe", "not text"),
            (
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "never supply a private key",
            ),
            (b"-----BEGIN PUBLIC KEY-----\nAAAA\n", "has no"),
            (b"{\"Keys\":[]}", "PublicKeyList"),
        ];
        for (bytes, needle) in cases {
            let e = parse_public_keys("trail.pem", bytes).unwrap_err();
            assert!(
                e.to_string().starts_with("public key file trail.pem: "),
                "{e}"
            );
            assert!(e.message.contains(needle), "{needle}: {e}");
        }
        let e = parse_public_keys(
            "k.pem",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        )
        .unwrap_err();
        assert!(e.message.contains("not an RSA public key"), "{e}");
    }
}
