//! Appending events to the chain and reading them back.

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::{genesis_prev_hash, Actor, LedgerEvent, LedgerEventRef};
use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::Serialize;
use time::OffsetDateTime;

use countersign_core::clock::Clock;

use crate::clock::stamp;
use crate::error::LedgerError;

/// The largest text field accepted in an event (1 MiB); larger values belong in the store,
/// recorded here by digest.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// What kind of entry an event is; changes, rejections and dispositions need a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventClass {
    /// Something was recorded or done (an object stored, an export, a checkpoint).
    #[default]
    Record,
    /// Something recorded was changed or superseded.
    Change,
    /// Something was refused (an object at fetch, a signature).
    Rejection,
    /// A decision on a run (reviewed, approved, rejected).
    Disposition,
}

impl EventClass {
    /// Whether an event of this class must carry a reason.
    pub fn requires_reason(self) -> bool {
        !matches!(self, EventClass::Record)
    }
}

/// An event to append. The ledger adds the sequence number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Who is acting.
    pub actor: Actor,
    /// A dotted lowercase name: `object.stored`, `run.disposition`.
    pub action: String,
    /// The kind of thing acted on: `object`, `run`, `ledger`.
    pub object_kind: String,
    /// Which one.
    pub object_id: String,
    /// Value or digest before.
    pub before: Option<String>,
    /// Value or digest after.
    pub after: Option<String>,
    /// Why; mandatory unless `class` is [`EventClass::Record`].
    pub reason: Option<String>,
    /// The kind of entry, which decides whether a reason is required.
    pub class: EventClass,
}

impl NewEvent {
    /// A record event with no before/after/reason.
    pub fn new(
        actor: &Actor,
        action: impl Into<String>,
        object_kind: impl Into<String>,
        object_id: impl Into<String>,
    ) -> Self {
        Self {
            actor: actor.clone(),
            action: action.into(),
            object_kind: object_kind.into(),
            object_id: object_id.into(),
            before: None,
            after: None,
            reason: None,
            class: EventClass::Record,
        }
    }

    /// Sets the value or digest before.
    pub fn before(mut self, v: impl Into<String>) -> Self {
        self.before = Some(v.into());
        self
    }

    /// Sets the value or digest after.
    pub fn after(mut self, v: impl Into<String>) -> Self {
        self.after = Some(v.into());
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, v: impl Into<String>) -> Self {
        self.reason = Some(v.into());
        self
    }

    /// Sets the class.
    pub fn class(mut self, class: EventClass) -> Self {
        self.class = class;
        self
    }

    /// Checks the event before anything is written.
    pub(crate) fn validate(&self) -> Result<(), LedgerError> {
        let bad = |detail: String| LedgerError::InvalidEvent {
            action: self.action.clone(),
            detail,
        };
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if !name_ok(&self.action) {
            return Err(bad(format!(
                "the action {:?} must be 1-64 characters of a-z, 0-9, '.', '_' or '-'",
                self.action
            )));
        }
        if !name_ok(&self.object_kind) {
            return Err(bad(format!(
                "the object kind {:?} must be 1-64 characters of a-z, 0-9, '.', '_' or '-'",
                self.object_kind
            )));
        }
        if self.object_id.is_empty() {
            return Err(bad("the object id is empty".into()));
        }
        let fields: [(&str, Option<&str>); 6] = [
            ("object id", Some(&self.object_id)),
            ("before", self.before.as_deref()),
            ("after", self.after.as_deref()),
            ("reason", self.reason.as_deref()),
            ("actor ARN", self.actor.arn.as_deref()),
            ("printed name", self.actor.printed_name.as_deref()),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                if v.len() > MAX_FIELD_BYTES {
                    return Err(bad(format!(
                        "the {name} is {} bytes; at most {MAX_FIELD_BYTES} are allowed (record large values by digest)",
                        v.len()
                    )));
                }
                if v.contains('\0') {
                    return Err(bad(format!("the {name} contains a NUL character")));
                }
            }
        }
        if self.class.requires_reason()
            && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(LedgerError::ReasonRequired {
                action: self.action.clone(),
            });
        }
        Ok(())
    }
}

/// An event as stored: the hashed fields and the stored hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// The hashed fields.
    #[serde(flatten)]
    pub event: LedgerEvent,
    /// The hash stored with it.
    pub hash: Sha256,
}

pub(crate) const EVENT_COLUMNS: &str = "seq, time_utc, utc_offset, actor_arn, actor_name, action, \
     object_kind, object_id, before, after, reason, prev_hash, hash";

/// A row that cannot even be read as an event (wrong type, wrong blob length).
#[derive(Debug)]
pub(crate) struct BadRow {
    pub seq: i64,
    pub detail: String,
}

fn blob32(
    row: &Row<'_>,
    idx: usize,
    name: &str,
    seq: i64,
) -> rusqlite::Result<Result<Sha256, BadRow>> {
    let v: Vec<u8> = row.get(idx)?;
    Ok(<[u8; 32]>::try_from(v.as_slice())
        .map(Sha256::from_bytes)
        .map_err(|_| BadRow {
            seq,
            detail: format!("{name} is {} bytes, not 32", v.len()),
        }))
}

/// A TEXT column of an event row, borrowed from the row.
fn text_ref<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<Option<&'r str>> {
    let v = row.get_ref(idx)?;
    v.as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, v.data_type(), Box::new(e)))
}

fn text_ref_required<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r str> {
    // The error (and its text) is built only when the column is NULL: `verify` reads every
    // column of every row, and formatting it each time cost about 6% of the pass.
    text_ref(row, idx)?.ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(
            idx,
            format!("column {idx}"),
            rusqlite::types::Type::Null,
        )
    })
}

/// A 32-byte BLOB column of an event row, without copying it into a `Vec`.
fn blob32_ref(
    row: &Row<'_>,
    idx: usize,
    name: &str,
    seq: i64,
) -> rusqlite::Result<Result<Sha256, BadRow>> {
    let v = row.get_ref(idx)?;
    let bytes = v
        .as_blob()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, v.data_type(), Box::new(e)))?;
    Ok(<[u8; 32]>::try_from(bytes)
        .map(Sha256::from_bytes)
        .map_err(|_| BadRow {
            seq,
            detail: format!("{name} is {} bytes, not 32", bytes.len()),
        }))
}

/// Reads a row selected with [`EVENT_COLUMNS`] without copying its fields: the event as it
/// is hashed, and its stored hash.
pub(crate) fn event_ref_from_row<'r>(
    row: &'r Row<'_>,
) -> rusqlite::Result<Result<(LedgerEventRef<'r>, Sha256), BadRow>> {
    let seq: i64 = row.get(0)?;
    let Ok(useq) = u64::try_from(seq) else {
        return Ok(Err(BadRow {
            seq,
            detail: "negative sequence number".into(),
        }));
    };
    let prev_hash = match blob32_ref(row, 11, "prev_hash", seq)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let hash = match blob32_ref(row, 12, "hash", seq)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok((
        LedgerEventRef {
            seq: useq,
            time_utc: text_ref_required(row, 1)?,
            utc_offset: text_ref_required(row, 2)?,
            actor_arn: text_ref(row, 3)?,
            actor_name: text_ref(row, 4)?,
            action: text_ref_required(row, 5)?,
            object_kind: text_ref_required(row, 6)?,
            object_id: text_ref_required(row, 7)?,
            before: text_ref(row, 8)?,
            after: text_ref(row, 9)?,
            reason: text_ref(row, 10)?,
            prev_hash,
        },
        hash,
    )))
}

/// Reads a row selected with [`EVENT_COLUMNS`].
pub(crate) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Result<EventRecord, BadRow>> {
    let seq: i64 = row.get(0)?;
    let Ok(useq) = u64::try_from(seq) else {
        return Ok(Err(BadRow {
            seq,
            detail: "negative sequence number".into(),
        }));
    };
    let prev_hash = match blob32(row, 11, "prev_hash", seq)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let hash = match blob32(row, 12, "hash", seq)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(EventRecord {
        event: LedgerEvent {
            seq: useq,
            time_utc: row.get(1)?,
            utc_offset: row.get(2)?,
            actor: Actor {
                arn: row.get(3)?,
                printed_name: row.get(4)?,
            },
            action: row.get(5)?,
            object_kind: row.get(6)?,
            object_id: row.get(7)?,
            before: row.get(8)?,
            after: row.get(9)?,
            reason: row.get(10)?,
            prev_hash,
        },
        hash,
    }))
}

/// Appends one event inside an open IMMEDIATE transaction: reads the head, links, hashes,
/// inserts. The caller commits.
pub(crate) fn append_in(
    tx: &Transaction<'_>,
    clock: &dyn Clock,
    ev: &NewEvent,
) -> Result<EventRecord, AppendError> {
    ev.validate().map_err(AppendError::Ledger)?;
    let head: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(AppendError::Sql)?;
    let (seq, prev_hash) = match head {
        None => (1u64, genesis_prev_hash()),
        Some((s, h)) => {
            let prev = <[u8; 32]>::try_from(h.as_slice()).map_err(|_| {
                AppendError::Ledger(LedgerError::InvalidEvent {
                    action: ev.action.clone(),
                    detail: format!(
                        "the head entry {s} has a malformed hash; run `countersign ledger verify`"
                    ),
                })
            })?;
            let next = u64::try_from(s).unwrap_or(0).saturating_add(1);
            (next, Sha256::from_bytes(prev))
        }
    };
    let (time_utc, utc_offset) = stamp(clock.now()).map_err(AppendError::Ledger)?;
    let event = LedgerEvent {
        seq,
        time_utc,
        utc_offset,
        actor: ev.actor.clone(),
        action: ev.action.clone(),
        object_kind: ev.object_kind.clone(),
        object_id: ev.object_id.clone(),
        before: ev.before.clone(),
        after: ev.after.clone(),
        reason: ev.reason.clone(),
        prev_hash,
    };
    let hash = event.hash().map_err(|e| AppendError::Ledger(e.into()))?;
    let seq_i = i64::try_from(seq).map_err(|_| {
        AppendError::Ledger(LedgerError::InvalidEvent {
            action: ev.action.clone(),
            detail: "the ledger has reached its maximum sequence number".into(),
        })
    })?;
    tx.execute(
        "INSERT INTO events (seq, time_utc, utc_offset, actor_arn, actor_name, action, object_kind, \
         object_id, before, after, reason, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            seq_i,
            event.time_utc,
            event.utc_offset,
            event.actor.arn,
            event.actor.printed_name,
            event.action,
            event.object_kind,
            event.object_id,
            event.before,
            event.after,
            event.reason,
            event.prev_hash.as_bytes().as_slice(),
            hash.as_bytes().as_slice(),
        ],
    )
    .map_err(AppendError::Sql)?;
    Ok(EventRecord { event, hash })
}

/// An append failure before the ledger path is attached.
#[derive(Debug)]
pub(crate) enum AppendError {
    Sql(rusqlite::Error),
    Ledger(LedgerError),
}

/// Which events to read or export. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Events strictly before this time.
    pub until: Option<OffsetDateTime>,
    /// Events by this actor: an IAM ARN, a printed name, or `system`.
    pub actor: Option<String>,
    /// Events on objects of this kind.
    pub object_kind: Option<String>,
    /// Events on this object id.
    pub object_id: Option<String>,
    /// Events with this action.
    pub action: Option<String>,
    /// How the text fields match: exactly (the default), or as a substring in any letter case.
    pub text_match: TextMatch,
}

/// How an [`EventFilter`]'s text fields (actor, object kind, object id, action) match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TextMatch {
    /// The field equals the text (the actor: its ARN or printed name, or `system`).
    #[default]
    Exact,
    /// The field contains the text, ignoring the case of ASCII letters (the actor: its ARN,
    /// printed name, or `system` for the system's entries).
    Contains,
}

impl EventFilter {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// The SQL WHERE clause and its parameters.
    pub(crate) fn to_sql(&self) -> Result<(String, Vec<String>), LedgerError> {
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<String> = Vec::new();
        fn add(clauses: &mut Vec<String>, params: &mut Vec<String>, clause: &str, value: String) {
            params.push(value);
            clauses.push(clause.replace('?', &format!("?{}", params.len())));
        }
        if let Some(t) = self.from {
            add(
                &mut clauses,
                &mut params,
                "time_utc >= ?",
                crate::clock::utc_text(t)?,
            );
        }
        if let Some(t) = self.until {
            add(
                &mut clauses,
                &mut params,
                "time_utc < ?",
                crate::clock::utc_text(t)?,
            );
        }
        if self.text_match == TextMatch::Contains {
            if let Some(a) = &self.actor {
                add(
                    &mut clauses,
                    &mut params,
                    "(instr(lower(coalesce(actor_arn, '')), lower(?)) > 0 \
                     OR instr(lower(coalesce(actor_name, '')), lower(?)) > 0 \
                     OR (actor_arn IS NULL AND actor_name IS NULL AND instr('system', lower(?)) > 0))",
                    a.clone(),
                );
            }
            for (column, value) in [
                ("object_kind", &self.object_kind),
                ("object_id", &self.object_id),
                ("action", &self.action),
            ] {
                if let Some(v) = value {
                    add(
                        &mut clauses,
                        &mut params,
                        &format!("instr(lower({column}), lower(?)) > 0"),
                        v.clone(),
                    );
                }
            }
        } else if let Some(a) = &self.actor {
            if a == "system" {
                clauses.push("(actor_arn IS NULL AND actor_name IS NULL)".into());
            } else {
                add(
                    &mut clauses,
                    &mut params,
                    "(actor_arn = ? OR actor_name = ?)",
                    a.clone(),
                );
            }
        }
        if self.text_match == TextMatch::Exact {
            if let Some(k) = &self.object_kind {
                add(&mut clauses, &mut params, "object_kind = ?", k.clone());
            }
            if let Some(id) = &self.object_id {
                add(&mut clauses, &mut params, "object_id = ?", id.clone());
            }
            if let Some(a) = &self.action {
                add(&mut clauses, &mut params, "action = ?", a.clone());
            }
        }
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        Ok((clause, params))
    }

    /// A short description for the export event.
    pub(crate) fn describe(&self) -> serde_json::Value {
        let t = |t: &Option<OffsetDateTime>| t.and_then(|t| crate::clock::utc_text(t).ok());
        let mut d = serde_json::json!({
            "from": t(&self.from),
            "until": t(&self.until),
            "actor": self.actor,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "action": self.action,
        });
        // Recorded only for substring filters, so an exact filter's record reads as before.
        if self.text_match == TextMatch::Contains {
            d["match"] = serde_json::json!("contains");
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_required_for_changes_rejections_and_dispositions() {
        let a = Actor::person("arn:aws:iam::1:user/a", "A");
        for class in [
            EventClass::Change,
            EventClass::Rejection,
            EventClass::Disposition,
        ] {
            let e = NewEvent::new(&a, "run.disposition", "run", "erp/OQ/1").class(class);
            assert!(matches!(
                e.validate(),
                Err(LedgerError::ReasonRequired { .. })
            ));
            assert!(matches!(
                e.clone().reason("  ").validate(),
                Err(LedgerError::ReasonRequired { .. })
            ));
            assert!(e.reason("signed off").validate().is_ok());
        }
        assert!(NewEvent::new(&a, "object.stored", "object", "s3://b/k")
            .validate()
            .is_ok());
    }

    #[test]
    fn bad_names_and_fields_are_refused_with_the_field_named() {
        let a = Actor::system();
        let err = NewEvent::new(&a, "Object Stored", "object", "x")
            .validate()
            .unwrap_err();
        assert!(
            err.to_string().contains("the action \"Object Stored\""),
            "{err}"
        );
        let err = NewEvent::new(&a, "x", "", "x").validate().unwrap_err();
        assert!(err.to_string().contains("object kind"), "{err}");
        let err = NewEvent::new(&a, "x", "k", "").validate().unwrap_err();
        assert!(err.to_string().contains("object id is empty"), "{err}");
        let err = NewEvent::new(&a, "x", "k", "i")
            .after("a\0b")
            .validate()
            .unwrap_err();
        assert!(
            err.to_string().contains("the after contains a NUL"),
            "{err}"
        );
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let err = NewEvent::new(&a, "x", "k", "i")
            .before(big)
            .validate()
            .unwrap_err();
        assert!(
            err.to_string().contains("the before is 1048577 bytes"),
            "{err}"
        );
    }

    #[test]
    fn filter_builds_numbered_parameters() {
        let f = EventFilter {
            actor: Some("system".into()),
            action: Some("object.stored".into()),
            object_id: Some("s3://b/k".into()),
            ..EventFilter::all()
        };
        let (sql, params) = f.to_sql().unwrap();
        assert_eq!(
            sql,
            " WHERE (actor_arn IS NULL AND actor_name IS NULL) AND object_id = ?1 AND action = ?2"
        );
        assert_eq!(
            params,
            vec!["s3://b/k".to_string(), "object.stored".to_string()]
        );
        assert_eq!(EventFilter::all().to_sql().unwrap().0, "");
    }
}
