//! An empty Tauri window: the yardstick that the app's start-up time and memory are measured
//! against (`tests/examples/bench_app_start.rs`, docs/benchmarks.md). It loads one static page
//! and exposes nothing; it is never shipped.
#![forbid(unsafe_code)]

fn main() {
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("countersign-bench-window: {error}");
        std::process::exit(1);
    }
}
