// tests/regressions_test.cpp — every reproducer in corpus/regressions/ still finds its bug, and only its bug.
//
// A regression directory corpus/regressions/<bug>[-<variant>]/ holds
//
//   repro.txt     the program in the text form, '#' comments first (what it is, how it was found)
//   repro.bin     the same program in the binary form (corpus/build_seeds.sh writes it)
//   expected.txt  line 1: the finding kind, as the tools print it ("hang: stall",
//                 "invariant: ...", or "throw: <message>"); line 2: "target: lockosthread|sched|world",
//                 the alphabet repro.bin is decoded with; optional line 3: "bugs: a,b",
//                 every switch the reproducer needs, for a bug reachable only together
//                 with another switch (issue20903 needs issue38931)
//
// and the directory name up to its first '-' names the gort::Bug switch it
// is the regression of (issue38931-stw -> issue38931); a bugs: line must name
// it too. For each directory, one test pins:
//
//   1. both forms hold the same Program, and repro.bin is its canonical encoding;
//   2. with the bug switched on (all of bugs:), the run ends in exactly the expected kind;
//   3. with every switch off (the runtime as fixed), the run is ok, and so is
//      it with every proper subset of a bugs: list (each switch is needed);
//   4. two runs with the bug give byte-identical flat traces (formatFlat).
//
// The directories are listed (sorted) when the test binary starts, so a new
// one is picked up by the next build (gtest_discover_tests). An empty list
// fails (RegressionCorpus.IsNotEmpty), as does a bug switch with no directory:
// in gRPC's words, "make sure we don't succeed without doing anything".
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_files.h"

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/trace.h"
#include "runtime/runtime.h"

namespace {

namespace fs = std::filesystem;

const fs::path kRegressionDir = fs::path(SCHEDFUZZ_SOURCE_DIR) / "corpus" / "regressions";

using schedfuzz::testing::regressionDirs;

using schedfuzz::testing::readFile;

// The kind a tool prints for an outcome (fuzz/tools/common.cpp findingKind:
// result.kind, or the verdict's name if the kind is empty; "" for ok), with
// a throw's message appended: every throw has the kind "throw", and the
// message is what tells "checkdead: runnable g" from any other throw.
std::string kindOf(const schedfuzz::Outcome& o) {
  if (!o.finding()) return "";
  std::string kind = o.result.kind.empty() ? schedfuzz::verdictName(o.result.verdict) : o.result.kind;
  if (kind == "throw") kind += ": " + o.result.message;
  return kind;
}

// One execution as the fuzz targets and schedfuzz-replay run it: the
// program's own choice stream, then the default policy its walk selects.
schedfuzz::Outcome run(const schedfuzz::Program& p, uint32_t bugs) {
  schedfuzz::ByteChooser chooser = schedfuzz::ByteChooser::forProgram(p);
  schedfuzz::RunConfig cfg;  // not from the environment: SCHEDFUZZ_* must not change a test
  cfg.bugs = bugs;
  cfg.record_trace = true;
  return schedfuzz::runProgram(p, chooser, cfg);
}

// The alphabet of an expected.txt target name.
schedfuzz::Alphabet alphabetOf(const std::string& target) {
  if (target == "sched") return schedfuzz::Alphabet::all();
  if (target == "world") return schedfuzz::Alphabet::world();
  return schedfuzz::Alphabet::lockosthread();
}

// What a regression directory holds, loaded and checked for form.
struct Regression {
  std::string name;
  std::string kind;    // expected.txt line 1
  std::string target;  // expected.txt line 2: "lockosthread", "sched" or "world"
  uint32_t bugs = 0;
  schedfuzz::Program from_bin, from_text;
  std::vector<uint8_t> bin;
};

// Fills r from directory `name`; on a problem records a failure and returns false.
bool load(const std::string& name, Regression& r) {
  const fs::path dir = kRegressionDir / name;
  r.name = name;

  std::string expected;
  if (!readFile(dir / "expected.txt", expected)) {
    ADD_FAILURE() << dir / "expected.txt" << ": cannot read";
    return false;
  }
  std::vector<std::string> lines;
  for (size_t pos = 0; pos < expected.size();) {
    size_t nl = expected.find('\n', pos);
    if (nl == std::string::npos) nl = expected.size();
    lines.push_back(expected.substr(pos, nl - pos));
    pos = nl + 1;
  }
  const bool bugsLine = lines.size() == 3 && lines[2].rfind("bugs: ", 0) == 0;
  const std::string target =
      lines.size() >= 2 ? lines[1].substr(0, 8) == "target: " ? lines[1].substr(8) : "" : "";
  if ((lines.size() != 2 && !bugsLine) || lines[0].empty() ||
      (target != "lockosthread" && target != "sched" && target != "world")) {
    ADD_FAILURE() << dir / "expected.txt"
                  << ": expected two lines, the finding kind and \"target: lockosthread|sched|world\", and an "
                     "optional third, \"bugs: <switch>,<switch>\", found:\n"
                  << expected;
    return false;
  }
  r.kind = lines[0];
  r.target = lines[1].substr(std::string("target: ").size());
  const schedfuzz::Alphabet alphabet = alphabetOf(r.target);

  const std::string bug = name.substr(0, name.find('-'));
  std::string err;
  uint32_t own = 0;
  if (!gort::parseBugs(bug, own, err) || own == 0) {
    ADD_FAILURE() << name << ": the directory name must start with a bug switch (then '-' and a variant): " << err;
    return false;
  }
  r.bugs = own;
  if (bugsLine) {
    if (!gort::parseBugs(lines[2].substr(6), r.bugs, err)) {
      ADD_FAILURE() << dir / "expected.txt" << ":3: " << err;
      return false;
    }
    if ((r.bugs & own) == 0 || r.bugs == own) {
      ADD_FAILURE() << dir / "expected.txt" << ":3: a bugs: line lists " << bug
                    << " and at least one other switch it needs, found '" << lines[2] << "'";
      return false;
    }
  }
  if (r.bugs != own && schedfuzz::testing::regressionBugs(name) != lines[2].substr(6)) {
    ADD_FAILURE() << name << ": regressionBugs() disagrees with expected.txt";
    return false;
  }

  std::string bytes, text;
  if (!readFile(dir / "repro.bin", bytes) || !readFile(dir / "repro.txt", text)) {
    ADD_FAILURE() << dir << ": cannot read repro.bin and repro.txt";
    return false;
  }
  r.bin.assign(bytes.begin(), bytes.end());
  r.from_bin = schedfuzz::decode(r.bin, alphabet);
  if (!schedfuzz::parseText(text, (dir / "repro.txt").string(), r.from_text, err)) {
    ADD_FAILURE() << err;
    return false;
  }
  return true;
}

class RegressionTest : public testing::TestWithParam<std::string> {};

TEST_P(RegressionTest, FindsItsBugOnlyWithTheSwitchAndDeterministically) {
  Regression r;
  ASSERT_TRUE(load(GetParam(), r));
  const schedfuzz::Alphabet alphabet = alphabetOf(r.target);

  // 1. Both forms, the same program.
  ASSERT_TRUE(r.from_bin == r.from_text) << "repro.bin (target " << r.target << ") decodes to\n"
                                     << schedfuzz::toText(r.from_bin) << "but repro.txt parses to\n"
                                     << schedfuzz::toText(r.from_text) << "(run corpus/build_seeds.sh)";
  EXPECT_EQ(schedfuzz::checkProgram(r.from_text, &alphabet), "");
  EXPECT_EQ(schedfuzz::encode(r.from_text, alphabet), r.bin)
      << "repro.bin is not the canonical encoding of repro.txt (run corpus/build_seeds.sh)";
  const schedfuzz::Program& p = r.from_text;

  // 2. The bug.
  const schedfuzz::Outcome with_bug = run(p, r.bugs);
  EXPECT_EQ(kindOf(with_bug), r.kind) << "with " << schedfuzz::bugList(r.bugs) << ": " << with_bug.result.message;

  // 3. The fix; and for a bugs: list, every proper subset (each switch is needed).
  const schedfuzz::Outcome fixed = run(p, 0);
  EXPECT_FALSE(fixed.finding()) << "the fixed runtime finds " << kindOf(fixed) << ": " << fixed.result.message;
  for (uint32_t sub = (r.bugs - 1) & r.bugs; sub != 0; sub = (sub - 1) & r.bugs) {
    const schedfuzz::Outcome part = run(p, sub);
    EXPECT_FALSE(part.finding()) << "with only " << schedfuzz::bugList(sub) << ": " << kindOf(part) << ": "
                                 << part.result.message;
  }

  // 4. Determinism.
  const schedfuzz::Outcome again = run(p, r.bugs);
  EXPECT_EQ(kindOf(again), kindOf(with_bug));
  EXPECT_EQ(again.result.steps, with_bug.result.steps);
  EXPECT_EQ(again.result.vtime, with_bug.result.vtime);
  const std::string flat = schedfuzz::formatFlat(with_bug.trace, with_bug.mids);
  EXPECT_FALSE(with_bug.trace.empty());
  EXPECT_TRUE(flat == schedfuzz::formatFlat(again.trace, again.mids))
      << "two runs of the same reproducer gave different traces";
}

// Test names may only hold [A-Za-z0-9_]: issue38931-stw -> issue38931_stw.
std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Regressions, RegressionTest, testing::ValuesIn(regressionDirs()), testName);

TEST(RegressionCorpus, IsNotEmpty) {
  EXPECT_FALSE(regressionDirs().empty()) << "no regression directories in " << kRegressionDir;
}

TEST(RegressionCorpus, EveryBugSwitchHasAReproducer) {
  const std::vector<std::string> dirs = regressionDirs();
  for (unsigned b = 0; b < static_cast<unsigned>(gort::Bug::kCount); b++) {
    const std::string bug = gort::bugName(static_cast<gort::Bug>(b));
    const bool found = std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) {
      return d.substr(0, d.find('-')) == bug;
    });
    EXPECT_TRUE(found) << "no corpus/regressions/" << bug << "[-*]/ for bug switch " << bug;
  }
}

TEST(RegressionCorpus, EveryReproducerSaysWhatItIs) {
  // The text form's header, then comment lines: the bug, how it was found, what the trace shows.
  for (const std::string& d : regressionDirs()) {
    std::string text;
    ASSERT_TRUE(readFile(kRegressionDir / d / "repro.txt", text)) << d;
    size_t comments = 0;
    for (size_t pos = 0; pos < text.size() && text[pos] == '#'; pos = text.find('\n', pos) + 1) {
      comments++;
      if (text.find('\n', pos) == std::string::npos) break;
    }
    EXPECT_EQ(text.rfind("# schedfuzz program v1\n", 0), 0u) << d << "/repro.txt: no header line";
    EXPECT_GE(comments, 3u) << d << "/repro.txt: expected comment lines after the header saying what it reproduces";
  }
}

}  // namespace
