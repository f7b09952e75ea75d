// SPDX-License-Identifier: MIT
#include <weft/join_set.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::test::multi;

using namespace std::chrono_literals;
using weft::join_error;
using weft::join_set;
using weft::task;
using weft::test::lifetime_probe;
using weft::test::manual_event;

task<int> after_sleep(std::chrono::milliseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

task<int> after_event(manual_event* e, int v) {
  co_await e->wait();
  co_return v;
}

task<int> forever(manual_event* never, lifetime_probe) {
  co_await never->wait();
  co_return -1;
}

task<int> fails(int v) {
  co_await weft::yield_now();
  throw std::invalid_argument("boom " + std::to_string(v));
  co_return 0;
}

/// Joins everything left in `set` and gives the values, in join order.
task<std::vector<int>> drain(join_set<int>* set) {
  std::vector<int> order;
  for (;;) {
    auto next = co_await set->join_next();
    if (!next) co_return order;
    order.push_back(next->value());
  }
}

TEST(JoinSet, EmptySetJoinsNothing) {
  auto rt = multi();
  auto body = []() -> task<bool> {
    join_set<int> set;
    EXPECT_TRUE(set.is_empty());
    EXPECT_FALSE(set.try_join_next());
    auto next = co_await set.join_next();
    co_return !next.has_value();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(JoinSet, ResultsComeInCompletionOrderNotSpawnOrder) {
  auto rt = multi();
  auto body = []() -> task<std::vector<int>> {
    join_set<int> set;
    set.spawn(after_sleep(300ms, 0));
    set.spawn(after_sleep(150ms, 1));
    set.spawn(after_sleep(0ms, 2));
    EXPECT_EQ(set.size(), 3u);
    co_return co_await drain(&set);
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{2, 1, 0}));
}

TEST(JoinSet, CompletionOrderFollowsEventsExactly) {
  auto rt = multi();
  auto body = []() -> task<std::vector<int>> {
    std::vector<std::unique_ptr<manual_event>> events;
    join_set<int> set;
    for (int i = 0; i < 4; ++i) {
      events.push_back(std::make_unique<manual_event>());
      set.spawn(after_event(events.back().get(), i));
    }
    std::vector<int> order;
    for (int i : {2, 0, 3, 1}) {
      events[static_cast<std::size_t>(i)]->fire();
      auto next = co_await set.join_next();
      order.push_back(next->value());
      EXPECT_EQ(set.size(), 3u - (order.size() - 1));
    }
    EXPECT_TRUE(set.is_empty());
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{2, 0, 3, 1}));
}

TEST(JoinSet, AbortAllGivesCancelledErrorsAndDestroysFrames) {
  auto rt = multi();
  std::atomic<int> live{0};
  manual_event never;
  auto body = [&]() -> task<int> {
    join_set<int> set;
    std::set<weft::task_id> ids;
    for (int i = 0; i < 5; ++i) ids.insert(set.spawn(forever(&never, lifetime_probe(live))));
    co_await weft::yield_now();
    set.abort_all();
    int cancelled = 0;
    for (;;) {
      auto next = co_await set.join_next();
      if (!next) break;
      EXPECT_FALSE(next->has_value());
      const join_error& e = next->error();
      EXPECT_TRUE(e.is_cancelled());
      EXPECT_EQ(ids.erase(e.id()), 1u);   // the id spawn returned
      EXPECT_NE(std::string(e.what()).find("join_set_test.cpp"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("was cancelled"), std::string::npos) << e.what();
      ++cancelled;
    }
    // A cancelled result is reported after the member's frame is destroyed.
    EXPECT_EQ(live.load(), 0);
    co_return cancelled;
  };
  EXPECT_EQ(rt.block_on(body()), 5);
}

TEST(JoinSet, PanicSurfacesAsIsPanicWithThePayload) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    join_set<int> set;
    const weft::task_id id = set.spawn(fails(7));
    auto next = co_await set.join_next();
    EXPECT_TRUE(next.has_value() && !next->has_value());
    const join_error& e = next->error();
    EXPECT_TRUE(e.is_panic());
    EXPECT_EQ(e.id(), id);
    EXPECT_THROW(std::rethrow_exception(e.panic_payload()), std::invalid_argument);
    co_return e.what();
  };
  const std::string what = rt.block_on(body());
  EXPECT_NE(what.find("panicked: boom 7"), std::string::npos) << what;
}

TEST(JoinSet, DroppingTheSetAbortsItsTasks) {
  auto rt = multi();
  std::atomic<int> live{0};
  manual_event never;
  auto body = [&]() -> task<void> {
    join_set<int> set;
    for (int i = 0; i < 8; ++i) set.spawn(forever(&never, lifetime_probe(live)));
    co_await weft::yield_now();
    EXPECT_EQ(live.load(), 8);
  };   // the set goes with the frame
  rt.block_on(body());
  EXPECT_TRUE(weft::test::eventually([&] { return live.load() == 0; }));
}

TEST(JoinSet, DropDoesNotWaitForARunningBlockingMember) {
  auto rt = multi();
  auto started = std::make_shared<std::latch>(1);
  auto release = std::make_shared<std::latch>(1);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto body = [&]() -> task<void> {
    join_set<int> set;
    set.spawn_blocking([started, release, finished] {
      started->count_down();
      release->wait();
      finished->store(true);
      return 1;
    });
    started->wait();
    co_return;   // the set is destroyed while its closure is still running
  };
  rt.block_on(body());
  EXPECT_FALSE(finished->load());
  release->count_down();   // it now reports into the orphaned state
  EXPECT_TRUE(weft::test::eventually([&] { return finished->load(); }));
}

TEST(JoinSet, SpawnBlockingMembersJoinLikeTasks) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).max_blocking_threads(1).build();
  auto gate = std::make_shared<std::latch>(1);
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto body = [&]() -> task<void> {
    join_set<std::string> set;
    set.spawn_blocking([gate, started] {
      started->store(true);
      gate->wait();
      return "first";   // const char*, converted to the set's std::string
    });
    while (!started->load()) co_await weft::sleep(1ms);
    const weft::task_id queued = set.spawn_blocking([] { return std::string("never runs"); });
    const weft::task_id thrower = set.spawn_blocking([]() -> std::string { throw std::runtime_error("bad"); });
    EXPECT_EQ(set.size(), 3u);
    set.abort_all();   // the two queued ones never run; the running one finishes
    gate->count_down();
    std::vector<std::string> values;
    std::set<weft::task_id> cancelled;
    for (;;) {
      auto next = co_await set.join_next();
      if (!next) break;
      if (next->has_value()) values.push_back(**next);
      else if (next->error().is_cancelled()) cancelled.insert(next->error().id());
    }
    EXPECT_EQ(values, std::vector<std::string>{"first"});
    EXPECT_EQ(cancelled, (std::set<weft::task_id>{queued, thrower}));
  };
  rt.block_on(body());
}

TEST(JoinSet, SpawnBlockingPanicIsReported) {
  auto rt = multi();
  auto body = []() -> task<bool> {
    join_set<void> set;
    set.spawn_blocking([] { throw std::out_of_range("oops"); });
    auto next = co_await set.join_next();
    co_return next && !next->has_value() && next->error().is_panic();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(JoinSet, JoinNextCancelledByTimeoutLosesNoResult) {
  auto rt = multi();
  auto body = []() -> task<int> {
    manual_event event;
    join_set<int> set;
    set.spawn(after_event(&event, 42));
    auto first = co_await weft::timeout(20ms, set.join_next());
    EXPECT_FALSE(first.has_value());   // elapsed: nothing was ready
    event.fire();
    auto next = co_await set.join_next();
    co_return next->value();
  };
  EXPECT_EQ(rt.block_on(body()), 42);
}

task<void> join_one(join_set<int>* set) {
  [[maybe_unused]] auto dropped = co_await set->join_next();
  ADD_FAILURE() << "join_next should have stayed pending";
}

TEST(JoinSet, JoinNextCancelledByAbortLosesNoResult) {
  auto rt = multi();
  auto body = []() -> task<int> {
    manual_event event;
    join_set<int> set;
    set.spawn(after_event(&event, 7));
    auto joiner = weft::spawn(join_one(&set));
    co_await weft::sleep(10ms);   // let it park as the waiter
    joiner.abort();
    auto aborted = co_await joiner.join();
    EXPECT_TRUE(!aborted && aborted.error().is_cancelled());
    event.fire();
    auto next = co_await set.join_next();
    co_return next->value();
  };
  EXPECT_EQ(rt.block_on(body()), 7);
}

TEST(JoinSet, JoinNextRacingTimeoutsDeliversEveryResultOnce) {
  auto rt = multi();
  auto body = []() -> task<std::vector<int>> {
    constexpr int n = 200;
    join_set<int> set;
    for (int i = 0; i < n; ++i) set.spawn(after_sleep(std::chrono::milliseconds(i % 7), i));
    std::vector<int> got;
    for (int round = 0; !set.is_empty(); ++round) {
      // Deadlines from 0 to 80 us land both before and on top of completions.
      auto r = co_await weft::timeout(std::chrono::microseconds(round % 5 * 20), set.join_next());
      if (r && *r) got.push_back((*r)->value());
    }
    std::sort(got.begin(), got.end());
    co_return got;
  };
  std::vector<int> expected(200);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(rt.block_on(body()), expected);
}

TEST(JoinSet, TenThousandTasks) {
  auto rt = multi();
  auto body = []() -> task<long> {
    constexpr int n = 10'000;
    join_set<int> set;
    auto one = [](int v) -> task<int> {
      co_await weft::yield_now();
      co_return v;
    };
    for (int i = 0; i < n; ++i) set.spawn(one(i));
    EXPECT_EQ(set.size(), static_cast<std::size_t>(n));
    long sum = 0;
    std::vector<bool> seen(n);
    for (;;) {
      auto next = co_await set.join_next();
      if (!next) break;
      const int v = next->value();
      EXPECT_FALSE(seen[static_cast<std::size_t>(v)]);
      seen[static_cast<std::size_t>(v)] = true;
      sum += v;
    }
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body()), 10'000L * 9'999 / 2);
}

TEST(JoinSet, SlotsAreReusedAndTryJoinNextTakesFinishedResults) {
  auto rt = weft::runtime::builder::current_thread().build();
  auto body = []() -> task<int> {
    join_set<int> set;
    int total = 0;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 4; ++i) set.spawn(after_sleep(0ms, i));
      EXPECT_FALSE(set.try_join_next());   // nothing has run yet (one thread)
      // Sleep until all four have finished: on a loaded machine (CI runs the
      // busy-loop tests beside this one) the tasks may first run after our
      // 5 ms timer has fired, and so finish after we wake.
      int taken = 0;
      for (int naps = 0; taken < 4 && naps < 400; ++naps) {
        co_await weft::sleep(5ms);
        while (auto r = set.try_join_next()) {
          total += r->value();
          ++taken;
        }
      }
      EXPECT_EQ(taken, 4);
      EXPECT_TRUE(set.is_empty());
    }
    co_return total;
  };
  EXPECT_EQ(rt.block_on(body()), 3 * 6);
}

TEST(JoinSet, ShutdownAbortsAndWaits) {
  auto rt = multi();
  std::atomic<int> live{0};
  manual_event never;
  auto body = [&]() -> task<bool> {
    join_set<int> set;
    for (int i = 0; i < 3; ++i) set.spawn(forever(&never, lifetime_probe(live)));
    co_await set.shutdown();
    co_return set.is_empty() && live.load() == 0;
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(JoinSet, MovedSetKeepsItsMembers) {
  auto rt = multi();
  auto body = []() -> task<int> {
    join_set<int> a;
    a.spawn(after_sleep(0ms, 5));
    join_set<int> b = std::move(a);
    EXPECT_TRUE(a.is_empty());
    EXPECT_EQ(b.size(), 1u);
    auto next = co_await b.join_next();
    co_return next->value();
  };
  EXPECT_EQ(rt.block_on(body()), 5);
}

TEST(JoinSet, SpawnOutsideARuntimeThrowsAndLeavesTheSetUnchanged) {
  join_set<int> set;
  EXPECT_THROW(set.spawn(after_sleep(0ms, 1)), weft::no_runtime);
  EXPECT_TRUE(set.is_empty());
  EXPECT_THROW(set.spawn(task<int>{}), std::invalid_argument);
}

TEST(JoinSet, MembersOutliveARuntimeShutdownAsCancelled) {
  std::atomic<int> live{0};
  manual_event never;
  join_set<int> set;
  {
    auto rt = multi();
    auto body = [&]() -> task<void> {
      for (int i = 0; i < 3; ++i) set.spawn(forever(&never, lifetime_probe(live)));
      co_return;
    };
    rt.block_on(body());
  }   // shutdown cancels the members
  EXPECT_EQ(live.load(), 0);
  int cancelled = 0;
  while (auto r = set.try_join_next()) cancelled += !r->has_value() && r->error().is_cancelled();
  EXPECT_EQ(cancelled, 3);
}

}  // namespace
