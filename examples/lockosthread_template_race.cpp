// examples/lockosthread_template_race.cpp — Go's testprog LockOSThreadTemplateThreadRace on real threads.
//
// A port of src/runtime/testdata/testprog/lockosthread.go from Go commit
// 11b3730a (golang/go#38931): one goroutine stops the world in a loop
// (ReadMemStats) while two goroutines, lined up on a start time 10 ms ahead,
// each queue a goroutine on their local run queue, call LockOSThread for the
// first time in the program's life, and yield. Prints "OK" when both
// LockOSThreads complete. With --bugs=issue38931 it may hang, like Go's
// (about 1% of runs on a 2-core machine); after --timeout-ms it prints "HANG"
// and the runtime's state, and exits 1.
//
//   lockosthread_template_race [--bugs=issue38931] [--timeout-ms=N] [--stress] [--runs=N] [--help]
//
// --runs=N forks one child per run (a hung run's threads cannot be stopped,
// exactly as in Go's test) and prints how many hung.
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/run.h"

namespace {

void templateThreadRace(gort::Runtime& rt) {
  // Ensure enough Ps to actually run everything in parallel. Though on <4
  // core machines, we are still at the whim of the kernel scheduler.
  rt.GOMAXPROCS(4);
  rt.Go([&rt] {
    // Stop the world; race with LockOSThread below.
    for (;;) rt.ReadMemStats();
  });
  // Try to synchronize both LockOSThreads.
  int64_t start = rt.platform().nanotime() + 10'000'000;
  auto* wg = new gort::Runtime::WaitGroup;  // lives as long as the process, like the runtime
  rt.wgAdd(*wg, 2);
  for (int i = 0; i < 2; i++) {
    rt.Go([&rt, wg, start] {
      while (rt.platform().nanotime() < start) rt.UserStep();
      // Add work to the local runq to trigger early startm in handoffp.
      rt.Go([] {});
      rt.LockOSThread();
      rt.Gosched();  // add a preemption point.
      rt.wgDone(*wg);
    });
  }
  rt.wgWait(*wg);
  // If both LockOSThreads completed then we did not hit the race.
  printf("OK\n");
  fflush(stdout);
}

// One run in this process: 0 = OK, 1 = hang (the state is printed).
int runOnce(const gort::Config& cfg, const gort::LinuxPlatform::Options& opts, int64_t timeout_ms) {
  gort::RealRun r = gort::runOnLinux(cfg, templateThreadRace, opts, timeout_ms * 1'000'000);
  if (r.finished) return r.exit_code;
  printf("HANG: no exit after %lld ms\n%s", static_cast<long long>(timeout_ms), r.dump.c_str());
  fflush(stdout);
  return 1;
}

// N runs, one forked child each (a hung run's threads cannot be stopped).
int runMany(const gort::Config& cfg, const gort::LinuxPlatform::Options& opts, int64_t timeout_ms, int runs) {
  int hangs = 0;
  for (int i = 0; i < runs; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 2;
    }
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, 1);
      _exit(runOnce(cfg, opts, timeout_ms));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) hangs++;
  }
  printf("%d runs, %d hung\n", runs, hangs);
  return hangs == 0 ? 0 : 1;
}

const char kUsage[] =
    "usage: %s [--bugs=LIST] [--timeout-ms=N] [--stress] [--runs=N]\n"
    "  Go's testprog LockOSThreadTemplateThreadRace on real threads; prints OK, or HANG and the\n"
    "  runtime's state.\n"
    "  --bugs=LIST      bug switches to re-introduce, e.g. issue38931 (default: none, the fixed runtime)\n"
    "  --timeout-ms=N   a run that has not finished after N ms is a hang; 1..86400000 (a day) [2000]\n"
    "  --stress         yield at random in SyncPoint, to shake the interleavings\n"
    "  --runs=N         N runs, one forked child each; prints how many hung; 1..1000000\n"
    "  --help           print this and exit\n"
    "exit status: 0 every run finished, 1 some run hung, 2 usage error.\n";

// A decimal integer in [lo, hi]: digits only, no sign, no overflow.
bool parseRange(const char* s, long long lo, long long hi, long long& out) {
  if (*s == '\0') return false;
  long long v = 0;
  for (const char* p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    if (v > (hi - (*p - '0')) / 10) return false;  // v * 10 + digit would pass hi
    v = v * 10 + (*p - '0');
  }
  if (v < lo) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gort::Config cfg;
  gort::LinuxPlatform::Options opts;
  long long timeout_ms = 2000;
  long long runs = 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    std::string err;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf(kUsage, argv[0]);
      return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 2;
    } else if (strncmp(a, "--bugs=", 7) == 0) {
      if (!gort::parseBugs(a + 7, cfg.bugs, err)) {
        fprintf(stderr, "%s: argument %d (%s): %s\n", argv[0], i, a, err.c_str());
        return 2;
      }
    } else if (strncmp(a, "--timeout-ms=", 13) == 0) {
      if (!parseRange(a + 13, 1, 86'400'000, timeout_ms)) {
        fprintf(stderr, "%s: argument %d (--timeout-ms): expected milliseconds 1..86400000 (a day), found '%.40s'\n",
                argv[0], i, a + 13);
        return 2;
      }
    } else if (strncmp(a, "--runs=", 7) == 0) {
      if (!parseRange(a + 7, 1, 1'000'000, runs)) {
        fprintf(stderr, "%s: argument %d (--runs): expected a number of runs 1..1000000, found '%.40s'\n", argv[0], i,
                a + 7);
        return 2;
      }
    } else if (strcmp(a, "--stress") == 0) {
      opts.stress = true;
    } else {
      fprintf(stderr, "%s: argument %d: unknown argument '%.40s' (see --help)\n", argv[0], i, a);
      return 2;
    }
  }
  int rc = runs > 0 ? runMany(cfg, opts, timeout_ms, static_cast<int>(runs)) : runOnce(cfg, opts, timeout_ms);
  fflush(stdout);
  _exit(rc);  // the runtime's threads are still around: leave without running destructors
}
