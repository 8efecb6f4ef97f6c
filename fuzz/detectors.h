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
#pragma once
#include <cstdint>
#include <string>

namespace gort { class Runtime; }

namespace schedfuzz {

struct DetectorOptions {
  bool invariants = true;  // run the checks at all
  bool strict = false;     // liveness precursors are findings by themselves
};

class Detectors {
 public:
  Detectors(const gort::Runtime& rt, DetectorOptions opts) : rt_(rt), opts_(opts) {}
  // One check of every invariant. Returns false with kind/message on a
  // safety violation (or a precursor in strict mode).
  bool check(uint64_t step, std::string& kind, std::string& message);
  // The first liveness precursor seen ("" if none), with its step.
  const std::string& precursor() const { return precursor_; }
  uint64_t precursorStep() const { return precursor_step_; }

 private:
  bool checkPAccounting(std::string& kind, std::string& message, std::string& leak);
  bool checkLocked(std::string& kind, std::string& message);
  bool checkStopwait(std::string& kind, std::string& message);
  bool checkTemplate(std::string& leak);
  bool checkTaint(std::string& kind, std::string& message);
  const gort::Runtime& rt_;
  DetectorOptions opts_;
  std::string precursor_;
  uint64_t precursor_step_ = 0;
};

}  // namespace schedfuzz
