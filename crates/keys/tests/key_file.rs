//! The key file: creation, unlocking, and each way it can be wrong.
#![allow(clippy::unwrap_used, clippy::panic)] // helpers outside #[test] functions: a failure is a test failure

use std::path::Path;

use countersign_core::signature::key_id::KeyId;
use countersign_keys::{KdfParams, KeyError, KeyFile, Passphrase, KEY_FILE_FORMAT_V1};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_owned())
}

fn create(path: &Path) -> KeyFile {
    let (file, _) = KeyFile::create_with_params(
        path,
        "Dana Whitfield",
        &pass("correct horse battery"),
        KdfParams::insecure_for_tests_only(),
    )
    .unwrap();
    file
}

#[test]
fn create_then_unlock_gives_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dana.key");
    let (file, unlocked) = KeyFile::create_with_params(
        &path,
        "  Dana Whitfield ",
        &pass("correct horse battery"),
        KdfParams::insecure_for_tests_only(),
    )
    .unwrap();
    assert_eq!(file.format, KEY_FILE_FORMAT_V1);
    assert_eq!(file.printed_name, "Dana Whitfield");
    assert_eq!(file.key_id, unlocked.key_id().to_hex());
    assert_eq!(KeyId::of(&unlocked.public_key()), unlocked.key_id());

    let read = KeyFile::read(&path).unwrap();
    assert_eq!(read, file);
    let again = read.unlock(&pass("correct horse battery")).unwrap();
    assert_eq!(again.public_key(), unlocked.public_key());
    assert_eq!(again.printed_name(), "Dana Whitfield");

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["kdf"]["alg"], "argon2id");
    assert_eq!(json["kdf"]["m"], 8);
    assert_eq!(json["aead"]["alg"], "xchacha20poly1305");
}

#[cfg(unix)]
#[test]
fn the_file_is_owner_only_and_no_temporary_is_left() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dana.key");
    create(&path);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("dana.key")]);
}

#[test]
fn an_existing_key_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dana.key");
    create(&path);
    let before = std::fs::read(&path).unwrap();
    let err = KeyFile::create_with_params(
        &path,
        "Someone Else",
        &pass("another passphrase"),
        KdfParams::insecure_for_tests_only(),
    )
    .unwrap_err();
    assert!(matches!(err, KeyError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("never overwritten"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_wrong_passphrase_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(&dir.path().join("k"));
    let err = file.unlock(&pass("correct horse battery!")).unwrap_err();
    assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err}");
    assert!(err.to_string().contains("wrong passphrase"));
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(&dir.path().join("k"));
    let unlocked = file.unlock(&pass("correct horse battery")).unwrap();
    let shown = format!("{unlocked:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(shown.contains(&file.key_id));
    let seed_hex = {
        // The seed is what the ciphertext hides; Debug must not show any 32-byte hex run.
        shown
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|run| run.len() >= 64)
    };
    assert!(!seed_hex, "{shown}");
}

#[test]
fn creation_refuses_weak_passphrases_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let p = KdfParams::insecure_for_tests_only();
    let path = dir.path().join("k");
    let err = KeyFile::create_with_params(&path, "Dana", &pass("short"), p).unwrap_err();
    assert!(matches!(err, KeyError::WeakPassphrase { min: 10 }), "{err}");
    let err = KeyFile::create_with_params(&path, "   ", &pass("long enough pass"), p).unwrap_err();
    assert!(matches!(err, KeyError::BadPrintedName { .. }), "{err}");
    let err =
        KeyFile::create_with_params(&path, "Dana\nW", &pass("long enough pass"), p).unwrap_err();
    assert!(matches!(err, KeyError::BadPrintedName { .. }), "{err}");
    assert!(!path.exists(), "nothing written for refused input");
}

fn tampered(file: &KeyFile, edit: impl Fn(&mut serde_json::Value)) -> Result<KeyFile, KeyError> {
    let mut v = serde_json::to_value(file).unwrap();
    edit(&mut v);
    KeyFile::from_json(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn damaged_or_foreign_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(&dir.path().join("k"));
    let malformed = |r: Result<KeyFile, KeyError>, needle: &str| match r {
        Err(KeyError::Malformed { detail, .. }) => {
            assert!(detail.contains(needle), "{needle}: {detail}")
        }
        other => panic!("{needle}: expected malformed, got {other:?}"),
    };
    malformed(KeyFile::from_json(b"{"), "not JSON");
    match tampered(&file, |v| v["format"] = "countersign.key/v2".into()) {
        Err(KeyError::UnsupportedFormat { found, .. }) => assert_eq!(found, "countersign.key/v2"),
        other => panic!("{other:?}"),
    }
    malformed(
        tampered(&file, |v| v["kdf"]["alg"] = "scrypt".into()),
        "kdf.alg",
    );
    malformed(
        tampered(&file, |v| v["aead"]["alg"] = "aes-gcm".into()),
        "aead.alg",
    );
    malformed(tampered(&file, |v| v["kdf"]["m"] = 1.into()), "m = 1 KiB");
    malformed(
        tampered(&file, |v| v["kdf"]["salt"] = "AAAA".into()),
        "kdf.salt is 3 bytes",
    );
    malformed(
        tampered(&file, |v| v["aead"]["nonce"] = "!".into()),
        "aead.nonce is not valid base64",
    );
    malformed(
        tampered(&file, |v| v["ciphertext"] = "AAAA".into()),
        "ciphertext",
    );
    malformed(tampered(&file, |v| v["extra"] = 1.into()), "extra");
    // Swapping in another public key is caught by the key id.
    let other = KeyFile::create_with_params(
        &dir.path().join("other"),
        "Sam Okafor",
        &pass("another passphrase"),
        KdfParams::insecure_for_tests_only(),
    )
    .unwrap()
    .0;
    malformed(
        tampered(&file, |v| v["public_key"] = other.public_key.clone().into()),
        "does not belong to its public key",
    );
    // Moving another file's sealed seed in (with its key id and public key) fails the AEAD,
    // because the salt/nonce and passphrase differ; with everything moved it is just the other file.
    let spliced = tampered(&file, |v| {
        v["ciphertext"] = other.ciphertext.clone().into();
    })
    .unwrap();
    assert!(matches!(
        spliced.unlock(&pass("correct horse battery")),
        Err(KeyError::WrongPassphrase { .. })
    ));
    // A key id edited together with a public key still must match the sealed seed's AAD.
    let relabelled = tampered(&file, |v| {
        v["key_id"] = other.key_id.clone().into();
        v["public_key"] = other.public_key.clone().into();
    })
    .unwrap();
    assert!(matches!(
        relabelled.unlock(&pass("correct horse battery")),
        Err(KeyError::WrongPassphrase { .. })
    ));
}

#[test]
fn reading_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.key");
    let err = KeyFile::read(&path).unwrap_err();
    assert!(matches!(err, KeyError::Io { .. }));
    assert!(err.to_string().contains("nope.key"), "{err}");
    std::fs::write(&path, b"garbage").unwrap();
    let err = KeyFile::read(&path).unwrap_err();
    assert!(err.to_string().contains("nope.key"), "{err}");
}

#[test]
fn the_unlocked_key_signs_verifiable_envelopes() {
    use countersign_core::signature::dsse::Envelope;
    let dir = tempfile::tempdir().unwrap();
    let file = create(&dir.path().join("k"));
    let key = file.unlock(&pass("correct horse battery")).unwrap();
    // A minimal statement built through the core types.
    let statement: countersign_core::signature::statement::Statement =
        serde_json::from_value(serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "run:LIMS/OQ/r1", "digest": {"sha256": "00".repeat(32)}}],
            "predicateType": "https://countersign.dev/signature/v1",
            "predicate": {
                "meaning": "Reviewed", "reason": "ok", "printed_name": "Dana Whitfield",
                "iam_arn": "arn:aws:iam::123456789012:user/dana", "key_id": file.key_id,
                "signed_at": "2026-11-03T14:05:09.120Z", "utc_offset": "+01:00",
                "sts": {"mfa_serial": "arn:aws:iam::123456789012:mfa/dana",
                        "session_expires_at": "2026-11-04T02:00:00.000Z", "server_time": null},
                "policy": {"version": 1, "sha256": "11".repeat(32)},
                "follows": []
            }
        }))
        .unwrap();
    let env: Envelope = key.sign(&statement).unwrap();
    assert_eq!(env.signatures[0].keyid, file.key_id);
    let mut registry = countersign_core::signature::verify::KeyRegistry::new();
    registry.insert(countersign_core::signature::verify::EnrolledKey {
        public_key: file.public_key().unwrap(),
        iam_arn: "arn:aws:iam::123456789012:user/dana".into(),
        printed_name: "Dana Whitfield".into(),
        revoked: false,
    });
    let out = countersign_core::signature::verify::verify_envelope(
        &env.to_canonical_json(),
        &countersign_core::signature::verify::RecordRef {
            name: "run:LIMS/OQ/r1",
            sha256: countersign_core::digest::Sha256::from_bytes([0; 32]),
        },
        &registry,
    );
    assert!(out.is_valid(), "{out:?}");
}
