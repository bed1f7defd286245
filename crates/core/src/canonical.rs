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

/// [`canonical_json`] of a parsed JSON value, written directly: the same bytes, without the
/// general encoder's buffer per member. Verification canonicalises every statement it reads,
/// so this is on its hot path. A number other than an integer of at most 2^53 in magnitude
/// (where RFC 8785's ECMAScript number form is the plain digits) goes to the general encoder.
pub fn canonical_json_value(value: &serde_json::Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let mut out = Vec::with_capacity(512);
    match write_value(value, &mut out) {
        Ok(()) => Ok(out),
        Err(NotPlain) => canonical_json(value),
    }
}

/// A number whose RFC 8785 form is not its plain integer digits.
struct NotPlain;

/// Integers up to 2^53 in magnitude: exactly representable as an IEEE 754 double, which
/// ECMAScript prints as its digits.
const MAX_PLAIN_INTEGER: u64 = 1 << 53;

fn write_value(value: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), NotPlain> {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_PLAIN_INTEGER) {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_PLAIN_INTEGER) {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(NotPlain);
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            // RFC 8785 §3.2.3: members sorted by their names' UTF-16 code units.
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (name, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(name, out);
                out.push(b':');
                write_value(member, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A JSON string as RFC 8785 §3.2.2.2 writes it (ECMAScript's `JSON.stringify`): `"` and `\`
/// escaped, the control characters as `\b \t \n \f \r` or `\u00xx` (lowercase hex),
/// everything else as it is.
pub(crate) fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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

    /// The direct writer gives the general encoder's bytes for every kind of value: names
    /// sorted by UTF-16 code units (a name above the BMP sorts before U+E000–U+FFFF), every
    /// control character, quotes, backslashes, non-ASCII text, integers up to and past 2^53,
    /// and numbers the general encoder must format.
    #[test]
    fn the_direct_writer_agrees_with_the_general_encoder() {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let values = [
            serde_json::json!(null),
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!({"b": 1, "a": [true, false, null, "x"], "": -7}),
            serde_json::json!({"\u{e000}": 1, "\u{1f600}": 2, "z": 3, "é": 4, "Z": 5, "aa": 6, "a": 7}),
            serde_json::json!({"s": controls, "q": "a\"b\\c/d\u{7f}\u{2028}ü✓😀"}),
            serde_json::json!({"n": [0, -0, 1, -1, 9007199254740992_u64, -9007199254740992_i64,
                9007199254740993_u64, u64::MAX, i64::MIN, 1.5, -0.25, 1e21, 1e-7, 0.1]}),
            serde_json::json!([[[{"deep": [{"a": {"b": [1, "2", null]}}]}]]]),
        ];
        for v in &values {
            let direct = canonical_json_value(v).unwrap();
            let general = canonical_json(v).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&general),
                "{v}"
            );
        }
        // Every single character of the Basic Multilingual Plane's first block, and a sample
        // beyond, as a string and as a member name.
        for c in (0u32..0x800).chain([0xfffd, 0x10000, 0x10ffff]) {
            let Some(c) = char::from_u32(c) else { continue };
            let text = format!("a{c}b");
            let v = serde_json::json!({ text.clone(): text });
            assert_eq!(
                canonical_json_value(&v).unwrap(),
                canonical_json(&v).unwrap(),
                "{c:?}"
            );
        }
    }
}
