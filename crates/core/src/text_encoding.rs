//! Base64 as it appears in test reports and PEM files: standard alphabet (RFC 4648 §4), padding
//! optional, whitespace (line breaks) ignored. Signature envelopes use the stricter decoder in
//! `signature::dsse`.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes standard base64, ignoring ASCII whitespace; padding optional. `None` when invalid.
pub fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact).ok()
}

/// Encodes standard base64 with padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(decode_base64_lenient("").unwrap(), b"");
        assert_eq!(decode_base64_lenient("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64_lenient("Zg").unwrap(), b"f");
        assert_eq!(decode_base64_lenient("Zm9v\nYmE=").unwrap(), b"fooba");
        assert!(decode_base64_lenient("Zm9v*").is_none());
        assert!(decode_base64_lenient("Zg==Zg").is_none());
        assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode_base64(b"fo"), "Zm8=");
    }
}
