// tests/delay_detectors_test.cpp — the delay detectors fire on a planted delay and stay silent on the fixed runtime.
//
// Each detector of fuzz/delay_detectors.h gets a program on which it fires
// (work conservation: the plant gort::Config::plant_no_wakep; stop-the-world
// latency: Bug::asyncpreemptoff, Go's GODEBUG=asyncpreemptoff=1) and the
// same program on the fixed runtime, where it must be silent in strict mode.
// The fair-round bound is pinned on its own: a thread that the schedule
// starves cannot make a round end.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/delay_detectors.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/signature.h"
#include "runtime/runtime.h"
#include "tests/program_text.h"

namespace schedfuzz {
namespace {

Program parse(const std::string& text) { return parseProgramOrFail(text); }

Outcome run(const Program& p, uint32_t bugs, bool strict, bool plant = false) {
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.bugs = bugs;
  cfg.detectors.strict = strict;
  cfg.plant_no_wakep = plant;
  return runProgram(p, c, cfg);
}

uint32_t bit(gort::Bug b) { return 1u << static_cast<unsigned>(b); }

// GOMAXPROCS 2: g0 starts eight goroutines (each made runnable by newproc)
// and then spins; every goroutine spins until it is preempted once (wait:
// sysmon preempts it after 10 ms). With the plant, newproc1 never calls
// wakep, so P1 stays idle and no M spins while goroutines queue on P0 for
// far longer than Go 1.14's own recovery (the 100 ms bound). The fixed
// runtime wakes an M for P1 at the first go.
const char* kIdleP =
    "gomaxprocs 2\n"
    "g0: go(1) go(1) go(1) go(1) go(1) go(1) go(1) go(1) wait(0) wait(0) wait(0) wait(0)\n"
    "g1: wait(1)\n";

TEST(WorkConservation, FiresOnAPlantedMissingWakep) {
  const Program p = parse(kIdleP);
  const Outcome o = run(p, 0, /*strict=*/true, /*plant=*/true);
  RunConfig rc;
  ReportOptions ro;
  ro.full_trace = true;
  ASSERT_EQ(o.result.verdict, Verdict::kInvariant) << formatReport(p, o, rc, ro);
  EXPECT_EQ(o.result.kind, "invariant: work conservation");
  EXPECT_NE(o.result.message.find("is idle (npidle=1) and no M spins"), std::string::npos) << o.result.message;
  EXPECT_GE(o.result.vtime, DelayOptions{}.wc_ns);
  EXPECT_EQ(o.signature, "delay/work-conservation");
  EXPECT_TRUE(knownSignature(o.signature));
  EXPECT_NE(o.cause.find("work conservation: G"), std::string::npos) << o.cause;
}

TEST(WorkConservation, SilentOnTheFixedRuntime) {
  const Outcome o = run(parse(kIdleP), 0, /*strict=*/true);
  EXPECT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
}

TEST(WorkConservation, OnlyInStrictMode) {
  const Outcome o = run(parse(kIdleP), 0, /*strict=*/false, /*plant=*/true);
  EXPECT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
}

// The #10958 shape: g0 spins on a flag nobody sets while g1 stops the world.
// Without async preemption (asyncpreemptoff) the spinner ignores the
// request: Go 1.14 would have stopped it at its next instruction.
const char* kStw =
    "gomaxprocs 2\n"
    "g0: stw signal(0)\n"
    "g1: wait(0)\n";

TEST(StwLatency, FiresWhenAPreemptibleGoroutineIgnoresTheRequest) {
  const Outcome o = run(parse(kStw), bit(gort::Bug::asyncpreemptoff), /*strict=*/true);
  ASSERT_EQ(o.result.verdict, Verdict::kInvariant) << o.result.kind << ": " << o.result.message;
  EXPECT_EQ(o.result.kind, "invariant: stop-the-world latency");
  EXPECT_NE(o.result.message.find("in user code with a preemption request it could honour"), std::string::npos)
      << o.result.message;
  EXPECT_EQ(o.signature, "delay/stopTheWorld-latency");
  EXPECT_TRUE(knownSignature(o.signature));
}

TEST(StwLatency, SilentOnTheFixedRuntime) {
  const Outcome o = run(parse(kStw), 0, /*strict=*/true);
  EXPECT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
}

TEST(StwLatency, WithoutStrictTheHangIsTheLivelockVerdict) {
  const Outcome o = run(parse(kStw), bit(gort::Bug::asyncpreemptoff), /*strict=*/false);
  EXPECT_EQ(o.result.kind, "hang: livelock") << o.result.message;
}

// Fair rounds: a round ends only when every thread seen runnable has run.
// A schedule that keeps choosing thread 0 while thread 1 is runnable ends no
// round, however long it lasts; the first turn of thread 1 ends it. (A
// Runtime that never ran: the predicates see no Ps and never hold.)
TEST(DelayRounds, AStarvedThreadEndsNoRound) {
  struct Never final : Chooser {
    int chooseThread(const ChoicePoint& cp) override { return cp.runnable[0]; }
    bool choosePreempt(uint64_t, int, gort::Site) override { return false; }
  } never;
  SimPlatform sim(never);
  gort::Runtime rt(sim, gort::Config{});
  DelayDetectors d(rt, sim);
  const int both[] = {0, 1};
  const int one[] = {0};
  for (uint64_t s = 0; s < 1000; s++) d.onPoint(ChoicePoint{s, 0, both, gort::Site::kCount}, 0);
  EXPECT_EQ(d.rounds(), 0u);
  d.onPoint(ChoicePoint{1000, 0, both, gort::Site::kCount}, 1);
  EXPECT_EQ(d.rounds(), 1u);
  // A lone runnable thread ends a round at each of its points.
  for (uint64_t s = 0; s < 10; s++) d.onPoint(ChoicePoint{1001 + s, 0, one, gort::Site::kCount}, 0);
  EXPECT_EQ(d.rounds(), 11u);
  // A thread that was runnable once in the round must still run before it ends.
  d.onPoint(ChoicePoint{2000, 0, both, gort::Site::kCount}, 0);
  d.onPoint(ChoicePoint{2001, 0, one, gort::Site::kCount}, 0);
  EXPECT_EQ(d.rounds(), 11u);
  d.onPoint(ChoicePoint{2002, -1, both, gort::Site::kCount}, 1);
  EXPECT_EQ(d.rounds(), 12u);
  std::string kind, msg;
  EXPECT_TRUE(d.check(kind, msg)) << kind;
}

}  // namespace
}  // namespace schedfuzz
