#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the whole CTest suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
bash "$ROOT/deploy/install-deps.sh"
bash "$ROOT/deploy/build.sh"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
