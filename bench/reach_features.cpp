// bench/reach_features.cpp — what a fixed budget of random schedules reaches (issue 13).
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
//
// Runs N random programs (4..64 random bytes decoded with the target's
// alphabet, as schedfuzz-explore makes them) on the fixed runtime under a
// random walk, and prints what the runs reached in total:
//   features      distinct libFuzzer interleaving features (interleavingFeatures,
//                 65,536 counters, the fuzz targets' extra coverage)
//   sites         distinct sites (SyncPoint/PreemptPoint names) some thread stopped at
//   site_pairs    distinct (site before, site after) pairs of consecutive
//                 scheduling decisions that switched threads
//   findings      runs that ended in a finding (must be 0 on the fixed runtime)
// Deterministic for a given --seed; built against any revision's libschedfuzz
// (it uses only harness.h/program.h/choosers.h), so before/after comparisons
// run the same programs and schedules. Not a test: it prints numbers.
//
// usage: reach_features [--target=sched|lockosthread] [--runs=N] [--seed=S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"

using namespace schedfuzz;

int main(int argc, char** argv) {
  std::string target = "sched";
  uint64_t runs = 2000, seed = 1;
  for (int i = 1; i < argc; i++) {
    if (!std::strncmp(argv[i], "--target=", 9)) target = argv[i] + 9;
    else if (!std::strncmp(argv[i], "--runs=", 7)) runs = std::strtoull(argv[i] + 7, nullptr, 10);
    else if (!std::strncmp(argv[i], "--seed=", 7)) seed = std::strtoull(argv[i] + 7, nullptr, 10);
    else {
      std::fprintf(stderr, "reach_features: unknown argument '%s' (expected --target=, --runs=, --seed=)\n", argv[i]);
      return 2;
    }
  }
  if (target != "sched" && target != "lockosthread") {
    std::fprintf(stderr, "reach_features: --target=%s: expected sched or lockosthread\n", target.c_str());
    return 2;
  }
  const Alphabet alphabet = target == "sched" ? Alphabet::all() : Alphabet::lockosthread();
  std::vector<uint8_t> counters(1 << 16), seen(1 << 16);
  std::set<int> sites;
  std::set<std::pair<int, int>> pairs;
  uint64_t findings = 0, steps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t r = 0; r < runs; r++) {
    Rng rng(seed * 0x9E3779B97F4A7C15ull + r);
    std::vector<uint8_t> bytes(4 + rng.below(61));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
    Program p = decode(bytes, alphabet);
    p.choices.clear();
    p.walk = 0;
    RandomWalkChooser chooser(rng.next(), 0.1, 0.1);
    RunConfig cfg;
    cfg.record_trace = true;
    const Outcome o = runProgram(p, chooser, cfg);
    findings += o.finding() ? 1 : 0;
    steps += o.result.steps;
    std::fill(counters.begin(), counters.end(), 0);
    interleavingFeatures(o, counters.data(), counters.size());
    for (size_t i = 0; i < counters.size(); i++) seen[i] |= counters[i];
    int prevSite = -1;
    for (const TraceEvent& e : o.trace) {
      if (e.site != gort::Site::kCount) sites.insert(static_cast<int>(e.site));
      if (e.kind == TraceEvent::Kind::kSwitch) {
        const int s = static_cast<int>(e.site);
        if (prevSite >= 0) pairs.insert({prevSite, s});
        prevSite = s;
      }
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t features = 0;
  for (uint8_t v : seen) features += v ? 1 : 0;
  std::printf("target=%s runs=%llu seed=%llu features=%zu sites=%zu site_pairs=%zu findings=%llu steps=%llu seconds=%.2f\n",
              target.c_str(), static_cast<unsigned long long>(runs), static_cast<unsigned long long>(seed), features,
              sites.size(), pairs.size(), static_cast<unsigned long long>(findings),
              static_cast<unsigned long long>(steps), secs);
  return findings == 0 ? 0 : 1;
}
