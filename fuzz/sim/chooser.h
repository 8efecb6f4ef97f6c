// fuzz/sim/chooser.h — the strategy interface of the deterministic executor.
//
// A Chooser makes the executor's two kinds of decisions, and nothing else:
//  * which thread (M) runs next, at every scheduling point (a SyncPoint, or
//    the running thread blocked, yielded or exited);
//  * whether a preemption request is injected at a PreemptPoint (modelling
//    sysmon's preemptone or an async-preemption signal).
// Byte-stream (libFuzzer), random walk, PCT and replay are all Choosers; new
// strategies plug in without touching the executor. A Chooser must be a pure
// function of its own state and the arguments, so runs are reproducible.
#pragma once
#include <cstdint>
#include <span>

#include "runtime/platform.h"

namespace schedfuzz {

struct ChoicePoint {
  uint64_t step;                 // scheduling points so far in this run
  int current;                   // running thread id, or -1 if it blocked/exited
  std::span<const int> runnable; // runnable thread ids, ascending; never empty
  gort::Site site;               // where the current thread is (last site reached)
};

class Chooser {
 public:
  virtual ~Chooser() = default;
  // Return the thread to run: `current` (if >= 0) to continue, or one of `runnable`.
  virtual int chooseThread(const ChoicePoint& cp) = 0;
  // Inject a preemption request into the goroutine running on `thread` at `site`?
  virtual bool choosePreempt(uint64_t step, int thread, gort::Site site) = 0;
  // A new thread exists (PCT gives it a priority). Ids are dense, from 0.
  virtual void onThreadCreated(int /*thread*/) {}
  // The executor decided this point itself (its fair quiet mode, see
  // SimOptions::quiet_window) and did not call chooseThread: `chosen` runs
  // next. Choosers that remember the running thread update it here. A forced
  // point is not a decision: it consumes no ByteChooser entry, and replaying
  // a recording forces the same points, because the executor's rule is a
  // function of the run alone.
  virtual void onForced(const ChoicePoint& /*cp*/, int /*chosen*/) {}
};

}  // namespace schedfuzz
