// fuzz/harness.cpp — one execution of a Program, and the finding report.
#include "fuzz/harness.h"

#include <atomic>
#include <cstdlib>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "fuzz/cause.h"
#include "fuzz/signature.h"
#include "fuzz/trace.h"
#include "runtime/fiber.h"

namespace schedfuzz {

namespace {

// sleep(n) and nanosleep(n) block for (n+1) * 20 us of virtual time (20 to
// 320 scheduling points at 1 us each): one to sixteen of sysmon's shortest
// ticks, short enough to end within a run and long enough for sysmon to
// retake the P of a thread blocked in nanosleep.
constexpr int64_t kSleepUnitNs = 20 * 1000;

// What one goroutine script needs while it runs. Lives in the Interp object
// for the whole execution, so script bodies keep no owning locals (a run can
// end at any point and abandon every stack).
//
// The counters and flags are shared by goroutines that may run on different
// Ms, with no lock: user code of the test program, not the runtime under
// test. They are relaxed atomics, as a Go program would use sync/atomic: in
// a ThreadSanitizer build whose executor switches Ms with no-sync (see
// SimOptions::tsan_no_sync) plain ints would be reported as the program's
// own data races. Relaxed is enough: nothing is published through them, and
// each is only ever read or updated whole (its value, not what it guards,
// decides the script's path). The rt/plat/prog pointers are written before
// the run and only read during it.
struct Interp {
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  gort::Runtime* rt = nullptr;
  SimPlatform* plat = nullptr;
  const Program* prog = nullptr;
  gort::Runtime::WaitGroup wg;
  std::atomic<int> started{0};  // goroutines started for scripts (capped by kMaxGoroutines)
  std::atomic<int> live{0};     // started and not finished
  std::atomic<int> waiting{0};  // live goroutines inside a wait op
  std::atomic<bool> flags[16] = {};
  std::atomic<uint32_t> kernelSleep{0};  // nanosleep's futex word (never woken: only time ends the wait)
  // syscallwait's pipe: a generation word its readers sleep on in the kernel
  // (no timeout), bumped and woken when a flag is set or the count of live or
  // waiting goroutines changes, so each reader re-checks whether to give up.
  // pipeReaders counts the sleepers: with none, nothing is woken, so programs
  // without syscallwait make exactly the scheduling points they always made.
  std::atomic<uint32_t> pipeGen{0};
  std::atomic<int> pipeReaders{0};
  void pipeKick() {
    if (pipeReaders.load() == 0) return;
    pipeGen.fetch_add(1);
    plat->futexwakeup(&pipeGen, 1u << 30);
  }

  void runScript(int idx);
  void spawn(int idx) {
    // (Check-then-increment is not one atomic step, but there is no
    // scheduling point between them: the cap holds under the executor.)
    if (started.load(kRelaxed) >= kMaxGoroutines) return;
    started.fetch_add(1, kRelaxed);
    live.fetch_add(1, kRelaxed);
    rt->wgAdd(wg, 1);
    rt->Go([this, idx] { runScript(idx); });
  }
};

void syscallBody(Interp* in, int steps) {
  for (int i = 0; i < steps; i++) in->plat->syncPoint(gort::Site::user_shared);
}

void Interp::runScript(int idx) {
  const Script& s = prog->scripts[static_cast<size_t>(idx)];
  for (const Instr& ins : s.ops) {
    rt->UserCall();  // each op is a call in user code: a synchronous preemption point
    switch (ins.op) {
      case Op::kLock: rt->LockOSThread(); break;
      case Op::kUnlock: rt->UnlockOSThread(); break;
      case Op::kGosched: rt->Gosched(); break;
      case Op::kGo: spawn(ins.arg % static_cast<int>(prog->scripts.size())); break;
      case Op::kNewm: rt->Go([] {}); break;
      case Op::kStw: rt->ReadMemStats(); break;
      case Op::kSyscall: {
        int steps = ins.arg;
        Interp* self = this;
        rt->Syscall([self, steps] { syscallBody(self, steps); });
        break;
      }
      case Op::kSyscallBlock: {
        int steps = ins.arg;
        Interp* self = this;
        rt->SyscallBlock([self, steps] { syscallBody(self, steps); });
        break;
      }
      case Op::kWait: {
        // User code spinning on a flag (the #10958 shape). It stops when the
        // flag is set, when every other live goroutine waits too, or once the
        // runtime has preempted it: a runtime that can preempt a tight loop
        // has shown what the op tests, and a bounded wait keeps programs whose
        // flags nobody sets finite. Without async preemption (the
        // asyncpreemptoff switch) nothing preempts the loop: it spins on.
        waiting++;
        pipeKick();
        const uint32_t preempted = rt->preemptions();
        while (!flags[ins.arg] && waiting < live && rt->preemptions() == preempted) rt->UserStep();
        waiting--;
        break;
      }
      case Op::kSignal:
        plat->syncPoint(gort::Site::user_shared);
        flags[ins.arg].store(true);
        pipeKick();
        break;
      case Op::kSyscallWait: {
        // A blocking read of a pipe that signal(arg) writes (a network wait):
        // the thread sleeps in the kernel, with no timeout, while its P sits
        // in _Psyscall for sysmon (or a stop-the-world) to take. It gives up
        // like wait does, once every other live goroutine waits too, so a
        // program whose flag nobody sets still ends.
        waiting++;
        pipeKick();
        Interp* self = this;
        const int k = ins.arg;
        rt->Syscall([self, k] {
          for (;;) {
            // Registered before the check: a kick after it bumps pipeGen, and
            // futexsleep then returns at once (no lost wakeup).
            self->pipeReaders.fetch_add(1);
            const uint32_t gen = self->pipeGen.load();
            if (self->flags[k].load() || self->waiting.load() >= self->live.load()) {
              self->pipeReaders.fetch_sub(1);
              break;
            }
            self->plat->futexsleep(&self->pipeGen, gen, -1);
            self->pipeReaders.fetch_sub(1);
          }
        });
        waiting--;
        break;
      }
      case Op::kExit:
        live.fetch_sub(1, kRelaxed);
        pipeKick();
        rt->wgDone(wg);
        rt->Goexit();
        return;  // not reached
      case Op::kSpin:
        for (int i = 0; i <= ins.arg; i++) rt->UserStep();
        break;
      case Op::kGomaxprocs: rt->GOMAXPROCS(1 + ins.arg % 4); break;
      case Op::kSleep: rt->Sleep(kSleepUnitNs * (ins.arg + 1)); break;
      case Op::kNanosleep: {
        // A blocking system call: the thread sleeps in the kernel (a futex
        // wait nobody wakes) while its P sits in _Psyscall for sysmon to retake.
        const int64_t ns = kSleepUnitNs * (ins.arg + 1);
        Interp* self = this;
        rt->Syscall([self, ns] { self->plat->futexsleep(&self->kernelSleep, 0, ns); });
        break;
      }
      case Op::kGc: rt->GC(); break;
      case Op::kExec: rt->Exec(); break;  // fails: the process is not replaced
      case Op::kCount: break;
    }
    plat->noteProgress();
  }
  // The script's function returns: one more user instruction (its epilogue),
  // where an async preemption may land after the last op, e.g. a goroutine
  // that locked its thread as its last op is preempted before it exits.
  rt->UserStep();
  live.fetch_sub(1, kRelaxed);
  pipeKick();
  rt->wgDone(wg);
}


}  // namespace

// "0x" followed by at least 8 hex digits, standing alone: an address.
std::string stableDumpAddresses(const std::string& dump) {
  std::vector<std::string> seen;
  std::string out;
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
  auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (size_t i = 0; i < dump.size();) {
    size_t j = i + 2;
    if (dump.compare(i, 2, "0x") == 0 && (i == 0 || !alnum(dump[i - 1]))) {
      while (j < dump.size() && hex(dump[j])) j++;
    }
    if (j - i >= 2 + 8 && (j == dump.size() || !alnum(dump[j]))) {
      std::string addr = dump.substr(i, j - i);
      size_t n = 0;
      while (n < seen.size() && seen[n] != addr) n++;
      if (n == seen.size()) seen.push_back(addr);
      out += "addr#" + std::to_string(n + 1);
      i = j;
    } else {
      out += dump[i++];
    }
  }
  return out;
}

std::string bugList(uint32_t bugs) {
  std::string out;
  for (unsigned i = 0; i < static_cast<unsigned>(gort::Bug::kCount); i++) {
    if (bugs & (1u << i)) {
      if (!out.empty()) out += ",";
      out += gort::bugName(static_cast<gort::Bug>(i));
    }
  }
  return out;
}

Outcome runProgram(const Program& p, Chooser& chooser, const RunConfig& cfg) {
  SimOptions so;
  so.step_budget = cfg.step_budget ? cfg.step_budget : stepBudget(p);
  so.record_trace = cfg.record_trace;
  // One scheduling point stands for 1 us: sysmon's 20 us ticks and 10 ms
  // forced preemption, and stop-the-world's 100 us loop, then happen after
  // tens, thousands and hundreds of points.
  so.step_ns = 1000;
  so.check_at_switches_only = true;
  // Progress is what the program reports (an op completed; noteProgress),
  // not the runtime's wake-ups.
  so.wake_is_progress = false;
  // Strict mode: the delay detectors watch every scheduling point through
  // a chooser that forwards every decision unchanged.
  const bool delays = cfg.detectors.strict && cfg.detectors.invariants;
  DelayWatchingChooser watching(chooser);
  SimPlatform sim(delays ? static_cast<Chooser&>(watching) : chooser, so);
  if (cfg.trace_buffer != nullptr && so.record_trace) sim.setTraceBuffer(std::move(*cfg.trace_buffer));
  gort::Config rc;
  rc.bugs = cfg.bugs;
  rc.gomaxprocs = p.gomaxprocs;
  rc.plant_no_wakep = cfg.plant_no_wakep;
  rc.early_worldsema_release = cfg.early_worldsema_release;
  gort::Runtime rt(sim, rc);
  Detectors det(rt, cfg.detectors);
  if (cfg.on_runtime) cfg.on_runtime(rt);
  DelayDetectors delayDet(rt, sim, cfg.delay);
  if (delays) watching.attach(&delayDet);

  Interp in;
  in.rt = &rt;
  in.plat = &sim;
  in.prog = &p;
  rt.setMain([&in, &p] {
    for (int i = 0; i < static_cast<int>(p.scripts.size()); i++) in.spawn(i);
    in.rt->wgWait(in.wg);
  });
  sim.setChecker([&det, &sim, &delayDet, delays](std::string& kind, std::string& msg) {
    return det.check(sim.step(), kind, msg) && (!delays || delayDet.check(kind, msg));
  });
  sim.setFinalChecker([&det, &sim](std::string& kind, std::string& msg) { return det.checkFull(sim.step(), kind, msg); });
  sim.setDumper([&rt] { return rt.dump(); });
  sim.setAddrNamer([&rt](const void* a) { return rt.describeAddr(a); });

  Outcome o;
  o.result = sim.run(&gort::Runtime::m0Entry, &rt);
  o.precursor = det.precursor();
  o.families_checked = det.familiesRun();
  o.families_skipped = det.familiesSkipped();
  o.max_work_conservation_rounds = delayDet.maxWorkConservationRounds();
  o.max_stw_latency_rounds = delayDet.maxStwLatencyRounds();
  o.max_work_conservation_ns = delayDet.maxWorkConservationNs();
  o.precursor_step = det.precursorStep();
  o.trace = sim.takeTrace();
  o.mids = sim.mids();
  // The executor's dump prints futex addresses; a report must be the same
  // bytes on every run, so they become addr#1, addr#2, ... in order of
  // first appearance (as schedfuzz-replay's stableAddresses does).
  o.result.dump = stableDumpAddresses(o.result.dump);
  // rt is still alive: the cause is read from the state the run left.
  if (o.finding() || (cfg.detectors.strict && !o.precursor.empty())) {
    CauseInput ci;
    ci.rt = &rt;
    ci.result = &o.result;
    ci.trace = &o.trace;
    ci.mids = &o.mids;
    ci.precursor = o.precursor;
    ci.precursor_step = o.precursor_step;
    ci.strict = cfg.detectors.strict;
    const Cause c = explainFinding(ci);
    o.cause = c.text;
    o.signature = signatureOf(c);
  }
  return o;
}

std::string causeLines(const Outcome& o) {
  std::string out;
  if (!o.cause.empty()) out += "  cause:   " + o.cause + "\n";
  if (!o.signature.empty()) out += "  signature: " + o.signature + "\n";
  return out;
}

std::string formatReport(const Program& p, const Outcome& o, const RunConfig& cfg, const ReportOptions& ro) {
  std::string out;
  out += "==schedfuzz== FINDING: " + o.result.kind + "\n";
  out += "  message: " + o.result.message + "\n";
  out += "  bugs:    " + (cfg.bugs ? bugList(cfg.bugs) : std::string("none (fixed runtime)")) + "\n";
  out += causeLines(o);
  out += "  steps:   " + std::to_string(o.result.steps) + ", virtual time " +
         std::to_string(o.result.vtime / 1000) + " us\n";
  out += "\n-- program --\n" + toText(p);
  ColumnOptions co;
  co.max_rows = ro.full_trace ? 0 : ro.max_trace_rows;
  co.compress_repeats = true;
  out += "\n-- trace (one column per M; read down) --\n" + formatColumns(o.trace, o.mids, co);
  out += "\n-- state --\n" + o.result.dump;
  std::string env = cfg.bugs ? "SCHEDFUZZ_BUGS=" + bugList(cfg.bugs) + " " : std::string();
  if (cfg.detectors.strict) env += "SCHEDFUZZ_STRICT=1 ";
  out += "\n-- replay --\n  " + env + "schedfuzz-replay " + (ro.input_path.empty() ? "<input>" : ro.input_path) + "\n";
  return out;
}

namespace {
// The protocol events whose cross-M order is worth rewarding. Bookkeeping
// events (execute, acquirep, newproc, ...) are left out: they differ between
// almost any two runs and would flood the corpus with schedules that differ
// in nothing that matters.
bool protocolEvent(gort::Ev e) {
  switch (e) {
    case gort::Ev::template_cas:
    case gort::Ev::template_skip:
    case gort::Ev::newm_queued:
    case gort::Ev::newm_clone:
    case gort::Ev::handoffp:
    case gort::Ev::startm:
    case gort::Ev::stoplockedm:
    case gort::Ev::startlockedm:
    case gort::Ev::gcstopm:
    case gort::Ev::pgcstop:
    case gort::Ev::stw_start:
    case gort::Ev::stw_wait:
    case gort::Ev::stw_done:
    case gort::Ev::preempted:
    case gort::Ev::lockosthread:
    case gort::Ev::unlockosthread:
    case gort::Ev::entersyscall:
    case gort::Ev::exitsyscall:
    case gort::Ev::mexit:
    case gort::Ev::gosched:
      return true;
    default:
      return false;
  }
}
}  // namespace

// Features (libFuzzer extra counters): a pair (protocol event A, protocol
// event B) where B is the next protocol event after A and runs on another M or
// for another goroutine. Goroutine-level pairs matter as much as M-level ones:
// in golang/go#38931 the whole race happens on one M (G3 preempted in newm,
// then G2 locks and exits there), so M-level pairs alone never see it. A
// preemption is keyed by the site it landed on (in newm's prologue is not at a
// user call) and handoffp by its case. Counters saturate at 1: a pair either
// happened or not; how often it happened measures the schedule's length (with
// counts, libFuzzer makes a feature of each bucket 1, 2, 3, 4-7, ..., and
// about a quarter of all executions became corpus inputs). Injected
// preemption requests are not events here (the walk injects many that have no
// effect); the preemption they cause is.
void interleavingFeatures(const Outcome& o, uint8_t* counters, size_t n) {
  if (n == 0) return;
  constexpr int kThreads = 64;  // per-M goroutine tracking; threads beyond share slots (a hash, not a check)
  int curG[kThreads];
  for (int& g : curG) g = -1;
  int prevThread = -1, prevG = -1;
  unsigned prevEv = 0;
  for (const TraceEvent& e : o.trace) {
    if (e.kind != TraceEvent::Kind::kRuntime) continue;
    const int slot = e.thread & (kThreads - 1);
    if (e.ev == gort::Ev::execute) {
      curG[slot] = e.a;  // the goroutine this M runs from now on
      continue;
    }
    if (!protocolEvent(e.ev)) continue;
    unsigned ev = 16 + static_cast<unsigned>(e.ev);
    if (e.ev == gort::Ev::handoffp) ev = 200 + static_cast<unsigned>(e.b);   // which case
    if (e.ev == gort::Ev::preempted) ev = 300 + static_cast<unsigned>(e.b);  // at which site
    const int g = curG[slot];
    if (prevThread >= 0 && (e.thread != prevThread || g != prevG)) {
      size_t h = (prevEv * 2654435761u) ^ (ev * 40503u);
      counters[h % n] = 1;
    }
    prevThread = e.thread;
    prevG = g;
    prevEv = ev;
  }
  // Verdict and precursor kinds are features too.
  counters[(977u * (static_cast<unsigned>(o.result.verdict) + 1)) % n] = 1;
  if (!o.precursor.empty()) counters[(1931u) % n] = 1;
}

bool configFromEnv(RunConfig& cfg, std::string& error) {
  if (const char* b = std::getenv("SCHEDFUZZ_BUGS")) {
    std::string err;
    if (!gort::parseBugs(b, cfg.bugs, err)) {
      error = "SCHEDFUZZ_BUGS: " + err;
      return false;
    }
  }
  // Boolean variables: 1/0, true/false, yes/no, on/off in any case; unset or
  // empty leaves the default. Anything else is an error, never a guess: a
  // typo must not silently turn a check off.
  auto boolEnv = [&error](const char* name, bool& value) {
    const char* s = std::getenv(name);
    if (s == nullptr || *s == '\0') return true;
    std::string v;
    for (const char* c = s; *c; c++) v += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      value = true;
    } else if (v == "0" || v == "false" || v == "no" || v == "off") {
      value = false;
    } else {
      std::string shown;
      for (const char* c = s; *c && shown.size() < 40; c++) {
        const unsigned char ch = static_cast<unsigned char>(*c);
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
          shown += static_cast<char>(ch);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", ch);
          shown += buf;
        }
      }
      if (std::strlen(s) > 40) shown += "...";
      error = std::string(name) + "='" + shown + "': expected 1, 0, true, false, yes, no, on or off (or empty for unset)";
      return false;
    }
    return true;
  };
  bool strict = cfg.detectors.strict, no_invariants = !cfg.detectors.invariants;
  bool full_checks = !cfg.detectors.incremental;
  if (!boolEnv("SCHEDFUZZ_STRICT", strict) || !boolEnv("SCHEDFUZZ_NO_INVARIANTS", no_invariants) ||
      !boolEnv("SCHEDFUZZ_FULL_CHECKS", full_checks))
    return false;
  cfg.detectors.strict = strict;
  cfg.detectors.invariants = !no_invariants;
  cfg.detectors.incremental = !full_checks;
  return true;
}

}  // namespace schedfuzz
