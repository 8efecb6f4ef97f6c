#!/bin/bash -eu
# Copyright 2026 The schedfuzz Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
################################################################################
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
# build.sh: oss-fuzz/render.sh copies it verbatim, and oss-fuzz/check_local.sh
# checks that the rendered copy is identical to this one. ClusterFuzzLite runs it
# through .clusterfuzzlite/build.sh. It serves every OSS-Fuzz configuration the
# project uses: SANITIZER=address, undefined and coverage (-fprofile-instr-generate
# -fcoverage-mapping in $CFLAGS instead of -fsanitize=fuzzer-no-link).

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
