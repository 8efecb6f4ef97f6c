// fuzz/detectors.h — invariant checks run at every scheduling point of a sim run.
//
// Two severities:
//  * safety invariants (P accounting: a P in two places or in none;
//    lockedg/lockedm symmetry; stopwait vs. stopped Ps; the thread-taint
//    oracles): a violation ends the run at once as a finding;
//  * liveness precursors (the template-thread invariant of spec §7.5 and the
//    P leaked in transit): a state from which the runtime can only recover if
//    a descheduled goroutine runs again. The first one is recorded and the
//    run goes on: if it then hangs, the finding is the hang and the precursor
//    is its explanation ("cause"); if the run recovers, the precursor is a
//    finding only in strict mode (--strict, SCHEDFUZZ_STRICT=1).
// Each check has a stable kind string, e.g. "P accounting"; the executor
// reports it as "invariant: P accounting".
//
// Incremental checking (runtime/watch.h): every field a check reads is a
// watched type whose stores mark the check families that read it. check()
// runs only the families whose inputs were written since they last ran (a
// family whose check had to wait for sched.lock stays due), plus the
// template-thread and P-in-transit checks whenever a template thread or a
// newmHandoff queue is pending (their inputs include goroutine statuses,
// which change at every switch). checkFull() runs everything; the harness
// runs it when the run ends and before any hang verdict. A skipped family
// would have passed: its inputs are the ones it last passed on. verify
// mode checks that claim at every point by hashing each family's inputs.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "runtime/watch.h"

namespace gort { class Runtime; }

namespace schedfuzz {

struct DetectorOptions {
  bool invariants = true;  // run the checks at all
  bool strict = false;     // liveness precursors are findings by themselves
  bool incremental = true; // check() runs only the families whose inputs changed
  // Test mode: at every check() also hash each family's inputs, and fail with
  // kind "detector: missed write" if a family's inputs changed since it last
  // ran although no watched store marked it (a write the watches missed).
  bool verify_incremental = false;
};

class Detectors {
 public:
  // Installs the dirty word on this OS thread (the one that runs the
  // executor) until destroyed.
  Detectors(const gort::Runtime& rt, DetectorOptions opts) : rt_(rt), opts_(opts), scope_(&dirty_) {}
  // The check at a scheduling point: the families whose inputs changed (all
  // of them if !opts.incremental). Returns false with kind/message on a
  // safety violation (or a precursor in strict mode).
  bool check(uint64_t step, std::string& kind, std::string& message);
  // Every family, whatever changed (the end of a run, before a verdict).
  bool checkFull(uint64_t step, std::string& kind, std::string& message);
  // Families run and skipped by check() so far (for tests and benchmarks).
  uint64_t familiesRun() const { return families_run_; }
  uint64_t familiesSkipped() const { return families_skipped_; }
  // The first liveness precursor seen ("" if none), with its step.
  const std::string& precursor() const { return precursor_; }
  uint64_t precursorStep() const { return precursor_step_; }

 private:
  bool checkPAccounting(std::string& kind, std::string& message, std::string& leak);
  bool checkLocked(std::string& kind, std::string& message);
  bool checkStopwait(std::string& kind, std::string& message);
  bool checkTemplate(std::string& leak);
  bool checkTaint(std::string& kind, std::string& message);
  bool run(uint32_t due, uint64_t step, std::string& kind, std::string& message);
  bool transitPending() const;
  uint64_t hashInputs(uint32_t domain) const;
  const gort::Runtime& rt_;
  DetectorOptions opts_;
  std::atomic<uint32_t> dirty_{gort::kWatchAll};
  gort::WatchScope scope_;
  uint64_t families_run_ = 0, families_skipped_ = 0;
  uint64_t hash_[2] = {};  // verify mode: each family's input hash when it last ran
  std::string precursor_;
  uint64_t precursor_step_ = 0;
};

}  // namespace schedfuzz
