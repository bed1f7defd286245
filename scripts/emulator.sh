# Shared by demo.sh: start the pinned AWS emulator on a free loopback port, stop it on exit.
# Sets EMULATOR_ENDPOINT. Sourced, not executed.

emulator_start() {
  local root="$1" log="$2"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  EMULATOR_PID=$!
  EMULATOR_ENDPOINT="http://127.0.0.1:$port"
  trap emulator_stop EXIT INT TERM
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('$EMULATOR_ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "the AWS emulator exited during start-up; its log ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "the AWS emulator did not answer on $EMULATOR_ENDPOINT within 20 s; its log: $log" >&2
  return 1
}

emulator_stop() {
  if [ -n "${EMULATOR_PID:-}" ]; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=
  fi
}
