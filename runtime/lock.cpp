// runtime/lock.cpp — runtime mutex, notes, acquirem/releasem, casgstatus, rwmutex.
//
// Follows Go 1.14 src/runtime/lock_futex.go (lock, unlock, notes), runtime1.go (acquirem,
//   releasem), proc.go (casgstatus), preempt.go (canPreemptM), rwmutex.go.
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
#include "runtime/runtime.h"

namespace gort {

namespace {
constexpr uint32_t mutex_unlocked = 0;
constexpr uint32_t mutex_locked = 1;
constexpr uint32_t mutex_sleeping = 2;
constexpr int active_spin = 4;
}  // namespace

// lock (lock_futex.go). m.locks++ first: code holding a runtime mutex is never
// preempted. Not re-entrant. Go spins actively (procyield) and passively
// (osyield) before sleeping; the port keeps one passive round, since under the
// executor every osyield is a scheduling point anyway.
void Runtime::lock(mutex* l) {
  M* gp_m = getm();
  if (gp_m->locks < 0) throw_("runtime·lock: lock count");
  gp_m->locks++;

  SyncPoint(Site::lock_acquire);
  // Speculative grab for lock.
  uint32_t v = l->key.exchange(mutex_locked, std::memory_order_acquire);
  if (v == mutex_unlocked) return;

  // wait is either MUTEX_LOCKED or MUTEX_SLEEPING depending on whether there
  // is a thread sleeping on this mutex. If we ever change l->key from
  // MUTEX_SLEEPING to some other value, we must be careful to change it back
  // to MUTEX_SLEEPING before returning, to ensure that the sleeping thread
  // gets its wakeup call.
  uint32_t wait = v;
  for (;;) {
    // Try for lock, rescheduling.
    for (int i = 0; i < active_spin / 4 + 1; i++) {
      uint32_t expect = mutex_unlocked;
      while (l->key.load(std::memory_order_relaxed) == mutex_unlocked) {
        if (l->key.compare_exchange_strong(expect, wait, std::memory_order_acquire)) return;
        expect = mutex_unlocked;
      }
      plat_.osyield();
    }
    // Sleep.
    SyncPoint(Site::lock_acquire);
    v = l->key.exchange(mutex_sleeping, std::memory_order_acquire);
    if (v == mutex_unlocked) return;
    wait = mutex_sleeping;
    plat_.futexsleep(&l->key, mutex_sleeping, -1);
  }
}

// unlock (lock_futex.go): release, then m.locks--, and re-arm a preemption
// request that newstack had to ignore while the lock was held.
void Runtime::unlock(mutex* l) {
  SyncPoint(Site::lock_release);
  uint32_t v = l->key.exchange(mutex_unlocked, std::memory_order_release);
  if (v == mutex_unlocked) throw_("unlock of unlocked lock");
  if (v == mutex_sleeping) plat_.futexwakeup(&l->key, 1);

  M* gp_m = getm();
  gp_m->locks--;
  if (gp_m->locks < 0) throw_("runtime·unlock: lock count");
  G* gp = gp_m->curctx;
  if (gp_m->locks == 0 && gp->preempt.load(std::memory_order_relaxed)) {
    // restore the preemption request in case we've cleared it in newstack
    gp->stackguardPreempt.store(true, std::memory_order_relaxed);
  }
}

// One-time notifications.
void Runtime::noteclear(note* n) { n->key.store(0, std::memory_order_relaxed); }

void Runtime::notewakeup(note* n) {
  SyncPoint(Site::note_wakeup);
  uint32_t old = n->key.exchange(1, std::memory_order_release);
  if (old != 0) throw_("notewakeup - double wakeup");
  plat_.futexwakeup(&n->key, 1);
}

// notesleep: must be on g0. Returns once woken; does not clear the note.
void Runtime::notesleep(note* n) {
  M* mp = getm();
  if (mp->curctx != mp->g0) throw_("notesleep not on g0");
  SyncPoint(Site::note_sleep);
  while (n->key.load(std::memory_order_acquire) == 0) {
    mp->blocked = true;
    plat_.futexsleep(&n->key, 0, -1);
    mp->blocked = false;
  }
}

// notetsleep: like notesleep, bounded by ns. Returns true iff woken.
bool Runtime::notetsleep(note* n, int64_t ns) {
  M* mp = getm();
  if (mp->curctx != mp->g0 && mp->preemptoff[0] != '\0') throw_("notetsleep not on g0");
  SyncPoint(Site::note_sleep);
  if (ns < 0) {
    notesleep(n);
    return true;
  }
  if (n->key.load(std::memory_order_acquire) != 0) return true;
  int64_t deadline = plat_.nanotime() + ns;
  for (;;) {
    mp->blocked = true;
    plat_.futexsleep(&n->key, 0, ns);
    mp->blocked = false;
    if (n->key.load(std::memory_order_acquire) != 0) break;
    int64_t now = plat_.nanotime();
    if (now >= deadline) break;
    ns = deadline - now;
  }
  return n->key.load(std::memory_order_acquire) != 0;
}

// acquirem (nosplit): make the current g non-preemptible without a lock.
M* Runtime::acquirem() {
  M* mp = getm();
  mp->locks++;
  return mp;
}

// releasem (nosplit): undo acquirem; re-arm a pending preemption request.
void Runtime::releasem(M* mp) {
  G* gp = mp->curctx;
  mp->locks--;
  if (mp->locks == 0 && gp->preempt.load(std::memory_order_relaxed)) {
    // restore the preemption request in case we've cleared it in newstack
    gp->stackguardPreempt.store(true, std::memory_order_relaxed);
  }
}

// casgstatus: the only way to change a G's status. No GC in gort, so the
// _Gscan bit is never set and the loop never spins; the throws are kept.
void Runtime::casgstatus(G* gp, uint32_t oldval, uint32_t newval) {
  if ((oldval & _Gscan) || (newval & _Gscan) || oldval == newval) {
    throw_("casgstatus: bad incoming values");
  }
  SyncPoint(Site::gstatus_cas);
  uint32_t expect = oldval;
  while (!gp->atomicstatus.compare_exchange_strong(expect, newval, std::memory_order_acq_rel)) {
    if (oldval == _Gwaiting && expect == _Grunnable) {
      throw_("casgstatus: waiting for Gwaiting but is Grunnable");
    }
    if (!(expect & _Gscan)) {
      // Nobody else may move a G out of a state its owner holds.
      throw_("casgstatus: bad g status transition");
    }
    expect = oldval;
    plat_.osyield();
  }
}

// canPreemptM (preempt.go 287-289): may the current g of mp be preempted?
// Go has no P-not-nil test: with locks, mallocing and preemptoff clear, a
// nil mp.p is dereferenced (a fault, fatal in the runtime). The port throws
// there instead of reading through nullptr.
bool Runtime::canPreemptM(M* mp) {
  if (!(mp->locks == 0 && mp->mallocing == 0 && mp->preemptoff[0] == '\0')) return false;
  P* pp = mp->p;
  if (pp == nullptr) throw_("canPreemptM: nil m.p (Go: nil pointer dereference)");
  return pp->status.load(std::memory_order_relaxed) == _Prunning;
}

// rwmutex (rwmutex.go), used for execLock: the readers are thread creations
// (newm1, proc.go 1747-1754), the writer is syscall.Exec (proc.go 3341-3350).
// "Like mutex, rwmutex blocks the calling M. It does not interact with the
// goroutine scheduler" (rwmutex.go 16-17): a waiting reader or writer sleeps
// on its m.park and keeps its P.
namespace { constexpr int32_t rwmutexMaxReaders = 1 << 30; }

// rlock (rwmutex.go 33-59).
void Runtime::rlock(rwmutex* rw) {
  PreemptPoint(Site::rlock_prologue);
  // The reader must not be allowed to lose its P or else other things
  // blocking on the lock may consume all of the Ps and deadlock (issue
  // #20903). Bug::issue20903 leaves it out, as before the fix.
  if (!cfg_.has(Bug::issue20903)) acquirem();
  SyncPoint(Site::exec_rlock);
  if (rw->readerCount.fetch_add(1) + 1 < 0) {
    // A writer is pending. Park on the reader queue.
    systemstack([&] {
      lock(&rw->rLock);
      if (rw->readerPass > 0) {
        // Writer finished.
        rw->readerPass -= 1;
        unlock(&rw->rLock);
      } else {
        // Queue this reader to be woken by the writer.
        M* m = getm();
        m->schedlink = rw->readers;
        rw->readers = m;
        unlock(&rw->rLock);
        event(Ev::exec_reader_wait, static_cast<int>(m->id));
        notesleep(&m->park);
        noteclear(&m->park);
      }
    });
  }
  M* mp = getm();
  if (mp->curctx == mp->g0) mp->execLockRead = true;  // [oracle]
  else mp->curctx->execLockRead = true;
}

// runlock (rwmutex.go 62-79).
void Runtime::runlock(rwmutex* rw) {
  // Not nosplit (rwmutex.go 62); offered only where it can be honoured, as
  // newosproc's prologue (runtime/proc.cpp).
  if (getm()->locks == 0) PreemptPoint(Site::runlock_prologue);
  M* mp = getm();
  if (mp->curctx == mp->g0) mp->execLockRead = false;  // [oracle]
  else mp->curctx->execLockRead = false;
  SyncPoint(Site::exec_rlock);
  int32_t r = rw->readerCount.fetch_sub(1) - 1;
  if (r < 0) {
    if (r + 1 == 0 || r + 1 == -rwmutexMaxReaders) throw_("runlock of unlocked rwmutex");
    // A writer is pending.
    SyncPoint(Site::exec_rlock);
    if (rw->readerWait.fetch_sub(1) - 1 == 0) {
      // The last reader unblocks the writer.
      lock(&rw->rLock);
      M* w = rw->writer;
      if (w != nullptr) notewakeup(&w->park);
      unlock(&rw->rLock);
    }
  }
  if (!cfg_.has(Bug::issue20903)) releasem(getm());
}

// lock (rwmutex.go 82-101): locks rw for writing.
void Runtime::wlock(rwmutex* rw) {
  // Resolve competition with other writers and stick to our P.
  lock(&rw->wLock);
  M* m = getm();
  // Announce that there is a pending writer.
  SyncPoint(Site::exec_wlock);
  int32_t r = rw->readerCount.fetch_sub(rwmutexMaxReaders);  // the count before: Go's Xadd(-max) + max
  // Wait for any active readers to complete.
  lock(&rw->rLock);
  SyncPoint(Site::exec_wlock);
  if (r != 0 && rw->readerWait.fetch_add(r) + r != 0) {
    // Wait for reader to wake us up.
    systemstack([&] {
      rw->writer = m;
      unlock(&rw->rLock);
      rw->writerWaiting = m;  // [oracle]
      event(Ev::exec_writer_wait, static_cast<int>(m->id), r);
      notesleep(&m->park);
      rw->writerWaiting = nullptr;  // [oracle]
      noteclear(&m->park);
    });
  } else {
    unlock(&rw->rLock);
  }
}

// unlock (rwmutex.go 104-125): unlocks rw for writing.
void Runtime::wunlock(rwmutex* rw) {
  // Announce to readers that there is no active writer.
  SyncPoint(Site::exec_wlock);
  int32_t r = rw->readerCount.fetch_add(rwmutexMaxReaders) + rwmutexMaxReaders;
  if (r >= rwmutexMaxReaders) throw_("unlock of unlocked rwmutex");
  // Unblock blocked readers.
  lock(&rw->rLock);
  while (rw->readers != nullptr) {
    M* reader = rw->readers;
    rw->readers = reader->schedlink;
    reader->schedlink = nullptr;
    notewakeup(&reader->park);
    r -= 1;
  }
  // If r > 0, there are pending readers that aren't on the queue. Tell them
  // to skip waiting.
  rw->readerPass += static_cast<uint32_t>(r);
  unlock(&rw->rLock);
  // Allow other writers to proceed.
  unlock(&rw->wLock);
}

}  // namespace gort
