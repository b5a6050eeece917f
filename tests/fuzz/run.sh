#!/usr/bin/env bash
# Runs every fuzz target for a fixed time on a copy of its corpus and seeds
# (README.md), two at a time, with AddressSanitizer and UBSan; fails on any
# crash, leak, timeout or broken property, and keeps the input that found it.
#   run.sh [seconds per target, default 20] [target ...]
# Needs the libFuzzer build: tests/sanitizers/run.sh asan makes it.
# New corpus entries stay in the scratch copy; bench/fuzz/run.sh is the long
# run that keeps them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SAFESHARE_ASAN_BUILD_DIR:-$ROOT/build-asan}"
SECONDS_EACH="${1:-20}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(ls "$ROOT/tests/fuzz/corpus")
fi
OUT="$BUILD/fuzz-run"
rm -rf "$OUT"
mkdir -p "$OUT/findings"
export ASAN_OPTIONS="detect_leaks=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
  local t="$1" bin="$BUILD/tests/fuzz/$1_fuzz"
  [ -x "$bin" ] || { echo "FAILED $t: $bin not built (tests/sanitizers/run.sh asan)"; return 1; }
  mkdir -p "$OUT/corpus/$t"
  cp "$ROOT/tests/fuzz/corpus/$t/"* "$SEEDS/$t/"* "$OUT/corpus/$t/"
  if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$OUT/findings/$t-" "$OUT/corpus/$t" >"$OUT/$t.log" 2>&1; then
    local runs cov
    runs=$(grep -m1 '^stat::number_of_executed_units' "$OUT/$t.log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$OUT/$t.log" | grep -o 'cov: [0-9]*' | tail -1 || true)
    printf 'ok      %-16s %10s runs in %s s, %s\n' "$t" "${runs:-?}" "$SECONDS_EACH" "${cov:-cov: ?}"
  else
    echo "FAILED  $t: see $OUT/$t.log; the input is kept in $OUT/findings/"
    grep -E 'ERROR|fuzz property|runtime error|SUMMARY' "$OUT/$t.log" | head -5 | sed 's/^/        /'
    return 1
  fi
}
export -f run_one
# The signed seeds, with the build's own keys (tests/fuzz/README.md).
SEEDS="$BUILD/tests/fuzz/fuzz-data/seeds"
"$BUILD/tests/fuzz/make_seeds" "$ROOT" >/dev/null
export BUILD OUT ROOT SECONDS_EACH SEEDS

echo "fuzzing ${#TARGETS[@]} targets for ${SECONDS_EACH} s each, two at a time"
printf '%s\n' "${TARGETS[@]}" | xargs -P 2 -I{} bash -c 'run_one {}'
