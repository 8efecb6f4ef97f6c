// runtime/run.cpp — runOnLinux: start m0 on a pthread, wait for exitProcess or a timeout.
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
#include "runtime/run.h"

#include "runtime/sanitizers.h"

namespace gort {

RealRun runOnLinux(const Config& cfg, std::function<void(Runtime&)> main, const LinuxPlatform::Options& opts,
                   int64_t timeout_ns) {
  // Leaked on purpose: Ms may still be parked on memory inside them.
  auto* plat = new LinuxPlatform(opts);
  auto* rt = new Runtime(*plat, cfg);
  plat->setDumper([rt] { return rt->dump(); });
  rt->setMain([rt, main = std::move(main)] { main(*rt); });
  plat->newosproc(0, &Runtime::m0Entry, rt);
  RealRun r;
  r.rt = rt;
  r.finished = plat->waitExit(timeout_ns, &r.exit_code);
  // A racy snapshot: the threads are still running or stuck. Good enough to
  // see which P is missing and who waits for what.
  if (!r.finished) {
    TsanInvisibleScope quiet;  // racy by design, like Go's schedtrace
    r.dump = rt->dump();
  }
  return r;
}

}  // namespace gort
