#!/bin/bash
# scripts/test.sh [preset] — the project's test command (README).
#
# Installs the Debian packages it needs if any is missing (scripts/deps.sh; needs
# root for that, skipped when all are installed), then configures, builds and tests
# one CMake preset (CMakePresets.json; default: "default" = g++ RelWithDebInfo, the
# GoogleTest suite and the corpus replays). Other presets with tests: asan-ubsan,
# tsan, coverage; fuzz and fuzz-asan run a short libFuzzer smoke test per target.
# The build goes to build/<preset>/; ctest prints its usual summary and the script
# exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh

preset="${1:-default}"
ensure_deps

echo "== configure ($preset)"
cmake --preset "$preset"
echo "== build ($preset)"
cmake --build --preset "$preset"
echo "== test ($preset)"
ctest --preset "$preset"
