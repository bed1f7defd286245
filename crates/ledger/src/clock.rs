//! The ledger's time source, injected so tests are deterministic.

use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::error::LedgerError;

/// Where the ledger gets the time. The returned value carries the user's UTC offset; the
/// ledger records the UTC time and the offset separately.
pub trait Clock: Send {
    /// The current time, in the user's offset.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock, reported in a fixed UTC offset chosen by the caller (the desktop shell
/// knows the user's local offset; the command line may pass `+00:00`).
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

    /// The system clock, reported in the given offset.
    pub fn with_offset(offset: UtcOffset) -> Self {
        Self { offset }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.offset)
    }
}

/// A clock for tests and demos: starts at a given time and advances by a fixed step on every
/// reading.
#[derive(Debug)]
pub struct SteppingClock {
    next_ms: AtomicI64,
    step_ms: i64,
    offset: UtcOffset,
}

impl SteppingClock {
    /// Starts at `start` (its offset is the one reported) and advances `step_ms` per reading.
    pub fn new(start: OffsetDateTime, step_ms: i64) -> Self {
        let ms = (start.unix_timestamp_nanos() / 1_000_000) as i64;
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

const UTC_MS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const OFFSET: &[FormatItem<'static>] =
    format_description!("[offset_hour sign:mandatory]:[offset_minute]");

/// The UTC time as recorded (RFC 3339, milliseconds, `Z`) and the offset (`+01:00`).
pub(crate) fn stamp(t: OffsetDateTime) -> Result<(String, String), LedgerError> {
    let utc = t
        .to_offset(UtcOffset::UTC)
        .format(UTC_MS)
        .map_err(|e| LedgerError::Clock(e.to_string()))?;
    let offset = t
        .offset()
        .format(OFFSET)
        .map_err(|e| LedgerError::Clock(e.to_string()))?;
    Ok((utc, offset))
}

/// A time bound as it compares with recorded times.
pub(crate) fn utc_text(t: OffsetDateTime) -> Result<String, LedgerError> {
    stamp(t).map(|(utc, _)| utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn stamps_utc_with_ms_and_the_offset() {
        let t = datetime!(2026-03-01 10:30:00.1234 +01:00);
        assert_eq!(
            stamp(t).unwrap(),
            ("2026-03-01T09:30:00.123Z".to_string(), "+01:00".to_string())
        );
        let t = datetime!(2026-03-01 04:00:00 -05:30);
        assert_eq!(stamp(t).unwrap().1, "-05:30");
        assert_eq!(stamp(t).unwrap().0, "2026-03-01T09:30:00.000Z");
    }

    #[test]
    fn stepping_clock_advances() {
        let c = SteppingClock::new(datetime!(2026-03-01 09:30:00 +02:00), 250);
        assert_eq!(stamp(c.now()).unwrap().0, "2026-03-01T07:30:00.000Z");
        let second = c.now();
        assert_eq!(stamp(second).unwrap().0, "2026-03-01T07:30:00.250Z");
        assert_eq!(second.offset(), UtcOffset::from_hms(2, 0, 0).unwrap());
    }
}
