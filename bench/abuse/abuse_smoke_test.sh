#!/usr/bin/env bash
# Smoke test of the abuse soak (CTest: bench_abuse_smoke): a fresh development
# federation, a real safeshare-gateway on a fresh SQLite database (handshake
# timeout 1 s so idle connections are closed within the run), three seconds of
# honest load from another agency with two subscribed recipients
# acknowledging and, from the start of its measured window, the abuser
# (southsea-academy) for four seconds.
# Passes when the abuser ran every activity, the gateway refused its excess
# Subscribe streams and keys with RESOURCE_EXHAUSTED and held no more than
# the per-principal limit (4) open, its oversized Submits were refused with
# RESOURCE_EXHAUSTED, its idle connections were closed, and every honest
# Submit and delivery succeeded. Asserts nothing about timing.
#
# Usage: abuse_smoke_test.sh SAFESHARE GATEWAY ABUSER LOADGEN SOURCE_DIR
set -euo pipefail
SAFESHARE="$1" GATEWAY="$2" ABUSER="$3" LOADGEN="$4" SRC="$5"

source "$SRC/bench/smoke_lib.sh"
smoke_setup abuse-smoke

# count KEY JSON: a number from the abuser's JSON line (0 when absent).
count() {
  local v
  v="$(sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2")"
  echo "${v:-0}"
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
echo 'limits { handshake_timeout_ms: 1000 }' >"$WORK/gateway.textproto"
"$GATEWAY" --config "$WORK/gateway.textproto" --listen 127.0.0.1:0 \
  --ca "$WORK/federation/gateway/ca.pem" --cert "$WORK/federation/gateway/cert.pem" \
  --key "$WORK/federation/gateway/key.pem" --store "sqlite://$WORK/data/gateway.db" \
  --federation "$WORK/federation/federation.textproto" --isa_dir "$WORK/isa" \
  --audit_key "$WORK/federation/gateway/audit-signing.pem" \
  --port_file "$WORK/gateway.port" --development 2>"$WORK/gateway.log" &
PIDS+=($!)
GW_PORT="$(wait_port "$WORK/gateway.port" "${PIDS[-1]}" "$WORK/gateway.log")"

# hiow-police sends to the four front doors and two of them subscribe; once
# its measured window starts, the abuser (southsea-academy) starts too. Its
# Subscribe attempts are paced: unpaced, their certificate parsing starves the
# gateway's CPU on a loaded 2-core machine (bench/RESULTS.md, the abuse soak).
"$LOADGEN" --target gateway --address "localhost:$GW_PORT" \
  --federation "$WORK/federation" --examples_dir "$SRC/deploy/examples" \
  --agencies 1 --rate 20 --warmup 0.5 --duration 3 --subscribers 2 --build_threads 2 \
  --measure_start_file "$WORK/measuring" --fail_on_error --label smoke-honest \
  >"$WORK/honest.out" 2>&1 &
HONEST_PID=$!
PIDS+=("$HONEST_PID")
while kill -0 "$HONEST_PID" 2>/dev/null && [ ! -e "$WORK/measuring" ]; do sleep 0.1; done
"$ABUSER" --address "localhost:$GW_PORT" --federation "$WORK/federation" \
  --agency southsea-academy --duration 4 --channels 4 --stream_rate 300 --submit_threads 1 \
  --idle_connections 8 --label smoke-abuser >"$WORK/abuser.out" 2>"$WORK/abuser.err" &
ABUSER_PID=$!
PIDS+=("$ABUSER_PID")
wait "$HONEST_PID" ||
  { cat "$WORK/honest.out"; echo "FAIL honest load during the abuse"; tail -20 "$WORK/gateway.log"; exit 1; }
honest="$(cat "$WORK/honest.out")"
echo "$honest"
wait "$ABUSER_PID" || { cat "$WORK/abuser.out" "$WORK/abuser.err"; echo "FAIL abuser exited $?"; exit 1; }
cat "$WORK/abuser.out"
kill -0 "${PIDS[0]}" || { echo "FAIL the gateway died"; tail -20 "$WORK/gateway.log"; exit 1; }
J="$(tail -1 "$WORK/abuser.out")"

fails=0
expect() {  # expect DESCRIPTION CONDITION...
  local what="$1"
  shift
  if "$@"; then echo "ok $what"; else echo "FAIL $what" >&2; fails=$((fails + 1)); fi
}
ok_honest="$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$(tail -1 <<<"$honest")")"
expect "honest Submits succeeded during the abuse ($ok_honest)" test "${ok_honest:-0}" -gt 0
expect "Subscribe attempts ($(count subscribe.attempts "$J")) exceed the limit" \
  test "$(count subscribe.attempts "$J")" -gt 4
expect "excess streams refused with RESOURCE_EXHAUSTED ($(count subscribe.RESOURCE_EXHAUSTED "$J"))" \
  test "$(count subscribe.RESOURCE_EXHAUSTED "$J")" -gt 0
expect "at most 4 streams held open ($(count subscribe.held_max "$J"))" \
  test "$(count subscribe.held_max "$J")" -le 4
expect "key publishes with TLS credentials only refused ($(count publish_key.PERMISSION_DENIED "$J"))" \
  test "$(count publish_key.PERMISSION_DENIED "$J")" -gt 0
expect "no key published without the agency's signing key" test "$(count publish_key.OK "$J")" = 0
expect "oversized Submits refused with RESOURCE_EXHAUSTED ($(count submit_over_limit.RESOURCE_EXHAUSTED "$J"))" \
  test "$(count submit_over_limit.RESOURCE_EXHAUSTED "$J")" -gt 0
expect "malformed Submits refused with INVALID_ARGUMENT ($(count submit_malformed.INVALID_ARGUMENT "$J"))" \
  test "$(count submit_malformed.INVALID_ARGUMENT "$J")" -gt 0
expect "no abusive Submit accepted" test "$(count submit_over_limit.OK "$J")$(count submit_malformed.OK "$J")" = 00
expect "idle connections closed by the gateway ($(count idle_tcp.closed_by_gateway "$J"))" \
  test "$(count idle_tcp.closed_by_gateway "$J")" -gt 0
[ "$fails" = 0 ]
