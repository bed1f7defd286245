//! Evidence objects taken into the store, and objects refused at fetch or import.

use countersign_core::digest::Sha256;
use countersign_core::ledger_event::Actor;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, EventClass, NewEvent};
use crate::Ledger;

/// Where an object came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Fetched from S3.
    S3,
    /// Imported from a folder or archive (offline review).
    Import,
}

impl SourceKind {
    /// The stored name: `s3` or `import`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::S3 => "s3",
            SourceKind::Import => "import",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "s3" => Some(SourceKind::S3),
            "import" => Some(SourceKind::Import),
            _ => None,
        }
    }
}

/// An object that has just entered the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// Digest of the stored bytes.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
    /// `s3://bucket/key` or `file://…`.
    pub uri: String,
    /// S3 bucket, for S3 objects.
    pub bucket: Option<String>,
    /// S3 key, for S3 objects.
    pub key: Option<String>,
    /// S3 version id, when the bucket is versioned.
    pub version_id: Option<String>,
    /// ETag as reported by the source.
    pub etag: Option<String>,
    /// Last-Modified as reported by the source (RFC 3339).
    pub last_modified: Option<String>,
    /// Where it came from.
    pub source: SourceKind,
    /// The run it belongs to (`system/phase/run-id`), if known.
    pub run_key: Option<String>,
}

/// An object as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRecord {
    /// Row id.
    pub id: i64,
    /// Digest of the stored bytes.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
    /// Source URI.
    pub uri: String,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// S3 key.
    pub key: Option<String>,
    /// S3 version id.
    pub version_id: Option<String>,
    /// ETag.
    pub etag: Option<String>,
    /// Last-Modified as reported by the source.
    pub last_modified: Option<String>,
    /// When it entered the store (UTC, RFC 3339 with milliseconds).
    pub fetched_at: String,
    /// Where it came from.
    pub source: SourceKind,
    /// The run it belongs to.
    pub run_key: Option<String>,
    /// The `object.stored` event that recorded it.
    pub event_seq: u64,
    /// The source's user metadata (S3 `x-amz-meta-*`), sorted by name.
    pub metadata: Vec<(String, String)>,
}

/// Where a recorded object came from and what it is ([`Ledger::object_sources`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSource {
    pub uri: String,
    pub key: Option<String>,
    pub sha256: Sha256,
    pub size: u64,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

fn sorted(metadata: &[(String, String)]) -> Vec<(String, String)> {
    let mut v = metadata.to_vec();
    v.sort();
    v
}

/// An object refused at fetch or import; it never entered the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRejection {
    /// Source URI.
    pub uri: String,
    /// S3 version id.
    pub version_id: Option<String>,
    /// ETag.
    pub etag: Option<String>,
    /// Why it was refused (mandatory).
    pub reason: String,
    /// The digest it was expected to have (from a manifest), if any.
    pub expected_sha256: Option<Sha256>,
    /// The digest of the bytes received, if any were received.
    pub actual_sha256: Option<Sha256>,
}

/// A refusal as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectionRecord {
    /// Row id.
    pub id: i64,
    /// Source URI.
    pub uri: String,
    /// S3 version id.
    pub version_id: Option<String>,
    /// ETag.
    pub etag: Option<String>,
    /// Why it was refused.
    pub reason: String,
    /// Expected digest.
    pub expected_sha256: Option<Sha256>,
    /// Actual digest.
    pub actual_sha256: Option<Sha256>,
    /// When (UTC, RFC 3339 with milliseconds).
    pub rejected_at: String,
    /// The `object.rejected` event that recorded it.
    pub event_seq: u64,
}

const OBJECT_COLUMNS: &str =
    "id, sha256, size, uri, bucket, key, version_id, etag, last_modified, \
     fetched_at, source, run_key, event_seq, metadata";
const REJECTION_COLUMNS: &str =
    "id, uri, version_id, etag, reason, expected_sha256, actual_sha256, rejected_at, event_seq";

fn bad(table: &'static str, row: i64, detail: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::new(MalformedRow { table, row, detail }),
    )
}

#[derive(Debug, thiserror::Error)]
#[error("malformed {table} row {row}: {detail}")]
struct MalformedRow {
    table: &'static str,
    row: i64,
    detail: String,
}

fn digest_col(
    row: &Row<'_>,
    idx: usize,
    table: &'static str,
    id: i64,
) -> rusqlite::Result<Option<Sha256>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| {
        s.parse::<Sha256>()
            .map_err(|e| bad(table, id, e.to_string()))
    })
    .transpose()
}

fn seq_col(row: &Row<'_>, idx: usize, table: &'static str, id: i64) -> rusqlite::Result<u64> {
    let v: i64 = row.get(idx)?;
    u64::try_from(v).map_err(|_| bad(table, id, format!("negative event sequence {v}")))
}

fn object_from_row(row: &Row<'_>) -> rusqlite::Result<ObjectRecord> {
    let id: i64 = row.get(0)?;
    let sha256 =
        digest_col(row, 1, "objects", id)?.ok_or_else(|| bad("objects", id, "no digest".into()))?;
    let size: i64 = row.get(2)?;
    let source: String = row.get(10)?;
    Ok(ObjectRecord {
        id,
        sha256,
        size: u64::try_from(size)
            .map_err(|_| bad("objects", id, format!("negative size {size}")))?,
        uri: row.get(3)?,
        bucket: row.get(4)?,
        key: row.get(5)?,
        version_id: row.get(6)?,
        etag: row.get(7)?,
        last_modified: row.get(8)?,
        fetched_at: row.get(9)?,
        source: SourceKind::parse(&source)
            .ok_or_else(|| bad("objects", id, format!("unknown source {source:?}")))?,
        run_key: row.get(11)?,
        event_seq: seq_col(row, 12, "objects", id)?,
        metadata: metadata_col(row, 13, id)?,
    })
}

/// Source metadata is stored as a JSON object of strings (sorted keys).
fn metadata_col(row: &Row<'_>, idx: usize, id: i64) -> rusqlite::Result<Vec<(String, String)>> {
    let text: String = row.get(idx)?;
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).map_err(|e| {
            bad(
                "objects",
                id,
                format!("metadata is not a JSON object of strings: {e}"),
            )
        })?;
    Ok(map.into_iter().collect())
}

fn metadata_json(metadata: &[(String, String)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
}

fn rejection_from_row(row: &Row<'_>) -> rusqlite::Result<RejectionRecord> {
    let id: i64 = row.get(0)?;
    Ok(RejectionRecord {
        id,
        uri: row.get(1)?,
        version_id: row.get(2)?,
        etag: row.get(3)?,
        reason: row.get(4)?,
        expected_sha256: digest_col(row, 5, "rejections", id)?,
        actual_sha256: digest_col(row, 6, "rejections", id)?,
        rejected_at: row.get(7)?,
        event_seq: seq_col(row, 8, "rejections", id)?,
    })
}

fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// An object ready to be recorded: its event and its metadata column.
struct Prepared<'a> {
    obj: &'a NewObject,
    metadata: Vec<(String, String)>,
    metadata_text: String,
    size: i64,
    event: NewEvent,
}

fn prepare<'a>(
    obj: &'a NewObject,
    metadata: &[(String, String)],
    actor: &Actor,
) -> Result<Prepared<'a>, LedgerError> {
    if obj.uri.is_empty() {
        return Err(LedgerError::InvalidEvent {
            action: "object.stored".into(),
            detail: "the object URI is empty".into(),
        });
    }
    let size = i64::try_from(obj.size).map_err(|_| LedgerError::InvalidEvent {
        action: "object.stored".into(),
        detail: format!(
            "the size {} of {} is too large to record",
            obj.size, obj.uri
        ),
    })?;
    let mut after = serde_json::json!({
        "sha256": obj.sha256.to_hex(),
        "size": obj.size,
        "version_id": obj.version_id,
        "etag": obj.etag,
        "last_modified": obj.last_modified,
        "source": obj.source.as_str(),
        "run_key": obj.run_key,
        "bucket": obj.bucket,
        "key": obj.key,
    });
    let metadata_text = metadata_json(metadata);
    if !metadata.is_empty() {
        if let (Some(map), Ok(m)) = (
            after.as_object_mut(),
            serde_json::from_str::<serde_json::Value>(&metadata_text),
        ) {
            map.insert("metadata".into(), m);
        }
    }
    let event =
        NewEvent::new(actor, "object.stored", "object", obj.uri.clone()).after(after.to_string());
    event.validate()?;
    Ok(Prepared {
        obj,
        metadata: metadata.to_vec(),
        metadata_text,
        size,
        event,
    })
}

/// Inserts one prepared object and its event, or returns the record already there.
fn insert_object(
    tx: &rusqlite::Transaction<'_>,
    clock: &dyn crate::Clock,
    p: &Prepared<'_>,
) -> Result<ObjectRecord, AppendError> {
    let obj = p.obj;
    let existing_sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE uri = ?1 AND version_id IS ?2 AND etag IS ?3 \
         AND sha256 = ?4"
    );
    // Cached: a group of thousands of objects prepares each statement once.
    let existing = tx
        .prepare_cached(&existing_sql)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![obj.uri, obj.version_id, obj.etag, obj.sha256.to_hex()],
                object_from_row,
            )
            .optional()
        })
        .map_err(AppendError::Sql)?;
    if let Some(rec) = existing {
        return Ok(rec);
    }
    let rec = append_in(tx, clock, &p.event)?;
    tx.prepare_cached(
        "INSERT INTO objects (sha256, size, uri, bucket, key, version_id, etag, last_modified, \
         fetched_at, source, run_key, event_seq, metadata) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            obj.sha256.to_hex(),
            p.size,
            obj.uri,
            obj.bucket,
            obj.key,
            obj.version_id,
            obj.etag,
            obj.last_modified,
            rec.event.time_utc,
            obj.source.as_str(),
            obj.run_key,
            seq_i64(rec.event.seq),
            p.metadata_text,
        ])
    })
    .map_err(AppendError::Sql)?;
    Ok(ObjectRecord {
        id: tx.last_insert_rowid(),
        sha256: obj.sha256,
        size: obj.size,
        uri: obj.uri.clone(),
        bucket: obj.bucket.clone(),
        key: obj.key.clone(),
        version_id: obj.version_id.clone(),
        etag: obj.etag.clone(),
        last_modified: obj.last_modified.clone(),
        fetched_at: rec.event.time_utc,
        source: obj.source,
        run_key: obj.run_key.clone(),
        event_seq: rec.event.seq,
        metadata: sorted(&p.metadata),
    })
}

impl Ledger {
    /// Records an object that entered the store, with its `object.stored` event, in one
    /// transaction. Idempotent: the same (uri, version id, ETag, digest) returns the existing
    /// record and records nothing new.
    pub fn add_object(
        &mut self,
        obj: &NewObject,
        actor: &Actor,
    ) -> Result<ObjectRecord, LedgerError> {
        self.add_object_with_metadata(obj, &[], actor)
    }

    /// [`add_object`](Ledger::add_object), also keeping the source's user metadata (for S3:
    /// the `x-amz-meta-*` pairs, e.g. a CloudTrail digest file's signature). The metadata is part
    /// of the `object.stored` event, so it is covered by the hash chain.
    pub fn add_object_with_metadata(
        &mut self,
        obj: &NewObject,
        metadata: &[(String, String)],
        actor: &Actor,
    ) -> Result<ObjectRecord, LedgerError> {
        let prepared = prepare(obj, metadata, actor)?;
        self.write("recording a stored object", |tx, clock| {
            insert_object(tx, clock, &prepared)
        })
    }

    /// Records many objects that entered the store (each with its source metadata and its own
    /// `object.stored` event) in one transaction: all of them or none. One commit, so one flush
    /// to disk, however many objects: fetch and import record a group this way once the group's
    /// bytes are durable, instead of a transaction (and a disk sync) per object. Idempotent per
    /// object, as [`add_object`](Ledger::add_object).
    pub fn add_objects(
        &mut self,
        objects: &[(&NewObject, &[(String, String)])],
        actor: &Actor,
    ) -> Result<Vec<ObjectRecord>, LedgerError> {
        let prepared = objects
            .iter()
            .map(|(obj, metadata)| prepare(obj, metadata, actor))
            .collect::<Result<Vec<_>, _>>()?;
        self.write("recording stored objects", |tx, clock| {
            prepared
                .iter()
                .map(|p| insert_object(tx, clock, p))
                .collect()
        })
    }

    /// Records an object refused at fetch or import, with its `object.rejected` event, in one
    /// transaction. The reason is mandatory.
    pub fn reject_object(&mut self, rej: &NewRejection, actor: &Actor) -> Result<(), LedgerError> {
        let after = serde_json::json!({
            "version_id": rej.version_id,
            "etag": rej.etag,
            "expected_sha256": rej.expected_sha256.map(|d| d.to_hex()),
            "actual_sha256": rej.actual_sha256.map(|d| d.to_hex()),
        })
        .to_string();
        let event = NewEvent::new(actor, "object.rejected", "object", rej.uri.clone())
            .after(after)
            .reason(rej.reason.clone())
            .class(EventClass::Rejection);
        event.validate()?;
        self.write("recording a rejected object", |tx, clock| {
            let rec = append_in(tx, clock, &event)?;
            tx.execute(
                "INSERT INTO rejections (uri, version_id, etag, reason, expected_sha256, actual_sha256, \
                 rejected_at, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    rej.uri,
                    rej.version_id,
                    rej.etag,
                    rej.reason,
                    rej.expected_sha256.map(|d| d.to_hex()),
                    rej.actual_sha256.map(|d| d.to_hex()),
                    rec.event.time_utc,
                    seq_i64(rec.event.seq),
                ],
            )
            .map_err(AppendError::Sql)?;
            Ok(())
        })
    }

    /// The most recent object recorded for this URI with exactly this version id and ETag
    /// (`None` matches only a missing value).
    pub fn find_object(
        &self,
        uri: &str,
        version_id: Option<&str>,
        etag: Option<&str>,
    ) -> Result<Option<ObjectRecord>, LedgerError> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE uri = ?1 AND version_id IS ?2 AND etag IS ?3 \
             ORDER BY id DESC LIMIT 1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![uri, version_id, etag], object_from_row)
                    .optional()
            })
            .map_err(|e| db_error(&self.path, "looking up an object", e))
    }

    /// The most recent object recorded for this URI, whatever its version id and ETag.
    pub fn latest_object(&self, uri: &str) -> Result<Option<ObjectRecord>, LedgerError> {
        let sql =
            format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE uri = ?1 ORDER BY id DESC LIMIT 1");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row(params![uri], object_from_row).optional())
            .map_err(|e| db_error(&self.path, "looking up an object", e))
    }

    /// Every distinct digest the store should hold, with its size and one URI recorded for
    /// it, in digest order.
    pub fn stored_digests(&self) -> Result<Vec<(Sha256, u64, String)>, LedgerError> {
        let err = |e| db_error(&self.path, "listing stored digests", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT sha256, max(size), min(uri) FROM objects GROUP BY sha256 ORDER BY sha256",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                let sha: String = r.get(0)?;
                let size: i64 = r.get(1)?;
                let uri: String = r.get(2)?;
                let sha = sha
                    .parse::<Sha256>()
                    .map_err(|e| bad("objects", 0, e.to_string()))?;
                Ok((sha, u64::try_from(size).unwrap_or(0), uri))
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    /// Where every recorded object came from and what it is (no bookkeeping, no metadata),
    /// oldest first: what grouping objects into runs needs, read in one pass.
    pub fn object_sources(&self) -> Result<Vec<ObjectSource>, LedgerError> {
        let mut out = Vec::new();
        self.for_each_object_source(|o| out.push(o))?;
        Ok(out)
    }

    /// [`Self::object_sources`] one at a time, in recording order, without holding them all:
    /// a listing of 100,000 objects groups them as they are read.
    pub fn for_each_object_source(
        &self,
        mut f: impl FnMut(ObjectSource),
    ) -> Result<(), LedgerError> {
        let err = |e| db_error(&self.path, "listing objects", e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, uri, key, sha256, size, version_id, etag, last_modified \
                 FROM objects ORDER BY id",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([], |row| {
                let id: i64 = row.get(0)?;
                let size: i64 = row.get(4)?;
                Ok(ObjectSource {
                    uri: row.get(1)?,
                    key: row.get(2)?,
                    sha256: digest_col(row, 3, "objects", id)?
                        .ok_or_else(|| bad("objects", id, "no digest".into()))?,
                    size: u64::try_from(size)
                        .map_err(|_| bad("objects", id, format!("negative size {size}")))?,
                    version_id: row.get(5)?,
                    etag: row.get(6)?,
                    last_modified: row.get(7)?,
                })
            })
            .map_err(err)?;
        for row in rows {
            f(row.map_err(err)?);
        }
        Ok(())
    }

    /// The runs (`run_key`) of the evidence files (objects with a key: not stack snapshots)
    /// recorded by an event after `seq`.
    pub fn runs_stored_after(
        &self,
        seq: u64,
    ) -> Result<std::collections::BTreeSet<String>, LedgerError> {
        let err = |e| db_error(&self.path, "listing objects", e);
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT run_key FROM objects \
                 WHERE event_seq > ?1 AND run_key IS NOT NULL AND key IS NOT NULL",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([seq], |row| row.get::<_, String>(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// Every recorded object, oldest first.
    pub fn objects(&self) -> Result<Vec<ObjectRecord>, LedgerError> {
        let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| db_error(&self.path, "listing objects", e))?;
        let rows = stmt
            .query_map([], object_from_row)
            .map_err(|e| db_error(&self.path, "listing objects", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| db_error(&self.path, "listing objects", e))
    }

    /// Every recorded rejection, oldest first.
    pub fn rejections(&self) -> Result<Vec<RejectionRecord>, LedgerError> {
        let sql = format!("SELECT {REJECTION_COLUMNS} FROM rejections ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| db_error(&self.path, "listing rejections", e))?;
        let rows = stmt
            .query_map([], rejection_from_row)
            .map_err(|e| db_error(&self.path, "listing rejections", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| db_error(&self.path, "listing rejections", e))
    }
}
