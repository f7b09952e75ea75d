// SPDX-License-Identifier: MIT
// Issue 10, item 9: moved-from handles throw instead of dereferencing null;
// a throwing capture destructor is a panic, not std::terminate; an aborted
// queued job leaves blocking_queue_depth at once.
#include <weft/runtime.hpp>   // first: proves the header is self-contained

#include <weft/pool.hpp>
#include <weft/spawn.hpp>
#include <weft/sync.hpp>

#include "weft_task_helpers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using weft::task;

TEST(MovedFrom, RuntimeThrowsLogicError) {
  weft::runtime rt = weft::test::single();
  weft::runtime other = std::move(rt);
  auto one = []() -> task<int> { co_return 1; };
  EXPECT_THROW(rt.block_on(one()), std::logic_error);   // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)rt.get_handle(), std::logic_error);
  EXPECT_THROW((void)rt.metrics(), std::logic_error);
  EXPECT_THROW((void)rt.shutdown_timeout(std::chrono::seconds(1)), std::logic_error);
  EXPECT_THROW(rt.shutdown_background(), std::logic_error);
  EXPECT_THROW((void)rt.dump(), std::logic_error);
  EXPECT_THROW((void)rt.pool("blocking"), std::logic_error);
  EXPECT_EQ(other.block_on(one()), 1);
}

TEST(MovedFrom, MpscHandlesThrowLogicError) {
  auto [tx, rx] = weft::mpsc::channel<int>(2);
  auto tx2 = std::move(tx);
  auto rx2 = std::move(rx);
  EXPECT_THROW((void)tx.send(1), std::logic_error);   // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)tx.try_send(1), std::logic_error);
  EXPECT_THROW((void)tx.capacity(), std::logic_error);
  EXPECT_THROW((void)tx.max_capacity(), std::logic_error);
  EXPECT_THROW((void)tx.is_closed(), std::logic_error);
  EXPECT_THROW((void)rx.recv(), std::logic_error);
  EXPECT_THROW((void)rx.try_recv(), std::logic_error);
  EXPECT_THROW(rx.close(), std::logic_error);
  auto [utx, urx] = weft::mpsc::unbounded_channel<int>();
  auto utx2 = std::move(utx);
  EXPECT_THROW((void)utx.send(1), std::logic_error);
  EXPECT_THROW((void)utx.is_closed(), std::logic_error);
  // The handles moved to still work.
  EXPECT_TRUE(tx2.try_send(5).has_value());
  EXPECT_EQ(rx2.try_recv().value(), 5);
  EXPECT_TRUE(utx2.send(6));
}

TEST(MovedFrom, BroadcastHandlesThrowLogicError) {
  auto [tx, rx] = weft::broadcast::channel<int>(2);
  auto tx2 = std::move(tx);
  auto rx2 = std::move(rx);
  EXPECT_THROW((void)tx.send(1), std::logic_error);   // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)tx.subscribe(), std::logic_error);
  EXPECT_THROW((void)tx.num_receivers(), std::logic_error);
  EXPECT_THROW((void)rx.recv(), std::logic_error);
  EXPECT_THROW((void)rx.try_recv(), std::logic_error);
  EXPECT_THROW((void)rx.resubscribe(), std::logic_error);
  EXPECT_THROW((void)rx.size(), std::logic_error);
  EXPECT_EQ(tx2.send(3), 1u);
  EXPECT_EQ(rx2.try_recv().value(), 3);
}

/// A capture whose destructor throws (once armed).
struct throws_on_destroy {
  bool armed = false;
  throws_on_destroy() = default;
  throws_on_destroy(throws_on_destroy&& other) noexcept : armed(std::exchange(other.armed, false)) {}
  ~throws_on_destroy() noexcept(false) {
    if (armed) throw std::runtime_error("capture destructor threw");
  }
};

// Used to call std::terminate (the destructor ran inside a noexcept function).
TEST(BlockingCaptures, ThrowingDestructorAfterRunIsAPanic) {
  auto rt = weft::test::multi(1);
  auto body = []() -> task<std::string> {
    throws_on_destroy capture;
    capture.armed = true;
    auto h = weft::spawn_blocking([c = std::move(capture)] { return 1; });
    auto r = co_await h.join();
    if (r) co_return "no panic";
    if (!r.error().is_panic()) co_return "not a panic";
    try {
      std::rethrow_exception(r.error().panic_payload());
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
  };
  EXPECT_EQ(rt.block_on(body()), "capture destructor threw");
}

TEST(BlockingCaptures, ThrowingDestructorOfAnAbortedJobIsAPanic) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(1).max_blocking_threads(1).build();
  std::latch release(1);
  auto body = [&]() -> task<bool> {
    auto busy = weft::spawn_blocking([&] { release.wait(); });
    throws_on_destroy capture;
    capture.armed = true;
    auto queued = weft::spawn_blocking([c = std::move(capture)] {});
    queued.abort();   // never started: its captures are destroyed here
    auto r = co_await queued.join();
    release.count_down();
    co_await busy;
    co_return !r && r.error().is_panic();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

// DESIGN §6: gauges are true at the snapshot. The aborted job used to be
// counted until a pool thread popped its husk.
TEST(BlockingGauges, AbortedQueuedJobLeavesTheQueueDepthAtOnce) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(1).max_blocking_threads(1).build();
  std::latch started(1);
  std::latch release(1);
  auto body = [&]() -> task<std::pair<std::size_t, std::size_t>> {
    auto busy = weft::spawn_blocking([&] {
      started.count_down();
      release.wait();
    });
    started.wait();
    std::atomic<int> runs{0};
    auto queued = weft::spawn_blocking([&] { ++runs; });
    const std::size_t before = weft::handle::current().metrics().blocking_queue_depth;
    queued.abort();
    const std::size_t after = weft::handle::current().metrics().blocking_queue_depth;
    auto r = co_await queued.join();
    EXPECT_TRUE(!r && r.error().is_cancelled());
    release.count_down();
    co_await busy;
    EXPECT_EQ(runs.load(), 0);
    co_return std::pair{before, after};
  };
  const auto [before, after] = rt.block_on(body());
  EXPECT_EQ(before, 1u);
  EXPECT_EQ(after, 0u);
}

}  // namespace
