// runtime/os_linux.h — the real platform: Ms are pthreads, futexes are the syscall.
//
// Follows Go 1.14 src/runtime/os_linux.go (newosproc, futexsleep, futexwakeup).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
//
// LinuxPlatform implements gort::Platform for running gort on real threads
// (examples, the real-thread stress tests, cross-checking the deterministic
// executor). It mirrors Go's os_linux.go: newosproc clones a thread with
// every signal blocked, futexsleep/futexwakeup are FUTEX_WAIT_PRIVATE /
// FUTEX_WAKE_PRIVATE, nanotime is CLOCK_MONOTONIC.
//
// The two hooks do nothing by default. Stress mode (Options::stress) widens
// race windows instead: syncPoint calls sched_yield at random, and
// injectPreempt occasionally asks for a preemption at user-code sites
// (SiteKind::kUser), as sysmon's preemptone / an async preemption signal
// would. Randomness is a per-thread xorshift seeded from Options::seed, but
// real threads make no run reproducible; that is what fuzz/sim is for.
//
// Ending: exitProcess records the exit code, wakes the thread blocked in
// waitExit and parks the calling thread forever (the process, not gort,
// decides when to exit). A caller that never sees waitExit return true has
// a hang on its hands: it can dump the runtime and decide.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "runtime/platform.h"

namespace gort {

class LinuxPlatform final : public Platform {
 public:
  struct Options {
    // Yield at random sync points and inject preemptions at user sites.
    bool stress = false;
    // Seed of the per-thread xorshift generators (stress mode).
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    // Stress mode: sched_yield at one sync point in `yield_one_in` (>= 1).
    uint32_t yield_one_in = 4;
    // Stress mode: injectPreempt is true at one kUser site in `preempt_one_in` (>= 1).
    uint32_t preempt_one_in = 64;
  };

  LinuxPlatform();
  explicit LinuxPlatform(const Options& opts);
  ~LinuxPlatform() override;
  LinuxPlatform(const LinuxPlatform&) = delete;
  LinuxPlatform& operator=(const LinuxPlatform&) = delete;

  const Options& options() const { return opts_; }

  // Text dump of the runtime (every M, P, G), printed by fatal before it
  // aborts. Set it before starting the runtime.
  void setDumper(std::function<std::string()> d);

  // Blocks until some thread calls exitProcess, then returns true with the
  // code in *code (if code != nullptr). Returns false when timeout_ns
  // (< 0: no limit) passes first: the program hangs.
  bool waitExit(int64_t timeout_ns, int* code = nullptr);

  // How many times event(e, ...) was called (relaxed counters).
  uint64_t eventCount(Ev e) const;
  // Threads started by newosproc so far.
  uint64_t threadsStarted() const { return threads_started_.load(std::memory_order_relaxed); }

  // gort::Platform
  void newosproc(int mid, ThreadEntry entry, void* arg) override;
  void* tlsGet() override;
  void tlsSet(void* v) override;
  void futexsleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) override;
  void futexwakeup(std::atomic<uint32_t>* addr, uint32_t cnt) override;
  void osyield() override;
  int64_t nanotime() override;
  void syncPoint(Site s) override;
  bool injectPreempt(Site s) override;
  void event(Ev e, int a = 0, int b = 0, int c = 0) override;  // same defaults as Platform
  [[noreturn]] void fatal(const char* kind, const char* msg) override;
  [[noreturn]] void exitProcess(int code) override;

 private:
  uint64_t nextRandom();

  const Options opts_;
  std::atomic<uint64_t> threads_started_{0};
  std::atomic<uint64_t> event_counts_[static_cast<size_t>(Ev::kCount)] = {};

  std::mutex dump_mu_;
  std::function<std::string()> dumper_;

  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
  bool exited_ = false;  // guarded by exit_mu_
  int exit_code_ = 0;    // guarded by exit_mu_
};

}  // namespace gort
