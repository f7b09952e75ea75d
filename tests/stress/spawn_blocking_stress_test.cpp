// SPDX-License-Identifier: MIT
// Stress for spawn_blocking end to end: a million jobs with no lost or
// duplicated result, abort racing start, request_stop racing finish,
// shutdown racing spawn, many threads spawning at once.
// WEFT_STRESS_ITERS scales the counts; the seed is printed.
#include <weft/spawn.hpp>

#include <weft/runtime.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

namespace {

using weft::task;

TEST(SpawnBlockingStress, MillionJobsNoLostOrDuplicatedResult) {
  const std::uint64_t n = weft::test::stress_iterations(1'000'000);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
  auto runs = std::make_shared<std::vector<std::atomic<std::uint8_t>>>(n);
  auto body = [](std::uint64_t count,
                 std::shared_ptr<std::vector<std::atomic<std::uint8_t>>> seen) -> task<std::uint64_t> {
    std::uint64_t sum = 0;
    constexpr std::uint64_t batch = 10'000;   // keep memory bounded
    for (std::uint64_t base = 0; base < count; base += batch) {
      std::vector<weft::join_handle<std::uint64_t>> handles;
      for (std::uint64_t i = base; i < std::min(count, base + batch); ++i)
        handles.push_back(weft::spawn_blocking([i, seen] {
          (*seen)[i].fetch_add(1, std::memory_order_relaxed);
          return i;
        }));
      for (auto& h : handles) sum += co_await h;
    }
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body(n, runs)), n * (n - 1) / 2);
  std::uint64_t wrong = 0;
  for (auto& r : *runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(rt.metrics().spawned_blocking_tasks, n);
}

TEST(SpawnBlockingStress, AbortRacesStart) {
  const std::uint64_t seed = weft::test::stress_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const int n = static_cast<int>(weft::test::stress_iterations(1'000'000) / 10);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).max_blocking_threads(4).build();
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto live = std::make_shared<std::atomic<int>>(0);
  auto body = [](int count, std::uint64_t s, std::shared_ptr<std::atomic<int>> ran_count,
                 std::shared_ptr<std::atomic<int>> live_count) -> task<std::pair<int, int>> {
    std::mt19937_64 rng(s);
    std::vector<weft::join_handle<int>> handles;
    int values = 0, cancelled = 0;
    for (int i = 0; i < count; ++i) {
      handles.push_back(weft::spawn_blocking([ran_count, p = weft::test::lifetime_probe(*live_count)] {
        ran_count->fetch_add(1);
        return 1;
      }));
      if (rng() % 2) handles.back().abort();
      if (handles.size() == 1000) {
        for (auto& h : handles) {
          auto r = co_await h.join();
          if (r) values += *r;
          else if (r.error().is_cancelled()) ++cancelled;
        }
        handles.clear();
      }
    }
    for (auto& h : handles) {
      auto r = co_await h.join();
      if (r) values += *r;
      else if (r.error().is_cancelled()) ++cancelled;
    }
    co_return std::pair{values, cancelled};
  };
  const auto [values, cancelled] = rt.block_on(body(n, seed, ran, live));
  EXPECT_EQ(values + cancelled, n);      // each job resolved exactly once
  EXPECT_EQ(values, ran->load());        // ran <=> gave a value: an aborted job never ran
  EXPECT_GT(cancelled, 0);
  EXPECT_TRUE(weft::test::eventually([&] { return live->load() == 0; }));   // every capture destroyed
}

TEST(SpawnBlockingStress, RequestStopRacesFinish) {
  const int n = static_cast<int>(weft::test::stress_iterations(1'000'000) / 20);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
  auto body = [](int count) -> task<int> {
    std::vector<weft::join_handle<int>> handles;
    for (int i = 0; i < count; ++i) {
      // The stop may land before, during or after the closure: whichever, the
      // job runs once and its result arrives.
      handles.push_back(weft::spawn_blocking([](std::stop_token stop) {
        for (int spin = 0; spin < 100 && !stop.stop_requested(); ++spin) std::this_thread::yield();
        return 1;
      }));
      handles.back().request_stop();
    }
    int sum = 0;
    for (auto& h : handles) sum += co_await h;
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body(n)), n);
}

TEST(SpawnBlockingStress, ManyThreadsSpawnAtOnce) {
  const int per_thread = static_cast<int>(weft::test::stress_iterations(1'000'000) / 20);
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
  weft::handle h = rt.get_handle();
  std::atomic<long> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<weft::join_handle<int>> handles;
      for (int i = 0; i < per_thread; ++i) handles.push_back(h.spawn_blocking([t] { return t; }));
      for (auto& jh : handles) {
        auto r = jh.wait();
        if (r) total.fetch_add(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), static_cast<long>(per_thread) * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
}

TEST(SpawnBlockingStress, ShutdownRacesSpawn) {
  const int rounds = static_cast<int>(weft::test::stress_iterations(1'000'000) / 10'000);
  for (int round = 0; round < rounds; ++round) {
    auto rt = std::make_unique<weft::runtime>(weft::runtime::builder::multi_thread().worker_threads(2).build());
    weft::handle h = rt->get_handle();
    std::atomic<bool> go{false};
    std::atomic<int> resolved{0};
    std::vector<std::thread> spawners;
    for (int t = 0; t < 3; ++t) {
      spawners.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 200; ++i) {
          auto jh = h.spawn_blocking([] { return 1; });
          auto r = jh.wait();   // a value, or cancelled by the shutdown: never a hang
          if (r || r.error().is_cancelled()) resolved.fetch_add(1);
        }
      });
    }
    go = true;
    rt.reset();   // shutdown while spawns fly
    for (auto& s : spawners) s.join();
    EXPECT_EQ(resolved.load(), 600);
  }
}

}  // namespace
