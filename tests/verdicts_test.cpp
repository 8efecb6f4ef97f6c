// tests/verdicts_test.cpp — hang verdicts are proofs: no finding on the fixed runtime
// for Go 1.14's long-but-finite waits, whatever the strategy, and every finding replays.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "tests/test_files.h"

namespace schedfuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kFixedDir = fs::path(SCHEDFUZZ_SOURCE_DIR) / "corpus" / "fixed-runtime";

long firstDiff(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); i++)
    if (!(a[i] == b[i])) return long(i);
  return a.size() == b.size() ? -1 : long(std::min(a.size(), b.size()));
}

std::vector<std::string> fixedRuntimeInputs() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kFixedDir))
    if (e.path().extension() == ".bin") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// shared/findings/fixed-runtime: three sched_fuzzer inputs that ended in
// "hang: step budget" on the fixed runtime (corpus/fixed-runtime/README.md
// has the triage). Each is a long but finite wait of Go 1.14 (sysmon asleep
// for up to 60 s with a stale timer deadline while a goroutine spins) and
// must end ok, in the same trace every time, from the binary and the text form.
class FixedRuntimeInput : public ::testing::TestWithParam<std::string> {};

TEST_P(FixedRuntimeInput, EndsOkDeterministicallyAfterALongFiniteWait) {
  std::string bin, txt;
  ASSERT_TRUE(testing::readFile(kFixedDir / (GetParam() + ".bin"), bin));
  ASSERT_TRUE(testing::readFile(kFixedDir / (GetParam() + ".txt"), txt));
  const Program p = decode({reinterpret_cast<const uint8_t*>(bin.data()), bin.size()}, Alphabet::all());
  Program pt;
  std::string err;
  ASSERT_TRUE(parseText(txt, GetParam() + ".txt", pt, err)) << err;
  RunConfig cfg;  // the fixed runtime, default detectors
  ByteChooser c1 = ByteChooser::forProgram(p);
  Outcome a = runProgram(p, c1, cfg);
  EXPECT_EQ(a.result.verdict, Verdict::kOk) << a.result.kind << ": " << a.result.message;
  // What made it a false finding before: a quiet stretch longer than the
  // longest sysmon tick (it was 60 s of sysmon's sleep). It ended in progress.
  EXPECT_GT(a.result.max_quiet_ns, 100'000'000) << "not the long-wait shape any more";
  EXPECT_LT(a.result.steps, stepBudget(p) / 10) << "too close to the budget";
  ByteChooser c2 = ByteChooser::forProgram(p);
  Outcome b = runProgram(p, c2, cfg);
  EXPECT_EQ(firstDiff(a.trace, b.trace), -1);
  ByteChooser c3 = ByteChooser::forProgram(pt);
  Outcome t = runProgram(pt, c3, cfg);
  EXPECT_EQ(firstDiff(a.trace, t.trace), -1) << "text and binary forms differ";
  // Strict mode on the fixed runtime: no precursor either.
  RunConfig strict;
  strict.detectors.strict = true;
  ByteChooser c4 = ByteChooser::forProgram(p);
  Outcome s = runProgram(p, c4, strict);
  EXPECT_EQ(s.result.verdict, Verdict::kOk) << s.result.kind << ": " << s.result.message;
  EXPECT_EQ(s.precursor, "");
}

INSTANTIATE_TEST_SUITE_P(Corpus, FixedRuntimeInput, ::testing::ValuesIn(fixedRuntimeInputs()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(FixedRuntimeInputs, AllFourArePresent) { EXPECT_EQ(fixedRuntimeInputs().size(), 4u); }

// Strategies that starve fairness (schedfuzz-explore --switch-prob=0, PCT
// with a huge expected length) cannot make a verdict on the fixed runtime:
// quiet mode takes the choices over before any hang verdict is possible.
// And any finding replays from its recording (no MISMATCH).
Program randomSchedProgram(uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> bytes(4 + rng.below(61));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
  Program p = decode(bytes, Alphabet::all());
  p.choices.clear();
  p.walk = 0;
  return p;
}

struct Starving {
  const char* name;
  int kind;  // 0 random switch-prob 0, 1 pct huge k, 2 pct k = 100000
};

class StarvingStrategy : public ::testing::TestWithParam<int> {};

TEST_P(StarvingStrategy, NoVerdictOnTheFixedRuntimeAndEveryRunReplays) {
  const int kind = GetParam();
  RunConfig cfg;
  cfg.record_trace = false;
  int quiet_runs = 0;
  for (uint64_t seed = 1; seed <= 400; seed++) {
    Program p = randomSchedProgram(seed * 7919 + static_cast<uint64_t>(kind));
    std::unique_ptr<Chooser> inner;
    if (kind == 0) inner = std::make_unique<RandomWalkChooser>(seed, 0.0, 0.0);
    else if (kind == 1) inner = std::make_unique<PctChooser>(seed, 3, std::numeric_limits<uint64_t>::max());
    else inner = std::make_unique<PctChooser>(seed, 3, 100000);
    RecordingChooser rec(*inner);
    Outcome o = runProgram(p, rec, cfg);
    ASSERT_EQ(o.result.verdict, Verdict::kOk)
        << "seed " << seed << ": " << o.result.kind << ": " << o.result.message << "\n" << toText(p);
    for (const RecordingChooser::Point& pt : rec.points())
      if (pt.forced) {
        quiet_runs++;
        break;
      }
    // The recording replays to the same run (same length, same verdict).
    std::optional<std::vector<Choice>> choices = rec.toChoices();
    ASSERT_TRUE(choices.has_value());
    Program repro = p;
    repro.choices = *choices;
    if (repro.choices.size() > static_cast<size_t>(kMaxChoices)) continue;  // not expressible as an input
    ByteChooser bc(repro.choices);
    Outcome r = runProgram(repro, bc, cfg);
    EXPECT_EQ(r.result.verdict, o.result.verdict) << "seed " << seed;
    EXPECT_EQ(r.result.steps, o.result.steps) << "seed " << seed;
  }
  // The property is not vacuous: these strategies did starve threads, and
  // quiet mode stepped in.
  EXPECT_GT(quiet_runs, 10) << "no run reached quiet mode";
}

INSTANTIATE_TEST_SUITE_P(Strategies, StarvingStrategy, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::string(i.param == 0 ? "RandomNoSwitch" : i.param == 1 ? "PctHugeK" : "PctK100000");
                         });

}  // namespace
}  // namespace schedfuzz
