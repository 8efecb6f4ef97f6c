// tests/runtime_test.cpp — gort's components and protocols, run on the deterministic executor.
//
// Grouped by intent: primitives (run queues, mutex, notes), LockOSThread
// nesting, handoffp's cases, stop-the-world with Ps in every status, the
// #38931 scenario from a hand-written schedule, and the hang verdicts on
// runtime programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <string>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/sim/executor.h"
#include "fuzz/trace.h"
#include "runtime/runtime.h"
#include "tests/sim_run.h"

namespace gort {
// Reaches the runtime's private procedures for component tests.
struct RuntimeAccess {
  Runtime& rt;
  void lock(mutex* l) { rt.lock(l); }
  void unlock(mutex* l) { rt.unlock(l); }
  void notewakeup(note* n) { rt.notewakeup(n); }
  void runqput(P* pp, G* gp, bool next) { rt.runqput(pp, gp, next); }
  G* runqget(P* pp) {
    bool inherit = false;
    return rt.runqget(pp, &inherit);
  }
  G* runqsteal(P* pp, P* p2) { return rt.runqsteal(pp, p2, true); }
  G* runqsteal(P* pp, P* p2, bool stealRunNextG) { return rt.runqsteal(pp, p2, stealRunNextG); }
  bool runqempty(P* pp) { return rt.runqempty(pp); }
  P* currentP() { return rt.getm()->p; }
  M* currentM() { return rt.getm(); }
  void lockOSThread() { rt.lockOSThread(); }
  void unlockOSThread() { rt.unlockOSThread(); }
  schedt& sched() { return rt.sched_; }
};
}  // namespace gort

namespace schedfuzz {
namespace {

using gort::Runtime;
using gort::RuntimeAccess;

const uint32_t kBug38931 = 1u << static_cast<unsigned>(gort::Bug::issue38931);

// ---------------------------------------------------------------------------
// Primitives

TEST(Primitives, LocalRunQueueIsFifoWithRunnextFirstAndOverflowsHalfToGlobal) {
  ByteChooser ch({});
  std::vector<gort::G> gs(300);
  bool checked = false;
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    gort::P* pp = a.currentP();
    for (auto& g : gs) g.atomicstatus = gort::_Grunnable;
    for (int i = 0; i < 256; i++) a.runqput(pp, &gs[i], false);
    EXPECT_EQ(a.sched().runqsize, 0);
    // The 257th put finds the ring full: half of it plus the new G go to the global queue.
    a.runqput(pp, &gs[256], false);
    EXPECT_EQ(a.sched().runqsize, 129);
    a.runqput(pp, &gs[257], true);  // runnext jumps the queue
    EXPECT_EQ(a.runqget(pp), &gs[257]);
    EXPECT_EQ(a.runqget(pp), &gs[128]);  // FIFO after the first half left
    for (int i = 129; i < 256; i++) ASSERT_EQ(a.runqget(pp), &gs[i]);
    EXPECT_TRUE(a.runqempty(pp));
    EXPECT_EQ(a.runqget(pp), nullptr);
    // Leave the global queue empty for the scheduler.
    a.lock(&a.sched().lock);
    a.sched().runqhead = a.sched().runqtail = nullptr;
    a.sched().runqsize = 0;
    a.unlock(&a.sched().lock);
    checked = true;
  });
  EXPECT_EQ(r.result.verdict, Verdict::kOk) << r.result.message << r.result.dump;
  EXPECT_TRUE(checked);
}

TEST(Primitives, StealTakesHalfOfAnotherPsQueue) {
  ByteChooser ch({});
  std::vector<gort::G> gs(10);
  bool checked = false;
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    gort::P* mine = a.currentP();
    gort::P* other = rt.allp()[mine->id == 0 ? 1 : 0];
    for (int i = 0; i < 10; i++) a.runqput(other, &gs[i], false);
    gort::G* got = a.runqsteal(mine, other);
    EXPECT_EQ(got, &gs[4]);  // five stolen; the last one is returned, four land on our queue
    int left = 0;
    while (a.runqget(other)) left++;
    EXPECT_EQ(left, 5);
    int ours = 0;
    while (a.runqget(mine)) ours++;
    EXPECT_EQ(ours, 4);
    checked = true;
  });
  EXPECT_EQ(r.result.verdict, Verdict::kOk) << r.result.message;
  EXPECT_TRUE(checked);
}

TEST(Primitives, RuntimeMutexExcludesUnderEverySchedule) {
  // Two goroutines on two Ms increment a counter under a runtime mutex with a
  // scheduling point inside the critical section; every interleaving must
  // keep the count exact.
  for (uint64_t seed = 0; seed < 100; seed++) {
    RandomWalkChooser ch(seed, 0.3, 0.0);
    int counter = 0, inside = 0, maxInside = 0;
    gort::mutex mu;
    SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
      Runtime::WaitGroup wg;
      rt.wgAdd(wg, 2);
      for (int k = 0; k < 2; k++) {
        rt.Go([&] {
          RuntimeAccess a{rt};
          for (int i = 0; i < 5; i++) {
            a.lock(&mu);
            inside++;
            maxInside = std::max(maxInside, inside);
            rt.platform().syncPoint(gort::Site::user_shared);
            int v = counter;
            rt.platform().syncPoint(gort::Site::user_shared);
            counter = v + 1;
            inside--;
            a.unlock(&mu);
          }
          rt.wgDone(wg);
        });
      }
      rt.wgWait(wg);
    });
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.message;
    EXPECT_EQ(counter, 10) << "seed " << seed;
    EXPECT_EQ(maxInside, 1) << "seed " << seed;
  }
}

TEST(Primitives, DoubleWakeupOfANoteThrows) {
  ByteChooser ch({});
  gort::note n;
  SimRun r = runSim(ch, 1, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    a.notewakeup(&n);
    a.notewakeup(&n);
  });
  EXPECT_EQ(r.result.verdict, Verdict::kThrow);
  EXPECT_EQ(r.result.message, "notewakeup - double wakeup");
}

TEST(Primitives, UnlockOfUnlockedMutexThrows) {
  ByteChooser ch({});
  gort::mutex mu;
  SimRun r = runSim(ch, 1, 0, [&](Runtime& rt) { RuntimeAccess{rt}.unlock(&mu); });
  EXPECT_EQ(r.result.verdict, Verdict::kThrow);
  EXPECT_EQ(r.result.message, "unlock of unlocked lock");
}

// ---------------------------------------------------------------------------
// LockOSThread nesting (Go 1.10+, #20458)

TEST(LockOSThread, NestsExternalCallsAndIgnoresExtraUnlocks) {
  ByteChooser ch({});
  std::vector<std::pair<uint32_t, bool>> seen;  // (lockedExt, wired) after each call
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    auto snap = [&] {
      gort::M* m = a.currentM();
      seen.push_back({m->lockedExt, m->lockedg != nullptr});
    };
    rt.LockOSThread();
    snap();
    rt.LockOSThread();
    snap();
    rt.UnlockOSThread();
    snap();
    rt.UnlockOSThread();
    snap();
    rt.UnlockOSThread();  // no-op
    snap();
  });
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message;
  std::vector<std::pair<uint32_t, bool>> want = {{1, true}, {2, true}, {1, true}, {0, false}, {0, false}};
  EXPECT_EQ(seen, want);
}

TEST(LockOSThread, InternalCountKeepsTheGoroutineWiredAfterTheExternalUnlock) {
  ByteChooser ch({});
  bool wiredAfter = false;
  SimRun r = runSim(ch, 1, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    a.lockOSThread();
    rt.LockOSThread();
    rt.UnlockOSThread();
    wiredAfter = a.currentM()->lockedg != nullptr;
    a.unlockOSThread();
  });
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message;
  EXPECT_TRUE(wiredAfter);
}

TEST(LockOSThread, InternalUnlockWithoutLockThrows) {
  ByteChooser ch({});
  SimRun r = runSim(ch, 1, 0, [&](Runtime& rt) { RuntimeAccess{rt}.unlockOSThread(); });
  EXPECT_EQ(r.result.verdict, Verdict::kThrow);
  EXPECT_EQ(r.result.message, "runtime: internal error: misuse of lockOSThread/unlockOSThread");
}

TEST(LockOSThread, LockedGoroutineAlwaysResumesOnItsMAfterYielding) {
  for (uint64_t seed = 0; seed < 100; seed++) {
    RandomWalkChooser ch(seed, 0.2, 0.05);
    std::atomic<bool> sameM{true};  // written by goroutines on different Ms
    SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
      Runtime::WaitGroup wg;
      rt.wgAdd(wg, 2);
      for (int k = 0; k < 2; k++) {
        rt.Go([&] {
          rt.LockOSThread();
          int64_t m = rt.mid();
          for (int i = 0; i < 3; i++) {
            rt.Gosched();
            rt.UserStep();
            if (rt.mid() != m) sameM.store(false);
          }
          rt.UnlockOSThread();
          rt.wgDone(wg);
        });
      }
      rt.wgWait(wg);
    });
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.message;
    EXPECT_TRUE(sameM.load()) << "seed " << seed;
  }
}

TEST(LockOSThread, ExitWhileLockedTakesTheThreadWithIt) {
  ByteChooser ch({});
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    Runtime::WaitGroup wg;
    rt.wgAdd(wg, 1);
    rt.Go([&] {
      rt.LockOSThread();
      rt.wgDone(wg);
      rt.Goexit();
    });
    rt.wgWait(wg);
    // Yield long enough for the locked goroutine's M to exit (reading
    // m.exited here would race with that M under TSan).
    for (int i = 0; i < 20; i++) rt.Gosched();
  });
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message;
  EXPECT_EQ(countEvents(r.trace, gort::Ev::mexit), 1);
}

// ---------------------------------------------------------------------------
// handoffp: each case is reached, in Go's order, by some schedule.

TEST(Handoffp, EveryCaseIsReachedAndTheProgramFinishes) {
  std::set<int> cases;
  auto allSeen = [&] { return cases.count(1) && cases.count(3) && cases.count(4) && (cases.count(7) || cases.count(9)); };
  for (uint64_t seed = 0; seed < 1000 && !allSeen(); seed++) {
    RandomWalkChooser ch(seed, 0.25, 0.05);
    SimRun r = runSim(ch, 3, 0, [&](Runtime& rt) {
      Runtime::WaitGroup wg;
      rt.wgAdd(wg, 3);
      rt.Go([&] {
        rt.ReadMemStats();
        rt.wgDone(wg);
      });
      for (int k = 0; k < 2; k++) {
        rt.Go([&, k] {
          if (k == 0) rt.Go([] {});
          rt.LockOSThread();
          rt.Gosched();
          rt.SyscallBlock([] {});
          rt.wgDone(wg);
        });
      }
      rt.wgWait(wg);
    });
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.message;
    for (const auto& e : r.trace) {
      if (e.kind == TraceEvent::Kind::kRuntime && e.ev == gort::Ev::handoffp) cases.insert(e.b);
    }
  }
  // 1: local/global work; 3: no spinning or idle M; 4: stop-the-world pending;
  // 7: last running P; 9: back to the idle list.
  EXPECT_TRUE(cases.count(1));
  EXPECT_TRUE(cases.count(3));
  EXPECT_TRUE(cases.count(4));
  EXPECT_TRUE(cases.count(7) || cases.count(9));
}

// ---------------------------------------------------------------------------
// Stop the world with Ps running, idle, in a syscall and in transit.

TEST(StopTheWorld, CompletesWithPsInEveryStatus) {
  int psyscall = 0, done = 0;
  for (uint64_t seed = 0; seed < 200; seed++) {
    RandomWalkChooser ch(seed, 0.2, 0.02);
    SimRun r = runSim(ch, 4, 0, [&](Runtime& rt) {
      Runtime::WaitGroup wg;
      rt.wgAdd(wg, 3);
      rt.Go([&] {  // in a syscall while the world stops
        rt.Syscall([&] {
          for (int i = 0; i < 20; i++) rt.platform().syncPoint(gort::Site::user_shared);
        });
        rt.wgDone(wg);
      });
      rt.Go([&] {  // running user code
        for (int i = 0; i < 20; i++) rt.UserStep();
        rt.wgDone(wg);
      });
      rt.Go([&] {
        rt.ReadMemStats();
        rt.GOMAXPROCS(2);
        rt.ReadMemStats();
        rt.wgDone(wg);
      });
      rt.wgWait(wg);
    });
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.message << r.result.dump;
    done += countEvents(r.trace, gort::Ev::stw_done);
    psyscall += countEvents(r.trace, gort::Ev::entersyscall) > 0;
  }
  EXPECT_EQ(done, 200 * 3);  // three stops per run (ReadMemStats, GOMAXPROCS, ReadMemStats)
  EXPECT_GT(psyscall, 0);
}

// ---------------------------------------------------------------------------
// golang/go#38931 on the executor.

// The program of Go's test, reduced: GOMAXPROCS 3; G_S stops the world;
// two goroutines each queue work on their local runq, lock their thread and
// yield.
void program38931(Runtime& rt) {
  Runtime::WaitGroup wg;
  rt.wgAdd(wg, 3);
  rt.Go([&] {
    for (int i = 0; i < 20; i++) rt.platform().syncPoint(gort::Site::user_shared);
    rt.ReadMemStats();
    rt.wgDone(wg);
  });
  for (int k = 0; k < 2; k++) {
    rt.Go([&] {
      rt.UserCall();
      rt.Go([] {});  // work on the local runq: handoffp case 1
      rt.LockOSThread();
      rt.Gosched();
      rt.wgDone(wg);
    });
  }
  rt.wgWait(wg);
}

// A hand-written schedule: a Chooser that steers by what the runtime did
// (it reads the trace as it grows), following the rows of spec §7.2:
//  A. run normally until some M (X) wins the CAS of haveTemplateThread;
//  B. hold X back (its goroutine stays _Grunning, half-way through
//     startTemplateThread) while the others run: another goroutine locks its
//     thread (row 3) and the world starts stopping (row 4: preemptall asks
//     X's goroutine to stop too);
//  C. keep holding X until the locked M has yielded, handed its P to startm
//     and queued a new M on newmHandoff (rows 7-9);
//  D. release X: its goroutine reaches the next prologue, is preempted
//     (pre-fix) and its M stops for the world (rows 5-6). The fixed runtime
//     cannot be preempted there, so it clones the template thread instead.
class Scripted38931 final : public Chooser {
 public:
  explicit Scripted38931(const SimPlatform*& sim) : sim_(sim) {}
  int chooseThread(const ChoicePoint& cp) override {
    scan();
    bool holdX = x_ >= 0 && !(queued_ && stw_);
    if (cp.current >= 0 && !holdX) return cp.current;
    // While X is held, prefer the newest thread: a freshly started M steals the goroutines
    // that have not run yet, so both lockers get going before the world stops.
    for (auto it = cp.runnable.rbegin(); it != cp.runnable.rend(); ++it) {
      if (!(holdX && *it == x_)) return *it;
    }
    return cp.runnable.front();  // only X can run: it must
  }
  bool choosePreempt(uint64_t, int, gort::Site) override { return false; }

 private:
  void scan() {
    const auto& tr = sim_->trace();
    for (; seen_ < tr.size(); seen_++) {
      const TraceEvent& e = tr[seen_];
      if (e.kind != TraceEvent::Kind::kRuntime) continue;
      if (e.ev == gort::Ev::template_cas) x_ = e.thread;
      if (e.ev == gort::Ev::newm_queued && x_ >= 0) queued_ = true;
      if (e.ev == gort::Ev::stw_start && x_ >= 0) stw_ = true;
    }
  }
  const SimPlatform*& sim_;
  size_t seen_ = 0;
  int x_ = -1;
  bool queued_ = false;
  bool stw_ = false;
};

RunResult run38931Scripted(uint32_t bugs, std::string* flat) {
  const SimPlatform* simp = nullptr;
  Scripted38931 ch(simp);
  SimOptions so;
  SimPlatform sim(ch, so);
  simp = &sim;
  gort::Config cfg;
  cfg.gomaxprocs = 3;
  cfg.bugs = bugs;
  Runtime rt(sim, cfg);
  rt.setMain([&rt] { program38931(rt); });
  sim.setDumper([&rt] { return rt.dump(); });
  RunResult r = sim.run(&Runtime::m0Entry, &rt);
  if (flat) *flat = formatFlat(sim.trace(), sim.mids());
  return r;
}

TEST(Issue38931, HandWrittenScheduleStallsWithTheBugAndFinishesWhenFixed) {
  std::string t1, t2;
  RunResult bug = run38931Scripted(kBug38931, &t1);
  EXPECT_EQ(bug.verdict, Verdict::kStall) << bug.kind << ": " << bug.message << "\n" << t1;
  EXPECT_NE(bug.dump.find("NOT CREATED (template thread)"), std::string::npos) << bug.dump;
  RunResult fixed = run38931Scripted(0, &t2);
  EXPECT_EQ(fixed.verdict, Verdict::kOk) << fixed.kind << ": " << fixed.message << "\n" << t2;
}

TEST(Issue38931, SameScheduleGivesTheSameTraceEveryRun) {
  std::string a, b, c;
  run38931Scripted(kBug38931, &a);
  run38931Scripted(0, &c);  // another run in between must not matter
  run38931Scripted(kBug38931, &b);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Issue38931, RandomSchedulesHitItOnlyWithTheBug) {
  int hangsBug = 0, hangsFixed = 0;
  for (uint64_t seed = 0; seed < 3000; seed++) {
    for (uint32_t bugs : {kBug38931, 0u}) {
      RandomWalkChooser ch(seed, 0.1, 0.0);
      SimRun r = runSim(ch, 3, bugs, program38931);
      if (r.result.verdict == Verdict::kStall) (bugs ? hangsBug : hangsFixed)++;
      else ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message;
    }
  }
  EXPECT_GT(hangsBug, 0);
  EXPECT_EQ(hangsFixed, 0);
}

// ---------------------------------------------------------------------------
// Hang verdicts on runtime programs.

TEST(HangVerdicts, SelfDeadlockOnARuntimeMutexIsADeadlock) {
  ByteChooser ch({});
  gort::mutex mu;
  SimRun r = runSim(
      ch, 2, 0,
      [&](Runtime& rt) {
        RuntimeAccess a{rt};
        a.lock(&mu);
        a.lock(&mu);  // not re-entrant: the M sleeps on its own lock forever
      },
      /*sysmon=*/false);
  EXPECT_EQ(r.result.verdict, Verdict::kDeadlock) << r.result.kind;
  EXPECT_EQ(r.result.kind, "hang: deadlock");
}

TEST(HangVerdicts, SelfDeadlockWithSysmonRunningIsAStall) {
  // sysmon keeps waking on its timer, so nothing is ever "all blocked": the
  // executor sees only timed wakeups without progress.
  ByteChooser ch({});
  gort::mutex mu;
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    RuntimeAccess a{rt};
    a.lock(&mu);
    a.lock(&mu);
  });
  EXPECT_EQ(r.result.verdict, Verdict::kStall) << r.result.kind;
}

TEST(HangVerdicts, FinishingProgramsGetNoVerdict) {
  for (uint64_t seed = 0; seed < 200; seed++) {
    PctChooser ch(seed, 3, 2000);
    SimRun r = runSim(ch, 3, 0, program38931);
    ASSERT_EQ(r.result.verdict, Verdict::kOk) << "seed " << seed << ": " << r.result.kind << " " << r.result.message;
  }
}

// ---------------------------------------------------------------------------
// Issue 13, item 1: windows Go leaves open between a load and a CAS (or
// between two loads), reached on the executor. Each test holds one M inside
// the window with a scripted Chooser while another M acts, and asserts the
// path that exists only because of it (gort::ReachCounters).

// Round robin over the runnable threads; once `armed` is set, the first
// thread that reaches `site` (right after `after`, if given) is held there
// (never chosen while another thread can run) until `release` is set.
// heldNow tells the test it happened.
class HoldAtSite final : public Chooser {
 public:
  HoldAtSite(gort::Site site, const std::atomic<bool>& armed, const std::atomic<bool>& release,
             gort::Site after = gort::Site::kCount)
      : site_(site), after_(after), armed_(armed), release_(release) {}
  int chooseThread(const ChoicePoint& cp) override {
    if (cp.current >= 0) {
      if (prev_.size() <= static_cast<size_t>(cp.current)) prev_.resize(static_cast<size_t>(cp.current) + 1, gort::Site::kCount);
      const gort::Site before = prev_[static_cast<size_t>(cp.current)];
      prev_[static_cast<size_t>(cp.current)] = cp.site;
      if (held_ < 0 && cp.site == site_ && armed_.load() && (after_ == gort::Site::kCount || before == after_)) {
        held_ = cp.current;
        heldNow = true;
      }
    }
    const bool holding = held_ >= 0 && !release_.load();
    const size_t n = cp.runnable.size();
    size_t start = 0;
    while (start < n && cp.runnable[start] <= last_) start++;
    for (size_t k = 0; k < n; k++) {
      const int t = cp.runnable[(start + k) % n];
      if (holding && t == held_ && n > 1) continue;
      last_ = t;
      return t;
    }
    return cp.runnable.front();
  }
  bool choosePreempt(uint64_t, int, gort::Site) override { return false; }
  std::atomic<bool> heldNow{false};

 private:
  gort::Site site_, after_;
  const std::atomic<bool>& armed_;
  const std::atomic<bool>& release_;
  std::vector<gort::Site> prev_;  // each thread's site at its previous choice point
  int held_ = -1;
  int last_ = -1;
};

// Keeps the executor's quiet mode (fair round robin after 512 points without
// program progress) from releasing a held thread: these tests make progress
// by design, one run-queue operation or wait step at a time.
void progress(Runtime& rt) { static_cast<SimPlatform&>(rt.platform()).noteProgress(); }

// Two goroutines on two Ms (GOMAXPROCS 2, no sysmon): `side` runs `held`
// with the hold armed, main runs `act` while side is held inside the window.
// Dummy Gs go through the run queues as in the Primitives tests; every G put
// must come out exactly once (take), and both Ps are drained before either
// goroutine can reach the scheduler.
struct WindowRun {
  Runtime* rt = nullptr;
  gort::P* mainP = nullptr;
  gort::P* sideP = nullptr;
  std::vector<gort::G> gs = std::vector<gort::G>(700);
  std::vector<int> taken = std::vector<int>(700);
  int next = 0;
  gort::G* fresh() {
    progress(*rt);
    gort::G* g = &gs[static_cast<size_t>(next++)];
    g->atomicstatus = gort::_Grunnable;
    return g;
  }
  void take(gort::G* g) {
    progress(*rt);
    if (g != nullptr) taken[static_cast<size_t>(g - gs.data())]++;
  }
  void drain(gort::P* pp) {
    RuntimeAccess a{*rt};
    while (gort::G* g = a.runqget(pp)) take(g);
  }
};

struct WindowResult {
  SimRun run;
  bool held = false;
  int puts = 0;
  bool eachTakenOnce = true;
};

WindowResult runWindow(gort::Site site, const std::function<void(WindowRun&)>& setup,
                       const std::function<void(WindowRun&)>& held, const std::function<void(WindowRun&)>& act,
                       const std::function<void(const Runtime&)>& check) {
  std::atomic<bool> armed{false}, release{false};
  HoldAtSite ch(site, armed, release);
  WindowRun w;
  WindowResult res;
  SimRun r = runSim(
      ch, 2, 0,
      [&](Runtime& rt) {
        RuntimeAccess a{rt};
        w.rt = &rt;
        w.mainP = a.currentP();
        std::atomic<bool> sideStarted{false}, ready{false}, opDone{false}, sideDone{false}, mainDrained{false};
        rt.Go([&] {
          RuntimeAccess b{rt};
          w.sideP = b.currentP();
          sideStarted = true;
          while (!ready) rt.UserStep();
          armed = true;
          held(w);
          opDone = true;
          w.drain(w.sideP);
          sideDone = true;
          while (!mainDrained) rt.UserStep();
        });
        while (!sideStarted) rt.UserStep();
        setup(w);
        ready = true;
        while (!ch.heldNow && !opDone) rt.UserStep();
        res.held = ch.heldNow;
        if (res.held) act(w);
        release = true;
        while (!sideDone) rt.UserStep();
        w.drain(w.mainP);
        mainDrained = true;
        check(rt);
      },
      /*sysmon=*/false);
  res.run = std::move(r);
  res.puts = w.next;
  for (int i = 0; i < w.next; i++) res.eachTakenOnce &= w.taken[static_cast<size_t>(i)] == 1;
  return res;
}

TEST(Reach, RunqgrabReadsInconsistentHeadAndTailAndRetries) {
  uint64_t inconsistent = 0;
  WindowResult w = runWindow(
      gort::Site::runqgrab_load,
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        for (int i = 0; i < 100; i++) a.runqput(w.mainP, w.fresh(), false);
      },
      [](WindowRun& w) {  // thief: held between runqgrab's head and tail loads
        RuntimeAccess a{*w.rt};
        w.take(a.runqsteal(w.sideP, w.mainP, false));
      },
      [](WindowRun& w) {  // owner: 300 puts and gets move both ends past the stale head
        RuntimeAccess a{*w.rt};
        for (int k = 0; k < 3; k++) {
          for (int i = 0; i < 100; i++) a.runqput(w.mainP, w.fresh(), false);
          for (int i = 0; i < 100; i++) w.take(a.runqget(w.mainP));
        }
      },
      [&](const Runtime& rt) { inconsistent = rt.reach().runqgrabInconsistent; });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(inconsistent, 1u);
  EXPECT_EQ(w.puts, 400);
  EXPECT_TRUE(w.eachTakenOnce);
}

TEST(Reach, RunqgrabHeadCasFailsWhenTheOwnerConsumesFirst) {
  uint64_t retries = 0;
  WindowResult w = runWindow(
      gort::Site::runqgrab_cas,
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        for (int i = 0; i < 10; i++) a.runqput(w.mainP, w.fresh(), false);
      },
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        w.take(a.runqsteal(w.sideP, w.mainP, false));
      },
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        w.take(a.runqget(w.mainP));
      },
      [&](const Runtime& rt) { retries = rt.reach().runqgrabRetry; });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(retries, 1u);
  EXPECT_TRUE(w.eachTakenOnce);
}

TEST(Reach, RunqgetHeadCasFailsWhenAThiefStealsFirst) {
  uint64_t retries = 0;
  WindowResult w = runWindow(
      gort::Site::runqget_cas, [](WindowRun&) {},
      [](WindowRun& w) {  // owner: fills its queue, then is held before runqget's CAS
        RuntimeAccess a{*w.rt};
        for (int i = 0; i < 10; i++) a.runqput(w.sideP, w.fresh(), false);
        w.take(a.runqget(w.sideP));
      },
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        w.take(a.runqsteal(w.mainP, w.sideP, false));
      },
      [&](const Runtime& rt) { retries = rt.reach().runqgetRetry; });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(retries, 1u);
  EXPECT_TRUE(w.eachTakenOnce);
}

TEST(Reach, RunqputRunnextCasFailsWhenAThiefTakesRunnext) {
  uint64_t retries = 0;
  WindowResult w = runWindow(
      gort::Site::runqput_cas, [](WindowRun&) {},
      [](WindowRun& w) {  // owner: runnext holds a G; the second put is held before its CAS
        RuntimeAccess a{*w.rt};
        a.runqput(w.sideP, w.fresh(), true);
        a.runqput(w.sideP, w.fresh(), true);
      },
      [](WindowRun& w) {  // thief: the queue is empty, so it takes runnext
        RuntimeAccess a{*w.rt};
        w.take(a.runqsteal(w.mainP, w.sideP, true));
      },
      [&](const Runtime& rt) { retries = rt.reach().runqputRetry; });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(retries, 1u);
  EXPECT_EQ(w.puts, 2);
  EXPECT_TRUE(w.eachTakenOnce);
}

TEST(Reach, RunqputslowCasFailsWhenAThiefStealsFirst) {
  uint64_t fails = 0;
  int32_t globalAfter = -1;
  WindowResult w = runWindow(
      gort::Site::runqput_cas, [](WindowRun&) {},
      [](WindowRun& w) {  // owner: a full ring; the 257th put goes to runqputslow and is held
        RuntimeAccess a{*w.rt};
        for (int i = 0; i < 257; i++) a.runqput(w.sideP, w.fresh(), false);
      },
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        w.take(a.runqsteal(w.mainP, w.sideP, false));
      },
      [&](const Runtime& rt) {
        fails = rt.reach().runqputslowFail;
        globalAfter = rt.sched().runqsize;
      });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(fails, 1u);
  EXPECT_EQ(globalAfter, 0);  // the retry found room: nothing went to the global queue
  EXPECT_TRUE(w.eachTakenOnce);
}

TEST(Reach, RunqemptyRetriesWhenTheTailMovesBetweenItsLoads) {
  uint64_t retries = 0;
  bool empty = true;
  WindowResult w = runWindow(
      gort::Site::runqempty_load, [](WindowRun&) {},
      [&](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        empty = a.runqempty(w.mainP);
      },
      [](WindowRun& w) {
        RuntimeAccess a{*w.rt};
        a.runqput(w.mainP, w.fresh(), false);
      },
      [&](const Runtime& rt) { retries = rt.reach().runqemptyRetry; });
  ASSERT_EQ(w.run.result.verdict, Verdict::kOk) << w.run.result.message << w.run.result.dump;
  EXPECT_TRUE(w.held);
  EXPECT_GE(retries, 1u);
  EXPECT_FALSE(empty);  // never spuriously true: the retry saw the new G
  EXPECT_TRUE(w.eachTakenOnce);
}

// preemptone's two stores (proc.go 4676, 4682) observed apart: the world
// stopper is held between them while its target runs on and reaches a
// preemption point with gp.preempt set and the guard not yet.
TEST(Reach, PreemptoneStoresAreObservedApart) {
  std::atomic<bool> armed{false}, release{false};
  HoldAtSite ch(gort::Site::preempt_guard, armed, release);
  uint64_t apart = 0;
  SimRun r = runSim(
      ch, 2, 0,
      [&](Runtime& rt) {
        std::atomic<bool> started{false}, done{false};
        Runtime::WaitGroup wg;
        rt.wgAdd(wg, 1);
        rt.Go([&] {
          started = true;
          armed = true;
          rt.ReadMemStats();  // stopTheWorld: preemptall -> preemptone(main's P)
          done = true;
          rt.wgDone(wg);
        });
        while (!started) rt.UserStep();
        while (!done && rt.reach().preemptoneApart == 0) rt.UserStep();
        apart = rt.reach().preemptoneApart;
        release = true;
        rt.wgWait(wg);
      },
      /*sysmon=*/false);
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message << r.result.dump;
  EXPECT_TRUE(ch.heldNow);
  EXPECT_GE(apart, 1u);
}

// findrunnable's spinning -> idle step (proc.go 2264-2287) against a
// submitter's runqput + wakep (3484-3487): a spinning M that found nothing
// drops its P and nmspinning, and is held in its re-check of P0's run queue;
// main then submits a goroutine on P0, and since nmspinning is 0 its wakep
// starts an M; released, the parking M's re-check sees the same goroutine
// and takes a P too. Both reacted to the same work.
TEST(Reach, ParkingRecheckAndSubmitterWakepBothReact) {
  std::atomic<bool> armed{true}, release{false};
  HoldAtSite ch(gort::Site::runqempty_load, armed, release, gort::Site::nmspinning_dec);
  uint64_t wakepsBefore = 0, wakepsAfter = 0, both = 0;
  SimRun r = runSim(
      ch, 3, 0,
      [&](Runtime& rt) {
        Runtime::WaitGroup wg;
        rt.wgAdd(wg, 2);
        rt.Go([&] { rt.wgDone(wg); });  // an M spins up for it, runs it, then spins and parks
        for (int i = 0; i < 5000 && !ch.heldNow; i++) {
          progress(rt);
          rt.UserStep();
        }
        // Let any other spinning M park too, so that nmspinning is 0.
        for (int i = 0; i < 5000 && rt.sched().nmspinning.load() != 0; i++) {
          progress(rt);
          rt.UserStep();
        }
        wakepsBefore = rt.reach().wakepStarted;
        rt.Go([&] { rt.wgDone(wg); });  // runqput on P0, then wakep
        wakepsAfter = rt.reach().wakepStarted;
        release = true;
        rt.wgWait(wg);
        both = rt.reach().recheckWithWakep;
      },
      /*sysmon=*/false);
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message << r.result.dump;
  EXPECT_TRUE(ch.heldNow);
  EXPECT_EQ(wakepsAfter, wakepsBefore + 1) << "the submitter's wakep did not start an M";
  EXPECT_GE(both, 1u) << "the parking M's re-check did not take a P for the same work";
}

// Issue 13, item 2: goexit1's prologue is a preemption point, so a goroutine
// that locked its thread can be preempted after its last statement, before
// it exits (and its M still exits with it).
class PreemptAtSite final : public Chooser {
 public:
  explicit PreemptAtSite(gort::Site s) : site_(s) {}
  int chooseThread(const ChoicePoint& cp) override { return cp.current >= 0 ? cp.current : cp.runnable.front(); }
  bool choosePreempt(uint64_t, int, gort::Site s) override { return s == site_; }

 private:
  gort::Site site_;
};

TEST(Reach, LockedGoroutineIsPreemptedAtGoexit1AndStillTakesItsThread) {
  PreemptAtSite ch(gort::Site::goexit1_prologue);
  SimRun r = runSim(ch, 2, 0, [&](Runtime& rt) {
    Runtime::WaitGroup wg;
    rt.wgAdd(wg, 1);
    rt.Go([&] {
      rt.wgDone(wg);
      rt.LockOSThread();
    });
    rt.wgWait(wg);
    for (int i = 0; i < 20; i++) rt.Gosched();  // let the locked M exit
  });
  ASSERT_EQ(r.result.verdict, Verdict::kOk) << r.result.message << r.result.dump;
  EXPECT_GE(countEvents(r.trace, gort::Ev::preempted, static_cast<int>(gort::Site::goexit1_prologue)), 1);
  EXPECT_EQ(countEvents(r.trace, gort::Ev::mexit), 1);
}

}  // namespace
}  // namespace schedfuzz
