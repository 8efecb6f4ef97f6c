// fuzz/dfs.cpp — systematic search: every schedule of one program with at most K preemptions, depth first.
#include "fuzz/dfs.h"

#include <algorithm>
#include <cmath>

#include "fuzz/choosers.h"

namespace schedfuzz {

DfsChooser::DfsChooser(uint32_t bound, uint32_t jobs, uint32_t job)
    : bound_(bound), jobs_(std::max<uint32_t>(jobs, 1)), job_(job) {
  owned_ = job_ == 0;
}

DfsChooser DfsChooser::replaying(std::vector<DfsStep> schedule) {
  DfsChooser d(UINT32_MAX);
  d.replay_only_ = true;
  for (const DfsStep& s : schedule) {
    // Kind and alternatives are not known offline: checked loosely (the pick
    // must exist) when the decision comes.
    d.frames_.push_back(Frame{s.decision, false, -2, 0, 0, s.pick, 0});
  }
  d.prefix_ = d.frames_.size();
  return d;
}

void DfsChooser::begin() {
  next_frame_ = 0;
  decisions_ = 0;
  cost_ = 0;
  last_ = 0;
}

uint32_t DfsChooser::altCost(const Frame& f, uint32_t pick) const {
  if (pick == 0) return 0;
  if (f.preempt) return 1;
  return f.current >= 0 ? 1 : 0;  // a switch away from a runnable thread is a preemption
}

int DfsChooser::defaultThread(const ChoicePoint& cp) const {
  if (cp.current >= 0) return cp.current;
  return nextRunnableAfter(cp.runnable, last_);
}

namespace {

// The alternatives of a thread decision: the default first, then the other
// runnable ids ascending.
// Whether a thread decision branches: it has alternatives (several runnable
// threads) and taking one is within the bound (free after a block or exit,
// one preemption otherwise). DfsChooser and ProbeChooser agree on the tree.
bool threadDecisionBranches(const ChoicePoint& cp, uint32_t cost, uint32_t bound) {
  return cp.runnable.size() > 1 && (cp.current < 0 || cost < bound);
}

void alternatives(const ChoicePoint& cp, int def, std::vector<int>& out) {
  out.clear();
  out.push_back(def);
  for (int t : cp.runnable)
    if (t != def) out.push_back(t);
}

}  // namespace

int DfsChooser::chooseThread(const ChoicePoint& cp) {
  const uint64_t d = decisions_++;
  const int def = defaultThread(cp);
  if (next_frame_ < prefix_ && frames_[next_frame_].decision == d) {
    Frame& f = frames_[next_frame_++];
    std::vector<int>& alts = scratch_;
    alternatives(cp, def, alts);
    int t = def;
    if (replay_only_) {
      if (f.pick < alts.size()) {
        t = alts[f.pick];
      } else if (divergence_.empty()) {
        divergence_ = "decision " + std::to_string(d) + ": alternative " + std::to_string(f.pick) +
                      " of a thread decision with " + std::to_string(alts.size());
      }
      if (f.pick != 0 && cp.current >= 0) cost_++;
    } else {
      const bool same = !f.preempt && f.current == cp.current && f.alt_count == alts.size() &&
                        std::equal(alts.begin(), alts.end(), alts_.begin() + f.alt_begin);
      if (!same && divergence_.empty()) {
        divergence_ = "decision " + std::to_string(d) + " (step " + std::to_string(cp.step) +
                      "): the replayed prefix found another decision than the one recorded there";
      }
      if (same) t = alts[f.pick];
      cost_ += same ? altCost(f, f.pick) : 0;
    }
    last_ = t;
    return t;
  }
  if (!replay_only_ && next_frame_ >= prefix_ && threadDecisionBranches(cp, cost_, bound_)) {
    std::vector<int>& alts = scratch_;
    alternatives(cp, def, alts);
    frames_.push_back(Frame{d, false, cp.current, static_cast<uint32_t>(alts_.size()),
                            static_cast<uint32_t>(alts.size()), 0, cost_});
    alts_.insert(alts_.end(), alts.begin(), alts.end());
  }
  last_ = def;
  return def;
}

bool DfsChooser::choosePreempt(uint64_t, int, gort::Site) {
  const uint64_t d = decisions_++;
  if (next_frame_ < prefix_ && frames_[next_frame_].decision == d) {
    Frame& f = frames_[next_frame_++];
    if (!replay_only_ && !f.preempt && divergence_.empty()) {
      divergence_ = "decision " + std::to_string(d) +
                    ": the replayed prefix found a preemption decision where a thread decision was recorded";
      return false;
    }
    if (f.pick > 1 && divergence_.empty()) {
      divergence_ = "decision " + std::to_string(d) + ": alternative " + std::to_string(f.pick) +
                    " of a preemption decision";
      return false;
    }
    cost_ += f.pick;
    return f.pick == 1;
  }
  if (!replay_only_ && next_frame_ >= prefix_ && cost_ < bound_) {
    frames_.push_back(Frame{d, true, -1, 0, 2, 0, cost_});
  }
  return false;
}

std::vector<DfsStep> DfsChooser::schedule() const {
  std::vector<DfsStep> out;
  for (const Frame& f : frames_)
    if (f.pick != 0) out.push_back(DfsStep{f.decision, f.pick});
  return out;
}

bool DfsChooser::advance() {
  if (replay_only_) return false;
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    // Is f on the default path (every earlier answer the default)? Then each
    // of its alternatives roots a subtree of its own, dealt out over the jobs.
    bool top = true;
    for (size_t i = 0; i + 1 < frames_.size(); i++) {
      if (frames_[i].pick != 0) {
        top = false;
        break;
      }
    }
    for (f.pick++; f.pick < f.alt_count; f.pick++) {
      if (f.cost_before + altCost(f, f.pick) > bound_) continue;
      if (top) {
        const uint64_t c = subtree_++;
        if (c % jobs_ != job_) continue;
      }
      break;
    }
    if (f.pick < f.alt_count) {
      if (!f.preempt) alts_.resize(f.alt_begin + f.alt_count);
      prefix_ = frames_.size();
      owned_ = true;
      return true;
    }
    if (!f.preempt) alts_.resize(f.alt_begin);
    frames_.pop_back();
  }
  return false;
}

namespace {

// One random root-to-leaf path of a level's tree (estimateLevel). Knuth's
// estimator in its importance-sampling form: any choice distribution with
// every child possible works, if the weight multiplies 1/P(chosen child).
// Uniform choices (the original) make a preemption late in the run
// exponentially unlikely, while most schedules of a level have theirs spread
// over the whole run, so the plain estimate is far too low. Here a
// preemption (a switch away from a runnable thread, or a request) is taken
// with probability r = (preemptions left) / (decisions left, as estimated
// from the expected run length), so the preemptions of a probe fall about
// uniformly over the run; free switches stay uniform.
class ProbeChooser final : public Chooser {
 public:
  ProbeChooser(uint32_t bound, uint64_t seed, double expected_decisions)
      : bound_(bound), rng_(seed), expected_(expected_decisions) {}
  int chooseThread(const ChoicePoint& cp) override {
    int t = cp.current >= 0 ? cp.current : nextRunnableAfter(cp.runnable, last_);
    // DfsChooser's branch rule: every runnable thread is an alternative, if
    // the running thread blocked or a preemption is left.
    const size_t n = cp.runnable.size();
    if (threadDecisionBranches(cp, cost_, bound_)) {
      size_t pick;
      if (cp.current < 0) {
        pick = rng_.below(n);
        weight_ *= double(n);
      } else {
        const double r = rate();
        if (rng_.unit() >= r) {
          pick = 0;
          weight_ /= 1 - r;
        } else {
          pick = 1 + rng_.below(n - 1);
          weight_ *= double(n - 1) / r;
        }
      }
      if (pick > 0) {
        size_t seen = 0;
        for (int x : cp.runnable) {
          if (x == t) continue;
          if (++seen == pick) {
            t = x;
            break;
          }
        }
        if (cp.current >= 0) cost_++;
      }
    }
    decisions_++;
    last_ = t;
    return t;
  }
  bool choosePreempt(uint64_t, int, gort::Site) override {
    const double r = cost_ < bound_ ? rate() : 0;
    decisions_++;
    if (cost_ >= bound_) return false;
    if (rng_.unit() >= r) {
      weight_ /= 1 - r;
      return false;
    }
    weight_ /= r;
    cost_++;
    return true;
  }
  void onForced(const ChoicePoint&, int chosen) override { last_ = chosen; }
  double weight() const { return weight_; }
  uint64_t decisions() const { return decisions_; }

 private:
  double rate() const {
    const double left = std::max(1.0, expected_ - double(decisions_));
    return std::min(0.5, double(bound_ - cost_) / left);
  }
  uint32_t bound_;
  Rng rng_;
  double expected_;
  uint32_t cost_ = 0;
  int last_ = 0;
  double weight_ = 1;
  uint64_t decisions_ = 0;
};

}  // namespace

LevelEstimate estimateLevel(const Program& p, const RunConfig& cfg, uint32_t bound, uint64_t probes, uint64_t seed) {
  LevelEstimate e;
  e.bound = bound;
  RunConfig c = cfg;
  c.record_trace = false;
  // The expected run length (decisions), from a few probes without preemptions.
  double expected = 0;
  for (uint64_t i = 0; i < 16; i++) {
    ProbeChooser pc(0, seed * 0x9e3779b97f4a7c15ULL + 0x5555 + i, 1);
    runProgram(p, pc, c);
    expected += double(pc.decisions()) / 16;
  }
  double sum = 0, sum2 = 0, dec = 0;
  for (uint64_t i = 0; i < probes; i++) {
    ProbeChooser pc(bound, seed * 0x9e3779b97f4a7c15ULL + i, expected);
    runProgram(p, pc, c);
    sum += pc.weight();
    sum2 += pc.weight() * pc.weight();
    dec += double(pc.decisions());
  }
  if (probes == 0) return e;
  const double n = double(probes);
  e.probes = probes;
  e.schedules = sum / n;
  e.mean_decisions = dec / n;
  const double var = probes > 1 ? std::max(0.0, (sum2 - sum * sum / n) / (n - 1)) : 0.0;
  e.std_error = std::sqrt(var / n);
  return e;
}

std::string dfsFindingKind(const Outcome& o, const RunConfig& cfg) {
  if (o.finding()) return o.result.kind.empty() ? verdictName(o.result.verdict) : o.result.kind;
  if (cfg.detectors.strict && !o.precursor.empty()) return "precursor";
  return "";
}

VerifyResult verifyProgram(const Program& p, const RunConfig& cfg, const VerifyOptions& opts) {
  VerifyResult res;
  RunConfig c = cfg;
  c.record_trace = false;
  for (uint32_t k = opts.min_bound; k <= opts.max_bound; k++) {
    VerifyLevel lvl;
    lvl.bound = k;
    DfsChooser dfs(k, opts.jobs, opts.job);
    bool stopped = false;
    for (;;) {
      dfs.begin();
      const bool owned = dfs.owned();
      Outcome o = runProgram(p, dfs, c);
      if (!dfs.divergence().empty()) {
        res.divergence = dfs.divergence();
        res.levels.push_back(lvl);
        return res;
      }
      if (owned) {
        lvl.schedules++;
        if (dfs.cost() == k) lvl.new_schedules++;
        lvl.max_decisions = std::max(lvl.max_decisions, dfs.decisions());
        std::string kind = dfsFindingKind(o, c);
        if (!kind.empty()) {
          res.found = true;
          res.kind = kind;
          res.found_bound = k;
          res.found_cost = dfs.cost();
          res.schedule = dfs.schedule();
          res.levels.push_back(lvl);
          return res;
        }
        if (opts.progress && !opts.progress(lvl.schedules, k)) {
          stopped = true;
          break;
        }
        if (opts.max_schedules && lvl.schedules >= opts.max_schedules) {
          stopped = true;
          break;
        }
      }
      if (!dfs.advance()) break;
    }
    lvl.complete = !stopped;
    res.levels.push_back(lvl);
    if (stopped) break;
  }
  return res;
}

}  // namespace schedfuzz
