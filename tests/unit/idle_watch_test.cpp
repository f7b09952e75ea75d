// SPDX-License-Identifier: MIT
// Which CPUs never idle (util/cpu_load.hpp): how a lone spinner tells that
// another program holds the CPUs it does not spin on (util/spin_pause.hpp).
#include "util/cpu_load.hpp"

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

#include <sched.h>

namespace {

using namespace std::chrono_literals;
using weft::detail::idle_ticks;
using weft::detail::idle_watch;

std::int64_t ns(std::chrono::nanoseconds d) { return d.count(); }

std::int64_t now_ns() { return ns(std::chrono::steady_clock::now().time_since_epoch()); }

cpu_set_t cpus(std::initializer_list<int> list) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int cpu : list) CPU_SET(cpu, &set);
  return set;
}

TEST(IdleWatch, ParsesEachCpusIdleAndIowaitTicks) {
  const std::optional<idle_ticks> parsed = weft::detail::parse_idle_ticks(
      "cpu  20 1 10 300 8 0 0 0 0 0\n"
      "cpu0 10 1 5 100 3 0 0 0 0 0\n"
      "cpu1 10 0 5 200 5 0 0 0 0 0\n"
      "intr 1234 0 0\n");
  ASSERT_TRUE(parsed.has_value());
  const idle_ticks& ticks = parsed.value();
  EXPECT_EQ(ticks[0], 103u);
  EXPECT_EQ(ticks[1], 205u);
  EXPECT_EQ(ticks[2], 0u);
  EXPECT_FALSE(weft::detail::parse_idle_ticks("cpu  1 1 1 1 1\ncpu0 1 x\n").has_value());
}

TEST(IdleWatch, NeverIdleOnlyWhenTheTicksOfEveryCpuAskedForStayedTheSame) {
  idle_watch watch;
  idle_ticks ticks{};
  ticks[0] = 100;
  ticks[1] = 200;
  std::int64_t t = 0;
  EXPECT_FALSE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t)) << "a first look has nothing to compare";
  t += ns(idle_watch::min_gap);
  EXPECT_TRUE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t));
  ticks[1] += 1;   // CPU 1 idled for a tick
  t += ns(idle_watch::min_gap);
  EXPECT_TRUE(watch.never_idle_since_last_look(ticks, cpus({0}), t)) << "CPU 1 was not asked about";
  ticks[1] += 1;
  t += ns(idle_watch::min_gap);
  EXPECT_FALSE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t));
  t += ns(idle_watch::min_gap) / 2;
  EXPECT_FALSE(watch.may_look(t));
  EXPECT_FALSE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t)) << "too soon: a tick is 10 ms";
  t += ns(idle_watch::max_gap) + 1;
  EXPECT_TRUE(watch.may_look(t));
  EXPECT_FALSE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t)) << "stale";
  t += ns(idle_watch::min_gap);
  EXPECT_TRUE(watch.never_idle_since_last_look(ticks, cpus({0, 1}), t)) << "the stale look was the baseline";
}

// A CPU with another program's busy loop on it never idles; read from
// /proc/stat over two looks min_gap apart.
TEST(IdleWatch, SeesThatCpusWithABusyLoopNeverIdle) {
  cpu_set_t usable;
  ASSERT_EQ(sched_getaffinity(0, sizeof usable, &usable), 0);
  const weft::test::busy_loops_on_every_cpu busy;
  ASSERT_GT(busy.count(), 0u) << "fork failed";
  idle_watch watch;
  std::this_thread::sleep_for(20ms);   // the loops are running
  const std::optional<idle_ticks> first = weft::detail::read_idle_ticks();
  ASSERT_TRUE(first.has_value()) << "/proc/stat unreadable";
  EXPECT_FALSE(watch.never_idle_since_last_look(first.value(), usable, now_ns()));
  std::this_thread::sleep_for(idle_watch::min_gap + 20ms);
  const std::optional<idle_ticks> second = weft::detail::read_idle_ticks();
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(watch.never_idle_since_last_look(second.value(), usable, now_ns()));
}

}  // namespace
