// fuzz/dfs.cpp — systematic search: every schedule of one program with at most K preemptions, depth first.
#include "fuzz/dfs.h"

#include <algorithm>

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
    std::vector<int> alts;
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
  if (!replay_only_ && next_frame_ >= prefix_ && cp.runnable.size() > 1 && (cp.current < 0 || cost_ < bound_)) {
    std::vector<int> alts;
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
