#!/usr/bin/env bash
# Builds the installable Debian package of the desktop app with the Tauri bundler (a release
# build with ui/ embedded, the app icon, a desktop entry) and checks what is inside. Not part of
# the test run. See docs/release.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

log() { printf '[release] %s\n' "$*" >&2; }

bash scripts/setup.sh
# dpkg-deb and friends, used by the bundler.
if ! dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi

# The bundler, pinned with its integrity hashes in tools/release/package-lock.json (a prebuilt
# binary of tauri-cli; nothing of it ships in the package). Install scripts are not run.
log "installing the pinned Tauri CLI (tools/release)"
npm ci --prefix tools/release --ignore-scripts --no-audit --no-fund --loglevel=error
tauri="$root/tools/release/node_modules/.bin/tauri"

# bundle.active stays off in tauri.conf.json so ordinary cargo builds never bundle.
log "building the release and the .deb (several minutes on a cold cache)"
"$tauri" build --bundles deb --config '{"bundle":{"active":true}}'

target="${CARGO_TARGET_DIR:-$root/target}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
deb="$target/release/bundle/deb/Countersign_${version}_amd64.deb"
[ -f "$deb" ] || { log "the bundler did not produce $deb"; exit 1; }

# What every package must carry: the binary, the desktop entry, the icon, the WebKit dependency.
info="$(dpkg-deb --info "$deb")"
contents="$(dpkg-deb --contents "$deb")"
for want in "./usr/bin/countersign-app" "./usr/share/applications/Countersign.desktop" "./usr/share/icons/hicolor/128x128/apps/countersign-app.png"; do
  grep -qF "$want" <<<"$contents" || { log "$deb lacks $want"; exit 1; }
done
grep -q "Depends:.*libwebkit2gtk-4.1-0" <<<"$info" || { log "$deb does not depend on libwebkit2gtk-4.1-0"; exit 1; }
log "built and checked $deb"
echo "$deb"
