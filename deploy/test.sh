#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a throwaway
# PostgreSQL cluster (for the PostgreSQL back-end and multi-replica tests),
# runs the whole CTest suite against both back-ends, then the mutation
# harness (skipped when ctest arguments narrow the run), and stops the cluster.
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

# The whole run (no ctest arguments) also mutates the security-critical lines
# and fails if a test misses one (tests/mutation/, about 6 minutes on 2 cores).
if [ $# -eq 0 ] && [ -z "${SAFESHARE_SKIP_MUTATION:-}" ]; then
  python3 "$ROOT/tests/mutation/run_mutations.py"
fi
