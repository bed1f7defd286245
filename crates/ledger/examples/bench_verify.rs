//! Benchmark: `ledger verify` on a large ledger, against raw SHA-256 of the same bytes.
//!
//! ```text
//! cargo run --release -p countersign-ledger --example bench_verify -- [EVENTS] [events|objects] [ROUNDS]
//! ```
//!
//! Builds a ledger of EVENTS (default 1,000,000) in a temporary directory: events shaped like
//! `object.stored` (an S3 URI, a JSON `after` of about 200 bytes, a person's ARN and name) but
//! of an action without a record table (`events`, the default), or stored objects, each an
//! `objects` row with its event (`objects`, which `verify` also cross-checks row by row). Then, ROUNDS times (default
//! 3), alternately: a full `verify` (read every row, re-encode, re-hash, check links and
//! records), and SHA-256 alone over exactly the encoded bytes of every event (held in memory).
//! Prints one JSON line per measurement and a summary line with medians.

use std::error::Error;
use std::time::Instant;

use countersign_core::clock::SteppingClock;
use countersign_core::digest::Sha256;
use countersign_ledger::{Actor, EventFilter, Ledger, NewEvent, NewObject, SourceKind};
use time::macros::datetime;

const BATCH: u64 = 10_000;

fn sha(k: u64) -> Sha256 {
    Sha256::of(&k.to_le_bytes())
}

fn build(ledger: &mut Ledger, events: u64, objects: bool) -> Result<(), Box<dyn Error>> {
    let actor = Actor::person("arn:aws:iam::123456789012:user/alice", "Alice Martin");
    let mut n = 0u64;
    while n < events {
        let count = BATCH.min(events - n);
        if objects {
            let batch: Vec<NewObject> = (n..n + count)
                .map(|k| NewObject {
                    sha256: sha(k),
                    size: k,
                    uri: format!("s3://qual-evidence/erp/OQ/run-{}/evidence-{k}.png", k / 100),
                    bucket: Some("qual-evidence".into()),
                    key: Some(format!("erp/OQ/run-{}/evidence-{k}.png", k / 100)),
                    version_id: Some(format!("v{k}")),
                    etag: Some(sha(k).to_hex()[..32].to_owned()),
                    last_modified: Some("2026-11-02T09:14:03Z".into()),
                    source: SourceKind::S3,
                    run_key: Some(format!("erp/OQ/run-{}", k / 100)),
                })
                .collect();
            let rows: Vec<(&NewObject, &[(String, String)])> =
                batch.iter().map(|o| (o, &[][..])).collect();
            ledger.add_objects(&rows, &actor)?;
        } else {
            let batch: Vec<NewEvent> = (n..n + count)
                .map(|k| {
                    NewEvent::new(&actor, "bench.event", "object", format!("s3://qual-evidence/erp/OQ/run-{}/evidence-{k}.png", k / 100))
                        .after(format!(
                            "{{\"etag\":\"\\\"{}\\\"\",\"sha256\":\"{}\",\"size\":{k},\"source\":\"s3\",\"version_id\":\"v{k}\"}}",
                            &Sha256::of(&k.to_be_bytes()).to_hex()[..32],
                            sha(k).to_hex()
                        ))
                })
                .collect();
            ledger.append_batch(&batch)?;
        }
        n += count;
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let events: u64 = match args.next() {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    let objects = match args.next().as_deref() {
        None | Some("events") => false,
        Some("objects") => true,
        Some(other) => return Err(format!("unknown kind {other:?}: events or objects").into()),
    };
    let rounds: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 3,
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ledger.sqlite");
    let clock = SteppingClock::new(datetime!(2026-03-01 09:00:00 +01:00), 7);
    let mut ledger = Ledger::open(&path, std::sync::Arc::new(clock))?;

    let started = Instant::now();
    build(&mut ledger, events, objects)?;
    let build_s = started.elapsed().as_secs_f64();
    let total = ledger.event_count()?;
    eprintln!("built {total} events in {build_s:.1} s");

    // The exact bytes `verify` hashes, read once and kept in memory for the raw SHA-256 side.
    let mut encodings: Vec<Vec<u8>> = Vec::with_capacity(total as usize);
    ledger.for_each_event(&EventFilter::all(), |e| {
        encodings.push(e.event.encode()?);
        Ok(true)
    })?;
    let bytes: usize = encodings.iter().map(Vec::len).sum();

    let (mut verify_s, mut sha_s) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let report = ledger.verify()?;
        let v = t.elapsed().as_secs_f64();
        if let Some(p) = &report.problem {
            return Err(format!("the benchmark ledger does not verify: {p}").into());
        }
        let t = Instant::now();
        let mut acc = 0u8;
        for e in &encodings {
            acc ^= Sha256::of(e).as_bytes()[0];
        }
        let s = t.elapsed().as_secs_f64();
        println!("{{\"round\":{round},\"verify_s\":{v:.4},\"sha256_s\":{s:.4},\"check\":{acc}}}");
        verify_s.push(v);
        sha_s.push(s);
    }
    let (v, s) = (median(&mut verify_s), median(&mut sha_s));
    println!(
        "{{\"events\":{total},\"kind\":\"{}\",\"bytes\":{bytes},\"build_s\":{build_s:.2},\"verify_median_s\":{v:.4},\"verify_min_s\":{:.4},\"verify_max_s\":{:.4},\"sha256_median_s\":{s:.4},\"sha256_min_s\":{:.4},\"sha256_max_s\":{:.4},\"ratio\":{:.3}}}",
        if objects { "objects" } else { "events" },
        verify_s[0],
        verify_s[verify_s.len() - 1],
        sha_s[0],
        sha_s[sha_s.len() - 1],
        s / v
    );
    Ok(())
}
