// tests/executor_test.cpp — SimPlatform and the choosers, driven by plain thread bodies (no gort runtime).
//
// Groups: basic (interleaving, futex semantics, trace), verdicts (each
// detector fires, and stays silent when it should), determinism, strategies
// (ByteChooser semantics, PCT), replay (record -> choices -> ByteChooser).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/sim/executor.h"
#include "runtime/fiber.h"

namespace schedfuzz {
namespace {

using gort::Ev;
using gort::Fiber;
using gort::Site;
using K = TraceEvent::Kind;

std::string show(const TraceEvent& e) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "step=%llu vt=%lld T%d kind=%d site=%d ev=%d a=%d b=%d c=%d",
                (unsigned long long)e.step, (long long)e.vtime, e.thread, int(e.kind), int(e.site),
                int(e.ev), e.a, e.b, e.c);
  return buf;
}

// Index of the first difference of two traces, or -1.
long firstDiff(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; i++)
    if (!(a[i] == b[i])) return long(i);
  return a.size() == b.size() ? -1 : long(n);
}

size_t count(const std::vector<TraceEvent>& t, K kind, int thread = -2) {
  size_t n = 0;
  for (const TraceEvent& e : t) n += e.kind == kind && (thread == -2 || e.thread == thread);
  return n;
}

Choice sw(uint8_t delay, uint8_t target) { return Choice{Choice::Kind::kSwitch, delay, target}; }
Choice pre(uint8_t delay) { return Choice{Choice::Kind::kPreempt, delay, 0}; }

// ---------------------------------------------------------------------------
// Workload "mix": a main thread starts `workers` threads; each increments a
// counter `iters` times under a futex mutex shaped like Go's lock_futex (with a
// SyncPoint between the counter's load and store, so a broken mutex or a
// broken executor loses increments), honours injected preemptions with
// osyield, and now and then sleeps with a timeout on a word nobody wakes. Main
// waits for all through a futex and exits with the counter.
struct Mix {
  SimPlatform* p = nullptr;
  int workers = 3;
  int iters = 20;
  std::atomic<uint32_t> mu{0};  // 0 unlocked, 1 locked, 2 locked with sleepers
  std::atomic<uint32_t> done{0};
  std::atomic<uint32_t> never{0};
  uint32_t counter = 0;
};

void mixLock(Mix& m) {
  m.p->syncPoint(Site::lock_acquire);
  uint32_t expected = 0;
  if (m.mu.compare_exchange_strong(expected, 1)) return;
  for (;;) {
    m.p->syncPoint(Site::lock_acquire);
    if (m.mu.exchange(2) == 0) return;
    m.p->futexsleep(&m.mu, 2, -1);
  }
}

void mixUnlock(Mix& m) {
  m.p->syncPoint(Site::lock_release);
  if (m.mu.exchange(0) == 2) m.p->futexwakeup(&m.mu, 1);
}

void mixWorker(void* arg, Fiber*) {
  Mix& m = *static_cast<Mix*>(arg);
  for (int i = 0; i < m.iters; i++) {
    mixLock(m);
    uint32_t c = m.counter;
    m.p->syncPoint(Site::user_shared);
    m.counter = c + 1;
    m.p->event(Ev::execute, i, 0, 0);
    mixUnlock(m);
    if (m.p->injectPreempt(Site::user_step)) m.p->osyield();
    if (i % 7 == 3) m.p->futexsleep(&m.never, 0, 2000);
  }
  m.p->syncPoint(Site::note_wakeup);
  m.done.fetch_add(1);
  m.p->futexwakeup(&m.done, 1);
}

void mixMain(void* arg, Fiber*) {
  Mix& m = *static_cast<Mix*>(arg);
  for (int w = 0; w < m.workers; w++) m.p->newosproc(w + 1, mixWorker, &m);
  for (;;) {
    m.p->syncPoint(Site::note_sleep);
    uint32_t d = m.done.load();
    if (d == uint32_t(m.workers)) break;
    m.p->futexsleep(&m.done, d, -1);
  }
  m.p->exitProcess(int(m.counter));
}

struct Outcome {
  RunResult result;
  std::vector<TraceEvent> trace;
  std::vector<int> mids;
};

Outcome runMix(Chooser& c, SimOptions o = {}, int workers = 3, int iters = 20) {
  SimPlatform p(c, o);
  Mix m;
  m.p = &p;
  m.workers = workers;
  m.iters = iters;
  Outcome out;
  out.result = p.run(mixMain, &m);
  out.trace = p.trace();
  out.mids = p.mids();
  return out;
}

// ---------------------------------------------------------------------------
// basic

struct PingPong {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> turn{0};
  int rounds = 10;
  std::vector<int> log;
};

void pong(void* arg, Fiber*) {
  PingPong& pp = *static_cast<PingPong*>(arg);
  for (int i = 0; i < pp.rounds; i++) {
    while (pp.turn.load() != 1) pp.p->futexsleep(&pp.turn, 0, -1);
    pp.log.push_back(1);
    pp.turn.store(0);
    pp.p->futexwakeup(&pp.turn, 1);
  }
}

void ping(void* arg, Fiber*) {
  PingPong& pp = *static_cast<PingPong*>(arg);
  pp.p->newosproc(7, pong, &pp);
  for (int i = 0; i < pp.rounds; i++) {
    while (pp.turn.load() != 0) pp.p->futexsleep(&pp.turn, 1, -1);
    pp.log.push_back(0);
    pp.turn.store(1);
    pp.p->futexwakeup(&pp.turn, 1);
  }
  while (pp.turn.load() != 0) pp.p->futexsleep(&pp.turn, 1, -1);
  pp.p->exitProcess(7);
}

TEST(ExecutorBasic, PingPongAlternatesUnderEveryStrategy) {
  for (uint64_t seed = 0; seed < 20; seed++) {
    std::unique_ptr<Chooser> c;
    if (seed == 0) c = std::make_unique<ByteChooser>(std::span<const Choice>());
    else if (seed % 2) c = std::make_unique<RandomWalkChooser>(seed, 0.5, 0.0);
    else c = std::make_unique<PctChooser>(seed, 3, 100);
    SimPlatform p(*c);
    PingPong pp;
    pp.p = &p;
    RunResult r = p.run(ping, &pp);
    ASSERT_EQ(r.verdict, Verdict::kOk) << r.kind << ": " << r.message;
    EXPECT_EQ(r.exit_code, 7);
    ASSERT_EQ(pp.log.size(), 20u);
    for (size_t i = 0; i < pp.log.size(); i++) EXPECT_EQ(pp.log[i], int(i % 2)) << "seed " << seed;
    EXPECT_EQ(p.mids(), (std::vector<int>{0, 7}));
    EXPECT_EQ(count(p.trace(), K::kStart), 2u);
  }
}

// The exact trace of a tiny program: every event kind, its step, clock, site
// and arguments.
struct Tiny {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> w{0};
};

void tinyB(void* arg, Fiber*) {
  Tiny& t = *static_cast<Tiny*>(arg);
  t.p->syncPoint(Site::lock_acquire);
  t.w.store(1);
  t.p->futexwakeup(&t.w, 1);
  bool pr = t.p->injectPreempt(Site::user_step);
  t.p->exitProcess(pr ? 11 : 12);
}

void tinyA(void* arg, Fiber*) {
  Tiny& t = *static_cast<Tiny*>(arg);
  t.p->event(Ev::mstart, 0, 0, 0);
  t.p->newosproc(3, tinyB, &t);
  t.p->futexsleep(&t.w, 0, -1);
}

TEST(ExecutorBasic, TraceOfATinyProgramIsExact) {
  std::vector<Choice> choices{pre(0)};
  ByteChooser c(choices);
  SimPlatform p(c);
  Tiny t;
  t.p = &p;
  RunResult r = p.run(tinyA, &t);
  ASSERT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.exit_code, 11);
  constexpr Site none = Site::kCount;
  constexpr Ev noev = Ev::kCount;
  std::vector<TraceEvent> want{
      {0, 0, 0, K::kStart, none, noev, 0, 0, 0},
      {0, 0, 0, K::kRuntime, none, Ev::mstart, 0, 0, 0},
      {0, 0, 1, K::kStart, none, noev, 3, 0, 0},
      {1, 100, 0, K::kBlock, none, noev, 0, 0, 0},
      {2, 200, 1, K::kSwitch, none, noev, 0, 0, 0},
      {3, 300, 0, K::kWake, none, noev, 1, 0, 0},
      {4, 400, 1, K::kPreempt, Site::user_step, noev, 0, 0, 0},
  };
  ASSERT_EQ(p.trace().size(), want.size());
  for (size_t i = 0; i < want.size(); i++) EXPECT_EQ(p.trace()[i], want[i]) << i << ": " << show(p.trace()[i]);
  EXPECT_EQ(r.steps, 4u);
  EXPECT_EQ(r.vtime, 400);
}

// futexwakeup wakes in the order of sleeping, not in thread-id order; a wake
// of cnt wakes at most cnt.
struct Fifo {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> w{0}, gate{0}, done{0};
};

void fifoWorker(void* arg, Fiber*) {
  Fifo& f = *static_cast<Fifo*>(arg);
  f.p->futexsleep(&f.w, 0, -1);
  f.done.fetch_add(1);
  f.p->futexwakeup(&f.done, 1);
}

void fifoMain(void* arg, Fiber*) {
  Fifo& f = *static_cast<Fifo*>(arg);
  for (int i = 1; i <= 3; i++) f.p->newosproc(i, fifoWorker, &f);
  f.p->futexsleep(&f.gate, 0, 5000);  // times out once the workers are all asleep
  f.p->futexwakeup(&f.w, 2);
  f.p->futexwakeup(&f.w, 1);
  for (uint32_t d; (d = f.done.load()) != 3;) f.p->futexsleep(&f.done, d, -1);
  f.p->exitProcess(0);
}

TEST(ExecutorBasic, FutexWakeIsFifoInSleepOrder) {
  // Calls 0-2: the newosprocs; call 3: main blocked, the entry runs T3 first.
  // Then the default policy runs T1 (next after 3, wrapping), then T2.
  std::vector<Choice> choices{sw(3, 3)};
  ByteChooser c(choices);
  SimPlatform p(c);
  Fifo f;
  f.p = &p;
  RunResult r = p.run(fifoMain, &f);
  ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
  std::vector<int> woken;  // by main, in order
  int timeouts = 0;
  for (const TraceEvent& e : p.trace()) {
    if (e.kind == K::kWake && e.a == 0) woken.push_back(e.thread);
    if (e.kind == K::kWake && e.a == -1) {
      timeouts++;
      EXPECT_EQ(e.thread, 0);
      EXPECT_EQ(e.vtime, 300 + 5000);  // main slept at vtime 300, after its three newosproc points
    }
  }
  EXPECT_EQ(woken, (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(timeouts, 1);
}

// A futexsleep whose word no longer holds val returns at once, and is still a
// scheduling point.
struct NoSleep {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> w{5};
};

TEST(ExecutorBasic, FutexSleepWithStaleValueReturnsButIsAPoint) {
  ByteChooser c({});
  SimPlatform p(c);
  NoSleep n;
  n.p = &p;
  RunResult r = p.run(
      +[](void* a, Fiber*) {
        NoSleep& n = *static_cast<NoSleep*>(a);
        n.p->futexsleep(&n.w, 4, -1);
        n.p->futexsleep(&n.w, 4, 1000);
        n.p->exitProcess(int(n.p->nanotime()));
      },
      &n);
  ASSERT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.steps, 2u);
  EXPECT_EQ(r.exit_code, 200);  // two points, no sleep
  EXPECT_EQ(count(p.trace(), K::kBlock), 0u);
}

// A log that several simulated threads append to, read after the run. Under
// TSan the executor switches threads without synchronisation
// (SimOptions::tsan_no_sync, the default there), so TSan sees the threads as
// parallel: state the test's threads share must be synchronised as between
// real threads. The lock never waits (no scheduling point while it is held).
template <typename T>
struct SharedLog {
  std::mutex mu;
  std::vector<T> v;
  void push(T x) {
    std::lock_guard<std::mutex> g(mu);
    v.push_back(std::move(x));
  }
};

// The runtime moves a thread between its g0 and goroutine fibers itself and
// reports it with onFiberSwitch; thread switches must resume the right fiber.
struct Gor {
  SimPlatform* p = nullptr;
  Fiber* g0[2] = {};
  Fiber* g[2] = {};
  std::atomic<uint32_t> w{0};
  std::atomic<uint32_t> done{0};
  SharedLog<std::string> log;
};

void gorBody(Gor& s, int id) {
  for (int i = 0; i < 3; i++) {
    // The string is built before the SyncPoint and dies before it: no heap
    // object lives across a thread switch on a goroutine fiber.
    s.log.push("g" + std::to_string(id) + "." + std::to_string(i));
    s.p->syncPoint(Site::user_shared);
  }
  if (id == 0) {
    s.p->futexsleep(&s.w, 0, -1);  // blocks on a goroutine fiber; g1 wakes it
    s.log.push("g0.woke");
  } else {
    s.w.store(1);
    s.p->futexwakeup(&s.w, 1);
  }
  s.p->onFiberSwitch(s.g0[id]);
  Fiber::SwitchFinal(s.g[id], s.g0[id]);
}

void gorEntry0(void* a) { gorBody(*static_cast<Gor*>(a), 0); }
void gorEntry1(void* a) { gorBody(*static_cast<Gor*>(a), 1); }

void gorThread(Gor& s, int id, Fiber* g0) {
  s.g0[id] = g0;
  s.p->onFiberSwitch(s.g[id]);
  Fiber::Switch(g0, s.g[id]);
  s.log.push("m" + std::to_string(id) + ".back");
  s.done.fetch_add(1);
  s.p->futexwakeup(&s.done, 1);
}

TEST(ExecutorBasic, ThreadSwitchResumesTheFiberTheThreadIsOn) {
  int interleaved = 0;
  for (uint64_t seed = 1; seed <= 30; seed++) {
    Gor s;
    s.g[0] = Fiber::Create(gorEntry0, &s);
    s.g[1] = Fiber::Create(gorEntry1, &s);
    RandomWalkChooser c(seed, 0.5, 0.0);
    SimPlatform p(c);
    s.p = &p;
    RunResult r = p.run(
        +[](void* a, Fiber* g0) {
          Gor& s = *static_cast<Gor*>(a);
          s.p->newosproc(1, +[](void* a, Fiber* g0) { gorThread(*static_cast<Gor*>(a), 1, g0); }, &s);
          gorThread(s, 0, g0);
          for (uint32_t d; (d = s.done.load()) != 2;) s.p->futexsleep(&s.done, d, -1);
          s.p->exitProcess(0);
        },
        &s);
    Fiber::Destroy(s.g[0]);
    Fiber::Destroy(s.g[1]);
    ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
    // Each thread's own lines, in order: its goroutine's steps, then its g0.
    std::vector<std::string> t0, t1;
    const std::vector<std::string>& lines = s.log.v;
    for (const std::string& x : lines) (x[1] == '0' ? t0 : t1).push_back(x);
    EXPECT_EQ(t0, (std::vector<std::string>{"g0.0", "g0.1", "g0.2", "g0.woke", "m0.back"})) << "seed " << seed;
    EXPECT_EQ(t1, (std::vector<std::string>{"g1.0", "g1.1", "g1.2", "m1.back"})) << "seed " << seed;
    auto pos = [&](const std::string& x) { return std::find(lines.begin(), lines.end(), x) - lines.begin(); };
    EXPECT_LT(pos("g1.2"), pos("g0.woke")) << "seed " << seed;
    // Did a thread switch happen while the thread left was on its goroutine?
    interleaved += pos("g0.0") < pos("g1.0") ? pos("g1.0") < pos("g0.2") : pos("g0.0") < pos("g1.2");
  }
  EXPECT_GT(interleaved, 10);
}

TEST(ExecutorBasicDeathTest, EntryReturningOnAGoroutineFiberIsCaught) {
  // The goroutine goes back to g0 without onFiberSwitch: the executor still
  // thinks the thread is on the goroutine when its entry returns.
  EXPECT_DEATH(
      {
        struct S {
          Fiber* g0;
          Fiber* g;
          SimPlatform* p;
        } s{};
        s.g = Fiber::Create(+[](void* a) {
          S& s = *static_cast<S*>(a);
          Fiber::SwitchFinal(s.g, s.g0);
        }, &s);
        ByteChooser c({});
        SimPlatform p(c);
        s.p = &p;
        p.run(+[](void* a, Fiber* g0) {
          S& s = *static_cast<S*>(a);
          s.g0 = g0;
          s.p->onFiberSwitch(s.g);
          Fiber::Switch(g0, s.g);
        }, &s);
      },
      "entry returned on a fiber other than its g0");
}

TEST(ExecutorBasic, StacksGoBackToThePoolAfterEachRun) {
  RandomWalkChooser warm(1, 0.3, 0.1);
  runMix(warm, {}, 4, 5);
  size_t pooled = Fiber::PooledStacks();
  for (uint64_t seed = 2; seed < 6; seed++) {
    RandomWalkChooser c(seed, 0.3, 0.1);
    Outcome o = runMix(c, {}, 4, 5);
    ASSERT_EQ(o.result.verdict, Verdict::kOk);
    EXPECT_EQ(Fiber::PooledStacks(), pooled) << "seed " << seed;
  }
}

// ---------------------------------------------------------------------------
// verdicts: each detector fires, with its kind, message and dump

struct TwoSleepers {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> a{0}, b{0};
};

TEST(ExecutorVerdicts, DeadlockWhenEveryThreadSleepsUntimed) {
  ByteChooser c({});
  SimPlatform p(c);
  TwoSleepers s;
  s.p = &p;
  p.setAddrNamer([&s](const void* addr) -> std::string {
    if (addr == &s.a) return "a.word";
    if (addr == &s.b) return "b.word";
    return "";
  });
  p.setDumper([] { return std::string("RUNTIME: every M parked\n"); });
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        TwoSleepers& s = *static_cast<TwoSleepers*>(arg);
        s.p->newosproc(5, +[](void* arg, Fiber*) {
          TwoSleepers& s = *static_cast<TwoSleepers*>(arg);
          s.p->syncPoint(Site::note_sleep);
          s.p->futexsleep(&s.b, 0, -1);
        }, &s);
        s.p->syncPoint(Site::gcwaiting_load);
        s.p->futexsleep(&s.a, 0, -1);
      },
      &s);
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_EQ(r.kind, "hang: deadlock");
  EXPECT_NE(r.message.find("2 blocked"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find('\n'), std::string::npos);
  EXPECT_NE(r.dump.find("T0 M0 blocked on futex a.word"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find("T1 M5 blocked on futex b.word"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find("(no deadline) at gcwaiting_load (schedule)"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find("at note_sleep (notesleep)"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find("RUNTIME: every M parked"), std::string::npos) << r.dump;
}

TEST(ExecutorVerdicts, AllThreadsExitingWithoutExitProcessIsADeadlock) {
  ByteChooser c({});
  SimPlatform p(c);
  RunResult r = p.run(+[](void*, Fiber*) {}, nullptr);
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_NE(r.message.find("exited without exitProcess"), std::string::npos) << r.message;
}

// One thread polls with a 100 us timeout forever (stopTheWorld's loop) while
// nothing else can run.
struct Poller {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> note{0}, other{0};
  int polls = 0;
  bool helper_wakes = false;  // does the helper make progress (wake the poller)?
  int helper_rounds = 0;
};

void pollerMain(void* arg, Fiber*) {
  Poller& s = *static_cast<Poller*>(arg);
  if (s.helper_rounds > 0)
    s.p->newosproc(1, +[](void* arg, Fiber*) {
      Poller& s = *static_cast<Poller*>(arg);
      for (int i = 0; i < s.helper_rounds; i++) {
        s.p->futexsleep(&s.other, 0, 1'000'000);  // nobody wakes this word: 1 ms of idle time
        if (s.helper_wakes) s.p->futexwakeup(&s.note, 1);
      }
      s.note.store(1);
      s.p->futexwakeup(&s.note, 1);
    }, &s);
  while (s.note.load() == 0) {
    s.polls++;
    s.p->syncPoint(Site::note_sleep);
    s.p->futexsleep(&s.note, 0, 100'000);
  }
  s.p->exitProcess(0);
}

TEST(ExecutorVerdicts, StallWhenOnlyTimedWakeupsHappen) {
  ByteChooser c({});
  SimOptions o;
  SimPlatform p(c, o);
  Poller s;
  s.p = &p;
  RunResult r = p.run(pollerMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kStall);
  EXPECT_EQ(r.kind, "hang: stall");
  EXPECT_NE(r.message.find("timed waiters: T0"), std::string::npos) << r.message;
  // Proved: no progress for longer than any finite wait, then livelock_rounds
  // jumps past every deadline.
  EXPECT_GT(r.vtime, o.livelock_ns + int64_t(o.livelock_rounds) * (o.livelock_ns / o.livelock_rounds));
  // Cheaply: about stall_ns / 100 us polls until the stall is suspected,
  // then one poll per jump (doubling, then livelock_rounds).
  EXPECT_GE(s.polls, 200 + int(o.livelock_rounds));
  EXPECT_LE(s.polls, 202 + 64 + int(o.livelock_rounds));
  EXPECT_NE(r.dump.find("T0 M0 blocked on futex"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find(" until "), std::string::npos) << r.dump;
}

TEST(ExecutorVerdicts, StallSilentWhileTimedSleepersStillWakeEachOther) {
  // 100 ms of idle time jumps in total, five times stall_ns, but the helper
  // wakes the poller every 1 ms: that is progress.
  ByteChooser c({});
  SimPlatform p(c);
  Poller s;
  s.p = &p;
  s.helper_rounds = 100;
  s.helper_wakes = true;
  RunResult r = p.run(pollerMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.kind << ": " << r.message;
  EXPECT_GT(r.vtime, 5 * SimOptions{}.stall_ns);
}

TEST(ExecutorVerdicts, StallFiresWhenTheSameSleepersDoNotWakeAnybody) {
  // The same program, except that the helper's timed wakeups wake nobody,
  // and it never stops sleeping.
  ByteChooser c({});
  SimPlatform p(c);
  Poller s;
  s.p = &p;
  s.helper_rounds = 1'000'000'000;
  s.helper_wakes = false;
  RunResult r = p.run(pollerMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kStall) << r.kind;
  EXPECT_NE(r.message.find("timed waiters: T0 T1"), std::string::npos) << r.message;
}

TEST(ExecutorVerdicts, LongButFiniteTimedWaitsWithoutProgressAreNoStall) {
  // 100 rounds of 1 ms sleeps that wake nobody: five times stall_ns without
  // progress, but finite (the stall rule used to call it a hang at 20 ms).
  ByteChooser c({});
  SimPlatform p(c);
  Poller s;
  s.p = &p;
  s.helper_rounds = 100;
  s.helper_wakes = false;
  RunResult r = p.run(pollerMain, &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.kind << ": " << r.message;
  EXPECT_GT(r.vtime, 5 * SimOptions{}.stall_ns);
}

struct Spinners {
  SimPlatform* p = nullptr;
};

void spinForever(void* arg, Fiber*) {
  Spinners& s = *static_cast<Spinners*>(arg);
  for (;;) s.p->syncPoint(Site::nmspinning_cas);
}

RunResult runSpinners(Chooser& c, SimOptions o) {
  SimPlatform p(c, o);
  Spinners s;
  s.p = &p;
  return p.run(
      +[](void* arg, Fiber* g0) {
        Spinners& s = *static_cast<Spinners*>(arg);
        s.p->newosproc(1, spinForever, &s);
        spinForever(arg, g0);
      },
      &s);
}

TEST(ExecutorVerdicts, LivelockWhenThreadsSpinForeverWithNoProgress) {
  for (int strategy = 0; strategy < 3; strategy++) {
    ByteChooser bc({});
    RandomWalkChooser rc(9, 0.5, 0.0);
    RandomWalkChooser starving(9, 0.0, 0.0);  // never switches: quiet mode's fairness takes over
    Chooser* c = strategy == 0 ? static_cast<Chooser*>(&bc) : strategy == 1 ? &rc : &starving;
    SimOptions o;
    o.step_budget = 100000;
    RunResult r = runSpinners(*c, o);
    EXPECT_EQ(r.verdict, Verdict::kLivelock) << strategy;
    EXPECT_EQ(r.kind, "hang: livelock");
    // Proved in quiet mode: window + a few doubling rounds + livelock_rounds
    // rounds of 2 x quiet_slice points, far below the budget.
    EXPECT_LT(r.steps, o.quiet_window + (o.livelock_rounds + 64) * 2 * o.quiet_slice);
    EXPECT_GT(r.vtime, o.livelock_ns);
    EXPECT_NE(r.message.find("T0 (M0 at nmspinning_cas)"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("T1 (M1 at nmspinning_cas)"), std::string::npos) << r.message;
    EXPECT_NE(r.dump.find("T1 M1 "), std::string::npos) << r.dump;
  }
}

TEST(ExecutorVerdicts, BudgetIsALastResortAndSaysSo) {
  ByteChooser bc({});
  SimOptions o;
  o.step_budget = 300;  // below the quiet window: no proof either way
  RunResult r = runSpinners(bc, o);
  EXPECT_EQ(r.verdict, Verdict::kBudget);
  EXPECT_EQ(r.kind, "hang: step budget");
  EXPECT_EQ(r.steps, 301u);
  EXPECT_NE(r.message.find("not a proof"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("(livelock)"), std::string::npos) << r.message;
}

// A spinner waits for a flag that another thread sets after a 60 s timed
// sleep (sysmon's longest sleep in Go 1.14): long but finite, so never a
// verdict, whatever the strategy. Without quiet mode this took 60 million
// scheduling points (and ended in the budget); with it, a few hundred.
struct LongSleeper {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> word{0};
  std::atomic<bool> flag{false};
};

struct LongSleeperRun {
  RunResult result;
  std::vector<TraceEvent> trace;
};

LongSleeperRun runLongSleeper(Chooser& c, uint64_t budget = 20000) {
  SimOptions o;
  o.step_budget = budget;
  SimPlatform p(c, o);
  LongSleeper s;
  s.p = &p;
  LongSleeperRun out;
  out.result = p.run(
      +[](void* arg, Fiber*) {
        LongSleeper& s = *static_cast<LongSleeper*>(arg);
        s.p->newosproc(
            1,
            +[](void* arg, Fiber*) {
              LongSleeper& s = *static_cast<LongSleeper*>(arg);
              s.p->futexsleep(&s.word, 0, 60'000'000'000);  // nobody wakes it: 60 s
              s.flag.store(true);
            },
            &s);
        while (!s.flag.load()) s.p->syncPoint(Site::user_step);
        s.p->exitProcess(0);
      },
      &s);
  out.trace = p.trace();
  return out;
}

TEST(ExecutorVerdicts, LongFiniteWaitBehindASpinnerIsNoVerdict) {
  for (int strategy = 0; strategy < 3; strategy++) {
    ByteChooser bc({});
    RandomWalkChooser rc(3, 0.3, 0.0);
    RandomWalkChooser starving(3, 0.0, 0.0);
    Chooser* c = strategy == 0 ? static_cast<Chooser*>(&bc) : strategy == 1 ? &rc : &starving;
    RunResult r = runLongSleeper(*c).result;
    EXPECT_EQ(r.verdict, Verdict::kOk) << strategy << ": " << r.kind << " " << r.message;
    EXPECT_GE(r.vtime, 60'000'000'000);
    EXPECT_LT(r.steps, 2000u);
    EXPECT_GE(r.max_quiet_ns, 60'000'000'000 - 1'000'000);  // reported as a latency
  }
}

TEST(ExecutorVerdicts, FinishingProgramLeavesEveryDetectorSilent) {
  RandomWalkChooser c0(5, 0.3, 0.2);
  Outcome o = runMix(c0);
  ASSERT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  EXPECT_EQ(o.result.exit_code, 60);
  EXPECT_EQ(o.result.kind, "");
  EXPECT_EQ(o.result.message, "");
  EXPECT_EQ(o.result.dump, "");
  // The budget is exact: the same run needs o.result.steps points and fails with one fewer.
  SimOptions tight;
  tight.step_budget = o.result.steps;
  RandomWalkChooser c1(5, 0.3, 0.2);
  EXPECT_EQ(runMix(c1, tight).result.verdict, Verdict::kOk);
  tight.step_budget = o.result.steps - 1;
  RandomWalkChooser c2(5, 0.3, 0.2);
  EXPECT_EQ(runMix(c2, tight).result.verdict, Verdict::kBudget);
}

TEST(ExecutorVerdicts, ExitProcessCodePropagates) {
  ByteChooser c({});
  SimPlatform p(c);
  TwoSleepers s;
  s.p = &p;
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        TwoSleepers& s = *static_cast<TwoSleepers*>(arg);
        s.p->newosproc(1, +[](void* arg, Fiber*) { static_cast<TwoSleepers*>(arg)->p->exitProcess(42); }, &s);
        s.p->futexsleep(&s.a, 0, -1);  // still asleep when the other thread exits the process
      },
      &s);
  EXPECT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(r.exit_code, 42);
}

TEST(ExecutorVerdicts, FatalIsAThrowWithAOneLineMessage) {
  ByteChooser c({});
  SimPlatform p(c);
  p.setDumper([] { return std::string("RUNTIME DUMP\n"); });
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        auto* p = static_cast<SimPlatform*>(arg);
        p->syncPoint(Site::gstatus_cas);
        p->fatal("throw", "casgstatus: bad g transition\nold=2 new=1");
      },
      &p);
  EXPECT_EQ(r.verdict, Verdict::kThrow);
  EXPECT_EQ(r.kind, "throw");
  EXPECT_EQ(r.message, "casgstatus: bad g transition old=2 new=1");
  EXPECT_NE(r.dump.find("T0 M0 running at gstatus_cas (casgstatus)"), std::string::npos) << r.dump;
  EXPECT_NE(r.dump.find("RUNTIME DUMP"), std::string::npos);
}

TEST(ExecutorVerdicts, CheckerFailureIsAnInvariantFindingAndRunsAtEveryPoint) {
  RandomWalkChooser c(1, 0.3, 0.0);
  SimPlatform p(c);
  Mix m;
  m.p = &p;
  uint64_t calls = 0;
  p.setChecker([&](std::string& kind, std::string& msg) {
    if (++calls < 50) return true;
    kind = "P accounting";
    msg = "P1 is on the idle list and held by M2";
    return false;
  });
  RunResult r = p.run(mixMain, &m);
  EXPECT_EQ(r.verdict, Verdict::kInvariant);
  EXPECT_EQ(r.kind, "invariant: P accounting");
  EXPECT_EQ(r.message, "P1 is on the idle list and held by M2");
  EXPECT_EQ(calls, 50u);
  EXPECT_EQ(r.steps, 49u);  // the checker runs before the point is counted
}

TEST(ExecutorVerdicts, CheckerThatAlwaysPassesIsCalledOncePerPoint) {
  RandomWalkChooser c(1, 0.3, 0.0);
  SimPlatform p(c);
  Mix m;
  m.p = &p;
  uint64_t calls = 0;
  p.setChecker([&](std::string&, std::string&) { return ++calls > 0; });
  RunResult r = p.run(mixMain, &m);
  ASSERT_EQ(r.verdict, Verdict::kOk);
  EXPECT_EQ(calls, r.steps);
}

// ---------------------------------------------------------------------------
// determinism

TEST(ExecutorDeterminism, SameSeedSameTraceAcrossRunsAndInterleavedRuns) {
  for (uint64_t seed : {1u, 17u, 123u}) {
    RandomWalkChooser a1(seed, 0.3, 0.1);
    Outcome first = runMix(a1);
    RandomWalkChooser other(seed + 1000, 0.3, 0.1);
    Outcome between = runMix(other);
    RandomWalkChooser a2(seed, 0.3, 0.1);
    Outcome second = runMix(a2);
    ASSERT_EQ(first.result.verdict, Verdict::kOk);
    EXPECT_GT(first.trace.size(), 100u);
    long d = firstDiff(first.trace, second.trace);
    EXPECT_EQ(d, -1) << "seed " << seed << " first difference at " << d;
    EXPECT_EQ(first.result.steps, second.result.steps);
    EXPECT_EQ(first.result.vtime, second.result.vtime);
    // And the comparison can fail: another seed gives another interleaving.
    EXPECT_NE(firstDiff(first.trace, between.trace), -1);
  }
  for (uint64_t seed : {2u, 99u}) {
    PctChooser a1(seed, 3, 400);
    Outcome first = runMix(a1);
    PctChooser other(seed + 1, 3, 400);
    runMix(other);
    PctChooser a2(seed, 3, 400);
    EXPECT_EQ(firstDiff(first.trace, runMix(a2).trace), -1);
  }
}

// ---------------------------------------------------------------------------
// strategies

// Three threads each log their id and pass a SyncPoint four times.
struct Steps {
  SimPlatform* p = nullptr;
  SharedLog<int> log;
  std::atomic<int> done{0};
};

void stepsBody(Steps& s, int id) {
  for (int i = 0; i < 4; i++) {
    s.log.push(id);
    s.p->syncPoint(Site::user_shared);
  }
  if (s.done.fetch_add(1) + 1 == 3) s.p->exitProcess(0);
}

std::vector<int> runSteps(std::vector<Choice> choices) {
  ByteChooser c(choices);
  SimPlatform p(c);
  Steps s;
  s.p = &p;
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        Steps& s = *static_cast<Steps*>(arg);
        s.p->newosproc(1, +[](void* a, Fiber*) { stepsBody(*static_cast<Steps*>(a), 1); }, &s);
        s.p->newosproc(2, +[](void* a, Fiber*) { stepsBody(*static_cast<Steps*>(a), 2); }, &s);
        stepsBody(s, 0);
      },
      &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.message;
  return s.log.v;
}

TEST(Strategies, ByteChooserSwitchEntriesGiveTheExpectedInterleaving) {
  // Calls 0,1: the newosprocs. Call 2 (after T0's first log): switch to T1.
  // Call 3: switch to T2. Call 4 is skipped, call 5: back to T0. Then the
  // default policy: T0 to its exit, then T1 (next after 0), then T2.
  EXPECT_EQ(runSteps({sw(2, 1), sw(0, 2), sw(1, 0)}),
            (std::vector<int>{0, 1, 2, 2, 0, 0, 0, 1, 1, 1, 2, 2}));
  // No entries: the default policy runs each thread to its exit in id order.
  EXPECT_EQ(runSteps({}), (std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  // A target that does not exist wraps to the smallest runnable id; a target
  // that is not runnable goes to the next runnable id after it.
  EXPECT_EQ(runSteps({sw(2, 9), sw(0, 2)}),  // call 2 -> T0 (wrap), call 3 -> T2
            (std::vector<int>{0, 0, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1}));
}

TEST(Strategies, ByteChooserContinuationsAndPreemptEntries) {
  // Synthetic points: three runnable threads, T0 running.
  std::vector<int> runnable{0, 1, 2};
  ChoicePoint cp{1, 0, runnable, Site::user_shared};
  std::vector<Choice> choices{sw(255, 7), sw(0, 2), pre(3), pre(255), pre(0), pre(1)};
  ByteChooser c(choices);
  DefaultPolicy ref;
  std::vector<int> rotations;
  for (int i = 0; i < 255; i++) {  // a continuation acts at none of its 255 calls: the default decides
    int want = ref.choose(cp);
    ref.update(want);
    ASSERT_EQ(c.chooseThread(cp), want) << i;
    if (want != cp.current) rotations.push_back(i);
    cp.current = want;
  }
  EXPECT_EQ(rotations, (std::vector<int>{64, 128, 192}));  // the quantum: 0 -> 1 -> 2 -> 0
  EXPECT_EQ(cp.current, 0);
  EXPECT_EQ(c.chooseThread(cp), 2);  // call 255: the entry after the continuation
  cp.current = 2;
  EXPECT_EQ(c.chooseThread(cp), 2);  // entries exhausted: default keeps the current thread
  std::vector<int> hits;
  for (int i = 0; i < 600; i++)
    if (c.choosePreempt(0, 0, Site::user_step)) hits.push_back(i);
  EXPECT_EQ(hits, (std::vector<int>{3, 4 + 255, 4 + 255 + 2}));
}

TEST(Strategies, WalkPreemptsProloguesWithWalkOver32UserStepsWithWalkOver256) {
  // walk 0: never, whatever the seed (reproducers and RecordingChooser rely on it).
  for (uint64_t seed : {0ull, 1ull, 0x123456789ull}) {
    ByteChooser c({}, 0, seed);
    for (int i = 0; i < 2000; i++) {
      ASSERT_FALSE(c.choosePreempt(0, 0, Site::user_step)) << i;
      ASSERT_FALSE(c.choosePreempt(0, 0, Site::newm_prologue)) << i;
    }
  }
  // walk w: about w/32 of the prologues (SiteKind::kPreempt) and w/256 of the
  // user steps (SiteKind::kUser), a pure function of (seed, index, site kind).
  for (int walk : {1, 8, 15}) {
    for (Site site : {Site::newm_prologue, Site::user_call, Site::user_step}) {
      const int n = 64000;
      const double p = walk / (gort::siteInfo(site).kind == gort::SiteKind::kUser ? 256.0 : 32.0);
      std::vector<bool> first;
      ByteChooser a({}, walk, 42);
      for (int i = 0; i < n; i++) first.push_back(a.choosePreempt(0, 0, site));
      long hits = std::count(first.begin(), first.end(), true);
      EXPECT_NEAR(double(hits), n * p, 5 * std::sqrt(n * p) + 1) << "walk " << walk << " site " << int(site);
      ByteChooser again({}, walk, 42);
      for (int i = 0; i < n; i++) ASSERT_EQ(again.choosePreempt(0, 0, site), first[i]) << i;
      ByteChooser other({}, walk, 43);
      long same = 0;
      for (int i = 0; i < n; i++) same += other.choosePreempt(0, 0, site) == first[i];
      EXPECT_LT(same, n) << "another seed gives another stream";
      DefaultPolicy pol(walk, 42);
      for (int i = 0; i < 100; i++) EXPECT_EQ(pol.preempt(i, site), first[i]) << i;
    }
  }
  // Entries fire at their index; the walk decides only the other calls.
  std::vector<Choice> one{pre(5)};
  ByteChooser w(one, 15, 7);
  DefaultPolicy pol(15, 7);
  for (int i = 0; i < 64; i++)
    EXPECT_EQ(w.choosePreempt(0, 0, Site::newm_prologue), i == 5 || pol.preempt(i, Site::newm_prologue)) << i;
}

TEST(Strategies, DefaultPolicyRotatesAfterAQuantumSoSpinWaitsFinish) {
  // T0 spin-waits on a flag only T1 sets; T1 runs only if the default policy
  // takes the CPU away from a runnable spinner.
  struct Flag {
    SimPlatform* p = nullptr;
    std::atomic<bool> set{false};
  } f;
  ByteChooser c({});
  SimPlatform p(c);
  f.p = &p;
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        Flag& f = *static_cast<Flag*>(arg);
        f.p->newosproc(1, +[](void* arg, Fiber*) { static_cast<Flag*>(arg)->set = true; }, &f);
        while (!f.set) f.p->osyield();
        f.p->exitProcess(0);
      },
      &f);
  ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
  // Thread 0 is chosen at points 1..64; point 65 rotates to T1.
  std::vector<uint64_t> switch_steps;
  for (const TraceEvent& e : p.trace())
    if (e.kind == K::kSwitch) switch_steps.push_back(e.step);
  EXPECT_EQ(switch_steps, (std::vector<uint64_t>{65, 66}));
  EXPECT_EQ(count(p.trace(), K::kExit, 1), 1u);
}

TEST(Strategies, PctHasDepthMinusOneChangePoints) {
  for (int depth : {1, 2, 3, 5, 10})
    for (uint64_t k : {1u, 3u, 1000u}) {
      PctChooser c(uint64_t(depth) * 31 + k, depth, k);
      ASSERT_EQ(c.change_points().size(), size_t(depth - 1));
      ASSERT_EQ(c.preempt_points().size(), size_t(depth - 1));
      std::vector<int> prios;
      for (size_t i = 0; i < c.change_points().size(); i++) {
        const auto& cp = c.change_points()[i];
        EXPECT_GE(cp.step, 1u);
        EXPECT_LE(cp.step, k);
        if (i > 0) {
          EXPECT_LE(c.change_points()[i - 1].step, cp.step);
          if (k >= uint64_t(depth - 1)) {
            EXPECT_NE(c.change_points()[i - 1].step, cp.step);
          }
        }
        prios.push_back(cp.priority);
      }
      std::sort(prios.begin(), prios.end());
      for (int i = 0; i < depth - 1; i++) EXPECT_EQ(prios[i], i + 1);
    }
}

// Spinners that never block, started by main, which then sleeps until they
// are done. Under PCT with depth 1 (fixed priorities, no change points) a
// thread loses the CPU only when it blocks or exits, or when a thread with a
// higher priority becomes runnable.
struct PctSpin {
  SimPlatform* p = nullptr;
  std::atomic<uint32_t> exited{0};
  SharedLog<int> log;  // spinner ids, one per loop iteration
  struct Arg {
    PctSpin* s;
    int id;
  } args[5];
};

void pctSpinner(void* arg, Fiber*) {
  PctSpin& s = *static_cast<PctSpin::Arg*>(arg)->s;
  int id = static_cast<PctSpin::Arg*>(arg)->id;
  for (int i = 0; i < 30; i++) {
    s.log.push(id);
    s.p->syncPoint(Site::user_shared);
  }
  s.exited.fetch_add(1);
  s.p->futexwakeup(&s.exited, 1);
}

// For each spinner, the number of separate stretches in which it ran its loop.
std::vector<int> pctSpinStretches(int depth, uint64_t seed) {
  PctChooser c(seed, depth, 150);
  SimPlatform p(c);
  PctSpin s;
  s.p = &p;
  RunResult r = p.run(
      +[](void* arg, Fiber*) {
        PctSpin& s = *static_cast<PctSpin*>(arg);
        for (int i = 1; i <= 4; i++) {
          s.args[i] = {&s, i};
          s.p->newosproc(i, pctSpinner, &s.args[i]);
        }
        for (uint32_t d; (d = s.exited.load()) != 4;) s.p->futexsleep(&s.exited, d, -1);
        s.p->exitProcess(0);
      },
      &s);
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.message;
  std::vector<int> stretches(5);
  const std::vector<int>& ids = s.log.v;
  for (size_t i = 0; i < ids.size(); i++)
    if (i == 0 || ids[i] != ids[i - 1]) stretches[ids[i]]++;
  return stretches;
}

TEST(Strategies, PctDepthOneNeverSwitchesExceptOnBlockOrNewHigherPriorityThread) {
  // 1. Spinners never block and nothing wakes main before a loop is over:
  // each spinner runs its whole loop in one stretch.
  for (uint64_t seed = 1; seed <= 50; seed++) {
    std::vector<int> n = pctSpinStretches(1, seed);
    for (int t = 1; t <= 4; t++) EXPECT_EQ(n[t], 1) << "seed " << seed << " T" << t;
  }
  // The property is not vacuous: with change points, loops are cut.
  bool some_cut = false;
  for (uint64_t seed = 1; seed <= 50 && !some_cut; seed++) {
    std::vector<int> n = pctSpinStretches(4, seed);
    for (int t = 1; t <= 4; t++) some_cut |= n[t] > 1;
  }
  EXPECT_TRUE(some_cut);

  // 2. Mix: a thread that is still runnable loses the CPU only to a thread
  // that just became runnable (woken or started at this point or the one before).
  auto violations = [](int depth, uint64_t seed) {
    PctChooser c(seed, depth, 400);
    Outcome o = runMix(c);
    EXPECT_EQ(o.result.verdict, Verdict::kOk);
    std::vector<bool> off(8, false);  // blocked or exited since it last ran
    std::vector<uint64_t> ready(8, 0);
    int bad = 0;
    for (const TraceEvent& e : o.trace) {
      if (e.kind == K::kBlock || e.kind == K::kExit) off[e.thread] = true;
      if (e.kind == K::kWake || e.kind == K::kStart) ready[e.thread] = e.step, off[e.thread] = false;
      if (e.kind == K::kSwitch && !off[e.a] && !(ready[e.thread] + 1 >= e.step)) bad++;
    }
    return bad;
  };
  int with_changes = 0;
  for (uint64_t seed = 1; seed <= 50; seed++) {
    EXPECT_EQ(violations(1, seed), 0) << "seed " << seed;
    with_changes += violations(3, seed);
  }
  EXPECT_GT(with_changes, 0);
}

// ---------------------------------------------------------------------------
// replay: any strategy's run becomes a ByteChooser input

struct RoundTrip {
  size_t switch_entries = 0, preempt_entries = 0, continuations = 0, preempt_continuations = 0;
  size_t forced_points = 0;  // points the executor decided itself (quiet mode), replayed too
};

// Quiet mode off: every point is a chooser call (long gaps between entries).
SimOptions noQuiet() {
  SimOptions o;
  o.quiet_window = std::numeric_limits<uint64_t>::max();
  return o;
}

void roundTrip(Chooser& inner, const std::string& what, RoundTrip& stats, int iters = 20, SimOptions so = {}) {
  RecordingChooser rec(inner);
  Outcome original = runMix(rec, so, 3, iters);
  ASSERT_EQ(original.result.verdict, Verdict::kOk) << what;
  std::optional<std::vector<Choice>> choices = rec.toChoices();
  ASSERT_TRUE(choices.has_value()) << what;
  for (const Choice& c : *choices) {
    (c.kind == Choice::Kind::kSwitch ? stats.switch_entries : stats.preempt_entries)++;
    stats.continuations += c.delay == ByteChooser::kContinuation;
    stats.preempt_continuations += c.delay == ByteChooser::kContinuation && c.kind == Choice::Kind::kPreempt;
  }
  for (const RecordingChooser::Point& pt : rec.points()) stats.forced_points += pt.forced;
  ByteChooser replay(*choices);
  Outcome again = runMix(replay, so, 3, iters);
  long d = firstDiff(original.trace, again.trace);
  ASSERT_EQ(d, -1) << what << ": first difference at event " << d << " of " << original.trace.size()
                   << (d >= 0 && size_t(d) < original.trace.size() ? "\n  recorded " + show(original.trace[d]) : "")
                   << (d >= 0 && size_t(d) < again.trace.size() ? "\n  replayed " + show(again.trace[d]) : "");
  EXPECT_EQ(original.result.steps, again.result.steps) << what;
  EXPECT_EQ(original.result.exit_code, again.result.exit_code) << what;
}

TEST(Replay, RandomWalkRunsReplayExactlyFromRecordedChoices) {
  RoundTrip stats;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    double sp = 0.01 + 0.1 * double(seed % 5);
    double pp = seed % 2 ? 0.2 : 0.004;
    int iters = seed % 10 == 0 ? 150 : 20;  // long runs: gaps of more than 255 PreemptPoints
    RandomWalkChooser c(seed, sp, pp);
    // Every fifth seed without quiet mode: no forced points, so long gaps
    // between switch entries become continuations.
    roundTrip(c, "random walk seed " + std::to_string(seed), stats, iters, seed % 5 == 0 ? noQuiet() : SimOptions{});
  }
  EXPECT_GT(stats.switch_entries, 200u);
  EXPECT_GT(stats.preempt_entries, 200u);
  EXPECT_GT(stats.continuations, stats.preempt_continuations);  // long gaps of both kinds were exercised
  EXPECT_GT(stats.preempt_continuations, 0u);
}

TEST(Replay, PctRunsReplayExactlyFromRecordedChoices) {
  RoundTrip stats;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    bool long_run = seed % 10 == 0;  // 450 PreemptPoints: gaps of more than 255
    PctChooser::PreemptOptions po;
    po.expected_preempts = long_run ? 450 : 60;
    po.user_preempt_prob = seed % 3 ? 0.0 : 0.05;
    PctChooser c(seed, 1 + int(seed % 4), long_run ? 4000 : 600, po);
    roundTrip(c, "pct seed " + std::to_string(seed), stats, long_run ? 150 : 20);
  }
  EXPECT_GT(stats.switch_entries, 200u);
  EXPECT_GT(stats.preempt_entries, 50u);
  EXPECT_GT(stats.preempt_continuations, 0u);
}

// The executor's own choices in quiet mode are not decisions: the recording
// marks them, toChoices skips them, and the replay forces the same points.
TEST(Replay, QuietModeForcedPointsReplayExactly) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    RandomWalkChooser inner(seed, seed % 2 ? 0.0 : 0.2, 0.0);
    RecordingChooser rec(inner);
    LongSleeperRun original = runLongSleeper(rec);
    ASSERT_EQ(original.result.verdict, Verdict::kOk) << seed;
    size_t forced = 0;
    for (const RecordingChooser::Point& pt : rec.points()) forced += pt.forced;
    EXPECT_GT(forced, 0u) << seed;
    std::optional<std::vector<Choice>> choices = rec.toChoices();
    ASSERT_TRUE(choices.has_value());
    ByteChooser replay(*choices);
    LongSleeperRun again = runLongSleeper(replay);
    EXPECT_EQ(firstDiff(original.trace, again.trace), -1) << seed;
    EXPECT_EQ(original.result.steps, again.result.steps) << seed;
  }
}

TEST(Replay, DefaultPolicyRunRecordsToNoChoices) {
  ByteChooser inner({});
  RecordingChooser rec(inner);
  Outcome o = runMix(rec);
  ASSERT_EQ(o.result.verdict, Verdict::kOk);
  ASSERT_TRUE(rec.toChoices().has_value());
  EXPECT_TRUE(rec.toChoices()->empty());
  EXPECT_EQ(rec.points().size(), o.result.steps);
}

}  // namespace
}  // namespace schedfuzz
