#!/usr/bin/env bash
# Benchmarks against the tools users would otherwise run, side by side, and the measured section
# of docs/benchmarks.md rewritten with the results (medians, ranges, ratios, the machine).
#
#   ./scripts/bench.sh           every comparison (about 20 minutes on a 2-core machine once built)
#   ./scripts/bench.sh --quick   reduced sizes, no 100,000-object or app runs (a few minutes)
#
# Installs its own tools, pinned, into .bench/ (ignored by git): s3s-fs (a fast local S3), and
# the AWS CLI and reportlab in a Python venv. Starts its own servers on loopback (s3s-fs, and
# the project's pinned emulator where versions and ETags are needed) and stops them at the end.
# Never touches a real AWS account: every AWS variable of the caller's environment is dropped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=()
if [ "${1:-}" = "--quick" ]; then quick=(--quick); fi

# Pinned tools of the benchmark (not of the product).
S3S_FS_VERSION=0.14.1
bench="$root/.bench"
log() { printf '[bench] %s\n' "$*" >&2; }

bash scripts/setup.sh # the emulator venv, Xvfb, tauri-driver

mkdir -p "$bench"
if ! "$bench/tools/bin/s3s-fs" --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
  log "installing s3s-fs $S3S_FS_VERSION"
  cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --root "$bench/tools" -q
fi
if [ ! -x "$bench/pyenv/bin/python" ] || ! "$bench/pyenv/bin/pip" freeze 2>/dev/null | sort | diff -q - <(grep -v "^#" scripts/bench/requirements.txt | sort) >/dev/null; then
  log "creating the benchmark venv (AWS CLI, reportlab)"
  python3 -m venv "$bench/pyenv"
  "$bench/pyenv/bin/pip" install -q --disable-pip-version-check -r scripts/bench/requirements.txt
fi

log "building release binaries and benchmark programs"
t0=$(date +%s)
cargo build --quiet --release -p countersign-cli
cargo build --quiet --release -p countersign-ledger --example bench_verify
cargo build --quiet --release -p countersign-core --example bench_dsse
cargo build --quiet --release -p countersign-tests --example bench_package --example bench_app_start
if [ ${#quick[@]} -eq 0 ]; then
  # The app and the empty baseline window as the bundler builds them (bench_app_start uses
  # these); the quick run does not launch the app.
  cargo build --quiet --release -p countersign-app --features tauri/custom-protocol
  cargo build --quiet --release -p countersign-bench-window --features tauri/custom-protocol
fi
log "built in $(($(date +%s) - t0)) s"

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$bench/pyenv/bin/python" scripts/bench/measure.py --root "$root" --work "$bench/work" \
  --target-dir "$target_dir" --out "$bench/results.json" "${quick[@]}"
"$bench/pyenv/bin/python" scripts/bench/report.py "$bench/results.json" docs/benchmarks.md
rm -rf "$bench/work"
log "docs/benchmarks.md updated from $bench/results.json"
