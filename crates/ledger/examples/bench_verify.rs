//! Benchmark: `ledger verify` on a large ledger, and the raw SHA-256 rate over the same bytes.
//!
//! ```text
//! cargo run --release -p countersign-ledger --example bench_verify -- [EVENTS]
//! ```
//!
//! Builds a ledger of EVENTS (default 1,000,000) `object.stored`-like events in a temporary
//! directory, then times: a full `verify` (read every row, re-encode, re-hash, check links),
//! reading the rows alone, and SHA-256 alone over exactly the encoded bytes.

use std::error::Error;
use std::time::Instant;

use countersign_core::clock::SteppingClock;
use countersign_core::digest::Sha256;
use countersign_ledger::{Actor, EventFilter, Ledger, NewEvent};
use time::macros::datetime;

fn main() -> Result<(), Box<dyn Error>> {
    let events: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ledger.sqlite");
    let clock = SteppingClock::new(datetime!(2026-03-01 09:00:00 +01:00), 7);
    let mut ledger = Ledger::open(&path, std::sync::Arc::new(clock))?;
    let actor = Actor::person("arn:aws:iam::123456789012:user/alice", "Alice Martin");

    let started = Instant::now();
    let mut n = 0u64;
    while n < events {
        let batch: Vec<NewEvent> = (0..10_000.min(events - n))
            .map(|i| {
                let k = n + i;
                NewEvent::new(&actor, "object.stored", "object", format!("s3://qual-evidence/erp/OQ/run-{}/evidence-{k}.png", k / 100))
                    .after(format!(
                        "{{\"etag\":\"\\\"{}\\\"\",\"sha256\":\"{}\",\"size\":{k},\"source\":\"s3\",\"version_id\":\"v{k}\"}}",
                        &Sha256::of(&k.to_be_bytes()).to_hex()[..32],
                        Sha256::of(&k.to_le_bytes()).to_hex()
                    ))
            })
            .collect();
        n += batch.len() as u64;
        ledger.append_batch(&batch)?;
    }
    let build = started.elapsed();
    let file_size = std::fs::metadata(&path)?.len()
        + std::fs::metadata(path.with_file_name("ledger.sqlite-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "built {} events in {:.1} s ({} bytes on disk)",
        ledger.event_count()?,
        build.as_secs_f64(),
        file_size
    );

    let started = Instant::now();
    let report = ledger.verify()?;
    let verify = started.elapsed();
    if let Some(p) = &report.problem {
        return Err(format!("the benchmark ledger does not verify: {p}").into());
    }
    println!(
        "verify: {} events in {:.2} s ({:.0} events/s)",
        report.events,
        verify.as_secs_f64(),
        report.events as f64 / verify.as_secs_f64()
    );

    let started = Instant::now();
    let mut encodings: Vec<Vec<u8>> = Vec::with_capacity(events as usize + 2);
    ledger.for_each_event(&EventFilter::all(), |e| {
        encodings.push(e.event.encode()?);
        Ok(true)
    })?;
    let read = started.elapsed();
    let bytes: usize = encodings.iter().map(Vec::len).sum();
    println!(
        "read + encode only: {:.2} s; {} encoded bytes ({:.0} bytes/event)",
        read.as_secs_f64(),
        bytes,
        bytes as f64 / encodings.len() as f64
    );

    let started = Instant::now();
    let mut acc = 0u8;
    for e in &encodings {
        acc ^= Sha256::of(e).as_bytes()[0];
    }
    let hash = started.elapsed();
    println!(
        "raw SHA-256 over the same bytes: {:.2} s ({:.0} MB/s, {:.0} hashes/s) [{acc}]",
        hash.as_secs_f64(),
        bytes as f64 / hash.as_secs_f64() / 1e6,
        encodings.len() as f64 / hash.as_secs_f64()
    );
    Ok(())
}
