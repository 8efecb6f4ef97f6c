// tests/test_files.h — reading whole files in tests (corpus, regressions, reports).
#pragma once
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace schedfuzz::testing {

// The bytes of `path` into `out`; false if it cannot be opened.
inline bool readFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

// The names of corpus/regressions/*/ (one per bug switch and variant), sorted.
inline std::vector<std::string> regressionDirs() {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(
           std::filesystem::path(SCHEDFUZZ_SOURCE_DIR) / "corpus" / "regressions", ec))
    if (e.is_directory()) dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// The bug switches regression directory `dir` needs, as a list for
// gort::parseBugs: expected.txt's optional third line "bugs: a,b" (a bug
// reachable only together with another switch says so there, and the list
// must name the directory's own switch), else the directory name up to its
// first '-'.
inline std::string regressionBugs(const std::string& dir) {
  std::string expected;
  readFile(std::filesystem::path(SCHEDFUZZ_SOURCE_DIR) / "corpus" / "regressions" / dir / "expected.txt", expected);
  const std::string key = "\nbugs: ";
  const size_t at = expected.find(key);
  if (at == std::string::npos) return dir.substr(0, dir.find('-'));
  const size_t from = at + key.size();
  const size_t nl = expected.find('\n', from);
  return expected.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
}

}  // namespace schedfuzz::testing
