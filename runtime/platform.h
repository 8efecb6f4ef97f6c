// runtime/platform.h — the seam: everything gort asks of the OS, plus the two hooks.
//
// Original to schedfuzz: follows no Go file (its calls are named after Go's OS layer: newosproc,
// futexsleep, futexwakeup, osyield, nanotime).
// SPDX-License-Identifier: Apache-2.0
//
// The same runtime code runs on two platforms:
//  * runtime/os_linux.*: the real one. Ms are pthreads, futexes are the
//    syscall, SyncPoint does nothing (or yields at random in stress mode),
//    PreemptPoint never injects.
//  * fuzz/sim/executor.*: the deterministic one. Ms are fibers on one OS
//    thread, one runs at a time; at every SyncPoint a Chooser decides whether
//    to switch and to which M; futex waits block fibers; time is virtual.
//
// Threads: newosproc starts a thread that calls entry(arg, g0) where g0 is the
// Fiber standing for that thread's own stack (the M's g0). The thread ends
// when entry returns. Thread-local storage is one pointer (tlsGet/tlsSet),
// which gort uses for "the current M" (Go's getg().m).
#pragma once
#include <atomic>
#include <cstdint>

namespace gort {

class Fiber;

// Named sites: every SyncPoint and PreemptPoint names one, so traces and
// feedback can say where a switch or a preemption happened.
enum class SiteKind : uint8_t {
  kSync,     // SyncPoint: before an operation on shared state another M could race with
  kPreempt,  // PreemptPoint at the prologue of a non-nosplit runtime function on a user g
  kUser,     // PreemptPoint at a step of user code (async-preemptible)
};

enum class Site : uint16_t {
#define GORT_SITE(name, func, kind) name,
#include "runtime/sites.def"
#undef GORT_SITE
  kCount
};

struct SiteInfo {
  const char* name;  // enum name, e.g. "newm_prologue"
  const char* func;  // Go function it belongs to, e.g. "newm"
  SiteKind kind;
};
const SiteInfo& siteInfo(Site s);

// Runtime events recorded in traces. Arguments are small integers (ids).
enum class Ev : uint8_t {
#define GORT_EVENT(name, fmt) name,
#include "runtime/events.def"
#undef GORT_EVENT
  kCount
};
// printf-like format with up to three %d for the event's arguments.
const char* eventFormat(Ev e);
const char* eventName(Ev e);

class Platform {
 public:
  using ThreadEntry = void (*)(void* arg, Fiber* g0);
  virtual ~Platform() = default;

  // --- threads -----------------------------------------------------------
  // Start a new OS thread for M number `mid`; it runs entry(arg, its own fiber).
  virtual void newosproc(int mid, ThreadEntry entry, void* arg) = 0;
  virtual void* tlsGet() = 0;
  virtual void tlsSet(void* v) = 0;
  // tlsGet without a virtual call where the platform can: the deterministic
  // executor runs every M on one OS thread and keeps the running M's value
  // in current_tls_ (getm() is the runtime's most frequent call: a tenth of
  // an execution was the virtual tlsGet). The real platform leaves
  // current_tls_valid_ false and answers from its thread_local.
  void* tlsCurrent() { return current_tls_valid_ ? current_tls_ : tlsGet(); }

  // --- futex (Linux semantics) -------------------------------------------
  // Sleep while *addr == val, at most ns nanoseconds if ns >= 0. May wake
  // spuriously. Called on whatever fiber is running on this thread.
  virtual void futexsleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) = 0;
  // Wake up to cnt threads sleeping on addr.
  virtual void futexwakeup(std::atomic<uint32_t>* addr, uint32_t cnt) = 0;
  virtual void osyield() = 0;
  virtual int64_t nanotime() = 0;

  // --- fibers within a thread ----------------------------------------------
  // The calling thread is about to leave the fiber it runs on for `to`, a
  // fiber of the same thread (an M's g0 <-> one of its goroutines), with
  // Fiber::Switch or Fiber::SwitchFinal. Call it right before the switch,
  // with nothing in between. The deterministic executor switches threads by
  // switching away from whatever fiber the running thread is on, so it must
  // know that fiber; the real platform has nothing to do.
  virtual void onFiberSwitch(Fiber* to) {}

  // --- the hooks -----------------------------------------------------------
  // Before an operation on shared state that another M could race with.
  virtual void syncPoint(Site s) = 0;
  // At a PreemptPoint: should a preemption request be delivered to the
  // running goroutine here (modelling sysmon's preemptone or a signal)? The
  // runtime then applies newstack's rules (canPreemptM) itself.
  virtual bool injectPreempt(Site s) = 0;

  // --- reporting -----------------------------------------------------------
  virtual void event(Ev e, int a = 0, int b = 0, int c = 0) = 0;
  // Go's throw: an invariant of the runtime failed. Never returns. The real
  // platform prints and aborts; the executor ends the run with a verdict.
  [[noreturn]] virtual void fatal(const char* kind, const char* msg) = 0;
  // The program is done (main goroutine returned, or os.Exit). Never returns
  // on the executor; the real platform signals the waiting caller and parks
  // the calling thread forever.
  [[noreturn]] virtual void exitProcess(int code) = 0;

 protected:
  // See tlsCurrent(). A platform that sets current_tls_valid_ must update
  // current_tls_ whenever the running thread or its value changes.
  void* current_tls_ = nullptr;
  bool current_tls_valid_ = false;
};

}  // namespace gort
