// tests/foreachp_test.cpp — forEachP, the safe-point function and the gc op (issue 13 item 6).
//
// The gc op (fuzz/harness.cpp, runtime/stw.cpp Runtime::GC) holds worldsema,
// reads gomaxprocs and runs forEachP (go1.14.1 proc.go 1233-1312). Pinned here:
//  * every P runs the safe-point function exactly once per forEachP, by each
//    of the paths Go has (the "via" of the safepoint_fn event: 0 forEachP for
//    an idle P, 1 its own P, 2 handoffp case 5, 3 schedule/findrunnable,
//    4 entersyscall), and the fixed runtime never throws or hangs doing it;
//  * golang/go#10618's mechanism (startTheWorld releasing worldsema before
//    startTheWorldWithSema) changes no worldsema holder's view of gomaxprocs
//    in Go 1.14's structure: the waiter it readies runs only after procresize.
//    So Bug::issue10618 would have no reproducer; docs/port-notes.md says why.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/trace.h"
#include "tests/program_text.h"

namespace schedfuzz {
namespace {

Program parse(const std::string& text) { return parseProgramOrFail(text); }

Outcome run(const Program& p, bool early = false, bool trace = true) {
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.record_trace = trace;
  cfg.early_worldsema_release = early;
  return runProgram(p, c, cfg);
}

bool isEv(const TraceEvent& e, gort::Ev ev) { return e.kind == TraceEvent::Kind::kRuntime && e.ev == ev; }

// What the trace says about the gc ops of one run.
struct GcFacts {
  int gcs = 0;                 // forEachP calls completed
  int via[5] = {};             // safe-point function runs, by path
  std::vector<std::string> problems;
  int earlyHandoffs = 0;       // early worldsema releases that readied a waiter
  int earlyHandoffsToGc = 0;   // ... whose waiter was a gc op
};

GcFacts facts(const Outcome& o) {
  GcFacts f;
  const auto& t = o.trace;
  for (size_t i = 0; i < t.size(); i++) {
    if (isEv(t[i], gort::Ev::gc_maxprocs)) {
      // The same thread's forEachP: safePointWait = gomaxprocs - 1 (read under
      // sched.lock) must agree with what the gc read under worldsema.
      const int n = t[i].a;
      size_t j = i + 1;
      while (j < t.size() && !(isEv(t[j], gort::Ev::foreachp) && t[j].thread == t[i].thread)) j++;
      if (j == t.size()) continue;  // the run ended first (not on the fixed runtime: checked by the callers)
      if (t[j].a != n - 1)
        f.problems.push_back("gc read gomaxprocs=" + std::to_string(n) + " under worldsema, forEachP then saw " +
                             std::to_string(t[j].a + 1));
      std::set<int> ps;
      size_t k = j + 1;
      for (; k < t.size() && !(isEv(t[k], gort::Ev::foreachp_done) && t[k].thread == t[i].thread); k++) {
        if (!isEv(t[k], gort::Ev::safepoint_fn)) continue;
        if (!ps.insert(t[k].a).second) f.problems.push_back("P" + std::to_string(t[k].a) + " ran fn twice");
        if (t[k].b >= 0 && t[k].b < 5) f.via[t[k].b]++;
      }
      if (k == t.size()) continue;
      f.gcs++;
      if (static_cast<int>(ps.size()) != n)
        f.problems.push_back(std::to_string(ps.size()) + " Ps ran fn, gomaxprocs=" + std::to_string(n));
    }
    if (isEv(t[i], gort::Ev::worldsema_early_release) && t[i].a == 1) {
      f.earlyHandoffs++;
      // The releaser's procresize (its starttheworld event) must come before
      // the new holder acts (its gc_maxprocs or stw_start).
      bool started = false;
      for (size_t k = i + 1; k < t.size(); k++) {
        if (isEv(t[k], gort::Ev::starttheworld) && t[k].thread == t[i].thread) started = true;
        const bool gc = isEv(t[k], gort::Ev::gc_maxprocs);
        if (gc || isEv(t[k], gort::Ev::stw_start)) {
          if (gc) f.earlyHandoffsToGc++;
          if (!started) f.problems.push_back("a worldsema waiter acted before the releaser's startTheWorldWithSema");
          break;
        }
      }
    }
  }
  return f;
}

// Random fuzz inputs through the world alphabet (scripts, choices, walk).
Program randomWorldProgram(Rng& rng) {
  std::vector<uint8_t> bytes(8 + rng.below(57));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
  return decode(bytes, Alphabet::world());
}

TEST(ForEachP, IdleAndOwnP) {
  // g0's nanosleep lets the other M park, so P1 is on the idle list when gc runs.
  const Outcome o = run(parse("gomaxprocs 2\ng0: nanosleep(3) spin(2) gc\n"));
  ASSERT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  const GcFacts f = facts(o);
  EXPECT_EQ(f.gcs, 1);
  EXPECT_TRUE(f.problems.empty()) << f.problems[0];
  EXPECT_EQ(f.via[0], 1) << formatFlat(o.trace, o.mids);  // the idle P, by forEachP under sched.lock
  EXPECT_EQ(f.via[1], 1);                                  // its own P
}

// A program that runs ok on the fixed runtime, whose every forEachP
// completes with each P's function run once, and which takes safe-point path
// `via` (GcFacts::via) at least once.
void expectPathTaken(const std::string& text, int via) {
  const Outcome o = run(parse(text));
  ASSERT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  const GcFacts f = facts(o);
  EXPECT_GT(f.gcs, 0);
  EXPECT_TRUE(f.problems.empty()) << f.problems[0];
  EXPECT_GT(f.via[via], 0) << formatFlat(o.trace, o.mids);
}

// Found among the random programs below: the P of a thread in a syscall is
// CASed _Psyscall -> _Pidle by forEachP and handed off; handoffp runs the
// function for it (case 5, proc.go 1920-1926).
TEST(ForEachP, SyscallPRunsFnInHandoffp) {
  expectPathTaken(
      "gomaxprocs 4\nwalk 3\n"
      "g0: syscall(12) syscall(10) gc spin(15) syscall(12) spin(5) newm unlock exit gosched\n"
      "g1: syscallwait(10) wait(8) nanosleep(12) lock go(5) lock go(9) gc gosched gc syscallwait(10) lock gc lock\n"
      "g2:\nchoices: switch+95->t11\n",
      2);
}

// Likewise: a P whose goroutine enters a syscall after forEachP asked it runs
// the function in entersyscall (proc.go 2952-2956).
TEST(ForEachP, EntersyscallRunsFn) {
  expectPathTaken(
      "gomaxprocs 4\nwalk 3\ng0: go(10)\ng1: spin(12) gc signal(0) lock syscallwait(11)\ng2: gc lock lock\n"
      "choices: switch+89->t10 switch+46->t9 switch+104->t3 switch+145->t1 switch+24->t9\n",
      4);
}

// Random programs and schedules: every forEachP completes with each P's
// function run exactly once, every path is taken, and the fixed runtime has
// no finding.
TEST(ForEachP, EveryPathOnRandomProgramsAndNoFinding) {
  Rng rng(10618);
  GcFacts all;
  int runs = 0;
  for (int i = 0; i < 600; i++) {
    const Program p = randomWorldProgram(rng);
    const Outcome o = run(p);
    ASSERT_FALSE(o.finding()) << o.result.kind << ": " << o.result.message << "\n" << toText(p);
    const GcFacts f = facts(o);
    ASSERT_TRUE(f.problems.empty()) << f.problems[0] << "\n" << toText(p);
    all.gcs += f.gcs;
    for (int v = 0; v < 5; v++) all.via[v] += f.via[v];
    runs++;
  }
  EXPECT_EQ(runs, 600);
  EXPECT_GT(all.gcs, 100);
  for (int v = 0; v < 5; v++) EXPECT_GT(all.via[v], 0) << "no safe-point function ran via " << v;
}

// golang/go#10618's mechanism, run: startTheWorld releases worldsema before
// startTheWorldWithSema. The waiter it hands worldsema to is readied onto the
// stopper's P while every other P is _Pgcstop, so it runs only after
// procresize; its read of gomaxprocs and its forEachP agree, and no run
// throws. Non-vacuous: the early release does hand worldsema to waiting gc
// ops, many times.
TEST(Issue10618, EarlyWorldsemaReleaseChangesNoHoldersViewOfGomaxprocs) {
  Rng rng(20150429);
  // Programs of the ops the race needs: GOMAXPROCS changes and stops of the
  // world racing gc ops, with syscalls and spinners around them.
  const Op ops[] = {Op::kGomaxprocs, Op::kGc, Op::kStw, Op::kSpin, Op::kNanosleep, Op::kGosched};
  GcFacts all;
  for (int i = 0; i < 800; i++) {
    Program p;
    p.gomaxprocs = 1 + static_cast<int>(rng.below(4));
    p.walk = static_cast<int>(rng.below(16));
    p.scripts.resize(2 + rng.below(3));
    for (Script& s : p.scripts) {
      const int n = 1 + static_cast<int>(rng.below(5));
      for (int k = 0; k < n; k++) {
        const Op op = ops[rng.below(std::size(ops))];
        s.ops.push_back(Instr{op, static_cast<uint8_t>(opHasArg(op) ? rng.below(16) : 0)});
      }
    }
    const Outcome o = run(p, /*early=*/true);
    ASSERT_FALSE(o.finding()) << o.result.kind << ": " << o.result.message << "\n" << toText(p);
    const GcFacts f = facts(o);
    ASSERT_TRUE(f.problems.empty()) << f.problems[0] << "\n" << toText(p);
    all.gcs += f.gcs;
    all.earlyHandoffs += f.earlyHandoffs;
    all.earlyHandoffsToGc += f.earlyHandoffsToGc;
  }
  EXPECT_GT(all.gcs, 500);
  EXPECT_GT(all.earlyHandoffsToGc, 20);
  printf("[ info ] %d gc ops; early releases to a waiter: %d, to a gc op: %d\n", all.gcs, all.earlyHandoffs,
         all.earlyHandoffsToGc);
}

}  // namespace
}  // namespace schedfuzz
