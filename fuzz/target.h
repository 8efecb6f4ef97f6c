// fuzz/target.h — what every fuzz target shares: decode, run, detect, report, abort.
//
// A target is a few lines (see fuzz/targets/*_fuzzer.cpp): it names itself,
// picks an op alphabet, and forwards libFuzzer's two entry points here.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fuzz/program.h"

namespace schedfuzz {

struct TargetSpec {
  const char* name;    // e.g. "lockosthread_fuzzer"
  Alphabet alphabet;
};

// LLVMFuzzerInitialize: reads SCHEDFUZZ_* from the environment; on a bad
// value prints "<target>: <what is wrong>" and exits with status 2.
int targetInitialize(const TargetSpec& spec);
// LLVMFuzzerTestOneInput: one execution. On a finding it prints the report
// to stderr and aborts, so every engine records a crash (not a timeout).
int targetRun(const TargetSpec& spec, const uint8_t* data, size_t size);

// SHA-1 of the input as lowercase hex: libFuzzer names artifacts crash-<sha1>.
void sha1Hex(const uint8_t* data, size_t size, char out[41]);

}  // namespace schedfuzz
