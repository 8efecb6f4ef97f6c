// runtime/time.cpp — per-P timers and time.Sleep (Go 1.14 time.go), reduced
// to what the scheduler protocol sees.
//
// Follows Go 1.14 src/runtime/time.go, proc.go (checkTimers, shouldStealTimers,
//   wakeNetPoller), netpoll.go (netpollGenericInit), netpoll_epoll.go (netpoll,
//   netpollBreak).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
//
// Go 1.14 moved timers onto the Ps: addtimer puts a timer on the current P's
// heap, schedule/findrunnable run the due timers of their own P (checkTimers)
// and steal due timers from Ps that are not running, sysmon starts an M when
// a timer is overdue and every P is idle, and checkdead does not report a
// deadlock while any P still has timers. Those are the parts ported here.
//
// Left out (none of it changes who may run a timer or when the scheduler
// counts Ms): timer kinds other than timeSleep's goroutineReady, so no
// deltimer/modtimer and none of the timerDeleted/timerModified states that
// adjusttimers and cleantimers handle; periodic timers. netpoll is here
// without descriptors: what remains is the poller's timed wait, so the last
// M out of work with timers pending blocks in netpoll until the first timer
// (findrunnable), addtimer breaks that wait for an earlier timer
// (wakeNetPoller), and sysmon starts an M when a timer is overdue anyway.
#include <algorithm>
#include <cstdint>

#include "runtime/runtime.h"

namespace gort {

// time.Sleep (timeSleep): puts the current goroutine to sleep for at least ns.
void Runtime::Sleep(int64_t ns) {
  if (ns <= 0) return;
  G* gp = getg();
  gp->sleepWhen = plat_.nanotime() + ns;  // t.nextwhen
  gopark(&Runtime::resetForSleep, nullptr, "sleep");
}

// resetForSleep is called after the goroutine is parked for timeSleep. We
// can't call resettimer in timeSleep itself because if this is a short sleep
// and there are many goroutines then the P can wind up running the timer
// function, goroutineReady, before the goroutine has been parked.
bool Runtime::resetForSleep(G* gp, void*) {
  addtimer(gp, gp->sleepWhen);  // resettimer(t, t.nextwhen) of a fresh timer
  return true;
}

// addtimer adds a timer to the current P (addInitializedTimer).
void Runtime::addtimer(G* gp, int64_t when) {
  // when must never be negative; otherwise runtimer will overflow during
  // its delta calculation and never expire other runtime timers.
  if (when < 0) when = INT64_MAX;
  P* pp = getm()->p;
  lock(&pp->timersLock);
  doaddtimer(pp, timer{when, gp});
  unlock(&pp->timersLock);
  event(Ev::addtimer, static_cast<int>(gp->goid), pp->id);
  wakeNetPoller(when);
}

// doaddtimer adds t to the current P's heap. The caller must have locked
// the timers for pp.
void Runtime::doaddtimer(P* pp, timer t) {
  auto at = std::upper_bound(pp->timers.begin(), pp->timers.end(), t.when,
                             [](int64_t w, const timer& x) { return w < x.when; });
  bool first = at == pp->timers.begin();
  // Timers rely on the network poller, so make sure the poller has started.
  if (!netpollinited()) netpollGenericInit();
  pp->timers.insert(at, t);
  if (first) pp->timer0When.store(t.when);
  pp->numTimers++;
}

// dodeltimer0 removes timer 0 from the current P's heap. We are locked on
// the P when this is called.
void Runtime::dodeltimer0(P* pp) {
  pp->timers.erase(pp->timers.begin());
  pp->timer0When.store(pp->timers.empty() ? 0 : pp->timers.front().when);
  pp->numTimers--;
}

// checkTimers runs any timers for the P that are ready. If now is not 0 it
// is the current time. It returns the current time (or now), sets
// *pollUntil to the time when the next timer should run (0 if none), and
// *ran to whether it ran any timers.
int64_t Runtime::checkTimers(P* pp, int64_t now, int64_t* pollUntil, bool* ran) {
  *pollUntil = 0;
  *ran = false;
  // If the first timer on the heap is not yet ready to run, there is
  // nothing to do. (No adjustTimers in gort: timers are never modified.)
  int64_t next = pp->timer0When.load();
  if (next == 0) return now;
  if (now == 0) now = plat_.nanotime();
  if (now < next) {
    *pollUntil = next;
    return now;
  }
  lock(&pp->timersLock);
  int64_t rnow = now;
  while (!pp->timers.empty()) {
    // Note that runtimer may temporarily unlock pp.timersLock.
    if (int64_t tw = runtimer(pp, rnow); tw != 0) {
      if (tw > 0) *pollUntil = tw;
      break;
    }
    *ran = true;
  }
  unlock(&pp->timersLock);
  return rnow;
}

// runtimer examines the first timer in timers. If it is ready based on now,
// it runs the timer and removes it. It returns 0 if it ran a timer, -1 if
// there are no more timers, or the time when the first timer should run.
// The caller must have locked the timers for pp.
int64_t Runtime::runtimer(P* pp, int64_t now) {
  if (pp->timers.empty()) return -1;
  const timer& t = pp->timers.front();
  if (t.when > now) return t.when;  // Not ready to run.
  runOneTimer(pp, now);
  return 0;
}

// runOneTimer runs a single timer. The caller must have locked the timers
// for pp. This will temporarily unlock the timers while running the timer
// function.
void Runtime::runOneTimer(P* pp, int64_t) {
  G* gp = pp->timers.front().g;
  // Remove from heap (t.period == 0).
  dodeltimer0(pp);
  unlock(&pp->timersLock);
  event(Ev::runtimer, static_cast<int>(gp->goid), pp->id);
  goready(gp);  // f(arg, seq): goroutineReady
  lock(&pp->timersLock);
}

// shouldStealTimers reports whether we should try stealing the timers from
// p2. We don't steal timers from a running P that is not marked for
// preemption, on the assumption that it will run its own timers. This
// reduces contention on the timers lock.
bool Runtime::shouldStealTimers(P* p2) {
  if (p2->status.load() != _Prunning) return true;
  // Go also declines while mp.locks > 0, read without synchronisation; the
  // port leaves that read out (M::locks is plain data). It only decides how
  // eagerly timers are stolen, never who may run them: timersLock does.
  M* mp = p2->m;
  if (mp == nullptr) return false;
  G* gp = mp->curg;
  if (gp == nullptr || gp->atomicstatus.load() != _Grunning || !gp->preempt.load()) return false;
  return true;
}

// moveTimers moves a slice of timers to pp. The slice has been taken from a
// different P. This is currently called when the world is stopped, but the
// caller is expected to have locked the timers for pp.
void Runtime::moveTimers(P* pp, std::vector<timer>& timers) {
  for (const timer& t : timers) doaddtimer(pp, t);
}

// timeSleepUntil returns the time when the next timer should fire (INT64_MAX
// when there is none). This is only called by sysmon.
int64_t Runtime::timeSleepUntil() {
  int64_t next = INT64_MAX;
  // Prevent allp slice changes. This is like retake.
  lock(&allpLock_);
  for (P* pp : allp_) {
    if (pp == nullptr) continue;
    int64_t w = pp->timer0When.load();
    if (w != 0 && w < next) next = w;
  }
  unlock(&allpLock_);
  return next;
}

// nobarrierWakeTime looks at P's timers and returns the time when we should
// wake up the netpoller. It returns 0 if there are no timers.
int64_t Runtime::nobarrierWakeTime(P* pp) {
  return pp->timer0When.load();  // (no adjustTimers in gort)
}

// wakeNetPoller wakes up the thread sleeping in the network poller, if there
// is one, and if it isn't going to wake up anyhow before the when argument.
void Runtime::wakeNetPoller(int64_t when) {
  if (sched_.lastpoll.load() == 0) {
    // In findrunnable we ensure that when polling the pollUntil field is
    // either zero or the time to which the current poll is expected to run.
    // This can have a spurious wakeup but should never miss a wakeup.
    int64_t pollerPollUntil = sched_.pollUntil.load();
    if (pollerPollUntil == 0 || pollerPollUntil > when) netpollBreak();
  }
}

// netpoll checks for ready network connections and returns the goroutines
// that became runnable. gort has no descriptors, so what is left is the
// poller's wait: block for delay ns (delay < 0: indefinitely, 0: not at all)
// or until netpollBreak, then drain the break pipe (epoll's wake-up fd).
void Runtime::netpoll(int64_t delay) {
  if (delay == 0) return;  // a non-blocking poll leaves a pending break in the pipe (netpoll_epoll.go 144-150)
  if (netpollWake_.load() == 0) plat_.futexsleep(&netpollWake_, 0, delay);
  // Only a blocking poll reads the break pipe, and only when the break woke
  // it (epollwait returned netpollBreakRd; netpoll_epoll.go 139-151).
  if (netpollWake_.load() != 0) netpollWake_.exchange(0);
}

// netpollBreak interrupts a netpoll wait (a write to the break pipe: a poll
// that starts later returns at once).
void Runtime::netpollBreak() {
  netpollWake_++;
  plat_.futexwakeup(&netpollWake_, 1);
}

}  // namespace gort
