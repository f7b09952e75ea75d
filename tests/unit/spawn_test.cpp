// SPDX-License-Identifier: MIT
#include <weft/spawn.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::test::multi;

using weft::join_error;
using weft::join_handle;
using weft::task;
using weft::test::manual_event;

task<int> value_of(int v) { co_return v; }
task<int> fails() {
  throw std::invalid_argument("boom");
  co_return 0;
}

TEST(Spawn, AwaitGivesTheValue) {
  auto rt = multi();
  auto body = []() -> task<int> {
    auto h = weft::spawn(value_of(7));
    co_return co_await h;
  };
  EXPECT_EQ(rt.block_on(body()), 7);
}

TEST(Spawn, AwaitRethrowsTheTasksException) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto h = weft::spawn(fails());
    co_await h;
  };
  EXPECT_THROW(rt.block_on(body()), std::invalid_argument);
}

TEST(Spawn, JoinGivesPanicAsValue) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto h = weft::spawn(fails());
    auto result = co_await h.join();
    if (result) co_return "no error";
    const join_error& e = result.error();
    EXPECT_TRUE(e.is_panic());
    EXPECT_FALSE(e.is_cancelled());
    EXPECT_THROW(std::rethrow_exception(e.panic_payload()), std::invalid_argument);
    EXPECT_EQ(e.id(), h.id());
    co_return e.what();
  };
  const std::string what = rt.block_on(body());
  EXPECT_NE(what.find("panicked: boom"), std::string::npos) << what;
  EXPECT_NE(what.find("spawn_test.cpp:"), std::string::npos) << what;
  EXPECT_EQ(what.rfind("task ", 0), 0u) << what;
}

TEST(Spawn, AbortCancelsAtTheNextSuspensionAndRunsDestructors) {
  auto rt = multi();
  std::atomic<int> live{0};
  manual_event never;
  auto waiter = [](manual_event& e, weft::test::lifetime_probe) -> task<int> {
    co_await e.wait();
    co_return 1;
  };
  auto body = [&]() -> task<std::string> {
    auto h = weft::spawn(waiter(never, weft::test::lifetime_probe(live)));
    co_await weft::yield_now();
    h.abort();
    try {
      co_await h;
    } catch (const join_error& e) {
      EXPECT_TRUE(e.is_cancelled());
      EXPECT_FALSE(e.panic_payload());
      co_return e.what();
    }
    co_return "not cancelled";
  };
  const std::string what = rt.block_on(body());
  EXPECT_NE(what.find("was cancelled"), std::string::npos) << what;
  EXPECT_EQ(live.load(), 0);   // the frame and its locals are gone
}

TEST(Spawn, TaskAbortedBeforeItsFirstPollNeverRuns) {
  auto rt = weft::runtime::builder::current_thread().build();
  std::atomic<bool> ran{false};
  auto victim = [](std::atomic<bool>& flag) -> task<void> {
    flag = true;
    co_return;
  };
  auto body = [&]() -> task<bool> {
    auto h = weft::spawn(victim(ran));   // queued behind us on the only worker
    h.abort();
    auto result = co_await h.join();
    co_return !result && result.error().is_cancelled();
  };
  EXPECT_TRUE(rt.block_on(body()));
  EXPECT_FALSE(ran.load());
}

TEST(Spawn, DroppedHandleDetachesTheTask) {
  auto rt = multi();
  std::atomic<bool> done{false};
  auto worker = [](std::atomic<bool>& flag) -> task<void> {
    co_await weft::yield_now();
    flag = true;
  };
  auto body = [&]() -> task<void> {
    { auto h = weft::spawn(worker(done)); }
    co_return;
  };
  rt.block_on(body());
  EXPECT_TRUE(weft::test::eventually([&] { return done.load(); }));
}

TEST(Spawn, JoinHandleIsOnePointer) {
  // A flood of spawns keeps every handle; its await-once flag lives in the task.
  static_assert(sizeof(join_handle<int>) == sizeof(void*));
  auto rt = multi();
  auto body = []() -> task<int> {
    auto h = weft::spawn(value_of(3));
    join_handle<int> moved = std::move(h);
    const int v = co_await moved;
    try {
      co_await moved;
    } catch (const std::logic_error&) {
      co_return v;
    }
    co_return -1;
  };
  EXPECT_EQ(rt.block_on(body()), 3);
}

TEST(Spawn, SecondAwaitThrowsLogicError) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto h = weft::spawn(value_of(1));
    co_await h;
    co_await h;
  };
  EXPECT_THROW(rt.block_on(body()), std::logic_error);
}

TEST(Spawn, IsFinishedAndIdsAreUnique) {
  auto rt = multi();
  auto body = []() -> task<bool> {
    auto a = weft::spawn(value_of(1));
    auto b = weft::spawn(value_of(2));
    EXPECT_NE(a.id(), b.id());
    co_await a;
    EXPECT_TRUE(a.is_finished());
    co_await b;
    co_return b.is_finished();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Spawn, OutsideARuntimeThrowsNoRuntime) {
  try {
    auto h = weft::spawn(value_of(1));
    FAIL() << "spawn outside a runtime did not throw";
  } catch (const weft::no_runtime& e) {
    EXPECT_STREQ(e.what(), "must be called from the context of a weft runtime");
  }
  EXPECT_THROW(weft::handle::current(), std::logic_error);
  EXPECT_FALSE(weft::handle::try_current().has_value());
}

TEST(Spawn, HandleCurrentWorksInsideTasks) {
  auto rt = multi();
  auto body = []() -> task<std::size_t> { co_return weft::handle::current().metrics().workers; };
  EXPECT_EQ(rt.block_on(body()), 2u);
}

TEST(Spawn, YieldNowLetsOtherTasksRun) {
  auto rt = weft::runtime::builder::current_thread().build();
  auto body = []() -> task<std::vector<int>> {
    auto order = std::make_shared<std::vector<int>>();
    auto other = [](std::shared_ptr<std::vector<int>> log) -> task<void> {
      log->push_back(2);
      co_return;
    };
    auto h = weft::spawn(other(order));
    order->push_back(1);
    co_await weft::yield_now();
    order->push_back(3);
    co_await h;
    co_return *order;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 2, 3}));
}

TEST(Spawn, DuplicateAndStaleWakesAreHarmless) {
  auto rt = multi();
  manual_event first, second;
  std::atomic<int> steps{0};
  auto stepper = [](manual_event& a, manual_event& b, std::atomic<int>& n) -> task<void> {
    co_await a.wait();
    n = 1;
    co_await b.wait();
    n = 2;
  };
  auto body = [&]() -> task<void> {
    auto h = weft::spawn(stepper(first, second, steps));
    while (!first.peek_waker()) co_await weft::yield_now();
    weft::detail::waker stale = first.peek_waker();
    first.fire();
    stale.wake();   // duplicate of the first wake
    while (!second.peek_waker()) co_await weft::yield_now();
    stale.wake();   // stale: belongs to the first suspension
    stale.wake();
    EXPECT_EQ(steps.load(), 1);   // still waiting on `second`
    second.fire();
    co_await h;
  };
  rt.block_on(body());
  EXPECT_EQ(steps.load(), 2);
}

TEST(Spawn, WakeFromForeignThreadResumesOnAWorker) {
  auto rt = multi();
  manual_event event;
  auto body = [&]() -> task<bool> {
    std::thread firer([&] {
      weft::test::eventually([&] { return static_cast<bool>(event.peek_waker()); });
      event.fire();
    });
    co_await event.wait();
    const bool on_worker = std::this_thread::get_id() != firer.get_id();
    firer.join();
    co_return on_worker;
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(Spawn, AfterShutdownYieldsCancelled) {
  auto rt = multi();
  weft::handle h = rt.get_handle();
  rt.shutdown_background();
  auto jh = h.spawn(value_of(1));
  EXPECT_TRUE(jh.is_finished());
  auto result = jh.wait();
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().is_cancelled());
}

}  // namespace
