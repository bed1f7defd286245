#!/usr/bin/env bash
# The long fuzzing campaign: every target in fuzz/fuzz_targets/ (one per parser and decoder of
# untrusted input, crates/parser-entries) under libFuzzer, RUNS executions each (default
# 1,000,000), at the lowest CPU priority. New coverage is merged (minimised) into
# fuzz/corpus/<target>/; any crash, timeout or out-of-memory input is kept in
# fuzz/regressions/<target>/, where the normal test suite replays it on stable
# (crates/parser-entries/tests/corpus.rs). Prints executions, corpus size and findings per
# target, and exits 1 if any target found something.
#
#   bash scripts/fuzz.sh                 # every target, 1,000,000 executions each
#   RUNS=20000 bash scripts/fuzz.sh junit zip_archive
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

CARGO_FUZZ_VERSION=0.13.2
RUNS="${RUNS:-1000000}"

# cargo-fuzz drives libFuzzer through rustc's sanitizer flags, which need a nightly compiler
# (RUSTC_BOOTSTRAP=1 on stable is the fallback where no nightly is installed).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//' | sort)
fi

scratch="$root/target/fuzz-work"
mkdir -p "$scratch"
summary="$scratch/summary.tsv"
printf 'target\texecutions\tcorpus\tfindings\n' > "$summary"
found=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t" "$scratch/$t/corpus" "$scratch/$t/artifacts"
  log="$scratch/$t/log.txt"
  echo "== $t: $RUNS executions"
  # -timeout: an input taking 10 s is a hang; -rss_limit_mb/-malloc_limit_mb: an input that
  # makes the parser hold 2 GB, or ask for 1 GB at once, is an unbounded allocation.
  if nice -n 19 cargo "${toolchain[@]}" fuzz run --fuzz-dir fuzz "$t" \
      "$scratch/$t/corpus" "fuzz/corpus/$t" -- \
      -runs="$RUNS" -max_len=131072 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$scratch/$t/artifacts/" >"$log" 2>&1; then
    status=0
  else
    status=$?
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  findings=0
  for f in "$scratch/$t/artifacts"/*; do
    [ -e "$f" ] || continue
    cp "$f" "fuzz/regressions/$t/$(basename "$f")"
    findings=$((findings + 1))
  done
  rm -f "$scratch/$t/artifacts"/*
  if [ "$status" -ne 0 ] && [ "$findings" -eq 0 ]; then
    echo "   fuzzer failed without an artifact (exit $status); see $log"
    findings=1
  fi
  # Keep what added coverage, minimised, beside the seeds.
  nice -n 19 cargo "${toolchain[@]}" fuzz run --fuzz-dir fuzz "$t" -- -merge=1 \
    "fuzz/corpus/$t" "$scratch/$t/corpus" >/dev/null 2>&1 || true
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  printf '%s\t%s\t%s\t%s\n' "$t" "${execs:-0}" "$corpus" "$findings" >> "$summary"
  echo "   ${execs:-0} executions, corpus $corpus, findings $findings"
  [ "$findings" -eq 0 ] || found=1
done
cat "$summary"
exit "$found"
