// runtime/stw.cpp — stop-the-world, GOMAXPROCS, ReadMemStats, worldsema, syscalls, throw.
//
// Follows Go 1.14 src/runtime/proc.go (stopTheWorld*, startTheWorld*, entersyscall*,
//   exitsyscall*), mstats.go (ReadMemStats), debug.go (GOMAXPROCS), sema.go
//   (worldsema), panic.go (throw).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
#include <cstdlib>

#include "runtime/runtime.h"

namespace gort {

namespace {
constexpr int32_t freezeStopWait = 0x7fffffff;
}

void Runtime::throw_(const char* s) {
  plat_.fatal("throw", s);
  std::abort();  // Platform::fatal never returns
}

// worldsema (sema.go, reduced to the one semaphore gort needs): a count of
// one; waiters park in FIFO order and are handed the semaphore directly on
// release. (Go's semrelease lets a woken waiter race with a new acquirer; the
// direct hand-off is one of the interleavings Go allows, and cannot hide a bug
// in the scheduler protocol under test, which only needs mutual exclusion of
// world stoppers.)
void Runtime::semacquireWorld() {
  lock(&worldsemaLock_);
  if (worldsema_ > 0) {
    worldsema_--;
    unlock(&worldsemaLock_);
    return;
  }
  G* gp = getg();
  gp->schedlink = nullptr;
  if (worldsemaTail_) worldsemaTail_->schedlink = gp;
  else worldsemaHead_ = gp;
  worldsemaTail_ = gp;
  goparkunlock(&worldsemaLock_, "semacquire");
  // Woken by semreleaseWorld, which handed us the semaphore. semacquire1
  // then calls releaseSudog (sema.go 152), which is not nosplit: its
  // prologue is a preemption point (proc.go 358), before stopTheWorld sets
  // m.preemptoff.
  PreemptPoint(Site::releaseSudog_prologue);
}

bool Runtime::semreleaseWorld() {
  lock(&worldsemaLock_);
  G* gp = worldsemaHead_;
  if (gp != nullptr) {
    worldsemaHead_ = gp->schedlink;
    if (worldsemaHead_ == nullptr) worldsemaTail_ = nullptr;
    gp->schedlink = nullptr;
    unlock(&worldsemaLock_);
    goready(gp);
    return true;
  }
  worldsema_++;
  unlock(&worldsemaLock_);
  return false;
}

// stopTheWorld stops all P's from executing goroutines, interrupting all
// goroutines at GC safe points and records reason as the reason for the
// stop. On return, only the current goroutine's P is running. stopTheWorld
// must not be called from a system stack and the caller must not hold
// worldsema. The caller must call startTheWorld when other P's should resume
// execution.
void Runtime::stopTheWorld(const char* reason) {
  PreemptPoint(Site::stopTheWorld_prologue);
  semacquireWorld();
  getm()->preemptoff = reason;
  systemstack([this] { stopTheWorldWithSema(); });
}

// startTheWorld undoes the effects of stopTheWorld.
void Runtime::startTheWorld() {
  PreemptPoint(Site::startTheWorld_prologue);
  if (cfg_.early_worldsema_release) {
    // Before the fix of #10618 (see Config::early_worldsema_release).
    event(Ev::worldsema_early_release, semreleaseWorld());
    systemstack([this] { startTheWorldWithSema(); });
    getm()->preemptoff = "";
    return;
  }
  systemstack([this] { startTheWorldWithSema(); });
  // worldsema must be held over startTheWorldWithSema to ensure gomaxprocs
  // cannot change while worldsema is held.
  semreleaseWorld();
  getm()->preemptoff = "";
}

// stopTheWorldWithSema is the core implementation of stopTheWorld. The
// caller is responsible for acquiring worldsema and disabling preemption
// first and then should stopTheWorldWithSema on the system stack.
void Runtime::stopTheWorldWithSema() {
  M* _g_m = getm();
  // If we hold a lock, then we won't be able to stop another M that is
  // blocked trying to acquire the lock.
  if (_g_m->locks > 0) throw_("stopTheWorld: holding locks");

  lock(&sched_.lock);
  sched_.stopwait = gomaxprocs_;
  sched_.gcwaiting.store(1);
  preemptall();
  // stop current P
  _g_m->p->status = _Pgcstop;  // Pgcstop is only diagnostic.
  sched_.stopwait--;
  // try to retake all P's in Psyscall status
  for (P* p : allp_) {
    uint32_t s = p->status.load();
    SyncPoint(Site::pstatus_cas);
    if (s == _Psyscall && p->status.compare_exchange_strong(s, _Pgcstop)) {
      p->syscalltick++;
      sched_.stopwait--;
    }
  }
  // stop idle P's
  for (;;) {
    P* p = pidleget();
    if (p == nullptr) break;
    p->status = _Pgcstop;
    sched_.stopwait--;
  }
  bool wait = sched_.stopwait > 0;
  event(Ev::stw_start, sched_.stopwait);
  unlock(&sched_.lock);

  // wait for remaining P's to stop voluntarily
  if (wait) {
    for (;;) {
      // wait for 100us, then try to re-preempt in case of any races
      if (notetsleep(&sched_.stopnote, 100 * 1000)) {
        noteclear(&sched_.stopnote);
        break;
      }
      event(Ev::stw_wait, sched_.stopwait);
      preemptall();
    }
  }

  // sanity checks
  const char* bad = nullptr;
  if (sched_.stopwait != 0) {
    bad = "stopTheWorld: not stopped (stopwait != 0)";
  } else {
    for (P* p : allp_) {
      if (p->status.load() != _Pgcstop) bad = "stopTheWorld: not stopped (status != _Pgcstop)";
    }
  }
  if (bad != nullptr) throw_(bad);
  event(Ev::stw_done);
}

void Runtime::startTheWorldWithSema() {
  M* mp = acquirem();  // disable preemption because it can be holding p in a local var
  // (netpoll: gort has no network poller.)
  lock(&sched_.lock);
  int32_t procs = gomaxprocs_;
  if (newprocs_ != 0) {
    procs = newprocs_;
    newprocs_ = 0;
  }
  P* p1 = procresize(procs);
  sched_.gcwaiting.store(0);
  if (sched_.sysmonwait.load() != 0) {
    sched_.sysmonwait.store(0);
    notewakeup(&sched_.sysmonnote);
  }
  unlock(&sched_.lock);
  event(Ev::starttheworld);

  while (p1 != nullptr) {
    P* p = p1;
    p1 = p1->link;
    if (p->m != nullptr) {
      M* mp2 = p->m;
      p->m = nullptr;
      if (mp2->nextp != nullptr) throw_("startTheWorld: inconsistent mp->nextp");
      mp2->nextp = p;
      p->holder = nullptr;
      notewakeup(&mp2->park);
    } else {
      // Start M to run P.  Do not start another M below.
      newm(nullptr, p, -1);
    }
  }
  // Wakeup an additional proc in case we have excessive runnable goroutines
  // in local queues or in the global queue. If we don't, the proc will park
  // itself. If we have lots of excessive work, resetspinning will unpark
  // additional procs as necessary.
  if (sched_.npidle.load() != 0 && sched_.nmspinning.load() == 0) wakep();
  releasem(mp);
}

// ReadMemStats (mstats.go): stop the world, read, start the world.
void Runtime::ReadMemStats() {
  PreemptPoint(Site::ReadMemStats_prologue);
  stopTheWorld("read mem stats");
  systemstack([] { /* readmemstats_m: nothing to read in gort */ });
  startTheWorld();
}

// The GC's ragged barrier (see runtime.h). Go 1.14's GC holds worldsema
// from gcStart (mgc.go 1272) to the end of gcMarkTermination (1791), and
// runs forEachP under it while the world runs (gcMarkDone 1448,
// gcMarkTermination 1746); work.maxprocs = gomaxprocs (1303) is read under
// it too. The fn only counts (P.safePointRuns): the barrier's own
// protocol is what is under test.
int Runtime::GC() {
  PreemptPoint(Site::GC_prologue);
  semacquireWorld();
  const int maxprocs = gomaxprocs_;
  event(Ev::gc_maxprocs, maxprocs);
  systemstack([this] {
    forEachP([](Runtime*, P* p) { p->safePointRuns++; });
  });
  semreleaseWorld();
  return maxprocs;
}

// GOMAXPROCS (debug.go) sets the maximum number of CPUs that can be
// executing simultaneously and returns the previous setting. If n < 1, it
// does not change the current setting.
int Runtime::GOMAXPROCS(int n) {
  PreemptPoint(Site::GOMAXPROCS_prologue);
  if (n > kMaxGomaxprocs) n = kMaxGomaxprocs;
  lock(&sched_.lock);
  int ret = gomaxprocs_;
  unlock(&sched_.lock);
  if (n <= 0 || n == ret) return ret;
  stopTheWorld("GOMAXPROCS");
  // newprocs will be processed by startTheWorld
  newprocs_ = n;
  startTheWorld();
  return ret;
}

// ---------------------------------------------------------------------------
// System calls.

// The goroutine g is about to enter a system call. Record that it's not
// using the cpu anymore. (reentersyscall; nosplit.) Entersyscall cannot
// split the stack: it poisons stackguard0 and sets throwsplit, so any
// prologue inside the bracket throws instead of preempting.
void Runtime::entersyscall() {
  M* _g_m = getm();
  G* _g_ = getg();
  // Disable preemption because during this function g is in Gsyscall
  // status, but can have inconsistent g->sched, do not let GC observe it.
  _g_m->locks++;
  _g_->stackguardPreempt = true;
  _g_->throwsplit = true;
  casgstatus(_g_, _Grunning, _Gsyscall);
  event(Ev::entersyscall, static_cast<int>(_g_->goid));
  if (sched_.sysmonwait.load() != 0) systemstack([this] { entersyscall_sysmon(); });
  if (_g_m->p->runSafePointFn.load() != 0) {
    // runSafePointFn may stack split if run on this stack (proc.go 2952-2956)
    systemstack([this] { runSafePointFn(4); });
  }
  P* pp = _g_m->p;
  _g_m->syscalltick = pp->syscalltick.load();
  pp->m = nullptr;
  _g_m->oldp = pp;
  _g_m->p = nullptr;
  SyncPoint(Site::pstatus_store);
  pp->status.store(_Psyscall);
  if (sched_.gcwaiting.load() != 0) systemstack([this] { entersyscall_gcwait(); });
  _g_m->locks--;
}

void Runtime::entersyscall_sysmon() {
  lock(&sched_.lock);
  if (sched_.sysmonwait.load() != 0) {
    sched_.sysmonwait.store(0);
    notewakeup(&sched_.sysmonnote);
  }
  unlock(&sched_.lock);
}

void Runtime::entersyscall_gcwait() {
  M* _g_m = getm();
  P* _p_ = _g_m->oldp;
  lock(&sched_.lock);
  uint32_t s = _Psyscall;
  if (sched_.stopwait > 0 && _p_->status.compare_exchange_strong(s, _Pgcstop)) {
    _p_->syscalltick++;
    if (--sched_.stopwait == 0) notewakeup(&sched_.stopnote);
  }
  unlock(&sched_.lock);
}

// The same as entersyscall(), but with a hint that the syscall is blocking:
// the P is handed off at once.
void Runtime::entersyscallblock() {
  M* _g_m = getm();
  G* _g_ = getg();
  _g_m->locks++;  // see comment in entersyscall
  _g_->throwsplit = true;
  _g_->stackguardPreempt = true;
  P* pp = _g_m->p;
  _g_m->syscalltick = pp->syscalltick.load();
  pp->syscalltick++;
  casgstatus(_g_, _Grunning, _Gsyscall);
  event(Ev::entersyscall, static_cast<int>(_g_->goid));
  systemstack([this] { handoffp(releasep()); });  // entersyscallblock_handoff
  _g_m->locks--;
}

// The goroutine g exited its system call. Arrange for it to run on a cpu
// again. (nosplit)
void Runtime::exitsyscall() {
  M* _g_m = getm();
  G* _g_ = getg();
  _g_m->locks++;  // see comment in entersyscall
  P* oldp = _g_m->oldp;
  _g_m->oldp = nullptr;
  if (exitsyscallfast(oldp)) {
    getm()->p->syscalltick++;
    // We need to cas the status and scan before resuming...
    casgstatus(_g_, _Gsyscall, _Grunning);
    event(Ev::exitsyscall, static_cast<int>(_g_->goid), 1);
    _g_m->locks--;
    if (_g_->preempt) {
      // restore the preemption request in case we've cleared it in newstack
      _g_->stackguardPreempt = true;
    } else {
      // otherwise restore the real _StackGuard, we've spoiled it in entersyscall/entersyscallblock
      _g_->stackguardPreempt = false;
    }
    _g_->throwsplit = false;
    return;
  }
  _g_m->locks--;
  // Call the scheduler.
  mcall(&Runtime::exitsyscall0);
  // Scheduler returned, so we're allowed to run now (possibly on another M).
  G* gp = getg();
  gp->throwsplit = false;
  getm()->p->syscalltick++;
}

bool Runtime::exitsyscallfast(P* oldp) {
  M* _g_m = getm();
  // Freezetheworld sets stopwait but does not retake P's.
  if (sched_.stopwait == freezeStopWait) return false;
  // Try to re-acquire the last P.
  SyncPoint(Site::pstatus_cas);
  uint32_t s = _Psyscall;
  if (oldp != nullptr && oldp->status.load() == _Psyscall && oldp->status.compare_exchange_strong(s, _Pidle)) {
    // There's a cpu for us, so we can run.
    oldp->holder = _g_m;
    wirep(oldp);
    return true;
  }
  // Try to get any other idle P.
  if (sched_.pidle != nullptr) {
    bool ok = false;
    systemstack([&] { ok = exitsyscallfast_pidle(); });
    if (ok) return true;
  }
  return false;
}

bool Runtime::exitsyscallfast_pidle() {
  M* _g_m = getm();
  lock(&sched_.lock);
  P* _p_ = pidleget();
  if (_p_ != nullptr) _p_->holder = _g_m;
  if (_p_ != nullptr && sched_.sysmonwait.load() != 0) {
    sched_.sysmonwait.store(0);
    notewakeup(&sched_.sysmonnote);
  }
  unlock(&sched_.lock);
  if (_p_ != nullptr) {
    acquirep(_p_);
    return true;
  }
  return false;
}

// exitsyscall slow path on g0. Failed to acquire P, enqueue gp as runnable.
G* Runtime::exitsyscall0(G* gp) {
  M* _g_m = getm();
  // Read before globrunqput: from then on another M may run gp, and it may
  // exit and be reused before this M reaches the event below.
  const int goid = static_cast<int>(gp->goid);
  casgstatus(gp, _Gsyscall, _Grunnable);
  dropg();
  lock(&sched_.lock);
  P* _p_ = pidleget();
  if (_p_ == nullptr) {
    globrunqput(gp);
  } else {
    _p_->holder = _g_m;
    if (sched_.sysmonwait.load() != 0) {
      sched_.sysmonwait.store(0);
      notewakeup(&sched_.sysmonnote);
    }
  }
  unlock(&sched_.lock);
  event(Ev::exitsyscall, goid, 0);
  if (_p_ != nullptr) {
    acquirep(_p_);
    return execute(gp, false);  // Never returns.
  }
  if (_g_m->lockedg != nullptr) {
    // Wait until another thread schedules gp and so m again.
    stoplockedm();
    return execute(gp, false);  // Never returns.
  }
  stopm();
  return schedule();  // Never returns.
}

void Runtime::Syscall(const std::function<void()>& body) {
  entersyscall();
  body();
  exitsyscall();
}

void Runtime::SyscallBlock(const std::function<void()>& body) {
  entersyscallblock();
  body();
  exitsyscall();
}

// syscall.Exec (syscall/exec_unix.go 262-294) whose execve fails, as it does
// for a missing file: runtime_BeforeExec, RawSyscall(SYS_EXECVE) (raw: no
// entersyscall, the P stays _Prunning), runtime_AfterExec.
void Runtime::Exec() {
  // syscall_runtime_BeforeExec (proc.go 3341-3344): prevent thread creation
  // during exec. Its prologue is a preemption point; from lock(&wLock) on,
  // m.locks > 0 until AfterExec: the writer is never preempted.
  PreemptPoint(Site::BeforeExec_prologue);
  wlock(&execLock_);
  event(Ev::exec_execve, static_cast<int>(getg()->goid));
  // syscall_runtime_AfterExec (proc.go 3348-3350).
  wunlock(&execLock_);
}

}  // namespace gort
