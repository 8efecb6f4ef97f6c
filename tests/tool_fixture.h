// tests/tool_fixture.h — a test that runs programs (the tools, the examples) in a temporary
// directory: the one fork/exec with SCHEDFUZZ_* scrubbed from the environment, for every test
// file that runs a binary (cli, tools, export, verify tests).
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/test_files.h"

extern char** environ;

namespace schedfuzz::testing {

struct Result {
  int status = -1;  // exit status, or -1 if the program did not exit normally
  std::string out, err;
};

// A fresh temporary directory per test (removed afterwards), and runProgram.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "schedfuzz-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (std::filesystem::path(dir_) / name).string(); }
  std::string write(const std::string& name, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path(name)).parent_path());
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }

  // Runs argv (argv[0] is the executable's path) in dir_, with `env` added to
  // an environment from which every SCHEDFUZZ_* variable is removed. stdout
  // goes to `stdout_to` if set (e.g. "/dev/full"), else to a file read back into out.
  Result runProgram(const std::vector<std::string>& argv_in, const std::vector<std::string>& env = {},
                    const std::string& stdout_to = "") {
    const std::string out_path = stdout_to.empty() ? path(".stdout") : stdout_to, err_path = path(".stderr");
    std::vector<std::string> envs;
    for (char** e = environ; *e; e++)
      if (std::strncmp(*e, "SCHEDFUZZ_", 10) != 0) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    pid_t pid = fork();
    if (pid == 0) {
      int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(dir_.c_str()) != 0) _exit(127);
      std::vector<std::string> a = argv_in;
      std::vector<char*> argv;
      for (std::string& s : a) argv.push_back(s.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (std::string& s : envs) envp.push_back(s.data());
      envp.push_back(nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    Result r;
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (stdout_to.empty()) readFile(out_path, r.out);
    readFile(err_path, r.err);
    return r;
  }

  std::string dir_;
};

}  // namespace schedfuzz::testing
