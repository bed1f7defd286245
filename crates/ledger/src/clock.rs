//! How the ledger writes times: UTC with milliseconds, and the user's offset beside it. The
//! clock itself is the service's ([`countersign_core::clock::Clock`]).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::error::LedgerError;

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
}
