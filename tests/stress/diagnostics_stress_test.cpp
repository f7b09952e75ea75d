// SPDX-License-Identifier: MIT
// Stress for diagnostics: dump() and metrics() from foreign threads while
// tasks are spawned, suspend, are woken, aborted and finish, while blocking
// jobs are queued, aborted and run, and while the runtime shuts down; the
// watchdog samples all along (1 ms threshold). Run under tsan (label
// stress). WEFT_STRESS_ITERS scales the counts; the seed is printed.
#include <weft/diagnostics.hpp>

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

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

task<void> wait_for(std::shared_ptr<manual_event> e) { co_await e->wait(); }
task<void> yield_some(int n) {
  for (int i = 0; i < n; ++i) co_await weft::yield_now();
}

/// Spawns, wakes, aborts and finishes tasks and jobs for `rounds` rounds.
task<void> churn(std::uint64_t rounds, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (std::uint64_t r = 0; r < rounds; ++r) {
    auto event = std::make_shared<manual_event>();
    auto waiter = weft::spawn(wait_for(event));
    auto quick = weft::spawn(yield_some(static_cast<int>(rng() % 4)));
    auto job = weft::spawn_blocking([] { return 1; });
    auto dropped = weft::spawn_blocking([] {});
    if (rng() % 2) dropped.abort();
    if (rng() % 3 == 0) {
      waiter.abort();
    } else {
      event->fire();
    }
    (void)co_await waiter.join();
    co_await quick;
    co_await job;
    (void)co_await dropped.join();
  }
}

TEST(DiagnosticsStress, DumpAndMetricsWhileTasksComeAndGo) {
  const std::uint64_t seed = weft::test::stress_seed();
  SCOPED_TRACE("WEFT_STRESS_SEED=" + std::to_string(seed));
  const std::uint64_t rounds = weft::test::stress_iterations(20'000) / 4;
  for (int pass = 0; pass < 2; ++pass) {
    auto rt = weft::runtime::builder::multi_thread()
                  .worker_threads(2)
                  .max_blocking_threads(2)
                  .stall_threshold(std::chrono::milliseconds(1))
                  .on_stall([](const weft::stall_report&) {})
                  .long_blocking_threshold(std::chrono::milliseconds(1))
                  .on_long_blocking([](const weft::long_blocking_report&) {})
                  .build();
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> dumps{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 2; ++i) {
      readers.emplace_back([&, h = rt.get_handle()] {
        while (!stop.load()) {
          for (const auto& t : h.dump()) {
            EXPECT_NE(t.id, 0u);
            EXPECT_NE(t.spawned_at.line(), 0u);
          }
          (void)weft::to_prometheus(h.metrics());
          dumps.fetch_add(1);
        }
      });
    }
    auto h = rt.get_handle();
    std::vector<weft::join_handle<void>> churners;
    for (int i = 0; i < 4; ++i) churners.push_back(h.spawn(churn(rounds / 4 + 1, seed + static_cast<unsigned>(i))));
    if (pass == 0) {
      for (auto& c : churners) rt.block_on([](weft::join_handle<void> j) -> task<void> { co_await j; }(std::move(c)));
    } else {
      // Shut down in the middle of the churn, dumping all the while.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      rt.shutdown_timeout(std::chrono::seconds(5));
    }
    stop.store(true);
    for (auto& t : readers) t.join();
    EXPECT_GT(dumps.load(), 0u);
    if (pass == 1) {
      EXPECT_TRUE(rt.dump().empty());
    }
  }
}

}  // namespace
