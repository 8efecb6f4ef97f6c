// fuzz/signature.cpp — signatures and the abort chain that spells them (see signature.h).
#include "fuzz/signature.h"

#include <cstdlib>
#include <cstring>

#include "fuzz/cause.h"

// Never inlined, never merged, never a tail call: each frame must survive
// into the crash stack. noinline keeps the call; the distinct store in every
// leaf keeps identical-code folding from merging leaves; the empty asm after
// each call keeps it from becoming a jump (sibling-call optimisation).
#define SCHEDFUZZ_FRAME extern "C" __attribute__((noinline, used))
#define SCHEDFUZZ_BARRIER() asm volatile("" ::: "memory")

// The leaf raises SIGABRT itself, with the tgkill system call inline, so the
// signal's pc is in the leaf: a sanitizer's stack and its DEDUP_TOKEN then
// start at SCHEDFUZZ_<class>__<culprit>, not at libc's raise/abort (which
// ClusterFuzz drops, but libFuzzer's DEDUP_TOKEN would keep). Elsewhere, or
// if the signal returns (blocked, ignored), abort() follows.
#if defined(__x86_64__) && defined(__linux__)
#define SCHEDFUZZ_SELF_ABRT()                                                                  \
  do {                                                                                         \
    long pid_, tid_, r_;                                                                       \
    asm volatile("syscall" : "=a"(pid_) : "0"(39L) : "rcx", "r11", "memory");  /* getpid */   \
    asm volatile("syscall" : "=a"(tid_) : "0"(186L) : "rcx", "r11", "memory"); /* gettid */   \
    asm volatile("syscall" : "=a"(r_) : "0"(234L), "D"(pid_), "S"(tid_), "d"(6L)               \
                 : "rcx", "r11", "memory"); /* tgkill(pid, tid, SIGABRT) */                    \
    (void)r_;                                                                                  \
  } while (0)
#else
#define SCHEDFUZZ_SELF_ABRT() SCHEDFUZZ_BARRIER()
#endif

// The signatures the explainers of fuzz/cause.cpp produce: class function,
// leaf function (SCHEDFUZZ_ + the signature with '/' -> "__", '-' -> '_'),
// signature. tests/cause_test.cpp checks the names against the signatures.
#define SCHEDFUZZ_SIGNATURES(X)                                                                    \
  X(stall, stall__P_in_transit, "stall/P-in-transit")                                              \
  X(stall, stall__stopTheWorld__P_in_syscall, "stall/stopTheWorld/P-in-syscall")                   \
  X(stall, stall__stopTheWorld__P_owner_blocked, "stall/stopTheWorld/P-owner-blocked")             \
  X(stall, stall__stopTheWorld__preempt_request_ignored, "stall/stopTheWorld/preempt-request-ignored") \
  X(stall, stall__stopTheWorld__P_idle_not_collected, "stall/stopTheWorld/P-idle-not-collected")   \
  X(stall, stall__stopTheWorld__P_held_in_transit, "stall/stopTheWorld/P-held-in-transit")         \
  X(stall, stall__stopTheWorld__P_handed_to_parked_M, "stall/stopTheWorld/P-handed-to-parked-M")   \
  X(stall, stall__stopTheWorld__P_reserved, "stall/stopTheWorld/P-reserved")                       \
  X(stall, stall__stopTheWorld__P_orphaned, "stall/stopTheWorld/P-orphaned")                       \
  X(stall, stall__stopTheWorld_unfinished, "stall/stopTheWorld-unfinished")                        \
  X(stall, stall__timed_waiters_only, "stall/timed-waiters-only")                                  \
  X(stall, stall__execLock__reader_descheduled, "stall/execLock/reader-descheduled")               \
  X(deadlock, deadlock__execLock__reader_descheduled, "deadlock/execLock/reader-descheduled")      \
  X(livelock, livelock__preempt_request_ignored, "livelock/preempt-request-ignored")               \
  X(livelock, livelock__unpreempted_G, "livelock/unpreempted-G")                                   \
  X(livelock, livelock__scheduler_spin, "livelock/scheduler-spin")                                 \
  X(budget, budget__preempt_request_ignored, "budget/preempt-request-ignored")                     \
  X(budget, budget__unpreempted_G, "budget/unpreempted-G")                                         \
  X(budget, budget__scheduler_spin, "budget/scheduler-spin")                                       \
  X(deadlock, deadlock__all_threads_exited, "deadlock/all-threads-exited")                         \
  X(deadlock, deadlock__blocked_on_mutex, "deadlock/blocked-on-mutex")                             \
  X(deadlock, deadlock__blocked_in_syscall, "deadlock/blocked-in-syscall")                         \
  X(deadlock, deadlock__all_Ms_parked, "deadlock/all-Ms-parked")                                   \
  X(throw, throw__checkdead_runnable_g__P_in_transit_on_system_M,                                  \
    "throw/checkdead-runnable-g/P-in-transit-on-system-M")                                         \
  X(throw, throw__checkdead_runnable_g__P_borrowed_for_uncounted_newm,                             \
    "throw/checkdead-runnable-g/P-borrowed-for-uncounted-newm")                                    \
  X(throw, throw__checkdead_runnable_g, "throw/checkdead-runnable-g")                              \
  X(invariant, invariant__P_accounting, "invariant/P-accounting")                                  \
  X(invariant, invariant__lockedg_lockedm, "invariant/lockedg-lockedm")                            \
  X(invariant, invariant__stopwait, "invariant/stopwait")                                          \
  X(oracle, oracle__clone_from_locked_thread__lockedExt_cleared,                                   \
    "oracle/clone-from-locked-thread/lockedExt-cleared")                                           \
  X(oracle, oracle__clone_from_locked_thread__lockedExt_ignored,                                   \
    "oracle/clone-from-locked-thread/lockedExt-ignored")                                           \
  X(oracle, oracle__clone_from_locked_thread, "oracle/clone-from-locked-thread")                   \
  X(oracle, oracle__locked_thread_reused, "oracle/locked-thread-reused")                           \
  X(oracle, oracle__LockOSThread_nesting, "oracle/LockOSThread-nesting")                           \
  X(precursor, precursor__template_thread, "precursor/template-thread")                            \
  X(precursor, precursor__P_in_transit, "precursor/P-in-transit")                                  \
  X(delay, delay__work_conservation, "delay/work-conservation")                                    \
  X(delay, delay__stopTheWorld_latency, "delay/stopTheWorld-latency")

#define SCHEDFUZZ_CLASSES(X) X(deadlock) X(stall) X(livelock) X(budget) X(throw) X(invariant) X(oracle) X(precursor) X(delay)

// What the chain leaves behind for a debugger or a core file.
extern "C" {
__attribute__((used)) const char* volatile SCHEDFUZZ_signature = nullptr;
}

using Leaf = void (*)();

// Leaves: one per known signature, one "unclassified" per class.
#define LEAF(cls, ident, sig)                     \
  SCHEDFUZZ_FRAME void SCHEDFUZZ_##ident() {      \
    SCHEDFUZZ_signature = sig;                    \
    SCHEDFUZZ_SELF_ABRT();                        \
    abort();                                      \
  }
SCHEDFUZZ_SIGNATURES(LEAF)
#undef LEAF
#define UNCLASSIFIED(cls)                                       \
  SCHEDFUZZ_FRAME void SCHEDFUZZ_##cls##_unclassified() {       \
    SCHEDFUZZ_signature = #cls "/(unclassified)";               \
    SCHEDFUZZ_SELF_ABRT();                                      \
    abort();                                                    \
  }
SCHEDFUZZ_CLASSES(UNCLASSIFIED)
#undef UNCLASSIFIED
SCHEDFUZZ_FRAME void SCHEDFUZZ_unclassified() {
  SCHEDFUZZ_signature = "(unclassified)";
  SCHEDFUZZ_SELF_ABRT();
  abort();
}

// Classes: the frame under the leaf.
#define CLASSFN(cls)                                  \
  SCHEDFUZZ_FRAME void SCHEDFUZZ_##cls(Leaf leaf) {   \
    static volatile int calls;                        \
    calls = calls + 1;                                \
    leaf();                                           \
    SCHEDFUZZ_BARRIER();                              \
  }
SCHEDFUZZ_CLASSES(CLASSFN)
#undef CLASSFN

namespace schedfuzz {

namespace {

struct Entry {
  const char* cls;
  const char* frame;
  const char* sig;
  void (*classFn)(Leaf);
  Leaf leaf;
};

const Entry kTable[] = {
#define ENTRY(cls, ident, sig) {#cls, "SCHEDFUZZ_" #ident, sig, &SCHEDFUZZ_##cls, &SCHEDFUZZ_##ident},
    SCHEDFUZZ_SIGNATURES(ENTRY)
#undef ENTRY
};

struct ClassEntry {
  const char* cls;
  void (*classFn)(Leaf);
  Leaf unclassified;
};
const ClassEntry kClasses[] = {
#define CENTRY(cls) {#cls, &SCHEDFUZZ_##cls, &SCHEDFUZZ_##cls##_unclassified},
    SCHEDFUZZ_CLASSES(CENTRY)
#undef CENTRY
};

const Entry* find(const std::string& sig) {
  for (const Entry& e : kTable)
    if (sig == e.sig) return &e;
  return nullptr;
}
const ClassEntry* findClass(const std::string& sig) {
  const std::string cls = sig.substr(0, sig.find('/'));
  for (const ClassEntry& c : kClasses)
    if (cls == c.cls) return &c;
  return nullptr;
}

}  // namespace

std::string signatureOf(const Cause& c) {
  if (c.cls.empty()) return "";
  return c.cls + "/" + (c.culprit.empty() ? std::string("unclassified") : c.culprit);
}

bool knownSignature(const std::string& signature) { return find(signature) != nullptr; }

std::vector<std::pair<std::string, std::string>> knownSignatures() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : kTable) out.emplace_back(e.sig, e.frame);
  return out;
}

std::string signatureFrame(const std::string& signature) {
  if (const Entry* e = find(signature)) return e->frame;
  if (const ClassEntry* c = findClass(signature)) return std::string("SCHEDFUZZ_") + c->cls + "_unclassified";
  return "SCHEDFUZZ_unclassified";
}

}  // namespace schedfuzz

// The root of the chain: the frame every finding shares, under the class.
SCHEDFUZZ_FRAME void SCHEDFUZZ_finding(const char* signature) {
  const std::string sig = signature;
  if (const schedfuzz::Entry* e = schedfuzz::find(sig)) {
    e->classFn(e->leaf);
  } else if (const schedfuzz::ClassEntry* c = schedfuzz::findClass(sig)) {
    c->classFn(c->unclassified);
  } else {
    SCHEDFUZZ_unclassified();
  }
  SCHEDFUZZ_BARRIER();
  abort();  // not reached: every leaf aborts
}

namespace schedfuzz {
void abortWithSignature(const std::string& signature) {
  SCHEDFUZZ_finding(signature.c_str());
  abort();
}
}  // namespace schedfuzz
