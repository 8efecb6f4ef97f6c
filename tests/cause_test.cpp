// tests/cause_test.cpp — every finding has a cause naming the culprit state and a stable signature.
//
// Grouped by intent:
//  * RegressionCause: every reproducer in corpus/regressions/ reports a
//    non-empty cause naming an M, P or G, the signature pinned below, the
//    same bytes on every run and no address; one signature per bug switch,
//    different ones for different switches; nothing on the fixed runtime.
//  * StrictPrecursor (issue 10 part 4): the #38931 reproducers are clean in
//    strict mode on the fixed runtime, and with the bug the precursor fires
//    no later than it did before the leak check learned about a pinned
//    template-thread creator.
//  * CauseDeadlock / CauseStall: planted hangs (a syscall that never returns
//    with no sysmon; the #38931 switch) and their silent counterparts.
//  * CauseClass / CauseInvariant / SignatureTable: the class of a kind the
//    Verdict enum does not name yet ("hang: livelock"), an invariant's cause,
//    and the abort chain's frame names.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/sim_run.h"
#include "tests/test_files.h"

#include "fuzz/cause.h"
#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/signature.h"
#include "runtime/runtime.h"

namespace {

namespace fs = std::filesystem;
using namespace schedfuzz;
using schedfuzz::testing::readFile;

const fs::path kRegressionDir = fs::path(SCHEDFUZZ_SOURCE_DIR) / "corpus" / "regressions";

// The culprit each reproducer's signature must name (the class comes from
// the verdict, so a reproducer whose verdict is renamed, e.g. budget ->
// livelock, keeps its culprit). A new regression directory needs a line here.
const std::map<std::string, std::string> kCulprit = {
    {"asyncpreemptoff", "preempt-request-ignored"},
    {"asyncpreemptoff-stw", "preempt-request-ignored"},
    {"issue20395", "locked-thread-reused"},
    {"issue20458", "LockOSThread-nesting"},
    {"issue20676", "clone-from-locked-thread/lockedExt-ignored"},
    {"issue28979", "clone-from-locked-thread/lockedExt-cleared"},
    {"issue38931", "P-in-transit"},
    {"issue38931-libfuzzer", "P-in-transit"},
    {"issue38931-stw", "P-in-transit"},
    {"issue20903", "execLock/reader-descheduled"},
    {"issue20903-libfuzzer", "execLock/reader-descheduled"},
    {"issue40368", "checkdead-runnable-g/P-borrowed-for-uncounted-newm"},
    {"issue6070", "checkdead-runnable-g/P-in-transit-on-system-M"},
};

using schedfuzz::testing::regressionDirs;

uint32_t bugsOf(const std::string& dir) {
  uint32_t bugs = 0;
  std::string err;
  EXPECT_TRUE(gort::parseBugs(schedfuzz::testing::regressionBugs(dir), bugs, err)) << err;
  return bugs;
}

Program load(const std::string& dir) {
  std::string text, err;
  Program p;
  EXPECT_TRUE(readFile(kRegressionDir / dir / "repro.txt", text)) << dir;
  EXPECT_TRUE(parseText(text, dir, p, err)) << err;
  return p;
}

Outcome run(const Program& p, uint32_t bugs, bool strict = false) {
  ByteChooser chooser = ByteChooser::forProgram(p);
  RunConfig cfg;  // not from the environment
  cfg.bugs = bugs;
  cfg.detectors.strict = strict;
  return runProgram(p, chooser, cfg);
}

std::string report(const Program& p, const Outcome& o, uint32_t bugs) {
  RunConfig cfg;
  cfg.bugs = bugs;
  ReportOptions ro;
  ro.target = "lockosthread_fuzzer";
  ro.input_path = "repro";
  return formatReport(p, o, cfg, ro);
}

// The value of a "  <label>" header line of a report, "" if absent.
std::string headerLine(const std::string& rep, const std::string& label) {
  const size_t at = rep.find("\n  " + label);
  if (at == std::string::npos) return "";
  const size_t b = at + 3 + label.size();
  return rep.substr(b, rep.find('\n', b) - b);
}

// ---------------------------------------------------------------------------
// RegressionCause

class RegressionCause : public ::testing::TestWithParam<std::string> {};

TEST_P(RegressionCause, ReportNamesTheCulpritStableAndWithoutAddresses) {
  const std::string dir = GetParam();
  ASSERT_TRUE(kCulprit.count(dir)) << dir << ": add its expected culprit to kCulprit";
  const Program p = load(dir);
  const uint32_t bugs = bugsOf(dir);
  const Outcome o = run(p, bugs);
  ASSERT_TRUE(o.finding()) << dir;

  const std::string rep = report(p, o, bugs);
  const std::string cause = headerLine(rep, "cause:   ");
  EXPECT_FALSE(cause.empty()) << rep;
  EXPECT_TRUE(std::regex_search(cause, std::regex("\\b[MPG][0-9]+\\b"))) << "cause names no M, P or G: " << cause;
  EXPECT_EQ(cause, o.cause);

  const std::string sig = headerLine(rep, "signature: ");
  EXPECT_EQ(sig, o.signature);
  EXPECT_EQ(sig, findingClass(o.result, false) + "/" + kCulprit.at(dir)) << cause;
  EXPECT_TRUE(knownSignature(sig)) << sig << " has no frame of its own in fuzz/signature.cpp";

  // An address is 0x and hex digits, not the "270x" of a repeated-rows line.
  EXPECT_FALSE(std::regex_search(rep, std::regex("(^|[^0-9A-Za-z])0x[0-9a-fA-F]")))
      << "an address in the report:\n" << rep;
  const Outcome again = run(p, bugs);
  EXPECT_TRUE(report(p, again, bugs) == rep) << "two runs, two reports";
}

TEST_P(RegressionCause, FixedRuntimeHasNoCause) {
  const Outcome o = run(load(GetParam()), 0);
  EXPECT_FALSE(o.finding()) << o.result.kind;
  EXPECT_EQ(o.cause, "");
  EXPECT_EQ(o.signature, "");
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Regressions, RegressionCause, ::testing::ValuesIn(regressionDirs()), testName);

TEST(RegressionSignatures, OnePerBugSwitchAndDistinctAcrossSwitches) {
  std::map<std::string, std::set<std::string>> sigsOfBug;
  std::map<std::string, std::set<std::string>> bugsOfSig;
  for (const std::string& dir : regressionDirs()) {
    const std::string bug = dir.substr(0, dir.find('-'));
    const Outcome o = run(load(dir), bugsOf(dir));
    sigsOfBug[bug].insert(o.signature);
    bugsOfSig[o.signature].insert(bug);
  }
  EXPECT_GE(sigsOfBug.size(), 8u);
  for (const auto& [bug, sigs] : sigsOfBug) EXPECT_EQ(sigs.size(), 1u) << bug << " has several signatures";
  for (const auto& [sig, bugs] : bugsOfSig) EXPECT_EQ(bugs.size(), 1u) << sig << " is shared by several bugs";
}

// ---------------------------------------------------------------------------
// StrictPrecursor

// The step and kind of the strict precursor with the bug on, recorded before
// the leak check allowed for a pinned creator (main at 5069f61): 65, 123, 149.
// (On the fixed runtime that check fired at 123 and 149 for the -stw and
// -libfuzzer reproducers: a creator holding acquirem, about to clone.)
struct StrictCase {
  const char* dir;
  const char* kind;
  uint64_t step;
};
const StrictCase kStrict[] = {
    {"issue38931", "invariant: template thread", 65},
    // (Issue 13's new scheduling points re-found both reproducers' choices;
    // the step counts are the new streams', which count the new points too.)
    {"issue38931-stw", "invariant: P leaked in transit", 197},
    {"issue38931-libfuzzer", "invariant: P leaked in transit", 110},
};

TEST(StrictPrecursor, Issue38931ReproducersAreCleanOnTheFixedRuntime) {
  for (const StrictCase& c : kStrict) {
    const Outcome o = run(load(c.dir), 0, /*strict=*/true);
    EXPECT_FALSE(o.finding()) << c.dir << ": " << o.result.kind << ": " << o.result.message;
    EXPECT_EQ(o.precursor, "") << c.dir;
  }
}

TEST(StrictPrecursor, FiresWithTheBugNoLaterThanBefore) {
  for (const StrictCase& c : kStrict) {
    const Outcome o = run(load(c.dir), bugsOf(c.dir), /*strict=*/true);
    EXPECT_EQ(o.result.kind, c.kind) << c.dir << ": " << o.result.message;
    EXPECT_LE(o.precursor_step, c.step) << c.dir;
    EXPECT_GT(o.precursor_step, 0u) << c.dir;
    EXPECT_EQ(o.signature.rfind("precursor/", 0), 0u) << o.signature;
    EXPECT_TRUE(knownSignature(o.signature)) << o.signature;
  }
  // The P-in-transit check itself: with the creator still running but
  // preemptible (no acquirem), the leak is already a precursor.
  const Outcome stw = run(load("issue38931-stw"), bugsOf("issue38931-stw"), true);
  EXPECT_NE(stw.precursor.find("preemptible: no acquirem"), std::string::npos) << stw.precursor;
}

// ---------------------------------------------------------------------------
// Planted hangs, run on a runtime the test keeps alive so the cause can be
// read from it (what runProgram does after sim.run).

struct LiveRun : LiveSim {
  ByteChooser chooser{std::span<const Choice>()};
  gort::Runtime::WaitGroup wg;
  std::atomic<uint32_t> word{0};  // the futex the planted syscall sleeps on; nobody wakes it

  // One goroutine makes a system call that sleeps on `word` for `ns`
  // (-1: forever), main waits for it. No sysmon, so nothing retakes the P.
  void syscallSleep(int64_t ns) {
    gort::Config rc;
    rc.gomaxprocs = 1;
    rc.sysmon = false;
    run(chooser, rc, [this, ns](gort::Runtime& rt) {
      rt.wgAdd(wg, 1);
      rt.Go([this, &rt, ns] {
        rt.Syscall([this, ns] { sim->futexsleep(&word, 0, ns); });
        rt.wgDone(wg);
      });
      rt.wgWait(wg);
    });
  }
};

TEST(CauseDeadlock, SyscallThatNeverReturnsNamesItsMAndGoroutine) {
  LiveRun r;
  r.syscallSleep(-1);
  ASSERT_EQ(r.result.verdict, Verdict::kDeadlock) << r.result.kind << ": " << r.result.message;
  const Cause c = r.explain();
  EXPECT_EQ(signatureOf(c), "deadlock/blocked-in-syscall") << c.text;
  EXPECT_TRUE(knownSignature(signatureOf(c)));
  EXPECT_NE(c.text.find("wait-for: M0 sleeps on an unnamed futex in a system call of G2"), std::string::npos) << c.text;
}

TEST(CauseDeadlock, SilentWhenTheSyscallReturns) {
  LiveRun r;
  r.syscallSleep(50'000);
  EXPECT_EQ(r.result.verdict, Verdict::kOk) << r.result.kind << ": " << r.result.message;
  EXPECT_EQ(signatureOf(r.explain()), "");
}

TEST(CauseStall, Issue38931NamesTheLeakedPItsHolderAndTheCreator) {
  const Outcome o = run(load("issue38931-stw"), bugsOf("issue38931-stw"));
  ASSERT_EQ(o.result.verdict, Verdict::kStall);
  EXPECT_EQ(o.signature, "stall/P-in-transit");
  for (const char* want : {"stopTheWorld (M2, G2) waits for stopwait=1 P(s): ",
                           "P2 (_Pidle): held by nobody but M4.nextp; ",
                           "M4 has no thread: queued on newmHandoff, and no template thread exists to drain it",
                           "its creator G4 (_Grunnable, preempted in newm1)"})
    EXPECT_NE(o.cause.find(want), std::string::npos) << "no \"" << want << "\" in " << o.cause;
}

TEST(CauseStall, SilentOnTheFixedRuntime) {
  const Outcome o = run(load("issue38931-stw"), 0);
  EXPECT_FALSE(o.finding());
  EXPECT_EQ(o.cause, "");
}

// ---------------------------------------------------------------------------
// Classes and invariants, on a live runtime with a verdict of the test's making.

TEST(CauseClass, LivelockKindIsItsOwnClassEvenBeforeTheEnumNamesIt) {
  RunResult r;
  r.verdict = Verdict::kBudget;
  r.kind = "hang: livelock";
  EXPECT_EQ(findingClass(r, false), "livelock");
  r.kind = "hang: step budget";
  EXPECT_EQ(findingClass(r, false), "budget");
  r.verdict = Verdict::kInvariant;
  r.kind = "invariant: locked thread reused";
  EXPECT_EQ(findingClass(r, false), "oracle");
  r.kind = "invariant: template thread";
  EXPECT_EQ(findingClass(r, false), "precursor");
  r.kind = "invariant: P accounting";
  EXPECT_EQ(findingClass(r, false), "invariant");
  r.verdict = Verdict::kOk;
  r.kind = "";
  EXPECT_EQ(findingClass(r, false), "");
  EXPECT_EQ(findingClass(r, true), "precursor");
}

TEST(CauseClass, LivelockOfTheAsyncpreemptoffReproducerNamesTheSpinningGoroutine) {
  // The executor proves this one a livelock (before it had the verdict, a
  // step budget): the culprit is the same, the class follows the verdict.
  const Program p = load("asyncpreemptoff");
  ByteChooser chooser = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.bugs = bugsOf("asyncpreemptoff");
  const Outcome o = runProgram(p, chooser, cfg);
  EXPECT_EQ(o.signature, findingClass(o.result, false) + "/preempt-request-ignored");
  EXPECT_NE(o.cause.find("G2 kept running on M0/P0 in user code with preempt=1"), std::string::npos) << o.cause;
  EXPECT_NE(o.cause.find("; sysmon M1 "), std::string::npos) << o.cause;
  // Only the spinning goroutine kept running: main (G1) waits, G3 never ran.
  EXPECT_EQ(o.cause.find("G1 kept"), std::string::npos) << o.cause;
  EXPECT_EQ(o.cause.find("G3 kept"), std::string::npos) << o.cause;
}

TEST(CauseInvariant, NamesTheCheckAndTheLastTransition) {
  LiveRun r;
  r.syscallSleep(50'000);
  ASSERT_EQ(r.result.verdict, Verdict::kOk);
  r.result.verdict = Verdict::kInvariant;
  r.result.kind = "invariant: P accounting";
  r.result.message = "P0 is _Pidle but on no idle list, held by no M, and nobody's nextp";
  const Cause c = r.explain();
  EXPECT_EQ(signatureOf(c), "invariant/P-accounting");
  EXPECT_EQ(c.text.rfind("P accounting: P0 is _Pidle", 0), 0u) << c.text;
  EXPECT_TRUE(std::regex_search(c.text, std::regex("; last transition \\(step [0-9]+\\) M0: "))) << c.text;
}

// ---------------------------------------------------------------------------
// SignatureTable

std::string mangle(const std::string& sig) {
  std::string out = "SCHEDFUZZ_";
  for (size_t i = 0; i < sig.size(); i++) {
    if (sig[i] == '/') out += "__";
    else if (sig[i] == '-') out += '_';
    else out += sig[i];
  }
  return out;
}

TEST(SignatureTable, EveryLeafIsNamedAfterItsSignature) {
  const auto table = knownSignatures();
  EXPECT_GE(table.size(), 30u);
  std::set<std::string> frames;
  for (const auto& [sig, frame] : table) {
    EXPECT_EQ(frame, mangle(sig));
    EXPECT_EQ(signatureFrame(sig), frame);
    EXPECT_TRUE(frames.insert(frame).second) << frame << " twice";
  }
  EXPECT_EQ(signatureFrame("stall/something-new"), "SCHEDFUZZ_stall_unclassified");
  EXPECT_EQ(signatureFrame("nonsense"), "SCHEDFUZZ_unclassified");
  EXPECT_FALSE(knownSignature("stall/something-new"));
}

TEST(SignatureTable, AbortSpellsTheSignature) {
  // In a child (death test): the process dies by SIGABRT from the leaf.
  EXPECT_DEATH(abortWithSignature("stall/P-in-transit"), "");
}

}  // namespace
