//! Fetch throughput against the local emulator: N objects of S bytes in one run folder, fetched
//! cold at several concurrencies, then an incremental re-fetch. Prints one table row per case.
//!
//! cargo run --release -p countersign-tests --example bench_fetch -- [objects] [bytes]
//!
//! The emulator (moto, single-threaded Python) is the bottleneck long before the store is, so
//! these figures bound what the fetch pipeline adds on top of its source; they are not S3 figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use countersign_aws::s3::{self, Upload};
use countersign_service::{CancelToken, FetchRequest};
use countersign_tests::harness::fetch_request;
use countersign_tests::Harness;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let size: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(16 * 1024);
    let h = Harness::start().await.unwrap();
    let ctx = h.admin().await.unwrap();
    s3::ensure_bucket(&ctx, "bench", true, false).await.unwrap();
    let started = Instant::now();
    for i in 0..n {
        let mut body = vec![0u8; size];
        for (j, b) in body.iter_mut().enumerate() {
            *b = (i.wrapping_mul(31) ^ j.wrapping_mul(7)) as u8;
        }
        let key = format!("q/LIMS/PQ/bench/evidence/{i:06}.bin");
        s3::put(
            &ctx,
            "bench",
            Upload {
                key: &key,
                body,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    eprintln!(
        "uploaded {n} x {size} B in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!("| objects | object size | concurrency | cold fetch (s) | objects/s | MiB/s | re-fetch, nothing new (s) |");
    println!("|---|---|---|---|---|---|---|");
    for concurrency in [1usize, 8, 32] {
        let home = tempfile::tempdir().unwrap();
        let service = h.service(home.path()).unwrap();
        let req = FetchRequest {
            concurrency,
            ..fetch_request("bench", "q").unwrap()
        };
        let t = Instant::now();
        let r = service
            .fetch(&req, &|_| {}, &CancelToken::new())
            .await
            .unwrap();
        let cold = t.elapsed().as_secs_f64();
        assert_eq!(r.new as usize, n);
        let t = Instant::now();
        let r2 = service
            .fetch(&req, &|_| {}, &CancelToken::new())
            .await
            .unwrap();
        let warm = t.elapsed().as_secs_f64();
        assert_eq!(r2.new, 0);
        let mib = (n * size) as f64 / (1024.0 * 1024.0);
        println!(
            "| {n} | {} KiB | {concurrency} | {cold:.2} | {:.0} | {:.1} | {warm:.2} |",
            size / 1024,
            n as f64 / cold,
            mib / cold
        );
    }
}
