#!/usr/bin/env bash
# Installs every Debian 12 package safeshare needs to build, run and test.
# Idempotent: prints nothing and touches nothing when all are present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev openssl libsqlite3-dev sqlite3 libpq-dev postgresql-15
  libgtest-dev libgmock-dev libbenchmark-dev
  tzdata python3 python3-yaml clang-format
  # Sanitizer builds, fuzzing and the TLS scan (docs/development.md).
  clang-14 libfuzzer-14-dev libclang-rt-14-dev llvm-14 testssl.sh
  # The agency connector's web server, and its pages' browser tests.
  libcpp-httplib-dev chromium chromium-driver python3-selenium
  # promtool, which checks the metrics exposition and the alerting rules;
  # systemd-analyze, which checks the packaged units; CPack's dependency
  # scan (dpkg-shlibdeps) and debootstrap for the package test.
  prometheus systemd dpkg-dev debootstrap
)

# npm for the pages' front-end packages: Debian's, unless the machine has one.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The pages' front-end packages (GOV.UK Design System, axe-core), pinned by
# agents/web/package-lock.json and served locally: nothing is fetched at run time.
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/../agents/web" && pwd)"
if [ ! -f "$WEB/node_modules/.package-lock.json" ] ||
  [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in agents/web" >&2
  (cd "$WEB" && npm ci --no-audit --no-fund --silent)
fi
