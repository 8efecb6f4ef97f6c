// fuzz/tools/replay.cpp — schedfuzz-replay: run inputs once under their own choice stream and explain the verdict.
//
// Each FILE is decoded (kInputRule) and run once with
// ByteChooser::forProgram(p), exactly as a fuzz target runs it, on the
// deterministic executor, so the output is a pure function of the
// file, the flags and SCHEDFUZZ_*: the same input prints the same bytes,
// which is what makes a report diffable and a regression pinnable.
#include <cstdio>
#include <string>

#include "fuzz/harness.h"
#include "fuzz/tools/common.h"
#include "fuzz/trace.h"

namespace schedfuzz::tools {
namespace {

const ToolInfo kTool = {
    "schedfuzz-replay",
    kReplay,
    "[flags] FILE...",
    "Runs each FILE once on the deterministic executor, steered by the file's own\n"
    "choices and walk (ByteChooser, as the fuzz targets run it), and prints the\n"
    "program, the verdict (ok, or the finding's kind, message and cause), the\n"
    "interleaving as one column per M and, on a finding, the state of every M, P\n"
    "and G. The same input always prints the same bytes.",
    "\noutput:\n"
    "  per FILE: \"==schedfuzz== replay FILE (...)\", the verdict block (\"verdict: ok\" or\n"
    "  \"verdict: <kind>\" with message, bugs, cause, steps), then the sections\n"
    "  \"-- program --\", \"-- trace ... --\", \"-- state --\" (findings only), \"-- replay --\".\n"
    "  --quiet prints one line per FILE: \"FILE: ok\" or \"FILE: <kind> -- <message>\".\n"
    "\nexit status: 0 every input ran ok, 1 some input is a finding, 2 usage, input or output error\n(a write to standard output failed).\n",
};

// The command that reproduces this output.
std::string replayCommand(const Input& in, const RunConfig& cfg) {
  std::string cmd = "schedfuzz-replay";
  if (!in.text) cmd += std::string(" --target=") + in.target->name;
  if (cfg.bugs) cmd += " --bugs=" + bugList(cfg.bugs);
  if (cfg.detectors.strict) cmd += " --strict";
  return cmd + " " + in.path;
}

std::string describeInput(const Input& in) {
  std::string s = in.text ? "text form" : std::string("binary form, target ") + in.target->name;
  if (!in.text && in.target_origin == "path") s += " (from its path)";
  return s + ", " + std::to_string(in.bytes) + " bytes";
}

// One input: prints its report, returns 0 ok, 1 finding.
int replayOne(const Input& in, const RunConfig& cfg, const Options& opts) {
  Outcome o = replay(in.program, cfg, /*record_trace=*/true);
  std::string kind = findingKind(o, cfg);
  if (opts.quiet) {
    std::string line = in.path + ": " + (kind.empty() ? "ok" : kind + " -- " + o.result.message) + "\n";
    fputs(line.c_str(), stdout);
    return kind.empty() ? 0 : 1;
  }
  std::string out = "==schedfuzz== replay " + in.path + " (" + describeInput(in) + ")\n";
  out += "  verdict: " + (kind.empty() ? std::string("ok") : kind) + "\n";
  if (!kind.empty()) out += "  message: " + o.result.message + "\n";
  out += "  bugs:    " + (cfg.bugs ? bugList(cfg.bugs) : std::string("none (fixed runtime)")) + "\n";
  out += causeLines(o);
  out += "  steps:   " + std::to_string(o.result.steps) + ", virtual time " + std::to_string(o.result.vtime / 1000) +
         " us\n";
  // Latency, not a finding: the longest stretch without an op completing
  // that did end (Go 1.14's own long waits: corpus/fixed-runtime/README.md).
  if (o.result.max_quiet_ns >= 100'000'000) {
    out += "  latency: no op completed for " + std::to_string(o.result.max_quiet_ns / 1000000) +
           " ms of virtual time (quiet mode lets time pass in doubling steps: an upper bound)"
           ", until step " + std::to_string(o.result.max_quiet_end_step) + "\n";
  }
  out += "\n-- program --\n" + toText(in.program);
  if (opts.flat) {
    out += "\n-- trace (one event per line: step, virtual ns, M, event) --\n" + formatFlat(o.trace, o.mids);
  } else {
    ColumnOptions co;
    co.max_rows = opts.full_trace ? 0 : co.max_rows;
    out += "\n-- trace (one column per M; read down) --\n" + formatColumns(o.trace, o.mids, co);
  }
  if (!kind.empty()) out += "\n-- state --\n" + o.result.dump;
  out += "\n-- replay --\n  " + replayCommand(in, cfg) + "\n";
  fwrite(out.data(), 1, out.size(), stdout);
  if (!opts.json.empty()) {
    std::string err;
    JsonRunInfo info;
    info.program = toText(in.program);
    info.bugs = bugList(cfg.bugs);
    info.verdict = kind.empty() ? "ok" : verdictName(o.result.verdict);
    if (!kind.empty() && o.result.verdict == Verdict::kOk) info.verdict = "precursor";  // strict, seen late
    info.kind = kind;
    info.message = o.result.message;
    info.cause = o.precursor;  // Outcome has no separate cause or signature field yet
    info.steps = o.result.steps;
    info.vtime_ns = o.result.vtime;
    if (!writeFile(opts.json, chromeTraceJson(o.trace, o.mids, &info), err)) usageError(kTool, "--json: " + err);
  }
  return kind.empty() ? 0 : 1;
}

int run(int argc, char** argv) {
  Options opts;
  if (!parseCommandLine(kTool, argc, argv, opts)) return 0;
  std::string err;
  RunConfig cfg;
  const Target* target = nullptr;
  if (!runConfig(opts, cfg, err) || !targetFromFlag(opts, target, err)) usageError(kTool, err);
  if (opts.inputs.empty()) usageError(kTool, "expected at least one FILE (see --help)");
  if (opts.json_set && opts.inputs.size() != 1) {
    usageError(kTool, "--json=" + opts.json + ": expected exactly one FILE, found " +
                          std::to_string(opts.inputs.size()));
  }
  if (opts.json_set && opts.json.empty()) usageError(kTool, "--json=: expected --json=FILE");

  bool input_error = false, finding = false;
  for (size_t i = 0; i < opts.inputs.size(); i++) {
    Input in;
    if (!loadInput(opts.inputs[i], target, in, err)) {
      fflush(stdout);
      fprintf(stderr, "%s: %s\n", kTool.name, err.c_str());
      input_error = true;
      continue;
    }
    if (i > 0 && !opts.quiet) fputs("\n", stdout);
    finding |= replayOne(in, cfg, opts) != 0;
    fflush(stdout);
  }
  return input_error ? 2 : finding ? 1 : 0;
}

}  // namespace
}  // namespace schedfuzz::tools

int main(int argc, char** argv) {
  return schedfuzz::tools::finishOutput(schedfuzz::tools::kTool, schedfuzz::tools::run(argc, argv));
}
