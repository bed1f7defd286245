//! Searching test artifacts for secrets: every file under a folder (homes, ledgers and their
//! write-ahead logs, exports, logs, PDFs), as raw bytes, for each secret and its hex and base64
//! spellings.

use std::path::{Path, PathBuf};

/// Every file under `dir` that holds one of `secrets` (or its lowercase hex or standard
/// base64), with the length of the secret found (never the secret itself).
pub fn scan(dir: &Path, secrets: &[&str]) -> Vec<(PathBuf, usize)> {
    let mut needles: Vec<(Vec<u8>, usize)> = Vec::new();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        needles.push((s.as_bytes().to_vec(), s.len()));
        needles.push((hex::encode(s.as_bytes()).into_bytes(), s.len()));
        needles.push((base64(s.as_bytes()).into_bytes(), s.len()));
    }
    let mut found = Vec::new();
    for file in files(dir) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        if let Some((_, len)) = needles
            .iter()
            .find(|(n, _)| bytes.windows(n.len()).any(|w| w == n.as_slice()))
        {
            found.push((file, *len));
        }
    }
    found
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_secret_in_any_spelling_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("plain"), b"xx alice passphrase 1 yy").unwrap();
        std::fs::write(dir.path().join("sub/hex"), hex::encode("s3cr3t!")).unwrap();
        std::fs::write(dir.path().join("sub/b64"), base64(b"another one")).unwrap();
        std::fs::write(dir.path().join("clean"), b"nothing here").unwrap();
        let mut found: Vec<String> = scan(
            dir.path(),
            &["alice passphrase 1", "s3cr3t!", "another one"],
        )
        .into_iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
        found.sort();
        assert_eq!(found, ["b64", "hex", "plain"]);
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
    }
}
