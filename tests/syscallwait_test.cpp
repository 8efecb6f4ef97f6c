// tests/syscallwait_test.cpp — the syscallwait op: a syscall that blocks until another goroutine acts.
//
// syscallwait(k) is a blocking pipe read that signal(k) writes (fuzz/harness.cpp,
// docs/schedule-format.md): the thread sleeps in the kernel with no timeout, its P
// in _Psyscall. Pinned here: the reader is woken by the signalling goroutine's M, not
// by time; sysmon retakes its P meanwhile so the signaller can run on one P; a
// stop-the-world takes the P by CAS; a reader whose flag nobody sets gives up once
// every other goroutine waits too (the run ends ok, not in a deadlock). (Programs
// without the op make no extra scheduling points: the regressions' pinned traces
// and choice streams, tests/regressions_test.cpp, would shift otherwise.)
#include <gtest/gtest.h>

#include <string>

#include "fuzz/choosers.h"
#include "fuzz/harness.h"
#include "fuzz/program.h"
#include "fuzz/trace.h"
#include "tests/program_text.h"

namespace schedfuzz {
namespace {

Program parse(const std::string& text) { return parseProgramOrFail(text); }

Outcome run(const Program& p, bool strict = true) {
  ByteChooser c = ByteChooser::forProgram(p);
  RunConfig cfg;
  cfg.detectors.strict = strict;
  return runProgram(p, c, cfg);
}

TEST(SyscallWait, IsInTheWorldAlphabetOnly) {
  EXPECT_STREQ(opName(Op::kSyscallWait), "syscallwait");
  EXPECT_TRUE(opHasArg(Op::kSyscallWait));
  EXPECT_EQ(Alphabet::all().indexOf(Op::kSyscallWait), -1);
  const Alphabet a = Alphabet::world();
  EXPECT_EQ(a.indexOf(Op::kSyscallWait), 13);
  const uint8_t bytes[] = {0x00, 0x01, 0x3d};  // gomaxprocs 1, one script: syscallwait(3)
  const Program p = decode(bytes, a);
  ASSERT_EQ(p.scripts.size(), 1u);
  EXPECT_EQ(p.scripts[0].ops, (std::vector<Instr>{Instr{Op::kSyscallWait, 3}}));
  EXPECT_EQ(encode(p, a), std::vector<uint8_t>(std::begin(bytes), std::end(bytes)));
}

// One P: G3 blocks reading the pipe; sysmon retakes its P and hands it to a
// new M, which runs G2; G2's signal wakes the reader's thread.
TEST(SyscallWait, BlocksUntilAnotherGoroutineSignals) {
  const Program p = parse("gomaxprocs 1\ng0: spin(5) signal(3)\ng1: syscallwait(3) spin(1)\n");
  const Outcome o = run(p);
  ASSERT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  const std::string flat = formatFlat(o.trace, o.mids);
  // The reader's M (M0, thread 0) sleeps untimed at entersyscall and is woken by another M.
  EXPECT_NE(flat.find("M0 block @pstatus_store"), std::string::npos) << flat;
  EXPECT_NE(flat.find("handoffp: handoffp P0 case 1"), std::string::npos) << "sysmon did not retake the P";
  EXPECT_NE(flat.find("M0 wake by M2"), std::string::npos) << flat;
}

// Nobody sets flag 5: the reader gives up once every other goroutine has
// finished, and the run ends ok instead of hanging.
TEST(SyscallWait, GivesUpWhenNobodyElseCanAct) {
  const Program p = parse("gomaxprocs 2\ng0: syscallwait(5)\ng1: spin(3) gosched\ng2: syscallwait(6)\n");
  const Outcome o = run(p);
  EXPECT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
}

// The seed: a stop-the-world while one thread is blocked in syscallwait.
TEST(SyscallWait, StopTheWorldTakesTheBlockedThreadsP) {
  const Program p = parse(
      "gomaxprocs 2\ng0: syscallwait(0) spin(1)\ng1: spin(3) stw signal(0)\ng2: syscallwait(1) gosched signal(1)\n");
  const Outcome o = run(p);
  ASSERT_EQ(o.result.verdict, Verdict::kOk) << o.result.kind << ": " << o.result.message;
  const std::string flat = formatFlat(o.trace, o.mids);
  EXPECT_NE(flat.find("stw_done"), std::string::npos) << flat;
}

}  // namespace
}  // namespace schedfuzz
