// SPDX-License-Identifier: MIT
// The time driver alone: timers armed from many threads at once, the driver
// unparked when an earlier deadline arrives, cancellation racing the fire.
#include "time/time_driver.hpp"   // first: proves the header is self-contained

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using weft::detail::time_driver;
using weft::detail::timer_entry;

struct counting_entry : timer_entry {
  counting_entry() : timer_entry(&on_fire) {}
  static void on_fire(timer_entry& e) noexcept { static_cast<counting_entry&>(e).fired.fetch_add(1); }
  std::atomic<int> fired{0};
};

TEST(TimeDriver, ArmsFromManyThreadsAndFiresEachOnce) {
  std::atomic<int> unparks{0};
  time_driver driver([&] { unparks.fetch_add(1); });
  constexpr int per_thread = 2000;
  std::vector<counting_entry> entries(4 * per_thread);
  const std::uint64_t now = time_driver::now_ns();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) driver.insert(entries[t * per_thread + i], now + 1 + i);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(driver.num_pending(), entries.size());
  while (driver.num_pending() != 0) driver.process();
  for (auto& e : entries) EXPECT_EQ(e.fired.load(), 1);
}

TEST(TimeDriver, AnEarlierDeadlineUnparksTheSleepingDriver) {
  std::atomic<int> unparks{0};
  time_driver driver([&] { unparks.fetch_add(1); });
  counting_entry late, early, later;
  const std::uint64_t now = time_driver::now_ns();
  driver.insert(late, now + 10'000'000'000);
  ASSERT_TRUE(driver.begin_sleep().has_value());   // the driver now sleeps until `late`
  driver.insert(later, now + 20'000'000'000);
  EXPECT_EQ(unparks.load(), 0);                    // later than what it sleeps until
  driver.insert(early, now + 1'000'000'000);
  EXPECT_EQ(unparks.load(), 1);                    // earlier: wake it to re-arm
  EXPECT_TRUE(driver.remove(late));
  EXPECT_TRUE(driver.remove(early));
  EXPECT_TRUE(driver.remove(later));
  EXPECT_FALSE(driver.remove(later));              // already removed
}

TEST(TimeDriver, FireDueFiresOnlyWhatIsDueAndLeavesTheSleepAlone) {
  std::atomic<int> unparks{0};
  time_driver driver([&] { unparks.fetch_add(1); });
  counting_entry first, second;
  EXPECT_FALSE(driver.has_armed());
  const std::uint64_t now = time_driver::now_ns();
  driver.insert(first, now + 1'000);
  driver.insert(second, now + 10'000'000'000);
  EXPECT_TRUE(driver.has_armed());
  ASSERT_TRUE(driver.begin_sleep().has_value());   // the driver sleeps until `first`
  driver.fire_due(now);                            // nothing due yet
  EXPECT_EQ(first.fired.load(), 0);
  driver.fire_due(now + 2'000);
  EXPECT_EQ(first.fired.load(), 1);
  EXPECT_EQ(second.fired.load(), 0);
  EXPECT_EQ(driver.num_pending(), 1U);
  // The sleep it records still stands: an earlier deadline still unparks it.
  counting_entry early;
  driver.insert(early, now + 500);
  EXPECT_EQ(unparks.load(), 1);
  driver.fire_due(now + 1'000);
  EXPECT_EQ(early.fired.load(), 1);
  EXPECT_TRUE(driver.remove(second));
  driver.fire_due(now + 20'000'000'000);           // a removal may leave a stale bound: harmless
  EXPECT_FALSE(driver.has_armed());
}

TEST(TimeDriver, RemoveRacingFireDecidesExactlyOnce) {
  time_driver driver([] {});
  for (int round = 0; round < 2000; ++round) {
    counting_entry e;
    driver.insert(e, time_driver::now_ns());
    std::thread firer([&] { driver.process(); });
    const bool removed = driver.remove(e);
    firer.join();
    driver.process();
    EXPECT_EQ(removed ? 0 : 1, e.fired.load());   // removed before firing, or fired once
  }
}

}  // namespace
