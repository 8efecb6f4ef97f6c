// fuzz/tools/minimize.cpp — schedfuzz-minimize: shrink a finding's program and schedule while it keeps its verdict kind.
//
// libFuzzer's -minimize_crash shrinks bytes and keeps "it still crashes";
// that is too blunt here in two ways. Byte edits of the binary form mostly
// make other programs (a length byte moves every later record), and "still
// crashes" lets a stall turn into a budget livelock or a different invariant.
// So this minimizer edits the Program itself and keeps a change only if the
// run ends with exactly the same kind string ("hang: stall").
//
// Greedy, to a fixpoint; each round runs these passes in order (the big
// cuts first, so the later, finer passes have less left to try):
//   1. drop whole scripts (from the last);
//   2. drop ops: per script, chunks of the whole script, then halves,
//      quarters, ... single ops (delta debugging's complement step);
//   3. drop choice entries the same way, each cut also tried with the
//      removed entries' delays given to the next entry of their kind, so the
//      rest of the schedule stays where it was;
//   4. lower numbers, each to 0, to half, or by one: choice delays (alone,
//      or giving the difference to the next entry of the kind so that the
//      later entries stay where they were), switch targets, op args;
//      gomaxprocs from 1 upwards; the walk (Program::walk) likewise.
// Every candidate is a valid Program (checkProgram with the target's
// alphabet), run once with ByteChooser::forProgram and no trace. Each pass
// only makes the program smaller in (ops, choices, bytes, then its numbers
// in order), so the loop ends. Nothing depends on time or addresses: the same input and flags
// always give the same result, in the same number of candidates.
#include <cinttypes>
#include <filesystem>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/tools/common.h"

namespace schedfuzz::tools {
namespace {

const ToolInfo kTool = {
    "schedfuzz-minimize",
    kMinimize,
    "[flags] FILE",
    "Shrinks a finding: drops scripts, ops and choice entries and lowers delays,\n"
    "switch targets, op args, gomaxprocs and walk, keeping each change only if the\n"
    "run still ends with exactly the same finding kind (\"hang: stall\" stays a\n"
    "stall). Writes PREFIX.bin and PREFIX.txt (or, with --regression=DIR, a\n"
    "regression directory) and prints the sizes before and after and the final\n"
    "report. Deterministic.",
    "\noutput:\n"
    "  INITED FILE (...): <kind>\n"
    "  REDUCE <ops> ops, <choices> choices, <bytes> bytes: <what changed>   per kept change\n"
    "  DONE <candidates> candidates in <rounds> rounds, then before:/after: sizes\n"
    "  WROTE <PREFIX>.bin ... <PREFIX>.txt (or DIR/repro.bin, ...), then the finding's report\n"
    "\nexit status: 0 minimized, 2 usage, input or output error (including an input\n"
    "that does not reproduce a finding, --out naming the input, an existing\n"
    "--regression DIR, a write to standard output that failed).\n",
};

std::string choiceText(const Choice& c) {
  return c.kind == Choice::Kind::kSwitch ? "switch+" + std::to_string(c.delay) + "->t" + std::to_string(c.target)
                                         : "preempt+" + std::to_string(c.delay);
}

std::string instrText(const Instr& i) {
  return opHasArg(i.op) ? std::string(opName(i.op)) + "(" + std::to_string(i.arg) + ")" : opName(i.op);
}

// Smaller values to try for v, smallest first: 0, v/2, v-1.
std::vector<int> lowerValues(int v) {
  std::vector<int> out;
  for (int c : {0, v / 2, v - 1})
    if (c < v && (out.empty() || c > out.back())) out.push_back(c);
  return out;
}

class Minimizer {
 public:
  Minimizer(const Target& target, const RunConfig& cfg, std::string kind, Program start)
      : target_(target), cfg_(cfg), kind_(std::move(kind)), best_(std::move(start)) {
    seen_.insert(encode(best_, target_.alphabet));
  }

  const Program& best() const { return best_; }
  uint64_t candidates() const { return candidates_; }

  // Runs passes until a whole round keeps nothing. Returns the rounds run.
  int run() {
    int rounds = 0;
    for (bool changed = true; changed;) {
      rounds++;
      changed = false;
      changed |= dropScripts();
      changed |= dropOps();
      changed |= dropChoices();
      changed |= lowerDelays();
      changed |= lowerTargets();
      changed |= lowerArgs();
      changed |= lowerGomaxprocs();
      changed |= lowerWalk();
    }
    return rounds;
  }

 private:
  // Keeps c (and says why) iff it is valid, new, and ends with the same kind.
  bool attempt(const Program& c, const std::string& what) {
    if (!checkProgram(c, &target_.alphabet).empty()) return false;
    if (!seen_.insert(encode(c, target_.alphabet)).second) return false;
    candidates_++;
    if (findingKind(replay(c, cfg_, /*record_trace=*/false), cfg_) != kind_) return false;
    best_ = c;
    printf("REDUCE %s: %s\n", sizeLine(best_, target_).c_str(), what.c_str());
    fflush(stdout);
    return true;
  }

  bool dropScripts() {
    bool any = false;
    for (int i = static_cast<int>(best_.scripts.size()) - 1; i >= 0 && best_.scripts.size() > 1; i--) {
      Program c = best_;
      c.scripts.erase(c.scripts.begin() + i);
      any |= attempt(c, "dropped script g" + std::to_string(i));
    }
    return any;
  }

  // Delta debugging over one list: remove chunks of size n, n/2, ..., 1.
  // `size` is the list's length in a Program; `cut(p, b, e)` gives the
  // candidates without elements [b, e) (tried in order, the first kept
  // wins); `name(b, e)` describes the cut.
  template <typename Size, typename Cut, typename Name>
  bool dropChunks(Size size, Cut cut, Name name) {
    bool any = false;
    for (size_t chunk = size(best_); chunk >= 1; chunk /= 2) {
      for (size_t start = 0; start < size(best_);) {
        size_t end = std::min(size(best_), start + chunk);
        bool kept = false;
        for (const auto& [c, how] : cut(best_, start, end)) {
          if ((kept = attempt(c, name(start, end) + how))) break;
        }
        if (kept) any = true;
        else start += chunk;
      }
    }
    return any;
  }

  bool dropOps() {
    bool any = false;
    for (size_t s = 0; s < best_.scripts.size(); s++) {
      any |= dropChunks(
          [s](const Program& p) { return p.scripts[s].ops.size(); },
          [s](const Program& p, size_t b, size_t e) {
            Program c = p;
            auto& ops = c.scripts[s].ops;
            ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(b), ops.begin() + static_cast<std::ptrdiff_t>(e));
            return std::vector<std::pair<Program, std::string>>{{std::move(c), ""}};
          },
          [this, s](size_t b, size_t e) {
            std::string t = "dropped g" + std::to_string(s) + "[" + std::to_string(b) +
                            (e - b > 1 ? ".." + std::to_string(e - 1) : "") + "]:";
            for (size_t i = b; i < e; i++) t += " " + instrText(best_.scripts[s].ops[i]);
            return t;
          });
    }
    return any;
  }

  // Calls of its kind that a choice entry consumes: delay + 1, or 255 for a continuation.
  static int consumed(const Choice& c) { return c.delay == ByteChooser::kContinuation ? 255 : c.delay + 1; }

  // Two candidates per cut: the entries simply removed (every later entry of
  // their kind then fires earlier), and the entries removed with the calls
  // they consumed given to the next entry of the same kind, so that every
  // later entry fires exactly where it did (when that delay still fits
  // below 255).
  bool dropChoices() {
    return dropChunks(
        [](const Program& p) { return p.choices.size(); },
        [](const Program& p, size_t b, size_t e) {
          std::vector<std::pair<Program, std::string>> out;
          Program plain = p;
          plain.choices.erase(plain.choices.begin() + static_cast<std::ptrdiff_t>(b),
                              plain.choices.begin() + static_cast<std::ptrdiff_t>(e));
          Program kept = p;
          bool changed = false, fits = true;
          for (Choice::Kind kind : {Choice::Kind::kSwitch, Choice::Kind::kPreempt}) {
            int gap = 0;
            for (size_t i = b; i < e; i++)
              if (p.choices[i].kind == kind) gap += consumed(p.choices[i]);
            if (gap == 0) continue;
            size_t next = e;
            while (next < p.choices.size() && p.choices[next].kind != kind) next++;
            if (next == p.choices.size()) continue;  // nothing later of this kind to keep in place
            int d = p.choices[next].delay + gap;
            if (p.choices[next].delay == ByteChooser::kContinuation || d >= ByteChooser::kContinuation) {
              fits = false;
              break;
            }
            kept.choices[next].delay = static_cast<uint8_t>(d);
            changed = true;
          }
          out.push_back({std::move(plain), ""});
          if (changed && fits) {
            kept.choices.erase(kept.choices.begin() + static_cast<std::ptrdiff_t>(b),
                               kept.choices.begin() + static_cast<std::ptrdiff_t>(e));
            out.push_back({std::move(kept), " (later entries kept in place)"});
          }
          return out;
        },
        [this](size_t b, size_t e) {
          std::string t = "dropped choice" + std::string(e - b > 1 ? "s " : " ") + std::to_string(b) +
                          (e - b > 1 ? ".." + std::to_string(e - 1) : "") + ":";
          for (size_t i = b; i < e && i < b + 4; i++) t += " " + choiceText(best_.choices[i]);
          if (e - b > 4) t += " ...";
          return t;
        });
  }

  // Lowering entry i's delay moves every later entry of its kind earlier by
  // the same amount; the second try gives that amount to the next entry of
  // the kind, so only entry i moves. (Both make the delay vector
  // lexicographically smaller, so the fixpoint loop still ends.)
  bool lowerDelays() {
    bool any = false;
    for (size_t i = 0; i < best_.choices.size(); i++) {
      const Choice old = best_.choices[i];
      size_t next = i + 1;
      while (next < best_.choices.size() && best_.choices[next].kind != old.kind) next++;
      for (int v : lowerValues(old.delay)) {
        Program c = best_;
        c.choices[i].delay = static_cast<uint8_t>(v);
        std::string what = "choice " + std::to_string(i) + " " + choiceText(old) + " -> " + choiceText(c.choices[i]);
        if (attempt(c, what)) {
          any = true;
          break;
        }
        // A continuation (255) must stay one, and an ordinary delay below it.
        if (next < best_.choices.size() && old.delay != ByteChooser::kContinuation &&
            best_.choices[next].delay + (old.delay - v) < ByteChooser::kContinuation) {
          c.choices[next].delay = static_cast<uint8_t>(best_.choices[next].delay + (old.delay - v));
          if (attempt(c, what + ", choice " + std::to_string(next) + " " + choiceText(best_.choices[next]) + " -> " +
                             choiceText(c.choices[next]))) {
            any = true;
            break;
          }
        }
      }
    }
    return any;
  }

  bool lowerTargets() {
    bool any = false;
    for (size_t i = 0; i < best_.choices.size(); i++) {
      if (best_.choices[i].kind != Choice::Kind::kSwitch) continue;
      for (int v : lowerValues(best_.choices[i].target)) {
        Program c = best_;
        c.choices[i].target = static_cast<uint8_t>(v);
        if (attempt(c, "choice " + std::to_string(i) + " " + choiceText(best_.choices[i]) + " -> " +
                           choiceText(c.choices[i]))) {
          any = true;
          break;
        }
      }
    }
    return any;
  }

  bool lowerArgs() {
    bool any = false;
    for (size_t s = 0; s < best_.scripts.size(); s++) {
      for (size_t i = 0; i < best_.scripts[s].ops.size(); i++) {
        const Instr ins = best_.scripts[s].ops[i];
        if (!opHasArg(ins.op)) continue;
        for (int v : lowerValues(ins.arg)) {
          Program c = best_;
          c.scripts[s].ops[i].arg = static_cast<uint8_t>(v);
          if (attempt(c, "g" + std::to_string(s) + "[" + std::to_string(i) + "] " + instrText(ins) + " -> " +
                             instrText(c.scripts[s].ops[i]))) {
            any = true;
            break;
          }
        }
      }
    }
    return any;
  }

  bool lowerGomaxprocs() {
    for (int g = 1; g < best_.gomaxprocs; g++) {
      Program c = best_;
      c.gomaxprocs = g;
      if (attempt(c, "gomaxprocs " + std::to_string(best_.gomaxprocs) + " -> " + std::to_string(g))) return true;
    }
    return false;
  }

  // The walk default policy (Program::walk) off, or slower.
  bool lowerWalk() {
    for (int v : lowerValues(best_.walk)) {
      Program c = best_;
      c.walk = v;
      if (attempt(c, "walk " + std::to_string(best_.walk) + " -> " + std::to_string(v))) return true;
    }
    return false;
  }

  const Target& target_;
  RunConfig cfg_;
  std::string kind_;
  Program best_;
  uint64_t candidates_ = 0;
  std::set<std::vector<uint8_t>> seen_;  // encodings already run (every candidate is in the target's alphabet)
};

// FILE without a .txt/.bin extension, plus ".min".
std::string defaultPrefix(const std::string& path) {
  std::string p = path;
  for (const char* ext : {".txt", ".bin"}) {
    size_t n = std::char_traits<char>::length(ext);
    if (p.size() > n && p.compare(p.size() - n, n, ext) == 0) {
      p.resize(p.size() - n);
      break;
    }
  }
  return p + ".min";
}

// --regression=DIR: DIR must not exist, and its name up to the first '-'
// must be the one bug switch the run has on (tests/regressions_test.cpp
// derives the switch from the name).
bool checkRegressionDir(const std::string& dir, const RunConfig& cfg, std::string& bug, std::string& error) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) {
    error = "--regression=" + dir + ": expected a new directory, but it exists (remove it or pick another name)";
    return false;
  }
  std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  bug = name.substr(0, name.find('-'));
  uint32_t bits = 0;
  std::string err;
  if (!gort::parseBugs(bug, bits, err) || bits == 0) {
    error = "--regression=" + dir + ": expected a directory name that starts with a bug switch (then '-' and a "
            "variant), e.g. issue38931-mine: " + err;
    return false;
  }
  if (cfg.bugs != bits) {
    error = "--regression=" + dir + ": expected the run's bug switches (--bugs or SCHEDFUZZ_BUGS) to be exactly " +
            bug + ", as the directory name says; found " + (cfg.bugs ? bugList(cfg.bugs) : std::string("none"));
    return false;
  }
  return true;
}

int run(int argc, char** argv) {
  Options opts;
  if (!parseCommandLine(kTool, argc, argv, opts)) return 0;
  std::string err;
  RunConfig cfg;
  const Target* target = nullptr;
  if (!runConfig(opts, cfg, err) || !targetFromFlag(opts, target, err)) usageError(kTool, err);
  if (opts.inputs.size() != 1) {
    usageError(kTool, "expected exactly one FILE, found " + std::to_string(opts.inputs.size()) + " (see --help)");
  }
  if (opts.out_set && opts.out.empty()) usageError(kTool, "--out=: expected --out=PREFIX");
  if (opts.regression_set && opts.regression.empty()) usageError(kTool, "--regression=: expected --regression=DIR");
  if (opts.regression_set && opts.out_set) usageError(kTool, "--out and --regression: expected one of them");
  Input in;
  if (!loadInput(opts.inputs[0], target, in, err)) usageError(kTool, err);
  // A binary input may hold what checkProgram rejects only through the
  // decoder's clamps, which never happens; a text one was checked on load.
  const std::string prefix = opts.out_set ? opts.out : defaultPrefix(in.path);
  std::string regression_bug;  // --regression: the one switch DIR's name starts with
  if (opts.regression_set) {
    if (!checkRegressionDir(opts.regression, cfg, regression_bug, err)) usageError(kTool, err);
  } else {
    // The input is what a person has; a result must never replace it.
    for (const char* ext : {".bin", ".txt"}) {
      if (sameFile(prefix + ext, in.path)) {
        usageError(kTool, "--out=" + prefix + ": expected a prefix whose " + ext + " is not the input " + in.path +
                              " itself (it would be overwritten); choose another --out");
      }
    }
  }

  Outcome first = replay(in.program, cfg, /*record_trace=*/false);
  const std::string kind = findingKind(first, cfg);
  if (kind.empty()) {
    usageError(kTool, in.path + ": input does not reproduce a finding (it runs ok with bugs=" +
                          (cfg.bugs ? bugList(cfg.bugs) : std::string("none")) +
                          (cfg.detectors.strict ? ", strict" : "") + "; wrong --bugs?)");
  }
  const std::string before = sizeLine(in.program, *in.target);
  printf("INITED %s (%s, target %s): %s\n  before: %s\n", in.path.c_str(), in.text ? "text form" : "binary form",
         in.target->name, kind.c_str(), before.c_str());
  fflush(stdout);

  Minimizer m(*in.target, cfg, kind, in.program);
  int rounds = m.run();
  const Program& best = m.best();
  printf("DONE %" PRIu64 " candidates in %d rounds\n  before: %s\n  after:  %s\n", m.candidates(), rounds,
         before.c_str(), sizeLine(best, *in.target).c_str());

  std::vector<uint8_t> bin = encode(best, in.target->alphabet);
  Outcome last = replay(best, cfg, /*record_trace=*/true);
  std::string report_path = prefix + ".txt";
  if (opts.regression_set) {
    // What tests/regressions_test.cpp checks, checked before anything is written.
    RunConfig fixed = cfg;
    fixed.bugs = 0;
    const std::string fixed_kind = findingKind(replay(best, fixed, /*record_trace=*/false), fixed);
    if (!fixed_kind.empty()) {
      fflush(stdout);
      usageError(kTool, "--regression=" + opts.regression + ": the minimized input is also a finding (" + fixed_kind +
                            ") on the fixed runtime, so it is no regression test of " + regression_bug +
                            "; nothing written");
    }
    std::string kind_line = kind;
    if (kind == "throw") kind_line += ": " + last.result.message;  // the regression test's kind for throws
    std::string text = toText(best);
    const std::string comment = "# " + regression_bug + ": " + kind_line + "\n# Minimized by schedfuzz-minimize from " +
                                in.path + " (" + before + " -> " + sizeLine(best, *in.target) + ").\n";
    text.insert(text.find('\n') + 1, comment);
    std::error_code ec;
    std::filesystem::create_directories(opts.regression, ec);
    if (ec) {
      fflush(stdout);
      usageError(kTool, "--regression=" + opts.regression + ": cannot create: " + ec.message());
    }
    const std::string dir = opts.regression + "/";
    if (!writeFile(dir + "repro.bin", std::string(bin.begin(), bin.end()), err) ||
        !writeFile(dir + "repro.txt", text, err) ||
        !writeFile(dir + "expected.txt", kind_line + "\ntarget: " + in.target->name + "\n", err)) {
      fflush(stdout);
      usageError(kTool, "--regression: " + err);
    }
    printf("WROTE %srepro.bin (%zu bytes, target %s), %srepro.txt and %sexpected.txt (%s)\n", dir.c_str(),
           bin.size(), in.target->name, dir.c_str(), dir.c_str(), kind_line.c_str());
    report_path = dir + "repro.txt";
  } else {
    if (!writeFile(prefix + ".bin", std::string(bin.begin(), bin.end()), err) ||
        !writeFile(prefix + ".txt", toText(best), err)) {
      fflush(stdout);
      usageError(kTool, "--out: " + err);
    }
    printf("WROTE %s.bin (%zu bytes, target %s) and %s.txt\n", prefix.c_str(), bin.size(), in.target->name,
           prefix.c_str());
  }
  ReportOptions ro;
  ro.target = in.target->fuzzer;
  ro.input_path = report_path;
  std::string report = formatReport(best, last, cfg, ro);
  fwrite(report.data(), 1, report.size(), stdout);
  return 0;
}

}  // namespace
}  // namespace schedfuzz::tools

int main(int argc, char** argv) {
  return schedfuzz::tools::finishOutput(schedfuzz::tools::kTool, schedfuzz::tools::run(argc, argv));
}
