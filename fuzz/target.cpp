// fuzz/target.cpp — the shared body of the fuzz targets.
#include "fuzz/target.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/signature.h"

// Interleaving coverage for libFuzzer (ecosystem-notes §2.6): a new pair of
// consecutive runtime events on different Ms counts as new coverage even when
// no new code edge is hit. Harmless in builds without libFuzzer.
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t g_interleavings[4096];

namespace schedfuzz {

namespace {
RunConfig g_cfg;
bool g_inited = false;
std::vector<TraceEvent> g_trace_spare;  // one trace allocation for every run
}  // namespace

int targetInitialize(const TargetSpec& spec) {
  std::string err;
  if (!configFromEnv(g_cfg, err)) {
    fprintf(stderr, "%s: %s\n", spec.name, err.c_str());
    exit(2);
  }
  g_inited = true;
  return 0;
}

int targetRun(const TargetSpec& spec, const uint8_t* data, size_t size) {
  if (!g_inited) targetInitialize(spec);
  Program p = decode({data, size}, spec.alphabet);
  ByteChooser chooser = ByteChooser::forProgram(p);
  RunConfig cfg = g_cfg;
  cfg.trace_buffer = &g_trace_spare;
  Outcome o = runProgram(p, chooser, cfg);
  interleavingFeatures(o, g_interleavings, sizeof g_interleavings);
  bool finding = o.finding() || (cfg.detectors.strict && !o.precursor.empty());
  if (!finding) {
    g_trace_spare = std::move(o.trace);
    return 0;
  }
  char sha[41];
  sha1Hex(data, size, sha);
  ReportOptions ro;
  ro.target = spec.name;
  ro.input_path = std::string("--target=") + spec.name + " crash-" + sha;
  std::string report = formatReport(p, o, cfg, ro);
  fwrite(report.data(), 1, report.size(), stderr);
  fflush(stderr);
  // Not a bare abort(): the crash stack's top frames spell the signature
  // (SCHEDFUZZ_<class>_<culprit> <- SCHEDFUZZ_<class> <- SCHEDFUZZ_finding),
  // so ClusterFuzz and DEDUP_TOKEN group one bug as one crash and keep two
  // bugs apart.
  abortWithSignature(o.signature);
}

// SHA-1 (FIPS 180-4), small and dependency-free.
void sha1Hex(const uint8_t* data, size_t size, char out[41]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  uint64_t bitlen = static_cast<uint64_t>(size) * 8;
  size_t total = ((size + 8) / 64 + 1) * 64;
  uint8_t block[64];
  for (size_t off = 0; off < total; off += 64) {
    for (size_t i = 0; i < 64; i++) {
      size_t k = off + i;
      uint8_t b;
      if (k < size) b = data[k];
      else if (k == size) b = 0x80;
      else if (k >= total - 8) b = static_cast<uint8_t>(bitlen >> (8 * (total - 1 - k)));
      else b = 0;
      block[i] = b;
    }
    uint32_t w[80];
    for (int i = 0; i < 16; i++) {
      w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) | (uint32_t(block[4 * i + 2]) << 8) |
             block[4 * i + 3];
    }
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
      else { f = b ^ c ^ d; k = 0xCA62C1D6; }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
  }
  for (int i = 0; i < 5; i++) snprintf(out + 8 * i, 9, "%08x", h[i]);
}

}  // namespace schedfuzz
