// tests/corpus_test.cpp — the seed corpora: readable, finding-free on the fixed runtime, deterministic in any order.
//
// corpus/<target>/ (lockosthread_fuzzer, sched_fuzzer, world_fuzzer) holds a target's seeds:
// each top-level regular file without an extension is a binary input, decoded
// with that target's alphabet, and <name>.txt beside it is its readable source
// (corpus/build_seeds.sh writes the binary from it). That is the set
// oss-fuzz/build.sh zips and scripts/fuzz.sh copies: top-level files minus
// *.txt. This file pins:
//
//  * each corpus is non-empty (an empty seed list must not pass silently);
//  * every seed has its source, every source its seed, and both hold the same Program;
//  * every seed runs ok on the runtime as fixed (no bug switch);
//  * determinism across inputs: the whole corpus (the seeds of both targets
//    and every regression reproducer, the latter with its bug switched on, so
//    that hangs abandon fibers mid-run) replayed twice, in sorted and then
//    reversed order, gives the same flat trace for every input. A run must not
//    depend on what ran before it in the process (pooled stacks, statics).
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

const fs::path kCorpusDir = fs::path(SCHEDFUZZ_SOURCE_DIR) / "corpus";

struct TargetCorpus {
  const char* dir;  // corpus/<dir>/ and the fuzz target's name
  schedfuzz::Alphabet alphabet;
};

const std::vector<TargetCorpus>& targetCorpora() {
  static const std::vector<TargetCorpus> t = {
      {"lockosthread_fuzzer", schedfuzz::Alphabet::lockosthread()},
      {"sched_fuzzer", schedfuzz::Alphabet::all()},
      {"world_fuzzer", schedfuzz::Alphabet::world()},
  };
  return t;
}

const schedfuzz::Alphabet& alphabetOf(const std::string& dir) {
  for (const TargetCorpus& t : targetCorpora())
    if (dir == t.dir) return t.alphabet;
  static const schedfuzz::Alphabet none;
  return none;
}

using schedfuzz::testing::readFile;

// Top-level regular files of corpus/<dir>/ ending (or not ending) in ".txt", sorted.
std::vector<std::string> filesOf(const std::string& dir, bool sources) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kCorpusDir / dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if ((e.path().extension() == ".txt") == sources) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "lockosthread_fuzzer/lock-unlock", every seed of both targets, sorted.
std::vector<std::string> allSeeds() {
  std::vector<std::string> out;
  for (const TargetCorpus& t : targetCorpora())
    for (const std::string& f : filesOf(t.dir, /*sources=*/false)) out.push_back(std::string(t.dir) + "/" + f);
  return out;
}

bool loadSeed(const std::string& rel, schedfuzz::Program& p) {
  const std::string dir = rel.substr(0, rel.find('/'));
  std::string bytes;
  if (!readFile(kCorpusDir / rel, bytes)) return false;
  p = schedfuzz::decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, alphabetOf(dir));
  return true;
}

schedfuzz::Outcome run(const schedfuzz::Program& p, uint32_t bugs) {
  schedfuzz::ByteChooser chooser = schedfuzz::ByteChooser::forProgram(p);  // as the fuzz targets run it
  schedfuzz::RunConfig cfg;  // not from the environment: SCHEDFUZZ_* must not change a test
  cfg.bugs = bugs;
  cfg.record_trace = true;
  return schedfuzz::runProgram(p, chooser, cfg);
}

// ---- each corpus -----------------------------------------------------------

TEST(Corpus, EachTargetHasSeeds) {
  for (const TargetCorpus& t : targetCorpora())
    EXPECT_FALSE(filesOf(t.dir, /*sources=*/false).empty()) << "no seeds in " << kCorpusDir / t.dir;
}

TEST(Corpus, EverySourceHasItsSeed) {
  // A .txt without its binary is a seed that build_seeds.sh was not run for.
  for (const TargetCorpus& t : targetCorpora()) {
    for (const std::string& src : filesOf(t.dir, /*sources=*/true)) {
      const std::string seed = src.substr(0, src.size() - 4);
      EXPECT_TRUE(fs::is_regular_file(kCorpusDir / t.dir / seed))
          << t.dir << "/" << src << " has no binary " << seed << " (run corpus/build_seeds.sh)";
    }
  }
}

// ---- each seed -------------------------------------------------------------

class SeedTest : public testing::TestWithParam<std::string> {};

TEST_P(SeedTest, MatchesItsSourceAndRunsOkOnTheFixedRuntime) {
  const std::string& rel = GetParam();
  const std::string dir = rel.substr(0, rel.find('/'));
  schedfuzz::Program p;
  ASSERT_TRUE(loadSeed(rel, p)) << rel << ": cannot read";

  std::string text, err;
  ASSERT_TRUE(readFile(kCorpusDir / (rel + ".txt"), text)) << rel << " has no readable source " << rel << ".txt";
  schedfuzz::Program from_text;
  ASSERT_TRUE(schedfuzz::parseText(text, rel + ".txt", from_text, err)) << err;
  EXPECT_TRUE(p == from_text) << rel << " decodes (alphabet of " << dir << ") to\n"
                          << schedfuzz::toText(p) << "but " << rel << ".txt parses to\n"
                          << schedfuzz::toText(from_text) << "(run corpus/build_seeds.sh)";

  const schedfuzz::Outcome o = run(p, 0);
  EXPECT_FALSE(o.finding()) << rel << ": " << o.result.kind << ": " << o.result.message;
  EXPECT_TRUE(o.precursor.empty()) << rel << ": liveness precursor on the fixed runtime: " << o.precursor;
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedTest, testing::ValuesIn(allSeeds()), testName);

// ---- the whole corpus, in two orders -----------------------------------------

struct Input {
  std::string name;
  schedfuzz::Program program;
  uint32_t bugs = 0;
};

// Every seed (fixed runtime), then every regression reproducer (its bug on),
// sorted by name within each group.
std::vector<Input> wholeCorpus() {
  std::vector<Input> out;
  for (const std::string& rel : allSeeds()) {
    Input in;
    in.name = rel;
    if (loadSeed(rel, in.program)) out.push_back(in);
  }
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kCorpusDir / "regressions", ec))
    if (e.is_directory()) dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());
  for (const std::string& d : dirs) {
    Input in;
    in.name = "regressions/" + d;
    std::string text, err;
    if (!readFile(kCorpusDir / "regressions" / d / "repro.txt", text) ||
        !schedfuzz::parseText(text, in.name, in.program, err) ||
        !gort::parseBugs(d.substr(0, d.find('-')), in.bugs, err))
      continue;  // tests/regressions_test.cpp reports a malformed directory
    out.push_back(in);
  }
  return out;
}

struct Replayed {
  std::string kind, flat;
  uint64_t steps = 0;
};

Replayed replay(const Input& in) {
  const schedfuzz::Outcome o = run(in.program, in.bugs);
  return {o.finding() ? o.result.kind + ": " + o.result.message : "ok", schedfuzz::formatFlat(o.trace, o.mids),
          o.result.steps};
}

TEST(Corpus, ReplayIsDeterministicInAnyOrder) {
  const std::vector<Input> inputs = wholeCorpus();
  ASSERT_GE(inputs.size(), 2u) << "nothing to replay";

  std::vector<Replayed> first(inputs.size()), second(inputs.size());
  for (size_t i = 0; i < inputs.size(); i++) first[i] = replay(inputs[i]);
  // Reversed: every input but the middle one now runs after a different predecessor.
  for (size_t i = inputs.size(); i-- > 0;) second[i] = replay(inputs[i]);

  for (size_t i = 0; i < inputs.size(); i++) {
    SCOPED_TRACE(inputs[i].name);
    EXPECT_FALSE(first[i].flat.empty());
    EXPECT_EQ(first[i].kind, second[i].kind);
    EXPECT_EQ(first[i].steps, second[i].steps);
    EXPECT_TRUE(first[i].flat == second[i].flat) << "the trace differs between sorted and reversed order";
  }
}

}  // namespace
