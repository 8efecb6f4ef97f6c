// runtime/sanitizers.h — which sanitizers this translation unit is built with.
//
// Original to schedfuzz: follows no Go file.
// SPDX-License-Identifier: Apache-2.0
//
// clang spells it __has_feature(address_sanitizer | thread_sanitizer |
// memory_sanitizer); gcc 12 defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__
// instead (and has no MemorySanitizer). Everything in gort that must behave
// differently under a sanitizer tests the GORT_* macros below, never the
// compiler-specific spellings (pattern: marl's include/marl/sanitizers.h).
//
// Only runtime/fiber.cpp really needs them: the stack switch carries the ASan
// and TSan fiber annotations, and sanitizers want bigger, heap-allocated
// stacks (shared/ecosystem-notes.md section 5.3, pitfall 7).
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN_ENABLED 1
#endif
#if __has_feature(thread_sanitizer)
#define GORT_TSAN_ENABLED 1
#endif
#if __has_feature(memory_sanitizer)
#define GORT_MSAN_ENABLED 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__) && !defined(GORT_ASAN_ENABLED)
#define GORT_ASAN_ENABLED 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(GORT_TSAN_ENABLED)
#define GORT_TSAN_ENABLED 1
#endif

#ifndef GORT_ASAN_ENABLED
#define GORT_ASAN_ENABLED 0
#endif
#ifndef GORT_TSAN_ENABLED
#define GORT_TSAN_ENABLED 0
#endif
#ifndef GORT_MSAN_ENABLED
#define GORT_MSAN_ENABLED 0
#endif

// A sanitizer that makes stack frames bigger is on (fiber stacks grow).
#define GORT_ANY_SANITIZER (GORT_ASAN_ENABLED || GORT_TSAN_ENABLED || GORT_MSAN_ENABLED)

// GORT_ASAN_ONLY(x) / GORT_TSAN_ONLY(x): x only in that sanitizer's build.
#if GORT_ASAN_ENABLED
#define GORT_ASAN_ONLY(x) x
#else
#define GORT_ASAN_ONLY(x)
#endif
#if GORT_TSAN_ENABLED
#define GORT_TSAN_ONLY(x) x
#else
#define GORT_TSAN_ONLY(x)
#endif

// Do not check this function's plain memory accesses for races (atomics and
// explicit __tsan_* calls still count). Used on the fiber switch itself,
// whose bookkeeping is touched by the fiber leaving and the fiber arriving.
#if GORT_TSAN_ENABLED
#define GORT_NO_SANITIZE_THREAD __attribute__((no_sanitize("thread")))
#else
#define GORT_NO_SANITIZE_THREAD
#endif

// No AddressSanitizer instrumentation in this function: no redzones, and no
// fake frame when detect_stack_use_after_return is on (fiber.cpp's fiber
// entry must not own one: see Impl::collectStaleFakeFrames).
#if GORT_ASAN_ENABLED
#define GORT_NO_SANITIZE_ADDRESS __attribute__((no_sanitize("address")))
#else
#define GORT_NO_SANITIZE_ADDRESS
#endif

#if GORT_TSAN_ENABLED
// Exported by the TSan runtimes of clang 14 and gcc 12 (not declared by
// their public headers).
extern "C" {
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
}
#endif

namespace gort {

// Make the calling fiber (or thread) invisible to ThreadSanitizer between
// tsanInvisibleBegin and tsanInvisibleEnd: its plain memory accesses and
// those of the interceptors it calls (memcpy, free, ...) are not recorded,
// and its synchronisation (mutexes, atomics with acquire/release order,
// __tsan_acquire/__tsan_release) creates no happens-before edge. For code
// that is not part of the system under test but runs on its fibers: the
// deterministic executor's bookkeeping, the choosers and the detectors,
// which read runtime state without locks by design. Ignoring accesses
// never hides a race between two *recorded* accesses, and ignoring sync
// keeps that code from ordering Ms that gort itself does not order. Calls
// nest; a fiber must not be destroyed or finished inside such a region
// (TSan dies with "finished with ignores enabled"). No-ops without TSan.
inline void tsanInvisibleBegin() {
#if GORT_TSAN_ENABLED
  __tsan_ignore_thread_begin();
  AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
#endif
}
inline void tsanInvisibleEnd() {
#if GORT_TSAN_ENABLED
  AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  __tsan_ignore_thread_end();
#endif
}
// RAII form.
struct TsanInvisibleScope {
  TsanInvisibleScope() { tsanInvisibleBegin(); }
  ~TsanInvisibleScope() { tsanInvisibleEnd(); }
  TsanInvisibleScope(const TsanInvisibleScope&) = delete;
  TsanInvisibleScope& operator=(const TsanInvisibleScope&) = delete;
};

// ThreadSanitizer fiber-switch mode, process-wide. Off (the default): every
// Fiber::Switch / SwitchFinal is a happens-before edge from the fiber leaving
// to the fiber arriving, so TSan never reports races between cooperatively
// scheduled fibers (they really are serialized). On: subsequent switches pass
// __tsan_switch_to_fiber_no_sync, so fibers look to TSan like truly
// concurrent threads and only real synchronization (atomics, pthread
// mutexes, __tsan_acquire/__tsan_release) orders them. The deterministic
// executor uses this to have TSan check gort's own locking as if Ms ran in
// parallel. The fiber wrapper keeps its own bookkeeping race-free in both
// modes; the caller's bookkeeping is the caller's business.
//
// Without ThreadSanitizer both functions are no-ops / return false.
void setFiberSwitchNoSync(bool on);
bool fiberSwitchNoSync();

}  // namespace gort
