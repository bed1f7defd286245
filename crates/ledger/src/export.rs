//! A readable, complete export of the audit trail (CSV or JSON). The export is itself recorded
//! as a `ledger.exported` event carrying the digest of the exported bytes.

use std::io::{self, Write};
use std::path::PathBuf;

use countersign_core::digest::Sha256Stream;
use countersign_core::ledger_event::Actor;

use crate::error::LedgerError;
use crate::event::{EventFilter, EventRecord, NewEvent};
use crate::Ledger;

/// The export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row; every field quoted.
    Csv,
    /// A JSON object `{"format": "countersign.ledger-export/v2", "events": [...]}`.
    Json,
}

impl ExportFormat {
    /// `csv` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "seq",
    "time_utc",
    "utc_offset",
    "actor_arn",
    "actor_name",
    "action",
    "object_kind",
    "object_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
];

struct Hashing<'a> {
    inner: &'a mut dyn Write,
    digest: Sha256Stream,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn csv_field(out: &mut String, v: &str) {
    out.push('"');
    out.push_str(&v.replace('"', "\"\""));
    out.push('"');
}

fn csv_row(e: &EventRecord) -> String {
    let ev = &e.event;
    let seq = ev.seq.to_string();
    let prev = ev.prev_hash.to_hex();
    let hash = e.hash.to_hex();
    let fields: [&str; 13] = [
        &seq,
        &ev.time_utc,
        &ev.utc_offset,
        ev.actor.arn.as_deref().unwrap_or(""),
        ev.actor
            .printed_name
            .as_deref()
            .unwrap_or(if ev.actor.is_system() { "system" } else { "" }),
        &ev.action,
        &ev.object_kind,
        &ev.object_id,
        ev.before.as_deref().unwrap_or(""),
        ev.after.as_deref().unwrap_or(""),
        ev.reason.as_deref().unwrap_or(""),
        &prev,
        &hash,
    ];
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        csv_field(&mut line, f);
    }
    line.push_str("\r\n");
    line
}

impl Ledger {
    /// Writes the events matching `filter` to `out` and records a `ledger.exported` event
    /// (format, filter, count and SHA-256 of the bytes written). Returns the number of events
    /// exported. If writing fails, nothing is recorded.
    pub fn export(
        &mut self,
        format: ExportFormat,
        filter: &EventFilter,
        out: &mut dyn Write,
        actor: &Actor,
    ) -> Result<u64, LedgerError> {
        let io_err = |source: io::Error| LedgerError::Io {
            path: PathBuf::from("(export output)"),
            context: "writing the export to",
            source,
        };
        let mut w = Hashing {
            inner: out,
            digest: Sha256Stream::new(),
        };
        let mut count = 0u64;
        match format {
            ExportFormat::Csv => {
                let mut header = String::new();
                for (i, h) in CSV_HEADER.iter().enumerate() {
                    if i > 0 {
                        header.push(',');
                    }
                    header.push_str(h);
                }
                header.push_str("\r\n");
                w.write_all(header.as_bytes()).map_err(io_err)?;
                self.for_each_event(filter, |e| {
                    w.write_all(csv_row(&e).as_bytes()).map_err(io_err)?;
                    count += 1;
                    Ok(true)
                })?;
            }
            ExportFormat::Json => {
                let head = serde_json::json!({
                    "format": crate::formats::EXPORT_V2,
                    "filter": filter.describe(),
                });
                let head = head.to_string();
                // Open the object, drop its closing brace, and stream the events array.
                let open = head.strip_suffix('}').unwrap_or(&head);
                w.write_all(open.as_bytes()).map_err(io_err)?;
                w.write_all(b",\"events\":[\n").map_err(io_err)?;
                self.for_each_event(filter, |e| {
                    if count > 0 {
                        w.write_all(b",\n").map_err(io_err)?;
                    }
                    serde_json::to_writer(&mut w, &e).map_err(|e| io_err(io::Error::other(e)))?;
                    count += 1;
                    Ok(true)
                })?;
                w.write_all(b"\n]}\n").map_err(io_err)?;
            }
        }
        w.flush().map_err(io_err)?;
        let digest = w.digest.finish();
        let after = serde_json::json!({
            "format": format.as_str(),
            "filter": filter.describe(),
            "events": count,
            "sha256": digest.to_hex(),
        });
        self.append(
            &NewEvent::new(actor, "ledger.exported", "ledger", "audit-trail")
                .after(after.to_string()),
        )?;
        Ok(count)
    }
}
