// tests/tools_test.cpp — schedfuzz-replay, -explore and -minimize, run as subprocesses on small programs.
//
// The tools are what a person types, so these tests drive the built
// executables (${SCHEDFUZZ_BINARY_DIR}/fuzz/tools/) the same way: arguments,
// files in a temporary directory, exit status, stdout and stderr. Every run
// gets an environment without SCHEDFUZZ_* unless a test sets it, so a
// developer's shell cannot change the outcome.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/tool_fixture.h"
#include <nlohmann/json.hpp>

#include "fuzz/program.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kToolDir = std::string(SCHEDFUZZ_BINARY_DIR) + "/fuzz/tools/";

// Go's LockOSThreadTemplateThreadRace scenario (docs/schedule-format.md), no choices.
const char* const kScenario =
    "# schedfuzz program v1\n"
    "gomaxprocs 3\n"
    "g0: stw\n"
    "g1: lock\n"
    "g2: newm lock gosched\n";

// The minimized #38931 reproducer (corpus/regressions/issue38931/repro.txt):
// g1's LockOSThread is preempted between setting haveTemplateThread and
// creating the template thread; g0 exits locked, its M's handoffp queues a
// new M for the missing template thread, and the P it carries is leaked.
const char* const kIssue38931 =
    "# schedfuzz program v1\n"
    "gomaxprocs 1\n"
    "g0: lock\n"
    "g1: lock\n"
    "choices: preempt+1 preempt+1\n";

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

using schedfuzz::testing::Result;

class ToolsTest : public schedfuzz::testing::TempDirTest {
 protected:
  // Runs tool (e.g. "schedfuzz-replay") with args (see TempDirTest::runProgram).
  Result run(const std::string& tool, const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}, const std::string& stdout_to = "") {
    std::vector<std::string> argv{kToolDir + tool};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, env, stdout_to);
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- replay ------------------------------------------------------------------

TEST_F(ToolsTest, ReplayOfTheScenarioOnTheFixedRuntimeIsOk) {
  std::string f = write("scenario.txt", kScenario);
  Result r = run("schedfuzz-replay", {f});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "verdict: ok\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "-- program --\n# schedfuzz program v1\ngomaxprocs 3\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "-- trace (one column per M; read down) --\n")) << r.out;
  EXPECT_FALSE(contains(r.out, "-- state --")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(ToolsTest, ReplayOfTheIssue38931ReproducerStallsWithItsBugSwitchOnly) {
  std::string f = write("repro.txt", kIssue38931);
  Result bug = run("schedfuzz-replay", {"--bugs=issue38931", f});
  EXPECT_EQ(bug.status, 1) << bug.out << bug.err;
  EXPECT_TRUE(contains(bug.out, "verdict: hang: stall\n")) << bug.out;
  EXPECT_TRUE(contains(bug.out, "bugs:    issue38931\n")) << bug.out;
  EXPECT_TRUE(contains(bug.out, "cause:   ")) << bug.out;
  EXPECT_TRUE(contains(bug.out, "haveTemplateThread")) << bug.out;
  EXPECT_TRUE(contains(bug.out, "-- state --\n")) << bug.out;
  EXPECT_TRUE(contains(bug.out, "schedfuzz-replay --bugs=issue38931 " + f + "\n")) << bug.out;

  Result fixed = run("schedfuzz-replay", {f});
  EXPECT_EQ(fixed.status, 0) << fixed.out << fixed.err;
  EXPECT_TRUE(contains(fixed.out, "verdict: ok\n")) << fixed.out;
}

TEST_F(ToolsTest, ReplayHonoursTheEnvironmentAndFlagsOverrideIt) {
  std::string f = write("repro.txt", kIssue38931);
  Result env = run("schedfuzz-replay", {"--quiet", f}, {"SCHEDFUZZ_BUGS=issue38931"});
  EXPECT_EQ(env.status, 1) << env.out << env.err;
  EXPECT_EQ(env.out.rfind(f + ": hang: stall -- ", 0), 0u) << env.out;
  Result off = run("schedfuzz-replay", {"--quiet", "--bugs=", f}, {"SCHEDFUZZ_BUGS=issue38931"});
  EXPECT_EQ(off.status, 0) << off.out << off.err;
  EXPECT_EQ(off.out, f + ": ok\n");
  Result bad = run("schedfuzz-replay", {f}, {"SCHEDFUZZ_BUGS=issue0"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "SCHEDFUZZ_BUGS")) << bad.err;
}

TEST_F(ToolsTest, ReplayPrintsTheSameBytesEveryTime) {
  std::string f = write("repro.txt", kIssue38931);
  for (std::vector<std::string> flags : {std::vector<std::string>{}, {"--flat"}, {"--full-trace"}}) {
    std::vector<std::string> args = {"--bugs=issue38931"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(f);
    Result a = run("schedfuzz-replay", args);
    Result b = run("schedfuzz-replay", args);
    EXPECT_EQ(a.status, 1);
    EXPECT_EQ(a.out, b.out) << "flags: " << (flags.empty() ? "" : flags[0]);
    EXPECT_FALSE(a.out.empty());
  }
  run("schedfuzz-replay", {"--bugs=issue38931", "--json=a.json", f});
  run("schedfuzz-replay", {"--bugs=issue38931", "--json=b.json", f});
  std::string ja = readFile(path("a.json"));
  EXPECT_EQ(ja.rfind("{", 0), 0u) << ja.substr(0, 80);
  EXPECT_EQ(ja, readFile(path("b.json")));
}

TEST_F(ToolsTest, ReplayReadsTheBinaryFormWithATarget) {
  schedfuzz::Program p;
  std::string err;
  ASSERT_TRUE(schedfuzz::parseText(kIssue38931, "repro.txt", p, err)) << err;
  std::vector<uint8_t> bin = schedfuzz::encode(p, schedfuzz::Alphabet::lockosthread());
  std::string bytes(bin.begin(), bin.end());
  std::string f = write("repro.bin", bytes);

  Result none = run("schedfuzz-replay", {"--bugs=issue38931", f});
  EXPECT_EQ(none.status, 2);
  EXPECT_TRUE(contains(none.err, f + ": byte 0: binary input needs --target")) << none.err;

  Result flag = run("schedfuzz-replay", {"--bugs=issue38931", "--target=lockosthread", "--quiet", f});
  EXPECT_EQ(flag.status, 1) << flag.out << flag.err;
  EXPECT_TRUE(contains(flag.out, "hang: stall")) << flag.out;

  // The target a corpus path names.
  std::string in_corpus = write("corpus/lockosthread_fuzzer/repro", bytes);
  Result inferred = run("schedfuzz-replay", {"--bugs=issue38931", "--quiet", in_corpus});
  EXPECT_EQ(inferred.status, 1) << inferred.out << inferred.err;
}

// ---- flags and input errors ---------------------------------------------------

TEST_F(ToolsTest, BadFlagsExitWith2AndNameTheFlag) {
  std::string f = write("scenario.txt", kScenario);
  struct Case {
    const char* tool;
    std::vector<std::string> args;
    const char* expect;
  } cases[] = {
      {"schedfuzz-replay", {"--bogus", f}, "--bogus (argument 1): unknown flag"},
      {"schedfuzz-replay", {"--bug=issue38931", f}, "did you mean --bugs?"},
      {"schedfuzz-replay", {"--bugs=issue1", f}, "--bugs=issue1: unknown bug 'issue1'"},
      {"schedfuzz-replay", {"--depth=2", f}, "--depth (argument 1): not a flag of schedfuzz-replay"},
      {"schedfuzz-replay", {"--target=go", f}, "--target=go: expected lockosthread, sched"},
      {"schedfuzz-replay", {}, "expected at least one FILE"},
      {"schedfuzz-explore", {"--strategy=random", "--depth=x"}, "--depth=x (argument 2): expected an integer 1..64, found 'x'"},
      {"schedfuzz-explore", {"--strategy=bfs"}, "--strategy=bfs: expected random, pct or dfs"},
      {"schedfuzz-explore", {"--runs=10"}, "--strategy: expected --strategy=random or --strategy=pct"},
      {"schedfuzz-explore", {"--strategy=random", "--switch-prob=2"}, "--switch-prob=2 (argument 2): expected a number 0..1"},
      {"schedfuzz-minimize", {f, f}, "expected exactly one FILE, found 2"},
  };
  for (const Case& c : cases) {
    Result r = run(c.tool, c.args);
    EXPECT_EQ(r.status, 2) << c.tool << " " << c.expect;
    EXPECT_TRUE(contains(r.err, std::string(c.tool) + ": ")) << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << "expected '" << c.expect << "' in: " << r.err;
    EXPECT_EQ(r.out, "") << c.tool << " " << c.expect;
  }
}

TEST_F(ToolsTest, MalformedTextExitsWith2AndNamesFileLineCol) {
  std::string f = write("bad.txt", "# schedfuzz program v1\ng0: lock lck\n");
  for (const char* tool : {"schedfuzz-replay", "schedfuzz-minimize"}) {
    Result r = run(tool, {f});
    EXPECT_EQ(r.status, 2) << tool;
    EXPECT_TRUE(contains(r.err, f + ":2:10: expected an op (")) << r.err;
    EXPECT_TRUE(contains(r.err, "found 'lck'")) << r.err;
  }
  Result r = run("schedfuzz-explore", {"--strategy=random", "--program=" + f});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, "--program: " + f + ":2:10: ")) << r.err;

  Result missing = run("schedfuzz-replay", {path("nope.txt")});
  EXPECT_EQ(missing.status, 2);
  EXPECT_TRUE(contains(missing.err, path("nope.txt") + ": cannot open")) << missing.err;
}

TEST_F(ToolsTest, HelpComesFromTheFlagTable) {
  for (const char* tool : {"schedfuzz-replay", "schedfuzz-explore", "schedfuzz-minimize", "schedfuzz-verify"}) {
    Result r = run(tool, {"--help"});
    EXPECT_EQ(r.status, 0) << tool;
    EXPECT_EQ(r.out.rfind(std::string("usage: ") + tool + " ", 0), 0u) << r.out;
    EXPECT_TRUE(contains(r.out, "  --bugs=LIST ")) << r.out;
    EXPECT_TRUE(contains(r.out, "\ninputs:\n  A FILE whose content starts with \"# schedfuzz program\" is the text form\n"))
        << r.out;
    EXPECT_TRUE(contains(r.out, "\nexit status: ")) << r.out;
  }
  EXPECT_TRUE(contains(run("schedfuzz-replay", {"--help"}).out, "  --full-trace "));
  EXPECT_FALSE(contains(run("schedfuzz-replay", {"--help"}).out, "--strategy"));
  EXPECT_TRUE(contains(run("schedfuzz-explore", {"--help"}).out, "\n  --strategy=random|pct|dfs"));
}

// ---- explore -------------------------------------------------------------------

TEST_F(ToolsTest, ExploreFindsIssue38931AndWritesAReproducerThatReplays) {
  std::string prog = write("scenario.txt", kScenario);
  for (const char* strategy : {"random", "pct"}) {
    SCOPED_TRACE(strategy);
    std::string prefix = path(std::string("found-") + strategy);
    Result r = run("schedfuzz-explore", {std::string("--strategy=") + strategy, "--target=lockosthread",
                                         "--bugs=issue38931", "--program=" + prog, "--seed=1", "--runs=5000",
                                         "--out=" + prefix});
    ASSERT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("INITED strategy=", 0), 0u) << r.out;
    EXPECT_TRUE(contains(r.out, "\nFOUND hang: stall after ")) << r.out;
    EXPECT_TRUE(contains(r.out, "\nVERIFIED the reproducer (")) << r.out;
    EXPECT_TRUE(contains(r.out, "\nWROTE " + prefix + ".bin")) << r.out;
    EXPECT_TRUE(contains(r.out, "==schedfuzz== FINDING: hang: stall\n")) << r.out;
    EXPECT_TRUE(contains(r.out, std::string("\nRESULT strategy=") + strategy + " depth=3 seed=1 found=1 runs=")) << r.out;
    EXPECT_TRUE(contains(r.out, " kind=hang: stall\n")) << r.out;

    Result txt = run("schedfuzz-replay", {"--bugs=issue38931", "--quiet", prefix + ".txt"});
    EXPECT_EQ(txt.status, 1) << txt.out << txt.err;
    EXPECT_TRUE(contains(txt.out, ": hang: stall -- ")) << txt.out;
    Result bin = run("schedfuzz-replay", {"--bugs=issue38931", "--target=lockosthread", "--quiet", prefix + ".bin"});
    EXPECT_EQ(bin.status, 1) << bin.out << bin.err;
    // The program is kept; only the choices are new.
    schedfuzz::Program found, scenario;
    std::string err;
    ASSERT_TRUE(schedfuzz::parseText(readFile(prefix + ".txt"), "found", found, err)) << err;
    ASSERT_TRUE(schedfuzz::parseText(kScenario, "scenario", scenario, err)) << err;
    EXPECT_EQ(found.scripts, scenario.scripts);
    EXPECT_FALSE(found.choices.empty());
  }
}

TEST_F(ToolsTest, ExploreWithoutTheBugSwitchFindsNothing) {
  std::string prog = write("scenario.txt", kScenario);
  for (const char* strategy : {"random", "pct"}) {
    SCOPED_TRACE(strategy);
    Result r = run("schedfuzz-explore", {std::string("--strategy=") + strategy, "--program=" + prog, "--seed=1",
                                         "--runs=300", "--progress-every=100", "--out=" + path("none")});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "\n#100 PULSE ")) << r.out;
    EXPECT_TRUE(contains(r.out, " exec/s findings 0\n")) << r.out;
    EXPECT_TRUE(contains(r.out, "\nDONE 300 runs, no finding\n")) << r.out;
    EXPECT_TRUE(contains(r.out, " found=0 runs=300 ")) << r.out;
    EXPECT_TRUE(contains(r.out, " kind=none\n")) << r.out;
    EXPECT_FALSE(fs::exists(path("none.txt")));
  }
}

TEST_F(ToolsTest, ExploreOnRandomProgramsIsSilentOnTheFixedRuntime) {
  Result r = run("schedfuzz-explore", {"--strategy=random", "--seed=3", "--runs=300", "--out=" + path("none")});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "program=random")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nDONE 300 runs, no finding\n")) << r.out;
}

// ---- minimize -------------------------------------------------------------------

TEST_F(ToolsTest, MinimizeKeepsTheFindingAndNeverGrowsTheInput) {
  std::string prog = write("scenario.txt", kScenario);
  Result e = run("schedfuzz-explore", {"--strategy=random", "--target=lockosthread", "--bugs=issue38931",
                                       "--program=" + prog, "--seed=2", "--runs=5000", "--out=" + path("found")});
  ASSERT_EQ(e.status, 1) << e.out << e.err;

  Result m = run("schedfuzz-minimize", {"--bugs=issue38931", path("found.txt")});
  ASSERT_EQ(m.status, 0) << m.out << m.err;
  EXPECT_EQ(m.out.rfind("INITED " + path("found.txt") + " (text form, target lockosthread): hang: stall\n", 0), 0u)
      << m.out;
  EXPECT_TRUE(contains(m.out, "\nDONE ")) << m.out;
  EXPECT_TRUE(contains(m.out, "\n  before: ")) << m.out;
  EXPECT_TRUE(contains(m.out, "\n  after:  ")) << m.out;
  EXPECT_TRUE(contains(m.out, "==schedfuzz== FINDING: hang: stall\n")) << m.out;
  ASSERT_TRUE(fs::exists(path("found.min.txt")));
  ASSERT_TRUE(fs::exists(path("found.min.bin")));

  Result r = run("schedfuzz-replay", {"--bugs=issue38931", "--quiet", path("found.min.txt")});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, ": hang: stall -- ")) << r.out;
  Result rb = run("schedfuzz-replay", {"--bugs=issue38931", "--target=lockosthread", "--quiet", path("found.min.bin")});
  EXPECT_EQ(rb.status, 1) << rb.out << rb.err;

  schedfuzz::Program before, after;
  std::string err;
  ASSERT_TRUE(schedfuzz::parseText(readFile(path("found.txt")), "found.txt", before, err)) << err;
  ASSERT_TRUE(schedfuzz::parseText(readFile(path("found.min.txt")), "found.min.txt", after, err)) << err;
  auto ops = [](const schedfuzz::Program& p) {
    size_t n = 0;
    for (const auto& s : p.scripts) n += s.ops.size();
    return n;
  };
  EXPECT_LE(ops(after), ops(before));
  EXPECT_LE(after.choices.size(), before.choices.size());
  EXPECT_LE(readFile(path("found.min.bin")).size(), readFile(path("found.bin")).size());
  EXPECT_LT(ops(after) + after.choices.size(), ops(before) + before.choices.size()) << "nothing was removed";

  // Deterministic: the same input gives the same output, byte for byte.
  Result again = run("schedfuzz-minimize", {"--bugs=issue38931", "--out=" + path("again"), path("found.txt")});
  ASSERT_EQ(again.status, 0);
  EXPECT_EQ(readFile(path("again.txt")), readFile(path("found.min.txt")));
  EXPECT_EQ(readFile(path("again.bin")), readFile(path("found.min.bin")));
}

TEST_F(ToolsTest, MinimizeRejectsAnInputThatIsNotAFinding) {
  std::string f = write("repro.txt", kIssue38931);
  Result r = run("schedfuzz-minimize", {f});  // the fixed runtime: ok
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, f + ": input does not reproduce a finding")) << r.err;
  EXPECT_FALSE(fs::exists(path("repro.min.txt")));
}

// ---- issue 11: what a new user hits ---------------------------------------------

// The binary form of kIssue38931 in the lockosthread alphabet.
std::string issue38931Bin() {
  schedfuzz::Program p;
  std::string err;
  EXPECT_TRUE(schedfuzz::parseText(kIssue38931, "repro.txt", p, err)) << err;
  std::vector<uint8_t> bin = schedfuzz::encode(p, schedfuzz::Alphabet::lockosthread());
  return std::string(bin.begin(), bin.end());
}

TEST_F(ToolsTest, TextAfterABomOrBlankSpaceIsTheTextFormEvenWithATarget) {
  // Read as binary (which --target allows), each of these decodes to some
  // other program and runs ok; as text they are the #38931 reproducer.
  const std::string body = kIssue38931;
  for (const std::string& text : {"\xEF\xBB\xBF" + body, "\n" + body, " " + body, "\r\n\t \n" + body}) {
    std::string f = write("lead.txt", text);
    Result r = run("schedfuzz-replay", {"--target=lockosthread", "--bugs=issue38931", f});
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "(text form, ")) << r.out;
    EXPECT_TRUE(contains(r.out, "verdict: hang: stall\n")) << r.out;
  }
}

TEST_F(ToolsTest, AVersionLineOtherThanV1IsAnErrorWithItsPosition) {
  struct Case {
    const char* header;
    const char* expect;
  } cases[] = {
      {"# schedfuzz program v2", ":1:21: expected the version line '# schedfuzz program v1': version v1 (the only "
                                 "version of the text form), found 'v2'"},
      {"# schedfuzz program v999", ":1:21: expected the version line '# schedfuzz program v1': version v1"},
      {"# schedfuzz programXYZ", ":1:13: expected the version line '# schedfuzz program v1': 'program' after "
                                 "'schedfuzz', found 'programXYZ'"},
      {"# schedfuzz program", ":1:20: expected the version line '# schedfuzz program v1': version v1 (the only "
                              "version of the text form), found end of line"},
      {"# schedfuzz program v1 extra", ":1:24: expected the version line '# schedfuzz program v1': end of line after "
                                       "'v1', found 'extra'"},
  };
  for (const Case& c : cases) {
    std::string f = write("v.txt", std::string(c.header) + "\ngomaxprocs 1\ng0: lock\n");
    for (const char* tool : {"schedfuzz-replay", "schedfuzz-minimize"}) {
      Result r = run(tool, {"--target=lockosthread", f});
      EXPECT_EQ(r.status, 2) << tool << " " << c.header << "\n" << r.out;
      EXPECT_TRUE(contains(r.err, f + c.expect)) << "expected '" << c.expect << "' in: " << r.err;
    }
  }
}

TEST_F(ToolsTest, ParseErrorsQuoteTheTokenEscapedAndShort) {
  std::string nul = write("nul.txt", std::string("# schedfuzz program v1\ng0: lock \0 x\n", 34));
  Result r = run("schedfuzz-replay", {nul});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, nul + ":2:10: expected an op (")) << r.err;
  EXPECT_TRUE(contains(r.err, "found '\\x00'\n")) << r.err;

  std::string esc = write("esc.txt", "# schedfuzz program v1\ng0: \x1b[31mred\n");
  r = run("schedfuzz-replay", {esc});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "an ESC reached the terminal";
  EXPECT_TRUE(contains(r.err, "found '\\x1b'\n")) << r.err;

  std::string big = write("big.txt", "# schedfuzz program v1\ng0: " + std::string(10 << 20, 'a') + "\n");
  r = run("schedfuzz-replay", {big});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.err, "found '" + std::string(40, 'a') + "'... (10485760 bytes)\n")) << r.err.substr(0, 400);
  EXPECT_LT(r.err.size(), 500u);
}

TEST_F(ToolsTest, BooleanEnvironmentVariablesAreCheckedNotGuessed) {
  std::string f = write("scenario.txt", kScenario);
  for (const char* var : {"SCHEDFUZZ_STRICT", "SCHEDFUZZ_NO_INVARIANTS"}) {
    Result bad = run("schedfuzz-replay", {"--quiet", f}, {std::string(var) + "=maybe"});
    EXPECT_EQ(bad.status, 2) << var;
    EXPECT_TRUE(contains(bad.err, std::string(var) + "='maybe': expected 1, 0, true, false, yes, no, on or off"))
        << bad.err;
    for (const char* ok : {"false", "OFF", "No", "0", "", "true", "YES", "on", "1"}) {
      Result r = run("schedfuzz-replay", {"--quiet", f}, {std::string(var) + "=" + ok});
      EXPECT_EQ(r.status, 0) << var << "=" << ok << ": " << r.err;
    }
  }
}

TEST_F(ToolsTest, MinimizeRefusesAnOutThatNamesItsInput) {
  std::string f = write("crash.txt", kIssue38931);
  // Different spellings of the same file: the comparison is by inode, not by name.
  for (const std::string& out : {path("crash"), std::string("./crash"), path("sub/../crash")}) {
    fs::create_directories(path("sub"));
    Result r = run("schedfuzz-minimize", {"--bugs=issue38931", "--out=" + out, f});
    EXPECT_EQ(r.status, 2) << out << "\n" << r.out;
    EXPECT_TRUE(contains(r.err, "--out=" + out + ": expected a prefix whose .txt is not the input")) << r.err;
    EXPECT_EQ(readFile(f), kIssue38931);
  }
  std::string b = write("crash.bin", issue38931Bin());
  Result r = run("schedfuzz-minimize", {"--bugs=issue38931", "--target=lockosthread", "--out=crash", b});
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(contains(r.err, "expected a prefix whose .bin is not the input")) << r.err;
  EXPECT_EQ(readFile(b), issue38931Bin());
}

TEST_F(ToolsTest, ExploreNeverOverwritesAnEarlierFinding) {
  std::string prog = write("scenario.txt", kScenario);
  const std::vector<std::string> args = {"--strategy=random", "--bugs=issue38931", "--program=" + prog, "--seed=1",
                                         "--runs=5000"};
  Result first = run("schedfuzz-explore", args);  // default prefix "finding", in the tool's directory
  ASSERT_EQ(first.status, 1) << first.out << first.err;
  ASSERT_TRUE(fs::exists(path("finding.txt")));
  const std::string txt = readFile(path("finding.txt")), bin = readFile(path("finding.bin"));
  write("finding.txt", "# schedfuzz program v1\n# an earlier finding, edited by hand\ng0: lock\n");

  Result second = run("schedfuzz-explore", args);
  ASSERT_EQ(second.status, 1) << second.out << second.err;
  EXPECT_TRUE(contains(second.out, "\nNOTE finding.bin or finding.txt exists (an earlier finding); writing "
                                   "finding-1.bin and finding-1.txt instead\n"))
      << second.out;
  EXPECT_EQ(readFile(path("finding.txt")), "# schedfuzz program v1\n# an earlier finding, edited by hand\ng0: lock\n");
  EXPECT_EQ(readFile(path("finding.bin")), bin);
  EXPECT_EQ(readFile(path("finding-1.txt")), txt);
  Result third = run("schedfuzz-explore", args);
  EXPECT_TRUE(contains(third.out, "writing finding-2.bin and finding-2.txt instead\n")) << third.out;
}

TEST_F(ToolsTest, AFailedWriteToStandardOutputIsAnError) {
  std::string f = write("repro.txt", kIssue38931);
  struct Case {
    const char* tool;
    std::vector<std::string> args;
  } cases[] = {
      {"schedfuzz-replay", {f}},
      {"schedfuzz-replay", {"--help"}},
      {"schedfuzz-minimize", {"--bugs=issue38931", "--out=" + path("m"), f}},
      {"schedfuzz-explore", {"--strategy=random", "--runs=10"}},
      {"schedfuzz-explore", {"--help"}},
  };
  for (const Case& c : cases) {
    Result r = run(c.tool, c.args, {}, "/dev/full");
    EXPECT_EQ(r.status, 2) << c.tool << " " << c.args[0] << ": " << r.err;
    EXPECT_TRUE(contains(r.err, std::string(c.tool) + ": error writing standard output: ")) << r.err;
  }
}

TEST_F(ToolsTest, MinimizeWritesARegressionDirectoryFromACrashFile) {
  // A crash file as the fuzzers write it: the binary form of a finding with
  // more in it than it needs (explore's reproducer of Go's scenario, renamed
  // the way libFuzzer names artifacts).
  std::string prog = write("scenario.txt", kScenario);
  Result e = run("schedfuzz-explore", {"--strategy=random", "--target=lockosthread", "--bugs=issue38931",
                                       "--program=" + prog, "--seed=2", "--runs=5000", "--out=" + path("found")});
  ASSERT_EQ(e.status, 1) << e.out << e.err;
  const std::string padded = readFile(path("found.bin"));
  std::string crash = write("crash-0123", padded);
  std::string dir = path("regressions/issue38931-mine");

  Result r = run("schedfuzz-minimize",
                 {"--regression=" + dir, "--target=lockosthread_fuzzer", "--bugs=issue38931", crash});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "\nWROTE " + dir + "/repro.bin (")) << r.out;
  EXPECT_EQ(readFile(dir + "/expected.txt"), "hang: stall\ntarget: lockosthread\n");
  const std::string text = readFile(dir + "/repro.txt");
  EXPECT_EQ(text.rfind("# schedfuzz program v1\n# issue38931: hang: stall\n# Minimized by schedfuzz-minimize from " +
                           crash + " (",
                       0),
            0u)
      << text;
  // Both forms hold the same, smaller program, and it is a regression test:
  // the finding with the switch, ok without.
  schedfuzz::Program from_text;
  std::string err;
  ASSERT_TRUE(schedfuzz::parseText(text, "repro.txt", from_text, err)) << err;
  const std::string bin = readFile(dir + "/repro.bin");
  EXPECT_EQ(schedfuzz::decode({reinterpret_cast<const uint8_t*>(bin.data()), bin.size()},
                              schedfuzz::Alphabet::lockosthread()),
            from_text);
  EXPECT_LT(bin.size(), padded.size()) << "minimized";
  Result with = run("schedfuzz-replay", {"--quiet", "--bugs=issue38931", dir + "/repro.txt"});
  EXPECT_EQ(with.status, 1) << with.out;
  Result without = run("schedfuzz-replay", {"--quiet", dir + "/repro.txt"});
  EXPECT_EQ(without.status, 0) << without.out;

  // Never over an existing directory; never under a name the regression test cannot read.
  Result again = run("schedfuzz-minimize", {"--regression=" + dir, "--target=lockosthread", "--bugs=issue38931", crash});
  EXPECT_EQ(again.status, 2);
  EXPECT_TRUE(contains(again.err, "--regression=" + dir + ": expected a new directory, but it exists")) << again.err;
  EXPECT_EQ(readFile(dir + "/expected.txt"), "hang: stall\ntarget: lockosthread\n");
  Result unnamed = run("schedfuzz-minimize", {"--regression=" + path("mine"), "--target=lockosthread",
                                              "--bugs=issue38931", crash});
  EXPECT_EQ(unnamed.status, 2);
  EXPECT_TRUE(contains(unnamed.err, "expected a directory name that starts with a bug switch")) << unnamed.err;
  Result other = run("schedfuzz-minimize", {"--regression=" + path("issue20676-x"), "--target=lockosthread",
                                            "--bugs=issue38931", crash});
  EXPECT_EQ(other.status, 2);
  EXPECT_TRUE(contains(other.err, "to be exactly issue20676, as the directory name says; found issue38931"))
      << other.err;
  EXPECT_FALSE(fs::exists(path("mine")));
  EXPECT_FALSE(fs::exists(path("issue20676-x")));
}

TEST_F(ToolsTest, TheJsonTraceEndsWithTheVerdictAndCarriesTheRun) {
  std::string f = write("repro.txt", kIssue38931);
  Result r = run("schedfuzz-replay", {"--bugs=issue38931", "--json=t.json", f});
  ASSERT_EQ(r.status, 1) << r.err;
  nlohmann::json doc = nlohmann::json::parse(readFile(path("t.json")));
  const nlohmann::json& meta = doc.at("otherData");
  EXPECT_EQ(meta.at("program"), kIssue38931);
  EXPECT_EQ(meta.at("bugs"), "issue38931");
  EXPECT_EQ(meta.at("verdict"), "stall");
  EXPECT_EQ(meta.at("kind"), "hang: stall");
  EXPECT_GT(meta.at("steps").get<uint64_t>(), 0u);
  EXPECT_GT(meta.at("vtime_ns").get<int64_t>(), 20'000'000);
  const nlohmann::json& last = doc.at("traceEvents").back();
  EXPECT_EQ(last.at("ph"), "i");
  EXPECT_EQ(last.at("s"), "g");
  EXPECT_EQ(last.at("cat"), "verdict");
  EXPECT_EQ(last.at("name"), "verdict: hang: stall");
  EXPECT_EQ(last.at("args").at("kind"), "hang: stall");
  EXPECT_EQ(last.at("args").at("message").get<std::string>().rfind("stall: ", 0), 0u);
  EXPECT_TRUE(contains(last.at("args").at("cause").get<std::string>(), "haveTemplateThread=1")) << last;
  // The verdict is the last thing on the time line.
  for (const nlohmann::json& e : doc.at("traceEvents")) {
    if (e.contains("ts")) {
      EXPECT_LE(e.at("ts").get<double>(), last.at("ts").get<double>()) << e;
    }
  }

  Result ok = run("schedfuzz-replay", {"--json=ok.json", f});
  ASSERT_EQ(ok.status, 0) << ok.err;
  nlohmann::json okdoc = nlohmann::json::parse(readFile(path("ok.json")));
  EXPECT_EQ(okdoc.at("otherData").at("verdict"), "ok");
  EXPECT_EQ(okdoc.at("otherData").at("bugs"), "");
  EXPECT_EQ(okdoc.at("traceEvents").back().at("name"), "verdict: ok");
  EXPECT_FALSE(okdoc.at("traceEvents").back().at("args").contains("cause"));
}

}  // namespace
