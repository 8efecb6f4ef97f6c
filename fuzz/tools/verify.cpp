// fuzz/tools/verify.cpp — schedfuzz-verify: every schedule of one program with at most K preemptions, or the failing one with the fewest.
//
// schedfuzz-explore samples schedules; this tool enumerates them (fuzz/dfs.h):
//
//  1. Load PROGRAM (a reproducer or a corpus file) and drop its choices and
//     walk: the search makes every decision.
//  2. Iterative deepening: for K = 0, 1, ..., --preemptions, run every
//     schedule with at most K preemptions, depth first (DfsChooser), with
//     --jobs processes each taking a disjoint part of the level.
//  3. The first level with a failing schedule ends the search: that schedule
//     has the fewest preemptions of any failing one (every schedule with fewer
//     was run at a lower level and passed). It is re-run under
//     RecordingChooser, encoded as a choice stream like schedfuzz-explore's
//     findings, replayed with ByteChooser to check it, written to
//     PREFIX.bin/.txt and reported.
//  4. Otherwise: "verified: no failure in N schedules with <= K preemptions",
//     unless --max-schedules cut a level (then it says so: not verified).
//
// Runs are deterministic; the wall clock is read only between runs (progress,
// schedules/s). With --jobs=1 the reported schedule is the first failing one
// in DFS order; with more jobs it is the first one some job found (the same
// K either way).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "fuzz/choosers.h"
#include "fuzz/dfs.h"
#include "fuzz/harness.h"
#include "fuzz/tools/common.h"

namespace schedfuzz::tools {
namespace {

const ToolInfo kTool = {
    "schedfuzz-verify",
    kVerify,
    "--preemptions=K [flags] PROGRAM",
    "Runs every schedule of PROGRAM with at most K preemptions (a switch away from\n"
    "a thread that could continue, or an injected preemption request), K = 0, 1, ...\n"
    "in turn (iterative context bounding: Musuvathi and Qadeer, PLDI 2007), depth\n"
    "first. PROGRAM's choices and walk are ignored: the search makes every decision.\n"
    "The first failing schedule found has the fewest preemptions of any: it is\n"
    "written as a reproducer (PREFIX.bin and PREFIX.txt) with its report. Otherwise\n"
    "the program is verified: no schedule with <= K preemptions fails. No partial-order\n"
    "reduction: every answer sequence within the bound runs (fuzz/dfs.h says why).",
    "\noutput (one event word per line, greppable):\n"
    "  INITED <settings>                                      before the first run\n"
    "  #<n> PULSE K=<k> <schedules/s> schedules/s explored <total>   every --progress-every runs\n"
    "  LEVEL K=<k> schedules=<n> new=<m> seconds=<t> schedules/s=<r> complete=0|1   (new: cost exactly k)\n"
    "  FOUND <kind> with <k> preemptions after <n> schedules, <t> s\n"
    "  VERIFIED ... | MISMATCH ...                            the reproducer's replay\n"
    "  WROTE <PREFIX>.bin ... <PREFIX>.txt                    then the finding's report\n"
    "  verified: no failure in <n> schedules with <= <K> preemptions (...)\n"
    "  NOT VERIFIED: ...                                      a level was cut by --max-schedules\n"
    "  RESULT found=0|1 verified=0|1 preemptions=<K|k> schedules=<n> seconds=<t> kind=<kind|none>   always last\n"
    "\nexit status: 0 no finding (verified, or cut: see the line), 1 finding, 2 usage,\n"
    "input or output error, 3 a finding whose reproducer does not replay, or a run\n"
    "that did not replay its own prefix (a defect of schedfuzz, please report it).\n",
};

using Clock = std::chrono::steady_clock;

// What one level (of one job) reports to the parent.
struct LevelReport {
  VerifyLevel level;
  bool found = false;
  std::string kind;
  uint32_t cost = 0;
  std::vector<DfsStep> schedule;
  std::string divergence;
};

std::string serialize(const LevelReport& r) {
  std::ostringstream os;
  os << r.level.schedules << ' ' << r.level.new_schedules << ' ' << r.level.max_decisions << ' '
     << (r.level.complete ? 1 : 0) << ' ' << (r.found ? 1 : 0) << ' ' << r.cost << ' ' << r.schedule.size();
  for (const DfsStep& s : r.schedule) os << ' ' << s.decision << ' ' << s.pick;
  os << '\n' << r.kind << '\n' << r.divergence << '\n';
  return os.str();
}

bool deserialize(const std::string& text, LevelReport& r) {
  std::istringstream is(text);
  int complete = 0, found = 0;
  size_t n = 0;
  if (!(is >> r.level.schedules >> r.level.new_schedules >> r.level.max_decisions >> complete >> found >> r.cost >> n))
    return false;
  r.level.complete = complete != 0;
  r.found = found != 0;
  r.schedule.resize(n);
  for (DfsStep& s : r.schedule)
    if (!(is >> s.decision >> s.pick)) return false;
  is.ignore(1);
  std::getline(is, r.kind);
  std::getline(is, r.divergence);
  return true;
}

LevelReport runLevel(const Program& p, const RunConfig& cfg, uint32_t k, uint64_t max_schedules, uint32_t jobs,
                     uint32_t job, uint64_t progress_every, uint64_t explored_before, Clock::time_point start) {
  VerifyOptions vo;
  vo.min_bound = vo.max_bound = k;
  vo.max_schedules = max_schedules;
  vo.jobs = jobs;
  vo.job = job;
  if (progress_every) {
    vo.progress = [&](uint64_t n, uint32_t level) {
      if (n % progress_every == 0) {
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        const uint64_t total = explored_before + n * jobs;  // an estimate with jobs > 1
        printf("#%" PRIu64 " PULSE K=%u %.0f schedules/s explored %s%" PRIu64 "%s\n", total, level,
               secs > 0 ? double(total) / secs : 0.0, jobs > 1 ? "~" : "", total,
               jobs > 1 ? (" (job " + std::to_string(job) + ")").c_str() : "");
        fflush(stdout);
      }
      return true;
    };
  }
  VerifyResult vr = verifyProgram(p, cfg, vo);
  LevelReport r;
  if (!vr.levels.empty()) r.level = vr.levels.back();
  r.level.bound = k;
  r.found = vr.found;
  r.kind = vr.kind;
  r.cost = vr.found_cost;
  r.schedule = vr.schedule;
  r.divergence = vr.divergence;
  return r;
}

// One level split over `jobs` child processes; the reports merged.
bool runLevelForked(const Program& p, const RunConfig& cfg, uint32_t k, uint64_t max_schedules, uint32_t jobs,
                    uint64_t progress_every, uint64_t explored_before, Clock::time_point start, LevelReport& merged,
                    std::string& err) {
  std::vector<pid_t> pids(jobs);
  std::vector<int> fds(jobs);
  fflush(stdout);
  for (uint32_t j = 0; j < jobs; j++) {
    int pipefd[2];
    if (pipe(pipefd) != 0) {
      err = std::string("pipe: ") + strerror(errno);
      return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
      err = std::string("fork: ") + strerror(errno);
      return false;
    }
    if (pid == 0) {
      close(pipefd[0]);
      const uint64_t share = max_schedules ? (max_schedules + jobs - 1) / jobs : 0;
      LevelReport r = runLevel(p, cfg, k, share, jobs, j, progress_every, explored_before, start);
      std::string s = serialize(r);
      size_t off = 0;
      while (off < s.size()) {
        ssize_t w = write(pipefd[1], s.data() + off, s.size() - off);
        if (w <= 0) _exit(4);
        off += size_t(w);
      }
      fflush(stdout);
      _exit(0);
    }
    close(pipefd[1]);
    pids[j] = pid;
    fds[j] = pipefd[0];
  }
  merged = LevelReport{};
  merged.level.bound = k;
  merged.level.complete = true;
  bool ok = true;
  for (uint32_t j = 0; j < jobs; j++) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[j], buf, sizeof buf)) > 0) text.append(buf, size_t(n));
    close(fds[j]);
    int status = 0;
    waitpid(pids[j], &status, 0);
    LevelReport r;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !deserialize(text, r)) {
      err = "job " + std::to_string(j) + " of level K=" + std::to_string(k) + " failed (status " +
            std::to_string(status) + ")";
      ok = false;
      continue;
    }
    merged.level.schedules += r.level.schedules;
    merged.level.new_schedules += r.level.new_schedules;
    merged.level.max_decisions = std::max(merged.level.max_decisions, r.level.max_decisions);
    merged.level.complete = merged.level.complete && (r.level.complete || r.found);
    if (merged.divergence.empty() && !r.divergence.empty()) merged.divergence = r.divergence;
    if (!merged.found && r.found) {  // the lowest job's finding: stable for a given J
      merged.found = true;
      merged.kind = r.kind;
      merged.cost = r.cost;
      merged.schedule = r.schedule;
    }
  }
  return ok;
}

int run(int argc, char** argv) {
  Options opts;
  if (!parseCommandLine(kTool, argc, argv, opts)) return 0;
  std::string err;
  if (opts.inputs.size() != 1) {
    usageError(kTool, opts.inputs.empty() ? "expected one PROGRAM file (see --help)"
                                          : "expected one PROGRAM file, got " + std::to_string(opts.inputs.size()));
  }
  RunConfig cfg;
  const Target* target = nullptr;
  if (!runConfig(opts, cfg, err) || !targetFromFlag(opts, target, err)) usageError(kTool, err);
  Input in;
  if (!loadInput(opts.inputs[0], target, in, err)) usageError(kTool, err);
  target = in.target;
  Program p = in.program;
  const size_t dropped = p.choices.size();
  p.choices.clear();
  p.walk = 0;
  std::string prefix = opts.out_set ? opts.out : "finding";
  if (prefix.empty()) usageError(kTool, "--out=: expected --out=PREFIX");
  const uint32_t K = static_cast<uint32_t>(opts.preemptions);
  const uint32_t jobs = static_cast<uint32_t>(opts.jobs);

  printf("INITED preemptions=%u jobs=%u max-schedules=%s target=%s program=%s bugs=%s%s (%zu choices%s dropped)\n", K,
         jobs, opts.max_schedules ? std::to_string(opts.max_schedules).c_str() : "unlimited", target->name,
         opts.inputs[0].c_str(), cfg.bugs ? bugList(cfg.bugs).c_str() : "none", cfg.detectors.strict ? " strict" : "",
         dropped, in.program.walk ? " and its walk" : "");
  fflush(stdout);

  const Clock::time_point start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  if (opts.estimate) {
    // Sizing a search before running it (fuzz/dfs.h, estimateLevel).
    for (uint32_t k = 0; k <= K; k++) {
      const double t0 = elapsed();
      const LevelEstimate e = estimateLevel(p, cfg, k, opts.estimate, opts.seed);
      const double secs = elapsed() - t0;
      const double rate = secs > 0 ? double(e.probes) / secs : 0.0;
      printf("ESTIMATE K=%u schedules=%.4g stderr=%.2g probes=%" PRIu64 " decisions/run=%.0f runs/s=%.0f "
             "cpu-hours=%.3g\n",
             k, e.schedules, e.std_error, e.probes, e.mean_decisions, rate,
             rate > 0 ? e.schedules / rate / 3600 : 0.0);
      fflush(stdout);
    }
    printf("RESULT found=0 verified=0 preemptions=%u schedules=0 seconds=%s kind=none\n", K,
           secondsText(elapsed()).c_str());
    return 0;
  }
  uint64_t total = 0;
  bool all_complete = true;
  std::string cut;
  auto result = [&](bool found, bool verified, uint32_t k, const std::string& kind) {
    printf("RESULT found=%d verified=%d preemptions=%u schedules=%" PRIu64 " seconds=%s kind=%s\n", found ? 1 : 0,
           verified ? 1 : 0, k, total, secondsText(elapsed()).c_str(), kind.empty() ? "none" : kind.c_str());
    fflush(stdout);
  };
  for (uint32_t k = 0; k <= K; k++) {
    const double level_start = elapsed();
    LevelReport r;
    if (jobs == 1) {
      r = runLevel(p, cfg, k, opts.max_schedules, 1, 0, opts.progress_every, total, start);
    } else if (!runLevelForked(p, cfg, k, opts.max_schedules, jobs, opts.progress_every, total, start, r, err)) {
      fprintf(stderr, "%s: %s\n", kTool.name, err.c_str());
      return 2;
    }
    total += r.level.schedules;
    const double secs = elapsed() - level_start;
    printf("LEVEL K=%u schedules=%" PRIu64 " new=%" PRIu64 " seconds=%s schedules/s=%.0f complete=%d\n", k,
           r.level.schedules, r.level.new_schedules, secondsText(secs).c_str(),
           secs > 0 ? double(r.level.schedules) / secs : 0.0, r.level.complete && !r.found ? 1 : 0);
    fflush(stdout);
    if (!r.divergence.empty()) {
      printf("DIVERGENCE %s\n", r.divergence.c_str());
      result(false, false, k, "");
      return 3;
    }
    if (r.found) {
      printf("FOUND %s with %u preemptions after %" PRIu64 " schedules, %s s\n", r.kind.c_str(), r.cost, total,
             secondsText(elapsed()).c_str());
      // The reproducer: the same program, steered by the recorded schedule.
      DfsChooser again = DfsChooser::replaying(r.schedule);
      RecordingChooser rec(again);
      again.begin();
      RunConfig quiet = cfg;
      quiet.record_trace = false;
      Outcome o = runProgram(p, rec, quiet);
      std::optional<std::vector<Choice>> choices = rec.toChoices();
      Program repro = p;
      repro.choices = choices ? *choices : std::vector<Choice>{};
      if (!choices) {
        printf("NOTE the schedule names a thread id above 255, which a choice cannot; replaying without it\n");
      } else if (repro.choices.size() > static_cast<size_t>(kMaxChoices)) {
        printf("NOTE the schedule needs %zu choices, more than an input holds (%d); cut to the first %d\n",
               repro.choices.size(), kMaxChoices, kMaxChoices);
        repro.choices.resize(kMaxChoices);
      }
      Outcome shown = replay(repro, cfg, /*record_trace=*/true);
      const std::string again_kind = dfsFindingKind(o, cfg);
      const std::string rkind = findingKind(shown, cfg);
      const bool verified = rkind == r.kind && again_kind == r.kind;
      if (verified) {
        printf("VERIFIED the reproducer (%zu choices) replays as %s\n", repro.choices.size(), r.kind.c_str());
      } else {
        printf("MISMATCH the reproducer (%zu choices) replays as '%s' (the schedule re-run: '%s'), not '%s'\n",
               repro.choices.size(), rkind.empty() ? "ok" : rkind.c_str(),
               again_kind.empty() ? "ok" : again_kind.c_str(), r.kind.c_str());
      }
      writeReproducer(kTool, prefix, repro, *target, shown, cfg);
      result(true, false, r.cost, r.kind);
      return verified ? 1 : 3;
    }
    if (!r.level.complete) {
      all_complete = false;
      cut = "level K=" + std::to_string(k) + " cut after " + std::to_string(r.level.schedules) +
            " schedules (--max-schedules)";
      break;
    }
  }
  if (all_complete) {
    printf("verified: no failure in %" PRIu64 " schedules with <= %u preemptions (program %s, bugs %s%s; every "
           "schedule of K = 0..%u: thread choices and preemption requests, quiet-mode points forced)\n",
           total, K, opts.inputs[0].c_str(), cfg.bugs ? bugList(cfg.bugs).c_str() : "none",
           cfg.detectors.strict ? ", strict" : "", K);
  } else {
    printf("NOT VERIFIED: %s; no failure in the %" PRIu64 " schedules run\n", cut.c_str(), total);
  }
  result(false, all_complete, K, "");
  return 0;
}

}  // namespace
}  // namespace schedfuzz::tools

int main(int argc, char** argv) {
  return schedfuzz::tools::finishOutput(schedfuzz::tools::kTool, schedfuzz::tools::run(argc, argv));
}
