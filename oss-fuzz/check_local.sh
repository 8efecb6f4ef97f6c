#!/bin/bash
# oss-fuzz/check_local.sh [address|undefined]...  (default: address undefined)
#
# Runs oss-fuzz/build.sh the way OSS-Fuzz's base-builder image would, without
# Docker, then repeats the checks of `infra/helper.py check_build`
# (base-runner/bad_build_check, shared/ecosystem-notes.md §1.7) on what it put
# in $OUT, plus a few of our own:
#
#   outputs        every fuzz/targets/<t>_fuzzer.cpp gave $OUT/<t> (no extension), .options, .dict;
#                  no other executable in $OUT contains LLVMFuzzerTestOneInput
#   options        <t>.options parses like base-runner's parse_options.py; its dict exists in $OUT
#   seed-zip       <t>_seed_corpus.zip is flat and holds no *.txt sources (absent when corpus/<t> is empty)
#   engine         `<t> -seed=1337 -runs=4`: instrumented, "INFO: Loaded N modules (M ... counters)" with M >= 100
#                  (OSS-Fuzz only warns below 100; we fail)
#   startup        run_fuzzer-style run (options, dict, FUZZER_ARGS, no seeds) prints "Done 4 runs"
#   sanitizers     objdump -dC call counts: address needs >= 1000 __asan and <= 200 __ubsan calls;
#                  undefined needs >= 169 __ubsan and 0 __asan calls; no __msan (<= 3) / __dfsan calls
#   seed-corpus    run_fuzzer-style `-runs=0` over the unzipped seeds with -rss_limit_mb=2560 -timeout=25: no crash
#   arch           `file` says x86-64
#
# The run-time environment is base-runner's (ASAN_OPTIONS with detect_leaks=1,
# detect_stack_use_after_return=1, handle_abort=1, allocator_may_return_null=1,
# dedup_token_length=3 ...; UBSAN_OPTIONS with silence_unsigned_overflow=1), and the
# runtime is the fixed one (SCHEDFUZZ_BUGS unset), where no finding is allowed.
#
# Differences from real OSS-Fuzz that remain: Debian's clang 14 and libc++ 14
# instead of OSS-Fuzz's pinned trunk clang and its static libc++ (so the targets
# link libc++.so.1 dynamically here), and Debian 12 instead of Ubuntu.
#
# Installs what it needs with apt-get when run as root. Prints PASS/FAIL per check,
# exits non-zero if any check failed. Work files go to a temp dir (kept on failure,
# or always with KEEP=1; TMPDIR is honoured).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SANITIZERS=("$@")
[ ${#SANITIZERS[@]} -eq 0 ] && SANITIZERS=(address undefined)
for s in "${SANITIZERS[@]}"; do
  case "$s" in
    address|undefined) ;;
    *) echo "usage: $0 [address|undefined]...  ('$s' is not supported: OSS-Fuzz runs libFuzzer with address, undefined, memory; memory needs an instrumented libc++)" >&2; exit 2 ;;
  esac
done

# ---- dependencies -------------------------------------------------------------
PKGS=(clang-14 llvm-14 libclang-rt-14-dev libc++-14-dev libc++abi-14-dev cmake ninja-build zip unzip binutils file python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "check_local.sh: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 2
  fi
  echo "check_local.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "check_local.sh: apt-get install failed" >&2; exit 2; }
fi

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/schedfuzz-ossfuzz.XXXXXX")"
LOGS="$ROOT/logs"
mkdir -p "$LOGS" "$ROOT/bin"

# base-builder calls the compilers "clang"/"clang++"; make those names mean clang 14
# whatever /usr/bin/clang is (or is not) on this machine. Same for the symbolizer.
ln -s /usr/bin/clang-14 "$ROOT/bin/clang"
ln -s /usr/bin/clang++-14 "$ROOT/bin/clang++"
ln -s /usr/lib/llvm-14/bin/llvm-symbolizer "$ROOT/bin/llvm-symbolizer"
export PATH="$ROOT/bin:$PATH"

# $SRC/schedfuzz: a copy of this working tree (as the Dockerfile's clone/COPY would be),
# without build dirs, fuzzing output or git metadata.
export SRC="$ROOT/src"
mkdir -p "$SRC/schedfuzz"
tar -C "$REPO" --exclude=./.git --exclude='./build*' --exclude=./out -cf - . | tar -C "$SRC/schedfuzz" -xf -

expected=()
for f in "$REPO"/fuzz/targets/*_fuzzer.cpp; do
  [ -f "$f" ] && expected+=("$(basename "$f" .cpp)")
done

FAILED=0
declare -a SUMMARY=()
result() {  # result <PASS|FAIL|SKIP> <sanitizer> <check> [detail]
  local line
  line=$(printf '%-4s  %-9s  %-38s %s' "$1" "$2" "$3" "${4:-}")
  echo "$line"
  SUMMARY+=("$line")
  [ "$1" = FAIL ] && FAILED=1
  return 0
}
show() {  # show <log>: the interesting end of a log
  echo "    --- last lines of $1 ---"
  tail -n 40 "$1" | sed 's/^/    | /'
}

# ---- base-builder environment (infra/base-images/base-clang, base-builder) ------
BASE_CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
SANITIZER_FLAGS_address="-fsanitize=address -fsanitize-address-use-after-scope"
UBSAN_CHECKS="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr"
UBSAN_NORECOVER="array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
SANITIZER_FLAGS_undefined="-fsanitize=$UBSAN_CHECKS -fno-sanitize-recover=$UBSAN_NORECOVER"
COVERAGE_FLAGS="-fsanitize=fuzzer-no-link"

# Debian's libclang_rt.fuzzer-x86_64.a is compiled against libstdc++ (OSS-Fuzz's is
# built against a private copy of libc++), so with -stdlib=libc++ its std::string etc.
# stay undefined. Add libstdc++ to the engine's link arguments when that is the case
# (as -Wl,-lstdc++: with -stdlib=libc++ the clang driver rewrites a plain -lstdc++ to -lc++).
ENGINE_EXTRA=""
if nm -u "$(clang-14 --print-runtime-dir)/libclang_rt.fuzzer-x86_64.a" 2>/dev/null | grep -c "_ZNSt7__cxx11" >/dev/null; then
  ENGINE_EXTRA=" -Wl,-lstdc++"
fi

# ---- base-runner environment ------------------------------------------------------
RUN_ASAN_OPTIONS="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
RUN_UBSAN_OPTIONS="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3"
RUN_FUZZER_ARGS="-rss_limit_mb=2560 -timeout=25"

# parse_options <file> <section>: "-k=v ..." like base-runner/parse_options.py
parse_options() {
  python3 - "$1" "$2" <<'PY'
import configparser, sys
p = configparser.ConfigParser()
p.read(sys.argv[1])
if p.has_section(sys.argv[2]):
    print(" ".join("-%s=%s" % (k, v) for k, v in p.items(sys.argv[2])))
PY
}

# run_fuzzer <out> <target> <skip_seeds 0|1> <args...>: base-runner/run_fuzzer for libFuzzer.
run_fuzzer() {
  local out="$1" t="$2" skip="$3"; shift 3
  local corpus="$ROOT/corpus-$SANITIZER-$t"
  rm -rf "$corpus" && mkdir -p "$corpus"
  local cmd=("$out/$t" $RUN_FUZZER_ARGS "$@")
  if [ "$skip" = 0 ]; then
    [ -f "$out/${t}_seed_corpus.zip" ] && unzip -o -q -d "$corpus" "$out/${t}_seed_corpus.zip"
    cmd+=("$corpus")
  fi
  local opts=""
  [ -f "$out/$t.options" ] && opts=$(parse_options "$out/$t.options" libfuzzer)
  cmd+=($opts)
  if [[ ! " ${cmd[*]}" =~ " -dict=" ]] && [ -f "$out/$t.dict" ]; then cmd+=("-dict=$t.dict"); fi
  echo "${cmd[*]}"
  (cd "$out" && env -u OUT "${cmd[@]}" </dev/null)
}

for SANITIZER in "${SANITIZERS[@]}"; do
  export SANITIZER FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++
  export WORK="$ROOT/$SANITIZER/work" OUT="$ROOT/$SANITIZER/out"
  mkdir -p "$WORK" "$OUT"
  flags_var="SANITIZER_FLAGS_$SANITIZER"
  export CC=clang CXX=clang++ CCC=clang++
  export CFLAGS="$BASE_CFLAGS ${!flags_var} $COVERAGE_FLAGS"
  export CXXFLAGS="$CFLAGS -stdlib=libc++"
  export LIB_FUZZING_ENGINE="-fsanitize=fuzzer$ENGINE_EXTRA"
  echo "=== $SANITIZER: oss-fuzz/build.sh  (OUT=$OUT)"
  echo "    CXXFLAGS=$CXXFLAGS"
  echo "    LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"

  blog="$LOGS/$SANITIZER-build.log"
  start=$SECONDS
  if (cd "$SRC/schedfuzz" && bash -eu "$SRC/schedfuzz/oss-fuzz/build.sh") >"$blog" 2>&1; then
    result PASS "$SANITIZER" "build.sh" "($((SECONDS - start)) s)"
  else
    result FAIL "$SANITIZER" "build.sh" "(log: $blog)"
    show "$blog"
    continue
  fi
  warnings=$(grep -c "warning:" "$blog" || true)
  [ "$warnings" -gt 0 ] && echo "    note: $warnings compiler warnings in $blog"

  # Runtime environment of the runner image; the fixed runtime.
  export ASAN_OPTIONS="$RUN_ASAN_OPTIONS" UBSAN_OPTIONS="$RUN_UBSAN_OPTIONS" FUZZER_ARGS="$RUN_FUZZER_ARGS"
  unset SCHEDFUZZ_BUGS SCHEDFUZZ_STRICT SCHEDFUZZ_NO_INVARIANTS

  # outputs: the expected targets, and no other fuzz-target-looking executables.
  found=()
  while IFS= read -r -d '' f; do
    grep -q LLVMFuzzerTestOneInput "$f" && found+=("$(basename "$f")")
  done < <(find "$OUT" -maxdepth 1 -type f -perm -u+x -print0)
  extra=()
  for f in "${found[@]}"; do
    [[ " ${expected[*]} " == *" $f "* ]] || extra+=("$f")
  done
  miss=()
  for t in "${expected[@]}"; do
    [ -x "$OUT/$t" ] && [ -f "$OUT/$t.options" ] && [ -f "$OUT/$t.dict" ] || miss+=("$t")
    [[ "$t" =~ ^[A-Za-z0-9_-]+$ ]] || miss+=("$t(bad name)")
  done
  if [ ${#expected[@]} -gt 0 ] && [ ${#extra[@]} -eq 0 ] && [ ${#miss[@]} -eq 0 ]; then
    result PASS "$SANITIZER" "outputs" "(${expected[*]})"
  else
    result FAIL "$SANITIZER" "outputs" "(missing: ${miss[*]:-none}; extra LLVMFuzzerTestOneInput binaries: ${extra[*]:-none})"
  fi

  for t in "${expected[@]}"; do
    [ -x "$OUT/$t" ] || continue
    log="$LOGS/$SANITIZER-$t"

    # options
    if [ -f "$OUT/$t.options" ]; then
      if opts=$(parse_options "$OUT/$t.options" libfuzzer 2>"$log.options"); then
        d=$(sed -n 's/^\s*dict\s*=\s*\(.*\)/\1/p' "$OUT/$t.options" | tail -1)
        if [ -z "$d" ] || [ -f "$OUT/$d" ]; then
          result PASS "$SANITIZER" "$t options" "($opts)"
        else
          result FAIL "$SANITIZER" "$t options" "(dict '$d' is not in \$OUT)"
        fi
      else
        result FAIL "$SANITIZER" "$t options" "(does not parse: $(cat "$log.options"))"
      fi
    fi

    # seed-zip
    z="$OUT/${t}_seed_corpus.zip"
    if [ -f "$z" ]; then
      names=$(unzip -Z1 "$z")
      n=$(printf '%s\n' "$names" | grep -c . || true)
      if printf '%s\n' "$names" | grep -q -e '/' -e '\.txt$'; then
        result FAIL "$SANITIZER" "$t seed-zip" "(not flat or holds *.txt: $(printf '%s\n' "$names" | grep -e / -e '\.txt$' | head -3 | tr '\n' ' '))"
      else
        result PASS "$SANITIZER" "$t seed-zip" "($n seeds)"
      fi
    else
      result SKIP "$SANITIZER" "$t seed-zip" "(corpus/$t is empty or absent: no zip)"
    fi

    # engine (check_engine)
    tmpcwd="$ROOT/cwd-$SANITIZER-$t" && mkdir -p "$tmpcwd"
    (cd "$tmpcwd" && "$OUT/$t" -seed=1337 -runs=4) >"$log.engine" 2>&1
    edges=$(grep -Po "INFO: Loaded [[:digit:]]+ module.*\(.*(counters|guards)\):[[:space:]]+\K[[:digit:]]+" "$log.engine" | head -1)
    if grep -q "ERROR: no interesting inputs were found. Is the code instrumented" "$log.engine"; then
      result FAIL "$SANITIZER" "$t engine" "(not instrumented)"; show "$log.engine"
    elif [ -z "$edges" ]; then
      result FAIL "$SANITIZER" "$t engine" "(no 'INFO: Loaded N modules' line: did it start?)"; show "$log.engine"
    elif [ "$edges" -lt 100 ]; then
      result FAIL "$SANITIZER" "$t engine" "(only $edges edges < 100: partial instrumentation)"
    else
      result PASS "$SANITIZER" "$t engine" "($edges edges)"
    fi

    # startup (check_startup_crash)
    run_fuzzer "$OUT" "$t" 1 -seed=1337 -runs=4 >"$log.startup" 2>&1
    if grep -q "Done 4 runs" "$log.startup"; then
      result PASS "$SANITIZER" "$t startup" "(Done 4 runs)"
    else
      result FAIL "$SANITIZER" "$t startup" "(no 'Done 4 runs')"; show "$log.startup"
    fi

    # sanitizers (check_mixed_sanitizers); binutils >= 2.37 prints 'call', older 'callq'
    objdump -dC "$OUT/$t" >"$log.objdump" 2>/dev/null
    count() { grep -Ec "call(q)?\s+[0-9a-f]+\s+<$1" "$log.objdump" || true; }
    asan=$(count __asan); ubsan=$(count __ubsan); msan=$(count __msan); dfsan=$(count __dfsan)
    rm -f "$log.objdump"
    calls="(__asan $asan, __ubsan $ubsan, __msan $msan, __dfsan $dfsan calls)"
    ok=1
    if [ "$SANITIZER" = address ]; then
      [ "$asan" -ge 1000 ] && [ "$ubsan" -le 200 ] || ok=0
    else
      [ "$ubsan" -ge 169 ] && [ "$asan" -eq 0 ] || ok=0
    fi
    [ "$msan" -le 3 ] && [ "$dfsan" -eq 0 ] || ok=0
    if [ $ok = 1 ]; then result PASS "$SANITIZER" "$t sanitizers" "$calls"
    else result FAIL "$SANITIZER" "$t sanitizers" "$calls"; fi

    # seed-corpus (check_seed_corpus)
    if [ -f "$z" ]; then
      if run_fuzzer "$OUT" "$t" 0 -runs=0 >"$log.seeds" 2>&1; then
        result PASS "$SANITIZER" "$t seed-corpus" "($(grep -Eo 'INITED.*' "$log.seeds" | head -1))"
      else
        result FAIL "$SANITIZER" "$t seed-corpus" "(a seed crashes; log: $log.seeds)"; show "$log.seeds"
      fi
    else
      result SKIP "$SANITIZER" "$t seed-corpus" "(no seed corpus)"
    fi

    # arch (check_architecture)
    if file "$OUT/$t" | grep -q "x86-64"; then
      result PASS "$SANITIZER" "$t arch" "(x86-64)"
    else
      result FAIL "$SANITIZER" "$t arch" "($(file -b "$OUT/$t"))"
    fi
  done
done

echo
echo "=== summary (work files: $ROOT)"
printf '%s\n' "${SUMMARY[@]}"
if [ $FAILED -ne 0 ]; then
  echo "check_local.sh: FAIL (logs kept in $LOGS)"
  exit 1
fi
echo "check_local.sh: PASS"
if [ "${KEEP:-0}" = 0 ]; then rm -rf "$ROOT"; fi
exit 0
