// runtime/proc.cpp — the scheduler: Ms, Ps, Gs, LockOSThread, the template thread, handoff.
//
// Follows Go 1.14 src/runtime/proc.go; stack.go (newstack's preemption check).
// Go's code: Copyright (c) 2009 The Go Authors. All rights reserved. Used under
// Go's BSD licence (runtime/LICENSE-go); the port: Apache-2.0 (LICENSE, NOTICE).
// SPDX-License-Identifier: Apache-2.0 AND BSD-3-Clause
//
// A port of Go 1.14's runtime/proc.go (the parts listed in runtime.h), in
// Go's order and with Go's names. Read it beside proc.go; comments quoted
// from Go are marked as such only where they explain a subtle decision.
//
// Control transfer. Go switches stacks with mcall (user g -> g0, never
// returns), gogo (jump to a saved context) and systemstack (run on g0 and
// come back). The port keeps Go's structure but makes "never returns"
// explicit: every function that in Go ends by jumping into a goroutine
// (schedule, execute, goschedImpl, park_m, goexit0, exitsyscall0, ...)
// returns that goroutine instead, and the M's g0 loop in mstart1 switches to
// it. mcall(fn) switches from the goroutine's fiber to g0's, which then calls
// fn(gp). goexit0 of a locked goroutine returns nullptr, which is the port's
// gogo(&m.g0.sched): mstart1 returns and mstart calls mexit. Nothing is left
// half-unwound on any stack, so the same code is clean under ASan and TSan.
//
// Where this port simplifies Go (and why that cannot hide a bug in the
// protocol under test) is listed in docs/port-notes.md.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "runtime/fiber.h"
#include "runtime/runtime.h"
#include "runtime/sanitizers.h"

#if GORT_PLANTED_DEFECTS
// Planted sanitizer defects (CMake SCHEDFUZZ_PLANTED_DEFECTS, a test
// configuration): Config::plant, or GORT_PLANT=race|uaf, switches one on.
// They exist to prove that TSan and ASan see through the executor's fibers
// (tests/sanitizers_test.cpp); no other build compiles them.
#include <cstdlib>
#endif

namespace gort {


const char* bugName(Bug b) {
  switch (b) {
    case Bug::issue38931: return "issue38931";
    case Bug::issue28979: return "issue28979";
    case Bug::issue20395: return "issue20395";
    case Bug::issue20676: return "issue20676";
    case Bug::issue20458: return "issue20458";
    case Bug::asyncpreemptoff: return "asyncpreemptoff";
    case Bug::issue6070: return "issue6070";
    case Bug::issue40368: return "issue40368";
    case Bug::issue20903: return "issue20903";
    case Bug::kCount: break;
  }
  return "?";
}

bool parseBugs(const std::string& list, uint32_t& set, std::string& error) {
  set = 0;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(pos, comma - pos);
    // trim blanks
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    size_t b = name.find_first_not_of(" \t");
    name = b == std::string::npos ? "" : name.substr(b);
    if (!name.empty()) {
      bool found = false;
      for (unsigned i = 0; i < static_cast<unsigned>(Bug::kCount); i++) {
        if (name == bugName(static_cast<Bug>(i))) {
          set |= 1u << i;
          found = true;
        }
      }
      if (!found) {
        error = "unknown bug '" + name + "' at position " + std::to_string(pos + 1) + "; expected one of:";
        for (unsigned i = 0; i < static_cast<unsigned>(Bug::kCount); i++) {
          error += std::string(" ") + bugName(static_cast<Bug>(i));
        }
        return false;
      }
    }
    pos = comma + 1;
  }
  return true;
}

const char* gstatusName(uint32_t s) {
  switch (s & ~_Gscan) {
    case _Gidle: return "_Gidle";
    case _Grunnable: return "_Grunnable";
    case _Grunning: return "_Grunning";
    case _Gsyscall: return "_Gsyscall";
    case _Gwaiting: return "_Gwaiting";
    case _Gdead: return "_Gdead";
    case _Gcopystack: return "_Gcopystack";
    case _Gpreempted: return "_Gpreempted";
  }
  return "?";
}

const char* pstatusName(uint32_t s) {
  switch (s) {
    case _Pidle: return "_Pidle";
    case _Prunning: return "_Prunning";
    case _Psyscall: return "_Psyscall";
    case _Pgcstop: return "_Pgcstop";
    case _Pdead: return "_Pdead";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Construction and bootstrap.

Runtime::Runtime(Platform& platform, Config config) : plat_(platform), cfg_(config) {
  allp_.reserve(kMaxGomaxprocs);  // never reallocates: stealing Ms read allp without a lock
  allPs_.reserve(kMaxGomaxprocs);
#if GORT_PLANTED_DEFECTS
  if (cfg_.plant == kPlantNone) {
    if (const char* e = std::getenv("GORT_PLANT"); e != nullptr && *e != '\0') {
      if (std::strcmp(e, "race") == 0) {
        cfg_.plant = kPlantRace;
      } else if (std::strcmp(e, "uaf") == 0) {
        cfg_.plant = kPlantUaf;
      } else {
        std::fprintf(stderr, "gort: GORT_PLANT=%s: expected race or uaf\n", e);
        std::abort();
      }
    }
  }
#endif
}

Runtime::~Runtime() {
  for (G* gp : ownedGs_) {
    if (gp->fiber) Fiber::Destroy(gp->fiber);
    delete gp;
  }
  for (M* mp : ownedMs_) {
    delete mp->g0;
    delete mp;
  }
  for (P* pp : allPs_) delete pp;
}

// Memory ownership is recorded the moment an object exists, before any
// SyncPoint: an execution may end at any scheduling point and abandon every
// stack, and a new M or G must not then be reachable only from one. The
// bookkeeping is not part of Go's protocol, so it is invisible to TSan: its
// mutex must not order the Ms that allocate (the executor's no-sync mode
// checks gort's own synchronisation only).
M* Runtime::newM() {
  auto* mp = new M;
  initg0(mp);
  {
    TsanInvisibleScope quiet;
    std::lock_guard<std::mutex> g(ownMu_);
    ownedMs_.push_back(mp);
  }
  return mp;
}

G* Runtime::newG() {
  auto* gp = new G;
  gp->rt = this;
  gp->fiber = Fiber::Create(&Runtime::gEntry, gp, cfg_.stack_size);
  {
    TsanInvisibleScope quiet;
    std::lock_guard<std::mutex> g(ownMu_);
    ownedGs_.push_back(gp);
  }
  return gp;
}

void Runtime::setMain(std::function<void()> main) { main_ = std::move(main); }

void Runtime::initg0(M* mp) {
  mp->rt = this;
  mp->g0 = new G;
  mp->g0->rt = this;
  mp->g0->isg0 = true;
  mp->g0->m = mp;
  mp->curctx = mp->g0;
}

// The bootstrap sequence (proc.go): schedinit; make & queue the main G;
// mstart. The main G runs runtime.main.
void Runtime::m0Entry(void* arg, Fiber* g0) {
  auto* rt = static_cast<Runtime*>(arg);
  M* m0 = rt->newM();
  rt->m0_ = m0;
  m0->g0fiber = g0;
  rt->plat_.tlsSet(m0);
  rt->schedinit();
  rt->newproc1([rt] { rt->runtimeMain(); });
  rt->mstart(m0, g0);
}

void Runtime::schedinit() {
  M* _g_m = getm();
  sched_.maxmcount = cfg_.maxmcount;
  mcommoninit(_g_m, -1);
  // (The executor's clock may read 0 here; lastpoll 0 would mean "an M is
  // polling", so the port stores at least 1.)
  sched_.lastpoll.store(std::max<int64_t>(plat_.nanotime(), 1));
  int32_t procs = std::clamp(cfg_.gomaxprocs, 1, kMaxGomaxprocs);
  lock(&sched_.lock);
  if (procresize(procs) != nullptr) throw_("unknown runnable goroutine during bootstrap");
  unlock(&sched_.lock);
}

// runtime.main: the main goroutine. Starts sysmon (Config::sysmon); init
// tasks do not exist; when the program's main returns, the process exits.
void Runtime::runtimeMain() {
  mainStarted_ = true;
  if (cfg_.sysmon) {
    // Allocate a new m for sysmon; it runs without a P, so no write barriers.
    systemstack([this] { newm(&Runtime::sysmon, nullptr, -1); });
  }
  if (main_) main_();
  event(Ev::mainexit);
  plat_.exitProcess(0);
}

// ---------------------------------------------------------------------------
// Control transfer (see the header comment).

// mcall (asm): switch from the current user g to g0 and run fn(g) there.
// It returns when some M later executes g again.
void Runtime::mcall(McallFn fn) {
  M* mp = getm();
  G* gp = mp->curctx;
  if (gp == mp->g0) throw_("runtime: mcall called on m->g0 stack");
  mp->mcallfn = fn;
  mp->mcallg = gp;
  mp->curctx = mp->g0;
  plat_.onFiberSwitch(mp->g0fiber);
  Fiber::Switch(gp->fiber, mp->g0fiber);
}

// mcall for a goroutine whose stack is finished (goexit): it is never resumed.
void Runtime::mcallFinal(McallFn fn) {
  M* mp = getm();
  G* gp = mp->curctx;
  if (gp == mp->g0) throw_("runtime: mcall called on m->g0 stack");
  mp->mcallfn = fn;
  mp->mcallg = gp;
  mp->curctx = mp->g0;
  plat_.onFiberSwitch(mp->g0fiber);
  Fiber::SwitchFinal(gp->fiber, mp->g0fiber);
}

// gogo: run gp on this M until it comes back to g0 through mcall.
void Runtime::gogo(G* gp) {
  M* mp = getm();
  mp->curctx = gp;
  plat_.onFiberSwitch(gp->fiber);
  Fiber::Switch(mp->g0fiber, gp->fiber);
}

void Runtime::gEntry(void* arg) {
  G* gp = static_cast<G*>(arg);
  gp->rt->gstart(gp);
}

// First code on a new goroutine's stack: the body, then goexit.
void Runtime::gstart(G* gp) {
  gp->fn();
  PreemptPoint(Site::goexit1_prologue);  // goexit1 is not nosplit (proc.go 2781)
  mcallFinal(&Runtime::goexit0);  // goexit1
}

// ---------------------------------------------------------------------------
// Ms: creation, start, exit.

void Runtime::mstartEntry(void* arg, Fiber* g0) {
  M* mp = static_cast<M*>(arg);
  mp->rt->mstart(mp, g0);
}

// mstart is the entry-point for new Ms. It returns only when the thread
// should exit (a locked goroutine exited), after mexit.
void Runtime::mstart(M* mp, Fiber* g0) {
  plat_.tlsSet(mp);
  mp->g0fiber = g0;
  mp->curctx = mp->g0;
  mp->threadStarted = true;
  event(Ev::mstart, static_cast<int>(mp->id));
  mstart1();
  mexit();
}

// mstart1: run mstartfn, acquire nextp, then the g0 loop. Returns only when
// goexit0 asked for the thread to exit (Go: gogo(&m.g0.sched) back into
// mstart's frame).
bool Runtime::mstart1() {
  M* _g_m = getm();
  if (_g_m->curctx != _g_m->g0) throw_("bad runtime·mstart");
  if (_g_m->mstartfn != nullptr) (this->*_g_m->mstartfn)();
  if (_g_m != m0_) {
    acquirep(_g_m->nextp);
    _g_m->nextp = nullptr;
  }
  G* gp = schedule();
  for (;;) {
    gogo(gp);
    McallFn fn = _g_m->mcallfn;
    G* arg = _g_m->mcallg;
    _g_m->mcallfn = nullptr;
    _g_m->mcallg = nullptr;
    gp = (this->*fn)(arg);
    if (gp == nullptr) return true;
  }
}

// mexit tears down and exits the current thread. Don't call this directly
// to exit the thread, since it must run at the top of the thread stack:
// instead, goexit0 of a locked goroutine returns to mstart.
void Runtime::mexit() {
  M* m = getm();
  if (m == m0_) {
    // This is the main thread. Just wedge it. On Linux, exiting the main
    // thread puts the process into a non-waitable zombie state.
    handoffp(releasep());
    lock(&sched_.lock);
    sched_.nmfreed++;
    checkdead();
    unlock(&sched_.lock);
    m->exited = true;
    event(Ev::mexit, static_cast<int>(m->id));
    notesleep(&m->park);
    throw_("locked m0 woke up");
  }
  // Remove m from allm.
  lock(&sched_.lock);
  M* prev = nullptr;
  M* cur = allm_.load(std::memory_order_relaxed);
  for (; cur != nullptr; prev = cur, cur = cur->alllink) {
    if (cur == m) break;
  }
  if (cur == nullptr) throw_("m not found in allm");
  if (prev) prev->alllink = m->alllink;
  else allm_.store(m->alllink, std::memory_order_release);
  // (sched.freem: the M's memory is owned by the Runtime until it is destroyed.)
  unlock(&sched_.lock);

  // Release the P.
  handoffp(releasep());
  // After this point we must not have a P.
  lock(&sched_.lock);
  sched_.nmfreed++;
  checkdead();
  unlock(&sched_.lock);
  m->exited = true;
  event(Ev::mexit, static_cast<int>(m->id));
#if GORT_PLANTED_DEFECTS
  if (cfg_.plant == kPlantUaf) {
    // PLANTED DEFECT (AddressSanitizer): free the exiting M (and its g0)
    // now, dropping it from the Runtime's ownership list, while allms_ still
    // lists it: the next invariant check or dump reads freed memory.
    {
      TsanInvisibleScope quiet;
      std::lock_guard<std::mutex> g(ownMu_);
      ownedMs_.erase(std::find(ownedMs_.begin(), ownedMs_.end(), m));
    }
    delete m->g0;
    delete m;
  }
#endif
  // The thread ends when mstart returns (Platform contract).
}

// allocm allocates a new M unassociated with any thread. It can use pp for
// allocation context if needed. fn is recorded as the new M's m.mstartfn.
// This function is allowed to have write barriers even if the caller isn't
// (Go), so it may borrow pp: the caller must hold pp in transit.
//
// id is optional pre-allocated m ID. Omit (-1) by passing -1.
M* Runtime::allocm(P* _p_, MStartFn fn, int64_t id) {
  PreemptPoint(Site::allocm_prologue);
  M* _g_m = acquirem();
  bool borrowed = false;
  if (_g_m->p == nullptr) {
    acquirep(_p_);  // temporarily borrow p for mallocs in this function
    borrowed = true;
  }
  M* mp = newM();
  mp->mstartfn = fn;
  mcommoninit(mp, id);
  if (borrowed && _p_ == _g_m->p) releasep();
  releasem(_g_m);
  event(Ev::allocm, static_cast<int>(mp->id));
  return mp;
}

// Pre-allocated ID may be passed as 'id', or omitted by passing -1.
void Runtime::mcommoninit(M* mp, int64_t id) {
  lock(&sched_.lock);
  if (id >= 0) {
    mp->id = id;
  } else {
    mp->id = mReserveID();
  }
  allms_.push_back(mp);
  watchMark(kWatchAll);  // a new M: the checks iterate allms
  // Add to allm so garbage collector doesn't free g->m when it is just in a
  // register or unreachable from anywhere else.
  mp->alllink = allm_.load(std::memory_order_relaxed);
  allm_.store(mp, std::memory_order_release);
  unlock(&sched_.lock);
}

// mReserveID returns the next M ID from sched.mnext, which also counts the
// M as existing (mcount) from now on. sched.lock must be held. (Go 1.16,
// 85afa2eb: split out of mcommoninit so that startm can reserve the ID of
// the M it is about to create before dropping sched.lock; #40368.)
int64_t Runtime::mReserveID() {
  if (sched_.mnext + 1 < sched_.mnext) throw_("runtime: thread ID overflow");
  int64_t id = sched_.mnext;
  sched_.mnext++;
  checkmcount();
  return id;
}

void Runtime::checkmcount() {
  // sched lock is held
  if (mcount() > sched_.maxmcount) throw_("thread exhaustion");
}

// newm creates a new M. It will start off with a call to fn, or else the
// scheduler. fn needs to be static and not a heap allocated closure.
// Can run with m.p==nil, so write barriers are not allowed.
//
// id is optional pre-allocated m ID. Omit (-1) by passing -1.
void Runtime::newm(MStartFn fn, P* _p_, int64_t id) {
  PreemptPoint(Site::newm_prologue);
  M* mp = allocm(_p_, fn, id);
  mp->nextp = _p_;
  if (_p_) _p_->holder = nullptr;  // now referenced by mp.nextp
  if (fn == &Runtime::templateThread) {
    mp->isTemplate = true;
    newmHandoff_.templateM = mp;
  }
  M* gm = getm();  // may differ from the caller's M: allocm's prologue is preemptible on a user g
  if (gm != nullptr && (gm->lockedExt != 0 || gm->incgo) && !cfg_.has(Bug::issue20676)) {
    // We're on a locked M or a thread that may have been started by C. The
    // kernel state of this thread may be strange (the user may have locked it
    // for that purpose). We don't want to clone that into another thread.
    // Instead, ask a known-good thread to create the thread for us.
    lock(&newmHandoff_.lock);
    if (newmHandoff_.haveTemplateThread.load() == 0) {
      throw_("on a locked thread with no template thread");
    }
    mp->schedlink = newmHandoff_.newm;
    newmHandoff_.newm = mp;
    event(Ev::newm_queued, static_cast<int>(mp->id), _p_ ? _p_->id : -1);
    if (newmHandoff_.waiting) {
      newmHandoff_.waiting = false;
      notewakeup(&newmHandoff_.wake);
    }
    unlock(&newmHandoff_.lock);
    return;
  }
  newm1(mp);
}

void Runtime::newm1(M* mp) {
  PreemptPoint(Site::newm1_prologue);
  rlock(&execLock_);  // Prevent process clone.
  newosproc(mp);
  runlock(&execLock_);
}

void Runtime::newosproc(M* mp) {
  // os_linux.go 140 is not nosplit: a prologue inside newm1's read lock. A
  // request there can only be honoured with m.locks == 0 (Bug::issue20903
  // on a user g); otherwise newstack keeps it for the next prologue after
  // runlock's releasem, which the existing sites offer, so the site is
  // offered to the chooser only then and older choice streams keep their
  // meaning (docs/port-notes.md, "The execLock writer").
  if (getm()->locks == 0) PreemptPoint(Site::newosproc_prologue);
  event(Ev::newm_clone, static_cast<int>(mp->id));
  mp->clonedBy = getm();
  mp->clonedFromTainted = mp->clonedBy != nullptr && mp->clonedBy->tainted;  // [oracle]
  mp->threadCreated = true;
  plat_.newosproc(static_cast<int>(mp->id), &Runtime::mstartEntry, mp);
}

// startTemplateThread starts the template thread if it is not already running.
// The calling thread must itself be in a known-good state.
void Runtime::startTemplateThread() {
  PreemptPoint(Site::startTemplateThread_prologue);
  // Disable preemption to guarantee that the template thread will be created
  // before a park once haveTemplateThread is set. (11b3730a; #38931)
  const bool fixed = !cfg_.has(Bug::issue38931);
  M* mp = fixed ? acquirem() : nullptr;
  SyncPoint(Site::template_cas);
  uint32_t zero = 0;
  if (!newmHandoff_.haveTemplateThread.compare_exchange_strong(zero, 1)) {
    if (fixed) releasem(mp);
    return;
  }
  event(Ev::template_cas);
  newmHandoff_.creator = getm();
  newmHandoff_.creatorG = getg();
  newmHandoff_.creatorPinned = getm()->locks > 0;
  newm(&Runtime::templateThread, nullptr, -1);
  newmHandoff_.creator = nullptr;
  newmHandoff_.creatorG = nullptr;
  newmHandoff_.creatorPinned = false;
  if (fixed) releasem(mp);
}

// templateThread is a thread in a known-good state that exists solely to
// start new threads in known-good states when the calling thread may not
// be in a good state. It does not hold a P, so stop-the-world neither waits
// for it nor stops it. It never returns.
void Runtime::templateThread() {
  lock(&sched_.lock);
  sched_.nmsys++;
  checkdead();
  unlock(&sched_.lock);
  event(Ev::templatethread_run);
  for (;;) {
    lock(&newmHandoff_.lock);
    while (newmHandoff_.newm != nullptr) {
      M* newm = newmHandoff_.newm;
      newmHandoff_.newm = nullptr;
      unlock(&newmHandoff_.lock);
      for (; newm != nullptr;) {
        M* next = newm->schedlink;
        newm->schedlink = nullptr;
        newm1(newm);
        newm = next;
      }
      lock(&newmHandoff_.lock);
    }
    newmHandoff_.waiting = true;
    noteclear(&newmHandoff_.wake);
    unlock(&newmHandoff_.lock);
    notesleep(&newmHandoff_.wake);
  }
}

void Runtime::mspinning() {
  // startm's caller incremented nmspinning. Set the new M's spinning.
  getm()->spinning = true;
}

// Stops execution of the current m until new work is available.
// Returns with acquired P.
void Runtime::stopm() {
  M* _g_m = getm();
  if (_g_m->locks != 0) throw_("stopm holding locks");
  if (_g_m->p != nullptr) throw_("stopm holding p");
  if (_g_m->spinning) throw_("stopm spinning");
  lock(&sched_.lock);
  mput(_g_m);
  unlock(&sched_.lock);
  event(Ev::stopm);
  notesleep(&_g_m->park);
  noteclear(&_g_m->park);
  acquirep(_g_m->nextp);
  _g_m->nextp = nullptr;
}

// Schedules some M to run the p (creates an M if necessary). If p==nil,
// tries to get an idle P, if no idle P's does nothing. May run with m.p==nil,
// so write barriers are not allowed. If spinning is set, the caller has
// incremented nmspinning and startm will either decrement nmspinning or set
// m.spinning in the newly started M.
void Runtime::startm(P* _p_, bool spinning) {
  M* self = getm();
  lock(&sched_.lock);
  if (_p_ == nullptr) {
    _p_ = pidleget();
    if (_p_ == nullptr) {
      unlock(&sched_.lock);
      if (spinning) {
        // The caller incremented nmspinning, but there are no idle Ps,
        // so it's okay to just undo the increment and give up.
        if (--sched_.nmspinning < 0) throw_("startm: negative nmspinning");
      }
      return;
    }
    _p_->holder = self;
  }
  M* mp = mget();
  if (mp == nullptr) {
    // No M is available, we must drop sched.lock and call newm. However, we
    // already own a P to assign to the M.
    //
    // Once sched.lock is released, another G (e.g., in a syscall), could
    // find no idle P while checkdead finds a runnable G but no running M's
    // because this new M hasn't started yet, thus throwing in an apparent
    // deadlock.
    //
    // Avoid this situation by pre-allocating the ID for the new M, thus
    // marking it as 'running' before we drop sched.lock. This new M will
    // eventually run the scheduler to execute any queued G's. (Go 1.16,
    // 85afa2eb; Bug::issue40368 restores Go 1.14, where mcommoninit
    // counts the M only once newm is under way.)
    int64_t id = cfg_.has(Bug::issue40368) ? -1 : mReserveID();
    unlock(&sched_.lock);
    event(Ev::startm, _p_->id, spinning ? 1 : 0);
    MStartFn fn = nullptr;
    if (spinning) {
      // The caller incremented nmspinning, so set m.spinning in the new M.
      fn = &Runtime::mspinning;
    }
    newm(fn, _p_, id);
    return;
  }
  unlock(&sched_.lock);
  event(Ev::startm, _p_->id, spinning ? 1 : 0);
  if (mp->spinning) throw_("startm: m is spinning");
  if (mp->nextp != nullptr) throw_("startm: m has p");
  if (spinning && !runqempty(_p_)) throw_("startm: p has runnable gs");
  // The caller incremented nmspinning, so set m.spinning in the new M.
  mp->spinning = spinning;
  mp->nextp = _p_;
  _p_->holder = nullptr;
  notewakeup(&mp->park);
}

// Hands off P from syscall or locked M. Always runs without a P, so write
// barriers are not allowed. The cases are tried in Go's order (spec §5.14).
void Runtime::handoffp(P* _p_) {
  // [oracle] The caller took _p_ from its last home (releasep, a CAS); until
  // one of the cases below gives it the next, this M holds it in transit.
  // Every case clears the mark when it hands _p_ on.
  _p_->holder = getm();
  // handoffp must start an M in any situation where findrunnable would
  // return a G to run on _p_.

  // if it has local work, start it straight away
  SyncPoint(Site::npidle_load);
  if (!runqempty(_p_) || sched_.runqsize != 0) {
    event(Ev::handoffp, _p_->id, 1);
    startm(_p_, false);
    return;
  }
  // (case 2, GC mark work: gort has no GC.)
  // no local work, check that there are no spinning/idle M's,
  // otherwise our help is not required
  int32_t zero = 0;
  if (sched_.nmspinning.load() + sched_.npidle.load() == 0 &&
      sched_.nmspinning.compare_exchange_strong(zero, 1)) {  // TODO: fast atomic
    event(Ev::handoffp, _p_->id, 3);
    startm(_p_, true);
    return;
  }
  lock(&sched_.lock);
  if (sched_.gcwaiting.load() != 0) {
    _p_->status = _Pgcstop;
    _p_->holder = nullptr;
    sched_.stopwait--;
    event(Ev::handoffp, _p_->id, 4);
    event(Ev::pgcstop, _p_->id, sched_.stopwait);
    if (sched_.stopwait == 0) notewakeup(&sched_.stopnote);
    unlock(&sched_.lock);
    return;
  }
  // case 5 (proc.go 1920-1926): a safe-point function this P still owes.
  if (_p_->runSafePointFn.load() != 0) {
    uint32_t one = 1;
    if (_p_->runSafePointFn.compare_exchange_strong(one, 0)) {
      sched_.safePointFn(this, _p_);
      sched_.safePointWait--;
      event(Ev::safepoint_fn, _p_->id, 2, sched_.safePointWait);
      if (sched_.safePointWait == 0) notewakeup(&sched_.safePointNote);
    }
  }
  if (sched_.runqsize != 0) {
    unlock(&sched_.lock);
    event(Ev::handoffp, _p_->id, 6);
    startm(_p_, false);
    return;
  }
  // If this is the last running P and nobody is polling network, need to
  // wakeup another M to poll network.
  if (sched_.npidle.load() == gomaxprocs_ - 1 && sched_.lastpoll.load() != 0) {
    unlock(&sched_.lock);
    event(Ev::handoffp, _p_->id, 7);
    startm(_p_, false);
    return;
  }
  if (int64_t when = nobarrierWakeTime(_p_); when != 0) wakeNetPoller(when);
  event(Ev::handoffp, _p_->id, 9);
  pidleput(_p_);
  _p_->holder = nullptr;
  unlock(&sched_.lock);
}

// Tries to add one more P to execute G's. Called when a G is made runnable
// (newproc, ready).
void Runtime::wakep() {
  // be conservative about spinning threads
  SyncPoint(Site::nmspinning_cas);
  int32_t zero = 0;
  if (!sched_.nmspinning.compare_exchange_strong(zero, 1)) return;
  ReachCounters::inc(reach_.wakepStarted);
  startm(nullptr, true);
}

// Stops execution of the current m that is locked to a g until the g is
// runnable again. Returns with acquired P.
void Runtime::stoplockedm() {
  M* _g_m = getm();
  if (_g_m->lockedg == nullptr || _g_m->lockedg->lockedm != _g_m) {
    throw_("stoplockedm: inconsistent locking");
  }
  if (_g_m->p != nullptr) {
    // Schedule another M to run this p.
    handoffp(releasep());
  }
  incidlelocked(1);
  event(Ev::stoplockedm, static_cast<int>(_g_m->lockedg->goid));
  // Wait until another thread schedules lockedg again.
  notesleep(&_g_m->park);
  noteclear(&_g_m->park);
  uint32_t status = readgstatus(_g_m->lockedg);
  if ((status & ~_Gscan) != _Grunnable) throw_("stoplockedm: not runnable");
  acquirep(_g_m->nextp);
  _g_m->nextp = nullptr;
}

// Schedules the locked m to run the locked gp. May run during STW, so write
// barriers are not allowed.
void Runtime::startlockedm(G* gp) {
  M* _g_m = getm();
  M* mp = gp->lockedm;
  if (mp == _g_m) throw_("startlockedm: locked to me");
  if (mp->nextp != nullptr) throw_("startlockedm: m has p");
  // directly handoff current P to the locked m
  incidlelocked(-1);
  P* _p_ = releasep();
  _p_->holder = _g_m;
  event(Ev::startlockedm, static_cast<int>(gp->goid), static_cast<int>(mp->id));
  mp->nextp = _p_;
  _p_->holder = nullptr;
  notewakeup(&mp->park);
  stopm();
}

// Stops the current m for stopTheWorld. Returns when the world is restarted.
void Runtime::gcstopm() {
  M* _g_m = getm();
  if (sched_.gcwaiting.load() == 0) throw_("gcstopm: not waiting for gc");
  if (_g_m->spinning) {
    _g_m->spinning = false;
    // OK to just drop nmspinning here, startTheWorld will unpark threads as needed.
    if (--sched_.nmspinning < 0) throw_("gcstopm: negative nmspinning");
  }
  P* _p_ = releasep();
  _p_->holder = _g_m;
  lock(&sched_.lock);
  _p_->status = _Pgcstop;
  _p_->holder = nullptr;
  sched_.stopwait--;
  event(Ev::gcstopm, _p_->id);
  if (sched_.stopwait == 0) notewakeup(&sched_.stopnote);
  unlock(&sched_.lock);
  stopm();
}

void Runtime::incidlelocked(int32_t v) {
  lock(&sched_.lock);
  sched_.nmidlelocked += v;
  if (v > 0) checkdead();
  unlock(&sched_.lock);
}

// Check for deadlock situation. The check is based on number of running M's,
// if 0 -> deadlock. sched.lock must be held.
void Runtime::checkdead() {
  int64_t run0 = 0;
  int64_t run = mcount() - sched_.nmidle - sched_.nmidlelocked - sched_.nmsys;
  if (run > run0) return;
  if (run < 0) throw_("checkdead: inconsistent counts");
  int grunning = 0;
  lock(&allglock_);
  for (G* gp : allgs_) {
    uint32_t s = readgstatus(gp) & ~_Gscan;
    switch (s) {
      case _Gwaiting:
      case _Gpreempted:
        grunning++;
        break;
      case _Grunnable:
      case _Grunning:
      case _Gsyscall:
        unlock(&allglock_);
        throw_("checkdead: runnable g");
      default:
        break;
    }
  }
  unlock(&allglock_);
  if (grunning == 0) throw_("no goroutines (main called runtime.Goexit) - deadlock!");
  // There are no goroutines running, so we can look at the P's timers.
  // (Go reads len(_p_.timers) without the timers lock; numTimers is that
  // length as an atomic.)
  for (P* _p_ : allp_) {
    if (_p_->numTimers.load() > 0) return;
  }
  throw_("all goroutines are asleep - deadlock!");
}

// Put mp on midle list. sched.lock must be held.
void Runtime::mput(M* mp) {
  mp->schedlink = sched_.midle;
  sched_.midle = mp;
  sched_.nmidle++;
  checkdead();
}

// Try to get an m from midle list. sched.lock must be held.
M* Runtime::mget() {
  M* mp = sched_.midle;
  if (mp != nullptr) {
    sched_.midle = mp->schedlink;
    sched_.nmidle--;
  }
  return mp;
}

// ---------------------------------------------------------------------------
// Ps.

// Associate p and the current m.
void Runtime::acquirep(P* _p_) {
  wirep(_p_);
  event(Ev::acquirep, _p_->id);
}

// wirep is the first step of acquirep, which actually associates the current
// M to _p_. (nosplit)
void Runtime::wirep(P* _p_) {
  M* _g_m = getm();
  if (_g_m->p != nullptr) throw_("wirep: already in go");
  if (_p_ == nullptr || _p_->m != nullptr || _p_->status != _Pidle) throw_("wirep: invalid p state");
  _g_m->p = _p_;
  _p_->m = _g_m;
  _p_->status = _Prunning;
  _p_->holder = nullptr;
}

// Disassociate p and the current m.
P* Runtime::releasep() {
  M* _g_m = getm();
  if (_g_m->p == nullptr) throw_("releasep: invalid arg");
  P* _p_ = _g_m->p;
  if (_p_->m != _g_m || _p_->status != _Prunning) throw_("releasep: invalid p state");
  _g_m->p = nullptr;
  _p_->m = nullptr;
  _p_->status = _Pidle;
  event(Ev::releasep, _p_->id);
  return _p_;
}

// pidleput puts p on the _Pidle list. sched.lock must be held.
void Runtime::pidleput(P* _p_) {
  // [oracle] runqempty is a scheduling point: until _p_ is linked, the
  // calling M holds it in transit.
  _p_->holder = getm();
  if (!runqempty(_p_)) throw_("pidleput: P has non-empty run queue");
  _p_->link = sched_.pidle;
  sched_.pidle = _p_;
  sched_.npidle++;
  _p_->holder = nullptr;
}

// pidleget tries to get a p from the _Pidle list. sched.lock must be held.
P* Runtime::pidleget() {
  P* _p_ = sched_.pidle;
  if (_p_ != nullptr) {
    sched_.pidle = _p_->link;
    sched_.npidle--;
  }
  return _p_;
}

// destroy releases all of the resources associated with pp and transitions
// it to status _Pdead. sched.lock must be held and the world must be stopped.
void Runtime::pdestroy(P* pp) {
  // Move all runnable goroutines to the global queue
  while (pp->runqhead.load() != pp->runqtail.load()) {
    // Pop from tail of local queue
    uint32_t t = pp->runqtail.load() - 1;
    pp->runqtail.store(t);
    G* gp = pp->runq[t % 256].load();
    // Push onto head of global queue
    gp->schedlink = sched_.runqhead;
    sched_.runqhead = gp;
    if (sched_.runqtail == nullptr) sched_.runqtail = gp;
    sched_.runqsize++;
  }
  if (G* gp = pp->runnext.exchange(nullptr)) {
    gp->schedlink = sched_.runqhead;
    sched_.runqhead = gp;
    if (sched_.runqtail == nullptr) sched_.runqtail = gp;
    sched_.runqsize++;
  }
  // Move gFree to the global list (gfpurge: under sched.gFree.lock, proc.go 3608-3619).
  lock(&sched_.gFreeLock);
  while (G* gp = pp->gFree) {
    pp->gFree = gp->schedlink;
    pp->gFreeN--;
    gp->schedlink = sched_.gFree;
    sched_.gFree = gp;
    sched_.ngFree++;
  }
  unlock(&sched_.gFreeLock);
  if (!pp->timers.empty()) {
    P* plocal = getm()->p;
    // The world is stopped, but we acquire timersLock to protect against
    // sysmon calling timeSleepUntil. This is the only case where we hold the
    // timersLock of more than one P, so there are no deadlock concerns.
    lock(&plocal->timersLock);
    lock(&pp->timersLock);
    moveTimers(plocal, pp->timers);
    pp->timers.clear();
    pp->numTimers.store(0);
    pp->timer0When.store(0);
    unlock(&pp->timersLock);
    unlock(&plocal->timersLock);
  }
  pp->status = _Pdead;
}

// Change number of processors. The world is stopped, sched is locked.
// Returns list of Ps with local work, they need to be scheduled by the caller.
P* Runtime::procresize(int32_t nprocs) {
  int32_t old = gomaxprocs_;
  if (old < 0 || nprocs <= 0 || nprocs > kMaxGomaxprocs) throw_("procresize: invalid arg");
  lock(&allpLock_);
  // Grow allp if necessary (never beyond its reserved capacity).
  while (static_cast<int32_t>(allPs_.size()) < nprocs) {
    P* pp = new P;
    pp->id = static_cast<int32_t>(allPs_.size());
    pp->status = _Pgcstop;
    allPs_.push_back(pp);
  }
  if (static_cast<int32_t>(allp_.size()) < nprocs) {
    for (int32_t i = static_cast<int32_t>(allp_.size()); i < nprocs; i++) allp_.push_back(allPs_[i]);
    watchMark(kWatchAll);  // the checks iterate allp
  }
  unlock(&allpLock_);
  // initialize new P's
  for (int32_t i = old; i < nprocs; i++) {
    P* pp = allp_[i];
    if (pp->status == _Pdead) pp->status = _Pgcstop;  // pp.init(i)
  }
  M* _g_m = getm();
  if (_g_m->p != nullptr && _g_m->p->id < nprocs) {
    // continue to use the current P
    _g_m->p->status = _Prunning;
  } else {
    // release the current P and acquire allp[0].
    if (_g_m->p != nullptr) _g_m->p->m = nullptr;
    _g_m->p = nullptr;
    P* p = allp_[0];
    p->m = nullptr;
    p->status = _Pidle;
    acquirep(p);
  }
  // release resources from unused P's
  for (int32_t i = nprocs; i < old; i++) pdestroy(allp_[i]);
  // Trim allp.
  if (static_cast<int32_t>(allp_.size()) > nprocs) {
    lock(&allpLock_);
    allp_.resize(nprocs);
    watchMark(kWatchAll);
    unlock(&allpLock_);
  }

  P* runnablePs = nullptr;
  for (int32_t i = nprocs - 1; i >= 0; i--) {
    P* p = allp_[i];
    if (_g_m->p == p) continue;
    p->holder = _g_m;  // [oracle] in transit until pidleput or startTheWorld
    p->status = _Pidle;
    if (runqempty(p)) {
      pidleput(p);
    } else {
      p->m = mget();
      p->link = runnablePs;
      runnablePs = p;
      p->holder = _g_m;  // until startTheWorld hands it over
    }
  }
  gomaxprocs_ = nprocs;
  return runnablePs;
}

// ---------------------------------------------------------------------------
// Run queues (lock-free local ring of 256 plus runnext; global list).

// runqput tries to put g on the local runnable queue. If next is false,
// runqput adds g to the tail of the runnable queue. If next is true, runqput
// puts g in the _p_.runnext slot. If the run queue is full, runnext puts g on
// the global queue. Executed only by the owner P.
void Runtime::runqput(P* _p_, G* gp, bool next) {
  SyncPoint(Site::runq_access);
  if (next) {
    for (;;) {  // retryNext: (proc.go 4955-4959)
      G* oldnext = _p_->runnext.load();
      // A thief's runqgrab may take runnext between the load and the CAS.
      // (Thieves only ever clear runnext, so a nil oldnext cannot go stale.)
      if (oldnext != nullptr) SyncPoint(Site::runqput_cas);
      if (_p_->runnext.compare_exchange_strong(oldnext, gp)) {
        if (oldnext == nullptr) return;
        // Kick the old runnext out to the regular run queue.
        gp = oldnext;
        break;
      }
      ReachCounters::inc(reach_.runqputRetry);
    }
  }
  for (;;) {
    uint32_t h = _p_->runqhead.load(std::memory_order_acquire);  // load-acquire, synchronize with consumers
    uint32_t t = _p_->runqtail.load(std::memory_order_relaxed);
    if (t - h < 256) {
      _p_->runq[t % 256].store(gp, std::memory_order_relaxed);
      _p_->runqtail.store(t + 1, std::memory_order_release);  // store-release, makes the item available for consumption
      return;
    }
    if (runqputslow(_p_, gp, h, t)) return;
    // the queue is not full, now the put above must succeed
  }
}

// Put g and a batch of work from local runnable queue on global queue.
// Executed only by the owner P.
bool Runtime::runqputslow(P* _p_, G* gp, uint32_t h, uint32_t t) {
  G* batch[256 / 2 + 1];
  // First, grab a batch from local queue.
  uint32_t n = t - h;
  n = n / 2;
  if (n != 256 / 2) throw_("runqputslow: queue is not full");
  for (uint32_t i = 0; i < n; i++) batch[i] = _p_->runq[(h + i) % 256].load(std::memory_order_relaxed);
  SyncPoint(Site::runqput_cas);  // thieves may advance the head before the CAS (proc.go 4996)
  if (!_p_->runqhead.compare_exchange_strong(h, h + n, std::memory_order_release)) {
    ReachCounters::inc(reach_.runqputslowFail);
    return false;
  }
  batch[n] = gp;
  // Link the goroutines.
  for (uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
  batch[n]->schedlink = nullptr;
  // Now put the batch on global queue.
  lock(&sched_.lock);
  globrunqputbatch(batch[0], batch[n], static_cast<int32_t>(n + 1));
  unlock(&sched_.lock);
  return true;
}

// Get g from local runnable queue. If inheritTime is true, gp should inherit
// the remaining time in the current time slice. Executed only by the owner P.
G* Runtime::runqget(P* _p_, bool* inheritTime) {
  SyncPoint(Site::runq_access);
  // If there's a runnext, it's the next G to run.
  for (;;) {
    G* next = _p_->runnext.load();
    if (next == nullptr) break;
    SyncPoint(Site::runqget_cas);  // a thief may take runnext before the CAS (proc.go 5032-5034)
    if (_p_->runnext.compare_exchange_strong(next, nullptr)) {
      *inheritTime = true;
      return next;
    }
    ReachCounters::inc(reach_.runqgetRetry);
  }
  for (;;) {
    uint32_t h = _p_->runqhead.load(std::memory_order_acquire);  // load-acquire, synchronize with other consumers
    uint32_t t = _p_->runqtail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* gp = _p_->runq[h % 256].load(std::memory_order_relaxed);
    SyncPoint(Site::runqget_cas);  // a thief may advance the head before the CAS (proc.go 5040-5046)
    if (_p_->runqhead.compare_exchange_strong(h, h + 1, std::memory_order_release)) {  // cas-release, commits consume
      *inheritTime = false;
      return gp;
    }
    ReachCounters::inc(reach_.runqgetRetry);
  }
}

// runqempty reports whether _p_ has no Gs on its local run queue.
// It never returns true spuriously.
bool Runtime::runqempty(P* _p_) {
  // Defend against a race where 1) _p_ has G1 in runqnext but runqhead ==
  // runqtail, 2) runqput on _p_ kicks G1 to the runq, 3) runqget on _p_
  // empties runqnext. Simply observing that runqhead == runqtail and then
  // observing that runqnext == nil does not mean the queue is empty.
  for (;;) {
    uint32_t head = _p_->runqhead.load();
    uint32_t tail = _p_->runqtail.load();
    // The owner may put (and kick runnext to the ring) between the loads (proc.go 4925-4927).
    SyncPoint(Site::runqempty_load);
    G* runnext = _p_->runnext.load();
    if (tail == _p_->runqtail.load()) return head == tail && runnext == nullptr;
    ReachCounters::inc(reach_.runqemptyRetry);
  }
}

// Steal half of elements from local runnable queue of p2 and put onto local
// runnable queue of p. Returns one of the stolen elements (or nil if failed).
// Go's runqgrab (which can be executed by any P) is inlined in the loop.
G* Runtime::runqsteal(P* _p_, P* p2, bool stealRunNextG) {
  SyncPoint(Site::runq_access);
  uint32_t t = _p_->runqtail.load(std::memory_order_relaxed);
  uint32_t n = 0;
  // runqgrab(p2, &_p_.runq, t, stealRunNextG)
  for (;;) {
    uint32_t h = p2->runqhead.load(std::memory_order_acquire);  // load-acquire, synchronize with other consumers
    // Consumers and the producer may move both ends between the loads (proc.go 5058-5059).
    SyncPoint(Site::runqgrab_load);
    uint32_t t2 = p2->runqtail.load(std::memory_order_acquire);  // load-acquire, synchronize with the producer
    n = t2 - h;
    n = n - n / 2;
    if (n == 0) {
      if (stealRunNextG) {
        // Try to steal from p2.runnext.
        if (G* next = p2->runnext.load()) {
          if (p2->status == _Prunning) {
            // Sleep to ensure that p2 isn't about to run the g we are about
            // to steal. (Go: usleep(3); here a scheduling point.)
            plat_.osyield();
          }
          SyncPoint(Site::runqgrab_cas);  // (proc.go 5086)
          if (!p2->runnext.compare_exchange_strong(next, nullptr)) {
            ReachCounters::inc(reach_.runqgrabRetry);
            continue;
          }
          _p_->runq[t % 256].store(next, std::memory_order_relaxed);
          n = 1;
          break;
        }
      }
      return nullptr;
    }
    if (n > 256 / 2) {  // read inconsistent h and t
      ReachCounters::inc(reach_.runqgrabInconsistent);
      continue;
    }
    for (uint32_t i = 0; i < n; i++) {
      G* g = p2->runq[(h + i) % 256].load(std::memory_order_relaxed);
      _p_->runq[(t + i) % 256].store(g, std::memory_order_relaxed);
    }
    SyncPoint(Site::runqgrab_cas);  // other consumers may advance the head first (proc.go 5102)
    if (p2->runqhead.compare_exchange_strong(h, h + n, std::memory_order_release)) break;  // cas-release, commits consume
    ReachCounters::inc(reach_.runqgrabRetry);
  }
  if (n == 0) return nullptr;
  n--;
  G* gp = _p_->runq[(t + n) % 256].load(std::memory_order_relaxed);
  if (n == 0) return gp;
  uint32_t h = _p_->runqhead.load(std::memory_order_acquire);  // load-acquire, synchronize with consumers
  if (t - h + n >= 256) throw_("runqsteal: runq overflow");
  _p_->runqtail.store(t + n, std::memory_order_release);  // store-release, makes the item available for consumption
  return gp;
}

// Put gp on the global runnable queue. Sched must be locked.
void Runtime::globrunqput(G* gp) {
  gp->schedlink = nullptr;
  if (sched_.runqtail != nullptr) sched_.runqtail->schedlink = gp;
  else sched_.runqhead = gp;
  sched_.runqtail = gp;
  sched_.runqsize++;
}

// Put a batch of runnable goroutines on the global runnable queue. Sched must be locked.
void Runtime::globrunqputbatch(G* head, G* tail, int32_t n) {
  tail->schedlink = nullptr;
  if (sched_.runqtail != nullptr) sched_.runqtail->schedlink = head;
  else sched_.runqhead = head;
  sched_.runqtail = tail;
  sched_.runqsize += n;
}

// Try get a batch of G's from the global runnable queue. Sched must be locked.
G* Runtime::globrunqget(P* _p_, int32_t max) {
  if (sched_.runqsize == 0) return nullptr;
  int32_t n = sched_.runqsize / gomaxprocs_ + 1;
  if (n > sched_.runqsize) n = sched_.runqsize;
  if (max > 0 && n > max) n = max;
  if (n > 256 / 2) n = 256 / 2;
  sched_.runqsize -= n;
  auto pop = [this] {
    G* gp = sched_.runqhead;
    sched_.runqhead = gp->schedlink;
    if (sched_.runqhead == nullptr) sched_.runqtail = nullptr;
    gp->schedlink = nullptr;
    return gp;
  };
  G* gp = pop();
  n--;
  for (; n > 0; n--) runqput(_p_, pop(), false);
  return gp;
}

// ---------------------------------------------------------------------------
// Scheduling.

// One round of scheduler: find a runnable goroutine and return it (Go:
// execute it). Never returns nil.
G* Runtime::schedule() {
  M* _g_m = getm();
  if (_g_m->locks != 0) throw_("schedule: holding locks");
  if (_g_m->lockedg != nullptr) {
    stoplockedm();
    return execute(_g_m->lockedg, false);  // Never returns.
  }
  // We should not schedule away from a g that is executing a cgo call,
  // since the cgo call is using the m's g0 stack.
  if (_g_m->incgo) throw_("schedule: in cgo");

  for (;;) {  // top:
    P* pp = _g_m->p;
    pp->preempt = false;
    SyncPoint(Site::gcwaiting_load);
    if (sched_.gcwaiting.load() != 0) {
      gcstopm();
      continue;
    }
    if (pp->runSafePointFn.load() != 0) runSafePointFn(3);  // proc.go 2472-2474
    // This is a fancy way to say "is the local runq non-empty": spinning Ms
    // must have stopped spinning before they take local work.
    if (_g_m->spinning && (pp->runnext.load() != nullptr || pp->runqhead.load() != pp->runqtail.load())) {
      throw_("schedule: spinning with local work");
    }
    int64_t pollUntil = 0;
    bool ranTimers = false;
    checkTimers(pp, 0, &pollUntil, &ranTimers);
    G* gp = nullptr;
    bool inheritTime = false;
    // Check the global runnable queue once in a while to ensure fairness.
    // Otherwise two goroutines can completely occupy the local runqueue by
    // constantly respawning each other.
    if (_g_m->p->schedtick % 61 == 0 && sched_.runqsize > 0) {
      lock(&sched_.lock);
      gp = globrunqget(_g_m->p, 1);
      unlock(&sched_.lock);
    }
    if (gp == nullptr) gp = runqget(_g_m->p, &inheritTime);
    if (gp == nullptr) gp = findrunnable(&inheritTime);  // blocks until work is available

    // This thread is going to run a goroutine and is not spinning anymore,
    // so if it was marked as spinning we need to reset it now and
    // potentially start a new spinning M.
    if (_g_m->spinning) resetspinning();

    if (gp->lockedm != nullptr) {
      // Hands off own p to the locked m, then blocks waiting for a new p.
      startlockedm(gp);
      continue;
    }
    return execute(gp, inheritTime);
  }
}

// Schedules gp to run on the current M. If inheritTime is true, gp inherits
// the remaining time in the current time slice. Otherwise, it starts a new
// time slice. Go: never returns (gogo); the port returns gp to the g0 loop.
G* Runtime::execute(G* gp, bool inheritTime) {
  M* _g_m = getm();
  // Assign gp.m before entering _Grunning so running Gs have an M.
  _g_m->curg = gp;
  gp->m = _g_m;
  casgstatus(gp, _Grunnable, _Grunning);
  gp->preempt = false;
  gp->stackguardPreempt = false;
  gp->readied = false;  // [oracle]
  if (!inheritTime) _g_m->p->schedtick++;
  if (_g_m->tainted && gp != _g_m->taintedBy && _g_m->taintedRan == nullptr) _g_m->taintedRan = gp;  // [oracle]
  event(Ev::execute, static_cast<int>(gp->goid));
  return gp;
}

// Finds a runnable goroutine to execute. Tries to steal from other P's, get
// g from global queue, run timers. (netpoll, GC work and safe-point functions
// are not modelled, except the safe-point function checks of proc.go 2088
// and 2236; the gcwaiting re-checks are kept in Go's places.)
G* Runtime::findrunnable(bool* inheritTime) {
  M* _g_m = getm();
  for (;;) {  // top:
    P* _p_ = _g_m->p;
    SyncPoint(Site::gcwaiting_load);
    if (sched_.gcwaiting.load() != 0) {
      gcstopm();
      continue;
    }
    if (_p_->runSafePointFn.load() != 0) runSafePointFn(3);  // proc.go 2088-2090
    int64_t pollUntil = 0;
    bool ran = false;
    int64_t now = checkTimers(_p_, 0, &pollUntil, &ran);
    // local runq
    if (G* gp = runqget(_p_, inheritTime)) return gp;
    // global runq
    if (sched_.runqsize != 0) {
      lock(&sched_.lock);
      G* gp = globrunqget(_p_, 0);
      unlock(&sched_.lock);
      if (gp != nullptr) {
        *inheritTime = false;
        return gp;
      }
    }
    // Steal work from other P's.
    int32_t procs = gomaxprocs_;
    bool goto_top = false;
    bool ranTimer = false;
    // If number of spinning M's >= number of busy P's, block. This is
    // necessary to prevent excessive CPU consumption when GOMAXPROCS>>1 but
    // the program parallelism is low.
    if (_g_m->spinning || 2 * sched_.nmspinning.load() < procs - sched_.npidle.load()) {
      if (!_g_m->spinning) {
        _g_m->spinning = true;
        sched_.nmspinning++;
      }
      for (int i = 0; i < 4 && !goto_top; i++) {
        // Go walks the Ps in a random order (fastrand); the port walks them
        // from a position derived from the M id and the round, which keeps
        // the run a function of the schedule.
        for (int32_t k = 0; k < procs; k++) {
          SyncPoint(Site::gcwaiting_load);
          if (sched_.gcwaiting.load() != 0) {
            goto_top = true;
            break;
          }
          P* p2 = allp_[static_cast<size_t>((k + i + _g_m->id) % procs)];
          if (_p_ == p2) continue;
          bool stealRunNextG = i > 2;  // first look for ready queues with more than 1 g
          if (G* gp = runqsteal(_p_, p2, stealRunNextG)) {
            *inheritTime = false;
            return gp;
          }
          // Consider stealing timers from p2. This call to checkTimers is
          // the only place where we hold a lock on a different P's timers.
          // Lock contention can be a problem here, so avoid grabbing the
          // lock if p2 is running and not marked for preemption. If p2 is
          // running and not being preempted we assume it will handle its
          // own timers.
          if (i > 2 && shouldStealTimers(p2)) {
            int64_t w = 0;
            bool ran2 = false;
            now = checkTimers(p2, now, &w, &ran2);
            if (w != 0 && (pollUntil == 0 || w < pollUntil)) pollUntil = w;
            if (ran2) {
              // Running the timers may have made an arbitrary number of G's
              // ready and added them to this P's local run queue. That
              // invalidates the assumption of runqsteal that is always has
              // room to add stolen G's. So check now if there is a local G
              // to run.
              if (G* gp = runqget(_p_, inheritTime)) return gp;
              ranTimer = true;
            }
          }
        }
      }
      if (goto_top) continue;
    }
    if (ranTimer) {
      // Running a timer may have made some goroutine ready.
      continue;
    }
    // stop:
    // Before we drop our P, make a snapshot of the allp slice, which can
    // change underfoot once we no longer block safe-points.
    P* allpSnapshot[kMaxGomaxprocs];
    int32_t nsnap = static_cast<int32_t>(allp_.size());
    for (int32_t i = 0; i < nsnap; i++) allpSnapshot[i] = allp_[i];

    // return P and block
    lock(&sched_.lock);
    if (sched_.gcwaiting.load() != 0 || _p_->runSafePointFn.load() != 0) {  // proc.go 2236
      unlock(&sched_.lock);
      continue;
    }
    if (sched_.runqsize != 0) {
      G* gp = globrunqget(_p_, 0);
      unlock(&sched_.lock);
      *inheritTime = false;
      return gp;
    }
    if (releasep() != _p_) throw_("findrunnable: wrong p");
    pidleput(_p_);
    unlock(&sched_.lock);

    // Delicate dance: thread transitions from spinning to non-spinning state,
    // potentially concurrently with submission of new goroutines. We must
    // drop nmspinning first and then check all per-P queues again.
    bool wasSpinning = _g_m->spinning;
    uint64_t wakepsBefore = reach_.wakepStarted.load(std::memory_order_relaxed);  // [counter]
    if (_g_m->spinning) {
      _g_m->spinning = false;
      // Submitters may put work and test nmspinning on either side of the
      // decrement (proc.go 2264-2270; newproc1 3484-3486, ready 675-676).
      SyncPoint(Site::nmspinning_dec);
      if (--sched_.nmspinning < 0) throw_("findrunnable: negative nmspinning");
    }
    // check all runqueues once again
    bool again = false;
    for (int32_t i = 0; i < nsnap; i++) {
      P* p2 = allpSnapshot[i];
      if (p2 != nullptr && !runqempty(p2)) {
        lock(&sched_.lock);
        _p_ = pidleget();
        if (_p_) _p_->holder = _g_m;
        unlock(&sched_.lock);
        if (_p_ != nullptr) {
          acquirep(_p_);
          if (wasSpinning) {
            _g_m->spinning = true;
            sched_.nmspinning++;
          }
          if (reach_.wakepStarted.load(std::memory_order_relaxed) != wakepsBefore) {
            ReachCounters::inc(reach_.recheckWithWakep);
          }
          again = true;
        }
        break;
      }
    }
    if (again) continue;
    // (Later Go only, Config::findrunnable_timer_rescan: go1.14.1's
    // findrunnable goes from the run-queue re-check straight to the poll,
    // with the pollUntil of its own P's timers and the timers it could
    // steal.) Similar to above, check for timer creation or expiry
    // concurrently with transitioning from spinning to non-spinning. Note
    // that we cannot use checkTimers here because it calls adjusttimers
    // which may need to allocate memory, and that isn't allowed when we
    // don't have an active P.
    if (cfg_.findrunnable_timer_rescan) {
      for (int32_t i = 0; i < nsnap; i++) {
        // This is similar to nobarrierWakeTime, but minimizes calls to nanotime.
        int64_t w = allpSnapshot[i]->timer0When.load();
        if (w != 0 && (pollUntil == 0 || w < pollUntil)) pollUntil = w;
      }
    }
    int64_t delta = -1;
    if (pollUntil != 0) {
      if (now == 0) now = plat_.nanotime();
      delta = pollUntil - now;
      if (delta < 0) delta = 0;
    }
    // poll network (gort: no descriptors, so only timers make an M poll,
    // and the list netpoll returns is always empty)
    if (netpollinited() && pollUntil != 0 && sched_.lastpoll.exchange(0) != 0) {
      sched_.pollUntil.store(pollUntil);
      if (_g_m->p != nullptr) throw_("findrunnable: netpoll with p");
      if (_g_m->spinning) throw_("findrunnable: netpoll with spinning");
      netpoll(delta);  // block until new work is available
      sched_.pollUntil.store(0);
      sched_.lastpoll.store(plat_.nanotime());
      lock(&sched_.lock);
      _p_ = pidleget();
      if (_p_) _p_->holder = _g_m;
      unlock(&sched_.lock);
      if (_p_ != nullptr) {
        acquirep(_p_);
        if (wasSpinning) {
          _g_m->spinning = true;
          sched_.nmspinning++;
        }
        continue;
      }
      // (_p_ == nil: injectglist(&list) of an empty list.)
    } else if (pollUntil != 0 && netpollinited()) {
      int64_t pollerPollUntil = sched_.pollUntil.load();
      if (pollerPollUntil == 0 || pollerPollUntil > pollUntil) netpollBreak();
    }
    stopm();
  }
}

void Runtime::resetspinning() {
  M* _g_m = getm();
  if (!_g_m->spinning) throw_("resetspinning: not a spinning m");
  _g_m->spinning = false;
  int32_t nmspinning = --sched_.nmspinning;
  if (nmspinning < 0) throw_("findrunnable: negative nmspinning");
  // M wakeup policy is deliberately somewhat conservative, so check if we
  // need to wakeup another P here.
  if (nmspinning == 0 && sched_.npidle.load() > 0) wakep();
}

// dropg removes the association between m and the current goroutine m->curg
// (gp for short). Typically a caller sets gp's status away from Grunning and
// then immediately calls dropg to finish the job.
void Runtime::dropg() {
  M* _g_m = getm();
  G* curg = _g_m->curg;
  curg->m = nullptr;
  _g_m->curg = nullptr;
}

G* Runtime::goschedImpl(G* gp) {
  uint32_t status = readgstatus(gp);
  if ((status & ~_Gscan) != _Grunning) throw_("bad g status");
  casgstatus(gp, _Grunning, _Grunnable);
  dropg();
#if GORT_PLANTED_DEFECTS
  if (cfg_.plant == kPlantRace) {
    // PLANTED DEFECT (ThreadSanitizer): the global run queue (sched.runqhead,
    // runqtail, the Gs' schedlink) is written without sched.lock, while
    // other Ms read and write it under the lock (globrunqget, runqputslow).
    globrunqput(gp);
    return schedule();
  }
#endif
  lock(&sched_.lock);
  globrunqput(gp);
  unlock(&sched_.lock);
  return schedule();
}

// Gosched continuation on g0.
G* Runtime::gosched_m(G* gp) {
  event(Ev::gosched, static_cast<int>(gp->goid));
  return goschedImpl(gp);
}

G* Runtime::gopreempt_m(G* gp) {
  gp->preemptions++;
  return goschedImpl(gp);
}

// goexit continuation on g0.
G* Runtime::goexit0(G* gp) {
  M* _g_m = getm();
  P* _p_ = _g_m->p;
  casgstatus(gp, _Grunning, _Gdead);
  gp->m = nullptr;
  bool locked = gp->lockedm != nullptr;
  gp->lockedm = nullptr;
  _g_m->lockedg = nullptr;
  gp->fn = nullptr;
  gp->waitreason = "";
  gp->lockedShadow = 0;
  gp->lockedShadowM = nullptr;
  event(Ev::goexit, static_cast<int>(gp->goid));
  dropg();
  if (_g_m->lockedInt != 0) throw_("internal lockOSThread error");
  gfput(_p_, gp);
  if (locked && cfg_.has(Bug::issue20395)) {
    // Pre-Go 1.10: exiting while locked implicitly unlocks, and the thread
    // goes back to the pool.
    _g_m->lockedExt = 0;
    locked = false;
  }
  if (locked) {
    // The goroutine may have locked this thread because it put it in an
    // unusual kernel state. Kill it rather than returning it to the thread
    // pool. Return to mstart, which will release the P and exit the thread.
    // (m.lockedExt is left as it is: anything this dying M still creates
    // goes through the template thread; #28979.)
    if (cfg_.has(Bug::issue28979)) _g_m->lockedExt = 0;
    return nullptr;
  }
  return schedule();
}

// park continuation on g0.
G* Runtime::park_m(G* gp) {
  M* _g_m = getm();
  casgstatus(gp, _Grunning, _Gwaiting);
  dropg();
  if (ParkUnlockFn fn = _g_m->waitunlockf) {
    bool ok = (this->*fn)(gp, _g_m->waitlock);
    _g_m->waitunlockf = nullptr;
    _g_m->waitlock = nullptr;
    if (!ok) {
      casgstatus(gp, _Gwaiting, _Grunnable);
      return execute(gp, true);  // Schedule it back, never returns.
    }
  }
  return schedule();
}

bool Runtime::parkunlock_c(G*, void* lk) {
  unlock(static_cast<mutex*>(lk));
  return true;
}

// Puts the current goroutine into a waiting state and calls unlockf on the
// system stack. If unlockf returns false, the goroutine is resumed. unlockf
// must not access this G's stack, as it may be moved between the call to
// gopark and the call to unlockf. The goroutine can be made runnable again
// by calling goready(gp).
void Runtime::gopark(ParkUnlockFn unlockf, void* lock, const char* reason) {
  PreemptPoint(Site::gopark_prologue);
  M* mp = acquirem();
  G* gp = mp->curg;
  uint32_t status = readgstatus(gp);
  if (status != _Grunning) throw_("gopark: bad g status");
  mp->waitlock = lock;
  mp->waitunlockf = unlockf;
  gp->waitreason = reason;
  // can't do anything that might move the G between Ms here.
  releasem(mp);
  mcall(&Runtime::park_m);
}

// Puts the current goroutine into a waiting state and unlocks the lock.
void Runtime::goparkunlock(mutex* lk, const char* reason) {
  gopark(&Runtime::parkunlock_c, lk, reason);
}

void Runtime::goready(G* gp) {
  PreemptPoint(Site::goready_prologue);  // not nosplit (proc.go 313)
  systemstack([&] { ready(gp, true); });
}

// Mark gp ready to run.
void Runtime::ready(G* gp, bool next) {
  uint32_t status = readgstatus(gp);
  // Mark runnable.
  M* _g_m = acquirem();  // disable preemption because it can be holding p in a local var
  if ((status & ~_Gscan) != _Gwaiting) throw_("bad g->status in ready");
  // status is Gwaiting or Gscanwaiting, make Grunnable and put on runq
  casgstatus(gp, _Gwaiting, _Grunnable);
  gp->readied = true;  // [oracle]
  runqput(_g_m->p, gp, next);
  SyncPoint(Site::submit_wakep);  // between the put and the loads (proc.go 675-676)
  if (sched_.npidle.load() != 0 && sched_.nmspinning.load() == 0 && !cfg_.plant_no_wakep) wakep();
  releasem(_g_m);
}

// Create a new g running fn. Put it on the queue of g's waiting to run.
// The port calls it on the caller's stack under systemstack (Go: newproc
// switches to the system stack and calls newproc1).
G* Runtime::newproc1(std::function<void()> fn) {
  M* _g_m = acquirem();  // disable preemption because it can be holding p in a local var
  if (!fn) throw_("go of nil func value");
  P* _p_ = _g_m->p;
  G* newg = gfget(_p_);
  if (newg == nullptr) {
    newg = newG();
    newg->atomicstatus.store(_Gdead);
    lock(&allglock_);
    watchMark(kWatchAll);  // the checks iterate allgs
    allgs_.push_back(newg);  // publishes with a g->status of Gdead so GC scanner doesn't look at uninitialized stack.
    unlock(&allglock_);
  } else {
    newg->fiber->Reset(&Runtime::gEntry, newg);
  }
  newg->fn = std::move(fn);
  newg->preempt = false;
  newg->stackguardPreempt = false;
  newg->throwsplit = false;
  newg->lockedm = nullptr;
  newg->waitreason = "";
  newg->lockedShadow = 0;
  newg->lockedShadowM = nullptr;
  newg->preemptions = 0;
  // Go takes ids from sched.goidgen by atomic add, 16 at a time into a per-P
  // cache (proc.go 3468-3476); one at a time keeps them in creation order.
  // No lock either way: ids are only names.
  newg->goid = sched_.goidgen.fetch_add(1) + 1;
  casgstatus(newg, _Gdead, _Grunnable);
  newg->readied = mainStarted_;  // [oracle] Go wakes a P for it only once main started
  event(Ev::newproc, static_cast<int>(newg->goid));
  runqput(_p_, newg, true);
  SyncPoint(Site::submit_wakep);  // between the put and the loads (proc.go 3484-3486)
  if (sched_.npidle.load() != 0 && sched_.nmspinning.load() == 0 && mainStarted_ && !cfg_.plant_no_wakep) wakep();
  releasem(_g_m);
  return newg;
}

// Put on gfree list. If local list is too long, transfer a batch to the global list.
void Runtime::gfput(P* _p_, G* gp) {
  if (readgstatus(gp) != _Gdead) throw_("gfput: bad status (not Gdead)");
  gp->schedlink = _p_->gFree;
  _p_->gFree = gp;
  _p_->gFreeN++;
  if (_p_->gFreeN >= 64) {
    lock(&sched_.gFreeLock);  // sched.gFree.lock, not sched.lock (proc.go 3546)
    while (_p_->gFreeN >= 32) {
      G* g = _p_->gFree;
      _p_->gFree = g->schedlink;
      _p_->gFreeN--;
      g->schedlink = sched_.gFree;
      sched_.gFree = g;
      sched_.ngFree++;
    }
    unlock(&sched_.gFreeLock);
  }
}

// Get from gfree list. If local list is empty, grab a batch from global list.
G* Runtime::gfget(P* _p_) {
  if (_p_->gFree == nullptr && sched_.gFree != nullptr) {
    lock(&sched_.gFreeLock);  // sched.gFree.lock (proc.go 3566)
    while (_p_->gFreeN < 32 && sched_.gFree != nullptr) {
      G* g = sched_.gFree;
      sched_.gFree = g->schedlink;
      sched_.ngFree--;
      g->schedlink = _p_->gFree;
      _p_->gFree = g;
      _p_->gFreeN++;
    }
    unlock(&sched_.gFreeLock);
  }
  G* gp = _p_->gFree;
  if (gp == nullptr) return nullptr;
  _p_->gFree = gp->schedlink;
  _p_->gFreeN--;
  gp->schedlink = nullptr;
  return gp;
}

// Tell all goroutines that they have been preempted and they should stop.
// This function is purely best-effort. It can fail to inform a goroutine if
// a processor just started running it. No locks need to be held. Returns
// true if preemption request was issued to at least one goroutine.
void Runtime::preemptall() {
  for (P* _p_ : allp_) {
    if (_p_->status.load() != _Prunning) continue;
    preemptone(_p_);
  }
}

// Tell the goroutine running on processor P to stop. This function is purely
// best-effort. It can incorrectly fail to inform the goroutine. It can
// inform the wrong goroutine. Even if it informs the correct goroutine, that
// goroutine might ignore the request if it is simultaneously executing
// newstack. No lock needs to be held. Returns true if preemption request
// was issued.
bool Runtime::preemptone(P* _p_) {
  M* mp = _p_->m;
  if (mp == nullptr || mp == getm()) return false;
  G* gp = mp->curg;
  if (gp == nullptr || gp == mp->g0) return false;
  SyncPoint(Site::preempt_flag);
  gp->preempt = true;
  // Two separate stores in Go (proc.go 4676, 4682): the target may reach a
  // prologue, be preempted or be rescheduled in between.
  gp->preemptoneMid.store(true, std::memory_order_relaxed);  // [counter]
  SyncPoint(Site::preempt_guard);
  gp->preemptoneMid.store(false, std::memory_order_relaxed);
  // Every call in a goroutine checks for stack overflow by comparing the
  // current stack pointer to gp->stackguard0. Setting gp->stackguard0 to
  // StackPreempt folds preemption into the normal stack overflow check.
  gp->stackguardPreempt = true;
  // Request an async preemption of this P. (The signal is modelled by
  // PreemptPoint at user steps honouring gp.preempt.)
  _p_->preempt = true;
  // (Go's preemptone never reads gp.goid: gp belongs to another M and may be
  // recycled at any moment. The event names the P.)
  event(Ev::preempt_requested, _p_->id);
  return true;
}

// forEachP calls fn(p) for every P p when p reaches a GC safe point. If a P
// is currently executing code, this will bring the P to a GC safe point and
// execute fn on that P. If the P is not executing code (it is idle or in a
// syscall), this will call fn(p) directly while preventing the P from
// exiting its state. This does not ensure that fn will run on every CPU
// executing Go code, but it acts as a global memory barrier. GC uses this as
// a "ragged barrier." The caller must hold worldsema. (proc.go 1233-1312;
// go:systemstack.)
void Runtime::forEachP(void (*fn)(Runtime*, P*)) {
  M* mp = acquirem();
  P* _p_ = getm()->p;

  lock(&sched_.lock);
  if (sched_.safePointWait != 0) throw_("forEachP: sched.safePointWait != 0");
  sched_.safePointWait = gomaxprocs_ - 1;
  sched_.safePointFn = fn;

  // Ask all Ps to run the safe point function.
  for (P* p : allp_) {
    if (p != _p_) p->runSafePointFn.store(1);
  }
  preemptall();
  event(Ev::foreachp, sched_.safePointWait);

  // Any P entering _Pidle or _Psyscall from now on will observe
  // p.runSafePointFn == 1 and will call runSafePointFn when changing its
  // status to _Pidle/_Psyscall.

  // Run safe point function for all idle Ps. sched.pidle will not change
  // because we hold sched.lock.
  for (P* p = sched_.pidle; p != nullptr; p = p->link) {
    uint32_t one = 1;
    if (p->runSafePointFn.compare_exchange_strong(one, 0)) {
      fn(this, p);
      sched_.safePointWait--;
      event(Ev::safepoint_fn, p->id, 0, sched_.safePointWait);
    }
  }

  bool wait = sched_.safePointWait > 0;
  unlock(&sched_.lock);

  // Run fn for the current P.
  fn(this, _p_);
  event(Ev::safepoint_fn, _p_->id, 1, -1);  // (safePointWait is read only under sched.lock)

  // Force Ps currently in _Psyscall into _Pidle and hand them off to induce
  // safe point function execution.
  for (P* p : allp_) {
    uint32_t s = p->status.load();
    SyncPoint(Site::safepoint_syscall_cas);
    if (s == _Psyscall && p->runSafePointFn.load() == 1 && p->status.compare_exchange_strong(s, _Pidle)) {
      p->syscalltick++;
      handoffp(p);
    }
  }

  // Wait for remaining Ps to run fn.
  if (wait) {
    for (;;) {
      // Wait for 100us, then try to re-preempt in case of any races.
      if (notetsleep(&sched_.safePointNote, 100 * 1000)) {
        noteclear(&sched_.safePointNote);
        break;
      }
      preemptall();
    }
  }
  if (sched_.safePointWait != 0) throw_("forEachP: not done");
  for (P* p : allp_) {
    if (p->runSafePointFn.load() != 0) throw_("forEachP: P did not run fn");
  }

  lock(&sched_.lock);
  sched_.safePointFn = nullptr;
  unlock(&sched_.lock);
  event(Ev::foreachp_done);
  releasem(mp);
}

// runSafePointFn runs the safe point function, if any, for this P. It must
// be checked on any transition in to _Pidle or _Psyscall to avoid a race
// where forEachP sees that the P is running just before the P goes into
// _Pidle/_Psyscall and neither forEachP nor the P run the safe-point
// function. (proc.go 1314-1341.)
void Runtime::runSafePointFn(int via) {
  P* p = getm()->p;
  // Resolve the race between forEachP running the safe-point function on
  // this P's behalf and this P running the safe-point function directly.
  SyncPoint(Site::safepoint_fn_cas);
  uint32_t one = 1;
  if (!p->runSafePointFn.compare_exchange_strong(one, 0)) return;
  sched_.safePointFn(this, p);
  lock(&sched_.lock);
  sched_.safePointWait--;
  event(Ev::safepoint_fn, p->id, via, sched_.safePointWait);
  if (sched_.safePointWait == 0) notewakeup(&sched_.safePointNote);
  unlock(&sched_.lock);
}

// PreemptPoint: the prologue's stack check plus newstack's preemption logic
// (spec §4.2, §4.3, §4.6). Nothing running on g0 is preemptible.
void Runtime::PreemptPoint(Site s) {
  M* mp = getm();
  G* gp = mp->curctx;
  if (gp == mp->g0) return;
  if (gp->preemptoneMid.load(std::memory_order_relaxed)) ReachCounters::inc(reach_.preemptoneApart);  // [counter]
  if (plat_.injectPreempt(s)) {
    // A preemption request from outside (sysmon's preemptone or a signal).
    gp->preempt = true;
    gp->stackguardPreempt = true;
  }
  if (siteInfo(s).kind == SiteKind::kUser) {
    // Asynchronous preemption at a user-code instruction: delivered iff the
    // request is pending and isAsyncSafePoint holds, which requires
    // canPreemptM. Runtime code is never an async safe point.
    // GODEBUG=asyncpreemptoff=1 (the #10958 class): no signal is ever sent.
    if (cfg_.has(Bug::asyncpreemptoff)) return;
    if (!gp->preempt || !canPreemptM(mp)) return;
    event(Ev::preempted, static_cast<int>(gp->goid), static_cast<int>(s));
    mcall(&Runtime::gopreempt_m);
    return;
  }
  // Synchronous: the function prologue compares SP with stackguard0.
  if (!gp->stackguardPreempt) return;
  // newstack:
  if (gp->throwsplit) throw_("runtime: stack split at bad time");
  if (!canPreemptM(mp)) {
    // Let the goroutine keep running for now. gp->preempt is set, so it
    // will be preempted next time (releasem/unlock re-arm the guard).
    gp->stackguardPreempt = false;
    event(Ev::preempt_ignored, mp->locks, static_cast<int>(gp->goid));
    return;
  }
  if (mp->p == nullptr && mp->locks == 0) throw_("runtime: g is running but p is not");
  // Act like goroutine called runtime.Gosched.
  event(Ev::preempted, static_cast<int>(gp->goid), static_cast<int>(s));
  mcall(&Runtime::gopreempt_m);
}

// ---------------------------------------------------------------------------
// Locking goroutines to threads.

// dolockOSThread is called by LockOSThread and lockOSThread below after they
// modify m.locked. Do not allow preemption during this call, or else the m
// might be different in this function than in the caller. (nosplit)
void Runtime::dolockOSThread() {
  M* m = getm();
  G* gp = getg();
  m->lockedg = gp;
  gp->lockedm = m;
}

// LockOSThread wires the calling goroutine to its current operating system
// thread. (nosplit; its callee startTemplateThread is not.)
void Runtime::LockOSThread() {
  SyncPoint(Site::template_load);
  if (newmHandoff_.haveTemplateThread.load() == 0) {
    // If we need to start a new thread from the locked thread, we need the
    // template thread. Start it now while we're in a known-good state.
    startTemplateThread();
  }
  M* _g_m = getm();  // re-read: startTemplateThread may have moved this g (pre-fix)
  G* gp = getg();
  if (cfg_.has(Bug::issue20458)) {
    _g_m->lockedExt = 1;  // pre-Go 1.10: a single bit
  } else {
    _g_m->lockedExt++;
    if (_g_m->lockedExt == 0) {
      _g_m->lockedExt--;
      throw_("LockOSThread nesting overflow");
    }
  }
  dolockOSThread();
  _g_m->tainted = true;
  _g_m->taintedBy = gp;
  if (gp->lockedShadow++ == 0) gp->lockedShadowM = _g_m;
  event(Ev::lockosthread, static_cast<int>(gp->goid), static_cast<int>(_g_m->lockedExt));
}

// dounlockOSThread is called by UnlockOSThread and unlockOSThread below
// after they update m->locked. (nosplit)
void Runtime::dounlockOSThread() {
  M* _g_m = getm();
  if (_g_m->lockedInt != 0 || _g_m->lockedExt != 0) return;
  getg()->lockedm = nullptr;
  _g_m->lockedg = nullptr;
}

// UnlockOSThread undoes an earlier call to LockOSThread. (nosplit)
void Runtime::UnlockOSThread() {
  M* _g_m = getm();
  G* gp = getg();
  if (_g_m->lockedExt == 0) return;
  _g_m->lockedExt--;
  if (_g_m->lockedExt == 0) {
    // The user unlocked cleanly: by contract the thread is in a good state.
    _g_m->tainted = false;
    _g_m->taintedBy = nullptr;
  }
  dounlockOSThread();
  if (gp->lockedShadow > 0 && --gp->lockedShadow == 0) gp->lockedShadowM = nullptr;
  event(Ev::unlockosthread, static_cast<int>(gp->goid), static_cast<int>(_g_m->lockedExt));
}

void Runtime::lockOSThread() {
  getm()->lockedInt++;
  dolockOSThread();
}

void Runtime::unlockOSThread() {
  M* _g_m = getm();
  if (_g_m->lockedInt == 0) throw_("runtime: internal error: misuse of lockOSThread/unlockOSThread");
  _g_m->lockedInt--;
  dounlockOSThread();
}

// ---------------------------------------------------------------------------
// Public API.

void Runtime::Go(std::function<void()> fn) {
  systemstack([&] { newproc1(std::move(fn)); });
}

// Gosched yields the processor, allowing other goroutines to run. (nosplit)
void Runtime::Gosched() { mcall(&Runtime::gosched_m); }

// Goexit terminates the goroutine that calls it (goexit1).
void Runtime::Goexit() {
  PreemptPoint(Site::Goexit_prologue);   // panic.go 581
  PreemptPoint(Site::goexit1_prologue);  // Goexit ends in goexit1 (panic.go 655; proc.go 2781)
  mcallFinal(&Runtime::goexit0);
}

// A step of user code runs in parallel with every other M: it is a
// scheduling point (so a goroutine spinning in user code cannot monopolise
// the executor) and an async preemption point.
void Runtime::UserStep() {
  SyncPoint(Site::user_step);
  PreemptPoint(Site::user_step);
}
void Runtime::UserCall() { PreemptPoint(Site::user_call); }
int64_t Runtime::goid() { return getg()->goid; }
uint32_t Runtime::preemptions() { return getg()->preemptions; }
int64_t Runtime::mid() { return getm()->id; }

void Runtime::wgAdd(WaitGroup& wg, int delta) {
  lock(&wg.lock);
  wg.count += delta;
  if (wg.count < 0) throw_("sync: negative WaitGroup counter");
  G* w = nullptr;
  if (wg.count == 0 && wg.waiter != nullptr) {
    w = wg.waiter;
    wg.waiter = nullptr;
  }
  unlock(&wg.lock);
  if (w != nullptr) goready(w);
}

void Runtime::wgWait(WaitGroup& wg) {
  lock(&wg.lock);
  if (wg.count == 0) {
    unlock(&wg.lock);
    return;
  }
  if (wg.waiter != nullptr) throw_("sync: WaitGroup has two waiters (gort's WaitGroup allows one)");
  wg.waiter = getg();
  goparkunlock(&wg.lock, "wait group");
}

// ---------------------------------------------------------------------------
// Dumps (schedtrace(detailed) style).

std::string Runtime::dump() const {
  std::string out;
  char buf[512];
  snprintf(buf, sizeof buf,
           "SCHED gomaxprocs=%d idleprocs=%d threads=%lld nmidle=%d nmidlelocked=%d nmsys=%d "
           "nmspinning=%d runqueue=%d gcwaiting=%u stopwait=%d\n",
           static_cast<int>(gomaxprocs_), sched_.npidle.load(), static_cast<long long>(sched_.mnext - sched_.nmfreed),
           sched_.nmidle, sched_.nmidlelocked, sched_.nmsys, sched_.nmspinning.load(), static_cast<int>(sched_.runqsize),
           sched_.gcwaiting.load(), static_cast<int>(sched_.stopwait));
  out += buf;
  for (P* pp : allPs_) {
    M* pm = pp->m;
    snprintf(buf, sizeof buf, "  P%d: status=%s m=%lld runqsize=%u runnext=%s holder=%lld\n", pp->id,
             pstatusName(pp->status.load()), pm ? static_cast<long long>(pm->id) : -1LL,
             pp->runqtail.load() - pp->runqhead.load(), pp->runnext.load() ? "yes" : "no",
             pp->holder ? static_cast<long long>(pp->holder->id) : -1LL);
    out += buf;
  }
  for (M* mp : allms_) {
    P* mpp = mp->p;
    G* cg = mp->curg;
    snprintf(buf, sizeof buf,
             "  M%lld: p=%d nextp=%d curg=%lld locks=%d preemptoff=%s spinning=%d blocked=%d lockedg=%lld "
             "lockedExt=%u lockedInt=%u thread=%s%s%s\n",
             static_cast<long long>(mp->id), mpp ? mpp->id : -1, mp->nextp ? mp->nextp->id : -1,
             cg ? static_cast<long long>(cg->goid) : -1LL, mp->locks, mp->preemptoff[0] ? mp->preemptoff : "\"\"",
             mp->spinning ? 1 : 0, mp->blocked ? 1 : 0, mp->lockedg ? static_cast<long long>(mp->lockedg->goid) : -1LL,
             mp->lockedExt, mp->lockedInt, mp->exited ? "exited" : mp->threadStarted ? "started" : "NOT CREATED",
             mp->isTemplate ? " (template thread)" : mp->mstartfn == &Runtime::sysmon ? " (sysmon)" : "", mp == m0_ ? " (m0)" : "");
    out += buf;
  }
  for (G* gp : allgs_) {
    uint32_t st = gp->atomicstatus.load();
    if (st == _Gdead) continue;
    snprintf(buf, sizeof buf, "  G%lld: status=%s%s%s m=%lld lockedm=%lld preempt=%d\n",
             static_cast<long long>(gp->goid), gstatusName(st), gp->waitreason[0] ? " wait=" : "", gp->waitreason,
             gp->m ? static_cast<long long>(gp->m->id) : -1LL, gp->lockedm ? static_cast<long long>(gp->lockedm->id) : -1LL,
             gp->preempt ? 1 : 0);
    out += buf;
  }
  std::string queued;
  for (M* q = newmHandoff_.newm; q; q = q->schedlink) queued += " M" + std::to_string(q->id);
  M* tm = newmHandoff_.templateM;
  snprintf(buf, sizeof buf, "  newmHandoff: haveTemplateThread=%u newm=[%s ] waiting=%d template=%s\n",
           newmHandoff_.haveTemplateThread.load(), queued.c_str(), newmHandoff_.waiting ? 1 : 0,
           tm == nullptr ? "none" : tm->threadStarted ? "running" : "allocated, NOT CREATED");
  out += buf;
  return out;
}

std::string Runtime::describeAddr(const void* addr) const {
  if (addr == &sched_.lock.key) return "sched.lock";
  if (addr == &sched_.stopnote.key) return "sched.stopnote";
  if (addr == &sched_.sysmonnote.key) return "sched.sysmonnote";
  if (addr == &newmHandoff_.lock.key) return "newmHandoff.lock";
  if (addr == &newmHandoff_.wake.key) return "newmHandoff.wake";
  if (addr == &worldsemaLock_.key) return "worldsema.lock";
  if (addr == &allglock_.key) return "allglock";
  if (addr == &allpLock_.key) return "allpLock";
  for (M* mp : allms_) {
    if (addr == &mp->park.key) return "m" + std::to_string(mp->id) + ".park";
    if (addr == &mp->sleepword) return "m" + std::to_string(mp->id) + ".usleep";
  }
  return "";
}

}  // namespace gort
