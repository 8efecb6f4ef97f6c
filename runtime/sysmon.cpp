// runtime/sysmon.cpp — sysmon and retake: the P-less monitor thread (Go 1.14 proc.go).
//
// Follows Go 1.14 src/runtime/proc.go (sysmon, retake).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
//
// sysmon runs on its own M without a P. Every 20 µs .. 10 ms it retakes Ps
// stuck in syscalls (handing them to another M) and asks goroutines that
// have run for more than forcePreemptNS to stop. While the world is stopped
// or every P is idle it sleeps on sched.sysmonnote, until the first timer
// at the latest; when a timer is overdue it starts an M to run it (Go 1.14's
// startm(nil, false), the caller in #40368). Not modelled: forced GC,
// schedtrace; netpoll has no descriptors (runtime/time.cpp).
#include "runtime/runtime.h"

namespace gort {

namespace {
constexpr int64_t forcePreemptNS = 10 * 1000 * 1000;  // 10ms
constexpr int64_t forcegcperiod = 2 * 60 * 1000 * 1000 * 1000LL;
}  // namespace

// usleep: sleep on a word nobody wakes (Go: the usleep syscall).
void Runtime::usleep(int64_t us) {
  M* mp = getm();
  plat_.futexsleep(&mp->sleepword, 0, us * 1000);
}

// Always runs without a P, so write barriers are not allowed.
void Runtime::sysmon() {
  lock(&sched_.lock);
  sched_.nmsys++;
  checkdead();
  unlock(&sched_.lock);

  int idle = 0;  // how many cycles in succession we had not wokeup somebody
  int64_t delay = 0;
  for (;;) {
    if (idle == 0) {  // start with 20us sleep...
      delay = 20;
    } else if (idle > 50) {  // start doubling the sleep after 1ms...
      delay *= 2;
    }
    if (delay > 10 * 1000) delay = 10 * 1000;  // up to 10ms
    usleep(delay);
    int64_t now = plat_.nanotime();
    int64_t next = timeSleepUntil();
    if (sched_.gcwaiting.load() != 0 || sched_.npidle.load() == gomaxprocs_) {
      lock(&sched_.lock);
      if (sched_.gcwaiting.load() != 0 || sched_.npidle.load() == gomaxprocs_) {
        if (next > now) {
          sched_.sysmonwait.store(1);
          unlock(&sched_.lock);
          // Make wake-up period small enough for the sampling to be correct.
          int64_t sleep = forcegcperiod / 2;
          if (next - now < sleep) sleep = next - now;
          notetsleep(&sched_.sysmonnote, sleep);
          now = plat_.nanotime();
          next = timeSleepUntil();
          lock(&sched_.lock);
          sched_.sysmonwait.store(0);
          noteclear(&sched_.sysmonnote);
        }
        idle = 0;
        delay = 20;
      }
      unlock(&sched_.lock);
    }
    // poll network if not polled for more than 10ms
    int64_t lastpoll = sched_.lastpoll.load();
    if (netpollinited() && lastpoll != 0 && lastpoll + 10 * 1000 * 1000 < now) {
      sched_.lastpoll.compare_exchange_strong(lastpoll, now);
      netpoll(0);  // non-blocking - returns list of goroutines (always empty in gort)
    }
    if (next < now) {
      // There are timers that should have already run, perhaps because
      // there is an unpreemptible P. Try to start an M to run them.
      // (Unlike retake's, this P-less startm is not bracketed by
      // incidlelocked: the #40368 window, closed by startm's mReserveID.)
      event(Ev::sysmon_timers);
      startm(nullptr, false);
    }
    // retake P's blocked in syscalls and preempt long running G's
    if (retake(now) != 0) idle = 0;
    else idle++;
  }
}

uint32_t Runtime::retake(int64_t now) {
  uint32_t n = 0;
  // Prevent allp slice changes. This lock will be completely uncontended
  // unless we're already stopping the world.
  lock(&allpLock_);
  // We can't use a range loop over allp because we may temporarily drop the
  // allpLock. Hence, we need to re-fetch allp each time around the loop.
  for (size_t i = 0; i < allp_.size(); i++) {
    P* _p_ = allp_[i];
    auto& pd = _p_->sysmontick;
    uint32_t s = _p_->status.load();
    bool sysretake = false;
    if (s == _Prunning || s == _Psyscall) {
      // Preempt G if it's running for too long.
      uint32_t t = _p_->schedtick;
      if (pd.schedtick != t) {
        pd.schedtick = t;
        pd.schedwhen = now;
      } else if (pd.schedwhen + forcePreemptNS <= now) {
        preemptone(_p_);
        // In case of syscall, preemptone() doesn't work, because there is
        // no M wired to P.
        sysretake = true;
      }
    }
    if (s == _Psyscall) {
      // Retake P from syscall if it's there for more than 1 sysmon tick (at least 20us).
      uint32_t t = _p_->syscalltick.load();
      if (!sysretake && pd.syscalltick != t) {
        pd.syscalltick = t;
        pd.syscallwhen = now;
        continue;
      }
      // On the one hand we don't want to retake Ps if there is no other work
      // to do, but on the other hand we want to retake them eventually
      // because they can prevent the sysmon thread from deep sleep.
      if (runqempty(_p_) && sched_.nmspinning.load() + sched_.npidle.load() > 0 &&
          pd.syscallwhen + 10 * 1000 * 1000 > now) {
        continue;
      }
      // Drop allpLock so we can take sched.lock.
      unlock(&allpLock_);
      // Need to decrement number of idle locked M's (pretending that one
      // more is running) before the CAS. Otherwise the M from which we
      // retake can exit the syscall, increment nmidle and report deadlock.
      // (#6070: Bug::issue6070 drops this bracket.)
      const bool bracket = !cfg_.has(Bug::issue6070);
      if (bracket) incidlelocked(-1);
      SyncPoint(Site::pstatus_cas);
      uint32_t expect = s;
      if (_p_->status.compare_exchange_strong(expect, _Pidle)) {
        n++;
        _p_->syscalltick++;
        handoffp(_p_);
      }
      if (bracket) incidlelocked(1);
      lock(&allpLock_);
    }
  }
  unlock(&allpLock_);
  return n;
}

}  // namespace gort
