//! Where time comes from. The core never reads a clock; the service layer holds one [`Clock`]
//! and passes "now" in, so every recorded and signed time has one source, and tests move it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use time::{Duration, OffsetDateTime, UtcOffset};

/// A source of the current time, in the user's UTC offset (recorded next to every UTC time).
pub trait Clock: Send + Sync {
    /// Now, in the user's offset.
    fn now(&self) -> OffsetDateTime;
}

/// A clock that moves only when told to: tests and demonstrations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// Starts at `start` (its offset is the one reported).
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

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.now
            .lock()
            .map(|t| *t)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// A clock that starts at a given time and advances by a fixed step on every reading, so
/// successive records get distinct, predictable times (golden vectors, ledger tests).
#[derive(Debug)]
pub struct SteppingClock {
    next_ms: AtomicI64,
    step_ms: i64,
    offset: UtcOffset,
}

impl SteppingClock {
    /// Starts at `start` (its offset is the one reported) and advances `step_ms` per reading.
    pub fn new(start: OffsetDateTime, step_ms: i64) -> Self {
        let ms = i64::try_from(start.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        Self {
            next_ms: AtomicI64::new(ms),
            step_ms,
            offset: start.offset(),
        }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> OffsetDateTime {
        let ms = self.next_ms.fetch_add(self.step_ms, Ordering::SeqCst);
        (OffsetDateTime::UNIX_EPOCH + Duration::milliseconds(ms)).to_offset(self.offset)
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
        assert_eq!(c.now(), datetime!(2026-03-01 09:00:00 +01:00));
        c.advance(Duration::minutes(11));
        assert_eq!(c.now(), datetime!(2026-03-01 09:11:00 +01:00));
    }

    #[test]
    fn stepping_clock_advances_per_reading_in_its_offset() {
        let c = SteppingClock::new(datetime!(2026-03-01 09:30:00 +02:00), 250);
        assert_eq!(c.now(), datetime!(2026-03-01 09:30:00 +02:00));
        let second = c.now();
        assert_eq!(second, datetime!(2026-03-01 09:30:00.250 +02:00));
        assert_eq!(second.offset(), UtcOffset::from_hms(2, 0, 0).unwrap());
    }
}
