// runtime/os_linux.cpp — LinuxPlatform: pthreads, futex(2), CLOCK_MONOTONIC (Go's os_linux.go).
//
// Follows Go 1.14 src/runtime/os_linux.go (newosproc, futexsleep, futexwakeup).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
#include "runtime/os_linux.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/fiber.h"

namespace gort {

// futexsleep/futexwakeup hand the address of a std::atomic<uint32_t> to the
// kernel as a plain u32 futex word.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
static_assert(alignof(std::atomic<uint32_t>) == alignof(uint32_t));
static_assert(std::atomic<uint32_t>::is_always_lock_free);

namespace {

// Per-thread state. Only touched through the accessors below, so that code
// running on a fiber that migrated to another thread (a goroutine resumed by
// a different M) never uses a TLS address computed on the old one. noinline
// alone does not do it (tests/fiber_test.cpp FiberThreads caught both):
// gcc's IPA marks a function that only returns a TLS address `const` and
// reuses one call's result across a fiber switch in the caller, and LLVM 14
// treats a TLS address as a constant that IPSCCP propagates into the caller.
// tlsAddr launders the address through an empty asm, opaque to both.
thread_local void* t_tls = nullptr;

struct Rng {
  const LinuxPlatform* owner = nullptr;
  uint64_t state = 0;
};
thread_local Rng t_rng;
thread_local bool t_in_fatal = false;

template <class T>
__attribute__((always_inline)) inline T& tlsAddr(T& v) {
  T* p = &v;
  asm volatile("" : "+r"(p)::"memory");
  return *p;
}
__attribute__((noinline)) void*& tlsSlot() { return tlsAddr(t_tls); }
__attribute__((noinline)) Rng& rngSlot() { return tlsAddr(t_rng); }
__attribute__((noinline)) bool& inFatalSlot() { return tlsAddr(t_in_fatal); }

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::atomic<uint64_t> g_rng_streams{0};  // distinct stream per thread

// One process-wide latch: the first fatal dumps and aborts; others wait for it.
std::atomic<bool> g_fatal_started{false};

struct ThreadStart {
  Platform::ThreadEntry entry;
  void* arg;
  int mid;
  sigset_t sigmask;  // the creator's mask, restored once the thread runs
};

void* threadStart(void* p) {
  ThreadStart st = *static_cast<ThreadStart*>(p);
  delete static_cast<ThreadStart*>(p);
  // Go's minit: the thread was born with every signal blocked.
  pthread_sigmask(SIG_SETMASK, &st.sigmask, nullptr);
  char name[16];
  std::snprintf(name, sizeof name, "gort-M%d", st.mid);
  pthread_setname_np(pthread_self(), name);
  // Still on the thread's own stack: this is the M's g0.
  Fiber* g0 = Fiber::ForThisThread();
  std::snprintf(name, sizeof name, "M%d", st.mid);
  g0->SetName(name);
  st.entry(st.arg, g0);
  return nullptr;
}

}  // namespace

LinuxPlatform::LinuxPlatform() : LinuxPlatform(Options{}) {}

LinuxPlatform::LinuxPlatform(const Options& opts) : opts_(opts) {
  if (opts_.yield_one_in == 0 || opts_.preempt_one_in == 0) {
    std::fprintf(stderr, "gort: LinuxPlatform: yield_one_in and preempt_one_in must be >= 1\n");
    std::abort();
  }
}

LinuxPlatform::~LinuxPlatform() = default;

void LinuxPlatform::setDumper(std::function<std::string()> d) {
  std::lock_guard<std::mutex> lk(dump_mu_);
  dumper_ = std::move(d);
}

// --- threads -------------------------------------------------------------

void LinuxPlatform::newosproc(int mid, ThreadEntry entry, void* arg) {
  auto* st = new ThreadStart{entry, arg, mid, {}};
  // As Go's newosproc: block every signal while cloning, so none lands on
  // the new thread before it is set up; it restores st->sigmask itself.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  st->sigmask = old;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t tid;
  const int rc = pthread_create(&tid, &attr, &threadStart, st);
  pthread_attr_destroy(&attr);
  if (rc != 0) {  // (on success st belongs to the new thread, which may have freed it already)
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    delete st;
    char msg[96];
    std::snprintf(msg, sizeof msg, "newosproc: failed to create new OS thread for M%d (%s)", mid,
                  std::strerror(rc));
    fatal("newosproc", msg);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  threads_started_.fetch_add(1, std::memory_order_relaxed);
}

__attribute__((noinline)) void* LinuxPlatform::tlsGet() { return tlsSlot(); }

__attribute__((noinline)) void LinuxPlatform::tlsSet(void* v) { tlsSlot() = v; }

// --- futex -----------------------------------------------------------------

void LinuxPlatform::futexsleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) {
  // EAGAIN (*addr != val), EINTR and ETIMEDOUT are all ordinary returns: the
  // caller rechecks its condition, as with Go's futexsleep.
  if (ns < 0) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, nullptr, nullptr, 0);
    return;
  }
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, &ts, nullptr, 0);
}

void LinuxPlatform::futexwakeup(std::atomic<uint32_t>* addr, uint32_t cnt) {
  const int n = cnt > static_cast<uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(cnt);
  const long ret = syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr,
                           nullptr, 0);
  if (ret >= 0) return;
  char msg[96];
  std::snprintf(msg, sizeof msg, "futexwakeup addr=%p returned %ld (%s)", static_cast<void*>(addr), ret,
                std::strerror(errno));
  fatal("futexwakeup", msg);
}

void LinuxPlatform::osyield() { sched_yield(); }

int64_t LinuxPlatform::nanotime() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// --- hooks -----------------------------------------------------------------

uint64_t LinuxPlatform::nextRandom() {
  Rng& r = rngSlot();
  if (r.owner != this || r.state == 0) {
    r.owner = this;
    r.state = splitmix64(opts_.seed ^ splitmix64(g_rng_streams.fetch_add(1, std::memory_order_relaxed)));
    if (r.state == 0) r.state = 1;
  }
  // xorshift64 (Marsaglia 2003).
  uint64_t x = r.state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  r.state = x;
  return x;
}

void LinuxPlatform::syncPoint(Site s) {
  (void)s;
  if (!opts_.stress) return;
  if (nextRandom() % opts_.yield_one_in == 0) sched_yield();
}

bool LinuxPlatform::injectPreempt(Site s) {
  if (!opts_.stress || siteInfo(s).kind != SiteKind::kUser) return false;
  return nextRandom() % opts_.preempt_one_in == 0;
}

void LinuxPlatform::event(Ev e, int a, int b, int c) {
  (void)a, (void)b, (void)c;
  const auto i = static_cast<size_t>(e);
  if (i < static_cast<size_t>(Ev::kCount)) event_counts_[i].fetch_add(1, std::memory_order_relaxed);
}

uint64_t LinuxPlatform::eventCount(Ev e) const {
  const auto i = static_cast<size_t>(e);
  return i < static_cast<size_t>(Ev::kCount) ? event_counts_[i].load(std::memory_order_relaxed) : 0;
}

// --- reporting ---------------------------------------------------------------

void LinuxPlatform::fatal(const char* kind, const char* msg) {
  std::fprintf(stderr, "fatal error: %s [kind=%s]\n", msg ? msg : "?", kind ? kind : "?");
  bool& in_fatal = inFatalSlot();
  if (in_fatal) {  // the dumper itself threw
    std::fputs("fatal error: fatal while reporting a fatal error\n", stderr);
    std::abort();
  }
  in_fatal = true;
  if (g_fatal_started.exchange(true)) {
    // Another thread is dumping the runtime; let it finish and abort the
    // process. Do not wait forever if its dumper hangs.
    for (int i = 0; i < 100; i++) usleep(50 * 1000);
    std::abort();
  }
  std::function<std::string()> d;
  {
    std::lock_guard<std::mutex> lk(dump_mu_);
    d = dumper_;
  }
  if (d) {
    const std::string dump = d();
    std::fputs("\n--- runtime state ---\n", stderr);
    std::fwrite(dump.data(), 1, dump.size(), stderr);
    if (!dump.empty() && dump.back() != '\n') std::fputc('\n', stderr);
  }
  std::fflush(stderr);
  std::abort();
}

void LinuxPlatform::exitProcess(int code) {
  {
    std::lock_guard<std::mutex> lk(exit_mu_);
    if (!exited_) {  // the first exit wins, as in a real process
      exited_ = true;
      exit_code_ = code;
    }
    // Notify under the lock: once it is released, waitExit may return and
    // its caller destroy this platform.
    exit_cv_.notify_all();
  }
  // Park forever. Touch nothing of `this` from here on.
  for (;;) pause();
}

bool LinuxPlatform::waitExit(int64_t timeout_ns, int* code) {
  std::unique_lock<std::mutex> lk(exit_mu_);
  if (timeout_ns < 0) {
    exit_cv_.wait(lk, [this] { return exited_; });
  } else if (!exit_cv_.wait_for(lk, std::chrono::nanoseconds(timeout_ns), [this] { return exited_; })) {
    return false;
  }
  if (code != nullptr) *code = exit_code_;
  return true;
}

}  // namespace gort
