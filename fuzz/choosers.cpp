// fuzz/choosers.cpp — the scheduling strategies: bytes, random walk, PCT, and recording for replay.
#include "fuzz/choosers.h"

#include <algorithm>

namespace schedfuzz {

namespace {

bool contains(std::span<const int> sorted, int t) {
  return std::binary_search(sorted.begin(), sorted.end(), t);
}

// m points uniformly in [1, range], distinct if range >= m, in draw order.
std::vector<uint64_t> drawPoints(Rng& rng, int m, uint64_t range) {
  std::vector<uint64_t> out;
  if (range == 0) range = 1;
  while (int(out.size()) < m) {
    uint64_t x = 1 + rng.below(range);
    if (range >= uint64_t(m) && std::find(out.begin(), out.end(), x) != out.end()) continue;
    out.push_back(x);
  }
  return out;
}

}  // namespace

int nextRunnableAfter(std::span<const int> runnable, int t) {
  auto it = std::upper_bound(runnable.begin(), runnable.end(), t);
  return it == runnable.end() ? runnable.front() : *it;
}

// --- DefaultPolicy -----------------------------------------------------------

int DefaultPolicy::choose(const ChoicePoint& cp) const {
  if (walk_ > 0) {
    Rng r(seed_ ^ (decisions_ * 0xd1b54a32d192ed03ull));
    uint64_t x = r.next();
    if ((x & 31) < static_cast<uint64_t>(walk_)) return cp.runnable[(x >> 8) % cp.runnable.size()];
  }
  if (cp.current >= 0 && !(cp.current == last_ && run_ >= kQuantum)) return cp.current;
  return nextRunnableAfter(cp.runnable, cp.current >= 0 ? cp.current : last_);
}

bool DefaultPolicy::preempt(uint64_t k, gort::Site site) const {
  if (walk_ <= 0) return false;
  // A stream of its own (another multiplier than choose()'s), so preemption
  // and thread decisions are independent draws.
  Rng r(seed_ ^ 0x6a09e667f3bcc909ull ^ (k * 0x9e3779b97f4a7c15ull));
  const uint64_t x = r.next();
  const uint64_t mask = gort::siteInfo(site).kind == gort::SiteKind::kUser ? 255 : 31;
  return (x & mask) < static_cast<uint64_t>(walk_);
}

void DefaultPolicy::update(int chosen) {
  decisions_++;
  if (chosen == last_) {
    run_++;
  } else {
    last_ = chosen;
    run_ = 1;
  }
}

// --- ByteChooser -------------------------------------------------------------

ByteChooser::ByteChooser(std::span<const Choice> choices, int walk, uint64_t walk_seed) : policy_(walk, walk_seed) {
  uint64_t switch_pos = 0, preempt_pos = 0;  // index of the next call of each kind
  for (const Choice& c : choices) {
    bool sw = c.kind == Choice::Kind::kSwitch;
    uint64_t& pos = sw ? switch_pos : preempt_pos;
    if (c.delay == kContinuation) {
      pos += kContinuation;
      continue;
    }
    pos += c.delay;
    (sw ? switches_ : preempts_).push_back(Action{pos, c.target});
    pos += 1;
  }
}

int ByteChooser::chooseThread(const ChoicePoint& cp) {
  uint64_t n = switch_calls_++;
  int chosen;
  if (next_switch_ < switches_.size() && switches_[next_switch_].at == n) {
    int t = switches_[next_switch_++].target;
    chosen = contains(cp.runnable, t) ? t : nextRunnableAfter(cp.runnable, t);
  } else {
    chosen = policy_.choose(cp);
  }
  policy_.update(chosen);
  return chosen;
}

bool ByteChooser::choosePreempt(uint64_t, int, gort::Site site) {
  uint64_t n = preempt_calls_++;
  if (next_preempt_ < preempts_.size() && preempts_[next_preempt_].at == n) {
    next_preempt_++;
    return true;
  }
  return policy_.preempt(n, site);
}

// --- Rng (splitmix64, Steele, Lea, Flood 2014) --------------------------------

uint64_t Rng::next() {
  uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rng::below(uint64_t n) {
  return uint64_t((static_cast<unsigned __int128>(next()) * n) >> 64);
}

double Rng::unit() { return double(next() >> 11) * 0x1.0p-53; }

// --- RandomWalkChooser -------------------------------------------------------

RandomWalkChooser::RandomWalkChooser(uint64_t seed, double switch_prob, double preempt_prob)
    : rng_(seed), switch_prob_(switch_prob), preempt_prob_(preempt_prob) {}

int RandomWalkChooser::chooseThread(const ChoicePoint& cp) {
  if (cp.current >= 0 && !(rng_.unit() < switch_prob_)) return cp.current;
  return cp.runnable[rng_.below(cp.runnable.size())];
}

bool RandomWalkChooser::choosePreempt(uint64_t, int, gort::Site) {
  return rng_.unit() < preempt_prob_;
}

// --- PctChooser --------------------------------------------------------------

PctChooser::PctChooser(uint64_t seed, int depth, uint64_t expected_steps)
    : PctChooser(seed, depth, expected_steps, PreemptOptions{}) {}

PctChooser::PctChooser(uint64_t seed, int depth, uint64_t expected_steps, PreemptOptions popts)
    : rng_(seed), depth_(std::max(1, depth)), user_preempt_prob_(popts.user_preempt_prob) {
  // Change point k_i (in draw order) carries priority i.
  {
    std::vector<uint64_t> drawn;
    if (expected_steps == 0) expected_steps = 1;
    for (int i = 0; i < depth_ - 1; i++) {
      uint64_t x;
      do {
        x = 1 + rng_.below(expected_steps);
      } while (expected_steps >= uint64_t(depth_ - 1) &&
               std::find(drawn.begin(), drawn.end(), x) != drawn.end());
      drawn.push_back(x);
      change_points_.push_back(ChangePoint{x, i + 1});
    }
  }
  std::stable_sort(change_points_.begin(), change_points_.end(),
                   [](const ChangePoint& a, const ChangePoint& b) { return a.step < b.step; });
  preempt_points_ = drawPoints(rng_, depth_ - 1,
                               popts.expected_preempts ? popts.expected_preempts : expected_steps);
  std::sort(preempt_points_.begin(), preempt_points_.end());
}

void PctChooser::onThreadCreated(int thread) {
  if (int(lowered_.size()) <= thread) lowered_.resize(thread + 1, 0);
  lowered_[thread] = 0;
  ranked_.insert(ranked_.begin() + rng_.below(ranked_.size() + 1), thread);
}

bool PctChooser::isHigher(int a, int b) const {
  int la = a < int(lowered_.size()) ? lowered_[a] : 0;
  int lb = b < int(lowered_.size()) ? lowered_[b] : 0;
  if (la == 0 && lb == 0) {
    auto pa = std::find(ranked_.begin(), ranked_.end(), a);
    auto pb = std::find(ranked_.begin(), ranked_.end(), b);
    return pa < pb;
  }
  if (la == 0 || lb == 0) return la == 0;
  return la != lb ? la > lb : a < b;
}

int PctChooser::chooseThread(const ChoicePoint& cp) {
  // "After executing the k_i-th step, change the priority of the thread that
  // executed it to i": the thread that ran up to this point is last_.
  while (next_change_ < change_points_.size() && change_points_[next_change_].step <= cp.step) {
    int t = last_;
    auto it = std::find(ranked_.begin(), ranked_.end(), t);
    if (it != ranked_.end()) ranked_.erase(it);
    if (int(lowered_.size()) <= t) lowered_.resize(t + 1, 0);
    lowered_[t] = change_points_[next_change_].priority;
    next_change_++;
  }
  int best = -1;
  for (int t : ranked_) {
    if (contains(cp.runnable, t)) {
      best = t;
      break;
    }
  }
  if (best < 0) {
    for (int t : cp.runnable)
      if (best < 0 || isHigher(t, best)) best = t;
  }
  last_ = best;
  return best;
}

bool PctChooser::choosePreempt(uint64_t, int, gort::Site site) {
  uint64_t n = ++preempt_calls_;
  bool inject = false;
  while (next_preempt_ < preempt_points_.size() && preempt_points_[next_preempt_] <= n) {
    inject |= preempt_points_[next_preempt_] == n;
    next_preempt_++;
  }
  if (gort::siteInfo(site).kind == gort::SiteKind::kUser && rng_.unit() < user_preempt_prob_)
    inject = true;
  return inject;
}

// --- RecordingChooser --------------------------------------------------------

int RecordingChooser::chooseThread(const ChoicePoint& cp) {
  int chosen = inner_.chooseThread(cp);
  Point p{cp.step, cp.current, uint32_t(runnable_.size()), 0, chosen};
  runnable_.insert(runnable_.end(), cp.runnable.begin(), cp.runnable.end());
  p.runnable_end = uint32_t(runnable_.size());
  points_.push_back(p);
  return chosen;
}

void RecordingChooser::onForced(const ChoicePoint& cp, int chosen) {
  inner_.onForced(cp, chosen);
  Point p{cp.step, cp.current, uint32_t(runnable_.size()), 0, chosen, true};
  runnable_.insert(runnable_.end(), cp.runnable.begin(), cp.runnable.end());
  p.runnable_end = uint32_t(runnable_.size());
  points_.push_back(p);
}

bool RecordingChooser::choosePreempt(uint64_t step, int thread, gort::Site site) {
  bool p = inner_.choosePreempt(step, thread, site);
  preempts_.push_back(p);
  return p;
}

std::optional<std::vector<Choice>> RecordingChooser::toChoices() const {
  std::vector<Choice> out;
  uint64_t pos = 0;  // index of the first call of the kind no entry covers yet
  auto emit = [&](Choice::Kind kind, uint64_t at, int target) {
    uint64_t gap = at - pos;
    for (; gap >= ByteChooser::kContinuation; gap -= ByteChooser::kContinuation)
      out.push_back(Choice{kind, ByteChooser::kContinuation, 0});
    out.push_back(Choice{kind, uint8_t(gap), uint8_t(target)});
    pos = at + 1;
  };
  DefaultPolicy policy;
  uint64_t call = 0;  // index of the chooseThread call (forced points are not calls)
  for (const Point& p : points_) {
    if (p.forced) {  // ByteChooser::onForced: the policy is told, no entry is consumed
      policy.update(p.chosen);
      continue;
    }
    ChoicePoint cp{p.step, p.current,
                   std::span<const int>(runnable_.data() + p.runnable_begin,
                                        p.runnable_end - p.runnable_begin),
                   gort::Site::kCount};
    if (policy.choose(cp) != p.chosen) {
      if (p.chosen < 0 || p.chosen > 255) return std::nullopt;
      emit(Choice::Kind::kSwitch, call, p.chosen);
    }
    policy.update(p.chosen);
    call++;
  }
  pos = 0;
  for (size_t i = 0; i < preempts_.size(); i++)
    if (preempts_[i]) emit(Choice::Kind::kPreempt, i, 0);
  return out;
}

}  // namespace schedfuzz
