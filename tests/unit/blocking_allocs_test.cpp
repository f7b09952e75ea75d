// SPDX-License-Identifier: MIT
// Heap allocations per spawn_blocking (DESIGN §7: at most one; spawn.hpp:
// "One heap allocation holds the closure, its result and the join state (a
// stop-aware closure adds std::stop_source's shared state)").
//
// This test binary replaces the global operator new (counting_new.cpp), so
// every allocation made through it, on any thread (the blocking pool's too),
// is counted while a window is open. The counter is checked first: a closure that allocates
// once itself must read as one more allocation per job.
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "counting_new.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::task;

constexpr std::uint64_t ops = 2'000;
// Allocations allowed per window beyond ops × the budget: the runtime's own
// rare bookkeeping (a timer, a metrics snapshot), far below one per job, so
// one extra allocation per job (ops more) always fails.
constexpr std::uint64_t slack = 50;
// A window in which the pool started a thread (the machine was busy and the
// 1 ms hand-off rule fired) also counts the thread's allocations: such a
// window is measured again, up to this many times.
constexpr int attempts = 5;

struct window {
  std::uint64_t allocations = 0;
  std::uint64_t threads_started = 0;
};

/// Opens a counting window around `body` (awaited on a worker).
template <class Body>
task<window> count(Body body) {
  const auto started = weft::handle::current().metrics().blocking_threads_started;
  const std::uint64_t before = weft::test::allocations_so_far().allocations;
  co_await body();
  const std::uint64_t after = weft::test::allocations_so_far().allocations;
  co_return window{after - before, weft::handle::current().metrics().blocking_threads_started - started};
}

/// The fewest allocations over `attempts` windows, preferring windows in
/// which no blocking thread started. `warm_up` runs once first.
template <class Body>
window least(weft::runtime& rt, Body body) {
  rt.block_on(body());   // warm-up: pool threads started, caches filled
  window best{~std::uint64_t{0}, 0};
  for (int i = 0; i < attempts; ++i) {
    const window w = rt.block_on(count(body));
    if (w.threads_started == 0 && w.allocations < best.allocations) best = w;
    if (best.allocations <= ops) break;
  }
  if (best.allocations == ~std::uint64_t{0}) best = rt.block_on(count(body));   // every window started threads
  return best;
}

weft::runtime make_runtime() {
  return weft::runtime::builder::multi_thread()
      .worker_threads(2)
      .max_blocking_threads(512)
      .thread_keep_alive(10s)
      .build();
}

task<void> roundtrips() {
  for (std::uint64_t i = 0; i < ops; ++i) {
    auto h = weft::spawn_blocking([i] { return i; });
    EXPECT_EQ(co_await h, i);
  }
}

task<void> batch() {
  std::vector<weft::join_handle<std::uint64_t>> handles;
  handles.reserve(ops);   // one allocation per window, within the slack
  for (std::uint64_t i = 0; i < ops; ++i) handles.push_back(weft::spawn_blocking([i] { return i; }));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  EXPECT_EQ(sum, ops * (ops - 1) / 2);
}

task<void> stop_aware_roundtrips() {
  for (std::uint64_t i = 0; i < ops; ++i) {
    auto h = weft::spawn_blocking([i](std::stop_token) { return i; });
    EXPECT_EQ(co_await h, i);
  }
}

/// Lets `p` escape, so that the compiler keeps its allocation: a new/delete
/// pair whose pointer never leaves the function may be elided (g++ -O2 does).
void escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

/// Each closure allocates once itself (on the pool thread): the control.
task<void> allocating_roundtrips() {
  for (std::uint64_t i = 0; i < ops; ++i) {
    auto h = weft::spawn_blocking([i] {
      const auto own = std::make_unique<std::uint64_t>(i);
      escape(own.get());
      return *own;
    });
    EXPECT_EQ(co_await h, i);
  }
}

double per_op(const window& w) { return static_cast<double>(w.allocations) / static_cast<double>(ops); }

TEST(BlockingAllocs, CounterSeesAllocationsOnPoolThreads) {
  auto rt = make_runtime();
  const window w = least(rt, allocating_roundtrips);
  // The job's own allocation plus the closure's: at least 2 per op. If the
  // replaced operator new were not the one in use, this would read ~0.
  EXPECT_GE(w.allocations, 2 * ops) << per_op(w) << " allocations/op";
  EXPECT_LE(w.allocations, 2 * ops + slack) << per_op(w) << " allocations/op";
}

TEST(BlockingAllocs, AtMostOnePerRoundTrip) {
  auto rt = make_runtime();
  const window w = least(rt, roundtrips);
  EXPECT_LE(w.allocations, ops + slack) << per_op(w) << " allocations/op, " << w.threads_started
                                        << " blocking threads started in the window";
  EXPECT_GE(w.allocations, ops / 2) << "the counter missed the jobs' allocations: " << per_op(w);
}

TEST(BlockingAllocs, AtMostOnePerJobInABatch) {
  auto rt = make_runtime();
  const window w = least(rt, batch);
  EXPECT_LE(w.allocations, ops + slack) << per_op(w) << " allocations/op, " << w.threads_started
                                        << " blocking threads started in the window";
}

TEST(BlockingAllocs, StopAwareAddsOnlyTheStopState) {
  auto rt = make_runtime();
  const window w = least(rt, stop_aware_roundtrips);
  EXPECT_LE(w.allocations, 2 * ops + slack) << per_op(w) << " allocations/op";
}

}  // namespace
