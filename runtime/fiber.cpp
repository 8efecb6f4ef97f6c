// runtime/fiber.cpp — Fiber: an x86-64 asm switch (or ucontext) with the ASan and TSan fiber annotations.
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
//
// The model. A fiber is an Impl: a saved context, a stack, an entry function,
// and the sanitizer state that must follow the stack around. Exactly one
// function pair switches stacks (Switch / SwitchFinal) and it carries every
// annotation, in this order, in one frame:
//
//   1. bookkeeping: from leaves the running state, to enters it, and
//      to->came_from = from (the arriving side needs to know whom it
//      replaced; see step 4);
//   2. __sanitizer_start_switch_fiber(&from->fake_save, to's stack):
//      parks from's ASan fake stack in from (SwitchFinal too: the fake
//      stack stays with the fiber for its next incarnation; nullptr, which
//      makes ASan free it, only when the stack itself is freed);
//   3. __tsan_switch_to_fiber(to->tsan, flags) immediately followed by
//      the jump (gort_fiber_swap or swapcontext), in the same frame. TSan keeps a shadow call stack per
//      fiber; a wrapper that switched TSan's fiber and then returned before
//      the jump would pop the *new* fiber's shadow stack (pitfall 1);
//   4. on arrival (after the jump returns, or first thing in the entry
//      trampoline) __sanitizer_finish_switch_fiber(self->fake_save, ...)
//      restores this fiber's fake stack and reports the bounds of the stack
//      just left, which are stored on came_from, the *previous* fiber —
//      never on a frame-local (pitfall 3: that corrupts the thread's stack
//      bounds and LSan then reports bogus leaks at exit).
//
// Two implementations of the jump itself, one interface:
//  * a 20-instruction x86-64 switch (gort_fiber_swap below, in the style of
//    Boost.Context's fcontext and marl's osfiber_asm_x64): saves the
//    callee-saved registers, MXCSR and the x87 control word on the stack
//    being left and loads them from the one being entered. No syscall:
//    ~14 ns per Switch. Used on x86-64 in every build, sanitized or not:
//    the annotations above are all ASan and TSan need (neither has to see
//    a swapcontext). It does not carry a per-fiber signal mask as ucontext
//    does; gort never changes the mask on a fiber (newosproc sets it for
//    the whole thread before any fiber).
//  * glibc ucontext (getcontext/makecontext/swapcontext), wherever
//    GORT_FIBER_UCONTEXT=1 is defined or the CPU is not x86-64.
//    swapcontext makes an rt_sigprocmask syscall per switch: ~300 ns here.
//
// Why each odd decision:
//  * Nothing a recycled fiber needs is mapped, unmapped, scrubbed or
//    faulted in again per fuzz execution (issue 12: under ASan that was
//    most of an execution; bench/REPORT.md section 6). Stacks come from
//    mmap, with a PROT_NONE guard page so an overflow faults instead of
//    corrupting, and go back to the pool with their Impl.
//  * LeakSanitizer and stacks. LSan scans heap chunks and registered root
//    regions. A live fiber's stack is a root region (pointers held only by
//    a suspended fiber's locals are not leaks); a pooled one is not, so the
//    dead frames of earlier runs cannot hide a leak (test
//    FiberPool.LeakSanitizerSeesLeaksOfRecycledFibers). Before, stacks
//    were heap chunks scrubbed with MADV_DONTNEED at every retire: a
//    syscall, a TLB flush and the page faults of the next run.
//  * ASan shadow of a recycled stack: only [sp saved at the last departure,
//    top) can still be poisoned (Impl::cleanShadow says why), so only that
//    is unpoisoned when the fiber is retired, not the whole stack.
//  * ASan fake stacks (detect_stack_use_after_return, which OSS-Fuzz sets).
//    ASan maps one per fiber on its first instrumented frame, ~11 size
//    classes of the stack's size, and unmaps it when a fiber leaves with
//    start_switch_fiber(nullptr). So the fake stack is parked with its fiber
//    even by SwitchFinal, survives Reset and the pool, and the frames that
//    earlier incarnations abandoned are collected by ASan's own collector,
//    every kFakeCollectEvery incarnations (Impl::start). Only when the
//    stack is freed (the pool is full) does retireFakeStack() let ASan free
//    the fake stack: it re-arms the fiber with a tiny entry that adopts its
//    fake stack and leaves with start_switch_fiber(nullptr); ASan has no
//    call to free a parked fake stack. Nothing leaks from one fuzz input to
//    the next, and the number of fake stacks is bounded by the pool.
//  * With ucontext, makecontext reads uc_stack once; we then zero it.
//    ASan's swapcontext interceptor would unpoison the whole uc_stack of the
//    target context on every switch, erasing the redzones of every
//    suspended frame, and print "ASan doesn't fully support
//    makecontext/swapcontext ..." on stderr of every process (which broke
//    tools whose tests expect a clean stderr), so under ASan we call glibc's
//    swapcontext directly, found with dlsym in libc.so.6.
//  * Under TSan each incarnation of a fiber (Create, every Reset) gets a
//    fresh TSan fiber: a fiber that ended in SwitchFinal left its shadow
//    call stack unbalanced, and reusing it would overflow it after enough
//    recycles. __tsan_create_fiber also orders everything its creator did
//    before the new fiber's first step, which covers entry/arg. (The cost:
//    TSan maps a 512 KiB shadow call stack for each TSan fiber, so every
//    incarnation under TSan makes an mmap, a madvise and a munmap.)
//  * In no-sync mode (setFiberSwitchNoSync) switches are not
//    happens-before edges, yet a fiber created by one fiber may be switched
//    to, renamed, reset or destroyed by another, and a stack recycled
//    through the pool must not "race" with its previous user. So every
//    operation that writes an Impl (Create, Reset, SetName, and Switch /
//    SwitchFinal in no-sync mode, for the fiber leaving) ends with
//    __tsan_release(impl), and every one that reads it (Reset, Destroy,
//    SetName) starts with __tsan_acquire(impl). The edge runs from the
//    fiber's last step before it left to whoever re-arms or frees it, so it
//    could hide a race only between those two (Go hands a dead G to its
//    next user through the lock-protected gFree lists, which order them
//    anyway).
//  * The pool under TSan. Its mutex would be a happens-before edge between
//    any two fibers that create or destroy fibers: under the executor's
//    no-sync mode, between two Ms that each start a goroutine or a thread,
//    which gort itself does not order (Go's stack allocation is per P). So
//    the pool's critical sections are invisible to TSan
//    (TsanInvisibleScope; the mutex still excludes), and the one edge the
//    pool must carry is explicit: Destroy releases the Impl after its last
//    write, Create acquires it when it takes the Impl from the pool (the
//    recycled stack and Impl were last touched by the destroyer).
//  * Switch/SwitchFinal are GORT_NO_SANITIZE_THREAD: their bookkeeping is
//    written by the leaving fiber and read by the arriving one, which in
//    no-sync mode TSan would see as unordered.
//  * A fiber may be suspended on one OS thread and resumed on another (a
//    goroutine migrating between Ms). Nothing on the switch path reads
//    thread-local state: a compiler may keep a TLS address in a register
//    across the swapcontext call, which would then point at the old
//    thread's block. The only thread-local (the thread's own fiber) is
//    reached through a noinline function that launders the address through
//    an empty asm (noinline alone is not enough: gcc's IPA marks a getter
//    of a TLS address `const`, and LLVM 14's IPSCCP propagates the TLS
//    address, computed once, into the caller).
#include "runtime/fiber.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "runtime/sanitizers.h"

#if defined(__x86_64__) && !(defined(GORT_FIBER_UCONTEXT) && GORT_FIBER_UCONTEXT)
#define GORT_FIBER_ASM 1
#else
#define GORT_FIBER_ASM 0
#endif

#if GORT_ASAN_ENABLED
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
// ASan's fake-stack allocator, as called by every instrumented prologue when
// detect_stack_use_after_return is on. Exported by the ASan runtimes of
// clang and gcc (compiler ABI, not in the public headers); used only by
// Impl::collectStaleFakeFrames.
extern "C" {
uintptr_t __asan_stack_malloc_0(uintptr_t size);
void __asan_stack_free_0(uintptr_t ptr, uintptr_t size);
}
#endif
#if GORT_TSAN_ENABLED
#include <sanitizer/tsan_interface.h>
#endif

#if GORT_FIBER_ASM
// void gort_fiber_swap(void** save_sp, void* load_sp)
//   Pushes the callee-saved state of the caller, stores its stack pointer in
//   *save_sp, switches to load_sp and pops the state saved there, returning
//   into whoever swapped away from that stack (or into gort_fiber_start).
// Frame, from the saved sp upward: [mxcsr:4 | x87 cw:2 | pad:2] r15 r14 r13
// r12 rbx rbp, return address.
//
// gort_fiber_start: where a fresh stack "returns" to (Impl::arm builds the
// frame): r12 = the Impl, r13 = the function to call with it. That function
// never returns; ud2 if it does.
extern "C" {
void gort_fiber_swap(void** save_sp, void* load_sp);
void gort_fiber_start();
}
// The CFA annotations stay right across the stack change: both stacks hold
// the same frame layout at the same offsets from rsp, so an unwinder
// stopped inside the switch walks into one stack or the other, consistently.
asm(R"(
  .pushsection .text
  .p2align 4
  .globl gort_fiber_swap
  .hidden gort_fiber_swap
  .type gort_fiber_swap,@function
gort_fiber_swap:
  .cfi_startproc
  pushq %rbp
  .cfi_adjust_cfa_offset 8
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  pushq %r12
  .cfi_adjust_cfa_offset 8
  pushq %r13
  .cfi_adjust_cfa_offset 8
  pushq %r14
  .cfi_adjust_cfa_offset 8
  pushq %r15
  .cfi_adjust_cfa_offset 8
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  popq %r15
  .cfi_adjust_cfa_offset -8
  popq %r14
  .cfi_adjust_cfa_offset -8
  popq %r13
  .cfi_adjust_cfa_offset -8
  popq %r12
  .cfi_adjust_cfa_offset -8
  popq %rbx
  .cfi_adjust_cfa_offset -8
  popq %rbp
  .cfi_adjust_cfa_offset -8
  ret
  .cfi_endproc
  .size gort_fiber_swap,.-gort_fiber_swap

  .p2align 4
  .globl gort_fiber_start
  .hidden gort_fiber_start
  .type gort_fiber_start,@function
gort_fiber_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  call *%r13
  ud2
  .cfi_endproc
  .size gort_fiber_start,.-gort_fiber_start
  .popsection
)");
#endif

namespace gort {

namespace {

#if GORT_ASAN_ENABLED
// ASan sizes a fiber's fake stack (detect_stack_use_after_return) from its
// stack: 11 size classes of stack_size bytes each, clamped to 64 KiB..1 MiB
// per class, and its collector scans one flag byte per fake frame. With
// 1 MiB stacks that was 11 MiB of fake stack per fiber, faulted in as ASan's
// round-robin frame allocator walked through it, and a 32 K-flag scan per
// collection (bench/REPORT.md, section 6). The deepest fiber stack seen in
// 3,000 fuzz executions of each target under ASan was 12 KiB (without
// use-after-return; with it, frames move to the fake stack); 256 KiB is
// what plain builds use.
constexpr size_t kDefaultStackSize = size_t{256} << 10;
#elif GORT_ANY_SANITIZER
constexpr size_t kDefaultStackSize = size_t{1} << 20;  // TSan: bigger frames, cheap untouched pages
#else
constexpr size_t kDefaultStackSize = size_t{256} << 10;
#endif
constexpr size_t kMinStackSize = size_t{16} << 10;
// At most this many idle fibers (each with its stack) are kept for reuse.
constexpr size_t kPoolMax = 256;
#if GORT_ASAN_ENABLED
// A recycled fiber's fake stack is collected every this many incarnations
// (see Impl::start). A collection scans one flag byte per fake frame (8 K
// for a 256 KiB stack) and costs a sigaltstack call inside
// __asan_handle_no_return: done every incarnation, that was ~5% of an ASan
// fuzz execution. In between, abandoned frames stay allocated (one per call
// that was live when the fiber was left for the last time), so a size class
// with at least 2 x kFakeCollectEvery frames, of which live calls hold at
// most one at a time, never fills (at a 256 KiB stack: every class of up to
// 16 KiB frames).
constexpr uint8_t kFakeCollectEvery = 8;
#endif

#if GORT_TSAN_ENABLED
std::atomic<bool> g_tsan_no_sync{false};
#endif

#if !GORT_FIBER_ASM
using SwapFn = int (*)(ucontext_t*, const ucontext_t*);
// Set once, by the first arm() (every switch into a fiber follows one).
SwapFn g_swapcontext = &::swapcontext;

void resolveSwapcontext() {
#if GORT_ASAN_ENABLED
  static const bool once = [] {
    // libc's own definition, not the first one in symbol search order (the
    // sanitizer's interceptor): see the file comment.
    if (void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD)) {
      if (void* real = dlsym(libc, "swapcontext")) g_swapcontext = reinterpret_cast<SwapFn>(real);
      dlclose(libc);
    }
    return true;
  }();
  (void)once;
#endif
}
#endif

[[noreturn]] __attribute__((format(printf, 1, 2))) void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("gort: fiber: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::abort();
}

size_t pageSize() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

}  // namespace

void setFiberSwitchNoSync(bool on) {
#if GORT_TSAN_ENABLED
  g_tsan_no_sync.store(on, std::memory_order_relaxed);
#else
  (void)on;
#endif
}

bool fiberSwitchNoSync() {
#if GORT_TSAN_ENABLED
  return g_tsan_no_sync.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

struct Fiber::Impl : Fiber {
  enum class State : uint8_t {
    kFresh,      // armed (Create/Reset), never run: the next switch enters entry(arg)
    kRunning,    // executing on some OS thread
    kSuspended,  // left with Switch; resumes where it left
    kFinished,   // left with SwitchFinal; only Reset or Destroy may follow
  };

#if GORT_FIBER_ASM
  void* sp = nullptr;  // saved stack pointer while not running (gort_fiber_swap's frame)
#else
  ucontext_t ctx{};
#endif
  State state = State::kFresh;
  bool is_thread = false;  // stands for an OS thread's own stack (ForThisThread)
  Impl* came_from = nullptr;  // set by the switcher just before jumping here
  Entry entry = nullptr;
  void* arg = nullptr;
  // The stack: [stack, stack + stack_size) usable; [map, map + map_size) allocated.
  char* stack = nullptr;
  size_t stack_size = 0;
  char* map = nullptr;
  size_t map_size = 0;
  Impl* retire_to = nullptr;  // retireFakeStack's way back
  char name[24] = {};
#if GORT_ASAN_ENABLED
  // This fiber's ASan fake stack while it is not running. Kept across
  // incarnations (Reset, the pool) and freed only with the stack.
  void* fake_save = nullptr;
  bool fake_stale = false;   // fake_save holds frames of an earlier incarnation
  uint8_t fake_uncollected = 0;  // incarnations since the fake stack was last collected
  bool fake_keep = true;     // SwitchFinal parks the fake stack (false: frees it)
  bool stack_used = false;   // ran since the stack's shadow was last cleaned
  bool lsan_root = false;    // the stack is a LeakSanitizer root region
  const void* asan_bottom = nullptr;  // stack bounds handed to start_switch_fiber when switching here
  size_t asan_size = 0;
#endif
#if GORT_TSAN_ENABLED
  void* tsan = nullptr;
#endif

  static Impl* of(Fiber* f) { return static_cast<Impl*>(f); }

  const char* label() const { return name[0] ? name : (is_thread ? "thread" : "fiber"); }

  // --- stacks ------------------------------------------------------------
  // mmap with a PROT_NONE guard page below, in every build. Under ASan the
  // stack of a live fiber is registered with LeakSanitizer as a root region
  // (arm) and unregistered when the fiber is destroyed, so a pooled stack,
  // with whatever its dead frames held, is invisible to leak checks.
  void allocStack(size_t size) {
    stack_size = size;
    map_size = size + pageSize();
    void* p = mmap(nullptr, map_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) die("mmap of a %zu-byte stack failed", map_size);
    map = static_cast<char*>(p);
    if (mprotect(map, pageSize(), PROT_NONE) != 0) die("mprotect of a stack guard page failed");
    stack = map + pageSize();
  }

  void freeStack() {
    munmap(map, map_size);
    map = stack = nullptr;
    map_size = stack_size = 0;
  }

  // --- (re)arming ------------------------------------------------------------
  // Make the next switch here run entry(arg) from the top of the stack.
  // Precondition: not running; retired (no TSan fiber attached, shadow clean).
  void arm(Entry e, void* a) {
    entry = e;
    arg = a;
    came_from = nullptr;
#if GORT_FIBER_ASM
    // The frame gort_fiber_swap pops (see the asm). After its `ret` into
    // gort_fiber_start, rsp = top - 16: 16-byte aligned before the call, as
    // the ABI wants.
    const uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + stack_size) & ~uintptr_t{15};
    auto* frame = reinterpret_cast<uint64_t*>(top - 80);
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    frame[0] = mxcsr | (static_cast<uint64_t>(fpucw) << 32);
    frame[1] = 0;                                            // r15
    frame[2] = 0;                                            // r14
    frame[3] = reinterpret_cast<uintptr_t>(&asmTrampoline);  // r13
    frame[4] = reinterpret_cast<uintptr_t>(this);            // r12
    frame[5] = 0;                                            // rbx
    frame[6] = 0;                                            // rbp: ends frame-pointer walks
    frame[7] = reinterpret_cast<uintptr_t>(&gort_fiber_start);
    frame[8] = 0;
    frame[9] = 0;
    sp = frame;
#else
    resolveSwapcontext();
    if (getcontext(&ctx) != 0) die("getcontext failed");
    ctx.uc_stack.ss_sp = stack;
    ctx.uc_stack.ss_size = stack_size;
    ctx.uc_link = nullptr;
    const auto self = reinterpret_cast<uintptr_t>(this);
    makecontext(&ctx, reinterpret_cast<void (*)()>(&trampoline), 2,
                static_cast<unsigned>(self & 0xffffffffu), static_cast<unsigned>(self >> 32));
    // makecontext has consumed uc_stack; hide it from ASan's swapcontext
    // interceptor (see the file comment).
    ctx.uc_stack = stack_t{};
#endif
#if GORT_ASAN_ENABLED
    asan_bottom = stack;
    asan_size = stack_size;
    fake_stale = fake_save != nullptr;  // collected by start()
    if (!lsan_root) {
      __lsan_register_root_region(stack, stack_size);
      lsan_root = true;
    }
#endif
    state = State::kFresh;
#if GORT_TSAN_ENABLED
    // Last: creating the TSan fiber orders every write above before its
    // first step, even when the switch into it is a no-sync one.
    tsan = __tsan_create_fiber(0);
    if (name[0]) __tsan_set_fiber_name(tsan, name);
#endif
  }

  // Drop the sanitizer state of the previous incarnation; the stack and
  // (under ASan) the fake stack stay with the Impl for the next one. Called
  // by Reset and Destroy (after their __tsan_acquire) on a fiber that is
  // not running.
  void retire() {
    GORT_ASAN_ONLY(cleanShadow());
#if GORT_TSAN_ENABLED
    __tsan_destroy_fiber(tsan);
    tsan = nullptr;
#endif
  }

  // Before the stack is unmapped: free the fake stack too.
  void releaseForGood() {
#if GORT_ASAN_ENABLED
    retireFakeStack();
    cleanShadow();
    unregisterRoot();
#endif
  }

#if GORT_ASAN_ENABLED
  // Frames that were live when the fiber last left (abandoned in Switch,
  // or left behind by SwitchFinal) keep their redzones in ASan's shadow;
  // the next user of the stack would trip over them. Every frame deeper
  // than the stack pointer of that last departure has returned, and an
  // instrumented epilogue unpoisons its frame (a throw or longjmp goes
  // through __asan_handle_no_return, which unpoisons the whole stack), so
  // only [saved sp, top) can hold poison: usually a few KiB, not the whole
  // stack (a 1 MiB stack has 128 KiB of shadow).
  void cleanShadow() {
    if (!stack_used) return;
    stack_used = false;
    uintptr_t lo = reinterpret_cast<uintptr_t>(stack);
    const uintptr_t hi = lo + stack_size;
#if GORT_FIBER_ASM
    constexpr uintptr_t kSlack = 256;  // below the saved registers: nothing, but cheap insurance
    const auto s = reinterpret_cast<uintptr_t>(sp);
    if (s >= lo + kSlack && s <= hi) lo = (s - kSlack) & ~uintptr_t{31};
#endif
    __asan_unpoison_memory_region(reinterpret_cast<void*>(lo), hi - lo);
  }

  void unregisterRoot() {
    if (!lsan_root) return;
    __lsan_unregister_root_region(stack, stack_size);
    lsan_root = false;
  }
#endif

  // Free the fake stack parked in fake_save (only when
  // detect_stack_use_after_return is on: OSS-Fuzz sets it). ASan frees a
  // fake stack only when a fiber leaves with start_switch_fiber(nullptr, ...),
  // so the fiber runs once more: the trampoline adopts fake_save as the
  // running fake stack, retireEntry leaves with SwitchFinal, which (with
  // fake_keep off) frees it. Two switches, only when a stack leaves the
  // pool for good.
  void retireFakeStack() {
#if GORT_ASAN_ENABLED
    if (fake_save == nullptr) return;  // never ran, or no use-after-return detection
    // `here` stands for whatever context is calling us; it is heap-allocated
    // because a local whose address escapes would itself live on the fake
    // stack being juggled.
    Impl* here = new Impl;
    here->state = State::kRunning;
    here->is_thread = true;
    retire_to = here;
    void* fs = fake_save;
    fake_save = nullptr;
    arm(&retireEntry, this);  // resets asan bounds, keeps nothing else
    fake_save = fs;
    fake_stale = false;  // about to be freed: no point collecting it
    fake_keep = false;
    Switch(here, this);
    fake_keep = true;
    if (fake_save != nullptr || state != State::kFinished) die("retiring the fake stack of %s failed", label());
    retire_to = nullptr;
    delete here;
#endif
  }

  static void retireEntry(void* arg) {
    Impl* self = static_cast<Impl*>(arg);
    SwitchFinal(self, self->retire_to);
  }

  // First and last code on a fresh fiber's stack. Not instrumented by ASan:
  // these frames must own no fake frame (see start).
  GORT_NO_SANITIZE_ADDRESS static void trampoline(unsigned lo, unsigned hi) {  // via makecontext: ints only
    start(reinterpret_cast<Impl*>((static_cast<uintptr_t>(hi) << 32) | lo));
  }
  GORT_NO_SANITIZE_ADDRESS static void asmTrampoline(Impl* self) { start(self); }  // via gort_fiber_start
  [[noreturn]] GORT_NO_SANITIZE_ADDRESS static void start(Impl* self) {
    arrived(self);
#if GORT_ASAN_ENABLED
    if (self->fake_stale && ++self->fake_uncollected >= kFakeCollectEvery) {
      // The adopted fake stack still holds the frames its earlier
      // incarnations abandoned; they would fill it up, incarnation after
      // incarnation, until ASan ran out of fake frames (then it silently
      // stops detecting use-after-return). ASan's own collector frees every
      // fake frame whose real frame lies below the current one: mark the
      // fake stack for collection (handle_no_return, as a longjmp would)
      // and allocate one frame from right here. Every frame of an earlier
      // incarnation was allocated deeper than this call (all code runs
      // below start), so all of them go; this one is freed at once.
      // Must stay in start's own frame: from a helper, the call would sit
      // as deep as entry's prologue and spare the frames allocated there.
      self->fake_uncollected = 0;
      __asan_handle_no_return();
      const uintptr_t probe = __asan_stack_malloc_0(64);
      if (probe != 0) __asan_stack_free_0(probe, 64);
    }
    self->fake_stale = false;
    self->stack_used = true;
#endif
    self->entry(self->arg);
    die("the entry function of fiber %s returned; a fiber must end with Fiber::SwitchFinal",
        self->label());
  }

  // First thing on arrival at `self`, whether resuming or starting.
  static inline void arrived(Impl* self) {
#if GORT_ASAN_ENABLED
    void* fs = self->fake_save;
    self->fake_save = nullptr;  // owned by ASan's thread state while running
    Impl* prev = self->came_from;
    __sanitizer_finish_switch_fiber(fs, &prev->asan_bottom, &prev->asan_size);
#else
    (void)self;
#endif
  }

  GORT_NO_SANITIZE_THREAD static void checkSwitch(Impl* from, Impl* to, const char* what) {
    if (from == to) die("%s from %s to itself", what, from->label());
    if (from->state != State::kRunning)
      die("%s from %s, which is not running (Switch must be called by the code running on `from`)",
          what, from->label());
    if (to->state != State::kFresh && to->state != State::kSuspended)
      die("%s to %s, which is %s", what, to->label(),
          to->state == State::kRunning ? "already running" : "finished (Reset it first)");
  }
};

// ---------------------------------------------------------------------------
// The switch.

__attribute__((noinline)) GORT_NO_SANITIZE_THREAD void Fiber::Switch(Fiber* fromf, Fiber* tof) {
  Impl* from = Impl::of(fromf);
  Impl* to = Impl::of(tof);
  Impl::checkSwitch(from, to, "Switch");
  from->state = Impl::State::kSuspended;
  to->state = Impl::State::kRunning;
  to->came_from = from;
#if GORT_ASAN_ENABLED
  __sanitizer_start_switch_fiber(&from->fake_save, to->asan_bottom, to->asan_size);
#endif
#if GORT_TSAN_ENABLED
  unsigned flags = 0;
  if (g_tsan_no_sync.load(std::memory_order_relaxed)) {
    flags = __tsan_switch_to_fiber_no_sync;
    __tsan_release(from);
  }
  __tsan_switch_to_fiber(to->tsan, flags);  // same frame as the jump, right before it
#endif
#if GORT_FIBER_ASM
  gort_fiber_swap(&from->sp, to->sp);
#else
  g_swapcontext(&from->ctx, &to->ctx);
#endif
  // Back on `from`, possibly on another OS thread.
  Impl::arrived(from);
}

__attribute__((noinline)) GORT_NO_SANITIZE_THREAD void Fiber::SwitchFinal(Fiber* fromf, Fiber* tof) {
  Impl* from = Impl::of(fromf);
  Impl* to = Impl::of(tof);
  Impl::checkSwitch(from, to, "SwitchFinal");
  if (from->is_thread) die("SwitchFinal from %s: a thread's own stack cannot finish", from->label());
  from->state = Impl::State::kFinished;
  to->state = Impl::State::kRunning;
  to->came_from = from;
#if GORT_ASAN_ENABLED
  // Park from's fake stack for its next incarnation (Reset, the pool);
  // nullptr makes ASan free it (retireFakeStack, for a stack leaving for good).
  from->fake_save = nullptr;
  __sanitizer_start_switch_fiber(from->fake_keep ? &from->fake_save : nullptr, to->asan_bottom,
                                 to->asan_size);
#endif
#if GORT_TSAN_ENABLED
  unsigned flags = 0;
  if (g_tsan_no_sync.load(std::memory_order_relaxed)) {
    flags = __tsan_switch_to_fiber_no_sync;
    __tsan_release(from);
  }
  __tsan_switch_to_fiber(to->tsan, flags);
#endif
#if GORT_FIBER_ASM
  gort_fiber_swap(&from->sp, to->sp);
#else
  g_swapcontext(&from->ctx, &to->ctx);
#endif
  die("fiber %s was resumed after SwitchFinal", from->label());
}

// ---------------------------------------------------------------------------
// The pool: idle fibers with their stacks.

namespace {

struct Pool {
  std::mutex mu;
  std::vector<Fiber::Impl*> idle;  // invariant: size() <= kPoolMax; each retired, with a stack
};

Pool& pool() {
  // Never destroyed: fibers may be destroyed during static destruction.
  static Pool* p = new Pool;
  return *p;
}

struct ThreadFiber {
  Fiber::Impl* f = nullptr;
  ~ThreadFiber();
};

thread_local ThreadFiber t_thread_fiber;

}  // namespace

ThreadFiber::~ThreadFiber() {
  // The thread is exiting on its own stack. Its TSan fiber is the thread
  // itself and must not be destroyed (TSan finishes it with the thread).
  delete f;
}

__attribute__((noinline)) Fiber* Fiber::ForThisThread() {
  // Launder the TLS address (see os_linux.cpp's tlsAddr): never let the
  // optimizer hand a caller one thread's answer after a fiber switch.
  ThreadFiber* tp = &t_thread_fiber;
  asm volatile("" : "+r"(tp)::"memory");
  ThreadFiber& t = *tp;
  if (t.f == nullptr) {
    // Must be first called on the thread's own stack: what is running now
    // is taken to be the thread.
    Impl* f = new Impl;
    f->is_thread = true;
    f->state = Impl::State::kRunning;
#if GORT_TSAN_ENABLED
    f->tsan = __tsan_get_current_fiber();
#endif
    // ASan bounds: learned from finish_switch_fiber the first time the
    // thread's stack is left (pitfall 5).
    t.f = f;
  }
  return t.f;
}

Fiber* Fiber::Create(Entry entry, void* arg, size_t stack_size) {
  size_t size = stack_size == 0 ? kDefaultStackSize : stack_size;
  if (size < kMinStackSize) size = kMinStackSize;
  size = (size + pageSize() - 1) & ~(pageSize() - 1);
  Impl* f = nullptr;
  {
    Pool& p = pool();
    TsanInvisibleScope quiet;  // see "the pool under TSan" in the file comment
    std::lock_guard<std::mutex> lk(p.mu);
    for (size_t i = p.idle.size(); i-- > 0;) {
      if (p.idle[i]->stack_size == size) {
        f = p.idle[i];
        p.idle[i] = p.idle.back();
        p.idle.pop_back();
        break;
      }
    }
  }
  if (f == nullptr) {
    f = new Impl;
    f->allocStack(size);
  } else {
    GORT_TSAN_ONLY(__tsan_acquire(f));  // from the Destroy that pooled it
  }
  f->name[0] = '\0';
  f->arm(entry, arg);
  GORT_TSAN_ONLY(__tsan_release(f));  // see "no-sync mode" in the file comment
  return f;
}

void Fiber::Reset(Entry entry, void* arg) {
  Impl* f = Impl::of(this);
#if GORT_TSAN_ENABLED
  __tsan_acquire(f);
#endif
  if (f->is_thread) die("Reset of %s: a thread's own stack cannot be re-armed", f->label());
  if (f->state == Impl::State::kRunning) die("Reset of %s while it is running", f->label());
  f->retire();
  f->arm(entry, arg);
  GORT_TSAN_ONLY(__tsan_release(f));
}

void Fiber::Destroy(Fiber* fiber) {
  if (fiber == nullptr) return;
  Impl* f = Impl::of(fiber);
#if GORT_TSAN_ENABLED
  __tsan_acquire(f);
#endif
  if (f->is_thread) die("Destroy of %s: a thread's own fiber is never destroyed", f->label());
  if (f->state == Impl::State::kRunning) die("Destroy of %s while it is running", f->label());
  f->retire();
  f->state = Impl::State::kFinished;
  f->entry = nullptr;
  f->arg = nullptr;
  GORT_ASAN_ONLY(f->unregisterRoot());  // a pooled stack is invisible to LeakSanitizer
  GORT_TSAN_ONLY(__tsan_release(f));  // to the Create that takes it from the pool
  {
    Pool& p = pool();
    TsanInvisibleScope quiet;
    std::lock_guard<std::mutex> lk(p.mu);
    if (p.idle.size() < kPoolMax) {
      p.idle.push_back(f);
      return;
    }
  }
  f->releaseForGood();
  f->freeStack();
  delete f;
}

void Fiber::SetName(const char* name) {
  Impl* f = Impl::of(this);
  GORT_TSAN_ONLY(__tsan_acquire(f));
  std::snprintf(f->name, sizeof f->name, "%s", name ? name : "");
#if GORT_TSAN_ENABLED
  if (f->tsan != nullptr) __tsan_set_fiber_name(f->tsan, f->name);
  __tsan_release(f);
#endif
}

size_t Fiber::PooledStacks() {
  Pool& p = pool();
  TsanInvisibleScope quiet;
  std::lock_guard<std::mutex> lk(p.mu);
  return p.idle.size();
}

}  // namespace gort
