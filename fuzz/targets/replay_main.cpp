// fuzz/targets/replay_main.cpp — a main() for builds without a fuzzing engine: replay files and directories.
//
// Like libFuzzer's own regression mode: each argument is a file (run once)
// or a directory (every regular file in it, sorted by name, run once). Each
// input is copied into a heap buffer of exactly its size so that ASan catches
// any read past its end. A finding aborts, as under libFuzzer.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static bool runFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "%s: cannot open: %s\n", path.c_str(), strerror(errno));
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::unique_ptr<uint8_t[]> buf(new uint8_t[bytes.size() ? bytes.size() : 1]);
  if (!bytes.empty()) memcpy(buf.get(), bytes.data(), bytes.size());
  fprintf(stderr, "Running: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(buf.get(), bytes.size());
  return true;
}

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n  replays each input once (this build has no fuzzing engine)\n", argv[0]);
    return 2;
  }
  size_t ran = 0;
  bool ok = true;
  for (int i = 1; i < argc; i++) {
    std::error_code ec;
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        ok &= runFile(f);
        ran++;
      }
    } else if (std::filesystem::exists(p, ec)) {
      ok &= runFile(argv[i]);
      ran++;
    } else {
      fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      ok = false;
    }
  }
  fprintf(stderr, "Replayed %zu inputs without a finding\n", ran);
  return ok ? 0 : 2;
}
