// fuzz/harness.h — run a Program against gort on the deterministic executor, and report findings.
//
// One call of runProgram is one execution: a fresh gort::Runtime on a fresh
// SimPlatform, driven by a Chooser, with the detectors checked at every
// scheduling point. Nothing survives from one execution to the next (stacks
// are pooled process-wide, which is invisible to the run).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fuzz/delay_detectors.h"
#include "fuzz/detectors.h"
#include "fuzz/program.h"
#include "fuzz/sim/executor.h"
#include "runtime/runtime.h"

namespace schedfuzz {

struct RunConfig {
  uint32_t bugs = 0;        // gort::Bug bits
  DetectorOptions detectors;
  bool record_trace = true;
  uint64_t step_budget = 0; // 0: stepBudget(program)
  // A spare trace vector whose capacity the run reuses (moved from; the
  // Outcome's trace is it afterwards). The fuzz targets keep one across runs.
  std::vector<TraceEvent>* trace_buffer = nullptr;
  // Tests only: called with the run's Runtime before it starts (a test's
  // Chooser may then plant a state violation at a chosen point).
  std::function<void(gort::Runtime&)> on_runtime;
  // Strict mode also runs the delay detectors (fuzz/delay_detectors.h) with these bounds.
  DelayOptions delay;
  bool plant_no_wakep = false;  // tests only: gort::Config::plant_no_wakep
  bool early_worldsema_release = false;  // tests only: gort::Config::early_worldsema_release
};

struct Outcome {
  RunResult result;
  std::string precursor;        // first liveness precursor, "" if none
  uint64_t precursor_step = 0;
  std::vector<TraceEvent> trace;
  std::vector<int> mids;
  // For a finding (or a precursor in strict mode), computed by runProgram
  // from the runtime state at the end of the run (fuzz/cause.h): the culprit
  // state in one line, and the stable signature "<class>/<culprit>"
  // (fuzz/signature.h). Both "" when there is nothing to report.
  std::string cause;
  std::string signature;
  // Invariant check families run and skipped at scheduling points (the
  // incremental checks, fuzz/detectors.h; for tests and benchmarks).
  uint64_t families_checked = 0, families_skipped = 0;
  // Strict mode: the most fair rounds the delay detectors' conditions held
  // in one stretch (0 otherwise): how close the run came to a delay finding.
  uint64_t max_work_conservation_rounds = 0;
  uint64_t max_stw_latency_rounds = 0;
  int64_t max_work_conservation_ns = 0;
  bool finding() const { return result.verdict != Verdict::kOk; }
};

Outcome runProgram(const Program& p, Chooser& chooser, const RunConfig& cfg);

// The report's header lines about the culprit: "  cause:   ...\n" and
// "  signature: ...\n" ("" for an outcome without either). formatReport and
// schedfuzz-replay print them alike.
std::string causeLines(const Outcome& o);

// The dump with every hex address ("0x7ffc9654996c", which ASLR changes from
// process to process) replaced by "addr#N", N counting distinct addresses in
// order of first appearance: so a report is the same bytes in every process.
// runProgram applies it to RunResult::dump.
std::string stableDumpAddresses(const std::string& dump);

// Bug switch names ("issue38931,..."), "" for none.
std::string bugList(uint32_t bugs);

// The whole report a finding prints: kind, bug switches, cause, signature,
// the program (text form), the column trace, the state dump (addresses as
// addr#N), and a one-line replay command. The same outcome gives the same bytes.
struct ReportOptions {
  std::string target;       // e.g. "lockosthread_fuzzer"
  std::string input_path;   // for the replay line; "" if unknown
  size_t max_trace_rows = 60;
  bool full_trace = false;
};
std::string formatReport(const Program& p, const Outcome& o, const RunConfig& cfg, const ReportOptions& ro);

// Feed an execution's interleaving to libFuzzer as extra coverage: pairs of
// consecutive protocol events on different Ms or goroutines (a preemption
// keyed by its site), each counter set to 1 if the pair occurred, plus the
// verdict and whether a liveness precursor was seen.
void interleavingFeatures(const Outcome& o, uint8_t* counters, size_t n);

// Configuration from the environment, shared by every target and tool:
// SCHEDFUZZ_BUGS (comma-separated gort::Bug names), SCHEDFUZZ_STRICT=1,
// SCHEDFUZZ_NO_INVARIANTS=1, SCHEDFUZZ_FULL_CHECKS=1 (no incremental checks:
// the same verdicts, for comparison). Returns false with a one-line error.
bool configFromEnv(RunConfig& cfg, std::string& error);

}  // namespace schedfuzz
