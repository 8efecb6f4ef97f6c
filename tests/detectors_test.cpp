// tests/detectors_test.cpp — incremental invariant checks (runtime/watch.h,
// fuzz/detectors.h) give the verdicts of the full check, at the same step.
//
//  * Watches miss no write: in verify mode the detectors hash every check
//    family's inputs at every point and fail with "detector: missed write"
//    if they changed while the family was clean. Random programs, every bug
//    switch, random schedules.
//  * The same verdict, message, step and precursor as the full check
//    (SCHEDFUZZ_FULL_CHECKS=1), in default and strict mode, over the same
//    programs: the catalogue bugs plant the template-thread, P-in-transit
//    and thread-state violations there.
//  * The three invariants no catalogue bug breaks (P accounting, lockedg/
//    lockedm, stopwait) on a planted violation: a Chooser corrupts the state
//    at a chosen point; both modes report it at the same step.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "runtime/runtime.h"

namespace schedfuzz {
namespace {

// Random bytes as a fuzz input: scripts, choices and the walk nibble, so the
// schedules are as varied as libFuzzer's. Every third program is decoded with
// the world alphabet (syscallwait, gc: forEachP), the others with the sched
// alphabet.
Program randomProgram(uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> bytes(8 + rng.below(57));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
  return decode(bytes, seed % 3 == 2 ? Alphabet::world() : Alphabet::all());
}

std::vector<uint32_t> bugSets() {
  std::vector<uint32_t> sets = {0};
  for (int b = 0; b < static_cast<int>(gort::Bug::kCount); b++) sets.push_back(1u << b);
  return sets;
}

Outcome runWith(const Program& p, uint32_t bugs, bool incremental, bool strict, bool verify = false) {
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.bugs = bugs;
  cfg.record_trace = false;
  cfg.detectors.incremental = incremental;
  cfg.detectors.strict = strict;
  cfg.detectors.verify_incremental = verify;
  return runProgram(p, c, cfg);
}

constexpr int kPrograms = 120;

TEST(IncrementalChecks, WatchesMissNoWrite) {
  int runs = 0;
  for (uint32_t bugs : bugSets()) {
    for (int i = 0; i < kPrograms; i++) {
      const Program p = randomProgram(1000003ull * bugs + static_cast<uint64_t>(i));
      const Outcome o = runWith(p, bugs, /*incremental=*/true, /*strict=*/false, /*verify=*/true);
      ASSERT_NE(o.result.kind, "invariant: detector: missed write")
          << o.result.message << "\nbugs " << bugs << "\n" << toText(p);
      runs++;
    }
  }
  EXPECT_EQ(runs, kPrograms * static_cast<int>(bugSets().size()));
}

struct Kinds {
  std::map<std::string, int> counts;
  int findings = 0;
};

void compareModes(bool strict, Kinds& seen) {
  for (uint32_t bugs : bugSets()) {
    for (int i = 0; i < kPrograms; i++) {
      const Program p = randomProgram(7777ull * bugs + static_cast<uint64_t>(i) + (strict ? 99991 : 0));
      const Outcome inc = runWith(p, bugs, true, strict);
      const Outcome full = runWith(p, bugs, false, strict);
      ASSERT_EQ(inc.result.kind, full.result.kind) << "bugs " << bugs << "\n" << toText(p);
      ASSERT_EQ(inc.result.message, full.result.message) << toText(p);
      ASSERT_EQ(inc.result.steps, full.result.steps) << inc.result.kind << "\n" << toText(p);
      ASSERT_EQ(inc.precursor, full.precursor) << toText(p);
      ASSERT_EQ(inc.precursor_step, full.precursor_step) << toText(p);
      if (inc.finding()) {
        seen.findings++;
        seen.counts[inc.result.kind]++;
      }
      if (!inc.precursor.empty()) seen.counts["precursor"]++;
    }
  }
}

TEST(IncrementalChecks, SameVerdictsAndStepsAsTheFullCheck) {
  Kinds seen;
  compareModes(/*strict=*/false, seen);
  // Not vacuous: the bugs fire here, hangs with precursors and the
  // thread-state invariants among them.
  EXPECT_GT(seen.findings, 20);
  EXPECT_GT(seen.counts["precursor"], 0);
  int threadState = 0;
  for (const char* k : {"invariant: thread cloned from a locked thread", "invariant: locked thread reused",
                        "invariant: LockOSThread nesting"})
    threadState += seen.counts[k];
  EXPECT_GT(threadState, 0);
}

TEST(IncrementalChecks, SameVerdictsAndStepsAsTheFullCheckStrict) {
  Kinds seen;
  compareModes(/*strict=*/true, seen);
  EXPECT_GT(seen.counts["invariant: template thread"] + seen.counts["invariant: P leaked in transit"], 0);
}

// A violation planted by a Chooser at its `at`-th call, through the fields'
// own (watched) stores, as a runtime bug would write them.
// kUnwatched writes behind a wrapper's back, as a store to a field nobody
// made a watched type would.
enum class Planted { kPAccounting, kLocked, kStopwait, kUnwatched };

Outcome runPlanted(Planted what, uint64_t at, bool incremental, bool verify = false) {
  Program p;
  std::string err;
  EXPECT_TRUE(parseText("gomaxprocs 2\ng0: spin(15) lock spin(15) unlock spin(15)\ng1: spin(15) gosched spin(15)\n", "t",
                        p, err))
      << err;
  gort::Runtime* rt = nullptr;
  struct Plant : Chooser {
    gort::Runtime** rt;
    Planted what;
    uint64_t at, calls = 0;
    DefaultPolicy pol;
    int chooseThread(const ChoicePoint& cp) override {
      if (++calls == at) {
        auto& sched = const_cast<gort::schedt&>((*rt)->sched());
        switch (what) {
          case Planted::kPAccounting: sched.npidle.fetch_add(1); break;
          case Planted::kLocked: (*rt)->allms().front()->lockedg = (*rt)->allgs().back(); break;
          case Planted::kStopwait:
            sched.gcwaiting.store(1);
            sched.stopwait = 3;
            break;
          case Planted::kUnwatched: {
            gort::G* gp = (*rt)->allgs().back();
            *reinterpret_cast<int*>(&gp->lockedShadow) += 7;  // watched<int> holds just the int
            break;
          }
        }
      }
      // Switch at every point after the plant, so the check runs there.
      int c = calls >= at ? nextRunnableAfter(cp.runnable, cp.current >= 0 ? cp.current : -1) : pol.choose(cp);
      pol.update(c);
      return c;
    }
    bool choosePreempt(uint64_t, int, gort::Site) override { return false; }
  } plant;
  plant.rt = &rt;
  plant.what = what;
  plant.at = at;
  RunConfig cfg;
  cfg.record_trace = false;
  cfg.detectors.incremental = incremental;
  cfg.detectors.verify_incremental = verify;
  cfg.on_runtime = [&rt](gort::Runtime& r) { rt = &r; };
  return runProgram(p, plant, cfg);
}

// The verify mode can fail: an unwatched store is reported, unless a
// watched store marked the same family before the next check (the family
// then runs anyway, and nothing was missed: the plant breaks the nesting
// oracle, which then fires).
TEST(IncrementalChecks, VerifyModeReportsAnUnwatchedWrite) {
  int reported = 0;
  for (uint64_t at = 20; at <= 400; at += 20) {
    const Outcome o = runPlanted(Planted::kUnwatched, at, /*incremental=*/true, /*verify=*/true);
    // (If the family was due anyway, it ran and saw the planted count.)
    EXPECT_TRUE(o.result.kind == "" || o.result.kind == "invariant: detector: missed write" ||
                o.result.kind == "invariant: LockOSThread nesting")
        << o.result.kind;
    reported += o.result.kind == "invariant: detector: missed write";
  }
  EXPECT_GE(reported, 4) << "of 20 plants";
}

TEST(IncrementalChecks, PlantedViolationsFireAtTheSameStep) {
  const std::pair<Planted, const char*> cases[] = {{Planted::kPAccounting, "invariant: P accounting"},
                                                   {Planted::kLocked, "invariant: lockedg/lockedm"},
                                                   {Planted::kStopwait, "invariant: stopwait"}};
  for (const auto& [what, kind] : cases) {
    int fired = 0;
    for (uint64_t at : {40, 150, 400, 900}) {
      const Outcome inc = runPlanted(what, at, true);
      const Outcome full = runPlanted(what, at, false);
      EXPECT_EQ(inc.result.kind, full.result.kind) << kind << " at " << at;
      EXPECT_EQ(inc.result.steps, full.result.steps) << kind << " at " << at;
      EXPECT_EQ(inc.result.message, full.result.message) << kind << " at " << at;
      fired += inc.result.kind == kind;
    }
    EXPECT_GT(fired, 0) << kind << " never fired: the plant does not reach the check";
  }
}

// Runs of user code change no checked field: most families are skipped
// there, and a lock/unlock program runs the locked family more often.
TEST(IncrementalChecks, SkipsFamiliesWhoseInputsDidNotChange) {
  Program p;
  std::string err;
  ASSERT_TRUE(parseText("gomaxprocs 2\ng0: spin(15) spin(15) spin(15) spin(15)\ng1: spin(15) spin(15) spin(15) spin(15)\n",
                        "t", p, err))
      << err;
  RandomWalkChooser c(5, 0.5, 0.0);
  RunConfig cfg;
  cfg.record_trace = false;
  const Outcome o = runProgram(p, c, cfg);
  EXPECT_EQ(o.result.kind, "");
  EXPECT_GT(o.families_skipped, 2 * o.families_checked) << o.families_checked << " run, " << o.families_skipped << " skipped";
  RunConfig full = cfg;
  full.detectors.incremental = false;
  RandomWalkChooser c2(5, 0.5, 0.0);
  const Outcome f = runProgram(p, c2, full);
  EXPECT_EQ(f.families_skipped, 0u);
  EXPECT_EQ(f.families_checked, o.families_checked + o.families_skipped);
}

}  // namespace
}  // namespace schedfuzz
