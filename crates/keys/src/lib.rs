//! Signing keys at rest: each person's ed25519 key, encrypted with their passphrase.
//!
//! A key file (`countersign.key/v1`, documented in `docs/signature-format.md`) holds the public
//! key, its key id and the printed name in the clear, and the 32-byte secret seed sealed with
//! XChaCha20-Poly1305 under a key derived from the passphrase by argon2id (64 MiB, 3 passes,
//! 1 lane). The AEAD's associated data binds the format version and the key id, so a sealed
//! seed cannot be moved into another file unnoticed.
//!
//! Secrets have their own types: [`Passphrase`] and [`UnlockedKey`] zeroize on drop, print as
//! `<redacted>`, and cannot be serialised. Unlike the core, this crate does I/O (the key file)
//! and draws randomness (key generation, salt, nonce) from the operating system.
#![forbid(unsafe_code)]

mod error;
mod kdf;
mod key_file;
mod unlocked;
mod write;

pub use error::KeyError;
pub use kdf::KdfParams;
pub use key_file::{AeadSection, KdfSection, KeyFile, KEY_FILE_FORMAT_V1, MIN_PASSPHRASE_CHARS};
pub use unlocked::UnlockedKey;

/// A passphrase: zeroized when dropped, redacted in `Debug`. Never log it, never pass it in argv.
pub use countersign_core::secret::Passphrase;
