//! Signing sessions (21 CFR 11.200): the first signing needs both components (an MFA code for
//! a fresh STS session, and the key passphrase); later signings in the same continuous session
//! need the passphrase alone, until the idle timeout, the STS session's expiry, or a lock.
//!
//! The session lives in memory only, in the process that signs: the desktop app keeps one for
//! as long as it runs; the command line starts a new one for every command.

use countersign_aws::sso::DeviceSignIn;
use countersign_aws::sts::{MfaSession, SessionIdentity};
use time::{Duration, OffsetDateTime};

/// Default allowed difference between the local clock and the STS server's clock.
pub const DEFAULT_MAX_CLOCK_SKEW_SECS: i64 = 120;

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
    pub(crate) max_clock_skew: Duration,
    pub(crate) open: Option<OpenSession>,
    /// An IAM Identity Center sign-in started for the next signing, not yet completed.
    pub(crate) pending: Option<DeviceSignIn>,
}

impl std::fmt::Debug for SigningSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSession")
            .field("identity", &self.open.as_ref().map(|o| &o.identity.arn))
            .field("credentials", &"<redacted>")
            .field(
                "pending_sign_in",
                &self.pending.as_ref().map(DeviceSignIn::user_code),
            )
            .finish()
    }
}

impl Default for SigningSession {
    fn default() -> Self {
        Self::new()
    }
}

impl SigningSession {
    /// A closed session with the default clock-skew limit. Its times come from the service
    /// that signs with it.
    pub fn new() -> Self {
        Self {
            max_clock_skew: Duration::seconds(DEFAULT_MAX_CLOCK_SKEW_SECS),
            open: None,
            pending: None,
        }
    }

    /// Sets the largest local-vs-STS clock difference accepted without a warning.
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.max_clock_skew = skew;
        self
    }

    /// Ends the session now: the STS credentials and any sign-in not yet completed are
    /// dropped; the next signing needs an MFA code (or a new sign-in) again.
    pub fn lock(&mut self) {
        self.open = None;
        self.pending = None;
    }

    /// The page of the IAM Identity Center sign-in started for the next signing, if one is
    /// waiting.
    pub fn pending_sign_in_url(&self) -> Option<String> {
        self.pending
            .as_ref()
            .map(|p| p.verification_url().to_owned())
    }

    /// The identity of the open session, if it is open at `now` under `idle_timeout`.
    pub fn open_identity(
        &self,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Option<&SessionIdentity> {
        self.open
            .as_ref()
            .filter(|o| now - o.last_activity < idle_timeout && !o.mfa.is_expired_at(now))
            .map(|o| &o.identity)
    }

    /// The open session's identity and how long it stays open without another signing: the
    /// idle time left, or the time to the STS session's expiry when that comes first. `None`
    /// when the session is closed (so a window can show a countdown without holding secrets).
    pub fn time_left(
        &self,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Option<(&SessionIdentity, Duration)> {
        let open = self.open.as_ref()?;
        let idle_left = idle_timeout - (now - open.last_activity);
        let expiry_left = open.identity.expires_at - now;
        let left = idle_left.min(expiry_left);
        (left.is_positive() && !open.mfa.is_expired_at(now)).then_some((&open.identity, left))
    }

    /// The IAM groups read for `arn` in the open session, when the session is open for `arn`
    /// and they have been read.
    pub(crate) fn open_groups(
        &self,
        arn: &str,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Option<&[String]> {
        self.open_identity(now, idle_timeout)
            .filter(|i| i.arn == arn)
            .and(self.open.as_ref())
            .and_then(|o| o.groups.as_deref())
    }

    /// True when the open session is `arn`'s and neither idle too long nor expired: the next
    /// act by `arn` needs the passphrase alone.
    pub(crate) fn is_open_for(
        &self,
        arn: &str,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> bool {
        self.open_identity(now, idle_timeout)
            .is_some_and(|i| i.arn == arn)
    }

    /// Locks the session if it timed out or expired; true when it is (still) open for `arn`.
    pub(crate) fn usable_for(
        &mut self,
        arn: &str,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> bool {
        let ok = self.is_open_for(arn, now, idle_timeout);
        if !ok {
            // The credentials go; a sign-in started for this signing stays to open the next.
            self.open = None;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_new_session_is_closed_and_debug_hides_credentials() {
        let now = datetime!(2026-03-01 09:00:00 UTC);
        let mut s = SigningSession::new();
        assert!(s.open_identity(now, Duration::minutes(10)).is_none());
        assert!(!s.usable_for("arn:aws:iam::1:user/a", now, Duration::minutes(10)));
        assert!(format!("{s:?}").contains("<redacted>"));
    }
}
