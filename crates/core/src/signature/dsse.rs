//! DSSE (Dead Simple Signing Envelope) v1: the envelope and its pre-authentication encoding.
//!
//! What is signed is never the JSON of the envelope but
//! `PAE(payloadType, payload) = "DSSEv1" SP len(type) SP type SP len(payload) SP payload`, with
//! the lengths as decimal ASCII byte counts. Binding the payload type into the signed bytes keeps a
//! signature over one kind of document from being replayed as another (cross-protocol attacks).
//!
//! Envelopes are written as RFC 8785 canonical JSON, so an envelope has one byte form and its
//! SHA-256 ([`Envelope::digest`]) is stable: later signatures name earlier ones by it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, write_string, CanonicalJsonError};
use crate::digest::Sha256;
use crate::signature::key_id::KeyId;
use crate::signature::statement::Statement;

/// The payload type of every Countersign envelope: an in-toto Statement in JSON.
pub use crate::formats::IN_TOTO_PAYLOAD_TYPE as PAYLOAD_TYPE_IN_TOTO;

/// The largest envelope accepted for verification (1 MiB); real ones are about 2 KiB.
pub const MAX_ENVELOPE_BYTES: usize = 1024 * 1024;

/// The DSSE pre-authentication encoding of `payload` under `payload_type`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let payload_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        6 + 1 + type_len.len() + 1 + payload_type.len() + 1 + payload_len.len() + 1 + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope as stored and exchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always [`PAYLOAD_TYPE_IN_TOTO`] for Countersign signatures.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload bytes, base64 (RFC 4648 §4, with padding).
    pub payload: String,
    /// The signatures over `PAE(payloadType, payload)`; Countersign writes exactly one.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// The signer's key id (see [`KeyId`]), as text so a foreign id still parses.
    pub keyid: String,
    /// The 64-byte ed25519 signature, base64 (RFC 4648 §4, with padding).
    pub sig: String,
}

/// Why bytes could not be read as an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Larger than [`MAX_ENVELOPE_BYTES`].
    #[error("the envelope is {len} bytes; at most {MAX_ENVELOPE_BYTES} are accepted")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not JSON of the envelope's shape.
    #[error("not a DSSE envelope: {detail}")]
    Json {
        /// serde's message, with line and column.
        detail: String,
    },
    /// A base64 field did not decode.
    #[error("the envelope's {field} is not valid base64")]
    Base64 {
        /// `payload` or `signatures[0].sig`.
        field: &'static str,
    },
}

/// A value could not be written as canonical JSON (only possible for non-finite numbers).
/// Decodes base64 as DSSE allows it: standard or URL-safe alphabet, with padding.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .ok()
        .or_else(|| URL_SAFE.decode(text).ok())
}

impl Envelope {
    /// Reads an envelope from its JSON bytes (any JSON spelling; canonical form is not required
    /// here because the signature covers the payload, not the envelope).
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge { len: bytes.len() });
        }
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Json {
            detail: e.to_string(),
        })
    }

    /// The envelope as RFC 8785 canonical JSON: the one byte form Countersign stores.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        // An envelope holds only strings, in members whose names are already in RFC 8785
        // order (`payload` < `payloadType` < `signatures`; `keyid` < `sig`), so its canonical
        // form is written directly: every envelope read is hashed, on verification's hot path.
        let mut out = Vec::with_capacity(self.payload.len() + 160);
        out.extend_from_slice(b"{\"payload\":");
        write_string(&self.payload, &mut out);
        out.extend_from_slice(b",\"payloadType\":");
        write_string(&self.payload_type, &mut out);
        out.extend_from_slice(b",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"keyid\":");
            write_string(&s.keyid, &mut out);
            out.extend_from_slice(b",\"sig\":");
            write_string(&s.sig, &mut out);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// SHA-256 of [`Self::to_canonical_json`]: how later signatures name this one in `follows`.
    pub fn digest(&self) -> Sha256 {
        Sha256::of(&self.to_canonical_json())
    }

    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        decode_base64(&self.payload).ok_or(EnvelopeError::Base64 { field: "payload" })
    }
}

/// Signs `statement` with `key`: canonical JSON payload, ed25519 over its PAE, one signature.
///
/// Deterministic: the same key and statement always give the same envelope (RFC 8032).
pub fn sign_statement(
    statement: &Statement,
    key: &SigningKey,
) -> Result<Envelope, CanonicalJsonError> {
    let payload = canonical_json(statement)?;
    let signature = key.sign(&pae(PAYLOAD_TYPE_IN_TOTO, &payload));
    Ok(Envelope {
        payload_type: PAYLOAD_TYPE_IN_TOTO.to_owned(),
        payload: STANDARD.encode(&payload),
        signatures: vec![EnvelopeSignature {
            keyid: KeyId::of(&key.verifying_key()).to_hex(),
            sig: STANDARD.encode(signature.to_bytes()),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope's directly written canonical form is the general encoder's, whatever its
    /// strings hold and however many signatures it carries.
    #[test]
    fn the_envelope_is_written_in_its_canonical_form() {
        let sig = |keyid: &str, sig: &str| EnvelopeSignature {
            keyid: keyid.into(),
            sig: sig.into(),
        };
        let envelopes = [
            Envelope {
                payload_type: PAYLOAD_TYPE_IN_TOTO.into(),
                payload: "eyJhIjoxfQ==".into(),
                signatures: vec![sig("0123abcd", "c2ln")],
            },
            Envelope {
                payload_type: "a\"b\\c\u{1}\n✓".into(),
                payload: String::new(),
                signatures: vec![],
            },
            Envelope {
                payload_type: "x".into(),
                payload: "\u{1f600}\u{7f}".into(),
                signatures: vec![sig("k1", "s1"), sig("\t", "\u{e000}")],
            },
        ];
        for e in &envelopes {
            assert_eq!(e.to_canonical_json(), canonical_json(e).unwrap(), "{e:?}");
        }
    }

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // The worked example of the DSSE v1 protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        let out = pae("t", "é".as_bytes());
        assert_eq!(out, b"DSSEv1 1 t 2 \xc3\xa9".to_vec());
    }

    #[test]
    fn envelope_json_is_canonical_and_round_trips() {
        let env = Envelope {
            payload_type: PAYLOAD_TYPE_IN_TOTO.into(),
            payload: "e30=".into(),
            signatures: vec![EnvelopeSignature {
                keyid: "k".into(),
                sig: "AA==".into(),
            }],
        };
        let bytes = env.to_canonical_json();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k","sig":"AA=="}]}"#
        );
        assert_eq!(Envelope::from_json(&bytes).unwrap(), env);
        assert_eq!(env.payload_bytes().unwrap(), b"{}".to_vec());
        assert_eq!(env.digest(), Sha256::of(&bytes));
    }

    #[test]
    fn bad_envelopes_are_refused_with_a_reason() {
        assert!(matches!(
            Envelope::from_json(b"not json"),
            Err(EnvelopeError::Json { .. })
        ));
        let extra = br#"{"payloadType":"x","payload":"","signatures":[],"extra":1}"#;
        let err = Envelope::from_json(extra).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert!(matches!(
            Envelope::from_json(&big),
            Err(EnvelopeError::TooLarge { .. })
        ));
        let env = Envelope {
            payload_type: "x".into(),
            payload: "not base64!".into(),
            signatures: vec![],
        };
        assert_eq!(
            env.payload_bytes(),
            Err(EnvelopeError::Base64 { field: "payload" })
        );
    }

    #[test]
    fn url_safe_base64_is_accepted_as_dsse_allows() {
        assert_eq!(decode_base64("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
    }
}
