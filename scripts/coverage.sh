#!/bin/bash
# scripts/coverage.sh — line/region/branch coverage of gort (runtime/) by the test suite.
#
# Builds the "coverage" preset (clang -fprofile-instr-generate -fcoverage-mapping,
# build/coverage/), runs its tests with one raw profile per process, merges them with
# llvm-profdata-14 and reports with llvm-cov-14 over every instrumented executable
# (unit_tests, the fuzz targets' replay builds, the tools):
#   build/coverage/coverage.txt         per-file summary of runtime/ (also printed)
#   build/coverage/html/index.html      annotated sources of runtime/
# Pass other source dirs to report on instead, e.g. scripts/coverage.sh runtime fuzz
# The script exits with ctest's status (the report is written either way).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh
ensure_deps clang-14 llvm-14 libclang-rt-14-dev libgtest-dev cmake ninja-build python3

dirs=("$@")
[ ${#dirs[@]} -eq 0 ] && dirs=(runtime)
B=build/coverage
cmake --preset coverage
# gtest discovery runs unit_tests during the build: keep its profile out of the report.
LLVM_PROFILE_FILE="$PWD/$B/build-profiles/%p-%m.profraw" cmake --build --preset coverage
rm -rf "$B/profiles" "$B/html" "$B/coverage.profdata"
set +e
ctest --preset coverage    # LLVM_PROFILE_FILE=build/coverage/profiles/%p-%m.profraw (CMakePresets.json)
rc=$?
set -e

shopt -s nullglob
raw=("$B"/profiles/*.profraw)
if [ ${#raw[@]} -eq 0 ]; then echo "coverage.sh: no profiles written" >&2; exit 1; fi
llvm-profdata-14 merge -sparse "${raw[@]}" -o "$B/coverage.profdata"

objs=()
while IFS= read -r -d '' f; do
  llvm-cov-14 report "$f" -instr-profile="$B/coverage.profdata" >/dev/null 2>&1 && objs+=("$f")
done < <(find "$B" -type f -perm -u+x \( -path "*/tests/*" -o -path "*/fuzz/*" -o -path "*/examples/*" \) \
           ! -name "*.a" ! -name "*.so" -print0 | sort -z)
if [ ${#objs[@]} -eq 0 ]; then echo "coverage.sh: no instrumented executables" >&2; exit 1; fi
args=("${objs[0]}")
for o in "${objs[@]:1}"; do args+=(-object "$o"); done
srcs=()
for d in "${dirs[@]}"; do srcs+=("$PWD/$d"); done

llvm-cov-14 report "${args[@]}" -instr-profile="$B/coverage.profdata" -show-region-summary=false "${srcs[@]}" \
  | tee "$B/coverage.txt"
llvm-cov-14 show "${args[@]}" -instr-profile="$B/coverage.profdata" -format=html \
  -show-line-counts-or-regions -output-dir="$B/html" "${srcs[@]}"
echo
echo "coverage of ${dirs[*]}: $B/coverage.txt, $B/html/index.html (${#raw[@]} profiles, ${#objs[@]} executables; ctest status $rc)"
exit $rc
