#!/bin/bash
# scripts/fuzz.sh [seconds] [target] [extra libFuzzer args...] — the README's main job.
#
# Builds <target> (default lockosthread_fuzzer) with the "fuzz" preset (clang +
# libFuzzer, -O2, build/fuzz/), then fuzzes it for <seconds> (default 60) with the
# target's options (fuzz/targets/<target>.options, e.g. max_len) and the dictionary
# (fuzz/<target>.dict, else the shared fuzz/schedfuzz.dict).
#
#   working corpus  out/corpus-<name>/ (<name> = target without "_fuzzer"); created on
#                   the first run as a copy of the seeds in corpus/<target>/ (the readable
#                   *.txt sources are left out) and grown by every later run
#   crashes         out/artifacts/crash-<sha1> (also leak-, timeout-, oom-)
#   runtime         SCHEDFUZZ_BUGS selects historical bugs (e.g. SCHEDFUZZ_BUGS=issue38931);
#                   unset = the fixed runtime, where any crash is a real finding
# Overrides: SCHEDFUZZ_CORPUS_DIR, SCHEDFUZZ_ARTIFACT_DIR (directories to use instead).
#
# Exit status: libFuzzer's (0 = no finding, 77 = a finding; see --help). At the end it prints how to replay
# every crash in the artifact directory.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/fuzz.sh [SECONDS] [TARGET] [libFuzzer flags...]
       scripts/fuzz.sh --help

Builds TARGET (default lockosthread_fuzzer; or sched_fuzzer, world_fuzzer) with libFuzzer (the
"fuzz" CMake preset, build/fuzz/) and fuzzes it for SECONDS (default 60) with the
target's fuzz/targets/TARGET.options and dictionary. Extra arguments go to libFuzzer
as they are (e.g. -jobs=2, -seed=1).

  working corpus  out/corpus-<name>/ (<name> = TARGET without "_fuzzer"), seeded on the
                  first run from corpus/TARGET/ (the *.txt sources left out), then grown
  crashes         out/artifacts/crash-<sha1>; at the end the script prints the command
                  that replays each new one (schedfuzz-replay, or the target itself)

environment:
  SCHEDFUZZ_BUGS=LIST          bug switches to re-introduce (e.g. issue38931); unset = fixed runtime
  SCHEDFUZZ_STRICT=1           liveness precursors are findings too
  SCHEDFUZZ_NO_INVARIANTS=1    skip the invariant checks
                               (booleans: 1/0, true/false, yes/no, on/off; empty = unset)
  SCHEDFUZZ_CORPUS_DIR=DIR     working corpus instead of out/corpus-<name>/
  SCHEDFUZZ_ARTIFACT_DIR=DIR   artifact directory instead of out/artifacts/

Installs missing Debian packages with apt-get when run as root (scripts/deps.sh).

exit status: libFuzzer's: 0 no finding in the time given; 77 a finding (every verdict and
invariant aborts, and libFuzzer exits with -error_exitcode, default 77, on that deadly
signal; also on a leak); 70 a libFuzzer timeout; 2 a bad argument to this script.
EOF
}
case "${1:-}" in -h|--help|-help) usage; exit 0 ;; esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/deps.sh

seconds="${1:-60}"
target="${2:-lockosthread_fuzzer}"
shift $(( $# >= 2 ? 2 : $# ))
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "$0: SECONDS: expected a whole number of seconds, found '$seconds'" >&2
  echo "usage: $0 [SECONDS] [TARGET] [libFuzzer flags...]   (see --help)" >&2; exit 2
fi
if [ ! -f "fuzz/targets/$target.cpp" ]; then
  echo "$0: no target '$target'; targets: $(cd fuzz/targets && ls *_fuzzer.cpp | sed 's/\.cpp$//' | tr '\n' ' ')" >&2
  exit 2
fi

ensure_deps clang-14 libclang-rt-14-dev cmake ninja-build python3
if [ ! -f build/fuzz/CMakeCache.txt ]; then cmake --preset fuzz; fi
cmake --build --preset fuzz --target "$target"
bin="build/fuzz/fuzz/targets/$target"

name="${target%_fuzzer}"
corpus="${SCHEDFUZZ_CORPUS_DIR:-out/corpus-$name}"
artifacts="${SCHEDFUZZ_ARTIFACT_DIR:-out/artifacts}"
mkdir -p "$artifacts"
if [ ! -d "$corpus" ]; then
  mkdir -p "$corpus"
  n=0
  if [ -d "corpus/$target" ]; then
    for f in "corpus/$target"/*; do
      [ -f "$f" ] || continue
      case "$f" in *.txt) continue ;; esac
      cp "$f" "$corpus/" && n=$((n + 1))
    done
  fi
  echo "== new working corpus $corpus ($n seeds from corpus/$target)"
fi

# [libfuzzer] section of the options file -> -key=value flags, dict resolved in the repo
# (scripts/fuzz_options.py, the one reader of .options files).
opts=()
if [ -f "fuzz/targets/$target.options" ]; then
  opts_text="$(python3 scripts/fuzz_options.py --dict=repo "fuzz/targets/$target.options")"  # fails loudly
  [ -n "$opts_text" ] && mapfile -t opts <<< "$opts_text"
fi
if ! printf '%s\n' "${opts[@]}" | grep -q '^-dict='; then
  dict="fuzz/$target.dict"
  [ -f "$dict" ] || dict="fuzz/schedfuzz.dict"
  opts+=("-dict=$dict")
fi

echo "== fuzzing $target for ${seconds}s (runtime: ${SCHEDFUZZ_BUGS:+bugs $SCHEDFUZZ_BUGS}${SCHEDFUZZ_BUGS:-fixed}; corpus $corpus; artifacts $artifacts/)"
start_marker="$(mktemp)"
set +e
"$bin" -max_total_time="$seconds" -print_final_stats=1 "${opts[@]}" \
  -artifact_prefix="$artifacts/" "$@" "$corpus"
rc=$?
set -e

# How to replay: everything libFuzzer wrote into the artifact directory during this run.
mapfile -t found < <(find "$artifacts" -maxdepth 1 -type f -newer "$start_marker" \
                       \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
rm -f "$start_marker"
replay=""
for r in build/default/fuzz/tools/schedfuzz-replay build/*/fuzz/tools/schedfuzz-replay; do [ -x "$r" ] && { replay="$r"; break; }; done
env_prefix="${SCHEDFUZZ_BUGS:+SCHEDFUZZ_BUGS=$SCHEDFUZZ_BUGS }"
echo
if [ ${#found[@]} -eq 0 ]; then
  echo "== $target: no new crash (libFuzzer exit status $rc); corpus now $(find "$corpus" -type f | wc -l) inputs"
else
  echo "== $target: ${#found[@]} new artifact(s). Replay each with the same SCHEDFUZZ_BUGS:"
  for a in "${found[@]}"; do
    echo "  ${env_prefix}${replay:-schedfuzz-replay} --target=$target $a"
    echo "  ${env_prefix}$bin $a        # or: the fuzz target itself runs a file once"
  done
  [ -z "$replay" ] && echo "  (schedfuzz-replay is built by the default preset: cmake --workflow --preset default)"
fi
exit $rc
