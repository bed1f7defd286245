//! RFC 6238 time-based one-time passwords as virtual MFA devices compute them: HMAC-SHA-1,
//! 30-second steps, 6 digits, from the device's Base32 seed.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Length of one TOTP time step, in seconds.
pub const STEP_SECS: u64 = 30;

/// Decodes RFC 4648 Base32 (upper or lower case, `=` padding and spaces ignored).
/// `None` when a character is outside the alphabet.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let value = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u32 - 'A' as u32,
            d @ '2'..='7' => d as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The 6-digit code for time step `counter` (RFC 4226 HOTP with dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty key is still a key.
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::from("000000"),
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

/// The code shown at `unix_secs` (seconds since the Unix epoch).
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    hotp(secret, unix_secs / STEP_SECS)
}

/// True when `code` is the code of the current step or of the step just before or after it,
/// the tolerance STS applies for clock drift.
pub fn accepts(secret: &[u8], code: &str, unix_secs: u64) -> bool {
    let step = unix_secs / STEP_SECS;
    [step.saturating_sub(1), step, step + 1]
        .iter()
        .any(|s| hotp(secret, *s) == code)
}

/// Seconds since the Unix epoch by the system clock.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; 8-digit values truncated to 6.
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_rfc_6238_vectors() {
        assert_eq!(code_at(RFC_SEED, 59), "287082");
        assert_eq!(code_at(RFC_SEED, 1_111_111_109), "081804");
        assert_eq!(code_at(RFC_SEED, 1_234_567_890), "005924");
        assert_eq!(code_at(RFC_SEED, 2_000_000_000), "279037");
    }

    #[test]
    fn base32_round_trips_the_rfc_seed() {
        // "12345678901234567890" in Base32.
        let decoded = base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(decoded, RFC_SEED);
        assert_eq!(base32_decode("gezdgnbv").unwrap(), b"12345");
        assert_eq!(base32_decode("GEZDGNBV1"), None);
    }

    #[test]
    fn accepts_one_step_either_side_only() {
        let t = 1_111_111_109;
        assert!(accepts(RFC_SEED, &code_at(RFC_SEED, t), t));
        assert!(accepts(RFC_SEED, &code_at(RFC_SEED, t - 30), t));
        assert!(accepts(RFC_SEED, &code_at(RFC_SEED, t + 30), t));
        assert!(!accepts(RFC_SEED, &code_at(RFC_SEED, t - 90), t));
        assert!(!accepts(RFC_SEED, "12345", t));
    }
}
