// SPDX-License-Identifier: MIT
// timeout takes anything co_await accepts (DESIGN §5, issue 10 item 2): a
// join handle's join(), a plain awaiter, a type with a free operator
// co_await — each both in time and expired.
#include <weft/time.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_task_helpers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <expected>
#include <thread>

namespace timeout_test {

using namespace std::chrono_literals;
using weft::task;

/// A plain awaiter, ready at once.
struct ready_awaiter {
  int value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  int await_resume() const noexcept { return value; }
};

/// No await_* members: co_await finds the free operator below by lookup.
struct later {
  weft::test::manual_event* event;
};
auto operator co_await(later l) {
  struct awaiter {
    decltype(l.event->wait()) inner;
    bool await_ready() { return inner.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return inner.await_suspend(h); }
    int await_resume() {
      inner.await_resume();
      return 11;
    }
  };
  return awaiter{l.event->wait()};
}

static_assert(weft::awaitable<ready_awaiter>);
static_assert(weft::awaitable<later>);
static_assert(std::is_same_v<weft::await_result_t<later>, int>);

task<int> after(std::chrono::nanoseconds d, int v) {
  co_await weft::sleep(d);
  co_return v;
}

TEST(TimeoutAwaitable, JoinOfAHandleInTimeAndExpired) {
  auto rt = weft::test::multi(2);
  auto body = []() -> task<int> {
    int ok = 0;
    auto quick = weft::spawn(after(1ms, 5));
    auto r = co_await weft::timeout(10s, quick.join());
    if (r && *r && **r == 5) ++ok;
    auto slow = weft::spawn(after(1h, 6));
    auto e = co_await weft::timeout(2ms, slow.join());
    if (!e && e.error() == weft::elapsed{}) ++ok;
    EXPECT_FALSE(slow.is_finished());   // timing out the join does not abort the task
    slow.abort();
    co_return ok;
  };
  EXPECT_EQ(rt.block_on(body()), 2);
}

TEST(TimeoutAwaitable, HandleItself) {
  auto rt = weft::test::multi(2);
  auto body = []() -> task<bool> {
    auto r = co_await weft::timeout(10s, weft::spawn(after(1ms, 8)));
    co_return r && *r == 8;
  };
  EXPECT_TRUE(rt.block_on(body()));
}

TEST(TimeoutAwaitable, PlainAwaiter) {
  auto rt = weft::test::single();
  auto body = []() -> task<int> {
    auto r = co_await weft::timeout(0ns, ready_awaiter{9});   // ready: wins over the deadline
    co_return r ? *r : -1;
  };
  EXPECT_EQ(rt.block_on(body()), 9);
}

TEST(TimeoutAwaitable, PlainSuspendingAwaiterInTimeAndExpired) {
  auto rt = weft::test::multi(2);
  weft::test::manual_event fired;
  weft::test::manual_event never;
  auto body = [&]() -> task<int> {
    int ok = 0;
    std::thread firer([&] {
      std::this_thread::sleep_for(5ms);
      fired.fire();
    });
    auto r = co_await weft::timeout(10s, fired.wait());
    firer.join();
    if (r) ++ok;
    auto e = co_await weft::timeout(2ms, never.wait());
    if (!e) ++ok;
    co_return ok;
  };
  EXPECT_EQ(rt.block_on(body()), 2);
}

TEST(TimeoutAwaitable, FreeOperatorCoAwaitInTimeAndExpired) {
  auto rt = weft::test::multi(2);
  weft::test::manual_event fired;
  weft::test::manual_event never;
  fired.fire();
  auto body = [&]() -> task<int> {
    int ok = 0;
    auto r = co_await weft::timeout(10s, later{&fired});
    if (r && *r == 11) ++ok;
    auto e = co_await weft::timeout(2ms, later{&never});
    if (!e) ++ok;
    co_return ok;
  };
  EXPECT_EQ(rt.block_on(body()), 2);
}

}  // namespace timeout_test
