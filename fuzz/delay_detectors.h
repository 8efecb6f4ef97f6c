// fuzz/delay_detectors.h — harm that is a delay, not a hang: work conservation and stop-the-world latency.
//
// The executor's verdicts prove hangs; the invariants of detectors.h catch
// broken states. Neither sees a runtime that is merely slow where Go promises
// to be prompt. Two such promises of Go 1.14, checked in strict mode only
// (--strict, SCHEDFUZZ_STRICT=1):
//
//  * work conservation (proc.go's header, "Worker thread parking/unparking":
//    "we unpark an additional thread when we ready a goroutine if (1) there
//    is an idle P and there are no "spinning" worker threads"; the dance of
//    findrunnable's nmspinning decrement and re-check, go1.14.1 proc.go
//    2251-2287, keeps it under races). The violation: a goroutine that
//    newproc1 or ready made runnable (G.readied) waits on a run queue while a
//    P is idle and no M spins. Go's own regressions of this property are
//    golang/go#45867 (CL 310850 broke the re-check; an idle P beside a
//    runnable goroutine, seen in core files) and the latencies of #60693.
//    Goroutines re-queued by Gosched or a preemption are not covered: Go
//    1.14 wakes nobody for them (goschedImpl, gopreempt_m), and neither does
//    gort.
//  * stop-the-world latency beyond what preemptibility justifies: a
//    stop-the-world waits (gcwaiting, stopwait > 0) while a P it waits for is
//    _Prunning with a goroutine in user code that has a preemption request
//    it could honour (g.preempt set, m.locks == 0, no m.preemptoff, not
//    mallocing). Go 1.14 honours such a request at the goroutine's next
//    instruction (async preemption, preempt.go) or prologue; a goroutine in
//    runtime code, holding locks, or in a syscall (whose P stop-the-world
//    takes by CAS) justifies the wait and is not counted.
//
// "Beyond a bound" is measured in fair rounds, not in time alone: the
// executor's chooser may starve any thread (an OS may), and a starved M that
// is about to call wakep, or to reach its next preemption point, explains
// any delay. A fair round ends when every thread that was runnable at some
// point of the round has run at least once since it began. A condition is a
// finding once it has held at every scheduling point for a number of fair
// rounds and of virtual time (DelayOptions): by then every M that could end
// it had that many turns and did not, and Go's own time-driven recovery
// (sysmon) had its chance.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/sim/chooser.h"

namespace gort { class Runtime; class Platform; }

namespace schedfuzz {

// The bounds: a condition is a finding once it has held for this many fair
// rounds and this much virtual time (both).
struct DelayOptions {
  // Work conservation. Go 1.14 itself leaves a readied goroutine behind an
  // idle P in one race: handoffp reads "a spinning M exists, our help is not
  // required" (case 3), the spinner then finds other work and resetspinning
  // sees npidle == 0 (the handed-off P is not idle yet), and only then does
  // handoffp pidleput the P. The goroutine waits until its P's owner
  // schedules (sysmon preempts it after forcePreemptNS = 10 ms) or, if that
  // P is in a syscall, until sysmon retakes it (its tick: at most 10 ms).
  // Random programs find this in the fixed runtime (up to 75 fair rounds,
  // sched alphabet), so the rounds alone are no bound here; the time is:
  // Go's own recovery, 20 ms, times five for the executor's quiet mode,
  // which compresses time by jumping it forward.
  uint32_t wc_rounds = 32;
  int64_t wc_ns = 100'000'000;
  // Stop-the-world latency: a goroutine with an honourable request stops at
  // its next user step, so a few rounds suffice; 100 us is one turn of the
  // stop-the-world loop (notetsleep 100 us, then preemptall again).
  uint32_t stw_rounds = 32;
  int64_t stw_ns = 100'000;
};

class DelayDetectors {
 public:
  DelayDetectors(const gort::Runtime& rt, gort::Platform& plat, DelayOptions opts = {})
      : rt_(rt), plat_(plat), opts_(opts) {}
  // Every scheduling point: the point and the thread that runs next.
  void onPoint(const ChoicePoint& cp, int chosen);
  // At the executor's checks: false with kind/message once a delay is a finding.
  bool check(std::string& kind, std::string& message) const;
  uint64_t rounds() const { return rounds_; }
  // The most fair rounds each condition has held in one stretch so far (a
  // measure of how close a run came to a finding; soak statistics).
  uint64_t maxWorkConservationRounds() const { return wc_.max_rounds; }
  uint64_t maxStwLatencyRounds() const { return stw_.max_rounds; }
  int64_t maxWorkConservationNs() const { return wc_.max_ns; }

  // The kinds (the executor reports "invariant: <kind>").
  static constexpr const char* kWorkConservation = "work conservation";
  static constexpr const char* kStwLatency = "stop-the-world latency";

 private:
  struct Watch {
    bool on = false;
    uint64_t since_round = 0;
    int64_t since_ns = 0;
    uint64_t since_step = 0;
    uint64_t max_rounds = 0;
    int64_t max_ns = 0;
  };
  // Each predicate: true with `why` (one line naming ids) when the condition holds.
  bool workNotConserved(std::string& why) const;
  bool stwDelayed(std::string& why) const;
  void update(Watch& w, bool holds, const std::string& why, const char* kind, const ChoicePoint& cp,
              uint32_t bound_rounds, int64_t bound_ns);

  const gort::Runtime& rt_;
  gort::Platform& plat_;
  DelayOptions opts_;
  // Fair rounds: seen_ = runnable at some point of this round, ran_ = chosen since it began.
  std::vector<uint8_t> seen_, ran_;
  uint64_t rounds_ = 0;
  Watch wc_, stw_;
  std::string kind_, message_;  // the first finding
};

// A Chooser that asks `inner` and reports every point to `det` (strict mode
// wraps the run's chooser in it). Decisions are inner's, unchanged.
class DelayWatchingChooser final : public Chooser {
 public:
  explicit DelayWatchingChooser(Chooser& inner) : inner_(inner) {}
  void attach(DelayDetectors* det) { det_ = det; }
  int chooseThread(const ChoicePoint& cp) override {
    const int t = inner_.chooseThread(cp);
    if (det_) det_->onPoint(cp, t);
    return t;
  }
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override {
    return inner_.choosePreempt(step, thread, site);
  }
  void onThreadCreated(int thread) override { inner_.onThreadCreated(thread); }
  void onForced(const ChoicePoint& cp, int chosen) override {
    inner_.onForced(cp, chosen);
    if (det_) det_->onPoint(cp, chosen);
  }

 private:
  Chooser& inner_;
  DelayDetectors* det_ = nullptr;
};

}  // namespace schedfuzz
