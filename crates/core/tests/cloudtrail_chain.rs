//! CloudTrail digest-chain validation on chains signed in the test with a fresh RSA key: a
//! correct chain validates; each kind of tampering is reported precisely on the file concerned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::OnceLock;

use countersign_core::cloudtrail::digest_chain::{
    data_signing_string, validate, ChainOptions, ChainReport, DigestFile, Finding, LogFile,
};
use countersign_core::cloudtrail::gunzip::GunzipError;
use countersign_core::cloudtrail::public_key::{parse_public_keys, TrailPublicKey};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::json;
use sha2::{Digest, Sha256};

const BUCKET: &str = "trail-bucket";

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct Signer_ {
    signing: SigningKey<Sha256>,
    keys: Vec<TrailPublicKey>,
}

fn private_key(slot: usize) -> &'static Signer_ {
    static KEYS: [OnceLock<Signer_>; 2] = [OnceLock::new(), OnceLock::new()];
    KEYS[slot].get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        Signer_ {
            keys: parse_public_keys("test.pem", pem.as_bytes()).unwrap(),
            signing: SigningKey::<Sha256>::new(private),
        }
    })
}

/// A stored object: key, raw bytes, metadata.
#[derive(Clone)]
struct Object {
    key: String,
    raw: Vec<u8>,
    metadata: Vec<(String, String)>,
}

struct Chain {
    digests: Vec<Object>,
    logs: Vec<Object>,
}

fn log_key(hour: u32, n: u32) -> String {
    format!("AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/02/123456789012_CloudTrail_eu-west-1_20261102T{hour:02}{n:02}Z_abc.json.gz")
}

fn digest_key(hour: u32) -> String {
    format!("AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/11/02/123456789012_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261102T{hour:02}0000Z.json.gz")
}

/// `hours` hourly digests, each covering two log files, chained and signed by key `slot`.
/// `times` can override (start hour, end hour) per digest.
fn chain_with(hours: u32, slot: usize, times: &dyn Fn(u32) -> (u32, u32)) -> Chain {
    let signer = private_key(slot);
    let mut digests = Vec::new();
    let mut logs = Vec::new();
    let mut previous: Option<(String, String, String)> = None;
    for h in 0..hours {
        let mut entries = Vec::new();
        for n in 0..2 {
            let key = log_key(h, n * 5);
            let body = serde_json::to_vec(&json!({"Records": [{
                "eventTime": format!("2026-11-02T{h:02}:{:02}:00Z", n * 5),
                "eventSource": "s3.amazonaws.com", "eventName": "GetBucketAcl",
                "requestParameters": {"bucketName": "lims-raw"}
            }]}))
            .unwrap();
            entries.push(json!({"s3Bucket": BUCKET, "s3Object": key, "hashValue": sha_hex(&body), "hashAlgorithm": "SHA-256"}));
            logs.push(Object {
                key,
                raw: gz(&body),
                metadata: vec![],
            });
        }
        let (start, end) = times(h);
        let key = digest_key(end);
        let end_text = format!("2026-11-02T{end:02}:00:00Z");
        let digest = json!({
            "awsAccountId": "123456789012",
            "digestStartTime": format!("2026-11-02T{start:02}:00:00Z"),
            "digestEndTime": end_text,
            "digestS3Bucket": BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": signer.keys[0].fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.as_ref().map(|_| BUCKET),
            "previousDigestS3Object": previous.as_ref().map(|p| p.0.clone()),
            "previousDigestHashValue": previous.as_ref().map(|p| p.1.clone()),
            "previousDigestHashAlgorithm": previous.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": previous.as_ref().map(|p| p.2.clone()),
            "logFiles": entries
        });
        let body = serde_json::to_vec(&digest).unwrap();
        let hash = sha_hex(&body);
        let prev_sig = previous
            .as_ref()
            .map_or("null", |p| p.2.as_str())
            .to_owned();
        let signing = data_signing_string(&end_text, BUCKET, &key, &hash, &prev_sig);
        let signature = hex::encode(signer.signing.sign(signing.as_bytes()).to_bytes());
        digests.push(Object {
            key: key.clone(),
            raw: gz(&body),
            metadata: vec![
                ("signature".into(), signature.clone()),
                ("signature-algorithm".into(), "SHA256withRSA".into()),
            ],
        });
        previous = Some((key, hash, signature));
    }
    Chain { digests, logs }
}

fn chain(hours: u32) -> Chain {
    chain_with(hours, 0, &|h| (h + 1, h + 2))
}

fn run(chain: &Chain, keys: &[TrailPublicKey]) -> ChainReport {
    let digests: Vec<DigestFile<'_>> = chain
        .digests
        .iter()
        .map(|d| DigestFile::with_metadata(BUCKET, &d.key, &d.raw, &d.metadata))
        .collect();
    let logs: Vec<LogFile<'_>> = chain
        .logs
        .iter()
        .map(|l| LogFile {
            bucket: BUCKET,
            key: &l.key,
            raw: &l.raw,
        })
        .collect();
    validate(&digests, &logs, keys, &ChainOptions::default())
}

fn keys() -> &'static [TrailPublicKey] {
    &private_key(0).keys
}

/// The findings, as (key, finding), sorted for stable comparison.
fn findings(r: &ChainReport) -> Vec<(String, Finding)> {
    r.findings()
        .into_iter()
        .map(|(k, f)| (k.to_owned(), f.clone()))
        .collect()
}

#[test]
fn a_correctly_signed_chain_is_valid_in_every_file() {
    let c = chain(4);
    let r = run(&c, keys());
    assert!(r.valid, "{r:#?}");
    assert_eq!(r.digests.len(), 4);
    assert!(r.digests.iter().all(|d| d.valid && d.log_files == 2));
    assert_eq!(r.log_files.len(), 8);
    assert!(r.log_files.iter().all(|l| l.valid));
    assert!(r.not_covered.is_empty());
    // Input order does not matter: the chain is ordered by time.
    let mut shuffled = chain(0);
    shuffled.logs = c.logs.clone();
    shuffled.digests = c.digests.iter().rev().cloned().collect();
    let r2 = run(&shuffled, keys());
    assert!(r2.valid);
    assert_eq!(r2.digests[0].key, digest_key(2));
}

#[test]
fn an_altered_log_file_is_reported_with_both_hashes() {
    let mut c = chain(3);
    let original = c.logs[3].raw.clone();
    let changed = br#"{"Records":[]}"#;
    c.logs[3].raw = gz(changed);
    let r = run(&c, keys());
    assert!(!r.valid);
    let expected_hash = {
        let mut d = flate2::read::GzDecoder::new(&original[..]);
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut s).unwrap();
        sha_hex(&s)
    };
    assert_eq!(
        findings(&r),
        vec![(
            log_key(1, 5),
            Finding::LogFileAltered {
                expected: expected_hash,
                actual: Some(sha_hex(changed)),
                detail: None
            }
        )]
    );
    assert!(
        r.digests.iter().all(|d| d.valid),
        "the digests themselves are intact"
    );
}

#[test]
fn a_log_file_damaged_in_its_compression_is_altered_without_an_actual_hash() {
    let mut c = chain(2);
    let n = c.logs[0].raw.len();
    c.logs[0].raw[n / 2] ^= 1;
    let r = run(&c, keys());
    match &findings(&r)[..] {
        [(
            key,
            Finding::LogFileAltered {
                actual: None,
                detail: Some(d),
                ..
            },
        )] => {
            assert_eq!(key, &log_key(0, 0));
            assert!(d.contains("not a valid gzip file"), "{d}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_log_file_is_reported_and_an_extra_one_is_not_covered() {
    let mut c = chain(3);
    let removed = c.logs.remove(2);
    c.logs.push(Object {
        key: "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/02/extra.json.gz".into(),
        raw: gz(b"{\"Records\":[]}"),
        metadata: vec![],
    });
    let r = run(&c, keys());
    assert!(!r.valid);
    assert_eq!(findings(&r), vec![(removed.key, Finding::LogFileMissing)]);
    assert_eq!(r.not_covered.len(), 1);
    assert!(r.not_covered[0].key.ends_with("extra.json.gz"));
}

#[test]
fn a_missing_digest_is_reported_on_the_digest_that_links_to_it() {
    let mut c = chain(4);
    c.digests.remove(1);
    let r = run(&c, keys());
    assert!(!r.valid);
    assert_eq!(
        findings(&r),
        vec![(
            digest_key(4),
            Finding::DigestMissing {
                previous_bucket: BUCKET.into(),
                previous_key: digest_key(3)
            }
        )]
    );
    // The logs only the missing digest listed are no longer covered.
    assert_eq!(r.not_covered.len(), 2);
    assert_eq!(r.not_covered[0].key, log_key(1, 0));
}

#[test]
fn an_unsigned_digest_is_reported_and_breaks_the_next_link() {
    let mut c = chain(3);
    c.digests[1].metadata.clear();
    let r = run(&c, keys());
    let f = findings(&r);
    assert_eq!(f[0], (digest_key(3), Finding::DigestUnsigned));
    match &f[1..] {
        [(key, Finding::ChainBroken { field, actual, .. })] => {
            assert_eq!(key, &digest_key(4));
            assert_eq!(field, "previousDigestSignature");
            assert_eq!(actual, "(unsigned)");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_digest_fails_its_signature_and_the_next_link() {
    let mut c = chain(3);
    // Rewrite digest 2 (different log hash), keeping its old signature.
    let mut d = flate2::read::GzDecoder::new(&c.digests[1].raw[..]);
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut d, &mut body).unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    doc["logFiles"][0]["hashValue"] = json!("0".repeat(64));
    c.digests[1].raw = gz(&serde_json::to_vec(&doc).unwrap());
    let r = run(&c, keys());
    let f = findings(&r);
    assert!(
        matches!(&f[0], (k, Finding::DigestSignatureInvalid { .. }) if *k == digest_key(3)),
        "{f:?}"
    );
    assert!(
        matches!(&f[1], (k, Finding::ChainBroken { field, .. }) if *k == digest_key(4) && field == "previousDigestHashValue"),
        "{f:?}"
    );
    assert!(
        matches!(&f[2], (k, Finding::LogFileAltered { expected, .. }) if *k == log_key(1, 0) && *expected == "0".repeat(64)),
        "{f:?}"
    );
    assert_eq!(f.len(), 3);
}

#[test]
fn a_signature_that_is_not_hex_or_uses_another_algorithm_is_invalid() {
    let mut c = chain(1);
    c.digests[0].metadata[0].1 = "zz".into();
    let r = run(&c, keys());
    assert!(
        matches!(&findings(&r)[..], [(_, Finding::DigestSignatureInvalid { detail })] if detail.contains("not hex"))
    );
    let mut c = chain(1);
    c.digests[0].metadata[1].1 = "SHA1withRSA".into();
    let r = run(&c, keys());
    assert!(
        matches!(&findings(&r)[..], [(_, Finding::DigestSignatureInvalid { detail })] if detail.contains("SHA1withRSA"))
    );
}

#[test]
fn a_wrong_key_is_an_unknown_public_key_and_no_key_is_not_checked() {
    let c = chain(2);
    let r = run(&c, &private_key(1).keys);
    assert!(!r.valid);
    let fp = keys()[0].fingerprint.clone();
    assert_eq!(
        findings(&r),
        vec![
            (
                digest_key(2),
                Finding::UnknownPublicKey {
                    fingerprint: fp.clone()
                }
            ),
            (digest_key(3), Finding::UnknownPublicKey { fingerprint: fp }),
        ]
    );
    // A different key under the right fingerprint fails the signature itself.
    let forged = vec![TrailPublicKey {
        fingerprint: keys()[0].fingerprint.clone(),
        key: private_key(1).keys[0].key.clone(),
    }];
    let r = run(&c, &forged);
    assert!(r
        .digests
        .iter()
        .all(|d| matches!(d.findings[..], [Finding::DigestSignatureInvalid { .. }])));
    let r = run(&c, &[]);
    assert!(!r.valid);
    assert!(r
        .digests
        .iter()
        .all(|d| d.findings == [Finding::SignatureNotChecked]));
}

#[test]
fn a_digest_out_of_time_order_is_reported() {
    // Digest 1 (hours 1→2) is followed by a digest that claims hours 0→1: it links back to a
    // digest that is later in time.
    let c = chain_with(2, 0, &|h| if h == 0 { (1, 2) } else { (0, 1) });
    let r = run(&c, keys());
    assert!(!r.valid);
    match &findings(&r)[..] {
        [(key, Finding::OutOfOrder { detail })] => {
            assert_eq!(key, &digest_key(1));
            assert!(detail.contains("before it is none"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // A gap: the third digest starts an hour after the second ended.
    let c = chain_with(3, 0, &|h| {
        if h == 2 {
            (h + 2, h + 3)
        } else {
            (h + 1, h + 2)
        }
    });
    let r = run(&c, keys());
    match &findings(&r)[..] {
        [(key, Finding::OutOfOrder { detail })] => {
            assert_eq!(key, &digest_key(5));
            assert!(
                detail.contains("2026-11-02T04:00:00Z") && detail.contains("2026-11-02T03:00:00Z"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn swapped_digest_files_are_reported_as_moved_and_out_of_order() {
    let mut c = chain(3);
    let (a, b) = (c.digests[1].clone(), c.digests[2].clone());
    c.digests[1].raw = b.raw;
    c.digests[1].metadata = b.metadata;
    c.digests[2].raw = a.raw;
    c.digests[2].metadata = a.metadata;
    let r = run(&c, keys());
    assert!(!r.valid);
    let f = findings(&r);
    for key in [digest_key(3), digest_key(4)] {
        assert!(
            f.iter()
                .any(|(k, x)| *k == key && matches!(x, Finding::DigestMoved { .. })),
            "{key}: {f:?}"
        );
    }
    assert!(
        f.iter()
            .any(|(_, x)| matches!(x, Finding::OutOfOrder { .. } | Finding::ChainBroken { .. })),
        "{f:?}"
    );
}

#[test]
fn a_digest_bomb_is_bounded() {
    let mut c = chain(1);
    c.digests[0].raw = gz(&vec![b' '; 2 * 1024 * 1024]);
    let digests = [DigestFile::with_metadata(
        BUCKET,
        &c.digests[0].key,
        &c.digests[0].raw,
        &c.digests[0].metadata,
    )];
    let r = validate(
        &digests,
        &[],
        keys(),
        &ChainOptions {
            max_decompressed: 1024 * 1024,
        },
    );
    let expected = GunzipError::TooLarge {
        key: digest_key(2),
        limit: 1024 * 1024,
    }
    .to_string();
    assert_eq!(
        r.digests[0].findings,
        vec![Finding::DigestUnreadable { detail: expected }]
    );
}
