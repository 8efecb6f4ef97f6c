// tests/sim_run.h — a gort program on a fresh deterministic executor, for runtime-level tests.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/cause.h"
#include "fuzz/sim/executor.h"
#include "fuzz/trace.h"
#include "runtime/runtime.h"

namespace schedfuzz {

struct SimRun {
  RunResult result;
  std::vector<TraceEvent> trace;
  std::vector<int> mids;
  // The trace one event per line (formatFlat), for failure messages.
  std::string flat() const { return formatFlat(trace, mids); }
};

// Runs main as gort's main goroutine on a fresh executor (the harness's
// step_ns; dumps and futex names as in fuzz/harness.cpp).
inline SimRun runSim(Chooser& chooser, int gomaxprocs, uint32_t bugs, const std::function<void(gort::Runtime&)>& main,
                     bool sysmon = true, uint64_t budget = 200000) {
  SimOptions so;
  so.step_budget = budget;
  so.step_ns = 1000;  // as in fuzz/harness.cpp
  SimPlatform sim(chooser, so);
  gort::Config cfg;
  cfg.gomaxprocs = gomaxprocs;
  cfg.bugs = bugs;
  cfg.sysmon = sysmon;
  gort::Runtime rt(sim, cfg);
  rt.setMain([&rt, &main] { main(rt); });
  sim.setDumper([&rt] { return rt.dump(); });
  sim.setAddrNamer([&rt](const void* a) { return rt.describeAddr(a); });
  SimRun r;
  r.result = sim.run(&gort::Runtime::m0Entry, &rt);
  r.trace = sim.trace();
  r.mids = sim.mids();
  return r;
}

// A run whose executor and runtime outlive it, so a test can read the final
// state and explain it (fuzz/cause.h) as runProgram does after sim.run.
struct LiveSim {
  std::unique_ptr<SimPlatform> sim;
  std::unique_ptr<gort::Runtime> rt;
  RunResult result;
  std::vector<TraceEvent> trace;
  std::vector<int> mids;

  // Runs main as gort's main goroutine (the harness's step_ns).
  void run(Chooser& chooser, const gort::Config& cfg, std::function<void(gort::Runtime&)> main) {
    main_ = std::move(main);
    SimOptions so;
    so.step_ns = 1000;  // as in fuzz/harness.cpp
    sim = std::make_unique<SimPlatform>(chooser, so);
    rt = std::make_unique<gort::Runtime>(*sim, cfg);
    sim->setDumper([this] { return rt->dump(); });
    sim->setAddrNamer([this](const void* a) { return rt->describeAddr(a); });
    rt->setMain([this] { main_(*rt); });
    result = sim->run(&gort::Runtime::m0Entry, rt.get());
    trace = sim->takeTrace();
    mids = sim->mids();
  }
  Cause explain() const {
    CauseInput ci;
    ci.rt = rt.get();
    ci.result = &result;
    ci.trace = &trace;
    ci.mids = &mids;
    return explainFinding(ci);
  }

 private:
  std::function<void(gort::Runtime&)> main_;
};

// Runtime events `ev` in a trace (with b == `b`, if b >= 0).
inline int countEvents(const std::vector<TraceEvent>& t, gort::Ev ev, int b = -1) {
  int n = 0;
  for (const auto& e : t) n += e.kind == TraceEvent::Kind::kRuntime && e.ev == ev && (b < 0 || e.b == b);
  return n;
}

}  // namespace schedfuzz
