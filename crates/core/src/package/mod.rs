//! Validation packages: the manifest that lists every file with its role and digest, the
//! public-key and run-data files they carry, and offline verification of a package read from a
//! PDF, a folder or a zip. The format is `docs/package-format.md`.

pub mod approval;
pub mod manifest;
pub mod public_key;
pub mod publish;
pub mod run_data;
pub mod verify;

#[cfg(test)]
mod approval_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod test_people;
#[cfg(test)]
mod verify_tests;
