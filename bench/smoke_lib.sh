# Shared by the bench smoke tests (sourced): a scratch directory removed on
# exit with every server the test started, and waiting for a server's port.
#
#   smoke_setup NAME   sets WORK (a fresh directory) and PIDS (append the
#                      pids of servers started, to be stopped on exit)

smoke_setup() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  PIDS=()
  trap smoke_cleanup EXIT
}

smoke_cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}

# wait_port FILE PID LOG: the port a server wrote once listening.
wait_port() {
  for _ in $(seq 1 300); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start:" >&2
  cat "$3" >&2
  return 1
}
