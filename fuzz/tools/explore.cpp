// fuzz/tools/explore.cpp — schedfuzz-explore: search schedules with a seeded strategy (random walk or PCT) until a finding.
//
// libFuzzer searches the byte space, where the program and its schedule
// mutate together. This tool searches the schedule space of one program (or
// of fresh random programs) with the classic controlled-concurrency
// strategies instead, which is how the #38931 race is found from nothing:
//
//  1. Pick the program: the --program file, or decode 4..64 seeded-random
//     bytes with the target's alphabet and drop the decoded choices and walk
//     (the strategy makes every decision).
//  2. Run it under the strategy wrapped in RecordingChooser. Run i's
//     generators are seeded from (seed, i) alone, so any run can be redone
//     without the runs before it.
//  3. On the first finding, turn the record into a choice stream
//     (RecordingChooser::toChoices), which makes the finding a plain input:
//     the same program, with walk 0 (the policy toChoices encodes against),
//     plus those choices. Replay it with ByteChooser, check
//     that it gives the same verdict kind, write PREFIX.bin / PREFIX.txt, and
//     print the report.
//
// Every run is deterministic; only the wall clock (read between runs, for
// --seconds and exec/s) differs between two invocations. PCT needs the run
// length k: it is measured by one run of the program under the default
// policy (ByteChooser with no entries), once per program.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "fuzz/choosers.h"
#include "fuzz/dfs.h"
#include "fuzz/harness.h"
#include "fuzz/tools/common.h"

namespace schedfuzz::tools {
namespace {

const ToolInfo kTool = {
    "schedfuzz-explore",
    kExplore,
    "--strategy=random|pct|dfs [flags]",
    "Runs a program again and again under a seeded scheduling strategy until a run\n"
    "is a finding. Strategies: random, a random walk (at each scheduling point run a\n"
    "random thread with --switch-prob, at each PreemptPoint preempt with\n"
    "--preempt-prob); pct, PCT (Burckhardt et al., ASPLOS 2010) with --depth, where\n"
    "past 2k scheduling points (k: the run length) the fair default policy takes\n"
    "over, so that a spinning high-priority thread cannot starve the others into a\n"
    "false livelock. The program is --program, or a fresh random program per run\n"
    "(4..64 random bytes decoded with --target's alphabet, lockosthread by default,\n"
    "choices and walk dropped). The first finding becomes a reproducer (the program\n"
    "with walk 0 plus the recorded schedule as a choice stream), is checked by\n"
    "replaying it, and is written to PREFIX.bin and PREFIX.txt. dfs enumerates the\n"
    "schedules of --program with at most --preemptions preemptions, K = 0, 1, ... in\n"
    "turn (the chooser of schedfuzz-verify, fuzz/dfs.h; --seed is unused), so its first\n"
    "finding has the fewest preemptions; DONE then means the bound was exhausted.",
    "\noutput (one event word per line, greppable):\n"
    "  INITED <settings>                          before the first run\n"
    "  #<runs> PULSE <exec/s> exec/s findings 0   every --progress-every runs\n"
    "  FOUND <kind> after <runs> runs, <seconds> s\n"
    "  VERIFIED ... | MISMATCH ...                the reproducer's replay\n"
    "  WROTE <PREFIX>.bin ... <PREFIX>.txt        then the finding's report\n"
    "  DONE <runs> runs, no finding\n"
    "  RESULT strategy=S depth=D seed=S found=0|1 runs=N seconds=T kind=<kind|none>   always last\n"
    "\nexit status: 0 no finding, 1 finding, 2 usage, input or output error (a write to\n"
    "standard output failed), 3 a finding whose reproducer does not replay (MISMATCH: a\n"
    "defect of schedfuzz, please report it).\n",
};

// Counts what PCT needs to know about a run's length.
class CountingChooser final : public Chooser {
 public:
  explicit CountingChooser(Chooser& inner) : inner_(inner) {}
  int chooseThread(const ChoicePoint& cp) override {
    points++;
    return inner_.chooseThread(cp);
  }
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override {
    preempts++;
    return inner_.choosePreempt(step, thread, site);
  }
  void onThreadCreated(int t) override { inner_.onThreadCreated(t); }
  uint64_t points = 0, preempts = 0;

 private:
  Chooser& inner_;
};

// PCT is unfair by design: the highest-priority thread runs whenever it can,
// and the runtime's spin loops (findrunnable's releasep/acquirep, the
// stop-the-world wait) can always run. Without a bound a spinning M starves
// the thread it waits for until the step budget ends the run as a false
// "livelock" (on the fixed runtime, every few hundred runs). PCT's guarantee
// is about the first k steps, so past a horizon of kFairFactor * k points
// this hands the decisions to ByteChooser's fair default policy. It tells the
// policy every choice, so the policy's state matches the one
// RecordingChooser::toChoices replays: the tail costs no choice entries.
class FairTailChooser final : public Chooser {
 public:
  static constexpr uint64_t kFairFactor = 2;
  FairTailChooser(std::unique_ptr<Chooser> inner, uint64_t horizon) : inner_(std::move(inner)), horizon_(horizon) {}
  int chooseThread(const ChoicePoint& cp) override {
    int t = cp.step < horizon_ ? inner_->chooseThread(cp) : policy_.choose(cp);
    policy_.update(t);
    return t;
  }
  void onForced(const ChoicePoint& cp, int chosen) override {
    inner_->onForced(cp, chosen);
    policy_.update(chosen);
  }
  bool choosePreempt(uint64_t step, int thread, gort::Site site) override {
    return inner_->choosePreempt(step, thread, site);
  }
  void onThreadCreated(int t) override { inner_->onThreadCreated(t); }

 private:
  std::unique_ptr<Chooser> inner_;
  uint64_t horizon_;
  DefaultPolicy policy_;
};

struct Calibration {
  uint64_t steps = 1, preempts = 1;
};

// One run under the default policy: how many scheduling points and
// PreemptPoints a fair schedule of p takes.
Calibration calibrate(const Program& p, const RunConfig& cfg) {
  ByteChooser none({});
  CountingChooser counting(none);
  RunConfig c = cfg;
  c.record_trace = false;
  runProgram(p, counting, c);
  return {std::max<uint64_t>(counting.points, 1), std::max<uint64_t>(counting.preempts, 1)};
}

std::unique_ptr<Chooser> makeStrategy(const Options& opts, uint64_t seed, const Calibration& cal) {
  if (opts.strategy == "random") return std::make_unique<RandomWalkChooser>(seed, opts.switch_prob, opts.preempt_prob);
  PctChooser::PreemptOptions po;
  po.expected_preempts = opts.expected_steps ? 0 : cal.preempts;
  const uint64_t k = opts.expected_steps ? opts.expected_steps : cal.steps;
  return std::make_unique<FairTailChooser>(
      std::make_unique<PctChooser>(seed, static_cast<int>(opts.depth), k, po), FairTailChooser::kFairFactor * k);
}

Program randomProgram(uint64_t seed, const Alphabet& alphabet) {
  Rng rng(seed);
  std::vector<uint8_t> bytes(4 + rng.below(61));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.next());
  Program p = decode(bytes, alphabet);
  p.choices.clear();  // the strategy makes every decision
  p.walk = 0;
  return p;
}

int run(int argc, char** argv) {
  Options opts;
  if (!parseCommandLine(kTool, argc, argv, opts)) return 0;
  std::string err;
  if (!opts.strategy_set) usageError(kTool, "--strategy: expected --strategy=random or --strategy=pct (see --help)");
  if (opts.strategy != "random" && opts.strategy != "pct" && opts.strategy != "dfs") {
    usageError(kTool, "--strategy=" + opts.strategy + ": expected random, pct or dfs");
  }
  const bool dfs = opts.strategy == "dfs";
  if (dfs && opts.program.empty()) usageError(kTool, "--strategy=dfs: expected --program=FILE (dfs searches one program)");
  if (!opts.inputs.empty()) {
    usageError(kTool, "unexpected argument '" + opts.inputs[0] + "'; the program is given as --program=FILE");
  }
  RunConfig cfg;
  const Target* target = nullptr;
  if (!runConfig(opts, cfg, err) || !targetFromFlag(opts, target, err)) usageError(kTool, err);
  cfg.record_trace = false;  // a trace is only needed for the report; the finding is re-run with one

  Input fixed;
  bool have_program = !opts.program.empty();
  if (opts.program_set && opts.program.empty()) usageError(kTool, "--program=: expected --program=FILE");
  if (have_program) {
    if (!loadInput(opts.program, target, fixed, err)) usageError(kTool, "--program: " + err);
    target = fixed.target;
  }
  if (target == nullptr) target = findTarget("lockosthread");
  std::string prefix = opts.out_set ? opts.out : "finding";
  if (prefix.empty()) usageError(kTool, "--out=: expected --out=PREFIX");

  Calibration fixed_cal;
  if (have_program && opts.strategy == "pct" && !opts.expected_steps) fixed_cal = calibrate(fixed.program, cfg);

  std::string settings = "strategy=" + opts.strategy;
  if (opts.strategy == "pct") {
    settings += " depth=" + std::to_string(opts.depth) + " expected-steps=" +
                (opts.expected_steps ? std::to_string(opts.expected_steps)
                 : have_program     ? std::to_string(fixed_cal.steps) + " (measured)"
                                    : std::string("measured per program"));
  } else if (dfs) {
    settings += " preemptions=" + std::to_string(opts.preemptions);
  } else {
    char probs[96];
    snprintf(probs, sizeof probs, " switch-prob=%g preempt-prob=%g", opts.switch_prob, opts.preempt_prob);
    settings += probs;
  }
  settings += " seed=" + std::to_string(opts.seed) + " target=" + target->name +
              " program=" + (have_program ? opts.program : std::string("random")) +
              " bugs=" + (cfg.bugs ? bugList(cfg.bugs) : std::string("none")) + (cfg.detectors.strict ? " strict" : "") +
              " runs=" + (opts.runs ? std::to_string(opts.runs) : std::string("unlimited")) +
              " seconds=" + (opts.seconds > 0 ? secondsText(opts.seconds) : std::string("unlimited"));
  printf("INITED %s\n", settings.c_str());
  fflush(stdout);

  auto result = [&](bool found, uint64_t runs, double secs, const std::string& kind) {
    printf("RESULT strategy=%s depth=%" PRIu64 " seed=%" PRIu64 " found=%d runs=%" PRIu64 " seconds=%s kind=%s\n",
           opts.strategy.c_str(), opts.depth, opts.seed, found ? 1 : 0, runs, secondsText(secs).c_str(),
           kind.empty() ? "none" : kind.c_str());
    fflush(stdout);
  };

  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  uint64_t runs = 0;
  // dfs: the search state persists across runs; level k = at most k preemptions.
  uint32_t dfs_level = 0;
  std::unique_ptr<DfsChooser> dfs_state;
  bool dfs_done = false;
  if (dfs) dfs_state = std::make_unique<DfsChooser>(0);
  for (;; runs++) {
    // Between runs: the only place the wall clock is read.
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (opts.progress_every && runs && runs % opts.progress_every == 0) {
      printf("#%" PRIu64 " PULSE %.0f exec/s findings 0\n", runs, elapsed > 0 ? double(runs) / elapsed : 0.0);
      fflush(stdout);
    }
    if (opts.runs && runs >= opts.runs) break;
    if (opts.seconds > 0 && elapsed >= opts.seconds) break;
    if (dfs_done) break;

    Program p = have_program ? fixed.program : randomProgram(mixSeed(opts.seed, runs, 0), target->alphabet);
    Calibration cal = fixed_cal;
    if (!have_program && opts.strategy == "pct" && !opts.expected_steps) cal = calibrate(p, cfg);
    const uint64_t strategy_seed = mixSeed(opts.seed, runs, 1);
    std::unique_ptr<Chooser> strategy = dfs ? nullptr : makeStrategy(opts, strategy_seed, cal);
    if (dfs) dfs_state->begin();
    RecordingChooser rec(dfs ? static_cast<Chooser&>(*dfs_state) : *strategy);
    Outcome o = runProgram(p, rec, cfg);
    std::string kind = findingKind(o, cfg);
    if (dfs && !dfs_state->divergence().empty()) {
      printf("DIVERGENCE %s\n", dfs_state->divergence().c_str());
      result(false, runs + 1, elapsed, "");
      return 3;
    }
    if (kind.empty()) {
      if (dfs && !dfs_state->advance()) {
        if (dfs_level >= opts.preemptions) {
          dfs_done = true;
        } else {
          dfs_state = std::make_unique<DfsChooser>(++dfs_level);
        }
      }
      continue;
    }

    runs++;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    printf("FOUND %s after %" PRIu64 " runs, %s s\n", kind.c_str(), runs, secondsText(elapsed).c_str());
    if (dfs) printf("PREEMPTIONS %u (the fewest of any failing schedule of this program)\n", dfs_state->cost());

    // The reproducer: the same program, steered by the recorded schedule.
    std::optional<std::vector<Choice>> choices = rec.toChoices();
    Program repro = p;
    // toChoices encodes the schedule against the plain default policy (walk
    // 0); a walk would make the points no entry decides go elsewhere.
    repro.walk = 0;
    repro.choices = choices ? *choices : std::vector<Choice>{};
    if (!choices) {
      printf("NOTE the schedule names a thread id above 255, which a choice cannot; replaying without it\n");
    } else if (repro.choices.size() > static_cast<size_t>(kMaxChoices)) {
      // A long run under a high --switch-prob; often the prefix still reproduces.
      printf("NOTE the schedule needs %zu choices, more than an input holds (%d); cut to the first %d\n",
             repro.choices.size(), kMaxChoices, kMaxChoices);
      repro.choices.resize(kMaxChoices);
    }
    Outcome shown;
    Outcome r = replay(repro, cfg, /*record_trace=*/true);
    std::string rkind = findingKind(r, cfg);
    const bool verified = rkind == kind;
    if (verified) {
      printf("VERIFIED the reproducer (%zu choices) replays as %s\n", repro.choices.size(), kind.c_str());
      shown = std::move(r);
    } else {
      printf("MISMATCH the reproducer (%zu choices) replays as '%s', not '%s'\n", repro.choices.size(),
             rkind.empty() ? "ok" : rkind.c_str(), kind.c_str());
    }
    if (!verified && dfs) {
      DfsChooser again = DfsChooser::replaying(dfs_state->schedule());
      again.begin();
      RunConfig traced = cfg;
      traced.record_trace = true;
      shown = runProgram(p, again, traced);
    } else if (!verified) {
      // Show the run as the strategy made it (it is deterministic: redo it with a trace).
      std::unique_ptr<Chooser> again = makeStrategy(opts, strategy_seed, cal);
      RunConfig traced = cfg;
      traced.record_trace = true;
      shown = runProgram(p, *again, traced);
      shown.result.dump = stableAddresses(shown.result.dump);
    }
    writeReproducer(kTool, prefix, repro, *target, shown, cfg);
    result(true, runs, elapsed, kind);
    // A finding whose reproducer does not replay is a defect of the executor
    // or of a strategy (every run must be a pure function of its decisions),
    // never a result: its own exit status.
    return verified ? 1 : 3;
  }
  if (dfs && dfs_done) {
    printf("DONE %" PRIu64 " runs, no finding: every schedule with <= %" PRIu64 " preemptions ran\n", runs,
           opts.preemptions);
  } else {
    printf("DONE %" PRIu64 " runs, no finding\n", runs);
  }
  result(false, runs, elapsed, "");
  return 0;
}

}  // namespace
}  // namespace schedfuzz::tools

int main(int argc, char** argv) {
  return schedfuzz::tools::finishOutput(schedfuzz::tools::kTool, schedfuzz::tools::run(argc, argv));
}
