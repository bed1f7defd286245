#!/usr/bin/env bash
# The complete test suite: unit tests, integration tests against the local AWS emulator, and the
# desktop app tests in a real WebKit window (under Xvfb when there is no display).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

# Tests must never reach a real AWS account, whatever the caller's environment holds.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# The app and CLI tests drive the built binaries; build them exactly as the tests do: with the
# whole workspace selected, so dependencies get the same features as in `cargo test --workspace`
# and are compiled once for both (built with `-p` alone, the AWS SDK and everything above it
# would be compiled again for each package set).
started=$SECONDS
cargo build --quiet --workspace --bin countersign-app --bin countersign
echo "[test] the app and CLI built in $((SECONDS - started)) s" >&2

started=$SECONDS
cargo test --quiet --workspace --no-run "$@"
echo "[test] the tests built in $((SECONDS - started)) s" >&2

started=$SECONDS
if [ -n "${DISPLAY:-}" ]; then
  cargo test --workspace --no-fail-fast "$@"
else
  xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace --no-fail-fast "$@"
fi
echo "[test] the tests ran in $((SECONDS - started)) s" >&2
