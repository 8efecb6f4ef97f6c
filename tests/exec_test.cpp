// tests/exec_test.cpp — the execLock writer (syscall.Exec) and Bug::issue20903, on runtime programs.
//
// Go 1.14.1's rwmutex (rwmutex.go) blocks the calling M and keeps its P, for
// readers (newm1, proc.go 1747-1754) and the writer (syscall_runtime_BeforeExec,
// proc.go 3341-3350) alike. These tests pin: Exec completes on the fixed
// runtime under many schedules while thread creations race with it (and the
// two wait paths, reader behind writer and writer behind readers, are really
// taken); with Bug::issue20903 and Bug::issue38931 together, a reader
// preempted inside newm1 while an exec waits hangs the run, and with either
// switch alone the same schedule finishes.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "fuzz/cause.h"
#include "fuzz/choosers.h"
#include "fuzz/signature.h"
#include "fuzz/sim/executor.h"
#include "fuzz/trace.h"
#include "runtime/runtime.h"
#include "tests/sim_run.h"

namespace schedfuzz {
namespace {

using gort::Runtime;

constexpr uint32_t bit(gort::Bug b) { return 1u << static_cast<unsigned>(b); }
const uint32_t kBug20903 = bit(gort::Bug::issue20903);
const uint32_t kBug38931 = bit(gort::Bug::issue38931);

// Runs the threads in id order like ByteChooser({}) and injects one
// preemption request: at the first PreemptPoint at `site`.
class PreemptAtSite final : public Chooser {
 public:
  explicit PreemptAtSite(gort::Site site) : site_(site) {}
  int chooseThread(const ChoicePoint& cp) override { return cp.current >= 0 ? cp.current : cp.runnable[0]; }
  bool choosePreempt(uint64_t, int, gort::Site site) override {
    if (done_ || site != site_) return false;
    done_ = true;
    return true;
  }
  bool fired() const { return done_; }

 private:
  gort::Site site_;
  bool done_ = false;
};

// G2 locks its thread (the first LockOSThread starts the template thread:
// newm -> newm1 -> execLock.rlock -> newosproc); G1 calls syscall.Exec.
void lockThenExec(Runtime& rt) {
  // One Gosched first: main ran from runnext (schedtick still 0), and at
  // schedtick 0 schedule takes the global queue's head first (proc.go 2508),
  // which would put the preempted reader straight back on the P.
  rt.Gosched();
  Runtime::WaitGroup wg;
  rt.wgAdd(wg, 2);
  // Started second, G1 runs first (runnext).
  rt.Go([&] {
    rt.Exec();
    rt.wgDone(wg);
  });
  rt.Go([&] {
    rt.LockOSThread();
    rt.UnlockOSThread();
    rt.wgDone(wg);
  });
  rt.wgWait(wg);
}

TEST(Exec, WriterAloneCompletes) {
  ByteChooser ch({});
  SimRun r = runSim(ch, 2, 0, [](Runtime& rt) {
    rt.Exec();
    rt.Exec();
  });
  EXPECT_EQ(r.result.verdict, Verdict::kOk) << r.result.kind << ": " << r.result.message;
  EXPECT_EQ(countEvents(r.trace, gort::Ev::exec_execve), 2);
}

// A reader preempted inside newm1 (at newosproc's prologue) holds execLock:
// with both switches the exec on the only P waits for it forever.
TEST(Exec, PreemptedReaderAndWaitingWriterHangOnlyWithBothSwitches) {
  for (uint32_t bugs : {kBug20903 | kBug38931, kBug20903, kBug38931, 0u}) {
    PreemptAtSite ch(gort::Site::newosproc_prologue);
    SimRun r = runSim(ch, 1, bugs, lockThenExec);
    const std::string which = std::string(gort::bugName(gort::Bug::issue20903)) + "=" + (bugs & kBug20903 ? "1" : "0") +
                              " " + gort::bugName(gort::Bug::issue38931) + "=" + (bugs & kBug38931 ? "1" : "0");
    if (bugs == (kBug20903 | kBug38931)) {
      ASSERT_TRUE(ch.fired());
      EXPECT_EQ(r.result.verdict, Verdict::kStall) << r.result.kind << ": " << r.result.message << "\n" << r.flat();
      EXPECT_EQ(countEvents(r.trace, gort::Ev::exec_writer_wait), 1) << r.flat();
      EXPECT_NE(r.flat().find("preempted G3 at newosproc"), std::string::npos) << r.flat();
    } else {
      // Without both, m.locks > 0 at newosproc's prologue on this path
      // (rlock's acquirem, or 11b3730a's around startTemplateThread): the
      // site is never offered, and the run finishes.
      EXPECT_FALSE(ch.fired()) << which;
      EXPECT_EQ(r.result.verdict, Verdict::kOk) << which << ": " << r.result.kind << ": " << r.result.message << "\n"
                                                << r.flat();
    }
  }
}

// Requests at every prologue on the way (the reader's newm, allocm, newm1,
// rlock; the writer's BeforeExec): with one switch only, every run finishes.
TEST(Exec, PreemptionsEverywhereNeedBothSwitchesToHang) {
  class PreemptAll final : public Chooser {
   public:
    int chooseThread(const ChoicePoint& cp) override { return cp.current >= 0 ? cp.current : cp.runnable[0]; }
    bool choosePreempt(uint64_t, int, gort::Site) override { return true; }
  };
  for (uint32_t bugs : {kBug20903, kBug38931, 0u}) {
    PreemptAll ch;
    SimRun r = runSim(ch, 1, bugs, lockThenExec);
    EXPECT_EQ(r.result.verdict, Verdict::kOk) << "bugs " << bugs << ": " << r.result.kind << ": " << r.result.message
                                              << "\n" << r.flat();
  }
}

// The cause of the hang names the writer and the descheduled reader, with
// sysmon (a stall: sysmon's timed sleeps go on) and without (a deadlock).
struct LiveRun : LiveSim {
  PreemptAtSite chooser{gort::Site::newosproc_prologue};

  LiveRun(uint32_t bugs, bool sysmon) {
    gort::Config cfg;
    cfg.gomaxprocs = 1;
    cfg.bugs = bugs;
    cfg.sysmon = sysmon;
    run(chooser, cfg, lockThenExec);
  }
};

TEST(ExecCause, StallNamesTheWriterAndTheDescheduledReader) {
  LiveRun r(kBug20903 | kBug38931, /*sysmon=*/true);
  ASSERT_EQ(r.result.verdict, Verdict::kStall) << r.result.kind;
  const Cause c = r.explain();
  EXPECT_EQ(signatureOf(c), "stall/execLock/reader-descheduled") << c.text;
  EXPECT_TRUE(knownSignature(signatureOf(c)));
  EXPECT_NE(c.text.find("execLock.lock: writer M0 (G2, syscall.Exec) sleeps on m0.park holding P0, waiting for 1 "
                        "reader(s); the read lock is held by G3 (_Grunnable, preempted in newosproc), which lost "
                        "its P inside newm1"),
            std::string::npos)
      << c.text;
}

TEST(ExecCause, WithoutSysmonTheSameHangIsADeadlockWithTheSameCulprit) {
  LiveRun r(kBug20903 | kBug38931, /*sysmon=*/false);
  ASSERT_EQ(r.result.verdict, Verdict::kDeadlock) << r.result.kind;
  const Cause c = r.explain();
  EXPECT_EQ(signatureOf(c), "deadlock/execLock/reader-descheduled") << c.text;
  EXPECT_TRUE(knownSignature(signatureOf(c)));
}

TEST(ExecCause, SilentOnTheFixedRuntimeAndWithOneSwitch) {
  for (uint32_t bugs : {0u, kBug20903, kBug38931}) {
    for (bool sysmon : {true, false}) {
      LiveRun r(bugs, sysmon);
      EXPECT_EQ(r.result.verdict, Verdict::kOk) << bugs << " " << sysmon << ": " << r.result.kind;
      EXPECT_EQ(signatureOf(r.explain()), "");
    }
  }
}

// Exec racing thread creations on the fixed runtime: every schedule finishes,
// and both rwmutex wait paths are taken somewhere.
TEST(Exec, RacesWithThreadCreationFinishOnTheFixedRuntime) {
  auto program = [](Runtime& rt) {
    Runtime::WaitGroup wg;
    rt.wgAdd(wg, 4);
    rt.Go([&] {
      rt.LockOSThread();
      rt.Go([] {});  // work for a new M (wakep -> startm -> newm1)
      rt.UnlockOSThread();
      rt.wgDone(wg);
    });
    rt.Go([&] {
      rt.Exec();
      rt.Go([] {});
      rt.Exec();
      rt.wgDone(wg);
    });
    rt.Go([&] {
      rt.Go([] {});
      rt.Exec();
      rt.wgDone(wg);
    });
    rt.Go([&] {
      rt.Syscall([] {});  // a P for sysmon to retake and hand off (startm -> newm1)
      rt.Exec();
      rt.wgDone(wg);
    });
    rt.wgWait(wg);
  };
  int writerWaits = 0, readerWaits = 0;
  for (uint64_t seed = 0; seed < 600; seed++) {
    RandomWalkChooser ch(seed, 0.3, 0.05);
    SimRun r = runSim(ch, 1 + static_cast<int>(seed % 4), 0, program);
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.kind << ": " << r.result.message;
    writerWaits += countEvents(r.trace, gort::Ev::exec_writer_wait);
    readerWaits += countEvents(r.trace, gort::Ev::exec_reader_wait);
  }
  EXPECT_GT(writerWaits, 0);
  EXPECT_GT(readerWaits, 0);
}

}  // namespace
}  // namespace schedfuzz
