// SPDX-License-Identifier: MIT
// Shutdown called from inside the runtime (issue 10, item 5): on one of its
// own async workers it throws std::logic_error; it used to hang both flavors
// (the calling task was never cancelled and a worker joined itself).
#include <weft/runtime.hpp>   // first: proves the header is self-contained

#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using weft::runtime;
using weft::task;

enum class how { timeout, background };

/// Calls shutdown on `rt` from a task of `rt`, then suspends as a server would.
task<std::string> shut_down_from_inside(runtime& rt, how which) {
  std::string what = "no error";
  try {
    if (which == how::timeout) (void)rt.shutdown_timeout(1s);
    else rt.shutdown_background();
  } catch (const std::logic_error& e) {
    what = e.what();
  }
  co_await weft::sleep(1ms);   // the runtime still runs: no hang here
  co_return what;
}

void expect_refused(runtime rt, how which) {
  const std::string what = rt.block_on(shut_down_from_inside(rt, which));
  EXPECT_NE(what.find("cannot shut a runtime down from one of its own tasks"), std::string::npos) << what;
  // Still usable, then shut down from outside as usual.
  auto one = []() -> task<int> { co_return 1; };
  EXPECT_EQ(rt.block_on(one()), 1);
  EXPECT_EQ(rt.shutdown_timeout(5s).blocking_still_running, 0u);
}

TEST(ShutdownInside, TimeoutFromATaskThrowsMultiThread) { expect_refused(weft::test::multi(2), how::timeout); }
TEST(ShutdownInside, TimeoutFromATaskThrowsCurrentThread) { expect_refused(weft::test::single(), how::timeout); }
TEST(ShutdownInside, BackgroundFromATaskThrowsMultiThread) { expect_refused(weft::test::multi(2), how::background); }
TEST(ShutdownInside, BackgroundFromATaskThrowsCurrentThread) { expect_refused(weft::test::single(), how::background); }

TEST(ShutdownInside, SpawnedTaskOnAnotherWorkerThrowsToo) {
  runtime rt = weft::test::multi(2);
  auto body = [&]() -> task<std::string> {
    auto h = weft::spawn(shut_down_from_inside(rt, how::background));
    co_return co_await h;
  };
  const std::string what = rt.block_on(body());
  EXPECT_NE(what.find("cannot shut a runtime down"), std::string::npos) << what;
}

// From a blocking closure of the same runtime shutdown is allowed: it
// cancels the async tasks (the awaiting one included) and does not wait for
// the closure that called it.
TEST(ShutdownInside, FromABlockingClosureShutsDown) {
  for (int flavor = 0; flavor < 2; ++flavor) {
    runtime rt = flavor == 0 ? weft::test::single() : weft::test::multi(2);
    auto body = [&]() -> task<void> {
      co_await weft::spawn_blocking([&] { rt.shutdown_background(); });
      co_await weft::sleep(1h);   // cancelled by the shutdown
    };
    EXPECT_THROW(rt.block_on(body()), weft::join_error) << flavor;
  }
}

}  // namespace
