// SPDX-License-Identifier: MIT
// Test that header file is self-contained.
#include "time/wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <vector>

// The wheel is driven by fake time throughout: every `now` is a number the test picks.
namespace weft::detail {
namespace {

constexpr std::uint64_t max_ns = std::numeric_limits<std::uint64_t>::max();

struct test_timer : timer_entry {
  test_timer() noexcept : timer_entry(&on_fire) {}
  static void on_fire(timer_entry& e) noexcept { ++static_cast<test_timer&>(e).fired; }
  int fired = 0;
};

// Polls at `now`, fires what expired, and returns it in the order poll() gave it.
std::vector<test_timer*> poll_and_fire(timer_wheel& wheel, std::uint64_t now) {
  timer_list expired;
  const std::size_t count = wheel.poll(now, expired);
  std::vector<test_timer*> out;
  while (timer_entry* e = expired.pop_front()) {
    EXPECT_FALSE(e->is_pending());
    EXPECT_LE(e->deadline(), wheel.elapsed());
    e->fire();
    out.push_back(static_cast<test_timer*>(e));
  }
  EXPECT_EQ(count, out.size());
  return out;
}

// A delay whose bit length is uniform in [0, max_bits], so that every level is used.
std::uint64_t log_uniform(std::mt19937_64& rng, unsigned max_bits) {
  const auto bits = static_cast<unsigned>(rng() % (max_bits + 1));
  return bits == 0 ? 0 : rng() >> (64 - bits);
}

using reference_map = std::multimap<std::uint64_t, test_timer*>;

// Checks one poll against the reference: the same entries, in deadline order.
void expect_matches_reference(const std::vector<test_timer*>& fired, reference_map& reference, std::uint64_t now) {
  const auto end = reference.upper_bound(now);
  std::vector<test_timer*> expected;
  for (auto it = reference.begin(); it != end; ++it) {
    expected.push_back(it->second);
  }
  reference.erase(reference.begin(), end);
  EXPECT_TRUE(
      std::is_sorted(fired.begin(), fired.end(), [](auto* a, auto* b) { return a->deadline() < b->deadline(); }));
  auto got = fired;
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
}

TEST(TimerWheel, FiresInDeadlineOrder) {
  std::mt19937_64 rng(20240601);
  constexpr std::size_t num_timers = 20'000;
  auto timers = std::make_unique<test_timer[]>(num_timers);
  timer_wheel wheel(1'000'000'007);
  reference_map reference;
  std::vector<reference_map::iterator> where(num_timers);
  std::size_t inserted = 0;
  std::uint64_t now = wheel.elapsed();
  while (inserted < num_timers || !reference.empty()) {
    // Interleave inserts, cancels and polls so entries sit at every level and cascade.
    for (int i = 0; i < 200 && inserted < num_timers; ++i, ++inserted) {
      const std::uint64_t deadline = now + log_uniform(rng, 40);
      wheel.insert(timers[inserted], deadline);
      where[inserted] = reference.emplace(deadline, &timers[inserted]);
    }
    for (int i = 0; i < 20 && inserted > 0; ++i) {
      const std::size_t victim = rng() % inserted;
      if (timers[victim].is_pending()) {
        wheel.remove(timers[victim]);
        reference.erase(where[victim]);
      }
    }
    if (const auto next = wheel.next_expiration(); next && !reference.empty()) {
      EXPECT_LE(*next, reference.begin()->first);
    }
    now += log_uniform(rng, 36);
    expect_matches_reference(poll_and_fire(wheel, now), reference, now);
    ASSERT_EQ(wheel.size(), reference.size());
  }
  for (std::size_t i = 0; i < num_timers; ++i) {
    EXPECT_LE(timers[i].fired, 1);
  }
}

TEST(TimerWheel, EqualDeadlinesFireTogether) {
  constexpr std::uint64_t deadline = 123'456'789;
  std::vector<test_timer> timers(1000);
  timer_wheel wheel(0);
  // Inserted at different clock readings, the same deadline sits at different levels.
  for (std::size_t i = 0; i < timers.size(); ++i) {
    wheel.insert(timers[i], deadline);
    EXPECT_TRUE(poll_and_fire(wheel, i * (deadline / timers.size())).empty());
  }
  EXPECT_TRUE(poll_and_fire(wheel, deadline - 1).empty());
  EXPECT_EQ(wheel.next_expiration(), deadline);
  EXPECT_EQ(poll_and_fire(wheel, deadline).size(), timers.size());
  EXPECT_TRUE(std::all_of(timers.begin(), timers.end(), [](auto& t) { return t.fired == 1; }));
}

TEST(TimerWheel, ZeroAndPastDeadlinesExpireAtNextPoll) {
  test_timer zero, past, now_deadline, future;
  timer_wheel wheel(1'000'000);
  wheel.insert(past, 999'999);
  wheel.insert(zero, 0);
  wheel.insert(now_deadline, 1'000'000);
  wheel.insert(future, 1'000'001);
  EXPECT_EQ(wheel.next_expiration(), 0U);
  // A clock reading from before the wheel's still fires what is already due.
  const auto fired = poll_and_fire(wheel, 5);
  EXPECT_EQ(fired, (std::vector<test_timer*>{&past, &zero, &now_deadline}));
  EXPECT_EQ(wheel.elapsed(), 1'000'000U);
  EXPECT_EQ(wheel.next_expiration(), 1'000'001U);
  EXPECT_EQ(poll_and_fire(wheel, 1'000'001), std::vector<test_timer*>{&future});
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
}

TEST(TimerWheel, RemoveBeforeFire) {
  std::vector<test_timer> timers(100);
  timer_wheel wheel(0);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    wheel.insert(timers[i], (i % 3 == 0) ? 0 : 1000 * i);  // some in the due list
  }
  for (std::size_t i = 0; i < timers.size(); i += 2) {
    wheel.remove(timers[i]);
    wheel.remove(timers[i]);  // a second remove is a no-op
    EXPECT_FALSE(timers[i].is_pending());
  }
  EXPECT_EQ(wheel.size(), 50U);
  EXPECT_EQ(poll_and_fire(wheel, max_ns).size(), 50U);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    EXPECT_EQ(timers[i].fired, i % 2 == 0 ? 0 : 1) << i;
  }
  wheel.remove(timers[1]);  // already fired: no-op
  EXPECT_EQ(wheel.size(), 0U);
}

TEST(TimerWheel, RemoveOfCascadedEntry) {
  constexpr std::uint64_t deadline = 5'000'000'000;  // level 5 from a clock at 0
  std::vector<test_timer> timers(5);
  timer_wheel wheel(0);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    wheel.insert(timers[i], deadline + i);
  }
  // Each poll moves the entries down some levels without firing them; then one goes.
  const std::uint64_t stops[] = {deadline - (1U << 30), deadline - (1U << 20), deadline - (1U << 10), deadline - 1};
  for (std::size_t i = 0; i < std::size(stops); ++i) {
    EXPECT_TRUE(poll_and_fire(wheel, stops[i]).empty());
    wheel.remove(timers[i]);
    EXPECT_EQ(wheel.size(), timers.size() - i - 1);
    EXPECT_LE(*wheel.next_expiration(), deadline + i + 1);
  }
  EXPECT_EQ(poll_and_fire(wheel, max_ns), std::vector<test_timer*>{&timers[4]});
}

TEST(TimerWheel, InsertRearmsPendingEntry) {
  test_timer timer;
  timer_wheel wheel(0);
  wheel.insert(timer, 1'000'000);
  wheel.insert(timer, 500);  // earlier
  wheel.insert(timer, 2'000);
  EXPECT_EQ(wheel.size(), 1U);
  EXPECT_EQ(wheel.next_expiration(), 2'000U);
  EXPECT_TRUE(poll_and_fire(wheel, 1'999).empty());
  EXPECT_EQ(poll_and_fire(wheel, 2'000).size(), 1U);
  wheel.insert(timer, 3'000);  // reused after firing, as an interval does
  EXPECT_EQ(poll_and_fire(wheel, max_ns).size(), 1U);
  EXPECT_EQ(timer.fired, 2);
}

TEST(TimerWheel, MillionPendingTimersFireExactlyOnce) {
  constexpr std::size_t num_timers = 1'000'000;
  auto timers = std::make_unique<test_timer[]>(num_timers);
  std::mt19937_64 rng(7);
  timer_wheel wheel(0);
  for (std::size_t i = 0; i < num_timers; ++i) {
    wheel.insert(timers[i], 1 + rng() % 10'000'000'000);  // up to 10 s
  }
  EXPECT_EQ(wheel.size(), num_timers);
  std::uint64_t now = 0;
  std::uint64_t last = 0;
  std::size_t total = 0;
  while (wheel.size() > 0) {
    now += 1 + rng() % 20'000'000;  // irregular steps up to 20 ms
    timer_list expired;
    total += wheel.poll(now, expired);
    while (timer_entry* e = expired.pop_front()) {
      ASSERT_GE(e->deadline(), last);
      ASSERT_LE(e->deadline(), now);
      last = e->deadline();
      e->fire();
    }
  }
  EXPECT_EQ(total, num_timers);
  for (std::size_t i = 0; i < num_timers; ++i) {
    ASSERT_EQ(timers[i].fired, 1) << i;
  }
  // Bounded memory: the wheel is a fixed-size object; entries carry their own links.
  EXPECT_LT(sizeof(timer_wheel), 32U * 1024U);
  EXPECT_LE(sizeof(timer_entry), 48U);
}

TEST(TimerWheel, FarFutureDeadlines) {
  test_timer at_max, below_max, half, half_plus, quarter;
  timer_wheel wheel(123);
  wheel.insert(at_max, max_ns);
  wheel.insert(below_max, max_ns - 1);
  wheel.insert(half, std::uint64_t{1} << 63);
  wheel.insert(half_plus, (std::uint64_t{1} << 63) + (std::uint64_t{1} << 60));
  wheel.insert(quarter, (std::uint64_t{1} << 62) + 5);
  EXPECT_EQ(wheel.next_expiration(), (std::uint64_t{1} << 62) + 5);
  EXPECT_TRUE(poll_and_fire(wheel, std::uint64_t{1} << 62).empty());
  EXPECT_EQ(poll_and_fire(wheel, std::uint64_t{1} << 63), (std::vector<test_timer*>{&quarter, &half}));
  EXPECT_EQ(poll_and_fire(wheel, max_ns - 1), (std::vector<test_timer*>{&half_plus, &below_max}));
  EXPECT_EQ(wheel.next_expiration(), max_ns);
  EXPECT_EQ(poll_and_fire(wheel, max_ns), std::vector<test_timer*>{&at_max});
  EXPECT_EQ(wheel.size(), 0U);
}

// A driver that sleeps until next_expiration() and polls then: with no removals the
// bound is exact, so every wake fires something and nothing fires late.
TEST(TimerWheel, NextExpirationIsExactWithoutRemovals) {
  std::mt19937_64 rng(99);
  std::vector<test_timer> timers(5000);
  timer_wheel wheel(777);
  reference_map reference;
  for (auto& t : timers) {
    const std::uint64_t deadline = wheel.elapsed() + 1 + log_uniform(rng, 34);
    wheel.insert(t, deadline);
    reference.emplace(deadline, &t);
  }
  while (!reference.empty()) {
    const std::uint64_t earliest = reference.begin()->first;
    ASSERT_EQ(wheel.next_expiration(), earliest);
    // A wake before the deadline (irregular, as a spurious one) fires nothing...
    const std::uint64_t early = wheel.elapsed() + rng() % (earliest - wheel.elapsed());
    ASSERT_TRUE(poll_and_fire(wheel, early).empty());
    ASSERT_EQ(wheel.next_expiration(), earliest);
    // ...and one at the deadline fires exactly the entries due.
    const auto fired = poll_and_fire(wheel, earliest);
    ASSERT_FALSE(fired.empty());
    expect_matches_reference(fired, reference, earliest);
  }
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
}

// With removals a slot's bound may go stale: next_expiration() is then early, never
// late, exact once the earliest entry is in level 0, and each wake makes progress.
TEST(TimerWheel, NextExpirationNeverLateAfterIrregularSteps) {
  std::mt19937_64 rng(5);
  std::vector<test_timer> timers(5000);
  timer_wheel wheel(0);
  reference_map reference;
  std::vector<reference_map::iterator> where(timers.size());
  for (std::size_t i = 0; i < timers.size(); ++i) {
    const std::uint64_t deadline = 1 + log_uniform(rng, 30);
    wheel.insert(timers[i], deadline);
    where[i] = reference.emplace(deadline, &timers[i]);
  }
  std::uint64_t previous = 0;
  while (!reference.empty()) {
    const std::size_t victim = rng() % timers.size();
    if (timers[victim].is_pending()) {
      wheel.remove(timers[victim]);
      reference.erase(where[victim]);
      continue;
    }
    const std::uint64_t next = wheel.next_expiration().value();
    const std::uint64_t earliest = reference.begin()->first;
    ASSERT_LE(next, earliest);
    ASSERT_GT(next, previous);
    if ((earliest ^ wheel.elapsed()) < wheel_level::num_slots) {
      ASSERT_EQ(next, earliest);  // level 0: 1 ns slots, never early
    }
    expect_matches_reference(poll_and_fire(wheel, next), reference, next);
    previous = next;
  }
}

TEST(TimerWheel, PollHandsOverWithoutFiring) {
  test_timer timer;
  timer_wheel wheel(0);
  EXPECT_EQ(wheel.next_expiration(), std::nullopt);
  wheel.insert(timer, 10);
  timer_list expired;
  EXPECT_EQ(wheel.poll(10, expired), 1U);
  EXPECT_FALSE(timer.is_pending());
  EXPECT_EQ(timer.fired, 0);  // the driver fires after releasing its mutex
  EXPECT_EQ(expired.pop_front(), &timer);
  EXPECT_TRUE(expired.empty());
  timer.fire();
  EXPECT_EQ(timer.fired, 1);
  EXPECT_EQ(wheel.poll(1'000, expired), 0U);
  EXPECT_EQ(wheel.elapsed(), 1'000U);
}

}  // namespace
}  // namespace weft::detail
