// fuzz/cause.cpp — the culprit state behind a finding (see cause.h).
#include "fuzz/cause.h"

#include <cstdio>
#include <cstring>

#include "fuzz/delay_detectors.h"
#include "fuzz/trace.h"
#include "runtime/runtime.h"

namespace schedfuzz {

using namespace gort;

namespace {

// One thread line of the executor's dump (SimPlatform's dumpThreads):
//   "  T<tid> M<mid> <state>[ on futex [<name> ]addr#N (no deadline)| until <ns> ns] at <site> (<func>)"
struct ThreadLine {
  int tid = -1;
  int mid = -1;
  std::string state;  // running, runnable, blocked, exited
  bool onFutex = false;
  std::string futex;  // the namer's name, "" if unnamed
  bool timed = false;
  std::string func;   // the Go function of its last site, "" if none
};

std::vector<ThreadLine> parseThreads(const std::string& dump) {
  std::vector<ThreadLine> out;
  size_t pos = 0;
  while (pos < dump.size()) {
    size_t nl = dump.find('\n', pos);
    if (nl == std::string::npos) nl = dump.size();
    const std::string line = dump.substr(pos, nl - pos);
    pos = nl + 1;
    ThreadLine t;
    char state[32] = {};
    if (std::sscanf(line.c_str(), "  T%d M%d %31s", &t.tid, &t.mid, state) != 3) continue;
    t.state = state;
    const size_t on = line.find(" on futex ");
    if (on != std::string::npos) {
      t.onFutex = true;
      size_t b = on + std::strlen(" on futex ");
      size_t e = line.find(' ', b);
      std::string word = line.substr(b, e - b);
      // Unnamed futexes print only their address: addr#N once the harness
      // made the dump stable, a raw pointer before that.
      if (word.rfind("addr#", 0) != 0 && word.rfind("0x", 0) != 0 && word != "(nil)") t.futex = word;
      t.timed = line.find(" until ", b) != std::string::npos;
    }
    const size_t lp = line.rfind(" (");
    const size_t at = line.rfind(" at ");
    if (lp != std::string::npos && at != std::string::npos && lp > at && line.back() == ')')
      t.func = line.substr(lp + 2, line.size() - lp - 3);
    out.push_back(t);
  }
  return out;
}

// The M lines of the runtime's dump say which M is sysmon ("(sysmon)");
// Runtime keeps mstartfn private.
int sysmonId(const std::string& dump) {
  size_t p = dump.find(" (sysmon)");
  if (p == std::string::npos) return -1;
  size_t ls = dump.rfind("\n  M", p);
  if (ls == std::string::npos) return -1;
  int id = -1;
  std::sscanf(dump.c_str() + ls, "\n  M%d:", &id);
  return id;
}

struct Ctx {
  const CauseInput& in;
  const Runtime& rt;
  const RunResult& r;
  std::vector<ThreadLine> threads;
  int sysmon = -1;

  explicit Ctx(const CauseInput& i) : in(i), rt(*i.rt), r(*i.result), threads(parseThreads(i.result->dump)),
                                      sysmon(sysmonId(i.result->dump)) {}

  const ThreadLine* threadOf(const M* mp) const {
    for (const ThreadLine& t : threads)
      if (t.mid == mp->id) return &t;
    return nullptr;
  }
  std::string mName(const M* mp) const {
    std::string s = "M" + std::to_string(mp->id);
    if (mp->isTemplate) s += " (template thread)";
    else if (mp->id == sysmon) s += " (sysmon)";
    return s;
  }
  // Where goroutine gp was last preempted ("" if never, or no trace).
  std::string preemptedAt(const G* gp) const {
    if (in.trace == nullptr) return "";
    for (size_t i = in.trace->size(); i-- > 0;) {
      const TraceEvent& e = (*in.trace)[i];
      if (e.kind == TraceEvent::Kind::kRuntime && e.ev == Ev::preempted && e.a == gp->goid)
        return e.b >= 0 && e.b < static_cast<int>(Site::kCount) ? siteInfo(static_cast<Site>(e.b)).func : "";
    }
    return "";
  }
  std::string gDesc(const G* gp) const {
    std::string s = "G" + std::to_string(gp->goid) + " (" + gstatusName(gp->atomicstatus.load() & ~_Gscan);
    std::string at = preemptedAt(gp);
    if ((gp->atomicstatus.load() & ~_Gscan) == _Grunnable && !at.empty()) s += ", preempted in " + at;
    return s + ")";
  }
  bool queuedOnHandoff(const M* mp) const {
    for (M* q = rt.handoff().newm; q != nullptr; q = q->schedlink)
      if (q == mp) return true;
    return false;
  }
  // What thread-less or blocked M `mp` waits for.
  std::string mWaits(const M* mp) const {
    if (!mp->threadCreated) {
      if (!queuedOnHandoff(mp)) return mName(mp) + " has no thread yet (newm in progress)";
      const newmHandoffT& h = rt.handoff();
      std::string s = mName(mp) + " has no thread: queued on newmHandoff, ";
      M* tm = h.templateM;
      if (tm != nullptr && tm->threadCreated) return s + "which the template thread " + mName(tm) + " has not drained yet";
      s += "and no template thread exists to drain it (haveTemplateThread=" +
           std::to_string(h.haveTemplateThread.load()) + ")";
      if (h.creatorG != nullptr) s += ": its creator " + gDesc(h.creatorG) + " was descheduled before it cloned one";
      else if (h.haveTemplateThread.load() != 0) s += ": nobody is creating it";
      return s;
    }
    const ThreadLine* t = threadOf(mp);
    if (t == nullptr || mp->exited) return mName(mp) + " has exited";
    if (t->state == "blocked")
      return mName(mp) + " sleeps on " + (t->futex.empty() ? std::string("an unnamed futex") : t->futex) +
             (t->timed ? " (timed)" : " (no deadline)") + (t->func.empty() ? "" : " in " + t->func);
    return mName(mp) + " is " + t->state + (t->func.empty() ? "" : " in " + t->func);
  }

  // Who holds P pp and what that holder waits for; sets kind to a culprit token.
  std::string pHolder(const P* pp, std::string& kind) const {
    const uint32_t st = pp->status.load();
    std::string s = "P" + std::to_string(pp->id) + " (" + pstatusName(st) + "): ";
    M* owner = pp->m;
    if (st == _Psyscall) {
      kind = "P-in-syscall";
      return s + "in a system call" + (owner ? " on " + mWaits(owner) : std::string());
    }
    if (st == _Prunning) {
      kind = "P-owner-blocked";
      if (owner == nullptr) return s + "owned by nobody";
      std::string o = s + "owned by " + mName(owner);
      G* cg = owner->curg;
      if (cg != nullptr) {
        o += ", running " + gDesc(cg) + " preempt=" + (cg->preempt.load() ? "1" : "0");
        if (cg->preempt.load()) kind = "preempt-request-ignored";
      }
      const ThreadLine* t = threadOf(owner);
      if (t != nullptr && t->state == "blocked") o += "; " + mWaits(owner);
      return o;
    }
    // _Pidle off the idle list: in transit.
    for (const P* q = rt.sched().pidle; q != nullptr; q = q->link)
      if (q == pp) {
        kind = "P-idle-not-collected";
        return s + "on sched.pidle";
      }
    if (M* h = pp->holder) {
      kind = "P-held-in-transit";
      return s + "held in transit by " + mName(h) + "; " + mWaits(h);
    }
    for (M* mp : rt.allms()) {
      if (mp->nextp != pp) continue;
      if (!mp->threadCreated) kind = "P-in-transit";
      else kind = "P-handed-to-parked-M";
      return s + "held by nobody but " + "M" + std::to_string(mp->id) + ".nextp; " + mWaits(mp);
    }
    if (owner != nullptr) {
      kind = "P-reserved";
      return s + "reserved by " + mName(owner) + "; " + mWaits(owner);
    }
    kind = "P-orphaned";
    return s + "held by nobody";
  }

  // The stop-the-world initiator, or nullptr.
  const M* stwOwner() const {
    for (M* mp : rt.allms()) {
      P* pp = mp->p;
      if (pp != nullptr && pp->status.load() == _Pgcstop && mp->preemptoff[0] != 0) return mp;
    }
    return nullptr;
  }
  std::string stwHead() const {
    const M* o = stwOwner();
    std::string s = "stopTheWorld";
    if (o != nullptr) {
      G* cg = o->curg;
      s += " (" + mName(o) + (cg ? ", G" + std::to_string(cg->goid) : std::string()) + ")";
    }
    return s + " waits for stopwait=" + std::to_string(static_cast<int32_t>(rt.sched().stopwait)) + " P(s): ";
  }
  // Every P not yet _Pgcstop; culprit: the first one's holder kind.
  std::string stwPs(std::string& culprit) const {
    std::string s;
    for (P* pp : rt.allp()) {
      if (pp->status.load() == _Pgcstop) continue;
      std::string kind;
      std::string d = pHolder(pp, kind);
      if (culprit.empty()) culprit = kind;
      s += (s.empty() ? "" : "; ") + d;
    }
    return s;
  }
  // The first P leaked in transit (nextp of a thread-less M), "" if none.
  std::string leakedP(std::string& culprit) const {
    for (P* pp : rt.allp()) {
      if (pp->status.load() != _Pidle || pp->holder) continue;
      for (M* mp : rt.allms()) {
        if (mp->nextp != pp || mp->threadCreated) continue;
        culprit = "P-in-transit";
        std::string kind;
        return pHolder(pp, kind);
      }
    }
    return "";
  }
  std::string sysmonState() const {
    const ThreadLine* t = nullptr;
    for (const ThreadLine& l : threads)
      if (l.mid == sysmon) t = &l;
    if (t == nullptr) return "no sysmon";
    std::string s = "sysmon M" + std::to_string(sysmon);
    if (rt.sched().sysmonwait.load()) s += " is in sysmonwait (it saw nothing to retake) and";
    if (t->state == "blocked") {
      if (t->futex == "sched.sysmonnote") s += " sleeps on sched.sysmonnote";
      else if (t->futex.find(".usleep") != std::string::npos) s += " sleeps in usleep between retakes";
      else s += " sleeps on " + (t->futex.empty() ? std::string("an unnamed futex") : t->futex);
    } else {
      s += " is awake" + (t->func.empty() ? std::string() : " in " + t->func);
    }
    return s;
  }
  // The last runtime event before the end, "(step N) Mk: text"; with ev
  // set, the last event ev whose first argument is a.
  std::string lastTransition(Ev ev = Ev::kCount, int a = 0) const {
    if (in.trace == nullptr || in.mids == nullptr) return "";
    for (size_t i = in.trace->size(); i-- > 0;) {
      const TraceEvent& e = (*in.trace)[i];
      if (e.kind != TraceEvent::Kind::kRuntime) continue;
      if (ev != Ev::kCount && (e.ev != ev || e.a != a)) continue;
      return "(step " + std::to_string(e.step) + ") " + threadName(e.thread, *in.mids) + ": " +
             eventText(e, *in.mids);
    }
    return "";
  }
};

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// --- execLock -----------------------------------------------------------------

// A hang whose root is execLock (rwmutex.go; Bug::issue20903): a writer
// sleeps on its M, keeping its P, for readers to release the lock. Culprit
// "execLock/reader-descheduled" when a read holder is a goroutine no M runs
// (it lost its P inside newm1), else "execLock/writer-waits". Empty text if
// no writer waits.
Cause execLockWait(const Ctx& c) {
  Cause k;
  const rwmutex& rw = c.rt.execLock();
  const M* w = rw.writerWaiting;
  if (w == nullptr) return k;
  std::string s = "execLock.lock: writer " + c.mName(w);
  if (G* wg = w->curg) s += " (G" + std::to_string(wg->goid) + ", syscall.Exec)";
  s += " sleeps on m" + std::to_string(w->id) + ".park";
  if (P* wp = w->p) s += " holding P" + std::to_string(wp->id);
  s += ", waiting for " + std::to_string(static_cast<int32_t>(rw.readerWait.load())) + " reader(s)";
  bool descheduled = false;
  std::string holders;
  for (const G* g : c.rt.allgs()) {
    if (!g->execLockRead) continue;
    const uint32_t st = g->atomicstatus.load() & ~_Gscan;
    const bool running = st == _Grunning && g->m != nullptr && g->m->curg == g;
    descheduled |= !running;
    holders += (holders.empty() ? "" : ", ") +
               (running ? "G" + std::to_string(g->goid) + " (running on " + c.mName(g->m) + ")"
                        : c.gDesc(g) + ", which lost its P inside newm1");
  }
  for (const M* m : c.rt.allms())
    if (m->execLockRead) holders += (holders.empty() ? "" : ", ") + c.mName(m) + " (on g0)";
  s += "; the read lock is held by " + (holders.empty() ? std::string("nobody") : holders);
  std::string queued;
  for (const M* r = rw.readers; r != nullptr; r = r->schedlink) {
    queued += (queued.empty() ? "" : ", ") + c.mName(r);
    if (P* rp = r->p) queued += " holding P" + std::to_string(rp->id);
  }
  if (!queued.empty()) s += "; readers queued behind the writer: " + queued;
  std::string ps;
  for (const P* pp : c.rt.allp()) {
    std::string kind;
    ps += (ps.empty() ? "" : "; ") + c.pHolder(pp, kind);
  }
  s += "; Ps: " + ps;
  k.text = s;
  k.culprit = descheduled ? "execLock/reader-descheduled" : "execLock/writer-waits";
  return k;
}

// --- per class ---------------------------------------------------------------

Cause stall(const Ctx& c) {
  Cause k = execLockWait(c);
  if (!k.text.empty()) return k;
  if (c.rt.sched().gcwaiting.load() != 0) {
    k.text = c.stwHead() + c.stwPs(k.culprit);
    if (k.culprit.empty()) k.culprit = "stopTheWorld-unfinished";
    else if (k.culprit != "P-in-transit") k.culprit = "stopTheWorld/" + k.culprit;
    return k;
  }
  std::string leak = c.leakedP(k.culprit);
  if (!leak.empty()) {
    k.text = "goroutines wait for a P no M can get: " + leak;
    return k;
  }
  k.culprit = "timed-waiters-only";
  std::string s;
  for (const ThreadLine& t : c.threads) {
    if (t.state != "blocked") continue;
    s += (s.empty() ? "" : "; ") + std::string("M") + std::to_string(t.mid) + " on " +
         (t.futex.empty() ? std::string("an unnamed futex") : t.futex) + (t.timed ? " (timed)" : "");
  }
  k.text = "no goroutine makes progress; threads: " + s;
  return k;
}

Cause spin(const Ctx& c) {
  Cause k;
  std::string s;
  bool ignored = false, anyG = false;
  // The goroutines that kept running are those whose M is runnable in user
  // code; an M that is in the runtime (the stop-the-world poll, a note
  // sleep the executor's fair rounds woke) is waiting, not spinning. If no
  // M is in user code, every runnable M with a goroutine is listed.
  bool anyUser = false;
  for (const ThreadLine& t : c.threads)
    anyUser |= (t.state == "running" || t.state == "runnable") && t.func == "user";
  for (const ThreadLine& t : c.threads) {
    if (t.state != "running" && t.state != "runnable") continue;
    if (anyUser && t.func != "user") continue;
    const M* mp = nullptr;
    for (M* m : c.rt.allms())
      if (m->id == t.mid) mp = m;
    if (mp == nullptr) continue;
    G* cg = mp->curg;
    if (cg == nullptr) continue;
    anyG = true;
    P* pp = mp->p;
    const bool pre = cg->preempt.load();
    ignored |= pre;
    s += (s.empty() ? "" : "; ") + std::string("G") + std::to_string(cg->goid) + " kept running on " + c.mName(mp) +
         (pp ? "/P" + std::to_string(pp->id) : std::string()) +
         (t.func.empty() ? "" : t.func == "user" ? std::string(" in user code") : " in " + t.func) +
         " with preempt=" + (pre ? "1 (requested, never honoured)" : "0 (nobody asked)");
  }
  if (!anyG) {
    k.culprit = "scheduler-spin";
    k.text = "no goroutine runs; the runnable threads spin in the scheduler";
  } else {
    k.culprit = ignored ? "preempt-request-ignored" : "unpreempted-G";
    k.text = s;
  }
  if (c.rt.sched().gcwaiting.load() != 0) {
    std::string ignoredKind;
    k.text += "; " + c.stwHead() + c.stwPs(ignoredKind);
  }
  k.text += "; " + c.sysmonState();
  return k;
}

Cause deadlock(const Ctx& c) {
  Cause k = execLockWait(c);
  if (!k.text.empty()) return k;
  if (c.r.message.find("exited") != std::string::npos && c.r.message.find("blocked") == std::string::npos) {
    k.culprit = "all-threads-exited";
    k.text = "every thread exited without exitProcess; " + std::to_string(c.rt.sched().runqsize) +
             " goroutine(s) on the global run queue";
    return k;
  }
  std::string s;
  bool mutexWait = false, syscallWait = false;
  for (const ThreadLine& t : c.threads) {
    if (t.state != "blocked") continue;
    const M* mp = nullptr;
    for (M* m : c.rt.allms())
      if (m->id == t.mid) mp = m;
    std::string who = mp ? c.mName(mp) : "M" + std::to_string(t.mid);
    std::string what;
    if (t.futex.size() > 5 && t.futex.compare(t.futex.size() - 5, 5, ".park") == 0) {
      what = "parked on " + t.futex + " (" + t.func + "), waiting to be handed a P";
      if (mp && mp->lockedg) what += " to run its locked G" + std::to_string(mp->lockedg->goid);
    } else if (!t.futex.empty() && (t.futex.find("lock") != std::string::npos)) {
      mutexWait = true;
      std::string holders;
      for (M* m : c.rt.allms())
        if (m->locks > 0 && m->id != t.mid && !m->exited) holders += " M" + std::to_string(m->id);
      what = "waits for mutex " + t.futex + (holders.empty() ? ", which no live M holds locks for" : "; Ms holding locks:" + holders);
    } else if (t.futex.empty()) {
      G* cg = mp ? static_cast<G*>(mp->curg) : nullptr;
      const bool sys = cg && (cg->atomicstatus.load() & ~_Gscan) == _Gsyscall;
      syscallWait |= sys;
      what = "sleeps on an unnamed futex" +
             (sys ? " in a system call of G" + std::to_string(cg->goid) + ", which no thread will wake" : std::string());
    } else {
      what = "sleeps on " + t.futex + " (" + t.func + ")";
    }
    s += (s.empty() ? "" : "; ") + who + " " + what;
  }
  k.culprit = mutexWait ? "blocked-on-mutex" : syscallWait ? "blocked-in-syscall" : "all-Ms-parked";
  int runnable = 0;
  for (G* gp : c.rt.allgs()) runnable += (gp->atomicstatus.load() & ~_Gscan) == _Grunnable;
  k.text = "wait-for: " + s + "; " + std::to_string(runnable) + " runnable goroutine(s)";
  return k;
}

Cause thrown(const Ctx& c) {
  Cause k;
  const std::string& msg = c.r.message;
  // Go's throw messages name their function ("checkdead: runnable g");
  // otherwise the thrower's last site says where.
  std::string fn;
  const size_t colon = msg.find(':');
  if (colon != std::string::npos && colon > 0 && msg.find(' ') > colon) fn = msg.substr(0, colon);
  if (fn.empty()) {
    for (const ThreadLine& t : c.threads)
      if (t.state == "running") fn = t.func;
  }
  k.text = "throw \"" + msg + "\" in " + (fn.empty() ? std::string("?") : fn);
  k.culprit = slug(msg);
  if (msg.rfind("checkdead:", 0) == 0) {
    // checkdead counts mcount - nmidle - nmidlelocked - nmsys running Ms. A P
    // in use by an M it does not count (sysmon, an M not yet counted) is the
    // state it missed.
    const schedt& s = c.rt.sched();
    k.text += " (mcount=" + std::to_string(c.rt.mcount()) + " nmidle=" + std::to_string(s.nmidle) +
              " nmidlelocked=" + std::to_string(s.nmidlelocked) + " nmsys=" + std::to_string(s.nmsys) + ")";
    std::string extra;
    for (P* pp : c.rt.allp()) {
      M* h = pp->holder;
      M* o = pp->m;
      if (pp->status.load() == _Pidle && h != nullptr && h->id == c.sysmon) {
        extra = "P" + std::to_string(pp->id) + " is held in transit by " + c.mName(h) +
                " (a system M checkdead does not count), " + (c.threadOf(h) ? "now in " + c.threadOf(h)->func : "");
        k.culprit += "/P-in-transit-on-system-M";
        break;
      }
      if (pp->status.load() == _Prunning && o != nullptr && o->id == c.sysmon) {
        extra = "P" + std::to_string(pp->id) + " is borrowed by " + c.mName(o) +
                " (allocm: startm -> newm of an M that mcommoninit has not counted yet)";
        k.culprit += "/P-borrowed-for-uncounted-newm";
        break;
      }
    }
    if (!extra.empty()) k.text += "; " + extra;
    int runnable = 0;
    std::string gs;
    for (G* gp : c.rt.allgs())
      if ((gp->atomicstatus.load() & ~_Gscan) == _Grunnable) {
        runnable++;
        if (runnable <= 3) gs += " G" + std::to_string(gp->goid);
      }
    k.text += "; runnable:" + gs + (runnable > 3 ? " ..." : "");
  }
  return k;
}

Cause invariant(const Ctx& c, const std::string& check) {
  Cause k;
  k.text = check + ": " + c.r.message;
  const std::string last = c.lastTransition();
  if (!last.empty()) k.text += "; last transition " + last;
  if (check == "lockedg/lockedm") k.culprit = "lockedg-lockedm";
  else k.culprit = slug(check);
  return k;
}

Cause oracle(const Ctx& c, const std::string& check) {
  Cause k;
  std::string transition;  // the event that broke the promise, if the trace has it
  if (check == "thread cloned from a locked thread") {
    k.culprit = "clone-from-locked-thread";
    for (M* mp : c.rt.allms()) {
      if (!mp->clonedFromTainted || mp->clonedBy == nullptr) continue;
      M* by = mp->clonedBy;
      transition = c.lastTransition(Ev::newm_clone, static_cast<int>(mp->id));
      k.text = "M" + std::to_string(mp->id) + "'s thread was cloned by M" + std::to_string(by->id) + ", tainted by " +
               (by->taintedBy ? "G" + std::to_string(by->taintedBy->goid) : std::string("user code")) +
               "'s LockOSThread, whose lockedExt=" + std::to_string(by->lockedExt);
      if (by->lockedExt == 0) {
        k.text += ": the locked state was cleared before newm looked at it";
        k.culprit += "/lockedExt-cleared";
      } else {
        k.text += ": newm cloned although lockedExt != 0 (it must queue on newmHandoff)";
        k.culprit += "/lockedExt-ignored";
      }
      break;
    }
  } else if (check == "locked thread reused") {
    k.culprit = "locked-thread-reused";
    for (M* mp : c.rt.allms()) {
      if (mp->taintedRan == nullptr) continue;
      transition = c.lastTransition(Ev::execute, static_cast<int>(mp->taintedRan->goid));
      k.text = "M" + std::to_string(mp->id) + " (tainted by " +
               (mp->taintedBy ? "G" + std::to_string(mp->taintedBy->goid) : std::string("?")) + ", lockedExt=" +
               std::to_string(mp->lockedExt) + ", lockedg=" +
               (mp->lockedg ? "G" + std::to_string(mp->lockedg->goid) : std::string("nil")) + ") ran G" +
               std::to_string(mp->taintedRan->goid) + " instead of exiting with its locked goroutine";
      break;
    }
  } else {
    k.culprit = slug(check);
    for (G* gp : c.rt.allgs()) {
      if (gp->lockedShadow <= 0 || (gp->atomicstatus.load() & ~_Gscan) == _Gdead || gp->lockedm == gp->lockedShadowM)
        continue;
      M* sm = gp->lockedShadowM;
      transition = c.lastTransition(Ev::unlockosthread, static_cast<int>(gp->goid));
      k.text = "G" + std::to_string(gp->goid) + " holds " + std::to_string(gp->lockedShadow) +
               " LockOSThread(s) but lockedm=" + (gp->lockedm ? "M" + std::to_string(gp->lockedm->id) : std::string("nil")) +
               "; M" + std::to_string(sm ? sm->id : -1) + ".lockedExt=" + std::to_string(sm ? sm->lockedExt : 0) +
               " (the count fell to 0 while a lock was still held)";
      break;
    }
  }
  if (k.text.empty()) k.text = check + ": " + c.r.message;
  if (!transition.empty()) {
    k.text += "; broken at " + transition;
  } else {
    const std::string last = c.lastTransition();
    if (!last.empty()) k.text += "; last transition " + last;
  }
  return k;
}

bool isOracleKind(const std::string& check) {
  return check == "thread cloned from a locked thread" || check == "locked thread reused" ||
         check == "LockOSThread nesting";
}
bool isPrecursorKind(const std::string& check) { return check == "template thread" || check == "P leaked in transit"; }
// The delay detectors' kinds (fuzz/delay_detectors.h, strict mode).
bool isDelayKind(const std::string& check) {
  return check == DelayDetectors::kWorkConservation || check == DelayDetectors::kStwLatency;
}

// A delay: the detector's message already names the goroutine, the P and the
// rounds; the culprit is the broken promise.
Cause delay(const Ctx& c, const std::string& check) {
  Cause k;
  k.text = check + ": " + c.r.message;
  k.culprit = check == DelayDetectors::kWorkConservation ? "work-conservation" : "stopTheWorld-latency";
  return k;
}

}  // namespace

std::string findingClass(const RunResult& r, bool precursor_only) {
  const std::string& kind = r.kind;
  if (kind == "hang: livelock") return "livelock";  // the lead's new verdict, by kind until the enum names it
  switch (r.verdict) {
    case Verdict::kOk: return precursor_only ? "precursor" : "";
    case Verdict::kDeadlock: return "deadlock";
    case Verdict::kStall: return "stall";
    case Verdict::kBudget: return "budget";
    case Verdict::kThrow: return "throw";
    case Verdict::kInvariant: {
      const std::string check = kind.rfind("invariant: ", 0) == 0 ? kind.substr(11) : kind;
      if (isOracleKind(check)) return "oracle";
      if (isPrecursorKind(check)) return "precursor";
      if (isDelayKind(check)) return "delay";
      return "invariant";
    }
    default: break;  // verdicts added later (kLivelock): fall back on the kind string
  }
  if (kind.rfind("hang: ", 0) == 0) return slug(kind.substr(6));
  return slug(kind);
}

Cause explainFinding(const CauseInput& in) {
  const bool precursorOnly = in.result->verdict == Verdict::kOk && in.strict && !in.precursor.empty();
  Cause k;
  const std::string cls = findingClass(*in.result, precursorOnly);
  if (cls.empty()) return k;
  Ctx c(in);
  const std::string check =
      in.result->kind.rfind("invariant: ", 0) == 0 ? in.result->kind.substr(11) : std::string();
  if (cls == "stall") k = stall(c);
  else if (cls == "livelock" || cls == "budget") k = spin(c);
  else if (cls == "deadlock") k = deadlock(c);
  else if (cls == "throw") k = thrown(c);
  else if (cls == "oracle") k = oracle(c, check);
  else if (cls == "invariant") k = invariant(c, check);
  else if (cls == "delay") k = delay(c, check);
  else if (cls == "precursor") {
    const std::string pk = check.empty() ? (in.precursor.rfind("haveTemplateThread", 0) == 0 ? "template thread"
                                                                                              : "P leaked in transit")
                                         : check;
    k.culprit = pk == "template thread" ? "template-thread" : "P-in-transit";
    k.text = in.precursor.empty() ? in.result->message : in.precursor;
  } else {
    k.culprit = "unclassified";
    k.text = in.result->kind + ": " + in.result->message;
  }
  // A hang whose run met a liveness precursor on the way: the precursor is
  // where it became unrecoverable.
  if ((cls == "stall" || cls == "deadlock" || cls == "livelock" || cls == "budget") && !in.precursor.empty())
    k.text += "; first precursor at step " + std::to_string(in.precursor_step) + ": " + in.precursor;
  if (cls == "precursor") k.text = "(step " + std::to_string(in.precursor_step) + ") " + k.text;
  k.cls = cls;
  if (k.culprit.empty()) k.culprit = "unclassified";
  return k;
}

}  // namespace schedfuzz
