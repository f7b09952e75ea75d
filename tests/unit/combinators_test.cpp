// SPDX-License-Identifier: MIT
// when_all, when_any, abort_on_drop, cancellation_token and task_tracker,
// sentence by sentence of DESIGN §9 (run_blocking: run_blocking_test.cpp).
#include <weft/combinators.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/sync.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <variant>

namespace {

using namespace std::chrono_literals;
using weft::task;
using weft::test::lifetime_probe;
using weft::test::manual_event;
using weft::test::multi;
using weft::test::single;

task<int> value_after(std::chrono::nanoseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

task<int> ready(int v) { co_return v; }

/// Holds a probe in its frame and waits forever (until cancelled).
task<int> forever(std::shared_ptr<std::atomic<int>> live) {
  lifetime_probe probe(*live);
  co_await weft::sleep(1h);
  co_return -1;
}

task<int> throws_after(std::chrono::nanoseconds d) {
  co_await weft::sleep(d);
  throw std::runtime_error("boom");
}

// -- when_all -------------------------------------------------------------------

TEST(WhenAll, GivesEveryResultInArgumentOrder) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto [a, b, c] = co_await weft::when_all(value_after(2ms, 1), ready(2), weft::sleep(1ms));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    static_assert(std::is_same_v<decltype(c), std::monostate>);
    auto empty = co_await weft::when_all();
    static_assert(std::is_same_v<decltype(empty), std::tuple<>>);
  };
  rt.block_on(body());
}

TEST(WhenAll, RunsItsOperationsConcurrently) {
  // The first operation can only finish once the second has run: run one
  // after the other, they would never finish.
  for (bool current : {false, true}) {
    auto rt = current ? single() : multi();
    auto body = []() -> task<int> {
      auto [tx, rx] = weft::oneshot::channel<int>();
      auto receive = [](weft::oneshot::receiver<int> r) -> task<int> { co_return co_await std::move(r); };
      auto send = [](weft::oneshot::sender<int> s) -> task<void> {
        co_await weft::sleep(1ms);
        s.send(7);
      };
      auto [got, sent] = co_await weft::when_all(receive(std::move(rx)), send(std::move(tx)));
      (void)sent;
      co_return got;
    };
    EXPECT_EQ(rt.block_on(body()), 7);
  }
}

TEST(WhenAll, FirstExceptionCancelsTheOthersThenIsRethrown) {
  auto rt = multi();
  auto live = std::make_shared<std::atomic<int>>(0);
  auto body = [](std::shared_ptr<std::atomic<int>> l) -> task<void> {
    try {
      co_await weft::when_all(forever(l), throws_after(1ms), forever(l));
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "boom");
      EXPECT_EQ(l->load(), 0) << "the other operations were not released before the rethrow";
    }
  };
  rt.block_on(body(live));
}

// -- when_any -------------------------------------------------------------------

TEST(WhenAny, FirstToFinishWinsAndLosersAreReleasedBeforeItReturns) {
  for (bool current : {false, true}) {
    auto rt = current ? single() : multi();
    auto live = std::make_shared<std::atomic<int>>(0);
    auto body = [](std::shared_ptr<std::atomic<int>> l) -> task<void> {
      auto r = co_await weft::when_any(forever(l), value_after(1ms, 5), forever(l));
      EXPECT_EQ(r.index(), 1u);
      EXPECT_EQ(std::get<1>(r), 5);
      EXPECT_EQ(l->load(), 0);
    };
    rt.block_on(body(live));
  }
}

TEST(WhenAny, OnATieTheEarlierArgumentWins) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto r = co_await weft::when_any(ready(1), ready(2));
    EXPECT_EQ(r.index(), 0u);
    auto s = co_await weft::when_any(weft::sleep(1h), ready(3), ready(4));
    EXPECT_EQ(s.index(), 1u);
    EXPECT_EQ(std::get<1>(s), 3);
  };
  rt.block_on(body());
}

TEST(WhenAny, ALoserThatWasReadyTooConsumesNothing) {
  // Both are ready at the first step; the sleep is the earlier argument and
  // wins, so the recv is released unstepped and the message stays queued.
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::mpsc::channel<int>(4);
    co_await tx.send(1);
    auto r = co_await weft::when_any(weft::sleep(0ns), rx.recv());
    EXPECT_EQ(r.index(), 0u);
    auto left = rx.try_recv();
    EXPECT_TRUE(left.has_value());
    if (left) {
      EXPECT_EQ(*left, 1);
    }
  };
  rt.block_on(body());
}

TEST(WhenAny, VoidOperationGivesMonostate) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto r = co_await weft::when_any(weft::sleep(1ms), weft::sleep(1h));
    static_assert(std::is_same_v<decltype(r), std::variant<std::monostate, std::monostate>>);
    EXPECT_EQ(r.index(), 0u);
  };
  rt.block_on(body());
}

TEST(WhenAny, TheWinnersExceptionIsRethrown) {
  auto rt = multi();
  auto live = std::make_shared<std::atomic<int>>(0);
  auto body = [](std::shared_ptr<std::atomic<int>> l) -> task<void> {
    EXPECT_THROW(co_await weft::when_any(forever(l), throws_after(1ms)), std::runtime_error);
    EXPECT_EQ(l->load(), 0);
  };
  rt.block_on(body(live));
}

TEST(WhenAny, AcceptsAnythingCoAwaitAccepts) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::notify n;
    auto [tx, rx] = weft::mpsc::channel<int>(4);
    co_await tx.send(9);
    auto r = co_await weft::when_any(n.notified(), rx.recv(), weft::sleep(1h));
    EXPECT_EQ(r.index(), 1u);
    if (r.index() == 1) {
      EXPECT_EQ(std::get<1>(r), std::optional<int>(9));
    }

    auto h = weft::spawn(ready(11));
    auto s = co_await weft::when_any(weft::sleep(1h), std::move(h));
    EXPECT_EQ(std::get<1>(s), 11);
    auto h2 = weft::spawn(ready(12));
    auto t = co_await weft::when_any(h2.join(), weft::sleep(1h));
    EXPECT_EQ(*std::get<0>(t), 12);
    n.notify_one();
    auto u = co_await weft::when_any(weft::sleep(1h), n.notified());
    EXPECT_EQ(u.index(), 1u);
  };
  rt.block_on(body());
}

TEST(WhenAny, ALosingJoinHandleIsDetachedAndALosingAbortOnDropAborts) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto finished = std::make_shared<std::atomic<bool>>(false);
    auto gate = std::make_shared<manual_event>();
    auto worker = [](std::shared_ptr<manual_event> g, std::shared_ptr<std::atomic<bool>> done) -> task<void> {
      co_await g->wait();
      done->store(true);
    };
    auto detached = weft::spawn(worker(gate, finished));
    auto r = co_await weft::when_any(std::move(detached), weft::sleep(1ms));
    EXPECT_EQ(r.index(), 1u);
    gate->fire();
    EXPECT_TRUE(weft::test::eventually([&] { return finished->load(); }));

    auto live = std::make_shared<std::atomic<int>>(0);
    auto aborted = weft::spawn(forever(live));
    co_await weft::yield_now();
    auto s = co_await weft::when_any(std::move(aborted).abort_on_drop(), weft::sleep(1ms));
    EXPECT_EQ(s.index(), 1u);
    // Aborted: cancelled at its next suspension point, so its frame goes.
    EXPECT_TRUE(weft::test::eventually([&] { return live->load() == 0; }));
  };
  rt.block_on(body());
}

TEST(WhenAny, AbortingTheAwaitingTaskReleasesItsOperations) {
  auto rt = multi();
  auto live = std::make_shared<std::atomic<int>>(0);
  auto waiter = [](std::shared_ptr<std::atomic<int>> l) -> task<void> {
    co_await weft::when_all(forever(l), weft::when_any(forever(l), forever(l)));
  };
  auto h = rt.get_handle().spawn(waiter(live));
  ASSERT_TRUE(weft::test::eventually([&] { return live->load() == 3; }));
  h.abort();
  auto r = h.wait();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_cancelled());
  EXPECT_EQ(live->load(), 0);
}

TEST(WhenAny, AYieldingOperationLetsTheOthersRun) {
  // One worker: the spinning operation yields at each step; the timer in
  // the other operation must still fire.
  auto rt = weft::runtime::builder::multi_thread().worker_threads(1).build();
  auto body = []() -> task<std::size_t> {
    auto spin = []() -> task<void> {
      for (;;) co_await weft::yield_now();
    };
    auto r = co_await weft::when_any(spin(), weft::sleep(2ms));
    co_return r.index();
  };
  EXPECT_EQ(rt.block_on(body()), 1u);
}

TEST(WhenAny, RecvVersusSleepNeverLosesAMessage) {
  // A sender on another task sends n messages at its own pace; the receiver
  // races each recv against a very short sleep. Every message must arrive
  // exactly once (the stress version does 100,000).
  constexpr int n = 2000;
  auto rt = multi(2);
  auto body = []() -> task<std::pair<long, int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(16);
    auto producer = [](weft::mpsc::sender<int> s) -> task<void> {
      for (int i = 0; i < n; ++i) {
        co_await s.send(i);
        if (i % 7 == 0) co_await weft::yield_now();
      }
    };
    auto p = weft::spawn(producer(std::move(tx)));
    long sum = 0;
    int received = 0, timeouts = 0;
    for (;;) {
      auto r = co_await weft::when_any(rx.recv(), weft::sleep(std::chrono::microseconds(received % 3)));
      if (r.index() == 1) {
        ++timeouts;
        continue;
      }
      auto msg = std::get<0>(std::move(r));
      if (!msg) break;
      EXPECT_EQ(*msg, received) << "out of order or lost";
      sum += *msg;
      ++received;
    }
    co_await p;
    (void)timeouts;
    co_return std::pair{sum, received};
  };
  const auto [sum, received] = rt.block_on(body());
  EXPECT_EQ(received, n);
  EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
}

// -- abort_on_drop ----------------------------------------------------------------

TEST(AbortOnDrop, AwaitsAsTheHandleOnceOnly) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto guard = weft::spawn(ready(4)).abort_on_drop();
    EXPECT_EQ(co_await guard, 4);
    EXPECT_THROW(co_await guard, std::logic_error);
    auto joined = weft::spawn(ready(5)).abort_on_drop();
    auto r = co_await joined.join();
    EXPECT_EQ(*r, 5);
  };
  rt.block_on(body());
}

TEST(AbortOnDrop, DestroyingItAbortsTheTask) {
  auto rt = multi();
  auto live = std::make_shared<std::atomic<int>>(0);
  {
    auto guard = rt.get_handle().spawn(forever(live)).abort_on_drop();
    ASSERT_TRUE(weft::test::eventually([&] { return live->load() == 1; }));
  }
  EXPECT_TRUE(weft::test::eventually([&] { return live->load() == 0; }));
}

TEST(AbortOnDrop, TimeoutOnAStopAwareBlockingClosureRequestsItsStop) {
  auto rt = multi();
  auto entered = std::make_shared<std::atomic<bool>>(false);
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  auto body = [](std::shared_ptr<std::atomic<bool>> in, std::shared_ptr<std::atomic<bool>> stop_seen) -> task<void> {
    auto h = weft::spawn_blocking([in, stop_seen](std::stop_token st) {
      in->store(true);
      const auto limit = std::chrono::steady_clock::now() + weft::test::max_wait;
      while (!st.stop_requested() && std::chrono::steady_clock::now() < limit) std::this_thread::sleep_for(100us);
      stop_seen->store(st.stop_requested());
      return 1;
    });
    // Running first: a closure still queued when the timeout drops it never
    // runs at all (a loaded host under ASan took longer than 5 ms to start it).
    const bool ran = co_await weft::test::wait_until([flag = in.get()] { return flag->load(); });
    EXPECT_TRUE(ran);
    auto r = co_await weft::timeout(5ms, std::move(h).abort_on_drop());
    EXPECT_FALSE(r.has_value());
  };
  rt.block_on(body(entered, stopped));
  EXPECT_TRUE(weft::test::eventually([&] { return stopped->load(); }));
}

// -- cancellation_token -------------------------------------------------------------

TEST(CancellationToken, CancelWakesEveryWaiterAndTheStopToken) {
  auto rt = multi();
  weft::cancellation_token token;
  EXPECT_FALSE(token.is_cancelled());
  EXPECT_FALSE(token.stop_token().stop_requested());
  auto waiter = [](weft::cancellation_token t) -> task<int> {
    co_await t.cancelled();
    co_return 1;
  };
  auto a = rt.get_handle().spawn(waiter(token));
  auto b = rt.get_handle().spawn(waiter(token));
  std::this_thread::sleep_for(2ms);
  EXPECT_FALSE(a.is_finished());
  token.cancel();
  token.cancel();   // idempotent
  EXPECT_EQ(*a.wait(), 1);
  EXPECT_EQ(*b.wait(), 1);
  EXPECT_TRUE(token.is_cancelled());
  EXPECT_TRUE(token.stop_token().stop_requested());
  // Already cancelled: at once.
  EXPECT_EQ(*rt.get_handle().spawn(waiter(token)).wait(), 1);
}

TEST(CancellationToken, ChildrenFollowTheirParentNotTheReverse) {
  weft::cancellation_token root;   // no runtime needed
  auto child = root.child();
  auto grandchild = child.child();
  auto copy = child;
  copy.cancel();
  EXPECT_TRUE(child.is_cancelled());
  EXPECT_TRUE(grandchild.is_cancelled());
  EXPECT_FALSE(root.is_cancelled());
  auto other = root.child();
  root.cancel();
  EXPECT_TRUE(other.is_cancelled());
  EXPECT_TRUE(root.child().is_cancelled()) << "a child made after the cancel starts cancelled";
  EXPECT_TRUE(root.child().stop_token().stop_requested());
}

TEST(CancellationToken, AStopCallbackRunsOnCancel) {
  weft::cancellation_token token;
  std::atomic<int> calls{0};
  std::stop_callback cb(token.stop_token(), [&] { calls.fetch_add(1); });
  token.child().cancel();
  EXPECT_EQ(calls.load(), 0);
  token.cancel();
  EXPECT_EQ(calls.load(), 1);
}

TEST(CancellationToken, ACancelledWaitLeavesNoTrace) {
  auto rt = multi();
  weft::cancellation_token token;
  auto body = [](weft::cancellation_token t) -> task<void> {
    for (int i = 0; i < 100; ++i) {
      auto r = co_await weft::when_any(t.cancelled(), weft::sleep(0ns));
      EXPECT_EQ(r.index(), 1u);
    }
  };
  rt.block_on(body(token));
  token.cancel();   // no waiter left to wake into a freed frame
}

// -- task_tracker ---------------------------------------------------------------

TEST(TaskTracker, WaitCompletesOnceClosedAndEmpty) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::task_tracker tracker;
    weft::cancellation_token gate;
    auto worker = [](weft::cancellation_token g) -> task<void> { co_await g.cancelled(); };
    for (int i = 0; i < 3; ++i) (void)tracker.spawn(worker(gate));   // handles dropped
    EXPECT_EQ(tracker.size(), 3u);
    auto early = co_await weft::when_any(tracker.wait(), weft::sleep(2ms));
    EXPECT_EQ(early.index(), 1u) << "not closed: wait must not finish";
    tracker.close();
    auto still = co_await weft::when_any(tracker.wait(), weft::sleep(2ms));
    EXPECT_EQ(still.index(), 1u) << "closed but not empty";
    gate.cancel();
    co_await tracker.wait();
    EXPECT_EQ(tracker.size(), 0u);
    EXPECT_TRUE(tracker.is_closed());
  };
  rt.block_on(body());
}

TEST(TaskTracker, CancelledTasksStopCounting) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::task_tracker tracker;
    auto live = std::make_shared<std::atomic<int>>(0);
    auto h = tracker.spawn(forever(live));
    co_await weft::yield_now();
    EXPECT_EQ(tracker.size(), 1u);
    h.abort();
    tracker.close();
    co_await tracker.wait();
    EXPECT_EQ(tracker.size(), 0u);
  };
  rt.block_on(body());
}

}  // namespace
