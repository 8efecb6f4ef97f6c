// fuzz/cause.h — the culprit state behind a finding, read from the runtime when the run ends.
//
// Every finding gets one `cause:` line and a stable signature (class/culprit,
// fuzz/signature.h). Both are computed after SimPlatform::run returns, from
// what is still alive then: the gort::Runtime (every M, P, G and the
// newmHandoff queue as the run left them), the executor's RunResult (its
// verdict, message and the per-thread lines of its dump: which futex each
// thread sleeps on, at which site), the trace (where a goroutine was last
// preempted) and the detectors' first liveness precursor.
//
// What the cause names, by class:
//  * stall / livelock / budget with a stop-the-world in progress: every P not
//    yet _Pgcstop, its status, who holds it (an M, the nextp of an M, nobody)
//    and what that holder waits for;
//  * stall or deadlock with an execLock writer waiting (rwmutex.go): the
//    writer, its P, the goroutines or Ms holding the read lock (one that lost
//    its P inside newm1 is the #20903 culprit) and who holds every P;
//  * stall without one: the P leaked in transit, or the threads in timed waits;
//  * livelock / budget: the goroutines that kept running (curg of runnable
//    Ms), on which P, their g.preempt flag and sysmon's state;
//  * deadlock: the wait-for chain: each blocked M, the futex it sleeps on
//    (note or mutex) and who could wake it;
//  * throw: the message, the function that threw, and for checkdead the M
//    that holds a P while checkdead counts no running M;
//  * oracle: the tainted M or goroutine, who locked it, its lockedExt, and
//    the event that broke the promise (the clone, the execute, the unlock);
//  * invariant / precursor: the check, its message (the field) and the last
//    runtime transition before it broke.
// Each explainer also returns the culprit token of the signature. Texts hold
// ids (M3, P0, G2), statuses and site names only, never addresses: the same
// input gives the same bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/sim/executor.h"

namespace gort { class Runtime; }

namespace schedfuzz {

struct Cause {
  std::string text;     // the cause line, without the "cause:" label
  std::string cls;      // the finding's class: deadlock, stall, livelock, budget, throw, invariant, oracle, precursor
  std::string culprit;  // the signature's culprit, e.g. "P-in-transit"; never empty for a finding
};

struct CauseInput {
  const gort::Runtime* rt = nullptr;
  const RunResult* result = nullptr;
  const std::vector<TraceEvent>* trace = nullptr;  // may be empty (record_trace off)
  const std::vector<int>* mids = nullptr;
  std::string precursor;     // the detectors' first precursor, "" if none
  uint64_t precursor_step = 0;
  bool strict = false;       // a precursor alone is a finding
};

// The cause of the finding in `in` ({} if the run is ok and no strict precursor).
Cause explainFinding(const CauseInput& in);

// The finding's class from its verdict and kind (the kind string decides for
// kinds the Verdict enum may not name yet, e.g. "hang: livelock").
std::string findingClass(const RunResult& r, bool precursor_only);

}  // namespace schedfuzz
