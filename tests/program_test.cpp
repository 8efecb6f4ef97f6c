// tests/program_test.cpp — the schedule format v1: decode, encode, text form, limits, budget.
//
// Pins docs/schedule-format.md: the byte layout, totality of decode, the
// canonical encoding, the text grammar and its exact error messages, and the
// locality property the fuzzer relies on (one byte changed = one entry changed).
#include "fuzz/program.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace schedfuzz {
namespace {

using Bytes = std::vector<uint8_t>;

Instr I(Op op, uint8_t arg = 0) { return Instr{op, arg}; }
Choice Sw(uint8_t delay, uint8_t target) { return Choice{Choice::Kind::kSwitch, delay, target}; }
Choice Pre(uint8_t delay) { return Choice{Choice::Kind::kPreempt, delay, 0}; }

Program decodeBytes(const Bytes& b, const Alphabet& a) { return decode(std::span<const uint8_t>(b), a); }

// Readable failure output: the text form.
std::string show(const Program& p) { return "\n" + toText(p); }

// The example of docs/schedule-format.md in both forms.
const char* kExampleText =
    "# schedfuzz program v1\n"
    "gomaxprocs 3\n"
    "g0: stw\n"
    "g1: lock\n"
    "g2: newm lock gosched\n"
    "choices: switch+3->t1 preempt+0 switch+12->t2\n";
const Bytes kExampleBytesLockosthread = {
    0x0a,                    // gomaxprocs 3, 3 scripts
    0x01, 0x04,              // g0: stw
    0x01, 0x00,              // g1: lock
    0x03, 0x03, 0x00, 0x02,  // g2: newm lock gosched
    0x03, 0x01,              // switch+3->t1
    0x00, 0x80,              // preempt+0
    0x0c, 0x02,              // switch+12->t2
};
Program exampleProgram() {
  Program p;
  p.gomaxprocs = 3;
  p.scripts = {Script{{I(Op::kStw)}}, Script{{I(Op::kLock)}},
               Script{{I(Op::kNewm), I(Op::kLock), I(Op::kGosched)}}};
  p.choices = {Sw(3, 1), Pre(0), Sw(12, 2)};
  return p;
}

// A random program that checkProgram accepts for alphabet `a`.
Program randomProgram(std::mt19937& rng, const Alphabet& a) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Program p;
  p.gomaxprocs = pick(1, kMaxScripts);
  p.scripts.resize(pick(1, kMaxScripts));
  for (Script& s : p.scripts) {
    const int n = pick(0, kMaxOpsPerScript);
    for (int k = 0; k < n; k++) {
      Instr in;
      in.op = a.ops[pick(0, static_cast<int>(a.ops.size()) - 1)];
      in.arg = opHasArg(in.op) ? static_cast<uint8_t>(pick(0, 15)) : 0;
      s.ops.push_back(in);
    }
  }
  // Mostly short choice lists, sometimes the maximum.
  const int nc = pick(0, 9) == 0 ? kMaxChoices : pick(0, 20);
  for (int i = 0; i < nc; i++)
    p.choices.push_back(pick(0, 3) == 0 ? Pre(static_cast<uint8_t>(pick(0, 255)))
                                        : Sw(static_cast<uint8_t>(pick(0, 255)), static_cast<uint8_t>(pick(0, 15))));
  return p;
}

Bytes randomBytes(std::mt19937& rng, size_t max_len) {
  Bytes b(std::uniform_int_distribution<size_t>(0, max_len)(rng));
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// ---- ops and alphabets ------------------------------------------------------

TEST(Ops, ExecParsesAndIsOnlyInTheWorldAlphabet) {
  Program q;
  std::string err;
  ASSERT_TRUE(parseText("g0: lock exec\n", "t.txt", q, err)) << err;
  EXPECT_EQ(q.scripts.at(0).ops.at(1).op, Op::kExec);
  EXPECT_EQ(Alphabet::world().indexOf(Op::kExec), 15);
  EXPECT_EQ(Alphabet::all().indexOf(Op::kExec), -1);
  EXPECT_EQ(Alphabet::lockosthread().indexOf(Op::kExec), -1);
  const Alphabet w = Alphabet::world();
  EXPECT_EQ(decode(encode(q, w), w), q);
}

TEST(Ops, NamesAndArgs) {
  const char* names[] = {"lock", "unlock", "gosched", "go",         "newm",        "stw",
                         "syscall", "exit", "spin",  "gomaxprocs", "syscallblock", "wait", "signal", "sleep", "nanosleep",
                         "syscallwait", "gc", "exec"};
  const bool args[] = {false, false, false, true, false, false, true, false, true, true, true, true, true, true, true, true, false,
                       false};
  static_assert(std::size(names) == static_cast<size_t>(Op::kCount));
  static_assert(std::size(args) == static_cast<size_t>(Op::kCount));
  for (int i = 0; i < static_cast<int>(Op::kCount); i++) {
    EXPECT_STREQ(opName(static_cast<Op>(i)), names[i]);
    EXPECT_EQ(opHasArg(static_cast<Op>(i)), args[i]) << names[i];
  }
}

// The sched alphabet is ops 0..14 as it was in format v1: later ops go to the
// world alphabet, so selector 15 still decodes as 15 % 15 = lock and no sched
// input (or bug's time to find) changes.
TEST(Alphabet, AllIsTheFirstFifteenOpsInEnumOrder) {
  const Alphabet a = Alphabet::all();
  ASSERT_EQ(a.ops.size(), 15u);
  for (size_t i = 0; i < a.ops.size(); i++) EXPECT_EQ(a.ops[i], static_cast<Op>(i));
  EXPECT_EQ(a.indexOf(Op::kSyscallWait), -1);
  EXPECT_EQ(a.indexOf(Op::kGc), -1);
  EXPECT_EQ(decodeBytes({0x00, 0x01, 0x3f}, a).scripts[0].ops, (std::vector<Instr>{Instr{Op::kLock, 0}}));
}

TEST(Alphabet, World) {
  const std::vector<Op> want = {Op::kLock, Op::kUnlock, Op::kGosched, Op::kGo,        Op::kNewm,
                                Op::kStw,  Op::kSyscall, Op::kExit,   Op::kSpin,      Op::kGomaxprocs,
                                Op::kWait, Op::kSignal,  Op::kNanosleep, Op::kSyscallWait, Op::kGc, Op::kExec};
  EXPECT_EQ(Alphabet::world().ops, want);
  EXPECT_EQ(Alphabet::world().indexOf(Op::kSyscallWait), 13);
  EXPECT_EQ(Alphabet::world().indexOf(Op::kGc), 14);
  EXPECT_EQ(Alphabet::world().indexOf(Op::kSleep), -1);
  EXPECT_EQ(static_cast<int>(Op::kSyscallWait), 15);
  EXPECT_EQ(static_cast<int>(Op::kGc), 16);
  EXPECT_EQ(static_cast<int>(Op::kExec), 17);
}

TEST(Alphabet, LockOSThread) {
  const std::vector<Op> want = {Op::kLock, Op::kUnlock, Op::kGosched, Op::kNewm, Op::kStw, Op::kExit, Op::kSpin};
  EXPECT_EQ(Alphabet::lockosthread().ops, want);
  EXPECT_EQ(Alphabet::lockosthread().indexOf(Op::kStw), 4);
  EXPECT_EQ(Alphabet::lockosthread().indexOf(Op::kGo), -1);
}

// ---- decode: layout and totality --------------------------------------------

TEST(Decode, EmptyInputIsOneEmptyScriptOnOneP) {
  for (const Alphabet& a : {Alphabet::all(), Alphabet::lockosthread(), Alphabet::world()}) {
    const Program p = decodeBytes({}, a);
    EXPECT_EQ(p.gomaxprocs, 1);
    ASSERT_EQ(p.scripts.size(), 1u);
    EXPECT_TRUE(p.scripts[0].ops.empty());
    EXPECT_TRUE(p.choices.empty());
  }
}

TEST(Decode, EveryOneByteInputIsAHeader) {
  for (int b = 0; b < 256; b++) {
    const Program p = decodeBytes({static_cast<uint8_t>(b)}, Alphabet::all());
    EXPECT_EQ(p.gomaxprocs, 1 + (b & 3)) << b;
    EXPECT_EQ(p.scripts.size(), static_cast<size_t>(1 + ((b >> 2) & 3))) << b;
    for (const Script& s : p.scripts) EXPECT_TRUE(s.ops.empty()) << b;
    EXPECT_TRUE(p.choices.empty()) << b;
    EXPECT_EQ(p.walk, b >> 4) << b;
    EXPECT_EQ(checkProgram(p), "") << b;
    // Every header bit means something: the encoding is the byte itself.
    EXPECT_EQ(encode(p, Alphabet::all()), Bytes{static_cast<uint8_t>(b)}) << b;
  }
}

TEST(Decode, DocumentedExample) {
  const Program p = decodeBytes(kExampleBytesLockosthread, Alphabet::lockosthread());
  EXPECT_EQ(p, exampleProgram()) << show(p);
  EXPECT_EQ(encode(exampleProgram(), Alphabet::lockosthread()), kExampleBytesLockosthread);
}

TEST(Decode, OpByteSelectorWrapsAndArgIsHighNibble) {
  // lockosthread has 7 ops: selector 7 -> lock, 15 -> unlock (15 % 7 == 1).
  const Program p = decodeBytes({0x00, 0x04, 0x07, 0x0f, 0x36, 0xf0}, Alphabet::lockosthread());
  ASSERT_EQ(p.scripts.size(), 1u);
  const std::vector<Instr> want = {I(Op::kLock), I(Op::kUnlock), I(Op::kSpin, 3), I(Op::kLock)};
  EXPECT_EQ(p.scripts[0].ops, want) << show(p);  // 0xf0: lock ignores its arg nibble

  const Program q = decodeBytes({0x00, 0x03, 0x53, 0xa9, 0x2a}, Alphabet::all());
  const std::vector<Instr> want_all = {I(Op::kGo, 5), I(Op::kGomaxprocs, 10), I(Op::kSyscallBlock, 2)};
  EXPECT_EQ(q.scripts[0].ops, want_all) << show(q);
}

TEST(Decode, LengthByteIsModulo17) {
  // 0x11 == 17 -> 0 ops; 0x21 == 33 -> 16 ops.
  EXPECT_TRUE(decodeBytes({0x00, 0x11, 0x00, 0x00}, Alphabet::all()).scripts[0].ops.empty());
  Bytes b = {0x00, 0x21};
  b.insert(b.end(), 16, 0x08);  // spin(0) x 16
  const Program p = decodeBytes(b, Alphabet::all());
  EXPECT_EQ(p.scripts[0].ops.size(), 16u);
  EXPECT_TRUE(p.choices.empty());
}

TEST(Decode, DataRunningOutTruncatesTheScriptAndLeavesTheRestEmpty) {
  // 4 scripts announced; g0 claims 5 ops but only 2 bytes follow.
  const Program p = decodeBytes({0x0d, 0x05, 0x00, 0x02}, Alphabet::lockosthread());
  EXPECT_EQ(p.gomaxprocs, 2);
  ASSERT_EQ(p.scripts.size(), 4u);
  EXPECT_EQ(p.scripts[0].ops, (std::vector<Instr>{I(Op::kLock), I(Op::kGosched)}));
  for (int i = 1; i < 4; i++) EXPECT_TRUE(p.scripts[i].ops.empty());
  EXPECT_TRUE(p.choices.empty());
}

TEST(Decode, ChoiceEntries) {
  // Reserved bits 4-6 of the second byte are ignored; a preempt entry has no target.
  const Program p = decodeBytes({0x00, 0x00, 0x07, 0x7f, 0xff, 0xff, 0x00, 0x00, 0x09}, Alphabet::all());
  const std::vector<Choice> want = {Sw(7, 15), Pre(255), Sw(0, 0)};
  EXPECT_EQ(p.choices, want) << show(p);  // the trailing odd byte 0x09 is ignored
}

TEST(Decode, AtMostMaxChoices) {
  Bytes b = {0x00, 0x00};
  for (int i = 0; i < 600; i++) b.insert(b.end(), {static_cast<uint8_t>(i), static_cast<uint8_t>(i % 16)});
  const Program p = decodeBytes(b, Alphabet::all());
  ASSERT_EQ(p.choices.size(), static_cast<size_t>(kMaxChoices));
  EXPECT_EQ(p.choices.back(), Sw(255, 255 % 16));
}

TEST(Decode, EmptyAlphabetConsumesOpBytesWithoutOps) {
  const Program p = decodeBytes({0x04, 0x02, 0x11, 0x22, 0x01, 0x33, 0x05, 0x01}, Alphabet{});
  ASSERT_EQ(p.scripts.size(), 2u);
  EXPECT_TRUE(p.scripts[0].ops.empty());
  EXPECT_TRUE(p.scripts[1].ops.empty());
  EXPECT_EQ(p.choices, std::vector<Choice>{Sw(5, 1)});
}

TEST(Decode, RandomInputsAreWithinLimitsAndRoundTrip) {
  std::mt19937 rng(20240514);
  for (const Alphabet& a : {Alphabet::all(), Alphabet::lockosthread(), Alphabet::world()}) {
    for (int i = 0; i < 3000; i++) {
      const Bytes x = randomBytes(rng, i % 10 == 0 ? 700 : 80);
      const Program p = decodeBytes(x, a);
      ASSERT_EQ(checkProgram(p, &a), "") << show(p);
      const Bytes e = encode(p, a);
      ASSERT_LE(e.size(), std::max<size_t>(x.size(), 1)) << "canonical form is never longer";
      ASSERT_EQ(decodeBytes(e, a), p) << show(p);    // decode(encode(decode(x))) == decode(x)
      ASSERT_EQ(encode(decodeBytes(e, a), a), e);    // the canonical bytes are a fixed point
    }
  }
}

// ---- encode ------------------------------------------------------------------

TEST(Encode, RandomProgramsRoundTrip) {
  std::mt19937 rng(7);
  for (const Alphabet& a : {Alphabet::all(), Alphabet::lockosthread(), Alphabet::world()}) {
    for (int i = 0; i < 2000; i++) {
      const Program p = randomProgram(rng, a);
      ASSERT_EQ(checkProgram(p, &a), "");
      ASSERT_EQ(decodeBytes(encode(p, a), a), p) << show(p);
    }
  }
}

TEST(Encode, ShortCanonicalForm) {
  Program p;
  p.scripts.resize(1);
  EXPECT_EQ(encode(p, Alphabet::all()), Bytes{0x00});  // the header is always written

  p.gomaxprocs = 4;
  p.scripts.resize(4);
  p.scripts[1].ops = {I(Op::kLock)};
  // Without choices, empty trailing scripts need no length byte...
  EXPECT_EQ(encode(p, Alphabet::all()), (Bytes{0x0f, 0x00, 0x01, 0x00}));
  // ...with choices they do, so that the choices start where decode expects.
  p.choices = {Pre(1)};
  EXPECT_EQ(encode(p, Alphabet::all()), (Bytes{0x0f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x80}));
}

TEST(Encode, ClampsWhatTheFormatCannotHold) {
  Program p;
  p.gomaxprocs = 9;
  p.scripts.resize(6);
  for (int i = 0; i < 20; i++) p.scripts[0].ops.push_back(I(Op::kSpin, 1));
  p.scripts[1].ops = {I(Op::kGo, 1), I(Op::kLock, 3), I(Op::kSpin, 200)};
  p.choices.assign(300, Sw(1, 40));
  p.choices[0] = Choice{Choice::Kind::kPreempt, 3, 9};
  ASSERT_NE(checkProgram(p), "");

  const Alphabet a = Alphabet::lockosthread();
  const Program q = decodeBytes(encode(p, a), a);
  EXPECT_EQ(checkProgram(q, &a), "") << show(q);
  EXPECT_EQ(q.gomaxprocs, 4);
  ASSERT_EQ(q.scripts.size(), 4u);
  EXPECT_EQ(q.scripts[0].ops, std::vector<Instr>(16, I(Op::kSpin, 1)));
  // go is not in the lockosthread alphabet: dropped; args masked to 4 bits.
  EXPECT_EQ(q.scripts[1].ops, (std::vector<Instr>{I(Op::kLock), I(Op::kSpin, 200 & 15)}));
  ASSERT_EQ(q.choices.size(), static_cast<size_t>(kMaxChoices));
  EXPECT_EQ(q.choices[0], Pre(3));
  EXPECT_EQ(q.choices[1], Sw(1, 40 & 15));
}

TEST(CheckProgram, NamesTheProblem) {
  Program p = exampleProgram();
  EXPECT_EQ(checkProgram(p), "");
  EXPECT_EQ(checkProgram(p, nullptr), "");
  const Alphabet a = Alphabet::lockosthread();
  EXPECT_EQ(checkProgram(p, &a), "");

  Program q = p;
  q.scripts[2].ops[1] = I(Op::kLock, 2);
  EXPECT_EQ(checkProgram(q), "g2 op 1: lock arg 2 should be 0 (the op takes none)");
  q = p;
  q.scripts[0].ops.push_back(I(Op::kGo, 1));
  EXPECT_EQ(checkProgram(q), "");
  EXPECT_EQ(checkProgram(q, &a), "g0 op 1: go is not in the alphabet");
  q = p;
  q.gomaxprocs = 0;
  EXPECT_EQ(checkProgram(q), "gomaxprocs 0 is outside 1..4");
  q = p;
  q.scripts.clear();
  EXPECT_EQ(checkProgram(q), "0 scripts (want 1..4)");
  q = p;
  q.choices[2].target = 16;
  EXPECT_EQ(checkProgram(q), "choice 2: target t16 is outside t0..t15");
}

// ---- locality ----------------------------------------------------------------

TEST(Locality, FlippingOneChoiceBitChangesOneChoice) {
  std::mt19937 rng(99);
  const Alphabet a = Alphabet::all();
  int changed = 0;
  for (int iter = 0; iter < 200; iter++) {
    Program p = randomProgram(rng, a);
    if (p.choices.size() > 24) p.choices.resize(24);  // every flip re-decodes: keep it quick at -O0
    if (p.choices.empty()) p.choices.push_back(Sw(1, 2));
    const Bytes e = encode(p, a);
    const size_t first = e.size() - 2 * p.choices.size();
    for (size_t pos = first; pos < e.size(); pos++) {
      for (int bit = 0; bit < 8; bit++) {
        Bytes m = e;
        m[pos] ^= static_cast<uint8_t>(1u << bit);
        const Program q = decodeBytes(m, a);
        ASSERT_EQ(q.gomaxprocs, p.gomaxprocs);
        ASSERT_EQ(q.scripts, p.scripts);
        ASSERT_EQ(q.choices.size(), p.choices.size());
        const size_t entry = (pos - first) / 2;
        for (size_t i = 0; i < p.choices.size(); i++) {
          if (i == entry) continue;
          ASSERT_EQ(q.choices[i], p.choices[i]) << "byte " << pos << " bit " << bit;
        }
        changed += q.choices[entry] != p.choices[entry];
      }
    }
  }
  EXPECT_GT(changed, 0);  // the flips did do something
}

TEST(Locality, ChangingOneOpByteChangesOneInstr) {
  std::mt19937 rng(5);
  const Alphabet a = Alphabet::lockosthread();
  for (int iter = 0; iter < 300; iter++) {
    const Program p = randomProgram(rng, a);
    const Bytes e = encode(p, a);
    // Walk the layout to find each op byte.
    size_t pos = 1;
    for (size_t s = 0; s < p.scripts.size() && pos < e.size(); s++) {
      const size_t n = e[pos++];
      for (size_t k = 0; k < n; k++, pos++) {
        Bytes m = e;
        m[pos] = static_cast<uint8_t>(rng());
        Program q = decodeBytes(m, a);
        ASSERT_EQ(q.scripts[s].ops.size(), p.scripts[s].ops.size());
        q.scripts[s].ops[k] = p.scripts[s].ops[k];
        ASSERT_EQ(q, p) << "script " << s << " op " << k;
      }
    }
  }
}

// ---- text form ---------------------------------------------------------------

TEST(Text, ToTextOfTheExample) {
  EXPECT_EQ(toText(exampleProgram()), kExampleText);
}

TEST(Text, ArgsAndLongChoiceListsPrintAsDocumented) {
  Program p;
  p.gomaxprocs = 1;
  p.scripts = {Script{{I(Op::kSpin, 3), I(Op::kGo, 1), I(Op::kSyscall, 2), I(Op::kGomaxprocs, 2)}}, Script{}};
  for (int i = 0; i < 10; i++) p.choices.push_back(i % 2 ? Pre(i) : Sw(i, i));
  EXPECT_EQ(toText(p),
            "# schedfuzz program v1\n"
            "gomaxprocs 1\n"
            "g0: spin(3) go(1) syscall(2) gomaxprocs(2)\n"
            "g1:\n"
            "choices: switch+0->t0 preempt+1 switch+2->t2 preempt+3 switch+4->t4 preempt+5 switch+6->t6 preempt+7\n"
            "         switch+8->t8 preempt+9\n");
}

TEST(Text, HandWrittenProgramParses) {
  const std::string text =
      "  # a reproducer, written by hand\n"
      "\n"
      "gomaxprocs 3   # three Ps\r\n"
      "g0:stw\n"
      "g1 : lock spin syscallblock( 15 )\n"
      "g2: newm lock gosched # the racing goroutine\n"
      "choices: switch+3->t1\n"
      "  preempt + 0\n"
      "\tswitch+12 -> t2\n"
      "choices:\n"
      "choices: preempt+255 switch+255->t15 # repeated\n";
  Program p;
  std::string err;
  ASSERT_TRUE(parseText(text, "hand.txt", p, err)) << err;
  Program want = exampleProgram();
  want.scripts[1].ops = {I(Op::kLock), I(Op::kSpin, 0), I(Op::kSyscallBlock, 15)};
  want.choices.push_back(Pre(255));
  want.choices.push_back(Sw(255, 15));
  EXPECT_EQ(p, want) << show(p);
}

TEST(Text, DefaultsAndEmptyScripts) {
  Program p;
  std::string err;
  ASSERT_TRUE(parseText("g0:\n", "t", p, err)) << err;
  EXPECT_EQ(p.gomaxprocs, 1);
  EXPECT_EQ(p.scripts, std::vector<Script>(1));
  EXPECT_TRUE(p.choices.empty());
  ASSERT_TRUE(parseText("g0:", "t", p, err)) << err;  // no final newline
  EXPECT_EQ(p.scripts, std::vector<Script>(1));
}

TEST(Text, RandomProgramsRoundTrip) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; i++) {
    const Program p = randomProgram(rng, Alphabet::all());
    Program q;
    q.gomaxprocs = 0;
    std::string err;
    ASSERT_TRUE(parseText(toText(p), "rt", q, err)) << err << show(p);
    ASSERT_EQ(q, p) << show(p);
  }
}

TEST(Text, DecodedInputsRoundTrip) {
  std::mt19937 rng(12);
  for (int i = 0; i < 2000; i++) {
    const Program p = decodeBytes(randomBytes(rng, 200), Alphabet::all());
    Program q;
    std::string err;
    ASSERT_TRUE(parseText(toText(p), "rt", q, err)) << err << show(p);
    ASSERT_EQ(q, p);
  }
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(Text, ParseErrorsAreExact) {
  const ErrorCase cases[] = {
      {"g0: lock lck\n",
       "f.txt:1:10: expected an op (lock, unlock, gosched, go, newm, stw, syscall, exit, spin, gomaxprocs, "
       "syscallblock, wait, signal, sleep, nanosleep, syscallwait, gc, exec), found 'lck'"},
      {"g0: 3\n",
       "f.txt:1:5: expected an op (lock, unlock, gosched, go, newm, stw, syscall, exit, spin, gomaxprocs, "
       "syscallblock, wait, signal, sleep, nanosleep, syscallwait, gc, exec), found '3'"},
      {"gomaxprocs 2\ng0: spin(16)\n", "f.txt:2:10: expected argument 0..15, found '16'"},
      {"g0: spin(x)\n", "f.txt:1:10: expected argument 0..15, found 'x'"},
      {"g0: spin(3\n", "f.txt:1:11: expected ')', found end of line"},
      {"g0: spin(3 # oops\n", "f.txt:1:12: expected ')', found end of line"},
      {"g0: lock(1)\n", "f.txt:1:9: expected no argument for 'lock', found '('"},
      {"g0:\ng1:\ng2:\ng3:\ng4: lock\n", "f.txt:5:1: expected at most 4 scripts (g0..g3), found 'g4'"},
      {"g0:\ng2:\n", "f.txt:2:1: expected script id g1, found 'g2'"},
      {"g1: lock\n", "f.txt:1:1: expected script id g0, found 'g1'"},
      {"g0:\ng0:\n", "f.txt:2:1: expected script id g1, found 'g0'"},
      {"g0 lock\n", "f.txt:1:4: expected ':' after 'g0', found 'lock'"},
      {"gomaxprocs 5\ng0:\n", "f.txt:1:12: expected gomaxprocs 1..4, found '5'"},
      {"gomaxprocs 0\n", "f.txt:1:12: expected gomaxprocs 1..4, found '0'"},
      {"gomaxprocs\n", "f.txt:1:11: expected gomaxprocs 1..4, found end of line"},
      {"gomaxprocs 2 3\n", "f.txt:1:14: expected end of line, found '3'"},
      {"gomaxprocs 2\ngomaxprocs 2\n", "f.txt:2:1: expected one 'gomaxprocs' line, found 'gomaxprocs'"},
      {"# nothing\n\n", "f.txt:3:1: expected a script line 'g0:', found end of input"},
      {"", "f.txt:1:1: expected a script line 'g0:', found end of input"},
      {"gomaxprocs 2", "f.txt:1:13: expected a script line 'g0:', found end of input"},
      {"g0:\nlock\n", "f.txt:2:1: expected 'gomaxprocs', 'walk', 'gN:' or 'choices:', found 'lock'"},
      {"g0:\nswitch+1->t0\n", "f.txt:2:1: expected 'gomaxprocs', 'walk', 'gN:' or 'choices:', found 'switch'"},
      {"g0:\n@\n", "f.txt:2:1: expected 'gomaxprocs', 'walk', 'gN:' or 'choices:', found '@'"},
      {"g0:\nchoices switch+1->t0\n", "f.txt:2:9: expected ':' after 'choices', found 'switch'"},
      {"g0:\nchoices: switch+1->t16\n", "f.txt:2:20: expected thread t0..t15, found 't16'"},
      {"g0:\nchoices: switch+1->1\n", "f.txt:2:20: expected thread t0..t15, found '1'"},
      {"g0:\nchoices: switch+256->t1\n", "f.txt:2:17: expected delay 0..255, found '256'"},
      {"g0:\nchoices: preempt+99999999999999\n", "f.txt:2:18: expected delay 0..255, found '99999999999999'"},
      {"g0:\nchoices: switch 1\n", "f.txt:2:17: expected '+' after 'switch', found '1'"},
      {"g0:\nchoices: switch+1 t1\n", "f.txt:2:19: expected '->' after the delay, found 't1'"},
      {"g0:\nchoices: switch+1-t1\n", "f.txt:2:18: expected '->' after the delay, found '-'"},
      {"g0:\nchoices: preempt+1 swap+2\n",
       "f.txt:2:20: expected a choice ('switch+D->tN' or 'preempt+D'), found 'swap'"},
      {"g0:\r\ng1: syscall(\r\n", "f.txt:2:13: expected argument 0..15, found end of line"},
      {"g0: exit(1)\n", "f.txt:1:9: expected no argument for 'exit', found '('"},
  };
  for (const ErrorCase& c : cases) {
    Program p = exampleProgram();
    std::string err;
    EXPECT_FALSE(parseText(c.text, "f.txt", p, err)) << c.text;
    EXPECT_EQ(err, c.message) << c.text;
    EXPECT_EQ(p, exampleProgram()) << "out is left unchanged on error";
  }
}

TEST(Text, TheVersionLineMustSayV1) {
  const std::string body = "gomaxprocs 1\ng0: lock\n";
  Program p;
  std::string err;
  for (const char* ok : {"# schedfuzz program v1\n", "# schedfuzz program v1  \r\n", "\n  # schedfuzz program v1\n",
                         "#schedfuzz program v1\n", "# a comment first is an ordinary comment\n"}) {
    EXPECT_TRUE(parseText(ok + body, "f.txt", p, err)) << ok << ": " << err;
  }
  struct Case {
    const char* header;
    const char* message;
  } cases[] = {
      {"# schedfuzz program v2", "f.txt:1:21: expected the version line '# schedfuzz program v1': version v1 (the "
                                 "only version of the text form), found 'v2'"},
      {"# schedfuzz program v999", "f.txt:1:21: expected the version line '# schedfuzz program v1': version v1 (the "
                                   "only version of the text form), found 'v999'"},
      {"# schedfuzz programXYZ", "f.txt:1:13: expected the version line '# schedfuzz program v1': 'program' after "
                                 "'schedfuzz', found 'programXYZ'"},
      {"# schedfuzz", "f.txt:1:12: expected the version line '# schedfuzz program v1': 'program' after "
                      "'schedfuzz', found end of line"},
      {"\n\n# schedfuzz program v1.1", "f.txt:3:21: expected the version line '# schedfuzz program v1': version v1 "
                                      "(the only version of the text form), found 'v1.1'"},
  };
  for (const Case& c : cases) {
    Program q = exampleProgram();
    EXPECT_FALSE(parseText(c.header + ("\n" + body), "f.txt", q, err)) << c.header;
    EXPECT_EQ(err, c.message);
    EXPECT_EQ(q, exampleProgram());
  }
  // Only the first non-blank line is the version line.
  EXPECT_TRUE(parseText(body + "# schedfuzz program v2 (a note, not a header)\n", "f.txt", p, err)) << err;
}

TEST(Text, ALeadingBomIsSkipped) {
  Program p, q;
  std::string err;
  ASSERT_TRUE(parseText(kExampleText, "f", p, err)) << err;
  ASSERT_TRUE(parseText("\xEF\xBB\xBF" + std::string(kExampleText), "f", q, err)) << err;
  EXPECT_EQ(p, q);
  // Columns count from after the BOM.
  EXPECT_FALSE(parseText("\xEF\xBB\xBFg0: lck\n", "f", q, err));
  EXPECT_EQ(err.rfind("f:1:5: expected an op (", 0), 0u) << err;
  EXPECT_EQ(err.substr(err.rfind(", found ")), ", found 'lck'");
  // A BOM anywhere else is a byte like any other.
  EXPECT_FALSE(parseText("g0:\n\xEF\xBB\xBFg1:\n", "f", q, err));
  EXPECT_EQ(err, "f:2:1: expected 'gomaxprocs', 'walk', 'gN:' or 'choices:', found '\\xef'");
}

TEST(Text, IsTextFormAllowsABomAndBlankSpaceFirst) {
  for (const char* yes : {"# schedfuzz program v1\n", "\xEF\xBB\xBF# schedfuzz program v1", "\n# schedfuzz program",
                          " \t\r\n# schedfuzz program v2", "\xEF\xBB\xBF\n # schedfuzz programXYZ"})
    EXPECT_TRUE(isTextForm(yes)) << yes;
  for (const char* no : {"", "\x03\x01", "gomaxprocs 1\ng0: lock\n", "#schedfuzz program v1", "x# schedfuzz program",
                         "\xEF\xBB# schedfuzz program", "# schedfuzz"})
    EXPECT_FALSE(isTextForm(no)) << no;
  EXPECT_FALSE(isTextForm(std::string_view("\0# schedfuzz program v1", 24)));
}

TEST(Text, ErrorsQuoteTheTokenEscapedAndTruncated) {
  EXPECT_EQ(quoteToken("lck"), "'lck'");
  EXPECT_EQ(quoteToken(std::string_view("a\0b", 3)), "'a\\x00b'");
  EXPECT_EQ(quoteToken("\x1b[31m"), "'\\x1b[31m'");
  EXPECT_EQ(quoteToken("it's \\"), "'it\\x27s \\x5c'");
  EXPECT_EQ(quoteToken("\xff\x7f"), "'\\xff\\x7f'");
  EXPECT_EQ(quoteToken(std::string(41, 'w')), "'" + std::string(40, 'w') + "'... (41 bytes)");
  EXPECT_EQ(quoteToken(std::string(40, 'w')), "'" + std::string(40, 'w') + "'");
  EXPECT_EQ(quoteToken("abcdef", 3), "'abc'... (6 bytes)");

  Program p;
  std::string err;
  EXPECT_FALSE(parseText(std::string("g0: lock \0\n", 11), "f", p, err));
  EXPECT_EQ(err.size(), std::strlen(err.c_str())) << "no NUL in the message";
  EXPECT_EQ(err.substr(err.rfind(", found ")), ", found '\\x00'");
  EXPECT_FALSE(parseText("g0: " + std::string(10 << 20, 'z') + "\n", "f", p, err));
  EXPECT_LT(err.size(), 300u);
  EXPECT_EQ(err.substr(err.rfind(", found ")), ", found '" + std::string(40, 'z') + "'... (10485760 bytes)");
  EXPECT_FALSE(parseText("g0: spin(" + std::string(100, '9') + ")\n", "f", p, err));
  EXPECT_EQ(err.substr(err.rfind(", found ")), ", found '" + std::string(40, '9') + "'... (100 bytes)");
}

TEST(Text, OpAndChoiceLimits) {
  std::string text = "g0:";
  for (int i = 0; i < 16; i++) text += " lock";
  Program p;
  std::string err;
  ASSERT_TRUE(parseText(text + "\n", "f", p, err)) << err;
  EXPECT_EQ(p.scripts[0].ops.size(), 16u);
  EXPECT_FALSE(parseText(text + " unlock\n", "f", p, err));
  EXPECT_EQ(err, "f:1:85: expected at most 16 ops in a script, found 'unlock'");

  std::string choices = "g0:\nchoices:";
  for (int i = 0; i < 256; i++) choices += i % 8 == 7 ? " preempt+1\n" : " preempt+1";
  ASSERT_TRUE(parseText(choices, "f", p, err)) << err;
  EXPECT_EQ(p.choices.size(), 256u);
  EXPECT_FALSE(parseText(choices + " switch+0->t0\n", "f", p, err));
  EXPECT_EQ(err, "f:34:2: expected at most 256 choices, found 'switch'");
}

TEST(Text, TextAndBinaryDescribeTheSameProgram) {
  Program p;
  std::string err;
  ASSERT_TRUE(parseText(kExampleText, "example", p, err)) << err;
  EXPECT_EQ(encode(p, Alphabet::lockosthread()), kExampleBytesLockosthread);
}

// ---- step budget -------------------------------------------------------------

TEST(StepBudget, Formula) {
  Program p;
  p.scripts.resize(1);
  EXPECT_EQ(stepBudget(p), 20000u);
  p.scripts[0].ops = {I(Op::kLock), I(Op::kGosched)};
  EXPECT_EQ(stepBudget(p), 20000u + 2 * 4000);
  p.scripts[0].ops.push_back(I(Op::kSpin, 3));
  EXPECT_EQ(stepBudget(p), 20000u + 3 * 4000 + 500 * 4);
  p.scripts.push_back(Script{{I(Op::kSyscall, 15), I(Op::kSyscallBlock, 0)}});
  EXPECT_EQ(stepBudget(p), 20000u + 5 * 4000 + 500 * (4 + 16 + 1));
}

TEST(StepBudget, GoChargesTheGoroutinesItMayStart) {
  Program p;
  p.scripts = {Script{{I(Op::kGo, 1)}}, Script{{I(Op::kLock), I(Op::kUnlock)}}};
  // scripts: 4000 + 8000; go(1) may start 16 - 2 goroutines running g1 (8000 each, +4000 to start).
  EXPECT_EQ(stepBudget(p), 20000u + 12000 + 14 * (8000 + 4000));
}

TEST(StepBudget, IsCappedAndMonotone) {
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; i++) {
    Program p = randomProgram(rng, Alphabet::all());
    const uint64_t b = stepBudget(p);
    EXPECT_GE(b, 20000u);
    bool waits = false;
    for (const Script& sc : p.scripts)
      for (const Instr& in : sc.ops) waits |= in.op == Op::kWait;
    EXPECT_LE(b, waits ? 4000000u : 400000u);
    if (p.scripts[0].ops.size() < static_cast<size_t>(kMaxOpsPerScript)) {
      p.scripts[0].ops.push_back(I(Op::kSpin, 15));
      EXPECT_GE(stepBudget(p), b);
    }
  }
  Program big;
  big.scripts.assign(4, Script{std::vector<Instr>(16, I(Op::kSpin, 15))});
  EXPECT_EQ(stepBudget(big), 400000u);
  // A program whose goroutines spin in wait ops may need a sysmon preemption
  // (10 ms = 10000 points) per goroutine: its cap is higher.
  for (Script& sc : big.scripts)
    for (Instr& in : sc.ops) in = I(Op::kWait, 0);
  EXPECT_GT(stepBudget(big), 400000u);
  EXPECT_LE(stepBudget(big), 4000000u);
}

}  // namespace
}  // namespace schedfuzz
