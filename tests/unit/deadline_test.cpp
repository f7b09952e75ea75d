// SPDX-License-Identifier: MIT
// Durations near their limits (issue 10, item 4): `now() + d` used to
// overflow (UBSan: signed overflow) and land in the past, so every "wait
// forever" below finished at once. detail::saturating_add clamps instead.
#include <weft/time.hpp>   // first: proves the header is self-contained

#include <weft/detail/deadline.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_task_helpers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using weft::task;
using weft::detail::steady_time;

TEST(Deadline, SaturatingAddClampsAtBothEnds) {
  const steady_time now = std::chrono::steady_clock::now();
  EXPECT_EQ(weft::detail::saturating_add(now, nanoseconds::max()), steady_time::max());
  EXPECT_EQ(weft::detail::saturating_add(steady_time::max(), 1ns), steady_time::max());
  EXPECT_EQ(weft::detail::saturating_add(steady_time::min(), -1ns), steady_time::min());
  EXPECT_EQ(weft::detail::saturating_add(steady_time::max() - 1h, nanoseconds::max()), steady_time::max());
  EXPECT_EQ(weft::detail::saturating_add(now, 5ns), now + 5ns);
  EXPECT_EQ(weft::detail::saturating_add(now, -5ns), now - 5ns);
  EXPECT_GT(weft::detail::deadline_after(nanoseconds::max()), std::chrono::steady_clock::now() + 1000h);
}

TEST(Deadline, TimeoutOfMaxNeverElapses) {
  auto rt = weft::test::multi(2);
  auto op = []() -> task<int> {
    co_await weft::sleep(20ms);
    co_return 7;
  };
  auto body = [&]() -> task<bool> {
    auto r = co_await weft::timeout(nanoseconds::max(), op());
    co_return r.has_value() && *r == 7;
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Deadline, SleepOfMaxDoesNotComplete) {
  auto rt = weft::test::multi(2);
  auto body = []() -> task<bool> {
    auto r = co_await weft::timeout(50ms, weft::sleep(nanoseconds::max()));
    co_return !r.has_value();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Deadline, SleepOfMinCompletesAtOnce) {
  auto rt = weft::test::single();
  auto body = []() -> task<bool> {
    auto r = co_await weft::timeout(10s, weft::sleep(nanoseconds::min()));
    co_return r.has_value();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Deadline, IntervalOfMaxTicksOnceThenNever) {
  auto rt = weft::test::multi(2);
  auto body = []() -> task<bool> {
    weft::interval every(nanoseconds::max());
    co_await every.tick();   // the first tick is at once
    auto second = co_await weft::timeout(50ms, every.tick());
    co_return !second.has_value();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Deadline, IntervalOfMaxWithDelayAndSkipNeverTicksAgain) {
  auto rt = weft::test::multi(2);
  for (auto behavior : {weft::missed_tick_behavior::delay, weft::missed_tick_behavior::skip}) {
    auto body = [behavior]() -> task<bool> {
      weft::interval every(nanoseconds::max());
      every.set_missed_tick_behavior(behavior);
      co_await every.tick();
      auto second = co_await weft::timeout(30ms, every.tick());
      co_return !second.has_value();
    };
    EXPECT_TRUE(rt.block_on(body()));
  }
}

TEST(Deadline, ShutdownTimeoutOfMaxWaitsForRunningClosures) {
  auto rt = weft::test::multi(1);
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto body = [&]() -> task<void> {
    auto h = weft::spawn_blocking([&] {
      started = true;
      std::this_thread::sleep_for(100ms);
      finished = true;
    });
    co_return;
  };
  rt.block_on(body());
  ASSERT_TRUE(weft::test::eventually([&] { return started.load(); }));
  const weft::shutdown_report report = rt.shutdown_timeout(nanoseconds::max());
  EXPECT_EQ(report.blocking_still_running, 0u);
  EXPECT_TRUE(finished.load());
}

TEST(Deadline, KeepAliveOfMaxKeepsIdleThreads) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(1).thread_keep_alive(nanoseconds::max()).build();
  auto body = []() -> task<void> { co_await weft::spawn_blocking([] {}); };
  rt.block_on(body());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rt.metrics().blocking_threads, 1u);
}

}  // namespace
