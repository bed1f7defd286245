# Pinned versions of the tools the project installs for itself (sourced by the scripts).
# moto 5.2.5: GetObjectAttributes works with the Rust SDK; GetBucketVersioning does not (docs/emulator.md).
MOTO_VERSION=5.2.5
TAURI_DRIVER_VERSION=2.1.0
