//! The key file, format `countersign.key/v1`: public parts in the clear, the seed sealed.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use countersign_core::signature::key_id::KeyId;
use countersign_core::signature::{SigningKey, VerifyingKey};
use rand_core::{CryptoRng, OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::kdf::KdfParams;
use crate::unlocked::UnlockedKey;
use crate::write::write_new_file;
use crate::Passphrase;

/// The `format` tag of version 1 of the key file.
pub const KEY_FILE_FORMAT_V1: &str = "countersign.key/v1";
/// The shortest passphrase accepted when a key is created.
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// The largest key file accepted (real ones are about 500 bytes).
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
const KDF_ALG: &str = "argon2id";
const AEAD_ALG: &str = "xchacha20poly1305";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
/// Seed (32) + Poly1305 tag (16).
const CIPHERTEXT_LEN: usize = 48;

/// The argon2id section of a key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfSection {
    /// Always `argon2id` (version 0x13).
    pub alg: String,
    /// Memory, KiB.
    pub m: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
    /// 16 random bytes, base64.
    pub salt: String,
}

/// The AEAD section of a key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AeadSection {
    /// Always `xchacha20poly1305`.
    pub alg: String,
    /// 24 random bytes, base64.
    pub nonce: String,
}

/// A key file as stored: nothing in it is secret without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// Always [`KEY_FILE_FORMAT_V1`].
    pub format: String,
    /// The key id of `public_key`.
    pub key_id: String,
    /// The 32-byte ed25519 public key, base64.
    pub public_key: String,
    /// The owner's printed name.
    pub printed_name: String,
    /// How the encryption key is derived from the passphrase.
    pub kdf: KdfSection,
    /// How the seed is sealed.
    pub aead: AeadSection,
    /// The sealed 32-byte seed plus the 16-byte tag, base64.
    pub ciphertext: String,
}

/// The associated data of the seal: format tag, NUL, key id (hex).
fn aad(key_id: &str) -> Vec<u8> {
    let mut out = KEY_FILE_FORMAT_V1.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(key_id.as_bytes());
    out
}

fn random_bytes<const N: usize>(rng: &mut (impl RngCore + CryptoRng)) -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    rng.try_fill_bytes(&mut out).map_err(|e| KeyError::Random {
        detail: e.to_string(),
    })?;
    Ok(out)
}

fn decode_exact<const N: usize>(field: &str, text: &str) -> Result<[u8; N], String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| format!("{field} is not valid base64"))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{field} is {} bytes; expected {N}", bytes.len()))
}

impl KeyFile {
    /// Creates a new key for `printed_name` with the [`KdfParams::RECOMMENDED`] parameters and
    /// writes it to `path` (mode 0600, atomically, never over an existing file).
    pub fn create(
        path: &Path,
        printed_name: &str,
        passphrase: &Passphrase,
    ) -> Result<(KeyFile, UnlockedKey), KeyError> {
        Self::create_with_params(path, printed_name, passphrase, KdfParams::RECOMMENDED)
    }

    /// [`Self::create`] with explicit KDF parameters (tests use
    /// [`KdfParams::insecure_for_tests_only`]).
    pub fn create_with_params(
        path: &Path,
        printed_name: &str,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<(KeyFile, UnlockedKey), KeyError> {
        if path.exists() {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            });
        }
        let seed = Zeroizing::new(random_bytes::<32>(&mut OsRng)?);
        let signing = SigningKey::from_bytes(&seed);
        let file = Self::seal(&signing, printed_name, passphrase, params, &mut OsRng)?;
        write_new_file(path, &file.to_json())?;
        let unlocked = UnlockedKey::new(signing, file.printed_name.clone());
        Ok((file, unlocked))
    }

    /// Seals `key` for `printed_name` under `passphrase`; salt and nonce come from `rng`.
    pub fn seal(
        key: &SigningKey,
        printed_name: &str,
        passphrase: &Passphrase,
        params: KdfParams,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<KeyFile, KeyError> {
        let printed_name = printed_name.trim();
        if printed_name.is_empty() {
            return Err(KeyError::BadPrintedName { problem: "empty" });
        }
        if printed_name.chars().any(char::is_control) {
            return Err(KeyError::BadPrintedName {
                problem: "not printable (it contains control characters)",
            });
        }
        if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeyError::WeakPassphrase {
                min: MIN_PASSPHRASE_CHARS,
            });
        }
        let salt = random_bytes::<SALT_LEN>(rng)?;
        let nonce = random_bytes::<NONCE_LEN>(rng)?;
        let public = key.verifying_key();
        let key_id = KeyId::of(&public).to_hex();
        let kek = params.derive(passphrase.expose(), &salt)?;
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad: &aad(&key_id),
                },
            )
            .map_err(|_| KeyError::Kdf {
                detail: "the seal could not be computed".into(),
            })?;
        Ok(KeyFile {
            format: KEY_FILE_FORMAT_V1.to_owned(),
            key_id,
            public_key: STANDARD.encode(public.as_bytes()),
            printed_name: printed_name.to_owned(),
            kdf: KdfSection {
                alg: KDF_ALG.to_owned(),
                m: params.m_kib,
                t: params.t,
                p: params.p,
                salt: STANDARD.encode(salt),
            },
            aead: AeadSection {
                alg: AEAD_ALG.to_owned(),
                nonce: STANDARD.encode(nonce),
            },
            ciphertext: STANDARD.encode(ciphertext),
        })
    }

    /// Reads and checks a key file (its structure, not the passphrase).
    pub fn read(path: &Path) -> Result<KeyFile, KeyError> {
        let io = |action, source| KeyError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        let len = std::fs::metadata(path).map_err(|e| io("read", e))?.len();
        if len > MAX_KEY_FILE_BYTES {
            return Err(KeyError::Malformed {
                path: path.to_path_buf(),
                detail: format!("it is {len} bytes; a key file is under 64 KiB"),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| io("read", e))?;
        Self::from_json(&bytes).map_err(|e| match e {
            KeyError::Malformed { detail, .. } => KeyError::Malformed {
                path: path.to_path_buf(),
                detail,
            },
            KeyError::UnsupportedFormat { found, .. } => KeyError::UnsupportedFormat {
                path: path.to_path_buf(),
                found,
            },
            other => other,
        })
    }

    /// Parses and checks key-file bytes.
    pub fn from_json(bytes: &[u8]) -> Result<KeyFile, KeyError> {
        let malformed = |detail: String| KeyError::Malformed {
            path: PathBuf::new(),
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(KEY_FILE_FORMAT_V1) => {}
            found => {
                return Err(KeyError::UnsupportedFormat {
                    path: PathBuf::new(),
                    found: found.unwrap_or("(missing)").to_owned(),
                })
            }
        }
        let file: KeyFile = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        file.check().map_err(malformed)?;
        Ok(file)
    }

    fn check(&self) -> Result<(), String> {
        if self.kdf.alg != KDF_ALG {
            return Err(format!(
                "kdf.alg is {:?}; expected {KDF_ALG:?}",
                self.kdf.alg
            ));
        }
        if self.aead.alg != AEAD_ALG {
            return Err(format!(
                "aead.alg is {:?}; expected {AEAD_ALG:?}",
                self.aead.alg
            ));
        }
        self.kdf_params().check().map_err(|e| e.to_string())?;
        decode_exact::<SALT_LEN>("kdf.salt", &self.kdf.salt)?;
        decode_exact::<NONCE_LEN>("aead.nonce", &self.aead.nonce)?;
        decode_exact::<CIPHERTEXT_LEN>("ciphertext", &self.ciphertext)?;
        let public = self.verifying_key()?;
        let derived = KeyId::of(&public).to_hex();
        if derived != self.key_id {
            return Err(format!(
                "key_id {} does not belong to its public key (which has key id {derived})",
                self.key_id
            ));
        }
        if self.printed_name.trim().is_empty() {
            return Err("printed_name is empty".into());
        }
        Ok(())
    }

    fn kdf_params(&self) -> KdfParams {
        KdfParams {
            m_kib: self.kdf.m,
            t: self.kdf.t,
            p: self.kdf.p,
        }
    }

    fn verifying_key(&self) -> Result<VerifyingKey, String> {
        let bytes = decode_exact::<32>("public_key", &self.public_key)?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| "public_key is not an ed25519 point".into())
    }

    /// The public key (checked when the file was read).
    pub fn public_key(&self) -> Result<VerifyingKey, KeyError> {
        self.verifying_key().map_err(|detail| KeyError::Malformed {
            path: PathBuf::new(),
            detail,
        })
    }

    /// The file's JSON, pretty-printed with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Opens the sealed seed with `passphrase`.
    pub fn unlock(&self, passphrase: &Passphrase) -> Result<UnlockedKey, KeyError> {
        self.check().map_err(|detail| KeyError::Malformed {
            path: PathBuf::new(),
            detail,
        })?;
        let malformed = |detail: String| KeyError::Malformed {
            path: PathBuf::new(),
            detail,
        };
        let salt = decode_exact::<SALT_LEN>("kdf.salt", &self.kdf.salt).map_err(malformed)?;
        let nonce = decode_exact::<NONCE_LEN>("aead.nonce", &self.aead.nonce).map_err(malformed)?;
        let ciphertext =
            decode_exact::<CIPHERTEXT_LEN>("ciphertext", &self.ciphertext).map_err(malformed)?;
        let kek = self.kdf_params().derive(passphrase.expose(), &salt)?;
        let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad(&self.key_id),
                    },
                )
                .map_err(|_| KeyError::WrongPassphrase {
                    key_id: self.key_id.clone(),
                })?,
        );
        let mut seed = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(malformed("the sealed seed is not 32 bytes".into()));
        }
        seed.copy_from_slice(&plain);
        let signing = SigningKey::from_bytes(&seed);
        if signing.verifying_key().as_bytes() != self.public_key()?.as_bytes() {
            return Err(malformed(
                "the sealed seed does not belong to the file's public key".into(),
            ));
        }
        Ok(UnlockedKey::new(signing, self.printed_name.clone()))
    }
}
