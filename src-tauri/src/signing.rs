//! The app's one signing session (21 CFR 11.200: after the first signing with both components,
//! later signings in the same continuous session need the passphrase alone, until the idle
//! timeout). The session lives for as long as the app runs; STS credentials stay in it, in
//! memory only.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use countersign_core::clock::Clock;
use countersign_service::SigningSession;
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::Mutex;

/// The system clock in the signer's UTC offset, as the window last reported it (the window
/// knows the desktop's time zone; the offset is recorded inside each signature). It is the
/// service's clock: every time the app records or signs comes from it.
#[derive(Debug, Default)]
pub struct WindowClock {
    offset_minutes: AtomicI32,
}

impl WindowClock {
    /// Takes the window's offset (minutes east of UTC); out-of-range values mean UTC.
    pub fn set_offset_minutes(&self, minutes: i32) {
        let valid = (-18 * 60..=18 * 60).contains(&minutes);
        self.offset_minutes
            .store(if valid { minutes } else { 0 }, Ordering::Relaxed);
    }

    fn offset(&self) -> UtcOffset {
        UtcOffset::from_whole_seconds(self.offset_minutes.load(Ordering::Relaxed) * 60)
            .unwrap_or(UtcOffset::UTC)
    }
}

impl Clock for WindowClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.offset())
    }
}

/// The signing session and the clock the window sets the offset of, as managed state.
pub struct SignDesk {
    pub clock: Arc<WindowClock>,
    pub session: Mutex<SigningSession>,
}

impl SignDesk {
    /// A closed session; `clock` is the service's.
    pub fn new(clock: Arc<WindowClock>) -> Self {
        Self {
            clock,
            session: Mutex::new(SigningSession::new()),
        }
    }
}

impl std::fmt::Debug for SignDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignDesk(<session redacted>)")
    }
}

/// What the window shows about the session: never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionState {
    /// Open: the next signing by this identity needs the passphrase only.
    pub open: bool,
    /// The identity of the open session.
    pub iam_arn: Option<String>,
    /// The policy's idle timeout.
    pub idle_timeout_secs: i64,
    /// Seconds until the session locks (idle timeout or STS expiry, whichever is first).
    pub seconds_left: i64,
}

impl SessionState {
    /// The state of `session` at `now` under `idle_timeout_minutes`.
    pub fn of(
        session: &SigningSession,
        now: OffsetDateTime,
        idle_timeout_minutes: u32,
    ) -> SessionState {
        let idle = time::Duration::minutes(i64::from(idle_timeout_minutes));
        match session.time_left(now, idle) {
            Some((identity, left)) => SessionState {
                open: true,
                iam_arn: Some(identity.arn.clone()),
                idle_timeout_secs: idle.whole_seconds(),
                seconds_left: left.whole_seconds(),
            },
            None => SessionState {
                open: false,
                iam_arn: None,
                idle_timeout_secs: idle.whole_seconds(),
                seconds_left: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reports_the_windows_offset_and_refuses_nonsense() {
        let clock = WindowClock::default();
        assert_eq!(clock.now().offset(), UtcOffset::UTC);
        clock.set_offset_minutes(90);
        assert_eq!(clock.now().offset().whole_minutes(), 90);
        clock.set_offset_minutes(-330);
        assert_eq!(clock.now().offset().whole_minutes(), -330);
        clock.set_offset_minutes(100_000);
        assert_eq!(clock.now().offset(), UtcOffset::UTC);
    }

    #[test]
    fn a_new_session_is_closed() {
        let desk = SignDesk::new(Arc::new(WindowClock::default()));
        let state = SessionState::of(&desk.session.blocking_lock(), desk.clock.now(), 10);
        assert!(!state.open);
        assert_eq!(state.idle_timeout_secs, 600);
        assert_eq!(state.iam_arn, None);
        assert!(format!("{desk:?}").contains("redacted"));
    }
}
