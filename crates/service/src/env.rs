//! What a [`crate::Service`] takes from the world besides its home: the clock, the way to reach
//! AWS, and the key-derivation cost. Production code uses [`Env::system`] (or
//! [`Env::desktop`]); tests build an `Env` with a clock they move and a connector that reaches
//! the local emulator, so every use case is exercised through its one public entry.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use countersign_aws::{AwsContext, AwsError, AwsSettings};
use countersign_core::clock::Clock;
use countersign_keys::KdfParams;
use time::{OffsetDateTime, UtcOffset};

/// A future returned by [`AwsConnector::connect`].
pub type Connecting<'a> = Pin<Box<dyn Future<Output = Result<AwsContext, AwsError>> + Send + 'a>>;

/// Turns the user's AWS choices (profile, region, endpoint) into a ready context.
pub trait AwsConnector: Send + Sync {
    /// Resolves `settings` the way the AWS CLI would.
    fn connect<'a>(&'a self, settings: &'a AwsSettings) -> Connecting<'a>;
}

/// The AWS SDK's own resolution: environment, `~/.aws/config`, profiles, SSO caches.
#[derive(Debug, Clone, Copy, Default)]
pub struct SdkConnector;

impl AwsConnector for SdkConnector {
    fn connect<'a>(&'a self, settings: &'a AwsSettings) -> Connecting<'a> {
        Box::pin(AwsContext::load(settings))
    }
}

/// The system clock, reported in a fixed UTC offset (the desktop's, or UTC on the command line).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    offset: UtcOffset,
}

impl SystemClock {
    /// The system clock in UTC.
    pub fn utc() -> Self {
        Self {
            offset: UtcOffset::UTC,
        }
    }

    /// The system clock, reported in `offset`.
    pub fn with_offset(offset: UtcOffset) -> Self {
        Self { offset }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.offset)
    }
}

/// The service's environment.
#[derive(Clone)]
pub struct Env {
    /// The one source of "now" for records, signatures and sessions.
    pub clock: Arc<dyn Clock>,
    /// How AWS contexts are made from the user's settings.
    pub aws: Arc<dyn AwsConnector>,
    /// The argon2id cost of new key files.
    pub kdf: KdfParams,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("now", &self.clock.now())
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// The command line's environment: the system clock in UTC, the SDK's AWS resolution, the
    /// recommended key-derivation cost.
    pub fn system() -> Self {
        Self::desktop(UtcOffset::UTC)
    }

    /// The desktop's environment: as [`Env::system`], with times reported in the desktop's
    /// UTC offset.
    pub fn desktop(offset: UtcOffset) -> Self {
        Self {
            clock: Arc::new(SystemClock::with_offset(offset)),
            aws: Arc::new(SdkConnector),
            kdf: KdfParams::RECOMMENDED,
        }
    }
}
