#!/usr/bin/env bash
# Builds the Debian packages into dist/: safeshare-gateway and safeshare-cli
# (deploy/debian/packaging.cmake). A release build of the two programs only,
# in its own build directory, with the web assets where the package puts them.
#   bash deploy/debian/build-packages.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SAFESHARE_PACKAGE_BUILD_DIR:-$ROOT/build-package}"
bash "$ROOT/deploy/install-deps.sh"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DSAFESHARE_BENCH=OFF -DSAFESHARE_WEB_ASSETS_DIR=/usr/share/safeshare/web >/dev/null
ninja -C "$BUILD" -j"$(nproc)" safeshare-gateway safeshare
mkdir -p "$ROOT/dist"
(cd "$BUILD" && cpack -G DEB -B "$ROOT/dist" >/dev/null)
rm -rf "$ROOT/dist/_CPack_Packages"
ls -1 "$ROOT"/dist/*.deb
