// SPDX-License-Identifier: MIT
// Stress for the async scheduler: many spawns across workers, wakes from
// foreign threads, abort racing completion, runtimes created and destroyed
// in a loop. WEFT_STRESS_ITERS scales the counts; the seed is printed.
#include <weft/spawn.hpp>

#include <weft/runtime.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using weft::task;
using weft::test::manual_event;

task<std::uint64_t> index_of(std::uint64_t i) { co_return i; }

TEST(SchedulerStress, MillionsOfSpawnsAcrossWorkers) {
  const std::uint64_t n = weft::test::stress_iterations(2'000'000);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
  auto body = [](std::uint64_t count) -> task<std::uint64_t> {
    std::vector<weft::join_handle<std::uint64_t>> handles;
    handles.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) handles.push_back(weft::spawn(index_of(i)));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += co_await h;
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body(n)), n * (n - 1) / 2);
  EXPECT_EQ(rt.metrics().spawned_tasks, n + 1);
}

TEST(SchedulerStress, SpawnsFromManyTasksAtOnce) {
  const std::uint64_t per_task = weft::test::stress_iterations(2'000'000) / 20;
  auto rt = weft::runtime::builder::multi_thread().worker_threads(4).build();
  auto spawner = [](std::uint64_t count) -> task<std::uint64_t> {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      auto h = weft::spawn(index_of(1));
      sum += co_await h;
    }
    co_return sum;
  };
  auto body = [&]() -> task<std::uint64_t> {
    std::vector<weft::join_handle<std::uint64_t>> handles;
    for (int i = 0; i < 20; ++i) handles.push_back(weft::spawn(spawner(per_task)));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += co_await h;
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body()), per_task * 20);
}

TEST(SchedulerStress, WakesFromForeignThreads) {
  const int n = static_cast<int>(weft::test::stress_iterations(200'000) / 10);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
  std::vector<std::unique_ptr<manual_event>> events;
  for (int i = 0; i < n; ++i) events.push_back(std::make_unique<manual_event>());
  auto waiter = [](manual_event& e) -> task<int> {
    co_await e.wait();
    co_return 1;
  };
  std::vector<weft::join_handle<int>> handles;
  auto spawn_all = [&]() -> task<void> {
    for (auto& e : events) handles.push_back(weft::spawn(waiter(*e)));
    co_return;
  };
  rt.block_on(spawn_all());
  std::vector<std::thread> firers;
  for (int t = 0; t < 4; ++t) {
    firers.emplace_back([&, t] {
      for (int i = t; i < n; i += 4) {
        events[i]->fire();
        events[i]->peek_waker().wake();   // duplicate wake: harmless
      }
    });
  }
  for (auto& f : firers) f.join();
  auto collect = [&]() -> task<int> {
    int sum = 0;
    for (auto& h : handles) sum += co_await h;
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(collect()), n);
}

TEST(SchedulerStress, AbortRacesCompletion) {
  const std::uint64_t seed = weft::test::stress_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const int n = static_cast<int>(weft::test::stress_iterations(200'000) / 2);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(3).build();
  auto body = [](int count, std::uint64_t s) -> task<std::pair<int, int>> {
    std::mt19937_64 rng(s);
    auto maybe_yield = [](int yields) -> task<int> {
      for (int i = 0; i < yields; ++i) co_await weft::yield_now();
      co_return 1;
    };
    std::vector<weft::join_handle<int>> handles;
    for (int i = 0; i < count; ++i) {
      handles.push_back(weft::spawn(maybe_yield(static_cast<int>(rng() % 3))));
      if (rng() % 2) handles.back().abort();
    }
    int done = 0, cancelled = 0;
    for (auto& h : handles) {
      auto r = co_await h.join();
      if (r) done += *r;
      else if (r.error().is_cancelled()) ++cancelled;
    }
    co_return std::pair{done, cancelled};
  };
  const auto [done, cancelled] = rt.block_on(body(n, seed));
  EXPECT_EQ(done + cancelled, n);   // every task resolved exactly once
  EXPECT_GT(cancelled, 0);
}

TEST(SchedulerStress, RuntimeCreateDestroyLoop) {
  const int rounds = static_cast<int>(weft::test::stress_iterations(200'000) / 1000);
  std::atomic<int> live{0};
  for (int r = 0; r < rounds; ++r) {
    auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
    auto spinner = [](weft::test::lifetime_probe) -> task<void> {
      for (;;) co_await weft::yield_now();
    };
    auto body = [&]() -> task<void> {
      for (int i = 0; i < 20; ++i) {
        auto h = weft::spawn(spinner(weft::test::lifetime_probe(live)));
      }
      co_return;
    };
    rt.block_on(body());
  }   // every runtime destroyed with tasks still running
  EXPECT_EQ(live.load(), 0);
}

// Shutdown while a task floods its worker's queue: spawns go to the local
// queue, overflow to the inject queue, and, once that is closed, are tracked
// by the worker so that the sweep still cancels them. Every frame must go.
TEST(SchedulerStress, RuntimeDestroyedWhileSpawnsOverflowTheQueues) {
  const int rounds = static_cast<int>(weft::test::stress_iterations(200'000) / 4000);
  std::atomic<int> live{0};
  for (int r = 0; r < rounds; ++r) {
    // The lambdas outlive the runtime: the flooders still run when it goes.
    auto child = [](weft::test::lifetime_probe) -> task<void> { co_await weft::yield_now(); };
    auto flooder = [&]() -> task<void> {
      for (;;) {
        for (int i = 0; i < 1000; ++i) {
          auto h = weft::spawn(child(weft::test::lifetime_probe(live)));
        }
        co_await weft::yield_now();
      }
    };
    auto body = [&]() -> task<void> {
      auto a = weft::spawn(flooder());
      auto b = weft::spawn(flooder());
      co_await weft::yield_now();
    };
    auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
    rt.block_on(body());
  }
  EXPECT_EQ(live.load(), 0);
}

}  // namespace
