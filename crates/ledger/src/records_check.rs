//! Cross-checks record rows against the chained events that recorded them.
//!
//! Record tables are not hashed themselves; each row names the event written with it
//! (`event_seq`), and that event carries the row's content. So a row added, edited or removed
//! outside Countersign shows up as a row whose event does not describe it, or an event with
//! no row.

use std::path::Path;

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::{ChainFault, ChainProblem};
use countersign_core::signature::dsse::Envelope;
use countersign_core::signature::statement::Statement;
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
              r.source, r.run_key, r.metadata, r.bucket, r.key \
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
    Check {
        table: "signer_keys",
        action: "key.enrolled",
        sql:
            "SELECT r.id, r.event_seq, e.action, e.object_kind || ':' || e.object_id, e.time_utc, \
              e.after, e.reason, 'key:' || r.key_id, r.enrolled_at, NULL, r.iam_arn, \
              r.printed_name, hex(r.public_key), e.actor_name, r.account, r.mfa_serial \
              FROM signer_keys r LEFT JOIN events e ON e.seq = r.event_seq ORDER BY r.id",
    },
    Check {
        table: "signatures",
        action: "signature.applied",
        sql: "SELECT r.id, r.event_seq, e.action, \
              e.object_kind || ':' || e.object_id || ' by ' || coalesce(e.actor_name, ''), \
              e.time_utc, e.after, e.reason, \
              r.subject_kind || ':' || r.subject_id || ' by ' || r.printed_name, NULL, NULL, \
              r.meaning, r.key_id, r.subject_sha256, r.envelope, r.signed_at, r.utc_offset, \
              r.subject_kind || ':' || r.subject_id \
              FROM signatures r LEFT JOIN events e ON e.seq = r.event_seq ORDER BY r.id",
    },
];

/// Tables whose rows are compared with the members of their event that the row rebuilds
/// (every member the row holds is compared; an event member the row has no column for is
/// checked by [`row_problem`] from the envelope or the actor instead).
fn compares_subset(table: &str) -> bool {
    matches!(table, "signer_keys" | "signatures")
}

/// Checks a row against what its event cannot carry: an object's bucket and key must be the
/// ones its URI names, a signature row's envelope must be a statement about the row's subject,
/// digest, meaning, time and offset, and a signer key's printed name must be the enrolling
/// actor's.
fn row_problem(table: &str, row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<String>> {
    match table {
        "objects" => {
            let uri: String = row.get(7)?;
            let bucket: Option<String> = row.get(18)?;
            let key: Option<String> = row.get(19)?;
            Ok(
                (!location_matches_uri(&uri, bucket.as_deref(), key.as_deref()))
                    .then(|| "its bucket or key is not the one its URI names".into()),
            )
        }
        "signer_keys" => {
            let name: String = row.get(11)?;
            let actor: Option<String> = row.get(13)?;
            Ok((actor.as_deref() != Some(name.as_str()))
                .then(|| "the printed name differs from the enrolling person's".into()))
        }
        "signatures" => {
            let envelope: Vec<u8> = row.get(13)?;
            let statement = Envelope::from_json(&envelope)
                .ok()
                .and_then(|env| env.payload_bytes().ok())
                .and_then(|p| Statement::from_payload(&p).ok());
            let Some((st, signed)) = statement.and_then(|st| {
                let first = st.subject.first().cloned();
                first.map(|f| (st, f))
            }) else {
                return Ok(Some("its envelope is not a readable signature".into()));
            };
            // The subject name is `<kind>:<id>` (`run:…`, `package:…`, `audit-trail:…`).
            let subject: String = row.get(16)?;
            let checks = [
                (signed.name == subject, "subject"),
                (
                    signed.digest.sha256.to_hex() == row.get::<_, String>(12)?,
                    "digest",
                ),
                (
                    st.predicate.meaning.as_str() == row.get::<_, String>(10)?,
                    "meaning",
                ),
                (
                    st.predicate.key_id.to_hex() == row.get::<_, String>(11)?,
                    "key",
                ),
                (
                    st.predicate.signed_at.to_string() == row.get::<_, String>(14)?,
                    "signing time",
                ),
                (
                    st.predicate.utc_offset.to_string() == row.get::<_, String>(15)?,
                    "UTC offset",
                ),
            ];
            Ok(checks
                .iter()
                .find(|(ok, _)| !ok)
                .map(|(_, what)| format!("its envelope's {what} differs from the row")))
        }
        _ => Ok(None),
    }
}

/// Whether an object row's bucket and key are the ones its URI names: `s3://<bucket>/<key>`
/// for an S3 object (a bucket name has no `/`, so the URI determines both), and
/// `file://<folder or archive>/<key>` for an imported file; objects that are neither (stack
/// snapshots) have no bucket and no key. These columns decide which run a file belongs to, so
/// they must be derived from what the chain covers.
fn location_matches_uri(uri: &str, bucket: Option<&str>, key: Option<&str>) -> bool {
    match (bucket, key) {
        (Some(b), Some(k)) => {
            !b.is_empty()
                && !b.contains('/')
                && uri.strip_prefix("s3://") == Some(&format!("{b}/{k}"))
        }
        (None, Some(k)) => {
            !k.is_empty()
                && uri
                    .strip_prefix("file://")
                    .and_then(|rest| rest.strip_suffix(k))
                    .is_some_and(|root| root.ends_with('/'))
        }
        (None, None) => !uri.starts_with("s3://") && !uri.starts_with("file://"),
        (Some(_), None) => false,
    }
}

/// Whether `recorded` holds every member of `expected` with the same value.
fn contains_all(recorded: &Value, expected: &Value) -> bool {
    match (recorded.as_object(), expected.as_object()) {
        (Some(r), Some(e)) => e.iter().all(|(k, v)| r.get(k) == Some(v)),
        _ => false,
    }
}

/// The `after` the recording event must carry for this row (as `add_object` and
/// `reject_object` write it). An `object.stored` entry written since the bucket and key are
/// recorded in it (`recorded` has a `key` member) must carry the row's.
fn expected_after(
    table: &str,
    row: &rusqlite::Row<'_>,
    recorded: Option<&Value>,
) -> rusqlite::Result<Value> {
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
            if let Some(map) = v.as_object_mut() {
                if !empty {
                    map.insert("metadata".into(), metadata);
                }
                if recorded.is_some_and(|r| r.get("key").is_some()) {
                    map.insert("bucket".into(), row.get::<_, Option<String>>(18)?.into());
                    map.insert("key".into(), row.get::<_, Option<String>>(19)?.into());
                }
            }
            v
        }
        "rejections" => serde_json::json!({
            "version_id": row.get::<_, Option<String>>(10)?,
            "etag": row.get::<_, Option<String>>(11)?,
            "expected_sha256": row.get::<_, Option<String>>(12)?,
            "actual_sha256": row.get::<_, Option<String>>(13)?,
        }),
        "signer_keys" => {
            let mut v = serde_json::json!({
                "iam_arn": row.get::<_, String>(10)?,
                "printed_name": row.get::<_, String>(11)?,
                "public_key": row.get::<_, String>(12)?.to_lowercase(),
            });
            // Schema 3 keeps the account and MFA device as columns (NULL before it).
            let facts: (Option<String>, Option<String>) = (row.get(14)?, row.get(15)?);
            if let (Some(map), (Some(account), Some(mfa_serial))) = (v.as_object_mut(), facts) {
                map.insert("account".into(), Value::String(account));
                map.insert("mfa_serial".into(), Value::String(mfa_serial));
            }
            v
        }
        "signatures" => serde_json::json!({
            "meaning": row.get::<_, String>(10)?,
            "key_id": row.get::<_, String>(11)?,
            "subject_sha256": row.get::<_, String>(12)?,
            "envelope_sha256": Sha256::of(&row.get::<_, Vec<u8>>(13)?).to_hex(),
        }),
        _ => serde_json::json!({
            "seq": row.get::<_, i64>(10)?,
            "head_hash": row.get::<_, String>(11)?.to_lowercase(),
            "public_key": row.get::<_, String>(12)?.to_lowercase(),
        }),
    })
}

/// The sequence numbers of the entries whose kind has a record table, as the chain walk met
/// them (in order).
#[derive(Debug, Default)]
pub(crate) struct RecordEntries {
    seqs: [Vec<u64>; CHECKS.len()],
}

impl RecordEntries {
    /// Notes an entry of the chain, if its kind has a record table.
    pub(crate) fn note(&mut self, action: &str, seq: u64) {
        if let Some(i) = CHECKS.iter().position(|c| c.action == action) {
            self.seqs[i].push(seq);
        }
    }
}

/// The first record row that does not match its event, or event that lost its row. Reads a
/// ledger of any schema this build knows (a backup is verified before it is migrated).
pub(crate) fn check_records(
    conn: &Connection,
    path: &Path,
    entries: &RecordEntries,
) -> Result<Option<ChainProblem>, LedgerError> {
    let err = |e| db_error(path, "checking records against the chain", e);
    let version = crate::schema::user_version(conn, path)?;
    for (check, entries) in CHECKS.iter().zip(&entries.seqs) {
        // Before schema 3 a signer key had no account or MFA device columns.
        let sql = if check.table == "signer_keys" && version < 3 {
            check.sql.replace("r.account, r.mfa_serial", "NULL, NULL")
        } else {
            check.sql.to_owned()
        };
        let mut stmt = conn.prepare(&sql).map_err(err)?;
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
            let expected = expected_after(check.table, row, recorded.as_ref()).map_err(err)?;
            let same = match &recorded {
                Some(r) if compares_subset(check.table) => contains_all(r, &expected),
                Some(r) => *r == expected,
                None => false,
            };
            if !same {
                return Ok(mismatch(
                    "its content differs from what the entry recorded".into(),
                ));
            }
            if let Some(detail) = row_problem(check.table, row).map_err(err)? {
                return Ok(mismatch(detail));
            }
        }
        // Every entry of this kind must still have its row: each entry the chain walk met is
        // looked up among the rows just read (no query per entry, so linear in the ledger).
        let orphan = entries
            .iter()
            .copied()
            .find(|seq| !seen.contains(&i64::try_from(*seq).unwrap_or(i64::MAX)));
        if let Some(seq) = orphan {
            return Ok(Some(ChainProblem {
                seq,
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

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::clock::SteppingClock;
    use time::macros::datetime;

    /// Every statement the record check runs, as SQLite plans it.
    fn plans() -> Vec<(String, Vec<String>)> {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(
            &mut conn,
            Path::new(":memory:"),
            &SteppingClock::new(datetime!(2026-03-01 09:00:00 UTC), 1),
            crate::SCHEMA_VERSION,
        )
        .unwrap();
        let sqls: Vec<String> = CHECKS.iter().map(|c| c.sql.to_owned()).collect();
        sqls.into_iter()
            .map(|sql| {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let params = vec!["object.stored"; stmt.parameter_count()];
                let plan = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        r.get::<_, String>(3)
                    })
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                (sql, plan)
            })
            .collect()
    }

    /// Linear in the ledger's size: each statement reads one table through once and finds
    /// everything else by key. A second full scan (or a correlated subquery) inside the first
    /// makes `ledger verify` quadratic in the number of stored objects.
    #[test]
    fn every_check_reads_one_table_once_and_the_rest_by_key() {
        for (sql, plan) in plans() {
            let scans = plan.iter().filter(|d| d.starts_with("SCAN")).count();
            assert!(scans <= 1, "{scans} full scans in {sql}: {plan:?}");
            assert!(
                !plan.iter().any(|d| d.contains("CORRELATED")),
                "a correlated subquery in {sql}: {plan:?}"
            );
        }
    }
}
