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
#       (a) echo, (a') echo that also verifies each envelope's signature (the
#       work the design mandates per Submit), (b) gateway Submit, the full
#       path (signature, policy, durable audit append, mailbox write), (c) the
#       same with every recipient subscribed and acknowledging:
#     first the maximum throughput (closed loop), then latency at half of it
#     (open loop, latency from each call's scheduled start), then both echoes
#     again at (b)'s half rate: bare gRPC's share of the machine at that load,
#     and the CPU per call of the mandated work. Each half-load run samples
#     the cores busy (machine, server, load generator) from /proc. Prints the
#     ratios (b)/(a), (b)/(a'), (c)/(b), the CPU per Submit against (a')'s
#     per call, and appends a dated section to bench/RESULTS.md. Then, with
#     --rss, runs (c) at half load for that long, sampling the gateway's VmRSS.
#     Options (defaults in brackets):
#       --warmup S [5]  --duration S [20]  --agencies N [8]
#       --in-flight "N ..." ["16 64 256"]  closed-loop settings tried; the best
#                         is the maximum
#       --subscribers N [5]  --sizes "BYTES ..." ["2048 65536"]
#       --rss S [300; 0 skips]  --rss-interval S [5]
#       --rss-only        only the RSS run (finds the (c) 2 KiB maximum first)
#       --perf S [0]      also profile the gateway with perf for S seconds at
#                         the 2 KiB maxima of (b) and (c) (reports in the work
#                         directory, perf-b.* and perf-c.*)
#       --no-append       print the results, leave bench/RESULTS.md alone
#     Environment: SAFESHARE_RELEASE_BUILD_DIR [build-release],
#     SAFESHARE_BUILD_JOBS [nproc], SAFESHARE_SKIP_DEPS=1 skips install-deps.
#     Everything the run makes is in <build dir>/bench-gateway/.
#
#   bash bench/run.sh postgres [options]
#     Scale-out: Submit throughput with 1, 2 and 3 gateway replicas on one
#     PostgreSQL on this machine, against one gateway on SQLite. Builds as the
#     gateway mode does (same environment), creates a fresh development
#     federation, starts a throwaway PostgreSQL cluster with fsync on
#     (deploy/postgres/throwaway-cluster.sh --durable; stopped at exit) and,
#     for each replica count N, a fresh database (CREATE DATABASE bench_N, with
#     psql from postgresql-client-15, which postgresql-15 pulls in) and N
#     safeshare-gateway processes on it, each with its own port and runtime
#     directory. The load generator spreads the sending agencies over the
#     replicas (agency i on replica i % N, as agents pinned by a layer-4 load
#     balancer): first the maximum (closed loop), then latency at half of it
#     (open loop). During each closed-loop window it samples from /proc the
#     CPU of the replicas, PostgreSQL's backends and background processes, the
#     load generator and the rest of the machine, and from pg_stat_activity
#     (10 times a second) what the replicas' backends wait on and run; the
#     maximum's samples go in the report, with the audit log's final size.
#     Prints the tables and appends a dated section to bench/RESULTS.md, with
#     a line for the bottleneck note to fill in.
#     Options (defaults in brackets):
#       --warmup S [5]  --duration S [20]  --agencies N [8]
#       --in-flight "N ..." ["64 256"]  closed-loop settings tried per scenario
#       --replicas "N ..." ["1 2 3"]  --size BYTES [2048]  payload
#       --no-sqlite       skip the single SQLite gateway for comparison
#       --no-append       print the results, leave bench/RESULTS.md alone
#     Everything the run makes is in <build dir>/bench-postgres/ (the cluster's
#     log is copied to postgres.log there before the cluster is removed).
#
#   bash bench/run.sh abuse [options]
#     The abuse soak of issue 18: an honest agency's Submits and deliveries
#     while another agency attacks the gateway's limits. Builds as the gateway
#     mode does (same environment, plus bench/abuse's safeshare_abuser),
#     creates a fresh development federation and starts one safeshare-gateway
#     on a fresh SQLite database (default limits: docs/limits.md), then runs
#     three phases on it, each the same honest load (bench/loadgen, open loop,
#     --agencies senders, --subscribers recipients subscribed and
#     acknowledging):
#       (1) the honest load alone for D seconds;
#       (2) the same with the abuser running for the D measured seconds;
#       (3) the same again for 2×D (what grows with the abuse's duration).
#     The abuser (bench/abuse/abuser_main.cc; southsea-academy, which the
#     honest load does not use) opens Subscribe streams in a loop and never
#     reads them, floods oversized and malformed Submits, publishes keys in a
#     loop and holds TCP connections that never start TLS; it starts when the
#     load generator's measured window does. During each window the gateway's
#     VmRSS is sampled from /proc, and every 10 s a new client (`safeshare
#     agencies` as an honest agency, its own process and connection) times
#     one call: whether a newcomer can still connect. Prints the tables
#     (p50, p99, delivered/expected, RSS min/max/end, database size, the
#     abuser's counts by status code) and appends a dated section to
#     bench/RESULTS.md.
#     Options (defaults in brackets):
#       --warmup S [5]  --duration S [40]: D  --rate N [100]  honest Submits/s
#       --agencies N [2]  --subscribers N [4]  --size BYTES [2048]  payload
#       --rss-interval S [2]
#       --abuser-args "FLAGS" [""]  more safeshare_abuser flags, e.g.
#                         "--stream_rate 300 --submit_threads 1"
#       --no-append       print the results, leave bench/RESULTS.md alone
#     Everything the run makes is in <build dir>/bench-abuse/. About 4-5
#     minutes with the defaults.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

cpu() {
  lscpu | awk -F': *' '/^Model name/ { m = $2 } /^CPU family/ { f = $2 } /^Model:/ { n = $2 }
    END { printf "%s (family %s, model %s)", m, f, n }'
}
machine() { echo "$(nproc) cores, $(cpu), $(g++ --version | head -1)"; }
# This shared VM's speed drifts by tens of percent within an hour; the verify
# rate of Ed25519 (the gateway's largest per-Submit cost) dates each run's speed.
cpu_speed() {
  openssl speed -seconds 2 ed25519 2>/dev/null | awk '/Ed25519/ { printf "%.0f", $NF }'
}

if [ "${1:-}" != gateway ] && [ "${1:-}" != postgres ] && [ "${1:-}" != abuse ]; then
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

# ---- bash bench/run.sh gateway | postgres | abuse ---------------------------
MODE="$1"
shift
WARMUP=5 DURATION=20 IN_FLIGHT="16 64 256" AGENCIES=8 SUBSCRIBERS=5 SIZES="2048 65536"
RSS=300 RSS_INTERVAL=5 RSS_ONLY=0 PERF=0 APPEND=1
REPLICAS="1 2 3" SIZE=2048 SQLITE=1
RATE=100 ABUSER_ARGS=""
[ "$MODE" = postgres ] && IN_FLIGHT="64 256"
if [ "$MODE" = abuse ]; then DURATION=40 AGENCIES=2 SUBSCRIBERS=4 RSS_INTERVAL=2; fi
while [ $# -gt 0 ]; do
  case "$MODE $1" in
    *" --warmup") WARMUP="$2"; shift 2 ;;
    *" --duration") DURATION="$2"; shift 2 ;;
    *" --in-flight") IN_FLIGHT="$2"; shift 2 ;;
    *" --agencies") AGENCIES="$2"; shift 2 ;;
    *" --no-append") APPEND=0; shift ;;
    "gateway --subscribers") SUBSCRIBERS="$2"; shift 2 ;;
    "gateway --sizes") SIZES="$2"; shift 2 ;;
    "gateway --rss") RSS="$2"; shift 2 ;;
    "gateway --rss-interval") RSS_INTERVAL="$2"; shift 2 ;;
    "gateway --rss-only") RSS_ONLY=1; shift ;;
    "gateway --perf") PERF="$2"; shift 2 ;;
    "abuse --rate") RATE="$2"; shift 2 ;;
    "abuse --subscribers") SUBSCRIBERS="$2"; shift 2 ;;
    "abuse --size") SIZE="$2"; shift 2 ;;
    "abuse --rss-interval") RSS_INTERVAL="$2"; shift 2 ;;
    "abuse --abuser-args") ABUSER_ARGS="$2"; shift 2 ;;
    "postgres --replicas") REPLICAS="$2"; shift 2 ;;
    "postgres --size") SIZE="$2"; shift 2 ;;
    "postgres --no-sqlite") SQLITE=0; shift ;;
    *) echo "bench/run.sh $MODE: unknown option $1 (see the top of bench/run.sh)" >&2; exit 2 ;;
  esac
done

BUILD="${SAFESHARE_RELEASE_BUILD_DIR:-$ROOT/build-release}"
JOBS="${SAFESHARE_BUILD_JOBS:-$(nproc)}"
[ "${SAFESHARE_SKIP_DEPS:-0}" = 1 ] || bash "$ROOT/deploy/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" -j "$JOBS" safeshare safeshare-gateway safeshare_echo_server safeshare_loadgen \
  $([ "$MODE" = abuse ] && echo safeshare_abuser)
SAFESHARE="$BUILD/agents/safeshare"
GATEWAY="$BUILD/gateway/safeshare-gateway"
ECHO="$BUILD/bench/echo-server/safeshare_echo_server"
LOADGEN="$BUILD/bench/loadgen/safeshare_loadgen"
ABUSER="$BUILD/bench/abuse/safeshare_abuser"

WORK="$BUILD/bench-$MODE"
rm -rf "$WORK"
mkdir -p "$WORK"
RESULTS="$WORK/results.jsonl"
"$SAFESHARE" pki init --dir "$WORK/federation" \
  --federation_template "$ROOT/deploy/dev-federation.textproto" >/dev/null

ECHO_PID="" GW_PID="" PERF_PID="" LG_PID="" WATCH_PID="" AB_PID="" SAMPLER_PID="" PG_DIR="" PG_DB="" ADMIN_URI=""
GW_PIDS=() GW_PORTS=() ECHO_ALL=()
cleanup() {
  for pid in $SAMPLER_PID $AB_PID $WATCH_PID $LG_PID $PERF_PID "${GW_PIDS[@]}" "${ECHO_ALL[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$PG_DIR" ]; then
    cp "$PG_DIR/postgres.log" "$WORK/postgres.log" 2>/dev/null || true
    bash "$ROOT/deploy/postgres/throwaway-cluster.sh" stop "$PG_DIR" || true
  fi
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

# start_echo NAME [FLAGS]: an echo server named NAME; use_echo NAME makes it
# the one measured (ECHO_PID, ECHO_PORT).
declare -A ECHO_PIDS ECHO_PORTS
start_echo() {
  local name="$1" pid
  shift
  "$ECHO" --federation "$WORK/federation" --runtime_dir "$WORK" \
    --port_file "$WORK/echo-$name.port" "$@" 2>"$WORK/echo-$name.log" &
  pid=$!
  ECHO_ALL+=("$pid")
  ECHO_PIDS["$name"]="$pid"
  ECHO_PORTS["$name"]="$(wait_port "$WORK/echo-$name.port" "$pid" "$WORK/echo-$name.log")"
}
use_echo() { ECHO_PID="${ECHO_PIDS["$1"]}" ECHO_PORT="${ECHO_PORTS["$1"]}"; }

# start_gateway NAME [STORE]: a gateway in $WORK/NAME (its runtime directory),
# on a fresh SQLite database there unless given a STORE URI. GW_PID and GW_PORT
# are the newest one's; GW_PIDS and GW_PORTS list every running one.
start_gateway() {
  local dir="$WORK/$1" store="${2:-}" config=()
  mkdir -p "$dir"
  [ -n "$store" ] || store="sqlite://$dir/gateway.db"
  # Throughput runs never acknowledge: at 64 KiB the maxima alone put more
  # than the default 2 GiB in one mailbox. The abuse soak keeps the defaults.
  if [ "$MODE" != abuse ]; then
    echo "limits { mailbox_quota_bytes: 1099511627776 }" >"$dir/limits.textproto"
    config=(--config "$dir/limits.textproto")
  fi
  "$GATEWAY" "${config[@]}" --listen 127.0.0.1:0 \
    --ca "$WORK/federation/gateway/ca.pem" --cert "$WORK/federation/gateway/cert.pem" \
    --key "$WORK/federation/gateway/key.pem" --store "$store" \
    --federation "$WORK/federation/federation.textproto" --isa_dir "$ROOT/deploy/isa" \
    --audit_key "$WORK/federation/gateway/audit-signing.pem" --rule_pack 2024 \
    --runtime_dir "$dir" --port_file "$dir/port" --development 2>"$dir/gateway.log" &
  GW_PID=$!
  GW_PIDS+=("$GW_PID")
  GW_PORT="$(wait_port "$dir/port" "$GW_PID" "$dir/gateway.log")"
  GW_PORTS+=("$GW_PORT")
}

# stop_gateway: stops every running gateway.
stop_gateway() {
  local pid
  for pid in "${GW_PIDS[@]}"; do kill -TERM "$pid"; done
  for pid in "${GW_PIDS[@]}"; do wait "$pid" || true; done
  GW_PID="" GW_PIDS=() GW_PORTS=()
}

# measure LABEL TARGET PORTS ARGS...: one load generator run against the
# servers on PORTS (comma-separated; agency i uses the i % n-th); its JSON line
# goes to $RESULTS and $LAST. With SAMPLE=1 it also samples the measured
# window (sample_window): LAST_CPU, LAST_WAITS and LAST_STATEMENTS.
SAMPLE=0 SAMPLE_MAX=0
measure() {
  local label="$1" target="$2" ports="$3"
  shift 3
  echo
  local out rc=0 addresses
  # Settle: the previous run's dirty pages reach the disk first, so every run
  # starts on an idle disk (the database and the gateway stay as they are).
  sync
  sleep 2
  addresses="$(sed 's/[^,][^,]*/localhost:&/g' <<<"$ports")"
  local cmd=("$LOADGEN" --target "$target" --address "$addresses"
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples"
    --agencies "$AGENCIES" --warmup "$WARMUP" --duration "$DURATION"
    --label "$label" --json_out "$RESULTS" "$@")
  if [ "$SAMPLE" = 1 ]; then
    rm -f "$WORK/measuring"
    "${cmd[@]}" --measure_start_file "$WORK/measuring" >"$WORK/loadgen.out" &
    LG_PID=$!
    sample_window "$LG_PID" "$WORK/measuring"
    wait "$LG_PID" || rc=$?
    LG_PID=""
    out="$(cat "$WORK/loadgen.out")"
  else
    out="$("${cmd[@]}")" || rc=$?
  fi
  if [ "$rc" != 0 ]; then
    echo "$out"
    echo "load generator failed in $label" >&2
    return 1
  fi
  echo "$out"
  LAST="$(tail -1 <<<"$out")"
}

# proc_jiffies GROUP STAT_FILE...: "GROUP ID JIFFIES" (user + system) for each
# process or thread.
proc_jiffies() {
  local group="$1"
  shift
  [ $# -gt 0 ] || return 0
  # The command name in parentheses may hold spaces: fields count after it.
  awk -v g="$group" '{ line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
    id = FILENAME; sub(/\/stat$/, "", id); sub(/.*\//, "", id); print g, id, f[12] + f[13] }' \
    "$@" 2>/dev/null || true
}

# cpu_snapshot: the machine's CPU counters and those of each process group
# the benchmark runs: the gateways (and their threads), the load generator,
# PostgreSQL's backends serving the benchmark database and the rest of the
# cluster (postmaster, WAL writer, checkpointer, ...).
cpu_snapshot() {
  awk '{ print "machine uptime", $1 }' /proc/uptime
  awk '/^cpu / { print "machine busy", $2 + $3 + $4 + $7 + $8 + $9
    print "machine idle", $5 + $6 }' /proc/stat
  local i pid title
  for i in "${!GW_PIDS[@]}"; do
    proc_jiffies "replica-$i" "/proc/${GW_PIDS[$i]}/stat"
    proc_jiffies "thread-$i" /proc/"${GW_PIDS[$i]}"/task/*/stat
  done
  [ -z "$LG_PID" ] || proc_jiffies loadgen "/proc/$LG_PID/stat"
  [ -z "$ECHO_PID" ] || proc_jiffies echo "/proc/$ECHO_PID/stat"
  [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  local postmaster
  postmaster="$(head -1 "$PG_DIR/data/postmaster.pid")"
  proc_jiffies pg-background "/proc/$postmaster/stat"
  for pid in $(ps -o pid= --ppid "$postmaster"); do
    title="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    # Backends are titled "postgres: USER DATABASE HOST(PORT) STATE"; the
    # sampler's own backend (database postgres) is left to "other".
    if [[ "$title" == *" 127.0.0.1("* ]]; then
      [ -z "$PG_DB" ] || [[ "$title" != *" $PG_DB 127.0.0.1("* ]] ||
        proc_jiffies pg-backends "/proc/$pid/stat"
    else
      proc_jiffies pg-background "/proc/$pid/stat"
    fi
  done
}

# cpu_summary BEFORE AFTER [ROLES]: key=value percentages of one core over the
# interval: replicas (sum), replica_each (r0+r1...), thread_max (each
# replica's busiest thread), pg_backends (with ROLES, "PID ROLE" lines, split
# into pg_writers, pg_readers and pg_listeners), pg_backend_max (the busiest),
# pg_background, loadgen, echo (the echo server), machine (all busy), other
# (busy outside these), idle.
cpu_summary() {
  awk -v cores="$(nproc)" -v hz="$(getconf CLK_TCK)" -v roles="${3:-}" '
    BEGIN {
      while (roles != "" && (getline line < roles) > 0) { split(line, f, " "); role[f[1]] = f[2] }
    }
    FNR == NR { before[$1 " " $2] = $3; next }
    # A process started in between counts from zero; one gone is lost.
    { key = $1 " " $2; d = $3 - (key in before ? before[key] : 0) }
    $1 == "machine" { m[$2] = d; next }
    $1 ~ /^thread-/ { i = substr($1, 8); if (d > tmax[i]) tmax[i] = d; next }
    $1 == "pg-backends" { if (d > bmax) bmax = d; by_role[$2 in role ? role[$2] : "other"] += d }
    { sum[$1] += d }
    function pct(j) { return 100 * j / (hz * m["uptime"]) }
    END {
      if (m["uptime"] <= 0) exit
      machine = 100 * cores * m["busy"] / (m["busy"] + m["idle"])
      replicas = 0; each = ""; threads = ""
      for (i = 0; ("replica-" i) in sum; i++) {
        replicas += sum["replica-" i]
        each = each (i ? "+" : "") sprintf("%.0f", pct(sum["replica-" i]))
        threads = threads (i ? "+" : "") sprintf("%.0f", pct(tmax[i]))
      }
      known = pct(replicas + sum["pg-backends"] + sum["pg-background"] + sum["loadgen"] + sum["echo"])
      printf "secs=%.1f replicas=%.0f replica_each=%s thread_max=%s pg_backends=%.0f", \
        m["uptime"], pct(replicas), each, threads, pct(sum["pg-backends"])
      printf " pg_writers=%.0f pg_readers=%.0f pg_listeners=%.0f pg_backend_max=%.0f", \
        pct(by_role["writer"]), pct(by_role["reader"]), pct(by_role["listener"]), pct(bmax)
      printf " pg_background=%.0f loadgen=%.0f echo=%.0f machine=%.0f other=%.0f idle=%.0f\n", \
        pct(sum["pg-background"]), pct(sum["loadgen"]), pct(sum["echo"]), machine, \
        (machine > known ? machine - known : 0), 100 * cores - machine
    }' "$1" "$2"
}

# What the benchmark database's backends are doing, as psql \watch samples it:
# EPOCH PID APPLICATION STATE WAIT_TYPE WAIT_EVENT QUERY (the last one if idle).
WAITS_SQL="SELECT extract(epoch FROM now()), pid, coalesce(nullif(application_name, ''), '-'),
  replace(coalesce(state, '-'), ' ', '_'), coalesce(wait_event_type, '-'),
  coalesce(wait_event, '-'), left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 48)
  FROM pg_stat_activity WHERE datname = '%s' AND backend_type = 'client backend'"

# backend_roles FILE: "PID ROLE" for each sampled backend. A replica's writer
# is the connection that takes the lock, writes and holds transactions open;
# its listener's last statement is LISTEN; the rest read.
backend_roles() {
  awk '
    NF < 7 { next }  # \watch separates samples with blank lines
    { q = $7; for (i = 8; i <= NF; i++) q = q " " $i; seen[$2] = 1 }
    $4 == "idle_in_transaction" ||
      q ~ /^(BEGIN|COMMIT|SAVEPOINT|RELEASE|ROLLBACK|INSERT|UPDATE|DELETE|SELECT pg_advisory)/ {
      writer[$2] = 1 }
    q ~ /^LISTEN/ { listener[$2] = 1 }
    END { for (p in seen) print p, p in writer ? "writer" : p in listener ? "listener" : "reader" }
  ' "$1"
}

# wait_summary FILE ROLES: key=value mean number of backends per sample in
# each state. Writers: w_lock (waiting for the audit log's advisory lock),
# w_client (holding it in a transaction, waiting for their replica's next
# statement), w_run (running a statement), w_wal (WAL write or flush), w_idle,
# w_other; readers: r_busy, r_idle; and the samples.
wait_summary() {
  awk '
    FNR == NR { role[$1] = $2; next }
    NF < 7 { next }
    { if (!($1 in t)) { t[$1] = 1; n++ } }
    role[$2] == "listener" { next }
    role[$2] == "reader" { c[$4 == "active" ? "r_busy" : "r_idle"]++; next }
    $4 == "idle" { c["w_idle"]++; next }
    $4 == "idle_in_transaction" { c["w_client"]++; next }
    $4 == "active" && $5 == "Lock" && $6 == "advisory" { c["w_lock"]++; next }
    $4 == "active" && $5 == "-" { c["w_run"]++; next }
    $4 == "active" && $6 ~ /^WAL/ { c["w_wal"]++; next }
    { c["w_other"]++; what[$5 ":" $6]++ }
    END {
      if (n == 0) { print "samples=0"; exit }
      printf "samples=%d", n
      split("w_lock w_client w_run w_wal w_idle w_other r_busy r_idle", k, " ")
      for (i = 1; i <= 8; i++) printf " %s=%.2f", k[i], c[k[i]] / n
      top = ""; for (w in what) if (top == "" || what[w] > what[top]) top = w
      printf " other_top=%s\n", top == "" ? "-" : top
    }' "$2" "$1"
}

# statement_summary FILE ROLES ROLE: the statements that ROLE's backends were
# most often in while active (running or waiting), as shares of those samples.
statement_summary() {
  awk -v want="$3" '
    FNR == NR { role[$1] = $2; next }
    NF < 7 || $4 != "active" || role[$2] != want { next }
    { q = $7; for (i = 8; i <= NF; i++) q = q " " $i; c[q]++; n++ }
    END {
      for (k = 0; k < 3 && n > 0; k++) {
        top = ""; for (q in c) if (top == "" || c[q] > c[top]) top = q
        if (top == "") break
        printf "%s`%s…` %.0f%%", k ? ", " : "", top, 100 * c[top] / n
        delete c[top]
      }
      print (n > 0 ? "" : "-")
    }' "$2" "$1"
}

# sample_window LOADGEN_PID MARKER: once the load generator touches MARKER,
# samples the CPU and (on PostgreSQL) the backends' waits for the window.
LAST_CPU="" LAST_WAITS="" LAST_STATEMENTS=""
sample_window() {
  local lg="$1" marker="$2" secs roles=""
  LAST_CPU="" LAST_WAITS="" LAST_STATEMENTS=""
  while kill -0 "$lg" 2>/dev/null && [ ! -e "$marker" ]; do sleep 0.1; done
  kill -0 "$lg" 2>/dev/null || return 0
  # A little short of the window: the marker is seen up to 0.1 s late, and
  # the load generator stops sending as the window ends.
  secs="$(awk -v d="$DURATION" 'BEGIN { s = d - 0.5; if (s < 0.5) s = d * 0.8; print s }')"
  if [ -n "$PG_DB" ]; then
    # shellcheck disable=SC2059
    psql "$ADMIN_URI" -Atq -F ' ' <<<"$(printf "$WAITS_SQL" "$PG_DB") \\watch 0.1" \
      >"$WORK/waits.txt" 2>"$WORK/waits.err" &
    WATCH_PID=$!
  fi
  cpu_snapshot >"$WORK/cpu.before"
  sleep "$secs"
  cpu_snapshot >"$WORK/cpu.after"
  if [ -n "$WATCH_PID" ]; then
    kill -TERM "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=""
    roles="$WORK/roles.txt"
    backend_roles "$WORK/waits.txt" >"$roles"
    LAST_WAITS="$(wait_summary "$WORK/waits.txt" "$roles")"
    LAST_STATEMENTS="writers: $(statement_summary "$WORK/waits.txt" "$roles" writer);"
    LAST_STATEMENTS+=" readers: $(statement_summary "$WORK/waits.txt" "$roles" reader)"
  fi
  LAST_CPU="$(cpu_summary "$WORK/cpu.before" "$WORK/cpu.after" "$roles")"
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
# MAX_JSON and MAX[NAME] (with SAMPLE_MAX=1 that run's samples in MAX_CPU,
# MAX_WAITS and MAX_STATEMENTS).
declare -A BEST_IN_FLIGHT MAX_CPU MAX_WAITS MAX_STATEMENTS
find_max() {
  local name="$1" target="$2" port="$3" k best=0
  shift 3
  MAX_JSON=""
  for k in $IN_FLIGHT; do
    SAMPLE="$SAMPLE_MAX"
    measure "$name max, $k in flight" "$target" "$port" --in_flight "$k" --fail_on_error "$@"
    SAMPLE=0
    if [ "$SAMPLE_MAX" = 1 ]; then
      echo "cpu: $LAST_CPU"
      [ -z "$LAST_WAITS" ] || echo "backends: $LAST_WAITS; running: $LAST_STATEMENTS"
    fi
    if awk -v a="$(jget throughput_per_s "$LAST")" -v b="$best" 'BEGIN { exit !(a > b) }'; then
      MAX_JSON="$LAST"
      best="$(jget throughput_per_s "$LAST")"
      BEST_IN_FLIGHT["$name"]="$k"
      MAX_CPU["$name"]="$LAST_CPU"
      MAX_WAITS["$name"]="$LAST_WAITS"
      MAX_STATEMENTS["$name"]="$LAST_STATEMENTS"
    fi
  done
  MAX["$name"]="$best"
}

declare -A HALF_JSON MAX_JSONS
scenario() {
  local name="$1" target="$2" port="$3"
  shift 3
  find_max "$name" "$target" "$port" "$@"
  local max_json="$MAX_JSON" max="${MAX["$name"]}"
  local rate
  rate="$(half "$max")"
  half_run "$name half" "$target" "$port" "$rate" "$@"
  local j="$LAST" delivery="-"
  if [ -n "$(jget delivery_p99_ms "$j")" ]; then
    delivery="$(jget delivery_p50_ms "$j") / $(jget delivery_p99_ms "$j")"
  fi
  HALF_JSON["$name"]="$j"
  MAX_JSONS["$name"]="$max_json"
  ROWS+=("| $name | $(jget request_bytes "$max_json") | $max | $(jget in_flight "$max_json") | $(jget p50_ms "$max_json") / $(jget p99_ms "$max_json") | $(jget throughput_per_s "$j") | $(jget p50_ms "$j") | $(jget p90_ms "$j") | $(jget p99_ms "$j") | $(jget p999_ms "$j") | $(jget max_ms "$j") | $delivery | $(( $(jget errors "$max_json") + $(jget errors "$j") )) |")
}

# half_run LABEL TARGET PORT RATE ARGS...: an open loop at RATE, its window
# sampled; adds a row to the half-load table: where the machine's cores went.
# HALF_CPU[LABEL]: the server's CPU per call in ms (cores busy / rate).
HALF_ROWS=()
declare -A HALF_CPU
half_run() {
  local label="$1" target="$2" port="$3" rate="$4" server
  shift 4
  SAMPLE=1
  measure "$label" "$target" "$port" --rate "$rate" --fail_on_error "$@"
  SAMPLE=0
  if [ "$target" = echo ]; then server="$(kv echo "$LAST_CPU")"; else server="$(kv replicas "$LAST_CPU")"; fi
  local per_call
  per_call="$(awk -v p="$server" -v r="$(jget throughput_per_s "$LAST")" \
    'BEGIN { if (p == "" || r <= 0) print "-"; else printf "%.3f", 10 * p / r }')"
  HALF_CPU["$label"]="$per_call"
  HALF_ROWS+=("| $label | $(jget throughput_per_s "$LAST") | $(jget p50_ms "$LAST") | $(jget p99_ms "$LAST") | $(cores "$(kv machine "$LAST_CPU")") | $(cores "$server") | $per_call | $(cores "$(kv loadgen "$LAST_CPU")") |")
}
cores() { awk -v p="$1" 'BEGIN { if (p == "") print "-"; else printf "%.2f", p / 100 }'; }

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

# perf_run NAME LABEL [LOADGEN ARGS...]: the gateway's profile at the 2 KiB
# maximum of scenario LABEL, in $WORK/perf-NAME.*.
perf_run() {
  command -v perf >/dev/null || { echo "perf not installed; skipping the profile" >&2; return 0; }
  local name="$1" label="$2"
  shift 2
  start_gateway "perf-$name"
  local marker="$WORK/perf-$name.measuring" out="$WORK/perf-$name"
  "$LOADGEN" --target gateway --address "localhost:$GW_PORT" \
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples" \
    --agencies "$AGENCIES" --in_flight "${BEST_IN_FLIGHT["$label"]:-64}" \
    --warmup "$WARMUP" --duration "$PERF" "$@" \
    --label "perf $label" --measure_start_file "$marker" >"$out.loadgen.txt" &
  local lg=$!
  while kill -0 "$lg" 2>/dev/null && [ ! -e "$marker" ]; do sleep 0.2; done
  # DWARF unwinding: the Release build and the system libraries keep no frame
  # pointers. Costs the gateway some throughput while recording.
  perf record -F 499 --call-graph dwarf,16384 -o "$out.data" -p "$GW_PID" \
    -- sleep "$PERF" 2>"$out.record.log" || true
  wait "$lg" || true
  stop_gateway
  local report=(perf report -i "$out.data" --stdio -g none --percent-limit 0.5)
  "${report[@]}" --no-children --sort dso 2>/dev/null | grep -v '^$' >"$out.dso.txt" || true
  "${report[@]}" --no-children --sort dso,symbol 2>/dev/null | grep -v '^$' >"$out.self.txt" || true
  "${report[@]}" --children --sort symbol 2>/dev/null | grep -v '^$' >"$out.children.txt" || true
  echo
  echo "gateway profile of $label: $out.{dso,self,children}.txt (perf report -i $out.data)"
  cat "$out.dso.txt"
}

# versions [PACKAGE...]: installed versions of the build's libraries (and more).
versions() {
  local out=() p
  for p in libgrpc++-dev libprotobuf-dev libssl-dev libsqlite3-dev "$@"; do
    out+=("$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')")
  done
  local IFS=,
  echo "${out[*]}" | sed 's/,/, /g'
}

# ---- bash bench/run.sh postgres ----------------------------------------------
# kv KEY LINE: a value from a key=value line.
kv() { sed -n "s/\(^\|.* \)$1=\([^ ]*\).*/\2/p" <<<"$2"; }
# spread N: how many of the sending agencies each of N replicas serves.
spread() {
  local n="$1" i out=()
  for ((i = 0; i < n; i++)); do out+=("$(((AGENCIES - i + n - 1) / n))"); done
  local IFS=/
  echo "${out[*]}"
}
# source_state: the commit measured, and what was uncommitted outside bench/.
source_state() {
  local head dirty
  head="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  dirty="$(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null |
    awk '$2 !~ /^bench\// { print $2 }' | paste -sd, - | sed 's/,/, /g')"
  echo "commit $head${dirty:+, with uncommitted changes to $dirty}"
}

# log_check URI: the audit log's size, and how long the size check the reader
# makes before each receipt's proof (PostgresStore::ReadTreeSize) takes on it
# (EXPLAIN ANALYZE, the best of three), in ms.
log_check() {
  local size i
  size="$(psql "$1" -Atc 'SELECT count(*) FROM audit_log')"
  echo "$size $(for i in 1 2 3; do
    psql "$1" -Atc 'EXPLAIN ANALYZE SELECT COUNT(*)::int8, COALESCE(MAX(seq) + 1, 0)::int8
      FROM audit_log' | sed -n 's/^Execution Time: \(.*\) ms$/\1/p'
  done | sort -g | head -1)"
}

declare -A LOG_CHECK
postgres_main() {
  command -v psql >/dev/null || {
    echo "bench/run.sh postgres: needs psql (postgresql-client-15; postgresql-15 pulls it in)" >&2
    exit 1
  }
  echo "# machine: $(machine)"
  LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
  SPEED_START="$(cpu_speed)"
  SOURCE="$(source_state)"
  SAMPLE_MAX=1
  PG_DIR="$WORK/pg"
  ADMIN_URI="$(bash "$ROOT/deploy/postgres/throwaway-cluster.sh" start "$PG_DIR" --durable)"
  PG_VERSION="$(psql "$ADMIN_URI" -Atc 'SHOW server_version')"
  PG_SETTINGS="$(psql "$ADMIN_URI" -Atc "SELECT string_agg(name || ' ' || current_setting(name),
    ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit',
    'wal_sync_method', 'full_page_writes', 'shared_buffers', 'commit_delay', 'max_wal_size')")"
  echo "# PostgreSQL $PG_VERSION at $ADMIN_URI: $PG_SETTINGS"
  local names=() n i name
  if [ "$SQLITE" = 1 ]; then
    PG_DB=""
    name="SQLite, 1 gateway"
    start_gateway sqlite
    scenario "$name" gateway "$GW_PORT" --payload_bytes "$SIZE"
    stop_gateway
    names+=("$name")
  fi
  for n in $REPLICAS; do
    PG_DB="bench_$n"
    psql "$ADMIN_URI" -qAt -c "CREATE DATABASE $PG_DB"
    for ((i = 0; i < n; i++)); do
      # application_name tells the replicas' connections apart in pg_stat_activity.
      start_gateway "pg-$n/replica-$i" "${ADMIN_URI%/*}/$PG_DB?application_name=replica-$i"
    done
    name="PostgreSQL, $n replica$([ "$n" = 1 ] || echo s)"
    scenario "$name" gateway "$(IFS=,; echo "${GW_PORTS[*]}")" --payload_bytes "$SIZE"
    stop_gateway
    LOG_CHECK["$name"]="$(log_check "${ADMIN_URI%/*}/$PG_DB")"
    names+=("$name")
  done
  PG_DB=""

  echo
  postgres_report "${names[@]}" | tee "$WORK/report.md"
  if [ "$APPEND" = 1 ]; then
    { echo; cat "$WORK/report.md"; } >>"$ROOT/bench/RESULTS.md"
    echo
    echo "appended to bench/RESULTS.md"
  fi
}

# postgres_report NAME...: the dated section for bench/RESULTS.md.
postgres_report() {
  local name n spreads=() base="${MAX["PostgreSQL, 1 replica"]:-}"
  for n in $REPLICAS; do [ "$n" -le 1 ] || spreads+=("$(spread "$n") with $n"); done
  local any_json="${MAX_JSONS["$1"]}"
  local counts
  counts="$(awk '{ for (i = 1; i <= NF; i++) printf "%s%s", i == 1 ? "" : i == NF ? " and " : ", ", $i }' \
    <<<"$REPLICAS")"
  echo "## Scale-out: Submit on $counts gateway replicas on one PostgreSQL (bash bench/run.sh postgres), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"); $(g++ --version | head -1)."
  echo "Versions: $(versions libpq-dev postgresql-15); PostgreSQL server $PG_VERSION."
  echo "Source: $SOURCE."
  echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "CPU speed (\`openssl speed ed25519\`, verifications per second on one core) at the start: $SPEED_START; at the end: $(cpu_speed)."
  echo "Settings: Release build (-O3); load generator, replicas and PostgreSQL share the machine's"
  echo "cores, unpinned; $AGENCIES sending agencies, each on its own mutual-TLS 1.3 channel, agency i on"
  echo "replica i % N (agencies per replica: $(IFS=';'; echo "${spreads[*]:-one replica only}" | sed 's/;/; /g'));"
  echo "$SIZE B payload ($(jget request_bytes "$any_json") B request); maximum = the best closed loop of"
  echo "$IN_FLIGHT calls in flight (in that order, on one database); half = open loop at half that maximum"
  echo "(latency from each call's scheduled start); warm-up $WARMUP s, measured $DURATION s. PostgreSQL:"
  echo "a throwaway cluster on this machine's disk (deploy/postgres/throwaway-cluster.sh --durable:"
  echo "$PG_SETTINGS), a fresh database per replica count, each replica"
  echo "on loopback TCP without TLS (writer, reader and listener connections). SQLite: one gateway on a"
  echo "fresh database on the same disk (WAL, durable group commit). Signed checkpoints, the deploy/isa"
  echo "agreements, 2024 rule pack, mailbox quota 1 TiB. Latencies in ms."
  echo
  echo "| scenario | max /s | vs 1 PostgreSQL replica | in flight | p50 / p99 at max | half: rate /s | p50 | p90 | p99 | p99.9 | max | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local mj hj vs
  for name in "$@"; do
    mj="${MAX_JSONS["$name"]}" hj="${HALF_JSON["$name"]}"
    vs="$(awk -v a="${MAX["$name"]}" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }')"
    echo "| $name | ${MAX["$name"]} | $vs | $(jget in_flight "$mj") | $(jget p50_ms "$mj") / $(jget p99_ms "$mj") | $(jget throughput_per_s "$hj") | $(jget p50_ms "$hj") | $(jget p90_ms "$hj") | $(jget p99_ms "$hj") | $(jget p999_ms "$hj") | $(jget max_ms "$hj") | $(( $(jget errors "$mj") + $(jget errors "$hj") )) |"
  done
  echo
  echo "CPU during each maximum's measured window, from /proc (user + system over the last"
  echo "$(kv secs "${MAX_CPU["$1"]}") s of it; 100% = one core, the machine has $(nproc)00%). \"Other\" is the"
  echo "rest of the machine's busy time: other users, the kernel's interrupts, the pg_stat_activity sampler."
  echo
  echo "| scenario | replicas (each) | busiest thread of each replica | PostgreSQL backends: all (writers + readers) | busiest backend | PostgreSQL background | load generator | other | idle |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local c pg pgmax
  for name in "$@"; do
    c="${MAX_CPU["$name"]}" pg="$(kv pg_backends "$c")% ($(kv pg_writers "$c") + $(kv pg_readers "$c"))"
    pgmax="$(kv pg_backend_max "$c")%"
    if [ -z "${MAX_WAITS["$name"]}" ]; then pg="-" pgmax="-"; fi
    echo "| $name | $(kv replicas "$c")% ($(kv replica_each "$c")) | $(kv thread_max "$c" | sed 's/+/% + /g')% | $pg | $pgmax | $(kv pg_background "$c")% | $(kv loadgen "$c")% | $(kv other "$c")% | $(kv idle "$c")% |"
  done
  echo
  echo "What the replicas' PostgreSQL backends were doing in the same windows (pg_stat_activity,"
  echo "10 samples a second; mean number of backends in each state). Each replica has a writer, a"
  echo "reader and a listener connection. A writer holds the audit log's advisory lock for its"
  echo "whole batch transaction, so at most one writer at a time is past the lock: \"holding the"
  echo "lock\" near 1 means the lock is never free."
  echo
  echo "| scenario | samples | writers waiting for the lock | holding it: waiting for their replica | holding it: running a statement | holding it: WAL write/flush | writers idle | readers busy | readers idle | other |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  local w other
  for name in "$@"; do
    w="${MAX_WAITS["$name"]}"
    [ -n "$w" ] || continue
    other="$(kv w_other "$w")"
    [ "$(kv other_top "$w")" = - ] || other="$other (mostly $(kv other_top "$w"))"
    echo "| $name | $(kv samples "$w") | $(kv w_lock "$w") | $(kv w_client "$w") | $(kv w_run "$w") | $(kv w_wal "$w") | $(kv w_idle "$w") | $(kv r_busy "$w") | $(kv r_idle "$w") | $other |"
  done
  echo
  echo "Statements the writers and readers were most often in while active (shares of their"
  echo "active samples; a writer's lock wait is in \`SELECT pg_advisory_xact_lock\`):"
  echo
  for name in "$@"; do
    [ -n "${MAX_WAITS["$name"]}" ] || continue
    echo "- $name: ${MAX_STATEMENTS["$name"]}"
  done
  echo
  echo "The readers' size check before each receipt's inclusion proof"
  echo "(\`SELECT COUNT(*), MAX(seq) + 1 FROM audit_log\`) reads the whole log; at the end of each"
  echo "scenario (EXPLAIN ANALYZE, the best of three):"
  echo
  local size ms
  for name in "$@"; do
    [ -n "${LOG_CHECK["$name"]:-}" ] || continue
    read -r size ms <<<"${LOG_CHECK["$name"]}"
    echo "- $name: $size records, $ms ms"
  done
  echo
  echo "Bottleneck: (to be written from the tables above)."
}

# ---- bash bench/run.sh abuse -------------------------------------------------
# rss_kib PID: the process's VmRSS in KiB.
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# sample_phase NAME: until $WORK/NAME.stop exists, the gateway's VmRSS every
# $RSS_INTERVAL s to NAME.rss ("SECONDS KIB"), and every 10 s one call by a
# new client to NAME.probe ("SECONDS EXIT_STATUS").
sample_phase() {
  local name="$1" t0=$SECONDS next_probe=0 s
  while [ ! -e "$WORK/$name.stop" ]; do
    echo "$((SECONDS - t0)) $(rss_kib "$GW_PID")" >>"$WORK/$name.rss"
    if [ $((SECONDS - t0)) -ge "$next_probe" ]; then
      next_probe=$((next_probe + 10))
      (
        local start rc=0
        start="$(date +%s.%N)"
        timeout 30 "$SAFESHARE" agencies --gateway "localhost:$GW_PORT" \
          --identity "$WORK/federation/agencies/hiow-police" >/dev/null 2>>"$WORK/$name.probe.err" ||
          rc=$?
        awk -v a="$start" -v b="$(date +%s.%N)" -v rc="$rc" 'BEGIN { printf "%.2f %d\n", b - a, rc }' \
          >>"$WORK/$name.probe"
      ) &
    fi
    s=0
    while [ "$s" -lt "$RSS_INTERVAL" ] && [ ! -e "$WORK/$name.stop" ]; do sleep 1; s=$((s + 1)); done
  done
  wait
}

# abuse_phase NAME SECONDS ABUSE(0|1): the honest load for SECONDS measured,
# the abuser beside it from the start of the window when ABUSE=1. Leaves the
# load generator's JSON line in PHASE_LG[NAME], the abuser's in PHASE_AB[NAME].
declare -A PHASE_LG PHASE_AB PHASE_SECS
abuse_phase() {
  local name="$1" secs="$2" abuse="$3" marker="$WORK/$1.measuring" rc=0
  echo
  echo "# phase $name: honest load for $secs s$([ "$abuse" = 1 ] && echo ", with the abuser")"
  sync
  sleep 2
  rm -f "$marker" "$WORK/$name.stop"
  "$LOADGEN" --target gateway --address "localhost:$GW_PORT" \
    --federation "$WORK/federation" --examples_dir "$ROOT/deploy/examples" \
    --agencies "$AGENCIES" --subscribers "$SUBSCRIBERS" --payload_bytes "$SIZE" \
    --rate "$RATE" --warmup "$WARMUP" --duration "$secs" --label "abuse soak: $name" \
    --json_out "$RESULTS" --measure_start_file "$marker" >"$WORK/$name.loadgen.txt" 2>&1 &
  LG_PID=$!
  while kill -0 "$LG_PID" 2>/dev/null && [ ! -e "$marker" ]; do sleep 0.1; done
  if [ "$abuse" = 1 ]; then
    # shellcheck disable=SC2086  # ABUSER_ARGS is a list of flags
    "$ABUSER" --address "localhost:$GW_PORT" --federation "$WORK/federation" \
      --agency southsea-academy --duration "$secs" --label "abuse soak: $name" \
      --json_out "$WORK/abuser.jsonl" $ABUSER_ARGS >"$WORK/$name.abuser.txt" 2>&1 &
    AB_PID=$!
  fi
  sample_phase "$name" &
  SAMPLER_PID=$!
  wait "$LG_PID" || rc=$?
  LG_PID=""
  if [ -n "$AB_PID" ]; then
    wait "$AB_PID" || echo "the abuser exited with status $?" >&2
    AB_PID=""
    cat "$WORK/$name.abuser.txt"
    PHASE_AB["$name"]="$(tail -1 "$WORK/$name.abuser.txt")"
  fi
  touch "$WORK/$name.stop"
  wait "$SAMPLER_PID" || true
  SAMPLER_PID=""
  cat "$WORK/$name.loadgen.txt"
  [ "$rc" = 0 ] || echo "the load generator exited with status $rc in phase $name" >&2
  PHASE_LG["$name"]="$(grep '^{' "$WORK/$name.loadgen.txt" | tail -1)"
  PHASE_SECS["$name"]="$secs"
  kill -0 "$GW_PID" || { echo "the gateway died in phase $name" >&2; tail -20 "$WORK/abuse/gateway.log" >&2; exit 1; }
}

# rss_summary NAME: "min / max / end" MiB of the phase's samples.
rss_summary() {
  awk '{ v = $2 / 1024; if (NR == 1 || v < mn) mn = v; if (v > mx) mx = v; last = v }
    END { if (NR) printf "%.1f / %.1f / %.1f", mn, mx, last; else print "-" }' "$WORK/$1.rss"
}
# probe_summary NAME: how the new clients' calls went.
probe_summary() {
  awk '{ n++; if ($2 == 0) { ok++; if ($1 > mx) mx = $1 } else bad++ }
    END { if (!n) { print "-"; exit } printf "%d/%d ok", ok, n; if (ok) printf " (slowest %.1f s)", mx
      if (bad) printf ", %d failed", bad; print "" }' "$WORK/$1.probe" 2>/dev/null || echo "-"
}
db_mib() {
  du -cb "$WORK/abuse/gateway.db"* 2>/dev/null | awk 'END { printf "%.1f", $1 / 1048576 }'
}
log_mib() { du -b "$WORK/abuse/gateway.log" | awk '{ printf "%.1f", $1 / 1048576 }'; }
# ab KEY NAME: a count from the phase's abuser line (0 when absent).
ab() { local v; v="$(jget "$1" "${PHASE_AB["$2"]:-}")"; echo "${v:-0}"; }

declare -A PHASE_DB PHASE_LOG
abuse_main() {
  echo "# machine: $(machine)"
  LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
  SPEED_START="$(cpu_speed)"
  SOURCE="$(source_state)"
  start_gateway abuse
  sleep 1
  RSS_IDLE="$(rss_kib "$GW_PID")"
  abuse_phase "1-honest" "$DURATION" 0
  PHASE_DB["1-honest"]="$(db_mib)" PHASE_LOG["1-honest"]="$(log_mib)"
  abuse_phase "2-abuse" "$DURATION" 1
  PHASE_DB["2-abuse"]="$(db_mib)" PHASE_LOG["2-abuse"]="$(log_mib)"
  abuse_phase "3-abuse-2x" "$((2 * DURATION))" 1
  PHASE_DB["3-abuse-2x"]="$(db_mib)" PHASE_LOG["3-abuse-2x"]="$(log_mib)"
  RSS_END="$(rss_kib "$GW_PID")"
  stop_gateway
  echo
  abuse_report | tee "$WORK/report.md"
  if [ "$APPEND" = 1 ]; then
    { echo; cat "$WORK/report.md"; } >>"$ROOT/bench/RESULTS.md"
    echo
    echo "appended to bench/RESULTS.md"
  fi
}

abuse_report() {
  local p j label
  echo "## Abuse soak: one agency attacks the limits while another works (bash bench/run.sh abuse), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"); $(g++ --version | head -1)."
  echo "Versions: $(versions)."
  echo "Source: $SOURCE."
  echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "CPU speed (\`openssl speed ed25519\`, verifications per second on one core) at the start: $SPEED_START; at the end: $(cpu_speed)."
  echo "Settings: Release build (-O3); gateway, load generator and abuser share the machine's cores,"
  echo "unpinned; one gateway on a fresh SQLite database for all three phases, default limits"
  echo "(docs/limits.md), the deploy/isa agreements. Honest load: $AGENCIES sending agencies"
  echo "(the first of bench/loadgen's routes), open loop at $RATE Submits/s, $SIZE B payload, $SUBSCRIBERS"
  echo "recipients subscribed and acknowledging; warm-up $WARMUP s before each measured window. The"
  echo "abuser (southsea-academy, not used by the honest load) starts with the window and runs for it:"
  echo "Subscribe streams in a loop, never read; Submits one byte over max_message_bytes, over the"
  echo "gRPC receive limit, and malformed, in turn; keys published in a loop; TCP connections that"
  echo "never start TLS${ABUSER_ARGS:+ (abuser flags: \`$ABUSER_ARGS\`)}. RSS sampled every $RSS_INTERVAL s during the window;"
  echo "\"new client\": every 10 s a new \`safeshare agencies\` process (its own TLS connection) as an"
  echo "honest agency. Latencies in ms, from each call's scheduled start."
  echo
  echo "| phase | measured s | Submits ok / errors | p50 | p99 | p99.9 | max | delivered / expected | delivery p99 | gateway RSS min / max / end MiB | new client | database / gateway log MiB at end |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  for p in 1-honest 2-abuse 3-abuse-2x; do
    j="${PHASE_LG["$p"]:-}"
    label="$p"
    echo "| $label | ${PHASE_SECS["$p"]} | $(jget ok "$j") / $(jget errors "$j") | $(jget p50_ms "$j") | $(jget p99_ms "$j") | $(jget p999_ms "$j") | $(jget max_ms "$j") | $(jget delivered "$j") / $(jget expected "$j") | $(jget delivery_p99_ms "$j") | $(rss_summary "$p") | $(probe_summary "$p") | ${PHASE_DB["$p"]} / ${PHASE_LOG["$p"]} |"
  done
  echo
  echo "Gateway RSS idle after start: $(awk -v k="$RSS_IDLE" 'BEGIN { printf "%.1f", k / 1024 }') MiB; after the last phase: $(awk -v k="$RSS_END" 'BEGIN { printf "%.1f", k / 1024 }') MiB."
  echo
  echo "The abuser's counts (attempts, then outcomes by gRPC status):"
  echo
  echo "| phase | Subscribe: attempts / RESOURCE_EXHAUSTED / held open at most | Submit over max_message_bytes: attempts / RESOURCE_EXHAUSTED | over the gRPC limit: attempts / RESOURCE_EXHAUSTED | malformed: attempts / INVALID_ARGUMENT | other Submit outcomes | keys: attempts / OK / RESOURCE_EXHAUSTED | idle TCP: opened / closed by the gateway (after ms) |"
  echo "|---|---:|---:|---:|---:|---|---:|---:|"
  for p in 2-abuse 3-abuse-2x; do
    local other
    other="$(grep -o '"submit_[a-z_]*\.[A-Z_]*":[0-9]*' <<<"${PHASE_AB["$p"]:-}" |
      grep -v 'over_limit\.RESOURCE_EXHAUSTED\|over_transport\.RESOURCE_EXHAUSTED\|malformed\.INVALID_ARGUMENT' |
      tr -d '"' | paste -sd, - | sed 's/,/, /g' || true)"
    echo "| $p | $(ab subscribe.attempts "$p") / $(ab subscribe.RESOURCE_EXHAUSTED "$p") / $(ab subscribe.held_max "$p") | $(ab submit_over_limit.attempts "$p") / $(ab submit_over_limit.RESOURCE_EXHAUSTED "$p") | $(ab submit_over_transport.attempts "$p") / $(ab submit_over_transport.RESOURCE_EXHAUSTED "$p") | $(ab submit_malformed.attempts "$p") / $(ab submit_malformed.INVALID_ARGUMENT "$p") | ${other:-none} | $(ab publish_key.attempts "$p") / $(ab publish_key.OK "$p") / $(ab publish_key.RESOURCE_EXHAUSTED "$p") | $(ab idle_tcp.opened "$p") / $(ab idle_tcp.closed_by_gateway "$p") ($(ab idle_tcp.closed_after_ms_min "$p")-$(ab idle_tcp.closed_after_ms_max "$p")) |"
  done
  echo
  echo "Findings: (to be written from the tables above)."
}

if [ "$MODE" = abuse ]; then
  abuse_main
  exit 0
fi

if [ "$MODE" = postgres ]; then
  postgres_main
  exit 0
fi

echo "# machine: $(machine)"
# Other work on the machine skews everything; the report says how busy it was.
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
SPEED_START="$(cpu_speed)"

if [ "$RSS_ONLY" = 1 ]; then
  [ "$RSS" -gt 0 ] || RSS=300
  start_gateway rss-max
  find_max "(c) gateway+subscribers 2 KiB" gateway "$GW_PORT" --subscribers "$SUBSCRIBERS" \
    --payload_bytes 2048
  stop_gateway
  rss_run "$(half "${MAX["(c) gateway+subscribers 2 KiB"]}")"
  exit 0
fi

start_echo plain
start_echo verify --verify
for size in $SIZES; do
  use_echo plain
  scenario "(a) echo $(kib "$size")" echo "$ECHO_PORT" --payload_bytes "$size"
  use_echo verify
  scenario "(a') echo+verify $(kib "$size")" echo "$ECHO_PORT" --payload_bytes "$size"
  start_gateway "b-$size"
  scenario "(b) gateway $(kib "$size")" gateway "$GW_PORT" --payload_bytes "$size"
  stop_gateway
  # Bare gRPC, and gRPC with the mandated signature check, at the gateway's
  # half-load rate: what the machine has left, and the CPU per call to beat.
  use_echo plain
  half_run "(a) echo $(kib "$size") at (b)'s half rate" echo "$ECHO_PORT" \
    "$(half "${MAX["(b) gateway $(kib "$size")"]}")" --payload_bytes "$size"
  use_echo verify
  half_run "(a') echo+verify $(kib "$size") at (b)'s half rate" echo "$ECHO_PORT" \
    "$(half "${MAX["(b) gateway $(kib "$size")"]}")" --payload_bytes "$size"
  start_gateway "c-$size"
  scenario "(c) gateway+subscribers $(kib "$size")" gateway "$GW_PORT" --payload_bytes "$size" \
    --subscribers "$SUBSCRIBERS"
  stop_gateway
done
for pid in "${ECHO_ALL[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
ECHO_PID="" ECHO_ALL=()

RATIOS=() CPU_ROWS=()
for size in $SIZES; do
  k="$(kib "$size")"
  e="${MAX["(a) echo $k"]}" v="${MAX["(a') echo+verify $k"]}"
  b="${MAX["(b) gateway $k"]}" c="${MAX["(c) gateway+subscribers $k"]}"
  RATIOS+=("| $k | $e | $v | $b | $(ratio "$b" "$e") | $(ratio "$b" "$v") | $c | $(ratio "$c" "$b") |")
  g="${HALF_CPU["(b) gateway $k half"]}" w="${HALF_CPU["(a') echo+verify $k at (b)'s half rate"]}"
  CPU_ROWS+=("| $k | $(jget throughput_per_s "${HALF_JSON["(b) gateway $k"]}") | $g | $w | $(awk -v a="$g" -v b="$w" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }') | ${HALF_CPU["(c) gateway+subscribers $k half"]} |")
done

if [ "$PERF" -gt 0 ]; then
  perf_run b "(b) gateway 2 KiB" --payload_bytes 2048
  perf_run c "(c) gateway+subscribers 2 KiB" --payload_bytes 2048 --subscribers "$SUBSCRIBERS"
fi
if [ "$RSS" -gt 0 ]; then
  rss_run "$(half "${MAX["(c) gateway+subscribers 2 KiB"]:-${MAX["(b) gateway 2 KiB"]}}")"
fi

report() {
  echo "## Gateway against the gRPC ceiling (bash bench/run.sh gateway), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"); $(g++ --version | head -1)."
  echo "Versions: $(versions)."
  echo "Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "CPU speed (\`openssl speed ed25519\`, verifications per second on one core) at the start: $SPEED_START; at the end: $(cpu_speed)."
  echo "Settings: Release build (-O3); load generator, echo server and gateway share the"
  echo "machine's cores, unpinned; $AGENCIES sending agencies, each on its own mutual-TLS 1.3 channel;"
  echo "maximum = the best closed loop of $IN_FLIGHT calls in flight (in that order, on one database);"
  echo "half = open loop at half that maximum, on the same database"
  echo "(latency from each call's scheduled start); before each run \`sync\` and 2 s idle; warm-up ${WARMUP} s, measured ${DURATION} s; gateway on"
  echo "a fresh SQLite database per scenario (WAL, durable group commit, signed checkpoints), the"
  echo "deploy/isa agreements, 2024 rule pack, mailbox quota 1 TiB (nothing is acknowledged in (b));"
  echo "(c) with $SUBSCRIBERS recipient agencies subscribed and acknowledging. Payload = serialized referral content before sealing; request = bytes of the"
  echo "SubmitRequest (the echo request carries the same bytes). Latencies in ms."
  echo
  echo "| scenario | request B | max /s | in flight | p50 / p99 at max | half: rate /s | p50 | p90 | p99 | p99.9 | max | delivery p50 / p99 | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "(a') is the echo server with --verify: it also parses the SubmitRequest and verifies the"
  echo "envelope's Ed25519 signature with the sender's key, the one piece of per-message work the"
  echo "design requires. Targets (2 KiB): (b) >= 70% of (a'); (c) >= 60% of (b)."
  echo
  echo "| payload | (a) echo max /s | (a') echo+verify max /s | (b) gateway max /s | (b)/(a) | (b)/(a') | (c) with subscribers max /s | (c)/(b) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RATIOS[@]}"
  echo
  echo "Where the cores went at half load (from /proc over the measured window; cores busy,"
  echo "out of $(nproc); server CPU per call = server cores / rate); both echo servers are also run"
  echo "at (b)'s half rate, the same load on bare gRPC and on gRPC with the signature check:"
  echo
  echo "| run | rate /s | p50 ms | p99 ms | machine | server | server CPU per call ms | load generator |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${HALF_ROWS[@]}"
  echo
  echo "CPU per Submit at (b)'s half load against the echo with verification at the same rate"
  echo "(the ratio does not depend on the load generator sharing the cores):"
  echo
  echo "| payload | rate /s | gateway CPU per Submit ms | (a') CPU per call ms | gateway / (a') | (c) gateway CPU per Submit ms (at its own half rate) |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${CPU_ROWS[@]}"
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
