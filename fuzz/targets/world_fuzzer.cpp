// fuzz/targets/world_fuzzer.cpp — the world around the runtime: syscalls that block until another goroutine
// acts (syscallwait), the GC's ragged barrier (gc: forEachP under worldsema), syscall.Exec (exec: the execLock
// writer), with the ops their bugs need.
// Alphabet: Alphabet::world() (docs/schedule-format.md, "Alphabets").
#include "fuzz/target.h"

static const schedfuzz::TargetSpec kSpec{"world_fuzzer", schedfuzz::Alphabet::world()};

extern "C" int LLVMFuzzerInitialize(int*, char***) { return schedfuzz::targetInitialize(kSpec); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return schedfuzz::targetRun(kSpec, data, size);
}
