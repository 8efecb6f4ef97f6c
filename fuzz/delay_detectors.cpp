// fuzz/delay_detectors.cpp — work conservation and stop-the-world latency (see delay_detectors.h).
#include "fuzz/delay_detectors.h"

#include <algorithm>
#include <cstdio>

#include "runtime/runtime.h"

namespace schedfuzz {

using namespace gort;

namespace {

// The readied goroutine first found on a run queue (global list, then each
// P's runnext and ring), or nullptr. Reads the queues without their locks,
// as runqempty does; a queue caught mid-update can only hide a goroutine for
// one point, and the condition must hold for many rounds.
G* readiedOnRunq(const Runtime& rt, P** where) {
  const schedt& sched = rt.sched();
  int n = 0;
  for (G* gp = sched.runqhead; gp != nullptr && n < 100000; gp = gp->schedlink, n++) {
    if (gp->readied && (gp->atomicstatus.load() & ~_Gscan) == _Grunnable) {
      *where = nullptr;
      return gp;
    }
  }
  for (P* pp : rt.allp()) {
    G* next = pp->runnext.load();
    if (next != nullptr && next->readied && (next->atomicstatus.load() & ~_Gscan) == _Grunnable) {
      *where = pp;
      return next;
    }
    const uint32_t h = pp->runqhead.load(), t = pp->runqtail.load();
    for (uint32_t i = h; i != t && i - h < 256; i++) {
      G* gp = pp->runq[i % 256].load();
      if (gp != nullptr && gp->readied && (gp->atomicstatus.load() & ~_Gscan) == _Grunnable) {
        *where = pp;
        return gp;
      }
    }
  }
  return nullptr;
}

}  // namespace

bool DelayDetectors::workNotConserved(std::string& why) const {
  const schedt& sched = rt_.sched();
  // A stop-the-world takes idle Ps on purpose; startTheWorldWithSema calls wakep.
  if (sched.gcwaiting.load() != 0) return false;
  if (sched.npidle.load() <= 0 || sched.nmspinning.load() != 0) return false;
  P* where = nullptr;
  G* gp = readiedOnRunq(rt_, &where);
  if (gp == nullptr) return false;
  P* idle = sched.pidle;
  why = "G" + std::to_string(gp->goid) + " (made runnable by newproc/ready) waits on " +
        (where ? "P" + std::to_string(where->id) + "'s run queue" : std::string("the global run queue")) + " while " +
        (idle ? "P" + std::to_string(idle->id) : std::string("a P")) + " is idle (npidle=" +
        std::to_string(sched.npidle.load()) + ") and no M spins (nmspinning=0)";
  return true;
}

bool DelayDetectors::stwDelayed(std::string& why) const {
  const schedt& sched = rt_.sched();
  if (sched.gcwaiting.load() == 0 || sched.stopwait <= 0) return false;
  for (P* pp : rt_.allp()) {
    if (pp->status.load() != _Prunning) continue;
    M* mp = pp->m;
    if (mp == nullptr) continue;
    G* gp = mp->curg;
    // In user code (not on g0), asked to stop, and free to: nothing but the
    // goroutine's next instruction stands between it and the stop.
    if (gp == nullptr || mp->curctx != gp || !gp->preempt.load()) continue;
    if (mp->locks != 0 || mp->mallocing != 0 || mp->preemptoff[0] != '\0') continue;
    why = "stopwait=" + std::to_string(static_cast<int32_t>(sched.stopwait)) + ": P" + std::to_string(pp->id) +
          " is _Prunning with G" + std::to_string(gp->goid) + " on M" + std::to_string(mp->id) +
          " in user code with a preemption request it could honour (g.preempt=1, locks=0, no preemptoff)";
    return true;
  }
  return false;
}

void DelayDetectors::update(Watch& w, bool holds, const std::string& why, const char* kind, const ChoicePoint& cp,
                            uint32_t bound_rounds, int64_t bound_ns) {
  if (!holds) {
    w.on = false;
    return;
  }
  const int64_t now = plat_.nanotime();
  if (!w.on) {
    w.on = true;
    w.since_round = rounds_;
    w.since_ns = now;
    w.since_step = cp.step;
    return;
  }
  w.max_rounds = std::max(w.max_rounds, rounds_ - w.since_round);
  w.max_ns = std::max(w.max_ns, now - w.since_ns);
  if (!kind_.empty()) return;
  if (rounds_ - w.since_round >= bound_rounds && now - w.since_ns >= bound_ns) {
    char buf[160];
    snprintf(buf, sizeof buf, "; held at every scheduling point since step %llu: %llu fair rounds, %lld us",
             static_cast<unsigned long long>(w.since_step), static_cast<unsigned long long>(rounds_ - w.since_round),
             static_cast<long long>((now - w.since_ns) / 1000));
    kind_ = kind;
    message_ = why + buf;
  }
}

void DelayDetectors::onPoint(const ChoicePoint& cp, int chosen) {
  // Fair rounds.
  auto mark = [this](std::vector<uint8_t>& v, int t) {
    if (t < 0) return;
    if (static_cast<size_t>(t) >= v.size()) {
      seen_.resize(t + 1, 0);
      ran_.resize(t + 1, 0);
    }
    v[static_cast<size_t>(t)] = 1;
  };
  for (int t : cp.runnable) mark(seen_, t);
  mark(seen_, cp.current);
  mark(seen_, chosen);
  mark(ran_, chosen);
  bool done = true;
  for (size_t t = 0; t < seen_.size() && done; t++) done = !seen_[t] || ran_[t];
  if (done) {
    rounds_++;
    std::fill(seen_.begin(), seen_.end(), 0);
    std::fill(ran_.begin(), ran_.end(), 0);
  }
  if (!kind_.empty()) return;
  std::string why;
  const bool wc = workNotConserved(why);
  update(wc_, wc, why, kWorkConservation, cp, opts_.wc_rounds, opts_.wc_ns);
  why.clear();
  const bool stw = stwDelayed(why);
  update(stw_, stw, why, kStwLatency, cp, opts_.stw_rounds, opts_.stw_ns);
}

bool DelayDetectors::check(std::string& kind, std::string& message) const {
  if (kind_.empty()) return true;
  kind = kind_;
  message = message_;
  return false;
}

}  // namespace schedfuzz
