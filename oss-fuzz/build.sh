#!/bin/bash -eu
# oss-fuzz/build.sh — builds schedfuzz's fuzz targets the way OSS-Fuzz and
# ClusterFuzzLite expect (shared/ecosystem-notes.md §1.5, §1.6).
#
# Inputs (set by OSS-Fuzz's base-builder image, or by oss-fuzz/check_local.sh):
#   $CC $CXX $CFLAGS $CXXFLAGS   compilers and flags, sanitizer and -fsanitize=fuzzer-no-link included
#   $LIB_FUZZING_ENGINE          engine link argument (-fsanitize=fuzzer, or an AFL/honggfuzz/centipede .a)
#   $SRC $WORK $OUT              sources (this repo at $SRC/schedfuzz), scratch space, output
# Optional: $SCHEDFUZZ_SRC overrides the repo location.
#
# Writes to $OUT, per target <t> (one per fuzz/targets/<t>.cpp):
#   <t>                  the fuzz target (no extension)
#   <t>_seed_corpus.zip  flat zip of corpus/<t>/* without the readable *.txt sources
#                        (no zip when the directory is empty or absent)
#   <t>.options          from fuzz/targets/<t>.options
#   <t>.dict             fuzz/<t>.dict if present, else the shared fuzz/schedfuzz.dict
# Nothing else: any executable in $OUT that contains LLVMFuzzerTestOneInput is
# taken for a fuzz target, so no helper tools are copied.
#
# Upstream (google/oss-fuzz projects/schedfuzz/) this same file is the project's
# build.sh; it may equally be a one-liner: exec "$SRC/schedfuzz/oss-fuzz/build.sh".

REPO="${SCHEDFUZZ_SRC:-$SRC/schedfuzz}"
BUILD="$WORK/schedfuzz-build"

# CMake reads CFLAGS/CXXFLAGS only on the first configure of a build dir: always start fresh.
rm -rf "$BUILD"

# CMAKE_BUILD_TYPE=None: CMake adds no optimisation/debug flags of its own, so the
# objects are built with exactly $CFLAGS/$CXXFLAGS (-O1 -gline-tables-only ...).
# Tests are off: GoogleTest from Debian is built against libstdc++, not libc++.
cmake -S "$REPO" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DSCHEDFUZZ_TESTS=OFF -DSCHEDFUZZ_BENCH=OFF \
  -DSCHEDFUZZ_FUZZ_LINKMAIN=OFF \
  -DSCHEDFUZZ_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$BUILD" --target all_fuzzers

shopt -s nullglob
targets=()
for src in "$REPO"/fuzz/targets/*_fuzzer.cpp; do
  targets+=("$(basename "$src" .cpp)")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "oss-fuzz/build.sh: no fuzz targets found in $REPO/fuzz/targets" >&2
  exit 1
fi

for t in "${targets[@]}"; do
  cp "$BUILD/fuzz/targets/$t" "$OUT/$t"

  rm -f "$OUT/${t}_seed_corpus.zip"
  seeds=()
  for f in "$REPO/corpus/$t"/*; do
    [ -f "$f" ] || continue
    case "$f" in *.txt) continue ;; esac   # readable sources of binary seeds, not inputs
    seeds+=("$f")
  done
  if [ ${#seeds[@]} -gt 0 ]; then
    zip -q -j "$OUT/${t}_seed_corpus.zip" "${seeds[@]}"
    echo "oss-fuzz/build.sh: $t: ${#seeds[@]} seeds -> ${t}_seed_corpus.zip"
  else
    echo "oss-fuzz/build.sh: $t: corpus/$t is empty or absent, no seed corpus zip"
  fi

  if [ -f "$REPO/fuzz/targets/$t.options" ]; then
    cp "$REPO/fuzz/targets/$t.options" "$OUT/$t.options"
  fi
  if [ -f "$REPO/fuzz/$t.dict" ]; then
    cp "$REPO/fuzz/$t.dict" "$OUT/$t.dict"
  else
    cp "$REPO/fuzz/schedfuzz.dict" "$OUT/$t.dict"
  fi
done
