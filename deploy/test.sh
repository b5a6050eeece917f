#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a throwaway
# PostgreSQL cluster (for the PostgreSQL back-end and multi-replica tests),
# runs the whole CTest suite against both back-ends, and stops the cluster.
# The whole run (no ctest arguments) then also runs, in this order:
#   the mutation harness (tests/mutation/),
#   the suite again under AddressSanitizer + UBSan (tests/sanitizers/run.sh asan),
#   every fuzz target for 20 s on its corpus (tests/fuzz/run.sh),
#   the store, committer, notifier and agent tests under ThreadSanitizer
#   (tests/sanitizers/run.sh tsan),
#   and an independent TLS scan of a running gateway (tests/tls/scan.sh).
# Any failure or finding fails the run. SAFESHARE_SKIP_MUTATION=1 and
# SAFESHARE_SKIP_SANITIZERS=1 (the last four) shorten a local run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/deploy/install-deps.sh"
bash "$ROOT/deploy/build.sh"

PG_DIR="$(mktemp -d /tmp/safeshare-pg.XXXXXX)"
trap 'bash "$ROOT/deploy/postgres/throwaway-cluster.sh" stop "$PG_DIR"' EXIT
SAFESHARE_TEST_POSTGRES="$(bash "$ROOT/deploy/postgres/throwaway-cluster.sh" start "$PG_DIR")"
export SAFESHARE_TEST_POSTGRES
export SAFESHARE_REQUIRE_POSTGRES=1  # a skipped PostgreSQL test is a failure here

(cd "$BUILD" && ctest --output-on-failure -j"$(nproc)" "$@")
[ $# -eq 0 ] || exit 0

stage() {  # stage NAME COMMAND...: runs it, timed
  local t0=$SECONDS
  echo "==> $1"
  shift
  "$@"
  echo "==> done in $((SECONDS - t0)) s"
}
# Mutates the security-critical lines and fails if a test misses one.
if [ -z "${SAFESHARE_SKIP_MUTATION:-}" ]; then
  stage "mutation testing" python3 "$ROOT/tests/mutation/run_mutations.py"
fi
if [ -z "${SAFESHARE_SKIP_SANITIZERS:-}" ]; then
  stage "AddressSanitizer + UBSan: the whole suite" bash "$ROOT/tests/sanitizers/run.sh" asan
  stage "fuzzing every target for 20 s" bash "$ROOT/tests/fuzz/run.sh" 20
  stage "ThreadSanitizer: store, committer, notifier, agents" \
    bash "$ROOT/tests/sanitizers/run.sh" tsan
  stage "TLS scan of a running gateway" bash "$ROOT/tests/tls/scan.sh" "$BUILD"
fi
