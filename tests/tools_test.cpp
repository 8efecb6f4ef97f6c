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

struct Result {
  int status = -1;  // exit status, or -1 if the tool did not exit normally
  std::string out, err;
};

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "schedfuzz-tools-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string write(const std::string& name, const std::string& content) {
    fs::create_directories(fs::path(path(name)).parent_path());
    std::ofstream f(path(name), std::ios::binary);
    f << content;
    return path(name);
  }

  // Runs tool (e.g. "schedfuzz-replay") with args in dir_, with `env` added
  // to an environment from which every SCHEDFUZZ_* variable is removed.
  Result run(const std::string& tool, const std::vector<std::string>& args,
             const std::vector<std::string>& env = {}) {
    std::string exe = kToolDir + tool;
    std::string out_path = path(".stdout"), err_path = path(".stderr");
    std::vector<std::string> envs;
    for (char** e = environ; *e; e++)
      if (std::strncmp(*e, "SCHEDFUZZ_", 10) != 0) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    pid_t pid = fork();
    if (pid == 0) {
      int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(dir_.c_str()) != 0) _exit(127);
      std::vector<char*> argv{exe.data()};
      std::vector<std::string> a = args;
      for (std::string& s : a) argv.push_back(s.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (std::string& s : envs) envp.push_back(s.data());
      envp.push_back(nullptr);
      execve(exe.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    Result r;
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readFile(out_path);
    r.err = readFile(err_path);
    return r;
  }

  std::string dir_;
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
      {"schedfuzz-explore", {"--strategy=dfs"}, "--strategy=dfs: expected random or pct"},
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
  for (const char* tool : {"schedfuzz-replay", "schedfuzz-explore", "schedfuzz-minimize"}) {
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
  EXPECT_TRUE(contains(run("schedfuzz-explore", {"--help"}).out, "  --strategy=random|pct "));
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

}  // namespace
