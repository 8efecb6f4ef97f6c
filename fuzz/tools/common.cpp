// fuzz/tools/common.cpp — flag parsing and help from the flag table, targets, input loading.
#include "fuzz/tools/common.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>

#include <sys/stat.h>

#include "fuzz/choosers.h"
#include "runtime/runtime.h"

namespace schedfuzz::tools {

namespace {

enum class FlagType { Bool, UInt, Double, String };

struct FlagInfo {
  const char* name;  // C identifier; '_' is '-' on the command line
  FlagType type;
  const char* dflt;  // the default as written in the table
  double lo, hi;
  unsigned tools;
  const char* meta;
  const char* help;
};

// The flag table, as data.
const FlagInfo kFlags[] = {
#define SCHEDFUZZ_FLAG_INFO(name, type, dflt, lo, hi, tools, meta, help) \
  {#name, FlagType::type, #dflt, double(lo), double(hi), tools, meta, help},
    SCHEDFUZZ_TOOL_FLAGS(SCHEDFUZZ_FLAG_INFO)
#undef SCHEDFUZZ_FLAG_INFO
};

// Where each flag's value and "set" bit live in an Options.
struct FlagSlot {
  void* value;
  bool* set;
};
std::vector<FlagSlot> slots(Options& o) {
  return {
#define SCHEDFUZZ_FLAG_SLOT(name, type, dflt, lo, hi, tools, meta, help) {&o.name, &o.name##_set},
      SCHEDFUZZ_TOOL_FLAGS(SCHEDFUZZ_FLAG_SLOT)
#undef SCHEDFUZZ_FLAG_SLOT
  };
}

std::string cliName(const char* name) {
  std::string s = name;
  for (char& c : s)
    if (c == '_') c = '-';
  return s;
}

// Levenshtein distance, for "did you mean" on unknown flags.
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) row[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string formatNumber(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) snprintf(buf, sizeof buf, "%.0f", v);
  else snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string rangeText(const FlagInfo& f) {
  bool unbounded = f.hi >= 1.8e19;
  if (f.type == FlagType::UInt) {
    return unbounded ? std::string("an integer >= ") + formatNumber(f.lo)
                     : "an integer " + formatNumber(f.lo) + ".." + formatNumber(f.hi);
  }
  return "a number " + formatNumber(f.lo) + ".." + formatNumber(f.hi);
}

// Parses `value` into the slot. False and `what` (the expectation) on error.
bool setValue(const FlagInfo& f, const FlagSlot& s, const std::string& value, bool has_value, std::string& what) {
  switch (f.type) {
    case FlagType::Bool:
      if (!has_value || value == "1" || value == "true") {
        *static_cast<bool*>(s.value) = true;
      } else if (value == "0" || value == "false") {
        *static_cast<bool*>(s.value) = false;
      } else {
        what = "expected no value, 1 or 0, found " + quoteToken(value);
        return false;
      }
      return true;
    case FlagType::UInt: {
      const char* p = value.c_str();
      char* end = nullptr;
      errno = 0;
      unsigned long long v = (*p >= '0' && *p <= '9') ? strtoull(p, &end, 10) : 0;
      if (!has_value || value.empty() || end == nullptr || *end || errno == ERANGE ||
          double(v) < f.lo || (f.hi < 1.8e19 && double(v) > f.hi)) {
        what = "expected " + rangeText(f) + ", found " + (has_value ? quoteToken(value) : std::string("no value"));
        return false;
      }
      *static_cast<uint64_t*>(s.value) = v;
      return true;
    }
    case FlagType::Double: {
      const char* p = value.c_str();
      char* end = nullptr;
      double v = (*p == '.' || (*p >= '0' && *p <= '9')) ? strtod(p, &end) : NAN;
      if (!has_value || value.empty() || end == nullptr || *end || !(v >= f.lo && v <= f.hi)) {
        what = "expected " + rangeText(f) + ", found " + (has_value ? quoteToken(value) : std::string("no value"));
        return false;
      }
      *static_cast<double*>(s.value) = v;
      return true;
    }
    case FlagType::String:
      if (!has_value) {
        what = std::string("expected --") + cliName(f.name) + "=" + f.meta;
        return false;
      }
      *static_cast<std::string*>(s.value) = value;
      return true;
  }
  return false;
}

}  // namespace

const char* const kInputRule =
    "A FILE whose content starts with \"# schedfuzz program\" is the text form\n"
    "(a UTF-8 BOM and blank space before it are allowed; the line must be\n"
    "\"# schedfuzz program v1\"; docs/schedule-format.md, \"Text form\"); errors name\n"
    "FILE:line:col. Any other\n"
    "FILE is the binary form, whose op bytes are read through a target's alphabet:\n"
    "--target=T, or else the target its path names (a directory lockosthread_fuzzer/,\n"
    "sched_fuzzer/ or world_fuzzer/, or corpus/<target>...); otherwise it is an error (\"binary\n"
    "input needs --target\"). A text program runs the same under any target; the\n"
    "target only decides the alphabet of a .bin written from it: --target, else the\n"
    "path's, else the first alphabet holding all its ops (lockosthread, sched, world).\n";

bool parseFlags(const ToolInfo& tool, int argc, char** argv, Options& opts, std::string& error) {
  std::vector<FlagSlot> sl = slots(opts);
  bool flags_done = false;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      opts.inputs.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h") arg = "--help";
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    bool has_value = eq != std::string::npos;
    std::string value = has_value ? body.substr(eq + 1) : "";
    std::string where = " (argument " + std::to_string(i) + ")";
    size_t idx = 0;
    for (; idx < std::size(kFlags); idx++)
      if (cliName(kFlags[idx].name) == name) break;
    if (idx == std::size(kFlags)) {
      error = "--" + name + where + ": unknown flag";
      // The nearest flag this tool has, if it is close.
      size_t best = 3;
      std::string guess;
      for (const FlagInfo& f : kFlags) {
        if (!(f.tools & tool.bit)) continue;
        size_t d = editDistance(name, cliName(f.name));
        if (d < best) best = d, guess = cliName(f.name);
      }
      if (!guess.empty()) error += "; did you mean --" + guess + "?";
      error += " (see --help)";
      return false;
    }
    const FlagInfo& f = kFlags[idx];
    if (!(f.tools & tool.bit)) {
      error = "--" + name + where + ": not a flag of " + tool.name + " (see --help)";
      return false;
    }
    std::string what;
    if (!setValue(f, sl[idx], value, has_value, what)) {
      error = arg + where + ": " + what;
      return false;
    }
    *sl[idx].set = true;
  }
  return true;
}

std::string helpText(const ToolInfo& tool) {
  std::string out = std::string("usage: ") + tool.name + " " + tool.usage + "\n\n" + tool.summary + "\n\nflags:\n";
  for (const FlagInfo& f : kFlags) {
    if (!(f.tools & tool.bit)) continue;
    std::string left = "  --" + cliName(f.name);
    if (f.type != FlagType::Bool) left += std::string("=") + f.meta;
    std::string help = f.help;
    if (f.type == FlagType::UInt || f.type == FlagType::Double) help += " [" + std::string(f.dflt) + "]";
    if (std::strcmp(f.name, "bugs") == 0) {
      help += "; one of:";
      for (unsigned b = 0; b < static_cast<unsigned>(gort::Bug::kCount); b++)
        help += std::string(" ") + gort::bugName(static_cast<gort::Bug>(b));
    }
    // Wrap the help at 100 columns, indented under itself.
    const size_t indent = 26, width = 100;
    if (left.size() + 1 >= indent) {
      out += left + "\n" + std::string(indent, ' ');
    } else {
      out += left + std::string(indent - left.size(), ' ');
    }
    size_t col = indent;
    size_t pos = 0;
    bool first = true;
    while (pos < help.size()) {
      size_t sp = help.find(' ', pos);
      if (sp == std::string::npos) sp = help.size();
      std::string word = help.substr(pos, sp - pos);
      if (!first && col + 1 + word.size() > width) {
        out += "\n" + std::string(indent, ' ');
        col = indent;
        first = true;
      }
      if (!first) out += " ", col++;
      out += word;
      col += word.size();
      first = false;
      pos = sp + 1;
    }
    out += "\n";
  }
  out +=
      "\nenvironment (flags override it):\n"
      "  SCHEDFUZZ_BUGS=LIST       bug switches, as --bugs\n"
      "  SCHEDFUZZ_STRICT=1        as --strict\n"
      "  SCHEDFUZZ_NO_INVARIANTS=1 skip the invariant checks (hangs and throws are still found)\n"
      "  SCHEDFUZZ_FULL_CHECKS=1 run every invariant check at every point, not only those whose inputs changed\n";
  out += "\ninputs:\n";
  for (size_t pos = 0, nl; pos < std::strlen(kInputRule); pos = nl + 1) {
    nl = std::string_view(kInputRule).find('\n', pos);
    out += "  " + std::string(kInputRule + pos, kInputRule + nl) + "\n";
  }
  out += tool.extra;
  return out;
}

void usageError(const ToolInfo& tool, const std::string& error) {
  fprintf(stderr, "%s: %s\n", tool.name, error.c_str());
  exit(2);
}

bool parseCommandLine(const ToolInfo& tool, int argc, char** argv, Options& opts) {
  std::string err;
  if (!parseFlags(tool, argc, argv, opts, err)) usageError(tool, err);
  if (!opts.help) return true;
  fputs(helpText(tool).c_str(), stdout);
  return false;
}

std::string secondsText(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"lockosthread", "lockosthread_fuzzer", Alphabet::lockosthread()},
      {"sched", "sched_fuzzer", Alphabet::all()},
      {"world", "world_fuzzer", Alphabet::world()},
  };
  return t;
}

const Target* findTarget(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name || name == t.fuzzer) return &t;
  return nullptr;
}

const Target* targetFromPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  std::string s = (ec ? std::filesystem::path(path) : abs).lexically_normal().generic_string();
  // The deepest mention wins: .../sched_fuzzer/lockosthread_fuzzer/x is a lockosthread input.
  const Target* best = nullptr;
  size_t best_pos = 0;
  for (const Target& t : targets()) {
    for (std::string pat : {"/" + std::string(t.fuzzer) + "/", "corpus/" + std::string(t.name)}) {
      size_t pos = s.rfind(pat);
      // "corpus/sched" must not match "corpus/schedules": the name ends the
      // component or continues as "_fuzzer".
      if (pos != std::string::npos && pat.back() != '/') {
        size_t e = pos + pat.size();
        if (!(e == s.size() || s[e] == '/' || s.compare(e, 7, "_fuzzer") == 0)) pos = std::string::npos;
      }
      if (pos != std::string::npos && (best == nullptr || pos + 1 > best_pos)) {
        best = &t;
        best_pos = pos + 1;
      }
    }
  }
  return best;
}

bool targetFromFlag(const Options& opts, const Target*& target, std::string& error) {
  target = nullptr;
  if (!opts.target_set) return true;
  target = findTarget(opts.target);
  if (target == nullptr) {
    error = "--target=" + opts.target + ": expected lockosthread, sched, world, lockosthread_fuzzer, sched_fuzzer or world_fuzzer";
    return false;
  }
  return true;
}

bool loadInput(const std::string& path, const Target* flag_target, Input& in, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = path + ": expected a file, found a directory";
    return false;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) {
    error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  in = Input{};
  in.path = path;
  in.bytes = bytes.size();
  static const std::string kHeader = "# schedfuzz program";
  const Target* path_target = targetFromPath(path);
  if (isTextForm(bytes)) {
    in.text = true;
    if (!parseText(bytes, path, in.program, error)) return false;
    if (flag_target != nullptr) {
      in.target = flag_target, in.target_origin = "--target";
    } else if (path_target != nullptr) {
      in.target = path_target, in.target_origin = "path";
    } else {
      for (const Target& t : targets()) {
        if (checkProgram(in.program, &t.alphabet).empty()) {
          in.target = &t, in.target_origin = "fits";
          break;
        }
      }
    }
    std::string why = in.target ? checkProgram(in.program, &in.target->alphabet) : "no target's alphabet holds it";
    if (!why.empty()) {
      error = path + ": expected a program the " + std::string(in.target ? in.target->name : "") +
              " target can encode (" + in.target_origin + "), but: " + why;
      return false;
    }
    return true;
  }
  in.target = flag_target ? flag_target : path_target;
  in.target_origin = flag_target ? "--target" : "path";
  if (in.target == nullptr) {
    char found[32];
    if (bytes.empty()) snprintf(found, sizeof found, "end of file");
    else snprintf(found, sizeof found, "byte 0x%02x", static_cast<unsigned char>(bytes[0]));
    error = path + ": byte 0: binary input needs --target=lockosthread|sched|world (expected \"" + kHeader +
            "\" for the text form, found " + found + ")";
    // A text program without its header line is a common slip.
    if (bytes.compare(0, 10, "gomaxprocs") == 0 || bytes.compare(0, 3, "g0:") == 0 ||
        bytes.compare(0, 1, "#") == 0) {
      error += "; if this is the text form, start it with the line \"# schedfuzz program v1\"";
    }
    return false;
  }
  in.program = decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, in.target->alphabet);
  return true;
}

bool runConfig(const Options& opts, RunConfig& cfg, std::string& error) {
  cfg = RunConfig{};
  if (!configFromEnv(cfg, error)) return false;
  if (opts.bugs_set) {
    std::string err;
    if (!gort::parseBugs(opts.bugs, cfg.bugs, err)) {
      error = "--bugs=" + opts.bugs + ": " + err;
      return false;
    }
  }
  if (opts.strict_set) cfg.detectors.strict = opts.strict;
  return true;
}

std::string findingKind(const Outcome& o, const RunConfig& cfg) {
  if (o.finding()) return o.result.kind.empty() ? verdictName(o.result.verdict) : o.result.kind;
  // With strict, the detectors end the run at the precursor, so this only
  // catches a precursor that the checker saw after the last verdict check.
  if (cfg.detectors.strict && !o.precursor.empty()) return "precursor";
  return "";
}

Outcome replay(const Program& p, const RunConfig& cfg, bool record_trace) {
  ByteChooser chooser = ByteChooser::forProgram(p);  // as the fuzz targets run it: choices, then p.walk's default
  RunConfig c = cfg;
  c.record_trace = record_trace;
  Outcome o = runProgram(p, chooser, c);
  o.result.dump = stableAddresses(o.result.dump);
  return o;
}

std::string stableAddresses(const std::string& dump) { return stableDumpAddresses(dump); }

bool writeFile(const std::string& path, const std::string& bytes, std::string& error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool sameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::string freshPrefix(const std::string& prefix) {
  auto taken = [](const std::string& p) {
    std::error_code ec;
    return std::filesystem::exists(p + ".bin", ec) || std::filesystem::exists(p + ".txt", ec);
  };
  if (!taken(prefix)) return prefix;
  for (unsigned n = 1;; n++) {
    std::string p = prefix + "-" + std::to_string(n);
    if (!taken(p)) return p;
  }
}

int finishOutput(const ToolInfo& tool, int rc) {
  std::string why;
  if (std::fflush(stdout) != 0) why = std::strerror(errno);
  else if (std::ferror(stdout)) why = "a write failed";
  if (why.empty()) return rc;
  fprintf(stderr, "%s: error writing standard output: %s\n", tool.name, why.c_str());
  return 2;
}

size_t opCount(const Program& p) {
  size_t n = 0;
  for (const Script& s : p.scripts) n += s.ops.size();
  return n;
}

void writeReproducer(const ToolInfo& tool, const std::string& wanted, const Program& repro, const Target& target,
                     const Outcome& shown, const RunConfig& cfg) {
  std::vector<uint8_t> bin = encode(repro, target.alphabet);  // in limits: decode(bin) == repro
  // An earlier run's finding stays where it is: this one gets fresh names.
  const std::string prefix = freshPrefix(wanted);
  if (prefix != wanted) {
    printf("NOTE %s.bin or %s.txt exists (an earlier finding); writing %s.bin and %s.txt instead\n", wanted.c_str(),
           wanted.c_str(), prefix.c_str(), prefix.c_str());
  }
  std::string err;
  if (!writeFile(prefix + ".bin", std::string(bin.begin(), bin.end()), err) ||
      !writeFile(prefix + ".txt", toText(repro), err)) {
    fflush(stdout);
    usageError(tool, "--out: " + err);
  }
  printf("WROTE %s.bin (%zu bytes, target %s) and %s.txt (%s)\n", prefix.c_str(), bin.size(), target.name,
         prefix.c_str(), sizeLine(repro, target).c_str());
  ReportOptions ro;
  ro.target = target.fuzzer;
  ro.input_path = prefix + ".txt";
  std::string report = formatReport(repro, shown, cfg, ro);
  fwrite(report.data(), 1, report.size(), stdout);
}

std::string sizeLine(const Program& p, const Target& target) {
  return std::to_string(opCount(p)) + " ops, " + std::to_string(p.choices.size()) + " choices, " +
         std::to_string(encode(p, target.alphabet).size()) + " bytes";
}

uint64_t mixSeed(uint64_t seed, uint64_t index, uint64_t stream) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index * 0xD1B54A32D192ED03ull + stream * 0x8CB92BA72F3D8DD7ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace schedfuzz::tools
