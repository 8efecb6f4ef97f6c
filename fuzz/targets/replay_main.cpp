// fuzz/targets/replay_main.cpp — a main() for builds without a fuzzing engine: replay files and directories.
//
// Follows libFuzzer's command line, so one command works with either build:
//
//   TARGET [-flag=value ...] FILE_OR_DIR ...
//
// Each FILE runs once, each DIR runs every regular file in it (sorted by
// name). An argument that starts with '-' is a libFuzzer flag, never an
// input: -runs=N runs each input N times (at least once, as libFuzzer's
// individual-file mode does), -help=1 prints this usage, and every other
// -flag=value (-max_len, -dict, -timeout, ...) is accepted and ignored with a
// note, since there is no engine here to act on it.
//
// The text form (docs/schedule-format.md, a file starting "# schedfuzz
// program") is skipped with a note, whether named or found in a directory:
// the target's input is bytes, and libFuzzer would feed a text file's bytes
// to LLVMFuzzerTestOneInput as a binary program, a different program from
// the one written there. Corpus directories hold each seed's readable .txt
// next to it; schedfuzz-replay runs text files as text.
//
// Each input is copied into a heap buffer of exactly its size so that ASan
// catches any read past its end. A finding aborts, as under libFuzzer.
// Exit status: 0 every input ran without a finding, 2 a missing or unreadable
// input or a malformed flag.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/program.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Counts {
  size_t ran = 0, skipped_text = 0;
  bool ok = true;
};

void runFile(const std::string& path, long runs, Counts& c) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "%s: cannot open: %s\n", path.c_str(), strerror(errno));
    c.ok = false;
    return;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (schedfuzz::isTextForm(std::string_view(bytes.data(), bytes.size()))) {
    fprintf(stderr, "Skipping: %s (text form; the target reads bytes: replay it with schedfuzz-replay %s)\n",
            path.c_str(), path.c_str());
    c.skipped_text++;
    return;
  }
  std::unique_ptr<uint8_t[]> buf(new uint8_t[bytes.size() ? bytes.size() : 1]);
  fprintf(stderr, "Running: %s (%zu bytes)\n", path.c_str(), bytes.size());
  for (long i = 0; i < runs; i++) {
    if (!bytes.empty()) memcpy(buf.get(), bytes.data(), bytes.size());  // a fresh copy for every run
    LLVMFuzzerTestOneInput(buf.get(), bytes.size());
  }
  c.ran++;
}

void usage(FILE* f, const char* argv0) {
  fprintf(f,
          "usage: %s [-flag=value ...] FILE_OR_DIR...\n"
          "  replays each input (every file of a DIR) once; this build has no fuzzing engine.\n"
          "  -runs=N runs each input N times; other libFuzzer -flag=value arguments are ignored.\n"
          "  Text-form files (\"# schedfuzz program v1\") are skipped: use schedfuzz-replay.\n",
          argv0);
}

}  // namespace

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  long runs = 1;
  std::vector<std::string> inputs;
  bool ok = true;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-') {
      inputs.push_back(a);
      continue;
    }
    if (a == "-h" || a == "--help" || a == "-help" || a == "-help=1") {
      usage(stdout, argv[0]);
      return 0;
    }
    const size_t eq = a.find('=');
    if (a[1] == '-' || eq == std::string::npos || eq == 1) {
      fprintf(stderr, "%s: argument %d: expected -flag=value (libFuzzer's form) or an input, found %s\n", argv[0], i,
              schedfuzz::quoteToken(a).c_str());
      return 2;
    }
    const std::string name = a.substr(1, eq - 1), value = a.substr(eq + 1);
    if (name == "runs") {
      char* end = nullptr;
      errno = 0;
      long n = value.empty() ? 0 : strtol(value.c_str(), &end, 10);
      if (value.empty() || *end || errno == ERANGE || n < -1) {
        fprintf(stderr, "%s: argument %d: -runs: expected an integer >= -1, found %s\n", argv[0], i,
                schedfuzz::quoteToken(value).c_str());
        return 2;
      }
      runs = std::max(1L, n);
    } else {
      fprintf(stderr, "Ignoring %s (no fuzzing engine in this build)\n", schedfuzz::quoteToken(a).c_str());
    }
  }
  if (inputs.empty()) {
    usage(stderr, argv[0]);
    return 2;
  }
  Counts c;
  for (const std::string& arg : inputs) {
    std::error_code ec;
    std::filesystem::path p(arg);
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) runFile(f, runs, c);
    } else if (std::filesystem::exists(p, ec)) {
      runFile(arg, runs, c);
    } else {
      fprintf(stderr, "%s: no such file or directory\n", arg.c_str());
      ok = false;
    }
  }
  fprintf(stderr, "Replayed %zu inputs without a finding", c.ran);
  if (runs > 1) fprintf(stderr, ", %ld runs each", runs);
  if (c.skipped_text) fprintf(stderr, "; skipped %zu text-form files", c.skipped_text);
  fprintf(stderr, "\n");
  return ok && c.ok ? 0 : 2;
}
