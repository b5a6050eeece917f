#!/usr/bin/env bash
# The long fuzzing run (docs/development.md, "Sanitizers and fuzzing"): every
# target in tests/fuzz for a share of HOURS, two at a time, with ASan and
# UBSan, each on its signed seeds plus what earlier long runs kept. Afterwards
# the inputs that reached new coverage are merged into tests/fuzz/corpus
# (libFuzzer -merge=1: only what adds coverage, so the corpus stays small) to
# be committed, crashes are listed with their inputs, and the figures
# (executions per second, coverage, corpus, crashes) are appended to
# bench/RESULTS.md with the machine.
#   bash bench/fuzz/run.sh [--hours H (default 1)] [--no-append] [target ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SAFESHARE_ASAN_BUILD_DIR:-$ROOT/build-asan}"
HOURS=1
APPEND=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) HOURS="$2"; shift 2 ;;
    --no-append) APPEND=0; shift ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(ls "$ROOT/tests/fuzz/corpus")
fi
# Two at a time, so each target gets 2 * HOURS / N of the wall clock.
SECONDS_EACH=$(python3 -c "print(int(2 * 3600 * float('$HOURS') / ${#TARGETS[@]}))")

# The libFuzzer build, its corpus replays passing first.
bash "$ROOT/tests/sanitizers/run.sh" asan -R '^fuzz_corpus\.' >"$BUILD/fuzz-long-build.log" 2>&1 ||
  { cat "$BUILD/fuzz-long-build.log"; exit 1; }

OUT="$BUILD/fuzz-long"
rm -rf "$OUT"
mkdir -p "$OUT/findings"
export ASAN_OPTIONS="detect_leaks=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
started="$(date -u '+%Y-%m-%d %H:%M UTC')"

run_one() {
  local t="$1" bin="$BUILD/tests/fuzz/$1_fuzz"
  mkdir -p "$OUT/work/$t"
  cp "$ROOT/tests/fuzz/corpus/$t/"* "$SEEDS/$t/"* "$OUT/work/$t/"
  # -fork keeps fuzzing past a crash, so one finding does not end the run.
  "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$OUT/findings/$t-" "$OUT/work/$t" >"$OUT/$t.log" 2>&1 || true
}
export -f run_one
SEEDS="$BUILD/tests/fuzz/fuzz-data/seeds"  # made by the corpus replays above
export BUILD OUT ROOT SECONDS_EACH SEEDS
echo "fuzzing ${#TARGETS[@]} targets for $SECONDS_EACH s each, two at a time ($HOURS h)"
printf '%s\n' "${TARGETS[@]}" | xargs -P 2 -I{} bash -c 'run_one {}'

# Keep what reached new coverage; report each target.
table="| target | runs | runs/s | coverage (edges) | features | corpus before → after | crashes |
|---|---|---|---|---|---|---|"
total_crashes=0
for t in "${TARGETS[@]}"; do
  before=$(ls "$ROOT/tests/fuzz/corpus/$t" | wc -l)
  "$BUILD/tests/fuzz/${t}_fuzz" -merge=1 "$ROOT/tests/fuzz/corpus/$t" "$OUT/work/$t" \
    >"$OUT/$t.merge.log" 2>&1
  # The seeds are the build's (signed with its own keys): never committed.
  for s in "$SEEDS/$t/"*; do
    rm -f "$ROOT/tests/fuzz/corpus/$t/$(sha1sum <"$s" | cut -c1-40)"
  done
  after=$(ls "$ROOT/tests/fuzz/corpus/$t" | wc -l)
  # -fork prints "#<runs>: cov: <edges> ft: <features> ... exec/s: <n>" lines.
  last=$(grep -E '^#[0-9]+: cov: ' "$OUT/$t.log" | tail -1 || true)
  runs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
  [ -n "$runs" ] || echo "$t: no progress line in $OUT/$t.log" >&2
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}' || true)
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}' || true)
  crashes=$(ls "$OUT/findings" | grep -c "^$t-" || true)
  total_crashes=$((total_crashes + crashes))
  rate=$(python3 -c "print(round(${runs:-0} / $SECONDS_EACH))")
  table+="
| $t | ${runs:-?} | $rate | ${cov:-?} | ${ft:-?} | $before → $after | $crashes |"
done
echo "$table"
[ "$total_crashes" -eq 0 ] || echo "crash inputs in $OUT/findings/ (reproduce: <target>_fuzz <file>)"

if [ "$APPEND" -eq 1 ]; then
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  {
    echo
    echo "## Long fuzzing run (bash bench/fuzz/run.sh --hours $HOURS), $started"
    echo
    echo "${#TARGETS[@]} targets, $SECONDS_EACH s each, two at a time, ASan + UBSan, libFuzzer"
    echo "(clang 14, -O1); $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB."
    echo "Runs are executions of the target; coverage is libFuzzer's edge count; the corpus"
    echo "after is tests/fuzz/corpus once the run's new-coverage inputs are merged in."
    echo
    echo "$table"
    echo
    echo "Crashes: $total_crashes."
  } >> "$ROOT/bench/RESULTS.md"
  echo "appended to bench/RESULTS.md"
fi
