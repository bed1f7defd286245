//! The environment of the service's own unit tests: a clock that moves only when told, no AWS
//! at all (a use case that reaches for AWS fails, naming it), and the cheap key derivation.

use std::path::Path;
use std::sync::Arc;

use countersign_aws::{AwsError, AwsErrorKind, AwsSettings};
use countersign_core::clock::ManualClock;
use countersign_keys::KdfParams;
use time::macros::datetime;

use crate::env::{AwsConnector, Connecting, Env};
use crate::Service;

/// Refuses every AWS connection: unit tests never reach AWS.
struct NoAws;

impl AwsConnector for NoAws {
    fn connect<'a>(&'a self, _settings: &'a AwsSettings) -> Connecting<'a> {
        Box::pin(async {
            Err(AwsError::new(
                AwsErrorKind::Other,
                "reach AWS (the service's unit tests have no AWS)",
            ))
        })
    }
}

/// The unit tests' environment.
pub(crate) fn env() -> Env {
    Env {
        clock: Arc::new(ManualClock::new(datetime!(2026-11-03 09:00:00 +01:00))),
        aws: Arc::new(NoAws),
        kdf: KdfParams::insecure_for_tests_only(),
    }
}

/// A service on a fresh home with the unit tests' environment.
pub(crate) fn service(home: &Path) -> Service {
    match Service::open(home, env()) {
        Ok(s) => s,
        Err(e) => panic!("could not open a test home: {e}"),
    }
}
