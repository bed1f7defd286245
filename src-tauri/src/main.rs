//! The Countersign desktop app. Everything lives in the library; see `countersign_app::run`.
#![forbid(unsafe_code)]
// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(error) = countersign_app::run() {
        eprintln!("countersign-app: {error}");
        std::process::exit(1);
    }
}
