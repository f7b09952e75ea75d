// SPDX-License-Identifier: MIT
#pragma once
// Coroutine helpers for weft's tests (they need the runtime's public API,
// which weft_test_support.hpp does not include).
#include <weft/join_handle.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>
#include <weft/time.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <type_traits>

namespace weft::test {

/// The runtime most tests use: work-stealing, `workers` async workers.
inline runtime multi(std::size_t workers = 2) {
  return runtime::builder::multi_thread().worker_threads(workers).build();
}

/// Every async task on the thread calling block_on: deterministic order.
inline runtime single() { return runtime::builder::current_thread().build(); }

/// Sleeps a millisecond at a time until pred() holds; false if that takes
/// longer than max_wait. For a wait on another thread's progress (a pool
/// thread's start, a closure entering), which a loaded host — CI under a
/// sanitizer — can delay far past any fixed sleep.
template <class Pred>
task<bool> wait_until(Pred pred) {
  // A lambda written inside `co_await wait_until(...)` is a temporary of the
  // co_await expression, which g++ 12 destroys twice (GCC PR 100611): a
  // captured shared_ptr lost a reference and ASan saw its count freed early.
  static_assert(std::is_trivially_destructible_v<Pred>,
                "wait_until: capture raw pointers or references, not owners (g++ 12 destroys it twice)");
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleep(std::chrono::milliseconds(1));
  }
  co_return true;
}

/// Yields until `*h` has finished; a test failure (and false) if that takes
/// longer than max_wait — so a lost wake-up fails instead of hanging.
template <class T>
task<bool> finishes(const join_handle<T>* h) {
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (!h->is_finished()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "task " << h->id() << " did not finish";
      co_return false;
    }
    co_await yield_now();
  }
  co_return true;
}

/// Lets the other queued tasks run `n` times over.
inline task<void> yield_times(int n) {
  for (int i = 0; i < n; ++i) co_await yield_now();
}

}  // namespace weft::test
