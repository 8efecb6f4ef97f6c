// fuzz/signature.h — a finding's stable signature, and an abort whose stack spells it.
//
// A signature is "<class>/<culprit>" (fuzz/cause.h computes both), e.g.
// "stall/P-in-transit", "throw/checkdead-runnable-g/P-in-transit-on-system-M",
// "oracle/clone-from-locked-thread/lockedExt-cleared". It names the culprit
// state, not the victim: the three #38931 reproducers (a stop-the-world that
// waits for the leaked P, or goroutines that do) share one.
//
// Crash deduplication (ClusterFuzz, libFuzzer's DEDUP_TOKEN) goes by the top
// frames of the crash stack, so abortWithSignature aborts inside a chain of
// distinct, never-inlined functions named after the signature:
//
//   abort <- SCHEDFUZZ_stall_P_in_transit <- SCHEDFUZZ_stall <- SCHEDFUZZ_finding
//
// Each known signature has its own leaf function (the table in
// signature.cpp); an unknown one aborts in SCHEDFUZZ_<class>_unclassified, so
// a new culprit groups with its class until it is added to the table.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace schedfuzz {

struct Cause;

// "<class>/<culprit>", "" for no finding.
std::string signatureOf(const Cause& c);

// Whether the abort chain has a leaf of its own for `signature`.
bool knownSignature(const std::string& signature);
// Every signature with a leaf of its own, and that leaf's name, in table order.
std::vector<std::pair<std::string, std::string>> knownSignatures();

// The leaf function's name for `signature` ("SCHEDFUZZ_stall_P_in_transit",
// or "SCHEDFUZZ_<class>_unclassified").
std::string signatureFrame(const std::string& signature);

// Aborts inside the chain of frames that spells `signature`.
[[noreturn]] void abortWithSignature(const std::string& signature);

}  // namespace schedfuzz
