#!/usr/bin/env bash
# Runs the benchmarks the same way each time: Release-like build, 5 repetitions,
# reporting mean, median, stddev and p99 where a benchmark computes it.
# Usage: bash bench/run.sh [benchmark-binary-name ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/deploy/install-deps.sh"
bash "$ROOT/deploy/build.sh"
echo "# machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(g++ --version | head -1)"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(envelope_bench policy_bench)
for t in "${targets[@]}"; do
  bin="$(find "$BUILD/bench" -type f -name "$t" -perm -u+x | head -1)"
  [ -n "$bin" ] || { echo "no benchmark binary $t" >&2; continue; }
  "$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
done
