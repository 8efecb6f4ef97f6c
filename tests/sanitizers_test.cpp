// tests/sanitizers_test.cpp — ThreadSanitizer and AddressSanitizer see through the executor's fibers.
//
// Under the deterministic executor every M is a fiber on one OS thread. These
// tests prove that the sanitizers still check gort as if its Ms were threads:
//
//  * SanitizerPlanted (a TSan or ASan build configured with
//    -DSCHEDFUZZ_PLANTED_DEFECTS=ON; skipped otherwise): a planted defect,
//    switched on by GORT_PLANT in a child process (schedfuzz-replay of a small
//    program, as a person or CI would run it), is reported, naming the gort
//    function; the same program without the plant runs clean.
//      race (TSan): goschedImpl puts the G on the global run queue without
//        sched.lock. Reported only because the executor switches Ms with
//        no-sync: with SCHEDFUZZ_TSAN_SYNC=1 (synchronising switches) the
//        same run is silent, which the test also pins.
//      uaf (ASan): mexit frees its M while allms still lists it; the next
//        invariant check reads the freed M.
//  * SanitizerNoSync (every build; the checks differ): under TSan the
//    executor's thread switches are no-sync and everything else is not
//    (the runtime's g0 <-> goroutine switches see the flag clear), and a
//    plain write shared by two threads with no synchronisation is reported
//    (in a child: this binary re-executed on SanitizerChild.*), and not with
//    SCHEDFUZZ_TSAN_SYNC=1. Without TSan no-sync mode is off.
//  * SanitizerChild: the child bodies; skipped unless SCHEDFUZZ_SANITIZER_CHILD
//    is set (only the tests above set it).
//
// The children inherit TSAN_OPTIONS / ASAN_OPTIONS (e.g. the ctest presets'),
// minus every SCHEDFUZZ_* and GORT_PLANT variable unless a test sets it.
//
// CI: ctest counts a skipped test as passed, so a planted-defect job sets
// SCHEDFUZZ_REQUIRE_PLANTED=1: the planted test of the build's sanitizer then
// fails, instead of skipping, if the build lacks SCHEDFUZZ_PLANTED_DEFECTS.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_files.h"

#include "fuzz/choosers.h"
#include "fuzz/sim/executor.h"
#include "runtime/fiber.h"
#include "runtime/runtime.h"
#include "runtime/sanitizers.h"

extern char** environ;

namespace schedfuzz {
namespace {

namespace fs = std::filesystem;

#if defined(GORT_PLANTED_DEFECTS) && GORT_PLANTED_DEFECTS
constexpr bool kPlanted = true;
#else
constexpr bool kPlanted = false;
#endif
constexpr bool kTsan = GORT_TSAN_ENABLED;
constexpr bool kAsan = GORT_ASAN_ENABLED;

const std::string kReplayTool = std::string(SCHEDFUZZ_BINARY_DIR) + "/fuzz/tools/schedfuzz-replay";

// Four goroutines that yield 8 times each on 4 Ps, walk 8 (a seeded random
// default policy): Ms keep putting Gs on the global run queue
// (goschedImpl) and taking them off (findrunnable, schedule), each under
// sched.lock, on different Ms.
const char* const kGoschedProgram =
    "# schedfuzz program v1\n"
    "gomaxprocs 4\n"
    "walk 8\n"
    "g0: gosched gosched gosched gosched gosched gosched gosched gosched\n"
    "g1: gosched gosched gosched gosched gosched gosched gosched gosched\n"
    "g2: gosched gosched gosched gosched gosched gosched gosched gosched\n"
    "g3: gosched gosched gosched gosched gosched gosched gosched gosched\n";

// Four goroutines that exit while locked to their thread, on 2 Ps: Ms other
// than m0 exit (mexit; under the default policy M2 exits at step 96).
const char* const kLockedExitProgram =
    "# schedfuzz program v1\n"
    "gomaxprocs 2\n"
    "g0: lock\n"
    "g1: lock\n"
    "g2: lock\n"
    "g3: lock\n";

struct Result {
  int status = -1;  // exit status, or -1 if the process did not exit normally
  std::string out, err;
};

// SCHEDFUZZ_REQUIRE_PLANTED=1: this run must exercise the planted defects.
bool requirePlanted() {
  const char* e = std::getenv("SCHEDFUZZ_REQUIRE_PLANTED");
  return e != nullptr && *e != '\0' && std::strcmp(e, "0") != 0;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string readFile(const std::string& path) {
  std::string out;
  schedfuzz::testing::readFile(path, out);  // "" if unreadable, as the callers expect
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::path(::testing::TempDir()) / "schedfuzz-sanitizers-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  bool ok() const { return !dir_.empty(); }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream f(path(name), std::ios::binary);
    f << content;
    return path(name);
  }

 private:
  std::string dir_;
};

// Runs exe with args, its stdout and stderr captured, in an environment
// without SCHEDFUZZ_* and GORT_PLANT, plus `env`.
Result run(const TempDir& dir, const std::string& exe, const std::vector<std::string>& args,
           const std::vector<std::string>& env) {
  std::string out_path = dir.path(".stdout"), err_path = dir.path(".stderr");
  std::vector<std::string> envs;
  for (char** e = environ; *e; e++)
    if (std::strncmp(*e, "SCHEDFUZZ_", 10) != 0 && std::strncmp(*e, "GORT_PLANT=", 11) != 0) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv, envp;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (std::string& s : envs) envp.push_back(s.data());
  envp.push_back(nullptr);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
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

Result replay(const TempDir& dir, const char* program, const std::vector<std::string>& env) {
  std::string f = dir.write("program.txt", program);
  return run(dir, kReplayTool, {"--quiet", f}, env);
}

// This test binary, re-executed on one SanitizerChild test.
Result runChild(const TempDir& dir, const std::string& child, const std::vector<std::string>& env) {
  std::vector<std::string> e = env;
  e.push_back("SCHEDFUZZ_SANITIZER_CHILD=" + child);
  return run(dir, fs::read_symlink("/proc/self/exe").string(), {"--gtest_filter=SanitizerChild.*"}, e);
}

// ---------------------------------------------------------------------------
// SanitizerPlanted

TEST(SanitizerPlanted, TsanReportsTheUnlockedGlobalRunQueueWrite) {
  if (!kTsan) GTEST_SKIP() << "needs a ThreadSanitizer build";
  if (!kPlanted) {
    if (requirePlanted()) FAIL() << "SCHEDFUZZ_REQUIRE_PLANTED is set but this build lacks -DSCHEDFUZZ_PLANTED_DEFECTS=ON";
    GTEST_SKIP() << "needs -DSCHEDFUZZ_PLANTED_DEFECTS=ON";
  }
  TempDir dir;
  ASSERT_TRUE(dir.ok());

  Result planted = replay(dir, kGoschedProgram, {"GORT_PLANT=race"});
  EXPECT_NE(planted.status, 0) << planted.out << planted.err;
  EXPECT_TRUE(contains(planted.err, "WARNING: ThreadSanitizer: data race")) << planted.err;
  EXPECT_TRUE(contains(planted.err, "gort::Runtime::globrunqput")) << planted.err;
  EXPECT_TRUE(contains(planted.err, "gort::Runtime::goschedImpl")) << planted.err;

  // The same run without the plant: clean.
  Result clean = replay(dir, kGoschedProgram, {});
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;
  EXPECT_TRUE(contains(clean.out, ": ok\n")) << clean.out;
  EXPECT_FALSE(contains(clean.err, "ThreadSanitizer")) << clean.err;

  // The plant with synchronising switches: TSan sees the Ms as one
  // serialized thread and cannot report it. No-sync mode is what finds it.
  Result sync = replay(dir, kGoschedProgram, {"GORT_PLANT=race", "SCHEDFUZZ_TSAN_SYNC=1"});
  EXPECT_EQ(sync.status, 0) << sync.out << sync.err;
  EXPECT_FALSE(contains(sync.err, "ThreadSanitizer")) << sync.err;
}

TEST(SanitizerPlanted, AsanReportsTheUseOfAnExitedMAfterFree) {
  if (!kAsan) GTEST_SKIP() << "needs an AddressSanitizer build";
  if (!kPlanted) {
    if (requirePlanted()) FAIL() << "SCHEDFUZZ_REQUIRE_PLANTED is set but this build lacks -DSCHEDFUZZ_PLANTED_DEFECTS=ON";
    GTEST_SKIP() << "needs -DSCHEDFUZZ_PLANTED_DEFECTS=ON";
  }
  TempDir dir;
  ASSERT_TRUE(dir.ok());

  Result planted = replay(dir, kLockedExitProgram, {"GORT_PLANT=uaf"});
  EXPECT_NE(planted.status, 0) << planted.out << planted.err;
  EXPECT_TRUE(contains(planted.err, "ERROR: AddressSanitizer: heap-use-after-free")) << planted.err;
  // Freed by the planted code in mexit ...
  EXPECT_TRUE(contains(planted.err, "gort::Runtime::mexit")) << planted.err;
  // ... and allocated as an M.
  EXPECT_TRUE(contains(planted.err, "gort::Runtime::newM")) << planted.err;

  Result clean = replay(dir, kLockedExitProgram, {});
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;
  EXPECT_TRUE(contains(clean.out, ": ok\n")) << clean.out;
  EXPECT_FALSE(contains(clean.err, "AddressSanitizer")) << clean.err;
}

// ---------------------------------------------------------------------------
// SanitizerNoSync

// Two plain threads on the executor, each passing SyncPoints; records
// whether any thread code ever saw the no-sync flag set.
struct TwoThreads {
  SimPlatform* p = nullptr;
  std::atomic<bool> saw_flag{false};
  std::atomic<uint32_t> done{0};
};

void twoThreadsBody(TwoThreads& t) {
  for (int i = 0; i < 20; i++) {
    if (gort::fiberSwitchNoSync()) t.saw_flag.store(true);
    t.p->syncPoint(gort::Site::user_shared);
  }
  if (gort::fiberSwitchNoSync()) t.saw_flag.store(true);
}

TEST(SanitizerNoSync, OnlyTheExecutorsThreadSwitchesAreNoSync) {
  if (kTsan && !defaultTsanNoSync()) GTEST_SKIP() << "SCHEDFUZZ_TSAN_SYNC is set: synchronising switches requested";
  TwoThreads t;
  RandomWalkChooser c(7, 0.5, 0.0);
  SimPlatform p(c);
  t.p = &p;
  RunResult r = p.run(
      +[](void* a, gort::Fiber*) {
        TwoThreads& t = *static_cast<TwoThreads*>(a);
        t.p->newosproc(
            1,
            +[](void* a, gort::Fiber*) {
              TwoThreads& t = *static_cast<TwoThreads*>(a);
              twoThreadsBody(t);
              t.done.store(1);
              t.p->futexwakeup(&t.done, 1);
            },
            &t);
        twoThreadsBody(t);
        while (t.done.load() == 0) t.p->futexsleep(&t.done, 0, -1);
        t.p->exitProcess(0);
      },
      &t);
  ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
  EXPECT_EQ(p.tsanNoSync(), kTsan);
  if (kTsan) {
    EXPECT_GT(p.noSyncSwitches(), 5u);
  } else {
    EXPECT_EQ(p.noSyncSwitches(), 0u);
  }
  // Thread code (and so the runtime's own g0 <-> goroutine switches) never
  // runs with the flag set, and run() leaves it clear.
  EXPECT_FALSE(t.saw_flag.load());
  EXPECT_FALSE(gort::fiberSwitchNoSync());
}

// The same for the runtime: goroutine code on every M sees the flag clear.
TEST(SanitizerNoSync, GoroutinesRunWithSynchronisingSwitches) {
  RandomWalkChooser c(11, 0.3, 0.05);
  SimPlatform p(c);
  gort::Config cfg;
  cfg.gomaxprocs = 3;
  gort::Runtime rt(p, cfg);
  std::atomic<bool> saw_flag{false};
  std::atomic<int> ran{0};
  rt.setMain([&] {
    gort::Runtime::WaitGroup wg;
    rt.wgAdd(wg, 3);
    for (int k = 0; k < 3; k++) {
      rt.Go([&] {
        for (int i = 0; i < 5; i++) {
          if (gort::fiberSwitchNoSync()) saw_flag.store(true);
          rt.Gosched();
          rt.UserStep();
        }
        ran.fetch_add(1);
        rt.wgDone(wg);
      });
    }
    rt.wgWait(wg);
  });
  RunResult r = p.run(&gort::Runtime::m0Entry, &rt);
  ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(saw_flag.load());
  if (kTsan && defaultTsanNoSync()) {
    EXPECT_GT(p.noSyncSwitches(), 0u);
  }
}

TEST(SanitizerNoSync, TsanSeesAPlainWriteSharedByTwoThreads) {
  if (!kTsan) GTEST_SKIP() << "needs a ThreadSanitizer build";
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Result nosync = runChild(dir, "plainrace", {});
  EXPECT_NE(nosync.status, 0) << nosync.out << nosync.err;
  EXPECT_TRUE(contains(nosync.err, "WARNING: ThreadSanitizer: data race")) << nosync.err;
  EXPECT_TRUE(contains(nosync.err, "plainRaceWrite")) << nosync.err;

  Result sync = runChild(dir, "plainrace", {"SCHEDFUZZ_TSAN_SYNC=1"});
  EXPECT_EQ(sync.status, 0) << sync.out << sync.err;
  EXPECT_FALSE(contains(sync.err, "ThreadSanitizer")) << sync.err;
  EXPECT_TRUE(contains(sync.out, "[  PASSED  ] 1 test")) << sync.out;
}

// ---------------------------------------------------------------------------
// SanitizerChild

bool isChild(const char* which) {
  const char* e = std::getenv("SCHEDFUZZ_SANITIZER_CHILD");
  return e != nullptr && std::strcmp(e, which) == 0;
}

// Thread 0 starts thread 1, then both write `shared` with no
// synchronisation between the two writes (thread 1 starts before thread 0's
// write; the `done` handshake orders only what comes after it).
struct PlainRace {
  SimPlatform* p = nullptr;
  int shared = 0;
  std::atomic<uint32_t> done{0};
};

__attribute__((noinline)) void plainRaceWrite(PlainRace& r, int v) {
  r.shared = v;
  r.p->syncPoint(gort::Site::user_shared);
}

TEST(SanitizerChild, PlainRace) {
  if (!isChild("plainrace")) GTEST_SKIP() << "run by SanitizerNoSync.TsanSeesAPlainWriteSharedByTwoThreads";
  PlainRace pr;
  ByteChooser c({});
  SimPlatform p(c);
  pr.p = &p;
  RunResult r = p.run(
      +[](void* a, gort::Fiber*) {
        PlainRace& pr = *static_cast<PlainRace*>(a);
        pr.p->newosproc(
            1,
            +[](void* a, gort::Fiber*) {
              PlainRace& pr = *static_cast<PlainRace*>(a);
              plainRaceWrite(pr, 2);
              pr.done.store(1);
              pr.p->futexwakeup(&pr.done, 1);
            },
            &pr);
        plainRaceWrite(pr, 1);
        while (pr.done.load() == 0) pr.p->futexsleep(&pr.done, 0, -1);
        pr.p->exitProcess(pr.shared);
      },
      &pr);
  ASSERT_EQ(r.verdict, Verdict::kOk) << r.message;
  EXPECT_EQ(r.exit_code, 2);  // thread 0 wrote first (the default policy keeps it running)
}

}  // namespace
}  // namespace schedfuzz
