//! Cross-checks record rows against the chained events that recorded them.
//!
//! Record tables are not hashed themselves; each row names the event written with it
//! (`event_seq`), and that event carries the row's content. So a row added, edited or removed
//! outside Countersign shows up as a row whose event does not describe it, or an event with
//! no row.

use std::path::Path;

use countersign_core::ledger_event::{ChainFault, ChainProblem};
use rusqlite::Connection;
use serde_json::Value;

use crate::error::{db_error, LedgerError};

/// One record table: how to read its rows with their event, and how to rebuild the event's
/// content from a row.
struct Check {
    table: &'static str,
    action: &'static str,
    /// Selects: row id, event seq, event action, event object id, event time, event after,
    /// event reason (0-6); the row's object id, time and reason (7-9, NULL where the table has
    /// none); then the columns [`expected_after`] rebuilds the event's `after` from (10-).
    sql: &'static str,
}

const CHECKS: &[Check] = &[
    Check {
        table: "objects",
        action: "object.stored",
        sql: "SELECT r.id, r.event_seq, e.action, e.object_id, e.time_utc, e.after, e.reason, \
              r.uri, r.fetched_at, NULL, r.sha256, r.size, r.version_id, r.etag, r.last_modified, \
              r.source, r.run_key, r.metadata \
              FROM objects r LEFT JOIN events e ON e.seq = r.event_seq ORDER BY r.id",
    },
    Check {
        table: "rejections",
        action: "object.rejected",
        sql: "SELECT r.id, r.event_seq, e.action, e.object_id, e.time_utc, e.after, e.reason, \
              r.uri, r.rejected_at, r.reason, r.version_id, r.etag, r.expected_sha256, \
              r.actual_sha256 \
              FROM rejections r LEFT JOIN events e ON e.seq = r.event_seq ORDER BY r.id",
    },
    Check {
        table: "checkpoints",
        action: "ledger.checkpoint",
        sql: "SELECT r.id, r.event_seq, e.action, e.object_id, e.time_utc, e.after, e.reason, \
              'seq ' || r.seq, NULL, NULL, r.seq, hex(r.head_hash), hex(r.public_key) \
              FROM checkpoints r LEFT JOIN events e ON e.seq = r.event_seq ORDER BY r.id",
    },
];

/// The `after` the recording event must carry for this row (as `add_object` and
/// `reject_object` write it).
fn expected_after(table: &str, row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(match table {
        "objects" => {
            let mut v = serde_json::json!({
                "sha256": row.get::<_, String>(10)?,
                "size": row.get::<_, i64>(11)?,
                "version_id": row.get::<_, Option<String>>(12)?,
                "etag": row.get::<_, Option<String>>(13)?,
                "last_modified": row.get::<_, Option<String>>(14)?,
                "source": row.get::<_, String>(15)?,
                "run_key": row.get::<_, Option<String>>(16)?,
            });
            let metadata: String = row.get(17)?;
            let metadata: Value = serde_json::from_str(&metadata).unwrap_or(Value::Null);
            let empty = metadata.as_object().is_some_and(|m| m.is_empty());
            if let (false, Some(map)) = (empty, v.as_object_mut()) {
                map.insert("metadata".into(), metadata);
            }
            v
        }
        "rejections" => serde_json::json!({
            "version_id": row.get::<_, Option<String>>(10)?,
            "etag": row.get::<_, Option<String>>(11)?,
            "expected_sha256": row.get::<_, Option<String>>(12)?,
            "actual_sha256": row.get::<_, Option<String>>(13)?,
        }),
        _ => serde_json::json!({
            "seq": row.get::<_, i64>(10)?,
            "head_hash": row.get::<_, String>(11)?.to_lowercase(),
            "public_key": row.get::<_, String>(12)?.to_lowercase(),
        }),
    })
}

/// The first record row that does not match its event, or event that lost its row.
pub(crate) fn check_records(
    conn: &Connection,
    path: &Path,
) -> Result<Option<ChainProblem>, LedgerError> {
    let err = |e| db_error(path, "checking records against the chain", e);
    for check in CHECKS {
        let mut stmt = conn.prepare(check.sql).map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        let mut seen = std::collections::HashSet::new();
        while let Some(row) = rows.next().map_err(err)? {
            let id: i64 = row.get(0).map_err(err)?;
            let seq: i64 = row.get(1).map_err(err)?;
            let mismatch = |detail: String| {
                Some(ChainProblem {
                    seq: u64::try_from(seq).unwrap_or(0),
                    fault: ChainFault::RecordMismatch {
                        table: check.table.into(),
                        row: Some(id),
                        detail,
                    },
                })
            };
            let action: Option<String> = row.get(2).map_err(err)?;
            if action.as_deref() != Some(check.action) {
                return Ok(mismatch(match action {
                    None => format!("it names entry {seq}, which does not exist"),
                    Some(a) => format!("it names entry {seq}, a {a} entry, not {}", check.action),
                }));
            }
            if !seen.insert(seq) {
                return Ok(mismatch(format!(
                    "another {} row already names entry {seq}",
                    check.table
                )));
            }
            let object_id: String = row.get(3).map_err(err)?;
            if object_id != row.get::<_, String>(7).map_err(err)? {
                return Ok(mismatch("the object differs".into()));
            }
            if let Some(t) = row.get::<_, Option<String>>(8).map_err(err)? {
                if t != row.get::<_, String>(4).map_err(err)? {
                    return Ok(mismatch("the time differs".into()));
                }
            }
            if let Some(r) = row.get::<_, Option<String>>(9).map_err(err)? {
                if Some(r) != row.get::<_, Option<String>>(6).map_err(err)? {
                    return Ok(mismatch("the reason differs".into()));
                }
            }
            let after: Option<String> = row.get(5).map_err(err)?;
            let recorded: Option<Value> = after.and_then(|a| serde_json::from_str(&a).ok());
            if recorded.as_ref() != Some(&expected_after(check.table, row).map_err(err)?) {
                return Ok(mismatch(
                    "its content differs from what the entry recorded".into(),
                ));
            }
        }
        // Every event of this kind must still have its row.
        let orphan: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT e.seq FROM events e WHERE e.action = ?1 AND NOT EXISTS \
                     (SELECT 1 FROM {} r WHERE r.event_seq = e.seq) ORDER BY e.seq LIMIT 1",
                    check.table
                ),
                [check.action],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(err)?;
        if let Some(seq) = orphan {
            return Ok(Some(ChainProblem {
                seq: u64::try_from(seq).unwrap_or(0),
                fault: ChainFault::RecordMismatch {
                    table: check.table.into(),
                    row: None,
                    detail: format!("a {} entry without its row", check.action),
                },
            }));
        }
    }
    Ok(None)
}
