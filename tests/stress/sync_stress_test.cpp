// SPDX-License-Identifier: MIT
// Stress for the sync primitives and channels: many producers on many
// workers, and cancellations (abort, timeout) racing hand-overs, with exact
// accounting afterwards — every message received exactly once and in each
// sender's order, no permit leaked, the lock free at the end.
//
// WEFT_STRESS_ITERS scales the work (messages per producer, default 100000);
// WEFT_STRESS_SEED fixes the seed, which every failure prints.
#include <weft/sync.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::join_handle;
using weft::task;

constexpr std::chrono::minutes whole_test_limit{10};

weft::runtime many_workers() { return weft::runtime::builder::multi_thread().worker_threads(4).build(); }

std::uint64_t per_producer() { return weft::test::stress_iterations(100'000); }

/// A message names its producer and its number in that producer's sequence.
std::uint64_t encode(std::uint64_t producer, std::uint64_t seq) { return producer << 40 | seq; }

/// Checks that every producer's messages arrive exactly once and in order.
class arrival_check {
public:
  arrival_check(std::size_t producers, std::uint64_t each) : next_(producers, 0), each_(each) {}
  void on_message(std::uint64_t msg) {
    const std::uint64_t producer = msg >> 40, seq = msg & ((std::uint64_t{1} << 40) - 1);
    if (producer >= next_.size() || seq != next_[producer]) {
      ++errors_;
      return;
    }
    ++next_[producer];
    ++count_;
  }
  bool is_complete() const {
    for (const auto n : next_)
      if (n != each_) return false;
    return errors_ == 0;
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t errors() const { return errors_; }

private:
  std::vector<std::uint64_t> next_;
  std::uint64_t each_;
  std::uint64_t count_ = 0;
  std::uint64_t errors_ = 0;
};

task<void> produce_bounded(weft::mpsc::sender<std::uint64_t> tx, std::uint64_t producer, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i)
    if (!co_await tx.send(encode(producer, i))) ADD_FAILURE() << "send failed";
}

TEST(SyncStress, BoundedMpscManyProducersOnManyWorkers) {
  auto rt = many_workers();
  const std::uint64_t n = per_producer();
  auto body = [](std::uint64_t each) -> task<bool> {
    auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(64);
    std::vector<join_handle<void>> producers;
    for (std::uint64_t p = 0; p < 8; ++p) producers.push_back(weft::spawn(produce_bounded(tx, p, each)));
    { auto last = std::move(tx); }
    arrival_check check(8, each);
    while (auto msg = co_await rx.recv()) check.on_message(*msg);
    for (auto& h : producers) co_await h;
    EXPECT_EQ(check.count(), 8 * each);
    EXPECT_EQ(check.errors(), 0u);
    co_return check.is_complete();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(n)));
  ASSERT_TRUE(result.has_value()) << "timed out";
  EXPECT_TRUE(*result);
}

TEST(SyncStress, UnboundedMpscFromTasksThreadsAndBlockingClosures) {
  auto rt = many_workers();
  const std::uint64_t n = per_producer() / 4;
  auto body = [](std::uint64_t each) -> task<bool> {
    auto [tx, rx] = weft::mpsc::unbounded_channel<std::uint64_t>();
    auto send_all = [](weft::mpsc::unbounded_sender<std::uint64_t> out, std::uint64_t p, std::uint64_t count) {
      for (std::uint64_t i = 0; i < count; ++i) out.send(encode(p, i));
    };
    std::vector<std::thread> threads;
    std::vector<join_handle<void>> jobs;
    for (std::uint64_t p = 0; p < 2; ++p) threads.emplace_back(send_all, tx, p, each);
    for (std::uint64_t p = 2; p < 4; ++p) {
      auto job = [send_all, out = tx, p, each]() mutable { send_all(std::move(out), p, each); };
      jobs.push_back(weft::spawn_blocking(std::move(job)));
    }
    for (std::uint64_t p = 4; p < 8; ++p) {
      auto producer = [](weft::mpsc::unbounded_sender<std::uint64_t> out, std::uint64_t id,
                         std::uint64_t count) -> task<void> {
        for (std::uint64_t i = 0; i < count; ++i) {
          out.send(encode(id, i));
          if (i % 64 == 0) co_await weft::yield_now();
        }
      };
      jobs.push_back(weft::spawn(producer(tx, p, each)));
    }
    { auto last = std::move(tx); }
    arrival_check check(8, each);
    while (auto msg = co_await rx.recv()) check.on_message(*msg);
    for (auto& t : threads) t.join();
    for (auto& j : jobs) co_await j;
    EXPECT_EQ(check.count(), 8 * each);
    co_return check.is_complete();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(n)));
  ASSERT_TRUE(result.has_value()) << "timed out";
  EXPECT_TRUE(*result);
}

task<void> produce_slowly(weft::mpsc::sender<std::uint64_t> tx, std::uint64_t producer, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!co_await tx.send(encode(producer, i))) ADD_FAILURE() << "send failed";
    if (i % 16 == 0) co_await weft::yield_now();
  }
}

TEST(SyncStress, RecvRacingTimeoutsLosesNothing) {
  auto rt = many_workers();
  const std::uint64_t n = per_producer() / 4;
  const std::uint64_t seed = weft::test::stress_seed();
  auto body = [](std::uint64_t each, std::uint64_t rng_seed) -> task<bool> {
    auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(16);
    std::vector<join_handle<void>> producers;
    for (std::uint64_t p = 0; p < 4; ++p) producers.push_back(weft::spawn(produce_slowly(tx, p, each)));
    { auto last = std::move(tx); }
    std::mt19937_64 rng(rng_seed);
    arrival_check check(4, each);
    std::uint64_t expired = 0;
    for (;;) {
      const auto limit = std::chrono::microseconds(rng() % 20);
      auto r = co_await weft::timeout(limit, rx.recv());
      if (!r) {
        ++expired;
        continue;
      }
      if (!*r) break;
      check.on_message(**r);
    }
    for (auto& h : producers) co_await h;
    EXPECT_EQ(check.count(), 4 * each);
    EXPECT_EQ(check.errors(), 0u);
    std::printf("recv timeouts that expired: %llu\n", static_cast<unsigned long long>(expired));
    co_return check.is_complete();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(n, seed)));
  ASSERT_TRUE(result.has_value()) << "timed out; seed " << seed;
  EXPECT_TRUE(*result) << "seed " << seed;
}

/// Sends each message under a short timeout, retrying one that expired: a
/// send cancelled before it completed must not have been delivered.
task<std::uint64_t> produce_with_timeouts(weft::mpsc::sender<std::uint64_t> tx, std::uint64_t producer, std::uint64_t n,
                                          std::uint64_t rng_seed) {
  std::mt19937_64 rng(rng_seed);
  std::uint64_t expired = 0;
  for (std::uint64_t i = 0; i < n;) {
    auto r = co_await weft::timeout(std::chrono::microseconds(rng() % 20), tx.send(encode(producer, i)));
    if (!r) {
      ++expired;
      continue;
    }
    if (!*r) ADD_FAILURE() << "send failed";
    ++i;
  }
  co_return expired;
}

TEST(SyncStress, SendRacingTimeoutsDeliversExactlyOnce) {
  auto rt = many_workers();
  const std::uint64_t n = per_producer() / 4;
  const std::uint64_t seed = weft::test::stress_seed();
  auto body = [](std::uint64_t each, std::uint64_t rng_seed) -> task<bool> {
    auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(4);
    std::vector<join_handle<std::uint64_t>> producers;
    for (std::uint64_t p = 0; p < 4; ++p)
      producers.push_back(weft::spawn(produce_with_timeouts(tx, p, each, rng_seed + p)));
    { auto last = std::move(tx); }
    arrival_check check(4, each);
    std::uint64_t received = 0;
    while (auto msg = co_await rx.recv()) {
      check.on_message(*msg);
      if (++received % 8 == 0) co_await weft::yield_now();   // keep the channel full
    }
    std::uint64_t expired = 0;
    for (auto& h : producers) expired += co_await h;
    EXPECT_EQ(check.count(), 4 * each);
    EXPECT_EQ(check.errors(), 0u);
    std::printf("send timeouts that expired: %llu\n", static_cast<unsigned long long>(expired));
    co_return check.is_complete();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(n, seed)));
  ASSERT_TRUE(result.has_value()) << "timed out; seed " << seed;
  EXPECT_TRUE(*result) << "seed " << seed;
}

/// Locks, sometimes under a short timeout, and counts what it did under the lock.
task<std::uint64_t> contend(weft::mutex* m, std::uint64_t* counter, std::atomic<int>* inside, std::uint64_t rounds,
                            std::uint64_t rng_seed) {
  std::mt19937_64 rng(rng_seed);
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    std::optional<weft::mutex::guard> guard;
    if (rng() % 2 == 0) {
      guard.emplace(co_await m->lock());
    } else {
      auto r = co_await weft::timeout(std::chrono::microseconds(rng() % 30), m->lock());
      if (!r) continue;
      guard.emplace(std::move(*r));
    }
    if (inside->fetch_add(1) != 0) ADD_FAILURE() << "two holders at once";
    const std::uint64_t seen = *counter;
    if (rng() % 4 == 0) co_await weft::yield_now();
    *counter = seen + 1;
    inside->fetch_sub(1);
    ++done;
  }
  co_return done;
}

task<void> lock_forever(weft::mutex* m) {
  auto guard = co_await m->lock();
  for (;;) co_await weft::yield_now();   // aborted from outside
}

TEST(SyncStress, MutexWithTimeoutsAndAbortsStaysConsistent) {
  auto rt = many_workers();
  const std::uint64_t rounds = per_producer() / 8;
  const std::uint64_t seed = weft::test::stress_seed();
  auto body = [](std::uint64_t n, std::uint64_t rng_seed) -> task<bool> {
    weft::mutex m;
    std::uint64_t counter = 0;
    std::atomic<int> inside{0};
    std::vector<join_handle<std::uint64_t>> workers;
    for (std::uint64_t w = 0; w < 8; ++w)
      workers.push_back(weft::spawn(contend(&m, &counter, &inside, n, rng_seed + w)));
    for (int k = 0; k < 200; ++k) {   // lockers aborted while queued, granted, or holding
      auto h = weft::spawn(lock_forever(&m));
      for (int y = 0; y < k % 5; ++y) co_await weft::yield_now();
      h.abort();
      (void)co_await h.join();
    }
    std::uint64_t done = 0;
    for (auto& h : workers) done += co_await h;
    EXPECT_EQ(counter, done);
    co_return m.try_lock().has_value();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(rounds, seed)));
  ASSERT_TRUE(result.has_value()) << "timed out; seed " << seed;
  EXPECT_TRUE(*result) << "the mutex stayed locked; seed " << seed;
}

task<void> take_permits(weft::semaphore* s, std::atomic<std::int64_t>* in_use, std::uint64_t rounds,
                        std::uint64_t rng_seed) {
  std::mt19937_64 rng(rng_seed);
  for (std::uint64_t i = 0; i < rounds; ++i) {
    const std::size_t want = 1 + rng() % 3;
    auto r = co_await weft::timeout(std::chrono::microseconds(rng() % 40), s->acquire(want));
    if (!r) continue;
    const auto now = in_use->fetch_add(static_cast<std::int64_t>(want)) + static_cast<std::int64_t>(want);
    if (now > 5) ADD_FAILURE() << now << " permits in use out of 5";
    if (rng() % 2 == 0) co_await weft::yield_now();
    in_use->fetch_sub(static_cast<std::int64_t>(want));
  }
}

TEST(SyncStress, SemaphoreWithCancellationsLeaksNoPermit) {
  auto rt = many_workers();
  const std::uint64_t rounds = per_producer() / 8;
  const std::uint64_t seed = weft::test::stress_seed();
  auto body = [](std::uint64_t n, std::uint64_t rng_seed) -> task<std::size_t> {
    weft::semaphore s(5);
    std::atomic<std::int64_t> in_use{0};
    std::vector<join_handle<void>> hs;
    for (std::uint64_t w = 0; w < 8; ++w) hs.push_back(weft::spawn(take_permits(&s, &in_use, n, rng_seed + w)));
    for (auto& h : hs) co_await h;
    co_return s.available_permits();
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(rounds, seed)));
  ASSERT_TRUE(result.has_value()) << "timed out; seed " << seed;
  EXPECT_EQ(*result, 5u) << "seed " << seed;
}

task<std::uint64_t> count_broadcast(weft::broadcast::receiver<std::uint64_t> rx) {
  std::uint64_t seen = 0;
  for (;;) {
    auto v = co_await rx.recv();
    if (v) ++seen;
    else if (v.error().is_lagged()) seen += v.error().num_skipped();
    else co_return seen;
  }
}

TEST(SyncStress, BroadcastReceiversAccountForEveryValue) {
  auto rt = many_workers();
  const std::uint64_t n = per_producer() / 2;
  auto body = [](std::uint64_t each) -> task<bool> {
    auto [tx, rx] = weft::broadcast::channel<std::uint64_t>(32);
    std::vector<join_handle<std::uint64_t>> receivers;
    for (int r = 0; r < 4; ++r) receivers.push_back(weft::spawn(count_broadcast(tx.subscribe())));
    { auto unused = std::move(rx); }
    auto producer = [](weft::broadcast::sender<std::uint64_t> out, std::uint64_t count) -> task<void> {
      for (std::uint64_t i = 0; i < count; ++i) {
        out.send(i);
        if (i % 8 == 0) co_await weft::yield_now();
      }
    };
    std::vector<join_handle<void>> producers;
    for (int p = 0; p < 4; ++p) producers.push_back(weft::spawn(producer(tx, each)));
    { auto last = std::move(tx); }
    for (auto& h : producers) co_await h;
    bool ok = true;
    for (auto& h : receivers) {
      const std::uint64_t seen = co_await h;   // received + reported as missed
      EXPECT_EQ(seen, 4 * each);
      ok = ok && seen == 4 * each;
    }
    co_return ok;
  };
  auto result = rt.block_on(weft::timeout(whole_test_limit, body(n)));
  ASSERT_TRUE(result.has_value()) << "timed out";
  EXPECT_TRUE(*result);
}

}  // namespace
