// tests/test_files.h — reading whole files in tests (corpus, regressions, reports).
#pragma once
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace schedfuzz::testing {

// The bytes of `path` into `out`; false if it cannot be opened.
inline bool readFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace schedfuzz::testing
