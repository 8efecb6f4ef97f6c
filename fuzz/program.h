// fuzz/program.h — a fuzz input: a program of goroutine scripts plus a choice stream.
//
// The binary form (what libFuzzer mutates) and the text form (what people
// read and write) encode the same Program; see docs/schedule-format.md.
// Decoding is total: every byte string is a valid Program.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace schedfuzz {

// Operations a goroutine script can perform (the gort API calls they make).
enum class Op : uint8_t {
  kLock,        // runtime.LockOSThread()
  kUnlock,      // runtime.UnlockOSThread()
  kGosched,     // runtime.Gosched()
  kGo,          // go script[arg % nscripts]  (capped: see kMaxGoroutines)
  kNewm,        // go func(){}() — work on the local runq, so handoffp must startm (Go's test does this)
  kStw,         // runtime.ReadMemStats(): stopTheWorld + startTheWorld
  kSyscall,     // entersyscall; arg user steps; exitsyscall
  kExit,        // runtime.Goexit(): a locked goroutine takes its thread with it
  kSpin,        // arg+1 steps of user code (each an async preemption point)
  kGomaxprocs,  // runtime.GOMAXPROCS(1 + arg % 4)
  kSyscallBlock,// entersyscallblock (P handed off at once); arg user steps; exitsyscall
  kCount
};
const char* opName(Op op);  // "lock", "unlock", "gosched", "go", "newm", "stw", "syscall", "exit", "spin", "gomaxprocs", "syscallblock"
bool opHasArg(Op op);       // go, syscall, spin, gomaxprocs, syscallblock

struct Instr {
  Op op = Op::kSpin;
  uint8_t arg = 0;  // 0..15
  bool operator==(const Instr&) const = default;
};

struct Script {
  std::vector<Instr> ops;
  bool operator==(const Script&) const = default;
};

// One entry of the choice stream. Entries of each kind are consumed in order.
struct Choice {
  enum class Kind : uint8_t {
    kSwitch,   // after `delay` more scheduling points, run thread `target` (or the next runnable id after it)
    kPreempt,  // after `delay` more PreemptPoints (on any thread), inject a preemption request there
  };
  Kind kind = Kind::kSwitch;
  uint8_t delay = 0;
  uint8_t target = 0;  // thread id for kSwitch (0..15); unused for kPreempt
  bool operator==(const Choice&) const = default;
};

struct Program {
  int gomaxprocs = 1;                // 1..4
  std::vector<Script> scripts;       // 1..kMaxScripts; main starts one goroutine per script and waits for all
  std::vector<Choice> choices;
  bool operator==(const Program&) const = default;
};

inline constexpr int kMaxScripts = 4;
inline constexpr int kMaxOpsPerScript = 16;
inline constexpr int kMaxGoroutines = 16;   // `go` beyond this many live goroutines is a no-op
inline constexpr int kMaxChoices = 256;

// The ops a target's decoder may produce; a byte selects alphabet[b % size].
struct Alphabet {
  std::vector<Op> ops;
  static Alphabet all();
  static Alphabet lockosthread();  // lock, unlock, gosched, newm, stw, exit, spin
};

// Total decoder: every byte string gives a Program (see docs/schedule-format.md).
Program decode(std::span<const uint8_t> data, const Alphabet& alphabet);
// Inverse of decode for programs whose ops are in `alphabet` and within the limits:
// decode(encode(p, a), a) == p.
std::vector<uint8_t> encode(const Program& p, const Alphabet& alphabet);

// Text form. toText(p) parses back to p. Errors are reported as
// "<source>:<line>:<col>: expected ..." in `error`; returns false then.
std::string toText(const Program& p);
bool parseText(const std::string& text, const std::string& source, Program& out, std::string& error);

// Step budget for running p: generous enough that a fair schedule of the
// fixed runtime always finishes, so exhausting it means a livelock.
uint64_t stepBudget(const Program& p);

}  // namespace schedfuzz
