//! Every verification outcome, each produced by the defect that should produce it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;

use super::dsse::{pae, sign_statement, Envelope, PAYLOAD_TYPE_IN_TOTO};
use super::golden_tests::{fixture_key, fixture_statement, record_digest, RECORD_NAME};
use super::key_id::KeyId;
use super::verify::{
    genuine_before_revocation, verify_envelope, EnrolledKey, KeyRegistry, Outcome, RecordRef,
};
use super::SigningKey;
use crate::canonical::canonical_json;
use crate::digest::Sha256;

fn dana() -> EnrolledKey {
    EnrolledKey {
        public_key: fixture_key().verifying_key(),
        iam_arn: "arn:aws:iam::123456789012:user/dana".into(),
        printed_name: "Dana Whitfield".into(),
        revoked: false,
    }
}

fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn registry() -> KeyRegistry {
    let mut r = KeyRegistry::new();
    r.insert(dana());
    r.insert(EnrolledKey {
        public_key: other_key().verifying_key(),
        iam_arn: "arn:aws:iam::123456789012:user/sam".into(),
        printed_name: "Sam Okafor".into(),
        revoked: false,
    });
    r
}

fn record() -> RecordRef<'static> {
    RecordRef {
        name: RECORD_NAME,
        sha256: record_digest(),
    }
}

fn good_envelope() -> Envelope {
    sign_statement(&fixture_statement(), &fixture_key()).unwrap()
}

fn check(env: &Envelope) -> Outcome {
    verify_envelope(&env.to_canonical_json(), &record(), &registry())
}

/// An envelope whose payload is exactly `payload`, correctly signed by `key`.
fn signed_raw(payload: &[u8], key: &SigningKey) -> Envelope {
    let sig = key.sign(&pae(PAYLOAD_TYPE_IN_TOTO, payload));
    Envelope {
        payload_type: PAYLOAD_TYPE_IN_TOTO.into(),
        payload: STANDARD.encode(payload),
        signatures: vec![super::dsse::EnvelopeSignature {
            keyid: KeyId::of(&key.verifying_key()).to_hex(),
            sig: STANDARD.encode(sig.to_bytes()),
        }],
    }
}

fn statement_json() -> serde_json::Value {
    serde_json::to_value(fixture_statement()).unwrap()
}

#[test]
fn a_good_signature_is_valid() {
    let env = good_envelope();
    match check(&env) {
        Outcome::Valid(v) => {
            assert_eq!(v.statement, fixture_statement());
            assert_eq!(v.key_id, KeyId::of(&fixture_key().verifying_key()));
            assert_eq!(v.envelope_sha256, env.digest());
        }
        other => panic!("expected valid, got {other:?}"),
    }
}

#[test]
fn a_changed_record_is_reported_as_changed_since_signing() {
    let current = Sha256::of(b"the run record, edited");
    let out = verify_envelope(
        &good_envelope().to_canonical_json(),
        &RecordRef {
            name: RECORD_NAME,
            sha256: current,
        },
        &registry(),
    );
    assert_eq!(
        out,
        Outcome::RecordChanged {
            signed: record_digest(),
            current
        }
    );
    assert_eq!(out.code(), "record_changed");
}

#[test]
fn a_signature_copied_onto_another_run_is_moved() {
    let out = verify_envelope(
        &good_envelope().to_canonical_json(),
        &RecordRef {
            name: "run:LIMS/OQ/2026-11-04-oq-2",
            sha256: record_digest(),
        },
        &registry(),
    );
    assert_eq!(
        out,
        Outcome::SignatureMoved {
            signed_for: RECORD_NAME.into()
        }
    );
}

#[test]
fn unknown_and_revoked_keys() {
    let env = good_envelope();
    let out = verify_envelope(&env.to_canonical_json(), &record(), &KeyRegistry::new());
    assert_eq!(
        out,
        Outcome::UnknownKey {
            key_id: env.signatures[0].keyid.clone()
        }
    );
    let mut garbled = env.clone();
    garbled.signatures[0].keyid = "not-a-key-id".into();
    assert!(matches!(check(&garbled), Outcome::UnknownKey { .. }));

    let mut revoked = KeyRegistry::new();
    let id = revoked.insert(EnrolledKey {
        revoked: true,
        ..dana()
    });
    let out = verify_envelope(&env.to_canonical_json(), &record(), &revoked);
    assert_eq!(out, Outcome::RevokedKey { key_id: id });

    // Genuine when it was made: every other check passes with the key as it stood.
    let json = env.to_canonical_json();
    let made = genuine_before_revocation(&out, &json, &record(), &revoked);
    assert!(matches!(made, Some(Outcome::Valid(_))), "{made:?}");
    // A forged envelope under a revoked key is not: revocation never hides another failure.
    let mut forged = env.clone();
    let mut sig = STANDARD.decode(&forged.signatures[0].sig).unwrap();
    sig[0] ^= 1;
    forged.signatures[0].sig = STANDARD.encode(sig);
    let forged = forged.to_canonical_json();
    let out = verify_envelope(&forged, &record(), &revoked);
    assert_eq!(out, Outcome::RevokedKey { key_id: id });
    assert_eq!(
        genuine_before_revocation(&out, &forged, &record(), &revoked),
        None
    );
    // Not revoked: nothing to say.
    let valid = verify_envelope(&json, &record(), &revoked.as_before_revocation());
    assert_eq!(
        genuine_before_revocation(&valid, &json, &record(), &revoked),
        None
    );
}

#[test]
fn an_enrolled_arn_signing_with_someone_elses_key_file_is_not_enrolled() {
    // Sam's identity in the statement, Dana's key file used to sign it.
    let mut st = fixture_statement();
    st.predicate.iam_arn = "arn:aws:iam::123456789012:user/sam".into();
    st.predicate.printed_name = "Sam Okafor".into();
    let out = check(&sign_statement(&st, &fixture_key()).unwrap());
    assert_eq!(
        out,
        Outcome::SignerNotEnrolled {
            key_id: KeyId::of(&fixture_key().verifying_key()),
            enrolled_arn: "arn:aws:iam::123456789012:user/dana".into(),
            claimed_arn: "arn:aws:iam::123456789012:user/sam".into(),
        }
    );
    // Right ARN, wrong printed name: the binding is all three.
    let mut st = fixture_statement();
    st.predicate.printed_name = "D. Whitfield".into();
    assert!(matches!(
        check(&sign_statement(&st, &fixture_key()).unwrap()),
        Outcome::SignerNotEnrolled { .. }
    ));
}

#[test]
fn tampering_is_a_bad_signature() {
    // Payload changed after signing.
    let mut env = good_envelope();
    let payload = env.payload_bytes().unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replace("DEV-0042", "DEV-0043");
    env.payload = STANDARD.encode(text.as_bytes());
    assert_eq!(check(&env), Outcome::BadSignature);

    // One bit of the signature flipped.
    let mut env = good_envelope();
    let mut sig = STANDARD.decode(&env.signatures[0].sig).unwrap();
    sig[10] ^= 1;
    env.signatures[0].sig = STANDARD.encode(&sig);
    assert_eq!(check(&env), Outcome::BadSignature);

    // Key id swapped to another enrolled key.
    let mut env = good_envelope();
    env.signatures[0].keyid = KeyId::of(&other_key().verifying_key()).to_hex();
    assert_eq!(check(&env), Outcome::BadSignature);

    // Subject digest edited inside the payload.
    let mut v = statement_json();
    v["subject"][0]["digest"]["sha256"] = Sha256::of(b"forged").to_hex().into();
    let mut env = good_envelope();
    env.payload = STANDARD.encode(canonical_json(&v).unwrap());
    assert_eq!(check(&env), Outcome::BadSignature);

    // The payload type is part of what is signed.
    let mut env = good_envelope();
    env.payload_type = "application/json".into();
    assert_eq!(
        check(&env),
        Outcome::UnsupportedVersion {
            found: "application/json".into()
        }
    );
}

#[test]
fn malformed_envelopes_say_what_is_wrong() {
    let detail = |o: Outcome| match o {
        Outcome::Malformed { detail } => detail,
        other => panic!("expected malformed, got {other:?}"),
    };
    let d = detail(verify_envelope(b"{", &record(), &registry()));
    assert!(d.contains("not a DSSE envelope"), "{d}");

    let mut two = good_envelope();
    two.signatures.push(two.signatures[0].clone());
    assert!(detail(check(&two)).contains("2 signatures"));

    let mut none = good_envelope();
    none.signatures.clear();
    assert!(detail(check(&none)).contains("0 signatures"));

    let mut short = good_envelope();
    short.signatures[0].sig = STANDARD.encode([0u8; 10]);
    assert!(detail(check(&short)).contains("10 bytes"));

    let mut junk = good_envelope();
    junk.signatures[0].sig = "%%%".into();
    assert!(detail(check(&junk)).contains("base64"));
}

#[test]
fn signed_but_malformed_payloads_are_malformed() {
    let detail = |payload: &[u8]| match check(&signed_raw(payload, &fixture_key())) {
        Outcome::Malformed { detail } => detail,
        other => panic!("expected malformed, got {other:?}"),
    };
    // Pretty-printed instead of canonical.
    let pretty = serde_json::to_vec_pretty(&statement_json()).unwrap();
    assert!(detail(&pretty).contains("canonical"));
    // Not JSON at all.
    assert!(detail(b"hello").contains("not JSON"));
    // Two subjects.
    let mut v = statement_json();
    let s = v["subject"][0].clone();
    v["subject"].as_array_mut().unwrap().push(s);
    assert!(detail(&canonical_json(&v).unwrap()).contains("2 subjects"));
    // An unknown predicate field.
    let mut v = statement_json();
    v["predicate"]["note"] = "x".into();
    assert!(detail(&canonical_json(&v).unwrap()).contains("note"));
    // Empty reason.
    let mut v = statement_json();
    v["predicate"]["reason"] = " ".into();
    assert!(detail(&canonical_json(&v).unwrap()).contains("reason"));
    // A meaning outside the closed list.
    let mut v = statement_json();
    v["predicate"]["meaning"] = "Witnessed".into();
    assert!(detail(&canonical_json(&v).unwrap()).contains("Witnessed"));
    // The statement names a different key than the one that signed.
    let mut v = statement_json();
    v["predicate"]["key_id"] = KeyId::of(&other_key().verifying_key()).to_hex().into();
    assert!(detail(&canonical_json(&v).unwrap()).contains("signed by key"));
}

#[test]
fn other_versions_are_unsupported_not_malformed() {
    let mut v = statement_json();
    v["predicateType"] = "https://countersign.dev/signature/v4".into();
    let out = check(&signed_raw(&canonical_json(&v).unwrap(), &fixture_key()));
    assert_eq!(
        out,
        Outcome::UnsupportedVersion {
            found: "https://countersign.dev/signature/v4".into()
        }
    );
    let mut v = statement_json();
    v["_type"] = "https://in-toto.io/Statement/v0.1".into();
    let out = check(&signed_raw(&canonical_json(&v).unwrap(), &fixture_key()));
    assert_eq!(
        out,
        Outcome::UnsupportedVersion {
            found: "https://in-toto.io/Statement/v0.1".into()
        }
    );
}

#[test]
fn a_non_canonical_envelope_still_verifies_and_digests_canonically() {
    let env = good_envelope();
    let pretty = serde_json::to_vec_pretty(&env).unwrap();
    match verify_envelope(&pretty, &record(), &registry()) {
        Outcome::Valid(v) => assert_eq!(v.envelope_sha256, env.digest()),
        other => panic!("expected valid, got {other:?}"),
    }
}
