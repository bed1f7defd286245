# Pinned versions of the tools the project installs for itself (sourced by the scripts).
# moto 5.2.5: GetObjectAttributes works with the Rust SDK; GetBucketVersioning does not (docs/emulator.md).
MOTO_VERSION=5.2.5
TAURI_DRIVER_VERSION=2.1.0
# DuckDB 2.0.0 (Python): reads the published audit trail in tests as Athena would (docs/audit-trail-publish.md).
DUCKDB_VERSION=2.0.0
# pypdf, for the independent package verifier's PDF reading (tests/interop/verify_package.py --pdf).
PYPDF_VERSION=7.1.1
