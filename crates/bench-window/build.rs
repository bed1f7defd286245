//! Generates the Tauri context of the baseline window (no commands, no capabilities).

fn main() {
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new()) {
        eprintln!("countersign-bench-window build script: {error:#}");
        std::process::exit(1);
    }
}
