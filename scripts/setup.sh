#!/usr/bin/env bash
# Installs everything Countersign needs to build, run its demo and run its tests on Debian 12:
# the WebKitGTK/Tauri build dependencies, Xvfb and the WebKit WebDriver (app tests), qpdf and
# poppler-utils (PDF checks), the pinned AWS emulator and DuckDB in a project-local venv, and
# tauri-driver.
# Idempotent: each step is skipped when its result is already present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# shellcheck source=scripts/versions.sh
. scripts/versions.sh

log() { printf '[setup] %s\n' "$*" >&2; }

apt_packages=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev
  webkit2gtk-driver xvfb xauth
  qpdf poppler-utils
  python3-venv
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The AWS emulator, pinned, in a venv inside the project (ignored by git).
venv="$here/.venv"
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  log "creating the emulator venv with moto[server]==$MOTO_VERSION"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/scripts/requirements-emulator.txt"
fi

# DuckDB, pinned, in the same venv: the tests query the published audit trail with it, with the
# columns of the Athena table (tests/interop/query_trail.py).
if ! "$venv/bin/python" -c "import duckdb,sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  log "installing duckdb==$DUCKDB_VERSION into the test venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
fi

# pypdf, pinned, in the same venv: the independent package verifier reads a package PDF's
# embedded files with it (tests/interop/verify_package.py --pdf).
if ! "$venv/bin/python" -c "import pypdf,sys; sys.exit(pypdf.__version__ != '$PYPDF_VERSION')" 2>/dev/null; then
  log "installing pypdf==$PYPDF_VERSION into the test venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "pypdf==$PYPDF_VERSION"
fi

# tauri-driver, the WebDriver bridge for the app tests.
# (tauri-driver has no --version flag; cargo's own install list says which version is there.)
if ! command -v tauri-driver >/dev/null 2>&1 || ! cargo install --list | grep -qx "tauri-driver v$TAURI_DRIVER_VERSION:"; then
  log "installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked -q
fi

# axe-core for the app's accessibility checks (tests/src/accessibility.rs), pinned with its
# integrity hash in tools/axe/package-lock.json; a test tool only, never part of ui/. Install
# scripts are not run.
if ! command -v npm >/dev/null 2>&1; then
  log "installing npm (for the pinned accessibility checker)"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
axe_want="$(sed -n 's/.*"axe-core": "\(.*\)".*/\1/p' tools/axe/package.json)"
axe_have=""
if [ -f tools/axe/node_modules/axe-core/package.json ]; then
  axe_have="$(sed -n 's/.*"version": "\(.*\)".*/\1/p' tools/axe/node_modules/axe-core/package.json | head -n1)"
fi
if [ "$axe_have" != "$axe_want" ]; then
  log "installing axe-core $axe_want (tools/axe)"
  npm ci --prefix tools/axe --ignore-scripts --no-audit --no-fund --loglevel=error
fi

log "ready"
