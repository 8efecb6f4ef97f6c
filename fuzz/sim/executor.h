// fuzz/sim/executor.h — the deterministic platform: Ms as fibers on one OS thread.
//
// SimPlatform implements gort::Platform. Every thread the runtime starts
// (newosproc) is a fiber; exactly one runs at a time. At every SyncPoint and
// whenever the running thread blocks, yields or exits, the Chooser picks the
// thread that runs next. Futex waits block the fiber; wakes make it runnable.
//
// Time is virtual: it advances by SimOptions::step_ns at every scheduling
// point and jumps to the earliest deadline when no thread is runnable, so a
// run is a pure function of the program and the chooser. No wall-clock read.
//
// Scheduling points: syncPoint, futexsleep (blocking or not), futexwakeup,
// osyield, newosproc, and a thread's exit (its entry returned). At each one,
// in this order: the checker runs, the step counter and the clock advance,
// timed waiters whose deadline passed wake (FIFO in order of sleeping), and
// the Chooser picks the next thread (ChoicePoint::current is -1 if the
// running thread blocked or exited). injectPreempt is not a scheduling point:
// it only asks Chooser::choosePreempt.
//
// Threads and fibers: a thread starts on the fiber the executor created for
// it (its g0), but the runtime moves each thread between its g0 and goroutine
// fibers itself; it reports each such move with Platform::onFiberSwitch, and
// the executor switches threads by switching from the fiber the running
// thread is on to the fiber the next thread is on. Futex wakes are FIFO in
// order of sleeping; there are no spurious wakeups.
//
// Hang verdicts (DESIGN.md "fuzz/sim"). Each is a proof, not a timeout:
//  * deadlock: no thread runnable and none in a timed wait;
//  * stall:    nothing runnable, and time has had to jump forward with no
//              progress (a futex wake that woke somebody, a thread start or
//              exit, an op completed) for more than livelock_ns, then for
//              livelock_rounds more jumps past every deadline — e.g. the
//              stop-the-world loop waking every 100 us while the P it waits
//              for is leaked. Suspected after stall_ns, from when the idle
//              jumps at least double (executor.cpp);
//  * livelock: threads kept running, but no op of the program completed
//              (noteProgress), no thread started or exited, for more than
//              livelock_ns of virtual time, and after that every runnable
//              thread had livelock_rounds more fair turns of quiet_slice
//              points and every timed waiter woke in each (see "Quiet mode");
//  * budget:   more scheduling points than step_budget: a last resort, sized
//              so that a faithful runtime never reaches it. It proves
//              nothing about liveness and its message says so.
//
// Quiet mode. A wait that is long but finite in Go (sysmon asleep for 60 s
// while a goroutine spins, a timer behind a CPU-bound goroutine) must not
// end in a verdict, and a spin that nothing can stop must be proved endless
// in few steps. So after quiet_window scheduling points without program
// progress (noteProgress, a thread start or exit) the executor takes over:
//  * fairness: it picks threads itself, round robin over the runnable ids,
//    quiet_slice consecutive points each (the Chooser is told with
//    onForced and not asked), so no strategy can starve a thread into a
//    false verdict;
//  * time: at the end of every round (the rotation wraps) in which some
//    thread stayed runnable throughout (a round with an idle moment is left
//    to the stall rule, whose idle jumps already let time pass) virtual time jumps
//    to max(the earliest deadline, now + the quiet time so far): the quiet
//    time at least doubles per round and every timed waiter due by then
//    wakes; once the quiet time exceeds livelock_ns, every round jumps just
//    past the latest deadline instead, so every timed waiter wakes in every
//    round and the clock grows by at most the longest wait per round. Letting time pass while threads run is always a legal schedule
//    (the OS may deschedule any thread for any while); it only compresses
//    what a real machine would spend spinning.
// So a faithful runtime leaves quiet mode after a few rounds (sysmon wakes
// and preempts the spinner, the timer runs), and a true livelock is proved
// after about log2(livelock_ns / quiet time) + livelock_rounds rounds: by
// then every thread still runnable has had livelock_rounds * quiet_slice
// points, and every timed waiter livelock_rounds wakeups, after the longest
// finite wait of the runtime was over.
// Progress ends quiet mode; the longest quiet stretch that ended in progress
// is reported as RunResult::max_quiet_ns (a latency, not a hang).
// A verdict, a runtime throw (Platform::fatal) or an invariant failure ends
// the run: the executor switches back to the caller of run() for good and
// abandons every fiber; run() destroys the fibers it created (their stacks
// go back to the pool) before it returns. Goroutine fibers belong to the
// runtime. A thread whose entry returns while the program has not called
// exitProcess is an exited thread; if every thread exits that way the run
// ends as a deadlock ("all threads exited").
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/sim/chooser.h"
#include "runtime/platform.h"

namespace schedfuzz {

enum class Verdict : uint8_t {
  kOk,         // exitProcess was called: the program finished
  kDeadlock,   // hang: nothing can ever run again
  kStall,      // hang: only timed wakeups, no progress
  kBudget,     // step budget exhausted: not a proof of anything (a last resort)
  kThrow,      // the runtime threw (Platform::fatal)
  kInvariant,  // the invariant checker reported a violation
  kLivelock,   // hang: threads run, but nothing can ever complete
};
// "ok", "deadlock", "stall", "budget", "throw", "invariant", "livelock"
const char* verdictName(Verdict v);

// The default of SimOptions::tsan_no_sync: true iff this build has
// ThreadSanitizer and SCHEDFUZZ_TSAN_SYNC is unset, empty or "0" (read once).
bool defaultTsanNoSync();

struct SimOptions {
  uint64_t step_budget = 200000;   // scheduling points before a budget verdict
  int64_t step_ns = 100;           // virtual time per scheduling point
  int64_t stall_ns = 20'000'000;   // idle time without progress before a stall is suspected
  // Quiet mode (file comment): points without program progress before the
  // executor enforces fairness and lets time pass; points per thread per
  // fair round.
  uint64_t quiet_window = 512;
  uint32_t quiet_slice = 8;
  // Whether a futex wake that woke somebody is progress for quiet mode too
  // (it always is for the stall rule). On for bare thread programs, which
  // have no noteProgress; the fuzz harness turns it off and reports program
  // progress itself, so the runtime's own wake-ups (an M woken to find
  // nothing, again and again) cannot keep a spin out of quiet mode.
  bool wake_is_progress = true;
  // Livelock: quiet for longer than livelock_ns of virtual time, then
  // livelock_rounds more fair rounds. livelock_ns must exceed the longest
  // finite wait of the runtime under test: gort's is sysmon's
  // forcegcperiod/2 = 60 s sleep (plus 10 ms to preempt), so 61 s.
  int64_t livelock_ns = 61'000'000'000;
  uint32_t livelock_rounds = 256;
  bool record_trace = true;
  // Run the checker only where another thread is about to run (a switch, or
  // the running thread blocked or exited). The global state is observable by
  // another M only there: states in between, seen by nobody but the running
  // thread, cannot be acted on. Cuts the checker's cost by the mean run
  // length between switches.
  bool check_at_switches_only = false;
  // ThreadSanitizer builds only (ignored otherwise): the executor's own
  // switches from one thread (M) to another pass
  // __tsan_switch_to_fiber_no_sync, so TSan sees the Ms as parallel threads
  // and checks gort's locking as if they ran in parallel: only gort's own
  // synchronisation (its futex mutexes and notes, atomics) orders them. The
  // runtime's switches between an M's g0 and its goroutines stay
  // synchronising (same thread). Everything the executor does on an M's
  // fibers (its bookkeeping, the Chooser, the checker, the dumper, trace
  // recording) is invisible to TSan (gort::tsanInvisibleBegin), and thread
  // start (newosproc -> the new thread) and the end of the run (every
  // thread -> the caller of run(), like pthread_join) are the only edges
  // the executor adds. Default: on under TSan unless SCHEDFUZZ_TSAN_SYNC=1.
  bool tsan_no_sync = defaultTsanNoSync();
};

// One line of the interleaving.
struct TraceEvent {
  enum class Kind : uint8_t {
    kSwitch,    // the chooser moved execution to `thread` (a = previous thread)
    kRuntime,   // a runtime event: ev with a, b, c
    kBlock,     // `thread` blocked on a futex (a = timed 1/0)
    kWake,      // `thread` was woken (a = by thread a, -1 for a timeout)
    kStart,     // thread started (a = its M id)
    kExit,      // thread exited
    kPreempt,   // the chooser injected a preemption request at `site`
  };
  uint64_t step;     // scheduling points so far (the event happened after `step` points)
  int64_t vtime;
  int thread;
  Kind kind;
  gort::Site site;   // the thread's last site; Site::kCount if it has reached none yet
  gort::Ev ev;       // for kRuntime; Ev::kCount otherwise
  int a, b, c;
  bool operator==(const TraceEvent&) const = default;
};

struct RunResult {
  Verdict verdict = Verdict::kOk;
  int exit_code = 0;
  std::string kind;     // stable finding kind, e.g. "hang: stall", "throw", "invariant: P accounting"
  std::string message;  // one line: what went wrong
  std::string dump;     // every thread (what it waits on, at which site) + the runtime's dump
  uint64_t steps = 0;
  int64_t vtime = 0;
  // Latency: the longest stretch of virtual time without program progress
  // (see noteProgress; while threads ran or slept) that ended in progress,
  // and the step where it ended. Not a finding by itself: Go 1.14 has such
  // waits (sysmon's 60 s sleep while a goroutine spins or a timer waits).
  int64_t max_quiet_ns = 0;
  uint64_t max_quiet_end_step = 0;
};

class SimPlatform final : public gort::Platform {
 public:
  SimPlatform(Chooser& chooser, SimOptions opts = {});
  ~SimPlatform() override;
  SimPlatform(const SimPlatform&) = delete;
  SimPlatform& operator=(const SimPlatform&) = delete;

  // Run entry(arg, g0) as thread 0 (with M id 0), and everything it starts,
  // until exitProcess, fatal, an invariant violation or a hang verdict.
  // May be called once per SimPlatform.
  RunResult run(ThreadEntry entry, void* arg);

  // Called at every scheduling point, on the running fiber. Returns false
  // and fills kind/message to end the run with Verdict::kInvariant.
  using Checker = std::function<bool(std::string& kind, std::string& message)>;
  void setChecker(Checker c);
  // The check run once more when the run ends (kOk) and before a hang
  // verdict (deadlock, stall, livelock, budget): a failure there is the
  // verdict (kInvariant) instead. The detectors' full check, when the
  // per-point checker is incremental.
  void setFinalChecker(Checker c);
  // Text dump of the runtime (every M, P, G) appended to verdict dumps.
  void setDumper(std::function<std::string()> d);
  // Names a futex address for dumps ("m3.park", "sched.stopnote"); "" if unknown.
  void setAddrNamer(std::function<std::string(const void*)> n);

  const std::vector<TraceEvent>& trace() const;
  // Moves the trace out (after run()); trace() is empty afterwards.
  std::vector<TraceEvent> takeTrace();
  // Before run(): record into `buf` (cleared; its capacity is kept), so a
  // caller that runs many executions reuses one allocation (a per-run
  // growth of the trace is a tenth of an execution under ASan).
  void setTraceBuffer(std::vector<TraceEvent>&& buf);
  // Scheduling points so far in the current run.
  uint64_t step() const;
  // Thread id -> M id (thread i was started for M mids()[i]).
  const std::vector<int>& mids() const;
  // Whether switches between threads are no-sync (SimOptions::tsan_no_sync
  // in a ThreadSanitizer build), and how many such switches this run made.
  bool tsanNoSync() const;
  uint64_t noSyncSwitches() const;
  // The program under test finished a unit of work (the harness calls it
  // after every op of a goroutine script): progress for the stall rule, like
  // a futex wake, and ends quiet mode. Programs are finite, so this can only
  // postpone a stall or livelock verdict, never hide one: once no op
  // completes, stall_ns or livelock_ns runs out.
  void noteProgress();

  // gort::Platform
  void newosproc(int mid, ThreadEntry entry, void* arg) override;
  void* tlsGet() override;
  void tlsSet(void* v) override;
  void futexsleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) override;
  void futexwakeup(std::atomic<uint32_t>* addr, uint32_t cnt) override;
  void osyield() override;
  int64_t nanotime() override;
  void onFiberSwitch(gort::Fiber* to) override;
  void syncPoint(gort::Site s) override;
  bool injectPreempt(gort::Site s) override;
  void event(gort::Ev e, int a, int b, int c) override;
  [[noreturn]] void fatal(const char* kind, const char* msg) override;
  [[noreturn]] void exitProcess(int code) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace schedfuzz
