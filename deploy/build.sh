#!/usr/bin/env bash
# Configures (once) and builds safeshare with Ninja into build/. Fails when the
# build fails (ninja's progress lines are dropped, its errors are not).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SAFESHARE_BUILD_DIR:-$ROOT/build}"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
status=0
ninja -C "$BUILD" "$@" | grep -v '^\[' || status=${PIPESTATUS[0]}
exit "$status"
