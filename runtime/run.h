// runtime/run.h — run a gort program on real threads and wait for it to finish or report why it cannot.
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "runtime/os_linux.h"
#include "runtime/runtime.h"

namespace gort {

struct RealRun {
  bool finished = false;  // main returned (or exitProcess was called) within the timeout
  int exit_code = 0;
  std::string dump;       // when !finished: every M, P and G as seen at the timeout
  Runtime* rt = nullptr;  // the runtime (still alive, see below)
};

// Starts a Runtime on a LinuxPlatform with `main` as the main goroutine and
// waits up to timeout_ns for it to finish. As in Go, the process owns the
// threads: when main returns, the other Ms stay parked (or keep running
// goroutines that never end), so the Runtime and the platform are
// deliberately never destroyed. Run one program per process when that
// matters (the tests fork a child per run, as Go's own testprog tests do).
RealRun runOnLinux(const Config& cfg, std::function<void(Runtime&)> main, const LinuxPlatform::Options& opts,
                   int64_t timeout_ns);

}  // namespace gort
