// fuzz/dfs.h — systematic search: every schedule of one program with at most K preemptions, depth first.
//
// CHESS (Musuvathi and Qadeer, "Iterative Context Bounding for Systematic
// Testing of Multithreaded Programs", PLDI 2007) observed that most
// concurrency bugs need few preemptions, and that bounding the preemptions
// (not the run length) keeps the number of schedules polynomial in the run
// length: O(n^K) for K preemptions. Here every scheduling decision is already
// a Chooser call and every run is a pure function of those answers, so the
// search is a stateless DFS over the answers (like CHESS and Shuttle's DFS
// scheduler): each execution replays a prefix of answers from scratch, takes
// the cost-free default after it, and records where it could have answered
// otherwise; the next execution flips the deepest answer that still has an
// untried alternative within the bound.
//
// The decisions and their cost (the preemption bound counts these):
//  * chooseThread with `current` runnable: continuing it costs 0, switching to
//    any other runnable thread costs 1 (a preemptive context switch: the OS
//    took the CPU from a thread that could continue). At osyield too: Go's
//    osyield is a hint, and the thread stays runnable.
//  * chooseThread after `current` blocked or exited (current == -1): every
//    runnable thread is an alternative, all cost 0 (a non-preemptive switch;
//    CHESS branches over these for free too). The default is the next
//    runnable id after the thread that ran last, as DefaultPolicy picks.
//  * choosePreempt: not injecting costs 0, injecting costs 1 (a preemption
//    request, like sysmon's or a signal's).
//  * Points the executor forces in quiet mode (Chooser::onForced) are not
//    decisions: they have no alternatives and cost nothing. The executor's
//    rule depends only on the run so far, so a replayed prefix forces the
//    same points. Quiet mode is also what makes "continue the current thread"
//    a usable default: a thread spinning for another one is rotated out by
//    the executor after SimOptions::quiet_window points, at no cost.
//
// Reduction. None beyond the bound itself: every distinct sequence of answers
// with cost <= K is executed (so two answer sequences that give the same
// interleaving may both run). This is trivially sound — nothing is pruned —
// and it is the honest choice here: the executor does not report what each
// scheduling point reads or writes, so neither sleep sets nor DPOR can know
// which steps commute, and hashing the runtime's state would need a
// canonical form of every M, P, G and futex queue. Iterative deepening
// re-executes the schedules of cost < K at level K (a level's tree contains
// the previous one); each level reports how many of its schedules were new.
//
// Splitting (--jobs): the schedules of one level are split by the first
// decision that leaves the default path. The default path is the same in
// every process (runs are deterministic), so the subtrees "first non-default
// answer at decision i is alternative a" are enumerated in the same order by
// every process; process j of J explores subtree c iff c % J == j, and
// process 0 also runs the all-default schedule. The union is the whole tree
// and the parts are disjoint.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "fuzz/sim/chooser.h"

namespace schedfuzz {

// One decision of a schedule: which alternative was taken at the n-th
// decision of the run (decisions count chooseThread and choosePreempt calls
// together, in call order; forced points are not decisions).
struct DfsStep {
  uint64_t decision;  // index of the decision in the run
  uint32_t pick;      // alternative index (0 = the cost-free default)
};

// The search state of one level (one bound K) and the Chooser that replays
// it. Usage: for (;;) { dfs.begin(); runProgram(p, dfs, cfg); if
// (!dfs.advance()) break; }
class DfsChooser final : public Chooser {
 public:
  // Explore the schedules with cost <= bound; this process takes the
  // subtrees c with c % jobs == job (see the file comment).
  DfsChooser(uint32_t bound, uint32_t jobs = 1, uint32_t job = 0);
  // A chooser that replays one schedule (from schedule()) and then the
  // default: for the reproducer.
  static DfsChooser replaying(std::vector<DfsStep> schedule);

  // Before each execution.
  void begin();
  // After each execution: move to the next schedule of this process's part.
  // False when the part is exhausted.
  bool advance();

  int chooseThread(const ChoicePoint& cp) override;
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override;
  void onForced(const ChoicePoint& /*cp*/, int chosen) override { last_ = chosen; }

  // The schedule just executed: its non-default answers.
  std::vector<DfsStep> schedule() const;
  // Its cost (preemptions: preemptive switches plus injected preemption requests).
  uint32_t cost() const { return cost_; }
  // Decisions of the last execution, and how many of them were branch points.
  uint64_t decisions() const { return decisions_; }
  // A replayed prefix did not find the same decision (kind or alternatives)
  // where it was recorded: the run is not a function of the answers. A
  // schedfuzz defect; the search stops.
  const std::string& divergence() const { return divergence_; }
  // Whether this process's part should run the schedule prepared by begin()
  // at all (false only for job > 0 before its first own subtree: the
  // all-default schedule belongs to job 0, but every job runs it to learn the
  // default path; a run it does not own is not counted).
  bool owned() const { return owned_; }

 private:
  struct Frame {
    uint64_t decision;  // decision index in the run
    bool preempt;       // a choosePreempt frame (alternatives {no, yes}) or a chooseThread frame
    int current;        // chooseThread: the running thread, -1 if it blocked or exited
    uint32_t alt_begin, alt_count;  // chooseThread: alternatives in alts_ (alts_[alt_begin] is the default)
    uint32_t pick;      // the alternative taken
    uint32_t cost_before;  // cost of the answers before this frame
  };
  uint32_t altCost(const Frame& f, uint32_t pick) const;
  int defaultThread(const ChoicePoint& cp) const;
  bool replayCheck(const Frame& f, bool preempt, const ChoicePoint* cp);

  uint32_t bound_;
  uint32_t jobs_, job_;
  bool replay_only_ = false;
  std::vector<Frame> frames_;  // branch points of the current path, ascending decision
  std::vector<int> alts_;      // alternatives of the thread frames
  std::vector<int> scratch_;   // one decision's alternatives (reused: no allocation per decision)
  size_t prefix_ = 0;          // frames_[0..prefix_) are replayed by the current execution
  size_t next_frame_ = 0;      // next frame to replay
  uint64_t subtree_ = 0;       // subtrees (first non-default answers) enumerated so far
  bool owned_ = true;
  // Per execution.
  uint64_t decisions_ = 0;
  uint32_t cost_ = 0;
  int last_ = 0;
  std::string divergence_;
};

struct VerifyOptions {
  uint32_t max_bound = 2;          // K: iterative deepening from min_bound to this
  uint32_t min_bound = 0;
  uint64_t max_schedules = 0;      // per level and process, 0: no limit
  uint32_t jobs = 1, job = 0;      // this process's part (DfsChooser)
  // Called after every execution (schedules run so far at this level, the
  // level); return false to stop. May be empty.
  std::function<bool(uint64_t, uint32_t)> progress;
};

struct VerifyLevel {
  uint32_t bound = 0;
  uint64_t schedules = 0;      // executions this process owned at this level
  uint64_t new_schedules = 0;  // of them, with cost == bound (not run at a lower level)
  uint64_t max_decisions = 0;  // the longest run's decisions
  bool complete = false;       // the level's part was exhausted (not cut by max_schedules or progress)
};

struct VerifyResult {
  std::vector<VerifyLevel> levels;
  bool found = false;
  std::string kind;                 // the finding's kind (as findingKind)
  uint32_t found_bound = 0;         // the level it was found at
  uint32_t found_cost = 0;          // its preemptions (== found_bound when levels start at 0)
  std::vector<DfsStep> schedule;    // the failing schedule
  std::string divergence;           // non-empty: nondeterminism, the search stopped
  uint64_t total() const {
    uint64_t n = 0;
    for (const VerifyLevel& l : levels) n += l.schedules;
    return n;
  }
};

// How many schedules a level has, before running it: Knuth's estimator
// (D. E. Knuth, "Estimating the efficiency of backtrack programs", Math.
// Comp. 29, 1975). Each probe is one execution that answers every decision
// uniformly at random among the alternatives DfsChooser would enumerate there
// (same alternatives, same cost rule, same bound) and multiplies their
// numbers; the product's expectation is exactly the number of schedules
// (leaves) of the level's tree. The mean over the probes is unbiased; its
// spread is reported as a standard error, and it is heavy-tailed (a few
// probes down long, bushy paths carry much of the mean), so read it as an
// order of magnitude unless the error is small.
struct LevelEstimate {
  uint32_t bound = 0;
  uint64_t probes = 0;
  double schedules = 0;   // mean of the products
  double std_error = 0;   // of that mean
  double mean_decisions = 0;
};
LevelEstimate estimateLevel(const Program& p, const RunConfig& cfg, uint32_t bound, uint64_t probes, uint64_t seed);

// The finding kind of an outcome under cfg ("" if none); as
// schedfuzz::tools::findingKind.
std::string dfsFindingKind(const Outcome& o, const RunConfig& cfg);

// Iterative deepening over one program: levels min_bound..max_bound, each a
// full DFS (of this process's part), stopping at the first level with a
// finding (the first one in DFS order). cfg.record_trace is ignored (off).
VerifyResult verifyProgram(const Program& p, const RunConfig& cfg, const VerifyOptions& opts);

}  // namespace schedfuzz
