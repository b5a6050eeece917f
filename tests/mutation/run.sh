#!/usr/bin/env bash
# Mutation testing of the security-critical lines: builds a scratch copy of
# the tree (build-mutation/), applies each mutation in tests/mutation/
# mutations.txt, and fails if any survives its tests. About 20 minutes on 2
# cores from cold, less when build-mutation/ is kept. See docs/development.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$ROOT/deploy/install-deps.sh"
exec python3 "$ROOT/tests/mutation/run_mutations.py" "$@"
