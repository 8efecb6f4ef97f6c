// tests/progress_test.cpp — the stall rule's third kind of progress: the
// program reporting completed work (SimPlatform::noteProgress), and the
// harness using it for every op, so that goroutines sleeping in long system
// calls are not a hang while a leaked-P stop-the-world still is.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/sim/executor.h"
#include "runtime/fiber.h"
#include "tests/program_text.h"
#include "tests/test_files.h"

namespace schedfuzz {
namespace {

struct Sleeper {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> word{0};  // nobody wakes it: only time ends each sleep
  bool report = false;
  int rounds = 100;
};

void sleeperMain(void* arg, gort::Fiber*) {
  Sleeper& s = *static_cast<Sleeper*>(arg);
  for (int i = 0; i < s.rounds; i++) {
    s.p->futexsleep(&s.word, 0, 1'000'000);  // 1 ms, all of it a jump of idle time
    if (s.report) s.p->noteProgress();
  }
  s.p->exitProcess(0);
}

TEST(StallProgress, TimedSleepsThatReportCompletedWorkAreNotAStall) {
  // 100 ms of idle jumps, five times stall_ns, with a unit of work done
  // after each millisecond.
  ByteChooser c({});
  SimPlatform p(c);
  Sleeper s;
  s.p = &p;
  s.report = true;
  RunResult r = p.run(sleeperMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.kind << ": " << r.message;
  EXPECT_GE(r.vtime, 5 * SimOptions{}.stall_ns);
}

TEST(StallProgress, TheSameSleepsWithoutReportsForEverAreAStall) {
  ByteChooser c({});
  SimOptions o;
  SimPlatform p(c, o);
  Sleeper s;
  s.p = &p;
  s.report = false;
  s.rounds = 1'000'000'000;  // never ends
  RunResult r = p.run(sleeperMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kStall);
  EXPECT_EQ(r.kind, "hang: stall");
  EXPECT_GT(r.vtime, o.livelock_ns);
  EXPECT_LT(r.steps, 2000u);  // suspected after stall_ns / 1 ms sleeps, then proved in few jumps
}

TEST(StallProgress, TheSameSleepsWithoutReportsButFiniteAreNoStall) {
  // 100 ms of sleeps nobody wakes and no report: long, but it ends.
  ByteChooser c({});
  SimPlatform p(c);
  Sleeper s;
  s.p = &p;
  s.report = false;
  RunResult r = p.run(sleeperMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.kind << ": " << r.message;
}

Program parse(const std::string& text) { return parseProgramOrFail(text); }

TEST(StallProgress, LongSyscallsOfTheHarnessAreProgressOnTheFixedRuntime) {
  // Found by sched_fuzzer as a false "hang: stall" on the fixed runtime before
  // the harness reported ops as progress: goroutines queued on one P run rows
  // of 240 us nanosleeps, and for more than stall_ns (20 ms) of virtual time
  // no thread wakes another. Every op completes; the run takes ~314 ms.
  Program p = parse(
      "# schedfuzz program v1\ngomaxprocs 1\n"
      "g0: go(0) nanosleep(11) signal(7) nanosleep(11) nanosleep(11) nanosleep(11) nanosleep(11) nanosleep(11) "
      "signal(6) newm gosched go(0) stw wait(3) wait(3)\n"
      "g1: wait(3) signal(6) unlock lock go(6) gosched wait(6) lock\n"
      "choices: switch+102->t2 switch+111->t2 switch+1->t15\n");
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  Outcome o = runProgram(p, c, cfg);
  EXPECT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  EXPECT_GT(o.result.vtime, 5 * SimOptions{}.stall_ns);
}

TEST(StallProgress, ALeakedPStopTheWorldIsStillAStall) {
  // The #38931 reproducer: its ops stop completing once the P is leaked, so
  // the stop-the-world poll is a stall as before.
  std::string text;
  ASSERT_TRUE(testing::readFile(std::string(SCHEDFUZZ_SOURCE_DIR) + "/corpus/regressions/issue38931/repro.txt", text));
  Program p = parse(text);
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.bugs = 1u << static_cast<unsigned>(gort::Bug::issue38931);
  Outcome o = runProgram(p, c, cfg);
  EXPECT_EQ(o.result.kind, "hang: stall") << o.result.message;
}

}  // namespace
}  // namespace schedfuzz
