#!/usr/bin/env bash
# Smoke test of the gateway benchmark harness (CTest: bench_loadgen_smoke): a
# fresh development federation, a real safeshare-gateway on a fresh SQLite
# database, two seconds of load with two subscribed recipients acknowledging,
# then one second against the echo server and one against the echo server
# that verifies each envelope's signature (--verify: any call whose signature
# does not verify is an error). Passes on zero errors and at least one
# completed call; asserts nothing about timing.
#
# Usage: loadgen_smoke_test.sh SAFESHARE GATEWAY ECHO_SERVER LOADGEN SOURCE_DIR
set -euo pipefail
SAFESHARE="$1" GATEWAY="$2" ECHO="$3" LOADGEN="$4" SRC="$5"

source "$SRC/bench/smoke_lib.sh"
smoke_setup loadgen-smoke

# check NAME JSON_LINE: zero errors, some calls.
check() {
  local ok errors
  ok="$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$2")"
  errors="$(sed -n 's/.*"errors":\([0-9]*\).*/\1/p' <<<"$2")"
  if [ -z "$ok" ] || [ "$ok" -eq 0 ] || [ "$errors" != 0 ]; then
    echo "FAIL $1: ok=${ok:-?} errors=${errors:-?}" >&2
    return 1
  fi
  echo "ok $1: $ok calls, 0 errors"
}

"$SAFESHARE" pki init --dir "$WORK/federation" \
  --federation_template "$SRC/deploy/dev-federation.textproto" >/dev/null
mkdir -p "$WORK/data" "$WORK/isa"
# The shipped agreements with their review date three years on: the gateway
# decides at the clock's time, and the test must not expire with the data.
REVIEW_BY="$(date -u -d '+3 years' +%Y-%m-%dT00:00:00Z)"
for f in "$SRC"/deploy/isa/*.json; do
  sed -E "s/(\"review_by\": *\")[^\"]*\"/\1$REVIEW_BY\"/" "$f" >"$WORK/isa/$(basename "$f")"
done
"$GATEWAY" --listen 127.0.0.1:0 \
  --ca "$WORK/federation/gateway/ca.pem" --cert "$WORK/federation/gateway/cert.pem" \
  --key "$WORK/federation/gateway/key.pem" --store "sqlite://$WORK/data/gateway.db" \
  --federation "$WORK/federation/federation.textproto" --isa_dir "$WORK/isa" \
  --audit_key "$WORK/federation/gateway/audit-signing.pem" \
  --port_file "$WORK/gateway.port" --development 2>"$WORK/gateway.log" &
PIDS+=($!)
GW_PORT="$(wait_port "$WORK/gateway.port" "${PIDS[-1]}" "$WORK/gateway.log")"

"$ECHO" --federation "$WORK/federation" --runtime_dir "$WORK" \
  --port_file "$WORK/echo.port" 2>"$WORK/echo.log" &
PIDS+=($!)
ECHO_PORT="$(wait_port "$WORK/echo.port" "${PIDS[-1]}" "$WORK/echo.log")"

"$ECHO" --federation "$WORK/federation" --runtime_dir "$WORK" --verify \
  --port_file "$WORK/echo-verify.port" 2>"$WORK/echo-verify.log" &
PIDS+=($!)
VERIFY_PORT="$(wait_port "$WORK/echo-verify.port" "${PIDS[-1]}" "$WORK/echo-verify.log")"

common=(--federation "$WORK/federation" --examples_dir "$SRC/deploy/examples"
        --agencies 8 --in_flight 8 --warmup 0.5 --fail_on_error --build_threads 2)
out="$("$LOADGEN" "${common[@]}" --target gateway --address "localhost:$GW_PORT" \
  --duration 2 --calibrate 0.5 --subscribers 2 --label smoke-gateway)" \
  || { echo "$out"; echo "gateway log:"; tail -20 "$WORK/gateway.log"; exit 1; }
echo "$out"
check gateway "$(tail -1 <<<"$out")"

out="$("$LOADGEN" "${common[@]}" --target echo --address "localhost:$ECHO_PORT" \
  --duration 1 --label smoke-echo)" || { echo "$out"; exit 1; }
echo "$out"
check echo "$(tail -1 <<<"$out")"

out="$("$LOADGEN" "${common[@]}" --target echo --address "localhost:$VERIFY_PORT" \
  --duration 1 --label smoke-echo-verify)" || { echo "$out"; cat "$WORK/echo-verify.log"; exit 1; }
echo "$out"
check echo-verify "$(tail -1 <<<"$out")"
