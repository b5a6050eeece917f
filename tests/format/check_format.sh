#!/usr/bin/env bash
# Fails when a C++ source differs from clang-format --style=file (.clang-format
# at the repository root). Fix with: clang-format -i --style=file FILE...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
mapfile -t files < <(find common envelope policy transparency gateway agents tests bench \
  -name '*.cc' -o -name '*.h' | sort)
clang-format --style=file --dry-run -Werror "${files[@]}"
echo "format: ${#files[@]} files as clang-format writes them"
