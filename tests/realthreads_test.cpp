// tests/realthreads_test.cpp — the fixed runtime on real threads (pthreads, futexes).
//
// Each run happens in a forked child, as Go's own testprog tests do: a hung
// run's threads cannot be stopped, and the runtime owns its threads for the
// life of the process. The child reports through its exit status: 0 = the
// program finished, 3 = the runtime did not finish within the timeout.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>

#include "runtime/run.h"
#include "runtime/sanitizers.h"

namespace {

using gort::Runtime;

// Runs fn(rt) as main in a child process; returns the child's exit status,
// or -1 if it died from a signal.
int runInChild(const std::function<void(Runtime&)>& main, uint32_t bugs = 0, bool stress = false,
               int64_t timeout_ms = 30000) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -2;
  if (pid == 0) {
    gort::Config cfg;
    cfg.bugs = bugs;
    gort::LinuxPlatform::Options opts;
    opts.stress = stress;
    opts.seed = static_cast<uint64_t>(getpid());
    gort::RealRun r = gort::runOnLinux(cfg, main, opts, timeout_ms * 1'000'000);
    if (!r.finished) {
      fprintf(stderr, "HANG\n%s", r.dump.c_str());
      _exit(3);
    }
    _exit(r.exit_code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Go's testprog LockOSThreadTemplateThreadRace (commit 11b3730a).
void templateThreadRace(Runtime& rt) {
  rt.GOMAXPROCS(4);
  rt.Go([&rt] {
    for (;;) rt.ReadMemStats();
  });
  int64_t start = rt.platform().nanotime() + 10'000'000;
  auto* wg = new Runtime::WaitGroup;  // outlives main: the STW goroutine never ends
  rt.wgAdd(*wg, 2);
  for (int i = 0; i < 2; i++) {
    rt.Go([&rt, wg, start] {
      while (rt.platform().nanotime() < start) rt.UserStep();
      rt.Go([] {});
      rt.LockOSThread();
      rt.Gosched();
      rt.wgDone(*wg);
    });
  }
  rt.wgWait(*wg);
}

// Lockers, stop-the-world loops, syscalls and goroutine churn, all at once.
void mixedLoad(Runtime& rt) {
  rt.GOMAXPROCS(3);
  Runtime::WaitGroup wg;
  std::atomic<int> done{0};
  const int kWorkers = 6;
  rt.wgAdd(wg, kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    rt.Go([&rt, &wg, &done, w] {
      for (int i = 0; i < 20; i++) {
        switch ((w + i) % 6) {
          case 0:
            rt.LockOSThread();
            rt.Gosched();
            rt.UnlockOSThread();
            break;
          case 1: rt.ReadMemStats(); break;
          case 2: rt.Syscall([] {}); break;
          case 3: rt.Go([] {}); break;
          case 4:
            for (int k = 0; k < 50; k++) rt.UserStep();
            break;
          case 5: rt.SyscallBlock([] {}); break;
        }
      }
      if (w == 0) {
        // A locked goroutine that exits takes its thread with it.
        rt.Go([&rt, &wg, &done] {
          rt.LockOSThread();
          done++;
          rt.wgDone(wg);
          rt.Goexit();
        });
        return;  // hands its wgDone to the exiting child
      }
      done++;
      rt.wgDone(wg);
    });
  }
  rt.wgWait(wg);
  if (done.load() != kWorkers) {
    fprintf(stderr, "done=%d\n", done.load());
    rt.platform().exitProcess(4);
  }
}

// The GC's ragged barrier (forEachP under worldsema) on real threads, against
// GOMAXPROCS changes, stops of the world, syscalls (plain and blocking),
// spinners and parking goroutines. Every P must run the safe-point function
// once per barrier, or forEachP throws ("forEachP: not done", "forEachP: P
// did not run fn"), which kills the child.
void raggedBarrierLoad(Runtime& rt) {
  rt.GOMAXPROCS(3);
  Runtime::WaitGroup wg;
  const int kWorkers = 6;
  rt.wgAdd(wg, kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    rt.Go([&rt, &wg, w] {
      for (int i = 0; i < 20; i++) {
        switch ((w + i) % 6) {
          case 0: rt.GC(); break;
          case 1: rt.GOMAXPROCS(1 + (w + i) % 4); break;
          case 2: rt.Syscall([] {}); break;
          case 3:
            for (int k = 0; k < 50; k++) rt.UserStep();
            break;
          case 4: rt.SyscallBlock([] {}); break;
          case 5: rt.Gosched(); break;
        }
      }
      rt.wgDone(wg);
    });
  }
  rt.wgWait(wg);
}

// 200 runs; 50 under TSan, where each forked run costs about a second of
// start-up (200 would add four minutes of wall time to the tsan stage).
TEST(RealThreads, RaggedBarrierFinishesOnTheFixedRuntime) {
  const int runs = GORT_TSAN_ENABLED ? 50 : 200;
  for (int i = 0; i < runs; i++) {
    ASSERT_EQ(runInChild(raggedBarrierLoad, 0, /*stress=*/i % 2 == 1), 0) << "run " << i;
  }
}

TEST(RealThreads, TemplateThreadRaceFinishes200TimesOnTheFixedRuntime) {
  for (int i = 0; i < 200; i++) {
    ASSERT_EQ(runInChild(templateThreadRace), 0) << "run " << i;
  }
}

TEST(RealThreads, MixedLoadFinishes200TimesOnTheFixedRuntime) {
  for (int i = 0; i < 200; i++) {
    ASSERT_EQ(runInChild(mixedLoad, 0, /*stress=*/i % 2 == 1), 0) << "run " << i;
  }
}

// syscall.Exec (the execLock writer) on real threads against thread creations
// (execLock readers): LockOSThread's template thread, newproc's wakep ->
// startm -> newm, sysmon's handoffs of syscall Ps, GOMAXPROCS changes. Every
// reader waits on its M for a writer and the writer for its readers
// (rwmutex.go); a lost wakeup hangs the child.
void execLoad(Runtime& rt) {
  rt.GOMAXPROCS(3);
  Runtime::WaitGroup wg;
  const int kWorkers = 6;
  rt.wgAdd(wg, kWorkers);
  for (int w = 0; w < kWorkers; w++) {
    rt.Go([&rt, &wg, w] {
      for (int i = 0; i < 20; i++) {
        switch ((w + i) % 5) {
          case 0: rt.Exec(); break;
          case 1:
            rt.LockOSThread();
            rt.Go([] {});
            rt.UnlockOSThread();
            break;
          case 2: rt.Go([] {}); break;
          case 3: rt.Syscall([] {}); break;
          case 4: rt.GOMAXPROCS(1 + (w + i) % 4); break;
        }
      }
      rt.wgDone(wg);
    });
  }
  rt.wgWait(wg);
}

// 200 runs; 50 under TSan (as the ragged barrier's: a forked run costs about a second there).
TEST(RealThreads, ExecAgainstThreadCreationFinishesOnTheFixedRuntime) {
  const int runs = GORT_TSAN_ENABLED ? 50 : 200;
  for (int i = 0; i < runs; i++) {
    ASSERT_EQ(runInChild(execLoad, 0, /*stress=*/i % 2 == 1), 0) << "run " << i;
  }
}

TEST(RealThreads, HungRunIsReportedNotWaitedForever) {
  // A planted hang on real threads: main blocks on a WaitGroup nobody
  // completes... except that checkdead would call that a deadlock. So keep
  // one goroutine spinning: the runtime stays alive and never finishes.
  int st = runInChild(
      [](Runtime& rt) {
        rt.Go([&rt] {
          for (;;) rt.UserStep();
        });
        Runtime::WaitGroup wg;
        rt.wgAdd(wg, 1);
        rt.wgWait(wg);
      },
      0, false, 200);
  EXPECT_EQ(st, 3);
}

}  // namespace
