//! Signature envelopes made by the Rust code, checked by an independent verifier
//! (`tests/interop/verify_dsse.py`: Python `cryptography`, written from the format document).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // helpers outside #[test] functions

use std::path::{Path, PathBuf};
use std::process::Command;

use countersign_core::digest::Sha256;
use countersign_core::signature::dsse::{sign_statement, Envelope};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use countersign_core::signature::SigningKey;
use time::macros::{datetime, offset};

const RECORD: &str = "run:LIMS/PQ/2026-11-20-pq-3";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn record_digest() -> Sha256 {
    Sha256::of(b"pq run record bytes")
}

fn envelope(k: &SigningKey, follows: Vec<Sha256>) -> Envelope {
    let predicate = Predicate {
        meaning: Meaning::Approved,
        reason: "PQ acceptance criteria met; Zoë's deviation closed.".into(),
        printed_name: "Quinn Adeyemi".into(),
        iam_arn: "arn:aws:iam::123456789012:user/qa-quinn".into(),
        key_id: KeyId::of(&k.verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-11-21 09:12:00.5 -05:00)),
        utc_offset: Offset::new(offset!(-5)),
        sts: StsEvidence {
            mfa_serial: "arn:aws:iam::123456789012:mfa/qa-quinn".into(),
            session_expires_at: UtcTimestamp::new(datetime!(2026-11-21 20:00 UTC)),
            server_time: None,
        },
        policy: PolicyRef {
            version: 3,
            sha256: Sha256::of(b"policy v3"),
        },
        follows,
    };
    let statement = Statement::new(Subject::new(RECORD, record_digest()), predicate);
    sign_statement(&statement, k).unwrap()
}

/// Runs the Python verifier; returns (exit code, first output line).
fn python_verify(
    env_bytes: &[u8],
    public_key: &[u8; 32],
    name: &str,
    digest: Sha256,
) -> (i32, String) {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh to create the project's venv",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("envelope.json");
    std::fs::write(&file, env_bytes).unwrap();
    let out = Command::new(python)
        .arg(root().join("tests/interop/verify_dsse.py"))
        .arg(&file)
        .args(["--public-key", &hex::encode(public_key)])
        .args(["--record-name", name])
        .args(["--record-sha256", &digest.to_hex()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = stdout.lines().next().unwrap_or("").to_owned();
    (
        out.status.code().unwrap_or(-1),
        if first.is_empty() {
            String::from_utf8_lossy(&out.stderr).into_owned()
        } else {
            first
        },
    )
}

#[test]
fn the_independent_verifier_accepts_a_valid_envelope() {
    let k = key(1);
    let env = envelope(&k, vec![Sha256::of(b"earlier envelope")]);
    let pk = k.verifying_key().to_bytes();
    let (code, outcome) = python_verify(&env.to_canonical_json(), &pk, RECORD, record_digest());
    assert_eq!((code, outcome.as_str()), (0, "valid"));
    // Any JSON spelling of the envelope: only the payload is signed.
    let pretty = serde_json::to_vec_pretty(&env).unwrap();
    assert_eq!(python_verify(&pretty, &pk, RECORD, record_digest()).0, 0);
}

#[test]
fn the_independent_verifier_rejects_tampering() {
    let k = key(1);
    let pk = k.verifying_key().to_bytes();
    let env = envelope(&k, vec![]);

    // Tampered payload: one character of the reason changed, re-encoded.
    let mut t = env.clone();
    let payload = String::from_utf8(t.payload_bytes().unwrap()).unwrap();
    let forged = payload.replace("criteria met", "criteria mat");
    assert_ne!(forged, payload);
    t.payload = base64_std(forged.as_bytes());
    assert_eq!(
        python_verify(&t.to_canonical_json(), &pk, RECORD, record_digest()),
        (1, "bad_signature".to_owned())
    );

    // Tampered signature: one bit flipped.
    let mut t = env.clone();
    let mut sig = decode_std(&t.signatures[0].sig);
    sig[0] ^= 0x80;
    t.signatures[0].sig = base64_std(&sig);
    assert_eq!(
        python_verify(&t.to_canonical_json(), &pk, RECORD, record_digest()),
        (1, "bad_signature".to_owned())
    );

    // Wrong key: verified against someone else's public key.
    let other = key(2).verifying_key().to_bytes();
    assert_eq!(
        python_verify(&env.to_canonical_json(), &other, RECORD, record_digest()),
        (1, "unknown_key".to_owned())
    );

    // Wrong key that claims the right key id: signature made by key 2, labelled as key 1.
    let mut t = envelope(&key(2), vec![]);
    t.signatures[0].keyid = KeyId::of(&k.verifying_key()).to_hex();
    assert_eq!(
        python_verify(&t.to_canonical_json(), &pk, RECORD, record_digest()),
        (1, "bad_signature".to_owned())
    );

    // Moved to another record, and record changed since signing.
    assert_eq!(
        python_verify(
            &env.to_canonical_json(),
            &pk,
            "run:LIMS/PQ/other",
            record_digest()
        )
        .1,
        "signature_moved"
    );
    assert_eq!(
        python_verify(&env.to_canonical_json(), &pk, RECORD, Sha256::of(b"edited")).1,
        "record_changed"
    );
}

fn base64_std(bytes: &[u8]) -> String {
    // Standard base64 with padding, written out so this test does not depend on a base64 crate.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode_std(text: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let vals: Vec<u32> = text
        .bytes()
        .filter(|c| *c != b'=')
        .map(|c| A.iter().position(|a| *a == c).unwrap() as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[test]
fn base64_helpers_match_the_envelope_encoding() {
    let env = envelope(&key(3), vec![]);
    let payload = env.payload_bytes().unwrap();
    assert_eq!(base64_std(&payload), env.payload);
    assert_eq!(decode_std(&env.payload), payload);
}

/// Version 2 (the qualified-state meanings) verifies with the independent verifier too, and a
/// state meaning passed off as version 1 is refused by it as by Countersign.
#[test]
fn the_independent_verifier_reads_version_2_and_refuses_a_state_meaning_in_version_1() {
    use countersign_core::signature::statement::change_assessment_subject_name;
    let k = key(2);
    let pk = k.verifying_key().to_bytes();
    let name = change_assessment_subject_name("LIMS", &Sha256::of(b"a change"));
    let record = Sha256::of(b"an assessment record");
    let base = envelope(&k, vec![]);
    let mut statement =
        Statement::from_payload(&base.payload_bytes().unwrap()).expect("the fixture reads");
    statement.predicate.meaning = Meaning::Assessed;
    statement.subject = vec![Subject::new(name.clone(), record)];
    let v2 = Statement::new(statement.subject[0].clone(), statement.predicate.clone());
    assert_eq!(v2.predicate_type, "https://countersign.dev/signature/v2");
    let env = sign_statement(&v2, &k).unwrap();
    let (code, outcome) = python_verify(&env.to_canonical_json(), &pk, &name, record);
    assert_eq!((code, outcome.as_str()), (0, "valid"));

    // The same statement relabelled version 1, signed properly: damaged, not valid.
    let mut v1 = v2.clone();
    v1.predicate_type = "https://countersign.dev/signature/v1".into();
    let bytes = sign_statement(&v1, &k).unwrap().to_canonical_json();
    let (code, outcome) = python_verify(&bytes, &pk, &name, record);
    assert_eq!((code, outcome.as_str()), (1, "malformed"));
}
