// tests/cli_test.cpp — the command lines a new user types besides the tools: the example, the engine-less fuzz targets, the scripts' --help.
//
// Each runs the built program (or script) as a subprocess with its stdout and
// stderr captured, the way tests/tools_test.cpp runs the tools.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/tool_fixture.h"

#include "fuzz/program.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kBin = SCHEDFUZZ_BINARY_DIR;
const std::string kSrc = SCHEDFUZZ_SOURCE_DIR;

using schedfuzz::testing::Result;

class CliTest : public schedfuzz::testing::TempDirTest {
 protected:
  // argv[0] = exe; SCHEDFUZZ_* removed from the environment, `env` added.
  Result run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    return runProgram(argv, env);
  }
};

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// ---- examples/lockosthread_template_race ---------------------------------------

const std::string kExample = kBin + "/examples/lockosthread_template_race";

TEST_F(CliTest, ExampleHelpPrintsUsageAndExits0) {
  Result r = run({kExample, "--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: " + kExample + " [--bugs=LIST] [--timeout-ms=N] [--stress] [--runs=N]\n", 0), 0u)
      << r.out;
  EXPECT_TRUE(contains(r.out, "\nexit status: ")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, ExampleNumbersAreRangeChecked) {
  struct Case {
    const char* arg;
    const char* expect;
  } cases[] = {
      // Overflowed to a negative timeout (UBSan: signed overflow in timeout_ms * 1000000).
      {"--timeout-ms=9223372036854775807", "argument 1 (--timeout-ms): expected milliseconds 1..86400000 (a day), "
                                           "found '9223372036854775807'"},
      {"--timeout-ms=86400001", "(--timeout-ms): expected milliseconds 1..86400000"},
      {"--timeout-ms=0", "(--timeout-ms): expected milliseconds 1..86400000"},
      {"--timeout-ms=-5", "(--timeout-ms): expected milliseconds 1..86400000"},
      {"--timeout-ms=", "(--timeout-ms): expected milliseconds 1..86400000"},
      {"--timeout-ms=10x", "(--timeout-ms): expected milliseconds 1..86400000"},
      // Was truncated to int: 4294967297 runs became 1.
      {"--runs=4294967297", "argument 1 (--runs): expected a number of runs 1..1000000, found '4294967297'"},
      {"--runs=0", "(--runs): expected a number of runs 1..1000000"},
      {"--runs=+3", "(--runs): expected a number of runs 1..1000000"},
      {"--frobnicate", "argument 1: unknown argument '--frobnicate' (see --help)"},
  };
  for (const Case& c : cases) {
    Result r = run({kExample, c.arg});
    EXPECT_EQ(r.status, 2) << c.arg << "\n" << r.out;
    EXPECT_TRUE(contains(r.err, c.expect)) << "expected '" << c.expect << "' in: " << r.err;
    EXPECT_EQ(r.out, "") << c.arg;
  }
}

// ---- the fuzz targets built without libFuzzer (fuzz/targets/replay_main.cpp) -----

const std::string kTarget = kBin + "/fuzz/targets/lockosthread_fuzzer";

// The #38931 reproducer; with SCHEDFUZZ_BUGS=issue38931 it aborts the target.
const char* const kIssue38931 =
    "# schedfuzz program v1\n"
    "gomaxprocs 1\n"
    "g0: lock\n"
    "g1: lock\n"
    "choices: preempt+1 preempt+1\n";

std::string issue38931Bin() {
  schedfuzz::Program p;
  std::string err;
  EXPECT_TRUE(schedfuzz::parseText(kIssue38931, "t", p, err)) << err;
  std::vector<uint8_t> b = schedfuzz::encode(p, schedfuzz::Alphabet::lockosthread());
  return std::string(b.begin(), b.end());
}

TEST_F(CliTest, ReplayBuildTakesLibFuzzerFlagsAndSkipsTextSources) {
  // A corpus directory as the repository keeps it: each seed next to its readable .txt.
  write("corpus/repro", issue38931Bin());
  write("corpus/repro.txt", kIssue38931);
  // On the fixed runtime: -runs=3 runs each input three times; other flags are
  // accepted and ignored; neither is taken for a file name.
  Result r = run({kTarget, "-runs=3", "-max_len=48", "-dict=x.dict", "corpus"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(contains(r.err, "no such file")) << r.err;
  EXPECT_TRUE(contains(r.err, "Ignoring '-max_len=48' (no fuzzing engine in this build)\n")) << r.err;
  EXPECT_TRUE(contains(r.err, "Running: corpus/repro (")) << r.err;
  EXPECT_TRUE(contains(r.err, "Skipping: corpus/repro.txt (text form; the target reads bytes: replay it with "
                              "schedfuzz-replay corpus/repro.txt)\n"))
      << r.err;
  EXPECT_FALSE(contains(r.err, "Running: corpus/repro.txt")) << r.err;
  EXPECT_TRUE(contains(r.err, "Replayed 1 inputs without a finding, 3 runs each; skipped 1 text-form files\n")) << r.err;

  // With the bug: the binary input is the finding (the target aborts) ...
  Result bug = run({kTarget, "-runs=2", "corpus/repro"}, {"SCHEDFUZZ_BUGS=issue38931"});
  EXPECT_NE(bug.status, 0);
  EXPECT_TRUE(contains(bug.err, "==schedfuzz== FINDING: hang: stall")) << bug.err;
  // ... and a text file named explicitly is skipped with the note, not run as bytes.
  Result txt = run({kTarget, "corpus/repro.txt"}, {"SCHEDFUZZ_BUGS=issue38931"});
  EXPECT_EQ(txt.status, 0) << txt.err;
  EXPECT_TRUE(contains(txt.err, "Skipping: corpus/repro.txt (text form")) << txt.err;
}

TEST_F(CliTest, ReplayBuildRejectsMalformedFlagsAndMissingInputs) {
  Result bad = run({kTarget, "-runs=many", "x"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "argument 1: -runs: expected an integer >= -1, found 'many'")) << bad.err;
  Result dash = run({kTarget, "--runs=3"});
  EXPECT_EQ(dash.status, 2);
  EXPECT_TRUE(contains(dash.err, "expected -flag=value (libFuzzer's form) or an input, found '--runs=3'")) << dash.err;
  Result none = run({kTarget, "-runs=3"});
  EXPECT_EQ(none.status, 2);
  EXPECT_TRUE(contains(none.err, "usage: ")) << none.err;
  Result missing = run({kTarget, "nope"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_TRUE(contains(missing.err, "nope: no such file or directory\n")) << missing.err;
  Result help = run({kTarget, "-help=1"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "usage: ")) << help.out;
}

// ---- scripts --------------------------------------------------------------------

TEST_F(CliTest, ScriptsPrintHelpWithoutBuildingAnything) {
  for (const char* script : {"fuzz.sh", "test.sh"}) {
    Result r = run({"/bin/bash", kSrc + "/scripts/" + script, "--help"});
    EXPECT_EQ(r.status, 0) << script << ": " << r.err;
    EXPECT_EQ(r.out.rfind(std::string("usage: scripts/") + script + " ", 0), 0u) << r.out;
    EXPECT_TRUE(contains(r.out, "\nexit status: ")) << r.out;
    EXPECT_EQ(r.err, "") << script;
  }
  Result fuzz = run({"/bin/bash", kSrc + "/scripts/fuzz.sh", "--help"});
  EXPECT_TRUE(contains(fuzz.out, "SCHEDFUZZ_BUGS=LIST")) << fuzz.out;
  Result bad = run({"/bin/bash", kSrc + "/scripts/fuzz.sh", "sixty"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "SECONDS: expected a whole number of seconds, found 'sixty'")) << bad.err;
  Result preset = run({"/bin/bash", kSrc + "/scripts/test.sh", "nosuch"});
  EXPECT_EQ(preset.status, 2);
  EXPECT_TRUE(contains(preset.err, "no preset 'nosuch' in CMakePresets.json")) << preset.err;
}

TEST_F(CliTest, OneReaderOfOptionsFiles) {
  // scripts/fuzz_options.py reads .options as OSS-Fuzz's base-runner does.
  write("t_fuzzer.options", "[libfuzzer]\n# a comment\nmax_len = 48\nlen_control=0\ndict = t_fuzzer.dict\n"
                            "[afl]\nx = 1\n");
  const std::string py = kSrc + "/scripts/fuzz_options.py";
  Result keep = run({"/usr/bin/env", "python3", py, "--dict=keep", "t_fuzzer.options"});
  EXPECT_EQ(keep.status, 0) << keep.err;
  EXPECT_EQ(keep.out, "-max_len=48\n-len_control=0\n-dict=t_fuzzer.dict\n");
  Result drop = run({"/usr/bin/env", "python3", py, "--dict=drop", "t_fuzzer.options"});
  EXPECT_EQ(drop.out, "-max_len=48\n-len_control=0\n");
  Result repo = run({"/usr/bin/env", "python3", py, "t_fuzzer.options"});
  EXPECT_EQ(repo.out, "-max_len=48\n-len_control=0\n-dict=" + kSrc + "/fuzz/schedfuzz.dict\n");
  write("bad.options", "max_len = 48\n");  // no section header
  Result bad = run({"/usr/bin/env", "python3", py, "bad.options"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "bad.options: does not parse as an .options file")) << bad.err;
  // The targets' own files parse, and give what scripts/fuzz.sh passes.
  for (const char* t : {"lockosthread_fuzzer", "sched_fuzzer", "world_fuzzer"}) {
    Result r = run({"/usr/bin/env", "python3", py, kSrc + "/fuzz/targets/" + t + ".options"});
    EXPECT_EQ(r.status, 0) << t << ": " << r.err;
    EXPECT_TRUE(contains(r.out, "-max_len=")) << r.out;
  }
}

}  // namespace
