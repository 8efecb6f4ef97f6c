// fuzz/targets/lockosthread_fuzzer.cpp — the flagship target: LockOSThread, the template thread, newm, stop-the-world.
// Alphabet: lock, unlock, gosched, newm, stw, exit, spin (golang/go#38931 and its neighbours).
#include "fuzz/target.h"

static const schedfuzz::TargetSpec kSpec{"lockosthread_fuzzer", schedfuzz::Alphabet::lockosthread()};

extern "C" int LLVMFuzzerInitialize(int*, char***) { return schedfuzz::targetInitialize(kSpec); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return schedfuzz::targetRun(kSpec, data, size);
}
