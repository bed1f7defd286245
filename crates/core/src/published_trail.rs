//! The audit trail as `ledger publish` writes it to S3, decided without I/O
//! (docs/audit-trail-publish.md): where each object goes, what each line holds, how new entries
//! are cut into objects, and where the last publication ended.
//!
//! ```text
//! PREFIX/audit-trail/ledger=<ledger id>/date=<YYYY-MM-DD>/<first seq>-<last seq>.jsonl
//! ```
//!
//! The ledger id is the hash of the ledger's first entry, in hex: every desktop's ledger starts
//! with its own first entry, so the id names one ledger and never changes. Sequences are written
//! as 20 decimal digits so that keys sort in sequence order. One line per entry, in the
//! `countersign.published-entry/v1` format: the format tag, then exactly the fields of a
//! `ledger export` JSON entry in the same order.

use std::fmt;

use serde::Serialize;

use crate::digest::Sha256;
use crate::formats::PUBLISHED_ENTRY_V1;
use crate::layout::S3Location;
use crate::ledger_event::LedgerEvent;

/// The folder below the location's prefix that holds every ledger's published trail.
pub const TRAIL_FOLDER: &str = "audit-trail/";
/// The most entries one object holds.
pub const MAX_ENTRIES_PER_OBJECT: usize = 10_000;
/// An object is closed once its lines reach this many bytes (one entry may go over it).
pub const MAX_OBJECT_BYTES: usize = 8 * 1024 * 1024;

/// What identifies one desktop's ledger in the published trail: the hash of its first entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerId(Sha256);

impl LedgerId {
    /// The id of the ledger whose first entry has this hash.
    pub fn of_first_entry(hash: Sha256) -> Self {
        Self(hash)
    }
}

impl fmt::Display for LedgerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

/// The key prefix of one ledger's published trail: `PREFIX/audit-trail/ledger=<id>/`.
pub fn ledger_folder(loc: &S3Location, id: &LedgerId) -> String {
    loc.key(&format!("{TRAIL_FOLDER}ledger={id}/"))
}

/// A published object's place below its ledger folder: the UTC date of its entries and the
/// sequence range they cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailObject {
    /// `YYYY-MM-DD`, the UTC date of every entry in it.
    pub date: String,
    /// The first entry's sequence.
    pub first: u64,
    /// The last entry's sequence.
    pub last: u64,
}

impl TrailObject {
    /// `date=<YYYY-MM-DD>/<first, 20 digits>-<last, 20 digits>.jsonl`.
    pub fn name(&self) -> String {
        format!(
            "date={}/{:020}-{:020}.jsonl",
            self.date, self.first, self.last
        )
    }

    /// Reads a name written by [`TrailObject::name`]; anything else is `None`.
    pub fn parse(name: &str) -> Option<TrailObject> {
        let rest = name.strip_prefix("date=")?;
        let (date, file) = rest.split_once('/')?;
        let range = file.strip_suffix(".jsonl")?;
        let (first, last) = range.split_once('-')?;
        let digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
        if !is_date(date) || !digits(first) || !digits(last) {
            return None;
        }
        let (first, last) = (first.parse().ok()?, last.parse().ok()?);
        (first >= 1 && first <= last).then(|| TrailObject {
            date: date.to_owned(),
            first,
            last,
        })
    }
}

/// `YYYY-MM-DD` in ASCII digits (the calendar is the writer's business; this is the shape).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Why the published trail or an entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrailError {
    /// The published objects do not cover 1..=N without a gap or an overlap.
    #[error("the published trail is not one unbroken range: {0}")]
    Broken(String),
    /// An entry's time has no UTC date to file it under.
    #[error(
        "ledger entry {seq} has the time {time:?}, which does not start with a date YYYY-MM-DD"
    )]
    NoDate {
        /// The entry.
        seq: u64,
        /// Its time as recorded.
        time: String,
    },
    /// An entry could not be written as JSON.
    #[error("ledger entry {seq} could not be written as JSON: {detail}")]
    Json {
        /// The entry.
        seq: u64,
        /// What serde said.
        detail: String,
    },
}

/// The last sequence the published objects cover (0 when none), after checking that they cover
/// 1..=N exactly once, in order.
pub fn published_up_to(objects: &[TrailObject]) -> Result<u64, TrailError> {
    let mut sorted: Vec<&TrailObject> = objects.iter().collect();
    sorted.sort_by_key(|o| (o.first, o.last));
    let mut last = 0u64;
    for o in sorted {
        if o.first != last + 1 {
            let what = if o.first <= last {
                format!(
                    "{} overlaps entries already published up to {last}",
                    o.name()
                )
            } else {
                format!(
                    "entries {} to {} are missing before {}",
                    last + 1,
                    o.first - 1,
                    o.name()
                )
            };
            return Err(TrailError::Broken(what));
        }
        last = o.last;
    }
    Ok(last)
}

#[derive(Serialize)]
struct Line<'a> {
    format: &'static str,
    #[serde(flatten)]
    event: &'a LedgerEvent,
    hash: &'a Sha256,
}

/// One entry as a line: `{"format":"countersign.published-entry/v1", <the export's fields>}`
/// and a line feed. Keys in a fixed order; `null` for absent values, so every line has every
/// column.
pub fn entry_line(event: &LedgerEvent, hash: &Sha256) -> Result<String, TrailError> {
    let mut line = serde_json::to_string(&Line {
        format: PUBLISHED_ENTRY_V1,
        event,
        hash,
    })
    .map_err(|e| TrailError::Json {
        seq: event.seq,
        detail: e.to_string(),
    })?;
    line.push('\n');
    Ok(line)
}

/// One object to write: where below the ledger folder, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailBatch {
    /// Its place.
    pub object: TrailObject,
    /// Its lines.
    pub body: Vec<u8>,
    /// How many entries it holds.
    pub entries: u64,
}

/// Cuts entries (in sequence order) into objects: a new object at each change of UTC date, and
/// after [`MAX_ENTRIES_PER_OBJECT`] entries or [`MAX_OBJECT_BYTES`] bytes. The same entries
/// always give the same objects.
pub fn batches<'a>(
    entries: impl IntoIterator<Item = (&'a LedgerEvent, &'a Sha256)>,
) -> Result<Vec<TrailBatch>, TrailError> {
    let mut out: Vec<TrailBatch> = Vec::new();
    for (event, hash) in entries {
        let date = event
            .time_utc
            .get(..10)
            .filter(|d| is_date(d))
            .ok_or_else(|| TrailError::NoDate {
                seq: event.seq,
                time: event.time_utc.clone(),
            })?;
        let line = entry_line(event, hash)?;
        let fits = out.last().is_some_and(|b| {
            b.object.date == date
                && b.object.last + 1 == event.seq
                && (b.entries as usize) < MAX_ENTRIES_PER_OBJECT
                && b.body.len() < MAX_OBJECT_BYTES
        });
        match out.last_mut() {
            Some(b) if fits => {
                b.body.extend_from_slice(line.as_bytes());
                b.object.last = event.seq;
                b.entries += 1;
            }
            _ => out.push(TrailBatch {
                object: TrailObject {
                    date: date.to_owned(),
                    first: event.seq,
                    last: event.seq,
                },
                body: line.into_bytes(),
                entries: 1,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger_event::{genesis_prev_hash, Actor};

    fn event(seq: u64, time: &str, prev: Sha256) -> LedgerEvent {
        LedgerEvent {
            seq,
            time_utc: time.into(),
            utc_offset: "+01:00".into(),
            actor: Actor::person("arn:aws:iam::123456789012:user/alice", "Alice Adams"),
            action: "object.stored".into(),
            object_kind: "object".into(),
            object_id: "s3://qual/runs/r1/junit.xml".into(),
            before: None,
            after: Some("sha256:ab".into()),
            reason: None,
            prev_hash: prev,
        }
    }

    /// Golden vector: the layout and the line format are a contract with every query written
    /// against them. A change here is a new format version, never an edit.
    #[test]
    fn golden_key_and_line() {
        let e = event(1, "2026-03-01T09:30:00.000Z", genesis_prev_hash());
        let hash = e.hash().unwrap();
        let loc: S3Location = "s3://gxp-audit/site-1".parse().unwrap();
        let id = LedgerId::of_first_entry(hash);
        let obj = TrailObject {
            date: "2026-03-01".into(),
            first: 1,
            last: 1,
        };
        assert_eq!(
            format!("{}{}", ledger_folder(&loc, &id), obj.name()),
            format!(
                "site-1/audit-trail/ledger={}/date=2026-03-01/00000000000000000001-00000000000000000001.jsonl",
                hash.to_hex()
            )
        );
        let line = entry_line(&e, &hash).unwrap();
        assert_eq!(
            line,
            format!(
                concat!(
                    r#"{{"format":"countersign.published-entry/v1","seq":1,"#,
                    r#""time_utc":"2026-03-01T09:30:00.000Z","utc_offset":"+01:00","#,
                    r#""actor":{{"arn":"arn:aws:iam::123456789012:user/alice","printed_name":"Alice Adams"}},"#,
                    r#""action":"object.stored","object_kind":"object","#,
                    r#""object_id":"s3://qual/runs/r1/junit.xml","before":null,"after":"sha256:ab","#,
                    r#""reason":null,"prev_hash":"{}","hash":"{}"}}"#,
                    "\n"
                ),
                genesis_prev_hash().to_hex(),
                hash.to_hex()
            )
        );
        assert_eq!(
            Sha256::of(line.as_bytes()).to_hex(),
            GOLDEN_LINE_SHA256,
            "the line's bytes changed"
        );
    }

    const GOLDEN_LINE_SHA256: &str =
        "bada27780a733308435e3d34f9821ebe33804608641b41635fd93bcc22193c51";

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        let o = TrailObject {
            date: "2026-12-31".into(),
            first: 7,
            last: 12,
        };
        assert_eq!(TrailObject::parse(&o.name()), Some(o));
        for bad in [
            "date=2026-12-31/7-12.jsonl",
            "date=2026-12-31/00000000000000000012-00000000000000000007.jsonl",
            "date=2026-12-31/00000000000000000000-00000000000000000000.jsonl",
            "date=2026-1-31/00000000000000000001-00000000000000000002.jsonl",
            "date=2026-12-31/00000000000000000001-00000000000000000002.json",
            "x/date=2026-12-31/00000000000000000001-00000000000000000002.jsonl",
            "date=2026-12-31/sub/00000000000000000001-00000000000000000002.jsonl",
        ] {
            assert_eq!(TrailObject::parse(bad), None, "{bad}");
        }
    }

    fn obj(first: u64, last: u64) -> TrailObject {
        TrailObject {
            date: "2026-03-01".into(),
            first,
            last,
        }
    }

    #[test]
    fn the_resume_point_is_the_end_of_an_unbroken_range() {
        assert_eq!(published_up_to(&[]).unwrap(), 0);
        assert_eq!(
            published_up_to(&[obj(4, 9), obj(1, 3), obj(10, 10)]).unwrap(),
            10
        );
        let gap = published_up_to(&[obj(1, 3), obj(5, 9)]).unwrap_err();
        assert!(
            gap.to_string().contains("entries 4 to 4 are missing"),
            "{gap}"
        );
        let overlap = published_up_to(&[obj(1, 3), obj(3, 9)]).unwrap_err();
        assert!(overlap.to_string().contains("overlaps"), "{overlap}");
        assert!(published_up_to(&[obj(2, 3)]).is_err());
    }

    #[test]
    fn entries_are_cut_at_each_date_and_at_the_size_limits() {
        let mut events = Vec::new();
        let mut prev = genesis_prev_hash();
        for (seq, time) in [
            (5, "2026-03-01T23:59:59.999Z"),
            (6, "2026-03-01T23:59:59.999Z"),
            (7, "2026-03-02T00:00:00.000Z"),
        ] {
            let e = event(seq, time, prev);
            let h = e.hash().unwrap();
            prev = h;
            events.push((e, h));
        }
        let b = batches(events.iter().map(|(e, h)| (e, h))).unwrap();
        let names: Vec<String> = b.iter().map(|b| b.object.name()).collect();
        assert_eq!(
            names,
            [
                "date=2026-03-01/00000000000000000005-00000000000000000006.jsonl",
                "date=2026-03-02/00000000000000000007-00000000000000000007.jsonl"
            ]
        );
        assert_eq!(b[0].entries, 2);
        let text = String::from_utf8(b[0].body.clone()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));

        let many: Vec<(LedgerEvent, Sha256)> = (1..=(MAX_ENTRIES_PER_OBJECT as u64 + 1))
            .map(|s| (event(s, "2026-03-01T10:00:00.000Z", prev), prev))
            .collect();
        let b = batches(many.iter().map(|(e, h)| (e, h))).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].entries as usize, MAX_ENTRIES_PER_OBJECT);
        assert_eq!(b[1].object.first, MAX_ENTRIES_PER_OBJECT as u64 + 1);

        let undated = event(1, "yesterday", genesis_prev_hash());
        let e = batches([(&undated, &prev)]).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
    }
}
