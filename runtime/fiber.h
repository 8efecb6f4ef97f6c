// runtime/fiber.h — the one stack-switching primitive of gort, wrapped once.
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
//
// A Fiber is a saved execution context with its own stack. gort uses fibers
// for goroutine stacks (on both platforms) and, under the deterministic
// executor, for Ms too. Nothing else in the project knows how stacks switch:
// this file and fiber.cpp carry the glibc ucontext calls and the
// AddressSanitizer / ThreadSanitizer fiber annotations (see
// shared/ecosystem-notes.md section 5 for their contracts and pitfalls).
//
// Rules:
//  * Fiber::Switch(from, to) must be called by the code running on `from`.
//  * A fiber whose entry function returns is a bug (the entry must end with
//    SwitchFinal to somewhere else); fiber.cpp aborts if it happens.
//  * SwitchFinal(from, to) leaves `from` for good: its sanitizer fake stack is
//    released. `from` may afterwards be Reset and started again.
//  * Stacks are pooled process-wide, so creating fibers per fuzz input is cheap.
//  * Abandoning a fiber (Reset or Destroy while it is suspended) frees its
//    stack and sanitizer state but runs no destructors of its live frames:
//    heap memory owned only by those frames leaks (LeakSanitizer will say
//    so). Let fibers unwind to SwitchFinal where that matters.
//  * A fiber may be suspended on one OS thread and resumed on another. Code
//    that can run across such a switch must not keep a thread-local's
//    address (or errno's) from before it: read per-thread state through an
//    out-of-line accessor that launders the address through an empty asm
//    (see os_linux.cpp tlsAddr). `noinline` alone is not enough with gcc 12
//    or clang 14 (FiberThreads tests).
//  * Implementations (fiber.cpp): a small x86-64 assembly switch, in every
//    build, with the ASan and TSan fiber annotations; glibc ucontext
//    elsewhere (define GORT_FIBER_UCONTEXT=1 to force it). The asm switch
//    keeps no per-fiber signal mask.
//  * Under ASan a fiber's fake stack (detect_stack_use_after_return) is
//    pooled with its stack too: recycling a fiber maps nothing.
#pragma once
#include <cstddef>

namespace gort {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  // The fiber that stands for the calling OS thread's own stack. One per
  // thread; created lazily; freed when the thread exits. Must not be passed
  // to Destroy, Reset or SwitchFinal (as `from`). The first call on a thread
  // must be made on the thread's own stack, not on a fiber.
  static Fiber* ForThisThread();

  // A new fiber that will run entry(arg) when first switched to.
  // stack_size 0 = the default (256 KiB; 1 MiB under TSan); other
  // sizes are rounded up to whole pages, at least 16 KiB, and used as given
  // (no sanitizer scaling).
  static Fiber* Create(Entry entry, void* arg, size_t stack_size = 0);

  // Re-arm a fiber that is not running and will never resume its old
  // context (it finished with SwitchFinal, or was abandoned): the next switch
  // to it starts entry(arg) afresh on the same stack.
  void Reset(Entry entry, void* arg);

  // Free the fiber and return its stack to the pool. Must not be running.
  static void Destroy(Fiber* f);

  // Save the current context into `from` and resume `to`.
  static void Switch(Fiber* from, Fiber* to);

  // Like Switch, but `from` will never be resumed (until Reset).
  [[noreturn]] static void SwitchFinal(Fiber* from, Fiber* to);

  // A short name shown by ThreadSanitizer reports ("M3", "G17") and in
  // fiber.cpp's error messages. Copied (up to 23 characters); survives Reset.
  void SetName(const char* name);

  // Number of stacks currently cached in the process-wide pool (tests).
  static size_t PooledStacks();

  struct Impl;

 private:
  Fiber() = default;
  ~Fiber() = default;
  friend struct Impl;
};

}  // namespace gort
