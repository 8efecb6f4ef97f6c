// tests/export_test.cpp — schedfuzz-export --go: a finding as a Go program and a GOSCHEDFUZZ knob.
//
// Runs the built tool as a subprocess, as tests/tools_test.cpp does for the
// other tools. The Go side (building the program on the patched runtime) is
// scripts/realgo.sh's, not part of the test suite: it needs a Go toolchain.
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

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kExport = std::string(SCHEDFUZZ_BINARY_DIR) + "/fuzz/tools/schedfuzz-export";
const std::string kStw = std::string(SCHEDFUZZ_SOURCE_DIR) + "/corpus/regressions/issue38931-stw/repro.txt";

// The knob for corpus/regressions/issue38931-stw (realgo/README.md reads it rule by rule).
// Since issue 13 re-found that reproducer's choices, the creator of the template
// thread is g2 (G4) and the locker that exits is g1: the same rules as before with
// g1 and g2 swapped.
const char* const kStwKnob =
    "stopm:hold[until=newm_queued@1,timeout=1000ms],"
    "g2/template_cas@1:hold[until=lockosthread@1,until=newm_queued@1,until=stw_start@1,timeout=1000ms],"
    "g2/template_cas@1:preempt,"
    "g1/template_load@1:hold[until=template_cas@1,timeout=1000ms],"
    "stopTheWorld_prologue@1:hold[until=lockosthread@1,until=template_cas@1,until=newm_queued@1,timeout=1000ms]";

struct Result {
  int status = -1;
  std::string out, err;
};

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "schedfuzz-export-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream f(path(name), std::ios::binary);
    f << content;
    return path(name);
  }
  // Runs schedfuzz-export with args, SCHEDFUZZ_* removed from the environment.
  Result run(const std::vector<std::string>& args) {
    const std::string out_path = path(".stdout"), err_path = path(".stderr");
    std::vector<std::string> envs;
    for (char** e = environ; *e; e++)
      if (std::strncmp(*e, "SCHEDFUZZ_", 10) != 0) envs.emplace_back(*e);
    pid_t pid = fork();
    if (pid == 0) {
      int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
      std::string exe = kExport;
      std::vector<std::string> a = args;
      std::vector<char*> argv{exe.data()};
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

TEST_F(ExportTest, Issue38931StwGivesItsKnobAndProgram) {
  Result r = run({"--go", "--bugs=issue38931", "--dir=" + path("out"), kStw});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, std::string("GOMAXPROCS=3\nGOSCHEDFUZZ=") + kStwKnob + "\n");
  EXPECT_EQ(r.err, "");  // everything the trace needs is expressible
  EXPECT_EQ(readFile(path("out/knob.txt")), std::string(kStwKnob) + "\n");
  EXPECT_EQ(readFile(path("out/gomaxprocs.txt")), "3\n");
  EXPECT_EQ(readFile(path("out/go.mod")), "module schedfuzzexport\n\ngo 1.19\n");
  const std::string go = readFile(path("out/main.go"));
  EXPECT_TRUE(contains(go, "package main\n")) << go;
  EXPECT_TRUE(contains(go, "const gomaxprocs = 3\n")) << go;
  // One function main.gK per script: the knob's gK/ names the goroutine by it.
  EXPECT_TRUE(contains(go, "func g0() {\n\t// stw: stopTheWorld + startTheWorld\n\truntime.ReadMemStats(&ms)\n")) << go;
  EXPECT_TRUE(contains(go, "func g1() {\n\truntime.LockOSThread()\n\tatomic.AddInt32(&live, -1)\n")) << go;
  EXPECT_TRUE(contains(go, "func g2() {\n\t// newm: work on the local runq\n\tgo func() {}()\n\truntime.LockOSThread()\n"))
      << go;
  EXPECT_TRUE(contains(go, "\tspawn(0)\n\tspawn(1)\n\tspawn(2)\n\twg.Wait()\n")) << go;
  EXPECT_TRUE(contains(go, std::string("GOSCHEDFUZZ='") + kStwKnob + "'")) << go;
  // Only the standard library.
  EXPECT_FALSE(contains(go, "\"github.com")) << go;
}

TEST_F(ExportTest, OutputIsDeterministic) {
  Result a = run({"--go", "--bugs=issue38931", kStw});
  Result b = run({"--go", "--bugs=issue38931", kStw});
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_TRUE(contains(a.out, std::string("GOSCHEDFUZZ=") + kStwKnob + "\n\n// Code generated by schedfuzz-export"))
      << a.out;
}

TEST_F(ExportTest, EveryOpHasItsGoCall) {
  // Stalls with issue38931 (the two preemptions of the minimal reproducer);
  // g0's later ops are there for the translation.
  std::string f = write("all.txt",
                        "# schedfuzz program v1\ngomaxprocs 1\n"
                        "g0: lock signal(3) wait(3) spin(2) gosched sleep(1) nanosleep(0) syscall(2) syscallblock(1) "
                        "gomaxprocs(1) go(0) newm stw unlock exit\n"
                        "g1: lock\nchoices: preempt+1 preempt+1\n");
  Result r = run({"--go", "--bugs=issue38931", f});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string want =
      "func g0() {\n"
      "\truntime.LockOSThread()\n"
      "\t// signal\n"
      "\tatomic.StoreInt32(&flags[3], 1)\n"
      "\twait(3)\n"
      "\tspin(2)\n"
      "\truntime.Gosched()\n"
      "\ttime.Sleep(40 * time.Microsecond)\n"
      "\tsyscall.Nanosleep(&syscall.Timespec{Nsec: 20000}, nil)\n"
      "\t// syscall: entersyscall, 2 us in the kernel, exitsyscall\n"
      "\tsyscallSteps(2)\n"
      "\t// syscallblock: no user call enters entersyscallblock; a plain syscall\n"
      "\tsyscallSteps(1)\n"
      "\truntime.GOMAXPROCS(2)\n"
      "\tspawn(0)\n"
      "\t// newm: work on the local runq\n"
      "\tgo func() {}()\n"
      "\t// stw: stopTheWorld + startTheWorld\n"
      "\truntime.ReadMemStats(&ms)\n"
      "\truntime.UnlockOSThread()\n"
      "\t// runtime.Goexit\n"
      "\texit()\n";
  EXPECT_TRUE(contains(r.out, want)) << r.out;
  // The first preemption lands in user code before any hookable event: said, not dropped.
  EXPECT_TRUE(contains(r.err, "schedfuzz-export: note: preemption of G3 at user")) << r.err;
  EXPECT_TRUE(contains(r.out, "// note: preemption of G3 at user")) << r.out;
  EXPECT_TRUE(contains(r.out, "GOSCHEDFUZZ=stopm:hold[until=newm_queued@1,timeout=1000ms],g1/template_cas@1:preempt\n"))
      << r.out;
}

TEST_F(ExportTest, SilentBugGetsTheThreadTaintOracle) {
  // #20676: g0 exits locked; its M's handoffp finds no idle M and clones one
  // from the tainted thread. The program taints the locked thread (its name)
  // and checks every unlocked goroutine's; the knob keeps the real runtime's
  // idle Ms away until that thread is gone (mexit).
  const std::string f = std::string(SCHEDFUZZ_SOURCE_DIR) + "/corpus/regressions/issue20676/repro.txt";
  Result r = run({"--go", "--bugs=issue20676", f});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "GOMAXPROCS=1\nGOSCHEDFUZZ=stopm:hold[until=mexit@1,timeout=1000ms]\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "func g0() {\n\tlk := 0\n\tlockTaint(&lk)\n\tcheck(\"g0 op 0\", lk)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "\twg.Wait()\n\tcheck(\"main\", 0)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "exit status 3 and \"TAINT: ...\" is the finding")) << r.out;
  EXPECT_EQ(r.err, "");
  // A hang finding gets no taint code.
  Result hang = run({"--go", "--bugs=issue38931", kStw});
  EXPECT_FALSE(contains(hang.out, "lockTaint")) << hang.out;
  // #20395 needs no schedule at all: said so, and the knob is empty.
  const std::string g = std::string(SCHEDFUZZ_SOURCE_DIR) + "/corpus/regressions/issue20395/repro.txt";
  Result reuse = run({"--go", "--bugs=issue20395", g});
  ASSERT_EQ(reuse.status, 0) << reuse.err;
  EXPECT_TRUE(contains(reuse.out, "GOMAXPROCS=1\nGOSCHEDFUZZ=\n")) << reuse.out;
  EXPECT_TRUE(contains(reuse.err, "note: the knob is empty")) << reuse.err;
}

TEST_F(ExportTest, HoldTimeoutFlag) {
  Result r = run({"--go", "--bugs=issue38931", "--hold-timeout-ms=250", kStw});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "g2/template_cas@1:preempt,")) << r.out;
  EXPECT_FALSE(contains(r.out, "timeout=1000ms")) << r.out;
  EXPECT_TRUE(contains(r.out, "stopm:hold[until=newm_queued@1,timeout=250ms]")) << r.out;
}

TEST_F(ExportTest, BadInputIsAnErrorNamingTheFileAndPosition) {
  std::string f = write("bad.txt", "# schedfuzz program v1\ngomaxprocs 3\ng0: lokc\n");
  Result r = run({"--go", "--bugs=issue38931", f});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "schedfuzz-export: " + f + ":3:5: expected ")) << r.err;
  EXPECT_TRUE(contains(r.err, "'lokc'")) << r.err;
}

TEST_F(ExportTest, NoFindingIsAnError) {
  // The same program on the fixed runtime runs ok: there is no trace of a finding to export.
  Result r = run({"--go", kStw});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, ": not a finding on the fixed runtime (no --bugs): nothing to export")) << r.err;
}

TEST_F(ExportTest, UsageErrors) {
  Result noGo = run({"--bugs=issue38931", kStw});
  EXPECT_EQ(noGo.status, 2);
  EXPECT_TRUE(contains(noGo.err, "expected --go (the only export format")) << noGo.err;
  Result none = run({"--go"});
  EXPECT_EQ(none.status, 2);
  EXPECT_TRUE(contains(none.err, "expected exactly one FILE, found 0")) << none.err;
  Result missing = run({"--go", "--bugs=issue38931", path("nope.txt")});
  EXPECT_EQ(missing.status, 2);
  EXPECT_TRUE(contains(missing.err, "nope.txt")) << missing.err;
  Result bin = run({"--go", "--bugs=issue38931", write("x.bin", std::string("\x01\x02", 2))});
  EXPECT_EQ(bin.status, 2);
  EXPECT_TRUE(contains(bin.err, "--target")) << bin.err;
  Result flag = run({"--go", "--runs=3", kStw});
  EXPECT_EQ(flag.status, 2);
  EXPECT_TRUE(contains(flag.err, "--runs")) << flag.err;
  EXPECT_TRUE(contains(flag.err, "not a flag of schedfuzz-export")) << flag.err;
  Result help = run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "usage: schedfuzz-export --go [flags] FILE")) << help.out;
  EXPECT_TRUE(contains(help.out, "--hold-timeout-ms=MS")) << help.out;
}

}  // namespace
