// runtime/runtime.h — gort: the Go 1.14 scheduler core, ported to C++.
//
// Follows Go 1.14 src/runtime/runtime2.go, proc.go, lock_futex.go, rwmutex.go, time.go, stack.go.
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
//
// This is a line-by-line port of the parts of Go 1.14's runtime/proc.go (and
// runtime2.go, lock_futex.go, rwmutex.go, the preemption logic of stack.go)
// that govern M/P/G, LockOSThread, the template thread and the newmHandoff
// queue, newm, handoffp/startm/stopm, locked-M scheduling, stop-the-world,
// syscalls and locked-goroutine exit. Go's names are kept so a runtime
// engineer can read proc.go beside proc.cpp; each function's comment names
// its Go counterpart, preconditions and invariants. The protocol itself is
// described step by step in shared/go-runtime-spec.md.
//
// The model (spec §1):
//   G — goroutine; runs on its own Fiber. M — OS thread (Platform thread);
//   its own stack is g0, where the scheduler runs. P — the resource an M
//   needs to run Gs; GOMAXPROCS of them.
//
// How control moves (the port's one structural change, see proc.cpp's
// header): Go's "never returns" functions on g0 (schedule, execute, the
// mcall targets) return the G to run next instead of jumping to it; the M's
// g0 loop (mstart1) then switches to that G. mcall(fn) switches from the G
// back to g0, which calls fn(g). Nothing is left half-unwound on any stack.
//
// All state lives in one Runtime object: no mutable globals, so a fuzzer can
// create and destroy thousands per second.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/platform.h"
#include "runtime/watch.h"

namespace gort {

class Fiber;
class Runtime;
struct M;
struct P;

inline constexpr int32_t kMaxGomaxprocs = 64;  // gort's _MaxGomaxprocs

// A field Go reads without synchronisation on purpose (a benign race in Go,
// e.g. p.m in preemptone, sched.runqsize in handoffp). In C++ such a race is
// undefined behaviour, so these are atomics: same code shape, and
// ThreadSanitizer stays quiet about the races Go intends while still seeing
// every unintended one. Stores release and loads acquire (free on x86-64),
// not relaxed: Go's plain loads and stores on amd64 (TSO) are acquire and
// release, and the runtime relies on it (preemptone reads mp.curg, then the
// g's fields), so a reader that sees the new value (say, a new m.curg) also
// sees how it was initialised. Relaxed would make TSan report publication
// races Go cannot have; acquire/release adds only the edges Go's target
// hardware gives it (docs/port-notes.md, "Racy fields").
//
// W: the invariant-check domains a store marks (runtime/watch.h); 0 for
// fields no check reads.
template <class T, uint32_t W = 0>
class racy {
 public:
  racy(T v = T()) : v_(v) {}
  racy(const racy&) = delete;
  racy& operator=(const racy& o) { return *this = static_cast<T>(o); }
  operator T() const { return v_.load(std::memory_order_acquire); }
  racy& operator=(T x) { v_.store(x, std::memory_order_release); mark(); return *this; }
  T operator->() const { return v_.load(std::memory_order_acquire); }
  T operator++() { mark(); return v_.fetch_add(1, std::memory_order_acq_rel) + 1; }
  T operator--() { mark(); return v_.fetch_sub(1, std::memory_order_acq_rel) - 1; }
  T operator++(int) { mark(); return v_.fetch_add(1, std::memory_order_acq_rel); }
  T operator--(int) { mark(); return v_.fetch_sub(1, std::memory_order_acq_rel); }
  racy& operator+=(T x) { v_.fetch_add(x, std::memory_order_acq_rel); mark(); return *this; }
  racy& operator-=(T x) { v_.fetch_sub(x, std::memory_order_acq_rel); mark(); return *this; }

 private:
  static void mark() {
    if constexpr (W != 0) watchMark(W);
  }
  std::atomic<T> v_;
};

// ---------------------------------------------------------------------------
// Historical bugs, re-introduced behind switches. Default: all off (the
// runtime as fixed). Each value documents the issue, its fix, the mechanism.
enum class Bug : uint8_t {
  // golang/go#38931, fixed by 11b3730a "runtime: disable preemption in
  // startTemplateThread". Switch: startTemplateThread without its
  // acquirem/releasem pair, so its g can be preempted after the CAS of
  // haveTemplateThread and before the template thread exists. A locked M's
  // newm then queues an M nobody will ever clone, its nextp P is leaked in
  // transit, and stop-the-world waits forever (spec §7).
  issue38931,
  // golang/go#28979 (Go 1.10-1.11), fixed by d0f8a7517ab0 "runtime: don't
  // clear lockedExt on locked M when G exits". Switch: goexit0 clears
  // m.lockedExt of a locked goroutine that exits; mexit's handoffp may then
  // need a new M, and newm, seeing lockedExt == 0, clones it directly from
  // the dying tainted thread instead of asking the template thread.
  issue28979,
  // golang/go#20395 (<= Go 1.9), changed in Go 1.10 (CL 46033/46037): a
  // locked goroutine's exit implicitly unlocked the thread. Switch: goexit0
  // treats a locked exit like an unlocked one (clears the counts and
  // lockedg, calls schedule), so the tainted thread runs other goroutines.
  issue20395,
  // golang/go#20676 (<= Go 1.9), fixed by 2595fe7fb6 "runtime: don't start
  // new threads from locked threads" (which introduced the template thread).
  // Switch: newm ignores m.lockedExt and always clones from the calling
  // thread, so a locked M's handoffp clones from a tainted thread.
  issue20676,
  // golang/go#20458 (<= Go 1.9), fixed in Go 1.10 (c85b12b5): LockOSThread
  // was a single bit. Switch: m.lockedExt saturates at 1, so lock, lock,
  // unlock unwires the goroutine while its caller still believes it locked.
  issue20458,
  // golang/go#10958 class (before Go 1.14's async preemption, #24543):
  // GODEBUG=asyncpreemptoff=1. Switch: preemption requests are honoured only
  // at function prologues, never at user-code steps, so a goroutine spinning
  // on a flag that only a stopped goroutine would set blocks stop-the-world.
  asyncpreemptoff,
  // golang/go#6070, worked around in Go 1.2+ by bracketing retake's P steal
  // with incidlelocked(-1)/(+1). Switch: retake CASes a syscall P to _Pidle
  // without the bracket, so the M returning from that syscall can park and
  // checkdead can count zero running Ms before handoffp starts one: a false
  // "all goroutines are asleep" or "checkdead: runnable g".
  issue6070,
  // golang/go#40368 (present in Go 1.14, fixed in the Go 1.16 cycle by
  // 85afa2eb "runtime: ensure startm new M is consistently visible to
  // checkdead"). Switch: startm, finding no idle M, drops sched.lock before
  // newm has counted the new M (mcommoninit assigns its id under the lock
  // later), so an M returning from a syscall in that window can park, run
  // checkdead and count zero running Ms while a G is runnable: "checkdead:
  // runnable g". The unbracketed caller in 1.14 is sysmon's overdue-timer
  // startm(nil, false). Fixed (the default): startm reserves the id
  // (mReserveID) before it unlocks, so checkdead counts the new M at once.
  issue40368,
  // golang/go#20903 (2017, "runtime: TestRWMutex is flaky?"), fixed by the
  // acquirem in rwmutex.rlock (rwmutex.go 33-38 in go1.14.1). Switch: rlock
  // takes no acquirem (and runlock no releasem), so a reader on a user
  // goroutine can be preempted while it holds execLock for reading; a
  // writer (syscall.Exec) then sleeps on its M holding its P, and readers
  // queued behind it sleep holding theirs: if they consume every P, the
  // descheduled reader never runs again to release the lock. In go1.14.1 the
  // only reader that runs on a user goroutine is LockOSThread's
  // startTemplateThread -> newm -> newm1, under 11b3730a's acquirem in the
  // default runtime: the switch is reachable together with issue38931 only.
  issue20903,
  kCount
};
const char* bugName(Bug b);
// Parses "issue38931,..." into a set; false and `error` on an unknown name.
bool parseBugs(const std::string& list, uint32_t& set, std::string& error);

#if GORT_PLANTED_DEFECTS
inline constexpr int kPlantNone = 0;
inline constexpr int kPlantRace = 1;  // goschedImpl: globrunqput without sched.lock
inline constexpr int kPlantUaf = 2;   // mexit: the M is freed while allms still lists it
#endif

struct Config {
  uint32_t bugs = 0;     // bit (1 << Bug) set = bug re-introduced
  bool sysmon = true;    // start sysmon (as Go always does)
  int gomaxprocs = 4;    // initial GOMAXPROCS
  int maxmcount = 10000; // sched.maxmcount
  size_t stack_size = 0; // goroutine stack size (0 = Fiber default)
  // Later Go, not 1.14: after dropping its P, findrunnable re-scans every
  // P's timer0When for its netpoll deadline (Go 1.15's findrunnable; not in
  // go1.14.1's proc.go). With it, an M whose only known timer sits on a P
  // that runs an unpreempted goroutine polls netpoll(0) and re-acquires a P
  // again and again instead of parking (shared/findings sched-budget-1).
  // Off by default: the default runtime is Go 1.14.
  bool findrunnable_timer_rescan = false;
  // Test plant, not a Go behaviour and not a catalogue switch: newproc1 and
  // ready never call wakep, so a goroutine made runnable while a P is idle
  // waits for a busy M (tests/delay_detectors_test.cpp: the work-conservation
  // detector must fire). Nothing outside the tests sets it.
  bool plant_no_wakep = false;
  // Test variant, not a catalogue switch: startTheWorld as before the fix
  // of golang/go#10618, releasing worldsema before startTheWorldWithSema.
  // tests/foreachp_test.cpp runs it to show what docs/port-notes.md claims:
  // in Go 1.14's structure no worldsema holder can see gomaxprocs change, so
  // "forEachP: P did not run fn" stays unreachable. Nothing else sets it.
  bool early_worldsema_release = false;
#if GORT_PLANTED_DEFECTS
  // A planted sanitizer defect (test configuration SCHEDFUZZ_PLANTED_DEFECTS
  // only; tests/sanitizers_test.cpp): kPlantNone, kPlantRace (TSan must
  // report a data race) or kPlantUaf (ASan must report a heap-use-after-free).
  // Left at kPlantNone, the Runtime constructor reads GORT_PLANT=race|uaf.
  int plant = 0;
#endif
  bool has(Bug b) const { return bugs & (1u << static_cast<unsigned>(b)); }
  Config& with(Bug b) { bugs |= 1u << static_cast<unsigned>(b); return *this; }
};

// ---------------------------------------------------------------------------
// Status values (runtime2.go).

// G status. _Grunnable: on a run queue, not executing user code, does not own
// its stack. _Grunning: may execute user code; owns its stack; not on a run
// queue; has an M and a P. _Gsyscall: executing a system call; owns its
// stack, has an M but no P. _Gwaiting: blocked in the runtime (gopark); not
// on a run queue; some other code holds a reference to ready it. _Gdead:
// unused (exited or on a free list).
enum : uint32_t {
  _Gidle = 0, _Grunnable = 1, _Grunning = 2, _Gsyscall = 3, _Gwaiting = 4,
  _Gdead = 6, _Gcopystack = 8, _Gpreempted = 9, _Gscan = 0x1000,
};
// P status. _Pidle: not running user code or the scheduler; normally on
// sched.pidle, but also while in transit between releasep and its next home
// (this transit state is where #38931 gets stuck). _Prunning: owned by an M.
// _Psyscall: its M is in a syscall; may be stolen (CAS). _Pgcstop: halted for
// stop-the-world, owned by the M that stopped the world. _Pdead: unused.
enum : uint32_t { _Pidle = 0, _Prunning = 1, _Psyscall = 2, _Pgcstop = 3, _Pdead = 4 };
const char* gstatusName(uint32_t s);
const char* pstatusName(uint32_t s);

// Runtime mutex (lock_futex.go): key 0 unlocked, 1 locked, 2 locked with sleepers.
struct mutex {
  std::atomic<uint32_t> key{0};
};
// One-shot event (lock_futex.go): exactly one sleeper and one waker per clear/wake cycle.
struct note {
  std::atomic<uint32_t> key{0};
};

struct G {
  Runtime* rt = nullptr;
  int64_t goid = 0;
  watched_status<uint32_t, kWatchLocked, _Gdead> atomicstatus{_Gidle};
  // g.preempt: preemption requested; the durable copy of
  // "stackguard0 == stackPreempt". Racy in Go (benign); atomic here.
  std::atomic<bool> preempt{false};
  // stackguard0 == stackPreempt: the next non-nosplit prologue traps into newstack.
  std::atomic<bool> stackguardPreempt{false};
  bool throwsplit = false;  // in entersyscall..exitsyscall: a prologue trap throws
  M* m = nullptr;           // M running this G, nil when not running
  watched<M*, kWatchLocked> lockedm;  // M this G is wired to (LockOSThread)
  G* schedlink = nullptr;   // run queue / gList link
  Fiber* fiber = nullptr;   // this G's stack (nil for g0: the M's own stack)
  std::function<void()> fn; // the goroutine body (user code)
  const char* waitreason = "";
  watched<int, kWatchLocked> lockedShadow;  // [oracle] API LockOSThread calls minus UnlockOSThread calls
  watched<M*, kWatchLocked> lockedShadowM;  // [oracle] M it locked on while lockedShadow > 0
  bool isg0 = false;
  uint32_t preemptions = 0;  // times this goroutine was preempted (gopreempt_m); reset by newproc1
  int64_t sleepWhen = 0;    // timeSleep: gp.timer.nextwhen, read by resetForSleep once parked
  // [counter] preemptone is between its two stores for this g (ReachCounters::preemptoneApart).
  std::atomic<bool> preemptoneMid{false};
  // [oracle] made runnable by newproc1 (after main started) or ready, and not
  // executed since: the goroutines for which proc.go's "Worker thread
  // parking/unparking" protocol promises a spinning M if a P is idle (read by
  // the work-conservation detector, fuzz/delay_detectors.h).
  bool readied = false;
  // [oracle] holds execLock for reading (rlock .. runlock on this goroutine);
  // written only by the thread running it, read by the cause after the run.
  bool execLockRead = false;
};

// A runtime timer (time.go), reduced to the one kind gort has: timeSleep's
// "make gp runnable at `when`" (f = goroutineReady, arg = gp, no period).
struct timer {
  int64_t when = 0;
  G* g = nullptr;
};

using MStartFn = void (Runtime::*)();
using McallFn = G* (Runtime::*)(G*);
// gopark's unlockf: called on g0 once gp is _Gwaiting; false resumes gp at once.
using ParkUnlockFn = bool (Runtime::*)(G* gp, void* arg);

struct M {
  Runtime* rt = nullptr;
  G* g0 = nullptr;          // scheduling goroutine (stands for the thread's own stack)
  racy<G*> curg;            // user goroutine being run
  racy<P*, kWatchP> p;      // attached P for executing Go code (nil if not executing Go code)
  watched<P*, kWatchP> nextp;  // P handed to this M; written only by the hander, consumed by this M
  P* oldp = nullptr;        // the P held before entering a syscall
  int64_t id = 0;
  int32_t locks = 0;        // >0: do not preempt this M's g, do not schedule
  int32_t mallocing = 0;
  const char* preemptoff = "";  // non-empty: keep curg running (e.g. stop-the-world owner)
  bool spinning = false;    // out of work and actively looking for work
  bool blocked = false;     // sleeping on a note
  bool incgo = false;       // always false: gort has no cgo
  note park;
  M* schedlink = nullptr;   // link in sched.midle and in newmHandoff.newm
  M* alllink = nullptr;     // link in allm
  watched<G*, kWatchLocked> lockedg;
  uint32_t lockedExt = 0;   // external LockOSThread count (user API); non-zero = thread may be tainted
  uint32_t lockedInt = 0;   // internal lockOSThread count
  MStartFn mstartfn = nullptr;
  uint32_t syscalltick = 0;
  // --- port machinery (not in Go) ---
  Fiber* g0fiber = nullptr; // the thread's own context, set by mstart
  G* curctx = nullptr;      // getg(): the G whose stack this M is executing on (g0 or curg)
  McallFn mcallfn = nullptr;// the function mcall asked g0 to run
  G* mcallg = nullptr;
  ParkUnlockFn waitunlockf = nullptr;  // gopark: what park_m calls once the g is parked
  void* waitlock = nullptr; // ... and its argument (parkunlock_c: the lock to release)
  std::atomic<uint32_t> sleepword{0};  // usleep sleeps on it (nobody wakes it)
  // --- oracle bookkeeping (read by detectors, never by the protocol) ---
  bool threadCreated = false; // newosproc has asked the platform for its thread
  bool threadStarted = false; // its thread runs (mstart ran)
  bool exited = false;      // mexit completed
  // User code locked this thread and has not unlocked it cleanly: its kernel
  // state may be strange. Set by LockOSThread, cleared only when
  // UnlockOSThread brings lockedExt back to 0 (not by an exit).
  bool tainted = false;
  G* taintedBy = nullptr;   // the goroutine that locked it
  watched<G*, kWatchLocked> taintedRan;  // first other goroutine this M executed while tainted
  watched<bool, kWatchLocked> clonedFromTainted;  // this M's thread was cloned by a tainted M
  bool isTemplate = false;  // mstartfn == templateThread
  M* clonedBy = nullptr;    // the M whose newosproc created this M's thread
  bool execLockRead = false;  // holds execLock for reading on g0 (rlock .. runlock); written by its own thread
};

struct P {
  int32_t id = 0;
  watched_atomic<uint32_t, kWatchP> status{_Pidle};
  watched<P*, kWatchP> link;  // link in sched.pidle and in procresize's runnable list
  racy<M*, kWatchP> m;      // back-link to the owning M (nil if idle); procresize's reservation
  racy<uint32_t> schedtick;
  std::atomic<uint32_t> syscalltick{0};
  // Lock-free local run queue (Go's ring of 256 plus runnext).
  std::atomic<uint32_t> runqhead{0};
  std::atomic<uint32_t> runqtail{0};
  std::atomic<G*> runq[256]{};
  std::atomic<G*> runnext{nullptr};
  racy<bool> preempt;       // enter the scheduler ASAP (async preemption companion flag)
  // [oracle] the M that holds this P in a local variable between taking it
  // from its last home (releasep, pidleget, a CAS) and giving it the next.
  racy<M*, kWatchP> holder;
  // sysmontick: sysmon's last observation of this P (retake).
  struct {
    uint32_t schedtick = 0;
    int64_t schedwhen = 0;
    uint32_t syscalltick = 0;
    int64_t syscallwhen = 0;
  } sysmontick;
  // gFree: dead Gs cached by this P (gfput/gfget).
  G* gFree = nullptr;
  int32_t gFreeN = 0;
  // Timers (Go 1.14 moved them onto the Ps). timers is ordered by when (Go: a
  // 4-ary heap; the port keeps a sorted vector, equal whens in insertion
  // order) and guarded by timersLock. timer0When is the first timer's when
  // (0 = none), read without the lock by checkTimers and timeSleepUntil;
  // numTimers is len(timers) for checkdead's unlocked look.
  mutex timersLock;
  std::vector<timer> timers;
  std::atomic<int64_t> timer0When{0};
  std::atomic<uint32_t> numTimers{0};
  // forEachP (proc.go 1233-1312): 1 while this P owes the safe-point
  // function; whoever CASes it 1 -> 0 runs the function for this P.
  std::atomic<uint32_t> runSafePointFn{0};
  uint32_t safePointRuns = 0;  // [oracle] times the safe-point function ran for this P
};

// schedt (runtime2.go): the global scheduler state.
struct schedt {
  mutex lock;
  M* midle = nullptr;       // idle Ms waiting for work (stopm)
  int32_t nmidle = 0;
  int32_t nmidlelocked = 0; // locked Ms waiting for work (stoplockedm)
  int64_t mnext = 0;        // number of Ms created and next M id
  int32_t maxmcount = 10000;
  int32_t nmsys = 0;        // system Ms not counted for deadlock (template thread, sysmon)
  int64_t nmfreed = 0;      // cumulative number of freed Ms
  std::atomic<int32_t> ngsys{0};
  racy<P*, kWatchP> pidle;
  watched_atomic<int32_t, kWatchP> npidle{0};
  std::atomic<int32_t> nmspinning{0};
  G* runqhead = nullptr;    // global runnable queue
  G* runqtail = nullptr;
  racy<int32_t> runqsize;
  // Global cache of dead Gs (under gFreeLock). gfget reads it without the
  // lock on purpose ("if _p_.gFree.empty() && (!sched.gFree.stack.empty()
  // || ...) { lock(&sched.gFree.lock)", re-checked under the lock): racy.
  racy<G*> gFree;
  int32_t ngFree = 0;
  watched_atomic<uint32_t, kWatchP> gcwaiting{0};
  racy<int32_t, kWatchP> stopwait;
  note stopnote;
  std::atomic<uint32_t> sysmonwait{0};
  note sysmonnote;
  // Last goroutine id handed out: an atomic add, no lock (Go 1.14 takes ids
  // from it by atomic add, in per-P batches of 16: proc.go 3468-3475).
  std::atomic<int64_t> goidgen{0};
  // sched.gFree.lock (proc.go 3546, 3566, 3608): the global free-G list has
  // its own lock in Go, not sched.lock. Guards gFree and ngFree.
  mutex gFreeLock;
  // The network poller's bookkeeping (gort's netpoll is only the poller's
  // timed wait; runtime/time.cpp). lastpoll: time of the last poll, 0 while
  // an M is blocked in netpoll. pollUntil: when that poll will return.
  std::atomic<int64_t> lastpoll{0};
  std::atomic<int64_t> pollUntil{0};
  // forEachP's bookkeeping (runtime2.go: safePointFn, safePointWait,
  // safePointNote), under lock.
  void (*safePointFn)(Runtime*, P*) = nullptr;
  int32_t safePointWait = 0;
  note safePointNote;
};

// How often the windows of issue 13 item 1 were taken (tests, benchmarks):
// each counts a path that exists only because another M acted inside a
// window Go leaves open. Never read by the protocol. Relaxed atomic adds:
// cheap, and deterministic under the executor.
struct ReachCounters {
  std::atomic<uint64_t> runqputRetry{0};        // runqput: the runnext CAS failed, retried (4958)
  std::atomic<uint64_t> runqputslowFail{0};     // runqputslow: the head CAS failed (4996)
  std::atomic<uint64_t> runqgetRetry{0};        // runqget: a runnext or head CAS failed, retried
  std::atomic<uint64_t> runqgrabInconsistent{0};// runqgrab: "read inconsistent h and t" (5095)
  std::atomic<uint64_t> runqgrabRetry{0};       // runqgrab: a runnext or head CAS failed, retried
  std::atomic<uint64_t> runqemptyRetry{0};      // runqempty: the tail moved between its loads (4927)
  std::atomic<uint64_t> wakepStarted{0};        // wakep won its CAS and called startm
  // findrunnable's re-check after dropping nmspinning found work and took a
  // P while a wakep had won its CAS since this M's decrement: the parking M
  // and the submitter's wakep both reacted to the same window (2264-2287).
  std::atomic<uint64_t> recheckWithWakep{0};
  // preemptone's two stores observed apart (4676-4682): the target reached
  // a preemption point after gp.preempt = true and before stackguard0 =
  // stackPreempt.
  std::atomic<uint64_t> preemptoneApart{0};
  static void inc(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
};

// newmHandoff (proc.go): Ms that a locked M wants created, and the template
// thread that creates them from a known-good state.
struct newmHandoffT {
  mutex lock;
  M* newm = nullptr;        // LIFO list linked through m.schedlink
  bool waiting = false;     // the template thread is (about to be) asleep on wake
  note wake;
  // "the template thread has been started". Atomic, not under lock; only
  // ever written by CAS 0 -> 1. Pre-fix it can be 1 while no template thread exists.
  std::atomic<uint32_t> haveTemplateThread{0};
  // --- oracle bookkeeping ---
  M* templateM = nullptr;   // the M allocated for templateThread, once allocm returned
  M* creator = nullptr;     // the M that won the CAS, until its newm returned
  G* creatorG = nullptr;    // the goroutine that won the CAS, until its newm returned
  // The creator could not be descheduled from the CAS until its newm returned
  // (m.locks > 0 at the CAS: the fix's acquirem). Pre-fix it is false.
  bool creatorPinned = false;
};

// Go's runtime rwmutex, used for execLock (readers: thread creation).
// rwmutex.go 18-28: readers and the writer block their M (and keep its P).
struct rwmutex {
  mutex rLock;                          // protects readers, readerPass, writer
  M* readers = nullptr;                 // list of pending readers (through m.schedlink)
  uint32_t readerPass = 0;              // number of pending readers to skip readers list
  mutex wLock;                          // serializes writers
  M* writer = nullptr;                  // pending writer waiting for completing readers
  std::atomic<int32_t> readerCount{0};  // number of pending readers
  std::atomic<int32_t> readerWait{0};   // number of departing readers
  // --- oracle bookkeeping (read by the cause explainer, never by the protocol) ---
  // Who holds the read lock is kept on the holder (G::execLockRead on a user
  // g, M::execLockRead on g0): readers run in parallel on real threads.
  M* writerWaiting = nullptr;   // the writer while it sleeps on its m.park for the readers (one at a time: wLock)
};

class Runtime {
 public:
  Runtime(Platform& platform, Config config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The program: main runs as the main goroutine; when it returns the
  // process exits with code 0 (Platform::exitProcess), as in Go.
  void setMain(std::function<void()> main);
  // Thread entry for m0: schedinit, newproc(runtime.main), mstart. Pass it
  // with the Runtime* to Platform::newosproc(0, ...) or SimPlatform::run.
  static void m0Entry(void* rt, Fiber* g0);

  // ---- Public API for programs (called on a user goroutine) ----
  void Go(std::function<void()> fn);     // the go statement (newproc)
  void LockOSThread();
  void UnlockOSThread();
  void Gosched();
  void Goexit();                         // runtime.Goexit
  void ReadMemStats();                   // stopTheWorld + startTheWorld
  int GOMAXPROCS(int n);                 // n <= 0: query
  void Syscall(const std::function<void()>& body);       // entersyscall; body; exitsyscall
  void SyscallBlock(const std::function<void()>& body);  // entersyscallblock; body; exitsyscall
  // syscall.Exec whose execve fails (exec_unix.go 262-294): runtime_BeforeExec
  // (execLock.lock, the writer), RawSyscall(SYS_EXECVE) returns an error,
  // runtime_AfterExec (execLock.unlock). The process is never replaced.
  void Exec();
  void Sleep(int64_t ns);                // time.Sleep (timeSleep): park on a timer of the current P
  // The GC's ragged barrier as Go 1.14's GC runs it (mgc.go): holding
  // worldsema, read gomaxprocs (gcStart's work.maxprocs, mgc.go 1303) and
  // run forEachP (gcMarkDone 1448, gcMarkTermination 1746) with a function
  // that only counts its runs (P.safePointRuns). Returns the gomaxprocs read.
  int GC();
  // One step of user code: an async preemption point (PreemptPoint(user_step)).
  void UserStep();
  // A call in user code: a synchronous preemption point (function prologue).
  void UserCall();
  int64_t goid();                        // current goroutine's id
  uint32_t preemptions();                // how often the current goroutine has been preempted
  int64_t mid();                         // current M's id

  // A tiny sync.WaitGroup on gopark/goready, for programs that wait.
  struct WaitGroup {
    mutex lock;
    int32_t count = 0;
    G* waiter = nullptr;
  };
  void wgAdd(WaitGroup& wg, int delta);
  void wgDone(WaitGroup& wg) { wgAdd(wg, -1); }
  void wgWait(WaitGroup& wg);

  // ---- Introspection (detectors, dumps, tests) ----
  const Config& config() const { return cfg_; }
  Platform& platform() { return plat_; }
  const schedt& sched() const { return sched_; }
  const newmHandoffT& handoff() const { return newmHandoff_; }
  const rwmutex& execLock() const { return execLock_; }
  const ReachCounters& reach() const { return reach_; }
  const std::vector<P*>& allp() const { return allp_; }
  M* allm() const { return allm_.load(std::memory_order_acquire); }
  const std::vector<M*>& allms() const { return allms_; }  // every M ever published (mcommoninit order)
  const std::vector<G*>& allgs() const { return allgs_; }
  int32_t gomaxprocs() const { return gomaxprocs_; }
  M* m0() const { return m0_; }
  int64_t mcount() const { return sched_.mnext - sched_.nmfreed; }
  // Every M, P and G, one per line (Go's schedtrace(detailed) style).
  std::string dump() const;
  // Names a note/mutex address ("m3.park", "sched.stopnote"), "" if unknown.
  std::string describeAddr(const void* addr) const;

  // Go's systemstack(fn): run fn "on g0". The port does not switch stacks —
  // it only makes getg() answer g0 for the duration, which is what the
  // protocol observes: nothing on g0 is preemptible, notesleep is legal.
  template <class F>
  void systemstack(F&& f) {
    M* mp = getm();
    G* gp = mp->curctx;
    if (gp == mp->g0) { f(); return; }
    mp->curctx = mp->g0;
    f();
    mp->curctx = gp;  // code on g0 never changes M
  }

  // ---- The hooks (spec §4.6) ----
  // SyncPoint: before an operation on shared state another M could race with.
  void SyncPoint(Site s) { plat_.syncPoint(s); }
  // PreemptPoint: a place where Go could preempt the running goroutine.
  void PreemptPoint(Site s);

 private:
  friend struct RuntimeAccess;
  // getg().m and getg()
  M* getm() { return static_cast<M*>(plat_.tlsCurrent()); }
  G* getg() { return getm()->curctx; }
  [[noreturn]] void throw_(const char* s);
  void event(Ev e, int a = 0, int b = 0, int c = 0) { plat_.event(e, a, b, c); }

  // primitives (lock_futex.go, proc.go)
  void lock(mutex* l);
  void unlock(mutex* l);
  void noteclear(note* n);
  void notewakeup(note* n);
  void notesleep(note* n);
  bool notetsleep(note* n, int64_t ns);
  M* acquirem();
  void releasem(M* mp);
  uint32_t readgstatus(G* gp) { return gp->atomicstatus.load(std::memory_order_acquire); }
  void casgstatus(G* gp, uint32_t oldval, uint32_t newval);
  bool canPreemptM(M* mp);
  void rlock(rwmutex* rw);
  void runlock(rwmutex* rw);
  void wlock(rwmutex* rw);    // rw.lock (rwmutex.go 82-101)
  void wunlock(rwmutex* rw);  // rw.unlock (rwmutex.go 104-125)

  // control transfer
  void mcall(McallFn fn);
  [[noreturn]] void mcallFinal(McallFn fn);
  void gogo(G* gp);

  // Ms
  static void mstartEntry(void* mp, Fiber* g0);
  void mstart(M* mp, Fiber* g0);
  bool mstart1();
  void mexit();
  M* allocm(P* pp, MStartFn fn, int64_t id);
  void mcommoninit(M* mp, int64_t id);
  int64_t mReserveID();
  void newm(MStartFn fn, P* pp, int64_t id);
  void newm1(M* mp);
  void newosproc(M* mp);
  void startTemplateThread();
  void templateThread();
  void mspinning();
  void stopm();
  void startm(P* pp, bool spinning);
  void handoffp(P* pp);
  void wakep();
  void stoplockedm();
  void startlockedm(G* gp);
  void gcstopm();
  void checkmcount();
  void checkdead();
  void incidlelocked(int32_t v);
  M* mget();
  void mput(M* mp);

  // Ps
  void acquirep(P* pp);
  void wirep(P* pp);
  P* releasep();
  P* pidleget();
  void pidleput(P* pp);
  P* procresize(int32_t nprocs);

  // run queues
  void runqput(P* pp, G* gp, bool next);
  bool runqputslow(P* pp, G* gp, uint32_t h, uint32_t t);
  G* runqget(P* pp, bool* inheritTime);
  bool runqempty(P* pp);
  G* runqsteal(P* pp, P* p2, bool stealRunNextG);
  void globrunqput(G* gp);
  void globrunqputbatch(G* head, G* tail, int32_t n);
  G* globrunqget(P* pp, int32_t max);

  // scheduling
  G* schedule();
  G* execute(G* gp, bool inheritTime);
  G* findrunnable(bool* inheritTime);
  void resetspinning();
  void dropg();
  void initg0(M* mp);
  M* newM();
  G* newG();
  void pdestroy(P* pp);
  G* goschedImpl(G* gp);
  G* gosched_m(G* gp);
  G* gopreempt_m(G* gp);
  G* goexit0(G* gp);
  G* park_m(G* gp);
  void gopark(ParkUnlockFn unlockf, void* lock, const char* reason);
  void goparkunlock(mutex* lk, const char* reason);
  bool parkunlock_c(G* gp, void* lk);
  void goready(G* gp);
  void ready(G* gp, bool next);
  G* newproc1(std::function<void()> fn);
  G* gfget(P* pp);
  void gfput(P* pp, G* gp);
  void gstart(G* gp);  // first code on a new goroutine's stack
  static void gEntry(void* gp);
  void preemptall();
  bool preemptone(P* pp);
  // forEachP and the safe-point function (proc.go 1233-1341).
  void forEachP(void (*fn)(Runtime*, P*));
  void runSafePointFn(int via);  // via: for the trace event (runtime/events.def)

  // locking to threads
  void dolockOSThread();
  void dounlockOSThread();
  void lockOSThread();
  void unlockOSThread();

  // stop the world
  void stopTheWorld(const char* reason);
  void startTheWorld();
  void stopTheWorldWithSema();
  void startTheWorldWithSema();
  void semacquireWorld();
  bool semreleaseWorld();  // true: handed to a waiter

  // syscalls
  void entersyscall();
  void entersyscall_gcwait();
  void entersyscall_sysmon();
  bool exitsyscallfast_pidle();
  void entersyscallblock();
  void exitsyscall();
  bool exitsyscallfast(P* oldp);
  G* exitsyscall0(G* gp);

  void schedinit();
  void runtimeMain();
  void sysmon();
  uint32_t retake(int64_t now);
  void usleep(int64_t us);

  // timers (time.go)
  bool resetForSleep(G* gp, void* arg);
  void addtimer(G* gp, int64_t when);
  void doaddtimer(P* pp, timer t);
  void dodeltimer0(P* pp);
  int64_t checkTimers(P* pp, int64_t now, int64_t* pollUntil, bool* ran);
  int64_t runtimer(P* pp, int64_t now);
  void runOneTimer(P* pp, int64_t now);
  bool shouldStealTimers(P* p2);
  void moveTimers(P* pp, std::vector<timer>& timers);
  int64_t timeSleepUntil();
  int64_t nobarrierWakeTime(P* pp);
  // netpoll, without file descriptors (runtime/time.cpp)
  bool netpollinited() const { return netpollInited_.load() != 0; }
  void netpollGenericInit() { netpollInited_.store(1); }
  void netpoll(int64_t delay);
  void netpollBreak();
  void wakeNetPoller(int64_t when);

  Platform& plat_;
  Config cfg_;
  schedt sched_;
  newmHandoffT newmHandoff_;
  rwmutex execLock_;
  std::vector<P*> allp_;
  std::atomic<M*> allm_{nullptr};
  std::vector<M*> allms_;   // every M published by mcommoninit, in publication order (also exited ones)
  std::vector<G*> allgs_;   // every G published by newproc1 (allglock_)
  // Owners of all M and G memory, from the moment of allocation (newM/newG).
  std::mutex ownMu_;
  std::vector<M*> ownedMs_;
  std::vector<G*> ownedGs_;
  racy<int32_t> gomaxprocs_;
  std::vector<P*> allPs_;   // owns every P ever made; allp_ is its first gomaxprocs entries
  mutex allglock_;
  mutex allpLock_;
  int32_t newprocs_ = 0;
  M* m0_ = nullptr;
  bool mainStarted_ = false;
  std::function<void()> main_;
  // worldsema: a semaphore of one (held by the goroutine that owns a
  // stop-the-world). Waiters park (gopark) in FIFO order.
  mutex worldsemaLock_;
  int32_t worldsema_ = 1;
  std::atomic<uint32_t> netpollInited_{0};
  // The poller's break pipe: breaks written and not yet read. netpoll
  // sleeps on it (a futex word) and drains it.
  std::atomic<uint32_t> netpollWake_{0};
  G* worldsemaHead_ = nullptr;
  G* worldsemaTail_ = nullptr;
  ReachCounters reach_;
};

}  // namespace gort
