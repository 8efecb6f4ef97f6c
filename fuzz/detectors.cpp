// fuzz/detectors.cpp — the invariant checks (see detectors.h and spec §7.5).
#include "fuzz/detectors.h"

#include <cstdio>

#include "runtime/runtime.h"

namespace schedfuzz {

using namespace gort;

namespace {
std::string fmt(const char* f, long long a = 0, long long b = 0, long long c = 0) {
  char buf[256];
  snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}
}  // namespace

bool Detectors::check(uint64_t step, std::string& kind, std::string& message) {
  if (!opts_.invariants) return true;
  if (!opts_.incremental) return run(kWatchAll, step, kind, message);
  const uint32_t due = dirty_.exchange(0, std::memory_order_relaxed);
  if (opts_.verify_incremental) {
    for (uint32_t i = 0; i < 2; i++) {
      const uint32_t d = 1u << i;
      const uint64_t h = hashInputs(d);
      if (!(due & d) && h != hash_[i]) {
        kind = "detector: missed write";
        message = std::string("the inputs of the ") + (d == kWatchP ? "P accounting/stopwait" : "locked/taint") +
                  " checks changed, but no watched store marked them (runtime/watch.h)";
        return false;
      }
      hash_[i] = h;
    }
  }
  return run(due, step, kind, message);
}

bool Detectors::checkFull(uint64_t step, std::string& kind, std::string& message) {
  if (!opts_.invariants) return true;
  dirty_.store(0, std::memory_order_relaxed);
  return run(kWatchAll, step, kind, message);
}

// A template thread or a queued newm is pending: the template-thread and
// P-in-transit checks then run at every point. When neither is, both hold
// whatever the goroutines' statuses: the leak needs an M on newmHandoff.newm,
// and checkTemplate passes without haveTemplateThread or once its thread exists.
bool Detectors::transitPending() const {
  const newmHandoffT& h = rt_.handoff();
  if (h.newm != nullptr) return true;
  if (h.haveTemplateThread.load() == 0) return false;
  const M* tm = h.templateM;
  return !(tm != nullptr && tm->threadCreated);
}

bool Detectors::run(uint32_t due, uint64_t step, std::string& kind, std::string& message) {
  const bool transit = transitPending();
  const bool runP = (due & kWatchP) || transit;
  const bool runLocked = due & kWatchLocked;
  families_run_ += runP + runLocked;
  families_skipped_ += !runP + !runLocked;
  std::string leak;
  if (runP && !checkPAccounting(kind, message, leak)) return false;
  if (runLocked && !checkLocked(kind, message)) return false;
  if (runP && !checkStopwait(kind, message)) return false;
  if (runLocked && !checkTaint(kind, message)) return false;
  // While sched.lock is held, npidle and stopwait may lag their lists and
  // were not compared: the family stays due until they are.
  if (runP && rt_.sched().lock.key.load() != 0) dirty_.fetch_or(kWatchP, std::memory_order_relaxed);
  std::string tmpl;
  if (transit) checkTemplate(tmpl);
  const std::string& pre = !tmpl.empty() ? tmpl : leak;
  if (!pre.empty() && precursor_.empty()) {
    precursor_ = pre;
    precursor_step_ = step;
    if (opts_.strict) {
      kind = !tmpl.empty() ? "template thread" : "P leaked in transit";
      message = pre;
      return false;
    }
  }
  return true;
}

// The inputs of one family, hashed (verify mode only): every field its
// checks read, and the lists they walk.
uint64_t Detectors::hashInputs(uint32_t domain) const {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  };
  auto ptr = [](const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); };
  const schedt& sched = rt_.sched();
  mix(rt_.allms().size());
  mix(rt_.allgs().size());
  mix(rt_.allp().size());
  if (domain == kWatchP) {
    mix(ptr(static_cast<P*>(sched.pidle)));
    mix(static_cast<uint64_t>(sched.npidle.load()));
    mix(sched.gcwaiting.load());
    mix(static_cast<uint64_t>(static_cast<int32_t>(sched.stopwait)));
    for (P* p : rt_.allp()) {
      mix(ptr(p));
      mix(p->status.load());
      mix(ptr(static_cast<P*>(p->link)));
      mix(ptr(static_cast<M*>(p->m)));
      mix(ptr(static_cast<M*>(p->holder)));
    }
    for (M* mp : rt_.allms()) {
      mix(ptr(static_cast<P*>(mp->p)));
      mix(ptr(static_cast<P*>(mp->nextp)));
    }
  } else {
    for (M* mp : rt_.allms()) {
      mix(ptr(static_cast<G*>(mp->lockedg)));
      mix(ptr(static_cast<G*>(mp->taintedRan)));
      mix(static_cast<bool>(mp->clonedFromTainted));
    }
    for (G* gp : rt_.allgs()) {
      mix(gp->atomicstatus.load() == _Gdead);
      mix(ptr(static_cast<M*>(gp->lockedm)));
      mix(static_cast<uint64_t>(static_cast<int>(gp->lockedShadow)));
      mix(ptr(static_cast<M*>(gp->lockedShadowM)));
    }
  }
  return h;
}

// Every P is in exactly one place (spec §7.5): on sched.pidle; owned by an M
// (P.m == M, M.p == P, _Prunning); _Psyscall; _Pgcstop; _Pdead; or in transit
// (_Pidle off the idle list) held by exactly one of: an M's local variable
// (P.holder), an M's nextp, or procresize's reservation (P.m).
bool Detectors::checkPAccounting(std::string& kind, std::string& message, std::string& leak) {
  const schedt& sched = rt_.sched();
  const auto& allp = rt_.allp();
  // Idle list: every entry _Pidle, unowned, listed once; npidle matches.
  int32_t n = 0;
  uint64_t onIdle = 0;
  for (P* p = sched.pidle; p != nullptr; p = p->link) {
    if (++n > kMaxGomaxprocs) {
      kind = "P accounting";
      message = "sched.pidle is cyclic";
      return false;
    }
    if (onIdle & (1ull << p->id)) {
      kind = "P accounting";
      message = fmt("P%lld is on sched.pidle twice", p->id);
      return false;
    }
    onIdle |= 1ull << p->id;
    if (p->status.load() != _Pidle || static_cast<M*>(p->m) != nullptr) {
      kind = "P accounting";
      message = fmt("P%lld is on sched.pidle but is ", p->id) + pstatusName(p->status.load()) +
                (static_cast<M*>(p->m) ? " and owned" : "");
      return false;
    }
  }
  // The lock-free reads of npidle may lag the list only while sched.lock is held.
  if (sched.lock.key.load() == 0 && n != sched.npidle.load()) {
    kind = "P accounting";
    message = fmt("sched.npidle=%lld but sched.pidle holds %lld Ps", sched.npidle.load(), n);
    return false;
  }
  // One pass over the Ms: who names which P as its nextp, and is every
  // M.p backed by the P's owner field?
  M* nextpOf[kMaxGomaxprocs] = {};
  for (M* mp : rt_.allms()) {
    if (P* np = mp->nextp) {
      if (nextpOf[np->id] != nullptr) {
        kind = "P accounting";
        message = fmt("P%lld is the nextp of both M%lld and M%lld", np->id, nextpOf[np->id]->id, mp->id);
        return false;
      }
      nextpOf[np->id] = mp;
    }
    if (P* op = mp->p) {
      uint32_t st = op->status.load();
      // (The stop-the-world owner keeps using its P after marking it _Pgcstop.)
      if (static_cast<M*>(op->m) != mp || (st != _Prunning && st != _Pgcstop)) {
        kind = "P accounting";
        message = fmt("M%lld.p = P%lld but P%lld", mp->id, op->id, op->id) + ".m/status disagree (" +
                  pstatusName(st) + ")";
        return false;
      }
    }
  }
  for (P* p : allp) {
    uint32_t st = p->status.load();
    bool idle = onIdle & (1ull << p->id);
    M* nextp = nextpOf[p->id];
    if (idle && (nextp || p->holder)) {
      kind = "P accounting";
      message = fmt("P%lld is on sched.pidle and also handed to M%lld", p->id, nextp ? nextp->id : p->holder->id);
      return false;
    }
    if (st != _Pidle || idle) continue;
    M* reserved = p->m;
    if (p->holder || reserved || nextp) {
      // In transit. A nextp owner without a thread must be queued for a
      // template thread that exists, or that is being created by a goroutine
      // that cannot be descheduled before newm1 returns (spec §7.5 (d)/(e):
      // the fix's acquirem pins it). A creator that is running but
      // preemptible is not enough: the transfer then depends on a goroutine
      // that can be descheduled (the #38931 window, before it closes).
      if (nextp && !nextp->threadCreated && !p->holder && leak.empty()) {
        const newmHandoffT& h = rt_.handoff();
        bool queued = false;
        for (M* q = h.newm; q != nullptr; q = q->schedlink) queued |= q == nextp;
        M* tm = h.templateM;
        G* cg = h.creatorG;
        const bool creatorRuns = cg != nullptr && (cg->atomicstatus.load() & ~_Gscan) == _Grunning;
        if (queued && !(tm && tm->threadCreated) && !(creatorRuns && h.creatorPinned)) {
          leak = fmt("P%lld is leaked in transit: its only reference is M%lld.nextp, and M%lld waits on "
                     "newmHandoff for a template thread that does not exist",
                     p->id, nextp->id, nextp->id);
          if (cg == nullptr) {
            leak += " and that nobody is creating";
          } else {
            leak += " and whose creator G" + std::to_string(cg->goid) + " (" + gstatusName(cg->atomicstatus.load()) +
                    (creatorRuns ? ", preemptible: no acquirem" : "") + ") can be descheduled before it clones it";
          }
        }
      }
      continue;
    }
    kind = "P accounting";
    message = fmt("P%lld is _Pidle but on no idle list, held by no M, and nobody's nextp", p->id);
    return false;
  }
  return true;
}

// lockedg/lockedm symmetry: m.lockedg == g iff g.lockedm == m.
bool Detectors::checkLocked(std::string& kind, std::string& message) {
  for (M* mp : rt_.allms()) {
    G* gp = mp->lockedg;
    if (gp != nullptr && gp->lockedm != mp) {
      kind = "lockedg/lockedm";
      message = fmt("M%lld.lockedg = G%lld but G%lld.lockedm is ", mp->id, gp->goid, gp->goid) +
                (gp->lockedm ? "M" + std::to_string(gp->lockedm->id) : std::string("nil"));
      return false;
    }
  }
  for (G* gp : rt_.allgs()) {
    M* mp = gp->lockedm;
    if (mp != nullptr && gp->atomicstatus.load() != _Gdead && mp->lockedg != gp) {
      kind = "lockedg/lockedm";
      message = fmt("G%lld.lockedm = M%lld but M%lld.lockedg is ", gp->goid, mp->id, mp->id) +
                (mp->lockedg ? "G" + std::to_string(mp->lockedg->goid) : std::string("nil"));
      return false;
    }
  }
  return true;
}

// The silent bugs of the catalogue (#28979, #20676, #20395, #20458) break no
// protocol invariant; they break the API's promise about thread state:
//  * a thread that user code locked (and did not cleanly unlock) is tainted:
//    no new thread may be cloned from it, and it may run no other goroutine;
//  * while a goroutine's LockOSThread count is above zero it stays wired to
//    the M it locked.
bool Detectors::checkTaint(std::string& kind, std::string& message) {
  for (M* mp : rt_.allms()) {
    if (mp->clonedFromTainted) {
      kind = "thread cloned from a locked thread";
      message = fmt("M%lld's thread was cloned by M%lld, whose thread user code had locked", mp->id,
                    mp->clonedBy ? mp->clonedBy->id : -1);
      return false;
    }
    if (G* other = mp->taintedRan) {
      kind = "locked thread reused";
      message = fmt("M%lld, locked by G%lld, ran G%lld", mp->id, mp->taintedBy ? mp->taintedBy->goid : -1, other->goid);
      return false;
    }
  }
  for (G* gp : rt_.allgs()) {
    if (gp->lockedShadow > 0 && gp->atomicstatus.load() != _Gdead && gp->lockedm != gp->lockedShadowM) {
      kind = "LockOSThread nesting";
      message = fmt("G%lld called LockOSThread %lld more times than UnlockOSThread but is wired to ", gp->goid,
                    gp->lockedShadow) +
                (gp->lockedm ? "M" + std::to_string(gp->lockedm->id) : std::string("no M")) + ", not M" +
                std::to_string(gp->lockedShadowM ? gp->lockedShadowM->id : -1);
      return false;
    }
  }
  return true;
}

// While a stop-the-world is in progress and sched.lock is free, stopwait
// equals the number of Ps not yet _Pgcstop.
bool Detectors::checkStopwait(std::string& kind, std::string& message) {
  const schedt& sched = rt_.sched();
  if (sched.gcwaiting.load() == 0 || sched.lock.key.load() != 0) return true;
  int32_t notStopped = 0;
  for (P* p : rt_.allp()) notStopped += p->status.load() != _Pgcstop;
  if (notStopped != sched.stopwait) {
    kind = "stopwait";
    message = fmt("sched.stopwait=%lld but %lld Ps are not _Pgcstop", static_cast<int32_t>(sched.stopwait), notStopped);
    return false;
  }
  return true;
}

// Spec §7.5: if haveTemplateThread == 1 can be observed, the template thread
// has been created, or is being created by a goroutine that cannot be
// descheduled before newm1 returns. Violated exactly when the goroutine that
// won the CAS was descheduled (pre-fix: preempted) before the clone.
bool Detectors::checkTemplate(std::string& leak) {
  const newmHandoffT& h = rt_.handoff();
  if (h.haveTemplateThread.load() == 0) return true;
  M* tm = h.templateM;
  if (tm != nullptr && tm->threadCreated) return true;
  G* cg = h.creatorG;
  if (cg != nullptr && (cg->atomicstatus.load() & ~_Gscan) == _Grunning) return true;
  leak = "haveTemplateThread=1 but no template thread exists and the goroutine creating it";
  if (cg != nullptr) {
    leak += " (G" + std::to_string(cg->goid) + ") was descheduled (" + gstatusName(cg->atomicstatus.load()) + ")";
    return false;
  }
  // Its newm returned without a clone. Say where the template M is rather
  // than blame a goroutine: queued on newmHandoff (from a locked M), it
  // waits for the template thread, i.e. for itself.
  bool queued = false;
  for (M* q = h.newm; q != nullptr; q = q->schedlink) queued |= q == tm;
  if (tm == nullptr) {
    leak += " returned without allocating it";
  } else if (queued) {
    leak = "haveTemplateThread=1 but the template thread M" + std::to_string(tm->id) +
           " has no thread: it is queued on newmHandoff, which only the template thread drains";
  } else {
    leak += " returned without cloning M" + std::to_string(tm->id);
  }
  return false;
}

}  // namespace schedfuzz
