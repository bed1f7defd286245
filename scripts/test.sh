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

# The app tests drive the built desktop binary; build it exactly as they do (`-p countersign-app`
# alone: a different package set unifies features differently and would rebuild inside the test).
cargo build --quiet -p countersign-app
cargo build --quiet -p countersign-cli

if [ -n "${DISPLAY:-}" ]; then
  cargo test --workspace --no-fail-fast "$@"
else
  xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace --no-fail-fast "$@"
fi
