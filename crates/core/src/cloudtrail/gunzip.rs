//! Bounded gzip decompression. A small object can inflate to gigabytes (a "gzip bomb"), so every
//! decompression stops at a cap and refuses the file instead of exhausting memory.

use std::io::Read;

use serde::Serialize;

/// Default cap on the decompressed size of one file: 64 MiB. CloudTrail log files are delivered
/// every few minutes and are far smaller; AWS Config snapshots of large accounts can reach tens of
/// MiB.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 64 * 1024 * 1024;

/// Why a gzip file could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GunzipError {
    /// The content inflates past the cap.
    #[error(
        "{key}: decompresses to more than {limit} bytes; refused as too large (possibly a gzip \
         bomb). Check the object; raise the limit only for a file you trust"
    )]
    TooLarge { key: String, limit: u64 },
    /// Not gzip, truncated, or damaged (bad header, bad deflate data, CRC or length mismatch).
    #[error("{key}: not a valid gzip file ({detail}); the object is damaged or is not gzip")]
    Malformed { key: String, detail: String },
}

impl GunzipError {
    /// The message without the key, for errors that name the file themselves.
    pub fn reason(&self) -> String {
        let text = self.to_string();
        let key = match self {
            GunzipError::TooLarge { key, .. } | GunzipError::Malformed { key, .. } => key,
        };
        text.strip_prefix(&format!("{key}: "))
            .map_or_else(|| text.clone(), str::to_owned)
    }
}

/// Decompresses the gzip file `raw` (one or more members), refusing more than `limit` bytes of
/// output. `key` names the file in errors.
pub fn gunzip(key: &str, raw: &[u8], limit: u64) -> Result<Vec<u8>, GunzipError> {
    if raw.is_empty() {
        return Err(GunzipError::Malformed {
            key: key.to_owned(),
            detail: "the file is empty".to_owned(),
        });
    }
    let decoder = flate2::read::MultiGzDecoder::new(raw);
    let mut out = Vec::new();
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Malformed {
            key: key.to_owned(),
            detail: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(GunzipError::TooLarge {
            key: key.to_owned(),
            limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trips_within_the_cap() {
        assert_eq!(gunzip("a.json.gz", &gz(b"hello"), 5).unwrap(), b"hello");
        let mut two = gz(b"ab");
        two.extend(gz(b"cd"));
        assert_eq!(gunzip("a.json.gz", &two, 100).unwrap(), b"abcd");
    }

    #[test]
    fn a_bomb_stops_at_the_cap_and_names_the_key() {
        let bomb = gz(&vec![0u8; 4 * 1024 * 1024]);
        assert!(bomb.len() < 16 * 1024);
        let e = gunzip("AWSLogs/x.json.gz", &bomb, 1024 * 1024).unwrap_err();
        assert_eq!(
            e,
            GunzipError::TooLarge {
                key: "AWSLogs/x.json.gz".into(),
                limit: 1024 * 1024
            }
        );
        assert!(e
            .to_string()
            .starts_with("AWSLogs/x.json.gz: decompresses to more than 1048576 bytes"));
        assert!(e.reason().starts_with("decompresses to more than"));
        assert_eq!(DEFAULT_MAX_DECOMPRESSED, 64 * 1024 * 1024);
    }

    #[test]
    fn malformed_truncated_and_empty_input_are_refused_with_the_key() {
        for bad in [&b""[..], b"{\"Records\":[]}", &gz(b"some text")[..10]] {
            match gunzip("k.json.gz", bad, 1000) {
                Err(GunzipError::Malformed { key, .. }) => assert_eq!(key, "k.json.gz"),
                other => panic!("{other:?}"),
            }
        }
        let mut flipped = gz(b"the quick brown fox jumps over the lazy dog");
        let last = flipped.len() - 6; // inside the CRC-32 trailer
        flipped[last] ^= 1;
        assert!(matches!(
            gunzip("k", &flipped, 1000),
            Err(GunzipError::Malformed { .. })
        ));
    }
}
