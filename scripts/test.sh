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

usage() {
  cat <<'EOF'
usage: scripts/test.sh [PRESET]
       scripts/test.sh --help

Configures, builds and tests one CMake preset (CMakePresets.json) in build/PRESET/:
  default          g++ RelWithDebInfo: the GoogleTest suite, the corpus replays (the default)
  asan-ubsan       clang, AddressSanitizer + UBSan, with the planted defects
  tsan             clang, ThreadSanitizer, with the planted defects
  coverage         clang source-based coverage (report: scripts/coverage.sh)
  fuzz, fuzz-asan  libFuzzer builds: a short fuzz smoke run of every target

Installs missing Debian packages with apt-get when run as root (scripts/deps.sh);
as another user it lists them and stops.

exit status: 0 every test passed; non-zero if a package is missing, configuring or
building failed, or a test failed (ctest's summary names the failed tests);
2 an unknown PRESET.
EOF
}
case "${1:-}" in -h|--help|-help) usage; exit 0 ;; esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh

preset="${1:-default}"
if ! grep -q "\"name\": *\"$preset\"" CMakePresets.json; then
  echo "$0: PRESET: no preset '$preset' in CMakePresets.json (see --help)" >&2
  exit 2
fi
ensure_deps

echo "== configure ($preset)"
cmake --preset "$preset"
echo "== build ($preset)"
cmake --build --preset "$preset"
echo "== test ($preset)"
ctest --preset "$preset"
