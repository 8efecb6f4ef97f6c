// bench/exec_bench.cpp — what one execution costs: runProgram against program
// size, goroutines and Ms, and the split of that cost (fiber switching,
// executor bookkeeping, invariant checks, decoding, trace recording).
//
// Google Benchmark; it prints figures and never fails on time. bench/run.sh
// runs it with --benchmark_format=json and turns the numbers into REPORT.md.
//
// Counters (per iteration = per execution unless named otherwise):
//   steps      scheduling points of the run (SimPlatform::step at the end)
//   ns/step    wall time per scheduling point
//   tswitch    switches between threads (Ms) the chooser made
//   gexec      goroutine executions started (Ev::execute: one g0 -> g fiber switch,
//              and one switch back when the goroutine stops running)
//   threads    threads (Ms) the run started, including sysmon and the template thread
//   allocs     operator new calls per execution (a global replacement counts them)
//   ok         fraction of runs that ended with verdict ok (all of them on the fixed runtime)
//
// Programs. The binary format caps a script at 16 ops and a program at 4
// scripts (64 ops). runProgram does not care, so the ops sweep (10/100/1000)
// builds Program objects directly with longer scripts: 2 scripts on
// GOMAXPROCS 2, each a repetition of the 5-op unit
//   spin(2) gosched lock spin(0) unlock
// cut to N/2 ops. Step budgets are set explicitly (stepBudget caps at 400000).
//
// Inputs for the cost split: SCHEDFUZZ_BENCH_CORPUS_LOCKOSTHREAD / _SCHED name a
// directory of binary inputs (bench/run.sh passes the corpus libFuzzer grew in
// the throughput runs), else 256 seeded random byte strings of 4..64 bytes are
// decoded with the target's alphabet, choices and walk kept, as libFuzzer
// would run them. A corpus of more than 512 inputs is thinned to 512 evenly
// spaced ones (by file name). One iteration of a BM_Split_* benchmark runs the
// whole set, so every variant measures the same inputs; "inputs" is the set's
// size and per-execution figures divide by it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/sim/executor.h"
#include "runtime/fiber.h"
#include "runtime/runtime.h"

// ---- allocation counting ------------------------------------------------------
// A global replacement of operator new counts every allocation in the process
// (gort's, the executor's, the harness's). Single-threaded use only matters here.
static uint64_t g_allocs = 0;
void* operator new(size_t n) {
  g_allocs++;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  g_allocs++;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace schedfuzz;

// ---- programs -------------------------------------------------------------------

Instr I(Op op, uint8_t arg = 0) { return Instr{op, arg}; }

// N ops in total over 2 scripts on GOMAXPROCS 2 (see the header).
Program opsProgram(int n) {
  static const Instr unit[] = {I(Op::kSpin, 2), I(Op::kGosched), I(Op::kLock), I(Op::kSpin, 0), I(Op::kUnlock)};
  Program p;
  p.gomaxprocs = 2;
  p.scripts.resize(2);
  for (int s = 0; s < 2; s++) {
    int len = n / 2 + (s < n % 2 ? 1 : 0);
    for (int i = 0; i < len; i++) p.scripts[s].ops.push_back(unit[i % 5]);
    // Never leave a script locked at its end.
    if (!p.scripts[s].ops.empty() && p.scripts[s].ops.back().op == Op::kLock) p.scripts[s].ops.back() = I(Op::kSpin, 0);
    if (p.scripts[s].ops.size() >= 2 && p.scripts[s].ops[p.scripts[s].ops.size() - 2].op == Op::kLock)
      p.scripts[s].ops.push_back(I(Op::kUnlock));
  }
  return p;
}

// G goroutines on GOMAXPROCS 2, all of them but main's two started with `go`
// ops (within the format: at most 14 go ops in a script). Each goroutine does
// the same work: spin(3) gosched spin(3).
Program goroutinesProgram(int g) {
  const std::vector<Instr> work = {I(Op::kSpin, 3), I(Op::kGosched), I(Op::kSpin, 3)};
  Program p;
  p.gomaxprocs = 2;
  if (g <= 1) {
    p.scripts.push_back(Script{work});
    return p;
  }
  Script s0, s1{work};
  for (int i = 0; i < g - 2; i++) s0.ops.push_back(I(Op::kGo, 1));
  s0.ops.insert(s0.ops.end(), work.begin(), work.end());
  p.scripts = {s0, s1};
  return p;
}

// GOMAXPROCS n, four goroutines that each lock their thread around a yield:
// every gosched of a locked goroutine parks its M (stoplockedm) and hands its
// P to another M, so the run needs extra Ms.
Program msProgram(int procs) {
  Program p;
  p.gomaxprocs = procs;
  for (int s = 0; s < 4; s++)
    p.scripts.push_back(
        Script{{I(Op::kLock), I(Op::kSpin, 3), I(Op::kGosched), I(Op::kSpin, 3), I(Op::kUnlock), I(Op::kSpin, 1)}});
  return p;
}

// ---- input sets for the cost split ---------------------------------------------------

struct InputSet {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<Program> programs;
  std::string origin;
};

std::vector<std::vector<uint8_t>> readDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::vector<uint8_t>> out;
  for (const std::string& n : names) {
    std::ifstream f(dir + "/" + n, std::ios::binary);
    if (!f) continue;
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

const InputSet& inputs(bool sched) {
  static std::map<bool, InputSet> cache;
  auto it = cache.find(sched);
  if (it != cache.end()) return it->second;
  InputSet set;
  const Alphabet a = sched ? Alphabet::all() : Alphabet::lockosthread();
  const char* env = std::getenv(sched ? "SCHEDFUZZ_BENCH_CORPUS_SCHED" : "SCHEDFUZZ_BENCH_CORPUS_LOCKOSTHREAD");
  if (env && *env) {
    set.bytes = readDir(env);
    set.origin = std::string("corpus ") + env;
  }
  if (set.bytes.size() > 512) {
    std::vector<std::vector<uint8_t>> thin;
    for (size_t i = 0; i < 512; i++) thin.push_back(set.bytes[i * set.bytes.size() / 512]);
    set.bytes = std::move(thin);
  }
  if (set.bytes.empty()) {
    Rng rng(sched ? 2 : 1);
    for (int i = 0; i < 256; i++) {
      std::vector<uint8_t> b(4 + rng.below(61));
      for (uint8_t& x : b) x = static_cast<uint8_t>(rng.next());
      set.bytes.push_back(std::move(b));
    }
    set.origin = "256 random inputs";
  }
  for (const auto& b : set.bytes) set.programs.push_back(decode(b, a));
  return cache.emplace(sched, std::move(set)).first->second;
}

// ---- measuring ------------------------------------------------------------------------

struct Stats {
  double steps = 0, tswitch = 0, gexec = 0, threads = 0, ok = 0;
};

// One traced, untimed run per program: what the run does.
Stats describe(const std::vector<Program>& ps, RunConfig cfg) {
  Stats s;
  cfg.record_trace = true;
  for (const Program& p : ps) {
    ByteChooser c = ByteChooser::forProgram(p);
    Outcome o = runProgram(p, c, cfg);
    s.steps += double(o.result.steps);
    s.threads += double(o.mids.size());
    s.ok += o.result.verdict == Verdict::kOk;
    for (const TraceEvent& e : o.trace) {
      s.tswitch += e.kind == TraceEvent::Kind::kSwitch;
      s.gexec += e.kind == TraceEvent::Kind::kRuntime && e.ev == gort::Ev::execute;
    }
  }
  double n = double(ps.size());
  s.steps /= n, s.tswitch /= n, s.gexec /= n, s.threads /= n, s.ok /= n;
  return s;
}

void setCounters(benchmark::State& st, const Stats& s, uint64_t allocs, size_t per_iter = 1) {
  const double iters = double(st.iterations()) * double(per_iter);
  st.counters["inputs"] = double(per_iter);
  st.counters["steps"] = s.steps;
  st.counters["tswitch"] = s.tswitch;
  st.counters["gexec"] = s.gexec;
  st.counters["threads"] = s.threads;
  st.counters["ok"] = s.ok;
  st.counters["allocs"] = iters > 0 ? double(allocs) / iters : 0;
  // Wall time per scheduling point: iterations*steps points per second, inverted.
  st.counters["ns/step"] = benchmark::Counter(iters * s.steps * 1e-9,
                                              benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One iteration = one execution of ps[0] (the shape benchmarks pass one program).
void runLoop(benchmark::State& st, const std::vector<Program>& ps, const RunConfig& cfg) {
  Stats s = describe(ps, cfg);
  size_t i = 0;
  uint64_t a0 = g_allocs;
  for (auto _ : st) {
    const Program& p = ps[i];
    if (++i == ps.size()) i = 0;
    ByteChooser c = ByteChooser::forProgram(p);
    Outcome o = runProgram(p, c, cfg);
    benchmark::DoNotOptimize(o.result.steps);
  }
  setCounters(st, s, g_allocs - a0);
}

// One iteration = one execution of every program of the set, in order.
void runSet(benchmark::State& st, const InputSet& set, const RunConfig& cfg) {
  Stats s = describe(set.programs, cfg);
  uint64_t a0 = g_allocs;
  for (auto _ : st) {
    for (const Program& p : set.programs) {
      ByteChooser c = ByteChooser::forProgram(p);
      Outcome o = runProgram(p, c, cfg);
      benchmark::DoNotOptimize(o.result.steps);
    }
  }
  setCounters(st, s, g_allocs - a0, set.programs.size());
  st.SetLabel(set.origin);
}

RunConfig bigBudget() {
  RunConfig cfg;
  cfg.step_budget = 50'000'000;
  return cfg;
}

// ---- (b) execution cost vs program shape ----------------------------------------------

void BM_Exec_Ops(benchmark::State& st) {
  Program p = opsProgram(int(st.range(0)));
  runLoop(st, {p}, bigBudget());
  st.counters["ops"] = double(p.scripts[0].ops.size() + p.scripts[1].ops.size());
}
BENCHMARK(BM_Exec_Ops)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_Exec_Goroutines(benchmark::State& st) {
  runLoop(st, {goroutinesProgram(int(st.range(0)))}, bigBudget());
}
BENCHMARK(BM_Exec_Goroutines)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(16)->Unit(benchmark::kMicrosecond);

void BM_Exec_Ms(benchmark::State& st) {
  runLoop(st, {msProgram(int(st.range(0)))}, bigBudget());
}
BENCHMARK(BM_Exec_Ms)->DenseRange(1, 4)->Unit(benchmark::kMicrosecond);

// ---- (c) the cost split on fuzz inputs ---------------------------------------------------
// Arg 0: lockosthread alphabet, 1: sched (all ops). Variant in the name.

RunConfig splitConfig(bool invariants, bool trace) {
  RunConfig cfg;  // the fuzz targets' configuration: invariants on, trace on
  cfg.detectors.invariants = invariants;
  cfg.record_trace = trace;
  return cfg;
}
void BM_Split_Full(benchmark::State& st) { runSet(st, inputs(st.range(0)), splitConfig(true, true)); }
void BM_Split_NoInvariants(benchmark::State& st) { runSet(st, inputs(st.range(0)), splitConfig(false, true)); }
void BM_Split_NoTrace(benchmark::State& st) { runSet(st, inputs(st.range(0)), splitConfig(true, false)); }
void BM_Split_Bare(benchmark::State& st) { runSet(st, inputs(st.range(0)), splitConfig(false, false)); }
BENCHMARK(BM_Split_Full)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Split_NoInvariants)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Split_NoTrace)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Split_Bare)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// decode() alone over the same inputs.
void BM_Split_Decode(benchmark::State& st) {
  const InputSet& set = inputs(st.range(0));
  const Alphabet a = st.range(0) ? Alphabet::all() : Alphabet::lockosthread();
  uint64_t a0 = g_allocs;
  for (auto _ : st) {
    for (const auto& b : set.bytes) {
      Program p = decode(b, a);
      benchmark::DoNotOptimize(p.scripts.data());
    }
  }
  const double n = double(std::max<int64_t>(1, st.iterations())) * double(set.bytes.size());
  st.counters["inputs"] = double(set.bytes.size());
  st.counters["allocs"] = double(g_allocs - a0) / n;
  st.SetLabel(set.origin);
}
BENCHMARK(BM_Split_Decode)->Arg(0)->Arg(1);

// The fuzz target's whole per-input work minus libFuzzer: decode, run (full
// config), and the interleaving features it hands libFuzzer.
void BM_Split_TargetBody(benchmark::State& st) {
  const InputSet& set = inputs(st.range(0));
  const Alphabet a = st.range(0) ? Alphabet::all() : Alphabet::lockosthread();
  static uint8_t counters[4096];
  RunConfig cfg = splitConfig(true, true);
  Stats s = describe(set.programs, cfg);
  uint64_t a0 = g_allocs;
  for (auto _ : st) {
    for (const auto& b : set.bytes) {
      Program p = decode(b, a);
      ByteChooser c = ByteChooser::forProgram(p);
      Outcome o = runProgram(p, c, cfg);
      interleavingFeatures(o, counters, sizeof counters);
      benchmark::DoNotOptimize(counters);
    }
  }
  setCounters(st, s, g_allocs - a0, set.bytes.size());
  st.SetLabel(set.origin);
}
BENCHMARK(BM_Split_TargetBody)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// ---- fiber switching: ping-pong ------------------------------------------------------------

struct PingPong {
  gort::Fiber* main = nullptr;
  gort::Fiber* other = nullptr;
};
void pingEntry(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  for (;;) gort::Fiber::Switch(pp->other, pp->main);
}

// One iteration = two Fiber::Switch calls (there and back).
void BM_FiberSwitch_PingPong(benchmark::State& st) {
  PingPong pp;
  pp.main = gort::Fiber::ForThisThread();
  pp.other = gort::Fiber::Create(&pingEntry, &pp);
  gort::Fiber::Switch(pp.main, pp.other);  // first entry
  for (auto _ : st) gort::Fiber::Switch(pp.main, pp.other);
  gort::Fiber::Destroy(pp.other);  // abandoned while suspended: allowed
  st.counters["ns/switch"] =
      benchmark::Counter(double(st.iterations()) * 2 * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberSwitch_PingPong);

// Fiber::Create + Destroy (stacks come from the process-wide pool).
void noEntry(void*) { std::abort(); }
void BM_Fiber_CreateDestroy(benchmark::State& st) {
  for (auto _ : st) gort::Fiber::Destroy(gort::Fiber::Create(&noEntry, nullptr));
}
BENCHMARK(BM_Fiber_CreateDestroy);

// ---- executor bookkeeping: SimPlatform with trivial threads --------------------------------
// Thread 0 starts T-1 threads; every thread makes K syncPoints; thread 0 then
// yields until the others have exited and calls exitProcess. No runtime, no
// checker, no trace. Chooser: ByteChooser's default policy (as the fuzz target
// runs; a switch only every 64 points), or one that switches at every point.

struct Trivial {
  SimPlatform* sim = nullptr;
  int threads = 1, points = 0, exited = 0;
};
void trivialWorker(void* arg, gort::Fiber*) {
  auto* t = static_cast<Trivial*>(arg);
  for (int i = 0; i < t->points; i++) t->sim->syncPoint(gort::Site::user_shared);
  t->exited++;
}
void trivialMain(void* arg, gort::Fiber*) {
  auto* t = static_cast<Trivial*>(arg);
  for (int i = 1; i < t->threads; i++) t->sim->newosproc(i, &trivialWorker, t);
  for (int i = 0; i < t->points; i++) t->sim->syncPoint(gort::Site::user_shared);
  while (t->exited < t->threads - 1) t->sim->osyield();
  t->sim->exitProcess(0);
}

class RoundRobin final : public Chooser {
 public:
  int chooseThread(const ChoicePoint& cp) override { return nextRunnableAfter(cp.runnable, cp.current < 0 ? 0 : cp.current); }
  bool choosePreempt(uint64_t, int, gort::Site) override { return false; }
};

template <bool kSwitchEveryPoint>
void BM_Sim_Trivial(benchmark::State& st) {
  const int threads = int(st.range(0)), points = int(st.range(1));
  uint64_t steps = 0, a0 = g_allocs;
  for (auto _ : st) {
    ByteChooser def({});
    RoundRobin rr;
    Chooser& c = kSwitchEveryPoint ? static_cast<Chooser&>(rr) : static_cast<Chooser&>(def);
    SimOptions so;
    so.record_trace = false;
    SimPlatform sim(c, so);
    Trivial t;
    t.sim = &sim;
    t.threads = threads;
    t.points = points;
    RunResult r = sim.run(&trivialMain, &t);
    steps += r.steps;
  }
  const double iters = double(st.iterations());
  st.counters["steps"] = iters ? double(steps) / iters : 0;
  st.counters["allocs"] = iters ? double(g_allocs - a0) / iters : 0;
  if (steps > 0)
    st.counters["ns/step"] = benchmark::Counter(double(steps) * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_TEMPLATE(BM_Sim_Trivial, false)->Args({1, 0})->Args({4, 0})->Args({4, 1000})->Args({4, 10000});
BENCHMARK_TEMPLATE(BM_Sim_Trivial, true)->Args({4, 1000})->Args({4, 10000});

// ---- the runtime's fixed cost: an empty program ---------------------------------------
void BM_Exec_Empty(benchmark::State& st) {
  Program p;
  p.scripts.resize(1);
  runLoop(st, {p}, RunConfig{});
}
BENCHMARK(BM_Exec_Empty)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
