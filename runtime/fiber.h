// runtime/fiber.h — the one stack-switching primitive of gort, wrapped once.
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
#pragma once
#include <cstddef>

namespace gort {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  // The fiber that stands for the calling OS thread's own stack. One per
  // thread; created lazily; never freed while the thread runs. Must not be
  // passed to Destroy.
  static Fiber* ForThisThread();

  // A new fiber that will run entry(arg) when first switched to.
  // stack_size 0 = the default (256 KiB; larger under sanitizers).
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

  // A short name shown by ThreadSanitizer reports ("M3", "G17").
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
