//! Signing sessions (21 CFR 11.200): the first signing needs both components (an MFA code for
//! a fresh STS session, and the key passphrase); later signings in the same continuous session
//! need the passphrase alone, until the idle timeout, the STS session's expiry, or a lock.
//!
//! The session lives in memory only, in the process that signs: the desktop app keeps one for
//! as long as it runs; the command line starts a new one for every command.

use std::sync::{Arc, Mutex};

use countersign_aws::sts::{MfaSession, SessionIdentity};
use time::{Duration, OffsetDateTime, UtcOffset};

/// Default allowed difference between the local clock and the STS server's clock.
pub const DEFAULT_MAX_CLOCK_SKEW_SECS: i64 = 120;

/// Where signing sessions get the time; injected so tests can move it.
pub trait SessionClock: Send + Sync {
    /// Now, in the signer's UTC offset (recorded with each signature).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, in a fixed UTC offset chosen by the caller.
#[derive(Debug, Clone, Copy)]
pub struct SystemSessionClock {
    offset: UtcOffset,
}

impl SystemSessionClock {
    /// The system clock reported in `offset` (the app passes the user's local offset).
    pub fn with_offset(offset: UtcOffset) -> Self {
        Self { offset }
    }
}

impl SessionClock for SystemSessionClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.offset)
    }
}

/// A clock that only moves when told to (tests and demonstrations).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// Starts at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.now.lock() {
            *t += by;
        }
    }
}

impl SessionClock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.now
            .lock()
            .map(|t| *t)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

pub(crate) struct OpenSession {
    pub(crate) mfa: MfaSession,
    pub(crate) identity: SessionIdentity,
    pub(crate) last_activity: OffsetDateTime,
    /// The identity's IAM groups, once read with this session's credentials (only when the
    /// policy grants by group); kept for the session's later signings.
    pub(crate) groups: Option<Vec<String>>,
}

/// One person's continuous signing session. Holds the STS credentials in memory only; they are
/// dropped (and zeroized) when the session locks.
pub struct SigningSession {
    pub(crate) clock: Arc<dyn SessionClock>,
    pub(crate) max_clock_skew: Duration,
    pub(crate) open: Option<OpenSession>,
}

impl std::fmt::Debug for SigningSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSession")
            .field("identity", &self.open.as_ref().map(|o| &o.identity.arn))
            .field("credentials", &"<redacted>")
            .finish()
    }
}

impl SigningSession {
    /// A closed session reading time from `clock`, with the default clock-skew limit.
    pub fn new(clock: Arc<dyn SessionClock>) -> Self {
        Self {
            clock,
            max_clock_skew: Duration::seconds(DEFAULT_MAX_CLOCK_SKEW_SECS),
            open: None,
        }
    }

    /// A closed session on the system clock, in UTC.
    pub fn system() -> Self {
        Self::new(Arc::new(SystemSessionClock::with_offset(UtcOffset::UTC)))
    }

    /// Sets the largest local-vs-STS clock difference accepted without a warning.
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.max_clock_skew = skew;
        self
    }

    /// Ends the session now: the STS credentials are dropped; the next signing needs an MFA
    /// code again.
    pub fn lock(&mut self) {
        self.open = None;
    }

    /// The identity of the open session, if it is open at the clock's now under `idle_timeout`.
    pub fn open_identity(&self, idle_timeout: Duration) -> Option<&SessionIdentity> {
        let now = self.clock.now();
        self.open
            .as_ref()
            .filter(|o| now - o.last_activity < idle_timeout && !o.mfa.is_expired_at(now))
            .map(|o| &o.identity)
    }

    /// The open session's identity and how long it stays open without another signing: the
    /// idle time left, or the time to the STS session's expiry when that comes first. `None`
    /// when the session is closed (so a window can show a countdown without holding secrets).
    pub fn time_left(&self, idle_timeout: Duration) -> Option<(&SessionIdentity, Duration)> {
        let now = self.clock.now();
        let open = self.open.as_ref()?;
        let idle_left = idle_timeout - (now - open.last_activity);
        let expiry_left = open.identity.expires_at - now;
        let left = idle_left.min(expiry_left);
        (left.is_positive() && !open.mfa.is_expired_at(now)).then_some((&open.identity, left))
    }

    /// The IAM groups read for `arn` in the open session, when the session is open for `arn`
    /// and they have been read.
    pub(crate) fn open_groups(&self, arn: &str, idle_timeout: Duration) -> Option<&[String]> {
        self.open_identity(idle_timeout)
            .filter(|i| i.arn == arn)
            .and(self.open.as_ref())
            .and_then(|o| o.groups.as_deref())
    }

    /// Locks the session if it timed out or expired; true when it is (still) open for `arn`.
    pub(crate) fn usable_for(&mut self, arn: &str, idle_timeout: Duration) -> bool {
        let ok = self
            .open_identity(idle_timeout)
            .is_some_and(|i| i.arn == arn);
        if !ok {
            self.lock();
        }
        ok
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(datetime!(2026-03-01 09:00:00 +01:00));
        assert_eq!(c.now(), datetime!(2026-03-01 09:00:00 +01:00));
        c.advance(Duration::minutes(11));
        assert_eq!(c.now(), datetime!(2026-03-01 09:11:00 +01:00));
    }

    #[test]
    fn a_new_session_is_closed_and_debug_hides_credentials() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 09:00:00 UTC)));
        let mut s = SigningSession::new(clock);
        assert!(s.open_identity(Duration::minutes(10)).is_none());
        assert!(!s.usable_for("arn:aws:iam::1:user/a", Duration::minutes(10)));
        assert!(format!("{s:?}").contains("<redacted>"));
    }
}
