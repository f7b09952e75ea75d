// SPDX-License-Identifier: MIT
// run_blocking, sentence by sentence of DESIGN §9: a blocking closure that
// borrows the awaiting frame.
#include <weft/combinators.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::runtime;
using weft::task;

/// Waits for stop (bounded by max_wait).
bool wait_for_stop(const std::stop_token& st) {
  const auto limit = std::chrono::steady_clock::now() + weft::test::max_wait;
  while (!st.stop_requested()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

/// What happened, in order, to one borrowing task.
struct journal {
  std::atomic<bool> started{false};
  std::atomic<bool> saw_stop{false};
  std::atomic<bool> returned{false};
  std::atomic<bool> continued{false};       // the task went past its co_await
  std::atomic<bool> frame_destroyed{false};
  std::atomic<bool> destroyed_after_return{false};
  std::atomic<bool> ran{false};
};

/// Sets frame_destroyed (and whether the closure had returned) when the
/// frame holding it is destroyed.
struct frame_witness {
  journal* j;
  ~frame_witness() {
    j->destroyed_after_return.store(j->returned.load());
    j->frame_destroyed.store(true);
  }
};

/// A task whose stop-aware closure borrows a local of its frame.
task<void> borrower(journal* j) {
  frame_witness witness{j};
  std::vector<int> local(100, 1);
  co_await weft::run_blocking([&](std::stop_token st) {
    j->started.store(true);
    j->saw_stop.store(wait_for_stop(st));
    local.assign(100, 2);   // the frame is still alive: asan would catch it
    std::this_thread::sleep_for(2ms);
    j->returned.store(true);
  });
  j->continued.store(true);
}

TEST(RunBlocking, TheClosureMayCaptureLocalsByReference) {
  for (bool current : {false, true}) {
    runtime rt = current ? weft::test::single() : weft::test::multi();
    auto body = []() -> task<int> {
      std::vector<int> numbers(1000);
      std::iota(numbers.begin(), numbers.end(), 1);
      long sum = 0;
      co_await weft::run_blocking([&] { sum = std::accumulate(numbers.begin(), numbers.end(), 0L); });
      int doubled = co_await weft::run_blocking([&] { return static_cast<int>(sum) * 2; });
      co_return doubled;
    };
    EXPECT_EQ(rt.block_on(body()), 1001000);
  }
}

TEST(RunBlocking, RethrowsWhatTheClosureThrows) {
  runtime rt = weft::test::multi();
  auto body = []() -> task<void> {
    EXPECT_THROW(co_await weft::run_blocking([] { throw std::runtime_error("x"); }), std::runtime_error);
  };
  rt.block_on(body());
}

TEST(RunBlocking, OnACurrentThreadRuntimeOtherTasksRunMeanwhile) {
  runtime rt = weft::test::single();
  auto body = []() -> task<int> {
    auto ticks = std::make_shared<std::atomic<int>>(0);
    auto ticker = [](std::shared_ptr<std::atomic<int>> t) -> task<void> {
      for (int i = 0; i < 5; ++i) {
        co_await weft::sleep(100us);
        t->fetch_add(1);
      }
    };
    auto h = weft::spawn(ticker(ticks));
    // The closure returns only once the ticker, on the block_on thread, has
    // ticked: it would never return if that thread were blocked.
    const bool ok =
        co_await weft::run_blocking([&] { return weft::test::eventually([&] { return ticks->load() == 5; }); });
    co_await h;
    co_return ok ? ticks->load() : -1;
  };
  EXPECT_EQ(rt.block_on(body()), 5);
}

TEST(RunBlocking, AbortWhileRunningRequestsStopAndDestroysTheFrameOnlyAfterTheClosureReturns) {
  runtime rt = weft::test::multi();
  journal j;
  auto h = rt.get_handle().spawn(borrower(&j));
  ASSERT_TRUE(weft::test::eventually([&] { return j.started.load(); }));
  h.abort();
  auto r = h.wait();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_cancelled());
  EXPECT_TRUE(j.saw_stop.load());
  EXPECT_TRUE(j.returned.load());
  EXPECT_FALSE(j.continued.load()) << "the task continued past its co_await";
  EXPECT_TRUE(j.frame_destroyed.load());
  EXPECT_TRUE(j.destroyed_after_return.load());
}

TEST(RunBlocking, AClosureNotStartedNeverRunsAndTheTaskIsCancelledAtOnce) {
  runtime rt = runtime::builder::multi_thread().worker_threads(2).max_blocking_threads(1).build();
  std::latch release(1);
  std::atomic<bool> busy{false};
  auto hog = rt.get_handle().spawn_blocking([&] {
    busy.store(true);
    release.wait();
  });
  ASSERT_TRUE(weft::test::eventually([&] { return busy.load(); }));
  journal j;
  auto never = [](journal* jr) -> task<void> {
    frame_witness witness{jr};
    co_await weft::run_blocking([jr] { jr->ran.store(true); });
    jr->continued.store(true);
  };
  auto h = rt.get_handle().spawn(never(&j));
  // Wait until its closure is queued behind the hog (a task aborted before its
  // first poll never makes a frame_witness at all).
  ASSERT_TRUE(weft::test::eventually([&] { return rt.metrics().blocking_queue_depth == 1; }));
  h.abort();
  auto r = h.wait();   // while the only blocking thread is still busy
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_cancelled());
  EXPECT_TRUE(j.frame_destroyed.load());
  // Out of the queue then, as an aborted spawn_blocking (DESIGN §4, §6).
  EXPECT_EQ(rt.metrics().blocking_queue_depth, 0u);
  release.count_down();
  (void)hog.wait();
  std::this_thread::sleep_for(2ms);
  EXPECT_FALSE(j.ran.load());
  EXPECT_FALSE(j.continued.load());
}

TEST(RunBlocking, RuntimeShutdownWaitsForTheClosureBeforeDestroyingTheFrame) {
  journal j;
  {
    runtime rt = weft::test::multi();
    auto h = rt.get_handle().spawn(borrower(&j));
    ASSERT_TRUE(weft::test::eventually([&] { return j.started.load(); }));
  }   // the destructor requests stop, waits for the closure
  EXPECT_TRUE(j.saw_stop.load());
  EXPECT_TRUE(j.frame_destroyed.load());
  EXPECT_TRUE(j.destroyed_after_return.load());
  EXPECT_FALSE(j.continued.load());
}

TEST(RunBlocking, AfterABoundedShutdownTheFrameIsDestroyedOnThePoolThread) {
  journal j;
  std::latch release(1);
  auto stubborn = [](journal* jr, std::latch* gate) -> task<void> {
    frame_witness witness{jr};
    int local = 0;
    co_await weft::run_blocking([&] {   // not stop-aware: ignores the shutdown
      jr->started.store(true);
      gate->wait();
      local = 1;
      jr->returned.store(true);
    });
    jr->continued.store(local == 1);
  };
  {
    runtime rt = weft::test::multi();
    auto h = rt.get_handle().spawn(stubborn(&j, &release));
    ASSERT_TRUE(weft::test::eventually([&] { return j.started.load(); }));
    EXPECT_EQ(rt.shutdown_timeout(5ms).blocking_still_running, 1u);
    EXPECT_FALSE(j.frame_destroyed.load()) << "destroyed while the closure borrows it";
  }
  release.count_down();
  EXPECT_TRUE(weft::test::eventually([&] { return j.frame_destroyed.load(); }));
  EXPECT_TRUE(j.destroyed_after_return.load());
  EXPECT_FALSE(j.continued.load());
}

/// Completes 1 ms after the borrower's closure has started (a closure that
/// has not started when its task is cancelled never runs: not the case here).
task<void> after_start(journal* j) {
  while (!j->started.load()) co_await weft::sleep(100us);
  co_await weft::sleep(1ms);
}

TEST(RunBlocking, ALosingRunBlockingIsStoppedAndWaitedForBeforeWhenAnyReturns) {
  runtime rt = weft::test::multi();
  auto body = []() -> task<void> {
    journal j;
    auto r = co_await weft::when_any(borrower(&j), after_start(&j));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_TRUE(j.saw_stop.load());
    EXPECT_TRUE(j.frame_destroyed.load());
    EXPECT_TRUE(j.destroyed_after_return.load());
    EXPECT_FALSE(j.continued.load());
  };
  rt.block_on(body());
}

TEST(RunBlocking, AbortingATaskWhoseWhenAllBorrowsDefersItsShutdown) {
  runtime rt = weft::test::multi();
  journal a, b;
  auto both = [](journal* x, journal* y) -> task<void> { co_await weft::when_all(borrower(x), borrower(y)); };
  auto h = rt.get_handle().spawn(both(&a, &b));
  ASSERT_TRUE(weft::test::eventually([&] { return a.started.load() && b.started.load(); }));
  h.abort();
  auto r = h.wait();
  ASSERT_FALSE(r);
  for (journal* j : {&a, &b}) {
    EXPECT_TRUE(j->saw_stop.load());
    EXPECT_TRUE(j->destroyed_after_return.load());
    EXPECT_FALSE(j->continued.load());
  }
}

TEST(RunBlocking, TimeoutOfARunBlockingWaitsForIt) {
  runtime rt = weft::test::multi();
  auto body = []() -> task<void> {
    journal j;
    // 200 ms: time enough for the closure to start on a loaded machine (it
    // then waits for its stop).
    auto r = co_await weft::timeout(200ms, borrower(&j));
    EXPECT_FALSE(r.has_value());
    EXPECT_TRUE(j.started.load());
    EXPECT_TRUE(j.saw_stop.load());
    EXPECT_TRUE(j.destroyed_after_return.load());
  };
  rt.block_on(body());
}

}  // namespace
