// fuzz/sim/executor.cpp — SimPlatform: Ms as fibers on one OS thread, a virtual clock, hang verdicts.
//
// The model. A run is a sequence of scheduling points. Between two points
// exactly one thread runs, on whatever fiber it is on (its g0, or a goroutine
// the runtime switched to and told us about with onFiberSwitch). At a point:
//
//   1. the checker (if any) looks at the runtime;              -> kInvariant
//   2. step += 1; step > step_budget ends the run;             -> kBudget
//   3. vtime += step_ns; timed waiters whose deadline passed wake, in the
//      order they went to sleep;
//   4. while nobody is runnable: if nobody has a deadline      -> kDeadlock
//      else jump vtime to the earliest deadline (further once a stall is
//      suspected, see below) and add the jump to `idle_ns`; wake the
//      waiters whose deadline has come; a proved stall         -> kStall
//   5. the Chooser picks a runnable thread (in quiet mode the executor's fair
//      rotation picks, tells the Chooser with onForced, and at the end of a
//      round lets time pass or proves a livelock: executor.h); if it is not
//      the running one, switch to the fiber that thread is on.
//
// Progress, for the stall rule, is a futexwakeup that woke somebody, a thread
// start or a thread exit, or the program reporting a completed op
// (noteProgress: a goroutine that sleeps in long system calls wakes nobody,
// yet it is not hung): each resets idle_ns to 0. A thread that keeps waking
// from timed waits while everybody else sleeps untimed (Go's stopTheWorld
// polling every 100 us for a P that was leaked, #38931) is suspected after
// stall_ns (20 ms) of idle time without progress. From then on each idle
// jump at least doubles idle_ns (waking late is legal: the OS may
// deschedule a thread), and the stall is proved once idle_ns exceeds
// livelock_ns (61 s, longer than any finite wait of gort: sysmon's 60 s
// sleep) and livelock_rounds more jumps, each past every deadline, woke
// every timed waiter without progress. A program whose threads sleep with
// timeouts but still wake each other is not a stall; neither is a timer
// that only sysmon's 60 s sleep will notice (sysmon's wake-up is progress).
//
// Determinism. No wall clock, no randomness here, no iteration over
// pointer-keyed containers: threads live in a vector indexed by id, the
// runnable set is a sorted vector of ids, and futex waiters are one FIFO vector
// scanned linearly (a run has a handful of threads). Everything a run does is
// a function of the program and the Chooser's answers.
//
// Cost. The hot path (a syncPoint that keeps the same thread) is an indirect
// call to the chooser, a few compares, and a trace append when recording; it
// allocates nothing once the vectors have grown. A thread switch adds one
// fiber switch.
//
// Ending a run. Every verdict (and exitProcess) fills the RunResult on the
// fiber that reached it, lets every local with heap storage die, and then
// SwitchFinals to the driver; run() destroys the thread fibers it created
// (suspended ones are simply abandoned — their frames never resume).
//
// ThreadSanitizer no-sync mode (SimOptions::tsan_no_sync, the default under
// TSan). The goal: TSan checks gort's own synchronisation as if the Ms ran
// in parallel. So
//  * every switch the executor makes from one thread to another
//    (switchThreads, threadExit, conclude, and run()'s first switch) passes
//    __tsan_switch_to_fiber_no_sync (gort::setFiberSwitchNoSync(true) right
//    before the switch; cleared again wherever a fiber arrives in executor
//    code: after the switch, at the top of threadMain, back in run()). The
//    runtime's own switches between an M's g0 and its goroutines
//    (gogo/mcall, runtime/proc.cpp) happen while the flag is clear, so they
//    stay happens-before edges: they are one thread's program order.
//  * the executor's own code on a thread's fibers is invisible to TSan
//    (Quiet: gort::tsanInvisibleBegin), covering its bookkeeping, the
//    Chooser, the checker (the detectors read runtime state without locks on
//    purpose), the dumper and the trace. Invisible means: its accesses are
//    not recorded (so they race with nothing, and no runtime access can race
//    with them), and its synchronisation orders nothing (a detector's
//    seq_cst load of a P's status must not become an acquire that orders
//    one M after another). A race between two accesses made by gort itself
//    is never hidden. The region is ended before every switch, so no
//    suspended fiber is inside one (TSan dies when a fiber is destroyed with
//    ignores enabled).
//  * the executor adds exactly two kinds of edge, both those of real
//    threads: newosproc -> the new thread's first step (pthread_create;
//    spawn creates the fiber outside the quiet region, so
//    __tsan_create_fiber orders it), and every thread's last step -> the
//    code after run() (pthread_join; each thread releases `join_sync` when
//    it leaves, run() acquires it), so the harness may read and free what
//    the Ms wrote. Thread fibers are not recycled within a run in this mode
//    (Fiber::Reset would order a new thread after an unrelated exited one).
#include "fuzz/sim/executor.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "runtime/fiber.h"
#include "runtime/sanitizers.h"

#if GORT_TSAN_ENABLED
#include <sanitizer/tsan_interface.h>
#endif

namespace schedfuzz {

using gort::Ev;
using gort::Fiber;
using gort::Site;

bool defaultTsanNoSync() {
#if GORT_TSAN_ENABLED
  static const bool on = [] {
    const char* e = std::getenv("SCHEDFUZZ_TSAN_SYNC");
    return e == nullptr || *e == '\0' || std::string_view(e) == "0";
  }();
  return on;
#else
  return false;
#endif
}

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kDeadlock: return "deadlock";
    case Verdict::kStall: return "stall";
    case Verdict::kBudget: return "budget";
    case Verdict::kThrow: return "throw";
    case Verdict::kInvariant: return "invariant";
    case Verdict::kLivelock: return "livelock";
  }
  return "?";
}

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Thread states. Transitions: kRunnable -> kBlocked (futexsleep with *addr ==
// val), kBlocked -> kRunnable (futexwakeup or deadline), kRunnable -> kExited
// (entry returned). A kExited thread never runs again.
enum class TState : uint8_t {
  kRunnable,  // may be chosen; the running thread is kRunnable while it runs
  kBlocked,   // in waitq, sleeping on `waddr` (until `deadline` if >= 0)
  kExited,    // its entry returned; its g0 fiber went back to the free list
};

const char* stateName(TState s) {
  switch (s) {
    case TState::kRunnable: return "runnable";
    case TState::kBlocked: return "blocked";
    case TState::kExited: return "exited";
  }
  return "?";
}

// Names handed to Fiber::SetName (TSan reports); built once, never freed.
const char* fiberName(int mid) {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>;
    for (int i = 0; i < 256; i++) v->push_back("M" + std::to_string(i));
    return v;
  }();
  return mid >= 0 && mid < 256 ? (*names)[mid].c_str() : "M?";
}

std::string siteText(Site s) {
  if (s == Site::kCount) return "(none)";
  const gort::SiteInfo& si = gort::siteInfo(s);
  return std::string(si.name) + " (" + si.func + ")";
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "schedfuzz executor: %s\n", what);
  std::abort();
}

}  // namespace

struct SimPlatform::Impl {
  struct Thread {
    int mid = 0;
    TState state = TState::kRunnable;
    const std::atomic<uint32_t>* waddr = nullptr;  // kBlocked: the futex word
    int64_t deadline = -1;                          // kBlocked: wake at this vtime; -1 = untimed
    void* tls = nullptr;
    Fiber* g0 = nullptr;      // the fiber the executor created for the thread
    Fiber* active = nullptr;  // the fiber the thread is on now (g0 or a goroutine)
    Site last_site = Site::kCount;
    ThreadEntry entry = nullptr;
    void* arg = nullptr;
  };

  Impl(Chooser& c, SimOptions o, void** tls_slot)
      : chooser(c), opts(o), current_tls(tls_slot), quiet(GORT_TSAN_ENABLED && o.tsan_no_sync) {
    threads.reserve(64);
    mids.reserve(64);
    runnable.reserve(64);
    waitq.reserve(64);
    // (The trace's first 4096 entries are reserved by run(), after
    // setTraceBuffer may have handed over a vector that has them.)
  }

  Chooser& chooser;
  SimOptions opts;
  void** current_tls;  // gort::Platform::current_tls_: the running thread's TLS value (tlsCurrent)
  std::vector<Thread> threads;  // by thread id
  std::vector<int> mids;        // thread id -> M id
  std::vector<int> runnable;    // ids of kRunnable threads, ascending (includes the running one)
  std::vector<int> waitq;       // ids of kBlocked threads, in the order they went to sleep
  std::vector<TraceEvent> trace;
  std::vector<Fiber*> all_fibers;   // every fiber created by this executor (destroyed by run())
  std::vector<Fiber*> free_fibers;  // g0s of exited threads: not running, ready for Reset
  Fiber* driver = nullptr;
  int cur = -1;                     // the running thread (setCur keeps current_tls in step)
  uint64_t step = 0;
  int64_t vtime = 0;
  int64_t next_deadline = kNever;   // earliest deadline in waitq; kNever if no timed waiter
  int64_t idle_ns = 0;              // virtual time jumped over since the last progress
  uint32_t stall_rounds_over = 0;   // idle jumps with idle_ns > livelock_ns since the last progress
  // Quiet mode (executor.h): points and virtual time since the last program
  // progress, the fair rotation's state, and the rounds completed since the
  // quiet time passed livelock_ns.
  uint64_t quiet_points = 0;
  int64_t quiet_start = 0;          // vtime of the last program progress
  uint32_t slice_used = 0;          // consecutive forced points of the running thread
  int slice_thread = -1;
  uint32_t rounds_over = 0;         // fair rounds completed with quiet time > livelock_ns
  uint64_t quiet_rounds = 0;        // fair rounds in this quiet stretch
  uint64_t last_progress_step = 0;
  bool round_ended = false;         // fairChoice's rotation wrapped: endRound() is due
  bool idle_seen = false;           // nothing was runnable at some point of this fair round
  bool started = false;
  RunResult result;
  // ThreadSanitizer no-sync mode (see the file comment).
  const bool quiet;             // opts.tsan_no_sync in a TSan build
  uint64_t nosync_switches = 0;
  char join_sync = 0;           // TSan sync object: threads release it when they leave, run() acquires it

  Checker checker;
  Checker final_checker;  // conclude(): the full check before a hang verdict or kOk
  std::function<std::string()> dumper;
  std::function<std::string(const void*)> namer;
  std::string ck_kind, ck_msg;  // the checker's out-parameters, reused every step

  // --- ThreadSanitizer no-sync mode ---------------------------------------------
  // Executor code on a thread's fiber: invisible to TSan (no-op unless quiet).
  struct Quiet {
    explicit Quiet(const Impl& im) : on(im.quiet) {
      if (on) gort::tsanInvisibleBegin();
    }
    ~Quiet() {
      if (on) gort::tsanInvisibleEnd();
    }
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;
    const bool on;
  };

  // Called inside the quiet region, right before the running thread's fiber
  // leaves for another thread's: end the region, release join_sync (the
  // fiber's accesses so far are ordered before the end of the run) and make
  // the coming Fiber::Switch / SwitchFinal a no-sync one. Nothing but the
  // switch may follow.
  void leaving() {
    if (!quiet) return;
    nosync_switches++;
    gort::tsanInvisibleEnd();
#if GORT_TSAN_ENABLED
    __tsan_release(&join_sync);
#endif
    gort::setFiberSwitchNoSync(true);
  }
  // First thing when a fiber the executor switched away from runs again
  // (after its Switch returned): the runtime's own switches are synchronising
  // again, and the executor's code is invisible again.
  void arrived() {
    if (!quiet) return;
    gort::setFiberSwitchNoSync(false);
    gort::tsanInvisibleBegin();
  }

  // The running thread (on fiber `from`) hands the OS thread to the thread on
  // fiber `to`. Returns when some thread switches back to `from`.
  void switchThreads(Fiber* from, Fiber* to) {
    leaving();
    Fiber::Switch(from, to);
    arrived();
  }

  // --- trace ---------------------------------------------------------------
  void record(TraceEvent::Kind k, int tid, int a = 0, int b = 0, int c = 0, Ev ev = Ev::kCount) {
    if (!opts.record_trace) return;
    trace.push_back(TraceEvent{step, vtime, tid, k, threads[tid].last_site, ev, a, b, c});
  }

  // --- runnable set and wait queue --------------------------------------------
  void makeRunnable(int tid) {
    threads[tid].state = TState::kRunnable;
    runnable.insert(std::upper_bound(runnable.begin(), runnable.end(), tid), tid);
  }
  void removeRunnable(int tid) {
    auto it = std::lower_bound(runnable.begin(), runnable.end(), tid);
    if (it == runnable.end() || *it != tid) die("removeRunnable: thread not runnable");
    runnable.erase(it);
  }

  // Wake (in sleeping order) the waiters for which pred(thread) holds, at most
  // max of them; `by` is the waker's id (-1: a timeout). Returns how many woke.
  template <typename Pred>
  uint32_t wakeWhere(Pred pred, uint32_t max, int by) {
    uint32_t n = 0;
    size_t w = 0;
    int64_t nd = kNever;
    for (size_t i = 0; i < waitq.size(); i++) {
      int tid = waitq[i];
      Thread& t = threads[tid];
      if (n < max && pred(t)) {
        t.waddr = nullptr;
        t.deadline = -1;
        makeRunnable(tid);
        record(TraceEvent::Kind::kWake, tid, by);
        n++;
        continue;
      }
      if (t.deadline >= 0) nd = std::min(nd, t.deadline);
      waitq[w++] = tid;
    }
    waitq.resize(w);
    next_deadline = nd;
    return n;
  }
  void wakeTimedOut() {
    int64_t now = vtime;
    wakeWhere([now](const Thread& t) { return t.deadline >= 0 && t.deadline <= now; },
              std::numeric_limits<uint32_t>::max(), -1);
  }

  GORT_NO_SANITIZE_THREAD void setCur(int tid) {
    cur = tid;
    *current_tls = tid >= 0 ? threads[tid].tls : nullptr;
  }

  // --- progress and quiet mode ------------------------------------------------
  // Program progress: an op completed, a thread started or exited. Ends
  // quiet mode (and is progress for the stall rule too).
  void progress() {
    resetIdle();
    const int64_t q = vtime - quiet_start;
    if (q > result.max_quiet_ns) {
      result.max_quiet_ns = q;
      result.max_quiet_end_step = step;
    }
    quiet_points = 0;
    quiet_start = vtime;
    slice_used = 0;
    slice_thread = -1;
    idle_seen = false;
    rounds_over = 0;
    quiet_rounds = 0;
    last_progress_step = step;
  }

  void resetIdle() {
    idle_ns = 0;
    stall_rounds_over = 0;
  }

  int64_t latestDeadline() const {
    int64_t d = -1;
    for (int tid : waitq) d = std::max(d, threads[tid].deadline);
    return d;
  }

  // The executor's own choice in quiet mode: round robin, quiet_slice points
  // each. At the end of a round (the rotation wraps, or a lone thread's slice
  // ends), let time pass and check for a livelock.
  int fairChoice(const ChoicePoint& cp) {
    round_ended = false;
    if (cp.current >= 0 && cp.current == slice_thread && slice_used < opts.quiet_slice) {
      slice_used++;
      return cp.current;
    }
    const int from = cp.current >= 0 ? cp.current : (slice_thread >= 0 ? slice_thread : cur);
    const int next = nextRunnableAfter(cp.runnable, from);
    round_ended = next <= from;
    slice_thread = next;
    slice_used = 1;
    return next;
  }

  static int nextRunnableAfter(std::span<const int> runnable, int t) {
    auto it = std::upper_bound(runnable.begin(), runnable.end(), t);
    return it == runnable.end() ? runnable.front() : *it;
  }

  void endRound() {
    quiet_rounds++;
    // A round in which nobody was runnable for a while is not a spin: time
    // passed through idle jumps, and the stall rule judges it (a thread that
    // sleeps and wakes on timeouts is not livelocked, it is stalled or slow).
    if (idle_seen) {
      idle_seen = false;
      return;
    }
    const int64_t q = std::max(vtime - quiet_start, opts.step_ns);
    const bool over = q > opts.livelock_ns;
    if (over && ++rounds_over > opts.livelock_rounds) concludeLivelock();
    // Let time pass. Below livelock_ns the quiet time at least doubles (and
    // reaches the earliest deadline); above it, each round lasts
    // livelock_ns / livelock_rounds and goes past the latest deadline, so
    // every timed waiter wakes once per round and the rounds together span
    // livelock_ns again (time-based rules such as sysmon's 10 ms preemption
    // get their chance in every round).
    int64_t target;
    if (over) {
      target = std::max(vtime + std::max<int64_t>(opts.step_ns, opts.livelock_ns / std::max<uint32_t>(1, opts.livelock_rounds)),
                        latestDeadline());
    } else {
      target = vtime + q;
      if (next_deadline != kNever) target = std::max(target, next_deadline);
    }
    if (target > vtime) {
      vtime = target;
      if (vtime >= next_deadline) wakeTimedOut();
    }
  }

  // --- threads -------------------------------------------------------------
  // A thread's first code: arrived from another thread's switch (or run()'s).
  static void threadMain(void* p) {
    Impl* im = static_cast<Impl*>(p);
    ThreadEntry entry;
    void* arg;
    Fiber* g0;
    {
      if (im->quiet) gort::setFiberSwitchNoSync(false);
      Quiet q(*im);
      int tid = im->cur;
      entry = im->threads[tid].entry;
      arg = im->threads[tid].arg;
      g0 = im->threads[tid].g0;
    }
    entry(arg, g0);
    if (im->quiet) gort::tsanInvisibleBegin();  // ended by threadExit's leaving()
    im->threadExit();
  }

  // Called on the driver (run) or inside the quiet region of a thread's
  // newosproc (in_quiet).
  int spawn(int mid, ThreadEntry entry, void* arg, bool in_quiet) {
    Fiber* f;
    // The fiber is created (or re-armed) and named outside the quiet
    // region: creating a TSan fiber orders the creator's past before the
    // new fiber's first step, which is pthread_create's edge for newosproc.
    const char* name = fiberName(mid);
    Fiber* reuse = nullptr;
    if (!free_fibers.empty()) {
      reuse = free_fibers.back();
      free_fibers.pop_back();
    }
    if (in_quiet) gort::tsanInvisibleEnd();
    if (reuse != nullptr) {
      f = reuse;
      f->Reset(&threadMain, this);
    } else {
      f = Fiber::Create(&threadMain, this);
    }
    f->SetName(name);
    if (in_quiet) gort::tsanInvisibleBegin();
    if (reuse == nullptr) all_fibers.push_back(f);
    int tid = int(threads.size());
    Thread t;
    t.mid = mid;
    t.g0 = f;
    t.active = f;
    t.entry = entry;
    t.arg = arg;
    threads.push_back(t);
    mids.push_back(mid);
    makeRunnable(tid);
    progress();
    record(TraceEvent::Kind::kStart, tid, mid);
    chooser.onThreadCreated(tid);
    return tid;
  }

  [[noreturn]] void threadExit() {
    int tid = cur;
    {
      Thread& t = threads[tid];
      if (t.active != t.g0) die("a thread's entry returned on a fiber other than its g0 (missed onFiberSwitch?)");
      t.state = TState::kExited;
      t.tls = nullptr;
    }
    removeRunnable(tid);
    progress();
    record(TraceEvent::Kind::kExit, tid);
    int next = pick();
    Fiber* me = threads[tid].g0;
    threads[tid].g0 = threads[tid].active = nullptr;
    // Not running on `me` any more once SwitchFinal is done, and nothing runs
    // in between. (Not recycled in no-sync mode: see the file comment.)
    if (!quiet) free_fibers.push_back(me);
    setCur(next);
    Fiber* to = threads[next].active;
    leaving();
    Fiber::SwitchFinal(me, to);
  }

  // --- the scheduling point ------------------------------------------------
  // The running thread's state is up to date (kRunnable, or it just blocked or
  // exited). Returns the thread to run next; records the switch if it changes.
  int pick() {
    if (checker && !opts.check_at_switches_only) runChecker();
    if (++step > opts.step_budget) concludeBudget();
    vtime += opts.step_ns;
    quiet_points++;
    if (vtime >= next_deadline) wakeTimedOut();
    while (runnable.empty()) {
      if (next_deadline == kNever) concludeDeadlock();
      idle_seen = true;
      int64_t target = next_deadline;
      if (idle_ns > opts.stall_ns) {  // a stall is suspected: let time pass, prove it
        const bool over = idle_ns > opts.livelock_ns;
        if (over && ++stall_rounds_over > opts.livelock_rounds) concludeStall();
        if (over) {
          target = std::max(vtime + std::max<int64_t>(opts.step_ns, opts.livelock_ns / std::max<uint32_t>(1, opts.livelock_rounds)),
                            latestDeadline());
        } else {
          target = std::max(target, vtime + idle_ns);
        }
      }
      idle_ns += target - vtime;
      vtime = target;
      wakeTimedOut();
    }
    const Thread& t = threads[cur];
    ChoicePoint cp{step, t.state == TState::kRunnable ? cur : -1,
                   std::span<const int>(runnable.data(), runnable.size()), t.last_site};
    int next;
    if (quiet_points > opts.quiet_window) {
      next = fairChoice(cp);
      chooser.onForced(cp, next);
      if (round_ended) endRound();  // may wake threads: cp.runnable is stale after it
    } else {
      next = chooser.chooseThread(cp);
    }
    if (next < 0 || next >= int(threads.size()) || threads[next].state != TState::kRunnable)
      die("the chooser picked a thread that is not runnable");
    if (next != cur) record(TraceEvent::Kind::kSwitch, next, cur);
    if (checker && opts.check_at_switches_only && (next != cur || cp.current < 0)) runChecker();
    return next;
  }

  // A scheduling point on the running thread, which may have blocked.
  void reschedule() {
    int prev = cur;
    int next = pick();
    if (next == prev) return;  // kept running, or woke from its own timeout
    setCur(next);
    switchThreads(threads[prev].active, threads[next].active);
    // Resumed: whoever switched here set cur back to prev.
  }

  void runChecker() {
    ck_kind.clear();
    ck_msg.clear();
    if (!checker(ck_kind, ck_msg)) conclude(Verdict::kInvariant, "invariant: ", ck_kind, ck_msg);
  }

  // --- ending the run ------------------------------------------------------
  [[noreturn]] void concludeDeadlock() {
    int blocked = 0, exited = 0;
    for (const Thread& t : threads) {
      blocked += t.state == TState::kBlocked;
      exited += t.state == TState::kExited;
    }
    char msg[200];
    if (blocked == 0)
      std::snprintf(msg, sizeof msg, "deadlock: all %d threads exited without exitProcess", exited);
    else
      std::snprintf(msg, sizeof msg,
                    "deadlock: no thread runnable and none in a timed wait (%d blocked, %d exited)",
                    blocked, exited);
    conclude(Verdict::kDeadlock, "hang: deadlock", {}, msg);
  }

  [[noreturn]] void concludeBudget() {
    char msg[320];
    std::snprintf(msg, sizeof msg,
                  "step budget exhausted: more than %" PRIu64
                  " scheduling points; the last program progress was at step %" PRIu64
                  " (a budget, not a proof of a livelock)",
                  opts.step_budget, last_progress_step);
    conclude(Verdict::kBudget, "hang: step budget", {}, msg);
  }

  // (No std::string here: conclude() abandons this fiber's frame for good,
  // so anything it owns on the heap would leak. The message is built in a
  // fixed buffer, as concludeStall's.)
  [[noreturn]] void concludeLivelock() {
    char msg[480];
    const int64_t q = vtime - quiet_start;
    int n = std::snprintf(msg, sizeof msg,
                          "livelock: no op completed and no thread started or exited for %" PRId64
                          " ms of virtual time (since step %" PRIu64 "); %" PRIu64
                          " fair rounds, the last %u with every timed waiter woken; running:",
                          q / 1000000, last_progress_step, quiet_rounds, opts.livelock_rounds);
    for (int tid : runnable) {
      if (n >= int(sizeof msg)) break;
      n += std::snprintf(msg + n, sizeof msg - n, " T%d (M%d at %s)", tid, threads[tid].mid,
                         threads[tid].last_site == Site::kCount ? "(none)" : gort::siteInfo(threads[tid].last_site).name);
    }
    conclude(Verdict::kLivelock, "hang: livelock", {}, msg);
  }

  [[noreturn]] void concludeStall() {
    char msg[320];
    int n = std::snprintf(msg, sizeof msg,
                          "stall: %" PRId64 " ms of virtual time without progress, only timed wakeups (suspected after %" PRId64
                          " ms; then %u rounds past %" PRId64 " ms in which every timed waiter woke); timed waiters:",
                          idle_ns / 1000000, opts.stall_ns / 1000000, opts.livelock_rounds, opts.livelock_ns / 1000000);
    for (size_t tid = 0; tid < threads.size(); tid++) {
      if (threads[tid].state != TState::kBlocked || threads[tid].deadline < 0 || n >= int(sizeof msg)) continue;
      n += std::snprintf(msg + n, sizeof msg - n, " T%zu", tid);
    }
    conclude(Verdict::kStall, "hang: stall", {}, msg);
  }

  // Fills the result (all heap-owning temporaries die inside fill()), then
  // leaves the running fiber for good.
  [[noreturn]] void conclude(Verdict v, std::string_view kind, std::string_view kind_suffix,
                             std::string_view msg) {
    // The full check of the final state before a hang verdict or the end of
    // the run (an invariant or a throw is a verdict about the state already).
    // A violation found here is the verdict instead.
    bool violated = false;
    if (final_checker && v != Verdict::kInvariant && v != Verdict::kThrow) {
      ck_kind.clear();
      ck_msg.clear();
      violated = !final_checker(ck_kind, ck_msg);
    }
    if (violated) {
      fill(Verdict::kInvariant, "invariant: ", ck_kind, ck_msg);
    } else {
      fill(v, kind, kind_suffix, msg);
    }
    Fiber* from = threads[cur].active;
    Fiber* to = driver;
    leaving();
    Fiber::SwitchFinal(from, to);
  }

  [[gnu::noinline]] void fill(Verdict v, std::string_view kind, std::string_view kind_suffix,
                              std::string_view msg) {
    result.verdict = v;
    result.kind.assign(kind).append(kind_suffix);
    result.message.assign(msg);
    for (char& ch : result.message)
      if (ch == '\n' || ch == '\r') ch = ' ';
    while (!result.message.empty() && result.message.back() == ' ') result.message.pop_back();
    result.steps = step;
    result.vtime = vtime;
    result.dump = v == Verdict::kOk ? std::string() : dumpThreads();
    if (v != Verdict::kOk && dumper) result.dump += dumper();
  }

  std::string dumpThreads() {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "threads: %zu (running T%d) step %" PRIu64 " vtime %" PRId64 " ns\n",
                  threads.size(), cur, step, vtime);
    out += line;
    for (size_t tid = 0; tid < threads.size(); tid++) {
      const Thread& t = threads[tid];
      std::snprintf(line, sizeof line, "  T%zu M%d %s", tid, t.mid,
                    int(tid) == cur && t.state == TState::kRunnable ? "running" : stateName(t.state));
      out += line;
      if (t.state == TState::kBlocked) {
        std::string name = namer ? namer(t.waddr) : std::string();
        std::snprintf(line, sizeof line, " on futex %s%s%p", name.c_str(), name.empty() ? "" : " ",
                      static_cast<const void*>(t.waddr));
        out += line;
        if (t.deadline >= 0) {
          std::snprintf(line, sizeof line, " until %" PRId64 " ns", t.deadline);
          out += line;
        } else {
          out += " (no deadline)";
        }
      }
      out += " at ";
      out += siteText(t.last_site);
      out += '\n';
    }
    return out;
  }
};

// ---------------------------------------------------------------------------

SimPlatform::SimPlatform(Chooser& chooser, SimOptions opts)
    : impl_(std::make_unique<Impl>(chooser, opts, &current_tls_)) {
  current_tls_valid_ = true;
}

SimPlatform::~SimPlatform() {
  // run() destroys its fibers; this covers a SimPlatform that was never run.
  for (Fiber* f : impl_->all_fibers) Fiber::Destroy(f);
}

RunResult SimPlatform::run(ThreadEntry entry, void* arg) {
  Impl& im = *impl_;
  if (im.started) die("SimPlatform::run called twice");
  im.started = true;
  if (im.opts.record_trace && im.trace.capacity() < 4096) im.trace.reserve(4096);
  im.driver = Fiber::ForThisThread();
  im.setCur(im.spawn(0, entry, arg, /*in_quiet=*/false));
  if (im.quiet) gort::setFiberSwitchNoSync(true);
  Fiber::Switch(im.driver, im.threads[im.cur].g0);
  // Only conclude() switches back here, for good. Every thread fiber is
  // suspended (abandoned) or finished; none is running.
  if (im.quiet) {
    gort::setFiberSwitchNoSync(false);
#if GORT_TSAN_ENABLED
    __tsan_acquire(&im.join_sync);  // pthread_join of every thread
#endif
  }
  for (Fiber* f : im.all_fibers) Fiber::Destroy(f);
  im.all_fibers.clear();
  im.free_fibers.clear();
  for (Impl::Thread& t : im.threads) t.g0 = t.active = nullptr;
  return im.result;
}

void SimPlatform::setChecker(Checker c) { impl_->checker = std::move(c); }
void SimPlatform::setFinalChecker(Checker c) { impl_->final_checker = std::move(c); }
void SimPlatform::setDumper(std::function<std::string()> d) { impl_->dumper = std::move(d); }
void SimPlatform::setAddrNamer(std::function<std::string(const void*)> n) { impl_->namer = std::move(n); }
const std::vector<TraceEvent>& SimPlatform::trace() const { return impl_->trace; }
std::vector<TraceEvent> SimPlatform::takeTrace() { return std::move(impl_->trace); }
void SimPlatform::setTraceBuffer(std::vector<TraceEvent>&& buf) {
  if (impl_->started) die("SimPlatform::setTraceBuffer after run");
  buf.clear();
  impl_->trace = std::move(buf);
}
uint64_t SimPlatform::step() const { return impl_->step; }
const std::vector<int>& SimPlatform::mids() const { return impl_->mids; }
bool SimPlatform::tsanNoSync() const { return impl_->quiet; }
uint64_t SimPlatform::noSyncSwitches() const { return impl_->nosync_switches; }

// Every Platform hook below runs on a thread's fiber, called by the runtime
// (or a test's thread body): executor code, so inside a Quiet region. The
// four smallest (no calls that could switch, allocate or synchronise) are
// instead built without TSan instrumentation.

void SimPlatform::newosproc(int mid, ThreadEntry entry, void* arg) {
  Impl::Quiet q(*impl_);
  impl_->spawn(mid, entry, arg, /*in_quiet=*/impl_->quiet);
  impl_->reschedule();
}

GORT_NO_SANITIZE_THREAD void* SimPlatform::tlsGet() {
  return impl_->cur >= 0 ? impl_->threads[impl_->cur].tls : nullptr;
}
GORT_NO_SANITIZE_THREAD void SimPlatform::tlsSet(void* v) {
  if (impl_->cur < 0) die("tlsSet outside a thread");
  impl_->threads[impl_->cur].tls = v;
  current_tls_ = v;
}

void SimPlatform::futexsleep(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) {
  Impl& im = *impl_;
  Impl::Quiet q(im);
  int tid = im.cur;
  if (addr->load(std::memory_order_relaxed) == val) {
    Impl::Thread& t = im.threads[tid];
    t.state = TState::kBlocked;
    t.waddr = addr;
    t.deadline = ns < 0 ? -1 : (ns > kNever - im.vtime ? kNever - 1 : im.vtime + ns);
    if (t.deadline >= 0) im.next_deadline = std::min(im.next_deadline, t.deadline);
    im.removeRunnable(tid);
    im.waitq.push_back(tid);
    im.record(TraceEvent::Kind::kBlock, tid, ns >= 0);
  }
  im.reschedule();
}

void SimPlatform::noteProgress() {
  Impl::Quiet q(*impl_);  // executor bookkeeping, called on an M: invisible to TSan
  impl_->progress();
}

void SimPlatform::futexwakeup(std::atomic<uint32_t>* addr, uint32_t cnt) {
  Impl& im = *impl_;
  Impl::Quiet q(im);
  if (cnt > 0 && !im.waitq.empty()) {
    const std::atomic<uint32_t>* a = addr;
    if (im.wakeWhere([a](const Impl::Thread& t) { return t.waddr == a; }, cnt, im.cur) > 0) {
      if (im.opts.wake_is_progress) im.progress();
      else im.resetIdle();  // progress for the stall rule only
    }
  }
  im.reschedule();
}

void SimPlatform::osyield() {
  Impl::Quiet q(*impl_);
  impl_->reschedule();
}

GORT_NO_SANITIZE_THREAD int64_t SimPlatform::nanotime() { return impl_->vtime; }

GORT_NO_SANITIZE_THREAD void SimPlatform::onFiberSwitch(gort::Fiber* to) {
  if (impl_->cur < 0) die("onFiberSwitch outside a thread");
  impl_->threads[impl_->cur].active = to;
}

void SimPlatform::syncPoint(Site s) {
  Impl::Quiet q(*impl_);
  impl_->threads[impl_->cur].last_site = s;
  impl_->reschedule();
}

bool SimPlatform::injectPreempt(Site s) {
  Impl& im = *impl_;
  Impl::Quiet q(im);
  im.threads[im.cur].last_site = s;
  bool p = im.chooser.choosePreempt(im.step, im.cur, s);
  if (p) im.record(TraceEvent::Kind::kPreempt, im.cur);
  return p;
}

void SimPlatform::event(Ev e, int a, int b, int c) {
  Impl::Quiet q(*impl_);
  impl_->record(TraceEvent::Kind::kRuntime, impl_->cur, a, b, c, e);
}

// conclude() never returns; its leaving() ends the quiet region begun here.
void SimPlatform::fatal(const char* kind, const char* msg) {
  if (impl_->quiet) gort::tsanInvisibleBegin();
  impl_->conclude(Verdict::kThrow, kind && *kind ? kind : "throw", {}, msg ? msg : "");
}

void SimPlatform::exitProcess(int code) {
  if (impl_->quiet) gort::tsanInvisibleBegin();
  impl_->result.exit_code = code;
  impl_->conclude(Verdict::kOk, "", {}, "");
}

}  // namespace schedfuzz
