//! Offline validation of a CloudTrail digest chain, reported per file.
//!
//! For each digest file (`AWSLogs/<account>/CloudTrail-Digest/…json.gz`):
//! 1. it is decompressed (bounded) and read; its declared location (`digestS3Bucket`,
//!    `digestS3Object`) must be where it was found;
//! 2. its signature (hex, S3 user metadata `signature`; algorithm in `signature-algorithm`) is
//!    verified with the public key named by `digestPublicKeyFingerprint`, as RSASSA-PKCS1-v1_5
//!    with SHA-256 over the data signing string
//!    `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed digest)) \n
//!    previousDigestSignature` (the literal `null` for the first digest of a chain);
//! 3. its previous-digest link must name a digest that is present, whose uncompressed SHA-256 is
//!    `previousDigestHashValue` and whose signature is `previousDigestSignature`;
//! 4. in time order, that previous digest must be the one just before it, and its
//!    `digestEndTime` must equal this digest's `digestStartTime` (no gap, no overlap);
//! 5. every log file it lists must be present, and the SHA-256 of its **uncompressed** content
//!    must be the listed `hashValue`.
//!
//! Log files present but listed in no digest are reported as not covered.

use std::collections::{BTreeMap, BTreeSet};

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256 as Sha256Hasher;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::gunzip::{gunzip, DEFAULT_MAX_DECOMPRESSED};
use super::public_key::TrailPublicKey;
use crate::digest::Sha256;

/// The only signature algorithm CloudTrail uses for digest files.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// A digest file as stored: where it was, its raw (gzip) bytes, and its S3 user metadata.
#[derive(Debug, Clone, Copy)]
pub struct DigestFile<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The object's bytes as delivered (gzip).
    pub raw: &'a [u8],
    /// `signature` user metadata: the hex signature.
    pub signature: Option<&'a str>,
    /// `signature-algorithm` user metadata.
    pub signature_algorithm: Option<&'a str>,
}

impl<'a> DigestFile<'a> {
    /// A digest file whose signature and algorithm are read from its S3 user metadata (names
    /// compared case-insensitively, with or without the `x-amz-meta-` prefix).
    pub fn with_metadata(
        bucket: &'a str,
        key: &'a str,
        raw: &'a [u8],
        metadata: &'a [(String, String)],
    ) -> Self {
        let find = |name: &str| {
            metadata.iter().find_map(|(k, v)| {
                let k = k.to_ascii_lowercase();
                (k.strip_prefix("x-amz-meta-").unwrap_or(&k) == name).then_some(v.as_str())
            })
        };
        Self {
            bucket,
            key,
            raw,
            signature: find("signature"),
            signature_algorithm: find("signature-algorithm"),
        }
    }
}

/// A log file as stored.
#[derive(Debug, Clone, Copy)]
pub struct LogFile<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The object's bytes as delivered (gzip).
    pub raw: &'a [u8],
}

/// Limits for a validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// Cap on the decompressed size of each digest and log file.
    pub max_decompressed: u64,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// Something wrong with one file. A file with no finding is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A log file a digest lists is not present.
    LogFileMissing,
    /// A log file's content does not hash to the value its digest lists. `actual` is the SHA-256
    /// of the uncompressed content, or absent when the file no longer decompresses (`detail`).
    LogFileAltered {
        expected: String,
        actual: Option<String>,
        detail: Option<String>,
    },
    /// The digest file carries no `signature` metadata.
    DigestUnsigned,
    /// The signature does not verify (or is not hex, or the algorithm is not SHA256withRSA).
    DigestSignatureInvalid { detail: String },
    /// The signing key (by fingerprint) is not among the supplied public keys.
    UnknownPublicKey { fingerprint: String },
    /// No public key was supplied, so the signature was not checked.
    SignatureNotChecked,
    /// The previous-digest link names a digest that is not present.
    DigestMissing {
        previous_bucket: String,
        previous_key: String,
    },
    /// The previous-digest link does not match the previous file.
    ChainBroken {
        field: String,
        expected: String,
        actual: String,
    },
    /// The digest is not where the chain places it in time (gap, overlap or wrong predecessor).
    OutOfOrder { detail: String },
    /// The digest names another location than where it was found.
    DigestMoved {
        declared_bucket: String,
        declared_key: String,
    },
    /// The digest file cannot be decompressed or read.
    DigestUnreadable { detail: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::LogFileMissing => f.write_str("log file missing: listed in a digest, not present"),
            Finding::LogFileAltered { expected, actual: Some(actual), .. } => write!(
                f,
                "log file altered: SHA-256 of its content is {actual}, the digest lists {expected}"
            ),
            Finding::LogFileAltered { detail, .. } => write!(
                f,
                "log file altered: it no longer decompresses ({})",
                detail.as_deref().unwrap_or("damaged")
            ),
            Finding::DigestUnsigned => f.write_str("digest unsigned: no signature metadata"),
            Finding::DigestSignatureInvalid { detail } => {
                write!(f, "digest signature invalid: {detail}")
            }
            Finding::UnknownPublicKey { fingerprint } => write!(
                f,
                "signed by an unknown public key (fingerprint {fingerprint}); supply the trail's key"
            ),
            Finding::SignatureNotChecked => {
                f.write_str("signature not checked: no public key supplied")
            }
            Finding::DigestMissing { previous_bucket, previous_key } => write!(
                f,
                "previous digest missing: s3://{previous_bucket}/{previous_key}"
            ),
            Finding::ChainBroken { field, expected, actual } => write!(
                f,
                "chain broken: {field} is {expected}, the previous digest has {actual}"
            ),
            Finding::OutOfOrder { detail } => write!(f, "out of order: {detail}"),
            Finding::DigestMoved { declared_bucket, declared_key } => write!(
                f,
                "digest moved: it declares s3://{declared_bucket}/{declared_key}"
            ),
            Finding::DigestUnreadable { detail } => write!(f, "digest unreadable: {detail}"),
        }
    }
}

/// One digest file and its findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestCheck {
    pub bucket: String,
    pub key: String,
    /// `digestStartTime` as written.
    pub start_time: Option<String>,
    /// `digestEndTime` as written.
    pub end_time: Option<String>,
    /// `digestPublicKeyFingerprint`.
    pub fingerprint: Option<String>,
    /// How many log files it lists.
    pub log_files: usize,
    pub valid: bool,
    pub findings: Vec<Finding>,
}

/// One log file listed by a digest, and its findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogCheck {
    pub bucket: String,
    pub key: String,
    /// Key of the digest that lists it.
    pub digest_key: String,
    /// `hashValue` from the digest.
    pub expected_sha256: String,
    pub valid: bool,
    pub findings: Vec<Finding>,
}

/// A log file present but listed in no digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uncovered {
    pub bucket: String,
    pub key: String,
}

/// The outcome of a validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Every digest and every listed log file is valid, and at least one digest was checked.
    pub valid: bool,
    /// Digests in time order (unreadable ones last).
    pub digests: Vec<DigestCheck>,
    /// Log files in the order their digests list them.
    pub log_files: Vec<LogCheck>,
    /// Log files no digest lists: their integrity is not established.
    pub not_covered: Vec<Uncovered>,
}

impl ChainReport {
    /// Every (key, finding) pair, digests first; empty when the chain is valid.
    pub fn findings(&self) -> Vec<(&str, &Finding)> {
        let d = self
            .digests
            .iter()
            .flat_map(|c| c.findings.iter().map(move |f| (c.key.as_str(), f)));
        let l = self
            .log_files
            .iter()
            .flat_map(|c| c.findings.iter().map(move |f| (c.key.as_str(), f)));
        d.chain(l).collect()
    }
}

/// A digest file that decompressed and parsed.
struct Parsed<'a> {
    file: DigestFile<'a>,
    sha256_hex: String,
    doc: Value,
    start: Option<OffsetDateTime>,
    end: OffsetDateTime,
}

fn field<'v>(doc: &'v Value, name: &str) -> Option<&'v str> {
    doc.get(name).and_then(Value::as_str)
}

fn time_of(doc: &Value, name: &str) -> Option<OffsetDateTime> {
    field(doc, name).and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

fn parse<'a>(file: DigestFile<'a>, options: &ChainOptions) -> Result<Parsed<'a>, String> {
    let json = gunzip(file.key, file.raw, options.max_decompressed).map_err(|e| e.to_string())?;
    let doc: Value = serde_json::from_slice(&json).map_err(|e| {
        format!(
            "{}: not valid JSON at line {}, column {}: {e}",
            file.key,
            e.line(),
            e.column()
        )
    })?;
    if !doc.is_object() {
        return Err(format!("{}: not a JSON object", file.key));
    }
    let end_text = field(&doc, "digestEndTime")
        .ok_or_else(|| format!("{}: no \"digestEndTime\"", file.key))?;
    let end = OffsetDateTime::parse(end_text, &Rfc3339).map_err(|e| {
        format!(
            "{}: digestEndTime {end_text:?} is not RFC 3339: {e}",
            file.key
        )
    })?;
    Ok(Parsed {
        file,
        sha256_hex: Sha256::of(&json).to_hex(),
        start: time_of(&doc, "digestStartTime"),
        end,
        doc,
    })
}

/// The string CloudTrail signs for a digest file.
pub fn data_signing_string(
    digest_end_time: &str,
    digest_s3_bucket: &str,
    digest_s3_object: &str,
    uncompressed_digest_sha256_hex: &str,
    previous_digest_signature: &str,
) -> String {
    format!(
        "{digest_end_time}\n{digest_s3_bucket}/{digest_s3_object}\n{uncompressed_digest_sha256_hex}\n{previous_digest_signature}"
    )
}

fn check_signature(p: &Parsed<'_>, keys: &[TrailPublicKey], findings: &mut Vec<Finding>) {
    let Some(signature_hex) = p.file.signature else {
        findings.push(Finding::DigestUnsigned);
        return;
    };
    if let Some(alg) = p.file.signature_algorithm {
        if !alg.eq_ignore_ascii_case(SIGNATURE_ALGORITHM) {
            findings.push(Finding::DigestSignatureInvalid {
                detail: format!("signature algorithm {alg:?} is not {SIGNATURE_ALGORITHM}"),
            });
            return;
        }
    }
    if keys.is_empty() {
        findings.push(Finding::SignatureNotChecked);
        return;
    }
    let fingerprint = field(&p.doc, "digestPublicKeyFingerprint").unwrap_or_default();
    let Some(key) = keys
        .iter()
        .find(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint))
    else {
        findings.push(Finding::UnknownPublicKey {
            fingerprint: fingerprint.to_owned(),
        });
        return;
    };
    let Ok(sig_bytes) = hex::decode(signature_hex.trim()) else {
        findings.push(Finding::DigestSignatureInvalid {
            detail: "the signature metadata is not hex".to_owned(),
        });
        return;
    };
    let Ok(signature) = Signature::try_from(sig_bytes.as_slice()) else {
        findings.push(Finding::DigestSignatureInvalid {
            detail: "the signature metadata is not an RSA signature".to_owned(),
        });
        return;
    };
    let previous = field(&p.doc, "previousDigestSignature").unwrap_or("null");
    let message = data_signing_string(
        field(&p.doc, "digestEndTime").unwrap_or_default(),
        field(&p.doc, "digestS3Bucket").unwrap_or_default(),
        field(&p.doc, "digestS3Object").unwrap_or_default(),
        &p.sha256_hex,
        previous,
    );
    let verifier = VerifyingKey::<Sha256Hasher>::new(key.key.clone());
    if verifier.verify(message.as_bytes(), &signature).is_err() {
        findings.push(Finding::DigestSignatureInvalid {
            detail: format!(
                "the signature does not verify with key {}: the digest file or its signature was changed",
                key.fingerprint
            ),
        });
    }
}

fn check_link(
    i: usize,
    parsed: &[Parsed<'_>],
    by_location: &BTreeMap<(&str, &str), usize>,
    findings: &mut Vec<Finding>,
) {
    let p = &parsed[i];
    let Some(prev_key) = field(&p.doc, "previousDigestS3Object") else {
        // The first digest after logging started: nothing to link to.
        return;
    };
    let prev_bucket = field(&p.doc, "previousDigestS3Bucket").unwrap_or(p.file.bucket);
    let Some(&j) = by_location.get(&(prev_bucket, prev_key)) else {
        findings.push(Finding::DigestMissing {
            previous_bucket: prev_bucket.to_owned(),
            previous_key: prev_key.to_owned(),
        });
        return;
    };
    let prev = &parsed[j];
    let declared_hash = field(&p.doc, "previousDigestHashValue").unwrap_or_default();
    if !declared_hash.eq_ignore_ascii_case(&prev.sha256_hex) {
        findings.push(Finding::ChainBroken {
            field: "previousDigestHashValue".to_owned(),
            expected: declared_hash.to_owned(),
            actual: prev.sha256_hex.clone(),
        });
    }
    let declared_sig = field(&p.doc, "previousDigestSignature").unwrap_or("null");
    let actual_sig = prev.file.signature.unwrap_or("(unsigned)");
    if !declared_sig.trim().eq_ignore_ascii_case(actual_sig.trim()) {
        findings.push(Finding::ChainBroken {
            field: "previousDigestSignature".to_owned(),
            expected: declared_sig.to_owned(),
            actual: actual_sig.to_owned(),
        });
    }
    if i == 0 || j != i - 1 {
        let before = if i == 0 {
            "none".to_owned()
        } else {
            parsed[i - 1].file.key.to_owned()
        };
        findings.push(Finding::OutOfOrder {
            detail: format!(
                "links to {prev_key}, but in time order the digest before it is {before}"
            ),
        });
    } else if p.start.is_some_and(|s| s != prev.end) {
        findings.push(Finding::OutOfOrder {
            detail: format!(
                "digestStartTime {} is not the previous digest's digestEndTime {}",
                field(&p.doc, "digestStartTime").unwrap_or_default(),
                field(&prev.doc, "digestEndTime").unwrap_or_default()
            ),
        });
    }
}

fn check_logs(
    p: &Parsed<'_>,
    logs: &BTreeMap<(&str, &str), &LogFile<'_>>,
    options: &ChainOptions,
    listed: &mut BTreeSet<(String, String)>,
    out: &mut Vec<LogCheck>,
) -> usize {
    let entries = p
        .doc
        .get("logFiles")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in entries {
        let bucket = field(entry, "s3Bucket").unwrap_or(p.file.bucket);
        let key = field(entry, "s3Object").unwrap_or_default();
        let expected = field(entry, "hashValue").unwrap_or_default();
        listed.insert((bucket.to_owned(), key.to_owned()));
        let mut findings = Vec::new();
        match logs.get(&(bucket, key)) {
            None => findings.push(Finding::LogFileMissing),
            Some(log) => match gunzip(log.key, log.raw, options.max_decompressed) {
                Ok(content) => {
                    let actual = Sha256::of(&content).to_hex();
                    if !actual.eq_ignore_ascii_case(expected) {
                        findings.push(Finding::LogFileAltered {
                            expected: expected.to_owned(),
                            actual: Some(actual),
                            detail: None,
                        });
                    }
                }
                Err(e) => findings.push(Finding::LogFileAltered {
                    expected: expected.to_owned(),
                    actual: None,
                    detail: Some(e.to_string()),
                }),
            },
        }
        out.push(LogCheck {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            digest_key: p.file.key.to_owned(),
            expected_sha256: expected.to_owned(),
            valid: findings.is_empty(),
            findings,
        });
    }
    entries.len()
}

/// Validates the digest chain formed by `digests` over `logs`, with the supplied public `keys`
/// (an empty slice: signatures are reported as not checked). Pure: everything is passed in.
pub fn validate(
    digests: &[DigestFile<'_>],
    logs: &[LogFile<'_>],
    keys: &[TrailPublicKey],
    options: &ChainOptions,
) -> ChainReport {
    let mut parsed = Vec::new();
    let mut unreadable = Vec::new();
    for d in digests {
        match parse(*d, options) {
            Ok(p) => parsed.push(p),
            Err(detail) => unreadable.push(DigestCheck {
                bucket: d.bucket.to_owned(),
                key: d.key.to_owned(),
                start_time: None,
                end_time: None,
                fingerprint: None,
                log_files: 0,
                valid: false,
                findings: vec![Finding::DigestUnreadable { detail }],
            }),
        }
    }
    parsed.sort_by(|a, b| (a.end, a.file.key).cmp(&(b.end, b.file.key)));
    let by_location: BTreeMap<(&str, &str), usize> = parsed
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.file.bucket, p.file.key), i))
        .collect();
    let log_index: BTreeMap<(&str, &str), &LogFile<'_>> =
        logs.iter().map(|l| ((l.bucket, l.key), l)).collect();

    let mut checks = Vec::with_capacity(digests.len());
    let mut log_checks = Vec::new();
    let mut listed = BTreeSet::new();
    for (i, p) in parsed.iter().enumerate() {
        let mut findings = Vec::new();
        let declared_bucket = field(&p.doc, "digestS3Bucket").unwrap_or_default();
        let declared_key = field(&p.doc, "digestS3Object").unwrap_or_default();
        if declared_bucket != p.file.bucket || declared_key != p.file.key {
            findings.push(Finding::DigestMoved {
                declared_bucket: declared_bucket.to_owned(),
                declared_key: declared_key.to_owned(),
            });
        }
        check_signature(p, keys, &mut findings);
        check_link(i, &parsed, &by_location, &mut findings);
        let count = check_logs(p, &log_index, options, &mut listed, &mut log_checks);
        checks.push(DigestCheck {
            bucket: p.file.bucket.to_owned(),
            key: p.file.key.to_owned(),
            start_time: field(&p.doc, "digestStartTime").map(str::to_owned),
            end_time: field(&p.doc, "digestEndTime").map(str::to_owned),
            fingerprint: field(&p.doc, "digestPublicKeyFingerprint").map(str::to_owned),
            log_files: count,
            valid: findings.is_empty(),
            findings,
        });
    }
    checks.extend(unreadable);
    let not_covered: Vec<Uncovered> = logs
        .iter()
        .filter(|l| !listed.contains(&(l.bucket.to_owned(), l.key.to_owned())))
        .map(|l| Uncovered {
            bucket: l.bucket.to_owned(),
            key: l.key.to_owned(),
        })
        .collect();
    let valid =
        !checks.is_empty() && checks.iter().all(|c| c.valid) && log_checks.iter().all(|c| c.valid);
    ChainReport {
        valid,
        digests: checks,
        log_files: log_checks,
        not_covered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_signing_string_matches_the_documented_layout() {
        assert_eq!(
            data_signing_string(
                "2026-11-02T10:01:31Z",
                "b",
                "AWSLogs/d.json.gz",
                "ab12",
                "null"
            ),
            "2026-11-02T10:01:31Z\nb/AWSLogs/d.json.gz\nab12\nnull"
        );
    }

    #[test]
    fn metadata_names_are_matched_case_insensitively_with_or_without_prefix() {
        let meta = vec![
            ("X-Amz-Meta-Signature".to_owned(), "abcd".to_owned()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
        ];
        let d = DigestFile::with_metadata("b", "k", b"", &meta);
        assert_eq!(d.signature, Some("abcd"));
        assert_eq!(d.signature_algorithm, Some("SHA256withRSA"));
        let none = DigestFile::with_metadata("b", "k", b"", &[]);
        assert_eq!((none.signature, none.signature_algorithm), (None, None));
    }

    #[test]
    fn findings_read_as_sentences() {
        let altered = Finding::LogFileAltered {
            expected: "aa".into(),
            actual: Some("bb".into()),
            detail: None,
        };
        assert_eq!(
            altered.to_string(),
            "log file altered: SHA-256 of its content is bb, the digest lists aa"
        );
        let missing = Finding::DigestMissing {
            previous_bucket: "b".into(),
            previous_key: "k".into(),
        };
        assert_eq!(missing.to_string(), "previous digest missing: s3://b/k");
    }

    #[test]
    fn nothing_to_validate_is_not_valid() {
        let r = validate(&[], &[], &[], &ChainOptions::default());
        assert!(!r.valid);
        let log = LogFile {
            bucket: "b",
            key: "l.json.gz",
            raw: b"x",
        };
        let r = validate(&[], &[log], &[], &ChainOptions::default());
        assert_eq!(
            r.not_covered,
            vec![Uncovered {
                bucket: "b".into(),
                key: "l.json.gz".into()
            }]
        );
    }

    #[test]
    fn an_unreadable_digest_is_reported_with_its_key() {
        let d = DigestFile {
            bucket: "b",
            key: "d.json.gz",
            raw: b"not gzip",
            signature: None,
            signature_algorithm: None,
        };
        let r = validate(&[d], &[], &[], &ChainOptions::default());
        assert!(!r.valid);
        match &r.digests[0].findings[..] {
            [Finding::DigestUnreadable { detail }] => assert!(
                detail.starts_with("d.json.gz: not a valid gzip"),
                "{detail}"
            ),
            other => panic!("{other:?}"),
        }
    }
}
