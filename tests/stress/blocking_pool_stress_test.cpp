// SPDX-License-Identifier: MIT
// Stress of the blocking pool: every job runs exactly once under many
// submitters, racing keep-alive exits, try_cancel and shutdown.
// WEFT_STRESS_ITERS (default 1,000,000 jobs) and WEFT_STRESS_SEED from the
// environment; the seed is printed with every failure.
#include "blocking/pool.hpp"

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::detail::blocking_job;
using weft::detail::blocking_pool;
using weft::detail::blocking_pool_config;
using clock_type = std::chrono::steady_clock;

// A million jobs under TSan take minutes: a longer bound than tests/support's.
constexpr std::chrono::milliseconds stress_wait = 300s;

constexpr std::uint64_t default_jobs = 1'000'000;   // WEFT_STRESS_ITERS overrides
using weft::test::stress_seed;

void spin_for(std::chrono::nanoseconds d) {
  for (auto until = clock_type::now() + d; clock_type::now() < until;) {}
}

// A small job: counts what happened to it, and to all jobs (`finished`).
class counting_job final : public blocking_job {
public:
  void run() noexcept override {
    runs.fetch_add(1, std::memory_order_relaxed);
    if (work.count() > 0) spin_for(work);
  }
  void complete() noexcept override {
    completes.fetch_add(1, std::memory_order_relaxed);
    finished->fetch_add(1, std::memory_order_release);
  }
  void cancel(std::exception_ptr) noexcept override {
    cancels.fetch_add(1, std::memory_order_relaxed);
    finished->fetch_add(1, std::memory_order_release);
  }
  void request_stop() noexcept override {}

  std::atomic<std::uint8_t> runs{0}, completes{0}, cancels{0};
  std::chrono::nanoseconds work{0};
  std::atomic<std::uint64_t>* finished = nullptr;
};

std::vector<counting_job> make_jobs(std::size_t n, std::atomic<std::uint64_t>& finished) {
  std::vector<counting_job> jobs(n);
  for (auto& job : jobs) job.finished = &finished;
  return jobs;
}

TEST(BlockingPoolStress, EveryJobRunsExactlyOnce) {
  const std::uint64_t s = stress_seed();
  SCOPED_TRACE(testing::Message() << "WEFT_STRESS_SEED=" << s);
  std::mt19937_64 rng(s);
  const std::size_t total = weft::test::stress_iterations(default_jobs);
  constexpr int submitters = 4;
  std::atomic<std::uint64_t> finished{0};
  auto jobs = make_jobs(total, finished);
  // One job in 64 does a little work, so that queues build up and threads start.
  for (auto& job : jobs) {
    if (rng() % 64 == 0) job.work = std::chrono::nanoseconds(rng() % 20'000);
  }
  blocking_pool_config config;
  config.max_threads = 1 + rng() % 8;
  config.keep_alive = std::chrono::microseconds(50 + rng() % 2000);  // threads come and go
  config.spawn_delay = std::chrono::microseconds(rng() % 1000);
  auto pool = blocking_pool::create(std::move(config));
  std::latch start(submitters);
  std::vector<std::thread> threads;
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (std::size_t i = t; i < total; i += submitters) pool->submit(jobs[i]);
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(weft::test::eventually([&] { return finished.load(std::memory_order_acquire) == total; }, stress_wait))
      << finished.load() << " of " << total << " finished";
  EXPECT_EQ(pool->shutdown(std::nullopt), 0U);
  std::size_t bad = 0;
  for (auto& job : jobs) {
    if (job.runs.load() != 1 || job.completes.load() != 1 || job.cancels.load() != 0) ++bad;
  }
  EXPECT_EQ(bad, 0U);
  EXPECT_EQ(pool->metrics().spawned_jobs, total);
}

// try_cancel races the thread that takes the job: exactly one of "try_cancel
// returned true" and "run + complete" happens, never both, never neither.
TEST(BlockingPoolStress, TryCancelRacesStart) {
  const std::uint64_t s = stress_seed();
  SCOPED_TRACE(testing::Message() << "WEFT_STRESS_SEED=" << s);
  std::mt19937_64 rng(s);
  const std::size_t total = std::max<std::uint64_t>(weft::test::stress_iterations(default_jobs) / 10, 1000);
  constexpr std::size_t batch = 256;
  std::atomic<std::uint64_t> finished{0};
  auto jobs = make_jobs(total, finished);
  // Some work, so that both threads are often busy and jobs queue up.
  for (auto& job : jobs) job.work = std::chrono::nanoseconds(rng() % 4000);
  std::vector<std::uint8_t> taken_back(total, 0);
  blocking_pool_config config;
  config.max_threads = 2;
  config.keep_alive = 200us;
  config.spawn_delay = 50us;
  auto pool = blocking_pool::create(std::move(config));
  std::uint64_t expected_finished = 0;
  for (std::size_t base = 0; base < total; base += batch) {
    const std::size_t end = std::min(total, base + batch);
    const std::uint64_t canceller_seed = rng();
    std::atomic<std::size_t> submitted{base};
    std::thread canceller([&] {
      std::mt19937_64 local(canceller_seed);
      for (std::size_t i = base; i < end; ++i) {
        while (submitted.load(std::memory_order_acquire) <= i) std::this_thread::yield();
        if (local() % 4 == 0) spin_for(std::chrono::nanoseconds(local() % 3000));
        taken_back[i] = pool->try_cancel(jobs[i]) ? 1 : 0;
      }
    });
    for (std::size_t i = base; i < end; ++i) {
      pool->submit(jobs[i]);
      submitted.store(i + 1, std::memory_order_release);
    }
    canceller.join();
    for (std::size_t i = base; i < end; ++i) expected_finished += taken_back[i] ? 0 : 1;
    ASSERT_TRUE(weft::test::eventually([&] { return finished.load(std::memory_order_acquire) == expected_finished; },
                                       stress_wait));
  }
  pool->shutdown(std::nullopt);
  std::size_t bad = 0, num_taken_back = 0;
  for (std::size_t i = 0; i < total; ++i) {
    num_taken_back += taken_back[i];
    const auto& job = jobs[i];
    const bool ran = job.runs.load() == 1 && job.completes.load() == 1;
    const bool untouched = job.runs.load() == 0 && job.completes.load() == 0;
    if (job.cancels.load() != 0 || (taken_back[i] ? !untouched : !ran)) ++bad;
  }
  EXPECT_EQ(bad, 0U);
  // Both sides of the race were taken (not a guarantee, but telling).
  std::printf("try_cancel took back %zu of %zu jobs\n", num_taken_back, total);
}

// Shutdown races submitters: each job is either run and completed, or
// cancelled, exactly once; shutdown returns and every thread is joined.
TEST(BlockingPoolStress, ShutdownRacesSubmitters) {
  const std::uint64_t s = stress_seed();
  SCOPED_TRACE(testing::Message() << "WEFT_STRESS_SEED=" << s);
  std::mt19937_64 rng(s);
  const std::size_t rounds = std::max<std::uint64_t>(weft::test::stress_iterations(default_jobs) / 10'000, 20);
  constexpr int submitters = 3;
  constexpr std::size_t per_round = 3000;
  for (std::size_t round = 0; round < rounds; ++round) {
    std::atomic<std::uint64_t> finished{0};
    auto jobs = make_jobs(per_round, finished);
    for (auto& job : jobs) job.work = std::chrono::nanoseconds(rng() % 2000);
    blocking_pool_config config;
    config.max_threads = 1 + rng() % 6;
    config.spawn_delay = std::chrono::microseconds(rng() % 200);
    auto pool = blocking_pool::create(std::move(config));
    std::latch start(submitters + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < submitters; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::size_t i = t; i < per_round; i += submitters) pool->submit(jobs[i]);
      });
    }
    start.arrive_and_wait();
    spin_for(std::chrono::microseconds(rng() % 3000));
    EXPECT_EQ(pool->shutdown(std::nullopt), 0U);
    for (auto& thread : threads) thread.join();
    // Every submit after shutdown cancelled its job at once.
    ASSERT_EQ(finished.load(), per_round) << "round " << round;
    std::size_t bad = 0;
    for (auto& job : jobs) {
      const int outcomes = job.completes.load() + job.cancels.load();
      if (outcomes != 1 || job.runs.load() != job.completes.load()) ++bad;
    }
    ASSERT_EQ(bad, 0U) << "round " << round;
    ASSERT_EQ(pool->metrics().threads, 0U) << "round " << round;
  }
}

}  // namespace
