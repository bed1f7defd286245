//! Signing keys at rest.
#![forbid(unsafe_code)]
