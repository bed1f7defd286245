#!/usr/bin/env bash
# Runs Countersign on the demo: installs what is missing, starts the local AWS emulator, seeds it
# with the demo qualification dataset, fetches it into a fresh demo home, and opens the desktop
# app on it. Without a display it says so and runs the same job through the CLI.
#
# Nothing here touches a real AWS account: every call goes to the emulator on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
# shellcheck source=scripts/emulator.sh
. scripts/emulator.sh

echo "[demo] building countersign (first build takes several minutes)" >&2
# As scripts/test.sh builds them: the same build then serves the demo and the tests.
cargo build --quiet --workspace --bin countersign-app --bin countersign
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/debug/countersign"
app="$target_dir/debug/countersign-app"

# Demo credentials for the emulator only; isolate from any real AWS configuration.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

demo_dir="$target_dir/demo"
rm -rf "$demo_dir/home"
mkdir -p "$demo_dir"
export COUNTERSIGN_HOME="$demo_dir/home"
bucket=qualification-evidence
prefix=gxp

emulator_start "$root" "$demo_dir/emulator.log"
export AWS_ENDPOINT_URL="$EMULATOR_ENDPOINT"
echo "[demo] AWS emulator on $EMULATOR_ENDPOINT; home $COUNTERSIGN_HOME" >&2

"$bin" demo seed --bucket "$bucket" --prefix "$prefix"
"$bin" fetch --bucket "$bucket" --prefix "$prefix"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "[demo] opening the Countersign window (close it to stop the demo)" >&2
  COUNTERSIGN_DEMO=1 COUNTERSIGN_DEMO_ENDPOINT="$EMULATOR_ENDPOINT" \
    COUNTERSIGN_DEMO_BUCKET="$bucket" COUNTERSIGN_DEMO_PREFIX="$prefix" "$app"
else
  echo >&2
  echo "[demo] No display found (DISPLAY and WAYLAND_DISPLAY are unset), so the desktop window" >&2
  echo "[demo] cannot open. Running the same job headless through the CLI instead:" >&2
  echo >&2
  "$bin" runs
  echo
  first_failed="$("$bin" runs --json | python3 -c 'import json,sys; r=[x["id"] for x in json.load(sys.stdin) if x["status"]=="failed"]; print(r[0] if r else "")')"
  if [ -n "$first_failed" ]; then
    "$bin" show "$first_failed"
  fi
  echo
  echo "[demo] Building a validation package of every run (unsigned demo runs: the cover says so," >&2
  echo "[demo] and every page carries the DEMO watermark), then verifying it offline:" >&2
  rm -f "$demo_dir/demo-package.pdf" "$demo_dir/demo-package.zip"
  mapfile -t all_runs < <("$bin" runs --json | python3 -c 'import json,sys; [print(x["id"]) for x in json.load(sys.stdin)]')
  "$bin" package "${all_runs[@]}" --out "$demo_dir/demo-package.pdf" --bundle "$demo_dir/demo-package.zip"
  "$bin" verify "$demo_dir/demo-package.pdf"
  echo >&2
  echo "[demo] The store and ledger are in $COUNTERSIGN_HOME; the package is $demo_dir/demo-package.pdf; try:" >&2
  echo "[demo]   COUNTERSIGN_HOME=$COUNTERSIGN_HOME $bin show <RUN>   or   ... ledger verify" >&2
fi
