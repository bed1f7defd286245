//! Golden vectors: a fixed key and a fixed statement give fixed bytes, forever.
//!
//! If one of these assertions fails, the signature format changed: that is never allowed for
//! `https://countersign.dev/signature/v1`. Add a new version instead.

use time::macros::{datetime, offset};

use super::dsse::{decode_base64, pae, sign_statement, Envelope, PAYLOAD_TYPE_IN_TOTO};
use super::key_id::KeyId;
use super::predicate::{Meaning, Offset, PolicyRef, Predicate, StsEvidence, UtcTimestamp};
use super::statement::{Statement, Subject};
use super::SigningKey;
use crate::canonical::canonical_json;
use crate::digest::Sha256;

/// RFC 8032 §7.1 test 1 secret key.
pub(super) const SEED_HEX: &str =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

pub(super) fn fixture_key() -> SigningKey {
    let seed: [u8; 32] = hex::decode(SEED_HEX).unwrap().try_into().unwrap();
    SigningKey::from_bytes(&seed)
}

pub(super) const RECORD_NAME: &str = "run:LIMS/OQ/2026-11-03-oq-1";

pub(super) fn record_digest() -> Sha256 {
    Sha256::of(b"the run record")
}

pub(super) fn fixture_predicate(meaning: Meaning) -> Predicate {
    Predicate {
        meaning,
        reason: "All OQ cases reviewed; deviation DEV-0042 accepted.".into(),
        printed_name: "Dana Whitfield".into(),
        iam_arn: "arn:aws:iam::123456789012:user/dana".into(),
        key_id: KeyId::of(&fixture_key().verifying_key()),
        signed_at: UtcTimestamp::new(datetime!(2026-11-03 15:05:09.120 +01:00)),
        utc_offset: Offset::new(offset!(+1)),
        sts: StsEvidence {
            mfa_serial: "arn:aws:iam::123456789012:mfa/dana".into(),
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

pub(super) fn fixture_statement() -> Statement {
    Statement::new(
        Subject::new(RECORD_NAME, record_digest()),
        fixture_predicate(Meaning::Reviewed),
    )
}

const GOLDEN_KEY_ID: &str = "a42bbcc6bdf0cf620158cc9c1a2bbff7";

const GOLDEN_PAYLOAD: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"follows":[],"iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","meaning":"Reviewed","policy":{"sha256":"823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","version":1},"printed_name":"Dana Whitfield","reason":"All OQ cases reviewed; deviation DEV-0042 accepted.","signed_at":"2026-11-03T14:05:09.120Z","sts":{"mfa_serial":"arn:aws:iam::123456789012:mfa/dana","server_time":"2026-11-03T14:00:00.000Z","session_expires_at":"2026-11-04T02:00:00.000Z"},"utc_offset":"+01:00"},"predicateType":"https://countersign.dev/signature/v1","subject":[{"digest":{"sha256":"116f0b486097bbbda86602aa5b2d9a6024ea9e6a76add92580ea2f22ad691342"},"name":"run:LIMS/OQ/2026-11-03-oq-1"}]}"#;

const GOLDEN_PAE_HEX: &str = "\
    445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e20373738207b225f7479\
    7065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631222c22707265646963617465\
    223a7b22666f6c6c6f7773223a5b5d2c2269616d5f61726e223a2261726e3a6177733a69616d3a3a3132333435363738\
    393031323a757365722f64616e61222c226b65795f6964223a2261343262626363366264663063663632303135386363\
    39633161326262666637222c226d65616e696e67223a225265766965776564222c22706f6c696379223a7b2273686132\
    3536223a2238323334313264316561636236373935363232306535333239353966303130343630333035376338383730\
    343836336361333865376364313838666461383132222c2276657273696f6e223a317d2c227072696e7465645f6e616d\
    65223a2244616e6120576869746669656c64222c22726561736f6e223a22416c6c204f51206361736573207265766965\
    7765643b20646576696174696f6e204445562d303034322061636365707465642e222c227369676e65645f6174223a22\
    323032362d31312d30335431343a30353a30392e3132305a222c22737473223a7b226d66615f73657269616c223a2261\
    726e3a6177733a69616d3a3a3132333435363738393031323a6d66612f64616e61222c227365727665725f74696d6522\
    3a22323032362d31312d30335431343a30303a30302e3030305a222c2273657373696f6e5f657870697265735f617422\
    3a22323032362d31312d30345430323a30303a30302e3030305a227d2c227574635f6f6666736574223a222b30313a30\
    30227d2c2270726564696361746554797065223a2268747470733a2f2f636f756e7465727369676e2e6465762f736967\
    6e61747572652f7631222c227375626a656374223a5b7b22646967657374223a7b22736861323536223a223131366630\
    623438363039376262626461383636303261613562326439613630323465613965366137366164643932353830656132\
    6632326164363931333432227d2c226e616d65223a2272756e3a4c494d532f4f512f323032362d31312d30332d6f712d\
    31227d5d7d";

const GOLDEN_SIG_HEX: &str = "\
    93f17368f4b724638d8e7f2bda2e9e9511c7543c189cadf017d495e4009f448c\
    ef1e409405da72ea3218727294a49d893226ef0d8586ecc62a62bb94ea9efe07";

const GOLDEN_ENVELOPE: &str = r#"{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJwcmVkaWNhdGUiOnsiZm9sbG93cyI6W10sImlhbV9hcm4iOiJhcm46YXdzOmlhbTo6MTIzNDU2Nzg5MDEyOnVzZXIvZGFuYSIsImtleV9pZCI6ImE0MmJiY2M2YmRmMGNmNjIwMTU4Y2M5YzFhMmJiZmY3IiwibWVhbmluZyI6IlJldmlld2VkIiwicG9saWN5Ijp7InNoYTI1NiI6IjgyMzQxMmQxZWFjYjY3OTU2MjIwZTUzMjk1OWYwMTA0NjAzMDU3Yzg4NzA0ODYzY2EzOGU3Y2QxODhmZGE4MTIiLCJ2ZXJzaW9uIjoxfSwicHJpbnRlZF9uYW1lIjoiRGFuYSBXaGl0ZmllbGQiLCJyZWFzb24iOiJBbGwgT1EgY2FzZXMgcmV2aWV3ZWQ7IGRldmlhdGlvbiBERVYtMDA0MiBhY2NlcHRlZC4iLCJzaWduZWRfYXQiOiIyMDI2LTExLTAzVDE0OjA1OjA5LjEyMFoiLCJzdHMiOnsibWZhX3NlcmlhbCI6ImFybjphd3M6aWFtOjoxMjM0NTY3ODkwMTI6bWZhL2RhbmEiLCJzZXJ2ZXJfdGltZSI6IjIwMjYtMTEtMDNUMTQ6MDA6MDAuMDAwWiIsInNlc3Npb25fZXhwaXJlc19hdCI6IjIwMjYtMTEtMDRUMDI6MDA6MDAuMDAwWiJ9LCJ1dGNfb2Zmc2V0IjoiKzAxOjAwIn0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2NvdW50ZXJzaWduLmRldi9zaWduYXR1cmUvdjEiLCJzdWJqZWN0IjpbeyJkaWdlc3QiOnsic2hhMjU2IjoiMTE2ZjBiNDg2MDk3YmJiZGE4NjYwMmFhNWIyZDlhNjAyNGVhOWU2YTc2YWRkOTI1ODBlYTJmMjJhZDY5MTM0MiJ9LCJuYW1lIjoicnVuOkxJTVMvT1EvMjAyNi0xMS0wMy1vcS0xIn1dfQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"a42bbcc6bdf0cf620158cc9c1a2bbff7","sig":"k/FzaPS3JGONjn8r2i6elRHHVDwYnK3wF9SV5ACfRIzvHkCUBdpy6jIYcnKUpJ2JMibvDYWG7MYqYruU6p7+Bw=="}]}"#;

#[test]
fn key_id_of_the_rfc8032_test_key() {
    assert_eq!(
        KeyId::of(&fixture_key().verifying_key()).to_hex(),
        GOLDEN_KEY_ID
    );
}

#[test]
fn payload_is_the_frozen_canonical_statement() {
    let payload = canonical_json(&fixture_statement()).unwrap();
    assert_eq!(String::from_utf8(payload).unwrap(), GOLDEN_PAYLOAD);
}

#[test]
fn pae_bytes_are_frozen() {
    let bytes = pae(PAYLOAD_TYPE_IN_TOTO, GOLDEN_PAYLOAD.as_bytes());
    assert_eq!(hex::encode(&bytes), GOLDEN_PAE_HEX);
    let prefix = format!(
        "DSSEv1 28 application/vnd.in-toto+json {} ",
        GOLDEN_PAYLOAD.len()
    );
    assert!(bytes.starts_with(prefix.as_bytes()));
}

#[test]
fn signature_and_envelope_are_frozen() {
    let env = sign_statement(&fixture_statement(), &fixture_key()).unwrap();
    let sig = decode_base64(&env.signatures[0].sig).unwrap();
    assert_eq!(hex::encode(sig), GOLDEN_SIG_HEX);
    assert_eq!(
        String::from_utf8(env.to_canonical_json()).unwrap(),
        GOLDEN_ENVELOPE
    );
}

#[test]
fn the_golden_envelope_verifies_and_reads_back_the_statement() {
    let env = Envelope::from_json(GOLDEN_ENVELOPE.as_bytes()).unwrap();
    let sig: [u8; 64] = hex::decode(GOLDEN_SIG_HEX).unwrap().try_into().unwrap();
    fixture_key()
        .verifying_key()
        .verify_strict(
            &hex::decode(GOLDEN_PAE_HEX).unwrap(),
            &ed25519_dalek::Signature::from_bytes(&sig),
        )
        .unwrap();
    let statement = Statement::from_payload(&env.payload_bytes().unwrap()).unwrap();
    assert_eq!(statement, fixture_statement());
    assert_eq!(env.digest(), Sha256::of(GOLDEN_ENVELOPE.as_bytes()));
}

/// The hash of the second golden ledger event (docs/ledger-format.md): the head an audit-trail
/// review up to entry 2 binds.
const REVIEW_HEAD_HEX: &str = "c52a637ca5ef2fc4ed93d68cc747f3280302f172939d1b6d5ad038dde96e9e21";

fn review_statement() -> Statement {
    let head: [u8; 32] = hex::decode(REVIEW_HEAD_HEX).unwrap().try_into().unwrap();
    let mut predicate = fixture_predicate(Meaning::Reviewed);
    predicate.reason = "Audit trail reviewed up to entry 2; no unexplained changes.".into();
    Statement::new(
        Subject::new(
            super::statement::audit_trail_subject_name(2),
            Sha256::from_bytes(head),
        ),
        predicate,
    )
}

const GOLDEN_REVIEW_PAYLOAD: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"follows":[],"iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","meaning":"Reviewed","policy":{"sha256":"823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","version":1},"printed_name":"Dana Whitfield","reason":"Audit trail reviewed up to entry 2; no unexplained changes.","signed_at":"2026-11-03T14:05:09.120Z","sts":{"mfa_serial":"arn:aws:iam::123456789012:mfa/dana","server_time":"2026-11-03T14:00:00.000Z","session_expires_at":"2026-11-04T02:00:00.000Z"},"utc_offset":"+01:00"},"predicateType":"https://countersign.dev/signature/v1","subject":[{"digest":{"sha256":"c52a637ca5ef2fc4ed93d68cc747f3280302f172939d1b6d5ad038dde96e9e21"},"name":"audit-trail:2"}]}"#;
const GOLDEN_REVIEW_SIG_HEX: &str = "\
    5aeb793ca314eeb3d33f16b1c365f9d1d79f6a1182866d2827509ba5034064da\
    e19e6c05b187ff86cd322c531d8212a0416796972edcb5f5521a89aa6b19970d";

#[test]
fn an_audit_trail_review_is_an_addition_with_its_own_frozen_bytes() {
    // The subject name kind `audit-trail:<seq>` is an addition: the run vector above is
    // unchanged, and a review statement is encoded by the same rules.
    let payload = canonical_json(&review_statement()).unwrap();
    let text = String::from_utf8(payload).unwrap();
    let env = sign_statement(&review_statement(), &fixture_key()).unwrap();
    let sig = decode_base64(&env.signatures[0].sig).unwrap();
    assert_eq!(text, GOLDEN_REVIEW_PAYLOAD);
    assert_eq!(hex::encode(sig), GOLDEN_REVIEW_SIG_HEX);
    let back = Statement::from_payload(text.as_bytes()).unwrap();
    assert_eq!(back.subject[0].name, "audit-trail:2");
    assert_eq!(back.subject[0].digest.sha256.to_hex(), REVIEW_HEAD_HEX);
}

/// A version-2 statement: the §9 predicate with a qualified-state meaning and reason.
fn v2_statement(meaning: Meaning, name: String, record: &[u8], reason: &str) -> Statement {
    let mut predicate = fixture_predicate(meaning);
    predicate.reason = reason.into();
    Statement::new(Subject::new(name, Sha256::of(record)), predicate)
}

fn assessment_statement() -> Statement {
    v2_statement(
        Meaning::Assessed,
        super::statement::change_assessment_subject_name("LIMS", &Sha256::of(b"the change")),
        b"the assessment record",
        "Bucket policy opened for an audit export; reverted under CC-2026-0412.",
    )
}

fn periodic_review_statement() -> Statement {
    v2_statement(
        Meaning::PeriodicallyReviewed,
        super::statement::periodic_review_subject_name(
            "LIMS",
            "2026-11-01T00:00:00.000Z",
            "2026-12-01T00:00:00.000Z",
        ),
        b"the findings",
        "November reviewed: one change assessed, no gap.",
    )
}

const GOLDEN_ASSESSMENT_PAYLOAD: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"follows":[],"iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","meaning":"Assessed","policy":{"sha256":"823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","version":1},"printed_name":"Dana Whitfield","reason":"Bucket policy opened for an audit export; reverted under CC-2026-0412.","signed_at":"2026-11-03T14:05:09.120Z","sts":{"mfa_serial":"arn:aws:iam::123456789012:mfa/dana","server_time":"2026-11-03T14:00:00.000Z","session_expires_at":"2026-11-04T02:00:00.000Z"},"utc_offset":"+01:00"},"predicateType":"https://countersign.dev/signature/v2","subject":[{"digest":{"sha256":"2d26a937fa36820af0891033ab8b51653bc8c290f28a4e4be2c88ccc9e324bc2"},"name":"change-assessment:LIMS/8bb95c49bf5a7e79f29841c6511a0b7a619183f8ef244dbc0a956a30cbdf4a71"}]}"#;
const GOLDEN_ASSESSMENT_SIG_HEX: &str = "\
    7c693e674476398d611c15d32adea15bffa89da4e2aa3f8c77e87ef54df52e14\
    d75bb3cca73460354288445e9b436dc3a699b3d0fbba8618519e92638ed6c206";
const GOLDEN_PERIODIC_PAYLOAD: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"follows":[],"iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","meaning":"PeriodicallyReviewed","policy":{"sha256":"823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","version":1},"printed_name":"Dana Whitfield","reason":"November reviewed: one change assessed, no gap.","signed_at":"2026-11-03T14:05:09.120Z","sts":{"mfa_serial":"arn:aws:iam::123456789012:mfa/dana","server_time":"2026-11-03T14:00:00.000Z","session_expires_at":"2026-11-04T02:00:00.000Z"},"utc_offset":"+01:00"},"predicateType":"https://countersign.dev/signature/v2","subject":[{"digest":{"sha256":"de4a036681efdcb2e26f17ed63fd16ca2af5d623755efd7423b001c4dc8f3953"},"name":"periodic-review:LIMS/2026-11-01T00:00:00.000Z..2026-12-01T00:00:00.000Z"}]}"#;
const GOLDEN_PERIODIC_SIG_HEX: &str = "\
    7a6bffc427398d9478189869385089d0b7784c8153ec9fc5dbe18b6f485fbc09\
    a549df525f21586a0bd60c1cd8772ccfa90d973024692ea158c4bb03a4988f0f";

#[test]
fn version_2_statements_carry_the_state_meanings_with_their_own_frozen_bytes() {
    for (statement, payload, sig_hex) in [
        (
            assessment_statement(),
            GOLDEN_ASSESSMENT_PAYLOAD,
            GOLDEN_ASSESSMENT_SIG_HEX,
        ),
        (
            periodic_review_statement(),
            GOLDEN_PERIODIC_PAYLOAD,
            GOLDEN_PERIODIC_SIG_HEX,
        ),
    ] {
        let text = String::from_utf8(canonical_json(&statement).unwrap()).unwrap();
        let env = sign_statement(&statement, &fixture_key()).unwrap();
        let sig = hex::encode(decode_base64(&env.signatures[0].sig).unwrap());
        assert_eq!(text, payload);
        assert_eq!(sig, sig_hex);
        assert_eq!(
            statement.predicate_type,
            super::predicate::PREDICATE_TYPE_V2
        );
        assert_eq!(Statement::from_payload(text.as_bytes()).unwrap(), statement);
    }
}

#[test]
fn version_1_never_carries_a_state_meaning_and_version_2_carries_every_meaning() {
    // A v1 predicate with a state meaning is damaged, not new.
    let mut st = assessment_statement();
    st.predicate_type = super::predicate::PREDICATE_TYPE_V1.into();
    let bytes = canonical_json(&st).unwrap();
    assert!(matches!(
        Statement::from_payload(&bytes),
        Err(super::statement::StatementError::Malformed(m)) if m.contains("does not exist in signature predicate https://countersign.dev/signature/v1")
    ));
    // A record meaning written as v2 reads (v2 extends v1's list).
    let mut st = fixture_statement();
    st.predicate_type = super::predicate::PREDICATE_TYPE_V2.into();
    let bytes = canonical_json(&st).unwrap();
    assert_eq!(Statement::from_payload(&bytes).unwrap(), st);
    // A version this code does not know is reported as such.
    st.predicate_type = "https://countersign.dev/signature/v4".into();
    let bytes = canonical_json(&st).unwrap();
    assert!(matches!(
        Statement::from_payload(&bytes),
        Err(super::statement::StatementError::UnsupportedVersion { .. })
    ));
}

/// The re-open of the §9 run: version 3, the run's subject and the digest of its record as it
/// stood (the digest the §9 Reviewed signature signed), following that signature.
fn reopen_statement() -> Statement {
    let reviewed = Envelope::from_json(GOLDEN_ENVELOPE.as_bytes()).unwrap();
    let mut predicate = fixture_predicate(Meaning::Reopened);
    predicate.reason =
        "DEV-0042 was dispositioned against the wrong case; re-opened to correct it.".into();
    predicate.follows = vec![reviewed.digest()];
    let payload = reviewed.payload_bytes().unwrap();
    let signed = Statement::from_payload(&payload).unwrap();
    Statement::new(signed.subject[0].clone(), predicate)
}

const GOLDEN_REOPEN_PAYLOAD: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"follows":["bf85d7842dc9a7b3a027adca687133ba1ce62cd596a2149488f3f2d0ce81db07"],"iam_arn":"arn:aws:iam::123456789012:user/dana","key_id":"a42bbcc6bdf0cf620158cc9c1a2bbff7","meaning":"Reopened","policy":{"sha256":"823412d1eacb67956220e532959f0104603057c88704863ca38e7cd188fda812","version":1},"printed_name":"Dana Whitfield","reason":"DEV-0042 was dispositioned against the wrong case; re-opened to correct it.","signed_at":"2026-11-03T14:05:09.120Z","sts":{"mfa_serial":"arn:aws:iam::123456789012:mfa/dana","server_time":"2026-11-03T14:00:00.000Z","session_expires_at":"2026-11-04T02:00:00.000Z"},"utc_offset":"+01:00"},"predicateType":"https://countersign.dev/signature/v3","subject":[{"digest":{"sha256":"116f0b486097bbbda86602aa5b2d9a6024ea9e6a76add92580ea2f22ad691342"},"name":"run:LIMS/OQ/2026-11-03-oq-1"}]}"#;
const GOLDEN_REOPEN_SIG_HEX: &str = "\
    42d77c3f75fe4bfd5d088972cd0559adaf03aba32d08f8c07d19caadd5108e00\
    14ac776c8d0b39303c76bc569188e5c26bb9a5843fbb65d6176ac260040b2e09";

#[test]
fn a_re_open_is_version_3_with_its_own_frozen_bytes() {
    let statement = reopen_statement();
    let text = String::from_utf8(canonical_json(&statement).unwrap()).unwrap();
    let env = sign_statement(&statement, &fixture_key()).unwrap();
    let sig = hex::encode(decode_base64(&env.signatures[0].sig).unwrap());
    assert_eq!(text, GOLDEN_REOPEN_PAYLOAD);
    assert_eq!(sig, GOLDEN_REOPEN_SIG_HEX);
    assert_eq!(
        statement.predicate_type,
        super::predicate::PREDICATE_TYPE_V3
    );
    assert_eq!(Statement::from_payload(text.as_bytes()).unwrap(), statement);
    // Version 1 and 2 never carried it: such a statement is damaged, not new.
    for older in [
        super::predicate::PREDICATE_TYPE_V1,
        super::predicate::PREDICATE_TYPE_V2,
    ] {
        let mut st = statement.clone();
        st.predicate_type = older.into();
        assert!(matches!(
            Statement::from_payload(&canonical_json(&st).unwrap()),
            Err(super::statement::StatementError::Malformed(m)) if m.contains("Reopened")
        ));
    }
}
