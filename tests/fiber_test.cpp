// tests/fiber_test.cpp — the runtime layer under the scheduler: Fiber, LinuxPlatform, site/event tables.
//
// Suites by intent:
//   FiberBasic       create, run, switch, destroy; stacks hold their contents
//   FiberRecycle     Reset after SwitchFinal or after abandonment, many times
//   FiberPool        stacks come back through the process-wide pool, bounded
//   FiberThreads     a fiber suspended on one OS thread resumes on another
//   FiberNoSync      TSan no-sync switch mode: the wrapper's own bookkeeping
//                    stays race-free (meaningful under -fsanitize=thread)
//   FiberDeath       misuse aborts with a message instead of corrupting
//   LinuxPlatform    newosproc threads, futexes, waitExit, stress hooks, fatal
//   PlatformTables   siteInfo / eventName / eventFormat, bounds-checked
//
// Every suite must pass plain, under ASan+UBSan (also with
// ASAN_OPTIONS=detect_stack_use_after_return=1) and under TSan.
#include <execinfo.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cfenv>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/fiber.h"
#include "runtime/os_linux.h"
#include "runtime/platform.h"
#include "runtime/sanitizers.h"

#if GORT_ASAN_ENABLED
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace {

using gort::Fiber;

// A fiber running body(task); when body returns the fiber leaves for good
// to exit_to. Fields are written before Create, so the fiber sees them.
struct Task {
  std::function<void(Task&)> body;
  Fiber* self = nullptr;
  Fiber* exit_to = nullptr;

  static void entry(void* p) {
    Task* t = static_cast<Task*>(p);
    t->body(*t);
    Fiber::SwitchFinal(t->self, t->exit_to);
  }
  Fiber* spawn(Fiber* exit, size_t stack_size = 0) {
    exit_to = exit;
    self = Fiber::Create(&Task::entry, this, stack_size);
    return self;
  }
};

// Per-thread reads as code on a migrating fiber must write them. noinline
// alone is not enough, and this test failed both ways before the asm:
//  * g++ -O2: IPA marks a function that just returns a TLS address `const`
//    and reuses the first call's result across the Fiber::Switch;
//  * clang++ -O2: LLVM 14 treats a TLS address as a constant, so IPSCCP
//    replaces the call's result with that constant in the caller, where it is
//    computed once, on the old thread (LLVM 16's llvm.threadlocal.address
//    fixes this).
// The asm makes the returned pointer opaque to both.
thread_local int t_marker;
__attribute__((noinline)) int* markerAddr() {
  int* p = &t_marker;
  asm volatile("" : "+r"(p)::"memory");
  return p;
}
__attribute__((noinline)) long currentTid() { return syscall(SYS_gettid); }

// Writes through a pointer to a local, so the frame has an escaping local:
// under ASan with detect_stack_use_after_return it lives on the fake stack.
__attribute__((noinline)) void scribble(volatile char* p, size_t n, char v) {
  for (size_t i = 0; i < n; i++) p[i] = v;
}
__attribute__((noinline)) int useEscapingLocal(char v) {
  volatile char buf[256];
  scribble(buf, sizeof buf, v);
  return buf[17];
}

__attribute__((noinline)) int recurse(int depth) {
  volatile char buf[1024];
  scribble(buf, sizeof buf, static_cast<char>(depth));
  if (depth == 0) return buf[3];
  return recurse(depth - 1) + buf[5];
}

__attribute__((noinline)) uintptr_t frameAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
}

long vmSizeKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmSize:", 0) == 0) return std::stol(line.substr(7));
  return -1;
}

// ============================================================================
// FiberBasic

TEST(FiberBasic, CreateRunDestroy) {
  Fiber* main = Fiber::ForThisThread();
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main, Fiber::ForThisThread());
  bool ran = false;
  Task t;
  t.body = [&](Task&) { ran = true; };
  Fiber* f = t.spawn(main);
  f->SetName("G1");
  EXPECT_FALSE(ran);
  Fiber::Switch(main, f);
  EXPECT_TRUE(ran);
  Fiber::Destroy(f);
}

TEST(FiberBasic, ResumesWhereItLeftAndKeepsItsLocals) {
  Fiber* main = Fiber::ForThisThread();
  std::vector<int> seen;
  Task t;
  t.body = [&](Task& self) {
    char local[512];
    for (size_t i = 0; i < sizeof local; i++) local[i] = static_cast<char>(i * 7);
    for (int step = 0; step < 5; step++) {
      seen.push_back(step);
      Fiber::Switch(self.self, main);
    }
    for (size_t i = 0; i < sizeof local; i++)
      if (local[i] != static_cast<char>(i * 7)) seen.push_back(-1);
  };
  Fiber* f = t.spawn(main);
  for (int i = 0; i < 5; i++) {
    Fiber::Switch(main, f);
    EXPECT_EQ(seen.size(), static_cast<size_t>(i + 1));
  }
  Fiber::Switch(main, f);  // finishes
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  Fiber::Destroy(f);
}

TEST(FiberBasic, DefaultStackHoldsDeepRecursion) {
  Fiber* main = Fiber::ForThisThread();
  int result = -1;
  Task t;
  t.body = [&](Task&) { result = recurse(100); };  // > 100 KiB of frames
  Fiber* f = t.spawn(main);
  Fiber::Switch(main, f);
  EXPECT_NE(result, -1);
  Fiber::Destroy(f);
}

TEST(FiberBasic, PingPong10kSwitches) {
  constexpr int kRounds = 10000;
  Fiber* main = Fiber::ForThisThread();
  int count = 0;
  Task a, b;
  Fiber* fb = nullptr;
  a.body = [&](Task& self) {
    for (int i = 0; i < kRounds; i++) {
      count++;
      Fiber::Switch(self.self, fb);
    }
  };
  b.body = [&](Task& self) {
    for (;;) {  // never ends: abandoned, then destroyed while suspended
      count++;
      Fiber::Switch(self.self, a.self);
    }
  };
  Fiber* fa = a.spawn(main);
  fb = b.spawn(main);
  a.self->SetName("ping");
  fb->SetName("pong");
  Fiber::Switch(main, fa);
  EXPECT_EQ(count, 2 * kRounds);
  Fiber::Destroy(fa);
  Fiber::Destroy(fb);
}

// The floating-point control state (MXCSR, x87 control word) travels with
// the fiber: both switch implementations save and restore it.
TEST(FiberBasic, FloatingPointRoundingModeIsPerFiber) {
  Fiber* main = Fiber::ForThisThread();
  const int main_mode = std::fegetround();
  int seen_in_fiber = -1;
  Task t;
  t.body = [&](Task& self) {
    std::fesetround(FE_UPWARD);
    Fiber::Switch(self.self, main);
    seen_in_fiber = std::fegetround();
    std::fesetround(main_mode);
  };
  Fiber* f = t.spawn(main);
  Fiber::Switch(main, f);
  EXPECT_EQ(std::fegetround(), main_mode);
  Fiber::Switch(main, f);
  EXPECT_EQ(seen_in_fiber, FE_UPWARD);
  EXPECT_EQ(std::fegetround(), main_mode);
  Fiber::Destroy(f);
}

// Unwinding from inside a fiber stops at the bottom of its stack instead of
// walking into garbage (debuggers, profilers and sanitizer reports do this).
TEST(FiberBasic, BacktraceInsideAFiberTerminates) {
  Fiber* main = Fiber::ForThisThread();
  int depth = -1;
  Task t;
  t.body = [&](Task&) {
    void* frames[64];
    depth = backtrace(frames, 64);
  };
  Fiber* f = t.spawn(main);
  Fiber::Switch(main, f);
  EXPECT_GT(depth, 0);
  EXPECT_LT(depth, 64);
  Fiber::Destroy(f);
}

TEST(FiberBasic, FibersCanCreateAndStartOtherFibers) {
  Fiber* main = Fiber::ForThisThread();
  std::string log;
  Task inner, outer;
  inner.body = [&](Task&) { log += "inner;"; };
  outer.body = [&](Task& self) {
    log += "outer;";
    Fiber* f = inner.spawn(self.self);
    Fiber::Switch(self.self, f);
    log += "back;";
    Fiber::Destroy(f);
  };
  Fiber* f = outer.spawn(main);
  Fiber::Switch(main, f);
  EXPECT_EQ(log, "outer;inner;back;");
  Fiber::Destroy(f);
}

// ============================================================================
// FiberRecycle

TEST(FiberRecycle, SwitchFinalThenResetStartsAfresh) {
  Fiber* main = Fiber::ForThisThread();
  std::string log;
  Task first, second;
  first.body = [&](Task&) { log += "first;"; };
  second.body = [&](Task&) { log += "second;"; };
  Fiber* f = first.spawn(main);
  Fiber::Switch(main, f);
  second.self = f;
  second.exit_to = main;
  f->Reset(&Task::entry, &second);
  Fiber::Switch(main, f);
  EXPECT_EQ(log, "first;second;");
  Fiber::Destroy(f);
}

TEST(FiberRecycle, ResetAndReuseManyTimes) {
  constexpr int kCycles = 3000;
  Fiber* main = Fiber::ForThisThread();
  int sum = 0;
  Task t;
  t.body = [&](Task& self) {
    sum += useEscapingLocal(1);
    Fiber::Switch(self.self, main);  // suspend once per incarnation
    sum += 1;
  };
  Fiber* f = t.spawn(main);
  for (int i = 0; i < kCycles; i++) {
    if (i > 0) f->Reset(&Task::entry, &t);
    Fiber::Switch(main, f);
    Fiber::Switch(main, f);
  }
  EXPECT_EQ(sum, 2 * kCycles);
  Fiber::Destroy(f);
}

TEST(FiberRecycle, ResetWhileSuspendedAbandonsTheOldRun) {
  Fiber* main = Fiber::ForThisThread();
  int starts = 0, resumed = 0;
  Task t;
  t.body = [&](Task& self) {
    starts++;
    useEscapingLocal(2);
    Fiber::Switch(self.self, main);
    resumed++;  // only the last incarnation gets here
  };
  Fiber* f = t.spawn(main);
  for (int i = 0; i < 100; i++) {
    if (i > 0) f->Reset(&Task::entry, &t);
    Fiber::Switch(main, f);  // runs up to its Switch back, then is abandoned
  }
  Fiber::Switch(main, f);
  EXPECT_EQ(starts, 100);
  EXPECT_EQ(resumed, 1);
  Fiber::Destroy(f);
}

// Abandoning a fiber (Reset or Destroy while suspended) must release what
// it holds. Under ASan with detect_stack_use_after_return every fiber that
// ran owns a fake stack (11 MiB of address space with 1 MiB stacks, ~3 MiB
// at today's 256 KiB). A pooled fiber keeps its fake stack, so a leak only
// shows when more fibers are abandoned at once than the pool keeps: without
// retireFakeStack in fiber.cpp this test grew VmSize by ~1.6 GiB (measured
// with 1 MiB stacks), with it by the ASan quarantine only.
TEST(FiberRecycle, AbandonedFibersLeakNothing) {
  Fiber* main = Fiber::ForThisThread();
  std::vector<Task> tasks(300);
  for (Task& t : tasks) {
    t.body = [main](Task& self) {
      useEscapingLocal(3);
      Fiber::Switch(self.self, main);
    };
  }
  auto round = [&] {
    for (size_t i = 0; i < tasks.size(); i++) {
      Fiber* f = tasks[i].spawn(main);
      Fiber::Switch(main, f);
      if (i % 4 == 0) {  // abandoned by Reset, then run again
        f->Reset(&Task::entry, &tasks[i]);
        Fiber::Switch(main, f);
      }
    }
    for (Task& t : tasks) Fiber::Destroy(t.self);  // all suspended: abandoned
  };
  round();  // warm the pool and the allocator
  const long before = vmSizeKiB();
  for (int i = 0; i < 3; i++) round();
  const long after = vmSizeKiB();
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 768 * 1024) << "VmSize grew from " << before << " KiB to " << after << " KiB";
}

// ============================================================================
// FiberPool

TEST(FiberPool, DestroyedStacksAreReused) {
  Fiber* main = Fiber::ForThisThread();
  uintptr_t frame = 0;
  Task t;
  t.body = [&](Task&) { frame = frameAddress(); };

  Fiber* spare = t.spawn(nullptr);  // the pool is not full now (it may be, after other tests)
  Fiber* f = t.spawn(main);
  Fiber::Switch(main, f);
  const uintptr_t first = frame;
  const size_t pooled_before = Fiber::PooledStacks();
  Fiber::Destroy(f);
  EXPECT_EQ(Fiber::PooledStacks(), pooled_before + 1);

  Fiber* g = t.spawn(main);  // takes the stack just returned
  EXPECT_EQ(Fiber::PooledStacks(), pooled_before);
  Fiber::Switch(main, g);
  EXPECT_EQ(frame, first);
  Fiber::Destroy(g);
  Fiber::Destroy(spare);
}

TEST(FiberPool, NeverRunFibersGoBackToThePool) {
  const size_t pooled = Fiber::PooledStacks();
  std::vector<Fiber*> fs;
  Task t;
  t.body = [](Task&) {};
  for (int i = 0; i < 8; i++) fs.push_back(t.spawn(nullptr));
  EXPECT_LE(Fiber::PooledStacks(), pooled);
  for (Fiber* f : fs) Fiber::Destroy(f);
  EXPECT_GE(Fiber::PooledStacks(), 8u);
}

TEST(FiberPool, IsBounded) {
  std::vector<Fiber*> fs;
  Task t;
  t.body = [](Task&) {};
  for (int i = 0; i < 300; i++) fs.push_back(t.spawn(nullptr));
  for (Fiber* f : fs) Fiber::Destroy(f);
  EXPECT_LE(Fiber::PooledStacks(), 256u);
  EXPECT_GE(Fiber::PooledStacks(), 200u);
}

TEST(FiberPool, StackSizesAreNotMixed) {
  Fiber* main = Fiber::ForThisThread();
  int result = -1;
  Task small;
  small.body = [&](Task&) { result = recurse(8); };
  for (int i = 0; i < 50; i++) {
    Fiber* f = small.spawn(main, 64 << 10);
    Fiber::Switch(main, f);
    Fiber::Destroy(f);
  }
  EXPECT_NE(result, -1);
  // A default-sized fiber still gets a default-sized stack.
  Task deep;
  deep.body = [&](Task&) { result = recurse(100); };
  Fiber* f = deep.spawn(main);
  Fiber::Switch(main, f);
  Fiber::Destroy(f);
}

#if GORT_ASAN_ENABLED
// Leaves the only pointer to a fresh allocation in a dead frame of the
// fiber's stack.
__attribute__((noinline)) void leakFromAFrame() {
  void* volatile slot[2];
  slot[0] = std::malloc(48);
  slot[1] = nullptr;
  (void)slot[1];
}

// Pooled stacks are reachable heap chunks that LeakSanitizer scans; stale
// pointers in them must not hide a leak made on a fiber. (Needs LSan on,
// the default for ASan on Linux.)
TEST(FiberPool, LeakSanitizerSeesLeaksOfRecycledFibers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Fiber* main = Fiber::ForThisThread();
        Task t;
        t.body = [](Task&) { leakFromAFrame(); };
        Fiber* f = t.spawn(main);
        Fiber::Switch(main, f);
        Fiber::Destroy(f);  // the stack, with the dead frame, goes to the pool
        // _exit: skip LSan's own check at exit, which would find it too.
        _exit(__lsan_do_recoverable_leak_check() ? 3 : 0);
      },
      ::testing::ExitedWithCode(3), "Direct leak of 48 byte");
}
#endif

#if GORT_ASAN_ENABLED
// Called with a 12 KiB local alive (a 16 KiB fake frame: 16 of them fit a
// 256 KiB fiber's fake stack); leaves the fiber from inside that frame.
// Records whether ASan placed the local on the fake stack.
__attribute__((noinline)) void leaveFromABigFrame(Fiber* self, Fiber* to, bool* on_fake) {
  volatile char big[12 << 10];
  scribble(big, sizeof big, 5);
  void* fs = __asan_get_current_fake_stack();
  *on_fake = fs != nullptr &&
             __asan_addr_is_in_fake_stack(fs, const_cast<char*>(big), nullptr, nullptr) != nullptr;
  Fiber::Switch(self, to);
}

__attribute__((noinline)) void* currentFakeStack() {
  useEscapingLocal(6);  // makes sure the fiber has one
  return __asan_get_current_fake_stack();
}

// With detect_stack_use_after_return, a recycled fiber brings its fake
// stack back with it, whether it finished or was abandoned: ASan maps no
// new one (before, every fiber that ran mapped an 11 MiB fake stack, which
// ASan unmapped when the fiber finished or was abandoned).
TEST(FiberPool, FakeStacksComeBackWithTheirStacks) {
  if (__asan_get_current_fake_stack() == nullptr)
    GTEST_SKIP() << "needs ASAN_OPTIONS=detect_stack_use_after_return=1";
  Fiber* main = Fiber::ForThisThread();
  std::set<void*> fake_stacks;
  bool finish = false;
  Task t;
  t.body = [&](Task& self) {
    fake_stacks.insert(currentFakeStack());
    if (!finish) Fiber::Switch(self.self, main);  // abandoned here
  };
  Fiber* f = t.spawn(main);
  for (int i = 0; i < 40; i++) {
    finish = i % 3 == 0;
    if (i > 0) {
      if (i % 2 == 0) {
        f->Reset(&Task::entry, &t);
      } else {
        Fiber::Destroy(f);  // to the pool, and out again (last in, first out)
        f = t.spawn(main);
      }
    }
    Fiber::Switch(main, f);
  }
  Fiber::Destroy(f);
  EXPECT_EQ(fake_stacks.size(), 1u);
  EXPECT_EQ(fake_stacks.count(nullptr), 0u);
}

// Leaves the fiber from inside a frame with an alloca'd buffer and reports
// where its right redzone is, and whether that is on the fiber's own stack.
__attribute__((noinline)) void leaveWithALiveAlloca(Fiber* self, Fiber* to, char** redzone, bool* on_stack) {
  constexpr size_t kSize = 100;
  char* p = static_cast<char*>(__builtin_alloca(kSize));
  scribble(p, kSize, 7);
  *redzone = p + kSize;
  const uintptr_t here = frameAddress(), rz = reinterpret_cast<uintptr_t>(p);
  *on_stack = rz < here + 4096 && here < rz + 4096;
  Fiber::Switch(self, to);
}

// A frame abandoned on a fiber's stack leaves redzones in ASan's shadow;
// the fiber's next user must not find them there (false reports). fiber.cpp
// unpoisons, when a fiber is retired, the part of its stack that can hold
// them.
TEST(FiberRecycle, AbandonedFramesLeaveNoPoisonOnARecycledStack) {
  Fiber* main = Fiber::ForThisThread();
  char* redzone = nullptr;
  bool on_stack = false;
  Task t;
  t.body = [&](Task& self) { leaveWithALiveAlloca(self.self, main, &redzone, &on_stack); };
  Fiber* f = t.spawn(main);
  Fiber::Switch(main, f);
  ASSERT_NE(redzone, nullptr);
  if (!on_stack || !__asan_address_is_poisoned(redzone)) {
    Fiber::Destroy(f);
    // With detect_stack_use_after_return clang 14 puts the buffer on the
    // fake stack, where ASan resets a frame's shadow whenever it hands the
    // frame out again.
    GTEST_SKIP() << "the alloca is not on the fiber's stack, or its redzone is not poisoned";
  }
  f->Reset(&Task::entry, &t);  // abandoned with the alloca live
  EXPECT_FALSE(__asan_address_is_poisoned(redzone));
  Fiber::Switch(main, f);
  ASSERT_TRUE(__asan_address_is_poisoned(redzone));
  Fiber::Destroy(f);  // abandoned again, now into the pool
  EXPECT_FALSE(__asan_address_is_poisoned(redzone));
}

// A fiber's fake stack follows it across Reset and the pool, and keeps
// the frames its earlier incarnations abandoned; fiber.cpp has ASan collect
// them when the next incarnation starts. Without that, the 16 KiB size class
// fills after 16 incarnations and ASan quietly puts the frame on the real
// stack, where use-after-return goes undetected.
TEST(FiberRecycle, AbandonedFramesDoNotFillTheFakeStack) {
  if (__asan_get_current_fake_stack() == nullptr)
    GTEST_SKIP() << "needs ASAN_OPTIONS=detect_stack_use_after_return=1";
  Fiber* main = Fiber::ForThisThread();
  bool on_fake = false;
  int on_fake_runs = 0;
  Task t;
  t.body = [&](Task& self) { leaveFromABigFrame(self.self, main, &on_fake); };
  Fiber* f = t.spawn(main);
  constexpr int kRuns = 100;
  for (int i = 0; i < kRuns; i++) {
    if (i > 0) {
      if (i % 2 == 0) {
        f->Reset(&Task::entry, &t);  // abandoned in place
      } else {
        Fiber::Destroy(f);  // abandoned, back to the pool, and (most likely) out again
        f = t.spawn(main);
      }
    }
    on_fake = false;
    Fiber::Switch(main, f);
    if (on_fake) on_fake_runs++;
  }
  Fiber::Destroy(f);
  EXPECT_EQ(on_fake_runs, kRuns);
}
#endif

TEST(FiberPool, DestroyNeverRunFiberManyTimes) {
  Task t;
  t.body = [](Task&) {};
  for (int i = 0; i < 20000; i++) {
    Fiber* f = t.spawn(nullptr);
    if (i % 3 == 0) f->SetName("never-run");
    Fiber::Destroy(f);
  }
  SUCCEED();
}

// ============================================================================
// FiberThreads

TEST(FiberThreads, FiberCreatedOnOneThreadResumesOnAnother) {
  struct Shared {
    Fiber* resumer = nullptr;  // the thread fiber that switched in last
    long tid[2] = {0, 0};
    int* tls[2] = {nullptr, nullptr};
    std::atomic<int> phase{0};  // 1: suspended on t1; 2: finished on t2
    std::atomic<bool> t2_done{false};
  } s;
  Task t;
  t.body = [&](Task& self) {
    s.tid[0] = currentTid();
    s.tls[0] = markerAddr();
    Fiber* back = s.resumer;  // read before phase 1: then t2 overwrites it (TSan caught this)
    s.phase.store(1);
    Fiber::Switch(self.self, back);
    s.tid[1] = currentTid();  // now on the second thread
    s.tls[1] = markerAddr();  // ... and its thread-local block
    s.phase.store(2);
    self.exit_to = s.resumer;
  };
  Fiber* f = nullptr;
  // t1 stays alive until t2 is done, so the two threads' TLS blocks differ.
  std::thread t1([&] {
    Fiber* me = Fiber::ForThisThread();
    f = t.spawn(nullptr);
    s.resumer = me;
    Fiber::Switch(me, f);
    while (!s.t2_done.load()) std::this_thread::yield();
  });
  while (s.phase.load() != 1) std::this_thread::yield();
  std::thread t2([&] {
    Fiber* me = Fiber::ForThisThread();
    s.resumer = me;
    Fiber::Switch(me, f);
    Fiber::Destroy(f);
    s.t2_done.store(true);
  });
  t2.join();
  t1.join();
  EXPECT_EQ(s.phase.load(), 2);
  EXPECT_NE(s.tid[0], s.tid[1]);
  EXPECT_NE(s.tls[0], s.tls[1]);
}

TEST(FiberThreads, FiberMigratesBackAndForthBetweenThreads) {
  constexpr int kHops = 400;
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // which thread runs the fiber next; guarded by mu
  bool done = false;
  Fiber* resumer = nullptr;
  std::set<long> tids;
  int steps = 0;
  Task t;
  t.body = [&](Task& self) {
    for (int i = 0; i < kHops; i++) {
      steps++;
      tids.insert(currentTid());
      useEscapingLocal(4);
      Fiber::Switch(self.self, resumer);
    }
    self.exit_to = resumer;
  };
  Fiber* f = t.spawn(nullptr);
  auto worker = [&](int me) {
    Fiber* g0 = Fiber::ForThisThread();
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return turn == me || done; });
      if (done) return;
      resumer = g0;
      Fiber::Switch(g0, f);  // runs one hop with the lock held
      if (steps == kHops && !done) {
        Fiber::Switch(g0, f);  // lets it finish
        done = true;
      }
      turn = 1 - me;
      cv.notify_all();
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  Fiber::Destroy(f);
  EXPECT_EQ(steps, kHops);
  EXPECT_EQ(tids.size(), 2u);
}

TEST(FiberThreads, ThreadsShareThePoolConcurrently) {
  constexpr int kThreads = 4, kRounds = 300;
  std::atomic<int> total{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < kThreads; w++) {
    ts.emplace_back([&] {
      Fiber* me = Fiber::ForThisThread();
      int local = 0;
      Task t;
      t.body = [&](Task& self) {
        local += useEscapingLocal(1);
        Fiber::Switch(self.self, me);
        local += 1;
      };
      for (int i = 0; i < kRounds; i++) {
        Fiber* f = t.spawn(me);
        Fiber::Switch(me, f);
        if (i % 2 == 0) Fiber::Switch(me, f);  // else abandoned
        Fiber::Destroy(f);
      }
      total += local;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(total.load(), kThreads * (kRounds + kRounds / 2));
}

// ============================================================================
// FiberNoSync
//
// With no-sync switches TSan treats fibers as concurrent threads. The test
// itself only shares atomics, so any report would come from the wrapper:
// a Fiber created by one fiber and switched to by another, stacks recycled
// between fibers with no happens-before between them, Reset of a fiber
// abandoned by another.

struct NoSyncGuard {
  NoSyncGuard() { gort::setFiberSwitchNoSync(true); }
  ~NoSyncGuard() { gort::setFiberSwitchNoSync(false); }
};

struct NoSyncWorld {
  std::atomic<Fiber*> main{nullptr}, a{nullptr}, b{nullptr};
  std::atomic<int> progress{0};
};

void noSyncB(void* p) {
  auto* w = static_cast<NoSyncWorld*>(p);
  for (;;) {
    w->progress.fetch_add(useEscapingLocal(1), std::memory_order_relaxed);
    Fiber::Switch(w->b.load(std::memory_order_relaxed), w->a.load(std::memory_order_relaxed));
  }
}

void noSyncA(void* p) {
  auto* w = static_cast<NoSyncWorld*>(p);
  Fiber* me = w->a.load(std::memory_order_relaxed);
  // Created here, first switched to by main.
  w->b.store(Fiber::Create(&noSyncB, w), std::memory_order_relaxed);
  Fiber::Switch(me, w->main.load(std::memory_order_relaxed));
  for (int i = 0; i < 50; i++) {
    w->progress.fetch_add(useEscapingLocal(1), std::memory_order_relaxed);
    Fiber::Switch(me, w->b.load(std::memory_order_relaxed));
  }
  Fiber::SwitchFinal(me, w->main.load(std::memory_order_relaxed));
}

TEST(FiberNoSync, WrapperBookkeepingIsRaceFree) {
  NoSyncGuard guard;
  EXPECT_EQ(gort::fiberSwitchNoSync(), static_cast<bool>(GORT_TSAN_ENABLED));
  for (int round = 0; round < 20; round++) {
    NoSyncWorld w;
    Fiber* main = Fiber::ForThisThread();
    w.main.store(main, std::memory_order_relaxed);
    Fiber* a = Fiber::Create(&noSyncA, &w);
    w.a.store(a, std::memory_order_relaxed);
    Fiber::Switch(main, a);                                    // a creates b
    Fiber::Switch(main, w.b.load(std::memory_order_relaxed));  // b runs first, then a and b alternate
    EXPECT_EQ(w.progress.load(std::memory_order_relaxed), 101);
    // a finished; b is suspended: abandon it, and run a afresh.
    Fiber::Destroy(w.b.load(std::memory_order_relaxed));
    a->Reset(&noSyncA, &w);
    a->SetName("a");
    Fiber::Switch(main, a);                               // creates a new b
    Fiber::Destroy(w.b.load(std::memory_order_relaxed));  // the new b, never run
    Fiber::Destroy(a);                                     // suspended: abandoned
  }
}

// ============================================================================
// FiberDeath

void returningEntry(void*) {}

TEST(FiberDeath, EntryFunctionReturningAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::ForThisThread();
        Fiber* f = Fiber::Create(&returningEntry, nullptr);
        f->SetName("G7");
        Fiber::Switch(main, f);
      },
      "entry function of fiber G7 returned");
}

TEST(FiberDeath, SwitchFromAFiberThatIsNotRunningAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::ForThisThread();
        Task t;
        t.body = [](Task&) {};
        Fiber* f = t.spawn(main);
        Fiber::Switch(f, main);  // called on main, naming f as the fiber leaving
      },
      "which is not running");
}

TEST(FiberDeath, SwitchToItselfAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::ForThisThread();
        Fiber::Switch(main, main);
      },
      "to itself");
}

TEST(FiberDeath, DestroyingTheThreadFiberAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Fiber::Destroy(Fiber::ForThisThread()), "never destroyed");
}

volatile int g_recursion_limit = 1 << 30;  // never reached: the stack ends first
__attribute__((noinline)) int recurseForever(int depth) {
  volatile char buf[512];
  scribble(buf, sizeof buf, static_cast<char>(depth));
  if (depth >= g_recursion_limit) return buf[3];
  return recurseForever(depth + 1) + buf[7];
}

// Running off the end of a fiber's stack kills the process (guard page, or
// an ASan report) instead of silently overwriting a neighbour.
TEST(FiberDeath, StackOverflowIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::ForThisThread();
        Task t;
        t.body = [](Task&) { recurseForever(0); };
        Fiber* f = t.spawn(main, 64 << 10);
        Fiber::Switch(main, f);
      },
      "");
}

TEST(FiberDeath, ResumingAFinishedFiberAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::ForThisThread();
        Task t;
        t.body = [](Task&) {};
        Fiber* f = t.spawn(main);
        Fiber::Switch(main, f);
        Fiber::Switch(main, f);
      },
      "finished \\(Reset it first\\)");
}

// ============================================================================
// LinuxPlatform

// Two threads started with newosproc pass a token back and forth over one
// futex word; the second one ends the program with exitProcess.
struct FutexPingPong {
  gort::LinuxPlatform* p = nullptr;
  static constexpr int kRounds = 2000;
  std::atomic<uint32_t> turn{0};
  std::atomic<int> next_id{0};
  std::atomic<int> finished{0};
  std::atomic<int> g0_ok{0};
  std::atomic<int> tls_ok{0};
};

void pingPongThread(void* arg, Fiber* g0) {
  auto* s = static_cast<FutexPingPong*>(arg);
  const uint32_t me = static_cast<uint32_t>(s->next_id.fetch_add(1));
  if (g0 != nullptr && g0 == Fiber::ForThisThread()) s->g0_ok.fetch_add(1);
  s->p->tlsSet(s);
  for (int i = 0; i < FutexPingPong::kRounds; i++) {
    for (;;) {
      const uint32_t v = s->turn.load();
      if (v == me) break;
      s->p->futexsleep(&s->turn, v, -1);
    }
    s->turn.store(1 - me);
    s->p->futexwakeup(&s->turn, 1);
  }
  if (s->p->tlsGet() == s) s->tls_ok.fetch_add(1);
  if (me == 1) {
    s->finished.fetch_add(1);
    s->p->exitProcess(42);
  }
  s->finished.fetch_add(1);  // last touch of *s
}

// exitProcess parks its thread forever, by design. A parked thread left in
// the test process would make every later fork() in the suite a fork of a
// multi-threaded process (TSan then refuses to start threads in the child:
// tests/realthreads_test.cpp failed that way), so the tests that call
// exitProcess run in a child process of their own.
#define CHECK_IN_CHILD(cond)                                                     \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); \
      _exit(1);                                                                  \
    }                                                                            \
  } while (0)

void inChildProcess(void (*body)()) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        body();
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

void pingPongBody() {
  gort::LinuxPlatform p;
  FutexPingPong s;
  s.p = &p;
  p.newosproc(1, &pingPongThread, &s);
  p.newosproc(2, &pingPongThread, &s);
  int code = 0;
  CHECK_IN_CHILD(p.waitExit(int64_t{60} * 1000000000, &code));  // else: hung
  CHECK_IN_CHILD(code == 42);
  while (s.finished.load() < 2) std::this_thread::yield();
  CHECK_IN_CHILD(s.g0_ok.load() == 2);
  CHECK_IN_CHILD(s.tls_ok.load() == 2);
  CHECK_IN_CHILD(p.threadsStarted() == 2u);
  // A second waitExit sees the same exit at once.
  code = 0;
  CHECK_IN_CHILD(p.waitExit(0, &code));
  CHECK_IN_CHILD(code == 42);
}

TEST(LinuxPlatform, NewosprocThreadsPingPongOverAFutexAndExit) { inChildProcess(&pingPongBody); }

// A goroutine fiber started on one M's g0 and resumed on another M's g0,
// as happens when a G is put back on a run queue and stolen.
struct Handoff {
  gort::LinuxPlatform* p = nullptr;
  std::atomic<Fiber*> g{nullptr};
  std::atomic<uint32_t> ready{0};  // futex: 1 once g is parked and ready for M2
  std::atomic<Fiber*> resumer{nullptr};
  std::atomic<long> tid_before{0}, tid_after{0};
  std::atomic<int> finished{0};
};

void handoffG(void* arg) {
  auto* h = static_cast<Handoff*>(arg);
  h->tid_before.store(currentTid());
  Fiber::Switch(h->g.load(), h->resumer.load());  // park on M1
  h->tid_after.store(currentTid());                // running on M2
  Fiber::SwitchFinal(h->g.load(), h->resumer.load());
}

void handoffM1(void* arg, Fiber* g0) {
  auto* h = static_cast<Handoff*>(arg);
  h->resumer.store(g0);
  Fiber* g = Fiber::Create(&handoffG, h);
  g->SetName("G1");
  h->g.store(g);
  Fiber::Switch(g0, g);
  h->ready.store(1);
  h->p->futexwakeup(&h->ready, 1);
  h->finished.fetch_add(1);
}

void handoffM2(void* arg, Fiber* g0) {
  auto* h = static_cast<Handoff*>(arg);
  while (h->ready.load() == 0) h->p->futexsleep(&h->ready, 0, -1);
  h->resumer.store(g0);
  Fiber::Switch(g0, h->g.load());
  Fiber::Destroy(h->g.load());
  h->finished.fetch_add(1);
  h->p->exitProcess(0);
}

void handoffBody() {
  gort::LinuxPlatform p;
  Handoff h;
  h.p = &p;
  p.newosproc(2, &handoffM2, &h);
  p.newosproc(1, &handoffM1, &h);
  int code = -1;
  CHECK_IN_CHILD(p.waitExit(int64_t{60} * 1000000000, &code));
  CHECK_IN_CHILD(code == 0);
  while (h.finished.load() < 2) std::this_thread::yield();
  CHECK_IN_CHILD(h.tid_before.load() != 0);
  CHECK_IN_CHILD(h.tid_before.load() != h.tid_after.load());
}

TEST(LinuxPlatform, GoroutineFiberMigratesBetweenNewosprocThreads) { inChildProcess(&handoffBody); }

TEST(LinuxPlatform, FutexsleepTimesOutAndChecksTheValue) {
  gort::LinuxPlatform p;
  std::atomic<uint32_t> w{0};
  int64_t t0 = p.nanotime();
  p.futexsleep(&w, 0, 2 * 1000 * 1000);  // nobody wakes us: times out
  int64_t t1 = p.nanotime();
  EXPECT_GE(t1 - t0, 1 * 1000 * 1000);
  w.store(1);
  p.futexsleep(&w, 0, -1);  // *addr != val: returns at once instead of sleeping forever
  p.futexwakeup(&w, 1);     // nobody sleeping: fine
  p.osyield();
  EXPECT_GE(p.nanotime(), t1);
}

TEST(LinuxPlatform, WaitExitTimesOutWhenNobodyExits) {
  gort::LinuxPlatform p;
  int code = 7;
  EXPECT_FALSE(p.waitExit(20 * 1000 * 1000, &code));
  EXPECT_EQ(code, 7);
  EXPECT_FALSE(p.waitExit(0, &code));
}

TEST(LinuxPlatform, TlsIsPerThread) {
  gort::LinuxPlatform p;
  int mine = 0, theirs = 0;
  p.tlsSet(&mine);
  void* seen_before = &mine;
  void* seen_after = nullptr;
  std::thread t([&] {
    seen_before = p.tlsGet();
    p.tlsSet(&theirs);
    seen_after = p.tlsGet();
  });
  t.join();
  EXPECT_EQ(seen_before, nullptr);
  EXPECT_EQ(seen_after, &theirs);
  EXPECT_EQ(p.tlsGet(), &mine);
  p.tlsSet(nullptr);
}

TEST(LinuxPlatform, HooksDoNothingByDefault) {
  gort::LinuxPlatform p;
  for (int i = 0; i < 1000; i++) {
    p.syncPoint(gort::Site::lock_acquire);
    EXPECT_FALSE(p.injectPreempt(gort::Site::user_step));
  }
}

TEST(LinuxPlatform, StressModeInjectsPreemptionsOnlyAtUserSites) {
  gort::LinuxPlatform::Options o;
  o.stress = true;
  o.seed = 12345;
  gort::LinuxPlatform p(o);
  int user = 0, other = 0;
  for (int i = 0; i < 20000; i++) {
    p.syncPoint(gort::Site::lock_acquire);
    for (size_t s = 0; s < static_cast<size_t>(gort::Site::kCount); s++) {
      const auto site = static_cast<gort::Site>(s);
      if (!p.injectPreempt(site)) continue;
      (gort::siteInfo(site).kind == gort::SiteKind::kUser ? user : other)++;
    }
  }
  EXPECT_GT(user, 0);
  EXPECT_LT(user, 20000 / 8);  // small probability
  EXPECT_EQ(other, 0);
}

TEST(LinuxPlatform, EventsAreCounted) {
  gort::LinuxPlatform p;
  p.event(gort::Ev::mstart, 1);
  p.event(gort::Ev::mstart, 2);
  p.event(static_cast<gort::Ev>(250), 0);  // out of range: ignored
  EXPECT_EQ(p.eventCount(gort::Ev::mstart), 2u);
  EXPECT_EQ(p.eventCount(gort::Ev::mexit), 0u);
}

TEST(LinuxPlatform, FatalPrintsMessageKindAndDumpThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gort::LinuxPlatform p;
        p.setDumper([] { return std::string("M0: DUMP-MARKER\n"); });
        p.fatal("throw", "stoplockedm: inconsistent locking");
      },
      "fatal error: stoplockedm: inconsistent locking \\[kind=throw\\].*M0: DUMP-MARKER");
}

// ============================================================================
// PlatformTables

TEST(PlatformTables, SitesAndEventsComeFromTheDefFiles) {
  const gort::SiteInfo& lock = gort::siteInfo(gort::Site::lock_acquire);
  EXPECT_STREQ(lock.name, "lock_acquire");
  EXPECT_STREQ(lock.func, "lock");
  EXPECT_EQ(lock.kind, gort::SiteKind::kSync);
  EXPECT_EQ(gort::siteInfo(gort::Site::user_step).kind, gort::SiteKind::kUser);
  EXPECT_STREQ(gort::eventName(gort::Ev::mstart), "mstart");
  EXPECT_STREQ(gort::eventFormat(gort::Ev::mstart), "mstart M%d");

  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(gort::Site::kCount); i++) {
    const gort::SiteInfo& si = gort::siteInfo(static_cast<gort::Site>(i));
    ASSERT_NE(si.name, nullptr);
    ASSERT_NE(si.func, nullptr);
    EXPECT_TRUE(names.insert(si.name).second) << "duplicate site " << si.name;
  }
  for (size_t i = 0; i < static_cast<size_t>(gort::Ev::kCount); i++) {
    EXPECT_STRNE(gort::eventName(static_cast<gort::Ev>(i)), "?");
    EXPECT_NE(gort::eventFormat(static_cast<gort::Ev>(i)), nullptr);
  }
}

TEST(PlatformTables, OutOfRangeValuesMapToQuestionMark) {
  EXPECT_STREQ(gort::siteInfo(gort::Site::kCount).name, "?");
  EXPECT_STREQ(gort::siteInfo(static_cast<gort::Site>(0xffff)).func, "?");
  EXPECT_STREQ(gort::eventName(gort::Ev::kCount), "?");
  EXPECT_STREQ(gort::eventFormat(static_cast<gort::Ev>(255)), "?");
}

}  // namespace
