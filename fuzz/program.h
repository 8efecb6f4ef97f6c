// fuzz/program.h — a fuzz input: a program of goroutine scripts plus a choice stream.
//
// The binary form (what libFuzzer mutates) and the text form (what people
// read and write) encode the same Program; see docs/schedule-format.md.
// Decoding is total: every byte string is a valid Program.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
  kWait,        // spin (user steps) until flag arg is set, every other live script goroutine waits too, or the spinner is preempted
  kSignal,      // set flag arg
  kSleep,       // time.Sleep((arg+1) * 20us): park on a timer of the current P (Go 1.14 per-P timers)
  kNanosleep,   // syscall.Nanosleep: entersyscall; the thread blocks (arg+1) * 20us in the kernel; exitsyscall
  kSyscallWait, // a read from a pipe that signal(arg) writes: entersyscall; the thread blocks in the kernel until flag arg is set (or every other live script goroutine waits too); exitsyscall
  kGc,          // a GC-like ragged barrier: semacquire(worldsema); n := gomaxprocs; forEachP(fn); semrelease (world alphabet only)
  kExec,        // 17: syscall.Exec whose execve fails: execLock.lock (the writer), execve, execLock.unlock (proc.go 3341-3350; world alphabet only)
  kCount
};
const char* opName(Op op);  // "lock", "unlock", "gosched", "go", "newm", "stw", "syscall", "exit", "spin", "gomaxprocs", "syscallblock", "wait", "signal", "sleep", "nanosleep", "syscallwait", "gc", "exec"
bool opHasArg(Op op);       // go, syscall, spin, gomaxprocs, syscallblock, wait, signal, sleep, nanosleep, syscallwait

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
  // 0: the default policy is the sticky round robin. 1..15: where no choice
  // entry decides, the default policy is a random walk that switches to a
  // pseudo-random runnable thread with probability walk/32 and injects a
  // preemption with probability walk/32 at a function prologue (walk/256 at a
  // user step), seeded by walkSeed(p) (the program, not its choices: choice
  // entries stay local). See docs/schedule-format.md, "The walk".
  int walk = 0;
  std::vector<Script> scripts;       // 1..kMaxScripts; main starts one goroutine per script and waits for all
  std::vector<Choice> choices;
  bool operator==(const Program&) const = default;
};

inline constexpr int kMaxScripts = 4;
inline constexpr int kMaxOpsPerScript = 16;
// Goroutines a run may start in total, counting the nscripts that main
// starts; a `go` beyond that is a no-op. A cap on *live* goroutines would not
// bound a run: `g0: go(0)` would spawn itself forever, and stepBudget could not
// tell that from a livelock.
inline constexpr int kMaxGoroutines = 16;
inline constexpr int kMaxChoices = 256;

// The ops a target's decoder may produce; a byte selects alphabet[b % size].
// Only the first 16 entries are reachable (an op byte has a 4-bit selector).
struct Alphabet {
  std::vector<Op> ops;
  static Alphabet all();           // ops 0..14 (lock .. nanosleep), in enum order; unchanged since format v1
  static Alphabet lockosthread();  // lock, unlock, gosched, newm, stw, exit, spin
  // The world target: the ops that reach beyond the scheduler (syscallwait,
  // gc, exec) plus the ones their bugs need; 16 entries, exec the 16th
  // (docs/schedule-format.md, "Alphabets").
  static Alphabet world();
  // Selector that encode writes for op (its first index), or -1 if op is unreachable.
  int indexOf(Op op) const;
};

// Total decoder: every byte string gives a Program (see docs/schedule-format.md).
Program decode(std::span<const uint8_t> data, const Alphabet& alphabet);
// Inverse of decode for programs whose ops are in `alphabet` and within the limits:
// decode(encode(p, a), a) == p. Total: anything else is clamped first (see
// docs/schedule-format.md, "Encoding"), so decode(encode(p, a), a) is always
// the nearest program checkProgram accepts. The output is canonical and short.
std::vector<uint8_t> encode(const Program& p, const Alphabet& alphabet);

// Why p is not a canonical in-limits program, or "" if it is: gomaxprocs
// 1..4, 1..kMaxScripts scripts of at most kMaxOpsPerScript ops, args 0..15
// (and 0 for ops without one), at most kMaxChoices choices, switch targets
// 0..15, preempt targets 0, and, if `alphabet` is given, every op reachable in
// it. Exactly these programs round-trip through encode/decode and toText/parseText.
std::string checkProgram(const Program& p, const Alphabet* alphabet = nullptr);

// Text form. toText(p) parses back to p (for p that checkProgram accepts).
// Errors are reported as "<source>:<line>:<col>: expected <what>, found
// '<token>'" in `error`; returns false then and leaves `out` unchanged.
//
// A leading UTF-8 byte order mark is skipped. The first non-blank line, if it
// is a comment whose first word is "schedfuzz", must be the version line
// "# schedfuzz program v1" exactly (trailing blanks allowed): any other
// version is an error, not a v1 program. A text without that line is still
// parsed (hand-written snippets, tests); the tools recognise the text form by
// it (isTextForm). The found token is quoted by quoteToken.
std::string toText(const Program& p);
bool parseText(const std::string& text, const std::string& source, Program& out, std::string& error);

// The version line of the text form, and how the tools tell the two forms
// apart: true iff `bytes`, after an optional UTF-8 BOM and any ASCII
// whitespace (space, tab, CR, LF, VT, FF), starts with "# schedfuzz program".
// Everything else is the binary form (every byte string is a valid input).
inline constexpr const char* kTextHeader = "# schedfuzz program v1";
bool isTextForm(std::string_view bytes);

// `s` for an error message: in single quotes, printable ASCII as is, every
// other byte (NUL, ESC, DEL, a byte >= 0x80) and the backslash and quote as
// \xNN, cut after `max` characters of the original with "..." added. So a
// message is one short line whatever the input holds.
std::string quoteToken(std::string_view s, size_t max = 40);

// The seed of the walk default policy: a hash of gomaxprocs, walk and the
// scripts (not the choices).
uint64_t walkSeed(const Program& p);

// Step budget for running p: generous enough that a fair schedule of the
// fixed runtime always finishes, so exhausting it means a livelock.
// 20000 + 4000 per op + 500 per user step of spin/syscall args + 20 per
// 1 us of sleep/nanosleep, plus the
// goroutines `go` may start; capped at 400000 (docs/schedule-format.md).
uint64_t stepBudget(const Program& p);

}  // namespace schedfuzz
