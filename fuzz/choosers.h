// fuzz/choosers.h — the scheduling strategies: bytes, random walk, PCT, and recording for replay.
//
// Every strategy is a schedfuzz::Chooser (fuzz/sim/chooser.h): it answers
// "which thread runs next?" at each scheduling point and "inject a preemption
// here?" at each PreemptPoint, as a pure function of its seed or input and
// the questions asked so far. So any run replays exactly from the strategy's
// parameters, and RecordingChooser turns any run into a ByteChooser input.
//
//  ByteChooser       the libFuzzer strategy: a list of Choice entries
//                    ("after k more points, switch to thread j"; "after k
//                    more PreemptPoints, preempt"), then a fixed fair default.
//  RandomWalkChooser seeded uniform random switches and preemptions.
//  PctChooser        probabilistic concurrency testing (Burckhardt et al.,
//                    ASPLOS 2010): random priorities, d-1 change points.
//  RecordingChooser  wraps any strategy, records its decisions, and encodes
//                    them as Choice entries that make ByteChooser replay the
//                    same run.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz/program.h"
#include "fuzz/sim/chooser.h"

namespace schedfuzz {

// The smallest id in `runnable` greater than `t`, wrapping to the smallest
// id; `runnable` is ascending and non-empty. nextRunnableAfter(r, t) == t
// only if t is the sole runnable thread.
int nextRunnableAfter(std::span<const int> runnable, int t);

// ByteChooser's default policy, the rule that finishes every run once the
// entries run out (and decides every point an entry does not):
//
//  * keep running the current thread while it is runnable;
//  * when it blocks or exits, run the next runnable id after it (wrapping);
//  * after kQuantum consecutive points on the same thread, rotate the same way
//    (this stands in for an OS time slice: a thread spinning on osyield or on
//    a flag must let the others run);
//  * never inject a preemption.
//
// Fairness: a thread that stays runnable is reached after at most n
// rotations (each one moves to the next runnable id in cyclic order, so it
// cannot jump over a runnable thread), and a rotation happens at least every
// kQuantum points. So a runtime without a bug always finishes under the
// default policy within (n * kQuantum) points per unit of progress, which is
// what stepBudget() assumes.
//
// The decision depends only on the ChoicePoint and on the previous choices
// (update() must be told every choice, whoever made it), so the converter in
// RecordingChooser can replay it offline.
//
// With a walk (Program::walk 1..15), each decision first draws from a
// splitmix64 stream keyed by (seed, decision index): with probability
// walk/32 it runs a pseudo-random runnable thread instead. Still a pure
// function of the decision index and the ChoicePoint.
//
// The walk also preempts: at PreemptPoint number k (0-based, counting every
// PreemptPoint of the run) it injects a preemption request with probability
// walk/32 at a function prologue (a SiteKind::kPreempt site: runtime functions
// and user calls) and walk/256 at a step of user code (SiteKind::kUser: a
// spin(15) alone has 16, and preempting each with walk/32 tripled the cost of
// an execution for no new schedules), drawn from a second stream keyed by
// (seed, k). Without it every
// preemption of a walk input would have to come from a preempt entry whose
// delay lands on the one PreemptPoint that matters, and the races that need
// a goroutine descheduled inside the runtime (golang/go#38931: between
// haveTemplateThread 0->1 and newm) would be found only by that blind hit.
// With it, every mutation of the program or the walk nibble samples a fresh
// set of preemptions, as schedfuzz-explore's random walk does. Preemptions
// never stop a fair schedule: a preempted goroutine goes to the global run
// queue and runs again, so the step-budget argument above still holds.
// walk 0 (reproducers, RecordingChooser) never preempts, as before.
class DefaultPolicy {
 public:
  static constexpr uint32_t kQuantum = 64;
  DefaultPolicy() = default;
  DefaultPolicy(int walk, uint64_t seed) : walk_(walk), seed_(seed) {}
  int choose(const ChoicePoint& cp) const;
  void update(int chosen);
  // The walk's preemption at PreemptPoint number `k`, at `site`: false when walk == 0.
  bool preempt(uint64_t k, gort::Site site) const;

 private:
  int last_ = 0;      // the thread chosen last (thread 0 runs first, unchosen)
  uint32_t run_ = 0;  // consecutive choices of last_
  int walk_ = 0;
  uint64_t seed_ = 0;
  uint64_t decisions_ = 0;
};

// The libFuzzer strategy. Entries of each kind are consumed in order, with
// one cursor per kind; a Choice's `delay` counts calls of that kind
// (chooseThread for kSwitch, choosePreempt for kPreempt) since the previous
// entry of the kind was consumed (or the start of the run):
//
//  * delay 0..254: skip `delay` calls, then act at the next one:
//      kSwitch  run `target` if it is runnable, else nextRunnableAfter(target)
//               (an out-of-range target thus wraps to the smallest runnable id);
//      kPreempt return true once;
//  * delay 255: a continuation: skip 255 calls and act at none, then go on
//    with the next entry. A gap of g calls before an action is g / 255
//    continuations and one entry with delay g % 255, so any gap is expressible
//    and a preemption can be scheduled arbitrarily far into the run.
//
// Calls that no entry acts on go to DefaultPolicy: choose() for kSwitch,
// preempt() for kPreempt (always false with walk 0); after the last entry of
// a kind, all of them do.
class ByteChooser final : public Chooser {
 public:
  explicit ByteChooser(std::span<const Choice> choices, int walk = 0, uint64_t walk_seed = 0);
  // The chooser a Program's bytes describe: its choices and its walk.
  static ByteChooser forProgram(const Program& p) { return ByteChooser(p.choices, p.walk, walkSeed(p)); }
  int chooseThread(const ChoicePoint& cp) override;
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override;
  void onForced(const ChoicePoint&, int chosen) override { policy_.update(chosen); }

  static constexpr uint8_t kContinuation = 255;

 private:
  struct Action {
    uint64_t at;  // 0-based index of the call of its kind at which it acts
    int target;   // kSwitch only
  };
  std::vector<Action> switches_, preempts_;  // ascending `at`
  size_t next_switch_ = 0, next_preempt_ = 0;
  uint64_t switch_calls_ = 0, preempt_calls_ = 0;
  DefaultPolicy policy_;
};

// A small seeded generator (splitmix64). No std::random_device anywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n); n > 0
  double unit();               // uniform in [0, 1)

 private:
  uint64_t s_;
};

// At every scheduling point, with probability switch_prob (or always, if the
// running thread blocked or exited) run a uniformly random runnable thread,
// which may be the running one; otherwise keep the running thread. At every
// PreemptPoint, inject with probability preempt_prob.
class RandomWalkChooser final : public Chooser {
 public:
  RandomWalkChooser(uint64_t seed, double switch_prob, double preempt_prob);
  int chooseThread(const ChoicePoint& cp) override;
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override;

 private:
  Rng rng_;
  double switch_prob_, preempt_prob_;
};

// PCT: Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler
// with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. For a program
// of n threads and k steps, one run finds a given bug of depth d with
// probability at least 1 / (n * k^(d-1)).
//
//  * Priorities: each thread gets a distinct random priority above every
//    change-point priority. Threads are created during the run here, so a new
//    thread is inserted at a uniformly random rank among the not-yet-lowered
//    threads (for threads present together this gives the paper's uniformly
//    random permutation).
//  * d-1 change points k_1..k_{d-1}: scheduling-point numbers
//    (ChoicePoint::step) drawn uniformly in [1, expected_steps], distinct when
//    the range allows it. Change point k_i carries priority i (1 <= i <= d-1,
//    below every initial priority). When the run reaches step k_i, the thread
//    that was running drops to priority i.
//  * At every point, the highest-priority runnable thread runs. With d = 1
//    the schedule is a fixed random priority order: a thread runs until it
//    blocks or exits, or a higher-priority thread becomes runnable.
//  * Preemptions (a goroutine-level decision the paper has no counterpart
//    for): d-1 preemption change points, PreemptPoint numbers (1-based count
//    of choosePreempt calls) drawn uniformly in [1, expected_preempts]
//    (distinct when the range allows it), inject a preemption there; in
//    addition each kUser site (a step of user code: sysmon's async
//    preemption) injects with probability user_preempt_prob. Nothing else
//    injects.
class PctChooser final : public Chooser {
 public:
  struct PreemptOptions {
    uint64_t expected_preempts = 0;        // range of the preemption change points; 0 = expected_steps
    double user_preempt_prob = 1.0 / 128;  // per kUser PreemptPoint
  };
  PctChooser(uint64_t seed, int depth, uint64_t expected_steps);
  PctChooser(uint64_t seed, int depth, uint64_t expected_steps, PreemptOptions popts);
  int chooseThread(const ChoicePoint& cp) override;
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override;
  void onThreadCreated(int thread) override;
  void onForced(const ChoicePoint&, int chosen) override { last_ = chosen; }

  struct ChangePoint {
    uint64_t step;  // a scheduling-point number in [1, expected_steps]
    int priority;   // 1..depth-1
  };
  // Invariant: change_points().size() == depth - 1, ascending by step.
  const std::vector<ChangePoint>& change_points() const { return change_points_; }
  // Invariant: preempt_points().size() == depth - 1, ascending.
  const std::vector<uint64_t>& preempt_points() const { return preempt_points_; }

 private:
  bool isHigher(int a, int b) const;  // does thread a have priority over thread b?

  Rng rng_;
  int depth_;
  double user_preempt_prob_;
  std::vector<ChangePoint> change_points_;
  size_t next_change_ = 0;
  std::vector<uint64_t> preempt_points_;
  size_t next_preempt_ = 0;
  uint64_t preempt_calls_ = 0;
  // Not-yet-lowered threads, highest priority first: their priorities are all
  // above depth - 1, in this order.
  std::vector<int> ranked_;
  std::vector<int> lowered_;  // by thread id: the change-point priority, or 0 if not lowered
  int last_ = 0;              // the thread that ran last (it executed the current step)
};

// Wraps a strategy, forwards every call, and records every decision: the
// ChoicePoint and the answer of each chooseThread call, and the answer of
// each choosePreempt call. toChoices() encodes the record so that
// ByteChooser(toChoices()) replays the same run: the same program under the
// same executor options then asks the same questions in the same order and
// gets the same answers, so the trace is identical.
//
// Encoding: walk the recorded points while running DefaultPolicy over them;
// every point where the recorded thread differs from the default policy's
// becomes a kSwitch entry targeting the recorded thread, and every preempt
// call that returned true a kPreempt entry; the gap since the previous entry
// of the kind is written as continuations (delay 255) plus one delay < 255
// (see ByteChooser). Switch entries come first, then preempt entries (the
// kinds are consumed independently). Points where the default already agrees
// cost nothing, so a strategy that mostly lets threads run yields a short
// reproducer.
class RecordingChooser final : public Chooser {
 public:
  explicit RecordingChooser(Chooser& inner) : inner_(inner) {}
  int chooseThread(const ChoicePoint& cp) override;
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override;
  void onThreadCreated(int thread) override { inner_.onThreadCreated(thread); }
  // Recorded as a point the default policy is told of but no entry covers.
  void onForced(const ChoicePoint& cp, int chosen) override;

  // nullopt if a decision names a thread id above 255 (a Choice target is one byte).
  std::optional<std::vector<Choice>> toChoices() const;

  struct Point {
    uint64_t step;
    int current;
    uint32_t runnable_begin, runnable_end;  // range in runnable_ids()
    int chosen;
    bool forced = false;  // decided by the executor (onForced), not a chooseThread call
  };
  const std::vector<Point>& points() const { return points_; }
  const std::vector<int>& runnable_ids() const { return runnable_; }
  const std::vector<bool>& preempts() const { return preempts_; }  // by PreemptPoint index

 private:
  Chooser& inner_;
  std::vector<Point> points_;
  std::vector<int> runnable_;
  std::vector<bool> preempts_;
};

}  // namespace schedfuzz
