#!/bin/bash
# bench/run.sh [--quick] — build what the benchmarks need, run them, and write bench/REPORT.md
# with its SVG plots next to it.
#
# Sections (see bench/REPORT.md for the figures):
#   1. throughput: libFuzzer's exec/s per target (empty corpus, then from a corpus), an
#      ablation of libFuzzer's own per-input costs, exec_bench (Google Benchmark: runProgram
#      vs ops/goroutines/Ms, and the cost split), a perf profile of a libFuzzer run, and peak
#      RSS over a long run;
#   2. time to bug for every bug switch and strategy, from nothing, several seeds each;
#   3. the real-thread stress baseline (Go's own method) for #38931.
#
# Full mode takes about 25 minutes on a 2-core machine; --quick a few minutes (fewer seeds,
# shorter budgets). BENCH_BASELINE=<rev> bench/run.sh also measures #38931 before/after against
# git revision <rev> (its fuzz target and .options vs today's). Benchmarks print figures; nothing
# here passes or fails on time. The exit status is non-zero only if a build or a tool fails to run.
#
# Builds (all clang-14, CMAKE_BUILD_TYPE=RelWithDebInfo = -O2 -g -DNDEBUG), in the source tree:
#   build-h7-rel          tools, examples, exec_bench; no instrumentation
#   build-h7-fuzz         fuzz targets with libFuzzer (-fsanitize=fuzzer-no-link, as the "fuzz" preset;
#                         fuzz/targets/CMakeLists.txt leaves trace-cmp and indirect-calls out of our code)
#   build-h7-fuzz-cmp     the same with both kept (-DSCHEDFUZZ_LEAN_COVERAGE=OFF; ablation only)
#   build-h7-base         only with BENCH_BASELINE=<git revision>: that revision's fuzz targets, from
#                         build-h7-base-src (git archive, read-only), for #38931 before/after (compare.json)
# Scratch (corpora, artifacts, logs): build-h7-work/<mode>/. Raw results: bench/results/*.json
# (python3 bench/report.py regenerates REPORT.md and the plots from them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  "") ;;
  -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

# Time to bug: SEEDS per cell (ABL_SEEDS for the #38931 libFuzzer ablations), per-run budgets,
# early stop of hopeless cells, and a deadline after which no new run starts (a safety net for
# a heavily loaded machine; the report says if it was hit).
if [ "$mode" = full ]; then
  THR_SECONDS=30; ABL_SECONDS=10; ABL_ROUNDS=3
  BENCH_REPS=7; BENCH_MIN_TIME=0.1
  PROFILE_SECONDS=15; RSS_MINUTES=4
  SEEDS=20; ABL_SEEDS=10; LF_BUDGET=60; EX_SECONDS=20; EX_RUNS=20000; EARLY_STOP=5; TTB_DEADLINE_MIN=14
  STRATEGIES="libfuzzer-lockosthread libfuzzer-sched random pct=1 pct=2 pct=3 libfuzzer-lockosthread-nodict libfuzzer-lockosthread-prev"
  STRESS_RUNS=2000; CMP_SEEDS=31
else
  THR_SECONDS=10; ABL_SECONDS=5; ABL_ROUNDS=1
  BENCH_REPS=3; BENCH_MIN_TIME=0.05
  PROFILE_SECONDS=5; RSS_MINUTES=1
  SEEDS=5; ABL_SEEDS=3; LF_BUDGET=20; EX_SECONDS=10; EX_RUNS=5000; EARLY_STOP=3; TTB_DEADLINE_MIN=4
  STRATEGIES="libfuzzer-lockosthread libfuzzer-sched random pct=1 pct=2 pct=3 libfuzzer-lockosthread-prev"
  STRESS_RUNS=200; CMP_SEEDS=7
fi
# libFuzzer flags: fuzz/targets/<target>.options (max_len, len_control, dict) plus these.
LF_EXTRA=""
STRESS_TIMEOUT_MS=1000

RESULTS="$ROOT/bench/results"
WORK="$ROOT/build-h7-work/$mode"
rm -rf "$RESULTS" "$WORK"
mkdir -p "$RESULTS" "$WORK"
CMDS="$RESULTS/commands.txt"
: > "$CMDS"
t_start=$(date +%s)

# step CMD...: log the exact command line to results/commands.txt, then run it.
step() {
  printf '%s\n' "$*" >> "$CMDS"
  echo "== $*"
  "$@"
}

# ---- machine, before anything runs -----------------------------------------------------------
python3 - "$RESULTS/meta.json" "$mode" <<'PY'
import json, os, platform, sys, time
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
json.dump({"mode": sys.argv[2], "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(),
           "cpu": cpu, "mem": mem, "kernel": platform.release(), "loadavg_start": open("/proc/loadavg").read().split()[:3],
           "start": time.time()}, open(sys.argv[1], "w"), indent=1)
PY

# ---- dependencies and builds ---------------------------------------------------------------------
source scripts/deps.sh
ensure_deps clang-14 libclang-rt-14-dev cmake ninja-build libbenchmark-dev python3 python3-matplotlib
# The plots (bench/svgplot.py) need matplotlib: Debian's python3 has it from python3-matplotlib;
# a python3 earlier on PATH (pyenv, a venv) may not, so the report step falls back to Debian's.
PY_PLOT=python3
if ! python3 -c 'import matplotlib' 2>/dev/null && /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  PY_PLOT=/usr/bin/python3
fi
have_perf=1
command -v perf >/dev/null && perf stat -e cpu-clock true >/dev/null 2>&1 || { ensure_deps linux-perf || true; }
command -v perf >/dev/null && perf stat -e cpu-clock true >/dev/null 2>&1 || have_perf=0

COMMON=(-G Ninja -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo
        -DSCHEDFUZZ_TESTS=OFF)
FUZZ_FLAGS="-fsanitize=fuzzer-no-link -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
configure() {  # dir, extra cmake args...
  local dir="$1"; shift
  step cmake -S "$ROOT" -B "$ROOT/$dir" "${COMMON[@]}" "$@" > "$WORK/cmake-$dir.log"
}
configure build-h7-rel -DSCHEDFUZZ_BENCH=ON -DSCHEDFUZZ_FUZZ_LINKMAIN=ON
configure build-h7-fuzz -DSCHEDFUZZ_FUZZ_LINKMAIN=OFF -DSCHEDFUZZ_FUZZ_ENGINE=-fsanitize=fuzzer \
  "-DCMAKE_C_FLAGS=$FUZZ_FLAGS" "-DCMAKE_CXX_FLAGS=$FUZZ_FLAGS"
configure build-h7-fuzz-cmp -DSCHEDFUZZ_FUZZ_LINKMAIN=OFF -DSCHEDFUZZ_FUZZ_ENGINE=-fsanitize=fuzzer \
  -DSCHEDFUZZ_LEAN_COVERAGE=OFF "-DCMAKE_C_FLAGS=$FUZZ_FLAGS" "-DCMAKE_CXX_FLAGS=$FUZZ_FLAGS"
if [ -n "${BENCH_BASELINE:-}" ]; then
  rm -rf build-h7-base build-h7-base-src && mkdir -p build-h7-base-src
  git archive --format=tar "$BENCH_BASELINE" | tar -x -C build-h7-base-src
  echo "git archive $BENCH_BASELINE | tar -x -C build-h7-base-src   # $(git rev-parse "$BENCH_BASELINE")" >> "$CMDS"
  step cmake -S "$ROOT/build-h7-base-src" -B "$ROOT/build-h7-base" "${COMMON[@]}" -DSCHEDFUZZ_FUZZ_LINKMAIN=OFF \
    -DSCHEDFUZZ_FUZZ_ENGINE=-fsanitize=fuzzer "-DCMAKE_C_FLAGS=$FUZZ_FLAGS" "-DCMAKE_CXX_FLAGS=$FUZZ_FLAGS" \
    > "$WORK/cmake-build-h7-base.log"
fi
# Others edit the tree while this runs: a build that fails (a half-saved file) is retried once.
build() {
  step ninja -C "$@" > "$WORK/ninja-$1.log" 2>&1 && return 0
  echo "build in $1 failed (see $WORK/ninja-$1.log); retrying once in 20 s"
  sleep 20
  step ninja -C "$@"
}
build build-h7-rel exec_bench schedfuzz-explore schedfuzz-replay lockosthread_template_race
build build-h7-fuzz lockosthread_fuzzer sched_fuzzer
build build-h7-fuzz-cmp lockosthread_fuzzer
if [ -n "${BENCH_BASELINE:-}" ]; then build build-h7-base lockosthread_fuzzer; fi

DRIVE=(python3 bench/drive.py --src "$ROOT" --fuzz-build build-h7-fuzz --rel-build build-h7-rel --work "$WORK")

# ---- 1. throughput -------------------------------------------------------------------------------------
# (a) libFuzzer's exec/s, one target at a time (nothing else of ours runs meanwhile).
step "${DRIVE[@]}" throughput --seconds "$THR_SECONDS" --libfuzzer-extra="$LF_EXTRA" --out "$RESULTS/throughput.json"
# What libFuzzer's own per-input work costs: the same corpus with the full instrumentation, Entropic and/or hit counts back.
step "${DRIVE[@]}" ablate --corpus "$WORK/grown-lockosthread_fuzzer" --cmp-build build-h7-fuzz-cmp \
  --seconds "$ABL_SECONDS" --rounds "$ABL_ROUNDS" --libfuzzer-extra="$LF_EXTRA" --out "$RESULTS/ablate.json"
# (b, c) exec_bench on the corpora the throughput runs grew.
export SCHEDFUZZ_BENCH_CORPUS_LOCKOSTHREAD="$WORK/grown-lockosthread_fuzzer"
export SCHEDFUZZ_BENCH_CORPUS_SCHED="$WORK/grown-sched_fuzzer"
printf 'SCHEDFUZZ_BENCH_CORPUS_LOCKOSTHREAD=%s SCHEDFUZZ_BENCH_CORPUS_SCHED=%s \\\n' \
  "$SCHEDFUZZ_BENCH_CORPUS_LOCKOSTHREAD" "$SCHEDFUZZ_BENCH_CORPUS_SCHED" >> "$CMDS"
step build-h7-rel/bench/exec_bench --benchmark_repetitions="$BENCH_REPS" --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="$BENCH_MIN_TIME" --benchmark_out="$RESULTS/exec_bench.json" --benchmark_out_format=json \
  > "$WORK/exec_bench.txt"
# Where a libFuzzer execution's time goes, and where the target's body alone spends it.
if [ "$have_perf" = 1 ]; then
  step "${DRIVE[@]}" profile --seconds "$PROFILE_SECONDS" --corpus "$WORK/grown-lockosthread_fuzzer" \
    --libfuzzer-extra="$LF_EXTRA" --out "$RESULTS/profile.json"
  step "${DRIVE[@]}" profile-bench --seconds "$(( PROFILE_SECONDS / 3 ))" --out "$RESULTS/profile_bench.json"
else
  echo "perf not available: no profile section"
fi

# ---- 2. time to bug (2 jobs at a time), with (d) the long RSS runs alongside (one more process per target) ----
step "${DRIVE[@]}" rss --targets lockosthread_fuzzer sched_fuzzer --minutes "$RSS_MINUTES" \
  --libfuzzer-extra="$LF_EXTRA" --out "$RESULTS/rss.json" &
rss_pid=$!
# shellcheck disable=SC2086
step "${DRIVE[@]}" ttb --seeds "$SEEDS" --ablation-seeds "$ABL_SEEDS" --jobs 2 --strategies $STRATEGIES \
  --libfuzzer-budget "$LF_BUDGET" --libfuzzer-extra="$LF_EXTRA" --cmp-build build-h7-fuzz-cmp \
  --explore-budget-s "$EX_SECONDS" --explore-budget-runs "$EX_RUNS" --early-stop "$EARLY_STOP" \
  --deadline-min "$TTB_DEADLINE_MIN" --out "$RESULTS/ttb.json"
wait "$rss_pid"
# #38931 before/after (only with BENCH_BASELINE): the baseline revision's target with its own
# .options against today's, the same seeds, runs interleaved, 2 at a time.
if [ -n "${BENCH_BASELINE:-}" ]; then
  T=fuzz/targets/lockosthread_fuzzer
  step "${DRIVE[@]}" compare --bug issue38931 --seeds "$CMP_SEEDS" --runs 100000 --jobs 2 \
    --config "before=$ROOT/build-h7-base/$T,options=$ROOT/build-h7-base-src/$T.options" \
    --config "after=$ROOT/build-h7-fuzz/$T" --config "after_nodict=$ROOT/build-h7-fuzz/$T,nodict" \
    --out "$RESULTS/compare.json"
fi

# ---- 3. real-thread stress baseline (alone: it needs both cores) ------------------------------------------------
step "${DRIVE[@]}" stress --runs "$STRESS_RUNS" --timeout-ms "$STRESS_TIMEOUT_MS" --out "$RESULTS/stress.json"

# ---- report -----------------------------------------------------------------------------------------------------------
python3 - "$RESULTS/meta.json" "$t_start" <<'PY'
import json, sys, time
m = json.load(open(sys.argv[1]))
m["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
m["wall_minutes"] = (time.time() - float(sys.argv[2])) / 60
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
step "$PY_PLOT" bench/report.py --results "$RESULTS" --out bench/REPORT.md --build-dirs build-h7-rel build-h7-fuzz build-h7-fuzz-cmp
echo "wrote bench/REPORT.md ($(ls bench/*.svg | wc -l) plots) in $(( ($(date +%s) - t_start) / 60 )) min"
