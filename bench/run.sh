#!/usr/bin/env bash
# Runs the benchmarks the same way each time.
#
#   bash bench/run.sh [benchmark-binary-name ...]
#     Micro-benchmarks (Google Benchmark) from the project build
#     (deploy/build.sh), 5 repetitions, reporting mean, median, stddev and p99
#     where a benchmark computes it. Default: envelope_bench policy_bench.
#
#   bash bench/run.sh gateway [options]
#     The gateway against the bare gRPC ceiling, on this machine, with one
#     load generator (bench/loadgen) for both. Builds in Release (its own build
#     directory), creates a fresh development federation, starts
#     safeshare_echo_server and safeshare-gateway (a fresh SQLite database for
#     each scenario), and for each payload size measures
#       (a) echo, (b) gateway Submit, the full path (signature, policy, durable
#       audit append, mailbox write), (c) the same with every recipient
#       subscribed and acknowledging:
#     first the maximum throughput (closed loop), then latency at half of it
#     (open loop, latency from each call's scheduled start). Prints the ratios
#     gateway/echo and appends a dated section to bench/RESULTS.md. Then, with
#     --rss, runs (c) at half load for that long, sampling the gateway's VmRSS.
#     Options (defaults in brackets):
#       --warmup S [5]  --duration S [20]  --agencies N [8]
#       --in-flight "N ..." ["16 64 256"]  closed-loop settings tried; the best
#                         is the maximum
#       --subscribers N [5]  --sizes "BYTES ..." ["2048 65536"]
#       --rss S [300; 0 skips]  --rss-interval S [5]
#       --rss-only        only the RSS run (finds the (c) 2 KiB maximum first)
#       --perf S [0]      also profile the gateway with perf for S seconds at
#                         its 2 KiB maximum (report in the work directory)
#       --no-append       print the results, leave bench/RESULTS.md alone
#     Environment: SAFESHARE_RELEASE_BUILD_DIR [build-release],
#     SAFESHARE_BUILD_JOBS [nproc], SAFESHARE_SKIP_DEPS=1 skips install-deps.
#     Everything the run makes is in <build dir>/bench-gateway/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

cpu() {
  lscpu | awk -F': *' '/^Model name/ { m = $2 } /^CPU family/ { f = $2 } /^Model:/ { n = $2 }
    END { printf "%s (family %s, model %s)", m, f, n }'
}
machine() { echo "$(nproc) cores, $(cpu), $(g++ --version | head -1)"; }

if [ "${1:-}" != gateway ]; then
  BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
  bash "$ROOT/deploy/install-deps.sh"
  bash "$ROOT/deploy/build.sh"
  echo "# machine: $(machine)"
  targets=("$@")
  [ ${#targets[@]} -eq 0 ] && targets=(envelope_bench policy_bench)
  for t in "${targets[@]}"; do
    bin="$(find "$BUILD/bench" -type f -name "$t" -perm -u+x | head -1)"
    [ -n "$bin" ] || { echo "no benchmark binary $t" >&2; continue; }
    "$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
  done
  exit 0
fi

# ---- bash bench/run.sh gateway ---------------------------------------------
shift
WARMUP=5 DURATION=20 IN_FLIGHT="16 64 256" AGENCIES=8 SUBSCRIBERS=5 SIZES="2048 65536"
RSS=300 RSS_INTERVAL=5 RSS_ONLY=0 PERF=0 APPEND=1
while [ $# -gt 0 ]; do
  case "$1" in
    --warmup) WARMUP="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --agencies) AGENCIES="$2"; shift 2 ;;
    --subscribers) SUBSCRIBERS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --rss) RSS="$2"; shift 2 ;;
    --rss-interval) RSS_INTERVAL="$2"; shift 2 ;;
    --rss-only) RSS_ONLY=1; shift ;;
    --perf) PERF="$2"; shift 2 ;;
    --no-append) APPEND=0; shift ;;
    *) echo "bench/run.sh gateway: unknown option $1 (see the top of bench/run.sh)" >&2; exit 2 ;;
  esac
done

BUILD="${SAFESHARE_RELEASE_BUILD_DIR:-$ROOT/build-release}"
JOBS="${SAFESHARE_BUILD_JOBS:-$(nproc)}"
[ "${SAFESHARE_SKIP_DEPS:-0}" = 1 ] || bash "$ROOT/deploy/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" -j "$JOBS" safeshare safeshare-gateway safeshare_echo_server safeshare_loadgen
SAFESHARE="$BUILD/agents/safeshare"
GATEWAY="$BUILD/gateway/safeshare-gateway"
ECHO="$BUILD/bench/echo-server/safeshare_echo_server"
LOADGEN="$BUILD/bench/loadgen/safeshare_loadgen"

WORK="$BUILD/bench-gateway"
rm -rf "$WORK"
mkdir -p "$WORK"
RESULTS="$WORK/results.jsonl"
"$SAFESHARE" pki init --dir "$WORK/federation" \
  --federation_template "$ROOT/deploy/dev-federation.textproto" >/dev/null

ECHO_PID="" GW_PID="" PERF_PID=""
cleanup() {
  for pid in $PERF_PID $GW_PID $ECHO_PID; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# wait_port FILE PID LOG: prints the port a server wrote once listening.
wait_port() {
  for _ in $(seq 1 300); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start; its log:" >&2
  cat "$3" >&2
  return 1
}

start_echo() {
  "$ECHO" --federation "$WORK/federation" --runtime_dir "$WORK" \
    --port_file "$WORK/echo.port" 2>"$WORK/echo.log" &
  ECHO_PID=$!
  ECHO_PORT="$(wait_port "$WORK/echo.port" "$ECHO_PID" "$WORK/echo.log")"
}

# start_gateway NAME: a gateway on a fresh database in $WORK/NAME.
start_gateway() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  "$GATEWAY" --listen 127.0.0.1:0 \
    --ca "$WORK/federation/gateway/ca.pem" --cert "$WORK/federation/gateway/cert.pem" \
    --key "$WORK/federation/gateway/key.pem" --store "sqlite://$dir/gateway.db" \
    --federation "$WORK/federation/federation.textproto" --isa_dir "$ROOT/deploy/isa" \
    --audit_key "$WORK/federation/gateway/audit-signing.pem" --rule_pack 2024 \
    --port_file "$dir/port" 2>"$dir/gateway.log" &
  GW_PID=$!
  GW_PORT="$(wait_port "$dir/port" "$GW_PID" "$dir/gateway.log")"
}

stop_gateway() {
  kill -TERM "$GW_PID"
  wait "$GW_PID" || true
  GW_PID=""
}

# measure LABEL TARGET PORT ARGS...: one load generator run; its JSON line
# goes to $RESULTS and $LAST.
measure() {
  local label="$1" target="$2" port="$3"
  shift 3
  echo
  local out
  out="$("$LOADGEN" --target "$target" --address "localhost:$port" \
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples" \
    --agencies "$AGENCIES" --warmup "$WARMUP" --duration "$DURATION" \
    --label "$label" --json_out "$RESULTS" "$@")" || {
    echo "$out"
    echo "load generator failed in $label" >&2
    return 1
  }
  echo "$out"
  LAST="$(tail -1 <<<"$out")"
}

# jget KEY JSON: a number from a flat JSON line.
jget() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
half() { awk -v x="$1" 'BEGIN { printf "%.0f", x / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
kib() { awk -v b="$1" 'BEGIN { printf "%g KiB", b / 1024 }'; }

# scenario NAME TARGET PORT ARGS...: maximum, then half of it; appends a row.
ROWS=()
declare -A MAX
# find_max NAME TARGET PORT ARGS...: the best closed loop over $IN_FLIGHT, in
# MAX_JSON and MAX[NAME].
declare -A BEST_IN_FLIGHT
find_max() {
  local name="$1" target="$2" port="$3" k best=0
  shift 3
  MAX_JSON=""
  for k in $IN_FLIGHT; do
    measure "$name max, $k in flight" "$target" "$port" --in_flight "$k" --fail_on_error "$@"
    if awk -v a="$(jget throughput_per_s "$LAST")" -v b="$best" 'BEGIN { exit !(a > b) }'; then
      MAX_JSON="$LAST"
      best="$(jget throughput_per_s "$LAST")"
      BEST_IN_FLIGHT["$name"]="$k"
    fi
  done
  MAX["$name"]="$best"
}

scenario() {
  local name="$1" target="$2" port="$3"
  shift 3
  find_max "$name" "$target" "$port" "$@"
  local max_json="$MAX_JSON" max="${MAX["$name"]}"
  local rate
  rate="$(half "$max")"
  measure "$name half" "$target" "$port" --rate "$rate" --fail_on_error "$@"
  local j="$LAST" delivery="-"
  if [ -n "$(jget delivery_p99_ms "$j")" ]; then
    delivery="$(jget delivery_p50_ms "$j") / $(jget delivery_p99_ms "$j")"
  fi
  ROWS+=("| $name | $(jget request_bytes "$max_json") | $max | $(jget in_flight "$max_json") | $(jget p50_ms "$max_json") / $(jget p99_ms "$max_json") | $(jget throughput_per_s "$j") | $(jget p50_ms "$j") | $(jget p90_ms "$j") | $(jget p99_ms "$j") | $(jget p999_ms "$j") | $(jget max_ms "$j") | $delivery | $(( $(jget errors "$max_json") + $(jget errors "$j") )) |")
}

# rss_run RATE: (c) at RATE for $RSS seconds, sampling the gateway's VmRSS.
RSS_LINE=""
rss_run() {
  local rate="$1" marker="$WORK/rss.measuring" samples="$WORK/rss.samples"
  start_gateway rss
  rm -f "$marker" "$samples"
  "$LOADGEN" --target gateway --address "localhost:$GW_PORT" \
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples" \
    --agencies "$AGENCIES" --subscribers "$SUBSCRIBERS" --warmup "$WARMUP" --duration "$RSS" \
    --rate "$rate" --label "rss 2 KiB (c) at $rate/s" --json_out "$RESULTS" \
    --measure_start_file "$marker" --fail_on_error >"$WORK/rss.loadgen.txt" &
  local lg=$!
  while kill -0 "$lg" 2>/dev/null && [ ! -e "$marker" ]; do sleep 0.2; done
  local t0=$SECONDS
  while kill -0 "$lg" 2>/dev/null; do
    echo "$((SECONDS - t0)) $(awk '/^VmRSS/ { print $2 }' "/proc/$GW_PID/status")" >>"$samples"
    sleep "$RSS_INTERVAL"
  done
  wait "$lg" || { cat "$WORK/rss.loadgen.txt"; echo "RSS run failed" >&2; return 1; }
  cat "$WORK/rss.loadgen.txt"
  stop_gateway
  RSS_LINE="$(awk -v secs="$RSS" -v rate="$rate" '
    NR == 1 { first = $2; max = $2 } { last = $2; if ($2 > max) max = $2; n++ }
    END { printf "%d s of (c) at %s/s (2 KiB), %d samples of VmRSS: first %.1f MiB, last %.1f MiB, max %.1f MiB; last vs first %+.1f%%, max vs first %+.1f%%",
          secs, rate, n, first / 1024, last / 1024, max / 1024, 100 * (last - first) / first, 100 * (max - first) / first }' "$samples")"
  echo
  echo "RSS: $RSS_LINE (samples: $samples)"
}

# perf_run: the gateway's profile at its 2 KiB maximum, (b).
perf_run() {
  command -v perf >/dev/null || { echo "perf not installed; skipping the profile" >&2; return 0; }
  start_gateway perf
  local marker="$WORK/perf.measuring"
  "$LOADGEN" --target gateway --address "localhost:$GW_PORT" \
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples" \
    --agencies "$AGENCIES" --in_flight "${BEST_IN_FLIGHT["(b) gateway 2 KiB"]:-64}" \
    --warmup "$WARMUP" --duration "$PERF" \
    --label "perf 2 KiB (b)" --measure_start_file "$marker" >"$WORK/perf.loadgen.txt" &
  local lg=$!
  while kill -0 "$lg" 2>/dev/null && [ ! -e "$marker" ]; do sleep 0.2; done
  # DWARF unwinding: the Release build and the system libraries keep no frame
  # pointers. Costs the gateway some throughput while recording.
  perf record -F 499 --call-graph dwarf,16384 -o "$WORK/perf.data" -p "$GW_PID" \
    -- sleep "$PERF" 2>"$WORK/perf.record.log" || true
  wait "$lg" || true
  stop_gateway
  local report=(perf report -i "$WORK/perf.data" --stdio -g none --percent-limit 0.5)
  "${report[@]}" --no-children --sort dso 2>/dev/null | grep -v '^$' >"$WORK/perf.dso.txt" || true
  "${report[@]}" --no-children --sort dso,symbol 2>/dev/null | grep -v '^$' \
    >"$WORK/perf.self.txt" || true
  "${report[@]}" --children --sort symbol 2>/dev/null | grep -v '^$' >"$WORK/perf.children.txt" \
    || true
  echo
  echo "gateway profile: $WORK/perf.{dso,self,children}.txt (perf report -i $WORK/perf.data)"
  cat "$WORK/perf.dso.txt"
}

echo "# machine: $(machine)"
# Other work on the machine skews everything; the report says how busy it was.
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$RSS_ONLY" = 1 ]; then
  [ "$RSS" -gt 0 ] || RSS=300
  start_gateway rss-max
  find_max "(c) gateway+subscribers 2 KiB" gateway "$GW_PORT" --subscribers "$SUBSCRIBERS" \
    --payload_bytes 2048
  stop_gateway
  rss_run "$(half "${MAX["(c) gateway+subscribers 2 KiB"]}")"
  exit 0
fi

start_echo
for size in $SIZES; do
  scenario "(a) echo $(kib "$size")" echo "$ECHO_PORT" --payload_bytes "$size"
  start_gateway "b-$size"
  scenario "(b) gateway $(kib "$size")" gateway "$GW_PORT" --payload_bytes "$size"
  stop_gateway
  start_gateway "c-$size"
  scenario "(c) gateway+subscribers $(kib "$size")" gateway "$GW_PORT" --payload_bytes "$size" \
    --subscribers "$SUBSCRIBERS"
  stop_gateway
done
kill -TERM "$ECHO_PID"
wait "$ECHO_PID" || true
ECHO_PID=""

RATIOS=()
for size in $SIZES; do
  k="$(kib "$size")"
  e="${MAX["(a) echo $k"]}"
  RATIOS+=("| $k | $e | ${MAX["(b) gateway $k"]} | $(ratio "${MAX["(b) gateway $k"]}" "$e") | ${MAX["(c) gateway+subscribers $k"]} | $(ratio "${MAX["(c) gateway+subscribers $k"]}" "$e") |")
done

if [ "$PERF" -gt 0 ]; then perf_run; fi
if [ "$RSS" -gt 0 ]; then
  rss_run "$(half "${MAX["(c) gateway+subscribers 2 KiB"]:-${MAX["(b) gateway 2 KiB"]}}")"
fi

versions() {
  local out=() p
  for p in libgrpc++-dev libprotobuf-dev libssl-dev libsqlite3-dev; do
    out+=("$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')")
  done
  local IFS=,
  echo "${out[*]}" | sed 's/,/, /g'
}

report() {
  echo "## Gateway against the gRPC ceiling (bash bench/run.sh gateway), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"); $(g++ --version | head -1)."
  echo "Versions: $(versions)."
  echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Settings: Release build (-O3); load generator, echo server and gateway share the"
  echo "machine's cores, unpinned; $AGENCIES sending agencies, each on its own mutual-TLS 1.3 channel;"
  echo "maximum = the best closed loop of $IN_FLIGHT calls in flight (in that order, on one database);"
  echo "half = open loop at half that maximum"
  echo "(latency from each call's scheduled start); warm-up ${WARMUP} s, measured ${DURATION} s; gateway on"
  echo "a fresh SQLite database per scenario (WAL, durable group commit, signed checkpoints), the"
  echo "deploy/isa agreements, 2024 rule pack; (c) with $SUBSCRIBERS recipient agencies subscribed and"
  echo "acknowledging. Payload = serialized referral content before sealing; request = bytes of the"
  echo "SubmitRequest (the echo request carries the same bytes). Latencies in ms."
  echo
  echo "| scenario | request B | max /s | in flight | p50 / p99 at max | half: rate /s | p50 | p90 | p99 | p99.9 | max | delivery p50 / p99 | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "| payload | echo max /s | (b) gateway max /s | (b)/echo | (c) with subscribers max /s | (c)/echo |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RATIOS[@]}"
  if [ -n "$RSS_LINE" ]; then
    echo
    echo "RSS: $RSS_LINE."
  fi
}

echo
report | tee "$WORK/report.md"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$WORK/report.md"; } >>"$ROOT/bench/RESULTS.md"
  echo
  echo "appended to bench/RESULTS.md"
fi
