//! RFC 8785 (JCS) canonical JSON: the one byte form of every JSON document Countersign hashes
//! or signs (records, statements, manifests, key documents), so a digest names exactly one
//! document.

use serde::Serialize;

/// A value could not be written as canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write canonical JSON: {detail}")]
pub struct CanonicalJsonError {
    /// The encoder's message.
    pub detail: String,
}

/// RFC 8785 (JCS) canonical JSON bytes of `value`.
pub fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalJsonError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalJsonError {
        detail: e.to_string(),
    })
}

/// True when `bytes` are exactly the canonical form of `value` (a document read back must be
/// canonical, so that its digest is the digest of its content).
pub fn is_canonical<T: Serialize>(value: &T, bytes: &[u8]) -> bool {
    canonical_json(value).is_ok_and(|c| c == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_sorted_and_whitespace_dropped() {
        let v = serde_json::json!({"b": 1, "a": [true, null, "x"]});
        assert_eq!(
            canonical_json(&v).unwrap(),
            br#"{"a":[true,null,"x"],"b":1}"#
        );
        assert!(is_canonical(&v, br#"{"a":[true,null,"x"],"b":1}"#));
        assert!(!is_canonical(&v, br#"{"b":1,"a":[true,null,"x"]}"#));
    }
}
