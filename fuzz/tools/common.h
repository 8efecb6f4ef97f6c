// fuzz/tools/common.h — what schedfuzz-replay, -explore and -minimize share: flags, targets, input loading.
//
// Flags are declared once, in SCHEDFUZZ_TOOL_FLAGS below (the way libFuzzer
// declares its own in FuzzerFlags.def): the Options struct, the parser, the
// range checks and every tool's --help all come from that one table. Each
// entry says which tools accept it, so a flag means the same thing in every
// tool that has it.
//
// Errors are for people: every one names the flag (with the argument number)
// or the file (with a byte offset for the binary form, line:col for the text
// form) and says what was expected. Tools print them as "<tool>: <error>" and
// exit with status 2, as they do when writing standard output fails.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "fuzz/program.h"

namespace schedfuzz::tools {

// Which tools accept a flag (a bit set).
enum ToolBit : unsigned {
  kReplay = 1u << 0,
  kExplore = 1u << 1,
  kMinimize = 1u << 2,
  kExport = 1u << 3,
  kVerify = 1u << 4,
  kAllTools = kReplay | kExplore | kMinimize | kExport | kVerify,
};

// X(name, Type, default, min, max, tools, metavar, help)
//   name: a C identifier; on the command line '_' is written '-'.
//   Type: Bool (--name or --name=0/1), UInt, Double, String.
//   min/max: the accepted range of a UInt or Double (ignored otherwise).
#define SCHEDFUZZ_TOOL_FLAGS(X)                                                                          \
  X(help, Bool, false, 0, 0, kAllTools, "", "print this help and exit")                                  \
  X(target, String, "", 0, 0, kAllTools, "T",                                                            \
    "fuzz target whose op alphabet binary inputs use: lockosthread, sched or world "                    \
    "(also lockosthread_fuzzer, sched_fuzzer, world_fuzzer); see 'inputs' below")                                      \
  X(bugs, String, "", 0, 0, kAllTools, "LIST",                                                           \
    "comma-separated bug switches to re-introduce (replaces SCHEDFUZZ_BUGS; --bugs= for none)")          \
  X(strict, Bool, false, 0, 0, kAllTools, "",                                                            \
    "a liveness precursor is a finding by itself (overrides SCHEDFUZZ_STRICT)")                          \
  X(full_trace, Bool, false, 0, 0, kReplay, "", "print every trace row (default: the last 60)")          \
  X(flat, Bool, false, 0, 0, kReplay, "",                                                                \
    "print the trace one event per line (formatFlat) instead of in columns")                             \
  X(json, String, "", 0, 0, kReplay, "FILE",                                                             \
    "also write the trace as Chrome trace event JSON (Perfetto); one input only")                        \
  X(quiet, Bool, false, 0, 0, kReplay, "", "print only one verdict line per input")                      \
  X(strategy, String, "", 0, 0, kExplore, "random|pct|dfs", "scheduling strategy (required)")            \
  X(depth, UInt, 3, 1, 64, kExplore, "D", "PCT bug depth d: d-1 priority change points")                 \
  X(seed, UInt, 1, 0, UINT64_MAX, kExplore | kVerify, "S", "seed; run i uses a generator seeded from (S, i) (verify: for --estimate)")      \
  X(runs, UInt, 10000, 0, UINT64_MAX, kExplore, "N", "stop after N runs (0: no limit)")                  \
  X(seconds, Double, 0.0, 0, 1e9, kExplore, "T",                                                         \
    "stop after T seconds of wall-clock time, read between runs (0: no limit)")                          \
  X(program, String, "", 0, 0, kExplore, "FILE",                                                         \
    "run this program every time (default: a fresh random program per run)")                            \
  X(switch_prob, Double, 0.1, 0, 1, kExplore, "P",                                                      \
    "random: chance of running a random thread at each scheduling point")                                \
  X(preempt_prob, Double, 0.1, 0, 1, kExplore, "P",                                                     \
    "random: chance of injecting a preemption at each PreemptPoint")                                     \
  X(expected_steps, UInt, 0, 0, UINT64_MAX, kExplore, "K",                                               \
    "pct: the run length k the change points are drawn from (0: measure it with one run under the "      \
    "default policy)")                                                                                   \
  X(progress_every, UInt, 1000, 0, UINT64_MAX, kExplore | kVerify, "N",                                  \
    "print a PULSE line every N runs (0: never)")                                                        \
  X(preemptions, UInt, 2, 0, 64, kExplore | kVerify, "K",                                               \
    "dfs/verify: explore every schedule with at most K preemptions (preemptive switches plus injected "  \
    "preemption requests), K = 0, 1, ... in turn")                                                       \
  X(max_schedules, UInt, 0, 0, UINT64_MAX, kVerify, "N",                                                 \
    "stop a level after N schedules (0: no limit); a cut level is reported as not verified")            \
  X(jobs, UInt, 1, 1, 256, kVerify, "J", "split each level's schedules over J processes")              \
  X(estimate, UInt, 0, 0, UINT64_MAX, kVerify, "N",                                                      \
    "do not search: estimate each level's number of schedules (K = 0..--preemptions) from N random "    \
    "probes (Knuth's estimator), and the time it would take at the probes' rate")                       \
  X(out, String, "", 0, 0, kExplore | kMinimize | kVerify, "PREFIX",                                               \
    "write the reproducer to PREFIX.bin and PREFIX.txt (explore: 'finding', or 'finding-N' if an "       \
    "earlier run's files are there; minimize: FILE without .txt/.bin, plus '.min'; never FILE itself)")  \
  X(regression, String, "", 0, 0, kMinimize, "DIR",                                                      \
    "write a regression directory instead: DIR/repro.bin, repro.txt, expected.txt (README, 'Writing "    \
    "and adding a reproducer'); DIR's name starts with the one bug switch --bugs names, e.g. "           \
    "corpus/regressions/issue38931-mine; DIR must not exist")                                           \
  X(go, Bool, false, 0, 0, kExport, "",                                                                  \
    "export the finding as a Go program and a GOSCHEDFUZZ knob for the real Go runtime (realgo/README.md)") \
  X(dir, String, "", 0, 0, kExport, "DIR",                                                               \
    "write main.go, go.mod, knob.txt (GOSCHEDFUZZ) and gomaxprocs.txt into DIR (created if missing); "   \
    "default: print them to standard output")                                                           \
  X(hold_timeout_ms, UInt, 1000, 1, 600000, kExport, "MS",                                               \
    "timeout= of every hold the knob asks for, in ms")

#define SCHEDFUZZ_FLAG_CTYPE_Bool bool
#define SCHEDFUZZ_FLAG_CTYPE_UInt uint64_t
#define SCHEDFUZZ_FLAG_CTYPE_Double double
#define SCHEDFUZZ_FLAG_CTYPE_String std::string

// Every flag's value, and whether the command line set it.
struct Options {
#define SCHEDFUZZ_FLAG_FIELD(name, type, dflt, lo, hi, tools, meta, help) \
  SCHEDFUZZ_FLAG_CTYPE_##type name = dflt;                                \
  bool name##_set = false;
  SCHEDFUZZ_TOOL_FLAGS(SCHEDFUZZ_FLAG_FIELD)
#undef SCHEDFUZZ_FLAG_FIELD
  std::vector<std::string> inputs;  // the positional arguments, in order
};

struct ToolInfo {
  const char* name;     // "schedfuzz-replay"
  unsigned bit;         // kReplay, ...
  const char* usage;    // "[flags] FILE..."
  const char* summary;  // a paragraph: what the tool does
  const char* extra;    // tool-specific help after the flag list (output, exit status)
};

// Parses argv into opts. On an error returns false with `error` naming the
// flag, its argument number and what was expected.
bool parseFlags(const ToolInfo& tool, int argc, char** argv, Options& opts, std::string& error);
// The --help text: usage, summary, the tool's flags from the table, the
// environment, the input-loading rule, then tool.extra.
std::string helpText(const ToolInfo& tool);

// Prints "<tool>: <error>" to stderr and exits with status 2.
[[noreturn]] void usageError(const ToolInfo& tool, const std::string& error);

// Every tool's start: parseFlags (an error is a usageError), then --help.
// Returns false when --help was given: the help text is printed and the
// tool returns 0.
bool parseCommandLine(const ToolInfo& tool, int argc, char** argv, Options& opts);

// Seconds with three decimals, for the tools' machine-readable lines.
std::string secondsText(double s);

// The fuzz targets a binary input can belong to.
struct Target {
  const char* name;    // "lockosthread"
  const char* fuzzer;  // "lockosthread_fuzzer": the fuzz target's (and corpus directory's) name
  Alphabet alphabet;
};
const std::vector<Target>& targets();  // narrowest alphabet first
// "lockosthread", "sched", "world", or one of those with "_fuzzer"; nullptr otherwise.
const Target* findTarget(const std::string& name);
// The target a path names: a directory component "lockosthread_fuzzer",
// "sched_fuzzer" or "world_fuzzer", or "corpus/<name>..." (checked on the absolute path);
// nullptr if none.
const Target* targetFromPath(const std::string& path);

// The flag's target (--target), or nullptr if unset. False and `error` if
// the name is unknown.
bool targetFromFlag(const Options& opts, const Target*& target, std::string& error);

// A loaded input file (see kInputRule).
struct Input {
  std::string path;
  bool text = false;
  const Target* target = nullptr;  // for text: the target it is written for (never null after load)
  std::string target_origin;       // "--target", "path", or "fits" (text only: narrowest alphabet that holds it)
  size_t bytes = 0;                // file size
  Program program;
};

// The loading rule, as --help states it.
extern const char* const kInputRule;

// Loads `path` by kInputRule. `flag_target` is --target (or nullptr). Errors
// name the file and the position: "f.txt:3:7: expected ...", or
// "f.bin: byte 0: binary input needs --target ...".
bool loadInput(const std::string& path, const Target* flag_target, Input& in, std::string& error);

// The run configuration: SCHEDFUZZ_* from the environment (configFromEnv),
// then --bugs and --strict on top.
bool runConfig(const Options& opts, RunConfig& cfg, std::string& error);

// The finding's kind ("hang: stall", "invariant: P accounting", ...), or ""
// if the run is not a finding under cfg.
std::string findingKind(const Outcome& o, const RunConfig& cfg);

// One execution of p under ByteChooser::forProgram(p) (its choices, then the
// default policy its walk selects), as a fuzz target runs it; its dump made
// stable (stableAddresses).
Outcome replay(const Program& p, const RunConfig& cfg, bool record_trace);

// stableDumpAddresses (fuzz/harness.h); runProgram's dumps are stable already,
// so this is a no-op on them (kept for dumps from elsewhere).
std::string stableAddresses(const std::string& dump);

// Writes bytes to path; false and `error` ("cannot write PATH: reason") on failure.
bool writeFile(const std::string& path, const std::string& bytes, std::string& error);

// Whether a and b name the same existing file (same device and inode, so
// "./x", "dir/../x" and a hard link all match). False if either is missing.
bool sameFile(const std::string& a, const std::string& b);

// `prefix` if neither PREFIX.bin nor PREFIX.txt exists, else the first of
// PREFIX-1, PREFIX-2, ... for which neither does: an earlier run's reproducer
// is never overwritten.
std::string freshPrefix(const std::string& prefix);

// A finding's reproducer: writes PREFIX.bin (repro in target's alphabet) and
// PREFIX.txt under freshPrefix(prefix) (a NOTE line if the name moved), a
// WROTE line, then the full report of `shown` (its run with a trace) with
// PREFIX.txt as the input to replay. A write error is a usage error of `tool`
// (--out). explore and verify end a finding with it.
void writeReproducer(const ToolInfo& tool, const std::string& prefix, const Program& repro, const Target& target,
                     const Outcome& shown, const RunConfig& cfg);

// The end of every tool's main: flushes standard output and, if any write to
// it failed (a full disk, a closed pipe, /dev/full), says so on stderr and
// turns `rc` into 2. Output that silently went nowhere is not success.
int finishOutput(const ToolInfo& tool, int rc);

// Counts for before/after lines: "5 ops, 3 choices, 12 bytes" (bytes of the
// binary form in target's alphabet).
size_t opCount(const Program& p);
std::string sizeLine(const Program& p, const Target& target);

// A 64-bit mix of (seed, index, stream) for per-run generators (splitmix64's
// finalizer), so run i of seed S is reproducible without running 0..i-1.
uint64_t mixSeed(uint64_t seed, uint64_t index, uint64_t stream);

}  // namespace schedfuzz::tools
