//! Benchmark: verifying N Countersign signatures (DSSE envelopes over in-toto statements)
//! against raw ed25519 verification of the same signatures over the same bytes.
//!
//! ```text
//! cargo run --release -p countersign-core --example bench_dsse -- [N] [ROUNDS]
//! ```
//!
//! N (default 10,000) statements about N different records, each signed by one of 5 keys.
//! Alternately, ROUNDS times (default 5): `verify_envelope` on every envelope's JSON (parse,
//! base64, PAE, strict ed25519, statement parse, key, signer and subject checks), then only
//! `verify_strict` of every signature over its PAE bytes, prepared beforehand. Prints one JSON
//! line per round and a summary line with medians.

use std::time::Instant;

use countersign_core::digest::Sha256;
use countersign_core::signature::dsse::{pae, sign_statement, PAYLOAD_TYPE_IN_TOTO};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::predicate::{
    Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp,
};
use countersign_core::signature::statement::{Statement, Subject};
use countersign_core::signature::verify::{
    verify_envelope, EnrolledKey, KeyRegistry, Outcome, RecordRef,
};
use countersign_core::signature::{SigningKey, VerifyingKey};
use ed25519_dalek::Signature;
use time::macros::{datetime, offset};

struct Case {
    envelope_json: Vec<u8>,
    name: String,
    record: Sha256,
    pae: Vec<u8>,
    signature: Signature,
    key: VerifyingKey,
}

fn predicate(key: &SigningKey, who: usize) -> Predicate {
    Predicate {
        meaning: Meaning::Reviewed,
        reason: "All OQ cases reviewed; deviation DEV-0042 accepted.".into(),
        printed_name: format!("Signer {who}"),
        iam_arn: format!("arn:aws:iam::123456789012:user/signer-{who}"),
        key_id: KeyId::of(&key.verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-11-03 15:05:09.120 +01:00)),
        utc_offset: Offset::new(offset!(+1)),
        sts: StsEvidence {
            mfa_serial: format!("arn:aws:iam::123456789012:mfa/signer-{who}"),
            session_expires_at: UtcTimestamp::new(datetime!(2026-11-04 02:00:00 UTC)),
            server_time: Some(UtcTimestamp::new(datetime!(2026-11-03 14:00:00 UTC))),
        },
        policy: PolicyRef {
            version: 1,
            sha256: Sha256::of(b"policy"),
        },
        follows: vec![],
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);

    let keys: Vec<SigningKey> = (1..=5u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let mut registry = KeyRegistry::new();
    for (who, k) in keys.iter().enumerate() {
        registry.insert(EnrolledKey {
            public_key: k.verifying_key(),
            iam_arn: format!("arn:aws:iam::123456789012:user/signer-{who}"),
            printed_name: format!("Signer {who}"),
            revoked: false,
        });
    }
    let mut cases = Vec::with_capacity(n);
    for i in 0..n {
        let who = i % keys.len();
        let name = format!("run:LIMS/OQ/run-{i}");
        let record = Sha256::of(format!("record {i}").as_bytes());
        let statement = Statement::new(Subject::new(&name, record), predicate(&keys[who], who));
        let envelope = sign_statement(&statement, &keys[who])?;
        let payload = envelope.payload_bytes()?;
        let sig = envelope.signatures[0].sig.clone();
        let sig_bytes = base64_decode(&sig)?;
        cases.push(Case {
            envelope_json: envelope.to_canonical_json(),
            name,
            record,
            pae: pae(PAYLOAD_TYPE_IN_TOTO, &payload),
            signature: Signature::from_slice(&sig_bytes)?,
            key: keys[who].verifying_key(),
        });
    }

    let (mut dsse_s, mut raw_s) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let mut valid = 0usize;
        for c in &cases {
            let record = RecordRef {
                name: &c.name,
                sha256: c.record,
            };
            if matches!(
                verify_envelope(&c.envelope_json, &record, &registry),
                Outcome::Valid(_)
            ) {
                valid += 1;
            }
        }
        let d = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut raw_valid = 0usize;
        for c in &cases {
            if c.key.verify_strict(&c.pae, &c.signature).is_ok() {
                raw_valid += 1;
            }
        }
        let r = t.elapsed().as_secs_f64();
        if valid != n || raw_valid != n {
            return Err(format!("{valid} and {raw_valid} of {n} verified").into());
        }
        println!("{{\"round\":{round},\"dsse_s\":{d:.4},\"raw_ed25519_s\":{r:.4}}}");
        dsse_s.push(d);
        raw_s.push(r);
    }
    let (d, r) = (median(&mut dsse_s), median(&mut raw_s));
    println!(
        "{{\"envelopes\":{n},\"dsse_median_s\":{d:.4},\"dsse_min_s\":{:.4},\"dsse_max_s\":{:.4},\"raw_median_s\":{r:.4},\"raw_min_s\":{:.4},\"raw_max_s\":{:.4},\"ratio\":{:.3}}}",
        dsse_s[0],
        dsse_s[dsse_s.len() - 1],
        raw_s[0],
        raw_s[raw_s.len() - 1],
        r / d
    );
    Ok(())
}

fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text)
}
