#!/bin/bash
# scripts/coverage.sh — line/region/branch coverage of gort (runtime/) by the test suite.
#
# Builds the "coverage" preset (clang -fprofile-instr-generate -fcoverage-mapping,
# build/coverage/), runs its tests with one raw profile per process, merges them with
# llvm-profdata-14 and reports with llvm-cov-14 over every instrumented executable that
# ran (unit_tests, the fuzz targets' replay builds, the tools):
#   build/coverage/coverage.txt         per-file summary of runtime/ (also printed)
#   build/coverage/html/index.html      annotated sources of runtime/
# Pass other source dirs to report on instead, e.g. scripts/coverage.sh runtime fuzz
# Only executables that ran (wrote a profile) are reported on; llvm-cov's "functions
# have mismatched data" is explained below, and the script fails if a real one appears.
# The script exits with ctest's status (the report is written either way).
#
#   scripts/coverage.sh [--help] [SRCDIR...]     (default SRCDIR: runtime)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
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

# Which executables to report on. Every executable under tests/, fuzz/ and examples/
# is instrumented, but only those that ran wrote profiles: each .profraw carries
# the build ID of the executable that wrote it (raw profile format 8, LLVM 14), so
# an executable whose build ID is in no profile never ran and is left out. Kept in,
# it would add nothing but a `main` (every executable has one) that the merged
# profile knows only under the other executables' hashes: one "mismatched" function.
profile_ids() {  # profile_ids <profraw>...: the build IDs the raw profiles name, one per line
  python3 - "$@" <<'PY'
import struct, subprocess, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        magic, version, ids_size = struct.unpack("<QQQ", f.read(24))
        if magic != 0xff6c70726f667281 or (version & 0xff) != 8:
            # Another raw format: ask llvm-profdata (slower: one process per file).
            out = subprocess.run(["llvm-profdata-14", "show", "--binary-ids", path],
                                 capture_output=True, text=True).stdout.split("Binary IDs:")[-1]
            print("\n".join(out.split()))
            continue
        f.seek(11 * 8)  # Magic, Version, BinaryIdsSize, DataSize, PaddingBytesBeforeCounters, CountersSize,
        ids = f.read(ids_size)  # PaddingBytesAfterCounters, NamesSize, CountersDelta, NamesDelta, ValueKindLast
    i = 0
    while i + 8 <= len(ids):
        (n,) = struct.unpack_from("<Q", ids, i)
        print(ids[i + 8:i + 8 + n].hex())
        i += 8 + ((n + 7) & ~7)
PY
}
mapfile -t ran < <(profile_ids "${raw[@]}" | sort -u)
objs=()
skipped=()
declare -A exe_of=()
while IFS= read -r -d '' f; do
  id=$(readelf -n "$f" 2>/dev/null | awk '/Build ID:/ { print $3; exit }')
  [ -n "$id" ] || continue  # not an ELF executable with a build ID (a script, ...)
  llvm-cov-14 report "$f" -instr-profile="$B/coverage.profdata" >/dev/null 2>&1 || continue  # not instrumented
  exe_of[$id]="$f"
  if [[ " ${ran[*]} " == *" $id "* ]]; then objs+=("$f"); else skipped+=("${f#"$B"/}"); fi
done < <(find "$B" -type f -perm -u+x \( -path "*/tests/*" -o -path "*/fuzz/*" -o -path "*/examples/*" \) \
           ! -name "*.a" ! -name "*.so" -print0 | sort -z)
for id in "${ran[@]}"; do
  [ -n "${exe_of[$id]:-}" ] || { echo "coverage.sh: profiles from an executable not found under $B (build ID $id)" >&2; exit 1; }
done
if [ ${#objs[@]} -eq 0 ]; then echo "coverage.sh: no instrumented executables" >&2; exit 1; fi
args=("${objs[0]}")
for o in "${objs[@]:1}"; do args+=(-object "$o"); done
srcs=()
for d in "${dirs[@]}"; do srcs+=("$PWD/$d"); done

# What is left of llvm-cov's "N functions have mismatched data" with several
# executables is one placeholder per inline function that an executable includes
# but never emits: clang gives such a function a dummy coverage record with hash 0,
# and llvm-cov 14 looks each record up in the profile (which has the function under
# its real hash, from the executables that do emit it) before it drops duplicates
# across executables. The real record, from an executable in the list (every
# executable that wrote a profile is), is loaded all the same, so the report is
# exact; within a single executable llvm-cov drops such dummies itself. Any other
# mismatch (a function compiled differently into two executables) is real: the
# script prints it and fails.
mismatches=$(llvm-cov-14 report "${args[@]}" -instr-profile="$B/coverage.profdata" -dump "${srcs[@]}" 2>&1 >/dev/null \
               | grep '^hash-mismatch:' || true)
placeholders=$(printf '%s\n' "$mismatches" | grep -c "with hash = 0x0$" || true)
real=$(printf '%s\n' "$mismatches" | grep -v "with hash = 0x0$" | grep . || true)
if [ -n "$real" ]; then
  echo "coverage.sh: functions whose coverage data disagree between executables:" >&2
  printf '%s\n' "$real" | sort -u >&2
  exit 1
fi
# llvm-cov repeats the placeholder count as a warning on every run: drop exactly that line.
# (It comes in colour: an escape sequence, the text, and a reset on a line of its own.)
quiet() { "$@" 2> >(grep -v -P "^(\e\[[0-9;]*m)*(warning: $placeholders functions have mismatched data)?(\e\[[0-9;]*m)*\$" >&2); }

quiet llvm-cov-14 report "${args[@]}" -instr-profile="$B/coverage.profdata" -show-region-summary=false "${srcs[@]}" \
  | tee "$B/coverage.txt"
quiet llvm-cov-14 show "${args[@]}" -instr-profile="$B/coverage.profdata" -format=html \
  -show-line-counts-or-regions -output-dir="$B/html" "${srcs[@]}"
echo
echo "coverage of ${dirs[*]}: $B/coverage.txt, $B/html/index.html (${#raw[@]} profiles, ${#objs[@]} executables" \
     "that ran${skipped[*]:+; never ran, left out: ${skipped[*]}}; $placeholders dummy records of unused inline" \
     "functions ignored; ctest status $rc)"
exit $rc
