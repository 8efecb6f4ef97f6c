#!/bin/bash
# oss-fuzz/check_local.sh — OSS-Fuzz's build, check_build and coverage job for schedfuzz, without Docker.
#
#   oss-fuzz/check_local.sh [render|address|undefined|coverage]...   (default: all four, in that order)
#   KEEP=1 oss-fuzz/check_local.sh ...     keep the work dir ($OUT, logs, reports) even on success
#
# render     oss-fuzz/render.sh into a temp dir with test values; check the result
#            with oss-fuzz/check_submission.py (google/oss-fuzz presubmit's project.yaml,
#            licence-header and Dockerfile rules, the Dockerfile clones the given URL,
#            build.sh identical to ours); render.sh must refuse missing/bad arguments;
#            check_submission.py must reject a tampered copy (so the check can fail);
#            a filled-in oss-fuzz/project.env must render alone (SKIP while empty);
#            the ClusterFuzzLite workflows and .clusterfuzzlite/project.yaml parse and
#            use the documented actions and modes.
# address    build.sh with base-builder's environment for SANITIZER=address, then
# undefined  repeat base-runner/bad_build_check on $OUT, plus a few of our own:
#   outputs        every fuzz/targets/<t>.cpp gave $OUT/<t> (no extension), .options, .dict;
#                  no other executable in $OUT contains LLVMFuzzerTestOneInput
#   options        <t>.options parses like base-runner's parse_options.py; its dict exists in $OUT
#   seed-zip       <t>_seed_corpus.zip is flat and holds no *.txt sources
#   engine         check_engine: `<t> -seed=1337 -runs=4` instrumented, >= 100 edges
#                  (THRESHOLD_FOR_NUMBER_OF_EDGES; OSS-Fuzz only warns below it, we fail)
#   startup        check_startup_crash: run_fuzzer-style run, SKIP_SEED_CORPUS, prints "Done 4 runs"
#   sanitizers     check_mixed_sanitizers: objdump -dC call counts; address: __asan >= 1000,
#                  __ubsan <= 200, __msan <= 3, __dfsan <= 0; undefined: __ubsan >= 168,
#                  __asan <= 0, __msan <= 3, __dfsan <= 0
#   seed-corpus    check_seed_corpus: `-runs=0` over the seeds, FUZZER_ARGS -rss_limit_mb=2560 -timeout=25
#                  (disabled in bad_build_check's main today, "TODO: re-enable"; we keep it)
#   arch           check_architecture: `file` says x86-64
#            test_all.py fails a build when more than ALLOWED_BROKEN_TARGETS_PERCENTAGE
#            (10%) of targets are broken; with our two targets that is any one, so any
#            FAIL fails here.
# coverage   build.sh for SANITIZER=coverage (-fprofile-instr-generate -fcoverage-mapping),
#            then what base-runner/coverage does per target: `<t> -merge=1 -timeout=100
#            DUMMY SEEDS` with LLVM_PROFILE_FILE, llvm-profdata-14 merge -sparse, and
#            llvm-cov-14 report over all targets (-object); prints line coverage of
#            runtime/ and fuzz/ over the seed corpus. FAILs if a target errors, writes
#            no profile, or runtime/ line coverage is below COVERAGE_FLOOR (%).
#
# The environment is base-builder's (google/oss-fuzz infra/base-images/base-clang/Dockerfile:
# CFLAGS, CXXFLAGS_EXTRA; base-builder/Dockerfile: SANITIZER_FLAGS_*, COVERAGE_FLAGS,
# COVERAGE_FLAGS_coverage; base-builder/compile: -fno-sanitize=function in CFLAGS for
# undefined) and base-runner's at run time (ASAN_OPTIONS, UBSAN_OPTIONS, FUZZER_ARGS), as of
# google/oss-fuzz commit 955c6866c152 (2026-08-20). The runtime is the fixed one
# (SCHEDFUZZ_BUGS unset), where no finding is allowed.
#
# Differences from real OSS-Fuzz that remain: Debian's clang 14 and libc++ 14 instead of
# OSS-Fuzz's pinned trunk clang and its static libc++ (so the targets link libc++.so.1
# dynamically here, and Debian's libFuzzer, built against libstdc++, needs -Wl,-lstdc++),
# Debian 12 instead of Ubuntu, no Docker, no profraw_update.py (same LLVM for build and report).
#
# Installs what it needs with apt-get when run as root. Prints PASS/FAIL/SKIP per check and
# a summary; exits 1 if any check failed, 2 on a usage or set-up error. Work files go to a
# temp dir (kept on failure or with KEEP=1; TMPDIR is honoured).
set -euo pipefail
# Copyright 2026 The schedfuzz Authors. Licensed under the Apache License, Version 2.0,
# http://www.apache.org/licenses/LICENSE-2.0 (LICENSE). SPDX-License-Identifier: Apache-2.0

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Line coverage of runtime/ by the seed corpus in the coverage build. Measured 2026-12-05: 75.4%
# (1735 of 2301 lines, clang 14); the floor sits well below it, to catch a coverage build that
# runs but no longer reaches gort (seeds lost, targets not running them, broken mapping).
COVERAGE_FLOOR="${COVERAGE_FLOOR:-60}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
STEPS=()
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exit 0 ;;
    render|address|undefined|coverage) STEPS+=("$a") ;;
    memory|thread) echo "check_local.sh: '$a' is not checked here (see oss-fuzz/README.md: OSS-Fuzz runs no TSan; MemorySanitizer)" >&2; exit 2 ;;
    *) echo "usage: $0 [render|address|undefined|coverage]...  (--help for more)" >&2; exit 2 ;;
  esac
done
[ ${#STEPS[@]} -eq 0 ] && STEPS=(render address undefined coverage)

# ---- dependencies -------------------------------------------------------------
PKGS=(clang-14 llvm-14 libclang-rt-14-dev libc++-14-dev libc++abi-14-dev cmake ninja-build zip unzip
      binutils file python3 python3-yaml)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "check_local.sh: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 2
  fi
  echo "check_local.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || {
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

expected=()
for f in "$REPO"/fuzz/targets/*_fuzzer.cpp; do
  [ -f "$f" ] && expected+=("$(basename "$f" .cpp)")
done

FAILED=0
declare -a SUMMARY=()
result() {  # result <PASS|FAIL|SKIP> <config> <check> [detail]
  local line
  line=$(printf '%-4s  %-9s  %-38s %s' "$1" "$2" "$3" "${4:-}")
  echo "$line"
  SUMMARY+=("$line")
  if [ "$1" = FAIL ]; then FAILED=1; fi
  return 0
}
show() {  # show <log>: the interesting end of a log
  echo "    --- last lines of $1 ---"
  tail -n 40 "$1" | sed 's/^/    | /'
}

# ---- render: the OSS-Fuzz submission and the ClusterFuzzLite workflows -------------
check_render() {
  local r="$REPO/oss-fuzz/render.sh" chk="$REPO/oss-fuzz/check_submission.py"
  local url="https://github.com/schedfuzz-check/schedfuzz" contact="maintainer@schedfuzz.test" cc="second@schedfuzz.test"
  local out="$ROOT/submission" log="$LOGS/render"

  # render.sh must refuse missing and malformed values, and write nothing then.
  local bad=0 args
  for args in "" "--repo $url" "--contact $contact" "--repo git@github.com:x/schedfuzz.git --contact $contact" \
              "--repo $url --contact not-an-email" "--repo https://github.com/TODO-placeholder-org/schedfuzz --contact $contact" \
              "--repo $url --contact $contact --bogus" "--repo $url --contact"; do
    local rc=0
    # shellcheck disable=SC2086
    SCHEDFUZZ_PROJECT_ENV=/dev/null "$r" $args --out "$ROOT/rejected" >>"$log.rejects" 2>&1 || rc=$?
    if [ "$rc" -ne 2 ] || [ -e "$ROOT/rejected" ]; then
      bad=1; echo "    render.sh $args: exit $rc (want 2), output written: $([ -e "$ROOT/rejected" ] && echo yes || echo no)"
      rm -rf "$ROOT/rejected"
    fi
  done
  if [ $bad = 0 ]; then result PASS render "render.sh rejects bad arguments" "(8 cases, exit 2, nothing written)"
  else result FAIL render "render.sh rejects bad arguments" "(log: $log.rejects)"; fi

  if SCHEDFUZZ_PROJECT_ENV=/dev/null "$r" --repo "$url" --contact "$contact" --cc "$cc" --out "$out" >"$log.render" 2>&1; then
    if python3 "$chk" "$out/projects/schedfuzz" --repo "$url" --contact "$contact" --cc "$cc" >"$log.check" 2>&1; then
      result PASS render "projects/schedfuzz" "(presubmit rules; clones $url; build.sh identical)"
    else
      result FAIL render "projects/schedfuzz" "(check_submission.py found problems)"; show "$log.check"
    fi
  else
    result FAIL render "projects/schedfuzz" "(render.sh failed)"; show "$log.render"
    return 0
  fi

  # oss-fuzz/project.env itself: once the maintainers fill it in, render.sh alone must
  # produce a valid submission from it.
  local env_repo env_contact env_ccs=()
  env_repo=$(bash -c 'source "$1" && printf %s "${SCHEDFUZZ_REPO:-}"' _ "$REPO/oss-fuzz/project.env")
  env_contact=$(bash -c 'source "$1" && printf %s "${SCHEDFUZZ_CONTACT:-}"' _ "$REPO/oss-fuzz/project.env")
  read -r -a env_ccs <<<"$(bash -c 'source "$1" && printf %s "${SCHEDFUZZ_AUTO_CCS:-}"' _ "$REPO/oss-fuzz/project.env")"
  if [ -z "$env_repo" ] || [ -z "$env_contact" ]; then
    result SKIP render "project.env" "(repository/contact not decided yet: render.sh needs --repo and --contact)"
  else
    local cc_args=() e
    for e in "${env_ccs[@]}"; do cc_args+=(--cc "$e"); done
    if "$r" --out "$ROOT/from-env" >"$log.env" 2>&1 && python3 "$chk" "$ROOT/from-env/projects/schedfuzz" \
         --repo "$env_repo" --contact "$env_contact" "${cc_args[@]}" >>"$log.env" 2>&1; then
      result PASS render "project.env" "(renders $env_repo)"
    else
      result FAIL render "project.env" "(log: $log.env)"; show "$log.env"
    fi
  fi

  # The checker must see a broken submission: another URL in the Dockerfile, an unknown
  # project.yaml section, a build.sh that drifted from ours, a thread sanitizer.
  local t="$ROOT/tampered/projects/schedfuzz" n
  mkdir -p "$t" && cp "$out/projects/schedfuzz/"* "$t/"
  sed -i "s|$url|https://github.com/someone-else/schedfuzz|" "$t/Dockerfile"
  printf 'homepage_typo: "x"\n' >>"$t/project.yaml"
  sed -i 's/^  - undefined$/  - thread/' "$t/project.yaml"
  echo "# drift" >>"$t/build.sh"
  n=0
  python3 "$chk" "$t" --repo "$url" --contact "$contact" --cc "$cc" >"$log.tampered" 2>&1 || n=$?
  local found
  found=$(grep -c '^check_submission: ' "$log.tampered" || true)
  if [ "$n" -eq 1 ] && grep -q "Dockerfile: expected one" "$log.tampered" && grep -q "homepage_typo" "$log.tampered" \
     && grep -q "thread" "$log.tampered" && grep -q "build.sh: differs" "$log.tampered"; then
    result PASS render "check_submission.py catches tampering" "($found findings on a tampered copy)"
  else
    result FAIL render "check_submission.py catches tampering" "(exit $n)"; show "$log.tampered"
  fi

  # ClusterFuzzLite: YAML parses; every workflow uses the documented actions and modes.
  if python3 - "$REPO" >"$log.workflows" 2>&1 <<'PY'
import glob, os, sys, yaml
repo = sys.argv[1]
errors, seen_modes, uploaded, pr_sans = [], set(), set(), set()
with open(os.path.join(repo, ".clusterfuzzlite/project.yaml")) as f:
    if yaml.safe_load(f).get("language") != "c++":
        errors.append(".clusterfuzzlite/project.yaml: language must be c++")
files = sorted(glob.glob(os.path.join(repo, ".github/workflows/cflite_*.yml")))
if not files:
    errors.append("no .github/workflows/cflite_*.yml")
MODES = {"code-change", "batch", "prune", "coverage"}
for path in files:
    name = os.path.relpath(path, repo)
    with open(path) as f:
        wf = yaml.safe_load(f)
    on = wf.get(True, wf.get("on"))  # YAML 1.1 reads the key `on` as True
    if not on or not wf.get("jobs"):
        errors.append(f"{name}: no trigger or no jobs"); continue
    for jname, job in wf["jobs"].items():
        steps = job.get("steps") or []
        uses = [s.get("uses", "") for s in steps]
        builds = [s for s in steps if s.get("uses", "").startswith("google/clusterfuzzlite/actions/build_fuzzers@")]
        runs = [s for s in steps if s.get("uses", "").startswith("google/clusterfuzzlite/actions/run_fuzzers@")]
        if len(builds) != 1:
            errors.append(f"{name}:{jname}: expected one build_fuzzers step, have {uses}")
            continue
        b = builds[0].get("with") or {}
        if b.get("language") != "c++":
            errors.append(f"{name}:{jname}: build_fuzzers needs language: c++")
        if not runs:
            if str(b.get("upload-build")).lower() != "true":
                errors.append(f"{name}:{jname}: a build-only job (continuous build) must set upload-build: true")
            if "push" not in (on if isinstance(on, dict) else {on: None} if isinstance(on, str) else dict.fromkeys(on)):
                errors.append(f"{name}:{jname}: the continuous build must run on push")
            seen_modes.add("build")
            bsan = b.get("sanitizer", "address")
            if bsan == "${{ matrix.sanitizer }}":
                bsan = ((job.get("strategy") or {}).get("matrix") or {}).get("sanitizer") or []
            uploaded.update([bsan] if isinstance(bsan, str) else bsan)
            continue
        w = runs[0].get("with") or {}
        mode = w.get("mode")
        if mode not in MODES:
            errors.append(f"{name}:{jname}: mode {mode!r} not in {sorted(MODES)}")
        seen_modes.add(mode)
        if str(b.get("sanitizer", "address")) != str(w.get("sanitizer", "address")):
            errors.append(f"{name}:{jname}: build and run sanitizers differ")
        if mode == "coverage" and w.get("sanitizer") != "coverage":
            errors.append(f"{name}:{jname}: coverage mode needs sanitizer: coverage")
        if mode in ("batch", "prune", "coverage") and "storage-repo" not in w:
            errors.append(f"{name}:{jname}: {mode} mode needs a storage-repo")
        if mode == "code-change" and b.get("storage-repo") != w.get("storage-repo"):
            errors.append(f"{name}:{jname}: code-change needs the same storage-repo in build_fuzzers (affected targets)")
        for s in (b, w):
            store = str(s.get("storage-repo", ""))
            if store and "${{" not in store:
                errors.append(f"{name}:{jname}: storage-repo must come from secrets/vars, not be written out")
        sans = [w.get("sanitizer", "address")]
        if sans[0] == "${{ matrix.sanitizer }}":
            sans = ((job.get("strategy") or {}).get("matrix") or {}).get("sanitizer") or ["<no matrix>"]
        for san in sans:  # infra/cifuzz/config_utils.py SANITIZERS
            if san not in ("address", "undefined", "memory", "coverage"):
                errors.append(f"{name}:{jname}: sanitizer {san!r} is not one ClusterFuzzLite runs")
            if mode == "code-change":
                pr_sans.add(san)
if pr_sans - uploaded:
    errors.append(f"PR fuzzing runs {sorted(pr_sans)} but the continuous build uploads only {sorted(uploaded)}")
for m in ("code-change", "batch", "prune", "coverage", "build"):
    if m not in seen_modes:
        errors.append(f"no workflow job runs {m}")
for e in errors:
    print(e)
print(f"{len(files)} workflow files; jobs: {', '.join(sorted(seen_modes))}")
sys.exit(1 if errors else 0)
PY
  then
    result PASS render "ClusterFuzzLite workflows" "($(tail -1 "$log.workflows"))"
  else
    result FAIL render "ClusterFuzzLite workflows" ""; show "$log.workflows"
  fi
}

# ---- base-builder environment -------------------------------------------------------
# base-clang/Dockerfile: CFLAGS and CXXFLAGS_EXTRA.
BASE_CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -Wno-error=incompatible-function-pointer-types -Wno-error=int-conversion -Wno-error=deprecated-declarations -Wno-error=implicit-function-declaration -Wno-error=implicit-int -Wno-error=unknown-warning-option -Wno-error=vla-cxx-extension -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
CXXFLAGS_EXTRA="-stdlib=libc++"
# base-builder/Dockerfile. float-divide-by-zero left the UBSan set in google/oss-fuzz
# commit fdfbdd2a0 (#11567, 2024-02): IEEE float division by zero is defined.
SANITIZER_FLAGS_address="-fsanitize=address -fsanitize-address-use-after-scope"
SANITIZER_FLAGS_undefined="-fsanitize=array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
SANITIZER_FLAGS_coverage=""
COVERAGE_FLAGS_default="-fsanitize=fuzzer-no-link"
COVERAGE_FLAGS_coverage="-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument"

# Debian's libclang_rt.fuzzer-x86_64.a is compiled against libstdc++ (OSS-Fuzz's is
# built against a private copy of libc++), so with -stdlib=libc++ its std::string etc.
# stay undefined. Add libstdc++ to the engine's link arguments when that is the case
# (as -Wl,-lstdc++: with -stdlib=libc++ the clang driver rewrites a plain -lstdc++ to -lc++).
ENGINE_EXTRA=""
if nm -u "$(clang-14 --print-runtime-dir)/libclang_rt.fuzzer-x86_64.a" 2>/dev/null | grep "_ZNSt7__cxx11" >/dev/null; then  # no -q: an early exit would SIGPIPE nm and fail the pipeline
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
  local cmd=("$out/$t")
  read -r -a fa <<<"$RUN_FUZZER_ARGS"
  cmd+=("${fa[@]}" "$@")
  if [ "$skip" = 0 ]; then
    if [ -f "$out/${t}_seed_corpus.zip" ]; then unzip -o -q -d "$corpus" "$out/${t}_seed_corpus.zip"; fi
    cmd+=("$corpus")
  fi
  local opts=""
  if [ -f "$out/$t.options" ]; then opts=$(parse_options "$out/$t.options" libfuzzer); fi
  local o
  read -r -a o <<<"$opts"
  cmd+=("${o[@]}")
  if [[ ! " ${cmd[*]}" =~ " -dict=" ]] && [ -f "$out/$t.dict" ]; then cmd+=("-dict=$t.dict"); fi
  echo "${cmd[*]}"
  (cd "$out" && env -u OUT "${cmd[@]}" </dev/null)
}

# $SRC/schedfuzz: a copy of this working tree (as the Dockerfile's clone/COPY would be),
# without build dirs, fuzzing output or git metadata.
export SRC="$ROOT/src"
mkdir -p "$SRC/schedfuzz"
tar -C "$REPO" --exclude=./.git --exclude='./build*' --exclude=./out --exclude=./oss-fuzz-submission -cf - . \
  | tar -C "$SRC/schedfuzz" -xf -

# build <sanitizer>: oss-fuzz/build.sh with base-builder's environment (compile's order:
# CFLAGS="$CFLAGS $SANITIZER_FLAGS $COVERAGE_FLAGS"; CXXFLAGS="$CFLAGS $CXXFLAGS_EXTRA").
build() {
  export SANITIZER="$1" FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++
  export WORK="$ROOT/$SANITIZER/work" OUT="$ROOT/$SANITIZER/out"
  mkdir -p "$WORK" "$OUT"
  local sflags_var="SANITIZER_FLAGS_$SANITIZER" cflags_var="COVERAGE_FLAGS_$SANITIZER"
  local cov="${!cflags_var:-$COVERAGE_FLAGS_default}"
  export CC=clang CXX=clang++ CCC=clang++
  export CFLAGS="$BASE_CFLAGS ${!sflags_var} $cov"
  export CXXFLAGS="$CFLAGS $CXXFLAGS_EXTRA"
  if [ "$SANITIZER" = undefined ]; then export CFLAGS="$CFLAGS -fno-sanitize=function"; fi
  export LIB_FUZZING_ENGINE="-fsanitize=fuzzer$ENGINE_EXTRA"
  echo "=== $SANITIZER: oss-fuzz/build.sh  (OUT=$OUT)"
  echo "    CXXFLAGS=$CXXFLAGS"
  echo "    LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"
  local blog="$LOGS/$SANITIZER-build.log" start=$SECONDS
  if (cd "$SRC/schedfuzz" && bash -eu "$SRC/schedfuzz/oss-fuzz/build.sh") >"$blog" 2>&1; then
    result PASS "$SANITIZER" "build.sh" "($((SECONDS - start)) s)"
  else
    result FAIL "$SANITIZER" "build.sh" "(log: $blog)"
    show "$blog"
    return 1
  fi
  local warnings
  warnings=$(grep -v "unknown warning option" "$blog" | grep -c "warning:" || true)
  if [ "$warnings" -gt 0 ]; then echo "    note: $warnings compiler warnings in $blog"; fi

  # outputs: the expected targets, and no other fuzz-target-looking executables.
  local found=() extra=() miss=() f t
  while IFS= read -r -d '' f; do
    if grep -q LLVMFuzzerTestOneInput "$f"; then found+=("$(basename "$f")"); fi
  done < <(find "$OUT" -maxdepth 1 -type f -perm -u+x -print0)
  for f in "${found[@]}"; do
    [[ " ${expected[*]} " == *" $f "* ]] || extra+=("$f")
  done
  for t in "${expected[@]}"; do
    { [ -x "$OUT/$t" ] && [ -f "$OUT/$t.options" ] && [ -f "$OUT/$t.dict" ]; } || miss+=("$t")
    [[ "$t" =~ ^[A-Za-z0-9_-]+$ ]] || miss+=("$t(bad name)")
  done
  if [ ${#expected[@]} -gt 0 ] && [ ${#extra[@]} -eq 0 ] && [ ${#miss[@]} -eq 0 ]; then
    result PASS "$SANITIZER" "outputs" "(${expected[*]})"
  else
    result FAIL "$SANITIZER" "outputs" "(missing: ${miss[*]:-none}; extra LLVMFuzzerTestOneInput binaries: ${extra[*]:-none})"
  fi
}

# bad_build_check <target>: base-runner/bad_build_check's checks (and ours) for one target.
bad_build_check() {
  local t="$1" log="$LOGS/$SANITIZER-$1" opts d z names n edges tmpcwd
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
    if printf '%s\n' "$names" | grep -e '/' -e '\.txt$' >/dev/null; then
      result FAIL "$SANITIZER" "$t seed-zip" "(not flat or holds *.txt: $(printf '%s\n' "$names" | grep -e / -e '\.txt$' | head -3 | tr '\n' ' '))"
    else
      result PASS "$SANITIZER" "$t seed-zip" "($n seeds)"
    fi
  else
    result SKIP "$SANITIZER" "$t seed-zip" "(corpus/$t is empty or absent: no zip)"
  fi

  # engine (check_engine)
  tmpcwd="$ROOT/cwd-$SANITIZER-$t" && mkdir -p "$tmpcwd"
  (cd "$tmpcwd" && "$OUT/$t" -seed=1337 -runs=4) >"$log.engine" 2>&1 || true
  edges=$(grep -Po "INFO: Loaded [[:digit:]]+ module.*\(.*(counters|guards)\):[[:space:]]+\K[[:digit:]]+" "$log.engine" | head -1 || true)
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
  run_fuzzer "$OUT" "$t" 1 -seed=1337 -runs=4 >"$log.startup" 2>&1 || true
  if grep -q "Done 4 runs" "$log.startup"; then
    result PASS "$SANITIZER" "$t startup" "(Done 4 runs)"
  else
    result FAIL "$SANITIZER" "$t startup" "(no 'Done 4 runs')"; show "$log.startup"
  fi

  # sanitizers (check_mixed_sanitizers); CALL_INSN for x86_64: "callq?\s+[0-9a-f]+\s+<"
  objdump -dC "$OUT/$t" >"$log.objdump" 2>/dev/null
  count() { grep -Ec "callq?\s+[0-9a-f]+\s+<$1" "$log.objdump" || true; }
  local asan ubsan msan dfsan calls ok=1
  asan=$(count __asan); ubsan=$(count __ubsan); msan=$(count __msan); dfsan=$(count __dfsan)
  rm -f "$log.objdump"
  calls="(__asan $asan, __ubsan $ubsan, __msan $msan, __dfsan $dfsan calls)"
  if [ "$SANITIZER" = address ]; then
    [ "$asan" -ge 1000 ] && [ "$ubsan" -le 200 ] || ok=0
  else
    [ "$ubsan" -ge 168 ] && [ "$asan" -le 0 ] || ok=0
  fi
  [ "$msan" -le 3 ] && [ "$dfsan" -le 0 ] || ok=0
  if [ $ok = 1 ]; then result PASS "$SANITIZER" "$t sanitizers" "$calls"
  else result FAIL "$SANITIZER" "$t sanitizers" "$calls"; fi

  # seed-corpus (check_seed_corpus)
  if [ -f "$z" ]; then
    if run_fuzzer "$OUT" "$t" 0 -runs=0 >"$log.seeds" 2>&1; then
      result PASS "$SANITIZER" "$t seed-corpus" "($(grep -Eo 'INITED.*' "$log.seeds" | head -1 || true))"
    else
      result FAIL "$SANITIZER" "$t seed-corpus" "(a seed crashes; log: $log.seeds)"; show "$log.seeds"
    fi
  else
    result SKIP "$SANITIZER" "$t seed-corpus" "(no seed corpus)"
  fi

  # arch (check_architecture)
  if file "$OUT/$t" | grep "x86-64" >/dev/null; then
    result PASS "$SANITIZER" "$t arch" "(x86-64)"
  else
    result FAIL "$SANITIZER" "$t arch" "($(file -b "$OUT/$t"))"
  fi
}

# coverage_report: base-runner/coverage for our targets, over their seed corpora.
coverage_report() {
  local dumps="$ROOT/coverage/dumps" corpora="$ROOT/coverage/corpus" t rc objects=() profdata=()
  mkdir -p "$dumps" "$corpora"
  for t in "${expected[@]}"; do
    [ -x "$OUT/$t" ] || continue
    local log="$LOGS/coverage-$t.log" real="$corpora/$t" dummy="$ROOT/coverage/dummy-$t"
    mkdir -p "$real" "$dummy"
    if [ -f "$OUT/${t}_seed_corpus.zip" ]; then unzip -o -q -d "$real" "$OUT/${t}_seed_corpus.zip"; fi
    rc=0
    (cd "$OUT" && LLVM_PROFILE_FILE="$dumps/$t.%1m.profraw" timeout 600 "$OUT/$t" -merge=1 -timeout=100 "$dummy" "$real") \
      >"$log" 2>&1 || rc=$?
    shopt -s nullglob
    local raws=("$dumps/$t".*.profraw)
    shopt -u nullglob
    if [ $rc -ne 0 ] || grep -qE "^==[0-9]+== ERROR: libFuzzer:" "$log"; then
      result FAIL coverage "$t corpus run" "(exit $rc; log: $log)"; show "$log"
    elif [ ${#raws[@]} -eq 0 ]; then
      result FAIL coverage "$t corpus run" "(no .profraw written)"
    else
      llvm-profdata-14 merge -j=1 -sparse "${raws[@]}" -o "$dumps/$t.profdata"
      profdata+=("$dumps/$t.profdata")
      if [ ${#objects[@]} -eq 0 ]; then objects+=("$OUT/$t"); else objects+=("-object=$OUT/$t"); fi
      result PASS coverage "$t corpus run" "($(find "$real" -type f | wc -l) seeds, ${#raws[@]} profile)"
    fi
  done
  [ ${#profdata[@]} -gt 0 ] || { result FAIL coverage "report" "(no profiles)"; return 0; }
  llvm-profdata-14 merge -sparse "${profdata[@]}" -o "$dumps/merged.profdata"
  local src="$SRC/schedfuzz" report="$ROOT/coverage/report.txt"
  if ! llvm-cov-14 report "${objects[@]}" -instr-profile="$dumps/merged.profdata" \
        "$src/runtime" "$src/fuzz" >"$report" 2>"$LOGS/coverage-llvm-cov.log"; then
    result FAIL coverage "report" "(llvm-cov failed)"; show "$LOGS/coverage-llvm-cov.log"; return 0
  fi
  if [ -s "$LOGS/coverage-llvm-cov.log" ]; then
    echo "    llvm-cov-14 said:"; sed 's/^/    | /' "$LOGS/coverage-llvm-cov.log"
  fi
  sed -e "s|$src/||" "$report" | sed 's/^/    /'
  # Line coverage per directory, from llvm-cov's JSON summary (what OSS-Fuzz's
  # coverage job publishes as summary.json).
  local summary
  summary=$(llvm-cov-14 export -summary-only "${objects[@]}" -instr-profile="$dumps/merged.profdata" \
              "$src/runtime" "$src/fuzz" 2>/dev/null | python3 -c '
import json, os, sys
src = sys.argv[1]
tot = {}
for f in json.load(sys.stdin)["data"][0]["files"]:
    rel = os.path.relpath(f["filename"], src)
    parts = rel.split("/")
    d = parts[0] if parts[0] != "fuzz" or len(parts) == 2 else parts[0] + "/" + parts[1]
    c = tot.setdefault(d, [0, 0])
    c[0] += f["summary"]["lines"]["count"]
    c[1] += f["summary"]["lines"]["covered"]
for d in sorted(tot):
    n, cov = tot[d]
    print(d, n, cov, "%.1f" % (100.0 * cov / n if n else 0.0))
' "$src")
  echo "$summary" | awk '{ printf "    line coverage %-14s %5.1f%% (%d of %d lines)\n", $1 "/", $4, $3, $2 }'
  local rt
  rt=$(echo "$summary" | awk '$1 == "runtime" { print $4 }')
  if [ -z "$rt" ]; then
    result FAIL coverage "runtime/ line coverage" "(runtime/ not in the report)"
  elif awk -v c="$rt" -v f="$COVERAGE_FLOOR" 'BEGIN { exit !(c >= f) }'; then
    result PASS coverage "runtime/ line coverage" "($rt% >= floor $COVERAGE_FLOOR%; report: llvm-cov-14 report)"
  else
    result FAIL coverage "runtime/ line coverage" "($rt% < floor $COVERAGE_FLOOR%)"
  fi
}

for step in "${STEPS[@]}"; do
  case "$step" in
    render)
      echo "=== render: oss-fuzz/render.sh, check_submission.py, ClusterFuzzLite workflows"
      check_render ;;
    address|undefined)
      build "$step" || continue
      # Runtime environment of the runner image; the fixed runtime.
      export ASAN_OPTIONS="$RUN_ASAN_OPTIONS" UBSAN_OPTIONS="$RUN_UBSAN_OPTIONS" FUZZER_ARGS="$RUN_FUZZER_ARGS"
      unset SCHEDFUZZ_BUGS SCHEDFUZZ_STRICT SCHEDFUZZ_NO_INVARIANTS
      for t in "${expected[@]}"; do
        if [ -x "$OUT/$t" ]; then bad_build_check "$t"; fi
      done ;;
    coverage)
      build coverage || continue
      unset SCHEDFUZZ_BUGS SCHEDFUZZ_STRICT SCHEDFUZZ_NO_INVARIANTS ASAN_OPTIONS UBSAN_OPTIONS
      coverage_report ;;
  esac
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
