//! The Countersign signature predicate, version 1: what a signature means and who made it.
//!
//! Everything a Part 11 manifestation needs (printed name, UTC time and the signer's offset,
//! meaning, reason) is inside the signed bytes, together with the identity evidence (IAM ARN,
//! key id, the MFA-backed STS session) and the policy that authorised it. The field set is frozen
//! for `https://countersign.dev/signature/v1`; a change means a new predicate type next to it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::digest::Sha256;
use crate::signature::key_id::KeyId;

/// The predicate type URI of version 1 of this predicate.
pub use crate::formats::SIGNATURE_PREDICATE_V1 as PREDICATE_TYPE_V1;
/// The predicate type URI of version 2: version 1's members, with the qualified-state meanings.
pub use crate::formats::SIGNATURE_PREDICATE_V2 as PREDICATE_TYPE_V2;
/// The predicate type URI of version 3: version 2's members and meanings, with `Reopened`.
pub use crate::formats::SIGNATURE_PREDICATE_V3 as PREDICATE_TYPE_V3;

/// What a signature means: the closed list of Part 11 meanings. The first four are the
/// meanings of a signature on a run or package (predicate version 1); `Assessed` and
/// `PeriodicallyReviewed` belong to a system's qualified state and exist from version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Meaning {
    /// "I prepared this record" (e.g. the author of a validation package).
    Authored,
    /// "I reviewed this record and its dispositions."
    Reviewed,
    /// "I approve this record."
    Approved,
    /// "I reject this record."
    Rejected,
    /// "I assessed the impact of this change on the qualified state as stated" (version 2).
    Assessed,
    /// "I reviewed this system's qualified state over this period" (version 2).
    PeriodicallyReviewed,
    /// "I re-open this signed run for correction, for the reason given": the run's earlier
    /// signatures are superseded and a new review and approval follow (version 3).
    Reopened,
}

impl Meaning {
    /// The meanings of a run or package signature, in the order of the sign-off: the ones a
    /// person chooses when signing a record, and the only ones of predicate version 1.
    pub const ALL: [Meaning; 4] = [
        Meaning::Authored,
        Meaning::Reviewed,
        Meaning::Approved,
        Meaning::Rejected,
    ];

    /// The meanings of a system's qualified state (predicate version 2 only).
    pub const STATE: [Meaning; 2] = [Meaning::Assessed, Meaning::PeriodicallyReviewed];

    /// The meaning of a formal re-open (predicate version 3 only).
    pub const REOPEN: Meaning = Meaning::Reopened;

    /// Whether this is one of the four meanings of a run or package signature ([`Self::ALL`]).
    pub fn is_record_meaning(self) -> bool {
        Self::ALL.contains(&self)
    }

    /// The predicate type a statement with this meaning is written with: version 1 for the
    /// four record meanings (so their signatures are byte for byte what they always were),
    /// version 2 for the qualified-state meanings.
    pub fn predicate_type(self) -> &'static str {
        match self {
            Meaning::Reopened => PREDICATE_TYPE_V3,
            m if m.is_record_meaning() => PREDICATE_TYPE_V1,
            _ => PREDICATE_TYPE_V2,
        }
    }

    /// Whether a statement of predicate type `predicate_type` may carry this meaning: version
    /// 1 the four record meanings, version 2 those and the qualified-state meanings, version
    /// 3 every meaning. `None` for a type this version does not read.
    pub fn exists_in(self, predicate_type: &str) -> Option<bool> {
        match predicate_type {
            PREDICATE_TYPE_V1 => Some(self.is_record_meaning()),
            PREDICATE_TYPE_V2 => Some(self != Meaning::Reopened),
            PREDICATE_TYPE_V3 => Some(true),
            _ => None,
        }
    }

    /// The meaning spelled exactly as [`Self::as_str`] writes it, any version (how a recorded
    /// meaning is read back; a person's typing goes through [`FromStr`], which takes only the
    /// four record meanings).
    pub fn from_recorded(s: &str) -> Option<Meaning> {
        Self::ALL
            .into_iter()
            .chain(Self::STATE)
            .chain([Self::REOPEN])
            .find(|m| m.as_str() == s)
    }

    /// The spelling used in the predicate and the policy: `Authored`, `Reviewed`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Meaning::Authored => "Authored",
            Meaning::Reviewed => "Reviewed",
            Meaning::Approved => "Approved",
            Meaning::Rejected => "Rejected",
            Meaning::Assessed => "Assessed",
            Meaning::PeriodicallyReviewed => "PeriodicallyReviewed",
            Meaning::Reopened => "Reopened",
        }
    }
}

impl fmt::Display for Meaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the four meanings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature meaning {0:?}: expected Authored, Reviewed, Approved or Rejected")]
pub struct UnknownMeaning(pub String);

/// The one parser for a meaning a person typed or chose (command line, window): any letter
/// case, surrounding spaces ignored. Documents (statements, policies) are read by serde, which
/// takes only the exact spelling.
impl FromStr for Meaning {
    type Err = UnknownMeaning;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Meaning::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownMeaning(s.chars().take(40).collect()))
    }
}

const UTC_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const OFFSET_FORMAT: &[FormatItem<'static>] =
    format_description!("[offset_hour sign:mandatory]:[offset_minute]");

/// A UTC instant with millisecond precision, written `2026-11-03T14:05:09.120Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcTimestamp(OffsetDateTime);

impl UtcTimestamp {
    /// `time` converted to UTC and truncated to whole milliseconds.
    pub fn new(time: OffsetDateTime) -> Self {
        let utc = time.to_offset(UtcOffset::UTC);
        let ms = utc.millisecond();
        Self(utc.replace_millisecond(ms).unwrap_or(utc))
    }

    /// The instant.
    pub fn get(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(UTC_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// A string that is not a timestamp of the form `2026-11-03T14:05:09.120Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UTC timestamp {0:?}: expected the form 2026-11-03T14:05:09.120Z")]
pub struct TimestampParseError(pub String);

impl FromStr for UtcTimestamp {
    type Err = TimestampParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        time::PrimitiveDateTime::parse(s, UTC_FORMAT)
            .map(|t| Self(t.assume_utc()))
            .map_err(|_| TimestampParseError(s.chars().take(80).collect()))
    }
}

impl Serialize for UtcTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UtcTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The signer's UTC offset at signing time, written `+01:00`, `-05:30`, `+00:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Offset(UtcOffset);

impl Offset {
    /// Wraps an offset (seconds are dropped: offsets are written to the minute).
    pub fn new(offset: UtcOffset) -> Self {
        let (h, m, _) = offset.as_hms();
        Self(UtcOffset::from_hms(h, m, 0).unwrap_or(UtcOffset::UTC))
    }

    /// The offset.
    pub fn get(&self) -> UtcOffset {
        self.0
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(OFFSET_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// A string that is not a UTC offset of the form `+01:00`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UTC offset {0:?}: expected the form +01:00 or -05:30")]
pub struct OffsetParseError(pub String);

impl FromStr for Offset {
    type Err = OffsetParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UtcOffset::parse(s, OFFSET_FORMAT)
            .map(Self)
            .map_err(|_| OffsetParseError(s.chars().take(80).collect()))
    }
}

impl Serialize for Offset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Evidence of the MFA-backed STS session the signer held when signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StsEvidence {
    /// The MFA device serial (ARN of a virtual device, or a hardware serial).
    pub mfa_serial: String,
    /// When the STS session's credentials expire.
    pub session_expires_at: UtcTimestamp,
    /// The STS server's clock (HTTP `Date` of its answer), when it sent one.
    pub server_time: Option<UtcTimestamp>,
}

/// The policy a signature was authorised under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// The policy's own revision number (its `version` field).
    pub version: u32,
    /// SHA-256 of the policy file's bytes.
    pub sha256: Sha256,
}

/// The predicate of a Countersign signature statement, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    /// What the signature means.
    pub meaning: Meaning,
    /// Why, in the signer's words (never empty).
    pub reason: String,
    /// The signer's printed name, as enrolled.
    pub printed_name: String,
    /// The signer's IAM ARN as STS `GetCallerIdentity` reported it.
    pub iam_arn: String,
    /// The id of the key that signed; must equal the envelope's `keyid`.
    pub key_id: KeyId,
    /// When the signature was made, UTC.
    pub signed_at: UtcTimestamp,
    /// The signer's UTC offset at that moment.
    pub utc_offset: Offset,
    /// The MFA-backed STS session.
    pub sts: StsEvidence,
    /// The policy that authorised the signature.
    pub policy: PolicyRef,
    /// Envelope digests (see `Envelope::digest`) of the earlier signatures on the same record,
    /// in signing order.
    pub follows: Vec<Sha256>,
}

/// A predicate whose fields are individually well formed but do not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signature predicate's {field} {problem}")]
pub struct PredicateError {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl Predicate {
    /// Checks what the types cannot: non-empty text fields, an ARN-shaped ARN, no repeated
    /// `follows` entry.
    pub fn check(&self) -> Result<(), PredicateError> {
        let blank = |field| PredicateError {
            field,
            problem: "is empty",
        };
        if self.reason.trim().is_empty() {
            return Err(blank("reason"));
        }
        if self.printed_name.trim().is_empty() {
            return Err(blank("printed_name"));
        }
        if self.sts.mfa_serial.trim().is_empty() {
            return Err(blank("sts.mfa_serial"));
        }
        if !self.iam_arn.starts_with("arn:") || self.iam_arn.split(':').count() < 6 {
            return Err(PredicateError {
                field: "iam_arn",
                problem: "is not an ARN (arn:partition:service:region:account:resource)",
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        if !self.follows.iter().all(|d| seen.insert(*d)) {
            return Err(PredicateError {
                field: "follows",
                problem: "names the same signature twice",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let t = UtcTimestamp::new(datetime!(2026-11-03 15:05:09.120_999 +01:00));
        assert_eq!(t.to_string(), "2026-11-03T14:05:09.120Z");
        assert_eq!("2026-11-03T14:05:09.120Z".parse::<UtcTimestamp>(), Ok(t));
        for bad in [
            "2026-11-03T14:05:09Z",
            "2026-11-03T14:05:09.120+00:00",
            "2026-11-03 14:05:09.120Z",
            "",
        ] {
            assert!(bad.parse::<UtcTimestamp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn offsets_are_signed_hours_and_minutes() {
        assert_eq!(Offset::new(offset!(+1)).to_string(), "+01:00");
        assert_eq!(Offset::new(offset!(-5:30)).to_string(), "-05:30");
        assert_eq!(Offset::new(offset!(UTC)).to_string(), "+00:00");
        assert_eq!("-05:30".parse::<Offset>().unwrap().get(), offset!(-5:30));
        assert!("0100".parse::<Offset>().is_err());
        assert!("Z".parse::<Offset>().is_err());
    }

    #[test]
    fn meanings_spell_as_documented() {
        for m in Meaning::ALL {
            assert_eq!(m.as_str().parse::<Meaning>(), Ok(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
        }
        assert_eq!("approved".parse::<Meaning>(), Ok(Meaning::Approved));
        assert_eq!(" REVIEWED ".parse::<Meaning>(), Ok(Meaning::Reviewed));
        assert!("okayed".parse::<Meaning>().is_err());
        // Documents take the exact spelling only.
        assert!(serde_json::from_str::<Meaning>("\"approved\"").is_err());
    }

    #[test]
    fn state_meanings_are_version_2_and_never_chosen_for_a_record() {
        for m in Meaning::STATE {
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
            assert!(!m.is_record_meaning());
            assert_eq!(m.predicate_type(), PREDICATE_TYPE_V2);
            // The human parser is the run signature's: it never offers a state meaning.
            assert!(m.as_str().parse::<Meaning>().is_err());
        }
        for m in Meaning::ALL {
            assert_eq!(m.predicate_type(), PREDICATE_TYPE_V1);
        }
        assert_eq!(
            Meaning::PeriodicallyReviewed.as_str(),
            "PeriodicallyReviewed"
        );
        for m in Meaning::ALL.into_iter().chain(Meaning::STATE) {
            assert_eq!(Meaning::from_recorded(m.as_str()), Some(m));
        }
        assert_eq!(Meaning::from_recorded("approved"), None);
        assert!(
            "Assessed".parse::<Meaning>().is_err(),
            "a person cannot choose it"
        );
    }

    #[test]
    fn reopened_is_version_3_only_and_never_chosen_as_a_signature_meaning() {
        let m = Meaning::Reopened;
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"Reopened\"");
        assert_eq!(m.predicate_type(), PREDICATE_TYPE_V3);
        assert!(!m.is_record_meaning());
        assert!(
            "Reopened".parse::<Meaning>().is_err(),
            "re-open is its own act"
        );
        assert_eq!(Meaning::from_recorded("Reopened"), Some(m));
        assert_eq!(m.exists_in(PREDICATE_TYPE_V1), Some(false));
        assert_eq!(m.exists_in(PREDICATE_TYPE_V2), Some(false));
        assert_eq!(m.exists_in(PREDICATE_TYPE_V3), Some(true));
        for other in Meaning::ALL.into_iter().chain(Meaning::STATE) {
            assert_eq!(other.exists_in(PREDICATE_TYPE_V3), Some(true));
            assert_eq!(other.exists_in(PREDICATE_TYPE_V2), Some(true));
        }
        assert_eq!(m.exists_in("https://countersign.dev/signature/v9"), None);
    }
}
