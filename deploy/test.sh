#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a throwaway
# PostgreSQL cluster (for the PostgreSQL back-end and multi-replica tests),
# runs the whole CTest suite against both back-ends, and stops the cluster.
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

cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
