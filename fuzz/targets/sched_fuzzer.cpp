// fuzz/targets/sched_fuzzer.cpp — every op: locking, spawning, syscalls, GOMAXPROCS, stop-the-world, exits.
#include "fuzz/target.h"

static const schedfuzz::TargetSpec kSpec{"sched_fuzzer", schedfuzz::Alphabet::all()};

extern "C" int LLVMFuzzerInitialize(int*, char***) { return schedfuzz::targetInitialize(kSpec); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return schedfuzz::targetRun(kSpec, data, size);
}
