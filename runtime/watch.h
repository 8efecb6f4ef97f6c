// runtime/watch.h — write watches on the fields the invariant checks read.
//
// The invariant checks (fuzz/detectors.cpp) read a few dozen fields of the
// runtime's P, M and G structs and of sched. Checking all of them at every
// scheduling point costs a tenth or more of an execution, yet most points
// change none of them (user code ran, or a lock was taken and dropped). So
// each such field has a type whose every store marks the check families
// ("domains") that read it in a dirty word; the checks run only the families
// whose inputs changed since they last ran, and the full check still runs at
// the end of every run and before any verdict (fuzz/detectors.h).
//
// Soundness comes from the type system, not from remembering call sites: a
// watched field cannot be written except through these wrappers (there is no
// non-const access to the value), so no store can bypass the mark. What is
// not a field store (an entity created, a list such as allp resized) marks
// explicitly where it happens (watchMark). tests/detectors_test.cpp checks
// the claim: in its verify mode the detectors hash every watched input at
// every point and fail if a family's inputs changed while it was clean.
//
// The dirty word is thread-local: the deterministic executor runs a whole
// execution on one OS thread, and the detectors install their word for the
// run (WatchScope). Elsewhere (the real-threads platform, tests without
// detectors) no word is installed and a mark is one TLS load and a branch.
// The word is an atomic with relaxed order so ThreadSanitizer, which sees
// the executor's Ms as parallel threads, sees no race on it and no new
// happens-before edge from it.
#pragma once
#include <atomic>
#include <cstdint>

namespace gort {

enum WatchDomain : uint32_t {
  kWatchP = 1u << 0,       // P accounting and stopwait: P status/link/m/holder, M.p/nextp, pidle, npidle, gcwaiting, stopwait
  kWatchLocked = 1u << 1,  // lockedg/lockedm and the taint oracles; G status changes to or from _Gdead
  kWatchAll = kWatchP | kWatchLocked,
};

namespace watch_detail {
inline thread_local std::atomic<uint32_t>* t_sink = nullptr;
}

inline void watchMark(uint32_t domains) {
  if (std::atomic<uint32_t>* s = watch_detail::t_sink) s->fetch_or(domains, std::memory_order_relaxed);
}

// Installs `sink` as this OS thread's dirty word for its lifetime.
class WatchScope {
 public:
  explicit WatchScope(std::atomic<uint32_t>* sink) : prev_(watch_detail::t_sink) { watch_detail::t_sink = sink; }
  ~WatchScope() { watch_detail::t_sink = prev_; }
  WatchScope(const WatchScope&) = delete;
  WatchScope& operator=(const WatchScope&) = delete;

 private:
  std::atomic<uint32_t>* prev_;
};

// A plain (non-atomic) field whose stores mark domains D.
template <class T, uint32_t D>
class watched {
 public:
  watched(T v = T()) : v_(v) {}
  watched(const watched&) = delete;
  watched& operator=(const watched& o) { return *this = static_cast<T>(o); }
  operator T() const { return v_; }
  T operator->() const { return v_; }
  watched& operator=(T x) {
    v_ = x;
    watchMark(D);
    return *this;
  }
  T operator++(int) { T old = v_; *this = old + 1; return old; }
  T operator--(int) { T old = v_; *this = old - 1; return old; }
  T operator++() { *this = v_ + 1; return v_; }
  T operator--() { *this = v_ - 1; return v_; }
  watched& operator+=(T x) { return *this = v_ + x; }
  watched& operator-=(T x) { return *this = v_ - x; }

 private:
  T v_;
};

// An atomic field whose modifications mark domains D: the part of the
// std::atomic interface the runtime uses on these fields (add more as needed).
template <class T, uint32_t D>
class watched_atomic {
 public:
  using order = std::memory_order;
  watched_atomic(T v = T()) : v_(v) {}
  watched_atomic(const watched_atomic&) = delete;
  watched_atomic& operator=(const watched_atomic&) = delete;
  T load(order o = std::memory_order_seq_cst) const { return v_.load(o); }
  operator T() const { return v_.load(); }
  void store(T x, order o = std::memory_order_seq_cst) {
    v_.store(x, o);
    watchMark(D);
  }
  T operator=(T x) {
    store(x);
    return x;
  }
  bool compare_exchange_strong(T& e, T x, order o = std::memory_order_seq_cst) {
    bool ok = v_.compare_exchange_strong(e, x, o);
    if (ok) watchMark(D);
    return ok;
  }
  T fetch_add(T x, order o = std::memory_order_seq_cst) {
    T old = v_.fetch_add(x, o);
    watchMark(D);
    return old;
  }
  T fetch_sub(T x, order o = std::memory_order_seq_cst) {
    T old = v_.fetch_sub(x, o);
    watchMark(D);
    return old;
  }
  T operator++() { return fetch_add(1) + 1; }
  T operator--() { return fetch_sub(1) - 1; }
  T operator++(int) { return fetch_add(1); }
  T operator--(int) { return fetch_sub(1); }
  T operator+=(T x) { return fetch_add(x) + x; }
  T operator-=(T x) { return fetch_sub(x) - x; }

 private:
  std::atomic<T> v_;
};

// A goroutine's status word: every transition is a store, but the checks
// only ask whether a G is `Dead` (a dead G's lockedm is stale by design), so
// only a change of that answer marks D.
template <class T, uint32_t D, T Dead>
class watched_status {
 public:
  using order = std::memory_order;
  watched_status(T v = T()) : v_(v) {}
  watched_status(const watched_status&) = delete;
  watched_status& operator=(const watched_status&) = delete;
  T load(order o = std::memory_order_seq_cst) const { return v_.load(o); }
  operator T() const { return v_.load(); }
  void store(T x, order o = std::memory_order_seq_cst) {
    const T old = v_.load(std::memory_order_relaxed);
    v_.store(x, o);
    note(old, x);
  }
  T operator=(T x) {
    store(x);
    return x;
  }
  bool compare_exchange_strong(T& e, T x, order o = std::memory_order_seq_cst) {
    const T old = e;
    bool ok = v_.compare_exchange_strong(e, x, o);
    if (ok) note(old, x);
    return ok;
  }

 private:
  static void note(T old, T x) {
    if ((old == Dead) != (x == Dead)) watchMark(D);
  }
  std::atomic<T> v_;
};

}  // namespace gort
