#!/usr/bin/env bash
# Mutation testing of the security-critical lines on its own (deploy/test.sh
# runs it after CTest): builds a scratch copy of the tree (build-mutation/),
# applies each mutation in tests/mutation/mutations.txt, and fails if any
# survives its tests. Starts a throwaway PostgreSQL unless
# SAFESHARE_TEST_POSTGRES names one. See docs/development.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$ROOT/deploy/install-deps.sh"
if [ -z "${SAFESHARE_TEST_POSTGRES:-}" ]; then
  PG_DIR="$(mktemp -d /tmp/safeshare-pg.XXXXXX)"
  trap 'bash "$ROOT/deploy/postgres/throwaway-cluster.sh" stop "$PG_DIR"' EXIT
  SAFESHARE_TEST_POSTGRES="$(bash "$ROOT/deploy/postgres/throwaway-cluster.sh" start "$PG_DIR")"
  export SAFESHARE_TEST_POSTGRES
fi
python3 "$ROOT/tests/mutation/run_mutations.py" "$@"
