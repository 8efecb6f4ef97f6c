// fuzz/tools/export.cpp — schedfuzz-export --go: a finding as a Go program and a GOSCHEDFUZZ knob.
//
// The program is the finding's goroutine scripts as Go code (op by op: see
// goOp); the knob is the part of its schedule that the real runtime's hook
// (realgo/go/schedfuzz.go) can express, derived from the finding's trace:
//
//  * Aligned events: runtime events that the Go program makes the real
//    runtime do the same number of times in the same order as gort when it
//    follows the schedule, and that the hook can see: template_cas,
//    lockosthread, newm_queued, stw_start (aligned()); and mexit, used only
//    to end the hold below. Their counts in the
//    trace are the knob's site@n.
//  * Each preemption "preempted G at S" of a script goroutine becomes a hold
//    at the last aligned event that goroutine did before it (its anchor,
//    where the real goroutine is in the same place: e.g. right after the
//    haveTemplateThread CAS), until the aligned events other threads did
//    between the anchor and the preemption have happened, then a preempt
//    request (gp.preempt, stackguard0 = stackPreempt) that lands at the next
//    prologue, as gort's did at S.
//  * Each such event of another thread inside that window that has a hook
//    before it (LockOSThread's template_load, stopTheWorld's prologue) is
//    held until the anchor and the aligned events before it in the window
//    have happened: the switches that put it after them.
//  * A newm_queued after a startm, or a clone after handoffp's startm, means
//    gort's startm found no idle M. The real runtime keeps idle Ms from
//    start-up (its own background goroutines, which gort does not model), so
//    the knob holds every M that would go idle (stopm) until that newm is
//    queued, or until the cloning thread's mexit.
//
// What the trace has and the knob cannot say (a preemption without an
// anchor, a goroutine the exporter cannot name) is printed as a "note:" on
// standard error and as a comment in main.go.
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz/harness.h"
#include "fuzz/tools/common.h"
#include "fuzz/trace.h"

namespace schedfuzz::tools {
namespace {

const ToolInfo kTool = {
    "schedfuzz-export",
    kExport,
    "--go [flags] FILE",
    "Runs FILE once, as schedfuzz-replay does, and exports the finding for the real\n"
    "Go runtime (realgo/README.md): a Go program that performs the finding's\n"
    "goroutine scripts with the real calls (main.go, go.mod: standard library only),\n"
    "the GOMAXPROCS to run it with, and a GOSCHEDFUZZ knob for the patched runtime's\n"
    "schedule hook, derived from the finding's trace (each preemption and the\n"
    "switches that order the events around it, as site@n actions). The output is a\n"
    "pure function of FILE and the flags.",
    "\noutput:\n"
    "  with --dir=DIR: DIR/main.go, DIR/go.mod, DIR/knob.txt (the GOSCHEDFUZZ value, one line),\n"
    "  DIR/gomaxprocs.txt, and on standard output the lines \"GOMAXPROCS=<n>\" and\n"
    "  \"GOSCHEDFUZZ=<knob>\". Without --dir: those two lines, then main.go.\n"
    "  What the knob cannot express is printed as \"note: ...\" lines on standard error.\n"
    "\nexit status: 0 exported, 2 usage, input or output error, or FILE is no finding under --bugs.\n",
};

// --- the Go program ----------------------------------------------------------

std::string goOp(const Instr& ins, int nscripts) {
  const std::string a = std::to_string(ins.arg);
  switch (ins.op) {
    case Op::kLock: return "runtime.LockOSThread()";
    case Op::kUnlock: return "runtime.UnlockOSThread()";
    case Op::kGosched: return "runtime.Gosched()";
    case Op::kGo: return "spawn(" + std::to_string(ins.arg % nscripts) + ")";
    case Op::kNewm: return "go func() {}() // newm: work on the local runq";
    case Op::kStw: return "runtime.ReadMemStats(&ms) // stw: stopTheWorld + startTheWorld";
    case Op::kSyscall: return "syscallSteps(" + a + ") // syscall: entersyscall, " + a + " us in the kernel, exitsyscall";
    case Op::kSyscallBlock:
      return "syscallSteps(" + a + ") // syscallblock: no user call enters entersyscallblock; a plain syscall";
    case Op::kExit: return "exit() // runtime.Goexit";
    case Op::kSpin: return "spin(" + a + ")";
    case Op::kGomaxprocs: return "runtime.GOMAXPROCS(" + std::to_string(1 + ins.arg % 4) + ")";
    case Op::kWait: return "wait(" + a + ")";
    case Op::kSignal: return "atomic.StoreInt32(&flags[" + a + "], 1) // signal";
    case Op::kSleep: return "time.Sleep(" + std::to_string((ins.arg + 1) * 20) + " * time.Microsecond)";
    case Op::kNanosleep:
      return "syscall.Nanosleep(&syscall.Timespec{Nsec: " + std::to_string((ins.arg + 1) * 20000) + "}, nil)";
    case Op::kSyscallWait:
      return "wait(" + a + ") // syscallwait(" + a + "): a pipe read in schedfuzz; exported as a spin-wait on the same flag";
    case Op::kGc: return "runtime.GC() // gc: forEachP under worldsema";
    case Op::kExec:
      return "syscall.Exec(\"/nonexistent/schedfuzz-exec\", nil, nil) // exec: fails with ENOENT; execLock held for writing meanwhile";
    case Op::kCount: break;
  }
  return "";
}

// With `oracle` (a thread-taint finding, signature oracle/...), lock and
// unlock taint and clean the thread (its name, which a cloned thread
// inherits), and every op of a goroutine that holds no lock, and main at the
// end, check that its thread is clean: Go's LockOSThreadAvoidsStatePropagation
// shape. A tainted thread seen elsewhere prints "TAINT: ..." and exits 3.
std::string goProgram(const Program& p, const std::string& source, const std::string& finding,
                      const std::string& knob, const std::vector<std::string>& notes, bool oracle) {
  const int n = static_cast<int>(p.scripts.size());
  std::string s;
  s += "// Code generated by schedfuzz-export --go from " + source + "; DO NOT EDIT.\n";
  s += "//\n// finding: " + finding + "\n";
  s += "// Run on the patched runtime (realgo/README.md):\n";
  s += "//   GOMAXPROCS=" + std::to_string(p.gomaxprocs) + " GOSCHEDFUZZ='" + knob + "' ./prog\n";
  s += oracle ? "// It prints OK when every script finished; exit status 3 and \"TAINT: ...\" is the finding.\n"
              : "// It prints OK when every script finished; a hang is the finding.\n";
  for (const std::string& note : notes) s += "// note: " + note + "\n";
  s += "//\n// The schedfuzz program:\n";
  std::string text = toText(p);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    s += "//   " + text.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  s += "\npackage main\n\n";  // the blank line: a file comment, not package documentation
  s += "import (\n\t\"fmt\"\n\t\"os\"\n\t\"runtime\"\n\t\"sync\"\n\t\"sync/atomic\"\n\t\"syscall\"\n\t\"time\"\n"
       "\t\"unsafe\"\n)\n\n";
  s += "const gomaxprocs = " + std::to_string(p.gomaxprocs) + "\n\n";
  s += "var (\n"
       "\twg      sync.WaitGroup\n"
       "\tstarted int32 // goroutines started for scripts (at most " + std::to_string(kMaxGoroutines) + ")\n"
       "\tlive    int32 // started and not finished\n"
       "\twaiting int32 // live goroutines inside wait\n"
       "\tflags   [16]int32\n"
       "\tsink    uint64\n"
       "\tms      runtime.MemStats\n"
       "\t_       = unsafe.Pointer(nil)\n"
       ")\n\n";
  s += "// spin: n+1 steps of user code, each a call (an async preemption point).\n"
       "func spin(n int) {\n\tfor i := 0; i <= n; i++ {\n\t\tuserStep()\n\t}\n}\n\n"
       "//go:noinline\nfunc userStep() { atomic.AddUint64(&sink, 1) }\n\n";
  s += "// syscallSteps: a system call that stays n us in the kernel (entersyscall/exitsyscall).\n"
       "func syscallSteps(n int) {\n"
       "\tts := syscall.Timespec{Nsec: int64(n) * 1000}\n"
       "\tsyscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)\n}\n\n";
  s += "// wait: spin until flag f is set or every other live goroutine waits too; gort also\n"
       "// stops once the spinner is preempted, here after 20 ms (sysmon preempts at 10 ms).\n"
       "func wait(f int) {\n"
       "\tatomic.AddInt32(&waiting, 1)\n"
       "\tt0 := time.Now()\n"
       "\tfor atomic.LoadInt32(&flags[f]) == 0 && atomic.LoadInt32(&waiting) < atomic.LoadInt32(&live) &&\n"
       "\t\ttime.Since(t0) < 20*time.Millisecond {\n\t\tuserStep()\n\t}\n"
       "\tatomic.AddInt32(&waiting, -1)\n}\n\n";
  s += "// exit: a script's exit op (runtime.Goexit: a locked goroutine takes its thread with it).\n"
       "func exit() {\n\tatomic.AddInt32(&live, -1)\n\twg.Done()\n\truntime.Goexit()\n}\n\n";
  if (oracle) {
    s += "// The thread taint: a locked goroutine renames its thread (PR_SET_NAME; a cloned thread\n"
         "// inherits the name) and restores the name when it unlocks. A goroutine that holds no lock\n"
         "// must never see the taint: Go kills a thread whose goroutine exits locked, and clones new\n"
         "// threads only from clean ones.\n"
         "var taintName = [16]byte{'s', 'f', 't', 'a', 'i', 'n', 't'}\n"
         "var cleanName [16]byte\n\n"
         "func setThreadName(b *[16]byte) {\n"
         "\tsyscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0)\n}\n\n"
         "func threadName() (b [16]byte) {\n"
         "\tsyscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_NAME, uintptr(unsafe.Pointer(&b[0])), 0)\n"
         "\treturn\n}\n\n"
         "func lockTaint(lk *int) {\n\truntime.LockOSThread()\n\t*lk++\n\tsetThreadName(&taintName)\n}\n\n"
         "func unlockTaint(lk *int) {\n\tif *lk == 1 {\n\t\tsetThreadName(&cleanName)\n\t}\n"
         "\tif *lk > 0 {\n\t\t*lk--\n\t}\n\truntime.UnlockOSThread()\n}\n\n"
         "func check(who string, lk int) {\n"
         "\tif lk == 0 && threadName() == taintName {\n"
         "\t\tfmt.Fprintf(os.Stderr, \"TAINT: %s runs on a thread that a locked goroutine tainted\\n\", who)\n"
         "\t\tos.Exit(3)\n\t}\n}\n\n";
  }
  s += "// spawn starts script k as goroutine main.gK (the knob's gK/ names it by that function).\n"
       "func spawn(k int) {\n"
       "\tif atomic.LoadInt32(&started) >= " + std::to_string(kMaxGoroutines) + " {\n\t\treturn\n\t}\n"
       "\tatomic.AddInt32(&started, 1)\n\tatomic.AddInt32(&live, 1)\n\twg.Add(1)\n\tswitch k {\n";
  for (int k = 0; k < n; k++) s += "\tcase " + std::to_string(k) + ":\n\t\tgo g" + std::to_string(k) + "()\n";
  s += "\t}\n}\n\n";
  for (int k = 0; k < n; k++) {
    s += "func g" + std::to_string(k) + "() {\n";
    if (oracle) s += "\tlk := 0\n";
    int i = 0;
    for (const Instr& ins : p.scripts[static_cast<size_t>(k)].ops) {
      if (oracle && ins.op == Op::kLock) {
        s += "\tlockTaint(&lk)\n";
      } else if (oracle && ins.op == Op::kUnlock) {
        s += "\tunlockTaint(&lk)\n";
      } else {
        // A comment goes on its own line above: trailing ones would need
        // gofmt's column alignment to stay gofmt-clean.
        const std::string op = goOp(ins, n);
        const size_t c = op.find(" // ");
        s += c == std::string::npos ? "\t" + op + "\n" : "\t" + op.substr(c + 1) + "\n\t" + op.substr(0, c) + "\n";
      }
      if (oracle) s += "\tcheck(\"g" + std::to_string(k) + " op " + std::to_string(i) + "\", lk)\n";
      i++;
    }
    s += "\tatomic.AddInt32(&live, -1)\n\twg.Done()\n}\n\n";
  }
  s += "func main() {\n"
       "\tif runtime.GOMAXPROCS(0) != gomaxprocs {\n"
       "\t\tfmt.Fprintf(os.Stderr, \"run with GOMAXPROCS=%d (runtime.GOMAXPROCS would stop the world and shift "
       "the knob's counts)\\n\", gomaxprocs)\n"
       "\t\tos.Exit(2)\n\t}\n";
  if (oracle) s += "\tcleanName = threadName()\n";
  for (int k = 0; k < n; k++) s += "\tspawn(" + std::to_string(k) + ")\n";
  s += "\twg.Wait()\n";
  if (oracle) s += "\tcheck(\"main\", 0)\n";
  s += "\tfmt.Println(\"OK\")\n}\n";
  return s;
}

// --- the knob ----------------------------------------------------------------

// Events the knob counts (see the file comment).
bool aligned(gort::Ev ev) {
  return ev == gort::Ev::template_cas || ev == gort::Ev::lockosthread || ev == gort::Ev::newm_queued ||
         ev == gort::Ev::stw_start;
}

// The hook site just before an event, where a hold orders it; "" if none.
std::string beforeSite(gort::Ev ev) {
  if (ev == gort::Ev::lockosthread) return "template_load";  // LockOSThread's entry
  if (ev == gort::Ev::stw_start) return "stopTheWorld_prologue";
  return "";
}

struct Ref {
  size_t index;      // in the trace
  int thread;
  int g;             // the goroutine the thread ran (0: none known)
  gort::Ev ev;
  int global;        // 1-based count of ev over the whole run, up to this one
  int script;        // the script the goroutine runs, -1 if not known
  int per_script;    // 1-based count of ev by that script, up to this one
};

struct Knob {
  std::vector<std::string> rules;
  std::vector<std::string> notes;
};

std::string siteRef(const Ref& r, bool filtered) {
  std::string s;
  if (filtered && r.script >= 0) s += "g" + std::to_string(r.script) + "/";
  s += gort::eventName(r.ev);
  s += "@" + std::to_string(filtered && r.script >= 0 ? r.per_script : r.global);
  return s;
}

std::string holdRule(const std::string& at, const std::vector<std::string>& until, uint64_t timeout_ms) {
  std::string s = at + ":hold[";
  for (const std::string& u : until) s += "until=" + u + ",";
  return s + "timeout=" + std::to_string(timeout_ms) + "ms]";
}

Knob deriveKnob(const Program& p, const Outcome& o, uint64_t timeout_ms) {
  Knob k;
  const int nscripts = static_cast<int>(p.scripts.size());
  // gort numbers goroutines in creation order: G1 is main, which starts
  // G2..G(n+1) for scripts 0..n-1 before anything else creates one.
  auto scriptOf = [&](int g) { return g >= 2 && g < 2 + nscripts ? g - 2 : -1; };
  std::map<int, int> cur;  // thread -> goroutine it last executed
  std::map<gort::Ev, int> global;
  std::map<std::pair<int, gort::Ev>, int> perScript;
  std::vector<Ref> refs;
  struct Preempt {
    size_t index;
    int thread, g;
    std::string site;
  };
  std::vector<Preempt> preempts;
  int lastStartmThread = -1;
  std::map<int, bool> handedOff;  // thread -> its last startm(spinning=0) came from handoffp
  std::map<int, bool> cloned;     // thread -> it cloned a thread for such a startm: no idle M
  std::set<std::string> seen;
  auto add = [&](const std::string& rule) {
    if (seen.insert(rule).second) k.rules.push_back(rule);
  };
  for (size_t i = 0; i < o.trace.size(); i++) {
    const TraceEvent& e = o.trace[i];
    if (e.kind != TraceEvent::Kind::kRuntime) continue;
    if (e.ev == gort::Ev::execute) cur[e.thread] = e.a;
    if (e.ev == gort::Ev::startm) lastStartmThread = e.thread;
    if (e.ev == gort::Ev::handoffp) handedOff[e.thread] = true;
    if (e.ev == gort::Ev::startm && e.b != 0) handedOff[e.thread] = false;
    if (e.ev == gort::Ev::newm_clone && lastStartmThread == e.thread && handedOff[e.thread]) cloned[e.thread] = true;
    if (e.ev == gort::Ev::preempted) {
      preempts.push_back({i, e.thread, e.a, gort::siteInfo(static_cast<gort::Site>(e.b)).func});
    }
    if (e.ev == gort::Ev::mexit) {
      // Counted alike (only a goroutine that exits locked ends its M), but
      // used only to end the stopm hold of a clone below.
      const int n = ++global[e.ev];
      if (cloned[e.thread]) {
        // handoffp's startm found no idle M and cloned one from this thread:
        // keep the real runtime's idle Ms away until this thread is gone.
        cloned[e.thread] = false;
        add(holdRule("stopm", {"mexit@" + std::to_string(n)}, timeout_ms));
      }
      continue;
    }
    if (!aligned(e.ev)) continue;
    Ref r{i, e.thread, cur.count(e.thread) ? cur[e.thread] : 0, e.ev, ++global[e.ev], -1, 0};
    // newm_queued runs on g0 (handoffp, mexit): no goroutine to name.
    if (e.ev != gort::Ev::newm_queued) r.script = scriptOf(r.g);
    if (r.script >= 0) r.per_script = ++perScript[{r.script, e.ev}];
    refs.push_back(r);
    if (e.ev == gort::Ev::newm_queued && lastStartmThread == e.thread) {
      add(holdRule("stopm", {siteRef(r, false)}, timeout_ms));
    }
  }
  for (const Preempt& pr : preempts) {
    const Ref* anchor = nullptr;
    for (const Ref& r : refs) {
      if (r.index > pr.index) break;
      if (r.thread == pr.thread && r.g == pr.g && r.ev != gort::Ev::newm_queued && r.ev != gort::Ev::stw_start) anchor = &r;
    }
    if (!anchor) {
      k.notes.push_back("preemption of G" + std::to_string(pr.g) + " at " + pr.site + " (trace event " +
                        std::to_string(pr.index) +
                        "): no hookable event of that goroutine before it (template_cas, lockosthread); not expressed");
      continue;
    }
    if (anchor->script < 0) {
      k.notes.push_back("preemption of G" + std::to_string(pr.g) + " at " + pr.site +
                        ": its goroutine was started by a go op, which the knob cannot name; anchored on the "
                        "process-wide count of " + gort::eventName(anchor->ev));
    }
    // The window: aligned events of other threads between anchor and preemption.
    std::vector<const Ref*> window;
    for (const Ref& r : refs)
      if (r.index > anchor->index && r.index < pr.index && r.thread != pr.thread) window.push_back(&r);
    std::vector<std::string> until;
    std::map<gort::Ev, const Ref*> lastOf;
    for (const Ref* r : window) lastOf[r->ev] = r;
    for (const auto& [ev, r] : lastOf) until.push_back(siteRef(*r, false));
    const std::string at = siteRef(*anchor, true);
    if (!until.empty()) add(holdRule(at, until, timeout_ms));
    add(at + ":preempt");
    // The switches inside the window: hold each event that has a hook before
    // it until the anchor and the aligned events before it have happened.
    for (size_t w = 0; w < window.size(); w++) {
      const Ref& r = *window[w];
      std::string before = beforeSite(r.ev);
      if (before.empty()) continue;
      std::map<gort::Ev, const Ref*> prior;
      prior[anchor->ev] = anchor;
      for (size_t v = 0; v < w; v++)
        if (window[v]->thread != r.thread) prior[window[v]->ev] = window[v];
      std::vector<std::string> u;
      for (const auto& [ev, q] : prior) u.push_back(siteRef(*q, false));
      std::string name = before;
      if (r.script >= 0 && r.ev == gort::Ev::lockosthread) name = "g" + std::to_string(r.script) + "/" + before;
      // template_load counts LockOSThread calls as lockosthread does;
      // stopTheWorld's prologue counts stops of the world as stw_start does.
      int n = (r.script >= 0 && r.ev == gort::Ev::lockosthread) ? r.per_script : r.global;
      add(holdRule(name + "@" + std::to_string(n), u, timeout_ms));
    }
  }
  if (k.rules.empty()) {
    k.notes.push_back("the knob is empty: the trace has no preemption of a script goroutine and no startm that "
                      "found no idle M (the program alone is the reproduction)");
  }
  return k;
}

std::string joinRules(const std::vector<std::string>& rules) {
  std::string s;
  for (const std::string& r : rules) s += (s.empty() ? "" : ",") + r;
  return s;
}

int run(int argc, char** argv) {
  Options opts;
  if (!parseCommandLine(kTool, argc, argv, opts)) return 0;
  std::string err;
  if (!opts.go) usageError(kTool, "expected --go (the only export format; see --help)");
  RunConfig cfg;
  const Target* target = nullptr;
  if (!runConfig(opts, cfg, err) || !targetFromFlag(opts, target, err)) usageError(kTool, err);
  if (opts.inputs.size() != 1) {
    usageError(kTool, "expected exactly one FILE, found " + std::to_string(opts.inputs.size()) + " (see --help)");
  }
  Input in;
  if (!loadInput(opts.inputs[0], target, in, err)) usageError(kTool, err);
  Outcome o = replay(in.program, cfg, /*record_trace=*/true);
  const std::string kind = findingKind(o, cfg);
  if (kind.empty()) {
    usageError(kTool, in.path + ": not a finding " +
                          (cfg.bugs ? "with --bugs=" + bugList(cfg.bugs) : std::string("on the fixed runtime (no --bugs)")) +
                          ": nothing to export; the knob comes from a finding's trace");
  }
  Knob knob = deriveKnob(in.program, o, opts.hold_timeout_ms);
  const std::string knobText = joinRules(knob.rules);
  std::string finding = kind + " (bugs " + bugList(cfg.bugs) + ")";
  if (!o.signature.empty()) finding += ", signature " + o.signature;
  const bool oracle = o.signature.rfind("oracle/", 0) == 0;
  const std::string mainGo = goProgram(in.program, in.path, finding, knobText, knob.notes, oracle);
  const std::string head =
      "GOMAXPROCS=" + std::to_string(in.program.gomaxprocs) + "\nGOSCHEDFUZZ=" + knobText + "\n";
  for (const std::string& note : knob.notes) fprintf(stderr, "%s: note: %s\n", kTool.name, note.c_str());
  if (!opts.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.dir, ec);
    if (ec) usageError(kTool, "--dir=" + opts.dir + ": cannot create: " + ec.message());
    const std::string d = opts.dir + "/";
    if (!writeFile(d + "main.go", mainGo, err) || !writeFile(d + "go.mod", "module schedfuzzexport\n\ngo 1.19\n", err) ||
        !writeFile(d + "knob.txt", knobText + "\n", err) ||
        !writeFile(d + "gomaxprocs.txt", std::to_string(in.program.gomaxprocs) + "\n", err)) {
      usageError(kTool, err);
    }
    fputs(head.c_str(), stdout);
  } else {
    fputs((head + "\n" + mainGo).c_str(), stdout);
  }
  return 0;
}

}  // namespace
}  // namespace schedfuzz::tools

int main(int argc, char** argv) {
  return schedfuzz::tools::finishOutput(schedfuzz::tools::kTool, schedfuzz::tools::run(argc, argv));
}
